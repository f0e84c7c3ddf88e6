/*
 * mbase.c - base32, base58btc, base16 and base64 multibase codecs (see
 * mbase.h).
 *
 * base58 is the textbook quadratic big-number conversion: CIDs are a few
 * dozen bytes, so simplicity wins.  Decoding is strict: characters outside
 * the alphabet and non-zero trailing bits are errors, so one string maps
 * to one byte sequence.
 */
#include "core/mbase.h"

#include <string.h>

#include "core/error.h"

#include "core/banned.h"

static const char b32_lower[] = "abcdefghijklmnopqrstuvwxyz234567";
static const char b32_upper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
static const char b58[] =
	"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
static const char hex_lower[] = "0123456789abcdef";
static const char hex_upper[] = "0123456789ABCDEF";

size_t mbase_base32_len(size_t n)
{
	return (n * 8 + 4) / 5;
}

size_t mbase_base58_maxlen(size_t n)
{
	/* log(256) / log(58) < 1.37 */
	return n * 137 / 100 + 1;
}

static long too_small(void)
{
	return efs_error_set(EFS_ETOOBIG, "multibase output buffer too small");
}

/*
 * RFC 4648's codecs whose characters each carry width bits (base32: 5,
 * base64: 6): bytes go into the bottom of an accumulator and characters
 * come out of its top.  The encoder pads the last character's bits with
 * zeros and then writes '=' up to n characters.
 */
static long bits_encode(char *out, size_t cap, const char *alpha,
			int width, size_t n, const uint8_t *in, size_t len)
{
	uint32_t mask = (1u << width) - 1;
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;

	if (n + 1 > cap)
		return too_small();
	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= width) {
			bits -= width;
			out[o++] = alpha[(acc >> bits) & mask];
		}
	}
	if (bits)
		out[o++] = alpha[(acc << (width - bits)) & mask];
	while (o < n)
		out[o++] = '=';
	out[o] = '\0';
	return (long)o;
}

/*
 * The decoder of bits_encode, without padding: every character must be
 * in alpha, and what is left over at the end must be fewer bits than a
 * character (else the length is impossible) and all zero.  name
 * ("base32") goes into the error messages.
 */
