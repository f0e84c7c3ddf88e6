/*
 * mk12.c - the Boost 1.2.x / Curio mk12 deal messages in CBOR (see
 * mk12.h).
 *
 * Design notes:
 * - Each Go struct is described once, by a table of its fields (struct
 *   shape): Go name, kind, where the value sits in our C struct.  The
 *   same table drives the encoder, the decoder and release, much as
 *   cbor-gen generates one MarshalCBOR/UnmarshalCBOR pair per struct.
 *   Map shapes list their fields in canonical key order (length, then
 *   bytes), which is the order cbor-gen writes, so the encoder walks the
 *   table as it stands.
 * - Decoding first checks the whole input as strict DAG-CBOR
 *   (cbor_dec_init): one item, minimal heads, definite lengths, depth
 *   and every length against the bytes there.  The shape walk then only
 *   judges types and sizes.
 * - How this compares with what cbor-gen (whyrusleeping/cbor-gen, as
 *   generated into Curio's market/mk12 and go-state-types) accepts:
 *
 *	input                          cbor-gen           here
 *	non-minimal head, indefinite   error              error
 *	unknown map key                skipped            skipped
 *	repeated map key               last one wins      error
 *	keys out of canonical order    accepted           error
 *	field missing from a map       Go zero value      zero value, but
 *	                                                  error for a CID,
 *	                                                  address, signature
 *	                                                  or proposal (Go
 *	                                                  could not encode
 *	                                                  its zero value)
 *	bytes after the item           not read           error
 *	signature bytes                1..200, type 1-3   type 1-3 and that
 *	                                                  type's exact length
 *	text with a NUL byte           accepted           error (our strings
 *	                                                  are C strings)
 *	label text not UTF-8           error              error
 *	not DAG-CBOR, even in a        accepted           error
 *	skipped value (a 16- or
 *	32-bit float, a tag not 42)
 *
 *   Real encoders (cbor-gen itself) never produce the inputs in the
 *   right-hand column's extra errors, so nothing a Boost or Curio peer
 *   sends is refused.
 * - Caps follow cbor-gen: text 8192 bytes, byte strings and labels
 *   2 MiB, addresses 64 bytes, big integers 128 bytes (bigint.h then
 *   refuses more than 256 bits), CIDs as cbor.c checks them.
 */
#include "core/mk12.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "core/alloc.h"
#include "core/cbor.h"
#include "core/error.h"
#include "core/mhash.h"
#include "core/mk12_i.h"

#include "core/banned.h"

/* Longest address byte form go-address reads from CBOR. */
#define ADDR_CBOR_MAX 64
/* Longest big integer go-state-types reads (BigIntMaxSerializedLen). */
#define BIGINT_CBOR_MAX 128
/* Longest signature byte form go-state-types reads. */
#define SIG_CBOR_MAX 200

enum kind {
	K_BOOL,
	K_U64,
	K_I64,
	K_STR,     /* char *, NUL-terminated */
	K_BYTES,   /* struct mk12_bytes */
	K_UUID,    /* uint8_t[16] */
	K_CID,     /* struct cid */
	K_ADDR,    /* struct filaddr */
	K_BIG,     /* struct bigint */
	K_LABEL,   /* struct mk12_label */
	K_SIG,     /* struct filsig */
	K_STRUCT,  /* another shape */
};

/* A Go pointer: null when the bool at has_off is false. */
#define F_NULLABLE 1u
/* Added by protocol 1.2.1 (left out of the 1.2.0 form). */
#define F_V121 2u

struct shape;

struct field {
	const char *name;          /* the Go field name (the map key) */
	enum kind kind;
	size_t off;                /* of the value in the C struct */
	unsigned flags;
	size_t has_off;            /* F_NULLABLE: of its bool */
	const struct shape *sub;   /* K_STRUCT */
};

struct shape {
	const char *name;          /* the Go type name, for messages */
	bool tuple;                /* an array in field order; else a map */
	const struct field *fields;
	size_t n;
};

#define FLD(T, name, kind, m) { name, kind, offsetof(T, m), 0, 0, NULL }
#define V121(T, name, kind, m) \
	{ name, kind, offsetof(T, m), F_V121, 0, NULL }
