/*
 * bigint.c - 256-bit signed integers for attoFIL amounts (see bigint.h).
 *
 * Sign and magnitude, as Go's big.Int and Filecoin's byte form are: the
 * magnitude is four 64-bit words, least significant first, and every
 * result is normalised so that zero is never negative.  Arithmetic works
 * on magnitudes with 128-bit intermediates; division is shift-and-subtract
 * (256 rounds), which is plenty for amounts parsed from JSON and CBOR.
 * Each operation computes into a local and copies to out only on success,
 * so out may alias an input and is unchanged on EFS_ERANGE.
 *
 * The FIL text forms follow Lotus' chain/types/fil.go: ParseFIL takes the
 * leading run of "-.0123456789" as a decimal number (at most 50
 * characters, big.Rat syntax) and the rest, trimmed and lower-cased, as
 * the unit: "", "fil", "attofil" or "afil"; FIL.String prints the exact
 * value in FIL with trailing fractional zeros trimmed, then " FIL".
 */
#include "core/bigint.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"

#include "core/banned.h"

__extension__ typedef unsigned __int128 u128;

/* 10^19: the largest power of ten in a word, for decimal conversion. */
#define TEN19 10000000000000000000ULL
/* Longest numeric part ParseFIL accepts. */
#define FIL_NUM_MAX 50
/* Longest CBOR byte form go-state-types reads (BigIntMaxSerializedLen). */
#define BYTES_LEN_MAX 128

/* ---- magnitudes ---- */

static bool mag_is_zero(const uint64_t *a)
{
	return !(a[0] | a[1] | a[2] | a[3]);
}

