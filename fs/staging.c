/*
 * staging.c - the staging area shared by a mount's open files (see
 * staging.h).
 *
 * Design notes:
 * - Staged chunks on disk go to anonymous files (O_TMPFILE in the staging
 *   directory; on file systems without it, a file created and unlinked at
 *   once).  Data that was never flushed is not recovered after a crash
 *   (invariant 1 covers what close and fsync returned for, and those are
 *   in the blockstore), so nothing on disk needs cleaning up either.
 * - The budgets are two counters under one mutex.  A memory take checks
 *   and adds in one step; disk is taken unconditionally and writers check
 *   staging_disk_over before they stage more.  The peaks are kept for
 *   tests and the benchmark.
 * - Workers take jobs from a FIFO.  Each has a chunk_size scratch buffer
 *   (allocated when the pool starts, so a job cannot fail for memory
 *   before it reads its chunk).
 * - Leaves: a raw leaf is its chunk under a CIDv1 raw CID, hashed here.  A
 *   dag-pb leaf is whatever the importer makes of a chunk: a one-chunk
 *   importer_file is run and the first block it puts is the leaf (balanced
 *   layout: the only block; trickle: the leaf, then a root that is
 *   dropped).  So leaves made here always equal the importer's.
 */
#include "fs/staging.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/importer_file.h"

#include "core/banned.h"

struct worker {
	struct staging *st;
	pthread_t thread;
	unsigned id;
	uint8_t *scratch;
	bool started;
};

struct staging {
	char *dir;
	struct bstore *bs;
	pthread_rwlock_t src_lock;    /* src and has_src */
	struct blockio_source src;
	bool has_src;
	struct importer_opts opts;
	uint64_t mem_max, disk_max, cache_max;
	uint8_t *zeros; /* chunk_size zero bytes (never written) */
	unsigned nworkers;
	struct worker *workers;
	pthread_mutex_t lock;
	pthread_cond_t work; /* workers: a job was queued, or stop */
	/* under lock */
	struct staging_job *head, *tail;
	bool stop;
	uint64_t tmp_seq; /* names of tmpfile fallbacks */
	struct staging_stats stats;
};

/* ---- budgets ------------------------------------------------------------ */

static void add(uint64_t *used, uint64_t *peak, uint64_t n)
{
	*used += n;
	if (*used > *peak)
		*peak = *used;
}

/* Add n to *used when it stays within max, in one step. */
static bool take(struct staging *st, uint64_t *used, uint64_t *peak,
		 uint64_t max, uint64_t n)
{
	bool ok;

	pthread_mutex_lock(&st->lock);
	ok = *used + n <= max;
	if (ok)
		add(used, peak, n);
	pthread_mutex_unlock(&st->lock);
	return ok;
}

bool staging_mem_take(struct staging *st, uint64_t n)
{
	return take(st, &st->stats.mem_used, &st->stats.mem_peak, st->mem_max,
		    n);
}

void staging_mem_add(struct staging *st, uint64_t n)
{
	pthread_mutex_lock(&st->lock);
	add(&st->stats.mem_used, &st->stats.mem_peak, n);
	pthread_mutex_unlock(&st->lock);
}

void staging_disk_add(struct staging *st, uint64_t n)
{
	pthread_mutex_lock(&st->lock);
	add(&st->stats.disk_used, &st->stats.disk_peak, n);
	pthread_mutex_unlock(&st->lock);
}

static void give(struct staging *st, uint64_t *used, uint64_t n)
{
	pthread_mutex_lock(&st->lock);
	*used = *used >= n ? *used - n : 0;
	pthread_mutex_unlock(&st->lock);
}

void staging_mem_give(struct staging *st, uint64_t n)
{
	give(st, &st->stats.mem_used, n);
}

void staging_disk_give(struct staging *st, uint64_t n)
{
	give(st, &st->stats.disk_used, n);
}

bool staging_cache_take(struct staging *st, uint64_t n)
{
	return take(st, &st->stats.cache_used, &st->stats.cache_peak,
		    st->cache_max, n);
}

void staging_cache_give(struct staging *st, uint64_t n)
{
	give(st, &st->stats.cache_used, n);
}

bool staging_disk_over(struct staging *st)
{
	bool over;

	pthread_mutex_lock(&st->lock);
	over = st->stats.disk_used >= st->disk_max;
	pthread_mutex_unlock(&st->lock);
	return over;
}

