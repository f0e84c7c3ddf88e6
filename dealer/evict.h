/*
 * evict.h - the evictor: keeps the blockstore's local bytes under the
 * cache size by freeing blocks that can be fetched back from storage
 * providers, and only those (DESIGN.md invariant 2).
 *
 * A block may be evicted only when all of these hold:
 *  1. it has no links (directory and file nodes stay local: metadata
 *     never waits on the network; the blockstore refuses others anyway);
 *  2. the blockstore records where it lies in a piece (its location);
 *  3. every commit whose CAR holds it (dealer/piece.h's piece_block
 *     rows, by multihash) is pieced, and each piece holding that commit
 *     has at least min_active ACTIVE deals whose end is still ahead of
 *     the chain height the dealer last read; and no commit the piece
 *     store has not fully taken yet (made, but queued for the dealer or
 *     still being sized: opts.commits lists them) reaches it;
 *  4. no user pin reaches it: a blockstore pin named "user:..." (set by
 *     `estuaryfs pin`, evict_pin) keeps its whole DAG local.  Other pins
 *     (the filesystem's "fs:...", commits) do not: they keep blocks
 *     from gc, not on this disk.
 * Uncommitted data and staged writes have no location, so they stay.
 *
 *   evict_open(&e, bs, "<repo>/index.db", &opts);
 *   evict_run(&r, e);           // LRU first until local <= cache_size
 *   evict_commit(&r, e, &root); // what is safe of one DAG, and why not
 *   evict_start(e, 60);         // the same every minute on a thread
 *   evict_close(e);
 *
 * The piece and deal tables are read through their read-only openers,
 * opened at each pass until they exist (the dealer may start later or
 * never): beside a running dealer, the evictor never writes them.
 *
 * Threads: struct evict is internally locked; any thread may call any
 * function.  Passes (evict_run, evict_commit) run one at a time; pins
 * and unpins may come at any moment and are honoured by the pass under
 * way before its next eviction.
 */
#ifndef EFS_DEALER_EVICT_H
#define EFS_DEALER_EVICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/cid.h"
#include "dealer/dealer.h"

struct bstore;
struct evict;

/* The owner tag of the pins that keep blocks local ("user:/photos"). */
#define EVICT_PIN_PREFIX "user:"
/* The owner tag of the pins `estuaryfs add` and `car import` make in a
 * repository no daemon holds ("cli:add", "cli:car-import"): unpin by
 * CID drops them too. */
#define EVICT_CLI_PIN_PREFIX "cli:"

struct evict_opts {
	uint64_t cache_size;      /* bytes of LOCAL blocks evict_run keeps */
	unsigned min_active;      /* ACTIVE deals every piece needs (>= 1) */
	size_t batch;             /* blocks per eviction transaction */
	/*
	 * Every commit made (the filesystem's log, as the dealer is given
	 * it), so that the blocks of one the dealer has not taken into
	 * pieces yet stay (rule 3).  list NULL: only the piece store's
	 * commits are known.  Called from the pass's thread.
	 */
	struct dealer_commit_source commits;
};

#define EVICT_OPTS_INIT                                                    \
	{                                                                  \
		.cache_size = (uint64_t)20 << 30, .min_active = 6,         \
		.batch = 256,                                              \
	}

/* Why a block stays local. */
enum evict_reason {
	EVICT_KEPT_LINKS = 0,       /* links to other blocks (1 above) */
	EVICT_KEPT_NO_LOCATION = 1, /* no recorded location (2) */
	EVICT_KEPT_NO_COMMIT = 2,   /* located, yet in no commit the
				       piece store knows (3) */
	EVICT_KEPT_SHORT = 3,       /* a commit holding it is short of
				       ACTIVE deals, or not pieced (3) */
	EVICT_KEPT_PINNED = 4,      /* under a user pin (4) */
	EVICT_KEPT_REFUSED = 5,     /* the blockstore passed it over: its
				       bytes are bad, or it went away */
	EVICT_KEPT_QUEUED = 6,      /* in a commit not yet in the piece
				       store, or still being sized (3) */
};

#define EVICT_NREASONS 7

/* "links", "no_location", "no_commit", "short", "pinned", "refused",
 * "queued". */
const char *evict_reason_name(enum evict_reason r);

/* A commit that kept blocks local: why. */
struct evict_short {
	int64_t commit_id;
	bool pieced;              /* false: still sizing or waiting for its
				     aggregate: no deals yet */
	unsigned active;          /* ACTIVE deals of its least replicated
				     piece */
	unsigned want;            /* min_active */
};

#define EVICT_SHORTS_MAX 8

struct evict_result {
	uint64_t blocks, bytes;   /* evicted by this pass */
	uint64_t seen;            /* blocks looked at */
	uint64_t already;         /* evict_commit: blocks of the DAG that
				     were evicted before */
	uint64_t kept[EVICT_NREASONS];       /* blocks left local */
	uint64_t kept_bytes[EVICT_NREASONS];
	uint64_t cache_size;      /* the target of evict_run */
	uint64_t local_before;    /* LOCAL bytes of the store */
	uint64_t local_after;
	/* the first commits found short, by commit ID as met */
	struct evict_short shorts[EVICT_SHORTS_MAX];
	size_t nshorts;
	size_t more_shorts;       /* short ones past EVICT_SHORTS_MAX */
};

