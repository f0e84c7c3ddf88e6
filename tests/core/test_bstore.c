/*
 * test_bstore.c - the blockstore: round trips (pending and synced, the v0
 * and v1 CIDs of one block, identity CIDs), dedupe, verification on read
 * (pack bytes corrupted on disk), damaged index rows, recovery of pack
 * tails and orphan packs, a lost index refused, kill -9 in a loop (a
 * forked writer killed at random points, syncing and pinning plainly and
 * deferred), deferred commits and their sealing, pins and gc with shared sub-DAGs
 * and the grace period, eviction with locations and put-back, the LRU
 * walk, injected ENOSPC on pack writes and fdatasync, the allocation-
 * failure loop, and readers beside a writer and gc beside puts (threads).
 */
#include "core/bstore.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/dagpb.h"
#include "core/db.h"
#include "core/error.h"
#include "tests/harness.h"

/* ---- helpers ---- */

static char *dir;

static int setup(void)
{
	dir = harness_tmpdir();
	return dir ? 0 : 1;
}

static int teardown(void)
{
	harness_tmpdir_free(dir);
	return 0;
}

/* A fresh repository directory under the suite's tmpdir. */
static char *repo(const char *name)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	CU_ASSERT_EQUAL_FATAL(mkdir(path, 0755), 0);
	return path;
}

static struct bstore_opts small_opts(void)
{
	struct bstore_opts o = BSTORE_OPTS_INIT;

	o.pack_size = 256 << 10;
	o.write_buffer = 64 << 10;
	o.batch_bytes = 4 << 20;
	o.batch_count = 1000;
	o.read_conns = 4;
	return o;
}

static struct bstore *open_store(const char *path,
				 const struct bstore_opts *o)
{
	struct bstore *bs = NULL;
	int error = bstore_open(&bs, path, o);

	if (error)
		fprintf(stderr, "bstore_open: %s\n", efs_error_msg());
	CU_ASSERT_EQUAL_FATAL(error, 0);
	return bs;
}

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void make_raw(struct buf *data, struct cid *id, uint64_t seed,
		     size_t len)
{
	buf_reset(data);
	CU_ASSERT_EQUAL_FATAL(buf_grow(data, len), 0);
	harness_fill_random(data->ptr, len, seed);
	data->len = len;
	CU_ASSERT_EQUAL_FATAL(cid_hash(id, 1, CID_CODEC_RAW, MHASH_SHA2_256,
				       data->ptr, len), 0);
}

/* A dag-pb node linking kids, with a little data so nodes differ. */
static void make_node(struct buf *data, struct cid *id, const struct cid *kids,
		      size_t n, int version, uint64_t salt)
{
	struct dagpb_link links[16];
	struct dagpb_node node;
	uint8_t extra[8];

	CU_ASSERT_FATAL(n <= 16);
	memset(links, 0, sizeof(links));
	for (size_t i = 0; i < n; i++) {
		links[i].cid = kids[i];
		links[i].name = (const uint8_t *)"";
		links[i].has_name = true;
		links[i].tsize = 1;
		links[i].has_tsize = true;
	}
	memcpy(extra, &salt, sizeof(extra));
	memset(&node, 0, sizeof(node));
	node.links = links;
	node.nlinks = n;
	node.data = extra;
	node.data_len = sizeof(extra);
	node.has_data = true;
	buf_reset(data);
	CU_ASSERT_EQUAL_FATAL(dagpb_encode(data, &node), 0);
	CU_ASSERT_EQUAL_FATAL(cid_hash(id, version, CID_CODEC_DAG_PB,
				       MHASH_SHA2_256, data->ptr, data->len),
			      0);
}

static void put_ok(struct bstore *bs, const struct cid *id,
		   const struct buf *data)
{
	int error = bstore_put(bs, id, data->ptr, data->len);

	if (error)
		fprintf(stderr, "bstore_put: %s\n", efs_error_msg());
	CU_ASSERT_EQUAL(error, 0);
}

static void get_expect(struct bstore *bs, const struct cid *id,
		       const struct buf *data)
{
	struct buf out = BUF_INIT(BUF_NOCAP);
	int error = bstore_get(bs, id, &out);

	if (error)
		fprintf(stderr, "bstore_get: %s\n", efs_error_msg());
	CU_ASSERT_EQUAL(error, 0);
	CU_ASSERT_EQUAL(out.len, data->len);
	CU_ASSERT(out.len == data->len &&
		  (!out.len || !memcmp(out.ptr, data->ptr, out.len)));
	buf_release(&out);
}

static int get_code(struct bstore *bs, const struct cid *id)
{
	struct buf out = BUF_INIT(BUF_NOCAP);
	int error = bstore_get(bs, id, &out);

	CU_ASSERT(error == 0 || out.len == 0);
	buf_release(&out);
	return error;
}

static void print_report(const struct bstore_fsck_report *r)
{
	char s[CID_STR_MAX];

	for (size_t i = 0; i < r->nlisted; i++)
		fprintf(stderr, "  fsck %s %s: %s\n",
			bstore_problem_name(r->listed[i].kind),
			r->listed[i].id.digest_len ?
				cid_tostr(s, &r->listed[i].id) : "-",
			r->listed[i].msg);
}

static void fsck_clean(struct bstore *bs)
{
	struct bstore_fsck_report r;
	int error = bstore_fsck(&r, bs, 0);

	if (error)
		fprintf(stderr, "bstore_fsck: %s\n", efs_error_msg());
	CU_ASSERT_EQUAL(error, 0);
	if (r.problems)
		print_report(&r);
	CU_ASSERT_EQUAL(r.problems, 0);
}

static bool fsck_finds(struct bstore *bs, enum bstore_problem_kind kind,
		       const struct cid *id)
{
	struct bstore_fsck_report r;
	bool found = false;

	CU_ASSERT_EQUAL_FATAL(bstore_fsck(&r, bs, 0), 0);
	for (size_t i = 0; i < r.nlisted; i++)
		if (r.listed[i].kind == kind &&
		    (!id || cid_mh_equal(&r.listed[i].id, id)))
			found = true;
	if (!found)
		print_report(&r);
	return found;
}

static int64_t refs_of(struct bstore *bs, const struct cid *id)
{
	struct bstore_stat st;

	if (bstore_stat(&st, bs, id) < 0)
		return -1;
	return st.refs;
}

static int state_of(struct bstore *bs, const struct cid *id)
{
	struct bstore_stat st;
	int error = bstore_stat(&st, bs, id);

	return error < 0 ? error : (int)st.state;
}

/* Run SQL against a repository's index behind the store's back. */
static void index_exec(const char *path, const char *sql)
{
	char p[4096];
	struct db *db = NULL;

	CU_ASSERT_FATAL(snprintf(p, sizeof(p), "%s/index.db", path) < (int)sizeof(p));
	CU_ASSERT_EQUAL_FATAL(db_open(&db, p, 0), 0);
	CU_ASSERT_EQUAL(db_exec(db, sql), 0);
	db_close(db);
}

/* Where a block's data lies (pack id and offset), from the index. */
static void index_where(const char *path, const struct cid *id,
			uint32_t *pack, uint64_t *off)
{
	char p[4096];
	uint8_t mh[CID_MH_BYTES_MAX];
	size_t n = cid_mh_to_bytes(mh, id);
	struct db *db = NULL;
	sqlite3_stmt *st;

	CU_ASSERT_FATAL(snprintf(p, sizeof(p), "%s/index.db", path) < (int)sizeof(p));
	CU_ASSERT_EQUAL_FATAL(db_open(&db, p, 0), 0);
	CU_ASSERT_EQUAL_FATAL(db_stmt(&st, db, "SELECT pack, off FROM blocks"
						" WHERE mh = ?1"), 0);
	sqlite3_bind_blob(st, 1, mh, (int)n, SQLITE_STATIC);
	CU_ASSERT_EQUAL_FATAL(db_step(db, st), 1);
	*pack = (uint32_t)sqlite3_column_int64(st, 0);
	*off = (uint64_t)sqlite3_column_int64(st, 1);
	db_reset(st);
	db_close(db);
}

/* The size the index vouches for, for pack id. */
static int64_t index_pack_size(const char *path, uint32_t id)
{
	char p[4096];
	struct db *db = NULL;
	sqlite3_stmt *st;
	int64_t size = -1;

	CU_ASSERT_FATAL(snprintf(p, sizeof(p), "%s/index.db", path) < (int)sizeof(p));
	CU_ASSERT_EQUAL_FATAL(db_open(&db, p, 0), 0);
	CU_ASSERT_EQUAL_FATAL(db_stmt(&st, db, "SELECT size FROM packs"
						" WHERE id = ?1"), 0);
	sqlite3_bind_int64(st, 1, id);
	if (db_step(db, st) == 1)
		size = sqlite3_column_int64(st, 0);
	db_reset(st);
	db_close(db);
	return size;
}

static void pack_file(char *out, size_t cap, const char *path, uint32_t id)
{
	snprintf(out, cap, "%s/packs/%08u.pack", path, id);
}

static void flip_byte(const char *file, uint64_t off)
{
	int fd = open(file, O_RDWR);
	uint8_t b;

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(pread(fd, &b, 1, (off_t)off), 1);
	b ^= 0x5a;
	CU_ASSERT_EQUAL(pwrite(fd, &b, 1, (off_t)off), 1);
	close(fd);
}

static off_t file_size(const char *file)
{
	struct stat st;

	return stat(file, &st) < 0 ? -1 : st.st_size;
}

/* ---- round trip ---- */

