/*
 * test_fileio.c - one open file's data path against a real blockstore in a
 * temp dir: reads of staged and flushed bytes, sequential writes sealed in
 * the background, the CID after any sequence of writes and truncations
 * equal to importing the final bytes from scratch (an fsx-like random
 * test against a byte-array model, over three profiles and a file made
 * with another chunk size), the O(one chunk) cost of a small write into a
 * big file, holes, truncation, budgets that push chunks to disk,
 * concurrent writers, readers and flushers on one file, blockstore write
 * and sync failures, and the allocation-failure loop.
 */
#include "fs/fileio.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/bstore.h"
#include "core/error.h"
#include "core/importer_file.h"
#include "fs/errmap.h"
#include "tests/fs/fs_test.h"
#include "tests/harness.h"

/* ---- fixture: repositories in the suite's directory (fs_test.h) --------- */

static int nrepo;

struct fx {
	char dir[4096];
	char stdir[4200];
	struct bstore *bs;
	struct staging *st;
	struct importer_opts opts;
	struct cid root;     /* what the commit callback got */
	uint64_t size;
	uint64_t tsize;
	int commits;
	int commit_error;    /* the callback fails with this */
};

static void fx_open_with(struct fx *x, const struct importer_opts *opts,
			 const struct staging_opts *so)
{
	memset(x, 0, sizeof(*x));
	snprintf(x->dir, sizeof(x->dir), "%s/r%d", *fsx_suite_dir(), nrepo++);
	snprintf(x->stdir, sizeof(x->stdir), "%s/staging", x->dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(x->dir, 0755), 0);
	CU_ASSERT_EQUAL_FATAL(mkdir(x->stdir, 0755), 0);
	CU_ASSERT_EQUAL_FATAL(bstore_open(&x->bs, x->dir, NULL), 0);
	x->opts = *opts;
	CU_ASSERT_EQUAL_FATAL(staging_new(&x->st, x->stdir, x->bs, opts, so),
			      0);
}

/* The default profile with a small chunk and a narrow tree. */
static void small_opts(struct importer_opts *o, const char *profile,
		       size_t chunk, unsigned links)
{
	CU_ASSERT_FATAL(importer_opts_profile(o, profile) == 0);
	o->chunk_size = chunk;
	o->max_links = links;
}

static void fx_open(struct fx *x)
{
	struct importer_opts o;

	small_opts(&o, "unixfs-v1-2025", 1000, 4);
	fx_open_with(x, &o, NULL);
}

static void fx_close(struct fx *x)
{
	staging_free(x->st);
	CU_ASSERT_EQUAL(bstore_close(x->bs), 0);
}

static int commit_cb(const struct cid *root, uint64_t size, uint64_t tsize,
		     void *payload)
{
	struct fx *x = payload;

	if (x->commit_error)
		return efs_error_set(x->commit_error, "injected");
	x->root = *root;
	x->size = size;
	x->tsize = tsize;
	x->commits++;
	return 0;
}

/* The CID of importing data[0..len) from scratch with opts (and the
 * Tsize of a link to it). */
static struct cid import_cid_tsize(uint64_t *tsize,
				   const struct importer_opts *opts,
				   const uint8_t *data, size_t len)
{
	struct importer_file *b;
	struct cid root;

	CU_ASSERT_FATAL(importer_file_new(&b, opts, NULL,
					  &blockio_null_sink) == 0);
	CU_ASSERT_FATAL(importer_file_write(b, data, len) == 0);
	CU_ASSERT_FATAL(importer_file_finish(b, &root, NULL, tsize) == 0);
	importer_file_free(b);
	return root;
}

static struct cid import_cid(const struct importer_opts *opts,
			     const uint8_t *data, size_t len)
{
	uint64_t tsize;

	return import_cid_tsize(&tsize, opts, data, len);
}

static void expect_bytes(struct fileio *f, const uint8_t *want, uint64_t size,
			 uint64_t off, size_t len)
{
	uint8_t *got = malloc(len + 1);
	size_t n = 77, expect = off >= size ? 0
				: (size - off < len ? size - off : len);

	CU_ASSERT_FATAL(got != NULL);
	CU_ASSERT_EQUAL_FATAL(fileio_read(got, &n, f, off, len), 0);
	CU_ASSERT_EQUAL(n, expect);
	if (n == expect && n)
		CU_ASSERT(!memcmp(got, want + off, n));
	free(got);
}

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static uint64_t local_bytes(struct bstore *bs)
{
	struct bstore_totals t;

	CU_ASSERT_FATAL(bstore_sync(bs) == 0);
	CU_ASSERT_FATAL(bstore_stat_totals(&t, bs) == 0);
	return t.bytes[BSTORE_LOCAL];
}

/* ---- basics ------------------------------------------------------------- */

