#!/bin/bash
# core.sh - the core benchmark of issue 2: each estuaryfs hot path beside
# the yardstick that bounds it, on the same input read from the page
# cache, in one run.  A benchmark, not a test: `meson test` never runs it.
#
#   bench/core.sh [BUILD_DIR]          (default: build; built if needed)
#
# Environment:
#   SIZE_MB=1024    the input for everything but the RSS check
#   BIG_MB=4096     the input of the peak-RSS check (0 skips it)
#   THREADS=nproc   the cores estuaryfs may use (its -j)
#   JS=1            run the JS references (0 skips them)
#   JS_COMMP_MB=64  bytes data-segment hashes (it runs at ~9 MB/s)
#   ROUNDS=3        timed runs of each command; the best one counts
#
# What is measured (goals from the issue):
#   1. `add --only-hash` (sha2-256) against `openssl speed -evp sha256
#      -bytes 16384` x cores used: >= 0.8; and against the JS
#      ipfs-unixfs-importer on the same file: >= 2x faster, same CID.
#   2. `add --only-hash --hash blake2b-256` against libb2's own rate on
#      the same cores (bench/b2speed): >= 0.8.
#   3. `add` into a fresh repository against `dd` writing the same bytes
#      with fdatasync to the same disk: >= 0.8.
#   4. `commp` against a quarter of the 16 KiB SHA-256 rate per core
#      (each 64-byte node costs two compressions) x cores: >= 0.8; and
#      against @web3-storage/data-segment.  bench/commp.sh has more detail.
#   5. peak RSS of `add` of a BIG_MB file into a repository: <= 64 MiB.
#
# Everything lives in a temporary directory under $TMPDIR (default /tmp),
# removed on exit; the disk under test is the one holding it.  On a
# shared machine the figures move with the load: the load average is
# printed with them.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
size_mb=${SIZE_MB:-1024}
big_mb=${BIG_MB:-4096}
threads=${THREADS:-$(nproc)}
rounds=${ROUNDS:-3}
js=${JS:-1}
js_commp_mb=${JS_COMMP_MB:-64}

for tool in openssl awk dd; do
	command -v $tool >/dev/null 2>&1 || {
		echo "core.sh: needs $tool" >&2
		exit 1
	}
done

if [ ! -f "$build/meson-private/coredata.dat" ]; then
	meson setup "$build" "$top" >/dev/null
fi
ninja -C "$build" cli/estuaryfs cli/b2speed >/dev/null
efs=$build/cli/estuaryfs
b2speed=$build/cli/b2speed

