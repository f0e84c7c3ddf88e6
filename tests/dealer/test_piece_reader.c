/*
 * test_piece_reader.c - reading piece payloads back: every kind of piece
 * whole, in random ranges and in small sequential chunks, equal to the
 * bytes core/ makes (car_write_dag, and for an aggregate the CARs at
 * their offsets, zeros and the index); the recorded block locations
 * pointing at the right bytes; the transfer server's source ops; evicted,
 * corrupt and missing blocks; corrupt rows; readers on several threads
 * while commits are added.
 */
#include "dealer/piece.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/bstore.h"
#include "core/car.h"
#include "core/datasegment.h"
#include "core/db.h"
#include "core/error.h"
#include "core/importer.h"
#include "core/mhash.h"
#include "dealer/transfer.h"
#include "tests/dealer/piece_test.h"
#include "tests/harness.h"

/* The fixture (piece_test.h) with these tests' limits: aggregates of at
 * least 16 KiB, closed after 60 s; pieces of at most max_payload. */
static void fx_open_max(struct fx *f, uint64_t max_payload)
{
	fx_open(f, 16 << 10, 1 << 30, 60, max_payload);
}

/* Commit 1: len random bytes (seed) as a file of 1000-byte leaves; its
 * CAR goes to car. */
static void add_one(struct buf *car, struct cid *root, struct fx *f,
		    size_t len, uint64_t seed)
{
	make_file(root, f, len, seed, 1000, 6);
	CU_ASSERT_FATAL(piece_add_commit(f->ps, 1, root) == 0);
	car_of(car, f, root);
}

/*
 * Commits (with max_payload 25000): 1 has its own piece (car), 2 is split
 * in shards, 3..5 are aggregated.  f->roots[i] is commit i + 1.
 */
static void fx_pieces(struct fx *f)
{
	make_file(&f->roots[0], f, 20000, 1, 1000, 6);
	make_file(&f->roots[1], f, 90000, 2, 1000, 6);
	make_file(&f->roots[2], f, 7000, 3, 1000, 6);
	make_file(&f->roots[3], f, 300, 4, 1000, 6);
	make_file(&f->roots[4], f, 2000, 5, 1000, 6);
	f->nroots = 5;
	for (size_t i = 0; i < f->nroots; i++)
		CU_ASSERT_FATAL(piece_add_commit(f->ps, (int64_t)i + 1,
						 &f->roots[i]) == 0);
	CU_ASSERT_FATAL(piece_tick(f->ps, T0 + 60, NULL) == 0);
}

struct expect {
	int64_t id;
	struct buf bytes;
};

struct expects {
	struct fx *f;
	struct expect v[16];
	size_t n;
	struct buf car;
};

/* What a piece's payload must be: each member's CAR at its offset (the
 * commit's whole CAR, or for a shard its sections), zeros elsewhere.
 * A shard's header and an aggregate's index are taken from the reader:
 * test_piece.c checks them with the CAR reader and datasegment's parser. */
static int expect_member(const struct piece_member *m, void *cls)
{
	struct expects *es = cls;
	struct expect *e = &es->v[es->n - 1];
	const struct cid *root = &es->f->roots[m->commit_id - 1];
	uint64_t hlen = m->length - (m->car_end - m->car_start);

	car_of(&es->car, es->f, root);
	CU_ASSERT_FATAL(m->offset + m->length <= e->bytes.len);
	if (m->car_start == hlen && m->length == es->car.len) {
		/* a whole CAR */
		memcpy(e->bytes.ptr + m->offset, es->car.ptr, es->car.len);
	} else { /* a shard: its header is checked by the CAR reader */
		memcpy(e->bytes.ptr + m->offset + hlen,
		       es->car.ptr + m->car_start, m->car_end - m->car_start);
	}
	return 0;
}

