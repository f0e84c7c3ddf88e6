/*
 * test_datasegment.c - FRC-0058 aggregation: every case of
 * tests/data/datasegment/vectors.txt (made by @web3-storage/data-segment
 * 5.3.0, see its README) byte for byte: sub-piece CIDs, placement and
 * deal size, index entries and index bytes, the aggregate's piece, the
 * payload streamed through datasegment_payload_span (its SHA-256 and its
 * CommP), inclusion proofs and their DAG-CBOR; then the SP's index
 * parser, proofs that must fail, corrupt proof bytes, fr32 round trips, a
 * large deal, and the allocation-failure loop.
 */
#include "core/datasegment.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/cbor.h"
#include "core/error.h"
#include "core/mhash.h"
#include "tests/harness.h"

#define SUBS_MAX  16
#define INDEX_MAX 4096
#define PROOF_MAX 8192

static struct buf vectors;

/* Read the vectors once, from inside a test (harness_read_data asserts). */
static void vectors_load(void)
{
	if (vectors.len == 0)
		CU_ASSERT_FATAL(harness_read_data(
				    &vectors, "datasegment/vectors.txt") == 0);
}

static int suite_init(void)
{
	buf_init(&vectors, BUF_NOCAP);
	return 0;
}

static int suite_cleanup(void)
{
	buf_release(&vectors);
	return 0;
}

/* A case's sub-pieces: payloads and their pieces. */
struct subs {
	size_t n;
	uint8_t *payload[SUBS_MAX];
	uint64_t len[SUBS_MAX];
	struct commp_piece piece[SUBS_MAX];
};

static void subs_free(struct subs *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->payload[i]);
	s->n = 0;
}

/* Parse "len:seed ..." and hash each payload. */
static void subs_load(struct subs *s, const char *spec)
{
	const char *p = spec;

	s->n = 0;
	while (*p && s->n < SUBS_MAX) {
		unsigned long long len, seed;
		int used;

		CU_ASSERT_FATAL(sscanf(p, "%llu:%llu%n", &len, &seed, &used) ==
				2);
		s->payload[s->n] = malloc(len ? len : 1);
		CU_ASSERT_FATAL(s->payload[s->n] != NULL);
		harness_fill_random(s->payload[s->n], len, seed);
		s->len[s->n] = len;
		CU_ASSERT_FATAL(
		    commp_compute(&s->piece[s->n], s->payload[s->n], len) == 0);
		s->n++;
		p += used;
		while (*p == ' ')
			p++;
	}
}

static void vec_str(char *out, size_t cap, const char *cname, const char *field)
{
	char key[64];

	snprintf(key, sizeof(key), "%s.%s", cname, field);
	CU_ASSERT_FATAL(harness_vector_str(out, cap, &vectors, key) >= 0);
}

static long vec_hex(uint8_t *out, size_t cap, const char *cname,
		    const char *field, size_t i)
{
	char key[64];
	long n;

	snprintf(key, sizeof(key), "%s.%s.%zu", cname, field, i);
	n = harness_vector_hex(out, cap, &vectors, key);
	CU_ASSERT_FATAL(n >= 0);
	return n;
}

static uint64_t vec_u64(const char *cname, const char *field)
{
	char s[64];

	vec_str(s, sizeof(s), cname, field);
	return strtoull(s, NULL, 10);
}

static void piece_cid(char *out, const struct commp_piece *p)
{
	struct cid id;

	commp_cid_v2(&id, p);
	cid_tostr(out, &id);
}