static int mag_cmp(const uint64_t *a, const uint64_t *b)
{
	for (int i = BIGINT_WORDS - 1; i >= 0; i--)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

/* out = a + b; returns the carry out of the top word. */
static uint64_t mag_add(uint64_t *out, const uint64_t *a, const uint64_t *b)
{
	uint64_t carry = 0;

	for (int i = 0; i < BIGINT_WORDS; i++) {
		u128 s = (u128)a[i] + b[i] + carry;

		out[i] = (uint64_t)s;
		carry = (uint64_t)(s >> 64);
	}
	return carry;
}

/* out = a - b, for a >= b. */
static void mag_sub(uint64_t *out, const uint64_t *a, const uint64_t *b)
{
	uint64_t borrow = 0;

	for (int i = 0; i < BIGINT_WORDS; i++) {
		u128 d = (u128)a[i] - b[i] - borrow;

		out[i] = (uint64_t)d;
		borrow = (uint64_t)(d >> 64) & 1;
	}
}

/* out = a * b; returns false when the product needs more than 256 bits. */
static bool mag_mul(uint64_t *out, const uint64_t *a, const uint64_t *b)
{
	uint64_t r[2 * BIGINT_WORDS] = { 0 };

	for (int i = 0; i < BIGINT_WORDS; i++) {
		uint64_t carry = 0;

		for (int j = 0; j < BIGINT_WORDS; j++) {
			u128 t = (u128)a[i] * b[j] + r[i + j] + carry;

			r[i + j] = (uint64_t)t;
			carry = (uint64_t)(t >> 64);
		}
		r[i + BIGINT_WORDS] = carry;
	}
	for (int i = BIGINT_WORDS; i < 2 * BIGINT_WORDS; i++)
		if (r[i])
			return false;
	memcpy(out, r, BIGINT_WORDS * sizeof(uint64_t));
	return true;
}

/* a = a * m + add; returns false on overflow (a is then garbage). */
static bool mag_muladd_small(uint64_t *a, uint64_t m, uint64_t add)
{
	uint64_t carry = add;

	for (int i = 0; i < BIGINT_WORDS; i++) {
		u128 t = (u128)a[i] * m + carry;

		a[i] = (uint64_t)t;
		carry = (uint64_t)(t >> 64);
	}
	return carry == 0;
}

/* a = a / d; returns a % d. */
static uint64_t mag_divmod_small(uint64_t *a, uint64_t d)
{
	u128 rem = 0;

	for (int i = BIGINT_WORDS - 1; i >= 0; i--) {
		u128 cur = (rem << 64) | a[i];

		a[i] = (uint64_t)(cur / d);
		rem = cur % d;
	}
	return (uint64_t)rem;
}

static int mag_bits(const uint64_t *a)
{
	for (int i = BIGINT_WORDS - 1; i >= 0; i--)
		if (a[i])
			return i * 64 + 64 - __builtin_clzll(a[i]);
	return 0;
}

/* quo = a / b, rem = a % b for b != 0 (shift and subtract). */
static void mag_divmod(uint64_t *quo, uint64_t *rem, const uint64_t *a,
		       const uint64_t *b)
{
	uint64_t q[BIGINT_WORDS] = { 0 }, r[BIGINT_WORDS] = { 0 };

	for (int i = mag_bits(a) - 1; i >= 0; i--) {
		/* r < b < 2^256, so r << 1 fits in 257 bits: keep the top */
		uint64_t top = r[BIGINT_WORDS - 1] >> 63;

		for (int w = BIGINT_WORDS - 1; w > 0; w--)
			r[w] = (r[w] << 1) | (r[w - 1] >> 63);
		r[0] = (r[0] << 1) | ((a[i / 64] >> (i % 64)) & 1);
		if (top || mag_cmp(r, b) >= 0) {
			mag_sub(r, r, b);
			q[i / 64] |= 1ULL << (i % 64);
		}
	}
	memcpy(quo, q, sizeof(q));
	memcpy(rem, r, sizeof(r));
}

/* ---- signed values ---- */

static void normalise(struct bigint *a)
{
	if (mag_is_zero(a->w))
		a->neg = false;
}

void bigint_from_u64(struct bigint *out, uint64_t v)
{
	memset(out, 0, sizeof(*out));
	out->w[0] = v;
}

void bigint_from_i64(struct bigint *out, int64_t v)
{
	memset(out, 0, sizeof(*out));
	out->neg = v < 0;
	/* -(v + 1) + 1 stays in range for INT64_MIN */
	out->w[0] = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
}

static int range(const char *what)
{
	return efs_error_set(EFS_ERANGE, "bigint: %s out of range", what);
}

int bigint_to_u64(uint64_t *out, const struct bigint *a)
{
	if (a->neg || a->w[1] || a->w[2] || a->w[3])
		return range("uint64");
	*out = a->w[0];
	return 0;
}

int bigint_to_i64(int64_t *out, const struct bigint *a)
{
	uint64_t limit = a->neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX;

	if (a->w[1] || a->w[2] || a->w[3] || a->w[0] > limit)
		return range("int64");
	if (!a->neg)
		*out = (int64_t)a->w[0];
	else if (a->w[0] == limit)
		*out = INT64_MIN;
	else
		*out = -(int64_t)a->w[0];
	return 0;
}

bool bigint_is_zero(const struct bigint *a)
{
	return mag_is_zero(a->w);
}

int bigint_cmp(const struct bigint *a, const struct bigint *b)
{
	int c;

	if (a->neg != b->neg)
		return a->neg ? -1 : 1;
	c = mag_cmp(a->w, b->w);
	return a->neg ? -c : c;
}

/* out = a + (b with its sign flipped when flip). */
static int add_signed(struct bigint *out, const struct bigint *a,
		      const struct bigint *b, bool flip)
{
	bool bneg = b->neg != flip;
	struct bigint r = { 0 };

	if (a->neg == bneg) {
		if (mag_add(r.w, a->w, b->w))
			return range("sum");
		r.neg = a->neg;
	} else if (mag_cmp(a->w, b->w) >= 0) {
		mag_sub(r.w, a->w, b->w);
		r.neg = a->neg;
	} else {
		mag_sub(r.w, b->w, a->w);
		r.neg = bneg;
	}
	normalise(&r);
	*out = r;
	return 0;
}

int bigint_add(struct bigint *out, const struct bigint *a,
	       const struct bigint *b)
{
	return add_signed(out, a, b, false);
}

int bigint_sub(struct bigint *out, const struct bigint *a,
	       const struct bigint *b)
{
	return add_signed(out, a, b, true);
}

int bigint_mul(struct bigint *out, const struct bigint *a,
	       const struct bigint *b)
{
	struct bigint r = { 0 };

	if (!mag_mul(r.w, a->w, b->w))
		return range("product");
	r.neg = a->neg != b->neg;
	normalise(&r);
	*out = r;
	return 0;
}

int bigint_divmod(struct bigint *quo, struct bigint *rem,
		  const struct bigint *a, const struct bigint *b)
{
	struct bigint q = { 0 }, r = { 0 };

	if (bigint_is_zero(b))
		return efs_error_set(EFS_EINVAL, "bigint: division by zero");
	mag_divmod(q.w, r.w, a->w, b->w);
	q.neg = a->neg != b->neg;
	r.neg = a->neg;
	normalise(&q);
	normalise(&r);
	if (quo)
		*quo = q;
	if (rem)
		*rem = r;
	return 0;
}

/* ---- decimal ---- */

static bool all_digits(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return len > 0;
}

/* Digits s[0..len) (checked) appended to the magnitude a. */
static bool mag_add_digits(uint64_t *a, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!mag_muladd_small(a, 10, (uint64_t)(s[i] - '0')))
			return false;
	return true;
}