T=$(mktemp -d "${TMPDIR:-/tmp}/efs-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
input=$T/input.bin
bytes=$((size_mb * 1048576))

# gen FILE MIB: incompressible, deterministic bytes (AES-CTR keystream).
gen()
{
	openssl enc -aes-128-ctr -nosalt -pass pass:estuaryfs-bench \
		-in /dev/zero 2>/dev/null | head -c $(($2 * 1048576)) >"$1"
}

# timed CMD...: run CMD ROUNDS times, stdout to $T/out; best wall time
# in seconds goes to $best.
timed()
{
	local i t0 t1 t
	best=
	for i in $(seq 1 "$rounds"); do
		t0=$EPOCHREALTIME
		"$@" >"$T/out"
		t1=$EPOCHREALTIME
		t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
		if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then
			best=$t
		fi
	done
}

mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / s / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
rows=()
row() { rows+=("$(printf '%-40s %9s %-28s %9s %7s  %s' "$@")"); }

echo "estuaryfs core benchmark: $(date -u +%Y-%m-%dT%H:%MZ)"
echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
	"$(nproc) cores, estuaryfs uses $threads; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "input: $size_mb MiB of AES-CTR keystream in $T (page cache)"
gen "$input" "$size_mb"
cat "$input" >/dev/null

# ---- yardsticks ----
sha=$(openssl speed -seconds 3 -evp sha256 -bytes 16384 2>/dev/null |
	awk '$1 == "sha256" { sub(/k$/, "", $2); printf "%.0f", $2 * 1000 }')
sha_mbps=$(awk -v s="$sha" 'BEGIN { printf "%.1f", s / 1e6 }')
sha_n=$(awk -v s="$sha_mbps" -v n="$threads" 'BEGIN { printf "%.1f", s * n }')
commp_limit=$(awk -v s="$sha_mbps" -v n="$threads" 'BEGIN { printf "%.1f", s / 4 * n }')
b2=$("$b2speed" -t "$threads" -s 3 | sed -n 's/.*bytes_per_sec=//p')
b2_mbps=$(awk -v s="$b2" 'BEGIN { printf "%.1f", s / 1e6 }')
echo "openssl sha256 (16 KiB): $sha_mbps MB/s per core; libb2 blake2b-256:" \
	"$b2_mbps MB/s on $threads threads"
echo

# ---- 1. add --only-hash, sha2-256 ----
timed "$efs" add -n -q -j "$threads" "$input"
cid=$(cat "$T/out")
t_add=$best
add_mbps=$(mbps "$bytes" "$t_add")
row "add -n (sha2-256, $threads thr)" "$add_mbps" "openssl sha256 x $threads" \
	"$sha_n" "$(ratio "$add_mbps" "$sha_n")" ">= 0.8"
timed "$efs" add -n -q -j 1 "$input"
one_mbps=$(mbps "$bytes" "$best")
row "add -n (sha2-256, 1 thr)" "$one_mbps" "openssl sha256 x 1" \
	"$sha_mbps" "$(ratio "$one_mbps" "$sha_mbps")" "(info)"

# The JS importer, same file, same profile, blocks dropped.
interop=$top/tests/interop
if [ "$js" = 1 ] && command -v node >/dev/null 2>&1 &&
	[ ! -d "$interop/node_modules/ipfs-unixfs-importer" ]; then
	(cd "$interop" && npm ci --ignore-scripts --no-audit --no-fund \
		--loglevel=error >/dev/null 2>&1) || true
fi
if [ "$js" = 1 ] && command -v node >/dev/null 2>&1 &&
	[ -d "$interop/node_modules/ipfs-unixfs-importer" ]; then
	rounds_saved=$rounds
	rounds=1
	timed node "$interop/efs-ref.mjs" import --only-hash "$input"
	rounds=$rounds_saved
	js_cid=$(cat "$T/out")
	js_mbps=$(mbps "$bytes" "$best")
	same=$([ "$js_cid" = "$cid" ] && echo "same CID" || echo "CID DIFFERS: $js_cid")
	row "add -n vs ipfs-unixfs-importer (node)" "$add_mbps" "JS importer" \
		"$js_mbps" "$(ratio "$add_mbps" "$js_mbps")" ">= 2    $same"
else
	row "add -n vs ipfs-unixfs-importer" "$add_mbps" "JS importer" "-" "-" \
		"skipped (JS=0, or node/npm packages missing)"
fi

# ---- 2. blake2b-256 ----
timed "$efs" add -n -q -j "$threads" --hash blake2b-256 "$input"
b_mbps=$(mbps "$bytes" "$best")
row "add -n (blake2b-256, $threads thr)" "$b_mbps" "libb2 x $threads (b2speed)" \
	"$b2_mbps" "$(ratio "$b_mbps" "$b2_mbps")" ">= 0.8"

# ---- 3. add into a repository vs dd + fdatasync, alternating ----
best_dd=
best_store=
for i in $(seq 1 "$rounds"); do
	rm -f "$T/dd.out"
	sync
	t0=$EPOCHREALTIME
	dd if="$input" of="$T/dd.out" bs=1M conv=fdatasync status=none
	t1=$EPOCHREALTIME
	t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
	if [ -z "$best_dd" ] || awk -v a="$t" -v b="$best_dd" 'BEGIN { exit !(a < b) }'; then
		best_dd=$t
	fi
	rm -f "$T/dd.out"
	rm -rf "$T/repo"
	sync
	t0=$EPOCHREALTIME
	ESTUARYFS_HOME=$T/repo "$efs" add -q -j "$threads" "$input" >"$T/out"
	t1=$EPOCHREALTIME
	t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
	if [ -z "$best_store" ] || awk -v a="$t" -v b="$best_store" 'BEGIN { exit !(a < b) }'; then
		best_store=$t
	fi
	[ "$(cat "$T/out")" = "$cid" ] || echo "WARNING: add stored a different CID" >&2
done
rm -rf "$T/repo"
dd_mbps=$(mbps "$bytes" "$best_dd")
store_mbps=$(mbps "$bytes" "$best_store")
row "add into a repository (+ sync, pin)" "$store_mbps" "dd bs=1M conv=fdatasync" \
	"$dd_mbps" "$(ratio "$store_mbps" "$dd_mbps")" ">= 0.8"

# ---- 4. CommP ----
timed "$efs" commp -q -j "$threads" "$input"
c_mbps=$(mbps "$bytes" "$best")
row "commp ($threads thr)" "$c_mbps" "sha256/4 x $threads" "$commp_limit" \
	"$(ratio "$c_mbps" "$commp_limit")" ">= 0.8"
if [ "$js" = 1 ] && command -v node >/dev/null 2>&1 &&
	[ -d "$interop/node_modules/@web3-storage/data-segment" ]; then
	head -c $((js_commp_mb * 1048576)) "$input" >"$T/prefix.bin"
	rounds_saved=$rounds
	rounds=1
	timed node "$interop/efs-ref.mjs" commp "$T/prefix.bin"
	rounds=$rounds_saved
	js_c_mbps=$(mbps $((js_commp_mb * 1048576)) "$best")
	"$efs" commp "$T/prefix.bin" >"$T/ours.commp"
	same=$(grep -q "$(cut -d' ' -f2 "$T/out")" "$T/ours.commp" &&
		echo "same piece CID ($js_commp_mb MiB)" || echo "PIECE CID DIFFERS")
	row "commp vs data-segment (node)" "$c_mbps" "data-segment 5.3.0" \
		"$js_c_mbps" "$(ratio "$c_mbps" "$js_c_mbps")" "(info)  $same"
	rm -f "$T/prefix.bin"
fi

# ---- 5. peak RSS of add on a big file ----
rm -f "$input"
if [ "$big_mb" -gt 0 ] && [ -x /usr/bin/time ]; then
	gen "$T/big.bin" "$big_mb"
	ESTUARYFS_HOME=$T/repo /usr/bin/time -f '%M' -o "$T/rss" \
		"$efs" add -q -j "$threads" "$T/big.bin" >/dev/null
	rss=$(awk '{ printf "%.1f", $1 / 1024 }' "$T/rss")
	row "peak RSS, add of $big_mb MiB (MiB)" "$rss" "goal" "64" \
		"$(ratio "$rss" 64)" "<= 1"
	/usr/bin/time -f '%M' -o "$T/rss" \
		"$efs" add -n -q -j "$threads" "$T/big.bin" >/dev/null
	rss=$(awk '{ printf "%.1f", $1 / 1024 }' "$T/rss")
	row "peak RSS, add -n of $big_mb MiB (MiB)" "$rss" "goal" "64" \
		"$(ratio "$rss" 64)" "<= 1"
	rm -rf "$T/big.bin" "$T/repo"
else
	row "peak RSS of add" "-" "-" "-" "-" "skipped (BIG_MB=0 or no /usr/bin/time)"
fi

printf '%-40s %9s %-28s %9s %7s  %s\n' "measure" "MB/s" "yardstick" "MB/s" \
	"ratio" "goal"
for r in "${rows[@]}"; do
	printf '%s\n' "$r"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
