/*
 * evict.c - the evictor (evict.h): passes over the blockstore that free
 * the blocks DESIGN.md's invariant 2 allows, and say why the others
 * stay.
 *
 * A pass:
 *
 *   begin: open the piece and deal tables if they exist now, read the
 *          chain height the dealer last saw, refresh the pinned set,
 *          gather the blocks of commits not yet pieced (the queued set)
 *     │
 *   candidates (evict_run: LOCAL blocks, least recently used first;
 *     │         evict_commit: the leaves of one DAG)
 *     ▼
 *   check, cheapest first:  location? ─no─► kept: no_location
 *     │                     pinned?   ─yes─► kept: pinned
 *     │                     queued?   ─yes─► kept: queued
 *     │                     commits (piece_block by multihash), each
 *     │                     pieced with >= min_active ACTIVE deals on
 *     │                     every piece? ─no─► kept: short / no_commit
 *     │                     links (read; linking codecs only) ─► kept
 *     ▼
 *   batch ──full──► flush: pins changed, commits made since? refresh
 *                   and drop what they now reach; bstore_evict_many
 *                   (one transaction); what it passed over is kept:
 *                   refused
 *
 * Invariants:
 * 1. Every block evicted passed every check in the same pass, and the
 *    pins were looked at after the last pin that returned (pin_mu), the
 *    commit log just before the transaction.
 * 2. A commit's verdict is computed once per pass (deals change between
 *    passes, not within one as far as it matters: a deal lost right
 *    after the check is the dealer's to replace; the block is still
 *    held by the other SPs).
 * 3. The pass never writes the piece or deal tables: they are opened
 *    read-only, so a dealer beside it is undisturbed.
 */
#define LOG_TOPIC "evict"

#include "dealer/evict.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/links.h"
#include "dealer/dealer.h"
#include "dealer/deals.h"
#include "dealer/evict_i.h"
#include "dealer/piece.h"

#include "core/banned.h"

/* Cap on a node read to look for links. */
#define EVICT_READ_MAX ((size_t)16 << 20)

const char *evict_reason_name(enum evict_reason r)
{
	switch (r) {
	case EVICT_KEPT_LINKS:
		return "links";
	case EVICT_KEPT_NO_LOCATION:
		return "no_location";
	case EVICT_KEPT_NO_COMMIT:
		return "no_commit";
	case EVICT_KEPT_SHORT:
		return "short";
	case EVICT_KEPT_PINNED:
		return "pinned";
	case EVICT_KEPT_REFUSED:
		return "refused";
	case EVICT_KEPT_QUEUED:
		return "queued";
	}
	return "unknown";
}

/* ---- open and close ---- */

static int opts_check(struct evict_opts *o)
{
	if (o->min_active == 0)
		return efs_error_set(EFS_EINVAL, "evict: min_active must be at "
				     "least 1");
	if (o->batch == 0)
		o->batch = 256;
	return 0;
}

int evict_open(struct evict **out, struct bstore *bs, const char *db_path,
	       const struct evict_opts *opts)
{
	struct evict_opts o = EVICT_OPTS_INIT;
	struct evict *e;
	int rc;

	*out = NULL;
	if (opts)
		o = *opts;
	if ((rc = opts_check(&o)) < 0)
		return rc;
	if (!(e = efs_calloc(1, sizeof(*e))) ||
	    !(e->db_path = efs_strdup(db_path))) {
		efs_free(e);
		return efs_error_set(EFS_ENOMEM, "out of memory");
	}
	e->bs = bs;
	e->opts = o;
	atomic_init(&e->pin_gen, 0);
	pthread_mutex_init(&e->run_mu, NULL);
	pthread_mutex_init(&e->pin_mu, NULL);
	pthread_mutex_init(&e->mu, NULL);
	pthread_cond_init(&e->cond, NULL);
	*out = e;
	return 0;
}

int evict_set_opts(struct evict *e, const struct evict_opts *opts)
{
	struct evict_opts o = *opts;
	int rc = opts_check(&o);

	if (rc < 0)
		return rc;
	pthread_mutex_lock(&e->mu);
	e->opts = o;
	pthread_mutex_unlock(&e->mu);
	return 0;
}

