/*
 * test_dagpb.c - the dag-pb codec: golden blocks from @ipld/dag-pb 4.2.0
 * and ipfs-unixfs-importer 17.1.1 (tests/data/dagpb/golden.txt, see its
 * README) plus the well-known blocks of ipfs-formats.md §2-§5, decoding
 * strictness (every truncation, a table of corrupt inputs), canonical
 * encoding and link order, exact sizes over random nodes, Tsizes of the
 * importer's roots, and allocation-failure loops.
 */
#include "core/dagpb.h"

#include <string.h>

#include "core/error.h"
#include "core/varint.h"
#include "tests/core/dagpb_golden.h"
#include "tests/harness.h"

/* A CIDv0 (sha2-256 multihash) with digest aa..aa, and a link to it. */
#define H0 "1220" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define LINK_HASH "0a22" H0

static long unhex(uint8_t *out, size_t cap, const char *hex)
{
	long n = harness_unhex(out, cap, hex);

	CU_ASSERT_FATAL(n >= 0);
	return n;
}

/* Decode, re-encode and compare; returns the decode result. */
static int roundtrip(const uint8_t *p, size_t len, bool expect_same)
{
	struct dagpb_node node;
	struct buf out = BUF_INIT(BUF_NOCAP);
	int error = dagpb_decode(&node, p, len);
	size_t sum = 0;

	if (error < 0)
		return error;
	CU_ASSERT_EQUAL(dagpb_encode(&out, &node), 0);
	CU_ASSERT_EQUAL(out.len, dagpb_encoded_size(&node));
	if (expect_same) {
		CU_ASSERT_EQUAL(out.len, len);
		CU_ASSERT(out.len == len && !memcmp(out.ptr, p, len));
	}
	for (size_t i = 0; i < node.nlinks; i++)
		sum += dagpb_link_size(&node.links[i]);
	if (node.has_data)
		sum += 1 + varint_size(node.data_len) + node.data_len;
	CU_ASSERT_EQUAL(sum, out.len);
	buf_release(&out);
	dagpb_node_release(&node);
	return 0;
}

static void test_dagpb__golden(void)
{
	struct golden_set set;

	if (golden_load(&set) < 0)
		return;
	for (size_t i = 0; i < set.n; i++) {
		const struct golden *g = &set.v[i];
		struct cid want;

		if (!strcmp(g->kind, "unixfs"))
			continue;
		CU_ASSERT_EQUAL_FATAL(cid_parse(&want, g->cid), 0);
		CU_ASSERT_EQUAL(want.codec, CID_CODEC_DAG_PB);
		CU_ASSERT_EQUAL(cid_verify(&want, g->bytes, g->len), 0);
		bool canonical = !strcmp(g->kind, "block");

		if (roundtrip(g->bytes, g->len, canonical) < 0) {
			fprintf(stderr, "%s: %s\n", g->name, efs_error_msg());
			CU_FAIL("golden block does not decode");
		}
	}
	golden_free(&set);
}

