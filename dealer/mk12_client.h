/*
 * mk12_client.h - Curio's mk12 deal protocol over HTTP, the client side:
 * a struct dealproto (dealer/dealproto.h) whose operations are
 *
 *	ask       GET  <url>/market/mk12/ask     AskRequest{Miner}
 *	propose   POST <url>/market/mk12/store   DealParams (signed proposal)
 *	status    GET  <url>/market/mk12/status  DealStatusRequest{UUID,
 *	                                         signature over the UUID}
 *
 * each with a CBOR body (core/mk12.h), Content-Type application/cbor, as
 * Curio's own client sends them (cmd/sptool/toolbox_deal_client.go).
 * Replies are read with core/mk12.h's decoders and mapped to the
 * normalized types by the mk12_client_read_* functions below
 * (mk12_client_msg.c), which are public so that tests and the fuzzer
 * reach them without a network, as is the builder of the signed
 * proposal, so the dealer can know a deal's CIDs before proposing it.
 *
 * Signing: the client's key signs the DealProposal's CBOR and the status
 * request's 16 UUID bytes (core/wallet.h wallet_sign, Filecoin's secp256k1
 * rules: what Lotus's WalletSign would produce, byte for byte, as RFC 6979
 * makes signatures deterministic).  So the same deal always builds to the
 * same bytes and CIDs: re-proposing after a crash sends what was sent.
 *
 * Ownership: the wallet is borrowed and must outlive the client; the
 * client is immutable and may be used by any number of threads at once
 * (wallets and net/httpc are thread-safe).
 */
#ifndef EFS_MK12_CLIENT_H
#define EFS_MK12_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/mk12.h"
#include "core/wallet.h"
#include "dealer/dealproto.h"

/* Whole-request timeout (Curio's handlers give up after 10 s). */
#define MK12_CLIENT_TIMEOUT_MS 30000u
/* Cap on a reply body: a status with its proposal is a few KiB. */
#define MK12_CLIENT_REPLY_MAX ((size_t)1 << 20)

struct mk12_client_opts {
	unsigned timeout_ms;          /* 0: MK12_CLIENT_TIMEOUT_MS */
	unsigned connect_timeout_ms;  /* 0: net/httpc's default */
	size_t max_reply;             /* 0: MK12_CLIENT_REPLY_MAX */
};

/*
 * A new mk12 client signing with keys of w (borrowed); opts may be NULL.
 * Returns 0 or EFS_ENOMEM.  Free with dealproto_free.
 */
int mk12_client_new(struct dealproto **out, struct wallet *w,
		    const struct mk12_client_opts *opts);

/*
 * Build and sign the DealParams of d: the ClientDealProposal (piece CID
 * and padded size, label, client and provider, epochs, price per epoch,
 * provider collateral, no client collateral, verified flag) signed by
 * d->client's key in w; DealDataRoot (d->root, or the piece CID); an
 * online HTTP transfer of d->payload_size bytes from d->transfer_url
 * with d's headers (core/mk12_http.h); the UUID.  ids (may be NULL) gets
 * the proposal's two CIDs.  Release *out with mk12_deal_params_release
 * (also after an error).  Returns 0, EFS_EINVAL (not a v1 piece CID; a
 * padded size that is not a power of two of at least 128, or that the
 * payload does not pad to, as Curio requires; end not after start; a
 * negative amount; a transfer URL that is not http(s); a label that is
 * not UTF-8; two headers of one name), EFS_ETOOBIG (transfer parameters
 * over MK12_BYTES_MAX), EFS_ENOMEM, or wallet_sign's errors (no key for
 * d->client).
 */
int mk12_client_build(struct mk12_deal_params *out,
		      struct dealproto_proposal *ids, struct wallet *w,
		      const struct dealproto_deal *d);

/*
 * Map a 200 reply body[0..len) to the normalized types; call's outcome
 * and detail are set (its HTTP fields are left alone).  Garbage: not
 * CBOR or not the message (the decoder's reason), an empty body, an HTML
 * page.  Return 0, or EFS_ENOMEM (then call says so, outcome error).
 *
 * Ask: rejected when there is no ask; garbage when it is another miner's
 * (miner: the one asked), has a negative price, or a max piece size of 0
 * or below the min.
 */
int mk12_client_read_ask(struct dealproto_ask *out,
			 struct dealproto_call *call,
			 const struct filaddr *miner, const uint8_t *body,
			 size_t len);

/* Store: ok when accepted, else rejected with the message classified. */
int mk12_client_read_store(struct dealproto_call *call, const uint8_t *body,
			   size_t len);

/*
 * Status (see mk12_client_status_of): garbage when the reply is for
 * another UUID, or (ref->check_proposal) another proposal.
 */
int mk12_client_read_status(struct dealproto_status *out,
			    struct dealproto_call *call,
			    const struct dealproto_ref *ref,
			    const uint8_t *body, size_t len);

/*
 * A decoded DealStatusResponse to the normalized status:
 * - no DealStatus: rejected, its Error classified (Curio's "failed to
 *   get sealed deal status" and Boost's "no storage deal found" are
 *   not_found, a bad request signature is signature), state unknown,
 *   error its text; neither status nor error is garbage;
 * - DealStatus.Error set: failed with that error (Curio reports a failed
 *   deal as "Sealed" with an Error: the error wins);
 * - else the status text: Curio's "Processing" and Boost's "Accepted"
 *   are accepted (transferring once bytes arrive), "Sealing",
 *   "AddedPiece", "IndexedAndAnnounced" sealing, "Transferred" and
 *   "Published" awaiting_publish, "PublishConfirmed" published,
 *   "Sealed", "Sealed and Indexed", "Complete" active; anything else
 *   unknown.  A deal ID makes an earlier state published, a publish CID
 *   awaiting_publish.  Transfer bytes are reported when TransferSize is
 *   over 1 (Curio always sends 1 and 1, which mean nothing).
 */
void mk12_client_status_of(struct dealproto_status *out,
			   struct dealproto_call *call,
			   const struct dealproto_ref *ref,
			   const struct mk12_status_response *r);

#endif
