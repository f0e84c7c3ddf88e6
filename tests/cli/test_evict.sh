#!/bin/bash
# test_evict.sh - eviction through the daemon a mount hosts, on the devnet
# it starts: two commits reach 6 active deals; `estuaryfs evict DIR`
# frees one (status shows the evicted bytes, listing still works), `pin`
# keeps the other local until `unpin`, a commit whose deals never become
# active is refused with the reason, and the API's POST routes answer 401
# without the token of api.token (GET routes stay open).  Exits 77 (SKIP)
# when FUSE cannot be used here.
. "$(dirname "$0")/../fs/lib.sh"

fs_require
if [ ! -x "$(dirname "$EFS")/../contrib/devnet/estuaryfs-devnet" ]; then
	echo "SKIP: no estuaryfs-devnet beside the estuaryfs under test"
	exit 77
fi

# The dealer on the devnet, HTTP on a free port, a cache big enough
# that the evictor's own passes leave everything: the test evicts.
echo '{"dealer":{"check_interval_s":2},"http":{"listen":"127.0.0.1:0"},
 "cache":{"size":"1GiB","interval_s":1}}' >"$ESTUARYFS_HOME/config.json"

devnet_stop()
{
	local pid
	pid=$(pgrep -f -- "--dir $ESTUARYFS_HOME/devnet" || true)
	[ -z "$pid" ] || kill $pid 2>/dev/null
}
trap 'devnet_stop; fs_cleanup' EXIT

# One line per commit of `status --json`: "path active want ready
# evicted_blocks", ready being 1 when all its pieces have locations.
commits()
{
	efs status --json >"$T/status.json" 2>/dev/null || return 1
	python3 - "$T/status.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
for c in s["commits"]:
    ready = int(bool(c["pieces"]) and all(p["ready"] for p in c["pieces"]))
    print(c["path"], c["active"], c["want"], ready, c["evicted_blocks"])
PY
}

# Active deals of the commit of path $1 ("-" when not listed).
active_of()
{
	commits | awk -v p="$1" '$1 == p { print $2; found = 1 }
		END { if (!found) print "-" }'
}

# The CID the mount gives a path.
cid_of()
{
	python3 -c 'import os, sys
print(os.getxattr(sys.argv[1], "user.estuary.cid").decode())' "$1"
}

# A devnet admin call: method and JSON params.
devnet_rpc()
{
	python3 - "$ESTUARYFS_HOME/devnet" "$1" "$2" <<'PY'
import json, sys, urllib.request
d, method, params = sys.argv[1], sys.argv[2], sys.argv[3]
api = open(d + "/api").read().split("/")
tok = open(d + "/token").read().strip()
req = urllib.request.Request(
    "http://%s:%s/rpc/v1" % (api[2], api[4]),
    data=json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                     "params": json.loads(params)}).encode(),
    headers={"Authorization": "Bearer " + tok,
             "Content-Type": "application/json"})
print(urllib.request.urlopen(req, timeout=10).read().decode())
PY
}

fs_start
mkdir "$M/data" "$M/keep"
head -c 3000000 /dev/urandom >"$M/data/blob"
echo "a small file" >"$M/data/note"
head -c 1500000 /dev/urandom >"$M/keep/photo"
cp "$M/data/blob" "$T/blob.orig"
expect 0 "commit data" -- efs commit "$M/data"
expect 0 "commit keep" -- efs commit "$M/keep"
wait_for 150 '[ "$(active_of /data)" = 6 ] && [ "$(active_of /keep)" = 6 ]' ||
	fail "6 deals not active within 150 s: $(commits | tr '\n' ';')"

# --- the token file and the API's guard ---------------------------------
URL=$(cat "$ESTUARYFS_HOME/api.url")
check_eq "api.token is 0600" \
	"$(stat -c %a "$ESTUARYFS_HOME/api.token")" 600
code=$(curl -s -o "$T/401.json" -w '%{http_code}' -X POST -d '{}' \
	"$URL/evict")
check_eq "POST /evict without the token: 401" "$code" 401
python3 -c 'import json,sys; e = json.load(open(sys.argv[1]))["error"]
assert e["reason"] == "UNAUTHORIZED" and e["details"]' "$T/401.json" &&
	pass "401 in the JSON error form" ||
	fail "401 body: $(cat "$T/401.json")"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{}' \
	-H "Authorization: Bearer 0000" "$URL/pin")
check_eq "POST /pin with a wrong token: 401" "$code" 401
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/health")
check_eq "GET /health needs no token" "$code" 200

# --- pin keeps a tree local ----------------------------------------------
expect 0 "pin keep" -- efs pin "$M/keep"
grep -q "^pinned: .* of /keep" "$T/out" && pass "pin says what it covers" ||
	fail "pin: $(cat "$T/out")"

