#!/bin/bash
# test_gc.sh - `estuaryfs gc`: --help, usage errors, a new repository
# (nothing to free), pinned content kept (cat and fsck still pass after
# gc --grace 0), --json; one-line errors when the process holding the
# repository serves no API or does not answer; and gc through a running
# `estuaryfs daemon` (POST /gc): the same output, --grace refused, a
# refused token.  Freeing real garbage is tested through the mount
# (tests/fs/test_gc.sh) and retrieved content kept by its pin in
# tests/cli/test_retrieve.sh.
. "$(dirname "$0")/lib.sh"

expect 0 "gc --help" -- efs gc --help
grep -q "^usage: estuaryfs gc" "$T/out" && pass "gc --help: usage" ||
	fail "gc --help: $(head -1 "$T/out")"
expect 2 "gc with an argument" -- efs gc extra
expect 2 "gc --grace -1" -- efs gc --grace -1
expect 2 "gc --grace x" -- efs gc --grace x

seq 1 100000 >"$T/seq"
expect 0 "add" -- efs add "$T/seq"
root=$(cat "$T/out")
expect 0 "gc of a repository without garbage" -- efs gc --grace 0
check_eq "gc frees nothing pinned" "$(cat "$T/out")" \
	"freed: 0 blocks, 0 bytes (0 B)"
expect 0 "gc -q" -- efs gc -q --grace 0
check_eq "gc -q prints nothing" "$(cat "$T/out")" ""
expect 0 "cat after gc" -- efs cat "$root"
cmp -s "$T/out" "$T/seq" && pass "cat after gc: same bytes" ||
	fail "cat after gc: bytes differ"
expect 0 "fsck after gc" -- efs fsck

# What add and car import pinned, unpin CID lets go: gc frees it, and
# the first tree stays.
seq 200000 400000 >"$T/other"
expect 0 "add another" -- efs add -q "$T/other"
other=$(cat "$T/out")
expect 0 "export it" -- efs car export -o "$T/other.car" "$other"
expect 0 "unpin what add pinned" -- efs unpin --json "$other"
grep -q '"removed": 1$' "$T/out" && pass "unpin: add's pin removed" ||
	fail "unpin: add's pin removed: $(cat "$T/out")"
expect 0 "gc after unpin" -- efs gc --grace 0
grep -q "^freed: 0 blocks" "$T/out" &&
	fail "gc after unpin freed nothing: $(cat "$T/out")" ||
	pass "gc after unpin frees the added file"
expect 3 "cat of the freed file" -- efs cat "$other"
expect 0 "the first tree stays" -- efs cat "$root"
expect 0 "car import" -- efs car import -q "$T/other.car"
expect 0 "unpin what car import pinned" -- efs unpin --json "$other"
grep -q '"removed": 1$' "$T/out" && pass "unpin: import's pin removed" ||
	fail "unpin: import's pin removed: $(cat "$T/out")"
expect 3 "unpin twice: no such pin" -- efs unpin "$other"

# Another holder of the lock that serves no API (a mount with -o
# nodaemon): one clear line.  Then one whose daemon does not answer.
# (One process holds the lock, so that killing it releases it.)
python3 -c 'import fcntl, sys, time
f = open(sys.argv[1], "a"); fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close(); time.sleep(30)' \
	"$ESTUARYFS_HOME/bstore.lock" "$T/locked" &
holder=$!
for ((i = 0; i < 50; i++)); do
	[ -e "$T/locked" ] && break
	sleep 0.1
done
expect 5 "gc of a locked repository without an API fails" -- efs gc
check_err "locked: one line" "serves no API"
echo "http://127.0.0.1:9" >"$ESTUARYFS_HOME/api.url"
printf '%064d\n' 0 >"$ESTUARYFS_HOME/api.token"
expect 5 "gc when the daemon does not answer" -- efs gc
check_err "unreachable: one line" \
	"daemon holding the repository does not answer"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
rm -f "$ESTUARYFS_HOME/api.url" "$ESTUARYFS_HOME/api.token"

# A daemon holding the repository: gc runs in it (POST /gc), with the
# same output; its grace period is its own.
echo '{"dealer":{"enabled":false},"http":{"listen":"127.0.0.1:0"}}' \
	>"$ESTUARYFS_HOME/config.json"
"$EFS" daemon -f >"$T/daemon.log" 2>&1 &
dpid=$!
for ((i = 0; i < 100; i++)); do
	[ -s "$ESTUARYFS_HOME/api.url" ] && break
	sleep 0.1
done
[ -s "$ESTUARYFS_HOME/api.url" ] ||
	fail "the daemon did not start: $(tail -3 "$T/daemon.log")"
expect 0 "gc through the daemon" -- efs gc
check_eq "gc through the daemon: the same output" "$(cat "$T/out")" \
	"freed: 0 blocks, 0 bytes (0 B)"
expect 0 "gc --json through the daemon" -- efs gc --json
python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))
assert v == {"blocks": 0, "bytes": 0, "unverified": 0}, v' "$T/out" &&
	pass "gc --json: the counts" || fail "gc --json: $(cat "$T/out")"
expect 2 "gc --grace beside the daemon: refused" -- efs gc --grace 0
check_err "--grace: one line" "own grace period"
good=$(cat "$ESTUARYFS_HOME/api.token")
printf '%064d\n' 0 >"$ESTUARYFS_HOME/api.token"
expect 2 "gc with a token the daemon refuses" -- efs gc
check_err "refused token: one line" "refused the token"
echo "$good" >"$ESTUARYFS_HOME/api.token"
grep -q "gc on request: freed 0 blocks" "$T/daemon.log" &&
	pass "the daemon logs the collection" ||
	fail "daemon log: $(tail -3 "$T/daemon.log")"
kill "$dpid"
wait "$dpid" || fail "the daemon exited with $?"
expect 0 "cat once the daemon is gone" -- efs cat "$root"
cmp -s "$T/out" "$T/seq" && pass "the pinned content stayed" ||
	fail "cat after the daemon's gc: bytes differ"

finish
