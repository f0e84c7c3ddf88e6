/*
 * fuzz_bigint.c - big integers from decimal strings, FIL amounts and CBOR
 * byte forms.  Whatever parses must format and parse back to the same
 * value; the byte form must re-encode canonically and decode again; and
 * the arithmetic on two values read from the input must satisfy
 * a == quo * b + rem.  A broken identity aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/bigint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_same(const struct bigint *a, const struct bigint *b)
{
	if (bigint_cmp(a, b) != 0 || memcmp(a, b, sizeof(*a)))
		abort();
}

static void check_decimal(const uint8_t *data, size_t size)
{
	char s[BIGINT_STR_MAX + 8];
	struct bigint a, back;
	size_t n;

	if (bigint_parse(&a, (const char *)data, size) == 0) {
		n = bigint_format(s, &a);
		if (n >= BIGINT_STR_MAX || bigint_parse(&back, s, n) < 0)
			abort();
		check_same(&a, &back);
	}
	if (bigint_parse_fil(&a, (const char *)data, size) == 0) {
		n = bigint_format_fil(s, &a);
		if (n >= sizeof(s))
			abort();
		/* ParseFIL caps the number at 50 characters */
		if (n - 4 <= 50) {
			if (bigint_parse_fil(&back, s, n) < 0)
				abort();
			check_same(&a, &back);
		}
	}
}

static void check_bytes(const uint8_t *data, size_t size)
{
	uint8_t out[BIGINT_BYTES_MAX];
	struct bigint a, b, q, r, t;
	size_t n, half = size / 2;

	if (bigint_from_bytes(&a, data, size) == 0) {
		n = bigint_to_bytes(out, &a);
		if (n > size || bigint_from_bytes(&b, out, n) < 0)
			abort();
		check_same(&a, &b);
	}
	if (bigint_from_bytes(&a, data, half) < 0 ||
	    bigint_from_bytes(&b, data + half, size - half) < 0 ||
	    bigint_divmod(&q, &r, &a, &b) < 0)
		return;
	if (bigint_mul(&t, &q, &b) < 0 || bigint_add(&t, &t, &r) < 0)
		abort();
	check_same(&t, &a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_decimal(data, size);
	check_bytes(data, size);
	return 0;
}
