/*
 * test_memstore.c - the in-memory block store: put/get/has/peek, keying
 * on the multihash (the v0 and v1 CIDs of a block, and CIDs of another
 * codec, find the same bytes), verification on get (a block corrupted
 * through peek is EFS_EMISMATCH), growth past many entries, the blockio
 * views, and the allocation-failure loop.
 */
#include "core/memstore.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "tests/harness.h"

static struct memstore *new_store(void)
{
	struct memstore *ms = NULL;

	CU_ASSERT_EQUAL_FATAL(memstore_new(&ms), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ms);
	return ms;
}

static struct cid hash_of(int version, uint64_t codec, const void *data,
			  size_t len)
{
	struct cid id;

	CU_ASSERT_EQUAL_FATAL(cid_hash(&id, version, codec, MHASH_SHA2_256,
				       data, len), 0);
	return id;
}

static void test_memstore__put_get(void)
{
	struct memstore *ms = new_store();
	struct cid a = hash_of(1, CID_CODEC_RAW, "alpha", 5);
	struct cid b = hash_of(1, CID_CODEC_RAW, "beta", 4);
	struct buf out = BUF_INIT(BUF_NOCAP);
	uint8_t *p;
	size_t len;

	CU_ASSERT_EQUAL(memstore_count(ms), 0);
	CU_ASSERT_FALSE(memstore_has(ms, &a));
	CU_ASSERT_EQUAL(memstore_put(ms, &a, (const uint8_t *)"alpha", 5), 0);
	CU_ASSERT(memstore_has(ms, &a));
	CU_ASSERT_FALSE(memstore_has(ms, &b));
	CU_ASSERT_EQUAL(memstore_count(ms), 1);
	CU_ASSERT_EQUAL(memstore_bytes(ms), 5);
	/* a second put of the same block changes nothing */
	CU_ASSERT_EQUAL(memstore_put(ms, &a, (const uint8_t *)"alpha", 5), 0);
	CU_ASSERT_EQUAL(memstore_count(ms), 1);
	CU_ASSERT_EQUAL(memstore_bytes(ms), 5);
	CU_ASSERT_EQUAL(memstore_put(ms, &b, (const uint8_t *)"beta", 4), 0);
	CU_ASSERT_EQUAL(memstore_count(ms), 2);
	CU_ASSERT_EQUAL(memstore_bytes(ms), 9);

	CU_ASSERT_EQUAL(memstore_get(ms, &a, &out), 0);
	CU_ASSERT_EQUAL(out.len, 5);
	CU_ASSERT_STRING_EQUAL((char *)out.ptr, "alpha");
	/* get appends */
	CU_ASSERT_EQUAL(memstore_get(ms, &b, &out), 0);
	CU_ASSERT_STRING_EQUAL((char *)out.ptr, "alphabeta");
	CU_ASSERT_EQUAL(memstore_peek(&p, &len, ms, &b), 0);
	CU_ASSERT_EQUAL(len, 4);
	CU_ASSERT(!memcmp(p, "beta", 4));
	buf_release(&out);
	memstore_free(ms);
	memstore_free(NULL);
}

static void test_memstore__not_found(void)
{
	struct memstore *ms = new_store();
	struct cid a = hash_of(1, CID_CODEC_RAW, "alpha", 5);
	struct buf out = BUF_INIT(BUF_NOCAP);
	uint8_t *p = NULL;
	size_t len = 77;
	char s[CID_STR_MAX];

	CU_ASSERT_EQUAL(buf_adds(&out, "keep"), 0);
	CU_ASSERT_EQUAL(memstore_get(ms, &a, &out), EFS_ENOTFOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(efs_error_msg(), cid_tostr(s, &a)));
	CU_ASSERT_STRING_EQUAL((char *)out.ptr, "keep");
	CU_ASSERT_EQUAL(memstore_peek(&p, &len, ms, &a), EFS_ENOTFOUND);
	CU_ASSERT_PTR_NULL(p);
	CU_ASSERT_EQUAL(len, 77);
	buf_release(&out);
	memstore_free(ms);
}

