/*
 * test_api_keys.c - API keys (api/api_keys.h): making, listing, looking
 * up, revoking and expiring keys in a repository's index; only hashes
 * stored; damaged rows granting nothing; the parsers of the
 * Authorization header, durations and scopes; the allocation-failure
 * loop; the cost of a lookup; and the server: 401 without a valid key,
 * 403 with too small a scope, a read key on a read route (GET /auth), a
 * write key on POST /gc, a key revoked by another connection (as the
 * CLI does) refused at the very next request, the daemon's token still
 * admin.
 */
#include "api/api_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "api/api_server.h"
#include "api/api_token.h"
#include "core/alloc.h"
#include "core/bstore.h"
#include "core/clock.h"
#include "core/error.h"
#include "net/httpc.h"
#include "tests/api/api_test.h"
#include "tests/harness.h"

#include "core/banned.h"

#define NOW 1750000000LL

/* <tmp>/<name>/index.db into path, the directory made. */
static void db_path(char *path, size_t cap, const char *name)
{
	char dir[4200];

	snprintf(dir, sizeof(dir), "%s/%s", tmp, name);
	CU_ASSERT_FATAL(mkdir(dir, 0700) == 0);
	snprintf(path, cap, "%s/index.db", dir);
}

static struct api_keys *open_keys(const char *name)
{
	struct api_keys *k = NULL;
	char path[4300];

	db_path(path, sizeof(path), name);
	CU_ASSERT_EQUAL_FATAL(api_keys_open(&k, path), 0);
	return k;
}

/* Run sql on the database at path, as another program would. */
static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *h = NULL;

	CU_ASSERT_EQUAL_FATAL(sqlite3_open(path, &h), SQLITE_OK);
	CU_ASSERT_EQUAL(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
}

/* ---- the table ---------------------------------------------------- */

struct seen {
	struct api_key v[8];
	size_t n;
};

static int collect(void *cls, const struct api_key *key)
{
	struct seen *s = cls;

	if (s->n < 8)
		s->v[s->n++] = *key;
	return 0;
}

static void test_keys__create_list(void)
{
	struct api_keys *k = open_keys("create");
	char secret[3][API_KEY_SIZE];
	enum api_scope scopes[] = { API_READ, API_WRITE, API_ADMIN };
	struct api_key key;
	struct seen s = { .n = 0 };

	for (int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(api_keys_create(secret[i], &key, k, scopes[i],
						i ? "ci" : NULL,
						i == 2 ? NOW + 60 : 0, NOW),
				0);
		CU_ASSERT_EQUAL(strlen(secret[i]), API_KEY_LEN);
		CU_ASSERT(api_keys_is_token(secret[i], strlen(secret[i])));
		CU_ASSERT_EQUAL(strncmp(key.prefix, secret[i],
					API_KEY_PREFIX_LEN), 0);
		CU_ASSERT_EQUAL(key.id, i + 1);
		CU_ASSERT_EQUAL(key.scope, scopes[i]);
		CU_ASSERT_EQUAL(key.created, NOW);
		CU_ASSERT_EQUAL(key.last_used, 0);
		CU_ASSERT(!key.corrupt);
	}
	/* 256 random bits each */
	CU_ASSERT_NOT_EQUAL(strcmp(secret[0], secret[1]), 0);
	CU_ASSERT_EQUAL(api_keys_foreach(k, collect, &s), 0);
	CU_ASSERT_EQUAL_FATAL(s.n, 3);
	CU_ASSERT_STRING_EQUAL(s.v[0].label, "");
	CU_ASSERT_STRING_EQUAL(s.v[1].label, "ci");
	CU_ASSERT_EQUAL(s.v[2].scope, API_ADMIN);
	CU_ASSERT_EQUAL(s.v[2].expires, NOW + 60);
	/* the lookup gives each its scope */
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(api_keys_lookup(&key, k, secret[i], NOW + 1),
				0);
		CU_ASSERT_EQUAL(key.scope, scopes[i]);
		CU_ASSERT_EQUAL(key.id, i + 1);
	}
	/* a key's neighbour is no key */
	secret[0][10] = secret[0][10] == 'a' ? 'b' : 'a';
	CU_ASSERT_EQUAL(api_keys_lookup(&key, k, secret[0], NOW),
			EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(key.id, 0);
	CU_ASSERT_EQUAL(api_keys_lookup(&key, k, "ESTnope", NOW),
			EFS_ENOTFOUND);
	api_keys_close(k);
}

