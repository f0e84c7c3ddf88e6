/*
 * test_miners.c - the dealer's memory of SPs (dealer/miners.h): ranking
 * order, the exploration share over many seeded draws, backoff growth and
 * reset (failures, rejections, jitter bounds), exclusions, the ask
 * filters (freshness, expiry, size, price, verified price) and the reasons
 * miners_explain gives, the log's retention cap (per SP and by age, and
 * miners_prune), printable truncated details of garbage, bandwidth sums,
 * incremental performance against a recomputation (from a model of every
 * event and from the log table itself), persistence across a reopen and a
 * read-only open, argument errors, threads, and the allocation-failure
 * loop.  No network: everything is what a dealer would report.
 */
#include "dealer/miners.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "core/alloc.h"
#include "core/error.h"
#include "tests/harness.h"

#define SEC MINERS_NS_PER_SEC
#define GIB (1024ull * 1024 * 1024)
/* 2025-06-15T16:26:40Z, a fixed "now" */
#define T0 (1750004800LL * SEC)

static char *tmp;
static char path[4096];
static int fresh_count;

static int setup(void)
{
	tmp = harness_tmpdir();
	return tmp ? 0 : 1;
}

static int teardown(void)
{
	harness_tmpdir_free(tmp);
	return 0;
}

/* A new index path for each test. */
static void fresh_path(void)
{
	snprintf(path, sizeof(path), "%s/index%d.db", tmp, fresh_count++);
}

static struct miners *open_with(const struct miners_opts *o)
{
	struct miners *m = NULL;

	CU_ASSERT_EQUAL_FATAL(miners_open(&m, path, o), 0);
	return m;
}

static struct miners *open_fresh(void)
{
	struct miners_opts o = MINERS_OPTS_INIT;

	o.seed = 42;
	fresh_path();
	return open_with(&o);
}

static struct filaddr sp(int i)
{
	struct filaddr a;

	filaddr_init_id(&a, 1000 + (uint64_t)i);
	return a;
}

/* An SP with a url and an ask of price attoFIL (verified: free) for
 * pieces of 1 MiB to 32 GiB, fetched at now. */
static void add_sp(struct miners *m, int i, uint64_t price, int64_t now)
{
	char url[64];
	struct miner_info info = { .addr = sp(i), .url = url,
				   .peer_id = "12D3KooWtest",
				   .sector_size = 32 * GIB };
	struct miner_ask ask = { .min_piece = 1 << 20,
				 .max_piece = 32 * GIB };

	snprintf(url, sizeof(url), "http://sp%d.example", i);
	bigint_from_u64(&ask.price, price);
	CU_ASSERT_EQUAL_FATAL(miners_upsert(m, &info, now), 0);
	CU_ASSERT_EQUAL_FATAL(miners_set_ask(m, &info.addr, &ask, now), 0);
}

static int ev_log(struct miners *m, int i, enum miners_action a,
		  enum miners_outcome o, int64_t t)
{
	struct miner_event ev = { .addr = sp(i), .time_ns = t, .action = a,
				  .outcome = o, .latency_us = 1000 };

	return miners_log(m, &ev);
}

static void fate(struct miners *m, int i, enum miners_fate f, int64_t secs,
		 int64_t t)
{
	struct miner_deal_fate d = { .addr = sp(i), .fate = f,
				     .seal_seconds = secs, .time_ns = t };

	CU_ASSERT_EQUAL_FATAL(miners_deal_outcome(m, &d), 0);
}

/* n proposals to SP i: sealed of them accepted and sealed after
 * seal_s, failed accepted then failed, rejected rejected. */
static void history(struct miners *m, int i, int sealed, int failed,
		    int rejected, int64_t seal_s)
{
	int64_t t = T0 - 3600 * SEC;

	for (int k = 0; k < sealed + failed; k++) {
		CU_ASSERT_EQUAL(ev_log(m, i, MINERS_ACT_PROPOSE,
				       MINERS_OUT_OK, t++), 0);
		fate(m, i, k < sealed ? MINERS_FATE_SEALED
				      : MINERS_FATE_FAILED, seal_s, t++);
	}
	for (int k = 0; k < rejected; k++)
		CU_ASSERT_EQUAL(ev_log(m, i, MINERS_ACT_PROPOSE,
				       MINERS_OUT_REJECTED, t++), 0);
	/* an answered ask ends any backoff the rejections caused */
	CU_ASSERT_EQUAL(ev_log(m, i, MINERS_ACT_ASK, MINERS_OUT_OK, t), 0);
}

static struct miners_query query(size_t want)
{
	struct miners_query q = MINERS_QUERY_INIT;

	q.want = want;
	q.piece_size = 8 * GIB;
	q.now_ns = T0;
	q.seed = 7;
	return q;
}

static struct miner_record get(struct miners *m, int i)
{
	struct miner_record r;
	struct filaddr a = sp(i);

	CU_ASSERT_EQUAL_FATAL(miners_get(&r, m, &a), 0);
	return r;
}

static int idx_of(const struct filaddr *a)
{
	return (int)a->id - 1000;
}

/* ---- ranking ------------------------------------------------------- */

