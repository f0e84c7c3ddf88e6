/*
 * filkey.h - secp256k1 keys as Filecoin uses them: the key pair behind
 * an f1 address, signing by Filecoin's rules, and Lotus's key-info
 * import/export format.
 *
 * A key is 32 bytes of private scalar; its public key is the 65-byte
 * uncompressed point (0x04 || X || Y) and its address the f1 address of
 * that (blake2b-160).  Signing hashes the message with blake2b-256 and
 * makes a recoverable ECDSA signature with RFC 6979 deterministic nonces
 * and low s (libsecp256k1's defaults), so the same key and message
 * always give the same 65 bytes r || s || recovery id, the bytes
 * @noble/curves and the secp256k1 npm package make.  Verification lives
 * in core/filsig.h.
 *
 * Key-info (chain/types/keystore.go in Lotus) is the JSON
 *
 *	{"Type":"secp256k1","PrivateKey":"<standard base64, padded>"}
 *
 * and `lotus wallet export` prints it hex-encoded: that hex is what
 * filkey_keyinfo_format writes and what the wallet stores.
 *
 * Secrets: struct filkey holds the private key in the clear; release
 * every filkey with filkey_release, which wipes it (explicit_bzero).
 * Functions here never log.  A struct filkey is a plain value owned by
 * its user; all functions are reentrant and thread-safe.
 */
#ifndef EFS_FILKEY_H
#define EFS_FILKEY_H

#include <stddef.h>
#include <stdint.h>

#include "core/filaddr.h"
#include "core/filsig.h"

#define FILKEY_PRIVATE_LEN 32
#define FILKEY_PUBLIC_LEN 65

/* Room for the key-info hex filkey_keyinfo_format writes, NUL included. */
#define FILKEY_KEYINFO_MAX 256

/* Longest key-info text filkey_keyinfo_parse reads (hex or JSON). */
#define FILKEY_KEYINFO_IN_MAX 4096

struct filkey {
	uint8_t priv[FILKEY_PRIVATE_LEN]; /* the secret scalar, big-endian */
	uint8_t pub[FILKEY_PUBLIC_LEN];   /* 0x04 || X || Y */
	struct filaddr addr;              /* its f1 address */
};

/*
 * A new key from getrandom(2), drawn again until it is a valid scalar
 * (non-zero, below the group order).  Returns 0 or EFS_EIO (no
 * randomness: the message says why).
 */
int filkey_generate(struct filkey *out);

/*
 * The key whose private scalar is priv[0..len), big-endian.  Returns 0
 * or EFS_ECORRUPT (len not 32, zero, or not below the group order).
 */
int filkey_import(struct filkey *out, const uint8_t *priv, size_t len);

/* Wipe k (all of it; it may be reused after filkey_generate/import). */
void filkey_release(struct filkey *k);

/*
 * Sign msg[0..len) as Lotus's secp signer does: out gets a type 1
 * signature over blake2b-256(msg).  Returns 0 or EFS_EIO (the signing
 * context could not be set up).
 */
int filkey_sign(struct filsig *out, const struct filkey *k, const void *msg,
		size_t len);

/*
 * Read a key from key-info text[0..len): the hex that `lotus wallet
 * export` prints, or the JSON itself (what `--format json-lotus` uses).
 * Surrounding white space is ignored.  As Lotus does, field names match
 * whatever their case, unknown fields are ignored and the deprecated
 * integer Type 1 means secp256k1.  Returns
 *	0                 out holds the key
 *	EFS_ECORRUPT      not hex of JSON, not one JSON object, Type or
 *	                  PrivateKey missing, repeated or of the wrong kind,
 *	                  bad base64, a key not of 32 bytes or not a valid
 *	                  scalar, an unknown key type
 *	EFS_EUNSUPPORTED  a "bls", "delegated" or "secp256k1-ledger" key
 *	EFS_ETOOBIG       text longer than FILKEY_KEYINFO_IN_MAX
 * It never allocates; its scratch copies of the secret are wiped, and
 * so is out on failure.  Error messages never quote the text.
 */
int filkey_keyinfo_parse(struct filkey *out, const char *text, size_t len);

/*
 * Write k's key-info as lower-case hex of the JSON above, byte for byte
 * what `lotus wallet export` prints (without its newline), into out
 * (room for FILKEY_KEYINFO_MAX), NUL-terminated.  Returns its length.
 * out holds the private key: wipe it after use.
 */
size_t filkey_keyinfo_format(char *out, const struct filkey *k);

#endif
