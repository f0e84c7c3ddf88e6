/*
 * mk12_shape.c - the CBOR encoder, decoder and release of the mk12 deal
 * messages, driven by the field tables of mk12.c (see mk12_i.h).
 *
 * Design notes:
 * - Map shapes list their fields in canonical key order (length, then
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
#include "core/mk12_i.h"

#include <string.h>

#include "core/alloc.h"
#include "core/cbor.h"
#include "core/error.h"
#include "core/mk12.h"
#include "core/utf8.h"

#include "core/banned.h"

/* Longest address byte form go-address reads from CBOR. */
#define ADDR_CBOR_MAX 64
/* Longest big integer go-state-types reads (BigIntMaxSerializedLen). */
#define BIGINT_CBOR_MAX 128
/* Longest signature byte form go-state-types reads. */
#define SIG_CBOR_MAX 200


static void *at(const void *obj, size_t off)
{
	return (char *)obj + off;
}

/* ---- encoder ---- */

static int put_shape(struct buf *b, const struct mk12_shape *s, const void *obj,
		     unsigned skip);

static int too_long(const struct mk12_shape *s, const struct mk12_field *f,
		    size_t n)
{
	return efs_error_set(EFS_EINVAL, "mk12: %s.%s: %zu bytes is too long",
			     s->name, f->name, n);
}

static int put_label(struct buf *b, const struct mk12_shape *s,
		     const struct mk12_field *f, const struct mk12_label *l)
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

static int put_sig(struct buf *b, const struct mk12_shape *s,
		   const struct mk12_field *f, const struct filsig *sig)
{
	uint8_t raw[1 + FILSIG_DATA_MAX];

	if (sig->len > FILSIG_DATA_MAX)
		return too_long(s, f, sig->len);
	raw[0] = sig->type;
	memcpy(raw + 1, sig->data, sig->len);
	return cbor_put_bytes(b, raw, 1 + sig->len);
}

static int put_value(struct buf *b, const struct mk12_shape *s,
		     const struct mk12_field *f, const void *obj)
{
	const void *v = at(obj, f->off);
	uint8_t raw[FILADDR_BYTES_MAX + BIGINT_BYTES_MAX];
	const char *str;
	const struct mk12_bytes *bytes;

	switch (f->kind) {
	case MK12_K_BOOL:
		return cbor_put_bool(b, *(const bool *)v);
	case MK12_K_U64:
		return cbor_put_uint(b, *(const uint64_t *)v);
	case MK12_K_I64:
		return cbor_put_int(b, *(const int64_t *)v);
	case MK12_K_STR:
		str = *(char *const *)v;
		if (str && strlen(str) > MK12_STRING_MAX)
			return too_long(s, f, strlen(str));
		return cbor_put_str(b, str ? str : "");
	case MK12_K_BYTES:
		bytes = v;
		if (bytes->len > MK12_BYTES_MAX)
			return too_long(s, f, bytes->len);
		return cbor_put_bytes(b, bytes->ptr, bytes->len);
	case MK12_K_UUID:
		return cbor_put_bytes(b, v, MK12_UUID_LEN);
	case MK12_K_CID:
		return cbor_put_cid(b, v);
	case MK12_K_ADDR:
		return cbor_put_bytes(b, raw, filaddr_to_bytes(raw, v));
	case MK12_K_BIG:
		return cbor_put_bytes(b, raw, bigint_to_bytes(raw, v));
	case MK12_K_LABEL:
		return put_label(b, s, f, v);
	case MK12_K_SIG:
		return put_sig(b, s, f, v);
	case MK12_K_STRUCT:
		return put_shape(b, f->sub, v, 0);
	}
	return efs_error_set(EFS_EINVAL, "mk12: bad field kind");
}