void evict_close(struct evict *e)
{
	if (!e)
		return;
	evict_stop(e);
	piece_store_close(e->ps);
	deals_close(e->ds);
	evict_fpset_release(&e->pinned);
	evict_fpset_release(&e->queued.blocks);
	efs_free(e->pin_ids);
	efs_free(e->db_path);
	pthread_cond_destroy(&e->cond);
	pthread_mutex_destroy(&e->run_mu);
	pthread_mutex_destroy(&e->pin_mu);
	pthread_mutex_destroy(&e->mu);
	efs_free(e);
}

/* ---- a pass ---- */

struct pass {
	struct evict *e;
	struct evict_result *r;
	struct evict_opts o;
	int64_t head;             /* chain height the dealer last read */
	struct evict_verdict *verdicts;  /* by commit ID, open addressing */
	size_t nverdicts, vcap;
	struct cid *ids;          /* the batch */
	uint64_t *sizes;
	size_t n;
	uint64_t planned;         /* bytes in the batch */
	struct buf data;          /* a node read for its links */
	bool short_seen, any_commit; /* the block being checked */
};

/* Open what the dealer has created by now; nothing yet is no error. */
static int tables_open(struct evict *e)
{
	int rc = 0;

	if (!e->ps && (rc = piece_store_open_ro(&e->ps, e->db_path,
						NULL)) == EFS_ENOTFOUND)
		rc = 0;
	if (rc == 0 && !e->ds &&
	    (rc = deals_open_ro(&e->ds, e->db_path)) == EFS_ENOTFOUND)
		rc = 0;
	return rc;
}

/* The chain height of the dealer's report: deals ending before it no
 * longer count.  0 (every ACTIVE deal counts) when the dealer never
 * ran: there are no deals then. */
static int report_head(int64_t *out, const char *db_path)
{
	json_t *all, *h;
	char *text;
	int rc = dealer_report_read(&text, db_path);

	*out = 0;
	if (rc == EFS_ENOTFOUND) {
		efs_error_clear();
		return 0;
	}
	if (rc < 0)
		return rc;
	all = json_loads(text, 0, NULL);
	efs_free(text);
	h = json_object_get(json_object_get(all, "head"), "height");
	if (json_is_integer(h) && json_integer_value(h) > 0)
		*out = json_integer_value(h);
	json_decref(all);
	return 0;
}

static int local_bytes(uint64_t *out, struct bstore *bs)
{
	struct bstore_totals t;
	int rc = bstore_stat_totals(&t, bs);

	*out = rc == 0 ? t.bytes[BSTORE_LOCAL] : 0;
	return rc;
}

static int pass_begin(struct pass *p, struct evict *e, struct evict_result *r)
{
	memset(r, 0, sizeof(*r));
	memset(p, 0, sizeof(*p));
	p->e = e;
	p->r = r;
	p->data = (struct buf)BUF_INIT(EVICT_READ_MAX);
	pthread_mutex_lock(&e->mu);
	p->o = e->opts;
	pthread_mutex_unlock(&e->mu);
	r->cache_size = p->o.cache_size;
	if (!(p->ids = efs_calloc(p->o.batch, sizeof(*p->ids))) ||
	    !(p->sizes = efs_calloc(p->o.batch, sizeof(*p->sizes))))
		return efs_error_set(EFS_ENOMEM, "out of memory");
	return local_bytes(&r->local_before, e->bs);
}

/* What the checks need: the tables, the pinned and queued sets, the
 * chain height. */
static int pass_prepare(struct pass *p)
{
	int rc;

	if ((rc = tables_open(p->e)) < 0 ||
	    (rc = evict_pinned_refresh(p->e)) < 0 ||
	    (rc = evict_queued_refresh(p->e, &p->o.commits, false)) < 0)
		return rc;
	return report_head(&p->head, p->e->db_path);
}

static void pass_end(struct pass *p)
{
	struct efs_error_state err;

	efs_error_save(&err);
	if (local_bytes(&p->r->local_after, p->e->bs) < 0)
		p->r->local_after = 0;
	efs_error_restore(&err);
	efs_free(p->verdicts);
	efs_free(p->ids);
	efs_free(p->sizes);
	buf_release(&p->data);
}

static void kept(struct pass *p, enum evict_reason why, uint64_t size)
{
	p->r->kept[why]++;
	p->r->kept_bytes[why] += size;
}

/* ---- a commit's verdict ---- */

struct piece_walk {
	struct pass *p;
	unsigned least;           /* ACTIVE deals of the least replicated */
	size_t pieces;
};

