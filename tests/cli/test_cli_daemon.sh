#!/bin/bash
# test_cli_daemon.sh - the commands that read or write the blockstore work
# while `estuaryfs daemon` holds the repository, through its HTTP API
# (cli/cli_api.h), exactly as they do without one: cat, ls, car export
# (v1, --v2, -o), car import, add, fsck and estimate run against two
# repositories holding the same data, one held by a daemon (B) and one
# not (A), and their stdout, exit codes and (where the message is the
# blockstore's) stderr must be byte-identical.  Errors too: a missing
# path (3), a directory given to cat (2), a missing CID (3), a corrupt
# block (cat and fsck: 4), a bad CAR (4), a refused token (one line), a
# daemon killed in the middle of an add (5, one line).
. "$(dirname "$0")/lib.sh"

A=$T/a
B=$T/b
OFF='{"dealer":{"enabled":false},"http":{"listen":"127.0.0.1:0"}}'
mkdir -p "$A" "$B"
echo "$OFF" >"$A/config.json"
echo "$OFF" >"$B/config.json"

at()
{
	local repo=$1
	shift
	ESTUARYFS_HOME=$repo "$EFS" "$@"
}

daemon_start()
{
	if ! at "$B" daemon >"$T/daemon.out" 2>&1 ||
	    ! wait_for 20 '[ -s "$B/api.url" ]'; then
		fail "the daemon did not come up: $(cat "$T/daemon.out")"
		finish
	fi
}

daemon_stop()
{
	at "$B" daemon stop >/dev/null 2>&1 ||
		fail "daemon stop: exit $?"
}
trap 'daemon_stop 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT

# same DESC [--err] [--in FILE] CMD...: run CMD in A then in B (stdin
# from FILE, or none); stdout and exit code must match, and stderr too
# with --err.  Leaves B's in $T/out, $T/err.
same()
{
	local desc=$1 err=0 in=/dev/null ca cb
	shift
	if [ "$1" = "--err" ]; then
		err=1
		shift
	fi
	if [ "$1" = "--in" ]; then
		in=$2
		shift 2
	fi
	at "$A" "$@" <"$in" >"$T/out.a" 2>"$T/err.a"
	ca=$?
	at "$B" "$@" <"$in" >"$T/out" 2>"$T/err"
	cb=$?
	if [ "$ca" -ne "$cb" ]; then
		fail "$desc: exit $cb through the daemon, $ca without"
		sed 's/^/    stderr: /' "$T/err" | head -3 >&2
	elif ! cmp -s "$T/out.a" "$T/out"; then
		fail "$desc: stdout differs through the daemon"
	elif [ $err -eq 1 ] && ! cmp -s "$T/err.a" "$T/err"; then
		fail "$desc: stderr '$(cat "$T/err")', without: '$(cat "$T/err.a")'"
	else
		pass "$desc (exit $cb)"
	fi
}

# --- the same data in both -------------------------------------------------
mkdir -p "$T/tree/sub" "$T/tree/big"
printf 'hello\n' >"$T/tree/a.txt"
head -c 3000000 /dev/urandom >"$T/tree/sub/blob"
cp "$T/tree/sub/blob" "$T/tree/blob-again"      # a block twice in the DAG
ln -s a.txt "$T/tree/link"
pad=$(printf '%0240d' 0)
for i in $(seq -w 1 1000); do                   # 290 KB: a HAMT
	printf '%s\n' "$i" >"$T/tree/big/entry-$i-$pad"
done
# one raw block, found in the packs by its first bytes (corruption below)
MARK=lone-block-marker-7f3a9c
{ printf '%s' "$MARK"; head -c 200000 /dev/urandom; } >"$T/lone"
for r in "$A" "$B"; do
	at "$r" add -q "$T/tree" >"$T/root" || fail "add the tree to $r"
	at "$r" add -q "$T/lone" >"$T/lone.cid" || fail "add a file to $r"
done
ROOT=$(cat "$T/root")
LONE=$(cat "$T/lone.cid")
NOBODY=bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy

daemon_start

# --- cat and ls -------------------------------------------------------------
same "cat a small file" --err cat "$ROOT/a.txt"
same "cat a big file" --err cat "$ROOT/sub/blob"
check_files "cat a big file: its bytes" "$T/out" "$T/tree/sub/blob"
same "cat --offset --length" --err cat --offset 1000000 --length 1500000 \
	"$ROOT/blob-again"
same "cat past the end" --err cat --offset 5000000 "$ROOT/sub/blob"
same "cat inside a HAMT" --err cat "$ROOT/big/entry-0777-$pad"
same "cat a directory" --err cat "$ROOT"
same "cat a symlink" --err cat "$ROOT/link"
same "cat a missing path" --err cat "$ROOT/nope/a.txt"
same "cat a raw-leaf file" --err cat "$LONE"
same "cat a bad CID" --err cat bafynotacid
same "ls" --err ls "$ROOT"
same "ls -l" --err ls -l "$ROOT"
same "ls a HAMT" --err ls "$ROOT/big"
same "ls -l a HAMT" --err ls -l "$ROOT/big"
same "ls -l a file" --err ls -l "$ROOT/sub/blob"
same "ls a missing path" --err ls "$ROOT/nope"
expect 3 "cat a CID nobody has, through the daemon" -- \
	at "$B" cat "$NOBODY"
check_err "cat a CID nobody has: one line" "$NOBODY"