#define SUB(T, name, m, sub) \
	{ name, K_STRUCT, offsetof(T, m), 0, 0, &(sub) }
#define OPT(T, name, kind, m, has, sub) \
	{ name, kind, offsetof(T, m), F_NULLABLE, offsetof(T, has), sub }
#define SHAPE(name, tuple, f) { name, tuple, f, sizeof(f) / sizeof(f[0]) }

/* ---- the tables ---- */

#define T struct mk12_proposal
static const struct field proposal_fields[] = {
	FLD(T, "PieceCID", K_CID, piece_cid),
	FLD(T, "PieceSize", K_U64, piece_size),
	FLD(T, "VerifiedDeal", K_BOOL, verified),
	FLD(T, "Client", K_ADDR, client),
	FLD(T, "Provider", K_ADDR, provider),
	FLD(T, "Label", K_LABEL, label),
	FLD(T, "StartEpoch", K_I64, start_epoch),
	FLD(T, "EndEpoch", K_I64, end_epoch),
	FLD(T, "StoragePricePerEpoch", K_BIG, price_per_epoch),
	FLD(T, "ProviderCollateral", K_BIG, provider_collateral),
	FLD(T, "ClientCollateral", K_BIG, client_collateral),
};
#undef T
static const struct shape proposal_shape =
	SHAPE("DealProposal", true, proposal_fields);

#define T struct mk12_client_proposal
static const struct field client_proposal_fields[] = {
	SUB(T, "Proposal", proposal, proposal_shape),
	FLD(T, "ClientSignature", K_SIG, signature),
};
#undef T
static const struct shape client_proposal_shape =
	SHAPE("ClientDealProposal", true, client_proposal_fields);

#define T struct mk12_transfer
static const struct field transfer_fields[] = {
	FLD(T, "Size", K_U64, size),
	FLD(T, "Type", K_STR, type),
	FLD(T, "Params", K_BYTES, params),
	FLD(T, "ClientID", K_STR, client_id),
};
#undef T
static const struct shape transfer_shape =
	SHAPE("Transfer", false, transfer_fields);

#define T struct mk12_deal_params
static const struct field deal_params_fields[] = {
	FLD(T, "DealUUID", K_UUID, uuid),
	SUB(T, "Transfer", transfer, transfer_shape),
	FLD(T, "IsOffline", K_BOOL, is_offline),
	FLD(T, "DealDataRoot", K_CID, data_root),
	V121(T, "SkipIPNIAnnounce", K_BOOL, skip_ipni_announce),
	SUB(T, "ClientDealProposal", proposal, client_proposal_shape),
	V121(T, "RemoveUnsealedCopy", K_BOOL, remove_unsealed_copy),
};
#undef T
static const struct shape deal_params_shape =
	SHAPE("DealParams", false, deal_params_fields);

#define T struct mk12_deal_response
static const struct field deal_response_fields[] = {
	FLD(T, "Message", K_STR, message),
	FLD(T, "Accepted", K_BOOL, accepted),
};
#undef T
static const struct shape deal_response_shape =
	SHAPE("DealResponse", false, deal_response_fields);

#define T struct mk12_status_request
static const struct field status_request_fields[] = {
	FLD(T, "DealUUID", K_UUID, uuid),
	FLD(T, "Signature", K_SIG, signature),
};
#undef T
static const struct shape status_request_shape =
	SHAPE("DealStatusRequest", false, status_request_fields);

#define T struct mk12_deal_status
static const struct field deal_status_fields[] = {
	FLD(T, "Error", K_STR, error),
	FLD(T, "Status", K_STR, status),
	SUB(T, "Proposal", proposal, proposal_shape),
	OPT(T, "PublishCid", K_CID, publish_cid, has_publish_cid, NULL),
	FLD(T, "ChainDealID", K_U64, chain_deal_id),
	FLD(T, "SealingStatus", K_STR, sealing_status),
	FLD(T, "SignedProposalCid", K_CID, signed_proposal_cid),
};
#undef T
static const struct shape deal_status_shape =
	SHAPE("DealStatus", false, deal_status_fields);

