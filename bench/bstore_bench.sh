#!/bin/sh
# Blockstore put throughput beside dd on the same disk, side by side.
#
#   bench/bstore_bench.sh BUILD_DIR WORK_DIR [MIB [ROUNDS]]
#
# WORK_DIR must be on the disk under test.  A random source file of MIB
# (default 1024) is made once and kept in the page cache, so every writer
# reads the same bytes from memory and only the writes hit the disk.  The
# writers take turns, ROUNDS times (default 5), and the medians are
# printed at the end: a shared machine is noisy.
set -eu
build=$1
work=$2
mib=${3:-1024}
rounds=${4:-5}
bench=$build/bench/bstore_bench
src=$work/src.bin
log=$work/bench.log

mkdir -p "$work"
if [ ! -f "$src" ]; then
	head -c $((mib * 1048576)) /dev/urandom >"$src"
fi
cat "$src" >/dev/null
: >"$log"

dd_rate() {
	rm -f "$work/dd.out"
	sync
	dd if="$src" of="$work/dd.out" bs=1M "$@" 2>&1 | tail -n 1 |
		awk '{ print $(NF-1) * ($NF == "GB/s" ? 1000 : 1) }'
	rm -f "$work/dd.out"
}

bs_rate() {
	rm -rf "$work/repo"
	sync
	"$bench" "$@" "$src" "$work/repo" | awk '{ print $(NF-1) }'
	rm -rf "$work/repo"
}

i=0
while [ $i -lt "$rounds" ]; do
	echo "dd_direct $(dd_rate oflag=direct)" >>"$log"
	echo "dd_fdatasync $(dd_rate conv=fdatasync)" >>"$log"
	echo "bstore_put $(bs_rate)" >>"$log"
	echo "bstore_put_hash $(bs_rate -H)" >>"$log"
	i=$((i + 1))
done
cat "$log"
echo "medians (MB/s):"
for k in dd_direct dd_fdatasync bstore_put bstore_put_hash; do
	grep "^$k " "$log" | awk '{ print $2 }' | sort -n |
		awk -v k="$k" '{ v[NR] = $1 }
			END { printf "  %-16s %7.1f\n", k, v[int((NR + 1) / 2)] }'
done
