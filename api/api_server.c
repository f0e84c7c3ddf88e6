/*
 * api_server.c - the daemon's HTTP server (api_server.h): the listen
 * address, the route table and the routes of issues 5 and 6.
 *
 * Design notes:
 * - One net/http.h server; its handler walks the route tables (api_i.h:
 *   this file's, then each route module's), the first whose path
 *   matches wins; then the method (405 with Allow), the scope (401 or
 *   403) and the body's declared size (413) are checked, in that order,
 *   as soon as the headers are in (net/http.h's headers hook), so a
 *   refused request is answered before a byte of its body is read.
 *   Buffered bodies are capped at max_body (1 MiB by default: the JSON
 *   routes); streamed ones (uploads) at upload_max, and refused with
 *   507 when the repository's disk is short of space.
 * - The dealer is set after the server starts (the dealer needs the
 *   server's URL for its transfer base), so it is an atomic pointer:
 *   requests for /transfer/ before it is set get 503 with Retry-After.
 *   It is never taken away while the server runs; stopping the server
 *   waits for every request, after which the dealer may close.  The
 *   evictor, the retriever and the blockstore are set the same way.
 * - POST /evict, /pin, /unpin and /retrieve share one reading of their
 *   body (evict_request: the evictor, "target" and "name" checked
 *   against what the route needs); /retrieve then streams from a
 *   thread of its own (api_retrieve.c), which the server's stop cuts
 *   (the stopping flag) and waits for.
 * - Routes above PUBLIC scope need credentials: the daemon's bearer
 *   token (api_token.h), which has every scope, or an API key with its
 *   scope (api_keys.h, looked up at each request, so a revocation counts
 *   at once); checked before the body is looked at; neither is ever
 *   logged or echoed.
 */
#define LOG_TOPIC "api"

#include "api/api_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include <jansson.h>

#include "api/api_i.h"
#include "api/api_metrics.h"
#include "api/api_keys.h"
#include "api/api_pins.h"
#include "api/api_retrieve.h"
#include "api/api_token.h"
#include "core/alloc.h"
#include "core/bstore.h"
#include "core/error.h"
#include "core/log.h"
#include "dealer/dealer.h"
#include "dealer/evict.h"
#include "dealer/transfer.h"
#include "efs_config.h"
#include "net/http.h"

#include "core/banned.h"

/* Seconds a client is told to wait before asking again (503). */
#define API_RETRY_AFTER "10"

/* ---- replies ------------------------------------------------------- */

/* The error body every route uses (api_i.h). */
void api_reply_error(struct http_req *req, unsigned status,
		     const char *reason, const char *fmt, ...)
{
	char details[512];
	json_t *v;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(details, sizeof(details), fmt, ap);
	va_end(ap);
	v = json_pack("{s:{s:s,s:s}}", "error", "reason", reason, "details",
		      details);
	if (!v)
		v = json_pack("{s:{s:s}}", "error", "reason", reason);
	if (v)
		http_reply_json(req, status, v);
	json_decref(v);
}

/* ---- routes -------------------------------------------------------- */

static void route_health(struct http_req *req, struct api_server *s)
{
	json_t *v = json_pack("{s:b,s:s,s:b}", "ok", 1, "version",
			      EFS_VERSION, "dealer",
			      atomic_load(&s->dealer) != NULL);

	if (v)
		http_reply_json(req, 200, v);
	json_decref(v);
}

static void route_transfer(struct http_req *req, struct api_server *s)
{
	struct dealer *d = api_need_dealer(req, s);

	if (d)
		transfer_handle(req, dealer_transfer(d));
}

/* The dealer's report (dealer.h): the network, funds, what blocks it
 * (DataCap, escrow, SPs: said loudly here too), its last cycle. */