#define T struct mk12_status_response
static const struct field status_response_fields[] = {
	FLD(T, "Error", K_STR, error),
	FLD(T, "DealUUID", K_UUID, uuid),
	FLD(T, "IsOffline", K_BOOL, is_offline),
	OPT(T, "DealStatus", K_STRUCT, status, has_status,
	    &deal_status_shape),
	FLD(T, "TransferSize", K_U64, transfer_size),
	FLD(T, "NBytesReceived", K_U64, nbytes_received),
};
#undef T
static const struct shape status_response_shape =
	SHAPE("DealStatusResponse", false, status_response_fields);

#define T struct mk12_ask
static const struct field ask_fields[] = {
	FLD(T, "Miner", K_ADDR, miner),
	FLD(T, "Price", K_BIG, price),
	FLD(T, "SeqNo", K_U64, seq_no),
	FLD(T, "Expiry", K_I64, expiry),
	FLD(T, "Timestamp", K_I64, timestamp),
	FLD(T, "MaxPieceSize", K_U64, max_piece_size),
	FLD(T, "MinPieceSize", K_U64, min_piece_size),
	FLD(T, "VerifiedPrice", K_BIG, verified_price),
};
#undef T
static const struct shape ask_shape = SHAPE("StorageAsk", false, ask_fields);

#define T struct mk12_signed_ask
static const struct field signed_ask_fields[] = {
	OPT(T, "Ask", K_STRUCT, ask, has_ask, &ask_shape),
	OPT(T, "Signature", K_SIG, signature, has_signature, NULL),
};
#undef T
static const struct shape signed_ask_shape =
	SHAPE("SignedStorageAsk", false, signed_ask_fields);

#define T struct mk12_ask_request
static const struct field ask_request_fields[] = {
	FLD(T, "Miner", K_ADDR, miner),
};
#undef T
static const struct shape ask_request_shape =
	SHAPE("AskRequest", false, ask_request_fields);

#define T struct mk12_ask_response
static const struct field ask_response_fields[] = {
	OPT(T, "Ask", K_STRUCT, ask, has_ask, &signed_ask_shape),
};
#undef T
static const struct shape ask_response_shape =
	SHAPE("AskResponse", false, ask_response_fields);

/* ---- shared helpers ---- */

/* Whether all of p[0..n) is UTF-8 (Go's utf8.Valid). */
static bool utf8_valid(const uint8_t *p, size_t n)
{
	for (size_t i = 0, w; i < n; i += w)
		if ((w = mk12_utf8_width(p + i, n - i)) == 0)
			return false;
	return true;
}

static void *at(const void *obj, size_t off)
{
	return (char *)obj + off;
}

/* ---- encoder ---- */

static int put_shape(struct buf *b, const struct shape *s, const void *obj,
		     unsigned skip);

static int too_long(const struct shape *s, const struct field *f, size_t n)
{
	return efs_error_set(EFS_EINVAL, "mk12: %s.%s: %zu bytes is too long",
			     s->name, f->name, n);
}

static int put_label(struct buf *b, const struct shape *s,
		     const struct field *f, const struct mk12_label *l)
{
	if (l->data.len > MK12_BYTES_MAX)
		return too_long(s, f, l->data.len);
	if (l->is_bytes)
		return cbor_put_bytes(b, l->data.ptr, l->data.len);
	if (!utf8_valid(l->data.ptr, l->data.len))
		return efs_error_set(EFS_EINVAL,
				     "mk12: %s.%s: text label is not utf-8",
				     s->name, f->name);
	return cbor_put_text(b, (const char *)l->data.ptr, l->data.len);
}

static int put_sig(struct buf *b, const struct shape *s,
		   const struct field *f, const struct filsig *sig)
{
	uint8_t raw[1 + FILSIG_DATA_MAX];

	if (sig->len > FILSIG_DATA_MAX)
		return too_long(s, f, sig->len);
	raw[0] = sig->type;
	memcpy(raw + 1, sig->data, sig->len);
	return cbor_put_bytes(b, raw, 1 + sig->len);
}

