/*
 * miners.h - the dealer's memory of storage providers (SPs): who they
 * are, what they ask, how they performed, every interaction with each,
 * the bandwidth exchanged, and the ranking that picks SPs for a new deal.
 *
 * Pure sqlite and arithmetic: no network.  The dealer discovers SPs (the
 * chain or its configured list), fetches their asks and talks to them;
 * it tells this module what it learned and asks it whom to deal with.
 *
 * Storage: tables of the repository's index.db, module "dealer_miners" of
 * db_migrate (see miners.c for the schema).  Times are Unix-epoch
 * nanoseconds of CLOCK_REALTIME (the CLI compares them with its own
 * clock); the caller passes "now" so that tests are deterministic.
 *
 * Backoff (miners_log): an interaction with an SP (ask, propose, status,
 * transfer, retrieve) that ends unreachable, timeout, garbage or error
 * adds to the SP's failure streak and backs it off for
 *	min(backoff_max, backoff_base * 2^(streak - 1))
 * shortened by up to backoff_jitter of itself (random), so SPs that
 * failed together do not come back together.  A rejection means the SP
 * answered: it ends the failure streak, adds to a separate rejection
 * streak and backs off less, reject_base * 2^(streak - 1) up to
 * reject_max.  An ok ends both streaks and the backoff.  'chain' events
 * and the outcomes slashed/expired are recorded without touching backoff.
 *
 * Score (miners_select, miners_foreach), in [0, 1], higher is better:
 *
 *	score = 0.60 * deal + 0.15 * seal + 0.15 * retr + 0.10 * speed
 *
 *	deal  = (sealed + 1) / (settled + 2)
 *		settled = sealed + failed + slashed + rejected +
 *		proposal errors: the proposals whose fate is known
 *		(deals still on their way count neither way).  The
 *		prior (1, 2) is a Beta(1,1): a new SP scores 0.5, not
 *		0 or 1, and a few results move it only so far.
 *	seal  = MINERS_SEAL_REF / (MINERS_SEAL_REF + median seal time):
 *		0.5 at a median of one day (and with no seal yet), 1 for
 *		instant sealing.  The median is over the last
 *		MINERS_SEAL_RECENT seals.
 *	retr  = (retrievals ok + 1) / (retrievals + 2)
 *	speed = mean retrieval speed / (that + MINERS_SPEED_REF): 0.5 at
 *		MINERS_SPEED_REF (and with no retrieval yet).
 *
 * Selection (miners_select): the eligible SPs are those not disabled, not
 * excluded by the caller, not backed off, with a deal endpoint (url), an
 * ask fetched within the query's max age and not expired, a min/max piece
 * size range holding the piece (min <= padded <= max) and a price within
 * the cap (the verified price for verified deals).  Of the want picks,
 * want * explore (rounded at random so the mean is exact) are drawn
 * uniformly from eligible SPs with little history (fewer than new_below
 * settled proposals); the rest are the best scores (ties in random
 * order).  When too few new SPs exist the rest come by score too.
 *
 * Threads: a struct miners is internally locked; any thread may call any
 * function.  The callbacks of the _foreach functions run with the lock
 * held and must not call back into the same struct miners (miners_explain
 * calls its callback without it).  Each struct miners has its own sqlite
 * connection; several (in several processes) may share one index.db.
 */
#ifndef EFS_MINERS_H
#define EFS_MINERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bigint.h"
#include "core/filaddr.h"

struct miners;

/* ---- opening ---------------------------------------------------------- */

struct miners_opts {
	/* open query-only, never create or migrate (the CLI, while a
	 * daemon writes) */
	bool read_only;
	int64_t backoff_base_ns;        /* first failure: 1 min */
	int64_t backoff_max_ns;         /* cap: 6 h */
	int64_t reject_base_ns;         /* first rejection: 30 s */
	int64_t reject_max_ns;          /* cap: 1 h */
	double backoff_jitter;          /* up to this share shorter: 0.2 */
	uint32_t log_keep;              /* log rows kept per SP: 2000 */
	int64_t log_max_age_ns;         /* log rows older are dropped: 90 d */
	uint64_t seed;                  /* the generator of backoff jitter
					 * and of unseeded selections;
					 * 0: the clock */
};

#define MINERS_NS_PER_SEC 1000000000LL

