/*
 * filaddr.c - Filecoin addresses (see filaddr.h).
 *
 * The rules are go-address's (filecoin-project/go-address, address.go),
 * which Lotus and the built-in actors use:
 *
 *   1. A struct filaddr always holds a valid byte form: every constructor
 *      and both decoders check the payload as go-address' newAddress
 *      does (f0 a minimal varint of at most 9 bytes, f1/f2 20 bytes, f3
 *      48 bytes, f4 a minimal namespace varint and at most 54 bytes).
 *   2. The checksum of the string form is blake2b-32 over protocol ||
 *      payload, i.e. over the byte form, also for f4 (whose namespace is
 *      written in decimal but hashed as its varint).
 *   3. Base32 must be canonical: go-address re-encodes what it decoded and
 *      compares, which amounts to mbase's strict decoder (lower case only,
 *      no padding, no impossible lengths, zero trailing bits).
 *
 * Formatting cannot fail: the structs it is given are valid by (1).
 */
#include "core/filaddr.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <blake2.h>

#include "core/error.h"
#include "core/mbase.h"
#include "core/varint.h"

#include "core/banned.h"

#define CHECKSUM_LEN 4
/* Decimal digits of 2^63-1 (go-address MaxInt64StringLength). */
#define U63_DIGITS_MAX 19

static void hash(uint8_t *out, size_t outlen, const uint8_t *in, size_t len)
{
	int rc = blake2b(out, in, NULL, outlen, len, 0);

	/* libb2 fails only for bad lengths, which are constants here. */
	assert(rc == 0);
	(void)rc;
}

/* blake2b-32 of the byte form of a. */
static void checksum(uint8_t out[CHECKSUM_LEN], const struct filaddr *a)
{
	uint8_t bytes[FILADDR_BYTES_MAX];
	size_t n = filaddr_to_bytes(bytes, a);

	hash(out, CHECKSUM_LEN, bytes, n);
}

void filaddr_init_id(struct filaddr *out, uint64_t id)
{
	assert(id <= INT64_MAX);
	memset(out, 0, sizeof(*out));
	out->protocol = FILADDR_ID;
	out->id = id;
	out->len = varint_encode(out->payload, id);
}

static void init_hashed(struct filaddr *out, enum filaddr_protocol proto,
			const uint8_t *data, size_t len)
{
	memset(out, 0, sizeof(*out));
	out->protocol = proto;
	out->len = FILADDR_HASH_LEN;
	hash(out->payload, FILADDR_HASH_LEN, data, len);
}

int filaddr_init_secp256k1(struct filaddr *out, const uint8_t *pubkey,
			   size_t len)
{
	if (len != 65 || pubkey[0] != 0x04)
		return efs_error_set(EFS_EINVAL, "filaddr: not an "
				     "uncompressed secp256k1 public key");
	init_hashed(out, FILADDR_SECP256K1, pubkey, len);
	return 0;
}

void filaddr_init_actor(struct filaddr *out, const uint8_t *data, size_t len)
{
	init_hashed(out, FILADDR_ACTOR, data, len);
}

int filaddr_init_bls(struct filaddr *out, const uint8_t *pubkey, size_t len)
{
	if (len != FILADDR_BLS_LEN)
		return efs_error_set(EFS_EINVAL,
				     "filaddr: bls public key of %zu bytes", len);
	memset(out, 0, sizeof(*out));
	out->protocol = FILADDR_BLS;
	out->len = len;
	memcpy(out->payload, pubkey, len);
	return 0;
}

int filaddr_init_delegated(struct filaddr *out, uint64_t ns,
			   const uint8_t *sub, size_t len)
{
	size_t n;

	if (ns > INT64_MAX)
		return efs_error_set(EFS_EINVAL,
				     "filaddr: namespace must be less than 2^63");
	if (len > FILADDR_SUBADDR_MAX)
		return efs_error_set(EFS_EINVAL,
				     "filaddr: subaddress of %zu bytes", len);
	memset(out, 0, sizeof(*out));
	out->protocol = FILADDR_DELEGATED;
	out->ns = ns;
	n = varint_encode(out->payload, ns);
	if (len)
		memcpy(out->payload + n, sub, len);
	out->len = n + len;
	return 0;
}

