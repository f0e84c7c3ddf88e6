/*
 * miners_select.c - which SPs a new deal goes to (miners_select) and why
 * the others are not eligible (miners_explain); miners.h has the rules
 * and the score.
 *
 * Design notes:
 * - Both load every record once (miners_load_all) and decide in memory,
 *   without the lock: a record read a moment ago is as good as a fresh
 *   one for a ranking.
 * - Eligibility is one function, verdict(), so that what select skips
 *   and what explain reports never disagree.
 * - Exploration: the number of exploring picks is want * explore rounded
 *   down, plus one with the probability of the fraction, so the share
 *   over many deals is exactly explore.  Exploring picks are a uniform
 *   sample (partial Fisher-Yates) of the eligible SPs with fewer than
 *   new_below settled proposals; the rest are the best scores, ties in
 *   random order (so equal SPs share the load).  The picks are returned
 *   with the exploring ones spread evenly among the others, so a caller
 *   that tries only the first few still explores.
 */
#include "dealer/miners.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/error.h"
#include "dealer/miners_i.h"

#include "core/banned.h"

/* ---- eligibility ------------------------------------------------------- */

static bool is_excluded(const struct miner_record *r,
			const struct miners_query *q)
{
	for (size_t i = 0; i < q->nexclude; i++)
		if (filaddr_equal(&r->addr, &q->exclude[i]))
			return true;
	return false;
}

static unsigned verdict(const struct miner_record *r,
			const struct miners_query *q)
{
	const struct bigint *price, *cap;
	unsigned why = 0;

	if (r->disabled)
		why |= MINERS_WHY_DISABLED;
	if (is_excluded(r, q))
		why |= MINERS_WHY_EXCLUDED;
	if (r->backoff_until_ns > q->now_ns)
		why |= MINERS_WHY_BACKOFF;
	if (!r->url || !*r->url)
		why |= MINERS_WHY_NO_URL;
	if (!r->has_ask)
		return why | MINERS_WHY_NO_ASK;
	if (q->now_ns - r->ask_time_ns > q->ask_max_age_ns)
		why |= MINERS_WHY_ASK_STALE;
	if (q->head_epoch > 0 && r->ask.expiry > 0 &&
	    r->ask.expiry <= q->head_epoch)
		why |= MINERS_WHY_ASK_EXPIRED;
	if (q->piece_size < r->ask.min_piece)
		why |= MINERS_WHY_TOO_SMALL;
	if (q->piece_size > r->ask.max_piece)
		why |= MINERS_WHY_TOO_LARGE;
	price = q->verified ? &r->ask.verified_price : &r->ask.price;
	cap = q->verified ? &q->max_verified_price : &q->max_price;
	if (bigint_cmp(price, cap) > 0)
		why |= MINERS_WHY_PRICE;
	return why;
}

static bool is_new(const struct miner_record *r, const struct miners_query *q)
{
	return miners_settled(&r->perf) < q->new_below;
}

/* ---- explanations ------------------------------------------------------- */

static const struct {
	unsigned bit;
	const char *tally;  /* for the "none is eligible" message */
} reasons[] = {
	{ MINERS_WHY_DISABLED, "disabled" },
	{ MINERS_WHY_EXCLUDED, "excluded for this piece" },
	{ MINERS_WHY_BACKOFF, "backed off" },
	{ MINERS_WHY_NO_URL, "without a deal endpoint" },
	{ MINERS_WHY_NO_ASK, "without an ask" },
	{ MINERS_WHY_ASK_STALE, "ask too old" },
	{ MINERS_WHY_ASK_EXPIRED, "ask expired" },
	{ MINERS_WHY_TOO_SMALL, "piece below their min" },
	{ MINERS_WHY_TOO_LARGE, "piece above their max" },
	{ MINERS_WHY_PRICE, "price above the cap" },
};

#define NREASONS (sizeof(reasons) / sizeof(reasons[0]))

/* "4 GiB" for whole binary units, else bytes. */
static void fmt_size(char *out, size_t cap, uint64_t n)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB",
					     "TiB", "PiB" };
	size_t u = 0;

	while (u + 1 < sizeof(units) / sizeof(units[0]) && n >= 1024 &&
	       n % 1024 == 0) {
		n /= 1024;
		u++;
	}
	snprintf(out, cap, "%" PRIu64 " %s", n, units[u]);
}

/* "90 s", "25 min", "3 h", "2 d" */
static void fmt_age(char *out, size_t cap, int64_t ns)
{
	int64_t s = ns / MINERS_NS_PER_SEC;

	if (s < 120)
		snprintf(out, cap, "%" PRId64 " s", s);
	else if (s < 7200)
		snprintf(out, cap, "%" PRId64 " min", s / 60);
	else if (s < 172800)
		snprintf(out, cap, "%" PRId64 " h", s / 3600);
	else
		snprintf(out, cap, "%" PRId64 " d", s / 86400);
}

