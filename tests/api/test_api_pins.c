/*
 * test_api_pins.c - the IPFS Pinning Service API (api_pins*.c) over
 * loopback, on a real repository with a blockstore, a retriever (no
 * provider known, short timeout) and an evictor: a DAG already here goes
 * queued -> pinned and is kept by the evictor's pin; a CID nobody has
 * goes to failed with info.reason; list filters (cid, name and match,
 * status, meta, limit, before/after paging); replace and delete (and the
 * pins they drop); 400 on bad Pins and filters; 401/403 by scope; 503
 * without a repository; requests outlive a server restart and queued
 * ones resume.  Every reply body is checked against the spec's schemas
 * (tests/data/pins/schemas.json: PinStatus, PinResults, Failure).
 */
#include "api/api_pins_i.h"

#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "api/api_i.h"
#include "api/api_keys.h"
#include "api/api_server.h"
#include "api/api_token.h"
#include "core/bstore.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/dagpb.h"
#include "core/error.h"
#include "dealer/evict.h"
#include "net/httpc.h"
#include "retrieval/retriever.h"
#include "tests/api/api_test.h"
#include "tests/api/pins_schema.h"
#include "tests/harness.h"

#include "core/banned.h"

#define NLEAVES API_TEST_NLEAVES

static json_t *schemas;

static int suite_setup(void)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	char *path = harness_data_path("pins/schemas.json");

	if (!path || api_test_suite_setup() != 0 ||
	    harness_read_file(&b, path) < 0)
		return 1;
	schemas = json_loadb((const char *)b.ptr, b.len, 0, NULL);
	buf_release(&b);
	free(path);
	return schemas ? 0 : 1;
}

static int suite_teardown(void)
{
	json_decref(schemas);
	return api_test_suite_teardown();
}

/* ---- a repository and the daemon's pieces over it ---- */

struct fixture {
	char dir[4096];
	char db[4200];
	char tok[API_TOKEN_SIZE];
	struct bstore *bs;
	struct retriever *r;
	struct evict *e;
	struct api_server *s;
	struct cid root; /* a dag-pb node over NLEAVES raw */
	char root_str[CID_STR_MAX];
	const struct api_fs_hooks *fs; /* the mounted tree, or NULL */
	const char *ipni;	       /* the retriever's IPNI, or NULL */
	unsigned workers;	       /* the pins workers; 0: default */
};

static void put_dag(struct fixture *f)
{
	api_test_put_dag(&f->root, f->root_str, f->bs, "pin leaf");
}

static void server_start(struct fixture *f, bool serve)
{
	struct api_server_opts so = {.token = f->tok,
				     .repo = f->dir,
				     .fs = f->fs,
				     .pins_workers = f->workers};

	CU_ASSERT_EQUAL_FATAL(api_server_start(&f->s, "127.0.0.1:0", &so), 0);
	if (serve) {
		api_server_set_evictor(f->s, f->e);
		api_server_set_retriever(f->s, f->r);
		api_server_set_bstore(f->s, f->bs);
	}
}

/* A fresh repository name under tmp, served (serve: with the retriever
 * and evictor set, else requests stay queued); f's fs, ipni and workers
 * as set before. */
