/*
 * fuzz_sp_http.c - the header and parameter parsers of the devnet SPs'
 * retrieval endpoints (contrib/devnet/sp_parse.h): Accept, entity-bytes
 * (Range is fuzz_http_range.c).  Input: the header text; any bytes must
 * parse or be refused without overrunning, and what parses must be
 * coherent (qualities sorted, in 0..1).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "contrib/devnet/sp_parse.h"

#define TEXT_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sp_ctype ct[16];
	char text[TEXT_MAX + 1];
	int64_t from, to;
	bool to_set;
	size_t n;

	if (size > TEXT_MAX)
		size = TEXT_MAX;
	memcpy(text, data, size);
	text[size] = '\0';
	n = sp_parse_accept(ct, 16, text);
	for (size_t i = 0; i < n; i++)
		if (!(ct[i].q >= 0 && ct[i].q <= 1) ||
		    (i && ct[i].q > ct[i - 1].q))
			abort();
	sp_parse_entity_bytes(&from, &to, &to_set, text);
	return 0;
}
