#!/bin/bash
# The mount beside libfuse's passthrough_ll over the same disk, and the
# bare disk, side by side in one run (issue 3's benchmark).  A benchmark,
# not a test.
#
#   bench/fs.sh [BUILD_DIR [WORK_DIR [ROUNDS]]]   (build, $TMPDIR/efs-bench, 3)
#
# WORK_DIR must be on the disk under test; it holds the three targets
# (estuaryfs's repository and mount point, passthrough_ll's source and
# mount point, a plain directory) and a 1 GiB random source file kept in
# the page cache.  passthrough_ll is compiled from the copy Debian ships
# in /usr/share/doc/libfuse3-dev/examples (needs cc and libfuse3-dev) and
# runs with its defaults.  Each measure runs ROUNDS times on each target
# in turn and the medians are printed:
#
#   write   1 GiB sequential write, dd bs=1M conv=fsync (MB/s)
#   read    1 GiB sequential read after dropping the page cache (MB/s;
#           needs root for /proc/sys/vm/drop_caches, else "warm")
#   create  4 KiB files written and closed, 5000 of them (files/s)
#   meta    in a directory of 10k entries: create, stat, rename and
#           unlink of every entry (ops/s each)
#   rss     the estuaryfs daemon's peak RSS (VmHWM) after writing 4 GiB
#           of distinct pseudo-random bytes (MiB)
#
# passthrough_ll also runs a second time with -o default_permissions, as
# estuaryfs mounts (R4): the kernel then checks permissions itself and,
# because every create, rename or unlink invalidates the directory's
# attributes, sends a GETATTR of the directory before the next one, a
# round trip the plain passthrough_ll never pays.
#
# The ratios at the end are estuaryfs / passthrough_ll and estuaryfs /
# passthrough_ll with default_permissions; the issue's goals (against the
# plain one) are >= 0.9 for write and read, >= 1.0 for create and meta, and
# rss <= 256.
set -u
build=$(cd "${1:-build}" && pwd)
work=${2:-${TMPDIR:-/tmp}/efs-bench}
rounds=${3:-3}
efs=$build/cli/estuaryfs
mkdir -p "$work"
work=$(cd "$work" && pwd)
src=$work/src.bin
log=$work/bench.log
ex=/usr/share/doc/libfuse3-dev/examples
pt=$work/passthrough_ll
PY=$(command -v python3) || { echo "python3 is needed" >&2; exit 1; }

die() { echo "bench/fs.sh: $*" >&2; exit 1; }

[ -x "$efs" ] || die "no $efs (build first)"
if [ ! -x "$pt" ]; then
	cc -O2 -o "$pt" "$ex/passthrough_ll.c" $(pkg-config --cflags --libs fuse3) ||
		die "cannot build passthrough_ll from $ex"
fi
[ -f "$src" ] || head -c $((1 << 30)) /dev/urandom >"$src"

EPID=
PPID_=
DPID=
cleanup()
{
	for m in "$work/efs.mnt" "$work/pt.mnt" "$work/dp.mnt"; do
		mountpoint -q "$m" && fusermount3 -u "$m"
	done
	[ -n "$EPID" ] && wait "$EPID" 2>/dev/null
	[ -n "$PPID_" ] && wait "$PPID_" 2>/dev/null
	[ -n "$DPID" ] && wait "$DPID" 2>/dev/null
}
trap cleanup EXIT

mount_all()
{
	cleanup
	rm -rf "$work/repo" "$work/pt.src" "$work/dp.src" "$work/bare"
	mkdir -p "$work/efs.mnt" "$work/pt.mnt" "$work/pt.src" "$work/bare" \
		"$work/dp.mnt" "$work/dp.src"
	# -o nodaemon: no HTTP server or dealer (and no devnet) in the way
	ESTUARYFS_HOME=$work/repo "$efs" mount -f -o nodaemon "$work/efs.mnt" \
		2>>"$work/daemon.log" &
	EPID=$!
	"$pt" -f -o source="$work/pt.src" "$work/pt.mnt" &
	PPID_=$!
	"$pt" -f -o source="$work/dp.src",default_permissions \
		"$work/dp.mnt" &
	DPID=$!
	for i in $(seq 100); do
		mountpoint -q "$work/efs.mnt" && mountpoint -q "$work/pt.mnt" &&
			mountpoint -q "$work/dp.mnt" && return 0
		sleep 0.1
	done
	die "mounts did not come up (see $work/daemon.log)"
}

dir_of()
{
	case $1 in
	estuaryfs) echo "$work/efs.mnt" ;;
	passthrough) echo "$work/pt.mnt" ;;
	passthrough_dp) echo "$work/dp.mnt" ;;
	bare) echo "$work/bare" ;;
	esac
}

