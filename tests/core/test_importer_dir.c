/*
 * test_importer_dir.c - the directory builder: well-known empty
 * directories (UnixFS spec), order independence, the HAMT threshold at
 * its exact boundary for both estimators (with and without metadata,
 * sub-directories counted), names and duplicates, the 2 MiB cap,
 * allocation and sink failures.  Golden CIDs of whole trees, HAMTs
 * included, are in test_importer.c (trees.txt, kubo vectors).
 */
#include "core/importer_dir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dagpb.h"
#include "core/error.h"
#include "core/importer_file.h"
#include "core/memstore.h"
#include "core/unixfs.h"
#include "tests/core/importer_test.h"
#include "tests/harness.h"

struct entry {
	char name[32];
	struct cid cid;
	uint64_t tsize;
};

/* n entries: small files "entry-<i>" with distinct contents, and every
 * third one a sub-directory holding such a file. */
static void make_entries(struct entry *e, size_t n,
			 const struct importer_opts *o)
{
	for (size_t i = 0; i < n; i++) {
		struct importer_file *f;
		struct importer_dir *d;
		char body[32];

		snprintf(e[i].name, sizeof(e[i].name), "entry-%zu", i);
		snprintf(body, sizeof(body), "body %zu", i);
		CU_ASSERT_EQUAL_FATAL(
		    importer_file_new(&f, o, NULL, &blockio_null_sink), 0);
		CU_ASSERT_EQUAL(importer_file_write(f, body, strlen(body)), 0);
		CU_ASSERT_EQUAL(
		    importer_file_finish(f, &e[i].cid, NULL, &e[i].tsize), 0);
		importer_file_free(f);
		if (i % 3)
			continue;
		CU_ASSERT_EQUAL_FATAL(
		    importer_dir_new(&d, o, NULL, &blockio_null_sink), 0);
		CU_ASSERT_EQUAL(
		    importer_dir_add(d, "f", 1, &e[i].cid, e[i].tsize), 0);
		CU_ASSERT_EQUAL(importer_dir_finish(d, &e[i].cid, &e[i].tsize),
				0);
		importer_dir_free(d);
	}
}

/* Build a directory of e[0..n), entries added in the order of perm
 * (NULL = as given); returns the root's UnixFS type. */
static int build(struct cid *out, uint64_t *tsize, struct memstore *ms,
		 const struct importer_opts *o,
		 const struct importer_meta *meta, const struct entry *e,
		 size_t n, const size_t *perm)
{
	struct blockio_sink sink = memstore_sink(ms);
	struct importer_dir *d;
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct dagpb_node node;
	struct unixfs_data ud;
	int type = -1;

	CU_ASSERT_EQUAL_FATAL(importer_dir_new(&d, o, meta, &sink), 0);
	for (size_t i = 0; i < n; i++) {
		const struct entry *x = &e[perm ? perm[i] : i];

		CU_ASSERT_EQUAL(importer_dir_add(d, x->name, strlen(x->name),
						 &x->cid, x->tsize),
				0);
	}
	CU_ASSERT_EQUAL(importer_dir_count(d), n);
	CU_ASSERT_EQUAL_FATAL(importer_dir_finish(d, out, tsize), 0);
	importer_dir_free(d);
	CU_ASSERT_EQUAL_FATAL(memstore_get(ms, out, &b), 0);
	CU_ASSERT_EQUAL_FATAL(dagpb_decode(&node, b.ptr, b.len), 0);
	CU_ASSERT_EQUAL_FATAL(unixfs_decode(&ud, node.data, node.data_len), 0);
	type = ud.type;
	unixfs_data_release(&ud);
	dagpb_node_release(&node);
	buf_release(&b);
	return type;
}

