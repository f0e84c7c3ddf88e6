/*
 * funds.h - the dealer's money: the wallet's balance, its storage market
 * escrow and DataCap as the chain shows them, and topping up the escrow
 * with a signed market AddBalance message.
 *
 * Errors meant for the user say what to do, in one line:
 *	"dealer: wallet f1... has 0 FIL, short of 1.0001 FIL for escrow and
 *	 gas: fund it (devnet: estuaryfs-devnet --dir DIR faucet f1... 100)"
 *
 * Threads: the functions are reentrant.  Messages from one address must
 * be sent by one thread at a time (the nonce is read from the node, so
 * two concurrent top-ups from one address would collide).
 */
#ifndef EFS_FUNDS_H
#define EFS_FUNDS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/bigint.h"
#include "core/cid.h"
#include "core/filaddr.h"
#include "core/wallet.h"
#include "dealer/lotus.h"

struct funds_status {
	struct filaddr addr;          /* whose */
	struct bigint balance;        /* wallet balance, attoFIL */
	struct bigint escrow;         /* market escrow, attoFIL */
	struct bigint locked;         /* the part of escrow deals hold */
	struct bigint available;      /* escrow - locked */
	struct bigint datacap;        /* bytes of DataCap left (0 when not
					 a verified client) */
	bool verified_client;
	int64_t height;               /* the head these were read at */
};

/*
 * Read addr's funds in one request (WalletBalance, StateMarketBalance,
 * StateVerifiedClientStatus, ChainHead in a batch).  An address the
 * chain has not seen yet has everything 0.  Returns 0 or lotus.h's
 * errors.
 */
int funds_status(struct funds_status *out, struct lotus *l,
		 const struct filaddr *addr);

/*
 * How much to add to the escrow so that the available escrow covers
 * want: max(0, want - available).  Returns 0 or EFS_ERANGE.
 */
int funds_escrow_needed(struct bigint *out, const struct funds_status *s,
			const struct bigint *want);

/*
 * Whether s's DataCap covers need bytes (a verified deal's padded size):
 * 0, or EFS_EINVAL with a message for the user (not a verified client,
 * or short by how much, and where to get DataCap).
 */
int funds_datacap_check(const struct funds_status *s, uint64_t need);

/*
 * Move amount attoFIL (> 0) from `from`'s wallet balance into its market
 * escrow: the market actor's AddBalance (to f05, method 2, params the
 * CBOR byte string of from's address) with the nonce from MpoolGetNonce
 * and gas estimated by the node, signed with from's key in w over the
 * message's CID, and pushed.  Returns once pushed, with the message's
 * CID in *msg_out (check its landing with lotus_search_msg).
 * Returns 0, EFS_EINVAL (amount not positive; no key for from in w; the
 * balance does not cover amount and the most gas can cost: the message
 * says so), or the errors of lotus.h and wallet_sign.
 */
int funds_add_escrow(struct cid *msg_out, struct lotus *l, struct wallet *w,
		     const struct filaddr *from, const struct bigint *amount);

#endif
