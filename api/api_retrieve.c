/*
 * api_retrieve.c - a DAG fetched into the blockstore and pinned, and
 * POST /retrieve's progress stream (api_retrieve.h).
 *
 * Design notes:
 * - Why a stream and not a job to poll: the walk's life is the
 *   request's.  The client sees progress as it happens on the one
 *   connection it opened, the walk ends when the client goes away (no
 *   job table, no job IDs, nothing to expire), and a stopping daemon
 *   cuts the stream.  net/http.h already streams replies from a
 *   callback that may block on its connection's thread.
 * - Two threads per request: the connection's (libmicrohttpd calls
 *   stream_read there, for the next bytes of the reply) and the walk's
 *   ("efs-retrieve"), which runs api_retrieve_run.  They share one
 *   snapshot of the progress under mu, not a queue of lines: a slow
 *   client gets the latest state, and memory stays one line whatever
 *   the DAG.
 *
 *       walk thread                      connection thread
 *       progress(p) ─► mu: p, seq++ ──► stream_read: wait for seq to
 *         (returns cancel/stopping)      move (at most 5 lines a
 *       done ───────► mu: rc, result     second) or a heartbeat (1 s);
 *                                        one line; after done, the
 *                                        last line, then the end
 *       stream_free (the reply is over, sent or not): cancel, join
 *
 * - Invariants: (1) the walk thread is joined before the stream is
 *   freed, so the retriever and evictor (borrowed) are not used after
 *   the reply ends, which the server's stop waits for; (2) the
 *   connection thread never waits longer than a heartbeat, so a client
 *   that went away, or a stopping server, is noticed within a second
 *   (the walk then stops at its next block: a fetch under way finishes
 *   or times out first).
 */
#define LOG_TOPIC "api"

#include "api/api_retrieve.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "dealer/evict.h"
#include "net/http.h"

#include "core/banned.h"

/* Seconds between progress lines, and the most without one. */
#define STREAM_INTERVAL 0.2
#define STREAM_HEARTBEAT 1.0

/* ---- the work ------------------------------------------------------- */

/* The totals over both walks, for the caller's progress. */
struct run {
	retriever_progress_fn progress;
	void *cls;
	struct retriever_progress base;   /* fetched by the first walk */
	struct retriever_progress last;   /* as last reported */
};

static int run_progress(void *cls, const struct retriever_progress *p)
{
	struct run *w = cls;

	w->last = *p;
	w->last.fetched += w->base.fetched;
	w->last.fetched_bytes += w->base.fetched_bytes;
	return w->progress ? w->progress(w->cls, &w->last) : 0;
}

int api_retrieve_run(struct api_retrieve_result *out, struct retriever *r,
		     struct evict *e, const struct cid *root, const char *label,
		     retriever_progress_fn progress, void *cls)
{
	struct run w = { .progress = progress, .cls = cls };
	struct evict_pin_info pin = { 0 };
	double start = efs_clock_mono();
	char s[CID_STR_MAX];
	int rc;

	memset(out, 0, sizeof(*out));
	if (cid_is_identity(root))
		return efs_error_set(EFS_EINVAL, "retrieve: %s is an identity "
				     "CID: its bytes are the CID itself",
				     cid_tostr(s, root));
	rc = retriever_retrieve_dag(r, root, run_progress, &w);
	if (rc == 0)
		rc = evict_pin(&pin, e, root, label);
	if (rc == 0 && pin.evicted_blocks) {
		/* the evictor took blocks back before the pin held */
		w.base = w.last;
		rc = retriever_retrieve_dag(r, root, run_progress, &w);
	}
	if (rc < 0)
		return rc;
	out->root = *root;
	out->p = w.last;
	out->seconds = efs_clock_mono() - start;
	out->pin_id = pin.pin_id;
	return 0;
}

/* ---- JSON ----------------------------------------------------------- */

/* Seconds to the millisecond: what a reader wants of a duration. */
static double msec(double seconds)
{
	return seconds > 0 ? (double)(int64_t)(seconds * 1000 + 0.5) / 1000
			   : 0;
}

json_t *api_retrieve_progress_json(const struct retriever_progress *p,
				   double seconds)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:f}", "blocks",
			 (json_int_t)p->blocks, "bytes", (json_int_t)p->bytes,
			 "fetched_blocks", (json_int_t)p->fetched,
			 "fetched_bytes", (json_int_t)p->fetched_bytes,
			 "seconds", msec(seconds));
}