static void test_fileio__empty_and_small(void)
{
	struct fx x;
	struct fileio *f;
	struct cid want;
	uint8_t buf[16];
	size_t n;

	fx_open(&x);
	/* a new empty file needs no dag: closing it commits nothing */
	CU_ASSERT_EQUAL_FATAL(fileio_new(&f, x.st, NULL, 0), 0);
	CU_ASSERT(!fileio_dirty(f));
	CU_ASSERT_EQUAL(fileio_dirty_since(f), 0);
	CU_ASSERT_EQUAL(fileio_read(buf, &n, f, 0, sizeof(buf)), 0);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL_FATAL(fileio_flush(f, commit_cb, &x), 0);
	CU_ASSERT_EQUAL(x.commits, 0);
	/* written, and back to nothing without a flush: still nothing */
	CU_ASSERT_EQUAL(fileio_write(f, 0, "x", 1), 0);
	CU_ASSERT(fileio_dirty(f));
	CU_ASSERT(fileio_dirty_since(f) > 0);
	CU_ASSERT_EQUAL(fileio_truncate(f, 0), 0);
	CU_ASSERT(!fileio_dirty(f));
	/* flushed, then cut to nothing: the empty file's CID */
	CU_ASSERT_EQUAL(fileio_write(f, 0, "x", 1), 0);
	CU_ASSERT_EQUAL_FATAL(fileio_flush(f, commit_cb, &x), 0);
	CU_ASSERT_EQUAL(x.commits, 1);
	x.commits = 0;
	CU_ASSERT_EQUAL(fileio_truncate(f, 0), 0);
	CU_ASSERT_EQUAL_FATAL(fileio_flush(f, commit_cb, &x), 0);
	want = import_cid(&x.opts, NULL, 0);
	CU_ASSERT(cid_equal(&x.root, &want));
	CU_ASSERT_EQUAL(x.size, 0);
	CU_ASSERT(!fileio_dirty(f));
	CU_ASSERT_EQUAL(fileio_dirty_since(f), 0);
	/* clean: no second commit */
	CU_ASSERT_EQUAL(fileio_flush(f, commit_cb, &x), 0);
	CU_ASSERT_EQUAL(x.commits, 1);

	CU_ASSERT_EQUAL(fileio_write(f, 0, "hello", 5), 0);
	CU_ASSERT_EQUAL(fileio_size(f), 5);
	expect_bytes(f, (const uint8_t *)"hello", 5, 0, 16);
	expect_bytes(f, (const uint8_t *)"hello", 5, 3, 16);
	CU_ASSERT_EQUAL_FATAL(fileio_flush(f, commit_cb, &x), 0);
	want = import_cid(&x.opts, (const uint8_t *)"hello", 5);
	CU_ASSERT(cid_equal(&x.root, &want));
	CU_ASSERT_EQUAL(x.commits, 2);
	/* a single chunk file is its raw leaf */
	CU_ASSERT_EQUAL(x.root.codec, CID_CODEC_RAW);
	expect_bytes(f, (const uint8_t *)"hello", 5, 0, 16);
	fileio_free(f);

	/* reopened from the root */
	CU_ASSERT_EQUAL_FATAL(fileio_new(&f, x.st, &x.root, 5), 0);
	CU_ASSERT(!fileio_dirty(f));
	expect_bytes(f, (const uint8_t *)"hello", 5, 1, 3);
	CU_ASSERT_EQUAL(fileio_write(f, 5, " world", 6), 0);
	expect_bytes(f, (const uint8_t *)"hello world", 11, 0, 16);
	CU_ASSERT_EQUAL_FATAL(fileio_flush(f, commit_cb, &x), 0);
	want = import_cid(&x.opts, (const uint8_t *)"hello world", 11);
	CU_ASSERT(cid_equal(&x.root, &want));
	fileio_free(f);
	fx_close(&x);
}

/* A sequential writer keeps a few chunks staged; the result is the
 * importer's. */
static void test_fileio__sequential(void)
{
	size_t len = 200 * 1000 + 123;
	uint8_t *data = malloc(len);
	struct fileio_stats fs;
	struct staging_stats ss;
	struct fx x;
	struct fileio *f;
	struct cid want;

	CU_ASSERT_FATAL(data != NULL);
	harness_fill_random(data, len, 3);
	fx_open(&x);
	CU_ASSERT_EQUAL_FATAL(fileio_new(&f, x.st, NULL, 0), 0);
	for (size_t off = 0; off < len; off += 333) {
		size_t n = len - off < 333 ? len - off : 333;

		CU_ASSERT_EQUAL_FATAL(fileio_write(f, off, data + off, n), 0);
		fileio_stats(&fs, f);
		CU_ASSERT(fs.mem_chunks <= 2);
		CU_ASSERT(fs.sealing <= 4);
		CU_ASSERT_EQUAL(fs.disk_chunks, 0);
	}
	expect_bytes(f, data, len, 0, len);
	expect_bytes(f, data, len, 999, 2002);
	CU_ASSERT_EQUAL_FATAL(fileio_flush(f, commit_cb, &x), 0);
	want = import_cid(&x.opts, data, len);
	CU_ASSERT(cid_equal(&x.root, &want));
	CU_ASSERT_EQUAL(x.size, len);
	staging_stats(&ss, x.st);
	/* every chunk hashed once */
	CU_ASSERT_EQUAL(ss.leaves, 201);
	CU_ASSERT(ss.mem_peak <= 7 * 1000);
	CU_ASSERT_EQUAL(ss.mem_used, 0);
	CU_ASSERT_EQUAL(ss.disk_peak, 0);
	fileio_stats(&fs, f);
	CU_ASSERT_EQUAL(fs.sealed + fs.mem_chunks + fs.sealing, 0);
	expect_bytes(f, data, len, 0, len);
	fileio_free(f);
	fx_close(&x);
	free(data);
}

