/*
 * retriever_i.h - what the files of the retriever share.  Internal to
 * retrieval/.
 *
 *	retriever.c          open/close, the job table and queue, the
 *	                     workers, fetch (waiting on jobs), the source
 *	retriever_job.c      one job: locations, pieces, SPs, fallbacks
 *	retriever_where.c    who holds what: SPs of a piece (deals,
 *	                     miners), other SPs, commits; the miner log
 *	retriever_range.c    GET /piece/{cid} with Range, sliced into blocks
 *	retriever_gateway.c  GET /ipfs/{cid}?format=car (block, whole DAG)
 *	retriever_dag.c      retriever_retrieve_dag
 *	retriever_cache.c    blocks just fetched, kept for their reader
 *	retriever_set.c      a set of multihashes (the DAG walk)
 *
 * Locks, outermost first (never two held but in this order):
 *	r->dbmu   opening deals and pieces, the piece cache; held across
 *	          sqlite reads of the deal and piece tables, never across
 *	          the network
 *	r->mu     the job table, queue, job and entry states, triggers,
 *	          stats (the latency histograms are atomics, lock-free);
 *	          never held across I/O
 *	r->cmu    the cache of blocks just fetched and the pool of block
 *	          buffers (a leaf: nothing is called with it held)
 * The struct miners, deals and piece_store have their own locks.
 */
#ifndef EFS_RETRIEVER_I_H
#define EFS_RETRIEVER_I_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/filaddr.h"
#include "core/lathist.h"
#include "dealer/miners.h"
#include "retrieval/retriever.h"

struct bstore_location;
struct deals;
struct httpc_resp;
struct piece_store;

/* Buckets of the job table (a power of two). */
#define RET_BUCKETS 4096
/* Locations of one block tried. */
#define RET_LOCS_MAX 8
/* SPs of one piece remembered. */
#define RET_PIECE_SPS_MAX 32
/* Pieces whose SPs are remembered. */
#define RET_CACHE_PIECES 32
/* Longest SP base URL (miners.h accepts 2048 bytes). */
#define RET_URL_MAX 2100
/* Longest list of the sources a job asked, and of a note. */
#define RET_WHO_MAX 120
#define RET_NOTE_MAX 120
/* Most blocks in one read-ahead window. */
#define RET_RA_MAX 16384
/* Background windows waiting for their trigger block to be read. */
#define RET_TRIGGERS 16
/* Providers an IPNI answer gives that are tried. */
#define RET_IPNI_MAX 16
/* Buckets of the cache of blocks just fetched (a power of two). */
#define RET_CACHE_SLOTS 1024
/* Idle block buffers kept for reuse. */
#define RET_POOL_MAX 8
/* Largest /ipfs reply for one block: a section and a header. */
#define RET_GATEWAY_BODY_MAX ((size_t)4 << 20)

struct rjob;
struct rcached;

/* The ways of asking a source, for the job's tally. */
enum ret_way {
	RET_WAY_PIECE = 0,        /* GET /piece with Range */
	RET_WAY_GATEWAY = 1,      /* GET /ipfs */
	RET_WAYS,
};

/* A block a job fetches: its target or a read-ahead block. */
struct rentry {
	struct cid id;
	uint64_t off, len;        /* in the job's read-ahead piece */
	struct rjob *job;
	struct rentry *next;      /* hash chain (r->mu) */
	bool in_table;            /* r->mu */
	unsigned waiters;         /* r->mu: callers waiting for it */
	bool done;                /* r->mu */
	int err;                  /* r->mu: 0 stored, else why not */
};

/*
 * A job.  Alive while refs > 0: one for the queue or the worker, one per
 * waiter.  target and ra never move once in the table (waiters and the
 * table point into them).
 */