int bigint_parse(struct bigint *out, const char *s, size_t len)
{
	struct bigint r = { 0 };
	size_t i = 0;

	if (len && (s[0] == '-' || s[0] == '+'))
		i = 1;
	if (!all_digits(s + i, len - i))
		return efs_error_set(EFS_EINVAL,
				     "bigint: failed to parse %.*s as an integer",
				     (int)(len > 40 ? 40 : len), s);
	if (!mag_add_digits(r.w, s + i, len - i))
		return range("integer");
	r.neg = s[0] == '-';
	normalise(&r);
	*out = r;
	return 0;
}

/* Decimal digits of magnitude a (not zero) into out; returns the count. */
static size_t mag_format(char *out, const uint64_t *a)
{
	uint64_t m[BIGINT_WORDS];
	uint64_t chunks[5];  /* 2^256 < 10^(19 * 5) */
	size_t n = 0;
	int len;

	memcpy(m, a, sizeof(m));
	while (!mag_is_zero(m))
		chunks[n++] = mag_divmod_small(m, TEN19);
	len = snprintf(out, 20, "%llu", (unsigned long long)chunks[--n]);
	while (n--) {
		snprintf(out + len, 20, "%019llu",
			 (unsigned long long)chunks[n]);
		len += 19;
	}
	return (size_t)len;
}

size_t bigint_format(char *out, const struct bigint *a)
{
	size_t n = 0;

	if (bigint_is_zero(a)) {
		out[0] = '0';
		out[1] = '\0';
		return 1;
	}
	if (a->neg)
		out[n++] = '-';
	return n + mag_format(out + n, a->w);
}

/* ---- CBOR byte form ---- */

size_t bigint_to_bytes(uint8_t *out, const struct bigint *a)
{
	size_t n = 0;
	int bytes = (mag_bits(a->w) + 7) / 8;

	if (bytes == 0)
		return 0;
	out[n++] = a->neg ? 1 : 0;
	for (int i = bytes - 1; i >= 0; i--)
		out[n++] = (uint8_t)(a->w[i / 8] >> (8 * (i % 8)));
	return n;
}

int bigint_from_bytes(struct bigint *out, const uint8_t *p, size_t len)
{
	struct bigint r = { 0 };
	size_t i = 1;

	if (len == 0) {
		*out = r;
		return 0;
	}
	if (len > BYTES_LEN_MAX)
		return efs_error_set(EFS_ECORRUPT,
				     "bigint: byte form of %zu bytes", len);
	if (p[0] > 1)
		return efs_error_set(EFS_ECORRUPT,
				     "bigint: sign byte should be 0 or 1, got %u",
				     p[0]);
	while (i < len && p[i] == 0)
		i++;
	if (len - i > BIGINT_WORDS * 8)
		return efs_error_set(EFS_ECORRUPT,
				     "bigint: byte form over 256 bits");
	for (; i < len; i++) {
		size_t bit = 8 * (len - 1 - i);

		r.w[bit / 64] |= (uint64_t)p[i] << (bit % 64);
	}
	r.neg = p[0] == 1;
	normalise(&r);
	*out = r;
	return 0;
}