static int put_value(struct buf *b, const struct shape *s,
		     const struct field *f, const void *obj)
{
	const void *v = at(obj, f->off);
	uint8_t raw[FILADDR_BYTES_MAX + BIGINT_BYTES_MAX];
	const char *str;
	const struct mk12_bytes *bytes;

	switch (f->kind) {
	case K_BOOL:
		return cbor_put_bool(b, *(const bool *)v);
	case K_U64:
		return cbor_put_uint(b, *(const uint64_t *)v);
	case K_I64:
		return cbor_put_int(b, *(const int64_t *)v);
	case K_STR:
		str = *(char *const *)v;
		if (str && strlen(str) > MK12_STRING_MAX)
			return too_long(s, f, strlen(str));
		return cbor_put_str(b, str ? str : "");
	case K_BYTES:
		bytes = v;
		if (bytes->len > MK12_BYTES_MAX)
			return too_long(s, f, bytes->len);
		return cbor_put_bytes(b, bytes->ptr, bytes->len);
	case K_UUID:
		return cbor_put_bytes(b, v, MK12_UUID_LEN);
	case K_CID:
		return cbor_put_cid(b, v);
	case K_ADDR:
		return cbor_put_bytes(b, raw, filaddr_to_bytes(raw, v));
	case K_BIG:
		return cbor_put_bytes(b, raw, bigint_to_bytes(raw, v));
	case K_LABEL:
		return put_label(b, s, f, v);
	case K_SIG:
		return put_sig(b, s, f, v);
	case K_STRUCT:
		return put_shape(b, f->sub, v, 0);
	}
	return efs_error_set(EFS_EINVAL, "mk12: bad field kind");
}

/* Write s; fields with a flag in skip are left out (the 1.2.0 form). */
static int put_shape(struct buf *b, const struct shape *s, const void *obj,
		     unsigned skip)
{
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < s->n; i++)
		n += !(s->fields[i].flags & skip);
	rc = s->tuple ? cbor_put_array(b, n) : cbor_put_map(b, n);
	for (size_t i = 0; rc == 0 && i < s->n; i++) {
		const struct field *f = &s->fields[i];

		if (f->flags & skip)
			continue;
		if (!s->tuple)
			rc = cbor_put_str(b, f->name);
		if (rc < 0)
			break;
		if ((f->flags & F_NULLABLE) &&
		    !*(const bool *)at(obj, f->has_off))
			rc = cbor_put_null(b);
		else
			rc = put_value(b, s, f, obj);
	}
	return rc;
}

/* Encode at the end of out; on failure out keeps its old length. */
static int encode(struct buf *out, const struct shape *s, const void *obj,
		  unsigned skip)
{
	size_t len = out->len;
	int rc = put_shape(out, s, obj, skip);

	if (rc < 0)
		buf_truncate(out, len);
	return rc;
}

/* ---- decoder ---- */

static int get_shape(struct cbor_dec *d, const struct shape *s, void *obj,
		     uint64_t *seen);

static int wrong_type(const struct shape *s, const struct field *f,
		      const char *want, enum cbor_type found)
{
	return efs_error_set(EFS_ECORRUPT, "mk12: %s.%s: expected %s, found %s",
			     s->name, f->name, want, cbor_type_name(found));
}

static int bad_value(const struct shape *s, const struct field *f,
		     const char *what)
{
	return efs_error_set(EFS_ECORRUPT, "mk12: %s.%s: %s", s->name,
			     f->name, what);
}

/* The next item as a byte string of at most max bytes. */
static int get_bytes_max(struct cbor_dec *d, const struct shape *s,
			 const struct field *f, size_t max,
			 const uint8_t **p, size_t *n)
{
	enum cbor_type t = cbor_peek(d);

	if (t != CBOR_BYTES)
		return wrong_type(s, f, "byte string", t);
	if (cbor_get_bytes(d, p, n) < 0)
		return EFS_ECORRUPT;
	if (*n > max)
		return bad_value(s, f, "byte string too long");
	return 0;
}

static int copy_bytes(struct mk12_bytes *out, const uint8_t *p, size_t n)
{
	if (n == 0)
		return 0;
	out->ptr = efs_memdup(p, n);
	if (!out->ptr)
		return efs_error_set(EFS_ENOMEM, "mk12: out of memory");
	out->len = n;
	return 0;
}

