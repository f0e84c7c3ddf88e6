/*
 * test_dagreader.c - reading UnixFS DAGs: file DAGs built here by hand
 * (balanced trees of raw or dag-pb leaves, nodes with their own bytes and
 * children, identity CIDs), checked range by range against the source
 * bytes and for the number of blocks a read fetches; corrupt file DAGs;
 * directories (basic and HAMT), path resolution and symlinks; CARs made
 * by the JS oracle (tests/data/dagreader/, see its README); DAGs made by
 * our importer; source errors and allocation failure.
 */
#include "core/dagreader.h"

#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/car.h"
#include "core/dagpb.h"
#include "core/error.h"
#include "core/hamt.h"
#include "core/importer.h"
#include "core/memstore.h"
#include "core/unixfs.h"
#include "tests/harness.h"

/* ---- building DAGs by hand -------------------------------------------- */

/* A source over a memstore that counts gets and can fail them. */
struct dag {
	struct memstore *ms;
	struct blockio_source src;    /* counting view */
	struct blockio_source inner;  /* the memstore's own */
	size_t gets;
	int fail_with;                /* every get fails with this, or 0 */
	const struct cid *fail_once;  /* this CID fails once with EEVICTED */
};

static int dag_get(void *payload, const struct cid *id, struct buf *out)
{
	struct dag *d = payload;

	d->gets++;
	if (d->fail_with)
		return efs_error_set(d->fail_with, "injected");
	if (d->fail_once && cid_equal(d->fail_once, id)) {
		d->fail_once = NULL;
		return efs_error_set(EFS_EEVICTED, "injected eviction");
	}
	return blockio_get(&d->inner, id, out);
}

static void dag_init(struct dag *d)
{
	memset(d, 0, sizeof(*d));
	CU_ASSERT_FATAL(memstore_new(&d->ms) == 0);
	d->inner = memstore_source(d->ms);
	d->src.get = dag_get;
	d->src.payload = d;
}

static void dag_release(struct dag *d)
{
	memstore_free(d->ms);
}

static struct cid put_block(struct dag *d, int version, uint64_t codec,
			    const uint8_t *p, size_t len)
{
	struct cid id;

	CU_ASSERT_FATAL(cid_hash(&id, version, codec, MHASH_SHA2_256, p,
				 len) == 0);
	CU_ASSERT_FATAL(memstore_put(d->ms, &id, p, len) == 0);
	return id;
}

/* Encode and store a dag-pb node with the given UnixFS data. */
static struct cid put_node(struct dag *d, int version,
			   const struct unixfs_data *fsd,
			   struct dagpb_link *links, size_t n)
{
	struct buf data = BUF_INIT(BUF_NOCAP);
	struct buf block = BUF_INIT(BUF_NOCAP);
	struct dagpb_node node = { links, n, NULL, 0, true };
	struct cid id;

	CU_ASSERT_FATAL(unixfs_encode(&data, fsd) == 0);
	node.data = data.ptr;
	node.data_len = data.len;
	CU_ASSERT_FATAL(dagpb_encode(&block, &node) == 0);
	id = put_block(d, version, CID_CODEC_DAG_PB, block.ptr, block.len);
	buf_release(&data);
	buf_release(&block);
	return id;
}

/* A File node with own bytes (may be NULL) and children of the given
 * content sizes; filesize is their sum unless forced. */
static struct cid put_file(struct dag *d, const uint8_t *own, size_t own_len,
			   const struct cid *kids, const uint64_t *sizes,
			   size_t n, const uint64_t *force_filesize)
{
	struct unixfs_data fsd = { .type = UNIXFS_FILE };
	struct dagpb_link *links = calloc(n ? n : 1, sizeof(*links));
	uint64_t total = own_len;
	struct cid id;

	CU_ASSERT_FATAL(links != NULL);
	for (size_t i = 0; i < n; i++) {
		links[i].cid = kids[i];
		links[i].name = (const uint8_t *)"";
		links[i].has_name = true;
		links[i].tsize = sizes[i];
		links[i].has_tsize = true;
		total += sizes[i];
	}
	fsd.data = own;
	fsd.data_len = own_len;
	fsd.has_data = own != NULL;
	fsd.filesize = force_filesize ? *force_filesize : total;
	fsd.has_filesize = true;
	fsd.blocksizes = (uint64_t *)sizes;
	fsd.nblocksizes = n;
	id = put_node(d, 0, &fsd, links, n);
	free(links);
	return id;
}

/*
 * A balanced file over data[0..len): chunk bytes per leaf (raw or dag-pb
 * leaves), width links per node, built bottom-up as the importers do.
 * Returns the root; *blocks counts the blocks made.
 */
static struct cid build_file(struct dag *d, const uint8_t *data, size_t len,
			     size_t chunk, size_t width, bool raw,
			     size_t *blocks)
{
	size_t n = len ? (len + chunk - 1) / chunk : 1;
	struct cid *ids = calloc(n, sizeof(*ids));
	uint64_t *sizes = calloc(n, sizeof(*sizes));
	struct cid root;

	CU_ASSERT_FATAL(ids && sizes);
	*blocks = n;
	for (size_t i = 0; i < n; i++) {
		size_t off = i * chunk;
		size_t l = len - off < chunk ? len - off : chunk;

		sizes[i] = l;
		ids[i] = raw ? put_block(d, 1, CID_CODEC_RAW, data + off, l)
			     : put_file(d, data + off, l, NULL, NULL, 0, NULL);
	}
	while (n > 1) {
		size_t parents = (n + width - 1) / width;

		for (size_t p = 0; p < parents; p++) {
			size_t k = n - p * width < width ? n - p * width
							 : width;
			uint64_t sum = 0;

			for (size_t i = 0; i < k; i++)
				sum += sizes[p * width + i];
			ids[p] = put_file(d, NULL, 0, ids + p * width,
					  sizes + p * width, k, NULL);
			sizes[p] = sum;
		}
		*blocks += parents;
		n = parents;
	}
	root = ids[0];
	free(ids);
	free(sizes);
	return root;
}

static uint8_t *random_bytes(size_t len, uint64_t seed)
{
	uint8_t *p = malloc(len ? len : 1);

	CU_ASSERT_FATAL(p != NULL);
	harness_fill_random(p, len, seed);
	return p;
}

/* xorshift64* for offsets and lengths. */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

/* Read [off, off + len) through f and compare with want[0..size). */
static void expect_range(struct dagreader_file *f, const uint8_t *want,
			 uint64_t size, uint64_t off, size_t len)
{
	uint8_t *got = malloc(len ? len : 1);
	size_t n = 12345;
	size_t expect = off >= size ? 0 : (size - off < len ? size - off : len);

	CU_ASSERT_FATAL(got != NULL);
	CU_ASSERT_EQUAL_FATAL(dagreader_file_read(got, &n, f, off, len), 0);
	CU_ASSERT_EQUAL(n, expect);
	if (n == expect && expect)
		CU_ASSERT(!memcmp(got, want + off, expect));
	free(got);
}

/* Whole file, boundaries, EOF and random ranges, on one handle. */
static void check_file(struct dag *d, const struct cid *root,
		       const uint8_t *want, uint64_t size, size_t chunk)
{
	struct dagreader_file *f;
	uint64_t s = 0x9e3779b97f4a7c15ull ^ size;

	CU_ASSERT_EQUAL_FATAL(dagreader_file_open(&f, &d->src, root), 0);
	CU_ASSERT_EQUAL(dagreader_file_size(f), size);
	expect_range(f, want, size, 0, (size_t)size);
	expect_range(f, want, size, 0, 0);
	expect_range(f, want, size, size, 10);
	expect_range(f, want, size, size + 1000, 10);
	expect_range(f, want, size, size ? size - 1 : 0, 10);
	for (uint64_t b = chunk; b < size; b += chunk * 7) {
		expect_range(f, want, size, b - 1, 2);
		expect_range(f, want, size, b, chunk);
		expect_range(f, want, size, b - chunk / 2, chunk);
	}
	for (int i = 0; i < 300; i++) {
		uint64_t off = size ? next_rand(&s) % (size + 10) : 0;
		size_t len = (size_t)(next_rand(&s) % (3 * chunk + 2));

		expect_range(f, want, size, off, len);
	}
	dagreader_file_close(f);
}