static void fixture_open_with(struct fixture *f, const char *name, bool serve)
{
	struct retriever_opts ro = RETRIEVER_OPTS_INIT;
	struct bstore_opts bo = BSTORE_OPTS_INIT;
	struct fixture set = *f;

	memset(f, 0, sizeof(*f));
	f->fs = set.fs;
	f->ipni = set.ipni;
	f->workers = set.workers;
	ro.ipni_url = f->ipni;
	snprintf(f->dir, sizeof(f->dir), "%s/%s", tmp, name);
	snprintf(f->db, sizeof(f->db), "%s/index.db", f->dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(f->dir, 0700), 0);
	bo.gc_grace = 0;
	CU_ASSERT_EQUAL_FATAL(bstore_open(&f->bs, f->dir, &bo), 0);
	put_dag(f);
	ro.timeout_ms = 2000;
	CU_ASSERT_EQUAL_FATAL(retriever_open(&f->r, f->bs, f->db, &ro), 0);
	CU_ASSERT_EQUAL_FATAL(evict_open(&f->e, f->bs, f->db, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(api_token_create(f->tok, f->dir), 0);
	server_start(f, serve);
}

static void fixture_open_fs(struct fixture *f, const char *name, bool serve,
			    const struct api_fs_hooks *fs)
{
	memset(f, 0, sizeof(*f));
	f->fs = fs;
	fixture_open_with(f, name, serve);
}

static void fixture_open(struct fixture *f, const char *name, bool serve)
{
	fixture_open_fs(f, name, serve, NULL);
}

static void fixture_close(struct fixture *f)
{
	api_server_stop(f->s);
	evict_close(f->e);
	retriever_close(f->r);
	CU_ASSERT_EQUAL(bstore_close(f->bs), 0);
}

/* Pins named "user:pins:<rid>" (rid NULL: any request's). */
struct pin_count {
	const char *rid;
	int n;
};

static int pin_cb(const struct bstore_pin *pin, void *payload)
{
	struct pin_count *c = payload;
	char want[128];

	snprintf(want, sizeof(want), "%s%s%s", EVICT_PIN_PREFIX,
		 API_PINS_LABEL_PREFIX, c->rid ? c->rid : "");
	if (c->rid ? strcmp(pin->name, want) == 0
		   : strncmp(pin->name, want, strlen(want)) == 0)
		c->n++;
	return 0;
}

static int request_pins(struct fixture *f, const char *rid)
{
	struct pin_count c = {rid, 0};

	CU_ASSERT_EQUAL(bstore_pins_foreach(f->bs, pin_cb, &c), 0);
	return c.n;
}

/* ---- the client side ---- */

struct answer {
	long status;
	json_t *v;  /* the body as JSON, or NULL */
	size_t len; /* the body's length */
};

static void answer_release(struct answer *a)
{
	json_decref(a->v);
	memset(a, 0, sizeof(*a));
}

/* method path (query included) with token tok (NULL: none) and body
 * (NULL: none); the body is checked against schema (NULL: not). */
static void call(struct answer *a, struct fixture *f, const char *method,
		 const char *path, const char *tok, const char *body,
		 const char *schema)
{
	char url[1024], auth[256], why[512];
	const char *headers[] = {auth, "Content-Type: application/json", NULL};
	struct httpc_req req = HTTPC_REQ_INIT(method, url);
	struct httpc_resp resp;

	memset(a, 0, sizeof(*a));
	snprintf(url, sizeof(url), "%s%s", api_server_url(f->s), path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
	req.headers = tok ? headers : headers + 1;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	CU_ASSERT_EQUAL_FATAL(httpc_do(&resp, &req), 0);
	a->status = resp.status;
	a->len = resp.body.len;
	a->v = json_loadb((const char *)resp.body.ptr, resp.body.len, 0, NULL);
	if (schema) {
		bool ok =
		    pins_schema_check(schemas, schema, a->v, why, sizeof(why));

		if (!ok)
			fprintf(stderr, "%s %s: %s: %.*s\n", method, path, why,
				(int)resp.body.len,
				(const char *)resp.body.ptr);
		CU_ASSERT(ok);
	}
	httpc_resp_release(&resp);
}

/* The status of method path; its error reason into reason. */
static long status_of(struct fixture *f, const char *method, const char *path,
		      const char *tok, const char *body, char reason[64])
{
	struct answer a;
	long st;
	json_t *r;

	call(&a, f, method, path, tok, body, NULL);
	st = a.status;
	r = json_object_get(json_object_get(a.v, "error"), "reason");
	snprintf(reason, 64, "%s",
		 json_is_string(r) ? json_string_value(r) : "");
	if (st >= 400) {
		char why[256];
		bool ok = pins_schema_check(schemas, "Failure", a.v, why,
					    sizeof(why));

		CU_ASSERT(ok);
	}
	answer_release(&a);
	return st;
}

static const char *str(const json_t *v, const char *k)
{
	const char *s = json_string_value(json_object_get(v, k));

	return s ? s : "";
}

/* POST /pins body: 202 and its PinStatus; its requestid to rid. */
static json_t *add(struct fixture *f, char rid[API_PINS_RID_SIZE],
		   const char *body)
{
	struct answer a;

	call(&a, f, "POST", "/pins", f->tok, body, "PinStatus");
	CU_ASSERT_EQUAL(a.status, 202);
	snprintf(rid, API_PINS_RID_SIZE, "%s", str(a.v, "requestid"));
	CU_ASSERT_EQUAL(strlen(rid), API_PINS_RID_SIZE - 1);
	return a.v;
}

/* GET /pins/{rid} until its status is not queued nor pinning (10 s). */
static json_t *wait_done(struct fixture *f, const char *rid)
{
	double end = efs_clock_mono() + 10;
	char path[128];
	struct answer a;

	snprintf(path, sizeof(path), "/pins/%s", rid);
	for (;;) {
		call(&a, f, "GET", path, f->tok, NULL, "PinStatus");
		CU_ASSERT_EQUAL_FATAL(a.status, 200);
		if ((strcmp(str(a.v, "status"), "pinned") == 0 ||
		     strcmp(str(a.v, "status"), "failed") == 0) ||
		    efs_clock_mono() > end)
			return a.v;
		answer_release(&a);
		usleep(20 * 1000);
	}
}

static char *pin_body(char *out, size_t cap, const char *cid, const char *name,
		      const char *meta_app)
{
	snprintf(out, cap,
		 "{\"cid\":\"%s\",\"name\":\"%s\",\"meta\":"
		 "{\"app\":\"%s\"}}",
		 cid, name, meta_app);
	return out;
}

/* A raw CID no one has. */
static char *nobody(char *out, const char *seed)
{
	struct cid c;

	CU_ASSERT_EQUAL(
	    cid_hash(&c, 1, CID_CODEC_RAW, MHASH_SHA2_256, seed, strlen(seed)),
	    0);
	return cid_tostr(out, &c);
}

/* GET /pins?query: PinResults; count to *count, the n-th requestid ... */
static json_t *list(struct fixture *f, const char *query, long *count)
{
	char path[1024];
	struct answer a;

	CU_ASSERT_FATAL((size_t)snprintf(path, sizeof(path), "/pins%s", query) <
			sizeof(path));
	call(&a, f, "GET", path, f->tok, NULL, "PinResults");
	CU_ASSERT_EQUAL(a.status, 200);
	*count = (long)json_integer_value(json_object_get(a.v, "count"));
	return a.v;
}

static long list_count(struct fixture *f, const char *query)
{
	long n = -1;

	json_decref(list(f, query, &n));
	return n;
}

/* ---- the tests ---- */

static void test_api_pins__pinned(void)
{
	char rid[API_PINS_RID_SIZE], body[512], path[128], reason[64];
	struct fixture f;
	json_t *v, *pin, *info;

	fixture_open(&f, "pinned", true);
	v = add(
	    &f, rid,
	    pin_body(body, sizeof(body), f.root_str, "PreciousData.pdf", "a1"));
	CU_ASSERT_STRING_EQUAL(str(v, "status"), "queued");
	pin = json_object_get(v, "pin");
	CU_ASSERT_STRING_EQUAL(str(pin, "cid"), f.root_str);
	CU_ASSERT_STRING_EQUAL(str(pin, "name"), "PreciousData.pdf");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(pin, "origins")), 0);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(v, "delegates")), 1);
	CU_ASSERT(strncmp(json_string_value(json_array_get(
			      json_object_get(v, "delegates"), 0)),
			  "/ip4/127.0.0.1/tcp/", 19) == 0);
	json_decref(v);

	v = wait_done(&f, rid);
	CU_ASSERT_STRING_EQUAL(str(v, "status"), "pinned");
	info = json_object_get(v, "info");
	CU_ASSERT_STRING_EQUAL(str(info, "blocks"), "4");
	CU_ASSERT(strstr(str(info, "storage"), "blockstore pin") != NULL);
	json_decref(v);
	CU_ASSERT_EQUAL(request_pins(&f, rid), 1);

	/* the default list is the pinned requests */
	CU_ASSERT_EQUAL(list_count(&f, ""), 1);
	CU_ASSERT_EQUAL(list_count(&f, "?status=queued,pinning"), 0);

	/* gc leaves what the request pinned */
	CU_ASSERT_EQUAL(status_of(&f, "POST", "/gc", f.tok, "", reason), 200);
	CU_ASSERT(bstore_has(f.bs, &f.root));
	snprintf(path, sizeof(path), "/pins/%s", rid);
	CU_ASSERT_EQUAL(status_of(&f, "GET", path, f.tok, NULL, reason), 200);
	fixture_close(&f);
}

