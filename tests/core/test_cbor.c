/*
 * test_cbor.c - DAG-CBOR: golden encodings from @ipld/dag-cbor
 * (tests/data/cbor/golden.txt, made by gen-golden.mjs there), a
 * strictness table of inputs the decoder must refuse, every truncation of
 * every golden vector, round trips of edge values, the links walk and an
 * allocation-failure loop.
 */
#include "core/cbor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "tests/harness.h"

/*
 * A value is written as a list of ops in document order; the same list
 * drives the encoder and checks what the cursor reads back.
 */
enum op_kind {
	OP_END,
	OP_UINT,  /* u */
	OP_NEG,   /* -1 - u */
	OP_FLOAT, /* f */
	OP_BYTES, /* s, n bytes */
	OP_FILL,  /* n bytes of value u */
	OP_TEXT,  /* s (keys too) */
	OP_ARRAY, /* u items */
	OP_MAP,   /* u entries */
	OP_BOOL,  /* u */
	OP_NULL,
	OP_CID,   /* s: the CID string */
};

struct op {
	enum op_kind k;
	uint64_t u;
	const char *s;
	size_t n;
	double f;
};

#define U(v) { OP_UINT, (v), NULL, 0, 0 }
#define NEG(v) { OP_NEG, (v), NULL, 0, 0 }
#define FL(v) { OP_FLOAT, 0, NULL, 0, (v) }
#define BY(s, n) { OP_BYTES, 0, (s), (n), 0 }
#define FILL(b, n) { OP_FILL, (b), NULL, (n), 0 }
#define TX(s) { OP_TEXT, 0, (s), 0, 0 }
#define AR(n) { OP_ARRAY, (n), NULL, 0, 0 }
#define MP(n) { OP_MAP, (n), NULL, 0, 0 }
#define BO(v) { OP_BOOL, (v), NULL, 0, 0 }
#define NUL { OP_NULL, 0, NULL, 0, 0 }
#define CI(s) { OP_CID, 0, (s), 0, 0 }

#define CID_A "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"
#define CID_V0 "QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n"
#define CID_RAW "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"

