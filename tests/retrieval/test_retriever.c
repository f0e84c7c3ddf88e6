/*
 * test_retriever.c - retrieval against the devnet: a committed file with
 * 6 ACTIVE deals has its leaves evicted, then is read back through the
 * retriever's block source byte for byte; read-ahead windows (one
 * request each, counted by the retriever and in the miner log); the best
 * SP offline; SPs sending corrupt or truncated bytes (rejected, logged,
 * another serves, fsck clean); every SP offline (EIO within the
 * timeout, metadata still readable, back when one returns); SPs slower
 * than the deadline; a wrong recorded offset (the gateway serves); 16
 * threads on one block and on one file (one request per range); whole
 * DAGs (retriever_retrieve_dag) by location and, into a fresh
 * repository, through IPNI.  Without the devnet: opening, unknown CIDs,
 * the multihash set, the cache of blocks just fetched, the allocation-
 * failure loop.
 */
#include "tests/retrieval/retrieval_test.h"

#include <time.h>

#include "core/clock.h"
#include "core/dagpb.h"
#include "retrieval/retriever_i.h"

#include "core/banned.h"

static double now_s(void)
{
	return efs_clock_mono();
}

/* ---- without a devnet ---- */

static void test_retriever__open(void)
{
	struct retriever_opts o = RETRIEVER_OPTS_INIT;
	struct retriever *r;
	struct bstore *bs;
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct cid id;
	char *dir = harness_tmpdir(), db[4200];

	CU_ASSERT_FATAL(dir != NULL);
	snprintf(db, sizeof(db), "%s/index.db", dir);
	CU_ASSERT_EQUAL_FATAL(bstore_open(&bs, dir, NULL), 0);
	o.max_fetches = 0;
	CU_ASSERT_EQUAL(retriever_open(&r, bs, db, &o), EFS_EINVAL);
	o.max_fetches = RETRIEVER_FETCHES_MAX + 1;
	CU_ASSERT_EQUAL(retriever_open(&r, bs, db, &o), EFS_EINVAL);
	o.max_fetches = 2;
	o.timeout_ms = 0;
	CU_ASSERT_EQUAL(retriever_open(&r, bs, db, &o), EFS_EINVAL);
	o.timeout_ms = 2000;
	o.ipni_url = "ftp://x";
	CU_ASSERT_EQUAL(retriever_open(&r, bs, db, &o), EFS_EINVAL);
	o.ipni_url = NULL;
	CU_ASSERT_EQUAL_FATAL(retriever_open(&r, bs, db, &o), 0);

	/* nobody knows it: not found, at once */
	CU_ASSERT_EQUAL(cid_hash(&id, 1, CID_CODEC_RAW, MHASH_SHA2_256, "x", 1),
			0);
	CU_ASSERT_EQUAL(retriever_fetch(r, &id, 0), EFS_ENOTFOUND);
	CU_ASSERT(strstr(efs_error_msg(), "no location") != NULL);
	/* here already, or identity: at once */
	CU_ASSERT_EQUAL(bstore_put(bs, &id, (const uint8_t *)"x", 1), 0);
	CU_ASSERT_EQUAL(retriever_fetch(r, &id, 0), 0);
	CU_ASSERT_EQUAL(cid_hash(&id, 1, CID_CODEC_RAW, MHASH_IDENTITY, "y",
				 1), 0);
	CU_ASSERT_EQUAL(retriever_fetch(r, &id, 0), 0);
	CU_ASSERT_EQUAL(retriever_prefetch(r, &id), 0);
	{
		struct blockio_source src = retriever_source(r);

		CU_ASSERT_EQUAL(cid_hash(&id, 1, CID_CODEC_RAW,
					 MHASH_SHA2_256, "z", 1), 0);
		CU_ASSERT_EQUAL(blockio_get(&src, &id, &b), EFS_ENOTFOUND);
	}
	retriever_close(r);
	retriever_close(NULL);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	buf_release(&b);
	harness_tmpdir_free(dir);
}

