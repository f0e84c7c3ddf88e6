/*
 * filsig.c - Filecoin signatures: byte form and verification (see
 * filsig.h).
 *
 * Verification never signs, so it uses libsecp256k1's built-in static
 * context (its tables are compiled in since 0.2.0) and needs no setup
 * beyond the library's self-test, run once.  The static context's
 * illegal-argument callback aborts, so every argument libsecp256k1 would
 * complain about (the recovery id above all) is checked here first.
 *
 * The order of checks follows go-crypto: length, then r and s as
 * canonical non-zero scalars, then the recovery id, then recovery; the
 * recovered key's f1 address is compared with the signer's.
 */
#include "core/filsig.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <blake2.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "core/error.h"

#include "core/banned.h"

static pthread_once_t selftest_once = PTHREAD_ONCE_INIT;

static void selftest(void)
{
	/* Aborts on a miscompiled library, as it should: nothing signed
	 * or verified by it could be trusted. */
	secp256k1_selftest();
}

const char *filsig_type_name(uint8_t type)
{
	switch (type) {
	case FILSIG_SECP256K1:
		return "secp256k1";
	case FILSIG_BLS:
		return "bls";
	case FILSIG_DELEGATED:
		return "delegated";
	default:
		return "unknown";
	}
}

static size_t type_len(uint8_t type)
{
	switch (type) {
	case FILSIG_SECP256K1:
		return FILSIG_SECP256K1_LEN;
	case FILSIG_BLS:
		return FILSIG_BLS_LEN;
	case FILSIG_DELEGATED:
		return FILSIG_DELEGATED_LEN;
	default:
		return 0;
	}
}

size_t filsig_to_bytes(uint8_t *out, const struct filsig *s)
{
	out[0] = s->type;
	memcpy(out + 1, s->data, s->len);
	return 1 + s->len;
}

int filsig_from_bytes(struct filsig *out, const uint8_t *p, size_t len)
{
	size_t want;

	if (len == 0)
		return efs_error_set(EFS_ECORRUPT, "signature: empty");
	if ((want = type_len(p[0])) == 0)
		return efs_error_set(EFS_ECORRUPT,
				     "signature: unknown type %u", p[0]);
	if (len - 1 != want)
		return efs_error_set(EFS_ECORRUPT,
				     "signature: %s signature of %zu bytes, "
				     "not %zu", filsig_type_name(p[0]),
				     len - 1, want);
	out->type = p[0];
	out->len = want;
	memcpy(out->data, p + 1, want);
	return 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* The uncompressed public key that made sig over digest. */
static int recover_pubkey(uint8_t pub[65], const struct filsig *sig,
			  const uint8_t digest[32])
{
	const secp256k1_context *ctx = secp256k1_context_static;
	secp256k1_ecdsa_recoverable_signature rs;
	secp256k1_pubkey pk;
	size_t publen = 65;
	int recid;

	if (sig->type != FILSIG_SECP256K1)
		return efs_error_set(EFS_EUNSUPPORTED, "signature: cannot "
				     "recover a key from a %s signature",
				     filsig_type_name(sig->type));
	if (sig->len != FILSIG_SECP256K1_LEN)
		return efs_error_set(EFS_ECORRUPT, "signature: secp256k1 "
				     "signature of %zu bytes, not 65",
				     sig->len);
	if (all_zero(sig->data, 32) || all_zero(sig->data + 32, 32))
		return efs_error_set(EFS_ECORRUPT,
				     "signature: r or s is zero");
	recid = sig->data[64];
	if (recid > 3)
		return efs_error_set(EFS_ECORRUPT, "signature: recovery id "
				     "%d out of range 0..3", recid);
	pthread_once(&selftest_once, selftest);
	if (!secp256k1_ecdsa_recoverable_signature_parse_compact(
		    ctx, &rs, sig->data, recid))
		return efs_error_set(EFS_ECORRUPT, "signature: r or s not "
				     "below the group order");
	if (!secp256k1_ecdsa_recover(ctx, &pk, &rs, digest))
		return efs_error_set(EFS_ECORRUPT, "signature: no public key "
				     "recoverable from it");
	secp256k1_ec_pubkey_serialize(ctx, pub, &publen, &pk,
				      SECP256K1_EC_UNCOMPRESSED);
	return 0;
}

int filsig_recover(struct filaddr *out, const struct filsig *sig,
		   const void *msg, size_t len)
{
	uint8_t digest[32], pub[65];
	int rc;

	if (blake2b(digest, msg, NULL, sizeof(digest), len, 0) < 0)
		return efs_error_set(EFS_ERROR, "blake2b failed");
	if ((rc = recover_pubkey(pub, sig, digest)) < 0)
		return rc;
	return filaddr_init_secp256k1(out, pub, sizeof(pub));
}

int filsig_verify(const struct filsig *sig, const struct filaddr *signer,
		  const void *msg, size_t len)
{
	struct filaddr got;
	char want_s[FILADDR_STR_MAX];
	int rc;

	if (signer->protocol == FILADDR_ID)
		return efs_error_set(EFS_EINVAL, "signature: resolve the ID "
				     "address f0%llu to its key address "
				     "before verifying",
				     (unsigned long long)signer->id);
	if (sig->type != FILSIG_SECP256K1)
		return efs_error_set(EFS_EUNSUPPORTED, "signature: cannot "
				     "verify %s signatures (not built)",
				     filsig_type_name(sig->type));
	if ((rc = filsig_recover(&got, sig, msg, len)) < 0)
		return rc;
	if (filaddr_equal(&got, signer))
		return 0;
	/* The recovered key says nothing useful when the message is not
	 * the signed one, so the message names only the expected signer. */
	filaddr_format(want_s, signer, 'f');
	return efs_error_set(EFS_EMISMATCH, "signature: not %s's signature "
			     "of this message", want_s);
}
