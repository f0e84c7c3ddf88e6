#!/bin/sh
# Blockstore put throughput beside dd on the same disk, side by side.
#
#   bench/bstore_bench.sh BUILD_DIR WORK_DIR [MIB [ROUNDS]]
#
# WORK_DIR must be on the disk under test.  A random source file of MIB
# (default 1024) is made once and kept in the page cache, so every writer
# reads the same bytes from memory and only the writes hit the disk.
set -eu
build=$1
work=$2
mib=${3:-1024}
rounds=${4:-3}
bench=$build/bench/bstore_bench
src=$work/src.bin

mkdir -p "$work"
if [ ! -f "$src" ]; then
	head -c $((mib * 1048576)) /dev/urandom >"$src"
fi
cat "$src" >/dev/null

i=0
while [ $i -lt "$rounds" ]; do
	rm -rf "$work/repo" "$work/dd.out"
	sync
	printf 'dd oflag=direct:   '
	dd if="$src" of="$work/dd.out" bs=1M oflag=direct 2>&1 | tail -n 1
	rm -f "$work/dd.out"
	sync
	printf 'dd conv=fdatasync: '
	dd if="$src" of="$work/dd.out" bs=1M conv=fdatasync 2>&1 | tail -n 1
	rm -f "$work/dd.out"
	sync
	"$bench" "$src" "$work/repo"
	rm -rf "$work/repo"
	sync
	"$bench" -H "$src" "$work/repo"
	rm -rf "$work/repo"
	i=$((i + 1))
done
