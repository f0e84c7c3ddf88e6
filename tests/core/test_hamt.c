/*
 * test_hamt.c - HAMT sharded directories: murmur3 vectors from
 * @multiformats/murmur3 2.2.8, golden shard trees from the oracle
 * (tests/data/hamt/, made by ipfs-unixfs-importer 17.1.1 through
 * cid-of-tree.mjs; two of them are kubo's IPIP-499 vectors), lookups,
 * iteration order, corrupt shards, source errors and allocation failure.
 */
#include "core/hamt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/dagpb.h"
#include "core/error.h"
#include "core/memstore.h"
#include "tests/harness.h"

/* ---- murmur3 ---------------------------------------------------------- */

/* murmur3128.encode(s).subarray(0, 8) read big-endian, from
 * @multiformats/murmur3 2.2.8, for prefixes of ALPHA (every tail length). */
#define ALPHA "abcdefghijklmnopqrstuvwxyz0123456789"

static const struct {
	size_t len;
	uint64_t h;
} mm_prefix[] = {
	{ 0, 0x0000000000000000ull },  { 1, 0x85555565f6597889ull },
	{ 2, 0x938b11ea16ed1b2eull },  { 3, 0xb4963f3f3fad7867ull },
	{ 4, 0xb87bb7d64656cd4full },  { 5, 0x2036d091f496bbb8ull },
	{ 6, 0xe47d86bfaca3bf55ull },  { 7, 0xa6cd2f9fc09ee499ull },
	{ 8, 0xcc8a0ab037ef8c02ull },  { 9, 0x0547c0cff13c7964ull },
	{ 10, 0xb6c15b0d772f8c99ull }, { 11, 0xa895d0b8df789d02ull },
	{ 12, 0x8ef39bb1e67ae194ull }, { 13, 0x1648288da7c0fa73ull },
	{ 14, 0x91d094a7f5c375e0ull }, { 15, 0x8abe2451890c2ffbull },
	{ 16, 0xc4ca3ca3224cb723ull }, { 17, 0x7564747f88bda657ull },
	{ 18, 0x77f08cec907f8a50ull }, { 24, 0x6494960fd4de2cf7ull },
	{ 30, 0x41681900ec9b3341ull }, { 36, 0xf2596f5eb4ff5e3aull },
};

static const struct {
	const char *s;
	uint64_t h;
} mm_text[] = {
	{ "\xc3\xbc" "n\xc3\xaf" "c\xc3\xb8" "d\xc3\xa9",
	  0x8b74219dc3a02db9ull },
	{ "The quick brown fox jumps over the lazy dog",
	  0xe34bbc7bbc071b6cull },
};

static void test_hamt__murmur3(void)
{
	for (size_t i = 0; i < sizeof(mm_prefix) / sizeof(mm_prefix[0]); i++)
		CU_ASSERT_EQUAL(hamt_murmur3_64(ALPHA, mm_prefix[i].len),
				mm_prefix[i].h);
	for (size_t i = 0; i < sizeof(mm_text) / sizeof(mm_text[0]); i++)
		CU_ASSERT_EQUAL(hamt_murmur3_64(mm_text[i].s,
						strlen(mm_text[i].s)),
				mm_text[i].h);
}

/* ---- golden vectors --------------------------------------------------- */

struct vector {
	struct buf text;            /* names point into it */
	struct hamt_opts opts;
	struct unixfs_data meta;
	char root[CID_STR_MAX];
	uint64_t tsize;
	size_t shards;
	struct hamt_entry *entries;
	size_t n;
};

static void vector_release(struct vector *v)
{
	buf_release(&v->text);
	free(v->entries);
}