static void test_keys__bad_create(void)
{
	struct api_keys *k = open_keys("bad_create");
	char secret[API_KEY_SIZE], big[API_KEY_LABEL_MAX + 2];
	const char *labels[] = { "tab\there", "nl\n", "\x7f", "\xff\xfe" };
	struct seen s = { .n = 0 };

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CU_ASSERT_EQUAL(api_keys_create(secret, NULL, k, API_PUBLIC, NULL, 0,
					NOW), EFS_EINVAL);
	CU_ASSERT_EQUAL(api_keys_create(secret, NULL, k, (enum api_scope)9,
					NULL, 0, NOW), EFS_EINVAL);
	CU_ASSERT_EQUAL(api_keys_create(secret, NULL, k, API_READ, big, 0,
					NOW), EFS_EINVAL);
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		CU_ASSERT_EQUAL(api_keys_create(secret, NULL, k, API_READ,
						labels[i], 0, NOW), EFS_EINVAL);
	CU_ASSERT_EQUAL(api_keys_create(secret, NULL, k, API_READ, NULL, NOW,
					NOW), EFS_EINVAL);
	CU_ASSERT_EQUAL(secret[0], '\0');
	/* UTF-8 and the longest label are fine */
	big[API_KEY_LABEL_MAX] = '\0';
	CU_ASSERT_EQUAL(api_keys_create(secret, NULL, k, API_READ, big, 0,
					NOW), 0);
	CU_ASSERT_EQUAL(api_keys_create(secret, NULL, k, API_READ,
					"caf\xc3\xa9", 0, NOW), 0);
	CU_ASSERT_EQUAL(api_keys_foreach(k, collect, &s), 0);
	CU_ASSERT_EQUAL(s.n, 2);
	api_keys_close(k);
}

static void test_keys__revoke(void)
{
	struct api_keys *k = open_keys("revoke"), *other;
	char secret[API_KEY_SIZE], path[4300];
	struct api_key key;

	CU_ASSERT_EQUAL(api_keys_create(secret, NULL, k, API_WRITE, "x", 0,
					NOW), 0);
	CU_ASSERT_EQUAL(api_keys_lookup(&key, k, secret, NOW), 0);
	/* another connection revokes (the CLI, while the daemon serves) */
	snprintf(path, sizeof(path), "%s/revoke/index.db", tmp);
	CU_ASSERT_EQUAL_FATAL(api_keys_open(&other, path), 0);
	CU_ASSERT_EQUAL(api_keys_revoke(&key, other, 1, NOW + 5), 0);
	CU_ASSERT_EQUAL(key.revoked, NOW + 5);
	CU_ASSERT_EQUAL(api_keys_lookup(&key, k, secret, NOW + 6),
			EFS_ENOTFOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(efs_error_msg(), "key 1 is revoked"));
	CU_ASSERT_PTR_NULL(strstr(efs_error_msg(), secret));
	/* again: the first time stays */
	CU_ASSERT_EQUAL(api_keys_revoke(&key, k, 1, NOW + 50), 0);
	CU_ASSERT_EQUAL(key.revoked, NOW + 5);
	CU_ASSERT_EQUAL(api_keys_revoke(&key, k, 7, NOW), EFS_ENOTFOUND);
	/* ids are never reused, even after a row is gone */
	raw_exec(path, "DELETE FROM api_keys");
	CU_ASSERT_EQUAL(api_keys_create(secret, &key, other, API_READ, NULL,
					0, NOW), 0);
	CU_ASSERT_EQUAL(key.id, 2);
	api_keys_close(other);
	api_keys_close(k);
}

