/*
 * test_commp.c - Filecoin piece commitment and piece CIDs: the vectors of
 * ipfs-formats.md §10, a table made with the JS oracle
 * (@web3-storage/data-segment 5.3.0; tests/data/commp/vectors.txt and its
 * README), the same input fed in pieces of many sizes and on several
 * threads, the size helpers, piece CID v2 parsing (round trip and corrupt
 * CIDs), and the allocation-failure loop.
 */
#include "core/commp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "tests/harness.h"

/* The seed-1 stream of vectors.txt, as long as its longest row. */
#define RAND_LEN ((size_t)64 << 20)
static uint8_t *rand1;
static uint8_t *zeros;

static int suite_init(void)
{
	rand1 = malloc(RAND_LEN);
	zeros = calloc(1, RAND_LEN);
	if (!rand1 || !zeros)
		return 1;
	harness_fill_random(rand1, RAND_LEN, 1);
	return 0;
}

static int suite_cleanup(void)
{
	free(rand1);
	free(zeros);
	return 0;
}

static void cid_str(char *out, const struct commp_piece *p, int version)
{
	struct cid id;

	if (version == 1)
		commp_cid_v1(&id, p);
	else
		commp_cid_v2(&id, p);
	cid_tostr(out, &id);
}

static bool piece_equal(const struct commp_piece *a,
			const struct commp_piece *b)
{
	return !memcmp(a->root, b->root, COMMP_NODE_SIZE) &&
	       a->payload_size == b->payload_size &&
	       a->padded_size == b->padded_size &&
	       a->unpadded_size == b->unpadded_size &&
	       a->padding == b->padding && a->height == b->height;
}

/*
 * ipfs-formats.md §10, each reproduced there with the oracle; the first
 * is FRC-0069's example, the last Lotus's 1024 zero bytes
 * (go-fil-commp-hashhash testdata/zero.txt).
 */
static void test_commp__formats(void)
{
	static const struct {
		const char *what;
		size_t len;
		const char *v1, *v2;
		uint64_t padded;
	} cases[] = {
		{ "127 x {00,01,02,03}", 508,
		  "baga6ea4seaqes3nobte6ezpp4wqan2a"
		  "ge2s5yxcatzotcvobhgcmv5wi2xh5mbi",
		  "bafkzcibcaaces3nobte6ezpp4wqan2a"
		  "ge2s5yxcatzotcvobhgcmv5wi2xh5mbi",
		  512 },
		{ "empty", 0,
		  "baga6ea4seaqdomn3tgwgrh3g532zops"
		  "kstnbrd2n3sxfqbze7rxt7vqn7veigmy",
		  "bafkzcibcp4bdomn3tgwgrh3g532zops"
		  "kstnbrd2n3sxfqbze7rxt7vqn7veigmy",
		  128 },
		{ "128 zero bytes", 128, NULL,
		  "bafkzcibcpybwiktap34inmaex4wbs6c"
		  "ghlq5i2j2yd2bb2zndn5ep7ralzphkdy",
		  256 },
		{ "1024 zero bytes", 1024,
		  "baga6ea4seaqpy7usqklokfx2vxuynmu"
		  "pslkeutzexe2uqurdg5vhtebhxqmpqmy",
		  NULL, 2048 },
	};
	uint8_t quads[508];

	for (int i = 0; i < 4; i++)
		memset(quads + 127 * i, i, 127);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const uint8_t *data = i == 0 ? quads : zeros;
		struct commp_piece p;
		char s[CID_STR_MAX];

		CU_ASSERT_EQUAL_FATAL(commp_compute(&p, data, cases[i].len), 0);
		CU_ASSERT_EQUAL(p.padded_size, cases[i].padded);
		if (cases[i].v1) {
			cid_str(s, &p, 1);
			CU_ASSERT_STRING_EQUAL(s, cases[i].v1);
		}
		if (cases[i].v2) {
			cid_str(s, &p, 2);
			CU_ASSERT_STRING_EQUAL(s, cases[i].v2);
		}
	}
}

struct vector {
	char source[16];   /* "rand:SEED" or "zero" */
	uint64_t payload, padded, unpadded, padding;
	unsigned height;
	char v1[CID_STR_MAX], v2[CID_STR_MAX];
};

