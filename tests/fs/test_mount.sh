#!/bin/bash
# test_mount.sh - the mount's namespace and metadata with real tools:
# mkdir/touch/ls -l, modes and ownership (chmod, chown as root, a new
# file owned by its non-root creator, setgid directories), nanosecond
# times, hard links, symlinks, mv over an existing file and directory,
# rm -rf of a 10k-entry directory, user.* xattrs and our read-only
# user.estuary.cid (checked against `estuaryfs add -n` of the same tree),
# statfs, commits, unmount/remount persistence, daemon mode, and a
# kill -9 of the daemon followed by a remount.  Exits 77 (SKIP) when FUSE
# cannot be used here.
. "$(dirname "$0")/lib.sh"

fs_require
# allow_other: the checks run as another user too
[ "$(id -u)" -eq 0 ] && OPTS=(-o allow_other) || OPTS=()
fs_start "${OPTS[@]}"

# ---- namespace ----
expect 0 "mkdir -p" -- mkdir -p "$M/a/b/c"
expect 0 "touch" -- touch "$M/a/f" "$M/a/b/g"
expect 0 "ls -l" -- ls -l "$M/a"
check_eq "ls lists" "$(ls "$M/a" | tr '\n' ' ')" "b f "
check_eq "file type" "$(stat -c %F "$M/a/f")" "regular empty file"
check_eq "dir nlink" "$(stat -c %h "$M/a")" "3"
expect 1 "mkdir over a file" -- mkdir "$M/a/f"
expect 1 "rmdir of a non-empty directory" -- rmdir "$M/a/b"
check_err "ENOTEMPTY" "not empty"

# ---- modes, owners, times ----
expect 0 "chmod 4755" -- chmod 4755 "$M/a/f"
check_eq "mode kept" "$(stat -c %a "$M/a/f")" "4755"
if [ "$(id -u)" -eq 0 ]; then
	expect 0 "chown as root" -- chown 1234:5678 "$M/a/f"
	check_eq "owner" "$(stat -c %u:%g "$M/a/f")" "1234:5678"
	check_eq "chown cleared setuid" "$(stat -c %a "$M/a/f")" "755"
	mkdir "$M/g" && chmod 2777 "$M/g" && chgrp 4321 "$M/g"
	expect 0 "mkdir in a setgid directory" -- mkdir "$M/g/sub"
	check_eq "gid inherited" "$(stat -c %g "$M/g/sub")" "4321"
	check_eq "setgid inherited" "$(stat -c %A "$M/g/sub" | cut -c7)" "s"
	if command -v setpriv >/dev/null; then
		chmod 755 "$T" # mktemp made it 0700
		expect 0 "touch as uid 1000" -- setpriv --reuid 1000 \
			--regid 1000 --clear-groups touch "$M/g/mine"
		check_eq "caller owns it" "$(stat -c %u:%g "$M/g/mine")" \
			"1000:4321"
		expect 1 "uid 1000 may not chmod root's file" -- setpriv \
			--reuid 1000 --regid 1000 --clear-groups \
			chmod 777 "$M/g/sub"
	fi
fi
expect 0 "touch -d with nanoseconds" -- \
	touch -m -d '2001-02-03 04:05:06.123456789 UTC' "$M/a/b/g"
check_eq "mtime ns" "$(stat -c %y "$M/a/b/g" | sed 's/ [+-].*//;s/.*\.//')" \
	"123456789"
expect 0 "touch -a" -- touch -a -d '2002-01-01 00:00:00.5 UTC' "$M/a/b/g"
check_eq "atime" "$(stat -c %X "$M/a/b/g")" "1009843200"
check_eq "mtime kept" "$(stat -c %Y "$M/a/b/g")" "981173106"

# ---- links ----
expect 0 "ln" -- ln "$M/a/f" "$M/a/b/hard"
check_eq "nlink 2" "$(stat -c %h "$M/a/f")" "2"
check_eq "same inode" "$(stat -c %i "$M/a/b/hard")" "$(stat -c %i "$M/a/f")"
expect 0 "ln -s" -- ln -s ../f "$M/a/b/sym"
check_eq "readlink" "$(readlink "$M/a/b/sym")" "../f"
check_eq "symlink size" "$(stat -c %s "$M/a/b/sym")" "4"
check_eq "through the link" "$(stat -L -c %i "$M/a/b/sym")" \
	"$(stat -c %i "$M/a/f")"
