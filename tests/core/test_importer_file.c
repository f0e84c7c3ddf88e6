/*
 * test_importer_file.c - the streaming file builder, in both layouts: any
 * split of the bytes into writes gives the same DAG; reusing leaves
 * (add_leaf) gives the same DAG as a full import; the DAG obeys
 * ipfs-formats.md §3-§4 (filesize, blocksizes, Tsize; balanced: all
 * leaves at one depth; trickle: the shape boxo's recursive trickledag.go
 * builds, Type Raw dag-pb leaves) and reads back through the DAG reader;
 * memory does not grow with the file; allocation and sink failures come
 * back as errors.
 */
#include "core/importer_file.h"

#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/dagpb.h"
#include "core/dagreader.h"
#include "core/error.h"
#include "core/importer_i.h"
#include "core/memstore.h"
#include "core/unixfs.h"
#include "tests/core/importer_test.h"
#include "tests/harness.h"

struct leaf_ref {
	struct cid cid;
	uint64_t size;
};

/* What check_dag learns about a file DAG. */
struct dag_info {
	bool trickle;	/* the layout checked */
	int leaf_depth; /* -1 until the first leaf */
	struct leaf_ref leaves[4096];
	size_t nleaves;
	struct buf shape; /* "(" links ")" per node, "L" per leaf */
};

/*
 * Check the node id (and below) against §3: returns the content size
 * under it in *size and its cumulative size in *tsize.
 */
static void check_node(struct memstore *ms, const struct cid *id, int depth,
		       struct dag_info *di, uint64_t *size, uint64_t *tsize)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct dagpb_node node;
	struct unixfs_data ud;
	uint64_t sum = 0, tsum = 0;
	bool leaf = true;

	CU_ASSERT_EQUAL_FATAL(memstore_get(ms, id, &b), 0);
	*tsize = b.len;
	*size = b.len;
	if (id->codec == CID_CODEC_RAW)
		goto leaf;
	CU_ASSERT_EQUAL_FATAL(dagpb_decode(&node, b.ptr, b.len), 0);
	CU_ASSERT_EQUAL_FATAL(unixfs_decode(&ud, node.data, node.data_len), 0);
	/* kubo's trickle leaves are Type Raw, every other node Type File
	 * (a trickle root without links is an empty file, not a leaf). */
	leaf = di->trickle ? ud.type == UNIXFS_RAW : node.nlinks == 0;
	CU_ASSERT_EQUAL(ud.type,
			leaf && di->trickle ? UNIXFS_RAW : UNIXFS_FILE);
	CU_ASSERT(!leaf || node.nlinks == 0);
	CU_ASSERT(ud.has_filesize);
	CU_ASSERT_EQUAL(ud.nblocksizes, node.nlinks);
	if (!leaf)
		buf_addch(&di->shape, '(');
	for (size_t i = 0; i < node.nlinks; i++) {
		uint64_t s, t;

		CU_ASSERT(node.links[i].has_name && node.links[i].has_tsize);
		CU_ASSERT_EQUAL(node.links[i].name_len, 0);
		check_node(ms, &node.links[i].cid, depth + 1, di, &s, &t);
		CU_ASSERT_EQUAL(ud.blocksizes[i], s);
		CU_ASSERT_EQUAL(node.links[i].tsize, t);
		sum += s;
		tsum += t;
	}
	*size = sum + ud.data_len;
	CU_ASSERT_EQUAL(ud.filesize, *size);
	*tsize += tsum;
	/* An empty chunk leaves Data out (§11.5). */
	CU_ASSERT(!ud.has_data || ud.data_len > 0);
	unixfs_data_release(&ud);
	dagpb_node_release(&node);
	if (!leaf) {
		buf_addch(&di->shape, ')');
		goto out;
	}
leaf:
	buf_addch(&di->shape, 'L');
	if (di->leaf_depth < 0)
		di->leaf_depth = depth;
	CU_ASSERT(di->trickle || depth == di->leaf_depth);
	if (di->nleaves < sizeof(di->leaves) / sizeof(di->leaves[0])) {
		di->leaves[di->nleaves].cid = *id;
		di->leaves[di->nleaves++].size = *size;
	}
out:
	buf_release(&b);
}