/* Write s; fields with a flag in skip are left out (the 1.2.0 form). */
static int put_shape(struct buf *b, const struct mk12_shape *s, const void *obj,
		     unsigned skip)
{
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < s->n; i++)
		n += !(s->fields[i].flags & skip);
	rc = s->tuple ? cbor_put_array(b, n) : cbor_put_map(b, n);
	for (size_t i = 0; rc == 0 && i < s->n; i++) {
		const struct mk12_field *f = &s->fields[i];

		if (f->flags & skip)
			continue;
		if (!s->tuple)
			rc = cbor_put_str(b, f->name);
		if (rc < 0)
			break;
		if ((f->flags & MK12_F_NULLABLE) &&
		    !*(const bool *)at(obj, f->has_off))
			rc = cbor_put_null(b);
		else
			rc = put_value(b, s, f, obj);
	}
	return rc;
}

int mk12_shape_encode(struct buf *out, const struct mk12_shape *s,
		      const void *obj, unsigned skip)
{
	size_t len = out->len;
	int rc = put_shape(out, s, obj, skip);

	if (rc < 0)
		buf_truncate(out, len);
	return rc;
}

/* ---- decoder ---- */

static int get_shape(struct cbor_dec *d, const struct mk12_shape *s, void *obj,
		     uint64_t *seen);

static int wrong_type(const struct mk12_shape *s, const struct mk12_field *f,
		      const char *want, enum cbor_type found)
{
	return efs_error_set(EFS_ECORRUPT, "mk12: %s.%s: expected %s, found %s",
			     s->name, f->name, want, cbor_type_name(found));
}

static int bad_value(const struct mk12_shape *s, const struct mk12_field *f,
		     const char *what)
{
	return efs_error_set(EFS_ECORRUPT, "mk12: %s.%s: %s", s->name,
			     f->name, what);
}

