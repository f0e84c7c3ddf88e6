/*
 * test_bigint.c - 256-bit signed integers.  Arithmetic against
 * tests/data/bigint/arith.txt (Python's exact integers, quo/rem truncating
 * as Go's big.Int Quo/Rem); byte forms as go-state-types big.Int.Bytes and
 * FromBytes define them (big/int.go); FIL text as Lotus chain/types/fil.go
 * ParseFIL and FIL.String (the inputs of its TestFilShort table among
 * them).  Then boundaries at 2^256-1 and 2^63, strict parsing and
 * algebraic identities over random values.
 */
#include "core/bigint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "tests/harness.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

#define MAX256 "1157920892373161954235709850086879078532699846656405640394" \
	       "57584007913129639935"
#define OVER256 "115792089237316195423570985008687907853269984665640564039" \
		"457584007913129639936"

static struct bigint num(const char *s)
{
	struct bigint a;

	CU_ASSERT_EQUAL_FATAL(bigint_parse(&a, s, strlen(s)), 0);
	return a;
}

static void assert_is(const struct bigint *a, const char *want)
{
	char str[BIGINT_STR_MAX];

	CU_ASSERT_EQUAL(bigint_format(str, a), strlen(want));
	CU_ASSERT_STRING_EQUAL(str, want);
}

static void test_bigint__decimal(void)
{
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {
		{ "0", "0" }, { "-0", "0" }, { "+0", "0" }, { "000", "0" },
		{ "1", "1" }, { "-1", "-1" }, { "+42", "42" }, { "007", "7" },
		{ "-007", "-7" },
		{ "18446744073709551615", "18446744073709551615" },
		{ "18446744073709551616", "18446744073709551616" },
		{ "-9223372036854775808", "-9223372036854775808" },
		{ "10000000000000000000", "10000000000000000000" },
		{ "99999999999999999999999999999999999999",
		  "99999999999999999999999999999999999999" },
		{ MAX256, MAX256 },
		{ "-" MAX256, "-" MAX256 },
		{ "0000000000000000000000000000000000000000000000000000000000"
		  "000000000000000000000000000000000000000001", "1" },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct bigint a = num(cases[i].in);

		assert_is(&a, cases[i].out);
	}
}

static void test_bigint__decimal_bad(void)
{
	static const struct {
		const char *in;
		int rc;
	} cases[] = {
		{ "", EFS_EINVAL }, { "-", EFS_EINVAL }, { "+", EFS_EINVAL },
		{ " 1", EFS_EINVAL }, { "1 ", EFS_EINVAL }, { "1a", EFS_EINVAL },
		{ "0x10", EFS_EINVAL }, { "1e3", EFS_EINVAL },
		{ "--1", EFS_EINVAL }, { "+-1", EFS_EINVAL },
		{ "1.0", EFS_EINVAL }, { "1_000", EFS_EINVAL },
		{ "\"1\"", EFS_EINVAL },
		{ OVER256, EFS_ERANGE }, { "-" OVER256, EFS_ERANGE },
		{ MAX256 "0", EFS_ERANGE },
		/* not a number at all wins over too big */
		{ OVER256 "x", EFS_EINVAL },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct bigint a = num("12345");
		struct bigint keep = a;

		CU_ASSERT_EQUAL(bigint_parse(&a, cases[i].in,
					     strlen(cases[i].in)), cases[i].rc);
		CU_ASSERT(!memcmp(&a, &keep, sizeof(a)));
	}
	{
		struct bigint a;

		CU_ASSERT_EQUAL(bigint_parse(&a, "1\0002", 3), EFS_EINVAL);
	}
}

