#!/bin/bash
# test_metrics.sh - GET /metrics of a mount's daemon counts the mount's
# FUSE operations: after mkdir, writes, reads (O_DIRECT, past the page
# cache), ls, truncate, fsync, rename, unlink, rmdir of a full directory
# (an error) and df, each operation's efs_fuse_ops_total grew, errors
# only where an operation failed, and every histogram is whole (its
# +Inf bucket is its _count is its ops_total).  Then `estuaryfs daemon`
# on the same repository, without a mount, shows no efs_fuse_ series but
# the retrieval histograms.  Exits 77 (SKIP) without usable FUSE or curl.
. "$(dirname "$0")/lib.sh"

if ! command -v curl >/dev/null; then
	echo "SKIP: curl is missing"
	exit 77
fi
fs_require
fs_start

R=$ESTUARYFS_HOME
wait_for 20 '[ -s "$R/api.url" ]' || fail "api.url not written"
URL=$(cat "$R/api.url")

# scrape NAME: /metrics into $T/NAME
scrape()
{
	curl -sf "$URL/metrics" >"$T/$1" || fail "GET /metrics ($1)"
}

# val NAME KEY: the value of sample KEY in scrape NAME (empty: absent)
val()
{
	awk -v k="$2" '$1 == k { print $2 }' "$T/$1"
}

ops() { val "$1" "efs_fuse_ops_total{op=\"$2\"}"; }
errors() { val "$1" "efs_fuse_op_errors_total{op=\"$2\"}"; }

scrape before
check_eq "an idle op is shown at 0" "$(ops before rmdir)" 0

mkdir -p "$M/d/sub" "$M/gone"
head -c 300000 /dev/urandom >"$M/d/f"
dd if="$M/d/f" of=/dev/null iflag=direct bs=64k 2>/dev/null ||
	fail "O_DIRECT read"
ls -l "$M/d" >/dev/null
truncate -s 1000 "$M/d/f"
sync "$M/d/f"
mv "$M/d/f" "$M/d/g"
touch "$M/d/h"
rm "$M/d/h"
rmdir "$M/gone"
rmdir "$M/d" 2>/dev/null && fail "rmdir of a full directory succeeded"
df "$M" >/dev/null

scrape after
for op in lookup getattr setattr mkdir create open read write flush fsync \
	release rename unlink rmdir statfs; do
	b=$(ops before $op)
	a=$(ops after $op)
	if [ -n "$a" ] && [ -n "$b" ] && [ "$a" -gt "$b" ]; then
		pass "$op counted ($b -> $a)"
	else
		fail "$op: efs_fuse_ops_total went from '$b' to '$a'"
	fi
done
[ "$(ops after readdir)" -gt 0 ] || [ "$(ops after readdirplus)" -gt 0 ] &&
	pass "listings counted" || fail "no readdir or readdirplus"
check_eq "rmdir: one error (ENOTEMPTY)" \
	"$(($(errors after rmdir) - $(errors before rmdir)))" 1
check_eq "write: no error" "$(errors after write)" 0
check_eq "mkdir: no error" "$(errors after mkdir)" 0

# every histogram whole: +Inf bucket = _count = ops_total
for op in write read getattr rmdir; do
	n=$(ops after $op)
	inf="efs_fuse_op_seconds_bucket{op=\"$op\",le=\"+Inf\"}"
	check_eq "$op: +Inf bucket" "$(val after "$inf")" "$n"
	check_eq "$op: _count" \
		"$(val after "efs_fuse_op_seconds_count{op=\"$op\"}")" "$n"
done
awk '/^efs_fuse_op_seconds_bucket/ {
	op = $1; sub(/,le=.*/, "", op);
	if (op == last && $2 + 0 < prev + 0) bad++;
	last = op; prev = $2
} END { exit bad > 0 }' "$T/after" && pass "buckets never decrease" ||
	fail "a histogram's buckets decrease"
grep -q '^# TYPE efs_fuse_op_seconds histogram$' "$T/after" &&
	pass "histogram TYPE line" || fail "no TYPE efs_fuse_op_seconds line"

fs_stop

# ---- the daemon alone: no mount, no FUSE series ----
"$EFS" daemon -f >"$T/d.out" 2>"$T/d.log" &
DPID=$!
if wait_for 20 '[ -s "$R/api.url" ] || ! kill -0 $DPID 2>/dev/null' &&
    [ -s "$R/api.url" ]; then
	URL=$(cat "$R/api.url")
	scrape daemon
	grep -q '^efs_fuse_' "$T/daemon" && fail "the daemon shows efs_fuse_" ||
		pass "no efs_fuse_ series without a mount"
	check_eq "the daemon's retrieval histogram" \
		"$(val daemon 'efs_retrieval_fetch_seconds_count')" 0
	kill -INT "$DPID"
	wait_for 30 '! kill -0 $DPID 2>/dev/null' || kill -9 "$DPID"
	wait "$DPID" 2>/dev/null
else
	fail "daemon -f did not come up"
	sed 's/^/    log: /' "$T/d.log" | head -5 >&2
	kill -9 "$DPID" 2>/dev/null
fi

finish