static int why_backoff(struct buf *b, const struct miner_record *r)
{
	char when[32];

	efs_clock_format(when, sizeof(when), r->backoff_until_ns,
			 "%Y-%m-%dT%H:%M:%SZ");
	if (r->fail_streak)
		return buf_printf(b, "backed off until %s after %" PRIu32
				  " failure%s", when, r->fail_streak,
				  r->fail_streak == 1 ? "" : "s");
	return buf_printf(b, "backed off until %s after %" PRIu32
			  " rejection%s", when, r->reject_streak,
			  r->reject_streak == 1 ? "" : "s");
}

static int why_price(struct buf *b, const struct miner_record *r,
		     const struct miners_query *q)
{
	char price[BIGINT_STR_MAX + 8], cap[BIGINT_STR_MAX + 8];

	bigint_format_fil(price, q->verified ? &r->ask.verified_price
					     : &r->ask.price);
	bigint_format_fil(cap, q->verified ? &q->max_verified_price
					   : &q->max_price);
	return buf_printf(b, "%sprice %s/GiB/epoch above the cap %s",
			  q->verified ? "verified " : "", price, cap);
}

/* The text of one reason bit. */
static int why_one(struct buf *b, unsigned bit, const struct miner_record *r,
		   const struct miners_query *q)
{
	char x[48], y[48];

	switch (bit) {
	case MINERS_WHY_DISABLED:
		return buf_printf(b, "disabled (%s)", r->disabled_reason
				  ? r->disabled_reason : "by configuration");
	case MINERS_WHY_BACKOFF:
		return why_backoff(b, r);
	case MINERS_WHY_ASK_STALE:
		fmt_age(x, sizeof(x), q->now_ns - r->ask_time_ns);
		return buf_printf(b, "ask %s old", x);
	case MINERS_WHY_ASK_EXPIRED:
		return buf_printf(b, "ask expired at epoch %" PRId64,
				  r->ask.expiry);
	case MINERS_WHY_TOO_SMALL:
		fmt_size(x, sizeof(x), q->piece_size);
		fmt_size(y, sizeof(y), r->ask.min_piece);
		return buf_printf(b, "piece %s below its min %s", x, y);
	case MINERS_WHY_TOO_LARGE:
		fmt_size(x, sizeof(x), q->piece_size);
		fmt_size(y, sizeof(y), r->ask.max_piece);
		return buf_printf(b, "piece %s above its max %s", x, y);
	case MINERS_WHY_PRICE:
		return why_price(b, r, q);
	case MINERS_WHY_EXCLUDED:
		return buf_adds(b, "excluded for this piece");
	case MINERS_WHY_NO_URL:
		return buf_adds(b, "no deal endpoint known");
	default:
		return buf_adds(b, "no ask yet");
	}
}

static int why_text(struct buf *b, unsigned why, const struct miner_record *r,
		    const struct miners_query *q)
{
	int error = 0;

	buf_reset(b);
	if (!why)
		return buf_printf(b, "eligible, score %.2f", r->score);
	for (size_t i = 0; i < NREASONS && error == 0; i++) {
		if (!(why & reasons[i].bit))
			continue;
		if (b->len)
			error = buf_adds(b, "; ");
		if (error == 0)
			error = why_one(b, reasons[i].bit, r, q);
	}
	return error;
}

/* "none of 12 storage providers is eligible: 5 backed off, ..." */
static int none_eligible(const unsigned *why, size_t n)
{
	char msg[512];
	size_t len;

	if (n == 0)
		return efs_error_set(EFS_ENOTFOUND, "miners: no storage "
				     "provider is known yet");
	len = (size_t)snprintf(msg, sizeof(msg), "none of %zu storage "
			       "provider%s is eligible:", n,
			       n == 1 ? "" : "s");
	for (size_t k = 0, sep = 0; k < NREASONS && len < sizeof(msg); k++) {
		size_t count = 0;

		for (size_t i = 0; i < n; i++)
			count += (why[i] & reasons[k].bit) != 0;
		if (count)
			len += (size_t)snprintf(msg + len, sizeof(msg) - len,
						"%s %zu %s", sep++ ? "," : "",
						count, reasons[k].tally);
	}
	return efs_error_set(EFS_ENOTFOUND, "miners: %s", msg);
}

static int check_query(const struct miners_query *q)
{
	if (!(q->explore >= 0 && q->explore <= 1))
		return efs_error_set(EFS_EINVAL, "miners: explore share must "
				     "be in [0, 1]");
	if (q->nexclude && !q->exclude)
		return efs_error_set(EFS_EINVAL, "miners: exclude list "
				     "missing");
	return 0;
}

