#!/bin/bash
# test_pins.sh - the Pinning Service API in a mount: a tree written into
# the mount and committed is pinned by CID with POST /pins (the daemon's
# api.token); the pins worker grafts it at /pins/<name>, where ls shows
# the tree and the files' bytes match, and commits /pins (estuaryfs
# status lists it); a second pin of the same name lands beside it with
# the requestid added.  The blocks are local here (no devnet: the
# retrieval of evicted blocks is test_evict.sh's).
# Exits 77 (SKIP) when FUSE cannot be used here.
. "$(dirname "$0")/lib.sh"

fs_require
fs_start

mkdir -p "$M/src/sub dir"
head -c 3000000 /dev/urandom >"$M/src/big.bin"
printf 'hello\n' >"$M/src/sub dir/hello.txt"
ln -s "../big.bin" "$M/src/sub dir/link"
expect 0 "commit src" -- efs commit "$M/src"
CID=$(python3 -c 'import os,sys; print(os.getxattr(sys.argv[1],
	"user.estuary.cid").decode())' "$M/src")
[ -n "$CID" ] || fail "no CID of src"

URL=$(cat "$ESTUARYFS_HOME/api.url")
TOK=$(cat "$ESTUARYFS_HOME/api.token")

# POST /pins $1 (name): the requestid
pin()
{
	curl -sf -H "Authorization: Bearer $TOK" \
		-H 'Content-Type: application/json' \
		-d "{\"cid\":\"$CID\",\"name\":\"$1\"}" "$URL/pins" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["requestid"])'
}

# GET /pins/$1 until pinned; its info.path
pinned_path()
{
	local i
	for ((i = 0; i < 200; i++)); do
		curl -sf -H "Authorization: Bearer $TOK" "$URL/pins/$1" \
			>"$T/status.json" || return 1
		if python3 - "$T/status.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
if s["status"] == "pinned":
    print(s["info"].get("path", "NOPATH " + s["info"].get("fs_error", "")))
    sys.exit(0)
sys.exit(1)
PY
		then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# the kernel now holds a negative entry for /pins (for 1 s): the graft
# must make it forget it
[ ! -e "$M/pins" ] || fail "/pins before any pin"
RID=$(pin "my photos")
P=$(pinned_path "$RID")
check_eq "pinned at /pins/my photos" "$P" "/pins/my photos"
check_eq "ls shows the tree" "$(ls "$M/pins/my photos" | tr '\n' ,)" \
	"big.bin,sub dir,"
cmp -s "$M/src/big.bin" "$M/pins/my photos/big.bin" &&
	pass "big.bin's bytes match" || fail "big.bin differs"
check_eq "hello" "$(cat "$M/pins/my photos/sub dir/hello.txt")" hello
check_eq "symlink" "$(readlink "$M/pins/my photos/sub dir/link")" ../big.bin
check_eq "same CID" "$(python3 -c 'import os,sys; print(os.getxattr(
	sys.argv[1], "user.estuary.cid").decode())' "$M/pins/my photos")" "$CID"

RID2=$(pin "my photos")
P2=$(pinned_path "$RID2")
check_eq "a taken name gets the requestid" "$P2" "/pins/my photos-$RID2"

expect 0 "status" -- efs status --json
grep -q '"/pins"' "$T/out" && pass "status lists the /pins commit" ||
	fail "no /pins commit in status: $(head -c 300 "$T/out")"

fs_stop
finish