json_t *api_retrieve_json(const struct api_retrieve_result *res)
{
	const struct retriever_progress *p = &res->p;
	char s[CID_STR_MAX];

	return json_pack("{s:s,s:I,s:I,s:I,s:I,s:f,s:I}", "root",
			 cid_tostr(s, &res->root), "blocks",
			 (json_int_t)p->blocks, "bytes", (json_int_t)p->bytes,
			 "fetched_blocks", (json_int_t)p->fetched,
			 "fetched_bytes", (json_int_t)p->fetched_bytes,
			 "seconds", msec(res->seconds), "pin",
			 (json_int_t)res->pin_id);
}

static const struct {
	int code;
	const char *reason;
} reasons[] = {
	{ EFS_ENOTFOUND, "NOT_FOUND" },  { EFS_EINVAL, "BAD_REQUEST" },
	{ EFS_ETIMEDOUT, "TIMEOUT" },    { EFS_ECANCELED, "UNAVAILABLE" },
	{ EFS_ECORRUPT, "CORRUPT" },     { EFS_EMISMATCH, "CORRUPT" },
	{ EFS_EIO, "BAD_GATEWAY" },
};

#define NREASONS (sizeof(reasons) / sizeof(reasons[0]))

const char *api_retrieve_reason(int code)
{
	for (size_t i = 0; i < NREASONS; i++)
		if (reasons[i].code == code)
			return reasons[i].reason;
	return "INTERNAL";
}

int api_retrieve_code(const char *reason)
{
	for (size_t i = 0; i < NREASONS; i++)
		if (strcmp(reasons[i].reason, reason) == 0)
			return reasons[i].code;
	return EFS_ERROR;
}

/* {"error":{"reason":...,"details":...}}, the API's error form. */
static json_t *error_json(int code, const char *details)
{
	return json_pack("{s:{s:s,s:s}}", "error", "reason",
			 api_retrieve_reason(code), "details",
			 details[0] ? details : efs_error_name(code));
}

/* ---- the stream ----------------------------------------------------- */

struct stream {
	/* set before the walk starts, then read-only */
	struct retriever *r;
	struct evict *e;
	struct cid root;
	char *label;
	const atomic_bool *stopping;   /* the server's */
	double start;
	pthread_t thread;
	atomic_bool cancel;            /* the reply is over: stop walking */

	pthread_mutex_t mu;
	pthread_cond_t cond;           /* progress or done (CLOCK_MONOTONIC) */
	struct retriever_progress p;   /* mu: the latest */
	uint64_t seq, sent_seq;        /* mu: progress calls, and the one
					  last sent */
	bool done;                     /* mu: the walk is over... */
	int rc;                        /* mu: ...with this code */
	struct efs_error_state err;    /* mu: its error */
	struct api_retrieve_result res;/* mu: or its result */

	/* the connection's thread only */
	struct buf line;               /* the line being sent */
	size_t off;                    /* bytes of it sent */
	double last_sent;
	bool finished;                 /* line is the last one */
};

static bool stream_stopping(struct stream *st)
{
	return atomic_load(&st->cancel) || atomic_load(st->stopping);
}

static int stream_progress(void *cls, const struct retriever_progress *p)
{
	struct stream *st = cls;

	pthread_mutex_lock(&st->mu);
	st->p = *p;
	/* only the first news since a line was sent wakes the sender */
	if (st->seq++ == st->sent_seq)
		pthread_cond_signal(&st->cond);
	pthread_mutex_unlock(&st->mu);
	return stream_stopping(st);
}

static void *stream_main(void *arg)
{
	struct stream *st = arg;
	struct api_retrieve_result res;
	char s[CID_STR_MAX];
	int rc;

	pthread_setname_np(pthread_self(), "efs-retrieve");
	rc = api_retrieve_run(&res, st->r, st->e, &st->root, st->label,
			      stream_progress, st);
	cid_tostr(s, &st->root);
	if (rc == 0)
		efs_log_notice("retrieved %s on request: %llu blocks, %llu "
			       "fetched", s, (unsigned long long)res.p.blocks,
			       (unsigned long long)res.p.fetched);
	else
		efs_log_warn("retrieve %s: %s", s, efs_error_msg());
	pthread_mutex_lock(&st->mu);
	st->rc = rc;
	if (rc < 0)
		efs_error_save(&st->err);
	else
		st->res = res;
	st->done = true;
	pthread_cond_signal(&st->cond);
	pthread_mutex_unlock(&st->mu);
	efs_error_clear();
	return NULL;
}

/* Wait (mu held) until the next line is due: news, the end, or the
 * heartbeat; false when the server stops meanwhile. */