/* The key is the multihash: v0, v1 and other codecs share one entry. */
static void test_memstore__multihash_key(void)
{
	static const uint8_t dir[] = { 0x0a, 0x02, 0x08, 0x01 };
	struct memstore *ms = new_store();
	struct cid v0 = hash_of(0, CID_CODEC_DAG_PB, dir, sizeof(dir));
	struct cid v1 = cid_to_v1(&v0);
	struct cid raw = hash_of(1, CID_CODEC_RAW, dir, sizeof(dir));
	struct cid b2;
	struct buf out = BUF_INIT(BUF_NOCAP);

	CU_ASSERT_EQUAL_FATAL(cid_hash(&b2, 1, CID_CODEC_DAG_PB,
				       MHASH_BLAKE2B_256, dir, sizeof(dir)),
			      0);
	CU_ASSERT_EQUAL(memstore_put(ms, &v0, dir, sizeof(dir)), 0);
	CU_ASSERT(memstore_has(ms, &v1));
	CU_ASSERT(memstore_has(ms, &raw));
	CU_ASSERT_FALSE(memstore_has(ms, &b2)); /* another multihash */
	CU_ASSERT_EQUAL(memstore_put(ms, &v1, dir, sizeof(dir)), 0);
	CU_ASSERT_EQUAL(memstore_count(ms), 1);
	CU_ASSERT_EQUAL(memstore_get(ms, &v1, &out), 0);
	CU_ASSERT_EQUAL(memstore_get(ms, &raw, &out), 0);
	CU_ASSERT_EQUAL(out.len, 2 * sizeof(dir));
	CU_ASSERT(!memcmp(out.ptr, dir, sizeof(dir)));
	CU_ASSERT(!memcmp(out.ptr + sizeof(dir), dir, sizeof(dir)));
	CU_ASSERT_EQUAL(memstore_put(ms, &b2, dir, sizeof(dir)), 0);
	CU_ASSERT_EQUAL(memstore_count(ms), 2);
	buf_release(&out);
	memstore_free(ms);
}

static void test_memstore__corrupt(void)
{
	struct memstore *ms = new_store();
	struct cid a = hash_of(1, CID_CODEC_RAW, "alpha", 5);
	struct buf out = BUF_INIT(BUF_NOCAP);
	char s[CID_STR_MAX];
	uint8_t *p;
	size_t len;

	CU_ASSERT_EQUAL(memstore_put(ms, &a, (const uint8_t *)"alpha", 5), 0);
	CU_ASSERT_EQUAL_FATAL(memstore_peek(&p, &len, ms, &a), 0);
	p[0] ^= 0x20;
	CU_ASSERT_EQUAL(memstore_get(ms, &a, &out), EFS_EMISMATCH);
	CU_ASSERT_PTR_NOT_NULL(strstr(efs_error_msg(), cid_tostr(s, &a)));
	CU_ASSERT_EQUAL(out.len, 0);
	/* has and peek do not verify */
	CU_ASSERT(memstore_has(ms, &a));
	CU_ASSERT_EQUAL(memstore_peek(&p, &len, ms, &a), 0);
	p[0] ^= 0x20;
	CU_ASSERT_EQUAL(memstore_get(ms, &a, &out), 0);
	CU_ASSERT_STRING_EQUAL((char *)out.ptr, "alpha");
	buf_release(&out);

	/* a put the caller got wrong is caught on the way out */
	CU_ASSERT_EQUAL(memstore_put(ms, &a, (const uint8_t *)"alphA", 5), 0);
	CU_ASSERT_EQUAL(memstore_get(ms, &a, &out), 0); /* first one kept */
	buf_release(&out);
	memstore_free(ms);
}

static void test_memstore__odd_blocks(void)
{
	struct memstore *ms = new_store();
	struct cid empty = hash_of(1, CID_CODEC_RAW, NULL, 0);
	struct cid ident;
	struct buf out = BUF_INIT(4);

	CU_ASSERT_EQUAL_FATAL(cid_hash(&ident, 1, CID_CODEC_RAW,
				       MHASH_IDENTITY, "hi!", 3), 0);
	CU_ASSERT_EQUAL(memstore_put(ms, &empty, NULL, 0), 0);
	CU_ASSERT_EQUAL(memstore_get(ms, &empty, &out), 0);
	CU_ASSERT_EQUAL(out.len, 0);
	CU_ASSERT_EQUAL(memstore_put(ms, &ident, (const uint8_t *)"hi!", 3),
			0);
	CU_ASSERT_EQUAL(memstore_get(ms, &ident, &out), 0);
	CU_ASSERT_EQUAL(out.len, 3);
	/* the destination's cap applies */
	CU_ASSERT_EQUAL(memstore_get(ms, &ident, &out), EFS_ETOOBIG);
	CU_ASSERT_EQUAL(out.len, 3);
	CU_ASSERT_EQUAL(memstore_count(ms), 2);
	CU_ASSERT_EQUAL(memstore_bytes(ms), 3);
	buf_release(&out);
	memstore_free(ms);
}