/* The multihash set against a plain list, with many deletions. */
static void test_retriever__set(void)
{
	static struct cid ids[3000];
	struct rset s;
	uint64_t x = 7;
	bool added, in[3000] = { false };

	retriever_set_init(&s);
	for (size_t i = 0; i < 3000; i++) {
		uint8_t v[8];

		memcpy(v, &i, sizeof(v));
		CU_ASSERT_EQUAL(cid_hash(&ids[i], 1, CID_CODEC_RAW,
					 MHASH_SHA2_256, v, sizeof(v)), 0);
	}
	for (int round = 0; round < 20000; round++) {
		size_t i = harness_rand64(&x) % 3000;

		if (harness_rand64(&x) % 3) {
			CU_ASSERT_EQUAL(retriever_set_add(&s, &ids[i], &added),
					0);
			CU_ASSERT_EQUAL(added, !in[i]);
			in[i] = true;
		} else {
			CU_ASSERT_EQUAL(retriever_set_del(&s, &ids[i]), in[i]);
			in[i] = false;
		}
	}
	for (size_t i = 0, n = 0; i < 3000; i++) {
		CU_ASSERT_EQUAL(retriever_set_has(&s, &ids[i]), in[i]);
		n += in[i];
		if (i == 2999)
			CU_ASSERT_EQUAL(s.n, n);
	}
	retriever_set_release(&s);
}

/* The cache of blocks just fetched: taken once, oldest dropped past its
 * cap, a block over the cap not kept, buffers recycled. */
