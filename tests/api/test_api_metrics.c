/*
 * test_api_metrics.c - GET /metrics (api/api_metrics.c) over loopback,
 * against the repository tests/cli/status_fill.c writes (meson passes
 * the program in REST_FILL): the content type of the Prometheus text
 * format, every line of the body parses as a comment, a HELP/TYPE line
 * or a sample, the gauges agree with the fill (blocks, deals by state),
 * and the HTTP request counters count each request once and only grow.
 * Histograms: a retriever's fetch and job latencies once one is set (a
 * fetch that fails at once: no source), and a mount's FUSE operations
 * from a stand-in for fs/fsstats.h (api_server_opts.fs_ops); every
 * histogram's buckets grow with le and end in +Inf equal to _count.
 */
#include "api/api_server.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_token.h"
#include "core/bstore.h"
#include "core/error.h"
#include "core/lathist.h"
#include "core/mhash.h"
#include "net/httpc.h"
#include "retrieval/retriever.h"
#include "tests/harness.h"

static char *tmp;
static struct api_server *srv;

static int suite_setup(void)
{
	const char *fill = getenv("REST_FILL");
	struct api_server_opts o = { 0 };
	char cmd[1024];

	if (!fill || httpc_global_init() < 0 || !(tmp = harness_tmpdir()))
		return 1;
	snprintf(cmd, sizeof(cmd), "'%s' '%s' >/dev/null", fill, tmp);
	if (system(cmd) != 0)
		return 1;
	o.repo = tmp;
	return api_server_start(&srv, "127.0.0.1:0", &o) < 0;
}

static int suite_teardown(void)
{
	api_server_stop(srv);
	harness_tmpdir_free(tmp);
	return 0;
}

/* GET path of server s; the status; the body into out (released by
 * the caller with httpc_resp_release). */
static long get_from(struct httpc_resp *out, struct api_server *s,
		     const char *path)
{
	char url[512];
	struct httpc_req req = HTTPC_REQ_INIT("GET", url);

	snprintf(url, sizeof(url), "%s%s", api_server_url(s), path);
	CU_ASSERT_EQUAL_FATAL(httpc_do(out, &req), 0);
	return out->status;
}

static long get(struct httpc_resp *out, const char *path)
{
	return get_from(out, srv, path);
}

static bool name_ok(const char **p)
{
	const char *s = *p;

	if (!isalpha((unsigned char)*s) && *s != '_' && *s != ':')
		return false;
	while (isalnum((unsigned char)*s) || *s == '_' || *s == ':')
		s++;
	*p = s;
	return true;
}

/* One line of the text format: comment, HELP/TYPE, or a sample
 * name{label="value",...} number. */
static bool line_ok(const char *l)
{
	const char *p = l;
	char *end;

	if (!strncmp(l, "# HELP ", 7) || !strncmp(l, "# TYPE ", 7)) {
		p = l + 7;
		if (!name_ok(&p) || *p != ' ')
			return false;
		if (l[2] == 'T')
			return !strcmp(p + 1, "counter") ||
			       !strcmp(p + 1, "gauge") ||
			       !strcmp(p + 1, "histogram") ||
			       !strcmp(p + 1, "summary") ||
			       !strcmp(p + 1, "untyped");
		return true;
	}
	if (*l == '#')
		return true;
	if (!name_ok(&p))
		return false;
	if (*p == '{') {
		p++;
		while (*p != '}') {
			if (!name_ok(&p) || *p++ != '=' || *p++ != '"')
				return false;
			while (*p && *p != '"')
				p += *p == '\\' && p[1] ? 2 : 1;
			if (*p++ != '"')
				return false;
			if (*p == ',')
				p++;
			else if (*p != '}')
				return false;
		}
		p++;
	}
	if (*p++ != ' ')
		return false;
	strtod(p, &end);
	return end != p && !*end;
}

/* The value of the sample whose name and labels are exactly key, or
 * -1. */
