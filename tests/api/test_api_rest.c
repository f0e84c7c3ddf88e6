/*
 * test_api_rest.c - Estuary's REST reads (api/api_rest.c,
 * api_rest_public.c) over loopback, against a repository written by
 * tests/cli/status_fill.c (the picture `estuaryfs status` is tested on:
 * five commits, fourteen deals, six SPs with asks, the dealer's report;
 * meson passes the program in REST_FILL).  Checks the fields and their
 * values, 404 for what is not there, 400 for bad input, 401 for READ
 * routes without the token, and 503 without a repository.
 */
#include "api/api_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/api_token.h"
#include "core/error.h"
#include "net/httpc.h"
#include "tests/harness.h"

static char *tmp;
static struct api_server *srv;
static char token[API_TOKEN_SIZE];
static char auth[API_TOKEN_SIZE + 32];

/* What status_fill printed: ROOT1=..., PIECE1=..., UUID1=... */
static char fill_out[4096];

/* The value of NAME= in fill_out, into out. */
static const char *fill_get(char *out, size_t cap, const char *name)
{
	char key[32];
	const char *p;
	size_t n;

	snprintf(key, sizeof(key), "%s=", name);
	out[0] = '\0';
	for (p = fill_out; (p = strstr(p, key)); p++)
		if (p == fill_out || p[-1] == '\n')
			break;
	if (!p)
		return out;
	p += strlen(key);
	n = strcspn(p, "\n");
	snprintf(out, cap, "%.*s", (int)n, p);
	return out;
}

static int suite_setup(void)
{
	const char *fill = getenv("REST_FILL");
	char cmd[1024];
	struct api_server_opts o = { 0 };
	size_t n;
	FILE *f;

	if (!fill || httpc_global_init() < 0 || !(tmp = harness_tmpdir()))
		return 1;
	snprintf(cmd, sizeof(cmd), "'%s' '%s'", fill, tmp);
	if (!(f = popen(cmd, "r")))
		return 1;
	n = fread(fill_out, 1, sizeof(fill_out) - 1, f);
	fill_out[n] = '\0';
	if (pclose(f) != 0 || api_token_create(token, tmp) < 0)
		return 1;
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	o.token = token;
	o.repo = tmp;
	return api_server_start(&srv, "127.0.0.1:0", &o) < 0;
}

static int suite_teardown(void)
{
	api_server_stop(srv);
	harness_tmpdir_free(tmp);
	return 0;
}

/* method path (with the token when authed, body when not NULL); the
 * status, and the body as JSON in *out (decref it). */
static long call(json_t **out, const char *method, const char *path,
		 bool authed, const char *body)
{
	const char *headers[] = { auth, NULL };
	struct httpc_resp resp;
	char url[512];
	struct httpc_req req = HTTPC_REQ_INIT(method, url);
	long status = -1;

	snprintf(url, sizeof(url), "%s%s", api_server_url(srv), path);
	if (authed)
		req.headers = headers;
	if (body) {
		req.body = body;
		req.body_len = strlen(body);
	}
	*out = NULL;
	if (httpc_do(&resp, &req) == 0) {
		status = resp.status;
		*out = json_loadb((const char *)resp.body.ptr, resp.body.len,
				  0, NULL);
		CU_ASSERT_PTR_NOT_NULL(*out);
		if (resp.content_type)
			CU_ASSERT_STRING_EQUAL(resp.content_type,
					       "application/json");
	}
	httpc_resp_release(&resp);
	return status;
}

/* GET path; check status and, for errors, the reason. */
static void expect(const char *path, bool authed, long status,
		   const char *reason)
{
	const char *got = NULL;
	json_t *v;

	CU_ASSERT_EQUAL(call(&v, "GET", path, authed, NULL), status);
	if (reason) {
		json_unpack(v, "{s:{s:s}}", "error", "reason", &got);
		CU_ASSERT_PTR_NOT_NULL(got);
		if (got)
			CU_ASSERT_STRING_EQUAL(got, reason);
	}
	json_decref(v);
}

static json_int_t jint_at(json_t *o, const char *key)
{
	json_t *x = json_object_get(o, key);

	CU_ASSERT(json_is_integer(x));
	return json_integer_value(x);
}

