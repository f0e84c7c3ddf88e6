/*
 * mhash.c - multihash codes and hashing (see mhash.h).
 */
#include "core/mhash.h"

#include <string.h>

#include <blake2.h>
#include <openssl/sha.h>

#include "core/error.h"

#include "core/banned.h"

static const struct {
	uint64_t code;
	const char *name;
	size_t size;
	bool computable;
} hashes[] = {
	{ MHASH_IDENTITY, "identity", 0, true },
	{ MHASH_SHA2_256, "sha2-256", 32, true },
	{ MHASH_MURMUR3_X64_64, "murmur3-x64-64", 8, false },
	{ MHASH_FR32_SHA256_TRUNC254_PADBINTREE,
	  "fr32-sha256-trunc254-padbintree", 0, false },
	{ MHASH_SHA2_256_TRUNC254_PADDED, "sha2-256-trunc254-padded", 32,
	  false },
	{ MHASH_BLAKE2B_256, "blake2b-256", 32, true },
};

#define NHASHES (sizeof(hashes) / sizeof(hashes[0]))

static int find(uint64_t code)
{
	for (size_t i = 0; i < NHASHES; i++)
		if (hashes[i].code == code)
			return (int)i;
	return -1;
}

bool mhash_can_compute(uint64_t code)
{
	int i = find(code);

	return i >= 0 && hashes[i].computable;
}

size_t mhash_digest_size(uint64_t code)
{
	int i = find(code);

	return i >= 0 ? hashes[i].size : 0;
}

int mhash_compute(uint8_t *out, size_t *out_len, uint64_t code,
		  const void *data, size_t len)
{
	switch (code) {
	case MHASH_SHA2_256:
		SHA256(data, len, out);
		*out_len = 32;
		return 0;
	case MHASH_BLAKE2B_256:
		if (blake2b(out, data, NULL, 32, len, 0) < 0)
			return efs_error_set(EFS_ERROR, "blake2b failed");
		*out_len = 32;
		return 0;
	case MHASH_IDENTITY:
		if (len > MHASH_DIGEST_MAX)
			return efs_error_set(EFS_ETOOBIG,
					     "identity hash of %zu bytes (max %d)",
					     len, MHASH_DIGEST_MAX);
		if (len)
			memcpy(out, data, len);
		*out_len = len;
		return 0;
	default:
		return efs_error_set(EFS_EUNSUPPORTED,
				     "cannot compute multihash 0x%llx",
				     (unsigned long long)code);
	}
}

const char *mhash_name(uint64_t code)
{
	int i = find(code);

	return i >= 0 ? hashes[i].name : NULL;
}

int mhash_from_name(uint64_t *out, const char *name)
{
	for (size_t i = 0; i < NHASHES; i++) {
		if (!strcmp(hashes[i].name, name)) {
			*out = hashes[i].code;
			return 0;
		}
	}
	return efs_error_set(EFS_EINVAL, "unknown hash function '%s'", name);
}

uint64_t mhash_fnv1a(const uint8_t *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}
