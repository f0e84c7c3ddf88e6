/*
 * lotus.h - the dealer's chain client: Lotus JSON-RPC v1 over HTTP POST
 * (through net/httpc.h), with a bearer token, one call at a time or in
 * JSON-RPC batches, and typed wrappers for the methods the dealer uses.
 *
 *	struct lotus *l;
 *	int64_t head;
 *	if ((rc = lotus_open_info(&l, getenv("FULLNODE_API_INFO"))) < 0 ||
 *	    (rc = lotus_chain_head(&head, l)) < 0)
 *		...          // efs_error_msg() says why, in one line
 *	lotus_close(l);
 *
 * Errors, for every call:
 *	EFS_ERROR        the method failed on the node: "lotus:
 *	                 Filecoin.X: <Lotus' message> (code N)"
 *	EFS_ENOTFOUND    the node says what was asked for does not exist
 *	                 ("actor not found", "deal N not found", a message
 *	                 it never saw); same message form
 *	EFS_EUNSUPPORTED the node has no such method (-32601)
 *	EFS_EINVAL       the token was refused (HTTP 401/403) or lacks the
 *	                 method's permission ("missing permission to
 *	                 invoke"): the message says which token to make
 *	EFS_ECORRUPT     the reply is not what Lotus sends: not JSON, a
 *	                 wrong envelope or id, a field of the wrong type
 *	                 ("lotus: StateMinerInfo: SectorSize: ...")
 *	EFS_EIO          an HTTP status other than 200 without a JSON-RPC
 *	                 error in it, or httpc's transport errors
 *	EFS_ETIMEDOUT, EFS_ETOOBIG (reply over the cap), EFS_ENOMEM
 *
 * Only the v1 API is spoken (StateSearchMsg has v1's parameters).
 * Addresses are sent with the network letter 'f' (Lotus reads 'f' and
 * 't' alike).
 *
 * Threads: a struct lotus may be used by any number of threads at once
 * (each request has its own curl handle; the counters are atomic);
 * lotus_set_limits must be called before it is shared.  A struct
 * lotus_batch belongs to one thread.  httpc_global_init must have run.
 */
#ifndef EFS_LOTUS_H
#define EFS_LOTUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/bigint.h"
#include "core/cid.h"
#include "core/filaddr.h"
#include "core/filmsg.h"

struct lotus;
struct lotus_batch;

/* Cap on one reply body. */
#define LOTUS_REPLY_MAX ((size_t)32 << 20)
/* Timeout of one request. */
#define LOTUS_TIMEOUT_MS 60000u
/* Calls per batch request; bigger batches are sent in chunks. */
#define LOTUS_BATCH_MAX 500
/* Longest token (a Lotus JWT is about 150 bytes). */
#define LOTUS_TOKEN_MAX 4096

/*
 * Connect to url, "http://host:port/rpc/v1" (https too), with token (a
 * JWT; NULL or "" for none: Lotus then allows "read" methods only).
 * Nothing is sent yet.  Returns 0, EFS_EINVAL (not an http(s) URL, a
 * token with control characters or over LOTUS_TOKEN_MAX) or EFS_ENOMEM.
 * Close with lotus_close.
 */
int lotus_open(struct lotus **out, const char *url, const char *token);

/*
 * As lotus_open, from Lotus' FULLNODE_API_INFO form
 * "<token>:/ip4/127.0.0.1/tcp/1234/http" (what the devnet writes to
 * <dir>/api with its token): the token is optional (a bare multiaddr),
 * the multiaddr is /ip4, /ip6, /dns, /dns4 or /dns6, then /tcp/PORT,
 * then optionally /http, /ws (plain) or /https, /wss (TLS); a URL
 * "http://host:port" is also taken.  /rpc/v1 is appended.  Returns 0,
 * EFS_EINVAL (with what is wrong) or EFS_ENOMEM.
 */
int lotus_open_info(struct lotus **out, const char *api_info);

/* NULL is fine. */
void lotus_close(struct lotus *l);

struct lotus_limits {
	size_t max_reply;     /* bytes of one reply (0: LOTUS_REPLY_MAX) */
	unsigned timeout_ms;  /* one request (0: LOTUS_TIMEOUT_MS) */
	size_t batch_max;     /* calls per request (0: LOTUS_BATCH_MAX) */
};

/* Change the limits; before l is shared between threads. */
void lotus_set_limits(struct lotus *l, const struct lotus_limits *lim);

