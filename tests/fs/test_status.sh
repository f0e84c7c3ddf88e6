#!/bin/bash
# test_status.sh - `estuaryfs status`, `deals` and `estimate` given a
# DIR of a mounted estuaryfs, beside the daemon that holds the
# repository: the directory's commits (its own and those below it,
# resolved through the xattr user.estuary.commit), a directory never
# committed, and estimate of a commit the dealer has not taken (its DAG
# is walked through the daemon that holds the blockstore).  The
# dealer is off here (tests/fs/lib.sh): commits stay queued.  The rest of
# those commands is in tests/cli/test_status.sh.  Exits 77 (SKIP) when
# FUSE cannot be used here.
. "$(dirname "$0")/lib.sh"

fs_require
fs_start

mkdir -p "$M/photos/2024" "$M/docs"
head -c 100000 /dev/urandom >"$M/photos/2024/a.jpg"
echo hello >"$M/docs/readme"
expect 0 "commit photos/2024" -- efs commit "$M/photos/2024"
expect 0 "commit photos" -- efs commit "$M/photos"
photos=$(cat "$T/out")
expect 0 "commit docs" -- efs commit "$M/docs"

line_of() { grep "^$1 " "$T/out"; }

expect 0 "status of everything" -- efs status
grep -q "^daemon: *running (pid $PID)$" "$T/out" && pass "status: the mount's pid" ||
	fail "status: $(grep daemon: "$T/out")"
check_eq "status: 3 commits" "$(grep -c '^[0-9] ' "$T/out")" 3
line_of 1 | grep -q "^1 */photos/2024 .* queued .* 0/6 .*waiting for the dealer to take it" &&
	pass "status: a queued commit, with its path" ||
	fail "status: $(line_of 1)"

expect 0 "status of a directory" -- efs status "$M/photos"
check_eq "status DIR: its commit and the one below it" \
	"$(grep '^[0-9] ' "$T/out" | awk '{print $2}' | tr '\n' ' ')" \
	"/photos/2024 /photos "
expect 0 "status of a subdirectory" -- efs status "$M/photos/2024"
check_eq "status DIR: only its own" "$(grep -c '^[0-9] ' "$T/out")" 1
expect 0 "status --json of a directory" -- efs status --json "$M/docs"
if command -v python3 >/dev/null; then
	python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))
c = v["commits"]
assert [x["path"] for x in c] == ["/docs"] and c[0]["stage"] == "queued"' \
		"$T/out" && pass "status DIR JSON" || fail "status DIR JSON"
fi
expect 0 "status of the root" -- efs status "$M"
check_eq "status /: everything below it" "$(grep -c '^[0-9] ' "$T/out")" 3
mkdir "$M/empty"
expect 3 "estimate of a directory never committed" -- efs estimate "$M/empty"
check_err "estimate: how to commit" "estimate: .*/empty has no commit yet (estuaryfs commit"

mkdir "$M/new"
expect 3 "status of a directory never committed" -- efs status "$M/new"
check_err "never committed: one line" "has no commit yet (estuaryfs commit"
mkdir "$M/new/sub"
expect 0 "commit a directory below it" -- efs commit "$M/new/sub"
expect 0 "status of a directory never committed, with a commit below" -- \
	efs status "$M/new"
check_eq "status: the commit below" "$(grep '^[0-9] ' "$T/out" | awk '{print $2}')" \
	"/new/sub"
expect 2 "status of a file" -- efs status "$M/docs/readme"
check_err "a file: one line" "is not a directory"
expect 0 "deals of a directory" -- efs deals "$M/photos"
check_err "deals DIR: none yet" "no deals"
expect 0 "estimate of a commit not taken, through the daemon" -- \
	efs estimate "$M/photos"
grep -q "^CAR: .*from the blockstore" "$T/out" &&
	pass "estimate: sized by its CAR through the daemon" ||
	fail "estimate: $(head -3 "$T/out")"
expect 0 "estimate by CID, through the daemon" -- efs estimate "$photos"

fs_stop
finish
