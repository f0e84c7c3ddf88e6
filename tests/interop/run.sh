#!/bin/bash
# run.sh - the estuaryfs interop test: the same generated inputs through
# estuaryfs and through the JavaScript reference implementations
# (ipfs-unixfs-importer, @ipld/car, @web3-storage/data-segment; exact
# versions in package-lock.json), comparing
#   - root CIDs: `estuaryfs add -n` against the JS importer,
#   - CAR bytes: `estuaryfs car export` against a CAR the JS side writes in
#     depth-first pre-order (and @ipld/car reading ours, re-hashing every
#     block and checking the order; CARv2 too),
#   - CommP: `estuaryfs commp` of the CAR against data-segment,
# for both IPIP-499 profiles, with sha2-256 and blake2b-256; and the
# Filecoin golden vectors the C tests read (tests/data/filecoin/*.txt:
# addresses, message CBOR, CIDs, signed messages) regenerated with
# iso-filecoin and @zondax/filecoin-signing-tools (gen-filecoin-vectors.mjs),
# which must reproduce them byte for byte; and the FRC-0058 aggregation
# vectors (tests/data/datasegment/vectors.txt) regenerated with
# data-segment (gen-datasegment-vectors.mjs).
#
# Inputs: an empty file, one byte, chunk size -1/0/+1, link-count
# boundaries (small --chunk-size/--max-links keep them cheap), a mixed
# tree (deep nesting, unicode and odd names, symlinks, hidden files, empty
# directories, duplicate content), a directory big enough to shard.
#
# The npm packages are installed here with `npm ci` (into node_modules/,
# git-ignored) on the first run.  Without node, or when the packages
# cannot be installed (no registry), the test is skipped (exit 77).
#
# usage: ESTUARYFS_BIN=build/cli/estuaryfs tests/interop/run.sh
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
EFS=${ESTUARYFS_BIN:?ESTUARYFS_BIN must name the estuaryfs executable}

skip()
{
	echo "SKIP: $*"
	exit 77
}

command -v node >/dev/null 2>&1 ||
	skip "node is not installed: the interop test needs Node.js and npm (contrib/install-deps.sh installs them)"
command -v npm >/dev/null 2>&1 ||
	skip "npm is not installed: the interop test needs it to install the JS reference packages"

T=$(mktemp -d "${TMPDIR:-/tmp}/efs-interop.XXXXXX")
trap 'rm -rf "$T"' EXIT
export ESTUARYFS_HOME="$T/repo"

# Install the pinned packages once (lib.sh).
# shellcheck source=tests/interop/lib.sh
. "$HERE/lib.sh"
interop_install "$HERE" "$T/npm.log" ||
	skip "could not install the npm reference packages (no network or registry?)"
(cd "$HERE" && node --input-type=module \
	-e "await import('ipfs-unixfs-importer'); await import('@web3-storage/data-segment')") \
	>/dev/null 2>&1 ||
	skip "node $(node --version) cannot load the reference packages"

failures=0
checks=0

fail()
{
	echo "FAIL: $*"
	failures=$((failures + 1))
}

ok()
{
	checks=$((checks + 1))
}

ref()
{
	node "$HERE/efs-ref.mjs" "$@"
}

# ---- inputs ----

# bytes N: N deterministic bytes (no two 1 KiB blocks alike).
bytes()
{
	seq 1 400000 | head -c "$1"
}

mkdir -p "$T/files"
cd "$T/files" || exit 1
: >empty
printf x >one
for n in 1023 1024 1025 1026 2047 2048 2049; do
	bytes $n >c$n # --chunk-size 1024
done
for n in 1024 1025 4096 4097 16384 16385 20000; do
	bytes $n >l$n # --chunk-size 256 --max-links 4: W*C, W*C+1, W^2*C...
done
for n in 262143 262144 262145 1048575 1048576 1048577 2500000; do
	bytes $n >d$n # the profiles' own chunk sizes
done
FILES=$(ls)

mkdir -p "$T/tree"
cd "$T/tree" || exit 1
: >empty.txt
printf x >one.txt
printf 'hello world' >hello.txt
bytes 2500000 >multi.bin
cp hello.txt same-as-hello.txt
mkdir -p empty-dir sub/inner
bytes 5000 >sub/a.txt
bytes 70000 >sub/inner/b.txt
deep=deep
for i in $(seq 1 40); do deep="$deep/d$i"; done
mkdir -p "$deep"
printf 'bottom\n' >"$deep/bottom.txt"
for name in 'café.txt' '日本語のファイル' '🚀 rocket' $'A\xcc\x8angstro\xcc\x88m' \
	'Ångström' 'with space' '-dash' 'semi;colon' "quote'\"" 'back\slash' \
	$'tab\tname' $'new\nline' '#hash%pct&amp' '*star?' '[brackets]' \
	'a' 'A' 'aa' 'a.' 'z'; do
	printf '%s\n' "$name" >"$name"