static const struct gcase {
	const char *name;
	struct op ops[40];
} cases[] = {
	{ "uint_0", { U(0) } },
	{ "uint_23", { U(23) } },
	{ "uint_24", { U(24) } },
	{ "uint_255", { U(255) } },
	{ "uint_256", { U(256) } },
	{ "uint_65535", { U(65535) } },
	{ "uint_65536", { U(65536) } },
	{ "uint_u32max", { U(0xffffffffu) } },
	{ "uint_u32max1", { U(0x100000000ull) } },
	{ "uint_u64max", { U(UINT64_MAX) } },
	{ "neg_1", { NEG(0) } },
	{ "neg_24", { NEG(23) } },
	{ "neg_25", { NEG(24) } },
	{ "neg_256", { NEG(255) } },
	{ "neg_257", { NEG(256) } },
	{ "neg_2p32", { NEG(0xffffffffu) } },
	{ "neg_i64min", { NEG(0x7fffffffffffffffull) } },
	{ "neg_2p64", { NEG(UINT64_MAX) } },
	{ "float_1_5", { FL(1.5) } },
	{ "float_m0_1", { FL(-0.1) } },
	{ "float_1e300", { FL(1e300) } },
	{ "float_tiny", { FL(5e-324) } },
	{ "bytes_empty", { BY("", 0) } },
	{ "bytes_3", { BY("\1\2\3", 3) } },
	{ "bytes_24", { FILL(0xaa, 24) } },
	{ "bytes_300", { FILL(0x55, 300) } },
	{ "text_empty", { TX("") } },
	{ "text_a", { TX("a") } },
	{ "text_ietf", { TX("IETF") } },
	{ "text_utf8", { TX("\xc3\xbc\xe6\xb0\xb4\xf0\x90\x85\x91") } },
	{ "text_24", { TX("abcdefghijklmnopqrstuvwx") } },
	{ "true", { BO(1) } },
	{ "false", { BO(0) } },
	{ "null", { NUL } },
	{ "array_empty", { AR(0) } },
	{ "array_123", { AR(3), U(1), U(2), U(3) } },
	{ "array_nested",
	  { AR(2), AR(1), U(1), AR(2), U(2), AR(2), U(3), AR(0) } },
	{ "array_25",
	  { AR(25), U(0), U(1), U(2), U(3), U(4), U(5), U(6), U(7), U(8),
	    U(9), U(10), U(11), U(12), U(13), U(14), U(15), U(16), U(17),
	    U(18), U(19), U(20), U(21), U(22), U(23), U(24) } },
	{ "map_empty", { MP(0) } },
	{ "map_ab", { MP(2), TX("a"), U(1), TX("b"), U(2) } },
	{ "map_order",
	  { MP(4), TX("a"), U(2), TX("c"), U(3), TX("bb"), U(1), TX("aaa"),
	    U(4) } },
	{ "cid_v1", { CI(CID_A) } },
	{ "cid_v0", { CI(CID_V0) } },
	{ "car_header",
	  { MP(2), TX("roots"), AR(1), CI(CID_A), TX("version"), U(1) } },
	{ "links_doc",
	  { MP(3), TX("a"), CI(CID_A), TX("m"), MP(1), TX("k"), AR(2), U(1),
	    CI(CID_RAW), TX("z"), AR(2), CI(CID_RAW), MP(1), TX("x"),
	    CI(CID_V0) } },
	{ "deal",
	  { MP(12), TX("Tags"), AR(2), TX("a"), TX("b"), TX("Label"),
	    TX("hello"), TX("Ratio"), FL(-0.5), TX("Client"),
	    TX("f1abjxfbp274xpdqcpuaykwkfb43omjotacm2p3za"), TX("EndEpoch"),
	    U(1540000), TX("PieceCID"), CI(CID_A), TX("Provider"),
	    TX("f01000"), TX("PieceSize"), U(34359738368ull),
	    TX("StartEpoch"), U(1000), TX("VerifiedDeal"), BO(0),
	    TX("ProviderCollateral"), BY("", 0), TX("StoragePricePerEpoch"),
	    BY("\0\x0b\xb8", 3) } },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

static int encode_ops(struct buf *b, const struct op *ops)
{
	int rc = 0;

	for (; rc == 0 && ops->k != OP_END; ops++) {
		struct cid id;
		uint8_t fill[512];

		switch (ops->k) {
		case OP_UINT:
			rc = cbor_put_uint(b, ops->u);
			break;
		case OP_NEG:
			rc = cbor_put_negint(b, ops->u);
			break;
		case OP_FLOAT:
			rc = cbor_put_float(b, ops->f);
			break;
		case OP_BYTES:
			rc = cbor_put_bytes(b, ops->s, ops->n);
			break;
		case OP_FILL:
			memset(fill, (int)ops->u, ops->n);
			rc = cbor_put_bytes(b, fill, ops->n);
			break;
		case OP_TEXT:
			rc = cbor_put_str(b, ops->s);
			break;
		case OP_ARRAY:
			rc = cbor_put_array(b, ops->u);
			break;
		case OP_MAP:
			rc = cbor_put_map(b, ops->u);
			break;
		case OP_BOOL:
			rc = cbor_put_bool(b, ops->u != 0);
			break;
		case OP_NULL:
			rc = cbor_put_null(b);
			break;
		case OP_CID:
			rc = cid_parse(&id, ops->s);
			if (rc == 0)
				rc = cbor_put_cid(b, &id);
			break;
		case OP_END:
			break;
		}
	}
	return rc;
}

/* Read the item at d with the cursor and compare it with ops. */
static void decode_ops(struct cbor_dec *d, const struct op *ops,
		       const char *name)
{
	for (; ops->k != OP_END; ops++) {
		uint64_t u = 0;
		double f = 0;
		const uint8_t *p = NULL;
		const char *s = NULL;
		size_t n = 0;
		bool bv;
		struct cid id, want;
		int rc = -1;

		switch (ops->k) {
		case OP_UINT:
			CU_ASSERT_EQUAL(cbor_peek(d), CBOR_UINT);
			rc = cbor_get_uint(d, &u);
			CU_ASSERT_EQUAL(u, ops->u);
			break;
		case OP_NEG:
			CU_ASSERT_EQUAL(cbor_peek(d), CBOR_NEGINT);
			rc = cbor_get_negint(d, &u);
			CU_ASSERT_EQUAL(u, ops->u);
			break;
		case OP_FLOAT:
			rc = cbor_get_float(d, &f);
			CU_ASSERT(!memcmp(&f, &ops->f, sizeof(f)));
			break;
		case OP_BYTES:
			rc = cbor_get_bytes(d, &p, &n);
			CU_ASSERT_EQUAL(n, ops->n);
			CU_ASSERT(n == ops->n && (!n || !memcmp(p, ops->s, n)));
			break;
		case OP_FILL:
			rc = cbor_get_bytes(d, &p, &n);
			CU_ASSERT_EQUAL(n, ops->n);
			CU_ASSERT(n > 0 && p[0] == ops->u && p[n - 1] == ops->u);
			break;
		case OP_TEXT:
			rc = cbor_get_text(d, &s, &n);
			CU_ASSERT(n == strlen(ops->s) && !memcmp(s, ops->s, n));
			break;
		case OP_ARRAY:
			rc = cbor_get_array(d, &n);
			CU_ASSERT_EQUAL(n, ops->u);
			break;
		case OP_MAP:
			rc = cbor_get_map(d, &n);
			CU_ASSERT_EQUAL(n, ops->u);
			break;
		case OP_BOOL:
			rc = cbor_get_bool(d, &bv);
			CU_ASSERT_EQUAL(bv, ops->u != 0);
			break;
		case OP_NULL:
			rc = cbor_get_null(d);
			break;
		case OP_CID:
			rc = cbor_get_cid(d, &id);
			CU_ASSERT_EQUAL(cid_parse(&want, ops->s), 0);
			CU_ASSERT(rc == 0 && cid_equal(&id, &want));
			break;
		case OP_END:
			break;
		}
		if (rc != 0)
			fprintf(stderr, "%s: %s\n", name, efs_error_msg());
		CU_ASSERT_EQUAL(rc, 0);
	}
	CU_ASSERT(cbor_dec_done(d));
	CU_ASSERT_EQUAL(cbor_peek(d), CBOR_END);
}

static void test_cbor__golden(void)
{
	struct buf file = BUF_INIT(BUF_NOCAP);
	struct buf out = BUF_INIT(BUF_NOCAP);
	static uint8_t want[2048];

	CU_ASSERT_FATAL(harness_read_data(&file, "cbor/golden.txt") == 0);
	for (size_t i = 0; i < NCASES; i++) {
		long n = harness_vector_hex(want, sizeof(want), &file,
					    cases[i].name);
		struct cbor_dec d;

		CU_ASSERT(n > 0);
		if (n <= 0) {
			fprintf(stderr, "no golden vector %s\n", cases[i].name);
			continue;
		}
		buf_reset(&out);
		CU_ASSERT_EQUAL(encode_ops(&out, cases[i].ops), 0);
		CU_ASSERT_EQUAL(out.len, (size_t)n);
		if (out.len != (size_t)n || memcmp(out.ptr, want, n))
			fprintf(stderr, "encoding of %s differs\n",
				cases[i].name);
		CU_ASSERT(out.len == (size_t)n && !memcmp(out.ptr, want, n));
		CU_ASSERT_EQUAL(cbor_check(want, n), 0);
		CU_ASSERT_EQUAL_FATAL(cbor_dec_init(&d, want, n), 0);
		decode_ops(&d, cases[i].ops, cases[i].name);
		/* skipping the whole item lands on its end */
		CU_ASSERT_EQUAL(cbor_dec_init(&d, want, n), 0);
		CU_ASSERT_EQUAL(cbor_skip(&d), 0);
		CU_ASSERT(cbor_dec_done(&d));
		CU_ASSERT_EQUAL(cbor_skip(&d), EFS_ECORRUPT);
	}
	buf_release(&out);
	buf_release(&file);
}

/* Every proper prefix of every golden item is refused, never read past. */
static void test_cbor__truncated(void)
{
	struct buf file = BUF_INIT(BUF_NOCAP);
	static uint8_t want[2048];

	CU_ASSERT_FATAL(harness_read_data(&file, "cbor/golden.txt") == 0);
	for (size_t i = 0; i < NCASES; i++) {
		long n = harness_vector_hex(want, sizeof(want), &file,
					    cases[i].name);

		for (long k = 0; k < n; k++) {
			/* a heap copy of exactly k bytes, so ASan sees overreads */
			uint8_t *cut = malloc(k ? (size_t)k : 1);
			size_t used;

			memcpy(cut, want, (size_t)k);
			CU_ASSERT_EQUAL(cbor_check(cut, (size_t)k),
					EFS_ECORRUPT);
			CU_ASSERT_EQUAL(cbor_item_size(&used, cut, (size_t)k),
					EFS_ECORRUPT);
			free(cut);
		}
	}
	buf_release(&file);
}

static const struct {
	const char *hex;
	const char *why;
} bad[] = {
	{ "", "empty" },
	{ "1817", "uint 23 in 2 bytes" },
	{ "190017", "uint in 3 bytes" },
	{ "1a0000ffff", "uint in 5 bytes" },
	{ "1b00000000ffffffff", "uint in 9 bytes" },
	{ "3817", "negint not minimal" },
	{ "3b00000000ffffffff", "negint not minimal, 9 bytes" },
	{ "580100", "byte string length not minimal" },
	{ "7800", "text length not minimal" },
	{ "9800", "array length not minimal" },
	{ "b800", "map length not minimal" },
	{ "1c", "reserved info 28" },
	{ "1d", "reserved info 29" },
	{ "1e", "reserved info 30" },
	{ "1f", "indefinite uint" },
	{ "5f4101ff", "indefinite byte string" },
	{ "7f6161ff", "indefinite text" },
	{ "9f01ff", "indefinite array" },
	{ "bf616101ff", "indefinite map" },
	{ "ff", "break" },
	{ "a2616201616102", "keys out of order" },
	{ "a262626201616102", "longer key first" },
	{ "a2616101616102", "duplicate key" },
	{ "a3616101616202616102", "duplicate key, not adjacent first" },
	{ "a10102", "integer key" },
	{ "a1410102", "byte string key" },
	{ "c060", "tag 0" },
	{ "c1fb0000000000000000", "tag 1" },
	{ "d82b4100", "tag 43" },
	{ "d9002a58250001701220c3c4733ec8affd06cf9e9ff50ffc6bcd2ec85a6170004bb7"
	  "09669c31de94391a", "tag 42 not minimal" },
	{ "d82a782500017012", "tag 42 on text" },
	{ "d82a5824017012", "tag 42 truncated" },
	{ "d82a582401701220c3c4733ec8affd06cf9e9ff50ffc6bcd2ec85a6170004bb70966"
	  "9c31de94391a", "cid without 0x00 prefix" },
	{ "d82a4100", "cid of only the prefix" },
	{ "d82a40", "cid of no bytes" },
	{ "d82a4400017012", "cid truncated digest" },
	{ "d82a5826000170122000c3c4733ec8affd06cf9e9ff50ffc6bcd2ec85a6170004bb7"
	  "09669c31de94391a", "cid with a trailing byte" },
	{ "d82a01", "tag 42 on an integer" },
	{ "d82ad82a4100", "tag 42 in tag 42" },
	{ "f93c00", "half float" },
	{ "fa3fc00000", "single float" },
	{ "fb7ff8000000000000", "nan" },
	{ "fb7ff0000000000000", "infinity" },
	{ "fbfff0000000000000", "minus infinity" },
	{ "f7", "undefined" },
	{ "f0", "simple 16" },
	{ "f818", "simple 24 in 2 bytes" },
	{ "0000", "trailing byte" },
	{ "5bffffffffffffffff", "huge byte string" },
	{ "9bffffffffffffffff", "huge array" },
	{ "bbffffffffffffffff", "huge map" },
	{ "9a0000000100", "array longer than the input" },
	{ "82", "array missing items" },
	{ "a1", "map missing key" },
	{ "a16161", "map missing value" },
};

static void test_cbor__strict(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t in[128];
		long n = harness_unhex(in, sizeof(in), bad[i].hex);
		struct cbor_dec d;

		CU_ASSERT_FATAL(n >= 0);
		if (cbor_check(in, (size_t)n) != EFS_ECORRUPT)
			fprintf(stderr, "accepted: %s\n", bad[i].why);
		CU_ASSERT_EQUAL(cbor_check(in, (size_t)n), EFS_ECORRUPT);
		CU_ASSERT_EQUAL(cbor_dec_init(&d, in, (size_t)n),
				EFS_ECORRUPT);
	}
}