/* The whole unpadded payload, assembled span by span. */
static uint8_t *payload_stream(const struct datasegment_layout *l,
			       const struct subs *s)
{
	uint64_t total = l->piece.unpadded_size, pos = 0;
	uint8_t *out = malloc(total);
	struct buf index = BUF_INIT(BUF_NOCAP);

	CU_ASSERT_FATAL(out != NULL);
	CU_ASSERT_FATAL(datasegment_index_bytes(&index, l) == 0);
	CU_ASSERT_EQUAL(index.len,
			datasegment_index_unpadded_size(l->deal_padded));
	while (pos < total) {
		struct datasegment_span sp;

		CU_ASSERT_FATAL(datasegment_payload_span(&sp, l, pos) == 0);
		CU_ASSERT_FATAL(sp.len >= 1 && sp.len <= total - pos);
		if (sp.kind == DATASEGMENT_SPAN_PIECE)
			memcpy(out + pos, s->payload[sp.piece] + sp.offset,
			       sp.len);
		else if (sp.kind == DATASEGMENT_SPAN_INDEX)
			memcpy(out + pos, index.ptr + sp.offset, sp.len);
		else
			memset(out + pos, 0, sp.len);
		pos += sp.len;
	}
	CU_ASSERT_EQUAL(
	    datasegment_payload_span(&(struct datasegment_span){0}, l, total),
	    EFS_EINVAL);
	buf_release(&index);
	return out;
}

static void check_payload(const char *cname, const struct datasegment_layout *l,
			  const struct subs *s)
{
	uint8_t *payload = payload_stream(l, s);
	uint8_t want[32], got[MHASH_DIGEST_MAX];
	struct commp_piece p;
	size_t n;

	CU_ASSERT_FATAL(mhash_compute(got, &n, MHASH_SHA2_256, payload,
				      l->piece.unpadded_size) == 0);
	{
		char key[64];

		snprintf(key, sizeof(key), "%s.payload", cname);
		CU_ASSERT_FATAL(harness_vector_hex(want, sizeof(want), &vectors,
						   key) == 32);
	}
	CU_ASSERT(memcmp(got, want, 32) == 0);
	/* The streamed bytes hash to the aggregate's piece. */
	CU_ASSERT_FATAL(commp_compute(&p, payload, l->piece.unpadded_size) ==
			0);
	CU_ASSERT(memcmp(p.root, l->piece.root, 32) == 0);
	CU_ASSERT_EQUAL(p.padded_size, l->deal_padded);
	CU_ASSERT_EQUAL(p.padding, 0);
	free(payload);
}

static void check_proofs(const char *cname, const struct datasegment_layout *l,
			 const struct subs *s)
{
	static uint8_t want[PROOF_MAX];

	for (size_t i = 0; i < s->n; i++) {
		struct datasegment_proof pf, back;
		struct buf b = BUF_INIT(BUF_NOCAP);
		struct commp_piece agg;
		long n = vec_hex(want, sizeof(want), cname, "proof", i);

		CU_ASSERT_FATAL(datasegment_proof_make(&pf, l, i) == 0);
		CU_ASSERT_FATAL(datasegment_proof_encode(&b, &pf) == 0);
		CU_ASSERT_EQUAL(b.len, (size_t)n);
		CU_ASSERT(b.len == (size_t)n && !memcmp(b.ptr, want, b.len));
		CU_ASSERT_FATAL(
		    datasegment_proof_decode(&back, want, (size_t)n) == 0);
		CU_ASSERT(memcmp(&back, &pf, sizeof(pf)) == 0);
		CU_ASSERT_EQUAL(
		    datasegment_proof_verify(&back, &l->piece, &s->piece[i]),
		    0);
		CU_ASSERT_FATAL(
		    datasegment_proof_resolve(&agg, &back, &s->piece[i]) == 0);
		CU_ASSERT(memcmp(agg.root, l->piece.root, 32) == 0);
		CU_ASSERT_EQUAL(agg.padded_size, l->deal_padded);
		buf_release(&b);
	}
}

