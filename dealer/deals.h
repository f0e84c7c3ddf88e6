/*
 * deals.h - the deal records: one row per deal the dealer ever proposed,
 * with its state, the signed proposal (the receipt), the on-chain record
 * as last read, the time of its next check, and the history of its
 * states.  The dealer's state machine (dealer.c) is the only writer; the
 * CLI reads.
 *
 * States, and what moves a deal between them:
 *
 *   PROPOSING --SP accepts--> ACCEPTED --SP pulls--> TRANSFERRING
 *       |                                                |
 *       | SP refuses: REJECTED              SP publishing: PUBLISHING
 *       |                                                |
 *       |                      deal ID on chain: PUBLISHED --sector--> ACTIVE
 *       |                                                                |
 *   any live state --error, StartEpoch passed unpublished--> FAILED      |
 *   ACTIVE --SlashEpoch set--> SLASHED;  --EndEpoch passed--> EXPIRED <--+
 *
 * PROPOSING is written, with the signed proposal and its UUID, before the
 * proposal is sent: a crash between the two leaves a row whose UUID the
 * dealer asks the SP about on restart (and re-sends the same signed
 * proposal if the SP never saw it), so a restart neither loses nor
 * duplicates a deal.
 *
 * A deal "counts" toward its piece's replication while it is live
 * (PROPOSING to ACTIVE) and not inside the renewal window before its
 * EndEpoch: an expiring deal stops counting, so a new one is made while
 * it is still active.
 *
 * Threads: struct deals is internally locked; any thread may call it.
 */
#ifndef EFS_DEALER_DEALS_H
#define EFS_DEALER_DEALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bigint.h"
#include "core/buf.h"
#include "core/cid.h"
#include "core/filaddr.h"
#include "core/mk12.h"

/* Deal UUIDs are mk12's (core/mk12.h: mk12_uuid_generate, _format). */
#define DEAL_UUID_LEN MK12_UUID_LEN

enum deal_state {
	DEAL_PROPOSING = 0,
	DEAL_ACCEPTED = 1,
	DEAL_TRANSFERRING = 2,
	DEAL_PUBLISHING = 3,
	DEAL_PUBLISHED = 4,
	DEAL_ACTIVE = 5,
	/* terminal */
	DEAL_REJECTED = 10,
	DEAL_FAILED = 11,
	DEAL_SLASHED = 12,
	DEAL_EXPIRED = 13,
};

/* "proposing", "accepted", ...; "unknown" for other values. */
const char *deals_state_name(enum deal_state s);

/* Parse a name back; false when it is not one. */
bool deals_state_parse(enum deal_state *out, const char *name);

static inline bool deal_state_live(enum deal_state s)
{
	return s <= DEAL_ACTIVE;
}

struct deal {
	int64_t id;                   /* local row id */
	uint8_t uuid[DEAL_UUID_LEN];
	int64_t piece_id;
	struct cid piece_cid;
	uint64_t padded;
	struct filaddr miner;
	char proto[16];               /* "mk12" */
	enum deal_state state;
	bool verified;
	struct bigint price;          /* attoFIL per epoch */
	struct bigint collateral;     /* provider collateral, attoFIL */
	int64_t start_epoch, end_epoch;
	struct cid proposal_cid;      /* blake2b over DealProposal */
	struct cid signed_cid;        /* sha2-256 over ClientDealProposal */
	struct buf proposal;          /* the signed ClientDealProposal CBOR */
	int64_t deal_id;              /* on chain; -1 before */
	int64_t sector_start;         /* -1 before */
	int64_t slash_epoch;          /* -1 unless slashed */
	char *chain_json;             /* StateMarketStorageDeal as last read */
	int64_t chain_at;             /* unix seconds of that read; 0 never */
	int64_t created, updated;     /* unix seconds */
	int64_t next_check;           /* unix seconds */
	unsigned attempts;            /* checks that failed in a row */
	char *reason;                 /* why it is in its state, or NULL */
};

/* Free what d owns (proposal, chain_json, reason) and zero it. */
void deals_release(struct deal *d);

/* Parse a UUID as users type it: the canonical 36-character form or
 * its 32 hex digits without hyphens.  0 or EFS_EINVAL. */
int deals_uuid_parse(uint8_t out[DEAL_UUID_LEN], const char *s);

struct deals;

/* Open over index.db (migrates the module "dealer_deals"). */
int deals_open(struct deals **out, const char *db_path);
/* Read-only, for the CLI while a daemon writes.  EFS_ENOTFOUND when the
 * dealer has never run. */
int deals_open_ro(struct deals **out, const char *db_path);
void deals_close(struct deals *ds);

/*
 * Record a new deal in d->state (normally PROPOSING); d->id is set.
 * Returns 0, EFS_EEXISTS (its UUID is recorded), db errors.
 */