static void test_rest__stats(void)
{
	json_t *v, *by;
	char s[64];

	/* public: no token needed */
	CU_ASSERT_EQUAL_FATAL(call(&v, "GET", "/public/stats", false, NULL),
			      200);
	CU_ASSERT_EQUAL(jint_at(v, "totalFilesStored"), 5);
	CU_ASSERT_EQUAL(jint_at(v, "commits"), 5);
	/* commit 3's six active deals, commit 1's four and one published */
	CU_ASSERT_EQUAL(jint_at(v, "dealsOnChain"), 11);
	CU_ASSERT_EQUAL(jint_at(v, "totalStorageMiner"), 6);
	CU_ASSERT_EQUAL(jint_at(v, "totalUsers"), 1);
	CU_ASSERT(jint_at(v, "totalStorage") > 0);
	CU_ASSERT(jint_at(v, "totalBytesUploaded") >=
		  jint_at(v, "totalStorage"));
	CU_ASSERT_EQUAL(jint_at(v, "evicted_blocks"),
			strtoll(fill_get(s, sizeof(s), "EVICTED3"), NULL, 10));
	CU_ASSERT(jint_at(v, "local_blocks") > 0);
	CU_ASSERT_EQUAL(jint_at(v, "totalObjectsRef"),
			jint_at(v, "local_blocks") +
				jint_at(v, "evicted_blocks"));
	by = json_object_get(v, "deals_by_state");
	CU_ASSERT_EQUAL(jint_at(by, "active"), 10);
	CU_ASSERT_EQUAL(jint_at(by, "published"), 1);
	CU_ASSERT_EQUAL(jint_at(by, "transferring"), 1);
	CU_ASSERT_EQUAL(jint_at(by, "failed"), 1);
	CU_ASSERT_EQUAL(jint_at(by, "expired"), 1);
	CU_ASSERT_EQUAL(jint_at(by, "proposing"), 0);
	json_decref(v);
}

static void test_rest__content_list(void)
{
	json_t *v, *c;

	expect("/content/list", false, 401, "UNAUTHORIZED");
	CU_ASSERT_EQUAL_FATAL(call(&v, "GET", "/content/list", true, NULL),
			      200);
	CU_ASSERT_EQUAL_FATAL(json_array_size(v), 5);
	c = json_array_get(v, 0);
	CU_ASSERT_EQUAL(jint_at(c, "id"), 1);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(c, "stage")),
			       "pieced");
	CU_ASSERT(json_equal(json_object_get(c, "cid"),
			     json_object_get(c, "root")));
	CU_ASSERT_EQUAL(jint_at(c, "active"), 4);
	CU_ASSERT_EQUAL(jint_at(c, "replication"), jint_at(c, "want"));
	CU_ASSERT(json_is_false(json_object_get(c, "offloaded")));
	/* commit 3: its leaves evicted */
	c = json_array_get(v, 2);
	CU_ASSERT(json_is_true(json_object_get(c, "offloaded")));
	CU_ASSERT_EQUAL(jint_at(c, "active"), 6);
	/* commit 2: waiting in the aggregate */
	c = json_array_get(v, 1);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(c, "stage")),
			       "waiting");
	json_decref(v);

	CU_ASSERT_EQUAL_FATAL(call(&v, "GET", "/content/list?limit=2&offset=1",
				   true, NULL), 200);
	CU_ASSERT_EQUAL(json_array_size(v), 2);
	CU_ASSERT_EQUAL(jint_at(json_array_get(v, 0), "id"), 2);
	CU_ASSERT_EQUAL(jint_at(json_array_get(v, 1), "id"), 3);
	json_decref(v);
	expect("/content/list?limit=ten", true, 400, "BAD_REQUEST");
	expect("/content/list?limit=-1", true, 400, "BAD_REQUEST");
	expect("/content/list?offset=99", true, 200, NULL);
}

static void test_rest__content_one(void)
{
	char path[256], root[128];
	json_t *v;

	expect("/content/1", false, 401, "UNAUTHORIZED");
	CU_ASSERT_EQUAL_FATAL(call(&v, "GET", "/content/1", true, NULL), 200);
	CU_ASSERT_EQUAL(jint_at(json_object_get(v, "content"), "id"), 1);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(v, "deals")), 8);
	CU_ASSERT_EQUAL(jint_at(v, "failuresCount"), 1);
	json_decref(v);

	snprintf(path, sizeof(path), "/content/status/%s",
		 fill_get(root, sizeof(root), "ROOT1"));
	CU_ASSERT_EQUAL_FATAL(call(&v, "GET", path, true, NULL), 200);
	CU_ASSERT_EQUAL(jint_at(json_object_get(v, "content"), "id"), 1);
	json_decref(v);

	expect("/content/999", true, 404, "NOT_FOUND");
	expect("/content/bafynotacid", true, 400, "BAD_REQUEST");
	expect("/content/", true, 400, "BAD_REQUEST");

	CU_ASSERT_EQUAL_FATAL(call(&v, "GET", "/content/deals?content=3", true,
				   NULL), 200);
	CU_ASSERT_EQUAL(jint_at(v, "content"), 3);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(v, "deals")), 6);
	json_decref(v);
	expect("/content/deals", true, 400, "BAD_REQUEST");
	expect("/content/deals?content=77", true, 404, "NOT_FOUND");
	expect("/content/deals?content=3", false, 401, "UNAUTHORIZED");
}

