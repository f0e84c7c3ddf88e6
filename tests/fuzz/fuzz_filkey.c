/*
 * fuzz_filkey.c - Lotus key-info text and Filecoin signature bytes.
 * Every input is read both ways:
 *  - as key-info (hex or JSON): it must be refused cleanly, or give a key
 *    whose key-info, formatted and read back, is the same key, and which
 *    signs verifiably;
 *  - as a signature's byte form: a decoded signature re-encodes to the
 *    input, and verifying it (and recovering its signer) over a fixed
 *    message fails cleanly or succeeds consistently.  The first 65 bytes
 *    are also tried directly as a secp256k1 signature, so the fuzzer
 *    reaches recovery without first finding the type byte.
 * An inconsistency aborts so libFuzzer reports it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/filkey.h"
#include "core/filsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char msg[] = "estuaryfs fuzz message";

static void check_keyinfo(const uint8_t *data, size_t size)
{
	char text[FILKEY_KEYINFO_MAX];
	struct filkey k, back;
	struct filsig sig;
	int rc = filkey_keyinfo_parse(&k, (const char *)data, size);

	if (rc != 0) {
		if (rc != EFS_ECORRUPT && rc != EFS_EUNSUPPORTED &&
		    rc != EFS_ETOOBIG)
			abort();
		return;
	}
	filkey_keyinfo_format(text, &k);
	if (filkey_keyinfo_parse(&back, text, strlen(text)) != 0 ||
	    memcmp(k.priv, back.priv, sizeof(k.priv)) ||
	    !filaddr_equal(&k.addr, &back.addr))
		abort();
	if (filkey_sign(&sig, &k, msg, sizeof(msg)) != 0 ||
	    filsig_verify(&sig, &k.addr, msg, sizeof(msg)) != 0)
		abort();
	filkey_release(&k);
	filkey_release(&back);
}

/* Verify sig as a signature of msg by the key whose address recovery
 * gives, and by a fixed other address: both answers must agree. */
static void check_verify(const struct filsig *sig)
{
	struct filaddr signer, other;
	int rc;

	filaddr_init_id(&other, 1);
	if (filsig_verify(sig, &other, msg, sizeof(msg)) != EFS_EINVAL)
		abort();
	rc = filsig_recover(&signer, sig, msg, sizeof(msg));
	if (rc != 0) {
		if (rc != EFS_ECORRUPT && rc != EFS_EUNSUPPORTED)
			abort();
		return;
	}
	if (filsig_verify(sig, &signer, msg, sizeof(msg)) != 0)
		abort();
	signer.payload[0] ^= 1;
	if (filsig_verify(sig, &signer, msg, sizeof(msg)) != EFS_EMISMATCH)
		abort();
}

static void check_sig(const uint8_t *data, size_t size)
{
	uint8_t out[FILSIG_BYTES_MAX];
	struct filsig sig;

	if (filsig_from_bytes(&sig, data, size) == 0) {
		if (filsig_to_bytes(out, &sig) != size ||
		    memcmp(out, data, size))
			abort();
		check_verify(&sig);
	}
	if (size >= FILSIG_SECP256K1_LEN) {
		sig.type = FILSIG_SECP256K1;
		sig.len = FILSIG_SECP256K1_LEN;
		memcpy(sig.data, data, FILSIG_SECP256K1_LEN);
		check_verify(&sig);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_keyinfo(data, size);
	check_sig(data, size);
	return 0;
}