static int expect_piece(const struct piece_info *p, void *cls)
{
	struct expects *es = cls;
	struct expect *e = &es->v[es->n++];
	struct piece_reader *r;

	e->id = p->id;
	buf_init(&e->bytes, BUF_NOCAP);
	CU_ASSERT_FATAL(buf_grow(&e->bytes, p->payload) == 0);
	e->bytes.len = p->payload;
	/* the whole payload in one read: headers and index come from it */
	CU_ASSERT_FATAL(piece_reader_open(&r, es->f->ps, p->id) == 0);
	CU_ASSERT_FATAL(piece_reader_read(r, 0, e->bytes.ptr,
					  e->bytes.len) == 0);
	piece_reader_close(r);
	if (p->kind == PIECE_AGGREGATE)
		memset(e->bytes.ptr, 0, e->bytes.len -
		       datasegment_index_unpadded_size(p->padded));
	return piece_members(es->f->ps, p->id, expect_member, es);
}

/* Every ready piece's expected bytes. */
static void expects_load(struct expects *es, struct fx *f)
{
	memset(es, 0, sizeof(*es));
	es->f = f;
	buf_init(&es->car, BUF_NOCAP);
	CU_ASSERT_FATAL(piece_foreach_ready(f->ps, expect_piece, es) == 0);
}

static void expects_release(struct expects *es)
{
	for (size_t i = 0; i < es->n; i++)
		buf_release(&es->v[i].bytes);
	buf_release(&es->car);
}

/* ---- ranges ---- */

static void check_whole(struct fx *f, const struct expect *e)
{
	struct buf got = BUF_INIT(BUF_NOCAP);
	struct piece_reader *r;

	CU_ASSERT_FATAL(piece_reader_open(&r, f->ps, e->id) == 0);
	CU_ASSERT_EQUAL(piece_reader_size(r), e->bytes.len);
	CU_ASSERT_FATAL(buf_grow(&got, e->bytes.len) == 0);
	CU_ASSERT_EQUAL(piece_reader_read(r, 0, got.ptr, e->bytes.len), 0);
	CU_ASSERT(!memcmp(got.ptr, e->bytes.ptr, e->bytes.len));
	piece_reader_close(r);
	buf_release(&got);
}

static void check_ranges(struct fx *f, const struct expect *e, uint64_t seed)
{
	static uint8_t got[70000];
	size_t size = e->bytes.len;
	struct piece_reader *r;
	uint64_t x = seed;

	CU_ASSERT_FATAL(piece_reader_open(&r, f->ps, e->id) == 0);
	for (int i = 0; i < 300; i++) {
		size_t off = (size_t)(harness_rand64(&x) % (size + 1));
		size_t max = i % 10 == 0 ? sizeof(got) : 3000;
		size_t len = (size_t)(harness_rand64(&x) % (max + 1));

		if (len > size - off)
			len = size - off;
		CU_ASSERT_EQUAL_FATAL(piece_reader_read(r, off, got, len), 0);
		CU_ASSERT(!memcmp(got, e->bytes.ptr + off, len));
	}
	/* in order, in small chunks, as a download would */
	for (size_t off = 0, len = 7; off < size; off += len) {
		len = off % 3 ? 4096 : 7;
		if (len > size - off)
			len = size - off;
		CU_ASSERT_EQUAL_FATAL(piece_reader_read(r, off, got, len), 0);
		CU_ASSERT_FATAL(!memcmp(got, e->bytes.ptr + off, len));
	}
	CU_ASSERT_EQUAL(piece_reader_read(r, size, got, 0), 0);
	CU_ASSERT_EQUAL(piece_reader_read(r, size, got, 1), EFS_EINVAL);
	CU_ASSERT_EQUAL(piece_reader_read(r, size - 1, got, 2), EFS_EINVAL);
	CU_ASSERT_EQUAL(piece_reader_read(r, UINT64_MAX, got, 1), EFS_EINVAL);
	piece_reader_close(r);
}

