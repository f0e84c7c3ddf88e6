/*
 * dealview.h - the dealer's state as the repository's index holds it,
 * read-only, for every reader that is not the dealer: the CLI's
 * read-side commands (`estuaryfs status`, `deals`, `deal show`,
 * `miners`, `bandwidth`, `wallet show`) and the daemon's REST routes
 * (api/api_rest*.c).  One code path, so the terminal and the API show
 * the same figures under the same JSON names.
 *
 *   dealview_open(repo, commit log) ─► report, deals, pieces
 *        │
 *        ├─ dealview_list_commits ─► commits (the filesystem's log ∪
 *        │                           the piece store's), oldest first
 *        ├─ dealview_commit_state ─► one commit's pieces, deals counted,
 *        │                           evicted blocks, what comes next
 *        └─ dealview_*_json       ─► the JSON objects both print
 *
 * Nothing here opens the blockstore: a running daemon holds its lock.
 * Everything is read from index.db through the dealer's read-only
 * openers (deals_open_ro, piece_store_open_ro, dealer_report_read,
 * dealer_piece_notes, miners_open read_only).  A repository in which
 * the dealer never ran is not an error: the view then has no deals, no
 * pieces and no report.  A missing index.db is the same.  A corrupt one
 * is an error, as is a config.json that does not parse.
 *
 * Threads: a struct dealview belongs to one thread (it opens its own
 * read connections: one view per request for the API).
 */
#ifndef EFS_DEALER_DEALVIEW_H
#define EFS_DEALER_DEALVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/bigint.h"
#include "core/cid.h"
#include "core/filaddr.h"
#include "dealer/config.h"
#include "dealer/deals.h"
#include "dealer/piece.h"

struct miner_event;
struct miner_perf;
struct miner_record;

/* ---- the filesystem's commit log, as the view reads it ---- */

/* One commit of the filesystem's log; borrowed for the callback. */
struct dealview_log_entry {
	int64_t id;
	struct cid root;
	const char *path;           /* its directory in the mount, or NULL */
	int64_t time;               /* unix seconds it was taken */
	uint64_t size;              /* bytes of its files */
};

typedef int (*dealview_log_cb)(const struct dealview_log_entry *e,
			       void *cls);

/*
 * Call cb for every commit of the filesystem's log in the index db_path
 * (fs/commit.h's commit_list, which the dealer may not call: the CLI and
 * the daemon pass an adapter).  cb's non-zero return stops the walk and
 * is returned.  NULL in dealview_open: only the dealer's commits.
 */
typedef int (*dealview_log_fn)(const char *db_path, dealview_log_cb cb,
			       void *cls);

struct dealview_note {
	int64_t piece_id;
	int64_t time;
	char *text;
};

struct dealview_live;

struct dealview {
	char *repo;                 /* the repository directory */
	char *db;                   /* its index.db */
	dealview_log_fn log;        /* the filesystem's log, or NULL */
	bool has_index;             /* index.db exists */
	struct dealer_config cfg;   /* config.json over the defaults */
	json_t *report;             /* the dealer's report, or NULL: it
				       never ran */
	struct deals *deals;        /* NULL: no deals table yet */
	struct piece_store *ps;     /* NULL: no piece tables yet */
	int64_t head;               /* chain height the dealer last read;
				       -1 unknown */
	int64_t now;                /* unix seconds, for the whole view */
	long daemon_pid;            /* the process holding the blockstore (the
				       daemon, a mount): 0 none, -1 unknown */
	bool no_notes;              /* skip the dealer's notes (--watch
				       needs none) */
	/* the dealer's notes, read in one scan when first needed, by
	 * piece ID */
	struct dealview_note *notes;
	size_t nnotes, notes_cap;
	bool notes_read;
	/* the live deals, read in one scan when first needed and sorted
	 * by piece (dealview.c) */
	struct dealview_live *live;
	size_t nlive, live_cap;
	bool live_read;
};

/*
 * Open the view of the repository repo (copied): config, report, deals
 * and pieces, each left NULL when the dealer has not written it; log
 * (may be NULL) is the filesystem's commit log.  Returns 0, EFS_EINVAL
 * (a config.json error: the message says which key), EFS_ECORRUPT
 * (index.db or the report is not what the dealer writes), EFS_ENOMEM or
 * db errors.  Release with dealview_release, also after an error.
 */
int dealview_open(struct dealview *v, const char *repo, dealview_log_fn log);

void dealview_release(struct dealview *v);

/* The report's object under key ("funds", "blocked", ...), or NULL.
 * Borrowed from v. */
json_t *dealview_report(const struct dealview *v, const char *key);

/*
 * When the report's "funds" were read (unix seconds): its own "time",
 * else the head's time when the heights agree (both are written by the
 * same cycle), else 0 (unknown).
 */
int64_t dealview_funds_time(const struct dealview *v);

/* ---- commits ---- */

