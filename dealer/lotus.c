/*
 * lotus.c - the Lotus JSON-RPC client: endpoints and tokens, one call
 * per request, batches (see lotus.h).  The typed calls are in
 * lotus_methods.c, the reading of replies in lotus_decode.c.
 *
 * Design notes:
 *  - One request = one HTTP POST through httpc (its own curl handle, a
 *    capped body, a timeout), so a struct lotus holds only constants
 *    and atomic counters and any thread may call at once.  Ids come
 *    from an atomic counter: a batch takes a run of consecutive ids, so
 *    its reply can be matched to its calls by id alone.
 *  - HTTP statuses as go-jsonrpc sends them: 200 for replies (errors
 *    of methods included), 500 (or 400) with a JSON-RPC error for a bad
 *    request, 401 with an empty body for a refused token (Lotus' auth
 *    handler; 403 from proxies).  A status without a JSON-RPC error in
 *    its body is the transport's failure (EFS_EIO), shown with the start
 *    of the body.
 *  - Batches are sent in chunks of batch_max calls; a chunk that fails
 *    as a whole stops the run, since the next would most likely fail
 *    the same way (a dead node must not cost 120 timeouts).
 */
#include "dealer/lotus.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/multiaddr.h"
#include "dealer/lotus_decode.h"
#include "net/httpc.h"

#include "core/banned.h"

struct lotus {
	char *url;
	char *auth;                 /* "Authorization: Bearer ..." or NULL */
	struct lotus_limits lim;
	_Atomic uint64_t next_id;
	_Atomic uint64_t requests;
	_Atomic uint64_t calls;
};

struct lotus_batch {
	struct lotus_decode_entry *e;
	json_t **params;            /* until sent */
	size_t n, cap;
	size_t nrun;                /* e[0..nrun) have outcomes */
};

/* The header a token travels in. */
#define BEARER "Authorization: Bearer "

/* Most bytes of a non-JSON error body quoted in a message. */
#define SNIPPET_MAX 60

static int oom(void)
{
	return efs_error_set(EFS_ENOMEM, "lotus: out of memory");
}

/* ---- endpoints ---- */

static bool printable(const char *s, bool spaces)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			if (!(spaces && *s == ' '))
				return false;
	return true;
}

int lotus_open(struct lotus **out, const char *url, const char *token)
{
	struct buf auth = BUF_INIT(BUF_NOCAP);
	struct lotus *l;

	*out = NULL;
	if (!httpc_url_ok(url))
		return efs_error_set(EFS_EINVAL, "lotus: endpoint '%.80s' is "
				     "not an http(s) url without spaces",
				     printable(url, false) ? url : "...");
	if (token && (strlen(token) > LOTUS_TOKEN_MAX ||
		      !printable(token, false)))
		return efs_error_set(EFS_EINVAL, "lotus: the API token is "
				     "not a JWT (control characters, spaces "
				     "or over %d bytes)", LOTUS_TOKEN_MAX);
	if (!(l = efs_calloc(1, sizeof(*l))))
		return oom();
	if (token && *token &&
	    buf_printf(&auth, "%s%s", BEARER, token) < 0)
		goto fail;
	l->auth = (char *)buf_detach(&auth, NULL);
	if (!(l->url = efs_strdup(url)))
		goto fail;
	atomic_init(&l->next_id, 1);
	atomic_init(&l->requests, 0);
	atomic_init(&l->calls, 0);
	lotus_set_limits(l, NULL);
	*out = l;
	return 0;
fail:
	buf_release(&auth);
	lotus_close(l);
	return oom();
}

void lotus_close(struct lotus *l)
{
	if (!l)
		return;
	efs_free(l->url);
	efs_free(l->auth);
	efs_free(l);
}

void lotus_set_limits(struct lotus *l, const struct lotus_limits *lim)
{
	static const struct lotus_limits none;

	if (!lim)
		lim = &none;
	l->lim.max_reply = lim->max_reply ? lim->max_reply : LOTUS_REPLY_MAX;
	l->lim.timeout_ms = lim->timeout_ms ? lim->timeout_ms
					    : LOTUS_TIMEOUT_MS;
	l->lim.batch_max = lim->batch_max ? lim->batch_max : LOTUS_BATCH_MAX;
}

const char *lotus_url(const struct lotus *l)
{
	return l->url;
}

const char *lotus_token(const struct lotus *l)
{
	return l->auth ? l->auth + strlen(BEARER) : NULL;
}

uint64_t lotus_requests(const struct lotus *l)
{
	return atomic_load(&l->requests);
}

uint64_t lotus_calls(const struct lotus *l)
{
	return atomic_load(&l->calls);
}

