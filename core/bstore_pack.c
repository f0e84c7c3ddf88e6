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
 * Writing: one pack is current.  Records are copied into the write
 * buffer being filled (one of PACK_WBUFS aligned buffers); a full buffer
 * is queued for the writer thread ("bstore-write"), which writes it with
 * O_DIRECT while the caller goes on (hashing the next chunk, say), so
 * import runs at the speed of the slower of the two, not their sum.  A
 * sync drains the queue and writes the partly filled buffer padded to the
 * alignment; it stays the buffer being filled, and its next write
 * rewrites that block with more in it (the bytes already there are
 * rewritten unchanged, so a torn write cannot damage them).  Direct I/O
 * because on the disk measured, writeback through the page cache ran at a
 * quarter of the speed of direct writes (bench/bstore_bench.sh), and a
 * stream of imported data should not evict the page cache everyone else
 * uses.  Where O_DIRECT is refused (tmpfs), the same code writes through
 * the page cache, with sync_file_range starting writeback every
 * `writeback` bytes.  The writer's buffers (filling and queued) are
 * readable under mu: a pending block is read from them, and from the
 * file below them.  A write failure in the thread is kept in werr and
 * returned by the next put or sync, which drop the pending blocks.  A pack
 * past pack_size is closed (its padding trimmed) and a new one started; a
 * pack is never appended to after that, so its tail past the indexed size
 * is garbage that the next open truncates.
 *
 * Recovery is in bstore_recover.c.
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
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/fdio.h"
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
static int start_writer(struct bstore *bs);
static void stop_writer(struct bstore *bs);

static void pack_name(char *out, size_t cap, uint32_t id)
{
	snprintf(out, cap, "%08" PRIu32 ".pack", id);
}

int bstore_pack_init(struct bstore *bs)
{
	struct packs *pk = &bs->pk;
	char path[PATH_MAX]; /* bstore_open checked the length */

	memset(pk, 0, sizeof(*pk));
	pk->dirfd = -1;
	pk->wfd = -1;
	pk->next_id = 1;
	snprintf(path, sizeof(path), "%s/packs", bs->dir);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return efs_error_set_errno(EFS_EIO, errno, "bstore: mkdir %s",
					   path);
	pk->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pk->dirfd < 0)
		return efs_error_set_errno(EFS_EIO, errno, "bstore: open %s",
					   path);
	for (int i = 0; i < PACK_WBUFS; i++) {
		pk->raw[i] = efs_malloc(bs->opts.write_buffer + PACK_ALIGN);
		if (!pk->raw[i])
			return efs_error_set(EFS_ENOMEM, "out of memory");
		pk->bufs[i] = (uint8_t *)align_up((uintptr_t)pk->raw[i]);
	}
	pk->wbuf = pk->bufs[0];
	return start_writer(bs);
}

