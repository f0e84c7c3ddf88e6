#!/bin/sh
# Loopback throughput of `curl` fetching a big piece from a simulated SP
# of estuaryfs-devnet (GET /piece/{cid}), and what serving it adds to the
# devnet's resident memory.  A benchmark, not a test.
#
#   bench/devnet_piece.sh [BUILD_DIR [MIB]]     (defaults: build, 1000)
#
# MIB MiB of random bytes become a UnixFS file (`estuaryfs add`, 1 MiB
# raw leaves) and its CAR (`estuaryfs car export`): with the default a
# CAR just under 1016 MiB, a 1 GiB piece.  A devnet with one SP runs on
# 127.0.0.1 (ephemeral ports) in a temp directory; devnet-deal-client
# (tests/devnet/deal_client.c) makes the deal through the public
# protocols and waits until it is sealed.  Then:
#
#  1. the devnet's VmRSS is read, and its peak (VmHWM) reset by writing
#     5 to /proc/PID/clear_refs;
#  2. curl fetches /piece/{v1} to /dev/null (size, seconds, bytes/s);
#  3. VmHWM - VmRSS before = what serving the piece added at its peak;
#  4. the same for /ipfs/{root}?format=car (the trustless gateway,
#     streamed block by block from the piece file).
#
# Needs BUILD_DIR/cli/estuaryfs, BUILD_DIR/contrib/devnet/estuaryfs-devnet
# and BUILD_DIR/tests/devnet/devnet-deal-client (ninja -C BUILD_DIR).
# Environment: TMPDIR (the CAR, its repository and the devnet: about
# 3 x MIB of space), KEEP=1 (keep them).  The devnet is ended by its PID.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
mib=${2:-1000}
case $build in /*) ;; *) build=$top/$build ;; esac
efs=$build/cli/estuaryfs
devnet=$build/contrib/devnet/estuaryfs-devnet
client=$build/tests/devnet/devnet-deal-client
for b in "$efs" "$devnet" "$client"; do
	[ -x "$b" ] || { echo "missing $b (build it first)" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/devnet-piece.XXXXXX")
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	[ "${KEEP:-0}" = 1 ] || rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

kib() { awk -v k="$1" '$1 == k ":" { print $2 }' "/proc/$pid/status"; }

echo "making a ${mib} MiB file and its CAR..."
head -c $((mib * 1024 * 1024)) /dev/urandom > "$tmp/data.bin"
root=$(ESTUARYFS_HOME=$tmp/repo "$efs" add "$tmp/data.bin")
ESTUARYFS_HOME=$tmp/repo "$efs" car export -o "$tmp/deal.car" "$root"
rm -f "$tmp/data.bin"
echo "CAR: $(stat -c %s "$tmp/deal.car") bytes, root $root"

"$devnet" --dir "$tmp/dn" --listen 127.0.0.1:0 --sps 1 --epoch 200ms \
	> "$tmp/devnet.out" 2> "$tmp/devnet.log" &
pid=$!
for _ in $(seq 100); do
	grep -q '^ready' "$tmp/devnet.out" 2>/dev/null && break
	sleep 0.1
done
api=$(awk '/^endpoint/ { sub("/rpc/v1", "", $2); print $2 }' "$tmp/devnet.out")
token=$(awk '/^token/ { print $2 }' "$tmp/devnet.out")

echo "dealing it with f01000..."
t0=$(date +%s.%N)
"$client" --api "$api" --token "$token" --car "$tmp/deal.car" \
	--timeout 900 > "$tmp/deal.out"
t1=$(date +%s.%N)
piece=$(awk '/^piece_cid / { print $2 }' "$tmp/deal.out")
size=$(awk '/^piece_size / { print $2 }' "$tmp/deal.out")
sp=$(awk '/^sp_url / { print $2 }' "$tmp/deal.out")
echo "sealed: piece $piece ($size padded bytes) in $(echo "$t1 - $t0" | bc) s"

measure() {
	label=$1
	url=$2
	before=$(kib VmRSS)
	echo 5 > "/proc/$pid/clear_refs"
	out=$(curl -s -o /dev/null \
		-w '%{http_code} %{size_download} %{time_total}' "$url")
	peak=$(kib VmHWM)
	set -- $out
	rate=$(echo "scale=1; $2 / $3 / 1048576" | bc)
	echo "$label: HTTP $1, $2 bytes in $3 s = $rate MiB/s;" \
		"devnet RSS $before KiB before, peak $peak KiB:" \
		"+$((peak - before)) KiB"
}

measure "GET /piece" "$sp/piece/$piece"
measure "GET /piece (again, warm page cache)" "$sp/piece/$piece"
measure "GET /ipfs ?format=car" "$sp/ipfs/$root?format=car"
