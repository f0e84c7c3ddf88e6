/*
 * test_carv2.c - CARv2: wrapping must give go-car's WrapV1File output
 * byte for byte (sample-v1.car -> sample-wrapped-v2.car, go-car's own
 * test data, tests/data/car/README.md); lookups through the 0x0401 and
 * 0x0400 indexes; the padded sample-rw-bs-v2.car; corrupt headers,
 * offsets and indexes; allocation failures.
 */
#include "core/carv2.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/memstore.h"
#include "core/varint.h"
#include "tests/harness.h"

/* sample-rw-bs-v2.car: data at 1464, 273 bytes, index at 1737. */
#define RW_DATA_OFFSET 1464
#define RW_DATA_SIZE 273
#define RW_INDEX_OFFSET 1737

static void test_carv2__wrap_golden(void)
{
	struct buf v1 = BUF_INIT(BUF_NOCAP);
	struct buf v2 = BUF_INIT(BUF_NOCAP);
	struct buf out = BUF_INIT(BUF_NOCAP);

	CU_ASSERT_FATAL(harness_read_data(&v1, "car/sample-v1.car") == 0);
	CU_ASSERT_FATAL(harness_read_data(&v2, "car/sample-wrapped-v2.car")
			== 0);
	CU_ASSERT_EQUAL(carv2_wrap_mem(&out, v1.ptr, v1.len), 0);
	CU_ASSERT_EQUAL(out.len, v2.len);
	CU_ASSERT(out.len == v2.len && !memcmp(out.ptr, v2.ptr, v2.len));
	/* a CARv2 is not wrapped again */
	buf_reset(&out);
	CU_ASSERT_EQUAL(carv2_wrap_mem(&out, v2.ptr, v2.len), EFS_EINVAL);
	CU_ASSERT_EQUAL(out.len, 0);
	buf_release(&out);
	buf_release(&v2);
	buf_release(&v1);
}

static void test_carv2__wrap_fd(void)
{
	char *in_path = harness_data_path("car/sample-v1.car");
	char *dir = harness_tmpdir();
	char out_path[4096];
	struct buf v2 = BUF_INIT(BUF_NOCAP);
	struct buf got = BUF_INIT(BUF_NOCAP);
	int in = open(in_path, O_RDONLY);
	int out;

	snprintf(out_path, sizeof(out_path), "%s/wrapped.car", dir);
	out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CU_ASSERT_FATAL(in >= 0 && out >= 0);
	CU_ASSERT_EQUAL(carv2_wrap_fd(out, in), 0);
	close(out);
	close(in);
	CU_ASSERT_FATAL(harness_read_data(&v2, "car/sample-wrapped-v2.car")
			== 0);
	CU_ASSERT_FATAL(harness_read_file(&got, out_path) == 0);
	CU_ASSERT(got.len == v2.len && !memcmp(got.ptr, v2.ptr, v2.len));
	/* not a regular file */
	in = open(".", O_RDONLY | O_DIRECTORY);
	CU_ASSERT_EQUAL(carv2_wrap_fd(1, in), EFS_EINVAL);
	close(in);
	buf_release(&got);
	buf_release(&v2);
	harness_tmpdir_free(dir);
	free(in_path);
}

/* Every non-identity block of the v1 is found through the v2's index. */
static void check_lookups(struct carv2 *c, const uint8_t *v1, size_t len,
			  size_t want)
{
	struct car_reader *r;
	struct car_block b;
	struct buf out = BUF_INIT(BUF_NOCAP);
	size_t n = 0;

	CU_ASSERT_FATAL(car_reader_open_mem(&r, v1, len) == 0);
	while (car_reader_next(r, &b) == 0) {
		struct car_block_info info;

		buf_reset(&out);
		if (cid_is_identity(&b.info.id)) {
			CU_ASSERT_EQUAL(carv2_get(c, &info, &b.info.id, &out),
					EFS_ENOTFOUND);
			continue;
		}
		n++;
		CU_ASSERT_EQUAL(carv2_get(c, &info, &b.info.id, &out), 0);
		CU_ASSERT(out.len == b.info.block_len &&
			  !memcmp(out.ptr, b.data, out.len));
		CU_ASSERT_EQUAL(info.section_offset, b.info.section_offset);
		CU_ASSERT_EQUAL(info.block_offset, b.info.block_offset);
		CU_ASSERT_EQUAL(info.section_len, b.info.section_len);
	}
	CU_ASSERT_EQUAL(n, want);
	CU_ASSERT_EQUAL(carv2_index_count(carv2_index(c)), want);
	CU_ASSERT_EQUAL(carv2_verify_index(c), 0);
	car_reader_free(r);
	buf_release(&out);
}