static void route_dealer(struct http_req *req, struct api_server *s)
{
	struct dealer *d = api_need_dealer(req, s);
	char *text = NULL;
	int rc;

	if (!d)
		return;
	if ((rc = dealer_report(&text, d)) == EFS_ENOTFOUND)
		api_reply_error(req, 404, "NOT_FOUND", "%s", efs_error_msg());
	else if (rc < 0)
		api_reply_error(req, 500, "INTERNAL", "%s", efs_error_msg());
	else
		http_reply(req, 200, "application/json", text, strlen(text));
	efs_free(text);
}

/* ---- the evictor's routes: POST /evict, /pin, /unpin ---------------- */

/* Which of "target" and "name" a route needs. */
enum args_need {
	ARGS_ANY,             /* /evict: none ({} is a pass) */
	ARGS_TARGET,          /* /pin, /retrieve */
	ARGS_TARGET_OR_NAME,  /* /unpin */
};

/* A POST body {"target":"CID","name":"..."}, checked, and the evictor. */
struct evict_args {
	struct evict *e;
	bool has_target;
	struct cid target;
	const char *name;            /* NULL, or name_buf */
	const char *label;           /* name, else the target as text */
	char name_buf[4096];
	char target_str[CID_STR_MAX];
};

/* The body's "target" and "name" into a (false, with 400 sent, when
 * they are not what the route needs). */
static bool args_parse(struct evict_args *a, struct http_req *req,
		       enum args_need need)
{
	const char *what = http_req_path(req) + 1;
	const uint8_t *body;
	json_t *v, *t, *n;
	bool ok = false;
	size_t len;

	body = http_req_body(req, &len);
	v = len ? json_loadb((const char *)body, len, 0, NULL) : json_object();
	t = json_object_get(v, "target");
	n = json_object_get(v, "name");
	if (!json_is_object(v) || (t && !json_is_string(t)) ||
	    (n && !json_is_string(n)))
		api_reply_error(req, 400, "BAD_REQUEST", "want a JSON object "
			    "{\"target\": \"CID\", \"name\": \"...\"}");
	else if (t && cid_parse(&a->target, json_string_value(t)) < 0)
		api_reply_error(req, 400, "BAD_REQUEST", "target: %s",
			    efs_error_msg());
	else if (n && (size_t)snprintf(a->name_buf, sizeof(a->name_buf), "%s",
				       json_string_value(n)) >=
			      sizeof(a->name_buf))
		api_reply_error(req, 400, "BAD_REQUEST", "name: too long");
	else if ((need == ARGS_TARGET && !t) ||
		 (need == ARGS_TARGET_OR_NAME && !t && !n))
		api_reply_error(req, 400, "BAD_REQUEST", "%s: no target%s",
				what, need == ARGS_TARGET ? "" : " or name");
	else
		ok = true;
	if (ok) {
		a->has_target = t != NULL;
		a->name = n ? a->name_buf : NULL;
		if (t)
			cid_tostr(a->target_str, &a->target);
		a->label = n ? a->name_buf : a->target_str;
	}
	json_decref(v);
	return ok;
}

/* The evictor and the request's arguments: false when the reply (503 or
 * 400) is sent already. */
static bool evict_request(struct evict_args *a, struct http_req *req,
			  struct api_server *s, enum args_need need)
{
	memset(a, 0, sizeof(*a));
	return (a->e = api_need_evictor(req, s)) &&
	       args_parse(a, req, need);
}

/* Reply with v (stolen), or the error of rc. */
void api_reply_result(struct http_req *req, int rc, json_t *v)
{
	if (rc == EFS_ENOTFOUND)
		api_reply_error(req, 404, "NOT_FOUND", "%s", efs_error_msg());
	else if (rc == EFS_EINVAL)
		api_reply_error(req, 400, "BAD_REQUEST", "%s", efs_error_msg());
	else if (rc < 0)
		api_reply_error(req, 500, "INTERNAL", "%s", efs_error_msg());
	else if (!v)
		api_reply_error(req, 500, "INTERNAL", "out of memory");
	else
		http_reply_json(req, 200, v);
	json_decref(v);
}

