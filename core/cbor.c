/*
 * cbor.c - strict DAG-CBOR encoder and decoder (see cbor.h).
 *
 * Design notes:
 * - Every item starts with a head: major type (3 bits) and an argument
 *   in the low 5 bits, or in the 1, 2, 4 or 8 bytes that follow (24..27).
 *   The encoder always picks the shortest; the checker rejects a longer
 *   one, 28..30 (reserved) and 31 (indefinite lengths).
 * - The checker (check_item) walks one whole item recursively, depth
 *   capped at CBOR_DEPTH_MAX, and is the only place bytes from outside
 *   are judged.  It checks every length against the bytes left before it
 *   reads them, so a head claiming 2^64 bytes costs nothing.  The cursor
 *   functions then trust the checked bytes and only compare types.
 * - Map keys are compared as (length, bytes), which for text keys is the
 *   RFC 7049 canonical order of their encodings; requiring each key to be
 *   strictly greater than the one before also rejects duplicates.
 * - Floats must be 64-bit (0xfb), finite, as the DAG-CBOR spec and
 *   @ipld/dag-cbor require; the only simple values are false, true, null.
 * - Text is not checked for UTF-8.  The spec asks for UTF-8, but neither
 *   go-ipld-prime nor @ipld/dag-cbor checks it, and real blocks (go-car's
 *   sample-v1.car) hold invalid sequences: refusing them would make
 *   blocks the rest of the network accepts unreadable here.
 */
#include "core/cbor.h"

#include <math.h>
#include <string.h>

#include "core/error.h"

#include "core/banned.h"

enum major {
	MAJOR_UINT = 0,
	MAJOR_NEGINT = 1,
	MAJOR_BYTES = 2,
	MAJOR_TEXT = 3,
	MAJOR_ARRAY = 4,
	MAJOR_MAP = 5,
	MAJOR_TAG = 6,
	MAJOR_SIMPLE = 7,
};

#define SIMPLE_FALSE 20
#define SIMPLE_TRUE 21
#define SIMPLE_NULL 22
#define SIMPLE_FLOAT64 27

/* ---- encoder ---- */

