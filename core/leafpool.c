/*
 * leafpool.c - parallel leaf making for the importer (see leafpool.h).
 *
 * Design.  Chunk k of the current file lives in slot k % nslots.  The
 * calling thread queues chunks (submitted); hashing threads take them in
 * order (taken), read them into the slot and make the leaf (hash, and
 * the dag-pb encoding for non-raw leaves), then mark the slot done.  The
 * caller waits for chunk next_out's slot, hands the leaf out, and holds
 * that slot until its next call.  Counters, all under lock:
 *
 *   released <= next_out <= taken <= submitted <= nchunks
 *   released = next_out - held            (slots given back)
 *   submitted - released <= nslots        (no slot is used twice)
 *
 *   chunks [released, next_out)   held by the caller
 *          [next_out, taken)      being read and hashed
 *          [taken, submitted)     queued
 *
 * The hashing threads are threads - 1 workers and the caller itself: in
 * leafpool_next, while its chunk is not done and another is queued, the
 * caller makes that leaf rather than sleep.  So a caller that only
 * stores leaves (the usual case: its work is small next to hashing)
 * seldom sleeps, one thread asks for no worker and no wake-up at all,
 * and a worker wakes the caller only when it finishes the chunk the
 * caller sleeps on.  (Measured: with a worker hand-off per chunk, the
 * wake-ups cost ~6% of the CPU time of a 1 GiB import.)
 *
 * Only the caller's thread touches the sink and the tree, so leaves
 * reach them in file order; hashing allocates only when a dag-pb leaf's
 * buffer first grows, or when a file that cannot be mapped is read.  An
 * error travels in its chunk's slot (efs_error_save) and is restored on
 * the caller's thread when that chunk's turn comes.
 *
 * Reading.  Chunks are pread into their slot's buffer, aligned to a
 * cache line: the kernel copies with `rep movsb`, which is markedly
 * slower into a destination that is not (malloc's large blocks start 16
 * bytes into a page; measured on a page-cached 1 GiB file, pread +
 * sha2-256 on one thread: 0.76 CPU-s unaligned, 0.71 aligned).  With
 * opts->use_mmap the chunk is mapped instead (MAP_POPULATE: one system
 * call faults it in) and hashed in place; the mapping lives until the
 * slot is reused, since a raw leaf's block is the chunk itself.  A file
 * that cannot be mapped is read.  Mapping saves the copy, but mapping,
 * faulting in and unmapping each chunk cost as much (0.72-0.76 CPU-s per
 * GiB either way, 2 threads), and a mapped file truncated by another
 * process raises SIGBUS, where pread just comes up short (EFS_EIO): so
 * pread is the default.
 */
#include "core/leafpool.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/fdio.h"
#include "core/importer_i.h"

#include "core/banned.h"

#define SLOTS_PER_THREAD 2
/* Alignment of the pread buffers: a cache line. */
#define READ_ALIGN 64

struct slot {
	uint64_t chunk;	 /* its number in the file */
	uint64_t offset; /* of the chunk in the file */
	size_t len;
	uint8_t *mem; /* chunk_size + READ_ALIGN - 1 bytes, for pread */
	uint8_t *buf; /* mem, aligned to READ_ALIGN */
	void *map;    /* the chunk's mapping, or NULL */
	size_t map_len;
	struct buf block; /* dag-pb leaf encoding */
	struct importer_leaf leaf;
	int error; /* of reading or hashing this chunk */
	struct efs_error_state err;
	bool done; /* leaf or error ready (under lock) */
};

struct worker {
	struct leafpool *pool;
	pthread_t thread;
	unsigned id;
};

struct leafpool {
	struct importer_opts opts;
	size_t page;	   /* mmap offsets are multiples of this */
	unsigned nthreads; /* hashing threads: the workers and the caller */
	struct worker *workers; /* nthreads - 1 */
	size_t nslots;
	struct slot *slots;
	pthread_mutex_t lock;
	pthread_cond_t work; /* workers: a chunk was queued, or stop */
	pthread_cond_t done; /* caller: what it waits for is done */
	/* the current file, all under lock */
	bool active;
	int fd;
	uint64_t size, nchunks;
	uint64_t submitted, taken, ndone, next_out;
	bool held;
	bool waiting; /* the caller sleeps on done */
	bool stop;
};

static int read_full(int fd, uint8_t *p, size_t len, uint64_t off)
{
	ssize_t got = fdio_pread(fd, p, len, off);

	if (got < 0)
		return efs_error_set_errno(EFS_EIO, errno,
					   "importer: read at %llu",
					   (unsigned long long)off);
	if ((size_t)got < len)
		return efs_error_set(EFS_EIO,
				     "importer: file shrank while "
				     "importing (at %llu)",
				     (unsigned long long)(off + (size_t)got));
	return 0;
}