static int get_str(struct cbor_dec *d, const struct shape *s,
		   const struct field *f, char **out)
{
	enum cbor_type t = cbor_peek(d);
	const char *p;
	size_t n;

	if (t != CBOR_TEXT)
		return wrong_type(s, f, "text string", t);
	if (cbor_get_text(d, &p, &n) < 0)
		return EFS_ECORRUPT;
	if (n > MK12_STRING_MAX)
		return bad_value(s, f, "text too long");
	if (memchr(p, '\0', n))
		return bad_value(s, f, "text holds a nul byte");
	*out = efs_malloc(n + 1);
	if (!*out)
		return efs_error_set(EFS_ENOMEM, "mk12: out of memory");
	memcpy(*out, p, n);
	(*out)[n] = '\0';
	return 0;
}

static int get_label(struct cbor_dec *d, const struct shape *s,
		     const struct field *f, struct mk12_label *out)
{
	enum cbor_type t = cbor_peek(d);
	const uint8_t *p;
	const char *text;
	size_t n;

	if (t == CBOR_TEXT) {
		if (cbor_get_text(d, &text, &n) < 0)
			return EFS_ECORRUPT;
		p = (const uint8_t *)text;
	} else if (t == CBOR_BYTES) {
		if (cbor_get_bytes(d, &p, &n) < 0)
			return EFS_ECORRUPT;
	} else {
		return wrong_type(s, f, "text or byte string", t);
	}
	if (n > MK12_BYTES_MAX)
		return bad_value(s, f, "label too long");
	if (t == CBOR_TEXT && !utf8_valid(p, n))
		return bad_value(s, f, "label string not valid utf8");
	out->is_bytes = t == CBOR_BYTES;
	return copy_bytes(&out->data, p, n);
}

/* Wrap the message a lower layer left: "mk12: T.F: <it>". */
static int wrap_error(const struct shape *s, const struct field *f)
{
	char msg[200];

	snprintf(msg, sizeof(msg), "%s", efs_error_msg());
	return bad_value(s, f, msg);
}

static int get_int(struct cbor_dec *d, const struct shape *s,
		   const struct field *f, int64_t *out)
{
	enum cbor_type t = cbor_peek(d);

	if (t != CBOR_UINT && t != CBOR_NEGINT)
		return wrong_type(s, f, "integer", t);
	if (cbor_get_int(d, out) < 0)
		return bad_value(s, f, "integer out of int64 range");
	return 0;
}

static int get_value(struct cbor_dec *d, const struct shape *s,
		     const struct field *f, void *obj)
{
	void *v = at(obj, f->off);
	enum cbor_type t = cbor_peek(d);
	const uint8_t *p;
	size_t n;
	int rc;

	switch (f->kind) {
	case K_BOOL:
		if (t != CBOR_BOOL)
			return wrong_type(s, f, "bool", t);
		return cbor_get_bool(d, v);
	case K_U64:
		if (t != CBOR_UINT)
			return wrong_type(s, f, "unsigned integer", t);
		return cbor_get_uint(d, v);
	case K_I64:
		return get_int(d, s, f, v);
	case K_STR:
		return get_str(d, s, f, v);
	case K_BYTES:
		rc = get_bytes_max(d, s, f, MK12_BYTES_MAX, &p, &n);
		return rc < 0 ? rc : copy_bytes(v, p, n);
	case K_UUID:
		rc = get_bytes_max(d, s, f, MK12_UUID_LEN, &p, &n);
		if (rc == 0 && n != MK12_UUID_LEN)
			rc = bad_value(s, f, "uuid is not 16 bytes");
		if (rc == 0)
			memcpy(v, p, n);
		return rc;
	case K_CID:
		if (t != CBOR_CID)
			return wrong_type(s, f, "cid", t);
		return cbor_get_cid(d, v);
	case K_ADDR:
		rc = get_bytes_max(d, s, f, ADDR_CBOR_MAX, &p, &n);
		if (rc == 0 && n == 0)
			rc = bad_value(s, f, "empty address");
		if (rc == 0 && filaddr_from_bytes(v, p, n) < 0)
			rc = wrap_error(s, f);
		return rc;
	case K_BIG:
		rc = get_bytes_max(d, s, f, BIGINT_CBOR_MAX, &p, &n);
		if (rc == 0 && bigint_from_bytes(v, p, n) < 0)
			rc = wrap_error(s, f);
		return rc;
	case K_LABEL:
		return get_label(d, s, f, v);
	case K_SIG:
		rc = get_bytes_max(d, s, f, SIG_CBOR_MAX, &p, &n);
		if (rc == 0 && filsig_from_bytes(v, p, n) < 0)
			rc = wrap_error(s, f);
		return rc;
	case K_STRUCT:
		return get_shape(d, f->sub, v, NULL);
	}
	return efs_error_set(EFS_EINVAL, "mk12: bad field kind");
}

