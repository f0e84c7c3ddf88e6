#!/bin/bash
# verified_fetch.sh - a real IPFS client against the daemon's gateway:
# @helia/verified-fetch (exact version in package-lock.json) fetches, from
# a running `estuaryfs daemon` and from nothing else, a file by CID, files
# by CID/path inside a directory and inside a HAMT-sharded directory, and
# byte ranges; it asks the gateway for raw blocks (GET /ipfs/{cid}
# ?format=raw, Accept application/vnd.ipld.raw) and verifies each against
# its CID.  The bytes must be the ones added.  The gateway's CARs
# (?format=car) are checked with @ipld/car: every block re-hashed, the
# DAG in depth-first pre-order (efs-ref.mjs check-car).
#
# Why 2.0.1: later releases build a libp2p Helia (@libp2p/webrtc, whose
# node-datachannel install script downloads a binary from GitHub) or need
# Node >= 22; 2.0.1 builds an HTTP-only Helia (@helia/http).  package.json
# overrides mortice (a lock library under @helia/utils) to 3.0.6: the
# 3.3 line it would otherwise resolve to calls Promise.withResolvers,
# which Node 20 lacks; the API is the same.
#
# The npm packages are installed with `npm ci` (into node_modules/,
# git-ignored) on the first run, as run.sh does.  Without node, or when
# the packages cannot be installed (no registry), the test is skipped
# (exit 77).
#
# usage: ESTUARYFS_BIN=build/cli/estuaryfs tests/interop/verified_fetch.sh
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
EFS=${ESTUARYFS_BIN:?ESTUARYFS_BIN must name the estuaryfs executable}

skip()
{
	echo "SKIP: $*"
	exit 77
}

fail()
{
	echo "FAIL: $*"
	exit 1
}

command -v node >/dev/null 2>&1 ||
	skip "node is not installed: the interop test needs Node.js and npm (contrib/install-deps.sh installs them)"
command -v npm >/dev/null 2>&1 ||
	skip "npm is not installed: the interop test needs it to install the JS packages"

T=$(mktemp -d "${TMPDIR:-/tmp}/efs-vfetch.XXXXXX")
DPID=
cleanup()
{
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
		kill -INT "$DPID"
		wait "$DPID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
export ESTUARYFS_HOME="$T/repo"

# The same install step as run.sh (lib.sh).
# shellcheck source=tests/interop/lib.sh
. "$HERE/lib.sh"
interop_install "$HERE" "$T/npm.log" ||
	skip "could not install the npm packages (no network or registry?)"
# The packages (e.g. @noble/curves 2) need Node 20; on Node 20 and later
# a load failure is a failure, not a skip.
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] ||
	skip "node $(node --version) is too old for @helia/verified-fetch (needs 20)"
(cd "$HERE" && node --input-type=module \
	-e "await import('@helia/verified-fetch')") >"$T/load.err" 2>&1 ||
	fail "node $(node --version) cannot load @helia/verified-fetch:" \
		"$(tail -3 "$T/load.err")"

# A tree: a file of several blocks, a directory with a file in it, a
# directory big enough to shard (as in run.sh: 1000 entries with
# 250-byte names, ~295 KB of links > 256 KiB).
mkdir -p "$T/tree/sub dir" "$T/tree/shard" "$ESTUARYFS_HOME"
head -c 3000000 /dev/urandom >"$T/tree/big.bin"
printf 'hello from estuaryfs\n' >"$T/tree/sub dir/hello.txt"
pad=$(printf '%0240d' 0)
for i in $(seq -w 1 1000); do
	printf '%s\n' "$i" >"$T/tree/shard/file-$i-$pad"
done
echo '{"dealer":{"enabled":false},"http":{"listen":"127.0.0.1:0"}}' \
	>"$ESTUARYFS_HOME/config.json"
add()
{
	"$EFS" add -q --chunk-size 262144 "$1" 2>"$T/add.err"
}
ROOT=$(add "$T/tree") || fail "estuaryfs add: $(cat "$T/add.err")"
FILE=$(add "$T/tree/big.bin") || fail "estuaryfs add: $(cat "$T/add.err")"
SHARD=$(add "$T/tree/shard") || fail "estuaryfs add: $(cat "$T/add.err")"