/* ---- FULLNODE_API_INFO ---- */

/* The shape a node's API address takes: a host, /tcp/PORT (not 0), and
 * at most a scheme. */
static bool api_shape(const uint8_t *p, size_t len)
{
	struct multiaddr_part part;
	size_t pos = 0, i = 0;

	while (multiaddr_next(&part, p, len, &pos) == 0) {
		uint64_t c = part.code;

		if (i == 0 && c != MULTIADDR_IP4 && c != MULTIADDR_IP6 &&
		    c != MULTIADDR_DNS && c != MULTIADDR_DNS4 &&
		    c != MULTIADDR_DNS6)
			return false;
		if (i == 1 && (c != MULTIADDR_TCP ||
			       (part.value[0] == 0 && part.value[1] == 0)))
			return false;
		if (i == 2 && c != MULTIADDR_HTTP && c != MULTIADDR_HTTPS &&
		    c != MULTIADDR_WS && c != MULTIADDR_WSS)
			return false;
		if (++i > 3)
			return false;
	}
	return i >= 2;
}

/* /ip4/H/tcp/P[/http|/ws|/https|/wss] as a URL into u (core/multiaddr.h
 * makes the URL: ws -> http, wss -> https), then /rpc/v1. */
static int multiaddr_url(struct buf *u, const char *ma)
{
	uint8_t bin[MULTIADDR_STR_MAX];
	char url[MULTIADDR_URL_MAX];
	long n;

	if ((n = multiaddr_parse(bin, sizeof(bin), ma, strlen(ma))) < 0 ||
	    !api_shape(bin, (size_t)n) ||
	    multiaddr_http_url(url, sizeof(url), bin, (size_t)n) < 0)
		return -1;
	return buf_printf(u, "%s/rpc/v1", url);
}

static bool has_scheme(const char *s)
{
	return strncmp(s, "http://", 7) == 0 ||
	       strncmp(s, "https://", 8) == 0 || strncmp(s, "ws://", 5) == 0 ||
	       strncmp(s, "wss://", 6) == 0;
}

/* A URL "http://host:port[/rpc/v1]" (ws:// taken as http://). */
static int plain_url(struct buf *u, const char *s)
{
	const char *rest = strstr(s, "://");
	bool tls = strncmp(s, "https://", 8) == 0 ||
		   strncmp(s, "wss://", 6) == 0;

	if (!has_scheme(s) || !rest[3])
		return -1;
	if (buf_printf(u, "%s://%s", tls ? "https" : "http", rest + 3) < 0)
		return EFS_ENOMEM;
	while (u->len && u->ptr[u->len - 1] == '/')
		buf_truncate(u, u->len - 1);
	if (!strstr((const char *)u->ptr + (tls ? 8 : 7), "/rpc/"))
		return buf_adds(u, "/rpc/v1");
	return 0;
}

int lotus_open_info(struct lotus **out, const char *api_info)
{
	struct buf copy = BUF_INIT(BUF_NOCAP), url = BUF_INIT(BUF_NOCAP);
	const char *token = NULL;
	char *addr;
	int rc;

	*out = NULL;
	if (!api_info || !*api_info)
		return efs_error_set(EFS_EINVAL, "lotus: no api info: set "
				     "FULLNODE_API_INFO to TOKEN:/ip4/HOST/"
				     "tcp/PORT/http");
	if (buf_adds(&copy, api_info) < 0)
		return oom();
	while (copy.len && strchr(" \t\r\n", copy.ptr[copy.len - 1]))
		buf_truncate(&copy, copy.len - 1);
	addr = (char *)copy.ptr;
	if (addr[0] != '/' && !has_scheme(addr)) {
		token = addr;
		if (!(addr = strchr(addr, ':'))) {
			rc = efs_error_set(EFS_EINVAL, "lotus: api info has no "
					   "address: want TOKEN:/ip4/HOST/tcp/"
					   "PORT/http");
			goto out;
		}
		*addr++ = '\0';
	}
	rc = addr[0] == '/' ? multiaddr_url(&url, addr) : plain_url(&url, addr);
	if (rc == EFS_ENOMEM)
		rc = oom();
	else if (rc < 0)
		rc = efs_error_set(EFS_EINVAL, "lotus: api address '%.80s' is "
				   "not /ip4|ip6|dns/HOST/tcp/PORT[/http] or "
				   "an http url", addr);
	else
		rc = lotus_open(out, (const char *)url.ptr, token);
out:
	buf_release(&copy);
	buf_release(&url);
	return rc;
}

/* ---- requests ---- */

static int dump_cb(const char *p, size_t n, void *data)
{
	return buf_add(data, p, n) < 0 ? -1 : 0;
}