/* ---- files ------------------------------------------------------------ */

static void test_dagreader__balanced(void)
{
	static const struct {
		size_t len, chunk, width;
	} shapes[] = {
		{ 0, 100, 4 },       { 1, 100, 4 },     { 100, 100, 4 },
		{ 400, 100, 4 },     { 401, 100, 4 },   { 20000, 100, 4 },
		{ 200000, 1000, 3 }, { 65536, 4096, 174 },
	};

	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		for (int raw = 0; raw < 2; raw++) {
			struct dag d;
			uint8_t *data = random_bytes(shapes[i].len, i + 1);
			size_t blocks;
			struct cid root;

			dag_init(&d);
			root = build_file(&d, data, shapes[i].len,
					  shapes[i].chunk, shapes[i].width,
					  raw, &blocks);
			check_file(&d, &root, data, shapes[i].len,
				   shapes[i].chunk);
			dag_release(&d);
			free(data);
		}
	}
}

/* A small read of a deep file fetches one block per level; a sequential
 * read fetches every block exactly once. */
static void test_dagreader__fetch_count(void)
{
	size_t len = 300000, chunk = 100, blocks, depth = 0;
	uint8_t *data = random_bytes(len, 42);
	uint8_t buf[4096];
	struct dagreader_file *f;
	struct dag d;
	struct cid root;
	uint64_t s = 7;
	size_t n;

	dag_init(&d);
	root = build_file(&d, data, len, chunk, 4, true, &blocks);
	for (size_t leaves = len / chunk; leaves > 1; leaves = (leaves + 3) / 4)
		depth++;
	CU_ASSERT_EQUAL(depth, 6);
	for (int i = 0; i < 50; i++) {
		uint64_t off = next_rand(&s) % (len / chunk) * chunk +
			       next_rand(&s) % (chunk - 10);

		d.gets = 0;
		CU_ASSERT_EQUAL_FATAL(dagreader_read(buf, &n, &d.src, &root,
						     off, 10), 0);
		CU_ASSERT(!memcmp(buf, data + off, 10));
		/* the root, the interior levels below it, one leaf */
		CU_ASSERT_EQUAL(d.gets, depth + 1);
	}
	CU_ASSERT_EQUAL_FATAL(dagreader_file_open(&f, &d.src, &root), 0);
	d.gets = 0;
	for (uint64_t off = 0; off < len; off += sizeof(buf)) {
		CU_ASSERT_EQUAL_FATAL(dagreader_file_read(buf, &n, f, off,
							  sizeof(buf)), 0);
		CU_ASSERT(!memcmp(buf, data + off, n));
	}
	CU_ASSERT_EQUAL(d.gets + 1, blocks);
	CU_ASSERT_EQUAL(memstore_count(d.ms), blocks);
	/* Re-reading inside the cached leaf fetches nothing. */
	d.gets = 0;
	CU_ASSERT_EQUAL(dagreader_file_read(buf, &n, f, len - 5, 5), 0);
	CU_ASSERT_EQUAL(d.gets, 0);
	dagreader_file_close(f);
	dag_release(&d);
	free(data);
}

/*
 * A File node with its own bytes and children: a raw leaf, an empty raw
 * leaf, a dag-pb node that itself has bytes and children, an identity
 * leaf.  Content: "HEAD" "raw1" "" "mid" "raw2" "ident".
 */
struct mixed {
	struct cid root;
	struct cid kids[4];  /* "raw1", "", "mid" (over inner), identity */
	struct cid inner[1]; /* "raw2" */
};

static void put_mixed(struct mixed *m, struct dag *d)
{
	uint64_t sizes[4] = { 4, 0, 7, 5 }, isz[1] = { 4 };

	CU_ASSERT_FATAL(cid_hash(&m->kids[3], 1, CID_CODEC_RAW,
				 MHASH_IDENTITY, "ident", 5) == 0);
	m->inner[0] = put_block(d, 1, CID_CODEC_RAW,
				(const uint8_t *)"raw2", 4);
	m->kids[0] = put_block(d, 1, CID_CODEC_RAW,
			       (const uint8_t *)"raw1", 4);
	m->kids[1] = put_block(d, 1, CID_CODEC_RAW, (const uint8_t *)"", 0);
	m->kids[2] = put_file(d, (const uint8_t *)"mid", 3, m->inner, isz, 1,
			      NULL);
	m->root = put_file(d, (const uint8_t *)"HEAD", 4, m->kids, sizes, 4,
			   NULL);
}

static void test_dagreader__mixed_nodes(void)
{
	const char *want = "HEADraw1midraw2ident";
	struct dag d;
	struct mixed m;

	dag_init(&d);
	put_mixed(&m, &d);
	check_file(&d, &m.root, (const uint8_t *)want, strlen(want), 3);
	/* An identity file root and an identity dag-pb leaf. */
	check_file(&d, &m.kids[3], (const uint8_t *)"ident", 5, 2);
	{
		uint8_t leaf[] = { 0x0a, 0x08, 0x08, 0x02, 0x12, 0x02, 'h',
				   'i', 0x18, 0x02 };
		struct cid pbid;

		CU_ASSERT_FATAL(cid_hash(&pbid, 1, CID_CODEC_DAG_PB,
					 MHASH_IDENTITY, leaf,
					 sizeof(leaf)) == 0);
		check_file(&d, &pbid, (const uint8_t *)"hi", 2, 1);
		CU_ASSERT_EQUAL(memstore_count(d.ms), 5);
	}
	dag_release(&d);
}

static int read_all(struct dag *d, const struct cid *root, uint64_t off,
		    size_t len)
{
	uint8_t buf[64];
	size_t n;

	CU_ASSERT_FATAL(len <= sizeof(buf));
	return dagreader_read(buf, &n, &d->src, root, off, len);
}