static double sample(const char *body, const char *key)
{
	size_t n = strlen(key);

	for (const char *p = body; p && *p; p = strchr(p, '\n'), p = p ? p + 1
								      : NULL)
		if (!strncmp(p, key, n) && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

static void test_metrics__format(void)
{
	struct httpc_resp r;
	char *body, *line, *save = NULL;
	size_t lines = 0;

	CU_ASSERT_EQUAL_FATAL(get(&r, "/metrics"), 200);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.content_type);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.content_type, "text/plain"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.content_type, "version=0.0.4"));
	body = (char *)r.body.ptr;
	CU_ASSERT(r.body.len > 0 && body[r.body.len - 1] == '\n');
	for (line = strtok_r(body, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save), lines++) {
		if (!line_ok(line))
			fprintf(stderr, "bad line: %s\n", line);
		CU_ASSERT(line_ok(line));
	}
	CU_ASSERT(lines > 20);
	httpc_resp_release(&r);
	/* the parser itself rejects what is not the format */
	CU_ASSERT(!line_ok("efs_x{a=\"b} 1"));
	CU_ASSERT(!line_ok("efs x 1"));
	CU_ASSERT(!line_ok("efs_x one"));
	CU_ASSERT(!line_ok("# TYPE efs_x gauges"));
}

static void test_metrics__values(void)
{
	struct httpc_resp r;
	const char *b;

	CU_ASSERT_EQUAL_FATAL(get(&r, "/metrics"), 200);
	b = (const char *)r.body.ptr;
	CU_ASSERT(sample(b, "efs_blocks{state=\"local\"}") > 0);
	CU_ASSERT(sample(b, "efs_blocks{state=\"evicted\"}") > 0);
	CU_ASSERT(sample(b, "efs_block_bytes{state=\"evicted\"}") > 0);
	CU_ASSERT_EQUAL(sample(b, "efs_deals{state=\"active\"}"), 10);
	CU_ASSERT_EQUAL(sample(b, "efs_deals{state=\"published\"}"), 1);
	CU_ASSERT_EQUAL(sample(b, "efs_deals{state=\"slashed\"}"), 0);
	/* no retriever set: no retrieval series */
	CU_ASSERT_PTR_NULL(strstr(b, "efs_retrieval_"));
	httpc_resp_release(&r);
}

/* Each request counted once, under its route pattern and status; the
 * counters never go down. */
static void test_metrics__http_counters(void)
{
	static const char *const keys[] = {
		"efs_http_requests_total{route=\"/public/stats\",code=\"200\"}",
		"efs_http_requests_total{route=\"none\",code=\"404\"}",
		"efs_http_requests_total{route=\"/metrics\",code=\"200\"}",
	};
	double before[3], after[3];
	struct httpc_resp r;

	CU_ASSERT_EQUAL_FATAL(get(&r, "/public/stats"), 200);
	httpc_resp_release(&r);
	CU_ASSERT_EQUAL_FATAL(get(&r, "/metrics"), 200);
	for (int i = 0; i < 3; i++)
		before[i] = sample((const char *)r.body.ptr, keys[i]);
	httpc_resp_release(&r);
	CU_ASSERT(before[0] >= 1);
	get(&r, "/public/stats");
	httpc_resp_release(&r);
	get(&r, "/public/stats");
	httpc_resp_release(&r);
	CU_ASSERT_EQUAL(get(&r, "/no/such/route"), 404);
	httpc_resp_release(&r);
	CU_ASSERT_EQUAL_FATAL(get(&r, "/metrics"), 200);
	for (int i = 0; i < 3; i++)
		after[i] = sample((const char *)r.body.ptr, keys[i]);
	httpc_resp_release(&r);
	CU_ASSERT_EQUAL(after[0], before[0] + 2);
	CU_ASSERT_EQUAL(after[1], (before[1] < 0 ? 0 : before[1]) + 1);
	/* the scrape before this one was counted after it was made */
	CU_ASSERT_EQUAL(after[2], before[2] + 1);
}

