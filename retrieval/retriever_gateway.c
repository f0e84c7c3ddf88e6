/*
 * retriever_gateway.c - the IPFS trustless gateway as a fallback and for
 * CIDs the node did not deal: one block (GET /ipfs/{cid}?format=car&
 * dag-scope=block, read with core/car.h's reader, whose every section is
 * hashed), a whole DAG (dag-scope=all, streamed through carstream), and
 * the IPNI indexer that names providers (GET /cid/{cid}).
 *
 * Design notes:
 * - Both Accept and ?format= ask for a CARv1 (the spec says send both;
 *   the query wins).  A 404 from an SP that has no deal for the block is
 *   expected (we are probing) and not held against it; from an SP that
 *   holds the block's piece it is a rejection.
 * - A whole-DAG CAR may hold blocks outside the DAG asked for, or lack
 *   some (an SP that holds only part of it).  Only blocks reachable from
 *   the root through blocks already kept are stored (a set of wanted
 *   multihashes, fed by each kept block's links); the caller's walk finds
 *   what is missing.
 */
#define LOG_TOPIC "retrieval"
#include "retrieval/retriever_i.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/bstore.h"
#include "core/car.h"
#include "core/links.h"
#include "core/log.h"
#include "net/httpc.h"
#include "retrieval/carstream.h"
#include "retrieval/ipni_find.h"

#include "core/banned.h"

#define CAR_ACCEPT \
	"Accept: application/vnd.ipld.car; version=1; order=dfs; dups=y"

static unsigned connect_ms(int64_t left)
{
	return left < HTTPC_CONNECT_TIMEOUT_MS ? (unsigned)left
					       : HTTPC_CONNECT_TIMEOUT_MS;
}

/* A failed gateway request: record it (404 only from a deal's SP). */
static int gateway_failed(struct retriever *r, struct rjob *j,
			  const struct rsrc *s, int rc,
			  const struct httpc_resp *resp, const char *why)
{
	enum miners_outcome o = retriever_outcome(rc, resp);
	char who[RET_URL_MAX + 16];

	if (rc == 0 && resp->status == 404)
		o = MINERS_OUT_REJECTED;
	if (o != MINERS_OUT_REJECTED || s->piece_id >= 0)
		retriever_record(r, s, o, resp, NULL, 0, why);
	if (o == MINERS_OUT_GARBAGE)
		RET_STAT(r, rejected, 1);
	retriever_src_name(who, sizeof(who), s);
	if (j)
		retriever_job_tried(j, RET_WAY_GATEWAY, s, o, resp->status);
	return efs_error_set(o == MINERS_OUT_TIMEOUT ? EFS_ETIMEDOUT : EFS_EIO,
			     "retrieval: %s /ipfs: %s", who, why);
}

/* The one block the CAR in body must hold: e's, verified. */
static int block_from_car(const struct httpc_resp *resp,
			  const struct cid *want, const uint8_t **data,
			  size_t *len, struct car_reader **rd)
{
	struct car_block b;
	int rc;

	if ((rc = car_reader_open_mem(rd, resp->body.ptr, resp->body.len)) < 0)
		return rc;
	while ((rc = car_reader_next(*rd, &b)) == 0)
		if (cid_mh_equal(&b.info.id, want)) {
			*data = b.data;
			*len = b.info.block_len;
			return 0;
		}
	if (rc == EFS_ITEROVER)
		rc = efs_error_set(EFS_ECORRUPT,
				   "car reply without the block asked for");
	return rc;
}