/* ---- a mounted tree, faked: what the worker grafts and commits ---- */

#define FAKE_MAX 16

struct fake_tree {
	pthread_mutex_t mu;
	char grafts[FAKE_MAX][512]; /* paths asked, in order */
	size_t ngrafts;
	char commits[FAKE_MAX][64];
	size_t ncommits;
	char removed[FAKE_MAX][512]; /* paths removed, in order */
	size_t nremoved;
	char there[FAKE_MAX][512]; /* what the tree holds now ("": none) */
	struct cid there_root[FAKE_MAX];
	struct cid grafted; /* the last root grafted */
	struct cid commit;  /* what commit answers */
};

/* The slot of t->there holding path (mu held), or -1. */
static int fake_find(struct fake_tree *t, const char *path)
{
	for (int i = 0; i < FAKE_MAX; i++)
		if (strcmp(t->there[i], path) == 0)
			return i;
	return -1;
}

static int fake_graft(void *cls, const char *path, const struct cid *root)
{
	struct fake_tree *t = cls;
	int rc = 0, i;

	pthread_mutex_lock(&t->mu);
	if (t->ngrafts < FAKE_MAX)
		snprintf(t->grafts[t->ngrafts++], 512, "%s", path);
	t->grafted = *root;
	if (strcmp(path, "/pins/taken") == 0 || fake_find(t, path) >= 0)
		rc = efs_error_set(EFS_EEXISTS, "graft: '%s' exists", path);
	else if (strcmp(path, "/pins/broken") == 0)
		rc = efs_error_set(EFS_EIO, "graft: disk on fire");
	else if ((i = fake_find(t, "")) >= 0) {
		snprintf(t->there[i], 512, "%s", path);
		t->there_root[i] = *root;
	}
	pthread_mutex_unlock(&t->mu);
	return rc;
}

static int fake_remove(void *cls, const char *path)
{
	struct fake_tree *t = cls;
	int rc = 0, i;

	pthread_mutex_lock(&t->mu);
	if (t->nremoved < FAKE_MAX)
		snprintf(t->removed[t->nremoved++], 512, "%s", path);
	if ((i = fake_find(t, path)) >= 0)
		t->there[i][0] = '\0';
	else
		rc = efs_error_set(EFS_ENOTFOUND, "remove: no '%s'", path);
	pthread_mutex_unlock(&t->mu);
	return rc;
}

/* Whether the fake tree holds path (with root, when not NULL). */
static bool fake_has(struct fake_tree *t, const char *path,
		     const struct cid *root)
{
	bool has;
	int i;

	pthread_mutex_lock(&t->mu);
	i = fake_find(t, path);
	has = i >= 0 && (!root || cid_equal(&t->there_root[i], root));
	pthread_mutex_unlock(&t->mu);
	return has;
}

static int fake_commit(void *cls, const char *path, struct cid *out)
{
	struct fake_tree *t = cls;

	pthread_mutex_lock(&t->mu);
	if (t->ncommits < FAKE_MAX)
		snprintf(t->commits[t->ncommits++], 64, "%s", path);
	*out = t->commit;
	pthread_mutex_unlock(&t->mu);
	return 0;
}

/* Pin f.root named name (NULL: none); its PinStatus once done. */
static json_t *pin_named(struct fixture *f, char *rid, const char *name)
{
	char body[512];

	if (name)
		snprintf(body, sizeof(body),
			 "{\"cid\":\"%s\",\"name\":"
			 "\"%s\"}",
			 f->root_str, name);
	else
		snprintf(body, sizeof(body), "{\"cid\":\"%s\"}", f->root_str);
	json_decref(add(f, rid, body));
	return wait_done(f, rid);
}

