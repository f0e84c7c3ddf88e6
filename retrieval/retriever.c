/*
 * retriever.c - the retriever's front: open and close, the job table and
 * queue, the worker threads, fetch (which waits on a job), prefetch, the
 * block source and its read-ahead triggers (see retriever.h).
 *
 * A job, and the blocks it covers:
 *
 *   fetch(b) --b in the table?--yes--> wait on b's job (refs++)
 *        |no
 *        +--> new job, target b in the table --> queue --> a worker:
 *             plan read-ahead (more entries in the table), fetch,
 *             each stored block: entry done, waiters woken
 *             --> bstore_sync (what it stored: durable, LOCAL)
 *             --> finish: entries left failed, all out of the table,
 *                 finished, waiters woken, the worker's ref dropped
 *
 * Invariants:
 * 1. A block is in the table at most once (entries are found by
 *    multihash), so one request fetches it however many callers want it.
 * 2. An entry leaves the table when it is stored or its job finishes: a
 *    caller that finds no entry either finds the block local or starts a
 *    new job (a retry after a failure).
 * 3. r->mu is never held across I/O; callers wait on their job's
 *    condition variable (CLOCK_MONOTONIC deadlines), which releases it.
 * 4. A job is freed by whoever drops its last reference (worker or
 *    waiter), under r->mu.
 */
#include "retrieval/retriever.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/bstore.h"
#include "core/clock.h"
#include "core/error.h"
#include "dealer/deals.h"
#include "dealer/piece.h"
#include "net/httpc.h"
#include "retrieval/retriever_i.h"

#include "core/banned.h"

int64_t retriever_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the table (r->mu) ---- */

static size_t bucket_of(const struct cid *id)
{
	uint64_t h = 1469598103934665603ull ^ id->hash;

	for (size_t i = 0; i < id->digest_len; i++)
		h = (h ^ id->digest[i]) * 1099511628211ull;
	return (size_t)(h & (RET_BUCKETS - 1));
}

static struct rentry *table_find(struct retriever *r, const struct cid *id)
{
	struct rentry *e = r->table[bucket_of(id)];

	while (e && !cid_mh_equal(&e->id, id))
		e = e->next;
	return e;
}

static void table_insert(struct retriever *r, struct rentry *e)
{
	size_t b = bucket_of(&e->id);

	e->next = r->table[b];
	r->table[b] = e;
	e->in_table = true;
}

static void table_remove(struct retriever *r, struct rentry *e)
{
	struct rentry **pp = &r->table[bucket_of(&e->id)];

	if (!e->in_table)
		return;
	while (*pp && *pp != e)
		pp = &(*pp)->next;
	if (*pp)
		*pp = e->next;
	e->in_table = false;
	e->next = NULL;
}

/* ---- jobs ---- */

static struct rjob *job_new(const struct cid *id, int64_t deadline_ms)
{
	pthread_condattr_t ca;
	struct rjob *j = efs_calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&j->cv, &ca);
	pthread_condattr_destroy(&ca);
	j->target.id = *id;
	j->target.job = j;
	j->deadline_ms = deadline_ms;
	return j;
}

static void job_unref(struct rjob *j)
{
	if (--j->refs)
		return;
	pthread_cond_destroy(&j->cv);
	efs_free(j->ra);
	efs_free(j);
}

static void enqueue(struct retriever *r, struct rjob *j)
{
	j->refs++;
	if (r->qtail)
		r->qtail->qnext = j;
	else
		r->qhead = j;
	r->qtail = j;
	pthread_cond_signal(&r->work);
}

/* The job's end (r->mu): what is not done failed; wake everyone. */
static void job_finish(struct retriever *r, struct rjob *j, int code)
{
	if (!j->fail.code) {
		efs_error_set(code, "retrieval: job ended");
		efs_error_save(&j->fail);
	}
	for (size_t i = 0; i <= j->nra; i++) {
		struct rentry *e = i ? &j->ra[i - 1] : &j->target;

		if (!e->done) {
			e->done = true;
			e->err = j->fail.code;
		}
		table_remove(r, e);
	}
	j->finished = true;
	pthread_cond_broadcast(&j->cv);
	job_unref(j);
}

/*
 * The entry for id, joined or new (queued), with a reference for the
 * caller (r->mu held).  Returns 0 or EFS_ENOMEM.
 */