struct rjob {
	struct rjob *qnext;       /* r->mu: the queue */
	unsigned refs;            /* r->mu */
	pthread_cond_t cv;        /* r->mu: an entry is done, or finished */
	int64_t deadline_ms;      /* r->mu: monotonic; waiters push it on */
	bool finished;            /* r->mu */
	bool prefetch;            /* started with no waiter */
	struct efs_error_state fail; /* the job's failure, set before
					finished when an entry failed */
	struct rentry target;
	struct rentry *ra;        /* read-ahead entries, by offset */
	size_t nra;
	unsigned stored;          /* r->mu: blocks it stored */
	/* the worker's own: what failed, for the job's message */
	unsigned ntried;          /* requests that failed */
	unsigned nmissing;        /* of those, answers "not here" (404) */
	unsigned outcomes[RET_WAYS][MINERS_OUT_COUNT_];
	char who[RET_WHO_MAX];    /* the sources asked, each named once */
	size_t who_len;
	char note[RET_NOTE_MAX];  /* a failure that is no source's */
};

/* The SPs holding a piece, as the deals said at at_ms. */
struct rpiece_sps {
	struct cid piece;
	int64_t at_ms;            /* 0: empty slot */
	int64_t piece_id;         /* the dealer's, -1 unknown */
	size_t n;
	struct filaddr sp[RET_PIECE_SPS_MAX];
};

/* A read of `at` starts the background fetch of `next`. */
struct rtrigger {
	bool used;
	struct cid at;
	struct cid next;
};

struct retriever {
	struct bstore *bs;
	char *db_path;
	char *ipni_url;           /* or NULL */
	struct retriever_opts o;
	struct miners *miners;    /* internally locked */

	pthread_mutex_t dbmu;     /* see the lock order above */
	struct deals *deals;      /* dbmu: NULL until opened */
	struct piece_store *ps;   /* dbmu: NULL until opened */
	struct rpiece_sps cache[RET_CACHE_PIECES]; /* dbmu */
	size_t cache_next;        /* dbmu */

	pthread_mutex_t mu;
	pthread_cond_t work;      /* mu: a job queued, or stopping */
	pthread_cond_t idle;      /* mu: busy fell to 0 while stopping, or
				     no job is left */
	atomic_bool stopping;     /* set under mu; read anywhere */
	unsigned busy;            /* mu: callers waiting in fetch */
	unsigned running;         /* mu: jobs on a worker */
	struct rjob *qhead, *qtail; /* mu */
	struct rentry *table[RET_BUCKETS]; /* mu */
	struct rtrigger trig[RET_TRIGGERS]; /* mu */
	size_t trig_next;         /* mu */
	atomic_uint ntrig;        /* triggers in use: reads skip mu at 0 */
	struct retriever_stats st; /* mu */
	struct lathist job_lat;   /* atomic: jobs' run times */
	struct lathist fetch_lat; /* atomic: fetches' waits */

	pthread_mutex_t cmu;      /* the pool and cache below (a leaf) */
	struct {
		uint8_t *p;
		size_t cap;
	} pool[RET_POOL_MAX];     /* cmu: idle block buffers */
	size_t npool;             /* cmu */
	struct rcached *cache_slot[RET_CACHE_SLOTS]; /* cmu */
	struct rcached *cache_oldest, *cache_newest; /* cmu */
	size_t cache_bytes;       /* cmu */
	atomic_uint cache_n;      /* blocks in it: readers skip cmu at 0 */

	pthread_t threads[RETRIEVER_FETCHES_MAX];
	unsigned nthreads;
};

/* A place to ask: an SP (known to the miners table or not). */
struct rsrc {
	char url[RET_URL_MAX];    /* base, no trailing slash */
	bool has_addr;            /* a known SP: log to it */
	struct filaddr addr;
	double score;
	bool last;                /* backed off or disabled: tried last */
	int64_t piece_id;         /* the piece asked for, -1 none */
};

/* One block of a /piece request: where it lies in that piece. */
struct rpart {
	struct rentry *e;
	uint64_t off, len;
};

