/*
 * dealer.h - the dealer: the background loop that takes every commit to
 * N active deals and keeps it there.  It owns the deal state machine
 * (dealer/deals.h) and drives the other dealer modules:
 *
 *   commits ──► pieces (piece.h: CAR, CommP, aggregate, shards)
 *                 │
 *   chain ──► SPs, asks (miners.h) ──► select ──► propose (dealproto.h)
 *                 │                                 │
 *   funds (funds.h): escrow top-up, DataCap         ▼
 *                             SP pulls the CAR (transfer.h, our HTTP)
 *                                                   │
 *   checks: the SP's status until a deal ID, then the chain (batched
 *   StateMarketStorageDeal) until active, expired or slashed; a deal
 *   that stops counting is replaced.
 *
 * One cycle (dealer_cycle), run by the dealer's thread every tick:
 *  1. read the chain head;
 *  2. take new commits from the commit source into the piece store, and
 *     close the aggregates that are due (piece_tick);
 *  3. every discovery interval: list the SPs (chain or configured list),
 *     their miner info in one batch, and fetch the asks that are stale;
 *  4. check the deals that are due: those with a deal ID against the
 *     chain in batches, the others by asking their SP;
 *  5. read the funds (one batch); top the escrow up when the deals about
 *     to be made need more (one message in flight at a time); check
 *     DataCap for verified deals and say so when it is short;
 *  6. for each ready piece with fewer than N counting deals, pick SPs
 *     (never one that holds or recently failed this piece) and propose.
 *
 * Restart safety: a deal row (PROPOSING, with the signed proposal and
 * its UUID) is written before the proposal is sent; a PROPOSING row
 * found later is asked about (the SP's status by UUID) and the same
 * proposal re-sent only when the SP does not know it.  So a kill -9 at
 * any point neither loses nor duplicates a deal.  The commit cursor and
 * the pending escrow message are in the dealer's report table.
 *
 * What the dealer reports for the CLI (`estuaryfs status`, `wallet`) is
 * written to the table dealer_report of index.db (module
 * "dealer_report"), one JSON object per key, read with
 * dealer_report_read:
 *   "network"  {"kind":"devnet"|"lotus","url":"...","wallet":"f1...",
 *               "started":T}
 *   "head"     {"height":H,"time":T}
 *   "funds"    {"balance":"FIL","escrow":..,"locked":..,"available":..,
 *               "datacap":"bytes","verified_client":b,"height":H,
 *               "time":T,"topup":"bafy..." (message in flight) or null}
 *   "blocked"  {"funds":"msg"|null,"datacap":"msg"|null,
 *               "miners":"msg"|null,"commits":"msg"|null}
 *   "price"    {"fil_usd":"4.2","source":"url or config","time":T}
 *   "cycle"    {"time":T,"duration_ms":n,"rpc_requests":n,
 *               "rpc_calls":n,"checked":n,"proposed":n,"commits":n}
 * and one note per piece (dealer_piece_note): the next thing the dealer
 * will do for it, or why it cannot ("no eligible SP: 5 backed off, ...").
 * T is unix seconds.
 *
 * Threads: dealer_start runs the loop on its own thread ("efs-dealer");
 * dealer_wake, dealer_transfer and dealer_cycle_stats may be called from
 * any thread.  dealer_cycle is for tests and benchmarks that do not
 * start the thread.
 */
#ifndef EFS_DEALER_DEALER_H
#define EFS_DEALER_DEALER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cid.h"
#include "dealer/config.h"

struct bstore;
struct dealer;
struct transfer;

/*
 * Where the dealer learns of commits: list calls cb for each commit
 * whose ID is above after, in ID order (cb returns non-zero to stop,
 * which list returns).  The filesystem's commit log (fs/commit.h
 * commit_list_since) in the daemon; an array in tests.
 */
typedef int (*dealer_commit_cb)(int64_t id, const struct cid *root,
				void *cb_cls);
struct dealer_commit_source {
	int (*list)(void *cls, int64_t after, dealer_commit_cb cb,
		    void *cb_cls);
	void *cls;
};

struct dealer_opts {
	const char *repo;            /* the repository directory */
	struct bstore *bs;           /* its open blockstore, borrowed */
	struct dealer_commit_source commits;
	/*
	 * The base URL SPs pull CARs from ("http://host:port"): the
	 * configuration's http.public_url, or the daemon's own listen
	 * address (enough for the devnet, whose SPs run here).
	 */
	const char *transfer_base;
	unsigned tick_ms;            /* between cycles; 0: 1000 */
	/*
	 * Bring the evicted blocks of the DAG under root back into the
	 * blockstore (the daemon's retrieval), for a commit that shares
	 * blocks with one evicted since (a directory committed again);
	 * NULL: such a commit waits, reported as blocked.  Called on the
	 * dealer's thread.
	 */
	int (*fetch_dag)(void *cls, const struct cid *root);
	void *fetch_cls;
	/*
	 * Seconds an epoch lasts, for turning epochs into waits (token
	 * expiry, retry times); 0: 30 (mainnet), or the devnet's.
	 */
	double epoch_seconds;
	/* Test hooks.  A Lotus endpoint to use instead of the
	 * configuration's (with devnet false), and a clock (unix
	 * seconds; 0: real time). */
	const char *lotus_url;
	const char *lotus_token;
	int64_t test_now;
};

