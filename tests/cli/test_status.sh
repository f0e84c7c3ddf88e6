#!/bin/bash
# test_status.sh - what users see of the dealer: `estuaryfs status`,
# `deals`, `deal show`, `estimate` and `wallet [show] [--watch]`, over a
# repository written by tests/cli/status_fill.c ($STATUS_FILL: commits in
# the piece store, deals, SPs with asks, the dealer's report; the values
# it prints are sourced here), and `wallet` read live from a devnet
# ($DEVNET_BIN, when built).
#
# Covers: usage errors (exit 2), a repository without an index (empty,
# exit 0; deal show exit 3), a corrupt index (one line, exit 4), the
# status header (BLOCKED), each commit's stage, replication, eviction and
# next step, filters by CID, deals by default / --all / --state, deal show
# by deal ID, UUID (both forms) and proposal CIDs, not found (exit 3),
# estimate figures checked against arithmetic done here, the price
# sources, the blockstore held by another process, and every --json form
# (parsed with python3 when it is there).
. "$(dirname "$0")/lib.sh"

FILL=${STATUS_FILL:?STATUS_FILL must name the status_fill executable}
have_py=false
command -v python3 >/dev/null && have_py=true

# py FILE SCRIPT: run a python3 check on a JSON file (skipped without it).
py()
{
	local f=$1 desc=$2
	shift 2
	$have_py || return 0
	if python3 -c "import json,sys; v=json.load(open(sys.argv[1]))
$1" "$f"; then pass "$desc"; else fail "$desc"; fi
}

line_of() { grep "^$1 " "$T/out"; }

# ---- usage ----

expect 0 "status --help" -- efs status --help
grep -q "^usage: estuaryfs status" "$T/out" && pass "help text" ||
	fail "help: $(head -1 "$T/out")"
expect 2 "status with two arguments" -- efs status a b
expect 2 "status of neither a CID nor a directory" -- efs status nothing-here
check_err "not a CID: one line" "neither a directory nor a CID"
expect 2 "status of a directory outside estuaryfs" -- efs status "$T"
check_err "not estuaryfs: one line" "not a directory of a mounted estuaryfs"
expect 2 "deals --state bogus" -- efs deals --state bogus
check_err "bad state: one line" "no state 'bogus'"
expect 2 "deals --all --state active" -- efs deals --all --state active
expect 2 "deal without show" -- efs deal
expect 2 "deal list" -- efs deal list
expect 2 "deal show of garbage" -- efs deal show not-a-deal
check_err "bad deal key: one line" "neither a deal ID, a deal UUID nor"
expect 2 "estimate without an argument" -- efs estimate
expect 2 "estimate -n 0" -- efs estimate -n 0 bafkqaaa
expect 2 "wallet list --json" -- efs wallet list --json
expect 2 "wallet --watch --json" -- efs wallet --watch --json

# ---- no repository, then a corrupt index ----

expect 0 "status without a repository" -- efs status
grep -q "^dealer: *has not run in this repository" "$T/out" &&
	pass "status: the dealer never ran" || fail "status: dealer line"
check_err "status: no commits note" "no commits yet"
expect 0 "status --json without a repository" -- efs status --json
py "$T/out" "empty status JSON" \
	'assert v["commits"] == [] and v["dealer_ran"] is False and v["funds"] is None'
expect 0 "deals without a repository" -- efs deals --json
check_eq "empty deals JSON" "$(tr -d ' \n' <"$T/out")" "[]"
expect 3 "deal show without a repository" -- efs deal show 5
check_err "no deal: one line" "no deal 5"
expect 3 "estimate without a repository" -- efs estimate bafkqaaa
check_err "no repository: one line" "no repository"

mkdir -p "$ESTUARYFS_HOME"
printf 'this is not an sqlite database, not at all......\n%.0s' {1..40} \
	>"$ESTUARYFS_HOME/index.db"