static void route_evict(struct http_req *req, struct api_server *s)
{
	struct evict_result r;
	struct evict_args a;
	int rc;

	if (!evict_request(&a, req, s, ARGS_ANY))
		return;
	rc = a.has_target ? evict_commit(&r, a.e, &a.target)
			  : evict_run(&r, a.e);
	if (rc == 0 && r.blocks)
		efs_log_notice("evicted %llu blocks on request",
			       (unsigned long long)r.blocks);
	api_reply_result(req, rc, rc == 0 ? evict_result_json(&r) : NULL);
}

static void route_pin(struct http_req *req, struct api_server *s)
{
	struct evict_pin_info p;
	struct evict_args a;
	int rc;

	if (!evict_request(&a, req, s, ARGS_TARGET))
		return;
	rc = evict_pin(&p, a.e, &a.target, a.label);
	api_reply_result(req, rc, rc == 0 ? evict_pin_json(&p) : NULL);
}

static void route_unpin(struct http_req *req, struct api_server *s)
{
	struct evict_args a;
	size_t removed;
	int rc;

	if (!evict_request(&a, req, s, ARGS_TARGET_OR_NAME))
		return;
	rc = evict_unpin(&removed, a.e, a.has_target ? &a.target : NULL,
			 a.name);
	api_reply_result(req, rc, rc == 0 ? json_pack("{s:I}", "removed",
						  (json_int_t)removed)
				      : NULL);
}

/* ---- POST /retrieve, POST /gc --------------------------------------- */

/* The DAG under "target" fetched and pinned (name: the pin's label),
 * with its progress streamed (api_retrieve.h). */
static void route_retrieve(struct http_req *req, struct api_server *s)
{
	struct retriever *r = api_need_retriever(req, s);
	struct evict_args a;

	if (!r || !evict_request(&a, req, s, ARGS_TARGET))
		return;
	if (cid_is_identity(&a.target)) {
		api_reply_error(req, 400, "BAD_REQUEST",
				"%s is an identity CID: its bytes are the "
				"CID itself", a.target_str);
		return;
	}
	api_retrieve_reply(req, r, a.e, &a.target, a.label, &s->stopping);
}

/* The blockstore's garbage collected now, as the mount's "efs-gc"
 * thread does it (bstore_gc, the store's grace period). */
static void route_gc(struct http_req *req, struct api_server *s)
{
	struct bstore *bs = api_need_bstore(req, s);
	struct bstore_gc_result r = { 0 };
	int rc;

	if (!bs)
		return;
	rc = bstore_gc(&r, bs);
	if (rc == 0)
		efs_log_notice("gc on request: freed %llu blocks, %llu bytes",
			       (unsigned long long)r.blocks,
			       (unsigned long long)r.bytes);
	api_reply_result(req, rc, rc == 0 ? json_pack("{s:I,s:I,s:I}", "blocks",
						  (json_int_t)r.blocks, "bytes",
						  (json_int_t)r.bytes,
						  "unverified",
						  (json_int_t)r.unverified)
				      : NULL);
}

/* ---- the route tables ---------------------------------------------- */

/* The routes of issues 5 and 6. */
const struct api_route api_core_routes[] = {
	{ NULL, TRANSFER_PATH_PREFIX, route_transfer, API_PUBLIC },
	{ "GET", "/health", route_health, API_PUBLIC },
	{ "GET", "/dealer", route_dealer, API_PUBLIC },
	{ "POST", "/evict", route_evict, API_WRITE },
	{ "POST", "/pin", route_pin, API_WRITE },
	{ "POST", "/unpin", route_unpin, API_WRITE },
	{ "POST", "/retrieve", route_retrieve, API_WRITE },
	{ "POST", "/gc", route_gc, API_WRITE },
};
const size_t api_core_nroutes =
	sizeof(api_core_routes) / sizeof(api_core_routes[0]);

/* Every table served, in the order they are searched (api_i.h).  The
 * route modules of issue 7 add a line each. */