done
ln -s one.txt link-rel
ln -s /etc/hostname link-abs
ln -s does/not/exist link-dangling
ln -s sub link-dir
printf 'hidden\n' >.hidden
mkdir .hidden-dir
printf 'in hidden dir\n' >.hidden-dir/file

# Big enough to shard in both profiles: 1000 entries with 250-byte names
# (v1: ~295-byte links, 295 KB > 256 KiB; v0: name + CID = 284 bytes,
# 284000 > 262144).  Long names keep the file count, and the time to
# create the files, down.
mkdir -p "$T/shard"
cd "$T/shard" || exit 1
pad=$(printf '%0240d' 0)
for i in $(seq -w 1 1000); do
	printf '%s\n' "$i" >"file-$i-$pad"
done
cd "$T" || exit 1

# ---- comparisons ----

# cids DESC ARGS PATH...: root CIDs of each PATH, ours against JS's.
cids()
{
	local desc=$1 args=$2 paths i p ours theirs
	shift 2
	# shellcheck disable=SC2086
	ref import $args "$@" >"$T/js.cids" 2>"$T/js.err" || {
		fail "$desc: JS importer failed: $(head -3 "$T/js.err")"
		return
	}
	: >"$T/efs.cids"
	for p in "$@"; do
		# shellcheck disable=SC2086
		"$EFS" add -n -q $args "$p" >>"$T/efs.cids" 2>"$T/efs.err" ||
			echo "error: $(cat "$T/efs.err")" >>"$T/efs.cids"
	done
	paths=("$@")
	i=0
	while IFS= read -r ours <&3 && IFS= read -r theirs <&4; do
		p=${paths[$i]}
		i=$((i + 1))
		if [ "$ours" = "$theirs" ]; then
			ok
		else
			fail "$desc: $(basename "$p"): estuaryfs $ours, JS $theirs"
		fi
	done 3<"$T/efs.cids" 4<"$T/js.cids"
	[ "$i" -eq $# ] || fail "$desc: compared $i of $# inputs"
}

# car DESC ARGS PATH: add into the repository, export the CAR and compare
# its bytes with the CAR the JS side writes; import the JS CAR into an
# empty repository and export it again; the CARv1 and CARv2 are kept for
# check_cars.
ncars=0
car()
{
	local desc=$1 args=$2 path=$3 root jsroot
	# shellcheck disable=SC2086
	root=$("$EFS" add -q $args "$path" 2>"$T/efs.err") || {
		fail "$desc: add: $(cat "$T/efs.err")"
		return
	}
	# shellcheck disable=SC2086
	jsroot=$(ref import $args --car "$T/js.car" "$path" 2>"$T/js.err") || {
		fail "$desc: JS importer failed: $(head -3 "$T/js.err")"
		return
	}
	[ "$root" = "$jsroot" ] && ok ||
		fail "$desc: root estuaryfs $root, JS $jsroot"
	ncars=$((ncars + 1))
	mkdir -p "$T/cars"
	printf '%s\n' "$desc" >"$T/cars/$ncars.desc"
	printf '%s\n' "$root" >"$T/cars/$ncars.root"
	"$EFS" car export -o "$T/cars/$ncars.car" "$root" 2>"$T/efs.err" ||
		fail "$desc: car export: $(cat "$T/efs.err")"
	"$EFS" car export --v2 -o "$T/cars/$ncars.car2" "$root" 2>"$T/efs.err" ||
		fail "$desc: car export --v2: $(cat "$T/efs.err")"
	cmp -s "$T/cars/$ncars.car" "$T/js.car" && ok ||
		fail "$desc: CAR bytes differ ($(stat -c %s "$T/cars/$ncars.car") vs $(stat -c %s "$T/js.car") bytes)"
	# The JS CAR imported into an empty repository exports the same.
	rm -rf "$T/repo-import"
	jsroot=$(ESTUARYFS_HOME=$T/repo-import "$EFS" car import -q "$T/js.car" \
		2>"$T/efs.err") && [ "$jsroot" = "$root" ] && ok ||
		fail "$desc: car import of the JS CAR: '$jsroot' $(cat "$T/efs.err")"
	ESTUARYFS_HOME=$T/repo-import "$EFS" car export -o "$T/re.car" "$root" \
		2>"$T/efs.err" && cmp -s "$T/re.car" "$T/js.car" && ok ||
		fail "$desc: JS CAR imported and exported again differs $(cat "$T/efs.err")"
}

# check_cars: every CAR car() kept, read by @ipld/car (blocks re-hashed,
# DFS order) as CARv1 and CARv2, and its CommP by data-segment against
# `estuaryfs commp`.  One node process for all.
check_cars()
{
	local i args=() files=() verdict ours theirs
	for i in $(seq 1 $ncars); do
		args+=("$T/cars/$i.car" "$(cat "$T/cars/$i.root")")
		args+=("$T/cars/$i.car2" "$(cat "$T/cars/$i.root")")
		files+=("$T/cars/$i.car")
	done
	ref check-car "${args[@]}" >"$T/check.out" 2>&1 ||
		fail "check-car failed: $(head -3 "$T/check.out")"
	ref commp "${files[@]}" >"$T/commp.out" 2>&1 ||
		fail "JS commp failed: $(head -3 "$T/commp.out")"
	for i in $(seq 1 $ncars); do
		for v in 1 2; do
			verdict=$(sed -n "$((2 * i - 2 + v))p" "$T/check.out")
			case $verdict in
			ok*) ok ;;
			*) fail "$(cat "$T/cars/$i.desc"): @ipld/car on our CARv$v: $verdict" ;;
			esac
		done
		ours=$("$EFS" commp "$T/cars/$i.car" |
			awk '/^piece_cid_v[12]:/ { printf "%s ", $2 }')
		theirs=$(sed -n "${i}p" "$T/commp.out" |
			awk '{ printf "%s %s ", $1, $2 }')
		[ "$ours" = "$theirs" ] && ok ||
			fail "$(cat "$T/cars/$i.desc"): CommP estuaryfs '$ours', data-segment '$theirs'"
	done
}

