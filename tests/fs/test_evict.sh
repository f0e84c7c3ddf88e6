#!/bin/bash
# test_evict.sh - eviction and retrieval through the mount, on the devnet
# the daemon starts: a committed tree reaches 6 active deals, is evicted,
# and reads back byte-identical from the SPs after the kernel's caches
# are gone (sha256sum, cp -a, rsync -c, each after its own eviction);
# with most SPs offline another one serves; with all of them offline,
# or silent, a read fails with EIO within the timeout while ls -lR and
# files still local keep working; SPs sending flipped or cut bytes are logged as
# garbage and a reader gets the file's bytes (from the whole blocks that
# arrived) or EIO, never theirs, and a good SP then serves the rest; 16
# concurrent readers of one evicted file share the fetches; kill -9 of
# the daemon in the middle of a retrieval (SPs slowed, one block per
# request): the reader is not left hanging, fsck is clean (every local
# block re-hashed, those the bad SPs sent included), the blocks stored
# before the kill are local and the rest still evicted (status), and the
# remount reads the file back byte-identical; a directory committed again
# after its blocks were evicted gets its piece (the dealer fetches them
# back).
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

# Wait until every SP in $1 (space separated) accepts connections: an SP
# follows "offline": false at its worker's next tick.
wait_online()
{
	efs miners --json >"$T/miners.json" 2>/dev/null || return 1
	python3 - "$T/miners.json" $1 <<'PY'
import json, socket, sys, time, urllib.parse
urls = {m["address"]: m["url"] for m in json.load(open(sys.argv[1]))}
for sp in sys.argv[2:]:
    u = urllib.parse.urlsplit(urls[sp])
    end = time.time() + 10
    while True:
        try:
            socket.create_connection((u.hostname, u.port), 1).close()
            break
        except OSError:
            if time.time() > end:
                sys.exit("%s does not answer" % sp)
            time.sleep(0.1)
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

# The kernel's page cache dropped where that is permitted (root, outside
# a read-only /proc/sys); said once when it is not.
dropped=
drop_caches()
{
	sync
	if ! { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null &&
	    [ -z "$dropped" ]; then
		echo "# drop_caches not permitted here: the remount alone" \
			"empties the mount's caches"
	fi
	dropped=1
}

# Drop what the kernel caches of the mount: remount, page cache too.
cold()
{
	fs_stop
	drop_caches
	fs_start
}

# Retrievals the miner log counts, over every SP.
retrievals()
{
	efs miners --json | python3 -c 'import json,sys
print(sum(m["performance"]["retrievals"] for m in json.load(sys.stdin)))'
}

# The cache figures of `status --json`: "local_bytes evicted_bytes
# evicted_blocks".
cache_state()
{
	efs status --json 2>/dev/null | python3 -c 'import json,sys
c = json.load(sys.stdin)["cache"]
print(c["local_bytes"], c["evicted_bytes"], c["evicted_blocks"])'
}

# Retrieval outcomes of SP $1 in its miner log, counted: "garbage ok".
sp_outcomes()
{
	efs miner show "$1" --json | python3 -c 'import json,sys
log = [e for e in json.load(sys.stdin)["log"] if e["action"] == "retrieve"]
print(sum(e["outcome"] == "garbage" for e in log),
      sum(e["outcome"] == "ok" for e in log))'
}

# Evict the tree and drop the caches: the next read goes to the SPs.
evict_cold()
{
	expect 0 "evict $1" -- efs evict "$M/data" || cat "$T/out" >&2
	cold
}

# The tree, kept in $T/orig to compare with.  crash: 12 chunks of 1 MiB,
# for the kill -9 in the middle of its retrieval.
mkdir -p "$T/orig/sub"
head -c 5000000 /dev/urandom >"$T/orig/big"
head -c 12582912 /dev/urandom >"$T/orig/crash"
head -c 300000 /dev/urandom >"$T/orig/sub/mid"
echo "a small file" >"$T/orig/sub/small"
fs_start
cp -a "$T/orig" "$M/data"
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
# statfs: the evicted bytes are free but not available blocks
read -r _ evicted _ <<<"$(cache_state)"
read -r bs free avail <<<"$(stat -f -c '%S %f %a' "$M")"
shown=$(((free - avail) * bs))
[ "$shown" -ge "$evicted" ] && [ "$shown" -lt $((evicted + 1048576)) ] &&
	pass "statfs: free - available = the evicted bytes" ||
	fail "statfs: free - available = $shown bytes, evicted $evicted"

# Each tool reads the tree evicted, from the SPs.
cold
before=$(retrievals)
(cd "$M/data" && sha256sum -c --quiet "$T/sums") >"$T/check" 2>&1 &&
	pass "read back byte-identical (sha256sum)" ||
	fail "sha256sum: $(head -5 "$T/check")"
[ "$(retrievals)" -gt "$before" ] && pass "sha256sum read from the SPs" ||
	fail "sha256sum: no retrieval"

evict_cold "for cp -a"
before=$(retrievals)
rm -rf "$T/copy"
cp -a "$M/data" "$T/copy" && diff -r "$T/orig" "$T/copy" &&
	pass "cp -a of the tree: byte-identical" || fail "cp -a"
[ "$(retrievals)" -gt "$before" ] && pass "cp -a read from the SPs" ||
	fail "cp -a: no retrieval"

evict_cold "for rsync -c"
before=$(retrievals)
rm -rf "$T/copy-rsync"
expect 0 "rsync -a -c of the evicted tree" -- \
	rsync -a -c "$M/data/" "$T/copy-rsync/"
diff -r "$T/orig" "$T/copy-rsync" >"$T/diff" 2>&1 &&
	pass "rsync -c copy: byte-identical" || fail "rsync: $(head -3 "$T/diff")"
[ "$(retrievals)" -gt "$before" ] && pass "rsync read from the SPs" ||
	fail "rsync: no retrieval"
expect 0 "rsync -c -n against the original" -- \
	rsync -r -c -n -i "$M/data/" "$T/orig/"
check_eq "rsync -c -n: no difference" "$(cat "$T/out")" ""

# Most SPs offline: the one left serves.
evict_cold "again"
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

# Every SP online but silent (replies held for 20 s): EIO at the 8 s
# timeout, and meanwhile the metadata and local files do not wait.
fault "$sps" '{"offline": false, "slow_ms": 20000}'
wait_online "$sps" || fail "the SPs are not back online"
start=$(date +%s)
timeout 60 cat "$M/data/big" >/dev/null 2>"$T/err" &
slow_reader=$!
sleep 1
timeout 5 ls -lR "$M" >/dev/null &&
	pass "ls -lR while a read waits on silent SPs" ||
	fail "ls -lR waited on the silent SPs"
check_eq "a local file reads while a read waits on silent SPs" \
	"$(timeout 5 cat "$M/local.txt")" "not committed: local only"
if wait "$slow_reader"; then
	fail "a read with every SP silent succeeded"
else
	grep -q "Input/output error" "$T/err" && pass "EIO with every SP silent" ||
		fail "silent SPs, not EIO: $(cat "$T/err")"
fi
took=$(($(date +%s) - start))
[ "$took" -ge 7 ] && [ "$took" -le 20 ] &&
	pass "EIO after ${took} s (timeout 8 s)" || fail "EIO took ${took} s"
fault "$sps" '{"slow_ms": 0}'

# SPs sending flipped or cut bytes, alone online: what a reader gets is
# the file's bytes or EIO, never theirs (the blocks that did arrive whole
# before a cut are good: they may serve the file in pieces); both are
# logged as garbage; a good one then serves the rest.
evict_cold "for the bad SPs"
set -- $sps
fault "${*:3}" '{"offline": true}'
fault "$1" '{"corrupt_retrieval": true}'
fault "$2" '{"truncate_retrieval": true}'
wait_online "$1 $2" || fail "the bad SPs are not back online"
if timeout 60 cat "$M/data/big" >"$T/bad.out" 2>"$T/err"; then
	cmp -s "$T/bad.out" "$T/orig/big" &&
		pass "only bad SPs: their good blocks served the file" ||
		fail "only bad SPs: the read returned wrong bytes"
else
	grep -q "Input/output error" "$T/err" &&
		pass "only bad SPs: EIO" || fail "not EIO: $(cat "$T/err")"
	cmp -s -n "$(stat -c %s "$T/bad.out")" "$T/bad.out" "$T/orig/big" &&
		pass "no bad byte reached the reader" ||
		fail "the reader got bytes that are not the file's"
fi
read -r garbage ok < <(sp_outcomes "$1")
[ "${garbage:-0}" -ge 1 ] && pass "$1 (corrupt) logged as garbage" ||
	fail "$1 (corrupt): $garbage garbage in its log"
read -r garbage ok < <(sp_outcomes "$2")
[ "${garbage:-0}" -ge 1 ] && pass "$2 (truncating) logged as garbage" ||
	fail "$2 (truncating): $garbage garbage in its log"
fault "$3" '{"offline": false}'
wait_online "$3" || fail "$3 is not back online"
(cd "$M/data" && sha256sum -c --quiet "$T/sums") >"$T/check" 2>&1 &&
	pass "a good SP serves beside the bad ones" ||
	fail "with a good SP: $(head -5 "$T/check")"
read -r garbage ok < <(sp_outcomes "$3")
[ "${ok:-0}" -ge 1 ] && pass "$3 served" || fail "$3: no ok retrieval"

# 16 readers of one evicted file: one fetch per range.
fault "$sps" '{"offline": false, "corrupt_retrieval": false,
	       "truncate_retrieval": false}'
wait_online "$sps" || fail "the SPs are not back online"
expect 0 "evict for the readers" -- efs evict "$M/data"
cold
before=$(retrievals)
readers=()
for i in $(seq 16); do
	(timeout 60 sha256sum "$M/data/big" >"$T/r$i" 2>&1) &
	readers+=($!)
done
wait "${readers[@]}"
grep -q "$(awk '/big$/ {print $1}' "$T/sums")" "$T/r1" &&
	pass "the readers read the right bytes" || fail "reader 1: $(cat "$T/r1")"
check_eq "16 readers agree" \
	"$(cat "$T"/r[0-9]* | awk '{print $1}' | sort -u | wc -l)" 1
after=$(retrievals)
fetches=$((after - before))
echo "# 16 readers of a 5 MB file: $fetches fetches"
[ "$fetches" -le 4 ] && pass "16 readers share the fetches ($fetches)" ||
	fail "16 readers made $fetches fetches"

# kill -9 in the middle of a retrieval.  One block per request and every
# SP slowed, so the retrieval of crash is a dozen slow requests.
expect 0 "evict before the kill" -- efs evict "$M/data"
read -r local0 evicted0 blocks0 < <(cache_state)
fs_stop
echo '{"dealer":{"check_interval_s":2},"http":{"listen":"127.0.0.1:0"},
       "retrieval":{"timeout_s":30,"readahead":"1MiB"}}' \
	>"$ESTUARYFS_HOME/config.json"
