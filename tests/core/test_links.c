/*
 * test_links.c - links_foreach per codec: dag-pb link order (blocks made
 * with dagpb_encode), dag-cbor document order (the links_doc vector of
 * tests/data/cbor/golden.txt, from @ipld/dag-cbor), raw and identity
 * blocks (none), unknown codecs, corrupt blocks, early stop, allocation
 * failures.
 */
#include "core/links.h"

#include <stdio.h>
#include <string.h>

#include "core/dagpb.h"
#include "core/error.h"
#include "tests/harness.h"

#define CID_A "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"
#define CID_V0 "QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n"
#define CID_RAW "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"

struct collect {
	struct cid ids[8];
	size_t n;
	int stop_at;
};

static int collect_cb(const struct cid *id, void *payload)
{
	struct collect *c = payload;

	if (c->n < 8)
		c->ids[c->n] = *id;
	if ((int)++c->n == c->stop_at)
		return 7;
	return 0;
}

/* A dag-pb node linking to CID_RAW, CID_V0, CID_RAW, CID_A, in order. */
static int make_pb(struct buf *out, struct cid *id)
{
	static const char *const targets[] = { CID_RAW, CID_V0, CID_RAW,
					       CID_A };
	static const char *const names[] = { "a", "b", "bb", "c" };
	struct dagpb_link links[4];
	struct dagpb_node node = { links, 4, (const uint8_t *)"\x08\x01", 2,
				   true };
	int rc;

	memset(links, 0, sizeof(links));
	for (size_t i = 0; i < 4; i++) {
		rc = cid_parse(&links[i].cid, targets[i]);
		if (rc < 0)
			return rc;
		links[i].name = (const uint8_t *)names[i];
		links[i].name_len = strlen(names[i]);
		links[i].tsize = 100 + i;
		links[i].has_name = links[i].has_tsize = true;
	}
	rc = dagpb_encode(out, &node);
	if (rc < 0)
		return rc;
	return cid_hash(id, 1, CID_CODEC_DAG_PB, MHASH_SHA2_256, out->ptr,
			out->len);
}

static void test_links__dagpb(void)
{
	static const char *const want[] = { CID_RAW, CID_V0, CID_RAW, CID_A };
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct collect c = { .stop_at = -1 };
	struct cid id, w;

	CU_ASSERT_EQUAL_FATAL(make_pb(&b, &id), 0);
	CU_ASSERT_EQUAL(links_foreach(&id, b.ptr, b.len, collect_cb, &c), 0);
	CU_ASSERT_EQUAL_FATAL(c.n, 4);
	for (size_t i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(cid_parse(&w, want[i]), 0);
		CU_ASSERT(cid_equal(&c.ids[i], &w));
	}
	/* the same block under its CIDv0 */
	c.n = 0;
	CU_ASSERT_EQUAL(cid_hash(&id, 0, CID_CODEC_DAG_PB, MHASH_SHA2_256,
				 b.ptr, b.len), 0);
	CU_ASSERT_EQUAL(links_foreach(&id, b.ptr, b.len, collect_cb, &c), 0);
	CU_ASSERT_EQUAL(c.n, 4);
	/* stop early with the callback's value */
	c.n = 0;
	c.stop_at = 3;
	CU_ASSERT_EQUAL(links_foreach(&id, b.ptr, b.len, collect_cb, &c), 7);
	CU_ASSERT_EQUAL(c.n, 3);
	/* truncated: corrupt, and no link reported */
	c.n = 0;
	c.stop_at = -1;
	CU_ASSERT_EQUAL(links_foreach(&id, b.ptr, b.len - 1, collect_cb, &c),
			EFS_ECORRUPT);
	CU_ASSERT_EQUAL(c.n, 0);
	buf_release(&b);
}

