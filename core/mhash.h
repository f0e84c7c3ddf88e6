/*
 * mhash.h - multihash function codes and one-shot hashing.
 *
 * sha2-256 comes from libcrypto (which uses the CPU's SHA extensions),
 * blake2b-256 from libb2.  identity copies its input (at most
 * MHASH_DIGEST_MAX bytes).
 */
#ifndef EFS_MHASH_H
#define EFS_MHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mhash_code {
	MHASH_IDENTITY = 0x00,
	MHASH_SHA2_256 = 0x12,
	MHASH_MURMUR3_X64_64 = 0x22, /* HAMT hashType only, never in a CID */
	MHASH_FR32_SHA256_TRUNC254_PADBINTREE = 0x1011, /* piece CID v2 */
	MHASH_SHA2_256_TRUNC254_PADDED = 0x1012,        /* piece CID v1 */
	MHASH_BLAKE2B_256 = 0xb220,
};

/* Largest digest held in a struct cid (UnixFS caps identity at 128). */
#define MHASH_DIGEST_MAX 128

/* True when mhash_compute can produce this function. */
bool mhash_can_compute(uint64_t code);

/*
 * The fixed digest length of a function, or 0 for variable-length ones
 * (identity, fr32-sha256-trunc254-padbintree) and unknown codes.
 */
size_t mhash_digest_size(uint64_t code);

/*
 * Hash len bytes at data with function code into out (room for
 * MHASH_DIGEST_MAX bytes); the digest length goes to out_len.
 * Returns 0, EFS_EUNSUPPORTED (cannot compute code) or EFS_ETOOBIG
 * (identity input over MHASH_DIGEST_MAX).  Thread-safe.
 */
int mhash_compute(uint8_t *out, size_t *out_len, uint64_t code,
		  const void *data, size_t len);

/* Canonical multicodec-table name ("sha2-256"), or NULL if unknown. */
const char *mhash_name(uint64_t code);

/* Code of a name from the multicodec table; EFS_EINVAL if unknown. */
int mhash_from_name(uint64_t *out, const char *name);

/*
 * FNV-1a (64-bit) of p[0..len): the slot hash of the in-memory tables
 * keyed by multihash bytes (memstore, the CAR exporter's set, the
 * blockstore's batches).  The keys are digests already, so a cheap mix
 * is enough.  Not a multihash function.
 */
uint64_t mhash_fnv1a(const uint8_t *p, size_t len);

#endif