/*
 * The trickle shape of a file of *left leaves, written straight from
 * boxo's recursive fillTrickleRec (not the way importer_trickle.c builds
 * it): up to w leaves, then 4 sub-trees of each depth below max_depth.
 */
static void trickle_model(struct buf *out, uint64_t *left, unsigned w,
			  unsigned max_depth)
{
	buf_addch(out, '(');
	for (unsigned i = 0; i < w && *left; i++, (*left)--)
		buf_addch(out, 'L');
	for (unsigned d = 1; d < max_depth && *left; d++)
		for (int r = 0; r < 4 && *left; r++)
			trickle_model(out, left, w, d);
	buf_addch(out, ')');
}

static void check_dag(struct memstore *ms, const struct cid *root,
		      uint64_t size, uint64_t tsize,
		      const struct importer_opts *o, struct dag_info *di)
{
	uint64_t s, t;

	di->trickle = o->layout == IMPORTER_LAYOUT_TRICKLE;
	di->leaf_depth = -1;
	di->nleaves = 0;
	buf_init(&di->shape, BUF_NOCAP);
	check_node(ms, root, 0, di, &s, &t);
	CU_ASSERT_EQUAL(s, size);
	CU_ASSERT_EQUAL(t, tsize);
	if (di->trickle) {
		struct buf want = BUF_INIT(BUF_NOCAP);
		uint64_t left = (size + o->chunk_size - 1) / o->chunk_size;

		trickle_model(&want, &left, o->max_links, UINT_MAX);
		CU_ASSERT_EQUAL(di->shape.len, want.len);
		CU_ASSERT(di->shape.len == want.len &&
			  !memcmp(di->shape.ptr, want.ptr, want.len));
		buf_release(&want);
	}
	buf_release(&di->shape);
}

/* Read the file back through the DAG reader: whole, and a few ranges. */
static void check_read(struct memstore *ms, const struct cid *root,
		       const uint8_t *p, size_t len)
{
	struct blockio_source src = memstore_source(ms);
	uint8_t *got = malloc(len + 1);
	size_t n = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_EQUAL(dagreader_read(got, &n, &src, root, 0, len + 1), 0);
	CU_ASSERT_EQUAL(n, len);
	CU_ASSERT(!memcmp(got, p, len));
	for (size_t off = 1; off < len; off = off * 3 + 7) {
		size_t want = len - off < 777 ? len - off : 777;

		CU_ASSERT_EQUAL(dagreader_read(got, &n, &src, root, off, 777),
				0);
		CU_ASSERT_EQUAL(n, want);
		CU_ASSERT(!memcmp(got, p + off, want));
	}
	free(got);
}

static void set_opts(struct importer_opts *o, const char *flags)
{
	char line[256], *w[32];
	int n;

	snprintf(line, sizeof(line), "%s", flags);
	n = split_words(w, 32, line);
	CU_ASSERT_EQUAL_FATAL(flags_to_opts(o, w, n), 0);
}

static const char *const configs[] = {
    "--chunk 1000 --links 3",
    "--profile unixfs-v0-2015 --chunk 777 --links 4",
    "--chunk 512 --links 2 --hash blake2b-256 --no-raw-leaves",
    "--profile unixfs-v0-2015 --chunk 100 --links 174 --raw-leaves",
    "--layout trickle --chunk 100 --links 3",
    "--profile unixfs-v0-2015 --layout trickle --chunk 64 --links 2",
    ("--layout trickle --chunk 512 --links 4 --hash blake2b-256 "
     "--no-raw-leaves"),
};

/* Import p[0..len) writing it in pieces of the sizes pieces() gives. */
static void import_pieces(struct cid *out, uint64_t *tsize, struct memstore *ms,
			  const struct importer_opts *o, const uint8_t *p,
			  size_t len, uint64_t seed)
{
	struct blockio_sink sink = memstore_sink(ms);
	struct importer_file *f;
	struct gen g;
	uint64_t fsize;

	gen_init(&g, seed);
	CU_ASSERT_EQUAL_FATAL(importer_file_new(&f, o, NULL, &sink), 0);
	for (size_t off = 0; off < len;) {
		uint8_t r[2];
		size_t n;

		gen_bytes(&g, r, 2);
		/* 0 .. 3 chunks, often tiny, sometimes exactly a chunk */
		n = seed == 0
			? len
			: (size_t)(r[0] | r[1] << 8) % (3 * o->chunk_size + 1);
		if (r[0] % 5 == 0)
			n = o->chunk_size;
		if (n > len - off)
			n = len - off;
		CU_ASSERT_EQUAL(importer_file_write(f, p + off, n), 0);
		off += n;
	}
	CU_ASSERT_EQUAL(importer_file_size(f), len);
	CU_ASSERT_EQUAL(importer_file_finish(f, out, &fsize, tsize), 0);
	CU_ASSERT_EQUAL(fsize, len);
	importer_file_free(f);
}

