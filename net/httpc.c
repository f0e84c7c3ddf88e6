/*
 * httpc.c - the HTTP client over libcurl (see httpc.h).
 *
 * One easy handle per call: nothing is shared between threads but
 * curl's global state, set up once by httpc_global_init.  The handle is
 * told to ignore proxies (CURLOPT_NOPROXY "*"), follow no redirects,
 * speak only http and https, and never use signals (CURLOPT_NOSIGNAL:
 * the daemon is threaded), with a whole-request and a connect timeout.
 *
 * The reply body goes to the caller's sink or into resp.body under the
 * cap.  A streamed body is received HTTPC_SINK_BUFFER bytes at a time
 * rather than curl's default 16 KiB: a retrieval streams hundreds of
 * MiB, and each piece costs a recv and a call of the sink.  Both stop the transfer the same way: the write callback records
 * the efs error (and its message, already set) and returns 0, which
 * curl reports as CURLE_WRITE_ERROR; httpc_do then returns the recorded
 * error instead of curl's.  Timings and byte counts come from curl's
 * own counters after the transfer (CURLINFO_*_T, microseconds).
 *
 * Error messages name the method and the URL, never a header: the
 * Authorization values of Lotus and Curio must not reach a log.  A URL's
 * user:password part, if any, is cut out of the message too.
 */
#include "net/httpc.h"

#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"

/* curl's receive buffer for streamed replies (curl allows up to 512 KiB;
 * the curl tool uses 100 KiB). */
#define HTTPC_SINK_BUFFER (256L << 10)

#include "core/banned.h"

/* Longest URL quoted in an error message. */
#define HTTPC_MSG_URL_MAX 160

struct httpc_call {
	const struct httpc_req *req;
	struct httpc_resp *resp;
	int err;                /* what stopped the body, or 0 */
};

int httpc_global_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return efs_error_set(EFS_ERROR, "http: cannot set up libcurl");
	return 0;
}

void httpc_resp_release(struct httpc_resp *out)
{
	buf_release(&out->body);
	efs_free(out->content_type);
	out->content_type = NULL;
}

/* The URL for a message: no "user:pass@", at most HTTPC_MSG_URL_MAX. */
static void msg_url(char *out, size_t cap, const char *url)
{
	const char *scheme = strstr(url, "://");
	const char *host = scheme ? scheme + 3 : url;
	size_t hlen = strcspn(host, "/?#");
	const char *at = memchr(host, '@', hlen);
	size_t n = 0;

	if (scheme && at) {
		n = (size_t)(host - url);
		if (n >= cap)
			n = cap - 1;
		memcpy(out, url, n);
		url = at + 1;
	}
	for (; *url && n + 1 < cap; url++)
		out[n++] = *url;
	out[n] = '\0';
	if (*url && n >= 3)
		memcpy(out + n - 3, "...", 3);
}

static bool method_ok(const char *m)
{
	if (!m || !*m || strlen(m) > 16)
		return false;
	for (; *m; m++)
		if (*m < 'A' || *m > 'Z')
			return false;
	return true;
}

bool httpc_url_ok(const char *u)
{
	if (!u || (strncmp(u, "http://", 7) && strncmp(u, "https://", 8)))
		return false;
	for (; *u; u++)
		if ((unsigned char)*u <= ' ' || (unsigned char)*u >= 0x7f)
			return false;
	return true;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *cls)
{
	struct httpc_call *c = cls;
	size_t n = size * nmemb;
	int rc;

	if (c->req->sink) {
		rc = c->req->sink(c->req->sink_cls, (const uint8_t *)data, n);
		if (rc < 0) {
			c->err = rc;
			return 0;
		}
		return n;
	}
	rc = buf_add(&c->resp->body, data, n);
	if (rc == EFS_ETOOBIG) {
		char u[HTTPC_MSG_URL_MAX];

		msg_url(u, sizeof(u), c->req->url);
		c->err = efs_error_set(EFS_ETOOBIG,
				       "http: %s %s: reply body over %zu bytes",
				       c->req->method, u, c->resp->body.max);
		return 0;
	}
	if (rc < 0) {
		c->err = efs_error_set(EFS_ENOMEM, "http: out of memory");
		return 0;
	}
	return n;
}

/* The headers to send: the caller's, and "Expect:" (no 100-continue). */
static int make_headers(struct curl_slist **out, const struct httpc_req *req)
{
	struct curl_slist *l = NULL, *t;
	bool expect = false;

	for (size_t i = 0; req->headers && req->headers[i]; i++) {
		if (strncasecmp(req->headers[i], "Expect:", 7) == 0)
			expect = true;
		if (!(t = curl_slist_append(l, req->headers[i])))
			goto nomem;
		l = t;
	}
	if (!expect) {
		if (!(t = curl_slist_append(l, "Expect:")))
			goto nomem;
		l = t;
	}
	*out = l;
	return 0;
nomem:
	curl_slist_free_all(l);
	return efs_error_set(EFS_ENOMEM, "http: out of memory");
}