static void test_keys__expiry_and_last_used(void)
{
	struct api_keys *k = open_keys("expiry");
	char secret[API_KEY_SIZE];
	struct api_key key;
	struct seen s = { .n = 0 };

	CU_ASSERT_EQUAL(api_keys_create(secret, NULL, k, API_READ, NULL,
					NOW + 100, NOW), 0);
	CU_ASSERT_EQUAL(api_keys_lookup(&key, k, secret, NOW + 10), 0);
	CU_ASSERT_EQUAL(key.last_used, NOW + 10);
	/* written at most once a minute */
	CU_ASSERT_EQUAL(api_keys_lookup(&key, k, secret, NOW + 20), 0);
	CU_ASSERT_EQUAL(api_keys_foreach(k, collect, &s), 0);
	CU_ASSERT_EQUAL(s.v[0].last_used, NOW + 10);
	CU_ASSERT_EQUAL(api_keys_lookup(&key, k, secret, NOW + 99), 0);
	s.n = 0;
	CU_ASSERT_EQUAL(api_keys_foreach(k, collect, &s), 0);
	CU_ASSERT_EQUAL(s.v[0].last_used, NOW + 99);
	CU_ASSERT(api_keys_usable(&s.v[0], NOW + 99));
	CU_ASSERT(!api_keys_usable(&s.v[0], NOW + 100));
	CU_ASSERT_EQUAL(api_keys_lookup(&key, k, secret, NOW + 100),
			EFS_ENOTFOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(efs_error_msg(), "expired"));
	api_keys_close(k);
}

/* ---- only hashes stored --------------------------------------------- */

static bool file_has(const char *path, const void *p, size_t n)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	bool found = false;

	if (harness_read_file(&b, path) == 0)
		found = memmem(b.ptr, b.len, p, n) != NULL;
	buf_release(&b);
	return found;
}

static void test_keys__hash_only(void)
{
	struct api_keys *k = open_keys("hash");
	char secret[API_KEY_SIZE], db[4300], wal[4400];
	uint8_t hash[32];
	unsigned n = 0;

	CU_ASSERT_EQUAL(api_keys_create(secret, NULL, k, API_ADMIN, "h", 0,
					NOW), 0);
	CU_ASSERT(EVP_Digest(secret, strlen(secret), hash, &n, EVP_sha256(),
			     NULL));
	snprintf(db, sizeof(db), "%s/hash/index.db", tmp);
	snprintf(wal, sizeof(wal), "%s-wal", db);
	/* the hash is there (in the WAL until a checkpoint), the secret
	 * nowhere: not whole, not its random part, not past its prefix */
	CU_ASSERT(file_has(db, hash, 32) || file_has(wal, hash, 32));
	CU_ASSERT(!file_has(db, secret, API_KEY_LEN));
	CU_ASSERT(!file_has(wal, secret, API_KEY_LEN));
	CU_ASSERT(!file_has(db, secret + 3, 64));
	CU_ASSERT(!file_has(wal, secret + 3, 64));
	CU_ASSERT(!file_has(wal, secret + 3, API_KEY_PREFIX_LEN));
	api_keys_close(k);
	/* closed: checkpointed into the file */
	CU_ASSERT(file_has(db, hash, 32));
	CU_ASSERT(!file_has(db, secret + 3, API_KEY_PREFIX_LEN));
}

/* ---- damaged rows --------------------------------------------------- */