/* Rows of vectors.txt into out (cap entries); returns the count. */
static size_t vectors_load(struct vector *out, size_t cap)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	size_t n = 0;

	if (harness_read_data(&b, "commp/vectors.txt") < 0)
		return 0;
	for (char *line = (char *)b.ptr; line && *line && n < cap;) {
		char *end = strchr(line, '\n');
		unsigned long long pay, pad, unp, padding;
		struct vector *v = &out[n];

		if (end)
			*end = '\0';
		if (*line != '#' && *line) {
			int k = sscanf(line, "%15s %llu %llu %llu %u %llu "
				       "%255s %255s",
				       v->source, &pay, &pad, &unp, &v->height,
				       &padding, v->v1, v->v2);

			CU_ASSERT_EQUAL_FATAL(k, 8);
			v->payload = pay;
			v->padded = pad;
			v->unpadded = unp;
			v->padding = padding;
			n++;
		}
		line = end ? end + 1 : NULL;
	}
	buf_release(&b);
	return n;
}

/* The input bytes of a vector; malloc'd for seeds other than 1. */
static const uint8_t *vector_data(const struct vector *v, uint8_t **owned)
{
	unsigned long seed;

	*owned = NULL;
	CU_ASSERT_FATAL(v->payload <= RAND_LEN);
	if (!strcmp(v->source, "zero"))
		return zeros;
	CU_ASSERT_FATAL(!strncmp(v->source, "rand:", 5));
	seed = strtoul(v->source + 5, NULL, 10);
	if (seed == 1)
		return rand1;
	*owned = malloc(v->payload ? v->payload : 1);
	CU_ASSERT_FATAL(*owned != NULL);
	harness_fill_random(*owned, v->payload, seed);
	return *owned;
}

static void check_vector(const struct commp_piece *p, const struct vector *v)
{
	char s[CID_STR_MAX];

	CU_ASSERT_EQUAL(p->payload_size, v->payload);
	CU_ASSERT_EQUAL(p->padded_size, v->padded);
	CU_ASSERT_EQUAL(p->unpadded_size, v->unpadded);
	CU_ASSERT_EQUAL(p->height, v->height);
	CU_ASSERT_EQUAL(p->padding, v->padding);
	cid_str(s, p, 1);
	CU_ASSERT_STRING_EQUAL(s, v->v1);
	cid_str(s, p, 2);
	CU_ASSERT_STRING_EQUAL(s, v->v2);
	if (strcmp(s, v->v2))
		fprintf(stderr, "commp %s %llu: got %s\n", v->source,
			(unsigned long long)v->payload, s);
}

#define VECTORS_MAX 128

static void test_commp__vectors(void)
{
	static struct vector vs[VECTORS_MAX];
	size_t n = vectors_load(vs, VECTORS_MAX);

	CU_ASSERT(n >= 50);
	for (size_t i = 0; i < n; i++) {
		struct commp_piece p;
		uint8_t *owned;
		const uint8_t *data = vector_data(&vs[i], &owned);

		CU_ASSERT_EQUAL_FATAL(commp_compute(&p, data, vs[i].payload),
				      0);
		check_vector(&p, &vs[i]);
		CU_ASSERT_EQUAL(commp_padded_size(vs[i].payload), vs[i].padded);
		CU_ASSERT_EQUAL(commp_unpadded_size(vs[i].payload),
				vs[i].unpadded);
		free(owned);
	}
}

/* Feed data in pieces: step > 0 fixed, step == 0 pseudo-random up to max. */
static void feed(struct commp *c, const uint8_t *data, size_t len,
		 size_t step, size_t max, uint64_t seed)
{
	size_t off = 0;

	while (off < len) {
		size_t n = step;

		if (!n) {
			uint8_t r[4];

			harness_fill_random(r, sizeof(r), seed++);
			n = (r[0] | r[1] << 8 | (size_t)r[2] << 16) % max + 1;
		}
		if (n > len - off)
			n = len - off;
		CU_ASSERT_EQUAL_FATAL(commp_update(c, data + off, n), 0);
		off += n;
	}
}

