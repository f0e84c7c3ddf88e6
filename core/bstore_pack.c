/*
 * bstore_pack.c - pack files: append-only files of block records.
 *
 *   pack    = header record*
 *   header  = "EFSPACK\n" u32le(version = 1) u32le(0)          16 bytes
 *   record  = 0xb1 varint(codec) varint(mh length) mh varint(length) data
 *
 * The index points at a record's data; the header before it lets fsck
 * check that the index points where it thinks, and would let a tool
 * rebuild a lost index from the packs alone (NEEDSWORK: bstore_reindex).
 *
 * Writing: one pack is current.  Records are copied into one of two
 * aligned buffers; a full buffer is written with O_DIRECT while the other
 * fills, and a sync writes the partly filled one padded to the alignment
 * (the next write of that block rewrites it with more in it).  Direct I/O
 * because on the disk measured, writeback through the page cache ran at
 * a quarter of the speed of direct writes (bench/bstore_bench.sh), and a
 * stream of imported data should not evict the page cache everyone else
 * uses.  Where O_DIRECT is refused (tmpfs), the same buffers go through
 * the page cache, with sync_file_range starting writeback every
 * `writeback` bytes so the fdatasync at sync time finds little to do.
 * The writer's buffers are readable under mu: a pending block is read from
 * them, and from the file below them.  A pack past pack_size is closed
 * (its padding trimmed) and a new one started; a pack is never appended
 * to after that, so its tail past the indexed size is garbage that the
 * next open truncates.
 *
 * Recovery (at open, before anything else): each pack is cut back to the
 * size the index records for it, pack files the index does not know and
 * that are newer than every indexed pack are removed (they hold only
 * unsynced records).  The bytes past the index are never trusted.
 *
 * Space: gc and evict punch holes over freed records
 * (FALLOC_FL_PUNCH_HOLE); a mostly-empty pack keeps its size on paper.
 * NEEDSWORK: compaction of packs that are mostly holes.
 *
 * All functions named *_locked run under bs->mu; pread, datasync and
 * punch take it only to look up the fd, never around the system call.
 */
#include "core/bstore_i.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#define LOG_TOPIC "bstore"
#include "core/log.h"
#include "core/varint.h"

#include "core/banned.h"

static uint64_t align_down(uint64_t v)
{
	return v & ~(uint64_t)(PACK_ALIGN - 1);
}

static uint64_t align_up(uint64_t v)
{
	return align_down(v + PACK_ALIGN - 1);
}

static void close_writer(struct bstore *bs);

static void pack_name(char *out, size_t cap, uint32_t id)
{
	snprintf(out, cap, "%08" PRIu32 ".pack", id);
}

int bstore_pack_init(struct bstore *bs)
{
	struct packs *pk = &bs->pk;
	char path[4096];

	memset(pk, 0, sizeof(*pk));
	pk->dirfd = -1;
	pk->wfd = -1;
	pk->next_id = 1;
	snprintf(path, sizeof(path), "%s/packs", bs->dir);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return efs_error_set_errno(EFS_EIO, errno, "mkdir %s", path);
	pk->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pk->dirfd < 0)
		return efs_error_set_errno(EFS_EIO, errno, "open %s", path);
	for (int i = 0; i < 2; i++) {
		pk->raw[i] = efs_malloc(bs->opts.write_buffer + PACK_ALIGN);
		if (!pk->raw[i])
			return efs_error_set(EFS_ENOMEM, "out of memory");
		pk->bufs[i] = (uint8_t *)align_up((uintptr_t)pk->raw[i]);
	}
	pk->wbuf = pk->bufs[0];
	return 0;
}

void bstore_pack_release(struct bstore *bs)
{
	struct packs *pk = &bs->pk;

	close_writer(bs);
	for (size_t i = 0; i < pk->nfds; i++)
		if (pk->fds[i] >= 0)
			close(pk->fds[i]);
	if (pk->dirfd >= 0)
		close(pk->dirfd);
	efs_free(pk->fds);
	efs_free(pk->sizes);
	efs_free(pk->raw[0]);
	efs_free(pk->raw[1]);
	memset(pk, 0, sizeof(*pk));
	pk->dirfd = -1;
	pk->wfd = -1;
}