static void test_bstore__roundtrip(void)
{
	static const size_t sizes[] = { 0, 1, 100, 4000, 70000, 1 << 20 };
	struct bstore_opts o = small_opts();
	char *path = repo("roundtrip");
	struct bstore *bs = open_store(path, &o);
	struct buf data[6];
	struct cid ids[6];
	struct bstore_totals t;
	uint64_t total = 0;

	o.block_max = 2 << 20;
	for (int i = 0; i < 6; i++) {
		buf_init(&data[i], BUF_NOCAP);
		make_raw(&data[i], &ids[i], 100 + i, sizes[i]);
		CU_ASSERT_FALSE(bstore_has(bs, &ids[i]));
		CU_ASSERT_EQUAL(get_code(bs, &ids[i]), EFS_ENOTFOUND);
		put_ok(bs, &ids[i], &data[i]);
		total += sizes[i];
	}
	/* pending: from the write buffer and from the pack file */
	for (int i = 0; i < 6; i++) {
		struct bstore_stat st;

		CU_ASSERT(bstore_has(bs, &ids[i]));
		get_expect(bs, &ids[i], &data[i]);
		CU_ASSERT_EQUAL(bstore_stat(&st, bs, &ids[i]), 0);
		CU_ASSERT(st.pending);
		CU_ASSERT_EQUAL(st.size, sizes[i]);
	}
	CU_ASSERT_EQUAL(bstore_stat_totals(&t, bs), 0);
	CU_ASSERT_EQUAL(t.pending_count, 6);
	CU_ASSERT_EQUAL(t.pending_bytes, total);
	CU_ASSERT_EQUAL(t.count[BSTORE_LOCAL], 0);
	CU_ASSERT_EQUAL(bstore_sync(bs), 0);
	CU_ASSERT_EQUAL(bstore_stat_totals(&t, bs), 0);
	CU_ASSERT_EQUAL(t.pending_count, 0);
	CU_ASSERT_EQUAL(t.count[BSTORE_LOCAL], 6);
	CU_ASSERT_EQUAL(t.bytes[BSTORE_LOCAL], total);
	for (int i = 0; i < 6; i++) {
		struct bstore_stat st;

		get_expect(bs, &ids[i], &data[i]);
		CU_ASSERT_EQUAL(bstore_stat(&st, bs, &ids[i]), 0);
		CU_ASSERT_FALSE(st.pending);
		CU_ASSERT_EQUAL(st.state, BSTORE_LOCAL);
		CU_ASSERT(cid_equal(&st.id, &ids[i]));
	}
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	bs = open_store(path, &o);
	for (int i = 0; i < 6; i++)
		get_expect(bs, &ids[i], &data[i]);
	fsck_clean(bs);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	for (int i = 0; i < 6; i++)
		buf_release(&data[i]);
}

static void test_bstore__cid_versions(void)
{
	struct bstore_opts o = small_opts();
	struct bstore *bs = open_store(repo("versions"), &o);
	struct buf node = BUF_INIT(BUF_NOCAP);
	struct buf leaf = BUF_INIT(BUF_NOCAP);
	struct buf out = BUF_INIT(BUF_NOCAP);
	struct cid lid;
	struct cid v0;
	struct cid v1;
	struct cid as_raw;
	struct cid ident;
	struct bstore_stat st;

	make_raw(&leaf, &lid, 1, 300);
	make_node(&node, &v0, &lid, 1, 0, 1);
	v1 = cid_to_v1(&v0);
	as_raw = v1;
	as_raw.codec = CID_CODEC_RAW;
	put_ok(bs, &lid, &leaf);
	put_ok(bs, &v0, &node);
	CU_ASSERT_EQUAL(bstore_sync(bs), 0);
	/* one block, three names */
	get_expect(bs, &v0, &node);
	get_expect(bs, &v1, &node);
	get_expect(bs, &as_raw, &node);
	CU_ASSERT_EQUAL(bstore_stat(&st, bs, &as_raw), 0);
	CU_ASSERT_EQUAL(st.id.codec, CID_CODEC_DAG_PB);
	CU_ASSERT_EQUAL(st.id.version, 1);
	/* putting it again under v1 stores nothing new */
	put_ok(bs, &v1, &node);
	CU_ASSERT_EQUAL(bstore_sync(bs), 0);
	CU_ASSERT_EQUAL(refs_of(bs, &lid), 1);
	/* identity: answered from the CID, never stored */
	CU_ASSERT_EQUAL(cid_hash(&ident, 1, CID_CODEC_RAW, MHASH_IDENTITY,
				 "hello", 5), 0);
	CU_ASSERT(bstore_has(bs, &ident));
	CU_ASSERT_EQUAL(bstore_put(bs, &ident, (const uint8_t *)"hello", 5), 0);
	CU_ASSERT_EQUAL(bstore_get(bs, &ident, &out), 0);
	CU_ASSERT_EQUAL(out.len, 5);
	CU_ASSERT(!memcmp(out.ptr, "hello", 5));
	CU_ASSERT_EQUAL(bstore_stat(&st, bs, &ident), EFS_ENOTFOUND);
	fsck_clean(bs);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	buf_release(&node);
	buf_release(&leaf);
	buf_release(&out);
}

static void test_bstore__refused(void)
{
	struct bstore_opts o = small_opts();
	struct bstore *bs;
	struct buf data = BUF_INIT(BUF_NOCAP);
	struct cid id;
	struct cid odd;
	uint8_t digest[32] = { 1 };

	o.block_max = 1000;
	bs = open_store(repo("refused"), &o);
	make_raw(&data, &id, 5, 1001);
	CU_ASSERT_EQUAL(bstore_put(bs, &id, data.ptr, data.len), EFS_ETOOBIG);
	/* a hash this build cannot verify */
	CU_ASSERT_EQUAL(cid_init(&odd, 1, CID_CODEC_RAW,
				 MHASH_SHA2_256_TRUNC254_PADDED, digest, 32),
			0);
	CU_ASSERT_EQUAL(bstore_put(bs, &odd, data.ptr, 10), EFS_EUNSUPPORTED);
	/* a dag-pb block that does not decode */
	CU_ASSERT_EQUAL(cid_hash(&id, 1, CID_CODEC_DAG_PB, MHASH_SHA2_256,
				 "\xff\xff\xff", 3), 0);
	CU_ASSERT_EQUAL(bstore_put(bs, &id, (const uint8_t *)"\xff\xff\xff",
				   3), EFS_ECORRUPT);
	CU_ASSERT_FALSE(bstore_has(bs, &id));
	/* options checked */
	o.write_buffer = 10;
	CU_ASSERT_EQUAL(bstore_open(&bs, dir, &o), EFS_EINVAL);
	fsck_clean(bs);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	buf_release(&data);
}

static void test_bstore__dedupe(void)
{
	struct bstore_opts o = small_opts();
	char *path = repo("dedupe");
	struct bstore *bs = open_store(path, &o);
	struct buf data = BUF_INIT(BUF_NOCAP);
	struct bstore_stat st;
	struct bstore_totals t;
	struct cid id;
	char pack[4200];
	off_t size;

	pack_file(pack, sizeof(pack), path, 1);
	bstore_test_clock(bs, 1000);
	make_raw(&data, &id, 9, 50000);
	put_ok(bs, &id, &data);
	put_ok(bs, &id, &data); /* pending: not written twice */
	CU_ASSERT_EQUAL(bstore_sync(bs), 0);
	size = file_size(pack);
	CU_ASSERT(size > 50000 && size < 2 * 50000);
	put_ok(bs, &id, &data); /* stored: not written again */
	CU_ASSERT_EQUAL(bstore_sync(bs), 0);
	CU_ASSERT_EQUAL(file_size(pack), size);
	CU_ASSERT_EQUAL(bstore_stat_totals(&t, bs), 0);
	CU_ASSERT_EQUAL(t.count[BSTORE_LOCAL], 1);
	CU_ASSERT_EQUAL(t.bytes[BSTORE_LOCAL], 50000);
	/* ... but its atime is freshened */
	CU_ASSERT_EQUAL(bstore_stat(&st, bs, &id), 0);
	CU_ASSERT_EQUAL(st.atime, 1000);
	bstore_test_clock(bs, 5000);
	put_ok(bs, &id, &data);
	CU_ASSERT_EQUAL(bstore_flush_atimes(bs), 0);
	CU_ASSERT_EQUAL(bstore_stat(&st, bs, &id), 0);
	CU_ASSERT_EQUAL(st.atime, 5000);
	/* and a read freshens it too, past atime_step */
	bstore_test_clock(bs, 5000 + o.atime_step + 1);
	get_expect(bs, &id, &data);
	CU_ASSERT_EQUAL(bstore_flush_atimes(bs), 0);
	CU_ASSERT_EQUAL(bstore_stat(&st, bs, &id), 0);
	CU_ASSERT_EQUAL(st.atime, 5000 + o.atime_step + 1);
	fsck_clean(bs);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	buf_release(&data);
}

static void test_bstore__sink_source(void)
{
	struct bstore_opts o = small_opts();
	struct bstore *bs = open_store(repo("blockio"), &o);
	struct blockio_sink sink = bstore_sink(bs);
	struct blockio_source src = bstore_source(bs);
	struct buf data = BUF_INIT(BUF_NOCAP);
	struct buf out = BUF_INIT(BUF_NOCAP);
	struct cid id;

	make_raw(&data, &id, 77, 1234);
	CU_ASSERT_EQUAL(blockio_put(&sink, &id, data.ptr, data.len), 0);
	CU_ASSERT_EQUAL(blockio_get(&src, &id, &out), 0);
	CU_ASSERT_EQUAL(out.len, 1234);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	buf_release(&data);
	buf_release(&out);
}

static void test_bstore__exclusive(void)
{
	struct bstore_opts o = small_opts();
	char *path = repo("exclusive");
	struct bstore *bs = open_store(path, &o);
	struct bstore *again = NULL;

	CU_ASSERT_EQUAL(bstore_open(&again, path, &o), EFS_EEXISTS);
	CU_ASSERT_PTR_NULL(again);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	bs = open_store(path, &o);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
}

/* ---- corruption on disk ---- */

