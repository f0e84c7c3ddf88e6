/*
 * utf8.h - strict UTF-8 as RFC 3629 defines it: the shortest form only
 * (no overlong sequences), no surrogates (U+D800..U+DFFF), nothing past
 * U+10FFFF.  This is what Go's utf8.Valid and a JS TextDecoder with
 * fatal: true accept, so text checked here survives a round trip through
 * Curio and the JS stack unchanged.
 *
 * NUL (0x00) is a valid one-byte sequence; callers that forbid it check
 * for it themselves.  All functions are pure and reentrant.
 */
#ifndef EFS_UTF8_H
#define EFS_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Bytes of the well-formed sequence that starts p[0..len): 1 to 4, or 0
 * when there is none there (len is 0, a stray continuation byte, an
 * invalid lead byte, an overlong form, a surrogate, a code point past
 * U+10FFFF, or a sequence cut short by len).  Reads at most 4 bytes.
 */
size_t utf8_width(const uint8_t *p, size_t len);

/* Whether all of p[0..len) is well-formed UTF-8 (true for len 0). */
bool utf8_valid(const uint8_t *p, size_t len);

/* Longest encoding of one code point. */
#define UTF8_MAX_LEN 4

/*
 * Write the shortest encoding of the Unicode scalar value cp (at most
 * U+10FFFF, not a surrogate: asserted) at out; returns its length, 1 to
 * UTF8_MAX_LEN.
 */
size_t utf8_encode(uint8_t out[UTF8_MAX_LEN], uint32_t cp);

#endif
