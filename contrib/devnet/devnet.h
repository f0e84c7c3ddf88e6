/*
 * devnet.h - what the two halves of estuaryfs-devnet share: the devnet
 * itself (configuration, state database, miners), the chain and market
 * calls the simulated storage providers make, and the entry points of the
 * storage-provider half that main.c calls.
 *
 * The program is one process:
 *
 *	main.c ── devnet*.c state directory, genesis, miners, faults, faucet
 *	   ├───── chain*.c  chain clock, actors, balances, messages, DataCap
 *	   ├───── market.c  market escrow and deals (sqlite: one connection
 *	   │                behind d->lock for all three)
 *	   ├───── rpc*.c    Lotus JSON-RPC at /rpc/v0 and /rpc/v1, admin
 *	   │                Devnet.* methods, GET /price (main HTTP server)
 *	   ├───── ipni.c    GET /cid/{cid}, /multihash/{mh} (main HTTP server)
 *	   └───── sp*.c     one HTTP server per miner: /market/mk12/...,
 *	                    /piece/{cid}, /ipfs/{cid}; pulls CARs, seals
 *
 * Addresses: miners are f0<1000+i> (i = 0 .. nminers-1), each with a
 * secp256k1 worker (= owner) account.  Addresses are printed with the
 * network letter d->net ('f' by default, 't' with --network t); both
 * letters are accepted on input, as go-address does.
 *
 * Threads: HTTP handlers run on libmicrohttpd's threads (one per
 * connection), the chain clock on its own thread.  Everything in struct
 * devnet is set up before any thread starts and is immutable afterwards,
 * except the fields marked "d->lock".  The chain_* and market_* calls lock
 * internally: call them with d->lock NOT held.
 */
#ifndef EFS_DEVNET_H
#define EFS_DEVNET_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/bigint.h"
#include "core/cid.h"
#include "core/db.h"
#include "core/filaddr.h"
#include "core/filkey.h"
#include "core/mk12.h"

struct http_req;
struct http_server;

/* First miner actor ID: miners are f01000, f01001, ... */
#define DEVNET_MINER_ID0 1000
/* Most simulated miners one devnet runs. */
#define DEVNET_MINERS_MAX 64
/* The storage market actor (f05): AddBalance messages go to it. */
#define DEVNET_MARKET_ID 5
/* Longest deal label the market accepts (go-state-types DealMaxLabelSize). */
#define DEVNET_LABEL_MAX 256
/* Room for a libp2p peer ID string ("12D3KooW..."), NUL included. */
#define DEVNET_PEER_ID_MAX 64

/*
 * Faults one simulated SP can be told to show, from the command line or
 * at runtime (admin RPC Devnet.SetFault).  Percentages are 0..100; the
 * SP draws a fresh random number for each proposal / request.
 */
struct devnet_fault {
	unsigned reject_pct;      /* reject this share of deal proposals */
	bool fail_transfer;       /* accept, then fail the data transfer */
	bool never_seal;          /* publish the deal, never activate it */
	bool slash;               /* slash each deal once it is active */
	bool offline;             /* answer no HTTP request (drop them) */
	unsigned slow_ms;         /* wait this long before every reply */
	unsigned http429_pct;     /* answer this share of requests 429 */
	bool corrupt_retrieval;   /* flip bytes in /piece and /ipfs replies */
	bool truncate_retrieval;  /* cut /piece and /ipfs replies short */
	bool garbage_market;      /* answer /market/mk12 requests with an
				   * HTML page (200), as a misconfigured
				   * proxy in front of an SP does */
	uint64_t min_piece;       /* not a fault: the ask's minimum piece
				   * size (padded bytes) in place of the
				   * miner's own; 0: its own */
};

/*
 * One simulated storage provider.  Everything but `fault` and `sp` is
 * fixed when the devnet opens (loaded from, or created in, the state
 * database) and never changes while it runs.
 */
struct devnet_miner {
	uint64_t id;                  /* actor ID: DEVNET_MINER_ID0 + index */
	struct filaddr addr;          /* f0<id> */
	uint64_t worker_id;           /* the worker (= owner) account's ID */
	struct filkey worker;         /* its key (signs asks: filkey_sign);
				       * worker.addr is its f1 address */
	char peer_id[DEVNET_PEER_ID_MAX]; /* "12D3KooW..." (no real host) */
	uint16_t port;                /* the SP's HTTP port on d->host; 0
				       * until sp_start picks one */
	struct bigint price;          /* ask: attoFIL per GiB per epoch */
	struct bigint verified_price; /* the same for verified deals */
	uint64_t min_piece;           /* padded bytes */
	uint64_t max_piece;           /* padded bytes */
	uint64_t sector_size;         /* bytes (power of two) */
	int64_t seal_delay;           /* epochs from data received to active */
	struct devnet_fault fault;    /* d->lock; read with devnet_fault_get */
	void *sp;                     /* the SP half's state (sp_start) */
};