static const struct {
	const struct api_route *v;
	const size_t *n;
} tables[] = {
	{ api_core_routes, &api_core_nroutes },
	/* issue 7 route tables */
	{ api_keys_routes, &api_keys_nroutes },
	{ api_gateway_routes, &api_gateway_nroutes },
	{ api_pins_routes, &api_pins_nroutes },
	{ api_upload_routes, &api_upload_nroutes },
	{ api_rest_routes, &api_rest_nroutes },
	{ api_metrics_routes, &api_metrics_nroutes },
	{ api_dash_routes, &api_dash_nroutes },
	{ api_cli_routes, &api_cli_nroutes },
};

#define NTABLES (sizeof(tables) / sizeof(tables[0]))

bool api_server_table(const struct api_route **routes_out, size_t *n_out,
		      size_t i)
{
	if (i >= NTABLES)
		return false;
	*routes_out = tables[i].v;
	*n_out = *tables[i].n;
	return true;
}

/* The tables whose routes take their bodies as a stream (api_i.h). */
static const struct {
	const struct api_route *v;
	const size_t *n;
} streamed[] = {
	{ api_upload_routes, &api_upload_nroutes },
};

static bool route_streamed(const struct api_route *r)
{
	for (size_t t = 0; t < sizeof(streamed) / sizeof(*streamed); t++)
		for (size_t i = 0; i < *streamed[t].n; i++)
			if (r == &streamed[t].v[i])
				return true;
	return false;
}

static bool path_matches(const char *pattern, const char *path)
{
	size_t n = strlen(pattern);

	/* "/" is the root alone, not a prefix of every path */
	if (n > 1 && pattern[n - 1] == '/')
		return strncmp(path, pattern, n) == 0;
	return strcmp(path, pattern) == 0;
}

static bool method_matches(const char *want, const char *method)
{
	if (!want || strcmp(want, method) == 0)
		return true;
	return strcmp(want, "GET") == 0 && strcmp(method, "HEAD") == 0;
}

static const struct api_route *route_find(const char *path)
{
	for (size_t t = 0; t < NTABLES; t++)
		for (size_t i = 0; i < *tables[t].n; i++)
			if (path_matches(tables[t].v[i].path, path))
				return &tables[t].v[i];
	return NULL;
}

/*
 * The request may go on to its route: else 401 (no valid credentials)
 * or 403 (valid, but not enough) is sent (api_keys_require, which
 * routes checking a scope of their own share).  Only routes above
 * PUBLIC look the credentials up.
 */
static bool allowed(const struct api_route *r, struct api_server *s,
		    struct http_req *req)
{
	return api_keys_require(NULL, NULL, req, s, r->scope);
}

/*
 * The headers are in, no body byte read: the route, the method (405),
 * the scope (401, 403) and, for a buffered body, its declared size
 * (413) are checked here, so a refused request is answered before its
 * body is read.  A streamed route takes over (api_body_stream); a
 * buffered one is remembered for handle.
 */
static void on_headers(struct http_req *req, void *payload)
{
	struct api_server *srv = payload;
	const char *method = http_req_method(req);
	const char *path = http_req_path(req);
	const struct api_route *r = route_find(path);
	uint64_t declared = http_req_content_length(req);

	if (!r) {
		api_reply_error(req, 404, "NOT_FOUND", "no route for %s %s",
				method, path);
	} else if (!method_matches(r->method, method)) {
		http_resp_header(req, "Allow", strcmp(r->method, "GET") == 0
						       ? "GET, HEAD"
						       : r->method);
		api_reply_error(req, 405, "METHOD_NOT_ALLOWED",
				"%s is not allowed on %s", method, path);
	} else if (!allowed(r, srv, req)) {
		/* 401 or 403 sent */
	} else if (route_streamed(r)) {
		http_req_set_cls(req, (void *)r);
		r->handle(req, srv);
		if (!http_req_status(req))
			return; /* streamed: counted by stream_end */
	} else if (declared != HTTP_SIZE_UNKNOWN &&
		   declared > srv->max_body) {
		api_reply_error(req, 413, "TOO_LARGE", "the request body is "
				"over %zu bytes", srv->max_body);
	} else {
		http_req_set_cls(req, (void *)r);
		return;
	}
	api_metrics_count(r ? r->path : NULL, http_req_status(req));
}

