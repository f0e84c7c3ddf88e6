/*
 * mk12.h - the storage deal messages of Boost's deal protocol 1.2.x as
 * Curio's mk12 market speaks it, over libp2p and over HTTP
 * (POST /market/mk12/store, GET /market/mk12/status, GET /market/mk12/ask,
 * all with Content-Type application/cbor).  The devnet's simulated SPs
 * use the decoders for requests and the encoders for replies; the dealer
 * the other way round.
 *
 * Wire forms (from the Go sources; sources in tests/data/mk12/README.md):
 *
 *	DealProposal        array of 11: [PieceCID (tag 42), PieceSize,
 *	                    VerifiedDeal, Client (address bytes), Provider,
 *	                    Label (text or bytes), StartEpoch, EndEpoch
 *	                    (int64, may be negative), StoragePricePerEpoch,
 *	                    ProviderCollateral, ClientCollateral (big ints
 *	                    as bytes)]
 *	ClientDealProposal  array of 2: [DealProposal, Signature bytes]
 *	everything else     a map keyed by the Go field names, in canonical
 *	                    order (shorter key first, then bytewise): what
 *	                    cbor-gen's map encoding writes
 *
 * A signature travels as one byte string: type byte || data
 * (core/filsig.h).  Big integers as bigint.h describes.  A UUID as a byte
 * string of 16.
 *
 * What gets signed and hashed:
 * - the client signs the encoding of the DealProposal alone
 *   (mk12_proposal_encode; Lotus WalletSign hashes it with blake2b-256);
 * - the status request is signed over the 16 raw UUID bytes;
 * - the SP's worker key signs the encoding of the StorageAsk;
 * - mk12_proposal_cid is the DealProposal's CID (dag-cbor, blake2b-256,
 *   "bafy2bzace..."): the deal's identity in the market actor, which
 *   Curio stores as proposal_cid and uses to refuse duplicates;
 * - mk12_signed_proposal_cid is the CID of the ClientDealProposal
 *   (dag-cbor, sha2-256, "bafyrei..."): DealStatus.SignedProposalCid,
 *   the "ProposalCid" of the old Lotus client API.
 *
 * Decoding is strict where cbor-gen is strict and stricter where it is
 * lax (see mk12_shape.c): the input must be exactly one canonical DAG-CBOR
 * item, map keys not known are skipped as cbor-gen skips them, a field
 * missing from a map takes its Go zero value unless that value cannot be
 * encoded (a CID, an address, a signature, a proposal: then ECORRUPT).
 * Every length is capped as cbor-gen caps it.  Errors are EFS_ECORRUPT
 * with a message naming the Go type and field; EFS_ENOMEM.
 *
 * Ownership: every pointer in these structs is owned by the struct.
 * A decoder fills out from scratch (the caller's contents are
 * overwritten, not freed) and on failure leaves it released; release
 * with the matching _release, which frees with efs_free and zeroes the
 * struct.  A struct built by hand for encoding may point at anything
 * (literals too) as long as it is not passed to _release; or build it
 * with efs_strdup/efs_malloc and release it.  NULL strings encode as "".
 * Encoders append to out and return 0, EFS_EINVAL (a value Go could not
 * encode: a string over its cap, invalid UTF-8 in a text label) or the
 * buf errors (EFS_ENOMEM, EFS_ETOOBIG).  All functions are reentrant.
 */
#ifndef EFS_MK12_H
#define EFS_MK12_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bigint.h"
#include "core/buf.h"
#include "core/cid.h"
#include "core/filaddr.h"
#include "core/filsig.h"

#define MK12_UUID_LEN 16
/* Room for the 36-character text form of a UUID, NUL included. */
#define MK12_UUID_STR_MAX 37

/* Caps, as cbor-gen and go-state-types apply them when decoding. */
#define MK12_STRING_MAX 8192          /* every text field */
#define MK12_BYTES_MAX 2097152        /* Transfer.Params, a label */

/* Body caps of Curio's HTTP handlers (http.MaxBytesReader). */
#define MK12_STORE_BODY_MAX (4u << 20)
#define MK12_STATUS_BODY_MAX (1u << 20)
#define MK12_ASK_BODY_MAX (1u << 20)

/* A byte string the struct owns. */
struct mk12_bytes {
	uint8_t *ptr;   /* NULL when len is 0 */
	size_t len;
};

/*
 * DealLabel: a text string (is_bytes false; must be UTF-8, checked both
 * ways as go-state-types does) or a byte string.  The zero value is the
 * empty text string.  Curio and Boost clients put the payload root CID
 * here as text.
 */
struct mk12_label {
	bool is_bytes;
	struct mk12_bytes data;
};