static void test_dagreader__corrupt_files(void)
{
	struct dag d;
	struct cid kids[2], root, dir, cbor;
	uint64_t sizes[2] = { 4, 5 }, bad = 10;
	struct unixfs_data dirfsd = { .type = UNIXFS_DIRECTORY };

	dag_init(&d);
	kids[0] = put_block(&d, 1, CID_CODEC_RAW, (const uint8_t *)"abcd", 4);
	kids[1] = put_block(&d, 1, CID_CODEC_RAW, (const uint8_t *)"efgh", 4);

	/* filesize disagrees with the blocksizes */
	root = put_file(&d, NULL, 0, kids, sizes, 2, &bad);
	CU_ASSERT_EQUAL(read_all(&d, &root, 0, 1), EFS_ECORRUPT);

	/* a child shorter than its blocksize: found when it is read */
	root = put_file(&d, NULL, 0, kids, sizes, 2, NULL);
	CU_ASSERT_EQUAL(read_all(&d, &root, 0, 4), 0);
	CU_ASSERT_EQUAL(read_all(&d, &root, 3, 2), EFS_ECORRUPT);

	/* a missing child: the source's ENOTFOUND comes through */
	CU_ASSERT_FATAL(cid_hash(&kids[1], 1, CID_CODEC_RAW, MHASH_SHA2_256,
				 "gone", 4) == 0);
	sizes[1] = 4;
	root = put_file(&d, NULL, 0, kids, sizes, 2, NULL);
	CU_ASSERT_EQUAL(read_all(&d, &root, 0, 4), 0);
	CU_ASSERT_EQUAL(read_all(&d, &root, 4, 1), EFS_ENOTFOUND);

	/* a directory, and a dag-cbor block, inside a file */
	dir = put_node(&d, 1, &dirfsd, NULL, 0);
	kids[1] = dir;
	root = put_file(&d, NULL, 0, kids, sizes, 2, NULL);
	CU_ASSERT_EQUAL(read_all(&d, &root, 4, 1), EFS_ECORRUPT);
	cbor = put_block(&d, 1, CID_CODEC_DAG_CBOR, (const uint8_t *)"\xa0", 1);
	kids[1] = cbor;
	root = put_file(&d, NULL, 0, kids, sizes, 2, NULL);
	CU_ASSERT_EQUAL(read_all(&d, &root, 4, 1), EFS_ECORRUPT);

	/* opening what is not a file */
	CU_ASSERT_EQUAL(read_all(&d, &dir, 0, 1), EFS_EINVAL);
	CU_ASSERT_EQUAL(read_all(&d, &cbor, 0, 1), EFS_EUNSUPPORTED);

	/* blocksizes that do not match the links, or overflow */
	{
		struct unixfs_data fsd = { .type = UNIXFS_FILE };
		uint64_t huge[2] = { UINT64_MAX / 2 + 1, UINT64_MAX / 2 + 1 };
		struct dagpb_link links[2];

		memset(links, 0, sizeof(links));
		links[0].cid = links[1].cid = kids[0];
		links[0].has_name = links[1].has_name = true;
		links[0].name = links[1].name = (const uint8_t *)"";
		fsd.blocksizes = sizes;
		fsd.nblocksizes = 1;
		root = put_node(&d, 1, &fsd, links, 2);
		CU_ASSERT_EQUAL(read_all(&d, &root, 0, 1), EFS_ECORRUPT);
		fsd.blocksizes = huge;
		fsd.nblocksizes = 2;
		root = put_node(&d, 1, &fsd, links, 2);
		CU_ASSERT_EQUAL(read_all(&d, &root, 0, 1), EFS_ECORRUPT);
		/* UnixFS Metadata nodes are not read */
		fsd.type = UNIXFS_METADATA;
		fsd.nblocksizes = 0;
		root = put_node(&d, 1, &fsd, NULL, 0);
		CU_ASSERT_EQUAL(read_all(&d, &root, 0, 1), EFS_EUNSUPPORTED);
	}
	/* dag-pb without UnixFS data; bytes that are not dag-pb */
	root = put_block(&d, 1, CID_CODEC_DAG_PB, (const uint8_t *)"", 0);
	CU_ASSERT_EQUAL(read_all(&d, &root, 0, 1), EFS_ECORRUPT);
	root = put_block(&d, 1, CID_CODEC_DAG_PB, (const uint8_t *)"\xff", 1);
	CU_ASSERT_EQUAL(read_all(&d, &root, 0, 1), EFS_ECORRUPT);
	dag_release(&d);
}

/* A chain of single-child nodes: 64 levels read, 65 are corrupt. */
static void test_dagreader__depth_bound(void)
{
	struct dag d;
	struct cid id;
	uint64_t one = 1;

	dag_init(&d);
	id = put_block(&d, 1, CID_CODEC_RAW, (const uint8_t *)"x", 1);
	for (int levels = 2; levels <= DAGREADER_DEPTH_MAX + 1; levels++) {
		uint8_t c = 0;
		size_t n;

		id = put_file(&d, NULL, 0, &id, &one, 1, NULL);
		if (levels < DAGREADER_DEPTH_MAX)
			continue;
		CU_ASSERT_EQUAL(dagreader_read(&c, &n, &d.src, &id, 0, 1),
				levels <= DAGREADER_DEPTH_MAX ? 0
							      : EFS_ECORRUPT);
		CU_ASSERT(levels > DAGREADER_DEPTH_MAX || c == 'x');
	}
	dag_release(&d);
}

/* Every truncation of a File node's block is an error, not a crash. */
static void test_dagreader__truncated(void)
{
	struct dag d;
	struct cid kids[2], root;
	uint64_t sizes[2] = { 4, 4 };
	uint8_t *p;
	size_t len;

	dag_init(&d);
	kids[0] = put_block(&d, 1, CID_CODEC_RAW, (const uint8_t *)"abcd", 4);
	kids[1] = put_block(&d, 1, CID_CODEC_RAW, (const uint8_t *)"efgh", 4);
	root = put_file(&d, (const uint8_t *)"own", 3, kids, sizes, 2, NULL);
	CU_ASSERT_FATAL(memstore_peek(&p, &len, d.ms, &root) == 0);
	for (size_t cut = 0; cut < len; cut++) {
		struct dagreader_stat st;
		struct cid id;

		id = put_block(&d, 1, CID_CODEC_DAG_PB, p, cut);
		CU_ASSERT(dagreader_stat(&st, &d.src, &id) < 0);
		CU_ASSERT(read_all(&d, &id, 0, 8) < 0);
		CU_ASSERT_FATAL(memstore_peek(&p, &len, d.ms, &root) == 0);
	}
	dag_release(&d);
}

/* Source errors come through unchanged, and a read can be retried. */
static void test_dagreader__source_errors(void)
{
	size_t len = 5000, blocks;
	uint8_t *data = random_bytes(len, 9);
	uint8_t *got = malloc(len);
	struct dagreader_file *f;
	struct dagreader_stat st;
	struct dag d;
	struct cid root, leaf;
	size_t n;

	dag_init(&d);
	root = build_file(&d, data, len, 100, 4, true, &blocks);
	CU_ASSERT_FATAL(cid_hash(&leaf, 1, CID_CODEC_RAW, MHASH_SHA2_256,
				 data + 2500, 100) == 0);
	CU_ASSERT_EQUAL_FATAL(dagreader_file_open(&f, &d.src, &root), 0);
	d.fail_once = &leaf;
	CU_ASSERT_EQUAL(dagreader_file_read(got, &n, f, 0, len), EFS_EEVICTED);
	CU_ASSERT_EQUAL(dagreader_file_read(got, &n, f, 0, len), 0);
	CU_ASSERT_EQUAL(n, len);
	CU_ASSERT(!memcmp(got, data, len));
	d.fail_with = EFS_EIO;
	CU_ASSERT_EQUAL(dagreader_file_read(got, &n, f, 0, len), EFS_EIO);
	CU_ASSERT_EQUAL(dagreader_stat(&st, &d.src, &root), EFS_EIO);
	d.fail_with = EFS_ETIMEDOUT;
	CU_ASSERT_EQUAL(read_all(&d, &root, 0, 1), EFS_ETIMEDOUT);
	d.fail_with = 0;
	CU_ASSERT_EQUAL(dagreader_file_read(got, &n, f, 1, len - 1), 0);
	CU_ASSERT(!memcmp(got, data + 1, len - 1));
	dagreader_file_close(f);
	dag_release(&d);
	free(data);
	free(got);
}

/* ---- directories, paths, symlinks ------------------------------------- */

/* A basic directory of the named entries (any order: sorted here). */
static struct cid put_dir(struct dag *d, const char **names,
			  const struct cid *ids, size_t n,
			  const struct unixfs_data *meta)
{
	struct unixfs_data fsd = { .type = UNIXFS_DIRECTORY };
	struct dagpb_link *links = calloc(n ? n : 1, sizeof(*links));
	struct cid id;

	CU_ASSERT_FATAL(links != NULL);
	if (meta)
		fsd = *meta;
	for (size_t i = 0; i < n; i++) {
		links[i].cid = ids[i];
		links[i].name = (const uint8_t *)names[i];
		links[i].name_len = strlen(names[i]);
		links[i].has_name = true;
		links[i].tsize = i;
		links[i].has_tsize = true;
	}
	CU_ASSERT_FATAL(dagpb_links_sort(links, n) == 0);
	id = put_node(d, 1, &fsd, links, n);
	free(links);
	return id;
}

