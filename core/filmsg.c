/*
 * filmsg.c - Filecoin chain messages in CBOR (see filmsg.h).
 *
 * The layout is cbor-gen's tuple encoding of Lotus' types.Message and
 * types.SignedMessage; the field checks are those of its generated
 * UnmarshalCBOR plus go-address, go-state-types big.Int and
 * crypto.Signature:
 *
 *   1. Version, Nonce and Method are unsigned integers; GasLimit is an
 *      int64 of either sign.
 *   2. To and From are byte strings of a non-empty valid address.
 *   3. Value, GasFeeCap and GasPremium are byte strings of a big integer.
 *   4. Params is a byte string of at most 2 MiB.
 *   5. The signature is a non-empty byte string of at most 200 bytes whose
 *      first byte is a known type.
 *
 * Our decoder is also strict where cbor-gen is lenient (it is DAG-CBOR:
 * minimal heads, nothing after the item), and it rejects a version other
 * than 0, as Lotus' DecodeMessage and mpool checks do.  What it accepts
 * re-encodes to the same bytes, except that big integers with redundant
 * zero bytes (which go-state-types accepts) come back canonical.
 */
#include "core/filmsg.h"

#include <string.h>

#include "core/alloc.h"
#include "core/cbor.h"
#include "core/error.h"
#include "core/mhash.h"

#include "core/banned.h"

#define MSG_FIELDS 10

void filmsg_init(struct filmsg *m)
{
	memset(m, 0, sizeof(*m));
	m->version = FILMSG_VERSION;
}

void filmsg_release(struct filmsg *m)
{
	efs_free(m->params);
	filmsg_init(m);
}

int filmsg_set_params(struct filmsg *m, const void *p, size_t len)
{
	uint8_t *copy = NULL;

	if (len > FILMSG_PARAMS_MAX)
		return efs_error_set(EFS_ETOOBIG,
				     "filmsg: params of %zu bytes", len);
	if (len && !(copy = efs_memdup(p, len)))
		return efs_error_set(EFS_ENOMEM, "filmsg: out of memory");
	efs_free(m->params);
	m->params = copy;
	m->params_len = len;
	return 0;
}

int filmsg_copy(struct filmsg *out, const struct filmsg *src)
{
	struct filmsg m = *src;
	int rc;

	m.params = NULL;
	m.params_len = 0;
	if ((rc = filmsg_set_params(&m, src->params, src->params_len)) < 0)
		return rc;
	*out = m;
	return 0;
}

bool filmsg_equal(const struct filmsg *a, const struct filmsg *b)
{
	return a->version == b->version && filaddr_equal(&a->to, &b->to) &&
	       filaddr_equal(&a->from, &b->from) && a->nonce == b->nonce &&
	       !bigint_cmp(&a->value, &b->value) &&
	       a->gas_limit == b->gas_limit &&
	       !bigint_cmp(&a->gas_fee_cap, &b->gas_fee_cap) &&
	       !bigint_cmp(&a->gas_premium, &b->gas_premium) &&
	       a->method == b->method && a->params_len == b->params_len &&
	       (!a->params_len || !memcmp(a->params, b->params, a->params_len));
}

static int put_addr(struct buf *b, const struct filaddr *a)
{
	uint8_t bytes[FILADDR_BYTES_MAX];

	return cbor_put_bytes(b, bytes, filaddr_to_bytes(bytes, a));
}

static int put_bigint(struct buf *b, const struct bigint *v)
{
	uint8_t bytes[BIGINT_BYTES_MAX];

	return cbor_put_bytes(b, bytes, bigint_to_bytes(bytes, v));
}

int filmsg_encode(struct buf *out, const struct filmsg *m)
{
	int rc;

	if ((rc = cbor_put_array(out, MSG_FIELDS)) < 0 ||
	    (rc = cbor_put_uint(out, m->version)) < 0 ||
	    (rc = put_addr(out, &m->to)) < 0 ||
	    (rc = put_addr(out, &m->from)) < 0 ||
	    (rc = cbor_put_uint(out, m->nonce)) < 0 ||
	    (rc = put_bigint(out, &m->value)) < 0 ||
	    (rc = cbor_put_int(out, m->gas_limit)) < 0 ||
	    (rc = put_bigint(out, &m->gas_fee_cap)) < 0 ||
	    (rc = put_bigint(out, &m->gas_premium)) < 0 ||
	    (rc = cbor_put_uint(out, m->method)) < 0 ||
	    (rc = cbor_put_bytes(out, m->params, m->params_len)) < 0)
		return rc;
	return 0;
}