/*
 * The histogram name{labels} in body is whole: LATHIST_NBUCKETS buckets
 * in order of le, never decreasing, the last +Inf and equal to
 * name_count{labels}, and a name_sum{labels}.  labels: "" or
 * "op=\"read\"".  Returns its count, or -1.
 */
static double histogram_check(const char *body, const char *name,
			      const char *labels)
{
	char key[256];
	double prev = 0, v, count;

	for (unsigned i = 0; i < LATHIST_NBUCKETS; i++) {
		snprintf(key, sizeof(key), "%s_bucket{%s%sle=\"%s\"}", name,
			 labels, *labels ? "," : "", lathist_bound_label(i));
		v = sample(body, key);
		if (v < prev) {
			fprintf(stderr, "%s: %g after %g\n", key, v, prev);
			return -1;
		}
		prev = v;
	}
	snprintf(key, sizeof(key), "%s_count%s%s%s", name, *labels ? "{" : "",
		 labels, *labels ? "}" : "");
	count = sample(body, key);
	snprintf(key, sizeof(key), "%s_sum%s%s%s", name, *labels ? "{" : "",
		 labels, *labels ? "}" : "");
	if (count != prev || sample(body, key) < 0)
		return -1;
	return count;
}

/* A retriever set: its counters and two histograms appear; a fetch of
 * a block nobody has fails at once and is counted in both. */
