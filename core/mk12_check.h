/*
 * mk12_check.h - how a Curio SP judges an mk12 deal proposal, with the
 * very texts it answers with (DealResponse.Message).  The devnet's
 * simulated SPs call these; the dealer can call them to check a
 * proposal before it sends it, and mk12_check_min_price and
 * mk12_check_client_cost to price one.
 *
 * Curio's order (market/mk12/mk12.go ExecuteDeal), and who does what:
 *
 *	1. validateDealProposal         mk12_check_proposal
 *	2. deny offline / online deals  MK12_REASON_OFFLINE_DENIED, ..._ONLINE_
 *	3. allow list                   MK12_REASON_NOT_ALLOWED
 *	4. backpressure                 MK12_REASON_BACKPRESSURE
 *	5. the ask (applyFilters)       mk12_check_ask
 *	6. processDeal, before storing  mk12_check_transfer
 *	7. storing: a deal whose proposal CID (mk12_proposal_cid) is already
 *	   known is refused with "store deal: market deal with the same
 *	   proposalCID <cid> already exists: <n>"; a known UUID stores
 *	   nothing and answers "store deal: store deal success: updated 0
 *	   rows instead of 1"
 *
 * (Before all this, Curio's HTTP handler answers a provider listed in
 * its DisabledMiners with MK12_REASON_LIBP2P_DISABLED.)  Quirks kept on
 * purpose, since a client sees them: a bad client signature is reported
 * as "server error: validating signature" (Lotus's sigs.Verify returns
 * an error for a mismatch, and Curio reports errors that way), and every
 * failure against the ask is reported as MK12_REASON_FILTERS (Curio
 * files it as an internal error); the precise text goes to detail.
 * Curio does not compare the label with DealDataRoot.
 *
 * All functions are reentrant.
 */
#ifndef EFS_MK12_CHECK_H
#define EFS_MK12_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bigint.h"
#include "core/buf.h"
#include "core/filaddr.h"
#include "core/filsig.h"
#include "core/mk12.h"
#include "core/mk12_http.h"

/* Market policy (go-state-types builtin/v15, which Curio uses). */
#define MK12_DURATION_MIN 518400        /* 180 days of epochs */
#define MK12_DURATION_MAX 3680640       /* 1278 days */
#define MK12_END_MAX_AHEAD 3680640      /* miner.MaxSectorExpirationExtension */
#define MK12_LABEL_MAX 256              /* DealMaxLabelSize */
#define MK12_COLLATERAL_MAX_FACTOR 2    /* max = min * 2 */

#define MK12_REASON_OFFLINE_DENIED \
	"offline deals are not allowed on this provider"
#define MK12_REASON_ONLINE_DENIED \
	"online deals are not allowed on this provider"
#define MK12_REASON_NOT_ALLOWED "client not allowed by provider"
#define MK12_REASON_BACKPRESSURE \
	"deal rejected due to backpressure. Please retry in some time."
#define MK12_REASON_FILTERS "internal server error: failed to apply filters"
#define MK12_REASON_LIBP2P_DISABLED "Libp2p is disabled for the provider"

/* The outcome of a check. */
struct mk12_verdict {
	bool accepted;
	struct buf reason;   /* DealResponse.Message; empty when accepted */
	struct buf detail;   /* the error Curio logs; empty when accepted */
};

/* A verdict of accepted with empty texts; release frees its buffers. */
void mk12_check_verdict_init(struct mk12_verdict *v);
void mk12_check_verdict_release(struct mk12_verdict *v);

/*
 * What validateDealProposal asks the chain and its configuration.
 * verify checks that sig is signer's signature of msg[0..len) and
 * returns 0, or a negative code (any: invalid, unknown signer...) with
 * the error message set; the SP resolves an ID signer to its key address
 * first (StateAccountKey) and then typically calls filsig_verify.
 */
struct mk12_chain_view {
	int64_t head;                     /* current epoch */
	const struct filaddr *miners;     /* the SP's miner addresses */
	size_t nminers;
	char net;                         /* 'f' or 't' in messages */
	struct bigint collateral_min;     /* StateDealProviderCollateral-
					   * Bounds(PieceSize, Verified).Min */
	struct bigint client_available;   /* escrow - locked */
	bool client_verified;             /* has a DataCap entry */
	struct bigint client_datacap;
	int (*verify)(void *arg, const struct filsig *sig,
		      const struct filaddr *signer, const void *msg,
		      size_t len);
	void *verify_arg;
};

/*
 * Step 1.  Fills out (which mk12_check_verdict_init made) with the first
 * rule cp breaks, reason "failed validation: ...", or accepted.  Returns 0,
 * EFS_ENOMEM (then out is incomplete) or EFS_EINVAL when cp cannot be
 * encoded (never for a decoded proposal).  chain->verify is required.
 */
int mk12_check_proposal(struct mk12_verdict *out,
			const struct mk12_client_proposal *cp,
			const struct mk12_chain_view *chain);

/*
 * Step 5: price (the verified price for a verified deal) and piece size
 * against the SP's ask.  0 or EFS_ENOMEM.
 */
int mk12_check_ask(struct mk12_verdict *out, const struct mk12_proposal *p,
		   const struct mk12_ask *ask);

/*
 * Step 6: a libp2p transfer, an online deal whose transfer size does not
 * pad to the piece size, or transfer params that are not HttpRequest
 * JSON.  For an accepted online deal req gets the parsed params (release
 * it); otherwise req is left empty.  0 or EFS_ENOMEM.
 */
int mk12_check_transfer(struct mk12_verdict *out,
			struct mk12_http_request *req,
			const struct mk12_deal_params *dp);

/*
 * The smallest StoragePricePerEpoch the ask accepts for piece_size:
 * ask_price * piece_size / 2^30, rounded down (what Curio's client
 * offers and its server requires).  0 or EFS_ERANGE.
 */
int mk12_check_min_price(struct bigint *out, const struct bigint *ask_price,
			 uint64_t piece_size);

/*
 * What the client must have free in escrow for p:
 * ClientCollateral + StoragePricePerEpoch * (EndEpoch - StartEpoch).
 * 0 or EFS_ERANGE.
 */
int mk12_check_client_cost(struct bigint *out, const struct mk12_proposal *p);

/*
 * The unpadded size Curio expects for a CAR of size bytes (go-padreader
 * PaddedSize), and padded: the piece size an online deal must propose
 * for it.  Absurd sizes (over 127 * 2^56) give what Go's wrapping
 * uint64 arithmetic gives there (0 or 1), which matches no piece.
 */
uint64_t mk12_check_padded_size(uint64_t size);

#endif