/* A field, or null for a Go pointer. */
static int get_field(struct cbor_dec *d, const struct shape *s,
		     const struct field *f, void *obj)
{
	if (f->flags & F_NULLABLE) {
		bool *has = at(obj, f->has_off);

		*has = cbor_peek(d) != CBOR_NULL;
		if (!*has)
			return cbor_get_null(d);
	}
	return get_value(d, s, f, obj);
}

static int get_tuple(struct cbor_dec *d, const struct shape *s, void *obj)
{
	enum cbor_type t = cbor_peek(d);
	size_t n;
	int rc = 0;

	if (t != CBOR_ARRAY)
		return efs_error_set(EFS_ECORRUPT,
				     "mk12: %s: expected array, found %s",
				     s->name, cbor_type_name(t));
	(void)cbor_get_array(d, &n);
	if (n != s->n)
		return efs_error_set(EFS_ECORRUPT,
				     "mk12: %s: %zu fields instead of %zu",
				     s->name, n, s->n);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = get_field(d, s, &s->fields[i], obj);
	return rc;
}

static const struct field *find_field(const struct shape *s, const char *key,
				      size_t len, size_t *idx)
{
	for (size_t i = 0; i < s->n; i++) {
		const char *name = s->fields[i].name;

		if (strlen(name) == len && !memcmp(name, key, len)) {
			*idx = i;
			return &s->fields[i];
		}
	}
	return NULL;
}

/* Whether Go's zero value of f could be encoded (so f may be absent). */
static bool may_be_absent(const struct field *f)
{
	if (f->flags & F_NULLABLE)
		return true;
	switch (f->kind) {
	case K_CID:
	case K_ADDR:
	case K_SIG:
		return false;
	case K_STRUCT:
		return !f->sub->tuple;
	default:
		return true;
	}
}

static int get_map(struct cbor_dec *d, const struct shape *s, void *obj,
		   uint64_t *seen_out)
{
	enum cbor_type t = cbor_peek(d);
	uint64_t seen = 0;
	size_t n;
	int rc = 0;

	if (t != CBOR_MAP)
		return efs_error_set(EFS_ECORRUPT,
				     "mk12: %s: expected map, found %s",
				     s->name, cbor_type_name(t));
	(void)cbor_get_map(d, &n);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const struct field *f;
		const char *key;
		size_t klen, idx;

		/* cbor_dec_init saw to it that every key is text */
		(void)cbor_get_text(d, &key, &klen);
		f = find_field(s, key, klen, &idx);
		if (!f) {
			rc = cbor_skip(d);  /* as cbor-gen: unknown, ignored */
			continue;
		}
		rc = get_field(d, s, f, obj);
		seen |= (uint64_t)1 << idx;
	}
	for (size_t i = 0; rc == 0 && i < s->n; i++)
		if (!(seen >> i & 1) && !may_be_absent(&s->fields[i]))
			rc = efs_error_set(EFS_ECORRUPT, "mk12: %s: no %s",
					   s->name, s->fields[i].name);
	if (seen_out)
		*seen_out = seen;
	return rc;
}

static int get_shape(struct cbor_dec *d, const struct shape *s, void *obj,
		     uint64_t *seen)
{
	return s->tuple ? get_tuple(d, s, obj) : get_map(d, s, obj, seen);
}

