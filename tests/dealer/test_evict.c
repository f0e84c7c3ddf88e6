/*
 * test_evict.c - the evictor (dealer/evict.h).
 *
 * Over a local repository whose deals are written directly, the safety
 * rules one by one: a block of a commit short of ACTIVE deals stays, a
 * block shared by a replicated and an unreplicated commit stays, a
 * pinned tree stays, uncommitted data stays, deals past their end do not
 * count, directory and file nodes stay, a commit the dealer has not
 * taken yet keeps its blocks; evict_commit's report of what
 * it could not evict and why; user pins (replace, keep, unpin, other
 * pins do not protect); the thread; the piece store's index of blocks
 * by multihash and its migration; the read-only totals; the
 * allocation-failure loop.  Then the whole flow against the devnet: the
 * dealer takes commits to 6 active deals, and the evictor frees theirs
 * and keeps the rest.
 */
#include "dealer/evict.h"

#include "core/db.h"
#include "core/links.h"
#include "core/mhash.h"
#include "dealer/piece_i.h"
#include "tests/dealer/dealer_test.h"

#include "core/banned.h"

/* Far past any head the tests set. */
#define END_FAR 10000000

/* ---- a DAG as the test sees it (independently of evict_walk) ---- */

#define DAG_MAX 4096

struct dag {
	struct cid leaves[DAG_MAX];
	size_t nleaves;
	struct cid nodes[256];
	size_t nnodes;
};

struct dag_walk {
	struct dag *d;
	struct fx *f;
};

static void dag_add(struct dag_walk *w, const struct cid *id);

static int dag_child(const struct cid *id, void *cls)
{
	dag_add(cls, id);
	return 0;
}

static void dag_add(struct dag_walk *w, const struct cid *id)
{
	struct buf b = BUF_INIT(BUF_NOCAP);

	if (id->codec == CID_CODEC_RAW) {
		CU_ASSERT_FATAL(w->d->nleaves < DAG_MAX);
		w->d->leaves[w->d->nleaves++] = *id;
		return;
	}
	CU_ASSERT_FATAL(bstore_get(w->f->bs, id, &b) == 0);
	CU_ASSERT_FATAL(w->d->nnodes < 256);
	w->d->nodes[w->d->nnodes++] = *id;
	CU_ASSERT_EQUAL(links_foreach(id, b.ptr, b.len, dag_child, w), 0);
	buf_release(&b);
}

/* The leaves and nodes under root, in DFS order (files only: no leaf
 * appears twice in random data). */
static struct dag *dag_of(struct fx *f, const struct cid *root)
{
	struct dag *d = efs_calloc(1, sizeof(*d));
	struct dag_walk w = { d, f };

	CU_ASSERT_FATAL(d != NULL);
	dag_add(&w, root);
	return d;
}

static enum bstore_state state_of(struct fx *f, const struct cid *id)
{
	struct bstore_stat st;

	CU_ASSERT_FATAL(bstore_stat(&st, f->bs, id) == 0);
	return st.state;
}

static size_t count_state(struct fx *f, const struct cid *v, size_t n,
			  enum bstore_state s)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += state_of(f, &v[i]) == s;
	return k;
}

static uint64_t size_of(struct fx *f, const struct cid *v, size_t n)
{
	struct bstore_stat st;
	uint64_t total = 0;

	for (size_t i = 0; i < n; i++) {
		CU_ASSERT_FATAL(bstore_stat(&st, f->bs, &v[i]) == 0);
		total += st.size;
	}
	return total;
}

/* ---- a local repository with deals written directly ---- */

struct efx {
	struct fx f;              /* blockstore and piece store */
	struct deals *ds;
	struct evict *e;
	uint8_t tag;              /* the next deal's UUID byte */
	struct cid root[8];       /* by commit ID */
};

static void efx_open(struct efx *x)
{
	memset(x, 0, sizeof(*x));
	/* every commit its own piece: none under 256 bytes */
	fx_open(&x->f, 256, 1 << 20, 0, 64 << 20);
	CU_ASSERT_FATAL(deals_open(&x->ds, x->f.db) == 0);
}

static void efx_close(struct efx *x)
{
	evict_close(x->e);
	deals_close(x->ds);
	fx_close(&x->f);
}

/* Commit id: a file of len random bytes (seed) in 1 KiB leaves. */
static void efx_commit(struct efx *x, int64_t id, size_t len, uint64_t seed)
{
	make_file(&x->root[id], &x->f, len, seed, 1024, 16);
	CU_ASSERT_FATAL(piece_add_commit(x->f.ps, id, &x->root[id]) == 0);
}

static int piece_id_cb(const struct piece_info *p,
		       const struct piece_member *m, void *cls)
{
	(void)m;
	*(int64_t *)cls = p->id;
	return 0;
}

