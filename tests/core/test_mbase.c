/*
 * test_mbase.c - multibase codecs: RFC 4648 base32/base16 vectors (RFC
 * 4648 §10, written lower case without padding as multibase does), the
 * Bitcoin base58 vectors (bitcoin/src/test/data/base58_encode_decode.json)
 * and the multibase spec's "yes mani !" vectors (multiformats/multibase
 * tests/basic.csv, leading_zero.csv, two_leading_zeros.csv); every string
 * was re-checked with multiformats 14.0.5 in the oracle.  base64 (m, M,
 * u, U): RFC 4648 §10 and the multibase "yes mani !" row, re-checked with
 * multiformats 14.0.5 (base64, base64pad, base64url, base64urlpad).  Then
 * strict decoding (trailing bits, lengths, characters, case, padding),
 * buffer caps and a random round trip.
 */
#include "core/mbase.h"

#include <string.h>

#include "core/error.h"
#include "tests/harness.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *hex;     /* input bytes */
	const char *encoded; /* multibase string */
} golden[] = {
	/* RFC 4648 §10 */
	{ "", "b" },
	{ "66", "bmy" },
	{ "666f", "bmzxq" },
	{ "666f6f", "bmzxw6" },
	{ "666f6f62", "bmzxw6yq" },
	{ "666f6f6261", "bmzxw6ytb" },
	{ "666f6f626172", "bmzxw6ytboi" },
	{ "666f6f626172", "BMZXW6YTBOI" },
	{ "", "f" },
	{ "66", "f66" },
	{ "666f6f626172", "f666f6f626172" },
	{ "666f6f626172", "F666F6F626172" },
	/* multibase spec: "yes mani !" with 0, 1 and 2 leading zero bytes */
	{ "796573206d616e692021", "bpfsxgidnmfxgsibb" },
	{ "796573206d616e692021", "BPFSXGIDNMFXGSIBB" },
	{ "796573206d616e692021", "z7paNL19xttacUY" },
	{ "796573206d616e692021", "f796573206d616e692021" },
	{ "796573206d616e692021", "F796573206D616E692021" },
	{ "00796573206d616e692021", "bab4wk4zanvqw42jaee" },
	{ "00796573206d616e692021", "z17paNL19xttacUY" },
	{ "00796573206d616e692021", "f00796573206d616e692021" },
	{ "0000796573206d616e692021", "baaahszltebwwc3tjeaqq" },
	{ "0000796573206d616e692021", "z117paNL19xttacUY" },
	/* Bitcoin base58_encode_decode.json */
	{ "", "z" },
	{ "61", "z2g" },
	{ "626262", "za3gV" },
	{ "636363", "zaPEr" },
	{ "73696d706c792061206c6f6e6720737472696e67",
	  "z2cFupjhnEsSn59qHXstmK2ffpLv2" },
	{ "00eb15231dfceb60925886b67d065299925915aeb172c06647",
	  "z1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L" },
	{ "516b6fcd0f", "zABnLTmg" },
	{ "bf4f89001e670274dd", "z3SEo3LWLoPntC" },
	{ "572e4794", "z3EFU7m" },
	{ "ecac89cad93923c02321", "zEJDM8drfXA6uyA" },
	{ "10c8511e", "zRt5zm" },
	{ "00000000000000000000", "z1111111111" },
	/* leading zeros are '1's, nothing else is */
	{ "00", "z1" },
	{ "0000", "z11" },
	{ "ff", "z5Q" },
	{ "00ff", "z15Q" },
	/* base64: RFC 4648 §10, multibase "yes mani !", URL-safe chars */
	{ "", "m" }, { "", "M" }, { "", "u" }, { "", "U" },
	{ "66", "mZg" }, { "66", "MZg==" }, { "66", "uZg" }, { "66", "UZg==" },
	{ "666f", "mZm8" }, { "666f", "MZm8=" },
	{ "666f6f", "mZm9v" }, { "666f6f", "MZm9v" },
	{ "666f6f62", "MZm9vYg==" }, { "666f6f6261", "MZm9vYmE=" },
	{ "666f6f626172", "mZm9vYmFy" }, { "666f6f626172", "MZm9vYmFy" },
	{ "796573206d616e692021", "meWVzIG1hbmkgIQ" },
	{ "796573206d616e692021", "MeWVzIG1hbmkgIQ==" },
	{ "796573206d616e692021", "ueWVzIG1hbmkgIQ" },
	{ "796573206d616e692021", "UeWVzIG1hbmkgIQ==" },
	{ "fbffbf003e", "m+/+/AD4" }, { "fbffbf003e", "M+/+/AD4=" },
	{ "fbffbf003e", "u-_-_AD4" }, { "fbffbf003e", "U-_-_AD4=" },
};

