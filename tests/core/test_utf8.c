/*
 * test_utf8.c - strict UTF-8: a table of the boundary cases of RFC 3629
 * §4 (the first and last code point of each length, the overlong,
 * surrogate and past-U+10FFFF forms just outside them, and the bytes
 * that never occur), cases from Markus Kuhn's UTF-8 decoder stress test,
 * an exhaustive comparison with a reference decoder written from the
 * bit layout instead of the byte-range table, and the encoder checked
 * against that decoder for every code point.
 */
#include "core/utf8.h"

#include <stdio.h>

#include "tests/harness.h"

static const struct {
	const char *what;
	const char *s;
	size_t len;
	size_t width; /* utf8_width of the whole of s */
	bool valid;   /* utf8_valid of the whole of s */
} cases[] = {
	{ "empty", "", 0, 0, true },
	{ "NUL", "\x00", 1, 1, true },
	{ "U+0041", "A", 1, 1, true },
	{ "U+007F, last of 1 byte", "\x7f", 1, 1, true },
	{ "lone continuation 80", "\x80", 1, 0, false },
	{ "lone continuation BF", "\xbf", 1, 0, false },
	{ "overlong U+0000 (C0 80)", "\xc0\x80", 2, 0, false },
	{ "overlong U+007F (C1 BF)", "\xc1\xbf", 2, 0, false },
	{ "U+0080, first of 2 bytes", "\xc2\x80", 2, 2, true },
	{ "U+07FF, last of 2 bytes", "\xdf\xbf", 2, 2, true },
	{ "2 bytes cut short", "\xc2", 1, 0, false },
	{ "2 bytes, bad continuation", "\xc2\x41", 2, 0, false },
	{ "2 bytes, continuation C0", "\xc2\xc0", 2, 0, false },
	{ "overlong U+07FF (E0 9F BF)", "\xe0\x9f\xbf", 3, 0, false },
	{ "U+0800, first of 3 bytes", "\xe0\xa0\x80", 3, 3, true },
	{ "U+D7FF, last before the surrogates", "\xed\x9f\xbf", 3, 3, true },
	{ "U+D800, first surrogate", "\xed\xa0\x80", 3, 0, false },
	{ "U+DBFF / U+DC00 pair as CESU-8", "\xed\xaf\xbf\xed\xb0\x80", 6, 0,
	  false },
	{ "U+DFFF, last surrogate", "\xed\xbf\xbf", 3, 0, false },
	{ "U+E000, first after the surrogates", "\xee\x80\x80", 3, 3, true },
	{ "U+FFFD", "\xef\xbf\xbd", 3, 3, true },
	{ "U+FFFF, last of 3 bytes", "\xef\xbf\xbf", 3, 3, true },
	{ "3 bytes cut after 1", "\xe2", 1, 0, false },
	{ "3 bytes cut after 2", "\xe2\x82", 2, 0, false },
	{ "3 bytes, bad second", "\xe2\x28\xa1", 3, 0, false },
	{ "3 bytes, bad third", "\xe2\x82\x28", 3, 0, false },
	{ "overlong U+FFFF (F0 8F BF BF)", "\xf0\x8f\xbf\xbf", 4, 0, false },
	{ "U+10000, first of 4 bytes", "\xf0\x90\x80\x80", 4, 4, true },
	{ "U+1D11E", "\xf0\x9d\x84\x9e", 4, 4, true },
	{ "U+10FFFF, last code point", "\xf4\x8f\xbf\xbf", 4, 4, true },
	{ "U+110000, past the last", "\xf4\x90\x80\x80", 4, 0, false },
	{ "F5 lead (past U+13FFFF)", "\xf5\x80\x80\x80", 4, 0, false },
	{ "F8 lead (old 5-byte form)", "\xf8\x88\x80\x80\x80", 5, 0, false },
	{ "FC lead (old 6-byte form)", "\xfc\x84\x80\x80\x80\x80", 6, 0,
	  false },
	{ "FE", "\xfe", 1, 0, false },
	{ "FF", "\xff", 1, 0, false },
	{ "4 bytes cut after 3", "\xf0\x9f\x98", 3, 0, false },
	{ "4 bytes, bad fourth", "\xf0\x90\x80\x7f", 4, 0, false },
	{ "4 bytes, bad third", "\xf0\x90\xc0\x80", 4, 0, false },
	{ "mixed text", "h\xc3\xa9llo \xe2\x82\xac \xf0\x9d\x84\x9e", 15, 1,
	  true },
	{ "valid then a stray byte", "ok\x80", 3, 1, false },
	{ "valid then cut short", "ok\xe2\x82", 4, 1, false },
	{ "NUL inside", "a\x00z", 3, 1, true },
};

