/*
 * api_rest_public.c - Estuary's public figures and its SP routes over
 * the node's own state (see docs/api.md), listed in api_rest.c's table:
 *
 *	GET /public/stats                  PUBLIC totals: content, objects,
 *	                                          bytes, deals, local/evicted
 *	GET /public/miners                 PUBLIC every SP the dealer knows
 *	GET /public/miners/stats/{miner}   PUBLIC one SP, its deals, its log
 *	GET /public/miners/deals/{miner}   PUBLIC its deals (?ignore-failed)
 *	GET /content/bandwidth             READ   bytes per SP, commit or day
 *
 * Design notes:
 * - The SP objects are `estuaryfs miners --json`'s (dealview_miner_json)
 *   with Estuary's names added (addr, suspended, suspendedReason,
 *   dealCount, errorCount, usedStorage, chainInfo).
 * - /public/stats reads counters, not rows: the blockstore's totals
 *   table (evict_totals_read), one GROUP BY over the deals
 *   (deals_count_states) and the commit list; and one request a second
 *   reads them, the others are served that answer (a read opens the
 *   index's connections: about 3 ms, which 100 clients would pay on
 *   every request).  Estuary cached its stats for minutes.
 */
#include "api/api_rest_i.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "dealer/evict.h"
#include "dealer/miners.h"

#include "core/banned.h"

/* Log rows /public/miners/stats shows by default, and at most. */
/* Seconds an answer of /public/stats is served again. */
#define REST_STATS_TTL 1.0
#define REST_LOG_DEFAULT 20
#define REST_LOG_MAX 1000
#define REST_DEALS_DEFAULT 1000
#define REST_DEALS_MAX 100000

/* ---- GET /public/stats -------------------------------------------------- */

struct stats {
	uint64_t commits, pieced_bytes, bytes;
	struct deals_state_counts deals;
	struct evict_totals blocks;
};

static int stats_read(struct stats *st, struct dealview *v)
{
	struct dealview_commits cs = { 0 };
	int rc;

	memset(st, 0, sizeof(*st));
	if ((rc = dealview_list_commits(&cs, v)) < 0)
		return rc;
	st->commits = cs.n;
	for (size_t i = 0; i < cs.n; i++) {
		const struct dealview_commit *c = &cs.v[i];
		uint64_t size = c->size ? c->size : c->pc.car_size;

		st->bytes += size;
		if (c->in_store && c->pc.stage == PIECE_STAGE_PIECED)
			st->pieced_bytes += c->pc.car_size;
	}
	dealview_commits_release(&cs);
	if (v->deals && (rc = deals_count_states(&st->deals, v->deals)) < 0)
		return rc;
	if (v->has_index && (rc = evict_totals_read(&st->blocks, v->db)) < 0) {
		if (rc != EFS_ENOTFOUND)
			return rc;
		efs_error_clear();
	}
	return 0;
}

static json_t *jstats(const struct stats *st, bool *bad)
{
	const struct deals_state_counts *d = &st->deals;
	json_t *o = json_object(), *by = json_object();

	if (!o || !by) {
		json_decref(o);
		json_decref(by);
		*bad = true;
		return NULL;
	}
	for (int s = 0; s < DEALS_NSTATES; s++)
		if (strcmp(deals_state_name((enum deal_state)s), "unknown"))
			dealview_jset(by, deals_state_name((enum deal_state)s),
				      dealview_jint(d->deals[s]), bad);
	/* Estuary's names */
	dealview_jset(o, "totalStorage", dealview_jint(st->pieced_bytes), bad);
	dealview_jset(o, "totalFilesStored", dealview_jint(st->commits), bad);
	dealview_jset(o, "dealsOnChain",
		      dealview_jint(d->deals[DEAL_PUBLISHED] +
				    d->deals[DEAL_ACTIVE]), bad);
	dealview_jset(o, "totalObjectsRef",
		      dealview_jint(st->blocks.local_blocks +
				    st->blocks.evicted_blocks), bad);
	dealview_jset(o, "totalBytesUploaded", dealview_jint(st->bytes), bad);
	dealview_jset(o, "totalUsers", json_integer(1), bad);
	dealview_jset(o, "totalStorageMiner",
		      dealview_jint(d->miners[DEAL_ACTIVE]), bad);
	/* ours */
	dealview_jset(o, "commits", dealview_jint(st->commits), bad);
	dealview_jset(o, "local_blocks", dealview_jint(st->blocks.local_blocks),
		      bad);
	dealview_jset(o, "local_bytes", dealview_jint(st->blocks.local_bytes),
		      bad);
	dealview_jset(o, "evicted_blocks",
		      dealview_jint(st->blocks.evicted_blocks), bad);
	dealview_jset(o, "evicted_bytes",
		      dealview_jint(st->blocks.evicted_bytes), bad);
	dealview_jset(o, "active_padded_bytes",
		      dealview_jint(d->padded[DEAL_ACTIVE]), bad);
	dealview_jset(o, "deals_by_state", by, bad);
	return o;
}