static void test_mbase__golden(void)
{
	for (size_t i = 0; i < N_ELEMS(golden); i++) {
		uint8_t in[64];
		uint8_t dec[64];
		char enc[128];
		const char *want = golden[i].encoded;
		long n = harness_unhex(in, sizeof(in), golden[i].hex);
		long m;

		CU_ASSERT_FATAL(n >= 0);
		m = mbase_encode(enc, sizeof(enc), want[0], in, (size_t)n);
		CU_ASSERT_EQUAL(m, (long)strlen(want));
		CU_ASSERT_STRING_EQUAL(enc, want);
		m = mbase_decode(dec, sizeof(dec), want, strlen(want));
		CU_ASSERT_EQUAL(m, n);
		CU_ASSERT(m == n && !memcmp(dec, in, (size_t)n));
	}
}

static void test_mbase__bare_base58(void)
{
	/* A CIDv0: base58btc without the 'z' */
	static const char v0[] = "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn";
	uint8_t want[34];
	uint8_t got[34];
	char s[64];

	CU_ASSERT_EQUAL_FATAL(harness_unhex(want, sizeof(want),
		"122059948439065f29619ef41280cbb932be52c56d99c5966b65e011"
		"1239f098bbef"), 34);
	CU_ASSERT_EQUAL(mbase_base58_decode(got, sizeof(got), v0,
					    strlen(v0)), 34);
	CU_ASSERT(!memcmp(got, want, 34));
	CU_ASSERT_EQUAL(mbase_base58_encode(s, sizeof(s), want, 34), 46);
	CU_ASSERT_STRING_EQUAL(s, v0);
}

static void test_mbase__lengths(void)
{
	CU_ASSERT_EQUAL(mbase_base32_len(0), 0);
	CU_ASSERT_EQUAL(mbase_base32_len(1), 2);
	CU_ASSERT_EQUAL(mbase_base32_len(5), 8);
	CU_ASSERT_EQUAL(mbase_base32_len(36), 58);
	for (size_t n = 1; n <= 186; n++) {
		uint8_t in[186];
		char out[300];
		long m;

		memset(in, 0xff, n);
		m = mbase_base58_encode(out, sizeof(out), in, n);
		CU_ASSERT(m > 0 && (size_t)m <= mbase_base58_maxlen(n));
	}
}