static void test_bigint__int64(void)
{
	struct bigint a;
	int64_t i;
	uint64_t u;

	bigint_from_i64(&a, INT64_MIN);
	assert_is(&a, "-9223372036854775808");
	CU_ASSERT_EQUAL(bigint_to_i64(&i, &a), 0);
	CU_ASSERT_EQUAL(i, INT64_MIN);
	CU_ASSERT_EQUAL(bigint_to_u64(&u, &a), EFS_ERANGE);
	bigint_from_i64(&a, INT64_MAX);
	CU_ASSERT_EQUAL(bigint_to_i64(&i, &a), 0);
	CU_ASSERT_EQUAL(i, INT64_MAX);
	bigint_from_i64(&a, -1);
	assert_is(&a, "-1");
	CU_ASSERT_EQUAL(bigint_to_i64(&i, &a), 0);
	CU_ASSERT_EQUAL(i, -1);
	CU_ASSERT_EQUAL(bigint_to_u64(&u, &a), EFS_ERANGE);
	bigint_from_i64(&a, 0);
	CU_ASSERT(bigint_is_zero(&a));
	CU_ASSERT(!a.neg);
	bigint_from_u64(&a, UINT64_MAX);
	assert_is(&a, "18446744073709551615");
	CU_ASSERT_EQUAL(bigint_to_u64(&u, &a), 0);
	CU_ASSERT_EQUAL(u, UINT64_MAX);
	CU_ASSERT_EQUAL(bigint_to_i64(&i, &a), EFS_ERANGE);
	a = num("9223372036854775808");
	CU_ASSERT_EQUAL(bigint_to_i64(&i, &a), EFS_ERANGE);
	a = num("-9223372036854775809");
	CU_ASSERT_EQUAL(bigint_to_i64(&i, &a), EFS_ERANGE);
	a = num("18446744073709551616");
	CU_ASSERT_EQUAL(bigint_to_u64(&u, &a), EFS_ERANGE);
	a = num("-" MAX256);
	CU_ASSERT_EQUAL(bigint_to_i64(&i, &a), EFS_ERANGE);
}

static void test_bigint__cmp(void)
{
	static const char *const sorted[] = {
		"-" MAX256, "-18446744073709551616", "-18446744073709551615",
		"-2", "-1", "0", "1", "2", "18446744073709551615",
		"18446744073709551616", "340282366920938463463374607431768211456",
		MAX256,
	};

	for (size_t i = 0; i < N_ELEMS(sorted); i++)
		for (size_t j = 0; j < N_ELEMS(sorted); j++) {
			struct bigint a = num(sorted[i]), b = num(sorted[j]);
			int want = i < j ? -1 : i > j ? 1 : 0;

			CU_ASSERT_EQUAL(bigint_cmp(&a, &b), want);
		}
}

/* Next space-separated word of *p (modified in place), or NULL. */
static char *word(char **p)
{
	char *w = *p;

	while (*w == ' ')
		w++;
	if (!*w)
		return NULL;
	*p = w + strcspn(w, " ");
	if (**p)
		*(*p)++ = '\0';
	return w;
}

static void check_op(int (*op)(struct bigint *, const struct bigint *,
			       const struct bigint *),
		     const struct bigint *a, const struct bigint *b,
		     const char *want)
{
	struct bigint r = num("77"), keep = r;

	if (!strcmp(want, "ERANGE")) {
		CU_ASSERT_EQUAL(op(&r, a, b), EFS_ERANGE);
		CU_ASSERT(!memcmp(&r, &keep, sizeof(r)));
		return;
	}
	CU_ASSERT_EQUAL_FATAL(op(&r, a, b), 0);
	assert_is(&r, want);
	/* out may alias an input */
	r = *a;
	CU_ASSERT_EQUAL(op(&r, &r, b), 0);
	assert_is(&r, want);
}

