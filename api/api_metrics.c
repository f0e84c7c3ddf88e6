/*
 * api_metrics.c - GET /metrics in the Prometheus text exposition format
 * (text/plain; version=0.0.4), see api_metrics.h and docs/api.md:
 *
 *	efs_blocks{state}             gauge    blocks LOCAL / EVICTED
 *	efs_block_bytes{state}        gauge    their bytes
 *	efs_deals{state}              gauge    deals per state
 *	efs_retrieval_*_total         counter  retriever_stats
 *	efs_retrieval_job_seconds     histogram  retriever_latency
 *	efs_retrieval_fetch_seconds   histogram
 *	efs_fuse_ops_total{op}        counter  a mount's FUSE operations
 *	efs_fuse_op_errors_total{op}  counter  (fs/fsstats.h, through
 *	efs_fuse_op_seconds{op}       histogram  api_server_opts.fs_ops)
 *	efs_http_requests_total{route,code}  counter
 *
 * Design notes:
 * - Blocks come from the blockstore's totals table and deals from one
 *   GROUP BY (deals_count_states), each over a read-only connection of
 *   this request, so a scrape costs two small queries.
 * - HTTP requests are counted in a fixed table of (route pattern,
 *   status) under a mutex: api_server.c's handler calls
 *   api_metrics_count once per request after the reply is queued.  The
 *   route is the pattern, never the path, so the series stay few.
 * - Counters only grow while the process lives (Prometheus' rule); a
 *   gauge is read fresh at each scrape.
 * - Histograms (core/lathist.h) have the same buckets everywhere, 10 us
 *   to 60 s.  The FUSE ops' counters are shown for every op (0 until
 *   used), their histograms only once an op was seen, which keeps a
 *   scrape of an idle mount short.
 */
#include "api/api_metrics.h"

#include <inttypes.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "api/api_i.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"
#include "dealer/deals.h"
#include "dealer/evict.h"
#include "retrieval/retriever.h"

#include "core/banned.h"

/* The Prometheus text format's content type. */
#define METRICS_CTYPE "text/plain; version=0.0.4; charset=utf-8"

/* A scrape's cap: far above what the series here can take. */
#define METRICS_BODY_MAX (4u << 20)

struct series {
	const char *route;
	unsigned status;
	uint64_t n;
};

static pthread_mutex_t http_lock = PTHREAD_MUTEX_INITIALIZER;
static struct series http_series[API_METRICS_SERIES_MAX];
static size_t http_nseries;

void api_metrics_count(const char *route, unsigned status)
{
	size_t i;

	if (!route)
		route = "none";
	if (status == 0)
		status = 500;
	pthread_mutex_lock(&http_lock);
	for (i = 0; i < http_nseries; i++)
		if (http_series[i].status == status &&
		    (http_series[i].route == route ||
		     !strcmp(http_series[i].route, route)))
			break;
	if (i == http_nseries && http_nseries == API_METRICS_SERIES_MAX - 1) {
		/* the last slot gathers what has no room */
		route = "other";
		i = http_nseries;
	}
	if (i == http_nseries) {
		http_series[i].route = route;
		http_series[i].status = status;
		http_nseries++;
	}
	http_series[i].n++;
	pthread_mutex_unlock(&http_lock);
}

/* ---- the exposition ----------------------------------------------------- */

static int head(struct buf *b, const char *name, const char *type,
		const char *help)
{
	return buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
			  type);
}

static int blocks(struct buf *b, const char *db)
{
	struct evict_totals t;
	int rc = evict_totals_read(&t, db);

	if (rc == EFS_ENOTFOUND) {
		efs_error_clear();
		return 0;
	}
	if (rc < 0)
		return rc;
	if ((rc = head(b, "efs_blocks", "gauge", "Blocks in the blockstore, "
		       "by state.")) < 0 ||
	    (rc = buf_printf(b, "efs_blocks{state=\"local\"} %" PRIu64 "\n"
			     "efs_blocks{state=\"evicted\"} %" PRIu64 "\n",
			     t.local_blocks, t.evicted_blocks)) < 0 ||
	    (rc = head(b, "efs_block_bytes", "gauge", "Bytes of the blocks in "
		       "the blockstore, by state.")) < 0)
		return rc;
	return buf_printf(b, "efs_block_bytes{state=\"local\"} %" PRIu64 "\n"
			  "efs_block_bytes{state=\"evicted\"} %" PRIu64 "\n",
			  t.local_bytes, t.evicted_bytes);
}