/* Sequential readers load each chunk once, ahead of them; writes and
 * flushes are seen through the cache. */
static void test_fileio__read_cache(void)
{
	size_t len = 50 * 1000 + 321;
	uint8_t *data = malloc(len);
	struct fileio_stats fs;
	struct fileio *f;
	struct fx x;

	CU_ASSERT_FATAL(data != NULL);
	harness_fill_random(data, len, 12);
	fx_open(&x);
	CU_ASSERT_EQUAL_FATAL(fileio_new(&f, x.st, NULL, 0), 0);
	CU_ASSERT_EQUAL_FATAL(fileio_write(f, 0, data, len), 0);
	CU_ASSERT_EQUAL_FATAL(fileio_flush(f, commit_cb, &x), 0);
	fileio_free(f);
	CU_ASSERT_EQUAL_FATAL(fileio_new(&f, x.st, &x.root, len), 0);
	for (size_t off = 0; off < len; off += 125)
		expect_bytes(f, data, len, off, 125);
	fileio_stats(&fs, f);
	CU_ASSERT_EQUAL(fs.cache_loads, 51);
	/* a write shows at once, and after the flush that replaces the dag */
	memset(data + 20500, 'w', 1000);
	CU_ASSERT_EQUAL(fileio_write(f, 20500, data + 20500, 1000), 0);
	for (size_t off = 20000; off < 23000; off += 250)
		expect_bytes(f, data, len, off, 250);
	CU_ASSERT_EQUAL_FATAL(fileio_flush(f, commit_cb, &x), 0);
	for (size_t off = 0; off < len; off += 999)
		expect_bytes(f, data, len, off, 999);
	/* shrunk and grown: the cached chunk past the cut reads as zeros */
	CU_ASSERT_EQUAL(fileio_truncate(f, 30500), 0);
	CU_ASSERT_EQUAL(fileio_truncate(f, len), 0);
	memset(data + 30500, 0, len - 30500);
	for (size_t off = 29000; off < 33000; off += 500)
		expect_bytes(f, data, len, off, 500);
	fileio_free(f);
	fx_close(&x);
	free(data);
}

struct iov_got {
	uint8_t buf[4000];
	size_t len;
	int pieces;
};

static int iov_collect(const struct iovec *iov, int n, void *payload)
{
	struct iov_got *g = payload;

	g->pieces = n;
	for (int i = 0; i < n; i++) {
		CU_ASSERT_FATAL(g->len + iov[i].iov_len <= sizeof(g->buf));
		memcpy(g->buf + g->len, iov[i].iov_base, iov[i].iov_len);
		g->len += iov[i].iov_len;
	}
	return 7;
}

/* Reads handed over in place: cached chunks as pieces, the rest copied. */
static void test_fileio__read_iov(void)
{
	size_t len = 10 * 1000 + 50;
	uint8_t *data = malloc(len), scratch[4000];
	static const struct {
		uint64_t off;
		size_t len;
		int pieces;
	} reads[] = {
		{ 0, 1000, 1 },  { 500, 1000, 2 }, { 9500, 4000, 2 },
		{ 100, 3000, 1 }, /* 4 chunks: copied */
		{ 10 * 1000 + 50, 10, 1 },
	};
	struct fileio *f;
	struct fx x;

	CU_ASSERT_FATAL(data != NULL);
	harness_fill_random(data, len, 13);
	fx_open(&x);
	CU_ASSERT_EQUAL_FATAL(fileio_new(&f, x.st, NULL, 0), 0);
	CU_ASSERT_EQUAL_FATAL(fileio_write(f, 0, data, len), 0);
	CU_ASSERT_EQUAL_FATAL(fileio_flush(f, commit_cb, &x), 0);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
			struct iov_got g = { .len = 0 };
			size_t want = reads[i].off >= len ? 0
				      : len - reads[i].off < reads[i].len
					  ? len - reads[i].off
					  : reads[i].len;

			CU_ASSERT_EQUAL(fileio_read_iov(f, reads[i].off,
							reads[i].len, scratch,
							iov_collect, &g), 7);
			CU_ASSERT_EQUAL(g.len, want);
			CU_ASSERT(!memcmp(g.buf, data + reads[i].off, want));
			/* the second time chunk 1 is staged: copied */
			if (pass == 0 || reads[i].off > 2000)
				CU_ASSERT_EQUAL(g.pieces, reads[i].pieces);
		}
		memset(data + 1500, 'z', 10);
		CU_ASSERT_EQUAL(fileio_write(f, 1500, data + 1500, 10), 0);
	}
	fileio_free(f);
	fx_close(&x);
	free(data);
}