expect 4 "status of a corrupt index" -- efs status
check_err "corrupt: one line" "not a database"
expect 4 "deals of a corrupt index" -- efs deals
expect 4 "deal show of a corrupt index" -- efs deal show 101
rm -f "$ESTUARYFS_HOME/index.db"

# ---- the picture ----

"$FILL" "$ESTUARYFS_HOME" >"$T/fill" || fail "status_fill"
. "$T/fill"
# the sizes the dealer's limits give (status_fill's), in config.json too
cat >"$ESTUARYFS_HOME/config.json" <<'EOF'
{ "dealer": { "aggregate_below": "64KiB", "aggregate_target": "1MiB",
              "max_piece_payload": "1MiB", "aggregate_max_age_s": 3600 } }
EOF

expect 0 "status" -- efs status
grep -q "^network: *devnet at http://127.0.0.1:1/rpc/v1 (simulated" "$T/out" &&
	pass "status: network" || fail "status: network line"
grep -q "^wallet: *f1abjxfbp274xpdqcpuaykwkfb43omjotacm2p3za  balance 100 FIL; escrow 2 FIL (locked 0.5 FIL, available 1.5 FIL); DataCap 0 B" \
	"$T/out" && pass "status: funds" || fail "status: funds line"
grep -q "^ *as read at 20.* UTC, height 1000" "$T/out" &&
	pass "status: funds time" || fail "status: funds time"
grep -q "^BLOCKED: *DataCap: wallet f1.* has no DataCap" "$T/out" &&
	pass "status: BLOCKED" || fail "status: no BLOCKED line"
grep -q "^daemon: *not running" "$T/out" && pass "status: no daemon" ||
	fail "status: daemon line"
grep -q "^dealer: *last cycle .* ([0-9]* s ago), 12 ms, 3 RPC requests, chain height 1000$" \
	"$T/out" && pass "status: cycle" || fail "status: cycle line"
check_eq "status: 5 commits" "$(grep -c '^[0-9] ' "$T/out")" 5
line_of 1 | grep -q " pieced .* 4/6 *6 *local *f01005 is fetching the data (next check [0-9:]*)$" &&
	pass "commit 1: 4 of 6 active, 6 counting, the next check" ||
	fail "commit 1: $(line_of 1)"
line_of 2 | grep -q " waiting .* 0/6 .*aggregate closes by 20" &&
	pass "commit 2: waiting" || fail "commit 2: $(line_of 2)"
line_of 3 | grep -q " 6/6 *6 *$EVICTED3 evicted *keep 6 active; renew from epoch 992720$" &&
	pass "commit 3: replicated, evicted, renewal (2000 + 1051200 - 60480)" ||
	fail "commit 3: $(line_of 3)"
line_of 4 | grep -q " 0/6 .* no eligible SP: 5 backed off, 2 ask too old$" &&
	pass "commit 4: the dealer's note" || fail "commit 4: $(line_of 4)"
line_of 5 | grep -q "propose 6 more deals; BLOCKED: wallet f1" &&
	pass "commit 5: blocked" || fail "commit 5: $(line_of 5)"

expect 0 "status of one CID" -- efs status "/ipfs/$ROOT1"
check_eq "status CID: one commit" "$(grep -c '^[0-9] ' "$T/out")" 1
line_of 1 >/dev/null && pass "status CID: commit 1" || fail "status CID"
expect 3 "status of a CID no commit has" -- efs status "$LOOSE"
check_err "no commit: one line" "no commit of $LOOSE"

expect 0 "status --json" -- efs status --json
py "$T/out" "status JSON" "
c = {x['id']: x for x in v['commits']}
assert len(c) == 5 and v['dealer_ran'] and v['head']['height'] == 1000
assert v['blocked']['datacap'].startswith('wallet f1')
assert v['wanted'] == {'replication': 6, 'duration_epochs': 1051200, 'verified': True}
a = c[1]
assert a['root'] == '$ROOT1' and a['stage'] == 'pieced' and a['path'] is None
assert a['active'] == 4 and a['counting'] == 6 and a['want'] == 6
assert a['pieces'][0]['cid'] == '$PIECE1' and a['pieces'][0]['padded'] == $PADDED1
assert a['pieces'][0]['live'] == 6 and a['local'] and a['next_source'] == 'derived'
assert c[2]['stage'] == 'waiting' and c[2]['close_at'] and c[2]['pieces'] == []
assert c[3]['evicted_blocks'] == $EVICTED3 and c[3]['evicted_bytes'] > 1000 * $EVICTED3
assert not c[3]['local'] and c[3]['active'] == 6
assert c[4]['next_source'] == 'dealer' and c[4]['pieces'][0]['note_time']
"

