/*
 * fileio.c - one open file's staged chunks: reads, writes, truncation and
 * sealing (see fileio.h; the flush is in fileio_flush.c, the shared
 * structures and invariants in fileio_i.h).
 *
 * Design notes:
 * - A write to chunk k first gets k a slot.  A chunk without one gets a
 *   MEM slot that has written nothing yet and remembers what lies under
 *   it (zeros, the DAG, or its old leaf), so nothing is read as long as
 *   the writes cover the chunk from one contiguous range: a sequential
 *   writer never reads the old bytes (read-modify-write happens only
 *   when a writer skips around inside a chunk, and then for that one
 *   chunk: R7).
 * - A chunk written full (cs bytes, all of it written) is sealed at once
 *   on a staging worker: its buffer goes with the job and the slot reads
 *   from it until the leaf is known.  At most FILEIO_INFLIGHT chunks of a
 *   file are being sealed; a writer past that waits for its own chunks
 *   (back-pressure at hashing speed), never for another file's.
 * - A file keeps at most FILEIO_MEM_SLOTS chunks in memory; touching
 *   another one retires the least recently written: sealed when it is
 *   full, else moved to the staging file (DISK).  When the memory budget
 *   refuses a buffer the chunk goes to disk at once; when the disk budget
 *   is used up a writer first seals its own DISK chunks (R6).
 * - Growing the file past a partial last chunk, or shrinking it into a
 *   chunk, stages that chunk (its leaf would no longer fit), so chunks
 *   without a slot keep their leaf as is (invariant 4).
 * - Waits (for a flush's barrier, a chunk being sealed) happen only at the
 *   start of an operation, before it changes anything, and in the
 *   inflight throttle at its end, after it changed everything: the
 *   operation itself runs in one critical section.
 */
#include "fs/fileio.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/fdio.h"
#include "fs/errmap.h"
#include "fs/fileio_i.h"

#include "core/banned.h"

/* Chunks one file stages in memory. */
#define FILEIO_MEM_SLOTS 2
/* Chunks of one file being sealed at once. */
#define FILEIO_INFLIGHT 4
/* The first buffer of a small file. */
#define FILEIO_BUF_MIN (64u << 10)

/* ---- the staging file --------------------------------------------------- */

static int disk_fd(struct fileio *f)
{
	if (f->stfd >= 0)
		return 0;
	return staging_tmpfile(&f->stfd, f->st);
}

static int disk_write(struct fileio *f, uint64_t off, const void *p, size_t n)
{
	if (fdio_pwrite(f->stfd, p, n, off) < 0)
		return efs_error_set_errno(EFS_EIO, errno,
					   "fileio: staging write");
	return 0;
}

int fileio_disk_read(struct fileio *f, uint64_t off, size_t n, void *p)
{
	ssize_t r = f->stfd >= 0 ? fdio_pread(f->stfd, p, n, off) : 0;

	if (r < 0)
		return efs_error_set_errno(EFS_EIO, errno,
					   "fileio: staging read");
	/* past the staging file's end: bytes never staged read as zeros */
	memset((uint8_t *)p + r, 0, n - (size_t)r);
	return 0;
}

/* Make [off, off + n) of the staging file a hole (invariant 5). */
static void disk_zero(struct fileio *f, uint64_t off, size_t n)
{
	static const uint8_t zeros[4096];

	if (f->stfd < 0 || n == 0)
		return;
	if (fallocate(f->stfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)n) == 0)
		return;
	/* No hole punching here: write zeros (best effort; a failure only
	 * costs space, reads of DISK chunks rewrite the range first). */
	while (n) {
		size_t m = n < sizeof(zeros) ? n : sizeof(zeros);

		if (disk_write(f, off, zeros, m) < 0)
			return;
		off += m;
		n -= m;
	}
}

/* ---- slots -------------------------------------------------------------- */

