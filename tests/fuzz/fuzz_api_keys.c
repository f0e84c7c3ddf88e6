/*
 * fuzz_api_keys.c - what API keys read from outside (api/api_keys.h):
 * the Authorization header (api_keys_bearer), and the --expires and
 * --scope texts.  Input: the text; any bytes must be taken or refused
 * without overrunning, and a header taken must give a key of the form
 * EST<64 hex>ARY that is a substring of the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_keys.h"

#define TEXT_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[TEXT_MAX + 1], key[API_KEY_SIZE];
	enum api_scope scope;
	int64_t d = -1;

	if (size > TEXT_MAX)
		size = TEXT_MAX;
	memcpy(text, data, size);
	text[size] = '\0';
	if (api_keys_bearer(key, text) &&
	    (strlen(key) != API_KEY_LEN ||
	     !api_keys_is_token(key, strlen(key)) || !strstr(text, key)))
		abort();
	if (api_keys_duration_parse(&d, text) == 0 &&
	    (d < 0 || d > API_KEYS_DURATION_MAX))
		abort();
	if (api_keys_scope_parse(&scope, text) == 0 &&
	    (scope < API_READ || scope > API_ADMIN))
		abort();
	return 0;
}
