#!/bin/sh
# quickstart.sh - the main job, end to end, on the local devnet: build
# estuaryfs, import a sample tree and show its root CID, listing, deal CAR
# and piece CIDs; then mount the repository, copy the tree in, commit it,
# and watch the dealer take it to 6 active deals with the devnet's storage
# providers (no network is configured, so the daemon starts the devnet in
# the repository: nothing real is stored or paid).  Installs the Debian
# packages it needs first.  Without FUSE the mount part is skipped.
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
ninja -C "$build" cli/estuaryfs contrib/devnet/estuaryfs-devnet >/dev/null
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

mnt="$qs/mnt"
if [ ! -e /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
	echo "no FUSE here (/dev/fuse, fusermount3): the mount and the dealer"
	echo "part is skipped"
else
	mkdir -p "$mnt"
	"$efs" unmount "$mnt" >/dev/null 2>&1 || true
	echo "== estuaryfs mount $mnt"
	echo "   (the mount also runs the daemon: HTTP server and dealer; no"
	echo "   network in config.json, so the devnet in $ESTUARYFS_HOME/devnet)"
	"$efs" mount "$mnt"
	trap '"$efs" unmount "$mnt" >/dev/null 2>&1 || true' EXIT
	rm -rf "$mnt/sample"
	cp -R "$input" "$mnt/sample"
	echo
	echo "== estuaryfs commit $mnt/sample"
	"$efs" commit "$mnt/sample"
	echo
	echo "== estuaryfs wallet --watch   (until every commit has 6 active deals)"
	timeout 300 "$efs" wallet --watch </dev/null || {
		echo "the deals did not all become active within 5 minutes:"
		"$efs" status
		exit 1
	}
	echo
	echo "== estuaryfs status $mnt/sample"
	"$efs" status "$mnt/sample"
	echo
	echo "== estuaryfs deals $mnt/sample"
	"$efs" deals "$mnt/sample"
	echo
	deal=$("$efs" deals --json "$mnt/sample" |
		sed -n 's/.*"deal_id": *\([0-9][0-9]*\).*/\1/p' | head -n 1)
	if [ -n "$deal" ]; then
		echo "== estuaryfs deal show $deal"
		"$efs" deal show "$deal"
		echo
	fi
	echo "== estuaryfs estimate $mnt/sample"
	"$efs" estimate "$mnt/sample"
	echo
	echo "== estuaryfs miners"
	"$efs" miners
	echo
	"$efs" unmount "$mnt"
	trap - EXIT
fi
echo "repository: $ESTUARYFS_HOME"
echo "verify it:  ESTUARYFS_HOME=$ESTUARYFS_HOME $build/cli/estuaryfs fsck"
