/*
 * test_piece.c - commits into pieces: a commit's own piece, shards of a
 * big one, FRC-0058 aggregates of small ones (closed by age, by target
 * and by the largest piece), the stages and queries, idempotence, the
 * crash points of each step and a real kill -9, limits, an
 * allocation-failure loop, and the read-only store the CLI opens (its
 * refusals, the commit list, eviction counts read from the blockstore's
 * table for v1 and v0 CIDs).
 *
 * The DAGs are UnixFS files and directories imported into a blockstore
 * in a temp directory with small chunks (piece_test.h, the fixture), so a
 * few hundred kilobytes make DAGs of hundreds of blocks and several
 * levels.  Every check compares with what core/ computes independently:
 * car_write_dag's bytes for a commit's CAR, commp_compute of the bytes a
 * reader returns, the CAR reader's view of each shard, datasegment's
 * proof check and index parser for aggregates; and one aggregate against
 * a golden vector from @web3-storage/data-segment
 * (tests/data/piece/README.md).  The reader's own cases (ranges,
 * locations, eviction, corruption, threads) are in test_piece_reader.c.
 */
#include "dealer/piece.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/bstore.h"
#include "core/car.h"
#include "core/datasegment.h"
#include "core/db.h"
#include "core/error.h"
#include "core/importer.h"
#include "tests/dealer/piece_test.h"
#include "tests/harness.h"

struct holding {
	int64_t ids[64];
	struct piece_member m[64];
	size_t n;
};

static int holding_cb(const struct piece_info *p, const struct piece_member *m,
		      void *cls)
{
	struct holding *h = cls;

	if (h->n == 64)
		return EFS_ETOOBIG;
	h->ids[h->n] = p->id;
	h->m[h->n] = *m;
	h->m[h->n].proof = NULL;
	h->n++;
	return 0;
}

/* The pieces holding a commit. */
static size_t pieces_of(struct holding *h, struct fx *f, int64_t commit)
{
	memset(h, 0, sizeof(*h));
	CU_ASSERT_EQUAL(piece_commit_foreach(f->ps, commit, holding_cb, h), 0);
	return h->n;
}

static int count_cb(const struct piece_info *p, void *cls)
{
	CU_ASSERT(p->ready);
	++*(size_t *)cls;
	return 0;
}

static size_t ready_count(struct fx *f)
{
	size_t n = 0;

	CU_ASSERT_EQUAL(piece_foreach_ready(f->ps, count_cb, &n), 0);
	return n;
}

/* The piece's recorded CommP is that of the bytes its reader returns. */
static void check_commp(struct fx *f, int64_t piece_id, struct buf *payload)
{
	struct commp_piece got;
	struct piece_info info;

	CU_ASSERT_FATAL(piece_get(&info, f->ps, piece_id) == 0);
	CU_ASSERT_FATAL(payload_of(payload, f, piece_id) == 0);
	CU_ASSERT_EQUAL(payload->len, info.payload);
	CU_ASSERT_EQUAL(commp_compute(&got, payload->ptr, payload->len), 0);
	CU_ASSERT(!memcmp(got.root, info.piece.root, COMMP_NODE_SIZE));
	CU_ASSERT_EQUAL(got.padded_size, info.padded);
}

/* ---- limits ---- */

static void test_piece__limits(void)
{
	struct piece_limits bad[] = {
		{ 1000, 1 << 20, 60, 1 << 20 },     /* not a power of two */
		{ 64, 1 << 20, 60, 1 << 20 },       /* under 128 */
		{ 4096, 0, 60, 1 << 20 },           /* no target */
		{ 4096, 1 << 20, -1, 1 << 20 },     /* negative age */
		{ 1 << 20, 1 << 20, 60, 500000 },   /* max below min */
		{ 128, 1 << 20, 60, 300 },          /* no aggregate fits */
	};
	struct piece_limits got, ok = PIECE_LIMITS_INIT;
	struct piece_commit_info ci;
	struct piece_store *ps;
	struct cid root;
	struct fx f;

	fx_open(&f, 4096, 1 << 20, 60, 1 << 20);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(piece_store_set_limits(f.ps, &bad[i]),
				EFS_EINVAL);
		CU_ASSERT_EQUAL(piece_store_open(&ps, f.db, f.bs, &bad[i]),
				EFS_EINVAL);
	}
	piece_store_limits(&got, f.ps);
	CU_ASSERT_EQUAL(got.min_padded, 4096);
	CU_ASSERT_EQUAL(piece_store_set_limits(f.ps, &ok), 0);
	piece_store_limits(&got, f.ps);
	CU_ASSERT(!memcmp(&got, &ok, sizeof(ok)));
	/* new limits apply to the next commit: 1 GiB makes it a sub-piece */
	make_file(&root, &f, 20000, 60, 1024, 8);
	CU_ASSERT_EQUAL(piece_add_commit(f.ps, 1, &root), 0);
	CU_ASSERT_EQUAL(piece_of_commit(&ci, f.ps, 1), 0);
	CU_ASSERT_EQUAL(ci.stage, PIECE_STAGE_WAITING);
	CU_ASSERT_EQUAL(ci.close_at, T0 + 8 * 3600);
	/* the dealer's defaults are valid */
	CU_ASSERT_EQUAL(ok.max_payload, 30682172619ull);
	fx_close(&f);
}

/* ---- a commit's own piece ---- */