/* n deals in state s ending at end for commit id's piece. */
static void efx_deals(struct efx *x, int64_t id, unsigned n,
		      enum deal_state s, int64_t end)
{
	int64_t piece = -1;
	char miner[16];

	CU_ASSERT_EQUAL(piece_commit_foreach(x->f.ps, id, piece_id_cb, &piece),
			0);
	CU_ASSERT_FATAL(piece > 0);
	for (unsigned i = 0; i < n; i++) {
		uint8_t data[4] = { ++x->tag, 1, 2, 3 };
		struct deal d;

		memset(&d, 0, sizeof(d));
		memset(d.uuid, x->tag, DEAL_UUID_LEN);
		d.piece_id = piece;
		CU_ASSERT_EQUAL(cid_hash(&d.piece_cid, 1, 0x55,
					 MHASH_SHA2_256, data, 4), 0);
		d.padded = 1 << 20;
		snprintf(miner, sizeof(miner), "f0%u", 1000 + x->tag);
		CU_ASSERT_EQUAL(filaddr_parse(&d.miner, NULL, miner,
					      strlen(miner)), 0);
		snprintf(d.proto, sizeof(d.proto), "mk12");
		d.state = s;
		bigint_from_u64(&d.price, 0);
		bigint_from_u64(&d.collateral, 0);
		d.start_epoch = 100;
		d.end_epoch = end;
		CU_ASSERT_EQUAL(cid_hash(&d.proposal_cid, 1, 0x71,
					 MHASH_SHA2_256, data, 4), 0);
		data[1] = 9;
		CU_ASSERT_EQUAL(cid_hash(&d.signed_cid, 1, 0x71,
					 MHASH_SHA2_256, data, 4), 0);
		buf_init(&d.proposal, BUF_NOCAP);
		CU_ASSERT_EQUAL(buf_add(&d.proposal, "\xa0", 1), 0);
		d.deal_id = d.sector_start = d.slash_epoch = -1;
		CU_ASSERT_EQUAL(deals_insert(x->ds, &d), 0);
		deals_release(&d);
	}
}

/* The dealer's report says the chain is at height (dealer_report.c's
 * table, version 1, as tests/cli/status_fill.c writes it). */
static void set_head(const char *db_path, int64_t height)
{
	static const char *const schema[] = {
		"CREATE TABLE dealer_report ("
		" key TEXT PRIMARY KEY, value TEXT NOT NULL,"
		" time INTEGER NOT NULL) WITHOUT ROWID;"
		"CREATE TABLE dealer_piece_notes ("
		" piece_id INTEGER PRIMARY KEY, note TEXT NOT NULL,"
		" time INTEGER NOT NULL);",
	};
	char sql[256];
	struct db *db;

	CU_ASSERT_FATAL(db_open(&db, db_path, DB_OPEN_CREATE) == 0);
	CU_ASSERT_FATAL(db_migrate(db, NULL, "dealer_report", schema, 1) == 0);
	snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO dealer_report"
		 " VALUES ('head', '{\"height\":%lld,\"time\":1}', 1)",
		 (long long)height);
	CU_ASSERT_EQUAL(db_exec(db, sql), 0);
	db_close(db);
}

static bool has_short(const struct evict_result *r, int64_t commit,
		      unsigned active)
{
	for (size_t i = 0; i < r->nshorts; i++)
		if (r->shorts[i].commit_id == commit)
			return r->shorts[i].pieced &&
			       r->shorts[i].active == active &&
			       r->shorts[i].want == 6;
	return false;
}

static void dump(const char *what, const struct evict_result *r)
{
	fprintf(stderr, "%s: evicted %llu (%llu bytes), seen %llu, already "
		"%llu;", what, (unsigned long long)r->blocks,
		(unsigned long long)r->bytes, (unsigned long long)r->seen,
		(unsigned long long)r->already);
	for (size_t i = 0; i < EVICT_NREASONS; i++)
		fprintf(stderr, " %s %llu", evict_reason_name(i),
			(unsigned long long)r->kept[i]);
	fprintf(stderr, "\n");
}

/*
 * Five commits and a file never committed; the cache size of 1 byte
 * asks for everything that may go:
 *   1  A, 6 ACTIVE deals: its leaves go, except the 19 it shares with 3
 *   2  B, 2 ACTIVE and 4 proposed of 6: short, stays
 *   3  the first 19 KiB of A, pieced, no deals: short, stays
 *   4  D, 6 ACTIVE deals, under a user pin: stays
 *   5  G, 6 ACTIVE deals that ended before the chain's head: stays
 *   U  never committed (no location): stays
 * Directory and file nodes stay in every case.
 */