/* "e CID TSIZE NAME" ("-" for the child line's CID and TSIZE). */
static int parse_entry(struct hamt_entry *e, char *line,
		       const struct hamt_entry *child)
{
	char *cid = line + 2;
	char *tsize = strchr(cid, ' ');
	char *name = tsize ? strchr(tsize + 1, ' ') : NULL;

	if (!name)
		return -1;
	*tsize++ = '\0';
	*name++ = '\0';
	e->name = name;
	e->name_len = strlen(name);
	if (cid[0] == '-') {
		e->cid = child->cid;
		e->tsize = child->tsize;
		return 0;
	}
	e->tsize = strtoull(tsize, NULL, 10);
	return cid_parse(&e->cid, cid);
}

static int parse_line(struct vector *v, char *line, struct hamt_entry *child)
{
	char word[CID_STR_MAX];
	unsigned long long a;
	unsigned b;

	if (line[0] == '#' || line[0] == '\0')
		return 0;
	if (line[0] == 'e' && line[1] == ' ')
		return parse_entry(&v->entries[v->n++], line, child);
	if (sscanf(line, "fanout %u", &v->opts.fanout) == 1 ||
	    sscanf(line, "cidv %d", &v->opts.cid_version) == 1 ||
	    sscanf(line, "root %255s", v->root) == 1 ||
	    sscanf(line, "shards %zu", &v->shards) == 1)
		return 0;
	if (sscanf(line, "tsize %llu", &a) == 1) {
		v->tsize = a;
		return 0;
	}
	if (sscanf(line, "hash %63s", word) == 1)
		return mhash_from_name(&v->opts.hash, word);
	if (sscanf(line, "mode %o", &b) == 1) {
		v->meta.mode = b;
		v->meta.has_mode = true;
		v->opts.meta = &v->meta;
		return 0;
	}
	if (sscanf(line, "mtime %llu %u", &a, &b) == 2) {
		v->meta.mtime_sec = (int64_t)a;
		v->meta.mtime_nsec = b;
		v->meta.has_mtime = true;
		v->opts.meta = &v->meta;
		return 0;
	}
	if (sscanf(line, "child %255s %llu", word, &a) == 2) {
		child->tsize = a;
		return cid_parse(&child->cid, word);
	}
	return -1;
}

static void vector_load(struct vector *v, const char *file)
{
	struct hamt_entry child;
	size_t lines = 0;
	char *p;

	memset(v, 0, sizeof(*v));
	memset(&child, 0, sizeof(child));
	buf_init(&v->text, BUF_NOCAP);
	CU_ASSERT_FATAL(harness_read_data(&v->text, file) == 0);
	for (size_t i = 0; i < v->text.len; i++)
		lines += v->text.ptr[i] == '\n';
	v->entries = calloc(lines + 1, sizeof(*v->entries));
	CU_ASSERT_FATAL(v->entries != NULL);
	p = (char *)v->text.ptr;
	while (*p) {
		char *nl = strchr(p, '\n');

		CU_ASSERT_FATAL(nl != NULL);
		*nl = '\0';
		CU_ASSERT_FATAL(parse_line(v, p, &child) == 0);
		p = nl + 1;
	}
	CU_ASSERT_FATAL(v->n > 0 && v->root[0] != '\0');
}

/* A source that counts gets and can fail them. */
struct counting {
	struct blockio_source inner;
	size_t gets;
	int fail_with;      /* returned instead of the block when non-zero */
};

static int counting_get(void *payload, const struct cid *id, struct buf *out)
{
	struct counting *c = payload;

	c->gets++;
	if (c->fail_with)
		return efs_error_set(c->fail_with, "injected");
	return blockio_get(&c->inner, id, out);
}

static struct blockio_source counting_source(struct counting *c,
					     struct memstore *ms)
{
	struct blockio_source s = { counting_get, c };

	memset(c, 0, sizeof(*c));
	c->inner = memstore_source(ms);
	return s;
}

struct collect {
	const struct vector *v;
	size_t next;
	bool in_order;
};

static int collect_cb(const char *name, size_t name_len, const struct cid *id,
		      uint64_t tsize, void *payload)
{
	struct collect *c = payload;
	const struct hamt_entry *e;

	if (c->next >= c->v->n) {
		c->in_order = false;
		return 0;
	}
	e = &c->v->entries[c->next++];
	if (e->name_len != name_len ||
	    memcmp(e->name, name, name_len) || !cid_equal(&e->cid, id) ||
	    e->tsize != tsize)
		c->in_order = false;
	return 0;
}