static void test_mbase__strict(void)
{
	static const struct {
		const char *s;
		size_t len; /* 0: strlen */
		int want;
	} cases[] = {
		{ "", 0, EFS_ECORRUPT },        /* no prefix at all */
		{ "bm", 0, EFS_ECORRUPT },      /* 1 char: 5 bits */
		{ "bmzx", 0, EFS_ECORRUPT },    /* 3 chars: 15 bits */
		{ "bmzxw6y", 0, EFS_ECORRUPT }, /* 6 chars: 30 bits */
		{ "bmz", 0, EFS_ECORRUPT },     /* trailing bits 0b01 */
		{ "bmzxr", 0, EFS_ECORRUPT },   /* trailing bit set */
		{ "bmzxw7", 0, EFS_ECORRUPT },
		{ "bmzxw6yr", 0, EFS_ECORRUPT },
		{ "bmy=", 0, EFS_ECORRUPT },    /* padding */
		{ "bmy======", 0, EFS_ECORRUPT },
		{ "bMY", 0, EFS_ECORRUPT },     /* case follows the prefix */
		{ "Bmy", 0, EFS_ECORRUPT },
		{ "bm1", 0, EFS_ECORRUPT },     /* not in the alphabet */
		{ "bm8", 0, EFS_ECORRUPT },
		{ "bm y", 0, EFS_ECORRUPT },
		{ "b\xc3\xa9", 0, EFS_ECORRUPT },
		{ "bm\0", 3, EFS_ECORRUPT },    /* NUL inside the length */
		{ "f0", 0, EFS_ECORRUPT },      /* odd length */
		{ "f666", 0, EFS_ECORRUPT },
		{ "fF0", 0, EFS_ECORRUPT },
		{ "Ff0", 0, EFS_ECORRUPT },
		{ "fg0", 0, EFS_ECORRUPT },
		{ "f0\0", 3, EFS_ECORRUPT },
		{ "f\0\0", 3, EFS_ECORRUPT },
		{ "z0", 0, EFS_ECORRUPT },      /* 0 O I l are not base58 */
		{ "zO", 0, EFS_ECORRUPT },
		{ "zI", 0, EFS_ECORRUPT },
		{ "zl", 0, EFS_ECORRUPT },
		{ "z2g\0", 4, EFS_ECORRUPT },
		{ "z+", 0, EFS_ECORRUPT },
		{ "Zfoo", 0, EFS_EUNSUPPORTED },  /* base58flickr */
		/* base64: padding exactly as written, alphabets kept apart */
		{ "MZg", 0, EFS_ECORRUPT },     /* padding missing */
		{ "MZg=", 0, EFS_ECORRUPT },
		{ "MZg===", 0, EFS_ECORRUPT },
		{ "MZm8==", 0, EFS_ECORRUPT },
		{ "M====", 0, EFS_ECORRUPT },
		{ "MZ===", 0, EFS_ECORRUPT },
		{ "MZg=A", 0, EFS_ECORRUPT },
		{ "MZ=g=", 0, EFS_ECORRUPT },
		{ "mZg==", 0, EFS_ECORRUPT },   /* padding where none is */
		{ "uZg==", 0, EFS_ECORRUPT },
		{ "mZ", 0, EFS_ECORRUPT },      /* one char: 6 bits */
		{ "mZm9vY", 0, EFS_ECORRUPT },
		{ "mZh", 0, EFS_ECORRUPT },     /* trailing bits */
		{ "MZh==", 0, EFS_ECORRUPT },
		{ "mZm9", 0, EFS_ECORRUPT },
		{ "m-_8", 0, EFS_ECORRUPT },    /* URL chars in base64 */
		{ "u+/8", 0, EFS_ECORRUPT },    /* and the reverse */
		{ "mZm9v\n", 0, EFS_ECORRUPT },
		{ "MZm9v\nYmFy", 0, EFS_ECORRUPT },
		{ "mZm 9v", 0, EFS_ECORRUPT },
		{ "mZm9\0", 5, EFS_ECORRUPT },
		{ "kfoo", 0, EFS_EUNSUPPORTED },  /* base36 */
		{ "Qmfoo", 0, EFS_EUNSUPPORTED }, /* a v0 CID is not multibase */
		{ "\0", 1, EFS_EUNSUPPORTED },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		uint8_t out[64];
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].s);
		long got = mbase_decode(out, sizeof(out), cases[i].s, len);

		if (got != cases[i].want)
			fprintf(stderr, "case %zu '%s': %ld\n", i, cases[i].s,
				got);
		CU_ASSERT_EQUAL(got, cases[i].want);
	}
}

/* Every char: the 22 hex digits of either case, and nothing else. */
static void test_mbase__hex_value(void)
{
	static const char lower[] = "0123456789abcdef";
	static const char upper[] = "0123456789ABCDEF";
	unsigned digits = 0;

	for (int c = -128; c < 128; c++) {
		const char *l = c ? strchr(lower, c) : NULL;
		const char *u = c ? strchr(upper, c) : NULL;
		int want = l ? (int)(l - lower) : u ? (int)(u - upper) : -1;

		CU_ASSERT_EQUAL(mbase_hex_value((char)c), want);
		digits += want >= 0;
	}
	CU_ASSERT_EQUAL(digits, 22);
}