/* The blocks ipfs-formats.md names, checked field by field. */
static void test_dagpb__wellknown(void)
{
	static const struct {
		const char *hex;
		const char *cid;
		const char *data_hex;
	} cases[] = {
		{ "0a0408021800",
		  "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH",
		  "08021800" },
		{ "0a0408021800",
		  "bafybeif7ztnhq65lumvvtr4ekcwd2ifwgm3awq4zfr3srh462rwyinlb4y",
		  "08021800" },
		{ "0a020801", "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn",
		  "0801" },
		{ "0a020801",
		  "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354",
		  "0801" },
		{ "0a110802120b68656c6c6f20776f726c64180b",
		  "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD",
		  "0802120b68656c6c6f20776f726c64180b" },
		{ "",
		  "bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
		  NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t block[64];
		uint8_t data[64];
		long n = unhex(block, sizeof(block), cases[i].hex);
		struct dagpb_node node;
		struct cid want;
		struct cid got;

		CU_ASSERT_EQUAL_FATAL(cid_parse(&want, cases[i].cid), 0);
		CU_ASSERT_EQUAL(cid_hash(&got, want.version, CID_CODEC_DAG_PB,
					 MHASH_SHA2_256, block, (size_t)n), 0);
		CU_ASSERT(cid_equal(&want, &got));
		CU_ASSERT_EQUAL_FATAL(dagpb_decode(&node, block, (size_t)n), 0);
		CU_ASSERT_EQUAL(node.nlinks, 0);
		CU_ASSERT_PTR_NULL(node.links);
		CU_ASSERT_EQUAL(node.has_data, cases[i].data_hex != NULL);
		if (cases[i].data_hex) {
			long dn = unhex(data, sizeof(data), cases[i].data_hex);

			CU_ASSERT_EQUAL(node.data_len, (size_t)dn);
			CU_ASSERT(!memcmp(node.data, data, (size_t)dn));
		}
		dagpb_node_release(&node);
	}
}

/* The 1 MiB + 1 root of the v1 profile: two raw leaves, names "". */
static void test_dagpb__raw_leaves_root(void)
{
	struct golden_set set;
	const struct golden *g;
	struct dagpb_node node;
	uint8_t data[16];
	long dn = unhex(data, sizeof(data), "08021881804020808040 2001");

	if (golden_load(&set) < 0)
		return;
	g = golden_find(&set, "raw-1mib1-root");
	CU_ASSERT_EQUAL(g->len, 104);
	CU_ASSERT_EQUAL_FATAL(dagpb_decode(&node, g->bytes, g->len), 0);
	CU_ASSERT_EQUAL_FATAL(node.nlinks, 2);
	for (size_t i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(node.links[i].cid.version, 1);
		CU_ASSERT_EQUAL(node.links[i].cid.codec, CID_CODEC_RAW);
		CU_ASSERT(node.links[i].has_name);
		CU_ASSERT_EQUAL(node.links[i].name_len, 0);
		CU_ASSERT(node.links[i].has_tsize);
	}
	CU_ASSERT_EQUAL(node.links[0].tsize, 1048576);
	CU_ASSERT_EQUAL(node.links[1].tsize, 1);
	CU_ASSERT_EQUAL(node.data_len, (size_t)dn);
	CU_ASSERT(!memcmp(node.data, data, (size_t)dn));
	/* Tsize of the root = block + leaves (ipfs-formats.md §3). */
	CU_ASSERT_EQUAL(g->len + node.links[0].tsize + node.links[1].tsize,
			1048681);
	dagpb_node_release(&node);
	golden_free(&set);
}

/* Legacy Data-first blocks decode to the same node as links-first. */
static void test_dagpb__data_first(void)
{
	struct golden_set set;
	const struct golden *df;
	const struct golden *canon;
	struct dagpb_node node;
	struct buf out = BUF_INIT(BUF_NOCAP);

	if (golden_load(&set) < 0)
		return;
	df = golden_find(&set, "pb-data-first");
	canon = golden_find(&set, "pb-data-first-canonical");
	CU_ASSERT_EQUAL_FATAL(dagpb_decode(&node, df->bytes, df->len), 0);
	CU_ASSERT_EQUAL(node.nlinks, 2);
	CU_ASSERT(node.has_data);
	CU_ASSERT_EQUAL(dagpb_encode(&out, &node), 0);
	CU_ASSERT_EQUAL(out.len, canon->len);
	CU_ASSERT(out.len == canon->len &&
		  !memcmp(out.ptr, canon->bytes, out.len));
	buf_release(&out);
	dagpb_node_release(&node);
	golden_free(&set);
}

/* True when the first k bytes of a valid block end on a PBNode field. */
static bool on_boundary(const uint8_t *p, size_t len, size_t k)
{
	size_t pos = 0;

	while (pos < k && pos < len) {
		uint64_t n;
		size_t used;

		if (varint_decode_pb(&n, &used, p + pos + 1, len - pos - 1) < 0)
			return false;
		pos += 1 + used + n;
	}
	return pos == k;
}

static void test_dagpb__truncated(void)
{
	struct golden_set set;

	if (golden_load(&set) < 0)
		return;
	for (size_t i = 0; i < set.n; i++) {
		const struct golden *g = &set.v[i];

		if (!strcmp(g->kind, "unixfs"))
			continue;
		for (size_t k = 0; k < g->len; k++) {
			/* A copy of exactly k bytes, so ASan sees overreads. */
			uint8_t *p = malloc(k ? k : 1);
			struct dagpb_node node;
			int want = on_boundary(g->bytes, g->len, k) ?
					   0 :
					   EFS_ECORRUPT;
			int got;

			CU_ASSERT_FATAL(p != NULL);
			memcpy(p, g->bytes, k);
			got = dagpb_decode(&node, p, k);
			if (got != want)
				fprintf(stderr, "%s[0..%zu): %d, want %d\n",
					g->name, k, got, want);
			CU_ASSERT_EQUAL(got, want);
			dagpb_node_release(&node);
			free(p);
		}
	}
	golden_free(&set);
}

static void test_dagpb__corrupt(void)
{
	static const struct {
		const char *what;
		const char *hex;
		int want;
	} cases[] = {
		{ "empty block", "", 0 },
		{ "data length missing", "0a", EFS_ECORRUPT },
		{ "data past end", "0a05 0801", EFS_ECORRUPT },
		{ "duplicate data", "0a020801 0a020801", EFS_ECORRUPT },
		{ "data as varint", "0802", EFS_ECORRUPT },
		{ "data as fixed64", "09 0000000000000000", EFS_ECORRUPT },
		{ "data as fixed32", "0d 00000000", EFS_ECORRUPT },
		{ "start group", "0b", EFS_ECORRUPT },
		{ "links as varint", "1001", EFS_ECORRUPT },
		{ "unknown node field 3", "1a00", EFS_ECORRUPT },
		{ "unknown node field 3 holding a link", "1a24 " LINK_HASH,
		  EFS_ECORRUPT },
		{ "unknown node field 15", "7a00", EFS_ECORRUPT },
		{ "unknown node field 2^29-1", "faffffff0f 00", EFS_ECORRUPT },
		{ "field number over 2^29", "8280808010 00", EFS_ECORRUPT },
		{ "field number 0", "0200", EFS_ECORRUPT },
		{ "trailing zero byte", "0a00 00", EFS_ECORRUPT },
		{ "trailing key", "0a00 0a", EFS_ECORRUPT },
		{ "trailing varint start", "0a00 ff", EFS_ECORRUPT },
		{ "non-minimal data length", "0a8200 0801", EFS_ECORRUPT },
		{ "non-minimal key", "8a00 00", EFS_ECORRUPT },
		{ "overlong length", "0affffffffffffffffff7f", EFS_ECORRUPT },
		{ "empty link", "1200", EFS_ECORRUPT },
		{ "link with only a name", "1203 120161", EFS_ECORRUPT },
		{ "link with only a tsize", "1202 1801", EFS_ECORRUPT },
		{ "name before hash", "1227 120161 " LINK_HASH, EFS_ECORRUPT },
		{ "tsize before name", "1229 " LINK_HASH " 1801 120161",
		  EFS_ECORRUPT },
		{ "duplicate hash", "1248 " LINK_HASH LINK_HASH, EFS_ECORRUPT },
		{ "duplicate name", "122a " LINK_HASH " 120161 120162",
		  EFS_ECORRUPT },
		{ "duplicate tsize", "1228 " LINK_HASH " 1801 1802",
		  EFS_ECORRUPT },
		{ "hash as varint", "1202 0801", EFS_ECORRUPT },
		{ "name as varint", "1226 " LINK_HASH " 1000", EFS_ECORRUPT },
		{ "tsize as bytes", "1226 " LINK_HASH " 1a00", EFS_ECORRUPT },
		{ "unknown link field 4", "1226 " LINK_HASH " 2001",
		  EFS_ECORRUPT },
		{ "link field 0", "1226 " LINK_HASH " 0001", EFS_ECORRUPT },
		{ "hash not a cid", "1204 0a02 1220", EFS_ECORRUPT },
		{ "empty hash", "1202 0a00", EFS_ECORRUPT },
		{ "hash with a trailing byte", "1225 0a23 " H0 "00",
		  EFS_ECORRUPT },
		{ "cid version 2", "1206 0a04 02701200", EFS_ECORRUPT },
		{ "cid version 0 in v1 form", "1206 0a04 00701200",
		  EFS_ECORRUPT },
		{ "non-minimal codec varint", "1208 0a06 01f0000001aa",
		  EFS_ECORRUPT },
		{ "sha2-256 digest of 3 bytes", "1209 0a07 01701203aabbcc",
		  EFS_ECORRUPT },
		{ "links on both sides of data",
		  "1224 " LINK_HASH " 0a00 1224 " LINK_HASH, EFS_ECORRUPT },
		{ "name past link end", "1226 " LINK_HASH " 1205",
		  EFS_ECORRUPT },
		{ "link past node end", "1230 " LINK_HASH, EFS_ECORRUPT },
		{ "tsize over 64 bits",
		  "122f " LINK_HASH " 18ffffffffffffffffff7f", EFS_ECORRUPT },
		{ "tsize truncated", "1225 " LINK_HASH " 18", EFS_ECORRUPT },
		{ "non-minimal tsize", "1228 " LINK_HASH " 188000",
		  EFS_ECORRUPT },
		/* Accepted. */
		{ "data before links", "0a020801 1224 " LINK_HASH, 0 },
		{ "name not utf-8", "1228 " LINK_HASH " 1202fffe", 0 },
		{ "tsize 2^64-1", "122f " LINK_HASH " 18ffffffffffffffffff01",
		  0 },
		{ "identity cid", "1208 0a06 01550002aabb", 0 },
		{ "unsorted links", "1227 " LINK_HASH " 120162 1227 " LINK_HASH
				    " 120161", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t block[512];
		long n = unhex(block, sizeof(block), cases[i].hex);
		uint8_t *p = malloc(n ? (size_t)n : 1);
		struct dagpb_node node;
		int got;

		CU_ASSERT_FATAL(p != NULL);
		memcpy(p, block, (size_t)n);
		got = dagpb_decode(&node, p, (size_t)n);
		if (got != cases[i].want)
			fprintf(stderr, "%s: got %d (%s)\n", cases[i].what, got,
				efs_error_msg());
		CU_ASSERT_EQUAL(got, cases[i].want);
		if (got < 0) {
			CU_ASSERT_PTR_NULL(node.links);
			CU_ASSERT_EQUAL(node.nlinks, 0);
		}
		dagpb_node_release(&node);
		free(p);
	}
}

static void test_dagpb__size_cap(void)
{
	size_t len = DAGPB_BLOCK_MAX + 1;
	uint8_t *block = calloc(1, len);
	struct dagpb_node node;
	struct buf out = BUF_INIT(BUF_NOCAP);
	size_t n = DAGPB_BLOCK_MAX - 1 - 3;  /* data of a block of the cap */
	size_t hdr;

	CU_ASSERT_FATAL(block != NULL);
	CU_ASSERT_EQUAL(dagpb_decode(&node, block, len), EFS_ETOOBIG);
	block[0] = 0x0a;
	hdr = 1 + varint_encode(block + 1, n);
	CU_ASSERT_EQUAL(hdr + n, DAGPB_BLOCK_MAX);
	CU_ASSERT_EQUAL_FATAL(dagpb_decode(&node, block, hdr + n), 0);
	CU_ASSERT_EQUAL(node.data_len, n);
	CU_ASSERT_EQUAL(dagpb_encode(&out, &node), 0);
	CU_ASSERT_EQUAL(out.len, DAGPB_BLOCK_MAX);
	buf_release(&out);
	node.data_len++;
	CU_ASSERT_EQUAL(dagpb_encode(&out, &node), EFS_ETOOBIG);
	CU_ASSERT_EQUAL(out.len, 0);
	dagpb_node_release(&node);
	free(block);
}

static struct cid cid_v0_aa(void)
{
	uint8_t digest[32];
	struct cid c;

	memset(digest, 0xaa, sizeof(digest));
	CU_ASSERT_EQUAL(cid_init(&c, 0, CID_CODEC_DAG_PB, MHASH_SHA2_256,
				 digest, sizeof(digest)), 0);
	return c;
}

/* Encode from a struct: the canonical bytes, field by field. */
static void test_dagpb__encode(void)
{
	struct dagpb_link links[3] = {
		{ .cid = cid_v0_aa(), .name = (const uint8_t *)"",
		  .has_name = true, .has_tsize = true },
		{ .cid = cid_v0_aa(), .name = (const uint8_t *)"a",
		  .name_len = 1, .tsize = 300, .has_name = true,
		  .has_tsize = true },
		{ .cid = cid_v0_aa() },
	};
	struct dagpb_node node = { .links = links, .nlinks = 2,
				   .data = (const uint8_t *)"\x08\x01",
				   .data_len = 2, .has_data = true };
	struct buf out = BUF_INIT(BUF_NOCAP);
	uint8_t want[256];
	long n = unhex(want, sizeof(want),
		       "1228 " LINK_HASH " 1200 1800"
		       "122a " LINK_HASH " 120161 18ac02"
		       "0a02 0801");

	CU_ASSERT_EQUAL(dagpb_encode(&out, &node), 0);
	CU_ASSERT_EQUAL(out.len, (size_t)n);
	CU_ASSERT(!memcmp(out.ptr, want, (size_t)n));
	CU_ASSERT_EQUAL(dagpb_encoded_size(&node), (size_t)n);
	CU_ASSERT_EQUAL(dagpb_link_size(&links[0]), 42);
	CU_ASSERT_EQUAL(dagpb_link_size(&links[1]), 44);
	/* No name, no tsize: Hash only.  Empty data: 0a 00. */
	buf_reset(&out);
	node.links = &links[2];
	node.nlinks = 1;
	node.data_len = 0;
	n = unhex(want, sizeof(want), "1224 " LINK_HASH " 0a00");
	CU_ASSERT_EQUAL(dagpb_encode(&out, &node), 0);
	CU_ASSERT_EQUAL(out.len, (size_t)n);
	CU_ASSERT(!memcmp(out.ptr, want, (size_t)n));
	/* Nothing at all: the empty block. */
	buf_reset(&out);
	node.nlinks = 0;
	node.has_data = false;
	CU_ASSERT_EQUAL(dagpb_encode(&out, &node), 0);
	CU_ASSERT_EQUAL(out.len, 0);
	buf_release(&out);
}

static void test_dagpb__encode_errors(void)
{
	struct dagpb_link links[2] = {
		{ .cid = cid_v0_aa(), .name = (const uint8_t *)"b",
		  .name_len = 1, .has_name = true },
		{ .cid = cid_v0_aa(), .name = (const uint8_t *)"a",
		  .name_len = 1, .has_name = true },
	};
	struct dagpb_node node = { .links = links, .nlinks = 2 };
	struct buf out = BUF_INIT(BUF_NOCAP);
	struct buf small = BUF_INIT(8);

	CU_ASSERT_EQUAL(buf_adds(&out, "keep"), 0);
	CU_ASSERT_EQUAL(dagpb_encode(&out, &node), EFS_EINVAL);
	CU_ASSERT_EQUAL(out.len, 4);
	/* No name sorts as "": after "b" it is out of order ... */
	links[1].has_name = false;
	CU_ASSERT_EQUAL(dagpb_encode(&out, &node), EFS_EINVAL);
	/* ... and equal to another empty one, which is in order. */
	links[0].has_name = false;
	CU_ASSERT_EQUAL(dagpb_encode(&out, &node), 0);
	links[0].has_name = true;
	links[0].name_len = 0;
	CU_ASSERT_EQUAL(dagpb_encode(&out, &node), 0);
	CU_ASSERT_EQUAL(dagpb_encode(&small, &node), EFS_ETOOBIG);
	CU_ASSERT_EQUAL(small.len, 0);
	buf_release(&out);
	buf_release(&small);
}

static void test_dagpb__name_compare(void)
{
	static const struct {
		const char *a;
		const char *b;
		int want;
	} cases[] = {
		{ "", "", 0 },      { "a", "", 1 },      { "", "a", -1 },
		{ "a", "b", -1 },   { "b", "a", 1 },     { "a", "ab", -1 },
		{ "ab", "a", 1 },   { "ab", "b", -1 },   { "B", "a", -1 },
		{ "\xff", "a", 1 }, { "a\xff", "b", -1 }, { "abc", "abc", 0 },
		{ "\xc3\xa9", "z", 1 }, /* é after z: bytes, not code points */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *a = cases[i].a;
		const char *b = cases[i].b;

		CU_ASSERT_EQUAL(dagpb_name_compare((const uint8_t *)a,
						   strlen(a),
						   (const uint8_t *)b,
						   strlen(b)),
				cases[i].want);
	}
	CU_ASSERT_EQUAL(dagpb_name_compare(NULL, 0, NULL, 0), 0);
	CU_ASSERT_EQUAL(dagpb_name_compare((const uint8_t *)"a\0b", 3,
					   (const uint8_t *)"a\0c", 3), -1);
}

/* Links named from a small alphabet (many ties and prefixes); the
 * original index is kept in tsize. */
static void random_links(struct dagpb_link *links, uint8_t (*names)[4],
			 size_t n, uint64_t *x)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = harness_rand64(x) % 4;

		for (size_t k = 0; k < len; k++)
			names[i][k] = "ab\xff"[harness_rand64(x) % 3];
		memset(&links[i], 0, sizeof(links[i]));
		links[i].cid = cid_v0_aa();
		links[i].name = names[i];
		links[i].name_len = len;
		links[i].has_name = harness_rand64(x) % 8 != 0;
		links[i].tsize = i;
		links[i].has_tsize = true;
	}
}

