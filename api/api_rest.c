/*
 * api_rest.c - Estuary's read routes over the node's own state (see
 * docs/api.md): commits as content with their replication, a content's
 * deals, a deal's receipt, what deals would cost, and lookup by CID.
 *
 *	GET  /content/list               READ   every commit, paged
 *	GET  /content/{id}               READ   one, with its deals
 *	GET  /content/status/{id}        READ   the same (Estuary's name)
 *	GET  /content/deals?content=ID   READ   its deals
 *	GET  /deals/status/{key}         READ   deal ID, UUID or proposal CID
 *	POST /deals/estimate             READ   {"size","replication",
 *	                                         "durationBlks","verified"}
 *	GET  /public/by-cid/{cid}        PUBLIC the commits holding cid
 *
 * Design notes:
 * - Every figure comes from dealer/dealview.h, the code behind
 *   `estuaryfs status`, `deals`, `deal show` and `estimate`, so the API
 *   and the terminal never disagree; JSON names are the CLI's, with
 *   Estuary's names added where Estuary had the field (cid, name, size,
 *   replication, offloaded, createdAt; totalFil, totalAttoFil, asks).
 * - Each request opens its own read-only view of index.db (its own
 *   sqlite connections): nothing is shared between connection threads,
 *   and a dealer writing meanwhile is never waited on (WAL).
 * - A "content" is a commit: its ID is the commit ID; a root CID works
 *   too (its latest commit).
 */
#include "api/api_rest_i.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "dealer/miners.h"

#include "core/banned.h"

/* Pages of /content/list: Estuary's default and cap. */
#define REST_LIMIT_DEFAULT 100
#define REST_LIMIT_MAX 10000

/* Sizes /deals/estimate takes: up to 1 PiB. */
#define REST_SIZE_MAX (1ull << 50)

/* ---- shared (api_rest_i.h) ---------------------------------------------- */

bool api_rest_view(struct dealview *v, struct http_req *req,
		   struct api_server *s)
{
	const char *repo = api_need_repo(req, s);
	int rc;

	memset(v, 0, sizeof(*v));
	if (!repo)
		return false;
	if ((rc = dealview_open(v, repo, s->commit_log)) < 0) {
		api_reply_error(req, 500, "INTERNAL", "%s", efs_error_msg());
		return false;
	}
	return true;
}

int api_rest_miners(struct miners **out, const struct dealview *v)
{
	struct miners_opts opts = MINERS_OPTS_INIT;
	int rc;

	*out = NULL;
	if (!v->has_index)
		return 0;
	opts.read_only = true;
	rc = miners_open(out, v->db, &opts);
	return rc == EFS_ENOTFOUND ? 0 : rc;
}

int api_rest_query_uint(uint64_t *out, struct http_req *req,
			const char *name, uint64_t def, uint64_t max)
{
	const char *s = http_req_query(req, name);
	unsigned long long n;
	char *end;

	*out = def;
	if (!s)
		return 0;
	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 19)
		goto bad;
	n = strtoull(s, &end, 10);
	if (*end || n > max)
		goto bad;
	*out = n;
	return 0;
bad:
	return efs_error_set(EFS_EINVAL, "query %s: want an integer from 0 "
			     "to %" PRIu64, name, max);
}

const char *api_rest_tail(struct http_req *req, const char *prefix)
{
	return http_req_path(req) + strlen(prefix);
}

/* ---- content: the commits ----------------------------------------------- */

/*
 * A commit as content: the status object (dealview_commit_json) with
 * Estuary's names for the fields it had.
 */