static void test_carv2__lookup(void)
{
	struct buf v1 = BUF_INIT(BUF_NOCAP);
	struct buf v2 = BUF_INIT(BUF_NOCAP);
	struct buf out = BUF_INIT(BUF_NOCAP);
	char *path = harness_data_path("car/sample-wrapped-v2.car");
	const struct carv2_header *h;
	struct carv2 *c;
	struct cid other;
	int fd;

	CU_ASSERT_FATAL(harness_read_data(&v1, "car/sample-v1.car") == 0);
	CU_ASSERT_FATAL(harness_read_data(&v2, "car/sample-wrapped-v2.car")
			== 0);
	CU_ASSERT_FATAL(carv2_open_mem(&c, v2.ptr, v2.len) == 0);
	h = carv2_header(c);
	CU_ASSERT_EQUAL(h->data_offset, 51);
	CU_ASSERT_EQUAL(h->data_size, 479907);
	CU_ASSERT_EQUAL(h->index_offset, 479958);
	CU_ASSERT(!carv2_fully_indexed(h));
	CU_ASSERT_EQUAL(carv2_index_codec(carv2_index(c)),
			CARV2_INDEX_MH_SORTED);
	check_lookups(c, v1.ptr, v1.len, 1043);
	/* a block that is not there, with a digest of the indexed width */
	CU_ASSERT_EQUAL(cid_hash(&other, 1, CID_CODEC_RAW, MHASH_BLAKE2B_256,
				 "x", 1), 0);
	CU_ASSERT_EQUAL(carv2_get(c, NULL, &other, &out), EFS_ENOTFOUND);
	carv2_close(c);

	fd = open(path, O_RDONLY);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(carv2_open_fd(&c, fd) == 0);
	check_lookups(c, v1.ptr, v1.len, 1043);
	carv2_close(c);
	close(fd);
	/* a CARv1 is not a CARv2 */
	CU_ASSERT_EQUAL(carv2_open_mem(&c, v1.ptr, v1.len), EFS_EINVAL);
	CU_ASSERT_EQUAL(carv2_open_mem(&c, v1.ptr, 20), EFS_EINVAL);
	free(path);
	buf_release(&out);
	buf_release(&v2);
	buf_release(&v1);
}

/* go-car's read-write blockstore output: data padded to offset 1464. */
static void test_carv2__padded(void)
{
	struct buf v2 = BUF_INIT(BUF_NOCAP);
	struct carv2 *c;
	const struct carv2_header *h;

	CU_ASSERT_FATAL(harness_read_data(&v2, "car/sample-rw-bs-v2.car") == 0);
	CU_ASSERT_FATAL(carv2_open_mem(&c, v2.ptr, v2.len) == 0);
	h = carv2_header(c);
	CU_ASSERT_EQUAL(h->data_offset, RW_DATA_OFFSET);
	CU_ASSERT_EQUAL(h->data_size, RW_DATA_SIZE);
	CU_ASSERT_EQUAL(h->index_offset, RW_INDEX_OFFSET);
	check_lookups(c, v2.ptr + RW_DATA_OFFSET, RW_DATA_SIZE, 3);
	carv2_close(c);
	buf_release(&v2);
}

static int count_entry(uint64_t code, const uint8_t *digest, size_t dlen,
		       uint64_t offset, void *payload)
{
	(void)code;
	(void)digest;
	(void)dlen;
	(void)offset;
	++*(size_t *)payload;
	return 0;
}

/*
 * The 0x0400 IndexSorted of the same entries: the 0x0401 index without
 * its hash-code level (go-car's older index, still read by it).
 */