/* Each way a string is refused has its own message. */
static void test_mbase__messages(void)
{
	static const struct {
		const char *s;
		const char *msg;
	} cases[] = {
		{ "bm1", "invalid base32 character" },
		{ "bm", "invalid base32 length" },
		{ "bmzxw6y", "invalid base32 length" },
		{ "bmz", "invalid base32 trailing bits" },
		{ "m-_8", "invalid base64 character" },
		{ "mZ", "invalid base64 length" },
		{ "mZh", "invalid base64 trailing bits" },
		{ "MZg", "invalid base64 padding" },
		{ "f0", "odd-length base16" },
		{ "z0", "invalid base58 character" },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		uint8_t out[16];

		CU_ASSERT(mbase_decode(out, sizeof(out), cases[i].s,
				       strlen(cases[i].s)) == EFS_ECORRUPT);
		if (strcmp(efs_error_msg(), cases[i].msg) != 0)
			fprintf(stderr, "'%s': '%s'\n", cases[i].s,
				efs_error_msg());
		CU_ASSERT_STRING_EQUAL(efs_error_msg(), cases[i].msg);
	}
}

/*
 * Every base32 string whose last character carries unused bits decodes
 * only when those bits are zero, so each byte string has one encoding.
 */
static void test_mbase__trailing_bits(void)
{
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyz234567";
	static const int unused[5] = { 0, 2, 4, 1, 3 }; /* by len % 5 */

	for (size_t len = 1; len <= 12; len++) {
		uint8_t in[12];
		uint8_t out[12];
		char s[32];
		long n;
		int bits = unused[len % 5];
		size_t last;
		int v;

		harness_fill_random(in, len, len);
		n = mbase_encode(s, sizeof(s), 'b', in, len);
		CU_ASSERT_FATAL(n > 1);
		last = (size_t)n - 1;
		v = (int)(strchr(alpha, s[last]) - alpha);
		for (int flip = 1; flip < (1 << bits); flip++) {
			s[last] = alpha[v ^ flip];
			CU_ASSERT_EQUAL(mbase_decode(out, sizeof(out), s,
						     (size_t)n), EFS_ECORRUPT);
		}
		s[last] = alpha[v];
		CU_ASSERT_EQUAL(mbase_decode(out, sizeof(out), s, (size_t)n),
				(long)len);
	}
}

static void test_mbase__caps(void)
{
	static const uint8_t foobar[] = "foobar";
	static const char *const forms[] = {
		"bmzxw6ytboi", "BMZXW6YTBOI", "zt1Zv2yaZ", "f666f6f626172",
		"mZm9vYmFy", "MZm9vYmFy", "uZm9vYmFy", "UZm9vYmFy",
	};
	uint8_t out[6];
	char s[16];

	for (size_t i = 0; i < N_ELEMS(forms); i++) {
		const char *f = forms[i];
		size_t len = strlen(f);

		/* decoding: exactly 6 bytes fit, 5 do not */
		CU_ASSERT_EQUAL(mbase_decode(out, 6, f, len), 6);
		CU_ASSERT(!memcmp(out, foobar, 6));
		CU_ASSERT_EQUAL(mbase_decode(out, 5, f, len), EFS_ETOOBIG);
		CU_ASSERT_EQUAL(mbase_decode(out, 0, f, len), EFS_ETOOBIG);
		/* encoding: the string and its NUL, not one byte less */
		memset(s, 'X', sizeof(s));
		CU_ASSERT_EQUAL(mbase_encode(s, len + 1, f[0], foobar, 6),
				(long)len);
		CU_ASSERT_STRING_EQUAL(s, f);
		CU_ASSERT_EQUAL(mbase_encode(s, len, f[0], foobar, 6),
				EFS_ETOOBIG);
		CU_ASSERT_EQUAL(mbase_encode(s, 1, f[0], foobar, 6),
				EFS_ETOOBIG);
		CU_ASSERT_EQUAL(mbase_encode(s, 0, f[0], foobar, 6),
				EFS_ETOOBIG);
	}
	/* leading zeros count against the cap too */
	CU_ASSERT_EQUAL(mbase_base58_decode(out, 2, "111", 3), EFS_ETOOBIG);
	CU_ASSERT_EQUAL(mbase_base58_decode(out, 3, "111", 3), 3);
	CU_ASSERT_EQUAL(mbase_encode(s, sizeof(s), 'x', foobar, 6),
			EFS_EINVAL);
	CU_ASSERT_EQUAL(mbase_encode(s, sizeof(s), 'Z', foobar, 6),
			EFS_EINVAL);
}

