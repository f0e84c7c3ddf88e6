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
	if (!filmsg_equal(&m, &back))
		abort();
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
	if (!filmsg_signed_equal(&sm, &back))
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
