/*
 * hamt.c - UnixFS HAMT sharded directories (see hamt.h, ipfs-formats.md
 * §6).
 *
 * Building.  The tree an insert-only HAMT reaches does not depend on the
 * insertion order: at level L a bucket holding one entry is an entry
 * link, a bucket holding two or more is a sub-shard over the next bits.
 * Bits are consumed most-significant first, so sorting the entries by
 * their 64-bit hash puts every bucket of every level in one contiguous
 * run, in bucket order.  hamt_build sorts once and then cuts runs
 * recursively; the recursion is at most 64 / log2(fanout) deep (the Go
 * writer refuses to go past the 64 hash bits, and so do we).
 *
 * Reading.  Every shard is checked when it is loaded (shard_load): the
 * UnixFS type, hashType 0x22, a power-of-two fanout in 8..1024 equal to
 * the root's, a bitfield without leading zero bytes whose set bits are
 * exactly the link prefixes, in order, written as upper-case hex of the
 * right width.  Entries are checked to sit in the bucket their hash
 * selects at their depth.  Anything else is EFS_ECORRUPT.
 *
 * Bitfield layout (go-bitfield): bucket i is bit i % 8 of byte
 * [len - 1 - i / 8], i.e. a big-endian bit string of fanout bits, with
 * leading zero bytes stripped.
 */
#include "core/hamt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/dagpb.h"
#include "core/error.h"

#include "core/banned.h"

#define HAMT_FANOUT_MIN 8
#define HAMT_FANOUT_MAX 1024
#define HAMT_BITFIELD_MAX (HAMT_FANOUT_MAX / 8)

/* ---- murmur3 ---------------------------------------------------------- */

static uint64_t rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static uint64_t fmix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ull;
	k ^= k >> 33;
	return k;
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

#define MM_C1 0x87c37b91114253d5ull
#define MM_C2 0x4cf5ad432745937full

uint64_t hamt_murmur3_64(const void *p, size_t len)
{
	const uint8_t *data = p;
	const uint8_t *tail = data + len / 16 * 16;
	size_t rest = len % 16;
	uint64_t h1 = 0, h2 = 0, k1 = 0, k2 = 0;

	for (const uint8_t *b = data; b < tail; b += 16) {
		k1 = le64(b) * MM_C1;
		h1 ^= rotl64(k1, 31) * MM_C2;
		h1 = (rotl64(h1, 27) + h2) * 5 + 0x52dce729;
		k2 = le64(b + 8) * MM_C2;
		h2 ^= rotl64(k2, 33) * MM_C1;
		h2 = (rotl64(h2, 31) + h1) * 5 + 0x38495ab5;
	}
	k1 = 0;
	k2 = 0;
	for (size_t i = rest; i > 8; i--)
		k2 = k2 << 8 | tail[i - 1];
	for (size_t i = rest < 8 ? rest : 8; i > 0; i--)
		k1 = k1 << 8 | tail[i - 1];
	if (rest > 8)
		h2 ^= rotl64(k2 * MM_C2, 33) * MM_C1;
	if (rest > 0)
		h1 ^= rotl64(k1 * MM_C1, 31) * MM_C2;
	h1 ^= len;
	h2 ^= len;
	h1 += h2;
	h2 += h1;
	h1 = fmix64(h1);
	h2 = fmix64(h2);
	return h1 + h2;
}

/* ---- geometry --------------------------------------------------------- */

struct geometry {
	unsigned fanout;
	unsigned bits;       /* log2(fanout) */
	unsigned width;      /* hex digits of a prefix */
	unsigned levels;     /* levels the 64 hash bits allow */
};

static bool geometry_init(struct geometry *g, uint64_t fanout)
{
	if (fanout < HAMT_FANOUT_MIN || fanout > HAMT_FANOUT_MAX ||
	    (fanout & (fanout - 1)) != 0)
		return false;
	g->fanout = (unsigned)fanout;
	g->bits = 0;
	while ((1u << g->bits) < g->fanout)
		g->bits++;
	g->width = (g->bits + 3) / 4;
	g->levels = 64 / g->bits;
	return true;
}