/* The start of a reply body, printable, for an error message. */
static void snippet(char *out, const struct buf *body)
{
	size_t n = 0;

	for (size_t i = 0; i < body->len && n < SNIPPET_MAX; i++) {
		unsigned char c = body->ptr[i];

		if (c == '\n' || c == '\r')
			break;
		out[n++] = c < 0x20 || c > 0x7e ? '?' : (char)c;
	}
	out[n] = '\0';
}

/* rc with "lotus: what: " before this thread's message (whose own
 * "lotus: " goes). */
static int wrap(int rc, const char *what)
{
	const char *m = efs_error_msg();

	if (rc == EFS_ENOMEM)
		return rc;
	if (strncmp(m, "lotus: ", 7) == 0)
		m += 7;
	return efs_error_set(rc, "lotus: %s: %s", what, m);
}

/* A reply that is not 200: a JSON-RPC error, or the transport's. */
static int judge_status(json_t **out, const struct lotus *l,
			const struct httpc_resp *r, const char *what)
{
	char text[SNIPPET_MAX + 1];
	json_t *v;

	if (r->status == 401 || r->status == 403)
		return efs_error_set(EFS_EINVAL, "lotus: %s: HTTP %ld: the "
				     "node refused the API token: make one "
				     "with 'lotus auth create-token --perm "
				     "write' and set FULLNODE_API_INFO", what,
				     r->status);
	if (lotus_decode_parse(&v, r->body.ptr, r->body.len) == 0) {
		if (json_is_object(json_object_get(v, "error"))) {
			*out = v;
			return 0;
		}
		json_decref(v);
	}
	snippet(text, &r->body);
	return efs_error_set(EFS_EIO, "lotus: %s: HTTP %ld from %s%s%s", what,
			     r->status, l->url, *text ? ": " : "", text);
}

/*
 * POST req (a call or a batch of ncalls) and parse the reply into *out
 * (a new reference).  what names the call in messages.
 */
static int post(json_t **out, struct lotus *l, const json_t *req,
		size_t ncalls, const char *what)
{
	const char *headers[] = { "Content-Type: application/json", l->auth,
				  NULL };
	struct httpc_req hr = HTTPC_REQ_INIT("POST", l->url);
	struct buf body = BUF_INIT(BUF_NOCAP);
	struct httpc_resp resp;
	int rc;

	*out = NULL;
	if (json_dump_callback(req, dump_cb, &body, JSON_COMPACT) < 0) {
		buf_release(&body);
		return oom();
	}
	hr.headers = headers;
	hr.body = body.ptr;
	hr.body_len = body.len;
	hr.max_body = l->lim.max_reply;
	hr.timeout_ms = l->lim.timeout_ms;
	atomic_fetch_add(&l->requests, 1);
	atomic_fetch_add(&l->calls, ncalls);
	rc = httpc_do(&resp, &hr);
	buf_release(&body);
	if (rc == EFS_ETOOBIG)
		rc = efs_error_set(rc, "lotus: %s: reply over %zu bytes", what,
				   l->lim.max_reply);
	else if (rc < 0)
		rc = wrap(rc, what);
	else if (resp.status != 200)
		rc = judge_status(out, l, &resp, what);
	else if ((rc = lotus_decode_parse(out, resp.body.ptr,
					  resp.body.len)) < 0)
		rc = wrap(rc, what);
	httpc_resp_release(&resp);
	return rc;
}

/* The wire name: Filecoin.<method>, or a namespaced name ("Devnet.Mine")
 * as it is. */
static void full_name(char *out, size_t cap, const char *method)
{
	if (strchr(method, '.'))
		snprintf(out, cap, "%s", method);
	else
		snprintf(out, cap, "Filecoin.%s", method);
}

static json_t *request(const char *method, json_t *params, uint64_t id)
{
	char name[LOTUS_METHOD_MAX + 16];

	full_name(name, sizeof(name), method);
	return json_pack("{s:s, s:s, s:O, s:I}", "jsonrpc", "2.0", "method",
			 name, "params", params, "id", (json_int_t)id);
}

/* params as a call takes them: stolen, NULL for [], an array. */
static int check_call(json_t **params, const char *method)
{
	if (!*params && !(*params = json_array()))
		return oom();
	if (strlen(method) >= LOTUS_METHOD_MAX || !json_is_array(*params)) {
		json_decref(*params);
		*params = NULL;
		if (strlen(method) >= LOTUS_METHOD_MAX)
			return efs_error_set(EFS_EINVAL, "lotus: method name "
					     "'%.64s...' too long", method);
		return efs_error_set(EFS_EINVAL, "lotus: %s: params must be "
				     "an array", method);
	}
	return 0;
}

