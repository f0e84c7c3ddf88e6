#!/bin/bash
# test_evict.sh - eviction and retrieval through the mount, on the devnet
# the daemon starts: a committed tree reaches 6 active deals, is evicted,
# and reads back byte-identical after the kernel's caches are gone
# (sha256sum, cp -a); with most SPs offline another one serves; with all
# of them offline a read fails with EIO within the timeout while ls -lR
# and files still local keep working; 16 concurrent readers of one
# evicted file share the fetches; a directory committed again after its
# blocks were evicted gets its piece (the dealer fetches them back).
# Exits 77 (SKIP) when FUSE cannot be used here.
. "$(dirname "$0")/lib.sh"

fs_require
if [ ! -x "$(dirname "$EFS")/../contrib/devnet/estuaryfs-devnet" ]; then
	echo "SKIP: no estuaryfs-devnet beside the estuaryfs under test"
	exit 77
fi

echo '{"dealer":{"check_interval_s":2},"http":{"listen":"127.0.0.1:0"},
       "retrieval":{"timeout_s":8}}' >"$ESTUARYFS_HOME/config.json"

devnet_stop()
{
	local pid
	pid=$(pgrep -f -- "--dir $ESTUARYFS_HOME/devnet" || true)
	[ -z "$pid" ] || kill $pid 2>/dev/null
}
trap 'devnet_stop; fs_cleanup' EXIT

# Devnet.SetFault of every SP in $1 (space separated f0 IDs) to JSON $2.
fault()
{
	python3 - "$ESTUARYFS_HOME/devnet" "$2" $1 <<'PY'
import json, sys, urllib.request
d, fault, sps = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]
tok = open(d + "/token").read().strip()
port = open(d + "/api").read().strip().split("/")[4]
for sp in sps:
    req = urllib.request.Request(
        "http://127.0.0.1:%s/rpc/v1" % port,
        json.dumps({"jsonrpc": "2.0", "id": 1, "method": "Devnet.SetFault",
                    "params": [sp, fault]}).encode(),
        {"Authorization": "Bearer " + tok,
         "Content-Type": "application/json"})
    r = json.load(urllib.request.urlopen(req, timeout=10))
    assert "error" not in r, r
PY
}

# The SPs with active deals: space separated.
active_sps()
{
	efs deals --json >"$T/deals.json" 2>/dev/null || return 1
	python3 -c 'import json,sys
print(" ".join(sorted({d["sp"] for d in json.load(open(sys.argv[1]))
                       if d["state"] == "active"})))' "$T/deals.json"
}

# Drop what the kernel caches of the mount: remount (and, as root, the
# page cache too).
cold()
{
	fs_stop
	sync
	[ -w /proc/sys/vm/drop_caches ] && echo 3 >/proc/sys/vm/drop_caches
	fs_start
}

fs_start
mkdir -p "$M/data/sub"
head -c 5000000 /dev/urandom >"$M/data/big"
head -c 300000 /dev/urandom >"$M/data/sub/mid"
echo "a small file" >"$M/data/sub/small"
(cd "$M/data" && find . -type f -print0 | sort -z | xargs -0 sha256sum) \
	>"$T/sums"
echo "not committed: local only" >"$M/local.txt"
expect 0 "commit" -- efs commit "$M/data"
wait_for 120 '[ "$(active_sps | wc -w)" -ge 6 ]' ||
	fail "6 deals not active within 120 s"
sps=$(active_sps)

expect 0 "evict the committed tree" -- efs evict "$M/data"
expect 0 "status" -- efs status "$M/data"
grep -q "evicted" "$T/out" && pass "status shows evicted data" ||
	fail "status: $(cat "$T/out")"

cold
(cd "$M/data" && sha256sum -c --quiet "$T/sums") >"$T/check" 2>&1 &&
	pass "read back byte-identical (sha256sum)" ||
	fail "sha256sum: $(head -5 "$T/check")"
rm -rf "$T/copy"
cp -a "$M/data" "$T/copy" && (cd "$T/copy" && sha256sum -c --quiet "$T/sums") &&
	pass "cp -a of the tree" || fail "cp -a"

# Most SPs offline: the one left serves.
expect 0 "evict again" -- efs evict "$M/data" || cat "$T/out" >&2
cold
set -- $sps
fault "${*:1:$(($# - 1))}" '{"offline": true}'
(cd "$M/data" && sha256sum -c --quiet "$T/sums") >"$T/check" 2>&1 &&
	pass "one SP of six serves the rest" ||
	fail "one SP left: $(head -5 "$T/check")"

# Every SP offline: EIO within the timeout, metadata and local files fine.
expect 0 "evict once more" -- efs evict "$M/data"
cold
fault "$sps" '{"offline": true}'
start=$(date +%s)
if timeout 60 cat "$M/data/big" >/dev/null 2>"$T/err"; then
	fail "a read with every SP offline succeeded"
else
	grep -q "Input/output error" "$T/err" && pass "EIO with every SP offline" ||
		fail "not EIO: $(cat "$T/err")"
fi
took=$(($(date +%s) - start))
[ "$took" -le 30 ] && pass "EIO after ${took} s (timeout 8 s)" ||
	fail "EIO took ${took} s"
timeout 20 ls -lR "$M" >/dev/null && pass "ls -lR with every SP offline" ||
	fail "ls -lR hung or failed"
check_eq "an uncommitted file reads" "$(timeout 20 cat "$M/local.txt")" \
	"not committed: local only"

# 16 readers of one evicted file: one fetch per range.
fault "$sps" '{"offline": false}'
expect 0 "evict for the readers" -- efs evict "$M/data"
cold
before=$(efs miners --json | python3 -c 'import json,sys
print(sum(m["performance"]["retrievals"] for m in json.load(sys.stdin)))')
readers=()
for i in $(seq 16); do
	(timeout 60 sha256sum "$M/data/big" >"$T/r$i" 2>&1) &
	readers+=($!)
done
wait "${readers[@]}"
grep -q "$(awk '/big$/ {print $1}' "$T/sums")" "$T/r1" &&
	pass "the readers read the right bytes" || fail "reader 1: $(cat "$T/r1")"
check_eq "16 readers agree" "$(cat "$T"/r* | awk '{print $1}' | sort -u | wc -l)" 1
after=$(efs miners --json | python3 -c 'import json,sys
print(sum(m["performance"]["retrievals"] for m in json.load(sys.stdin)))')
fetches=$((after - before))
echo "# 16 readers of a 5 MB file: $fetches fetches"
[ "$fetches" -le 4 ] && pass "16 readers share the fetches ($fetches)" ||
	fail "16 readers made $fetches fetches"

# A directory committed again after its blocks were evicted: the dealer
# fetches them back to make the new commit's piece.
expect 0 "evict before the re-commit" -- efs evict "$M/data"
echo "new" >"$M/data/new.txt"
expect 0 "commit again" -- efs commit "$M/data"
pieced()
{
	efs status --json | python3 -c 'import json, sys
c = json.load(sys.stdin)["commits"]
sys.exit(0 if c and c[-1]["stage"] == "pieced" else 1)'
}
wait_for 60 pieced && pass "a re-commit of evicted data is pieced" ||
	fail "re-commit: $(efs status | tail -3)"

fs_stop
finish