static void test_importer_file__pieces(void)
{
	static const size_t sizes[] = {0,    1,	    99,	   100,	 101,
				       512,  1000,  1001,  3000, 9000,
				       9001, 50000, 123457};
	static struct dag_info di;

	for (size_t c = 0; c < sizeof(configs) / sizeof(configs[0]); c++) {
		struct importer_opts o;

		set_opts(&o, configs[c]);
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			uint8_t *p = gen_alloc(sizes[s], s + 1);
			struct memstore *ms;
			struct cid want, got;
			uint64_t tw, tg;

			CU_ASSERT_EQUAL_FATAL(memstore_new(&ms), 0);
			import_pieces(&want, &tw, ms, &o, p, sizes[s], 0);
			check_dag(ms, &want, sizes[s], tw, &o, &di);
			check_read(ms, &want, p, sizes[s]);
			for (uint64_t seed = 1; seed <= 4; seed++) {
				import_pieces(&got, &tg, ms, &o, p, sizes[s],
					      seed);
				CU_ASSERT(cid_equal(&got, &want));
				CU_ASSERT_EQUAL(tg, tw);
			}
			memstore_free(ms);
			free(p);
		}
	}
}

/* ipfs-formats.md §3: a 1 MiB + 1 file with raw leaves has a 104-byte
 * root whose Tsize is 104 + 1048576 + 1. */
static void test_importer_file__spec_tsize(void)
{
	struct importer_opts o;
	struct memstore *ms;
	struct blockio_sink sink;
	struct importer_file *f;
	uint8_t *p = gen_alloc(1048577, 42), *block;
	struct cid root;
	uint64_t tsize;
	size_t len;

	importer_opts_profile(&o, NULL);
	CU_ASSERT_EQUAL_FATAL(memstore_new(&ms), 0);
	sink = memstore_sink(ms);
	CU_ASSERT_EQUAL_FATAL(importer_file_new(&f, &o, NULL, &sink), 0);
	CU_ASSERT_EQUAL(importer_file_write(f, p, 1048577), 0);
	CU_ASSERT_EQUAL(importer_file_finish(f, &root, NULL, &tsize), 0);
	CU_ASSERT_EQUAL(tsize, 1048681);
	CU_ASSERT_EQUAL(memstore_peek(&block, &len, ms, &root), 0);
	CU_ASSERT_EQUAL(len, 104);
	/* ... and its Data: 08 02 18 81 80 40 20 80 80 40 20 01. */
	CU_ASSERT(!memcmp(block + len - 14,
			  "\x0a\x0c\x08\x02\x18\x81\x80\x40\x20\x80\x80\x40"
			  "\x20\x01",
			  14));
	importer_file_free(f);
	memstore_free(ms);
	free(p);
}

static void test_importer_file__leaf_block_size(void)
{
	static const size_t sizes[] = {0,     1,     2,	    100,    116,
				       117,   118,   127,   128,    16370,
				       16383, 16384, 65535, 262144, 2096896};
	struct importer_opts o;
	struct buf block = BUF_INIT(DAGPB_BLOCK_MAX);
	uint8_t *p = gen_alloc(2096896, 1);

	importer_opts_profile(&o, "unixfs-v0-2015");
	/* Balanced leaves are Type File, trickle ones Type Raw. */
	for (int trickle = 0; trickle < 2; trickle++) {
		o.layout = trickle ? IMPORTER_LAYOUT_TRICKLE
				   : IMPORTER_LAYOUT_BALANCED;
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			struct importer_leaf leaf;

			CU_ASSERT_EQUAL(
			    importer_leaf_make(&leaf, &block, p, sizes[i], &o),
			    0);
			CU_ASSERT_EQUAL(leaf.block_len,
					importer_leaf_block_size(sizes[i]));
			CU_ASSERT_EQUAL(leaf.tsize, leaf.block_len);
			CU_ASSERT_EQUAL(leaf.size, sizes[i]);
		}
	}
	buf_release(&block);
	free(p);
}

