#!/bin/bash
# test_daemon.sh - `estuaryfs daemon`: the daemon's services without a
# mount (dealer off, HTTP on a free port), in the foreground and
# detached: /health and the JSON errors over real HTTP, SIGTERM and
# SIGINT giving a clean exit 0, `daemon stop`, a second daemon refused
# with a clear message, one-line errors for a bad config.json, a bad or
# taken listen address, and a stale daemon.pid.  With usable FUSE, a
# mount hosts the same services (and a daemon beside it is refused);
# -o nodaemon leaves them out.
#
# How the test learns the port: the daemon writes <repo>/api.url (its
# base URL, "http://127.0.0.1:PORT", and a newline) once all its services
# are up, and removes it when it stops; the log also says
# "http: listening on URL".  HTTP requests go through bash's /dev/tcp, so
# the test needs no client program.
. "$(dirname "$0")/lib.sh"

R=$ESTUARYFS_HOME
OFF='{"dealer":{"enabled":false},"http":{"listen":"127.0.0.1:0"}}'

config()
{
	mkdir -p "$R"
	echo "$1" >"$R/config.json"
}

# GET PATH from the server in $R/api.url: the reply (status line, headers,
# body) in $T/http; its status code printed.
get()
{
	local url port
	url=$(cat "$R/api.url" 2>/dev/null) || return 1
	port=${url##*:}
	exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
	printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$1" >&3
	timeout 10 cat <&3 >"$T/http"
	exec 3<&-
	head -1 "$T/http" | cut -d' ' -f2
}

# The body of the last reply.
body()
{
	sed '1,/^\r$/d' "$T/http"
}

# Start `daemon -f` in the background ($DPID) and wait for api.url.
daemon_fg()
{
	"$EFS" daemon -f "$@" >"$T/fg.out" 2>"$T/fg.log" &
	DPID=$!
	if ! wait_for 20 '[ -s "$R/api.url" ] || ! kill -0 $DPID 2>/dev/null' ||
	    [ ! -s "$R/api.url" ]; then
		fail "daemon -f did not come up"
		sed 's/^/    log: /' "$T/fg.log" | head -5 >&2
		return 1
	fi
	return 0
}

# Wait for $DPID to exit; its status in $?.
daemon_wait()
{
	if ! wait_for 30 '! kill -0 $DPID 2>/dev/null'; then
		fail "the daemon did not exit"
		kill -9 "$DPID"
	fi
	wait "$DPID"
}

# ---- the command line ----
expect 0 "daemon --help" -- "$EFS" daemon --help
grep -q "config.json" "$T/out" && pass "help names config.json" ||
	fail "help does not name config.json"
expect 2 "daemon with an argument" -- "$EFS" daemon bogus
check_err "one line for the argument" "unexpected 'bogus'"
expect 2 "a bad log level" -- "$EFS" daemon --log-level loud
expect 3 "daemon stop without a repository" -- "$EFS" daemon stop
check_err "no daemon: one line" "no daemon runs"

# ---- in the foreground ----
config "$OFF"
if daemon_fg --log-level info; then
	url=$(cat "$R/api.url")
	case $url in
	http://127.0.0.1:[0-9]*) pass "api.url: $url" ;;
	*) fail "api.url is '$url'" ;;
	esac
	check_eq "port 0 picked a port" "$([ "${url##*:}" -gt 0 ] && echo y)" y
	grep -q "http: listening on $url\$" "$T/fg.log" &&
		pass "the log names the URL" || fail "no listening line in the log"
	grep -q "dealer disabled in config.json" "$T/fg.log" &&
		pass "the log says the dealer is disabled" ||
		fail "no 'dealer disabled' line"
	check_eq "daemon.pid" "$(cat "$R/daemon.pid")" "$DPID"

	check_eq "GET /health" "$(get /health)" 200
	check_eq "/health body" "$(body)" \
		"{\"ok\":true,\"version\":\"$("$EFS" --version | cut -d' ' -f2)\",\"dealer\":false}"
	check_eq "GET /nope" "$(get /nope)" 404
	check_eq "404 body" "$(body)" \
		'{"error":{"reason":"NOT_FOUND","details":"no route for GET /nope"}}'
	check_eq "GET /transfer/x without a dealer" "$(get /transfer/x)" 503
	grep -qi "^retry-after: " "$T/http" && pass "503 with Retry-After" ||
		fail "503 without Retry-After"

	# a second daemon on the same repository, detached and not
	expect 1 "a second daemon" -- "$EFS" daemon
	check_err "second daemon: one line" "a daemon (pid $DPID) already serves"
	expect 1 "a second daemon -f" -- "$EFS" daemon -f
	check_err "second daemon -f: one line" "already serves"
	check_eq "the first one still answers" "$(get /health)" 200

	kill -TERM "$DPID"
	daemon_wait
	check_eq "SIGTERM: exit status" "$?" 0
	[ ! -e "$R/api.url" ] && pass "api.url removed" || fail "api.url left"
	[ ! -e "$R/daemon.pid" ] && pass "daemon.pid removed" ||
		fail "daemon.pid left"
	grep -q "stopped" "$T/fg.log" && pass "the log says stopped" ||
		fail "no 'stopped' in the log"
fi

# SIGINT, which a shell leaves ignored in background jobs
if daemon_fg; then
	kill -INT "$DPID"
	daemon_wait
	check_eq "SIGINT: exit status" "$?" 0
fi

# ---- detached ----
expect 0 "daemon (detached)" -- "$EFS" daemon
if [ -s "$R/api.url" ] && [ -s "$R/daemon.pid" ]; then
	pass "detached: api.url and daemon.pid are there when it returns"
	pid=$(cat "$R/daemon.pid")
	check_eq "detached: GET /health" "$(get /health)" 200
	grep -q "http: listening on $(cat "$R/api.url")" "$R/logs/daemon.log" &&
		pass "detached: logs/daemon.log" ||
		fail "detached: nothing in logs/daemon.log"
	expect 0 "daemon stop" -- "$EFS" daemon stop
	# gone, or a zombie its new parent has not reaped yet
	case $(ps -o stat= -p "$pid") in
	"" | Z*) pass "daemon stop waited for the exit" ;;
	*) fail "the daemon still runs after stop" ;;
	esac
	[ ! -e "$R/api.url" ] && pass "stop: api.url removed" ||
		fail "stop: api.url left"
	expect 3 "daemon stop again" -- "$EFS" daemon stop
	check_err "stop again: one line" "no daemon runs for"