/* ---- fsx: random writes and truncations against a model ----------------- */

struct model {
	uint8_t *bytes;
	size_t size, cap;
};

static void model_write(struct model *m, size_t off, const uint8_t *p,
			size_t n)
{
	CU_ASSERT_FATAL(off + n <= m->cap);
	if (off > m->size)
		memset(m->bytes + m->size, 0, off - m->size);
	memcpy(m->bytes + off, p, n);
	if (off + n > m->size)
		m->size = off + n;
}

static void model_truncate(struct model *m, size_t size)
{
	if (size > m->size)
		memset(m->bytes + m->size, 0, size - m->size);
	m->size = size;
}

static void fsx_check_flush(struct fx *x, struct fileio *f,
			    const struct model *m)
{
	uint64_t tsize;
	struct cid want;

	CU_ASSERT_EQUAL_FATAL(fileio_flush(f, commit_cb, x), 0);
	if (!x->commits) {
		/* never committed: an empty file without a dag */
		CU_ASSERT_EQUAL(m->size, 0);
		CU_ASSERT(!fileio_dirty(f));
		return;
	}
	want = import_cid_tsize(&tsize, &x->opts, m->bytes, m->size);
	CU_ASSERT(cid_equal(&x->root, &want));
	CU_ASSERT_EQUAL(x->tsize, tsize);
	CU_ASSERT_EQUAL(x->size, m->size);
	CU_ASSERT(!fileio_dirty(f));
}

/* ops random operations on one file of at most maxsize bytes. */
static void fsx_run(struct fx *x, uint64_t seed, int ops, size_t maxsize)
{
	size_t cs = x->opts.chunk_size;
	struct model m = { malloc(maxsize), 0, maxsize };
	uint8_t *data = malloc(4 * cs);
	struct fileio *f;
	uint64_t s = seed;

	CU_ASSERT_FATAL(m.bytes && data);
	x->commits = 0;
	x->size = 0;
	CU_ASSERT_EQUAL_FATAL(fileio_new(&f, x->st, NULL, 0), 0);
	for (int i = 0; i < ops; i++) {
		uint64_t r = next_rand(&s) % 100;
		size_t off = (size_t)(next_rand(&s) % maxsize);
		size_t len = (size_t)(next_rand(&s) % (3 * cs)) + 1;

		if (r < 55) {
			/* small writes near chunk edges too */
			if (r < 15)
				off = off / cs * cs + (r % 3) * cs - (r % 2);
			if (off > maxsize - 1)
				off = maxsize - 1;
			if (len > maxsize - off)
				len = maxsize - off;
			harness_fill_random(data, len, s);
			CU_ASSERT_EQUAL_FATAL(fileio_write(f, off, data, len),
					      0);
			model_write(&m, off, data, len);
		} else if (r < 65) {
			if (r < 58)
				off = off / cs * cs;
			CU_ASSERT_EQUAL_FATAL(fileio_truncate(f, off), 0);
			model_truncate(&m, off);
		} else if (r < 88) {
			expect_bytes(f, m.bytes, m.size, off, len);
		} else if (r < 97) {
			fsx_check_flush(x, f, &m);
		} else {
			/* close and reopen from the committed root */
			fsx_check_flush(x, f, &m);
			fileio_free(f);
			CU_ASSERT_EQUAL_FATAL(
			    fileio_new(&f, x->st, x->commits ? &x->root : NULL,
				       x->size), 0);
		}
		CU_ASSERT_EQUAL_FATAL(fileio_size(f), m.size);
	}
	expect_bytes(f, m.bytes, m.size, 0, m.size);
	fsx_check_flush(x, f, &m);
	fileio_free(f);
	free(m.bytes);
	free(data);
}

static void test_fileio__fsx_raw(void)
{
	struct fx x;

	fx_open(&x);
	for (uint64_t seed = 1; seed <= 6; seed++)
		fsx_run(&x, seed * 0x9e3779b97f4a7c15ull, 1500, 40 * 1000);
	fx_close(&x);
}