static void test_importer_dir__empty(void)
{
	struct importer_opts o;
	struct memstore *ms;
	struct cid id;
	uint64_t tsize;
	char s[CID_STR_MAX];

	CU_ASSERT_EQUAL_FATAL(memstore_new(&ms), 0);
	importer_opts_profile(&o, "unixfs-v0-2015");
	CU_ASSERT_EQUAL(build(&id, &tsize, ms, &o, NULL, NULL, 0, NULL),
			UNIXFS_DIRECTORY);
	CU_ASSERT_STRING_EQUAL(
	    cid_tostr(s, &id),
	    "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn");
	CU_ASSERT_EQUAL(tsize, 4);
	importer_opts_profile(&o, NULL);
	/* Never sharded, whatever the threshold. */
	o.hamt_threshold = 0;
	CU_ASSERT_EQUAL(build(&id, &tsize, ms, &o, NULL, NULL, 0, NULL),
			UNIXFS_DIRECTORY);
	CU_ASSERT_STRING_EQUAL(
	    cid_tostr(s, &id),
	    "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354");
	memstore_free(ms);
}

static void test_importer_dir__order(void)
{
	static struct entry e[300];
	size_t perm[300];
	struct importer_opts o;
	struct memstore *ms;
	struct cid want, got;
	uint64_t tw, tg;
	struct gen g;

	CU_ASSERT_EQUAL_FATAL(memstore_new(&ms), 0);
	importer_opts_profile(&o, NULL);
	make_entries(e, 300, &o);
	gen_init(&g, 3);
	for (int round = 0; round < 2; round++) {
		/* basic, then HAMT */
		o.hamt_threshold = round ? 1000 : 262144;
		for (size_t i = 0; i < 300; i++)
			perm[i] = 299 - i;
		CU_ASSERT_EQUAL(build(&want, &tw, ms, &o, NULL, e, 300, NULL),
				round ? UNIXFS_HAMT_SHARD : UNIXFS_DIRECTORY);
		build(&got, &tg, ms, &o, NULL, e, 300, perm);
		CU_ASSERT(cid_equal(&got, &want));
		CU_ASSERT_EQUAL(tg, tw);
		for (size_t i = 299; i > 0; i--) {
			uint8_t r[4];
			size_t j, t;

			gen_bytes(&g, r, 4);
			j = (r[0] | r[1] << 8 | (size_t)r[2] << 16) % (i + 1);
			t = perm[i];
			perm[i] = perm[j];
			perm[j] = t;
		}
		build(&got, &tg, ms, &o, NULL, e, 300, perm);
		CU_ASSERT(cid_equal(&got, &want));
		CU_ASSERT_EQUAL(tg, tw);
	}
	memstore_free(ms);
}

/*
 * The exact boundary: at threshold = estimate the directory stays basic,
 * one byte less and it is a HAMT.  The links estimate is computed here
 * from the entries; the block estimate is the size of the basic block
 * itself (metadata included).  A third of the entries are directories:
 * they count like the rest.
 */
static void check_boundary(const char *profile,
			   const struct importer_meta *meta)
{
	static struct entry e[60];
	struct importer_opts o;
	struct memstore *ms;
	struct cid id;
	uint64_t est = 0, tsize;
	uint8_t *block;
	size_t len;

	CU_ASSERT_EQUAL_FATAL(memstore_new(&ms), 0);
	importer_opts_profile(&o, profile);
	make_entries(e, 60, &o);
	if (o.hamt_estimator == IMPORTER_HAMT_LINKS) {
		for (size_t i = 0; i < 60; i++)
			est += strlen(e[i].name) + cid_size(&e[i].cid);
	} else {
		o.hamt_estimator = IMPORTER_HAMT_DISABLED;
		build(&id, &tsize, ms, &o, meta, e, 60, NULL);
		CU_ASSERT_EQUAL_FATAL(memstore_peek(&block, &len, ms, &id), 0);
		est = len;
		o.hamt_estimator = IMPORTER_HAMT_BLOCK;
	}
	o.hamt_threshold = est;
	CU_ASSERT_EQUAL(build(&id, &tsize, ms, &o, meta, e, 60, NULL),
			UNIXFS_DIRECTORY);
	o.hamt_threshold = est - 1;
	CU_ASSERT_EQUAL(build(&id, &tsize, ms, &o, meta, e, 60, NULL),
			UNIXFS_HAMT_SHARD);
	memstore_free(ms);
}

static void test_importer_dir__threshold(void)
{
	struct importer_meta meta = {true, 0700, true, 1600000000, 5};

	check_boundary("unixfs-v1-2025", NULL);
	check_boundary("unixfs-v1-2025", &meta);
	check_boundary("unixfs-v0-2015", NULL);
	check_boundary("unixfs-v0-2015", &meta);
}