/* The bucket a hash selects at level (level < g->levels). */
static unsigned bucket_at(const struct geometry *g, uint64_t hash,
			  unsigned level)
{
	return (unsigned)(hash >> (64 - g->bits * (level + 1))) &
	       (g->fanout - 1);
}

/* ---- building --------------------------------------------------------- */

struct slot {
	uint64_t hash;
	const struct hamt_entry *e;
};

struct builder {
	struct geometry g;
	const struct hamt_opts *opts;
	const struct blockio_sink *sink;
};

static int slot_compare(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;
	size_t n;
	int c;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	n = x->e->name_len < y->e->name_len ? x->e->name_len : y->e->name_len;
	c = memcmp(x->e->name, y->e->name, n);
	if (c != 0)
		return c;
	return (x->e->name_len > y->e->name_len) -
	       (x->e->name_len < y->e->name_len);
}

/* Length of the run starting at slots[0] sharing its bucket at level. */
static size_t run_length(const struct builder *b, const struct slot *slots,
			 size_t n, unsigned level)
{
	unsigned idx = bucket_at(&b->g, slots[0].hash, level);
	size_t k = 1;

	while (k < n && bucket_at(&b->g, slots[k].hash, level) == idx)
		k++;
	return k;
}

/* The shard's Data: type, bitfield, hashType, fanout (+ mode/mtime). */
static int encode_shard_data(struct buf *out, const struct builder *b,
			     const uint8_t *bitfield, bool top)
{
	size_t nbytes = b->g.fanout / 8;
	size_t skip = 0;
	struct unixfs_data d;

	while (skip < nbytes && bitfield[skip] == 0)
		skip++;
	memset(&d, 0, sizeof(d));
	d.type = UNIXFS_HAMT_SHARD;
	d.data = bitfield + skip;
	d.data_len = nbytes - skip;
	d.has_data = true;
	d.hash_type = HAMT_HASH_MURMUR3;
	d.has_hash_type = true;
	d.fanout = b->g.fanout;
	d.has_fanout = true;
	if (top && b->opts->meta) {
		d.mode = b->opts->meta->mode;
		d.has_mode = b->opts->meta->has_mode;
		d.mtime_sec = b->opts->meta->mtime_sec;
		d.mtime_nsec = b->opts->meta->mtime_nsec;
		d.has_mtime = b->opts->meta->has_mtime;
	}
	return unixfs_encode(out, &d);
}

/* Encode the shard node, store it, and name it. */
static int store_shard(struct cid *out, uint64_t *tsize_out,
		       const struct builder *b, struct dagpb_link *links,
		       size_t nlinks, const uint8_t *bitfield, bool top,
		       uint64_t children)
{
	struct buf data = BUF_INIT(BUF_NOCAP);
	struct buf block = BUF_INIT(BUF_NOCAP);
	struct dagpb_node node;
	int rc;

	rc = encode_shard_data(&data, b, bitfield, top);
	if (rc < 0)
		goto out;
	node.links = links;
	node.nlinks = nlinks;
	node.data = data.ptr;
	node.data_len = data.len;
	node.has_data = true;
	rc = dagpb_encode(&block, &node);
	if (rc < 0)
		goto out;
	rc = cid_hash(out, b->opts->cid_version, CID_CODEC_DAG_PB,
		      b->opts->hash, block.ptr, block.len);
	if (rc < 0)
		goto out;
	rc = blockio_put(b->sink, out, block.ptr, block.len);
	if (rc < 0)
		goto out;
	if (children > UINT64_MAX - block.len) {
		rc = efs_error_set(EFS_EINVAL,
				   "hamt: cumulative size overflows");
		goto out;
	}
	*tsize_out = block.len + children;
out:
	buf_release(&block);
	buf_release(&data);
	return rc;
}

static int build_shard(struct cid *out, uint64_t *tsize_out,
		       const struct builder *b, const struct slot *slots,
		       size_t n, unsigned level);

/*
 * Fill links[k] for the run slots[0..len) in bucket idx: an entry link
 * for a run of one, a sub-shard for more.  The name is written at name.
 */