/* dag-pb leaves (CIDv0) and the trickle layout rebuild the same way. */
static void test_fileio__fsx_profiles(void)
{
	struct importer_opts o;
	struct fx x;

	small_opts(&o, "unixfs-v0-2015", 700, 3);
	fx_open_with(&x, &o, NULL);
	for (uint64_t seed = 11; seed <= 13; seed++)
		fsx_run(&x, seed * 0x9e3779b97f4a7c15ull, 1000, 30 * 700);
	fx_close(&x);

	small_opts(&o, "unixfs-v1-2025", 512, 3);
	o.layout = IMPORTER_LAYOUT_TRICKLE;
	fx_open_with(&x, &o, NULL);
	for (uint64_t seed = 21; seed <= 23; seed++)
		fsx_run(&x, seed * 0x9e3779b97f4a7c15ull, 1000, 60 * 512);
	fx_close(&x);

	small_opts(&o, "unixfs-v0-2015", 600, 4);
	o.layout = IMPORTER_LAYOUT_TRICKLE;
	fx_open_with(&x, &o, NULL);
	fsx_run(&x, 31 * 0x9e3779b97f4a7c15ull, 1000, 30 * 600);
	fx_close(&x);
}

/* Tight budgets: chunks go to disk and are sealed under pressure. */
static void test_fileio__fsx_budget(void)
{
	struct staging_opts so = { .mem_max = 2 * 1000, .disk_max = 5 * 1000,
				   .workers = 2 };
	struct importer_opts o;
	struct staging_stats ss;
	struct fx x;

	small_opts(&o, "unixfs-v1-2025", 1000, 4);
	fx_open_with(&x, &o, &so);
	for (uint64_t seed = 41; seed <= 44; seed++)
		fsx_run(&x, seed * 0x9e3779b97f4a7c15ull, 1500, 40 * 1000);
	staging_stats(&ss, x.st);
	CU_ASSERT(ss.disk_peak > 0);
	/* soft: one write may pass it by the chunks it touches */
	CU_ASSERT(ss.disk_peak <= so.disk_max + 5 * 1000);
	CU_ASSERT_EQUAL(ss.mem_used, 0);
	CU_ASSERT_EQUAL(ss.disk_used, 0);
	fx_close(&x);
}

/* A file whose DAG was made with another chunk size (or that a foreign
 * importer made): its leaves do not fit, so chunks are read and re-hashed;
 * after one flush it has ours. */
static void test_fileio__foreign_dag(void)
{
	size_t len = 25 * 1000 + 17;
	uint8_t *data = malloc(len);
	struct importer_opts other;
	struct blockio_sink sink;
	struct importer_file *b;
	struct cid root, want;
	struct fileio *f;
	struct fx x;

	CU_ASSERT_FATAL(data != NULL);
	harness_fill_random(data, len, 8);
	fx_open(&x);
	small_opts(&other, "unixfs-v1-2025", 700, 5);
	sink = bstore_sink(x.bs);
	CU_ASSERT_FATAL(importer_file_new(&b, &other, NULL, &sink) == 0);
	CU_ASSERT_FATAL(importer_file_write(b, data, len) == 0);
	CU_ASSERT_FATAL(importer_file_finish(b, &root, NULL, NULL) == 0);
	importer_file_free(b);
	CU_ASSERT_FATAL(bstore_sync(x.bs) == 0);

	CU_ASSERT_EQUAL_FATAL(fileio_new(&f, x.st, &root, len), 0);
	expect_bytes(f, data, len, 0, len);
	memcpy(data + 5000, "xyz", 3);
	CU_ASSERT_EQUAL(fileio_write(f, 5000, "xyz", 3), 0);
	CU_ASSERT_EQUAL_FATAL(fileio_flush(f, commit_cb, &x), 0);
	want = import_cid(&x.opts, data, len);
	CU_ASSERT(cid_equal(&x.root, &want));
	expect_bytes(f, data, len, 0, len);
	fileio_free(f);
	/* the wrong size for a root is corruption */
	CU_ASSERT_EQUAL_FATAL(fileio_new(&f, x.st, &root, len + 1), 0);
	CU_ASSERT_EQUAL(fileio_read(data, &len, f, 0, 10), EFS_ECORRUPT);
	fileio_free(f);
	fx_close(&x);
	free(data);
}

/* ---- costs -------------------------------------------------------------- */

/*
 * 4 KiB written into the middle of a 256 MiB file with the default
 * profile stores one chunk and the root above it; a hole costs one zero
 * leaf.
 */