static void test_importer_dir__metadata(void)
{
	static struct entry e[20];
	struct importer_meta meta = {true, 040755, false, 0, 0};
	struct importer_opts o;
	struct memstore *ms;
	struct cid plain, got;
	uint64_t tsize;
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct dagpb_node node;
	struct unixfs_data ud;

	CU_ASSERT_EQUAL_FATAL(memstore_new(&ms), 0);
	importer_opts_profile(&o, NULL);
	make_entries(e, 20, &o);
	for (int hamt = 0; hamt < 2; hamt++) {
		o.hamt_threshold = hamt ? 100 : 262144;
		meta.mode = 040755;
		build(&plain, &tsize, ms, &o, NULL, e, 20, NULL);
		/* 0755 is the directory default: left out, as in JS. */
		build(&got, &tsize, ms, &o, &meta, e, 20, NULL);
		CU_ASSERT(cid_equal(&got, &plain));
		meta.mode = 040700;
		build(&got, &tsize, ms, &o, &meta, e, 20, NULL);
		CU_ASSERT(!cid_equal(&got, &plain));
		buf_reset(&b);
		CU_ASSERT_EQUAL_FATAL(memstore_get(ms, &got, &b), 0);
		CU_ASSERT_EQUAL_FATAL(dagpb_decode(&node, b.ptr, b.len), 0);
		CU_ASSERT_EQUAL_FATAL(
		    unixfs_decode(&ud, node.data, node.data_len), 0);
		CU_ASSERT(ud.has_mode);
		CU_ASSERT_EQUAL(ud.mode, 0700);
		CU_ASSERT_EQUAL(ud.type,
				hamt ? UNIXFS_HAMT_SHARD : UNIXFS_DIRECTORY);
		unixfs_data_release(&ud);
		dagpb_node_release(&node);
	}
	buf_release(&b);
	memstore_free(ms);
}

