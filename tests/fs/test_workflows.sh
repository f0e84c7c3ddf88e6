#!/bin/bash
# test_workflows.sh - what people do with the mount, with the real tools:
# cp -a, rsync -a twice (the second transfers nothing, rsync -c -n finds
# no difference), rsync --inplace, tar -xp, each compared file by file and
# by metadata (mode, owner, size, mtime in ns, symlink target, link
# count); git clone onto the mount then git fsck; a sqlite database on
# the mount; the tree's CID against `estuaryfs add -n`; unmount/remount
# persistence; and kill -9 of the daemon after fsync'd writes, then a
# remount and `estuaryfs fsck`.  Tools that are missing skip their part.
# Exits 77 (SKIP) when FUSE cannot be used here.
. "$(dirname "$0")/lib.sh"

fs_require
fs_start

# mode, owner, size (files), mtime ns, target, links: per path, sorted
meta()
{
	(cd "$1" && find . -mindepth 1 -printf '%P|%y|%m|%U|%G|%s|%T@|%l|%n\n' |
		awk -F'|' -v OFS='|' '$2 == "d" { $6 = "" } { print }' | sort)
}

same_tree()
{
	if diff -r --no-dereference "$2" "$3" >"$T/diff" 2>&1; then
		pass "$1: same bytes"
	else
		fail "$1: bytes differ"
		head -5 "$T/diff" >&2
	fi
	meta "$2" >"$T/meta.a"
	meta "$3" >"$T/meta.b"
	if cmp -s "$T/meta.a" "$T/meta.b"; then
		pass "$1: same metadata"
	else
		fail "$1: metadata differs"
		diff "$T/meta.a" "$T/meta.b" | head -10 >&2
	fi
}

# ---- a source tree on the local disk ----
S="$T/src"
mkdir -p "$S/docs/deep/er" "$S/bin" "$S/.hidden"
: >"$S/empty"
printf 'hello\n' >"$S/docs/hello.txt"
head -c 4096 /dev/urandom >"$S/docs/page"
head -c $((1048576 + 3)) /dev/urandom >"$S/docs/deep/chunk-and-a-bit"
head -c $((3 * 1048576)) /dev/urandom >"$S/docs/deep/er/three-mib"
head -c 100 /dev/urandom >"$S/.hidden/dot"
printf '#!/bin/sh\necho hi\n' >"$S/bin/tool"
chmod 755 "$S/bin/tool"
chmod 600 "$S/docs/page"
chmod 2750 "$S/bin"
ln "$S/docs/hello.txt" "$S/docs/hello-again.txt"
ln -s docs/hello.txt "$S/link"
ln -s /nonexistent/target "$S/dangling"
touch -h -d '2010-05-06 07:08:09.123456789 UTC' "$S/link"
touch -d '2001-02-03 04:05:06.987654321 UTC' "$S/docs/page" "$S/docs/deep"
if [ "$(id -u)" -eq 0 ]; then
	chown 1234:5678 "$S/docs/page"
	chmod 4755 "$S/bin/tool"
fi
if command -v setfattr >/dev/null; then
	setfattr -n user.note -v "kept" "$S/docs/hello.txt"
fi
# Old times with nanoseconds everywhere: rsync does not set a time that
# agrees to the second (a fresh tree and its copy often do), and tar
# keeps nanoseconds only in the posix format.
n=100000001
find "$S" -depth | while read -r p; do
	touch -h -d "2015-03-04 05:06:07.$((n += 7654321))" "$p"
done

# ---- cp -a ----
expect 0 "cp -a onto the mount" -- cp -a "$S" "$M/cp"
same_tree "cp -a" "$S" "$M/cp"
if command -v getfattr >/dev/null; then
	got=$(getfattr --only-values -n user.note "$M/cp/docs/hello.txt")
	check_eq "cp -a kept the xattr" "$got" "kept"
	want=$(ESTUARYFS_HOME="$T/other" "$EFS" add -q -n "$S")
	check_eq "tree CID = estuaryfs add -n" \
		"$(getfattr --only-values -n user.estuary.cid "$M/cp")" "$want"
