/*
 * test_carstream.c - the CARv1 push parser against core/car.h's reader
 * on the CAR fixtures of tests/data/car (see its README for where each
 * came from): the same blocks whatever the pieces the bytes come in
 * (whole, byte by byte, random splits), every truncation, flipped
 * bytes, malformed framing, caps, a callback that stops, and the
 * allocation-failure loop.
 */
#include "retrieval/carstream.h"

#include <string.h>

#include "core/alloc.h"
#include "core/car.h"
#include "core/error.h"
#include "core/varint.h"
#include "tests/harness.h"

static const char *const fixtures[] = {
	"car/carv1-basic.car",
	"car/sample-v1.car",
	"car/tree-v1.car",
	"car/tree-v0.car",
};

#define NFIX (sizeof(fixtures) / sizeof(fixtures[0]))

/* What the parser gave: the blocks, back to back, and their CIDs. */
struct got {
	struct buf data;
	struct cid ids[4096];
	size_t lens[4096];
	size_t n;
	int stop_at;             /* return 9 from this block (0: never) */
};

static int on_block(void *cls, const struct cid *id, const uint8_t *data,
		    size_t len)
{
	struct got *g = cls;

	if (g->n == 4096)
		return -1;
	g->ids[g->n] = *id;
	g->lens[g->n++] = len;
	if (buf_add(&g->data, data, len) < 0)
		return EFS_ENOMEM;
	return (int)g->n == g->stop_at ? 9 : 0;
}

/* What core/car.h's reader makes of the same bytes. */
static void expect_of(struct got *out, const struct buf *car,
		      uint64_t *ends, size_t *nends)
{
	struct car_reader *rd;
	struct car_block b;
	size_t hl;
	int rc;

	memset(out, 0, sizeof(*out));
	buf_init(&out->data, BUF_NOCAP);
	CU_ASSERT_EQUAL_FATAL(car_reader_open_mem(&rd, car->ptr, car->len), 0);
	car_reader_header_bytes(rd, &hl);
	*nends = 0;
	ends[(*nends)++] = hl;
	while ((rc = car_reader_next(rd, &b)) == 0) {
		CU_ASSERT_EQUAL_FATAL(on_block(out, &b.info.id, b.data,
					       b.info.block_len), 0);
		ends[(*nends)++] = b.info.section_offset + b.info.section_len;
	}
	CU_ASSERT_EQUAL(rc, EFS_ITEROVER);
	car_reader_free(rd);
}

static void same(const struct got *a, const struct got *b)
{
	CU_ASSERT_EQUAL_FATAL(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		CU_ASSERT(cid_equal(&a->ids[i], &b->ids[i]));
		CU_ASSERT_EQUAL(a->lens[i], b->lens[i]);
	}
	CU_ASSERT_EQUAL(a->data.len, b->data.len);
	CU_ASSERT(a->data.len == b->data.len &&
		  !memcmp(a->data.ptr, b->data.ptr, a->data.len));
}

/* Feed car in pieces of step bytes (0: random sizes from seed). */
static int feed(struct got *g, const struct buf *car, size_t len,
		size_t step, uint64_t seed)
{
	struct carstream cs;
	size_t pos = 0, k;
	uint64_t x = seed | 1;
	int rc = 0;

	memset(g, 0, sizeof(*g));
	buf_init(&g->data, BUF_NOCAP);
	carstream_init(&cs, 0, on_block, g);
	while (pos < len && rc == 0) {
		k = step ? step : 1 + harness_rand64(&x) % 700;
		if (k > len - pos)
			k = len - pos;
		rc = carstream_feed(&cs, car->ptr + pos, k);
		pos += k;
	}
	if (rc == 0)
		rc = carstream_finish(&cs);
	CU_ASSERT_EQUAL(carstream_feed(&cs, car->ptr, 1), rc ? rc : 0);
	carstream_release(&cs);
	return rc;
}