void bstore_pack_release(struct bstore *bs)
{
	struct packs *pk = &bs->pk;

	stop_writer(bs);
	close_writer(bs);
	for (size_t i = 0; i < pk->nfds; i++)
		if (pk->fds[i] >= 0)
			close(pk->fds[i]);
	if (pk->dirfd >= 0)
		close(pk->dirfd);
	efs_free(pk->fds);
	efs_free(pk->sizes);
	for (int i = 0; i < PACK_WBUFS; i++)
		efs_free(pk->raw[i]);
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
	if (id > PACK_ID_MAX)
		return efs_error_set(EFS_ECORRUPT, "bstore: pack id %" PRIu32,
				     id);
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

	if (id == 0 || id > PACK_ID_MAX)
		return efs_error_set(EFS_ECORRUPT, "bstore: pack id %" PRIu32,
				     id);
	if ((error = ensure_slot(pk, id)) < 0)
		return error;
	if (pk->fds[id] < 0) {
		pack_name(name, sizeof(name), id);
		pk->fds[id] = openat(pk->dirfd, name, O_RDWR | O_CLOEXEC);
		if (pk->fds[id] < 0)
			return efs_error_set_errno(
			    errno == ENOENT ? EFS_ECORRUPT : EFS_EIO, errno,
			    "bstore: open pack %s", name);
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
		return efs_error_set_errno(
		    EFS_EIO, errno, "bstore: write pack %" PRIu32, pk->cur);
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
			return efs_error_set_errno(
			    EFS_EIO, n < 0 ? errno : EIO,
			    "bstore: write pack %" PRIu32, pk->cur);
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

/* Buffered mode: start writeback early so the fdatasync finds little. */
static void start_writeback(struct bstore *bs, uint64_t done)
{
	struct packs *pk = &bs->pk;

	if (pk->direct || !bs->opts.writeback ||
	    done < pk->wb_done + bs->opts.writeback)
		return;
	/* Errors surface from the fdatasync at sync time. */
	sync_file_range(pk->wfd, (off_t)pk->wb_done,
			(off_t)(done - pk->wb_done), SYNC_FILE_RANGE_WRITE);
	pk->wb_done = done;
}

/*
 * The writer thread: writes queued buffers in order with no lock held.
 * After a failure it writes nothing more (what follows is dropped with
 * it) until a rewind clears werr.
 */
static void *writer_main(void *arg)
{
	struct bstore *bs = arg;
	struct packs *pk = &bs->pk;

	pthread_mutex_lock(&bs->mu);
	for (;;) {
		struct pack_chunk c;
		int error = 0;

		while (!pk->qlen && !pk->stop)
			pthread_cond_wait(&pk->work, &bs->mu);
		if (!pk->qlen)
			break;
		c = pk->q[pk->qhead];
		if (!pk->werr) {
			pthread_mutex_unlock(&bs->mu);
			error = write_out(bs, c.buf, c.len, c.off);
			if (!error)
				start_writeback(bs, c.off + c.len);
			pthread_mutex_lock(&bs->mu);
		}
		if (error && !pk->werr) {
			pk->werr = error;
			efs_error_save(&pk->werr_msg);
		}
		for (int i = 0; i < PACK_WBUFS; i++)
			if (pk->bufs[i] == c.buf)
				pk->busy[i] = false;
		pk->qhead = (pk->qhead + 1) % PACK_WBUFS;
		pk->qlen--;
		pthread_cond_broadcast(&pk->idle);
	}
	pthread_mutex_unlock(&bs->mu);
	return NULL;
}

static int start_writer(struct bstore *bs)
{
	struct packs *pk = &bs->pk;
	int rc;

	pthread_cond_init(&pk->work, NULL);
	pthread_cond_init(&pk->idle, NULL);
	rc = pthread_create(&pk->writer, NULL, writer_main, bs);
	if (rc)
		return efs_error_set_errno(EFS_ERROR, rc,
					   "bstore: cannot start the writer");
	pthread_setname_np(pk->writer, "bstore-write");
	pk->writer_started = true;
	return 0;
}

static void stop_writer(struct bstore *bs)
{
	struct packs *pk = &bs->pk;

	if (!pk->writer_started)
		return;
	pthread_mutex_lock(&bs->mu);
	pk->stop = true;
	pthread_cond_signal(&pk->work);
	pthread_mutex_unlock(&bs->mu);
	pthread_join(pk->writer, NULL);
	pthread_cond_destroy(&pk->work);
	pthread_cond_destroy(&pk->idle);
	pk->writer_started = false;
}

/* Wait for the queue to drain (mu held); the writer's failure, if any. */
static int wait_idle_locked(struct bstore *bs)
{
	struct packs *pk = &bs->pk;

	while (pk->qlen)
		pthread_cond_wait(&pk->idle, &bs->mu);
	if (pk->werr)
		return efs_error_restore(&pk->werr_msg);
	return 0;
}

/* The buffer is full: queue it, and fill a free one (wlock held). */
static int flush_full(struct bstore *bs)
{
	struct packs *pk = &bs->pk;
	size_t tail;
	int error = 0;
	int i;

	pthread_mutex_lock(&bs->mu);
	tail = (pk->qhead + pk->qlen) % PACK_WBUFS;
	pk->q[tail].buf = pk->wbuf;
	pk->q[tail].off = pk->wbuf_off;
	pk->q[tail].len = pk->wlen;
	pk->qlen++;
	for (i = 0; pk->bufs[i] != pk->wbuf; i++)
		;
	pk->busy[i] = true;
	pthread_cond_signal(&pk->work);
	pk->wbuf_off += pk->wlen;
	pk->wlen = 0;
	pk->wdirty = false;
	for (;;) {
		for (i = 0; i < PACK_WBUFS && pk->busy[i]; i++)
			;
		if (i < PACK_WBUFS)
			break;
		pthread_cond_wait(&pk->idle, &bs->mu);
	}
	pk->wbuf = pk->bufs[i];
	if (pk->werr)
		error = efs_error_restore(&pk->werr_msg);
	pthread_mutex_unlock(&bs->mu);
	return error;
}

/*
 * Write the partly filled buffer, padded with zeros to the alignment,
 * after what is queued.  It stays the buffer being filled: the next write
 * of that block rewrites it with more in it.  Readers only read below
 * wlen, so no mu for the pad.  (wlock held.)
 */
int bstore_pack_flush(struct bstore *bs)
{
	struct packs *pk = &bs->pk;
	size_t n = (size_t)align_up(pk->wlen);
	int error;

	pthread_mutex_lock(&bs->mu);
	error = wait_idle_locked(bs);
	pthread_mutex_unlock(&bs->mu);
	if (error || !pk->cur || !pk->wlen || !pk->wdirty)
		return error;
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
int bstore_pack_load_tail_locked(struct bstore *bs)
{
	struct packs *pk = &bs->pk;
	int fd;
	int error;

	pk->wbuf_off = align_down(pk->end);
	pk->wlen = (size_t)(pk->end - pk->wbuf_off);
	pk->wdirty = false;
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
		error = efs_error_set_errno(EFS_EIO, errno,
					    "bstore: create pack %s", name);
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
		/* Under mu: the writer thread may swap wfd (write_out). */
		pthread_mutex_lock(&bs->mu);
		error = pk->wfd >= 0 ? 0 : open_writer(bs);
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
	for (size_t i = 0; i < pk->qlen; i++) {
		const struct pack_chunk *c = &pk->q[(pk->qhead + i) %
						    PACK_WBUFS];

		copy_part(dst, off, len, c->buf, c->off, c->len);
		if (c->off < first)
			first = c->off;
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
	ssize_t n;
	int fd;
	int error;

	if ((error = fd_of(&fd, bs, pack)) < 0)
		return error;
	if ((n = fdio_pread(fd, dst, len, off)) < 0)
		return efs_error_set_errno(EFS_EIO, errno,
					   "bstore: read pack %" PRIu32, pack);
	if ((size_t)n < len)
		return efs_error_set(EFS_ECORRUPT,
				     "bstore: pack %" PRIu32
				     " ends before offset %" PRIu64,
				     pack, off + len);
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
		return efs_error_set_errno(
		    EFS_EIO, errno, "bstore: fdatasync pack %" PRIu32, id);
	return 0;
}

int bstore_pack_dirsync(struct bstore *bs, bool dirty)
{
	if (dirty && fsync(bs->pk.dirfd) < 0)
		return efs_error_set_errno(EFS_EIO, errno,
					   "bstore: fsync %s/packs", bs->dir);
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

	/* The writer thread skips what is queued after a failure. */
	wait_idle_locked(bs);
	pk->werr = 0;
	rewind_others(bs);
	if (!pk->cur || pk->broken)
		return;
	pk->end = pk->keep;
	if (bstore_pack_fd_locked(&fd, bs, pk->cur) < 0 ||
	    ftruncate(fd, (off_t)pk->keep) < 0 ||
	    bstore_pack_load_tail_locked(bs) < 0) {
		/* Leave the garbage; the next put starts a new pack. */
		pk->broken = true;
		return;
	}
	if (pk->wb_done > pk->keep)
		pk->wb_done = pk->keep;
}