static void test_api_pins__fs_hooks(void)
{
	struct fake_tree t = {.mu = PTHREAD_MUTEX_INITIALIZER};
	struct api_fs_hooks hooks = {fake_graft, fake_commit, &t, fake_remove};
	char rid[API_PINS_RID_SIZE], want[512], commit[CID_STR_MAX];
	struct fixture f;
	json_t *v, *info;

	CU_ASSERT_EQUAL(cid_parse(&t.commit, "bafybeiczsscdsbs7ffqz55asqdf3"
					     "smv6klcw3gofszvwlyarci47bgf354"),
			0);
	cid_tostr(commit, &t.commit);
	fixture_open_fs(&f, "fs_hooks", true, &hooks);

	/* a name with a slash and a control byte: made safe */
	v = pin_named(&f, rid, "a/b\\u0001c");
	CU_ASSERT_STRING_EQUAL(str(v, "status"), "pinned");
	info = json_object_get(v, "info");
	CU_ASSERT_STRING_EQUAL(str(info, "path"), "/pins/a_b_c");
	CU_ASSERT_STRING_EQUAL(str(info, "commit"), commit);
	CU_ASSERT(strstr(str(info, "storage"), "committed") != NULL);
	json_decref(v);
	CU_ASSERT_EQUAL(t.ngrafts, 1);
	CU_ASSERT_STRING_EQUAL(t.grafts[0], "/pins/a_b_c");
	CU_ASSERT(cid_equal(&t.grafted, &f.root));
	CU_ASSERT_EQUAL(t.ncommits, 1);
	CU_ASSERT_STRING_EQUAL(t.commits[0], "/pins");

	/* a name taken: the requestid is added */
	v = pin_named(&f, rid, "taken");
	snprintf(want, sizeof(want), "/pins/taken-%s", rid);
	CU_ASSERT_STRING_EQUAL(str(json_object_get(v, "info"), "path"), want);
	json_decref(v);
	CU_ASSERT_EQUAL(t.ngrafts, 3);
	CU_ASSERT_EQUAL(t.ncommits, 2);

	/* no name, or "..": the requestid */
	v = pin_named(&f, rid, NULL);
	snprintf(want, sizeof(want), "/pins/%s", rid);
	CU_ASSERT_STRING_EQUAL(str(json_object_get(v, "info"), "path"), want);
	json_decref(v);
	v = pin_named(&f, rid, "..");
	snprintf(want, sizeof(want), "/pins/%s", rid);
	CU_ASSERT_STRING_EQUAL(str(json_object_get(v, "info"), "path"), want);
	json_decref(v);

	/* a graft that fails: told in info, pinned all the same */
	v = pin_named(&f, rid, "broken");
	CU_ASSERT_STRING_EQUAL(str(v, "status"), "pinned");
	info = json_object_get(v, "info");
	CU_ASSERT(strstr(str(info, "fs_error"), "disk on fire") != NULL);
	CU_ASSERT_PTR_NULL(json_object_get(info, "path"));
	json_decref(v);
	CU_ASSERT_EQUAL(t.ncommits, 4);
	CU_ASSERT_EQUAL(request_pins(&f, rid), 1);
	fixture_close(&f);
}

/* The graft of request rid, as its PinStatus says (wait_done's). */
static void graft_of(char out[512], struct fixture *f, const char *rid)
{
	json_t *v = wait_done(f, rid);

	CU_ASSERT_STRING_EQUAL(str(v, "status"), "pinned");
	snprintf(out, 512, "%s", str(json_object_get(v, "info"), "path"));
	json_decref(v);
}

static void test_api_pins__fs_remove(void)
{
	struct fake_tree t = {.mu = PTHREAD_MUTEX_INITIALIZER};
	struct api_fs_hooks hooks = {fake_graft, fake_commit, &t, fake_remove};
	char rid[API_PINS_RID_SIZE], rid2[API_PINS_RID_SIZE];
	char rid3[API_PINS_RID_SIZE], p1[512], p2[512], p3[512], want[512];
	char path[128], body[512], reason[64], other_str[CID_STR_MAX];
	struct cid other;
	struct fixture f;
	struct answer a;
	size_t commits;

	fixture_open_fs(&f, "fs_remove", true, &hooks);
	api_test_put_dag(&other, other_str, f.bs, "other leaf");

	/* two requests of one name: the second's graft is beside the first */
	json_decref(pin_named(&f, rid, "photos"));
	graft_of(p1, &f, rid);
	CU_ASSERT_STRING_EQUAL(p1, "/pins/photos");
	json_decref(pin_named(&f, rid2, "photos"));
	graft_of(p2, &f, rid2);
	snprintf(want, sizeof(want), "/pins/photos-%s", rid2);
	CU_ASSERT_STRING_EQUAL(p2, want);
	CU_ASSERT(fake_has(&t, p1, &f.root) && fake_has(&t, p2, &f.root));

	/* delete the first: its graft goes and /pins is committed before
	 * the answer; the second's stays */
	commits = t.ncommits;
	snprintf(path, sizeof(path), "/pins/%s", rid);
	call(&a, &f, "DELETE", path, f.tok, NULL, NULL);
	CU_ASSERT_EQUAL(a.status, 202);
	answer_release(&a);
	CU_ASSERT_EQUAL(t.nremoved, 1);
	CU_ASSERT_STRING_EQUAL(t.removed[0], "/pins/photos");
	CU_ASSERT(!fake_has(&t, p1, NULL));
	CU_ASSERT(fake_has(&t, p2, &f.root));
	CU_ASSERT_EQUAL(t.ncommits, commits + 1);
	CU_ASSERT_STRING_EQUAL(t.commits[t.ncommits - 1], "/pins");
	CU_ASSERT_EQUAL(request_pins(&f, rid), 0);

	/* replace the second with another CID, same name: its graft goes
	 * and the new one takes the name that is free now */
	commits = t.ncommits;
	snprintf(path, sizeof(path), "/pins/%s", rid2);
	call(&a, &f, "POST", path, f.tok,
	     pin_body(body, sizeof(body), other_str, "photos", "v2"),
	     "PinStatus");
	CU_ASSERT_EQUAL(a.status, 202);
	snprintf(rid3, sizeof(rid3), "%s", str(a.v, "requestid"));
	answer_release(&a);
	graft_of(p3, &f, rid3);
	CU_ASSERT_STRING_EQUAL(p3, "/pins/photos");
	CU_ASSERT(!fake_has(&t, p2, NULL));
	CU_ASSERT(fake_has(&t, p3, &other));
	CU_ASSERT_EQUAL(t.ncommits, commits + 1); /* one commit for both */
	CU_ASSERT_EQUAL(request_pins(&f, rid2), 0);
	CU_ASSERT_EQUAL(request_pins(&f, rid3), 1);
	CU_ASSERT_EQUAL(status_of(&f, "GET", path, f.tok, NULL, reason), 404);

	/* a graft removed by hand meanwhile: DELETE still works */
	CU_ASSERT_EQUAL(fake_remove(&t, "/pins/photos"), 0);
	snprintf(path, sizeof(path), "/pins/%s", rid3);
	CU_ASSERT_EQUAL(status_of(&f, "DELETE", path, f.tok, NULL, reason),
			202);
	CU_ASSERT_EQUAL(request_pins(&f, rid3), 0);
	CU_ASSERT_EQUAL(list_count(&f, "?status=queued,pinning,pinned,failed"),
			0);
	fixture_close(&f);
}