/*
 * A basic directory block written byte by byte, so names may be out of
 * order: links to child, named names[i], then Data 08 01.
 */
static struct cid put_raw_dir(struct dag *d, const char **names, size_t n,
			      const struct cid *child)
{
	uint8_t block[1024], cidb[CID_BYTES_MAX];
	size_t clen = cid_to_bytes(cidb, child), len = 0;

	for (size_t i = 0; i < n; i++) {
		size_t nl = strlen(names[i]);

		block[len++] = 0x12;
		block[len++] = (uint8_t)(2 + clen + 2 + nl + 2);
		block[len++] = 0x0a;
		block[len++] = (uint8_t)clen;
		memcpy(block + len, cidb, clen);
		len += clen;
		block[len++] = 0x12;
		block[len++] = (uint8_t)nl;
		for (size_t k = 0; k < nl; k++) { /* \x01 stands for NUL */
			uint8_t c = (uint8_t)names[i][k];

			block[len++] = c == 1 ? 0 : c;
		}
		block[len++] = 0x18;
		block[len++] = 0x01;
	}
	memcpy(block + len, "\x0a\x02\x08\x01", 4);
	return put_block(d, 1, CID_CODEC_DAG_PB, block, len + 4);
}

struct listing {
	char names[600][64];
	struct cid ids[600];
	size_t n;
	int stop_at;              /* return 99 at this entry, or -1 */
};

static int list_cb(const char *name, size_t name_len, const struct cid *id,
		   uint64_t tsize, void *payload)
{
	struct listing *l = payload;

	if ((int)l->n == l->stop_at)
		return 99;
	CU_ASSERT_FATAL(l->n < 600 && name_len < 64);
	memcpy(l->names[l->n], name, name_len);
	l->names[l->n][name_len] = '\0';
	l->ids[l->n++] = *id;
	return 0;
}

