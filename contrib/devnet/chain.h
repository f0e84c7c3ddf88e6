/*
 * chain.h - the devnet chain's calls that the JSON-RPC methods use
 * (beyond the ones devnet.h shares with the storage-provider half).
 *
 * Every function takes d->lock itself and runs on d->db: call with the
 * lock not held.  Functions named chain_*_locked are for chain*.c, called
 * with d->lock held.  Errors: EFS_ENOTFOUND with Lotus' wording in the
 * message where the RPC method passes it on ("actor not found"), db
 * errors otherwise.
 */
#ifndef EFS_DEVNET_CHAIN_H
#define EFS_DEVNET_CHAIN_H

#include <time.h>

#include "contrib/devnet/devnet.h"
#include "core/buf.h"
#include "core/filmsg.h"
#include "core/filsig.h"

/* ---- settings (the devnet_meta table; chain.c), lock held ---- */

int chain_meta_get(struct devnet *d, char *out, size_t cap, const char *key);
int chain_meta_get_i64(struct devnet *d, int64_t *out, const char *key);
int chain_meta_set(struct devnet *d, const char *key, const char *value);
int chain_meta_set_i64(struct devnet *d, const char *key, int64_t v);

/*
 * The key address (f1) behind address a: a itself when it is one, the
 * account's key address when a is an f0 ID of an account actor.
 * Returns 0, EFS_ENOTFOUND (no such actor, or not an account) or a db
 * error.
 */
int chain_account_key(struct devnet *d, struct filaddr *out,
		      const struct filaddr *a);

/* Actor kinds (the "Code" of an actor). */
enum chain_actor_kind {
	CHAIN_ACTOR_SYSTEM = 0,  /* f00 system, f05 market, f06 verifreg,
				  * f099 burnt funds */
	CHAIN_ACTOR_ACCOUNT = 1,
	CHAIN_ACTOR_MINER = 2,
};

/* The burnt-funds actor f099, where slashed collateral goes. */
#define CHAIN_BURNT_ID 99
/* The verified registry f06. */
#define CHAIN_VERIFREG_ID 6
/* IDs handed to new accounts start here. */
#define CHAIN_FIRST_ACCOUNT_ID 1100

struct chain_actor {
	uint64_t id;
	enum chain_actor_kind kind;
	bool has_key;                /* accounts: key is their f1 address */
	struct filaddr key;
	struct bigint balance;
	uint64_t nonce;
};

/*
 * Resolve a (f0 or f1) to its actor.  Returns 0, EFS_ENOTFOUND ("actor
 * not found") or a db error.  chain_actor_get_locked: the same, lock
 * held.
 */
int chain_actor_get(struct devnet *d, struct chain_actor *out,
		    const struct filaddr *a);
int chain_actor_get_locked(struct devnet *d, struct chain_actor *out,
			   const struct filaddr *a);

/* The actor with ID id, lock held.  0, EFS_ENOTFOUND or a db error. */
int chain_actor_by_id_locked(struct devnet *d, struct chain_actor *out,
			     uint64_t id);

/*
 * The actor of a, created as an account when a is an f1 address not
 * seen before (as a transfer to a new address does).  Lock held.
 * Returns 0, EFS_ENOTFOUND (an unknown f0, or another protocol) or a
 * db error.
 */
int chain_actor_ensure_locked(struct devnet *d, struct chain_actor *out,
			      const struct filaddr *a);

/*
 * The faucet: add amount (attoFIL, or bytes of DataCap when datacap) to
 * a's balance or DataCap, creating its account if a is a new f1
 * address.  *id gets its actor ID, *now the new balance / DataCap.
 * Returns 0, EFS_EINVAL (negative amount), EFS_ENOTFOUND (an unknown
 * f0, or an f2/f3/f4 address) or a db error.
 */
int chain_grant(struct devnet *d, uint64_t *id, struct bigint *now,
		const struct filaddr *a, const struct bigint *amount,
		bool datacap);

/* Set the FIL/USD rate of GET /price and keep it for restarts. */
int chain_set_fil_usd(struct devnet *d, double rate);

/* Add delta (may be negative) to the actor's balance; lock held.
 * EFS_EINVAL when the balance would go negative. */
int chain_balance_add_locked(struct devnet *d, uint64_t id,
			     const struct bigint *delta);

/* Set the actor's nonce; lock held. */
int chain_nonce_set_locked(struct devnet *d, uint64_t id, uint64_t nonce);

/* Market escrow of an actor (zero when it has none). */
struct chain_escrow {
	struct bigint escrow;
	struct bigint locked;
};

int chain_escrow_get_locked(struct devnet *d, struct chain_escrow *out,
			    uint64_t id);
int chain_escrow_put_locked(struct devnet *d, uint64_t id,
			    const struct chain_escrow *e);

/*
 * A verified client's remaining DataCap: *is_client false when the
 * actor is not one (StateVerifiedClientStatus returns null then).
 */
int chain_datacap_get_locked(struct devnet *d, struct bigint *out,
			     bool *is_client, uint64_t id);
int chain_datacap_put_locked(struct devnet *d, uint64_t id,
			     const struct bigint *v);

/* Big integers kept as decimal text in sqlite. */
int chain_bigint_column(struct bigint *out, sqlite3_stmt *st, int col);
int chain_bigint_bind(sqlite3_stmt *st, int col, const struct bigint *v);

/* Every miner's ID, in order, is d->miners; nothing to query. */

/* Advance the chain one epoch now (the clock's tick; Devnet.Mine);
 * lock held.  0 or a db error (the state stays at the old head). */
int chain_tick_locked(struct devnet *d);

/* ---- tipsets ---- */