static void test_commp__splits(void)
{
	static const size_t sizes[] = { 0, 1, 126, 127, 128, 254, 255, 1017,
					4065, 65535, 1048577 };
	static const struct {
		size_t step, max;
	} ways[] = { { 1, 0 }, { 127, 0 }, { 128, 0 }, { 0, 300 },
		     { 0, 70000 } };
	struct commp *c;

	CU_ASSERT_EQUAL_FATAL(commp_new(&c, 1), 0);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct commp_piece want, got;

		CU_ASSERT_EQUAL_FATAL(commp_compute(&want, rand1, sizes[i]), 0);
		for (size_t w = 0; w < sizeof(ways) / sizeof(ways[0]); w++) {
			commp_reset(c);
			feed(c, rand1, sizes[i], ways[w].step, ways[w].max,
			     i * 10 + w + 1);
			commp_finish(&got, c);
			CU_ASSERT(piece_equal(&got, &want));
		}
	}
	/* Empty updates change nothing. */
	commp_reset(c);
	CU_ASSERT_EQUAL(commp_update(c, NULL, 0), 0);
	CU_ASSERT_EQUAL(commp_update(c, rand1, 200), 0);
	CU_ASSERT_EQUAL(commp_update(c, NULL, 0), 0);
	{
		struct commp_piece want, got;

		CU_ASSERT_EQUAL(commp_compute(&want, rand1, 200), 0);
		commp_finish(&got, c);
		CU_ASSERT(piece_equal(&got, &want));
	}
	commp_free(c);
}

/* Sizes around the thread chunk (the 64 MiB vector: threads_large). */
static void test_commp__threads(void)
{
	static const size_t sizes[] = {
		2 * COMMP_CHUNK_BYTES - 1, 2 * COMMP_CHUNK_BYTES,
		2 * COMMP_CHUNK_BYTES + 1, 3 * COMMP_CHUNK_BYTES + 4000,
		17 * COMMP_CHUNK_BYTES + 127,
	};
	static const struct {
		size_t step, max;
	} ways[] = { { RAND_LEN, 0 }, { 3 << 20, 0 }, { 0, 5 << 20 } };
	static const unsigned threads[] = { 2, 3, 0 };

	for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
		struct commp *c;

		CU_ASSERT_EQUAL_FATAL(commp_new(&c, threads[t]), 0);
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			struct commp_piece want, got;

			CU_ASSERT_EQUAL_FATAL(
				commp_compute(&want, rand1, sizes[i]), 0);
			for (size_t w = 0; w < 3; w++) {
				commp_reset(c);
				feed(c, rand1, sizes[i], ways[w].step,
				     ways[w].max, w + 1);
				commp_finish(&got, c);
				CU_ASSERT(piece_equal(&got, &want));
			}
			/* Off a chunk boundary: 1 byte, then the rest. */
			commp_reset(c);
			CU_ASSERT_EQUAL(commp_update(c, rand1, 1), 0);
			CU_ASSERT_EQUAL(commp_update(c, rand1 + 1,
						     sizes[i] - 1), 0);
			commp_finish(&got, c);
			CU_ASSERT(piece_equal(&got, &want));
		}
		commp_free(c);
	}
}

/* The 64 MiB row of vectors.txt, on two threads in 8 MiB pieces. */
static void test_commp__threads_large(void)
{
	static struct vector vs[VECTORS_MAX];
	size_t n = vectors_load(vs, VECTORS_MAX);
	struct commp_piece got;
	struct commp *c;
	size_t i;

	for (i = 0; i < n && vs[i].payload != RAND_LEN; i++)
		;
	CU_ASSERT_FATAL(i < n && !strcmp(vs[i].source, "rand:1"));
	CU_ASSERT_EQUAL_FATAL(commp_new(&c, 2), 0);
	feed(c, rand1, RAND_LEN, 8 << 20, 0, 0);
	commp_finish(&got, c);
	check_vector(&got, &vs[i]);
	commp_free(c);
}

/* commp_finish leaves the state alone; commp_reset starts over. */
static void test_commp__finish_twice(void)
{
	struct commp_piece mid, mid2, end, want;
	struct commp *c;

	CU_ASSERT_EQUAL_FATAL(commp_new(&c, 1), 0);
	CU_ASSERT_EQUAL(commp_update(c, rand1, 1000), 0);
	commp_finish(&mid, c);
	commp_finish(&mid2, c);
	CU_ASSERT(piece_equal(&mid, &mid2));
	CU_ASSERT_EQUAL(commp_update(c, rand1 + 1000, 99999), 0);
	commp_finish(&end, c);
	CU_ASSERT_EQUAL(commp_compute(&want, rand1, 100999), 0);
	CU_ASSERT(piece_equal(&end, &want));
	CU_ASSERT_EQUAL(commp_compute(&want, rand1, 1000), 0);
	CU_ASSERT(piece_equal(&mid, &want));
	commp_reset(c);
	commp_finish(&end, c);
	CU_ASSERT_EQUAL(commp_compute(&want, NULL, 0), 0);
	CU_ASSERT(piece_equal(&end, &want));
	commp_free(c);
}

