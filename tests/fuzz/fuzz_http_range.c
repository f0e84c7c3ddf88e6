/*
 * fuzz_http_range.c - the Range header parser (net/http_range.h) against
 * a few body sizes.  Input: the header text; any bytes must parse or be
 * refused without overrunning, and a range that parses must lie inside
 * the body and be non-empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/http_range.h"

#define TEXT_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t sizes[] = { 0, 1, 100, 1ull << 40, UINT64_MAX };
	char text[TEXT_MAX + 1];

	if (size > TEXT_MAX)
		size = TEXT_MAX;
	memcpy(text, data, size);
	text[size] = '\0';
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct http_range r = { 0, 0 };
		enum http_range_result rr;

		rr = http_range_parse(&r, text, sizes[i]);
		if (rr == HTTP_RANGE_ONE &&
		    (!r.len || r.start >= sizes[i] ||
		     r.len > sizes[i] - r.start))
			abort();
	}
	return 0;
}
