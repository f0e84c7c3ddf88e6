/*
 * test_dealer.c - the dealer against the devnet: commits become pieces
 * and reach 6 active deals on 6 different SPs; its report says so.
 */
#include "tests/dealer/dealer_test.h"

#include <jansson.h>

#include "core/datasegment.h"
#include "dealer/miners.h"

#include "core/banned.h"

struct agg_check {
	struct commp_piece aggregate;
	unsigned members, verified;
};

/* An aggregate member's recorded proof holds for its sub-piece. */
static int member_cb(const struct piece_member *m, void *cls)
{
	struct agg_check *a = cls;
	struct datasegment_proof p;

	a->members++;
	if (m->has_sub &&
	    datasegment_proof_decode(&p, m->proof, m->proof_len) == 0 &&
	    datasegment_proof_verify(&p, &a->aggregate, &m->sub) == 0)
		a->verified++;
	return 0;
}

/* Three commits: one big enough for its own piece, two small ones that
 * go into an aggregate; all reach 6 active verified deals.  The
 * aggregate's members' inclusion proofs verify, and the bytes the SPs
 * pulled are counted per SP and commit. */
static void test_dealer__replicates(void)
{
	struct miners_bw_filter bw = MINERS_BW_FILTER_INIT;
	struct dfx_piece v[32];
	struct piece_store *ps;
	struct piece_info p;
	struct agg_check agg;
	unsigned aggregates = 0;
	uint64_t sent, fetched;
	struct miners *m;
	struct dfx x;
	char *report;
	json_t *j;
	size_t n;

	dfx_open(&x, 8, NULL, "100", "1073741824");
	dfx_commit(&x, 1500000, 1);
	dfx_commit(&x, 20000, 2);
	dfx_commit(&x, 30000, 3);
	dfx_dealer_open(&x);
	CU_ASSERT_TRUE(dfx_run(&x, 6, 90, NULL));
	n = dfx_pieces(v, &x);
	CU_ASSERT_EQUAL(n, 2);
	for (size_t i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(v[i].active, 6);
		CU_ASSERT_EQUAL(v[i].live, 6);
		CU_ASSERT_FALSE(v[i].dup);
	}
	CU_ASSERT_EQUAL_FATAL(dealer_report_read(&report, x.f.db), 0);
	j = json_loads(report, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL(json_object_get(j, "funds"));
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(
				       json_object_get(j, "network"), "kind")),
			       "lotus");
	CU_ASSERT_TRUE(json_is_null(json_object_get(
		json_object_get(j, "blocked"), "datacap")));
	json_decref(j);
	efs_free(report);

	CU_ASSERT_FATAL(piece_store_open(&ps, x.f.db, x.f.bs, NULL) == 0);
	for (size_t i = 0; i < n; i++) {
		CU_ASSERT_FATAL(piece_get(&p, ps, v[i].id) == 0);
		if (p.kind != PIECE_AGGREGATE)
			continue;
		memset(&agg, 0, sizeof(agg));
		agg.aggregate = p.piece;
		CU_ASSERT_EQUAL(piece_members(ps, p.id, member_cb, &agg), 0);
		CU_ASSERT_EQUAL(agg.members, 2);
		CU_ASSERT_EQUAL(agg.verified, 2);
		aggregates++;
	}
	piece_store_close(ps);
	CU_ASSERT_EQUAL(aggregates, 1);

	/* Commit 1 went to 6 SPs in full; the aggregate's bytes are shared
	 * by commits 2 and 3. */
	CU_ASSERT_FATAL(miners_open(&m, x.f.db, NULL) == 0);
	bw.commit_id = 1;
	CU_ASSERT_EQUAL(miners_bandwidth_sum(&sent, &fetched, m, &bw), 0);
	CU_ASSERT(sent >= 6 * 1500000);
	bw.commit_id = 2;
	CU_ASSERT_EQUAL(miners_bandwidth_sum(&sent, &fetched, m, &bw), 0);
	CU_ASSERT(sent >= 6 * 20000);
	miners_close(m);
	dfx_close(&x);
}

/* A commit whose root is not in the blockstore cannot be made into a
 * piece: the report says so and the next commit is not held up. */