static int make_link(struct dagpb_link *link, char *name,
		     const struct builder *b, const struct slot *slots,
		     size_t len, unsigned idx, unsigned level)
{
	size_t name_len = b->g.width;
	char hex[8];
	int rc;

	snprintf(hex, sizeof(hex), "%0*X", (int)b->g.width, idx);
	memcpy(name, hex, b->g.width);
	memset(link, 0, sizeof(*link));
	if (len == 1) {
		memcpy(name + b->g.width, slots[0].e->name,
		       slots[0].e->name_len);
		name_len += slots[0].e->name_len;
		link->cid = slots[0].e->cid;
		link->tsize = slots[0].e->tsize;
	} else {
		if (level + 1 >= b->g.levels)
			return efs_error_set(EFS_EINVAL,
					     "hamt: names collide past the "
					     "64 hash bits");
		rc = build_shard(&link->cid, &link->tsize, b, slots, len,
				 level + 1);
		if (rc < 0)
			return rc;
	}
	link->name = (const uint8_t *)name;
	link->name_len = name_len;
	link->has_name = true;
	link->has_tsize = true;
	return 0;
}

/* Count the runs of slots[0..n) at level and the bytes their names need. */
static size_t count_runs(size_t *name_bytes, const struct builder *b,
			 const struct slot *slots, size_t n, unsigned level)
{
	size_t runs = 0;

	*name_bytes = 0;
	for (size_t i = 0; i < n;) {
		size_t len = run_length(b, slots + i, n - i, level);

		*name_bytes += b->g.width;
		if (len == 1)
			*name_bytes += slots[i].e->name_len;
		runs++;
		i += len;
	}
	return runs;
}

static int build_shard(struct cid *out, uint64_t *tsize_out,
		       const struct builder *b, const struct slot *slots,
		       size_t n, unsigned level)
{
	uint8_t bitfield[HAMT_BITFIELD_MAX] = { 0 };
	size_t nbytes = b->g.fanout / 8;
	size_t name_bytes;
	size_t nlinks = count_runs(&name_bytes, b, slots, n, level);
	struct dagpb_link *links = efs_calloc(nlinks ? nlinks : 1,
					      sizeof(*links));
	char *names = efs_malloc(name_bytes ? name_bytes : 1);
	uint64_t children = 0;
	size_t k = 0, used = 0;
	int rc = 0;

	if (!links || !names) {
		rc = efs_error_set(EFS_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; k++) {
		size_t len = run_length(b, slots + i, n - i, level);
		unsigned idx = bucket_at(&b->g, slots[i].hash, level);

		rc = make_link(&links[k], names + used, b, slots + i, len,
			       idx, level);
		if (rc < 0)
			goto out;
		used += links[k].name_len;
		bitfield[nbytes - 1 - idx / 8] |= (uint8_t)(1u << (idx % 8));
		if (links[k].tsize > UINT64_MAX - children) {
			rc = efs_error_set(EFS_EINVAL,
					   "hamt: cumulative size overflows");
			goto out;
		}
		children += links[k].tsize;
		i += len;
	}
	rc = store_shard(out, tsize_out, b, links, nlinks, bitfield,
			 level == 0, children);
out:
	efs_free(names);
	efs_free(links);
	return rc;
}

/* Hash every entry and sort by hash; duplicates end up adjacent. */
static int sort_entries(struct slot **out, const struct hamt_entry *entries,
			size_t n)
{
	struct slot *slots = efs_calloc(n ? n : 1, sizeof(*slots));

	if (!slots)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		slots[i].hash = hamt_murmur3_64(entries[i].name,
						entries[i].name_len);
		slots[i].e = &entries[i];
	}
	qsort(slots, n, sizeof(*slots), slot_compare);
	for (size_t i = 1; i < n; i++) {
		if (slot_compare(&slots[i - 1], &slots[i]) == 0) {
			int rc = efs_error_set(EFS_EINVAL,
					       "hamt: duplicate name \"%.*s\"",
					       (int)slots[i].e->name_len,
					       slots[i].e->name);

			efs_free(slots);
			return rc;
		}
	}
	*out = slots;
	return 0;
}

