#!/bin/bash
# test_miners.sh - `estuaryfs miners`, `miner show` and `bandwidth` over
# an index the dealer's miners module wrote (tests/cli/miners_fill.c,
# path in $MINERS_FILL): usage errors (exit 2), a repository with no
# index and no SPs (empty output, exit 0), an unknown SP (exit 3, one
# line), the table's columns and states, one SP's summary and log
# (garbage shown escaped, --limit), bandwidth per SP, commit and day, and
# the --json forms (checked with python3 when it is there).
. "$(dirname "$0")/lib.sh"

FILL=${MINERS_FILL:?MINERS_FILL must name the miners_fill executable}

expect 0 "miners --help" -- efs miners --help
grep -q "^usage: estuaryfs miners" "$T/out" && pass "help text" ||
	fail "help: $(head -1 "$T/out")"
expect 2 "miners with an argument" -- efs miners f01000
expect 2 "miner without a subcommand" -- efs miner
expect 2 "miner list" -- efs miner list
check_err "unknown subcommand: one line" "no subcommand 'list'"
expect 2 "miner show without an ID" -- efs miner show
expect 2 "miner show of an f1 address" -- efs miner show \
	f1abjxfbp274xpdqcpuaykwkfb43omjotacm2p3za
check_err "not an ID: one line" "not a storage provider ID"
expect 2 "miner show --limit x" -- efs miner show 1000 --limit x
expect 2 "bandwidth --by week" -- efs bandwidth --by week
check_err "--by: one line" "sp, commit or day"

# No repository, no index: nothing to show, not an error.
expect 0 "miners of an empty repository" -- efs miners
check_eq "empty table" "$(cat "$T/out")" ""
check_err "empty table: a note" "no storage providers known yet"
expect 0 "miners --json of an empty repository" -- efs miners --json
check_eq "empty JSON" "$(tr -d ' \n' <"$T/out")" "[]"
expect 0 "bandwidth of an empty repository" -- efs bandwidth --json
check_eq "empty bandwidth JSON" "$(tr -d ' \n' <"$T/out")" "[]"
expect 3 "miner show of an unknown SP" -- efs miner show f01000
check_err "unknown SP: one line" "f01000 is not a known storage provider"

mkdir -p "$ESTUARYFS_HOME"
"$FILL" "$ESTUARYFS_HOME/index.db" || fail "miners_fill"

expect 0 "miners" -- efs miners
row() { grep "^$1 " "$T/out"; }
check_eq "table: header and 4 SPs" "$(wc -l <"$T/out")" 5
row f01000 | grep -q "0.00000003 .* 0 .*1.0 MiB-32.0 GiB .*3/4 .*75% .*2.0 h .*2/3 .*32.0 MiB/s .*ok$" &&
	pass "f01000 row" || fail "f01000 row: $(row f01000)"
row f01001 | grep -q "backed off until 20" && pass "f01001 backed off" ||
	fail "f01001 row: $(row f01001)"
row f01002 | grep -q "disabled: too slow$" && pass "f01002 disabled" ||
	fail "f01002 row: $(row f01002)"
row f01003 | grep -q "no ask$" && pass "f01003 no ask" ||
	fail "f01003 row: $(row f01003)"

expect 0 "miner show" -- efs miner show f01000
grep -q "deals: *4 proposed: 3 accepted, 1 rejected" "$T/out" &&
	pass "show: deals" || fail "show: deals"
grep -q "seal time: *median 2.0 h, mean 2.0 h (3 deals)" "$T/out" &&
	pass "show: seal time" || fail "show: seal time"
grep -q "status *garbage .*\\\\x01\\\\x02not cbor\\\\xff" "$T/out" &&
	pass "show: garbage escaped" || fail "show: garbage line"
grep -q "chain *ok .*sealed 3600 s after acceptance; piece baga6ea4seaqfill; deal abababab-abab-" \
	"$T/out" && pass "show: a fate" || fail "show: fate line"
expect 0 "miner show by number, --limit 2" -- efs miner show 1000 --limit 2
check_eq "--limit 2: two log lines" \
	"$(grep -c "^20[0-9-]* [0-9:]*  " "$T/out")" 2
grep -q "(2 of 12 log rows" "$T/out" && pass "--limit: says how many" ||
	fail "--limit: count line"

expect 0 "bandwidth" -- efs bandwidth
check_eq "bandwidth by SP" "$(sed -n 2p "$T/out" | tr -s ' ')" \
	"f01000 4.0 GiB 192.0 MiB"
check_eq "bandwidth total" "$(tail -1 "$T/out" | tr -s ' ')" \
	"total 4.0 GiB 192.0 MiB"
expect 0 "bandwidth --by commit" -- efs bandwidth --by commit
check_eq "by commit: the untied bytes" "$(sed -n 2p "$T/out" | tr -s ' ')" \
	"- 1.0 MiB 0 B"
check_eq "by commit: commit 7" "$(sed -n 3p "$T/out" | tr -s ' ')" \
	"7 4.0 GiB 192.0 MiB"
expect 0 "bandwidth --by day" -- efs bandwidth --by day
check_eq "by day: two days and the total" "$(wc -l <"$T/out")" 4

if command -v python3 >/dev/null; then
	expect 0 "miners --json" -- efs miners --json
	python3 - "$T/out" <<'EOF' && pass "miners JSON" || fail "miners JSON"
import json, sys
v = json.load(open(sys.argv[1]))
assert [m["address"] for m in v] == ["f01000", "f01001", "f01002", "f01003"]
a = v[0]
assert a["ask"]["price_per_gib_epoch"]["attofil"] == "30000000000"
assert a["performance"]["sealed"] == 3 and a["performance"]["proposed"] == 4
assert a["performance"]["seal_median_seconds"] == 7200
assert a["state"] == "ok" and a["backoff_until"] is None
assert v[1]["fail_streak"] == 3 and v[1]["backoff_until"]
assert v[2]["disabled"] and v[2]["disabled_reason"] == "too slow"
assert v[3]["ask"] is None and v[3]["url"] is None
EOF
	expect 0 "miner show --json" -- efs miner show f01000 --json --limit 0
	python3 - "$T/out" <<'EOF' && pass "show JSON" || fail "show JSON"
import json, sys
v = json.load(open(sys.argv[1]))
assert v["address"] == "f01000" and len(v["log"]) == 12
g = [e for e in v["log"] if e["outcome"] == "garbage"][0]
assert g["detail"] == "\\x01\\x02not cbor\\xff", g["detail"]
assert v["log"][0]["time"] >= v["log"][-1]["time"]
EOF
	expect 0 "bandwidth --json --by commit" -- efs bandwidth --json --by commit
	python3 - "$T/out" <<'EOF' && pass "bandwidth JSON" || fail "bandwidth JSON"
import json, sys
v = json.load(open(sys.argv[1]))
assert v == [{"commit": 0, "sent": 1048576, "fetched": 0},
             {"commit": 7, "sent": 4294967296, "fetched": 201326592}], v
EOF
else
	echo "skip: python3 is missing (JSON checks)"
fi

finish