static void test_dealer__bad_commit(void)
{
	struct dfx_piece v[32];
	json_t *blocked;
	const char *msg;
	struct dfx x;

	dfx_open(&x, 8, NULL, "100", "1073741824");
	CU_ASSERT_FATAL(cid_hash(&x.c[0].root, 1, 0x70, 0x12, "gone", 4) ==
			0);
	x.c[0].id = 1;
	x.nc = 1;
	dfx_commit(&x, 1500000, 11);
	dfx_dealer_open(&x);
	CU_ASSERT_TRUE(dfx_run(&x, 6, 60, NULL));
	CU_ASSERT_EQUAL(dfx_pieces(v, &x), 1);
	blocked = dfx_report(&x, "blocked");
	msg = json_string_value(json_object_get(blocked, "commits"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "commit 1 "));
	json_decref(blocked);
	dfx_close(&x);
}

/* The same tree committed twice makes two pieces of one piece CID: the
 * SPs get it once, and the second piece's note says why it has none. */
static void test_dealer__same_data(void)
{
	struct dfx_piece v[32];
	struct dfx_count c;
	int64_t t;
	char *note;
	struct dfx x;

	dfx_open(&x, 8, NULL, "100", "1073741824");
	dfx_commit(&x, 1500000, 12);
	dfx_commit(&x, 1500000, 12);
	CU_ASSERT_EQUAL(cid_compare(&x.c[0].root, &x.c[1].root), 0);
	dfx_dealer_open(&x);
	for (int i = 0; i < 100; i++) {
		dealer_cycle(NULL, x.d);
		dfx_pieces(v, &x);
		if (v[0].active == 6)
			break;
		usleep(100 * 1000);
	}
	CU_ASSERT_EQUAL_FATAL(dfx_pieces(v, &x), 2);
	CU_ASSERT_EQUAL(v[0].active, 6);
	CU_ASSERT_EQUAL(v[1].live, 0);
	dfx_count(&c, &x, -1);
	CU_ASSERT_EQUAL(c.total, 6);
	CU_ASSERT_EQUAL_FATAL(dealer_piece_note(&note, &t, x.f.db, v[1].id),
			      0);
	CU_ASSERT_PTR_NOT_NULL(strstr(note, "the same data as piece"));
	efs_free(note);
	dfx_close(&x);
}

/* ---- faults ---- */

/* The deal a poke looks for, and what it did. */
static struct {
	unsigned min_sp;             /* SPs below are not candidates */
	enum deal_state want;        /* a deal in this state or beyond */
	uint64_t hit_sp;             /* the SP the poke acted on, or 0 */
	int64_t hit_deal;
	unsigned count;              /* deals in a state (state_cb) */
	enum deal_state state;
} poke;

static int find_cb(const struct deal *d, void *cls)
{
	if (d->miner.id < poke.min_sp || !deal_state_live(d->state) ||
	    d->state < poke.want)
		return 0;
	poke.hit_sp = d->miner.id;
	poke.hit_deal = d->id;
	return 1;
}

static void find_deal(struct dfx *x)
{
	struct deals *ds;

	CU_ASSERT_FATAL(deals_open(&ds, x->f.db) == 0);
	deals_foreach(ds, -1, false, find_cb, NULL);
	deals_close(ds);
}

static int state_cb(const struct deal *d, void *cls)
{
	struct filaddr *only = cls;

	if (d->state == poke.state && (!only || filaddr_equal(only, &d->miner)))
		poke.count++;
	return 0;
}

/* Deals in state s (of SP only, when not NULL). */
static unsigned count_state(struct dfx *x, enum deal_state s,
			    struct filaddr *only)
{
	struct deals *ds;

	poke.count = 0;
	poke.state = s;
	CU_ASSERT_FATAL(deals_open(&ds, x->f.db) == 0);
	deals_foreach(ds, -1, false, state_cb, only);
	deals_close(ds);
	return poke.count;
}

/* Once a good SP accepted a deal (its pull held up by the transfer
 * delay), take that SP offline. */
static void offline_poke(struct dfx *x, unsigned cycle)
{
	char json[64];

	if (poke.hit_sp)
		return;
	find_deal(x);
	if (!poke.hit_sp)
		return;
	snprintf(json, sizeof(json), "{\"offline\": true}");
	dfx_fault(x, (unsigned)poke.hit_sp, json);
	fprintf(stderr, "f0%llu offline at cycle %u\n",
		(unsigned long long)poke.hit_sp, cycle);
}