# ---- deals ----

expect 0 "deals" -- efs deals
check_eq "deals: live and recently ended (13) and the header" \
	"$(wc -l <"$T/out")" 14
check_err "deals: the hidden one is counted" "1 deal that ended over a day ago not shown"
line_of b6b6b6b6 | grep -q " failed .* sp: rejected: price too low$" &&
	pass "deals: a recent failure and its reason" ||
	fail "deals: failed row: $(line_of b6b6b6b6)"
line_of b0b0b0b0 | grep -q "^b0b0b0b0 f01000 *active *101 baga6ea4...[a-z0-9]* *2000 *1053200 0 *v " &&
	pass "deals: an active row" || fail "deals: $(line_of b0b0b0b0)"
expect 0 "deals --all" -- efs deals --all
check_eq "deals --all: 14 and the header" "$(wc -l <"$T/out")" 15
line_of b7b7b7b7 | grep -q " expired .* ran its term$" &&
	pass "deals --all: the old one" || fail "deals --all: expired row"
expect 0 "deals --state failed" -- efs deals --state failed
check_eq "--state failed: one" "$(wc -l <"$T/out")" 2
expect 0 "deals --state live" -- efs deals --state live
check_eq "--state live: 12" "$(wc -l <"$T/out")" 13
expect 0 "deals of one CID" -- efs deals "$ROOT1"
check_eq "deals CID: commit 1's 7" "$(wc -l <"$T/out")" 8
expect 3 "deals of a CID no commit has" -- efs deals "$LOOSE"
expect 0 "deals --json --all" -- efs deals --json --all
py "$T/out" "deals JSON" "
assert len(v) == 14
d = [x for x in v if x['deal_id'] == 103][0]
assert d['sp'] == 'f01002' and d['state'] == 'active' and not d['verified']
assert d['price_per_epoch']['attofil'] == '7324218'
assert d['total_price']['attofil'] == str(7324218 * 1051200)
t = [x for x in v if x['state'] == 'transferring'][0]
assert t['deal_id'] is None and t['next_check'] and t['reason'] == 'the SP is pulling'
"

# ---- deal show ----

expect 0 "deal show by deal ID" -- efs deal show 101
cp "$T/out" "$T/show101"
grep -q "^deal 101 with f01000: active$" "$T/out" && pass "show: title" ||
	fail "show: title $(head -1 "$T/out")"
grep -q "^  uuid: *$UUID1$" "$T/out" && pass "show: uuid" || fail "show: uuid"
grep -q "^  proposal: *$PROPOSAL1$" "$T/out" && pass "show: proposal" ||
	fail "show: proposal"
grep -q "^  piece: *$PIECE1 (256.0 KiB padded)$" "$T/out" &&
	pass "show: piece" || fail "show: piece"
grep -q "^  payload root: *$ROOT1$" "$T/out" && pass "show: payload root" ||
	fail "show: payload root"
grep -q "^  epochs: *2000 to 1053200 (1051200 epochs)$" "$T/out" &&
	pass "show: epochs" || fail "show: epochs"
check_eq "show: history" "$(sed -n '/^history:/,/^$/p' "$T/out" |
	grep '^  20' | awk '{print $3}' | tr '\n' ' ')" "proposing accepted active "
grep -q '^ *"Label": "deal-101",$' "$T/out" && pass "show: the chain record" ||
	fail "show: chain record"