int deals_insert(struct deals *ds, struct deal *d);

/*
 * Move deal id to state (the same state is allowed: it refreshes the
 * check time), with reason (may be NULL) and the next check; an event
 * row records the change when the state differs.  Returns 0,
 * EFS_ENOTFOUND, db errors.
 */
int deals_set_state(struct deals *ds, int64_t id, enum deal_state state,
		    const char *reason, int64_t next_check, int64_t now);

/* Record what the chain says: deal ID, sector start, slash epoch, and
 * the raw JSON (may be NULL). */
int deals_set_chain(struct deals *ds, int64_t id, int64_t deal_id,
		    int64_t sector_start, int64_t slash_epoch,
		    const char *json, int64_t now);

/* A check of id failed (the SP or chain could not be asked): count it,
 * keep the state, check again at next_check. */
int deals_check_failed(struct deals *ds, int64_t id, const char *reason,
		       int64_t next_check, int64_t now);

/* One deal by row id, UUID, on-chain ID or proposal CID (either form).
 * The caller releases out.  Returns 0, EFS_ENOTFOUND, db errors. */
int deals_get(struct deal *out, struct deals *ds, int64_t id);
int deals_find(struct deal *out, struct deals *ds, const char *key);

/*
 * Call cb for deals: of one piece (piece_id >= 0) or all (-1), live ones
 * only when live_only.  cb's deal is borrowed for the call; non-zero
 * from cb stops and is returned.
 */
int deals_foreach(struct deals *ds, int64_t piece_id, bool live_only,
		  int (*cb)(const struct deal *d, void *cls), void *cls);

/*
 * Call cb for the deals in state of the piece whose CID is piece_cid (as
 * the deals record it: v1, baga...), by row id: retrieval's question,
 * which SPs hold this piece (state DEAL_ACTIVE).  The CID is not
 * indexed: this reads the whole table, so callers cache the answer.
 * Same callback rules.
 */
int deals_foreach_piece_cid(struct deals *ds, const struct cid *piece_cid,
			    enum deal_state state,
			    int (*cb)(const struct deal *d, void *cls),
			    void *cls);

/*
 * Call cb for every deal of the piece whose CID is piece_cid, in any
 * state deals_state_name knows, by state then row id: what
 * deals_foreach_piece_cid gives state by state, in one read of the
 * table (/public/by-cid).  Same callback rules.
 */
int deals_foreach_piece_cid_any(struct deals *ds, const struct cid *piece_cid,
				int (*cb)(const struct deal *d, void *cls),
				void *cls);

/* Live deals whose next check is due at now, oldest first, at most
 * limit; same callback rules. */
int deals_foreach_due(struct deals *ds, int64_t now, size_t limit,
		      int (*cb)(const struct deal *d, void *cls), void *cls);

/* Deals not yet published (PROPOSING to PUBLISHING), in row order:
 * what the escrow and DataCap will still have to cover.  Same callback
 * rules. */
int deals_foreach_pending(struct deals *ds,
			  int (*cb)(const struct deal *d, void *cls),
			  void *cls);

/*
 * Set the next check of deals ids[0..n) to next_check in one
 * transaction, as a check that found nothing new does: their failed
 * attempts are cleared and, when chain_at > 0, the time of their chain
 * record is set to it.  Returns 0 or db errors.
 */
int deals_reschedule(struct deals *ds, const int64_t *ids, size_t n,
		     int64_t next_check, int64_t chain_at, int64_t now);

/*
 * How many deals of piece_id count toward replication at chain height
 * head (live, and ACTIVE ones not within renew_window of their end), and
 * how many of those are ACTIVE.
 */
int deals_count(unsigned *counting, unsigned *active, struct deals *ds,
		int64_t piece_id, int64_t head, int64_t renew_window);

/* Deals per state (indexed by enum deal_state), their padded bytes and
 * the distinct SPs holding them. */
#define DEALS_NSTATES (DEAL_EXPIRED + 1)
struct deals_state_counts {
	uint64_t deals[DEALS_NSTATES];
	uint64_t padded[DEALS_NSTATES];
	uint64_t miners[DEALS_NSTATES];
};

/* Every deal counted by state, in one query (the REST stats, /metrics).
 * Returns 0 or db errors. */
int deals_count_states(struct deals_state_counts *out, struct deals *ds);

/* True when miner holds a live deal for piece_id, or one that failed
 * or was rejected since `since` (unix seconds). */
int deals_miner_has(bool *out, struct deals *ds, int64_t piece_id,
		    const struct filaddr *miner, int64_t since);

/* The state history of deal id: cb(time, state, detail). */
int deals_events(struct deals *ds, int64_t id,
		 int (*cb)(int64_t time, enum deal_state s,
			   const char *detail, void *cls),
		 void *cls);

#endif