else
	fail "detached: no api.url or daemon.pid"
	[ -s "$R/daemon.pid" ] && kill "$(cat "$R/daemon.pid")"
fi

# a daemon.pid left by a kill -9: never trusted, removed
echo $$ >"$R/daemon.pid"
expect 3 "stop with a stale daemon.pid" -- "$EFS" daemon stop
[ ! -e "$R/daemon.pid" ] && pass "stale daemon.pid removed" ||
	fail "stale daemon.pid left"

# ---- bad configurations: one line, exit 1, nothing left running ----
config '{"dealer":{"replication":0}}'
expect 1 "a bad value" -- "$EFS" daemon
check_err "bad value: one line" "config.json: dealer.replication: must be 1 to 64"
config '{"dealer":{"enabled":false'
expect 1 "not JSON (-f)" -- "$EFS" daemon -f
check_err "not JSON: one line" "config.json: line [0-9]*: "
config '{"http":{"listne":"127.0.0.1:0"}}'
expect 1 "an unknown key" -- "$EFS" daemon
check_err "unknown key: one line" "unknown key http.listne"
config '{"dealer":{"enabled":false},"http":{"listen":"localhost"}}'
expect 1 "a listen address without a port" -- "$EFS" daemon
check_err "bad listen: one line" "bad listen address"
[ ! -e "$R/daemon.pid" ] && [ ! -e "$R/api.url" ] &&
	pass "failed starts leave no daemon.pid or api.url" ||
	fail "a failed start left daemon.pid or api.url"