/*
 * Text is not checked for UTF-8, as go-ipld-prime and @ipld/dag-cbor do
 * not check it (go-car's sample-v1.car has such blocks); but keys must
 * still be in order bytewise.
 */
static void test_cbor__text_bytes(void)
{
	static const char *const ok[] = {
		"61ff", "62c0af", "63eda080", "64f4900000", "62e282",
		"a2616101 61ff02",
	};
	uint8_t in[32];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		long n = harness_unhex(in, sizeof(in), ok[i]);

		CU_ASSERT_FATAL(n > 0);
		CU_ASSERT_EQUAL(cbor_check(in, (size_t)n), 0);
	}
	CU_ASSERT_EQUAL(harness_unhex(in, sizeof(in), "a261ff01616102"), 7);
	CU_ASSERT_EQUAL(cbor_check(in, 7), EFS_ECORRUPT);
}

/* Depth: CBOR_DEPTH_MAX - 1 levels of arrays inside the top one pass. */
static void test_cbor__depth(void)
{
	uint8_t in[CBOR_DEPTH_MAX + 2];
	struct cbor_dec d;
	size_t n;

	memset(in, 0x81, sizeof(in));
	in[CBOR_DEPTH_MAX - 1] = 0x80; /* 63 heads of [x], then [] */
	CU_ASSERT_EQUAL(cbor_check(in, CBOR_DEPTH_MAX), 0);
	in[CBOR_DEPTH_MAX - 1] = 0x81;
	in[CBOR_DEPTH_MAX] = 0x80;     /* one level more */
	CU_ASSERT_EQUAL(cbor_check(in, CBOR_DEPTH_MAX + 1), EFS_ECORRUPT);
	/* a deep item walked by the cursor, opened level by level */
	CU_ASSERT_EQUAL(cbor_dec_init(&d, in, CBOR_DEPTH_MAX - 10), EFS_ECORRUPT);
	in[CBOR_DEPTH_MAX - 11] = 0x80;
	CU_ASSERT_EQUAL_FATAL(cbor_dec_init(&d, in, CBOR_DEPTH_MAX - 10), 0);
	for (int i = 0; i < CBOR_DEPTH_MAX - 11; i++) {
		CU_ASSERT_EQUAL(cbor_get_array(&d, &n), 0);
		CU_ASSERT_EQUAL(n, 1);
	}
	CU_ASSERT_EQUAL(cbor_get_array(&d, &n), 0);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT(cbor_dec_done(&d));
}

