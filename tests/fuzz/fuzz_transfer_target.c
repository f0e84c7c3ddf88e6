/*
 * fuzz_transfer_target.c - the request target of a deal transfer pull
 * (dealer/transfer_parse.c): the path and the Authorization header.
 * Input: "<path>\n<authorization>" (no '\n': no header).  Any bytes
 * must be refused or give a well-formed token (43 base64url
 * characters), and the bearer form only for a path of prefix + UUID.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mk12.h"
#include "dealer/transfer_i.h"

#define TEXT_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "abcdefghijklmnopqrstuvwxyz0123456789-_";
	char text[TEXT_MAX + 1], token[TRANSFER_TOKEN_MAX];
	char *authz;
	uint8_t uuid[16];
	bool has_uuid;

	if (size > TEXT_MAX)
		size = TEXT_MAX;
	memcpy(text, data, size);
	text[size] = '\0';
	if ((authz = strchr(text, '\n')))
		*authz++ = '\0';
	if (transfer_parse_target(token, uuid, &has_uuid, text, authz) < 0) {
		if (token[0])
			abort();
		return 0;
	}
	if (strlen(token) != TRANSFER_TOKEN_LEN ||
	    strspn(token, b64url) != TRANSFER_TOKEN_LEN)
		abort();
	if (has_uuid && (!authz || strlen(text) !=
			 strlen(TRANSFER_PATH_PREFIX) + MK12_UUID_STR_MAX - 1))
		abort();
	if (!has_uuid && strcmp(text + strlen(TRANSFER_PATH_PREFIX), token))
		abort();
	return 0;
}