static void test_piece_reader__ranges(void)
{
	struct expects es;
	struct fx f;
	int kinds[3] = { 0 };

	fx_open_max(&f, 25000);
	fx_pieces(&f);
	expects_load(&es, &f);
	CU_ASSERT(es.n >= 6);
	for (size_t i = 0; i < es.n; i++) {
		struct piece_info info;

		CU_ASSERT_FATAL(piece_get(&info, f.ps, es.v[i].id) == 0);
		kinds[info.kind]++;
		check_whole(&f, &es.v[i]);
		check_ranges(&f, &es.v[i], 1 + i);
	}
	CU_ASSERT_EQUAL(kinds[PIECE_CAR], 1);
	CU_ASSERT(kinds[PIECE_SHARD] >= 4);
	CU_ASSERT_EQUAL(kinds[PIECE_AGGREGATE], 1);
	CU_ASSERT_EQUAL(piece_reader_open(&(struct piece_reader *){ NULL },
					  f.ps, 999), EFS_ENOTFOUND);
	expects_release(&es);
	fx_close(&f);
}

/* ---- locations ---- */

struct loc_find {
	struct cid piece;
	uint64_t offset;
	uint64_t length;
	bool found;
};

static int loc_cb(const struct bstore_location *loc, void *payload)
{
	struct loc_find *lf = payload;

	if (cid_equal(&loc->piece, &lf->piece)) {
		lf->found = true;
		lf->offset = loc->offset;
		lf->length = loc->length;
	}
	return 0;
}

struct loc_check {
	struct fx *f;
	const struct buf *payload;
	struct cid piece;
	size_t blocks;
};

/* Every block of a member's CAR has a location at its bytes. */
static int loc_member(const struct piece_member *m, void *cls)
{
	struct loc_check *lc = cls;
	struct buf block = BUF_INIT(BUF_NOCAP);
	struct car_reader *r;
	struct car_block b;

	CU_ASSERT_FATAL(car_reader_open_mem(&r, lc->payload->ptr + m->offset,
					    m->length) == 0);
	while (car_reader_next(r, &b) == 0) {
		struct loc_find lf = { .piece = lc->piece };

		CU_ASSERT_EQUAL(bstore_locations(lc->f->bs, &b.info.id, loc_cb,
						 &lf), 0);
		CU_ASSERT_FATAL(lf.found);
		CU_ASSERT_EQUAL(lf.offset, m->offset + b.info.block_offset);
		CU_ASSERT_EQUAL(lf.length, b.info.block_len);
		buf_reset(&block);
		CU_ASSERT_FATAL(bstore_get(lc->f->bs, &b.info.id, &block) == 0);
		CU_ASSERT(block.len == lf.length &&
			  !memcmp(lc->payload->ptr + lf.offset, block.ptr,
				  block.len));
		lc->blocks++;
	}
	car_reader_free(r);
	buf_release(&block);
	return 0;
}

static void test_piece_reader__locations(void)
{
	struct expects es;
	size_t blocks = 0;
	struct fx f;

	fx_open_max(&f, 25000);
	fx_pieces(&f);
	expects_load(&es, &f);
	for (size_t i = 0; i < es.n; i++) {
		struct loc_check lc = { &f, &es.v[i].bytes, { 0 }, 0 };
		struct piece_info info;

		CU_ASSERT_FATAL(piece_get(&info, f.ps, es.v[i].id) == 0);
		lc.piece = info.cid;
		CU_ASSERT_EQUAL(piece_members(f.ps, info.id, loc_member, &lc),
				0);
		CU_ASSERT(lc.blocks > 0);
		blocks += lc.blocks;
	}
	CU_ASSERT(blocks >= 140);
	expects_release(&es);
	fx_close(&f);
}

/* ---- the transfer adapter ---- */

static void test_piece_reader__transfer(void)
{
	const struct transfer_source_ops *ops = &piece_source_ops;
	struct buf car = BUF_INIT(BUF_NOCAP);
	uint8_t got[1000];
	struct cid root;
	uint64_t size;
	void *src;
	struct fx f;

	fx_open_max(&f, 1 << 20);
	add_one(&car, &root, &f, 60000, 9);
	CU_ASSERT_FATAL(ops->open(&src, &size, f.ps, 1) == 0);
	CU_ASSERT_EQUAL(size, car.len);
	CU_ASSERT_EQUAL(ops->read(src, size - 1000, got, 1000), 0);
	CU_ASSERT(!memcmp(got, car.ptr + size - 1000, 1000));
	CU_ASSERT_EQUAL(ops->read(src, 0, got, 100), 0);
	CU_ASSERT(!memcmp(got, car.ptr, 100));
	ops->close(src);
	CU_ASSERT(ops->sent == NULL);
	CU_ASSERT_EQUAL(ops->open(&src, &size, f.ps, 2), EFS_ENOTFOUND);
	buf_release(&car);
	fx_close(&f);
}