/* Round trips of edge integers and floats, and int64 range checks. */
static void test_cbor__roundtrip(void)
{
	static const int64_t ints[] = {
		0, 1, -1, 23, 24, -24, -25, 255, 256, -256, -257, 65535,
		65536, -65536, -65537, INT32_MAX, INT32_MIN, INT64_MAX,
		INT64_MIN, (int64_t)1 << 32, -((int64_t)1 << 32) - 1,
	};
	static const double floats[] = {
		0.0, -0.0, 1.0, 0.1, -1e-300, 1.7976931348623157e308,
		2.2250738585072014e-308,
	};
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct cbor_dec d;
	uint8_t big[] = { 0x1b, 0x80, 0, 0, 0, 0, 0, 0, 0 };
	int64_t v;

	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		buf_reset(&b);
		CU_ASSERT_EQUAL(cbor_put_int(&b, ints[i]), 0);
		CU_ASSERT_EQUAL_FATAL(cbor_dec_init(&d, b.ptr, b.len), 0);
		CU_ASSERT_EQUAL(cbor_get_int(&d, &v), 0);
		CU_ASSERT_EQUAL(v, ints[i]);
	}
	for (size_t i = 0; i < sizeof(floats) / sizeof(floats[0]); i++) {
		double f;

		buf_reset(&b);
		CU_ASSERT_EQUAL(cbor_put_float(&b, floats[i]), 0);
		CU_ASSERT_EQUAL(b.len, 9);
		CU_ASSERT_EQUAL_FATAL(cbor_dec_init(&d, b.ptr, b.len), 0);
		CU_ASSERT_EQUAL(cbor_get_float(&d, &f), 0);
		CU_ASSERT(!memcmp(&f, &floats[i], sizeof(f)));
	}
	CU_ASSERT_EQUAL(cbor_put_float(&b, NAN), EFS_EINVAL);
	CU_ASSERT_EQUAL(cbor_put_float(&b, -INFINITY), EFS_EINVAL);
	/* 2^63 and -2^63 - 1 are valid CBOR but not int64 */
	CU_ASSERT_EQUAL_FATAL(cbor_dec_init(&d, big, sizeof(big)), 0);
	CU_ASSERT_EQUAL(cbor_get_int(&d, &v), EFS_ECORRUPT);
	big[0] = 0x3b;
	CU_ASSERT_EQUAL_FATAL(cbor_dec_init(&d, big, sizeof(big)), 0);
	CU_ASSERT_EQUAL(cbor_get_int(&d, &v), EFS_ECORRUPT);
	buf_release(&b);
}