/* Every entry is found, touching at most one shard per level. */
static void check_lookups(const struct vector *v, struct memstore *ms,
			  const struct cid *root)
{
	struct counting c;
	struct blockio_source src = counting_source(&c, ms);
	size_t max_gets = 0;

	for (size_t i = 0; i < v->n; i++) {
		struct cid got;
		size_t before = c.gets;

		CU_ASSERT_EQUAL_FATAL(hamt_lookup(&got, &src, root,
						  v->entries[i].name,
						  v->entries[i].name_len), 0);
		CU_ASSERT(cid_equal(&got, &v->entries[i].cid));
		if (c.gets - before > max_gets)
			max_gets = c.gets - before;
	}
	/* The kubo trees (fanout 256, ~4000 entries) are 3-4 levels deep. */
	CU_ASSERT(max_gets <= 64 / 3);
	CU_ASSERT(v->opts.fanout != 256 || v->n < 4000 || max_gets <= 4);
	for (int i = 0; i < 200; i++) {
		char name[32];
		struct cid got;
		int n = snprintf(name, sizeof(name), "absent-%d", i);

		CU_ASSERT_EQUAL(hamt_lookup(&got, &src, root, name,
					    (size_t)n), EFS_ENOTFOUND);
	}
}

static void check_vector(const char *file)
{
	struct vector v;
	struct memstore *ms;
	struct blockio_sink sink;
	struct blockio_source src;
	struct collect col;
	struct cid root;
	char str[CID_STR_MAX];
	uint64_t tsize;

	vector_load(&v, file);
	CU_ASSERT_FATAL(memstore_new(&ms) == 0);
	sink = memstore_sink(ms);
	src = memstore_source(ms);
	CU_ASSERT_EQUAL_FATAL(hamt_build(&root, &tsize, v.entries, v.n,
					 &v.opts, &sink), 0);
	if (strcmp(cid_tostr(str, &root), v.root))
		fprintf(stderr, "%s: got %s want %s\n", file, str, v.root);
	CU_ASSERT_STRING_EQUAL(str, v.root);
	CU_ASSERT_EQUAL(tsize, v.tsize);
	CU_ASSERT_EQUAL(memstore_count(ms), v.shards);

	col = (struct collect){ &v, 0, true };
	CU_ASSERT_EQUAL(hamt_foreach(&src, &root, collect_cb, &col), 0);
	CU_ASSERT(col.in_order);
	CU_ASSERT_EQUAL(col.next, v.n);
	check_lookups(&v, ms, &root);

	/* Insertion order does not matter. */
	{
		struct hamt_entry *e = v.entries;
		struct cid again;

		for (size_t i = v.n - 1; i > 0; i--) {
			size_t j = (size_t)(i * 7919u + 13u) % (i + 1);
			struct hamt_entry t = e[i];

			e[i] = e[j];
			e[j] = t;
		}
		CU_ASSERT_EQUAL(hamt_build(&again, &tsize, e, v.n, &v.opts,
					   &blockio_null_sink), 0);
		CU_ASSERT(cid_equal(&again, &root));
	}
	memstore_free(ms);
	vector_release(&v);
}

static void test_hamt__kubo_v0(void)
{
	check_vector("hamt/kubo-v0-4033.txt");
}

static void test_hamt__kubo_v1(void)
{
	check_vector("hamt/kubo-v1-4766.txt");
}

static void test_hamt__own_vectors(void)
{
	static const char *files[] = {
		"hamt/own-256.txt", "hamt/own-16.txt", "hamt/own-1024.txt",
		"hamt/own-8.txt",   "hamt/own-small.txt",
		"hamt/own-v0-meta.txt", "hamt/own-blake2b.txt",
	};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		check_vector(files[i]);
}