struct dealview_commit {
	int64_t id;
	struct cid root;
	char *path;                 /* its directory in the mount when
				       taken, or NULL: not known here */
	int64_t time;               /* unix seconds it was taken; 0 unknown */
	uint64_t size;              /* bytes of its files; 0 unknown */
	bool in_store;              /* the dealer took it: pc is set */
	struct piece_commit_info pc;
};

struct dealview_commits {
	struct dealview_commit *v;
	size_t n, cap;
};

/*
 * Every commit, oldest first: those of the filesystem's log (v->log)
 * and those the dealer's piece store knows, merged by ID.  Returns 0,
 * EFS_ENOMEM, EFS_ECORRUPT or db errors.  Release with
 * dealview_commits_release.
 */
int dealview_list_commits(struct dealview_commits *out, struct dealview *v);
void dealview_commits_release(struct dealview_commits *c);

/* The commit with ID id in c (sorted by ID), or NULL. */
struct dealview_commit *dealview_commits_find(struct dealview_commits *c,
					      int64_t id);

/* ---- a commit's replication ---- */

/* One piece holding (part of) a commit, and its deals. */
struct dealview_piece {
	struct piece_info info;
	uint64_t share;             /* padded bytes of the commit in it: the
				       piece, or its data segment in an
				       aggregate */
	unsigned counting, active;  /* deals_count at v->head */
	unsigned live;              /* live deals, ACTIVE or not */
	char *note;                 /* the dealer's note, or NULL */
	int64_t note_time;
	/* the live, not yet active deal checked soonest (has_wait) */
	bool has_wait;
	struct filaddr wait_sp;
	enum deal_state wait_state;
	int64_t wait_check;
	/* the earliest epoch an active deal of it leaves the count (its
	 * end minus the renewal window); -1 none */
	int64_t renew_epoch;
};

struct dealview_state {
	struct dealview_piece *pieces;
	size_t npieces;
	unsigned want;              /* replication wanted */
	unsigned active, counting;  /* the least over its pieces; 0: none */
	uint64_t evicted_blocks, evicted_bytes;
	char next[512];             /* what the dealer will do next */
	bool next_from_dealer;      /* next is the dealer's own note */
};

/*
 * The replication of commit c: its pieces, their deals counted, its
 * evicted blocks and the next thing the dealer will do (its note for
 * the piece, or derived from the stage and the deals).  Returns 0,
 * EFS_ENOMEM, EFS_ECORRUPT or db errors.  Release with
 * dealview_state_release.
 */
int dealview_commit_state(struct dealview_state *out, struct dealview *v,
			  const struct dealview_commit *c);
void dealview_state_release(struct dealview_state *s);

/* The commit's stage: "queued" (not taken yet), or piece_stage_name. */
const char *dealview_stage_name(const struct dealview_commit *c);

/* ---- JSON: the objects `estuaryfs ... --json` and the API print ---- */

/*
 * The status header: dealer_ran, daemon_pid, daemon_running, the
 * report's network, head, funds, blocked, price and cycle, wanted
 * {replication, duration_epochs, verified} and cache {local_blocks,
 * local_bytes, evicted_blocks, evicted_bytes, size, min_active}.
 */
json_t *dealview_header_json(const struct dealview *v, bool *bad);

/*
 * A commit with its replication: id, path, root, time, stage, close_at,
 * car_size, blocks, padded, pieces [{id, cid, kind, padded, payload,
 * share_padded, ready, active, counting, live, note, note_time}], want,
 * active, counting, evicted_blocks, evicted_bytes, local, next,
 * next_source.
 */
json_t *dealview_commit_json(const struct dealview_commit *c,
			     const struct dealview_state *s, bool *bad);

/*
 * A deal: uuid, sp, state, reason, deal_id, piece_id, piece_cid,
 * padded, protocol, verified, start_epoch, end_epoch, price_per_epoch,
 * total_price, provider_collateral, proposal_cid, signed_proposal_cid,
 * sector_start_epoch, slash_epoch, created, updated, next_check,
 * failed_checks.
 */
json_t *dealview_deal_json(const struct deal *d, bool *bad);

/*
 * A deal's whole receipt (`estuaryfs deal show --json`): the deal's
 * object with history [{time, state, detail}], payload_root,
 * signed_proposal_hex, chain (the on-chain record as last read) and
 * chain_read.  Into *out; returns 0, EFS_ENOMEM or db errors.
 */
int dealview_receipt_json(json_t **out, struct dealview *v,
			  const struct deal *d);

/* The payload root of d: its piece's label, else the chain record's
 * Label, else "-". */
void dealview_payload_root(char *out, size_t cap, struct dealview *v,
			   const struct deal *d, json_t *chain);

/* The deal's total: price per epoch times its epochs.  0 or EFS_ERANGE. */
int dealview_deal_total(struct bigint *out, const struct deal *d);

/*
 * An SP as `estuaryfs miners --json` shows it: address, url, peer_id,
 * sector_size, source, ask, state, reachable, first_seen, last_seen,
 * backoff_until, fail_streak, reject_streak, disabled, disabled_reason,
 * log_rows, score, performance {...}.  now_ns: for its state text.
 */
json_t *dealview_miner_json(const struct miner_record *r, int64_t now_ns,
			    bool *bad);