/* The cursor refuses the wrong type without moving. */
static void test_cbor__types(void)
{
	static const uint8_t doc[] = { 0xa2, 0x61, 'a', 0x01, 0x61, 'b', 0xf6 };
	struct cbor_dec d;
	const uint8_t *p;
	size_t n;
	uint64_t u;
	bool bv;
	struct cid id;

	CU_ASSERT_EQUAL_FATAL(cbor_dec_init(&d, doc, sizeof(doc)), 0);
	CU_ASSERT_EQUAL(cbor_get_array(&d, &n), EFS_ECORRUPT);
	CU_ASSERT_EQUAL(cbor_get_uint(&d, &u), EFS_ECORRUPT);
	CU_ASSERT_EQUAL(d.pos, 0);
	CU_ASSERT_EQUAL(cbor_get_map(&d, &n), 0);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(cbor_get_key(&d, "b"), EFS_ECORRUPT);
	CU_ASSERT_EQUAL(cbor_get_key(&d, "aa"), EFS_ECORRUPT);
	CU_ASSERT_EQUAL(cbor_get_key(&d, "a"), 0);
	CU_ASSERT_EQUAL(cbor_get_bytes(&d, &p, &n), EFS_ECORRUPT);
	CU_ASSERT_EQUAL(cbor_get_cid(&d, &id), EFS_ECORRUPT);
	CU_ASSERT_EQUAL(cbor_skip(&d), 0);
	CU_ASSERT_EQUAL(cbor_get_key(&d, "b"), 0);
	CU_ASSERT_EQUAL(cbor_peek(&d), CBOR_NULL);
	CU_ASSERT_EQUAL(cbor_get_bool(&d, &bv), EFS_ECORRUPT);
	CU_ASSERT_EQUAL(cbor_get_null(&d), 0);
	CU_ASSERT_EQUAL(cbor_get_null(&d), EFS_ECORRUPT);
	CU_ASSERT(cbor_dec_done(&d));
	/* a prefix cursor stops at the end of its item */
	CU_ASSERT_EQUAL(cbor_dec_init_prefix(&d, doc + 3, 4), 0);
	CU_ASSERT_EQUAL(d.len, 1);
	CU_ASSERT_EQUAL(cbor_key_compare("b", 1, "aa", 2), -1);
	CU_ASSERT_EQUAL(cbor_key_compare("ab", 2, "aa", 2) > 0, 1);
	CU_ASSERT_EQUAL(cbor_key_compare("", 0, "", 0), 0);
}

