/*
 * mk12.c - the Boost 1.2.x / Curio mk12 deal messages in CBOR (see
 * mk12.h): each message's field table, the entry points that run the
 * table-driven codec of mk12_shape.c over them, and deal UUIDs.
 *
 * The tables follow the Go structs of Curio's market/mk12 and
 * go-state-types' market actor field by field; map shapes list their
 * fields in canonical key order (length, then bytes), the order
 * cbor-gen writes.  How strictly they are decoded: mk12_shape.c.
 */
#include "core/mk12.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/fdio.h"
#include "core/mbase.h"
#include "core/mhash.h"
#include "core/mk12_i.h"
#include "core/utf8.h"

#include "core/banned.h"

/* Table rows: a plain field, one added by 1.2.1, a nested struct, a Go
 * pointer (with the bool that says it is set); a table. */
#define FLD(T, name, kind, m) { name, kind, offsetof(T, m), 0, 0, NULL }
#define V121(T, name, kind, m) \
	{ name, kind, offsetof(T, m), MK12_F_V121, 0, NULL }
#define SUB(T, name, m, sub) \
	{ name, MK12_K_STRUCT, offsetof(T, m), 0, 0, &(sub) }
#define OPT(T, name, kind, m, has, sub) \
	{ name, kind, offsetof(T, m), MK12_F_NULLABLE, offsetof(T, has), sub }
#define SHAPE(name, tuple, f) { name, tuple, f, sizeof(f) / sizeof(f[0]) }

/* ---- the tables ---- */

#define T struct mk12_proposal
static const struct mk12_field proposal_fields[] = {
	FLD(T, "PieceCID", MK12_K_CID, piece_cid),
	FLD(T, "PieceSize", MK12_K_U64, piece_size),
	FLD(T, "VerifiedDeal", MK12_K_BOOL, verified),
	FLD(T, "Client", MK12_K_ADDR, client),
	FLD(T, "Provider", MK12_K_ADDR, provider),
	FLD(T, "Label", MK12_K_LABEL, label),
	FLD(T, "StartEpoch", MK12_K_I64, start_epoch),
	FLD(T, "EndEpoch", MK12_K_I64, end_epoch),
	FLD(T, "StoragePricePerEpoch", MK12_K_BIG, price_per_epoch),
	FLD(T, "ProviderCollateral", MK12_K_BIG, provider_collateral),
	FLD(T, "ClientCollateral", MK12_K_BIG, client_collateral),
};
#undef T
static const struct mk12_shape proposal_shape =
	SHAPE("DealProposal", true, proposal_fields);

#define T struct mk12_client_proposal
static const struct mk12_field client_proposal_fields[] = {
	SUB(T, "Proposal", proposal, proposal_shape),
	FLD(T, "ClientSignature", MK12_K_SIG, signature),
};
#undef T
static const struct mk12_shape client_proposal_shape =
	SHAPE("ClientDealProposal", true, client_proposal_fields);

#define T struct mk12_transfer
static const struct mk12_field transfer_fields[] = {
	FLD(T, "Size", MK12_K_U64, size),
	FLD(T, "Type", MK12_K_STR, type),
	FLD(T, "Params", MK12_K_BYTES, params),
	FLD(T, "ClientID", MK12_K_STR, client_id),
};
#undef T
static const struct mk12_shape transfer_shape =
	SHAPE("Transfer", false, transfer_fields);

#define T struct mk12_deal_params
static const struct mk12_field deal_params_fields[] = {
	FLD(T, "DealUUID", MK12_K_UUID, uuid),
	SUB(T, "Transfer", transfer, transfer_shape),
	FLD(T, "IsOffline", MK12_K_BOOL, is_offline),
	FLD(T, "DealDataRoot", MK12_K_CID, data_root),
	V121(T, "SkipIPNIAnnounce", MK12_K_BOOL, skip_ipni_announce),
	SUB(T, "ClientDealProposal", proposal, client_proposal_shape),
	V121(T, "RemoveUnsealedCopy", MK12_K_BOOL, remove_unsealed_copy),
};
#undef T
static const struct mk12_shape deal_params_shape =
	SHAPE("DealParams", false, deal_params_fields);