/* ---- blocks that are not there ---- */

/* The first raw block of a CAR (a leaf: the kind that can be evicted). */
static void first_leaf(struct car_block_info *out, const struct buf *car)
{
	struct car_reader *r;
	struct car_block b;

	CU_ASSERT_FATAL(car_reader_open_mem(&r, car->ptr, car->len) == 0);
	while (car_reader_next(r, &b) == 0)
		if (b.info.id.codec == CID_CODEC_RAW)
			break;
	CU_ASSERT_FATAL(b.info.id.codec == CID_CODEC_RAW);
	*out = b.info;
	car_reader_free(r);
}

static void test_piece_reader__evicted(void)
{
	struct buf car = BUF_INIT(BUF_NOCAP), blk = BUF_INIT(BUF_NOCAP);
	struct car_block_info leaf;
	struct piece_commit_info ci;
	struct piece_reader *r, *k;
	uint8_t got[200000];
	struct cid root;
	struct fx f;

	fx_open_max(&f, 1 << 20);
	add_one(&car, &root, &f, 150000, 7);
	first_leaf(&leaf, &car);
	CU_ASSERT_FATAL(bstore_get(f.bs, &leaf.id, &blk) == 0);
	/* a reader fetches (and re-hashes) a block once for all the reads
	 * that fall in it: after one read into it, the rest of it still
	 * reads once it is evicted */
	CU_ASSERT_FATAL(piece_reader_open(&k, f.ps, 1) == 0);
	CU_ASSERT_EQUAL(piece_reader_read(k, leaf.block_offset, got, 1), 0);
	CU_ASSERT_FATAL(bstore_evict(f.bs, &leaf.id) == 0);
	CU_ASSERT_EQUAL(piece_reader_read(k, leaf.block_offset + 1, got,
					  leaf.block_len - 1), 0);
	CU_ASSERT(!memcmp(got, car.ptr + leaf.block_offset + 1,
			  leaf.block_len - 1));
	piece_reader_close(k);

	CU_ASSERT_FATAL(piece_reader_open(&r, f.ps, 1) == 0);
	CU_ASSERT_EQUAL(piece_reader_read(r, 0, got, car.len), EFS_EEVICTED);
	CU_ASSERT_EQUAL(piece_reader_read(r, leaf.block_offset + 10, got, 1),
			EFS_EEVICTED);
	/* everything around it still reads, its framing included */
	CU_ASSERT_EQUAL(piece_reader_read(r, 0, got, leaf.block_offset), 0);
	CU_ASSERT(!memcmp(got, car.ptr, leaf.block_offset));
	CU_ASSERT_EQUAL(piece_reader_read(r, leaf.block_offset + leaf.block_len,
			got, car.len - leaf.block_offset - leaf.block_len), 0);
	CU_ASSERT(!memcmp(got, car.ptr + leaf.block_offset + leaf.block_len,
			  car.len - leaf.block_offset - leaf.block_len));
	/* a new commit of the same DAG cannot be sized without it */
	CU_ASSERT_EQUAL(piece_add_commit(f.ps, 2, &root), EFS_EEVICTED);
	CU_ASSERT_EQUAL(piece_of_commit(&ci, f.ps, 2), EFS_ENOTFOUND);
	/* retrieved again: readable again */
	CU_ASSERT_FATAL(bstore_put(f.bs, &leaf.id, blk.ptr, blk.len) == 0);
	CU_ASSERT_FATAL(bstore_sync(f.bs) == 0);
	CU_ASSERT_EQUAL(piece_reader_read(r, 0, got, car.len), 0);
	CU_ASSERT(!memcmp(got, car.ptr, car.len));
	piece_reader_close(r);
	buf_release(&car);
	buf_release(&blk);
	fx_close(&f);
}