/* Position of the first slot with index >= k. */
static size_t slot_pos(const struct fileio *f, uint64_t k)
{
	size_t lo = 0, hi = f->nslots;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->slots[mid]->index < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct slot *fileio_slot_from(struct fileio *f, uint64_t k)
{
	size_t pos = slot_pos(f, k);

	return pos < f->nslots ? f->slots[pos] : NULL;
}

struct slot *fileio_slot_find(struct fileio *f, uint64_t k)
{
	size_t pos = slot_pos(f, k);

	return pos < f->nslots && f->slots[pos]->index == k ? f->slots[pos]
							    : NULL;
}

/* A new MEM slot for chunk k with nothing written over under. */
static int slot_add(struct slot **out, struct fileio *f, uint64_t k,
		    enum slot_under under)
{
	size_t pos = slot_pos(f, k);
	struct slot *s;

	if (f->nslots == f->aslots) {
		size_t n = f->aslots ? 2 * f->aslots : 16;
		struct slot **p = efs_reallocarray(f->slots, n, sizeof(*p));

		if (!p)
			return efs_error_set(EFS_ENOMEM,
					     "fileio: out of memory");
		f->slots = p;
		f->aslots = n;
	}
	if (!(s = efs_calloc(1, sizeof(*s))))
		return efs_error_set(EFS_ENOMEM, "fileio: out of memory");
	s->index = k;
	s->state = SLOT_MEM;
	s->under = under;
	memmove(f->slots + pos + 1, f->slots + pos,
		(f->nslots - pos) * sizeof(*f->slots));
	f->slots[pos] = s;
	f->nslots++;
	f->nmem++;
	*out = s;
	return 0;
}

static void mem_free(struct fileio *f, struct slot *s)
{
	efs_free(s->buf);
	if (s->cap)
		staging_mem_give(f->st, s->cap);
	s->buf = NULL;
	s->cap = 0;
}

void fileio_slot_drop(struct fileio *f, struct slot *s)
{
	size_t pos = slot_pos(f, s->index);

	assert(s->state != SLOT_SEALING);
	if (s->state == SLOT_MEM) {
		mem_free(f, s);
		f->nmem--;
	} else if (s->state == SLOT_DISK) {
		disk_zero(f, s->index * f->cs, f->cs);
		staging_disk_give(f->st, f->cs);
		f->ndisk--;
	}
	memmove(f->slots + pos, f->slots + pos + 1,
		(f->nslots - pos - 1) * sizeof(*f->slots));
	f->nslots--;
	efs_free(s);
}

static void touch(struct fileio *f, struct slot *s)
{
	s->gen = ++f->gen;
	s->tick = ++f->tick;
}

/* ---- sealing ------------------------------------------------------------ */

struct seal_job {
	struct staging_job job;
	struct fileio *f;
	uint64_t index;
	uint8_t *buf; /* the MEM slot's buffer, or NULL: read the disk */
	size_t len;
};

/* A worker is done with job: record the leaf, or put the slot back. */
static void seal_done(struct fileio *f, struct seal_job *job, int error,
		      const struct cid *leaf)
{
	struct slot *s = fileio_slot_find(f, job->index);

	assert(s && s->state == SLOT_SEALING);
	f->nsealing--;
	if (error < 0) {
		s->state = job->buf ? SLOT_MEM : SLOT_DISK;
		if (job->buf)
			f->nmem++;
		else
			f->ndisk++;
		if (!f->seal_error) {
			f->seal_error = error;
			efs_error_save(&f->seal_err);
		}
	} else {
		if (job->buf) {
			mem_free(f, s);
		} else {
			disk_zero(f, s->index * f->cs, f->cs);
			staging_disk_give(f->st, f->cs);
		}
		s->state = SLOT_SEALED;
		s->leaf = *leaf;
		s->leaf_len = job->len;
	}
	pthread_cond_broadcast(&f->cond);
}

static void seal_run(struct staging_job *sj, uint8_t *scratch)
{
	struct seal_job *job = (struct seal_job *)sj;
	struct fileio *f = job->f;
	const uint8_t *data = job->buf;
	struct cid leaf;
	int error = 0;

	/* Nobody changes a SEALING chunk: read it without the lock. */
	if (!data) {
		error =
		    fileio_disk_read(f, job->index * f->cs, job->len, scratch);
		data = scratch;
	}
	if (error == 0)
		error = staging_leaf_put(&leaf, f->st, data, job->len);
	pthread_mutex_lock(&f->lock);
	seal_done(f, job, error, &leaf);
	pthread_mutex_unlock(&f->lock);
	efs_free(job);
}

int fileio_seal_submit(struct fileio *f, struct slot *s, size_t len, bool here)
{
	struct seal_job *job = efs_calloc(1, sizeof(*job));

	assert(s->state == SLOT_MEM || s->state == SLOT_DISK);
	if (!job)
		return efs_error_set(EFS_ENOMEM, "fileio: out of memory");
	job->job.run = seal_run;
	job->f = f;
	job->index = s->index;
	job->len = len;
	if (s->state == SLOT_MEM) {
		job->buf = s->buf;
		f->nmem--;
	} else {
		f->ndisk--;
	}
	s->state = SLOT_SEALING;
	f->nsealing++;
	if (!here || !job->buf) {
		staging_submit(f->st, &job->job);
		return 0;
	}
	pthread_mutex_unlock(&f->lock);
	seal_run(&job->job, NULL);
	pthread_mutex_lock(&f->lock);
	return 0;
}

/* ---- memory chunks ------------------------------------------------------ */

/*
 * Give s a buffer of at least need bytes.  Returns 0, 1 when the budget
 * refuses (unless force) or EFS_ENOMEM.  Chunk 0 starts small (most files
 * are), later chunks get a whole chunk at once.
 */
static int mem_reserve(struct fileio *f, struct slot *s, size_t need,
		       bool force)
{
	size_t cap = FILEIO_BUF_MIN;
	uint8_t *p;

	if (s->cap >= need)
		return 0;
	while (cap < need)
		cap *= 2;
	if (s->index > 0 || cap > f->cs)
		cap = f->cs;
	if (force)
		staging_mem_add(f->st, cap - s->cap);
	else if (!staging_mem_take(f->st, cap - s->cap))
		return 1;
	if (!(p = efs_realloc(s->buf, cap))) {
		staging_mem_give(f->st, cap - s->cap);
		return efs_error_set(EFS_ENOMEM, "fileio: out of memory");
	}
	s->buf = p;
	s->cap = cap;
	return 0;
}

/* Fill what s has not written of [0, len) from under; s holds all of it
 * afterwards.  The buffer must be len bytes. */
static int mem_fill(struct fileio *f, struct slot *s, size_t len)
{
	int error = 0;

	if (s->under == UNDER_ZERO) {
		if (s->hi < len)
			memset(s->buf + s->hi, 0, len - s->hi);
	} else {
		size_t hi = s->hi > s->lo ? s->hi : 0;
		size_t lo = s->hi > s->lo ? s->lo : 0;

		if (lo > len)
			lo = len;
		if (hi < lo)
			hi = lo;
		error = fileio_under_read(f, s, 0, lo, s->buf);
		if (error == 0 && hi < len)
			error =
			    fileio_under_read(f, s, hi, len - hi, s->buf + hi);
	}
	if (error == 0) {
		s->lo = 0;
		if (s->hi < len)
			s->hi = len;
	}
	return error;
}

int fileio_mem_complete(struct fileio *f, struct slot *s, size_t len)
{
	int error;

	if (s->lo == 0 && s->hi >= len)
		return 0;
	if ((error = mem_reserve(f, s, len, true)) < 0)
		return error;
	return mem_fill(f, s, len);
}

/* Move MEM slot s to the staging file (its whole view). */
static int mem_spill(struct fileio *f, struct slot *s)
{
	uint64_t k = s->index;
	size_t ext = (size_t)fileio_extent(f, k, f->size);
	uint8_t *tmp = NULL;
	int error;

	if ((error = disk_fd(f)) < 0)
		return error;
	if (s->under == UNDER_ZERO) {
		size_t n = s->hi < ext ? s->hi : ext;

		error = disk_write(f, k * f->cs, s->buf, n);
	} else if (!(tmp = efs_malloc(ext))) {
		error = efs_error_set(EFS_ENOMEM, "fileio: out of memory");
	} else {
		error = fileio_mem_read(f, s, 0, ext, tmp);
		if (error == 0)
			error = disk_write(f, k * f->cs, tmp, ext);
	}
	efs_free(tmp);
	if (error < 0) {
		disk_zero(f, k * f->cs, f->cs);
		return error;
	}
	mem_free(f, s);
	s->state = SLOT_DISK;
	f->nmem--;
	f->ndisk++;
	staging_disk_add(f->st, f->cs);
	return 0;
}

static bool mem_full(const struct fileio *f, const struct slot *s)
{
	return s->state == SLOT_MEM && s->lo == 0 && s->hi == f->cs &&
	       fileio_extent(f, s->index, f->size) == f->cs;
}

/*
 * Make room for one more MEM slot by retiring the least recently written
 * one outside chunks [keep0, keep1]: the ones the running operation has
 * still to change.  Retiring may seal a chunk, and an operation must not
 * meet a chunk being sealed after its start (op_enter); with all MEM
 * slots kept the file goes past FILEIO_MEM_SLOTS until the next one.
 */
static int mem_retire(struct fileio *f, uint64_t keep0, uint64_t keep1)
{
	struct slot *old = NULL;

	for (size_t i = 0; i < f->nslots; i++) {
		struct slot *s = f->slots[i];

		if (s->state == SLOT_MEM &&
		    (s->index < keep0 || s->index > keep1) &&
		    (!old || s->tick < old->tick))
			old = s;
	}
	if (!old)
		return 0;
	if (mem_full(f, old))
		return fileio_seal_submit(f, old, f->cs, false);
	return mem_spill(f, old);
}

/*
 * Write src to [a, b) of MEM slot s.  Returns 0, 1 when there is no
 * memory for it (the caller spills s and writes to disk) or an error.
 */
static int mem_write(struct fileio *f, struct slot *s, size_t a, size_t b,
		     const uint8_t *src)
{
	bool zero = s->under == UNDER_ZERO;
	bool empty = !zero && s->hi <= s->lo;
	int error;

	if (!zero && !empty && (a > s->hi || b < s->lo)) {
		/* Not contiguous with what was written: read the rest. */
		if ((error = mem_reserve(f, s, f->cs, false)) != 0 ||
		    (error = mem_fill(f, s, f->cs)) < 0)
			return error;
	} else if ((error = mem_reserve(f, s, b > s->hi ? b : s->hi, false)) !=
		   0) {
		return error;
	}
	if (zero && a > s->hi)
		memset(s->buf + s->hi, 0, a - s->hi);
	memcpy(s->buf + a, src, b - a);
	if (empty) {
		s->lo = a;
		s->hi = b;
	} else {
		if (!zero && a < s->lo)
			s->lo = a;
		if (b > s->hi)
			s->hi = b;
	}
	return 0;
}

/* ---- writing ------------------------------------------------------------ */

/*
 * The slot to write chunk k through: its own, or a new MEM slot over what
 * the chunk shows now.  With hole false, a chunk that is a hole gets no
 * slot (*out is NULL).  Never waits; k must not be SEALING.  Chunks
 * [keep0, keep1] (what the operation has still to change) and k are not
 * retired to make room.
 */
static int slot_get(struct slot **out, struct fileio *f, uint64_t k,
		    uint64_t keep0, uint64_t keep1, bool hole)
{
	struct slot *s = fileio_slot_find(f, k);
	enum slot_under under;
	int error;

	*out = NULL;
	assert(!s || s->state != SLOT_SEALING);
	if (s && s->state != SLOT_SEALED) {
		*out = s;
		return 0;
	}
	under = s ? UNDER_LEAF
		  : (k * f->cs < f->base_limit ? UNDER_VIEW : UNDER_ZERO);
	if (under == UNDER_ZERO && !hole)
		return 0;
	if (f->nmem >= FILEIO_MEM_SLOTS &&
	    (error = mem_retire(f, k < keep0 ? k : keep0,
				k > keep1 ? k : keep1)) < 0)
		return error;
	if (s) {
		s->state = SLOT_MEM;
		s->under = UNDER_LEAF;
		s->lo = s->hi = 0;
		f->nmem++;
	} else if ((error = slot_add(&s, f, k, under)) < 0) {
		return error;
	}
	*out = s;
	return 0;
}

/* Write src to [a, b) of chunk k; the operation goes on to chunk last. */
static int chunk_write(struct fileio *f, uint64_t k, uint64_t last, size_t a,
		       size_t b, const uint8_t *src)
{
	struct slot *s;
	int error = slot_get(&s, f, k, k, last, true);

	if (error < 0)
		return error;
	touch(f, s);
	if (s->state == SLOT_MEM) {
		error = mem_write(f, s, a, b, src);
		if (error <= 0)
			return error;
		if ((error = mem_spill(f, s)) < 0)
			return error;
	}
	return disk_write(f, k * f->cs + a, src, b - a);
}

/*
 * Stage chunk k (if it is not a hole) without writing it: its extent is
 * about to change, so its leaf can no longer be reused as is.  The
 * operation has still to change chunks [keep0, keep1].
 */
static int chunk_restage(struct fileio *f, uint64_t k, uint64_t keep0,
			 uint64_t keep1)
{
	struct slot *s;
	int error = slot_get(&s, f, k, keep0, keep1, false);

	if (error == 0 && s)
		touch(f, s);
	return error;
}

/* Is any chunk of [k0, k1] being sealed? */
static bool sealing_in(struct fileio *f, uint64_t k0, uint64_t k1)
{
	size_t pos;

	if (f->nsealing == 0)
		return false;
	for (pos = slot_pos(f, k0);
	     pos < f->nslots && f->slots[pos]->index <= k1; pos++) {
		if (f->slots[pos]->state == SLOT_SEALING)
			return true;
	}
	return false;
}

/* Submit the DISK slots of f for sealing and wait for all seals. */
static int disk_relieve(struct fileio *f)
{
	int error = 0;

	for (size_t i = 0; i < f->nslots && error == 0; i++) {
		struct slot *s = f->slots[i];

		if (s->state == SLOT_DISK)
			error = fileio_seal_submit(
			    f, s, (size_t)fileio_extent(f, s->index, f->size),
			    false);
	}
	while (f->nsealing)
		fileio_wait(f);
	return error;
}

/* The error an operation reports before it starts, if any. */
static int pending_error(struct fileio *f)
{
	int error;

	if (f->broken)
		return efs_error_set(f->broken, "fileio: the file lost data "
						"in a failed blockstore sync");
	if (!f->seal_error)
		return 0;
	error = efs_error_restore(&f->seal_err);
	f->seal_error = 0;
	return error;
}

/*
 * Wait until a write or truncate may change the chunks from the one
 * holding min(pos, size) to k1: no flush is sealing, none of them is
 * being sealed.  Then report pending errors and, when the disk budget is
 * used up, seal this file's staged chunks first.
 */
static int op_enter(struct fileio *f, uint64_t pos, uint64_t k1)
{
	int error;

	for (;;) {
		uint64_t k0 = (pos < f->size ? pos : f->size) / f->cs;

		if (f->barrier || sealing_in(f, k0, k1)) {
			fileio_wait(f);
			continue;
		}
		if ((error = pending_error(f)) < 0)
			return error;
		if (!f->ndisk || !staging_disk_over(f->st))
			return 0;
		/* Relieving waits for the seals: look again after it. */
		if ((error = disk_relieve(f)) < 0)
			return error;
	}
}

/* Seal chunks [k0, k1] that are full, throttled to FILEIO_INFLIGHT. */
static int seal_full(struct fileio *f, uint64_t k0, uint64_t k1)
{
	for (uint64_t k = k0; k <= k1; k++) {
		struct slot *s;

		while ((s = fileio_slot_find(f, k)) && mem_full(f, s) &&
		       f->nsealing >= FILEIO_INFLIGHT)
			fileio_wait(f);
		/* during a flush's barrier the flush seals it */
		if (s && mem_full(f, s) && !f->barrier) {
			int error = fileio_seal_submit(f, s, f->cs, false);

			if (error < 0)
				return error;
		}
	}
	return 0;
}

/* Grow the file to size: the old partial last chunk stops being a leaf.
 * The operation has still to change chunks [keep0, keep1] (a write's). */
static int grow(struct fileio *f, uint64_t size, uint64_t keep0, uint64_t keep1)
{
	uint64_t k = f->size / f->cs;
	int error = 0;

	if (f->size % f->cs)
		error = chunk_restage(f, k, keep0, keep1);
	if (error == 0)
		f->size = size;
	return error;
}

int fileio_write(struct fileio *f, uint64_t off, const void *data, size_t len)
{
	const uint8_t *src = data;
	uint64_t end = off + len, k0, k1, pos;
	int error;

	if (len == 0)
		return 0;
	if (off > FILEIO_SIZE_MAX || len > FILEIO_SIZE_MAX - off)
		return efs_error_set(FS_EFBIG,
				     "fileio: write past the largest file "
				     "size");
	k0 = off / f->cs;
	k1 = (end - 1) / f->cs;
	pthread_mutex_lock(&f->lock);
	/* from the old last chunk, which grow() may restage */
	if ((error = op_enter(f, off, k1)) < 0)
		goto out;
	if (end > f->size && (error = grow(f, end, k0, k1)) < 0)
		goto out;
	for (pos = off; pos < end && error == 0;) {
		uint64_t k = pos / f->cs;
		size_t a = (size_t)(pos - k * f->cs);
		size_t n =
		    f->cs - a < end - pos ? f->cs - a : (size_t)(end - pos);

		error = chunk_write(f, k, k1, a, a + n, src + (pos - off));
		pos += n;
	}
	if (error == 0)
		error = seal_full(f, k0, k1);
	if (!f->dirty_since)
		f->dirty_since = efs_clock_mono_sec();
out:
	pthread_mutex_unlock(&f->lock);
	return error;
}

/* Shrink to size: drop whole chunks past it, cut the one holding it. */
static int shrink(struct fileio *f, uint64_t size)
{
	uint64_t keep = (size + f->cs - 1) / f->cs; /* chunks left */
	uint64_t k = size / f->cs;
	size_t e = (size_t)(size - k * f->cs); /* bytes left in k */
	struct slot *s;
	int error;

	while (f->nslots && f->slots[f->nslots - 1]->index >= keep)
		fileio_slot_drop(f, f->slots[f->nslots - 1]);
	if (e) {
		if ((error = chunk_restage(f, k, k, k)) < 0)
			return error;
		if ((s = fileio_slot_find(f, k)) && s->state == SLOT_MEM) {
			s->hi = s->hi < e ? s->hi : e;
			s->lo = s->lo < s->hi ? s->lo : s->hi;
			if (s->under == UNDER_LEAF && s->leaf_len > e)
				s->leaf_len = e;
		} else if (s && s->state == SLOT_DISK) {
			disk_zero(f, k * f->cs + e, f->cs - e);
		}
	}
	if (f->base_limit > size)
		f->base_limit = size;
	if (f->limit_since > size)
		f->limit_since = size;
	f->size = size;
	return 0;
}

int fileio_truncate(struct fileio *f, uint64_t size)
{
	int error;

	if (size > FILEIO_SIZE_MAX)
		return efs_error_set(FS_EFBIG,
				     "fileio: size past the largest file size");
	pthread_mutex_lock(&f->lock);
	/* from the chunk holding the new or the old end, to the last */
	if ((error = op_enter(f, size, UINT64_MAX)) < 0)
		goto out;
	if (size > f->size)
		error = grow(f, size, f->size / f->cs, f->size / f->cs);
	else if (size < f->size)
		error = shrink(f, size);
	if (error == 0 && !f->dirty_since && f->nslots + (size != f->base_size))
		f->dirty_since = efs_clock_mono_sec();
out:
	pthread_mutex_unlock(&f->lock);
	return error;
}

/* ---- the file ----------------------------------------------------------- */

int fileio_new(struct fileio **out, struct staging *st, const struct cid *root,
	       uint64_t size)
{
	struct fileio *f = efs_calloc(1, sizeof(*f));

	if (!f)
		return efs_error_set(EFS_ENOMEM, "fileio: out of memory");
	f->st = st;
	f->bs = staging_bstore(st);
	f->src = staging_source(st);
	f->cs = staging_importer_opts(st)->chunk_size;
	f->mark = bstore_errseq(f->bs);
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	if (root) {
		f->base = *root;
		f->has_base = true;
		f->base_limit = size;
	}
	f->base_size = size;
	f->size = size;
	f->limit_since = size;
	f->stfd = -1;
	if (!root && size)
		f->dirty_since = efs_clock_mono_sec();
	*out = f;
	return 0;
}

int64_t fileio_dirty_since(struct fileio *f)
{
	return atomic_load(&f->dirty_since);
}

void fileio_free(struct fileio *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	while (f->nsealing)
		fileio_wait(f);
	if (f->stfd >= 0)
		close(f->stfd);
	f->stfd = -1; /* nothing to punch out any more */
	while (f->nslots)
		fileio_slot_drop(f, f->slots[f->nslots - 1]);
	fileio_rcache_free(f);
	fileio_readers_drop(f);
	dagreader_file_close(f->lreader);
	pthread_mutex_unlock(&f->lock);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
	efs_free(f->slots);
	efs_free(f);
}

uint64_t fileio_size(struct fileio *f)
{
	uint64_t size;

	pthread_mutex_lock(&f->lock);
	size = f->size;
	pthread_mutex_unlock(&f->lock);
	return size;
}

void fileio_stats(struct fileio_stats *out, struct fileio *f)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&f->lock);
	out->mem_chunks = f->nmem;
	out->disk_chunks = f->ndisk;
	out->sealing = f->nsealing;
	out->sealed = f->nslots - f->nmem - f->ndisk - f->nsealing;
	out->flushes = f->flushes;
	out->cache_loads = f->rc_loads;
	pthread_mutex_unlock(&f->lock);
}