static void test_carv2__index_sorted(void)
{
	struct buf v2 = BUF_INIT(BUF_NOCAP);
	struct buf v1 = BUF_INIT(BUF_NOCAP);
	struct buf idx = BUF_INIT(BUF_NOCAP);
	struct carv2_index *ix;
	struct car_reader *r;
	struct car_block b;
	const uint8_t *p;
	size_t n = 0;
	uint8_t v[VARINT_MAX_LEN];

	CU_ASSERT_FATAL(harness_read_data(&v2, "car/sample-wrapped-v2.car")
			== 0);
	CU_ASSERT_FATAL(harness_read_data(&v1, "car/sample-v1.car") == 0);
	/* 81 08 | ncodes | code | nwidths ... -> 80 08 | nwidths ... */
	p = v2.ptr + 479958;
	CU_ASSERT_FATAL(p[0] == 0x81 && p[1] == 0x08 && p[2] == 1);
	CU_ASSERT_EQUAL(buf_add(&idx, v, varint_encode(v, 0x0400)), 0);
	CU_ASSERT_EQUAL(buf_add(&idx, p + 14, v2.len - 479958 - 14), 0);
	CU_ASSERT_FATAL(carv2_index_parse(&ix, idx.ptr, idx.len, 479907) == 0);
	CU_ASSERT_EQUAL(carv2_index_codec(ix), CARV2_INDEX_SORTED);
	CU_ASSERT_EQUAL(carv2_index_count(ix), 1043);
	CU_ASSERT_EQUAL(carv2_index_foreach(ix, count_entry, &n), 0);
	CU_ASSERT_EQUAL(n, 1043);
	CU_ASSERT_FATAL(car_reader_open_mem(&r, v1.ptr, v1.len) == 0);
	while (car_reader_next(r, &b) == 0) {
		uint64_t off;

		if (cid_is_identity(&b.info.id))
			continue;
		CU_ASSERT_EQUAL(carv2_index_find(&off, ix, &b.info.id), 0);
		CU_ASSERT_EQUAL(off, b.info.section_offset);
	}
	car_reader_free(r);
	carv2_index_free(ix);
	buf_release(&idx);
	buf_release(&v1);
	buf_release(&v2);
}

struct order {
	uint64_t code;
	size_t dlen;
	bool sorted;
};

static int check_order(uint64_t code, const uint8_t *digest, size_t dlen,
		       uint64_t offset, void *payload)
{
	struct order *o = payload;

	(void)digest;
	(void)offset;
	if (code < o->code || (code == o->code && dlen < o->dlen))
		o->sorted = false;
	o->code = code;
	o->dlen = dlen;
	return 0;
}