/* The buffered body is in: the route's handler. */
static void handle(struct http_req *req, void *payload)
{
	struct api_server *srv = payload;
	const struct api_route *r = http_req_cls(req);

	if (!r)
		http_reply_text(req, 500, "no route\n");
	else if (http_req_body_too_big(req))
		api_reply_error(req, 413, "TOO_LARGE",
				"the request body is over %zu bytes",
				srv->max_body);
	else
		r->handle(req, srv);
	api_metrics_count(r ? r->path : NULL, http_req_status(req));
}

/* ---- streamed bodies (api_i.h api_body_stream) ---------------------- */

/* Bytes of a chunked body between two looks at the free disk space. */
#define API_DISK_CHECK_EVERY ((uint64_t)64 << 20)

/* A route's body stream, wrapped: its disk checks and its count. */
struct body_stream {
	const struct http_body_ops *ops;
	void *cls;
	struct api_server *s;
	uint64_t unchecked;          /* bytes since the last disk check */
};

/* Bytes free for an unprivileged writer on the repository's disk, or
 * UINT64_MAX when unknown. */
static uint64_t disk_free(const struct api_server *s)
{
	struct statvfs st;

	if (!s->repo || statvfs(s->repo, &st) < 0)
		return UINT64_MAX;
	return (uint64_t)st.f_bavail * st.f_frsize;
}

/* Whether need more bytes fit on the disk, API_DISK_RESERVE kept. */
static int disk_room(const struct api_server *s, uint64_t need)
{
	uint64_t avail = disk_free(s);

	if (avail == UINT64_MAX ||
	    (avail >= API_DISK_RESERVE && need <= avail - API_DISK_RESERVE))
		return 0;
	return efs_error_set(EFS_ENOSPC, "the repository's disk has %llu "
			     "MiB free, %llu MiB of it kept in reserve: "
			     "free space or move the repository to a "
			     "larger disk", (unsigned long long)(avail >> 20),
			     (unsigned long long)(API_DISK_RESERVE >> 20));
}

static int stream_chunk(void *cls, struct http_req *req,
			const uint8_t *data, size_t len)
{
	struct body_stream *b = cls;
	int rc;

	b->unchecked += len;
	if (b->unchecked >= API_DISK_CHECK_EVERY) {
		b->unchecked = 0;
		if ((rc = disk_room(b->s, 0)) < 0)
			return rc;
	}
	return b->ops->chunk(b->cls, req, data, len);
}

/* The route's end, then the reply it left to the frame and the count. */
static void stream_end(void *cls, struct http_req *req, int rc)
{
	struct body_stream *b = cls;
	struct efs_error_state err;

	efs_error_save(&err);
	b->ops->end(b->cls, req, rc);
	efs_error_restore(&err);
	if (http_req_status(req) == 0 && rc == EFS_ETOOBIG)
		api_reply_error(req, 413, "TOO_LARGE", "the request body is "
				"over %llu bytes (config.json "
				"http.upload_max)",
				(unsigned long long)b->s->upload_max);
	else if (http_req_status(req) == 0 && rc == EFS_ENOSPC)
		api_reply_error(req, 507, "INSUFFICIENT_STORAGE", "%s",
				efs_error_msg());
	if (http_req_status(req))
		api_metrics_count(((const struct api_route *)
				   http_req_cls(req))->path,
				  http_req_status(req));
	efs_free(b);
}

static const struct http_body_ops stream_ops = { stream_chunk, stream_end };

