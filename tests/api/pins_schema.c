/*
 * pins_schema.c - JSON values checked against the pinning spec's
 * OpenAPI schemas (pins_schema.h).  A small recursive walk: each keyword
 * is one function of a table, so the set checked reads at a glance.
 */
#include "tests/api/pins_schema.h"

#include <stdio.h>
#include <string.h>

#include "core/banned.h"

struct ctx {
	const json_t *doc;
	char *why;
	size_t cap;
};

static bool check(struct ctx *c, const json_t *schema, const json_t *v,
		  const char *where);

static bool fail(struct ctx *c, const char *where, const char *what)
{
	snprintf(c->why, c->cap, "%s: %s", where, what);
	return false;
}

static const json_t *resolve(struct ctx *c, const char *ref)
{
	const char *prefix = "#/components/schemas/";

	if (strncmp(ref, prefix, strlen(prefix)) != 0)
		return NULL;
	return json_object_get(json_object_get(json_object_get(c->doc,
							       "components"),
					       "schemas"),
			       ref + strlen(prefix));
}

/* "dddd-dd-ddTdd:dd:dd" then an optional fraction, then Z or +hh:mm. */
static bool date_time(const char *s)
{
	const char *shape = "dddd-dd-ddTdd:dd:dd";
	size_t i = 0;

	for (; shape[i]; i++)
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9')
				    : s[i] != shape[i])
			return false;
	s += i;
	if (*s == '.') {
		if (s[1] < '0' || s[1] > '9')
			return false;
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	}
	if (*s == 'Z')
		return s[1] == '\0';
	return (*s == '+' || *s == '-') && strlen(s) == 6 && s[3] == ':';
}

static size_t chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static bool check_type(struct ctx *c, const char *type, const json_t *v,
		       const char *where)
{
	if ((strcmp(type, "object") == 0 && json_is_object(v)) ||
	    (strcmp(type, "array") == 0 && json_is_array(v)) ||
	    (strcmp(type, "string") == 0 && json_is_string(v)) ||
	    (strcmp(type, "integer") == 0 && json_is_integer(v)))
		return true;
	return fail(c, where, type);
}

static bool check_object(struct ctx *c, const json_t *schema,
			 const json_t *v, const char *where)
{
	const json_t *props = json_object_get(schema, "properties");
	const json_t *more = json_object_get(schema, "additionalProperties");
	const json_t *req = json_object_get(schema, "required");
	const json_t *min = json_object_get(schema, "minProperties");
	const json_t *max = json_object_get(schema, "maxProperties");
	char sub[256];
	const char *k;
	json_t *x;
	size_t i;

	json_array_foreach(req, i, x)
		if (!json_object_get(v, json_string_value(x))) {
			snprintf(sub, sizeof(sub), "missing %s",
				 json_string_value(x));
			return fail(c, where, sub);
		}
	if ((min && json_object_size(v) < (size_t)json_integer_value(min)) ||
	    (max && json_object_size(v) > (size_t)json_integer_value(max)))
		return fail(c, where, "number of properties");
	json_object_foreach((json_t *)v, k, x) {
		const json_t *s = json_object_get(props, k);

		snprintf(sub, sizeof(sub), "%s.%s", where, k);
		if (!s && json_is_object(more))
			s = more;
		if (!s && json_is_false(more))
			return fail(c, sub, "not allowed");
		if (s && !check(c, s, x, sub))
			return false;
	}
	return true;
}

static bool check_array(struct ctx *c, const json_t *schema, const json_t *v,
			const char *where)
{
	const json_t *items = json_object_get(schema, "items");
	const json_t *min = json_object_get(schema, "minItems");
	const json_t *max = json_object_get(schema, "maxItems");
	size_t n = json_array_size(v);
	char sub[256];

	if (min && n < (size_t)json_integer_value(min))
		return fail(c, where, "too few items");
	if (max && n > (size_t)json_integer_value(max))
		return fail(c, where, "too many items");
	for (size_t i = 0; i < n; i++) {
		snprintf(sub, sizeof(sub), "%s[%zu]", where, i);
		if (items && !check(c, items, json_array_get(v, i), sub))
			return false;
		if (json_is_true(json_object_get(schema, "uniqueItems")))
			for (size_t j = 0; j < i; j++)
				if (json_equal(json_array_get(v, i),
					       json_array_get(v, j)))
					return fail(c, sub, "not unique");
	}
	return true;
}

static bool check_scalar(struct ctx *c, const json_t *schema,
			 const json_t *v, const char *where)
{
	const json_t *en = json_object_get(schema, "enum");
	const json_t *maxlen = json_object_get(schema, "maxLength");
	const json_t *min = json_object_get(schema, "minimum");
	const json_t *fmt = json_object_get(schema, "format");
	bool in = !en;
	json_t *x;
	size_t i;

	json_array_foreach(en, i, x)
		in = in || json_equal(x, v);
	if (!in)
		return fail(c, where, "not in enum");
	if (maxlen && json_is_string(v) &&
	    chars(json_string_value(v)) > (size_t)json_integer_value(maxlen))
		return fail(c, where, "too long");
	if (min && json_is_integer(v) &&
	    json_integer_value(v) < json_integer_value(min))
		return fail(c, where, "below minimum");
	if (fmt && strcmp(json_string_value(fmt), "date-time") == 0 &&
	    !date_time(json_string_value(v)))
		return fail(c, where, "not an RFC 3339 date-time");
	return true;
}

static bool check(struct ctx *c, const json_t *schema, const json_t *v,
		  const char *where)
{
	const json_t *ref = json_object_get(schema, "$ref");
	const json_t *type = json_object_get(schema, "type");

	if (ref) {
		const json_t *s = resolve(c, json_string_value(ref));

		return s ? check(c, s, v, where)
			 : fail(c, where, "unresolved $ref");
	}
	if (type && !check_type(c, json_string_value(type), v, where))
		return false;
	if (json_is_object(v))
		return check_object(c, schema, v, where);
	if (json_is_array(v))
		return check_array(c, schema, v, where);
	return check_scalar(c, schema, v, where);
}

bool pins_schema_check(const json_t *doc, const char *name, const json_t *v,
		       char *why, size_t cap)
{
	struct ctx c = { doc, why, cap };
	char ref[128];
	json_t *r;
	bool ok;

	snprintf(ref, sizeof(ref), "#/components/schemas/%s", name);
	r = json_pack("{s:s}", "$ref", ref);
	why[0] = '\0';
	ok = r && check(&c, r, v, name);
	json_decref(r);
	return ok;
}
