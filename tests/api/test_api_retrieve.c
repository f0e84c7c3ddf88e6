/*
 * test_api_retrieve.c - POST /retrieve and POST /gc of the daemon's API
 * (api_server.c, api_retrieve.c) over loopback, on a real blockstore with
 * a retriever and an evictor: a DAG already here streams its result and
 * is pinned as `estuaryfs pin` pins (unpin by CID drops it); a CID nobody
 * has ends the stream with NOT_FOUND and pins nothing; a walk stuck on a
 * slow provider sends heartbeat progress lines, and a client that goes
 * away mid-walk lets the server stop; 400/401/503 before any walk; /gc
 * collects with the store's grace period.  api_retrieve_run directly:
 * an identity CID, the reason table both ways, the allocation-failure
 * loop.
 */
#include "api/api_retrieve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "api/api_server.h"
#include "api/api_token.h"
#include "core/bstore.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/dagpb.h"
#include "core/error.h"
#include "dealer/evict.h"
#include "net/http.h"
#include "net/httpc.h"
#include "retrieval/retriever.h"
#include "tests/api/api_test.h"
#include "tests/harness.h"

#include "core/banned.h"

#define NLEAVES API_TEST_NLEAVES

/* ---- a repository with a DAG, and the daemon's pieces over it ---- */

struct fixture {
	char dir[4096];
	char db[4200];
	char tok[API_TOKEN_SIZE];
	struct bstore *bs;
	struct retriever *r;
	struct evict *e;
	struct api_server *s;
	struct cid root;             /* a dag-pb node over NLEAVES raw */
	char root_str[CID_STR_MAX];
};

/* root -> NLEAVES raw leaves, all stored and synced. */
static void put_dag(struct fixture *f)
{
	api_test_put_dag(&f->root, f->root_str, f->bs, "leaf");
}

