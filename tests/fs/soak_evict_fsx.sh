#!/bin/bash
# soak_evict_fsx.sh - fsx (xfstests ltp/fsx.c) through a mount, in rounds
# with evictions between them: each round's file is committed, the
# daemon's dealer gets the commit to 6 active deals on its devnet, and
# `estuaryfs evict` frees every leaf of it.  The next round first reads
# the evicted file back and compares it with what the previous round
# left (cmp against a local copy), evicts it again, drops the caches,
# and runs fsx on it with -k (keep the file: fsx reads it, evicted, as
# its starting model, then does mapped and read()/write() I/O, partial
# overwrites and truncations, checking every read); the file is grown
# back to 6 MB after each round (fsx -k only shrinks it).  At the end
# `estuaryfs fsck` must be clean.
#
# Running fsx while the dealer works does not give evictions inside one
# fsx run: fsx rewrites every chunk of its file long before a commit's
# deals are active, so nothing it still uses can be evicted.  Evictions
# between single operations are tests/fs/test_evict_fsx.c's (fileio
# level, with a fetch hook).
#
# A soak, not part of `meson test` (a few minutes):
#   FSX=/path/to/fsx ESTUARYFS_BIN=build/cli/estuaryfs \
#       tests/fs/soak_evict_fsx.sh [ROUNDS [OPS]]
# ROUNDS default 5, OPS (fsx operations per round) default 3000.
# FSX_ARGS replaces the fsx options (default: files up to 8 MiB,
# operations up to 1 MiB, the page cache flushed and invalidated after
# each I/O so reads reach the mount).  The fsx build recipe is in
# contrib/run-fsx.sh.  Exits 77 (SKIP) without FSX, the devnet or usable
# FUSE.
. "$(dirname "$0")/lib.sh"

fs_require
if [ -z "${FSX:-}" ] || [ ! -x "$FSX" ]; then
	echo "SKIP: set FSX to an fsx executable"
	exit 77
fi
if [ ! -x "$(dirname "$EFS")/../contrib/devnet/estuaryfs-devnet" ]; then
	echo "SKIP: no estuaryfs-devnet beside the estuaryfs under test"
	exit 77
fi
rounds=${1:-5}
ops=${2:-3000}

echo '{"dealer":{"check_interval_s":1},"http":{"listen":"127.0.0.1:0"},
       "retrieval":{"timeout_s":20}}' >"$ESTUARYFS_HOME/config.json"

# The devnet outlives the daemon (its own session): ended by the
# directory only this run's devnet has.
devnet_stop()
{
	local pid
	pid=$(pgrep -f -- "--dir $ESTUARYFS_HOME/devnet" || true)
	[ -z "$pid" ] || kill $pid 2>/dev/null
}
trap 'devnet_stop; fs_cleanup' EXIT

# Active deals of the newest commit (0 when none yet).
newest_active()
{
	efs status --json 2>/dev/null | python3 -c 'import json,sys
c = json.load(sys.stdin)["commits"]
print(c[-1]["active"] if c else 0)' 2>/dev/null || echo 0
}

fetched_bytes()
{
	efs miners --json | python3 -c 'import json,sys
print(sum(m["performance"]["retrieved_bytes"] for m in json.load(sys.stdin)))'
}

# Commit data, wait for 6 active deals, evict it: blocks evicted to
# stdout.
commit_evict()
{
	expect 0 "round $1: commit" -- efs commit "$M/data" || return 1
	wait_for 60 '[ "$(newest_active)" -ge 6 ]' ||
		fail "round $1: the commit did not reach 6 active deals in 60 s"
	evict_only "$1"
}

evict_only()
{
	local n
	if ! efs evict "$M/data" >"$T/out" 2>"$T/err"; then
		fail "round $1: evict: $(cat "$T/err")"
		return 1
	fi
	n=$(sed -n 's/^evicted: *\([0-9]*\) blocks.*/\1/p' "$T/out")
	echo "# round $1: ${n:-0} blocks evicted"
	evicted=$((evicted + ${n:-0}))
}

cold()
{
	fs_stop
	sync
	{ echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null
	fs_start
}

evicted=0
fetched0=0
fs_start
mkdir "$M/data"
head -c 6000000 /dev/urandom >"$M/data/f"
cp "$M/data/f" "$T/expect"
fetched0=$(fetched_bytes)
for ((r = 1; r <= rounds; r++)); do
	commit_evict "$r" || break
	cold
	cmp "$M/data/f" "$T/expect" &&
		pass "round $r: the evicted file reads back byte-identical" ||
		fail "round $r: the evicted file differs"
	evict_only "$r.2"
	cold
	# shellcheck disable=SC2086 # FSX_ARGS is a list of options
	if "$FSX" -k ${FSX_ARGS:--l 8388608 -o 1048576 -f} -S "$r" -N "$ops" \
	    -P "$T" "$M/data/f" >"$T/fsx.out" 2>&1; then
		pass "round $r: fsx on the evicted file ($ops operations)"
	else
		fail "round $r: fsx"
		tail -30 "$T/fsx.out" >&2
		break
	fi
	# fsx -k never grows the file past its size at the start: grow it
	# back, so that every round has chunks to evict
	size=$(stat -c %s "$M/data/f")
	[ "$size" -ge 6000000 ] ||
		head -c $((6000000 - size)) /dev/urandom >>"$M/data/f"
	cp "$M/data/f" "$T/expect"
done
fetched=$(($(fetched_bytes) - fetched0))
echo "# $rounds rounds: $evicted blocks evicted, $fetched bytes fetched back"
[ "$evicted" -gt 0 ] && [ "$fetched" -gt 0 ] &&
	pass "evicted data was fetched back" || fail "nothing evicted or fetched"
fs_stop
expect 0 "fsck after the soak" -- efs fsck
finish