struct devnet {
	/* configuration (the command line, then the state database) */
	char *dir;                  /* state directory (owned) */
	char *db_path;              /* dir/devnet.db (owned) */
	char host[64];              /* listen address, "127.0.0.1" */
	uint16_t port;              /* the Lotus API port (0: ephemeral) */
	unsigned epoch_ms;          /* chain clock period */
	char net;                   /* address network letter: 'f' or 't' */
	bool listen_given;          /* host/port from the command line win
				     * over the saved ones */
	bool fil_usd_given;         /* fil_usd too */

	struct devnet_miner *miners; /* nminers of them (owned) */
	size_t nminers;

	/* runtime */
	pthread_mutex_t lock;       /* guards the fields below it */
	pthread_cond_t head_cond;   /* broadcast on each new epoch / stop */
	struct db *db;              /* d->lock: the chain's connection */
	int64_t head;               /* d->lock: current epoch */
	bool stopping;              /* d->lock: shutting down */
	double fil_usd;             /* d->lock: GET /price rate */

	pthread_t clock;            /* the chain clock thread */
	bool clock_running;
	struct http_server *api;    /* the Lotus API server */
	uint8_t jwt_secret[32];     /* HS256 key (dir/jwt.secret, 0600) */
};

/* ---- devnet lifecycle (devnet.c, devnet_fault.c) ---- */

/*
 * Open or create the devnet in d->dir (the caller fills the
 * configuration fields of a zeroed d first; nminers is used only when
 * the state is new).  Creates the state database and the JWT secret,
 * or loads them: miners, balances, deals and head are those of the last
 * run.  Returns 0 or a negative efs code; on failure d is released.
 */
int devnet_open(struct devnet *d);

/* Start the chain clock thread.  0 or EFS_EIO. */
int devnet_clock_start(struct devnet *d);

/*
 * Begin shutting down: set d->stopping, wake every chain_wait_head
 * waiter, stop the clock thread (waits for the current tick).
 */
void devnet_stop(struct devnet *d);

/* devnet_stop, then free everything in d.  Fine on a closed d. */
void devnet_close(struct devnet *d);

/* Persist d->host/port (the API address) and m->port, for restarts. */
int devnet_save_api(struct devnet *d);
int devnet_miner_save_port(struct devnet *d, const struct devnet_miner *m);

/*
 * Open an extra connection to the state database (for a thread of the SP
 * half that wants its own tables: use db_migrate with module "sp").
 * *out belongs to the caller (db_close); one thread at a time.
 */
int devnet_db_open(struct devnet *d, struct db **out);

/* The miner with actor ID id, or NULL. */
struct devnet_miner *devnet_miner_find(struct devnet *d, uint64_t id);

/* The minimum piece size m asks for now: fault.min_piece when set
 * (--min-piece, Devnet.SetFault), else m->min_piece. */
uint64_t devnet_min_piece(struct devnet *d, const struct devnet_miner *m);

/* Largest fault.min_piece: a 64 GiB sector. */
#define DEVNET_MIN_PIECE_MAX (1ull << 36)

/* Whether v may be a fault.min_piece: 0 (the miner's own), or a padded
 * piece size (commp_padded_valid) up to DEVNET_MIN_PIECE_MAX. */
bool devnet_min_piece_valid(uint64_t v);

/* A copy of m's faults, taken under d->lock. */
void devnet_fault_get(struct devnet *d, const struct devnet_miner *m,
		      struct devnet_fault *out);

/* Replace m's faults and persist them.  0 or a db error. */
int devnet_fault_set(struct devnet *d, struct devnet_miner *m,
		     const struct devnet_fault *f);

/*
 * Faults as JSON: {"reject_pct":100,"offline":true,...} with the field
 * names of struct devnet_fault.  from_json starts from *out and changes
 * only the fields present; unknown fields or wrong types are EFS_EINVAL
 * with a message naming the field.  to_json returns a new reference or
 * NULL (out of memory).
 */
int devnet_fault_from_json(struct devnet_fault *out, const json_t *j);
json_t *devnet_fault_to_json(const struct devnet_fault *f);

/* --fault MINER=JSON: miner[0..mlen) is an address ("f01001"). */
int devnet_fault_parse_apply(struct devnet *d, const char *miner,
			     size_t mlen, const char *json);

/*
 * Credit addr (string form; an f1 address gets an account, and an ID,
 * on first use) with amount (bigint_parse_fil forms: "100", "0.5 FIL",
 * "5 attoFIL").  A line saying what happened goes to msg.  Returns 0,
 * EFS_EINVAL (bad address or amount) or a db error.
 */
int devnet_faucet(struct devnet *d, char *msg, size_t msglen,
		  const char *addr, const char *amount);