/* Import p[0..len) whole; the leaves go to di. */
static void import_whole(struct cid *out, struct memstore *ms,
			 const struct importer_opts *o, const uint8_t *p,
			 size_t len, struct dag_info *di)
{
	uint64_t tsize;

	import_pieces(out, &tsize, ms, o, p, len, 0);
	check_dag(ms, out, len, tsize, o, di);
}

/* Rebuild p[0..len) reusing old's leaves except chunk k (written). */
static void rebuild(struct cid *out, struct memstore *ms,
		    const struct importer_opts *o, const uint8_t *p, size_t len,
		    const struct dag_info *old, size_t k)
{
	struct blockio_sink sink = memstore_sink(ms);
	struct importer_file *f;
	size_t cs = o->chunk_size;

	CU_ASSERT_EQUAL_FATAL(importer_file_new(&f, o, NULL, &sink), 0);
	for (size_t i = 0; i < old->nleaves; i++) {
		size_t n = len - i * cs < cs ? len - i * cs : cs;
		int error;

		if (i == k)
			error = importer_file_write(f, p + i * cs, n);
		else
			error = importer_file_add_leaf(f, &old->leaves[i].cid,
						       old->leaves[i].size);
		CU_ASSERT_EQUAL(error, 0);
	}
	CU_ASSERT_EQUAL(importer_file_size(f), len);
	CU_ASSERT_EQUAL(importer_file_finish(f, out, NULL, NULL), 0);
	importer_file_free(f);
}

/*
 * Rebuild a file after chunk k changed: reuse every other leaf with
 * add_leaf, write chunk k's new bytes.  Must equal a full import of the
 * new bytes (and, with nothing changed, of the old ones).
 */
static void test_importer_file__add_leaf_reuse(void)
{
	static struct dag_info old, neu;
	static const size_t sizes[] = {2000, 2001, 9999, 30000};

	for (size_t c = 0; c < sizeof(configs) / sizeof(configs[0]); c++) {
		struct importer_opts o;

		set_opts(&o, configs[c]);
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			size_t len = sizes[s], cs = o.chunk_size;
			size_t nchunks = (len + cs - 1) / cs;
			uint8_t *p = gen_alloc(len, s + 10);
			struct memstore *ms;
			struct cid want, orig, got;

			CU_ASSERT_EQUAL_FATAL(memstore_new(&ms), 0);
			import_whole(&orig, ms, &o, p, len, &old);
			CU_ASSERT_EQUAL_FATAL(old.nleaves, nchunks);
			for (size_t k = 0; k <= nchunks; k++) {
				size_t at = k < nchunks ? k * cs : 0;

				if (k < nchunks)
					p[at] ^= 0x5a;
				import_whole(&want, ms, &o, p, len, &neu);
				CU_ASSERT(k < nchunks ||
					  cid_equal(&want, &orig));
				rebuild(&got, ms, &o, p, len, &old, k);
				CU_ASSERT(cid_equal(&got, &want));
				if (k < nchunks)
					p[at] ^= 0x5a;
			}
			memstore_free(ms);
			free(p);
		}
	}
}

