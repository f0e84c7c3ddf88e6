/*
 * fuzz_sp_http.c - the header and parameter parsers of the devnet SPs'
 * retrieval endpoints (contrib/devnet/sp_parse.h): Range against a few
 * body sizes, Accept, entity-bytes.  Input: the header text; any bytes
 * must parse or be refused without overrunning, and what parses must be
 * coherent (a range inside the body; qualities sorted, in 0..1).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "contrib/devnet/sp_parse.h"

#define TEXT_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t sizes[] = { 0, 1, 100, 1ull << 40 };
	struct sp_ctype ct[16];
	char text[TEXT_MAX + 1];
	int64_t from, to;
	bool to_set;
	size_t n;

	if (size > TEXT_MAX)
		size = TEXT_MAX;
	memcpy(text, data, size);
	text[size] = '\0';
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct sp_range r;

		if (sp_parse_range(&r, text, sizes[i]) == SP_RANGE_ONE &&
		    (!r.len || r.start >= sizes[i] ||
		     r.len > sizes[i] - r.start))
			abort();
	}
	n = sp_parse_accept(ct, 16, text);
	for (size_t i = 0; i < n; i++)
		if (!(ct[i].q >= 0 && ct[i].q <= 1) ||
		    (i && ct[i].q > ct[i - 1].q))
			abort();
	sp_parse_entity_bytes(&from, &to, &to_set, text);
	return 0;
}