static int job_join(struct rentry **out, struct retriever *r,
		    const struct cid *id, int64_t deadline_ms, bool prefetch)
{
	struct rentry *e = table_find(r, id);
	struct rjob *j;

	if (e) {
		r->st.joined += !prefetch;
		if (e->job->deadline_ms < deadline_ms)
			e->job->deadline_ms = deadline_ms;
		*out = e;
		return 0;
	}
	if (!(j = job_new(id, deadline_ms)))
		return efs_error_set(EFS_ENOMEM, "retrieval: out of memory");
	j->prefetch = prefetch;
	table_insert(r, &j->target);
	enqueue(r, j);
	r->st.jobs++;
	r->st.prefetches += prefetch;
	*out = &j->target;
	return 0;
}

static void deadline_ts(struct timespec *ts, int64_t ms)
{
	ts->tv_sec = (time_t)(ms / 1000);
	ts->tv_nsec = (long)(ms % 1000) * 1000000;
}

/* Wait until e is done, closing or the deadline (r->mu held). */
static int wait_entry(struct retriever *r, struct rentry *e,
		      int64_t deadline_ms, unsigned timeout_ms)
{
	struct rjob *j = e->job;
	struct efs_error_state st;
	char s[CID_STR_MAX];
	struct timespec ts;

	deadline_ts(&ts, deadline_ms);
	while (!e->done && !r->stopping &&
	       retriever_now_ms() < deadline_ms)
		pthread_cond_timedwait(&j->cv, &r->mu, &ts);
	if (e->done && !e->err)
		return 0;
	if (e->done) {
		st = j->fail;
		st.code = e->err;
		return efs_error_restore(&st);
	}
	if (r->stopping)
		return efs_error_set(EFS_ECANCELED, "retrieval: closing");
	return efs_error_set(EFS_ETIMEDOUT,
			     "retrieval: %s: not retrieved within %u ms",
			     cid_tostr(s, &e->id), timeout_ms);
}

int retriever_fetch(struct retriever *r, const struct cid *id,
		    unsigned timeout_ms)
{
	int64_t t0 = lathist_now_ns();
	struct rentry *e;
	struct rjob *j;
	int64_t deadline;
	int rc;

	if (bstore_has(r->bs, id))
		return 0;
	if (!timeout_ms)
		timeout_ms = r->o.timeout_ms;
	deadline = retriever_now_ms() + timeout_ms;
	pthread_mutex_lock(&r->mu);
	if (r->stopping) {
		rc = efs_error_set(EFS_ECANCELED, "retrieval: closing");
		goto out_unlock;
	}
	if ((rc = job_join(&e, r, id, deadline, false)) < 0)
		goto out_unlock;
	j = e->job;
	j->refs++;
	e->waiters++;
	r->busy++;
	rc = wait_entry(r, e, deadline, timeout_ms);
	e->waiters--;
	job_unref(j);
	if (!--r->busy && r->stopping)
		pthread_cond_broadcast(&r->idle);
	r->st.fetch_failed += rc < 0;
out_unlock:
	pthread_mutex_unlock(&r->mu);
	lathist_record(&r->fetch_lat, lathist_now_ns() - t0);
	return rc;
}

int retriever_prefetch(struct retriever *r, const struct cid *id)
{
	struct rentry *e;
	int rc = 0;

	if (bstore_has(r->bs, id))
		return 0;
	pthread_mutex_lock(&r->mu);
	if (r->stopping)
		rc = efs_error_set(EFS_ECANCELED, "retrieval: closing");
	else
		rc = job_join(&e, r, id,
			      retriever_now_ms() + r->o.timeout_ms, true);
	pthread_mutex_unlock(&r->mu);
	return rc;
}

/* ---- what the job code asks ---- */

int64_t retriever_left_ms(struct retriever *r, struct rjob *j)
{
	int64_t d;

	pthread_mutex_lock(&r->mu);
	d = j->deadline_ms;
	pthread_mutex_unlock(&r->mu);
	return d - retriever_now_ms();
}

bool retriever_job_over(struct retriever *r, struct rjob *j)
{
	bool stop;

	pthread_mutex_lock(&r->mu);
	stop = r->stopping || j->deadline_ms <= retriever_now_ms();
	pthread_mutex_unlock(&r->mu);
	return stop;
}

/* Mark e done (r->mu held); stored: count it as a block fetched. */
static void entry_done(struct retriever *r, struct rentry *e, int err,
		       bool stored)
{
	if (e->done)
		return;
	e->done = true;
	e->err = err;
	table_remove(r, e);
	if (stored) {
		r->st.blocks++;
		r->st.bytes += e->len;
		e->job->stored++;
	}
	pthread_cond_broadcast(&e->job->cv);
}

void retriever_entry_done(struct retriever *r, struct rentry *e, int err)
{
	pthread_mutex_lock(&r->mu);
	entry_done(r, e, err, !err);
	pthread_mutex_unlock(&r->mu);
}