static int link_order(const struct dagpb_link *a, const struct dagpb_link *b)
{
	return dagpb_name_compare(a->name, a->has_name ? a->name_len : 0,
				  b->name, b->has_name ? b->name_len : 0);
}

static void test_dagpb__sort(void)
{
	enum { MAXN = 300 };
	static struct dagpb_link links[MAXN];
	static uint8_t names[MAXN][4];
	uint64_t x = 42;

	for (size_t round = 0; round < 200; round++) {
		size_t n = round < 20 ? round : harness_rand64(&x) % MAXN;

		random_links(links, names, n, &x);
		CU_ASSERT_EQUAL_FATAL(dagpb_links_sort(links, n), 0);
		for (size_t i = 1; i < n; i++) {
			int c = link_order(&links[i - 1], &links[i]);

			/* Sorted, and ties keep their original order. */
			CU_ASSERT(c < 0 || (c == 0 && links[i - 1].tsize <
							 links[i].tsize));
		}
	}
}

/* A random node: CIDs of every shape, names and data crossing varint
 * length boundaries, optional fields on and off. */
static void random_node(struct dagpb_node *node, struct dagpb_link *links,
			size_t maxlinks, const uint8_t *pool, uint64_t *x)
{
	static const uint64_t tsizes[] = { 0, 127, 128, 16383, 16384,
					   1ull << 35, UINT64_MAX };

	node->links = links;
	node->nlinks = harness_rand64(x) % maxlinks;
	for (size_t i = 0; i < node->nlinks; i++) {
		struct dagpb_link *l = &links[i];
		size_t dlen = harness_rand64(x) % (MHASH_DIGEST_MAX + 1);
		int kind = (int)(harness_rand64(x) % 3);

		memset(l, 0, sizeof(*l));
		if (kind == 0)
			cid_init(&l->cid, 0, CID_CODEC_DAG_PB, MHASH_SHA2_256,
				 pool, 32);
		else if (kind == 1)
			cid_init(&l->cid, 1, CID_CODEC_RAW, MHASH_BLAKE2B_256,
				 pool, 32);
		else
			cid_init(&l->cid, 1, 0x300000 + dlen, MHASH_IDENTITY,
				 pool, dlen);
		l->name = pool + harness_rand64(x) % 1000;
		l->name_len = harness_rand64(x) % 300;
		l->has_name = harness_rand64(x) % 4 != 0;
		l->tsize = harness_rand64(x) % 2 ? harness_rand64(x) >>
							(harness_rand64(x) % 64)
					      : tsizes[harness_rand64(x) % 7];
		l->has_tsize = harness_rand64(x) % 4 != 0;
	}
	node->data = pool + harness_rand64(x) % 1000;
	node->data_len = harness_rand64(x) % 2 ? harness_rand64(x) % 200 :
					      harness_rand64(x) % 20000;
	node->has_data = harness_rand64(x) % 4 != 0;
}

