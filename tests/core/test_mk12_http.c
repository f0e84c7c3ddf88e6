/*
 * test_mk12_http.c - the JSON of mk12 HTTP transfer parameters.  The
 * expected encodings are Go's encoding/json output for HttpRequest
 * (encode.go appendString: short escapes for \" \\ \b \f \n \r \t,
 * \u00XX for other control bytes, HTML-safe \u003c \u003e \u0026,
 * \u2028 \u2029, \ufffd per invalid byte; map keys sorted; a nil map is
 * null); the decoding cases follow decode.go (case-insensitive field
 * names, last member wins, null leaves a field alone, map merging,
 * unquote's surrogate handling) and scanner.go (syntax, depth 10000).
 */
#include "core/mk12_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "tests/harness.h"

static void check_encode(const struct mk12_http_request *r, const char *want)
{
	struct buf b = BUF_INIT(BUF_NOCAP);

	CU_ASSERT_EQUAL(mk12_http_request_encode(&b, r), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b.ptr);
	if (strcmp((char *)b.ptr, want))
		fprintf(stderr, "got  %s\nwant %s\n", b.ptr, want);
	CU_ASSERT_STRING_EQUAL((char *)b.ptr, want);
	buf_release(&b);
}

static void test_mk12_http__encode(void)
{
	struct mk12_http_header one[] = { { "Authorization", "Bearer abc" } };
	struct mk12_http_header many[] = {
		{ "b", "2" }, { "A", "1" }, { "a", "3" }, { "", "" },
	};
	struct mk12_http_request r = { "http://127.0.0.1:8080/deal/x.car", one,
				       1 };

	check_encode(&r, "{\"URL\":\"http://127.0.0.1:8080/deal/x.car\","
		     "\"Headers\":{\"Authorization\":\"Bearer abc\"}}");
	r.nheaders = 0;
	check_encode(&r, "{\"URL\":\"http://127.0.0.1:8080/deal/x.car\","
		     "\"Headers\":null}");
	r.url = NULL;
	r.headers = many;
	r.nheaders = 4;
	check_encode(&r, "{\"URL\":\"\",\"Headers\":{\"\":\"\",\"A\":\"1\","
		     "\"a\":\"3\",\"b\":\"2\"}}");
	r.nheaders = 0;
	r.url = "<>&\"\\\n\r\t\b\f\x01\x1f\x7f/\xe2\x80\xa8\xe2\x80\xa9"
		"\xff\xc3\xbc\xed\xa0\x80\xf0\x9f\x98\x80\xe2\x82";
	check_encode(&r, "{\"URL\":\"\\u003c\\u003e\\u0026\\\"\\\\\\n\\r\\t"
		     "\\b\\f\\u0001\\u001f\x7f/\\u2028\\u2029\\ufffd\xc3\xbc"
		     "\\ufffd\\ufffd\\ufffd\xf0\x9f\x98\x80\\ufffd\\ufffd\","
		     "\"Headers\":null}");
}

static void test_mk12_http__encode_errors(void)
{
	struct mk12_http_header dup[] = { { "a", "1" }, { "b", "2" },
					  { "a", "3" } };
	struct mk12_http_request r = { "u", dup, 3 };
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct buf small = BUF_INIT(10);

	CU_ASSERT_EQUAL(mk12_http_request_encode(&b, &r), EFS_EINVAL);
	CU_ASSERT_EQUAL(b.len, 0);
	r.nheaders = 2;
	CU_ASSERT_EQUAL(mk12_http_request_encode(&small, &r), EFS_ETOOBIG);
	CU_ASSERT_EQUAL(small.len, 0);
	buf_release(&b);
	buf_release(&small);
}

/* The value of header name in r, or NULL. */
static const char *header(const struct mk12_http_request *r,
			  const char *name)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (!strcmp(r->headers[i].name, name))
			return r->headers[i].value;
	return NULL;
}

static int decode_str(struct mk12_http_request *r, const char *json)
{
	return mk12_http_request_decode(r, (const uint8_t *)json,
					strlen(json));
}