static void test_importer_file__add_leaf_edges(void)
{
	static struct dag_info di;
	struct importer_opts o;
	struct importer_meta meta = {.has_mode = true, .mode = 0600};
	struct memstore *ms;
	struct blockio_sink sink;
	struct importer_file *f;
	struct cid one, empty, got, cbor;
	uint8_t *p = gen_alloc(5000, 77);

	set_opts(&o, "--chunk 1000 --links 3");
	CU_ASSERT_EQUAL_FATAL(memstore_new(&ms), 0);
	sink = memstore_sink(ms);
	import_whole(&one, ms, &o, p, 1000, &di);
	CU_ASSERT_EQUAL(one.codec, CID_CODEC_RAW);
	import_whole(&empty, ms, &o, p, 0, &di);

	/* A single reused leaf is the file; with metadata it cannot be. */
	CU_ASSERT_EQUAL_FATAL(importer_file_new(&f, &o, NULL, &sink), 0);
	CU_ASSERT_EQUAL(importer_file_add_leaf(f, &one, 1000), 0);
	CU_ASSERT_EQUAL(importer_file_finish(f, &got, NULL, NULL), 0);
	CU_ASSERT(cid_equal(&got, &one));
	importer_file_free(f);
	CU_ASSERT_EQUAL_FATAL(importer_file_new(&f, &o, &meta, &sink), 0);
	CU_ASSERT_EQUAL(importer_file_add_leaf(f, &one, 1000), 0);
	CU_ASSERT_EQUAL(importer_file_finish(f, &got, NULL, NULL), EFS_EINVAL);
	importer_file_free(f);

	/* Zero-size leaves add nothing. */
	CU_ASSERT_EQUAL_FATAL(importer_file_new(&f, &o, NULL, &sink), 0);
	CU_ASSERT_EQUAL(importer_file_add_leaf(f, &empty, 0), 0);
	CU_ASSERT_EQUAL(importer_file_finish(f, &got, NULL, NULL), 0);
	CU_ASSERT(cid_equal(&got, &empty));
	importer_file_free(f);

	/* Not on a chunk boundary; then the error sticks. */
	CU_ASSERT_EQUAL_FATAL(importer_file_new(&f, &o, NULL, &sink), 0);
	CU_ASSERT_EQUAL(importer_file_write(f, p, 10), 0);
	CU_ASSERT_EQUAL(importer_file_add_leaf(f, &one, 1000), EFS_EINVAL);
	CU_ASSERT_EQUAL(importer_file_write(f, p, 10), EFS_EINVAL);
	CU_ASSERT_EQUAL(importer_file_finish(f, &got, NULL, NULL), EFS_EINVAL);
	importer_file_free(f);

	/* Nothing after a short leaf; no leaf over the chunk size; no
	 * codec but raw and dag-pb. */
	CU_ASSERT_EQUAL_FATAL(importer_file_new(&f, &o, NULL, &sink), 0);
	CU_ASSERT_EQUAL(importer_file_add_leaf(f, &one, 999), 0);
	CU_ASSERT_EQUAL(importer_file_add_leaf(f, &one, 1000), EFS_EINVAL);
	importer_file_free(f);
	CU_ASSERT_EQUAL_FATAL(importer_file_new(&f, &o, NULL, &sink), 0);
	CU_ASSERT_EQUAL(importer_file_add_leaf(f, &one, 999), 0);
	CU_ASSERT_EQUAL(importer_file_write(f, p, 1), EFS_EINVAL);
	importer_file_free(f);
	CU_ASSERT_EQUAL_FATAL(importer_file_new(&f, &o, NULL, &sink), 0);
	CU_ASSERT_EQUAL(importer_file_add_leaf(f, &one, 1001), EFS_EINVAL);
	importer_file_free(f);
	cbor = one;
	cbor.codec = CID_CODEC_DAG_CBOR;
	CU_ASSERT_EQUAL_FATAL(importer_file_new(&f, &o, NULL, &sink), 0);
	CU_ASSERT_EQUAL(importer_file_add_leaf(f, &cbor, 1000), EFS_EINVAL);
	importer_file_free(f);

	/* A full chunk written, then leaves: the chunk is not the file. */
	CU_ASSERT_EQUAL_FATAL(importer_file_new(&f, &o, NULL, &sink), 0);
	CU_ASSERT_EQUAL(importer_file_write(f, p, 1000), 0);
	CU_ASSERT_EQUAL(importer_file_add_leaf(f, &one, 1000), 0);
	CU_ASSERT_EQUAL(importer_file_finish(f, &got, NULL, NULL), 0);
	CU_ASSERT_EQUAL(importer_file_finish(f, &got, NULL, NULL), EFS_EINVAL);
	importer_file_free(f);
	memcpy(p + 1000, p, 1000);
	import_whole(&one, ms, &o, p, 2000, &di);
	CU_ASSERT(cid_equal(&got, &one));

	o.max_links = 1;
	CU_ASSERT_EQUAL(importer_file_new(&f, &o, NULL, &sink), EFS_EINVAL);
	meta.has_mtime = true;
	meta.mtime_nsec = 1000000000;
	o.max_links = 3;
	CU_ASSERT_EQUAL(importer_file_new(&f, &o, &meta, &sink), EFS_EINVAL);
	memstore_free(ms);
	free(p);
}

