/*
 * filkey_keyinfo.c - Lotus key-info text (see filkey.h): the JSON
 * {"Type":"secp256k1","PrivateKey":"<base64>"} and its hex form.
 *
 * Design notes:
 *  - The text holds a private key, so it is read by a small JSON scanner
 *    of our own that works in place: no allocation (so no copy of the
 *    secret is left in freed heap memory, and nothing fails for lack of
 *    memory), only fixed stack buffers that are wiped before return.
 *    The scanner checks the whole text against the JSON grammar (RFC
 *    8259), decodes the two strings we need and skips any other value,
 *    nested at most KI_DEPTH_MAX deep.
 *  - Field matching follows Go's encoding/json as Lotus uses it: names
 *    match whatever their case, unknown names are ignored, []byte is
 *    standard base64 with padding (mbase_base64_decode, strict), and the
 *    deprecated integer Type is the signature type.  We are stricter
 *    where Go would go on to fail or where it would silently pick one of
 *    two readings: a repeated field, a non-canonical base64 tail, a key
 *    that is not 32 bytes.
 *  - Error messages never quote the input.
 */
#include "core/filkey.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "core/mbase.h"

#include "core/banned.h"

/* Nesting allowed in fields we skip. */
#define KI_DEPTH_MAX 32
/* Longest decoded Type string or field name we look at; longer ones are
 * read past (names) or rejected (values). */
#define KI_SHORT_MAX 32
/* Longest decoded PrivateKey string: 32 bytes are 44 characters. */
#define KI_B64_MAX 64

/* ---- the JSON scanner ---- */

struct ki_scan {
	const char *p;   /* next character */
	const char *end;
};