/* An index over several hash codes and digest lengths round-trips. */
static void test_carv2__builder(void)
{
	static const uint64_t hashes[] = { MHASH_BLAKE2B_256, MHASH_SHA2_256,
					   MHASH_IDENTITY };
	struct carv2_index_builder *b;
	struct carv2_index *ix;
	struct buf out = BUF_INIT(BUF_NOCAP);
	struct order o = { 0, 0, true };
	struct cid ids[30];
	uint64_t off;

	CU_ASSERT_FATAL(carv2_index_builder_new(&b) == 0);
	for (size_t i = 0; i < 30; i++) {
		uint8_t data[8];

		harness_fill_random(data, 1 + i % 7, i);
		CU_ASSERT_FATAL(cid_hash(&ids[i], 1, CID_CODEC_RAW,
					 hashes[i % 3], data, 1 + i % 7) == 0);
		CU_ASSERT_EQUAL(carv2_index_builder_add(b, &ids[i], 1000 - i),
				0);
	}
	CU_ASSERT_EQUAL(carv2_index_builder_write(b, &out), 0);
	CU_ASSERT_FATAL(carv2_index_parse(&ix, out.ptr, out.len, 1001) ==
			0);
	CU_ASSERT_EQUAL(carv2_index_count(ix), 30);
	for (size_t i = 0; i < 30; i++) {
		CU_ASSERT_EQUAL(carv2_index_find(&off, ix, &ids[i]), 0);
		CU_ASSERT_EQUAL(off, 1000 - i);
	}
	/* codes ascending, then widths ascending within a code */
	CU_ASSERT_EQUAL(carv2_index_foreach(ix, check_order, &o), 0);
	CU_ASSERT(o.sorted);
	CU_ASSERT_EQUAL(o.code, MHASH_BLAKE2B_256);
	carv2_index_free(ix);
	/* an offset at the data size is past the data */
	CU_ASSERT_EQUAL(carv2_index_parse(&ix, out.ptr, out.len, 1000),
			EFS_ECORRUPT);
	carv2_index_builder_free(b);
	buf_release(&out);
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/*
 * A copy of sample-rw-bs-v2.car with the 64-bit header field at byte at
 * (27: data offset, 35: data size, 43: index offset) set to v: what the
 * sequential reader (read through) and carv2_open_mem say.
 */
static const struct {
	size_t at;
	uint64_t v;
	int read;
	int open;
	const char *why;
} bad_headers[] = {
	{ 27, 50, EFS_ECORRUPT, EFS_ECORRUPT, "data inside the header" },
	{ 27, 1888, EFS_ECORRUPT, EFS_ECORRUPT, "data past the end" },
	{ 27, 1465, EFS_ECORRUPT, EFS_ECORRUPT, "data offset off by one" },
	{ 35, UINT64_MAX - 100, EFS_ECORRUPT, EFS_ECORRUPT,
	  "data size overflows" },
	{ 35, 5000, EFS_ECORRUPT, EFS_ECORRUPT, "data size past the end" },
	{ 35, 0, EFS_ECORRUPT, EFS_ECORRUPT, "no data" },
	{ 35, 200, EFS_ECORRUPT, EFS_ECORRUPT, "data size cuts a section" },
	{ 43, 1700, EFS_ECORRUPT, EFS_ECORRUPT, "index inside the data" },
	{ 43, 1888, EFS_ITEROVER, EFS_ECORRUPT, "index past the end" },
	/* the index then starts at a byte 08: codec 8 */
	{ 43, 1738, EFS_ITEROVER, EFS_EUNSUPPORTED, "index off by one" },
	{ 43, 0, EFS_ITEROVER, 0, "no index" },
};

static void test_carv2__bad_headers(void)
{
	struct buf v2 = BUF_INIT(BUF_NOCAP);

	CU_ASSERT_FATAL(harness_read_data(&v2, "car/sample-rw-bs-v2.car") == 0);
	for (size_t i = 0; i < sizeof(bad_headers) / sizeof(bad_headers[0]);
	     i++) {
		uint8_t *copy = malloc(v2.len);
		struct car_reader *r;
		struct car_block b;
		struct carv2 *c;
		int rc, ro;

		memcpy(copy, v2.ptr, v2.len);
		put64(copy + bad_headers[i].at, bad_headers[i].v);
		rc = car_reader_open_mem(&r, copy, v2.len);
		if (rc == 0) {
			while ((rc = car_reader_next(r, &b)) == 0)
				;
			car_reader_free(r);
		}
		ro = carv2_open_mem(&c, copy, v2.len);
		if (ro == 0)
			carv2_close(c);
		if (rc != bad_headers[i].read || ro != bad_headers[i].open)
			fprintf(stderr, "%s: read %s, open %s (%s)\n",
				bad_headers[i].why, efs_error_name(rc),
				efs_error_name(ro), efs_error_msg());
		CU_ASSERT_EQUAL(rc, bad_headers[i].read);
		CU_ASSERT_EQUAL(ro, bad_headers[i].open);
		free(copy);
	}
	buf_release(&v2);
}

/* The pragma and the inner header. */
static void test_carv2__bad_pragma(void)
{
	struct buf v2 = BUF_INIT(BUF_NOCAP);
	struct car_reader *r;
	struct carv2 *c;

	CU_ASSERT_FATAL(harness_read_data(&v2, "car/sample-rw-bs-v2.car") == 0);
	v2.ptr[10] = 3; /* version 3 */
	CU_ASSERT_EQUAL(car_reader_open_mem(&r, v2.ptr, v2.len),
			EFS_EUNSUPPORTED);
	CU_ASSERT_EQUAL(carv2_open_mem(&c, v2.ptr, v2.len), EFS_EINVAL);
	v2.ptr[10] = 2;
	/* the inner CARv1 is itself a CARv2 pragma */
	memcpy(v2.ptr + RW_DATA_OFFSET, carv2_pragma, CARV2_PRAGMA_LEN);
	CU_ASSERT_EQUAL(car_reader_open_mem(&r, v2.ptr, v2.len), EFS_ECORRUPT);
	/* a CARv2 cut inside its 40-byte header */
	CU_ASSERT_EQUAL(car_reader_open_mem(&r, v2.ptr, 30), EFS_ECORRUPT);
	CU_ASSERT_EQUAL(carv2_open_mem(&c, v2.ptr, 30), EFS_EINVAL);
	buf_release(&v2);
}

/* Indexes that must not parse: edits of sample-rw-bs-v2's (150 bytes). */
static const struct {
	size_t at;      /* byte of the index to change */
	uint8_t v;
	int want;
	const char *why;
} bad_index[] = {
	{ 0, 0x82, EFS_EUNSUPPORTED, "codec 0x0402" },
	{ 0, 0x80, EFS_ECORRUPT, "0x0400 reading 0x0401 bytes" },
	{ 2, 2, EFS_ECORRUPT, "two codes, one present" },
	{ 5, 0x80, EFS_ECORRUPT, "negative code count" },
	{ 14, 2, EFS_ECORRUPT, "two widths, one present" },
	{ 18, 7, EFS_ECORRUPT, "width 7" },
	{ 18, 41, EFS_ECORRUPT, "bytes not a multiple of the width" },
	{ 18, 0xff, EFS_ECORRUPT, "width over the largest digest" },
	{ 22, 0x79, EFS_ECORRUPT, "bucket of 121 bytes" },
	{ 22, 0x50, EFS_ECORRUPT, "bucket shorter than its entries" },
	{ 30, 0xff, EFS_ECORRUPT, "first digest sorts after the second" },
	{ 63, 0x02, EFS_ECORRUPT, "offset past the data" },
};

static void test_carv2__bad_index(void)
{
	struct buf v2 = BUF_INIT(BUF_NOCAP);
	const uint8_t *idx;
	size_t len = 150;
	struct carv2_index *ix;

	CU_ASSERT_FATAL(harness_read_data(&v2, "car/sample-rw-bs-v2.car") == 0);
	CU_ASSERT_FATAL(v2.len == RW_INDEX_OFFSET + len);
	idx = v2.ptr + RW_INDEX_OFFSET;
	CU_ASSERT_FATAL(carv2_index_parse(&ix, idx, len, RW_DATA_SIZE) == 0);
	carv2_index_free(ix);
	for (size_t i = 0; i < sizeof(bad_index) / sizeof(bad_index[0]); i++) {
		uint8_t copy[150];
		int rc;

		memcpy(copy, idx, len);
		copy[bad_index[i].at] = bad_index[i].v;
		rc = carv2_index_parse(&ix, copy, len, RW_DATA_SIZE);
		if (rc != bad_index[i].want)
			fprintf(stderr, "%s: %s (%s)\n", bad_index[i].why,
				efs_error_name(rc), efs_error_msg());
		CU_ASSERT_EQUAL(rc, bad_index[i].want);
		if (rc == 0)
			carv2_index_free(ix);
	}
	/* every truncation, and a trailing byte */
	for (size_t k = 0; k < len; k++) {
		uint8_t *cut = malloc(k ? k : 1);

		memcpy(cut, idx, k);
		CU_ASSERT(carv2_index_parse(&ix, cut, k, RW_DATA_SIZE) < 0);
		free(cut);
	}
	{
		uint8_t longer[151];

		memcpy(longer, idx, len);
		longer[len] = 0;
		CU_ASSERT_EQUAL(carv2_index_parse(&ix, longer, len + 1,
						  RW_DATA_SIZE), EFS_ECORRUPT);
	}
	buf_release(&v2);
}

/* An index whose entries point at the wrong sections. */
static void test_carv2__index_lies(void)
{
	struct buf v2 = BUF_INIT(BUF_NOCAP);
	struct buf out = BUF_INIT(BUF_NOCAP);
	uint8_t *e0, *e1, tmp[8];
	struct car_reader *r;
	struct car_block b;
	struct carv2 *c;

	CU_ASSERT_FATAL(harness_read_data(&v2, "car/sample-rw-bs-v2.car") == 0);
	/* entries of 40 bytes from index byte 30; offsets at +32 */
	e0 = v2.ptr + RW_INDEX_OFFSET + 30 + 32;
	e1 = e0 + 40;
	memcpy(tmp, e0, 8);
	memcpy(e0, e1, 8);
	memcpy(e1, tmp, 8);
	CU_ASSERT_FATAL(carv2_open_mem(&c, v2.ptr, v2.len) == 0);
	CU_ASSERT_EQUAL(carv2_verify_index(c), EFS_ECORRUPT);
	CU_ASSERT_FATAL(car_reader_open_mem(&r, v2.ptr, v2.len) == 0);
	CU_ASSERT_FATAL(car_reader_next(r, &b) == 0);
	/* the first section in the data is one of the two swapped */
	{
		int rc = carv2_get(c, NULL, &b.info.id, &out);

		CU_ASSERT(rc == 0 || rc == EFS_ECORRUPT);
	}
	car_reader_free(r);
	/* an entry pointing between sections */
	e0[0] += 1;
	carv2_close(c);
	CU_ASSERT_FATAL(carv2_open_mem(&c, v2.ptr, v2.len) == 0);
	CU_ASSERT(carv2_verify_index(c) < 0);
	carv2_close(c);
	buf_release(&out);
	buf_release(&v2);
}

/* carv2_open_mem on every truncation: an error, never a crash. */
static void test_carv2__truncated(void)
{
	struct buf v2 = BUF_INIT(BUF_NOCAP);

	CU_ASSERT_FATAL(harness_read_data(&v2, "car/sample-rw-bs-v2.car") == 0);
	for (size_t k = 0; k < v2.len; k++) {
		uint8_t *cut = malloc(k ? k : 1);
		struct carv2 *c;

		memcpy(cut, v2.ptr, k);
		CU_ASSERT(carv2_open_mem(&c, cut, k) < 0);
		free(cut);
	}
	buf_release(&v2);
}

struct alloc_ctx {
	struct buf v1;
};

static int wrap_and_get(void *payload)
{
	struct alloc_ctx *a = payload;
	struct buf v2 = BUF_INIT(BUF_NOCAP);
	struct buf out = BUF_INIT(BUF_NOCAP);
	struct carv2 *c = NULL;
	struct car_reader *r = NULL;
	struct car_block b;
	int rc = carv2_wrap_mem(&v2, a->v1.ptr, a->v1.len);

	if (rc == 0)
		rc = carv2_open_mem(&c, v2.ptr, v2.len);
	if (rc == 0)
		rc = car_reader_open_mem(&r, a->v1.ptr, a->v1.len);
	while (rc == 0 && (rc = car_reader_next(r, &b)) == 0) {
		buf_reset(&out);
		rc = carv2_get(c, NULL, &b.info.id, &out);
	}
	if (rc == EFS_ITEROVER)
		rc = 0;
	car_reader_free(r);
	carv2_close(c);
	buf_release(&out);
	buf_release(&v2);
	return rc;
}

static void test_carv2__alloc(void)
{
	struct alloc_ctx a = { BUF_INIT(BUF_NOCAP) };

	CU_ASSERT_FATAL(harness_read_data(&a.v1, "car/tree-v1.car") == 0);
	CU_ASSERT(harness_alloc_loop(wrap_and_get, &a) > 5);
	buf_release(&a.v1);
}

static CU_TestInfo carv2_tests[] = {
	{ "wrap_golden", test_carv2__wrap_golden },
	{ "wrap_fd", test_carv2__wrap_fd },
	{ "lookup", test_carv2__lookup },
	{ "padded", test_carv2__padded },
	{ "index_sorted", test_carv2__index_sorted },
	{ "builder", test_carv2__builder },
	{ "bad_headers", test_carv2__bad_headers },
	{ "bad_pragma", test_carv2__bad_pragma },
	{ "bad_index", test_carv2__bad_index },
	{ "index_lies", test_carv2__index_lies },
	{ "truncated", test_carv2__truncated },
	{ "alloc", test_carv2__alloc },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "carv2", .pTests = carv2_tests })