static void test_keys__corrupt_rows(void)
{
	struct api_keys *k = open_keys("corrupt");
	char secret[5][API_KEY_SIZE], path[4300];
	struct seen s = { .n = 0 };
	struct api_key key;
	json_t *v;

	for (int i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(api_keys_create(secret[i], NULL, k, API_ADMIN,
						"ok", 0, NOW), 0);
	snprintf(path, sizeof(path), "%s/corrupt/index.db", tmp);
	raw_exec(path, "UPDATE api_keys SET scope = 'root' WHERE id = 1;"
		       "UPDATE api_keys SET label = x'ff0a' WHERE id = 2;"
		       "UPDATE api_keys SET created = -5 WHERE id = 3;"
		       "UPDATE api_keys SET expires = 'soon' WHERE id = 4;"
		       "UPDATE api_keys SET prefix = 'ESTX' WHERE id = 5;"
		       "INSERT INTO api_keys (hash, prefix, scope, created)"
		       " VALUES (x'00', 'EST00000000', 'read', 1);");
	CU_ASSERT_EQUAL(api_keys_foreach(k, collect, &s), 0);
	CU_ASSERT_EQUAL_FATAL(s.n, 6);
	for (size_t i = 0; i < 6; i++) {
		CU_ASSERT(s.v[i].corrupt);
		CU_ASSERT_EQUAL(s.v[i].scope, API_PUBLIC);
		CU_ASSERT(!api_keys_usable(&s.v[i], NOW));
		/* still listed, so it can be revoked */
		v = api_keys_json(&s.v[i], NOW);
		CU_ASSERT_PTR_NOT_NULL(v);
		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(v,
						"status")), "corrupt");
		json_decref(v);
	}
	for (int i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(api_keys_lookup(&key, k, secret[i], NOW),
				EFS_ECORRUPT);
		CU_ASSERT_EQUAL(key.scope, API_PUBLIC);
	}
	CU_ASSERT_EQUAL(api_keys_revoke(&key, k, 1, NOW), 0);
	api_keys_close(k);
}

/* ---- parsers ------------------------------------------------------ */

static void test_keys__bearer(void)
{
	static const char key[] = "EST0123456789abcdef0123456789abcdef"
				  "0123456789abcdef0123456789abcdefARY";
	static const struct {
		const char *head;
		bool ok;
	} cases[] = {
		{ "Bearer %s", true },   { "bearer %s", true },
		{ "BEARER  %s  ", true }, { "Bearer %s\t", true },
		{ "Bearer%s", false },   { "Basic %s", false },
		{ " Bearer %s", false }, { "Bearer %s x", false },
		{ "Bearer %sA", false }, { "Bearer x%s", false },
		{ "Bearer \t%s", false }, { "Bearer ", false },
		{ "", false },           { "Bearer %.69s", false },
	};
	char auth[256], out[API_KEY_SIZE];

	CU_ASSERT_EQUAL(strlen(key), API_KEY_LEN);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(auth, sizeof(auth), cases[i].head, key);
#pragma GCC diagnostic pop
		CU_ASSERT_EQUAL(api_keys_bearer(out, auth), cases[i].ok);
		CU_ASSERT_STRING_EQUAL(out, cases[i].ok ? key : "");
	}
	CU_ASSERT(!api_keys_bearer(out, NULL));
	/* upper-case hex, a wrong head or tail: not a key */
	CU_ASSERT(!api_keys_is_token("EST0123456789ABCDEF0123456789abcdef"
				     "0123456789abcdef0123456789abcdefARY",
				     API_KEY_LEN));
	CU_ASSERT(!api_keys_is_token("ESU0123456789abcdef0123456789abcdef"
				     "0123456789abcdef0123456789abcdefARY",
				     API_KEY_LEN));
	CU_ASSERT(!api_keys_is_token("EST0123456789abcdef0123456789abcdef"
				     "0123456789abcdef0123456789abcdefARZ",
				     API_KEY_LEN));
}

