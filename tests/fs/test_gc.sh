#!/bin/bash
# test_gc.sh - garbage of the mount and its collection: a file written,
# then overwritten in full, leaves its first content unpinned.  The
# daemon runs with -o gc_interval=1 (its gc thread must neither break
# the mount nor delay the unmount; its grace period keeps the young
# garbage), `estuaryfs gc` of the mounted repository runs in its daemon
# (which keeps the young garbage; --grace is refused), and once
# unmounted `estuaryfs gc --grace 0` frees the old blocks (the pack
# files' disk use goes down), fsck is clean and the file reads back.
# Exits 77 (SKIP) when FUSE cannot be used here.
. "$(dirname "$0")/lib.sh"

fs_require
fs_start -v -o gc_interval=1

pack_disk()
{
	du -B1 -c "$ESTUARYFS_HOME"/packs/*.pack | tail -1 | cut -f1
}

head -c $((8 << 20)) /dev/urandom >"$T/a"
head -c $((8 << 20)) /dev/urandom >"$T/b"
expect 0 "write a file" -- cp "$T/a" "$M/f"
expect 0 "overwrite it in full" -- cp "$T/b" "$M/f"
sleep 3 # a few runs of the gc thread
check_files "the file under gc runs" "$T/b" "$M/f"
# gc of the mounted repository runs in its daemon (POST /gc), with the
# daemon's grace period: the young garbage stays.
expect 0 "gc of the mounted repository" -- efs gc
check_eq "mounted: the daemon's grace keeps the young garbage" \
	"$(cat "$T/out")" "freed: 0 blocks, 0 bytes (0 B)"
grep -q "gc on request: freed 0 blocks" "$T/daemon.log" &&
	pass "mounted: the daemon collected" ||
	fail "mounted: $(tail -3 "$T/daemon.log")"
expect 2 "gc --grace 0 of the mounted repository: refused" -- efs gc --grace 0
check_err "mounted --grace: one line" "own grace period"
start=$(date +%s)
fs_stop
[ $(($(date +%s) - start)) -lt 10 ] && pass "unmount is prompt" ||
	fail "unmount took $(($(date +%s) - start)) s"
grep -q "gc: " "$T/daemon.log" &&
	fail "gc thread: $(grep "gc: " "$T/daemon.log")"

before=$(pack_disk)
expect 0 "gc --grace 0" -- efs gc --grace 0
read -r blocks bytes < <(sed -n \
	's/^freed: \([0-9]*\) blocks, \([0-9]*\) bytes.*/\1 \2/p' "$T/out")
[ "${blocks:-0}" -gt 0 ] && [ "${bytes:-0}" -ge $((8 << 20)) ] &&
	pass "gc freed the old content ($blocks blocks, $bytes bytes)" ||
	fail "gc freed too little: $(cat "$T/out")"
after=$(pack_disk)
[ "$after" -le $((before - (7 << 20))) ] &&
	pass "pack disk use went down ($before -> $after)" ||
	fail "pack disk use: $before -> $after"
expect 0 "second gc frees nothing" -- efs gc --grace 0
grep -q "^freed: 0 blocks" "$T/out" && pass "second gc: nothing left" ||
	fail "second gc: $(cat "$T/out")"
expect 0 "fsck after gc" -- efs fsck

fs_start
check_files "the file after gc and a remount" "$T/b" "$M/f"
fs_stop

finish