# --- evict a replicated directory ---------------------------------------
expect 0 "evict data" -- efs evict "$M/data"
n=$(awk '/^evicted:/ { print $2 }' "$T/out")
# 1 MiB leaves: 3 of blob, 1 of note
[ "${n:-0}" -eq 4 ] && pass "evicted $n blocks of data" ||
	fail "evict data: $(cat "$T/out")"
grep -q "directory and file nodes" "$T/out" &&
	pass "says nodes stay" || fail "no word of nodes: $(cat "$T/out")"
read -r _ act want ready ev < <(commits | grep '^/data ')
[ "${ev:-0}" -eq 4 ] && pass "status: data has $ev evicted blocks" ||
	fail "status row: $(commits | tr '\n' ';')"
expect 0 "status" -- efs status
grep -qE '^cache: .* local .*, [0-9.]+ MiB evicted \([0-9]+ blocks\)' \
	"$T/out" && pass "status header: local and evicted bytes" ||
	fail "status header: $(grep '^cache' "$T/out")"
python3 -c 'import json,sys; c = json.load(open(sys.argv[1]))["cache"]
assert c["evicted_bytes"] > 3000000 and c["local_bytes"] > 1500000, c' \
	"$T/status.json" && pass "status --json: cache totals" ||
	fail "status --json cache: $(cat "$T/status.json" | head -c 300)"
# metadata stays local
expect 0 "ls -l data" -- ls -l "$M/data"
grep -q " 3000000 " "$T/out" && pass "sizes listed" ||
	fail "ls: $(cat "$T/out")"
# again: nothing left to do, and that is fine
expect 0 "evict data again" -- efs evict "$M/data"
grep -q "^already: " "$T/out" && pass "says what was evicted before" ||
	fail "evict again: $(cat "$T/out")"

# --- the pinned tree stays, until unpinned ------------------------------
expect 1 "evict pinned keep: refused" -- efs evict "$M/keep"
grep -q "pinned" "$T/out" && pass "says it is pinned" ||
	fail "evict keep: $(cat "$T/out")"
grep -q "nothing of .* could be evicted safely" "$T/err" &&
	pass "one line on stderr" || fail "stderr: $(cat "$T/err")"
expect 0 "unpin keep" -- efs unpin "$M/keep"
expect 3 "unpin keep twice: no such pin" -- efs unpin "$M/keep"
KEEP=$(cid_of "$M/keep")
expect 0 "evict keep by CID" -- efs evict --json "$KEEP"
python3 -c 'import json,sys; v = json.load(open(sys.argv[1]))
assert v["evicted"]["blocks"] == 2, v' "$T/out" &&
	pass "evict --json CID: evicted" || fail "evict CID: $(cat "$T/out")"

# --- a commit without enough active deals is refused, with the reason ---
for i in 0 1 2 3 4 5 6 7; do
	devnet_rpc Devnet.SetFault "[\"f0100$i\", {\"never_seal\": true}]" \
		>/dev/null || fail "SetFault f0100$i"
done
mkdir "$M/fresh"
head -c 1500000 /dev/urandom >"$M/fresh/new"
expect 0 "commit fresh" -- efs commit "$M/fresh"
wait_for 60 'commits | grep -q "^/fresh [0-9]* [0-9]* 1 "' ||
	fail "fresh not in a piece within 60 s: $(commits | tr '\n' ';')"
expect 1 "evict fresh: refused" -- efs evict "$M/fresh"
grep -qE "commit [0-9]+: [0-5] of 6 active deals" "$T/out" &&
	pass "says which commit is short, by how much" ||
	fail "evict fresh: $(cat "$T/out")"
check_eq "fresh is all local" "$(commits | awk '$1 == "/fresh" { print $5 }')" 0
FRESH=$(cid_of "$M/fresh")

# --- a pass over the cache: under its size, nothing to do ---------------
expect 0 "evict (a pass)" -- efs evict
grep -q "cache size 1.0 GiB" "$T/out" && pass "a pass reports the cache" ||
	fail "evict pass: $(cat "$T/out")"
fs_stop

# --- without a daemon, the repository is used directly -----------------
[ ! -e "$ESTUARYFS_HOME/api.token" ] && pass "api.token removed at stop" ||
	fail "api.token left behind"
expect 1 "evict fresh without a daemon: refused" -- efs evict "$FRESH"
grep -qE "commit [0-9]+: [0-5] of 6 active deals" "$T/out" &&
	pass "the same reason without a daemon" ||
	fail "evict fresh here: $(cat "$T/out")"
finish
