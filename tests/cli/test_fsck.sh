#!/bin/bash
# test_fsck.sh - `estuaryfs fsck` passes on a clean repository and fails
# with exit status 4 once a byte of a pack file is flipped; reading the
# damaged block fails too (exit 4), never returning bad data.
. "$(dirname "$0")/lib.sh"

expect 0 "fsck of a new, empty repository" -- efs fsck
seq 1 100000 >"$T/seq"
expect 0 "add" -- efs add "$T/seq"
root=$(cat "$T/out")
expect 0 "fsck of a clean repository" -- efs fsck
grep -q "^problems: 0" "$T/out" && pass "fsck reports no problems" ||
	fail "fsck report: $(cat "$T/out")"
expect 0 "fsck --quick" -- efs fsck --quick
expect 2 "fsck with an argument" -- efs fsck extra

pack=$(find "$ESTUARYFS_HOME" -name '*.pack' -size +1k | head -1)
if [ -z "$pack" ]; then
	fail "no pack file found under $ESTUARYFS_HOME"
	finish
fi
# The middle of the pack is block data (588895 bytes in one chunk).
flip_byte "$pack" $(($(stat -c %s "$pack") / 2))
expect 4 "fsck finds the flipped byte" -- efs fsck
grep -q "^problem: " "$T/out" && pass "fsck lists the problem" ||
	fail "fsck lists the problem: $(cat "$T/out")"
check_err "fsck: one line on stderr" "^estuaryfs: fsck found"
expect 0 "fsck --quick does not read blocks" -- efs fsck --quick
expect 4 "cat of the damaged file fails" -- efs cat "$root"
check_err "cat of damaged data: message" "^estuaryfs: "

finish