/* ---- building errors -------------------------------------------------- */

static int failing_put(void *payload, const struct cid *id,
		       const uint8_t *data, size_t len)
{
	(void)payload;
	(void)id;
	(void)data;
	(void)len;
	return efs_error_set(EFS_EIO, "injected");
}

static void test_hamt__build_errors(void)
{
	static const unsigned bad_fanouts[] = { 0, 1, 4, 7, 12, 100, 2048 };
	struct hamt_entry e[3];
	struct hamt_opts opts = { 256, 1, MHASH_SHA2_256, NULL };
	struct blockio_sink fail = { failing_put, NULL };
	struct cid root;
	uint64_t tsize;

	memset(e, 0, sizeof(e));
	CU_ASSERT_FATAL(cid_hash(&e[0].cid, 1, CID_CODEC_RAW, MHASH_SHA2_256,
				 "x", 1) == 0);
	e[1].cid = e[2].cid = e[0].cid;
	e[0].name = "one";
	e[1].name = "two";
	e[2].name = "one";
	for (int i = 0; i < 3; i++)
		e[i].name_len = 3;
	for (size_t i = 0; i < sizeof(bad_fanouts) / sizeof(*bad_fanouts);
	     i++) {
		opts.fanout = bad_fanouts[i];
		CU_ASSERT_EQUAL(hamt_build(&root, &tsize, e, 2, &opts,
					   &blockio_null_sink), EFS_EINVAL);
	}
	opts.fanout = 256;
	CU_ASSERT_EQUAL(hamt_build(&root, &tsize, e, 3, &opts,
				   &blockio_null_sink), EFS_EINVAL);
	e[2].name_len = 0;
	CU_ASSERT_EQUAL(hamt_build(&root, &tsize, e, 3, &opts,
				   &blockio_null_sink), EFS_EINVAL);
	CU_ASSERT_EQUAL(hamt_build(&root, &tsize, e, 2, &opts, &fail),
			EFS_EIO);
	/* CIDv0 needs sha2-256 */
	opts.cid_version = 0;
	opts.hash = MHASH_BLAKE2B_256;
	CU_ASSERT_EQUAL(hamt_build(&root, &tsize, e, 2, &opts,
				   &blockio_null_sink), EFS_EINVAL);
	/* Sizes that cannot be summed. */
	opts.cid_version = 1;
	opts.hash = MHASH_SHA2_256;
	e[0].tsize = UINT64_MAX;
	e[1].tsize = 1;
	CU_ASSERT_EQUAL(hamt_build(&root, &tsize, e, 2, &opts,
				   &blockio_null_sink), EFS_EINVAL);
	/* Fanouts 8..1024 and an empty tree are fine. */
	e[0].tsize = 0;
	for (unsigned f = 8; f <= 1024; f *= 2) {
		opts.fanout = f;
		CU_ASSERT_EQUAL(hamt_build(&root, &tsize, e, 2, &opts,
					   &blockio_null_sink), 0);
	}
	CU_ASSERT_EQUAL(hamt_build(&root, &tsize, e, 0, &opts,
				   &blockio_null_sink), 0);
}

/* ---- corrupt shards --------------------------------------------------- */

/* What a mutation may need to outlive the re-encoding. */
struct scratch {
	uint8_t bytes[64];
	char names[2][512];
	struct cid cid;
	size_t k;
};

typedef void (*mutate_fn)(struct dagpb_node *node, struct unixfs_data *fsd,
			  struct scratch *s);

