/*
 * test_api_server.c - the daemon's HTTP server over loopback, through the
 * client every request uses (net/httpc.h): /health, 404 and 405 with
 * the JSON error form, /transfer/ answering 503 before a dealer is set,
 * port 0, listen addresses good and bad, the message of a port already
 * taken, the warning for a non-loopback address, and the
 * allocation-failure loop.
 */
#include "api/api_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/log.h"
#include "efs_config.h"
#include "net/httpc.h"
#include "tests/api/api_test.h"
#include "tests/harness.h"

/* method <url of s><path> into out (release it). */
static int call(struct httpc_resp *out, struct api_server *s,
		const char *method, const char *path)
{
	char url[256];
	struct httpc_req req = HTTPC_REQ_INIT(method, url);

	snprintf(url, sizeof(url), "%s%s", api_server_url(s), path);
	if (strcmp(method, "POST") == 0) {
		req.body = "{}";
		req.body_len = 2;
	}
	return httpc_do(out, &req);
}

/* The body of resp as JSON (decref it); NULL fails the test. */
static json_t *body_json(const struct httpc_resp *resp)
{
	json_t *v = json_loadb((const char *)resp->body.ptr, resp->body.len,
			       0, NULL);

	CU_ASSERT_PTR_NOT_NULL(v);
	CU_ASSERT_PTR_NOT_NULL(resp->content_type);
	if (resp->content_type)
		CU_ASSERT_STRING_EQUAL(resp->content_type,
				       "application/json");
	return v;
}

/* Check resp is status with the error form and reason. */
static void check_error(const struct httpc_resp *resp, long status,
			const char *reason)
{
	json_t *v = body_json(resp);
	const char *got = NULL, *details = NULL;

	CU_ASSERT_EQUAL(resp->status, status);
	CU_ASSERT_EQUAL(json_unpack(v, "{s:{s:s,s:s}}", "error", "reason",
				    &got, "details", &details),
			0);
	if (got)
		CU_ASSERT_STRING_EQUAL(got, reason);
	CU_ASSERT(details && details[0]);
	json_decref(v);
}

static struct api_server *start(const char *listen)
{
	struct api_server *s = NULL;

	CU_ASSERT_EQUAL_FATAL(api_server_start(&s, listen, NULL), 0);
	return s;
}

static void test_server__health(void)
{
	struct api_server *s = start("127.0.0.1:0");
	struct httpc_resp resp;
	const char *version = NULL;
	int ok = 0, dealer = 1;
	char fake;
	json_t *v;

	CU_ASSERT_EQUAL_FATAL(call(&resp, s, "GET", "/health"), 0);
	CU_ASSERT_EQUAL(resp.status, 200);
	v = body_json(&resp);
	CU_ASSERT_EQUAL(json_unpack(v, "{s:b,s:s,s:b}", "ok", &ok, "version",
				    &version, "dealer", &dealer),
			0);
	CU_ASSERT(ok);
	CU_ASSERT(!dealer);
	if (version)
		CU_ASSERT_STRING_EQUAL(version, EFS_VERSION);
	json_decref(v);
	httpc_resp_release(&resp);
	/* HEAD: the same status, no body */
	CU_ASSERT_EQUAL(call(&resp, s, "HEAD", "/health"), 0);
	CU_ASSERT_EQUAL(resp.status, 200);
	CU_ASSERT_EQUAL(resp.body.len, 0);
	httpc_resp_release(&resp);
	/* /health only reports whether a dealer is set, never touches it */
	api_server_set_dealer(s, (struct dealer *)&fake);
	CU_ASSERT_EQUAL(call(&resp, s, "GET", "/health"), 0);
	v = body_json(&resp);
	CU_ASSERT_EQUAL(json_unpack(v, "{s:b}", "dealer", &dealer), 0);
	CU_ASSERT(dealer);
	json_decref(v);
	httpc_resp_release(&resp);
	api_server_set_dealer(s, NULL);
	api_server_stop(s);
}

static void test_server__not_found(void)
{
	struct api_server *s = start("127.0.0.1:0");
	static const char *const paths[] = {
		"/nope", "/health/", "/healthz", "/transfer", "/ipfsx",
	};
	struct httpc_resp resp;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		CU_ASSERT_EQUAL(call(&resp, s, "GET", paths[i]), 0);
		check_error(&resp, 404, "NOT_FOUND");
		httpc_resp_release(&resp);
	}
	/* a path that is not UTF-8 once decoded: still one JSON error */
	CU_ASSERT_EQUAL(call(&resp, s, "GET", "/%ff%fe"), 0);
	CU_ASSERT_EQUAL(resp.status, 404);
	httpc_resp_release(&resp);
	/* a known path with the wrong method */
	CU_ASSERT_EQUAL(call(&resp, s, "POST", "/health"), 0);
	check_error(&resp, 405, "METHOD_NOT_ALLOWED");
	httpc_resp_release(&resp);
	api_server_stop(s);
}

static void test_server__transfer_before_dealer(void)
{
	struct api_server *s = start("127.0.0.1:0");
	struct httpc_resp resp;

	CU_ASSERT_EQUAL(call(&resp, s, "GET", "/transfer/abcdef"), 0);
	check_error(&resp, 503, "UNAVAILABLE");
	httpc_resp_release(&resp);
	CU_ASSERT_EQUAL(call(&resp, s, "HEAD", "/transfer/abcdef"), 0);
	CU_ASSERT_EQUAL(resp.status, 503);
	httpc_resp_release(&resp);
	CU_ASSERT_EQUAL(call(&resp, s, "GET", "/dealer"), 0);
	check_error(&resp, 503, "UNAVAILABLE");
	httpc_resp_release(&resp);
	api_server_stop(s);
}

