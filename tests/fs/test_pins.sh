#!/bin/bash
# test_pins.sh - the Pinning Service API in a mount: a tree written into
# the mount and committed is pinned by CID with POST /pins (the daemon's
# api.token); the pins worker grafts it at /pins/<name>, where ls shows
# the tree and the files' bytes match, and commits /pins (estuaryfs
# status lists it); a second pin of the same name lands beside it with
# the requestid added.  DELETE removes a request's graft and commits
# /pins; a replacement with another CID swaps the graft.  The blocks are
# local here (no devnet: the retrieval of evicted blocks is
# test_evict.sh's).
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

# the /pins directory's current CID and the root of its latest commit
cid_of() { python3 -c 'import os,sys; print(os.getxattr(sys.argv[1],
	"user.estuary.cid").decode())' "$1"; }
commit_of() { python3 -c 'import json,os,sys; print(json.loads(os.getxattr(
	sys.argv[1], "user.estuary.commit"))["cid"])' "$1"; }

# DELETE the first request: its graft leaves the tree and /pins is
# committed before the answer, so the latest commit no longer holds it
curl -sf -X DELETE -H "Authorization: Bearer $TOK" "$URL/pins/$RID" ||
	fail "DELETE /pins/$RID"
[ ! -e "$M/pins/my photos" ] && pass "the deleted request's graft is gone" ||
	fail "/pins/my photos is still there"
check_eq "the other request's graft stays" "$(ls "$M/pins" | tr '\n' ,)" \
	"my photos-$RID2,"
check_eq "the latest /pins commit is the tree without it" \
	"$(commit_of "$M/pins")" "$(cid_of "$M/pins")"
# (through the gateway: the repository is the mount's while it runs)
code() { curl -s -o /dev/null -w '%{http_code}' "$URL/ipfs/$1"; }
C=$(commit_of "$M/pins")
check_eq "the commit has not the deleted graft" "$(code "$C/my%20photos")" 404
check_eq "the commit has the other" "$(code "$C/my%20photos-$RID2/")" 200

# replace the second with another CID under the first name: its graft
# goes and the new one takes the name, freed by the DELETE
SUB=$(cid_of "$M/src/sub dir")
RID3=$(curl -sf -H "Authorization: Bearer $TOK" \
	-H 'Content-Type: application/json' \
	-d "{\"cid\":\"$SUB\",\"name\":\"my photos\"}" "$URL/pins/$RID2" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["requestid"])')
P3=$(pinned_path "$RID3")
check_eq "the replacement takes the free name" "$P3" "/pins/my photos"
check_eq "only the replacement is left" "$(ls "$M/pins" | tr '\n' ,)" \
	"my photos,"
check_eq "it is the new CID" "$(cid_of "$M/pins/my photos")" "$SUB"
check_eq "and committed" "$(commit_of "$M/pins")" "$(cid_of "$M/pins")"

fs_stop
finish