static void test_bigint__arith(void)
{
	struct buf file = BUF_INIT(BUF_NOCAP);
	char *p, *line;
	int lines = 0;

	CU_ASSERT_EQUAL_FATAL(harness_read_data(&file, "bigint/arith.txt"),
			      0);
	for (p = (char *)file.ptr; (line = strsep(&p, "\n"));) {
		char *w[7];
		struct bigint a, b, q, r;
		int n = 0;

		if (*line == '#' || !*line)
			continue;
		while (n < 7 && (w[n] = word(&line)))
			n++;
		CU_ASSERT_EQUAL_FATAL(n, 7);
		a = num(w[0]);
		b = num(w[1]);
		check_op(bigint_add, &a, &b, w[2]);
		check_op(bigint_sub, &a, &b, w[3]);
		check_op(bigint_mul, &a, &b, w[4]);
		CU_ASSERT_EQUAL_FATAL(bigint_divmod(&q, &r, &a, &b), 0);
		assert_is(&q, w[5]);
		assert_is(&r, w[6]);
		CU_ASSERT_EQUAL(bigint_divmod(&q, NULL, &a, &b), 0);
		assert_is(&q, w[5]);
		CU_ASSERT_EQUAL(bigint_divmod(NULL, &r, &a, &b), 0);
		assert_is(&r, w[6]);
		lines++;
	}
	CU_ASSERT(lines > 30);
	buf_release(&file);
}

static void test_bigint__div_zero(void)
{
	struct bigint a = num("5"), z = num("0"), q = a;

	CU_ASSERT_EQUAL(bigint_divmod(&q, NULL, &a, &z), EFS_EINVAL);
	assert_is(&q, "5");
}

/* go-state-types big.Int.Bytes: empty for 0, else sign byte + magnitude. */
static void test_bigint__bytes(void)
{
	static const struct {
		const char *dec;
		const char *hex;
	} cases[] = {
		{ "0", "" },
		{ "1", "0001" },
		{ "-1", "0101" },
		{ "255", "00ff" },
		{ "256", "000100" },
		{ "-256", "010100" },
		{ "1000000000000000000", "000de0b6b3a7640000" },
		{ "18446744073709551616", "00010000000000000000" },
		{ "-18446744073709551615", "01ffffffffffffffff" },
		{ MAX256, "00ffffffffffffffffffffffffffffffffffffffffffffffff"
			  "ffffffffffffffff" },
		{ "-" MAX256, "01ffffffffffffffffffffffffffffffffffffffffff"
			      "ffffffffffffffffffffff" },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct bigint a = num(cases[i].dec), b;
		uint8_t want[BIGINT_BYTES_MAX], got[BIGINT_BYTES_MAX];
		long wn = harness_unhex(want, sizeof(want), cases[i].hex);
		size_t n = bigint_to_bytes(got, &a);

		CU_ASSERT_EQUAL(n, (size_t)wn);
		CU_ASSERT(!memcmp(got, want, n));
		CU_ASSERT_EQUAL_FATAL(bigint_from_bytes(&b, got, n), 0);
		CU_ASSERT_EQUAL(bigint_cmp(&a, &b), 0);
	}
}

/* FromBytes is lenient where Go's SetBytes is, strict where it is. */
static void test_bigint__bytes_decode(void)
{
	static const struct {
		const char *hex;
		int rc;
		const char *dec;
	} cases[] = {
		{ "00", 0, "0" },
		{ "01", 0, "0" },          /* -0 is 0 */
		{ "0000", 0, "0" },
		{ "000005", 0, "5" },
		{ "01000005", 0, "-5" },
		{ "0000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
		  "ffffffff", 0, MAX256 },
		{ "02", EFS_ECORRUPT, NULL },
		{ "ff01", EFS_ECORRUPT, NULL },
		/* 2^256: 33 magnitude bytes */
		{ "000100000000000000000000000000000000000000000000000000000000"
		  "00000000", EFS_ECORRUPT, NULL },
	};
	uint8_t big[129] = { 0 };
	struct bigint a;

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		uint8_t b[64];
		long n = harness_unhex(b, sizeof(b), cases[i].hex);

		CU_ASSERT_FATAL(n >= 0);
		CU_ASSERT_EQUAL(bigint_from_bytes(&a, b, (size_t)n),
				cases[i].rc);
		if (cases[i].dec)
			assert_is(&a, cases[i].dec);
	}
	/* over BigIntMaxSerializedLen (128), even if all zeros */
	CU_ASSERT_EQUAL(bigint_from_bytes(&a, big, 128), 0);
	CU_ASSERT_EQUAL(bigint_from_bytes(&a, big, 129), EFS_ECORRUPT);
}