void retriever_entry_here(struct retriever *r, struct rentry *e)
{
	pthread_mutex_lock(&r->mu);
	entry_done(r, e, 0, false);
	pthread_mutex_unlock(&r->mu);
}

bool retriever_entry_state(struct retriever *r, struct rentry *e,
			   bool *waited)
{
	bool done;

	pthread_mutex_lock(&r->mu);
	done = e->done;
	if (waited)
		*waited = e->waiters > 0;
	pthread_mutex_unlock(&r->mu);
	return done;
}

void retriever_ra_insert(struct retriever *r, struct rjob *j,
			 struct rentry *c, size_t n)
{
	size_t k = 0;

	pthread_mutex_lock(&r->mu);
	while (k < n && !r->stopping && !table_find(r, &c[k].id)) {
		c[k].job = j;
		table_insert(r, &c[k]);
		k++;
	}
	j->ra = c;
	j->nra = k;
	pthread_mutex_unlock(&r->mu);
}

void retriever_trigger_add(struct retriever *r, const struct cid *at,
			   const struct cid *next)
{
	struct rtrigger *t;

	pthread_mutex_lock(&r->mu);
	t = &r->trig[r->trig_next++ % RET_TRIGGERS];
	if (!t->used)
		atomic_fetch_add(&r->ntrig, 1);
	t->used = true;
	t->at = *at;
	t->next = *next;
	pthread_mutex_unlock(&r->mu);
}

/* A read of id: start the next window when id is a trigger. */
static void trigger_check(struct retriever *r, const struct cid *id)
{
	struct cid next;
	bool fire = false;

	if (!atomic_load(&r->ntrig))
		return;
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < RET_TRIGGERS && !fire; i++) {
		struct rtrigger *t = &r->trig[i];

		if (t->used && cid_mh_equal(&t->at, id)) {
			t->used = false;
			atomic_fetch_sub(&r->ntrig, 1);
			next = t->next;
			fire = true;
		}
	}
	pthread_mutex_unlock(&r->mu);
	if (fire)
		retriever_prefetch(r, &next);
}

/* ---- the workers ---- */