/* Eighteen SPs: eight reject everything, one of the others goes offline
 * with our deal in flight.  The commit still reaches 6 active deals,
 * all on SPs that work; the rejecting SPs are backed off, the offline
 * SP's deal fails and is replaced. */
static void test_dealer__faults(void)
{
	const char *extra[17];
	char faults[8][64];
	struct dfx_piece v[32];
	struct miner_record rec;
	struct filaddr sp;
	struct miners *m;
	uint64_t rejected = 0;
	struct dfx x;

	for (unsigned i = 0; i < 8; i++) {
		snprintf(faults[i], sizeof(faults[i]),
			 "f0%u={\"reject_pct\":100}", 1000 + i);
		extra[2 * i] = "--fault";
		extra[2 * i + 1] = faults[i];
	}
	extra[16] = NULL;
	dfx_open(&x, 18, extra, "100", "1073741824");
	/* The offline SP's deal fails when its start passes (20 s). */
	x.cfg.start_delay = 400;
	dfx_commit(&x, 1500000, 1);
	x.transfer_delay_ms = 1000;
	memset(&poke, 0, sizeof(poke));
	poke.min_sp = 1008;
	poke.want = DEAL_ACCEPTED;
	dfx_dealer_open(&x);
	CU_ASSERT_TRUE(dfx_run(&x, 6, 150, offline_poke));
	CU_ASSERT_NOT_EQUAL(poke.hit_sp, 0);
	CU_ASSERT_EQUAL_FATAL(dfx_pieces(v, &x), 1);
	CU_ASSERT_EQUAL(v[0].active, 6);
	for (unsigned i = 0; i < v[0].nsp; i++) {
		CU_ASSERT(v[0].sp[i].id >= 1008);
		CU_ASSERT_NOT_EQUAL(v[0].sp[i].id, poke.hit_sp);
	}
	CU_ASSERT(count_state(&x, DEAL_REJECTED, NULL) >= 1);
	filaddr_init_id(&sp, poke.hit_sp);
	CU_ASSERT_EQUAL(count_state(&x, DEAL_FAILED, &sp), 1);
	/* The rejecting SPs are in backoff, their rejections logged. */
	CU_ASSERT_FATAL(miners_open(&m, x.f.db, NULL) == 0);
	for (unsigned i = 0; i < 8; i++) {
		filaddr_init_id(&sp, 1000 + i);
		CU_ASSERT_FATAL(miners_get(&rec, m, &sp) == 0);
		rejected += rec.perf.rejected;
		if (rec.perf.rejected)
			CU_ASSERT(rec.reject_streak >= 1);
		miners_record_release(&rec);
	}
	CU_ASSERT(rejected >= 1);
	miners_close(m);
	dfx_close(&x);
}

/* An SP whose deal endpoint answers an HTML page: every call is logged
 * as garbage and the SP backed off; the others carry the commit. */
static void test_dealer__garbage(void)
{
	const char *extra[] = { "--fault", "f01000={\"garbage_market\":true}",
				NULL };
	struct miner_record rec;
	struct filaddr sp;
	struct miners *m;
	struct dfx x;

	dfx_open(&x, 8, extra, "100", "1073741824");
	dfx_commit(&x, 1500000, 3);
	dfx_dealer_open(&x);
	CU_ASSERT_TRUE(dfx_run(&x, 6, 90, NULL));
	CU_ASSERT_FATAL(miners_open(&m, x.f.db, NULL) == 0);
	filaddr_init_id(&sp, 1000);
	CU_ASSERT_FATAL(miners_get(&rec, m, &sp) == 0);
	CU_ASSERT(rec.fail_streak >= 1);
	CU_ASSERT(rec.backoff_until_ns > 0);
	CU_ASSERT_FALSE(rec.has_ask);
	miners_record_release(&rec);
	miners_close(m);
	dfx_close(&x);
}

/* Slash the deals of the first SP that accepts one. */
static void slash_poke(struct dfx *x, unsigned cycle)
{
	if (poke.hit_sp)
		return;
	find_deal(x);
	if (poke.hit_sp)
		dfx_fault(x, (unsigned)poke.hit_sp, "{\"slash\": true}");
}

/* Once active, an SP's deal is slashed: it is recorded as such and a
 * deal with another SP replaces it. */