int hamt_build(struct cid *out, uint64_t *tsize_out,
	       struct hamt_entry *entries, size_t n,
	       const struct hamt_opts *opts, const struct blockio_sink *sink)
{
	struct builder b;
	struct slot *slots = NULL;
	int rc;

	if (!geometry_init(&b.g, opts->fanout))
		return efs_error_set(EFS_EINVAL, "hamt: bad fanout %u",
				     opts->fanout);
	for (size_t i = 0; i < n; i++) {
		if (entries[i].name_len == 0)
			return efs_error_set(EFS_EINVAL, "hamt: empty name");
	}
	b.opts = opts;
	b.sink = sink;
	rc = sort_entries(&slots, entries, n);
	if (rc < 0)
		return rc;
	rc = build_shard(out, tsize_out, &b, slots, n, 0);
	efs_free(slots);
	return rc;
}

/* ---- reading ---------------------------------------------------------- */

/* One loaded, checked shard.  node and fsd point into block, or into the
 * caller's bytes for a root handed in by the caller. */
struct shard {
	struct buf block;
	struct dagpb_node node;
	struct unixfs_data fsd;
	bool decoded;
};

static void shard_release(struct shard *s)
{
	if (s->decoded) {
		unixfs_data_release(&s->fsd);
		dagpb_node_release(&s->node);
	}
	s->decoded = false;
	buf_release(&s->block);
}

static bool is_hex_upper(char c, unsigned *v)
{
	if (c >= '0' && c <= '9')
		*v = (unsigned)(c - '0');
	else if (c >= 'A' && c <= 'F')
		*v = (unsigned)(c - 'A' + 10);
	else
		return false;
	return true;
}

/* The bucket a link's name starts with, or -1 when it is not valid. */
static long link_bucket(const struct geometry *g, const struct dagpb_link *l)
{
	unsigned v = 0, d;

	if (!l->has_name || l->name_len < g->width)
		return -1;
	for (unsigned i = 0; i < g->width; i++) {
		if (!is_hex_upper((char)l->name[i], &d))
			return -1;
		v = v << 4 | d;
	}
	return v < g->fanout ? (long)v : -1;
}

static bool bit_is_set(const struct unixfs_data *fsd, unsigned idx)
{
	if (idx / 8 >= fsd->data_len)
		return false;
	return fsd->data[fsd->data_len - 1 - idx / 8] >> (idx % 8) & 1;
}

/* The set bits of the bitfield are exactly the links' buckets, in order. */
static int check_links(const struct geometry *g, const struct shard *s)
{
	size_t k = 0;

	if (s->fsd.data_len > g->fanout / 8 ||
	    (s->fsd.data_len > 0 && s->fsd.data[0] == 0))
		return efs_error_set(EFS_ECORRUPT,
				     "hamt: bitfield of %zu bytes malformed",
				     s->fsd.data_len);
	for (unsigned idx = 0; idx < g->fanout; idx++) {
		if (!bit_is_set(&s->fsd, idx))
			continue;
		if (k >= s->node.nlinks ||
		    link_bucket(g, &s->node.links[k]) != (long)idx)
			return efs_error_set(EFS_ECORRUPT,
					     "hamt: link %zu does not match "
					     "bucket %u", k, idx);
		k++;
	}
	if (k != s->node.nlinks)
		return efs_error_set(EFS_ECORRUPT,
				     "hamt: %zu links for %zu set bits",
				     s->node.nlinks, k);
	return 0;
}

/* Decode and check the shard block p[0..len), which must outlive s; sets g
 * from the root (root) or checks the fanout against it. */
