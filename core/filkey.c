/*
 * filkey.c - secp256k1 keys and Filecoin signing (see filkey.h; the
 * key-info text is in filkey_keyinfo.c).
 *
 * Design notes:
 *  - Signing and public-key derivation need a full libsecp256k1 context.
 *    One is built once (pthread_once) in static storage with the
 *    preallocated API, so no allocation can fail and nothing is left to
 *    free, and is randomized from getrandom(2) against side channels.
 *    libsecp256k1 only reads a context after that, so it is shared by
 *    all threads.  Its illegal-argument callback, which would abort, is
 *    replaced by one that does nothing: a bad argument makes the call
 *    return 0, which we turn into an error.
 *  - Secrets only ever sit in caller-owned structs and in stack buffers
 *    of fixed size, and every such buffer is wiped with explicit_bzero
 *    before it goes out of scope.  Nothing here allocates.
 */
#include "core/filkey.h"

#include <errno.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdbool.h>
#include <string.h>

#include <blake2.h>
#include <secp256k1.h>
#include <secp256k1_preallocated.h>
#include <secp256k1_recovery.h>

#include "core/error.h"
#include "core/fdio.h"

#include "core/banned.h"

/* ---- the signing context ---- */

/* libsecp256k1 0.2 needs 208 bytes; checked at run time. */
static alignas(max_align_t) unsigned char ctx_mem[1024];
static secp256k1_context *sign_ctx;
static int ctx_errno;
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;

static void ignore_illegal(const char *msg, void *data)
{
	(void)msg;
	(void)data;
}

static void ctx_init(void)
{
	size_t need = secp256k1_context_preallocated_size(
		SECP256K1_CONTEXT_NONE);
	secp256k1_context *c;
	uint8_t seed[32];

	if (need > sizeof(ctx_mem)) {
		ctx_errno = ENOMEM;
		return;
	}
	c = secp256k1_context_preallocated_create(ctx_mem,
						  SECP256K1_CONTEXT_NONE);
	secp256k1_context_set_illegal_callback(c, ignore_illegal, NULL);
	if (fdio_random(seed, sizeof(seed)) < 0) {
		ctx_errno = errno;
		return;
	}
	if (!secp256k1_context_randomize(c, seed))
		ctx_errno = EINVAL;
	else
		sign_ctx = c;
	explicit_bzero(seed, sizeof(seed));
}

static int get_ctx(const secp256k1_context **out)
{
	pthread_once(&ctx_once, ctx_init);
	if (!sign_ctx)
		return efs_error_set_errno(EFS_EIO, ctx_errno, "key: cannot "
					   "set up the secp256k1 context");
	*out = sign_ctx;
	return 0;
}

/* ---- keys and signing ---- */

int filkey_import(struct filkey *out, const uint8_t *priv, size_t len)
{
	const secp256k1_context *ctx = NULL;
	secp256k1_pubkey pk;
	size_t publen = FILKEY_PUBLIC_LEN;
	int rc;

	if (len != FILKEY_PRIVATE_LEN)
		return efs_error_set(EFS_ECORRUPT, "key: private key of %zu "
				     "bytes, not 32", len);
	if ((rc = get_ctx(&ctx)) < 0)
		return rc;
	if (!secp256k1_ec_seckey_verify(ctx, priv))
		return efs_error_set(EFS_ECORRUPT, "key: private key is zero "
				     "or not below the group order");
	if (!secp256k1_ec_pubkey_create(ctx, &pk, priv))
		return efs_error_set(EFS_ECORRUPT, "key: no public key for "
				     "this private key");
	memcpy(out->priv, priv, FILKEY_PRIVATE_LEN);
	secp256k1_ec_pubkey_serialize(ctx, out->pub, &publen, &pk,
				      SECP256K1_EC_UNCOMPRESSED);
	return filaddr_init_secp256k1(&out->addr, out->pub, publen);
}

int filkey_generate(struct filkey *out)
{
	uint8_t priv[FILKEY_PRIVATE_LEN];
	int rc;

	/* A draw is invalid with probability about 2^-128: the loop is for
	 * correctness, not expected to turn twice. */
	do {
		if (fdio_random(priv, sizeof(priv)) < 0) {
			rc = efs_error_set_errno(EFS_EIO, errno, "key: "
						 "getrandom");
			break;
		}
		rc = filkey_import(out, priv, sizeof(priv));
	} while (rc == EFS_ECORRUPT);
	explicit_bzero(priv, sizeof(priv));
	return rc;
}

void filkey_release(struct filkey *k)
{
	explicit_bzero(k, sizeof(*k));
}

int filkey_sign(struct filsig *out, const struct filkey *k, const void *msg,
		size_t len)
{
	const secp256k1_context *ctx = NULL;
	secp256k1_ecdsa_recoverable_signature rs;
	uint8_t digest[32];
	int recid, rc;

	if ((rc = get_ctx(&ctx)) < 0)
		return rc;
	if (blake2b(digest, msg, NULL, sizeof(digest), len, 0) < 0)
		return efs_error_set(EFS_ERROR, "blake2b failed");
	/* NULL nonce function: RFC 6979, so signatures are deterministic. */
	if (!secp256k1_ecdsa_sign_recoverable(ctx, &rs, digest, k->priv,
					      NULL, NULL))
		return efs_error_set(EFS_ECORRUPT, "key: cannot sign with "
				     "this private key");
	secp256k1_ecdsa_recoverable_signature_serialize_compact(
		ctx, out->data, &recid, &rs);
	out->data[64] = (uint8_t)recid;
	out->type = FILSIG_SECP256K1;
	out->len = FILSIG_SECP256K1_LEN;
	return 0;
}