/* Prefix a decoding error with the field it was in. */
static int field_error(const char *field)
{
	return efs_error_set(EFS_ECORRUPT, "filmsg: %s: %s", field,
			     efs_error_msg());
}

static int get_uint(struct cbor_dec *d, uint64_t *out, const char *field)
{
	return cbor_get_uint(d, out) < 0 ? field_error(field) : 0;
}

static int get_addr(struct cbor_dec *d, struct filaddr *out,
		    const char *field)
{
	const uint8_t *p;
	size_t len;

	if (cbor_get_bytes(d, &p, &len) < 0 ||
	    filaddr_from_bytes(out, p, len) < 0)
		return field_error(field);
	return 0;
}

static int get_bigint(struct cbor_dec *d, struct bigint *out,
		      const char *field)
{
	const uint8_t *p;
	size_t len;

	if (cbor_get_bytes(d, &p, &len) < 0 ||
	    bigint_from_bytes(out, p, len) < 0)
		return field_error(field);
	return 0;
}

/* The message at the cursor; params are copied into m on success. */
static int decode_msg(struct cbor_dec *d, struct filmsg *m)
{
	const uint8_t *params;
	size_t n, plen;
	int rc;

	filmsg_init(m);
	if (cbor_get_array(d, &n) < 0)
		return field_error("message");
	if (n != MSG_FIELDS)
		return efs_error_set(EFS_ECORRUPT,
				     "filmsg: message of %zu fields", n);
	if ((rc = get_uint(d, &m->version, "Version")) < 0)
		return rc;
	if (m->version != FILMSG_VERSION)
		return efs_error_set(EFS_ECORRUPT,
				     "filmsg: message version %llu unsupported",
				     (unsigned long long)m->version);
	if ((rc = get_addr(d, &m->to, "To")) < 0 ||
	    (rc = get_addr(d, &m->from, "From")) < 0 ||
	    (rc = get_uint(d, &m->nonce, "Nonce")) < 0 ||
	    (rc = get_bigint(d, &m->value, "Value")) < 0)
		return rc;
	if (cbor_get_int(d, &m->gas_limit) < 0)
		return field_error("GasLimit");
	if ((rc = get_bigint(d, &m->gas_fee_cap, "GasFeeCap")) < 0 ||
	    (rc = get_bigint(d, &m->gas_premium, "GasPremium")) < 0 ||
	    (rc = get_uint(d, &m->method, "Method")) < 0)
		return rc;
	if (cbor_get_bytes(d, &params, &plen) < 0)
		return field_error("Params");
	if (plen > FILMSG_PARAMS_MAX)
		return efs_error_set(EFS_ECORRUPT,
				     "filmsg: Params: byte array too large (%zu)",
				     plen);
	return filmsg_set_params(m, params, plen);
}

int filmsg_decode(struct filmsg *out, const uint8_t *p, size_t len)
{
	struct cbor_dec d;
	struct filmsg m;
	int rc;

	if (cbor_dec_init(&d, p, len) < 0)
		return field_error("message");
	if ((rc = decode_msg(&d, &m)) < 0)
		return rc;
	*out = m;
	return 0;
}

/* CIDv1 dag-cbor blake2b-256 of what encode writes for item. */
static int cid_of(struct cid *out,
		  int (*encode)(struct buf *, const void *), const void *item)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	int rc;

	if ((rc = encode(&b, item)) == 0)
		rc = cid_hash(out, 1, CID_CODEC_DAG_CBOR, MHASH_BLAKE2B_256,
			      b.ptr, b.len);
	buf_release(&b);
	return rc;
}