static void check_case(const char *cname)
{
	static uint8_t want[INDEX_MAX];
	char spec[256], s1[CID_STR_MAX], s2[CID_STR_MAX];
	uint64_t deal = vec_u64(cname, "deal");
	bool fixed = vec_u64(cname, "fixed");
	struct datasegment_layout l;
	struct buf index = BUF_INIT(BUF_NOCAP);
	struct subs s;
	long n;

	vec_str(spec, sizeof(spec), cname, "subs");
	subs_load(&s, spec);
	if (vec_u64(cname, "toobig")) {
		CU_ASSERT_EQUAL(datasegment_layout_init(&l, s.piece, s.n, deal),
				EFS_ETOOBIG);
		subs_free(&s);
		return;
	}
	for (size_t i = 0; i < s.n; i++) {
		piece_cid(s1, &s.piece[i]);
		snprintf(spec, sizeof(spec), "%s.piece.%zu", cname, i);
		CU_ASSERT_FATAL(
		    harness_vector_str(s2, sizeof(s2), &vectors, spec) > 0);
		CU_ASSERT_STRING_EQUAL(s1, s2);
	}
	CU_ASSERT_FATAL(
	    datasegment_layout_init(&l, s.piece, s.n, fixed ? deal : 0) == 0);
	CU_ASSERT_EQUAL(l.deal_padded, deal);
	CU_ASSERT_EQUAL(l.n, s.n);
	CU_ASSERT_EQUAL(l.index_offset, datasegment_index_offset(deal));
	for (size_t i = 0; i < s.n; i++) {
		uint8_t got[DATASEGMENT_ENTRY_SIZE];

		n = vec_hex(want, sizeof(want), cname, "entry", i);
		datasegment_entry_encode(got, &l.entries[i]);
		CU_ASSERT(n == DATASEGMENT_ENTRY_SIZE &&
			  !memcmp(got, want, sizeof(got)));
		CU_ASSERT(datasegment_entry_valid(&l.entries[i]));
	}
	snprintf(spec, sizeof(spec), "%s.index", cname);
	n = harness_vector_hex(want, sizeof(want), &vectors, spec);
	CU_ASSERT_FATAL(datasegment_index_bytes(&index, &l) == 0);
	CU_ASSERT(n >= 0 && index.len == (size_t)n &&
		  !memcmp(index.ptr, want, index.len));
	vec_str(s2, sizeof(s2), cname, "aggregate");
	piece_cid(s1, &l.piece);
	CU_ASSERT_STRING_EQUAL(s1, s2);
	check_payload(cname, &l, &s);
	check_proofs(cname, &l, &s);
	datasegment_layout_release(&l);
	if (!fixed) {
		/* The smallest deal: half of it is refused. */
		CU_ASSERT_EQUAL(
		    datasegment_layout_init(&l, s.piece, s.n, deal / 2),
		    EFS_ETOOBIG);
		CU_ASSERT_EQUAL(l.entries, NULL);
	}
	buf_release(&index);
	subs_free(&s);
}

static void test_datasegment__golden(void)
{
	static const char *cases[] = {
	    "three", "sorted", "unsorted", "empty",  "one",
	    "full",  "many",   "fixed",	   "toobig", "toomany",
	};

	vectors_load();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(cases[i]);
}

/* Largest first leaves no gap: the sorted case ends where its sizes
 * add up, the unsorted one later. */
static void test_datasegment__order(void)
{
	struct datasegment_layout a, b;
	char spec[256];
	struct subs s, t;
	uint64_t sum = 0;

	vectors_load();
	vec_str(spec, sizeof(spec), "sorted", "subs");
	subs_load(&s, spec);
	vec_str(spec, sizeof(spec), "unsorted", "subs");
	subs_load(&t, spec);
	CU_ASSERT_FATAL(datasegment_layout_init(&a, s.piece, s.n, 0) == 0);
	CU_ASSERT_FATAL(datasegment_layout_init(&b, t.piece, t.n, 0) == 0);
	for (size_t i = 0; i < s.n; i++)
		sum += s.piece[i].padded_size;
	CU_ASSERT_EQUAL(a.entries[s.n - 1].offset + a.entries[s.n - 1].size,
			sum);
	CU_ASSERT(b.entries[t.n - 1].offset + b.entries[t.n - 1].size > sum);
	datasegment_layout_release(&a);
	datasegment_layout_release(&b);
	subs_free(&s);
	subs_free(&t);
}

static void test_datasegment__sizes(void)
{
	CU_ASSERT_EQUAL(datasegment_index_max(128), 0);
	CU_ASSERT_EQUAL(datasegment_index_max(256), 4);
	CU_ASSERT_EQUAL(datasegment_index_max(1 << 20), 8);
	/* FRC-0058: 256 Ki entries, 16 MiB, in a 32 GiB deal. */
	CU_ASSERT_EQUAL(datasegment_index_max(1ull << 35), 262144);
	CU_ASSERT_EQUAL(datasegment_index_offset(1ull << 35),
			(1ull << 35) - (16ull << 20));
	CU_ASSERT_EQUAL(datasegment_index_unpadded_size(1 << 20), 8 * 127 / 2);
	CU_ASSERT_EQUAL(datasegment_index_unpadded_offset(1 << 20),
			(1 << 20) / 128 * 127 - 508);
	CU_ASSERT_EQUAL(datasegment_index_max(1000), 0);
	CU_ASSERT_EQUAL(datasegment_index_offset(0), 0);
}