static int ensure_slot(struct packs *pk, uint32_t id)
{
	size_t n;
	int *fds;
	uint64_t *sizes;

	if (id < pk->nfds)
		return 0;
	n = pk->nfds ? pk->nfds : 16;
	while (n <= id)
		n *= 2;
	fds = efs_reallocarray(pk->fds, n, sizeof(*fds));
	if (!fds)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	pk->fds = fds;
	sizes = efs_reallocarray(pk->sizes, n, sizeof(*sizes));
	if (!sizes)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	pk->sizes = sizes;
	for (size_t i = pk->nfds; i < n; i++) {
		fds[i] = -1;
		sizes[i] = 0;
	}
	pk->nfds = n;
	return 0;
}

uint64_t bstore_pack_size_locked(struct bstore *bs, uint32_t id)
{
	return id < bs->pk.nfds ? bs->pk.sizes[id] : 0;
}

int bstore_pack_size_set_locked(struct bstore *bs, uint32_t id,
				uint64_t size)
{
	int error = ensure_slot(&bs->pk, id);

	if (error < 0)
		return error;
	bs->pk.sizes[id] = size;
	return 0;
}

int bstore_pack_fd_locked(int *out, struct bstore *bs, uint32_t id)
{
	struct packs *pk = &bs->pk;
	char name[32];
	int error;

	if (id == 0)
		return efs_error_set(EFS_ECORRUPT, "bstore: pack id 0");
	if ((error = ensure_slot(pk, id)) < 0)
		return error;
	if (pk->fds[id] < 0) {
		pack_name(name, sizeof(name), id);
		pk->fds[id] = openat(pk->dirfd, name, O_RDWR | O_CLOEXEC);
		if (pk->fds[id] < 0)
			return efs_error_set_errno(errno == ENOENT ?
						   EFS_ECORRUPT : EFS_EIO,
						   errno, "open pack %s", name);
	}
	*out = pk->fds[id];
	return 0;
}

static bool fault_fires(struct packs *pk, enum bstore_fault where)
{
	if (!pk->fail_errno[where])
		return false;
	if (pk->fail_after[where]-- > 0)
		return false;
	errno = pk->fail_errno[where];
	pk->fail_errno[where] = 0;
	return true;
}

/*
 * Write len bytes (aligned, from an aligned buffer) at off to the current
 * pack (wlock held, mu not).  A filesystem that refuses direct I/O turns
 * the writer buffered for good.
 */
