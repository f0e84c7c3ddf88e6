/*
 * api_upload_form.c - multipart/form-data (RFC 7578, RFC 2046 §5.1) as
 * POST /content/add receives it (api_upload.h).
 *
 * Design notes:
 * - A push parser: the body comes in pieces of any size (net/http.h
 *   streams it), and a part's data goes out as it comes, in pieces.
 *   The delimiter "CRLF--boundary" is searched for with memmem in each
 *   piece; the bytes at the end of a piece that could begin one are held
 *   back (only their count, match: they are the delimiter's first bytes)
 *   until the next piece says whether they were.  A virtual CRLF before
 *   the body lets the first delimiter open the body with no CRLF.
 *   Nothing is allocated; a part's headers are gathered in a fixed buffer.
 *
 *     PREAMBLE ─delim─► AFTER ─CRLF─► HEADERS ─CRLFCRLF─► DATA ─delim─►
 *                        │  ▲                                      │
 *                        │  └──────────────────────────────────────┘
 *                        └─"--"─► DONE (epilogue ignored)
 * - Only what a form upload needs is read: Content-Disposition's
 *   form-data type and its name and filename parameters (token or
 *   quoted string).  Other headers (Content-Type, ...) and parameters
 *   (filename*, RFC 7578 says not to use it) are ignored, as are the
 *   preamble and the epilogue.
 * - Every length is bounded (boundary, names, headers, parts), and a
 *   NUL inside a name is refused: a C string would cut it.
 */
#include "api/api_upload.h"

#include <string.h>
#include <strings.h>

#include "core/error.h"

#include "core/banned.h"

/* ---- Content-Type ---------------------------------------------------- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static const char *skip_space(const char *s, const char *end)
{
	while (s < end && is_space(*s))
		s++;
	return s;
}

/* s[0..n) equals word, ASCII case folded. */
static bool word_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

/*
 * One parameter value at *sp (a quoted string with backslash escapes,
 * or a token up to ';' or a space) copied into out (cap bytes with the
 * NUL); *sp moves past it.  Returns 0, or EFS_ECORRUPT (unterminated
 * quote, a NUL, too long).
 */
static int param_value(char *out, size_t cap, const char **sp, const char *end)
{
	const char *s = *sp;
	size_t n = 0;
	bool quoted = s < end && *s == '"';

	if (quoted)
		s++;
	for (; s < end; s++) {
		char c = *s;

		if (quoted && c == '"')
			break;
		if (!quoted && (c == ';' || is_space(c)))
			break;
		if (quoted && c == '\\' && s + 1 < end)
			c = *++s;
		if (c == '\0' || n + 1 >= cap)
			return efs_error_set(EFS_ECORRUPT,
					     "form: parameter "
					     "value too long or with a NUL");
		out[n++] = c;
	}
	if (quoted) {
		if (s >= end)
			return efs_error_set(
			    EFS_ECORRUPT, "form: unterminated quoted string");
		s++;
	}
	out[n] = '\0';
	*sp = s;
	return 0;
}

/*
 * Walk the parameters of a header value [s, end) after its type:
 * "; key=value"...  For each, fn(cls, key, keylen, &s) reads the value
 * (param_value) or skips it (out NULL).  Returns 0 or EFS_ECORRUPT.
 */
typedef int (*param_fn)(void *cls, const char *key, size_t keylen,
			const char **sp, const char *end);

static int params_foreach(const char *s, const char *end, param_fn fn,
			  void *cls)
{
	char skip[API_UPLOAD_NAME_MAX + 1];
	const char *key;
	int rc;

	for (;;) {
		s = skip_space(s, end);
		if (s == end)
			return 0;
		if (*s != ';')
			return efs_error_set(
			    EFS_ECORRUPT, "form: want ';' between parameters");
		s = skip_space(s + 1, end);
		if (s == end)
			return 0; /* a trailing ';' */
		key = s;
		while (s < end && *s != '=' && *s != ';' && !is_space(*s))
			s++;
		if (s == end || *s != '=' || s == key)
			return efs_error_set(EFS_ECORRUPT,
					     "form: parameter without a value");
		s++;
		rc = fn(cls, key, (size_t)(s - 1 - key), &s, end);
		if (rc == 1)
			rc = param_value(skip, sizeof(skip), &s, end);
		if (rc < 0)
			return rc;
	}
}

static int boundary_param(void *cls, const char *key, size_t keylen,
			  const char **sp, const char *end)
{
	char *out = cls;

	if (!word_is(key, keylen, "boundary"))
		return 1;
	if (param_value(out, API_UPLOAD_BOUNDARY_MAX + 1, sp, end) < 0)
		return efs_error_set(EFS_EINVAL,
				     "form: boundary longer than "
				     "%d characters",
				     API_UPLOAD_BOUNDARY_MAX);
	return 0;
}