#define T struct mk12_deal_response
static const struct mk12_field deal_response_fields[] = {
	FLD(T, "Message", MK12_K_STR, message),
	FLD(T, "Accepted", MK12_K_BOOL, accepted),
};
#undef T
static const struct mk12_shape deal_response_shape =
	SHAPE("DealResponse", false, deal_response_fields);

#define T struct mk12_status_request
static const struct mk12_field status_request_fields[] = {
	FLD(T, "DealUUID", MK12_K_UUID, uuid),
	FLD(T, "Signature", MK12_K_SIG, signature),
};
#undef T
static const struct mk12_shape status_request_shape =
	SHAPE("DealStatusRequest", false, status_request_fields);

#define T struct mk12_deal_status
static const struct mk12_field deal_status_fields[] = {
	FLD(T, "Error", MK12_K_STR, error),
	FLD(T, "Status", MK12_K_STR, status),
	SUB(T, "Proposal", proposal, proposal_shape),
	OPT(T, "PublishCid", MK12_K_CID, publish_cid, has_publish_cid, NULL),
	FLD(T, "ChainDealID", MK12_K_U64, chain_deal_id),
	FLD(T, "SealingStatus", MK12_K_STR, sealing_status),
	FLD(T, "SignedProposalCid", MK12_K_CID, signed_proposal_cid),
};
#undef T
static const struct mk12_shape deal_status_shape =
	SHAPE("DealStatus", false, deal_status_fields);

#define T struct mk12_status_response
static const struct mk12_field status_response_fields[] = {
	FLD(T, "Error", MK12_K_STR, error),
	FLD(T, "DealUUID", MK12_K_UUID, uuid),
	FLD(T, "IsOffline", MK12_K_BOOL, is_offline),
	OPT(T, "DealStatus", MK12_K_STRUCT, status, has_status,
	    &deal_status_shape),
	FLD(T, "TransferSize", MK12_K_U64, transfer_size),
	FLD(T, "NBytesReceived", MK12_K_U64, nbytes_received),
};
#undef T
static const struct mk12_shape status_response_shape =
	SHAPE("DealStatusResponse", false, status_response_fields);

#define T struct mk12_ask
static const struct mk12_field ask_fields[] = {
	FLD(T, "Miner", MK12_K_ADDR, miner),
	FLD(T, "Price", MK12_K_BIG, price),
	FLD(T, "SeqNo", MK12_K_U64, seq_no),
	FLD(T, "Expiry", MK12_K_I64, expiry),
	FLD(T, "Timestamp", MK12_K_I64, timestamp),
	FLD(T, "MaxPieceSize", MK12_K_U64, max_piece_size),
	FLD(T, "MinPieceSize", MK12_K_U64, min_piece_size),
	FLD(T, "VerifiedPrice", MK12_K_BIG, verified_price),
};
#undef T
static const struct mk12_shape ask_shape =
	SHAPE("StorageAsk", false, ask_fields);

#define T struct mk12_signed_ask
static const struct mk12_field signed_ask_fields[] = {
	OPT(T, "Ask", MK12_K_STRUCT, ask, has_ask, &ask_shape),
	OPT(T, "Signature", MK12_K_SIG, signature, has_signature, NULL),
};
#undef T
static const struct mk12_shape signed_ask_shape =
	SHAPE("SignedStorageAsk", false, signed_ask_fields);

#define T struct mk12_ask_request
static const struct mk12_field ask_request_fields[] = {
	FLD(T, "Miner", MK12_K_ADDR, miner),
};
#undef T
static const struct mk12_shape ask_request_shape =
	SHAPE("AskRequest", false, ask_request_fields);

#define T struct mk12_ask_response
static const struct mk12_field ask_response_fields[] = {
	OPT(T, "Ask", MK12_K_STRUCT, ask, has_ask, &signed_ask_shape),
};
#undef T
static const struct mk12_shape ask_response_shape =
	SHAPE("AskResponse", false, ask_response_fields);

/* ---- the proposal ---- */

int mk12_proposal_encode(struct buf *out, const struct mk12_proposal *p)
{
	return mk12_shape_encode(out, &proposal_shape, p, 0);
}