static int piece_active(const struct piece_info *info,
			const struct piece_member *m, void *cls)
{
	struct piece_walk *w = cls;
	unsigned counting = 0, active = 0;
	int rc;

	(void)m;
	w->pieces++;
	/* a piece not ready has no locations, hence no deals yet */
	if (info->ready && w->p->e->ds &&
	    (rc = deals_count(&counting, &active, w->p->e->ds, info->id,
			      w->p->head, 0)) < 0)
		return rc;
	if (!info->ready)
		active = 0;
	if (active < w->least)
		w->least = active;
	return 0;
}

static int verdict_compute(struct evict_verdict *v, struct pass *p,
			   int64_t commit_id)
{
	struct piece_walk w = { .p = p, .least = UINT32_MAX };
	struct piece_commit_info pc;
	int rc;

	memset(v, 0, sizeof(*v));
	v->commit_id = commit_id;
	v->why.commit_id = commit_id;
	v->why.want = p->o.min_active;
	rc = piece_of_commit(&pc, p->e->ps, commit_id);
	if (rc == EFS_ENOTFOUND || (rc == 0 && pc.stage !=
				    PIECE_STAGE_PIECED)) {
		efs_error_clear();
		return 0;
	}
	if (rc < 0 ||
	    (rc = piece_commit_foreach(p->e->ps, commit_id, piece_active,
				       &w)) < 0)
		return rc;
	v->why.pieced = w.pieces > 0;
	v->why.active = w.pieces ? w.least : 0;
	v->ok = v->why.pieced && v->why.active >= p->o.min_active;
	return 0;
}

static int verdicts_grow(struct pass *p)
{
	size_t cap = p->vcap ? p->vcap * 2 : 64;
	struct evict_verdict *v = efs_calloc(cap, sizeof(*v));

	if (!v)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	for (size_t i = 0; i < p->vcap; i++) {
		size_t j = (size_t)p->verdicts[i].commit_id & (cap - 1);

		if (!p->verdicts[i].commit_id)
			continue;
		while (v[j].commit_id)
			j = (j + 1) & (cap - 1);
		v[j] = p->verdicts[i];
	}
	efs_free(p->verdicts);
	p->verdicts = v;
	p->vcap = cap;
	return 0;
}

static void note_short(struct evict_result *r, const struct evict_short *s)
{
	if (r->nshorts < EVICT_SHORTS_MAX)
		r->shorts[r->nshorts++] = *s;
	else
		r->more_shorts++;
}

/* The verdict of commit_id, computed on first use in the pass. */
static int verdict_get(const struct evict_verdict **out, struct pass *p,
		       int64_t commit_id)
{
	struct evict_verdict v;
	size_t j;
	int rc;

	if ((p->nverdicts + 1) * 2 > p->vcap && (rc = verdicts_grow(p)) < 0)
		return rc;
	for (j = (size_t)commit_id & (p->vcap - 1); p->verdicts[j].commit_id;
	     j = (j + 1) & (p->vcap - 1))
		if (p->verdicts[j].commit_id == commit_id) {
			*out = &p->verdicts[j];
			return 0;
		}
	if ((rc = verdict_compute(&v, p, commit_id)) < 0)
		return rc;
	if (!v.ok)
		note_short(p->r, &v.why);
	p->verdicts[j] = v;
	p->nverdicts++;
	*out = &p->verdicts[j];
	return 0;
}

static int commit_check(int64_t commit_id, void *cls)
{
	const struct evict_verdict *v;
	struct pass *p = cls;
	int rc;

	/* commit IDs start at 1; 0 would be the empty slot */
	if (commit_id <= 0)
		return efs_error_set(EFS_ECORRUPT, "evict: commit ID %lld in "
				     "the piece tables", (long long)commit_id);
	if ((rc = verdict_get(&v, p, commit_id)) < 0)
		return rc;
	p->any_commit = true;
	p->short_seen |= !v->ok;
	return 0;
}

/* ---- the checks ---- */

static int has_location(const struct bstore_location *loc, void *cls)
{
	(void)loc;
	(void)cls;
	return 1;
}

static int any_link(const struct cid *id, void *cls)
{
	(void)id;
	(void)cls;
	return 1;
}

