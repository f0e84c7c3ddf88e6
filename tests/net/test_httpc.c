/*
 * test_httpc.c - the libcurl client (net/httpc.h) against a loopback
 * server of net/http.h started here: statuses and bodies, content type,
 * the body cap, sinks and their abort, timeouts against a handler that
 * sleeps, connection refused, HEAD, POST/PUT echo, headers, redirects not
 * followed, secrets kept out of messages, threads, allocation failure.
 */
#include "net/httpc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "net/http.h"
#include "tests/harness.h"
#include "tests/net/netfx.h"

#define BIG_LEN ((size_t)3 << 20)

static uint8_t *big;

static long stream_big(void *cls, uint64_t pos, uint8_t *buf, size_t max)
{
	size_t n = BIG_LEN - (size_t)pos;

	if (pos >= BIG_LEN)
		return HTTP_STREAM_END;
	if (n > max)
		n = max;
	memcpy(buf, big + pos, n);
	return (long)n;
}

static void handle(struct http_req *req, void *payload)
{
	const char *p = http_req_path(req);
	const uint8_t *body;
	size_t len;

	if (strcmp(p, "/hello") == 0) {
		http_reply(req, 200, "text/plain", "hello\n", 6);
	} else if (strcmp(p, "/missing") == 0) {
		http_reply_text(req, 404, "no such thing\n");
	} else if (strcmp(p, "/empty") == 0) {
		http_reply(req, 204, NULL, "", 0);
	} else if (strcmp(p, "/big") == 0) {
		http_reply_stream(req, 200, "application/octet-stream",
				  BIG_LEN, stream_big, NULL, NULL);
	} else if (strcmp(p, "/chunked") == 0) {
		http_reply_stream(req, 200, "application/octet-stream",
				  HTTP_SIZE_UNKNOWN, stream_big, NULL, NULL);
	} else if (strcmp(p, "/sleep") == 0) {
		usleep(1000 * 1000);
		http_reply(req, 200, NULL, "late", 4);
	} else if (strcmp(p, "/echo") == 0) {
		body = http_req_body(req, &len);
		http_resp_header(req, "X-Method", http_req_method(req));
		http_reply(req, 200, "application/octet-stream", body, len);
	} else if (strcmp(p, "/header") == 0) {
		const char *v = http_req_header(req, "X-Test");

		http_reply_text(req, 200, "%s", v ? v : "(none)");
	} else if (strcmp(p, "/redirect") == 0) {
		http_resp_header(req, "Location", "/hello");
		http_reply(req, 302, NULL, "", 0);
	} else if (strcmp(p, "/drop") == 0) {
		http_drop(req);
	} else {
		http_reply(req, 404, NULL, "", 0);
	}
}

static int setup(void)
{
	if (!(big = malloc(BIG_LEN)))
		return -1;
	harness_fill_random(big, BIG_LEN, 7);
	return netfx_start(4u << 20, handle, NULL) < 0 ? -1 : 0;
}

static int teardown(void)
{
	netfx_stop();
	free(big);
	return 0;
}

static int get(struct httpc_resp *resp, const char *method, const char *path)
{
	return netfx_call(resp, method, path, NULL, 0);
}