static int put_head(struct buf *b, enum major major, uint64_t v)
{
	uint8_t h[9];
	size_t n;

	if (v < 24) {
		h[0] = (uint8_t)(major << 5 | v);
		n = 1;
	} else if (v <= 0xff) {
		h[0] = (uint8_t)(major << 5 | 24);
		n = 2;
	} else if (v <= 0xffff) {
		h[0] = (uint8_t)(major << 5 | 25);
		n = 3;
	} else if (v <= 0xffffffffu) {
		h[0] = (uint8_t)(major << 5 | 26);
		n = 5;
	} else {
		h[0] = (uint8_t)(major << 5 | 27);
		n = 9;
	}
	for (size_t i = 1; i < n; i++)
		h[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	return buf_add(b, h, n);
}

static size_t head_size(uint64_t v)
{
	if (v < 24)
		return 1;
	if (v <= 0xff)
		return 2;
	if (v <= 0xffff)
		return 3;
	if (v <= 0xffffffffu)
		return 5;
	return 9;
}

int cbor_put_uint(struct buf *b, uint64_t v)
{
	return put_head(b, MAJOR_UINT, v);
}

int cbor_put_negint(struct buf *b, uint64_t n)
{
	return put_head(b, MAJOR_NEGINT, n);
}

int cbor_put_int(struct buf *b, int64_t v)
{
	if (v >= 0)
		return put_head(b, MAJOR_UINT, (uint64_t)v);
	/* -1 - v without overflow at INT64_MIN */
	return put_head(b, MAJOR_NEGINT, ~(uint64_t)v);
}

static int put_string(struct buf *b, enum major major, const void *p,
		      size_t len)
{
	size_t old = b->len;
	int rc = put_head(b, major, len);

	if (rc == 0 && len > 0)
		rc = buf_add(b, p, len);
	if (rc < 0)
		buf_truncate(b, old);
	return rc;
}

int cbor_put_bytes(struct buf *b, const void *p, size_t len)
{
	return put_string(b, MAJOR_BYTES, p, len);
}

int cbor_put_text(struct buf *b, const char *s, size_t len)
{
	return put_string(b, MAJOR_TEXT, s, len);
}

int cbor_put_str(struct buf *b, const char *s)
{
	return put_string(b, MAJOR_TEXT, s, strlen(s));
}

int cbor_put_array(struct buf *b, uint64_t n)
{
	return put_head(b, MAJOR_ARRAY, n);
}

int cbor_put_map(struct buf *b, uint64_t n)
{
	return put_head(b, MAJOR_MAP, n);
}

int cbor_put_bool(struct buf *b, bool v)
{
	return buf_addch(b, (uint8_t)(MAJOR_SIMPLE << 5 |
				      (v ? SIMPLE_TRUE : SIMPLE_FALSE)));
}

int cbor_put_null(struct buf *b)
{
	return buf_addch(b, MAJOR_SIMPLE << 5 | SIMPLE_NULL);
}

int cbor_put_float(struct buf *b, double v)
{
	uint8_t h[9];
	uint64_t bits;

	if (!isfinite(v))
		return efs_error_set(EFS_EINVAL,
				     "cbor: dag-cbor has no nan or infinity");
	memcpy(&bits, &v, sizeof(bits));
	h[0] = MAJOR_SIMPLE << 5 | SIMPLE_FLOAT64;
	for (int i = 0; i < 8; i++)
		h[1 + i] = (uint8_t)(bits >> (56 - 8 * i));
	return buf_add(b, h, sizeof(h));
}

size_t cbor_cid_size(const struct cid *id)
{
	size_t n = 1 + cid_size(id);

	return 2 + head_size(n) + n;
}

int cbor_put_cid(struct buf *b, const struct cid *id)
{
	uint8_t raw[1 + CID_BYTES_MAX];
	size_t n;
	size_t old = b->len;
	int rc;

	raw[0] = 0x00; /* the multibase "identity" prefix DAG-CBOR requires */
	n = 1 + cid_to_bytes(raw + 1, id);
	rc = put_head(b, MAJOR_TAG, CBOR_TAG_CID);
	if (rc == 0)
		rc = put_string(b, MAJOR_BYTES, raw, n);
	if (rc < 0)
		buf_truncate(b, old);
	return rc;
}

int cbor_key_compare(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return alen ? memcmp(a, b, alen) : 0;
}

/* ---- reading heads ---- */

struct head {
	enum major major;
	uint8_t info;      /* low 5 bits of the first byte */
	uint64_t arg;      /* the argument (a float's bits for 0xfb) */
	size_t size;       /* bytes of the head */
};

/*
 * Read the head at p[pos..len) strictly: no reserved or indefinite
 * forms, minimal argument (except for floats, whose argument is data).
 */
static int read_head(struct head *out, const uint8_t *p, size_t len,
		     size_t pos)
{
	size_t n;
	uint8_t ib;

	if (pos >= len)
		return efs_error_set(EFS_ECORRUPT, "cbor: truncated at %zu",
				     pos);
	ib = p[pos];
	out->major = (enum major)(ib >> 5);
	out->info = ib & 0x1f;
	if (out->info < 24) {
		out->arg = out->info;
		out->size = 1;
		return 0;
	}
	if (out->info > 27)
		return efs_error_set(EFS_ECORRUPT,
				     "cbor: %s head 0x%02x at %zu",
				     out->info == 31 ? "indefinite-length"
						     : "reserved",
				     ib, pos);
	n = (size_t)1 << (out->info - 24);
	if (len - pos - 1 < n)
		return efs_error_set(EFS_ECORRUPT, "cbor: truncated at %zu",
				     pos);
	out->arg = 0;
	for (size_t i = 0; i < n; i++)
		out->arg = out->arg << 8 | p[pos + 1 + i];
	out->size = 1 + n;
	if (out->major == MAJOR_SIMPLE)
		return 0;
	if (head_size(out->arg) != out->size)
		return efs_error_set(EFS_ECORRUPT,
				     "cbor: non-minimal head at %zu", pos);
	return 0;
}

/* ---- the checker ---- */

struct checker {
	const uint8_t *p;
	size_t len;
	size_t pos;
	int (*cb)(const struct cid *id, void *payload); /* NULL: check only */
	void *payload;
};

static int check_item(struct checker *c, unsigned depth);

/* A byte or text string whose head h is at c->pos. */
static int check_string(struct checker *c, const struct head *h)
{
	size_t start = c->pos + h->size;

	if (h->arg > c->len - start)
		return efs_error_set(EFS_ECORRUPT,
				     "cbor: string of %llu bytes past end at %zu",
				     (unsigned long long)h->arg, c->pos);
	c->pos = start + h->arg;
	return 0;
}

/* Tag 42 around a byte string 0x00 + one binary CID, nothing else. */
static int check_cid(struct checker *c, const struct head *tag)
{
	struct head h;
	struct cid id;
	size_t at = c->pos;
	const uint8_t *raw;
	int rc;

	if (tag->arg != CBOR_TAG_CID)
		return efs_error_set(EFS_ECORRUPT,
				     "cbor: tag %llu at %zu not allowed",
				     (unsigned long long)tag->arg, at);
	c->pos += tag->size;
	rc = read_head(&h, c->p, c->len, c->pos);
	if (rc < 0)
		return rc;
	if (h.major != MAJOR_BYTES)
		return efs_error_set(EFS_ECORRUPT,
				     "cbor: tag 42 at %zu not on bytes", at);
	rc = check_string(c, &h);
	if (rc < 0)
		return rc;
	raw = c->p + c->pos - h.arg;
	if (h.arg < 2 || raw[0] != 0x00)
		return efs_error_set(EFS_ECORRUPT,
				     "cbor: cid at %zu lacks the 0x00 prefix",
				     at);
	if (cid_from_bytes_exact(&id, raw + 1, h.arg - 1) < 0)
		return efs_error_set(EFS_ECORRUPT, "cbor: bad cid at %zu", at);
	return c->cb ? c->cb(&id, c->payload) : 0;
}

static int check_simple(struct checker *c, const struct head *h)
{
	double v;
	uint64_t bits = h->arg;

	switch (h->info) {
	case SIMPLE_FALSE:
	case SIMPLE_TRUE:
	case SIMPLE_NULL:
		break;
	case SIMPLE_FLOAT64:
		memcpy(&v, &bits, sizeof(v));
		if (!isfinite(v))
			return efs_error_set(EFS_ECORRUPT,
					     "cbor: nan or infinity at %zu",
					     c->pos);
		break;
	default:
		return efs_error_set(EFS_ECORRUPT,
				     "cbor: simple value or float 0x%02x at %zu "
				     "not allowed", c->p[c->pos], c->pos);
	}
	c->pos += h->size;
	return 0;
}

static int check_array(struct checker *c, const struct head *h,
		       unsigned depth)
{
	c->pos += h->size;
	/* each item takes a byte at least: a cheap bound on the count */
	if (h->arg > c->len - c->pos)
		return efs_error_set(EFS_ECORRUPT,
				     "cbor: array of %llu items past end",
				     (unsigned long long)h->arg);
	for (uint64_t i = 0; i < h->arg; i++) {
		int rc = check_item(c, depth + 1);

		if (rc != 0)
			return rc;
	}
	return 0;
}

static int check_map(struct checker *c, const struct head *h,
		     unsigned depth)
{
	const char *prev = NULL;
	size_t prev_len = 0;

	c->pos += h->size;
	if (h->arg > (c->len - c->pos) / 2)
		return efs_error_set(EFS_ECORRUPT,
				     "cbor: map of %llu entries past end",
				     (unsigned long long)h->arg);
	for (uint64_t i = 0; i < h->arg; i++) {
		struct head k;
		size_t at = c->pos;
		int rc = read_head(&k, c->p, c->len, c->pos);

		if (rc < 0)
			return rc;
		if (k.major != MAJOR_TEXT)
			return efs_error_set(EFS_ECORRUPT,
					     "cbor: map key at %zu not text",
					     at);
		rc = check_string(c, &k);
		if (rc < 0)
			return rc;
		if (prev && cbor_key_compare(prev, prev_len,
					     (const char *)c->p + at + k.size,
					     k.arg) >= 0)
			return efs_error_set(EFS_ECORRUPT,
					     "cbor: map key at %zu %s", at,
					     k.arg == prev_len &&
					     !memcmp(prev, c->p + at + k.size,
						     k.arg)
						     ? "repeated"
						     : "out of order");
		prev = (const char *)c->p + at + k.size;
		prev_len = k.arg;
		rc = check_item(c, depth + 1);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int check_item(struct checker *c, unsigned depth)
{
	struct head h;
	int rc;

	if (depth >= CBOR_DEPTH_MAX)
		return efs_error_set(EFS_ECORRUPT,
				     "cbor: nested deeper than %d at %zu",
				     CBOR_DEPTH_MAX, c->pos);
	rc = read_head(&h, c->p, c->len, c->pos);
	if (rc < 0)
		return rc;
	switch (h.major) {
	case MAJOR_UINT:
	case MAJOR_NEGINT:
		c->pos += h.size;
		return 0;
	case MAJOR_BYTES:
	case MAJOR_TEXT:
		return check_string(c, &h);
	case MAJOR_ARRAY:
		return check_array(c, &h, depth);
	case MAJOR_MAP:
		return check_map(c, &h, depth);
	case MAJOR_TAG:
		return check_cid(c, &h);
	default:
		return check_simple(c, &h);
	}
}

int cbor_item_size(size_t *out, const uint8_t *data, size_t len)
{
	struct checker c = { data, len, 0, NULL, NULL };
	int rc = check_item(&c, 0);

	if (rc < 0)
		return rc;
	*out = c.pos;
	return 0;
}

int cbor_check(const uint8_t *data, size_t len)
{
	size_t n;
	int rc = cbor_item_size(&n, data, len);

	if (rc < 0)
		return rc;
	if (n != len)
		return efs_error_set(EFS_ECORRUPT,
				     "cbor: %zu bytes after the item",
				     len - n);
	return 0;
}

int cbor_links(const uint8_t *data, size_t len,
	       int (*cb)(const struct cid *id, void *payload), void *payload)
{
	struct checker c = { data, len, 0, cb, payload };
	int rc = cbor_check(data, len);

	if (rc < 0)
		return rc;
	return check_item(&c, 0);
}

/* ---- the cursor ---- */

int cbor_dec_init(struct cbor_dec *d, const uint8_t *data, size_t len)
{
	int rc = cbor_check(data, len);

	if (rc < 0)
		return rc;
	d->p = data;
	d->len = len;
	d->pos = 0;
	return 0;
}

int cbor_dec_init_prefix(struct cbor_dec *d, const uint8_t *data,
			 size_t len)
{
	size_t n;
	int rc = cbor_item_size(&n, data, len);

	if (rc < 0)
		return rc;
	d->p = data;
	d->len = n;
	d->pos = 0;
	return 0;
}

bool cbor_dec_done(const struct cbor_dec *d)
{
	return d->pos >= d->len;
}

/* The head at the cursor; the item was checked, so this cannot fail. */
static struct head peek_head(const struct cbor_dec *d)
{
	struct head h = { 0 };

	(void)read_head(&h, d->p, d->len, d->pos);
	return h;
}

enum cbor_type cbor_peek(const struct cbor_dec *d)
{
	struct head h;

	if (cbor_dec_done(d))
		return CBOR_END;
	h = peek_head(d);
	switch (h.major) {
	case MAJOR_UINT:
		return CBOR_UINT;
	case MAJOR_NEGINT:
		return CBOR_NEGINT;
	case MAJOR_BYTES:
		return CBOR_BYTES;
	case MAJOR_TEXT:
		return CBOR_TEXT;
	case MAJOR_ARRAY:
		return CBOR_ARRAY;
	case MAJOR_MAP:
		return CBOR_MAP;
	case MAJOR_TAG:
		return CBOR_CID;
	default:
		if (h.info == SIMPLE_NULL)
			return CBOR_NULL;
		if (h.info == SIMPLE_FLOAT64)
			return CBOR_FLOAT;
		return CBOR_BOOL;
	}
}

const char *cbor_type_name(enum cbor_type t)
{
	static const char *const names[] = {
		[CBOR_END] = "end of item",
		[CBOR_UINT] = "unsigned integer",
		[CBOR_NEGINT] = "negative integer",
		[CBOR_BYTES] = "byte string",
		[CBOR_TEXT] = "text string",
		[CBOR_ARRAY] = "array",
		[CBOR_MAP] = "map",
		[CBOR_CID] = "cid",
		[CBOR_BOOL] = "bool",
		[CBOR_NULL] = "null",
		[CBOR_FLOAT] = "float",
	};

	if ((unsigned)t >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[t];
}

/* Require the next item to be of type want; its head goes to h. */
static int expect(struct head *h, const struct cbor_dec *d,
		  enum cbor_type want)
{
	enum cbor_type got = cbor_peek(d);

	if (got != want)
		return efs_error_set(EFS_ECORRUPT,
				     "cbor: expected %s at %zu, found %s",
				     cbor_type_name(want), d->pos,
				     cbor_type_name(got));
	*h = peek_head(d);
	return 0;
}

int cbor_get_uint(struct cbor_dec *d, uint64_t *out)
{
	struct head h;
	int rc = expect(&h, d, CBOR_UINT);

	if (rc < 0)
		return rc;
	*out = h.arg;
	d->pos += h.size;
	return 0;
}

int cbor_get_negint(struct cbor_dec *d, uint64_t *out)
{
	struct head h;
	int rc = expect(&h, d, CBOR_NEGINT);

	if (rc < 0)
		return rc;
	*out = h.arg;
	d->pos += h.size;
	return 0;
}

int cbor_get_int(struct cbor_dec *d, int64_t *out)
{
	enum cbor_type t = cbor_peek(d);
	struct head h;

	if (t != CBOR_UINT && t != CBOR_NEGINT)
		return expect(&h, d, CBOR_UINT);
	h = peek_head(d);
	if (h.arg > INT64_MAX)
		return efs_error_set(EFS_ECORRUPT,
				     "cbor: integer at %zu out of int64 range",
				     d->pos);
	*out = t == CBOR_UINT ? (int64_t)h.arg : -1 - (int64_t)h.arg;
	d->pos += h.size;
	return 0;
}

static int get_string(struct cbor_dec *d, enum cbor_type t,
		      const uint8_t **out, size_t *len)
{
	struct head h;
	int rc = expect(&h, d, t);

	if (rc < 0)
		return rc;
	*out = d->p + d->pos + h.size;
	*len = h.arg;
	d->pos += h.size + h.arg;
	return 0;
}

int cbor_get_bytes(struct cbor_dec *d, const uint8_t **out, size_t *len)
{
	return get_string(d, CBOR_BYTES, out, len);
}

int cbor_get_text(struct cbor_dec *d, const char **out, size_t *len)
{
	const uint8_t *p;
	int rc = get_string(d, CBOR_TEXT, &p, len);

	if (rc == 0)
		*out = (const char *)p;
	return rc;
}

static int get_count(struct cbor_dec *d, enum cbor_type t, size_t *out)
{
	struct head h;
	int rc = expect(&h, d, t);

	if (rc < 0)
		return rc;
	*out = h.arg; /* bounded by the item's length when checked */
	d->pos += h.size;
	return 0;
}

int cbor_get_array(struct cbor_dec *d, size_t *out)
{
	return get_count(d, CBOR_ARRAY, out);
}

int cbor_get_map(struct cbor_dec *d, size_t *out)
{
	return get_count(d, CBOR_MAP, out);
}

int cbor_get_bool(struct cbor_dec *d, bool *out)
{
	struct head h;
	int rc = expect(&h, d, CBOR_BOOL);

	if (rc < 0)
		return rc;
	*out = h.info == SIMPLE_TRUE;
	d->pos += h.size;
	return 0;
}

int cbor_get_null(struct cbor_dec *d)
{
	struct head h;
	int rc = expect(&h, d, CBOR_NULL);

	if (rc < 0)
		return rc;
	d->pos += h.size;
	return 0;
}

int cbor_get_float(struct cbor_dec *d, double *out)
{
	struct head h;
	int rc = expect(&h, d, CBOR_FLOAT);

	if (rc < 0)
		return rc;
	memcpy(out, &h.arg, sizeof(*out));
	d->pos += h.size;
	return 0;
}

int cbor_get_cid(struct cbor_dec *d, struct cid *out)
{
	struct head tag, h;
	int rc = expect(&tag, d, CBOR_CID);

	if (rc < 0)
		return rc;
	(void)read_head(&h, d->p, d->len, d->pos + tag.size);
	rc = cid_from_bytes_exact(out, d->p + d->pos + tag.size + h.size + 1,
				  h.arg - 1);
	if (rc < 0)
		return rc;
	d->pos += tag.size + h.size + h.arg;
	return 0;
}

int cbor_get_key(struct cbor_dec *d, const char *key)
{
	const char *s;
	size_t n;
	size_t at = d->pos;
	int rc = cbor_get_text(d, &s, &n);

	if (rc < 0)
		return rc;
	if (n != strlen(key) || memcmp(s, key, n) != 0) {
		d->pos = at;
		return efs_error_set(EFS_ECORRUPT,
				     "cbor: expected key \"%s\" at %zu, found "
				     "\"%.*s\"", key, at, (int)(n > 64 ? 64 : n),
				     s);
	}
	return 0;
}

int cbor_skip(struct cbor_dec *d)
{
	struct checker c = { d->p, d->len, d->pos, NULL, NULL };
	int rc;

	if (cbor_dec_done(d))
		return efs_error_set(EFS_ECORRUPT, "cbor: nothing to skip");
	rc = check_item(&c, 0);
	if (rc < 0)
		return rc;
	d->pos = c.pos;
	return 0;
}