struct collect {
	struct cid ids[8];
	size_t n;
	int stop_at;
};

static int collect_cb(const struct cid *id, void *payload)
{
	struct collect *c = payload;

	if (c->n < 8)
		c->ids[c->n] = *id;
	if ((int)++c->n == c->stop_at)
		return 42;
	return 0;
}

/* cbor_links: every CID, depth first in document order. */
static void test_cbor__links(void)
{
	struct buf file = BUF_INIT(BUF_NOCAP);
	uint8_t doc[512];
	const char *order[] = { CID_A, CID_RAW, CID_RAW, CID_V0 };
	struct collect c = { .stop_at = -1 };
	struct cid want;
	long n;

	CU_ASSERT_FATAL(harness_read_data(&file, "cbor/golden.txt") == 0);
	n = harness_vector_hex(doc, sizeof(doc), &file, "links_doc");
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL(cbor_links(doc, (size_t)n, collect_cb, &c), 0);
	CU_ASSERT_EQUAL_FATAL(c.n, 4);
	for (size_t i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(cid_parse(&want, order[i]), 0);
		CU_ASSERT(cid_equal(&c.ids[i], &want));
	}
	/* the callback's value stops the walk */
	c.n = 0;
	c.stop_at = 2;
	CU_ASSERT_EQUAL(cbor_links(doc, (size_t)n, collect_cb, &c), 42);
	CU_ASSERT_EQUAL(c.n, 2);
	/* a corrupt item reports no link at all */
	c.n = 0;
	c.stop_at = -1;
	doc[0] = 0xa4; /* four entries, three present */
	CU_ASSERT_EQUAL(cbor_links(doc, (size_t)n, collect_cb, &c),
			EFS_ECORRUPT);
	CU_ASSERT_EQUAL(c.n, 0);
	buf_release(&file);
}