/* A listener that never answers (an IPNI that hangs): its fd; its URL
 * to url. */
static int stall_open(char url[64])
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	CU_ASSERT_EQUAL_FATAL(listen(fd, 16), 0);
	CU_ASSERT_EQUAL_FATAL(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	snprintf(url, 64, "http://127.0.0.1:%u", ntohs(a.sin_port));
	return fd;
}

/* The status of request rid. */
static void status_now(char out[16], struct fixture *f, const char *rid)
{
	char path[128];
	struct answer a;

	snprintf(path, sizeof(path), "/pins/%s", rid);
	call(&a, f, "GET", path, f->tok, NULL, "PinStatus");
	snprintf(out, 16, "%s", str(a.v, "status"));
	answer_release(&a);
}

/* Wait until request rid is pinning (5 s). */
static void wait_pinning(struct fixture *f, const char *rid)
{
	double end = efs_clock_mono() + 5;
	char st[16];

	do {
		status_now(st, f, rid);
		if (strcmp(st, "pinning") == 0)
			return;
		usleep(10 * 1000);
	} while (efs_clock_mono() < end);
	CU_FAIL("never pinning");
}

/*
 * One request for a CID nobody has, which waits out the retrieval
 * timeout (2 s) on an IPNI that never answers, then one for the DAG
 * here: with workers the second is pinned while the first is still
 * pinning; with one worker it waits behind it.
 */
static void pool_run(const char *name, unsigned workers)
{
	char slow[API_PINS_RID_SIZE], fast[API_PINS_RID_SIZE], body[512];
	char url[64], c[CID_STR_MAX], st[16];
	struct fixture f;
	int fd = stall_open(url);
	json_t *v;

	memset(&f, 0, sizeof(f));
	f.ipni = url;
	f.workers = workers;
	fixture_open_with(&f, name, true);
	json_decref(add(
	    &f, slow,
	    pin_body(body, sizeof(body), nobody(c, "stalls"), "slow", "p")));
	wait_pinning(&f, slow);
	json_decref(add(&f, fast,
			pin_body(body, sizeof(body), f.root_str, "fast", "p")));
	if (workers != 1) { /* 0: the default, 4 */
		v = wait_done(&f, fast);
		CU_ASSERT_STRING_EQUAL(str(v, "status"), "pinned");
		json_decref(v);
		status_now(st, &f, slow);
		CU_ASSERT_STRING_EQUAL(st, "pinning");
		CU_ASSERT_EQUAL(list_count(&f, "?status=pinning"), 1);
	} else {
		usleep(300 * 1000);
		status_now(st, &f, fast);
		CU_ASSERT_STRING_EQUAL(st, "queued");
	}
	v = wait_done(&f, slow);
	CU_ASSERT_STRING_EQUAL(str(v, "status"), "failed");
	CU_ASSERT_STRING_EQUAL(str(json_object_get(v, "info"), "reason"),
			       "TIMEOUT");
	json_decref(v);
	v = wait_done(&f, fast);
	CU_ASSERT_STRING_EQUAL(str(v, "status"), "pinned");
	json_decref(v);
	CU_ASSERT_EQUAL(request_pins(&f, fast), 1);
	CU_ASSERT_EQUAL(request_pins(&f, slow), 0);
	fixture_close(&f);
	close(fd);
}

static void test_api_pins__pool(void)
{
	pool_run("pool", 0);
	pool_run("pool1", 1);
}

/* Many requests at once over a pool: each is worked once, all end. */
static void test_api_pins__pool_many(void)
{
	char rid[24][API_PINS_RID_SIZE], body[512];
	struct fixture f;
	json_t *v;

	memset(&f, 0, sizeof(f));
	f.workers = 8;
	fixture_open_with(&f, "pool_many", true);
	for (int i = 0; i < 24; i++) {
		char name[16];

		snprintf(name, sizeof(name), "n%d", i);
		json_decref(
		    add(&f, rid[i],
			pin_body(body, sizeof(body), f.root_str, name, "m")));
	}
	for (int i = 0; i < 24; i++) {
		v = wait_done(&f, rid[i]);
		CU_ASSERT_STRING_EQUAL(str(v, "status"), "pinned");
		json_decref(v);
		CU_ASSERT_EQUAL(request_pins(&f, rid[i]), 1);
	}
	CU_ASSERT_EQUAL(list_count(&f, "?limit=100"), 24);
	fixture_close(&f);
}

static void test_api_pins__failed(void)
{
	char rid[API_PINS_RID_SIZE], body[512], c[CID_STR_MAX];
	struct fixture f;
	json_t *v;

	fixture_open(&f, "failed", true);
	snprintf(body, sizeof(body),
		 "{\"cid\":\"%s\",\"origins\":[\"/ip4/"
		 "127.0.0.1/tcp/4001/p2p/QmSourcePeerId\"]}",
		 nobody(c, "nobody has it"));
	json_decref(add(&f, rid, body));
	v = wait_done(&f, rid);
	CU_ASSERT_STRING_EQUAL(str(v, "status"), "failed");
	CU_ASSERT_STRING_EQUAL(str(json_object_get(v, "info"), "reason"),
			       "NOT_FOUND");
	CU_ASSERT(strlen(str(json_object_get(v, "info"), "status_details")) >
		  0);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(
			    json_object_get(v, "pin"), "origins")),
			1);
	json_decref(v);
	CU_ASSERT_EQUAL(request_pins(&f, rid), 0);
	CU_ASSERT_EQUAL(list_count(&f, "?status=failed"), 1);
	CU_ASSERT_EQUAL(list_count(&f, ""), 0);
	fixture_close(&f);
}

