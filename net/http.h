/*
 * http.h - a small HTTP server over libmicrohttpd, shared by the daemon
 * (its API and the deal transfer URLs) and the devnet: one handler per
 * server, request bodies either whole (size-capped, in memory) or
 * streamed to the handler as they arrive, and replies from memory, from
 * a file descriptor (zero-copy, for /piece) or from a callback
 * (streamed, for CARs).
 *
 * Each connection has its own thread (MHD_USE_THREAD_PER_CONNECTION), so
 * a handler may block: sleep for a "slow" fault, wait on the chain clock,
 * write a body chunk to disk (the next chunk is read from the socket only
 * once the callback returns: back-pressure for free).
 *
 * A request goes through two hooks (struct http_server_opts):
 *
 *   headers in ──► opts.headers(req)     (optional; no body byte read yet)
 *                    │ replied ─────────► sent, the body is never read,
 *                    │                    the connection is closed
 *                    │ http_req_body_stream(req, max, ops, cls)
 *                    │   ─────────────► ops->chunk(...) per piece of body,
 *                    │                  ops->end(..., rc) once: reply there
 *                    │ neither
 *                    ▼
 *   body buffered (capped) ──► opts.handle(req)   (the classic handler)
 *
 * The handler that answers must answer with exactly one http_reply* or
 * http_drop call (if it returns without one, or the reply call failed,
 * the server answers 500 or, failing that too, closes the connection).
 * A buffered body longer than the server's cap is read and thrown away;
 * the handler is then called with http_req_body_too_big() true and an
 * empty body.
 *
 *	static void handle(struct http_req *req, void *payload)
 *	{
 *		if (strcmp(http_req_path(req), "/health") == 0)
 *			http_reply(req, 200, "text/plain", "ok\n", 3);
 *		else
 *			http_reply(req, 404, "text/plain", "not found\n", 10);
 *	}
 *
 * A struct http_req is valid from the headers hook to the end of the
 * request (the handler's return, or a stream's end callback) and is
 * owned by the connection's thread.
 */
#ifndef EFS_NET_HTTP_H
#define EFS_NET_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct http_server;
struct http_req;

typedef void (*http_handler_fn)(struct http_req *req, void *payload);

/* Default cap on request bodies. */
#define HTTP_BODY_MAX ((size_t)1 << 20)
/* The size for http_reply_stream when it is not known (chunked reply). */
#define HTTP_SIZE_UNKNOWN UINT64_MAX
/* What an http_stream_fn returns at the end / to abort the connection. */
#define HTTP_STREAM_END (-1)
#define HTTP_STREAM_ERROR (-2)

/*
 * Listen on host:port (port 0: an ephemeral port; see http_server_port)
 * and serve every request with fn(req, payload).  max_body caps request
 * bodies (0: HTTP_BODY_MAX).  Returns 0, EFS_EINVAL (host is not an IPv4
 * address), EFS_EIO (cannot bind: the message says why) or EFS_ENOMEM.
 * *out is the caller's (http_server_stop).
 */
int http_server_start(struct http_server **out, const char *host,
		      uint16_t port, size_t max_body, http_handler_fn fn,
		      void *payload);

/* What http_server_start_opts takes. */
struct http_server_opts {
	size_t max_body;         /* cap on buffered bodies; 0: HTTP_BODY_MAX */
	/* called once the whole buffered body is in (see above); required */
	http_handler_fn handle;
	/*
	 * NULL, or called when a request's headers are in, before any body
	 * byte is read.  It may reply (http_reply*: 401, 404, 413... the body
	 * is then never read and the connection closes after the reply),
	 * take the body as a stream (http_req_body_stream), or do neither:
	 * the body is then buffered and handle runs.  It must not block
	 * long (nothing of the body has been asked for yet).
	 */
	http_handler_fn headers;
	void *payload;           /* the hooks' second argument */
};

/*
 * As http_server_start, with the hooks of opts (copied).  Same returns;
 * EFS_EINVAL also when opts->handle is NULL.
 */
int http_server_start_opts(struct http_server **out, const char *host,
			   uint16_t port, const struct http_server_opts *opts);

/* The port the server listens on. */
uint16_t http_server_port(const struct http_server *s);

/*
 * Stop listening, wait for the connection threads to finish and free s.
 * NULL is fine.  Handlers that block must return within a bounded time
 * (poll devnet_stopping); a stream reply is cut off.
 */
void http_server_stop(struct http_server *s);

/* ---- the request ---- */

/* "GET", "POST", ... */
const char *http_req_method(const struct http_req *r);
/* The path, percent-decoded, without the query: "/rpc/v1". */
const char *http_req_path(const struct http_req *r);
/* A request header (case-insensitive name), or NULL. */
const char *http_req_header(const struct http_req *r, const char *name);
/* A query argument (decoded), or NULL; "" for "?a" without a value. */
const char *http_req_query(const struct http_req *r, const char *name);
/* The body (NUL-terminated, may be empty); its length in *len. */
const uint8_t *http_req_body(const struct http_req *r, size_t *len);
/* True when the body was over the server's cap (and was dropped). */
bool http_req_body_too_big(const struct http_req *r);
/* The status of the reply queued for r, or 0 before one is (the
 * server answers 500 for a handler that queued none). */