# filecoin_vectors: the committed Filecoin vectors are what the pinned JS
# references make of the same seeded inputs (the C unit tests check our
# side against the same files).
filecoin_vectors()
{
	local f
	for f in messages addresses; do
		node "$HERE/gen-filecoin-vectors.mjs" "$f" >"$T/fil-$f.txt" \
			2>"$T/fil.err" || {
			fail "filecoin $f: generator failed: $(head -3 "$T/fil.err")"
			continue
		}
		cmp -s "$T/fil-$f.txt" "$HERE/../data/filecoin/$f.txt" && ok ||
			fail "filecoin $f: the JS references disagree with tests/data/filecoin/$f.txt"
	done
}

# datasegment_vectors: the committed aggregation vectors are what
# data-segment's Aggregate builder and Inclusion proofs make of the same
# seeded sub-pieces.
datasegment_vectors()
{
	node "$HERE/gen-datasegment-vectors.mjs" >"$T/datasegment.txt" \
		2>"$T/ds.err" || {
		fail "datasegment: generator failed: $(head -3 "$T/ds.err")"
		return
	}
	cmp -s "$T/datasegment.txt" "$HERE/../data/datasegment/vectors.txt" && ok ||
		fail "datasegment: data-segment disagrees with tests/data/datasegment/vectors.txt"
}

PROFILES=(
	"--profile unixfs-v1-2025"
	"--profile unixfs-v0-2015"
	"--profile unixfs-v1-2025 --hash blake2b-256"
	"--profile unixfs-v0-2015 --hash blake2b-256"
)

start=$(date +%s)
cd "$T/files" || exit 1
for prof in "${PROFILES[@]}"; do
	# shellcheck disable=SC2086
	cids "files [$prof]" "$prof" $FILES
	# shellcheck disable=SC2086
	cids "files [$prof --chunk-size 1024]" "$prof --chunk-size 1024" c* empty one
	# shellcheck disable=SC2086
	cids "files [$prof --chunk-size 256 --max-links 4]" \
		"$prof --chunk-size 256 --max-links 4" l* empty one
	cids "leaves [$prof --raw-leaves --cid-version 1]" \
		"$prof --raw-leaves --cid-version 1 --chunk-size 256 --max-links 4" \
		l4097 one
	cids "leaves [$prof --no-raw-leaves]" \
		"$prof --no-raw-leaves --chunk-size 256 --max-links 4" l4097 one
	cids "tree [$prof]" "$prof" "$T/tree" "$T/tree/deep" "$T/tree/link-rel"
	cids "tree [$prof --no-hidden]" "$prof --no-hidden" "$T/tree"
	cids "tree [$prof --chunk-size 1000 --max-links 3]" \
		"$prof --chunk-size 1000 --max-links 3" "$T/tree"
	car "car tree [$prof]" "$prof" "$T/tree"
	car "car small chunks [$prof]" "$prof --chunk-size 256 --max-links 4" \
		"$T/files/l20000"
done
cids "tree [--preserve-mode --preserve-mtime]" \
	"--preserve-mode --preserve-mtime" "$T/tree"
cids "shard [v1]" "--profile unixfs-v1-2025" "$T/shard"
cids "shard [v0]" "--profile unixfs-v0-2015" "$T/shard"
cids "shard [blake2b]" "--hash blake2b-256" "$T/shard"
car "car shard [v1]" "--profile unixfs-v1-2025" "$T/shard"
car "car shard [v0]" "--profile unixfs-v0-2015" "$T/shard"
check_cars
filecoin_vectors
datasegment_vectors

echo "interop: $checks checks passed, $failures failed ($(($(date +%s) - start)) s)"
[ "$failures" -eq 0 ]