static bool links_equal(const struct dagpb_link *a, const struct dagpb_link *b)
{
	return cid_equal(&a->cid, &b->cid) && a->has_name == b->has_name &&
	       a->has_tsize == b->has_tsize &&
	       (!a->has_name || (a->name_len == b->name_len &&
				 !memcmp(a->name, b->name, a->name_len))) &&
	       (!a->has_tsize || a->tsize == b->tsize);
}

static void test_dagpb__random_sizes(void)
{
	enum { MAXLINKS = 40 };
	static uint8_t pool[21000];
	struct dagpb_link links[MAXLINKS];
	uint64_t x = 7;

	harness_fill_random(pool, sizeof(pool), 99);
	for (int round = 0; round < 2000; round++) {
		struct dagpb_node node;
		struct dagpb_node back;
		struct buf out = BUF_INIT(BUF_NOCAP);
		size_t sum = 0;

		random_node(&node, links, MAXLINKS, pool, &x);
		CU_ASSERT_EQUAL_FATAL(dagpb_links_sort(links, node.nlinks), 0);
		CU_ASSERT_EQUAL_FATAL(dagpb_encode(&out, &node), 0);
		CU_ASSERT_EQUAL(out.len, dagpb_encoded_size(&node));
		for (size_t i = 0; i < node.nlinks; i++)
			sum += dagpb_link_size(&links[i]);
		if (node.has_data)
			sum += 1 + varint_size(node.data_len) + node.data_len;
		CU_ASSERT_EQUAL(out.len, sum);
		CU_ASSERT_EQUAL_FATAL(dagpb_decode(&back, out.ptr, out.len), 0);
		CU_ASSERT_EQUAL(back.nlinks, node.nlinks);
		for (size_t i = 0; i < node.nlinks && i < back.nlinks; i++)
			CU_ASSERT(links_equal(&back.links[i], &links[i]));
		CU_ASSERT_EQUAL(back.has_data, node.has_data);
		if (node.has_data)
			CU_ASSERT(back.data_len == node.data_len &&
				  !memcmp(back.data, node.data, node.data_len));
		dagpb_node_release(&back);
		buf_release(&out);
	}
}