fi

# ---- rsync ----
if command -v rsync >/dev/null; then
	expect 0 "rsync -aHX" -- rsync -aHX "$S/" "$M/rs/"
	same_tree "rsync -a" "$S" "$M/rs"
	expect 0 "rsync -aHX again" -- rsync -aHX -i "$S/" "$M/rs/"
	check_eq "the second rsync transfers nothing" "$(cat "$T/out")" ""
	expect 0 "rsync -c -n" -- rsync -aHXc -n -i "$S/" "$M/rs/"
	check_eq "checksums agree" "$(cat "$T/out")" ""
	# change the middle of the big file, then update in place
	printf 'CHANGED' | dd of="$S/docs/deep/er/three-mib" bs=1 \
		seek=1500000 conv=notrunc status=none
	printf 'more' >>"$S/docs/hello.txt"
	touch -d '2016-01-01 00:00:00.5' "$S/docs/deep/er/three-mib" \
		"$S/docs/hello.txt" "$S/docs/deep/er" "$S/docs"
	expect 0 "rsync --inplace" -- rsync -aHX --inplace --no-whole-file \
		"$S/" "$M/rs/"
	same_tree "rsync --inplace" "$S" "$M/rs"
fi

# ---- tar ----
expect 0 "tar -xp onto the mount" -- bash -c \
	"mkdir '$M/tar' && tar --format=posix -cf - -C '$S' . |
	 tar -xpf - -C '$M/tar'"
same_tree "tar -xp" "$S" "$M/tar"

# ---- git ----
if command -v git >/dev/null; then
	G="$T/gitsrc"
	git init -q "$G" && (cd "$G" &&
		for i in 1 2 3; do
			head -c 20000 /dev/urandom | base64 >"f$i"
			git add "f$i"
			git -c user.name=t -c user.email=t@t commit -qm "c$i"
		done) || fail "git setup"
	expect 0 "git clone onto the mount" -- git clone -q "$G" "$M/clone"
	expect 0 "git fsck" -- git -C "$M/clone" fsck --full --strict
	check_eq "git status clean" \
		"$(git -C "$M/clone" status --porcelain)" ""
	expect 0 "git gc" -- git -C "$M/clone" gc -q
	expect 0 "git fsck after gc" -- git -C "$M/clone" fsck --full
fi

# ---- sqlite ----
if command -v sqlite3 >/dev/null; then
	expect 0 "sqlite on the mount" -- sqlite3 "$M/db.sqlite" \
		"CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT);
		 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1
		 FROM n WHERE i < 5000) INSERT INTO t SELECT i,
		 hex(randomblob(40)) FROM n;
		 DELETE FROM t WHERE a % 3 = 0; VACUUM;"
	check_eq "sqlite rows" "$(sqlite3 "$M/db.sqlite" \
		'SELECT count(*) FROM t')" "3334"
	check_eq "sqlite integrity" "$(sqlite3 "$M/db.sqlite" \
		'PRAGMA integrity_check')" "ok"
fi

# ---- persistence ----
fs_stop
fs_start
same_tree "tar copy after remount" "$S" "$M/tar"
if command -v sqlite3 >/dev/null; then
	check_eq "sqlite after remount" "$(sqlite3 "$M/db.sqlite" \
		'PRAGMA integrity_check; SELECT count(*) FROM t')" "ok
3334"
fi

# ---- kill -9 after fsync ----
for i in 1 2 3 4; do
	head -c $((i * 700000)) /dev/urandom >"$T/k$i"
	dd if="$T/k$i" of="$M/k$i" bs=64k conv=fsync status=none ||
		fail "dd k$i"
done
head -c 5000000 /dev/urandom | dd of="$M/unsynced" bs=64k status=none
fs_kill
fs_start
for i in 1 2 3 4; do
	check_files "fsync'd file $i survives kill -9" "$T/k$i" "$M/k$i"
done
same_tree "the rest after kill -9" "$S" "$M/tar"
fs_stop
expect 0 "estuaryfs fsck after the crash" -- "$EFS" fsck

finish