static void test_api_pins__filters(void)
{
	char rid[5][API_PINS_RID_SIZE], body[512], c[CID_STR_MAX], q[1024];
	char created[5][API_PINS_TIME_MAX], v0[CID_STR_MAX];
	static const char *const names[] = {"Alpha.txt", "alpha.TXT", "beta",
					    "Gamma alpha", "delta"};
	struct fixture f;
	struct cid root0;
	json_t *v;
	long n;

	fixture_open(&f, "filters", true);
	/* 0: the DAG here (pinned); 1-4: nobody's (failed) */
	for (int i = 0; i < 5; i++) {
		char seed[16];

		snprintf(seed, sizeof(seed), "seed %d", i);
		v = add(&f, rid[i],
			pin_body(body, sizeof(body),
				 i == 0 ? f.root_str : nobody(c, seed),
				 names[i], i % 2 ? "odd" : "even"));
		snprintf(created[i], sizeof(created[i]), "%s",
			 str(v, "created"));
		json_decref(v);
		json_decref(wait_done(&f, rid[i]));
	}
	CU_ASSERT_EQUAL(list_count(&f, "?status=pinned,failed"), 5);
	CU_ASSERT_EQUAL(list_count(&f, "?status=failed"), 4);

	/* cid, also as the v0 form of the same DAG */
	snprintf(q, sizeof(q), "?status=pinned,failed&cid=%s,%s", f.root_str,
		 nobody(c, "seed 1"));
	CU_ASSERT_EQUAL(list_count(&f, q), 2);
	root0 = f.root;
	root0.version = 0;
	snprintf(q, sizeof(q), "?cid=%s", cid_tostr(v0, &root0));
	CU_ASSERT_EQUAL(list_count(&f, q), 1);

	/* name and match */
	CU_ASSERT_EQUAL(list_count(&f, "?status=pinned,failed&name=Alpha.txt"),
			1);
	CU_ASSERT_EQUAL(list_count(&f, "?status=pinned,failed&name=alpha.txt"
				       "&match=iexact"),
			2);
	CU_ASSERT_EQUAL(list_count(&f, "?status=pinned,failed&name=alpha"
				       "&match=partial"),
			2);
	CU_ASSERT_EQUAL(list_count(&f, "?status=pinned,failed&name=ALPHA"
				       "&match=ipartial"),
			3);

	/* meta: every key given must match */
	CU_ASSERT_EQUAL(list_count(&f, "?status=pinned,failed&meta=%7B%22app"
				       "%22%3A%22odd%22%7D"),
			2);
	CU_ASSERT_EQUAL(list_count(&f,
				   "?status=pinned,failed&meta=%7B%22app"
				   "%22%3A%22odd%22%2C%22x%22%3A%22y%22%7D"),
			0);
	CU_ASSERT_EQUAL(list_count(&f, "?status=pinned,failed&meta=%7B%7D"), 5);

	/* limit, newest first, and paging with before */
	v = list(&f, "?status=pinned,failed&limit=2", &n);
	CU_ASSERT_EQUAL(n, 5);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(v, "results")), 2);
	CU_ASSERT_STRING_EQUAL(
	    str(json_array_get(json_object_get(v, "results"), 0), "requestid"),
	    rid[4]);
	json_decref(v);
	snprintf(q, sizeof(q), "?status=pinned,failed&limit=2&before=%s",
		 created[3]);
	v = list(&f, q, &n);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_STRING_EQUAL(
	    str(json_array_get(json_object_get(v, "results"), 0), "requestid"),
	    rid[2]);
	json_decref(v);
	snprintf(q, sizeof(q), "?status=pinned,failed&after=%s", created[3]);
	CU_ASSERT_EQUAL(list_count(&f, q), 1);
	snprintf(q, sizeof(q), "?status=pinned,failed&after=%s&before=%s",
		 created[0], created[4]);
	CU_ASSERT_EQUAL(list_count(&f, q), 3);
	CU_ASSERT_EQUAL(list_count(&f, "?status=pinned,failed&before="
				       "2000-01-01T00:00:00%2B01:00"),
			0);
	fixture_close(&f);
}