static int shard_decode(struct shard *s, struct geometry *g, bool root,
			const uint8_t *p, size_t len)
{
	struct geometry mine;
	int rc;

	rc = dagpb_decode(&s->node, p, len);
	if (rc < 0)
		return rc;
	rc = unixfs_decode(&s->fsd, s->node.data, s->node.data_len);
	if (rc < 0) {
		dagpb_node_release(&s->node);
		return rc;
	}
	s->decoded = true;
	if (!s->node.has_data || s->fsd.type != UNIXFS_HAMT_SHARD)
		return efs_error_set(EFS_ECORRUPT, "hamt: not a shard node");
	if (!s->fsd.has_hash_type || s->fsd.hash_type != HAMT_HASH_MURMUR3)
		return efs_error_set(EFS_ECORRUPT,
				     "hamt: hash type 0x%llx not murmur3",
				     (unsigned long long)s->fsd.hash_type);
	if (!s->fsd.has_fanout || !geometry_init(&mine, s->fsd.fanout))
		return efs_error_set(EFS_ECORRUPT, "hamt: bad fanout %llu",
				     (unsigned long long)s->fsd.fanout);
	if (root)
		*g = mine;
	else if (mine.fanout != g->fanout)
		return efs_error_set(EFS_ECORRUPT,
				     "hamt: sub-shard fanout %u under %u",
				     mine.fanout, g->fanout);
	return check_links(g, s);
}

/* Append the bytes of shard id, which must be dag-pb, to out; what is
 * "root" or "sub-shard", for the message. */
static int fetch_shard(struct buf *out, const struct blockio_source *src,
		       const struct cid *id, const char *what)
{
	if (id->codec != CID_CODEC_DAG_PB)
		return efs_error_set(EFS_ECORRUPT, "hamt: %s is not dag-pb",
				     what);
	return blockio_fetch(src, id, out);
}

/* Fetch, decode and check the sub-shard id. */
static int shard_load(struct shard *s, struct geometry *g,
		      const struct blockio_source *src, const struct cid *id)
{
	int rc;

	buf_init(&s->block, DAGPB_BLOCK_MAX);
	s->decoded = false;
	rc = fetch_shard(&s->block, src, id, "sub-shard");
	if (rc < 0)
		return rc;
	return shard_decode(s, g, false, s->block.ptr, s->block.len);
}

static int shard_load_root(struct shard *s, struct geometry *g,
			   const uint8_t *block, size_t len)
{
	buf_init(&s->block, DAGPB_BLOCK_MAX);
	s->decoded = false;
	return shard_decode(s, g, true, block, len);
}

static bool link_is_shard(const struct geometry *g, const struct dagpb_link *l)
{
	return l->name_len == g->width;
}

/*
 * An entry link found at level under path (the buckets chosen so far,
 * this level's included) must hash to that path.
 */
static int check_placement(const struct geometry *g,
			   const struct dagpb_link *l, unsigned level,
			   uint64_t path)
{
	const uint8_t *name = l->name + g->width;
	size_t len = l->name_len - g->width;
	uint64_t h = hamt_murmur3_64(name, len);

	if (h >> (64 - g->bits * (level + 1)) != path)
		return efs_error_set(EFS_ECORRUPT,
				     "hamt: entry \"%.*s\" in the wrong bucket",
				     (int)len, (const char *)name);
	return 0;
}

/* ---- lookup ----------------------------------------------------------- */

/* Index of the link for bucket idx (the set bits below idx). */
static size_t link_index(const struct unixfs_data *fsd, unsigned idx)
{
	size_t k = 0;

	for (unsigned i = 0; i < idx; i++)
		k += bit_is_set(fsd, i);
	return k;
}

/* Walk down from the loaded root s (released on return). */
static int lookup_from(struct cid *out, const struct blockio_source *src,
		       struct shard *s, struct geometry *g, const char *name,
		       size_t name_len)
{
	uint64_t h = hamt_murmur3_64(name, name_len);
	unsigned level = 0;
	int rc = 0;

	for (;;) {
		unsigned idx = bucket_at(g, h, level);
		const struct dagpb_link *l;
		struct cid next;

		if (!bit_is_set(&s->fsd, idx)) {
			rc = EFS_ENOTFOUND;
			break;
		}
		l = &s->node.links[link_index(&s->fsd, idx)];
		if (!link_is_shard(g, l)) {
			rc = check_placement(g, l, level,
					     h >> (64 - g->bits * (level + 1)));
			if (rc == 0 && l->name_len - g->width == name_len &&
			    !memcmp(l->name + g->width, name, name_len))
				*out = l->cid;
			else if (rc == 0)
				rc = EFS_ENOTFOUND;
			break;
		}
		if (++level >= g->levels) {
			rc = efs_error_set(EFS_ECORRUPT,
					   "hamt: shards deeper than the hash");
			break;
		}
		next = l->cid;
		shard_release(s);
		rc = shard_load(s, g, src, &next);
		if (rc < 0)
			break;
	}
	shard_release(s);
	if (rc == EFS_ENOTFOUND)
		return efs_error_set(EFS_ENOTFOUND, "hamt: no entry \"%.*s\"",
				     (int)name_len, name);
	return rc;
}

