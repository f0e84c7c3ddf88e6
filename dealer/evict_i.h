/*
 * evict_i.h - what the evictor's files share (evict.h is the manual):
 *
 *   evict.c         the struct, passes (evict_run, evict_commit), the
 *                   safety checks and the batches
 *   evict_walk.c    block sets, the DAG walk, the user pins (the set of
 *                   blocks they reach, evict_pin, evict_unpin), and the
 *                   read-only totals
 *   evict_thread.c  the thread (evict_start, evict_wake, evict_stop)
 *   evict_json.c    results as JSON
 *
 * Locks, in the order they are taken:
 *   run_mu   one pass at a time; guards ps, ds, the pinned set and the
 *            pass's verdicts.  Held across sqlite and block reads (the
 *            only waiters are other passes).
 *   pin_mu   a pin or unpin against an eviction transaction: a flush
 *            holds it from its last look at the pins to its commit, so
 *            a pin that returned is never overtaken by an eviction.
 *   mu       a leaf: opts and the thread's state.
 * pin_gen counts pin changes made through this evictor (atomic): a pass
 * rebuilds its pinned set before a flush when it moved.  No other
 * process can pin meanwhile: the blockstore is ours (its lock).
 */
#ifndef EFS_DEALER_EVICT_I_H
#define EFS_DEALER_EVICT_I_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bstore.h"
#include "core/cid.h"
#include "dealer/evict.h"

struct deals;
struct piece_store;

/* ---- sets of blocks (evict_walk.c) ---- */

/*
 * A set of 64-bit block fingerprints (evict_fp): membership may err
 * only toward "present" (two blocks sharing a fingerprint), which keeps
 * a block local or skips a leaf already counted: never an unsafe
 * eviction.  Open addressing; 0 marks an empty slot.
 */
struct evict_fpset {
	uint64_t *v;
	size_t cap, n;
};

/* The fingerprint of id's multihash (never 0). */
uint64_t evict_fp(const struct cid *id);

/* Add fp: 1 when new, 0 when present, EFS_ENOMEM. */
int evict_fpset_add(struct evict_fpset *s, uint64_t fp);
bool evict_fpset_has(const struct evict_fpset *s, uint64_t fp);
void evict_fpset_clear(struct evict_fpset *s);
void evict_fpset_release(struct evict_fpset *s);

/* A block met by evict_walk. */
struct evict_node {
	const struct cid *id;
	bool stored;              /* LOCAL or EVICTED (stat asked for) */
	enum bstore_state state;  /* when stored */
	uint64_t size;            /* when stored */
	size_t links;             /* links decoded: 0 for raw blocks,
				     evicted blocks (invariant 3) and
				     codecs without known links */
};

typedef int (*evict_walk_cb)(const struct evict_node *n, void *cls);

/*
 * Call cb once for every block of the DAG under root, parents before
 * children.  Nodes of a linking codec are read (they are local: only
 * leaves are ever evicted); raw leaves are not.  With stat, each block
 * is looked up (stored, state, size); without, only those read are.
 * Blocks not stored are reported (stored false) and not descended.
 * Returns 0, cb's non-zero value, EFS_ENOMEM, or the blockstore's
 * errors for an unreadable node (EFS_EMISMATCH, EFS_ECORRUPT...): its
 * children cannot be known.
 */
int evict_walk(struct bstore *bs, const struct cid *root, bool stat,
	       evict_walk_cb cb, void *cls);

/* ---- the evictor ---- */

/* The blocks of commits the piece store has not fully taken. */
struct evict_queued {
	struct evict_fpset blocks;
	int64_t last_id;          /* the newest commit looked at */
};

struct evict_verdict {
	int64_t commit_id;        /* 0: empty slot (IDs start at 1) */
	bool ok;
	struct evict_short why;
};

struct evict {
	struct bstore *bs;
	char *db_path;

	pthread_mutex_t run_mu;
	struct piece_store *ps;   /* run_mu; NULL until the tables exist */
	struct deals *ds;         /* run_mu; NULL until the tables exist */
	struct evict_fpset pinned;   /* run_mu: blocks under user pins */
	int64_t *pin_ids;         /* run_mu: the pins it was built from */
	size_t npin_ids;
	uint64_t pinned_gen;      /* run_mu: pin_gen it was built at */
	bool pinned_valid;        /* run_mu */
	struct evict_queued queued;  /* run_mu */

	pthread_mutex_t pin_mu;
	atomic_uint_fast64_t pin_gen;

	pthread_mutex_t mu;
	struct evict_opts opts;   /* mu */
	pthread_cond_t cond;      /* mu */
	pthread_t thread;
	bool running, stop, wake; /* mu */
	int64_t interval_s;       /* mu */
};

/* evict_walk.c: bring the pinned set up to date with the user pins
 * (run_mu held; rebuilt only when they changed).  0 or errors. */
int evict_pinned_refresh(struct evict *e);

/*
 * evict_walk.c: the queued set (run_mu held): rebuilt from every commit
 * of src that the piece store does not know or still sizes; with
 * only_new, the commits made after the last one seen are added to it.
 * Nothing when src->list is NULL, or when there is no piece store yet
 * (then nothing has a location).  0 or errors.
 */
int evict_queued_refresh(struct evict *e,
			 const struct dealer_commit_source *src,
			 bool only_new);

#endif
