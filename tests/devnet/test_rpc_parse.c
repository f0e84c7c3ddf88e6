/*
 * test_rpc_parse.c - the JSON-RPC envelope as go-jsonrpc reads it:
 * single and batch bodies, the errors of the whole body and of single
 * requests, ids, params, and the response objects.
 *
 * Expected codes and messages are go-jsonrpc's (handler.go handleReader
 * and handle, websocket.go normalizeID at 50fb727, 2026-02); Go type
 * names in messages as encoding/json prints them.
 */
#include "contrib/devnet/rpc_parse.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "tests/harness.h"

/* Whole-body failures: code and message. */
static const struct {
	const char *body;
	int code;
	const char *message;
} body_errors[] = {
	{ "", RPC_INVALID_REQUEST, "Invalid request" },
	{ " \t\r\n", RPC_INVALID_REQUEST, "Invalid request" },
	{ "[]", RPC_INVALID_REQUEST, "Invalid request" },
	{ " [ ] ", RPC_INVALID_REQUEST, "Invalid request" },
	{ "{", RPC_PARSE_ERROR, "Parse error" },
	{ "nonsense", RPC_PARSE_ERROR, "Parse error" },
	{ "123", RPC_PARSE_ERROR, "Parse error" },
	{ "\"x\"", RPC_PARSE_ERROR, "Parse error" },
	{ "[1]", RPC_PARSE_ERROR, "Parse error" },
	{ "[{\"method\":1}]", RPC_PARSE_ERROR, "Parse error" },
	{ "[{}, 2]", RPC_PARSE_ERROR, "Parse error" },
	{ "{\"method\":5}", RPC_PARSE_ERROR, "Parse error" },
	{ "{\"jsonrpc\":2}", RPC_PARSE_ERROR, "Parse error" },
	{ "{\"meta\":{\"a\":1}}", RPC_PARSE_ERROR, "Parse error" },
	{ "{\"meta\":[]}", RPC_PARSE_ERROR, "Parse error" },
	{ "{\"method\":\"a\\u0000b\"}", RPC_PARSE_ERROR, "Parse error" },
	{ "{\"id\":1e400}", RPC_PARSE_ERROR, "Parse error" },
	{ "[{}", RPC_PARSE_ERROR, "Parse error" },
};

static void test_rpc_parse__body_errors(void)
{
	for (size_t i = 0; i < sizeof(body_errors) / sizeof(body_errors[0]);
	     i++) {
		struct rpc_body b;
		struct rpc_error e = { 0 };
		const char *s = body_errors[i].body;

		CU_ASSERT_EQUAL(rpc_parse_body(&b, &e, s, strlen(s)),
				EFS_ECORRUPT);
		CU_ASSERT_EQUAL(e.code, body_errors[i].code);
		CU_ASSERT_STRING_EQUAL(e.message, body_errors[i].message);
		rpc_parse_release(&b);
	}
}

static void parse_one(struct rpc_body *b, const char *s)
{
	struct rpc_error e = { 0 };

	CU_ASSERT_EQUAL_FATAL(rpc_parse_body(b, &e, s, strlen(s)), 0);
	CU_ASSERT_FATAL(b->n >= 1);
}

static void test_rpc_parse__single(void)
{
	struct rpc_body b;

	parse_one(&b, "{\"jsonrpc\":\"2.0\",\"method\":\"Filecoin.ChainHead\","
		      "\"params\":[1,\"x\"],\"id\":7}  trailing junk");
	CU_ASSERT_FALSE(b.batch);
	CU_ASSERT_EQUAL(b.n, 1);
	CU_ASSERT_FALSE(b.reqs[0].bad);
	CU_ASSERT_STRING_EQUAL(b.reqs[0].method, "Filecoin.ChainHead");
	CU_ASSERT_EQUAL(json_array_size(b.reqs[0].params), 2);
	CU_ASSERT_EQUAL(json_integer_value(b.reqs[0].id), 7);
	rpc_parse_release(&b);

	/* Go matches field names without regard to case. */
	parse_one(&b, "{\"METHOD\":\"M\",\"Params\":null,\"ID\":\"a\"}");
	CU_ASSERT_STRING_EQUAL(b.reqs[0].method, "M");
	CU_ASSERT_PTR_NULL(b.reqs[0].params);
	CU_ASSERT_STRING_EQUAL(json_string_value(b.reqs[0].id), "a");
	rpc_parse_release(&b);

	/* null body: a request with nothing, a notification */
	parse_one(&b, "null");
	CU_ASSERT_STRING_EQUAL(b.reqs[0].method, "");
	CU_ASSERT_PTR_NULL(b.reqs[0].id);
	rpc_parse_release(&b);

	/* id null is a notification too; unknown members are ignored */
	parse_one(&b, "{\"method\":\"M\",\"id\":null,\"x\":[1,2]}");
	CU_ASSERT_PTR_NULL(b.reqs[0].id);
	CU_ASSERT_FALSE(b.reqs[0].bad);
	rpc_parse_release(&b);
}

static const struct {
	const char *body;
	const char *message;
} bad_requests[] = {
    {"{\"method\":\"M\",\"id\":{}}",
     "failed to parse ID: invalid id type: map[string]interface {}"},
    {"{\"method\":\"M\",\"id\":[1]}",
     "failed to parse ID: invalid id type: []interface {}"},
    {"{\"method\":\"M\",\"id\":true}",
     "failed to parse ID: invalid id type: bool"},
    {"{\"method\":\"M\",\"id\":1,\"params\":{}}",
     "unmarshaling param array: json: cannot unmarshal object into Go "
     "value of type []jsonrpc.param"},
    {"{\"method\":\"M\",\"id\":1,\"params\":\"x\"}",
     "unmarshaling param array: json: cannot unmarshal string into Go "
     "value of type []jsonrpc.param"},
    {"{\"method\":\"M\",\"id\":1,\"params\":5}",
     "unmarshaling param array: json: cannot unmarshal number into Go "
     "value of type []jsonrpc.param"},
};