/* The base58 codec's own limit: 186 bytes in, 256 bytes out. */
static void test_mbase__base58_limits(void)
{
	uint8_t in[300];
	uint8_t out[300];
	char s[400];
	long n;

	harness_fill_random(in, sizeof(in), 58);
	in[0] |= 1;
	n = mbase_base58_encode(s, sizeof(s), in, 186);
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL(mbase_base58_decode(out, sizeof(out), s, (size_t)n),
			186);
	CU_ASSERT(!memcmp(in, out, 186));
	CU_ASSERT_EQUAL(mbase_base58_encode(s, sizeof(s), in, 187),
			EFS_ETOOBIG);
	/* 400 'z's are worth more than 256 bytes */
	memset(s, 'z', sizeof(s));
	CU_ASSERT_EQUAL(mbase_base58_decode(out, sizeof(out), s, sizeof(s)),
			EFS_ETOOBIG);
}

static void test_mbase__roundtrip(void)
{
	static const char prefixes[] = "bBzfFmMuU";

	for (size_t len = 0; len <= 100; len++) {
		uint8_t in[100];
		uint8_t out[100];
		char s[300];

		harness_fill_random(in, len, 1000 + len);
		if (len > 2 && len % 3 == 0)
			memset(in, 0, len / 3); /* leading zeros for base58 */
		for (const char *p = prefixes; *p; p++) {
			long n = mbase_encode(s, sizeof(s), *p, in, len);
			long m;

			CU_ASSERT_FATAL(n > 0);
			CU_ASSERT_EQUAL((size_t)n, strlen(s));
			CU_ASSERT_EQUAL(s[0], *p);
			m = mbase_decode(out, sizeof(out), s, (size_t)n);
			CU_ASSERT_EQUAL(m, (long)len);
			CU_ASSERT(m == (long)len && !memcmp(in, out, len));
		}
	}
}

/* The bare codecs Lotus JSON (base64, padded) and JWT (base64url) use. */
static void test_mbase__bare_base64(void)
{
	static const uint8_t foob[] = { 'f', 'o', 'o', 'b' };
	uint8_t out[8];
	char s[16];

	CU_ASSERT_EQUAL(mbase_base64_len(4, true), 8);
	CU_ASSERT_EQUAL(mbase_base64_len(4, false), 6);
	CU_ASSERT_EQUAL(mbase_base64_len(0, true), 0);
	CU_ASSERT_EQUAL(mbase_base64_len(3, false), 4);
	CU_ASSERT_EQUAL(mbase_base64_encode(s, sizeof(s), foob, 4), 8);
	CU_ASSERT_STRING_EQUAL(s, "Zm9vYg==");
	CU_ASSERT_EQUAL(mbase_base64_decode(out, sizeof(out), s, 8), 4);
	CU_ASSERT(!memcmp(out, foob, 4));
	CU_ASSERT_EQUAL(mbase_base64_decode(out, sizeof(out), "Zm9vYg", 6),
			EFS_ECORRUPT);
	CU_ASSERT_EQUAL(mbase_base64_encode(s, 8, foob, 4), EFS_ETOOBIG);
	CU_ASSERT_EQUAL(mbase_base64_decode(out, 3, "Zm9vYg==", 8),
			EFS_ETOOBIG);
	CU_ASSERT_EQUAL(mbase_base64url_encode(s, sizeof(s), foob, 4), 6);
	CU_ASSERT_STRING_EQUAL(s, "Zm9vYg");
	CU_ASSERT_EQUAL(mbase_base64url_decode(out, sizeof(out), s, 6), 4);
	CU_ASSERT_EQUAL(mbase_base64url_decode(out, sizeof(out), "Zm9vYg==",
					       8), EFS_ECORRUPT);
	/* a JWT header: {"alg":"HS256","typ":"JWT"} */
	CU_ASSERT_EQUAL(mbase_base64url_decode(out, 0, "", 0), 0);
	{
		static const char hdr[] =
			"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
		uint8_t json[32];

		CU_ASSERT_EQUAL(mbase_base64url_decode(json, sizeof(json), hdr,
						       strlen(hdr)), 27);
		CU_ASSERT(!memcmp(json, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
				  27));
	}
}