expect 1 "hard link to a directory" -- ln "$M/a/b" "$M/a/bb"

# ---- rename ----
touch "$M/x" "$M/y"
ino=$(stat -c %i "$M/x")
expect 0 "mv over an existing file" -- mv "$M/x" "$M/y"
check_eq "the target is the moved inode" "$(stat -c %i "$M/y")" "$ino"
expect 1 "the source is gone" -- stat "$M/x"
mkdir -p "$M/d1/in" "$M/d2"
expect 1 "mv over a non-empty directory" -- mv -T "$M/d2" "$M/d1"
expect 0 "mv over an empty directory" -- mv -T "$M/d1" "$M/d2"
check_eq "moved with its content" "$(ls "$M/d2")" "in"
expect 0 "mv across directories" -- mv "$M/d2/in" "$M/a/in"
check_eq "link counts follow" "$(stat -c %h "$M/d2"):$(stat -c %h "$M/a")" \
	"2:4"

# ---- a big directory ----
mkdir "$M/big"
(cd "$M/big" && seq -f 'file-%05g' 1 10000 | xargs touch)
check_eq "10k entries listed" "$(ls "$M/big" | wc -l)" "10000"
check_eq "ls -l agrees" "$(ls -l "$M/big" | grep -c '^-')" "10000"
expect 0 "rm -rf of 10k entries" -- timeout 300 rm -rf "$M/big"
expect 1 "gone" -- stat "$M/big"

# ---- xattrs ----
if command -v setfattr >/dev/null; then
	expect 0 "setfattr user.*" -- setfattr -n user.k -v value "$M/a/f"
	check_eq "getfattr" "$(getfattr --only-values -n user.k "$M/a/f")" \
		"value"
	expect 0 "second xattr" -- setfattr -n user.z -v 2 "$M/a/f"
	check_eq "listed, ours not" \
		"$(getfattr -d -m - "$M/a/f" | grep -c '^user')" "2"
	expect 0 "remove" -- setfattr -x user.z "$M/a/f"
	expect 1 "trusted.* is refused" -- setfattr -n trusted.k -v 1 "$M/a/f"
	expect 1 "user.estuary.cid is read-only" -- \
		setfattr -n user.estuary.cid -v x "$M/a/f"
	# the same tree on the local disk, hashed by `estuaryfs add -n`
	mkdir -p "$T/ref/b/c" "$T/ref/in"
	touch "$T/ref/f" "$T/ref/b/g" "$T/ref/b/hard"
	ln -s ../f "$T/ref/b/sym"
	want=$(ESTUARYFS_HOME="$T/other" "$EFS" add -q -n "$T/ref")
	check_eq "directory CID = estuaryfs add" \
		"$(getfattr --only-values -n user.estuary.cid "$M/a")" "$want"
	want=$(ESTUARYFS_HOME="$T/other" "$EFS" add -q -n "$T/ref/f")
	check_eq "empty file CID" \
		"$(getfattr --only-values -n user.estuary.cid "$M/a/f")" "$want"
fi

# ---- statfs ----
read -r blocks avail <<<"$(stat -f -c '%b %a' "$M")"
[ "$blocks" -gt 0 ] && [ "$avail" -gt 0 ] && pass "statfs has space" ||
	fail "statfs: $blocks blocks, $avail available"
[ "$(stat -f -c %c "$M")" -gt 10 ] && pass "statfs has files" ||
	fail "statfs files"
check_eq "name max" "$(stat -f -c %l "$M")" "255"
# used (total - free) is what the blockstore holds locally: 4 MiB of
# random bytes, fsynced, count; nothing is evicted, so free = available
head -c 4194304 /dev/urandom >"$M/statfs.bin"
sync "$M/statfs.bin"
read -r bs blocks free avail <<<"$(stat -f -c '%S %b %f %a' "$M")"
used=$(((blocks - free) * bs))
[ "$used" -ge 4194304 ] && pass "statfs counts local blocks as used" ||
	fail "statfs: $used bytes used after a 4 MiB file"
check_eq "statfs: nothing evicted (free = available)" "$free" "$avail"
rm "$M/statfs.bin"

