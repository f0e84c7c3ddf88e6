/*
 * dealproto.h - the deal-protocol interface: what the dealer asks of a
 * storage provider (SP), whatever protocol the SP speaks.  One
 * implementation today, Curio's mk12 over HTTP (dealer/mk12_client.h);
 * Curio's mk20 can be added as another struct dealproto_ops, as libgit2
 * adds object database backends.
 *
 *	struct dealproto *dp;            // mk12_client_new(&dp, wallet, NULL)
 *	struct dealproto_sp sp = { .addr = f01000, .url = "https://sp:443" };
 *	struct dealproto_ask ask;
 *	struct dealproto_call call;
 *
 *	rc = dealproto_ask(&ask, &call, dp, &sp);
 *	record(&call);                   // the miner log, whatever rc
 *	if (rc < 0) ... local failure: nothing to hold against the SP
 *	else if (call.outcome != DEALPROTO_OK) ... the SP failed or said no
 *
 * Every operation returns 0 when the SP was asked, whatever it answered
 * (call->outcome says how it went), and a negative efs_error when the
 * request could not be made for a reason of ours (EFS_EINVAL: a bad
 * deal or SP description; EFS_ENOMEM; a wallet error while signing):
 * then call->outcome is DEALPROTO_ERROR with the message in detail, and
 * the SP is not to blame.  Outputs other than call are filled only when
 * the outcome is DEALPROTO_OK (and, for status, also when it is
 * DEALPROTO_REJECTED: state UNKNOWN with the SP's error text).
 *
 * Threads: an implementation's struct dealproto does not change after it
 * is made; any thread may call any operation at once.
 */
#ifndef EFS_DEALPROTO_H
#define EFS_DEALPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bigint.h"
#include "core/cid.h"
#include "core/filaddr.h"

/* A deal's identity with the SP: mk12's UUID (mk20's ULID is 16 bytes
 * too).  The caller chooses it (mk12_uuid_generate) and keeps it before
 * proposing, so a restart can ask for the deal's status. */
#define DEALPROTO_UUID_LEN 16
/* Longest detail and error text kept, NUL included. */
#define DEALPROTO_DETAIL_MAX 240
/* Longest SP status text kept, NUL included. */
#define DEALPROTO_STATUS_MAX 64

/* How a call went, as the miner log records it. */
enum dealproto_outcome {
	DEALPROTO_OK = 0,       /* the SP answered as the protocol says */
	DEALPROTO_REJECTED,     /* it answered no (call.reason says why) */
	DEALPROTO_UNREACHABLE,  /* no reply: refused, reset, name unknown */
	DEALPROTO_TIMEOUT,      /* connecting or the reply took too long */
	DEALPROTO_GARBAGE,      /* a reply that does not decode or fit:
				   bad CBOR, wrong types, HTML, too big,
				   another deal's status */
	DEALPROTO_ERROR,        /* an HTTP error (404, 500, ...), or a
				   local failure (the operation's rc < 0) */
};

/*
 * Why an SP said no (a rejection's text or HTTP status, classified by
 * dealproto_reason_of).  Some are the SP's policy or load (try another
 * SP, or this one later); some are ours to fix (funds, DataCap, epochs,
 * our proposal).
 */
enum dealproto_reason {
	DEALPROTO_REASON_NONE = 0,  /* not a rejection */
	DEALPROTO_REASON_BUSY,      /* backpressure, rate limits: retry later */
	DEALPROTO_REASON_ASK,       /* price or size outside its ask/filters */
	DEALPROTO_REASON_FUNDS,     /* our escrow does not cover the deal */
	DEALPROTO_REASON_DATACAP,   /* not verified, or DataCap too small */
	DEALPROTO_REASON_COLLATERAL, /* provider collateral out of bounds */
	DEALPROTO_REASON_EPOCHS,    /* start passed, duration, end epoch */
	DEALPROTO_REASON_SIGNATURE, /* it could not verify our signature */
	DEALPROTO_REASON_DUPLICATE, /* it has this deal (UUID or proposal) */
	DEALPROTO_REASON_POLICY,    /* client, provider or deal kind refused */
	DEALPROTO_REASON_TRANSFER,  /* the transfer (type, params, size) */
	DEALPROTO_REASON_INVALID,   /* our proposal is malformed */
	DEALPROTO_REASON_NOT_FOUND, /* status: it does not know the deal */
	DEALPROTO_REASON_SERVER,    /* its own internal error */
	DEALPROTO_REASON_OTHER,
};