/*
 * Check payload p[0..len) for protocol proto and fill out (rule 1).
 * Returns 0 or -1 with the reason in *why.
 */
static int set_payload(struct filaddr *out, unsigned proto, const uint8_t *p,
		       size_t len, const char **why)
{
	uint64_t v = 0;
	size_t used = 0;

	*why = "invalid address length";
	switch (proto) {
	case FILADDR_ID:
	case FILADDR_DELEGATED:
		if (varint_decode(&v, &used, p, len) < 0) {
			*why = "invalid varint in address payload";
			return -1;
		}
		if (proto == FILADDR_ID && used != len)
			return -1;
		if (proto == FILADDR_DELEGATED &&
		    len - used > FILADDR_SUBADDR_MAX)
			return -1;
		break;
	case FILADDR_SECP256K1:
	case FILADDR_ACTOR:
		if (len != FILADDR_HASH_LEN)
			return -1;
		break;
	case FILADDR_BLS:
		if (len != FILADDR_BLS_LEN)
			return -1;
		break;
	default:
		*why = "unknown address protocol";
		return -1;
	}
	memset(out, 0, sizeof(*out));
	out->protocol = (enum filaddr_protocol)proto;
	if (proto == FILADDR_ID)
		out->id = v;
	else if (proto == FILADDR_DELEGATED)
		out->ns = v;
	out->len = len;
	memcpy(out->payload, p, len);
	return 0;
}

int filaddr_from_bytes(struct filaddr *out, const uint8_t *p, size_t len)
{
	const char *why;

	if (len == 0)
		return efs_error_set(EFS_ECORRUPT, "filaddr: empty address");
	if (len == 1 || len > FILADDR_BYTES_MAX)
		return efs_error_set(EFS_ECORRUPT,
				     "filaddr: invalid address length %zu", len);
	if (set_payload(out, p[0], p + 1, len - 1, &why) < 0)
		return efs_error_set(EFS_ECORRUPT, "filaddr: %s", why);
	return 0;
}

size_t filaddr_to_bytes(uint8_t *out, const struct filaddr *a)
{
	assert(a->len <= FILADDR_PAYLOAD_MAX);
	out[0] = (uint8_t)a->protocol;
	memcpy(out + 1, a->payload, a->len);
	return 1 + a->len;
}

/* 1 to 19 decimal digits up to 2^63-1, as strconv.ParseUint(s, 10, 63). */
static int parse_u63(uint64_t *out, const char *s, size_t len,
		     const char *what)
{
	uint64_t v = 0;

	if (len > U63_DIGITS_MAX)
		return efs_error_set(EFS_EINVAL, "filaddr: %s too long", what);
	if (len == 0)
		return efs_error_set(EFS_EINVAL, "filaddr: empty %s", what);
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return efs_error_set(EFS_EINVAL,
					     "filaddr: invalid %s", what);
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	/* 19 digits stay below 2^64, so only the 63-bit limit is left. */
	if (v > INT64_MAX)
		return efs_error_set(EFS_EINVAL,
				     "filaddr: %s must be less than 2^63", what);
	*out = v;
	return 0;
}

/*
 * Decode the base32 of payload || checksum in s[0..len) into p (room for
 * FILADDR_PAYLOAD_MAX + CHECKSUM_LEN); the payload length goes to *plen.
 */
static int decode_b32(uint8_t *p, size_t *plen, uint8_t sum[CHECKSUM_LEN],
		      const char *s, size_t len)
{
	uint8_t raw[FILADDR_PAYLOAD_MAX + CHECKSUM_LEN];
	long n = mbase_base32_decode(raw, sizeof(raw), s, len);

	if (n == EFS_ETOOBIG)
		return efs_error_set(EFS_EINVAL,
				     "filaddr: invalid address length");
	if (n < 0)
		return efs_error_set(EFS_EINVAL, "filaddr: invalid base32: %s",
				     efs_error_msg());
	if (n < CHECKSUM_LEN)
		return efs_error_set(EFS_EINVAL,
				     "filaddr: invalid address length");
	*plen = (size_t)n - CHECKSUM_LEN;
	memcpy(p, raw, *plen);
	memcpy(sum, raw + *plen, CHECKSUM_LEN);
	return 0;
}

