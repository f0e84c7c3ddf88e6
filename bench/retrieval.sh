#!/bin/bash
# retrieval.sh - issue 6's benchmark: reading evicted data back through
# the mount, side by side with curl fetching the same bytes from the same
# devnet SP, in one run.  A benchmark, not a test.
#
#   bench/retrieval.sh [BUILD_DIR [SIZE_MIB]]     (build, 1024)
#
# A repository in $TMPDIR mounts with the dealer on the devnet it starts
# (one deal per commit, so one SP holds the piece); a file of SIZE_MIB
# random MiB is committed, dealt, evicted; then, each time after a
# remount and (as root) dropping the page cache:
#
#   cold read   cat of the whole evicted file through the mount (MB/s)
#   curl        curl of the piece's payload range from the SP holding it,
#               GET /piece/{pieceCid} with Range (MB/s); ratio mount/curl
#               (goal >= 0.7)
#   first byte  a 4 KiB read at the file's start: its time and the HTTP
#               requests it made to the SP (the miner log's retrieve
#               events; goal <= 3 round trips)
#   rss         the daemon's peak RSS (VmHWM) over the cold read (goal
#               <= 128 MiB)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
size_mib=${2:-1024}
if [ ! -f "$build/meson-private/coredata.dat" ]; then
	meson setup "$build" "$top" --buildtype=release >/dev/null
fi
ninja -C "$build" cli/estuaryfs contrib/devnet/estuaryfs-devnet >/dev/null
efs=$build/cli/estuaryfs

work=$(mktemp -d "${TMPDIR:-/tmp}/efs-retrieval.XXXXXX")
export ESTUARYFS_HOME=$work/repo
mnt=$work/mnt
mkdir -p "$ESTUARYFS_HOME" "$mnt"
cat >"$ESTUARYFS_HOME/config.json" <<'JSON'
{"dealer": {"replication": 1, "check_interval_s": 2,
            "aggregate_below": "128"},
 "http": {"listen": "127.0.0.1:0"},
 "retrieval": {"timeout_s": 120}}
JSON
pid=
cleanup()
{
	fusermount3 -u "$mnt" 2>/dev/null || true
	[ -z "$pid" ] || wait "$pid" 2>/dev/null || true
	dn=$(pgrep -f -- "--dir $ESTUARYFS_HOME/devnet" || true)
	[ -z "$dn" ] || kill $dn 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

mount_fg()
{
	"$efs" mount -f "$mnt" >>"$work/daemon.log" 2>&1 &
	pid=$!
	for _ in $(seq 200); do
		mountpoint -q "$mnt" && return 0
		sleep 0.1
	done
	echo "mount did not come up" >&2
	tail "$work/daemon.log" >&2
	exit 1
}
unmount()
{
	"$efs" unmount "$mnt"
	wait "$pid" 2>/dev/null || true
	pid=
}
cold()
{
	unmount
	sync
	[ -w /proc/sys/vm/drop_caches ] && echo 3 >/proc/sys/vm/drop_caches
	mount_fg
}
now() { date +%s.%N; }
mbps() { echo "$1 $2" | awk '{printf "%.1f", $1 / 1e6 / $2}'; }
retrievals()
{
	"$efs" miners --json | python3 -c 'import json,sys
print(sum(m["performance"]["retrievals"] for m in json.load(sys.stdin)))'
}

mount_fg
echo "writing and committing $size_mib MiB..."
head -c "$((size_mib << 20))" /dev/urandom >"$mnt/big"
mkdir -p "$mnt/d" && mv "$mnt/big" "$mnt/d/big"
"$efs" commit "$mnt/d" >/dev/null
echo "waiting for its deal to be active..."
for _ in $(seq 600); do
	"$efs" deals --json "$mnt/d" 2>/dev/null | grep -q '"state": "active"' &&
		break
	sleep 1
done
"$efs" deals --json "$mnt/d" | python3 -c 'import json,sys
d = [x for x in json.load(sys.stdin) if x["state"] == "active"][0]
print(d["sp"], d["piece_cid"])' >"$work/deal"
read -r sp piece <"$work/deal"
url=$("$efs" miner show --json "$sp" | python3 -c 'import json,sys
print(json.load(sys.stdin)["url"])')
payload=$("$efs" status --json "$mnt/d" | python3 -c 'import json,sys
print(json.load(sys.stdin)["commits"][0]["car_size"])')
bytes=$((size_mib << 20))

"$efs" evict "$mnt/d" >/dev/null
cold
t0=$(now)
cat "$mnt/d/big" >/dev/null
t1=$(now)
read_s=$(echo "$t0 $t1" | awk '{print $2 - $1}')
hwm=$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$pid/status")

t0=$(now)
curl -sf -o /dev/null -H "Range: bytes=0-$((payload - 1))" "$url/piece/$piece"
t1=$(now)
curl_s=$(echo "$t0 $t1" | awk '{print $2 - $1}')

"$efs" evict "$mnt/d" >/dev/null
cold
before=$(retrievals)
t0=$(now)
dd if="$mnt/d/big" of=/dev/null bs=4k count=1 status=none
t1=$(now)
first_ms=$(echo "$t0 $t1" | awk '{printf "%.1f", ($2 - $1) * 1000}')
requests=$(($(retrievals) - before))
unmount

echo
echo "retrieval of an evicted $size_mib MiB file, one devnet SP ($sp)"
printf '  %-34s %10s\n' "cold read through the mount" "$(mbps $bytes "$read_s") MB/s"
printf '  %-34s %10s\n' "curl of the piece range" "$(mbps "$payload" "$curl_s") MB/s"
printf '  %-34s %10s\n' "ratio mount/curl (goal >= 0.7)" \
	"$(echo "$bytes $read_s $payload $curl_s" |
		awk '{printf "%.2f", ($1 / $2) / ($3 / $4)}')"
printf '  %-34s %10s\n' "first 4 KiB read" "$first_ms ms"
printf '  %-34s %10s\n' "  its requests to the SP (goal <= 3)" "$requests"
printf '  %-34s %10s\n' "daemon peak RSS (goal <= 128 MiB)" "$hwm MiB"
