#!/bin/bash
# test_data.sh - the mount's data path with real tools: cp of a big file
# and its CID against `estuaryfs add -n`; dd with conv=fsync; random
# writes and truncations through two descriptors compared with a model
# (and the CID of the result); O_APPEND from two descriptors; holes and
# truncate of an open file; fallocate, copy_file_range, SEEK_DATA/HOLE;
# rsync --inplace over a changed file; unmount/remount persistence; and
# kill -9 of the daemon during fsync'd writes, then a remount where every
# fsync'd file is intact and `estuaryfs fsck` is clean; kill -9 right
# after small files were closed (no fsync), and every one is intact.
# Parts needing python3 or rsync skip without them.  Exits 77 (SKIP) when
# FUSE cannot be used here.
. "$(dirname "$0")/lib.sh"

fs_require
fs_start

PY=$(command -v python3 || true)

cid_of()
{
	getfattr --only-values -n user.estuary.cid "$1" 2>/dev/null
}

added_cid()
{
	"$EFS" add -n -q "$1" 2>/dev/null | tail -1
}

# ---- big files ----
head -c $((48 << 20)) /dev/urandom >"$T/big"
expect 0 "cp of 48 MiB" -- cp "$T/big" "$M/big"
check_files "cp: same bytes" "$T/big" "$M/big"
check_eq "cp: size" "$(stat -c %s "$M/big")" "$((48 << 20))"
check_eq "cp: cid = add -n" "$(cid_of "$M/big")" "$(added_cid "$T/big")"
expect 0 "dd conv=fsync" -- dd if="$T/big" of="$M/dd" bs=1M count=20 \
	conv=fsync status=none
head -c $((20 << 20)) "$T/big" >"$T/dd"
check_files "dd: same bytes" "$T/dd" "$M/dd"
# 4 KiB into the middle, in place
printf 'middle' | dd of="$M/big" bs=1 seek=$((24 << 20)) conv=notrunc \
	status=none
printf 'middle' | dd of="$T/big" bs=1 seek=$((24 << 20)) conv=notrunc \
	status=none
check_files "write into the middle" "$T/big" "$M/big"
check_eq "...cid = add -n" "$(cid_of "$M/big")" "$(added_cid "$T/big")"

# ---- holes and truncation ----
expect 0 "truncate -s 5G" -- truncate -s 5G "$M/sparse"
check_eq "hole size" "$(stat -c %s "$M/sparse")" "5368709120"
printf 'tail' | dd of="$M/sparse" bs=1 seek=$((5 << 30)) status=none
check_eq "hole reads as zeros" \
	"$(dd if="$M/sparse" bs=1M skip=2048 count=1 status=none | tr -d '\0' | wc -c)" "0"
check_eq "bytes after the hole" \
	"$(dd if="$M/sparse" bs=1 skip=$((5 << 30)) status=none)" "tail"
expect 0 "truncate down into a chunk" -- truncate -s 1500000 "$M/big"
expect 0 "truncate up again" -- truncate -s 3000000 "$M/big"
head -c 1500000 "$T/big" >"$T/cut"
head -c 1500000 /dev/zero >>"$T/cut"
check_files "truncated then grown" "$T/cut" "$M/big"
check_eq "...cid = add -n" "$(cid_of "$M/big")" "$(added_cid "$T/cut")"

# ---- O_APPEND ----
: >"$M/log"
for i in 1 2 3; do echo "line $i" >>"$M/log"; done
check_eq "appends" "$(cat "$M/log" | tr '\n' ' ')" "line 1 line 2 line 3 "

if [ -n "$PY" ]; then
	# ---- two descriptors, random writes, a model ----
	expect 0 "random writes against a model" -- "$PY" - "$M/rand" \
		"$T/rand.model" <<'EOF'
import os, random, sys
path, model = sys.argv[1], sys.argv[2]
rnd = random.Random(7)
cs = 1 << 20
fds = [os.open(path, os.O_RDWR | os.O_CREAT, 0o644),
       os.open(path, os.O_RDWR)]
m = bytearray()
for i in range(3000):
    r = rnd.random()
    fd, other = rnd.sample(fds, 2)
    if r < 0.5:
        off = rnd.randrange(6 * cs)
        if r < 0.1:
            off = off // cs * cs - rnd.randrange(2)
            off = max(off, 0)
        data = rnd.randbytes(rnd.randrange(1, 300000))
        os.pwrite(fd, data, off)
        if off > len(m):
            m.extend(bytes(off - len(m)))
        m[off:off + len(data)] = data
    elif r < 0.58:
        n = rnd.randrange(7 * cs)
        os.ftruncate(fd, n)
        if n > len(m):
            m.extend(bytes(n - len(m)))
        del m[n:]
    elif r < 0.9:
        off = rnd.randrange(7 * cs)
        n = rnd.randrange(1, 400000)
        got = os.pread(other, n, off)
        if got != bytes(m[off:off + n]):
            sys.exit("read %d at %d: differs (op %d)" % (n, off, i))
    elif r < 0.95:
        os.fsync(fd)
    else:
        os.close(fd)
        fds[fds.index(fd)] = os.open(path, os.O_RDWR)
    if os.fstat(fds[0]).st_size != len(m):
        sys.exit("size %d, want %d (op %d)" % (os.fstat(fds[0]).st_size,
                                                len(m), i))
for fd in fds:
    os.close(fd)
open(model, "wb").write(m)
EOF
	check_files "random writes: same bytes" "$T/rand.model" "$M/rand"
	check_eq "random writes: cid = add -n" "$(cid_of "$M/rand")" \
		"$(added_cid "$T/rand.model")"

	# ---- O_APPEND, truncate of an open file, fallocate, copy, seek ----
	expect 0 "appends, open truncate, fallocate, copy_file_range, lseek" \
		-- "$PY" - "$M" <<'EOF'