struct alloc_case {
	const uint8_t *block;
	size_t len;
	struct dagpb_link *links;
	size_t nlinks;
};

static int decode_encode(void *payload)
{
	struct alloc_case *c = payload;
	struct dagpb_node node;
	struct buf out = BUF_INIT(BUF_NOCAP);
	int error;

	if ((error = dagpb_decode(&node, c->block, c->len)) < 0)
		return error;
	error = dagpb_encode(&out, &node);
	if (error == 0 && (out.len != c->len || memcmp(out.ptr, c->block,
						       c->len)))
		error = EFS_ERROR;
	buf_release(&out);
	dagpb_node_release(&node);
	return error;
}

static int sort_copy(void *payload)
{
	struct alloc_case *c = payload;
	struct dagpb_link copy[8];
	int error;

	memcpy(copy, c->links, c->nlinks * sizeof(copy[0]));
	if ((error = dagpb_links_sort(copy, c->nlinks)) < 0)
		/* On failure the links are left as they were. */
		return memcmp(copy, c->links, c->nlinks * sizeof(copy[0])) ?
			       EFS_ERROR :
			       error;
	for (size_t i = 1; i < c->nlinks; i++)
		if (link_order(&copy[i - 1], &copy[i]) > 0)
			return EFS_ERROR;
	return 0;
}