void staging_stats(struct staging_stats *out, struct staging *st)
{
	pthread_mutex_lock(&st->lock);
	*out = st->stats;
	pthread_mutex_unlock(&st->lock);
}

/* ---- leaves ------------------------------------------------------------- */

/* A sink that keeps the first block put (the leaf) and drops the rest. */
struct first_put {
	struct bstore *bs;
	struct cid id;
	bool seen;
};

static int first_put(void *payload, const struct cid *id, const uint8_t *data,
		     size_t len)
{
	struct first_put *fp = payload;

	if (fp->seen)
		return 0;
	fp->seen = true;
	fp->id = *id;
	return bstore_put(fp->bs, id, data, len);
}

static int dagpb_leaf_put(struct cid *out, struct staging *st,
			  const uint8_t *chunk, size_t len)
{
	struct first_put fp = {.bs = st->bs};
	struct blockio_sink sink = {first_put, &fp};
	struct importer_file *f;
	struct cid root;
	int error;

	if ((error = importer_file_new(&f, &st->opts, NULL, &sink)) < 0)
		return error;
	error = importer_file_write(f, chunk, len);
	if (error == 0)
		error = importer_file_finish(f, &root, NULL, NULL);
	importer_file_free(f);
	if (error == 0 && !fp.seen)
		error = efs_error_set(EFS_ERROR, "staging: no leaf was made");
	if (error == 0)
		*out = fp.id;
	return error;
}

int staging_leaf_put(struct cid *out, struct staging *st, const uint8_t *chunk,
		     size_t len)
{
	struct cid id;
	int error;

	if (len == 0 || len > st->opts.chunk_size)
		return efs_error_set(EFS_EINVAL, "staging: leaf of %zu bytes",
				     len);
	if (st->opts.raw_leaves) {
		error =
		    cid_hash(&id, 1, CID_CODEC_RAW, st->opts.hash, chunk, len);
		if (error == 0)
			error = bstore_put(st->bs, &id, chunk, len);
	} else {
		error = dagpb_leaf_put(&id, st, chunk, len);
	}
	if (error < 0)
		return error;
	pthread_mutex_lock(&st->lock);
	st->stats.leaves++;
	st->stats.leaf_bytes += len;
	pthread_mutex_unlock(&st->lock);
	*out = id;
	return 0;
}

int staging_zero_leaf(struct cid *out, struct staging *st, size_t len)
{
	return staging_leaf_put(out, st, st->zeros, len);
}

/* ---- files -------------------------------------------------------------- */