import errno, os, sys
d = sys.argv[1]
def check(what, got, want):
    if got != want:
        sys.exit("%s: got %r, want %r" % (what, got, want))
p = d + "/app"
a = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
b = os.open(p, os.O_WRONLY | os.O_APPEND)
for i in range(100):
    os.write(a if i % 2 else b, b"%03d\n" % i)
os.close(a); os.close(b)
check("o_append", open(p, "rb").read(),
      b"".join(b"%03d\n" % i for i in range(100)))
p = d + "/open-trunc"
fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
os.write(fd, b"x" * 3000000)
os.ftruncate(fd, 1000)
check("size after ftruncate", os.fstat(fd).st_size, 1000)
os.ftruncate(fd, 2000)
check("grown part", os.pread(fd, 1100, 900), b"x" * 100 + b"\0" * 1000)
os.fsync(fd)
os.close(fd)
check("after close", open(p, "rb").read(), b"x" * 1000 + b"\0" * 1000)
p = d + "/falloc"
fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
os.write(fd, b"y" * 10000)
os.posix_fallocate(fd, 0, 50000)
check("fallocate grows", os.fstat(fd).st_size, 50000)
check("fallocate keeps", os.pread(fd, 10, 9995), b"yyyyy" + b"\0" * 5)
q = os.open(d + "/copy", os.O_RDWR | os.O_CREAT, 0o644)
n = os.copy_file_range(fd, q, 20000, 0, 100)
check("copy_file_range count", n, 20000)
check("copied", os.pread(q, 20000, 100), os.pread(fd, 20000, 0))
check("seek data", os.lseek(fd, 5, os.SEEK_DATA), 5)
check("seek hole", os.lseek(fd, 5, os.SEEK_HOLE), 50000)
try:
    os.lseek(fd, 60000, os.SEEK_DATA)
    sys.exit("seek data past the end did not fail")
except OSError as e:
    check("seek data past the end", e.errno, errno.ENXIO)
os.close(fd); os.close(q)
EOF
else
	echo "skip: python3 is missing (random writes, descriptors)"
fi

# ---- rsync --inplace over a changed file ----
if command -v rsync >/dev/null; then
	head -c $((9 << 20)) /dev/urandom >"$T/in"
	cp "$T/in" "$M/in"
	printf 'changed' | dd of="$T/in" bs=1 seek=5000000 conv=notrunc \
		status=none
	# -I: the quick check would skip a change made in the same second
	expect 0 "rsync --inplace" -- rsync --inplace --no-whole-file -I \
		"$T/in" "$M/in"
	check_files "rsync --inplace: same bytes" "$T/in" "$M/in"
else
	echo "skip: rsync is missing"
fi

# ---- persistence ----
fs_stop
fs_start
check_files "remount: big file" "$T/cut" "$M/big"
check_files "remount: dd" "$T/dd" "$M/dd"
[ -n "$PY" ] && check_files "remount: random writes" "$T/rand.model" "$M/rand"

# ---- kill -9 during fsync'd writes ----
if [ -n "$PY" ]; then
	mkdir -p "$M/crash"
	"$PY" - "$M/crash" "$T/crash.log" <<'EOF' >"$T/writer.out" 2>&1 &
import os, random, sys
d, log = sys.argv[1], sys.argv[2]
lf = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
for i in range(100000):
    rnd = random.Random(i)
    data = rnd.randbytes(rnd.randrange(1, 3 << 20))
    try:
        fd = os.open("%s/f%d" % (d, i), os.O_WRONLY | os.O_CREAT, 0o644)
        for off in range(0, len(data), 1 << 17):
            os.write(fd, data[off:off + (1 << 17)])
        os.fsync(fd)
        os.close(fd)
    except OSError:
        break
    os.write(lf, b"%d\n" % i)
    os.fsync(lf)
EOF
	WRITER=$!
	wait_for 60 '[ "$(wc -l <"$T/crash.log" 2>/dev/null || echo 0)" -ge 10 ]' ||
		fail "the writer did not get going"
	fs_kill
	wait "$WRITER" 2>/dev/null
	expect 0 "fsck after kill -9" -- "$EFS" fsck
	fs_start
	expect 0 "every fsync'd file intact" -- "$PY" - "$M/crash" \
		"$T/crash.log" <<'EOF'
import random, sys
d, log = sys.argv[1], sys.argv[2]
done = [int(x) for x in open(log).read().split()]
if not done:
    sys.exit("nothing was fsync'd")
for i in done:
    rnd = random.Random(i)
    data = rnd.randbytes(rnd.randrange(1, 3 << 20))
    if open("%s/f%d" % (d, i), "rb").read() != data:
        sys.exit("f%d differs" % i)
print("%d files checked" % len(done))
EOF
fi

# ---- kill -9 right after close (no fsync): close made them durable ----
mkdir -p "$M/closed" "$T/closed"
for i in $(seq 40); do
	# small files (one block), some of the same bytes (deduplicated)
	head -c $((i % 4 == 0 ? 4096 : 100 * i)) /dev/urandom >"$T/closed/f$i"
	[ $((i % 5)) -eq 0 ] && cp "$T/closed/f$((i - 1))" "$T/closed/f$i"
	cp "$T/closed/f$i" "$M/closed/f$i" || fail "cp f$i"
done
fs_kill
expect 0 "fsck after kill -9 after close" -- "$EFS" fsck
fs_start
for i in $(seq 40); do
	cmp -s "$T/closed/f$i" "$M/closed/f$i" ||
		fail "f$i closed before kill -9 differs"
done

fs_stop
finish