static void test_evict__rules(void)
{
	struct evict_opts o = EVICT_OPTS_INIT;
	struct dag *a, *b, *c, *d, *g, *u;
	struct evict_totals et;
	struct bstore_totals bt;
	struct evict_result r;
	struct buf data = BUF_INIT(BUF_NOCAP);
	struct cid uroot;
	struct efx x;
	uint64_t want_bytes;
	size_t n;

	efx_open(&x);
	efx_commit(&x, 1, 200000, 1);
	efx_commit(&x, 2, 50000, 2);
	efx_commit(&x, 3, 20000, 1);
	efx_commit(&x, 4, 30000, 4);
	efx_commit(&x, 5, 40000, 5);
	make_file(&uroot, &x.f, 10000, 6, 1024, 16);
	efx_deals(&x, 1, 6, DEAL_ACTIVE, END_FAR);
	efx_deals(&x, 2, 2, DEAL_ACTIVE, END_FAR);
	efx_deals(&x, 2, 4, DEAL_PROPOSING, END_FAR);
	efx_deals(&x, 4, 6, DEAL_ACTIVE, END_FAR);
	efx_deals(&x, 5, 6, DEAL_ACTIVE, 900);
	set_head(x.f.db, 1000);
	a = dag_of(&x.f, &x.root[1]);
	b = dag_of(&x.f, &x.root[2]);
	c = dag_of(&x.f, &x.root[3]);
	d = dag_of(&x.f, &x.root[4]);
	g = dag_of(&x.f, &x.root[5]);
	u = dag_of(&x.f, &uroot);
	CU_ASSERT_FATAL(a->nleaves == 196 && c->nleaves == 20);
	for (size_t i = 0; i < 19; i++)
		CU_ASSERT_TRUE(cid_equal(&a->leaves[i], &c->leaves[i]));
	CU_ASSERT_FALSE(cid_equal(&a->leaves[19], &c->leaves[19]));
	want_bytes = size_of(&x.f, a->leaves + 19, a->nleaves - 19);

	o.cache_size = 1;
	o.batch = 16; /* several transactions */
	CU_ASSERT_FATAL(evict_open(&x.e, x.f.bs, x.f.db, &o) == 0);
	CU_ASSERT_EQUAL(evict_pin(NULL, x.e, &x.root[4], "/docs"), 0);
	CU_ASSERT_EQUAL_FATAL(evict_run(&r, x.e), 0);
	dump("run", &r);

	/* only A's own leaves went */
	CU_ASSERT_EQUAL(r.blocks, a->nleaves - 19);
	CU_ASSERT_EQUAL(r.bytes, want_bytes);
	CU_ASSERT_EQUAL(count_state(&x.f, a->leaves + 19, a->nleaves - 19,
				    BSTORE_EVICTED), a->nleaves - 19);
	CU_ASSERT_EQUAL(count_state(&x.f, a->leaves, 19, BSTORE_LOCAL), 19);
	CU_ASSERT_EQUAL(count_state(&x.f, b->leaves, b->nleaves, BSTORE_LOCAL),
			b->nleaves);
	CU_ASSERT_EQUAL(count_state(&x.f, c->leaves, c->nleaves, BSTORE_LOCAL),
			c->nleaves);
	CU_ASSERT_EQUAL(count_state(&x.f, d->leaves, d->nleaves, BSTORE_LOCAL),
			d->nleaves);
	CU_ASSERT_EQUAL(count_state(&x.f, g->leaves, g->nleaves, BSTORE_LOCAL),
			g->nleaves);
	CU_ASSERT_EQUAL(count_state(&x.f, u->leaves, u->nleaves, BSTORE_LOCAL),
			u->nleaves);
	CU_ASSERT_EQUAL(count_state(&x.f, a->nodes, a->nnodes, BSTORE_LOCAL),
			a->nnodes);
	/* why: the pinned tree whole, the short commits' blocks, the
	 * nodes of A, the file never committed */
	CU_ASSERT_EQUAL(r.kept[EVICT_KEPT_PINNED], d->nleaves + d->nnodes);
	CU_ASSERT(r.kept[EVICT_KEPT_SHORT] >= b->nleaves + c->nleaves +
					      g->nleaves);
	CU_ASSERT(r.kept[EVICT_KEPT_LINKS] >= a->nnodes - 1);
	CU_ASSERT(r.kept[EVICT_KEPT_NO_LOCATION] >= u->nleaves + u->nnodes);
	CU_ASSERT_EQUAL(r.kept[EVICT_KEPT_REFUSED], 0);
	CU_ASSERT_EQUAL(r.kept[EVICT_KEPT_NO_COMMIT], 0);
	CU_ASSERT_TRUE(has_short(&r, 2, 2));
	CU_ASSERT_TRUE(has_short(&r, 3, 0));
	CU_ASSERT_TRUE(has_short(&r, 5, 0));
	for (size_t i = 0; i < r.nshorts; i++)
		CU_ASSERT(r.shorts[i].commit_id != 1 &&
			  r.shorts[i].commit_id != 4);
	/* the totals, here and read-only */
	CU_ASSERT_EQUAL(r.local_after, r.local_before - r.bytes);
	CU_ASSERT_EQUAL(bstore_stat_totals(&bt, x.f.bs), 0);
	CU_ASSERT_EQUAL(evict_totals_read(&et, x.f.db), 0);
	CU_ASSERT_EQUAL(et.evicted_blocks, r.blocks);
	CU_ASSERT_EQUAL(et.evicted_bytes, r.bytes);
	CU_ASSERT_EQUAL(et.local_bytes, bt.bytes[BSTORE_LOCAL]);
	CU_ASSERT_EQUAL(et.local_bytes, r.local_after);
	CU_ASSERT_EQUAL(bstore_get(x.f.bs, &a->leaves[100], &data),
			EFS_EEVICTED);

	/* a second pass finds nothing more to do */
	CU_ASSERT_EQUAL(evict_run(&r, x.e), 0);
	CU_ASSERT_EQUAL(r.blocks, 0);

	/* evict_commit of the short commit says why it kept everything */
	CU_ASSERT_EQUAL(evict_commit(&r, x.e, &x.root[2]), 0);
	CU_ASSERT_EQUAL(r.blocks, 0);
	CU_ASSERT_EQUAL(r.kept[EVICT_KEPT_SHORT], b->nleaves);
	CU_ASSERT_EQUAL(r.kept[EVICT_KEPT_LINKS], b->nnodes);
	CU_ASSERT_EQUAL(r.nshorts, 1);
	CU_ASSERT_TRUE(has_short(&r, 2, 2));
	/* ... and of A, what it did before */
	CU_ASSERT_EQUAL(evict_commit(&r, x.e, &x.root[1]), 0);
	CU_ASSERT_EQUAL(r.already, a->nleaves - 19);
	CU_ASSERT_EQUAL(r.kept[EVICT_KEPT_SHORT], 19);
	CU_ASSERT_TRUE(has_short(&r, 3, 0));

	/* the pinned tree goes once unpinned */
	CU_ASSERT_EQUAL(evict_unpin(&n, x.e, &x.root[4], NULL), 0);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(evict_commit(&r, x.e, &x.root[4]), 0);
	CU_ASSERT_EQUAL(r.blocks, d->nleaves);
	CU_ASSERT_EQUAL(r.kept[EVICT_KEPT_LINKS], d->nnodes);
	CU_ASSERT_EQUAL(count_state(&x.f, d->leaves, d->nleaves,
				    BSTORE_EVICTED), d->nleaves);

	/* fewer deals asked: commit 2 is enough now */
	o.min_active = 2;
	CU_ASSERT_EQUAL(evict_set_opts(x.e, &o), 0);
	CU_ASSERT_EQUAL(evict_commit(&r, x.e, &x.root[2]), 0);
	CU_ASSERT_EQUAL(r.blocks, b->nleaves);

	/* data never committed has no location */
	CU_ASSERT_EQUAL(evict_commit(&r, x.e, &uroot), 0);
	CU_ASSERT_EQUAL(r.blocks, 0);
	CU_ASSERT_EQUAL(r.kept[EVICT_KEPT_NO_LOCATION], u->nleaves);

	/* under the cache size, a pass does nothing */
	o.cache_size = 1ull << 40;
	CU_ASSERT_EQUAL(evict_set_opts(x.e, &o), 0);
	CU_ASSERT_EQUAL(evict_run(&r, x.e), 0);
	CU_ASSERT_EQUAL(r.blocks, 0);
	CU_ASSERT_EQUAL(r.seen, 0);

	/* a root the store does not hold */
	uroot.digest[0] ^= 1;
	CU_ASSERT_EQUAL(evict_commit(&r, x.e, &uroot), EFS_ENOTFOUND);
	o.min_active = 0;
	CU_ASSERT_EQUAL(evict_set_opts(x.e, &o), EFS_EINVAL);

	/* the blockstore agrees with what was done */
	{
		struct bstore_fsck_report rep;

		CU_ASSERT_EQUAL(bstore_fsck(&rep, x.f.bs, 0), 0);
		CU_ASSERT_EQUAL(rep.problems, 0);
	}
	buf_release(&data);
	efs_free(a);
	efs_free(b);
	efs_free(c);
	efs_free(d);
	efs_free(g);
	efs_free(u);
	efx_close(&x);
}