/* The endpoint's URL (borrowed, as long as l is open). */
const char *lotus_url(const struct lotus *l);

/* The token it sends, or NULL when it sends none. */
const char *lotus_token(const struct lotus *l);

/* HTTP requests sent, and JSON-RPC calls in them (a batch of n is one
 * request and n calls), since lotus_open. */
uint64_t lotus_requests(const struct lotus *l);
uint64_t lotus_calls(const struct lotus *l);

/*
 * Call Filecoin.<method> (a name with a '.' in it, such as the
 * devnet's "Devnet.Faucet", is sent as it is) with params (a JSON array,
 * stolen, also on failure; NULL for []).  On success *out is the result, a new reference
 * (NULL for a null result).  Errors as above.
 */
int lotus_call(json_t **out, struct lotus *l, const char *method,
	       json_t *params);

/* ---- batches: many calls in one request ---- */

/* An empty batch.  0 or EFS_ENOMEM. */
int lotus_batch_new(struct lotus_batch **out);

/*
 * Add a call of Filecoin.<method> with params (stolen, also on failure;
 * NULL for []).  Returns its index (0, 1, ...) or EFS_ENOMEM.
 */
int lotus_batch_add(struct lotus_batch *b, const char *method,
		    json_t *params);

/* Calls in b. */
size_t lotus_batch_count(const struct lotus_batch *b);

/*
 * Send every call not yet answered, at most batch_max per request.
 * Returns 0 when every request got a batch reply (each entry then has
 * its own result or error: lotus_batch_result), or the error of the
 * first request that did not (transport, HTTP, a malformed or mismatched
 * reply; a whole-batch JSON-RPC error); that error is also the result of
 * each of its entries and of those after it, which are not sent.  A
 * batch may be run again after adding to it: only new calls are sent.
 */
int lotus_batch_run(struct lotus *l, struct lotus_batch *b);

/*
 * Entry i's outcome: 0 with *out its result (borrowed, valid until
 * lotus_batch_free; NULL for null), or its error code, whose message
 * becomes this thread's last error.  An entry not run yet is
 * EFS_EINVAL.
 */
int lotus_batch_result(json_t **out, struct lotus_batch *b, size_t i);

/* NULL is fine. */
void lotus_batch_free(struct lotus_batch *b);

/* ---- typed calls: results decoded strictly ---- */

/* ChainHead: the head's height. */
int lotus_chain_head(int64_t *out, struct lotus *l);

/* StateListMiners at the head: a new array (efs_free it) of *n miners
 * (NULL when none). */
int lotus_list_miners(struct filaddr **out, size_t *n, struct lotus *l);

/* A binary multiaddr (varint protocol code, then its value). */
struct lotus_multiaddr {
	uint8_t *bytes;             /* owned by the miner info */
	size_t len;
};

/* Most multiaddrs and bytes of them a miner info may carry (the miner
 * actor allows 1024 bytes in all). */
#define LOTUS_MULTIADDRS_MAX 64
#define LOTUS_MULTIADDR_BYTES_MAX 4096
/* Room for a base58 peer ID (Lotus allows 128 bytes: 175 characters). */
#define LOTUS_PEER_ID_MAX 192

struct lotus_miner_info {
	struct filaddr owner;
	struct filaddr worker;
	char peer_id[LOTUS_PEER_ID_MAX];  /* base58; "" when null */
	struct lotus_multiaddr *multiaddrs;  /* owned; NULL when none */
	size_t nmultiaddrs;
	uint64_t sector_size;             /* a power of two */
};

/* StateMinerInfo of miner at the head.  Release *out with
 * lotus_miner_info_release. */
int lotus_miner_info(struct lotus_miner_info *out, struct lotus *l,
		     const struct filaddr *miner);
void lotus_miner_info_release(struct lotus_miner_info *mi);

/* WalletBalance: attoFIL (0 for an address with no actor). */
int lotus_wallet_balance(struct bigint *out, struct lotus *l,
			 const struct filaddr *addr);

/* StateMarketBalance: escrow and the part of it locked by deals
 * (0 <= locked <= escrow).  EFS_ENOTFOUND when addr has no actor. */
int lotus_market_balance(struct bigint *escrow, struct bigint *locked,
			 struct lotus *l, const struct filaddr *addr);

/*
 * StateVerifiedClientStatus: the DataCap left, in bytes, and whether
 * addr is a verified client at all (null: not; *out is then 0).
 * EFS_ENOTFOUND when addr has no actor.
 */
