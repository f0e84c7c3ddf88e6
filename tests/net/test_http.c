/*
 * test_http.c - the libmicrohttpd server (net/http.h), driven by the
 * client of net/httpc.h: replies from memory, fd and callback; HEAD
 * (headers and Content-Length, no body, and the stream callback never
 * asked for bytes); request bodies and their cap; query arguments and
 * headers; reply headers; a handler that gives no reply, or whose reply
 * fails; dropped connections.
 */
#include "net/http.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/error.h"
#include "net/httpc.h"
#include "tests/harness.h"
#include "tests/net/netfx.h"

#define STREAM_LEN ((size_t)1 << 20)

static char *tmpdir;
static char fdpath[512];
static atomic_long stream_calls;
static atomic_long stream_frees;
static atomic_int failed_rc;

static long stream_fn(void *cls, uint64_t pos, uint8_t *buf, size_t max)
{
	size_t n = STREAM_LEN - (size_t)pos;

	atomic_fetch_add(&stream_calls, 1);
	if (pos >= STREAM_LEN)
		return HTTP_STREAM_END;
	if (n > max)
		n = max;
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)((pos + i) * 7);
	return (long)n;
}

static long stream_fail(void *cls, uint64_t pos, uint8_t *buf, size_t max)
{
	if (pos >= 1000)
		return HTTP_STREAM_ERROR;
	memset(buf, 'x', max < 1000 ? max : 1000);
	return max < 1000 ? (long)max : 1000;
}

static void stream_free(void *cls)
{
	atomic_fetch_add(&stream_frees, 1);
}