unsigned http_req_status(const struct http_req *r);
/* The peer's IPv4 address as text ("127.0.0.1"), or "". */
const char *http_req_peer(const struct http_req *r);
/* The declared Content-Length, or HTTP_SIZE_UNKNOWN (none: chunked, or
 * no body; a malformed one is refused by libmicrohttpd with 400). */
uint64_t http_req_content_length(const struct http_req *r);
/* A pointer the hooks keep with the request (NULL until set): what the
 * headers hook found (a route) for the handler that runs later. */
void http_req_set_cls(struct http_req *r, void *cls);
void *http_req_cls(const struct http_req *r);

/* ---- streamed request bodies ---- */

/*
 * What a streamed body is given to.  Both run on the connection's
 * thread, one call at a time, and may block (disk, a commit).
 */
struct http_body_ops {
	/*
	 * The next len (> 0) bytes of the body, in order (chunked transfer
	 * already decoded); data is borrowed for the call.  Returns 0, or a
	 * negative efs code to stop: nothing more is read, and end follows
	 * with that code.  It must not reply (end does).
	 */
	int (*chunk)(void *cls, struct http_req *req, const uint8_t *data,
		     size_t len);
	/*
	 * Called exactly once, last (free cls here).  rc is 0 when the whole
	 * body arrived: reply as a handler does.  Otherwise the body
	 * stopped early: EFS_ETOOBIG (a chunked body went over max: with no
	 * reply from end, the server answers 413), EFS_EIO (the client went
	 * away, the connection timed out or the server is stopping: no
	 * reply can be sent, clean up only), or the code chunk returned
	 * (reply with the error: without one the server answers 500).  A
	 * reply to a body cut short is written as the body stops: with
	 * "Connection: close", after which the server reads and discards
	 * what the client still sends for a moment (so its TCP stack does
	 * not lose the reply to a reset), then closes.
	 */
	void (*end)(void *cls, struct http_req *req, int rc);
};

/*
 * From the headers hook only: take r's body as a stream of at most max
 * bytes (0: no cap) through ops (borrowed: static storage) with cls.
 * Returns 0 (ops->end will be called exactly once); EFS_ETOOBIG when the
 * declared Content-Length is over max; EFS_EINVAL outside the headers
 * hook.  On error nothing is taken: ops->end is not called, the caller
 * replies (413) and frees cls.
 */
int http_req_body_stream(struct http_req *r, uint64_t max,
			 const struct http_body_ops *ops, void *cls);

/* ---- the reply: exactly one of http_reply*, http_drop ---- */

/*
 * Add a header to the reply that follows (call before it).  Returns 0,
 * EFS_ETOOBIG (more than 16 headers) or EFS_ENOMEM.  Content-Type is set
 * by the reply calls.  HEAD requests get the headers (Content-Length
 * included) of the same reply and no body; a stream's callback is then
 * never called.
 */
int http_resp_header(struct http_req *r, const char *name, const char *value);

/* Reply with len bytes of body (copied).  0, EFS_ENOMEM or EFS_EIO.
 * Also from a stream's end callback after an early stop (see
 * http_body_ops): only this call and those over it (text, json) can
 * reply then. */
int http_reply(struct http_req *r, unsigned status, const char *ctype,
	       const void *body, size_t len);

/* Reply with a printf-formatted text/plain body. */
int http_reply_text(struct http_req *r, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Reply with v as compact JSON (application/json); v is not stolen. */
int http_reply_json(struct http_req *r, unsigned status, const json_t *v);

/*
 * Reply with len bytes of fd from offset off, sent from the kernel's page
 * cache (sendfile), so serving a big file costs no memory.  Takes fd: it
 * is closed when the reply is done, also on failure.
 */
int http_reply_fd(struct http_req *r, unsigned status, const char *ctype,
		  int fd, uint64_t off, uint64_t len);

/*
 * Reply with a body produced by fn(cls, pos, buf, max): it writes up to
 * max bytes at body offset pos into buf and returns how many (> 0; it
 * may block, but must not return 0), HTTP_STREAM_END when the body is
 * complete or HTTP_STREAM_ERROR to close the connection mid-body (the
 * client sees a truncated reply).  size is the body length, or
 * HTTP_SIZE_UNKNOWN for a chunked reply.  free_fn(cls) (may be NULL) is
 * called when the reply is done, also when this call fails.
 */
typedef long (*http_stream_fn)(void *cls, uint64_t pos, uint8_t *buf,
			       size_t max);
int http_reply_stream(struct http_req *r, unsigned status, const char *ctype,
		      uint64_t size, http_stream_fn fn, void *cls,
		      void (*free_fn)(void *cls));

/* Close the connection without a reply (an "offline" server). */
void http_drop(struct http_req *r);

#endif
