#!/bin/bash
# test_add_cat.sh - `estuaryfs add` then `estuaryfs cat`: known CIDs, round
# trips of files and trees, both profiles and blake2b-256, stdin, paths
# inside a DAG, byte ranges, --only-hash storing nothing.
#
# Expected CIDs: "hello world" and the empty file/directory are the
# IPIP-499 / UnixFS spec vectors (ipfs-formats.md §4, §5, §7); the
# `seq 1 200000` ones were computed with ipfs-unixfs-importer 17.1.1
# (the JS reference, which reproduces kubo's vectors).
. "$(dirname "$0")/lib.sh"

# add_is DESC WANT ARGS... : `add` prints WANT, `add -n` too.
add_is()
{
	local desc=$1 want=$2
	shift 2
	expect 0 "$desc: add -n" -- efs add -n "$@" &&
		check_eq "$desc: add -n cid" "$(cat "$T/out")" "$want"
	expect 0 "$desc: add" -- efs add "$@" &&
		check_eq "$desc: add cid" "$(cat "$T/out")" "$want"
}

# cat_is DESC CID FILE: `cat CID` gives FILE's bytes.
cat_is()
{
	if efs cat "$2" >"$T/cat.out" 2>"$T/err"; then
		check_files "$1" "$T/cat.out" "$3"
	else
		fail "$1: cat $2: $(cat "$T/err")"
	fi
}

printf 'hello world' >"$T/hello"
: >"$T/empty"
mkdir "$T/emptydir"
seq 1 200000 >"$T/seq"

# "hello world": one chunk; both profiles, blake2b-256.
add_is "hello v1" bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e "$T/hello"
cat_is "hello v1: cat" bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e "$T/hello"
add_is "hello v0" Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD --profile unixfs-v0-2015 "$T/hello"
cat_is "hello v0: cat" Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD "$T/hello"
add_is "hello blake2b" bafk2bzaceaswza5ss4iu2ia3galz6pyo6dfm5f4dmiw2lf2de22dmf4k533ba --hash blake2b-256 "$T/hello"
cat_is "hello blake2b: cat" bafk2bzaceaswza5ss4iu2ia3galz6pyo6dfm5f4dmiw2lf2de22dmf4k533ba "$T/hello"

# Empty file and directory.
add_is "empty file v1" bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku "$T/empty"
cat_is "empty file v1: cat" bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku "$T/empty"
add_is "empty file v0" QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH --profile unixfs-v0-2015 "$T/empty"
cat_is "empty file v0: cat" QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH "$T/empty"
add_is "empty dir v1" bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354 "$T/emptydir"
add_is "empty dir v0" QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn --profile unixfs-v0-2015 "$T/emptydir"

# A 1.3 MB file: several chunks, one or two tree levels.
add_is "seq v1" bafybeia5pfzninqykvo3e56yh3dcyc4wqp32ssowsneyn7ixm37rxwhqfy "$T/seq"
cat_is "seq v1: cat" bafybeia5pfzninqykvo3e56yh3dcyc4wqp32ssowsneyn7ixm37rxwhqfy "$T/seq"
add_is "seq v0" QmNx9frVshtUjEKhcgTiPh3RzQpsfRGLDhmxooMv4saCAW --profile unixfs-v0-2015 "$T/seq"
cat_is "seq v0: cat" QmNx9frVshtUjEKhcgTiPh3RzQpsfRGLDhmxooMv4saCAW "$T/seq"
add_is "seq blake2b" bafykbzacedakogjn4xadn66gyjyuta34pwfirqggte6imdqokyj64q6d62kkm --hash blake2b-256 "$T/seq"
# Trickle layout (kubo --trickle); CIDs from the JS importer with
# layout: trickle, which agrees with kubo for files of more than one chunk.
add_is "seq trickle v0" QmRYU8YkvEmXNYXEBVN58erR73xiSRrnc6XKaBwULM8mci --profile unixfs-v0-2015 --trickle "$T/seq"
add_is "seq trickle 4 KiB" QmfGRGZXvwc7sp4wgnavExJkLS5rTadujvwzWgBLqhVdfD --profile unixfs-v0-2015 --trickle --chunk-size 4096 "$T/seq"
cat_is "seq trickle 4 KiB: cat" QmfGRGZXvwc7sp4wgnavExJkLS5rTadujvwzWgBLqhVdfD "$T/seq"
cat_is "seq blake2b: cat" bafykbzacedakogjn4xadn66gyjyuta34pwfirqggte6imdqokyj64q6d62kkm "$T/seq"
add_is "seq small chunks" bafybeia6cuv3lotyymiw7tuzrnkzcbcp3nc6kfgendg6zljhtxhwom75ke --chunk-size 1000 --max-links 3 "$T/seq"
cat_is "seq small chunks: cat" bafybeia6cuv3lotyymiw7tuzrnkzcbcp3nc6kfgendg6zljhtxhwom75ke "$T/seq"
# Sizes with a suffix mean the same.
add_is "--chunk-size 1MiB" bafybeia5pfzninqykvo3e56yh3dcyc4wqp32ssowsneyn7ixm37rxwhqfy --chunk-size 1MiB "$T/seq"

