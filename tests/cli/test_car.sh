#!/bin/bash
# test_car.sh - `estuaryfs car export` / `car import`: a tree exported from
# one repository and imported into another reads back the same; exports
# are deterministic; CARv2 holds the CARv1 unchanged; corrupt, truncated
# and missing inputs fail with the documented exit codes and leave the
# repository clean.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/tree/a/b"
seq 1 300000 >"$T/tree/a/b/seq.txt"
printf 'hello world' >"$T/tree/hello.txt"
cp "$T/tree/hello.txt" "$T/tree/a/dup.txt"
: >"$T/tree/empty"
ln -s a/b/seq.txt "$T/tree/link"

expect 0 "add" -- efs add "$T/tree"
root=$(cat "$T/out")

# Export to a file and to a pipe: the same bytes, every time.
expect 0 "export -o" -- efs car export -o "$T/x.car" "$root"
check_eq "export -o prints nothing" "$(wc -c <"$T/out")" 0
expect 0 "export > file" -- sh -c "\"$EFS\" car export $root > '$T/y.car'"
check_files "export is deterministic" "$T/x.car" "$T/y.car"
expect 0 "export | cat" -- sh -c "\"$EFS\" car export $root | cat > '$T/z.car'"
check_files "export to a pipe" "$T/x.car" "$T/z.car"
# A CARv1 header with one CIDv1 root is 59 bytes (varint 58 + 58).
check_eq "header length varint" "$(od -An -tu1 -N1 "$T/x.car" | tr -d ' ')" 58

# Import into a second repository: the root comes back, cat works.
export ESTUARYFS_HOME="$T/repo2"
expect 0 "import" -- efs car import "$T/x.car"
check_eq "import prints the root" "$(cat "$T/out")" "$root"
expect 0 "cat after import" -- efs cat "$root/a/b/seq.txt"
check_files "cat after import: bytes" "$T/out" "$T/tree/a/b/seq.txt"
expect 0 "re-export from the second repository" -- efs car export -o "$T/x2.car" "$root"
check_files "same CAR from both repositories" "$T/x.car" "$T/x2.car"
expect 0 "import again" -- efs car import "$T/x.car"
expect 0 "import from stdin" -- sh -c "\"$EFS\" car import - < '$T/x.car'"
check_eq "stdin import prints the root" "$(cat "$T/out")" "$root"
expect 0 "fsck after imports" -- efs fsck

# CARv2: pragma, 40-byte header, the CARv1 unchanged, then the index.
export ESTUARYFS_HOME="$T/repo"
expect 0 "export --v2" -- efs car export --v2 -o "$T/x.car2" "$root"
v1len=$(stat -c %s "$T/x.car")
tail -c +52 "$T/x.car2" | head -c "$v1len" >"$T/inner.car"
check_files "CARv2 holds the CARv1" "$T/inner.car" "$T/x.car"
check_eq "CARv2 pragma" "$(head -c 11 "$T/x.car2" | od -An -tx1 | tr -d ' \n')" \
	0aa16776657273696f6e02
export ESTUARYFS_HOME="$T/repo3"
expect 0 "import a CARv2" -- efs car import "$T/x.car2"
check_eq "CARv2 import prints the root" "$(cat "$T/out")" "$root"
expect 0 "cat after CARv2 import" -- efs cat "$root/hello.txt"
check_eq "cat after CARv2 import: bytes" "$(cat "$T/out")" "hello world"

# Bad input: one line on stderr, the right exit code, nothing pinned.
export ESTUARYFS_HOME="$T/repo4"
size=$(stat -c %s "$T/x.car")
cp "$T/x.car" "$T/flipped.car"
flip_byte "$T/flipped.car" $((size - 10))
expect 4 "import a corrupt CAR" -- efs car import "$T/flipped.car"
check_err "corrupt CAR: message" "^estuaryfs: "
head -c $((size - 7)) "$T/x.car" >"$T/short.car"
expect 4 "import a truncated CAR" -- efs car import "$T/short.car"
check_err "truncated CAR: message" "^estuaryfs: "
printf 'this is not a car file at all' >"$T/junk.car"
expect 4 "import junk" -- efs car import "$T/junk.car"
check_err "junk: message" "^estuaryfs: "
expect 3 "import a missing file" -- efs car import "$T/nope.car"
check_err "missing file: message" "^estuaryfs: .*nope.car"
expect 0 "fsck after failed imports" -- efs fsck
grep -q "^pins: *0$" "$T/out" && pass "failed imports pinned nothing" ||
	fail "failed imports pinned nothing: $(cat "$T/out")"

# Export errors.
export ESTUARYFS_HOME="$T/repo"
expect 3 "export an unknown CID" -- efs car export -o "$T/u.car" \
	bafybeia5pfzninqykvo3e56yh3dcyc4wqp32ssowsneyn7ixm37rxwhqfy
check_err "unknown CID: message" "^estuaryfs: "
[ -e "$T/u.car" ] && fail "failed export left a file" ||
	pass "failed export leaves no file"
expect 2 "export a bad CID" -- efs car export -o "$T/u.car" not-a-cid
check_err "bad CID: message" "^estuaryfs: .*not-a-cid"
expect 2 "export without a CID" -- efs car export
expect 2 "car without a subcommand" -- efs car
expect 2 "car frobnicate" -- efs car frobnicate
if command -v script >/dev/null 2>&1; then
	# A CAR is binary: never to a terminal.
	script -qec "\"$EFS\" car export $root" /dev/null >"$T/tty.out" 2>&1
	check_eq "export to a terminal: exit" "$?" 2
	grep -q "terminal" "$T/tty.out" && pass "export to a terminal: message" ||
		fail "export to a terminal: message: $(cat "$T/tty.out")"
fi

finish