# --- car export -------------------------------------------------------------
same "car export" --err car export "$ROOT"
same "car export --v2" --err car export --v2 "$ROOT"
at "$A" car export -o "$T/a.car" "$ROOT"
expect 0 "car export -o through the daemon" -- \
	at "$B" car export -o "$T/b.car" "$ROOT"
check_files "car export -o: the same CAR" "$T/a.car" "$T/b.car"
same "car export of a file" --err car export "$LONE"
expect 3 "car export of a CID nobody has" -- at "$B" car export "$NOBODY"
check_err "car export of a CID nobody has: one line" "$NOBODY"
[ ! -s "$T/out" ] && pass "nothing written for a missing root" ||
	fail "car export of a missing root wrote $(stat -c %s "$T/out") bytes"

# --- estimate (a CID that is not a commit: sized by its CAR) ---------------
same "estimate" --err estimate "$ROOT"
same "estimate --json" --err estimate --json -n 3 "$LONE"

# --- fsck -------------------------------------------------------------------
same "fsck" --err fsck
same "fsck --quick -q" --err fsck --quick -q

# --- a refused token ----------------------------------------------------------
good=$(cat "$B/api.token")
printf '%064d\n' 0 >"$B/api.token"
expect 2 "cat with a token the daemon refuses" -- at "$B" cat "$ROOT/a.txt"
check_err "refused token: one line" "refused the token"
expect 2 "add with a token the daemon refuses" -- at "$B" add -q "$T/tree"
check_err "add, refused token: one line" "refused the token"
expect 2 "fsck with a token the daemon refuses" -- at "$B" fsck
check_err "fsck, refused token: one line" "refused the token"
echo "$good" >"$B/api.token"

# --- a corrupt block ----------------------------------------------------------
# One byte of the lone file's block flipped in both repositories (the
# daemon reads packs with pread: it sees the flip at its next read).
for r in "$A" "$B"; do
	pack=$(grep -l -F "$MARK" "$r"/packs/*.pack | head -1)
	off=$(grep -obaF "$MARK" "$pack" | head -1 | cut -d: -f1)
	if [ -z "$off" ]; then
		fail "the lone block is in no pack of $r"
		finish
	fi
	flip_byte "$pack" $((off + 100))
done
same "cat a corrupt block" --err cat "$LONE"
check_eq "cat a corrupt block: exit 4" "$(at "$B" cat "$LONE" \
	>/dev/null 2>&1; echo $?)" 4
same "cat of a file in a tree with a corrupt block" --err cat "$ROOT/a.txt"
same "fsck --quick of a corrupt block" --err fsck --quick
same "fsck of a corrupt block" fsck
check_eq "fsck of a corrupt block: exit 4" "$(at "$B" fsck \
	>/dev/null 2>&1; echo $?)" 4
grep -q "^problem: mismatch: $LONE" "$T/out" &&
	pass "fsck through the daemon names the corrupt block" ||
	fail "fsck through the daemon: $(head -3 "$T/out")"

# --- car import and add (they write: the pins they make differ) ----------
mkdir -p "$T/other"
printf 'other\n' >"$T/other/x"
HOME_C=$T/c
mkdir -p "$HOME_C"
at "$HOME_C" add -q "$T/other" >/dev/null
at "$HOME_C" car export -o "$T/other.car" "$(at "$HOME_C" add -q -n "$T/other")"
same "car import" --err car import -q "$T/other.car"
same "car import again" --err car import -q "$T/other.car"
same "car import from stdin" --err --in "$T/a.car" car import -q -
head -c 1000 "$T/a.car" >"$T/short.car"
same "car import of a cut CAR" car import -q "$T/short.car"
check_err "a cut CAR: one line" "car:"
printf 'not a car\n' >"$T/bad.car"
same "car import of garbage" car import -q "$T/bad.car"
same "car import of a missing file" --err car import -q "$T/nope.car"
head -c 5000000 /dev/urandom >"$T/new.bin"
same "add a new file" --err add -q "$T/new.bin"
NEW=$(cat "$T/out")
same "add from stdin" --err --in "$T/new.bin" add -q \
	--profile unixfs-v0-2015 -
same "add a directory, v0 profile" --err add -q --profile unixfs-v0-2015 \
	"$T/other"
same "add --only-hash" --err add -q -n "$T/tree"
same "add a missing path" --err add -q "$T/nope"
same "cat what add stored" --err cat "$NEW"
check_files "cat what add stored: its bytes" "$T/out" "$T/new.bin"
expect 0 "the daemon pinned what add stored" -- at "$B" unpin "$NEW"
# the pins differ: the daemon names its pins for the CID (POST /pin)
expect 4 "fsck through the daemon after the writes: the one problem" -- \
	at "$B" fsck -q
check_eq "fsck after the writes: one problem" "$(grep -c '^problem:' \
	"$T/out")" 1

# --- the daemon dies in the middle of an add ----------------------------------
# add reads stdin, which pauses halfway: the daemon is killed during the
# pause, and the rest of the upload finds no one.  Then a new daemon on
# the same repository.
{ head -c 3000000 "$T/new.bin"; sleep 2; cat "$T/new.bin"; } |
	at "$B" add -q - >"$T/out" 2>"$T/err" &
ADD=$!
sleep 1
kill -9 "$(cat "$B/daemon.pid")"
wait $ADD
check_eq "add, the daemon killed mid-upload: exit 5" $? 5
check_err "add, the daemon killed mid-upload: one line" "does not answer"
rm -f "$B/api.url"
daemon_start
same "add after the daemon came back" --err add -q "$T/new.bin"

daemon_stop
finish