#define MINERS_OPTS_INIT                                          \
	{                                                         \
		.read_only = false,                               \
		.backoff_base_ns = 60 * MINERS_NS_PER_SEC,        \
		.backoff_max_ns = 6 * 3600 * MINERS_NS_PER_SEC,   \
		.reject_base_ns = 30 * MINERS_NS_PER_SEC,         \
		.reject_max_ns = 3600 * MINERS_NS_PER_SEC,        \
		.backoff_jitter = 0.2,                            \
		.log_keep = 2000,                                 \
		.log_max_age_ns = 90LL * 86400 * MINERS_NS_PER_SEC, \
		.seed = 0,                                        \
	}

/*
 * Open the miner tables of the index at db_path (migrating them unless
 * opts->read_only).  opts may be NULL (MINERS_OPTS_INIT).  Returns 0,
 * EFS_ENOMEM, EFS_EINVAL (bad opts), EFS_ENOTFOUND (read_only and no
 * index file), EFS_EUNSUPPORTED (tables of a newer build) or a db error.
 * A read-only open of an index the dealer never wrote to succeeds and
 * lists nothing.  *out is the caller's (miners_close).
 */
int miners_open(struct miners **out, const char *db_path,
		const struct miners_opts *opts);

/* Close.  NULL is fine. */
void miners_close(struct miners *m);

/* ---- what the dealer tells --------------------------------------------- */

enum miners_source {
	MINERS_SOURCE_CHAIN = 0,  /* found on chain */
	MINERS_SOURCE_CONFIG = 1, /* listed in the user's configuration */
};

/* Who an SP is (miners_upsert). */
struct miner_info {
	struct filaddr addr;      /* an ID address (f0...) */
	const char *url;          /* HTTP base of its deal endpoints, or NULL */
	const char *peer_id;      /* libp2p peer ID, or NULL */
	uint64_t sector_size;     /* bytes; 0: unknown */
	enum miners_source source;
};

/*
 * Add an SP or update what is known of it: url, peer_id and sector_size
 * are replaced when given (non-NULL, non-zero), source always.  now_ns
 * is its first_seen when new.  Returns 0, EFS_EINVAL (not an ID address;
 * url or peer_id over 2048 bytes; read-only), EFS_ERANGE (sector size
 * over 2^63-1), EFS_ENOMEM or a db error.
 */
int miners_upsert(struct miners *m, const struct miner_info *info,
		  int64_t now_ns);

/*
 * An SP's storage ask (mk12 StorageAsk).  The fields are those of
 * dealer/dealproto.h's struct dealproto_ask, by the same names, so the
 * dealer copies them across (this module does not depend on the
 * protocol's header).
 */
struct miner_ask {
	struct bigint price;          /* attoFIL per GiB per epoch */
	struct bigint verified_price; /* the same for verified deals */
	uint64_t min_piece;           /* padded bytes */
	uint64_t max_piece;
	int64_t expiry;               /* chain epoch it expires at; 0 none */
};

/*
 * Record addr's ask as fetched at now_ns.  Returns 0, EFS_ENOTFOUND (addr
 * unknown: miners_upsert it first), EFS_EINVAL (negative price, min >
 * max) or a db error.
 */
int miners_set_ask(struct miners *m, const struct filaddr *addr,
		   const struct miner_ask *ask, int64_t now_ns);

/*
 * Disable addr (the user's configuration says not to deal with it) with
 * a reason shown by `estuaryfs miners`, or enable it again (reason
 * ignored).  Returns 0, EFS_ENOTFOUND or a db error.
 */
int miners_set_disabled(struct miners *m, const struct filaddr *addr,
			bool disabled, const char *reason);

enum miners_action {
	MINERS_ACT_ASK = 0,
	MINERS_ACT_PROPOSE,
	MINERS_ACT_STATUS,
	MINERS_ACT_TRANSFER,     /* the SP pulling a CAR from us */
	MINERS_ACT_CHAIN,        /* what the chain says of its deals */
	MINERS_ACT_RETRIEVE,     /* us fetching from it */
	MINERS_ACT_COUNT_,
};

/* The first six have the numbers of dealproto.h's enum dealproto_outcome,
 * whose meanings they share. */
enum miners_outcome {
	MINERS_OUT_OK = 0,
	MINERS_OUT_REJECTED,     /* it answered no */
	MINERS_OUT_UNREACHABLE,  /* no connection */
	MINERS_OUT_TIMEOUT,
	MINERS_OUT_GARBAGE,      /* an answer that does not parse or fit */
	MINERS_OUT_ERROR,        /* it answered with an error */
	MINERS_OUT_SLASHED,
	MINERS_OUT_EXPIRED,
	MINERS_OUT_COUNT_,
};