int hamt_lookup_block(struct cid *out, const struct blockio_source *src,
		      const uint8_t *root_block, size_t root_len,
		      const char *name, size_t name_len)
{
	struct shard s;
	struct geometry g;
	int rc = shard_load_root(&s, &g, root_block, root_len);

	if (rc < 0) {
		shard_release(&s);
		return rc;
	}
	return lookup_from(out, src, &s, &g, name, name_len);
}

int hamt_lookup(struct cid *out, const struct blockio_source *src,
		const struct cid *root, const char *name, size_t name_len)
{
	struct buf block = BUF_INIT(DAGPB_BLOCK_MAX);
	int rc;

	rc = fetch_shard(&block, src, root, "root");
	if (rc == 0)
		rc = hamt_lookup_block(out, src, block.ptr, block.len, name,
				       name_len);
	buf_release(&block);
	return rc;
}

/* ---- foreach ---------------------------------------------------------- */

struct walk {
	const struct blockio_source *src;
	struct geometry g;
	hamt_foreach_cb cb;
	void *payload;
};

static int walk_shard(struct walk *w, const struct shard *s, unsigned level,
		      uint64_t path);

static int walk_link(struct walk *w, const struct dagpb_link *l,
		     unsigned level, uint64_t path)
{
	struct shard sub;
	int rc;

	if (!link_is_shard(&w->g, l)) {
		rc = check_placement(&w->g, l, level, path);
		if (rc < 0)
			return rc;
		return w->cb((const char *)l->name + w->g.width,
			     l->name_len - w->g.width, &l->cid, l->tsize,
			     w->payload);
	}
	if (level + 1 >= w->g.levels)
		return efs_error_set(EFS_ECORRUPT,
				     "hamt: shards deeper than the hash");
	rc = shard_load(&sub, &w->g, w->src, &l->cid);
	if (rc == 0)
		rc = walk_shard(w, &sub, level + 1, path);
	shard_release(&sub);
	return rc;
}

/* Recursion is bounded by g.levels (at most 21). */
static int walk_shard(struct walk *w, const struct shard *s, unsigned level,
		      uint64_t path)
{
	for (size_t k = 0; k < s->node.nlinks; k++) {
		const struct dagpb_link *l = &s->node.links[k];
		uint64_t here = path << w->g.bits |
				(uint64_t)link_bucket(&w->g, l);
		int rc = walk_link(w, l, level, here);

		if (rc != 0)
			return rc;
	}
	return 0;
}

int hamt_foreach_block(const struct blockio_source *src,
		       const uint8_t *root_block, size_t root_len,
		       hamt_foreach_cb cb, void *payload)
{
	struct walk w = { src, { 0, 0, 0, 0 }, cb, payload };
	struct shard s;
	int rc = shard_load_root(&s, &w.g, root_block, root_len);

	if (rc == 0)
		rc = walk_shard(&w, &s, 0, 0);
	shard_release(&s);
	return rc;
}

int hamt_foreach(const struct blockio_source *src, const struct cid *root,
		 hamt_foreach_cb cb, void *payload)
{
	struct buf block = BUF_INIT(DAGPB_BLOCK_MAX);
	int rc;

	rc = fetch_shard(&block, src, root, "root");
	if (rc == 0)
		rc = hamt_foreach_block(src, block.ptr, block.len, cb,
					payload);
	buf_release(&block);
	return rc;
}