static void test_rest__deal_status(void)
{
	char path[256], key[128];
	const char *keys[] = { "UUID1", "PROPOSAL1" };
	json_t *v;

	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/deals/status/%s",
			 fill_get(key, sizeof(key), keys[i]));
		CU_ASSERT_EQUAL_FATAL(call(&v, "GET", path, true, NULL), 200);
		CU_ASSERT_EQUAL(jint_at(v, "deal_id"), 101);
		CU_ASSERT_STRING_EQUAL(
			json_string_value(json_object_get(v, "state")),
			"active");
		CU_ASSERT(json_array_size(json_object_get(v, "history")) >= 2);
		CU_ASSERT(json_is_object(json_object_get(v, "chain")));
		CU_ASSERT_STRING_EQUAL(
			json_string_value(json_object_get(v, "sp")), "f01000");
		json_decref(v);
	}
	CU_ASSERT_EQUAL_FATAL(call(&v, "GET", "/deals/status/105", true, NULL),
			      200);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(v, "state")),
			       "published");
	json_decref(v);
	expect("/deals/status/105", false, 401, "UNAUTHORIZED");
	expect("/deals/status/424242", true, 404, "NOT_FOUND");
	expect("/deals/status/not-a-key", true, 400, "BAD_REQUEST");
}

static void test_rest__estimate(void)
{
	static const char *const bad[] = {
		"", "[]", "{}", "{\"size\":0}", "{\"size\":\"1\"}",
		"{\"size\":1,\"replication\":0}",
		"{\"size\":1,\"replication\":1000}",
		"{\"size\":1,\"durationBlks\":-5}",
		"{\"size\":1,\"verified\":\"yes\"}",
	};
	const char *total, *atto;
	json_t *v, *u;

	CU_ASSERT_EQUAL(call(&v, "POST", "/deals/estimate", false,
			     "{\"size\":1}"), 401);
	json_decref(v);
	CU_ASSERT_EQUAL_FATAL(
		call(&v, "POST", "/deals/estimate", true,
		     "{\"size\":300000,\"replication\":2,\"durationBlks\":"
		     "1000,\"verified\":false}"), 200);
	CU_ASSERT_EQUAL(jint_at(v, "replication"), 2);
	CU_ASSERT_EQUAL(jint_at(v, "duration_epochs"), 1000);
	CU_ASSERT(json_is_false(json_object_get(v, "verified_deals")));
	u = json_object_get(v, "unverified");
	CU_ASSERT_EQUAL(jint_at(u, "deals"), 2);
	total = json_string_value(json_object_get(v, "totalFil"));
	atto = json_string_value(json_object_get(v, "totalAttoFil"));
	CU_ASSERT_PTR_NOT_NULL(total);
	CU_ASSERT_PTR_NOT_NULL(atto);
	if (atto)
		CU_ASSERT(strcmp(atto, "0") != 0);
	CU_ASSERT(json_equal(json_object_get(v, "asks"),
			     json_object_get(v, "sps")));
	CU_ASSERT(json_array_size(json_object_get(v, "asks")) >= 2);
	/* the report's price: USD figures */
	CU_ASSERT(json_is_real(json_object_get(v, "fil_usd")));
	json_decref(v);

	/* verified: DataCap deals at f01000 and f01001 cost nothing */
	CU_ASSERT_EQUAL_FATAL(call(&v, "POST", "/deals/estimate", true,
				   "{\"size\":300000,\"verified\":true}"),
			      200);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(v,
							"totalAttoFil")),
			       "0");
	json_decref(v);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *reason = NULL;

		CU_ASSERT_EQUAL(call(&v, "POST", "/deals/estimate", true,
				     bad[i]), 400);
		json_unpack(v, "{s:{s:s}}", "error", "reason", &reason);
		CU_ASSERT_PTR_NOT_NULL(reason);
		json_decref(v);
	}
	expect("/deals/estimate", true, 405, "METHOD_NOT_ALLOWED");
}

