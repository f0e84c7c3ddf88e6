/*
 * retriever_dag.c - retriever_retrieve_dag: any CID's whole DAG into the
 * blockstore (Estuary's "Case B"), whether this node dealt it or not.
 *
 * A depth-first walk from the root with an explicit stack and a set of
 * blocks seen (a DAG may share subtrees).  Each block:
 *   LOCAL      raw: nothing to read; others: read for their links
 *   EVICTED    retriever_fetch (its locations, read-ahead and all)
 *   missing    the first few times, its whole subtree is asked of a
 *              provider in one CAR (/ipfs/{cid}?format=car&
 *              dag-scope=all, from the SPs holding its pieces, other
 *              known SPs, IPNI's providers); what the CAR lacked, and
 *              any later missing block, is fetched block by block
 * Every block stored was verified against its CID on the way in
 * (retriever_fetch, carstream); blocks read back are verified by
 * bstore_get.  Memory: the stack and the seen set, ~100 bytes a block.
 */
#include "retrieval/retriever_i.h"

#include <string.h>

#include "core/alloc.h"
#include "core/bstore.h"
#include "core/links.h"

#include "core/banned.h"

/* Subtrees asked whole in one walk before going block by block. */
#define DAG_BULK_MAX 4
/* A whole-DAG request may take this many fetch timeouts. */
#define DAG_BULK_TIMEOUTS 20
/* Providers asked for one subtree. */
#define DAG_SRCS_MAX 32

struct walk {
	struct retriever *r;
	struct rset seen;
	struct cid *stack;
	size_t n, cap;
	unsigned bulk_left;
	struct retriever_progress p;
};

static int push(struct walk *w, const struct cid *id)
{
	struct cid *s;
	bool added;
	int rc;

	if (cid_is_identity(id))
		return 0;
	if ((rc = retriever_set_add(&w->seen, id, &added)) < 0 || !added)
		return rc;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;

		if (!(s = efs_reallocarray(w->stack, cap, sizeof(*s))))
			return efs_error_set(EFS_ENOMEM,
					     "retrieval: out of memory");
		w->stack = s;
		w->cap = cap;
	}
	w->stack[w->n++] = *id;
	return 0;
}

static int push_cb(const struct cid *id, void *cls)
{
	return push(cls, id);
}

struct piece_locs {
	struct cid piece[RET_LOCS_MAX];
	size_t n;
};

static int piece_cb(const struct bstore_location *loc, void *cls)
{
	struct piece_locs *l = cls;

	if (l->n < RET_LOCS_MAX)
		l->piece[l->n++] = loc->piece;
	return 0;
}

/* Whom to ask for id's whole DAG, into out (DAG_SRCS_MAX); how many. */
static size_t bulk_sources(struct rsrc *out, struct retriever *r,
			   const struct cid *id)
{
	struct piece_locs l = { .n = 0 };
	struct rsrc *one;
	size_t n = 0, k;

	if (!(one = efs_calloc(RET_PIECE_SPS_MAX, sizeof(*one))))
		return 0;
	if (bstore_locations(r->bs, id, piece_cb, &l) < 0)
		l.n = 0;
	for (size_t i = 0; i < l.n; i++)
		if (retriever_where_piece(one, &k, RET_PIECE_SPS_MAX, r,
					  &l.piece[i]) == 0)
			n = retriever_where_merge(out, n, DAG_SRCS_MAX, one, k);
	if (retriever_where_others(one, &k,
				   r->o.other_max < RET_PIECE_SPS_MAX
					   ? r->o.other_max
					   : RET_PIECE_SPS_MAX,
				   r, out, n) == 0)
		n = retriever_where_merge(out, n, DAG_SRCS_MAX, one, k);
	if (n < DAG_SRCS_MAX &&
	    retriever_ipni(one, &k, RET_PIECE_SPS_MAX, r, id, out, n) == 0)
		n = retriever_where_merge(out, n, DAG_SRCS_MAX, one, k);
	efs_free(one);
	efs_error_clear();
	return n;
}