struct mk12_proposal {
	struct cid piece_cid;          /* piece CID v1 (baga...) */
	uint64_t piece_size;           /* padded bytes */
	bool verified;
	struct filaddr client;
	struct filaddr provider;
	struct mk12_label label;
	int64_t start_epoch;
	int64_t end_epoch;
	struct bigint price_per_epoch; /* attoFIL per epoch, whole deal */
	struct bigint provider_collateral;
	struct bigint client_collateral;
};

struct mk12_client_proposal {
	struct mk12_proposal proposal;
	struct filsig signature;       /* the client's, over the proposal */
};

/*
 * Transfer.  For online deals Type is "http" (or "libp2p", which Curio
 * refuses), Params the JSON of core/mk12_http.h and Size the bytes of
 * the CAR; an offline deal leaves it all zero.
 */
struct mk12_transfer {
	char *type;
	char *client_id;
	struct mk12_bytes params;
	uint64_t size;
};

/*
 * DealParams, the body of POST /market/mk12/store.  Protocol 1.2.1 added
 * RemoveUnsealedCopy and SkipIPNIAnnounce; v120 asks the encoder for the
 * 1.2.0 form without them, and the decoder sets it when neither is
 * there.  Curio's HTTP handler reads both forms.
 */
struct mk12_deal_params {
	uint8_t uuid[MK12_UUID_LEN];
	bool is_offline;
	struct mk12_client_proposal proposal;
	struct cid data_root;           /* DealDataRoot */
	struct mk12_transfer transfer;
	bool remove_unsealed_copy;
	bool skip_ipni_announce;
	bool v120;
};

/* DealResponse, the reply to a DealParams. */
struct mk12_deal_response {
	bool accepted;
	char *message;                  /* why not; empty when accepted */
};

/* DealStatusRequest: signature by the client wallet over the UUID. */
struct mk12_status_request {
	uint8_t uuid[MK12_UUID_LEN];
	struct filsig signature;
};

/*
 * DealStatus.  Boost puts a checkpoint name in status (MK12_BOOST_*
 * below); Curio's strings are MK12_CURIO_*.
 */
struct mk12_deal_status {
	char *error;
	char *status;
	char *sealing_status;
	struct mk12_proposal proposal;
	struct cid signed_proposal_cid;
	bool has_publish_cid;           /* false: null */
	struct cid publish_cid;
	uint64_t chain_deal_id;
};

/* DealStatusResponse.  has_status false: DealStatus is null (then
 * error says why). */
struct mk12_status_response {
	uint8_t uuid[MK12_UUID_LEN];
	char *error;
	bool has_status;
	struct mk12_deal_status status;
	bool is_offline;
	uint64_t transfer_size;
	uint64_t nbytes_received;
};

/* StorageAsk (map-encoded, as go-fil-markets 1.x and Curio write it).
 * Prices are attoFIL per GiB per epoch; sizes padded bytes. */
struct mk12_ask {
	struct bigint price;
	struct bigint verified_price;
	uint64_t min_piece_size;
	uint64_t max_piece_size;
	struct filaddr miner;
	int64_t timestamp;
	int64_t expiry;
	uint64_t seq_no;
};

/* SignedStorageAsk: both members are Go pointers, so either may be
 * null. */
struct mk12_signed_ask {
	bool has_ask;
	struct mk12_ask ask;
	bool has_signature;
	struct filsig signature;        /* worker key, over mk12_ask_encode */
};

/* AskRequest, the body of GET /market/mk12/ask. */
struct mk12_ask_request {
	struct filaddr miner;
};

/* AskResponse, its reply: {"Ask": SignedStorageAsk or null}. */
struct mk12_ask_response {
	bool has_ask;
	struct mk12_signed_ask ask;
};

/* Boost's deal checkpoints, in order (DealStatus.status). */
#define MK12_BOOST_ACCEPTED "Accepted"
#define MK12_BOOST_TRANSFERRED "Transferred"
#define MK12_BOOST_PUBLISHED "Published"
#define MK12_BOOST_PUBLISH_CONFIRMED "PublishConfirmed"
#define MK12_BOOST_ADDED_PIECE "AddedPiece"
#define MK12_BOOST_INDEXED "IndexedAndAnnounced"
#define MK12_BOOST_COMPLETE "Complete"

/*
 * Curio's (market/mk12/mk12_utils.go GetDealStatus).  While the deal is
 * in its pipeline Curio answers status "Processing", sealing status
 * "Not assigned to sector", deal ID 0 and PublishCid null (its branch
 * for published deals builds a reply it never returns); once the deal
 * has left the pipeline, "Sealed" and "Sealed and Indexed" with the deal
 * ID and PublishCid.  TransferSize and NBytesReceived are always 1.
 * Unknown UUID: DealStatus null, error MK12_CURIO_STATUS_FAILED.
 * Curio does not check the request's signature; Boost does.
 */
