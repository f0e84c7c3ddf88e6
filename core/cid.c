/*
 * cid.c - CID binary and string forms (see cid.h).
 */
#include "core/cid.h"

#include <string.h>

#include "core/error.h"
#include "core/mbase.h"
#include "core/varint.h"

#include "core/banned.h"

int cid_init(struct cid *out, int version, uint64_t codec, uint64_t hash,
	     const uint8_t *digest, size_t len)
{
	size_t fixed = mhash_digest_size(hash);

	if (version != 0 && version != 1)
		return efs_error_set(EFS_EINVAL, "cid version %d", version);
	if (version == 0 &&
	    (codec != CID_CODEC_DAG_PB || hash != MHASH_SHA2_256 || len != 32))
		return efs_error_set(EFS_EINVAL,
				     "cidv0 must be dag-pb with sha2-256");
	/* Multiformats varints stop at 63 bits (VARINT_MF_MAX_LEN). */
	if (codec > INT64_MAX || hash > INT64_MAX)
		return efs_error_set(EFS_EINVAL,
				     "cid codes must fit in 63 bits");
	if (len > MHASH_DIGEST_MAX || (fixed && len != fixed))
		return efs_error_set(EFS_EINVAL,
				     "digest of %zu bytes for multihash 0x%llx",
				     len, (unsigned long long)hash);
	memset(out, 0, sizeof(*out));
	out->version = (uint8_t)version;
	out->codec = codec;
	out->hash = hash;
	out->digest_len = (uint8_t)len;
	if (len)
		memcpy(out->digest, digest, len);
	return 0;
}

int cid_hash(struct cid *out, int version, uint64_t codec, uint64_t hash,
	     const void *data, size_t len)
{
	uint8_t digest[MHASH_DIGEST_MAX];
	size_t dlen;
	int error;

	if ((error = mhash_compute(digest, &dlen, hash, data, len)) < 0)
		return error;
	return cid_init(out, version, codec, hash, digest, dlen);
}

int cid_verify(const struct cid *id, const void *data, size_t len)
{
	uint8_t digest[MHASH_DIGEST_MAX];
	size_t dlen;
	char s[CID_STR_MAX];
	bool match;
	int error;

	if (id->hash == MHASH_IDENTITY) {
		/* Not mhash_compute: too long is a mismatch, not ETOOBIG. */
		match = len == id->digest_len &&
			(!len || !memcmp(data, id->digest, len));
	} else {
		error = mhash_compute(digest, &dlen, id->hash, data, len);
		if (error < 0)
			return error;
		match = dlen == id->digest_len &&
			!memcmp(digest, id->digest, dlen);
	}
	if (!match)
		return efs_error_set(EFS_EMISMATCH,
				     "block does not hash to %s",
				     cid_tostr(s, id));
	return 0;
}

size_t cid_mh_to_bytes(uint8_t *out, const struct cid *id)
{
	size_t n = varint_encode(out, id->hash);

	n += varint_encode(out + n, id->digest_len);
	memcpy(out + n, id->digest, id->digest_len);
	return n + id->digest_len;
}

size_t cid_to_bytes(uint8_t *out, const struct cid *id)
{
	size_t n = 0;

	if (id->version == 1) {
		n = varint_encode(out, 1);
		n += varint_encode(out + n, id->codec);
	}
	return n + cid_mh_to_bytes(out + n, id);
}

size_t cid_size(const struct cid *id)
{
	size_t n = varint_size(id->hash) + varint_size(id->digest_len) +
		   id->digest_len;

	if (id->version == 1)
		n += 1 + varint_size(id->codec);
	return n;
}

static int decode_mh(struct cid *out, size_t *used, const uint8_t *p,
		     size_t len)
{
	uint64_t hash;
	uint64_t dlen;
	size_t n1;
	size_t n2;

	if (varint_decode(&hash, &n1, p, len) < 0 ||
	    varint_decode(&dlen, &n2, p + n1, len - n1) < 0)
		return efs_error_set(EFS_ECORRUPT, "cid: bad multihash header");
	if (dlen > MHASH_DIGEST_MAX)
		return efs_error_set(EFS_ECORRUPT,
				     "cid: digest of %llu bytes",
				     (unsigned long long)dlen);
	if (dlen > len - n1 - n2)
		return efs_error_set(EFS_ECORRUPT, "cid: truncated digest");
	out->hash = hash;
	out->digest_len = (uint8_t)dlen;
	memcpy(out->digest, p + n1 + n2, dlen);
	*used = n1 + n2 + dlen;
	return 0;
}