static void test_rpc_parse__bad_requests(void)
{
	for (size_t i = 0; i < sizeof(bad_requests) / sizeof(bad_requests[0]);
	     i++) {
		struct rpc_body b;

		parse_one(&b, bad_requests[i].body);
		CU_ASSERT_TRUE(b.reqs[0].bad);
		CU_ASSERT_EQUAL(b.reqs[0].err.code, RPC_PARSE_ERROR);
		CU_ASSERT_STRING_EQUAL(b.reqs[0].err.message,
				       bad_requests[i].message);
		rpc_parse_release(&b);
	}
}

static void test_rpc_parse__batch(void)
{
	struct rpc_body b;

	parse_one(&b, " [{\"method\":\"A\",\"id\":1},"
		      " {\"method\":\"B\",\"id\":{}}, null] ");
	CU_ASSERT_TRUE(b.batch);
	CU_ASSERT_EQUAL_FATAL(b.n, 3);
	CU_ASSERT_STRING_EQUAL(b.reqs[0].method, "A");
	CU_ASSERT_FALSE(b.reqs[0].bad);
	CU_ASSERT_TRUE(b.reqs[1].bad);
	CU_ASSERT_STRING_EQUAL(b.reqs[2].method, "");
	rpc_parse_release(&b);

	/* '[' ... not ending in ']': the first value is one request */
	{
		struct rpc_error e = {0};
		const char *s = "[{\"method\":\"A\"}] x";

		CU_ASSERT_EQUAL(rpc_parse_body(&b, &e, s, strlen(s)),
				EFS_ECORRUPT);
		CU_ASSERT_EQUAL(e.code, RPC_PARSE_ERROR);
		rpc_parse_release(&b);
	}
}

static void expect_json(json_t *v, const char *want)
{
	char *got;

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	got = json_dumps(v, JSON_COMPACT);
	CU_ASSERT_STRING_EQUAL(got, want);
	free(got);
	json_decref(v);
}

static void test_rpc_parse__responses(void)
{
	struct rpc_error e;
	json_t *id;

	id = json_integer(7);
	expect_json(rpc_parse_result(id, json_string("x")),
		    "{\"id\":7,\"jsonrpc\":\"2.0\",\"result\":\"x\"}");
	expect_json(rpc_parse_result(id, NULL),
		    "{\"id\":7,\"jsonrpc\":\"2.0\",\"result\":null}");
	json_decref(id);
	/* Go reads ids as float64 and writes integral ones back bare. */
	id = json_real(12.0);
	expect_json(rpc_parse_result(id, NULL),
		    "{\"id\":12,\"jsonrpc\":\"2.0\",\"result\":null}");
	json_decref(id);
	id = json_real(1.5);
	expect_json(rpc_parse_result(id, NULL),
		    "{\"id\":1.5,\"jsonrpc\":\"2.0\",\"result\":null}");
	json_decref(id);
	rpc_parse_error_set(&e, RPC_METHOD_NOT_FOUND, "method '%s' not found",
			    "X");
	expect_json(rpc_parse_error(NULL, &e),
		    "{\"error\":{\"code\":-32601,\"message\":\"method 'X' not "
		    "found\"},\"id\":null,\"jsonrpc\":\"2.0\"}");
	/* a message cut in the middle of a UTF-8 sequence */
	rpc_parse_error_set(&e, 1, "%s", "\xc3");
	expect_json(rpc_parse_error(NULL, &e),
		    "{\"error\":{\"code\":1,\"message\":\"(message is not "
		    "valid utf-8)\"},\"id\":null,\"jsonrpc\":\"2.0\"}");
	CU_ASSERT_EQUAL(rpc_parse_http_status(RPC_INVALID_REQUEST), 400);
	CU_ASSERT_EQUAL(rpc_parse_http_status(RPC_PARSE_ERROR), 500);
	CU_ASSERT_EQUAL(rpc_parse_http_status(RPC_METHOD_NOT_FOUND), 500);
	CU_ASSERT_EQUAL(rpc_parse_http_status(RPC_METHOD_ERROR), 200);
}

/* Deep nesting must fail cleanly (jansson caps the depth). */
static void test_rpc_parse__deep(void)
{
	size_t n = 100000;
	char *s = efs_malloc(2 * n + 1);
	struct rpc_body b;
	struct rpc_error e;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	memset(s, '[', n);
	memset(s + n, ']', n);
	s[2 * n] = '\0';
	CU_ASSERT_EQUAL(rpc_parse_body(&b, &e, s, 2 * n), EFS_ECORRUPT);
	CU_ASSERT_EQUAL(e.code, RPC_PARSE_ERROR);
	rpc_parse_release(&b);
	efs_free(s);
}

static CU_TestInfo rpc_parse_tests[] = {
    {"body_errors", test_rpc_parse__body_errors},
    {"single", test_rpc_parse__single},
    {"bad_requests", test_rpc_parse__bad_requests},
    {"batch", test_rpc_parse__batch},
    {"responses", test_rpc_parse__responses},
    {"deep", test_rpc_parse__deep},
    CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "rpc_parse", .pTests = rpc_parse_tests })