static void expect_block(struct memstore *ms, const struct cid *id,
			 const char *want, size_t want_len)
{
	uint8_t *block;
	size_t len;

	CU_ASSERT_EQUAL_FATAL(memstore_peek(&block, &len, ms, id), 0);
	CU_ASSERT_EQUAL(len, want_len);
	CU_ASSERT(len == want_len && !memcmp(block, want, len));
}

/* The UnixFS Data of the dag-pb block id (release with
 * unixfs_data_release). */
static void node_data(struct unixfs_data *out, struct dagpb_node *node,
		      struct memstore *ms, const struct cid *id)
{
	uint8_t *block;
	size_t len;

	CU_ASSERT_EQUAL_FATAL(memstore_peek(&block, &len, ms, id), 0);
	CU_ASSERT_EQUAL_FATAL(dagpb_decode(node, block, len), 0);
	CU_ASSERT_EQUAL_FATAL(unixfs_decode(out, node->data, node->data_len),
			      0);
}

/* Build a file from one reused leaf (with meta, or NULL). */
static void one_leaf(struct cid *out, struct memstore *ms,
		     const struct importer_opts *o,
		     const struct importer_meta *meta, const struct cid *leaf,
		     uint64_t size)
{
	struct blockio_sink sink = memstore_sink(ms);
	struct importer_file *f;

	CU_ASSERT_EQUAL_FATAL(importer_file_new(&f, o, meta, &sink), 0);
	CU_ASSERT_EQUAL(importer_file_add_leaf(f, leaf, size), 0);
	CU_ASSERT_EQUAL(importer_file_finish(f, out, NULL, NULL), 0);
	importer_file_free(f);
}

/*
 * Trickle edges (kubo's shape, boxo trickledag.go): an empty file is a
 * File root without links (`0a 04 08 02 18 00`, even with raw leaves);
 * a one-chunk file is a root linking its Type Raw leaf, also when the
 * leaf is reused, with or without metadata; metadata goes on every File
 * node and never on a leaf.
 */
static void test_importer_file__trickle_edges(void)
{
	static struct dag_info di;
	static const char empty[] = "\x0a\x04\x08\x02\x18\x00";
	struct importer_opts o;
	struct importer_meta meta = {.has_mode = true, .mode = 0600};
	struct memstore *ms;
	struct blockio_sink sink;
	struct importer_file *f;
	struct unixfs_data ud;
	struct dagpb_node node;
	struct cid root, got, leaf, sub;
	uint8_t *p = gen_alloc(5000, 78);
	char s[CID_STR_MAX];
	char want[] = {0x0a, 0x07, 0x08, 0x00, 0x12, 0x01, 0, 0x18, 0x01};

	CU_ASSERT_EQUAL_FATAL(memstore_new(&ms), 0);
	sink = memstore_sink(ms);
	set_opts(&o, "--layout trickle --chunk 100 --links 3");
	import_whole(&root, ms, &o, p, 0, &di);
	CU_ASSERT_STRING_EQUAL(
	    cid_tostr(s, &root),
	    "bafybeif7ztnhq65lumvvtr4ekcwd2ifwgm3awq4zfr3srh462rwyinlb4y");
	expect_block(ms, &root, empty, 6);
	set_opts(&o, "--profile unixfs-v0-2015 --layout trickle --chunk 100 "
		     "--links 3");
	import_whole(&root, ms, &o, p, 0, &di);
	CU_ASSERT_STRING_EQUAL(
	    cid_tostr(s, &root),
	    "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH");
	CU_ASSERT_EQUAL(di.nleaves, 0);

	/* One byte: root -> leaf 0a 07 08 00 12 01 <byte> 18 01. */
	import_whole(&root, ms, &o, p, 1, &di);
	CU_ASSERT_EQUAL_FATAL(di.nleaves, 1);
	leaf = di.leaves[0].cid;
	want[6] = (char)p[0];
	expect_block(ms, &leaf, want, 9);
	one_leaf(&got, ms, &o, NULL, &leaf, 1);
	CU_ASSERT(cid_equal(&got, &root));

	/* With metadata: the same root shape, the mode on the root only. */
	CU_ASSERT_EQUAL_FATAL(importer_file_new(&f, &o, &meta, &sink), 0);
	CU_ASSERT_EQUAL(importer_file_write(f, p, 1), 0);
	CU_ASSERT_EQUAL(importer_file_finish(f, &root, NULL, NULL), 0);
	importer_file_free(f);
	one_leaf(&got, ms, &o, &meta, &leaf, 1);
	CU_ASSERT(cid_equal(&got, &root));
	node_data(&ud, &node, ms, &root);
	CU_ASSERT(ud.has_mode && ud.mode == 0600);
	CU_ASSERT_EQUAL_FATAL(node.nlinks, 1);
	CU_ASSERT(cid_equal(&node.links[0].cid, &leaf));
	unixfs_data_release(&ud);
	dagpb_node_release(&node);

	/* 50 chunks: the mode on the root and a sub-tree, not on leaves. */
	CU_ASSERT_EQUAL_FATAL(importer_file_new(&f, &o, &meta, &sink), 0);
	CU_ASSERT_EQUAL(importer_file_write(f, p, 5000), 0);
	CU_ASSERT_EQUAL(importer_file_finish(f, &root, NULL, NULL), 0);
	importer_file_free(f);
	node_data(&ud, &node, ms, &root);
	CU_ASSERT(ud.has_mode && ud.mode == 0600);
	CU_ASSERT_EQUAL_FATAL(node.nlinks, 3 + 4 + 3);
	leaf = node.links[0].cid;
	sub = node.links[node.nlinks - 1].cid;
	unixfs_data_release(&ud);
	dagpb_node_release(&node);
	node_data(&ud, &node, ms, &sub);
	CU_ASSERT(ud.type == UNIXFS_FILE && ud.has_mode && ud.mode == 0600);
	unixfs_data_release(&ud);
	dagpb_node_release(&node);
	node_data(&ud, &node, ms, &leaf);
	CU_ASSERT(ud.type == UNIXFS_RAW && !ud.has_mode);
	unixfs_data_release(&ud);
	dagpb_node_release(&node);
	memstore_free(ms);
	free(p);
}