static void test_datasegment__fr32(void)
{
	uint8_t in[127], padded[128], out[127];

	for (uint64_t seed = 1; seed < 200; seed++) {
		harness_fill_random(in, sizeof(in), seed);
		commp_fr32_pad(padded, in);
		for (int k = 0; k < 4; k++)
			CU_ASSERT_EQUAL(padded[32 * k + 31] & 0xc0, 0);
		commp_fr32_unpad(out, padded);
		CU_ASSERT(memcmp(in, out, sizeof(in)) == 0);
	}
}

/* Three pieces in a 1 MiB deal: a layout to poke at. */
static void small_layout(struct datasegment_layout *l, struct subs *s)
{
	subs_load(s, "1000:1 5000:2 300:3");
	CU_ASSERT_FATAL(datasegment_layout_init(l, s->piece, s->n, 1 << 20) ==
			0);
}

static void test_datasegment__parse(void)
{
	struct datasegment_layout l;
	struct datasegment_entry *e;
	struct buf tail = BUF_INIT(BUF_NOCAP);
	uint8_t junk[300];
	struct subs s;
	size_t n;

	small_layout(&l, &s);
	/* Bytes before the index area are not looked at. */
	harness_fill_random(junk, sizeof(junk), 9);
	CU_ASSERT_FATAL(buf_add(&tail, junk, sizeof(junk)) == 0);
	CU_ASSERT_FATAL(datasegment_index_bytes(&tail, &l) == 0);
	CU_ASSERT_FATAL(datasegment_index_parse(&e, &n, tail.ptr, tail.len,
						l.deal_padded) == 0);
	CU_ASSERT_FATAL(n == 3);
	CU_ASSERT(memcmp(e, l.entries, 3 * sizeof(*e)) == 0);
	efs_free(e);

	/* Exactly the index's bytes. */
	CU_ASSERT_FATAL(datasegment_index_parse(&e, &n, tail.ptr + 300,
						tail.len - 300,
						l.deal_padded) == 0);
	CU_ASSERT_EQUAL(n, 3);
	efs_free(e);

	/* One byte short, a bad deal size. */
	CU_ASSERT_EQUAL(datasegment_index_parse(&e, &n, tail.ptr + 301,
						tail.len - 301, l.deal_padded),
			EFS_EINVAL);
	CU_ASSERT_EQUAL(
	    datasegment_index_parse(&e, &n, tail.ptr, tail.len, 1000),
	    EFS_EINVAL);
	CU_ASSERT_EQUAL(
	    datasegment_index_parse(&e, &n, tail.ptr, tail.len, 128),
	    EFS_EINVAL);

	/* A flipped bit in entry 1's root: its checksum fails. */
	tail.ptr[300 + 64] ^= 0x01;
	CU_ASSERT_FATAL(datasegment_index_parse(&e, &n, tail.ptr, tail.len,
						l.deal_padded) == 0);
	CU_ASSERT_FATAL(n == 2);
	CU_ASSERT(memcmp(&e[0], &l.entries[0], sizeof(*e)) == 0);
	CU_ASSERT(memcmp(&e[1], &l.entries[2], sizeof(*e)) == 0);
	efs_free(e);
	buf_release(&tail);

	/* Valid checksums, offsets out of range: into the index area, past
	 * the end, size 0. */
	{
		struct datasegment_layout bad = l;
		struct datasegment_entry ent[3];

		datasegment_entry_init(&ent[0], l.entries[0].comm,
				       l.index_offset, 128);
		datasegment_entry_init(&ent[1], l.entries[1].comm,
				       UINT64_MAX - 127, 256);
		datasegment_entry_init(&ent[2], l.entries[2].comm, 0, 0);
		bad.entries = ent;
		CU_ASSERT_FATAL(datasegment_index_bytes(&tail, &bad) == 0);
		CU_ASSERT_FATAL(datasegment_index_parse(&e, &n, tail.ptr,
							tail.len,
							l.deal_padded) == 0);
		CU_ASSERT_EQUAL(n, 0);
		CU_ASSERT_EQUAL(e, NULL);
		buf_release(&tail);
	}
	datasegment_layout_release(&l);
	subs_free(&s);
}