static void test_dagreader__basic_dir(void)
{
	const char *names[] = { "zz", "b.txt", "a", "\xc3\xbc", "a0", "B" };
	const char *sorted[] = { "B", "a", "a0", "b.txt", "zz", "\xc3\xbc" };
	struct dag d;
	struct cid ids[6], dir, got;
	struct listing *l = calloc(1, sizeof(*l));

	CU_ASSERT_FATAL(l != NULL);
	l->stop_at = -1;
	dag_init(&d);
	for (size_t i = 0; i < 6; i++)
		ids[i] = put_block(&d, 1, CID_CODEC_RAW,
				   (const uint8_t *)names[i], strlen(names[i]));
	dir = put_dir(&d, names, ids, 6, NULL);
	CU_ASSERT_EQUAL(dagreader_dir_foreach(&d.src, &dir, list_cb, l), 0);
	CU_ASSERT_EQUAL_FATAL(l->n, 6);
	for (size_t i = 0; i < 6; i++)
		CU_ASSERT_STRING_EQUAL(l->names[i], sorted[i]);
	for (size_t i = 0; i < 6; i++) {
		CU_ASSERT_EQUAL(dagreader_dir_lookup(&got, &d.src, &dir,
						     names[i],
						     strlen(names[i])), 0);
		CU_ASSERT(cid_equal(&got, &ids[i]));
	}
	CU_ASSERT_EQUAL(dagreader_dir_lookup(&got, &d.src, &dir, "b", 1),
			EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(dagreader_dir_lookup(&got, &d.src, &dir, "", 0),
			EFS_EINVAL);
	CU_ASSERT_EQUAL(dagreader_dir_lookup(&got, &d.src, &dir, "..", 2),
			EFS_EINVAL);
	CU_ASSERT_EQUAL(dagreader_dir_lookup(&got, &d.src, &dir, ".", 1),
			EFS_EINVAL);
	CU_ASSERT_EQUAL(dagreader_dir_lookup(&got, &d.src, &dir, "a/b", 3),
			EFS_EINVAL);
	CU_ASSERT_EQUAL(dagreader_dir_lookup(&got, &d.src, &ids[0], "a", 1),
			EFS_EINVAL);
	CU_ASSERT_EQUAL(dagreader_dir_foreach(&d.src, &ids[0], list_cb, l),
			EFS_EINVAL);
	l->n = 0;
	l->stop_at = 2;
	CU_ASSERT_EQUAL(dagreader_dir_foreach(&d.src, &dir, list_cb, l), 99);
	dag_release(&d);
	free(l);
}

static void test_dagreader__corrupt_dirs(void)
{
	static const char *bad[][2] = {
		{ "a", "a" },   /* repeated */
		{ "b", "a" },   /* unsorted */
		{ "a", ".." },
		{ ".", "a" },
		{ "a", "a/b" },
		{ "", "a" },
	};
	struct dag d;
	struct cid child, dir, got;
	struct listing *l = calloc(1, sizeof(*l));

	CU_ASSERT_FATAL(l != NULL);
	l->stop_at = -1;
	dag_init(&d);
	child = put_block(&d, 1, CID_CODEC_RAW, (const uint8_t *)"c", 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dir = put_raw_dir(&d, bad[i], 2, &child);
		l->n = 0;
		CU_ASSERT_EQUAL(dagreader_dir_foreach(&d.src, &dir, list_cb,
						      l), EFS_ECORRUPT);
		CU_ASSERT_EQUAL(dagreader_dir_lookup(&got, &d.src, &dir, "a",
						     1), EFS_ECORRUPT);
	}
	/* A NUL inside a name. */
	{
		const char *nul[] = { "a", "b\x01" };

		dir = put_raw_dir(&d, nul, 2, &child);
		CU_ASSERT_EQUAL(dagreader_dir_foreach(&d.src, &dir, list_cb,
						      l), EFS_ECORRUPT);
	}
	/* The good shape of the same block lists fine. */
	{
		const char *good[] = { "a", "b" };

		l->n = 0;
		dir = put_raw_dir(&d, good, 2, &child);
		CU_ASSERT_EQUAL(dagreader_dir_foreach(&d.src, &dir, list_cb,
						      l), 0);
		CU_ASSERT_EQUAL(l->n, 2);
	}
	dag_release(&d);
	free(l);
}

/* A HAMT directory of count entries "n0".."n{count-1}" (fanout 16). */
static struct cid put_hamt(struct dag *d, size_t count, const char *extra)
{
	struct hamt_entry *e = calloc(count + 1, sizeof(*e));
	char (*names)[16] = calloc(count, sizeof(*names));
	struct hamt_opts opts = { 16, 1, MHASH_SHA2_256, NULL };
	struct blockio_sink sink = memstore_sink(d->ms);
	struct cid root;
	uint64_t tsize;
	size_t n = count;

	CU_ASSERT_FATAL(e && names);
	for (size_t i = 0; i < count; i++) {
		snprintf(names[i], sizeof(names[i]), "n%zu", i);
		e[i].name = names[i];
		e[i].name_len = strlen(names[i]);
		e[i].cid = put_block(d, 1, CID_CODEC_RAW,
				     (const uint8_t *)names[i], e[i].name_len);
		e[i].tsize = e[i].name_len;
	}
	if (extra) {
		e[n].name = extra;
		e[n].name_len = strlen(extra);
		e[n++].cid = e[0].cid;
	}
	CU_ASSERT_FATAL(hamt_build(&root, &tsize, e, n, &opts, &sink) == 0);
	free(names);
	free(e);
	return root;
}

static int hamt_list_cb(const char *name, size_t name_len,
			const struct cid *id, uint64_t tsize, void *payload)
{
	return list_cb(name, name_len, id, tsize, payload);
}

static void test_dagreader__hamt_dir(void)
{
	struct dag d;
	struct cid dir, got;
	struct listing *a = calloc(2, sizeof(*a));
	struct dagreader_stat st;

	CU_ASSERT_FATAL(a != NULL);
	dag_init(&d);
	dir = put_hamt(&d, 500, NULL);
	a[0].stop_at = a[1].stop_at = -1;
	CU_ASSERT_EQUAL(dagreader_dir_foreach(&d.src, &dir, list_cb, &a[0]),
			0);
	CU_ASSERT_EQUAL(hamt_foreach(&d.inner, &dir, hamt_list_cb, &a[1]), 0);
	CU_ASSERT_EQUAL_FATAL(a[0].n, 500);
	CU_ASSERT_EQUAL_FATAL(a[1].n, 500);
	for (size_t i = 0; i < 500; i++) {
		CU_ASSERT_STRING_EQUAL(a[0].names[i], a[1].names[i]);
		CU_ASSERT_EQUAL(dagreader_dir_lookup(&got, &d.src, &dir,
						     a[0].names[i],
						     strlen(a[0].names[i])), 0);
		CU_ASSERT(cid_equal(&got, &a[0].ids[i]));
	}
	CU_ASSERT_EQUAL(dagreader_dir_lookup(&got, &d.src, &dir, "n500", 4),
			EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(dagreader_stat(&st, &d.src, &dir), 0);
	CU_ASSERT_EQUAL(st.kind, DAGREADER_HAMT);
	CU_ASSERT_EQUAL(st.nlinks, 16);
	/* Entry names the FUSE layer cannot show. */
	for (int i = 0; i < 3; i++) {
		static const char *evil[] = { "..", "a/b", "." };

		dir = put_hamt(&d, 20, evil[i]);
		a[0].n = 0;
		CU_ASSERT_EQUAL(dagreader_dir_foreach(&d.src, &dir, list_cb,
						      &a[0]), EFS_ECORRUPT);
	}
	dag_release(&d);
	free(a);
}

/* root { docs: HAMT { n7: { file.txt }, ... }, f: file, ln: symlink } */
struct tree {
	struct cid root, docs, n7, file, f, ln;
};

static void put_tree(struct dag *d, struct tree *t)
{
	struct unixfs_data link = { .type = UNIXFS_SYMLINK,
				    .data = (const uint8_t *)"../up/there",
				    .data_len = 11,
				    .has_data = true };
	struct unixfs_data meta = { .type = UNIXFS_DIRECTORY,
				    .mode = 0750,
				    .has_mode = true,
				    .mtime_sec = -5,
				    .mtime_nsec = 7,
				    .has_mtime = true };
	struct hamt_entry e[40];
	char names[40][8];
	struct hamt_opts opts = { 256, 1, MHASH_SHA2_256, NULL };
	struct blockio_sink sink = memstore_sink(d->ms);
	const char *top[] = { "docs", "f", "ln" };
	const char *inner[] = { "file.txt" };
	struct cid ids[3];
	uint64_t tsize;

	t->file = put_block(d, 1, CID_CODEC_RAW, (const uint8_t *)"content",
			    7);
	t->n7 = put_dir(d, inner, &t->file, 1, NULL);
	memset(e, 0, sizeof(e));
	for (int i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "n%d", i);
		e[i].name = names[i];
		e[i].name_len = strlen(names[i]);
		e[i].cid = i == 7 ? t->n7 : t->file;
	}
	CU_ASSERT_FATAL(hamt_build(&t->docs, &tsize, e, 40, &opts, &sink) ==
			0);
	t->f = put_file(d, (const uint8_t *)"ff", 2, NULL, NULL, 0, NULL);
	t->ln = put_node(d, 1, &link, NULL, 0);
	ids[0] = t->docs;
	ids[1] = t->f;
	ids[2] = t->ln;
	t->root = put_dir(d, top, ids, 3, &meta);
}

static void test_dagreader__resolve(void)
{
	static const struct {
		const char *path;
		int rc;
		size_t which;     /* offsetof into struct tree */
	} cases[] = {
		{ "docs/n7/file.txt", 0, offsetof(struct tree, file) },
		{ "/docs//n7/./file.txt/", 0, offsetof(struct tree, file) },
		{ "docs/n7", 0, offsetof(struct tree, n7) },
		{ "docs/n3", 0, offsetof(struct tree, file) },
		{ "", 0, offsetof(struct tree, root) },
		{ "/", 0, offsetof(struct tree, root) },
		{ "./.", 0, offsetof(struct tree, root) },
		{ "ln", 0, offsetof(struct tree, ln) },
		{ "docs/../f", EFS_EINVAL, 0 },
		{ "..", EFS_EINVAL, 0 },
		{ "f/x", EFS_EINVAL, 0 },
		{ "ln/x", EFS_EINVAL, 0 },
		{ "docs/n3/x", EFS_EINVAL, 0 },
		{ "docs/nope", EFS_ENOTFOUND, 0 },
		{ "nope/x", EFS_ENOTFOUND, 0 },
		{ "docs/n7/nope", EFS_ENOTFOUND, 0 },
	};
	struct dag d;
	struct tree t;
	char str[CID_STR_MAX + 64], cs[CID_STR_MAX];

	dag_init(&d);
	put_tree(&d, &t);
	cid_tostr(cs, &t.root);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct cid *want =
			(const struct cid *)((const char *)&t + cases[i].which);
		struct cid got;
		int rc = dagreader_resolve(&got, &d.src, &t.root,
					   cases[i].path);

		if (rc != cases[i].rc)
			fprintf(stderr, "resolve %s: %d\n", cases[i].path, rc);
		CU_ASSERT_EQUAL(rc, cases[i].rc);
		if (rc == 0)
			CU_ASSERT(cid_equal(&got, want));
		snprintf(str, sizeof(str), "/ipfs/%s/%s", cs, cases[i].path);
		rc = dagreader_resolve_str(&got, &d.src, str);
		CU_ASSERT_EQUAL(rc, cases[i].rc);
		if (rc == 0)
			CU_ASSERT(cid_equal(&got, want));
	}
	{
		struct cid got;

		CU_ASSERT_EQUAL(dagreader_resolve_str(&got, &d.src, cs), 0);
		CU_ASSERT(cid_equal(&got, &t.root));
		CU_ASSERT_EQUAL(dagreader_resolve_str(&got, &d.src, ""),
				EFS_EINVAL);
		CU_ASSERT_EQUAL(dagreader_resolve_str(&got, &d.src, "/x/y"),
				EFS_EINVAL);
		CU_ASSERT_EQUAL(dagreader_resolve_str(&got, &d.src,
						      "notacid/docs"),
				EFS_EINVAL);
	}
	dag_release(&d);
}