/*
 * Each epoch has a tipset of one block, whose CID is derived from the
 * height.  chain_timestamp: when the epoch began (unix seconds; the
 * latest epoch at or below height).  chain_tipset_height: the height of
 * a block CID, or EFS_ENOTFOUND ("loading tipset {cid}: not found").
 */
void chain_block_cid(struct cid *out, int64_t height);
int chain_timestamp(struct devnet *d, uint64_t *out, int64_t height);
/* Record the tipset at height h: now, and its block CID.  Lock held. */
int chain_tipset_insert_locked(struct devnet *d, int64_t h);
int chain_tipset_height(struct devnet *d, int64_t *out, const struct cid *c);

/* ---- messages (chain_msg.c) ---- */

/* What a node knows about a message it took. */
struct chain_msg_info {
	struct cid cid;
	uint64_t from;              /* sender's actor ID */
	uint64_t nonce;
	int64_t height;             /* epoch of the tipset it landed in;
				     * -1 while pending */
	int64_t exit_code;
	struct buf ret;             /* receipt Return bytes (owned) */
	int64_t gas_used;
	char *json;                 /* the Message as JSON text (owned) */
};

void chain_msg_info_release(struct chain_msg_info *m);

/* The gas a message to actor to_id (0 if not an ID address) calling
 * method uses: what GasEstimateMessageGas bases its limit on. */
int64_t chain_msg_gas(uint64_t to_id, uint64_t method);

/*
 * Take a signed message (MpoolPush).  Checks the signature (over the
 * unsigned message's CID bytes) against the sender's key address, gas
 * limit and fee cap, the nonce (the next one, pending messages counted)
 * and that the balance covers value + gas limit x fee cap over what is
 * pending.  The message is applied at the next epoch; a message already
 * taken is accepted again without effect.  Returns 0, EFS_EINVAL or
 * EFS_ENOTFOUND with Lotus' message ("mpool push: ..."), or a db error.
 */
struct chain_msg_in {
	const struct filmsg *msg;
	struct filsig sig;
	struct cid cid;             /* the signed message's CID */
	struct cid unsigned_cid;    /* what the signature covers */
	const char *json;           /* the Message as JSON (stored) */
};

int chain_msg_push(struct devnet *d, const struct chain_msg_in *m);

/* The next nonce for a (state nonce plus its pending messages). */
int chain_msg_next_nonce(struct devnet *d, uint64_t *out,
			 const struct filaddr *a);

/* Look a message up.  0, EFS_ENOTFOUND or a db error; release *out. */
int chain_msg_get(struct devnet *d, struct chain_msg_info *out,
		  const struct cid *c);

/* Apply the messages taken before epoch `height`; lock held, inside the
 * tick's transaction. */
int chain_msg_apply_locked(struct devnet *d, int64_t height);

/* ---- market (market.c) ---- */

/* Settle deals at the new head: drop deals not activated by their
 * start, pay out and drop expired ones.  Lock held, in the tick's
 * transaction. */
int market_tick_locked(struct devnet *d, int64_t height);

/* Padded bytes of the active (activated, not slashed) deals of miner
 * id (0: every miner), and how many of those are verified. */
int market_deal_bytes(struct devnet *d, uint64_t *all, uint64_t *verified,
		      uint64_t id);

/* Escrow moves a message asks for (the market actor's AddBalance, open
 * to any sender, and WithdrawBalance, by the client or the miner's
 * owner `from`); lock held.  Return the exit code or a db error. */
int market_add_balance_locked(struct devnet *d, const uint8_t *params,
			      size_t len, const struct bigint *value);
int market_withdraw_locked(struct devnet *d, uint64_t from,
			   const uint8_t *params, size_t len,
			   struct buf *ret);

/* ---- bulk injection (market.c; Devnet.InjectDeals) ---- */

/* Most deals one market_inject call makes. */
#define MARKET_INJECT_MAX 100000
/* The term of an injected deal when none is given: about a year. */
#define MARKET_INJECT_TERM 1051200

struct market_inject_piece {
	struct cid cid;              /* piece CID v1 (baga...) */
	uint64_t size;               /* padded bytes, a power of two */
	const char *label;           /* DealLabel text (borrowed), may be
				      * NULL: "" */
	size_t label_len;
};

struct market_inject {
	struct filaddr client;       /* f1 (made an account if new) or f0 */
	const uint64_t *providers;   /* miner actor IDs, distinct */
	size_t nproviders;
	const struct market_inject_piece *pieces;
	size_t npieces;
	bool has_start;              /* else StartEpoch = the head */
	int64_t start;
	int64_t end;                 /* 0: start + MARKET_INJECT_TERM */
	bool verified;
};

/*
 * Make npieces x nproviders deals that are active at once (for load
 * tests): one per piece and provider, piece-major (deal i * nproviders
 * + j is piece i with provider j), each as a published proposal of the
 * client's with price and collaterals 0 (no escrow is locked and no
 * DataCap taken, so their settlement moves nothing), SectorStartEpoch
 * the head and sector number its deal ID.  Their proposal CIDs are
 * mk12_proposal_cid of those proposals, so a deal that exists already
 * is refused as PublishStorageDeals refuses it.  All or nothing, in one
 * transaction under the chain lock.  ids (npieces x nproviders) gets
 * their IDs, *head the SectorStartEpoch.  Returns 0, EFS_EINVAL (a
 * provider that is not a miner or given twice, a bad piece size or
 * label, end not after start and the head, too many deals; the message
 * says which), EFS_EEXISTS (a duplicate), EFS_ENOTFOUND (an unknown f0
 * client) or db errors.
 */
int market_inject(struct devnet *d, uint64_t *ids, int64_t *head,
		  const struct market_inject *in);

#endif