static bool stream_wait(struct stream *st)
{
	struct timespec until;
	double now, due;

	for (;;) {
		if (st->done)
			return true;
		if (atomic_load(st->stopping))
			return false;
		now = efs_clock_mono();
		due = st->last_sent + (st->seq != st->sent_seq
					       ? STREAM_INTERVAL
					       : STREAM_HEARTBEAT);
		if (now >= due)
			return true;
		efs_clock_deadline(&until, CLOCK_MONOTONIC,
				   (uint64_t)((due - now) * 1000) + 1);
		pthread_cond_timedwait(&st->cond, &st->mu, &until);
	}
}

static int dump_cb(const char *p, size_t n, void *cls)
{
	return buf_add(cls, p, n) == 0 ? 0 : -1;
}

/* The next line into st->line: 0, 1 (the server stops) or
 * EFS_ENOMEM. */
static int stream_next(struct stream *st)
{
	json_t *v = NULL;
	bool go;
	int rc;

	pthread_mutex_lock(&st->mu);
	if ((go = stream_wait(st))) {
		st->last_sent = efs_clock_mono();
		if (st->done) {
			v = st->rc == 0 ? json_pack("{s:o}", "result",
					      api_retrieve_json(&st->res))
				        : error_json(st->rc, st->err.msg);
			st->finished = true;
		} else {
			v = json_pack("{s:o}", "progress",
				      api_retrieve_progress_json(
					      &st->p,
					      st->last_sent - st->start));
			st->sent_seq = st->seq;
		}
	}
	pthread_mutex_unlock(&st->mu);
	if (!go)
		return 1;
	buf_reset(&st->line);
	st->off = 0;
	rc = v && json_dump_callback(v, dump_cb, &st->line, JSON_COMPACT) == 0
		     ? buf_addch(&st->line, '\n')
		     : efs_error_set(EFS_ENOMEM, "out of memory");
	json_decref(v);
	return rc;
}

static long stream_read(void *cls, uint64_t pos, uint8_t *buf, size_t max)
{
	struct stream *st = cls;
	size_t n;

	(void)pos;
	if (st->off == st->line.len) {
		if (st->finished)
			return HTTP_STREAM_END;
		if (stream_next(st) != 0)
			return HTTP_STREAM_ERROR;
	}
	n = st->line.len - st->off;
	if (n > max)
		n = max;
	memcpy(buf, st->line.ptr + st->off, n);
	st->off += n;
	return (long)n;
}

static void stream_destroy(struct stream *st)
{
	pthread_cond_destroy(&st->cond);
	pthread_mutex_destroy(&st->mu);
	buf_release(&st->line);
	efs_free(st->label);
	efs_free(st);
}

/* The reply is over (sent, cut or never queued): stop the walk. */
static void stream_free(void *cls)
{
	struct stream *st = cls;

	atomic_store(&st->cancel, true);
	pthread_join(st->thread, NULL);
	stream_destroy(st);
}

static struct stream *stream_new(struct retriever *r, struct evict *e,
				 const struct cid *root, const char *label,
				 const atomic_bool *stopping)
{
	struct stream *st = efs_calloc(1, sizeof(*st));
	pthread_condattr_t ca;

	if (!st)
		return NULL;
	if (!(st->label = efs_strdup(label))) {
		efs_free(st);
		return NULL;
	}
	st->r = r;
	st->e = e;
	st->root = *root;
	st->stopping = stopping;
	atomic_init(&st->cancel, false);
	buf_init(&st->line, BUF_NOCAP);
	pthread_mutex_init(&st->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&st->cond, &ca);
	pthread_condattr_destroy(&ca);
	st->start = st->last_sent = efs_clock_mono();
	return st;
}

void api_retrieve_reply(struct http_req *req, struct retriever *r,
			struct evict *e, const struct cid *root,
			const char *label, const atomic_bool *stopping)
{
	struct stream *st = stream_new(r, e, root, label, stopping);
	json_t *v;
	int rc;

	if (!st) {
		rc = efs_error_set(EFS_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = pthread_create(&st->thread, NULL, stream_main, st)) != 0) {
		stream_destroy(st);
		rc = efs_error_set_errno(EFS_ERROR, rc, "retrieve: no thread");
		goto fail;
	}
	/* from here on stream_free joins the walk, whatever happens */
	if (http_reply_stream(req, 200, "application/x-ndjson",
			      HTTP_SIZE_UNKNOWN, stream_read, st,
			      stream_free) < 0)
		efs_log_warn("retrieve: %s", efs_error_msg());
	return;
fail:
	if ((v = error_json(rc, efs_error_msg())))
		http_reply_json(req, 500, v);
	json_decref(v);
}