/* The links_doc vector of tests/data/cbor/golden.txt; -1 if missing. */
static long read_links_doc(uint8_t *out, size_t cap)
{
	struct buf file = BUF_INIT(BUF_NOCAP);
	long n = -1;

	if (harness_read_data(&file, "cbor/golden.txt") == 0)
		n = harness_vector_hex(out, cap, &file, "links_doc");
	buf_release(&file);
	return n;
}

static void test_links__dagcbor(void)
{
	static const char *const want[] = { CID_A, CID_RAW, CID_RAW, CID_V0 };
	struct collect c = { .stop_at = -1 };
	uint8_t doc[512];
	struct cid id, w;
	long n;

	n = read_links_doc(doc, sizeof(doc));
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL(cid_hash(&id, 1, CID_CODEC_DAG_CBOR, MHASH_SHA2_256,
				 doc, (size_t)n), 0);
	CU_ASSERT_EQUAL(links_foreach(&id, doc, (size_t)n, collect_cb, &c), 0);
	CU_ASSERT_EQUAL_FATAL(c.n, 4);
	for (size_t i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(cid_parse(&w, want[i]), 0);
		CU_ASSERT(cid_equal(&c.ids[i], &w));
	}
	c.n = 0;
	doc[0] = 0xa4;
	CU_ASSERT_EQUAL(links_foreach(&id, doc, (size_t)n, collect_cb, &c),
			EFS_ECORRUPT);
	CU_ASSERT_EQUAL(c.n, 0);
}

static void test_links__others(void)
{
	struct collect c = { .stop_at = -1 };
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct cid id, pb;

	/* raw: whatever the bytes look like, no links */
	CU_ASSERT_EQUAL_FATAL(make_pb(&b, &pb), 0);
	CU_ASSERT_EQUAL(cid_hash(&id, 1, CID_CODEC_RAW, MHASH_SHA2_256, b.ptr,
				 b.len), 0);
	CU_ASSERT_EQUAL(links_foreach(&id, b.ptr, b.len, collect_cb, &c), 0);
	/* identity CIDs name no block */
	CU_ASSERT_EQUAL(cid_hash(&id, 1, CID_CODEC_DAG_PB, MHASH_IDENTITY,
				 b.ptr, 100), 0);
	CU_ASSERT_EQUAL(links_foreach(&id, b.ptr, b.len, collect_cb, &c), 0);
	CU_ASSERT_EQUAL(c.n, 0);
	/* dag-json, dag-jose: not understood */
	id = pb;
	id.codec = 0x0129;
	CU_ASSERT_EQUAL(links_foreach(&id, b.ptr, b.len, collect_cb, &c),
			EFS_EUNSUPPORTED);
	CU_ASSERT(!links_codec_known(0x0129));
	CU_ASSERT(links_codec_known(CID_CODEC_DAG_PB));
	CU_ASSERT(links_codec_known(CID_CODEC_DAG_CBOR));
	CU_ASSERT(links_codec_known(CID_CODEC_RAW));
	CU_ASSERT_EQUAL(c.n, 0);
	buf_release(&b);
}

struct alloc_ctx {
	struct buf block;
	struct cid id;
};

static int walk_pb(void *payload)
{
	struct alloc_ctx *a = payload;
	struct collect c = { .stop_at = -1 };
	int rc = links_foreach(&a->id, a->block.ptr, a->block.len, collect_cb,
			       &c);

	if (rc == 0 && c.n != 4)
		rc = EFS_ERROR;
	return rc;
}

static void test_links__alloc(void)
{
	struct alloc_ctx a = { BUF_INIT(BUF_NOCAP), { 0 } };

	CU_ASSERT_EQUAL_FATAL(make_pb(&a.block, &a.id), 0);
	CU_ASSERT(harness_alloc_loop(walk_pb, &a) > 1);
	buf_release(&a.block);
}

static CU_TestInfo links_tests[] = {
	{ "dagpb", test_links__dagpb },
	{ "dagcbor", test_links__dagcbor },
	{ "others", test_links__others },
	{ "alloc", test_links__alloc },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "links", .pTests = links_tests })