static void test_piece__car(void)
{
	struct buf car = BUF_INIT(BUF_NOCAP), got = BUF_INIT(BUF_NOCAP);
	struct piece_commit_info ci;
	struct piece_info info;
	struct holding h;
	struct cid root;
	struct fx f;

	fx_open(&f, 64 << 10, 1 << 20, 60, 1 << 20);
	make_file(&root, &f, 100000, 1, 1024, 8);
	CU_ASSERT_EQUAL(piece_of_commit(&ci, f.ps, 7), EFS_ENOTFOUND);
	CU_ASSERT_FATAL(piece_add_commit(f.ps, 7, &root) == 0);
	car_of(&car, &f, &root);

	CU_ASSERT_FATAL(piece_of_commit(&ci, f.ps, 7) == 0);
	CU_ASSERT_EQUAL(ci.stage, PIECE_STAGE_PIECED);
	CU_ASSERT(cid_equal(&ci.root, &root));
	CU_ASSERT_EQUAL(ci.car_size, car.len);
	CU_ASSERT(ci.blocks > 100);
	CU_ASSERT_EQUAL(ci.padded, 128 << 10);
	CU_ASSERT_EQUAL(ci.pieces, 1);
	CU_ASSERT_EQUAL(ci.since, T0);

	CU_ASSERT_FATAL(pieces_of(&h, &f, 7) == 1);
	CU_ASSERT_FATAL(piece_get(&info, f.ps, h.ids[0]) == 0);
	CU_ASSERT_EQUAL(info.kind, PIECE_CAR);
	CU_ASSERT(info.ready);
	CU_ASSERT(info.has_label && cid_equal(&info.label, &root));
	CU_ASSERT_EQUAL(info.commit_id, 7);
	CU_ASSERT(cid_equal(&info.commit_root, &root));
	CU_ASSERT_EQUAL(info.members, 1);
	CU_ASSERT_EQUAL(info.payload, car.len);
	CU_ASSERT_EQUAL(info.created, T0);
	CU_ASSERT(commp_cid_is_v1(&info.cid));
	CU_ASSERT_EQUAL(h.m[0].offset, 0);
	CU_ASSERT_EQUAL(h.m[0].length, car.len);
	CU_ASSERT(!h.m[0].has_sub);

	CU_ASSERT_FATAL(payload_of(&got, &f, info.id) == 0);
	CU_ASSERT(got.len == car.len && !memcmp(got.ptr, car.ptr, car.len));
	check_commp(&f, info.id, &got);
	CU_ASSERT_EQUAL(ready_count(&f), 1);
	CU_ASSERT_EQUAL(piece_get(&info, f.ps, 999), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(piece_members(f.ps, 999, NULL, NULL), EFS_ENOTFOUND);
	buf_release(&car);
	buf_release(&got);
	fx_close(&f);
}

/* A directory of CIDv0 nodes with the same file twice: each block once. */
static void test_piece__v0_dedup(void)
{
	struct buf car = BUF_INIT(BUF_NOCAP), got = BUF_INIT(BUF_NOCAP);
	struct blockio_sink sink;
	struct importer_opts o;
	char path[4200], sub[4300];
	struct holding h;
	struct cid root;
	uint8_t data[20000];
	struct fx f;

	fx_open(&f, 128, 1 << 20, 60, 1 << 20);
	snprintf(path, sizeof(path), "%s/tree", f.dir);
	CU_ASSERT_FATAL(mkdir(path, 0755) == 0);
	harness_fill_random(data, sizeof(data), 5);
	snprintf(sub, sizeof(sub), "%s/a", path);
	CU_ASSERT_FATAL(harness_write_file(sub, data, sizeof(data)) == 0);
	snprintf(sub, sizeof(sub), "%s/b", path);
	CU_ASSERT_FATAL(harness_write_file(sub, data, sizeof(data)) == 0);
	CU_ASSERT_FATAL(importer_opts_profile(&o, "unixfs-v0-2015") == 0);
	o.chunk_size = 512;
	o.max_links = 4;
	o.threads = 1;
	sink = bstore_sink(f.bs);
	CU_ASSERT_FATAL(importer_add_path(&root, NULL, path, &o, &sink, NULL,
					  NULL) == 0);
	CU_ASSERT_FATAL(bstore_sync(f.bs) == 0);
	CU_ASSERT_EQUAL(root.version, 0);
	CU_ASSERT_FATAL(piece_add_commit(f.ps, 1, &root) == 0);
	car_of(&car, &f, &root);
	CU_ASSERT(car.len < sizeof(data) * 3 / 2);
	CU_ASSERT_FATAL(pieces_of(&h, &f, 1) == 1);
	CU_ASSERT_FATAL(payload_of(&got, &f, h.ids[0]) == 0);
	CU_ASSERT(got.len == car.len && !memcmp(got.ptr, car.ptr, car.len));
	check_commp(&f, h.ids[0], &got);
	buf_release(&car);
	buf_release(&got);
	fx_close(&f);
}

/* ---- shards ---- */

/* Check one shard: a CAR whose root is its first block; its sections go
 * to all (to compare with the whole CAR's). */
static void check_shard(struct buf *all, const struct buf *payload,
			const struct piece_info *info)
{
	struct car_reader *r;
	struct car_block b;
	const struct cid *roots;
	size_t nroots, hlen;
	bool first = true;
	int rc;

	CU_ASSERT_FATAL(car_reader_open_mem(&r, payload->ptr,
					    payload->len) == 0);
	roots = car_reader_roots(r, &nroots);
	CU_ASSERT_FATAL(nroots == 1);
	CU_ASSERT(info->has_label && cid_equal(&info->label, &roots[0]));
	car_reader_header_bytes(r, &hlen);
	while ((rc = car_reader_next(r, &b)) == 0) {
		if (first)
			CU_ASSERT(cid_equal(&b.info.id, &roots[0]));
		first = false;
	}
	CU_ASSERT_EQUAL(rc, EFS_ITEROVER);
	CU_ASSERT(!first);
	car_reader_free(r);
	CU_ASSERT_EQUAL(buf_add(all, payload->ptr + hlen,
				payload->len - hlen), 0);
}

static void test_piece__shards(void)
{
	struct buf car = BUF_INIT(BUF_NOCAP), got = BUF_INIT(BUF_NOCAP);
	struct buf all = BUF_INIT(BUF_NOCAP);
	struct piece_commit_info ci;
	struct piece_info info;
	struct car_reader *r;
	struct holding h;
	struct cid root;
	size_t hlen, n;
	struct fx f;

	fx_open(&f, 4096, 1 << 20, 60, 20000);
	make_file(&root, &f, 120000, 2, 1024, 8);
	CU_ASSERT_FATAL(piece_add_commit(f.ps, 3, &root) == 0);
	car_of(&car, &f, &root);
	CU_ASSERT_FATAL(piece_of_commit(&ci, f.ps, 3) == 0);
	CU_ASSERT_EQUAL(ci.stage, PIECE_STAGE_PIECED);
	CU_ASSERT_EQUAL(ci.padded, 0);
	CU_ASSERT_EQUAL(ci.car_size, car.len);
	n = pieces_of(&h, &f, 3);
	CU_ASSERT_FATAL(n >= 6 && n <= 8);
	CU_ASSERT_EQUAL(ci.pieces, n);
	for (size_t i = 0; i < n; i++) {
		CU_ASSERT_FATAL(piece_get(&info, f.ps, h.ids[i]) == 0);
		CU_ASSERT_EQUAL(info.kind, PIECE_SHARD);
		CU_ASSERT_EQUAL(info.shard, i);
		CU_ASSERT_EQUAL(info.shards, n);
		CU_ASSERT_EQUAL(info.commit_id, 3);
		CU_ASSERT(cid_equal(&info.commit_root, &root));
		CU_ASSERT_EQUAL(cid_equal(&info.label, &root), i == 0);
		CU_ASSERT(info.ready);
		CU_ASSERT(info.payload <= 20000);
		/* full enough: the next section would not have fitted */
		CU_ASSERT(i == n - 1 || info.payload > 20000 - 1200);
		check_commp(&f, info.id, &got);
		if (i == 0) /* shard 0 is a prefix of the whole CAR */
			CU_ASSERT(!memcmp(got.ptr, car.ptr, got.len));
		check_shard(&all, &got, &info);
	}
	/* together: every section of the whole CAR once, in order */
	CU_ASSERT_FATAL(car_reader_open_mem(&r, car.ptr, car.len) == 0);
	car_reader_header_bytes(r, &hlen);
	car_reader_free(r);
	CU_ASSERT(all.len == car.len - hlen &&
		  !memcmp(all.ptr, car.ptr + hlen, all.len));
	buf_release(&car);
	buf_release(&got);
	buf_release(&all);
	fx_close(&f);
}

/* A block whose section alone passes max_payload. */
static void test_piece__too_big(void)
{
	struct piece_commit_info ci;
	struct cid root;
	struct fx f;

	fx_open(&f, 128, 1 << 20, 60, 3000);
	make_file(&root, &f, 20000, 3, 4000, 8);
	CU_ASSERT_EQUAL(piece_add_commit(f.ps, 1, &root), EFS_ETOOBIG);
	CU_ASSERT(strstr(efs_error_msg(), "does not fit") != NULL);
	CU_ASSERT_EQUAL(piece_of_commit(&ci, f.ps, 1), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(ready_count(&f), 0);
	fx_close(&f);
}

/* ---- aggregates ---- */

struct members {
	struct piece_member m[16];
	struct buf proofs[16];
	size_t n;
};

static int members_cb(const struct piece_member *m, void *cls)
{
	struct members *ms = cls;

	if (ms->n == 16)
		return EFS_ETOOBIG;
	ms->m[ms->n] = *m;
	buf_init(&ms->proofs[ms->n], BUF_NOCAP);
	if (m->proof_len)
		CU_ASSERT_EQUAL(buf_add(&ms->proofs[ms->n], m->proof,
					m->proof_len), 0);
	ms->m[ms->n].proof = NULL;
	ms->n++;
	return 0;
}

static void members_release(struct members *ms)
{
	for (size_t i = 0; i < ms->n; i++)
		buf_release(&ms->proofs[i]);
}

/*
 * Check aggregate piece_id holding the commits ids[0..n) (roots): its
 * CommP, each member's CAR at its offset, sub-piece CommP and proof, and
 * the index an SP would parse.
 */
static void check_aggregate(struct fx *f, int64_t piece_id,
			    const int64_t *ids, const struct cid *roots,
			    size_t n)
{
	struct buf pay = BUF_INIT(BUF_NOCAP), car = BUF_INIT(BUF_NOCAP);
	struct datasegment_entry *ents;
	struct datasegment_proof proof;
	struct commp_piece sub;
	struct piece_info info;
	struct members ms = { 0 };
	uint64_t tail;
	size_t nents;

	CU_ASSERT_FATAL(piece_get(&info, f->ps, piece_id) == 0);
	CU_ASSERT_EQUAL(info.kind, PIECE_AGGREGATE);
	CU_ASSERT(!info.has_label);
	CU_ASSERT_EQUAL(info.commit_id, -1);
	CU_ASSERT_EQUAL(info.members, n);
	CU_ASSERT(info.padded >= f->lim.min_padded);
	CU_ASSERT_EQUAL(info.payload, info.padded / 128 * 127);
	check_commp(f, piece_id, &pay);
	CU_ASSERT_FATAL(piece_members(f->ps, piece_id, members_cb, &ms) == 0);
	CU_ASSERT_FATAL(ms.n == n);
	for (size_t i = 0; i < n; i++) {
		const struct piece_member *m = &ms.m[i];
		size_t k = 0;

		while (k < n && ids[k] != m->commit_id)
			k++;
		CU_ASSERT_FATAL(k < n);
		car_of(&car, f, &roots[k]);
		CU_ASSERT_EQUAL(m->length, car.len);
		CU_ASSERT(m->offset + car.len <= pay.len &&
			  !memcmp(pay.ptr + m->offset, car.ptr, car.len));
		CU_ASSERT(i == 0 || m->offset > ms.m[i - 1].offset);
		CU_ASSERT_FATAL(m->has_sub);
		CU_ASSERT_EQUAL(commp_compute(&sub, car.ptr, car.len), 0);
		CU_ASSERT(!memcmp(sub.root, m->sub.root, COMMP_NODE_SIZE));
		CU_ASSERT_EQUAL(sub.padded_size, m->sub.padded_size);
		CU_ASSERT_EQUAL(m->seg_size, m->sub.padded_size);
		CU_ASSERT_EQUAL(m->offset, m->seg_offset / 128 * 127);
		CU_ASSERT_FATAL(datasegment_proof_decode(&proof,
				ms.proofs[i].ptr, ms.proofs[i].len) == 0);
		CU_ASSERT_EQUAL(datasegment_proof_verify(&proof, &info.piece,
							 &m->sub), 0);
		/* and not for another sub-piece */
		sub.root[0] ^= 1;
		CU_ASSERT_EQUAL(datasegment_proof_verify(&proof, &info.piece,
							 &sub), EFS_EMISMATCH);
	}
	tail = datasegment_index_unpadded_size(info.padded);
	CU_ASSERT_FATAL(datasegment_index_parse(&ents, &nents,
			pay.ptr + pay.len - tail, (size_t)tail,
			info.padded) == 0);
	CU_ASSERT_EQUAL(nents, n);
	for (size_t i = 0; i < nents && i < n; i++) {
		bool found = false;

		for (size_t j = 0; j < n; j++)
			found |= ents[i].offset == ms.m[j].seg_offset &&
				 !memcmp(ents[i].comm, ms.m[j].sub.root,
					 COMMP_NODE_SIZE);
		CU_ASSERT(found);
	}
	efs_free(ents);
	members_release(&ms);
	buf_release(&pay);
	buf_release(&car);
}

static void test_piece__aggregate_age(void)
{
	static const size_t sizes[] = { 3000, 9000, 1500, 20000, 500 };
	struct cid roots[5];
	int64_t ids[5];
	struct piece_commit_info ci;
	struct holding h;
	size_t closed = 9;
	struct fx f;

	fx_open(&f, 64 << 10, 1 << 30, 600, 1 << 20);
	for (size_t i = 0; i < 5; i++) {
		make_file(&roots[i], &f, sizes[i], 10 + i, 1024, 4);
		ids[i] = 20 + (int64_t)i;
		piece_store_test_clock(f.ps, T0 + (int64_t)i);
		CU_ASSERT_FATAL(piece_add_commit(f.ps, ids[i], &roots[i]) == 0);
		CU_ASSERT_FATAL(piece_of_commit(&ci, f.ps, ids[i]) == 0);
		CU_ASSERT_EQUAL(ci.stage, PIECE_STAGE_WAITING);
		CU_ASSERT(ci.padded < (64 << 10));
		CU_ASSERT_EQUAL(ci.pieces, 0);
		CU_ASSERT_EQUAL(ci.close_at, T0 + 600);
		CU_ASSERT_EQUAL(pieces_of(&h, &f, ids[i]), 0);
	}
	CU_ASSERT_EQUAL(piece_tick(f.ps, T0 + 599, &closed), 0);
	CU_ASSERT_EQUAL(closed, 0);
	CU_ASSERT_EQUAL(ready_count(&f), 0);
	CU_ASSERT_EQUAL(piece_tick(f.ps, T0 + 600, &closed), 0);
	CU_ASSERT_EQUAL(closed, 1);
	CU_ASSERT_EQUAL(ready_count(&f), 1);
	for (size_t i = 0; i < 5; i++) {
		CU_ASSERT_FATAL(piece_of_commit(&ci, f.ps, ids[i]) == 0);
		CU_ASSERT_EQUAL(ci.stage, PIECE_STAGE_PIECED);
		CU_ASSERT_EQUAL(ci.since, T0 + 600);
		CU_ASSERT_EQUAL(ci.pieces, 1);
		CU_ASSERT_FATAL(pieces_of(&h, &f, ids[i]) == 1);
		CU_ASSERT(h.m[0].has_sub);
	}
	check_aggregate(&f, h.ids[0], ids, roots, 5);
	/* nothing left to close */
	CU_ASSERT_EQUAL(piece_tick(f.ps, T0 + 100000, &closed), 0);
	CU_ASSERT_EQUAL(closed, 0);
	fx_close(&f);
}

/*
 * The aggregate of tests/data/piece (see its README): its piece CID, each
 * member's sub-piece CID and proof bytes as @web3-storage/data-segment
 * 5.3.0 computes them from the payload.
 */
static void test_piece__aggregate_golden(void)
{
	static const size_t sizes[] = { 100000, 3000, 250000, 40000, 7,
					64000 };
	struct buf gold = BUF_INIT(BUF_NOCAP), got = BUF_INIT(BUF_NOCAP);
	static uint8_t data[250000], proof[4096];
	char want[CID_STR_MAX], name[32], s[CID_STR_MAX];
	struct members ms = { 0 };
	struct piece_info info;
	struct cid root, v2;
	size_t closed;
	struct fx f;

	CU_ASSERT_FATAL(harness_read_data(&gold, "piece/aggregate.txt") == 0);
	fx_open(&f, 1 << 20, 1ull << 40, 0, 4 << 20);
	for (size_t i = 0; i < 6; i++) {
		for (size_t j = 0; j < sizes[i]; j++)
			data[j] = (uint8_t)(j * 31 + i * 7 + (j >> 9));
		import_bytes(&root, &f, data, sizes[i], 4096, 16);
		CU_ASSERT_FATAL(piece_add_commit(f.ps, (int64_t)i + 1,
						 &root) == 0);
	}
	CU_ASSERT_FATAL(piece_tick(f.ps, T0, &closed) == 0 && closed == 1);
	CU_ASSERT_FATAL(piece_get(&info, f.ps, 1) == 0);
	CU_ASSERT_EQUAL(info.padded, 1 << 20);
	commp_cid_v2(&v2, &info.piece);
	CU_ASSERT(harness_vector_str(want, sizeof(want), &gold,
				     "aggregate") > 0);
	CU_ASSERT_STRING_EQUAL(cid_tostr(s, &v2), want);
	check_commp(&f, 1, &got);
	CU_ASSERT_FATAL(piece_members(f.ps, 1, members_cb, &ms) == 0);
	CU_ASSERT_FATAL(ms.n == 6);
	for (size_t i = 0; i < ms.n; i++) {
		long n;

		snprintf(name, sizeof(name), "sub%zu", i);
		CU_ASSERT(harness_vector_str(want, sizeof(want), &gold,
					     name) > 0);
		commp_cid_v2(&v2, &ms.m[i].sub);
		CU_ASSERT_STRING_EQUAL(cid_tostr(s, &v2), want);
		snprintf(name, sizeof(name), "proof%zu", i);
		n = harness_vector_hex(proof, sizeof(proof), &gold, name);
		CU_ASSERT(n > 0 && (size_t)n == ms.proofs[i].len &&
			  !memcmp(proof, ms.proofs[i].ptr, (size_t)n));
	}
	members_release(&ms);
	buf_release(&gold);
	buf_release(&got);
	fx_close(&f);
}

/* A commit of about 5.5 KB (padded 8 KiB) for the grouping tests. */
static void add_small(struct fx *f, struct cid *root, int64_t id)
{
	struct piece_commit_info ci;

	make_file(root, f, 5000, 100 + (uint64_t)id, 1024, 4);
	CU_ASSERT_FATAL(piece_add_commit(f->ps, id, root) == 0);
	CU_ASSERT_FATAL(piece_of_commit(&ci, f->ps, id) == 0);
	CU_ASSERT_EQUAL(ci.padded, 8192);
}

static void test_piece__aggregate_target(void)
{
	struct cid roots[6];
	int64_t ids[6] = { 1, 2, 3, 4, 5, 6 };
	struct piece_commit_info ci;
	struct holding h;
	size_t closed;
	struct fx f;

	/* four 8 KiB sub-pieces reach the 32 KiB target */
	fx_open(&f, 16 << 10, 32 << 10, 3600, 1 << 20);
	for (size_t i = 0; i < 6; i++)
		add_small(&f, &roots[i], ids[i]);
	CU_ASSERT_EQUAL(piece_tick(f.ps, T0, &closed), 0);
	CU_ASSERT_EQUAL(closed, 1);
	CU_ASSERT_FATAL(pieces_of(&h, &f, 1) == 1);
	check_aggregate(&f, h.ids[0], ids, roots, 4);
	for (int64_t i = 5; i <= 6; i++) {
		CU_ASSERT_FATAL(piece_of_commit(&ci, f.ps, i) == 0);
		CU_ASSERT_EQUAL(ci.stage, PIECE_STAGE_WAITING);
	}
	fx_close(&f);
}

static void test_piece__aggregate_full(void)
{
	struct cid roots[7];
	int64_t ids[7] = { 1, 2, 3, 4, 5, 6, 7 };
	struct piece_commit_info ci;
	struct piece_info info;
	struct holding h;
	size_t closed;
	struct fx f;

	/* the largest aggregate is 32 KiB: its index takes 256 bytes, so
	 * three 8 KiB sub-pieces fit and a fourth does not */
	fx_open(&f, 16 << 10, 1ull << 30, 3600, 32512);
	for (size_t i = 0; i < 7; i++)
		add_small(&f, &roots[i], ids[i]);
	CU_ASSERT_EQUAL(piece_tick(f.ps, T0, &closed), 0);
	CU_ASSERT_EQUAL(closed, 2);
	CU_ASSERT_FATAL(pieces_of(&h, &f, 1) == 1);
	check_aggregate(&f, h.ids[0], ids, roots, 3);
	CU_ASSERT_FATAL(piece_get(&info, f.ps, h.ids[0]) == 0);
	CU_ASSERT_EQUAL(info.padded, 32768);
	CU_ASSERT_FATAL(pieces_of(&h, &f, 4) == 1);
	check_aggregate(&f, h.ids[0], ids + 3, roots + 3, 3);
	CU_ASSERT_FATAL(piece_of_commit(&ci, f.ps, 7) == 0);
	CU_ASSERT_EQUAL(ci.stage, PIECE_STAGE_WAITING);
	/* the last one, alone and due: an aggregate of min_padded */
	CU_ASSERT_EQUAL(piece_tick(f.ps, T0 + 3600, &closed), 0);
	CU_ASSERT_EQUAL(closed, 1);
	CU_ASSERT_FATAL(pieces_of(&h, &f, 7) == 1);
	check_aggregate(&f, h.ids[0], ids + 6, roots + 6, 1);
	CU_ASSERT_FATAL(piece_get(&info, f.ps, h.ids[0]) == 0);
	CU_ASSERT_EQUAL(info.padded, 16 << 10);
	CU_ASSERT_EQUAL(ready_count(&f), 3);
	fx_close(&f);
}

/* ---- idempotence and crashes ---- */

static void test_piece__idempotent(void)
{
	struct cid a, b;
	struct holding h;
	size_t closed;
	struct fx f;

	fx_open(&f, 8192, 1 << 20, 60, 1 << 20);
	make_file(&a, &f, 30000, 30, 1024, 8);
	make_file(&b, &f, 2000, 31, 1024, 8);
	CU_ASSERT_FATAL(piece_add_commit(f.ps, 1, &a) == 0);
	CU_ASSERT_FATAL(piece_add_commit(f.ps, 1, &a) == 0);
	CU_ASSERT_EQUAL(piece_add_commit(f.ps, 1, &b), EFS_EINVAL);
	CU_ASSERT_FATAL(piece_add_commit(f.ps, 2, &b) == 0);
	CU_ASSERT_FATAL(piece_add_commit(f.ps, 2, &b) == 0);
	CU_ASSERT_EQUAL(ready_count(&f), 1);
	CU_ASSERT_EQUAL(piece_tick(f.ps, T0 + 60, &closed), 0);
	CU_ASSERT_EQUAL(closed, 1);
	CU_ASSERT_EQUAL(piece_tick(f.ps, T0 + 60, &closed), 0);
	CU_ASSERT_EQUAL(closed, 0);
	CU_ASSERT_FATAL(piece_add_commit(f.ps, 2, &b) == 0);
	CU_ASSERT_EQUAL(pieces_of(&h, &f, 2), 1);
	CU_ASSERT_EQUAL(ready_count(&f), 2);
	/* the same root under another commit is a piece of its own */
	CU_ASSERT_FATAL(piece_add_commit(f.ps, 3, &a) == 0);
	CU_ASSERT_EQUAL(ready_count(&f), 3);
	fx_close(&f);
}

/* Rows of piece_block for a commit, read with a connection of our own. */
static int64_t rows_of(struct fx *f, int64_t commit)
{
	struct db *db;
	int64_t n = -1;

	CU_ASSERT_FATAL(db_open(&db, f->db, 0) == 0);
	CU_ASSERT(db_query_int(&n, db, "SELECT count(*) FROM piece_block"
			       " WHERE commit_id = ?1", &commit, 1) == 1);
	db_close(db);
	return n;
}

static void test_piece__crash_points(void)
{
	struct buf car = BUF_INIT(BUF_NOCAP), got = BUF_INIT(BUF_NOCAP);
	struct piece_commit_info ci;
	struct piece_info info;
	struct holding h;
	struct cid big, small;
	size_t closed;
	struct fx f;

	fx_open(&f, 8192, 1 << 20, 60, 1 << 20);
	piece_store_test_batch(f.ps, 16);
	make_file(&big, &f, 60000, 40, 1024, 8);
	make_file(&small, &f, 1000, 41, 1024, 8);
	car_of(&car, &f, &big);

	/* a crash while the rows stream: nothing of the commit after open */
	piece_store_test_stop(f.ps, PIECE_TEST_ROWS);
	CU_ASSERT_EQUAL(piece_add_commit(f.ps, 1, &big), EFS_ECANCELED);
	CU_ASSERT(rows_of(&f, 1) > 0);
	CU_ASSERT_FATAL(piece_of_commit(&ci, f.ps, 1) == 0);
	CU_ASSERT_EQUAL(ci.stage, PIECE_STAGE_SIZING);
	piece_store_close(f.ps);
	fx_open_store(&f);
	CU_ASSERT_EQUAL(piece_of_commit(&ci, f.ps, 1), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(rows_of(&f, 1), 0);

	/* after the record, before any location: recorded, not ready */
	piece_store_test_batch(f.ps, 16);
	piece_store_test_stop(f.ps, PIECE_TEST_RECORDED);
	CU_ASSERT_EQUAL(piece_add_commit(f.ps, 1, &big), EFS_ECANCELED);
	piece_store_close(f.ps);
	fx_open_store(&f);
	CU_ASSERT_FATAL(pieces_of(&h, &f, 1) == 1);
	CU_ASSERT_FATAL(piece_get(&info, f.ps, h.ids[0]) == 0);
	CU_ASSERT(!info.ready);
	CU_ASSERT_EQUAL(ready_count(&f), 0);
	/* after some locations: still not ready; a re-add finishes it */
	piece_store_test_batch(f.ps, 16);
	piece_store_test_stop(f.ps, PIECE_TEST_LOCATED);
	CU_ASSERT_EQUAL(piece_add_commit(f.ps, 1, &big), EFS_ECANCELED);
	CU_ASSERT_EQUAL(ready_count(&f), 0);
	CU_ASSERT_FATAL(piece_add_commit(f.ps, 1, &big) == 0);
	CU_ASSERT_EQUAL(ready_count(&f), 1);
	CU_ASSERT_EQUAL(pieces_of(&h, &f, 1), 1);
	CU_ASSERT_FATAL(piece_of_commit(&ci, f.ps, 1) == 0);
	CU_ASSERT_EQUAL(rows_of(&f, 1), (int64_t)ci.blocks);
	CU_ASSERT_FATAL(payload_of(&got, &f, h.ids[0]) == 0);
	CU_ASSERT(got.len == car.len && !memcmp(got.ptr, car.ptr, car.len));

	/* an aggregate recorded, its locations not: tick finishes it */
	CU_ASSERT_FATAL(piece_add_commit(f.ps, 2, &small) == 0);
	piece_store_test_stop(f.ps, PIECE_TEST_AGGREGATE);
	CU_ASSERT_EQUAL(piece_tick(f.ps, T0 + 60, &closed), EFS_ECANCELED);
	piece_store_close(f.ps);
	fx_open_store(&f);
	CU_ASSERT_EQUAL(ready_count(&f), 1);
	CU_ASSERT_FATAL(piece_of_commit(&ci, f.ps, 2) == 0);
	CU_ASSERT_EQUAL(ci.stage, PIECE_STAGE_PIECED);
	CU_ASSERT_EQUAL(piece_tick(f.ps, T0 + 60, &closed), 0);
	CU_ASSERT_EQUAL(closed, 0);
	CU_ASSERT_EQUAL(ready_count(&f), 2);
	CU_ASSERT_EQUAL(pieces_of(&h, &f, 2), 1);
	buf_release(&car);
	buf_release(&got);
	fx_close(&f);
}

/* ---- kill -9 ---- */

#define KILL_COMMITS 24

/* The child: add every commit, then close them into aggregates. */
static void kill_child(const char *dir, const char *dbp,
		       const struct piece_limits *lim, const struct cid *roots)
{
	struct piece_store *ps;
	struct bstore *bs;

	if (bstore_open(&bs, dir, NULL) < 0 ||
	    piece_store_open(&ps, dbp, bs, lim) < 0)
		_exit(2);
	piece_store_test_batch(ps, 8);
	for (int i = 0; i < KILL_COMMITS; i++)
		if (piece_add_commit(ps, i + 1, &roots[i]) < 0)
			_exit(3);
	if (piece_tick(ps, INT64_MAX / 2, NULL) < 0)
		_exit(4);
	_exit(0);
}

/* After a kill: each commit absent or whole; then finish everything and
 * check that every commit is in exactly one piece, read back right. */
static void kill_check(struct fx *f, const struct cid *roots)
{
	struct buf car = BUF_INIT(BUF_NOCAP), got = BUF_INIT(BUF_NOCAP);
	struct piece_commit_info ci;
	struct holding h;
	int rc;

	for (int i = 0; i < KILL_COMMITS; i++) {
		rc = piece_of_commit(&ci, f->ps, i + 1);
		CU_ASSERT(rc == 0 || rc == EFS_ENOTFOUND);
		if (rc == 0) {
			CU_ASSERT(ci.stage != PIECE_STAGE_SIZING);
			CU_ASSERT_EQUAL(rows_of(f, i + 1), (int64_t)ci.blocks);
		} else {
			CU_ASSERT_EQUAL(rows_of(f, i + 1), 0);
		}
	}
	for (int i = 0; i < KILL_COMMITS; i++)
		CU_ASSERT_FATAL(piece_add_commit(f->ps, i + 1, &roots[i]) == 0);
	CU_ASSERT_FATAL(piece_tick(f->ps, INT64_MAX / 2, NULL) == 0);
	for (int i = 0; i < KILL_COMMITS; i++) {
		CU_ASSERT_FATAL(pieces_of(&h, f, i + 1) == 1);
		car_of(&car, f, &roots[i]);
		CU_ASSERT_FATAL(payload_of(&got, f, h.ids[0]) == 0);
		CU_ASSERT(h.m[0].offset + car.len <= got.len &&
			  !memcmp(got.ptr + h.m[0].offset, car.ptr, car.len));
	}
	buf_release(&car);
	buf_release(&got);
}

static void test_piece__kill9(void)
{
	struct cid roots[KILL_COMMITS];
	uint64_t x = 77;
	struct fx f;

	fx_open(&f, 32 << 10, 1 << 30, 60, 1 << 20);
	for (int i = 0; i < KILL_COMMITS; i++)
		make_file(&roots[i], &f, i % 3 ? 4000 + 500 * (size_t)i
						: 40000, 200 + (uint64_t)i,
			  512, 8);
	for (int round = 0; round < 4; round++) {
		pid_t pid;
		int status;

		piece_store_close(f.ps);
		CU_ASSERT_FATAL(bstore_close(f.bs) == 0);
		pid = fork();
		CU_ASSERT_FATAL(pid >= 0);
		if (pid == 0)
			kill_child(f.dir, f.db, &f.lim, roots);
		usleep((useconds_t)(harness_rand64(&x) % 60000));
		kill(pid, SIGKILL);
		CU_ASSERT_FATAL(waitpid(pid, &status, 0) == pid);
		CU_ASSERT(WIFSIGNALED(status) || WEXITSTATUS(status) == 0);
		CU_ASSERT_FATAL(bstore_open(&f.bs, f.dir, NULL) == 0);
		fx_open_store(&f);
		kill_check(&f, roots);
	}
	fx_close(&f);
}

/* ---- allocation failures ---- */

struct alloc_case {
	struct fx *f;
	struct cid big;
	struct cid small;
	int run;
};

static int alloc_read_all(struct piece_store *ps, int64_t id)
{
	static uint8_t out[1 << 17];
	struct piece_reader *r;
	uint64_t size;
	int rc = piece_reader_open(&r, ps, id);

	if (rc < 0)
		return rc;
	size = piece_reader_size(r);
	rc = size <= sizeof(out) ? piece_reader_read(r, 0, out, (size_t)size)
				 : EFS_ETOOBIG;
	piece_reader_close(r);
	return rc;
}

static int alloc_run(void *payload)
{
	struct alloc_case *c = payload;
	struct piece_store *ps;
	char dbp[4200];
	int rc;

	/* a fresh piece database each run, so each run does all the work */
	snprintf(dbp, sizeof(dbp), "%s/alloc-%d.db", c->f->dir, c->run++);
	if ((rc = piece_store_open(&ps, dbp, c->f->bs, &c->f->lim)) < 0)
		return rc;
	if ((rc = piece_add_commit(ps, 1, &c->big)) == 0 &&
	    (rc = piece_add_commit(ps, 2, &c->small)) == 0)
		rc = piece_tick(ps, INT64_MAX / 2, NULL);
	/* every piece: two shards and an aggregate */
	for (int64_t id = 1; rc == 0; id++) {
		rc = alloc_read_all(ps, id);
		if (rc == EFS_ENOTFOUND && id > 3) {
			rc = 0;
			break;
		}
	}
	piece_store_close(ps);
	return rc;
}

static void test_piece__alloc(void)
{
	struct alloc_case c = { 0 };
	struct fx f;
	long runs;

	fx_open(&f, 4096, 1 << 20, 60, 6000);
	c.f = &f;
	make_file(&c.big, &f, 9000, 50, 1024, 4);
	make_file(&c.small, &f, 1500, 51, 1024, 4);
	runs = harness_alloc_loop(alloc_run, &c);
	CU_ASSERT(runs > 30);
	fx_close(&f);
}

/* ---- read-only: the CLI's view beside a daemon ---- */

struct evict {
	struct fx *f;
	size_t n;          /* blocks evicted */
	uint64_t bytes;
};

/* Evict every block of a commit's CAR that may be (leaves). */
static int evict_cb(const struct car_block_info *info, void *cls)
{
	struct evict *e = cls;

	if (bstore_evict(e->f->bs, &info->id) == 0) {
		e->n++;
		e->bytes += info->block_len;
	}
	return 0;
}

static void evict_commit(struct evict *e, struct fx *f, const struct cid *root)
{
	struct blockio_source src = bstore_source(f->bs);
	struct buf car = BUF_INIT(BUF_NOCAP);
	struct car_writer *w;

	memset(e, 0, sizeof(*e));
	e->f = f;
	CU_ASSERT_FATAL(car_writer_new_cb(&w, fx_to_buf, &car) == 0);
	CU_ASSERT_FATAL(car_write_dag(w, &src, root, evict_cb, e) == 0);
	car_writer_free(w);
	buf_release(&car);
}

struct listed {
	int64_t ids[8];
	enum piece_stage stages[8];
	size_t n;
};

static int listed_cb(const struct piece_commit_info *c, void *cls)
{
	struct listed *l = cls;

	if (l->n == 8)
		return EFS_ETOOBIG;
	l->ids[l->n] = c->commit_id;
	l->stages[l->n++] = c->stage;
	return 0;
}

/* Opening read-only: what is refused, and why. */
static void read_only_refusals(struct fx *f)
{
	char path[4200];
	struct piece_store *ro = (struct piece_store *)1;
	struct db *db;

	snprintf(path, sizeof(path), "%s/none.db", f->dir);
	CU_ASSERT_EQUAL(piece_store_open_ro(&ro, path, NULL), EFS_ENOTFOUND);
	CU_ASSERT(ro == NULL);
	/* an index without piece tables: the dealer never ran */
	CU_ASSERT_FATAL(db_open(&db, path, DB_OPEN_CREATE) == 0);
	CU_ASSERT_EQUAL(db_exec(db, "CREATE TABLE x (a);"), 0);
	db_close(db);
	CU_ASSERT_EQUAL(piece_store_open_ro(&ro, path, NULL), EFS_ENOTFOUND);
	CU_ASSERT(strstr(efs_error_msg(), "dealer has not run") != NULL);
	/* not a database */
	CU_ASSERT_FATAL(harness_write_file(path, (const uint8_t *)
					   "this is not sqlite at all, no", 29)
			== 0);
	CU_ASSERT_EQUAL(piece_store_open_ro(&ro, path, NULL), EFS_ECORRUPT);
	CU_ASSERT(ro == NULL);
}

static void test_piece__read_only(void)
{
	struct piece_limits lim = { 64 << 10, 1 << 20, 300, 1 << 20 };
	struct piece_commit_info ci;
	struct piece_reader *r;
	struct piece_store *ro;
	struct piece_info info;
	struct holding h;
	struct listed l = { 0 };
	struct evict e;
	struct cid big, small;
	uint64_t n, bytes;
	size_t closed = 9;
	struct fx f;

	fx_open(&f, 64 << 10, 1 << 20, 60, 1 << 20);
	read_only_refusals(&f);
	make_file(&big, &f, 100000, 70, 1024, 8);
	make_file(&small, &f, 3000, 71, 1024, 8);
	CU_ASSERT_FATAL(piece_add_commit(f.ps, 7, &big) == 0);
	CU_ASSERT_FATAL(piece_add_commit(f.ps, 9, &small) == 0);

	/* beside the writer, with the limits the caller knows */
	CU_ASSERT_FATAL(piece_store_open_ro(&ro, f.db, &lim) == 0);
	CU_ASSERT_EQUAL(piece_commits_foreach(ro, listed_cb, &l), 0);
	CU_ASSERT_EQUAL(l.n, 2);
	CU_ASSERT(l.ids[0] == 7 && l.stages[0] == PIECE_STAGE_PIECED);
	CU_ASSERT(l.ids[1] == 9 && l.stages[1] == PIECE_STAGE_WAITING);
	CU_ASSERT_FATAL(piece_of_commit(&ci, ro, 9) == 0);
	CU_ASSERT_EQUAL(ci.close_at, T0 + 300);
	memset(&h, 0, sizeof(h));
	CU_ASSERT_EQUAL(piece_commit_foreach(ro, 7, holding_cb, &h), 0);
	CU_ASSERT_FATAL(h.n == 1);
	CU_ASSERT_EQUAL(piece_get(&info, ro, h.ids[0]), 0);
	CU_ASSERT(info.ready && info.commit_id == 7);

	/* no writes, no blockstore */
	CU_ASSERT_EQUAL(piece_add_commit(ro, 10, &big), EFS_EINVAL);
	CU_ASSERT(strstr(efs_error_msg(), "read-only") != NULL);
	CU_ASSERT_EQUAL(piece_tick(ro, T0 + 9999, &closed), EFS_EINVAL);
	CU_ASSERT_EQUAL(closed, 0);
	CU_ASSERT_EQUAL(piece_reader_open(&r, ro, h.ids[0]), EFS_EINVAL);
	CU_ASSERT(r == NULL);

	/* eviction, read from the blockstore's table */
	CU_ASSERT_EQUAL(piece_commit_evicted(&n, &bytes, ro, 7), 0);
	CU_ASSERT(n == 0 && bytes == 0);
	evict_commit(&e, &f, &big);
	CU_ASSERT(e.n > 50 && e.bytes >= e.n * 1000);
	CU_ASSERT_EQUAL(piece_commit_evicted(&n, &bytes, ro, 7), 0);
	CU_ASSERT_EQUAL(n, e.n);
	CU_ASSERT_EQUAL(bytes, e.bytes);
	CU_ASSERT_EQUAL(piece_commit_evicted(&n, &bytes, ro, 9), 0);
	CU_ASSERT(n == 0 && bytes == 0);
	CU_ASSERT_EQUAL(piece_commit_evicted(&n, &bytes, ro, 12345), 0);
	CU_ASSERT(n == 0 && bytes == 0);
	piece_store_close(ro);
	fx_close(&f);
}

/* CIDv0 blocks (dag-pb leaves): their keys are the CIDs themselves. */
static void test_piece__read_only_v0(void)
{
	struct blockio_sink sink;
	struct importer_opts o;
	struct piece_store *ro;
	uint8_t data[30000];
	char path[4200];
	uint64_t n, bytes;
	struct cid root;
	struct evict e;
	struct fx f;

	fx_open(&f, 128, 1 << 20, 60, 1 << 20);
	snprintf(path, sizeof(path), "%s/v0", f.dir);
	harness_fill_random(data, sizeof(data), 72);
	CU_ASSERT_FATAL(harness_write_file(path, data, sizeof(data)) == 0);
	CU_ASSERT_FATAL(importer_opts_profile(&o, "unixfs-v0-2015") == 0);
	o.chunk_size = 1024;
	o.threads = 1;
	sink = bstore_sink(f.bs);
	CU_ASSERT_FATAL(importer_add_path(&root, NULL, path, &o, &sink, NULL,
					  NULL) == 0);
	CU_ASSERT_FATAL(bstore_sync(f.bs) == 0);
	CU_ASSERT_FATAL(root.version == 0);
	CU_ASSERT_FATAL(piece_add_commit(f.ps, 1, &root) == 0);
	evict_commit(&e, &f, &root);
	CU_ASSERT(e.n >= 29);
	CU_ASSERT_FATAL(piece_store_open_ro(&ro, f.db, NULL) == 0);
	CU_ASSERT_EQUAL(piece_commit_evicted(&n, &bytes, ro, 1), 0);
	CU_ASSERT_EQUAL(n, e.n);
	CU_ASSERT_EQUAL(bytes, e.bytes);
	piece_store_close(ro);
	fx_close(&f);
}

static CU_TestInfo piece_tests[] = {
	{ "limits", test_piece__limits },
	{ "car", test_piece__car },
	{ "v0_dedup", test_piece__v0_dedup },
	{ "shards", test_piece__shards },
	{ "too_big", test_piece__too_big },
	{ "aggregate_age", test_piece__aggregate_age },
	{ "aggregate_golden", test_piece__aggregate_golden },
	{ "aggregate_target", test_piece__aggregate_target },
	{ "aggregate_full", test_piece__aggregate_full },
	{ "idempotent", test_piece__idempotent },
	{ "crash_points", test_piece__crash_points },
	{ "kill9", test_piece__kill9 },
	{ "alloc", test_piece__alloc },
	{ "read_only", test_piece__read_only },
	{ "read_only_v0", test_piece__read_only_v0 },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "piece", .pTests = piece_tests })