static void test_api_pins__replace_delete(void)
{
	char rid[API_PINS_RID_SIZE], rid2[API_PINS_RID_SIZE], body[512];
	char path[128], reason[64], c[CID_STR_MAX];
	struct fixture f;
	struct answer a;
	json_t *v;

	fixture_open(&f, "replace", true);
	json_decref(
	    add(&f, rid, pin_body(body, sizeof(body), f.root_str, "old", "x")));
	json_decref(wait_done(&f, rid));
	CU_ASSERT_EQUAL(request_pins(&f, rid), 1);

	/* replace: a new request, the old one gone with its pin */
	snprintf(path, sizeof(path), "/pins/%s", rid);
	call(&a, &f, "POST", path, f.tok,
	     pin_body(body, sizeof(body), f.root_str, "new", "y"), "PinStatus");
	CU_ASSERT_EQUAL(a.status, 202);
	snprintf(rid2, sizeof(rid2), "%s", str(a.v, "requestid"));
	CU_ASSERT_STRING_NOT_EQUAL(rid2, rid);
	CU_ASSERT_STRING_EQUAL(str(json_object_get(a.v, "pin"), "name"), "new");
	answer_release(&a);
	CU_ASSERT_EQUAL(status_of(&f, "GET", path, f.tok, NULL, reason), 404);
	v = wait_done(&f, rid2);
	CU_ASSERT_STRING_EQUAL(str(v, "status"), "pinned");
	json_decref(v);
	CU_ASSERT_EQUAL(request_pins(&f, rid), 0);
	CU_ASSERT_EQUAL(request_pins(&f, rid2), 1);
	CU_ASSERT_EQUAL(list_count(&f, "?status=pinned,failed"), 1);
	/* the old id can no longer be replaced */
	CU_ASSERT_EQUAL(status_of(&f, "POST", path, f.tok, body, reason), 404);
	CU_ASSERT_STRING_EQUAL(reason, "NOT_FOUND");

	/* delete: 202, no body, the pin gone; again: 404 */
	snprintf(path, sizeof(path), "/pins/%s", rid2);
	call(&a, &f, "DELETE", path, f.tok, NULL, NULL);
	CU_ASSERT_EQUAL(a.status, 202);
	CU_ASSERT_EQUAL(a.len, 0);
	answer_release(&a);
	CU_ASSERT_EQUAL(request_pins(&f, rid2), 0);
	CU_ASSERT_EQUAL(status_of(&f, "GET", path, f.tok, NULL, reason), 404);
	CU_ASSERT_EQUAL(status_of(&f, "DELETE", path, f.tok, NULL, reason),
			404);
	CU_ASSERT_EQUAL(list_count(&f, "?status=queued,pinning,pinned,failed"),
			0);

	/* a request removed while queued never pins */
	api_server_set_retriever(f.s, NULL);
	json_decref(
	    add(&f, rid,
		pin_body(body, sizeof(body), nobody(c, "removed"), "r", "z")));
	snprintf(path, sizeof(path), "/pins/%s", rid);
	CU_ASSERT_EQUAL(status_of(&f, "DELETE", path, f.tok, NULL, reason),
			202);
	api_server_set_retriever(f.s, f.r);
	CU_ASSERT_EQUAL(status_of(&f, "GET", path, f.tok, NULL, reason), 404);
	fixture_close(&f);
}

static void test_api_pins__bad_requests(void)
{
	static const char *const bodies[] = {
	    "",
	    "[]",
	    "{\"name\":\"no cid\"}",
	    "{\"cid\":42}",
	    "{\"cid\":\"not-a-cid\"}",
	    "{\"cid\":\"bafkqaaa\"}", /* identity */
	    "{\"cid\":\"%s\",\"name\":7}",
	    "{\"cid\":\"%s\",\"origins\":\"/ip4/1.2.3.4\"}",
	    "{\"cid\":\"%s\",\"origins\":[\"a\",\"a\"]}",
	    "{\"cid\":\"%s\",\"meta\":{\"k\":1}}",
	    "{\"cid\":\"%s\",\"meta\":[]}",
	};
	static const char *const queries[] = {
	    "?cid=xyz",
	    "?cid=",
	    "?cid=%ROOT,,%ROOT",
	    "?status=bogus",
	    "?status=",
	    "?status=pinned,",
	    "?limit=0",
	    "?limit=1001",
	    "?limit=ten",
	    "?before=yesterday",
	    "?after=2020-13-01T00:00:00Z",
	    "?meta=%5B1%5D",
	    "?meta=%7B%22a%22%3A1%7D",
	    "?match=fuzzy",
	    "?before=2020-02-30T00:00:00Z",
	};
	char body[1024], q[1024], reason[64], longname[300];
	struct fixture f;

	fixture_open(&f, "bad", true);
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		snprintf(body, sizeof(body), bodies[i], f.root_str);
		CU_ASSERT_EQUAL(
		    status_of(&f, "POST", "/pins", f.tok, body, reason), 400);
		CU_ASSERT_STRING_EQUAL(reason, "BAD_REQUEST");
	}
	memset(longname, 'n', 256);
	longname[256] = '\0';
	CU_ASSERT_EQUAL(
	    status_of(&f, "POST", "/pins", f.tok,
		      pin_body(body, sizeof(body), f.root_str, longname, "a"),
		      reason),
	    400);
	longname[255] = '\0';
	CU_ASSERT_EQUAL(
	    status_of(&f, "POST", "/pins", f.tok,
		      pin_body(body, sizeof(body), f.root_str, longname, "a"),
		      reason),
	    202);
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		const char *at = strstr(queries[i], "%ROOT");

		/* a CID list with an empty item between two good ones */
		if (at)
			snprintf(q, sizeof(q), "/pins?cid=%s,,%s", f.root_str,
				 f.root_str);
		else
			snprintf(q, sizeof(q), "/pins%s", queries[i]);
		CU_ASSERT_EQUAL(status_of(&f, "GET", q, f.tok, NULL, reason),
				400);
	}
	CU_ASSERT_EQUAL(status_of(&f, "PUT", "/pins", f.tok, "{}", reason),
			405);
	CU_ASSERT_EQUAL(status_of(&f, "PATCH", "/pins/x", f.tok, "{}", reason),
			405);
	CU_ASSERT_EQUAL(status_of(&f, "GET", "/pins/nope", f.tok, NULL, reason),
			404);
	CU_ASSERT_EQUAL(status_of(&f, "GET", "/pins/", f.tok, NULL, reason),
			404);
	fixture_close(&f);
}