static void test_keys__duration_scope(void)
{
	static const struct {
		const char *s;
		int64_t v; /* -1: refused */
	} cases[] = {
		{ "30d", 30 * 86400 }, { "12h", 43200 }, { "90m", 5400 },
		{ "45", 45 },          { "45s", 45 },    { "2w", 1209600 },
		{ "1y", 31536000 },    { "100y", API_KEYS_DURATION_MAX },
		{ "never", 0 },        { "101y", -1 },   { "0d", -1 },
		{ "", -1 },            { "d", -1 },      { "-1d", -1 },
		{ "1dd", -1 },         { "1 d", -1 },    { "1D", -1 },
		{ "99999999999999999999", -1 },         { "Never", -1 },
	};
	enum api_scope sc;
	int64_t v;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = -7;
		if (cases[i].v < 0) {
			CU_ASSERT_EQUAL(api_keys_duration_parse(&v, cases[i].s),
					EFS_EINVAL);
			CU_ASSERT_EQUAL(v, -7);
		} else {
			CU_ASSERT_EQUAL(api_keys_duration_parse(&v, cases[i].s),
					0);
			CU_ASSERT_EQUAL(v, cases[i].v);
		}
	}
	CU_ASSERT_EQUAL(api_keys_scope_parse(&sc, "write"), 0);
	CU_ASSERT_EQUAL(sc, API_WRITE);
	CU_ASSERT_EQUAL(api_keys_scope_parse(&sc, "public"), EFS_EINVAL);
	CU_ASSERT_EQUAL(api_keys_scope_parse(&sc, "Admin"), EFS_EINVAL);
	CU_ASSERT_EQUAL(api_keys_scope_parse(&sc, NULL), EFS_EINVAL);
}

/* ---- allocation failures ---------------------------------------------- */

static int count(void *cls, const struct api_key *key)
{
	(void)key;
	++*(int *)cls;
	return 0;
}

/* At "now" 30 a lookup does not write last_used (a best-effort write
 * whose failure the lookup rightly ignores). */
#define ALLOC_NOW 30

static int alloc_run(void *payload)
{
	const char *path = payload;
	char secret[API_KEY_SIZE];
	struct api_keys *k;
	struct api_key key;
	json_t *v;
	int rc, n = 0;

	if ((rc = api_keys_open(&k, path)) < 0)
		return rc;
	rc = api_keys_create(secret, &key, k, API_READ, "a", 0, ALLOC_NOW);
	if (rc < 0 ||
	    (rc = api_keys_lookup(&key, k, secret, ALLOC_NOW)) < 0 ||
	    (rc = api_keys_foreach(k, count, &n)) < 0 ||
	    (rc = api_keys_revoke(&key, k, key.id, ALLOC_NOW)) < 0)
		goto out;
	if (!(v = api_keys_json(&key, ALLOC_NOW)))
		rc = EFS_ENOMEM;
	json_decref(v);
out:
	api_keys_close(k);
	return rc;
}

static void test_keys__alloc_failures(void)
{
	char path[4300];

	db_path(path, sizeof(path), "alloc");
	CU_ASSERT(harness_alloc_loop(alloc_run, path) >= 3);
}

/* ---- the cost of a lookup -------------------------------------------- */

static void test_keys__lookup_cost(void)
{
	struct api_keys *k = open_keys("cost");
	char secret[API_KEY_SIZE], other[API_KEY_SIZE];
	enum { N = 20000, KEYS = 200 };
	struct api_key key;
	double t0, per;

	for (int i = 0; i < KEYS; i++)
		CU_ASSERT_EQUAL_FATAL(api_keys_create(secret, NULL, k, API_READ,
						      NULL, 0, NOW), 0);
	memcpy(other, secret, sizeof(other));
	other[5] = other[5] == 'a' ? 'b' : 'a';
	t0 = efs_clock_mono();
	for (int i = 0; i < N; i++)
		CU_ASSERT_EQUAL(api_keys_lookup(&key, k, secret, NOW), 0);
	per = (efs_clock_mono() - t0) / N * 1e6;
	printf("\n  lookup of a valid key among %d: %.2f us", KEYS, per);
	/* a loose bound: a lookup is microseconds, a request milliseconds */
	CU_ASSERT(per < 500);
	t0 = efs_clock_mono();
	for (int i = 0; i < N; i++)
		CU_ASSERT_EQUAL(api_keys_lookup(&key, k, other, NOW),
				EFS_ENOTFOUND);
	printf(", of an unknown one: %.2f us\n",
	       (efs_clock_mono() - t0) / N * 1e6);
	api_keys_close(k);
}