/* The next item as a byte string of at most max bytes. */
static int get_bytes_max(struct cbor_dec *d, const struct mk12_shape *s,
			 const struct mk12_field *f, size_t max,
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

static int get_str(struct cbor_dec *d, const struct mk12_shape *s,
		   const struct mk12_field *f, char **out)
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

static int get_label(struct cbor_dec *d, const struct mk12_shape *s,
		     const struct mk12_field *f, struct mk12_label *out)
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
static int wrap_error(const struct mk12_shape *s, const struct mk12_field *f)
{
	return bad_value(s, f, efs_error_msg());
}

static int get_int(struct cbor_dec *d, const struct mk12_shape *s,
		   const struct mk12_field *f, int64_t *out)
{
	enum cbor_type t = cbor_peek(d);

	if (t != CBOR_UINT && t != CBOR_NEGINT)
		return wrong_type(s, f, "integer", t);
	if (cbor_get_int(d, out) < 0)
		return bad_value(s, f, "integer out of int64 range");
	return 0;
}

static int get_value(struct cbor_dec *d, const struct mk12_shape *s,
		     const struct mk12_field *f, void *obj)
{
	void *v = at(obj, f->off);
	enum cbor_type t = cbor_peek(d);
	const uint8_t *p;
	size_t n;
	int rc;

	switch (f->kind) {
	case MK12_K_BOOL:
		if (t != CBOR_BOOL)
			return wrong_type(s, f, "bool", t);
		return cbor_get_bool(d, v);
	case MK12_K_U64:
		if (t != CBOR_UINT)
			return wrong_type(s, f, "unsigned integer", t);
		return cbor_get_uint(d, v);
	case MK12_K_I64:
		return get_int(d, s, f, v);
	case MK12_K_STR:
		return get_str(d, s, f, v);
	case MK12_K_BYTES:
		rc = get_bytes_max(d, s, f, MK12_BYTES_MAX, &p, &n);
		return rc < 0 ? rc : copy_bytes(v, p, n);
	case MK12_K_UUID:
		rc = get_bytes_max(d, s, f, MK12_UUID_LEN, &p, &n);
		if (rc == 0 && n != MK12_UUID_LEN)
			rc = bad_value(s, f, "uuid is not 16 bytes");
		if (rc == 0)
			memcpy(v, p, n);
		return rc;
	case MK12_K_CID:
		if (t != CBOR_CID)
			return wrong_type(s, f, "cid", t);
		return cbor_get_cid(d, v);
	case MK12_K_ADDR:
		rc = get_bytes_max(d, s, f, ADDR_CBOR_MAX, &p, &n);
		if (rc == 0 && n == 0)
			rc = bad_value(s, f, "empty address");
		if (rc == 0 && filaddr_from_bytes(v, p, n) < 0)
			rc = wrap_error(s, f);
		return rc;
	case MK12_K_BIG:
		rc = get_bytes_max(d, s, f, BIGINT_CBOR_MAX, &p, &n);
		if (rc == 0 && bigint_from_bytes(v, p, n) < 0)
			rc = wrap_error(s, f);
		return rc;
	case MK12_K_LABEL:
		return get_label(d, s, f, v);
	case MK12_K_SIG:
		rc = get_bytes_max(d, s, f, SIG_CBOR_MAX, &p, &n);
		if (rc == 0 && filsig_from_bytes(v, p, n) < 0)
			rc = wrap_error(s, f);
		return rc;
	case MK12_K_STRUCT:
		return get_shape(d, f->sub, v, NULL);
	}
	return efs_error_set(EFS_EINVAL, "mk12: bad field kind");
}

/* A field, or null for a Go pointer. */
static int get_field(struct cbor_dec *d, const struct mk12_shape *s,
		     const struct mk12_field *f, void *obj)
{
	if (f->flags & MK12_F_NULLABLE) {
		bool *has = at(obj, f->has_off);

		*has = cbor_peek(d) != CBOR_NULL;
		if (!*has)
			return cbor_get_null(d);
	}
	return get_value(d, s, f, obj);
}

static int get_tuple(struct cbor_dec *d, const struct mk12_shape *s, void *obj)
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

static const struct mk12_field *find_field(const struct mk12_shape *s,
					   const char *key, size_t len,
					   size_t *idx)
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
static bool may_be_absent(const struct mk12_field *f)
{
	if (f->flags & MK12_F_NULLABLE)
		return true;
	switch (f->kind) {
	case MK12_K_CID:
	case MK12_K_ADDR:
	case MK12_K_SIG:
		return false;
	case MK12_K_STRUCT:
		return !f->sub->tuple;
	default:
		return true;
	}
}

static int get_map(struct cbor_dec *d, const struct mk12_shape *s, void *obj,
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
		const struct mk12_field *f;
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

static int get_shape(struct cbor_dec *d, const struct mk12_shape *s, void *obj,
		     uint64_t *seen)
{
	return s->tuple ? get_tuple(d, s, obj) : get_map(d, s, obj, seen);
}

static void release_shape(const struct mk12_shape *s, void *obj)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct mk12_field *f = &s->fields[i];
		void *v = at(obj, f->off);

		switch (f->kind) {
		case MK12_K_STR:
			efs_free(*(char **)v);
			break;
		case MK12_K_BYTES:
			efs_free(((struct mk12_bytes *)v)->ptr);
			break;
		case MK12_K_LABEL:
			efs_free(((struct mk12_label *)v)->data.ptr);
			break;
		case MK12_K_STRUCT:
			release_shape(f->sub, v);
			break;
		default:
			break;
		}
	}
}

void mk12_shape_release(const struct mk12_shape *s, void *obj, size_t size)
{
	release_shape(s, obj);
	memset(obj, 0, size);
}

int mk12_shape_decode(void *out, size_t size, const struct mk12_shape *s,
		      const uint8_t *data, size_t len, uint64_t *seen)
{
	struct cbor_dec d;
	int rc;

	memset(out, 0, size);
	rc = cbor_dec_init(&d, data, len);
	if (rc == 0)
		rc = get_shape(&d, s, out, seen);
	if (rc < 0)
		mk12_shape_release(s, out, size);
	return rc;
}

/* ---- CIDs ---- */

int mk12_shape_cid(struct cid *out, uint64_t hash,
		   const struct mk12_shape *s, const void *obj)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	int rc = mk12_shape_encode(&b, s, obj, 0);

	if (rc == 0)
		rc = cid_hash(out, 1, CID_CODEC_DAG_CBOR, hash, b.ptr, b.len);
	buf_release(&b);
	return rc;
}