for key in "$UUID1" "$(echo "$UUID1" | tr -d -)" "$PROPOSAL1" "$SIGNED1"; do
	expect 0 "deal show $key" -- efs deal show "$key"
	check_files "deal show $key: the same receipt" "$T/out" "$T/show101"
done
expect 0 "deal show of a priced deal" -- efs deal show 103
grep -q "^  price: *0.000000000007324218 FIL per epoch, 0.0000076992179616 FIL in all$" \
	"$T/out" && pass "show: price and total (7324218 * 1051200 attoFIL)" ||
	fail "show: price line $(grep price: "$T/out")"
expect 3 "deal show of an unknown deal" -- efs deal show 999
check_err "unknown deal: one line" "no deal 999"
expect 3 "deal show of an unknown UUID" -- efs deal show 00000000-0000-0000-0000-000000000000
expect 0 "deal show --json" -- efs deal show --json "$PROPOSAL1"
py "$T/out" "deal show JSON" "
assert v['deal_id'] == 101 and v['uuid'] == '$UUID1' and v['payload_root'] == '$ROOT1'
assert [h['state'] for h in v['history']] == ['proposing', 'accepted', 'active']
assert v['chain']['Proposal']['Label'] == 'deal-101' and v['chain_read']
assert v['signed_proposal_cid'] == '$SIGNED1'
assert bytes.fromhex(v['signed_proposal_hex']) == b'a signed ClientDealProposal'
"

# ---- estimate ----

# Price per epoch = ask * padded / 2^30, rounded down (Curio's); a deal is
# that times the duration; the total is the cheapest N eligible deals.
GIB=1073741824
per_deal() { echo $(( $1 * $2 / GIB * $3 )); }
expect 0 "estimate --json of commit 1" -- efs estimate --json "$ROOT1"
u1=$(per_deal 20000000000 "$PADDED1" 1051200)   # f01001
u0=$(per_deal 30000000000 "$PADDED1" 1051200)   # f01000
py "$T/out" "estimate: per deal, total, USD ($u1 + $u0 attoFIL)" "
assert v['commit'] == 1 and v['sized_from'] == 'piece store' and not v['aggregated']
assert v['pieces'] == [{'deal_padded': $PADDED1, 'share_padded': $PADDED1}]
s = {x['sp']: x for x in v['sps']}
assert sorted(s) == ['f01000', 'f01001', 'f01002'], sorted(s)
assert s['f01001']['unverified']['per_deal']['attofil'] == '$u1'
assert s['f01000']['unverified']['per_deal']['attofil'] == '$u0'
assert not s['f01002']['unverified']['eligible'] and not s['f01002']['verified']['eligible']
assert v['unverified']['deals'] == 2 and v['unverified']['fil']['attofil'] == str($u1 + $u0)
assert v['verified']['deals'] == 2 and v['verified']['fil']['attofil'] == '0'
assert abs(v['unverified']['usd'] - ($u1 + $u0) / 1e18 * 4.2) < 1e-12
assert v['fil_usd']['fil_usd'] == 4.2 and 'price.example' in v['fil_usd']['source']
"
expect 0 "estimate of commit 1" -- efs estimate "$ROOT1"
grep -q "^unverified: *0.000012832029936 FIL (\$0.000054) for 2 deals: only 2 SPs are eligible of the 6 deals wanted$" \
	"$T/out" && pass "estimate: the total line" ||
	fail "estimate: $(grep unverified: "$T/out")"
grep -q "^FIL/USD: *4.2, from http://price.example/simple/price (read by the dealer) at 20" \
	"$T/out" && pass "estimate: the price source" || fail "estimate: FIL/USD line"
grep -q "^f01002 .*over cap$" "$T/out" && pass "estimate: over the caps" ||
	fail "estimate: f01002 row"

# a CID not committed: its CAR sized from the blockstore (54320 bytes fit
# 65536 * 127/128 = 65024 bytes: a 64 KiB piece)
expect 0 "estimate of a CID not committed" -- efs estimate --json -n 1 \
	--duration 518400 "$LOOSE"
