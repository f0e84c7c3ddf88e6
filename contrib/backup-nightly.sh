#!/bin/sh
# backup-nightly.sh - an example nightly backup into estuaryfs: rsync a
# directory into the mount, commit it (an immutable snapshot with a root
# CID the dealer replicates), then wait until the commit has as many
# active deals as the dealer wants (dealer.replication), or a timeout.
#
#   contrib/backup-nightly.sh [-t SECONDS] [-i SECONDS] [-q] SOURCE TARGET
#
#   SOURCE  the directory to back up (its contents: SOURCE/ for rsync)
#   TARGET  a directory inside a mounted estuaryfs, e.g. ~/fil/backup/home
#           (created if missing); it mirrors SOURCE (rsync -a --delete):
#           what was deleted in SOURCE stays in the earlier commits
#   -t      how long to wait for the deals, in seconds (default 21600,
#           six hours; 0: commit and do not wait)
#   -i      how often to look, in seconds (default 30)
#   -q      print only errors and the root CID
#
# The environment: ESTUARYFS (the estuaryfs program, default
# `estuaryfs` on PATH), ESTUARYFS_HOME (the repository of the mount,
# default ~/.estuaryfs), RSYNC_OPTS (more rsync options, e.g.
# "--exclude=.cache").  Needs rsync and python3 (reads status --json).
#
# Exit status:
#   0  backed up, committed, and the commit has all its active deals (or
#      -t 0: committed)
#   1  the copy failed: TARGET cannot be made, or rsync failed (files
#      that vanished during the copy, rsync's 24, are only a warning);
#      nothing was committed
#   2  usage: bad options, SOURCE is not a directory
#   3  the commit failed (TARGET is not in an estuaryfs mount, ...)
#   4  committed (the root CID is printed), but not all deals were active
#      when the timeout came; the dealer goes on in the daemon, and
#      `estuaryfs status TARGET` shows where it is
#   5  `estuaryfs status` could not be read while waiting
#
# From cron (crontab -e), every night at 02:30:
#   30 2 * * * /path/to/backup-nightly.sh -q ~/documents ~/fil/backup/documents
# or a systemd user timer running it (see contrib/systemd/).
set -u

efs=${ESTUARYFS:-estuaryfs}
timeout=21600
interval=30
quiet=0

usage() {
	echo "usage: backup-nightly.sh [-t SECONDS] [-i SECONDS] [-q]" \
		"SOURCE TARGET" >&2
	exit 2
}

say() {
	[ "$quiet" = 1 ] || echo "backup: $*"
}

is_count() {
	case $1 in '' | *[!0-9]*) return 1 ;; esac
}

while getopts t:i:q opt; do
	case $opt in
	t) timeout=$OPTARG ;;
	i) interval=$OPTARG ;;
	q) quiet=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || usage
is_count "$timeout" || usage
if ! is_count "$interval" || [ "$interval" -eq 0 ]; then
	usage
fi
src=$1
dst=$2
if [ ! -d "$src" ]; then
	echo "backup: $src is not a directory" >&2
	exit 2
fi

# 1. the copy
mkdir -p "$dst" || exit 1
say "rsync $src/ -> $dst/"
# shellcheck disable=SC2086 # RSYNC_OPTS is a list of options
rsync -a --delete ${RSYNC_OPTS:-} "$src/" "$dst/"
rc=$?
if [ "$rc" -eq 24 ]; then
	echo "backup: warning: some files vanished during the copy" >&2
elif [ "$rc" -ne 0 ]; then
	echo "backup: rsync failed (exit $rc); nothing committed" >&2
	exit 1
fi

# 2. the snapshot: its commit record, for the ID and the root
record=$("$efs" commit --json "$dst") || {
	echo "backup: estuaryfs commit $dst failed" >&2
	exit 3
}
fields=$(printf '%s' "$record" | python3 -c '
import json, sys
c = json.load(sys.stdin)
print(c["id"], c["cid"])') || {
	echo "backup: cannot read the commit record: $record" >&2
	exit 3
}
id=${fields% *}
root=${fields#* }
say "committed $dst: commit $id"
echo "$root"
[ "$timeout" -gt 0 ] || exit 0

# 3. the deals: status --json of TARGET, this commit's active and wanted
# deals (and what blocks the dealer, if anything)
progress() {
	"$efs" status --json "$dst" 2>/dev/null | python3 -c '
import json, sys
v = json.load(sys.stdin)
c = [c for c in v.get("commits", []) if c.get("id") == int(sys.argv[1])]
if not c:
    sys.exit(1)
b = v.get("blocked") or {}
why = "; ".join(str(x) for x in b.values() if x)
print(c[0]["active"], c[0]["want"], why) if why else \
    print(c[0]["active"], c[0]["want"])' "$id"
}

start=$(date +%s)
last=""
while :; do
	if ! line=$(progress); then
		echo "backup: cannot read estuaryfs status for $dst" >&2
		exit 5
	fi
	active=${line%% *}
	rest=${line#* }
	want=${rest%% *}
	why=${rest#"$want"}
	if [ "$active" -ge "$want" ]; then
		say "replicated: $active/$want active deals"
		exit 0
	fi
	if [ "$line" != "$last" ]; then
		say "waiting: $active/$want active deals${why:+ (blocked:$why)}"
		last=$line
	fi
	now=$(date +%s)
	if [ $((now - start)) -ge "$timeout" ]; then
		echo "backup: $active/$want active deals after ${timeout}s;" \
			"the dealer goes on (estuaryfs status $dst)" >&2
		exit 4
	fi
	sleep "$interval"
done