/* Decode id's block, let fn change it, store the re-encoded block. */
static int rewrite(struct cid *out, struct memstore *ms, const struct cid *id,
		   mutate_fn fn, struct scratch *s)
{
	struct buf data = BUF_INIT(BUF_NOCAP);
	struct buf block = BUF_INIT(BUF_NOCAP);
	struct dagpb_node node;
	struct unixfs_data fsd;
	uint8_t *p;
	size_t len;
	int rc;

	if ((rc = memstore_peek(&p, &len, ms, id)) < 0 ||
	    (rc = dagpb_decode(&node, p, len)) < 0)
		return rc;
	if ((rc = unixfs_decode(&fsd, node.data, node.data_len)) < 0)
		goto out_node;
	fn(&node, &fsd, s);
	if ((rc = unixfs_encode(&data, &fsd)) < 0)
		goto out;
	node.data = data.ptr;
	node.data_len = data.len;
	if ((rc = dagpb_encode(&block, &node)) < 0 ||
	    (rc = cid_hash(out, 1, CID_CODEC_DAG_PB, MHASH_SHA2_256,
			   block.ptr, block.len)) < 0)
		goto out;
	rc = memstore_put(ms, out, block.ptr, block.len);
out:
	buf_release(&block);
	buf_release(&data);
	unixfs_data_release(&fsd);
out_node:
	dagpb_node_release(&node);
	return rc;
}

static void m_hash_type(struct dagpb_node *n, struct unixfs_data *d,
			struct scratch *s)
{
	d->hash_type = 0x23;
}

static void m_no_hash_type(struct dagpb_node *n, struct unixfs_data *d,
			   struct scratch *s)
{
	d->has_hash_type = false;
}

static void m_fanout_100(struct dagpb_node *n, struct unixfs_data *d,
			 struct scratch *s)
{
	d->fanout = 100;
}

static void m_fanout_2048(struct dagpb_node *n, struct unixfs_data *d,
			  struct scratch *s)
{
	d->fanout = 2048;
}

static void m_fanout_4(struct dagpb_node *n, struct unixfs_data *d,
		       struct scratch *s)
{
	d->fanout = 4;
}

static void m_fanout_128(struct dagpb_node *n, struct unixfs_data *d,
			 struct scratch *s)
{
	d->fanout = 128;
}

static void m_no_fanout(struct dagpb_node *n, struct unixfs_data *d,
			struct scratch *s)
{
	d->has_fanout = false;
}

static void m_directory(struct dagpb_node *n, struct unixfs_data *d,
			struct scratch *s)
{
	d->type = UNIXFS_DIRECTORY;
}

static void m_leading_zero(struct dagpb_node *n, struct unixfs_data *d,
			   struct scratch *s)
{
	s->bytes[0] = 0;
	memcpy(s->bytes + 1, d->data, d->data_len);
	d->data = s->bytes;
	d->data_len++;
}

static void m_too_long(struct dagpb_node *n, struct unixfs_data *d,
		       struct scratch *s)
{
	memset(s->bytes, 0, 33 - d->data_len);
	s->bytes[0] = 1;
	memcpy(s->bytes + 33 - d->data_len, d->data, d->data_len);
	d->data = s->bytes;
	d->data_len = 33;
}

/* Flip the lowest bit of the last byte (bucket 0): one bit too many or
 * too few for the links. */
static void m_flip_bucket0(struct dagpb_node *n, struct unixfs_data *d,
			   struct scratch *s)
{
	memcpy(s->bytes, d->data, d->data_len);
	s->bytes[d->data_len - 1] ^= 1;
	d->data = s->bytes;
}

/* Lower-case the last link's prefix (still the last in byte order). */
static void m_lower_case(struct dagpb_node *n, struct unixfs_data *d,
			 struct scratch *s)
{
	struct dagpb_link *l = &n->links[n->nlinks - 1];

	memcpy(s->names[0], l->name, l->name_len);
	for (int i = 0; i < 2; i++)
		if (s->names[0][i] >= 'A' && s->names[0][i] <= 'F')
			s->names[0][i] += 'a' - 'A';
	CU_ASSERT(memcmp(s->names[0], l->name, 2) != 0);
	l->name = (const uint8_t *)s->names[0];
}

/* Cut the first link's name to one hex digit. */
static void m_short_prefix(struct dagpb_node *n, struct unixfs_data *d,
			   struct scratch *s)
{
	n->links[0].name_len = 1;
}