int api_upload_form_boundary(char out[API_UPLOAD_BOUNDARY_MAX + 1],
			     const char *content_type)
{
	const char *s = content_type, *end, *type;
	int rc;

	out[0] = '\0';
	if (!s)
		return efs_error_set(EFS_EINVAL, "form: no Content-Type");
	end = s + strlen(s);
	type = s = skip_space(s, end);
	while (s < end && *s != ';' && !is_space(*s))
		s++;
	if (!word_is(type, (size_t)(s - type), "multipart/form-data"))
		return efs_error_set(EFS_EINVAL, "form: Content-Type is not "
						 "multipart/form-data");
	if ((rc = params_foreach(s, end, boundary_param, out)) < 0) {
		out[0] = '\0';
		return rc == EFS_ECORRUPT
			   ? efs_error_set(EFS_EINVAL, "%s", efs_error_msg())
			   : rc;
	}
	if (!out[0])
		return efs_error_set(EFS_EINVAL,
				     "form: Content-Type has no boundary");
	return 0;
}

/* ---- the parts ------------------------------------------------------- */

enum form_state {
	FORM_PREAMBLE, /* before the first delimiter: dropped */
	FORM_AFTER,    /* after a delimiter: "--", or padding and CRLF */
	FORM_HEADERS,  /* a part's headers, up to the blank line */
	FORM_DATA,     /* a part's bytes, up to the next delimiter */
	FORM_DONE,     /* after the closing delimiter: dropped */
};

void api_upload_form_init(struct api_upload_form *f, const char *boundary,
			  const struct api_upload_form_ops *ops, void *cls)
{
	size_t n = strnlen(boundary, API_UPLOAD_BOUNDARY_MAX);

	memset(f, 0, sizeof(*f));
	f->ops = ops;
	f->cls = cls;
	memcpy(f->delim, "\r\n--", 4);
	memcpy(f->delim + 4, boundary, n);
	f->delim_len = 4 + n;
	f->state = FORM_PREAMBLE;
	f->match = 2; /* the virtual CRLF before the body */
}

static int form_fail(struct api_upload_form *f, int rc)
{
	f->err = rc;
	return rc;
}

static int disposition_param(void *cls, const char *key, size_t keylen,
			     const char **sp, const char *end)
{
	struct api_upload_part *out = cls;

	if (word_is(key, keylen, "name"))
		return param_value(out->name, sizeof(out->name), sp, end);
	if (word_is(key, keylen, "filename")) {
		out->has_filename = true;
		return param_value(out->filename, sizeof(out->filename), sp,
				   end);
	}
	return 1;
}

/* One header line [s, end): Content-Disposition's name and filename go
 * to out, other headers are skipped. */
static int header_line(struct api_upload_part *out, const char *s,
		       const char *end)
{
	const char *colon = memchr(s, ':', (size_t)(end - s));
	const char *type;

	if (!colon)
		return efs_error_set(EFS_ECORRUPT, "form: header line "
						   "without ':'");
	if (!word_is(s, (size_t)(colon - s), "content-disposition"))
		return 0;
	type = s = skip_space(colon + 1, end);
	while (s < end && *s != ';' && !is_space(*s))
		s++;
	if (!word_is(type, (size_t)(s - type), "form-data"))
		return efs_error_set(EFS_ECORRUPT,
				     "form: a part's "
				     "Content-Disposition is not form-data");
	out->name[0] = '\0';
	return params_foreach(s, end, disposition_param, out);
}

/* The headers [s, end), CRLF-terminated lines. */
static int headers_parse(struct api_upload_part *out, const char *s,
			 const char *end)
{
	while (s < end) {
		const char *eol = memmem(s, (size_t)(end - s), "\r\n", 2);
		int rc;

		if (!eol)
			eol = end;
		if ((rc = header_line(out, s, eol)) < 0)
			return rc;
		if (eol == end)
			break;
		s = eol + 2;
	}
	return 0;
}

/* Part data (or preamble, dropped) out. */
static int emit(struct api_upload_form *f, const uint8_t *p, size_t n)
{
	if (n == 0 || f->state != FORM_DATA)
		return 0;
	return f->ops->data(f->cls, p, n);
}

/*
 * The held-back delim[0..match) turned out not to start a delimiter:
 * give out its bytes up to the longest suffix that could still start
 * one (the delimiter's self-overlap), keep that.
 */
static int unhold(struct api_upload_form *f)
{
	size_t m = f->match, s;

	for (s = 1; s < m; s++)
		if (memcmp(f->delim + s, f->delim, m - s) == 0)
			break;
	f->match = m - s;
	return emit(f, (const uint8_t *)f->delim, s);
}

/*
 * Scan p[0..n) for the delimiter: what precedes it goes out (emit).
 * *used is how many bytes were taken; *found whether the delimiter
 * ended there.
 */