/* A fresh repository named name under tmp; ipni: an indexer or NULL. */
static void fixture_open(struct fixture *f, const char *name,
			 const char *ipni)
{
	struct retriever_opts ro = RETRIEVER_OPTS_INIT;
	struct bstore_opts bo = BSTORE_OPTS_INIT;
	struct api_server_opts so = { 0 };

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "%s/%s", tmp, name);
	snprintf(f->db, sizeof(f->db), "%s/index.db", f->dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(f->dir, 0700), 0);
	bo.gc_grace = 0;
	CU_ASSERT_EQUAL_FATAL(bstore_open(&f->bs, f->dir, &bo), 0);
	put_dag(f);
	ro.ipni_url = ipni;
	ro.timeout_ms = 5000;
	CU_ASSERT_EQUAL_FATAL(retriever_open(&f->r, f->bs, f->db, &ro), 0);
	CU_ASSERT_EQUAL_FATAL(evict_open(&f->e, f->bs, f->db, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(api_token_create(f->tok, f->dir), 0);
	so.token = f->tok;
	CU_ASSERT_EQUAL_FATAL(api_server_start(&f->s, "127.0.0.1:0", &so), 0);
}

static void fixture_serve(struct fixture *f)
{
	api_server_set_evictor(f->s, f->e);
	api_server_set_retriever(f->s, f->r);
	api_server_set_bstore(f->s, f->bs);
}

static void fixture_close(struct fixture *f)
{
	api_server_stop(f->s);
	evict_close(f->e);
	retriever_close(f->r);
	CU_ASSERT_EQUAL(bstore_close(f->bs), 0);
}

/* ---- the client side ---- */

struct lines {
	json_t *v[64];
	size_t n;
	struct buf pending;
	size_t stop_after;         /* abort once this many lines came (0: no) */
};

static int lines_sink(void *cls, const uint8_t *data, size_t len)
{
	struct lines *l = cls;

	for (size_t i = 0; i < len; i++) {
		if (data[i] != '\n') {
			CU_ASSERT_EQUAL_FATAL(buf_addch(&l->pending, data[i]),
					      0);
			continue;
		}
		if (l->n < 64)
			l->v[l->n++] = json_loadb((const char *)l->pending.ptr,
						  l->pending.len, 0, NULL);
		buf_reset(&l->pending);
		if (l->stop_after && l->n >= l->stop_after)
			return EFS_ECANCELED;
	}
	return 0;
}

static void lines_release(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		json_decref(l->v[i]);
	buf_release(&l->pending);
}

/* POST body to path with token tok (NULL: none); the answer's lines in
 * l (a non-streamed answer is one line without a newline: pending).
 * Returns httpc_do's code; the status in *status. */
static int post(long *status, struct lines *l, struct fixture *f,
		const char *path, const char *tok, const char *body)
{
	char url[256], auth[128];
	const char *headers[] = { auth, NULL };
	struct httpc_req req = HTTPC_REQ_INIT("POST", url);
	struct httpc_resp resp;
	int rc;

	snprintf(url, sizeof(url), "%s%s", api_server_url(f->s), path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
	req.headers = tok ? headers : NULL;
	req.body = body;
	req.body_len = strlen(body);
	req.sink = lines_sink;
	req.sink_cls = l;
	rc = httpc_do(&resp, &req);
	*status = resp.status;
	if (rc == 0 && resp.status == 200)
		CU_ASSERT(resp.content_type &&
			  (!strcmp(resp.content_type, "application/x-ndjson") ||
			   !strcmp(resp.content_type, "application/json")));
	httpc_resp_release(&resp);
	return rc;
}

/* The error reason of a non-streamed answer, or "". */
static const char *answer_reason(struct lines *l, char *out, size_t cap)
{
	json_t *v = json_loadb((const char *)l->pending.ptr, l->pending.len, 0,
			       NULL);
	json_t *r = json_object_get(json_object_get(v, "error"), "reason");

	snprintf(out, cap, "%s", json_is_string(r) ? json_string_value(r) : "");
	json_decref(v);
	return out;
}

static long post_status(struct fixture *f, const char *path, const char *tok,
			const char *body, char *reason, size_t cap)
{
	struct lines l = { .pending = BUF_INIT(1 << 20) };
	long status = 0;

	CU_ASSERT_EQUAL(post(&status, &l, f, path, tok, body), 0);
	answer_reason(&l, reason, cap);
	CU_ASSERT_EQUAL(l.n, 0);
	lines_release(&l);
	return status;
}

static char *target(char *out, size_t cap, const char *cid)
{
	snprintf(out, cap, "{\"target\": \"%s\"}", cid);
	return out;
}

/* ---- the tests ---- */

static void test_retrieve__local(void)
{
	struct lines l = { .pending = BUF_INIT(1 << 20) };
	struct fixture f;
	char body[512], reason[64];
	json_t *res;
	long status;

	fixture_open(&f, "local", NULL);
	fixture_serve(&f);
	CU_ASSERT_EQUAL(post(&status, &l, &f, "/retrieve", f.tok,
			     target(body, sizeof(body), f.root_str)),
			0);
	CU_ASSERT_EQUAL(status, 200);
	CU_ASSERT_EQUAL(l.pending.len, 0);
	CU_ASSERT_FATAL(l.n >= 1);
	for (size_t i = 0; i + 1 < l.n; i++)
		CU_ASSERT_PTR_NOT_NULL(json_object_get(l.v[i], "progress"));
	res = json_object_get(l.v[l.n - 1], "result");
	CU_ASSERT_FATAL(json_is_object(res));
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(res, "root")),
			       f.root_str);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(res, "blocks")),
			1 + NLEAVES);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(res,
							   "fetched_blocks")),
			0);
	CU_ASSERT(json_integer_value(json_object_get(res, "pin")) > 0);
	CU_ASSERT(json_is_number(json_object_get(res, "seconds")));
	lines_release(&l);
	CU_ASSERT_EQUAL(api_test_user_pins(f.bs, &f.root), 1);

	/* again: the same pin, not a second one */
	memset(&l, 0, sizeof(l));
	buf_init(&l.pending, 1 << 20);
	CU_ASSERT_EQUAL(post(&status, &l, &f, "/retrieve", f.tok, body), 0);
	lines_release(&l);
	CU_ASSERT_EQUAL(api_test_user_pins(f.bs, &f.root), 1);

	/* gc leaves it; `unpin CID` drops it, and then gc takes it */
	CU_ASSERT_EQUAL(post_status(&f, "/gc", f.tok, "", reason,
				    sizeof(reason)),
			200);
	CU_ASSERT(bstore_has(f.bs, &f.root));
	CU_ASSERT_EQUAL(post_status(&f, "/unpin", f.tok, body, reason,
				    sizeof(reason)),
			200);
	CU_ASSERT_EQUAL(api_test_user_pins(f.bs, &f.root), 0);
	fixture_close(&f);
}

static void test_retrieve__not_found(void)
{
	struct lines l = { .pending = BUF_INIT(1 << 20) };
	struct fixture f;
	char body[512], s[CID_STR_MAX];
	struct cid nobody;
	json_t *err;
	long status;

	fixture_open(&f, "nf", NULL);
	fixture_serve(&f);
	CU_ASSERT_EQUAL(cid_hash(&nobody, 1, CID_CODEC_RAW, MHASH_SHA2_256,
				 "nobody", 6),
			0);
	CU_ASSERT_EQUAL(post(&status, &l, &f, "/retrieve", f.tok,
			     target(body, sizeof(body),
				    cid_tostr(s, &nobody))),
			0);
	CU_ASSERT_EQUAL(status, 200);
	CU_ASSERT_FATAL(l.n >= 1);
	err = json_object_get(l.v[l.n - 1], "error");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(err,
								 "reason")),
			       "NOT_FOUND");
	CU_ASSERT(strstr(json_string_value(json_object_get(err, "details")),
			 s) != NULL);
	CU_ASSERT_EQUAL(api_test_user_pins(f.bs, &nobody), 0);
	lines_release(&l);
	fixture_close(&f);
}

