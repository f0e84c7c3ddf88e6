/*
 * fileio_read.c - reading an open file (see fileio.h; structures and
 * invariants in fileio_i.h): each chunk from its slot when it is staged,
 * else from the DAG up to base_limit, else zeros.
 *
 * Design notes:
 * - Chunks that are not staged (a file that is not being written, the
 *   common case) are read through a small per-file cache of whole
 *   chunks, FILEIO_RCACHE of them, each with its own DAG reader.  A chunk
 *   is loaded (fetched, verified against its CID, copied) without the
 *   file's lock, by the first reader that needs it, while other readers
 *   of it wait; and when reads are sequential the next FILEIO_PREFETCH
 *   chunks are loaded ahead on the staging workers, so fetching and
 *   hashing a chunk overlap the kernel consuming the one before (the
 *   kernel asks 128 KiB at a time, one chunk is 1 MiB).  Entries are
 *   keyed by DAG and chunk, so a flush's new DAG simply misses them.
 *   A read that races a write to the same bytes may return either
 *   version, as POSIX allows for overlapping calls.
 * - Chunks that are staged, files of one chunk, and reads when the
 *   cache has no room are read under the lock with the lock's own
 *   reader.
 */
#include "fs/fileio.h"

#include <string.h>

#include "core/alloc.h"
#include "fs/fileio_i.h"

#include "core/banned.h"

/* ---- under the lock ------------------------------------------------------ */

static int base_open(struct fileio *f)
{
	int error;

	if (f->reader)
		return 0;
	error = dagreader_file_open(&f->reader, &f->src, &f->base);
	if (error < 0)
		return error;
	if (dagreader_file_size(f->reader) != f->base_size) {
		error = efs_error_set(
		    EFS_ECORRUPT,
		    "fileio: dag of %llu bytes for a file "
		    "of %llu",
		    (unsigned long long)dagreader_file_size(f->reader),
		    (unsigned long long)f->base_size);
		dagreader_file_close(f->reader);
		f->reader = NULL;
	}
	return error;
}

/* Read exactly n bytes at off through r (a short read is corruption). */
static int read_exact(struct dagreader_file *r, uint64_t off, size_t n,
		      void *dst)
{
	size_t got;
	int error = dagreader_file_read(dst, &got, r, off, n);

	if (error == 0 && got != n)
		error = efs_error_set(EFS_ECORRUPT,
				      "fileio: dag ends at %llu, not %llu",
				      (unsigned long long)(off + got),
				      (unsigned long long)(off + n));
	return error;
}

int fileio_view_base(struct fileio *f, uint64_t pos, size_t n, void *dst)
{
	size_t m = 0;
	int error;

	if (pos < f->base_limit) {
		m = f->base_limit - pos < n ? (size_t)(f->base_limit - pos) : n;
		if ((error = base_open(f)) < 0 ||
		    (error = read_exact(f->reader, pos, m, dst)) < 0)
			return error;
	}
	memset((uint8_t *)dst + m, 0, n - m);
	return 0;
}

/* Read [a, a + n) of leaf id, whose first valid bytes are the file's
 * (zeros past them). */
static int leaf_read(struct fileio *f, const struct cid *id, uint64_t valid,
		     size_t a, size_t n, void *dst)
{
	size_t m = 0;
	int error;

	if (f->lreader && !cid_equal(&f->lreader_id, id)) {
		dagreader_file_close(f->lreader);
		f->lreader = NULL;
	}
	if (a < valid) {
		m = valid - a < n ? (size_t)(valid - a) : n;
		if (!f->lreader) {
			error = dagreader_file_open(&f->lreader, &f->src, id);
			if (error < 0)
				return error;
			f->lreader_id = *id;
		}
		if ((error = read_exact(f->lreader, a, m, dst)) < 0)
			return error;
	}
	memset((uint8_t *)dst + m, 0, n - m);
	return 0;
}

int fileio_under_read(struct fileio *f, const struct slot *s, size_t a,
		      size_t n, uint8_t *dst)
{
	if (n == 0)
		return 0;
	switch (s->under) {
	case UNDER_VIEW:
		return fileio_view_base(f, s->index * f->cs + a, n, dst);
	case UNDER_LEAF:
		return leaf_read(f, &s->leaf, s->leaf_len, a, n, dst);
	case UNDER_ZERO:
		break;
	}
	memset(dst, 0, n);
	return 0;
}