static void test_carstream__golden(void)
{
	static uint64_t ends[4200];
	static struct got want, g;
	struct buf car = BUF_INIT(BUF_NOCAP);
	size_t nends;

	for (size_t f = 0; f < NFIX; f++) {
		buf_reset(&car);
		CU_ASSERT_EQUAL_FATAL(harness_read_data(&car, fixtures[f]), 0);
		expect_of(&want, &car, ends, &nends);
		CU_ASSERT(want.n > 0);
		CU_ASSERT_EQUAL(feed(&g, &car, car.len, car.len, 0), 0);
		same(&g, &want);
		buf_release(&g.data);
		CU_ASSERT_EQUAL(feed(&g, &car, car.len, 1, 0), 0);
		same(&g, &want);
		buf_release(&g.data);
		for (uint64_t seed = 1; seed < 20; seed++) {
			CU_ASSERT_EQUAL(feed(&g, &car, car.len, 0, seed), 0);
			same(&g, &want);
			buf_release(&g.data);
		}
		buf_release(&want.data);
	}
	buf_release(&car);
}

/* Every prefix: clean only at a section boundary after the header. */
static void test_carstream__truncated(void)
{
	static uint64_t ends[4200];
	static struct got want, g;
	struct buf car = BUF_INIT(BUF_NOCAP);
	size_t nends, k;

	CU_ASSERT_EQUAL_FATAL(harness_read_data(&car, "car/tree-v1.car"), 0);
	expect_of(&want, &car, ends, &nends);
	for (size_t len = 0; len < car.len; len++) {
		bool boundary = false;

		for (k = 0; k < nends; k++)
			boundary |= ends[k] == len;
		CU_ASSERT_EQUAL(feed(&g, &car, len, 7, 0),
				boundary ? 0 : EFS_ECORRUPT);
		/* the blocks whole in the prefix came, in order */
		for (k = 1; k < nends && ends[k] <= len; k++)
			;
		CU_ASSERT_EQUAL(g.n, k - 1);
		buf_release(&g.data);
	}
	buf_release(&want.data);
	buf_release(&car);
}

/* A flipped byte in each block's data: the blocks before it came. */
static void test_carstream__flipped(void)
{
	static uint64_t ends[4200];
	static struct got want, g;
	struct buf car = BUF_INIT(BUF_NOCAP);
	size_t nends;

	CU_ASSERT_EQUAL_FATAL(harness_read_data(&car, "car/tree-v1.car"), 0);
	expect_of(&want, &car, ends, &nends);
	for (size_t k = 1; k < nends; k++) {
		size_t at = (size_t)ends[k] - 1; /* the block's last byte */

		car.ptr[at] ^= 0x01;
		CU_ASSERT_EQUAL(feed(&g, &car, car.len, 0, k), EFS_EMISMATCH);
		CU_ASSERT_EQUAL(g.n, k - 1);
		buf_release(&g.data);
		car.ptr[at] ^= 0x01;
	}
	buf_release(&want.data);
	buf_release(&car);
}

static void feed_bytes(struct carstream *cs, struct got *g,
		       const uint8_t *p, size_t n, int want)
{
	memset(g, 0, sizeof(*g));
	buf_init(&g->data, BUF_NOCAP);
	carstream_init(cs, 64, on_block, g);
	CU_ASSERT_EQUAL(carstream_feed(cs, p, n), want);
	carstream_release(cs);
	buf_release(&g->data);
}