/*
 * An evictor over the open blockstore bs (borrowed until evict_close)
 * whose index is db_path (the piece and deal tables are read from it),
 * with opts (NULL: EVICT_OPTS_INIT; a batch of 0 is the default).
 * Returns 0, EFS_EINVAL (min_active 0) or EFS_ENOMEM.  *out is the
 * caller's (evict_close).
 */
int evict_open(struct evict **out, struct bstore *bs, const char *db_path,
	       const struct evict_opts *opts);

/* Replace the options (the next pass uses them).  0 or EFS_EINVAL. */
int evict_set_opts(struct evict *e, const struct evict_opts *opts);

/*
 * One pass: when the LOCAL bytes are over cache_size, walk LOCAL blocks
 * least recently used first and evict the safe ones, in transactions of
 * batch blocks, until they are not.  out says what was done and why
 * the rest stayed (also on error).  Returns 0 (also when too little was
 * safe to reach the target: see out->local_after), or blockstore and db
 * errors.
 */
int evict_run(struct evict_result *out, struct evict *e);

/*
 * Evict what is safe of the DAG under root (a commit's root, or any
 * directory or file in one), whatever the cache size: out->blocks and
 * bytes were evicted, out->kept says what stayed and why, out->shorts
 * which commits were short.  A root not stored is EFS_ENOTFOUND.
 * Returns 0, EFS_ENOTFOUND, blockstore and db errors.
 */
int evict_commit(struct evict_result *out, struct evict *e,
		 const struct cid *root);

/* What a pin covers. */
struct evict_pin_info {
	int64_t pin_id;           /* the pin made, or the one already there */
	uint64_t blocks, bytes;   /* blocks of the DAG, LOCAL or EVICTED */
	uint64_t evicted_blocks;  /* of which evicted: they stay so until
				     read (the pin keeps them once back) */
	uint64_t evicted_bytes;
};

/*
 * Keep the DAG under root local: a blockstore pin named
 * EVICT_PIN_PREFIX label (label: the directory's path in the mount, or
 * the CID as text).  A user pin of the same name for another root is
 * replaced (the directory changed since); one for the same root is
 * kept (no duplicate).  out (may be NULL) says what it covers.  Returns
 * 0, EFS_ENOTFOUND (root not stored), EFS_EINVAL (identity CID, empty
 * label), blockstore and db errors.
 */
int evict_pin(struct evict_pin_info *out, struct evict *e,
	      const struct cid *root, const char *label);

/*
 * Drop the user pins and the CLI's pins (EVICT_CLI_PIN_PREFIX) whose
 * root is root (any label) or, when root is NULL, the user pins whose
 * label is label.  The number dropped goes to *removed (0:
 * none matched; not an error).  Returns 0, blockstore and db errors.
 */
int evict_unpin(size_t *removed, struct evict *e, const struct cid *root,
		const char *label);

/*
 * Run evict_run on a thread ("efs-evict") every interval_s seconds, and
 * at once on evict_wake; each pass that evicts something, or fails, is
 * logged.  Returns 0, EFS_EINVAL (already started, interval_s < 1) or
 * EFS_ERROR (no thread).
 */
int evict_start(struct evict *e, int64_t interval_s);

/* Run a pass now rather than at the next interval.  No-op if not
 * started. */
void evict_wake(struct evict *e);

/* Stop the thread (the pass under way finishes first).  Idempotent. */
void evict_stop(struct evict *e);

/* evict_stop, then free.  NULL is fine. */
void evict_close(struct evict *e);

/* ---- JSON: the API's replies, which the CLI prints from ---- */

/*
 * r as {"evicted":{"blocks":N,"bytes":N},"seen":N,"already":N,
 * "kept":{"links":{"blocks":N,"bytes":N},...every reason...},
 * "cache_size":N,"local_before":N,"local_after":N,
 * "short":[{"commit":ID,"pieced":B,"active":N,"want":N}...],
 * "more_short":N}.  New reference, or NULL (out of memory).
 */
json_t *evict_result_json(const struct evict_result *r);

/* p as {"pin":ID,"blocks":N,"bytes":N,"evicted_blocks":N,
 * "evicted_bytes":N}.  New reference, or NULL. */
json_t *evict_pin_json(const struct evict_pin_info *p);

/* ---- read-only, for the CLI beside a daemon ---- */

struct evict_totals {
	uint64_t local_blocks, local_bytes;
	uint64_t evicted_blocks, evicted_bytes;
};

/*
 * The blockstore's counters of LOCAL and EVICTED blocks, read from the
 * index db_path without opening the blockstore (which a daemon holds).
 * Returns 0, EFS_ENOTFOUND (no index or no blockstore tables yet) or db
 * errors.
 */
int evict_totals_read(struct evict_totals *out, const char *db_path);

#endif
