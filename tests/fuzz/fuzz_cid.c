/*
 * fuzz_cid.c - CID parsing from strings and bytes.  Any input must be
 * rejected cleanly or round-trip: a parsed string formats (in every base
 * the encoder offers) to a string that parses to the same CID, and
 * decoded bytes re-encode to exactly the bytes consumed (binary CIDs have
 * one form).  A broken round trip aborts so libFuzzer reports it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_string(const uint8_t *data, size_t size)
{
	static const char bases[] = "bBzfF";
	struct cid id;
	struct cid back;
	char s[CID_STR_MAX];

	if (cid_parse_n(&id, (const char *)data, size) < 0)
		return;
	if (cid_parse(&back, cid_tostr(s, &id)) < 0 || !cid_equal(&id, &back))
		abort();
	for (const char *b = bases; *b; b++) {
		long n = cid_format(s, sizeof(s), &id, *b);

		/* base16 of the longest identity CIDs exceeds CID_STR_MAX */
		if (n < 0)
			continue;
		if ((size_t)n != strlen(s) || cid_parse(&back, s) < 0 ||
		    !cid_equal(&id, &back))
			abort();
	}
}

static void check_bytes(const uint8_t *data, size_t size)
{
	uint8_t out[CID_BYTES_MAX];
	struct cid id;
	struct cid back;
	size_t used;
	size_t n;

	if (cid_from_bytes(&id, &used, data, size) < 0)
		return;
	n = cid_to_bytes(out, &id);
	if (used > size || n != used || cid_size(&id) != n ||
	    memcmp(out, data, n))
		abort();
	if (cid_from_bytes_exact(&back, data, size) == 0 &&
	    (used != size || !cid_equal(&id, &back)))
		abort();
	if (cid_verify(&id, data, size) == 0 && id.hash != MHASH_IDENTITY &&
	    id.hash != MHASH_SHA2_256 && id.hash != MHASH_BLAKE2B_256)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_string(data, size);
	check_bytes(data, size);
	return 0;
}