static void test_bstore__corrupt_pack(void)
{
	struct bstore_opts o = small_opts();
	char *path = repo("corrupt");
	struct bstore *bs = open_store(path, &o);
	struct buf a = BUF_INIT(BUF_NOCAP);
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct buf c = BUF_INIT(BUF_NOCAP);
	struct cid ia;
	struct cid ib;
	struct cid ic;
	char pack[4200];
	uint32_t p;
	uint64_t off;

	make_raw(&a, &ia, 1, 3000);
	make_raw(&b, &ib, 2, 3000);
	make_raw(&c, &ic, 3, 3000);
	put_ok(bs, &ia, &a);
	put_ok(bs, &ib, &b);
	put_ok(bs, &ic, &c);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);

	/* a flipped data byte in b */
	index_where(path, &ib, &p, &off);
	pack_file(pack, sizeof(pack), path, p);
	flip_byte(pack, off + 1500);
	bs = open_store(path, &o);
	get_expect(bs, &ia, &a);
	CU_ASSERT_EQUAL(get_code(bs, &ib), EFS_EMISMATCH);
	CU_ASSERT(bstore_has(bs, &ia));
	CU_ASSERT(fsck_finds(bs, BSTORE_PROBLEM_MISMATCH, &ib));
	CU_ASSERT_EQUAL(bstore_close(bs), 0);

	/* a flipped byte in c's record header (its multihash) */
	index_where(path, &ic, &p, &off);
	flip_byte(pack, off - 10);
	bs = open_store(path, &o);
	get_expect(bs, &ic, &c); /* the data itself is fine */
	CU_ASSERT(fsck_finds(bs, BSTORE_PROBLEM_HEADER, &ic));
	CU_ASSERT_EQUAL(bstore_close(bs), 0);

	/* the pack cut short */
	CU_ASSERT_EQUAL(truncate(pack, (off_t)off + 100), 0);
	bs = open_store(path, &o);
	CU_ASSERT_EQUAL(get_code(bs, &ic), EFS_ECORRUPT);
	CU_ASSERT(fsck_finds(bs, BSTORE_PROBLEM_PACK, NULL));
	CU_ASSERT(fsck_finds(bs, BSTORE_PROBLEM_RANGE, &ic));
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	buf_release(&a);
	buf_release(&b);
	buf_release(&c);
}

static void test_bstore__corrupt_index(void)
{
	struct bstore_opts o = small_opts();
	char *path = repo("badindex");
	struct bstore *bs = open_store(path, &o);
	struct buf leaf = BUF_INIT(BUF_NOCAP);
	struct buf node = BUF_INIT(BUF_NOCAP);
	struct bstore_fsck_report r;
	struct cid lid;
	struct cid nid;

	make_raw(&leaf, &lid, 11, 500);
	make_node(&node, &nid, &lid, 1, 1, 11);
	put_ok(bs, &lid, &leaf);
	put_ok(bs, &nid, &node);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);

	/* wrong refs and counters: found, then repaired */
	index_exec(path, "UPDATE blocks SET refs = refs + 3;"
			 "UPDATE totals SET count = 99 WHERE state = 0;");
	bs = open_store(path, &o);
	CU_ASSERT(fsck_finds(bs, BSTORE_PROBLEM_REFS, &lid));
	CU_ASSERT(fsck_finds(bs, BSTORE_PROBLEM_TOTALS, NULL));
	CU_ASSERT_EQUAL(bstore_fsck(&r, bs, BSTORE_FSCK_REPAIR), 0);
	CU_ASSERT(r.repaired >= 3);
	fsck_clean(bs);
	CU_ASSERT_EQUAL(refs_of(bs, &lid), 1);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);

	/* rows pointing outside their pack, or nonsense */
	index_exec(path, "UPDATE blocks SET off = 1000000 WHERE len = 500;");
	bs = open_store(path, &o);
	CU_ASSERT_EQUAL(get_code(bs, &lid), EFS_ECORRUPT);
	CU_ASSERT(fsck_finds(bs, BSTORE_PROBLEM_RANGE, &lid));
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	index_exec(path, "UPDATE blocks SET state = 7, off = -5"
			 " WHERE len = 500;"
			 "INSERT INTO blocks VALUES (x'00', 1, 0, 1, 20, 5, 0,"
			 " 0);");
	bs = open_store(path, &o);
	CU_ASSERT_EQUAL(get_code(bs, &lid), EFS_ECORRUPT);
	CU_ASSERT(fsck_finds(bs, BSTORE_PROBLEM_ROW, NULL));
	get_expect(bs, &nid, &node);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);

	/* two rows claiming the same bytes */
	index_exec(path, "UPDATE blocks SET state = 0, off = (SELECT off FROM"
			 " blocks WHERE len != 500 AND mh != x'00'),"
			 " pack = 1, len = 5 WHERE len = 500;"
			 "DELETE FROM blocks WHERE mh = x'00';");
	bs = open_store(path, &o);
	CU_ASSERT(fsck_finds(bs, BSTORE_PROBLEM_OVERLAP, NULL));
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	buf_release(&leaf);
	buf_release(&node);
}

static void test_bstore__recovery(void)
{
	struct bstore_opts o = small_opts();
	char *path = repo("recovery");
	struct bstore *bs = open_store(path, &o);
	struct buf data = BUF_INIT(BUF_NOCAP);
	struct cid id;
	char pack[4200];
	char orphan[4200];
	off_t size;
	int fd;

	make_raw(&data, &id, 21, 10000);
	put_ok(bs, &id, &data);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	pack_file(pack, sizeof(pack), path, 1);
	size = file_size(pack);
	/* a torn append after the last indexed block, and a newer pack that
	 * never made it into the index */
	fd = open(pack, O_WRONLY | O_APPEND);
	CU_ASSERT_EQUAL(write(fd, data.ptr, 5000), 5000);
	close(fd);
	pack_file(orphan, sizeof(orphan), path, 2);
	CU_ASSERT_EQUAL(harness_write_file(orphan, data.ptr, 3000), 0);
	bs = open_store(path, &o);
	CU_ASSERT_EQUAL(file_size(pack), size);
	CU_ASSERT_EQUAL(file_size(orphan), -1);
	get_expect(bs, &id, &data);
	fsck_clean(bs);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);

	/* an index that lost its packs' rows is never trusted */
	{
		char p[4200];

		CU_ASSERT_FATAL(snprintf(p, sizeof(p), "%s/index.db", path) < (int)sizeof(p));
		CU_ASSERT_EQUAL(remove(p), 0);
		CU_ASSERT_FATAL(snprintf(p, sizeof(p), "%s/index.db-wal", path) < (int)sizeof(p));
		remove(p);
		CU_ASSERT_FATAL(snprintf(p, sizeof(p), "%s/index.db-shm", path) < (int)sizeof(p));
		remove(p);
		bs = NULL;
		CU_ASSERT_EQUAL(bstore_open(&bs, path, &o), EFS_ECORRUPT);
		CU_ASSERT_PTR_NULL(bs);
		CU_ASSERT_EQUAL(file_size(pack), size);
	}
	buf_release(&data);
}

static void test_bstore__packs_roll(void)
{
	struct bstore_opts o = small_opts();
	char *path = repo("roll");
	struct bstore *bs = open_store(path, &o);
	struct buf data = BUF_INIT(BUF_NOCAP);
	struct bstore_fsck_report r;
	struct cid ids[40];
	char pack[4200];

	for (int i = 0; i < 20; i++) {
		make_raw(&data, &ids[i], 300 + i, 30000);
		put_ok(bs, &ids[i], &data);
	}
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	/* reopened: appends continue in the last pack until it is full */
	bs = open_store(path, &o);
	for (int i = 20; i < 40; i++) {
		make_raw(&data, &ids[i], 300 + i, 30000);
		put_ok(bs, &ids[i], &data);
	}
	CU_ASSERT_EQUAL(bstore_sync(bs), 0);
	for (int i = 0; i < 40; i++) {
		make_raw(&data, &ids[i], 300 + i, 30000);
		get_expect(bs, &ids[i], &data);
	}
	CU_ASSERT_EQUAL(bstore_fsck(&r, bs, 0), 0);
	CU_ASSERT_EQUAL(r.problems, 0);
	/* 40 * 30 KB in 256 KiB packs: 5 packs, none tiny */
	CU_ASSERT_EQUAL(r.packs, 5);
	pack_file(pack, sizeof(pack), path, 6);
	CU_ASSERT_EQUAL(file_size(pack), -1);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	buf_release(&data);
}

/* ---- kill -9 ---- */

#define CRASH_ROUNDS 6

/*
 * Make what was put durable and pin node: plainly, or (mark given) the
 * way the filesystem's close does, deferred sync and pin sealed by one
 * WAL fsync.
 */
static int sync_and_pin(int64_t *pin, struct bstore *bs,
			const struct cid *node, uint64_t *mark)
{
	int error;

	if (!mark)
		return (error = bstore_sync(bs)) < 0
			       ? error
			       : bstore_pin(pin, bs, node, "t");
	if ((error = bstore_sync_deferred(bs, mark)) < 0 ||
	    (error = bstore_pin_deferred(pin, bs, node, "t")) < 0)
		return error;
	return bstore_durable(bs);
}

static void crash_child(const char *path, int wfd, uint64_t seed)
{
	struct bstore_opts o = small_opts();
	struct bstore *bs = NULL;
	struct buf data = BUF_INIT(BUF_NOCAP);
	uint64_t mark;

	rng_state = seed;
	o.gc_grace = 0;
	if (bstore_open(&bs, path, &o) < 0)
		_exit(3);
	mark = bstore_errseq(bs);
	for (uint64_t it = 0;; it++) {
		uint8_t rec[16 * CID_BYTES_MAX + 16];
		struct bstore_gc_result gr;
		struct cid kids[8];
		struct cid node;
		size_t n = 1 + rnd() % 8;
		size_t len = 0;
		int64_t pin;

		/* collect what earlier (killed) rounds left unpinned */
		if (it % 7 == 3 && bstore_gc(&gr, bs) < 0)
			_exit(4);
		for (size_t i = 0; i < n; i++) {
			make_raw(&data, &kids[i], rnd(), rnd() % 90000);
			if (bstore_put(bs, &kids[i], data.ptr, data.len) < 0) {
				fprintf(stderr, "child: %s\n", efs_error_msg());
				_exit(5);
			}
		}
		make_node(&data, &node, kids, n, 1, rnd());
		if (bstore_put(bs, &node, data.ptr, data.len) < 0)
			_exit(6);
		if (sync_and_pin(&pin, bs, &node, it % 2 ? &mark : NULL) < 0)
			_exit(6);
		/* pinned and durable: tell the parent, in one write */
		len += cid_to_bytes(rec + len, &node);
		for (size_t i = 0; i < n; i++)
			len += cid_to_bytes(rec + len, &kids[i]);
		if (write(wfd, rec, len) != (ssize_t)len)
			_exit(7);
	}
}

