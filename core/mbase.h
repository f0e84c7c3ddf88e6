/*
 * mbase.h - multibase encodings used for CIDs: base32 (RFC 4648, no
 * padding; prefix 'b' lower case, 'B' upper case), base58btc (Bitcoin
 * alphabet; prefix 'z') and base16 (prefix 'f'/'F').
 *
 * All functions are reentrant: they write only into the caller's buffers.
 */
#ifndef EFS_MBASE_H
#define EFS_MBASE_H

#include <stddef.h>
#include <stdint.h>

/* Characters needed to encode n bytes in a base (without prefix or NUL). */
size_t mbase_base32_len(size_t n);
size_t mbase_base58_maxlen(size_t n);

/*
 * Encode len bytes as multibase with the given prefix ('b', 'B', 'z',
 * 'f', 'F') into out, NUL-terminated.  Returns the string length, or a
 * negative EFS_EINVAL (unknown prefix) / EFS_ETOOBIG (cap too small).
 */
long mbase_encode(char *out, size_t cap, char prefix, const uint8_t *in,
		  size_t len);

/*
 * Decode a multibase string of slen chars (prefix included) into out.
 * Returns the number of bytes, or a negative EFS_ECORRUPT (bad character
 * or trailing bits), EFS_EUNSUPPORTED (unknown prefix) or EFS_ETOOBIG.
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

#endif