static void test_retriever__cache(void)
{
	struct retriever_opts o = RETRIEVER_OPTS_INIT;
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct retriever *r;
	struct bstore *bs;
	struct cid id[5];
	uint8_t data[5][1000], *p, *q;
	char *dir = harness_tmpdir(), db[4200];
	size_t cap;

	CU_ASSERT_FATAL(dir != NULL);
	snprintf(db, sizeof(db), "%s/index.db", dir);
	CU_ASSERT_EQUAL_FATAL(bstore_open(&bs, dir, NULL), 0);
	o.cache = 3000;
	CU_ASSERT_EQUAL_FATAL(retriever_open(&r, bs, db, &o), 0);
	for (int i = 0; i < 5; i++) {
		harness_fill_random(data[i], sizeof(data[i]), 40 + i);
		CU_ASSERT_EQUAL(cid_hash(&id[i], 1, CID_CODEC_RAW,
					 MHASH_SHA2_256, data[i], 1000), 0);
	}
	for (int i = 0; i < 4; i++)
		retriever_cache_put(r, &id[i], data[i], 1000);
	retriever_cache_put(r, &id[4], data[4], 1000); /* again: one copy */
	retriever_cache_put(r, &id[4], data[4], 1000);
	/* 0 and 1 went (3000 bytes hold three) */
	CU_ASSERT_EQUAL(retriever_cache_take(r, &id[0], &b), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(retriever_cache_take(r, &id[1], &b), EFS_ENOTFOUND);
	for (int i = 2; i < 5; i++) {
		buf_reset(&b);
		CU_ASSERT_EQUAL(retriever_cache_take(r, &id[i], &b), 0);
		CU_ASSERT(b.len == 1000 && !memcmp(b.ptr, data[i], 1000));
		CU_ASSERT_EQUAL(retriever_cache_take(r, &id[i], &b),
				EFS_ENOTFOUND);
	}
	/* over the cap: not kept */
	p = efs_malloc(4000);
	CU_ASSERT_FATAL(p != NULL);
	retriever_cache_adopt(r, &id[0], p, 4000, 4000);
	CU_ASSERT_EQUAL(retriever_cache_take(r, &id[0], &b), EFS_ENOTFOUND);
	/* a pooled buffer comes back for a block of about its size only */
	p = retriever_buf_get(r, 4000, &cap);
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT(cap >= 4000);
	retriever_buf_put(r, p, cap);
	q = retriever_buf_get(r, 1000, &cap);
	CU_ASSERT_FATAL(q != NULL);
	CU_ASSERT(q != p);           /* 4000 is too big for 1000 */
	retriever_buf_put(r, q, cap);
	q = retriever_buf_get(r, 3000, &cap);
	CU_ASSERT(q == p);           /* but fits 3000 */
	retriever_buf_put(r, q, cap);
	retriever_cache_put(r, &id[1], data[1], 1000); /* stays cached */
	retriever_close(r);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	buf_release(&b);
	harness_tmpdir_free(dir);
}

struct alloc_case {
	struct bstore *bs;
	char db[4200];
	struct cid root, unknown;
};

static int alloc_run(void *cls)
{
	struct alloc_case *a = cls;
	struct retriever *r;
	int rc;

	if ((rc = retriever_open(&r, a->bs, a->db, NULL)) < 0)
		return rc;
	rc = retriever_retrieve_dag(r, &a->root, NULL, NULL);
	if (rc == 0) {
		rc = retriever_fetch(r, &a->unknown, 0);
		if (rc == EFS_ENOTFOUND)
			rc = 0;
	}
	retriever_close(r);
	return rc;
}

/* Allocation failures on the caller's thread: EFS_ENOMEM, no leak. */
static void test_retriever__alloc(void)
{
	struct buf leaf = BUF_INIT(BUF_NOCAP), node = BUF_INIT(BUF_NOCAP);
	struct dagpb_link links[2];
	struct dagpb_node n;
	struct alloc_case a;
	char *dir = harness_tmpdir();

	CU_ASSERT_FATAL(dir != NULL);
	snprintf(a.db, sizeof(a.db), "%s/index.db", dir);
	CU_ASSERT_EQUAL_FATAL(bstore_open(&a.bs, dir, NULL), 0);
	memset(links, 0, sizeof(links));
	for (int i = 0; i < 2; i++) {
		buf_reset(&leaf);
		CU_ASSERT_EQUAL(buf_adds(&leaf, i ? "leaf one" : "leaf 0"), 0);
		CU_ASSERT_EQUAL(cid_hash(&links[i].cid, 1, CID_CODEC_RAW,
					 MHASH_SHA2_256, leaf.ptr, leaf.len),
				0);
		CU_ASSERT_EQUAL(bstore_put(a.bs, &links[i].cid, leaf.ptr,
					   leaf.len), 0);
	}
	memset(&n, 0, sizeof(n));
	n.links = links;
	n.nlinks = 2;
	CU_ASSERT_EQUAL_FATAL(dagpb_encode(&node, &n), 0);
	CU_ASSERT_EQUAL(cid_hash(&a.root, 1, CID_CODEC_DAG_PB, MHASH_SHA2_256,
				 node.ptr, node.len), 0);
	CU_ASSERT_EQUAL(bstore_put(a.bs, &a.root, node.ptr, node.len), 0);
	CU_ASSERT_EQUAL(bstore_sync(a.bs), 0);
	CU_ASSERT_EQUAL(cid_hash(&a.unknown, 1, CID_CODEC_RAW, MHASH_SHA2_256,
				 "?", 1), 0);
	CU_ASSERT(harness_alloc_loop(alloc_run, &a) > 5);
	CU_ASSERT_EQUAL(bstore_close(a.bs), 0);
	buf_release(&leaf);
	buf_release(&node);
	harness_tmpdir_free(dir);
}

/* ---- against the devnet ---- */

/* Evicted leaves come back byte for byte in one request (the whole
 * file is inside one read-ahead window), logged once, counted as
 * bandwidth for the commit; the store stays clean. */
static void test_retriever__roundtrip(void)
{
	struct miners_bw_filter bw = MINERS_BW_FILTER_INIT;
	struct retriever_stats st;
	struct blockio_source src;
	struct rfx_log log;
	uint64_t sent, fetched;
	struct miners *m;
	struct rfx t;

	rfx_open(&t, 8, 1500000, 1024, 21);
	rfx_retriever(&t);
	rfx_evict(&t);
	src = retriever_source(t.r);
	CU_ASSERT_EQUAL(rfx_read(&src, &t.root, t.data, t.len, 65536), 0);
	CU_ASSERT_EQUAL(rfx_local(&t), t.nleaves);
	CU_ASSERT_EQUAL(retriever_wait_idle(t.r, 10000), 0);
	retriever_stats(&st, t.r);
	CU_ASSERT_EQUAL(st.piece_requests, 1);
	CU_ASSERT_EQUAL(st.requests, 1);
	CU_ASSERT_EQUAL(st.blocks, t.nleaves);
	CU_ASSERT_EQUAL(st.rejected, 0);
	rfx_log(&log, &t, NULL);
	CU_ASSERT_EQUAL(log.total, 1);
	CU_ASSERT_EQUAL(log.by_outcome[MINERS_OUT_OK], 1);
	CU_ASSERT(log.bytes_down >= t.len);
	CU_ASSERT_FATAL(miners_open(&m, t.x.f.db, NULL) == 0);
	bw.commit_id = 1;
	CU_ASSERT_EQUAL(miners_bandwidth_sum(&sent, &fetched, m, &bw), 0);
	CU_ASSERT_EQUAL(fetched, log.bytes_down);
	miners_close(m);
	rfx_fsck_clean(t.x.f.bs);
	rfx_close(&t);
}

/* With a 64 KiB window a sequential read makes one request per window
 * (the next window starting in the background), never a block twice. */
static void test_retriever__readahead(void)
{
	struct retriever_stats st;
	struct blockio_source src;
	struct rfx_log log;
	uint64_t windows;
	struct rfx t;

	rfx_open(&t, 8, 1500000, 1024, 22);
	t.o.readahead = 64 << 10;
	rfx_retriever(&t);
	rfx_evict(&t);
	src = retriever_source(t.r);
	CU_ASSERT_EQUAL(rfx_read(&src, &t.root, t.data, t.len, 4096), 0);
	CU_ASSERT_EQUAL(retriever_wait_idle(t.r, 10000), 0);
	retriever_stats(&st, t.r);
	/* The leaves span about len + 40 bytes a block of CAR framing. */
	windows = (t.len + 40 * t.nleaves) / (64 << 10);
	CU_ASSERT(st.piece_requests >= windows - 1);
	CU_ASSERT(st.piece_requests <= windows + 2);
	CU_ASSERT(st.prefetches > windows / 2);
	CU_ASSERT_EQUAL(st.requests, st.piece_requests);
	CU_ASSERT_EQUAL(st.blocks, t.nleaves);
	rfx_log(&log, &t, NULL);
	CU_ASSERT_EQUAL(log.total, st.piece_requests);
	CU_ASSERT_EQUAL(log.by_outcome[MINERS_OUT_OK], log.total);

	/* readahead 0: one request per block */
	retriever_close(t.r);
	t.o.readahead = 0;
	rfx_retriever(&t);
	rfx_evict(&t);
	for (size_t i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(retriever_fetch(t.r, &t.leaves[i], 0), 0);
	CU_ASSERT_EQUAL(retriever_wait_idle(t.r, 10000), 0);
	retriever_stats(&st, t.r);
	CU_ASSERT_EQUAL(st.piece_requests, 5);
	CU_ASSERT_EQUAL(rfx_local(&t), 5);
	rfx_close(&t);
}

/* The best SP goes offline: the next one serves, the first is logged
 * unreachable. */
static void test_retriever__best_offline(void)
{
	struct filaddr order[8];
	struct blockio_source src;
	struct rfx_log log;
	struct rfx t;

	rfx_open(&t, 8, 1500000, 1024, 23);
	t.o.readahead = 0;
	rfx_retriever(&t);
	rfx_evict(&t);
	rfx_order(order, &t);
	dfx_fault(&t.x, (unsigned)order[0].id, "{\"offline\": true}");
	t.o.readahead = 8 << 20;
	CU_ASSERT_EQUAL(retriever_fetch(t.r, &t.leaves[0], 0), 0);
	CU_ASSERT_EQUAL(retriever_wait_idle(t.r, 10000), 0);
	rfx_log(&log, &t, &order[0]);
	CU_ASSERT_EQUAL(log.total, 1);
	CU_ASSERT_EQUAL(log.by_outcome[MINERS_OUT_UNREACHABLE], 1);
	rfx_log(&log, &t, &order[1]);
	CU_ASSERT_EQUAL(log.by_outcome[MINERS_OUT_OK], 1);
	/* and the rest of the file, now that the first is backed off */
	src = retriever_source(t.r);
	CU_ASSERT_EQUAL(rfx_read(&src, &t.root, t.data, t.len, 65536), 0);
	CU_ASSERT_EQUAL(retriever_wait_idle(t.r, 10000), 0);
	rfx_log(&log, &t, &order[0]);
	CU_ASSERT_EQUAL(log.total, 1);
	rfx_close(&t);
}

/* Five of the six SPs send flipped or cut bytes: each is rejected and
 * logged as garbage, the sixth serves, no bad byte reaches the reader
 * or the store. */
static void test_retriever__bad_sps(void)
{
	struct filaddr order[8];
	struct retriever_stats st;
	struct blockio_source src;
	struct rfx_log log;
	struct rfx t;

	rfx_open(&t, 8, 1500000, 1024, 24);
	rfx_retriever(&t);
	rfx_evict(&t);
	rfx_order(order, &t);
	for (size_t i = 0; i < 5; i++)
		dfx_fault(&t.x, (unsigned)order[i].id,
			  i % 2 ? "{\"truncate_retrieval\": true}"
				: "{\"corrupt_retrieval\": true}");
	src = retriever_source(t.r);
	CU_ASSERT_EQUAL(rfx_read(&src, &t.root, t.data, t.len, 65536), 0);
	CU_ASSERT_EQUAL(retriever_wait_idle(t.r, 10000), 0);
	retriever_stats(&st, t.r);
	CU_ASSERT(st.rejected >= 2);
	rfx_log(&log, &t, &order[0]);
	CU_ASSERT_EQUAL(log.by_outcome[MINERS_OUT_GARBAGE], 1);
	rfx_log(&log, &t, &order[1]);
	CU_ASSERT_EQUAL(log.by_outcome[MINERS_OUT_GARBAGE], 1);
	rfx_log(&log, &t, &order[5]);
	CU_ASSERT(log.by_outcome[MINERS_OUT_OK] >= 1);
	CU_ASSERT_EQUAL(rfx_local(&t), t.nleaves);
	rfx_fsck_clean(t.x.f.bs);

	/* the trustless gateway, when /piece fails everywhere: the bad
	 * SPs' CARs are rejected too */
	dfx_fault(&t.x, (unsigned)order[5].id, "{\"corrupt_retrieval\": true}");
	retriever_close(t.r);
	t.o.readahead = 0;
	rfx_retriever(&t);
	rfx_evict(&t);
	CU_ASSERT_EQUAL(retriever_fetch(t.r, &t.leaves[3], 5000), EFS_EIO);
	CU_ASSERT(strstr(efs_error_msg(), "/ipfs") != NULL);
	CU_ASSERT_FALSE(bstore_has(t.x.f.bs, &t.leaves[3]));
	rfx_fsck_clean(t.x.f.bs);
	rfx_close(&t);
}

/* Every SP offline: EIO or ETIMEDOUT within the timeout, the file's
 * metadata still there; one SP back: served, though backed off. */
static void test_retriever__all_offline(void)
{
	struct dagreader_stat ds;
	struct blockio_source src;
	double t0;
	int rc;
	struct rfx t;

	rfx_open(&t, 8, 1500000, 1024, 25);
	t.o.timeout_ms = 4000;
	rfx_retriever(&t);
	rfx_evict(&t);
	for (unsigned i = 0; i < 8; i++) /* the devnet's f01000.. */
		dfx_fault(&t.x, 1000 + i, "{\"offline\": true}");
	t0 = now_s();
	rc = retriever_fetch(t.r, &t.leaves[7], 0);
	CU_ASSERT(rc == EFS_EIO || rc == EFS_ETIMEDOUT);
	CU_ASSERT(now_s() - t0 < 5.0);
	CU_ASSERT_FALSE(bstore_has(t.x.f.bs, &t.leaves[7]));
	src = retriever_source(t.r);
	CU_ASSERT_EQUAL(dagreader_stat(&ds, &src, &t.root), 0);
	CU_ASSERT_EQUAL(ds.size, t.len);
	rfx_fault(&t, (unsigned)t.sp[2].id, "{\"offline\": false}");
	CU_ASSERT_EQUAL(retriever_fetch(t.r, &t.leaves[7], 0), 0);
	rfx_close(&t);
}

/* SPs slower than the deadline: EFS_ETIMEDOUT at the deadline, no
 * later; a longer deadline is served.  The latency histograms say so:
 * two fetches that waited over 0.5 s (one failed), one job over 1 s. */
static void test_retriever__slow(void)
{
	struct retriever_latency lat;
	struct retriever_stats st;
	double t0;
	struct rfx t;

	rfx_open(&t, 8, 1500000, 1024, 28);
	t.o.readahead = 0;
	rfx_retriever(&t);
	rfx_evict(&t);
	for (size_t i = 0; i < t.nsp; i++)
		dfx_fault(&t.x, (unsigned)t.sp[i].id, "{\"slow_ms\": 1500}");
	t0 = now_s();
	CU_ASSERT_EQUAL(retriever_fetch(t.r, &t.leaves[2], 600), EFS_ETIMEDOUT);
	CU_ASSERT(now_s() - t0 < 1.0);
	CU_ASSERT_EQUAL(retriever_fetch(t.r, &t.leaves[2], 10000), 0);
	CU_ASSERT(bstore_has(t.x.f.bs, &t.leaves[2]));
	/* local now: returns at once, not counted */
	CU_ASSERT_EQUAL(retriever_fetch(t.r, &t.leaves[2], 10000), 0);
	CU_ASSERT_EQUAL(retriever_wait_idle(t.r, 10000), 0);
	retriever_latency(&lat, t.r);
	retriever_stats(&st, t.r);
	CU_ASSERT_EQUAL(lat.fetch.count, 2);
	CU_ASSERT_EQUAL(st.fetch_failed, 1);
	CU_ASSERT_EQUAL(lat.fetch.bucket[14], 0);         /* le 0.5 s */
	CU_ASSERT_EQUAL(lat.fetch.bucket[LATHIST_NBOUNDS - 1], 2); /* 60 s */
	CU_ASSERT(lat.fetch.sum_ns >= 1400000000ull);
	CU_ASSERT_EQUAL(lat.job.count, st.jobs);
	CU_ASSERT(lat.job.count >= 1);
	CU_ASSERT(lat.job.bucket[15] < lat.job.count);    /* le 1 s */
	CU_ASSERT(lat.job.sum_ns >= 1400000000ull);
	rfx_close(&t);
}

/* A wrong recorded offset: every SP's range fails to hash (each logged
 * as garbage), then the trustless gateway on the same SPs serves the
 * block by CID. */
static void test_retriever__bad_location(void)
{
	struct bstore_location loc;
	struct retriever_stats st;
	struct rfx_log log;
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct rfx t;

	rfx_open(&t, 8, 1500000, 1024, 29);
	t.o.readahead = 0;
	rfx_retriever(&t);
	rfx_evict(&t);
	CU_ASSERT_EQUAL_FATAL(bstore_locations(t.x.f.bs, &t.leaves[5],
					       rfx_loc_cb, &loc), 0);
	loc.offset++;
	CU_ASSERT_EQUAL_FATAL(bstore_location_add(t.x.f.bs, &loc), 0);
	CU_ASSERT_EQUAL(retriever_fetch(t.r, &t.leaves[5], 0), 0);
	CU_ASSERT_EQUAL(retriever_wait_idle(t.r, 10000), 0);
	retriever_stats(&st, t.r);
	CU_ASSERT_EQUAL(st.piece_requests, t.nsp);
	CU_ASSERT_EQUAL(st.gateway_requests, 1);
	CU_ASSERT_EQUAL(st.rejected, t.nsp);
	rfx_log(&log, &t, NULL);
	CU_ASSERT_EQUAL(log.by_outcome[MINERS_OUT_GARBAGE], t.nsp);
	CU_ASSERT_EQUAL(log.by_outcome[MINERS_OUT_OK], 1);
	CU_ASSERT_EQUAL(bstore_get(t.x.f.bs, &t.leaves[5], &b), 0);
	CU_ASSERT(b.len == 1024 && !memcmp(b.ptr, t.data + 5 * 1024, 1024));
	buf_release(&b);
	rfx_fsck_clean(t.x.f.bs);
	rfx_close(&t);
}

struct crowd {
	struct rfx *t;
	pthread_barrier_t *go;
	bool whole;                  /* read the file, not one block */
	int rc;
};

static void *crowd_run(void *cls)
{
	struct crowd *c = cls;
	struct blockio_source src = retriever_source(c->t->r);

	pthread_barrier_wait(c->go);
	if (c->whole)
		c->rc = rfx_read(&src, &c->t->root, c->t->data, c->t->len,
				 8192);
	else
		c->rc = retriever_fetch(c->t->r, &c->t->leaves[10], 0);
	return NULL;
}

static void crowd(struct rfx *t, bool whole)
{
	pthread_barrier_t go;
	pthread_t th[16];
	struct crowd c[16];

	pthread_barrier_init(&go, NULL, 16);
	for (int i = 0; i < 16; i++) {
		c[i] = (struct crowd){ .t = t, .go = &go, .whole = whole };
		CU_ASSERT_FATAL(pthread_create(&th[i], NULL, crowd_run,
					       &c[i]) == 0);
	}
	for (int i = 0; i < 16; i++) {
		pthread_join(th[i], NULL);
		CU_ASSERT_EQUAL(c[i].rc, 0);
	}
	pthread_barrier_destroy(&go);
}

/* 16 threads on one evicted block: one request; 16 readers of the whole
 * evicted file: one request per window, each block fetched once. */
static void test_retriever__concurrent(void)
{
	struct retriever_stats st;
	uint64_t windows;
	struct rfx t;

	rfx_open(&t, 8, 1500000, 1024, 26);
	t.o.readahead = 0;
	rfx_retriever(&t);
	rfx_evict(&t);
	for (size_t i = 0; i < t.nsp; i++)
		dfx_fault(&t.x, (unsigned)t.sp[i].id, "{\"slow_ms\": 300}");
	crowd(&t, false);
	CU_ASSERT_EQUAL(retriever_wait_idle(t.r, 10000), 0);
	retriever_stats(&st, t.r);
	CU_ASSERT_EQUAL(st.piece_requests, 1);
	CU_ASSERT_EQUAL(st.jobs, 1);

	for (size_t i = 0; i < t.nsp; i++)
		dfx_fault(&t.x, (unsigned)t.sp[i].id, "{\"slow_ms\": 20}");
	retriever_close(t.r);
	t.o.readahead = 64 << 10;
	rfx_retriever(&t);
	rfx_evict(&t);
	crowd(&t, true);
	CU_ASSERT_EQUAL(retriever_wait_idle(t.r, 10000), 0);
	retriever_stats(&st, t.r);
	windows = (t.len + 40 * t.nleaves) / (64 << 10);
	CU_ASSERT_EQUAL(st.blocks, t.nleaves);
	CU_ASSERT(st.piece_requests <= windows + 2);
	CU_ASSERT(st.joined > 0);
	rfx_close(&t);
}

struct prog {
	struct retriever_progress last;
	unsigned calls;
};

static int prog_cb(void *cls, const struct retriever_progress *p)
{
	struct prog *g = cls;

	g->last = *p;
	g->calls++;
	return 0;
}

static int stop_cb(void *cls, const struct retriever_progress *p)
{
	return p->blocks >= 3;
}

/* The whole DAG: evicted leaves by location; then into a fresh
 * repository that dealt nothing, through IPNI and the gateway. */
static void test_retriever__retrieve_dag(void)
{
	struct retriever_opts o = RETRIEVER_OPTS_INIT;
	struct retriever_stats st;
	struct blockio_source src;
	struct prog g = { .calls = 0 };
	struct bstore_stat one;
	struct retriever *r2;
	struct bstore *bs2;
	char *dir2, db2[4200];
	struct rfx t;

	rfx_open(&t, 8, 1300000, 4096, 27);
	rfx_retriever(&t);
	rfx_evict(&t);
	CU_ASSERT_EQUAL(retriever_retrieve_dag(t.r, &t.root, stop_cb, NULL),
			EFS_ECANCELED);
	CU_ASSERT_EQUAL(retriever_retrieve_dag(t.r, &t.root, prog_cb, &g), 0);
	CU_ASSERT_EQUAL(rfx_local(&t), t.nleaves);
	CU_ASSERT(g.last.blocks > t.nleaves);
	CU_ASSERT(g.last.fetched <= t.nleaves);
	CU_ASSERT(g.last.bytes >= t.len);
	/* all local now: nothing more is fetched */
	CU_ASSERT_EQUAL(retriever_retrieve_dag(t.r, &t.root, prog_cb, &g), 0);
	CU_ASSERT_EQUAL(g.last.fetched, 0);

	/* Case B: a repository that never saw the file */
	dir2 = harness_tmpdir();
	CU_ASSERT_FATAL(dir2 != NULL);
	snprintf(db2, sizeof(db2), "%s/index.db", dir2);
	CU_ASSERT_EQUAL_FATAL(bstore_open(&bs2, dir2, NULL), 0);
	o.ipni_url = t.x.net.api;
	CU_ASSERT_EQUAL_FATAL(retriever_open(&r2, bs2, db2, &o), 0);
	/* one block by CID: IPNI names the SPs, their gateway serves it */
	CU_ASSERT_EQUAL(retriever_fetch(r2, &t.leaves[1], 0), 0);
	CU_ASSERT(bstore_has(bs2, &t.leaves[1]));
	retriever_stats(&st, r2);
	CU_ASSERT_EQUAL(st.ipni_requests, 1);
	CU_ASSERT_EQUAL(st.gateway_requests, 1);
	/* and the whole DAG in one CAR, each block counted once */
	CU_ASSERT_EQUAL(retriever_retrieve_dag(r2, &t.root, prog_cb, &g), 0);
	CU_ASSERT_EQUAL(g.last.fetched, g.last.blocks - 1);
	CU_ASSERT_EQUAL_FATAL(bstore_stat(&one, bs2, &t.leaves[1]), 0);
	CU_ASSERT_EQUAL(g.last.fetched_bytes, g.last.bytes - one.size);
	retriever_stats(&st, r2);
	CU_ASSERT_EQUAL(st.ipni_requests, 2);
	CU_ASSERT_EQUAL(st.gateway_requests, 2);
	src = bstore_source(bs2);
	CU_ASSERT_EQUAL(rfx_read(&src, &t.root, t.data, t.len, 65536), 0);
	rfx_fsck_clean(bs2);
	retriever_close(r2);
	CU_ASSERT_EQUAL(bstore_close(bs2), 0);
	harness_tmpdir_free(dir2);
	rfx_close(&t);
}

static CU_TestInfo local_tests[] = {
	{ "open", test_retriever__open },
	{ "set", test_retriever__set },
	{ "cache", test_retriever__cache },
	{ "alloc", test_retriever__alloc },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo devnet_tests[] = {
	{ "roundtrip", test_retriever__roundtrip },
	{ "readahead", test_retriever__readahead },
	{ "best_offline", test_retriever__best_offline },
	{ "bad_sps", test_retriever__bad_sps },
	{ "all_offline", test_retriever__all_offline },
	{ "slow", test_retriever__slow },
	{ "bad_location", test_retriever__bad_location },
	{ "concurrent", test_retriever__concurrent },
	{ "retrieve_dag", test_retriever__retrieve_dag },
	CU_TEST_INFO_NULL,
};

static int suite_setup(void)
{
	return httpc_global_init() == 0 ? 0 : 1;
}

HARNESS_MAIN({ .pName = "retriever", .pTests = local_tests,
	       .pInitFunc = suite_setup },
	     { .pName = "retriever_devnet", .pTests = devnet_tests })
