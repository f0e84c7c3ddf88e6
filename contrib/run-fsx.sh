#!/bin/bash
# run-fsx.sh - run fsx (xfstests ltp/fsx.c) against a freshly mounted
# estuaryfs: mount a temporary repository, run the three profiles of the
# FUSE requirements (A: small file, many ops; B: a 64 MiB file with ops
# up to 4 MiB; C: close/reopen and fsync+invalidate between ops), each
# once with mapped I/O and once with read/write only (-W -R), unmount,
# fsck the repository and print one line per run.
#
#   contrib/run-fsx.sh FSX [ESTUARYFS]
#
# FSX is the fsx binary; ESTUARYFS the estuaryfs executable (default
# build/cli/estuaryfs, or $ESTUARYFS_BIN).  Environment:
#   FSX_PROFILES=A,C   the profiles to run (default A,B,C)
#   FSX_MODES=rw       the modes: mapped, rw (default both)
#   FSX_MOUNT_OPTS=..  more -o options for the mount, e.g.
#                      profile=unixfs-v0-2015,staging_max=4M
#   FSX_SEED=N         replace each profile's fixed seed
#   FSX_KEEP=1         keep the temporary directory (fsx's .fsxlog,
#                      .fsxops and .fsxgood files, the daemon log)
# Exit status: 0 when every run passed, 1 otherwise, 2 usage.
#
# It fetches nothing.  Build fsx outside the repository from an xfstests
# checkout (git.kernel.org/pub/scm/fs/xfs/xfstests-dev.git):
#   cp ltp/fsx.c src/global.h src/statx.h /tmp/fsx/
#   printf '#define HAVE_%s_H 1\n' SYS_TYPES SYS_STAT SYS_STATVFS SYS_TIME \
#       SYS_IOCTL SYS_WAIT MALLOC DIRENT STDLIB UNISTD ERRNO STRING FCNTL \
#       SYS_PARAM LIBGEN ASSERT STRINGS LINUX_FALLOC SYS_MMAN ERR \
#       >/tmp/fsx/config.h
#   echo '#include <getopt.h>' >>/tmp/fsx/config.h
#   cc -O2 -D_GNU_SOURCE -I/tmp/fsx -o /tmp/fsx/fsx /tmp/fsx/fsx.c
set -u

if [ $# -lt 1 ] || [ ! -x "$1" ]; then
	echo "usage: $0 FSX [ESTUARYFS]" >&2
	exit 2
fi
fsx=$(realpath "$1")
efs=${2:-${ESTUARYFS_BIN:-$(dirname "$0")/../build/cli/estuaryfs}}
efs=$(realpath "$efs")
profiles=${FSX_PROFILES:-A,B,C}
modes=${FSX_MODES:-mapped,rw}

T=$(mktemp -d "${TMPDIR:-/tmp}/efs-fsx.XXXXXX")
M="$T/mnt"
mkdir -p "$M" "$T/log"
pid=

# shellcheck disable=SC2317 # (called by the EXIT trap)
cleanup()
{
	if mountpoint -q "$M" 2>/dev/null; then
		"$efs" unmount "$M" 2>/dev/null ||
			fusermount3 -uz "$M" 2>/dev/null
	fi
	if [ -n "$pid" ]; then
		wait "$pid" 2>/dev/null
	fi
	if [ "${FSX_KEEP:-0}" = 1 ]; then
		echo "kept $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT

"$efs" mount -f "$M" \
	-o nodaemon,repo="$T/repo${FSX_MOUNT_OPTS:+,$FSX_MOUNT_OPTS}" \
	>"$T/daemon.log" 2>&1 &
pid=$!
for ((i = 0; i < 200; i++)); do
	mountpoint -q "$M" && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if ! mountpoint -q "$M"; then
	echo "run-fsx: the mount did not come up" >&2
	tail -20 "$T/daemon.log" >&2
	exit 1
fi

# The profiles' fsx arguments (before the mode flags and the file).
profile_args()
{
	case $1 in
	A) echo "-N 10000 -S ${FSX_SEED:-1}" ;;
	B) echo "-l 67108864 -o 4194304 -N 1000 -S ${FSX_SEED:-2}" ;;
	C) echo "-l 1048576 -o 131072 -c 50 -f -N 5000 -S ${FSX_SEED:-3}" ;;
	*) return 1 ;;
	esac
}

status=0
for p in ${profiles//,/ }; do
	args=$(profile_args "$p") || {
		echo "run-fsx: unknown profile $p" >&2
		exit 2
	}
	for m in ${modes//,/ }; do
		case $m in
		mapped) mflags= ;;
		rw) mflags="-W -R" ;;
		*)
			echo "run-fsx: unknown mode $m" >&2
			exit 2
			;;
		esac
		if ! mountpoint -q "$M"; then
			echo "FAIL $p/$m: the mount is gone (the daemon died?)"
			status=1
			continue
		fi
		name="fsx-$p-$m"
		start=$(date +%s.%N)
		# shellcheck disable=SC2086
		(cd "$M" && "$fsx" -q $args $mflags -P "$T/log" "$name") \
			>"$T/log/$name.out" 2>&1
		rc=$?
		secs=$(echo "$(date +%s.%N) - $start" | bc)
		if [ "$rc" -eq 0 ]; then
			printf 'PASS %-12s %6.1f s  fsx %s %s\n' "$p/$m" "$secs" \
				"$args" "$mflags"
		else
			status=1
			printf 'FAIL %-12s %6.1f s  fsx %s %s (exit %d)\n' \
				"$p/$m" "$secs" "$args" "$mflags" "$rc"
			tail -15 "$T/log/$name.out" | sed 's/^/    /'
		fi
		rm -f "$M/$name"
	done
done

if mountpoint -q "$M" && ! "$efs" unmount "$M"; then
	echo "run-fsx: unmount failed" >&2
	status=1
fi
wait "$pid"
rc=$?
pid=
if [ "$rc" -ne 0 ]; then
	echo "run-fsx: the daemon exited with $rc" >&2
	tail -20 "$T/daemon.log" >&2
	status=1
fi
if ! ESTUARYFS_HOME="$T/repo" "$efs" fsck >"$T/fsck.out" 2>&1; then
	echo "run-fsx: fsck of the repository failed:" >&2
	tail -20 "$T/fsck.out" >&2
	status=1
else
	echo "fsck: clean"
fi
exit $status
