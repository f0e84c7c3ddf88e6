/*
 * http.c - the HTTP server plumbing over libmicrohttpd (daemon and devnet).
 *
 * libmicrohttpd calls the access handler several times per request: once
 * when the headers are in (we allocate the struct http_req), once per
 * piece of body (appended to a capped struct buf, or counted and dropped
 * past the cap), and once more with no data, when the handler proper
 * runs.  The request state lives in *con_cls and is freed by the
 * "request completed" callback, which MHD calls for every request that
 * got a con_cls, whatever happened to the connection.
 *
 * Replies queued by the handler carry the headers it added with
 * http_resp_header.  A reply call that fails leaves the request
 * unanswered, and on_access then answers 500 or closes the connection:
 * while nothing is queued, MHD calls the access handler again at once,
 * a busy loop until the client gives up.  Threads: one per connection
 * (MHD_USE_THREAD_PER_CONNECTION), so handlers may block.
 *
 * Streamed bodies (http_req_body_stream): the headers hook runs on the
 * first call, before libmicrohttpd reads any body byte (it sends "100
 * Continue" only after that call, and a reply queued there is sent with
 * the body left unread).  Each later call with data goes to the
 * stream's chunk callback, so the socket is read no faster than the
 * callback takes the bytes.  libmicrohttpd 0.9.75 cannot queue a reply
 * once the body is being read, so a reply to a body stopped midway (over
 * the cap, refused by chunk) is written on the socket by raw_reply, with
 * "Connection: close", followed by a short lingering read (linger) so
 * the client's TCP stack does not throw the reply away when our close
 * resets a connection it is still sending on; the access handler then
 * returns MHD_NO and libmicrohttpd closes.  A client that goes away
 * mid-body reaches the stream's end callback from the "completed"
 * callback with EFS_EIO.
 *
 * Paths and query values are percent-decoded by our own unescaper, which
 * leaves "%00" as it is: decoded, a NUL would cut the C string a handler
 * sees, so that "/ipfs/CID/a.txt%00.png" would name a.txt.
 */
#include "net/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/mbase.h"

#include "core/banned.h"

/* Connections served at once; past it new ones wait in the backlog. */
#define HTTP_CONN_MAX 256
/* Seconds an idle connection is kept. */
#define HTTP_IDLE_TIMEOUT 120
/* Headers one reply may add. */
#define HTTP_RESP_HEADERS_MAX 16
/* After a reply to a body stopped midway: how long, and how many bytes,
 * what the client still sends is read and dropped before closing. */
#define HTTP_LINGER_MS 2000
#define HTTP_LINGER_BYTES ((size_t)64 << 20)
/* How long raw_reply waits for the socket to take its bytes. */
#define HTTP_RAW_SEND_MS 5000
/* A streamed reply's buffer (one per reply in flight; a smaller body's
 * own size): 4 rounds of the callback per MiB.  Against 64 KiB, 1 MiB
 * files under 100 clients went 1-13% faster in alternating runs; 1 MiB
 * buffers gained nothing more and took 260 MB of RSS. */
#define HTTP_STREAM_BLOCK ((size_t)256 << 10)

struct http_server {
	struct MHD_Daemon *mhd;
	uint16_t port;
	size_t max_body;
	http_handler_fn fn;
	http_handler_fn headers;
	void *payload;
};

struct http_header {
	char *name;
	char *value;
};

struct http_req {
	struct http_server *srv;
	struct MHD_Connection *conn;
	const char *method;         /* MHD's, valid for the request */
	const char *path;
	struct buf body;
	bool too_big;
	bool replied;
	bool drop;
	unsigned status;            /* of the reply queued; 0 none yet */
	void *cls;                  /* http_req_set_cls */
	bool in_headers;            /* the headers hook is running */
	/* a streamed body (http_req_body_stream), ops NULL when none */
	const struct http_body_ops *ops;
	void *ops_cls;
	uint64_t max, got;          /* cap (0: none), bytes given to chunk */
	bool ended;                 /* ops->end was called */
	bool cut;                   /* the body stopped midway: raw replies */
	bool gone;                  /* the connection is closing: no reply */
	char peer[INET_ADDRSTRLEN];
	struct http_header headers[HTTP_RESP_HEADERS_MAX];
	size_t nheaders;
};

struct http_stream {
	http_stream_fn fn;
	void *cls;
	void (*free_fn)(void *cls);
};