static json_t *jcontent(struct dealview *v, const struct dealview_commit *c,
			int *rc)
{
	struct dealview_state st;
	bool bad = false;
	json_t *o = NULL;

	if ((*rc = dealview_commit_state(&st, v, c)) == 0 &&
	    (o = dealview_commit_json(c, &st, &bad))) {
		dealview_jset(o, "cid", dealview_jcid(&c->root), &bad);
		dealview_jset(o, "name", dealview_jstr(c->path), &bad);
		dealview_jset(o, "size", dealview_jint(c->size ? c->size
						       : c->pc.car_size), &bad);
		dealview_jset(o, "replication", json_integer(st.want), &bad);
		dealview_jset(o, "offloaded",
			      json_boolean(st.evicted_blocks > 0), &bad);
		dealview_jset(o, "createdAt", dealview_jtime(c->time), &bad);
	}
	dealview_state_release(&st);
	if (*rc == 0 && (bad || !o))
		*rc = efs_error_set(EFS_ENOMEM, "out of memory");
	if (*rc < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void route_content_list(struct http_req *req, struct api_server *s)
{
	struct dealview_commits cs = { 0 };
	uint64_t limit, offset;
	struct dealview v;
	json_t *arr = NULL, *o;
	int rc;

	if ((rc = api_rest_query_uint(&limit, req, "limit", REST_LIMIT_DEFAULT,
				      REST_LIMIT_MAX)) < 0 ||
	    (rc = api_rest_query_uint(&offset, req, "offset", 0,
				      INT64_MAX)) < 0) {
		api_reply_result(req, rc, NULL);
		return;
	}
	if (!api_rest_view(&v, req, s))
		goto out;
	if ((rc = dealview_list_commits(&cs, &v)) == 0 &&
	    !(arr = json_array()))
		rc = efs_error_set(EFS_ENOMEM, "out of memory");
	for (size_t i = offset; rc == 0 && i < cs.n && i - offset < limit;
	     i++)
		if ((o = jcontent(&v, &cs.v[i], &rc)) &&
		    json_array_append_new(arr, o) < 0)
			rc = efs_error_set(EFS_ENOMEM, "out of memory");
	api_reply_result(req, rc, arr);
out:
	dealview_commits_release(&cs);
	dealview_release(&v);
}

/* The commit key names: an ID, else the latest commit of that root. */
static int content_find(struct dealview_commit **out,
			struct dealview_commits *cs, const char *key)
{
	unsigned long long id;
	struct cid root;
	char *end;

	*out = NULL;
	if (*key && strspn(key, "0123456789") == strlen(key) &&
	    strlen(key) <= 18) {
		id = strtoull(key, &end, 10);
		if ((*out = dealview_commits_find(cs, (int64_t)id)))
			return 0;
		return efs_error_set(EFS_ENOTFOUND, "no content %llu", id);
	}
	if (cid_parse(&root, key) < 0)
		return efs_error_set(EFS_EINVAL, "'%s' is neither a content ID "
				     "nor a CID", key);
	for (size_t i = cs->n; i-- > 0;)
		if (cid_equal(&cs->v[i].root, &root)) {
			*out = &cs->v[i];
			return 0;
		}
	return efs_error_set(EFS_ENOTFOUND, "no content with root %s", key);
}

int api_rest_deal_cb(const struct deal *d, void *cls)
{
	struct api_rest_deals *w = cls;

	if (w->miner && !filaddr_equal(&d->miner, w->miner))
		return 0;
	if (w->ignore_failed && !deal_state_live(d->state) &&
	    d->state != DEAL_EXPIRED)
		return 0;
	if (w->n++ < w->skip || w->n - w->skip > w->limit)
		return 0;
	if (json_array_append_new(w->arr, dealview_deal_json(d, &w->bad)) < 0)
		w->bad = true;
	return 0;
}

bool api_rest_deals_query(struct api_rest_deals *w, struct http_req *req,
			  uint64_t def, uint64_t max)
{
	int rc;

	if ((rc = api_rest_query_uint(&w->limit, req, "limit", def, max)) < 0 ||
	    (rc = api_rest_query_uint(&w->skip, req, "offset", 0,
				      INT64_MAX)) < 0) {
		api_reply_result(req, rc, NULL);
		return false;
	}
	return true;
}

void api_rest_deals_reply(struct http_req *req, struct api_rest_deals *w,
			  const struct dealview *v)
{
	int rc = 0;

	if (!(w->arr = json_array()))
		rc = efs_error_set(EFS_ENOMEM, "out of memory");
	else if (v->deals)
		rc = deals_foreach(v->deals, -1, false, api_rest_deal_cb, w);
	if (rc == 0 && w->bad)
		rc = efs_error_set(EFS_ENOMEM, "out of memory");
	api_reply_result(req, rc, w->arr);
	w->arr = NULL;
}

static int piece_cb(const struct piece_info *p, const struct piece_member *m,
		    void *cls)
{
	struct dealview *v = ((void **)cls)[0];
	struct api_rest_deals *w = ((void **)cls)[1];

	(void)m;
	return v->deals
		   ? deals_foreach(v->deals, p->id, false, api_rest_deal_cb, w)
		   : 0;
}

/* The deals of the pieces holding commit c, as an array. */
static int commit_deals(json_t **out, struct dealview *v,
			const struct dealview_commit *c)
{
	struct api_rest_deals w = { .arr = json_array(), .limit = UINT64_MAX };
	void *cls[2] = { v, &w };
	int rc = 0;

	*out = NULL;
	if (!w.arr)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	if (c->in_store && v->ps)
		rc = piece_commit_foreach(v->ps, c->id, piece_cb, cls);
	if (rc == 0 && w.bad)
		rc = efs_error_set(EFS_ENOMEM, "out of memory");
	if (rc < 0) {
		json_decref(w.arr);
		return rc;
	}
	*out = w.arr;
	return 0;
}

/* {"content": ..., "deals": [...], "failuresCount": N} for key. */
static void content_reply(struct http_req *req, struct api_server *s,
			  const char *key, bool deals_only)
{
	struct dealview_commits cs = { 0 };
	struct dealview_commit *c;
	struct dealview v;
	json_t *o = NULL, *deals = NULL, *content = NULL;
	size_t failed = 0;
	int rc;

	if (!api_rest_view(&v, req, s))
		goto out;
	if ((rc = dealview_list_commits(&cs, &v)) == 0 &&
	    (rc = content_find(&c, &cs, key)) == 0 &&
	    (rc = commit_deals(&deals, &v, c)) == 0 &&
	    (deals_only || (content = jcontent(&v, c, &rc)))) {
		for (size_t i = 0; i < json_array_size(deals); i++) {
			const char *st = json_string_value(json_object_get(
				json_array_get(deals, i), "state"));

			failed += st && (!strcmp(st, "failed") ||
					 !strcmp(st, "rejected") ||
					 !strcmp(st, "slashed"));
		}
		o = deals_only ? json_pack("{s:I,s:o}", "content",
					   (json_int_t)c->id, "deals", deals)
			       : json_pack("{s:o,s:o,s:I}", "content", content,
					   "deals", deals, "failuresCount",
					   (json_int_t)failed);
		deals = content = NULL;
	}
	json_decref(deals);
	json_decref(content);
	api_reply_result(req, rc, o);
out:
	dealview_commits_release(&cs);
	dealview_release(&v);
}

static void route_content(struct http_req *req, struct api_server *s)
{
	const char *key = api_rest_tail(req, "/content/");

	if (!strncmp(key, "status/", 7))
		key += 7;
	content_reply(req, s, key, false);
}

static void route_content_deals(struct http_req *req, struct api_server *s)
{
	const char *key = http_req_query(req, "content");

	if (!key || !*key) {
		api_reply_error(req, 400, "BAD_REQUEST", "want ?content=ID (a "
				"content ID or root CID)");
		return;
	}
	content_reply(req, s, key, true);
}

/* ---- deals -------------------------------------------------------------- */

static void route_deal_status(struct http_req *req, struct api_server *s)
{
	const char *key = api_rest_tail(req, "/deals/status/");
	uint8_t uuid[DEAL_UUID_LEN];
	struct deal d = { 0 };
	struct dealview v;
	struct cid id;
	json_t *o = NULL;
	int rc;

	if (!*key || (strspn(key, "0123456789") != strlen(key) &&
		      deals_uuid_parse(uuid, key) < 0 &&
		      cid_parse(&id, key) < 0)) {
		api_reply_error(req, 400, "BAD_REQUEST", "'%s' is neither a "
				"deal ID, a deal UUID nor a proposal CID", key);
		return;
	}
	if (!api_rest_view(&v, req, s))
		goto out;
	if (!v.deals)
		rc = efs_error_set(EFS_ENOTFOUND, "no deal %s (no deal was "
				   "made in this repository)", key);
	else if ((rc = deals_find(&d, v.deals, key)) == 0)
		rc = dealview_receipt_json(&o, &v, &d);
	api_reply_result(req, rc, o);
out:
	deals_release(&d);
	dealview_release(&v);
}

/* ---- POST /deals/estimate ----------------------------------------------- */

struct est_args {
	uint64_t size;
	unsigned replication;    /* 0: the configuration's */
	int64_t duration;        /* 0: the configuration's */
	bool verified;
	bool has_verified;
};

/* Estuary's body: {"size":N,"replication":N,"durationBlks":N,
 * "verified":bool}; size is needed, the others default to config.json. */
static int est_parse(struct est_args *a, struct http_req *req)
{
	const uint8_t *body;
	json_t *v, *x;
	size_t len;
	int rc = 0;

	memset(a, 0, sizeof(*a));
	body = http_req_body(req, &len);
	v = json_loadb((const char *)body, len, 0, NULL);
	if (!json_is_object(v)) {
		rc = efs_error_set(EFS_EINVAL, "want a JSON object {\"size\": "
				   "N, \"replication\": N, \"durationBlks\": "
				   "N, \"verified\": bool}");
		goto out;
	}
	x = json_object_get(v, "size");
	if (!json_is_integer(x) || json_integer_value(x) <= 0 ||
	    (uint64_t)json_integer_value(x) > REST_SIZE_MAX) {
		rc = efs_error_set(EFS_EINVAL, "size: want bytes from 1 to "
				   "%llu", (unsigned long long)REST_SIZE_MAX);
		goto out;
	}
	a->size = (uint64_t)json_integer_value(x);
	if ((x = json_object_get(v, "replication")) &&
	    (!json_is_integer(x) || json_integer_value(x) <= 0 ||
	     json_integer_value(x) > CONFIG_REPLICATION_MAX)) {
		rc = efs_error_set(EFS_EINVAL, "replication: want 1 to %d",
				   CONFIG_REPLICATION_MAX);
		goto out;
	}
	a->replication = x ? (unsigned)json_integer_value(x) : 0;
	if ((x = json_object_get(v, "durationBlks")) &&
	    (!json_is_integer(x) || json_integer_value(x) <= 0 ||
	     json_integer_value(x) > INT32_MAX)) {
		rc = efs_error_set(EFS_EINVAL, "durationBlks: want epochs "
				   "from 1 to %d", INT32_MAX);
		goto out;
	}
	a->duration = x ? json_integer_value(x) : 0;
	if ((x = json_object_get(v, "verified")) && !json_is_boolean(x)) {
		rc = efs_error_set(EFS_EINVAL, "verified: want true or false");
		goto out;
	}
	a->has_verified = x != NULL;
	a->verified = json_is_true(x);
out:
	json_decref(v);
	return rc;
}

/* The dealer's last FIL/USD rate (its report's "price"), if any. */
static bool est_rate(double *out, const struct dealview *v)
{
	json_t *p = dealview_report(v, "price");
	const char *s = json_string_value(json_object_get(p, "fil_usd"));
	char *end;

	if (!s)
		return false;
	*out = strtod(s, &end);
	return end != s && !*end && *out > 0;
}

/* Estuary's totals: the one the request asked for (verified or not). */
static void est_estuary(json_t *o, bool verified, bool *bad)
{
	json_t *t = json_object_get(o, verified ? "verified" : "unverified");
	json_t *fil = json_object_get(t, "fil");

	dealview_jset(o, "totalFil", json_incref(json_object_get(fil, "fil")),
		      bad);
	dealview_jset(o, "totalAttoFil",
		      json_incref(json_object_get(fil, "attofil")), bad);
	dealview_jset(o, "asks", json_incref(json_object_get(o, "sps")), bad);
}

static void route_estimate(struct http_req *req, struct api_server *s)
{
	struct dealview_est e = { 0 };
	struct est_args a;
	struct dealview v;
	bool bad = false, has_rate;
	double rate;
	json_t *o = NULL;
	int rc;

	if ((rc = est_parse(&a, req)) < 0) {
		api_reply_result(req, rc, NULL);
		return;
	}
	if (!api_rest_view(&v, req, s))
		goto out;
	e.n = a.replication ? a.replication : v.cfg.replication;
	e.duration = a.duration ? a.duration : v.cfg.duration;
	if (!a.has_verified)
		a.verified = v.cfg.verified;
	has_rate = est_rate(&rate, &v);
	if ((rc = dealview_est_car(&e, &v.cfg, a.size)) == 0 &&
	    (rc = dealview_est_offers(&e, &v)) == 0 &&
	    !(o = json_object()))
		rc = efs_error_set(EFS_ENOMEM, "out of memory");
	if (rc == 0) {
		dealview_jset(o, "size", dealview_jint(a.size), &bad);
		dealview_jset(o, "replication", json_integer(e.n), &bad);
		dealview_jset(o, "duration_epochs", json_integer(e.duration),
			      &bad);
		dealview_jset(o, "verified_deals", json_boolean(a.verified),
			      &bad);
		dealview_jset(o, "aggregated", json_boolean(e.aggregated),
			      &bad);
		dealview_jset(o, "fil_usd", has_rate ? json_real(rate)
						     : json_null(), &bad);
		rc = dealview_est_json(o, &e, has_rate ? &rate : NULL, &bad);
		if (rc == 0)
			est_estuary(o, a.verified, &bad);
		if (rc == 0 && bad)
			rc = efs_error_set(EFS_ENOMEM, "out of memory");
	}
	api_reply_result(req, rc, o);
out:
	dealview_est_release(&e);
	dealview_release(&v);
}

/* ---- GET /public/by-cid/{cid} ------------------------------------------- */

struct lookup {
	struct dealview *v;
	struct dealview_commits *cs;
	json_t *arr;
	int64_t last;             /* the commit added last (walks repeat) */
	bool bad;
};

static int lookup_add(struct lookup *l, int64_t commit_id, const char *how)
{
	struct dealview_commit *c = dealview_commits_find(l->cs, commit_id);
	json_t *o, *deals;
	int rc = 0;

	if (!c || commit_id == l->last)
		return 0;
	l->last = commit_id;
	if (!(o = jcontent(l->v, c, &rc)))
		return rc;
	dealview_jset(o, "match", json_string(how), &l->bad);
	if ((rc = commit_deals(&deals, l->v, c)) < 0) {
		json_decref(o);
		return rc;
	}
	dealview_jset(o, "deals", deals, &l->bad);
	return json_array_append_new(l->arr, o) < 0
		       ? efs_error_set(EFS_ENOMEM, "out of memory") : 0;
}

static int block_cb(int64_t commit_id, void *cls)
{
	return lookup_add(cls, commit_id, "block");
}

static int lookup_deals(json_t **out, struct dealview *v, const struct cid *id)
{
	struct api_rest_deals w = { .arr = json_array(), .limit = UINT64_MAX };
	int rc = 0;

	*out = NULL;
	if (!w.arr)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	if (v->deals)
		rc = deals_foreach_piece_cid_any(v->deals, id, api_rest_deal_cb,
						 &w);
	if (rc == 0 && w.bad)
		rc = efs_error_set(EFS_ENOMEM, "out of memory");
	if (rc < 0) {
		json_decref(w.arr);
		return rc;
	}
	*out = w.arr;
	return 0;
}

static void route_by_cid(struct http_req *req, struct api_server *s)
{
	const char *key = api_rest_tail(req, "/public/by-cid/");
	struct dealview_commits cs = { 0 };
	struct lookup l = { .last = -1 };
	struct dealview v;
	json_t *deals = NULL, *o = NULL;
	struct cid id;
	int rc;

	if (cid_parse(&id, key) < 0) {
		api_reply_error(req, 400, "BAD_REQUEST", "%s", efs_error_msg());
		return;
	}
	if (!api_rest_view(&v, req, s))
		goto out;
	l.v = &v;
	l.cs = &cs;
	if ((rc = dealview_list_commits(&cs, &v)) == 0 &&
	    !(l.arr = json_array()))
		rc = efs_error_set(EFS_ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < cs.n; i++)
		if (cid_equal(&cs.v[i].root, &id))
			rc = lookup_add(&l, cs.v[i].id, "root");
	if (rc == 0 && v.ps)
		rc = piece_block_commits(v.ps, &id, block_cb, &l);
	if (rc == 0)
		rc = lookup_deals(&deals, &v, &id);
	if (rc == 0 && !json_array_size(l.arr) && !json_array_size(deals))
		rc = efs_error_set(EFS_ENOTFOUND, "%s is in no commit, block "
				   "or piece of this node", key);
	if (rc == 0)
		o = json_pack("{s:s,s:O,s:O}", "cid", key, "content", l.arr,
			      "pieceDeals", deals);
	json_decref(deals);
	json_decref(l.arr);
	api_reply_result(req, rc, o);
out:
	dealview_commits_release(&cs);
	dealview_release(&v);
}

/* ---- the table ---------------------------------------------------------- */

/*
 * The prefix "/content/" answers every other path under it: api_server.c
 * lists this table after the tables with routes of their own there
 * (POST /content/add, ...), so theirs win.
 */
const struct api_route api_rest_routes[] = {
	{ "GET", "/public/stats", api_rest_route_stats, API_PUBLIC },
	{ "GET", "/public/miners", api_rest_route_miners, API_PUBLIC },
	{ "GET", "/public/miners/stats/", api_rest_route_miner_stats,
	  API_PUBLIC },
	{ "GET", "/public/miners/deals/", api_rest_route_miner_deals,
	  API_PUBLIC },
	{ "GET", "/public/by-cid/", route_by_cid, API_PUBLIC },
	{ "GET", "/content/list", route_content_list, API_READ },
	{ "GET", "/content/deals", route_content_deals, API_READ },
	{ "GET", "/content/bandwidth", api_rest_route_bandwidth, API_READ },
	{ "GET", "/content/", route_content, API_READ },
	{ "GET", "/deals/status/", route_deal_status, API_READ },
	{ "POST", "/deals/estimate", route_estimate, API_READ },
};
const size_t api_rest_nroutes =
	sizeof(api_rest_routes) / sizeof(api_rest_routes[0]);
