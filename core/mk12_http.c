/*
 * mk12_http.c - the JSON of an mk12 deal's HTTP transfer parameters
 * (see mk12_http.h).
 *
 * Design notes:
 * - The decoder follows Go's encoding/json as Curio runs it: first the
 *   whole input is checked as JSON (Go's checkValid), so a syntax error
 *   anywhere is reported even after a member of the wrong type; then the
 *   object is read member by member.
 * - Skipping a value is iterative, with one bit per open container, so
 *   the 10000 levels Go allows cost 1250 bytes of stack, not recursion.
 * - Strings are decoded as Go's unquote does: escapes, surrogate pairs,
 *   U+FFFD for a lone surrogate and for each byte that is not UTF-8.
 *   A decoded string is at most three times its JSON form (one invalid
 *   byte becomes the three bytes of U+FFFD), which caps the buffers.
 */
#include "core/mk12_http.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/mbase.h"
#include "core/utf8.h"

#include "core/banned.h"

/* Go's encoding/json scanner limit (maxNestingDepth). */
#define JSON_DEPTH_MAX 10000

/* ---- encoder ---- */

static int put_ascii(struct buf *b, uint8_t c)
{
	static const char hex[] = "0123456789abcdef";
	char esc[7] = { '\\', 'u', '0', '0', 0, 0, 0 };

	switch (c) {
	case '"':
		return buf_adds(b, "\\\"");
	case '\\':
		return buf_adds(b, "\\\\");
	case '\b':
		return buf_adds(b, "\\b");
	case '\f':
		return buf_adds(b, "\\f");
	case '\n':
		return buf_adds(b, "\\n");
	case '\r':
		return buf_adds(b, "\\r");
	case '\t':
		return buf_adds(b, "\\t");
	default:
		break;
	}
	if (c >= 0x20 && c != '<' && c != '>' && c != '&')
		return buf_addch(b, c);
	esc[4] = hex[c >> 4];
	esc[5] = hex[c & 0xf];
	return buf_adds(b, esc);
}

/* s as a JSON string, escaped as Go's json.Marshal escapes it. */
static int put_string(struct buf *b, const char *s)
{
	const uint8_t *p = (const uint8_t *)(s ? s : "");
	size_t n = strlen((const char *)p);
	int rc = buf_addch(b, '"');

	for (size_t i = 0, w; rc == 0 && i < n; i += w) {
		w = utf8_width(p + i, n - i);
		if (p[i] < 0x80)
			rc = put_ascii(b, p[i]);
		else if (w == 0)
			rc = buf_adds(b, "\\ufffd"), w = 1;
		else if (w == 3 && p[i] == 0xe2 && p[i + 1] == 0x80 &&
			 (p[i + 2] == 0xa8 || p[i + 2] == 0xa9))
			rc = buf_adds(b, p[i + 2] == 0xa8 ? "\\u2028"
							  : "\\u2029");
		else
			rc = buf_add(b, p + i, w);
	}
	return rc < 0 ? rc : buf_addch(b, '"');
}

static int compare_headers(const void *a, const void *b)
{
	const struct mk12_http_header *x = *(const struct mk12_http_header **)a;
	const struct mk12_http_header *y = *(const struct mk12_http_header **)b;

	return strcmp(x->name ? x->name : "", y->name ? y->name : "");
}

/* Headers as Go writes a map[string]string: keys sorted bytewise. */
static int put_headers(struct buf *b, const struct mk12_http_request *r)
{
	const struct mk12_http_header **v;
	int rc = 0;

	if (r->nheaders == 0)
		return buf_adds(b, "null");
	v = efs_calloc(r->nheaders, sizeof(*v));
	if (!v)
		return efs_error_set(EFS_ENOMEM, "mk12_http: out of memory");
	for (size_t i = 0; i < r->nheaders; i++)
		v[i] = &r->headers[i];
	qsort(v, r->nheaders, sizeof(*v), compare_headers);
	for (size_t i = 1; i < r->nheaders; i++)
		if (compare_headers(&v[i - 1], &v[i]) == 0)
			rc = efs_error_set(EFS_EINVAL,
					   "mk12_http: header \"%s\" twice",
					   v[i]->name ? v[i]->name : "");
	if (rc == 0)
		rc = buf_addch(b, '{');
	for (size_t i = 0; rc == 0 && i < r->nheaders; i++) {
		if (i > 0)
			rc = buf_addch(b, ',');
		if (rc == 0)
			rc = put_string(b, v[i]->name);
		if (rc == 0)
			rc = buf_addch(b, ':');
		if (rc == 0)
			rc = put_string(b, v[i]->value);
	}
	if (rc == 0)
		rc = buf_addch(b, '}');
	efs_free(v);
	return rc;
}