static void test_datasegment__proof_bad(void)
{
	struct datasegment_layout l;
	struct datasegment_proof p, q;
	struct commp_piece other;
	struct subs s;

	small_layout(&l, &s);
	CU_ASSERT_FATAL(datasegment_proof_make(&p, &l, 1) == 0);
	CU_ASSERT_EQUAL(datasegment_proof_make(&q, &l, 3), EFS_EINVAL);
	CU_ASSERT_EQUAL(datasegment_proof_verify(&p, &l.piece, &s.piece[1]), 0);
	/* Another sub-piece, a bigger aggregate, another root. */
	CU_ASSERT_EQUAL(datasegment_proof_verify(&p, &l.piece, &s.piece[0]),
			EFS_EMISMATCH);
	other = l.piece;
	other.padded_size *= 2;
	CU_ASSERT_EQUAL(datasegment_proof_verify(&p, &other, &s.piece[1]),
			EFS_EMISMATCH);
	other = l.piece;
	other.root[0] ^= 1;
	CU_ASSERT_EQUAL(datasegment_proof_verify(&p, &other, &s.piece[1]),
			EFS_EMISMATCH);
	/* Each node of either path matters. */
	for (unsigned i = 0; i < p.tree.depth + p.index.depth; i++) {
		q = p;
		if (i < p.tree.depth)
			q.tree.path[i][5] ^= 0x10;
		else
			q.index.path[i - p.tree.depth][5] ^= 0x10;
		CU_ASSERT_EQUAL(
		    datasegment_proof_verify(&q, &l.piece, &s.piece[1]),
		    EFS_EMISMATCH);
	}
	/* Positions: past the width, another slot, a shorter path. */
	q = p;
	q.tree.index = 1ull << q.tree.depth;
	CU_ASSERT_EQUAL(datasegment_proof_verify(&q, &l.piece, &s.piece[1]),
			EFS_EMISMATCH);
	q = p;
	q.index.index ^= 1;
	CU_ASSERT_EQUAL(datasegment_proof_verify(&q, &l.piece, &s.piece[1]),
			EFS_EMISMATCH);
	q = p;
	q.tree.depth--;
	CU_ASSERT_EQUAL(datasegment_proof_verify(&q, &l.piece, &s.piece[1]),
			EFS_EMISMATCH);
	/* The proof of the index entry's slot must lie in the index area:
	 * a tree whose "index" proof points at a data node. */
	q = p;
	q.index.index = 0;
	CU_ASSERT_EQUAL(datasegment_proof_verify(&q, &l.piece, &s.piece[1]),
			EFS_EMISMATCH);
	datasegment_layout_release(&l);
	subs_free(&s);
}

/* [[0, [depth zero nodes]], [0, []]] */
static int proof_cbor(struct buf *b, unsigned depth)
{
	static const uint8_t zero[32];
	int error = cbor_put_array(b, 2) || cbor_put_array(b, 2) ||
		    cbor_put_uint(b, 0) || cbor_put_array(b, depth);

	for (unsigned i = 0; i < depth && !error; i++)
		error = cbor_put_bytes(b, zero, sizeof(zero));
	return error || cbor_put_array(b, 2) || cbor_put_uint(b, 0) ||
	       cbor_put_array(b, 0);
}

