/*
 * test_api_token.c - the API's bearer token (api/api_token.h) and the
 * routes it guards (POST /evict, /pin, /unpin of api_server.c): the
 * token file (random, mode 0600, read back, refused when malformed),
 * the constant-time check, 401 in the JSON error form without the right
 * token while GET routes stay open, 503 before an evictor is set, and
 * the routes over a real blockstore with an evictor: a pass, a DAG, pin
 * and unpin, bad bodies.
 */
#include "api/api_token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "api/api_server.h"
#include "core/bstore.h"
#include "core/error.h"
#include "dealer/evict.h"
#include "net/httpc.h"
#include "tests/api/api_test.h"
#include "tests/harness.h"

#include "core/banned.h"

static void test_token__file(void)
{
	char a[API_TOKEN_SIZE], b[API_TOKEN_SIZE], c[API_TOKEN_SIZE];
	char path[4200];
	struct stat st;

	api_token_remove(tmp);
	CU_ASSERT_EQUAL(api_token_read(a, tmp), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(api_token_create(a, tmp), 0);
	CU_ASSERT_EQUAL(strlen(a), API_TOKEN_LEN);
	CU_ASSERT_EQUAL(strspn(a, "0123456789abcdef"), API_TOKEN_LEN);
	snprintf(path, sizeof(path), "%s/%s", tmp, API_TOKEN_FILE);
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	CU_ASSERT_EQUAL(api_token_read(b, tmp), 0);
	CU_ASSERT_STRING_EQUAL(a, b);
	/* a new start, a new token */
	CU_ASSERT_EQUAL(api_token_create(c, tmp), 0);
	CU_ASSERT(strcmp(a, c) != 0);
	/* not a token */
	CU_ASSERT_EQUAL(harness_write_file(path, "secret\n", 7), 0);
	CU_ASSERT_EQUAL(api_token_read(b, tmp), EFS_ECORRUPT);
	CU_ASSERT_PTR_NULL(strstr(efs_error_msg(), "secret"));
	api_token_remove(tmp);
	CU_ASSERT_EQUAL(stat(path, &st), -1);
	api_token_remove(tmp);
}

static void test_token__check(void)
{
	static const char tok[] = "00112233445566778899aabbccddeeff";

	CU_ASSERT_TRUE(api_token_check(tok, "Bearer 00112233445566778899"
					    "aabbccddeeff"));
	CU_ASSERT_FALSE(api_token_check(tok, "Bearer 00112233445566778899"
					     "aabbccddeefe"));
	CU_ASSERT_FALSE(api_token_check(tok, "Bearer 0011223344556677"));
	CU_ASSERT_FALSE(api_token_check(tok, "00112233445566778899aabbccdd"
					     "eeff"));
	CU_ASSERT_FALSE(api_token_check(tok, "Basic 00112233445566778899"
					     "aabbccddeeff"));
	CU_ASSERT_FALSE(api_token_check(tok, NULL));
	CU_ASSERT_FALSE(api_token_check("", "Bearer "));
	CU_ASSERT_FALSE(api_token_check(NULL, "Bearer x"));
}

/* ---- the routes ---- */

/* POST body to path with the token tok (NULL: no header). */
static long post(json_t **out, struct api_server *s, const char *path,
		 const char *tok, const char *body)
{
	char url[256], auth[128];
	const char *headers[] = { auth, "Content-Type: application/json",
				  NULL };
	struct httpc_req req = HTTPC_REQ_INIT("POST", url);
	struct httpc_resp resp;
	long status;

	snprintf(url, sizeof(url), "%s%s", api_server_url(s), path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
	req.headers = tok ? headers : headers + 1;
	req.body = body;
	req.body_len = strlen(body);
	CU_ASSERT_EQUAL_FATAL(httpc_do(&resp, &req), 0);
	status = resp.status;
	*out = json_loadb((const char *)resp.body.ptr, resp.body.len, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL(*out);
	httpc_resp_release(&resp);
	return status;
}

static const char *reason(json_t *v)
{
	return json_string_value(json_object_get(json_object_get(v, "error"),
						 "reason"));
}

static void test_token__routes(void)
{
	struct api_server_opts o = { 0 };
	struct evict_opts eo = EVICT_OPTS_INIT;
	char tok[API_TOKEN_SIZE], body[512], s_cid[CID_STR_MAX];
	char url[256], db[4200];
	struct httpc_req get = HTTPC_REQ_INIT("GET", url);
	struct httpc_resp resp;
	struct api_server *s;
	struct bstore *bs;
	struct evict *e;
	struct cid id;
	char *text;
	json_t *v;

	CU_ASSERT_EQUAL_FATAL(api_token_create(tok, tmp), 0);
	o.token = tok;
	CU_ASSERT_EQUAL_FATAL(api_server_start(&s, "127.0.0.1:0", &o), 0);

	/* without the right token: 401, the JSON error form */
	CU_ASSERT_EQUAL(post(&v, s, "/evict", NULL, "{}"), 401);
	CU_ASSERT_STRING_EQUAL(reason(v), "UNAUTHORIZED");
	text = json_dumps(v, 0);
	CU_ASSERT(text && !strstr(text, tok));
	free(text);
	json_decref(v);
	CU_ASSERT_EQUAL(post(&v, s, "/pin", "0123", "{}"), 401);
	json_decref(v);
	tok[0] ^= 1;
	CU_ASSERT_EQUAL(post(&v, s, "/unpin", tok, "{}"), 401);
	json_decref(v);
	tok[0] ^= 1;
	/* GET routes stay open */
	snprintf(url, sizeof(url), "%s/health", api_server_url(s));
	CU_ASSERT_EQUAL(httpc_do(&resp, &get), 0);
	CU_ASSERT_EQUAL(resp.status, 200);
	httpc_resp_release(&resp);
	/* the right token, no evictor yet */
	CU_ASSERT_EQUAL(post(&v, s, "/evict", tok, "{}"), 503);
	CU_ASSERT_STRING_EQUAL(reason(v), "UNAVAILABLE");
	json_decref(v);

	/* an evictor over a store holding one block, located nowhere */
	CU_ASSERT_FATAL(bstore_open(&bs, tmp, NULL) == 0);
	CU_ASSERT_EQUAL(cid_hash(&id, 1, CID_CODEC_RAW, MHASH_SHA2_256, "hi",
				 2), 0);
	CU_ASSERT_EQUAL(bstore_put(bs, &id, (const uint8_t *)"hi", 2), 0);
	CU_ASSERT_EQUAL(bstore_sync(bs), 0);
	snprintf(db, sizeof(db), "%s/index.db", tmp);
	eo.cache_size = 1;
	CU_ASSERT_FATAL(evict_open(&e, bs, db, &eo) == 0);
	api_server_set_evictor(s, e);

	CU_ASSERT_EQUAL(post(&v, s, "/evict", tok, ""), 200);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(
				json_object_get(v, "evicted"), "blocks")), 0);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(
				json_object_get(v, "kept"), "no_location"),
				"blocks")), 1);
	json_decref(v);
	snprintf(body, sizeof(body), "{\"target\": \"%s\"}",
		 cid_tostr(s_cid, &id));
	CU_ASSERT_EQUAL(post(&v, s, "/evict", tok, body), 200);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(v, "seen")), 1);
	json_decref(v);
	snprintf(body, sizeof(body), "{\"target\": \"%s\", \"name\": \"/a\"}",
		 s_cid);
	CU_ASSERT_EQUAL(post(&v, s, "/pin", tok, body), 200);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(v, "blocks")), 1);
	CU_ASSERT(json_integer_value(json_object_get(v, "pin")) > 0);
	json_decref(v);
	CU_ASSERT_EQUAL(post(&v, s, "/unpin", tok, "{\"name\": \"/a\"}"), 200);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(v, "removed")), 1);
	json_decref(v);
	/* bad bodies, an unknown CID */
	CU_ASSERT_EQUAL(post(&v, s, "/evict", tok, "[1]"), 400);
	CU_ASSERT_STRING_EQUAL(reason(v), "BAD_REQUEST");
	json_decref(v);
	CU_ASSERT_EQUAL(post(&v, s, "/evict", tok, "{\"target\": \"nope\"}"),
			400);
	json_decref(v);
	CU_ASSERT_EQUAL(post(&v, s, "/pin", tok, "{}"), 400);
	json_decref(v);
	CU_ASSERT_EQUAL(post(&v, s, "/unpin", tok, "{}"), 400);
	json_decref(v);
	id.digest[0] ^= 1;
	snprintf(body, sizeof(body), "{\"target\": \"%s\"}",
		 cid_tostr(s_cid, &id));
	CU_ASSERT_EQUAL(post(&v, s, "/evict", tok, body), 404);
	CU_ASSERT_STRING_EQUAL(reason(v), "NOT_FOUND");
	json_decref(v);
	CU_ASSERT_EQUAL(post(&v, s, "/pin", tok, body), 404);
	json_decref(v);

	api_server_stop(s);
	evict_close(e);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	api_token_remove(tmp);
}

/* A server started without a token allows no POST route. */
static void test_token__none(void)
{
	struct api_server *s;
	json_t *v;

	CU_ASSERT_EQUAL_FATAL(api_server_start(&s, "127.0.0.1:0", NULL), 0);
	CU_ASSERT_EQUAL(post(&v, s, "/evict", "", "{}"), 401);
	json_decref(v);
	api_server_stop(s);
}

static CU_TestInfo tests[] = {
	{ "file", test_token__file },
	{ "check", test_token__check },
	{ "routes", test_token__routes },
	{ "none", test_token__none },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "api_token", .pInitFunc = api_test_suite_setup,
	       .pCleanupFunc = api_test_suite_teardown, .pTests = tests })