/* An IPNI indexer that takes its time, then knows nothing. */
static void slow_ipni(struct http_req *req, void *payload)
{
	(void)payload;
	usleep(1500 * 1000);
	http_reply(req, 404, "text/plain", "no\n", 3);
}

static void test_retrieve__heartbeat_and_cancel(void)
{
	struct lines l = { .pending = BUF_INIT(1 << 20) };
	struct http_server *ipni;
	struct fixture f;
	char body[512], url[64], s[CID_STR_MAX];
	struct cid nobody;
	double start;
	long status;

	CU_ASSERT_EQUAL_FATAL(http_server_start(&ipni, "127.0.0.1", 0, 0,
						slow_ipni, NULL),
			      0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u",
		 (unsigned)http_server_port(ipni));
	fixture_open(&f, "slow", url);
	fixture_serve(&f);
	CU_ASSERT_EQUAL(cid_hash(&nobody, 1, CID_CODEC_RAW, MHASH_SHA2_256,
				 "slow", 4),
			0);
	target(body, sizeof(body), cid_tostr(s, &nobody));

	/* the first line comes while the walk waits: a heartbeat; then
	 * the client goes away */
	l.stop_after = 1;
	start = efs_clock_mono();
	CU_ASSERT_EQUAL(post(&status, &l, &f, "/retrieve", f.tok, body),
			EFS_ECANCELED);
	CU_ASSERT_EQUAL(status, 200);
	CU_ASSERT_FATAL(l.n == 1);
	CU_ASSERT_PTR_NOT_NULL(json_object_get(l.v[0], "progress"));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(
				json_object_get(l.v[0], "progress"), "blocks")),
			0);
	CU_ASSERT(efs_clock_mono() - start < 1.4);
	lines_release(&l);

	/* the server stops with the walk cut off or ended, in bounded time */
	start = efs_clock_mono();
	api_server_stop(f.s);
	f.s = NULL;
	CU_ASSERT(efs_clock_mono() - start < 10);
	CU_ASSERT_EQUAL(api_test_user_pins(f.bs, &nobody), 0);
	fixture_close(&f);
	http_server_stop(ipni);
}

static void test_retrieve__refused(void)
{
	struct fixture f;
	char body[512], reason[64], s[CID_STR_MAX];
	struct cid id;

	fixture_open(&f, "refused", NULL);
	target(body, sizeof(body), f.root_str);
	/* nothing set yet: 503 (the token is checked first) */
	CU_ASSERT_EQUAL(post_status(&f, "/retrieve", NULL, body, reason,
				    sizeof(reason)),
			401);
	CU_ASSERT_STRING_EQUAL(reason, "UNAUTHORIZED");
	CU_ASSERT_EQUAL(post_status(&f, "/retrieve", f.tok, body, reason,
				    sizeof(reason)),
			503);
	CU_ASSERT_STRING_EQUAL(reason, "UNAVAILABLE");
	CU_ASSERT_EQUAL(post_status(&f, "/gc", f.tok, "", reason,
				    sizeof(reason)),
			503);
	api_server_set_retriever(f.s, f.r);
	/* a retriever but no evictor to pin with: still 503 */
	CU_ASSERT_EQUAL(post_status(&f, "/retrieve", f.tok, body, reason,
				    sizeof(reason)),
			503);
	fixture_serve(&f);
	CU_ASSERT_EQUAL(post_status(&f, "/retrieve", "0000", body, reason,
				    sizeof(reason)),
			401);
	CU_ASSERT_EQUAL(post_status(&f, "/gc", NULL, "", reason,
				    sizeof(reason)),
			401);
	CU_ASSERT_EQUAL(post_status(&f, "/retrieve", f.tok, "{}", reason,
				    sizeof(reason)),
			400);
	CU_ASSERT_STRING_EQUAL(reason, "BAD_REQUEST");
	CU_ASSERT_EQUAL(post_status(&f, "/retrieve", f.tok,
				    "{\"target\": \"nope\"}", reason,
				    sizeof(reason)),
			400);
	CU_ASSERT_EQUAL(post_status(&f, "/retrieve", f.tok, "[]", reason,
				    sizeof(reason)),
			400);
	CU_ASSERT_EQUAL(cid_hash(&id, 1, CID_CODEC_RAW, MHASH_IDENTITY, "id",
				 2),
			0);
	CU_ASSERT_EQUAL(post_status(&f, "/retrieve", f.tok,
				    target(body, sizeof(body),
					   cid_tostr(s, &id)),
				    reason, sizeof(reason)),
			400);
	fixture_close(&f);
}

