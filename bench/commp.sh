#!/bin/sh
# CommP throughput beside its SHA-256 limit and the JS reference, on the
# same bytes.  A benchmark, not a test.
#
#   bench/commp.sh [BUILD_DIR [BYTES]]        (defaults: build, 1 GiB)
#
# Environment: TMPDIR (where the input file goes), KEEP=1 (keep it),
# THREADS (the multi-thread run; default: nproc), JS_BYTES (hash only the
# first JS_BYTES with the JS reference; default: all), NODE_MODULES (a
# node_modules holding @web3-storage/data-segment).
#
# 1. `openssl speed -evp sha256 -bytes 16384` gives the SHA-256 rate of one
#    core.  A CommP node is SHA-256 of 64 bytes: two compressions, 128
#    bytes of hashing, for 32 bytes of padded piece, so CommP cannot beat
#    rate / 4 per core ("limit" below).
# 2. bench/commp_bench (core/commp; built here with cc against BUILD_DIR's
#    libefscore.a when BUILD_DIR/bench/commp_bench does not exist) reads
#    the file as `estuaryfs commp` does, on 1 and THREADS threads, and
#    hashes it mapped in memory on one thread (hashing alone).
# 3. @web3-storage/data-segment 5.3.0 under node, streaming the same file,
#    when a node_modules with it is found (tests/interop/node_modules, then
#    the oracle's); otherwise that line says skipped.  Its piece CID must
#    equal ours.
#
# Wall-clock MB/s depend on what else runs on the machine; the cpu column
# (user + system seconds) gives MB per CPU-second, the better per-core
# figure on a shared machine.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
bytes=${2:-1073741824}
threads=${THREADS:-$(nproc)}
case $build in /*) ;; *) build=$top/$build ;; esac
tmp=$(mktemp -d "${TMPDIR:-/tmp}/commp-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
data=${TMPDIR:-/tmp}/commp-bench-$bytes.bin

bench=$build/bench/commp_bench
if [ ! -x "$bench" ]; then
	[ -f "$build/core/libefscore.a" ] || {
		echo "no $build/core/libefscore.a: build first (ninja -C $build)" >&2
		exit 1
	}
	bench=$tmp/commp_bench
	${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -I"$top" -I"$build" \
		-o "$bench" "$top/bench/commp_bench.c" \
		"$build/core/libefscore.a" -lcrypto -lb2 -lsqlite3 -lpthread
fi

if [ ! -f "$data" ] || [ "$(stat -c %s "$data")" != "$bytes" ]; then
	"$bench" -g "$bytes" "$data"
fi
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$tmp" "$data"' EXIT
cat "$data" >/dev/null # into the page cache

field() { # field NAME LINE
	printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mb_per_cpu() { awk -v b="$1" -v c="$2" 'BEGIN { printf "%.1f", b / c / 1e6 }'; }

echo "input: $bytes bytes of deterministic data (seed 1), page cache"
echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
	"$(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo

echo '$ openssl speed -seconds 3 -evp sha256 -bytes 16384'
speed=$(openssl speed -seconds 3 -evp sha256 -bytes 16384 2>/dev/null |
	awk '$1 == "sha256" { sub(/k$/, "", $2); print $2 * 1000 }')
sha_mbps=$(awk -v s="$speed" 'BEGIN { printf "%.1f", s / 1e6 }')
limit1=$(awk -v s="$speed" 'BEGIN { printf "%.1f", s / 4 / 1e6 }')
limitn=$(awk -v s="$speed" -v n="$threads" \
	'BEGIN { printf "%.1f", s / 4 * n / 1e6 }')
echo "sha256, 16 KiB blocks: $sha_mbps MB/s per core" \
	"-> CommP limit $limit1 MB/s per core, $limitn MB/s on $threads"
echo

run() { # run LABEL LIMIT ARGS...
	label=$1 lim=$2
	shift 2
	line=$("$bench" "$@" "$data")
	mbps=$(field mbps "$line")
	cpu=$(field cpu "$line")
	percpu=$(mb_per_cpu "$bytes" "$cpu")
	printf '%-28s %7s MB/s = %s x limit | %6s s cpu = %6s MB/cpu-s = %s x per-core limit\n' \
		"$label" "$mbps" "$(ratio "$mbps" "$lim")" "$cpu" "$percpu" \
		"$(ratio "$percpu" "$limit1")"
	last=$line
}
echo "\$ $bench [-j N] [-m] FILE"
run "core/commp, 1 thread, read" "$limit1" -j 1
ours_mbps=$mbps
ours_percpu=$percpu
ours_v2=$(field v2 "$last")
run "core/commp, $threads threads, read" "$limitn" -j "$threads"
multi_mbps=$mbps
[ "$(field v2 "$last")" = "$ours_v2" ] || {
	echo "MISMATCH: piece CID differs with $threads threads" >&2
	exit 1
}
run "core/commp, 1 thread, mmap" "$limit1" -j 1 -m
echo "piece CID v2: $ours_v2"
echo

modules=
for m in ${NODE_MODULES:-} "$top/tests/interop/node_modules" \
	"$top/../shared/oracle/node_modules"; do
	if [ -f "$m/@web3-storage/data-segment/src/multihash.js" ]; then
		modules=$(cd "$m" && pwd)
		break
	fi
done
if [ -z "$modules" ] || ! command -v node >/dev/null 2>&1; then
	echo "@web3-storage/data-segment: skipped (node or its node_modules not found)"
	exit 0
fi
js_bytes=${JS_BYTES:-$bytes}
cat >"$tmp/js-commp.mjs" <<'EOF'
// Stream a file through data-segment's CommP hasher; time it.
import fs from 'node:fs'
import { pathToFileURL } from 'node:url'
const [modules, file, limit] = process.argv.slice(2)
const pkg = `${modules}/@web3-storage/data-segment/src`
const Hasher = await import(pathToFileURL(`${pkg}/multihash.js`))
const Piece = await import(pathToFileURL(`${pkg}/piece.js`))
const hasher = Hasher.create()
const t0 = process.hrtime.bigint()
const src = fs.createReadStream(file, {
  highWaterMark: 8 << 20, end: Number(limit) - 1 })
let n = 0
for await (const chunk of src) {
  hasher.write(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
  n += chunk.byteLength
}
const piece = Piece.fromDigest(hasher.digest())
const s = Number(process.hrtime.bigint() - t0) / 1e9
const cpu = process.cpuUsage()
console.log(`bytes=${n} wall=${s.toFixed(3)} ` +
  `cpu=${((cpu.user + cpu.system) / 1e6).toFixed(3)} ` +
  `mbps=${(n / s / 1e6).toFixed(1)} v2=${piece.link.toString()}`)
EOF
echo "\$ node js-commp.mjs $modules FILE $js_bytes"
js=$(node "$tmp/js-commp.mjs" "$modules" "$data" "$js_bytes")
js_mbps=$(field mbps "$js")
js_percpu=$(mb_per_cpu "$js_bytes" "$(field cpu "$js")")
printf '%-28s %7s MB/s                | %6s s cpu = %6s MB/cpu-s\n' \
	"data-segment 5.3.0 (node)" "$js_mbps" "$(field cpu "$js")" "$js_percpu"
if [ "$js_bytes" = "$bytes" ]; then
	if [ "$(field v2 "$js")" = "$ours_v2" ]; then
		echo "piece CIDs agree"
	else
		echo "MISMATCH: data-segment says $(field v2 "$js")" >&2
		exit 1
	fi
fi
echo "core/commp / data-segment: wall $(ratio "$ours_mbps" "$js_mbps") x on 1 thread," \
	"$(ratio "$multi_mbps" "$js_mbps") x on $threads;" \
	"per cpu-second $(ratio "$ours_percpu" "$js_percpu") x"