/* Without deal tables (the dealer never ran) nothing is safe; without
 * piece tables nothing is even in a commit. */
static void test_evict__no_dealer(void)
{
	struct evict_opts o = EVICT_OPTS_INIT;
	struct evict_result r;
	struct fx f;
	struct cid root;
	struct evict *e;
	struct piece_store *ps;

	fx_open(&f, 256, 1 << 20, 0, 64 << 20);
	piece_store_close(f.ps);
	f.ps = NULL;
	make_file(&root, &f, 30000, 7, 1024, 16);
	o.cache_size = 1;
	CU_ASSERT_FATAL(evict_open(&e, f.bs, f.db, &o) == 0);
	CU_ASSERT_EQUAL(evict_run(&r, e), 0);
	CU_ASSERT_EQUAL(r.blocks, 0);
	CU_ASSERT(r.kept[EVICT_KEPT_NO_LOCATION] > 0);
	/* pieced now, but no deals */
	CU_ASSERT_FATAL(piece_store_open(&ps, f.db, f.bs, &f.lim) == 0);
	CU_ASSERT_FATAL(piece_add_commit(ps, 1, &root) == 0);
	CU_ASSERT_EQUAL(evict_commit(&r, e, &root), 0);
	CU_ASSERT_EQUAL(r.blocks, 0);
	CU_ASSERT(r.kept[EVICT_KEPT_SHORT] > 0);
	CU_ASSERT_EQUAL(r.nshorts, 1);
	CU_ASSERT_EQUAL(r.shorts[0].active, 0);
	evict_close(e);
	piece_store_close(ps);
	fx_close(&f);
}