static void test_utf8__table(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const uint8_t *p = (const uint8_t *)cases[i].s;
		size_t w = utf8_width(p, cases[i].len);
		bool v = utf8_valid(p, cases[i].len);

		if (w != cases[i].width || v != cases[i].valid)
			fprintf(stderr, "utf8 case '%s': width %zu valid %d\n",
				cases[i].what, w, v);
		CU_ASSERT_EQUAL(w, cases[i].width);
		CU_ASSERT_EQUAL(v, cases[i].valid);
	}
}

/* utf8_width looks no further than len, however the bytes go on. */
static void test_utf8__len_bounds(void)
{
	const uint8_t euro[] = { 0xe2, 0x82, 0xac };

	CU_ASSERT_EQUAL(utf8_width(euro, 3), 3);
	CU_ASSERT_EQUAL(utf8_width(euro, 2), 0);
	CU_ASSERT_EQUAL(utf8_width(euro, 1), 0);
	CU_ASSERT_EQUAL(utf8_width(euro, 0), 0);
	CU_ASSERT(utf8_valid(euro, 0));
	CU_ASSERT(!utf8_valid(euro, 2));
}

/*
 * A reference decoder written another way: length from the bit pattern
 * of the lead byte, value assembled from the payload bits, then RFC
 * 3629's rules applied to the value (shortest form, no surrogates, at
 * most U+10FFFF).  Returns the length (0: invalid) and the value in cp.
 */
static size_t ref_decode(uint32_t *cp, const uint8_t *p, size_t len)
{
	static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	uint32_t v;
	size_t n;

	if (len == 0)
		return 0;
	if (p[0] < 0x80)
		n = 1, v = p[0];
	else if ((p[0] & 0xe0) == 0xc0)
		n = 2, v = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		n = 3, v = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		n = 4, v = p[0] & 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3f);
	}
	if (v < min[n] || (v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff)
		return 0;
	*cp = v;
	return n;
}

static size_t ref_width(const uint8_t *p, size_t len)
{
	uint32_t cp;

	return ref_decode(&cp, p, len);
}

/* Every sequence of up to 3 bytes, and the 4-byte leads with every
 * second byte and edge values after it. */
static void test_utf8__exhaustive(void)
{
	static const uint8_t edge[] = { 0x00, 0x7f, 0x80, 0xbf, 0xc0, 0xff };
	unsigned bad = 0;
	uint8_t p[4];

	for (uint32_t x = 0; x < 1u << 24; x++) {
		p[0] = (uint8_t)(x >> 16);
		p[1] = (uint8_t)(x >> 8);
		p[2] = (uint8_t)x;
		for (size_t len = 1; len <= 3; len++)
			bad += utf8_width(p, len) != ref_width(p, len);
	}
	for (uint32_t x = 0; x < 16 * 256 * 36; x++) {
		p[0] = (uint8_t)(0xf0 + x / (256 * 36));
		p[1] = (uint8_t)(x / 36);
		p[2] = edge[x / 6 % 6];
		p[3] = edge[x % 6];
		bad += utf8_width(p, 4) != ref_width(p, 4);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/*
 * Every scalar value encodes to its shortest form (checked by the
 * reference decoder), which is valid; every surrogate, written as the
 * three bytes WTF-8 would use, is not.
 */
static void test_utf8__every_code_point(void)
{
	unsigned bad = 0;
	uint8_t p[UTF8_MAX_LEN];
	uint32_t back;

	for (uint32_t v = 0; v <= 0x10ffff; v++) {
		size_t want = 1u + (v >= 0x80) + (v >= 0x800) + (v >= 0x10000);
		size_t n;

		if (v >= 0xd800 && v <= 0xdfff) {
			p[0] = 0xed;
			p[1] = (uint8_t)(0x80 | (v >> 6 & 0x3f));
			p[2] = (uint8_t)(0x80 | (v & 0x3f));
			bad += utf8_width(p, 3) != 0 || utf8_valid(p, 3);
			continue;
		}
		n = utf8_encode(p, v);
		bad += n != want || ref_decode(&back, p, n) != n || back != v;
		bad += utf8_width(p, n) != n || !utf8_valid(p, n);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

static CU_TestInfo utf8_tests[] = {
	{ "table", test_utf8__table },
	{ "len_bounds", test_utf8__len_bounds },
	{ "exhaustive", test_utf8__exhaustive },
	{ "every_code_point", test_utf8__every_code_point },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "utf8", .pTests = utf8_tests })