static void test_rest__by_cid(void)
{
	char path[256], key[128];
	json_t *v, *c;

	snprintf(path, sizeof(path), "/public/by-cid/%s",
		 fill_get(key, sizeof(key), "ROOT1"));
	CU_ASSERT_EQUAL_FATAL(call(&v, "GET", path, false, NULL), 200);
	c = json_array_get(json_object_get(v, "content"), 0);
	CU_ASSERT_EQUAL(jint_at(c, "id"), 1);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(c, "match")),
			       "root");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(c, "deals")), 8);
	json_decref(v);

	snprintf(path, sizeof(path), "/public/by-cid/%s",
		 fill_get(key, sizeof(key), "PIECE1"));
	CU_ASSERT_EQUAL_FATAL(call(&v, "GET", path, false, NULL), 200);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(v, "pieceDeals")), 8);
	json_decref(v);

	/* imported but never committed: no commit holds it */
	snprintf(path, sizeof(path), "/public/by-cid/%s",
		 fill_get(key, sizeof(key), "LOOSE"));
	expect(path, false, 404, "NOT_FOUND");
	expect("/public/by-cid/xyz", false, 400, "BAD_REQUEST");
}

static void test_rest__miners(void)
{
	json_t *v, *m;

	CU_ASSERT_EQUAL_FATAL(call(&v, "GET", "/public/miners", false, NULL),
			      200);
	CU_ASSERT_EQUAL_FATAL(json_array_size(v), 6);
	m = json_array_get(v, 0);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(m, "addr")),
			       "f01000");
	CU_ASSERT(json_is_false(json_object_get(m, "suspended")));
	CU_ASSERT(json_is_true(json_object_get(json_array_get(v, 3),
					       "suspended")));
	json_decref(v);

	CU_ASSERT_EQUAL_FATAL(call(&v, "GET", "/public/miners/stats/f01000",
				   false, NULL), 200);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(v, "miner")),
			       "f01000");
	/* commit 1's first deal and commit 3's */
	CU_ASSERT_EQUAL(jint_at(v, "dealCount"), 2);
	CU_ASSERT_EQUAL(jint_at(v, "errorCount"), 0);
	CU_ASSERT(jint_at(v, "usedStorage") > 0);
	CU_ASSERT(json_is_array(json_object_get(v, "log")));
	CU_ASSERT(json_is_object(json_object_get(v, "performance")));
	json_decref(v);
	expect("/public/miners/stats/1000", false, 200, NULL);
	expect("/public/miners/stats/f09999", false, 404, "NOT_FOUND");
	expect("/public/miners/stats/f1abc", false, 400, "BAD_REQUEST");
	expect("/public/miners/stats/f01000?log=x", false, 400, "BAD_REQUEST");

	CU_ASSERT_EQUAL_FATAL(call(&v, "GET", "/public/miners/deals/f01006",
				   false, NULL), 200);
	CU_ASSERT_EQUAL(json_array_size(v), 1);
	json_decref(v);
	CU_ASSERT_EQUAL_FATAL(call(&v, "GET", "/public/miners/deals/f01006"
				   "?ignore-failed", false, NULL), 200);
	CU_ASSERT_EQUAL(json_array_size(v), 0);
	json_decref(v);
	CU_ASSERT_EQUAL_FATAL(call(&v, "GET", "/public/miners/deals/f01001"
				   "?limit=1", false, NULL), 200);
	CU_ASSERT_EQUAL(json_array_size(v), 1);
	json_decref(v);
	expect("/public/miners/deals/", false, 400, "BAD_REQUEST");
}

static void test_rest__bandwidth(void)
{
	json_t *v;

	expect("/content/bandwidth", false, 401, "UNAUTHORIZED");
	CU_ASSERT_EQUAL_FATAL(call(&v, "GET", "/content/bandwidth?by=day",
				   true, NULL), 200);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(v, "by")),
			       "day");
	CU_ASSERT(json_is_array(json_object_get(v, "rows")));
	CU_ASSERT(json_is_integer(json_object_get(v, "sent")));
	json_decref(v);
	expect("/content/bandwidth?by=week", true, 400, "BAD_REQUEST");
	expect("/content/bandwidth?sp=nope", true, 400, "BAD_REQUEST");
	expect("/content/bandwidth?commit=1&days=7&sp=f01000", true, 200,
	       NULL);
}

