/*
 * fuzz_filaddr.c - Filecoin address parsing from strings and bytes.  Any
 * input must be rejected cleanly or round-trip: a parsed string formats
 * back to the same address (and to the same string unless an f0 ID or an
 * f4 namespace had leading zeros), and decoded bytes re-encode to exactly
 * the input.  A broken round trip aborts so libFuzzer reports it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/filaddr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_string(const uint8_t *data, size_t size)
{
	struct filaddr a, back;
	char s[FILADDR_STR_MAX];
	char net;
	size_t n;

	if (filaddr_parse(&a, &net, (const char *)data, size) < 0)
		return;
	n = filaddr_format(s, &a, net);
	if (n >= FILADDR_STR_MAX || n != strlen(s) || n > size)
		abort();
	if (filaddr_parse(&back, NULL, s, n) < 0 || !filaddr_equal(&a, &back))
		abort();
	/* only decimal parts may shrink (leading zeros) */
	if (n != size && data[1] != '0' && data[1] != '4')
		abort();
}

static void check_bytes(const uint8_t *data, size_t size)
{
	uint8_t out[FILADDR_BYTES_MAX];
	struct filaddr a;
	size_t n;

	if (filaddr_from_bytes(&a, data, size) < 0)
		return;
	n = filaddr_to_bytes(out, &a);
	if (n != size || memcmp(out, data, n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_string(data, size);
	check_bytes(data, size);
	return 0;
}