int lotus_datacap(struct bigint *out, bool *is_verified_client,
		  struct lotus *l, const struct filaddr *addr);

/* StateDealProviderCollateralBounds for a deal of padded bytes. */
int lotus_collateral_bounds(struct bigint *min, struct bigint *max,
			    struct lotus *l, uint64_t padded, bool verified);

/* StateLookupID: the ID address (f0) of addr.  EFS_ENOTFOUND when addr
 * has no actor. */
int lotus_lookup_id(struct filaddr *out, struct lotus *l,
		    const struct filaddr *addr);

/* MpoolGetNonce: the next nonce of addr, pending messages counted. */
int lotus_nonce(uint64_t *out, struct lotus *l, const struct filaddr *addr);

/*
 * GasEstimateMessageGas: set msg's GasLimit, GasFeeCap and GasPremium
 * (those left zero are estimated; Lotus' default MaxFee applies).
 */
int lotus_gas_estimate(struct filmsg *msg, struct lotus *l);

/*
 * MpoolPush the signed message; *out is its CID, which must be the one
 * filmsg_signed_cid computes (EFS_ECORRUPT otherwise).  Needs a token
 * with "write".
 */
int lotus_mpool_push(struct cid *out, struct lotus *l,
		     const struct filmsg_signed *m);

/* Where and how a message landed (StateSearchMsg's MsgLookup). */
struct lotus_receipt {
	struct cid msg;       /* the message that landed (a replacement's
				 CID when msg was replaced) */
	int64_t exit_code;    /* 0: success */
	int64_t gas_used;
	int64_t height;       /* the tipset it was executed in */
};

/*
 * StateSearchMsg (no lookback limit, replacements allowed): without
 * waiting, whether msg has landed (*found) and its receipt.  Returns 0
 * also when not found yet; EFS_ENOTFOUND when the node does not know
 * the message at all.
 */
int lotus_search_msg(struct lotus_receipt *out, bool *found, struct lotus *l,
		     const struct cid *msg);

/*
 * Wait until msg has landed with confidence epochs on top of it, for at
 * most timeout_ms: for the CLI's foreground waits, never the dealer's
 * threads.  Polls StateSearchMsg and ChainHead (one request each time,
 * every 100 ms growing to 2 s) instead of a StateWaitMsg that could
 * outlive the HTTP timeout.  0, EFS_ETIMEDOUT, or the errors above.
 */
int lotus_wait_msg(struct lotus_receipt *out, struct lotus *l,
		   const struct cid *msg, uint64_t confidence,
		   unsigned timeout_ms);

/* Longest deal label kept (the market actor allows 256 bytes; a byte
 * label may come as base64). */
#define LOTUS_LABEL_MAX 512

/* A market deal as StateMarketStorageDeal shows it.  A plain value. */
struct lotus_market_deal {
	/* Proposal */
	struct cid piece_cid;
	uint64_t piece_size;                 /* padded, a power of two */
	bool verified;
	struct filaddr client;
	struct filaddr provider;
	char label[LOTUS_LABEL_MAX + 1];     /* NUL-terminated */
	size_t label_len;                    /* may hold NULs */
	int64_t start_epoch;
	int64_t end_epoch;
	struct bigint price_per_epoch;       /* attoFIL */
	struct bigint provider_collateral;
	struct bigint client_collateral;
	/* State; -1: not yet (sector start, last update) or never
	 * (slash) */
	uint64_t sector;                     /* 0 before nv22 */
	int64_t sector_start_epoch;
	int64_t last_updated_epoch;
	int64_t slash_epoch;
};

/*
 * StateMarketStorageDeal: EFS_ENOTFOUND when Lotus says the deal is not
 * found (never published, not activated by its start epoch, or expired
 * and cleaned up).
 */
int lotus_market_deal(struct lotus_market_deal *out, struct lotus *l,
		      uint64_t deal_id);

/*
 * The deals ids[0..n) in batches: rcs[i] is 0 (out[i] then holds the
 * deal), EFS_ENOTFOUND, or another error of that entry.  Returns 0 when every
 * request got a reply, else the error of lotus_batch_run (rcs then say
 * which entries have it).
 */
int lotus_market_deals(struct lotus_market_deal *out, int *rcs,
		       struct lotus *l, const uint64_t *ids, size_t n);

#endif
