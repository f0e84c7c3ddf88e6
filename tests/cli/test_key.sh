#!/bin/bash
# test_key.sh - `estuaryfs key create|list|revoke` and a running
# `estuaryfs daemon` honouring them: create prints the key once (alone
# on stdout, or into a new 0600 file with -o), list and the index never
# show it, usage errors are one line; against the daemon (dealer off,
# HTTP on a free port) over curl: no key 401, a read key 403 on POST /gc
# and 200 on GET /auth, a write key 200 on POST /gc, the daemon's
# api.token still admin, a key made while the daemon runs works at
# once and a revoked one is refused at the very next request, with no
# restart.  Skipped (77) without curl.
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null || {
	echo "SKIP: no curl"
	exit 77
}

R=$ESTUARYFS_HOME
KEY_RE='^EST[0-9a-f]{64}ARY$'

# ---- without a daemon ----
expect 0 "key --help" -- "$EFS" key --help
expect 2 "key without a subcommand" -- "$EFS" key
check_err "no subcommand: one line" "create, list or revoke"
expect 2 "create without --scope" -- "$EFS" key create
expect 2 "a bad scope" -- "$EFS" key create --scope root
check_err "bad scope: one line" "no scope \"root\""
expect 2 "a bad duration" -- "$EFS" key create --scope read --expires 3q
check_err "bad duration: one line" "bad duration"
expect 2 "list with --scope" -- "$EFS" key list --scope read
expect 2 "revoke without an ID" -- "$EFS" key revoke
expect 2 "revoke a bad ID" -- "$EFS" key revoke x1
expect 0 "list with no keys" -- "$EFS" key list
check_eq "no keys: nothing on stdout" "$(cat "$T/out")" ""

expect 0 "create a read key" -- "$EFS" key create --scope read --label "ci bot"
RKEY=$(cat "$T/out")
check_eq "the key alone on stdout" "$(wc -l <"$T/out")" 1
echo "$RKEY" | grep -Eq "$KEY_RE" && pass "the key's form" ||
	fail "not a key: '$RKEY'"
grep -q "key 1 (${RKEY:0:11}, ci bot), read scope, expires" "$T/err" &&
	pass "what was made, on stderr" || fail "stderr: $(cat "$T/err")"
grep -q "$RKEY" "$T/err" && fail "the key on stderr too"

expect 0 "create a write key into a file" -- \
	"$EFS" key create --scope write --expires 90d -o "$T/write.key"
check_eq "-o: nothing on stdout" "$(cat "$T/out")" ""
check_eq "-o: mode 0600" "$(stat -c %a "$T/write.key")" 600
WKEY=$(cat "$T/write.key")
echo "$WKEY" | grep -Eq "$KEY_RE" && pass "-o: the key" || fail "-o: '$WKEY'"
expect 1 "-o never overwrites" -- \
	"$EFS" key create --scope write -o "$T/write.key"
check_eq "-o: the file kept" "$(cat "$T/write.key")" "$WKEY"

expect 0 "create --json" -- \
	"$EFS" key create --scope admin --expires never --json
JKEY=$(sed -n 's/.*"secret": "\(EST[0-9a-f]*ARY\)".*/\1/p' "$T/out")
echo "$JKEY" | grep -Eq "$KEY_RE" && pass "--json: the secret" ||
	fail "--json: $(cat "$T/out")"
grep -q '"expires": null' "$T/out" && pass "--json: never expires" ||
	fail "--json: expiry"

expect 0 "list" -- "$EFS" key list
check_eq "list: a header and 3 keys" "$(wc -l <"$T/out")" 4
grep -q "^1 .*${RKEY:0:11} read  active .*ci bot$" "$T/out" &&
	pass "list: key 1" || fail "list: $(cat "$T/out")"