# ---- commits ----
expect 0 "commit" -- "$EFS" commit "$M/a"
c1=$(cat "$T/out")
expect 0 "commit again" -- "$EFS" commit "$M/a"
check_eq "unchanged: same CID" "$(cat "$T/out")" "$c1"
expect 0 "commits" -- "$EFS" commits --json
check_eq "recorded once" "$(grep -c '"path":"/a"' "$T/out")" "1"
touch "$M/a/new"
expect 0 "commit after a change" -- "$EFS" commit "$M/a"
c2=$(cat "$T/out")
[ "$c2" != "$c1" ] && pass "new CID" || fail "the CID did not change"
expect 0 "commits lists both" -- "$EFS" commits
check_eq "two commits of /a" "$(grep -c ' /a$' "$T/out")" "2"
expect 2 "commit of a file" -- "$EFS" commit "$M/a/f"
expect 2 "commit outside a mount" -- "$EFS" commit "$T"

# ---- persistence ----
fs_stop
expect 32 "unmounted" -- mountpoint -q "$M"
fs_start "${OPTS[@]}"
check_eq "tree after remount" "$(cd "$M/a" && find . | sort | tr '\n' ' ')" \
	". ./b ./b/c ./b/g ./b/hard ./b/sym ./f ./in ./new "
check_eq "mode after remount" "$(stat -c %a "$M/a/f")" \
	"$( [ "$(id -u)" -eq 0 ] && echo 755 || echo 4755)"
check_eq "ns mtime after remount" \
	"$(stat -c %y "$M/a/b/g" | sed 's/ [+-].*//;s/.*\.//')" "123456789"
check_eq "nlink after remount" "$(stat -c %h "$M/a/f")" "2"
check_eq "symlink after remount" "$(readlink "$M/a/b/sym")" "../f"
if command -v getfattr >/dev/null; then
	check_eq "xattr after remount" \
		"$(getfattr --only-values -n user.k "$M/a/f")" "value"
fi
expect 0 "commit after remount" -- "$EFS" commit "$M/a"
check_eq "still the same CID" "$(cat "$T/out")" "$c2"

# ---- daemon mode ----
fs_stop
expect 0 "mount as a daemon" -- "$EFS" mount "$M"
expect 0 "mounted" -- mountpoint -q "$M"
expect 0 "works" -- stat "$M/a/f"
expect 0 "unmount waits for the daemon" -- "$EFS" unmount "$M"
expect 0 "mount right after" -- "$EFS" mount "$M"
expect 0 "unmount" -- "$EFS" unmount "$M"
# relative paths, then SIGTERM: the daemon unmounts and exits cleanly
expect 0 "mount with relative paths" -- \
	bash -c "cd '$T' && ESTUARYFS_HOME=repo '$EFS' mount mnt"
pid=$(pgrep -f -- "mount mnt\$" | head -1)
expect 0 "the daemon runs" -- kill -0 "$pid"
expect 0 "SIGTERM" -- kill -TERM "$pid"
wait_for 30 '! kill -0 $pid 2>/dev/null' && pass "the daemon exited" ||
	fail "the daemon did not exit on SIGTERM"
expect 32 "SIGTERM unmounted it" -- mountpoint -q "$M"
expect 3 "mount on a missing directory" -- "$EFS" mount "$T/nope"
check_err "reports why" "nope"

# ---- the mount(8) helper ----
expect 0 "mount.fuse.estuaryfs" -- env ESTUARYFS_BIN="$EFS" sh \
	"$(dirname "$0")/../../contrib/mount.fuse.estuaryfs" "$ESTUARYFS_HOME" \
	"$M" -o rw,noauto,nofail,x-systemd.automount -n
expect 0 "mounted by the helper" -- mountpoint -q "$M"
check_eq "source and type" "$(findmnt -n -o SOURCE,FSTYPE "$M" | tr -s ' ')" \
	"$ESTUARYFS_HOME fuse.estuaryfs"
expect 0 "the same tree" -- stat "$M/a/f"
expect 0 "unmount" -- "$EFS" unmount "$M"

# ---- kill -9 ----
fs_start "${OPTS[@]}"
mkdir "$M/k" && touch "$M/k/one" "$M/k/two" && mv "$M/k/two" "$M/k/three"
fs_kill
fs_start "${OPTS[@]}"
check_eq "namespace survives kill -9" "$(ls "$M/k" | tr '\n' ' ')" \
	"one three "
fs_stop

finish
