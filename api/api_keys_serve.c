/*
 * api_keys_serve.c - the server's side of API keys (api_keys.h): which
 * scope a request's Authorization header gives, and GET /auth.
 *
 *	Authorization ──none──────────────────────────► PUBLIC "no credentials"
 *	    ├─ the daemon's api.token (constant time) ──► ADMIN
 *	    ├─ "Bearer EST...ARY" ──lookup──usable──────► the key's scope
 *	    │                         └─unknown, revoked,
 *	    │                           expired, damaged ► PUBLIC (why)
 *	    └─ anything else ───────────────────────────► PUBLIC "not a key"
 *
 * The frame (api_server.c) answers 401 for PUBLIC and 403 for a scope
 * too small for the route.
 *
 * Design notes:
 * - The key table is opened at the first request that needs it (the
 *   server may start before the index exists) and kept in s->keys: two
 *   threads racing to open it keep one, the other closes its own.  When
 *   it cannot be opened, keys give nothing (the daemon's token still
 *   works) and the failure is logged at most once a minute.
 * - A lookup is a read of one row on a pooled connection per request
 *   (api_keys.c): nothing is cached, so revocations count at once.
 */
#define LOG_TOPIC "api"

#include "api/api_keys.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api_token.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"

#include "core/banned.h"

/* Seconds between two warnings that the key table cannot be opened. */
#define OPEN_WARN_SEC 60

static _Atomic int64_t last_open_warn;
/* api_keys_lookups */
static _Atomic uint64_t lookups;

/* The key table of s's repository, opened now if need be; NULL when
 * there is none (no repository, or it cannot be opened). */
static struct api_keys *server_keys(struct api_server *s)
{
	struct api_keys *k = atomic_load(&s->keys), *mine;
	int64_t now, last;
	char *path;
	size_t n;
	int rc;

	if (k || !s->repo)
		return k;
	n = strlen(s->repo) + sizeof("/index.db");
	if (!(path = efs_malloc(n))) {
		efs_error_set(EFS_ENOMEM, "api keys: out of memory");
		rc = EFS_ENOMEM;
	} else {
		snprintf(path, n, "%s/index.db", s->repo);
		rc = api_keys_open(&mine, path);
		efs_free(path);
	}
	if (rc < 0) {
		now = efs_clock_mono_sec();
		last = atomic_load(&last_open_warn);
		if ((!last || now - last >= OPEN_WARN_SEC) &&
		    atomic_compare_exchange_strong(&last_open_warn, &last, now))
			efs_log_warn("API keys are not available: %s",
				     efs_error_msg());
		return NULL;
	}
	if (!atomic_compare_exchange_strong(&s->keys, &k, mine)) {
		api_keys_close(mine);
		return k;
	}
	return mine;
}

void api_keys_server_close(struct api_server *s)
{
	api_keys_close(atomic_exchange(&s->keys, NULL));
}

static void say(char why[API_KEYS_WHY_MAX], const char *what)
{
	if (why)
		snprintf(why, API_KEYS_WHY_MAX, "%s", what);
}

enum api_scope api_keys_request_scope(struct api_key *key_out,
				      char why[API_KEYS_WHY_MAX],
				      struct api_server *s,
				      struct http_req *req)
{
	const char *auth = http_req_header(req, "Authorization");
	char token[API_KEY_SIZE];
	struct api_key key;
	struct api_keys *k;
	const char *msg;
	int rc;

	if (key_out)
		memset(key_out, 0, sizeof(*key_out));
	say(why, "");
	if (!auth) {
		say(why, "no credentials");
		return API_PUBLIC;
	}
	if (api_token_check(s->token, auth))
		return API_ADMIN;
	if (!api_keys_bearer(token, auth)) {
		say(why, "not an API key");
		return API_PUBLIC;
	}
	if (!(k = server_keys(s))) {
		say(why, "API keys are not available here");
		explicit_bzero(token, sizeof(token));
		return API_PUBLIC;
	}
	atomic_fetch_add(&lookups, 1);
	rc = api_keys_lookup(&key, k, token, (int64_t)time(NULL));
	explicit_bzero(token, sizeof(token));
	if (rc < 0) {
		/* "api keys: key 3 is revoked" -> "key 3 is revoked" */
		msg = efs_error_msg();
		if (strncmp(msg, "api keys: ", 10) == 0)
			msg += 10;
		say(why, rc == EFS_ENOTFOUND || rc == EFS_ECORRUPT
			     ? msg
			     : "the key could not be checked");
		if (rc != EFS_ENOTFOUND)
			efs_log_warn("checking an API key: %s",
				     efs_error_msg());
		return API_PUBLIC;
	}
	if (key_out)
		*key_out = key;
	return key.scope;
}

uint64_t api_keys_lookups(void)
{
	return atomic_load(&lookups);
}

bool api_keys_require(struct api_key *key_out, enum api_scope *scope_out,
		      struct http_req *req, struct api_server *s,
		      enum api_scope need)
{
	char why[API_KEYS_WHY_MAX];
	enum api_scope have = API_PUBLIC;

	if (key_out)
		memset(key_out, 0, sizeof(*key_out));
	if (need != API_PUBLIC)
		have = api_keys_request_scope(key_out, why, s, req);
	if (scope_out)
		*scope_out = have;
	if (have >= need)
		return true;
	if (have != API_PUBLIC) {
		api_reply_error(req, 403, "FORBIDDEN",
				"%s %s needs a key with the %s scope (this "
				"one has %s)",
				http_req_method(req), http_req_path(req),
				api_scope_name(need), api_scope_name(have));
		return false;
	}
	http_resp_header(req, "WWW-Authenticate", "Bearer");
	api_reply_error(req, 401, "UNAUTHORIZED",
			"%s %s needs an API key with the %s scope "
			"(Authorization: Bearer ...; see 'estuaryfs key "
			"create'): %s",
			http_req_method(req), http_req_path(req),
			api_scope_name(need), why);
	return false;
}

/* ---- GET /auth ------------------------------------------------------ */

/* The route is PUBLIC in the table and checks READ here: the one lookup
 * of the key gives both the access and the record sent back. */
static void route_auth(struct http_req *req, struct api_server *s)
{
	struct api_key key;
	enum api_scope scope;
	json_t *k;

	if (!api_keys_require(&key, &scope, req, s, API_READ))
		return;
	k = key.id ? api_keys_json(&key, (int64_t)time(NULL)) : json_null();
	api_reply_result(
	    req, 0,
	    k ? json_pack("{s:s,s:o}", "scope", api_scope_name(scope), "key", k)
	      : NULL);
}

const struct api_route api_keys_routes[] = {
    {"GET", "/auth", route_auth, API_PUBLIC},
};
const size_t api_keys_nroutes =
    sizeof(api_keys_routes) / sizeof(api_keys_routes[0]);