static void req_free(struct http_req *r)
{
	if (!r)
		return;
	buf_release(&r->body);
	for (size_t i = 0; i < r->nheaders; i++) {
		efs_free(r->headers[i].name);
		efs_free(r->headers[i].value);
	}
	efs_free(r);
}

static void req_peer(struct http_req *r)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr_in *sin;

	ci = MHD_get_connection_info(r->conn,
				     MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || !ci->client_addr || ci->client_addr->sa_family != AF_INET)
		return;
	sin = (const struct sockaddr_in *)(const void *)ci->client_addr;
	inet_ntop(AF_INET, &sin->sin_addr, r->peer, sizeof(r->peer));
}

static struct http_req *req_new(struct http_server *s,
				struct MHD_Connection *conn,
				const char *method, const char *url)
{
	struct http_req *r = efs_calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->srv = s;
	r->conn = conn;
	r->method = method;
	r->path = url;
	buf_init(&r->body, s->max_body);
	req_peer(r);
	return r;
}

static void req_body_add(struct http_req *r, const char *data, size_t n)
{
	if (r->too_big)
		return;
	if (buf_add(&r->body, data, n) < 0) {
		/* Over the cap (or out of memory): drop what we have. */
		buf_release(&r->body);
		r->too_big = true;
	}
}

/* Write all of p[0..n) to the non-blocking socket fd, waiting at most
 * HTTP_RAW_SEND_MS for it to take them. */
static int send_all(int fd, const uint8_t *p, size_t n)
{
	double deadline = efs_clock_mono() + HTTP_RAW_SEND_MS / 1000.0;

	while (n > 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

		if (k > 0) {
			p += k;
			n -= (size_t)k;
			continue;
		}
		if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			return efs_error_set_errno(EFS_EIO, errno,
						   "http: send failed");
		if (efs_clock_mono() > deadline ||
		    (poll(&pfd, 1, 100) < 0 && errno != EINTR))
			return efs_error_set(EFS_EIO, "http: send timed out");
	}
	return 0;
}

static int conn_fd(const struct http_req *r)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);

	return ci ? ci->connect_fd : -1;
}

/* "name: value\r\n" onto b; EFS_EINVAL for a line break in either, as
 * MHD_add_response_header refuses one (no header injection). */
static int raw_header(struct buf *b, const char *name, const char *value)
{
	if (strpbrk(name, "\r\n") || strpbrk(value, "\r\n"))
		return efs_error_set(EFS_EINVAL, "http: a line break in "
				     "header %s", name);
	return buf_printf(b, "%s: %s\r\n", name, value) < 0
		       ? efs_error_set(EFS_ENOMEM, "http: out of memory")
		       : 0;
}

/* The reply to a body stopped midway, written on the socket (see the
 * notes above): status line, headers, "Connection: close", body.  At
 * most one: a second call, or any after a failed send (part of a reply
 * may be out), is refused. */
static int raw_reply(struct http_req *r, unsigned status, const char *ctype,
		     const void *body, size_t len)
{
	const char *reason = MHD_get_reason_phrase_for(status);
	struct buf b = BUF_INIT(BUF_NOCAP);
	int fd = conn_fd(r), rc = 0;

	if (r->gone || fd < 0)
		return efs_error_set(EFS_EIO, "http: the client is gone");
	if (r->replied)
		return efs_error_set(EFS_EINVAL, "http: a second reply");
	if (buf_printf(&b, "HTTP/1.1 %u %s\r\nConnection: close\r\n"
		       "Content-Length: %zu\r\n", status,
		       reason ? reason : "", len) < 0)
		rc = efs_error_set(EFS_ENOMEM, "http: out of memory");
	if (rc == 0 && ctype)
		rc = raw_header(&b, "Content-Type", ctype);
	for (size_t i = 0; rc == 0 && i < r->nheaders; i++)
		rc = raw_header(&b, r->headers[i].name, r->headers[i].value);
	if (rc == 0 && (buf_adds(&b, "\r\n") < 0 ||
			buf_add(&b, body, len) < 0))
		rc = efs_error_set(EFS_ENOMEM, "http: out of memory");
	if (rc == 0 && (rc = send_all(fd, b.ptr, b.len)) < 0)
		r->gone = true;
	buf_release(&b);
	if (rc < 0)
		return rc;
	r->replied = true;
	r->status = status;
	return 0;
}

/* Half-close, then read and drop what the client still sends, for a
 * moment, so that our close does not reset the reply away. */