static void test_fileio__small_change(void)
{
	const size_t cs = 1 << 20, size = 256 * cs;
	struct importer_opts o;
	uint8_t *chunk = malloc(cs);
	struct fileio *f;
	uint64_t before, after;
	struct fx x;

	CU_ASSERT_FATAL(chunk != NULL);
	CU_ASSERT_FATAL(importer_opts_profile(&o, NULL) == 0);
	fx_open_with(&x, &o, NULL);
	CU_ASSERT_EQUAL_FATAL(fileio_new(&f, x.st, NULL, 0), 0);
	for (size_t off = 0; off < size; off += cs) {
		memset(chunk, 0, cs);
		memcpy(chunk, &off, sizeof(off));
		CU_ASSERT_EQUAL_FATAL(fileio_write(f, off, chunk, cs), 0);
	}
	CU_ASSERT_EQUAL_FATAL(fileio_flush(f, commit_cb, &x), 0);
	before = local_bytes(x.bs);
	CU_ASSERT(before >= size);
	memset(chunk, 0xab, 4096);
	CU_ASSERT_EQUAL(fileio_write(f, size / 2 + 5000, chunk, 4096), 0);
	CU_ASSERT_EQUAL_FATAL(fileio_flush(f, commit_cb, &x), 0);
	after = local_bytes(x.bs);
	/* one new leaf, one new root of 256 links */
	CU_ASSERT(after - before <= cs + 64 * 1024);
	CU_ASSERT(after - before >= cs);

	/* a 1 TiB hole past the end: one zero leaf and the tree's nodes */
	before = after;
	CU_ASSERT_EQUAL(fileio_truncate(f, (uint64_t)1 << 36), 0);
	CU_ASSERT_EQUAL(fileio_write(f, ((uint64_t)1 << 36) - 3, "end", 3), 0);
	CU_ASSERT_EQUAL_FATAL(fileio_flush(f, commit_cb, &x), 0);
	after = local_bytes(x.bs);
	CU_ASSERT(after - before < 2 * cs + 4 * 1024 * 1024);
	CU_ASSERT_EQUAL(x.size, (uint64_t)1 << 36);
	memset(chunk, 0, 10);
	expect_bytes(f, chunk, 10, 0, 0);
	{
		uint8_t got[8];
		size_t n;

		CU_ASSERT_EQUAL(fileio_read(got, &n, f, (uint64_t)1 << 35, 8),
				0);
		CU_ASSERT_EQUAL(n, 8);
		CU_ASSERT(!memcmp(got, chunk, 8));
		CU_ASSERT_EQUAL(fileio_read(got, &n, f,
					    ((uint64_t)1 << 36) - 4, 8), 0);
		CU_ASSERT_EQUAL(n, 4);
		CU_ASSERT(!memcmp(got, "\0end", 4));
	}
	fileio_free(f);
	fx_close(&x);
	free(chunk);
}

/* ---- truncation --------------------------------------------------------- */

static void test_fileio__truncate(void)
{
	uint8_t data[5000], zeros[5000] = { 0 };
	struct fx x;
	struct fileio *f;
	struct cid want;

	harness_fill_random(data, sizeof(data), 4);
	fx_open(&x);
	CU_ASSERT_EQUAL_FATAL(fileio_new(&f, x.st, NULL, 0), 0);
	CU_ASSERT_EQUAL(fileio_write(f, 0, data, 4500), 0);
	CU_ASSERT_EQUAL_FATAL(fileio_flush(f, commit_cb, &x), 0);
	/* down into a flushed chunk, then up: the tail reads as zeros */
	CU_ASSERT_EQUAL(fileio_truncate(f, 2345), 0);
	CU_ASSERT_EQUAL(fileio_truncate(f, 4000), 0);
	expect_bytes(f, data, 2345, 0, 2345);
	{
		uint8_t got[2000];
		size_t n;

		CU_ASSERT_EQUAL(fileio_read(got, &n, f, 2345, 2000), 0);
		CU_ASSERT_EQUAL(n, 4000 - 2345);
		CU_ASSERT(!memcmp(got, zeros, n));
	}
	CU_ASSERT_EQUAL_FATAL(fileio_flush(f, commit_cb, &x), 0);
	memset(data + 2345, 0, sizeof(data) - 2345);
	want = import_cid(&x.opts, data, 4000);
	CU_ASSERT(cid_equal(&x.root, &want));
	/* to zero and back */
	CU_ASSERT_EQUAL(fileio_truncate(f, 0), 0);
	CU_ASSERT_EQUAL(fileio_truncate(f, 3000), 0);
	CU_ASSERT_EQUAL_FATAL(fileio_flush(f, commit_cb, &x), 0);
	want = import_cid(&x.opts, zeros, 3000);
	CU_ASSERT(cid_equal(&x.root, &want));
	CU_ASSERT_EQUAL(fileio_truncate(f, 0), 0);
	CU_ASSERT_EQUAL_FATAL(fileio_flush(f, commit_cb, &x), 0);
	want = import_cid(&x.opts, NULL, 0);
	CU_ASSERT(cid_equal(&x.root, &want));
	CU_ASSERT_EQUAL(fileio_truncate(f, FILEIO_SIZE_MAX + 1), FS_EFBIG);
	CU_ASSERT_EQUAL(fileio_write(f, FILEIO_SIZE_MAX, "x", 1), FS_EFBIG);
	fileio_free(f);
	fx_close(&x);
}

/*
 * fsx on the mount (profile C, 256 KiB chunks): a partial last chunk that
 * a scattered write had read in whole (lo 0, hi cs) became "full" when
 * the file grew past it, unsealed; a later write over the chunk before it
 * and into it retired it for a fresh slot, sealing it, then wrote into a
 * chunk being sealed (an assertion; without asserts the bytes went to the
 * staging file under a seal of the old buffer, and were lost).
 */