static void test_dagreader__stat_and_symlink(void)
{
	struct dag d;
	struct tree t;
	struct dagreader_stat st;
	struct buf target = BUF_INIT(64);

	dag_init(&d);
	put_tree(&d, &t);
	CU_ASSERT_EQUAL(dagreader_stat(&st, &d.src, &t.root), 0);
	CU_ASSERT_EQUAL(st.kind, DAGREADER_DIRECTORY);
	CU_ASSERT_EQUAL(st.nlinks, 3);
	CU_ASSERT(st.has_mode && st.mode == 0750);
	CU_ASSERT(st.has_mtime && st.mtime_sec == -5 && st.mtime_nsec == 7);
	CU_ASSERT_EQUAL(dagreader_stat(&st, &d.src, &t.file), 0);
	CU_ASSERT_EQUAL(st.kind, DAGREADER_RAW);
	CU_ASSERT_EQUAL(st.size, 7);
	CU_ASSERT_EQUAL(st.block_size, 7);
	CU_ASSERT(!st.has_mode && !st.has_mtime);
	CU_ASSERT_EQUAL(dagreader_stat(&st, &d.src, &t.f), 0);
	CU_ASSERT_EQUAL(st.kind, DAGREADER_FILE);
	CU_ASSERT_EQUAL(st.size, 2);
	CU_ASSERT_EQUAL(dagreader_stat(&st, &d.src, &t.ln), 0);
	CU_ASSERT_EQUAL(st.kind, DAGREADER_SYMLINK);
	CU_ASSERT_EQUAL(st.size, 11);
	CU_ASSERT_EQUAL(dagreader_stat(&st, &d.src, &t.docs), 0);
	CU_ASSERT_EQUAL(st.kind, DAGREADER_HAMT);
	CU_ASSERT_STRING_EQUAL(dagreader_kind_name(st.kind),
			       "hamt-sharded-directory");

	CU_ASSERT_EQUAL(dagreader_symlink_target(&target, &d.src, &t.ln), 0);
	CU_ASSERT_STRING_EQUAL((char *)target.ptr, "../up/there");
	CU_ASSERT_EQUAL(dagreader_symlink_target(&target, &d.src, &t.f),
			EFS_EINVAL);
	CU_ASSERT_EQUAL(target.len, 11);
	buf_release(&target);
	{
		struct buf small = BUF_INIT(4);
		struct unixfs_data empty = { .type = UNIXFS_SYMLINK };
		struct cid id;

		CU_ASSERT_EQUAL(dagreader_symlink_target(&small, &d.src,
							 &t.ln), EFS_ETOOBIG);
		id = put_node(&d, 1, &empty, NULL, 0);
		CU_ASSERT_EQUAL(dagreader_symlink_target(&small, &d.src, &id),
				EFS_ECORRUPT);
		buf_release(&small);
	}
	dag_release(&d);
}

/* ---- oracle CARs ------------------------------------------------------ */

struct manifest_walk {
	struct dag *d;
	struct cid root;
	bool trickle;
};

static void check_oracle_file(struct dag *d, const struct cid *id,
			      uint64_t size, const char *sha_hex)
{
	uint8_t *all = malloc(size ? size : 1);
	uint8_t want[32], got[MHASH_DIGEST_MAX];
	struct dagreader_file *f;
	size_t glen, n;

	CU_ASSERT_FATAL(all != NULL);
	CU_ASSERT_FATAL(harness_unhex(want, sizeof(want), sha_hex) == 32);
	CU_ASSERT_EQUAL_FATAL(dagreader_file_open(&f, &d->src, id), 0);
	CU_ASSERT_EQUAL(dagreader_file_size(f), size);
	for (uint64_t off = 0; off < size; off += n) {
		CU_ASSERT_EQUAL_FATAL(dagreader_file_read(all + off, &n, f, off,
							  3000), 0);
		CU_ASSERT_FATAL(n > 0);
	}
	dagreader_file_close(f);
	CU_ASSERT_FATAL(mhash_compute(got, &glen, MHASH_SHA2_256, all,
				      size) == 0);
	CU_ASSERT(!memcmp(got, want, 32));
	check_file(d, id, all, size, 1024);
	free(all);
}

static void check_oracle_dir(struct dag *d, const struct cid *id,
			     const char *path, size_t count)
{
	struct listing *l = calloc(1, sizeof(*l));
	struct dagreader_stat st;

	CU_ASSERT_FATAL(l != NULL);
	l->stop_at = -1;
	CU_ASSERT_EQUAL_FATAL(dagreader_stat(&st, &d->src, id), 0);
	CU_ASSERT_EQUAL(st.kind, strcmp(path, "many") ? DAGREADER_DIRECTORY
						       : DAGREADER_HAMT);
	CU_ASSERT_EQUAL(dagreader_dir_foreach(&d->src, id, list_cb, l), 0);
	CU_ASSERT_EQUAL(l->n, count);
	for (size_t i = 0; i < l->n; i++) {
		struct cid got;

		CU_ASSERT_EQUAL(dagreader_dir_lookup(&got, &d->src, id,
						     l->names[i],
						     strlen(l->names[i])), 0);
		CU_ASSERT(cid_equal(&got, &l->ids[i]));
		if (i > 0 && st.kind == DAGREADER_DIRECTORY)
			CU_ASSERT(strcmp(l->names[i - 1], l->names[i]) < 0);
	}
	free(l);
}

/* One manifest line: "file PATH SIZE SHA", "dir PATH COUNT",
 * "symlink PATH TARGET" (PATH may hold spaces). */
static void check_manifest_line(struct manifest_walk *w, char *line)
{
	char *last = strrchr(line, ' ');
	char *path = strchr(line, ' ') + 1;
	struct dagreader_stat st;
	struct cid id;

	*last++ = '\0';
	if (!strncmp(line, "file ", 5)) {
		char *size = strrchr(path, ' ');

		*size++ = '\0';
		CU_ASSERT_EQUAL_FATAL(dagreader_resolve(&id, &w->d->src,
							&w->root, path), 0);
		CU_ASSERT_EQUAL(dagreader_stat(&st, &w->d->src, &id), 0);
		CU_ASSERT(st.kind == DAGREADER_FILE ||
			  st.kind == DAGREADER_RAW);
		check_oracle_file(w->d, &id, strtoull(size, NULL, 10), last);
	} else if (!strncmp(line, "dir ", 4)) {
		CU_ASSERT_EQUAL_FATAL(dagreader_resolve(&id, &w->d->src,
							&w->root, path), 0);
		check_oracle_dir(w->d, &id, path, strtoul(last, NULL, 10));
	} else if (!strncmp(line, "symlink ", 8)) {
		struct buf target = BUF_INIT(4096);

		CU_ASSERT_EQUAL_FATAL(dagreader_resolve(&id, &w->d->src,
							&w->root, path), 0);
		CU_ASSERT_EQUAL(dagreader_symlink_target(&target, &w->d->src,
							 &id), 0);
		CU_ASSERT_STRING_EQUAL((char *)target.ptr, last);
		buf_release(&target);
	}
}

static void check_car(const char *car, const char *root_str, char *manifest)
{
	struct buf bytes = BUF_INIT(BUF_NOCAP);
	struct manifest_walk w;
	struct blockio_sink sink;
	struct cid *roots = NULL;
	size_t nroots = 0;
	char path[128];
	struct dag d;

	dag_init(&d);
	snprintf(path, sizeof(path), "dagreader/%s", car);
	CU_ASSERT_FATAL(harness_read_data(&bytes, path) == 0);
	sink = memstore_sink(d.ms);
	CU_ASSERT_EQUAL_FATAL(car_import_mem(&roots, &nroots, &sink, bytes.ptr,
					     bytes.len), 0);
	CU_ASSERT_FATAL(nroots == 1);
	CU_ASSERT_FATAL(cid_parse(&w.root, root_str) == 0);
	CU_ASSERT(cid_equal(&w.root, &roots[0]));
	w.d = &d;
	for (char *p = manifest; *p;) {
		char *nl = strchr(p, '\n');

		char *line = strndup(p, (size_t)(nl - p));

		CU_ASSERT_FATAL(line != NULL);
		check_manifest_line(&w, line);
		free(line);
		p = nl + 1;
	}
	efs_free(roots);
	buf_release(&bytes);
	dag_release(&d);
}

static void test_dagreader__oracle_cars(void)
{
	struct buf manifest = BUF_INIT(BUF_NOCAP);
	size_t cars = 0;

	CU_ASSERT_FATAL(harness_read_data(&manifest, "dagreader/manifest.txt")
			== 0);
	for (char *p = (char *)manifest.ptr; *p;) {
		char *nl = strchr(p, '\n');
		char name[64], root[CID_STR_MAX];

		if (sscanf(p, "car %63s %255s", name, root) == 2) {
			check_car(name, root, (char *)manifest.ptr);
			cars++;
		}
		p = nl + 1;
	}
	CU_ASSERT_EQUAL(cars, 3);
	buf_release(&manifest);
}

