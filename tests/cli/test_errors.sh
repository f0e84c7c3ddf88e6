#!/bin/bash
# test_errors.sh - the command line itself: help and version, usage errors
# (exit 2), not found (3), one clear line "estuaryfs: ..." on stderr for
# every failure, and an unusable repository.
. "$(dirname "$0")/lib.sh"

expect 0 "--help" -- efs --help
grep -q "^usage: estuaryfs" "$T/out" && pass "--help text" || fail "--help text"
grep -q "exit codes" "$T/out" && pass "--help lists exit codes" ||
	fail "--help lists exit codes"
expect 0 "--version" -- efs --version
grep -q "^estuaryfs [0-9]" "$T/out" && pass "--version text" || fail "--version text"
expect 0 "help" -- efs help
for cmd in add cat ls car commp fsck; do
	expect 0 "help $cmd" -- efs help $cmd
	cp "$T/out" "$T/help1"
	grep -q "^usage: estuaryfs $cmd" "$T/help1" && pass "help $cmd: text" ||
		fail "help $cmd: text"
	expect 0 "$cmd --help" -- efs $cmd --help
	check_files "$cmd --help = help $cmd" "$T/out" "$T/help1"
done
expect 0 "car export --help" -- efs car export --help

expect 2 "no command" -- efs
expect 2 "unknown command" -- efs frobnicate
check_err "unknown command: message" "^estuaryfs: no command 'frobnicate'"
expect 2 "help for an unknown command" -- efs help frobnicate
expect 2 "unknown global option" -- efs --frobnicate
check_err "unknown global option: message" "^estuaryfs: unknown option --frobnicate"
expect 2 "unknown add option" -- efs add --frobnicate "$T"
check_err "unknown option: message" "^estuaryfs: add: unknown option --frobnicate"
expect 2 "unknown short option" -- efs commp -z "$T"
check_err "unknown short option: message" "^estuaryfs: commp: unknown option -z"
expect 2 "option without its value" -- efs add --profile
check_err "option without its value: message" "^estuaryfs: add: option --profile needs a value"
expect 2 "add without PATH" -- efs add
check_err "add without PATH: message" "^estuaryfs: add: expected one PATH"
expect 2 "add --profile bogus" -- efs add -n --profile bogus "$T"
check_err "bad profile: message" "^estuaryfs: .*bogus"
expect 2 "add --hash md5" -- efs add -n --hash md5 "$T"
check_err "bad hash: message" "^estuaryfs: .*md5"
expect 2 "add --chunk-size 0" -- efs add -n --chunk-size 0 "$T"
expect 2 "add --chunk-size 3MiB" -- efs add -n --chunk-size 3MiB "$T"
expect 2 "add --chunk-size junk" -- efs add -n --chunk-size 12parsecs "$T"
check_err "bad chunk size: message" "^estuaryfs: .*12parsecs"
expect 2 "add --max-links 1" -- efs add -n --max-links 1 "$T"
expect 2 "add --cid-version 2" -- efs add -n --cid-version 2 "$T"
expect 3 "add a missing file" -- efs add "$T/does-not-exist"
check_err "missing file: message" "^estuaryfs: .*does-not-exist"
expect 3 "add -n a missing file" -- efs add -n "$T/does-not-exist"

expect 2 "cat a bad CID" -- efs cat not-a-cid
check_err "bad CID: message" "^estuaryfs: .*not-a-cid"
expect 2 "cat an empty argument" -- efs cat ""
expect 3 "cat a CID not in the repository" -- \
	efs cat bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e
check_err "unknown CID: message" "^estuaryfs: "
expect 2 "cat without CID" -- efs cat
expect 2 "cat two CIDs" -- efs cat a b
expect 2 "cat --length junk" -- efs cat --length x \
	bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e

# Output that cannot be written: disk full is exit 5, one line.
if [ -w /dev/full ]; then
	printf 'hello world' >"$T/hello"
	efs add -q "$T/hello" >/dev/null
	expect 5 "cat to a full disk" -- sh -c "\"$EFS\" cat \
		bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e >/dev/full"
	check_err "cat to a full disk: message" "^estuaryfs: .*space"
	expect 5 "commp to a full disk" -- sh -c "\"$EFS\" commp '$T/hello' >/dev/full"
	check_err "commp to a full disk: message" "^estuaryfs: "
fi

# An unusable repository: a file where the directory should be.
: >"$T/not-a-dir"
ESTUARYFS_HOME="$T/not-a-dir" expect 2 "repository is a file" -- efs fsck
check_err "repository is a file: message" "^estuaryfs: .*not-a-dir"
ESTUARYFS_HOME="$T/not-a-dir/sub" expect 5 "repository under a file" -- efs fsck
check_err "repository under a file: message" "^estuaryfs: "

# The repository is created on first use, private.
ESTUARYFS_HOME="$T/new/nested/repo" expect 0 "first use creates the repository" -- efs fsck
check_eq "repository mode" "$(stat -c %a "$T/new/nested/repo")" 700

finish
