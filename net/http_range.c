/*
 * http_range.c - the Range header as Go's net/http parseRange reads it
 * (see http_range.h), moved from the devnet's SP parsers so the daemon's
 * transfer server and the devnet's /piece share it.  Every loop is
 * bounded by the string and every number by int64; nothing is allocated.
 */
#include "net/http_range.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "core/banned.h"

/* Trim blanks from s[0..end); the new end goes to *e_out. */
static const char *trim_span(const char *s, const char *end,
			     const char **e_out)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*e_out = end;
	return s;
}

/* A decimal int64 >= 0 in s[0..end) (strconv.ParseInt's digits). */
static bool parse_u63(int64_t *out, const char *s, const char *end)
{
	uint64_t v = 0;

	if (s == end || end - s > 19)
		return false;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > INT64_MAX)
		return false;
	*out = (int64_t)v;
	return true;
}

/* One element of the list, as parseRange reads it. */
static enum http_range_result range_one(struct http_range *r, const char *s,
				      const char *end, uint64_t size)
{
	const char *dash = memchr(s, '-', (size_t)(end - s)), *e1, *e2;
	const char *a, *b;
	int64_t i, j;

	if (!dash)
		return HTTP_RANGE_INVALID;
	a = trim_span(s, dash, &e1);
	b = trim_span(dash + 1, end, &e2);
	if (a == e1) {
		/* "-N": the last N bytes. */
		if (b == e2 || *b == '-' || !parse_u63(&i, b, e2))
			return HTTP_RANGE_INVALID;
		if ((uint64_t)i > size)
			i = (int64_t)size;
		if (i == 0)
			return HTTP_RANGE_NO_OVERLAP;
		r->start = size - (uint64_t)i;
		r->len = (uint64_t)i;
		return HTTP_RANGE_ONE;
	}
	if (!parse_u63(&i, a, e1))
		return HTTP_RANGE_INVALID;
	if ((uint64_t)i >= size)
		return HTTP_RANGE_NO_OVERLAP;
	r->start = (uint64_t)i;
	if (b == e2) {
		r->len = size - r->start;
		return HTTP_RANGE_ONE;
	}
	if (!parse_u63(&j, b, e2) || i > j)
		return HTTP_RANGE_INVALID;
	if ((uint64_t)j >= size)
		j = (int64_t)size - 1;
	r->len = (uint64_t)(j - i) + 1;
	return HTTP_RANGE_ONE;
}

enum http_range_result http_range_parse(struct http_range *out, const char *h,
				    uint64_t size)
{
	size_t nranges = 0, noverlap = 0;
	const char *p, *end;

	if (!h || !*h)
		return HTTP_RANGE_NONE;
	if (strncmp(h, "bytes=", 6) != 0)
		return HTTP_RANGE_INVALID;
	for (p = h + 6; *p; p = *end ? end + 1 : end) {
		const char *s, *e;
		struct http_range one;
		enum http_range_result rr;

		end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		s = trim_span(p, end, &e);
		if (s == e)
			continue;
		rr = range_one(&one, s, e, size);
		if (rr == HTTP_RANGE_INVALID)
			return rr;
		if (rr == HTTP_RANGE_NO_OVERLAP) {
			noverlap++;
			continue;
		}
		if (!nranges++)
			*out = one;
	}
	if (!nranges)
		return noverlap ? HTTP_RANGE_NO_OVERLAP : HTTP_RANGE_NONE;
	/* Go also sends the whole body when the ranges add up past the
	 * size; a single range lies inside the body, so only several can. */
	return nranges == 1 ? HTTP_RANGE_ONE : HTTP_RANGE_MULTI;
}