static void test_bigint__parse_fil(void)
{
	static const struct {
		const char *in;
		const char *atto;
	} cases[] = {
		/* TestFilShort inputs, which ParseFIL must accept */
		{ "1", "1000000000000000000" },
		{ "1.1", "1100000000000000000" },
		{ "123456.234123445", "123456234123445000000000" },
		{ "0.1", "100000000000000000" },
		{ "0.0000012", "1200000000000" },
		{ "0.000000000000000001", "1" },
		{ "-0.00022123444", "-221234440000000" },
		{ "-123456.2341234", "-123456234123400000000000" },
		/* units as ParseFIL takes them */
		{ "100fil", "100000000000000000000" },
		{ "100000FIL", "100000000000000000000000" },
		{ "1000000000 FIL", "1000000000000000000000000000" },
		{ "0.5 FIL", "500000000000000000" },
		{ "1 Fil ", "1000000000000000000" },
		{ "1\tfil", "1000000000000000000" },
		{ "2 ", "2000000000000000000" },
		{ "5 attoFIL", "5" },
		{ "5 aFIL", "5" },
		{ "5ATTOFIL", "5" },
		{ "5.000 afil", "5" },
		/* big.Rat syntax */
		{ ".5", "500000000000000000" },
		{ "5.", "5000000000000000000" },
		{ "-.5", "-500000000000000000" },
		{ "-0", "0" },
		{ "007", "7000000000000000000" },
		{ "1.0000000000000000000000", "1000000000000000000" },
		{ "0", "0" },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct bigint a;

		CU_ASSERT_EQUAL_FATAL(bigint_parse_fil(&a, cases[i].in,
						       strlen(cases[i].in)), 0);
		assert_is(&a, cases[i].atto);
	}
}

static void test_bigint__parse_fil_bad(void)
{
	static const char *const bad[] = {
		"", "FIL", "fil", "-", ".", "-.", " 1", "+1", "1e18",
		"0x10", "1.2.3", "1-2", "--1", "1/2",
		"1 milliFIL", "1 mFIL", "1 nanoFIL", "1 FIL FIL", "1 FILx",
		"1 \xce\xbc" "FIL",
		/* finer than an attoFIL */
		"1.0000000000000000001", "0.0000000000000000005",
		"1.5 attoFIL", "0.1 afil",
		/* numeric part over 50 characters */
		"123456789012345678901234567890123456789012345678901",
		"1.00000000000000000000000000000000000000000000000000",
	};

	for (size_t i = 0; i < N_ELEMS(bad); i++) {
		struct bigint a = num("9"), keep = a;

		CU_ASSERT_EQUAL(bigint_parse_fil(&a, bad[i], strlen(bad[i])),
				EFS_EINVAL);
		CU_ASSERT(!memcmp(&a, &keep, sizeof(a)));
	}
	{
		struct bigint a;
		const char *fifty =
			"12345678901234567890123456789012345678901234567890";

		CU_ASSERT_EQUAL(bigint_parse_fil(&a, fifty, 50), 0);
		CU_ASSERT_EQUAL(bigint_parse_fil(&a, "1\0", 2), EFS_EINVAL);
	}
}