drop_caches
fs_start
fault "$sps" '{"slow_ms": 1500}'
timeout 60 cat "$M/data/crash" >"$T/crash.out" 2>"$T/crash.err" &
reader=$!
wait_for 30 'read -r l e b < <(cache_state) &&
	[ "${b:-$blocks0}" -lt "$blocks0" ]' ||
	fail "no block of crash came back within 30 s"
read -r local1 evicted1 blocks1 < <(cache_state)
echo "# at the kill: $blocks1 of $blocks0 blocks still evicted"
fs_kill
if wait_for 20 '! kill -0 $reader 2>/dev/null'; then
	wait "$reader"
	rc=$?
	[ "$rc" -ne 0 ] && pass "the reader failed at the kill (exit $rc)" ||
		fail "the reader finished before the kill"
else
	fail "the reader hangs after the kill"
	kill -9 "$reader" 2>/dev/null
fi
expect 0 "fsck after kill -9 during a retrieval" -- efs fsck
read -r local2 evicted2 blocks2 < <(cache_state)
echo "# after the kill: $blocks2 blocks evicted"
[ "$blocks2" -le "$blocks1" ] && [ "$blocks2" -gt 0 ] &&
	pass "blocks stored before the kill are local, the rest evicted" ||
	fail "evicted blocks: $blocks0 before, $blocks1 at the kill, $blocks2 after"
check_eq "local + evicted bytes unchanged by the kill" \
	$((local2 + evicted2)) $((local0 + evicted0))
fault "$sps" '{"slow_ms": 0}'
drop_caches
fs_start
cmp "$M/data/crash" "$T/orig/crash" &&
	pass "the file reads back byte-identical after the restart" ||
	fail "crash differs after the restart"
read -r local3 evicted3 blocks3 < <(cache_state)
check_eq "status: crash local again, the rest still evicted" \
	"$evicted3 $((local3 + evicted3))" \
	"$((evicted0 - 12582912)) $((local0 + evicted0))"

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
