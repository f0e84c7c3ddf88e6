#!/bin/bash
# test_ls.sh - `estuaryfs ls`: names in order, -l with type, size and CID,
# sub-paths, sharded directories (listing equals the plain one), files and
# errors.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/tree/sub"
printf 'hello world' >"$T/tree/hello.txt"
: >"$T/tree/empty"
seq 1 300000 >"$T/tree/sub/seq.txt"
ln -s hello.txt "$T/tree/link"
printf 'x' >"$T/tree/B"

expect 0 "add" -- efs add "$T/tree"
root=$(cat "$T/out")

# Names in UnixFS order (bytes): B before empty, directories with '/'.
expect 0 "ls" -- efs ls "$root"
printf 'B\nempty\nhello.txt\nlink\nsub/\n' >"$T/want"
check_files "ls names" "$T/out" "$T/want"

expect 0 "ls -l" -- efs ls -l "$root"
hello=bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e
grep -q "^file *11 *$hello *hello.txt$" "$T/out" && pass "ls -l file line" ||
	fail "ls -l file line: $(cat "$T/out")"
grep -q "^dir .* sub/$" "$T/out" && pass "ls -l dir line" ||
	fail "ls -l dir line: $(cat "$T/out")"
grep -q "^symlink .* link -> hello.txt$" "$T/out" && pass "ls -l symlink line" ||
	fail "ls -l symlink line: $(cat "$T/out")"
grep -q "^file *0 .* empty$" "$T/out" && pass "ls -l empty file" ||
	fail "ls -l empty file: $(cat "$T/out")"

expect 0 "ls a sub-path" -- efs ls "$root/sub"
check_eq "ls sub" "$(cat "$T/out")" "seq.txt"
expect 0 "ls a file" -- efs ls -l "$root/sub/seq.txt"
grep -q "^file *$(stat -c %s "$T/tree/sub/seq.txt") " "$T/out" &&
	pass "ls -l of a file" || fail "ls -l of a file: $(cat "$T/out")"

# A directory big enough to shard lists like any other: 1000 entries
# with 250-byte names make a 290 KB directory block (> 256 KiB).
mkdir -p "$T/parent/big"
pad=$(printf '%0240d' 0)
for i in $(seq -w 1 1000); do
	printf '%s\n' "$i" >"$T/parent/big/entry-$i-$pad"
done
expect 0 "add a sharded directory" -- efs add "$T/parent"
big=$(cat "$T/out")/big
expect 0 "ls a sharded directory" -- efs ls "$big"
(cd "$T/parent/big" && LC_ALL=C ls) >"$T/want"
check_files "sharded listing" "$T/out" "$T/want"
expect 0 "cat inside a sharded directory" -- efs cat "$big/entry-0777-$pad"
check_eq "cat inside a sharded directory: bytes" "$(cat "$T/out")" 0777
expect 0 "ls -l of the parent" -- efs ls -l "${big%/big}"
grep -q "^hamt .* big/$" "$T/out" && pass "the big directory is a HAMT" ||
	fail "the big directory is a HAMT: $(cat "$T/out")"
expect 0 "ls -l of a HAMT" -- efs ls -l "$big"
[ "$(wc -l <"$T/out")" -eq 1000 ] && pass "ls -l of a HAMT: 1000 lines" ||
	fail "ls -l of a HAMT: $(wc -l <"$T/out") lines"

expect 3 "ls a missing path" -- efs ls "$root/nope"
check_err "missing path: message" "^estuaryfs: .*nope"
expect 3 "ls an unknown CID" -- efs ls bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354
expect 2 "ls a bad CID" -- efs ls nonsense
expect 2 "ls without an argument" -- efs ls

finish
