#!/bin/bash
# test_crash.sh - kill -9 of the daemon in the middle of an `rsync -a` of
# a tree while a file unlinked-but-open holds data (an orphan), then:
# `estuaryfs fsck` is clean; the remount recovers by itself (the daemon
# logs the orphan it freed, and fsck is still clean); a second `rsync -a
# --delete` completes the tree, `rsync -c -n` then shows no difference,
# and a third `rsync -a` transfers nothing.  Exits 77 (SKIP) when FUSE
# cannot be used here or rsync is missing.
. "$(dirname "$0")/lib.sh"

fs_require
if ! command -v rsync >/dev/null; then
	echo "SKIP: rsync is missing"
	exit 77
fi
fs_start

# A source tree big enough that rsync is still running when killed:
# 40 directories of 8 files, 4 KiB to 1 MiB, with a symlink each.
mkdir -p "$T/src"
for ((d = 0; d < 40; d++)); do
	mkdir -p "$T/src/d$d"
	for ((i = 0; i < 8; i++)); do
		head -c $(((d * 8 + i) * 3313 % (1 << 20) + 4096)) \
			/dev/urandom >"$T/src/d$d/f$i"
	done
	ln -s "f0" "$T/src/d$d/link"
	touch -d "2020-01-0$((d % 9 + 1)) 12:34:56.123456789" "$T/src/d$d/f1"
done

# ---- the orphan: written, fsync'd, unlinked while open ----
exec 9<>"$M/orphan"
head -c $((1 << 20)) /dev/urandom >&9
sync "$M/orphan" 2>/dev/null || true
rm "$M/orphan"
if [ -e "$M/orphan" ]; then
	fail "the orphan is still in the directory"
else
	pass "orphan gone from the directory"
fi

# ---- kill -9 while rsync runs ----
rsync -a "$T/src/" "$M/dst/" >"$T/rsync1.out" 2>&1 &
RSYNC=$!
wait_for 60 '[ "$(find "$M/dst" -type f 2>/dev/null | wc -l)" -ge 40 ]' ||
	fail "rsync did not get going"
fs_kill
exec 9>&-
wait "$RSYNC" 2>/dev/null
rc=$?
if [ "$rc" -ne 0 ]; then
	pass "rsync was cut off (exit $rc)"
else
	fail "rsync finished before the kill: nothing was interrupted"
fi
expect 0 "fsck after kill -9 during rsync" -- "$EFS" fsck

# ---- the remount recovers ----
: >"$T/daemon.log"
fs_start
if grep -qE 'recovered: [1-9][0-9]* orphan' "$T/daemon.log"; then
	pass "remount freed the orphan"
else
	fail "remount did not report freeing the orphan"
	tail -5 "$T/daemon.log" >&2
fi
# --delete: the killed rsync's temp files (.name.XXXXXX) are extraneous
expect 0 "second rsync -a completes" -- rsync -a --delete "$T/src/" "$M/dst/"
expect 0 "rsync -c -n" -- rsync -a -c -n -i "$T/src/" "$M/dst/"
check_eq "rsync -c -n: no difference" "$(cat "$T/out")" ""
expect 0 "third rsync -a" -- rsync -a -i "$T/src/" "$M/dst/"
check_eq "third rsync -a: nothing to do" "$(cat "$T/out")" ""
check_eq "no rsync temp files left after --delete" \
	"$(find "$M/dst" -name '.*.??????' | wc -l)" "0"
fs_stop
expect 0 "fsck after the remount" -- "$EFS" fsck
finish
