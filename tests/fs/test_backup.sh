#!/bin/bash
# test_backup.sh - contrib/backup-nightly.sh against a real mount whose
# daemon deals on the devnet it starts in the repository: the backup
# mirrors the source into the mount, commits it, prints the root CID
# (the CID `estuaryfs add -n` gives the same tree) and exits 0 once the
# commit has its 6 active deals; a rerun over an unchanged source waits
# on the same commit; a change with a 1 s timeout exits 4 with the new
# commit made; -t 0 does not wait; files deleted from the source leave
# the mirror.  Its other exit codes: 2 for usage and a missing source,
# 1 when TARGET cannot be made, 3 when TARGET is not in a mount.  Exits
# 77 (SKIP) when FUSE cannot be used here.
. "$(dirname "$0")/lib.sh"

BACKUP=$(cd "$(dirname "$0")/../../contrib" && pwd)/backup-nightly.sh
export ESTUARYFS=$EFS

fs_require
if [ ! -x "$(dirname "$EFS")/../contrib/devnet/estuaryfs-devnet" ]; then
	echo "SKIP: no estuaryfs-devnet beside the estuaryfs under test"
	exit 77
fi
command -v rsync >/dev/null || { echo "SKIP: no rsync"; exit 77; }

# The dealer on, with no network: the devnet.  HTTP on a free port.
echo '{"dealer":{"check_interval_s":2},"http":{"listen":"127.0.0.1:0"}}' \
	>"$ESTUARYFS_HOME/config.json"

# The devnet runs in its own session; ended by the directory only this
# test's devnet has (as test_dealer.sh does).
devnet_stop()
{
	local pid
	pid=$(pgrep -f -- "--dir $ESTUARYFS_HOME/devnet" || true)
	[ -z "$pid" ] || kill $pid 2>/dev/null
}
trap 'devnet_stop; fs_cleanup' EXIT

backup() { "$BACKUP" "$@"; }

S="$T/src"
mkdir -p "$S/docs/sub" "$S/photos"
head -c 2000000 /dev/urandom >"$S/photos/a.jpg"
echo "a note" >"$S/docs/sub/note with spaces.txt"
echo "old" >"$S/docs/old.txt"

# ---- usage, without a mount ----
expect 2 "no arguments: usage" -- backup
expect 2 "a bad timeout: usage" -- backup -t soon "$S" "$T/x"
expect 2 "interval 0: usage" -- backup -i 0 "$S" "$T/x"
expect 2 "a missing source" -- backup "$T/nonexistent" "$T/x"
: >"$T/afile"
expect 1 "TARGET cannot be made" -- backup -q "$S" "$T/afile/sub"
expect 3 "TARGET not in a mount: the commit fails" -- \
	backup -q "$S" "$T/plain"

# ---- a real backup ----
fs_start
want_root=$(efs add -n -q "$S") || fail "add -n"
start=$(date +%s)
expect 0 "backup: copied, committed, 6 active deals" -- \
	backup -t 45 -i 1 "$S" "$M/backup/src"
echo "# replicated in $(($(date +%s) - start)) s"
cat "$T/out"
root=$(grep -E '^baf' "$T/out")
check_eq "it prints the root CID of the tree" "$root" "$want_root"
grep -q "^backup: replicated: 6/6 active deals$" "$T/out" &&
	pass "it says so" || fail "no 'replicated' line"
diff -r "$S" "$M/backup/src" >/dev/null && pass "the mirror equals the source" ||
	fail "the mirror differs from the source"
expect 0 "status of the backup" -- efs status "$M/backup/src"
grep -q " 6/6 " "$T/out" && pass "status: 6/6" || fail "status: $(cat "$T/out")"

expect 0 "again, nothing changed: the same commit, replicated" -- \
	backup -q -t 10 -i 1 "$S" "$M/backup/src"
check_eq "the same root" "$(cat "$T/out")" "$root"

rm "$S/docs/old.txt"
echo "new" >"$S/docs/new.txt"
expect 4 "a change, 1 s to wait: committed, not yet replicated" -- \
	backup -t 1 -i 1 "$S" "$M/backup/src"
check_err "exit 4 says what to do" "active deals after 1s; the dealer goes on"
root2=$(grep -E '^baf' "$T/out")
[ -n "$root2" ] && [ "$root2" != "$root" ] && pass "a new root CID" ||
	fail "no new root: $(cat "$T/out")"
[ ! -e "$M/backup/src/docs/old.txt" ] && [ -f "$M/backup/src/docs/new.txt" ] &&
	pass "deleted files leave the mirror" || fail "the mirror kept old.txt"
check_eq "two commits of the backup" \
	"$(efs commits | grep -c '/backup/src')" 2

echo "newer" >"$S/docs/new.txt"
expect 0 "-t 0: commit, do not wait" -- backup -q -t 0 "$S" "$M/backup/src"
check_eq "-t 0 prints only the root" \
	"$(grep -c '^baf' "$T/out") $(wc -l <"$T/out")" "1 1"

fs_stop
finish