u=$(per_deal 20000000000 65536 518400)
py "$T/out" "estimate from the blockstore ($u attoFIL)" "
assert v['commit'] is None and v['sized_from'] == 'blockstore'
assert v['car_size'] == $LOOSE_CAR == 54320
assert v['pieces'] == [{'deal_padded': 65536, 'share_padded': 65536}]
assert v['unverified']['deals'] == 1 and v['unverified']['fil']['attofil'] == '$u'
"
# commit 2 waits in an aggregate: its share, in an aggregate of 64 KiB
expect 0 "estimate of a waiting commit" -- efs estimate --json "$ROOT2"
py "$T/out" "estimate: an aggregate's share" "
p = v['pieces'][0]
assert v['aggregated'] and p['deal_padded'] == 65536 and p['share_padded'] < 65536
"
# the blockstore held by a process that serves no API (a mount with -o
# nodaemon): a CID that is not a commit cannot be sized, said in one line
flock --no-fork "$ESTUARYFS_HOME/bstore.lock" sleep 30 &
holder=$!
for _ in $(seq 50); do
	flock -n "$ESTUARYFS_HOME/bstore.lock" true || break
	sleep 0.1
done
expect 5 "estimate of a CID while the blockstore is held" -- efs estimate "$LOOSE"
check_err "held: one line" "in use by a process that serves no API"
expect 0 "estimate of a commit while the blockstore is held" -- efs estimate "$ROOT1"
expect 0 "status while the blockstore is held" -- efs status
grep -q "^daemon: *running (pid $holder)$" "$T/out" &&
	pass "status: the daemon's pid, from /proc/locks" ||
	fail "status: $(grep daemon: "$T/out")"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null

# ---- wallet, from the dealer's report (no node answers) ----

expect 0 "wallet" -- efs wallet
grep -q "^address: *f1abjxfbp274xpdqcpuaykwkfb43omjotacm2p3za$" "$T/out" &&
	pass "wallet: the dealer's address" || fail "wallet: address"
grep -q "^escrow: *2 FIL (locked 0.5 FIL, available 1.5 FIL)$" "$T/out" &&
	pass "wallet: escrow" || fail "wallet: escrow"
grep -q "^read: *as the dealer last read it, height 1000 (20.* UTC); the node did not answer: no devnet runs in" \
	"$T/out" && pass "wallet: says where the figures come from" ||
	fail "wallet: read line"
expect 0 "wallet show --json" -- efs wallet show --json
py "$T/out" "wallet JSON" "
assert v['source'] == 'report' and v['balance']['fil'] == '100 FIL'
assert v['datacap_bytes'] == '0' and v['verified_client'] is False and v['time']
"
timeout --preserve-status -s INT 3 "$EFS" wallet --watch >"$T/out" 2>"$T/err"
check_eq "wallet --watch: Ctrl-C exits 1" "$?" 1
grep -q "^deals: 1 transferring, 1 published, 10 active, commits 1/5 with 6 active; balance 100 FIL" \
	"$T/out" && pass "wallet --watch: the progress line" ||
	fail "wallet --watch: $(head -1 "$T/out")"
check_err "wallet --watch: interrupted, one line" "interrupted"

# ---- price sources, and --watch ending by itself ----

export ESTUARYFS_HOME="$T/repo2"
mkdir -p "$ESTUARYFS_HOME"
"$FILL" "$ESTUARYFS_HOME" --no-price >/dev/null || fail "status_fill --no-price"
expect 0 "estimate without a price source" -- efs estimate "$ROOT1"
grep -q "^FIL/USD: *USD: no price source configured" "$T/out" &&
	pass "estimate: no price source" || fail "estimate: $(grep FIL/USD "$T/out")"
