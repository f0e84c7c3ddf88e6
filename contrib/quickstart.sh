#!/bin/sh
# quickstart.sh - the main job, end to end, until the mount exists: build
# estuaryfs, import a sample tree into a repository, and show its root
# CID, its listing, the deal CAR and the CAR's piece CIDs.  Installs the
# Debian packages it needs first.
#
#   contrib/quickstart.sh             sample tree, repository and CAR in
#                                     build/quickstart/ (kept to look at)
#   contrib/quickstart.sh DIR         import DIR instead of the sample
#
# The repository is build/quickstart/repo unless ESTUARYFS_HOME is set.
set -eu

cd "$(dirname "$0")/.."
root_dir=$(pwd)
contrib/install-deps.sh

build=${EFS_BUILD:-build}
if [ ! -f "$build/meson-private/coredata.dat" ]; then
	meson setup "$build" >/dev/null
fi
ninja -C "$build" cli/estuaryfs >/dev/null
efs="$root_dir/$build/cli/estuaryfs"

qs="$root_dir/$build/quickstart"
mkdir -p "$qs"
export ESTUARYFS_HOME="${ESTUARYFS_HOME:-$qs/repo}"

if [ $# -ge 1 ]; then
	input=$1
else
	# A small tree with the usual things in it: text, a multi-chunk
	# file, nesting, a non-ASCII name, an empty file and a symlink.
	input="$qs/sample"
	rm -rf "$input"
	mkdir -p "$input/docs/notes" "$input/data"
	printf 'hello world' >"$input/hello.txt"
	printf '# estuaryfs sample\n\nFiles become IPFS DAGs.\n' \
		>"$input/docs/README.md"
	printf 'caf\303\251 au lait\n' >"$input/docs/notes/caf\303\251.txt"
	seq 1 500000 >"$input/data/numbers.txt"
	: >"$input/data/empty"
	ln -s ../hello.txt "$input/docs/hello-link"
fi

echo "== estuaryfs add $input"
cid=$("$efs" add "$input")
echo "root CID:  $cid"
echo
echo "== estuaryfs ls -l $cid"
"$efs" ls -l "$cid"
echo
car="$qs/sample.car"
echo "== estuaryfs car export $cid -o $car"
"$efs" car export -o "$car" "$cid"
echo "CAR:       $car ($(wc -c <"$car") bytes, CARv1, blocks in depth-first order)"
echo
echo "== estuaryfs commp $car"
"$efs" commp "$car"
echo
echo "repository: $ESTUARYFS_HOME"
echo "verify it:  ESTUARYFS_HOME=$ESTUARYFS_HOME $build/cli/estuaryfs fsck"