/* Make addr a verified client and add bytes (decimal) of DataCap. */
int devnet_grant_datacap(struct devnet *d, char *msg, size_t msglen,
			 const char *addr, const char *bytes);

/* ---- chain (chain.c) ---- */

/* The current epoch. */
int64_t chain_head(struct devnet *d);

/*
 * Wait until the head passes `after` or timeout_ms elapse or the devnet
 * stops.  Returns the head then (compare it with after).
 */
int64_t chain_wait_head(struct devnet *d, int64_t after,
			unsigned timeout_ms);

/* True once the devnet is shutting down (threads should return). */
bool devnet_stopping(struct devnet *d);

/* ---- storage market (market.c) ---- */

/* Market deal state, as StateMarketStorageDeal returns it. */
struct market_deal {
	uint64_t id;
	struct cid proposal_cid;    /* the DealProposal's CID
				     * (mk12_proposal_cid) */
	struct cid piece_cid;
	uint64_t piece_size;        /* padded */
	bool verified;
	uint64_t client;            /* client's actor ID */
	uint64_t provider;          /* miner's actor ID */
	char label[DEVNET_LABEL_MAX + 1]; /* label_len bytes, then NUL */
	size_t label_len;
	bool label_is_bytes;        /* a byte-string DealLabel */
	int64_t start_epoch;
	int64_t end_epoch;
	struct bigint price_per_epoch;
	struct bigint provider_collateral;
	struct bigint client_collateral;
	int64_t sector;             /* sector number, 0 before activation */
	int64_t sector_start_epoch; /* -1 until activated */
	int64_t last_updated_epoch; /* -1 */
	int64_t slash_epoch;        /* -1 unless slashed */
};

/*
 * Publish a deal as PublishStorageDeals would (the SP has already
 * checked the client's signature).  proposal_cid is mk12_proposal_cid(p);
 * a second deal with the same one is refused, as the market actor
 * does.  Checks: the provider is a devnet miner; start epoch not
 * passed; end after start; the client's escrow
 * (free part) covers price x (end - start) + client collateral, which is
 * then locked; the provider's collateral is within bounds; a verified
 * deal's padded size is within the client's DataCap, which is deducted.
 * The deal is recorded with SectorStartEpoch and SlashEpoch -1.
 *
 * On success returns 0 and the new deal ID in *deal_id.  On refusal
 * returns EFS_EINVAL and a one-line reason in why (also the efs error
 * message), e.g. "not enough client escrow: need 25 have 10"; other
 * negative codes for database errors.
 */
int market_publish(struct devnet *d, const struct mk12_proposal *p,
		   const struct cid *proposal_cid, uint64_t *deal_id,
		   char *why, size_t whylen);

/*
 * The deal is in a proven sector now: SectorStartEpoch = head, sector
 * number `sector`.  Returns 0, EFS_ENOTFOUND (no such deal, or it is
 * gone: expired or start epoch missed) or EFS_EINVAL (already active or
 * slashed).
 */
int market_activate(struct devnet *d, uint64_t deal_id, uint64_t sector);

/*
 * Slash the deal: SlashEpoch = head; the provider's collateral is burnt
 * and the client's remaining payment unlocked.  Returns 0,
 * EFS_ENOTFOUND or EFS_EINVAL (not active, or already slashed).
 */
int market_slash(struct devnet *d, uint64_t deal_id);

/*
 * Provider collateral bounds for a deal of padded_size bytes, as
 * StateDealProviderCollateralBounds reports them (Min over-estimated by
 * 10%, as Lotus does; market_publish accepts from Min / 1.1 up to Max).
 * Returns 0 or EFS_ERANGE.
 */
int market_collateral_bounds(struct devnet *d, struct bigint *min,
			     struct bigint *max, uint64_t padded_size,
			     bool verified);

/* The deal's state.  Returns 0, EFS_ENOTFOUND (none, or gone). */
int market_deal_get(struct devnet *d, struct market_deal *out,
		    uint64_t deal_id);

/* ---- storage-provider half (sp*.c, ipni.c; the "sp" engineer's) ---- */

/*
 * Start miner m's HTTP server on d->host, port m->port (0: pick one and
 * store it in m->port; main.c persists it, so restarts reuse it), with
 * its threads.  Called by main.c after devnet_open, once per miner,
 * before the chain clock starts.  Returns 0 or a negative efs code.
 */
int sp_start(struct devnet *d, struct devnet_miner *m);

/* Stop miner m's server and threads; before devnet_close.  Idempotent. */
void sp_stop(struct devnet *d, struct devnet_miner *m);

/*
 * Serve an IPNI request that reached the Lotus API server: the paths
 * /cid/..., /multihash/... and /routing/v1/...  Replies through
 * http_reply* (net/http.h) and returns true; returns false when the path is
 * not an IPNI path (main.c then answers 404).
 */
bool ipni_handle(struct devnet *d, struct http_req *req);

#endif