echo '{ "price": { "fil_usd": "5" } }' >"$ESTUARYFS_HOME/config.json"
expect 0 "estimate with a configured rate" -- efs estimate --json "$ROOT1"
py "$T/out" "estimate: config price.fil_usd" "
assert v['fil_usd']['fil_usd'] == 5 and v['fil_usd']['source'] == 'config.json price.fil_usd'
"
echo '{ "price": { "url": "http://127.0.0.1:1/price" } }' \
	>"$ESTUARYFS_HOME/config.json"
expect 0 "estimate with an unreachable price URL" -- efs estimate "$ROOT1"
grep -q "^FIL/USD: *USD: http: GET http://127.0.0.1:1/price" "$T/out" &&
	pass "estimate: the URL's failure" || fail "estimate: $(grep FIL/USD "$T/out")"

export ESTUARYFS_HOME="$T/repo3"
mkdir -p "$ESTUARYFS_HOME"
"$FILL" "$ESTUARYFS_HOME" --replicated >/dev/null || fail "status_fill --replicated"
timeout 10 "$EFS" wallet --watch >"$T/out" 2>"$T/err"
check_eq "wallet --watch: ends when every commit has its deals" "$?" 0
grep -q "commits 1/1 with 6 active" "$T/out" && pass "wallet --watch: 1/1" ||
	fail "wallet --watch: $(cat "$T/out")"

# ---- wallet, live from a devnet ----

if [ -z "${DEVNET_BIN:-}" ]; then
	echo "skip: no devnet built (DEVNET_BIN)"
	finish
fi
export ESTUARYFS_HOME="$T/repo4"
mkdir -p "$ESTUARYFS_HOME/devnet"
"$DEVNET_BIN" --dir "$ESTUARYFS_HOME/devnet" --listen 127.0.0.1:0 --sps 1 \
	--fil-usd 3.5 >"$T/devnet.log" 2>&1 &
devnet=$!
trap 'kill $devnet 2>/dev/null; wait $devnet 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 100); do
	[ -s "$ESTUARYFS_HOME/devnet/api" ] && break
	sleep 0.1
done
[ -s "$ESTUARYFS_HOME/devnet/api" ] || fail "devnet did not start: $(tail -3 "$T/devnet.log")"
expect 0 "wallet new" -- efs wallet new
addr=$(cat "$T/out")
expect 0 "devnet faucet" -- "$DEVNET_BIN" --dir "$ESTUARYFS_HOME/devnet" \
	faucet "$addr" 100
expect 0 "devnet datacap" -- "$DEVNET_BIN" --dir "$ESTUARYFS_HOME/devnet" \
	datacap "$addr" 1048576
expect 0 "wallet --json, live" -- efs wallet --json
py "$T/out" "wallet: read from the devnet" "
assert v['source'] == 'node' and v['address'] == '$addr' and v['node_error'] is None
assert v['balance']['fil'] == '100 FIL' and v['escrow']['fil'] == '0 FIL'
assert v['datacap_bytes'] == '1048576' and v['verified_client'] is True
assert v['node'].startswith('http://127.0.0.1:') and v['height'] >= 0
"
expect 0 "wallet, live" -- efs wallet
grep -q "^DataCap: *1.0 MiB (1048576 bytes)$" "$T/out" && pass "wallet: DataCap" ||
	fail "wallet: $(grep DataCap "$T/out")"
grep -q "^read: *now from the devnet at http://127.0.0.1:" "$T/out" &&
	pass "wallet: read now" || fail "wallet: $(grep read: "$T/out")"
port=$(sed 's|.*/tcp/\([0-9]*\)/.*|\1|' "$ESTUARYFS_HOME/devnet/api")
"$FILL" "$ESTUARYFS_HOME" --no-price >/dev/null || fail "status_fill (devnet)"
echo "{ \"price\": { \"url\": \"http://127.0.0.1:$port/price\" } }" \
	>"$ESTUARYFS_HOME/config.json"
expect 0 "estimate with the devnet's /price" -- efs estimate --json "$ROOT1"
py "$T/out" "estimate: price.url fetched now" "
assert v['fil_usd']['fil_usd'] == 3.5 and v['fil_usd']['source'].endswith('/price')
"
finish