static void linger(const struct http_req *r)
{
	double deadline = efs_clock_mono() + HTTP_LINGER_MS / 1000.0;
	int fd = conn_fd(r);
	size_t total = 0;
	uint8_t sink[16384];

	if (fd < 0 || shutdown(fd, SHUT_WR) < 0)
		return;
	while (total < HTTP_LINGER_BYTES) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		double left = deadline - efs_clock_mono();
		ssize_t k;

		if (left <= 0 || poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			return;
		k = recv(fd, sink, sizeof(sink), 0);
		if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
			return;
		if (k > 0)
			total += (size_t)k;
	}
}

/* The body stopped midway with rc: end, a reply, a lingering close. */
static enum MHD_Result stream_stop(struct http_req *r, int rc)
{
	r->ended = true;
	r->cut = true;
	r->ops->end(r->ops_cls, r, rc);
	if (!r->replied && !r->drop) {
		if (rc == EFS_ETOOBIG)
			http_reply_text(r, 413, "the request body is over "
					"%llu bytes\n",
					(unsigned long long)r->max);
		else
			http_reply_text(r, 500, "the request body was not "
					"taken\n");
	}
	if (r->replied)
		linger(r);
	return MHD_NO;
}

/* After the handler (or a stream's end) ran on a whole body: its reply,
 * else 500; MHD_NO closes the connection (dropped, or no reply made). */
static enum MHD_Result answered(struct http_req *r)
{
	if (r->drop)
		return MHD_NO;
	if (!r->replied &&
	    http_reply_text(r, 500, "handler gave no reply\n") < 0)
		return MHD_NO;
	return MHD_YES;
}

/* A call of the access handler for a streamed body. */
static enum MHD_Result stream_access(struct http_req *r, const char *data,
				     size_t *size)
{
	size_t n = *size;
	int rc;

	*size = 0;
	if (r->ended)
		return MHD_NO;
	if (n) {
		if (r->max && n > r->max - r->got)
			return stream_stop(r, efs_error_set(EFS_ETOOBIG,
				"http: request body over %llu bytes",
				(unsigned long long)r->max));
		r->got += n;
		rc = r->ops->chunk(r->ops_cls, r, (const uint8_t *)data, n);
		return rc < 0 ? stream_stop(r, rc) : MHD_YES;
	}
	r->ended = true;
	r->ops->end(r->ops_cls, r, 0);
	return answered(r);
}

