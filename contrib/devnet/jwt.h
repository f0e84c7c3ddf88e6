/*
 * jwt.h - Lotus API tokens: JSON Web Tokens signed with HMAC-SHA256
 * (HS256) whose payload is {"Allow":["read","write",...]}.
 *
 * Lotus checks a method's permission by membership: a method tagged
 * "sign" needs "sign" in the token's Allow list.  The tokens it issues
 * for a permission list every permission up to it ("write" gives
 * ["read","write"]); jwt_make does the same.  A request without a token
 * gets ["read"].
 *
 * All functions are reentrant.
 */
#ifndef EFS_DEVNET_JWT_H
#define EFS_DEVNET_JWT_H

#include <stddef.h>
#include <stdint.h>

/* Permission bits (a token's Allow list as a set). */
enum jwt_perm {
	JWT_READ = 1 << 0,
	JWT_WRITE = 1 << 1,
	JWT_SIGN = 1 << 2,
	JWT_ADMIN = 1 << 3,
};

/* Room for a token jwt_make writes; longer tokens are refused. */
#define JWT_TOKEN_MAX 1024
/* Bytes of the HMAC key. */
#define JWT_SECRET_LEN 32

/* The bit for "read", "write", "sign" or "admin"; -1 for anything else. */
int jwt_perm_from_name(const char *name);

/* The name of one permission bit ("read"), or NULL. */
const char *jwt_perm_name(unsigned perm);

/*
 * Write a token for permission perm (one bit) and all below it into
 * out (cap bytes, NUL-terminated).  Returns 0, EFS_EINVAL (not one
 * bit) or EFS_ETOOBIG.
 */
int jwt_make(char *out, size_t cap, const uint8_t *secret, unsigned perm);

/*
 * Check token[0..len): three base64url parts, header alg HS256, a valid
 * signature with secret, a JSON object payload whose "Allow" is an array
 * of strings.  On success *out is the set of known permissions it
 * allows (names Lotus does not know are ignored).  Returns 0 or
 * EFS_EINVAL with the reason.
 */
int jwt_verify(unsigned *out, const uint8_t *secret, const char *token,
	       size_t len);

#endif