/* The names stored in the log: "ask", "propose" ...; "ok", "rejected" ... */
const char *miners_action_name(enum miners_action a);
const char *miners_outcome_name(enum miners_outcome o);

/* Longest detail kept in the log, in bytes (escapes included). */
#define MINERS_DETAIL_MAX 240

/* One interaction with an SP (miners_log's input, log_foreach's output). */
struct miner_event {
	int64_t id;                /* output only: the log row */
	struct filaddr addr;
	int64_t time_ns;           /* when it ended */
	enum miners_action action;
	enum miners_outcome outcome;
	int64_t latency_us;        /* how long it took; 0 unknown */
	uint64_t bytes_up;         /* bytes we sent */
	uint64_t bytes_down;       /* bytes we received */
	bool has_deal_uuid;
	uint8_t deal_uuid[16];
	const char *piece_cid;     /* text, or NULL */
	/*
	 * What happened, or NULL.  On input any bytes, detail_len of them
	 * (0: strlen(detail)); stored printable: bytes outside ASCII
	 * 0x20-0x7e as \xNN, cut to MINERS_DETAIL_MAX with "...".  On
	 * output NUL-terminated and detail_len is its length.
	 */
	const char *detail;
	size_t detail_len;
};

/*
 * Record ev (ev->id ignored) and update addr's backoff and performance
 * (see the top of this file); drops the SP's oldest log rows past
 * log_keep and those older than log_max_age.  Returns 0, EFS_ENOTFOUND
 * (addr unknown), EFS_EINVAL (not an ID address, action/outcome out
 * of range, negative latency, piece_cid over 256 bytes, a read-only
 * struct miners), EFS_ERANGE (byte counts over 2^63-1), EFS_ENOMEM or a
 * db error.
 */
int miners_log(struct miners *m, const struct miner_event *ev);

/* What became of an accepted deal. */
enum miners_fate {
	MINERS_FATE_SEALED = 0,   /* its sector is on chain */
	MINERS_FATE_FAILED,       /* accepted, then never made it */
	MINERS_FATE_SLASHED,      /* sealed, then faulted */
	MINERS_FATE_EXPIRED,      /* ran its term (not held against it) */
};

struct miner_deal_fate {
	struct filaddr addr;
	enum miners_fate fate;
	int64_t seal_seconds;     /* SEALED: acceptance to sector on chain */
	int64_t time_ns;
	bool has_deal_uuid;
	uint8_t deal_uuid[16];
	const char *piece_cid;    /* or NULL */
	const char *detail;       /* or NULL */
};

/*
 * Count a deal's fate into addr's performance and log it (action
 * 'chain', outcome ok / error / slashed / expired).  Backoff is not
 * touched.  Returns 0, EFS_ENOTFOUND, EFS_EINVAL or a db error.
 */
int miners_deal_outcome(struct miners *m, const struct miner_deal_fate *f);

/*
 * Add bytes exchanged with addr on now_ns's UTC day: sent = bytes the SP
 * pulled from us, fetched = bytes we retrieved from it, for commit_id
 * (0: not for one commit).  Returns 0, EFS_EINVAL (commit_id < 0) or a
 * db error.  The SP need not be known.
 */
int miners_bandwidth_add(struct miners *m, const struct filaddr *addr,
			 int64_t commit_id, uint64_t sent, uint64_t fetched,
			 int64_t now_ns);

/*
 * Drop every SP's log rows older than log_max_age at now_ns (miners_log
 * does it for the SP it writes to; this reaches SPs no longer talked
 * to).  Returns 0 or a db error.
 */
int miners_prune(struct miners *m, int64_t now_ns);

/* ---- what it knows ------------------------------------------------------ */

/* Seal times the median is taken over. */
#define MINERS_SEAL_RECENT 64
/* Seal time scoring 0.5: one day. */
#define MINERS_SEAL_REF 86400.0
/* Retrieval speed scoring 0.5: 8 MiB/s. */
#define MINERS_SPEED_REF (8.0 * 1024 * 1024)