static void test_fileio__retire_in_range(void)
{
	uint8_t data[6000], want[6000] = { 0 };
	struct fx x;
	struct fileio *f;
	struct cid root;

	harness_fill_random(data, sizeof(data), 7);
	fx_open(&x);
	CU_ASSERT_EQUAL_FATAL(fileio_new(&f, x.st, NULL, 0), 0);
	CU_ASSERT_EQUAL(fileio_write(f, 0, data, 2500), 0);
	memcpy(want, data, 2500);
	CU_ASSERT_EQUAL_FATAL(fileio_flush(f, commit_cb, &x), 0);
	/* chunk 2 (500 bytes of 1000) read in whole by a scattered write */
	CU_ASSERT_EQUAL(fileio_write(f, 2100, data + 3000, 100), 0);
	memcpy(want + 2100, data + 3000, 100);
	CU_ASSERT_EQUAL(fileio_write(f, 2300, data + 3100, 10), 0);
	memcpy(want + 2300, data + 3100, 10);
	/* growing past it makes it a whole chunk; chunk 5 is the other MEM */
	CU_ASSERT_EQUAL(fileio_write(f, 5000, data + 3200, 10), 0);
	memcpy(want + 5000, data + 3200, 10);
	/* chunk 1 needs a slot (retiring the LRU, chunk 2), then chunk 2 */
	CU_ASSERT_EQUAL(fileio_write(f, 1990, data + 4000, 20), 0);
	memcpy(want + 1990, data + 4000, 20);
	expect_bytes(f, want, 5010, 0, 5010);
	CU_ASSERT_EQUAL_FATAL(fileio_flush(f, commit_cb, &x), 0);
	expect_bytes(f, want, 5010, 0, 5010);
	root = import_cid(&x.opts, want, 5010);
	CU_ASSERT(cid_equal(&x.root, &root));
	fileio_free(f);
	fx_close(&x);
}

/* ---- threads ------------------------------------------------------------ */

struct racer {
	struct fx *x;
	struct fileio *f;
	int id;            /* writer id (region), or -1: reader/flusher */
	size_t region;
	int errors;
};

static void *race_writer(void *arg)
{
	struct racer *r = arg;
	uint8_t buf[1500];
	uint64_t s = 99 + r->id;

	for (int i = 0; i < 400; i++) {
		size_t off = (size_t)(next_rand(&s) % (r->region - 1500));
		size_t len = (size_t)(next_rand(&s) % 1500) + 1;

		memset(buf, 'a' + r->id, len);
		if (fileio_write(r->f, r->id * r->region + off, buf, len) < 0)
			r->errors++;
	}
	/* the final pattern the checker expects */
	for (size_t off = 0; off < r->region; off += sizeof(buf)) {
		size_t len = r->region - off < sizeof(buf) ? r->region - off
							   : sizeof(buf);

		memset(buf, 'A' + r->id, len);
		if (fileio_write(r->f, r->id * r->region + off, buf, len) < 0)
			r->errors++;
	}
	return NULL;
}

static void *race_other(void *arg)
{
	struct racer *r = arg;
	uint8_t buf[3000];
	uint64_t s = 7;
	size_t n;

	for (int i = 0; i < 60; i++) {
		if (fileio_read(buf, &n, r->f, next_rand(&s) % 20000, 3000) < 0)
			r->errors++;
		if (i % 6 == 0 && fileio_flush(r->f, commit_cb, r->x) < 0)
			r->errors++;
	}
	return NULL;
}

/* Writers on disjoint regions, a reader and a flusher, all at once (two
 * descriptors of one file share its fileio). */
static void test_fileio__threads(void)
{
	enum { WRITERS = 3 };
	const size_t region = 7777;
	struct racer r[WRITERS + 1];
	pthread_t t[WRITERS + 1];
	uint8_t *want = malloc(WRITERS * region);
	struct fileio *f;
	struct cid root;
	struct fx x;

	CU_ASSERT_FATAL(want != NULL);
	fx_open(&x);
	CU_ASSERT_EQUAL_FATAL(fileio_new(&f, x.st, NULL, 0), 0);
	for (int i = 0; i <= WRITERS; i++) {
		r[i] = (struct racer){ &x, f, i < WRITERS ? i : -1, region, 0 };
		CU_ASSERT_FATAL(pthread_create(&t[i], NULL,
					       i < WRITERS ? race_writer
							   : race_other,
					       &r[i]) == 0);
	}
	for (int i = 0; i <= WRITERS; i++) {
		pthread_join(t[i], NULL);
		CU_ASSERT_EQUAL(r[i].errors, 0);
	}
	for (int i = 0; i < WRITERS; i++)
		memset(want + i * region, 'A' + i, region);
	expect_bytes(f, want, WRITERS * region, 0, WRITERS * region);
	CU_ASSERT_EQUAL_FATAL(fileio_flush(f, commit_cb, &x), 0);
	root = import_cid(&x.opts, want, WRITERS * region);
	CU_ASSERT(cid_equal(&x.root, &root));
	fileio_free(f);
	fx_close(&x);
	free(want);
}