/* o as compact JSON text (efs_free it), or NULL out of memory. */
static char *json_text(size_t *len, const json_t *o)
{
	size_t n = json_dumpb(o, NULL, 0, JSON_COMPACT);
	char *text;

	if (!n || !(text = efs_malloc(n + 1)))
		return NULL;
	*len = json_dumpb(o, text, n, JSON_COMPACT);
	text[n] = '\0';
	return text;
}

/* The stats as JSON text (owned), or NULL with the reply (an error)
 * sent. */
static char *stats_make(size_t *len, struct http_req *req,
			struct api_server *s)
{
	struct dealview v;
	struct stats st;
	bool bad = false;
	json_t *o = NULL;
	char *text = NULL;
	int rc;

	if (!api_rest_view(&v, req, s))
		goto out;
	if ((rc = stats_read(&st, &v)) == 0 && (o = jstats(&st, &bad)) && bad) {
		json_decref(o);
		o = NULL;
	}
	if (rc == 0 && o && !(text = json_text(len, o)))
		rc = efs_error_set(EFS_ENOMEM, "api: out of memory");
	if (!text)
		api_reply_result(req, rc, json_incref(o));
	json_decref(o);
out:
	dealview_release(&v);
	return text;
}

/*
 * One request a second makes the figures; the others get that answer
 * (a load of many clients costs one set of queries a second, and the
 * figures are at most a second old).  While one request makes the next
 * answer, the others get the last one; only the very first requests,
 * with nothing made yet, each make their own.
 */
void api_rest_route_stats(struct http_req *req, struct api_server *s)
{
	double now = efs_clock_mono();
	char *text = NULL, *made;
	size_t len = 0;
	bool mine;

	pthread_mutex_lock(&s->stats.mu);
	mine = !s->stats.busy &&
	       (!s->stats.json || now - s->stats.at >= REST_STATS_TTL);
	if (mine)
		s->stats.busy = true;
	else if (s->stats.json && (text = efs_strdup(s->stats.json)))
		len = s->stats.len;
	pthread_mutex_unlock(&s->stats.mu);
	if (text) {
		http_reply(req, 200, "application/json", text, len);
		efs_free(text);
		return;
	}
	made = stats_make(&len, req, s);
	if (made)
		http_reply(req, 200, "application/json", made, len);
	if (!mine) {
		efs_free(made);
		return;
	}
	pthread_mutex_lock(&s->stats.mu);
	s->stats.busy = false;
	if (made) {
		efs_free(s->stats.json);
		s->stats.json = made;
		s->stats.len = len;
		s->stats.at = now;
	}
	pthread_mutex_unlock(&s->stats.mu);
}

/* ---- the SPs ------------------------------------------------------------ */

/* An SP with Estuary's names beside ours. */
static json_t *jminer(const struct miner_record *r, int64_t now_ns, bool *bad)
{
	json_t *o = dealview_miner_json(r, now_ns, bad);
	char addr[FILADDR_STR_MAX];

	if (!o)
		return NULL;
	filaddr_format(addr, &r->addr, 'f');
	dealview_jset(o, "addr", json_string(addr), bad);
	dealview_jset(o, "suspended", json_boolean(r->disabled), bad);
	dealview_jset(o, "suspendedReason", dealview_jstr(r->disabled_reason),
		      bad);
	return o;
}

struct table {
	json_t *arr;
	int64_t now_ns;
	bool bad;
};

static int miner_cb(const struct miner_record *r, void *cls)
{
	struct table *t = cls;

	if (json_array_append_new(t->arr, jminer(r, t->now_ns, &t->bad)) < 0)
		t->bad = true;
	return 0;
}

void api_rest_route_miners(struct http_req *req, struct api_server *s)
{
	struct table t = { json_array(), efs_clock_real_ns(), false };
	struct miners *m = NULL;
	struct dealview v;
	int rc;

	if (!api_rest_view(&v, req, s))
		goto out;
	if ((rc = api_rest_miners(&m, &v)) == 0 && m)
		rc = miners_foreach(m, miner_cb, &t);
	if (rc == 0 && (t.bad || !t.arr))
		rc = efs_error_set(EFS_ENOMEM, "out of memory");
	api_reply_result(req, rc, rc == 0 ? json_incref(t.arr) : NULL);
out:
	json_decref(t.arr);
	miners_close(m);
	dealview_release(&v);
}

