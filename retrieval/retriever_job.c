/*
 * retriever_job.c - one job, on a worker thread: where its block lies,
 * who holds that, what to fetch with it, and whom to ask in what order.
 *
 *   target LOCAL already? --> done
 *   for each recorded location (piece, offset) of the target:
 *       SPs with an ACTIVE deal for the piece, best first
 *       first piece with SPs: plan the read-ahead window
 *       each SP: GET /piece Range over what is still missing
 *   still missing and waited for (the target, read-ahead blocks a
 *   reader asks for):
 *       /ipfs block CAR from the SPs above, then other known SPs,
 *       then the providers IPNI names
 *   --> what is still missing failed: EFS_ENOTFOUND when nobody could
 *       be asked, EFS_ETIMEDOUT past the deadline, else EFS_EIO naming
 *       the sources tried
 *   --> what it stored is synced (durable, LOCAL for the evictor)
 *
 * Read-ahead not waited for is dropped when its window's SPs all fail:
 * it is an optimisation, not worth a request per block.
 */
#define LOG_TOPIC "retrieval"
#include "retrieval/retriever_i.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/bstore.h"
#include "core/log.h"

#include "core/banned.h"

/* Sources one job may try by /piece and /ipfs (without IPNI's). */
#define JOB_SRCS_MAX 64

void retriever_src_name(char *out, size_t cap, const struct rsrc *s)
{
	char a[FILADDR_STR_MAX];

	if (s->has_addr) {
		filaddr_format(a, &s->addr, 'f');
		snprintf(out, cap, "%s", a);
	} else {
		snprintf(out, cap, "%.48s", s->url);
	}
}

void retriever_job_tried(struct rjob *j, enum ret_way way,
			 const struct rsrc *s, enum miners_outcome o,
			 long status)
{
	char name[64];
	size_t n;
	int k;

	j->ntried++;
	j->nmissing += status == 404;
	j->outcomes[way][o]++;
	retriever_src_name(name, sizeof(name), s);
	n = strlen(name);
	for (const char *p = j->who; (p = strstr(p, name)); p += n)
		if ((p == j->who || p[-1] == ' ') && (!p[n] || p[n] == ' '))
			return;
	if (j->who_len + n + 5 >= sizeof(j->who)) {
		if (j->who_len + 4 < sizeof(j->who) &&
		    !strstr(j->who, "...")) {
			memcpy(j->who + j->who_len, " ...", 5);
			j->who_len += 4;
		}
		return;
	}
	k = snprintf(j->who + j->who_len, sizeof(j->who) - j->who_len, "%s%s",
		     j->who_len ? " " : "", name);
	if (k > 0)
		j->who_len += (size_t)k;
}

void retriever_job_note(struct rjob *j, const char *what)
{
	if (!strncmp(what, "retrieval: ", 11))
		what += 11;
	if (!j->note[0])
		snprintf(j->note, sizeof(j->note), "%s", what);
}

