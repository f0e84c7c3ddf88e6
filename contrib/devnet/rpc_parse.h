/*
 * rpc_parse.h - the JSON-RPC 2.0 envelope as go-jsonrpc (Lotus' RPC
 * library) reads and writes it over HTTP: request bodies, single or
 * batch, and the response objects.
 *
 * What go-jsonrpc does, and so what this does:
 *  - the body is trimmed of white space; empty is -32600 "Invalid
 *    request" (HTTP 400);
 *  - a body that starts with '[' and ends with ']' is a batch: an array
 *    of requests, each answered in order in an array; an empty array is
 *    -32600; anything in it that is not a request makes the whole body
 *    -32700 "Parse error";
 *  - otherwise the first JSON value is the request (what follows it is
 *    ignored); not a request: -32700 "Parse error";
 *  - a request is an object (or null) with "jsonrpc" and "method"
 *    strings, any "params", an "id" that is a number, a string or null,
 *    and "meta" (an object of strings); field names match whatever
 *    their case, unknown fields are ignored;
 *  - an id of another type is -32700 "failed to parse ID: invalid id
 *    type: ..."; no id or a null id makes a notification (no response
 *    unless it fails before its method runs);
 *  - "params" must be an array (or null, or missing: no parameters),
 *    else -32700 "unmarshaling param array: ...".
 * Errors from these checks are answered with HTTP 500 (400 for -32600)
 * when the body is a single request.
 *
 * Ownership: a struct rpc_body owns its parsed JSON; the requests'
 * pointers are borrowed from it.  All functions are reentrant.
 */
#ifndef EFS_DEVNET_RPC_PARSE_H
#define EFS_DEVNET_RPC_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

enum rpc_code {
	RPC_PARSE_ERROR = -32700,
	RPC_INVALID_REQUEST = -32600,
	RPC_METHOD_NOT_FOUND = -32601,
	RPC_INVALID_PARAMS = -32602,
	RPC_METHOD_ERROR = 1,       /* an error the method returned */
};

/* Longest error message kept. */
#define RPC_MSG_MAX 512

struct rpc_error {
	int code;                   /* enum rpc_code */
	char message[RPC_MSG_MAX];
};

struct rpc_request {
	json_t *id;                 /* NULL: notification */
	const char *method;         /* "" when missing */
	json_t *params;             /* the array; NULL: none */
	bool bad;                   /* failed before dispatch: see err */
	struct rpc_error err;
};

struct rpc_body {
	json_t *root;               /* owned */
	bool batch;
	size_t n;                   /* requests (1 unless batch) */
	struct rpc_request *reqs;   /* owned array of n */
};

/*
 * Parse body[0..len).  Returns 0 (each request then is either ready for
 * dispatch or `bad`), or EFS_ECORRUPT with *err set when the whole body
 * fails (answer it with one error response, id null), or EFS_ENOMEM.
 * Release *out with rpc_parse_release in every case.
 */
int rpc_parse_body(struct rpc_body *out, struct rpc_error *err,
		   const char *body, size_t len);

void rpc_parse_release(struct rpc_body *b);

/* The HTTP status go-jsonrpc sends with an envelope error of code. */
unsigned rpc_parse_http_status(int code);

/* Set e to code and a printf-formatted message; returns code. */
int rpc_parse_error_set(struct rpc_error *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Go's name for the JSON type of v in decoding errors: "object",
 * "array", "string", "number", "bool". */
const char *rpc_parse_type_name(const json_t *v);

/*
 * Response objects, keys in the order Go's encoder writes them:
 * {"id":..,"jsonrpc":"2.0","result":..} and
 * {"error":{"code":..,"message":..},"id":..,"jsonrpc":"2.0"}.
 * id may be NULL (written as null); result is stolen (NULL: null).
 * Return a new reference, or NULL when out of memory.
 */
json_t *rpc_parse_result(const json_t *id, json_t *result);
json_t *rpc_parse_error(const json_t *id, const struct rpc_error *e);

#endif
