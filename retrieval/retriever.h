/*
 * retriever.h - fetching evicted blocks back from storage providers (SPs)
 * over HTTP, verified before they are stored, so that a read of an
 * evicted block succeeds (DESIGN.md invariants 2-5).
 *
 * Where a block comes from, in order:
 *  1. its recorded locations (bstore_locations: piece CID, offset,
 *     length) and, for each piece, the SPs with an ACTIVE deal for it
 *     (dealer/deals.h), best miner score first (dealer/miners.h), SPs
 *     backed off or disabled last: GET <sp>/piece/<pieceCid> with
 *     Range covering the block and the read-ahead, streamed;
 *  2. the trustless gateway GET <sp>/ipfs/<cid>?format=car&dag-scope=block
 *     on those SPs, then on other known SPs (the miners table, at most
 *     other_max of them), then on the providers an IPNI indexer names
 *     (GET <ipni>/cid/<cid>) for CIDs the node did not deal itself.
 * Every block is hashed against its CID before bstore_put; an SP whose
 * bytes do not match, or whose reply ends short, is logged in the miner
 * log (garbage; the miners module backs it off) and the next is tried.
 * Nothing unverified is ever stored.
 *
 * Read-ahead: a fetch of a block located in piece P at offset o also
 * fetches, in the same request, the other EVICTED blocks of P that start
 * in [o, o + readahead): one Range request per window, streamed through
 * a buffer of one block (memory stays bounded whatever the window).
 * When a window's second block is read through retriever_source, the
 * next window is fetched in the background, so a sequential reader has
 * two windows in flight ahead of it and finds the next blocks local.
 *
 * Jobs: one job per block or per window in flight.  Any caller asking
 * for a block that a job already covers (its target or a read-ahead
 * block) waits on that job, with its own deadline, instead of sending
 * another request: 16 readers of one evicted block cause one request.
 * Jobs run on max_fetches worker threads ("efs-retr-N"); no lock is held
 * across network or disk I/O, and callers wait only on the job's
 * condition variable.  A job runs until its deadline, the latest of its
 * callers' (a caller that gives up sooner leaves it running: what it
 * fetches is stored for the next read); at its end it syncs the
 * blockstore, so what it stored is durable and LOCAL for the evictor.
 *
 * Records: every request to a known SP is logged (MINERS_ACT_RETRIEVE:
 * outcome, latency, bytes received; these feed the SP's retrieval score
 * and backoff), except a 404 to an /ipfs probe of an SP that has no deal
 * for the block, and its bytes counted as bandwidth `fetched`, for the
 * commit that the piece holds at that offset when the piece store knows
 * it.
 *
 * Threads: struct retriever is internally locked; any thread may call
 * any function once it is open.  retriever_close must not race with
 * other calls.
 */
#ifndef EFS_RETRIEVER_H
#define EFS_RETRIEVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/blockio.h"
#include "core/cid.h"
#include "core/lathist.h"

struct bstore;
struct retriever;

struct retriever_opts {
	unsigned timeout_ms;      /* a fetch's deadline: 30 s */
	uint64_t readahead;       /* bytes of a piece fetched with a block,
				     from the block's offset: 8 MiB; 0 or
				     less than the block: the block alone */
	unsigned max_fetches;     /* jobs running at once (threads): 4 */
	const char *ipni_url;     /* base URL of an IPNI indexer
				     ("https://cid.contact"), or NULL for
				     none; copied */
	unsigned other_max;       /* SPs without a deal for a block asked
				     by CID before IPNI: 8 */
	unsigned sp_cache_ms;     /* how long the SPs holding a piece are
				     remembered: 10 s */
	size_t cache;             /* bytes of blocks just fetched kept in
				     memory for the readers about to ask
				     for them (retriever_source): 16 MiB;
				     0: none */
};

#define RETRIEVER_OPTS_INIT                                               \
	{                                                                 \
		.timeout_ms = 30000, .readahead = 8u << 20,               \
		.max_fetches = 4, .ipni_url = NULL, .other_max = 8,       \
		.sp_cache_ms = 10000, .cache = 16u << 20,                 \
	}

/* Most worker threads. */
#define RETRIEVER_FETCHES_MAX 64

/*
 * Open a retriever over the blockstore bs (borrowed until
 * retriever_close) and the repository index db_path (deals, pieces and
 * miners are read from it, each with its own connection; the miner log
 * and bandwidth written).  opts may be NULL (RETRIEVER_OPTS_INIT).  The
 * deal and piece tables may not exist yet (no dealer has run): they are
 * opened when first needed.  Returns 0, EFS_EINVAL (max_fetches 0 or
 * over RETRIEVER_FETCHES_MAX, timeout 0, an ipni_url that is not http(s),
 * db_path too long), EFS_ENOMEM, EFS_ERROR (a thread could not start) or
 * the miners table's open errors.  *out is the caller's.
 */
int retriever_open(struct retriever **out, struct bstore *bs,
		   const char *db_path, const struct retriever_opts *opts);