static void test_dagpb__alloc_failure(void)
{
	struct golden_set set;
	const struct golden *g;
	struct alloc_case c;
	struct dagpb_link links[8];
	uint8_t names[8][4];
	uint64_t x = 3;

	if (golden_load(&set) < 0)
		return;
	g = golden_find(&set, "dir-v1-root");
	c.block = g->bytes;
	c.len = g->len;
	CU_ASSERT(harness_alloc_loop(decode_encode, &c) >= 3);
	g = golden_find(&set, "pb-empty");
	c.block = g->bytes;
	c.len = g->len;
	CU_ASSERT(harness_alloc_loop(decode_encode, &c) >= 1);
	do {
		random_links(links, names, 8, &x);
	} while (link_order(&links[0], &links[1]) <= 0);
	c.links = links;
	c.nlinks = 8;
	CU_ASSERT(harness_alloc_loop(sort_copy, &c) >= 2);
	golden_free(&set);
}

static int tsize_of(void *payload)
{
	const struct golden *g = payload;
	uint64_t tsize;

	return dagpb_tsize(&tsize, g->bytes, g->len);
}

/*
 * Tsizes of roots: the `size` ipfs-unixfs-importer 17.1.1 reports for
 * the imports of tests/data/dagpb/gen-golden.mjs (the same options, run
 * once with the oracle's packages; see the README there).
 */
