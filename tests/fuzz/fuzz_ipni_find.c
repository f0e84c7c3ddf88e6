/*
 * fuzz_ipni_find.c - IPNI find answers from the network, on arbitrary
 * bytes.
 *
 * Properties: never more URLs than asked for, each an http(s) URL of
 * printable ASCII without spaces, none twice; none at all on an error;
 * the metadata decoder never crashes on the input as text.
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "retrieval/ipni_find.h"

static char urls[5][IPNI_FIND_URL_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = efs_malloc(size + 1);
	size_t n = 99;
	int rc;

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	ipni_find_has_gateway(text);
	efs_free(text);
	rc = ipni_find_parse(urls, &n, 5, (const char *)data, size);
	if (n > 5 || (rc != 0 && n != 0))
		abort();
	for (size_t i = 0; i < n; i++) {
		if (strncmp(urls[i], "http://", 7) &&
		    strncmp(urls[i], "https://", 8))
			abort();
		for (const char *p = urls[i]; *p; p++)
			if ((unsigned char)*p <= ' ' ||
			    (unsigned char)*p >= 0x7f)
				abort();
		for (size_t k = 0; k < i; k++)
			if (!strcmp(urls[i], urls[k]))
				abort();
	}
	return 0;
}