static void test_commp__sizes(void)
{
	static const struct {
		uint64_t payload, unpadded, padded;
		unsigned height;
	} cases[] = {
		{ 0, 127, 128, 2 },
		{ 1, 127, 128, 2 },
		{ 127, 127, 128, 2 },
		{ 128, 254, 256, 3 },
		{ 254, 254, 256, 3 },
		{ 255, 508, 512, 4 },
		{ 1016, 1016, 1024, 5 },
		{ 1017, 2032, 2048, 6 },
		{ 1024, 2032, 2048, 6 },
		/* a 32 GiB sector */
		{ 34091302912ull, 34091302912ull, 34359738368ull, 30 },
		{ 34091302913ull, 68182605824ull, 68719476736ull, 31 },
		{ COMMP_PAYLOAD_MAX, COMMP_PAYLOAD_MAX, (uint64_t)1 << 63,
		  COMMP_HEIGHT_MAX },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t u = cases[i].unpadded, p = cases[i].padded;

		CU_ASSERT_EQUAL(commp_unpadded_size(cases[i].payload), u);
		CU_ASSERT_EQUAL(commp_padded_size(cases[i].payload), p);
		CU_ASSERT_EQUAL(commp_unpadded_of_padded(p), u);
		CU_ASSERT_EQUAL(commp_padded_of_unpadded(u), p);
		CU_ASSERT_EQUAL(commp_height_of_padded(p), cases[i].height);
		CU_ASSERT(commp_padded_valid(p));
		CU_ASSERT(commp_unpadded_valid(u));
	}
	CU_ASSERT_EQUAL(commp_unpadded_size(COMMP_PAYLOAD_MAX + 1), 0);
	CU_ASSERT_EQUAL(commp_padded_size(UINT64_MAX), 0);
	CU_ASSERT(!commp_padded_valid(0));
	CU_ASSERT(!commp_padded_valid(64));
	CU_ASSERT(!commp_padded_valid(127));
	CU_ASSERT(!commp_padded_valid(384));
	CU_ASSERT(!commp_unpadded_valid(0));
	CU_ASSERT(!commp_unpadded_valid(128));
	CU_ASSERT(!commp_unpadded_valid(381));
	CU_ASSERT(!commp_unpadded_valid(COMMP_PAYLOAD_MAX * 2));
	CU_ASSERT(!commp_unpadded_valid(UINT64_MAX / 127 * 127));
	CU_ASSERT_EQUAL(commp_unpadded_of_padded(1000), 0);
	CU_ASSERT_EQUAL(commp_padded_of_unpadded(1000), 0);
	CU_ASSERT_EQUAL(commp_height_of_padded(96), 0);
}

static void test_commp__too_big(void)
{
	struct commp_piece before, after;
	struct commp *c;

	CU_ASSERT_EQUAL_FATAL(commp_new(&c, 1), 0);
	CU_ASSERT_EQUAL(commp_update(c, rand1, 300), 0);
	commp_finish(&before, c);
	/* Refused before a byte is read. */
	CU_ASSERT_EQUAL(commp_update(c, rand1, SIZE_MAX), EFS_ETOOBIG);
	CU_ASSERT_EQUAL(commp_update(c, rand1, COMMP_PAYLOAD_MAX - 299),
			EFS_ETOOBIG);
	commp_finish(&after, c);
	CU_ASSERT(piece_equal(&before, &after));
	CU_ASSERT_EQUAL(commp_compute(&after, rand1, COMMP_PAYLOAD_MAX + 1),
			EFS_ETOOBIG);
	commp_free(c);
}