int cid_from_bytes(struct cid *out, size_t *used, const uint8_t *p,
		   size_t len)
{
	uint64_t version;
	uint64_t codec;
	size_t n1;
	size_t n2;
	size_t n3 = 0;
	size_t fixed;
	int error;

	memset(out, 0, sizeof(*out));
	if (len >= 2 && p[0] == 0x12 && p[1] == 0x20) {
		if (len < 34)
			return efs_error_set(EFS_ECORRUPT,
					     "cid: truncated cidv0");
		out->version = 0;
		out->codec = CID_CODEC_DAG_PB;
		out->hash = MHASH_SHA2_256;
		out->digest_len = 32;
		memcpy(out->digest, p + 2, 32);
		*used = 34;
		return 0;
	}
	if (varint_decode(&version, &n1, p, len) < 0)
		return efs_error_set(EFS_ECORRUPT, "cid: bad version varint");
	/* The spec reserves versions 2 and 3; any other is malformed. */
	if (version != 1)
		return efs_error_set(version == 2 || version == 3 ?
					     EFS_EUNSUPPORTED :
					     EFS_ECORRUPT,
				     "cid: version %llu",
				     (unsigned long long)version);
	if (varint_decode(&codec, &n2, p + n1, len - n1) < 0)
		return efs_error_set(EFS_ECORRUPT, "cid: bad codec varint");
	if ((error = decode_mh(out, &n3, p + n1 + n2, len - n1 - n2)) < 0)
		return error;
	fixed = mhash_digest_size(out->hash);
	if (fixed && out->digest_len != fixed)
		return efs_error_set(EFS_ECORRUPT,
				     "cid: %u-byte digest for %s",
				     out->digest_len, mhash_name(out->hash));
	out->version = 1;
	out->codec = codec;
	*used = n1 + n2 + n3;
	return 0;
}

int cid_from_bytes_exact(struct cid *out, const uint8_t *p, size_t len)
{
	size_t used;
	int error = cid_from_bytes(out, &used, p, len);

	if (error < 0)
		return error;
	if (used != len)
		return efs_error_set(EFS_ECORRUPT,
				     "cid: %zu trailing bytes", len - used);
	return 0;
}

int cid_parse_n(struct cid *out, const char *s, size_t len)
{
	uint8_t bytes[CID_BYTES_MAX];
	/* No multibase uses 'Q': base58btc without a prefix is a CIDv0. */
	bool v0 = len > 0 && s[0] == 'Q';
	long n;
	int error;

	if (v0)
		n = mbase_base58_decode(bytes, sizeof(bytes), s, len);
	else
		n = mbase_decode(bytes, sizeof(bytes), s, len);
	if (n < 0)
		error = (int)n;
	else if (v0 != (n > 0 && bytes[0] == 0x12))
		/* A multibase string holds a CIDv1, never a bare multihash. */
		error = EFS_ECORRUPT;
	else
		error = cid_from_bytes_exact(out, bytes, (size_t)n);
	if (error < 0)
		return efs_error_set(error == EFS_EUNSUPPORTED ? error :
								 EFS_ECORRUPT,
				     "invalid cid '%.*s'",
				     (int)(len > 80 ? 80 : len), s);
	return 0;
}

int cid_parse(struct cid *out, const char *s)
{
	return cid_parse_n(out, s, strlen(s));
}

long cid_format(char *out, size_t cap, const struct cid *id, char base)
{
	uint8_t bytes[CID_BYTES_MAX];
	size_t n = cid_to_bytes(bytes, id);

	if (id->version == 0)
		return mbase_base58_encode(out, cap, bytes, n);
	return mbase_encode(out, cap, base, bytes, n);
}

char *cid_tostr(char *buf, const struct cid *id)
{
	if (cid_format(buf, CID_STR_MAX, id, 'b') < 0)
		buf[0] = '\0';
	return buf;
}

int cid_compare(const struct cid *a, const struct cid *b)
{
	size_t n;
	int c;

	if (a->version != b->version)
		return a->version < b->version ? -1 : 1;
	if (a->codec != b->codec)
		return a->codec < b->codec ? -1 : 1;
	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	n = a->digest_len < b->digest_len ? a->digest_len : b->digest_len;
	if ((c = memcmp(a->digest, b->digest, n)))
		return c;
	return (a->digest_len > b->digest_len) - (a->digest_len < b->digest_len);
}

bool cid_equal(const struct cid *a, const struct cid *b)
{
	return cid_compare(a, b) == 0;
}

bool cid_mh_equal(const struct cid *a, const struct cid *b)
{
	return a->hash == b->hash && a->digest_len == b->digest_len &&
	       !memcmp(a->digest, b->digest, a->digest_len);
}

struct cid cid_to_v1(const struct cid *id)
{
	struct cid v1 = *id;

	v1.version = 1;
	return v1;
}

bool cid_is_identity(const struct cid *id)
{
	return id->hash == MHASH_IDENTITY;
}

const char *cid_codec_name(uint64_t codec)
{
	switch (codec) {
	case CID_CODEC_RAW:
		return "raw";
	case CID_CODEC_DAG_PB:
		return "dag-pb";
	case CID_CODEC_DAG_CBOR:
		return "dag-cbor";
	case CID_CODEC_FIL_COMMITMENT_UNSEALED:
		return "fil-commitment-unsealed";
	default:
		return NULL;
	}
}