/* Bare hex as Lotus prints it: lower case out, either case in. */
static void test_mbase__bare_hex(void)
{
	static const uint8_t bytes[] = { 0x00, 0x7f, 0xab, 0xcd, 0xef, 0xff };
	uint8_t out[8];
	char s[16];

	CU_ASSERT_EQUAL(mbase_hex_encode(s, sizeof(s), bytes, 6), 12);
	CU_ASSERT_STRING_EQUAL(s, "007fabcdefff");
	CU_ASSERT_EQUAL(mbase_hex_encode(s, 13, bytes, 6), 12);
	CU_ASSERT_EQUAL(mbase_hex_encode(s, 12, bytes, 6), EFS_ETOOBIG);
	CU_ASSERT_EQUAL(mbase_hex_encode(s, 1, bytes, 0), 0);
	CU_ASSERT_STRING_EQUAL(s, "");
	CU_ASSERT_EQUAL(mbase_hex_decode(out, sizeof(out), "007fabcdefff",
					 12), 6);
	CU_ASSERT(!memcmp(out, bytes, 6));
	memset(out, 0, sizeof(out));
	CU_ASSERT_EQUAL(mbase_hex_decode(out, 6, "007FaBcDeFfF", 12), 6);
	CU_ASSERT(!memcmp(out, bytes, 6));
	CU_ASSERT_EQUAL(mbase_hex_decode(out, 0, "", 0), 0);
	CU_ASSERT_EQUAL(mbase_hex_decode(out, 5, "007fabcdefff", 12),
			EFS_ETOOBIG);
	CU_ASSERT_EQUAL(mbase_hex_decode(out, sizeof(out), "007", 3),
			EFS_ECORRUPT);
	CU_ASSERT_STRING_EQUAL(efs_error_msg(), "odd-length base16");
	CU_ASSERT_EQUAL(mbase_hex_decode(out, sizeof(out), "0g", 2),
			EFS_ECORRUPT);
	CU_ASSERT_STRING_EQUAL(efs_error_msg(), "invalid base16 character");
	CU_ASSERT_EQUAL(mbase_hex_decode(out, sizeof(out), " 0", 2),
			EFS_ECORRUPT);
	CU_ASSERT_EQUAL(mbase_hex_decode(out, sizeof(out), "0\0", 2),
			EFS_ECORRUPT);
	CU_ASSERT_EQUAL(mbase_hex_decode(out, sizeof(out), "0x00", 4),
			EFS_ECORRUPT);
}

/* As trailing_bits, for base64: 2 or 4 unused bits in the last char. */
static void test_mbase__base64_trailing_bits(void)
{
	static const char alpha[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t len = 1; len <= 8; len++) {
		static const int unused[3] = { 0, 4, 2 }; /* by len % 3 */
		uint8_t in[8], out[8];
		char s[16];
		long n = 0;
		size_t last;
		int v;

		harness_fill_random(in, len, 64 + len);
		n = mbase_base64_encode(s, sizeof(s), in, len);
		CU_ASSERT_FATAL(n > 0);
		last = (size_t)n - 1;
		while (s[last] == '=')
			last--;
		v = (int)(strchr(alpha, s[last]) - alpha);
		for (int flip = 1; flip < (1 << unused[len % 3]); flip++) {
			s[last] = alpha[v ^ flip];
			CU_ASSERT_EQUAL(mbase_base64_decode(out, sizeof(out), s,
							    (size_t)n),
					EFS_ECORRUPT);
		}
		s[last] = alpha[v];
		CU_ASSERT_EQUAL(mbase_base64_decode(out, sizeof(out), s,
						    (size_t)n), (long)len);
	}
}

static CU_TestInfo mbase_tests[] = {
	{ "golden", test_mbase__golden },
	{ "bare_base58", test_mbase__bare_base58 },
	{ "lengths", test_mbase__lengths },
	{ "strict", test_mbase__strict },
	{ "messages", test_mbase__messages },
	{ "hex_value", test_mbase__hex_value },
	{ "trailing_bits", test_mbase__trailing_bits },
	{ "caps", test_mbase__caps },
	{ "base58_limits", test_mbase__base58_limits },
	{ "roundtrip", test_mbase__roundtrip },
	{ "bare_base64", test_mbase__bare_base64 },
	{ "bare_hex", test_mbase__bare_hex },
	{ "base64_trailing_bits", test_mbase__base64_trailing_bits },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "mbase", .pTests = mbase_tests })