static void release_shape(const struct shape *s, void *obj)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct field *f = &s->fields[i];
		void *v = at(obj, f->off);

		switch (f->kind) {
		case K_STR:
			efs_free(*(char **)v);
			break;
		case K_BYTES:
			efs_free(((struct mk12_bytes *)v)->ptr);
			break;
		case K_LABEL:
			efs_free(((struct mk12_label *)v)->data.ptr);
			break;
		case K_STRUCT:
			release_shape(f->sub, v);
			break;
		default:
			break;
		}
	}
}

static void release(const struct shape *s, void *obj, size_t size)
{
	release_shape(s, obj);
	memset(obj, 0, size);
}

/* Decode all of data[0..len) into out (size bytes, cleared first). */
static int decode(const struct shape *s, void *out, size_t size,
		  const uint8_t *data, size_t len, uint64_t *seen)
{
	struct cbor_dec d;
	int rc;

	memset(out, 0, size);
	rc = cbor_dec_init(&d, data, len);
	if (rc == 0)
		rc = get_shape(&d, s, out, seen);
	if (rc < 0)
		release(s, out, size);
	return rc;
}

/* ---- the proposal ---- */

int mk12_proposal_encode(struct buf *out, const struct mk12_proposal *p)
{
	return encode(out, &proposal_shape, p, 0);
}

int mk12_proposal_decode(struct mk12_proposal *out, const uint8_t *data,
			 size_t len)
{
	return decode(&proposal_shape, out, sizeof(*out), data, len, NULL);
}

void mk12_proposal_release(struct mk12_proposal *p)
{
	release(&proposal_shape, p, sizeof(*p));
}

static int cid_of(struct cid *out, uint64_t hash, const struct shape *s,
		  const void *obj)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	int rc = encode(&b, s, obj, 0);

	if (rc == 0)
		rc = cid_hash(out, 1, CID_CODEC_DAG_CBOR, hash, b.ptr, b.len);
	buf_release(&b);
	return rc;
}

int mk12_proposal_cid(struct cid *out, const struct mk12_proposal *p)
{
	return cid_of(out, MHASH_BLAKE2B_256, &proposal_shape, p);
}

int mk12_client_proposal_encode(struct buf *out,
				const struct mk12_client_proposal *cp)
{
	return encode(out, &client_proposal_shape, cp, 0);
}

int mk12_client_proposal_decode(struct mk12_client_proposal *out,
				const uint8_t *data, size_t len)
{
	return decode(&client_proposal_shape, out, sizeof(*out), data, len,
		      NULL);
}

void mk12_client_proposal_release(struct mk12_client_proposal *cp)
{
	release(&client_proposal_shape, cp, sizeof(*cp));
}

/*
 * Curio and Boost take it from go-cbor-util's AsIpld, which re-encodes
 * the ClientDealProposal with go-ipld-cbor and hashes it with its
 * default, sha2-256 (not Filecoin's blake2b).
 */
int mk12_signed_proposal_cid(struct cid *out,
			     const struct mk12_client_proposal *cp)
{
	return cid_of(out, MHASH_SHA2_256, &client_proposal_shape, cp);
}

int mk12_label_set(struct mk12_label *l, bool is_bytes, const void *p,
		   size_t len)
{
	struct mk12_bytes copy = { NULL, 0 };
	int rc;

	if (!is_bytes && !utf8_valid(p, len))
		return efs_error_set(EFS_EINVAL, "mk12: label is not utf-8");
	if (len > MK12_BYTES_MAX)
		return efs_error_set(EFS_EINVAL, "mk12: label too long");
	rc = copy_bytes(&copy, p, len);
	if (rc < 0)
		return rc;
	efs_free(l->data.ptr);
	l->data = copy;
	l->is_bytes = is_bytes;
	return 0;
}

/* ---- store ---- */

int mk12_deal_params_encode(struct buf *out,
			    const struct mk12_deal_params *dp)
{
	return encode(out, &deal_params_shape, dp, dp->v120 ? F_V121 : 0);
}