static size_t crash_round(const char *path, int round)
{
	struct bstore_opts o = small_opts();
	struct bstore *bs;
	uint8_t *log = malloc(1 << 20);
	size_t len = 0;
	size_t nblocks = 0;
	ssize_t n;
	int pfd[2];
	pid_t pid;
	int status;

	CU_ASSERT_FATAL(log != NULL);
	CU_ASSERT_EQUAL_FATAL(pipe(pfd), 0);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		close(pfd[0]);
		crash_child(path, pfd[1], 1234567 + (uint64_t)round);
	}
	close(pfd[1]);
	/* let it run 50..450 ms, reading as it goes so it never blocks */
	{
		struct timespec ts = { 0, (long)(50 + rnd() % 400) * 1000000L };
		struct timespec end;

		clock_gettime(CLOCK_MONOTONIC, &end);
		end.tv_sec += ts.tv_sec;
		end.tv_nsec += ts.tv_nsec;
		if (end.tv_nsec >= 1000000000L) {
			end.tv_sec++;
			end.tv_nsec -= 1000000000L;
		}
		fcntl(pfd[0], F_SETFL, O_NONBLOCK);
		for (;;) {
			struct timespec now;

			n = read(pfd[0], log + len, (1 << 20) - len);
			if (n > 0)
				len += (size_t)n;
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec > end.tv_sec ||
			    (now.tv_sec == end.tv_sec &&
			     now.tv_nsec >= end.tv_nsec))
				break;
			usleep(2000);
		}
	}
	kill(pid, SIGKILL);
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	if (!WIFSIGNALED(status))
		fprintf(stderr, "crash child exited %d\n", WEXITSTATUS(status));
	CU_ASSERT(WIFSIGNALED(status));
	fcntl(pfd[0], F_SETFL, 0);
	while ((n = read(pfd[0], log + len, (1 << 20) - len)) > 0)
		len += (size_t)n;
	close(pfd[0]);

	bs = open_store(path, &o);
	for (size_t pos = 0; pos < len;) {
		struct cid id;
		size_t used;
		struct buf out = BUF_INIT(BUF_NOCAP);
		int error;

		CU_ASSERT_EQUAL_FATAL(cid_from_bytes(&id, &used, log + pos,
						     len - pos), 0);
		error = bstore_get(bs, &id, &out);
		if (error)
			fprintf(stderr, "round %d: lost block: %s\n", round,
				efs_error_msg());
		CU_ASSERT_EQUAL(error, 0);
		buf_release(&out);
		pos += used;
		nblocks++;
	}
	fsck_clean(bs);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	free(log);
	return nblocks;
}

static void test_bstore__crash(void)
{
	char *path = repo("crash");
	size_t total = 0;

	for (int round = 0; round < CRASH_ROUNDS; round++)
		total += crash_round(path, round);
	/* the child must have got somewhere */
	fprintf(stderr, "[%zu blocks survived %d kills] ", total,
		CRASH_ROUNDS);
	CU_ASSERT(total > 20);
}

/*
 * Deferred commits (the filesystem's close): rows and pins are there at
 * once; a later plain sync with nothing to commit still succeeds (it
 * fsyncs the WAL for them); unpin_deferred drops the reference; all of
 * it is still there after a reopen.
 */
static void test_bstore__deferred(void)
{
	struct bstore_opts o = small_opts();
	char *path = repo("deferred");
	struct bstore *bs = open_store(path, &o);
	struct buf leaf = BUF_INIT(BUF_NOCAP);
	struct buf node = BUF_INIT(BUF_NOCAP);
	uint64_t mark = bstore_errseq(bs);
	struct bstore_stat st;
	struct cid lid, nid;
	int64_t pin, pin2;

	make_raw(&leaf, &lid, 77, 3000);
	make_node(&node, &nid, &lid, 1, 1, 77);
	put_ok(bs, &lid, &leaf);
	put_ok(bs, &nid, &node);
	CU_ASSERT_EQUAL(bstore_sync_deferred(bs, &mark), 0);
	CU_ASSERT_EQUAL(bstore_stat(&st, bs, &nid), 0);
	CU_ASSERT_FALSE(st.pending);
	CU_ASSERT_EQUAL(bstore_pin_deferred(&pin, bs, &nid, "fs:1"), 0);
	CU_ASSERT_EQUAL(bstore_pin_deferred(&pin2, bs, &nid, "fs:2"), 0);
	CU_ASSERT_EQUAL(refs_of(bs, &nid), 2);
	CU_ASSERT_EQUAL(bstore_sync(bs), 0); /* nothing pending: WAL fsync */
	CU_ASSERT_EQUAL(bstore_durable(bs), 0); /* nothing left to do */
	CU_ASSERT_EQUAL(bstore_unpin_deferred(bs, pin2), 0);
	CU_ASSERT_EQUAL(refs_of(bs, &nid), 1);
	CU_ASSERT_EQUAL(bstore_unpin_deferred(bs, pin2), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(bstore_durable(bs), 0);
	/* a plain pin after deferred ones: back at FULL, same results */
	CU_ASSERT_EQUAL(bstore_pin(&pin2, bs, &lid, "t"), 0);
	CU_ASSERT_EQUAL(refs_of(bs, &lid), 2);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);

	bs = open_store(path, &o);
	CU_ASSERT_EQUAL(state_of(bs, &nid), BSTORE_LOCAL);
	CU_ASSERT_EQUAL(state_of(bs, &lid), BSTORE_LOCAL);
	CU_ASSERT_EQUAL(refs_of(bs, &nid), 1);
	get_expect(bs, &lid, &leaf);
	fsck_clean(bs);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	buf_release(&leaf);
	buf_release(&node);
}

/* ---- pins and gc ---- */

struct dag {
	struct buf leaf[4];
	struct cid l[4];
	struct buf a, b, r;
	struct cid ia, ib, ir;
};

/*
 *        r
 *       / \
 *      a   b
 *     / \ / \
 *    l0  l1  l2     (l1 shared by a and b; l3 unreferenced)
 */
static void dag_build(struct dag *d, struct bstore *bs)
{
	struct cid kids[2];

	for (int i = 0; i < 4; i++) {
		buf_init(&d->leaf[i], BUF_NOCAP);
		make_raw(&d->leaf[i], &d->l[i], 500 + i, 2000 + i);
		put_ok(bs, &d->l[i], &d->leaf[i]);
	}
	buf_init(&d->a, BUF_NOCAP);
	buf_init(&d->b, BUF_NOCAP);
	buf_init(&d->r, BUF_NOCAP);
	make_node(&d->a, &d->ia, &d->l[0], 2, 1, 1);
	make_node(&d->b, &d->ib, &d->l[1], 2, 1, 2);
	kids[0] = d->ia;
	kids[1] = d->ib;
	make_node(&d->r, &d->ir, kids, 2, 1, 3);
	put_ok(bs, &d->ia, &d->a);
	put_ok(bs, &d->ib, &d->b);
	put_ok(bs, &d->ir, &d->r);
	CU_ASSERT_EQUAL(bstore_sync(bs), 0);
}

static void dag_free(struct dag *d)
{
	for (int i = 0; i < 4; i++)
		buf_release(&d->leaf[i]);
	buf_release(&d->a);
	buf_release(&d->b);
	buf_release(&d->r);
}