static int write_out(struct bstore *bs, const uint8_t *p, size_t len,
		     uint64_t off)
{
	struct packs *pk = &bs->pk;
	bool fail;

	pthread_mutex_lock(&bs->mu);
	fail = fault_fires(pk, BSTORE_FAULT_WRITE);
	pthread_mutex_unlock(&bs->mu);
	if (fail)
		return efs_error_set_errno(EFS_EIO, errno,
					   "write pack %" PRIu32, pk->cur);
	while (len) {
		ssize_t n = pwrite(pk->wfd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EINVAL && pk->direct) {
			pthread_mutex_lock(&bs->mu);
			close(pk->wfd);
			pk->wfd = -1;
			pk->direct = false;
			n = bstore_pack_fd_locked(&pk->wfd, bs, pk->cur);
			pthread_mutex_unlock(&bs->mu);
			if (n < 0)
				return (int)n;
			continue;
		}
		if (n <= 0)
			return efs_error_set_errno(EFS_EIO, n < 0 ? errno : EIO,
						   "write pack %" PRIu32,
						   pk->cur);
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

/* Buffered mode: start writeback early so the fdatasync finds little. */
static void start_writeback(struct bstore *bs)
{
	struct packs *pk = &bs->pk;
	uint64_t done = pk->wbuf_off;

	if (pk->direct || !bs->opts.writeback ||
	    done < pk->wb_done + bs->opts.writeback)
		return;
	/* Errors surface from the fdatasync at sync time. */
	sync_file_range(pk->wfd, (off_t)pk->wb_done,
			(off_t)(done - pk->wb_done), SYNC_FILE_RANGE_WRITE);
	pk->wb_done = done;
}

/* The buffer is full: write it while readers copy from it (wlock). */
static int flush_full(struct bstore *bs)
{
	struct packs *pk = &bs->pk;
	const uint8_t *full = pk->wbuf;
	uint64_t off = pk->wbuf_off;
	size_t len = pk->wlen;
	int error;

	pthread_mutex_lock(&bs->mu);
	pk->inflight = full;
	pk->inflight_off = off;
	pk->wbuf = full == pk->bufs[0] ? pk->bufs[1] : pk->bufs[0];
	pk->wbuf_off = off + len;
	pk->wlen = 0;
	pk->wdirty = false;
	pthread_mutex_unlock(&bs->mu);
	error = write_out(bs, full, len, off);
	pthread_mutex_lock(&bs->mu);
	pk->inflight = NULL;
	pthread_mutex_unlock(&bs->mu);
	start_writeback(bs);
	return error;
}

/*
 * Write the partly filled buffer, padded with zeros to the alignment.  It
 * stays the buffer being filled: the next flush writes that block again
 * with more in it.  Readers only read below wlen, so no mu for the pad.
 */
int bstore_pack_flush(struct bstore *bs)
{
	struct packs *pk = &bs->pk;
	size_t n = (size_t)align_up(pk->wlen);

	int error;

	if (!pk->cur || !pk->wlen || !pk->wdirty)
		return 0;
	memset(pk->wbuf + pk->wlen, 0, n - pk->wlen);
	if ((error = write_out(bs, pk->wbuf, n, pk->wbuf_off)) == 0)
		pk->wdirty = false;
	return error;
}

/* Copy bytes into the buffer (wlock held), flushing it when full. */
static int copy_in(struct bstore *bs, const uint8_t *p, size_t len)
{
	struct packs *pk = &bs->pk;
	size_t cap = bs->opts.write_buffer;
	int error;

	while (len) {
		size_t k = cap - pk->wlen;

		if (k > len)
			k = len;
		if (k > (256u << 10))
			k = 256u << 10;
		pthread_mutex_lock(&bs->mu);
		memcpy(pk->wbuf + pk->wlen, p, k);
		pk->wlen += k;
		pk->end += k;
		pk->wdirty = true;
		pthread_mutex_unlock(&bs->mu);
		p += k;
		len -= k;
		if (pk->wlen == cap && (error = flush_full(bs)) < 0)
			return error;
	}
	return 0;
}

/* Read [wbuf_off, end) back into the buffer (after recovery, rewind). */
static int load_tail(struct bstore *bs)
{
	struct packs *pk = &bs->pk;
	int fd;
	int error;

	pk->wbuf_off = align_down(pk->end);
	pk->wlen = (size_t)(pk->end - pk->wbuf_off);
	pk->wdirty = false;
	pk->inflight = NULL;
	if (!pk->wlen)
		return 0;
	if ((error = bstore_pack_fd_locked(&fd, bs, pk->cur)) < 0)
		return error;
	if (pread(fd, pk->wbuf, pk->wlen, (off_t)pk->wbuf_off) !=
	    (ssize_t)pk->wlen)
		return efs_error_set(EFS_EIO,
				     "bstore: cannot reload pack tail");
	return 0;
}

/* Open cur for writing: O_DIRECT when the filesystem allows (mu held). */
static int open_writer(struct bstore *bs)
{
	struct packs *pk = &bs->pk;
	char name[32];

	pack_name(name, sizeof(name), pk->cur);
	pk->wfd = openat(pk->dirfd, name, O_WRONLY | O_DIRECT | O_CLOEXEC);
	pk->direct = pk->wfd >= 0;
	if (pk->wfd >= 0)
		return 0;
	/* No O_DIRECT here (tmpfs): write through the buffered fd. */
	return bstore_pack_fd_locked(&pk->wfd, bs, pk->cur);
}

static void close_writer(struct bstore *bs)
{
	struct packs *pk = &bs->pk;

	if (pk->wfd >= 0 && pk->direct)
		close(pk->wfd);
	pk->wfd = -1;
	pk->direct = false;
}

static int create_pack(struct bstore *bs)
{
	struct packs *pk = &bs->pk;
	uint32_t id = pk->next_id;
	char name[32];
	int fd;
	int error;

	pack_name(name, sizeof(name), id);
	pthread_mutex_lock(&bs->mu);
	if ((error = ensure_slot(pk, id)) < 0)
		goto out;
	fd = openat(pk->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
		    0644);
	if (fd < 0) {
		error = efs_error_set_errno(EFS_EIO, errno, "create pack %s",
					    name);
		goto out;
	}
	pk->next_id++;
	pk->fds[id] = fd;
	pk->sizes[id] = 0;
	pk->cur = id;
	pk->broken = false;
	pk->dir_dirty = true;
	pk->wbuf_off = 0;
	pk->wb_done = 0;
	memcpy(pk->wbuf, PACK_MAGIC, 8);
	memset(pk->wbuf + 8, 0, PACK_HEADER_SIZE - 8);
	pk->wbuf[8] = PACK_VERSION;
	pk->wlen = pk->end = pk->keep = PACK_HEADER_SIZE;
	pk->wdirty = true;
	error = open_writer(bs);
out:
	pthread_mutex_unlock(&bs->mu);
	/* The header goes to disk now, so a rewind can always reload it. */
	if (!error && (error = bstore_pack_flush(bs)) < 0) {
		pthread_mutex_lock(&bs->mu);
		close_writer(bs);
		close(pk->fds[id]);
		pk->fds[id] = -1;
		unlinkat(pk->dirfd, name, 0);
		pk->cur = 0;
		pk->next_id = id;
		pthread_mutex_unlock(&bs->mu);
	}
	return error;
}

/* Drop the padding after end (wlock held). */
static void trim(struct bstore *bs)
{
	struct packs *pk = &bs->pk;
	int fd = -1;

	pthread_mutex_lock(&bs->mu);
	if (pk->cur && !pk->broken &&
	    bstore_pack_fd_locked(&fd, bs, pk->cur) < 0)
		fd = -1;
	pthread_mutex_unlock(&bs->mu);
	/* Best effort: recovery trims it too. */
	if (fd >= 0)
		(void)!ftruncate(fd, (off_t)pk->end);
}

void bstore_pack_trim(struct bstore *bs)
{
	if (bstore_pack_flush(bs) == 0)
		trim(bs);
}

static int roll_over(struct bstore *bs, size_t rec)
{
	struct packs *pk = &bs->pk;
	int error;

	if (pk->cur && !pk->broken &&
	    (pk->end <= PACK_HEADER_SIZE ||
	     pk->end + rec <= bs->opts.pack_size)) {
		if (pk->wfd >= 0)
			return 0;
		pthread_mutex_lock(&bs->mu);
		error = open_writer(bs);
		pthread_mutex_unlock(&bs->mu);
		return error;
	}
	if (pk->cur && !pk->broken) {
		if ((error = bstore_pack_flush(bs)) < 0)
			return error;
		trim(bs);
	}
	pthread_mutex_lock(&bs->mu);
	close_writer(bs);
	pthread_mutex_unlock(&bs->mu);
	return create_pack(bs);
}

size_t bstore_pack_record_header(uint8_t *out, uint64_t codec,
				 const uint8_t *mh, size_t mh_len, size_t len)
{
	size_t n = 0;

	out[n++] = PACK_RECORD_TAG;
	n += varint_encode(out + n, codec);
	n += varint_encode(out + n, mh_len);
	memcpy(out + n, mh, mh_len);
	n += mh_len;
	n += varint_encode(out + n, len);
	return n;
}

int bstore_pack_append(struct bstore *bs, struct batch *b, struct pend *p,
		       const uint8_t *data, size_t len)
{
	struct packs *pk = &bs->pk;
	uint8_t hdr[PACK_RECORD_HDR_MAX];
	size_t hl = bstore_pack_record_header(hdr, p->codec, p->mh,
					      p->mh_len, len);
	uint64_t start;
	int error;

	if ((error = roll_over(bs, hl + len)) < 0)
		return error;
	start = pk->end;
	pthread_mutex_lock(&bs->mu);
	error = bstore_batch_note_end(b, pk->cur, start + hl + len);
	pthread_mutex_unlock(&bs->mu);
	if (error < 0 || (error = copy_in(bs, hdr, hl)) < 0 ||
	    (error = copy_in(bs, data, len)) < 0)
		return error;
	p->pack = pk->cur;
	p->off = start + hl;
	p->hdr_len = (uint32_t)hl;
	p->len = (uint32_t)len;
	return 0;
}

/* Copy the part of [off, off + len) inside [boff, boff + blen). */
static size_t copy_part(uint8_t *dst, uint64_t off, size_t len,
			const uint8_t *buf, uint64_t boff, size_t blen)
{
	uint64_t lo = off > boff ? off : boff;
	uint64_t hi = off + len < boff + blen ? off + len : boff + blen;

	if (!buf || lo >= hi)
		return 0;
	memcpy(dst + (lo - off), buf + (lo - boff), (size_t)(hi - lo));
	return (size_t)(hi - lo);
}

size_t bstore_pack_read_buffered(struct bstore *bs, uint8_t *dst,
				 uint32_t pack, uint64_t off, size_t len)
{
	struct packs *pk = &bs->pk;
	uint64_t first = pk->wbuf_off;

	if (pack != pk->cur)
		return len;
	copy_part(dst, off, len, pk->wbuf, pk->wbuf_off, pk->wlen);
	if (pk->inflight) {
		copy_part(dst, off, len, pk->inflight, pk->inflight_off,
			  bs->opts.write_buffer);
		first = pk->inflight_off;
	}
	/* Buffers hold a suffix of the pack: what is below is on disk. */
	if (off >= first)
		return 0;
	return off + len <= first ? len : (size_t)(first - off);
}

uint64_t bstore_pack_slack_locked(struct bstore *bs, uint32_t id)
{
	if (id != bs->pk.cur)
		return 0;
	return align_up(bs->pk.end) - bs->pk.end;
}

static int fd_of(int *out, struct bstore *bs, uint32_t id)
{
	int error;

	pthread_mutex_lock(&bs->mu);
	error = bstore_pack_fd_locked(out, bs, id);
	pthread_mutex_unlock(&bs->mu);
	return error;
}

int bstore_pack_pread(struct bstore *bs, uint8_t *dst, uint32_t pack,
		      uint64_t off, size_t len)
{
	int fd;
	int error;

	if ((error = fd_of(&fd, bs, pack)) < 0)
		return error;
	while (len) {
		ssize_t n = pread(fd, dst, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return efs_error_set_errno(EFS_EIO, errno,
						   "read pack %" PRIu32, pack);
		if (n == 0)
			return efs_error_set(EFS_ECORRUPT,
					     "bstore: pack %" PRIu32
					     " ends before offset %" PRIu64,
					     pack, off + len);
		dst += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int bstore_pack_datasync(struct bstore *bs, int fd, uint32_t id)
{
	bool fail;
	int delay;

	pthread_mutex_lock(&bs->mu);
	fail = fault_fires(&bs->pk, BSTORE_FAULT_FSYNC);
	delay = bs->pk.fsync_delay_ms;
	pthread_mutex_unlock(&bs->mu);
	if (delay > 0)
		usleep((useconds_t)delay * 1000);
	if (fail || fdatasync(fd) < 0)
		return efs_error_set_errno(EFS_EIO, errno,
					   "fdatasync pack %" PRIu32, id);
	return 0;
}

int bstore_pack_dirsync(struct bstore *bs, bool dirty)
{
	if (dirty && fsync(bs->pk.dirfd) < 0)
		return efs_error_set_errno(EFS_EIO, errno, "fsync %s/packs",
					   bs->dir);
	return 0;
}

void bstore_pack_punch(struct bstore *bs, uint32_t pack, uint64_t off,
		       uint64_t len)
{
	int fd;

	if (!len || fd_of(&fd, bs, pack) < 0)
		return;
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len) < 0 && errno != EOPNOTSUPP)
		efs_log_debug("punch pack %" PRIu32 ": errno %d", pack, errno);
}

static bool syncing_writes(struct bstore *bs, uint32_t id)
{
	const struct batch *b = bs->syncing;

	for (size_t i = 0; b && i < b->nends; i++)
		if (b->ends[i].pack == id)
			return true;
	return false;
}

/*
 * Cut the packs other than cur back to what the index vouches for, and
 * remove those we created that it does not know at all; spare what the
 * sync in flight is writing.
 */
static void rewind_others(struct bstore *bs)
{
	struct packs *pk = &bs->pk;
	char name[32];

	for (uint32_t id = 1; id < pk->nfds; id++) {
		if (pk->fds[id] < 0 || id == pk->cur || syncing_writes(bs, id))
			continue;
		if (pk->sizes[id]) {
			(void)!ftruncate(pk->fds[id], (off_t)pk->sizes[id]);
		} else if (id >= pk->first_new) {
			close(pk->fds[id]);
			pk->fds[id] = -1;
			pack_name(name, sizeof(name), id);
			unlinkat(pk->dirfd, name, 0);
		}
	}
}

void bstore_pack_rewind_locked(struct bstore *bs)
{
	struct packs *pk = &bs->pk;
	int fd;

	rewind_others(bs);
	if (!pk->cur || pk->broken)
		return;
	pk->end = pk->keep;
	if (bstore_pack_fd_locked(&fd, bs, pk->cur) < 0 ||
	    ftruncate(fd, (off_t)pk->keep) < 0 || load_tail(bs) < 0) {
		/* Leave the garbage; the next put starts a new pack. */
		pk->broken = true;
		return;
	}
	if (pk->wb_done > pk->keep)
		pk->wb_done = pk->keep;
}

/* ---- recovery ---- */

static bool parse_pack_name(uint32_t *out, const char *name)
{
	uint32_t id = 0;

	for (int i = 0; i < 8; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		id = id * 10 + (uint32_t)(name[i] - '0');
	}
	if (strcmp(name + 8, ".pack") || id == 0)
		return false;
	*out = id;
	return true;
}

static bool header_ok(int fd)
{
	uint8_t hdr[PACK_HEADER_SIZE];

	if (pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr))
		return false;
	return !memcmp(hdr, PACK_MAGIC, 8) && hdr[8] == PACK_VERSION;
}

/* Cut one indexed pack back to its indexed size. */
static int recover_one(struct bstore *bs, uint32_t id, uint64_t size,
		       bool *changed)
{
	struct stat st;
	int fd;
	int error;

	if ((error = bstore_pack_size_set_locked(bs, id, size)) < 0)
		return error;
	if (bstore_pack_fd_locked(&fd, bs, id) < 0) {
		/* fsck reports it; reads of its blocks fail. */
		efs_log_warn("pack %" PRIu32 " is missing", id);
		return 0;
	}
	if (fstat(fd, &st) < 0)
		return efs_error_set_errno(EFS_EIO, errno, "stat pack %" PRIu32,
					   id);
	if ((uint64_t)st.st_size > size) {
		efs_log_notice("pack %" PRIu32 ": dropping %" PRIu64
			       " unindexed bytes", id,
			       (uint64_t)st.st_size - size);
		if (ftruncate(fd, (off_t)size) < 0 || fdatasync(fd) < 0)
			return efs_error_set_errno(EFS_EIO, errno,
						   "truncate pack %" PRIu32,
						   id);
		*changed = true;
	} else if ((uint64_t)st.st_size < size) {
		efs_log_warn("pack %" PRIu32 " is shorter than the index says",
			     id);
	}
	return 0;
}

/* Continue appending to the newest pack, if it is sound and not full. */
static void pick_current(struct bstore *bs, uint32_t id)
{
	struct packs *pk = &bs->pk;
	uint64_t size = pk->sizes[id];
	struct stat st;
	int fd = pk->fds[id];

	if (fd < 0 || fstat(fd, &st) < 0 || (uint64_t)st.st_size != size ||
	    !header_ok(fd) || size >= bs->opts.pack_size)
		return;
	pk->cur = id;
	pk->broken = false;
	pk->end = pk->keep = pk->wb_done = size;
	if (load_tail(bs) < 0)
		pk->broken = true;
}

static int load_indexed(struct bstore *bs, uint32_t *max, bool *changed)
{
	static const char sql[] = "SELECT id, size FROM packs ORDER BY id";
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, bs->wdb, sql)) < 0)
		return error;
	while ((error = db_step(bs->wdb, st)) > 0) {
		sqlite3_int64 id = sqlite3_column_int64(st, 0);
		sqlite3_int64 size = sqlite3_column_int64(st, 1);

		if (id <= 0 || id >= UINT32_MAX || size < PACK_HEADER_SIZE) {
			efs_log_warn("index: bad packs row %lld",
				     (long long)id);
			continue;
		}
		if ((error = recover_one(bs, (uint32_t)id, (uint64_t)size,
					 changed)) < 0)
			break;
		*max = (uint32_t)id;
	}
	db_reset(st);
	if (*max >= bs->pk.next_id)
		bs->pk.next_id = *max + 1;
	return error;
}

