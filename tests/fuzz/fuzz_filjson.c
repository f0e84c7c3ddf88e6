/*
 * fuzz_filjson.c - Lotus JSON decoders (Message, SignedMessage, Signature,
 * CID) over arbitrary JSON text.  Whatever decodes must encode, and the
 * encoding must decode to the same message.  A broken round trip aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/filjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_msg(const json_t *v)
{
	struct filmsg m, back;
	json_t *enc;

	if (filjson_msg_decode(&m, v) < 0)
		return;
	if (filjson_msg_encode(&enc, &m, 't') < 0 ||
	    filjson_msg_decode(&back, enc) < 0)
		abort();
	if (!filmsg_equal(&m, &back))
		abort();
	json_decref(enc);
	filmsg_release(&back);
	filmsg_release(&m);
}

static void check_signed(const json_t *v)
{
	struct filmsg_signed sm, back;
	json_t *enc;

	if (filjson_signed_decode(&sm, v) < 0)
		return;
	if (filjson_signed_encode(&enc, &sm, 'f') < 0 ||
	    filjson_signed_decode(&back, enc) < 0)
		abort();
	if (!filmsg_signed_equal(&sm, &back))
		abort();
	json_decref(enc);
	filmsg_signed_release(&back);
	filmsg_signed_release(&sm);
}

static void check_scalars(const json_t *v)
{
	struct cid id;
	struct filmsg_sig sig;
	uint8_t *p;
	size_t len;

	(void)filjson_cid_decode(&id, v, "cid");
	(void)filjson_sig_decode(&sig, v);
	if (filjson_bytes_decode(&p, &len, v, 1 << 20, "bytes") == 0)
		efs_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *v = json_loadb((const char *)data, size, JSON_DECODE_ANY,
			       NULL);

	if (!v)
		return 0;
	check_msg(v);
	check_signed(v);
	check_scalars(v);
	json_decref(v);
	return 0;
}