static void test_bstore__gc(void)
{
	struct bstore_opts o = small_opts();
	struct bstore *bs;
	struct bstore_gc_result gr;
	struct bstore_totals t;
	struct dag d;
	int64_t pin_r;
	int64_t pin_a;

	o.gc_grace = 3600;
	bs = open_store(repo("gc"), &o);
	bstore_test_clock(bs, 100000);
	dag_build(&d, bs);
	CU_ASSERT_EQUAL(refs_of(bs, &d.l[0]), 1);
	CU_ASSERT_EQUAL(refs_of(bs, &d.l[1]), 2);
	CU_ASSERT_EQUAL(refs_of(bs, &d.l[2]), 1);
	CU_ASSERT_EQUAL(refs_of(bs, &d.l[3]), 0);
	CU_ASSERT_EQUAL(refs_of(bs, &d.ia), 1);
	CU_ASSERT_EQUAL(refs_of(bs, &d.ir), 0);

	/* within the grace period nothing goes, pinned or not */
	CU_ASSERT_EQUAL(bstore_gc(&gr, bs), 0);
	CU_ASSERT_EQUAL(gr.blocks, 0);
	CU_ASSERT_EQUAL(bstore_pin(&pin_r, bs, &d.ir, "root"), 0);
	CU_ASSERT_EQUAL(refs_of(bs, &d.ir), 1);

	/* later: only the unreferenced leaf */
	bstore_test_clock(bs, 100000 + 3601);
	CU_ASSERT_EQUAL(bstore_gc(&gr, bs), 0);
	CU_ASSERT_EQUAL(gr.blocks, 1);
	CU_ASSERT_EQUAL(gr.bytes, 2003);
	CU_ASSERT_EQUAL(get_code(bs, &d.l[3]), EFS_ENOTFOUND);
	get_expect(bs, &d.l[1], &d.leaf[1]);
	fsck_clean(bs);

	/* a shared sub-DAG survives the root's unpin */
	CU_ASSERT_EQUAL(bstore_pin(&pin_a, bs, &d.ia, "sub"), 0);
	CU_ASSERT_EQUAL(bstore_unpin(bs, pin_r), 0);
	CU_ASSERT_EQUAL(bstore_unpin(bs, pin_r), EFS_ENOTFOUND);
	bstore_test_clock(bs, 100000 + 3601 * 2);
	CU_ASSERT_EQUAL(bstore_gc(&gr, bs), 0);
	CU_ASSERT_EQUAL(gr.blocks, 3); /* r, b, l2 */
	CU_ASSERT_EQUAL(get_code(bs, &d.ir), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(get_code(bs, &d.ib), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(get_code(bs, &d.l[2]), EFS_ENOTFOUND);
	get_expect(bs, &d.ia, &d.a);
	get_expect(bs, &d.l[0], &d.leaf[0]);
	get_expect(bs, &d.l[1], &d.leaf[1]);
	CU_ASSERT_EQUAL(refs_of(bs, &d.l[1]), 1);
	fsck_clean(bs);

	/* unpin the rest: everything goes, cascading (the reads above
	 * freshened their atimes, so wait out the grace period again) */
	CU_ASSERT_EQUAL(bstore_unpin(bs, pin_a), 0);
	bstore_test_clock(bs, 100000 + 3601 * 4);
	CU_ASSERT_EQUAL(bstore_gc(&gr, bs), 0);
	CU_ASSERT_EQUAL(gr.blocks, 3);
	CU_ASSERT_EQUAL(bstore_stat_totals(&t, bs), 0);
	for (int s = 0; s < BSTORE_NSTATES; s++) {
		CU_ASSERT_EQUAL(t.count[s], 0);
		CU_ASSERT_EQUAL(t.bytes[s], 0);
	}
	fsck_clean(bs);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	dag_free(&d);
}

/*
 * gc of damaged blocks: a dag-pb node whose bytes no longer hash still
 * goes, but its links cannot be uncounted (unverified, and fsck sees the
 * stale refs); a raw block has no links, so gc does not even read it.
 */
static void test_bstore__gc_corrupt(void)
{
	struct bstore_opts o = small_opts();
	char *path = repo("gccorrupt");
	struct bstore *bs = open_store(path, &o);
	struct buf leaf = BUF_INIT(BUF_NOCAP);
	struct buf node = BUF_INIT(BUF_NOCAP);
	struct buf raw = BUF_INIT(BUF_NOCAP);
	struct bstore_gc_result gr;
	struct cid il;
	struct cid in;
	struct cid ir;
	char pack[4200];
	uint32_t p;
	uint64_t off;

	bstore_test_clock(bs, 100000);
	make_raw(&leaf, &il, 61, 700);
	make_node(&node, &in, &il, 1, 1, 61);
	make_raw(&raw, &ir, 62, 900);
	put_ok(bs, &il, &leaf);
	put_ok(bs, &in, &node);
	put_ok(bs, &ir, &raw);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	index_where(path, &in, &p, &off);
	pack_file(pack, sizeof(pack), path, p);
	flip_byte(pack, off + node.len - 1);
	index_where(path, &ir, &p, &off);
	pack_file(pack, sizeof(pack), path, p);
	flip_byte(pack, off + 100);

	bs = open_store(path, &o);
	bstore_test_clock(bs, 100000 + o.gc_grace + 1);
	CU_ASSERT_EQUAL(bstore_gc(&gr, bs), 0);
	CU_ASSERT_EQUAL(gr.blocks, 2);
	CU_ASSERT_EQUAL(gr.unverified, 1);
	CU_ASSERT_EQUAL(get_code(bs, &in), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(get_code(bs, &ir), EFS_ENOTFOUND);
	get_expect(bs, &il, &leaf);
	CU_ASSERT_EQUAL(refs_of(bs, &il), 1);
	CU_ASSERT(fsck_finds(bs, BSTORE_PROBLEM_REFS, &il));
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	buf_release(&leaf);
	buf_release(&node);
	buf_release(&raw);
}

static void test_bstore__pins_absent(void)
{
	struct bstore_opts o = small_opts();
	struct bstore *bs = open_store(repo("absent"), &o);
	struct buf leaf = BUF_INIT(BUF_NOCAP);
	struct buf node = BUF_INIT(BUF_NOCAP);
	struct bstore_gc_result gr;
	struct cid lid;
	struct cid nid;
	int64_t pin;

	bstore_test_clock(bs, 100000);
	make_raw(&leaf, &lid, 41, 700);
	make_node(&node, &nid, &lid, 1, 1, 41);
	/* pinned before it arrives (the pinning API's "queued") */
	CU_ASSERT_EQUAL(bstore_pin(&pin, bs, &nid, "api:1"), 0);
	CU_ASSERT_EQUAL(state_of(bs, &nid), BSTORE_ABSENT);
	CU_ASSERT_EQUAL(refs_of(bs, &nid), 1);
	CU_ASSERT_FALSE(bstore_has(bs, &nid));
	CU_ASSERT_EQUAL(get_code(bs, &nid), EFS_ENOTFOUND);
	CU_ASSERT(fsck_finds(bs, BSTORE_PROBLEM_PIN, &nid));
	/* top-down arrival: the parent first makes the child ABSENT */
	put_ok(bs, &nid, &node);
	CU_ASSERT_EQUAL(bstore_sync(bs), 0);
	CU_ASSERT_EQUAL(state_of(bs, &nid), BSTORE_LOCAL);
	CU_ASSERT_EQUAL(refs_of(bs, &nid), 1);
	CU_ASSERT_EQUAL(state_of(bs, &lid), BSTORE_ABSENT);
	CU_ASSERT_EQUAL(refs_of(bs, &lid), 1);
	put_ok(bs, &lid, &leaf);
	CU_ASSERT_EQUAL(bstore_sync(bs), 0);
	CU_ASSERT_EQUAL(state_of(bs, &lid), BSTORE_LOCAL);
	CU_ASSERT_EQUAL(refs_of(bs, &lid), 1);
	fsck_clean(bs);
	CU_ASSERT_EQUAL(bstore_unpin(bs, pin), 0);
	/* a pin of something never stored, dropped: the row goes at once */
	{
		struct cid ghost;

		make_raw(&leaf, &ghost, 42, 10);
		CU_ASSERT_EQUAL(bstore_pin(&pin, bs, &ghost, "api:2"), 0);
		CU_ASSERT_EQUAL(bstore_unpin(bs, pin), 0);
		CU_ASSERT_EQUAL(state_of(bs, &ghost), BSTORE_ABSENT);
		CU_ASSERT_EQUAL(bstore_gc(&gr, bs), 0);
		CU_ASSERT_EQUAL(gr.blocks, 1);
		CU_ASSERT_EQUAL(state_of(bs, &ghost), EFS_ENOTFOUND);
	}
	fsck_clean(bs);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	buf_release(&leaf);
	buf_release(&node);
}

static int count_pins(const struct bstore_pin *pin, void *payload)
{
	int *n = payload;

	CU_ASSERT_STRING_EQUAL(pin->name, *n ? "two" : "one");
	(*n)++;
	return 0;
}

static void test_bstore__pins_list(void)
{
	struct bstore_opts o = small_opts();
	struct bstore *bs = open_store(repo("pins"), &o);
	struct buf data = BUF_INIT(BUF_NOCAP);
	struct bstore_totals t;
	struct cid id;
	int64_t p1;
	int64_t p2;
	int n = 0;

	make_raw(&data, &id, 61, 100);
	put_ok(bs, &id, &data);
	CU_ASSERT_EQUAL(bstore_pin(&p1, bs, &id, "one"), 0);
	CU_ASSERT_EQUAL(bstore_pin(&p2, bs, &id, "two"), 0);
	CU_ASSERT(p2 > p1);
	CU_ASSERT_EQUAL(refs_of(bs, &id), 2);
	CU_ASSERT_EQUAL(bstore_pins_foreach(bs, count_pins, &n), 0);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(bstore_stat_totals(&t, bs), 0);
	CU_ASSERT_EQUAL(t.pins, 2);
	fsck_clean(bs);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	buf_release(&data);
}

/* ---- evict ---- */

static struct cid piece_cid(uint8_t fill)
{
	uint8_t digest[32];
	struct cid id;

	memset(digest, fill, sizeof(digest));
	CU_ASSERT_EQUAL(cid_init(&id, 1, CID_CODEC_FIL_COMMITMENT_UNSEALED,
				 MHASH_SHA2_256_TRUNC254_PADDED, digest, 32),
			0);
	return id;
}

struct loc_seen {
	int n;
	uint64_t offset;
	struct cid piece;
};

static int see_location(const struct bstore_location *loc, void *payload)
{
	struct loc_seen *s = payload;

	s->n++;
	s->offset = loc->offset;
	s->piece = loc->piece;
	return 0;
}

static void test_bstore__evict(void)
{
	struct bstore_opts o = small_opts();
	struct bstore *bs = open_store(repo("evict"), &o);
	struct buf leaf = BUF_INIT(BUF_NOCAP);
	struct buf node = BUF_INIT(BUF_NOCAP);
	struct bstore_location loc;
	struct bstore_totals t;
	struct loc_seen seen = { 0 };
	struct cid lid;
	struct cid nid;
	struct cid nowhere;
	int64_t pin;

	make_raw(&leaf, &lid, 71, 40000);
	make_node(&node, &nid, &lid, 1, 1, 71);
	put_ok(bs, &lid, &leaf);
	put_ok(bs, &nid, &node);
	CU_ASSERT_EQUAL(bstore_pin(&pin, bs, &nid, "commit:1"), 0);
	CU_ASSERT_EQUAL(bstore_sync(bs), 0);

	/* no location recorded: refused */
	CU_ASSERT_EQUAL(bstore_evict(bs, &lid), EFS_EINVAL);
	make_raw(&node, &nowhere, 72, 10);
	loc.block = nowhere;
	loc.piece = piece_cid(1);
	loc.offset = 0;
	loc.length = 10;
	CU_ASSERT_EQUAL(bstore_location_add(bs, &loc), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(bstore_evict(bs, &nowhere), EFS_ENOTFOUND);
	loc.block = lid;
	loc.offset = 12345;
	loc.length = 40000;
	CU_ASSERT_EQUAL(bstore_location_add(bs, &loc), 0);
	CU_ASSERT_EQUAL(bstore_location_add(bs, &loc), 0); /* again: same */
	CU_ASSERT_EQUAL(bstore_locations(bs, &lid, see_location, &seen), 0);
	CU_ASSERT_EQUAL(seen.n, 1);
	CU_ASSERT_EQUAL(seen.offset, 12345);
	CU_ASSERT(cid_equal(&seen.piece, &loc.piece));

	CU_ASSERT_EQUAL(bstore_evict(bs, &lid), 0);
	CU_ASSERT_EQUAL(bstore_evict(bs, &lid), 0); /* no-op */
	CU_ASSERT_EQUAL(get_code(bs, &lid), EFS_EEVICTED);
	CU_ASSERT_FALSE(bstore_has(bs, &lid));
	CU_ASSERT_EQUAL(state_of(bs, &lid), BSTORE_EVICTED);
	CU_ASSERT_EQUAL(refs_of(bs, &lid), 1);
	CU_ASSERT_EQUAL(bstore_stat_totals(&t, bs), 0);
	CU_ASSERT_EQUAL(t.count[BSTORE_EVICTED], 1);
	CU_ASSERT_EQUAL(t.bytes[BSTORE_EVICTED], 40000);
	CU_ASSERT_EQUAL(t.count[BSTORE_LOCAL], 1);
	fsck_clean(bs);

	/* a block with links stays local (bstore.h invariant 3) */
	make_node(&node, &nid, &lid, 1, 1, 71);
	loc.block = nid;
	CU_ASSERT_EQUAL(bstore_location_add(bs, &loc), 0);
	CU_ASSERT_EQUAL(bstore_evict(bs, &nid), EFS_EINVAL);

	/* retrieval puts it back */
	put_ok(bs, &lid, &leaf);
	get_expect(bs, &lid, &leaf);
	CU_ASSERT_EQUAL(bstore_sync(bs), 0);
	CU_ASSERT_EQUAL(state_of(bs, &lid), BSTORE_LOCAL);
	CU_ASSERT_EQUAL(refs_of(bs, &lid), 1);
	get_expect(bs, &lid, &leaf);
	CU_ASSERT_EQUAL(bstore_stat_totals(&t, bs), 0);
	CU_ASSERT_EQUAL(t.count[BSTORE_EVICTED], 0);
	CU_ASSERT_EQUAL(t.count[BSTORE_LOCAL], 2);
	fsck_clean(bs);

	/* in a batch: what can go goes, the rest is passed over */
	{
		struct buf more = BUF_INIT(BUF_NOCAP);
		struct cid batch[4];
		size_t n = 99;

		make_raw(&more, &batch[0], 73, 5000);
		put_ok(bs, &batch[0], &more);
		make_raw(&more, &batch[1], 74, 5000);
		put_ok(bs, &batch[1], &more);
		CU_ASSERT_EQUAL(bstore_sync(bs), 0);
		loc.block = batch[0];
		CU_ASSERT_EQUAL(bstore_location_add(bs, &loc), 0);
		loc.block = batch[1];
		CU_ASSERT_EQUAL(bstore_location_add(bs, &loc), 0);
		batch[2] = nid;     /* has links */
		batch[3] = nowhere; /* not stored */
		CU_ASSERT_EQUAL(bstore_evict_many(&n, bs, batch, 4), 0);
		CU_ASSERT_EQUAL(n, 2);
		CU_ASSERT_EQUAL(get_code(bs, &batch[0]), EFS_EEVICTED);
		CU_ASSERT_EQUAL(get_code(bs, &batch[1]), EFS_EEVICTED);
		CU_ASSERT_EQUAL(state_of(bs, &nid), BSTORE_LOCAL);
		fsck_clean(bs);
		buf_release(&more);
	}

	/* an evicted block gc deletes takes its locations with it */
	CU_ASSERT_EQUAL(bstore_evict(bs, &lid), 0);
	CU_ASSERT_EQUAL(bstore_unpin(bs, pin), 0);
	{
		struct bstore_gc_result gr;

		seen.n = 0;
		bstore_test_clock(bs, (int64_t)time(NULL) + 2 * o.gc_grace);
		CU_ASSERT_EQUAL(bstore_gc(&gr, bs), 0);
		CU_ASSERT_EQUAL(gr.blocks, 4);
		CU_ASSERT_EQUAL(bstore_locations(bs, &lid, see_location,
						 &seen), 0);
		CU_ASSERT_EQUAL(seen.n, 0);
	}
	fsck_clean(bs);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	buf_release(&leaf);
	buf_release(&node);
}

/* ---- locations by piece ---- */

struct range_seen {
	struct cid ids[8];
	uint64_t off[8];
	enum bstore_state state[8];
	int n;
	int stop_at;              /* return 7 at this call (0: never) */
};

static int see_range(const struct bstore_location *loc,
		     enum bstore_state state, void *payload)
{
	struct range_seen *s = payload;

	if (s->n >= 8)
		return -1;
	s->ids[s->n] = loc->block;
	s->off[s->n] = loc->offset;
	s->state[s->n] = state;
	s->n++;
	return s->n == s->stop_at ? 7 : 0;
}

/* Four blocks at offsets 100, 200, 300, 400 of piece 1 (the last also
 * in piece 2); the range walk gives those in [from, to) by offset with
 * their states; a put-back block not yet synced is LOCAL; an index made
 * before migration step 2 gets it at open. */
static void test_bstore__locations_range(void)
{
	struct bstore_opts o = small_opts();
	char *path = repo("locrange");
	struct bstore *bs = open_store(path, &o);
	struct buf data[4];
	struct bstore_location loc[5];
	struct range_seen seen;
	struct cid ids[4];
	struct cid p1 = piece_cid(1);
	struct cid p2 = piece_cid(2);
	struct db *db;
	char dbp[4200];
	size_t n;
	int v;

	/* inserted out of order: the walk sorts by offset */
	for (int i = 0; i < 4; i++) {
		buf_init(&data[i], BUF_NOCAP);
		make_raw(&data[i], &ids[i], 90 + (uint64_t)i, 1000);
		put_ok(bs, &ids[i], &data[i]);
	}
	CU_ASSERT_EQUAL_FATAL(bstore_sync(bs), 0);
	for (int i = 0; i < 4; i++) {
		loc[i].block = ids[3 - i];
		loc[i].piece = p1;
		loc[i].offset = 100 * (uint64_t)(4 - i);
		loc[i].length = 1000;
	}
	loc[4] = loc[0];
	loc[4].piece = p2;
	loc[4].offset = 7;
	CU_ASSERT_EQUAL_FATAL(bstore_locations_add(bs, loc, 5), 0);
	CU_ASSERT_EQUAL(bstore_evict_many(&n, bs, &ids[1], 2), 0);
	CU_ASSERT_EQUAL(n, 2);

	memset(&seen, 0, sizeof(seen));
	CU_ASSERT_EQUAL(bstore_locations_range(bs, &p1, 200, 401, see_range,
					       &seen), 0);
	CU_ASSERT_EQUAL_FATAL(seen.n, 3);
	for (int i = 0; i < 3; i++) {
		CU_ASSERT(cid_equal(&seen.ids[i], &ids[i + 1]));
		CU_ASSERT_EQUAL(seen.off[i], 200 + 100 * (uint64_t)i);
	}
	CU_ASSERT_EQUAL(seen.state[0], BSTORE_EVICTED);
	CU_ASSERT_EQUAL(seen.state[1], BSTORE_EVICTED);
	CU_ASSERT_EQUAL(seen.state[2], BSTORE_LOCAL);

	/* [from, to): 400 is not below 400; an empty range is nothing */
	memset(&seen, 0, sizeof(seen));
	CU_ASSERT_EQUAL(bstore_locations_range(bs, &p1, 0, 400, see_range,
					       &seen), 0);
	CU_ASSERT_EQUAL(seen.n, 3);
	memset(&seen, 0, sizeof(seen));
	CU_ASSERT_EQUAL(bstore_locations_range(bs, &p1, 300, 300, see_range,
					       &seen), 0);
	CU_ASSERT_EQUAL(seen.n, 0);
	CU_ASSERT_EQUAL(bstore_locations_range(bs, &p1, UINT64_MAX, UINT64_MAX,
					       see_range, &seen), 0);
	CU_ASSERT_EQUAL(seen.n, 0);

	/* the other piece holds only its own block, at its own offset */
	memset(&seen, 0, sizeof(seen));
	CU_ASSERT_EQUAL(bstore_locations_range(bs, &p2, 0, UINT64_MAX,
					       see_range, &seen), 0);
	CU_ASSERT_EQUAL_FATAL(seen.n, 1);
	CU_ASSERT(cid_equal(&seen.ids[0], &ids[3]));
	CU_ASSERT_EQUAL(seen.off[0], 7);

	/* a non-zero return stops the walk and comes back */
	memset(&seen, 0, sizeof(seen));
	seen.stop_at = 2;
	CU_ASSERT_EQUAL(bstore_locations_range(bs, &p1, 0, 1000, see_range,
					       &seen), 7);
	CU_ASSERT_EQUAL(seen.n, 2);

	/* put back, not yet synced: LOCAL as bstore_has sees it */
	put_ok(bs, &ids[1], &data[1]);
	memset(&seen, 0, sizeof(seen));
	CU_ASSERT_EQUAL(bstore_locations_range(bs, &p1, 200, 300, see_range,
					       &seen), 0);
	CU_ASSERT_EQUAL_FATAL(seen.n, 1);
	CU_ASSERT_EQUAL(seen.state[0], BSTORE_LOCAL);
	CU_ASSERT_EQUAL(bstore_sync(bs), 0);
	fsck_clean(bs);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);

	/* an index of schema 1 (no locations_piece) is migrated at open */
	index_exec(path, "DROP INDEX locations_piece;"
			 "UPDATE db_schema SET version = 1"
			 " WHERE module = 'bstore';");
	bs = open_store(path, &o);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	snprintf(dbp, sizeof(dbp), "%s/index.db", path);
	CU_ASSERT_EQUAL_FATAL(db_open(&db, dbp, 0), 0);
	CU_ASSERT_EQUAL(db_schema_version(&v, db, "bstore"), 0);
	CU_ASSERT_EQUAL(v, 2);
	{
		sqlite3_stmt *st;

		CU_ASSERT_EQUAL_FATAL(db_stmt(&st, db, "SELECT count(*) FROM"
						       " sqlite_master WHERE name"
						       " = 'locations_piece'"),
				      0);
		CU_ASSERT_EQUAL(db_step(db, st), 1);
		CU_ASSERT_EQUAL(sqlite3_column_int(st, 0), 1);
		db_reset(st);
	}
	db_close(db);
	for (int i = 0; i < 4; i++)
		buf_release(&data[i]);
}

/* ---- LRU ---- */

struct lru_seen {
	struct cid ids[8];
	int n;
	int stop_at;
};

static int see_lru(const struct bstore_stat *st, void *payload)
{
	struct lru_seen *s = payload;

	if (s->n < 8)
		s->ids[s->n] = st->id;
	s->n++;
	return s->n == s->stop_at ? 42 : 0;
}

static void test_bstore__lru(void)
{
	struct bstore_opts o = small_opts();
	struct bstore *bs = open_store(repo("lru"), &o);
	struct buf data = BUF_INIT(BUF_NOCAP);
	struct lru_seen seen;
	struct cid ids[4];

	bstore_test_clock(bs, 10000);
	for (int i = 0; i < 4; i++) {
		make_raw(&data, &ids[i], 80 + i, 100);
		put_ok(bs, &ids[i], &data);
	}
	CU_ASSERT_EQUAL(bstore_sync(bs), 0);
	/* read them in the order 2, 0, 3, 1 at increasing times */
	bstore_test_clock(bs, 20000);
	CU_ASSERT_EQUAL(get_code(bs, &ids[2]), 0);
	bstore_test_clock(bs, 20100);
	CU_ASSERT_EQUAL(get_code(bs, &ids[0]), 0);
	bstore_test_clock(bs, 20200);
	CU_ASSERT_EQUAL(get_code(bs, &ids[3]), 0);
	bstore_test_clock(bs, 20300);
	CU_ASSERT_EQUAL(get_code(bs, &ids[1]), 0);
	memset(&seen, 0, sizeof(seen));
	CU_ASSERT_EQUAL(bstore_lru_foreach(bs, BSTORE_LOCAL, see_lru, &seen),
			0);
	CU_ASSERT_EQUAL(seen.n, 4);
	CU_ASSERT(cid_equal(&seen.ids[0], &ids[2]));
	CU_ASSERT(cid_equal(&seen.ids[1], &ids[0]));
	CU_ASSERT(cid_equal(&seen.ids[2], &ids[3]));
	CU_ASSERT(cid_equal(&seen.ids[3], &ids[1]));
	/* a callback stops the walk with its value */
	memset(&seen, 0, sizeof(seen));
	seen.stop_at = 2;
	CU_ASSERT_EQUAL(bstore_lru_foreach(bs, BSTORE_LOCAL, see_lru, &seen),
			42);
	CU_ASSERT_EQUAL(seen.n, 2);
	memset(&seen, 0, sizeof(seen));
	CU_ASSERT_EQUAL(bstore_lru_foreach(bs, BSTORE_EVICTED, see_lru,
					   &seen), 0);
	CU_ASSERT_EQUAL(seen.n, 0);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	buf_release(&data);
}

/* ---- I/O failures ---- */

static void test_bstore__enospc_write(void)
{
	struct bstore_opts o = small_opts();
	char *path = repo("enospc_write");
	struct bstore *bs = open_store(path, &o);
	struct buf data = BUF_INIT(BUF_NOCAP);
	struct cid keep;
	struct cid small;
	struct cid big;
	uint64_t mark;

	make_raw(&data, &keep, 90, 5000);
	put_ok(bs, &keep, &data);
	CU_ASSERT_EQUAL(bstore_sync(bs), 0);
	mark = bstore_errseq(bs);

	/* a small block sits in the write buffer; the write of the full
	 * buffer fails (in the writer thread: the error comes from the next
	 * put or the sync) and takes the small one down with it */
	make_raw(&data, &small, 91, 1000);
	put_ok(bs, &small, &data);
	bstore_test_fail(bs, BSTORE_FAULT_WRITE, ENOSPC, 0);
	make_raw(&data, &big, 92, 100000);
	{
		int e1 = bstore_put(bs, &big, data.ptr, data.len);
		int e2 = bstore_sync(bs);

		CU_ASSERT(e1 == EFS_ENOSPC || e2 == EFS_ENOSPC);
		CU_ASSERT(e1 == 0 || e1 == EFS_ENOSPC);
		CU_ASSERT(e2 == 0 || e2 == EFS_ENOSPC);
	}
	CU_ASSERT_EQUAL(get_code(bs, &big), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(get_code(bs, &small), EFS_ENOTFOUND);
	/* a writer holding a mark learns its blocks were dropped */
	CU_ASSERT_EQUAL(bstore_sync_since(bs, &mark), EFS_ENOSPC);
	CU_ASSERT_EQUAL(bstore_sync_since(bs, &mark), 0);
	fsck_clean(bs);

	/* space again: put them again */
	put_ok(bs, &big, &data);
	make_raw(&data, &small, 91, 1000);
	put_ok(bs, &small, &data);
	CU_ASSERT_EQUAL(bstore_sync(bs), 0);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	bs = open_store(path, &o);
	CU_ASSERT_EQUAL(get_code(bs, &keep), 0);
	CU_ASSERT_EQUAL(get_code(bs, &small), 0);
	CU_ASSERT_EQUAL(get_code(bs, &big), 0);
	fsck_clean(bs);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	buf_release(&data);
}

static void test_bstore__enospc_sync(void)
{
	struct bstore_opts o = small_opts();
	char *path = repo("enospc_sync");
	struct bstore *bs = open_store(path, &o);
	struct buf data = BUF_INIT(BUF_NOCAP);
	struct cid ids[3];
	char pack[4200];
	off_t size;

	make_raw(&data, &ids[0], 95, 3000);
	put_ok(bs, &ids[0], &data);
	CU_ASSERT_EQUAL(bstore_sync(bs), 0);
	pack_file(pack, sizeof(pack), path, 1);
	size = index_pack_size(path, 1);
	CU_ASSERT(size > 3000);

	/* the buffer flush at sync fails */
	make_raw(&data, &ids[1], 96, 3000);
	put_ok(bs, &ids[1], &data);
	bstore_test_fail(bs, BSTORE_FAULT_WRITE, ENOSPC, 0);
	CU_ASSERT_EQUAL(bstore_sync(bs), EFS_ENOSPC);
	CU_ASSERT_EQUAL(get_code(bs, &ids[1]), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(file_size(pack), size);

	/* the fdatasync fails: nothing half-indexed, the tail cut back */
	put_ok(bs, &ids[1], &data);
	make_raw(&data, &ids[2], 97, 200000);
	put_ok(bs, &ids[2], &data);
	bstore_test_fail(bs, BSTORE_FAULT_FSYNC, EIO, 0);
	CU_ASSERT_EQUAL(bstore_sync(bs), EFS_EIO);
	CU_ASSERT_EQUAL(get_code(bs, &ids[1]), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(get_code(bs, &ids[2]), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(file_size(pack), size);
	fsck_clean(bs);

	/* a failing batch that rolled over into new packs leaves nothing */
	for (int i = 0; i < 10; i++) {
		struct cid x;

		make_raw(&data, &x, 1000 + (uint64_t)i, 60000);
		put_ok(bs, &x, &data);
	}
	bstore_test_fail(bs, BSTORE_FAULT_FSYNC, ENOSPC, 1);
	CU_ASSERT_EQUAL(bstore_sync(bs), EFS_ENOSPC);
	CU_ASSERT_EQUAL(file_size(pack), size);
	pack_file(pack, sizeof(pack), path, 2);
	CU_ASSERT_EQUAL(file_size(pack), -1);
	pack_file(pack, sizeof(pack), path, 1);
	fsck_clean(bs);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);

	bs = open_store(path, &o);
	CU_ASSERT_EQUAL(get_code(bs, &ids[0]), 0);
	CU_ASSERT_EQUAL(get_code(bs, &ids[1]), EFS_ENOTFOUND);
	fsck_clean(bs);
	make_raw(&data, &ids[1], 96, 3000);
	put_ok(bs, &ids[1], &data);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	bs = open_store(path, &o);
	CU_ASSERT_EQUAL(get_code(bs, &ids[1]), 0);
	fsck_clean(bs);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	buf_release(&data);
}

/* ---- allocation failures ---- */

struct alloc_case {
	struct buf leaf;
	struct buf node;
	struct cid lid;
	struct cid nid;
	int n;
};

static int alloc_body(struct bstore *bs, struct alloc_case *c)
{
	struct buf out = BUF_INIT(BUF_NOCAP);
	struct bstore_totals t;
	int64_t pin;
	int error;

	if ((error = bstore_put(bs, &c->lid, c->leaf.ptr, c->leaf.len)) ||
	    (error = bstore_put(bs, &c->nid, c->node.ptr, c->node.len)) ||
	    (error = bstore_get(bs, &c->nid, &out)) ||
	    (error = bstore_sync(bs)) ||
	    (error = bstore_get(bs, &c->lid, &out)) ||
	    (error = bstore_pin(&pin, bs, &c->nid, "x")) ||
	    (error = bstore_stat_totals(&t, bs)))
		goto out;
	if (out.len != c->leaf.len + c->node.len || t.count[0] != 2)
		error = EFS_ERROR;
out:
	buf_release(&out);
	return error;
}

static int alloc_run(void *payload)
{
	struct alloc_case *c = payload;
	struct bstore_opts o = small_opts();
	struct bstore *bs = NULL;
	char path[4096];
	int error;
	int error2;

	/* No atime touches: a touch that cannot allocate is dropped on
	 * purpose, which this loop would take for a swallowed ENOMEM. */
	o.atime_step = INT64_MAX / 4;
	snprintf(path, sizeof(path), "%s/alloc%d", dir, c->n++);
	if (mkdir(path, 0755) < 0)
		return EFS_EIO;
	if ((error = bstore_open(&bs, path, &o)) < 0)
		return error;
	error = alloc_body(bs, c);
	error2 = bstore_close(bs);
	return error ? error : error2;
}

static void test_bstore__alloc_failures(void)
{
	struct alloc_case c;
	long runs;

	memset(&c, 0, sizeof(c));
	buf_init(&c.leaf, BUF_NOCAP);
	buf_init(&c.node, BUF_NOCAP);
	make_raw(&c.leaf, &c.lid, 33, 3000);
	make_node(&c.node, &c.nid, &c.lid, 1, 1, 33);
	runs = harness_alloc_loop(alloc_run, &c);
	CU_ASSERT(runs > 20);
	buf_release(&c.leaf);
	buf_release(&c.node);
}

/* ---- threads ---- */

#define CONC_BLOCKS 400

struct conc {
	struct bstore *bs;
	struct cid ids[CONC_BLOCKS];
	size_t lens[CONC_BLOCKS];
	atomic_int published;
	atomic_int done;
	atomic_int errors;
	atomic_long reads;
};

static void *conc_writer(void *arg)
{
	struct conc *c = arg;
	struct buf data = BUF_INIT(BUF_NOCAP);

	for (int i = 0; i < CONC_BLOCKS; i++) {
		buf_reset(&data);
		if (buf_grow(&data, c->lens[i]) < 0) {
			atomic_fetch_add(&c->errors, 1);
			break;
		}
		harness_fill_random(data.ptr, c->lens[i], 7000 + (uint64_t)i);
		data.len = c->lens[i];
		if (bstore_put(c->bs, &c->ids[i], data.ptr, data.len) < 0)
			atomic_fetch_add(&c->errors, 1);
		atomic_store(&c->published, i + 1);
		if (i % 16 == 15 && bstore_sync(c->bs) < 0)
			atomic_fetch_add(&c->errors, 1);
	}
	if (bstore_sync(c->bs) < 0)
		atomic_fetch_add(&c->errors, 1);
	atomic_store(&c->done, 1);
	buf_release(&data);
	return NULL;
}

static void *conc_reader(void *arg)
{
	struct conc *c = arg;
	struct buf out = BUF_INIT(BUF_NOCAP);
	uint64_t x = (uint64_t)(uintptr_t)&out | 1;

	while (!atomic_load(&c->done)) {
		int n = atomic_load(&c->published);
		int j;
		int error;

		if (!n)
			continue;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		j = (int)(x % (uint64_t)n);
		buf_reset(&out);
		error = bstore_get(c->bs, &c->ids[j], &out);
		if (error || out.len != c->lens[j] ||
		    !bstore_has(c->bs, &c->ids[j])) {
			fprintf(stderr, "reader: block %d: %s\n", j,
				error ? efs_error_msg() : "wrong length");
			atomic_fetch_add(&c->errors, 1);
		}
		atomic_fetch_add(&c->reads, 1);
	}
	buf_release(&out);
	return NULL;
}

static void test_bstore__concurrent_readers(void)
{
	struct bstore_opts o = small_opts();
	struct conc *c = calloc(1, sizeof(*c));
	struct buf data = BUF_INIT(BUF_NOCAP);
	pthread_t w;
	pthread_t r[3];

	CU_ASSERT_FATAL(c != NULL);
	o.pack_size = 1 << 20;
	c->bs = open_store(repo("threads"), &o);
	for (int i = 0; i < CONC_BLOCKS; i++) {
		c->lens[i] = 1 + rnd() % (96 << 10);
		make_raw(&data, &c->ids[i], 7000 + (uint64_t)i, c->lens[i]);
	}
	for (int i = 0; i < 3; i++)
		pthread_create(&r[i], NULL, conc_reader, c);
	pthread_create(&w, NULL, conc_writer, c);
	pthread_join(w, NULL);
	for (int i = 0; i < 3; i++)
		pthread_join(r[i], NULL);
	CU_ASSERT_EQUAL(atomic_load(&c->errors), 0);
	CU_ASSERT(atomic_load(&c->reads) > 100);
	fsck_clean(c->bs);
	CU_ASSERT_EQUAL(bstore_close(c->bs), 0);
	buf_release(&data);
	free(c);
}

/*
 * gc beside puts: old unreferenced blocks are put again (deduped) while
 * gc runs with them well past their grace period.  Every block whose put
 * returned must survive the next sync: gc_lock is what makes that so.
 */
struct gcp {
	struct bstore *bs;
	struct cid ids[64];
	atomic_int done;
	atomic_int errors;
};

static void *gcp_putter(void *arg)
{
	struct gcp *g = arg;
	struct buf data = BUF_INIT(BUF_NOCAP);
	struct buf out = BUF_INIT(BUF_NOCAP);

	for (int round = 0; round < 40; round++) {
		for (int i = 0; i < 64; i++) {
			buf_reset(&data);
			buf_grow(&data, 1000);
			harness_fill_random(data.ptr, 1000, 900 + (uint64_t)i);
			data.len = 1000;
			if (bstore_put(g->bs, &g->ids[i], data.ptr, 1000) < 0)
				atomic_fetch_add(&g->errors, 1);
			/* fresh atime now: gc must leave it alone */
			buf_reset(&out);
			if (bstore_get(g->bs, &g->ids[i], &out) < 0) {
				fprintf(stderr, "gc ate block %d: %s\n", i,
					efs_error_msg());
				atomic_fetch_add(&g->errors, 1);
			}
		}
		if (bstore_sync(g->bs) < 0)
			atomic_fetch_add(&g->errors, 1);
	}
	atomic_store(&g->done, 1);
	buf_release(&data);
	buf_release(&out);
	return NULL;
}

static void test_bstore__gc_beside_puts(void)
{
	struct bstore_opts o = small_opts();
	struct gcp *g = calloc(1, sizeof(*g));
	struct buf data = BUF_INIT(BUF_NOCAP);
	struct bstore_gc_result gr;
	pthread_t t;
	int64_t clock0 = 1000000;
	int gcs = 0;

	CU_ASSERT_FATAL(g != NULL);
	o.gc_grace = 100;
	g->bs = open_store(repo("gcputs"), &o);
	bstore_test_clock(g->bs, clock0);
	for (int i = 0; i < 64; i++) {
		make_raw(&data, &g->ids[i], 900 + (uint64_t)i, 1000);
		put_ok(g->bs, &g->ids[i], &data);
	}
	CU_ASSERT_EQUAL(bstore_sync(g->bs), 0);
	/* they are old now; each put refreshes one */
	bstore_test_clock(g->bs, clock0 + 1000);
	pthread_create(&t, NULL, gcp_putter, g);
	while (!atomic_load(&g->done)) {
		CU_ASSERT_EQUAL(bstore_gc(&gr, g->bs), 0);
		gcs++;
	}
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(atomic_load(&g->errors), 0);
	CU_ASSERT(gcs > 0);
	fsck_clean(g->bs);
	CU_ASSERT_EQUAL(bstore_close(g->bs), 0);
	buf_release(&data);
	free(g);
}

/*
 * Readers and other writers beside a slow fdatasync: get (synced and
 * being-synced blocks), has, stat and a put go through while a sync sits
 * in an fdatasync made 500 ms slow.
 */
static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void *slow_sync(void *arg)
{
	static int result;

	result = bstore_sync(arg);
	return &result;
}

static void test_bstore__no_wait_on_fsync(void)
{
	struct bstore_opts o = small_opts();
	struct bstore *bs = open_store(repo("nowait"), &o);
	struct buf a = BUF_INIT(BUF_NOCAP);
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct buf c = BUF_INIT(BUF_NOCAP);
	struct bstore_stat st;
	struct cid ia;
	struct cid ib;
	struct cid ic;
	pthread_t t;
	void *ret;
	double t0;
	double t1;

	make_raw(&a, &ia, 201, 9000);
	make_raw(&b, &ib, 202, 9000);
	make_raw(&c, &ic, 203, 9000);
	put_ok(bs, &ia, &a);
	CU_ASSERT_EQUAL(bstore_sync(bs), 0);
	put_ok(bs, &ib, &b);
	bstore_test_fsync_delay(bs, 500);
	t0 = now_ms();
	pthread_create(&t, NULL, slow_sync, bs);
	usleep(100 * 1000);
	get_expect(bs, &ia, &a);
	get_expect(bs, &ib, &b);
	CU_ASSERT(bstore_has(bs, &ib));
	CU_ASSERT_EQUAL(bstore_stat(&st, bs, &ia), 0);
	put_ok(bs, &ic, &c);
	get_expect(bs, &ic, &c);
	t1 = now_ms();
	pthread_join(t, &ret);
	CU_ASSERT_EQUAL(*(int *)ret, 0);
	/* all of it done while the sync was still in its fdatasync */
	CU_ASSERT(t1 - t0 < 450);
	CU_ASSERT(now_ms() - t0 >= 500);
	bstore_test_fsync_delay(bs, 0);
	fsck_clean(bs);
	CU_ASSERT_EQUAL(bstore_close(bs), 0);
	buf_release(&a);
	buf_release(&b);
	buf_release(&c);
}

static CU_TestInfo bstore_tests[] = {
	{ "roundtrip", test_bstore__roundtrip },
	{ "cid_versions", test_bstore__cid_versions },
	{ "refused", test_bstore__refused },
	{ "dedupe", test_bstore__dedupe },
	{ "sink_source", test_bstore__sink_source },
	{ "exclusive", test_bstore__exclusive },
	{ "corrupt_pack", test_bstore__corrupt_pack },
	{ "corrupt_index", test_bstore__corrupt_index },
	{ "recovery", test_bstore__recovery },
	{ "packs_roll", test_bstore__packs_roll },
	{ "crash", test_bstore__crash },
	{ "deferred", test_bstore__deferred },
	{ "gc", test_bstore__gc },
	{ "gc_corrupt", test_bstore__gc_corrupt },
	{ "pins_absent", test_bstore__pins_absent },
	{ "pins_list", test_bstore__pins_list },
	{ "evict", test_bstore__evict },
	{ "locations_range", test_bstore__locations_range },
	{ "lru", test_bstore__lru },
	{ "enospc_write", test_bstore__enospc_write },
	{ "enospc_sync", test_bstore__enospc_sync },
	{ "alloc_failures", test_bstore__alloc_failures },
	{ "concurrent_readers", test_bstore__concurrent_readers },
	{ "gc_beside_puts", test_bstore__gc_beside_puts },
	{ "no_wait_on_fsync", test_bstore__no_wait_on_fsync },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "bstore", .pInitFunc = setup,
	       .pCleanupFunc = teardown, .pTests = bstore_tests })