/* A pack file the index does not know. */
static int orphan(struct bstore *bs, const char *name, uint32_t id,
		  uint32_t max_indexed, bool fresh_index, bool *changed)
{
	struct packs *pk = &bs->pk;
	struct stat st;

	if (fstatat(pk->dirfd, name, &st, 0) < 0)
		return efs_error_set_errno(EFS_EIO, errno, "stat %s", name);
	if (fresh_index && st.st_size > PACK_HEADER_SIZE)
		return efs_error_set(EFS_ECORRUPT,
				     "bstore: packs/%s holds blocks but the "
				     "index is new (was index.db lost?)", name);
	if (id > max_indexed) {
		efs_log_notice("removing unindexed pack %s", name);
		if (unlinkat(pk->dirfd, name, 0) < 0)
			return efs_error_set_errno(EFS_EIO, errno, "unlink %s",
						   name);
		*changed = true;
		return 0;
	}
	/* Older than an indexed pack: keep it for fsck to report. */
	efs_log_warn("pack %s is not in the index", name);
	if (id >= pk->next_id)
		pk->next_id = id + 1;
	return 0;
}

static int scan_orphans(struct bstore *bs, uint32_t max_indexed,
			bool fresh_index, bool *changed)
{
	int fd = dup(bs->pk.dirfd);
	DIR *d;
	struct dirent *e;
	int error = 0;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return efs_error_set_errno(EFS_EIO, errno, "opendir packs");
	}
	rewinddir(d);
	while (!error && (e = readdir(d))) {
		uint32_t id;

		if (!parse_pack_name(&id, e->d_name))
			continue;
		if (bstore_pack_size_locked(bs, id))
			continue;
		error = orphan(bs, e->d_name, id, max_indexed, fresh_index,
			       changed);
	}
	closedir(d);
	return error;
}