/* Ask the providers of id for its whole DAG until one answers. */
static void bulk(struct walk *w, const struct cid *id)
{
	struct retriever *r = w->r;
	struct rgateway_dag got;
	struct rsrc *srcs;
	size_t n;

	if (!(srcs = efs_calloc(DAG_SRCS_MAX, sizeof(*srcs))))
		return;
	n = bulk_sources(srcs, r, id);
	for (size_t i = 0; i < n && !r->stopping; i++) {
		int rc = retriever_gateway_dag(&got, r, &srcs[i], id,
					       r->o.timeout_ms *
						       DAG_BULK_TIMEOUTS);

		w->p.fetched += got.blocks;
		w->p.fetched_bytes += got.bytes;
		if (rc == 0 || bstore_has(r->bs, id))
			break;
	}
	efs_free(srcs);
	efs_error_clear();
}

/*
 * id is not here (EVICTED, or never stored: absent): get it.  *alone:
 * it was fetched by itself, and its bytes are the caller's to count (a
 * whole-DAG request counted what it brought).
 */
static int obtain(struct walk *w, const struct cid *id, bool absent,
		  bool *alone)
{
	*alone = false;
	if (absent && w->bulk_left) {
		w->bulk_left--;
		bulk(w, id);
		if (bstore_has(w->r->bs, id))
			return 0;
	}
	*alone = true;
	w->p.fetched++;
	return retriever_fetch(w->r, id, 0);
}

/* A raw block has no links: only its presence matters. */
static int visit_raw(struct walk *w, const struct cid *id)
{
	struct bstore_stat st;
	int rc = bstore_stat(&st, w->r->bs, id);
	bool here = rc == 0 && (st.state == BSTORE_LOCAL || st.pending);
	bool alone;

	if (rc < 0 && rc != EFS_ENOTFOUND)
		return rc;
	if (!here) {
		if ((rc = obtain(w, id, rc < 0 || st.state == BSTORE_ABSENT,
				 &alone)) < 0 ||
		    (rc = bstore_stat(&st, w->r->bs, id)) < 0)
			return rc;
		if (alone)
			w->p.fetched_bytes += st.size;
	}
	w->p.blocks++;
	w->p.bytes += st.size;
	return 0;
}

static int visit(struct walk *w, const struct cid *id, struct buf *data)
{
	bool alone = false;
	int rc;

	if (id->codec == CID_CODEC_RAW)
		return visit_raw(w, id);
	buf_reset(data);
	rc = bstore_get(w->r->bs, id, data);
	if (rc == EFS_EEVICTED || rc == EFS_ENOTFOUND) {
		if ((rc = obtain(w, id, rc == EFS_ENOTFOUND, &alone)) < 0)
			return rc;
		rc = bstore_get(w->r->bs, id, data);
	}
	if (rc < 0)
		return rc;
	if (alone)
		w->p.fetched_bytes += data->len;
	w->p.blocks++;
	w->p.bytes += data->len;
	return links_foreach(id, data->ptr, data->len, push_cb, w);
}

int retriever_retrieve_dag(struct retriever *r, const struct cid *root,
			   retriever_progress_fn progress, void *cls)
{
	struct walk w = { .r = r, .bulk_left = DAG_BULK_MAX };
	struct buf data = BUF_INIT(BUF_NOCAP);
	struct cid id;
	int rc;

	retriever_set_init(&w.seen);
	rc = push(&w, root);
	while (rc == 0 && w.n) {
		id = w.stack[--w.n];
		if ((rc = visit(&w, &id, &data)) < 0)
			break;
		if (progress && progress(cls, &w.p) != 0)
			rc = efs_error_set(EFS_ECANCELED,
					   "retrieval: stopped by the caller");
	}
	if (rc == 0 && progress)
		progress(cls, &w.p);
	/* What the walk stored itself (whole-DAG CARs), durable. */
	if (w.p.fetched) {
		int src = bstore_sync(r->bs);

		if (rc == 0)
			rc = src;
	}
	buf_release(&data);
	efs_free(w.stack);
	retriever_set_release(&w.seen);
	return rc;
}