/* What the miner log records for every call. */
struct dealproto_call {
	enum dealproto_outcome outcome;
	enum dealproto_reason reason;   /* with DEALPROTO_REJECTED */
	long http_status;               /* 0: no reply */
	uint64_t latency_us;            /* request start to end (or failure) */
	uint64_t bytes_up;              /* request body bytes sent */
	uint64_t bytes_down;            /* reply body bytes received */
	char detail[DEALPROTO_DETAIL_MAX]; /* one printable line; "" for ok */
};

/* An SP to talk to: its miner address and the HTTP base URL of its deal
 * endpoints (multiaddr_http_url of one of its on-chain multiaddrs). */
struct dealproto_sp {
	struct filaddr addr;
	const char *url;                /* "https://sp.example:443" */
};

/* An SP's storage ask. */
struct dealproto_ask {
	struct bigint price;            /* attoFIL per GiB per epoch */
	struct bigint verified_price;   /* the same, verified deals */
	uint64_t min_piece;             /* padded bytes */
	uint64_t max_piece;             /* padded bytes */
	int64_t expiry;                 /* the epoch it lapses at */
	uint64_t seq;                   /* the SP's ask sequence number */
};

/* An HTTP header the SP sends when it pulls the data. */
struct dealproto_header {
	const char *name;
	const char *value;
};

/* A deal to propose.  Borrowed pointers; nothing is kept. */
struct dealproto_deal {
	uint8_t uuid[DEALPROTO_UUID_LEN];
	struct cid piece_cid;           /* piece CID v1 (baga...) */
	uint64_t piece_size;            /* padded */
	uint64_t payload_size;          /* bytes of the CAR the SP pulls */
	const struct cid *root;         /* the payload's root, or NULL (an
					   aggregate): then the piece CID */
	const char *label;              /* root CID text, or NULL/"" */
	struct filaddr client;          /* our wallet address (signs) */
	struct filaddr provider;
	int64_t start_epoch;
	int64_t end_epoch;
	struct bigint price_per_epoch;  /* attoFIL per epoch, whole piece */
	struct bigint provider_collateral;
	bool verified;
	const char *transfer_url;       /* where the SP pulls the CAR */
	const struct dealproto_header *headers; /* sent with the pull */
	size_t nheaders;
};

/* What identifies a proposed deal besides its UUID. */
struct dealproto_proposal {
	struct cid proposal_cid;        /* DealProposal CID (bafy2bzace...) */
	struct cid signed_proposal_cid; /* ClientDealProposal CID (bafyrei..) */
};

/* A deal to ask about. */
struct dealproto_ref {
	uint8_t uuid[DEALPROTO_UUID_LEN];
	struct filaddr client;          /* signs the request */
	/* When set, a status naming another proposal is garbage. */
	bool check_proposal;
	struct cid signed_proposal_cid;
};

/* Where a deal is, as its SP reports it. */
enum dealproto_state {
	DEALPROTO_ACCEPTED = 0,      /* accepted, nothing more known yet */
	DEALPROTO_TRANSFERRING,      /* the SP is pulling the data */
	DEALPROTO_AWAITING_PUBLISH,  /* data in; publish message pending */
	DEALPROTO_PUBLISHED,         /* on chain with a deal ID */
	DEALPROTO_SEALING,           /* in a sector being sealed */
	DEALPROTO_ACTIVE,            /* sealed ("Sealed", "Sealed and
					Indexed", Boost's "Complete") */
	DEALPROTO_FAILED,            /* the SP gave up: error says why */
	DEALPROTO_UNKNOWN,           /* a status we cannot place, or none */
};

struct dealproto_status {
	enum dealproto_state state;
	uint64_t deal_id;               /* chain deal ID; 0: none yet */
	bool has_publish_cid;
	struct cid publish_cid;         /* PublishStorageDeals message */
	bool has_bytes;                 /* the SP reported transfer bytes */
	uint64_t bytes_received;
	uint64_t transfer_size;
	char error[DEALPROTO_DETAIL_MAX]; /* the SP's error text, "" */
	char sp_status[DEALPROTO_STATUS_MAX]; /* its words: "Processing /
					   Not assigned to sector" */
};

struct dealproto;

/*
 * The operations of a protocol.  Each returns as the top of this file
 * says; call is always filled.
 */