/* ---- commits the dealer has not taken yet ---- */

/* The commit log of the queued test: commit 2 appears only once the
 * pass has started (its first call), as a commit made meanwhile. */
struct log {
	struct cid root[3];
	unsigned calls;
};

static int log_list(void *cls, int64_t after, dealer_commit_cb cb,
		    void *cb_cls)
{
	struct log *l = cls;
	int64_t last = l->calls++ ? 2 : 1;
	int rc;

	for (int64_t id = after + 1; id <= last; id++)
		if ((rc = cb(id, &l->root[id], cb_cls)) != 0)
			return rc;
	return 0;
}

/*
 * A (commit 1) is replicated; commit 2, the first 29 KiB of A, is made
 * while a pass runs and the dealer has not taken it: A's 29 leaves it
 * shares stay, the rest go.  Once the dealer takes it (pieced, no
 * deals), they stay as short instead.
 */
static void test_evict__queued(void)
{
	struct evict_opts o = EVICT_OPTS_INIT;
	struct evict_result r;
	struct log log = { 0 };
	struct dag *a;
	struct efx x;

	efx_open(&x);
	efx_commit(&x, 1, 200000, 61);
	make_file(&log.root[2], &x.f, 30000, 61, 1024, 16);
	log.root[1] = x.root[1];
	efx_deals(&x, 1, 6, DEAL_ACTIVE, END_FAR);
	a = dag_of(&x.f, &x.root[1]);
	o.cache_size = 1;
	o.batch = 8;
	o.commits.list = log_list;
	o.commits.cls = &log;
	CU_ASSERT_FATAL(evict_open(&x.e, x.f.bs, x.f.db, &o) == 0);
	CU_ASSERT_EQUAL_FATAL(evict_run(&r, x.e), 0);
	dump("queued", &r);
	CU_ASSERT(log.calls >= 2);
	CU_ASSERT_EQUAL(count_state(&x.f, a->leaves, 29, BSTORE_LOCAL), 29);
	CU_ASSERT_EQUAL(count_state(&x.f, a->leaves + 29, a->nleaves - 29,
				    BSTORE_EVICTED), a->nleaves - 29);
	CU_ASSERT_EQUAL(r.blocks, a->nleaves - 29);
	CU_ASSERT(r.kept[EVICT_KEPT_QUEUED] >= 29);
	/* taken into a piece, without deals yet: short now */
	x.root[2] = log.root[2];
	CU_ASSERT_FATAL(piece_add_commit(x.f.ps, 2, &x.root[2]) == 0);
	CU_ASSERT_EQUAL(evict_commit(&r, x.e, &x.root[1]), 0);
	CU_ASSERT_EQUAL(r.kept[EVICT_KEPT_QUEUED], 0);
	CU_ASSERT_EQUAL(r.kept[EVICT_KEPT_SHORT], 29);
	CU_ASSERT_TRUE(has_short(&r, 2, 0));
	efs_free(a);
	efx_close(&x);
}

/* ---- user pins ---- */

struct pin_seen {
	unsigned user, other;
	struct cid root;
};

static int pin_seen_cb(const struct bstore_pin *pin, void *cls)
{
	struct pin_seen *s = cls;

	if (strncmp(pin->name, EVICT_PIN_PREFIX, 5) == 0) {
		s->user++;
		s->root = pin->root;
	} else {
		s->other++;
	}
	return 0;
}

static struct pin_seen pins_of(struct fx *f)
{
	struct pin_seen s = { 0 };

	CU_ASSERT_EQUAL(bstore_pins_foreach(f->bs, pin_seen_cb, &s), 0);
	return s;
}