void api_body_stream(struct http_req *req, struct api_server *s,
		     const struct http_body_ops *ops, void *cls)
{
	uint64_t declared = http_req_content_length(req);
	uint64_t max = s->upload_max == UINT64_MAX ? 0 : s->upload_max;
	struct body_stream *b;
	int rc;

	if (declared != HTTP_SIZE_UNKNOWN && max && declared > max) {
		api_reply_error(req, 413, "TOO_LARGE", "the request body is "
				"%llu bytes, over the %llu-byte cap "
				"(config.json http.upload_max)",
				(unsigned long long)declared,
				(unsigned long long)max);
		rc = EFS_ETOOBIG;
	} else if ((rc = disk_room(s, declared == HTTP_SIZE_UNKNOWN
					     ? 0 : declared)) < 0) {
		api_reply_error(req, 507, "INSUFFICIENT_STORAGE", "%s",
				efs_error_msg());
	} else if (!(b = efs_calloc(1, sizeof(*b)))) {
		api_reply_error(req, 500, "INTERNAL", "out of memory");
		rc = EFS_ENOMEM;
	} else {
		*b = (struct body_stream){ ops, cls, s, 0 };
		if ((rc = http_req_body_stream(req, max, &stream_ops, b)) == 0)
			return;
		efs_free(b);
		api_reply_error(req, 500, "INTERNAL", "%s", efs_error_msg());
	}
	ops->end(cls, req, rc);
}

/* ---- what the routes use (api_i.h) ---------------------------------- */

const char *api_scope_name(enum api_scope scope)
{
	static const char *const names[] = { "public", "read", "write",
					     "admin" };

	return (size_t)scope < sizeof(names) / sizeof(names[0])
		       ? names[scope]
		       : "?";
}

/* 503 with Retry-After: what the route needs is not running (yet). */
static void *unavailable(struct http_req *req, const char *what)
{
	http_resp_header(req, "Retry-After", API_RETRY_AFTER);
	api_reply_error(req, 503, "UNAVAILABLE", "%s", what);
	return NULL;
}

struct dealer *api_need_dealer(struct http_req *req, struct api_server *s)
{
	struct dealer *d = atomic_load(&s->dealer);

	return d ? d : unavailable(req, "the dealer is not running");
}

struct evict *api_need_evictor(struct http_req *req, struct api_server *s)
{
	struct evict *e = atomic_load(&s->evict);

	return e ? e : unavailable(req, "the evictor is not running");
}

struct retriever *api_need_retriever(struct http_req *req,
				     struct api_server *s)
{
	struct retriever *r = atomic_load(&s->retr);

	return r ? r : unavailable(req, "retrieval is not running");
}

struct bstore *api_need_bstore(struct http_req *req, struct api_server *s)
{
	struct bstore *bs = atomic_load(&s->bs);

	return bs ? bs : unavailable(req, "the blockstore is not open yet");
}

const char *api_need_repo(struct http_req *req, struct api_server *s)
{
	return s->repo ? s->repo
		       : unavailable(req, "the daemon serves no repository");
}

void api_server_multiaddr(char *out, size_t cap, const struct api_server *s)
{
	const char *host = s->url + strlen("http://");
	const char *colon = strrchr(host, ':');

	snprintf(out, cap, "/ip4/%.*s/tcp/%s/http",
		 colon ? (int)(colon - host) : 0, host, colon ? colon + 1 : "");
}

/* ---- the server ---------------------------------------------------- */

