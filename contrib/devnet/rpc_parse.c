/*
 * rpc_parse.c - the JSON-RPC envelope as go-jsonrpc reads it (see
 * rpc_parse.h for the rules; the Go sources are go-jsonrpc's
 * handler.go, server.go, websocket.go normalizeID and response.go).
 *
 * Go decodes a request into a struct, so its field matching is
 * case-insensitive (an exact match wins), a null leaves a field at its
 * zero value and a value of the wrong type fails the decode.  Go reads a
 * number id as float64 and writes it back the shortest way, so an
 * integral id comes back as an integer.
 */
#include "contrib/devnet/rpc_parse.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/error.h"

#include "core/banned.h"

int rpc_parse_error_set(struct rpc_error *e, int code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return code;
}

unsigned rpc_parse_http_status(int code)
{
	if (code == RPC_INVALID_REQUEST)
		return 400;
	return code == RPC_METHOD_ERROR ? 200 : 500;
}

const char *rpc_parse_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "bool";
	default:
		return "null";
	}
}

/* Go's name of the dynamic type an interface{} gets from v. */
static const char *go_any_type(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "map[string]interface {}";
	case JSON_ARRAY:
		return "[]interface {}";
	default:
		return "bool";
	}
}

/* The member of o named key, matched as encoding/json matches fields. */
static json_t *field(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key), *w;
	const char *k;

	if (v)
		return v;
	json_object_foreach((json_t *)o, k, w)
		if (strcasecmp(k, key) == 0)
			return w;
	return NULL;
}

static bool string_or_null(const json_t *v)
{
	return !v || json_is_string(v) || json_is_null(v);
}

static bool meta_ok(const json_t *v)
{
	const char *k;
	json_t *w;

	if (!v || json_is_null(v))
		return true;
	if (!json_is_object(v))
		return false;
	json_object_foreach((json_t *)v, k, w)
		if (!string_or_null(w))
			return false;
	return true;
}

/*
 * Decode one request.  Returns false when the value cannot decode into
 * go-jsonrpc's request struct at all (the body is then a parse error).
 */
static bool request_read(struct rpc_request *r, json_t *v)
{
	json_t *id, *method, *params;

	memset(r, 0, sizeof(*r));
	r->method = "";
	if (json_is_null(v))
		return true;
	if (!json_is_object(v))
		return false;
	method = field(v, "method");
	if (!string_or_null(field(v, "jsonrpc")) || !string_or_null(method) ||
	    !meta_ok(field(v, "meta")))
		return false;
	if (json_is_string(method))
		r->method = json_string_value(method);
	id = field(v, "id");
	if (id && !json_is_null(id)) {
		if (!json_is_string(id) && !json_is_number(id)) {
			r->bad = true;
			rpc_parse_error_set(
			    &r->err, RPC_PARSE_ERROR,
			    "failed to parse ID: invalid id type: %s",
			    go_any_type(id));
		} else {
			r->id = id;
		}
	}
	params = field(v, "params");
	if (r->bad || !params || json_is_null(params))
		return true;
	if (!json_is_array(params)) {
		r->bad = true;
		rpc_parse_error_set(&r->err, RPC_PARSE_ERROR,
				    "unmarshaling param array: json: cannot "
				    "unmarshal %s into Go value of type "
				    "[]jsonrpc.param",
				    rpc_parse_type_name(params));
		return true;
	}
	r->params = params;
	return true;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

static int parse_batch(struct rpc_body *out, struct rpc_error *err)
{
	size_t n = json_array_size(out->root);

	if (!json_is_array(out->root))
		return efs_error_set(EFS_ECORRUPT, "rpc: parse error");
	if (n == 0) {
		rpc_parse_error_set(err, RPC_INVALID_REQUEST,
				    "Invalid request");
		return efs_error_set(EFS_ECORRUPT, "rpc: empty batch");
	}
	out->reqs = efs_calloc(n, sizeof(*out->reqs));
	if (!out->reqs)
		return efs_error_set(EFS_ENOMEM, "rpc: out of memory");
	out->n = n;
	for (size_t i = 0; i < n; i++)
		if (!request_read(&out->reqs[i],
				  json_array_get(out->root, i)))
			return efs_error_set(EFS_ECORRUPT, "rpc: parse error");
	return 0;
}

int rpc_parse_body(struct rpc_body *out, struct rpc_error *err,
		   const char *body, size_t len)
{
	memset(out, 0, sizeof(*out));
	while (len && is_space(body[0])) {
		body++;
		len--;
	}
	while (len && is_space(body[len - 1]))
		len--;
	if (len == 0) {
		rpc_parse_error_set(err, RPC_INVALID_REQUEST,
				    "Invalid request");
		return efs_error_set(EFS_ECORRUPT, "rpc: empty request");
	}
	rpc_parse_error_set(err, RPC_PARSE_ERROR, "Parse error");
	out->root = json_loadb(body, len,
			       JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, NULL);
	if (!out->root)
		return efs_error_set(EFS_ECORRUPT, "rpc: parse error");
	out->batch = body[0] == '[' && body[len - 1] == ']';
	if (out->batch)
		return parse_batch(out, err);
	out->reqs = efs_calloc(1, sizeof(*out->reqs));
	if (!out->reqs)
		return efs_error_set(EFS_ENOMEM, "rpc: out of memory");
	out->n = 1;
	if (!request_read(&out->reqs[0], out->root))
		return efs_error_set(EFS_ECORRUPT, "rpc: parse error");
	return 0;
}

void rpc_parse_release(struct rpc_body *b)
{
	json_decref(b->root);
	efs_free(b->reqs);
	memset(b, 0, sizeof(*b));
}

/* The id as Go writes back the float64 it read. */
static json_t *id_copy(const json_t *id)
{
	double v;

	if (!id)
		return json_null();
	if (!json_is_real(id))
		return json_deep_copy(id);
	v = json_real_value(id);
	if (v == floor(v) && fabs(v) < 9007199254740992.0)
		return json_integer((json_int_t)v);
	return json_deep_copy(id);
}

/* Add the members every response has to o: 0, or -1 out of memory. */
static int envelope_add(json_t *o, const json_t *id)
{
	if (json_object_set_new(o, "id", id_copy(id)) < 0 ||
	    json_object_set_new(o, "jsonrpc", json_string("2.0")) < 0)
		return -1;
	return 0;
}

json_t *rpc_parse_result(const json_t *id, json_t *result)
{
	json_t *o = json_object();

	if (!result)
		result = json_null();
	if (!o || envelope_add(o, id) < 0) {
		json_decref(result);
		json_decref(o);
		return NULL;
	}
	if (json_object_set_new(o, "result", result) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *rpc_parse_error(const json_t *id, const struct rpc_error *e)
{
	json_t *err = json_object(), *msg = json_string(e->message), *o;

	/* A message cut inside a UTF-8 sequence is not a JSON string. */
	if (!msg)
		msg = json_string("(message is not valid utf-8)");
	if (!err || json_object_set_new(err, "code", json_integer(e->code))) {
		json_decref(msg);
		json_decref(err);
		return NULL;
	}
	if (json_object_set_new(err, "message", msg)) {
		json_decref(err);
		return NULL;
	}
	o = json_object();
	if (!o || json_object_set_new(o, "error", err) < 0) {
		if (!o)
			json_decref(err);
		json_decref(o);
		return NULL;
	}
	if (envelope_add(o, id) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}