int miners_explain(struct miners *m, const struct miners_query *q,
		   miners_verdict_cb cb, void *payload)
{
	struct buf text = BUF_INIT(4096);
	struct miner_record *v;
	struct miners_verdict vd;
	size_t n;
	int error;

	if ((error = check_query(q)) < 0)
		return error;
	pthread_mutex_lock(&m->mu);
	error = miners_load_all(&v, &n, m);
	pthread_mutex_unlock(&m->mu);
	if (error < 0)
		return error;
	for (size_t i = 0; i < n; i++) {
		vd.r = &v[i];
		vd.why = verdict(&v[i], q);
		if ((error = why_text(&text, vd.why, &v[i], q)) < 0)
			break;
		vd.text = (const char *)text.ptr;
		if ((error = cb(&vd, payload)) != 0)
			break;
	}
	buf_release(&text);
	miners_records_free(v, n);
	return error;
}

/* ---- selection ------------------------------------------------------- */

struct cand {
	const struct miner_record *r;
	uint64_t tie;        /* random: equal scores in random order */
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->r->score != y->r->score)
		return x->r->score > y->r->score ? -1 : 1;
	return x->tie < y->tie ? -1 : x->tie > y->tie;
}

/* How many of want picks explore: want * share, rounded at random. */
static size_t explore_count(size_t want, double share, uint64_t *rng)
{
	double x = (double)want * share;
	size_t n = (size_t)x;

	if (miners_rand01(rng) < x - (double)n)
		n++;
	return n;
}

/*
 * Order the nexp exploring picks (explore[]) and the score picks
 * (best[]) into out, spreading the exploring ones evenly.
 */
static void interleave(struct filaddr *out, const struct cand *explore,
		       size_t nexp, const struct cand *best, size_t nbest)
{
	size_t total = nexp + nbest, e = 0, s = 0;

	for (size_t i = 0; i < total; i++) {
		bool exp = (i + 1) * nexp / total > i * nexp / total;

		out[i] = exp ? explore[e++].r->addr : best[s++].r->addr;
	}
}

/*
 * Pick from the eligible candidates c[0..n) (reordered) into out.
 * c[0..nnew) are the new ones.
 */
static size_t pick(struct filaddr *out, struct cand *c, size_t n,
		   size_t nnew, const struct miners_query *q, uint64_t *rng)
{
	size_t nexp = explore_count(q->want, q->explore, rng);
	size_t nbest;

	if (nexp > nnew)
		nexp = nnew;
	/* a uniform sample of nexp new SPs into c[0..nexp) */
	for (size_t i = 0; i < nexp; i++) {
		size_t j = i + (size_t)(miners_rand64(rng) % (nnew - i));
		struct cand t = c[i];

		c[i] = c[j];
		c[j] = t;
	}
	for (size_t i = nexp; i < n; i++)
		c[i].tie = miners_rand64(rng);
	qsort(c + nexp, n - nexp, sizeof(*c), cand_cmp);
	nbest = n - nexp < q->want - nexp ? n - nexp : q->want - nexp;
	interleave(out, c, nexp, c + nexp, nbest);
	return nexp + nbest;
}

static int select_from(struct filaddr *out, size_t *n_out,
		       struct miner_record *v, size_t n,
		       const struct miners_query *q, uint64_t rng)
{
	struct cand *c = efs_calloc(n ? n : 1, sizeof(*c));
	unsigned *why = efs_calloc(n ? n : 1, sizeof(*why));
	size_t nc = 0, nnew = 0;
	int error = 0;

	if (!c || !why) {
		error = efs_error_set(EFS_ENOMEM, "miners: out of memory");
		goto out;
	}
	/* new eligible SPs first, then the others */
	for (size_t i = 0; i < n; i++)
		if (!(why[i] = verdict(&v[i], q)) && is_new(&v[i], q))
			c[nc++].r = &v[i];
	nnew = nc;
	for (size_t i = 0; i < n; i++)
		if (!why[i] && !is_new(&v[i], q))
			c[nc++].r = &v[i];
	if (nc == 0)
		error = none_eligible(why, n);
	else
		*n_out = pick(out, c, nc, nnew, q, &rng);
out:
	efs_free(c);
	efs_free(why);
	return error;
}

int miners_select(struct filaddr *out, size_t *n_out, struct miners *m,
		  const struct miners_query *q)
{
	struct miner_record *v;
	uint64_t rng = q->seed;
	size_t n;
	int error;

	*n_out = 0;
	if ((error = check_query(q)) < 0)
		return error;
	if (q->want == 0)
		return 0;
	pthread_mutex_lock(&m->mu);
	error = miners_load_all(&v, &n, m);
	if (!rng)
		rng = miners_rand64(&m->rng);
	pthread_mutex_unlock(&m->mu);
	if (error < 0)
		return error;
	error = select_from(out, n_out, v, n, q, rng);
	miners_records_free(v, n);
	return error;
}