struct dealproto_ops {
	const char *name;               /* "mk12" */
	/* The SP's current ask. */
	int (*ask)(struct dealproto_ask *out, struct dealproto_call *call,
		   struct dealproto *dp, const struct dealproto_sp *sp);
	/* Build, sign and send the deal; out gets its identity (also when
	 * the SP rejects it, once the proposal is built). */
	int (*propose)(struct dealproto_proposal *out,
		       struct dealproto_call *call, struct dealproto *dp,
		       const struct dealproto_sp *sp,
		       const struct dealproto_deal *deal);
	/* Where the deal is. */
	int (*status)(struct dealproto_status *out,
		      struct dealproto_call *call, struct dealproto *dp,
		      const struct dealproto_sp *sp,
		      const struct dealproto_ref *ref);
	void (*free)(struct dealproto *dp);
};

/* The base every implementation embeds first. */
struct dealproto {
	const struct dealproto_ops *ops;
};

/* The operations, through dp->ops. */
int dealproto_ask(struct dealproto_ask *out, struct dealproto_call *call,
		  struct dealproto *dp, const struct dealproto_sp *sp);
int dealproto_propose(struct dealproto_proposal *out,
		      struct dealproto_call *call, struct dealproto *dp,
		      const struct dealproto_sp *sp,
		      const struct dealproto_deal *deal);
int dealproto_status(struct dealproto_status *out,
		     struct dealproto_call *call, struct dealproto *dp,
		     const struct dealproto_sp *sp,
		     const struct dealproto_ref *ref);
/* Free dp (NULL is fine). */
void dealproto_free(struct dealproto *dp);

/* Stable names: "ok", "rejected", ...; "busy", "ask", ...; "accepted",
 * "transferring", "awaiting_publish", ... */
const char *dealproto_outcome_name(enum dealproto_outcome o);
const char *dealproto_reason_name(enum dealproto_reason r);
const char *dealproto_state_name(enum dealproto_state s);

/*
 * Classify an SP's rejection text[0..len) (Curio's and Boost's messages;
 * matching ignores ASCII case).  Never DEALPROTO_REASON_NONE: text
 * nothing matches is DEALPROTO_REASON_OTHER.
 */
enum dealproto_reason dealproto_reason_of(const char *text, size_t len);

/*
 * Copy text[0..len) into out[0..cap) as one printable line: bytes below
 * 0x20 and DEL become spaces, invalid UTF-8 '?', surrounding white space
 * is cut, and a text too long ends in "...".  For details and errors
 * from the network.
 */
void dealproto_line(char *out, size_t cap, const char *text, size_t len);

/*
 * The deal's total price per epoch for a piece of padded bytes at an ask
 * price per GiB per epoch: price * padded / 2^30, rounded down, as
 * Curio's client computes it and its ask check expects
 * (mk12_check_min_price).  0 or EFS_ERANGE.
 */
int dealproto_price_per_epoch(struct bigint *out,
			      const struct bigint *price_per_gib,
			      uint64_t padded);

/* ---- for implementations ---- */

struct httpc_resp;

/* Start a call: zero it (outcome ok). */
void dealproto_call_init(struct dealproto_call *call);

/*
 * Judge an HTTP exchange: rc is httpc_do's, resp its reply.  Fills the
 * call's HTTP status, bytes and latency, and returns true when there is
 * a 200 reply whose body the protocol should decode; otherwise sets the
 * outcome and detail:
 *	EFS_ETIMEDOUT                       timeout
 *	EFS_ETOOBIG                         garbage ("reply over N bytes")
 *	EFS_EIO, no status line             unreachable (refused, reset,
 *	                                    no reply, unknown host)
 *	EFS_EIO after a status, EFS_EINVAL  garbage (cut short, not HTTP)
 *	EFS_ENOMEM, others                  error (local)
 *	HTTP 429                            rejected, reason busy
 *	HTTP 503 "timeout ..." (Go's        timeout
 *	  http.TimeoutHandler, as Curio)
 *	other non-200                       error ("HTTP 404: <body line>")
 */
bool dealproto_call_http(struct dealproto_call *call, int rc,
			 const struct httpc_resp *resp);

/* Set the outcome and a printf detail; returns 0 (for tail calls).  A
 * rejection keeps the call's reason, or gets DEALPROTO_REASON_OTHER. */
int dealproto_call_set(struct dealproto_call *call,
		       enum dealproto_outcome outcome, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A rejection with the SP's text (classified, made one line). */
void dealproto_call_reject(struct dealproto_call *call, const char *text,
			   size_t len);

/* A local failure: rc (< 0) with this thread's error message as the
 * detail; returns rc. */
int dealproto_call_local(struct dealproto_call *call, int rc);

#endif