/* [a, a + n) of a MEM slot: written bytes from buf, the rest from under. */
int fileio_mem_read(struct fileio *f, const struct slot *s, size_t a, size_t n,
		    uint8_t *dst)
{
	size_t end = a + n;
	size_t lo = s->lo > a ? (s->lo < end ? s->lo : end) : a;
	size_t hi = s->hi < end ? (s->hi > lo ? s->hi : lo) : end;
	int error;

	/* [a, lo) under, [lo, hi) written, [hi, end) under */
	if ((error = fileio_under_read(f, s, a, lo - a, dst)) < 0)
		return error;
	if (hi > lo)
		memcpy(dst + (lo - a), s->buf + lo, hi - lo);
	return fileio_under_read(f, s, hi, end - hi, dst + (hi - a));
}

int fileio_chunk_read(struct fileio *f, uint64_t k, size_t a, size_t n,
		      void *dst)
{
	struct slot *s = fileio_slot_find(f, k);

	if (!s)
		return fileio_view_base(f, k * f->cs + a, n, dst);
	switch (s->state) {
	case SLOT_MEM:
		return fileio_mem_read(f, s, a, n, dst);
	case SLOT_DISK:
		return fileio_disk_read(f, k * f->cs + a, n, dst);
	case SLOT_SEALING:
		if (!s->buf)
			return fileio_disk_read(f, k * f->cs + a, n, dst);
		memcpy(dst, s->buf + a, n);
		return 0;
	case SLOT_SEALED:
		return leaf_read(f, &s->leaf, s->leaf_len, a, n, dst);
	}
	return efs_error_set(EFS_ERROR, "fileio: bad slot state");
}

/* ---- the read cache ------------------------------------------------------ */

void fileio_readers_drop(struct fileio *f)
{
	dagreader_file_close(f->reader);
	f->reader = NULL;
}

void fileio_rcache_free(struct fileio *f)
{
	while (f->nloading)
		fileio_wait(f);
	for (size_t i = 0; i < FILEIO_RCACHE; i++) {
		struct rchunk *e = &f->rc[i];

		dagreader_file_close(e->r);
		efs_free(e->buf);
		if (e->cap)
			staging_cache_give(f->st, e->cap);
		memset(e, 0, sizeof(*e));
	}
}

/* Can the DAG give chunk k as it is (no slot, wholly below base_limit)? */
static bool from_dag(struct fileio *f, uint64_t k)
{
	uint64_t start = k * f->cs, end = start + f->cs;

	if (!f->has_base || start >= f->base_size)
		return false;
	if (end > f->base_size)
		end = f->base_size;
	return end <= f->base_limit && !fileio_slot_find(f, k);
}

static struct rchunk *rc_find(struct fileio *f, uint64_t k)
{
	for (size_t i = 0; i < FILEIO_RCACHE; i++) {
		struct rchunk *e = &f->rc[i];

		if (e->state != RC_EMPTY && e->index == k &&
		    cid_equal(&e->root, &f->base))
			return e;
	}
	return NULL;
}

/*
 * An entry to load chunk k (which from_dag can give) into, made LOADING,
 * or NULL.  Entries behind the reader (index < keep) or of an old DAG go
 * first; for a prefetch (ahead true) nothing else does.
 */
static struct rchunk *rc_claim(struct fileio *f, uint64_t k, uint64_t keep,
			       bool ahead)
{
	size_t len = (size_t)fileio_extent(f, k, f->base_size);
	struct rchunk *best = NULL;
	int best_score = -1;

	for (size_t i = 0; i < FILEIO_RCACHE; i++) {
		struct rchunk *e = &f->rc[i];
		int score;

		if (e->state == RC_LOADING || e->pins)
			continue;
		if (e->state == RC_EMPTY || !cid_equal(&e->root, &f->base))
			score = 3;
		else if (e->index < keep)
			score = 2;
		else if (ahead)
			continue;
		else
			score = 1;
		if (score > best_score ||
		    (score == best_score && e->tick < best->tick)) {
			best = e;
			best_score = score;
		}
	}
	if (!best)
		return NULL;
	if (best->cap < len) {
		if (!staging_cache_take(f->st, len - best->cap))
			return NULL;
		best->cap = len;
	}
	best->f = f;
	best->state = RC_LOADING;
	best->index = k;
	best->root = f->base;
	best->root_size = f->base_size;
	best->len = len;
	best->tick = ++f->tick;
	f->nloading++;
	return best;
}