static void test_carstream__malformed(void)
{
	struct buf car = BUF_INIT(BUF_NOCAP);
	static struct got g;
	struct carstream cs;
	uint8_t b[80];
	size_t hl;
	int rc;

	/* a CARv2 is not taken */
	CU_ASSERT_EQUAL_FATAL(
		harness_read_data(&car, "car/sample-wrapped-v2.car"), 0);
	memset(&g, 0, sizeof(g));
	buf_init(&g.data, BUF_NOCAP);
	carstream_init(&cs, 0, on_block, &g);
	rc = carstream_feed(&cs, car.ptr, car.len);
	CU_ASSERT(rc == EFS_ECORRUPT || rc == EFS_EUNSUPPORTED);
	CU_ASSERT_EQUAL(g.n, 0);
	carstream_release(&cs);
	buf_release(&g.data);

	/* the header of tree-v1, then bad sections */
	buf_reset(&car);
	CU_ASSERT_EQUAL_FATAL(harness_read_data(&car, "car/tree-v1.car"), 0);
	{
		struct car_reader *rd;

		CU_ASSERT_EQUAL_FATAL(car_reader_open_mem(&rd, car.ptr,
							  car.len), 0);
		car_reader_header_bytes(rd, &hl);
		car_reader_free(rd);
	}
	CU_ASSERT_FATAL(hl + 12 < sizeof(b));
	memcpy(b, car.ptr, hl);
	b[hl] = 0x00; /* an empty section */
	feed_bytes(&cs, &g, b, hl + 1, EFS_ECORRUPT);
	b[hl] = 0x80; /* a non-minimal varint */
	b[hl + 1] = 0x00;
	feed_bytes(&cs, &g, b, hl + 2, EFS_ECORRUPT);
	memset(b + hl, 0xff, 11); /* a varint that never ends */
	feed_bytes(&cs, &g, b, hl + 11, EFS_ECORRUPT);
	b[hl] = 65; /* over the cap of 64 */
	feed_bytes(&cs, &g, b, hl + 1, EFS_ETOOBIG);
	b[hl] = 3; /* not a CID */
	memset(b + hl + 1, 0x07, 3);
	feed_bytes(&cs, &g, b, hl + 4, EFS_ECORRUPT);
	/* a header over CAR_HEADER_MAX, and an empty one */
	b[varint_encode(b, CAR_HEADER_MAX + 1)] = 0;
	feed_bytes(&cs, &g, b, varint_size(CAR_HEADER_MAX + 1), EFS_ETOOBIG);
	b[0] = 0;
	feed_bytes(&cs, &g, b, 1, EFS_ECORRUPT);
	/* a header that is not a CAR header */
	b[0] = 2;
	b[1] = 0xa0;
	b[2] = 0xa0;
	feed_bytes(&cs, &g, b, 3, EFS_ECORRUPT);
	/* nothing at all */
	carstream_init(&cs, 0, on_block, &g);
	CU_ASSERT_EQUAL(carstream_finish(&cs), EFS_ECORRUPT);
	carstream_release(&cs);
	buf_release(&car);
}

/* A callback's non-zero return stops the stream and sticks. */
static void test_carstream__stop(void)
{
	static struct got g;
	struct buf car = BUF_INIT(BUF_NOCAP);
	struct carstream cs;

	CU_ASSERT_EQUAL_FATAL(harness_read_data(&car, "car/tree-v1.car"), 0);
	memset(&g, 0, sizeof(g));
	buf_init(&g.data, BUF_NOCAP);
	g.stop_at = 3;
	carstream_init(&cs, 0, on_block, &g);
	CU_ASSERT_EQUAL(carstream_feed(&cs, car.ptr, car.len), 9);
	CU_ASSERT_EQUAL(g.n, 3);
	CU_ASSERT_EQUAL(carstream_finish(&cs), 9);
	carstream_release(&cs);
	buf_release(&g.data);
	buf_release(&car);
}

struct alloc_case {
	struct buf car;
};

static int alloc_run(void *payload)
{
	struct alloc_case *a = payload;
	struct carstream cs;
	struct got *g = efs_calloc(1, sizeof(*g));
	int rc;

	if (!g)
		return EFS_ENOMEM;
	buf_init(&g->data, BUF_NOCAP);
	carstream_init(&cs, 0, on_block, g);
	rc = carstream_feed(&cs, a->car.ptr, a->car.len);
	if (rc == 0)
		rc = carstream_finish(&cs);
	carstream_release(&cs);
	buf_release(&g->data);
	efs_free(g);
	return rc;
}

static void test_carstream__alloc(void)
{
	struct alloc_case a = { .car = BUF_INIT(BUF_NOCAP) };

	CU_ASSERT_EQUAL_FATAL(harness_read_data(&a.car, "car/tree-v1.car"),
			      0);
	CU_ASSERT(harness_alloc_loop(alloc_run, &a) > 3);
	buf_release(&a.car);
}

static CU_TestInfo carstream_tests[] = {
	{ "golden", test_carstream__golden },
	{ "truncated", test_carstream__truncated },
	{ "flipped", test_carstream__flipped },
	{ "malformed", test_carstream__malformed },
	{ "stop", test_carstream__stop },
	{ "alloc", test_carstream__alloc },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "carstream", .pTests = carstream_tests })