# A CIDv0 root is also found by its CIDv1 (same multihash).
cat_is "v0 root by its v1 cid" bafybeiajdajsnwvxvqgtczwtnlrtqctc3aj6lq7mux6gobj6lr5ut6ntdm "$T/seq"

# stdin is one file.
expect 0 "add - (stdin)" -- sh -c "seq 1 200000 | \"$EFS\" add -"
check_eq "add -: cid" "$(cat "$T/out")" bafybeia5pfzninqykvo3e56yh3dcyc4wqp32ssowsneyn7ixm37rxwhqfy

# Byte ranges.
expect 0 "cat --offset --length" -- efs cat --offset 1000000 --length 50000 \
	bafybeia5pfzninqykvo3e56yh3dcyc4wqp32ssowsneyn7ixm37rxwhqfy
tail -c +1000001 "$T/seq" | head -c 50000 >"$T/range"
check_files "cat range bytes" "$T/out" "$T/range"
expect 0 "cat --offset past a chunk end" -- efs cat --offset 1048570 \
	bafybeia5pfzninqykvo3e56yh3dcyc4wqp32ssowsneyn7ixm37rxwhqfy
tail -c +1048571 "$T/seq" >"$T/range"
check_files "cat tail bytes" "$T/out" "$T/range"
expect 0 "cat --offset past the end" -- efs cat --offset 99999999 \
	bafybeia5pfzninqykvo3e56yh3dcyc4wqp32ssowsneyn7ixm37rxwhqfy
check_eq "cat past the end is empty" "$(wc -c <"$T/out")" 0

# A tree: cat by path, in both profiles.
mkdir -p "$T/tree/sub/deeper" "$T/tree/.hidden"
cp "$T/seq" "$T/tree/sub/deeper/seq.txt"
printf 'hello world' >"$T/tree/hello.txt"
printf 'shh' >"$T/tree/.hidden/secret"
printf 'caf\xc3\xa9' >"$T/tree/café ☕.txt"
ln -s sub/deeper/seq.txt "$T/tree/link"
for prof in unixfs-v1-2025 unixfs-v0-2015; do
	expect 0 "tree $prof: add" -- efs add --profile $prof "$T/tree" || continue
	root=$(cat "$T/out")
	cat_is "tree $prof: cat hello" "$root/hello.txt" "$T/tree/hello.txt"
	cat_is "tree $prof: cat nested" "$root/sub/deeper/seq.txt" "$T/seq"
	cat_is "tree $prof: cat /ipfs/ path" "/ipfs/$root/sub/deeper/seq.txt" "$T/seq"
	cat_is "tree $prof: cat unicode" "$root/café ☕.txt" "$T/tree/café ☕.txt"
	cat_is "tree $prof: cat hidden" "$root/.hidden/secret" "$T/tree/.hidden/secret"
	expect 2 "tree $prof: cat a directory" -- efs cat "$root/sub"
	check_err "tree $prof: cat a directory: message" "^estuaryfs: .*director"
	expect 3 "tree $prof: cat a missing path" -- efs cat "$root/sub/nope"
	check_err "tree $prof: missing path: message" "^estuaryfs: .*nope"
done
expect 0 "tree --no-hidden" -- efs add -n --no-hidden "$T/tree"
nohidden=$(cat "$T/out")
[ "$nohidden" != "$root" ] && pass "--no-hidden changes the root" ||
	fail "--no-hidden changes the root"

# --only-hash stores nothing: a fresh repository cannot cat the result.
ESTUARYFS_HOME="$T/repo-n" expect 0 "only-hash: add -n" -- efs add -n "$T/seq"
ESTUARYFS_HOME="$T/repo-n" expect 3 "only-hash: nothing stored" -- \
	efs cat bafybeia5pfzninqykvo3e56yh3dcyc4wqp32ssowsneyn7ixm37rxwhqfy
check_err "only-hash: message" "^estuaryfs: "

# Metadata options change the CID and still round-trip.
expect 0 "--preserve-mode --preserve-mtime" -- \
	efs add --preserve-mode --preserve-mtime "$T/tree"
meta=$(cat "$T/out")
[ "$meta" != "$root" ] && pass "metadata changes the root" ||
	fail "metadata changes the root"
cat_is "metadata tree: cat" "$meta/sub/deeper/seq.txt" "$T/seq"

# Adding twice keeps one pin and the repository clean.
expect 0 "add again" -- efs add "$T/seq"
expect 0 "fsck after adds" -- efs fsck

finish
