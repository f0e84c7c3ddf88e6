/*
 * retriever_where.c - who holds what: the SPs with an ACTIVE deal for a
 * piece (the deal table, remembered for sp_cache_ms), how they rank (the
 * miners table: URL, score, backoff), the other known SPs, the commit a
 * piece holds at an offset (the piece store, for bandwidth per commit),
 * and the record of every request in the miner log.
 *
 * Design notes:
 * - The deal and piece tables are the dealer's; they may not exist when
 *   the retriever opens (a fresh repository), so they are opened
 *   read-only on first need, and again later when that failed.
 * - A piece's SP list is cached (deals_foreach_piece_cid reads the whole
 *   deal table), but the ranking is not: backoff and scores change with
 *   every request, and miners_get is one indexed read per SP.
 * - An SP backed off or disabled is not skipped but tried last: a read
 *   should not fail while a copy might still answer.
 */
#define LOG_TOPIC "retrieval"
#include "retrieval/retriever_i.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "dealer/deals.h"
#include "dealer/piece.h"
#include "net/httpc.h"

#include "core/banned.h"

/* ---- the SPs of a piece ---- */

static int add_deal(const struct deal *d, void *cls)
{
	struct rpiece_sps *c = cls;

	for (size_t i = 0; i < c->n; i++)
		if (filaddr_equal(&c->sp[i], &d->miner))
			return 0;
	if (c->piece_id < 0)
		c->piece_id = d->piece_id;
	if (c->n < RET_PIECE_SPS_MAX)
		c->sp[c->n++] = d->miner;
	return 0;
}

/* Open the deal table on first need (dbmu held); false: none yet. */
static bool have_deals(struct retriever *r)
{
	if (!r->deals && deals_open_ro(&r->deals, r->db_path) < 0) {
		r->deals = NULL;
		efs_error_clear();
	}
	return r->deals != NULL;
}

/* piece's SPs into *out, from the cache or the deals (dbmu held). */
static int piece_sps(struct rpiece_sps *out, struct retriever *r,
		     const struct cid *piece)
{
	int64_t now = retriever_now_ms();
	struct rpiece_sps *c;
	int rc;

	for (size_t i = 0; i < RET_CACHE_PIECES; i++) {
		c = &r->cache[i];
		if (c->at_ms && now - c->at_ms < (int64_t)r->o.sp_cache_ms &&
		    cid_equal(&c->piece, piece)) {
			*out = *c;
			return 0;
		}
	}
	memset(out, 0, sizeof(*out));
	out->piece = *piece;
	out->piece_id = -1;
	if (!have_deals(r))
		return 0;
	if ((rc = deals_foreach_piece_cid(r->deals, piece, DEAL_ACTIVE,
					  add_deal, out)) < 0)
		return rc;
	out->at_ms = now;
	r->cache[r->cache_next++ % RET_CACHE_PIECES] = *out;
	return 0;
}

/* s from a miner record; false when it has no usable URL. */
static bool src_from_record(struct rsrc *s, const struct miner_record *m,
			    int64_t now_ns)
{
	size_t n;

	if (!m->url || !httpc_url_ok(m->url))
		return false;
	n = strlen(m->url);
	while (n && m->url[n - 1] == '/')
		n--;
	if (n >= sizeof(s->url))
		return false;
	memcpy(s->url, m->url, n);
	s->url[n] = '\0';
	s->has_addr = true;
	s->addr = m->addr;
	s->score = m->score;
	s->last = m->disabled || m->backoff_until_ns > now_ns;
	s->piece_id = -1;
	return true;
}

/* Whether a goes before b: not last first, then the higher score. */
static bool src_before(const struct rsrc *a, const struct rsrc *b)
{
	if (a->last != b->last)
		return !a->last;
	return a->score > b->score;
}

/* Insert s into out[0..*n) in order, keeping at most max. */
static void src_insert(struct rsrc *out, size_t *n, size_t max,
		       const struct rsrc *s)
{
	size_t i = *n;

	if (i == max && (!max || !src_before(s, &out[max - 1])))
		return;
	if (i == max)
		i--;
	else
		(*n)++;
	while (i > 0 && src_before(s, &out[i - 1])) {
		out[i] = out[i - 1];
		i--;
	}
	out[i] = *s;
}

int retriever_where_piece(struct rsrc *out, size_t *n, size_t max,
			  struct retriever *r, const struct cid *piece)
{
	int64_t now_ns = efs_clock_real_ns();
	struct miner_record m;
	struct rpiece_sps c;
	struct rsrc s;
	int rc;

	*n = 0;
	pthread_mutex_lock(&r->dbmu);
	rc = piece_sps(&c, r, piece);
	pthread_mutex_unlock(&r->dbmu);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < c.n; i++) {
		if (miners_get(&m, r->miners, &c.sp[i]) < 0) {
			efs_error_clear();
			continue;
		}
		if (src_from_record(&s, &m, now_ns)) {
			s.piece_id = c.piece_id;
			src_insert(out, n, max, &s);
		}
		miners_record_release(&m);
	}
	return 0;
}