static void unmap(struct slot *s)
{
	if (s->map)
		munmap(s->map, s->map_len);
	s->map = NULL;
}

/* Map the chunk; false when the file cannot be mapped (then read it). */
static bool map_chunk(struct leafpool *p, struct slot *s, int fd,
		      const uint8_t **data)
{
	uint64_t base = s->offset - s->offset % p->page;
	size_t len = s->len + (size_t)(s->offset - base);
	void *m = mmap(NULL, len, PROT_READ, MAP_SHARED | MAP_POPULATE, fd,
		       (off_t)base);

	if (m == MAP_FAILED)
		return false;
	s->map = m;
	s->map_len = len;
	*data = (const uint8_t *)m + (s->offset - base);
	return true;
}

/* Give s an aligned buffer of chunk_size bytes for pread. */
static int alloc_buf(struct leafpool *p, struct slot *s)
{
	uintptr_t a;

	if (!(s->mem = efs_malloc(p->opts.chunk_size + READ_ALIGN - 1)))
		return efs_error_set(EFS_ENOMEM, "importer: out of memory");
	a = ((uintptr_t)s->mem + READ_ALIGN - 1) & ~(uintptr_t)(READ_ALIGN - 1);
	s->buf = s->mem + (a - (uintptr_t)s->mem);
	return 0;
}

static int load(struct leafpool *p, struct slot *s, int fd,
		const uint8_t **data)
{
	struct stat st;
	int error;

	unmap(s);
	if (p->opts.use_mmap) {
		/* Touching a mapping past the end of file is SIGBUS: check
		 * now, which leaves only a concurrent truncate to fear. */
		if (fstat(fd, &st) < 0)
			return efs_error_set_errno(EFS_EIO, errno,
						   "importer: fstat");
		if ((uint64_t)st.st_size < s->offset + s->len)
			return efs_error_set(EFS_EIO,
					     "importer: file shrank while "
					     "importing (to %lld)",
					     (long long)st.st_size);
		if (map_chunk(p, s, fd, data))
			return 0;
	}
	if (!s->buf && (error = alloc_buf(p, s)) < 0)
		return error;
	*data = s->buf;
	return read_full(fd, s->buf, s->len, s->offset);
}

static void run(struct leafpool *p, struct slot *s, int fd)
{
	const uint8_t *data = NULL;

	s->error = load(p, s, fd, &data);
	if (s->error == 0)
		s->error = importer_leaf_make(&s->leaf, &s->block, data, s->len,
					      &p->opts);
	if (s->error)
		efs_error_save(&s->err);
}

/*
 * Take the next queued chunk and make its leaf, with the lock dropped
 * meanwhile; wake the caller if it sleeps on this chunk, or (cancelling)
 * on the last one in flight.  Called under lock, with a chunk queued.
 */
static void take(struct leafpool *p)
{
	struct slot *s = &p->slots[p->taken++ % p->nslots];
	int fd = p->fd;

	pthread_mutex_unlock(&p->lock);
	run(p, s, fd);
	pthread_mutex_lock(&p->lock);
	s->done = true;
	p->ndone++;
	if (p->waiting && (s->chunk == p->next_out || p->ndone == p->taken))
		pthread_cond_signal(&p->done);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct leafpool *p = w->pool;
	char name[16];

	snprintf(name, sizeof(name), "efs-leaf%u", w->id);
	pthread_setname_np(pthread_self(), name);
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->stop && p->taken == p->submitted)
			pthread_cond_wait(&p->work, &p->lock);
		if (p->stop)
			break;
		take(p);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static unsigned thread_count(const struct importer_opts *opts)
{
	long n = opts->threads;

	if (n == 0)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	if (n > (long)IMPORTER_THREADS_MAX)
		n = IMPORTER_THREADS_MAX;
	return (unsigned)n;
}

/* Free p's memory: its slots, the workers' array and p itself (the
 * workers are stopped and the locks destroyed, or never made). */
static void free_pool(struct leafpool *p)
{
	for (size_t i = 0; p->slots && i < p->nslots; i++) {
		unmap(&p->slots[i]);
		efs_free(p->slots[i].mem);
		buf_release(&p->slots[i].block);
	}
	efs_free(p->slots);
	efs_free(p->workers);
	efs_free(p);
}

static int alloc_slots(struct leafpool *p)
{
	int error;

	p->slots = efs_calloc(p->nslots, sizeof(*p->slots));
	p->workers = efs_calloc(p->nthreads - 1, sizeof(*p->workers));
	if (!p->slots || !p->workers)
		return efs_error_set(EFS_ENOMEM, "importer: out of memory");
	for (size_t i = 0; i < p->nslots; i++) {
		struct slot *s = &p->slots[i];

		buf_init(&s->block, DAGPB_BLOCK_MAX);
		if (!p->opts.use_mmap && (error = alloc_buf(p, s)) < 0)
			return error;
	}
	return 0;
}