/* Performance, kept up to date by each miners_log / miners_deal_outcome. */
struct miner_perf {
	uint64_t proposed;        /* propose events */
	uint64_t accepted;        /* ... ok */
	uint64_t rejected;        /* ... rejected */
	uint64_t propose_errors;  /* ... unreachable, timeout, garbage, error */
	uint64_t sealed;          /* fates */
	uint64_t failed;
	uint64_t slashed;
	uint64_t expired;
	uint64_t seal_count;      /* seals with a time */
	double seal_mean_s;       /* over all of them; 0 when none */
	double seal_median_s;     /* over the last MINERS_SEAL_RECENT */
	uint64_t asks;            /* ask events */
	uint64_t asks_ok;
	uint64_t retrievals;      /* retrieve events */
	uint64_t retrievals_ok;
	uint64_t retrieved_bytes; /* bytes_down of the ok ones */
	uint64_t retrieval_us;    /* their latency_us */
	double retrieval_speed;   /* bytes/s of the ok ones; 0 when none */
	int64_t last_ok_ns;       /* last ok interaction; 0 never */
	int64_t last_fail_ns;     /* last one not ok, or failed/slashed fate */
};

/* Proposals whose fate is known: the score's "settled" (see above). */
uint64_t miners_settled(const struct miner_perf *p);

/* Everything known of one SP.  Strings are the record's own. */
struct miner_record {
	struct filaddr addr;
	char *url;                /* or NULL */
	char *peer_id;            /* or NULL */
	uint64_t sector_size;
	enum miners_source source;
	bool has_ask;
	struct miner_ask ask;
	int64_t ask_time_ns;      /* when the ask was fetched */
	bool reachable;           /* its last interaction got an answer */
	int64_t first_seen_ns;
	int64_t last_seen_ns;     /* its last answer; 0 never */
	int64_t backoff_until_ns; /* 0: not backed off */
	uint32_t fail_streak;
	uint32_t reject_streak;
	bool disabled;
	char *disabled_reason;    /* or NULL */
	uint64_t log_rows;        /* rows in its log */
	struct miner_perf perf;
	double score;             /* as miners_select ranks it */
};

/* Free the record's strings (not the record).  NULL is fine. */
void miners_record_release(struct miner_record *r);

/*
 * The record of addr into out (release it).  Returns 0, EFS_ENOTFOUND,
 * EFS_ECORRUPT (a stored value does not parse), EFS_ENOMEM or a db
 * error.
 */
int miners_get(struct miner_record *out, struct miners *m,
	       const struct filaddr *addr);

/*
 * Call cb for each SP, by address (ID order).  The record is borrowed
 * for the call.  A non-zero return from cb stops the walk and is
 * returned.  Returns 0, that, or the errors of miners_get.
 */
typedef int (*miners_cb)(const struct miner_record *r, void *payload);
int miners_foreach(struct miners *m, miners_cb cb, void *payload);

/*
 * Call cb for addr's log rows with time_ns >= since_ns, newest first, at
 * most limit of them (0: all).  The event and its strings are borrowed
 * for the call.  Returns 0, cb's non-zero return, EFS_ECORRUPT or a db
 * error.
 */
typedef int (*miners_event_cb)(const struct miner_event *ev, void *payload);
int miners_log_foreach(struct miners *m, const struct filaddr *addr,
		       int64_t since_ns, size_t limit, miners_event_cb cb,
		       void *payload);

/* ---- bandwidth ---------------------------------------------------------- */

enum miners_bw_by {
	MINERS_BW_ROWS = 0,  /* the stored rows: day, SP, commit */
	MINERS_BW_BY_SP,     /* summed per SP */
	MINERS_BW_BY_COMMIT, /* summed per commit (0: not for a commit) */
	MINERS_BW_BY_DAY,    /* summed per UTC day */
};

/* Which rows to sum; MINERS_BW_FILTER_INIT takes them all. */
struct miners_bw_filter {
	const struct filaddr *addr;  /* one SP, or NULL */
	int64_t commit_id;           /* one commit, or -1 */
	int64_t since_day;           /* days since the epoch; 0: all */
};

#define MINERS_BW_FILTER_INIT { .addr = NULL, .commit_id = -1, .since_day = 0 }

/* A row or a sum.  Fields summed away are -1 (day, commit) or !has_addr. */
struct miners_bw_row {
	int64_t day;              /* UTC days since 1970-01-01 */
	bool has_addr;
	struct filaddr addr;
	int64_t commit_id;
	uint64_t sent;
	uint64_t fetched;
};