/* The SP's state in words: "ok", "backed off until ...", "disabled:
 * ...", "no ask". */
void dealview_miner_state(char *out, size_t cap, const struct miner_record *r,
			  int64_t now_ns);

/* The share of settled deals that sealed, in percent; -1 none settled. */
int dealview_success_pct(const struct miner_perf *p);

/* One row of an SP's log: time, action, outcome, latency_us, bytes_up,
 * bytes_down, ... (miners.h). */
json_t *dealview_event_json(const struct miner_event *ev, bool *bad);

/* ---- cost estimates (`estuaryfs estimate`, POST /deals/estimate) ---- */

#define DEALVIEW_EST_PIECES_MAX 64

/* One piece the deals are for: its size on chain and the subject's share. */
struct dealview_est_size {
	uint64_t deal;              /* padded size of the piece dealt */
	uint64_t share;             /* padded bytes of it the subject fills */
};

/* One SP's offer for the whole subject. */
struct dealview_offer {
	struct filaddr sp;
	struct bigint price, vprice; /* per GiB per epoch */
	bool ok, vok;               /* eligible unverified, verified */
	struct bigint deal, vdeal;  /* one deal: per epoch * duration */
};

/*
 * What replicating a subject (a commit, a CID, a size) costs at the asks
 * the dealer recorded.  Fill n, duration and the sizes, then
 * dealview_est_offers; release with dealview_est_release.
 */
struct dealview_est {
	unsigned n;                 /* deals wanted */
	int64_t duration;           /* epochs */
	struct dealview_est_size sizes[DEALVIEW_EST_PIECES_MAX];
	size_t nsizes;
	bool aggregated;            /* (a share of) an aggregate */
	bool agg_open;              /* its aggregate is not closed yet: the
				       size dealt is its least */
	struct dealview_offer *offers;
	size_t noffers, cap;
};

/* Add a piece; 0 or EFS_ETOOBIG past DEALVIEW_EST_PIECES_MAX. */
int dealview_est_size_add(struct dealview_est *e, uint64_t deal,
			  uint64_t share);

/* The padded size of the least aggregate the dealer closes (cfg's
 * aggregate_below rounded up to a power of two). */
uint64_t dealview_est_agg_padded(const struct dealer_config *cfg);

/*
 * The pieces the dealer would make of a CAR of car_size bytes (piece.h's
 * rules: an aggregate share below aggregate_below, shards above
 * max_payload, else its own piece).  0 or EFS_ETOOBIG.
 */
int dealview_est_car(struct dealview_est *e, const struct dealer_config *cfg,
		     uint64_t car_size);

/*
 * The offers of the SPs the dealer could deal with (an endpoint, not
 * disabled or excluded, in the configured list if any, taking pieces of
 * every size), each priced for the sizes and duration: price per epoch
 * = ask * share / 2^30 (dealproto_price_per_epoch), times the duration;
 * eligible while within the configured caps.  Returns 0, EFS_ENOMEM or
 * db errors.
 */
int dealview_est_offers(struct dealview_est *e, const struct dealview *v);

/* The sum of the n cheapest eligible deals (sorts the offers); how many
 * there are. */
int dealview_est_total(struct bigint *out, unsigned *deals,
		       struct dealview_est *e, bool verified);

/*
 * The JSON of the estimate: "pieces" [{deal_padded, share_padded}],
 * "sps" [{sp, price_per_gib_epoch, verified_price_per_gib_epoch,
 * unverified {eligible, per_deal, usd}, verified {...}}], "unverified"
 * and "verified" {deals, fil, usd}, set into o.  fil_usd NULL: usd null.
 * Sorts the offers.  Returns 0 or EFS_ERANGE; allocation failures set
 * *bad.
 */
int dealview_est_json(json_t *o, struct dealview_est *e,
		      const double *fil_usd, bool *bad);

void dealview_est_release(struct dealview_est *e);

/* ---- JSON helpers ---- */

/* Set key to v (stolen); remembers a failure in *bad. */
void dealview_jset(json_t *o, const char *key, json_t *v, bool *bad);

/* JSON of unix seconds: "2025-06-01T12:00:03Z", null for t <= 0. */
json_t *dealview_jtime(int64_t t);

/* The same of nanoseconds. */
json_t *dealview_jtime_ns(int64_t ns);

/* A string or null. */
json_t *dealview_jstr(const char *s);

/* An integer, saturated at INT64_MAX. */
json_t *dealview_jint(uint64_t v);

/* A CID's string form. */
json_t *dealview_jcid(const struct cid *id);

/* An amount: {"attofil": "...", "fil": "... FIL"}. */
json_t *dealview_jamount(const struct bigint *a, bool *bad);

/* "2025-06-01 12:00:03" (UTC) of unix seconds t; "-" for t <= 0. */
void dealview_fmt_time(char *out, size_t cap, int64_t t);

/* A CID shortened for a table: "bafybeih...4xq2" (full when short). */
void dealview_fmt_short(char *out, size_t cap, const char *s);

#endif
