/*
 * api_token.h - the daemon's own bearer token, which has every scope
 * (API_ADMIN, api/api_i.h): the daemon makes a new random one at each
 * start and writes it to <repo>/api.token (mode 0600: only the
 * repository's owner can read it); the CLI reads it there and sends
 * "Authorization: Bearer <token>".  Other clients use API keys with a
 * scope (api/api_keys.h); PUBLIC routes need neither.
 *
 * The token is never logged, and error messages never quote it.
 * Reentrant.
 */
#ifndef EFS_API_API_TOKEN_H
#define EFS_API_API_TOKEN_H

#include <stdbool.h>

/* 32 random bytes in lowercase hex, and its NUL. */
#define API_TOKEN_LEN 64
#define API_TOKEN_SIZE (API_TOKEN_LEN + 1)
#define API_TOKEN_FILE "api.token"

/*
 * Make a new token into out and write it to <repo>/api.token (mode
 * 0600, written beside and renamed over, so a reader never sees half of
 * one).  Returns 0, EFS_EIO or EFS_ENOMEM.
 */
int api_token_create(char out[API_TOKEN_SIZE], const char *repo);

/*
 * Read <repo>/api.token into out.  Returns 0, EFS_ENOTFOUND (no file: no
 * daemon started here), EFS_ECORRUPT (not a token), EFS_EIO or
 * EFS_ENOMEM.
 */
int api_token_read(char out[API_TOKEN_SIZE], const char *repo);

/* Remove <repo>/api.token (a missing file is fine). */
void api_token_remove(const char *repo);

/*
 * True when the request header value auth ("Bearer <token>"; may be
 * NULL) carries token, compared in constant time.  A NULL or empty
 * token matches nothing.
 */
bool api_token_check(const char *token, const char *auth);

#endif
