/*
 * test_varint.c - unsigned LEB128 varints: table of encodings from the
 * multiformats unsigned-varint README and ipfs-formats.md §1, decoding
 * strictness, and a round trip over edge values.
 */
#include "core/varint.h"

#include <string.h>

#include "core/error.h"
#include "tests/harness.h"

static const struct {
	uint64_t value;
	uint8_t bytes[10];
	size_t len;
} golden[] = {
	{ 0x00, { 0x00 }, 1 },
	{ 0x01, { 0x01 }, 1 },
	{ 0x70, { 0x70 }, 1 },
	{ 0x7f, { 0x7f }, 1 },
	{ 0x80, { 0x80, 0x01 }, 2 },
	{ 0xff, { 0xff, 0x01 }, 2 },
	{ 300, { 0xac, 0x02 }, 2 },
	{ 0x0401, { 0x81, 0x08 }, 2 },
	{ 0x1011, { 0x91, 0x20 }, 2 },
	{ 0x1012, { 0x92, 0x20 }, 2 },
	{ 0x4000, { 0x80, 0x80, 0x01 }, 3 },
	{ 0xb220, { 0xa0, 0xe4, 0x02 }, 3 },
	{ 0xf101, { 0x81, 0xe2, 0x03 }, 3 },
	{ 0x7fffffffffffffffull,
	  { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f }, 9 },
};

static void test_varint__golden(void)
{
	for (size_t i = 0; i < sizeof(golden) / sizeof(golden[0]); i++) {
		uint8_t out[VARINT_MAX_LEN];
		uint64_t v;
		size_t used;
		size_t n = varint_encode(out, golden[i].value);

		CU_ASSERT_EQUAL(n, golden[i].len);
		CU_ASSERT_EQUAL(varint_size(golden[i].value), golden[i].len);
		CU_ASSERT(!memcmp(out, golden[i].bytes, n));
		CU_ASSERT_EQUAL(varint_decode(&v, &used, golden[i].bytes,
					      golden[i].len), 0);
		CU_ASSERT_EQUAL(v, golden[i].value);
		CU_ASSERT_EQUAL(used, golden[i].len);
	}
}

static void test_varint__corrupt(void)
{
	static const struct {
		uint8_t bytes[11];
		size_t len;
		int mf;   /* expected from varint_decode */
		int pb;   /* expected from varint_decode_pb */
	} cases[] = {
		{ { 0 }, 0, EFS_ECORRUPT, EFS_ECORRUPT },        /* empty */
		{ { 0x80 }, 1, EFS_ECORRUPT, EFS_ECORRUPT },     /* truncated */
		{ { 0xff, 0xff }, 2, EFS_ECORRUPT, EFS_ECORRUPT },
		{ { 0x80, 0x00 }, 2, EFS_ECORRUPT, EFS_ECORRUPT }, /* non-minimal */
		{ { 0x81, 0x80, 0x00 }, 3, EFS_ECORRUPT, EFS_ECORRUPT },
		/* 2^63: 10 bytes, fine for protobuf, too long for multiformats */
		{ { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
		    0x01 }, 10, EFS_ECORRUPT, 0 },
		/* over 64 bits */
		{ { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		    0x02 }, 10, EFS_ECORRUPT, EFS_ECORRUPT },
		/* 11 bytes */
		{ { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
		    0x80, 0x01 }, 11, EFS_ECORRUPT, EFS_ECORRUPT },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v;
		size_t used;

		CU_ASSERT_EQUAL(varint_decode(&v, &used, cases[i].bytes,
					      cases[i].len), cases[i].mf);
		CU_ASSERT_EQUAL(varint_decode_pb(&v, &used, cases[i].bytes,
						 cases[i].len), cases[i].pb);
	}
}

static void test_varint__roundtrip(void)
{
	for (int shift = 0; shift < 64; shift++) {
		uint64_t vals[3] = { (1ull << shift) - 1, 1ull << shift,
				     (1ull << shift) + 1 };

		for (int k = 0; k < 3; k++) {
			uint8_t out[VARINT_MAX_LEN];
			uint64_t v;
			size_t used;
			size_t n = varint_encode(out, vals[k]);

			CU_ASSERT_EQUAL_FATAL(varint_decode_pb(&v, &used, out, n), 0);
			CU_ASSERT_EQUAL(v, vals[k]);
			CU_ASSERT_EQUAL(used, n);
		}
	}
	{
		uint8_t out[VARINT_MAX_LEN];
		uint64_t v;
		size_t used;
		size_t n = varint_encode(out, UINT64_MAX);

		CU_ASSERT_EQUAL(n, 10);
		CU_ASSERT_EQUAL(varint_decode_pb(&v, &used, out, n), 0);
		CU_ASSERT_EQUAL(v, UINT64_MAX);
	}
}

static CU_TestInfo varint_tests[] = {
	{ "golden", test_varint__golden },
	{ "corrupt", test_varint__corrupt },
	{ "roundtrip", test_varint__roundtrip },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "varint", .pTests = varint_tests })