/* Read a node of a linking codec for its links: 1 when it has some. */
static int has_links(struct pass *p, const struct cid *id)
{
	int rc;

	if (id->codec == CID_CODEC_RAW || !links_codec_known(id->codec))
		return 0;
	buf_reset(&p->data);
	if ((rc = bstore_get(p->e->bs, id, &p->data)) < 0)
		return rc;
	rc = links_foreach(id, p->data.ptr, p->data.len, any_link, NULL);
	return rc < 0 ? rc : rc > 0;
}

/* A block's own trouble, which keeps it rather than stopping the pass:
 * the blockstore would pass it over too. */
static bool block_trouble(int rc)
{
	return rc == EFS_EMISMATCH || rc == EFS_ECORRUPT ||
	       rc == EFS_ENOTFOUND || rc == EFS_EEVICTED ||
	       rc == EFS_EUNSUPPORTED;
}

/*
 * Whether a LOCAL block may go: 1 (it may), 0 (kept, why in *why), or
 * an error.  Links are looked for only when links is set (evict_commit
 * knows them from its walk).
 */
static int check(enum evict_reason *why, struct pass *p,
		 const struct cid *id, bool links)
{
	int rc;

	if ((rc = bstore_locations(p->e->bs, id, has_location, NULL)) < 0)
		return rc;
	if (rc == 0) {
		*why = EVICT_KEPT_NO_LOCATION;
		return 0;
	}
	if (evict_fpset_has(&p->e->pinned, evict_fp(id))) {
		*why = EVICT_KEPT_PINNED;
		return 0;
	}
	if (evict_fpset_has(&p->e->queued.blocks, evict_fp(id))) {
		*why = EVICT_KEPT_QUEUED;
		return 0;
	}
	p->short_seen = p->any_commit = false;
	if (p->e->ps &&
	    (rc = piece_block_commits(p->e->ps, id, commit_check, p)) < 0)
		return rc;
	if (!p->any_commit || p->short_seen) {
		*why = p->any_commit ? EVICT_KEPT_SHORT : EVICT_KEPT_NO_COMMIT;
		return 0;
	}
	if (links && (rc = has_links(p, id)) != 0) {
		if (rc < 0 && !block_trouble(rc))
			return rc;
		if (rc < 0)
			efs_error_clear();
		*why = rc > 0 ? EVICT_KEPT_LINKS : EVICT_KEPT_REFUSED;
		return 0;
	}
	return 1;
}

/* ---- batches ---- */

/* Drop the batch's blocks that a pin, or a commit, made since now
 * reaches. */
static int recheck(struct pass *p)
{
	struct evict *e = p->e;
	size_t k = 0, queued = e->queued.blocks.n;
	int rc;

	if ((rc = evict_queued_refresh(e, &p->o.commits, true)) < 0)
		return rc;
	if (atomic_load(&e->pin_gen) == e->pinned_gen &&
	    e->queued.blocks.n == queued)
		return 0;
	if ((rc = evict_pinned_refresh(e)) < 0)
		return rc;
	for (size_t i = 0; i < p->n; i++) {
		uint64_t fp = evict_fp(&p->ids[i]);

		if (evict_fpset_has(&e->pinned, fp) ||
		    evict_fpset_has(&e->queued.blocks, fp)) {
			kept(p, evict_fpset_has(&e->pinned, fp)
				? EVICT_KEPT_PINNED : EVICT_KEPT_QUEUED,
			     p->sizes[i]);
			p->planned -= p->sizes[i];
			continue;
		}
		p->ids[k] = p->ids[i];
		p->sizes[k++] = p->sizes[i];
	}
	p->n = k;
	return 0;
}

/* What evict_many did, block by block when it passed some over. */
static int tally(struct pass *p, size_t done)
{
	struct bstore_stat st;
	int rc;

	if (done == p->n) {
		p->r->blocks += p->n;
		p->r->bytes += p->planned;
		return 0;
	}
	for (size_t i = 0; i < p->n; i++) {
		rc = bstore_stat(&st, p->e->bs, &p->ids[i]);
		if (rc < 0 && rc != EFS_ENOTFOUND)
			return rc;
		if (rc == 0 && st.state == BSTORE_EVICTED) {
			p->r->blocks++;
			p->r->bytes += p->sizes[i];
		} else {
			kept(p, EVICT_KEPT_REFUSED, p->sizes[i]);
		}
	}
	return 0;
}

