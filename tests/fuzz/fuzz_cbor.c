/*
 * fuzz_cbor.c - the DAG-CBOR checker and cursor on arbitrary bytes.
 *
 * Property: whatever the checker accepts, the cursor reads item by item
 * and the encoder writes back to the very same bytes (strict DAG-CBOR has
 * one encoding per value); the links walk agrees with the checker.
 */
#include <stdlib.h>
#include <string.h>

#include "core/cbor.h"
#include "core/error.h"

static int copy_item(struct buf *out, struct cbor_dec *d);

static int copy_scalar(struct buf *out, struct cbor_dec *d, enum cbor_type t)
{
	uint64_t u;
	double f;
	bool b;
	const uint8_t *p;
	const char *s;
	size_t n;
	struct cid id;

	switch (t) {
	case CBOR_UINT:
		if (cbor_get_uint(d, &u) != 0)
			return -1;
		return cbor_put_uint(out, u);
	case CBOR_NEGINT:
		if (cbor_get_negint(d, &u) != 0)
			return -1;
		return cbor_put_negint(out, u);
	case CBOR_BYTES:
		if (cbor_get_bytes(d, &p, &n) != 0)
			return -1;
		return cbor_put_bytes(out, p, n);
	case CBOR_TEXT:
		if (cbor_get_text(d, &s, &n) != 0)
			return -1;
		return cbor_put_text(out, s, n);
	case CBOR_CID:
		if (cbor_get_cid(d, &id) != 0)
			return -1;
		return cbor_put_cid(out, &id);
	case CBOR_BOOL:
		if (cbor_get_bool(d, &b) != 0)
			return -1;
		return cbor_put_bool(out, b);
	case CBOR_NULL:
		if (cbor_get_null(d) != 0)
			return -1;
		return cbor_put_null(out);
	case CBOR_FLOAT:
		if (cbor_get_float(d, &f) != 0)
			return -1;
		return cbor_put_float(out, f);
	default:
		abort();
	}
}

static int copy_item(struct buf *out, struct cbor_dec *d)
{
	enum cbor_type t = cbor_peek(d);
	size_t n;
	int rc;

	if (t == CBOR_ARRAY || t == CBOR_MAP) {
		rc = t == CBOR_ARRAY ? cbor_get_array(d, &n)
				     : cbor_get_map(d, &n);
		if (rc == 0)
			rc = t == CBOR_ARRAY ? cbor_put_array(out, n)
					     : cbor_put_map(out, n);
		if (t == CBOR_MAP)
			n *= 2;
		for (size_t i = 0; rc == 0 && i < n; i++)
			rc = copy_item(out, d);
		return rc;
	}
	return copy_scalar(out, d, t);
}

static int count_link(const struct cid *id, void *payload)
{
	(void)id;
	++*(size_t *)payload;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cbor_dec d;
	struct buf out = BUF_INIT(BUF_NOCAP);
	size_t nlinks = 0;
	int ok = cbor_dec_init(&d, data, size) == 0;

	if (ok != (cbor_links(data, size, count_link, &nlinks) == 0))
		abort();
	if (!ok)
		return 0;
	if (copy_item(&out, &d) != 0 || !cbor_dec_done(&d))
		abort();
	if (out.len != size || memcmp(out.ptr, data, size) != 0)
		abort();
	if (cbor_dec_init(&d, data, size) != 0 || cbor_skip(&d) != 0 ||
	    !cbor_dec_done(&d))
		abort();
	buf_release(&out);
	return 0;
}