int mk12_http_request_encode(struct buf *out,
			     const struct mk12_http_request *r)
{
	size_t start = out->len;
	int rc = buf_adds(out, "{\"URL\":");

	if (rc == 0)
		rc = put_string(out, r->url);
	if (rc == 0)
		rc = buf_adds(out, ",\"Headers\":");
	if (rc == 0)
		rc = put_headers(out, r);
	if (rc == 0)
		rc = buf_addch(out, '}');
	if (rc < 0)
		buf_truncate(out, start);
	return rc;
}

/* ---- scanning ---- */

struct json {
	const uint8_t *p;
	size_t len;
	size_t pos;
};

static int syntax(const struct json *j, const char *what)
{
	return efs_error_set(EFS_ECORRUPT, "mk12_http: %s at offset %zu",
			     what, j->pos);
}

static int peek(const struct json *j)
{
	return j->pos < j->len ? j->p[j->pos] : -1;
}

static void skip_space(struct json *j)
{
	for (int c = peek(j); c == ' ' || c == '\t' || c == '\n' || c == '\r';
	     c = peek(j))
		j->pos++;
}

static int expect(struct json *j, char c)
{
	skip_space(j);
	if (peek(j) != c)
		return syntax(j, c == ':' ? "expected ':'" : "unexpected byte");
	j->pos++;
	skip_space(j);
	return 0;
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int skip_digits(struct json *j)
{
	if (!is_digit(peek(j)))
		return syntax(j, "bad number");
	while (is_digit(peek(j)))
		j->pos++;
	return 0;
}

static int skip_number(struct json *j)
{
	int rc = 0;

	if (peek(j) == '-')
		j->pos++;
	if (peek(j) == '0')
		j->pos++;
	else
		rc = skip_digits(j);
	if (rc == 0 && peek(j) == '.') {
		j->pos++;
		rc = skip_digits(j);
	}
	if (rc == 0 && (peek(j) == 'e' || peek(j) == 'E')) {
		j->pos++;
		if (peek(j) == '+' || peek(j) == '-')
			j->pos++;
		rc = skip_digits(j);
	}
	return rc;
}

/* true, false or null; the word matched goes to out. */
static int skip_literal(struct json *j, const char **out)
{
	static const char *const words[] = { "true", "false", "null" };

	for (size_t i = 0; i < 3; i++) {
		size_t n = strlen(words[i]);

		if (j->len - j->pos >= n &&
		    !memcmp(j->p + j->pos, words[i], n)) {
			j->pos += n;
			if (out)
				*out = words[i];
			return 0;
		}
	}
	return syntax(j, "invalid literal");
}

static int hex4(const struct json *j, size_t at, uint32_t *out)
{
	uint32_t v = 0;

	if (at > j->len || j->len - at < 4)
		return -1;
	for (size_t i = 0; i < 4; i++) {
		int d = mbase_hex_value((char)j->p[at + i]);

		if (d < 0)
			return -1;
		v = v << 4 | (uint32_t)d;
	}
	*out = v;
	return 0;
}

static int put_rune(struct buf *out, uint32_t r)
{
	uint8_t u[UTF8_MAX_LEN];

	return out ? buf_add(out, u, utf8_encode(u, r)) : 0;
}

/* \uXXXX at j->pos, with a following low surrogate if it pairs. */
static int get_u_escape(struct json *j, struct buf *out)
{
	uint32_t r, lo;

	if (hex4(j, j->pos + 2, &r) < 0)
		return syntax(j, "bad \\u escape");
	j->pos += 6;
	if (r >= 0xd800 && r < 0xe000) {
		if (r < 0xdc00 && j->len - j->pos >= 6 &&
		    j->p[j->pos] == '\\' && j->p[j->pos + 1] == 'u' &&
		    hex4(j, j->pos + 2, &lo) == 0 && lo >= 0xdc00 &&
		    lo < 0xe000) {
			r = 0x10000 + ((r - 0xd800) << 10) + (lo - 0xdc00);
			j->pos += 6;
		} else {
			r = 0xfffd;
		}
	}
	return put_rune(out, r);
}

static int get_escape(struct json *j, struct buf *out)
{
	static const char from[] = "\"\\/bfnrt";
	static const char to[] = "\"\\/\b\f\n\r\t";
	const char *hit;
	int c;

	if (j->len - j->pos < 2)
		return syntax(j, "unterminated string");
	c = j->p[j->pos + 1];
	if (c == 'u')
		return get_u_escape(j, out);
	hit = c ? strchr(from, c) : NULL;
	if (!hit)
		return syntax(j, "bad escape");
	j->pos += 2;
	return out ? buf_addch(out, (uint8_t)to[hit - from]) : 0;
}

/* The string at j->pos, checked; decoded into out unless out is NULL. */
static int get_string(struct json *j, struct buf *out)
{
	int rc = 0;

	if (peek(j) != '"')
		return syntax(j, "expected string");
	j->pos++;
	while (rc == 0) {
		int c = peek(j);
		size_t w;

		if (c < 0)
			return syntax(j, "unterminated string");
		if (c == '"') {
			j->pos++;
			return 0;
		}
		if (c < 0x20)
			return syntax(j, "control byte in string");
		if (c == '\\') {
			rc = get_escape(j, out);
			continue;
		}
		w = utf8_width(j->p + j->pos, j->len - j->pos);
		if (w == 0) {
			rc = out ? buf_add(out, "\xef\xbf\xbd", 3) : 0;
			w = 1;
		} else if (out) {
			rc = buf_add(out, j->p + j->pos, w);
		}
		j->pos += w;
	}
	return rc;
}

/* A scalar value: string, number or literal. */
static int skip_scalar(struct json *j)
{
	int c = peek(j);

	if (c == '"')
		return get_string(j, NULL);
	if (c == '-' || is_digit(c))
		return skip_number(j);
	return skip_literal(j, NULL);
}

/* One whole value at j->pos (after white space), checked, skipped. */
static int skip_value(struct json *j)
{
	uint8_t is_object[JSON_DEPTH_MAX / 8] = { 0 };
	size_t depth = 0;
	int rc;

	for (;;) {
		int c;

		/* a value is expected here */
		skip_space(j);
		c = peek(j);
		if (c == '{' || c == '[') {
			if (depth == JSON_DEPTH_MAX)
				return syntax(j, "nested too deep");
			is_object[depth / 8] &= (uint8_t)~(1u << depth % 8);
			is_object[depth / 8] |=
				(uint8_t)((c == '{') << depth % 8);
			depth++;
			j->pos++;
			skip_space(j);
			if (peek(j) == (c == '{' ? '}' : ']')) {
				j->pos++;
				depth--;
			} else {
				if (c == '{' &&
				    ((rc = get_string(j, NULL)) < 0 ||
				     (rc = expect(j, ':')) < 0))
					return rc;
				continue;
			}
		} else if ((rc = skip_scalar(j)) < 0) {
			return rc;
		}
		/* after a value: close containers until one goes on */
		for (;;) {
			bool obj;

			if (depth == 0)
				return 0;
			obj = is_object[(depth - 1) / 8] >> (depth - 1) % 8 & 1;
			skip_space(j);
			c = peek(j);
			if (c == ',') {
				j->pos++;
				skip_space(j);
				if (obj && ((rc = get_string(j, NULL)) < 0 ||
					    (rc = expect(j, ':')) < 0))
					return rc;
				break;
			}
			if (c != (obj ? '}' : ']'))
				return syntax(j, "expected ',' or end of "
						 "container");
			j->pos++;
			depth--;
		}
	}
}

/* ---- decoding HttpRequest ---- */

/* Case-insensitive (ASCII) match of a decoded member name. */
static bool name_is(const struct buf *key, const char *name)
{
	size_t n = strlen(name);

	return key->len == n && !strncasecmp((const char *)key->ptr, name, n);
}

/* The decoded string at j->pos into a new C string. */
static int take_string(struct json *j, char **out)
{
	struct buf s = BUF_INIT(3 * j->len + 1);
	int rc = get_string(j, &s);

	if (rc == 0 && s.len && memchr(s.ptr, '\0', s.len))
		rc = syntax(j, "string holds U+0000");
	if (rc == 0) {
		*out = efs_strndup(s.ptr ? (const char *)s.ptr : "", s.len);
		if (!*out)
			rc = efs_error_set(EFS_ENOMEM,
					   "mk12_http: out of memory");
	}
	buf_release(&s);
	return rc;
}

static bool at_null(struct json *j)
{
	const char *word = NULL;
	size_t pos = j->pos;

	if (peek(j) == 'n' && skip_literal(j, &word) == 0 &&
	    !strcmp(word, "null"))
		return true;
	j->pos = pos;
	return false;
}

static int get_url(struct json *j, struct mk12_http_request *out)
{
	char *url = NULL;
	int rc;

	if (at_null(j))
		return 0;
	if (peek(j) != '"')
		return syntax(j, "URL is not a string");
	rc = take_string(j, &url);
	if (rc < 0)
		return rc;
	efs_free(out->url);
	out->url = url;
	return 0;
}

static void free_headers(struct mk12_http_request *r)
{
	for (size_t i = 0; i < r->nheaders; i++) {
		efs_free(r->headers[i].name);
		efs_free(r->headers[i].value);
	}
	efs_free(r->headers);
	r->headers = NULL;
	r->nheaders = 0;
}

static int get_header(struct json *j, struct mk12_http_request *out)
{
	char *name = NULL, *value = NULL;
	int rc = take_string(j, &name);

	if (rc == 0)
		rc = expect(j, ':');
	if (rc == 0 && !at_null(j))
		rc = peek(j) == '"' ? take_string(j, &value)
				    : syntax(j, "header value is not a string");
	if (rc == 0)
		rc = mk12_http_request_set_header(out, name,
						  value ? value : "");
	efs_free(name);
	efs_free(value);
	return rc;
}

/*
 * The members of the object whose '{' is at j->pos, each read by get
 * (which starts at its key), through the closing '}'.
 */
static int get_members(struct json *j, struct mk12_http_request *out,
		       int (*get)(struct json *, struct mk12_http_request *))
{
	int rc = 0;

	j->pos++;
	skip_space(j);
	if (peek(j) == '}') {
		j->pos++;
		return 0;
	}
	while (rc == 0) {
		rc = get(j, out);
		skip_space(j);
		if (rc < 0 || peek(j) == '}')
			break;
		rc = expect(j, ',');
	}
	if (rc == 0)
		j->pos++;
	return rc;
}

static int get_headers(struct json *j, struct mk12_http_request *out)
{
	if (at_null(j)) {
		free_headers(out);
		return 0;
	}
	if (peek(j) != '{')
		return syntax(j, "Headers is not an object");
	return get_members(j, out, get_header);
}

static int get_member(struct json *j, struct mk12_http_request *out)
{
	struct buf key = BUF_INIT(3 * j->len + 1);
	int rc = get_string(j, &key);

	if (rc == 0)
		rc = expect(j, ':');
	if (rc == 0) {
		if (name_is(&key, "URL"))
			rc = get_url(j, out);
		else if (name_is(&key, "Headers"))
			rc = get_headers(j, out);
		else
			rc = skip_value(j);
	}
	buf_release(&key);
	return rc;
}

static int get_object(struct json *j, struct mk12_http_request *out)
{
	if (at_null(j))
		return 0;
	if (peek(j) != '{')
		return syntax(j, "transfer params are not a json object");
	return get_members(j, out, get_member);
}

int mk12_http_request_decode(struct mk12_http_request *out,
			     const uint8_t *json, size_t len)
{
	struct json j = { json, len, 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	rc = skip_value(&j);
	skip_space(&j);
	if (rc == 0 && j.pos != len)
		rc = syntax(&j, "data after the value");
	if (rc < 0)
		return rc;
	j.pos = 0;
	skip_space(&j);
	rc = get_object(&j, out);
	if (rc < 0)
		mk12_http_request_release(out);
	return rc;
}

int mk12_http_request_set_header(struct mk12_http_request *r,
				 const char *name, const char *value)
{
	struct mk12_http_header *v;
	char *n = NULL;
	char *copy = efs_strdup(value);

	if (!copy)
		return efs_error_set(EFS_ENOMEM, "mk12_http: out of memory");
	for (size_t i = 0; i < r->nheaders; i++) {
		if (!strcmp(r->headers[i].name, name)) {
			efs_free(r->headers[i].value);
			r->headers[i].value = copy;
			return 0;
		}
	}
	n = efs_strdup(name);
	v = n ? efs_reallocarray(r->headers, r->nheaders + 1, sizeof(*v))
	      : NULL;
	if (!v) {
		efs_free(n);
		efs_free(copy);
		return efs_error_set(EFS_ENOMEM, "mk12_http: out of memory");
	}
	v[r->nheaders].name = n;
	v[r->nheaders].value = copy;
	r->headers = v;
	r->nheaders++;
	return 0;
}

void mk12_http_request_release(struct mk12_http_request *r)
{
	efs_free(r->url);
	free_headers(r);
	memset(r, 0, sizeof(*r));
}