/* Evict the batch in one transaction (invariant 1: pins looked at last
 * under pin_mu, which a pin holds until it is committed). */
static int flush(struct pass *p)
{
	struct evict *e = p->e;
	size_t done = 0;
	int rc;

	if (!p->n)
		return 0;
	pthread_mutex_lock(&e->pin_mu);
	rc = recheck(p);
	if (rc == 0 && p->n)
		rc = bstore_evict_many(&done, e->bs, p->ids, p->n);
	pthread_mutex_unlock(&e->pin_mu);
	if (rc == 0)
		rc = tally(p, done);
	p->n = 0;
	p->planned = 0;
	return rc;
}

/* Check a LOCAL block and batch it when it may go. */
static int consider(struct pass *p, const struct cid *id, uint64_t size,
		    bool links)
{
	enum evict_reason why;
	int rc;

	p->r->seen++;
	if ((rc = check(&why, p, id, links)) <= 0) {
		if (rc == 0)
			kept(p, why, size);
		return rc;
	}
	p->ids[p->n] = *id;
	p->sizes[p->n++] = size;
	p->planned += size;
	return p->n == p->o.batch ? flush(p) : 0;
}

/* ---- evict_run ---- */

/* The walk's stop: the target is reached with what is batched. */
#define RUN_DONE 1

static bool run_reached(const struct pass *p)
{
	uint64_t freed = p->r->bytes + p->planned;

	return p->r->local_before <= p->o.cache_size ||
	       p->r->local_before - p->o.cache_size <= freed;
}

static int run_block(const struct bstore_stat *st, void *cls)
{
	struct pass *p = cls;
	int rc;

	if (cid_is_identity(&st->id) || st->pending)
		return 0;
	if ((rc = consider(p, &st->id, st->size, true)) < 0)
		return rc;
	return run_reached(p) ? RUN_DONE : 0;
}

int evict_run(struct evict_result *out, struct evict *e)
{
	struct pass p;
	int rc;

	pthread_mutex_lock(&e->run_mu);
	/* Blocks retrieved moments ago are LOCAL in the index only once
	 * synced: sync first, so a pass sees them as they are. */
	if ((rc = bstore_sync(e->bs)) < 0) {
		pthread_mutex_unlock(&e->run_mu);
		return rc;
	}
	if ((rc = pass_begin(&p, e, out)) == 0 && !run_reached(&p) &&
	    (rc = pass_prepare(&p)) == 0) {
		rc = bstore_lru_foreach(e->bs, BSTORE_LOCAL, run_block, &p);
		if (rc == RUN_DONE)
			rc = 0;
		if (rc == 0)
			rc = flush(&p);
	}
	pass_end(&p);
	pthread_mutex_unlock(&e->run_mu);
	return rc;
}

/* ---- evict_commit ---- */

static int commit_block(const struct evict_node *n, void *cls)
{
	struct pass *p = cls;

	if (!n->stored)
		return 0;
	if (n->state == BSTORE_EVICTED) {
		p->r->seen++;
		p->r->already++;
		return 0;
	}
	if (n->links) {
		p->r->seen++;
		kept(p, EVICT_KEPT_LINKS, n->size);
		return 0;
	}
	return consider(p, n->id, n->size, false);
}

int evict_commit(struct evict_result *out, struct evict *e,
		 const struct cid *root)
{
	struct bstore_stat st;
	char s[CID_STR_MAX];
	struct pass p;
	int rc;

	pthread_mutex_lock(&e->run_mu);
	if ((rc = bstore_sync(e->bs)) < 0) {
		pthread_mutex_unlock(&e->run_mu);
		return rc;
	}
	rc = pass_begin(&p, e, out);
	if (rc == 0 && (rc = pass_prepare(&p)) == 0) {
		rc = bstore_stat(&st, e->bs, root);
		if (rc == EFS_ENOTFOUND ||
		    (rc == 0 && st.state == BSTORE_ABSENT))
			rc = efs_error_set(EFS_ENOTFOUND, "evict: %s is not in "
					   "the repository",
					   cid_tostr(s, root));
	}
	if (rc == 0)
		rc = evict_walk(e->bs, root, true, commit_block, &p);
	if (rc == 0)
		rc = flush(&p);
	pass_end(&p);
	pthread_mutex_unlock(&e->run_mu);
	return rc;
}