/* ---- FIL ---- */

static bool is_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Whether s[0..len) equals the lower-case word w, ignoring case. */
static bool eq_nocase(const char *s, size_t len, const char *w)
{
	if (len != strlen(w))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != w[i])
			return false;
	}
	return true;
}

/* The unit after the number: 0 for FIL, 1 for attoFIL, -1 unknown. */
static int fil_unit(const char *s, size_t len)
{
	while (len && is_space(*s)) {
		s++;
		len--;
	}
	while (len && is_space(s[len - 1]))
		len--;
	if (len == 0 || eq_nocase(s, len, "fil"))
		return 0;
	if (eq_nocase(s, len, "attofil") || eq_nocase(s, len, "afil"))
		return 1;
	return -1;
}

int bigint_parse_fil(struct bigint *out, const char *s, size_t len)
{
	static const char numchars[] = "-.0123456789";
	size_t n = 0, ilen, flen, i = 0, keep;
	const char *dot, *frac;
	struct bigint r = { 0 };
	int unit;

	while (n < len && s[n] && strchr(numchars, s[n]))
		n++;
	if ((unit = fil_unit(s + n, len - n)) < 0)
		return efs_error_set(EFS_EINVAL,
				     "bigint: unrecognized suffix: \"%.*s\"",
				     (int)(len - n > 40 ? 40 : len - n), s + n);
	if (n > FIL_NUM_MAX)
		return efs_error_set(EFS_EINVAL,
				     "bigint: string length too large: %zu", n);
	if (n && s[0] == '-')
		i = 1;
	dot = memchr(s + i, '.', n - i);
	ilen = dot ? (size_t)(dot - s) - i : n - i;
	frac = dot ? dot + 1 : s + n;
	flen = dot ? n - i - ilen - 1 : 0;
	if ((ilen && !all_digits(s + i, ilen)) ||
	    (flen && !all_digits(frac, flen)) || ilen + flen == 0)
		return efs_error_set(EFS_EINVAL,
				     "bigint: failed to parse \"%.*s\" as a decimal number",
				     (int)n, s);
	/* digits past the unit's precision must be zeros */
	keep = unit ? 0 : 18;
	for (size_t k = keep; k < flen; k++)
		if (frac[k] != '0')
			return efs_error_set(EFS_EINVAL,
					     "bigint: invalid %sFIL value: \"%.*s\"",
					     unit ? "atto" : "", (int)n, s);
	if (!mag_add_digits(r.w, s + i, ilen) ||
	    !mag_add_digits(r.w, frac, flen < keep ? flen : keep))
		return range("FIL amount");
	for (size_t k = flen; k < keep; k++)
		if (!mag_muladd_small(r.w, 10, 0))
			return range("FIL amount");
	r.neg = i == 1;
	normalise(&r);
	*out = r;
	return 0;
}

size_t bigint_format_fil(char *out, const struct bigint *a)
{
	uint64_t m[BIGINT_WORDS];
	uint64_t frac;
	size_t n = 0;
	int flen = 18;

	memcpy(m, a->w, sizeof(m));
	frac = mag_divmod_small(m, BIGINT_ATTO_PER_FIL);
	if (a->neg)
		out[n++] = '-';
	if (mag_is_zero(m))
		out[n++] = '0';
	else
		n += mag_format(out + n, m);
	if (frac) {
		while (frac % 10 == 0) {
			frac /= 10;
			flen--;
		}
		n += (size_t)snprintf(out + n, 21, ".%0*llu", flen,
				      (unsigned long long)frac);
	}
	memcpy(out + n, " FIL", 5);
	return n + 4;
}