static void test_evict__pins(void)
{
	struct evict_pin_info info, again;
	struct evict_opts o = EVICT_OPTS_INIT;
	struct evict_result r;
	struct pin_seen s;
	struct cid bad;
	int64_t fs_pin;
	struct efx x;
	size_t n;

	efx_open(&x);
	efx_commit(&x, 1, 30000, 11);
	efx_commit(&x, 2, 30000, 12);
	efx_deals(&x, 1, 6, DEAL_ACTIVE, END_FAR);
	efx_deals(&x, 2, 6, DEAL_ACTIVE, END_FAR);
	o.cache_size = 1;
	CU_ASSERT_FATAL(evict_open(&x.e, x.f.bs, x.f.db, &o) == 0);

	/* pinning twice makes one pin; what it covers */
	CU_ASSERT_EQUAL(evict_pin(&info, x.e, &x.root[1], "/docs"), 0);
	CU_ASSERT_EQUAL(evict_pin(&again, x.e, &x.root[1], "/docs"), 0);
	CU_ASSERT_EQUAL(info.pin_id, again.pin_id);
	CU_ASSERT_EQUAL(info.blocks, 30 + 3);
	CU_ASSERT_EQUAL(info.evicted_blocks, 0);
	s = pins_of(&x.f);
	CU_ASSERT_EQUAL(s.user, 1);
	/* the same name for another root replaces it (the directory
	 * changed) */
	CU_ASSERT_EQUAL(evict_pin(&info, x.e, &x.root[2], "/docs"), 0);
	s = pins_of(&x.f);
	CU_ASSERT_EQUAL(s.user, 1);
	CU_ASSERT_TRUE(cid_equal(&s.root, &x.root[2]));
	/* another name is another pin */
	CU_ASSERT_EQUAL(evict_pin(&info, x.e, &x.root[1], "bafy-as-typed"), 0);
	CU_ASSERT_EQUAL(pins_of(&x.f).user, 2);

	/* both trees stay; a filesystem pin protects nothing */
	CU_ASSERT_EQUAL(bstore_pin(&fs_pin, x.f.bs, &x.root[1], "fs:7"), 0);
	CU_ASSERT_EQUAL(evict_run(&r, x.e), 0);
	CU_ASSERT_EQUAL(r.blocks, 0);
	CU_ASSERT_EQUAL(r.kept[EVICT_KEPT_PINNED], 2 * (30 + 3));

	/* unpin by name, then by root */
	CU_ASSERT_EQUAL(evict_unpin(&n, x.e, NULL, "/docs"), 0);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(evict_unpin(&n, x.e, NULL, "/docs"), 0);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(evict_run(&r, x.e), 0);
	CU_ASSERT_EQUAL(r.blocks, 30);
	CU_ASSERT_EQUAL(evict_unpin(&n, x.e, &x.root[1], NULL), 0);
	CU_ASSERT_EQUAL(n, 1);
	s = pins_of(&x.f);
	CU_ASSERT_EQUAL(s.user, 0);
	CU_ASSERT_EQUAL(s.other, 1);
	CU_ASSERT_EQUAL(evict_run(&r, x.e), 0);
	CU_ASSERT_EQUAL(r.blocks, 30);

	/* pinning an evicted tree says so */
	CU_ASSERT_EQUAL(evict_pin(&info, x.e, &x.root[1], "/again"), 0);
	CU_ASSERT_EQUAL(info.evicted_blocks, 30);
	CU_ASSERT_EQUAL(info.blocks, 33);

	/* errors */
	bad = x.root[1];
	bad.digest[3] ^= 0x40;
	CU_ASSERT_EQUAL(evict_pin(NULL, x.e, &bad, "/x"), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(evict_pin(NULL, x.e, &x.root[1], ""), EFS_EINVAL);
	efx_close(&x);
}

/* ---- the thread ---- */

static void test_evict__thread(void)
{
	struct evict_opts o = EVICT_OPTS_INIT;
	struct bstore_totals t;
	struct efx x;
	int i;

	efx_open(&x);
	efx_commit(&x, 1, 30000, 21);
	efx_deals(&x, 1, 6, DEAL_ACTIVE, END_FAR);
	o.cache_size = 1;
	CU_ASSERT_FATAL(evict_open(&x.e, x.f.bs, x.f.db, &o) == 0);
	CU_ASSERT_EQUAL(evict_start(x.e, 3600), 0);
	CU_ASSERT_EQUAL(evict_start(x.e, 3600), EFS_EINVAL);
	/* the first pass runs at once; a wake runs another */
	for (i = 0; i < 100; i++) {
		CU_ASSERT_EQUAL(bstore_stat_totals(&t, x.f.bs), 0);
		if (t.count[BSTORE_EVICTED] == 30)
			break;
		usleep(20000);
	}
	CU_ASSERT_EQUAL(t.count[BSTORE_EVICTED], 30);
	evict_wake(x.e);
	evict_stop(x.e);
	evict_stop(x.e);
	CU_ASSERT_EQUAL(evict_start(x.e, 0), EFS_EINVAL);
	efx_close(&x);
}

/* ---- the piece store's index ---- */

static int commits_cb(int64_t id, void *cls)
{
	int64_t *v = cls;

	v[++v[0]] = id;
	return 0;
}

static void commits_of(int64_t out[8], struct fx *f, const struct cid *id)
{
	memset(out, 0, 8 * sizeof(*out));
	CU_ASSERT_EQUAL(piece_block_commits(f->ps, id, commits_cb, out), 0);
}

static void test_evict__block_commits(void)
{
	static const char plan[] =
		"EXPLAIN QUERY PLAN SELECT DISTINCT k.commit_id FROM"
		" piece_block k WHERE " PIECE_BLOCK_MH("k.cid") " = ?1";
	struct piece_store *ro;
	struct cid v0, raw;
	sqlite3_stmt *st;
	int64_t got[8], n = 0;
	struct dag *a;
	struct db *db;
	struct efx x;
	bool used = false;
	int version = 0;

	efx_open(&x);
	efx_commit(&x, 1, 100000, 31);
	efx_commit(&x, 3, 20000, 31);
	a = dag_of(&x.f, &x.root[1]);
	commits_of(got, &x.f, &a->leaves[0]);
	CU_ASSERT(got[0] == 2 && got[1] == 1 && got[2] == 3);
	commits_of(got, &x.f, &a->leaves[50]);
	CU_ASSERT(got[0] == 1 && got[1] == 1);
	/* by multihash: the root's v0 CID, its bytes named raw */
	CU_ASSERT_EQUAL(cid_init(&v0, 0, CID_CODEC_DAG_PB, x.root[1].hash,
				 x.root[1].digest, x.root[1].digest_len), 0);
	commits_of(got, &x.f, &v0);
	CU_ASSERT(got[0] == 1 && got[1] == 1);
	CU_ASSERT_EQUAL(cid_init(&raw, 1, CID_CODEC_RAW, x.root[1].hash,
				 x.root[1].digest, x.root[1].digest_len), 0);
	commits_of(got, &x.f, &raw);
	CU_ASSERT(got[0] == 1 && got[1] == 1);
	raw.digest[0] ^= 1;
	commits_of(got, &x.f, &raw);
	CU_ASSERT_EQUAL(got[0], 0);

	/* the migration from version 1 adds the index, and it is used */
	piece_store_close(x.f.ps);
	x.f.ps = NULL;
	CU_ASSERT_FATAL(db_open(&db, x.f.db, 0) == 0);
	CU_ASSERT_EQUAL(db_exec(db, "DROP INDEX piece_block_mh;"
				"UPDATE db_schema SET version = 1"
				" WHERE module = 'piece'"), 0);
	CU_ASSERT_EQUAL(db_query_int(&n, db, "SELECT count(*) FROM"
				     " sqlite_master WHERE name ="
				     " 'piece_block_mh'", NULL, 0), 1);
	CU_ASSERT_EQUAL(n, 0);
	db_close(db);
	/* a read-only store reads version 1 (slower, same answers) */
	CU_ASSERT_FATAL(piece_store_open_ro(&ro, x.f.db, NULL) == 0);
	CU_ASSERT_EQUAL(piece_block_commits(ro, &a->leaves[0], commits_cb,
					    memset(got, 0, sizeof(got))), 0);
	CU_ASSERT_EQUAL(got[0], 2);
	piece_store_close(ro);
	fx_open_store(&x.f);
	CU_ASSERT_FATAL(db_open(&db, x.f.db, 0) == 0);
	CU_ASSERT_EQUAL(db_schema_version(&version, db, "piece"), 0);
	CU_ASSERT_EQUAL(version, 2);
	CU_ASSERT_EQUAL(db_query_int(&n, db, "SELECT count(*) FROM"
				     " sqlite_master WHERE name ="
				     " 'piece_block_mh'", NULL, 0), 1);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_FATAL(db_stmt(&st, db, plan) == 0);
	while (db_step(db, st) > 0)
		used |= strstr((const char *)sqlite3_column_text(st, 3),
			       "piece_block_mh") != NULL;
	db_reset(st);
	CU_ASSERT_TRUE(used);
	db_close(db);
	commits_of(got, &x.f, &a->leaves[0]);
	CU_ASSERT_EQUAL(got[0], 2);
	efs_free(a);
	efx_close(&x);
}

/* ---- allocation failures ---- */

struct alloc_case {
	struct efx *x;
};

static int alloc_once(void *payload)
{
	struct evict_opts o = EVICT_OPTS_INIT;
	struct alloc_case *c = payload;
	struct evict_pin_info info;
	struct evict_result r;
	struct evict *e;
	size_t n;
	int rc;

	o.cache_size = 1;
	o.batch = 4;
	if ((rc = evict_open(&e, c->x->f.bs, c->x->f.db, &o)) < 0)
		return rc;
	if ((rc = evict_pin(&info, e, &c->x->root[2], "/p")) == 0 &&
	    (rc = evict_run(&r, e)) == 0 &&
	    (rc = evict_commit(&r, e, &c->x->root[1])) == 0)
		rc = evict_unpin(&n, e, &c->x->root[2], NULL);
	evict_close(e);
	return rc;
}

static void test_evict__alloc(void)
{
	struct alloc_case c;
	struct efx x;

	efx_open(&x);
	efx_commit(&x, 1, 20000, 41);
	efx_commit(&x, 2, 20000, 42);
	efx_commit(&x, 3, 8000, 43);
	efx_deals(&x, 1, 6, DEAL_ACTIVE, END_FAR);
	efx_deals(&x, 2, 6, DEAL_ACTIVE, END_FAR);
	c.x = &x;
	CU_ASSERT(harness_alloc_loop(alloc_once, &c) > 10);
	efx_close(&x);
}

/* ---- against the devnet ---- */

/*
 * The dealer takes A (with a file sharing nothing) and D to 6 active
 * deals; then B (new data) and C (the first 19 KiB of A) are committed
 * and taken into pieces by one more cycle, too soon for any deal to be
 * active.  An evictor with a tiny cache frees A's own leaves and
 * nothing of B, C (nor A's leaves C shares) or the pinned D.
 */
static void test_evict__devnet(void)
{
	struct evict_opts o = EVICT_OPTS_INIT;
	struct dealer_cycle_stats st;
	struct evict_result r;
	struct dag *a, *b, *c, *d;
	struct evict *e;
	struct dfx x;

	dfx_open(&x, 8, NULL, "100", "1073741824");
	dfx_commit(&x, 1500000, 51);               /* 1: A */
	dfx_commit(&x, 1200000, 54);               /* 2: D */
	dfx_dealer_open(&x);
	CU_ASSERT_FATAL(dfx_run(&x, 6, 120, NULL));
	dfx_commit(&x, 1100000, 52);               /* 3: B */
	dfx_commit(&x, 20000, 51);                 /* 4: C, A's prefix */
	CU_ASSERT_EQUAL(dealer_cycle(&st, x.d), 0);
	a = dag_of(&x.f, &x.c[0].root);
	d = dag_of(&x.f, &x.c[1].root);
	b = dag_of(&x.f, &x.c[2].root);
	c = dag_of(&x.f, &x.c[3].root);

	o.cache_size = 1;
	CU_ASSERT_FATAL(evict_open(&e, x.f.bs, x.f.db, &o) == 0);
	CU_ASSERT_EQUAL(evict_pin(NULL, e, &x.c[1].root, "/d"), 0);
	CU_ASSERT_EQUAL_FATAL(evict_run(&r, e), 0);
	dump("devnet run", &r);
	CU_ASSERT_EQUAL(r.blocks, a->nleaves - 19);
	CU_ASSERT_EQUAL(count_state(&x.f, a->leaves + 19, a->nleaves - 19,
				    BSTORE_EVICTED),
			a->nleaves - 19);
	CU_ASSERT_EQUAL(count_state(&x.f, a->leaves, 19, BSTORE_LOCAL), 19);
	CU_ASSERT_EQUAL(count_state(&x.f, b->leaves, b->nleaves, BSTORE_LOCAL),
			b->nleaves);
	CU_ASSERT_EQUAL(count_state(&x.f, c->leaves, c->nleaves, BSTORE_LOCAL),
			c->nleaves);
	CU_ASSERT_EQUAL(count_state(&x.f, d->leaves, d->nleaves, BSTORE_LOCAL),
			d->nleaves);
	CU_ASSERT_EQUAL(r.kept[EVICT_KEPT_PINNED], d->nleaves + d->nnodes);
	CU_ASSERT_TRUE(has_short(&r, 3, 0));
	CU_ASSERT_TRUE(has_short(&r, 4, 0));
	evict_close(e);
	efs_free(a);
	efs_free(b);
	efs_free(c);
	efs_free(d);
	dfx_close(&x);
}

static CU_TestInfo tests[] = {
	{ "rules", test_evict__rules },
	{ "no_dealer", test_evict__no_dealer },
	{ "queued", test_evict__queued },
	{ "pins", test_evict__pins },
	{ "thread", test_evict__thread },
	{ "block_commits", test_evict__block_commits },
	{ "alloc", test_evict__alloc },
	{ "devnet", test_evict__devnet },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "evict", .pTests = tests })
