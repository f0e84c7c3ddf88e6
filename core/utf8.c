/*
 * utf8.c - strict UTF-8 validation (see utf8.h).
 *
 * Design notes: the check follows the table of well-formed byte
 * sequences in RFC 3629 §4 (and Unicode 15 table 3-7).  The lead byte
 * gives the length; only the first continuation byte has a range other
 * than 80..BF, and that narrower range is what rules out overlong forms
 * (E0, F0), surrogates (ED) and code points past U+10FFFF (F4).  C0, C1
 * and F5..FF never start a sequence.
 */
#include "core/utf8.h"

#include <assert.h>

#include "core/banned.h"

size_t utf8_width(const uint8_t *p, size_t len)
{
	uint8_t c, lo = 0x80, hi = 0xbf;
	size_t n;

	if (len == 0)
		return 0;
	c = p[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
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
	if (len < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

bool utf8_valid(const uint8_t *p, size_t len)
{
	for (size_t i = 0, w; i < len; i += w)
		if ((w = utf8_width(p + i, len - i)) == 0)
			return false;
	return true;
}

size_t utf8_encode(uint8_t out[UTF8_MAX_LEN], uint32_t cp)
{
	assert(cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff));
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xc0 | cp >> 6);
		out[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (uint8_t)(0xe0 | cp >> 12);
		out[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (uint8_t)(0xf0 | cp >> 18);
	out[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}