/* ---- retriever.c ---- */

/* CLOCK_MONOTONIC in milliseconds. */
int64_t retriever_now_ms(void);

/* Milliseconds left before j's deadline (<= 0: passed). */
int64_t retriever_left_ms(struct retriever *r, struct rjob *j);

/* Whether j should stop: closing, deadline passed. */
bool retriever_job_over(struct retriever *r, struct rjob *j);

/* Mark e done with err (0: stored) and wake its waiters. */
void retriever_entry_done(struct retriever *r, struct rentry *e, int err);

/* Mark e done: it was found local without fetching (not counted). */
void retriever_entry_here(struct retriever *r, struct rentry *e);

/* Whether e is done (read under r->mu); *waited: someone waits on it. */
bool retriever_entry_state(struct retriever *r, struct rentry *e,
			   bool *waited);

/*
 * Put the read-ahead candidates c[0..n) (by offset) into j and the
 * table, up to the first one the table already has (another job
 * fetches it and, likely, what follows).  Takes c (efs_malloc'd).
 */
void retriever_ra_insert(struct retriever *r, struct rjob *j,
			 struct rentry *c, size_t n);

/* Remember: a read of at starts the background fetch of next. */
void retriever_trigger_add(struct retriever *r, const struct cid *at,
			   const struct cid *next);

/* Add to a counter of r->st (under r->mu). */
#define RET_STAT(r, field, n)                                  \
	do {                                                   \
		pthread_mutex_lock(&(r)->mu);                  \
		(r)->st.field += (n);                          \
		pthread_mutex_unlock(&(r)->mu);                \
	} while (0)

/* ---- retriever_job.c ---- */

/* Run job j to its end (on a worker thread). */
void retriever_job_run(struct retriever *r, struct rjob *j);

/* Count a failed request to s (way, outcome, HTTP status or 0) in j's
 * tally; its details went to the miner log. */
void retriever_job_tried(struct rjob *j, enum ret_way way,
			 const struct rsrc *s, enum miners_outcome o,
			 long status);

/* Keep a failure that is no source's (the first one), for j's message. */
void retriever_job_note(struct rjob *j, const char *what);

/* The name of s in messages: its address, or its URL (cut). */
void retriever_src_name(char *out, size_t cap, const struct rsrc *s);

/* ---- retriever_where.c ---- */

/*
 * The SPs with an ACTIVE deal for piece, ordered to be tried: not
 * backed off nor disabled first, by score; then the others.  Up to max
 * into out; *n how many.  0 (none is not an error) or db errors.
 */
int retriever_where_piece(struct rsrc *out, size_t *n, size_t max,
			  struct retriever *r, const struct cid *piece);

/* Append those of add[0..nadd) whose URL all[0..nall) lacks, up to max
 * in all; the new count. */
size_t retriever_where_merge(struct rsrc *all, size_t nall, size_t max,
			     const struct rsrc *add, size_t nadd);

/*
 * Known SPs with a URL that are not in skip[0..nskip) (by URL), not
 * backed off nor disabled, best score first, up to max.
 */
int retriever_where_others(struct rsrc *out, size_t *n, size_t max,
			   struct retriever *r, const struct rsrc *skip,
			   size_t nskip);

/* The commit piece_id holds at payload offset off; 0 when unknown. */
int64_t retriever_where_commit(struct retriever *r, int64_t piece_id,
			       uint64_t off);

/*
 * Record one request to s: the miner log (when s is a known SP) and the
 * bandwidth (for commit, 0: none).  resp may be NULL (nothing was sent).
 * piece may be NULL.  Failures to record are logged, not returned.
 */
void retriever_record(struct retriever *r, const struct rsrc *s,
		      enum miners_outcome outcome,
		      const struct httpc_resp *resp, const struct cid *piece,
		      int64_t commit, const char *detail);