int staging_tmpfile(int *out, struct staging *st)
{
	char path[4096];
	uint64_t seq;
	int fd;

	fd = open(st->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0) {
		*out = fd;
		return 0;
	}
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return efs_error_set_errno(EFS_EIO, errno,
					   "staging: tmpfile in %s", st->dir);
	pthread_mutex_lock(&st->lock);
	seq = ++st->tmp_seq;
	pthread_mutex_unlock(&st->lock);
	snprintf(path, sizeof(path), "%s/tmp.%ld.%llu", st->dir, (long)getpid(),
		 (unsigned long long)seq);
	fd = open(path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return efs_error_set_errno(EFS_EIO, errno, "staging: create %s",
					   path);
	unlink(path);
	*out = fd;
	return 0;
}

/* ---- workers ------------------------------------------------------------ */

void staging_submit(struct staging *st, struct staging_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&st->lock);
	if (st->tail)
		st->tail->next = job;
	else
		st->head = job;
	st->tail = job;
	pthread_cond_signal(&st->work);
	pthread_mutex_unlock(&st->lock);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct staging *st = w->st;
	char name[16];

	snprintf(name, sizeof(name), "efs-seal%u", w->id);
	pthread_setname_np(pthread_self(), name);
	pthread_mutex_lock(&st->lock);
	for (;;) {
		struct staging_job *job;

		while (!st->stop && !st->head)
			pthread_cond_wait(&st->work, &st->lock);
		if (!st->head)
			break;
		job = st->head;
		st->head = job->next;
		if (!st->head)
			st->tail = NULL;
		st->stats.jobs++;
		pthread_mutex_unlock(&st->lock);
		job->run(job, w->scratch);
		pthread_mutex_lock(&st->lock);
	}
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

static unsigned worker_count(unsigned want)
{
	long n = want;

	if (n == 0)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	if (n > (long)STAGING_WORKERS_MAX)
		n = STAGING_WORKERS_MAX;
	return (unsigned)n;
}

static void stop_workers(struct staging *st)
{
	pthread_mutex_lock(&st->lock);
	st->stop = true;
	pthread_cond_broadcast(&st->work);
	pthread_mutex_unlock(&st->lock);
	for (unsigned i = 0; i < st->nworkers; i++) {
		if (st->workers[i].started)
			pthread_join(st->workers[i].thread, NULL);
		efs_free(st->workers[i].scratch);
	}
}

static int start_workers(struct staging *st)
{
	for (unsigned i = 0; i < st->nworkers; i++) {
		struct worker *w = &st->workers[i];

		w->st = st;
		w->id = i;
		if (!(w->scratch = efs_malloc(st->opts.chunk_size)))
			return efs_error_set(EFS_ENOMEM,
					     "staging: out of memory");
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
			return efs_error_set(EFS_ERROR,
					     "staging: cannot start a worker");
		w->started = true;
	}
	return 0;
}

static int check_opts(const struct importer_opts *opts,
		      const struct staging_opts *so)
{
	int error = importer_opts_check(opts);

	if (error < 0)
		return error;
	if (so->mem_max && so->mem_max < opts->chunk_size)
		return efs_error_set(EFS_EINVAL,
				     "staging: memory budget %llu under one "
				     "chunk",
				     (unsigned long long)so->mem_max);
	return 0;
}

int staging_new(struct staging **out, const char *dir, struct bstore *bs,
		const struct importer_opts *opts,
		const struct staging_opts *sopts)
{
	struct staging_opts so = {0};
	struct staging *st;
	int error;

	if (sopts)
		so = *sopts;
	if ((error = check_opts(opts, &so)) < 0)
		return error;
	if (!(st = efs_calloc(1, sizeof(*st))))
		return efs_error_set(EFS_ENOMEM, "staging: out of memory");
	st->bs = bs;
	st->opts = *opts;
	st->mem_max = so.mem_max ? so.mem_max : STAGING_MEM_DEFAULT;
	st->disk_max = so.disk_max ? so.disk_max : STAGING_DISK_DEFAULT;
	st->cache_max = so.cache_max ? so.cache_max : STAGING_CACHE_DEFAULT;
	st->nworkers = worker_count(so.workers);
	pthread_mutex_init(&st->lock, NULL);
	pthread_rwlock_init(&st->src_lock, NULL);
	pthread_cond_init(&st->work, NULL);
	st->dir = efs_strdup(dir);
	st->zeros = efs_calloc(1, opts->chunk_size);
	st->workers = efs_calloc(st->nworkers, sizeof(*st->workers));
	if (!st->dir || !st->zeros || !st->workers)
		error = efs_error_set(EFS_ENOMEM, "staging: out of memory");
	else
		error = start_workers(st);
	if (error < 0) {
		staging_free(st);
		return error;
	}
	*out = st;
	return 0;
}

void staging_free(struct staging *st)
{
	if (!st)
		return;
	if (st->workers)
		stop_workers(st);
	pthread_cond_destroy(&st->work);
	pthread_mutex_destroy(&st->lock);
	pthread_rwlock_destroy(&st->src_lock);
	efs_free(st->workers);
	efs_free(st->zeros);
	efs_free(st->dir);
	efs_free(st);
}

const struct importer_opts *staging_importer_opts(const struct staging *st)
{
	return &st->opts;
}

struct bstore *staging_bstore(const struct staging *st)
{
	return st->bs;
}

void staging_set_source(struct staging *st, const struct blockio_source *src)
{
	pthread_rwlock_wrlock(&st->src_lock);
	st->has_src = src != NULL;
	if (src)
		st->src = *src;
	pthread_rwlock_unlock(&st->src_lock);
}

static int source_get(void *payload, const struct cid *id, struct buf *out)
{
	struct staging *st = payload;
	int rc;

	pthread_rwlock_rdlock(&st->src_lock);
	if (st->has_src)
		rc = st->src.get(st->src.payload, id, out);
	else
		rc = bstore_get(st->bs, id, out);
	pthread_rwlock_unlock(&st->src_lock);
	if (rc == EFS_ENOTFOUND) {
		/* A block of a file nobody has (not here, no provider): an
		 * I/O error to the reader (R1), not ENOENT. */
		struct efs_error_state e;

		efs_error_save(&e);
		rc = efs_error_set(EFS_EIO, "%s", e.msg);
	}
	return rc;
}

struct blockio_source staging_source(struct staging *st)
{
	return (struct blockio_source){ .get = source_get, .payload = st };
}
