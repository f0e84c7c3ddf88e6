#!/bin/bash
# retrieval.sh - issue 6's benchmark: reading evicted data back through
# the mount, side by side with curl fetching the same bytes from the same
# devnet SP, in one run.  A benchmark, not a test.
#
#   bench/retrieval.sh [BUILD_DIR [SIZE_MIB]]     (build, 1024)
#
# A repository in $TMPDIR mounts with the dealer on the devnet it starts
# (one deal per commit, so one SP holds the piece); a file of SIZE_MIB
# random MiB is committed, dealt and evicted.  Each read below starts
# from a fresh mount, after the page cache was dropped (as root), so the
# mount's blocks come from the SP and nothing from the kernel's cache.
# The SP's piece file is either on its disk (page cache dropped: what an
# SP serving from disk looks like) or in its page cache (warmed by the
# curl before), and curl and the mount are timed in the same state:
#
#   curl        curl of the piece's payload range from the SP holding it,
#               GET /piece/{pieceCid} with Range (MB/s)
#   mount       cat of the whole evicted file through the mount (MB/s);
#               ratio mount/curl (goal >= 0.7)
#   local       the same cat once the blocks are local again (the page
#               cache dropped): the mount's own ceiling, what retrieval
#               adds to it shows as mount/local
#   first byte  a 4 KiB read at the start of the evicted file: its time
#               and the HTTP requests it made to the SP (the miner log's
#               retrieve events; goal <= 3 round trips)
#   rss         the daemon's peak RSS (VmHWM) over the cold reads (goal
#               <= 128 MiB)
#   cpu         CPU seconds of the daemon and of the devnet over each read
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
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
devnet_pid() { pgrep -f -- "--dir $ESTUARYFS_HOME/devnet" | head -1; }
drop()
{
	sync
	if [ -w /proc/sys/vm/drop_caches ]; then
		echo 3 >/proc/sys/vm/drop_caches
	else
		dropped=no
	fi
}
dropped=yes
# cat the file through the mount; sets read_s, cpu_d and cpu_n (the
# daemon's and the devnet's CPU ticks) and hwm
time_read()
{
	local dn t0 t1 d0 n0
	dn=$(devnet_pid)
	d0=$(cpu "$pid")
	n0=$(cpu "$dn")
	t0=$(now)
	cat "$mnt/d/big" >/dev/null
	t1=$(now)
	read_s=$(echo "$t0 $t1" | awk '{print $2 - $1}')
	cpu_d=$(($(cpu "$pid") - d0))
	cpu_n=$(($(cpu "$dn") - n0))
	h=$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$pid/status")
	[ "$h" -gt "${hwm:-0}" ] && hwm=$h
	return 0
}
time_curl()
{
	local t0 t1
	t0=$(now)
	curl -sf -o /dev/null -H "Range: bytes=0-$((payload - 1))" \
		"$url/piece/$piece"
	t1=$(now)
	curl_s=$(echo "$t0 $t1" | awk '{print $2 - $1}')
}
fresh_mount()
{
	unmount
	drop
	mount_fg
}
row()
{
	printf '  %-40s %12s %14s\n' "$1" "$2" "${3:-}"
}
ticks() { echo "$1" | awk '{printf "%.2f s", $1 / 100}'; }

# curl with the SP's piece on its disk, then in its page cache (which
# that first curl warmed); the mount in the second state (the devnet
# runs as long as the mount that started it)
"$efs" evict "$mnt/d" >/dev/null
fresh_mount
time_curl
curl_disk=$curl_s
time_curl
curl_cache=$curl_s
time_read
mount_cache=$read_s
cpu_cache="$(ticks $cpu_d) / $(ticks $cpu_n)"
# the mount in the first state
"$efs" evict "$mnt/d" >/dev/null
fresh_mount
time_read
mount_disk=$read_s
cpu_disk="$(ticks $cpu_d) / $(ticks $cpu_n)"
# the blocks are local again
fresh_mount
time_read
local_s=$read_s
cpu_local="$(ticks $cpu_d)"

"$efs" evict "$mnt/d" >/dev/null
fresh_mount
before=$(retrievals)
t0=$(now)
dd if="$mnt/d/big" of=/dev/null bs=4k count=1 status=none
t1=$(now)
first_ms=$(echo "$t0 $t1" | awk '{printf "%.1f", ($2 - $1) * 1000}')
# the miner log is written when a request ends (the read-ahead goes on
# after the read returned): wait for the count to settle
requests=$(($(retrievals) - before))
for _ in $(seq 50); do
	sleep 0.2
	n=$(($(retrievals) - before))
	[ "$n" = "$requests" ] && [ "$n" -gt 0 ] && break
	requests=$n
done
unmount

ratio() { echo "$1 $2" | awk '{printf "%.2f", $2 / $1}'; }
echo
echo "retrieval of an evicted $size_mib MiB file, one devnet SP ($sp)"
[ "$dropped" = yes ] ||
	echo "  (not root: the page cache could not be dropped; reads may be warm)"
row "" "MB/s" "cpu daemon/devnet"
row "SP's piece on disk:   curl" "$(mbps "$payload" "$curl_disk")"
row "                      mount (cold read)" "$(mbps $bytes "$mount_disk")" \
	"$cpu_disk"
row "                      ratio mount/curl" "$(ratio "$mount_disk" "$curl_disk")"
row "SP's piece in memory: curl" "$(mbps "$payload" "$curl_cache")"
row "                      mount (cold read)" "$(mbps $bytes "$mount_cache")" \
	"$cpu_cache"
row "                      ratio mount/curl" "$(ratio "$mount_cache" "$curl_cache")"
row "blocks local again:   mount" "$(mbps $bytes "$local_s")" "$cpu_local"
row "                      ratio retrieval/local" \
	"$(ratio "$mount_cache" "$local_s")"
echo "  (goal: ratio mount/curl >= 0.7)"
printf '  %-40s %12s\n' "first 4 KiB read of the evicted file" "$first_ms ms"
printf '  %-40s %12s\n' "  its requests to the SP (goal <= 3)" "$requests"
printf '  %-40s %12s\n' "daemon peak RSS (goal <= 128 MiB)" "$hwm MiB"
