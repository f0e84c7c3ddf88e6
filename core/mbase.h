/*
 * mbase.h - multibase encodings used for CIDs: base32 (RFC 4648, no
 * padding; prefix 'b' lower case, 'B' upper case), base58btc (Bitcoin
 * alphabet; prefix 'z'), base16 (prefix 'f'/'F') and base64 (RFC 4648
 * §4 'm' unpadded, 'M' padded; §5 URL-safe 'u' unpadded, 'U' padded).
 * Bare base64 with padding is what Lotus JSON uses for byte arrays;
 * bare base64url without padding is what JWTs use.
 *
 * All functions are reentrant: they write only into the caller's buffers.
 */
#ifndef EFS_MBASE_H
#define EFS_MBASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The value of the hex digit c, either case (0-9, a-f, A-F), or -1. */
int mbase_hex_value(char c);

/*
 * Bare hex (base16 without a prefix), as Lotus prints key-info and
 * signatures.  The encoder writes lower case; the decoder takes either
 * case, as Go's hex.DecodeString does (unlike 'f'/'F', whose case must
 * match the prefix).  An odd length or a character that is not a hex
 * digit is EFS_ECORRUPT.  Same returns as mbase_encode/mbase_decode.
 */
long mbase_hex_encode(char *out, size_t cap, const uint8_t *in, size_t len);
long mbase_hex_decode(uint8_t *out, size_t cap, const char *s, size_t slen);

/* Characters needed to encode n bytes in a base (without prefix or NUL). */
size_t mbase_base32_len(size_t n);
size_t mbase_base58_maxlen(size_t n);
/* Characters of base64 for n bytes, with or without '=' padding. */
size_t mbase_base64_len(size_t n, bool pad);

/*
 * Encode len bytes as multibase with the given prefix ('b', 'B', 'z',
 * 'f', 'F', 'm', 'M', 'u', 'U') into out, NUL-terminated.  Returns the
 * string length, or a negative EFS_EINVAL (unknown prefix) / EFS_ETOOBIG
 * (cap too small).
 */
long mbase_encode(char *out, size_t cap, char prefix, const uint8_t *in,
		  size_t len);

/*
 * Decode a multibase string of slen chars (prefix included) into out.
 * Returns the number of bytes, or a negative EFS_ECORRUPT (bad character,
 * padding or trailing bits), EFS_EUNSUPPORTED (unknown prefix) or
 * EFS_ETOOBIG.
 */
long mbase_decode(uint8_t *out, size_t cap, const char *s, size_t slen);

/*
 * Bare base58btc (no prefix): CIDv0 strings.  Same returns as above; the
 * quadratic codec encodes at most 186 bytes and decodes at most 256 (past
 * leading zeros), so more is EFS_ETOOBIG whatever the cap.
 */
long mbase_base58_encode(char *out, size_t cap, const uint8_t *in,
			 size_t len);
long mbase_base58_decode(uint8_t *out, size_t cap, const char *s,
			 size_t slen);

/*
 * Bare lower-case base32 (RFC 4648 alphabet, no padding, no prefix), as
 * Filecoin addresses use it.  Decoding is as strict as for 'b': upper
 * case, padding, impossible lengths and non-zero trailing bits are
 * EFS_ECORRUPT.  Same returns as mbase_encode/mbase_decode.
 */
long mbase_base32_encode(char *out, size_t cap, const uint8_t *in,
			 size_t len);
long mbase_base32_decode(uint8_t *out, size_t cap, const char *s,
			 size_t slen);

/*
 * Bare base64 (no prefix).  mbase_base64_* is the standard alphabet
 * (A-Z a-z 0-9 + /) with '=' padding, as Go's base64.StdEncoding and so
 * Lotus JSON []byte; mbase_base64url_* the URL-safe alphabet (- _)
 * without padding, as JWT (base64.RawURLEncoding).  Decoding is strict,
 * stricter than Go's: no white space or line breaks, padding exactly as
 * the encoder writes it (required for base64, refused for base64url),
 * non-zero trailing bits refused, so one string maps to one byte
 * sequence.  Same returns as mbase_encode/mbase_decode.
 */
long mbase_base64_encode(char *out, size_t cap, const uint8_t *in,
			 size_t len);
long mbase_base64_decode(uint8_t *out, size_t cap, const char *s,
			 size_t slen);
long mbase_base64url_encode(char *out, size_t cap, const uint8_t *in,
			    size_t len);
long mbase_base64url_decode(uint8_t *out, size_t cap, const char *s,
			    size_t slen);

#endif
