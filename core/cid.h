/*
 * cid.h - content identifiers, v0 and v1: binary and string forms.
 *
 * A struct cid is a plain value (copy it with =).  CIDv0 is the bare
 * sha2-256 multihash of a dag-pb block, written in base58btc without a
 * multibase prefix ("Qm...").  CIDv1 is varint(1) varint(codec) multihash,
 * written in lower-case base32 with prefix 'b' by default.
 *
 * All functions are reentrant: they write only into the caller's memory.
 */
#ifndef EFS_CID_H
#define EFS_CID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mhash.h"

enum cid_codec {
	CID_CODEC_RAW = 0x55,
	CID_CODEC_DAG_PB = 0x70,
	CID_CODEC_DAG_CBOR = 0x71,
	CID_CODEC_FIL_COMMITMENT_UNSEALED = 0xf101,
};

struct cid {
	uint8_t version;       /* 0 or 1 */
	uint8_t digest_len;    /* bytes in digest */
	uint64_t codec;        /* multicodec of the block */
	uint64_t hash;         /* multihash function code */
	uint8_t digest[MHASH_DIGEST_MAX];
};

/* Longest binary CID: 1 + 2 varints + digest. */
#define CID_BYTES_MAX (1 + 3 * 10 + MHASH_DIGEST_MAX)
/* Longest multihash: code and length varints + digest. */
#define CID_MH_BYTES_MAX (2 * 10 + MHASH_DIGEST_MAX)
/* Room for any CID string, NUL included. */
#define CID_STR_MAX 256

/*
 * Build a CID from its parts.  Returns 0 or EFS_EINVAL (version other
 * than 0/1; v0 that is not dag-pb + sha2-256 + 32 bytes; codec or hash
 * over 63 bits; digest length wrong for a fixed-size hash or over
 * MHASH_DIGEST_MAX).
 */
int cid_init(struct cid *out, int version, uint64_t codec, uint64_t hash,
	     const uint8_t *digest, size_t len);

/*
 * Hash data with function hash and build the CID naming it.  Returns 0,
 * EFS_EINVAL as cid_init, EFS_EUNSUPPORTED or EFS_ETOOBIG as
 * mhash_compute.
 */
int cid_hash(struct cid *out, int version, uint64_t codec, uint64_t hash,
	     const void *data, size_t len);

/*
 * Check that data hashes to id (for an identity CID: equals its digest).
 * Returns 0, EFS_EMISMATCH (message names the CID) or EFS_EUNSUPPORTED (a
 * hash this build cannot compute).
 */
int cid_verify(const struct cid *id, const void *data, size_t len);

/* Length of the binary form. */
size_t cid_size(const struct cid *id);

/* Write the binary form (room for CID_BYTES_MAX); returns its length. */
size_t cid_to_bytes(uint8_t *out, const struct cid *id);

/* Write the multihash (room for CID_MH_BYTES_MAX); returns its length. */
size_t cid_mh_to_bytes(uint8_t *out, const struct cid *id);

/*
 * Decode a binary CID at the start of p[0..len) (a v0 CID is recognised by
 * its leading 12 20).  The bytes consumed go to used.  Returns 0,
 * EFS_ECORRUPT (truncated or malformed) or EFS_EUNSUPPORTED (version 2 or
 * 3, which the CID spec reserves).
 */
int cid_from_bytes(struct cid *out, size_t *used, const uint8_t *p,
		   size_t len);

/* As cid_from_bytes, but all len bytes must be the CID. */
int cid_from_bytes_exact(struct cid *out, const uint8_t *p, size_t len);

/*
 * Parse a CID string: "Qm..." (v0) or any multibase CIDv1 this build
 * decodes.  Returns 0, EFS_ECORRUPT or EFS_EUNSUPPORTED (a multibase this
 * build does not decode, or a reserved CID version); the message quotes
 * the string.
 */
int cid_parse(struct cid *out, const char *s);

/* As cid_parse, for the first len chars of s. */
int cid_parse_n(struct cid *out, const char *s, size_t len);

/*
 * The string form: base58btc for v0, base32 ('b') for v1.  Writes into
 * buf (CID_STR_MAX bytes) and returns buf, so it can be used in printf
 * arguments.  Never fails.
 */
char *cid_tostr(char *buf, const struct cid *id);

/*
 * The string form in a chosen multibase (v1 only; v0 is always base58),
 * NUL-terminated in out[0..cap).  Returns the length, or EFS_EINVAL for an
 * unknown base, EFS_ETOOBIG when cap is too small (CID_STR_MAX is enough
 * for 'b', 'B' and 'z').
 */
long cid_format(char *out, size_t cap, const struct cid *id, char base);

/* Total order: version, codec, hash, digest. */
int cid_compare(const struct cid *a, const struct cid *b);
bool cid_equal(const struct cid *a, const struct cid *b);

/* True when both name the same multihash (v0 and v1 of one block). */
bool cid_mh_equal(const struct cid *a, const struct cid *b);

/* The CIDv1 with the same codec and multihash. */
struct cid cid_to_v1(const struct cid *id);

/* True for an identity CID: its data is the digest, there is no block. */
bool cid_is_identity(const struct cid *id);

/* Name of a codec from the multicodec table ("dag-pb"), or NULL. */
const char *cid_codec_name(uint64_t codec);

#endif