static void *worker(void *cls)
{
	struct retriever *r = cls;
	struct rjob *j;
	int64_t t0;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		while (!r->stopping && !r->qhead)
			pthread_cond_wait(&r->work, &r->mu);
		if (r->stopping)
			break;
		j = r->qhead;
		r->qhead = j->qnext;
		if (!r->qhead)
			r->qtail = NULL;
		j->qnext = NULL;
		r->running++;
		pthread_mutex_unlock(&r->mu);
		efs_error_clear();
		t0 = lathist_now_ns();
		retriever_job_run(r, j);
		lathist_record(&r->job_lat, lathist_now_ns() - t0);
		pthread_mutex_lock(&r->mu);
		job_finish(r, j, r->stopping ? EFS_ECANCELED : EFS_EIO);
		if (!--r->running && !r->qhead)
			pthread_cond_broadcast(&r->idle);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

static int start_workers(struct retriever *r)
{
	char name[16];

	for (unsigned i = 0; i < r->o.max_fetches; i++) {
		if (pthread_create(&r->threads[i], NULL, worker, r) != 0)
			return efs_error_set(EFS_ERROR,
					     "retrieval: no worker thread");
		snprintf(name, sizeof(name), "efs-retr-%u",
			 i % RETRIEVER_FETCHES_MAX);
		pthread_setname_np(r->threads[i], name);
		r->nthreads++;
	}
	return 0;
}

/* ---- open, close ---- */

static int check_opts(const struct retriever_opts *o)
{
	if (!o->max_fetches || o->max_fetches > RETRIEVER_FETCHES_MAX)
		return efs_error_set(EFS_EINVAL,
				     "retrieval: max_fetches %u not in 1..%u",
				     o->max_fetches, RETRIEVER_FETCHES_MAX);
	if (!o->timeout_ms)
		return efs_error_set(EFS_EINVAL, "retrieval: timeout is 0");
	if (o->ipni_url && !httpc_url_ok(o->ipni_url))
		return efs_error_set(EFS_EINVAL,
				     "retrieval: ipni url is not http(s)");
	return 0;
}

static void free_all(struct retriever *r)
{
	miners_close(r->miners);
	deals_close(r->deals);
	piece_store_close(r->ps);
	pthread_cond_destroy(&r->work);
	pthread_cond_destroy(&r->idle);
	retriever_cache_release(r);
	pthread_mutex_destroy(&r->mu);
	pthread_mutex_destroy(&r->dbmu);
	pthread_mutex_destroy(&r->cmu);
	efs_free(r->db_path);
	efs_free(r->ipni_url);
	efs_free(r);
}

int retriever_open(struct retriever **out, struct bstore *bs,
		   const char *db_path, const struct retriever_opts *opts)
{
	static const struct retriever_opts defaults = RETRIEVER_OPTS_INIT;
	struct retriever *r;
	size_t n;
	int rc;

	if (!opts)
		opts = &defaults;
	if ((rc = check_opts(opts)) < 0)
		return rc;
	if (!(r = efs_calloc(1, sizeof(*r))))
		return efs_error_set(EFS_ENOMEM, "retrieval: out of memory");
	r->bs = bs;
	r->o = *opts;
	r->o.ipni_url = NULL;
	pthread_mutex_init(&r->mu, NULL);
	pthread_mutex_init(&r->dbmu, NULL);
	pthread_mutex_init(&r->cmu, NULL);
	pthread_cond_init(&r->work, NULL);
	pthread_cond_init(&r->idle, NULL);
	for (n = 0; opts->ipni_url && opts->ipni_url[n]; n++)
		;
	while (n && opts->ipni_url[n - 1] == '/')
		n--;
	if (!(r->db_path = efs_strdup(db_path)) ||
	    (opts->ipni_url && !(r->ipni_url = efs_strndup(opts->ipni_url,
							   n)))) {
		free_all(r);
		return efs_error_set(EFS_ENOMEM, "retrieval: out of memory");
	}
	if ((rc = miners_open(&r->miners, db_path, NULL)) < 0) {
		free_all(r);
		return rc;
	}
	if ((rc = start_workers(r)) < 0) {
		retriever_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

void retriever_close(struct retriever *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->stopping = true;
	pthread_cond_broadcast(&r->work);
	for (size_t b = 0; b < RET_BUCKETS; b++)
		for (struct rentry *e = r->table[b]; e; e = e->next)
			pthread_cond_broadcast(&e->job->cv);
	while (r->busy)
		pthread_cond_wait(&r->idle, &r->mu);
	pthread_mutex_unlock(&r->mu);
	for (unsigned i = 0; i < r->nthreads; i++)
		pthread_join(r->threads[i], NULL);
	/* Jobs no worker took: nobody waits on them any more. */
	while (r->qhead) {
		struct rjob *j = r->qhead;

		r->qhead = j->qnext;
		job_finish(r, j, EFS_ECANCELED);
	}
	free_all(r);
}

int retriever_wait_idle(struct retriever *r, unsigned timeout_ms)
{
	int64_t deadline = retriever_now_ms() + timeout_ms;
	struct timespec ts;
	int rc = 0;

	pthread_mutex_lock(&r->mu);
	while ((r->running || r->qhead) && !r->stopping) {
		if (retriever_now_ms() >= deadline) {
			rc = efs_error_set(EFS_ETIMEDOUT,
					   "retrieval: still busy after %u ms",
					   timeout_ms);
			break;
		}
		efs_clock_deadline(&ts, CLOCK_REALTIME, 50);
		pthread_cond_timedwait(&r->idle, &r->mu, &ts);
	}
	pthread_mutex_unlock(&r->mu);
	return rc;
}

/* ---- the source, stats ---- */

/* From the cache of blocks just fetched, else the blockstore. */
static int get_here(struct retriever *r, const struct cid *id,
		    struct buf *out)
{
	if (retriever_cache_take(r, id, out) == 0)
		return 0;
	return bstore_get(r->bs, id, out);
}

static int source_get(void *cls, const struct cid *id, struct buf *out)
{
	struct retriever *r = cls;
	int rc = get_here(r, id, out);

	/* Twice: the evictor may take the block again in between. */
	for (int i = 0; i < 2 && rc == EFS_EEVICTED; i++) {
		if ((rc = retriever_fetch(r, id, 0)) < 0)
			return rc;
		rc = get_here(r, id, out);
	}
	if (rc == 0)
		trigger_check(r, id);
	return rc;
}

struct blockio_source retriever_source(struct retriever *r)
{
	struct blockio_source s = { .get = source_get, .payload = r };

	return s;
}

void retriever_stats(struct retriever_stats *out, struct retriever *r)
{
	pthread_mutex_lock(&r->mu);
	*out = r->st;
	pthread_mutex_unlock(&r->mu);
}

void retriever_latency(struct retriever_latency *out, struct retriever *r)
{
	lathist_read(&out->job, &r->job_lat);
	lathist_read(&out->fetch, &r->fetch_lat);
}
