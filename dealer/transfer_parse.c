/*
 * transfer_parse.c - the request target of a transfer pull: the token
 * from the path or from an "Authorization: Bearer" header (see
 * transfer_i.h).  Path and header are untrusted: everything is checked
 * against exact lengths and alphabets, nothing is allocated, and any
 * mismatch is the same "not found".
 */
#include "dealer/transfer_i.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "core/mk12.h"

#include "core/banned.h"

static bool is_b64url(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* s[0..n) is a token: copy it to out. */
static bool take_token(char out[TRANSFER_TOKEN_MAX], const char *s, size_t n)
{
	if (n != TRANSFER_TOKEN_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_b64url(s[i]))
			return false;
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

/* "Bearer <token>" (scheme in any case, blanks around the token). */
static bool take_bearer(char out[TRANSFER_TOKEN_MAX], const char *h)
{
	const char *e;

	if (!h || strncasecmp(h, "Bearer", 6) != 0 ||
	    (h[6] != ' ' && h[6] != '\t'))
		return false;
	h += 6;
	while (*h == ' ' || *h == '\t')
		h++;
	e = h + strlen(h);
	while (e > h && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	return take_token(out, h, (size_t)(e - h));
}

int transfer_parse_target(char token[TRANSFER_TOKEN_MAX], uint8_t uuid[16],
			  bool *has_uuid, const char *path,
			  const char *authz)
{
	size_t plen = strlen(TRANSFER_PATH_PREFIX);
	const char *s;

	*has_uuid = false;
	token[0] = '\0';
	if (!path || strncmp(path, TRANSFER_PATH_PREFIX, plen) != 0)
		goto notfound;
	s = path + plen;
	if (strlen(s) == MK12_UUID_STR_MAX - 1 &&
	    mk12_uuid_parse(uuid, s, strlen(s)) == 0) {
		if (!take_bearer(token, authz))
			goto notfound;
		*has_uuid = true;
		return 0;
	}
	if (take_token(token, s, strlen(s)))
		return 0;
notfound:
	token[0] = '\0';
	return efs_error_set(EFS_ENOTFOUND, "transfer: no such transfer");
}
