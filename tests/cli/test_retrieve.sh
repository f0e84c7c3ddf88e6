#!/bin/bash
# test_retrieve.sh - `estuaryfs retrieve CID` and `estuaryfs gc` through
# the daemon a mount hosts and without one, on a devnet: a commit reaches
# 6 active deals and is evicted; cat of an evicted file through the
# daemon fetches it back; retrieving its root through the daemon
# makes its blocks local again (status), pins it (evict then refuses;
# unpin CID lets it go), streams progress (a terminal shows the line;
# POST /retrieve's newline-delimited JSON ends in its result); a CID
# nobody has is NOT_FOUND (exit 3), a bad CID a usage error, POST
# /retrieve and /gc without the token 401; gc runs in the daemon.  With
# no daemon, the evicted commit comes back the same way, and a second
# repository that never had the content (Estuary's "Case B") retrieves
# it through IPNI: byte-identical, and its pin survives gc --grace 0
# until unpinned.  Exits 77 (SKIP) when FUSE cannot be used here.
. "$(dirname "$0")/../fs/lib.sh"

fs_require
DEVNET=$(dirname "$EFS")/../contrib/devnet/estuaryfs-devnet
if [ ! -x "$DEVNET" ]; then
	echo "SKIP: no estuaryfs-devnet beside the estuaryfs under test"
	exit 77
fi

echo '{"dealer":{"check_interval_s":2},"http":{"listen":"127.0.0.1:0"},
 "cache":{"size":"1GiB","interval_s":1},"retrieval":{"timeout_s":5}}' \
	>"$ESTUARYFS_HOME/config.json"

# The devnet is started here rather than by the mount's daemon, which
# would stop it at unmount: retrieving without a daemon needs its SPs.
mkdir -p "$ESTUARYFS_HOME/devnet"
"$DEVNET" --dir "$ESTUARYFS_HOME/devnet" --listen 127.0.0.1:0 --sps 16 \
	>"$T/devnet.log" 2>&1 &
DEVNET_PID=$!
devnet_stop()
{
	kill "$DEVNET_PID" 2>/dev/null
	wait "$DEVNET_PID" 2>/dev/null
}
trap 'devnet_stop; fs_cleanup' EXIT
wait_for 15 '[ -s "$ESTUARYFS_HOME/devnet/api" ]' ||
	{ fail "the devnet did not start: $(tail -3 "$T/devnet.log")"; finish; }
DEVNET_URL=http://127.0.0.1:$(cut -d/ -f5 "$ESTUARYFS_HOME/devnet/api")

# Field $2 of the status --json row of commit path $1.
commit_field()
{
	efs status --json 2>/dev/null | python3 -c 'import json, sys
for c in json.load(sys.stdin)["commits"]:
    if c["path"] == sys.argv[1]:
        print(c[sys.argv[2]])' "$1" "$2"
}

cid_of()
{
	python3 -c 'import os, sys
print(os.getxattr(sys.argv[1], "user.estuary.cid").decode())' "$1"
}

# Devnet.SetFault of every SP to JSON $1.
fault_all()
{
	python3 - "$ESTUARYFS_HOME/devnet" "$1" <<'PY'
import json, sys, urllib.request
d, fault = sys.argv[1], json.loads(sys.argv[2])
tok = open(d + "/token").read().strip()
port = open(d + "/api").read().strip().split("/")[4]
for i in range(16):
    req = urllib.request.Request(
        "http://127.0.0.1:%s/rpc/v1" % port,
        json.dumps({"jsonrpc": "2.0", "id": 1, "method": "Devnet.SetFault",
                    "params": ["f0%d" % (1000 + i), fault]}).encode(),
        {"Authorization": "Bearer " + tok,
         "Content-Type": "application/json"})
    r = json.load(urllib.request.urlopen(req, timeout=10))
    assert "error" not in r, r
PY
}

# Wait until every SP the dealer knows accepts connections again (an SP
# taken offline comes back at its worker's next tick, not at once).
wait_online()
{
	efs miners --json >"$T/miners.json" 2>/dev/null || return 1
	python3 - "$T/miners.json" <<'PY'
import json, socket, sys, time, urllib.parse
for m in json.load(open(sys.argv[1])):
    if not m.get("url"):
        continue
    u = urllib.parse.urlsplit(m["url"])
    end = time.time() + 10
    while True:
        try:
            socket.create_connection((u.hostname, u.port), 1).close()
            break
        except OSError:
            if time.time() > end:
                sys.exit("%s does not answer" % m["address"])
            time.sleep(0.1)
PY
}