static void add(char *out, size_t cap, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void add(char *out, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (*len >= cap)
		return;
	va_start(ap, fmt);
	k = vsnprintf(out + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (k > 0)
		*len += (size_t)k;
}

/* "/piece: 3 garbage, 2 unreachable; /ipfs: 6 rejected" into out. */
static void tally(char *out, size_t cap, const struct rjob *j)
{
	static const char *const way[RET_WAYS] = { "/piece", "/ipfs" };
	size_t len = 0;

	out[0] = '\0';
	for (int w = 0; w < RET_WAYS; w++) {
		bool first = true;

		for (int o = 0; o < MINERS_OUT_COUNT_; o++) {
			if (!j->outcomes[w][o])
				continue;
			if (first)
				add(out, cap, &len, "%s%s:", len ? "; " : "",
				    way[w]);
			add(out, cap, &len, "%s %u %s", first ? "" : ",",
			    j->outcomes[w][o],
			    miners_outcome_name((enum miners_outcome)o));
			first = false;
		}
	}
}

/* ---- locations ---- */

struct locs {
	struct bstore_location v[RET_LOCS_MAX];
	size_t n;
};

static int loc_cb(const struct bstore_location *loc, void *cls)
{
	struct locs *l = cls;

	if (l->n < RET_LOCS_MAX)
		l->v[l->n++] = *loc;
	return 0;
}

/* ---- read-ahead ---- */

struct plan {
	struct rentry *c;
	size_t n, cap;
	uint64_t window_end;      /* blocks starting here or later: next */
	uint64_t prev_end;        /* end of the last block taken */
	bool has_next;
	struct cid next;          /* first evicted block after the window */
	int err;
};

static int plan_cb(const struct bstore_location *loc, enum bstore_state st,
		   void *cls)
{
	struct plan *p = cls;
	struct rentry *c;

	if (loc->offset < p->prev_end)
		return 0; /* overlaps a block taken: a bad row, skipped */
	if (loc->offset >= p->window_end) {
		if (st != BSTORE_EVICTED)
			return 0;
		p->has_next = true;
		p->next = loc->block;
		return 1;
	}
	if (st != BSTORE_EVICTED)
		return 0;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;

		if (cap > RET_RA_MAX)
			return 1;
		if (!(c = efs_reallocarray(p->c, cap, sizeof(*c)))) {
			p->err = efs_error_set(EFS_ENOMEM,
					       "retrieval: out of memory");
			return 1;
		}
		p->c = c;
		p->cap = cap;
	}
	c = &p->c[p->n++];
	memset(c, 0, sizeof(*c));
	c->id = loc->block;
	c->off = loc->offset;
	c->len = loc->length;
	p->prev_end = loc->offset + loc->length;
	return 0;
}

/*
 * Plan the window after the target at loc: the evicted blocks of its
 * piece that start in [its end, its offset + readahead) join the job,
 * and the first evicted block past the window is remembered to be
 * fetched as soon as a reader moves past this window's first block:
 * two windows stay in flight ahead of a sequential reader, so one is
 * received while the other is hashed and stored (on two cores this
 * read about a quarter faster than starting at the window's middle).
 */
static void plan_readahead(struct retriever *r, struct rjob *j,
			   const struct bstore_location *loc)
{
	uint64_t from = loc->offset + loc->length;
	struct plan p = { .prev_end = from };

	j->target.off = loc->offset;
	j->target.len = loc->length;
	if (r->o.readahead <= loc->length)
		return;
	p.window_end = loc->offset + r->o.readahead;
	/* Past the window, only far enough to find the next block. */
	if (bstore_locations_range(r->bs, &loc->piece, from,
				   p.window_end + r->o.readahead, plan_cb,
				   &p) < 0 ||
	    p.err < 0 || !p.n) {
		efs_free(p.c);
		efs_error_clear();
		return;
	}
	retriever_ra_insert(r, j, p.c, p.n);
	if (p.has_next && j->nra)
		retriever_trigger_add(r, &j->ra[0].id, &p.next);
}

/* ---- /piece ---- */

/* The parts still missing of this piece's plan (target first). */
static size_t missing_parts(struct rpart *out, struct retriever *r,
			    struct rjob *j, const struct bstore_location *loc,
			    bool with_ra)
{
	size_t n = 0;

	if (!retriever_entry_state(r, &j->target, NULL)) {
		out[n].e = &j->target;
		out[n].off = loc->offset;
		out[n++].len = loc->length;
	}
	for (size_t i = 0; with_ra && i < j->nra; i++)
		if (!retriever_entry_state(r, &j->ra[i], NULL)) {
			out[n].e = &j->ra[i];
			out[n].off = j->ra[i].off;
			out[n++].len = j->ra[i].len;
		}
	return n;
}

/* Ask each SP of one location in turn until its plan is all here. */
static void try_piece(struct retriever *r, struct rjob *j,
		      const struct bstore_location *loc,
		      const struct rsrc *srcs, size_t nsrc, bool with_ra)
{
	struct rpart *parts;
	size_t n;

	if (!(parts = efs_calloc(1 + j->nra, sizeof(*parts))))
		return;
	for (size_t i = 0; i < nsrc && !retriever_job_over(r, j); i++) {
		if (!(n = missing_parts(parts, r, j, loc, with_ra)))
			break;
		retriever_range_fetch(r, j, &srcs[i], &loc->piece, parts, n);
	}
	efs_free(parts);
}

/* ---- the fallbacks ---- */

/* Whether e still needs fetching: not done, and waited for. */
static bool wanted(struct retriever *r, struct rjob *j, struct rentry *e)
{
	bool waited;

	return !retriever_entry_state(r, e, &waited) &&
	       (waited || e == &j->target);
}

static void try_gateway(struct retriever *r, struct rjob *j,
			struct rentry *e, struct rsrc *srcs, size_t nsrc)
{
	struct rsrc *ipni;
	size_t n = 0;

	for (size_t i = 0; i < nsrc && wanted(r, j, e); i++) {
		if (retriever_job_over(r, j))
			return;
		retriever_gateway_block(r, j, &srcs[i], e);
	}
	if (!wanted(r, j, e) || !r->ipni_url || retriever_job_over(r, j) ||
	    !(ipni = efs_calloc(RET_IPNI_MAX, sizeof(*ipni))))
		return;
	if (retriever_ipni(ipni, &n, RET_IPNI_MAX, r, &e->id, srcs, nsrc) < 0)
		retriever_job_note(j, efs_error_msg());
	for (size_t i = 0; i < n && wanted(r, j, e); i++) {
		if (retriever_job_over(r, j))
			break;
		retriever_gateway_block(r, j, &ipni[i], e);
	}
	efs_free(ipni);
}

static void fallbacks(struct retriever *r, struct rjob *j, struct rsrc *srcs,
		      size_t nsrc)
{
	size_t n = 0;

	if (nsrc < JOB_SRCS_MAX &&
	    retriever_where_others(srcs + nsrc, &n,
				   r->o.other_max < JOB_SRCS_MAX - nsrc
					   ? r->o.other_max
					   : JOB_SRCS_MAX - nsrc,
				   r, srcs, nsrc) < 0)
		efs_error_clear();
	nsrc += n;
	for (size_t i = 0; i <= j->nra && !retriever_job_over(r, j); i++) {
		struct rentry *e = i ? &j->ra[i - 1] : &j->target;

		if (wanted(r, j, e))
			try_gateway(r, j, e, srcs, nsrc);
	}
}

/* Say why the job failed (before it finishes). */
static void job_fail(struct retriever *r, struct rjob *j)
{
	char cs[CID_STR_MAX], t[160];

	cid_tostr(cs, &j->target.id);
	tally(t, sizeof(t), j);
	if (r->stopping)
		efs_error_set(EFS_ECANCELED, "retrieval: closing");
	else if (retriever_left_ms(r, j) <= 0)
		efs_error_set(EFS_ETIMEDOUT,
			      "retrieval: %s: deadline passed (%s) asking %s",
			      cs, j->ntried ? t : "no answer yet",
			      j->who_len ? j->who : "nobody");
	else if (!j->ntried && j->note[0])
		efs_error_set(EFS_EIO, "retrieval: %s: %s", cs, j->note);
	else if (!j->ntried)
		efs_error_set(EFS_ENOTFOUND,
			      "retrieval: %s: no location, no provider known",
			      cs);
	else if (j->nmissing == j->ntried)
		efs_error_set(EFS_ENOTFOUND,
			      "retrieval: %s: no provider has it (asked %s)",
			      cs, j->who);
	else
		efs_error_set(EFS_EIO,
			      "retrieval: %s: all failed (%s) asking %s",
			      cs, t, j->who);
	efs_error_save(&j->fail);
}

/*
 * Make what the job stored durable and indexed LOCAL (its waiters did not
 * wait for this: they read the blocks already).  Until a sync they are
 * pending: readable, but lost to a crash and passed over by eviction.
 */
static void sync_stored(struct retriever *r, struct rjob *j)
{
	unsigned stored;

	pthread_mutex_lock(&r->mu);
	stored = j->stored;
	pthread_mutex_unlock(&r->mu);
	if (stored && bstore_sync(r->bs) < 0)
		efs_log_warn("cannot sync retrieved blocks: %s",
			     efs_error_msg());
}

void retriever_job_run(struct retriever *r, struct rjob *j)
{
	struct rsrc *srcs = NULL, *one = NULL;
	struct locs l = { .n = 0 };
	size_t nsrc = 0, n;
	bool planned = false, failed;
	int rc;

	if (bstore_has(r->bs, &j->target.id)) {
		retriever_entry_here(r, &j->target);
		return;
	}
	if (!(srcs = efs_calloc(JOB_SRCS_MAX, sizeof(*srcs))) ||
	    !(one = efs_calloc(RET_PIECE_SPS_MAX, sizeof(*one)))) {
		efs_error_set(EFS_ENOMEM, "retrieval: out of memory");
		efs_error_save(&j->fail);
		goto out;
	}
	if ((rc = bstore_locations(r->bs, &j->target.id, loc_cb, &l)) < 0)
		retriever_job_note(j, efs_error_msg());
	for (size_t i = 0; i < l.n && !retriever_job_over(r, j); i++) {
		if (retriever_where_piece(one, &n, RET_PIECE_SPS_MAX, r,
					  &l.v[i].piece) < 0) {
			retriever_job_note(j, efs_error_msg());
			continue;
		}
		if (!n)
			continue;
		if (!planned)
			plan_readahead(r, j, &l.v[i]);
		try_piece(r, j, &l.v[i], one, n, !planned);
		planned = true;
		nsrc = retriever_where_merge(srcs, nsrc, JOB_SRCS_MAX, one, n);
	}
	if (!retriever_job_over(r, j))
		fallbacks(r, j, srcs, nsrc);
	failed = !retriever_entry_state(r, &j->target, NULL);
	for (size_t i = 0; i < j->nra && !failed; i++)
		failed = wanted(r, j, &j->ra[i]);
	if (failed)
		job_fail(r, j);
	sync_stored(r, j);
out:
	efs_free(srcs);
	efs_free(one);
}