static int encode_deal(void *payload)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	int rc = encode_ops(&b, cases[NCASES - 1].ops);

	(void)payload;
	if (rc == 0)
		rc = cbor_check(b.ptr, b.len);
	buf_release(&b);
	return rc;
}

static void test_cbor__alloc(void)
{
	CU_ASSERT(harness_alloc_loop(encode_deal, NULL) > 1);
}

/* A capped buffer refuses to grow, and is left as it was. */
static void test_cbor__cap(void)
{
	struct buf b = BUF_INIT(10);
	struct cid id;

	CU_ASSERT_EQUAL(cid_parse(&id, CID_A), 0);
	CU_ASSERT_EQUAL(cbor_put_uint(&b, 1), 0);
	CU_ASSERT_EQUAL(cbor_put_cid(&b, &id), EFS_ETOOBIG);
	CU_ASSERT_EQUAL(cbor_put_bytes(&b, "0123456789", 10), EFS_ETOOBIG);
	CU_ASSERT_EQUAL(b.len, 1);
	CU_ASSERT_EQUAL(cbor_cid_size(&id), 41);
	buf_release(&b);
}

static CU_TestInfo cbor_tests[] = {
	{ "golden", test_cbor__golden },
	{ "truncated", test_cbor__truncated },
	{ "strict", test_cbor__strict },
	{ "text_bytes", test_cbor__text_bytes },
	{ "depth", test_cbor__depth },
	{ "roundtrip", test_cbor__roundtrip },
	{ "types", test_cbor__types },
	{ "links", test_cbor__links },
	{ "alloc", test_cbor__alloc },
	{ "cap", test_cbor__cap },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "cbor", .pTests = cbor_tests })