/* Heap bytes in use, or 0 when the allocator does not say (ASan). */
static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

/*
 * 64 MiB through a deep tree (1 KiB chunks, 4 links: 8 balanced levels,
 * or 7 trickle depths): after the first MiB at most a few dozen more
 * allocations happen (a level's or frame's arrays when the tree grows
 * deeper), and the heap stays within a few hundred KiB of where it
 * started.
 */
static void check_bounded_memory(const char *flags)
{
	struct importer_opts o;
	struct importer_file *f;
	uint8_t *p = gen_alloc(1 << 20, 5);
	size_t base, peak = 0;
	struct cid id;

	set_opts(&o, flags);
	base = heap_in_use();
	CU_ASSERT_EQUAL_FATAL(
	    importer_file_new(&f, &o, NULL, &blockio_null_sink), 0);
	CU_ASSERT_EQUAL(importer_file_write(f, p, 1 << 20), 0);
	efs_alloc_fail_at(40);
	for (int i = 1; i < 64; i++) {
		size_t now;

		p[i] ^= 1;
		CU_ASSERT_EQUAL(importer_file_write(f, p, 1 << 20), 0);
		now = heap_in_use();
		if (now > peak)
			peak = now;
	}
	CU_ASSERT_EQUAL(importer_file_finish(f, &id, NULL, NULL), 0);
	CU_ASSERT(!efs_alloc_fault_fired());
	efs_alloc_fail_at(-1);
	if (base)
		CU_ASSERT(peak - base < 512 * 1024);
	importer_file_free(f);
	free(p);
}

static void test_importer_file__bounded_memory(void)
{
	check_bounded_memory("--chunk 1024 --links 4");
	check_bounded_memory("--chunk 1024 --links 4 --layout trickle");
	check_bounded_memory("--chunk 1024 --links 4 --layout trickle "
			     "--no-raw-leaves");
}

/* ---- failures ---------------------------------------------------------- */

struct alloc_case {
	const char *flags;
	bool reuse; /* also add_leaf */
};

