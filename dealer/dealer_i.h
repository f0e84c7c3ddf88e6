/*
 * dealer_i.h - the dealer's insides, shared by dealer.c (open, the
 * thread, the cycle), dealer_sync.c (commits, SPs and asks, the price),
 * dealer_propose.c (funds and proposals), dealer_check.c (the deals that
 * are due) and dealer_report.c (what the CLI reads).
 *
 * Everything here is touched only by the thread running the cycle
 * (dealer_cycle), except the stats (stats_lock) and the fields the
 * transfer server's callbacks read (the stores, which are internally
 * locked).
 */
#ifndef EFS_DEALER_DEALER_I_H
#define EFS_DEALER_DEALER_I_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/bigint.h"
#include "core/filaddr.h"
#include "dealer/config.h"
#include "dealer/dealer.h"
#include "dealer/deals.h"
#include "dealer/funds.h"
#include "dealer/localnet.h"
#include "dealer/miners.h"
#include "dealer/transfer.h"

struct db;
struct dealproto;
struct dealproto_call;
struct lotus;
struct miners;
struct piece_info;
struct piece_store;
struct wallet;

/* Room for a "blocked" message. */
#define DEALER_MSG_MAX 512

/* What stops the dealer from going on, shown loudly by `status`. */
enum dealer_block {
	DEALER_BLOCK_FUNDS = 0,
	DEALER_BLOCK_DATACAP,
	DEALER_BLOCK_MINERS,
	DEALER_BLOCK_COMMITS,
	DEALER_BLOCK_COUNT_,
};

/* A commit whose piece_add_commit failed: tried again later. */
struct dealer_retry {
	int64_t id;
	struct cid root;
	int64_t at;                  /* unix seconds of the next try */
	unsigned tries;
};

struct dealer {
	char *repo;
	char *db_path;
	struct bstore *bs;
	struct dealer_commit_source commits;
	int (*fetch_dag)(void *cls, const struct cid *root);
	void *fetch_cls;
	char *transfer_base;
	const struct dealer_config *cfg;
	unsigned tick_ms;
	double epoch_s;
	int64_t test_now;

	/* the network */
	struct localnet ln;
	bool devnet;
	struct lotus *lotus;
	struct wallet *wallet;
	struct filaddr client;
	struct dealproto *dp;
	char price_url[512];         /* FIL/USD source, "" none */

	/* the stores */
	struct deals *deals;
	struct piece_store *ps;
	struct miners *miners;
	struct transfer *tr;
	struct transfer_source_ops tr_ops;
	struct db *rdb;              /* the report tables */

	/* the cycle's state */
	int64_t now;                 /* unix seconds, this cycle */
	int64_t head;
	int64_t commit_cursor;       /* commits up to it were taken (saved) */
	int64_t scan_cursor;         /* commits up to it were tried */
	struct dealer_retry *retries;
	size_t nretries;
	int64_t next_discover;       /* unix seconds */
	size_t discover_pos;         /* in the chain's miner list */
	int64_t next_scan;           /* of the pieces' replication */
	bool dirty;                  /* something changed: scan now */
	bool funds_ok;               /* funds read this cycle */
	struct funds_status funds;
	struct bigint escrow_reserved; /* by pending deals and this cycle */
	uint64_t datacap_reserved;
	bool topup_pending;
	struct cid topup_msg;
	int64_t topup_at;
	struct {                     /* the last collateral bounds read */
		int64_t head;
		uint64_t padded;
		struct bigint min;
	} coll;
	char blocked[DEALER_BLOCK_COUNT_][DEALER_MSG_MAX];
	bool blocked_dirty;
	struct dealer_cycle_stats cur;
	enum dealer_test_point test_stop;
	bool stopped;                /* test_stop was reached */

	/* the thread */
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;        /* guards stop, wake, last */
	pthread_cond_t cond;
	bool stop;
	bool wake;
	struct dealer_cycle_stats last;
};

/* Unix seconds now (the test clock when set). */
int64_t dealer_now(const struct dealer *d);

/* Seconds that n epochs last. */
int64_t dealer_epochs_s(const struct dealer *d, int64_t n);

/* How often deals still on their way are checked: seconds.  Those
 * with a deal ID (the chain, batched) every epoch. */
int64_t dealer_pending_interval(const struct dealer *d);
int64_t dealer_published_interval(const struct dealer *d);

/* Seconds between discovery rounds, and the age at which an ask is
 * fetched again. */
int64_t dealer_discover_interval(const struct dealer *d);
int64_t dealer_ask_refresh(const struct dealer *d);

/* Set (msg non-NULL, printf) or clear (NULL) a block, logging changes. */
void dealer_block(struct dealer *d, enum dealer_block b, const char *fmt,
		  ...) __attribute__((format(printf, 3, 4)));

/* ---- dealer_sync.c ---- */

/* Take new commits into pieces and close due aggregates. */
int dealer_sync_commits(struct dealer *d);
/* List SPs, their info and stale asks; the FIL/USD price. */
int dealer_discover(struct dealer *d);
/* Record a call to an SP in its log (uuid and piece may be NULL). */
void dealer_miner_log(struct dealer *d, const struct filaddr *addr,
		      enum miners_action act, const struct dealproto_call *c,
		      const uint8_t *uuid, const char *piece);

/* ---- dealer_propose.c ---- */

/* Read the funds, follow an escrow top-up in flight. */
int dealer_funds(struct dealer *d);
/* Propose deals for pieces with fewer than N counting deals. */
int dealer_replicate(struct dealer *d);
/* Send deal dl's proposal (again) to its SP: after a crash, or after
 * the SP did not answer.  Updates the deal's row. */
int dealer_resend(struct dealer *d, const struct deal *dl);
/* The piece's FRC-0058 / CAR facts a proposal needs. */
int dealer_piece(struct piece_info *out, struct dealer *d, int64_t piece_id);

/* ---- dealer_check.c ---- */

/* Check the deals that are due. */
int dealer_check(struct dealer *d);

/* ---- dealer_report.c ---- */

int dealer_report_open(struct dealer *d);
/* Store value (stolen) under key. */
int dealer_report_put(struct dealer *d, const char *key, json_t *value);
/* The stored value of key (a new reference), or NULL. */
json_t *dealer_report_get(struct dealer *d, const char *key);
/* Set piece_id's note, a printf line. */
int dealer_note(struct dealer *d, int64_t piece_id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Write head, funds, blocked and the cycle's figures. */
int dealer_report_cycle(struct dealer *d);

#endif