static void test_dagpb__tsize(void)
{
	static const struct {
		const char *name;
		uint64_t tsize;
	} want[] = {
		{ "hello-v0-root", 19 },	{ "raw-1mib1-root", 1048681 },
		{ "chunked-v0-root", 184 },	{ "deep-v0-root", 1064 },
		{ "trickle-v0-root", 505 },	{ "dir-v1-root", 392 },
		{ "hamt256-v1-root", 791 },	{ "hamt8-v0-root", 1204 },
	};
	struct golden_set set;
	uint8_t big[128];
	uint64_t tsize;
	long n;

	if (golden_load(&set) < 0)
		return;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct golden *g = golden_find(&set, want[i].name);

		CU_ASSERT_FATAL(g != NULL);
		tsize = 0;
		CU_ASSERT_EQUAL(dagpb_tsize(&tsize, g->bytes, g->len), 0);
		CU_ASSERT_EQUAL(tsize, want[i].tsize);
	}
	CU_ASSERT(harness_alloc_loop(tsize_of,
				     (void *)golden_find(&set, "deep-v0-root")) ==
		  2);
	/* not dag-pb; Tsizes whose sum passes 2^64 - 1 */
	tsize = 7;
	CU_ASSERT_EQUAL(dagpb_tsize(&tsize, (const uint8_t *)"\xff", 1),
			EFS_ECORRUPT);
	n = unhex(big, sizeof(big),
		  "122f" LINK_HASH "18feffffffffffffffff01"
		  "1226" LINK_HASH "1801");
	CU_ASSERT_EQUAL(dagpb_tsize(&tsize, big, (size_t)n), EFS_ECORRUPT);
	CU_ASSERT_EQUAL(tsize, 7);
	golden_free(&set);
}

static CU_TestInfo dagpb_tests[] = {
	{ "golden", test_dagpb__golden },
	{ "wellknown", test_dagpb__wellknown },
	{ "raw_leaves_root", test_dagpb__raw_leaves_root },
	{ "data_first", test_dagpb__data_first },
	{ "truncated", test_dagpb__truncated },
	{ "corrupt", test_dagpb__corrupt },
	{ "size_cap", test_dagpb__size_cap },
	{ "encode", test_dagpb__encode },
	{ "encode_errors", test_dagpb__encode_errors },
	{ "name_compare", test_dagpb__name_compare },
	{ "sort", test_dagpb__sort },
	{ "random_sizes", test_dagpb__random_sizes },
	{ "alloc_failure", test_dagpb__alloc_failure },
	{ "tsize", test_dagpb__tsize },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "dagpb", .pTests = dagpb_tests })