static int encode_msg(struct buf *b, const void *m)
{
	return filmsg_encode(b, m);
}

static int encode_signed(struct buf *b, const void *sm)
{
	return filmsg_signed_encode(b, sm);
}

int filmsg_cid(struct cid *out, const struct filmsg *m)
{
	return cid_of(out, encode_msg, m);
}

size_t filmsg_sig_to_bytes(uint8_t *out, const struct filmsg_sig *s)
{
	out[0] = (uint8_t)s->type;
	memcpy(out + 1, s->data, s->len);
	return 1 + s->len;
}

int filmsg_sig_from_bytes(struct filmsg_sig *out, const uint8_t *p,
			  size_t len)
{
	if (len == 0)
		return efs_error_set(EFS_ECORRUPT, "filmsg: signature empty");
	if (len > FILMSG_SIG_BYTES_MAX)
		return efs_error_set(EFS_ECORRUPT,
				     "filmsg: signature of %zu bytes", len);
	if (p[0] < FILSIG_SECP256K1 || p[0] > FILSIG_DELEGATED)
		return efs_error_set(EFS_ECORRUPT,
				     "filmsg: invalid signature type %u", p[0]);
	out->type = (enum filsig_type)p[0];
	out->len = len - 1;
	memcpy(out->data, p + 1, len - 1);
	return 0;
}

int filmsg_sig_to_filsig(struct filsig *out, const struct filmsg_sig *s)
{
	uint8_t b[FILMSG_SIG_BYTES_MAX];

	if (s->len + 1 > FILSIG_BYTES_MAX)
		return efs_error_set(EFS_ECORRUPT,
				     "filmsg: signature of %zu bytes",
				     s->len + 1);
	return filsig_from_bytes(out, b, filmsg_sig_to_bytes(b, s));
}

void filmsg_sig_from_filsig(struct filmsg_sig *out, const struct filsig *s)
{
	out->type = (enum filsig_type)s->type;
	out->len = s->len;
	memcpy(out->data, s->data, s->len);
}

void filmsg_signed_release(struct filmsg_signed *sm)
{
	filmsg_release(&sm->msg);
}

bool filmsg_signed_equal(const struct filmsg_signed *a,
			 const struct filmsg_signed *b)
{
	return filmsg_equal(&a->msg, &b->msg) && a->sig.type == b->sig.type &&
	       a->sig.len == b->sig.len &&
	       !memcmp(a->sig.data, b->sig.data, a->sig.len);
}

int filmsg_signed_encode(struct buf *out, const struct filmsg_signed *sm)
{
	uint8_t sig[FILMSG_SIG_BYTES_MAX];
	int rc;

	if ((rc = cbor_put_array(out, 2)) < 0 ||
	    (rc = filmsg_encode(out, &sm->msg)) < 0)
		return rc;
	return cbor_put_bytes(out, sig, filmsg_sig_to_bytes(sig, &sm->sig));
}

int filmsg_signed_decode(struct filmsg_signed *out, const uint8_t *p,
			 size_t len)
{
	struct filmsg_signed sm;
	struct cbor_dec d;
	const uint8_t *sig;
	size_t n, slen;
	int rc;

	if (cbor_dec_init(&d, p, len) < 0 || cbor_get_array(&d, &n) < 0)
		return field_error("signed message");
	if (n != 2)
		return efs_error_set(EFS_ECORRUPT,
				     "filmsg: signed message of %zu fields", n);
	if ((rc = decode_msg(&d, &sm.msg)) < 0)
		return rc;
	if (cbor_get_bytes(&d, &sig, &slen) < 0)
		rc = field_error("Signature");
	else if (filmsg_sig_from_bytes(&sm.sig, sig, slen) < 0)
		rc = field_error("Signature");
	if (rc < 0) {
		filmsg_release(&sm.msg);
		return rc;
	}
	*out = sm;
	return 0;
}

int filmsg_signed_cid(struct cid *out, const struct filmsg_signed *sm)
{
	if (sm->sig.type == FILSIG_BLS)
		return filmsg_cid(out, &sm->msg);
	return cid_of(out, encode_signed, sm);
}