/* Without a repository every route answers 503. */
static void test_rest__no_repo(void)
{
	struct api_server *keep = srv;
	struct api_server_opts o = { .token = token };

	CU_ASSERT_EQUAL_FATAL(api_server_start(&srv, "127.0.0.1:0", &o), 0);
	expect("/public/stats", false, 503, "UNAVAILABLE");
	expect("/content/list", true, 503, "UNAVAILABLE");
	api_server_stop(srv);
	srv = keep;
}

/* What /public/miners/stats says of an SP's deals, counted from its
 * deal list: errors (failed, rejected, slashed) and active bytes. */
static void deal_sums(json_int_t *errors, json_int_t *used, json_t *arr)
{
	const char *st;
	json_t *d;
	size_t i;

	*errors = *used = 0;
	json_array_foreach(arr, i, d) {
		st = json_string_value(json_object_get(d, "state"));
		CU_ASSERT_PTR_NOT_NULL_FATAL(st);
		if (!strcmp(st, "failed") || !strcmp(st, "rejected") ||
		    !strcmp(st, "slashed"))
			(*errors)++;
		if (!strcmp(st, "active"))
			*used += jint_at(d, "padded");
	}
}

/*
 * Each SP's counts (/public/miners/stats) agree with its deal list
 * (/public/miners/deals), and the dashboard's list of every deal
 * (/dashboard/api/deals) pages as the SP's does.
 */
static void test_rest__deal_lists(void)
{
	json_t *miners, *v, *all, *page;
	json_int_t errors, used, total = 0;
	char path[128];
	const char *addr;
	size_t i;

	CU_ASSERT_EQUAL_FATAL(call(&miners, "GET", "/public/miners", false,
				   NULL), 200);
	json_array_foreach(miners, i, v) {
		addr = json_string_value(json_object_get(v, "addr"));
		CU_ASSERT_PTR_NOT_NULL_FATAL(addr);
		snprintf(path, sizeof(path), "/public/miners/deals/%s", addr);
		CU_ASSERT_EQUAL_FATAL(call(&all, "GET", path, false, NULL),
				      200);
		deal_sums(&errors, &used, all);
		snprintf(path, sizeof(path), "/public/miners/stats/%s", addr);
		CU_ASSERT_EQUAL_FATAL(call(&page, "GET", path, false, NULL),
				      200);
		CU_ASSERT_EQUAL(jint_at(page, "dealCount"),
				(json_int_t)json_array_size(all));
		CU_ASSERT_EQUAL(jint_at(page, "errorCount"), errors);
		CU_ASSERT_EQUAL(jint_at(page, "usedStorage"), used);
		total += (json_int_t)json_array_size(all);
		json_decref(page);
		json_decref(all);
	}
	json_decref(miners);
	CU_ASSERT(total > 0);

	CU_ASSERT_EQUAL_FATAL(call(&all, "GET", "/dashboard/api/deals", false,
				   NULL), 200);
	CU_ASSERT_FATAL(json_array_size(all) >= 3);
	CU_ASSERT((json_int_t)json_array_size(all) >= total);
	CU_ASSERT_EQUAL_FATAL(call(&page, "GET",
				   "/dashboard/api/deals?limit=2&offset=1",
				   false, NULL), 200);
	CU_ASSERT_EQUAL(json_array_size(page), 2);
	CU_ASSERT(json_equal(json_array_get(page, 0), json_array_get(all, 1)));
	CU_ASSERT(json_equal(json_array_get(page, 1), json_array_get(all, 2)));
	json_decref(page);
	json_decref(all);
	expect("/dashboard/api/deals?limit=x", false, 400, "BAD_REQUEST");
	expect("/dashboard/api/deals?offset=-1", false, 400, "BAD_REQUEST");
	expect("/public/miners/deals/f01000?limit=100001", false, 400,
	       "BAD_REQUEST");
}

static CU_TestInfo rest_tests[] = {
	{ "stats", test_rest__stats },
	{ "content_list", test_rest__content_list },
	{ "content_one", test_rest__content_one },
	{ "deal_status", test_rest__deal_status },
	{ "estimate", test_rest__estimate },
	{ "by_cid", test_rest__by_cid },
	{ "miners", test_rest__miners },
	{ "deal_lists", test_rest__deal_lists },
	{ "bandwidth", test_rest__bandwidth },
	{ "no_repo", test_rest__no_repo },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "rest", .pInitFunc = suite_setup,
	       .pCleanupFunc = suite_teardown, .pTests = rest_tests })