static const struct {
	const char *json;
	const char *url;      /* NULL: no URL */
	size_t nheaders;
	const char *name;     /* one header to check, or NULL */
	const char *value;
} good[] = {
	{ "{\"URL\":\"http://127.0.0.1:8080/deal/x.car\",\"Headers\":"
	  "{\"Authorization\":\"Bearer abc\"}}",
	  "http://127.0.0.1:8080/deal/x.car", 1, "Authorization",
	  "Bearer abc" },
	{ " \t\r\n{ \"url\" : \"a\" , \"HEADERS\" : { \"X\" : \"y\" } } \n",
	  "a", 1, "X", "y" },
	{ "{\"URL\":\"a\",\"Url\":\"b\"}", "b", 0, NULL, NULL },
	{ "{\"URL\":\"a\",\"URL\":null}", "a", 0, NULL, NULL },
	{ "{\"x\":[1,{\"y\":[true,false,null,-1.5e+3,0,0.25E-2,\"s\"]}],"
	  "\"URL\":\"u\",\"z\":{}}", "u", 0, NULL, NULL },
	{ "null", NULL, 0, NULL, NULL },
	{ " null ", NULL, 0, NULL, NULL },
	{ "{}", NULL, 0, NULL, NULL },
	{ "{\"Headers\":{\"a\":\"b\"},\"Headers\":null}", NULL, 0, NULL,
	  NULL },
	{ "{\"Headers\":{\"a\":\"1\"},\"headers\":{\"b\":\"2\",\"a\":\"3\"}}",
	  NULL, 2, "a", "3" },
	{ "{\"Headers\":{\"a\":null}}", NULL, 1, "a", "" },
	{ "{\"Headers\":{}}", NULL, 0, NULL, NULL },
	{ "{\"Headers\":{\"a\":\"1\",\"a\":\"2\"}}", NULL, 1, "a", "2" },
	{ "{\"URL\":\"\\u003c\\ud83d\\ude00\\ud800x\\udc00\\/\\\"\\\\\\b\\f"
	  "\\n\\r\\t\"}",
	  "<\xf0\x9f\x98\x80\xef\xbf\xbdx\xef\xbf\xbd/\"\\\b\f\n\r\t", 0,
	  NULL, NULL },
	{ "{\"URL\":\"\\ud800\\u0041\"}", "\xef\xbf\xbd" "A", 0, NULL, NULL },
	{ "{\"URL\":\"a\xff\xc3\xbc\xed\xa0\x80\"}",
	  "a\xef\xbf\xbd\xc3\xbc\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 0,
	  NULL, NULL },
	{ "{\"\\u0055RL\":\"escaped name\"}", "escaped name", 0, NULL, NULL },
};

static void test_mk12_http__decode(void)
{
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct mk12_http_request r;
		int rc = decode_str(&r, good[i].json);

		if (rc)
			fprintf(stderr, "case %zu: %s\n", i, efs_error_msg());
		CU_ASSERT_EQUAL_FATAL(rc, 0);
		if (good[i].url) {
			CU_ASSERT(r.url && !strcmp(r.url, good[i].url));
		} else {
			CU_ASSERT_PTR_NULL(r.url);
		}
		CU_ASSERT_EQUAL(r.nheaders, good[i].nheaders);
		if (good[i].name) {
			const char *v = header(&r, good[i].name);

			CU_ASSERT(v && !strcmp(v, good[i].value));
		}
		mk12_http_request_release(&r);
	}
}

static const char *const bad[] = {
	"", " ", "[]", "\"s\"", "5", "true", "{", "{\"URL\"", "{\"URL\":",
	"{\"URL\":5}", "{\"URL\":[]}", "{\"URL\":true}",
	"{\"URL\":\"a\"} x", "{\"URL\":\"a\"}{}", "{\"Headers\":[]}",
	"{\"Headers\":\"a\"}", "{\"Headers\":{\"a\":1}}",
	"{\"Headers\":{\"a\":{}}}", "{\"URL\":\"\\u0000\"}",
	"{\"Headers\":{\"a\\u0000\":\"b\"}}", "{\"URL\":\"a\x01\"}",
	"{\"URL\":\"\\x\"}", "{\"URL\":\"\\u12\"}", "{\"URL\":\"\\u12g4\"}",
	"{\"URL\":\"abc}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":-}",
	"{\"a\":1e}", "{\"a\":.5}", "{\"a\":+1}", "{\"a\":tru}",
	"{\"a\":nul}", "{,}", "{\"a\":1,}", "{\"a\" 1}", "{\"a\":[1,]}",
	"{\"a\":[1 2]}", "{\"a\":[}", "{1:2}", "{\"a\":1]",
	"{\"URL\":5,\"x\":}", "{'URL':'a'}", "nulll", "\xef\xbb\xbf{}",
};