static void test_metrics__retrieval(void)
{
	struct retriever_opts ro = RETRIEVER_OPTS_INIT;
	struct bstore_opts bo = BSTORE_OPTS_INIT;
	struct retriever *r = NULL;
	struct bstore *bs = NULL;
	struct httpc_resp resp;
	char db[512];
	const char *b;
	struct cid id;

	snprintf(db, sizeof(db), "%s/index.db", tmp);
	CU_ASSERT_EQUAL_FATAL(bstore_open(&bs, tmp, &bo), 0);
	ro.other_max = 0; /* no location, no IPNI, no one else: ENOTFOUND */
	ro.timeout_ms = 5000;
	CU_ASSERT_EQUAL_FATAL(retriever_open(&r, bs, db, &ro), 0);
	api_server_set_retriever(srv, r);
	CU_ASSERT_EQUAL(cid_hash(&id, 1, CID_CODEC_RAW, MHASH_SHA2_256,
				 "not stored", 10), 0);
	CU_ASSERT(retriever_fetch(r, &id, 0) < 0);
	CU_ASSERT_EQUAL(retriever_wait_idle(r, 5000), 0);
	CU_ASSERT_EQUAL_FATAL(get(&resp, "/metrics"), 200);
	b = (const char *)resp.body.ptr;
	CU_ASSERT_EQUAL(sample(b, "efs_retrieval_jobs_total"), 1);
	CU_ASSERT_EQUAL(sample(b, "efs_retrieval_fetch_failed_total"), 1);
	CU_ASSERT_EQUAL(histogram_check(b, "efs_retrieval_fetch_seconds", ""),
			1);
	CU_ASSERT_EQUAL(histogram_check(b, "efs_retrieval_job_seconds", ""),
			1);
	/* it failed at once: well under the 5 s deadline */
	CU_ASSERT_EQUAL(sample(b, "efs_retrieval_fetch_seconds_bucket"
				  "{le=\"2.5\"}"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(b, "# TYPE efs_retrieval_fetch_seconds "
					 "histogram\n"));
	httpc_resp_release(&resp);
	api_server_set_retriever(srv, NULL);
	retriever_close(r);
	bstore_close(bs);
}

/* A stand-in for a mount's fs/fsstats.h: getattr 3 times (one slow),
 * write once with an error, lookup never. */
static size_t fake_fs_ops(struct api_fs_op *out, size_t max, void *cls)
{
	static struct lathist getattr, write, lookup;
	static bool done;

	(void)cls;
	CU_ASSERT(max >= 3);
	if (!done) {
		lathist_record(&getattr, 4000);
		lathist_record(&getattr, 30000);
		lathist_record(&getattr, 2000000000);
		lathist_record(&write, 700000);
		done = true;
	}
	out[0].name = "lookup";
	out[0].errors = 0;
	lathist_read(&out[0].lat, &lookup);
	out[1].name = "getattr";
	out[1].errors = 0;
	lathist_read(&out[1].lat, &getattr);
	out[2].name = "write";
	out[2].errors = 1;
	lathist_read(&out[2].lat, &write);
	return 3;
}

static void test_metrics__fuse(void)
{
	struct api_server_opts o = { .fs_ops = fake_fs_ops };
	struct api_server *s = NULL;
	struct httpc_resp r;
	char *body, *line, *save = NULL;
	const char *b;

	/* the suite's server has no mount */
	CU_ASSERT_EQUAL_FATAL(get(&r, "/metrics"), 200);
	CU_ASSERT_PTR_NULL(strstr((const char *)r.body.ptr, "efs_fuse_"));
	httpc_resp_release(&r);

	CU_ASSERT_EQUAL_FATAL(api_server_start(&s, "127.0.0.1:0", &o), 0);
	CU_ASSERT_EQUAL_FATAL(get_from(&r, s, "/metrics"), 200);
	b = (const char *)r.body.ptr;
	CU_ASSERT_EQUAL(sample(b, "efs_fuse_ops_total{op=\"getattr\"}"), 3);
	CU_ASSERT_EQUAL(sample(b, "efs_fuse_ops_total{op=\"lookup\"}"), 0);
	CU_ASSERT_EQUAL(sample(b, "efs_fuse_ops_total{op=\"write\"}"), 1);
	CU_ASSERT_EQUAL(sample(b, "efs_fuse_op_errors_total{op=\"write\"}"),
			1);
	CU_ASSERT_EQUAL(sample(b, "efs_fuse_op_errors_total"
				  "{op=\"getattr\"}"), 0);
	CU_ASSERT_EQUAL(histogram_check(b, "efs_fuse_op_seconds",
					"op=\"getattr\""), 3);
	CU_ASSERT_EQUAL(histogram_check(b, "efs_fuse_op_seconds",
					"op=\"write\""), 1);
	CU_ASSERT_EQUAL(sample(b, "efs_fuse_op_seconds_bucket"
				  "{op=\"getattr\",le=\"0.00001\"}"), 1);
	CU_ASSERT_EQUAL(sample(b, "efs_fuse_op_seconds_bucket"
				  "{op=\"getattr\",le=\"0.00005\"}"), 2);
	CU_ASSERT_EQUAL(sample(b, "efs_fuse_op_seconds_bucket"
				  "{op=\"getattr\",le=\"1\"}"), 2);
	CU_ASSERT(fabs(sample(b, "efs_fuse_op_seconds_sum{op=\"getattr\"}") -
		       2.000034) < 1e-6);
	/* an op never seen has counters but no histogram yet */
	CU_ASSERT_EQUAL(sample(b, "efs_fuse_op_seconds_count"
				  "{op=\"lookup\"}"), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(b, "# TYPE efs_fuse_op_seconds "
					 "histogram\n"));
	body = (char *)r.body.ptr;
	for (line = strtok_r(body, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!line_ok(line))
			fprintf(stderr, "bad line: %s\n", line);
		CU_ASSERT(line_ok(line));
	}
	httpc_resp_release(&r);
	api_server_stop(s);
}

static CU_TestInfo metrics_tests[] = {
	{ "format", test_metrics__format },
	{ "values", test_metrics__values },
	{ "http_counters", test_metrics__http_counters },
	{ "retrieval", test_metrics__retrieval },
	{ "fuse", test_metrics__fuse },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "metrics", .pInitFunc = suite_setup,
	       .pCleanupFunc = suite_teardown, .pTests = metrics_tests })