/* Swap the names (not the prefixes) of the first two entry links. */
static void m_swap_entries(struct dagpb_node *n, struct unixfs_data *d,
			   struct scratch *s)
{
	struct dagpb_link *e[2];
	int found = 0;

	for (size_t k = 0; k < n->nlinks && found < 2; k++)
		if (n->links[k].name_len > 2)
			e[found++] = &n->links[k];
	CU_ASSERT_FATAL(found == 2);
	for (int i = 0; i < 2; i++) {
		const struct dagpb_link *o = e[1 - i];

		memcpy(s->names[i], e[i]->name, 2);
		memcpy(s->names[i] + 2, o->name + 2, o->name_len - 2);
	}
	s->k = e[0]->name_len;
	e[0]->name_len = e[1]->name_len;
	e[1]->name_len = s->k;
	for (int i = 0; i < 2; i++)
		e[i]->name = (const uint8_t *)s->names[i];
}

/* Point the first sub-shard link at s->cid. */
static void m_relink(struct dagpb_node *n, struct unixfs_data *d,
		     struct scratch *s)
{
	for (size_t k = 0; k < n->nlinks; k++) {
		if (n->links[k].name_len == 2) {
			n->links[k].cid = s->cid;
			return;
		}
	}
	CU_FAIL("no sub-shard link");
}

struct fixture {
	struct vector v;
	struct memstore *ms;
	struct blockio_source src;
	struct cid root;
};

static void fixture_init(struct fixture *f)
{
	struct blockio_sink sink;
	uint64_t tsize;

	vector_load(&f->v, "hamt/own-256.txt");
	CU_ASSERT_FATAL(memstore_new(&f->ms) == 0);
	sink = memstore_sink(f->ms);
	f->src = memstore_source(f->ms);
	CU_ASSERT_FATAL(hamt_build(&f->root, &tsize, f->v.entries, f->v.n,
				   &f->v.opts, &sink) == 0);
}

static void fixture_release(struct fixture *f)
{
	memstore_free(f->ms);
	vector_release(&f->v);
}

static int count_cb(const char *name, size_t name_len, const struct cid *id,
		    uint64_t tsize, void *payload)
{
	(*(size_t *)payload)++;
	return 0;
}

/* foreach fails with want, and so does looking up at least one name. */
static void expect_broken(struct fixture *f, const struct cid *root, int want)
{
	size_t n = 0, failed = 0;

	CU_ASSERT_EQUAL(hamt_foreach(&f->src, root, count_cb, &n), want);
	for (size_t i = 0; i < f->v.n; i++) {
		struct cid got;
		int rc = hamt_lookup(&got, &f->src, root, f->v.entries[i].name,
				     f->v.entries[i].name_len);

		CU_ASSERT(rc == 0 || rc == want);
		failed += rc == want;
	}
	CU_ASSERT(failed > 0);
}

static void test_hamt__corrupt_root(void)
{
	static const mutate_fn root_mutations[] = {
		m_hash_type,   m_no_hash_type, m_fanout_100,   m_fanout_2048,
		m_fanout_4,    m_no_fanout,    m_directory,    m_leading_zero,
		m_too_long,    m_flip_bucket0, m_lower_case,   m_short_prefix,
		m_swap_entries,
	};
	struct fixture f;

	fixture_init(&f);
	for (size_t i = 0; i < sizeof(root_mutations) /
			       sizeof(root_mutations[0]); i++) {
		struct scratch s;
		struct cid bad;

		memset(&s, 0, sizeof(s));
		CU_ASSERT_FATAL(rewrite(&bad, f.ms, &f.root, root_mutations[i],
					&s) == 0);
		expect_broken(&f, &bad, EFS_ECORRUPT);
	}
	fixture_release(&f);
}

/* First sub-shard link of the root. */
static const struct cid *first_subshard(struct fixture *f,
					struct dagpb_node *node)
{
	uint8_t *p;
	size_t len;

