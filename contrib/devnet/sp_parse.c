/*
 * sp_parse.c - Range, Accept and entity-bytes, read the way the Go code
 * Curio serves with reads them (see sp_parse.h).  Header text is
 * untrusted: every loop is bounded by the string, numbers by int64, and
 * nothing is allocated.
 */
#include "contrib/devnet/sp_parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/banned.h"

/* ---- Accept ---- */

struct sp_ctype sp_parse_ctype_default(void)
{
	return (struct sp_ctype){ .dups = true, .q = 1 };
}

/* Trim blanks from the NUL-terminated s, in place. */
static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/* One "attr=value" parameter of a content type; false: unacceptable. */
static bool ctype_param(struct sp_ctype *ct, char *part)
{
	char *eq = strchr(part, '='), *attr, *val, *end;

	/* Go keeps only parts that split into exactly two at '='. */
	if (!eq || strchr(eq + 1, '='))
		return true;
	*eq = '\0';
	attr = trim(part);
	val = trim(eq + 1);
	if (ct->exact_car && !strcmp(attr, "dups")) {
		if (strcmp(val, "y") && strcmp(val, "n"))
			return false;
		ct->dups = !strcmp(val, "y");
	} else if (ct->exact_car && !strcmp(attr, "version")) {
		if (strcmp(val, "1"))
			return false;
	} else if (ct->exact_car && !strcmp(attr, "order")) {
		if (strcmp(val, "dfs") && strcmp(val, "unk"))
			return false;
		ct->unk = !strcmp(val, "unk");
	}
	if (!strcmp(attr, "q")) {
		errno = 0;
		ct->q = strtod(val, &end);
		if (errno || end == val || *end || ct->q < 0 || ct->q > 1)
			return false;
	}
	return true;
}

/* parseContentType(entry, false); entry is modified. */
static bool parse_ctype(struct sp_ctype *out, char *entry)
{
	char *semi = strchr(entry, ';'), *mime, *part;

	if (semi)
		*semi = '\0';
	mime = trim(entry);
	*out = sp_parse_ctype_default();
	out->exact_car = !strcmp(mime, SP_MIME_CAR);
	out->raw = !strcmp(mime, SP_MIME_RAW);
	if (!out->exact_car && !out->raw && strcmp(mime, "*/*") &&
	    strcmp(mime, "application/*"))
		return false;
	for (part = semi ? semi + 1 : NULL; part;) {
		char *next = strchr(part, ';');

		if (next)
			*next++ = '\0';
		if (!ctype_param(out, part))
			return false;
		part = next;
	}
	return true;
}

size_t sp_parse_accept(struct sp_ctype *out, size_t max, const char *h)
{
	char copy[4096], *p, *next;
	size_t n = 0;

	if (!h)
		return 0;
	snprintf(copy, sizeof(copy), "%s", h);
	for (p = copy; p && n < max; p = next) {
		next = strchr(p, ',');
		if (next)
			*next++ = '\0';
		if (parse_ctype(&out[n], p))
			n++;
	}
	for (size_t i = 1; i < n; i++) {
		struct sp_ctype t = out[i];
		size_t j = i;

		for (; j > 0 && out[j - 1].q < t.q; j--)
			out[j] = out[j - 1];
		out[j] = t;
	}
	return n;
}

/* ---- entity-bytes ---- */

/* strconv.ParseInt(s[0..len), 10, 64). */
static bool parse_i64(int64_t *out, const char *s, size_t len)
{
	char tmp[32], *end;

	if (!len || len >= sizeof(tmp))
		return false;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (tmp[0] != '-' && tmp[0] != '+' && (tmp[0] < '0' || tmp[0] > '9'))
		return false;
	errno = 0;
	*out = strtoll(tmp, &end, 10);
	return !errno && end != tmp && *end == '\0';
}

bool sp_parse_entity_bytes(int64_t *from, int64_t *to, bool *to_set,
			   const char *s)
{
	const char *colon = strchr(s, ':');

	*to_set = false;
	if (!colon || strchr(colon + 1, ':') ||
	    !parse_i64(from, s, (size_t)(colon - s)))
		return false;
	if (!strcmp(colon + 1, "*"))
		return true;
	*to_set = true;
	return parse_i64(to, colon + 1, strlen(colon + 1));
}