"$EFS" daemon -f >"$T/daemon.out" 2>"$T/daemon.log" &
DPID=$!
for ((i = 0; i < 200; i++)); do
	[ -s "$ESTUARYFS_HOME/api.url" ] && break
	kill -0 "$DPID" 2>/dev/null || break
	sleep 0.1
done
[ -s "$ESTUARYFS_HOME/api.url" ] ||
	fail "the daemon did not come up: $(tail -3 "$T/daemon.log")"
URL=$(cat "$ESTUARYFS_HOME/api.url")

# want FILE [A B]: "<sha256> <size>" of FILE, or of its bytes A..B.
want()
{
	if [ $# -eq 3 ]; then
		tail -c +$(($2 + 1)) "$1" | head -c $(($3 - $2 + 1)) >"$T/part"
		set -- "$T/part"
	fi
	echo "$(sha256sum <"$1" | cut -d' ' -f1) $(stat -c %s "$1")"
}

name="file-0500-$pad"
(cd "$HERE" && node verified_fetch.mjs "$URL" \
	"get:ipfs://$FILE" \
	"get:ipfs://$ROOT/sub%20dir/hello.txt" \
	"get:ipfs://$ROOT/big.bin" \
	"hamt:$SHARD" \
	"get:ipfs://$SHARD/$name" \
	"get:ipfs://$ROOT/shard/file-0999-$pad" \
	"range:0-299999:ipfs://$FILE" \
	"range:2000000-:ipfs://$ROOT/big.bin" \
	"range:-1000:ipfs://$ROOT/big.bin") \
	>"$T/got" 2>"$T/node.err" ||
	fail "verified-fetch: $(grep -v Warning "$T/node.err" | tail -5)"
{
	want "$T/tree/big.bin"
	want "$T/tree/sub dir/hello.txt"
	want "$T/tree/big.bin"
	echo "hamt $SHARD"
	want "$T/tree/shard/$name"
	want "$T/tree/shard/file-0999-$pad"
	want "$T/tree/big.bin" 0 299999
	want "$T/tree/big.bin" 2000000 2999999
	want "$T/tree/big.bin" 2999000 2999999
} >"$T/want"
if ! cmp -s "$T/want" "$T/got"; then
	echo "want:"; cat "$T/want"
	echo "got:"; cat "$T/got"
	fail "the bytes verified-fetch got differ from the files added"
fi

# The gateway's CARs, read by @ipld/car, and its own Range answers
# (verified-fetch cuts ranges itself from the verified blocks).
if command -v curl >/dev/null 2>&1; then
	code=$(curl -s -o "$T/range" -w '%{http_code}' -r 200000-600000 \
		"$URL/ipfs/$ROOT/big.bin")
	if [ "$code" != 206 ] || [ "$(want "$T/range")" != \
		"$(want "$T/tree/big.bin" 200000 600000)" ]; then
		fail "GET /ipfs/$ROOT/big.bin, Range bytes=200000-600000:" \
			"HTTP $code, not the bytes"
	fi
	for c in "$FILE" "$ROOT" "$SHARD"; do
		code=$(curl -s -o "$T/$c.car" -w '%{http_code}' \
			-H 'Accept: application/vnd.ipld.car' "$URL/ipfs/$c")
		[ "$code" = 200 ] || fail "GET /ipfs/$c as a CAR: HTTP $code"
		v=$(cd "$HERE" && node efs-ref.mjs check-car "$T/$c.car" "$c" 2>&1)
		case $v in
		ok*) ;;
		*) fail "the gateway's CAR of $c: $v" ;;
		esac
	done
fi
echo "ok: @helia/verified-fetch fetched files by CID, by path (plain and" \
	"HAMT directories) and byte ranges from the gateway ($URL) alone," \
	"every block verified; its CARs read by @ipld/car"
exit 0
