/*
 * filaddr.h - Filecoin addresses: f0 (ID), f1 (secp256k1), f2 (actor),
 * f3 (BLS), f4 (delegated, f410f... for Ethereum), string and byte forms.
 *
 * Byte form (what CBOR carries): protocol byte, then the payload: for f0 an
 * unsigned LEB128 varint of the actor ID; f1/f2 a 20-byte blake2b-160
 * hash; f3 a 48-byte BLS public key; f4 varint(namespace) then the
 * subaddress (at most 54 bytes).
 *
 * String form: network letter ('f' mainnet, 't' testnet), protocol digit,
 * then for f0 the decimal ID, for f4 the decimal namespace and 'f', and for
 * the others lower-case RFC 4648 base32 without padding of payload ||
 * checksum, where checksum = blake2b-32 (4 bytes) of the byte form.
 *
 * struct filaddr is a plain value (copy it with =).  All functions are
 * reentrant.
 */
#ifndef EFS_FILADDR_H
#define EFS_FILADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

enum filaddr_protocol {
	FILADDR_ID = 0,
	FILADDR_SECP256K1 = 1,
	FILADDR_ACTOR = 2,
	FILADDR_BLS = 3,
	FILADDR_DELEGATED = 4,
};

/* Longest payload: f4 varint namespace (10) + 54-byte subaddress. */
#define FILADDR_PAYLOAD_MAX 64
/* Longest byte form: protocol byte + payload. */
#define FILADDR_BYTES_MAX (1 + FILADDR_PAYLOAD_MAX)
/* Room for any address string, NUL included. */
#define FILADDR_STR_MAX 128
/* Longest string filaddr_parse accepts (go-address MaxAddressStringLength). */
#define FILADDR_STR_LEN_MAX 115
/* f2 and f1 payloads: blake2b-160. */
#define FILADDR_HASH_LEN 20
/* f3 payload: a BLS public key. */
#define FILADDR_BLS_LEN 48
/* Longest f4 subaddress. */
#define FILADDR_SUBADDR_MAX 54
/* The f4 namespace of Ethereum addresses (the EAM actor, f010). */
#define FILADDR_NS_EAM 10

struct filaddr {
	enum filaddr_protocol protocol;
	uint64_t id;              /* FILADDR_ID: the actor ID */
	uint64_t ns;              /* FILADDR_DELEGATED: the namespace */
	size_t len;               /* bytes in payload */
	/*
	 * The protocol's payload as it follows the protocol byte in the
	 * byte form (for f0 the ID varint, for f4 the namespace varint and
	 * subaddress), so that byte form = protocol || payload.
	 */
	uint8_t payload[FILADDR_PAYLOAD_MAX];
};

/* An ID address f0<id>; id must be at most 2^63-1 (asserted). */
void filaddr_init_id(struct filaddr *out, uint64_t id);

/*
 * The f1 address of a secp256k1 public key: blake2b-160 of the 65-byte
 * uncompressed key (0x04 || X || Y).  Returns 0 or EFS_EINVAL (len not 65
 * or first byte not 0x04).
 */
int filaddr_init_secp256k1(struct filaddr *out, const uint8_t *pubkey,
			   size_t len);

/*
 * The f2 address of an actor: blake2b-160 of data[0..len) (go-address
 * NewActorAddress).
 */
void filaddr_init_actor(struct filaddr *out, const uint8_t *data,
			size_t len);

/* The f3 address of a 48-byte BLS public key.  0 or EFS_EINVAL. */
int filaddr_init_bls(struct filaddr *out, const uint8_t *pubkey, size_t len);

/*
 * The f4 address of subaddress sub[0..len) in namespace ns (an Ethereum
 * address is ns FILADDR_NS_EAM with its 20 bytes: f410f...).  Returns 0
 * or EFS_EINVAL (ns over 2^63-1, len over FILADDR_SUBADDR_MAX).
 */
int filaddr_init_delegated(struct filaddr *out, uint64_t ns,
			   const uint8_t *sub, size_t len);

/*
 * Parse the string form s[0..len) by go-address' rules: at most
 * FILADDR_STR_LEN_MAX characters; f0 and the f4 namespace are 1 to 19
 * decimal digits (leading zeros allowed, as strconv.ParseUint does) up to
 * 2^63-1; the rest is canonical lower-case base32 with no padding.  The
 * network letter ('f' or 't') goes to net when net is not NULL.  Returns 0
 * or EFS_EINVAL with a message naming the problem (unknown network or
 * protocol, bad base32, wrong payload length, checksum mismatch, ID over
 * 2^63-1, ...).  go-address' "<empty>" (Undef) is not an address here.
 */
int filaddr_parse(struct filaddr *out, char *net, const char *s, size_t len);

/*
 * Write the string form with network letter net ('f' or 't') into out
 * (room for FILADDR_STR_MAX, NUL-terminated).  Returns the string length.
 */
size_t filaddr_format(char *out, const struct filaddr *a, char net);

/* Write the byte form (room for FILADDR_BYTES_MAX); returns its length. */
size_t filaddr_to_bytes(uint8_t *out, const struct filaddr *a);

/*
 * Decode the byte form p[0..len), all of it.  Returns 0 or EFS_ECORRUPT
 * (empty, unknown protocol, wrong payload length, non-minimal, over-long
 * or trailing varint bytes).
 */
int filaddr_from_bytes(struct filaddr *out, const uint8_t *p, size_t len);

/* Whether a and b are the same address (protocol and payload). */
bool filaddr_equal(const struct filaddr *a, const struct filaddr *b);

#endif