/* The outcome for a failed request: unreachable, timeout, garbage... */
enum miners_outcome retriever_outcome(int rc, const struct httpc_resp *resp);

/* ---- retriever_range.c ---- */

/*
 * Fetch the parts p[0..n) (by offset, not overlapping) of piece from s
 * in one GET with Range, storing each verified block and marking its
 * entry done.  Returns 0 when every part came, or the reason the SP
 * failed (its outcome recorded).
 */
int retriever_range_fetch(struct retriever *r, struct rjob *j,
			  const struct rsrc *s, const struct cid *piece,
			  const struct rpart *p, size_t n);

/* ---- retriever_gateway.c ---- */

/*
 * GET <s>/ipfs/<e->id>?format=car&dag-scope=block: store the block when
 * it verifies, marking e done.  0 or the reason s failed (recorded).
 */
int retriever_gateway_block(struct retriever *r, struct rjob *j,
			    const struct rsrc *s, struct rentry *e);

/* Blocks a whole-DAG CAR gave. */
struct rgateway_dag {
	uint64_t blocks, bytes;
};

/*
 * GET <s>/ipfs/<root>?format=car&dag-scope=all, streamed: keep the
 * blocks of root's DAG (each verified; blocks the CAR holds that are not
 * linked from a block kept before are dropped).  timeout_ms bounds the
 * request.  0 when the CAR ended cleanly (it may still lack blocks: the
 * caller walks), or the reason s failed (recorded).
 */
int retriever_gateway_dag(struct rgateway_dag *out, struct retriever *r,
			  const struct rsrc *s, const struct cid *root,
			  unsigned timeout_ms);

/*
 * The IPNI indexer's HTTP providers of id into out (up to max, URLs not
 * in skip[0..nskip)); *n how many.  0 (none is fine), or the reason the
 * indexer could not be asked.
 */
int retriever_ipni(struct rsrc *out, size_t *n, size_t max,
		   struct retriever *r, const struct cid *id,
		   const struct rsrc *skip, size_t nskip);

/* ---- retriever_cache.c ---- */

/* Keep a copy of the verified block id for a reader (when it fits). */
void retriever_cache_put(struct retriever *r, const struct cid *id,
			 const uint8_t *data, size_t len);

/* The same, taking data (a buffer of cap bytes from retriever_buf_get):
 * kept, or given back to the pool. */
void retriever_cache_adopt(struct retriever *r, const struct cid *id,
			   uint8_t *data, size_t len, size_t cap);

/* A block buffer of more than len bytes (its size to *cap), from the pool
 * or malloc; NULL out of memory.  Give it back with retriever_buf_put
 * (NULL is fine). */
uint8_t *retriever_buf_get(struct retriever *r, size_t len, size_t *cap);
void retriever_buf_put(struct retriever *r, uint8_t *p, size_t cap);

/* Append the kept block id to out and forget it: 0, EFS_ENOTFOUND (not
 * kept) or buf errors (then it is forgotten too).  An empty out takes
 * the block's buffer over (buf_attach) instead of a copy. */
int retriever_cache_take(struct retriever *r, const struct cid *id,
			 struct buf *out);

/* Free every kept block and pooled buffer (closing). */
void retriever_cache_release(struct retriever *r);

/* ---- retriever_set.c ---- */

/* A set of blocks by multihash (owned by one thread). */
struct rset {
	struct cid *slot;
	size_t cap, n;            /* cap a power of two, or 0 */
};

void retriever_set_init(struct rset *s);
void retriever_set_release(struct rset *s);
bool retriever_set_has(const struct rset *s, const struct cid *id);
/* Add id; *added whether it was new.  0 or EFS_ENOMEM. */
int retriever_set_add(struct rset *s, const struct cid *id, bool *added);
/* Remove id; whether it was there. */
bool retriever_set_del(struct rset *s, const struct cid *id);

#endif