/* Every vector: v2 parses back to the piece; v1 + sizes rebuild it. */
static void test_commp__cid_roundtrip(void)
{
	static struct vector vs[VECTORS_MAX];
	size_t n = vectors_load(vs, VECTORS_MAX);

	for (size_t i = 0; i < n; i++) {
		struct commp_piece p, q;
		struct cid id1, id2;
		char s[CID_STR_MAX];

		CU_ASSERT_EQUAL_FATAL(commp_piece_parse(&p, vs[i].v2), 0);
		CU_ASSERT_EQUAL(p.payload_size, vs[i].payload);
		CU_ASSERT_EQUAL(p.padded_size, vs[i].padded);
		CU_ASSERT_EQUAL(p.unpadded_size, vs[i].unpadded);
		CU_ASSERT_EQUAL(p.height, vs[i].height);
		CU_ASSERT_EQUAL(p.padding, vs[i].padding);
		cid_str(s, &p, 1);
		CU_ASSERT_STRING_EQUAL(s, vs[i].v1);

		CU_ASSERT_EQUAL_FATAL(cid_parse(&id1, vs[i].v1), 0);
		CU_ASSERT_EQUAL_FATAL(cid_parse(&id2, vs[i].v2), 0);
		CU_ASSERT(commp_cid_is_v1(&id1) && !commp_cid_is_v2(&id1));
		CU_ASSERT(commp_cid_is_v2(&id2) && !commp_cid_is_v1(&id2));
		CU_ASSERT_EQUAL(commp_piece_from_cid(&q, &id1), EFS_EINVAL);
		CU_ASSERT_EQUAL(commp_piece_init(&q, id1.digest, vs[i].padded,
						 vs[i].payload), 0);
		CU_ASSERT(piece_equal(&p, &q));
		cid_str(s, &q, 2);
		CU_ASSERT_STRING_EQUAL(s, vs[i].v2);
	}
}

/* A piece CID v2 with the given digest bytes (hex). */
static int parse_digest(struct commp_piece *out, const char *hex)
{
	uint8_t d[MHASH_DIGEST_MAX];
	long n = harness_unhex(d, sizeof(d), hex);
	struct cid id;

	CU_ASSERT_FATAL(n >= 0);
	CU_ASSERT_EQUAL_FATAL(cid_init(&id, 1, CID_CODEC_RAW,
				       MHASH_FR32_SHA256_TRUNC254_PADBINTREE,
				       d, (size_t)n), 0);
	return commp_piece_from_cid(out, &id);
}

#define ROOT "00112233445566778899aabbccddeeff" \
	     "00112233445566778899aabbccddee3f"

