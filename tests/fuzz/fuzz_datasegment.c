/*
 * fuzz_datasegment.c - the FRC-0058 index parser and proof decoder on
 * arbitrary bytes, and layouts made from them.
 *
 * The first byte picks the deal (256 B << (b % 16)); the rest is:
 *  - the tail of a payload for datasegment_index_parse: every entry it
 *    returns must be valid and lie before the index area, and no more
 *    than the index holds;
 *  - an inclusion proof for datasegment_proof_decode: one that decodes
 *    must encode to the very same bytes, and resolving it must not crash;
 *  - sub-pieces (a height and a root from each 33 bytes): a layout of
 *    them in the smallest deal must give index bytes that parse back to
 *    its entries, and proofs that verify, and whose bytes decode back.
 * A broken invariant aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/datasegment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SUBS_MAX 24

static void check_parse(uint64_t deal, const uint8_t *p, size_t len)
{
	uint64_t index_offset = datasegment_index_offset(deal);
	struct datasegment_entry *e;
	size_t n;

	if (datasegment_index_parse(&e, &n, p, len, deal) < 0)
		return;
	if (n > datasegment_index_max(deal))
		abort();
	for (size_t i = 0; i < n; i++)
		if (!datasegment_entry_valid(&e[i]) ||
		    e[i].offset + e[i].size > index_offset)
			abort();
	efs_free(e);
}

static void check_proof(const uint8_t *p, size_t len)
{
	struct datasegment_proof pf;
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct commp_piece sub, agg;
	uint8_t root[COMMP_NODE_SIZE] = {0};

	if (datasegment_proof_decode(&pf, p, len) < 0)
		return;
	if (datasegment_proof_encode(&b, &pf) < 0 || b.len != len ||
	    memcmp(b.ptr, p, len))
		abort();
	buf_release(&b);
	if (commp_piece_init(&sub, root, 128, 0) < 0)
		abort();
	(void)datasegment_proof_resolve(&agg, &pf, &sub);
}

static void check_layout(const uint8_t *p, size_t len)
{
	struct commp_piece subs[SUBS_MAX];
	struct datasegment_layout l;
	struct datasegment_entry *e = NULL;
	struct buf b = BUF_INIT(BUF_NOCAP);
	size_t n = 0, got;

	for (; n < SUBS_MAX && len >= 33; n++, p += 33, len -= 33) {
		uint8_t root[COMMP_NODE_SIZE];

		memcpy(root, p + 1, sizeof(root));
		root[COMMP_NODE_SIZE - 1] &= 0x3f;
		if (commp_piece_init(&subs[n], root, 128ull << (p[0] % 20), 0) <
		    0)
			abort();
	}
	if (datasegment_layout_init(&l, subs, n, 0) < 0)
		return;
	if (datasegment_index_bytes(&b, &l) < 0 ||
	    datasegment_index_parse(&e, &got, b.ptr, b.len, l.deal_padded) <
		0 ||
	    got != n || memcmp(e, l.entries, n * sizeof(*e)))
		abort();
	for (size_t i = 0; i < n; i++) {
		struct datasegment_proof pf, back;

		buf_reset(&b);
		if (datasegment_proof_make(&pf, &l, i) < 0 ||
		    datasegment_proof_verify(&pf, &l.piece, &subs[i]) < 0 ||
		    datasegment_proof_encode(&b, &pf) < 0 ||
		    datasegment_proof_decode(&back, b.ptr, b.len) < 0 ||
		    memcmp(&back, &pf, sizeof(pf)))
			abort();
	}
	efs_free(e);
	buf_release(&b);
	datasegment_layout_release(&l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t deal;

	if (size < 1)
		return 0;
	deal = (uint64_t)256 << (data[0] % 16);
	check_parse(deal, data + 1, size - 1);
	check_proof(data + 1, size - 1);
	check_layout(data + 1, size - 1);
	return 0;
}