/* ---- the server ---------------------------------------------------- */

/* method <s><path> with "Authorization: <auth>" (none when NULL); the
 * status, the body's JSON to *out (decref; may be NULL). */
static long call(json_t **out, struct api_server *s, const char *method,
		 const char *path, const char *auth)
{
	char url[256], header[256];
	const char *headers[] = { header, NULL };
	struct httpc_req req = HTTPC_REQ_INIT(method, url);
	struct httpc_resp resp;
	long status;

	snprintf(url, sizeof(url), "%s%s", api_server_url(s), path);
	snprintf(header, sizeof(header), "Authorization: %s", auth);
	if (auth)
		req.headers = headers;
	if (strcmp(method, "POST") == 0) {
		req.body = "{}";
		req.body_len = 2;
	}
	if (httpc_do(&resp, &req) < 0) {
		CU_FAIL("request failed");
		return -1;
	}
	status = resp.status;
	if (out)
		*out = json_loadb((const char *)resp.body.ptr, resp.body.len, 0,
				  NULL);
	httpc_resp_release(&resp);
	return status;
}

/* The error's details of v, "" when none. */
static const char *details(json_t *v)
{
	const char *d = json_string_value(json_object_get(
		json_object_get(v, "error"), "details"));

	return d ? d : "";
}

static void bearer(char *out, size_t cap, const char *token)
{
	snprintf(out, cap, "Bearer %s", token);
}