static void test_mk12_http__corrupt(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mk12_http_request r;
		int rc = decode_str(&r, bad[i]);

		if (rc != EFS_ECORRUPT)
			fprintf(stderr, "case %zu (%s): %d\n", i, bad[i], rc);
		CU_ASSERT_EQUAL(rc, EFS_ECORRUPT);
		CU_ASSERT_PTR_NULL(r.url);
		CU_ASSERT_EQUAL(r.nheaders, 0);
	}
}

/* Go's scanner allows 10000 nested containers, not 10001. */
static void test_mk12_http__depth(void)
{
	size_t depth = 10000;
	char *s = malloc(2 * depth + 64);
	size_t n = 0;
	struct mk12_http_request r;

	n += (size_t)snprintf(s, 64, "{\"x\":");
	for (size_t i = 1; i < depth; i++)
		s[n++] = '[';
	for (size_t i = 1; i < depth; i++)
		s[n++] = ']';
	n += (size_t)snprintf(s + n, 64, ",\"URL\":\"deep\"}");
	CU_ASSERT_EQUAL(mk12_http_request_decode(&r, (uint8_t *)s, n), 0);
	CU_ASSERT(r.url && !strcmp(r.url, "deep"));
	mk12_http_request_release(&r);

	n = (size_t)snprintf(s, 64, "{\"x\":");
	for (size_t i = 0; i < depth; i++)
		s[n++] = '[';
	for (size_t i = 0; i < depth; i++)
		s[n++] = ']';
	n += (size_t)snprintf(s + n, 64, "}");
	CU_ASSERT_EQUAL(mk12_http_request_decode(&r, (uint8_t *)s, n),
			EFS_ECORRUPT);
	free(s);
}

/* Whatever the encoder writes, the decoder reads back. */
static void test_mk12_http__round_trip(void)
{
	struct mk12_http_header h[] = {
		{ "Authorization", "Bearer \"x\"\n" },
		{ "X-\xc3\xbc", "<&>\xe2\x80\xa8" },
	};
	struct mk12_http_request r = { "https://h.example/a?b=c&d=<e>", h, 2 };
	struct mk12_http_request back;
	struct buf b = BUF_INIT(BUF_NOCAP);

	CU_ASSERT_EQUAL_FATAL(mk12_http_request_encode(&b, &r), 0);
	CU_ASSERT_EQUAL_FATAL(mk12_http_request_decode(&back, b.ptr, b.len),
			      0);
	CU_ASSERT_STRING_EQUAL(back.url, r.url);
	CU_ASSERT_EQUAL(back.nheaders, 2);
	CU_ASSERT_STRING_EQUAL(header(&back, "Authorization"), h[0].value);
	CU_ASSERT_STRING_EQUAL(header(&back, "X-\xc3\xbc"), h[1].value);
	mk12_http_request_release(&back);
	buf_release(&b);
}

static int alloc_run(void *payload)
{
	const char *json = "{\"URL\":\"http://x/y.car\",\"Headers\":{\"a\":"
			   "\"1\",\"b\":\"2\"},\"Headers\":{\"a\":\"3\"}}";
	struct mk12_http_request r;
	struct buf b = BUF_INIT(BUF_NOCAP);
	int rc = decode_str(&r, json);

	(void)payload;
	if (rc == 0) {
		rc = mk12_http_request_encode(&b, &r);
		mk12_http_request_release(&r);
	}
	if (rc == 0 && strcmp((char *)b.ptr, "{\"URL\":\"http://x/y.car\","
			      "\"Headers\":{\"a\":\"3\",\"b\":\"2\"}}"))
		rc = EFS_ERROR;
	buf_release(&b);
	if (rc == 0) {
		memset(&r, 0, sizeof(r));
		rc = mk12_http_request_set_header(&r, "k", "v");
		if (rc == 0)
			rc = mk12_http_request_set_header(&r, "k", "w");
		mk12_http_request_release(&r);
	}
	return rc;
}

static void test_mk12_http__alloc(void)
{
	CU_ASSERT(harness_alloc_loop(alloc_run, NULL) > 5);
}

static CU_TestInfo tests[] = {
	{ "encode", test_mk12_http__encode },
	{ "encode_errors", test_mk12_http__encode_errors },
	{ "decode", test_mk12_http__decode },
	{ "corrupt", test_mk12_http__corrupt },
	{ "depth", test_mk12_http__depth },
	{ "round_trip", test_mk12_http__round_trip },
	{ "alloc", test_mk12_http__alloc },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ "mk12_http", NULL, NULL, NULL, NULL, tests })