/* "f01000", "t01000" or "1000" into an ID address. */
static int miner_parse(struct filaddr *out, const char *s)
{
	if (*s >= '0' && *s <= '9') {
		if (strspn(s, "0123456789") != strlen(s) || strlen(s) > 18)
			goto bad;
		filaddr_init_id(out, strtoull(s, NULL, 10));
		return 0;
	}
	if (filaddr_parse(out, NULL, s, strlen(s)) == 0 &&
	    out->protocol == FILADDR_ID)
		return 0;
bad:
	return efs_error_set(EFS_EINVAL, "'%s' is not a storage provider ID "
			     "(f0...)", s);
}

/* The SP named by the path after prefix, and the view: false when the
 * reply is sent already. */
static bool miner_request(struct filaddr *a, struct dealview *v,
			  struct http_req *req, struct api_server *s,
			  const char *prefix)
{
	memset(v, 0, sizeof(*v));
	if (miner_parse(a, api_rest_tail(req, prefix)) < 0) {
		api_reply_error(req, 400, "BAD_REQUEST", "%s", efs_error_msg());
		return false;
	}
	return api_rest_view(v, req, s);
}

struct log_walk {
	json_t *arr;
	bool bad;
};

static int event_cb(const struct miner_event *ev, void *cls)
{
	struct log_walk *w = cls;

	if (json_array_append_new(w->arr, dealview_event_json(ev, &w->bad)))
		w->bad = true;
	return 0;
}

/* What miner_deal_counts adds up over one SP's deals. */
struct deal_counts {
	const struct filaddr *miner;
	uint64_t deals, errors, used;
};

static int count_cb(const struct deal *d, void *cls)
{
	struct deal_counts *c = cls;

	if (!filaddr_equal(&d->miner, c->miner))
		return 0;
	c->deals++;
	if (d->state == DEAL_FAILED || d->state == DEAL_REJECTED ||
	    d->state == DEAL_SLASHED)
		c->errors++;
	if (d->state == DEAL_ACTIVE)
		c->used += d->padded;
	return 0;
}

/* dealCount, errorCount, usedStorage of the SP's deals. */
static int miner_deal_counts(json_t *o, struct dealview *v,
			     const struct filaddr *a, bool *bad)
{
	struct deal_counts c = { .miner = a };
	int rc = 0;

	if (v->deals)
		rc = deals_foreach(v->deals, -1, false, count_cb, &c);
	dealview_jset(o, "dealCount", dealview_jint(c.deals), bad);
	dealview_jset(o, "errorCount", dealview_jint(c.errors), bad);
	dealview_jset(o, "usedStorage", dealview_jint(c.used), bad);
	return rc;
}

void api_rest_route_miner_stats(struct http_req *req, struct api_server *s)
{
	struct log_walk w = { json_array(), false };
	struct miner_record r = { 0 };
	struct miners *m = NULL;
	struct dealview v;
	struct filaddr a;
	uint64_t limit;
	json_t *o = NULL;
	int rc;

	memset(&v, 0, sizeof(v));
	if ((rc = api_rest_query_uint(&limit, req, "log", REST_LOG_DEFAULT,
				      REST_LOG_MAX)) < 0) {
		api_reply_result(req, rc, NULL);
		goto out;
	}
	if (!miner_request(&a, &v, req, s, "/public/miners/stats/"))
		goto out;
	if ((rc = api_rest_miners(&m, &v)) == 0 && !m)
		rc = efs_error_set(EFS_ENOTFOUND, "no storage provider is "
				   "known yet");
	if (rc == 0 && (rc = miners_get(&r, m, &a)) == 0 &&
	    (o = jminer(&r, efs_clock_real_ns(), &w.bad))) {
		dealview_jset(o, "miner", json_incref(json_object_get(o,
							"address")), &w.bad);
		dealview_jset(o, "chainInfo", json_pack("{s:O}", "peerId",
				json_object_get(o, "peer_id")), &w.bad);
		rc = miner_deal_counts(o, &v, &a, &w.bad);
		if (rc == 0 && limit && w.arr)
			rc = miners_log_foreach(m, &a, 0, (size_t)limit,
						event_cb, &w);
		dealview_jset(o, "log", json_incref(w.arr), &w.bad);
	}
	if (rc == 0 && (w.bad || !o))
		rc = efs_error_set(EFS_ENOMEM, "out of memory");
	api_reply_result(req, rc, o);
out:
	miners_record_release(&r);
	json_decref(w.arr);
	miners_close(m);
	dealview_release(&v);
}

