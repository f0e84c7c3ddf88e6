# lib.sh - sourced by the mounting integration tests (tests/fs/test_*.sh).
#
# Builds on tests/cli/lib.sh (a temporary directory $T with the
# repository in it, expect/check_eq/pass/fail/finish) and adds a mount
# point $M with helpers that never wait without bound:
#
#   fs_require          exit 77 (meson: SKIP) when FUSE cannot be used here
#   fs_start [OPTS...]  mount in the foreground in the background ($PID),
#                       wait until mounted; options go to `estuaryfs mount`
#   fs_stop             `estuaryfs unmount`, wait for the daemon to exit
#   fs_kill             kill -9 the daemon and detach its dead mount
#   wait_for SECS CMD   run CMD every 0.1 s until it succeeds (1 if not)
#
# The EXIT trap unmounts whatever is still mounted before $T is removed.
#
# A mount hosts the daemon's services (the HTTP server and the dealer);
# the repository's config.json here turns the dealer off (it would start
# a devnet) and puts the HTTP server on a free port, so the mounts of
# tests running side by side never fight over port 3004.

. "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh"

mkdir -p "$ESTUARYFS_HOME"
echo '{"dealer":{"enabled":false},"http":{"listen":"127.0.0.1:0"}}' \
	>"$ESTUARYFS_HOME/config.json"

M="$T/mnt"
mkdir -p "$M"
PID=

fs_cleanup()
{
	if mountpoint -q "$M" 2>/dev/null || [ -n "$PID" ]; then
		fusermount3 -u "$M" 2>/dev/null ||
			fusermount3 -uz "$M" 2>/dev/null
	fi
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		wait_for 30 '! kill -0 $PID 2>/dev/null' || kill -9 "$PID"
	fi
	rm -rf "$T"
}
trap fs_cleanup EXIT

wait_for()
{
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		if eval "$*"; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

fs_require()
{
	if [ ! -c /dev/fuse ] || [ ! -r /dev/fuse ] || [ ! -w /dev/fuse ]; then
		echo "SKIP: /dev/fuse is not usable here"
		exit 77
	fi
	if ! command -v fusermount3 >/dev/null; then
		echo "SKIP: fusermount3 is missing"
		exit 77
	fi
}

fs_start()
{
	"$EFS" mount -f "$@" "$M" >>"$T/daemon.log" 2>&1 &
	PID=$!
	if wait_for 20 'mountpoint -q "$M" || ! kill -0 $PID 2>/dev/null' &&
	    mountpoint -q "$M"; then
		return 0
	fi
	if grep -qiE 'permission denied|operation not permitted|fuse: device' \
	    "$T/daemon.log"; then
		echo "SKIP: cannot mount FUSE here:" >&2
		tail -3 "$T/daemon.log" >&2
		PID=
		exit 77
	fi
	echo "FAIL: mount did not come up" >&2
	tail -20 "$T/daemon.log" >&2
	exit 1
}

fs_stop()
{
	"$EFS" unmount "$M" || fail "unmount"
	if ! wait_for 60 '! kill -0 $PID 2>/dev/null'; then
		fail "the daemon did not exit after unmount"
		kill -9 "$PID"
	fi
	wait "$PID" 2>/dev/null
	local rc=$?
	[ "$rc" -eq 0 ] || fail "the daemon exited with $rc"
	PID=
}

fs_kill()
{
	kill -9 "$PID"
	wait "$PID" 2>/dev/null
	PID=
	fusermount3 -u "$M" 2>/dev/null || fusermount3 -uz "$M"
}