static long bits_decode(uint8_t *out, size_t cap, const char *alpha,
			int width, const char *s, size_t slen,
			const char *name)
{
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;

	for (size_t i = 0; i < slen; i++) {
		const char *p = s[i] ? memchr(alpha, s[i], 1u << width) : NULL;

		if (!p)
			return efs_error_set(EFS_ECORRUPT,
					     "invalid %s character", name);
		acc = (acc << width) | (uint32_t)(p - alpha);
		bits += width;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				return too_small();
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	if (bits >= width)
		return efs_error_set(EFS_ECORRUPT, "invalid %s length", name);
	if (acc & ((1u << bits) - 1))
		return efs_error_set(EFS_ECORRUPT, "invalid %s trailing bits",
				     name);
	return (long)o;
}

static long base32_encode(char *out, size_t cap, const char *alpha,
			  const uint8_t *in, size_t len)
{
	return bits_encode(out, cap, alpha, 5, mbase_base32_len(len), in,
			   len);
}

static long base32_decode(uint8_t *out, size_t cap, const char *alpha,
			  const char *s, size_t slen)
{
	return bits_decode(out, cap, alpha, 5, s, slen, "base32");
}

long mbase_base32_encode(char *out, size_t cap, const uint8_t *in,
			 size_t len)
{
	return base32_encode(out, cap, b32_lower, in, len);
}

long mbase_base32_decode(uint8_t *out, size_t cap, const char *s,
			 size_t slen)
{
	return base32_decode(out, cap, b32_lower, s, slen);
}

long mbase_base58_encode(char *out, size_t cap, const uint8_t *in,
			 size_t len)
{
	uint8_t digits[256];
	size_t ndigits = 0;
	size_t zeros = 0;
	size_t o = 0;

	if (mbase_base58_maxlen(len) > sizeof(digits))
		return too_small();
	while (zeros < len && in[zeros] == 0)
		zeros++;
	for (size_t i = zeros; i < len; i++) {
		unsigned carry = in[i];

		for (size_t j = 0; j < ndigits; j++) {
			carry += (unsigned)digits[j] << 8;
			digits[j] = (uint8_t)(carry % 58);
			carry /= 58;
		}
		while (carry) {
			digits[ndigits++] = (uint8_t)(carry % 58);
			carry /= 58;
		}
	}
	if (zeros + ndigits + 1 > cap)
		return too_small();
	for (size_t i = 0; i < zeros; i++)
		out[o++] = '1';
	while (ndigits)
		out[o++] = b58[digits[--ndigits]];
	out[o] = '\0';
	return (long)o;
}

long mbase_base58_decode(uint8_t *out, size_t cap, const char *s,
			 size_t slen)
{
	uint8_t bytes[256];
	size_t nbytes = 0;
	size_t zeros = 0;

	while (zeros < slen && s[zeros] == '1')
		zeros++;
	for (size_t i = zeros; i < slen; i++) {
		const char *p = s[i] ? memchr(b58, s[i], 58) : NULL;
		unsigned carry;

		if (!p)
			return efs_error_set(EFS_ECORRUPT,
					     "invalid base58 character");
		carry = (unsigned)(p - b58);
		for (size_t j = 0; j < nbytes; j++) {
			carry += (unsigned)bytes[j] * 58;
			bytes[j] = (uint8_t)carry;
			carry >>= 8;
		}
		while (carry) {
			if (nbytes == sizeof(bytes))
				return too_small();
			bytes[nbytes++] = (uint8_t)carry;
			carry >>= 8;
		}
	}
	if (zeros + nbytes > cap)
		return too_small();
	memset(out, 0, zeros);
	for (size_t i = 0; i < nbytes; i++)
		out[zeros + i] = bytes[nbytes - 1 - i];
	return (long)(zeros + nbytes);
}

int mbase_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static long base16_encode(char *out, size_t cap, const char *alpha,
			  const uint8_t *in, size_t len)
{
	if (len * 2 + 1 > cap)
		return too_small();
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = alpha[in[i] >> 4];
		out[2 * i + 1] = alpha[in[i] & 15];
	}
	out[len * 2] = '\0';
	return (long)(len * 2);
}

long mbase_hex_encode(char *out, size_t cap, const uint8_t *in, size_t len)
{
	return base16_encode(out, cap, hex_lower, in, len);
}