#define MK12_CURIO_PROCESSING "Processing"
#define MK12_CURIO_NOT_ASSIGNED "Not assigned to sector"
#define MK12_CURIO_SEALED "Sealed"
#define MK12_CURIO_SEALED_INDEXED "Sealed and Indexed"
#define MK12_CURIO_STATUS_FAILED "failed to get sealed deal status"
/*
 * Boost answers an unknown UUID with error "no storage deal found with
 * deal UUID <uuid>" and a bad request signature with "signature
 * verification failed" (DealStatus null in both).
 */

/* ---- the proposal ---- */

/* Append the DealProposal: the bytes the client signs. */
int mk12_proposal_encode(struct buf *out, const struct mk12_proposal *p);
int mk12_proposal_decode(struct mk12_proposal *out, const uint8_t *data,
			 size_t len);
void mk12_proposal_release(struct mk12_proposal *p);

/* The DealProposal's CID (dag-cbor, blake2b-256).  0 or EFS_ENOMEM,
 * EFS_EINVAL as the encoder. */
int mk12_proposal_cid(struct cid *out, const struct mk12_proposal *p);

int mk12_client_proposal_encode(struct buf *out,
				const struct mk12_client_proposal *cp);
int mk12_client_proposal_decode(struct mk12_client_proposal *out,
				const uint8_t *data, size_t len);
void mk12_client_proposal_release(struct mk12_client_proposal *cp);

/* SignedProposalCid: the ClientDealProposal's CID (dag-cbor, sha2-256). */
int mk12_signed_proposal_cid(struct cid *out,
			     const struct mk12_client_proposal *cp);

/*
 * Set l to a copy of p[0..len), text (must be UTF-8: EFS_EINVAL if not)
 * or bytes.  Frees what l held.  0, EFS_EINVAL or EFS_ENOMEM.
 */
int mk12_label_set(struct mk12_label *l, bool is_bytes, const void *p,
		   size_t len);

/* ---- store ---- */

int mk12_deal_params_encode(struct buf *out,
			    const struct mk12_deal_params *dp);
int mk12_deal_params_decode(struct mk12_deal_params *out,
			    const uint8_t *data, size_t len);
void mk12_deal_params_release(struct mk12_deal_params *dp);

int mk12_deal_response_encode(struct buf *out,
			      const struct mk12_deal_response *r);
int mk12_deal_response_decode(struct mk12_deal_response *out,
			      const uint8_t *data, size_t len);
void mk12_deal_response_release(struct mk12_deal_response *r);

/* ---- status (the request owns nothing: no release) ---- */

int mk12_status_request_encode(struct buf *out,
			       const struct mk12_status_request *r);
int mk12_status_request_decode(struct mk12_status_request *out,
			       const uint8_t *data, size_t len);

int mk12_status_response_encode(struct buf *out,
				const struct mk12_status_response *r);
int mk12_status_response_decode(struct mk12_status_response *out,
				const uint8_t *data, size_t len);
void mk12_status_response_release(struct mk12_status_response *r);

/* ---- ask (nothing here owns memory: no release) ---- */

/* Append the StorageAsk: the bytes the SP's worker key signs. */
int mk12_ask_encode(struct buf *out, const struct mk12_ask *a);
int mk12_ask_decode(struct mk12_ask *out, const uint8_t *data, size_t len);

int mk12_signed_ask_encode(struct buf *out, const struct mk12_signed_ask *a);
int mk12_signed_ask_decode(struct mk12_signed_ask *out, const uint8_t *data,
			   size_t len);

int mk12_ask_request_encode(struct buf *out,
			    const struct mk12_ask_request *r);
int mk12_ask_request_decode(struct mk12_ask_request *out,
			    const uint8_t *data, size_t len);

int mk12_ask_response_encode(struct buf *out,
			     const struct mk12_ask_response *r);
int mk12_ask_response_decode(struct mk12_ask_response *out,
			     const uint8_t *data, size_t len);

/* ---- UUIDs ---- */

/* A random (version 4) UUID, as Go's uuid.New().  0 or EFS_EIO. */
int mk12_uuid_generate(uint8_t out[MK12_UUID_LEN]);

/* The canonical lower-case text form into out (MK12_UUID_STR_MAX). */
void mk12_uuid_format(char *out, const uint8_t uuid[MK12_UUID_LEN]);

/* Parse the 36-character form (either case).  0 or EFS_EINVAL. */
int mk12_uuid_parse(uint8_t out[MK12_UUID_LEN], const char *s, size_t len);

#endif