static int scan(struct api_upload_form *f, const uint8_t *p, size_t n,
		size_t *used, bool *found)
{
	const size_t dl = f->delim_len;
	size_t i = 0, j;
	const uint8_t *d;
	int rc;

	*found = false;
	while (i < n && f->match) {
		size_t k = dl - f->match < n - i ? dl - f->match : n - i;

		if (memcmp(p + i, f->delim + f->match, k) == 0) {
			f->match += k;
			i += k;
			if (f->match == dl) {
				f->match = 0;
				*found = true;
				*used = i;
				return 0;
			}
		} else if ((rc = unhold(f)) < 0) {
			return rc;
		}
	}
	if (i == n) {
		*used = n;
		return 0;
	}
	if ((d = memmem(p + i, n - i, f->delim, dl))) {
		*found = true;
		*used = (size_t)(d - p) + dl;
		return emit(f, p + i, (size_t)(d - (p + i)));
	}
	/* hold back the longest tail that could begin a delimiter */
	for (j = n - i < dl ? i : n - (dl - 1); j < n; j++)
		if (p[j] == '\r' && memcmp(p + j, f->delim, n - j) == 0)
			break;
	f->match = n - j;
	*used = n;
	return emit(f, p + i, j - i);
}

/* One byte after a delimiter.  Returns 0 or EFS_ECORRUPT. */
static int after_delim(struct api_upload_form *f, uint8_t c)
{
	if (f->dashes || (c == '-' && !f->cr)) {
		if (c != '-')
			return efs_error_set(EFS_ECORRUPT,
					     "form: '-' after a boundary, "
					     "not \"--\"");
		if (++f->dashes == 2)
			f->state = FORM_DONE;
		return 0;
	}
	if (f->cr) {
		if (c != '\n')
			return efs_error_set(EFS_ECORRUPT,
					     "form: boundary not "
					     "followed by a line end");
		f->cr = false;
		f->head_len = 0;
		f->state = FORM_HEADERS;
		return 0;
	}
	if (c == '\r')
		f->cr = true;
	else if (!is_space((char)c))
		return efs_error_set(EFS_ECORRUPT, "form: boundary not "
						   "followed by a line end");
	return 0;
}

/* The headers are whole in f->head[0..len) (without the blank line). */
static int headers_done(struct api_upload_form *f, size_t len)
{
	struct api_upload_part part;
	int rc;

	memset(&part, 0, sizeof(part));
	if (f->parts >= API_UPLOAD_PARTS_MAX)
		return efs_error_set(EFS_ECORRUPT, "form: more than %d parts",
				     API_UPLOAD_PARTS_MAX);
	if ((rc = headers_parse(&part, f->head, f->head + len)) < 0)
		return rc;
	if (!part.name[0])
		return efs_error_set(EFS_ECORRUPT,
				     "form: a part without "
				     "Content-Disposition form-data and a "
				     "name");
	f->parts++;
	f->state = FORM_DATA;
	return f->ops->part(f->cls, &part);
}

/* One byte of a part's headers. */
static int header_byte(struct api_upload_form *f, uint8_t c)
{
	size_t n;

	if (f->head_len == sizeof(f->head))
		return efs_error_set(EFS_ECORRUPT,
				     "form: a part's headers "
				     "are over %d bytes",
				     API_UPLOAD_HEADERS_MAX);
	f->head[f->head_len++] = (char)c;
	n = f->head_len;
	if (n == 2 && memcmp(f->head, "\r\n", 2) == 0)
		return headers_done(f, 0); /* no headers at all */
	if (n >= 4 && memcmp(f->head + n - 4, "\r\n\r\n", 4) == 0)
		return headers_done(f, n - 4);
	return 0;
}

static int feed(struct api_upload_form *f, const uint8_t *p, size_t n)
{
	size_t used;
	bool found;
	int rc;

	while (n > 0) {
		switch (f->state) {
		case FORM_PREAMBLE:
		case FORM_DATA:
			if ((rc = scan(f, p, n, &used, &found)) < 0)
				return rc;
			p += used;
			n -= used;
			if (found && f->state == FORM_DATA &&
			    (rc = f->ops->part_end(f->cls)) < 0)
				return rc;
			if (found) {
				f->state = FORM_AFTER;
				f->dashes = 0;
				f->cr = false;
			}
			continue;
		case FORM_AFTER:
			rc = after_delim(f, *p);
			break;
		case FORM_HEADERS:
			rc = header_byte(f, *p);
			break;
		default:
			return 0; /* the epilogue */
		}
		if (rc < 0)
			return rc;
		p++;
		n--;
	}
	return 0;
}

int api_upload_form_feed(struct api_upload_form *f, const uint8_t *data,
			 size_t len)
{
	int rc;

	if (f->err)
		return f->err;
	f->offset += len;
	if ((rc = feed(f, data, len)) < 0)
		return form_fail(f, rc);
	return 0;
}

int api_upload_form_finish(struct api_upload_form *f)
{
	if (f->err)
		return f->err;
	switch (f->state) {
	case FORM_DONE:
		return 0;
	case FORM_PREAMBLE:
		return form_fail(f,
				 efs_error_set(EFS_ECORRUPT, "form: no opening "
							     "boundary"));
	default:
		return form_fail(f, efs_error_set(EFS_ECORRUPT,
						  "form: the body ends "
						  "before the closing "
						  "boundary (truncated?)"));
	}
}