/* ---- failures ----------------------------------------------------------- */

static void test_fileio__store_failures(void)
{
	uint8_t data[3500];
	struct fileio *f;
	struct cid want;
	struct fx x;

	harness_fill_random(data, sizeof(data), 5);
	fx_open(&x);
	CU_ASSERT_EQUAL_FATAL(fileio_new(&f, x.st, NULL, 0), 0);
	CU_ASSERT_EQUAL(fileio_write(f, 0, data, 500), 0);
	/* a full disk: flush says so, the data stays staged */
	bstore_test_fail(x.bs, BSTORE_FAULT_WRITE, ENOSPC, 0);
	CU_ASSERT_EQUAL(fileio_flush(f, commit_cb, &x), EFS_ENOSPC);
	CU_ASSERT_EQUAL(x.commits, 0);
	expect_bytes(f, data, 500, 0, 500);
	CU_ASSERT_EQUAL_FATAL(fileio_flush(f, commit_cb, &x), 0);
	want = import_cid(&x.opts, data, 500);
	CU_ASSERT(cid_equal(&x.root, &want));

	/* the commit fails: nothing is lost, the next flush commits */
	CU_ASSERT_EQUAL(fileio_write(f, 500, data + 500, 2500), 0);
	x.commit_error = EFS_EIO;
	CU_ASSERT_EQUAL(fileio_flush(f, commit_cb, &x), EFS_EIO);
	x.commit_error = 0;
	CU_ASSERT_EQUAL_FATAL(fileio_flush(f, commit_cb, &x), 0);
	want = import_cid(&x.opts, data, 3000);
	CU_ASSERT(cid_equal(&x.root, &want));

	/* a failed fdatasync drops the sealed chunks: the file is broken */
	CU_ASSERT_EQUAL(fileio_write(f, 0, data + 1, 3499), 0);
	bstore_test_fail(x.bs, BSTORE_FAULT_FSYNC, EIO, 0);
	CU_ASSERT_EQUAL(fileio_flush(f, commit_cb, &x), EFS_EIO);
	CU_ASSERT_EQUAL(fileio_flush(f, commit_cb, &x), EFS_EIO);
	CU_ASSERT_EQUAL(fileio_write(f, 0, "x", 1), EFS_EIO);
	fileio_free(f);
	/* reopening starts again from the last flushed root */
	CU_ASSERT_EQUAL_FATAL(fileio_new(&f, x.st, &x.root, x.size), 0);
	expect_bytes(f, data, 3000, 0, 3000);
	fileio_free(f);
	fx_close(&x);
}

struct alloc_case {
	struct fx *x;
	uint8_t data[2600];
};

static int alloc_run(void *payload)
{
	struct alloc_case *c = payload;
	struct fileio *f;
	uint8_t got[2600];
	size_t n;
	int error;

	if ((error = fileio_new(&f, c->x->st, NULL, 0)) < 0)
		return error;
	error = fileio_write(f, 100, c->data, 2500);
	if (error == 0)
		error = fileio_truncate(f, 1500);
	if (error == 0)
		error = fileio_write(f, 2000, c->data, 600);
	if (error == 0)
		error = fileio_read(got, &n, f, 0, sizeof(got));
	if (error == 0)
		error = fileio_flush(f, commit_cb, c->x);
	fileio_free(f);
	return error;
}

static void test_fileio__alloc_failure(void)
{
	struct alloc_case c;
	struct fx x;

	fx_open(&x);
	c.x = &x;
	harness_fill_random(c.data, sizeof(c.data), 6);
	CU_ASSERT(harness_alloc_loop(alloc_run, &c) > 5);
	fx_close(&x);
}

static CU_TestInfo fileio_tests[] = {
	{ "empty_and_small", test_fileio__empty_and_small },
	{ "sequential", test_fileio__sequential },
	{ "read_cache", test_fileio__read_cache },
	{ "read_iov", test_fileio__read_iov },
	{ "fsx_raw", test_fileio__fsx_raw },
	{ "fsx_profiles", test_fileio__fsx_profiles },
	{ "fsx_budget", test_fileio__fsx_budget },
	{ "foreign_dag", test_fileio__foreign_dag },
	{ "small_change", test_fileio__small_change },
	{ "truncate", test_fileio__truncate },
	{ "retire_in_range", test_fileio__retire_in_range },
	{ "threads", test_fileio__threads },
	{ "store_failures", test_fileio__store_failures },
	{ "alloc_failure", test_fileio__alloc_failure },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "fileio", .pInitFunc = fsx_suite_setup,
	       .pCleanupFunc = fsx_suite_teardown, .pTests = fileio_tests })