/* Point e->data at its chunk: in its reader's leaf when that leaf is the
 * chunk, else copied. */
static int rc_fill(struct rchunk *e)
{
	struct fileio *f = e->f;
	uint64_t off = e->index * f->cs;
	const uint8_t *p;
	size_t n;
	int error;

	if ((error = dagreader_file_peek(&p, &n, e->r, off)) < 0)
		return error;
	if (n >= e->len) {
		e->data = p;
		return 0;
	}
	if (!e->buf && !(e->buf = efs_malloc(f->cs)))
		return efs_error_set(EFS_ENOMEM, "fileio: out of memory");
	e->data = e->buf;
	return read_exact(e->r, off, e->len, e->buf);
}

/* Fill LOADING entry e; called without the lock. */
static int rc_load(struct rchunk *e)
{
	struct fileio *f = e->f;
	int error = 0;

	if (e->r && !cid_equal(&e->r_root, &e->root)) {
		dagreader_file_close(e->r);
		e->r = NULL;
	}
	if (!e->r &&
	    (error = dagreader_file_open(&e->r, &f->src, &e->root)) == 0)
		e->r_root = e->root;
	if (error == 0 && dagreader_file_size(e->r) != e->root_size)
		error = efs_error_set(
		    EFS_ECORRUPT,
		    "fileio: dag of %llu bytes for a file of %llu",
		    (unsigned long long)dagreader_file_size(e->r),
		    (unsigned long long)e->root_size);
	if (error == 0)
		error = rc_fill(e);
	pthread_mutex_lock(&f->lock);
	if (error < 0) {
		dagreader_file_close(e->r);
		e->r = NULL;
	}
	e->state = error < 0 ? RC_EMPTY : RC_READY;
	f->rc_loads += error == 0;
	f->nloading--;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	return error;
}

static void rc_job(struct staging_job *job, uint8_t *scratch)
{
	/* a failed prefetch is forgotten: the reader loads it again and
	 * gets the error itself */
	rc_load((struct rchunk *)job);
}

/* Load chunks after k1 ahead of a sequential reader that started at k0. */
static void rc_prefetch(struct fileio *f, uint64_t k0, uint64_t k1)
{
	for (uint64_t k = k1 + 1; k <= k1 + FILEIO_PREFETCH; k++) {
		struct rchunk *e;

		if (!from_dag(f, k) || rc_find(f, k))
			continue;
		if (!(e = rc_claim(f, k, k0, true)))
			return;
		e->job.run = rc_job;
		staging_submit(f->st, &e->job);
	}
}

/*
 * The READY entry of chunk k (from_dag), loaded first if need be; NULL
 * with *error 0 when the cache has no room (read it another way), or
 * NULL with the error.  The lock is released while waiting and loading.
 */
static struct rchunk *rc_get(struct fileio *f, uint64_t k, int *error)
{
	*error = 0;
	for (;;) {
		struct rchunk *e = rc_find(f, k);

		if (e && e->state == RC_READY) {
			e->tick = ++f->tick;
			return e;
		}
		if (e) {
			fileio_wait(f);
			continue;
		}
		if (!(e = rc_claim(f, k, k, false)))
			return NULL;
		pthread_mutex_unlock(&f->lock);
		*error = rc_load(e);
		pthread_mutex_lock(&f->lock);
		if (*error < 0)
			return NULL;
	}
}

/* ---- the read ------------------------------------------------------------ */

/* May [k0, k1] be read through the cache?  Files of more than one chunk
 * only (a small file's chunk is the lock's reader's cached leaf). */