/* Flip one byte of the pack bytes holding needle[0..n). */
static void corrupt_pack(struct fx *f, const uint8_t *needle, size_t n)
{
	struct buf pack = BUF_INIT(BUF_NOCAP);
	char path[4200];
	bool done = false;
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/packs", f->dir);
	d = opendir(path);
	CU_ASSERT_FATAL(d != NULL);
	while (!done && (de = readdir(d))) {
		uint8_t *hit;

		if (!strstr(de->d_name, ".pack"))
			continue;
		snprintf(path, sizeof(path), "%s/packs/%s", f->dir, de->d_name);
		buf_reset(&pack);
		CU_ASSERT_FATAL(harness_read_file(&pack, path) == 0);
		hit = memmem(pack.ptr, pack.len, needle, n);
		if (hit) {
			hit[n / 2] ^= 0x40;
			CU_ASSERT_FATAL(harness_write_file(path, pack.ptr,
							   pack.len) == 0);
			done = true;
		}
	}
	closedir(d);
	CU_ASSERT_FATAL(done);
	buf_release(&pack);
}

static void test_piece_reader__corrupt_block(void)
{
	struct buf car = BUF_INIT(BUF_NOCAP);
	struct car_block_info leaf;
	struct piece_reader *r;
	uint8_t got[200000];
	struct cid root;
	struct fx f;

	fx_open_max(&f, 1 << 20);
	add_one(&car, &root, &f, 150000, 8);
	first_leaf(&leaf, &car);
	fx_unstore(&f);
	corrupt_pack(&f, car.ptr + leaf.block_offset, leaf.block_len);
	fx_store(&f);
	CU_ASSERT_FATAL(piece_reader_open(&r, f.ps, 1) == 0);
	CU_ASSERT_EQUAL(piece_reader_read(r, 0, got, car.len), EFS_EMISMATCH);
	CU_ASSERT_EQUAL(piece_reader_read(r, 0, got, leaf.block_offset), 0);
	CU_ASSERT(!memcmp(got, car.ptr, leaf.block_offset));
	piece_reader_close(r);
	buf_release(&car);
	fx_close(&f);
}

/* ---- corrupt rows ---- */

static void exec_sql(struct fx *f, const char *sql)
{
	struct db *db;

	CU_ASSERT_FATAL(db_open(&db, f->db, 0) == 0);
	CU_ASSERT_EQUAL(db_exec(db, sql), 0);
	db_close(db);
}

static void test_piece_reader__corrupt_rows(void)
{
	static const char *const bad[] = {
		/* a block longer than recorded */
		"UPDATE piece_block SET len = len + 1 WHERE off ="
		" (SELECT max(off) FROM piece_block WHERE commit_id = 1)",
		/* a CID that does not decode */
		"UPDATE piece_block SET cid = x'0170' WHERE off ="
		" (SELECT max(off) FROM piece_block WHERE commit_id = 1)",
		/* a section missing */
		"DELETE FROM piece_block WHERE off ="
		" (SELECT max(off) FROM piece_block WHERE commit_id = 1)",
		/* a part longer than its place */
		"UPDATE piece_part SET car_end = car_end + 1",
		/* sections past the part's end */
		"UPDATE piece_part SET car_end = car_end - 1",
	};
	struct buf car = BUF_INIT(BUF_NOCAP), got = BUF_INIT(BUF_NOCAP);
	struct piece_info info;
	struct cid root;
	struct fx f;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fx_open_max(&f, 1 << 20);
		add_one(&car, &root, &f, 60000, 20 + i);
		CU_ASSERT_EQUAL(payload_of(&got, &f, 1), 0);
		CU_ASSERT(got.len == car.len &&
			  !memcmp(got.ptr, car.ptr, car.len));
		exec_sql(&f, bad[i]);
		CU_ASSERT_EQUAL(payload_of(&got, &f, 1), EFS_ECORRUPT);
		fx_close(&f);
	}
	/* a CommP that is not one */
	fx_open_max(&f, 1 << 20);
	add_one(&car, &root, &f, 60000, 30);
	exec_sql(&f, "UPDATE piece SET comm = x'00'");
	CU_ASSERT_EQUAL(piece_get(&info, f.ps, 1), EFS_ECORRUPT);
	exec_sql(&f, "UPDATE piece SET comm = zeroblob(32), padded = 1000");
	CU_ASSERT_EQUAL(piece_get(&info, f.ps, 1), EFS_ECORRUPT);
	buf_release(&car);
	buf_release(&got);
	fx_close(&f);
}