static void test_bigint__format_fil(void)
{
	static const struct {
		const char *atto;
		const char *fil;
	} cases[] = {
		{ "0", "0 FIL" },
		{ "1", "0.000000000000000001 FIL" },
		{ "-1", "-0.000000000000000001 FIL" },
		{ "500000000000000000", "0.5 FIL" },
		{ "-1500000000000000000", "-1.5 FIL" },
		{ "1000000000000000000", "1 FIL" },
		{ "100000000000000000000", "100 FIL" },
		{ "123456789000000000", "0.123456789 FIL" },
		{ "1000000000000000001", "1.000000000000000001 FIL" },
		{ MAX256, "115792089237316195423570985008687907853269984665640"
			  "564039457.584007913129639935 FIL" },
		{ "-" MAX256, "-11579208923731619542357098500868790785326998466"
			      "5640564039457.584007913129639935 FIL" },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct bigint a = num(cases[i].atto), b;
		char str[BIGINT_STR_MAX + 8];
		size_t n = bigint_format_fil(str, &a);

		CU_ASSERT_EQUAL(n, strlen(cases[i].fil));
		CU_ASSERT_STRING_EQUAL(str, cases[i].fil);
		/* ParseFIL reads FIL.String back, except past 50 digits */
		if (n - 4 > 50)
			continue;
		CU_ASSERT_EQUAL_FATAL(bigint_parse_fil(&b, str, n), 0);
		CU_ASSERT_EQUAL(bigint_cmp(&a, &b), 0);
	}
}

static void random_bigint(struct bigint *out, uint64_t *x)
{
	uint64_t r = harness_rand64(x);
	int words = (int)(r % (BIGINT_WORDS + 1));

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < words; i++)
		out->w[i] = harness_rand64(x) >> (r >> 60);
	out->neg = (r & 8) && !bigint_is_zero(out);
}

/* a == quo * b + rem, |rem| < |b|; (a + b) - b == a; round trips. */
static void test_bigint__identities(void)
{
	uint64_t x = 0xb16;

	for (int i = 0; i < 5000; i++) {
		struct bigint a, b, q, r, t, back;
		char str[BIGINT_STR_MAX];
		uint8_t bytes[BIGINT_BYTES_MAX];
		size_t n;

		random_bigint(&a, &x);
		random_bigint(&b, &x);
		n = bigint_format(str, &a);
		CU_ASSERT_EQUAL_FATAL(bigint_parse(&back, str, n), 0);
		CU_ASSERT_EQUAL(bigint_cmp(&a, &back), 0);
		n = bigint_to_bytes(bytes, &a);
		CU_ASSERT_EQUAL_FATAL(bigint_from_bytes(&back, bytes, n), 0);
		CU_ASSERT(!memcmp(&a, &back, sizeof(a)));
		if (bigint_add(&t, &a, &b) == 0) {
			CU_ASSERT_EQUAL(bigint_sub(&t, &t, &b), 0);
			CU_ASSERT_EQUAL(bigint_cmp(&t, &a), 0);
		}
		if (bigint_is_zero(&b))
			continue;
		CU_ASSERT_EQUAL_FATAL(bigint_divmod(&q, &r, &a, &b), 0);
		CU_ASSERT(bigint_is_zero(&r) || r.neg == a.neg);
		CU_ASSERT_EQUAL_FATAL(bigint_mul(&t, &q, &b), 0);
		CU_ASSERT_EQUAL_FATAL(bigint_add(&t, &t, &r), 0);
		CU_ASSERT_EQUAL(bigint_cmp(&t, &a), 0);
		r.neg = false;
		t = b;
		t.neg = false;
		CU_ASSERT(bigint_cmp(&r, &t) < 0);
	}
}

static CU_TestInfo bigint_tests[] = {
	{ "decimal", test_bigint__decimal },
	{ "decimal_bad", test_bigint__decimal_bad },
	{ "int64", test_bigint__int64 },
	{ "cmp", test_bigint__cmp },
	{ "arith", test_bigint__arith },
	{ "div_zero", test_bigint__div_zero },
	{ "bytes", test_bigint__bytes },
	{ "bytes_decode", test_bigint__bytes_decode },
	{ "parse_fil", test_bigint__parse_fil },
	{ "parse_fil_bad", test_bigint__parse_fil_bad },
	{ "format_fil", test_bigint__format_fil },
	{ "identities", test_bigint__identities },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "bigint", .pTests = bigint_tests })
