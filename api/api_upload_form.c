/*
 * api_upload_form.c - multipart/form-data (RFC 7578, RFC 2046 §5.1) as
 * POST /content/add receives it (api_upload.h).
 *
 * Design notes:
 * - The body is in memory (net/http.h collects it), so a part's data is
 *   a span of the body, found by searching for the next "CRLF--boundary"
 *   (memmem): nothing is copied and nothing is allocated.
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

void api_upload_form_init(struct api_upload_form *f, const uint8_t *body,
			  size_t len, const char *boundary)
{
	size_t n = strnlen(boundary, API_UPLOAD_BOUNDARY_MAX);

	memset(f, 0, sizeof(*f));
	f->p = body;
	f->end = body + len;
	memcpy(f->delim, "\r\n--", 4);
	memcpy(f->delim + 4, boundary, n);
	f->delim_len = 4 + n;
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

/* Past the opening delimiter ("--B" at the start, or after a CRLF). */
static int form_open(struct api_upload_form *f)
{
	size_t left = (size_t)(f->end - f->p);
	const uint8_t *d;

	f->started = true;
	if (left >= f->delim_len - 2 &&
	    memcmp(f->p, f->delim + 2, f->delim_len - 2) == 0) {
		f->p += f->delim_len - 2;
		return 0;
	}
	d = memmem(f->p, left, f->delim, f->delim_len);
	if (!d)
		return efs_error_set(EFS_ECORRUPT, "form: no opening boundary");
	f->p = d + f->delim_len;
	return 0;
}

/* Just past a delimiter: "--" ends the form, else padding and CRLF.
 * Returns 0 (a part follows), EFS_ITEROVER or EFS_ECORRUPT. */
static int after_delim(struct api_upload_form *f)
{
	if (f->end - f->p >= 2 && f->p[0] == '-' && f->p[1] == '-') {
		f->done = true;
		return EFS_ITEROVER;
	}
	while (f->p < f->end && is_space((char)*f->p))
		f->p++;
	if (f->end - f->p < 2 || f->p[0] != '\r' || f->p[1] != '\n')
		return efs_error_set(EFS_ECORRUPT,
				     "form: boundary not "
				     "followed by a line end (truncated?)");
	f->p += 2;
	return 0;
}

int api_upload_form_next(struct api_upload_form *f, struct api_upload_part *out)
{
	const uint8_t *hend, *data, *d;
	size_t left, look;
	int rc;

	memset(out, 0, sizeof(*out));
	if (f->err)
		return f->err;
	if (f->done)
		return EFS_ITEROVER;
	if (!f->started && (rc = form_open(f)) < 0)
		return form_fail(f, rc);
	if ((rc = after_delim(f)) == EFS_ITEROVER)
		return rc;
	if (rc < 0)
		return form_fail(f, rc);
	if (f->parts >= API_UPLOAD_PARTS_MAX)
		return form_fail(f, efs_error_set(EFS_ECORRUPT,
						  "form: more "
						  "than %d parts",
						  API_UPLOAD_PARTS_MAX));
	left = (size_t)(f->end - f->p);
	if (left >= 2 && f->p[0] == '\r' && f->p[1] == '\n') {
		hend = f->p; /* no headers at all */
		data = f->p + 2;
	} else {
		look = left < API_UPLOAD_HEADERS_MAX + 4
			   ? left
			   : API_UPLOAD_HEADERS_MAX + 4;
		hend = memmem(f->p, look, "\r\n\r\n", 4);
		if (!hend)
			return form_fail(
			    f, efs_error_set(
				   EFS_ECORRUPT,
				   "form: a part's headers do not end (over "
				   "%d bytes, or truncated)",
				   API_UPLOAD_HEADERS_MAX));
		data = hend + 4;
	}
	if ((rc = headers_parse(out, (const char *)f->p, (const char *)hend)) <
	    0)
		return form_fail(f, rc);
	if (!out->name[0])
		return form_fail(f, efs_error_set(EFS_ECORRUPT,
						  "form: a part "
						  "without Content-Disposition "
						  "form-data and a name"));
	d = memmem(data, (size_t)(f->end - data), f->delim, f->delim_len);
	if (!d)
		return form_fail(f,
				 efs_error_set(EFS_ECORRUPT,
					       "form: part "
					       "\"%s\" has no closing boundary "
					       "(truncated?)",
					       out->name));
	out->data = data;
	out->len = (size_t)(d - data);
	f->p = d + f->delim_len;
	f->parts++;
	return 0;
}