static int deals(struct buf *b, const char *db)
{
	struct deals_state_counts c;
	struct deals *ds = NULL;
	int rc = deals_open_ro(&ds, db);

	if (rc == EFS_ENOTFOUND) {
		efs_error_clear();
		return 0;
	}
	if (rc == 0)
		rc = deals_count_states(&c, ds);
	deals_close(ds);
	if (rc < 0 || (rc = head(b, "efs_deals", "gauge", "Deals of the "
				 "dealer, by state.")) < 0)
		return rc;
	for (int s = 0; s < DEALS_NSTATES && rc == 0; s++)
		if (strcmp(deals_state_name((enum deal_state)s), "unknown"))
			rc = buf_printf(b, "efs_deals{state=\"%s\"} %" PRIu64
					"\n", deals_state_name(
						(enum deal_state)s),
					c.deals[s]);
	return rc;
}

/*
 * The samples of histogram name for h: name_bucket{labels le="..."},
 * name_sum (seconds) and name_count.  labels is "" or ends in a comma
 * ("op=\"read\","), already escaped.
 */
static int histogram(struct buf *b, const char *name, const char *labels,
		     const struct lathist_snap *h)
{
	size_t n = strlen(labels);
	int rc = 0;

	for (unsigned i = 0; i < LATHIST_NBUCKETS && rc == 0; i++)
		rc = buf_printf(b, "%s_bucket{%sle=\"%s\"} %" PRIu64 "\n",
				name, labels, lathist_bound_label(i),
				h->bucket[i]);
	/* labels without the trailing comma, in braces, or nothing */
	if (rc == 0)
		rc = buf_printf(b, "%s_sum%s%.*s%s %.9f\n", name, n ? "{" : "",
				(int)(n ? n - 1 : 0), labels, n ? "}" : "",
				(double)h->sum_ns / 1e9);
	if (rc == 0)
		rc = buf_printf(b, "%s_count%s%.*s%s %" PRIu64 "\n", name,
				n ? "{" : "", (int)(n ? n - 1 : 0), labels,
				n ? "}" : "", h->count);
	return rc;
}

static int retrieval(struct buf *b, struct retriever *r)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} counters[] = {
#define C(f, h) { "efs_retrieval_" #f "_total", h, \
		  offsetof(struct retriever_stats, f) }
		C(jobs, "Retrieval jobs started."),
		C(joined, "Fetches that waited on another's job."),
		C(prefetches, "Background read-ahead windows started."),
		C(requests, "HTTP requests sent to SPs and IPNI."),
		C(piece_requests, "Of those, /piece ranges."),
		C(gateway_requests, "Of those, /ipfs requests."),
		C(ipni_requests, "Of those, IPNI lookups."),
		C(rejected, "Replies rejected (bad bytes, short)."),
		C(blocks, "Blocks retrieved, verified and stored."),
		C(bytes, "Bytes of those blocks."),
		C(bytes_down, "Body bytes received, all requests."),
		C(fetch_failed, "Fetches of a block that waited and failed."),
#undef C
	};
	struct retriever_latency lat;
	struct retriever_stats st;
	int rc = 0;

	if (!r)
		return 0;
	retriever_stats(&st, r);
	retriever_latency(&lat, r);
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]) &&
			   rc == 0; i++) {
		uint64_t v;

		memcpy(&v, (const char *)&st + counters[i].off, sizeof(v));
		if ((rc = head(b, counters[i].name, "counter",
			       counters[i].help)) == 0)
			rc = buf_printf(b, "%s %" PRIu64 "\n",
					counters[i].name, v);
	}
	if (rc == 0 &&
	    (rc = head(b, "efs_retrieval_job_seconds", "histogram",
		       "How long retrieval jobs ran.")) == 0)
		rc = histogram(b, "efs_retrieval_job_seconds", "", &lat.job);
	if (rc == 0 &&
	    (rc = head(b, "efs_retrieval_fetch_seconds", "histogram",
		       "How long fetches of a block not local waited.")) == 0)
		rc = histogram(b, "efs_retrieval_fetch_seconds", "",
			       &lat.fetch);
	return rc;
}