static void destroy_locks(struct leafpool *p)
{
	pthread_cond_destroy(&p->done);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->lock);
}

/* Stop and join the first n workers. */
static void stop_workers(struct leafpool *p, unsigned n)
{
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < n; i++)
		pthread_join(p->workers[i].thread, NULL);
}

int leafpool_new(struct leafpool **out, const struct importer_opts *opts)
{
	struct leafpool *p;
	int error;

	if ((error = importer_opts_check(opts)) < 0)
		return error;
	if (!(p = efs_calloc(1, sizeof(*p))))
		return efs_error_set(EFS_ENOMEM, "importer: out of memory");
	p->opts = *opts;
	p->page = (size_t)sysconf(_SC_PAGESIZE);
	p->nthreads = thread_count(opts);
	p->nslots = (size_t)p->nthreads * SLOTS_PER_THREAD;
	if ((error = alloc_slots(p)) < 0) {
		free_pool(p);
		return error;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	for (unsigned i = 0; i + 1 < p->nthreads; i++) {
		p->workers[i].pool = p;
		p->workers[i].id = i;
		error = pthread_create(&p->workers[i].thread, NULL, worker_main,
				       &p->workers[i]);
		if (error) {
			stop_workers(p, i);
			destroy_locks(p);
			free_pool(p);
			return efs_error_set_errno(EFS_ERROR, error,
						   "importer: cannot start "
						   "a worker thread");
		}
	}
	*out = p;
	return 0;
}

/* Drop every slot's mapping: no worker is busy (the file is over). */
static void unmap_all(struct leafpool *p)
{
	for (size_t i = 0; i < p->nslots; i++)
		unmap(&p->slots[i]);
}

unsigned leafpool_threads(const struct leafpool *p)
{
	return p->nthreads;
}

int leafpool_start(struct leafpool *p, int fd, uint64_t size)
{
	uint64_t cs = p->opts.chunk_size;

	if (p->active)
		return efs_error_set(EFS_EINVAL,
				     "importer: leaf pool already busy");
	pthread_mutex_lock(&p->lock);
	p->active = true;
	p->fd = fd;
	p->size = size;
	p->nchunks = size / cs + (size % cs != 0);
	p->submitted = p->taken = p->ndone = p->next_out = 0;
	p->held = false;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* Queue every chunk a free slot can take.  Called under lock. */
static void fill(struct leafpool *p)
{
	uint64_t released = p->next_out - p->held;
	uint64_t cs = p->opts.chunk_size;
	bool queued = false;

	while (p->submitted < p->nchunks &&
	       p->submitted - released < p->nslots) {
		struct slot *s = &p->slots[p->submitted % p->nslots];
		uint64_t off = p->submitted * cs;

		s->chunk = p->submitted;
		s->offset = off;
		s->len = (size_t)(p->size - off < cs ? p->size - off : cs);
		s->done = false;
		s->error = 0;
		p->submitted++;
		queued = true;
	}
	if (queued)
		pthread_cond_broadcast(&p->work);
}

int leafpool_next(struct leafpool *p, const struct importer_leaf **out)
{
	struct slot *s;

	if (!p->active)
		return efs_error_set(EFS_EINVAL, "importer: no file started");
	pthread_mutex_lock(&p->lock);
	p->held = false;
	fill(p);
	if (p->next_out == p->nchunks) {
		p->active = false;
		pthread_mutex_unlock(&p->lock);
		unmap_all(p);
		return EFS_ITEROVER;
	}
	s = &p->slots[p->next_out % p->nslots];
	while (!s->done) {
		/* Make a queued leaf rather than sleep (see the design). */
		if (p->taken < p->submitted) {
			take(p);
			continue;
		}
		p->waiting = true;
		pthread_cond_wait(&p->done, &p->lock);
		p->waiting = false;
	}
	p->next_out++;
	p->held = true;
	pthread_mutex_unlock(&p->lock);
	if (s->error)
		return efs_error_restore(&s->err);
	*out = &s->leaf;
	return 0;
}

void leafpool_cancel(struct leafpool *p)
{
	if (!p->active)
		return;
	pthread_mutex_lock(&p->lock);
	/* Unqueue what no worker took; wait for what they did. */
	p->submitted = p->taken;
	while (p->ndone != p->taken) {
		p->waiting = true;
		pthread_cond_wait(&p->done, &p->lock);
		p->waiting = false;
	}
	p->active = false;
	pthread_mutex_unlock(&p->lock);
	unmap_all(p);
}

void leafpool_free(struct leafpool *p)
{
	if (!p)
		return;
	leafpool_cancel(p);
	stop_workers(p, p->nthreads - 1);
	destroy_locks(p);
	free_pool(p);
}