/*
 * Call cb for each group of by, in key order (day, SP ID, commit), of
 * the rows filter takes (NULL: all).  Returns 0, cb's non-zero return,
 * EFS_ECORRUPT or a db error.
 */
typedef int (*miners_bw_cb)(const struct miners_bw_row *row, void *payload);
int miners_bandwidth_foreach(struct miners *m, enum miners_bw_by by,
			     const struct miners_bw_filter *filter,
			     miners_bw_cb cb, void *payload);

/* The totals of the rows filter takes (NULL: all).  0 or a db error. */
int miners_bandwidth_sum(uint64_t *sent_out, uint64_t *fetched_out,
			 struct miners *m,
			 const struct miners_bw_filter *filter);

/* ---- choosing ----------------------------------------------------------- */

struct miners_query {
	size_t want;                    /* SPs wanted */
	uint64_t piece_size;            /* padded */
	bool verified;                  /* a verified (FIL+) deal */
	struct bigint max_price;        /* cap on price (unverified) */
	struct bigint max_verified_price; /* cap on verified_price */
	/* SPs that must not be picked: already holding this piece, or
	 * recently failing it (never two deals of one piece on one SP) */
	const struct filaddr *exclude;
	size_t nexclude;
	int64_t now_ns;
	int64_t ask_max_age_ns;         /* asks older are stale: 30 min */
	int64_t head_epoch;             /* asks expiring by then are out;
					 * 0: do not check */
	double explore;                 /* share picked among new SPs: 0.25 */
	uint64_t new_below;             /* "new": fewer settled proposals */
	uint64_t seed;                  /* 0: drawn from the struct
					 * miners' generator (opts.seed) */
};

/* Estuary's defaults: unverified at most 3e-8 FIL/GiB/epoch
 * (30,000,000,000 attoFIL), verified free. */
#define MINERS_QUERY_INIT                                         \
	{                                                         \
		.want = 1,                                        \
		.max_price = { .w = { 30000000000ULL } },         \
		.ask_max_age_ns = 1800 * MINERS_NS_PER_SEC,       \
		.explore = 0.25,                                  \
		.new_below = 10,                                  \
	}

/*
 * Pick up to q->want eligible SPs into out (room for q->want), in the
 * order to try them (exploration picks spread among the rest); *n_out is
 * how many.  Fewer than want is not an error.  Returns 0, EFS_ENOTFOUND
 * when no SP is eligible (the message counts the reasons, e.g. "miners:
 * none of 12 storage providers is eligible: 5 backed off, 7 ask too
 * old"), EFS_EINVAL (explore outside [0, 1]), EFS_ENOMEM, EFS_ECORRUPT or
 * a db error.
 */
int miners_select(struct filaddr *out, size_t *n_out, struct miners *m,
		  const struct miners_query *q);

/* Why an SP is not eligible for q: bits of a verdict's why. */
enum miners_why {
	MINERS_WHY_DISABLED = 1 << 0,
	MINERS_WHY_EXCLUDED = 1 << 1,
	MINERS_WHY_BACKOFF = 1 << 2,
	MINERS_WHY_NO_URL = 1 << 3,
	MINERS_WHY_NO_ASK = 1 << 4,
	MINERS_WHY_ASK_STALE = 1 << 5,
	MINERS_WHY_ASK_EXPIRED = 1 << 6,
	MINERS_WHY_TOO_SMALL = 1 << 7,  /* piece below its min */
	MINERS_WHY_TOO_LARGE = 1 << 8,  /* piece above its max */
	MINERS_WHY_PRICE = 1 << 9,      /* price above the cap */
};

struct miners_verdict {
	const struct miner_record *r;
	unsigned why;                   /* 0: eligible */
	/* "eligible, score 0.62" or the reasons, e.g. "backed off until
	 * 2026-03-01T12:00:00Z after 3 failures; ask 2 h old" */
	const char *text;
};

/*
 * Call cb for every SP with its verdict for q (by address), for
 * `estuaryfs status` when the dealer finds no SP.  The verdict is
 * borrowed for the call.  Returns 0, cb's non-zero return, or the errors
 * of miners_select.
 */
typedef int (*miners_verdict_cb)(const struct miners_verdict *v,
				 void *payload);
int miners_explain(struct miners *m, const struct miners_query *q,
		   miners_verdict_cb cb, void *payload);

#endif