/* ---- importer DAGs ---------------------------------------------------- */

static void check_imported(const uint8_t *data, size_t len,
			   const char *profile, size_t chunk, unsigned links)
{
	struct importer_opts opts;
	struct blockio_sink sink;
	char *dir = harness_tmpdir();
	char path[4096];
	struct dag d;
	struct cid root;
	uint64_t tsize;
	int fd;

	CU_ASSERT_FATAL(dir != NULL);
	snprintf(path, sizeof(path), "%s/f", dir);
	CU_ASSERT_FATAL(harness_write_file(path, data, len) == 0);
	fd = open(path, O_RDONLY);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(importer_opts_profile(&opts, profile) == 0);
	opts.chunk_size = chunk;
	opts.max_links = links;
	opts.threads = 1;
	dag_init(&d);
	sink = memstore_sink(d.ms);
	CU_ASSERT_EQUAL_FATAL(importer_add_fd(&root, &tsize, fd, &opts, &sink,
					      NULL, NULL), 0);
	close(fd);
	check_file(&d, &root, data, len, chunk);
	dag_release(&d);
	harness_tmpdir_free(dir);
}

static void test_dagreader__importer(void)
{
	size_t len = 150001;
	uint8_t *data = random_bytes(len, 77);

	check_imported(data, len, "unixfs-v1-2025", 1000, 3);
	check_imported(data, len, "unixfs-v0-2015", 777, 5);
	check_imported(data, 1, "unixfs-v0-2015", 777, 5);
	check_imported(data, 0, "unixfs-v1-2025", 777, 5);
	free(data);
}

/* ---- leaves ----------------------------------------------------------- */

struct leaf_list {
	struct dagreader_leaf leaves[4096];
	size_t n;
	size_t stop_at;               /* return 99 at this leaf; 0: never */
};

static int collect_leaf(const struct dagreader_leaf *leaf, void *payload)
{
	struct leaf_list *l = payload;

	CU_ASSERT_FATAL(l->n < sizeof(l->leaves) / sizeof(l->leaves[0]));
	l->leaves[l->n++] = *leaf;
	return l->stop_at && l->n == l->stop_at ? 99 : 0;
}

/* The leaves tile the file and hold its bytes; raw leaves are not read. */
static void test_dagreader__leaves(void)
{
	static const struct {
		size_t len, chunk, width;
	} shapes[] = {
		{ 0, 100, 4 }, { 1, 100, 4 }, { 100, 100, 4 }, { 401, 100, 4 },
		{ 20000, 100, 4 }, { 65536, 4096, 174 },
	};

	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		for (int raw = 0; raw < 2; raw++) {
			size_t len = shapes[i].len, chunk = shapes[i].chunk;
			size_t nleaves = len ? (len + chunk - 1) / chunk : 1;
			uint8_t *data = random_bytes(len, i + 11);
			uint8_t *got = malloc(chunk);
			struct leaf_list *l = calloc(1, sizeof(*l));
			uint64_t off = 0;
			size_t blocks, n;
			struct cid root;
			struct dag d;

			CU_ASSERT_FATAL(got && l);
			dag_init(&d);
			root = build_file(&d, data, len, chunk,
					  shapes[i].width, raw, &blocks);
			CU_ASSERT_EQUAL_FATAL(dagreader_leaves_foreach(
				&d.src, &root, collect_leaf, l), 0);
			CU_ASSERT_EQUAL(l->n, nleaves);
			/* interior nodes only, unless the root is the leaf */
			if (raw && nleaves > 1)
				CU_ASSERT_EQUAL(d.gets, blocks - nleaves);
			if (!raw || nleaves == 1)
				CU_ASSERT_EQUAL(d.gets, blocks);
			for (size_t k = 0; k < l->n; k++) {
				const struct dagreader_leaf *lf = &l->leaves[k];

				CU_ASSERT_EQUAL(lf->offset, off);
				CU_ASSERT(!lf->inner && !lf->has_meta);
				CU_ASSERT_EQUAL(lf->fetched,
						!raw || nleaves == 1);
				CU_ASSERT_EQUAL(lf->id.codec,
						raw ? CID_CODEC_RAW
						    : CID_CODEC_DAG_PB);
				CU_ASSERT_FATAL(lf->size <= chunk);
				CU_ASSERT_EQUAL_FATAL(
				    dagreader_read(got, &n, &d.src, &lf->id, 0,
						   chunk), 0);
				CU_ASSERT_EQUAL(n, lf->size);
				CU_ASSERT(!memcmp(got, data + off, n));
				off += lf->size;
			}
			CU_ASSERT_EQUAL(off, len);
			dag_release(&d);
			free(data);
			free(got);
			free(l);
		}
	}
}

/* Peeking gives each leaf's bytes in place, and nothing past the end. */
static void test_dagreader__peek(void)
{
	size_t len = 2000, chunk = 100, blocks, n;
	uint8_t *data = random_bytes(len, 21);
	struct dagreader_file *f;
	const uint8_t *p;
	struct cid root;
	struct dag d;

	dag_init(&d);
	root = build_file(&d, data, len, chunk, 3, true, &blocks);
	CU_ASSERT_EQUAL_FATAL(dagreader_file_open(&f, &d.src, &root), 0);
	for (size_t off = 0; off < len; off += 37) {
		CU_ASSERT_EQUAL_FATAL(dagreader_file_peek(&p, &n, f, off), 0);
		CU_ASSERT_EQUAL(n, chunk - off % chunk);
		CU_ASSERT(!memcmp(p, data + off, n));
	}
	d.gets = 0;
	CU_ASSERT_EQUAL(dagreader_file_peek(&p, &n, f, 1900), 0);
	CU_ASSERT_EQUAL(n, 100);
	CU_ASSERT_EQUAL(dagreader_file_peek(&p, &n, f, 1950), 0);
	CU_ASSERT_EQUAL(n, 50);
	CU_ASSERT_EQUAL(d.gets, 0);  /* the same leaf */
	CU_ASSERT_EQUAL(dagreader_file_peek(&p, &n, f, len), 0);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT(p == NULL);
	d.fail_with = EFS_EEVICTED;
	CU_ASSERT_EQUAL(dagreader_file_peek(&p, &n, f, 0), EFS_EEVICTED);
	d.fail_with = 0;
	CU_ASSERT_EQUAL(dagreader_file_peek(&p, &n, f, 0), 0);
	CU_ASSERT(!memcmp(p, data, 100));
	dagreader_file_close(f);
	dag_release(&d);
	free(data);
}