/* "IPV4:PORT" or "localhost:PORT" into host (dotted quad) and port. */
static int listen_parse(char host[INET_ADDRSTRLEN], uint16_t *port,
			const char *listen)
{
	const char *colon = strrchr(listen, ':');
	struct in_addr a;
	size_t n = colon ? (size_t)(colon - listen) : 0;
	char *end;
	unsigned long p;

	if (!colon || n == 0 || n >= INET_ADDRSTRLEN || !colon[1] ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		goto bad;
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (errno || *end || p > 65535)
		goto bad;
	memcpy(host, listen, n);
	host[n] = '\0';
	if (strcmp(host, "localhost") == 0)
		snprintf(host, INET_ADDRSTRLEN, "127.0.0.1");
	if (inet_pton(AF_INET, host, &a) != 1)
		goto bad;
	*port = (uint16_t)p;
	return 0;
bad:
	return efs_error_set(EFS_EINVAL, "api: bad listen address \"%s\" "
			     "(want IPV4:PORT such as 127.0.0.1:3004)",
			     listen);
}

static bool is_loopback(const char *host)
{
	return strncmp(host, "127.", 4) == 0;
}

/* Free s and what it owns (no thread uses it any more). */
static void server_free(struct api_server *s)
{
	explicit_bzero(s->token, sizeof(s->token));
	pthread_mutex_destroy(&s->stats.mu);
	efs_free(s->stats.json);
	efs_free(s->repo);
	efs_free(s);
}

int api_server_start(struct api_server **out, const char *listen,
		     const struct api_server_opts *opts)
{
	char host[INET_ADDRSTRLEN];
	struct api_server *s;
	uint16_t port;
	int rc;

	*out = NULL;
	if ((rc = listen_parse(host, &port, listen)) < 0)
		return rc;
	if (!(s = efs_calloc(1, sizeof(*s))))
		return efs_error_set(EFS_ENOMEM, "api: out of memory");
	pthread_mutex_init(&s->stats.mu, NULL);
	atomic_init(&s->dealer, NULL);
	atomic_init(&s->evict, NULL);
	atomic_init(&s->retr, NULL);
	atomic_init(&s->bs, NULL);
	atomic_init(&s->stopping, false);
	if (opts && opts->token)
		snprintf(s->token, sizeof(s->token), "%s", opts->token);
	if (opts) {
		s->commit_log = opts->commit_log;
		s->fs_ops = opts->fs_ops;
		s->fs_ops_cls = opts->fs_ops_cls;
		if (opts->fs) {
			s->fs = *opts->fs;
			s->has_fs = true;
		}
	}
	if (opts && opts->repo && !(s->repo = efs_strdup(opts->repo))) {
		server_free(s);
		return efs_error_set(EFS_ENOMEM, "api: out of memory");
	}
	/* before the first request: the /pins routes read s->pins */
	if (s->repo &&
	    api_pins_start(&s->pins, s, opts ? opts->pins_workers : 0) < 0)
		efs_log_warn("%s (the /pins routes answer 503)",
			     efs_error_msg());
	s->max_body = opts && opts->max_body ? opts->max_body : HTTP_BODY_MAX;
	s->upload_max = opts && opts->upload_max ? opts->upload_max
						 : API_UPLOAD_MAX_DEFAULT;
	rc = http_server_start_opts(&s->http, host, port,
				    &(struct http_server_opts){
					    .max_body = s->max_body,
					    .handle = handle,
					    .headers = on_headers,
					    .payload = s });
	if (rc < 0) {
		api_pins_stop(s->pins);
		server_free(s);
		return rc;
	}
	snprintf(s->url, sizeof(s->url), "http://%s:%u",
		 strcmp(host, "0.0.0.0") == 0 ? "127.0.0.1" : host,
		 (unsigned)http_server_port(s->http));
	if (!is_loopback(host))
		efs_log_warn("listening on %s:%u, beyond this machine: "
			     "whoever can reach it can use the API", host,
			     (unsigned)http_server_port(s->http));
	*out = s;
	return 0;
}

uint16_t api_server_port(const struct api_server *s)
{
	return http_server_port(s->http);
}

const char *api_server_url(const struct api_server *s)
{
	return s->url;
}

void api_server_set_dealer(struct api_server *s, struct dealer *d)
{
	atomic_store(&s->dealer, d);
}

void api_server_set_evictor(struct api_server *s, struct evict *e)
{
	atomic_store(&s->evict, e);
}

void api_server_set_retriever(struct api_server *s, struct retriever *r)
{
	atomic_store(&s->retr, r);
}

void api_server_set_bstore(struct api_server *s, struct bstore *bs)
{
	atomic_store(&s->bs, bs);
}

void api_server_stop(struct api_server *s)
{
	if (!s)
		return;
	atomic_store(&s->stopping, true);
	http_server_stop(s->http);
	api_pins_stop(s->pins);
	api_keys_server_close(s);
	server_free(s);
}
