/*
 * api_server.c - the daemon's HTTP server (api_server.h): the listen
 * address, the route table and the routes of issue 5.
 *
 * Design notes:
 * - One net/http.h server; its handler walks a table of routes, the
 *   first whose path matches wins.  A path ending in '/' is a prefix;
 *   the method is checked after the path, so a known path with the
 *   wrong method is 405 (with Allow), not 404.  A NULL method leaves the
 *   method to the route (transfer_handle answers 405 itself).  GET
 *   routes answer HEAD too (net/http.h sends the headers only).
 * - The dealer is set after the server starts (the dealer needs the
 *   server's URL for its transfer base), so it is an atomic pointer:
 *   requests for /transfer/ before it is set get 503 with Retry-After.
 *   It is never taken away while the server runs; stopping the server
 *   waits for every request, after which the dealer may close.
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

#include <jansson.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/log.h"
#include "dealer/dealer.h"
#include "dealer/transfer.h"
#include "efs_config.h"
#include "net/http.h"

#include "core/banned.h"

/* Seconds a client is told to wait before asking again (503). */
#define API_RETRY_AFTER "10"

struct api_server {
	struct http_server *http;
	_Atomic(struct dealer *) dealer;
	char url[48];                  /* "http://HOST:PORT" */
};

/* ---- replies ------------------------------------------------------- */

/*
 * The error body every route uses (the Pinning Service API's form):
 * {"error":{"reason":"NOT_FOUND","details":"..."}}.  A details text that
 * is not UTF-8 (a percent-decoded path) is left out rather than sent
 * broken.
 */
static void reply_error(struct http_req *req, unsigned status,
			const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void reply_error(struct http_req *req, unsigned status,
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
	struct dealer *d = atomic_load(&s->dealer);

	if (!d) {
		http_resp_header(req, "Retry-After", API_RETRY_AFTER);
		reply_error(req, 503, "UNAVAILABLE",
			    "the dealer is not running");
		return;
	}
	transfer_handle(req, dealer_transfer(d));
}

/* The dealer's report (dealer.h): the network, funds, what blocks it
 * (DataCap, escrow, SPs: said loudly here too), its last cycle. */
static void route_dealer(struct http_req *req, struct api_server *s)
{
	struct dealer *d = atomic_load(&s->dealer);
	char *text = NULL;
	int rc;

	if (!d) {
		http_resp_header(req, "Retry-After", API_RETRY_AFTER);
		reply_error(req, 503, "UNAVAILABLE",
			    "the dealer is not running");
		return;
	}
	if ((rc = dealer_report(&text, d)) == EFS_ENOTFOUND)
		reply_error(req, 404, "NOT_FOUND", "%s", efs_error_msg());
	else if (rc < 0)
		reply_error(req, 500, "INTERNAL", "%s", efs_error_msg());
	else
		http_reply(req, 200, "application/json", text, strlen(text));
	efs_free(text);
}

struct api_route {
	const char *method;    /* NULL: any (the route judges) */
	const char *path;      /* exact, or a prefix when it ends in '/' */
	void (*handle)(struct http_req *req, struct api_server *s);
};

/* Issue 7 adds the gateway (/ipfs/), the pinning API (/pins), /stats and
 * the dashboard here. */
static const struct api_route routes[] = {
	{ NULL, TRANSFER_PATH_PREFIX, route_transfer },
	{ "GET", "/health", route_health },
	{ "GET", "/dealer", route_dealer },
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static bool path_matches(const char *pattern, const char *path)
{
	size_t n = strlen(pattern);

	if (n > 0 && pattern[n - 1] == '/')
		return strncmp(path, pattern, n) == 0;
	return strcmp(path, pattern) == 0;
}

static bool method_matches(const char *want, const char *method)
{
	if (!want || strcmp(want, method) == 0)
		return true;
	return strcmp(want, "GET") == 0 && strcmp(method, "HEAD") == 0;
}

static void handle(struct http_req *req, void *payload)
{
	const char *method = http_req_method(req);
	const char *path = http_req_path(req);
	const struct api_route *r;

	for (r = routes; r < routes + NROUTES; r++)
		if (path_matches(r->path, path))
			break;
	if (r == routes + NROUTES) {
		reply_error(req, 404, "NOT_FOUND", "no route for %s %s", method,
			    path);
	} else if (!method_matches(r->method, method)) {
		http_resp_header(req, "Allow", strcmp(r->method, "GET") == 0
						       ? "GET, HEAD"
						       : r->method);
		reply_error(req, 405, "METHOD_NOT_ALLOWED",
			    "%s is not allowed on %s", method, path);
	} else if (http_req_body_too_big(req)) {
		reply_error(req, 413, "TOO_LARGE",
			    "the request body is too large");
	} else {
		r->handle(req, payload);
	}
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
	atomic_init(&s->dealer, NULL);
	rc = http_server_start(&s->http, host, port,
			       opts ? opts->max_body : 0, handle, s);
	if (rc < 0) {
		efs_free(s);
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

void api_server_stop(struct api_server *s)
{
	if (!s)
		return;
	http_server_stop(s->http);
	efs_free(s);
}