static void test_miners__ranking(void)
{
	struct miners *m = open_fresh();
	struct miners_query q = query(5);
	struct filaddr out[5];
	struct miner_record r[5];
	struct miner_event ev = { .action = MINERS_ACT_RETRIEVE,
				  .outcome = MINERS_OUT_OK,
				  .latency_us = 1000000,
				  .bytes_down = 64 << 20 };
	size_t n;

	for (int i = 0; i < 5; i++)
		add_sp(m, i, 0, T0);
	history(m, 0, 10, 0, 0, 3600);   /* A: all sealed, fast */
	history(m, 1, 5, 5, 0, 3600);    /* B: half failed */
	history(m, 2, 0, 0, 10, 0);      /* C: rejects everything */
	/* D (3): new.  E (4): as B, and its retrievals work, fast */
	history(m, 4, 5, 5, 0, 3600);
	ev.addr = sp(4);
	for (int k = 0; k < 10; k++) {
		ev.time_ns = T0 - 60 * SEC + k;
		CU_ASSERT_EQUAL(miners_log(m, &ev), 0);
	}
	q.explore = 0;
	CU_ASSERT_EQUAL_FATAL(miners_select(out, &n, m, &q), 0);
	CU_ASSERT_EQUAL_FATAL(n, 5);
	CU_ASSERT_EQUAL(idx_of(&out[0]), 0);
	CU_ASSERT_EQUAL(idx_of(&out[1]), 4);
	CU_ASSERT_EQUAL(idx_of(&out[2]), 1);
	CU_ASSERT_EQUAL(idx_of(&out[3]), 3);
	CU_ASSERT_EQUAL(idx_of(&out[4]), 2);
	for (int i = 0; i < 5; i++)
		r[i] = get(m, i);
	/* the documented formula, by hand */
	CU_ASSERT_DOUBLE_EQUAL(r[3].score, 0.5, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(r[0].score,
			       0.6 * 11.0 / 12 + 0.15 * 86400 / 90000 +
			       0.15 * 0.5 + 0.1 * 0.5, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(r[2].score, 0.6 / 12 + 0.15 * 0.5 * 2 + 0.05,
			       1e-9);
	CU_ASSERT_DOUBLE_EQUAL(r[4].perf.retrieval_speed, 64 << 20, 1e-6);
	CU_ASSERT(r[0].score > r[4].score && r[4].score > r[1].score &&
		  r[1].score > r[3].score && r[3].score > r[2].score);
	CU_ASSERT_EQUAL(r[0].perf.seal_count, 10);
	CU_ASSERT_DOUBLE_EQUAL(r[0].perf.seal_median_s, 3600, 1e-9);
	for (int i = 0; i < 5; i++)
		miners_record_release(&r[i]);
	/* fewer wanted: the best */
	q.want = 2;
	CU_ASSERT_EQUAL_FATAL(miners_select(out, &n, m, &q), 0);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(idx_of(&out[0]), 0);
	CU_ASSERT_EQUAL(idx_of(&out[1]), 4);
	/* more wanted than there are: all of them, not an error */
	q.want = 5;
	CU_ASSERT_EQUAL(miners_select(out, &n, m, &q), 0);
	CU_ASSERT_EQUAL(n, 5);
	miners_close(m);
}

/* ---- exploration ---------------------------------------------------- */

#define NOLD 6
#define NNEW 12

static void explore_draws(struct miners *m, double share, size_t want,
			  int draws, long *new_picks, long *per_sp)
{
	struct miners_query q = query(want);
	struct filaddr out[8];
	size_t n;

	q.explore = share;
	*new_picks = 0;
	for (int d = 0; d < draws; d++) {
		q.seed = (uint64_t)d + 1;
		CU_ASSERT_EQUAL_FATAL(miners_select(out, &n, m, &q), 0);
		CU_ASSERT_EQUAL_FATAL(n, want);
		for (size_t i = 0; i < n; i++) {
			int k = idx_of(&out[i]);

			for (size_t j = 0; j < i; j++)
				CU_ASSERT_FATAL(!filaddr_equal(&out[i],
							       &out[j]));
			per_sp[k]++;
			*new_picks += k >= NOLD;
		}
	}
}

static void test_miners__explore_share(void)
{
	struct miners *m = open_fresh();
	long per_sp[NOLD + NNEW] = { 0 };
	long newp;
	const int draws = 2000;

	for (int i = 0; i < NOLD + NNEW; i++)
		add_sp(m, i, 0, T0);
	for (int i = 0; i < NOLD; i++)
		history(m, i, 20, 0, 0, 3600);
	/* 6 * 0.25 = 1.5 exploring picks a draw on average */
	explore_draws(m, 0.25, 6, draws, &newp, per_sp);
	CU_ASSERT(newp >= (long)(0.23 * 6 * draws) &&
		  newp <= (long)(0.27 * 6 * draws));
	/* the best: 4.5 score picks a draw among 6 equals, 1500 each */
	for (int i = 0; i < NOLD; i++)
		CU_ASSERT(per_sp[i] >= 1350 && per_sp[i] <= 1650);
	for (int i = NOLD; i < NOLD + NNEW; i++)  /* 250 each expected */
		CU_ASSERT(per_sp[i] >= 170 && per_sp[i] <= 330);
	memset(per_sp, 0, sizeof(per_sp));
	explore_draws(m, 0, 6, 200, &newp, per_sp);
	CU_ASSERT_EQUAL(newp, 0);
	explore_draws(m, 1, 6, 200, &newp, per_sp);
	CU_ASSERT_EQUAL(newp, 6 * 200);
	/* the same seed, the same picks */
	{
		struct miners_query q = query(6);
		struct filaddr a[6], b[6];
		size_t na, nb;

		CU_ASSERT_EQUAL(miners_select(a, &na, m, &q), 0);
		CU_ASSERT_EQUAL(miners_select(b, &nb, m, &q), 0);
		CU_ASSERT_EQUAL(na, nb);
		CU_ASSERT(!memcmp(a, b, sizeof(a)));
	}
	/* unseeded: drawn from the generator opts.seed starts, so two opens
	 * with the same opts.seed pick the same */
	{
		struct miners_opts o = MINERS_OPTS_INIT;
		struct miners_query q = query(6);
		struct filaddr a[6], b[6];
		size_t na, nb;
		struct miners *m2;

		o.seed = 42;
		q.seed = 0;
		m2 = open_with(&o);
		CU_ASSERT_EQUAL(miners_select(a, &na, m2, &q), 0);
		miners_close(m2);
		m2 = open_with(&o);
		CU_ASSERT_EQUAL(miners_select(b, &nb, m2, &q), 0);
		miners_close(m2);
		CU_ASSERT_EQUAL(na, 6);
		CU_ASSERT_EQUAL(nb, 6);
		CU_ASSERT(!memcmp(a, b, sizeof(a)));
	}
	miners_close(m);
}

/* ---- backoff ------------------------------------------------------------ */

static int64_t delay_of(struct miners *m, int i, int64_t t)
{
	struct miner_record r = get(m, i);
	int64_t d = r.backoff_until_ns ? r.backoff_until_ns - t : 0;

	miners_record_release(&r);
	return d;
}

static void test_miners__backoff(void)
{
	struct miners *m = open_fresh();
	const struct miners_opts o = MINERS_OPTS_INIT;
	struct miners_query q = query(1);
	struct filaddr out[1];
	struct miner_record r;
	int64_t t = T0;
	size_t n;

	add_sp(m, 0, 0, T0);
	for (int k = 1; k <= 12; k++) {
		int64_t want = o.backoff_base_ns << (k - 1);
		int64_t d;

		if (want > o.backoff_max_ns)
			want = o.backoff_max_ns;
		t += SEC;
		CU_ASSERT_EQUAL(ev_log(m, 0, MINERS_ACT_PROPOSE,
				       k % 2 ? MINERS_OUT_TIMEOUT
					     : MINERS_OUT_UNREACHABLE, t), 0);
		d = delay_of(m, 0, t);
		CU_ASSERT(d <= want && d >= want - want / 5);
		r = get(m, 0);
		CU_ASSERT_EQUAL(r.fail_streak, (uint32_t)k);
		CU_ASSERT(!r.reachable);
		miners_record_release(&r);
	}
	/* backed off: not eligible, and explain says until when */
	q.now_ns = t + SEC;
	q.ask_max_age_ns = 86400 * SEC;
	CU_ASSERT_EQUAL(miners_select(out, &n, m, &q), EFS_ENOTFOUND);
	CU_ASSERT(strstr(efs_error_msg(), "1 backed off") != NULL);
	/* once the time has passed, eligible again */
	q.now_ns = t + o.backoff_max_ns + SEC;
	CU_ASSERT_EQUAL(miners_select(out, &n, m, &q), 0);
	CU_ASSERT_EQUAL(n, 1);
	/* a 'chain' event changes nothing */
	CU_ASSERT_EQUAL(ev_log(m, 0, MINERS_ACT_CHAIN, MINERS_OUT_ERROR,
			       t + 2 * SEC), 0);
	r = get(m, 0);
	CU_ASSERT_EQUAL(r.fail_streak, 12);
	miners_record_release(&r);
	/* a success clears it all */
	CU_ASSERT_EQUAL(ev_log(m, 0, MINERS_ACT_STATUS, MINERS_OUT_OK,
			       t + 3 * SEC), 0);
	r = get(m, 0);
	CU_ASSERT_EQUAL(r.fail_streak, 0);
	CU_ASSERT_EQUAL(r.backoff_until_ns, 0);
	CU_ASSERT(r.reachable);
	CU_ASSERT_EQUAL(r.last_seen_ns, t + 3 * SEC);
	miners_record_release(&r);
	/* rejections: their own, gentler streak */
	t += 10 * SEC;
	for (int k = 1; k <= 10; k++) {
		int64_t want = o.reject_base_ns << (k - 1);
		int64_t d;

		if (want > o.reject_max_ns)
			want = o.reject_max_ns;
		t += SEC;
		CU_ASSERT_EQUAL(ev_log(m, 0, MINERS_ACT_PROPOSE,
				       MINERS_OUT_REJECTED, t), 0);
		d = delay_of(m, 0, t);
		CU_ASSERT(d <= want && d >= want - want / 5);
	}
	r = get(m, 0);
	CU_ASSERT_EQUAL(r.reject_streak, 10);
	CU_ASSERT(r.reachable);
	miners_record_release(&r);
	/* a failure after rejections starts at the base again; then a
	 * rejection ends the failure streak */
	CU_ASSERT_EQUAL(ev_log(m, 0, MINERS_ACT_ASK, MINERS_OUT_GARBAGE,
			       t + SEC), 0);
	CU_ASSERT(delay_of(m, 0, t + SEC) <= o.backoff_base_ns);
	CU_ASSERT_EQUAL(ev_log(m, 0, MINERS_ACT_PROPOSE, MINERS_OUT_REJECTED,
			       t + 2 * SEC), 0);
	r = get(m, 0);
	CU_ASSERT_EQUAL(r.fail_streak, 0);
	CU_ASSERT_EQUAL(r.reject_streak, 11);
	miners_record_release(&r);
	miners_close(m);
}

/* Without jitter the delays are exact. */
static void test_miners__backoff_exact(void)
{
	struct miners_opts o = MINERS_OPTS_INIT;
	struct miners *m;

	o.backoff_jitter = 0;
	o.backoff_base_ns = 10 * SEC;
	o.backoff_max_ns = 100 * SEC;
	fresh_path();
	m = open_with(&o);
	add_sp(m, 0, 0, T0);
	static const int64_t want[] = { 10, 20, 40, 80, 100, 100 };
	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		CU_ASSERT_EQUAL(ev_log(m, 0, MINERS_ACT_RETRIEVE,
				       MINERS_OUT_ERROR, T0), 0);
		CU_ASSERT_EQUAL(delay_of(m, 0, T0), want[k] * SEC);
	}
	miners_close(m);
}

/* ---- exclusions and filters -------------------------------------------- */

static void test_miners__exclude(void)
{
	struct miners *m = open_fresh();
	struct miners_query q = query(3);
	struct filaddr ex[2] = { sp(0), sp(2) };
	struct filaddr out[3];
	size_t n;

	for (int i = 0; i < 3; i++)
		add_sp(m, i, 0, T0);
	q.exclude = ex;
	q.nexclude = 2;
	for (int d = 0; d < 50; d++) {
		q.seed = (uint64_t)d + 1;
		CU_ASSERT_EQUAL_FATAL(miners_select(out, &n, m, &q), 0);
		CU_ASSERT_EQUAL(n, 1);
		CU_ASSERT_EQUAL(idx_of(&out[0]), 1);
	}
	ex[0] = sp(1);
	q.nexclude = 2;
	CU_ASSERT_EQUAL(miners_select(out, &n, m, &q), 0);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(idx_of(&out[0]), 0);
	{
		struct filaddr all[3] = { sp(0), sp(1), sp(2) };

		q.exclude = all;
		q.nexclude = 3;
		CU_ASSERT_EQUAL(miners_select(out, &n, m, &q), EFS_ENOTFOUND);
		CU_ASSERT_EQUAL(n, 0);
		CU_ASSERT(strstr(efs_error_msg(), "none of 3 storage providers"
				 " is eligible: 3 excluded") != NULL);
	}
	miners_close(m);
}

struct seen {
	unsigned why[16];
	char text[16][512];
	int n;
};

static int seen_cb(const struct miners_verdict *v, void *payload)
{
	struct seen *s = payload;
	int i = idx_of(&v->r->addr);

	CU_ASSERT_FATAL(i >= 0 && i < 16);
	s->why[i] = v->why;
	snprintf(s->text[i], sizeof(s->text[i]), "%s", v->text);
	s->n++;
	return 0;
}

static void test_miners__filters_and_explain(void)
{
	struct miners *m = open_fresh();
	struct miners_query q = query(10);
	struct miner_ask ask = { .min_piece = 1 << 20,
				 .max_piece = 32 * GIB };
	struct filaddr a, out[10];
	struct seen s = { .n = 0 };
	struct miner_info bare = { .addr = sp(8) };
	size_t n;

	for (int i = 0; i < 8; i++)
		add_sp(m, i, 1000, T0);
	/* 1: ask an hour old (the max age is 30 min) */
	a = sp(1);
	CU_ASSERT_EQUAL(miners_set_ask(m, &a, &ask, T0 - 3600 * SEC), 0);
	/* 2: min piece 16 GiB, above our 8 GiB */
	a = sp(2);
	ask.min_piece = 16 * GIB;
	CU_ASSERT_EQUAL(miners_set_ask(m, &a, &ask, T0), 0);
	/* 3: max 4 GiB */
	a = sp(3);
	ask.min_piece = 1 << 20;
	ask.max_piece = 4 * GIB;
	CU_ASSERT_EQUAL(miners_set_ask(m, &a, &ask, T0), 0);
	/* 4: price above the cap (3e-8 FIL) */
	a = sp(4);
	ask.max_piece = 32 * GIB;
	bigint_from_u64(&ask.price, 50000000000ull);
	CU_ASSERT_EQUAL(miners_set_ask(m, &a, &ask, T0), 0);
	/* 5: its verified price is not free; fine for unverified */
	a = sp(5);
	bigint_from_u64(&ask.price, 1);
	bigint_from_u64(&ask.verified_price, 1);
	CU_ASSERT_EQUAL(miners_set_ask(m, &a, &ask, T0), 0);
	/* 6: ask expired at epoch 100 */
	a = sp(6);
	bigint_from_u64(&ask.verified_price, 0);
	ask.expiry = 100;
	CU_ASSERT_EQUAL(miners_set_ask(m, &a, &ask, T0), 0);
	/* 7: disabled by the user */
	a = sp(7);
	CU_ASSERT_EQUAL(miners_set_disabled(m, &a, true, "slow support"), 0);
	/* 8: known from the chain only: no url, no ask */
	CU_ASSERT_EQUAL(miners_upsert(m, &bare, T0), 0);
	q.head_epoch = 200;

	CU_ASSERT_EQUAL(miners_explain(m, &q, seen_cb, &s), 0);
	CU_ASSERT_EQUAL(s.n, 9);
	CU_ASSERT_EQUAL(s.why[0], 0);
	CU_ASSERT(strstr(s.text[0], "eligible, score 0.50") != NULL);
	CU_ASSERT_EQUAL(s.why[1], MINERS_WHY_ASK_STALE);
	CU_ASSERT_STRING_EQUAL(s.text[1], "ask 60 min old");
	CU_ASSERT_EQUAL(s.why[2], MINERS_WHY_TOO_SMALL);
	CU_ASSERT_STRING_EQUAL(s.text[2], "piece 8 GiB below its min 16 GiB");
	CU_ASSERT_EQUAL(s.why[3], MINERS_WHY_TOO_LARGE);
	CU_ASSERT_STRING_EQUAL(s.text[3], "piece 8 GiB above its max 4 GiB");
	CU_ASSERT_EQUAL(s.why[4], MINERS_WHY_PRICE);
	CU_ASSERT_STRING_EQUAL(s.text[4], "price 0.00000005 FIL/GiB/epoch "
					  "above the cap 0.00000003 FIL");
	CU_ASSERT_EQUAL(s.why[5], 0);
	CU_ASSERT_EQUAL(s.why[6], MINERS_WHY_ASK_EXPIRED);
	CU_ASSERT_STRING_EQUAL(s.text[6], "ask expired at epoch 100");
	CU_ASSERT_EQUAL(s.why[7], MINERS_WHY_DISABLED);
	CU_ASSERT_STRING_EQUAL(s.text[7], "disabled (slow support)");
	CU_ASSERT_EQUAL(s.why[8], MINERS_WHY_NO_URL | MINERS_WHY_NO_ASK);
	CU_ASSERT_STRING_EQUAL(s.text[8], "no deal endpoint known; no ask yet");
	CU_ASSERT_EQUAL(miners_select(out, &n, m, &q), 0);
	CU_ASSERT_EQUAL(n, 2);

	/* verified: 5's verified price is over the free cap; 4 is fine */
	q.verified = true;
	memset(&s, 0, sizeof(s));
	CU_ASSERT_EQUAL(miners_explain(m, &q, seen_cb, &s), 0);
	CU_ASSERT_EQUAL(s.why[4], 0);
	CU_ASSERT_EQUAL(s.why[5], MINERS_WHY_PRICE);
	CU_ASSERT(strstr(s.text[5], "verified price") != NULL);
	/* without the head epoch, the expiry is not checked */
	q.head_epoch = 0;
	q.verified = false;
	memset(&s, 0, sizeof(s));
	CU_ASSERT_EQUAL(miners_explain(m, &q, seen_cb, &s), 0);
	CU_ASSERT_EQUAL(s.why[6], 0);
	/* enabled again */
	CU_ASSERT_EQUAL(miners_set_disabled(m, &a, false, NULL), 0);
	memset(&s, 0, sizeof(s));
	CU_ASSERT_EQUAL(miners_explain(m, &q, seen_cb, &s), 0);
	CU_ASSERT_EQUAL(s.why[7], 0);
	/* a piece no one takes: the message counts the reasons */
	q.piece_size = 64 * GIB;
	CU_ASSERT_EQUAL(miners_select(out, &n, m, &q), EFS_ENOTFOUND);
	CU_ASSERT(strstr(efs_error_msg(), "none of 9 storage providers is "
			 "eligible:") != NULL);
	CU_ASSERT(strstr(efs_error_msg(), "8 piece above their max") != NULL);
	CU_ASSERT(strstr(efs_error_msg(), "1 without an ask") != NULL);
	miners_close(m);
}

/* ---- the log ------------------------------------------------------------ */

struct collect {
	int64_t times[256];
	char detail[256];
	int n;
};

static int collect_cb(const struct miner_event *ev, void *payload)
{
	struct collect *c = payload;

	if (c->n < 256)
		c->times[c->n] = ev->time_ns;
	if (c->n == 0 && ev->detail)
		snprintf(c->detail, sizeof(c->detail), "%s", ev->detail);
	c->n++;
	return 0;
}

static void test_miners__log_retention(void)
{
	struct miners_opts o = MINERS_OPTS_INIT;
	struct collect c = { .n = 0 };
	struct miner_record r;
	struct filaddr a = sp(0);
	struct miners *m;

	o.log_keep = 50;
	o.log_max_age_ns = 86400 * SEC;
	fresh_path();
	m = open_with(&o);
	add_sp(m, 0, 0, T0);
	add_sp(m, 1, 0, T0);
	for (int k = 0; k < 120; k++)
		CU_ASSERT_EQUAL(ev_log(m, 0, MINERS_ACT_ASK, k % 3
				       ? MINERS_OUT_OK : MINERS_OUT_TIMEOUT,
				       T0 + k), 0);
	CU_ASSERT_EQUAL(miners_log_foreach(m, &a, 0, 0, collect_cb, &c), 0);
	CU_ASSERT_EQUAL(c.n, 50);
	CU_ASSERT_EQUAL(c.times[0], T0 + 119); /* newest first */
	CU_ASSERT_EQUAL(c.times[49], T0 + 70);
	r = get(m, 0);
	CU_ASSERT_EQUAL(r.log_rows, 50);
	CU_ASSERT_EQUAL(r.perf.asks, 120);  /* aggregates outlive the log */
	CU_ASSERT_EQUAL(r.perf.asks_ok, 80);
	miners_record_release(&r);
	/* limit and since */
	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL(miners_log_foreach(m, &a, 0, 5, collect_cb, &c), 0);
	CU_ASSERT_EQUAL(c.n, 5);
	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL(miners_log_foreach(m, &a, T0 + 110, 0, collect_cb,
					   &c), 0);
	CU_ASSERT_EQUAL(c.n, 10);
	/* by age: two days later one new row drops the rest */
	CU_ASSERT_EQUAL(ev_log(m, 0, MINERS_ACT_ASK, MINERS_OUT_OK,
			       T0 + 2 * 86400 * SEC), 0);
	r = get(m, 0);
	CU_ASSERT_EQUAL(r.log_rows, 1);
	miners_record_release(&r);
	/* SP 1, no longer talked to: miners_prune */
	CU_ASSERT_EQUAL(ev_log(m, 1, MINERS_ACT_ASK, MINERS_OUT_OK, T0), 0);
	CU_ASSERT_EQUAL(miners_prune(m, T0 + 3600 * SEC), 0);
	r = get(m, 1);
	CU_ASSERT_EQUAL(r.log_rows, 1);
	miners_record_release(&r);
	CU_ASSERT_EQUAL(miners_prune(m, T0 + 2 * 86400 * SEC), 0);
	r = get(m, 1);
	CU_ASSERT_EQUAL(r.log_rows, 0);
	miners_record_release(&r);
	a = sp(1);
	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL(miners_log_foreach(m, &a, 0, 0, collect_cb, &c), 0);
	CU_ASSERT_EQUAL(c.n, 0);
	miners_close(m);
}

static void test_miners__garbage_detail(void)
{
	struct miners *m = open_fresh();
	struct collect c = { .n = 0 };
	struct filaddr a = sp(0);
	uint8_t junk[1000];
	struct miner_event ev = { .addr = a, .time_ns = T0,
				  .action = MINERS_ACT_STATUS,
				  .outcome = MINERS_OUT_GARBAGE,
				  .detail = (const char *)junk,
				  .detail_len = sizeof(junk) };

	add_sp(m, 0, 0, T0);
	memcpy(junk, "bad cbor: ", 10);
	for (size_t i = 10; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 7);
	junk[12] = 0;
	CU_ASSERT_EQUAL(miners_log(m, &ev), 0);
	CU_ASSERT_EQUAL(miners_log_foreach(m, &a, 0, 0, collect_cb, &c), 0);
	CU_ASSERT_EQUAL(c.n, 1);
	CU_ASSERT(strlen(c.detail) <= MINERS_DETAIL_MAX);
	CU_ASSERT(strncmp(c.detail, "bad cbor: FM\\x00", 16) == 0);
	CU_ASSERT(strcmp(c.detail + strlen(c.detail) - 3, "...") == 0);
	for (const char *p = c.detail; *p; p++)
		CU_ASSERT(*p >= 0x20 && *p < 0x7f);
	/* a short text is kept as it is */
	ev.detail = "http 500: \"internal\"";
	ev.detail_len = 0;
	ev.time_ns++;
	CU_ASSERT_EQUAL(miners_log(m, &ev), 0);
	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL(miners_log_foreach(m, &a, 0, 1, collect_cb, &c), 0);
	CU_ASSERT_STRING_EQUAL(c.detail, "http 500: \"internal\"");
	miners_close(m);
}

/* ---- bandwidth ---------------------------------------------------------- */

struct bw_seen {
	struct miners_bw_row rows[32];
	int n;
};

static int bw_cb(const struct miners_bw_row *row, void *payload)
{
	struct bw_seen *s = payload;

	if (s->n < 32)
		s->rows[s->n] = *row;
	s->n++;
	return 0;
}

static void test_miners__bandwidth(void)
{
	struct miners *m = open_fresh();
	struct miners_bw_filter f = MINERS_BW_FILTER_INIT;
	struct bw_seen s = { 0 };
	struct filaddr a0 = sp(0), a1 = sp(1), a12 = sp(12);
	int64_t day0 = T0 / (86400 * SEC);
	uint64_t sent, fetched;

	/* SP 0: commit 1 on day 0 twice, commit 2 on day 1; SP 1: day 0,
	 * not for a commit; SP 12 (ID order after 1): commit 1, fetched */
	CU_ASSERT_EQUAL(miners_bandwidth_add(m, &a0, 1, 100, 0, T0), 0);
	CU_ASSERT_EQUAL(miners_bandwidth_add(m, &a0, 1, 50, 7, T0 + SEC), 0);
	CU_ASSERT_EQUAL(miners_bandwidth_add(m, &a0, 2, 1000, 0,
					     T0 + 86400 * SEC), 0);
	CU_ASSERT_EQUAL(miners_bandwidth_add(m, &a1, 0, 10, 20, T0), 0);
	CU_ASSERT_EQUAL(miners_bandwidth_add(m, &a12, 1, 0, 5000, T0), 0);

	CU_ASSERT_EQUAL(miners_bandwidth_foreach(m, MINERS_BW_BY_SP, NULL,
						 bw_cb, &s), 0);
	CU_ASSERT_EQUAL_FATAL(s.n, 3);
	CU_ASSERT(filaddr_equal(&s.rows[0].addr, &a0));
	CU_ASSERT_EQUAL(s.rows[0].sent, 1150);
	CU_ASSERT_EQUAL(s.rows[0].fetched, 7);
	CU_ASSERT_EQUAL(s.rows[0].day, -1);
	CU_ASSERT_EQUAL(s.rows[0].commit_id, -1);
	CU_ASSERT(filaddr_equal(&s.rows[1].addr, &a1));
	CU_ASSERT(filaddr_equal(&s.rows[2].addr, &a12));
	CU_ASSERT_EQUAL(s.rows[2].fetched, 5000);

	memset(&s, 0, sizeof(s));
	CU_ASSERT_EQUAL(miners_bandwidth_foreach(m, MINERS_BW_BY_COMMIT, NULL,
						 bw_cb, &s), 0);
	CU_ASSERT_EQUAL_FATAL(s.n, 3);
	CU_ASSERT_EQUAL(s.rows[0].commit_id, 0);
	CU_ASSERT_EQUAL(s.rows[0].sent, 10);
	CU_ASSERT(!s.rows[0].has_addr);
	CU_ASSERT_EQUAL(s.rows[1].commit_id, 1);
	CU_ASSERT_EQUAL(s.rows[1].sent, 150);
	CU_ASSERT_EQUAL(s.rows[1].fetched, 5007);
	CU_ASSERT_EQUAL(s.rows[2].commit_id, 2);
	CU_ASSERT_EQUAL(s.rows[2].sent, 1000);

	memset(&s, 0, sizeof(s));
	CU_ASSERT_EQUAL(miners_bandwidth_foreach(m, MINERS_BW_BY_DAY, NULL,
						 bw_cb, &s), 0);
	CU_ASSERT_EQUAL_FATAL(s.n, 2);
	CU_ASSERT_EQUAL(s.rows[0].day, day0);
	CU_ASSERT_EQUAL(s.rows[0].sent, 160);
	CU_ASSERT_EQUAL(s.rows[1].day, day0 + 1);
	CU_ASSERT_EQUAL(s.rows[1].sent, 1000);

	memset(&s, 0, sizeof(s));
	CU_ASSERT_EQUAL(miners_bandwidth_foreach(m, MINERS_BW_ROWS, NULL,
						 bw_cb, &s), 0);
	CU_ASSERT_EQUAL(s.n, 4);  /* the two day-0 adds of SP 0 merged */

	/* filters: one SP, one commit, since a day */
	f.addr = &a0;
	CU_ASSERT_EQUAL(miners_bandwidth_sum(&sent, &fetched, m, &f), 0);
	CU_ASSERT_EQUAL(sent, 1150);
	CU_ASSERT_EQUAL(fetched, 7);
	f.commit_id = 1;
	CU_ASSERT_EQUAL(miners_bandwidth_sum(&sent, &fetched, m, &f), 0);
	CU_ASSERT_EQUAL(sent, 150);
	f.addr = NULL;
	CU_ASSERT_EQUAL(miners_bandwidth_sum(&sent, &fetched, m, &f), 0);
	CU_ASSERT_EQUAL(fetched, 5007);
	f.commit_id = -1;
	f.since_day = day0 + 1;
	CU_ASSERT_EQUAL(miners_bandwidth_sum(&sent, &fetched, m, &f), 0);
	CU_ASSERT_EQUAL(sent, 1000);
	CU_ASSERT_EQUAL(miners_bandwidth_sum(&sent, &fetched, m, NULL), 0);
	CU_ASSERT_EQUAL(sent, 1160);
	CU_ASSERT_EQUAL(fetched, 5027);
	CU_ASSERT_EQUAL(miners_bandwidth_add(m, &a0, -1, 1, 1, T0),
			EFS_EINVAL);
	miners_close(m);
}

/* ---- incremental performance against a recomputation ------------------ */

#define NSP 5

struct model {
	struct miner_perf p[NSP];
	uint32_t seals[NSP][4096];
	size_t nseals[NSP];
	uint64_t seal_sum[NSP];
};

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The median of the model's last MINERS_SEAL_RECENT seal times. */
static double model_median(const struct model *md, int i)
{
	size_t n = md->nseals[i];
	size_t c = n > MINERS_SEAL_RECENT ? MINERS_SEAL_RECENT : n;
	uint32_t v[MINERS_SEAL_RECENT];

	if (c == 0)
		return 0;
	memcpy(v, md->seals[i] + (n - c), c * sizeof(v[0]));
	qsort(v, c, sizeof(v[0]), u32_cmp);
	return c % 2 ? v[c / 2] : ((double)v[c / 2 - 1] + v[c / 2]) / 2;
}

static void model_event(struct model *md, const struct miner_event *ev)
{
	struct miner_perf *p = &md->p[idx_of(&ev->addr)];
	bool ok = ev->outcome == MINERS_OUT_OK;
	bool fail = ev->outcome >= MINERS_OUT_UNREACHABLE &&
		    ev->outcome <= MINERS_OUT_ERROR;

	if (ev->action == MINERS_ACT_CHAIN)
		return;
	if (ev->action == MINERS_ACT_PROPOSE) {
		p->proposed++;
		p->accepted += ok;
		p->rejected += ev->outcome == MINERS_OUT_REJECTED;
		p->propose_errors += fail;
	} else if (ev->action == MINERS_ACT_ASK) {
		p->asks++;
		p->asks_ok += ok;
	} else if (ev->action == MINERS_ACT_RETRIEVE) {
		p->retrievals++;
		if (ok) {
			p->retrievals_ok++;
			p->retrieved_bytes += ev->bytes_down;
			p->retrieval_us += (uint64_t)ev->latency_us;
		}
	}
	if (ok)
		p->last_ok_ns = ev->time_ns;
	else if (ev->outcome != MINERS_OUT_EXPIRED)
		p->last_fail_ns = ev->time_ns;
}

static void model_fate(struct model *md, const struct miner_deal_fate *f)
{
	int i = idx_of(&f->addr);
	struct miner_perf *p = &md->p[i];

	switch (f->fate) {
	case MINERS_FATE_SEALED:
		p->sealed++;
		p->seal_count++;
		md->seal_sum[i] += (uint64_t)f->seal_seconds;
		md->seals[i][md->nseals[i]++] = (uint32_t)f->seal_seconds;
		p->last_ok_ns = f->time_ns;
		break;
	case MINERS_FATE_FAILED:
		p->failed++;
		p->last_fail_ns = f->time_ns;
		break;
	case MINERS_FATE_SLASHED:
		p->slashed++;
		p->last_fail_ns = f->time_ns;
		break;
	case MINERS_FATE_EXPIRED:
		p->expired++;
		break;
	}
}

/* A count over the log table, through a connection of our own. */
static int64_t log_count(sqlite3 *db, const char *where)
{
	char sql[512];
	sqlite3_stmt *st;
	int64_t v = -1;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM dealer_miner_log "
		 "WHERE %s", where);
	CU_ASSERT_FATAL(sqlite3_prepare_v2(db, sql, -1, &st, NULL) ==
			SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void check_against_log(sqlite3 *db, const struct miner_record *r)
{
	char where[256], addr[FILADDR_STR_MAX];

	filaddr_format(addr, &r->addr, 'f');
#define LOGQ(cond)                                                        \
	(snprintf(where, sizeof(where), "addr = '%s' AND %s", addr, cond), \
	 (uint64_t)log_count(db, where))
	CU_ASSERT_EQUAL(r->perf.proposed, LOGQ("action = 'propose'"));
	CU_ASSERT_EQUAL(r->perf.accepted,
			LOGQ("action = 'propose' AND outcome = 'ok'"));
	CU_ASSERT_EQUAL(r->perf.rejected,
			LOGQ("action = 'propose' AND outcome = 'rejected'"));
	CU_ASSERT_EQUAL(r->perf.sealed,
			LOGQ("action = 'chain' AND outcome = 'ok'"));
	CU_ASSERT_EQUAL(r->perf.slashed,
			LOGQ("action = 'chain' AND outcome = 'slashed'"));
	CU_ASSERT_EQUAL(r->perf.retrievals_ok,
			LOGQ("action = 'retrieve' AND outcome = 'ok'"));
	CU_ASSERT_EQUAL(r->log_rows, LOGQ("1"));
#undef LOGQ
}

static void test_miners__perf_recompute(void)
{
	static struct model md;
	struct miners *m = open_fresh();
	uint64_t x = 0x5eed;
	int64_t t = T0;
	sqlite3 *db;

	memset(&md, 0, sizeof(md));
	for (int i = 0; i < NSP; i++)
		add_sp(m, i, 0, T0);
	for (int k = 0; k < 8000; k++) {
		uint64_t r = harness_rand64(&x);
		int i = (int)(r % NSP);

		t += (int64_t)(r >> 40) % SEC + 1;
		if ((r >> 8) % 3 == 0) {
			struct miner_deal_fate f = {
				.addr = sp(i),
				.fate = (enum miners_fate)((r >> 12) % 4),
				.seal_seconds = (int64_t)((r >> 16) % 200000),
				.time_ns = t,
				.piece_cid = "baga6ea4seaqtest",
			};

			CU_ASSERT_EQUAL_FATAL(miners_deal_outcome(m, &f), 0);
			model_fate(&md, &f);
		} else {
			unsigned act = (r >> 12) % MINERS_ACT_COUNT_;
			unsigned out = (r >> 16) % MINERS_OUT_COUNT_;
			struct miner_event ev = {
				.addr = sp(i), .time_ns = t,
				.action = (enum miners_action)act,
				.outcome = (enum miners_outcome)out,
				.latency_us = (int64_t)((r >> 20) % 5000000),
				.bytes_down = (r >> 24) % (1 << 26),
				.bytes_up = 17,
			};

			/* chain rows in the log are the fates' (below) */
			if (ev.action == MINERS_ACT_CHAIN)
				ev.action = MINERS_ACT_STATUS;
			CU_ASSERT_EQUAL_FATAL(miners_log(m, &ev), 0);
			model_event(&md, &ev);
		}
	}
	CU_ASSERT_FATAL(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
					NULL) == SQLITE_OK);
	for (int i = 0; i < NSP; i++) {
		struct miner_record r = get(m, i);
		const struct miner_perf *w = &md.p[i];
		const struct miner_perf *g = &r.perf;

		CU_ASSERT_EQUAL(g->proposed, w->proposed);
		CU_ASSERT_EQUAL(g->accepted, w->accepted);
		CU_ASSERT_EQUAL(g->rejected, w->rejected);
		CU_ASSERT_EQUAL(g->propose_errors, w->propose_errors);
		CU_ASSERT_EQUAL(g->sealed, w->sealed);
		CU_ASSERT_EQUAL(g->failed, w->failed);
		CU_ASSERT_EQUAL(g->slashed, w->slashed);
		CU_ASSERT_EQUAL(g->expired, w->expired);
		CU_ASSERT_EQUAL(g->seal_count, w->seal_count);
		CU_ASSERT_DOUBLE_EQUAL(g->seal_mean_s, w->seal_count
				       ? (double)md.seal_sum[i] / w->seal_count
				       : 0, 1e-6);
		CU_ASSERT_DOUBLE_EQUAL(g->seal_median_s, model_median(&md, i),
				       1e-9);
		CU_ASSERT_EQUAL(g->asks, w->asks);
		CU_ASSERT_EQUAL(g->asks_ok, w->asks_ok);
		CU_ASSERT_EQUAL(g->retrievals, w->retrievals);
		CU_ASSERT_EQUAL(g->retrievals_ok, w->retrievals_ok);
		CU_ASSERT_EQUAL(g->retrieved_bytes, w->retrieved_bytes);
		CU_ASSERT_EQUAL(g->retrieval_us, w->retrieval_us);
		CU_ASSERT_EQUAL(g->last_ok_ns, w->last_ok_ns);
		CU_ASSERT_EQUAL(g->last_fail_ns, w->last_fail_ns);
		CU_ASSERT(md.nseals[i] > MINERS_SEAL_RECENT);
		check_against_log(db, &r);
		miners_record_release(&r);
	}
	sqlite3_close(db);
	miners_close(m);
}

/* ---- persistence -------------------------------------------------------- */

static int count_cb(const struct miner_record *r, void *payload)
{
	(*(int *)payload)++;
	return 0;
}

static int stop_cb(const struct miner_record *r, void *payload)
{
	return 7;
}

static void test_miners__reopen(void)
{
	struct miners_opts ro = MINERS_OPTS_INIT;
	struct miners *m = open_fresh();
	struct miner_record a, b;
	struct filaddr s0 = sp(0);
	struct miner_info upd = { .addr = s0, .source = MINERS_SOURCE_CONFIG };
	int n = 0;

	add_sp(m, 0, 12345, T0);
	add_sp(m, 1, 0, T0);
	history(m, 0, 3, 1, 2, 500);
	CU_ASSERT_EQUAL(ev_log(m, 0, MINERS_ACT_PROPOSE, MINERS_OUT_TIMEOUT,
			       T0), 0);
	CU_ASSERT_EQUAL(miners_set_disabled(m, &s0, true, "user said so"), 0);
	/* an update without url keeps the url, changes the source */
	CU_ASSERT_EQUAL(miners_upsert(m, &upd, T0 + SEC), 0);
	a = get(m, 0);
	miners_close(m);

	m = open_with(NULL);
	b = get(m, 0);
	CU_ASSERT_STRING_EQUAL(b.url, "http://sp0.example");
	CU_ASSERT_STRING_EQUAL(b.peer_id, "12D3KooWtest");
	CU_ASSERT_STRING_EQUAL(b.disabled_reason, "user said so");
	CU_ASSERT_EQUAL(b.source, MINERS_SOURCE_CONFIG);
	CU_ASSERT_EQUAL(b.sector_size, 32 * GIB);
	CU_ASSERT_EQUAL(b.first_seen_ns, T0);
	CU_ASSERT(b.has_ask);
	CU_ASSERT(bigint_cmp(&b.ask.price, &a.ask.price) == 0);
	CU_ASSERT_EQUAL(b.ask.min_piece, 1 << 20);
	CU_ASSERT_EQUAL(b.backoff_until_ns, a.backoff_until_ns);
	CU_ASSERT(b.backoff_until_ns > T0);
	CU_ASSERT_EQUAL(b.fail_streak, 1);
	CU_ASSERT(!memcmp(&a.perf, &b.perf, sizeof(a.perf)));
	CU_ASSERT_EQUAL(b.log_rows, a.log_rows);
	CU_ASSERT_DOUBLE_EQUAL(b.score, a.score, 1e-12);
	CU_ASSERT_EQUAL(b.perf.sealed, 3);
	CU_ASSERT_EQUAL(b.perf.proposed, 7);
	miners_record_release(&a);
	miners_record_release(&b);
	miners_close(m);

	/* read-only, beside a writer */
	m = open_with(NULL);
	ro.read_only = true;
	{
		struct miners *r = open_with(&ro);

		CU_ASSERT_EQUAL(miners_foreach(r, count_cb, &n), 0);
		CU_ASSERT_EQUAL(n, 2);
		CU_ASSERT_EQUAL(miners_foreach(r, stop_cb, NULL), 7);
		CU_ASSERT_EQUAL(ev_log(r, 0, MINERS_ACT_ASK, MINERS_OUT_OK,
				       T0), EFS_EINVAL);
		CU_ASSERT_EQUAL(ev_log(m, 0, MINERS_ACT_ASK, MINERS_OUT_OK,
				       T0 + 5 * SEC), 0);
		a = get(r, 0);  /* sees the writer's commit */
		CU_ASSERT_EQUAL(a.last_seen_ns, T0 + 5 * SEC);
		miners_record_release(&a);
		miners_close(r);
	}
	miners_close(m);
	/* read-only: no file; a file without the tables */
	fresh_path();
	CU_ASSERT_EQUAL(miners_open(&m, path, &ro), EFS_ENOTFOUND);
	CU_ASSERT_PTR_NULL(m);
	{
		sqlite3 *db;

		CU_ASSERT_FATAL(sqlite3_open(path, &db) == SQLITE_OK);
		CU_ASSERT(sqlite3_exec(db, "CREATE TABLE x(y)", NULL, NULL,
				       NULL) == SQLITE_OK);
		sqlite3_close(db);
	}
	m = open_with(&ro);
	n = 0;
	CU_ASSERT_EQUAL(miners_foreach(m, count_cb, &n), 0);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(miners_get(&a, m, &s0), EFS_ENOTFOUND);
	miners_close(m);
}

/* ---- errors ------------------------------------------------------------- */

static void test_miners__errors(void)
{
	struct miners *m = open_fresh();
	struct miners_opts o = MINERS_OPTS_INIT;
	struct miners_query q = query(1);
	struct miner_ask ask = { .min_piece = 2, .max_piece = 1 };
	struct miner_info info = { 0 };
	struct filaddr f1, out[1], s9 = sp(9);
	struct miner_event ev = { .addr = s9, .action = MINERS_ACT_ASK };
	uint8_t pub[65];
	size_t n;

	/* not an ID address */
	memset(pub, 7, sizeof(pub));
	pub[0] = 0x04;
	CU_ASSERT_EQUAL(filaddr_init_secp256k1(&f1, pub, sizeof(pub)), 0);
	info.addr = f1;
	CU_ASSERT_EQUAL(miners_upsert(m, &info, T0), EFS_EINVAL);
	CU_ASSERT(strstr(efs_error_msg(), "ID address") != NULL);
	/* unknown SP */
	CU_ASSERT_EQUAL(miners_log(m, &ev), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(miners_set_ask(m, &s9, &ask, T0), EFS_EINVAL);
	ask.min_piece = 1;
	CU_ASSERT_EQUAL(miners_set_ask(m, &s9, &ask, T0), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(miners_set_disabled(m, &s9, true, "x"),
			EFS_ENOTFOUND);
	/* out of range */
	add_sp(m, 9, 0, T0);
	ev.action = MINERS_ACT_COUNT_;
	CU_ASSERT_EQUAL(miners_log(m, &ev), EFS_EINVAL);
	ev.action = MINERS_ACT_ASK;
	ev.outcome = MINERS_OUT_COUNT_;
	CU_ASSERT_EQUAL(miners_log(m, &ev), EFS_EINVAL);
	ev.outcome = MINERS_OUT_OK;
	ev.bytes_down = UINT64_MAX;
	CU_ASSERT_EQUAL(miners_log(m, &ev), EFS_ERANGE);
	bigint_from_i64(&ask.price, -1);
	CU_ASSERT_EQUAL(miners_set_ask(m, &s9, &ask, T0), EFS_EINVAL);
	q.explore = 1.5;
	CU_ASSERT_EQUAL(miners_select(out, &n, m, &q), EFS_EINVAL);
	q.explore = 0.25;
	q.want = 0;
	CU_ASSERT_EQUAL(miners_select(out, &n, m, &q), 0);
	CU_ASSERT_EQUAL(n, 0);
	miners_close(m);
	/* an empty index */
	m = open_fresh();
	q.want = 1;
	CU_ASSERT_EQUAL(miners_select(out, &n, m, &q), EFS_ENOTFOUND);
	CU_ASSERT(strstr(efs_error_msg(), "no storage provider is known")
		  != NULL);
	miners_close(m);
	/* bad options */
	o.backoff_max_ns = 1;
	CU_ASSERT_EQUAL(miners_open(&m, path, &o), EFS_EINVAL);
	o = (struct miners_opts)MINERS_OPTS_INIT;
	o.backoff_jitter = 1;
	CU_ASSERT_EQUAL(miners_open(&m, path, &o), EFS_EINVAL);
	o = (struct miners_opts)MINERS_OPTS_INIT;
	o.log_keep = 0;
	CU_ASSERT_EQUAL(miners_open(&m, path, &o), EFS_EINVAL);
	CU_ASSERT_STRING_EQUAL(miners_action_name(MINERS_ACT_RETRIEVE),
			       "retrieve");
	CU_ASSERT_STRING_EQUAL(miners_outcome_name(MINERS_OUT_GARBAGE),
			       "garbage");
}

/* ---- threads ------------------------------------------------------------ */

struct worker {
	struct miners *m;
	int i;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;

	for (int k = 0; k < 100; k++) {
		struct filaddr a = sp(w->i);

		if (ev_log(w->m, w->i % 2, MINERS_ACT_PROPOSE, MINERS_OUT_OK,
			   T0 + k) < 0 ||
		    miners_bandwidth_add(w->m, &a, 3, 1, 2, T0) < 0)
			return (void *)1;
	}
	return NULL;
}

static void test_miners__threads(void)
{
	struct miners *m = open_fresh();
	struct worker w[4];
	pthread_t th[4];
	struct miner_record r;
	uint64_t sent, fetched;

	add_sp(m, 0, 0, T0);
	add_sp(m, 1, 0, T0);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ m, i };
		CU_ASSERT_FATAL(pthread_create(&th[i], NULL, worker_run,
					       &w[i]) == 0);
	}
	for (int i = 0; i < 4; i++) {
		void *rv;

		pthread_join(th[i], &rv);
		CU_ASSERT_PTR_NULL(rv);
	}
	r = get(m, 0);
	CU_ASSERT_EQUAL(r.perf.accepted, 200);
	miners_record_release(&r);
	CU_ASSERT_EQUAL(miners_bandwidth_sum(&sent, &fetched, m, NULL), 0);
	CU_ASSERT_EQUAL(sent, 400);
	CU_ASSERT_EQUAL(fetched, 800);
	miners_close(m);
}

/* ---- allocation failures ----------------------------------------------- */

static int bw_nop_cb(const struct miners_bw_row *row, void *payload)
{
	return 0;
}

static int alloc_run(void *payload)
{
	struct miners_opts o = MINERS_OPTS_INIT;
	struct miners_query q = query(2);
	struct miner_info info = { .addr = sp(0), .url = "http://x" };
	struct miner_ask ask = { .max_piece = 64 * GIB };
	struct miner_event ev = { .addr = sp(0), .time_ns = T0,
				  .action = MINERS_ACT_PROPOSE,
				  .detail = "no" };
	struct miner_deal_fate f = { .addr = sp(0), .time_ns = T0,
				     .seal_seconds = 60 };
	struct miners_bw_filter bf = MINERS_BW_FILTER_INIT;
	struct filaddr out[2];
	struct miner_record r;
	struct seen s = { .n = 0 };
	struct collect c = { .n = 0 };
	struct miners *m;
	uint64_t a, b;
	size_t n;
	int n2 = 0;
	int error;

	o.seed = 1;
	if ((error = miners_open(&m, path, &o)) < 0)
		return error;
	if ((error = miners_upsert(m, &info, T0)) < 0 ||
	    (error = miners_set_ask(m, &info.addr, &ask, T0)) < 0 ||
	    (error = miners_log(m, &ev)) < 0 ||
	    (error = miners_deal_outcome(m, &f)) < 0 ||
	    (error = miners_bandwidth_add(m, &info.addr, 1, 1, 1, T0)) < 0 ||
	    (error = miners_select(out, &n, m, &q)) < 0 ||
	    (error = miners_explain(m, &q, seen_cb, &s)) < 0 ||
	    (error = miners_get(&r, m, &info.addr)) < 0)
		goto out;
	miners_record_release(&r);
	if ((error = miners_foreach(m, count_cb, &n2)) < 0 ||
	    (error = miners_log_foreach(m, &info.addr, 0, 3, collect_cb,
					&c)) < 0 ||
	    (error = miners_bandwidth_foreach(m, MINERS_BW_BY_SP, &bf,
					      bw_nop_cb, NULL)) < 0 ||
	    (error = miners_bandwidth_sum(&a, &b, m, &bf)) < 0)
		goto out;
	error = miners_prune(m, T0);
out:
	miners_close(m);
	return error;
}

static void test_miners__alloc(void)
{
	fresh_path();
	CU_ASSERT(harness_alloc_loop(alloc_run, NULL) > 3);
}

static CU_TestInfo miners_tests[] = {
	{ "ranking", test_miners__ranking },
	{ "explore_share", test_miners__explore_share },
	{ "backoff", test_miners__backoff },
	{ "backoff_exact", test_miners__backoff_exact },
	{ "exclude", test_miners__exclude },
	{ "filters_and_explain", test_miners__filters_and_explain },
	{ "log_retention", test_miners__log_retention },
	{ "garbage_detail", test_miners__garbage_detail },
	{ "bandwidth", test_miners__bandwidth },
	{ "perf_recompute", test_miners__perf_recompute },
	{ "reopen", test_miners__reopen },
	{ "errors", test_miners__errors },
	{ "threads", test_miners__threads },
	{ "alloc", test_miners__alloc },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "miners", .pInitFunc = setup,
	       .pCleanupFunc = teardown, .pTests = miners_tests })
