/*
 * retrieval_test.h - the fixture of the retrieval tests against the
 * devnet: tests/dealer/dealer_test.h's repository and devnet, one file
 * committed and taken to 6 ACTIVE deals, its leaves evicted, and a
 * retriever over the repository (IPNI: the devnet's indexer).
 */
#ifndef EFS_RETRIEVAL_TEST_H
#define EFS_RETRIEVAL_TEST_H

#include "tests/dealer/dealer_test.h"

#include "core/bstore.h"
#include "core/clock.h"
#include "core/dagreader.h"
#include "dealer/miners.h"
#include "net/httpc.h"
#include "retrieval/retriever.h"

#define RFX_LEAVES_MAX 8192

struct rfx {
	struct dfx x;
	struct retriever *r;
	struct retriever_opts o;
	uint8_t *data;               /* the file's bytes */
	size_t len;
	struct cid root;
	struct cid leaves[RFX_LEAVES_MAX];
	size_t nleaves;
	struct cid piece;            /* the piece holding it */
	struct filaddr sp[8];        /* SPs with an ACTIVE deal for it */
	size_t nsp;
};

static inline int rfx_leaf_cb(const struct dagreader_leaf *l, void *cls)
{
	struct rfx *t = cls;

	if (!l->inner && t->nleaves < RFX_LEAVES_MAX)
		t->leaves[t->nleaves++] = l->id;
	return 0;
}

static inline int rfx_loc_cb(const struct bstore_location *loc, void *cls)
{
	*(struct bstore_location *)cls = *loc;
	return 0;
}

static inline int rfx_deal_cb(const struct deal *d, void *cls)
{
	struct rfx *t = cls;

	if (d->state == DEAL_ACTIVE && t->nsp < 8) {
		t->piece = d->piece_cid;
		t->sp[t->nsp++] = d->miner;
	}
	return 0;
}

/*
 * A devnet of nsps SPs and one committed file of len random bytes in
 * chunk-byte raw leaves (16 links a node), with 6 ACTIVE deals, and its
 * leaves listed.  The retriever is not open yet (rfx_retriever).
 */
static inline void rfx_open(struct rfx *t, unsigned nsps, size_t len,
			    size_t chunk, uint64_t seed)
{
	struct blockio_source src;
	struct deals *ds;

	memset(t, 0, sizeof(*t));
	dfx_open(&t->x, nsps, NULL, "100", "1073741824");
	t->len = len;
	t->data = efs_malloc(len);
	CU_ASSERT_FATAL(t->data != NULL);
	harness_fill_random(t->data, len, seed);
	import_bytes(&t->root, &t->x.f, t->data, len, chunk, 16);
	t->x.c[0].root = t->root;
	t->x.c[0].id = 1;
	t->x.nc = 1;
	dfx_dealer_open(&t->x);
	CU_ASSERT_FATAL(dfx_run(&t->x, 6, 90, NULL));
	src = bstore_source(t->x.f.bs);
	CU_ASSERT_EQUAL_FATAL(dagreader_leaves_foreach(&src, &t->root,
						       rfx_leaf_cb, t), 0);
	CU_ASSERT_FATAL(t->nleaves > 0 && t->nleaves < RFX_LEAVES_MAX);
	CU_ASSERT_FATAL(deals_open(&ds, t->x.f.db) == 0);
	CU_ASSERT_EQUAL(deals_foreach(ds, -1, true, rfx_deal_cb, t), 0);
	deals_close(ds);
	CU_ASSERT_EQUAL_FATAL(t->nsp, 6);
	t->o = (struct retriever_opts)RETRIEVER_OPTS_INIT;
	t->o.ipni_url = t->x.net.api;
}

static inline void rfx_retriever(struct rfx *t)
{
	int rc = retriever_open(&t->r, t->x.f.bs, t->x.f.db, &t->o);

	if (rc < 0)
		fprintf(stderr, "retriever_open: %s\n", efs_error_msg());
	CU_ASSERT_FATAL(rc == 0);
}

/* Evict every leaf of the file (all have locations). */
static inline size_t rfx_local(struct rfx *t);

static inline void rfx_evict(struct rfx *t)
{
	size_t n = 0, local;

	/* Blocks put back by a retrieval are pending until a sync. */
	CU_ASSERT_EQUAL_FATAL(bstore_sync(t->x.f.bs), 0);
	local = rfx_local(t);
	CU_ASSERT_EQUAL_FATAL(bstore_evict_many(&n, t->x.f.bs, t->leaves,
						t->nleaves), 0);
	CU_ASSERT_EQUAL(n, local);
	for (size_t i = 0; i < t->nleaves; i++)
		CU_ASSERT_FALSE(bstore_has(t->x.f.bs, &t->leaves[i]));
}