/* Own bytes of interior nodes are inner leaves; errors and stopping. */
static void test_dagreader__leaves_mixed(void)
{
	static const struct {
		uint64_t offset, size;
		bool inner, fetched;
	} want[] = {
		{ 0, 4, true, true },   /* "HEAD" */
		{ 4, 4, false, false }, /* "raw1" */
		{ 8, 0, false, false }, /* "" */
		{ 8, 3, true, true },   /* "mid" */
		{ 11, 4, false, false },/* "raw2" */
		{ 15, 5, false, false },/* identity "ident" */
	};
	struct leaf_list *l = calloc(1, sizeof(*l));
	struct cid bad, dir;
	uint64_t wrong[1] = { 5 };
	struct unixfs_data dird = { .type = UNIXFS_DIRECTORY };
	struct mixed m;
	struct dag d;

	CU_ASSERT_FATAL(l != NULL);
	dag_init(&d);
	put_mixed(&m, &d);
	CU_ASSERT_EQUAL_FATAL(dagreader_leaves_foreach(&d.src, &m.root,
						       collect_leaf, l), 0);
	CU_ASSERT_EQUAL_FATAL(l->n, 6);
	for (size_t i = 0; i < 6; i++) {
		CU_ASSERT_EQUAL(l->leaves[i].offset, want[i].offset);
		CU_ASSERT_EQUAL(l->leaves[i].size, want[i].size);
		CU_ASSERT_EQUAL(l->leaves[i].inner, want[i].inner);
		CU_ASSERT_EQUAL(l->leaves[i].fetched, want[i].fetched);
	}
	CU_ASSERT(cid_equal(&l->leaves[0].id, &m.root));
	CU_ASSERT(cid_equal(&l->leaves[3].id, &m.kids[2]));
	CU_ASSERT(cid_equal(&l->leaves[4].id, &m.inner[0]));

	/* the callback's value stops the walk */
	memset(l, 0, sizeof(*l));
	l->stop_at = 3;
	CU_ASSERT_EQUAL(dagreader_leaves_foreach(&d.src, &m.root, collect_leaf,
						 l), 99);
	CU_ASSERT_EQUAL(l->n, 3);

	/* a dag-pb child whose size is not its blocksize */
	bad = put_file(&d, NULL, 0, &m.kids[2], wrong, 1, NULL);
	memset(l, 0, sizeof(*l));
	CU_ASSERT_EQUAL(dagreader_leaves_foreach(&d.src, &bad, collect_leaf,
						 l), EFS_ECORRUPT);
	/* not a file; a source error */
	dir = put_node(&d, 1, &dird, NULL, 0);
	CU_ASSERT_EQUAL(dagreader_leaves_foreach(&d.src, &dir, collect_leaf,
						 l), EFS_EINVAL);
	d.fail_once = &m.kids[2];
	CU_ASSERT_EQUAL(dagreader_leaves_foreach(&d.src, &m.root, collect_leaf,
						 l), EFS_EEVICTED);
	dag_release(&d);
	free(l);
}

/* What known_leaf knows: dag-pb blocks without links, read past the
 * counting source (as the blockstore's index knows an evicted block). */
struct known_list {
	struct leaf_list l;
	struct dag *d;
	size_t asked;
};

static bool known_leaf(size_t *out, const struct cid *id, void *payload)
{
	struct known_list *k = payload;
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct dagpb_node pb;
	bool leaf;

	k->asked++;
	CU_ASSERT_EQUAL_FATAL(blockio_get(&k->d->inner, id, &b), 0);
	CU_ASSERT_EQUAL_FATAL(dagpb_decode(&pb, b.ptr, b.len), 0);
	leaf = pb.nlinks == 0;
	*out = b.len;
	dagpb_node_release(&pb);
	buf_release(&b);
	return leaf;
}

static int collect_known(const struct dagreader_leaf *leaf, void *payload)
{
	return collect_leaf(leaf, &((struct known_list *)payload)->l);
}

/* Dag-pb leaves the caller knows are reported unread, with their block
 * size; interior nodes are still read (the root always). */
static void test_dagreader__leaves_known(void)
{
	size_t len = 2050, chunk = 100, blocks, nleaves = 21;
	uint8_t *data = random_bytes(len, 31);
	struct known_list *k = calloc(1, sizeof(*k));
	uint64_t off = 0;
	struct cid root;
	struct dag d;

	CU_ASSERT_FATAL(k != NULL);
	dag_init(&d);
	k->d = &d;
	root = build_file(&d, data, len, chunk, 4, false, &blocks);
	CU_ASSERT_EQUAL_FATAL(dagreader_leaves_foreach_known(
		&d.src, &root, known_leaf, collect_known, k), 0);
	CU_ASSERT_EQUAL(k->l.n, nleaves);
	CU_ASSERT_EQUAL(d.gets, blocks - nleaves);
	CU_ASSERT_EQUAL(k->asked, blocks - 1);
	for (size_t i = 0; i < k->l.n; i++) {
		const struct dagreader_leaf *lf = &k->l.leaves[i];
		struct buf b = BUF_INIT(BUF_NOCAP);

		CU_ASSERT(!lf->fetched && !lf->inner);
		CU_ASSERT_EQUAL(lf->offset, off);
		CU_ASSERT_EQUAL(lf->size, i + 1 < nleaves ? chunk : 50);
		CU_ASSERT_EQUAL_FATAL(blockio_get(&d.inner, &lf->id, &b), 0);
		CU_ASSERT_EQUAL(lf->block_size, b.len);
		buf_release(&b);
		off += lf->size;
	}
	CU_ASSERT_EQUAL(off, len);
	dag_release(&d);
	free(data);
	free(k);
}

/* ---- allocation failure ----------------------------------------------- */

struct alloc_case {
	struct dag d;
	struct tree t;
	struct cid big;
	uint8_t *data;
	size_t len;
};

static int noop_cb(const char *name, size_t name_len, const struct cid *id,
		   uint64_t tsize, void *payload)
{
	return 0;
}

static int leaf_noop(const struct dagreader_leaf *leaf, void *payload)
{
	return 0;
}

static int read_everything(void *payload)
{
	struct alloc_case *c = payload;
	struct buf target = BUF_INIT(64);
	struct dagreader_file *f = NULL;
	struct dagreader_stat st;
	uint8_t buf[700];
	struct cid got;
	size_t n;
	int rc;

	if ((rc = dagreader_file_open(&f, &c->d.src, &c->big)) < 0)
		return rc;
	for (uint64_t off = 0; off < c->len && rc == 0; off += 333)
		rc = dagreader_file_read(buf, &n, f, off, sizeof(buf));
	dagreader_file_close(f);
	if (rc == 0)
		rc = dagreader_stat(&st, &c->d.src, &c->t.root);
	if (rc == 0)
		rc = dagreader_dir_foreach(&c->d.src, &c->t.docs, noop_cb,
					   NULL);
	if (rc == 0)
		rc = dagreader_resolve_str(&got, &c->d.src, "/ipfs/"
					   "bafkqaaa");
	if (rc == 0)
		rc = dagreader_resolve(&got, &c->d.src, &c->t.root,
				       "docs/n7/file.txt");
	if (rc == 0)
		rc = dagreader_symlink_target(&target, &c->d.src, &c->t.ln);
	if (rc == 0)
		rc = dagreader_leaves_foreach(&c->d.src, &c->big, leaf_noop,
					      NULL);
	buf_release(&target);
	return rc;
}

static void test_dagreader__alloc_failure(void)
{
	struct alloc_case c;
	size_t blocks;

	c.len = 5000;
	c.data = random_bytes(c.len, 5);
	dag_init(&c.d);
	put_tree(&c.d, &c.t);
	c.big = build_file(&c.d, c.data, c.len, 100, 3, false, &blocks);
	CU_ASSERT(harness_alloc_loop(read_everything, &c) > 20);
	dag_release(&c.d);
	free(c.data);
}

static CU_TestInfo dagreader_tests[] = {
	{ "balanced", test_dagreader__balanced },
	{ "fetch_count", test_dagreader__fetch_count },
	{ "mixed_nodes", test_dagreader__mixed_nodes },
	{ "corrupt_files", test_dagreader__corrupt_files },
	{ "depth_bound", test_dagreader__depth_bound },
	{ "truncated", test_dagreader__truncated },
	{ "source_errors", test_dagreader__source_errors },
	{ "basic_dir", test_dagreader__basic_dir },
	{ "corrupt_dirs", test_dagreader__corrupt_dirs },
	{ "hamt_dir", test_dagreader__hamt_dir },
	{ "resolve", test_dagreader__resolve },
	{ "stat_and_symlink", test_dagreader__stat_and_symlink },
	{ "oracle_cars", test_dagreader__oracle_cars },
	{ "importer", test_dagreader__importer },
	{ "peek", test_dagreader__peek },
	{ "leaves", test_dagreader__leaves },
	{ "leaves_mixed", test_dagreader__leaves_mixed },
	{ "leaves_known", test_dagreader__leaves_known },
	{ "alloc_failure", test_dagreader__alloc_failure },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "dagreader", .pTests = dagreader_tests })