/* The part after "f4": "<ns>f<base32>", into payload p. */
static int parse_delegated(uint8_t *p, size_t *plen,
			   uint8_t sum[CHECKSUM_LEN], const char *s,
			   size_t len)
{
	uint8_t sub[FILADDR_PAYLOAD_MAX];
	const char *f = memchr(s, 'f', len);
	size_t nslen, sublen, n;
	uint64_t ns;
	int rc;

	if (!f)
		return efs_error_set(EFS_EINVAL,
				     "filaddr: delegated address without 'f'");
	nslen = (size_t)(f - s);
	if ((rc = parse_u63(&ns, s, nslen, "namespace")) < 0)
		return rc;
	rc = decode_b32(sub, &sublen, sum, f + 1, len - nslen - 1);
	if (rc < 0)
		return rc;
	if (sublen > FILADDR_SUBADDR_MAX)
		return efs_error_set(EFS_EINVAL,
				     "filaddr: subaddress of %zu bytes", sublen);
	n = varint_encode(p, ns);
	memcpy(p + n, sub, sublen);
	*plen = n + sublen;
	return 0;
}

int filaddr_parse(struct filaddr *out, char *net, const char *s, size_t len)
{
	uint8_t payload[FILADDR_PAYLOAD_MAX];
	uint8_t sum[CHECKSUM_LEN], want[CHECKSUM_LEN];
	struct filaddr a;
	const char *why;
	size_t plen = 0;
	uint64_t id;
	int rc;

	if (len < 3 || len > FILADDR_STR_LEN_MAX)
		return efs_error_set(EFS_EINVAL,
				     "filaddr: invalid address length %zu", len);
	if (s[0] != 'f' && s[0] != 't')
		return efs_error_set(EFS_EINVAL,
				     "filaddr: unknown address network");
	if (s[1] < '0' || s[1] > '4')
		return efs_error_set(EFS_EINVAL,
				     "filaddr: unknown address protocol");
	if (s[1] == '0') {
		if ((rc = parse_u63(&id, s + 2, len - 2, "actor id")) < 0)
			return rc;
		filaddr_init_id(out, id);
		goto out;
	}
	if (s[1] == '4')
		rc = parse_delegated(payload, &plen, sum, s + 2, len - 2);
	else
		rc = decode_b32(payload, &plen, sum, s + 2, len - 2);
	if (rc < 0)
		return rc;
	if (set_payload(&a, (unsigned)(s[1] - '0'), payload, plen, &why) < 0)
		return efs_error_set(EFS_EINVAL, "filaddr: %s", why);
	checksum(want, &a);
	if (memcmp(sum, want, CHECKSUM_LEN))
		return efs_error_set(EFS_EINVAL,
				     "filaddr: invalid address checksum");
	*out = a;
out:
	if (net)
		*net = s[0];
	return 0;
}

size_t filaddr_format(char *out, const struct filaddr *a, char net)
{
	uint8_t raw[FILADDR_PAYLOAD_MAX + CHECKSUM_LEN];
	const uint8_t *body = a->payload;
	size_t blen = a->len;
	int n;
	long m;

	assert(net == 'f' || net == 't');
	if (a->protocol == FILADDR_ID) {
		n = snprintf(out, FILADDR_STR_MAX, "%c0%" PRIu64, net, a->id);
		return (size_t)n;
	}
	if (a->protocol == FILADDR_DELEGATED) {
		size_t vlen = varint_size(a->ns);

		n = snprintf(out, FILADDR_STR_MAX, "%c4%" PRIu64 "f", net,
			     a->ns);
		body += vlen;
		blen -= vlen;
	} else {
		n = snprintf(out, FILADDR_STR_MAX, "%c%d", net,
			     (int)a->protocol);
	}
	memcpy(raw, body, blen);
	checksum(raw + blen, a);
	m = mbase_base32_encode(out + n, FILADDR_STR_MAX - (size_t)n, raw,
				blen + CHECKSUM_LEN);
	assert(m >= 0);
	return (size_t)n + (size_t)m;
}

bool filaddr_equal(const struct filaddr *a, const struct filaddr *b)
{
	return a->protocol == b->protocol && a->len == b->len &&
	       !memcmp(a->payload, b->payload, a->len);
}