static void test_dealer__slashed(void)
{
	struct filaddr sp;
	struct dfx x;
	time_t end;

	dfx_open(&x, 8, NULL, "100", "1073741824");
	dfx_commit(&x, 1500000, 4);
	dfx_dealer_open(&x);
	memset(&poke, 0, sizeof(poke));
	poke.want = DEAL_ACCEPTED;
	end = time(NULL) + 30;
	while (time(NULL) < end && !poke.hit_sp) {
		dealer_cycle(NULL, x.d);
		slash_poke(&x, 0);
		usleep(50 * 1000);
	}
	CU_ASSERT_FATAL(poke.hit_sp != 0);
	filaddr_init_id(&sp, poke.hit_sp);
	end = time(NULL) + 90;
	while (time(NULL) < end && count_state(&x, DEAL_SLASHED, &sp) == 0) {
		dealer_cycle(NULL, x.d);
		usleep(100 * 1000);
	}
	CU_ASSERT_EQUAL(count_state(&x, DEAL_SLASHED, &sp), 1);
	CU_ASSERT_TRUE(dfx_run(&x, 6, 90, NULL));
	CU_ASSERT_EQUAL(count_state(&x, DEAL_ACTIVE, &sp), 0);
	CU_ASSERT_EQUAL(count_state(&x, DEAL_ACTIVE, NULL), 6);
	dfx_close(&x);
}

static int64_t max_end;

static int end_cb(const struct deal *d, void *cls)
{
	if (d->end_epoch > max_end)
		max_end = d->end_epoch;
	return 0;
}

/* Six active deals enter their renewal window: six new deals, with
 * other SPs, are made while the old ones are still active. */
static void test_dealer__renewal(void)
{
	struct dfx_piece v[32];
	struct deals *ds;
	json_t *head;
	int64_t h;
	struct dfx x;

	dfx_open(&x, 14, NULL, "100", "1073741824");
	dfx_commit(&x, 1500000, 10);
	dfx_dealer_open(&x);
	CU_ASSERT_TRUE_FATAL(dfx_run(&x, 6, 60, NULL));
	usleep(500 * 1000);
	dealer_cycle(NULL, x.d);
	max_end = 0;
	CU_ASSERT_FATAL(deals_open(&ds, x.f.db) == 0);
	deals_foreach(ds, -1, false, end_cb, NULL);
	deals_close(ds);
	head = dfx_report(&x, "head");
	h = json_integer_value(json_object_get(head, "height"));
	json_decref(head);
	CU_ASSERT_FATAL(h > 0 && max_end > h);
	/* A window reaching just past the current deals' end: they stop
	 * counting.  New deals last longer, so they count for long. */
	dfx_dealer_close(&x);
	x.cfg.renew_window = max_end - h + 5;
	x.cfg.duration += 100000;
	dfx_dealer_open(&x);
	CU_ASSERT_TRUE(dfx_run(&x, 12, 60, NULL));
	CU_ASSERT_EQUAL_FATAL(dfx_pieces(v, &x), 1);
	CU_ASSERT_EQUAL(v[0].live, 12);
	CU_ASSERT_EQUAL(v[0].active, 12);
	CU_ASSERT_FALSE(v[0].dup);
	dfx_close(&x);
}

/* ---- money ---- */

/* Unverified deals at a price: the dealer tops the escrow up with a
 * signed AddBalance and the deals go through. */