int mk12_proposal_decode(struct mk12_proposal *out, const uint8_t *data,
			 size_t len)
{
	return mk12_shape_decode(out, sizeof(*out), &proposal_shape, data, len,
				 NULL);
}

void mk12_proposal_release(struct mk12_proposal *p)
{
	mk12_shape_release(&proposal_shape, p, sizeof(*p));
}

int mk12_proposal_cid(struct cid *out, const struct mk12_proposal *p)
{
	return mk12_shape_cid(out, MHASH_BLAKE2B_256, &proposal_shape, p);
}

int mk12_client_proposal_encode(struct buf *out,
				const struct mk12_client_proposal *cp)
{
	return mk12_shape_encode(out, &client_proposal_shape, cp, 0);
}

int mk12_client_proposal_decode(struct mk12_client_proposal *out,
				const uint8_t *data, size_t len)
{
	return mk12_shape_decode(out, sizeof(*out), &client_proposal_shape,
				 data, len, NULL);
}

void mk12_client_proposal_release(struct mk12_client_proposal *cp)
{
	mk12_shape_release(&client_proposal_shape, cp, sizeof(*cp));
}

/*
 * Curio and Boost take it from go-cbor-util's AsIpld, which re-encodes
 * the ClientDealProposal with go-ipld-cbor and hashes it with its
 * default, sha2-256 (not Filecoin's blake2b).
 */
int mk12_signed_proposal_cid(struct cid *out,
			     const struct mk12_client_proposal *cp)
{
	return mk12_shape_cid(out, MHASH_SHA2_256, &client_proposal_shape, cp);
}

int mk12_label_set(struct mk12_label *l, bool is_bytes, const void *p,
		   size_t len)
{
	uint8_t *copy = NULL;

	if (!is_bytes && !utf8_valid(p, len))
		return efs_error_set(EFS_EINVAL, "mk12: label is not utf-8");
	if (len > MK12_BYTES_MAX)
		return efs_error_set(EFS_EINVAL, "mk12: label too long");
	if (len && !(copy = efs_memdup(p, len)))
		return efs_error_set(EFS_ENOMEM, "mk12: out of memory");
	efs_free(l->data.ptr);
	l->data.ptr = copy;
	l->data.len = len;
	l->is_bytes = is_bytes;
	return 0;
}

/* ---- store ---- */

int mk12_deal_params_encode(struct buf *out, const struct mk12_deal_params *dp)
{
	return mk12_shape_encode(out, &deal_params_shape, dp,
				 dp->v120 ? MK12_F_V121 : 0);
}

int mk12_deal_params_decode(struct mk12_deal_params *out, const uint8_t *data,
			    size_t len)
{
	uint64_t seen = 0, v121 = 0;
	int rc = mk12_shape_decode(out, sizeof(*out), &deal_params_shape, data,
				   len, &seen);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < deal_params_shape.n; i++)
		if (deal_params_fields[i].flags & MK12_F_V121)
			v121 |= (uint64_t)1 << i;
	out->v120 = !(seen & v121);
	return 0;
}

void mk12_deal_params_release(struct mk12_deal_params *dp)
{
	mk12_shape_release(&deal_params_shape, dp, sizeof(*dp));
}

int mk12_deal_response_encode(struct buf *out,
			      const struct mk12_deal_response *r)
{
	return mk12_shape_encode(out, &deal_response_shape, r, 0);
}

int mk12_deal_response_decode(struct mk12_deal_response *out,
			      const uint8_t *data, size_t len)
{
	return mk12_shape_decode(out, sizeof(*out), &deal_response_shape, data,
				 len, NULL);
}

void mk12_deal_response_release(struct mk12_deal_response *r)
{
	mk12_shape_release(&deal_response_shape, r, sizeof(*r));
}

/* ---- status ---- */

int mk12_status_request_encode(struct buf *out,
			       const struct mk12_status_request *r)
{
	return mk12_shape_encode(out, &status_request_shape, r, 0);
}

int mk12_status_request_decode(struct mk12_status_request *out,
			       const uint8_t *data, size_t len)
{
	return mk12_shape_decode(out, sizeof(*out), &status_request_shape, data,
				 len, NULL);
}

int mk12_status_response_encode(struct buf *out,
				const struct mk12_status_response *r)
{
	return mk12_shape_encode(out, &status_response_shape, r, 0);
}