static void handle(struct http_req *req, void *payload)
{
	const char *p = http_req_path(req);
	size_t len;
	const uint8_t *body = http_req_body(req, &len);

	if (strcmp(p, "/stream") == 0) {
		http_resp_header(req, "X-Extra", "yes");
		http_reply_stream(req, 200, "application/vnd.ipld.car",
				  STREAM_LEN, stream_fn, NULL, stream_free);
	} else if (strcmp(p, "/stream_fail") == 0) {
		http_reply_stream(req, 200, NULL, 5000, stream_fail, NULL,
				  stream_free);
	} else if (strcmp(p, "/fd") == 0) {
		int fd = open(fdpath, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			http_reply(req, 500, NULL, "", 0);
		else
			http_reply_fd(req, 206, "text/plain", fd, 2, 5);
	} else if (strcmp(p, "/body") == 0) {
		http_reply_text(req, 200, "%s %zu %s",
				http_req_body_too_big(req) ? "big" : "ok", len,
				len && body[0] == 'a' ? "a" : "-");
	} else if (strcmp(p, "/query") == 0) {
		const char *a = http_req_query(req, "a");
		const char *b = http_req_query(req, "b");
		const char *c = http_req_query(req, "c");

		http_reply_text(req, 200, "%s|%s|%s", a ? a : "(null)",
				b ? b : "(null)", c ? c : "(null)");
	} else if (strcmp(p, "/json") == 0) {
		json_t *v = json_pack("{s:i}", "n", 5);

		http_reply_json(req, 200, v);
		json_decref(v);
	} else if (strcmp(p, "/peer") == 0) {
		http_reply_text(req, 200, "%s %s", http_req_peer(req),
				http_req_method(req));
	} else if (strcmp(p, "/noreply") == 0) {
		/* nothing: the server answers 500 */
	} else if (strcmp(p, "/badstatus") == 0) {
		/* libmicrohttpd refuses the status: the server answers 500 */
		atomic_store(&failed_rc, http_reply(req, 42, NULL, "x", 1));
	} else if (strcmp(p, "/badheader") == 0) {
		/* refused too, and so is the 500 carrying the same header:
		 * the server closes the connection */
		http_resp_header(req, "X-Bad", "a\r\nb");
		atomic_store(&failed_rc,
			     http_reply_stream(req, 200, NULL, STREAM_LEN,
					       stream_fn, NULL, stream_free));
	} else if (strcmp(p, "/drop") == 0) {
		http_drop(req);
	} else if (strncmp(p, "/echo/", 6) == 0) {
		http_reply_text(req, 200, "%s|%zu", p + 6, strlen(p));
	} else {
		http_reply(req, 404, NULL, "", 0);
	}
}

static int setup(void)
{
	if (!(tmpdir = harness_tmpdir()))
		return -1;
	snprintf(fdpath, sizeof(fdpath), "%s/f.txt", tmpdir);
	if (harness_write_file(fdpath, "0123456789", 10) < 0)
		return -1;
	return netfx_start(1000, handle, NULL) < 0 ? -1 : 0;
}

static int teardown(void)
{
	netfx_stop();
	harness_tmpdir_free(tmpdir);
	return 0;
}

static void test_http__stream(void)
{
	struct httpc_resp resp;
	bool ok = true;

	CU_ASSERT_EQUAL_FATAL(netfx_call(&resp, "GET", "/stream", NULL, 0), 0);
	CU_ASSERT_EQUAL(resp.status, 200);
	CU_ASSERT_EQUAL_FATAL(resp.body.len, STREAM_LEN);
	for (size_t i = 0; i < STREAM_LEN && ok; i++)
		ok = resp.body.ptr[i] == (uint8_t)(i * 7);
	CU_ASSERT(ok);
	CU_ASSERT_STRING_EQUAL(resp.content_type, "application/vnd.ipld.car");
	httpc_resp_release(&resp);
	CU_ASSERT(atomic_load(&stream_calls) > 0);

	/* A stream that fails mid-body: the client sees a cut reply. */
	CU_ASSERT_EQUAL(netfx_call(&resp, "GET", "/stream_fail", NULL, 0),
			EFS_EIO);
	httpc_resp_release(&resp);
}

/* Send request on a bare socket; the whole raw reply (until the server
 * closes) into out, NUL-terminated. */
static int raw_request(char *out, size_t cap, const char *request)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 5 };
	size_t n = 0;
	ssize_t r;
	int fd;

	sin.sin_port = htons(netfx_port());
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    write(fd, request, strlen(request)) != (ssize_t)strlen(request)) {
		close(fd);
		return -1;
	}
	while (n + 1 < cap && (r = read(fd, out + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	close(fd);
	return 0;
}

static void test_http__head(void)
{
	struct httpc_resp resp;
	char raw[4096];
	long calls;

	atomic_store(&stream_calls, 0);
	atomic_store(&stream_frees, 0);
	CU_ASSERT_EQUAL_FATAL(netfx_call(&resp, "HEAD", "/stream", NULL, 0), 0);
	CU_ASSERT_EQUAL(resp.status, 200);
	CU_ASSERT_EQUAL(resp.bytes_down, 0);
	CU_ASSERT_STRING_EQUAL(resp.content_type, "application/vnd.ipld.car");
	httpc_resp_release(&resp);
	calls = atomic_load(&stream_calls);
	CU_ASSERT_EQUAL(calls, 0);

	/* On the wire: headers with the GET's Content-Length, no body. */
	CU_ASSERT_EQUAL_FATAL(raw_request(raw, sizeof(raw),
					  "HEAD /stream HTTP/1.1\r\n"
					  "Host: x\r\nConnection: close"
					  "\r\n\r\n"), 0);
	CU_ASSERT(strncmp(raw, "HTTP/1.1 200", 12) == 0);
	CU_ASSERT(strcasestr(raw, "Content-Length: 1048576\r\n") != NULL);
	CU_ASSERT(strcasestr(raw, "X-Extra: yes\r\n") != NULL);
	CU_ASSERT(strstr(raw, "\r\n\r\n") != NULL &&
		  strstr(raw, "\r\n\r\n")[4] == '\0');
	CU_ASSERT_EQUAL(atomic_load(&stream_calls), 0);
	CU_ASSERT_EQUAL(atomic_load(&stream_frees), 2);
}

static void test_http__fd(void)
{
	struct httpc_resp resp;

	CU_ASSERT_EQUAL_FATAL(netfx_call(&resp, "GET", "/fd", NULL, 0), 0);
	CU_ASSERT_EQUAL(resp.status, 206);
	CU_ASSERT_STRING_EQUAL((char *)resp.body.ptr, "23456");
	httpc_resp_release(&resp);
	CU_ASSERT_EQUAL_FATAL(netfx_call(&resp, "HEAD", "/fd", NULL, 0), 0);
	CU_ASSERT_EQUAL(resp.status, 206);
	CU_ASSERT_EQUAL(resp.body.len, 0);
	httpc_resp_release(&resp);
}

static void test_http__body_cap(void)
{
	struct httpc_resp resp;
	char body[1001];

	memset(body, 'a', sizeof(body));
	CU_ASSERT_EQUAL_FATAL(netfx_call(&resp, "POST", "/body", body, 1000),
			      0);
	CU_ASSERT_STRING_EQUAL((char *)resp.body.ptr, "ok 1000 a");
	httpc_resp_release(&resp);
	CU_ASSERT_EQUAL_FATAL(netfx_call(&resp, "POST", "/body", body, 1001),
			      0);
	CU_ASSERT_STRING_EQUAL((char *)resp.body.ptr, "big 0 -");
	httpc_resp_release(&resp);
	CU_ASSERT_EQUAL_FATAL(netfx_call(&resp, "GET", "/body", NULL, 0), 0);
	CU_ASSERT_STRING_EQUAL((char *)resp.body.ptr, "ok 0 -");
	httpc_resp_release(&resp);
}

static void test_http__request(void)
{
	struct httpc_resp resp;

	CU_ASSERT_EQUAL_FATAL(netfx_call(&resp, "GET", "/query?a=x%20y&b",
					 NULL, 0), 0);
	CU_ASSERT_STRING_EQUAL((char *)resp.body.ptr, "x y||(null)");
	httpc_resp_release(&resp);
	CU_ASSERT_EQUAL_FATAL(netfx_call(&resp, "DELETE", "/peer", NULL, 0), 0);
	CU_ASSERT_STRING_EQUAL((char *)resp.body.ptr, "127.0.0.1 DELETE");
	httpc_resp_release(&resp);
	CU_ASSERT_EQUAL_FATAL(netfx_call(&resp, "GET", "/json", NULL, 0), 0);
	CU_ASSERT_STRING_EQUAL((char *)resp.body.ptr, "{\"n\":5}");
	CU_ASSERT_STRING_EQUAL(resp.content_type, "application/json");
	httpc_resp_release(&resp);
	CU_ASSERT_EQUAL_FATAL(netfx_call(&resp, "GET", "/noreply", NULL, 0), 0);
	CU_ASSERT_EQUAL(resp.status, 500);
	httpc_resp_release(&resp);
	CU_ASSERT_EQUAL(netfx_call(&resp, "GET", "/drop", NULL, 0), EFS_EIO);
	httpc_resp_release(&resp);
	CU_ASSERT_EQUAL_FATAL(netfx_call(&resp, "GET", "/nowhere", NULL, 0), 0);
	CU_ASSERT_EQUAL(resp.status, 404);
	httpc_resp_release(&resp);
}

/* Percent-decoding of paths and queries, except %00: a NUL must not cut
 * the path a handler sees. */
static void test_http__unescape(void)
{
	static const char *const cases[][2] = {
		{ "/echo/a%20b%41", "a bA|10" },
		{ "/echo/a.txt%00.png", "a.txt%00.png|18" },
		{ "/echo/%2500", "%00|9" },
		{ "/echo/%zz%4", "%zz%4|11" },
		{ "/echo/%e2%82%ac", "\xe2\x82\xac|9" },
	};
	struct httpc_resp resp;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(netfx_call(&resp, "GET", cases[i][0],
						 NULL, 0), 0);
		CU_ASSERT_STRING_EQUAL((char *)resp.body.ptr, cases[i][1]);
		httpc_resp_release(&resp);
	}
	CU_ASSERT_EQUAL_FATAL(netfx_call(&resp, "GET", "/query?a=x%00y",
					 NULL, 0), 0);
	CU_ASSERT_STRING_EQUAL((char *)resp.body.ptr, "x%00y|(null)|(null)");
	httpc_resp_release(&resp);
}

static void test_http__bad_start(void)
{
	struct http_server *s;

	CU_ASSERT_EQUAL(http_server_start(&s, "localhost", 0, 0, handle,
					  NULL), EFS_EINVAL);
	CU_ASSERT_PTR_NULL(s);
	CU_ASSERT_EQUAL(http_server_start(&s, "127.0.0.1", netfx_port(), 0,
					  handle, NULL), EFS_EIO);
	CU_ASSERT_PTR_NULL(s);
	http_server_stop(NULL);
}

/* A reply that fails gets the handler's 500, or a closed connection,
 * at once: libmicrohttpd must not be left spinning on an unanswered
 * request until the client times out. */
static void test_http__failed_reply(void)
{
	struct httpc_resp resp;
	long frees = atomic_load(&stream_frees);

	atomic_store(&failed_rc, 0);
	CU_ASSERT_EQUAL_FATAL(netfx_call(&resp, "GET", "/badstatus", NULL, 0),
			      0);
	CU_ASSERT_EQUAL(resp.status, 500);
	CU_ASSERT_EQUAL(atomic_load(&failed_rc), EFS_EIO);
	CU_ASSERT(resp.total_us < 5000000);
	httpc_resp_release(&resp);

	atomic_store(&failed_rc, 0);
	CU_ASSERT_EQUAL(netfx_call(&resp, "GET", "/badheader", NULL, 0),
			EFS_EIO);
	CU_ASSERT_EQUAL(atomic_load(&failed_rc), EFS_EIO);
	CU_ASSERT(resp.total_us < 5000000);
	CU_ASSERT_EQUAL(atomic_load(&stream_frees), frees + 1);
	httpc_resp_release(&resp);
}

static CU_TestInfo http_tests[] = {
	{ "stream", test_http__stream },
	{ "head", test_http__head },
	{ "fd", test_http__fd },
	{ "body_cap", test_http__body_cap },
	{ "request", test_http__request },
	{ "unescape", test_http__unescape },
	{ "bad_start", test_http__bad_start },
	{ "failed_reply", test_http__failed_reply },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "http", .pInitFunc = setup,
	       .pCleanupFunc = teardown, .pTests = http_tests })