static void test_importer_dir__names(void)
{
	static const struct {
		const char *name;
		size_t len;
	} bad[] = {
	    {"", 0},	{".", 1},    {"..", 2},		  {"a/b", 3},
	    {"a\0", 2}, {"\xc3", 1}, {"\xed\xb0\x80", 3},
	};
	struct importer_opts o;
	struct importer_dir *d;
	struct cid id;

	importer_opts_profile(&o, NULL);
	CU_ASSERT_EQUAL(cid_hash(&id, 1, CID_CODEC_RAW, MHASH_SHA2_256, "", 0),
			0);
	CU_ASSERT_EQUAL_FATAL(
	    importer_dir_new(&d, &o, NULL, &blockio_null_sink), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(
		    importer_dir_add(d, bad[i].name, bad[i].len, &id, 0),
		    EFS_EINVAL);
	CU_ASSERT_EQUAL(importer_dir_count(d), 0);
	CU_ASSERT_EQUAL(importer_dir_add(d, "x", 1, &id, 0), 0);
	CU_ASSERT_EQUAL(importer_dir_add(d, "y", 1, &id, 0), 0);
	CU_ASSERT_EQUAL(importer_dir_add(d, "x", 1, &id, 0), 0);
	CU_ASSERT_EQUAL(importer_dir_finish(d, &id, NULL), EFS_EEXISTS);
	CU_ASSERT_EQUAL(importer_dir_add(d, "z", 1, &id, 0), EFS_EINVAL);
	CU_ASSERT_EQUAL(importer_dir_finish(d, &id, NULL), EFS_EINVAL);
	importer_dir_free(d);
	o.hamt_fanout = 100;
	CU_ASSERT_EQUAL(importer_dir_new(&d, &o, NULL, &blockio_null_sink),
			EFS_EINVAL);
}

/* With sharding off, a basic directory over 2 MiB is refused. */
static void test_importer_dir__too_big(void)
{
	struct importer_opts o;
	struct importer_dir *d;
	struct cid id;
	char name[32];

	importer_opts_profile(&o, NULL);
	o.hamt_estimator = IMPORTER_HAMT_DISABLED;
	CU_ASSERT_EQUAL(cid_hash(&id, 1, CID_CODEC_RAW, MHASH_SHA2_256, "", 0),
			0);
	CU_ASSERT_EQUAL_FATAL(
	    importer_dir_new(&d, &o, NULL, &blockio_null_sink), 0);
	for (int i = 0; i < 50000; i++) {
		int n = snprintf(name, sizeof(name), "%08d", i);

		CU_ASSERT_EQUAL(importer_dir_add(d, name, (size_t)n, &id, 0),
				0);
	}
	CU_ASSERT_EQUAL(importer_dir_finish(d, &id, NULL), EFS_ETOOBIG);
	importer_dir_free(d);
}

/* ---- failures ---------------------------------------------------------- */

static int build_small(void *payload)
{
	const uint64_t *threshold = payload;
	struct importer_opts o;
	struct memstore *ms;
	struct blockio_sink sink;
	struct importer_dir *d = NULL;
	struct importer_meta meta = {true, 0700, true, 5, 6};
	struct cid file, id;
	int error;

	importer_opts_profile(&o, NULL);
	o.hamt_threshold = *threshold;
	o.hamt_fanout = 8;
	if ((error = cid_hash(&file, 1, CID_CODEC_RAW, MHASH_SHA2_256, "x",
			      1)) < 0 ||
	    (error = memstore_new(&ms)) < 0)
		return error;
	sink = memstore_sink(ms);
	if ((error = importer_dir_new(&d, &o, &meta, &sink)) < 0)
		goto out;
	for (int i = 0; i < 40 && error == 0; i++) {
		char name[16];
		int n = snprintf(name, sizeof(name), "n%d", i);

		error = importer_dir_add(d, name, (size_t)n, &file, 1);
	}
	if (error == 0)
		error = importer_dir_finish(d, &id, NULL);
out:
	importer_dir_free(d);
	memstore_free(ms);
	return error;
}

static void test_importer_dir__alloc_failures(void)
{
	uint64_t basic = 262144, hamt = 10;

	CU_ASSERT(harness_alloc_loop(build_small, &basic) > 3);
	CU_ASSERT(harness_alloc_loop(build_small, &hamt) > 3);
}

static void test_importer_dir__sink_failures(void)
{
	static struct entry e[40];
	struct importer_opts o;
	struct failing_sink fs = {blockio_null_sink, -1, 0};
	struct blockio_sink sink = {failing_put, &fs};

	importer_opts_profile(&o, NULL);
	make_entries(e, 40, &o);
	for (int hamt = 0; hamt < 2; hamt++) {
		struct importer_dir *d;
		struct cid id;
		long total = 0;

		o.hamt_threshold = hamt ? 100 : 262144;
		o.hamt_fanout = 8;
		for (long n = -1; n < 0 || n < total; n++) {
			fs.fail_at = n;
			fs.puts = 0;
			CU_ASSERT_EQUAL_FATAL(
			    importer_dir_new(&d, &o, NULL, &sink), 0);
			for (size_t i = 0; i < 40; i++)
				CU_ASSERT_EQUAL(
				    importer_dir_add(d, e[i].name,
						     strlen(e[i].name),
						     &e[i].cid, e[i].tsize),
				    0);
			CU_ASSERT_EQUAL(importer_dir_finish(d, &id, NULL),
					n < 0 ? 0 : EFS_EIO);
			importer_dir_free(d);
			if (n < 0)
				total = fs.puts;
		}
		CU_ASSERT(hamt ? total > 1 : total == 1);
	}
}

static CU_TestInfo importer_dir_tests[] = {
    {"empty", test_importer_dir__empty},
    {"order", test_importer_dir__order},
    {"threshold", test_importer_dir__threshold},
    {"metadata", test_importer_dir__metadata},
    {"names", test_importer_dir__names},
    {"too_big", test_importer_dir__too_big},
    {"alloc_failures", test_importer_dir__alloc_failures},
    {"sink_failures", test_importer_dir__sink_failures},
    CU_TEST_INFO_NULL,
};

HARNESS_MAIN({.pName = "importer_dir", .pTests = importer_dir_tests})
