#!/bin/sh
# make-golden.sh ORACLE_DIR - rebuild tree-v1.car and tree-v0.car with the
# reference oracle (cid-of-tree.mjs: @ipld/car CarWriter, blocks in DFS
# pre-order).  The tree is generated here, deterministically.
set -eu
oracle=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
t=$tmp/tree
mkdir -p "$t/sub"
printf 'hello world\n' > "$t/a.txt"
# 20000 pseudo-random bytes (xorshift32, seed 1), twice: a shared subtree
python3 -c '
import sys
x = 1
out = bytearray()
for _ in range(20000):
    x ^= (x << 13) & 0xffffffff; x ^= x >> 17; x ^= (x << 5) & 0xffffffff
    out.append(x & 0xff)
sys.stdout.buffer.write(out)' > "$t/big.bin"
cp "$t/big.bin" "$t/dup.bin"
# 5000 zero bytes: the same chunk four times, then a short one
head -c 5000 /dev/zero > "$t/sub/zeros.bin"
: > "$t/sub/empty"
ln -s a.txt "$t/link"
dir=$(pwd)
node "$oracle/cid-of-tree.mjs" --chunk 1024 --links 4 --car "$dir/tree-v1.car" "$t"
node "$oracle/cid-of-tree.mjs" --profile unixfs-v0-2015 --chunk 1024 --links 4 \
	--car "$dir/tree-v0.car" "$t"