/*
 * Open the dealer over opts->repo with configuration cfg (borrowed until
 * dealer_close; opts' strings are copied): the
 * deal, piece, miner and transfer tables in <repo>/index.db; the wallet
 * (its default key is the deal client; on the devnet one is made if
 * there is none); the network: cfg's Lotus endpoint, or the local
 * devnet (dealer/localnet.h: started or attached, the wallet funded
 * from its faucet, logged as such).  Nothing runs until dealer_start.
 * Returns 0, EFS_EINVAL (a setup problem: no wallet key on a real
 * network, transfer_base not http(s); the message says what to do),
 * EFS_ENOTFOUND (no devnet program), EFS_ETIMEDOUT, EFS_ENOMEM, db or
 * network errors.  *out is the caller's (dealer_close).
 */
int dealer_open(struct dealer **out, const struct dealer_opts *opts,
		const struct dealer_config *cfg);

/* Start the loop thread.  0 or EFS_ERROR. */
int dealer_start(struct dealer *d);

/* Run the next cycle now instead of at the next tick (a new commit). */
void dealer_wake(struct dealer *d);

/* What one cycle did (dealer_cycle; the last one for dealer_cycle_stats). */
struct dealer_cycle_stats {
	int64_t time;                /* unix seconds it started */
	uint64_t duration_us;
	int64_t head;                /* chain height */
	uint64_t rpc_requests;       /* HTTP requests to Lotus */
	uint64_t rpc_calls;          /* JSON-RPC calls in them */
	uint64_t sp_calls;           /* requests to SPs */
	size_t commits;              /* commits taken into pieces */
	size_t closed;               /* aggregates closed */
	size_t checked;              /* deals checked */
	size_t proposed;             /* proposals sent */
	size_t accepted;             /* ... that the SP accepted */
	size_t changed;              /* deals whose state changed */
	int rc;                      /* the cycle's first error, or 0 */
};

/*
 * Run one cycle on the calling thread (not while the thread runs).
 * Errors of one deal, SP or commit are logged and recorded and do not
 * stop the cycle; the first is in out->rc.  Returns 0, or the error
 * that stopped the cycle (the chain could not be read).
 */
int dealer_cycle(struct dealer_cycle_stats *out, struct dealer *d);

/* The last cycle's figures (zero before the first). */
void dealer_cycle_stats(struct dealer_cycle_stats *out, struct dealer *d);

/*
 * The transfer server the daemon's HTTP handler sends requests under
 * TRANSFER_PATH_PREFIX to (transfer_handle).  Borrowed.
 */
struct transfer *dealer_transfer(struct dealer *d);

/*
 * Stop the thread (waits for the current cycle), stop a devnet this
 * process started, and free.  Stop the HTTP server first.  NULL is fine.
 */
void dealer_close(struct dealer *d);

/* ---- the report, for the CLI (read-only; any process) ---- */

/*
 * The dealer's report from the index db_path: a JSON object of the keys
 * listed at the top (each key present once the dealer wrote it), into
 * *out as text (efs_free it).  Returns 0, EFS_ENOTFOUND (no index, or
 * the dealer never ran), EFS_ENOMEM or db errors.
 */
int dealer_report_read(char **out, const char *db_path);

/* dealer_report_read of d's own index. */
int dealer_report(char **out, struct dealer *d);

/*
 * The note of piece_id (efs_free it), and when it was written (unix
 * seconds).  Returns 0, EFS_ENOTFOUND, EFS_ENOMEM or db errors.
 */
int dealer_piece_note(char **out, int64_t *time, const char *db_path,
		      int64_t piece_id);

/*
 * Call cb for the note of every piece, by piece ID, in one read (for a
 * listing of many pieces).  cb's note is borrowed for the call; a
 * non-zero return stops the walk and is returned.  Returns 0,
 * EFS_ENOTFOUND (the dealer never ran), EFS_ENOMEM or db errors.
 */
typedef int (*dealer_note_cb)(int64_t piece_id, const char *note,
			      int64_t time, void *cls);
int dealer_piece_notes(const char *db_path, dealer_note_cb cb, void *cls);

/* ---- test hooks ---- */

enum dealer_test_point {
	DEALER_TEST_NONE = 0,
	DEALER_TEST_RECORDED, /* a proposal's row is written, not sent */
	DEALER_TEST_SENT,     /* the SP took it; its answer not recorded */
};

/*
 * Make the next proposal that reaches point end the cycle there with
 * EFS_ECANCELED, leaving the database as a kill -9 at that point would
 * (every write is its own transaction), once.  DEALER_TEST_NONE cancels.
 */
void dealer_test_stop(struct dealer *d, enum dealer_test_point point);

#endif