static void test_retrieve__gc(void)
{
	struct lines l = { .pending = BUF_INIT(1 << 20) };
	struct fixture f;
	struct cid loose;
	json_t *v;
	long status;

	fixture_open(&f, "gc", NULL);
	fixture_serve(&f);
	/* the DAG is not pinned: gc (grace 0 here) takes it all */
	CU_ASSERT_EQUAL(cid_hash(&loose, 1, CID_CODEC_RAW, MHASH_SHA2_256,
				 "loose", 5),
			0);
	CU_ASSERT_EQUAL(bstore_put(f.bs, &loose, (const uint8_t *)"loose", 5),
			0);
	CU_ASSERT_EQUAL(bstore_sync(f.bs), 0);
	CU_ASSERT_EQUAL(post(&status, &l, &f, "/gc", f.tok, ""), 0);
	CU_ASSERT_EQUAL(status, 200);
	v = json_loadb((const char *)l.pending.ptr, l.pending.len, 0, NULL);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(v, "blocks")),
			2 + NLEAVES);
	CU_ASSERT(json_integer_value(json_object_get(v, "bytes")) > 0);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(v, "unverified")),
			0);
	CU_ASSERT(!bstore_has(f.bs, &f.root));
	json_decref(v);
	lines_release(&l);
	fixture_close(&f);
}

/* ---- api_retrieve_run ---- */

static void test_retrieve__run(void)
{
	struct api_retrieve_result res;
	struct fixture f;
	struct cid id;

	fixture_open(&f, "run", NULL);
	CU_ASSERT_EQUAL(cid_hash(&id, 1, CID_CODEC_RAW, MHASH_IDENTITY, "id",
				 2),
			0);
	CU_ASSERT_EQUAL(api_retrieve_run(&res, f.r, f.e, &id, "x", NULL,
					 NULL),
			EFS_EINVAL);
	CU_ASSERT_EQUAL(api_retrieve_run(&res, f.r, f.e, &f.root, f.root_str,
					 NULL, NULL),
			0);
	CU_ASSERT(cid_equal(&res.root, &f.root));
	CU_ASSERT_EQUAL(res.p.blocks, 1 + NLEAVES);
	CU_ASSERT(res.pin_id > 0);
	fixture_close(&f);

	/* the reasons both ways */
	CU_ASSERT_STRING_EQUAL(api_retrieve_reason(EFS_ENOTFOUND),
			       "NOT_FOUND");
	CU_ASSERT_STRING_EQUAL(api_retrieve_reason(EFS_ENOMEM), "INTERNAL");
	CU_ASSERT_EQUAL(api_retrieve_code("TIMEOUT"), EFS_ETIMEDOUT);
	CU_ASSERT_EQUAL(api_retrieve_code("BAD_GATEWAY"), EFS_EIO);
	CU_ASSERT_EQUAL(api_retrieve_code("whatever"), EFS_ERROR);
	for (int c = EFS_ERROR; c >= EFS_ERANGE; c--) {
		const char *r = api_retrieve_reason(c);

		if (strcmp(r, "INTERNAL") != 0 && c != EFS_EMISMATCH)
			CU_ASSERT_EQUAL(api_retrieve_code(r), c);
	}
}

static int run_once(void *payload)
{
	struct fixture *f = payload;
	struct api_retrieve_result res;
	json_t *v;
	size_t removed;
	int rc;

	rc = api_retrieve_run(&res, f->r, f->e, &f->root, f->root_str, NULL,
			      NULL);
	if (rc == 0 && !(v = api_retrieve_json(&res)))
		rc = EFS_ENOMEM;
	else if (rc == 0)
		json_decref(v);
	if (evict_unpin(&removed, f->e, &f->root, NULL) < 0 && rc == 0)
		rc = EFS_ENOMEM;
	return rc;
}

static void test_retrieve__alloc_failures(void)
{
	struct fixture f;

	fixture_open(&f, "alloc", NULL);
	CU_ASSERT(harness_alloc_loop(run_once, &f) > 1);
	fixture_close(&f);
}

static CU_TestInfo tests[] = {
	{ "local", test_retrieve__local },
	{ "not_found", test_retrieve__not_found },
	{ "heartbeat_and_cancel", test_retrieve__heartbeat_and_cancel },
	{ "refused", test_retrieve__refused },
	{ "gc", test_retrieve__gc },
	{ "run", test_retrieve__run },
	{ "alloc_failures", test_retrieve__alloc_failures },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "api_retrieve", .pInitFunc = api_test_suite_setup,
	       .pCleanupFunc = api_test_suite_teardown, .pTests = tests })