int bstore_pack_recover(struct bstore *bs, bool fresh_index)
{
	struct packs *pk = &bs->pk;
	bool changed = false;
	uint32_t max = 0;
	int error;

	if ((error = load_indexed(bs, &max, &changed)) < 0)
		return error;
	if ((error = scan_orphans(bs, max, fresh_index, &changed)) < 0)
		return error;
	if (max)
		pick_current(bs, max);
	pk->first_new = pk->next_id;
	if (changed && fsync(pk->dirfd) < 0)
		return efs_error_set_errno(EFS_EIO, errno, "fsync packs");
	return 0;
}

int bstore_pack_scan(struct bstore *bs,
		     int (*cb)(uint32_t id, uint64_t size, bool header_ok,
			       void *payload),
		     void *payload)
{
	int fd = dup(bs->pk.dirfd);
	DIR *d;
	struct dirent *e;
	int error = 0;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return efs_error_set_errno(EFS_EIO, errno, "opendir packs");
	}
	rewinddir(d);
	while (!error && (e = readdir(d))) {
		struct stat st;
		uint32_t id;
		int pfd;

		if (!parse_pack_name(&id, e->d_name))
			continue;
		pfd = openat(bs->pk.dirfd, e->d_name, O_RDONLY | O_CLOEXEC);
		if (pfd < 0 || fstat(pfd, &st) < 0) {
			error = efs_error_set_errno(EFS_EIO, errno, "open %s",
						    e->d_name);
		} else {
			error = cb(id, (uint64_t)st.st_size, header_ok(pfd),
				   payload);
		}
		if (pfd >= 0)
			close(pfd);
	}
	closedir(d);
	return error;
}