int mk12_status_response_decode(struct mk12_status_response *out,
				const uint8_t *data, size_t len)
{
	return mk12_shape_decode(out, sizeof(*out), &status_response_shape,
				 data, len, NULL);
}

void mk12_status_response_release(struct mk12_status_response *r)
{
	mk12_shape_release(&status_response_shape, r, sizeof(*r));
}

/* ---- ask ---- */

int mk12_ask_encode(struct buf *out, const struct mk12_ask *a)
{
	return mk12_shape_encode(out, &ask_shape, a, 0);
}

int mk12_ask_decode(struct mk12_ask *out, const uint8_t *data, size_t len)
{
	return mk12_shape_decode(out, sizeof(*out), &ask_shape, data, len,
				 NULL);
}

int mk12_signed_ask_encode(struct buf *out, const struct mk12_signed_ask *a)
{
	return mk12_shape_encode(out, &signed_ask_shape, a, 0);
}

int mk12_signed_ask_decode(struct mk12_signed_ask *out, const uint8_t *data,
			   size_t len)
{
	return mk12_shape_decode(out, sizeof(*out), &signed_ask_shape, data,
				 len, NULL);
}

int mk12_ask_request_encode(struct buf *out, const struct mk12_ask_request *r)
{
	return mk12_shape_encode(out, &ask_request_shape, r, 0);
}

int mk12_ask_request_decode(struct mk12_ask_request *out, const uint8_t *data,
			    size_t len)
{
	return mk12_shape_decode(out, sizeof(*out), &ask_request_shape, data,
				 len, NULL);
}

int mk12_ask_response_encode(struct buf *out, const struct mk12_ask_response *r)
{
	return mk12_shape_encode(out, &ask_response_shape, r, 0);
}

int mk12_ask_response_decode(struct mk12_ask_response *out, const uint8_t *data,
			     size_t len)
{
	return mk12_shape_decode(out, sizeof(*out), &ask_response_shape, data,
				 len, NULL);
}

/* ---- UUIDs ---- */

int mk12_uuid_generate(uint8_t out[MK12_UUID_LEN])
{
	if (fdio_random(out, MK12_UUID_LEN) < 0)
		return efs_error_set_errno(EFS_EIO, errno, "mk12: getrandom");
	out[6] = (uint8_t)((out[6] & 0x0f) | 0x40);  /* version 4 */
	out[8] = (uint8_t)((out[8] & 0x3f) | 0x80);  /* RFC 4122 variant */
	return 0;
}

/* Where the hyphens of the text form go. */
static bool uuid_hyphen_at(size_t i)
{
	return i == 8 || i == 13 || i == 18 || i == 23;
}

void mk12_uuid_format(char *out, const uint8_t uuid[MK12_UUID_LEN])
{
	static const char hex[] = "0123456789abcdef";
	size_t j = 0;

	for (size_t i = 0; i < MK12_UUID_STR_MAX - 1; i++) {
		if (uuid_hyphen_at(i)) {
			out[i] = '-';
			continue;
		}
		out[i] = hex[(uuid[j / 2] >> (j % 2 ? 0 : 4)) & 0xf];
		j++;
	}
	out[MK12_UUID_STR_MAX - 1] = '\0';
}

int mk12_uuid_parse(uint8_t out[MK12_UUID_LEN], const char *s, size_t len)
{
	uint8_t u[MK12_UUID_LEN] = { 0 };
	size_t j = 0;

	if (len != MK12_UUID_STR_MAX - 1)
		return efs_error_set(EFS_EINVAL, "mk12: bad uuid length %zu",
				     len);
	for (size_t i = 0; i < len; i++) {
		int v = mbase_hex_value(s[i]);

		if (uuid_hyphen_at(i) ? s[i] != '-' : v < 0)
			return efs_error_set(EFS_EINVAL,
					     "mk12: bad uuid \"%.*s\"",
					     (int)len, s);
		if (uuid_hyphen_at(i))
			continue;
		u[j / 2] = (uint8_t)(u[j / 2] | v << (j % 2 ? 0 : 4));
		j++;
	}
	memcpy(out, u, sizeof(u));
	return 0;
}
