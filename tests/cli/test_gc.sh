#!/bin/bash
# test_gc.sh - `estuaryfs gc` on a repository that is not mounted: --help,
# usage errors, a new repository (nothing to free), pinned content kept
# (cat and fsck still pass after gc --grace 0), and the one-line error
# when another process (a mount daemon) holds the repository's lock.
# Freeing real garbage is tested through the mount (tests/fs/test_gc.sh).
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

# Another holder of the lock (as the mount daemon): one clear line.
if command -v flock >/dev/null; then
	flock "$ESTUARYFS_HOME/bstore.lock" sleep 5 &
	holder=$!
	sleep 0.5
	expect 1 "gc of a locked repository fails" -- efs gc
	check_eq "locked: one line" "$(wc -l <"$T/err")" 1
	grep -q "mount daemon collects garbage itself" "$T/err" &&
		pass "locked: says the daemon collects" ||
		fail "locked: $(cat "$T/err")"
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
fi

finish