static void test_httpc__status_body(void)
{
	struct httpc_resp resp;

	CU_ASSERT_EQUAL_FATAL(get(&resp, "GET", "/hello"), 0);
	CU_ASSERT_EQUAL(resp.status, 200);
	CU_ASSERT_EQUAL(resp.body.len, 6);
	CU_ASSERT_STRING_EQUAL((char *)resp.body.ptr, "hello\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(resp.content_type);
	CU_ASSERT_STRING_EQUAL(resp.content_type, "text/plain");
	CU_ASSERT_EQUAL(resp.bytes_down, 6);
	CU_ASSERT_EQUAL(resp.bytes_up, 0);
	CU_ASSERT(resp.ttfb_us > 0);
	CU_ASSERT(resp.ttfb_us <= resp.total_us);
	httpc_resp_release(&resp);
	httpc_resp_release(&resp);

	/* Any status is a reply: the caller judges it. */
	CU_ASSERT_EQUAL_FATAL(get(&resp, "GET", "/missing"), 0);
	CU_ASSERT_EQUAL(resp.status, 404);
	CU_ASSERT_STRING_EQUAL((char *)resp.body.ptr, "no such thing\n");
	httpc_resp_release(&resp);

	/* An empty body is "", not NULL; no Content-Type is NULL. */
	CU_ASSERT_EQUAL_FATAL(get(&resp, "GET", "/empty"), 0);
	CU_ASSERT_EQUAL(resp.status, 204);
	CU_ASSERT_PTR_NOT_NULL_FATAL(resp.body.ptr);
	CU_ASSERT_EQUAL(resp.body.len, 0);
	CU_ASSERT_STRING_EQUAL((char *)resp.body.ptr, "");
	CU_ASSERT_PTR_NULL(resp.content_type);
	httpc_resp_release(&resp);

	/* Redirects are not followed. */
	CU_ASSERT_EQUAL_FATAL(get(&resp, "GET", "/redirect"), 0);
	CU_ASSERT_EQUAL(resp.status, 302);
	httpc_resp_release(&resp);
}

static void test_httpc__big_and_cap(void)
{
	char url[128];
	struct httpc_req req = HTTPC_REQ_INIT("GET", url);
	struct httpc_resp resp;

	snprintf(url, sizeof(url), "%s/big", netfx_base());
	CU_ASSERT_EQUAL_FATAL(httpc_do(&resp, &req), 0);
	CU_ASSERT_EQUAL(resp.body.len, BIG_LEN);
	CU_ASSERT(resp.body.ptr && !memcmp(resp.body.ptr, big, BIG_LEN));
	CU_ASSERT_EQUAL(resp.bytes_down, BIG_LEN);
	httpc_resp_release(&resp);

	/* One byte under the size: too big, known or chunked length. */
	req.max_body = BIG_LEN - 1;
	CU_ASSERT_EQUAL(httpc_do(&resp, &req), EFS_ETOOBIG);
	CU_ASSERT(strncmp(efs_error_msg(), "http: GET http://127.0.0.1:",
			  27) == 0);
	httpc_resp_release(&resp);
	snprintf(url, sizeof(url), "%s/chunked", netfx_base());
	CU_ASSERT_EQUAL(httpc_do(&resp, &req), EFS_ETOOBIG);
	httpc_resp_release(&resp);
	req.max_body = BIG_LEN;
	CU_ASSERT_EQUAL_FATAL(httpc_do(&resp, &req), 0);
	CU_ASSERT_EQUAL(resp.body.len, BIG_LEN);
	httpc_resp_release(&resp);
}

struct sink_state {
	size_t got;
	size_t stop_at;     /* abort once past it (0: never) */
	uint64_t sum;
};

static int sink(void *cls, const uint8_t *data, size_t len)
{
	struct sink_state *s = cls;

	for (size_t i = 0; i < len; i++)
		s->sum = s->sum * 31 + data[i];
	s->got += len;
	if (s->stop_at && s->got > s->stop_at)
		return efs_error_set(EFS_ECANCELED, "sink: enough");
	return 0;
}

static void test_httpc__sink(void)
{
	char url[128];
	struct httpc_req req = HTTPC_REQ_INIT("GET", url);
	struct sink_state st = { 0 };
	struct httpc_resp resp;
	uint64_t want = 0;

	for (size_t i = 0; i < BIG_LEN; i++)
		want = want * 31 + big[i];
	snprintf(url, sizeof(url), "%s/big", netfx_base());
	req.sink = sink;
	req.sink_cls = &st;
	req.max_body = 10; /* no cap on a sink */
	CU_ASSERT_EQUAL_FATAL(httpc_do(&resp, &req), 0);
	CU_ASSERT_EQUAL(st.got, BIG_LEN);
	CU_ASSERT_EQUAL(st.sum, want);
	CU_ASSERT_EQUAL(resp.body.len, 0);
	CU_ASSERT_EQUAL(resp.bytes_down, BIG_LEN);
	httpc_resp_release(&resp);

	/* The sink's error aborts the transfer and comes back as is. */
	memset(&st, 0, sizeof(st));
	st.stop_at = 100000;
	CU_ASSERT_EQUAL(httpc_do(&resp, &req), EFS_ECANCELED);
	CU_ASSERT_STRING_EQUAL(efs_error_msg(), "sink: enough");
	CU_ASSERT(st.got < BIG_LEN);
	httpc_resp_release(&resp);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void test_httpc__timeout(void)
{
	char url[128];
	struct httpc_req req = HTTPC_REQ_INIT("GET", url);
	struct httpc_resp resp;
	uint64_t t0 = now_ms();

	snprintf(url, sizeof(url), "%s/sleep", netfx_base());
	req.timeout_ms = 200;
	CU_ASSERT_EQUAL(httpc_do(&resp, &req), EFS_ETIMEDOUT);
	CU_ASSERT(now_ms() - t0 < 900);
	CU_ASSERT(strstr(efs_error_msg(), "timed out") != NULL);
	CU_ASSERT(strstr(efs_error_msg(), "/sleep") != NULL);
	httpc_resp_release(&resp);

	/* Connect timeout: a non-routable address (TEST-NET-1). */
	snprintf(url, sizeof(url), "http://192.0.2.1:9/");
	req.timeout_ms = 0;
	req.connect_timeout_ms = 150;
	t0 = now_ms();
	{
		int rc = httpc_do(&resp, &req);

		/* Offline machines fail fast with "network unreachable". */
		CU_ASSERT(rc == EFS_ETIMEDOUT || rc == EFS_EIO);
	}
	CU_ASSERT(now_ms() - t0 < 900);
	httpc_resp_release(&resp);
}

static void test_httpc__refused(void)
{
	char url[128];
	struct httpc_req req = HTTPC_REQ_INIT("GET", url);
	struct httpc_resp resp;
	uint16_t port = netfx_dead_port();

	CU_ASSERT_NOT_EQUAL_FATAL(port, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", (unsigned)port);
	CU_ASSERT_EQUAL(httpc_do(&resp, &req), EFS_EIO);
	CU_ASSERT(strncmp(efs_error_msg(), "http: GET http://127.0.0.1:",
			  27) == 0);
	httpc_resp_release(&resp);

	/* A server that closes without replying. */
	snprintf(url, sizeof(url), "%s/drop", netfx_base());
	CU_ASSERT_EQUAL(httpc_do(&resp, &req), EFS_EIO);
	httpc_resp_release(&resp);
}

static void test_httpc__head(void)
{
	struct httpc_resp resp;

	CU_ASSERT_EQUAL_FATAL(get(&resp, "HEAD", "/big"), 0);
	CU_ASSERT_EQUAL(resp.status, 200);
	CU_ASSERT_EQUAL(resp.body.len, 0);
	CU_ASSERT_EQUAL(resp.bytes_down, 0);
	CU_ASSERT(resp.total_us < 2000000);
	httpc_resp_release(&resp);
}

static void test_httpc__post_echo(void)
{
	char url[128];
	const char *hdrs[] = { "X-Test: forty two",
			       "Content-Type: application/octet-stream", NULL };
	struct httpc_req req = HTTPC_REQ_INIT("POST", url);
	struct httpc_resp resp;
	size_t n = (size_t)2 << 20;

	snprintf(url, sizeof(url), "%s/echo", netfx_base());
	req.headers = hdrs;
	req.body = big;
	req.body_len = n;
	CU_ASSERT_EQUAL_FATAL(httpc_do(&resp, &req), 0);
	CU_ASSERT_EQUAL(resp.status, 200);
	CU_ASSERT_EQUAL_FATAL(resp.body.len, n);
	CU_ASSERT(!memcmp(resp.body.ptr, big, n));
	CU_ASSERT_EQUAL(resp.bytes_up, n);
	httpc_resp_release(&resp);

	/* POST without a body, PUT with one. */
	req.body = NULL;
	req.body_len = 0;
	CU_ASSERT_EQUAL_FATAL(httpc_do(&resp, &req), 0);
	CU_ASSERT_EQUAL(resp.status, 200);
	CU_ASSERT_EQUAL(resp.body.len, 0);
	httpc_resp_release(&resp);
	req.method = "PUT";
	req.body = "abc";
	req.body_len = 3;
	CU_ASSERT_EQUAL_FATAL(httpc_do(&resp, &req), 0);
	CU_ASSERT_EQUAL(resp.body.len, 3);
	CU_ASSERT_STRING_EQUAL((char *)resp.body.ptr, "abc");
	httpc_resp_release(&resp);

	/* Headers go out. */
	snprintf(url, sizeof(url), "%s/header", netfx_base());
	req.method = "GET";
	req.body = NULL;
	req.body_len = 0;
	CU_ASSERT_EQUAL_FATAL(httpc_do(&resp, &req), 0);
	CU_ASSERT_STRING_EQUAL((char *)resp.body.ptr, "forty two");
	httpc_resp_release(&resp);
}

static void test_httpc__bad_args(void)
{
	static const struct {
		const char *method, *url;
	} cases[] = {
		{ "GET", "ftp://127.0.0.1/" },
		{ "GET", "not a url" },
		{ "get me", "http://127.0.0.1:1/" },
		{ "", "http://127.0.0.1:1/" },
		{ "GET", "http://[::1" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct httpc_req req = HTTPC_REQ_INIT(cases[i].method,
						      cases[i].url);
		struct httpc_resp resp;

		CU_ASSERT_EQUAL(httpc_do(&resp, &req), EFS_EINVAL);
		httpc_resp_release(&resp);
	}
}

static void test_httpc__secrets(void)
{
	char url[160];
	const char *hdrs[] = { "Authorization: Bearer sekrit-token", NULL };
	struct httpc_req req = HTTPC_REQ_INIT("POST", url);
	struct httpc_resp resp;
	uint16_t port = netfx_dead_port();

	CU_ASSERT_NOT_EQUAL_FATAL(port, 0);
	snprintf(url, sizeof(url), "http://user:hunter2@127.0.0.1:%u/rpc/v1",
		 (unsigned)port);
	req.headers = hdrs;
	CU_ASSERT_EQUAL(httpc_do(&resp, &req), EFS_EIO);
	CU_ASSERT(strstr(efs_error_msg(), "sekrit") == NULL);
	CU_ASSERT(strstr(efs_error_msg(), "hunter2") == NULL);
	CU_ASSERT(strstr(efs_error_msg(), "/rpc/v1") != NULL);
	CU_ASSERT(strncmp(efs_error_msg(), "http: POST http://127.0.0.1:",
			  28) == 0);
	httpc_resp_release(&resp);
}

#define NTHREADS 4
#define PER_THREAD 25

static void *worker(void *arg)
{
	long bad = 0;

	for (int i = 0; i < PER_THREAD; i++) {
		struct httpc_resp resp;

		if (get(&resp, "GET", "/hello") < 0 || resp.status != 200 ||
		    resp.body.len != 6)
			bad++;
		httpc_resp_release(&resp);
	}
	return (void *)bad;
}

static void test_httpc__threads(void)
{
	pthread_t th[NTHREADS];

	for (int i = 0; i < NTHREADS; i++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, worker,
						     NULL), 0);
	for (int i = 0; i < NTHREADS; i++) {
		void *bad;

		pthread_join(th[i], &bad);
		CU_ASSERT_EQUAL((long)bad, 0);
	}
}

static int alloc_run(void *payload)
{
	struct httpc_resp resp;
	int rc = get(&resp, "GET", (const char *)payload);

	if (rc == 0 && resp.status != 200)
		rc = EFS_ERROR;
	httpc_resp_release(&resp);
	return rc;
}

static void test_httpc__alloc_failure(void)
{
	CU_ASSERT(harness_alloc_loop(alloc_run, "/hello") >= 2);
	CU_ASSERT(harness_alloc_loop(alloc_run, "/big") >= 2);
}

/* The URL check every module uses for the URLs it is given. */
static void test_httpc__url_ok(void)
{
	static const char *const good[] = { "http://h", "https://h:1/x?a=b",
					    "http://[::1]:8080/" };
	static const char *const bad[] = { NULL, "", "ftp://h", "HTTP://h",
					   "http://a b", "http://a\n",
					   "http://a\x7f", "http://\xc3\xa9",
					   "ws://h" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CU_ASSERT(httpc_url_ok(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_FALSE(httpc_url_ok(bad[i]));
}

static CU_TestInfo httpc_tests[] = {
	{ "url_ok", test_httpc__url_ok },
	{ "status_body", test_httpc__status_body },
	{ "big_and_cap", test_httpc__big_and_cap },
	{ "sink", test_httpc__sink },
	{ "timeout", test_httpc__timeout },
	{ "refused", test_httpc__refused },
	{ "head", test_httpc__head },
	{ "post_echo", test_httpc__post_echo },
	{ "bad_args", test_httpc__bad_args },
	{ "secrets", test_httpc__secrets },
	{ "threads", test_httpc__threads },
	{ "alloc_failure", test_httpc__alloc_failure },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "httpc", .pInitFunc = setup,
	       .pCleanupFunc = teardown, .pTests = httpc_tests })