/* A label value escaped as the format wants (\\, \", \n). */
static int label(struct buf *b, const char *s)
{
	int rc = 0;

	for (; *s && rc == 0; s++)
		rc = *s == '\\' ? buf_adds(b, "\\\\")
		     : *s == '"' ? buf_adds(b, "\\\"")
		     : *s == '\n' ? buf_adds(b, "\\n")
		     : buf_addch(b, (uint8_t)*s);
	return rc;
}

/* A mount's FUSE operations: counts and errors of every op, the
 * latency histograms of those seen. */
static int fuse_ops(struct buf *b, struct api_server *s)
{
	struct api_fs_op v[API_FS_OPS_MAX];
	char labels[96];
	size_t n;
	int rc;

	if (!s->fs_ops)
		return 0;
	n = s->fs_ops(v, API_FS_OPS_MAX, s->fs_ops_cls);
	rc = head(b, "efs_fuse_ops_total", "counter", "FUSE operations "
		  "answered, by operation.");
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = buf_printf(b, "efs_fuse_ops_total{op=\"%s\"} %" PRIu64
				"\n", v[i].name, v[i].lat.count);
	if (rc == 0)
		rc = head(b, "efs_fuse_op_errors_total", "counter", "FUSE "
			  "operations answered with an errno, by operation.");
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = buf_printf(b, "efs_fuse_op_errors_total{op=\"%s\"} %"
				PRIu64 "\n", v[i].name, v[i].errors);
	if (rc == 0)
		rc = head(b, "efs_fuse_op_seconds", "histogram", "How long "
			  "FUSE operations took, from call to reply.");
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!v[i].lat.count)
			continue;
		snprintf(labels, sizeof(labels), "op=\"%s\",", v[i].name);
		rc = histogram(b, "efs_fuse_op_seconds", labels, &v[i].lat);
	}
	return rc;
}

static int http(struct buf *b)
{
	struct series v[API_METRICS_SERIES_MAX];
	size_t n;
	int rc;

	pthread_mutex_lock(&http_lock);
	n = http_nseries;
	memcpy(v, http_series, n * sizeof(v[0]));
	pthread_mutex_unlock(&http_lock);
	rc = head(b, "efs_http_requests_total", "counter", "HTTP requests "
		  "answered, by route pattern and status.");
	for (size_t i = 0; i < n && rc == 0; i++)
		if ((rc = buf_adds(b, "efs_http_requests_total{route=\"")) ==
			    0 &&
		    (rc = label(b, v[i].route)) == 0)
			rc = buf_printf(b, "\",code=\"%u\"} %" PRIu64 "\n",
					v[i].status, v[i].n);
	return rc;
}

static void route_metrics(struct http_req *req, struct api_server *s)
{
	struct buf b;
	char *db = NULL;
	size_t n;
	int rc = 0;

	buf_init(&b, METRICS_BODY_MAX);
	if (s->repo) {
		n = strlen(s->repo) + sizeof("/index.db");
		if (!(db = efs_malloc(n)))
			rc = efs_error_set(EFS_ENOMEM, "out of memory");
		else
			snprintf(db, n, "%s/index.db", s->repo);
	}
	if (rc == 0 && db && (rc = blocks(&b, db)) == 0)
		rc = deals(&b, db);
	if (rc == 0)
		rc = retrieval(&b, atomic_load(&s->retr));
	if (rc == 0)
		rc = fuse_ops(&b, s);
	if (rc == 0)
		rc = http(&b);
	if (rc < 0)
		api_reply_error(req, 500, "INTERNAL", "%s", efs_error_msg());
	else
		http_reply(req, 200, METRICS_CTYPE, b.ptr, b.len);
	efs_free(db);
	buf_release(&b);
}

const struct api_route api_metrics_routes[] = {
	{ "GET", "/metrics", route_metrics, API_PUBLIC },
};
const size_t api_metrics_nroutes =
	sizeof(api_metrics_routes) / sizeof(api_metrics_routes[0]);