static void test_api_pins__scopes(void)
{
	char rkey[API_KEY_SIZE], wkey[API_KEY_SIZE], reason[64], body[512];
	struct fixture f;

	fixture_open(&f, "scopes", true);
	api_test_keys_rw(rkey, wkey, f.db);
	pin_body(body, sizeof(body), f.root_str, "s", "s");

	/* the spec wants a token everywhere */
	CU_ASSERT_EQUAL(status_of(&f, "GET", "/pins", NULL, NULL, reason), 401);
	CU_ASSERT_STRING_EQUAL(reason, "UNAUTHORIZED");
	CU_ASSERT_EQUAL(status_of(&f, "POST", "/pins", NULL, body, reason),
			401);
	CU_ASSERT_EQUAL(status_of(&f, "DELETE", "/pins/x", NULL, NULL, reason),
			401);
	CU_ASSERT_EQUAL(status_of(&f, "GET", "/pins", "EST0ARY", NULL, reason),
			401);
	/* read: lists, may not pin or remove */
	CU_ASSERT_EQUAL(status_of(&f, "GET", "/pins", rkey, NULL, reason), 200);
	CU_ASSERT_EQUAL(status_of(&f, "POST", "/pins", rkey, body, reason),
			403);
	CU_ASSERT_STRING_EQUAL(reason, "FORBIDDEN");
	CU_ASSERT_EQUAL(status_of(&f, "DELETE", "/pins/x", rkey, NULL, reason),
			403);
	CU_ASSERT_EQUAL(status_of(&f, "POST", "/pins/x", rkey, body, reason),
			403);
	/* write: may */
	CU_ASSERT_EQUAL(status_of(&f, "POST", "/pins", wkey, body, reason),
			202);
	CU_ASSERT_EQUAL(status_of(&f, "DELETE", "/pins/x", wkey, NULL, reason),
			404);
	fixture_close(&f);
}

static void test_api_pins__no_repository(void)
{
	struct api_server_opts so = {.token = "t0k"};
	struct fixture f;
	char reason[64];

	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL_FATAL(api_server_start(&f.s, "127.0.0.1:0", &so), 0);
	CU_ASSERT_EQUAL(status_of(&f, "GET", "/pins", "t0k", NULL, reason),
			503);
	CU_ASSERT_STRING_EQUAL(reason, "UNAVAILABLE");
	api_server_stop(f.s);
}

static void test_api_pins__restart(void)
{
	char rid[API_PINS_RID_SIZE], rid2[API_PINS_RID_SIZE], body[512];
	struct fixture f;
	json_t *v;

	/* no retriever yet: the request waits */
	fixture_open(&f, "restart", false);
	json_decref(add(&f, rid,
			pin_body(body, sizeof(body), f.root_str, "kept", "r")));
	usleep(300 * 1000);
	CU_ASSERT_EQUAL(list_count(&f, "?status=queued"), 1);
	api_server_stop(f.s);

	/* a new server on the same repository finishes it */
	server_start(&f, true);
	v = wait_done(&f, rid);
	CU_ASSERT_STRING_EQUAL(str(v, "status"), "pinned");
	CU_ASSERT_STRING_EQUAL(str(json_object_get(v, "pin"), "name"), "kept");
	json_decref(v);
	json_decref(add(
	    &f, rid2, pin_body(body, sizeof(body), f.root_str, "second", "r")));
	json_decref(wait_done(&f, rid2));
	api_server_stop(f.s);

	/* and both are there after another restart */
	server_start(&f, true);
	CU_ASSERT_EQUAL(list_count(&f, ""), 2);
	CU_ASSERT_EQUAL(request_pins(&f, NULL), 2);
	fixture_close(&f);
}

static void test_api_pins__time(void)
{
	static const struct {
		const char *text;
		int64_t us;
	} ok[] = {
	    /* values from `date -u -d ... +%s` */
	    {"1970-01-01T00:00:00Z", 0},
	    {"2020-07-27T17:32:28.276Z", 1595871148276000},
	    {"2020-07-27T19:32:28.276+02:00", 1595871148276000},
	    {"2020-07-27t17:32:28.2761239z", 1595871148276123},
	    {"2024-02-29T23:59:59-00:30", 1709252999000000},
	};
	static const char *const bad[] = {
	    "",
	    "2020-07-27",
	    "2020-07-27T17:32:28",
	    "2020-07-27 17:32:28Z",
	    "2020-07-27T17:32:28.Z",
	    "2021-02-29T00:00:00Z",
	    "2020-07-27T24:00:00Z",
	    "2020-07-27T17:32:28+0200",
	    "2020-07-27T17:32:28Zjunk",
	};
	char text[API_PINS_TIME_MAX];
	int64_t us;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		CU_ASSERT_EQUAL(api_pins_time_parse(&us, ok[i].text), 0);
		CU_ASSERT_EQUAL(us, ok[i].us);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(api_pins_time_parse(&us, bad[i]), EFS_EINVAL);
	CU_ASSERT_STRING_EQUAL(api_pins_time_format(text, 1595871148276000),
			       "2020-07-27T17:32:28.276000Z");
	CU_ASSERT_EQUAL(api_pins_time_parse(&us, text), 0);
	CU_ASSERT_EQUAL(us, 1595871148276000);
}

static CU_TestInfo tests[] = {
    {"pinned", test_api_pins__pinned},
    {"fs_hooks", test_api_pins__fs_hooks},
    {"fs_remove", test_api_pins__fs_remove},
    {"pool", test_api_pins__pool},
    {"pool_many", test_api_pins__pool_many},
    {"failed", test_api_pins__failed},
    {"filters", test_api_pins__filters},
    {"replace_delete", test_api_pins__replace_delete},
    {"bad_requests", test_api_pins__bad_requests},
    {"scopes", test_api_pins__scopes},
    {"no_repository", test_api_pins__no_repository},
    {"restart", test_api_pins__restart},
    {"time", test_api_pins__time},
    CU_TEST_INFO_NULL,
};

HARNESS_MAIN({.pName = "api_pins",
	      .pInitFunc = suite_setup,
	      .pCleanupFunc = suite_teardown,
	      .pTests = tests})