int mk12_deal_params_decode(struct mk12_deal_params *out,
			    const uint8_t *data, size_t len)
{
	uint64_t seen = 0, v121 = 0;
	int rc = decode(&deal_params_shape, out, sizeof(*out), data, len,
			&seen);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < deal_params_shape.n; i++)
		if (deal_params_fields[i].flags & F_V121)
			v121 |= (uint64_t)1 << i;
	out->v120 = !(seen & v121);
	return 0;
}

void mk12_deal_params_release(struct mk12_deal_params *dp)
{
	release(&deal_params_shape, dp, sizeof(*dp));
}

int mk12_deal_response_encode(struct buf *out,
			      const struct mk12_deal_response *r)
{
	return encode(out, &deal_response_shape, r, 0);
}

int mk12_deal_response_decode(struct mk12_deal_response *out,
			      const uint8_t *data, size_t len)
{
	return decode(&deal_response_shape, out, sizeof(*out), data, len,
		      NULL);
}

void mk12_deal_response_release(struct mk12_deal_response *r)
{
	release(&deal_response_shape, r, sizeof(*r));
}

/* ---- status ---- */

int mk12_status_request_encode(struct buf *out,
			       const struct mk12_status_request *r)
{
	return encode(out, &status_request_shape, r, 0);
}

int mk12_status_request_decode(struct mk12_status_request *out,
			       const uint8_t *data, size_t len)
{
	return decode(&status_request_shape, out, sizeof(*out), data, len,
		      NULL);
}

int mk12_status_response_encode(struct buf *out,
				const struct mk12_status_response *r)
{
	return encode(out, &status_response_shape, r, 0);
}

int mk12_status_response_decode(struct mk12_status_response *out,
				const uint8_t *data, size_t len)
{
	return decode(&status_response_shape, out, sizeof(*out), data, len,
		      NULL);
}

void mk12_status_response_release(struct mk12_status_response *r)
{
	release(&status_response_shape, r, sizeof(*r));
}

/* ---- ask ---- */

int mk12_ask_encode(struct buf *out, const struct mk12_ask *a)
{
	return encode(out, &ask_shape, a, 0);
}

int mk12_ask_decode(struct mk12_ask *out, const uint8_t *data, size_t len)
{
	return decode(&ask_shape, out, sizeof(*out), data, len, NULL);
}

int mk12_signed_ask_encode(struct buf *out, const struct mk12_signed_ask *a)
{
	return encode(out, &signed_ask_shape, a, 0);
}

int mk12_signed_ask_decode(struct mk12_signed_ask *out, const uint8_t *data,
			   size_t len)
{
	return decode(&signed_ask_shape, out, sizeof(*out), data, len, NULL);
}

int mk12_ask_request_encode(struct buf *out,
			    const struct mk12_ask_request *r)
{
	return encode(out, &ask_request_shape, r, 0);
}

int mk12_ask_request_decode(struct mk12_ask_request *out,
			    const uint8_t *data, size_t len)
{
	return decode(&ask_request_shape, out, sizeof(*out), data, len, NULL);
}

int mk12_ask_response_encode(struct buf *out,
			     const struct mk12_ask_response *r)
{
	return encode(out, &ask_response_shape, r, 0);
}

int mk12_ask_response_decode(struct mk12_ask_response *out,
			     const uint8_t *data, size_t len)
{
	return decode(&ask_response_shape, out, sizeof(*out), data, len,
		      NULL);
}

/* ---- UUIDs ---- */

int mk12_uuid_generate(uint8_t out[MK12_UUID_LEN])
{
	ssize_t n;

	do
		n = getrandom(out, MK12_UUID_LEN, 0);
	while (n < 0 && errno == EINTR);
	if (n != MK12_UUID_LEN)
		return efs_error_set_errno(EFS_EIO, n < 0 ? errno : EIO,
					   "mk12: getrandom");
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

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int mk12_uuid_parse(uint8_t out[MK12_UUID_LEN], const char *s, size_t len)
{
	uint8_t u[MK12_UUID_LEN] = { 0 };
	size_t j = 0;

	if (len != MK12_UUID_STR_MAX - 1)
		return efs_error_set(EFS_EINVAL, "mk12: bad uuid length %zu",
				     len);
	for (size_t i = 0; i < len; i++) {
		int v = hex_value(s[i]);

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