/*
 * Stop: callers waiting in retriever_fetch return EFS_ECANCELED, jobs in
 * flight end at their next step (a request in flight is cut when its
 * next bytes arrive, or at its timeout: close may wait that long), the
 * workers are joined and everything is freed.  No new call may start
 * once close has begun.  NULL is fine.
 */
void retriever_close(struct retriever *r);

/*
 * Make block id LOCAL again (or for the first time: a CID never stored
 * is fetched from other SPs and IPNI), waiting at most timeout_ms
 * (0: opts.timeout_ms).  Returns at once when the block is already here
 * (identity CIDs included).  Returns 0 (the block is readable with
 * bstore_get; its job syncs the blockstore when it ends, making what it
 * stored durable and LOCAL in the index), EFS_ETIMEDOUT
 * (the deadline passed: the job goes on and stores what it gets),
 * EFS_ENOTFOUND (no location and no provider known, or every provider
 * asked answered 404), EFS_EIO (every source failed: the message counts
 * the failures by kind and names the sources asked),
 * EFS_ECANCELED (closing) or EFS_ENOMEM.
 */
int retriever_fetch(struct retriever *r, const struct cid *id,
		    unsigned timeout_ms);

/*
 * Start fetching id in the background unless it is local or already
 * being fetched, and return at once.  0, EFS_ECANCELED or EFS_ENOMEM.
 */
int retriever_prefetch(struct retriever *r, const struct cid *id);

/*
 * The blockstore as a block source that retrieves: get is bstore_get,
 * and on EFS_EEVICTED it calls retriever_fetch (opts.timeout_ms) and
 * bstore_get again.  A block fetched moments ago is taken from memory
 * (opts.cache) instead: it was verified on arrival, and reading it back
 * from the pack would hash it twice.  get returns bstore_get's codes, or
 * retriever_fetch's when the block was evicted and could not be had.
 * What the FUSE read path and `cat` use.  Borrowed from r.
 */
struct blockio_source retriever_source(struct retriever *r);

/* Progress of retriever_retrieve_dag. */
struct retriever_progress {
	uint64_t blocks;          /* blocks of the DAG walked (all local) */
	uint64_t bytes;           /* their bytes */
	uint64_t fetched;         /* of those, blocks that had to be fetched */
	uint64_t fetched_bytes;
};

/* Called after each block; a non-zero return stops the walk (the walk
 * returns EFS_ECANCELED). */
typedef int (*retriever_progress_fn)(void *cls,
				     const struct retriever_progress *p);

/*
 * Fetch the whole DAG under root into the blockstore (Estuary's "Case
 * B": any CID, dealt by this node or not).  Walks the DAG (core/links.h)
 * from root; blocks already LOCAL are read, EVICTED ones fetched by
 * location, and a missing subtree is first asked whole from a provider
 * (/ipfs/<cid>?format=car&dag-scope=all: only blocks of the subtree,
 * each verified, are kept), then block by block.  progress may be NULL;
 * a final call reports the totals.  Returns 0 or the first block that
 * could not be had: the errors of retriever_fetch, EFS_ECORRUPT or
 * EFS_EUNSUPPORTED (a block whose links do not decode), EFS_ECANCELED.
 */
int retriever_retrieve_dag(struct retriever *r, const struct cid *root,
			   retriever_progress_fn progress, void *cls);

/*
 * Wait until no job is queued or running (background read-ahead
 * included), at most timeout_ms.  0, or EFS_ETIMEDOUT.  For tests,
 * benchmarks and an orderly shutdown.
 */
int retriever_wait_idle(struct retriever *r, unsigned timeout_ms);

/* Counters since open (for tests, status and benchmarks). */
struct retriever_stats {
	uint64_t jobs;            /* jobs started */
	uint64_t joined;          /* fetches that waited on another's job */
	uint64_t prefetches;      /* background windows started */
	uint64_t requests;        /* HTTP requests sent, all kinds */
	uint64_t piece_requests;  /* of those, /piece ranges */
	uint64_t gateway_requests;/* /ipfs */
	uint64_t ipni_requests;
	uint64_t rejected;        /* replies rejected (bad bytes, short) */
	uint64_t blocks;          /* blocks verified and stored */
	uint64_t bytes;           /* their bytes */
	uint64_t bytes_down;      /* body bytes received, all requests */
	uint64_t fetch_failed;    /* retriever_fetch calls that waited and
				     failed (timeout, no source...) */
};

void retriever_stats(struct retriever_stats *out, struct retriever *r);

/*
 * Latency histograms since open (core/lathist.h), read without the
 * retriever's lock: for /metrics.
 *   job    how long each job ran on its worker, from the first request
 *          to its end (prefetches included; a job that found its block
 *          local is counted too, near 0)
 *   fetch  how long each retriever_fetch of a block that was not local
 *          waited, whatever the outcome (stats' fetch_failed counts the
 *          failures); the time a reader of an evicted block sees
 */
struct retriever_latency {
	struct lathist_snap job;
	struct lathist_snap fetch;
};

void retriever_latency(struct retriever_latency *out, struct retriever *r);

#endif