static void test_server__scopes(void)
{
	char dir[4200], path[4300], tok[API_TOKEN_SIZE], admin[128];
	char rkey[API_KEY_SIZE], wkey[API_KEY_SIZE], r[128], w[128];
	struct api_server_opts opts = { .token = tok, .repo = dir };
	struct api_server *s = NULL;
	struct api_keys *cli;
	struct bstore *bs;
	uint64_t n;
	json_t *v;

	snprintf(dir, sizeof(dir), "%s/server", tmp);
	CU_ASSERT_FATAL(mkdir(dir, 0700) == 0);
	CU_ASSERT_FATAL(bstore_open(&bs, dir, NULL) == 0);
	CU_ASSERT_FATAL(api_token_create(tok, dir) == 0);
	CU_ASSERT_FATAL(api_server_start(&s, "127.0.0.1:0", &opts) == 0);
	api_server_set_bstore(s, bs);
	/* keys made while the daemon runs, by another connection */
	snprintf(path, sizeof(path), "%s/index.db", dir);
	CU_ASSERT_FATAL(api_keys_open(&cli, path) == 0);
	CU_ASSERT_FATAL(api_keys_create(rkey, NULL, cli, API_READ, "r", 0,
					(int64_t)time(NULL)) == 0);
	CU_ASSERT_FATAL(api_keys_create(wkey, NULL, cli, API_WRITE, "w", 0,
					(int64_t)time(NULL)) == 0);
	bearer(r, sizeof(r), rkey);
	bearer(w, sizeof(w), wkey);
	bearer(admin, sizeof(admin), tok);

	/* no credentials, or none that hold: 401 */
	CU_ASSERT_EQUAL(call(&v, s, "POST", "/gc", NULL), 401);
	CU_ASSERT_PTR_NOT_NULL(strstr(details(v), "no credentials"));
	json_decref(v);
	CU_ASSERT_EQUAL(call(&v, s, "POST", "/gc", "Bearer nope"), 401);
	json_decref(v);
	/* a key's neighbour */
	bearer(r, sizeof(r), rkey);
	r[30] = r[30] == 'a' ? 'b' : 'a';
	CU_ASSERT_EQUAL(call(&v, s, "POST", "/gc", r), 401);
	CU_ASSERT_PTR_NOT_NULL(strstr(details(v), "unknown key"));
	CU_ASSERT_PTR_NULL(strstr(details(v), "EST"));
	json_decref(v);
	bearer(r, sizeof(r), rkey);
	CU_ASSERT_EQUAL(call(&v, s, "GET", "/auth", NULL), 401);
	json_decref(v);
	/* a read key: read routes yes, write routes 403; GET /auth looks
	 * the key up once (the route checks its scope itself) */
	n = api_keys_lookups();
	CU_ASSERT_EQUAL(call(&v, s, "GET", "/auth", r), 200);
	CU_ASSERT_EQUAL(api_keys_lookups() - n, 1);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(v, "scope")),
			       "read");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(
				json_object_get(v, "key"), "id")), 1);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(
				json_object_get(v, "key"), "label")), "r");
	json_decref(v);
	CU_ASSERT_EQUAL(call(&v, s, "POST", "/gc", r), 403);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(
				json_object_get(v, "error"), "reason")),
			       "FORBIDDEN");
	json_decref(v);
	CU_ASSERT_EQUAL(call(NULL, s, "GET", "/health", r), 200);
	/* a write key passes; so does the daemon's token */
	CU_ASSERT_EQUAL(call(&v, s, "POST", "/gc", w), 200);
	CU_ASSERT_PTR_NOT_NULL(json_object_get(v, "blocks"));
	json_decref(v);
	CU_ASSERT_EQUAL(call(&v, s, "POST", "/gc", admin), 200);
	json_decref(v);
	CU_ASSERT_EQUAL(call(&v, s, "GET", "/auth", admin), 200);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(v, "scope")),
			       "admin");
	CU_ASSERT(json_is_null(json_object_get(v, "key")));
	json_decref(v);
	/* revoked by the other connection: refused at the next request */
	CU_ASSERT_EQUAL(api_keys_revoke(NULL, cli, 2, (int64_t)time(NULL)), 0);
	CU_ASSERT_EQUAL(call(&v, s, "POST", "/gc", w), 401);
	CU_ASSERT_PTR_NOT_NULL(strstr(details(v), "key 2 is revoked"));
	json_decref(v);
	CU_ASSERT_EQUAL(call(NULL, s, "GET", "/auth", r), 200);
	CU_ASSERT_EQUAL(api_keys_revoke(NULL, cli, 1, (int64_t)time(NULL)), 0);
	CU_ASSERT_EQUAL(call(NULL, s, "GET", "/auth", r), 401);
	/* a new admin key works at once */
	CU_ASSERT_FATAL(api_keys_create(wkey, NULL, cli, API_ADMIN, NULL, 0,
					(int64_t)time(NULL)) == 0);
	bearer(w, sizeof(w), wkey);
	CU_ASSERT_EQUAL(call(&v, s, "POST", "/gc", w), 200);
	json_decref(v);
	/* the daemon's token is not a key, a key is not the token */
	CU_ASSERT_EQUAL(call(NULL, s, "POST", "/gc", "Bearer ESTnopeARY"), 401);
	api_server_stop(s);
	api_keys_close(cli);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	api_token_remove(dir);
	explicit_bzero(rkey, sizeof(rkey));
	explicit_bzero(wkey, sizeof(wkey));
}