drop_caches()
{
	sync
	echo 3 >/proc/sys/vm/drop_caches 2>/dev/null
}

cold=cold
[ -w /proc/sys/vm/drop_caches ] || cold=warm

# MB/s of a dd, from its last line
dd_rate()
{
	dd "$@" bs=1M 2>&1 | tail -n 1 |
		awk '{ r = $(NF-1); u = $NF; if (u == "GB/s") r *= 1000;
		       if (u == "kB/s") r /= 1000; print r }'
}

bench_write()
{
	rm -f "$1/big"
	sync
	dd_rate if="$src" of="$1/big" conv=fsync
}

bench_read()
{
	drop_caches
	dd_rate if="$1/big" of=/dev/null
}

# files/s: 5000 files of 4 KiB written and closed
bench_create()
{
	"$PY" - "$1" <<'EOF'
import os, sys, time
d = sys.argv[1] + "/small"
os.makedirs(d, exist_ok=True)
data = os.urandom(4096)
t = time.monotonic()
for i in range(5000):
    fd = os.open("%s/f%d" % (d, i), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, data)
    os.close(fd)
print("%.0f" % (5000 / (time.monotonic() - t)))
EOF
	rm -rf "$1/small"
}

# "create stat rename unlink" ops/s in a 10k-entry directory
bench_meta()
{
	"$PY" - "$1" <<'EOF'
import os, sys, time
d = sys.argv[1] + "/meta"
os.makedirs(d, exist_ok=True)
n = 10000
rates = []
def run(f):
    t = time.monotonic()
    for i in range(n):
        f(i)
    rates.append("%.0f" % (n / (time.monotonic() - t)))
run(lambda i: os.close(os.open("%s/e%d" % (d, i), os.O_WRONLY | os.O_CREAT, 0o644)))
run(lambda i: os.stat("%s/e%d" % (d, i)))
run(lambda i: os.rename("%s/e%d" % (d, i), "%s/r%d" % (d, i)))
run(lambda i: os.unlink("%s/r%d" % (d, i)))
os.rmdir(d)
print(" ".join(rates))
EOF
}

median()
{
	sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "-") }'
}

: >"$log"
for r in $(seq "$rounds"); do
	# fresh targets: a repository that holds the bytes already stores
	# nothing when they are written again
	mount_all
	for t in estuaryfs passthrough passthrough_dp bare; do
		d=$(dir_of $t)
		echo "$t write $(bench_write "$d")" >>"$log"
		echo "$t read $(bench_read "$d")" >>"$log"
		rm -f "$d/big"
		echo "$t create $(bench_create "$d")" >>"$log"
		set -- $(bench_meta "$d")
		echo "$t meta_create $1" >>"$log"
		echo "$t meta_stat $2" >>"$log"
		echo "$t meta_rename $3" >>"$log"
		echo "$t meta_unlink $4" >>"$log"
	done
done

# peak RSS of a fresh daemon while 4 GiB of distinct bytes are written
mount_all
openssl enc -aes-128-ctr -pass pass:efs -nosalt -pbkdf2 </dev/zero 2>/dev/null |
	head -c $((4 << 30)) | dd of="$work/efs.mnt/rss" bs=1M conv=fsync \
	status=none
rss=$(awk '/VmHWM/ { print int($2 / 1024) }' /proc/$EPID/status)

printf '%-12s %10s %10s %10s %10s %7s %7s\n' measure estuaryfs pt_ll pt_ll+dp \
	bare ratio ratio_dp
for m in write read create meta_create meta_stat meta_rename meta_unlink; do
	e=$(awk -v m=$m '$1 == "estuaryfs" && $2 == m { print $3 }' "$log" | median)
	p=$(awk -v m=$m '$1 == "passthrough" && $2 == m { print $3 }' "$log" | median)
	q=$(awk -v m=$m '$1 == "passthrough_dp" && $2 == m { print $3 }' "$log" | median)
	b=$(awk -v m=$m '$1 == "bare" && $2 == m { print $3 }' "$log" | median)
	name=$m
	[ $m = read ] && name="read($cold)"
	printf '%-12s %10s %10s %10s %10s %7s %7s\n' "$name" "$e" "$p" "$q" "$b" \
		"$(awk -v e="$e" -v p="$p" 'BEGIN { if (p > 0) printf "%.2f", e / p }')" \
		"$(awk -v e="$e" -v p="$q" 'BEGIN { if (p > 0) printf "%.2f", e / p }')"
done
echo "units: write/read MB/s, create files/s, meta_* ops/s (10k-entry dir)"
echo "estuaryfs daemon peak RSS writing 4 GiB: $rss MiB"