/* The first call: the headers are in, no body byte has been read. */
static enum MHD_Result headers_access(struct http_server *s,
				      struct http_req *r)
{
	if (!s->headers)
		return MHD_YES;
	r->in_headers = true;
	s->headers(r, s->payload);
	r->in_headers = false;
	return r->drop ? MHD_NO : MHD_YES;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn,
				 const char *url, const char *method,
				 const char *version, const char *upload_data,
				 size_t *upload_data_size, void **con_cls)
{
	struct http_server *s = cls;
	struct http_req *r = *con_cls;

	if (!r) {
		r = req_new(s, conn, method, url);
		if (!r)
			return MHD_NO;
		*con_cls = r;
		return headers_access(s, r);
	}
	if (r->ops && !r->replied)
		return stream_access(r, upload_data, upload_data_size);
	if (*upload_data_size) {
		req_body_add(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->replied || r->drop)
		return r->drop ? MHD_NO : MHD_YES;
	s->fn(r, s->payload);
	return answered(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn,
			 void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct http_req *r = *con_cls;

	if (r && r->ops && !r->ended) {
		r->ended = true;
		r->gone = true;
		r->ops->end(r->ops_cls, r,
			    efs_error_set(EFS_EIO, "http: the connection "
					  "closed before the whole body "
					  "came (%llu bytes in)",
					  (unsigned long long)r->got));
	}
	req_free(r);
	*con_cls = NULL;
}

/* Percent-decode s in place, except "%00" (see the notes above); MHD's
 * unescape callback: returns the new length. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
	char *w = s;

	for (const char *r = s; *r; r++) {
		int hi, lo;

		if (r[0] == '%' && (hi = mbase_hex_value(r[1])) >= 0 &&
		    (lo = mbase_hex_value(r[2])) >= 0 && (hi | lo)) {
			*w++ = (char)(hi << 4 | lo);
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

int http_server_start_opts(struct http_server **out, const char *host,
			   uint16_t port, const struct http_server_opts *opts)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct http_server *s;
	const union MHD_DaemonInfo *di;

	*out = NULL;
	if (!opts->handle)
		return efs_error_set(EFS_EINVAL, "http: no handler");
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		return efs_error_set(EFS_EINVAL,
				     "http: not an IPv4 address: %s", host);
	sin.sin_port = htons(port);
	s = efs_calloc(1, sizeof(*s));
	if (!s)
		return efs_error_set(EFS_ENOMEM, "http: out of memory");
	s->max_body = opts->max_body ? opts->max_body : HTTP_BODY_MAX;
	s->fn = opts->handle;
	s->headers = opts->headers;
	s->payload = opts->payload;
	errno = 0;
	s->mhd = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION |
			MHD_USE_INTERNAL_POLLING_THREAD,
		port, NULL, NULL, on_access, s,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONN_MAX,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_TIMEOUT,
		MHD_OPTION_END);
	if (!s->mhd) {
		int e = errno ? errno : EADDRINUSE;

		efs_free(s);
		return efs_error_set_errno(EFS_EIO, e,
					   "http: cannot listen on %s:%u",
					   host, (unsigned)port);
	}
	di = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di ? di->port : port;
	*out = s;
	return 0;
}

int http_server_start(struct http_server **out, const char *host,
		      uint16_t port, size_t max_body, http_handler_fn fn,
		      void *payload)
{
	struct http_server_opts o = { .max_body = max_body, .handle = fn,
				      .payload = payload };

	return http_server_start_opts(out, host, port, &o);
}

uint16_t http_server_port(const struct http_server *s)
{
	return s->port;
}

void http_server_stop(struct http_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->mhd);
	efs_free(s);
}

const char *http_req_method(const struct http_req *r)
{
	return r->method;
}

const char *http_req_path(const struct http_req *r)
{
	return r->path;
}

const char *http_req_header(const struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_req_query(const struct http_req *r, const char *name)
{
	const char *v = MHD_lookup_connection_value(
		r->conn, MHD_GET_ARGUMENT_KIND, name);

	if (v)
		return v;
	/* "?a" without "=": MHD stores the key with a NULL value. */
	if (MHD_lookup_connection_value_n(r->conn, MHD_GET_ARGUMENT_KIND,
					  name, strlen(name), NULL,
					  NULL) == MHD_YES)
		return "";
	return NULL;
}

const uint8_t *http_req_body(const struct http_req *r, size_t *len)
{
	*len = r->body.len;
	return r->body.ptr ? r->body.ptr : (const uint8_t *)"";
}

bool http_req_body_too_big(const struct http_req *r)
{
	return r->too_big;
}

unsigned http_req_status(const struct http_req *r)
{
	return r->status;
}

const char *http_req_peer(const struct http_req *r)
{
	return r->peer;
}

uint64_t http_req_content_length(const struct http_req *r)
{
	const char *v = http_req_header(r, "Content-Length");
	const char *te = http_req_header(r, "Transfer-Encoding");
	unsigned long long n;
	char *end;

	if (!v || (te && strcasecmp(te, "identity") != 0) ||
	    strspn(v, "0123456789") != strlen(v) || !*v)
		return HTTP_SIZE_UNKNOWN;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || *end)
		return HTTP_SIZE_UNKNOWN;
	return (uint64_t)n;
}

void http_req_set_cls(struct http_req *r, void *cls)
{
	r->cls = cls;
}

void *http_req_cls(const struct http_req *r)
{
	return r->cls;
}

int http_req_body_stream(struct http_req *r, uint64_t max,
			 const struct http_body_ops *ops, void *cls)
{
	uint64_t declared = http_req_content_length(r);

	if (!r->in_headers || r->ops || r->replied)
		return efs_error_set(EFS_EINVAL, "http: a body stream is "
				     "taken in the headers hook, once");
	if (max && declared != HTTP_SIZE_UNKNOWN && declared > max)
		return efs_error_set(EFS_ETOOBIG, "http: a body of %llu "
				     "bytes, over the %llu-byte cap",
				     (unsigned long long)declared,
				     (unsigned long long)max);
	r->ops = ops;
	r->ops_cls = cls;
	r->max = max;
	return 0;
}

