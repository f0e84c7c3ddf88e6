# lib.sh - sourced by the CLI integration tests (tests/cli/test_*.sh).
#
# Gives each test a fresh temporary directory under $TMPDIR (default /tmp),
# removed on exit, with ESTUARYFS_HOME pointing into it, and small helpers
# that count failures instead of stopping at the first one.  The estuaryfs
# executable comes from $ESTUARYFS_BIN (meson sets it).
#
#   expect CODE DESC -- CMD...   run CMD, check its exit status is CODE;
#                                its stdout/stderr are left in $T/out, $T/err
#   check_eq DESC GOT WANT       compare two strings
#   check_files DESC A B         compare two files byte for byte
#   check_err DESC PATTERN       $T/err is one line matching the grep PATTERN
#   flip_byte FILE OFFSET        invert every bit of one byte in place
#   wait_for SECS CONDITION      eval CONDITION every 0.1 s until it is true
#                                (0) or SECS have passed (1)
#   finish                       exit 1 if anything failed
set -u

EFS=${ESTUARYFS_BIN:?ESTUARYFS_BIN must name the estuaryfs executable}
T=$(mktemp -d "${TMPDIR:-/tmp}/efs-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
export ESTUARYFS_HOME="$T/repo"
failures=0

fail()
{
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

pass()
{
	echo "ok: $*"
}

efs()
{
	"$EFS" "$@"
}

expect()
{
	local want=$1 desc=$2 got
	shift 3
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	if [ "$got" -eq "$want" ]; then
		pass "$desc"
		return 0
	fi
	fail "$desc: exit $got, want $want"
	sed 's/^/    stderr: /' "$T/err" | head -5 >&2
	return 1
}

check_eq()
{
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1: got '$2', want '$3'"
	fi
}

check_files()
{
	if cmp -s "$2" "$3"; then
		pass "$1"
	else
		fail "$1: $2 and $3 differ"
	fi
}

check_err()
{
	local lines
	lines=$(wc -l <"$T/err")
	if [ "$lines" -ne 1 ]; then
		fail "$1: $lines lines on stderr, want 1"
		sed 's/^/    stderr: /' "$T/err" | head -5 >&2
	elif ! grep -q -- "$2" "$T/err"; then
		fail "$1: stderr '$(cat "$T/err")' does not match '$2'"
	else
		pass "$1"
	fi
}

flip_byte()
{
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((255 - b)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

wait_for()
{
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		if eval "$*"; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

finish()
{
	if [ "$failures" -gt 0 ]; then
		echo "$failures failure(s)" >&2
		exit 1
	fi
	echo "all passed"
	exit 0
}