static bool cacheable(struct fileio *f, uint64_t k0, uint64_t k1)
{
	if (!f->has_base || f->base_size <= f->cs)
		return false;
	for (uint64_t k = k0; k <= k1; k++)
		if (!from_dag(f, k))
			return false;
	return true;
}

/* Clamp len to the file; under the lock. */
static size_t clamp(struct fileio *f, uint64_t off, size_t len)
{
	if (off >= f->size)
		return 0;
	return len > f->size - off ? (size_t)(f->size - off) : len;
}

/* A read of [off, off + len) ended: load ahead of a sequential reader. */
static void read_done(struct fileio *f, uint64_t off, size_t len, bool cached)
{
	if (cached && off == f->rc_next)
		rc_prefetch(f, off / f->cs, (off + len - 1) / f->cs);
	f->rc_next = off + len;
}

int fileio_read(void *out, size_t *out_len, struct fileio *f, uint64_t off,
		size_t len)
{
	uint8_t *dst = out;
	bool cached;
	size_t done = 0;
	int error = 0;

	*out_len = 0;
	pthread_mutex_lock(&f->lock);
	len = clamp(f, off, len);
	cached = len && cacheable(f, off / f->cs, (off + len - 1) / f->cs);
	while (done < len && error == 0) {
		uint64_t pos = off + done;
		uint64_t k = pos / f->cs;
		size_t a = (size_t)(pos - k * f->cs);
		size_t n = f->cs - a < len - done ? f->cs - a : len - done;
		struct rchunk *e = cached ? rc_get(f, k, &error) : NULL;

		if (e)
			memcpy(dst + done, e->data + a, n);
		else if (error == 0)
			error = fileio_chunk_read(f, k, a, n, dst + done);
		done += n;
	}
	if (error == 0)
		read_done(f, off, len, cached);
	pthread_mutex_unlock(&f->lock);
	if (error == 0)
		*out_len = len;
	return error;
}

/* Pin the cached pieces of [off, off + len) into iov; 0 when they are not
 * all cached (nothing pinned), else their count, or an error. */
static int pin_pieces(struct rchunk **pinned, struct iovec *iov,
		      struct fileio *f, uint64_t off, size_t len)
{
	uint64_t k0 = off / f->cs, k1 = (off + len - 1) / f->cs;
	size_t done = 0;
	int n = 0, error = 0;

	if (k1 - k0 >= FILEIO_IOV_MAX || !cacheable(f, k0, k1))
		return 0;
	while (done < len) {
		uint64_t pos = off + done;
		uint64_t k = pos / f->cs;
		size_t a = (size_t)(pos - k * f->cs);
		size_t m = f->cs - a < len - done ? f->cs - a : len - done;
		struct rchunk *e = rc_get(f, k, &error);

		if (!e)
			break;
		e->pins++;
		pinned[n] = e;
		iov[n].iov_base = (void *)(e->data + a);
		iov[n].iov_len = m;
		n++;
		done += m;
	}
	if (done == len)
		return n;
	while (n > 0)
		pinned[--n]->pins--;
	return error;
}

int fileio_read_iov(struct fileio *f, uint64_t off, size_t len,
		    uint8_t *scratch, fileio_iov_cb cb, void *payload)
{
	struct rchunk *pinned[FILEIO_IOV_MAX];
	struct iovec iov[FILEIO_IOV_MAX];
	size_t got;
	int n, error;

	pthread_mutex_lock(&f->lock);
	len = clamp(f, off, len);
	n = len ? pin_pieces(pinned, iov, f, off, len) : 0;
	if (n > 0) {
		read_done(f, off, len, true);
		pthread_mutex_unlock(&f->lock);
		error = cb(iov, n, payload);
		pthread_mutex_lock(&f->lock);
		while (n > 0)
			pinned[--n]->pins--;
		pthread_mutex_unlock(&f->lock);
		return error;
	}
	pthread_mutex_unlock(&f->lock);
	if (n < 0)
		return n;
	if ((error = fileio_read(scratch, &got, f, off, len)) < 0)
		return error;
	iov[0].iov_base = scratch;
	iov[0].iov_len = got;
	return cb(iov, 1, payload);
}