static void test_datasegment__proof_decode(void)
{
	struct datasegment_layout l;
	struct datasegment_proof p, q;
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct subs s;

	small_layout(&l, &s);
	CU_ASSERT_FATAL(datasegment_proof_make(&p, &l, 2) == 0);
	CU_ASSERT_FATAL(datasegment_proof_encode(&b, &p) == 0);
	for (size_t n = 0; n < b.len; n++)
		CU_ASSERT_EQUAL(datasegment_proof_decode(&q, b.ptr, n),
				EFS_ECORRUPT);
	/* Trailing byte, wrong counts, a short node. */
	CU_ASSERT_FATAL(buf_addch(&b, 0) == 0);
	CU_ASSERT_EQUAL(datasegment_proof_decode(&q, b.ptr, b.len),
			EFS_ECORRUPT);
	{
		static const uint8_t three[] = {0x83, 0x82, 0x00, 0x80,
						0x82, 0x00, 0x80, 0x00};
		static const uint8_t one_field[] = {0x82, 0x81, 0x00,
						    0x82, 0x00, 0x80};
		static const uint8_t short_node[] = {
		    0x82, 0x82, 0x00, 0x81, 0x41, 0x00, 0x82, 0x00, 0x80};
		static const uint8_t text_node[] = {
		    0x82, 0x82, 0x00, 0x81, 0x61, 0x61, 0x82, 0x00, 0x80};
		static const uint8_t ok[] = {0x82, 0x82, 0x00, 0x80,
					     0x82, 0x07, 0x80};

		CU_ASSERT_EQUAL(
		    datasegment_proof_decode(&q, three, sizeof(three)),
		    EFS_ECORRUPT);
		CU_ASSERT_EQUAL(
		    datasegment_proof_decode(&q, one_field, sizeof(one_field)),
		    EFS_ECORRUPT);
		CU_ASSERT_EQUAL(datasegment_proof_decode(&q, short_node,
							 sizeof(short_node)),
				EFS_ECORRUPT);
		CU_ASSERT_EQUAL(
		    datasegment_proof_decode(&q, text_node, sizeof(text_node)),
		    EFS_ECORRUPT);
		CU_ASSERT_FATAL(datasegment_proof_decode(&q, ok, sizeof(ok)) ==
				0);
		CU_ASSERT_EQUAL(q.index.index, 7);
		CU_ASSERT_EQUAL(q.tree.depth, 0);
	}
	/* A path of 64 nodes is refused; 63 is read. */
	for (unsigned depth = 63; depth <= 64; depth++) {
		buf_reset(&b);
		CU_ASSERT_FATAL(proof_cbor(&b, depth) == 0);
		CU_ASSERT_EQUAL(datasegment_proof_decode(&q, b.ptr, b.len),
				depth == 63 ? 0 : EFS_ECORRUPT);
	}
	buf_release(&b);
	datasegment_layout_release(&l);
	subs_free(&s);
}

/*
 * A 32 GiB deal of 1000 sub-pieces of 128 B .. 16 MiB in random order:
 * the index of 256 Ki entries (16 MiB) round-trips through the parser
 * and a sample of proofs verifies.
 */
static void test_datasegment__large(void)
{
	const size_t n = 1000;
	struct commp_piece *subs = calloc(n, sizeof(*subs));
	struct datasegment_layout l;
	struct datasegment_entry *e;
	struct buf b = BUF_INIT(BUF_NOCAP);
	uint64_t x = 7;
	size_t got;

	CU_ASSERT_FATAL(subs != NULL);
	for (size_t i = 0; i < n; i++) {
		uint8_t root[32];
		unsigned h = 2 + (unsigned)(harness_rand64(&x) % 18);

		harness_fill_random(root, sizeof(root), i + 1);
		root[31] &= 0x3f;
		CU_ASSERT_FATAL(
		    commp_piece_init(&subs[i], root, 32ull << h, 0) == 0);
	}
	CU_ASSERT_FATAL(datasegment_layout_init(&l, subs, n, 1ull << 35) == 0);
	CU_ASSERT_EQUAL(l.index_max, 262144);
	CU_ASSERT_FATAL(datasegment_index_bytes(&b, &l) == 0);
	CU_ASSERT_EQUAL(b.len, 262144ull * 127 / 2);
	CU_ASSERT_FATAL(datasegment_index_parse(&e, &got, b.ptr, b.len,
						l.deal_padded) == 0);
	CU_ASSERT_FATAL(got == n);
	CU_ASSERT(memcmp(e, l.entries, n * sizeof(*e)) == 0);
	efs_free(e);
	for (size_t i = 0; i < n; i += 97) {
		struct datasegment_proof p;

		CU_ASSERT_FATAL(datasegment_proof_make(&p, &l, i) == 0);
		CU_ASSERT_EQUAL(
		    datasegment_proof_verify(&p, &l.piece, &subs[i]), 0);
	}
	/* The same pieces in no particular deal: the smallest is smaller. */
	{
		struct datasegment_layout m;

		CU_ASSERT_FATAL(datasegment_layout_init(&m, subs, n, 0) == 0);
		CU_ASSERT(m.deal_padded < l.deal_padded);
		datasegment_layout_release(&m);
	}
	datasegment_layout_release(&l);
	buf_release(&b);
	free(subs);
}