size_t retriever_where_merge(struct rsrc *all, size_t nall, size_t max,
			     const struct rsrc *add, size_t nadd)
{
	for (size_t i = 0; i < nadd && nall < max; i++) {
		bool dup = false;

		for (size_t k = 0; k < nall && !dup; k++)
			dup = !strcmp(all[k].url, add[i].url);
		if (!dup)
			all[nall++] = add[i];
	}
	return nall;
}

/* ---- other SPs ---- */

struct others {
	struct rsrc *out;
	size_t *n, max;
	const struct rsrc *skip;
	size_t nskip;
	int64_t now_ns;
};

static int other_cb(const struct miner_record *m, void *cls)
{
	struct others *o = cls;
	struct rsrc s;

	if (!src_from_record(&s, m, o->now_ns) || s.last)
		return 0;
	for (size_t i = 0; i < o->nskip; i++)
		if (!strcmp(o->skip[i].url, s.url))
			return 0;
	src_insert(o->out, o->n, o->max, &s);
	return 0;
}

int retriever_where_others(struct rsrc *out, size_t *n, size_t max,
			   struct retriever *r, const struct rsrc *skip,
			   size_t nskip)
{
	struct others o = {
		.out = out, .n = n, .max = max, .skip = skip, .nskip = nskip,
		.now_ns = efs_clock_real_ns(),
	};

	*n = 0;
	return miners_foreach(r->miners, other_cb, &o);
}

/* ---- commits ---- */

struct member_at {
	uint64_t off;
	int64_t commit;
};

static int member_cb(const struct piece_member *m, void *cls)
{
	struct member_at *a = cls;

	if (a->off >= m->offset && a->off - m->offset < m->length) {
		a->commit = m->commit_id;
		return 1;
	}
	return 0;
}

int64_t retriever_where_commit(struct retriever *r, int64_t piece_id,
			       uint64_t off)
{
	struct member_at a = { .off = off, .commit = 0 };
	struct piece_info p;

	if (piece_id < 0)
		return 0;
	pthread_mutex_lock(&r->dbmu);
	if (!r->ps && piece_store_open_ro(&r->ps, r->db_path, NULL) < 0)
		r->ps = NULL;
	if (r->ps && piece_get(&p, r->ps, piece_id) == 0) {
		if (p.kind != PIECE_AGGREGATE)
			a.commit = p.commit_id;
		else
			piece_members(r->ps, piece_id, member_cb, &a);
	}
	pthread_mutex_unlock(&r->dbmu);
	efs_error_clear();
	return a.commit > 0 ? a.commit : 0;
}

/* ---- records ---- */

enum miners_outcome retriever_outcome(int rc, const struct httpc_resp *resp)
{
	switch (rc) {
	case 0:
		return MINERS_OUT_ERROR;
	case EFS_ETIMEDOUT:
		return MINERS_OUT_TIMEOUT;
	case EFS_EMISMATCH:
	case EFS_ECORRUPT:
	case EFS_ETOOBIG:
	case EFS_EUNSUPPORTED:
		return MINERS_OUT_GARBAGE;
	case EFS_EIO:
		/* A reply that started, then broke off, is a short body. */
		return resp && resp->status ? MINERS_OUT_GARBAGE
					    : MINERS_OUT_UNREACHABLE;
	default:
		return MINERS_OUT_ERROR;
	}
}

void retriever_record(struct retriever *r, const struct rsrc *s,
		      enum miners_outcome outcome,
		      const struct httpc_resp *resp, const struct cid *piece,
		      int64_t commit, const char *detail)
{
	char pc[CID_STR_MAX];
	struct miner_event ev;
	int rc;

	if (!s->has_addr) {
		if (outcome != MINERS_OUT_OK)
			efs_log_info("%s: %s: %s", s->url,
				     miners_outcome_name(outcome),
				     detail ? detail : "");
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.addr = s->addr;
	ev.time_ns = efs_clock_real_ns();
	ev.action = MINERS_ACT_RETRIEVE;
	ev.outcome = outcome;
	if (resp) {
		ev.latency_us = (int64_t)resp->total_us;
		ev.bytes_up = resp->bytes_up;
		ev.bytes_down = resp->bytes_down;
	}
	ev.piece_cid = piece ? cid_tostr(pc, piece) : NULL;
	ev.detail = detail;
	if ((rc = miners_log(r->miners, &ev)) < 0 && rc != EFS_ENOTFOUND)
		efs_log_warn("cannot log a retrieval: %s", efs_error_msg());
	if (resp && resp->bytes_down &&
	    miners_bandwidth_add(r->miners, &s->addr, commit, 0,
				 resp->bytes_down, ev.time_ns) < 0)
		efs_log_warn("cannot count bandwidth: %s", efs_error_msg());
	efs_error_clear();
}
