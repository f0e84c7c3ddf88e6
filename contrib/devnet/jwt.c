/*
 * jwt.c - HS256 JSON Web Tokens in the form Lotus issues.
 *
 * A token is base64url(header) "." base64url(payload) "." base64url(mac)
 * without padding, mac = HMAC-SHA256(secret, first two parts).  Lotus'
 * header is {"alg":"HS256","typ":"JWT"}; verification requires alg HS256
 * (as gbrlsnchs/jwt does, so "alg":"none" tokens are refused) and
 * compares the MAC in constant time.
 */
#include "contrib/devnet/jwt.h"

#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include "core/error.h"
#include "core/mbase.h"

#include "core/banned.h"

static const char *const perm_names[] = { "read", "write", "sign", "admin" };

#define NPERMS (sizeof(perm_names) / sizeof(perm_names[0]))

int jwt_perm_from_name(const char *name)
{
	for (size_t i = 0; i < NPERMS; i++)
		if (strcmp(name, perm_names[i]) == 0)
			return 1 << i;
	return -1;
}

const char *jwt_perm_name(unsigned perm)
{
	for (size_t i = 0; i < NPERMS; i++)
		if (perm == 1u << i)
			return perm_names[i];
	return NULL;
}

static int mac(uint8_t out[32], const uint8_t *secret, const char *p,
	       size_t len)
{
	unsigned int n = 0;

	if (!HMAC(EVP_sha256(), secret, JWT_SECRET_LEN, (const uint8_t *)p,
		  len, out, &n) || n != 32)
		return efs_error_set(EFS_ERROR, "jwt: hmac failed");
	return 0;
}

int jwt_make(char *out, size_t cap, const uint8_t *secret, unsigned perm)
{
	static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	char payload[128];
	uint8_t sig[32];
	size_t n = 0, plen;
	long k;
	int rc;

	if (!jwt_perm_name(perm))
		return efs_error_set(EFS_EINVAL, "jwt: not one permission");
	plen = (size_t)snprintf(payload, sizeof(payload), "{\"Allow\":[");
	for (unsigned b = 1; b <= perm; b <<= 1)
		plen += (size_t)snprintf(payload + plen, sizeof(payload) - plen,
					 "%s\"%s\"", b == 1 ? "" : ",",
					 jwt_perm_name(b));
	plen += (size_t)snprintf(payload + plen, sizeof(payload) - plen, "]}");
	if ((k = mbase_base64url_encode(out, cap, (const uint8_t *)header,
			       sizeof(header) - 1)) < 0)
		goto too_big;
	n = (size_t)k;
	if (n + 2 > cap)
		goto too_big;
	out[n++] = '.';
	if ((k = mbase_base64url_encode(out + n, cap - n,
					(const uint8_t *)payload, plen)) < 0)
		goto too_big;
	n += (size_t)k;
	if ((rc = mac(sig, secret, out, n)) < 0)
		return rc;
	if (n + 2 > cap)
		goto too_big;
	out[n++] = '.';
	if (mbase_base64url_encode(out + n, cap - n, sig, sizeof(sig)) < 0)
		goto too_big;
	return 0;
too_big:
	return efs_error_set(EFS_ETOOBIG, "jwt: token buffer too small");
}

/* The header must be a JSON object with "alg": "HS256". */
static int check_header(const char *p, size_t len)
{
	uint8_t raw[JWT_TOKEN_MAX];
	long n = mbase_base64url_decode(raw, sizeof(raw), p, len);
	json_t *h, *alg;
	int ok;

	if (n < 0)
		return efs_error_set(EFS_EINVAL, "jwt: bad header encoding");
	h = json_loadb((const char *)raw, (size_t)n, JSON_REJECT_DUPLICATES,
		       NULL);
	alg = json_object_get(h, "alg");
	ok = json_is_string(alg) &&
	     strcmp(json_string_value(alg), "HS256") == 0;
	json_decref(h);
	if (!ok)
		return efs_error_set(EFS_EINVAL, "jwt: alg is not HS256");
	return 0;
}

static int read_allow(unsigned *out, const char *p, size_t len)
{
	uint8_t raw[JWT_TOKEN_MAX];
	long n = mbase_base64url_decode(raw, sizeof(raw), p, len);
	json_t *pl, *allow, *v;
	size_t i;
	int rc = 0;

	if (n < 0)
		return efs_error_set(EFS_EINVAL, "jwt: bad payload encoding");
	pl = json_loadb((const char *)raw, (size_t)n, 0, NULL);
	allow = json_object_get(pl, "Allow");
	*out = 0;
	if (!json_is_object(pl) || (allow && !json_is_array(allow) &&
				    !json_is_null(allow))) {
		rc = efs_error_set(EFS_EINVAL, "jwt: bad payload");
		goto out;
	}
	json_array_foreach(allow, i, v) {
		int bit;

		if (!json_is_string(v)) {
			rc = efs_error_set(EFS_EINVAL, "jwt: bad Allow entry");
			goto out;
		}
		bit = jwt_perm_from_name(json_string_value(v));
		if (bit > 0)
			*out |= (unsigned)bit;
	}
out:
	json_decref(pl);
	return rc;
}

int jwt_verify(unsigned *out, const uint8_t *secret, const char *token,
	       size_t len)
{
	const char *dot1, *dot2;
	uint8_t want[32], got[64];
	long n;
	int rc;

	*out = 0;
	if (len > JWT_TOKEN_MAX)
		return efs_error_set(EFS_EINVAL, "jwt: token too long");
	dot1 = memchr(token, '.', len);
	dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token))
		    : NULL;
	if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
		return efs_error_set(EFS_EINVAL, "jwt: not three parts");
	if ((rc = check_header(token, (size_t)(dot1 - token))) < 0)
		return rc;
	if ((rc = mac(want, secret, token, (size_t)(dot2 - token))) < 0)
		return rc;
	n = mbase_base64url_decode(got, sizeof(got), dot2 + 1,
			  len - (size_t)(dot2 + 1 - token));
	if (n != 32 || CRYPTO_memcmp(want, got, 32) != 0)
		return efs_error_set(EFS_EINVAL, "jwt: bad signature");
	return read_allow(out, dot1 + 1, (size_t)(dot2 - dot1 - 1));
}
