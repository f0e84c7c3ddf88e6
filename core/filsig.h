/*
 * filsig.h - Filecoin signatures: the typed value chain messages, deal
 * proposals and RPC replies carry, and their verification by Filecoin's
 * rules (Lotus lib/sigs: sigs.Verify and the secp256k1 signer).
 *
 * Byte form (what CBOR carries as a byte string, and what `lotus wallet
 * sign` prints in hex): the type byte, then the signature data.
 *
 *	type 1 secp256k1  65 bytes  r (32) || s (32) || recovery id (1),
 *	                            over blake2b-256 of the message
 *	type 2 BLS        96 bytes  a G2 point (verification not built)
 *	type 3 delegated  65 bytes  as secp256k1 but over keccak-256, for
 *	                            f4 Ethereum accounts (not built)
 *
 * A secp256k1 signature is checked the way go-crypto's EcRecover and
 * Lotus's secp Verify do it: recover the public key from the signature
 * and the digest, derive its f1 address and compare it with the expected
 * signer.  As there, r and s must lie in [1, n) and the recovery id in
 * [0, 3]; a high s (the malleable twin of a signature) is accepted, as
 * go-crypto accepts it.  Signing (core/filkey.h) always makes low-s
 * signatures.
 *
 * struct filsig is a plain value (copy it with =).  All functions are
 * reentrant and thread-safe.
 */
#ifndef EFS_FILSIG_H
#define EFS_FILSIG_H

#include <stddef.h>
#include <stdint.h>

#include "core/filaddr.h"

/* Signature types, as go-state-types crypto.SigType numbers them. */
enum filsig_type {
	FILSIG_SECP256K1 = 1,
	FILSIG_BLS = 2,
	FILSIG_DELEGATED = 3,
};

/* Data lengths of each type. */
#define FILSIG_SECP256K1_LEN 65
#define FILSIG_BLS_LEN 96
#define FILSIG_DELEGATED_LEN 65

/* Room for the data of any type, and for any byte form. */
#define FILSIG_DATA_MAX 96
#define FILSIG_BYTES_MAX (1 + FILSIG_DATA_MAX)

struct filsig {
	uint8_t type;                   /* enum filsig_type */
	size_t len;                     /* bytes in data */
	uint8_t data[FILSIG_DATA_MAX];
};

/*
 * Write the byte form (type || data) into out, which has room for
 * FILSIG_BYTES_MAX bytes; returns its length.  s must be well formed
 * (filsig_from_bytes or filkey_sign made it).
 */
size_t filsig_to_bytes(uint8_t *out, const struct filsig *s);

/*
 * Decode the byte form p[0..len), all of it.  Strict: the type must be
 * 1, 2 or 3 and the data exactly as long as that type's signatures.
 * Returns 0 or EFS_ECORRUPT (empty, unknown type, wrong length).  Nothing
 * is checked about the data itself: filsig_verify does that.
 */
int filsig_from_bytes(struct filsig *out, const uint8_t *p, size_t len);

/*
 * Check that sig is signer's signature of msg[0..len).  Returns
 *	0                 valid
 *	EFS_EMISMATCH     well formed, but not signer's signature of msg
 *	                  (another key, another message, or a recovery id
 *	                  that recovers another key)
 *	EFS_ECORRUPT      malformed: wrong length, r or s zero or >= n,
 *	                  recovery id over 3, no key recoverable
 *	EFS_EINVAL        signer is an ID address (f0): resolve it to its
 *	                  key address first, as Lotus requires
 *	EFS_EUNSUPPORTED  a BLS or delegated signature (no library built)
 */
int filsig_verify(const struct filsig *sig, const struct filaddr *signer,
		  const void *msg, size_t len);

/*
 * The f1 address whose key made the secp256k1 signature sig of
 * msg[0..len) (what a node does to learn a message's sender from its
 * signature alone).  Returns 0, EFS_ECORRUPT (as filsig_verify) or
 * EFS_EUNSUPPORTED (not a secp256k1 signature).
 */
int filsig_recover(struct filaddr *out, const struct filsig *sig,
		   const void *msg, size_t len);

/* A stable name of a signature type: "secp256k1", "bls", "delegated",
 * or "unknown". */
const char *filsig_type_name(uint8_t type);

#endif