static void test_commp__cid_corrupt(void)
{
	static const struct {
		const char *digest;
		int want;
	} cases[] = {
		{ "7f 02 " ROOT, 0 },                  /* padding 127 of 127 */
		{ "00 02 " ROOT, 0 },
		{ "80 01 03 " ROOT, 0 },               /* padding 128 of 254 */
		{ "fe 01 03 " ROOT, 0 },               /* 254: no payload */
		{ "ff 01 03 " ROOT, EFS_ECORRUPT },    /* 255 > 254 */
		{ "", EFS_ECORRUPT },
		{ "80", EFS_ECORRUPT },                /* truncated varint */
		{ "00", EFS_ECORRUPT },                /* no height, no root */
		{ "00 02", EFS_ECORRUPT },
		{ "00 02 " ROOT " 00", EFS_ECORRUPT }, /* a byte too many */
		{ "00 02 00112233", EFS_ECORRUPT },    /* short root */
		{ "80 00 02 " ROOT, EFS_ECORRUPT },    /* non-minimal varint */
		{ "00 00 " ROOT, EFS_ECORRUPT },       /* height 0 */
		{ "00 01 " ROOT, EFS_ECORRUPT },       /* height 1 */
		{ "80 01 02 " ROOT, EFS_ECORRUPT },    /* padding 128 > 127 */
		{ "00 3b " ROOT, EFS_EUNSUPPORTED },   /* height 59 */
		{ "00 ff " ROOT, EFS_EUNSUPPORTED },   /* height 255 */
		{ "00 02 00112233445566778899aabbccddeeff"
		  "00112233445566778899aabbccddeeff", EFS_ECORRUPT }, /* root */
	};
	struct commp_piece p;
	struct cid id;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = parse_digest(&p, cases[i].digest);

		if (got != cases[i].want)
			fprintf(stderr, "case %zu (%s): %s\n", i,
				cases[i].digest, efs_error_msg());
		CU_ASSERT_EQUAL(got, cases[i].want);
	}
	CU_ASSERT_EQUAL(parse_digest(&p, "fe 01 03 " ROOT), 0);
	CU_ASSERT_EQUAL(p.payload_size, 0);
	CU_ASSERT_EQUAL(p.height, 3);

	/* Right multihash, wrong codec; a sha2-256 raw CID. */
	CU_ASSERT_EQUAL(cid_init(&id, 1, CID_CODEC_DAG_PB,
				 MHASH_FR32_SHA256_TRUNC254_PADBINTREE,
				 (const uint8_t *)"\x00\x02", 2), 0);
	CU_ASSERT_EQUAL(commp_piece_from_cid(&p, &id), EFS_EINVAL);
	CU_ASSERT_EQUAL(cid_hash(&id, 1, CID_CODEC_RAW, MHASH_SHA2_256, "x", 1),
			0);
	CU_ASSERT_EQUAL(commp_piece_from_cid(&p, &id), EFS_EINVAL);

	/* Strings: a v1 piece CID, truncated and garbled v2 ones. */
	CU_ASSERT_EQUAL(commp_piece_parse(&p, "baga6ea4seaqes3nobte6ezpp4wqan2"
					  "age2s5yxcatzotcvobhgcmv5wi2xh5mbi"),
			EFS_EINVAL);
	CU_ASSERT(commp_piece_parse(&p, "bafkzcibcaaces3nobte6ezpp4wqan2age"
				    "2s5yxcatzotcvobhgcmv5wi2xh5mb") < 0);
	CU_ASSERT(commp_piece_parse(&p, "bafkzcibcaaces3nobte6ezpp4wqan2age"
				    "2s5yxcatzotcvobhgcmv5wi2xh5mbi1") < 0);
	CU_ASSERT(commp_piece_parse(&p, "bafkzcib") < 0);
	CU_ASSERT(commp_piece_parse(&p, "") < 0);
	CU_ASSERT(commp_piece_parse(&p, "not a cid") < 0);

	/* commp_piece_init checks what it is given. */
	{
		uint8_t root[COMMP_NODE_SIZE] = { 0 };

		CU_ASSERT_EQUAL(commp_piece_init(&p, root, 100, 0), EFS_EINVAL);
		CU_ASSERT_EQUAL(commp_piece_init(&p, root, 128, 128),
				EFS_EINVAL);
		CU_ASSERT_EQUAL(commp_piece_init(&p, root, 128, 127), 0);
		CU_ASSERT_EQUAL(p.padding, 0);
		root[31] = 0x40;
		CU_ASSERT_EQUAL(commp_piece_init(&p, root, 128, 1), EFS_EINVAL);
	}
}

static int alloc_run(void *payload)
{
	unsigned threads = *(unsigned *)payload;
	struct commp_piece got, want;
	struct commp *c;
	int error;

	if ((error = commp_new(&c, threads)) < 0)
		return error;
	feed(c, rand1, 3 * COMMP_CHUNK_BYTES + 5, 0, 1 << 21, 7);
	commp_finish(&got, c);
	commp_free(c);
	CU_ASSERT_EQUAL(commp_compute(&want, rand1, 3 * COMMP_CHUNK_BYTES + 5),
			0);
	CU_ASSERT(piece_equal(&got, &want));
	return 0;
}

static void test_commp__alloc(void)
{
	unsigned threads[] = { 1, 2 };

	for (int i = 0; i < 2; i++)
		CU_ASSERT(harness_alloc_loop(alloc_run, &threads[i]) >= 2);
}

static CU_TestInfo commp_tests[] = {
	{ "formats", test_commp__formats },
	{ "vectors", test_commp__vectors },
	{ "splits", test_commp__splits },
	{ "threads", test_commp__threads },
	{ "threads_large", test_commp__threads_large },
	{ "finish_twice", test_commp__finish_twice },
	{ "sizes", test_commp__sizes },
	{ "too_big", test_commp__too_big },
	{ "cid_roundtrip", test_commp__cid_roundtrip },
	{ "cid_corrupt", test_commp__cid_corrupt },
	{ "alloc", test_commp__alloc },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "commp",
	       .pInitFunc = suite_init,
	       .pCleanupFunc = suite_cleanup,
	       .pTests = commp_tests })