# A raw CID of random bytes: nobody has it.
NOBODY=$(python3 -c 'import base64, hashlib, os
b = bytes([1, 0x55, 0x12, 0x20]) + hashlib.sha256(os.urandom(32)).digest()
print("b" + base64.b32encode(b).decode().lower().rstrip("="))')

fs_start
mkdir "$M/data"
head -c 3000000 /dev/urandom >"$M/data/blob"
echo "a small file" >"$M/data/note"
cp "$M/data/blob" "$T/blob.orig"
expect 0 "commit data" -- efs commit "$M/data"
wait_for 90 '[ "$(commit_field /data active)" = 6 ]' ||
	fail "6 deals not active within 90 s: $(efs status | tail -3)"
DATA=$(cid_of "$M/data")
BLOB=$(cid_of "$M/data/blob")
expect 0 "evict data" -- efs evict "$M/data"
check_eq "4 blocks evicted" "$(commit_field /data evicted_blocks)" 4

# --- through the daemon ---------------------------------------------------
# cat of an evicted file: the daemon's gateway fetches its blocks back
# (Case B) and streams them; then evicted again for what follows
expect 0 "cat an evicted file through the daemon" -- efs cat "$DATA/blob"
check_files "cat of an evicted file: its bytes" "$T/out" "$T/blob.orig"
expect 0 "evict data again" -- efs evict "$M/data"
check_eq "4 blocks evicted again" "$(commit_field /data evicted_blocks)" 4
expect 0 "retrieve through the daemon" -- efs retrieve "$DATA"
grep -q "^retrieved: 6 blocks, .* of $DATA" "$T/out" &&
	grep -q "^fetched:   4 blocks" "$T/out" &&
	grep -q "estuaryfs unpin $DATA" "$T/out" &&
	pass "says what it fetched and how to unpin" ||
	fail "retrieve: $(cat "$T/out")"
check_eq "no progress off a terminal" "$(cat "$T/err")" ""
check_eq "status: nothing evicted" "$(commit_field /data evicted_blocks)" 0
expect 1 "evict of the retrieved tree: refused" -- efs evict "$DATA"
grep -q "pinned" "$T/out" && pass "the retrieve pinned it" ||
	fail "evict after retrieve: $(cat "$T/out")"
expect 0 "retrieve --json again" -- efs retrieve --json "$DATA"
python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))
assert v["root"] == sys.argv[2] and v["blocks"] == 6, v
assert v["fetched_blocks"] == 0 and v["pin"] > 0 and v["seconds"] >= 0, v' \
	"$T/out" "$DATA" && pass "--json: the summary" ||
	fail "--json: $(cat "$T/out")"
expect 0 "unpin the CID" -- efs unpin "$DATA"
expect 0 "evict again" -- efs evict "$DATA"

# A terminal sees the progress line (the SPs made slow so it shows).
fault_all '{"slow_ms": 400}'
script -qec "$EFS retrieve $DATA" /dev/null >"$T/tty" 2>&1
grep -q "retrieve  [0-9]* blocks, .* fetched .*/s" "$T/tty" &&
	pass "a terminal sees the progress line" ||
	fail "no progress line: $(tr '\r' '\n' <"$T/tty" | head -5)"
expect 0 "unpin after the terminal" -- efs unpin "$DATA"
expect 0 "evict for -q" -- efs evict "$DATA"
script -qec "$EFS retrieve -q $DATA" /dev/null >"$T/tty" 2>&1
grep -q "^retrieved: 6 blocks" "$T/tty" && ! grep -q "retrieve  " "$T/tty" &&
	pass "-q: no progress line, the summary" ||
	fail "-q on a terminal: $(tr '\r' '\n' <"$T/tty" | head -5)"
fault_all '{"slow_ms": 0}'
expect 0 "unpin after -q" -- efs unpin "$DATA"
expect 0 "evict for the stream" -- efs evict "$DATA"

# The route itself: a stream of JSON lines, guarded by the token.
URL=$(cat "$ESTUARYFS_HOME/api.url")
TOKEN=$(cat "$ESTUARYFS_HOME/api.token")
curl -sN -X POST -H "Authorization: Bearer $TOKEN" \
	-d "{\"target\": \"$DATA\"}" "$URL/retrieve" >"$T/stream"
python3 -c 'import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert all("progress" in l for l in lines[:-1]), lines
r = lines[-1]["result"]
assert r["root"] == sys.argv[2] and r["fetched_blocks"] == 4, r' \
	"$T/stream" "$DATA" &&
	pass "POST /retrieve: JSON lines, then the result" ||
	fail "stream: $(head -c 400 "$T/stream")"
code=$(curl -s -o "$T/401.json" -w '%{http_code}' -X POST \
	-d "{\"target\": \"$DATA\"}" "$URL/retrieve")