static void test_datasegment__invalid(void)
{
	struct datasegment_layout l;
	struct subs s;
	struct commp_piece bad;

	subs_load(&s, "1000:1 5000:2");
	CU_ASSERT_EQUAL(datasegment_layout_init(&l, s.piece, 0, 0), EFS_EINVAL);
	CU_ASSERT_EQUAL(datasegment_layout_init(&l, s.piece, 2, 3000),
			EFS_EINVAL);
	CU_ASSERT_EQUAL(datasegment_layout_init(&l, s.piece, 2, 128),
			EFS_EINVAL);
	bad = s.piece[1];
	s.piece[1].height = 7; /* disagrees with padded_size */
	CU_ASSERT_EQUAL(datasegment_layout_init(&l, s.piece, 2, 0), EFS_EINVAL);
	s.piece[1] = bad;
	s.piece[1].root[31] |= 0x80;
	CU_ASSERT_EQUAL(datasegment_layout_init(&l, s.piece, 2, 0), EFS_EINVAL);
	s.piece[1] = bad;
	/* A sub-piece as big as the largest deal fits nowhere. */
	s.piece[1].height = COMMP_HEIGHT_MAX;
	s.piece[1].padded_size = 32ull << COMMP_HEIGHT_MAX;
	s.piece[1].unpadded_size = s.piece[1].padded_size / 128 * 127;
	CU_ASSERT_EQUAL(datasegment_layout_init(&l, s.piece, 2, 0),
			EFS_ETOOBIG);
	subs_free(&s);
}

static int alloc_run(void *payload)
{
	struct subs *s = payload;
	struct datasegment_layout l;
	struct datasegment_proof p;
	struct datasegment_entry *e = NULL;
	struct buf b = BUF_INIT(BUF_NOCAP);
	size_t n;
	int error;

	if ((error = datasegment_layout_init(&l, s->piece, s->n, 0)) < 0)
		return error;
	if ((error = datasegment_index_bytes(&b, &l)) < 0 ||
	    (error = datasegment_index_parse(&e, &n, b.ptr, b.len,
					     l.deal_padded)) < 0)
		goto out;
	buf_reset(&b);
	if ((error = datasegment_proof_make(&p, &l, 0)) < 0 ||
	    (error = datasegment_proof_encode(&b, &p)) < 0)
		goto out;
	error = datasegment_proof_verify(&p, &l.piece, &s->piece[0]);
out:
	efs_free(e);
	buf_release(&b);
	datasegment_layout_release(&l);
	return error;
}

static void test_datasegment__alloc(void)
{
	struct subs s;

	subs_load(&s, "100:20 101:21 102:22 103:23 104:24 105:25 106:26 "
		      "107:27 108:28 70000:4");
	CU_ASSERT(harness_alloc_loop(alloc_run, &s) > 5);
	subs_free(&s);
}

static CU_TestInfo tests[] = {
    {"golden", test_datasegment__golden},
    {"order", test_datasegment__order},
    {"sizes", test_datasegment__sizes},
    {"fr32", test_datasegment__fr32},
    {"parse", test_datasegment__parse},
    {"proof_bad", test_datasegment__proof_bad},
    {"proof_decode", test_datasegment__proof_decode},
    {"large", test_datasegment__large},
    {"invalid", test_datasegment__invalid},
    {"alloc", test_datasegment__alloc},
    CU_TEST_INFO_NULL,
};

HARNESS_MAIN({"datasegment", suite_init, suite_cleanup, NULL, NULL, tests})