expect 0 "list --json" -- "$EFS" key list --json
check_eq "list --json: 3 keys" "$(grep -c '"prefix"' "$T/out")" 3
for k in "$RKEY" "$WKEY" "$JKEY" "${RKEY:3:64}"; do
	"$EFS" key list >"$T/l1" 2>&1
	"$EFS" key list --json >"$T/l2" 2>&1
	if grep -q "$k" "$T/l1" "$T/l2" "$R"/index.db*; then
		fail "a secret is shown by list or stored in the index"
	fi
done
pass "list and the index never hold a secret"

# ---- a running daemon ----
echo '{"dealer":{"enabled":false},"http":{"listen":"127.0.0.1:0"}}' \
	>"$R/config.json"
expect 0 "daemon (detached)" -- "$EFS" daemon
if [ ! -s "$R/api.url" ]; then
	fail "no api.url"
	finish
fi
URL=$(cat "$R/api.url")

# METHOD PATH [KEY]: the status; the body in $T/body
req()
{
	local auth=()
	[ -n "${3:-}" ] && auth=(-H "Authorization: Bearer $3")
	curl -s -o "$T/body" -w '%{http_code}' -X "$1" "${auth[@]}" \
		${4:+--data "$4"} "$URL$2"
}

check_eq "POST /gc, no key: 401" "$(req POST /gc)" 401
grep -q UNAUTHORIZED "$T/body" && pass "401: the JSON error" ||
	fail "401: $(cat "$T/body")"
check_eq "POST /gc, a bad key: 401" "$(req POST /gc "EST${RKEY:4}")" 401
check_eq "POST /gc, a read key: 403" "$(req POST /gc "$RKEY")" 403
grep -q FORBIDDEN "$T/body" && pass "403: the JSON error" ||
	fail "403: $(cat "$T/body")"
check_eq "GET /auth, a read key: 200" "$(req GET /auth "$RKEY")" 200
grep -q '"scope": *"read"' "$T/body" && pass "/auth: read" ||
	fail "/auth: $(cat "$T/body")"
check_eq "GET /auth, no key: 401" "$(req GET /auth)" 401
check_eq "GET /health, no key: 200" "$(req GET /health)" 200
check_eq "POST /gc, the write key: 200" "$(req POST /gc "$WKEY")" 200
grep -q '"blocks"' "$T/body" && pass "/gc ran" || fail "/gc: $(cat "$T/body")"
check_eq "POST /gc, the admin key: 200" "$(req POST /gc "$JKEY")" 200
check_eq "POST /gc, api.token: 200" \
	"$(req POST /gc "$(cat "$R/api.token")")" 200
check_eq "api.token mode 0600" "$(stat -c %a "$R/api.token")" 600
expect 0 "gc through the daemon (the CLI's token)" -- "$EFS" gc

# made while the daemon runs: works at once
expect 0 "create while the daemon runs" -- "$EFS" key create --scope write
NKEY=$(cat "$T/out")
check_eq "the new key at once: 200" "$(req POST /gc "$NKEY")" 200
# revoked while it runs: refused at the next request
expect 0 "revoke the write key" -- "$EFS" key revoke 2
check_err "revoke: one line" "key 2 (${WKEY:0:11}) is revoked"
check_eq "the revoked key at once: 401" "$(req POST /gc "$WKEY")" 401
grep -q "key 2 is revoked" "$T/body" && pass "401 says revoked" ||
	fail "401: $(cat "$T/body")"
check_eq "the other key still: 200" "$(req POST /gc "$NKEY")" 200
expect 3 "revoke an unknown key" -- "$EFS" key revoke 99
"$EFS" key list >"$T/out" 2>&1
grep -q "^2 .* revoked " "$T/out" && pass "list: revoked" ||
	fail "list: $(cat "$T/out")"
grep -q "^4 .* active .*20[0-9-]* [0-9:]* *$" "$T/out" &&
	pass "list: last used" || fail "list, last used: $(cat "$T/out")"
grep -Eq "EST[0-9a-f]{64}ARY" "$R/logs/daemon.log" &&
	fail "a key in the daemon's log" || pass "no key in the daemon's log"

expect 0 "daemon stop" -- "$EFS" daemon stop
finish