/* A server with no repository knows no keys; its token still works. */
static void test_server__no_repository(void)
{
	static const char tok[] = "0123456789abcdef0123456789abcdef"
				  "0123456789abcdef0123456789abcdef";
	struct api_server_opts opts = { .token = tok };
	struct api_server *s;
	char admin[128];
	json_t *v;

	CU_ASSERT_FATAL(api_server_start(&s, "127.0.0.1:0", &opts) == 0);
	CU_ASSERT_EQUAL(call(&v, s, "GET", "/auth",
			     "Bearer EST0123456789abcdef0123456789abcdef"
			     "0123456789abcdef0123456789abcdefARY"), 401);
	CU_ASSERT_PTR_NOT_NULL(strstr(details(v), "not available"));
	json_decref(v);
	bearer(admin, sizeof(admin), tok);
	CU_ASSERT_EQUAL(call(NULL, s, "GET", "/auth", admin), 200);
	/* no blockstore: past the scope check, 503 */
	CU_ASSERT_EQUAL(call(NULL, s, "POST", "/gc", admin), 503);
	api_server_stop(s);
}

/* Time per request of GET /auth with the daemon's token and with a key
 * (one connection each, keep-alive off: what the CLI does). */
static void test_server__request_cost(void)
{
	char dir[4200], path[4300], tok[API_TOKEN_SIZE], key[API_KEY_SIZE];
	char a[2][128];
	struct api_server_opts opts = { .token = tok, .repo = dir };
	struct api_server *s = NULL;
	struct api_keys *k;
	double t0, us[2];
	enum { N = 300 };

	snprintf(dir, sizeof(dir), "%s/cost_server", tmp);
	CU_ASSERT_FATAL(mkdir(dir, 0700) == 0);
	snprintf(path, sizeof(path), "%s/index.db", dir);
	CU_ASSERT_FATAL(api_keys_open(&k, path) == 0);
	CU_ASSERT_FATAL(api_keys_create(key, NULL, k, API_READ, NULL, 0,
					(int64_t)time(NULL)) == 0);
	CU_ASSERT_FATAL(api_token_create(tok, dir) == 0);
	CU_ASSERT_FATAL(api_server_start(&s, "127.0.0.1:0", &opts) == 0);
	bearer(a[0], sizeof(a[0]), tok);
	bearer(a[1], sizeof(a[1]), key);
	for (int j = 1; j >= 0; j--) {
		CU_ASSERT_EQUAL(call(NULL, s, "GET", "/auth", a[j]), 200);
		t0 = efs_clock_mono();
		for (int i = 0; i < N; i++)
			CU_ASSERT_EQUAL(call(NULL, s, "GET", "/auth", a[j]),
					200);
		us[j] = (efs_clock_mono() - t0) / N * 1e6;
	}
	printf("\n  GET /auth: %.0f us with the daemon's token, %.0f us with "
	       "a key\n", us[0], us[1]);
	api_server_stop(s);
	api_keys_close(k);
	api_token_remove(dir);
}

static CU_TestInfo key_tests[] = {
	{ "create_list", test_keys__create_list },
	{ "bad_create", test_keys__bad_create },
	{ "revoke", test_keys__revoke },
	{ "expiry_and_last_used", test_keys__expiry_and_last_used },
	{ "hash_only", test_keys__hash_only },
	{ "corrupt_rows", test_keys__corrupt_rows },
	{ "bearer", test_keys__bearer },
	{ "duration_scope", test_keys__duration_scope },
	{ "alloc_failures", test_keys__alloc_failures },
	{ "lookup_cost", test_keys__lookup_cost },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo server_tests[] = {
	{ "scopes", test_server__scopes },
	{ "no_repository", test_server__no_repository },
	{ "request_cost", test_server__request_cost },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "api_keys", .pInitFunc = api_test_suite_setup,
	       .pCleanupFunc = api_test_suite_teardown, .pTests = key_tests },
	     { .pName = "api_keys_server", .pInitFunc = api_test_suite_setup,
	       .pCleanupFunc = api_test_suite_teardown, .pTests = server_tests })