# a port another program has (the first daemon's, from another repository)
config "$OFF"
if daemon_fg; then
	taken=$(cat "$R/api.url")
	taken=${taken#http://}
	mkdir -p "$T/repo2"
	echo "{\"dealer\":{\"enabled\":false},\"http\":{\"listen\":\"$taken\"}}" \
		>"$T/repo2/config.json"
	expect 1 "a port in use" -- env ESTUARYFS_HOME="$T/repo2" "$EFS" daemon
	check_err "port in use: one line" \
		"cannot listen on $taken: .*(set http.listen in .*config.json)$"
	kill -TERM "$DPID"
	daemon_wait
fi

# ---- the dealer on: the devnet, started and stopped with the daemon ----
# (the estuaryfs-devnet program of the build tree, found beside the
# executable; this part is skipped when it is not there)
R3="$T/repo3"
mkdir -p "$R3"
echo '{"http":{"listen":"127.0.0.1:0"}}' >"$R3/config.json"
ESTUARYFS_HOME=$R3 "$EFS" daemon -f >"$T/dealer.out" 2>"$T/dealer.log" &
DPID=$!
if wait_for 30 '[ -s "$R3/api.url" ] || ! kill -0 $DPID 2>/dev/null' &&
    [ -s "$R3/api.url" ]; then
	saved=$R
	R=$R3
	check_eq "dealer on: GET /health" "$(get /health)" 200
	body | grep -q '"dealer":true' && pass "dealer on: /health says so" ||
		fail "dealer on: /health says '$(body)'"
	wait_for 30 '[ "$(get /dealer)" = 200 ] && body | grep -q "\"cycle\""' &&
		pass "dealer on: GET /dealer, its report" ||
		fail "dealer on: /dealer says '$(body)'"
	body | grep -q '"kind":"devnet"' && pass "dealer on: /dealer names the devnet" ||
		fail "dealer on: /dealer says '$(body)'"
	# served by the dealer's transfers now: an unknown token is a 404
	check_eq "dealer on: GET /transfer/<unknown>" \
		"$(get /transfer/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA)" 404
	grep -q "devnet" "$T/dealer.log" && pass "dealer on: the log names the devnet" ||
		fail "dealer on: no devnet in the log"
	R=$saved
	kill -TERM "$DPID"
	daemon_wait
	check_eq "dealer on: SIGTERM exit status" "$?" 0
	if grep -q "Z error " "$T/dealer.log"; then
		fail "dealer on: errors in the log"
		grep "Z error " "$T/dealer.log" | head -5 >&2
	fi
	ps -e -o args= | grep -q "[e]stuaryfs-devnet.*$R3" &&
		fail "dealer on: the devnet outlived the daemon" ||
		pass "dealer on: the devnet stopped with the daemon"
elif grep -q "estuaryfs-devnet" "$T/dealer.log"; then
	echo "skipped the dealer part: $(tail -1 "$T/dealer.log")"
else
	fail "dealer on: the daemon did not come up"
	sed 's/^/    log: /' "$T/dealer.log" | head -10 >&2
	kill -9 "$DPID" 2>/dev/null
fi

# ---- a mount hosts the same services ----
fuse_ok()
{
	[ -c /dev/fuse ] && [ -r /dev/fuse ] && [ -w /dev/fuse ] &&
		command -v fusermount3 >/dev/null &&
		"$EFS" help mount >/dev/null 2>&1
}

if fuse_ok; then
	M="$T/mnt"
	mkdir -p "$M"
	rm -f "$R/api.url"
	"$EFS" mount -f "$M" >"$T/mount.log" 2>&1 &
	MPID=$!
	if wait_for 20 'mountpoint -q "$M" || ! kill -0 $MPID 2>/dev/null' &&
	    mountpoint -q "$M"; then
		[ -s "$R/api.url" ] && pass "mount: api.url" ||
			fail "mount: no api.url"
		check_eq "mount: GET /health" "$(get /health)" 200
		expect 1 "a daemon beside a mount" -- "$EFS" daemon
		check_err "daemon beside a mount: one line" \
			"in use by another estuaryfs process: a mount of it"
		expect 0 "unmount" -- "$EFS" unmount "$M"
		DPID=$MPID
		daemon_wait
		check_eq "mount: exit status" "$?" 0
		[ ! -e "$R/api.url" ] && pass "unmount: api.url removed" ||
			fail "unmount: api.url left"

		"$EFS" mount -f -o nodaemon "$M" >"$T/mount.log" 2>&1 &
		MPID=$!
		if wait_for 20 'mountpoint -q "$M" || ! kill -0 $MPID 2>/dev/null' &&
		    mountpoint -q "$M"; then
			[ ! -e "$R/api.url" ] && pass "-o nodaemon: no services" ||
				fail "-o nodaemon: api.url written"
			grep -q "listening" "$T/mount.log" &&
				fail "-o nodaemon: the server listens"
			"$EFS" unmount "$M" || fail "unmount (nodaemon)"
		else
			fail "mount -o nodaemon did not come up"
		fi
		DPID=$MPID
		daemon_wait
	elif grep -qiE 'permission denied|not permitted|fuse: device' \
	    "$T/mount.log"; then
		echo "skipped the mount part: FUSE is not usable here"
	else
		fail "the mount did not come up"
		tail -5 "$T/mount.log" >&2
	fi
	fusermount3 -uz "$M" 2>/dev/null
else
	echo "skipped the mount part: no FUSE here"
fi

finish