void api_rest_route_miner_deals(struct http_req *req, struct api_server *s)
{
	struct dealview v;
	struct filaddr a;
	struct api_rest_deals w = { .miner = &a };

	w.ignore_failed = http_req_query(req, "ignore-failed") != NULL;
	if (!api_rest_deals_query(&w, req, REST_DEALS_DEFAULT, REST_DEALS_MAX))
		return;
	if (miner_request(&a, &v, req, s, "/public/miners/deals/"))
		api_rest_deals_reply(req, &w, &v);
	dealview_release(&v);
}

/* ---- GET /content/bandwidth --------------------------------------------- */

struct bw {
	enum miners_bw_by by;
	json_t *arr;
	bool bad;
	uint64_t sent, fetched;
};

static int bw_cb(const struct miners_bw_row *row, void *cls)
{
	struct bw *b = cls;
	char key[FILADDR_STR_MAX];
	json_t *o = json_object(), *k;

	if (b->by == MINERS_BW_BY_SP) {
		filaddr_format(key, &row->addr, 'f');
		k = json_string(key);
	} else if (b->by == MINERS_BW_BY_DAY) {
		efs_clock_format(key, sizeof(key),
				 row->day * 86400 * MINERS_NS_PER_SEC,
				 "%Y-%m-%d");
		k = json_string(key);
	} else {
		k = row->commit_id > 0 ? json_integer(row->commit_id)
				       : json_null();
	}
	if (!o || json_array_append_new(b->arr, o) < 0) {
		json_decref(k);
		b->bad = true;
		return 0;
	}
	dealview_jset(o, b->by == MINERS_BW_BY_SP ? "sp"
		      : b->by == MINERS_BW_BY_DAY ? "day" : "commit", k,
		      &b->bad);
	dealview_jset(o, "sent", dealview_jint(row->sent), &b->bad);
	dealview_jset(o, "fetched", dealview_jint(row->fetched), &b->bad);
	b->sent += row->sent;
	b->fetched += row->fetched;
	return 0;
}

/* ?by=sp|commit|day, ?commit=ID, ?sp=f0..., ?days=N into b and f. */
static int bw_parse(struct bw *b, struct miners_bw_filter *f,
		    struct filaddr *sp, struct http_req *req, int64_t now_ns)
{
	const char *by = http_req_query(req, "by"), *m;
	uint64_t commit, days;
	int rc;

	b->by = MINERS_BW_BY_SP;
	if (by && !strcmp(by, "commit"))
		b->by = MINERS_BW_BY_COMMIT;
	else if (by && !strcmp(by, "day"))
		b->by = MINERS_BW_BY_DAY;
	else if (by && strcmp(by, "sp"))
		return efs_error_set(EFS_EINVAL, "by: want sp, commit or day, "
				     "not '%s'", by);
	if ((rc = api_rest_query_uint(&commit, req, "commit", 0,
				      INT64_MAX)) < 0 ||
	    (rc = api_rest_query_uint(&days, req, "days", 0, 100000)) < 0)
		return rc;
	f->commit_id = commit ? (int64_t)commit : -1;
	if (days)
		f->since_day = now_ns / (86400 * MINERS_NS_PER_SEC) -
			       (int64_t)days + 1;
	if ((m = http_req_query(req, "sp"))) {
		if ((rc = miner_parse(sp, m)) < 0)
			return rc;
		f->addr = sp;
	}
	return 0;
}

void api_rest_route_bandwidth(struct http_req *req, struct api_server *s)
{
	struct miners_bw_filter f = MINERS_BW_FILTER_INIT;
	struct bw b = { .arr = json_array() };
	struct miners *m = NULL;
	struct dealview v;
	struct filaddr sp;
	json_t *o = NULL;
	int rc;

	memset(&v, 0, sizeof(v));
	if ((rc = bw_parse(&b, &f, &sp, req, efs_clock_real_ns())) < 0) {
		api_reply_result(req, rc, NULL);
		goto out;
	}
	if (!api_rest_view(&v, req, s))
		goto out;
	if ((rc = api_rest_miners(&m, &v)) == 0 && m && b.arr)
		rc = miners_bandwidth_foreach(m, b.by, &f, bw_cb, &b);
	if (rc == 0 && !b.bad && b.arr)
		o = json_pack("{s:s,s:O,s:I,s:I}", "by", b.by == MINERS_BW_BY_SP
			      ? "sp" : b.by == MINERS_BW_BY_DAY ? "day"
			      : "commit", "rows", b.arr, "sent",
			      (json_int_t)(b.sent > INT64_MAX ? INT64_MAX
					   : b.sent), "fetched",
			      (json_int_t)(b.fetched > INT64_MAX ? INT64_MAX
					   : b.fetched));
	api_reply_result(req, rc, o);
out:
	json_decref(b.arr);
	miners_close(m);
	dealview_release(&v);
}
