#!/bin/bash
# test_upload_big.sh - uploads of 1 GiB (UPLOAD_BIG_SIZE bytes) through
# each of the daemon's streamed upload routes, with the daemon's peak RSS
# (VmHWM) checked under 128 MiB: its memory must not grow with the size
# of what it is sent.  Under AddressSanitizer: 64 MiB, RSS not judged.
#
#   POST /content/add       a multipart form built around the data in a
#                           pipe (curl -T -: chunked), CID = `estuaryfs
#                           add` of the same bytes in another repository
#   POST /content/add-car   that repository's `car export` of the DAG
#   PUT  /car/import        the same CAR (as `curl -T dag.car` sends it)
#
# and a client gone mid-upload (curl killed) leaves the daemon serving.
# The data is AES-CTR keystream from openssl (fast, deterministic), piped,
# never written to a file.  Skipped (77) without openssl or curl.
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null && command -v curl >/dev/null || exit 77

R=$ESTUARYFS_HOME
L=$T/local
SIZE=${UPLOAD_BIG_SIZE:-1073741824}
HWM_MAX_KB=$((128 * 1024))
# Under AddressSanitizer (its shadow memory and quarantine count in the
# RSS, and it is slow) the sizes are smaller and the RSS is not judged.
if ldd "$EFS" 2>/dev/null | grep -q libasan; then
	SIZE=${UPLOAD_BIG_SIZE:-67108864}
	HWM_MAX_KB=
fi

gen()
{
	openssl enc -aes-128-ctr -K 00112233445566778899aabbccddeeff \
		-iv 0 </dev/zero 2>/dev/null | head -c "$SIZE"
}

# The JSON value of KEY (a string) in $T/reply.
json_str()
{
	jq -r "$1" "$T/reply" 2>/dev/null
}

# ---- a local repository: the CID to expect, and the CAR ----
start=$(date +%s)
want=$(gen | ESTUARYFS_HOME=$L "$EFS" add -q - 2>"$T/err")
[ -n "$want" ] && pass "local add: $want ($(($(date +%s) - start)) s)" ||
	fail "local add failed: $(cat "$T/err")"

# ---- the daemon ----
mkdir -p "$R"
echo '{"dealer":{"enabled":false},"http":{"listen":"127.0.0.1:0"}}' \
	>"$R/config.json"
"$EFS" daemon -f >"$T/fg.out" 2>"$T/fg.log" &
DPID=$!
trap 'kill $DPID 2>/dev/null; wait $DPID 2>/dev/null; rm -rf "$T"' EXIT
if ! wait_for 20 '[ -s "$R/api.url" ]'; then
	fail "the daemon did not come up"
	sed 's/^/    log: /' "$T/fg.log" | head -5 >&2
	finish
fi
URL=$(cat "$R/api.url")
AUTH="Authorization: Bearer $(cat "$R/api.token")"

# POST /content/add, the form around the data, streamed
start=$(date +%s)
{
	printf -- '--B\r\nContent-Disposition: form-data; name="data"; '
	printf -- 'filename="big.bin"\r\n\r\n'
	gen
	printf -- '\r\n--B--\r\n'
} | curl -sS -X POST -T - -H "$AUTH" \
	-H 'Content-Type: multipart/form-data; boundary=B' \
	-o "$T/reply" -w '%{http_code}' "$URL/content/add" >"$T/code"
check_eq "/content/add status" "$(cat "$T/code")" 200
check_eq "/content/add CID = estuaryfs add" "$(json_str .cid)" "$want"
check_eq "/content/add size" "$(json_str .size)" "$SIZE"
pass "/content/add took $(($(date +%s) - start)) s"

# POST /content/add-car: the local repository's CAR export
start=$(date +%s)
ESTUARYFS_HOME=$L "$EFS" car export "$want" |
	curl -sS -X POST -T - -H "$AUTH" -o "$T/reply" -w '%{http_code}' \
		"$URL/content/add-car" >"$T/code"
check_eq "/content/add-car status" "$(cat "$T/code")" 200
check_eq "/content/add-car CID = car export" "$(json_str .cid)" "$want"
pass "/content/add-car took $(($(date +%s) - start)) s"

# PUT /car/import (curl -T), pinning the root
start=$(date +%s)
ESTUARYFS_HOME=$L "$EFS" car export "$want" |
	curl -sS -T - -H "$AUTH" -H 'Content-Type: application/vnd.ipld.car' \
		-o "$T/reply" -w '%{http_code}' "$URL/car/import" >"$T/code"
check_eq "/car/import status" "$(cat "$T/code")" 200
check_eq "/car/import root" "$(json_str '.roots[0]')" "$want"
check_eq "/car/import pinned" "$(json_str '.pinned[0]')" "$want"
pass "/car/import took $(($(date +%s) - start)) s"

# a client gone mid-upload (a valid CAR: random bytes would be refused
# at its header, a 400, not a client leaving)
ESTUARYFS_HOME=$L "$EFS" car export "$want" |
	curl -sS -X POST -T - -H "$AUTH" --limit-rate 20M \
		-H 'Content-Type: application/vnd.ipld.car' -o /dev/null \
		"$URL/car/import" 2>/dev/null &
CPID=$!
sleep 1
kill "$CPID" 2>/dev/null
wait "$CPID" 2>/dev/null
check_eq "healthy after a client left mid-body" \
	"$(curl -sS -o /dev/null -w '%{http_code}' "$URL/health")" 200

hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$DPID/status")
if [ -z "$HWM_MAX_KB" ]; then
	pass "VmHWM not judged under AddressSanitizer"
elif [ -n "$hwm" ] && [ "$hwm" -lt "$HWM_MAX_KB" ]; then
	pass "daemon VmHWM $((hwm / 1024)) MiB < 128 MiB"
else
	fail "daemon VmHWM ${hwm:-?} kB, want < $HWM_MAX_KB kB"
fi
echo "daemon VmHWM: ${hwm:-?} kB after three uploads of $SIZE bytes"
finish