long mbase_hex_decode(uint8_t *out, size_t cap, const char *s, size_t slen)
{
	if (slen % 2)
		return efs_error_set(EFS_ECORRUPT, "odd-length base16");
	if (slen / 2 > cap)
		return too_small();
	for (size_t i = 0; i < slen; i += 2) {
		int hi = mbase_hex_value(s[i]);
		int lo = mbase_hex_value(s[i + 1]);

		if (hi < 0 || lo < 0)
			return efs_error_set(EFS_ECORRUPT,
					     "invalid base16 character");
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return (long)(slen / 2);
}

static long base16_decode(uint8_t *out, size_t cap, const char *alpha,
			  const char *s, size_t slen)
{
	if (slen % 2)
		return efs_error_set(EFS_ECORRUPT, "odd-length base16");
	if (slen / 2 > cap)
		return too_small();
	for (size_t i = 0; i < slen; i += 2) {
		const char *hi = s[i] ? memchr(alpha, s[i], 16) : NULL;
		const char *lo = s[i + 1] ? memchr(alpha, s[i + 1], 16) : NULL;

		if (!hi || !lo)
			return efs_error_set(EFS_ECORRUPT,
					     "invalid base16 character");
		out[i / 2] = (uint8_t)(((hi - alpha) << 4) | (lo - alpha));
	}
	return (long)(slen / 2);
}

static const char b64_std[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t mbase_base64_len(size_t n, bool pad)
{
	return pad ? (n + 2) / 3 * 4 : (n * 8 + 5) / 6;
}

static long base64_encode(char *out, size_t cap, const char *alpha,
			  bool pad, const uint8_t *in, size_t len)
{
	return bits_encode(out, cap, alpha, 6, mbase_base64_len(len, pad), in,
			   len);
}

/*
 * Strict: with pad, the length is a multiple of 4 and '=' appears only as
 * the one or two last characters that complete the final group; without
 * pad there is no '='.  Either way an impossible length (one character
 * left over) and non-zero trailing bits are errors.
 */
static long base64_decode(uint8_t *out, size_t cap, const char *alpha,
			  bool pad, const char *s, size_t slen)
{
	if (pad) {
		if (slen % 4)
			return efs_error_set(EFS_ECORRUPT,
					     "invalid base64 padding");
		for (int k = 0; k < 2 && slen && s[slen - 1] == '='; k++)
			slen--;
	}
	if (slen % 4 == 1)
		return efs_error_set(EFS_ECORRUPT, "invalid base64 length");
	return bits_decode(out, cap, alpha, 6, s, slen, "base64");
}

long mbase_base64_encode(char *out, size_t cap, const uint8_t *in,
			 size_t len)
{
	return base64_encode(out, cap, b64_std, true, in, len);
}

long mbase_base64_decode(uint8_t *out, size_t cap, const char *s,
			 size_t slen)
{
	return base64_decode(out, cap, b64_std, true, s, slen);
}

long mbase_base64url_encode(char *out, size_t cap, const uint8_t *in,
			    size_t len)
{
	return base64_encode(out, cap, b64_url, false, in, len);
}

long mbase_base64url_decode(uint8_t *out, size_t cap, const char *s,
			    size_t slen)
{
	return base64_decode(out, cap, b64_url, false, s, slen);
}

long mbase_encode(char *out, size_t cap, char prefix, const uint8_t *in,
		  size_t len)
{
	long n;

	if (cap < 2)
		return too_small();
	switch (prefix) {
	case 'b':
		n = base32_encode(out + 1, cap - 1, b32_lower, in, len);
		break;
	case 'B':
		n = base32_encode(out + 1, cap - 1, b32_upper, in, len);
		break;
	case 'z':
		n = mbase_base58_encode(out + 1, cap - 1, in, len);
		break;
	case 'f':
		n = base16_encode(out + 1, cap - 1, hex_lower, in, len);
		break;
	case 'F':
		n = base16_encode(out + 1, cap - 1, hex_upper, in, len);
		break;
	case 'm':
	case 'M':
		n = base64_encode(out + 1, cap - 1, b64_std, prefix == 'M', in,
				  len);
		break;
	case 'u':
	case 'U':
		n = base64_encode(out + 1, cap - 1, b64_url, prefix == 'U', in,
				  len);
		break;
	default:
		return efs_error_set(EFS_EINVAL, "unknown multibase '%c'",
				     prefix);
	}
	if (n < 0)
		return n;
	out[0] = prefix;
	return n + 1;
}

long mbase_decode(uint8_t *out, size_t cap, const char *s, size_t slen)
{
	if (slen < 1)
		return efs_error_set(EFS_ECORRUPT, "empty multibase string");
	switch (s[0]) {
	case 'b':
		return base32_decode(out, cap, b32_lower, s + 1, slen - 1);
	case 'B':
		return base32_decode(out, cap, b32_upper, s + 1, slen - 1);
	case 'z':
		return mbase_base58_decode(out, cap, s + 1, slen - 1);
	case 'f':
		return base16_decode(out, cap, hex_lower, s + 1, slen - 1);
	case 'F':
		return base16_decode(out, cap, hex_upper, s + 1, slen - 1);
	case 'm':
	case 'M':
		return base64_decode(out, cap, b64_std, s[0] == 'M', s + 1,
				     slen - 1);
	case 'u':
	case 'U':
		return base64_decode(out, cap, b64_url, s[0] == 'U', s + 1,
				     slen - 1);
	default:
		return efs_error_set(EFS_EUNSUPPORTED,
				     "unsupported multibase prefix '%c'", s[0]);
	}
}