static void skip_ws(struct ki_scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
				 *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static bool take(struct ki_scan *s, char c)
{
	skip_ws(s);
	if (s->p < s->end && *s->p == c) {
		s->p++;
		return true;
	}
	return false;
}

/* The value of \uXXXX at s->p (after the 'u'); -1 when not 4 hex. */
static long scan_u4(struct ki_scan *s)
{
	long v = 0;

	if (s->end - s->p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int d = mbase_hex_value(*s->p++);

		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/*
 * Read the string at s->p (after skipping white space), decoding it into
 * out (room for cap bytes, NUL added) when out is not NULL.  Escapes of
 * characters past ASCII decode to 0x80, which no field we read accepts.
 * *len gets the decoded length, or SIZE_MAX when it did not fit.
 * Returns false on a syntax error.
 */
static bool scan_string(struct ki_scan *s, char *out, size_t cap,
			size_t *len)
{
	static const char esc_in[] = "\"\\/bfnrt";
	static const char esc_out[] = "\"\\/\b\f\n\r\t";
	size_t n = 0;

	if (!take(s, '"'))
		return false;
	while (s->p < s->end && *s->p != '"') {
		unsigned char c = (unsigned char)*s->p++;

		if (c < 0x20)
			return false;
		if (c == '\\') {
			const char *e;
			long u;

			if (s->p == s->end)
				return false;
			if (*s->p == 'u') {
				s->p++;
				if ((u = scan_u4(s)) < 0)
					return false;
				c = u < 0x80 ? (unsigned char)u : 0x80;
			} else if (*s->p && (e = strchr(esc_in, *s->p))) {
				s->p++;
				c = (unsigned char)esc_out[e - esc_in];
			} else {
				return false;
			}
		}
		if (out && n + 1 < cap)
			out[n] = (char)c;
		n++;
	}
	if (s->p == s->end)
		return false;
	s->p++;
	if (out)
		out[n < cap ? n : 0] = '\0';
	*len = out && n >= cap ? SIZE_MAX : n;
	return true;
}

static bool scan_digits(struct ki_scan *s)
{
	const char *start = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > start;
}

/*
 * Read a number; *integer tells whether it was a plain integer, whose
 * value (clamped to +-2^31) goes to *value.
 */
static bool scan_number(struct ki_scan *s, bool *integer, long *value)
{
	const char *start;
	bool neg;
	long v = 0;

	skip_ws(s);
	neg = s->p < s->end && *s->p == '-';
	s->p += neg;
	start = s->p;
	if (!scan_digits(s) || (*start == '0' && s->p - start > 1))
		return false;
	for (const char *d = start; d < s->p && v < 0x80000000L; d++)
		v = v * 10 + (*d - '0');
	*value = neg ? -v : v;
	*integer = true;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		*integer = false;
		if (!scan_digits(s))
			return false;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		*integer = false;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!scan_digits(s))
			return false;
	}
	return true;
}

static bool scan_word(struct ki_scan *s, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
		return false;
	s->p += n;
	return true;
}

static bool skip_value(struct ki_scan *s, int depth);

/* Skip the members of an object or the elements of an array whose
 * opening bracket was read. */
static bool skip_members(struct ki_scan *s, char close, int depth)
{
	size_t len;

	if (take(s, close))
		return true;
	do {
		if (close == '}' &&
		    (!scan_string(s, NULL, 0, &len) || !take(s, ':')))
			return false;
		if (!skip_value(s, depth))
			return false;
	} while (take(s, ','));
	return take(s, close);
}

static bool skip_value(struct ki_scan *s, int depth)
{
	bool integer;
	size_t len;
	long v;

	skip_ws(s);
	if (s->p == s->end || depth > KI_DEPTH_MAX)
		return false;
	switch (*s->p) {
	case '"':
		return scan_string(s, NULL, 0, &len);
	case '{':
		s->p++;
		return skip_members(s, '}', depth + 1);
	case '[':
		s->p++;
		return skip_members(s, ']', depth + 1);
	case 't':
		return scan_word(s, "true");
	case 'f':
		return scan_word(s, "false");
	case 'n':
		return scan_word(s, "null");
	default:
		return scan_number(s, &integer, &v);
	}
}

/* ---- key-info fields ---- */

static int bad_json(const struct ki_scan *s, const char *start)
{
	return efs_error_set(EFS_ECORRUPT, "key-info: bad JSON at byte %td",
			     s->p - start);
}

static int unsupported(const char *type)
{
	return efs_error_set(EFS_EUNSUPPORTED, "key-info: %s keys are not "
			     "supported, only secp256k1", type);
}

/* Read the Type value: 0 for secp256k1. */
static int read_type(struct ki_scan *s, const char *start)
{
	static const char *const by_number[] = { NULL, "secp256k1", "bls",
						 "delegated" };
	char name[KI_SHORT_MAX];
	bool integer;
	size_t len;
	long v;

	skip_ws(s);
	if (s->p < s->end && *s->p != '"') {
		/* Lotus's deprecated form: the signature type number. */
		if (!scan_number(s, &integer, &v))
			return bad_json(s, start);
		if (!integer || v < 1 || v > 3)
			return efs_error_set(EFS_ECORRUPT, "key-info: unknown "
					     "key type number");
		return v == FILSIG_SECP256K1 ? 0 : unsupported(by_number[v]);
	}
	if (!scan_string(s, name, sizeof(name), &len))
		return bad_json(s, start);
	if (len == SIZE_MAX || strlen(name) != len)
		return efs_error_set(EFS_ECORRUPT, "key-info: unknown key "
				     "type");
	if (strcmp(name, "secp256k1") == 0)
		return 0;
	if (strcmp(name, "bls") == 0 || strcmp(name, "delegated") == 0 ||
	    strcmp(name, "secp256k1-ledger") == 0)
		return unsupported(name);
	return efs_error_set(EFS_ECORRUPT, "key-info: unknown key type");
}

/* Read the PrivateKey value and make the key. */
static int read_key(struct filkey *out, struct ki_scan *s, const char *start)
{
	char b64[KI_B64_MAX];
	uint8_t priv[FILKEY_PRIVATE_LEN + 3];
	size_t len;
	long n;
	int rc;

	skip_ws(s);
	if (s->p < s->end && *s->p != '"') {
		if (!skip_value(s, 0))
			return bad_json(s, start);
		return efs_error_set(EFS_ECORRUPT, "key-info: PrivateKey is "
				     "not a base64 string");
	}
	if (!scan_string(s, b64, sizeof(b64), &len))
		rc = bad_json(s, start);
	else if (len == SIZE_MAX ||
		 (n = mbase_base64_decode(priv, sizeof(priv), b64,
					  len)) < 0)
		rc = efs_error_set(EFS_ECORRUPT, "key-info: PrivateKey is "
				   "not the base64 of a 32-byte key");
	else
		rc = filkey_import(out, priv, (size_t)n);
	explicit_bzero(b64, sizeof(b64));
	explicit_bzero(priv, sizeof(priv));
	return rc;
}

/* One member of the top object: a name, ':' and its value. */
static int read_member(struct filkey *out, struct ki_scan *s,
		       const char *start, bool *seen_type, bool *seen_key)
{
	char name[KI_SHORT_MAX];
	bool *seen = NULL;
	size_t len;
	int rc;

	if (!scan_string(s, name, sizeof(name), &len) || !take(s, ':'))
		return bad_json(s, start);
	if (len != SIZE_MAX && strlen(name) == len) {
		if (strcasecmp(name, "Type") == 0)
			seen = seen_type;
		else if (strcasecmp(name, "PrivateKey") == 0)
			seen = seen_key;
	}
	if (!seen)
		return skip_value(s, 1) ? 0 : bad_json(s, start);
	if (*seen)
		return efs_error_set(EFS_ECORRUPT, "key-info: field %s given "
				     "twice", seen == seen_type ? "Type" :
				     "PrivateKey");
	*seen = true;
	if (seen == seen_type)
		rc = read_type(s, start);
	else
		rc = read_key(out, s, start);
	return rc;
}

static int parse_json(struct filkey *out, const char *text, size_t len)
{
	struct ki_scan s = { text, text + len };
	bool seen_type = false, seen_key = false;
	int rc = 0;

	if (!take(&s, '{'))
		return efs_error_set(EFS_ECORRUPT, "key-info: not a JSON "
				     "object");
	if (!take(&s, '}')) {
		do {
			rc = read_member(out, &s, text, &seen_type, &seen_key);
		} while (rc == 0 && take(&s, ','));
		if (rc == 0 && !take(&s, '}'))
			rc = bad_json(&s, text);
	}
	skip_ws(&s);
	if (rc == 0 && s.p != s.end)
		rc = bad_json(&s, text);
	if (rc == 0 && (!seen_type || !seen_key))
		rc = efs_error_set(EFS_ECORRUPT, "key-info: no %s field",
				   seen_type ? "PrivateKey" : "Type");
	if (rc < 0)
		filkey_release(out);
	return rc;
}

/* ---- the API ---- */

size_t filkey_keyinfo_format(char *out, const struct filkey *k)
{
	char b64[48], json[128];
	long o;
	int n;

	mbase_base64_encode(b64, sizeof(b64), k->priv, sizeof(k->priv));
	n = snprintf(json, sizeof(json),
		     "{\"Type\":\"secp256k1\",\"PrivateKey\":\"%s\"}", b64);
	o = mbase_hex_encode(out, FILKEY_KEYINFO_MAX, (const uint8_t *)json,
			     (size_t)n);
	/* 80 bytes of JSON: its 160 hex digits always fit. */
	assert(o > 0);
	explicit_bzero(b64, sizeof(b64));
	explicit_bzero(json, sizeof(json));
	return (size_t)o;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int filkey_keyinfo_parse(struct filkey *out, const char *text, size_t len)
{
	char json[FILKEY_KEYINFO_IN_MAX / 2];
	int rc;

	while (len && is_space(text[0])) {
		text++;
		len--;
	}
	while (len && is_space(text[len - 1]))
		len--;
	if (len > FILKEY_KEYINFO_IN_MAX)
		return efs_error_set(EFS_ETOOBIG, "key-info: %zu bytes, over "
				     "the %d byte limit", len,
				     FILKEY_KEYINFO_IN_MAX);
	if (len == 0)
		return efs_error_set(EFS_ECORRUPT, "key-info: empty");
	if (text[0] == '{')
		return parse_json(out, text, len);
	if (mbase_hex_decode((uint8_t *)json, sizeof(json), text, len) < 0)
		rc = efs_error_set(EFS_ECORRUPT, "key-info: neither hex nor "
				   "JSON");
	else
		rc = parse_json(out, json, len / 2);
	explicit_bzero(json, sizeof(json));
	return rc;
}