/* How many of the leaves are local. */
static inline size_t rfx_local(struct rfx *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->nleaves; i++)
		n += bstore_has(t->x.f.bs, &t->leaves[i]);
	return n;
}

/* Set miner f0<id>'s faults and wait until its listener follows (the
 * devnet's SP worker starts and stops it on its tick). */
static inline void rfx_fault(struct rfx *t, unsigned id, const char *json)
{
	dfx_fault(&t->x, id, json);
	usleep(400 * 1000);
}

/* Read the whole file through src in reads of step bytes; 0 when it is
 * byte for byte the file, else the error (or EFS_EMISMATCH). */
static inline int rfx_read(const struct blockio_source *src,
			   const struct cid *root, const uint8_t *want,
			   size_t len, size_t step)
{
	struct dagreader_file *f;
	uint8_t *buf = efs_malloc(step);
	size_t got;
	int rc;

	if (!buf)
		return EFS_ENOMEM;
	if ((rc = dagreader_file_open(&f, src, root)) < 0) {
		efs_free(buf);
		return rc;
	}
	for (size_t off = 0; off < len && rc == 0; off += got) {
		rc = dagreader_file_read(buf, &got, f, off, step);
		if (rc == 0 && (!got || memcmp(buf, want + off, got)))
			rc = EFS_EMISMATCH;
	}
	dagreader_file_close(f);
	efs_free(buf);
	return rc;
}

static inline void rfx_fsck_clean(struct bstore *bs)
{
	struct bstore_fsck_report rep;

	CU_ASSERT_EQUAL(bstore_sync(bs), 0);
	CU_ASSERT_EQUAL_FATAL(bstore_fsck(&rep, bs, 0), 0);
	for (size_t i = 0; i < rep.nlisted; i++)
		fprintf(stderr, "fsck: %s: %s\n",
			bstore_problem_name(rep.listed[i].kind),
			rep.listed[i].msg);
	CU_ASSERT_EQUAL(rep.problems, 0);
}

/* Retrieve events in the miner log, by outcome (of every SP). */
struct rfx_log {
	unsigned by_outcome[MINERS_OUT_COUNT_];
	unsigned total;
	uint64_t bytes_down;
};

static inline int rfx_log_cb(const struct miner_event *ev, void *cls)
{
	struct rfx_log *l = cls;

	if (ev->action != MINERS_ACT_RETRIEVE)
		return 0;
	l->by_outcome[ev->outcome]++;
	l->total++;
	l->bytes_down += ev->bytes_down;
	return 0;
}

/* The retrieve events of addr (NULL: of every SP holding the piece). */
static inline void rfx_log(struct rfx_log *out, struct rfx *t,
			   const struct filaddr *addr)
{
	struct miners *m;

	memset(out, 0, sizeof(*out));
	CU_ASSERT_FATAL(miners_open(&m, t->x.f.db, NULL) == 0);
	for (size_t i = 0; i < t->nsp; i++)
		if (!addr || filaddr_equal(addr, &t->sp[i]))
			CU_ASSERT_EQUAL(miners_log_foreach(m, &t->sp[i], 0, 0,
							   rfx_log_cb, out),
					0);
	miners_close(m);
}

/* The piece's SPs in the order the retriever tries them: not backed
 * off first, by score, ties in deal order. */
static inline void rfx_order(struct filaddr *out, struct rfx *t)
{
	double score[8];
	bool last[8];
	struct miners *m;
	struct miner_record rec;
	int64_t now = efs_clock_real_ns();

	CU_ASSERT_FATAL(miners_open(&m, t->x.f.db, NULL) == 0);
	for (size_t i = 0; i < t->nsp; i++) {
		CU_ASSERT_EQUAL_FATAL(miners_get(&rec, m, &t->sp[i]), 0);
		out[i] = t->sp[i];
		score[i] = rec.score;
		last[i] = rec.disabled || rec.backoff_until_ns > now;
		miners_record_release(&rec);
	}
	miners_close(m);
	for (size_t i = 1; i < t->nsp; i++)
		for (size_t k = i; k > 0 &&
				   (last[k - 1] != last[k]
					    ? last[k - 1]
					    : score[k] > score[k - 1]);
		     k--) {
			struct filaddr a = out[k];
			double s = score[k];
			bool l = last[k];

			out[k] = out[k - 1];
			score[k] = score[k - 1];
			last[k] = last[k - 1];
			out[k - 1] = a;
			score[k - 1] = s;
			last[k - 1] = l;
		}
}

static inline void rfx_close(struct rfx *t)
{
	retriever_close(t->r);
	dfx_close(&t->x);
	efs_free(t->data);
}

#endif