static void test_server__port_zero(void)
{
	struct api_server *s = start("127.0.0.1:0"), *t = start("localhost:0");
	char want[64];

	CU_ASSERT(api_server_port(s) != 0);
	CU_ASSERT(api_server_port(t) != 0);
	CU_ASSERT(api_server_port(s) != api_server_port(t));
	snprintf(want, sizeof(want), "http://127.0.0.1:%u",
		 (unsigned)api_server_port(s));
	CU_ASSERT_STRING_EQUAL(api_server_url(s), want);
	snprintf(want, sizeof(want), "http://127.0.0.1:%u",
		 (unsigned)api_server_port(t));
	CU_ASSERT_STRING_EQUAL(api_server_url(t), want);
	api_server_stop(s);
	api_server_stop(t);
	api_server_stop(NULL);
}

static void test_server__bind_failure(void)
{
	struct api_server *s = start("127.0.0.1:0"), *t = NULL;
	char listen[64], want[128];

	snprintf(listen, sizeof(listen), "127.0.0.1:%u",
		 (unsigned)api_server_port(s));
	CU_ASSERT_EQUAL(api_server_start(&t, listen, NULL), EFS_EIO);
	CU_ASSERT_PTR_NULL(t);
	snprintf(want, sizeof(want), "cannot listen on %s: ", listen);
	CU_ASSERT_PTR_NOT_NULL(strstr(efs_error_msg(), want));
	CU_ASSERT_PTR_NOT_NULL(strstr(efs_error_msg(), "in use"));
	CU_ASSERT_PTR_NULL(strchr(efs_error_msg(), '\n'));
	/* an address that is not this machine's */
	CU_ASSERT_EQUAL(api_server_start(&t, "192.0.2.1:0", NULL), EFS_EIO);
	CU_ASSERT_PTR_NOT_NULL(strstr(efs_error_msg(), "cannot listen on "
						       "192.0.2.1:0"));
	api_server_stop(s);
}

static void test_server__bad_listen(void)
{
	static const char *const bad[] = {
		"", "nope", "127.0.0.1", "127.0.0.1:", ":3004", "127.0.0.1:x",
		"127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:+80",
		"1.2.3:80", "[::1]:80", "example.com:80", "127.0.0.1:80 ",
		"255.255.255.255.1:80",
	};
	struct api_server *s;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = (struct api_server *)1;
		CU_ASSERT_EQUAL(api_server_start(&s, bad[i], NULL), EFS_EINVAL);
		CU_ASSERT_PTR_NULL(s);
		CU_ASSERT_PTR_NOT_NULL(strstr(efs_error_msg(),
					      "bad listen address"));
	}
}

/* The warning for a listener others can reach, read back from the log. */
static void test_server__non_loopback_warning(void)
{
	struct buf log = BUF_INIT(1 << 16);
	struct api_server *s;
	char path[4200], want[64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/log", tmp);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f = fopen(path, "w+"));
	efs_log_setup(EFS_LOG_NOTICE, fileno(f));
	s = start("127.0.0.1:0");
	api_server_stop(s);
	s = start("0.0.0.0:0");
	efs_log_setup(EFS_LOG_NOTICE, 2);
	/* what the daemon itself calls: it answers on loopback too */
	snprintf(want, sizeof(want), "http://127.0.0.1:%u",
		 (unsigned)api_server_port(s));
	CU_ASSERT_STRING_EQUAL(api_server_url(s), want);
	api_server_stop(s);
	fclose(f);
	CU_ASSERT_EQUAL(harness_read_file(&log, path), 0);
	CU_ASSERT_EQUAL(buf_addch(&log, '\0'), 0);
	/* one warning, for 0.0.0.0 only */
	CU_ASSERT_PTR_NOT_NULL(strstr((char *)log.ptr, "warn api: listening "
						       "on 0.0.0.0:"));
	CU_ASSERT_PTR_NULL(strstr((char *)log.ptr, "127.0.0.1"));
	buf_release(&log);
}

static int alloc_run(void *payload)
{
	struct api_server *s;
	int rc;

	if ((rc = api_server_start(&s, "127.0.0.1:0", NULL)) < 0)
		return rc;
	api_server_stop(s);
	return 0;
}

static void test_server__alloc_failures(void)
{
	CU_ASSERT(harness_alloc_loop(alloc_run, NULL) >= 2);
}

static CU_TestInfo server_tests[] = {
	{ "health", test_server__health },
	{ "not_found", test_server__not_found },
	{ "transfer_before_dealer", test_server__transfer_before_dealer },
	{ "port_zero", test_server__port_zero },
	{ "bind_failure", test_server__bind_failure },
	{ "bad_listen", test_server__bad_listen },
	{ "non_loopback_warning", test_server__non_loopback_warning },
	{ "alloc_failures", test_server__alloc_failures },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "server", .pInitFunc = api_test_suite_setup,
	       .pCleanupFunc = api_test_suite_teardown, .pTests = server_tests })
