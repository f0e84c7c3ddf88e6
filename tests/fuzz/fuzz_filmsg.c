/*
 * fuzz_filmsg.c - Filecoin messages and signed messages from CBOR.
 * Whatever decodes must encode, decode again to the same fields and have
 * a CID; when the input used canonical big integers the encoding must be
 * the input itself.  A broken round trip aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/filmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_same(const struct filmsg *a, const struct filmsg *b)
{
	if (a->version != b->version || !filaddr_equal(&a->to, &b->to) ||
	    !filaddr_equal(&a->from, &b->from) || a->nonce != b->nonce ||
	    bigint_cmp(&a->value, &b->value) || a->gas_limit != b->gas_limit ||
	    bigint_cmp(&a->gas_fee_cap, &b->gas_fee_cap) ||
	    bigint_cmp(&a->gas_premium, &b->gas_premium) ||
	    a->method != b->method || a->params_len != b->params_len ||
	    (a->params_len && memcmp(a->params, b->params, a->params_len)))
		abort();
}

static void check_msg(const uint8_t *data, size_t size)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct filmsg m, back;
	struct cid id;

	if (filmsg_decode(&m, data, size) < 0)
		return;
	if (filmsg_encode(&b, &m) < 0 || b.len > size ||
	    filmsg_decode(&back, b.ptr, b.len) < 0 || filmsg_cid(&id, &m) < 0)
		abort();
	check_same(&m, &back);
	filmsg_release(&back);
	filmsg_release(&m);
	buf_release(&b);
}

static void check_signed(const uint8_t *data, size_t size)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct filmsg_signed sm, back;
	struct cid id;

	if (filmsg_signed_decode(&sm, data, size) < 0)
		return;
	if (filmsg_signed_encode(&b, &sm) < 0 || b.len > size ||
	    filmsg_signed_decode(&back, b.ptr, b.len) < 0 ||
	    filmsg_signed_cid(&id, &sm) < 0)
		abort();
	check_same(&sm.msg, &back.msg);
	if (sm.sig.type != back.sig.type || sm.sig.len != back.sig.len ||
	    memcmp(sm.sig.data, back.sig.data, sm.sig.len))
		abort();
	filmsg_signed_release(&back);
	filmsg_signed_release(&sm);
	buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_msg(data, size);
	check_signed(data, size);
	return 0;
}
