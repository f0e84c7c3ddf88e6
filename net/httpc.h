/*
 * httpc.h - the HTTP client every outgoing request goes through (Lotus
 * JSON-RPC, Curio mk12, /piece and /ipfs retrieval, IPNI, price feeds): a
 * thin layer over libcurl that caps what it reads, bounds how long it
 * waits, and measures what the miner log and bandwidth tables record.
 *
 *	struct httpc_req req = HTTPC_REQ_INIT("GET", url);
 *	struct httpc_resp resp;
 *	if ((rc = httpc_do(&resp, &req)) < 0)
 *		return rc;          // transport failure: message says why
 *	if (resp.status != 200) ...
 *	httpc_resp_release(&resp);
 *
 * A reply with any status is a success of httpc_do (the caller judges the
 * status); only failing to get a reply is an error.  Redirects are not
 * followed (an SP that redirects gets the 3xx to judge).  Proxies from
 * the environment are ignored (loopback devnets must not go through one).
 * Only http and https URLs are accepted.  No "Expect: 100-continue" is
 * sent (unless the caller sets an Expect header).  Error messages name
 * the method and the URL (without any user:password part), never a
 * header value: Authorization tokens stay out of logs.
 *
 * Threads: httpc_do may be called from any thread at once; each call
 * uses its own libcurl handle.  httpc_global_init must run once, before
 * any other thread starts (the daemon and the tests call it in main).
 */
#ifndef EFS_HTTPC_H
#define EFS_HTTPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Default cap on a reply body kept in memory. */
#define HTTPC_BODY_MAX ((size_t)16 << 20)
/* Default whole-request and connect timeouts. */
#define HTTPC_TIMEOUT_MS 30000u
#define HTTPC_CONNECT_TIMEOUT_MS 5000u

/*
 * Receives a streamed reply body in order (req.sink).  Returns 0 to go
 * on, or a negative efs_error that aborts the transfer and is returned by
 * httpc_do.  data is borrowed.
 */
typedef int (*httpc_sink_fn)(void *cls, const uint8_t *data, size_t len);

struct httpc_req {
	const char *method;          /* "GET", "POST", "HEAD", ... */
	const char *url;
	const char *const *headers;  /* "Name: value" lines, NULL-terminated;
					NULL for none */
	const void *body;            /* request body (POST/PUT), or NULL */
	size_t body_len;
	size_t max_body;             /* cap on a kept reply body (0: default);
					a longer one is EFS_ETOOBIG */
	unsigned timeout_ms;         /* whole request (0: default) */
	unsigned connect_timeout_ms; /* 0: default */
	httpc_sink_fn sink;          /* when set, the reply body goes to
					sink instead of resp.body (no cap) */
	void *sink_cls;
};

#define HTTPC_REQ_INIT(m, u) { .method = (m), .url = (u) }

struct httpc_resp {
	long status;            /* HTTP status */
	struct buf body;        /* the body (NUL-terminated, not counted in
				   len; ptr is "" rather than NULL for an
				   empty body after a success); empty when
				   req.sink was set */
	char *content_type;     /* owned, or NULL when absent */
	/* The counters are set after a failed transfer too (what went
	 * through before it failed). */
	uint64_t bytes_up;      /* request body bytes sent */
	uint64_t bytes_down;    /* reply body bytes received */
	uint64_t ttfb_us;       /* from start to the first reply byte */
	uint64_t total_us;      /* from start to the end */
};

/*
 * Whether u is an http:// or https:// URL of printable ASCII without
 * spaces: the one check of a URL given to us (endpoints, SP addresses,
 * transfer bases), so that what curl then fails on is the server.
 */
bool httpc_url_ok(const char *u);

/* Once per process, before threads (curl_global_init).  0 or EFS_ERROR. */
int httpc_global_init(void);

/*
 * Perform req; the reply goes to out (initialised here; release it with
 * httpc_resp_release, also after an error).  Returns 0 (any HTTP status),
 * EFS_EINVAL (bad URL or method), EFS_ETIMEDOUT (connect or whole-request
 * timeout), EFS_EIO (cannot connect, connection reset, malformed reply:
 * "http: GET http://...: <curl's reason>"), EFS_ETOOBIG (body over the
 * cap), EFS_ENOMEM, or the sink's error.
 */
int httpc_do(struct httpc_resp *out, const struct httpc_req *req);

/* Free what out owns.  Safe on a zeroed or released response. */
void httpc_resp_release(struct httpc_resp *out);

#endif