	CU_ASSERT_FATAL(memstore_peek(&p, &len, f->ms, &f->root) == 0);
	CU_ASSERT_FATAL(dagpb_decode(node, p, len) == 0);
	for (size_t k = 0; k < node->nlinks; k++)
		if (node->links[k].name_len == 2)
			return &node->links[k].cid;
	CU_FAIL_FATAL("no sub-shard");
	return NULL;
}

static void test_hamt__corrupt_subshard(void)
{
	struct fixture f;
	struct dagpb_node node;
	const struct cid *sub;
	struct scratch s;
	struct cid bad;

	fixture_init(&f);
	sub = first_subshard(&f, &node);

	/* A sub-shard of another fanout. */
	memset(&s, 0, sizeof(s));
	CU_ASSERT_FATAL(rewrite(&s.cid, f.ms, sub, m_fanout_128, &s) == 0);
	CU_ASSERT_FATAL(rewrite(&bad, f.ms, &f.root, m_relink, &s) == 0);
	expect_broken(&f, &bad, EFS_ECORRUPT);

	/* A sub-shard that is a raw block. */
	CU_ASSERT_FATAL(cid_hash(&s.cid, 1, CID_CODEC_RAW, MHASH_SHA2_256,
				 "raw", 3) == 0);
	CU_ASSERT_FATAL(memstore_put(f.ms, &s.cid, (const uint8_t *)"raw",
				     3) == 0);
	CU_ASSERT_FATAL(rewrite(&bad, f.ms, &f.root, m_relink, &s) == 0);
	expect_broken(&f, &bad, EFS_ECORRUPT);

	/* A missing sub-shard: the source's ENOTFOUND comes through. */
	CU_ASSERT_FATAL(cid_hash(&s.cid, 1, CID_CODEC_DAG_PB, MHASH_SHA2_256,
				 "gone", 4) == 0);
	CU_ASSERT_FATAL(rewrite(&bad, f.ms, &f.root, m_relink, &s) == 0);
	expect_broken(&f, &bad, EFS_ENOTFOUND);

	dagpb_node_release(&node);
	fixture_release(&f);
}

/* A chain of single "00" sub-shards one level deeper than 64 bits allow. */
static void test_hamt__too_deep(void)
{
	struct memstore *ms;
	struct blockio_source src;
	struct cid id;
	size_t n = 0;

	memset(&id, 0, sizeof(id));
	CU_ASSERT_FATAL(memstore_new(&ms) == 0);
	src = memstore_source(ms);
	for (int level = 8; level >= 0; level--) {
		struct unixfs_data d = { .type = UNIXFS_HAMT_SHARD,
					 .has_data = true,
					 .hash_type = 0x22,
					 .has_hash_type = true,
					 .fanout = 256,
					 .has_fanout = true };
		struct dagpb_link l = { .name = (const uint8_t *)"00",
					.name_len = 2,
					.has_name = true,
					.has_tsize = true };
		struct dagpb_node node = { &l, level < 8, NULL, 0, true };
		struct buf data = BUF_INIT(BUF_NOCAP);
		struct buf block = BUF_INIT(BUF_NOCAP);
		uint8_t one = 1;

		l.cid = id;
		if (level < 8) {
			d.data = &one;
			d.data_len = 1;
		}
		CU_ASSERT_FATAL(unixfs_encode(&data, &d) == 0);
		node.data = data.ptr;
		node.data_len = data.len;
		CU_ASSERT_FATAL(dagpb_encode(&block, &node) == 0);
		CU_ASSERT_FATAL(cid_hash(&id, 1, CID_CODEC_DAG_PB,
					 MHASH_SHA2_256, block.ptr,
					 block.len) == 0);
		CU_ASSERT_FATAL(memstore_put(ms, &id, block.ptr,
					     block.len) == 0);
		buf_release(&data);
		buf_release(&block);
	}
	CU_ASSERT_EQUAL(hamt_foreach(&src, &id, count_cb, &n), EFS_ECORRUPT);
	memstore_free(ms);
}

