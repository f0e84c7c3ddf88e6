#!/bin/bash
# test_dealer.sh - the mount hosts the dealer: a commit reaches 6 active
# deals on the devnet the daemon starts in the repository, and a kill -9
# of the daemon while the first deals are on their way, then a new mount,
# leaves no deal lost and none duplicated (6 live deals, 6 different
# SPs, the interrupted ones among them).  Exits 77 (SKIP) when FUSE
# cannot be used here.
. "$(dirname "$0")/lib.sh"

fs_require
if [ ! -x "$(dirname "$EFS")/../contrib/devnet/estuaryfs-devnet" ]; then
	echo "SKIP: no estuaryfs-devnet beside the estuaryfs under test"
	exit 77
fi

# The dealer on, with no network: the devnet.  HTTP on a free port.
echo '{"dealer":{"check_interval_s":2},"http":{"listen":"127.0.0.1:0"}}' \
	>"$ESTUARYFS_HOME/config.json"

# The devnet outlives a killed daemon (it runs in its own session); the
# test ends it by the directory only this test's devnet has.
devnet_stop()
{
	local pid
	pid=$(pgrep -f -- "--dir $ESTUARYFS_HOME/devnet" || true)
	[ -z "$pid" ] || kill $pid 2>/dev/null
}
trap 'devnet_stop; fs_cleanup' EXIT

# deals --all --json summed up: "live distinct-SPs active".
deals_summary()
{
	efs deals --all --json >"$T/deals.json" 2>/dev/null || return 1
	python3 - "$T/deals.json" <<'PY'
import json, sys
deals = json.load(open(sys.argv[1]))
live = [d for d in deals if d["state"] in
        ("proposing", "accepted", "transferring", "publishing",
         "published", "active")]
print(len(live), len({d["sp"] for d in deals}),
      sum(d["state"] == "active" for d in deals), len(deals))
PY
}

fs_start
mkdir "$M/data"
head -c 3000000 /dev/urandom >"$M/data/blob"
echo "a small file" >"$M/data/note"
expect 0 "commit" -- efs commit "$M/data"

# Kill the daemon once the first proposals are recorded, before all six
# deals are active.
wait_for 60 'read -r live sps active total < <(deals_summary) &&
	[ "${live:-0}" -ge 1 ]' || fail "no deal was proposed within 60 s"
read -r live sps active total < <(deals_summary)
echo "# at the kill: $live live, $active active of $total deals"
fs_kill
[ "$active" -lt 6 ] && pass "killed with deals on their way" ||
	echo "# (all six were active already: the restart is still checked)"

fs_start
wait_for 120 'read -r live sps active total < <(deals_summary) &&
	[ "${active:-0}" -ge 6 ]' || fail "6 deals not active within 120 s"
read -r live sps active total < <(deals_summary)
check_eq "6 active deals" "$active" 6
check_eq "6 live deals: none lost, none duplicated" "$live" 6
check_eq "every deal on its own SP" "$sps" "$total"
expect 0 "status" -- efs status "$M/data"
grep -q " 6/6 " "$T/out" && pass "status: 6/6" || fail "status: $(cat "$T/out")"
fs_stop
finish