int retriever_gateway_block(struct retriever *r, struct rjob *j,
			    const struct rsrc *s, struct rentry *e)
{
	char url[RET_URL_MAX + CID_STR_MAX + 48], cs[CID_STR_MAX], why[300];
	const char *hdrs[] = { CAR_ACCEPT, NULL };
	struct httpc_req req = HTTPC_REQ_INIT("GET", url);
	struct car_reader *rd = NULL;
	struct httpc_resp resp;
	int64_t left = retriever_left_ms(r, j);
	const uint8_t *data = NULL;
	size_t len = 0;
	int rc;

	if (left <= 0)
		return efs_error_set(EFS_ETIMEDOUT,
				     "retrieval: deadline passed");
	snprintf(url, sizeof(url), "%s/ipfs/%s?format=car&dag-scope=block",
		 s->url, cid_tostr(cs, &e->id));
	req.headers = hdrs;
	req.max_body = RET_GATEWAY_BODY_MAX;
	req.timeout_ms = (unsigned)left;
	req.connect_timeout_ms = connect_ms(left);
	pthread_mutex_lock(&r->mu);
	r->st.requests++;
	r->st.gateway_requests++;
	pthread_mutex_unlock(&r->mu);
	rc = httpc_do(&resp, &req);
	RET_STAT(r, bytes_down, resp.bytes_down);
	if (rc == 0 && resp.status != 200) {
		snprintf(why, sizeof(why), "HTTP %ld", resp.status);
		goto out_failed;
	}
	if (rc < 0 || (rc = block_from_car(&resp, &e->id, &data, &len,
					   &rd)) < 0) {
		snprintf(why, sizeof(why), "%s", efs_error_msg());
		goto out_failed;
	}
	/* The reader hashed it under its own CID: the same multihash. */
	if ((rc = bstore_put(r->bs, &e->id, data, len)) < 0)
		goto out;
	retriever_cache_put(r, &e->id, data, len);
	retriever_record(r, s, MINERS_OUT_OK, &resp, NULL, 0, NULL);
	pthread_mutex_lock(&r->mu);
	e->len = len;
	pthread_mutex_unlock(&r->mu);
	retriever_entry_done(r, e, 0);
	goto out;
out_failed:
	rc = gateway_failed(r, j, s, rc, &resp, why);
out:
	car_reader_free(rd);
	httpc_resp_release(&resp);
	return rc;
}

/* ---- a whole DAG ---- */

struct dag_feed {
	struct retriever *r;
	struct rset wanted;
	struct carstream cs;
	struct rgateway_dag got;
	int local;                /* a failure of ours, not the SP's */
};

static int want_link(const struct cid *id, void *cls)
{
	struct dag_feed *f = cls;
	bool added;

	if (cid_is_identity(id))
		return 0;
	return retriever_set_add(&f->wanted, id, &added);
}

static int dag_block(void *cls, const struct cid *id, const uint8_t *data,
		     size_t len)
{
	struct dag_feed *f = cls;
	bool had;
	int rc;

	if (!retriever_set_del(&f->wanted, id))
		return 0; /* not (yet) linked from what we kept: dropped */
	if ((had = bstore_has(f->r->bs, id)))
		rc = 0;
	else
		rc = bstore_put(f->r->bs, id, data, len);
	if (rc < 0 || (rc = links_foreach(id, data, len, want_link, f)) < 0) {
		if (rc != EFS_ECORRUPT && rc != EFS_EUNSUPPORTED)
			f->local = rc;
		return rc;
	}
	if (!had) {
		f->got.blocks++;
		f->got.bytes += len;
	}
	return 0;
}

static int dag_sink(void *cls, const uint8_t *data, size_t len)
{
	struct dag_feed *f = cls;

	if (f->r->stopping)
		return efs_error_set(EFS_ECANCELED, "retrieval: closing");
	return carstream_feed(&f->cs, data, len);
}