int http_resp_header(struct http_req *r, const char *name, const char *value)
{
	struct http_header *h;

	if (r->nheaders == HTTP_RESP_HEADERS_MAX)
		return efs_error_set(EFS_ETOOBIG, "http: too many headers");
	h = &r->headers[r->nheaders];
	h->name = efs_strdup(name);
	h->value = efs_strdup(value);
	if (!h->name || !h->value) {
		efs_free(h->name);
		efs_free(h->value);
		return efs_error_set(EFS_ENOMEM, "http: out of memory");
	}
	r->nheaders++;
	return 0;
}

/* Add the headers, queue resp (NULL: it could not be made), drop our
 * reference.  Only a queued reply counts as one: after a failure the
 * request stays unanswered, so on_access sends its 500 or closes. */
static int queue(struct http_req *r, unsigned status, const char *ctype,
		 struct MHD_Response *resp)
{
	enum MHD_Result ok = MHD_YES;

	if (!resp)
		return efs_error_set(EFS_ENOMEM, "http: cannot make a reply");
	if (r->cut || r->gone) {
		/* only raw_reply can answer now (http_reply) */
		MHD_destroy_response(resp);
		return efs_error_set(EFS_EINVAL, "http: the body stopped "
				     "midway: only a reply from memory");
	}
	if (ctype)
		ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					     ctype);
	for (size_t i = 0; ok == MHD_YES && i < r->nheaders; i++)
		ok = MHD_add_response_header(resp, r->headers[i].name,
					     r->headers[i].value);
	if (ok == MHD_YES)
		ok = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	if (ok != MHD_YES)
		return efs_error_set(EFS_EIO, "http: cannot queue the reply");
	r->replied = true;
	r->status = status;
	return 0;
}

int http_reply(struct http_req *r, unsigned status, const char *ctype,
	       const void *body, size_t len)
{
	struct MHD_Response *resp;

	if (r->gone)
		return efs_error_set(EFS_EIO, "http: the client is gone");
	if (r->cut)
		return raw_reply(r, status, ctype, body, len);
	resp = MHD_create_response_from_buffer(len, (void *)body,
					       MHD_RESPMEM_MUST_COPY);
	return queue(r, status, ctype, resp);
}

int http_reply_text(struct http_req *r, unsigned status, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(text))
		n = sizeof(text) - 1;
	return http_reply(r, status, "text/plain; charset=utf-8", text,
			  (size_t)n);
}

static int dump_cb(const char *p, size_t n, void *data)
{
	return buf_add(data, p, n) < 0 ? -1 : 0;
}

int http_reply_json(struct http_req *r, unsigned status, const json_t *v)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	int rc;

	if (json_dump_callback(v, dump_cb, &b, JSON_COMPACT | JSON_ENCODE_ANY))
		rc = efs_error_set(EFS_ENOMEM, "http: cannot encode json");
	else
		rc = http_reply(r, status, "application/json", b.ptr, b.len);
	buf_release(&b);
	return rc;
}

int http_reply_fd(struct http_req *r, unsigned status, const char *ctype,
		  int fd, uint64_t off, uint64_t len)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_fd_at_offset64(len, fd, off);
	if (!resp)
		close(fd);
	return queue(r, status, ctype, resp);
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct http_stream *st = cls;
	long n = st->fn(st->cls, pos, (uint8_t *)buf, max);

	if (n == HTTP_STREAM_END)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (n <= 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	return n;
}

static void stream_free(void *cls)
{
	struct http_stream *st = cls;

	if (st->free_fn)
		st->free_fn(st->cls);
	efs_free(st);
}

int http_reply_stream(struct http_req *r, unsigned status, const char *ctype,
		      uint64_t size, http_stream_fn fn, void *cls,
		      void (*free_fn)(void *cls))
{
	struct http_stream *st = efs_malloc(sizeof(*st));
	struct MHD_Response *resp;

	if (!st) {
		if (free_fn)
			free_fn(cls);
		return efs_error_set(EFS_ENOMEM, "http: out of memory");
	}
	st->fn = fn;
	st->cls = cls;
	st->free_fn = free_fn;
	resp = MHD_create_response_from_callback(
		size == HTTP_SIZE_UNKNOWN ? MHD_SIZE_UNKNOWN : size,
		size < HTTP_STREAM_BLOCK ? (size_t)size + 1 : HTTP_STREAM_BLOCK,
		stream_read, st, stream_free);
	if (!resp)
		stream_free(st);
	return queue(r, status, ctype, resp);
}

void http_drop(struct http_req *r)
{
	r->drop = true;
}