int lotus_call(json_t **out, struct lotus *l, const char *method,
	       json_t *params)
{
	char what[LOTUS_METHOD_MAX + 16];
	json_t *req, *reply;
	uint64_t id;
	int rc;

	*out = NULL;
	if ((rc = check_call(&params, method)) < 0)
		return rc;
	full_name(what, sizeof(what), method);
	id = atomic_fetch_add(&l->next_id, 1);
	req = request(method, params, id);
	json_decref(params);
	if (!req)
		return oom();
	rc = post(&reply, l, req, 1, what);
	json_decref(req);
	if (rc < 0)
		return rc;
	rc = lotus_decode_reply(out, reply, (int64_t)id, method);
	json_decref(reply);
	return rc;
}

/* ---- batches ---- */

int lotus_batch_new(struct lotus_batch **out)
{
	if (!(*out = efs_calloc(1, sizeof(**out))))
		return oom();
	return 0;
}

size_t lotus_batch_count(const struct lotus_batch *b)
{
	return b->n;
}

int lotus_batch_add(struct lotus_batch *b, const char *method,
		    json_t *params)
{
	int rc;

	if ((rc = check_call(&params, method)) < 0)
		return rc;
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 16;
		struct lotus_decode_entry *e;
		json_t **p;

		if (b->n >= (size_t)INT32_MAX ||
		    !(e = efs_reallocarray(b->e, cap, sizeof(*e)))) {
			json_decref(params);
			return oom();
		}
		b->e = e;
		if (!(p = efs_reallocarray(b->params, cap, sizeof(*p)))) {
			json_decref(params);
			return oom();
		}
		b->params = p;
		b->cap = cap;
	}
	memset(&b->e[b->n], 0, sizeof(b->e[b->n]));
	snprintf(b->e[b->n].method, sizeof(b->e[b->n].method), "%s", method);
	b->params[b->n] = params;
	return (int)b->n++;
}

/* Entries e[from..to) all failed with this thread's error rc. */
static void fail_entries(struct lotus_batch *b, size_t from, size_t to,
			 int rc)
{
	for (size_t i = from; i < to; i++) {
		b->e[i].rc = rc;
		b->e[i].msg = efs_strdup(efs_error_msg());
	}
}

/* The request object of entries [from, to). */
static json_t *chunk_request(struct lotus_batch *b, size_t from, size_t to,
			     uint64_t first_id)
{
	json_t *req = json_array();

	for (size_t i = from; req && i < to; i++)
		if (json_array_append_new(req, request(b->e[i].method,
						       b->params[i],
						       first_id + i - from))) {
			json_decref(req);
			req = NULL;
		}
	return req;
}

static int run_chunk(struct lotus *l, struct lotus_batch *b, size_t from,
		     size_t to)
{
	uint64_t first = atomic_fetch_add(&l->next_id, to - from);
	json_t *req = chunk_request(b, from, to, first), *reply = NULL;
	char what[64];
	int rc;

	snprintf(what, sizeof(what), "batch of %zu calls", to - from);
	if (!req)
		return oom();
	rc = post(&reply, l, req, to - from, what);
	json_decref(req);
	if (rc == 0)
		rc = lotus_decode_batch(&b->e[from], to - from, reply,
					(int64_t)first);
	json_decref(reply);
	return rc;
}

int lotus_batch_run(struct lotus *l, struct lotus_batch *b)
{
	int rc = 0;

	while (rc == 0 && b->nrun < b->n) {
		size_t from = b->nrun, to = b->n;

		if (to - from > l->lim.batch_max)
			to = from + l->lim.batch_max;
		if ((rc = run_chunk(l, b, from, to)) < 0) {
			/* the rest share the failure, unsent */
			to = b->n;
			fail_entries(b, from, to, rc);
		}
		for (size_t i = from; i < to; i++) {
			json_decref(b->params[i]);
			b->params[i] = NULL;
		}
		b->nrun = to;
	}
	return rc;
}

int lotus_batch_result(json_t **out, struct lotus_batch *b, size_t i)
{
	const struct lotus_decode_entry *e;

	*out = NULL;
	if (i >= b->nrun)
		return efs_error_set(EFS_EINVAL, "lotus: batch entry %zu was "
				     "not run", i);
	e = &b->e[i];
	if (e->rc < 0)
		return efs_error_set(e->rc, "%s", e->msg ? e->msg
					: "lotus: batch call failed");
	*out = e->result;
	return 0;
}

void lotus_batch_free(struct lotus_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++) {
		lotus_decode_entry_release(&b->e[i]);
		json_decref(b->params[i]);
	}
	efs_free(b->e);
	efs_free(b->params);
	efs_free(b);
}
