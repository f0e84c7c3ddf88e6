/*
 * fuzz_commp.c - piece CID v2 parsing and streaming CommP.  Input parsed
 * as a CID (string or bytes) that is a valid piece CID v2 must give a
 * piece whose v2 CID is the same CID, with consistent sizes.  The input
 * hashed in one call and in pieces (split points taken from its first
 * bytes) must give the same piece.  A broken invariant aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cid.h"
#include "core/commp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_piece_cid(const struct cid *id)
{
	struct commp_piece p;
	struct cid back;

	if (commp_piece_from_cid(&p, id) < 0)
		return;
	commp_cid_v2(&back, &p);
	if (!cid_equal(id, &back) ||
	    p.padded_size != (uint64_t)32 << p.height ||
	    p.unpadded_size != p.padded_size / 128 * 127 ||
	    p.payload_size + p.padding != p.unpadded_size)
		abort();
}

static void check_parse(const uint8_t *data, size_t size)
{
	struct cid id;

	if (cid_parse_n(&id, (const char *)data, size) == 0)
		check_piece_cid(&id);
	if (cid_from_bytes_exact(&id, data, size) == 0)
		check_piece_cid(&id);
}

static void check_stream(const uint8_t *data, size_t size)
{
	struct commp_piece one, many;
	struct commp *c;
	size_t off = 0;

	if (commp_compute(&one, data, size) < 0 || commp_new(&c, 1) < 0)
		abort();
	for (size_t i = 0; off < size; i++) {
		size_t n = i < size ? (size_t)data[i] % 200 + 1 : size - off;

		if (n > size - off)
			n = size - off;
		if (commp_update(c, data + off, n) < 0)
			abort();
		off += n;
	}
	commp_finish(&many, c);
	commp_free(c);
	if (memcmp(&one.root, &many.root, sizeof(one.root)) ||
	    one.payload_size != many.payload_size ||
	    one.height != many.height || one.padding != many.padding)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_parse(data, size);
	check_stream(data, size);
	return 0;
}
