/*
 * mk12_i.h - helpers shared by the mk12 modules (mk12.c, mk12_http.c,
 * mk12_check.c); not part of any public interface.
 */
#ifndef EFS_MK12_I_H
#define EFS_MK12_I_H

#include <stddef.h>
#include <stdint.h>

/*
 * Bytes of the well-formed UTF-8 sequence at p[0..n), or 0 when there
 * is none, as Go's utf8.DecodeRune judges it: no overlong forms, no
 * surrogates, nothing past U+10FFFF.
 */
static inline size_t mk12_utf8_width(const uint8_t *p, size_t n)
{
	uint8_t c = p[0];
	uint8_t lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t k = 2; k < len; k++)
		if ((p[k] & 0xc0) != 0x80)
			return 0;
	return len;
}

#endif