static void test_hamt__source_errors(void)
{
	static const int codes[] = { EFS_EEVICTED, EFS_EIO, EFS_EMISMATCH };
	struct fixture f;
	struct counting c;
	struct blockio_source src;
	struct cid got;
	size_t n = 0;

	fixture_init(&f);
	src = counting_source(&c, f.ms);
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		c.fail_with = codes[i];
		CU_ASSERT_EQUAL(hamt_foreach(&src, &f.root, count_cb, &n),
				codes[i]);
		CU_ASSERT_EQUAL(hamt_lookup(&got, &src, &f.root, "a", 1),
				codes[i]);
	}
	/* A root that is not dag-pb. */
	got = f.root;
	got.codec = CID_CODEC_RAW;
	CU_ASSERT_EQUAL(hamt_foreach(&f.src, &got, count_cb, &n),
			EFS_ECORRUPT);
	CU_ASSERT_EQUAL(hamt_lookup(&got, &f.src, &got, "a", 1),
			EFS_ECORRUPT);
	fixture_release(&f);
}

/* Every truncation of the root block is an error, never a crash. */
static void test_hamt__truncated(void)
{
	struct fixture f;
	uint8_t *p;
	size_t len, n = 0;

	fixture_init(&f);
	CU_ASSERT_FATAL(memstore_peek(&p, &len, f.ms, &f.root) == 0);
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *copy = malloc(cut + 1);
		struct cid got;

		CU_ASSERT_FATAL(copy != NULL);
		memcpy(copy, p, cut);
		CU_ASSERT(hamt_foreach_block(&f.src, copy, cut, count_cb,
					     &n) < 0);
		CU_ASSERT(hamt_lookup_block(&got, &f.src, copy, cut, "a",
					    1) < 0);
		free(copy);
	}
	fixture_release(&f);
}

/* ---- allocation failure ----------------------------------------------- */

static int build_and_read(void *payload)
{
	const struct vector *v = payload;
	struct hamt_entry *copy = efs_malloc(v->n * sizeof(*copy));
	struct memstore *ms = NULL;
	struct blockio_sink sink;
	struct blockio_source src;
	struct cid root, got;
	uint64_t tsize;
	size_t n = 0;
	int rc;

	if (!copy)
		return EFS_ENOMEM;
	memcpy(copy, v->entries, v->n * sizeof(*copy));
	if ((rc = memstore_new(&ms)) < 0)
		goto out;
	sink = memstore_sink(ms);
	src = memstore_source(ms);
	if ((rc = hamt_build(&root, &tsize, copy, v->n, &v->opts, &sink)) < 0 ||
	    (rc = hamt_foreach(&src, &root, count_cb, &n)) < 0)
		goto out;
	for (size_t i = 0; i < v->n && rc == 0; i++)
		rc = hamt_lookup(&got, &src, &root, v->entries[i].name,
				 v->entries[i].name_len);
out:
	memstore_free(ms);
	efs_free(copy);
	return rc;
}

static void test_hamt__alloc_failure(void)
{
	struct vector v;

	vector_load(&v, "hamt/own-8.txt");
	CU_ASSERT(harness_alloc_loop(build_and_read, &v) > 10);
	vector_release(&v);
}

static CU_TestInfo hamt_tests[] = {
	{ "murmur3", test_hamt__murmur3 },
	{ "kubo_v0", test_hamt__kubo_v0 },
	{ "kubo_v1", test_hamt__kubo_v1 },
	{ "own_vectors", test_hamt__own_vectors },
	{ "build_errors", test_hamt__build_errors },
	{ "corrupt_root", test_hamt__corrupt_root },
	{ "corrupt_subshard", test_hamt__corrupt_subshard },
	{ "too_deep", test_hamt__too_deep },
	{ "source_errors", test_hamt__source_errors },
	{ "truncated", test_hamt__truncated },
	{ "alloc_failure", test_hamt__alloc_failure },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "hamt", .pTests = hamt_tests })