static int import_small(void *payload)
{
	const struct alloc_case *ac = payload;
	uint8_t p[2000];
	struct importer_opts o;
	struct memstore *ms;
	struct blockio_sink sink;
	struct importer_file *f = NULL;
	struct cid id, leaf;
	int error;

	for (int i = 0; i < 2000; i++)
		p[i] = (uint8_t)(i * 7 + i / 13);
	set_opts(&o, ac->flags);
	if ((error = memstore_new(&ms)) < 0)
		return error;
	sink = memstore_sink(ms);
	if ((error = importer_file_new(&f, &o, NULL, &sink)) < 0)
		goto out;
	for (size_t off = 0; off < 1500 && error == 0; off += 150)
		error = importer_file_write(f, p + off, 150);
	if (error == 0 && ac->reuse) {
		error = cid_hash(&leaf, 1, CID_CODEC_RAW, MHASH_SHA2_256,
				 p + 1500, o.chunk_size);
		if (error == 0)
			error = importer_file_add_leaf(f, &leaf, o.chunk_size);
	}
	if (error == 0)
		error = importer_file_finish(f, &id, NULL, NULL);
out:
	importer_file_free(f);
	memstore_free(ms);
	return error;
}

static void test_importer_file__alloc_failures(void)
{
	static const struct alloc_case cases[] = {
	    {"--chunk 64 --links 3", false},
	    {"--chunk 100 --links 2 --no-raw-leaves", false},
	    {"--chunk 50 --links 3", true},
	    {"--layout trickle --chunk 64 --links 3", false},
	    {"--layout trickle --chunk 50 --links 2 --no-raw-leaves", true},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CU_ASSERT(harness_alloc_loop(import_small, (void *)&cases[i]) >
			  10);
}

/* A sink failing at every put in turn; puts = the blocks expected. */
static void check_sink_failures(const char *flags, long puts)
{
	uint8_t *p = gen_alloc(5000, 8);
	struct importer_opts o;
	struct failing_sink fs = {blockio_null_sink, -1, 0};
	struct blockio_sink sink = {failing_put, &fs};
	struct importer_file *f;
	struct cid id;
	long total;

	set_opts(&o, flags);
	CU_ASSERT_EQUAL_FATAL(importer_file_new(&f, &o, NULL, &sink), 0);
	CU_ASSERT_EQUAL(importer_file_write(f, p, 5000), 0);
	CU_ASSERT_EQUAL(importer_file_finish(f, &id, NULL, NULL), 0);
	importer_file_free(f);
	total = fs.puts;
	CU_ASSERT_EQUAL(total, puts);
	for (long n = 0; n < total; n++) {
		int error;

		fs.fail_at = n;
		fs.puts = 0;
		CU_ASSERT_EQUAL_FATAL(importer_file_new(&f, &o, NULL, &sink),
				      0);
		error = importer_file_write(f, p, 5000);
		if (error == 0)
			error = importer_file_finish(f, &id, NULL, NULL);
		CU_ASSERT_EQUAL(error, EFS_EIO);
		/* sticky */
		CU_ASSERT_EQUAL(importer_file_write(f, p, 1), EFS_EIO);
		CU_ASSERT_EQUAL(importer_file_finish(f, &id, NULL, NULL),
				EFS_EIO);
		importer_file_free(f);
	}
	free(p);
}

static void test_importer_file__sink_failures(void)
{
	/* 50 leaves; balanced: 17 + 6 + 2 + 1 nodes above them. */
	check_sink_failures("--chunk 100 --links 3 --no-raw-leaves",
			    50 + 17 + 6 + 2 + 1);
	/* trickle: the root (15 leaves under it directly or in its 4
	 * depth-1 sub-trees), two full depth-2 sub-trees of 1 + 4 nodes,
	 * and a third of 5 leaves: 3 + a depth-1 sub-tree of 2. */
	check_sink_failures("--layout trickle --chunk 100 --links 3 "
			    "--no-raw-leaves",
			    50 + 1 + 4 + 5 + 5 + 2);
}

static CU_TestInfo importer_file_tests[] = {
    {"pieces", test_importer_file__pieces},
    {"spec_tsize", test_importer_file__spec_tsize},
    {"leaf_block_size", test_importer_file__leaf_block_size},
    {"add_leaf_reuse", test_importer_file__add_leaf_reuse},
    {"add_leaf_edges", test_importer_file__add_leaf_edges},
    {"trickle_edges", test_importer_file__trickle_edges},
    {"bounded_memory", test_importer_file__bounded_memory},
    {"alloc_failures", test_importer_file__alloc_failures},
    {"sink_failures", test_importer_file__sink_failures},
    CU_TEST_INFO_NULL,
};

HARNESS_MAIN({.pName = "importer_file", .pTests = importer_file_tests})