static void test_dealer__escrow(void)
{
	struct dfx x;
	json_t *funds;
	struct bigint escrow;
	const char *s;

	dfx_open(&x, 8, NULL, "100", "0");
	x.cfg.verified = false;
	dfx_commit(&x, 1500000, 5);
	dfx_dealer_open(&x);
	CU_ASSERT_TRUE(dfx_run(&x, 6, 90, NULL));
	funds = dfx_report(&x, "funds");
	CU_ASSERT_PTR_NOT_NULL_FATAL(funds);
	s = json_string_value(json_object_get(funds, "escrow"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(bigint_parse_fil(&escrow, s, strlen(s)), 0);
	CU_ASSERT_FALSE(bigint_is_zero(&escrow));
	json_decref(funds);
	dfx_close(&x);
}

/* DataCap for three deals of a 2 MiB piece: three are made, then the
 * dealer stops and says why in its report. */
static void test_dealer__datacap(void)
{
	json_t *blocked;
	const char *msg;
	struct dfx x;
	struct dfx_count c;

	dfx_open(&x, 8, NULL, "100", "6291456");
	dfx_commit(&x, 1500000, 6);
	dfx_dealer_open(&x);
	CU_ASSERT_FALSE(dfx_run(&x, 6, 10, NULL));
	dfx_count(&c, &x, -1);
	CU_ASSERT_EQUAL(c.total, 3);
	blocked = dfx_report(&x, "blocked");
	msg = json_string_value(json_object_get(blocked, "datacap"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "DataCap"));
	json_decref(blocked);
	dfx_close(&x);
}

/* ---- restarts ---- */

/* Every deal of a piece, whatever its state: dup when an SP has two. */
static int any_cb(const struct deal *d, void *cls)
{
	struct dfx_piece *p = cls;

	for (unsigned i = 0; i < p->nsp; i++)
		if (filaddr_equal(&p->sp[i], &d->miner))
			p->dup = true;
	if (p->nsp < 64)
		p->sp[p->nsp++] = d->miner;
	return 0;
}

/* A crash right after a proposal was recorded and before it was sent,
 * and one after the SP took a proposal and before its answer was
 * recorded: after a restart each deal is made once, none is lost. */
static void test_dealer__crash(void)
{
	static const enum dealer_test_point points[] = {
		DEALER_TEST_RECORDED, DEALER_TEST_SENT,
	};
	struct dfx_piece v[32];
	struct dfx_piece all;
	struct dfx_count c;
	struct deals *ds;
	struct deal first;
	struct dfx x;
	int rc = 0;

	for (size_t i = 0; i < 2; i++) {
		rc = 0;
		dfx_open(&x, 8, NULL, "100", "1073741824");
		dfx_commit(&x, 1500000, 7 + i);
		dfx_dealer_open(&x);
		dealer_test_stop(x.d, points[i]);
		/* The first cycles wait for the escrow top-up. */
		for (int k = 0; k < 100 && rc != EFS_ECANCELED; k++) {
			rc = dealer_cycle(NULL, x.d);
			usleep(50 * 1000);
		}
		CU_ASSERT_EQUAL(rc, EFS_ECANCELED);
		dfx_count(&c, &x, -1);
		CU_ASSERT_EQUAL(c.total, 1);
		CU_ASSERT_EQUAL(c.by_state[DEAL_PROPOSING], 1);
		dfx_dealer_close(&x);
		dfx_dealer_open(&x);
		CU_ASSERT_TRUE(dfx_run(&x, 6, 90, NULL));
		CU_ASSERT_EQUAL(dfx_pieces(v, &x), 1);
		CU_ASSERT_EQUAL(v[0].live, 6);
		CU_ASSERT_FALSE(v[0].dup);
		/* The deal the crash interrupted is the one that went on,
		 * and no SP was ever given the piece twice. */
		CU_ASSERT_FATAL(deals_open(&ds, x.f.db) == 0);
		CU_ASSERT_EQUAL_FATAL(deals_get(&first, ds, 1), 0);
		CU_ASSERT_EQUAL(first.state, DEAL_ACTIVE);
		if (first.state != DEAL_ACTIVE)
			fprintf(stderr, "crash point %zu: deal 1 is %s: %s\n",
				i, deals_state_name(first.state),
				first.reason ? first.reason : "(no reason)");
		memset(&all, 0, sizeof(all));
		all.id = first.piece_id;
		CU_ASSERT_EQUAL(deals_foreach(ds, first.piece_id, false,
					      any_cb, &all), 0);
		CU_ASSERT_FALSE(all.dup);
		deals_release(&first);
		deals_close(ds);
		dfx_close(&x);
	}
}

static CU_TestInfo tests[] = {
	{ "replicates", test_dealer__replicates },
	{ "bad_commit", test_dealer__bad_commit },
	{ "same_data", test_dealer__same_data },
	{ "faults", test_dealer__faults },
	{ "garbage", test_dealer__garbage },
	{ "slashed", test_dealer__slashed },
	{ "renewal", test_dealer__renewal },
	{ "escrow", test_dealer__escrow },
	{ "datacap", test_dealer__datacap },
	{ "crash", test_dealer__crash },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "dealer", .pTests = tests })