static void test_piece_reader__missing_block(void)
{
	struct piece_commit_info ci;
	uint8_t junk[32] = { 1, 2, 3 };
	struct cid root;
	struct fx f;

	fx_open_max(&f, 1 << 20);
	CU_ASSERT_FATAL(cid_hash(&root, 1, CID_CODEC_DAG_PB, MHASH_SHA2_256,
				 junk, sizeof(junk)) == 0);
	CU_ASSERT_EQUAL(piece_add_commit(f.ps, 1, &root), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(piece_of_commit(&ci, f.ps, 1), EFS_ENOTFOUND);
	fx_close(&f);
}

/* ---- threads ---- */

struct conc {
	struct fx *f;
	struct expects *es;
	atomic_int errors;
	atomic_int reads;
	atomic_bool stop;
};

static void *conc_reader(void *arg)
{
	struct conc *c = arg;
	uint64_t x = (uint64_t)(uintptr_t)&x | 1;
	static _Thread_local uint8_t got[20000];

	while (!atomic_load(&c->stop)) {
		const struct expect *e = &c->es->v[harness_rand64(&x) %
						   c->es->n];
		size_t off = (size_t)(harness_rand64(&x) % e->bytes.len);
		size_t len = (size_t)(harness_rand64(&x) % sizeof(got));
		struct piece_reader *r;

		if (len > e->bytes.len - off)
			len = e->bytes.len - off;
		if (piece_reader_open(&r, c->f->ps, e->id) < 0) {
			atomic_fetch_add(&c->errors, 1);
			continue;
		}
		if (piece_reader_read(r, off, got, len) < 0 ||
		    memcmp(got, e->bytes.ptr + off, len))
			atomic_fetch_add(&c->errors, 1);
		piece_reader_close(r);
		atomic_fetch_add(&c->reads, 1);
	}
	return NULL;
}

static void test_piece_reader__threads(void)
{
	struct expects es;
	struct conc c;
	pthread_t t[4];
	struct cid more;
	struct fx f;

	fx_open_max(&f, 25000);
	fx_pieces(&f);
	expects_load(&es, &f);
	memset(&c, 0, sizeof(c));
	c.f = &f;
	c.es = &es;
	for (int i = 0; i < 4; i++)
		CU_ASSERT_FATAL(pthread_create(&t[i], NULL, conc_reader,
					       &c) == 0);
	for (int i = 0; i < 6; i++) {
		make_file(&more, &f, 20000 + 9000 * (size_t)i, 40 + (uint64_t)i,
			  1000, 6);
		CU_ASSERT_EQUAL(piece_add_commit(f.ps, 10 + i, &more), 0);
		CU_ASSERT_EQUAL(piece_tick(f.ps, T0 + 1000, NULL), 0);
	}
	atomic_store(&c.stop, true);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	CU_ASSERT_EQUAL(atomic_load(&c.errors), 0);
	CU_ASSERT(atomic_load(&c.reads) > 0);
	expects_release(&es);
	fx_close(&f);
}

static CU_TestInfo reader_tests[] = {
	{ "ranges", test_piece_reader__ranges },
	{ "locations", test_piece_reader__locations },
	{ "transfer", test_piece_reader__transfer },
	{ "evicted", test_piece_reader__evicted },
	{ "corrupt_block", test_piece_reader__corrupt_block },
	{ "corrupt_rows", test_piece_reader__corrupt_rows },
	{ "missing_block", test_piece_reader__missing_block },
	{ "threads", test_piece_reader__threads },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "piece_reader", .pTests = reader_tests })