check_eq "POST /retrieve without the token: 401" "$code" 401
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
	-H "Authorization: Bearer 0000" -d "{\"target\": \"$DATA\"}" \
	"$URL/retrieve")
check_eq "POST /retrieve with a wrong token: 401" "$code" 401
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{}' "$URL/gc")
check_eq "POST /gc without the token: 401" "$code" 401

good=$TOKEN
printf '%064d\n' 0 >"$ESTUARYFS_HOME/api.token"
expect 2 "retrieve with a token the daemon refuses" -- efs retrieve "$DATA"
check_err "refused token: one line" "refused the token"
echo "$good" >"$ESTUARYFS_HOME/api.token"

expect 3 "a CID nobody has, through the daemon" -- efs retrieve "$NOBODY"
check_err "not found: one line" "$NOBODY"
expect 2 "a bad CID" -- efs retrieve bafynotacid
check_err "bad CID: one line" "is not a CID"

# gc runs in the daemon, as the offline command reports it.
expect 0 "gc through the daemon" -- efs gc
grep -qE '^freed: [0-9]+ blocks, [0-9]+ bytes \(' "$T/out" &&
	pass "gc: the offline command's output" || fail "gc: $(cat "$T/out")"
expect 0 "gc --json through the daemon" -- efs gc --json
python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))
assert set(v) == {"blocks", "bytes", "unverified"}, v' \
	"$T/out" && pass "gc --json" || fail "gc --json: $(cat "$T/out")"
expect 2 "gc --grace while mounted: refused" -- efs gc --grace 0
check_err "--grace: says why" "own grace period"
check_eq "the pin survives gc" "$(commit_field /data evicted_blocks)" 0
expect 0 "unpin, then evict" -- efs unpin "$DATA"
expect 0 "evict" -- efs evict "$DATA"

# Every SP offline: an I/O error; every SP too slow: the timeout (5 s).
fault_all '{"offline": true}'
expect 5 "every SP offline: exit 5" -- efs retrieve "$DATA"
check_err "offline: one line" "retrieval: .*: all failed (.*unreachable"
fault_all '{"offline": false, "slow_ms": 8000}'
wait_online || fail "the SPs are not back online"
expect 1 "every SP too slow: exit 1" -- efs retrieve "$DATA"
# (the waiter's deadline or the job's, whichever is noticed first)
check_err "timeout: one line" \
	"retrieval: .*: \(not retrieved within 5000 ms\|deadline passed\)"
fault_all '{"slow_ms": 0}'
fs_stop

# --- without a daemon -----------------------------------------------------
expect 0 "retrieve without a daemon" -- efs retrieve "$DATA"
grep -q "^fetched:   4 blocks" "$T/out" &&
	pass "fetched the 4 evicted blocks" ||
	fail "retrieve here: $(cat "$T/out")"
check_eq "status: local again" "$(commit_field /data evicted_blocks)" 0
expect 0 "cat the blob" -- efs cat "$DATA/blob"
check_files "cat: byte-identical" "$T/out" "$T/blob.orig"
expect 3 "a CID nobody has, here" -- efs retrieve "$NOBODY"
check_err "not found here: one line" "$NOBODY"

# Case B: a repository that never had it, through the devnet's IPNI.
HOME_A=$ESTUARYFS_HOME
export ESTUARYFS_HOME=$T/other
mkdir -p "$ESTUARYFS_HOME"
echo "{\"retrieval\":{\"ipni\":\"$DEVNET_URL\",\"timeout_s\":5}}" \
	>"$ESTUARYFS_HOME/config.json"
expect 0 "retrieve into a new repository (IPNI)" -- efs retrieve --json "$BLOB"
python3 -c 'import json, sys
v = json.load(open(sys.argv[1])); assert v["fetched_blocks"] == 4, v' \
	"$T/out" && pass "all 4 blocks fetched" ||
	fail "case B: $(cat "$T/out")"
expect 0 "gc --grace 0" -- efs gc --grace 0
check_eq "gc leaves the pinned DAG" "$(cat "$T/out")" \
	"freed: 0 blocks, 0 bytes (0 B)"
expect 0 "cat after gc" -- efs cat "$BLOB"
check_files "case B: byte-identical" "$T/out" "$T/blob.orig"
expect 0 "unpin the CID" -- efs unpin "$BLOB"
expect 0 "gc once unpinned" -- efs gc --grace 0
grep -q "^freed: 4 blocks" "$T/out" && pass "unpinned, gc frees it" ||
	fail "gc after unpin: $(cat "$T/out")"
export ESTUARYFS_HOME=$HOME_A
finish