static bool setup_ok(CURL *h, const struct httpc_req *req,
		     struct curl_slist *hdrs, struct httpc_call *c,
		     char *errbuf)
{
	unsigned to = req->timeout_ms ? req->timeout_ms : HTTPC_TIMEOUT_MS;
	unsigned cto = req->connect_timeout_ms ? req->connect_timeout_ms
					       : HTTPC_CONNECT_TIMEOUT_MS;
	bool ok = true;

	ok &= !curl_easy_setopt(h, CURLOPT_URL, req->url);
	ok &= !curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	ok &= !curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	ok &= !curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	ok &= !curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	ok &= !curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)to);
	ok &= !curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)cto);
	ok &= !curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	ok &= !curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	ok &= !curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	ok &= !curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	if (req->sink)
		ok &= !curl_easy_setopt(h, CURLOPT_BUFFERSIZE,
					(long)HTTPC_SINK_BUFFER);
	if (strcmp(req->method, "HEAD") == 0) {
		ok &= !curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(req->method, "GET") == 0 && !req->body) {
		ok &= !curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else {
		if (req->body || strcmp(req->method, "POST") == 0) {
			ok &= !curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
						(curl_off_t)req->body_len);
			ok &= !curl_easy_setopt(h, CURLOPT_POSTFIELDS,
						req->body ? req->body : "");
		}
		if (strcmp(req->method, "POST") != 0)
			ok &= !curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST,
						req->method);
	}
	return ok;
}

/* Map a failed transfer to an efs error with a message. */
static int fail(const struct httpc_req *req, const struct httpc_call *c,
		CURLcode cc, const char *errbuf)
{
	char u[HTTPC_MSG_URL_MAX];
	const char *why = errbuf[0] ? errbuf : curl_easy_strerror(cc);
	unsigned to = req->timeout_ms ? req->timeout_ms : HTTPC_TIMEOUT_MS;

	if (c->err)
		return c->err;
	msg_url(u, sizeof(u), req->url);
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		return efs_error_set(EFS_ETIMEDOUT,
				     "http: %s %s: timed out (limit %u ms): %s",
				     req->method, u, to, why);
	case CURLE_OUT_OF_MEMORY:
		return efs_error_set(EFS_ENOMEM, "http: out of memory");
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return efs_error_set(EFS_EINVAL, "http: %s %s: %s",
				     req->method, u, why);
	default:
		return efs_error_set(EFS_EIO, "http: %s %s: %s",
				     req->method, u, why);
	}
}

/* After a transfer, also a failed one: status and counters into resp. */
static void counters(CURL *h, struct httpc_resp *resp)
{
	curl_off_t up = 0, down = 0, ttfb = 0, total = 0;

	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_easy_getinfo(h, CURLINFO_SIZE_UPLOAD_T, &up);
	curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &down);
	curl_easy_getinfo(h, CURLINFO_STARTTRANSFER_TIME_T, &ttfb);
	curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &total);
	resp->bytes_up = up > 0 ? (uint64_t)up : 0;
	resp->bytes_down = down > 0 ? (uint64_t)down : 0;
	resp->ttfb_us = ttfb > 0 ? (uint64_t)ttfb : 0;
	resp->total_us = total > 0 ? (uint64_t)total : 0;
}

/* After a complete transfer: the content type, a NUL-terminated body. */
static int finish(CURL *h, const struct httpc_req *req,
		  struct httpc_resp *resp)
{
	char *ct = NULL;

	if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK &&
	    ct && !(resp->content_type = efs_strdup(ct)))
		return efs_error_set(EFS_ENOMEM, "http: out of memory");
	/* An empty body is "" too, so callers need no NULL check. */
	if (!req->sink && !resp->body.ptr && buf_grow(&resp->body, 0) < 0)
		return efs_error_set(EFS_ENOMEM, "http: out of memory");
	return 0;
}

int httpc_do(struct httpc_resp *out, const struct httpc_req *req)
{
	struct httpc_call c = { .req = req, .resp = out };
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *hdrs = NULL;
	CURL *h;
	CURLcode cc;
	int rc;

	memset(out, 0, sizeof(*out));
	buf_init(&out->body, req->max_body ? req->max_body : HTTPC_BODY_MAX);
	if (!method_ok(req->method))
		return efs_error_set(EFS_EINVAL, "http: bad method");
	if (!httpc_url_ok(req->url))
		return efs_error_set(EFS_EINVAL,
				     "http: %s: not an http(s) url",
				     req->method);
	if ((rc = make_headers(&hdrs, req)) < 0)
		return rc;
	if (!(h = curl_easy_init())) {
		curl_slist_free_all(hdrs);
		return efs_error_set(EFS_ENOMEM, "http: cannot make a handle");
	}
	errbuf[0] = '\0';
	if (!setup_ok(h, req, hdrs, &c, errbuf)) {
		rc = efs_error_set(EFS_ERROR, "http: %s: cannot set up libcurl",
				   req->method);
		goto out;
	}
	cc = curl_easy_perform(h);
	counters(h, out);
	if (cc != CURLE_OK)
		rc = fail(req, &c, cc, errbuf);
	else
		rc = finish(h, req, out);
out:
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	return rc;
}