/* Block i of the growth test: the first 1 + i % 40 of 41 random bytes
 * (all 41 into data); returns its length, its CID into id. */
static size_t growth_block(uint8_t data[41], struct cid *id, uint32_t i)
{
	size_t len = 1 + i % 40;

	harness_fill_random(data, 41, i + 1);
	*id = hash_of(1, CID_CODEC_RAW, data, len);
	return len;
}

/* Many entries force the table through several doublings. */
static void test_memstore__growth(void)
{
	enum { N = 5000 };
	struct memstore *ms = new_store();
	struct buf out = BUF_INIT(BUF_NOCAP);
	size_t total = 0;

	for (uint32_t i = 0; i < N; i++) {
		uint8_t data[41];
		struct cid id;
		size_t len = growth_block(data, &id, i);

		CU_ASSERT_EQUAL_FATAL(memstore_put(ms, &id, data, len), 0);
		total += len;
	}
	CU_ASSERT_EQUAL(memstore_count(ms), N);
	CU_ASSERT_EQUAL(memstore_bytes(ms), total);
	for (uint32_t i = 0; i < N; i++) {
		uint8_t data[41];
		struct cid id;
		size_t len = growth_block(data, &id, i);

		buf_reset(&out);
		CU_ASSERT_EQUAL_FATAL(memstore_get(ms, &id, &out), 0);
		CU_ASSERT(out.len == len && !memcmp(out.ptr, data, len));
		/* a block never stored: all stored ones are shorter */
		id = hash_of(1, CID_CODEC_RAW, data, sizeof(data));
		if (memstore_has(ms, &id))
			CU_FAIL("found a block that was never stored");
	}
	buf_release(&out);
	memstore_free(ms);
}

static void test_memstore__blockio(void)
{
	struct memstore *ms = new_store();
	struct blockio_sink sink = memstore_sink(ms);
	struct blockio_source src = memstore_source(ms);
	struct cid a = hash_of(1, CID_CODEC_RAW, "alpha", 5);
	struct buf out = BUF_INIT(BUF_NOCAP);

	CU_ASSERT_EQUAL(blockio_get(&src, &a, &out), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(blockio_put(&sink, &a, (const uint8_t *)"alpha", 5),
			0);
	CU_ASSERT_EQUAL(blockio_get(&src, &a, &out), 0);
	CU_ASSERT_STRING_EQUAL((char *)out.ptr, "alpha");
	/* the null sink takes anything */
	CU_ASSERT_EQUAL(blockio_put(&blockio_null_sink, &a, NULL, 0), 0);
	buf_release(&out);
	memstore_free(ms);
}

/* Create, fill past a doubling, read back, free: under every failure. */
static int fill_store(void *payload)
{
	struct memstore *ms = NULL;
	struct buf out = BUF_INIT(BUF_NOCAP);
	int error;

	(void)payload;
	if ((error = memstore_new(&ms)) < 0)
		return error;
	for (uint32_t i = 0; i < 40 && !error; i++) {
		uint8_t data[8];
		struct cid id;

		harness_fill_random(data, sizeof(data), i + 1);
		error = cid_hash(&id, 1, CID_CODEC_RAW, MHASH_SHA2_256, data,
				 sizeof(data));
		if (!error)
			error = memstore_put(ms, &id, data, sizeof(data));
		if (!error)
			error = memstore_get(ms, &id, &out);
	}
	if (!error && (memstore_count(ms) != 40 || out.len != 320))
		error = EFS_ERROR;
	buf_release(&out);
	memstore_free(ms);
	return error;
}

static void test_memstore__alloc_loop(void)
{
	/* 2 for the store, 2 per block, a table doubling, buffer growth */
	CU_ASSERT(harness_alloc_loop(fill_store, NULL) > 80);
}

static CU_TestInfo memstore_tests[] = {
	{ "put_get", test_memstore__put_get },
	{ "not_found", test_memstore__not_found },
	{ "multihash_key", test_memstore__multihash_key },
	{ "corrupt", test_memstore__corrupt },
	{ "odd_blocks", test_memstore__odd_blocks },
	{ "growth", test_memstore__growth },
	{ "blockio", test_memstore__blockio },
	{ "alloc_loop", test_memstore__alloc_loop },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "memstore", .pTests = memstore_tests })