int retriever_gateway_dag(struct rgateway_dag *out, struct retriever *r,
			  const struct rsrc *s, const struct cid *root,
			  unsigned timeout_ms)
{
	char url[RET_URL_MAX + CID_STR_MAX + 48], cs[CID_STR_MAX], why[300];
	const char *hdrs[] = { CAR_ACCEPT, NULL };
	struct httpc_req req = HTTPC_REQ_INIT("GET", url);
	struct dag_feed f = { .r = r };
	struct httpc_resp resp;
	bool added;
	int rc;

	memset(out, 0, sizeof(*out));
	retriever_set_init(&f.wanted);
	carstream_init(&f.cs, 0, dag_block, &f);
	if ((rc = retriever_set_add(&f.wanted, root, &added)) < 0)
		goto out_free;
	snprintf(url, sizeof(url), "%s/ipfs/%s?format=car&dag-scope=all",
		 s->url, cid_tostr(cs, root));
	req.headers = hdrs;
	req.timeout_ms = timeout_ms;
	req.connect_timeout_ms = connect_ms(timeout_ms);
	req.sink = dag_sink;
	req.sink_cls = &f;
	pthread_mutex_lock(&r->mu);
	r->st.requests++;
	r->st.gateway_requests++;
	pthread_mutex_unlock(&r->mu);
	rc = httpc_do(&resp, &req);
	pthread_mutex_lock(&r->mu);
	r->st.bytes_down += resp.bytes_down;
	r->st.blocks += f.got.blocks;
	r->st.bytes += f.got.bytes;
	pthread_mutex_unlock(&r->mu);
	*out = f.got;
	if (rc == EFS_ECANCELED || f.local)
		goto out;
	if (rc == 0 && resp.status != 200) {
		snprintf(why, sizeof(why), "HTTP %ld", resp.status);
		rc = gateway_failed(r, NULL, s, 0, &resp, why);
	} else if (rc < 0 || (rc = carstream_finish(&f.cs)) < 0) {
		snprintf(why, sizeof(why), "%s", efs_error_msg());
		rc = gateway_failed(r, NULL, s, rc, &resp, why);
	} else {
		retriever_record(r, s, MINERS_OUT_OK, &resp, NULL, 0, NULL);
	}
out:
	httpc_resp_release(&resp);
out_free:
	carstream_release(&f.cs);
	retriever_set_release(&f.wanted);
	return rc;
}

/* ---- IPNI ---- */

int retriever_ipni(struct rsrc *out, size_t *n, size_t max,
		   struct retriever *r, const struct cid *id,
		   const struct rsrc *skip, size_t nskip)
{
	char url[RET_URL_MAX + CID_STR_MAX + 16], cs[CID_STR_MAX];
	char (*urls)[IPNI_FIND_URL_MAX];
	const char *hdrs[] = { "Accept: application/json", NULL };
	struct httpc_req req = HTTPC_REQ_INIT("GET", url);
	struct httpc_resp resp;
	size_t nurl = 0;
	int rc;

	*n = 0;
	if (!r->ipni_url)
		return 0;
	if (!(urls = efs_calloc(RET_IPNI_MAX, sizeof(*urls))))
		return efs_error_set(EFS_ENOMEM, "retrieval: out of memory");
	snprintf(url, sizeof(url), "%s/cid/%s", r->ipni_url,
		 cid_tostr(cs, id));
	req.headers = hdrs;
	req.max_body = IPNI_FIND_BODY_MAX;
	req.timeout_ms = r->o.timeout_ms;
	pthread_mutex_lock(&r->mu);
	r->st.requests++;
	r->st.ipni_requests++;
	pthread_mutex_unlock(&r->mu);
	rc = httpc_do(&resp, &req);
	RET_STAT(r, bytes_down, resp.bytes_down);
	if (rc == 0 && resp.status == 200)
		rc = ipni_find_parse(urls, &nurl, RET_IPNI_MAX,
				     (const char *)resp.body.ptr,
				     resp.body.len);
	else if (rc == 0 && resp.status != 404)
		rc = efs_error_set(EFS_EIO, "retrieval: ipni %s: HTTP %ld",
				   r->ipni_url, resp.status);
	for (size_t i = 0; i < nurl && *n < max; i++) {
		bool dup = false;

		for (size_t k = 0; k < nskip && !dup; k++)
			dup = !strcmp(skip[k].url, urls[i]);
		if (dup)
			continue;
		memset(&out[*n], 0, sizeof(out[*n]));
		memcpy(out[*n].url, urls[i], strlen(urls[i]) + 1);
		out[*n].piece_id = -1;
		(*n)++;
	}
	httpc_resp_release(&resp);
	efs_free(urls);
	return rc;
}
