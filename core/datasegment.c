/*
 * datasegment.c - FRC-0058 data aggregation (see datasegment.h).
 *
 * Layout follows data-segment's AggregateBuilder.estimate: offsets are
 * counted in tree nodes (32 padded bytes); a sub-piece of 2^h nodes goes
 * to index ceil(offset / 2^h) of level h, and the next one starts after
 * it.  The placement does not depend on the deal size, only whether it
 * fits does, so the smallest deal is found by placing once and trying
 * sizes upward.
 *
 * The tree: a deal of 32 GiB has 2^30 leaves, but almost all of it is
 * zero.  Only the nodes that differ from an all-zero subtree are kept,
 * level by level, each level an array sorted by index:
 *
 *	level h:  the sub-pieces of height h (their roots, "set" nodes)
 *	level 0:  the two leaves of every index entry
 *	level L:  the parents of the nodes kept at level L - 1
 *
 * built bottom-up (a parent of a kept node with no kept sibling hashes it
 * with the zero subtree of that level).  A node not kept is either zero
 * (commp_zero_node) or inside a sub-piece; proofs only ask for siblings
 * of a path from a set node to the root, and those are never inside a
 * sub-piece (sub-pieces do not overlap), so a lookup that misses means
 * zero.  Kept nodes: the 2n index leaves and their parents (under 4n),
 * plus each sub-piece's ancestors until their paths merge (at most
 * n * (height - log2 n)).
 *
 * Proofs are data-segment's AggregateTree.collectProof on that tree and
 * Inclusion.resolveAggregate; their bytes are Inclusion.encode's
 * DAG-CBOR, written with core/cbor.
 */
#include "core/datasegment.h"

#include <assert.h>
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/cbor.h"
#include "core/error.h"

#include "core/banned.h"

#define NODE	 COMMP_NODE_SIZE
#define ENTRY	 DATASEGMENT_ENTRY_SIZE
#define CHECKSUM DATASEGMENT_CHECKSUM_SIZE
#define QUAD_IN	 COMMP_QUAD_IN
#define QUAD_OUT 128
/* The smallest deal with room for an index (4 entries of 64 bytes). */
#define DEAL_MIN 256
/* Tree nodes in the largest deal commp handles. */
#define NODES_MAX ((uint64_t)1 << COMMP_HEIGHT_MAX)

struct tnode {
	uint64_t index;
	uint8_t node[NODE];
};

struct tlevel {
	size_t n;
	struct tnode *v; /* sorted by index */
};

struct datasegment_tree {
	unsigned height;
	struct tlevel level[]; /* height + 1 of them */
};

static unsigned ceil_log2(uint64_t n)
{
	return n <= 1 ? 0 : 64 - (unsigned)__builtin_clzll(n - 1);
}

static void store_le64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static uint64_t load_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static bool deal_valid(uint64_t deal)
{
	return commp_padded_valid(deal) && deal >= DEAL_MIN;
}

size_t datasegment_index_max(uint64_t deal_padded)
{
	uint64_t n;

	if (!deal_valid(deal_padded))
		return 0;
	n = (uint64_t)1 << ceil_log2(deal_padded / 2048 / ENTRY);
	return n < 4 ? 4 : (size_t)n;
}

uint64_t datasegment_index_offset(uint64_t deal_padded)
{
	if (!deal_valid(deal_padded))
		return 0;
	return deal_padded - datasegment_index_max(deal_padded) * ENTRY;
}

uint64_t datasegment_index_unpadded_size(uint64_t deal_padded)
{
	return (uint64_t)datasegment_index_max(deal_padded) * ENTRY / QUAD_OUT *
	       QUAD_IN;
}

uint64_t datasegment_index_unpadded_offset(uint64_t deal_padded)
{
	if (!deal_valid(deal_padded))
		return 0;
	return deal_padded / QUAD_OUT * QUAD_IN -
	       datasegment_index_unpadded_size(deal_padded);
}

/* ---- entries ---- */

void datasegment_entry_encode(uint8_t out[ENTRY],
			      const struct datasegment_entry *e)
{
	memcpy(out, e->comm, NODE);
	store_le64(out + NODE, e->offset);
	store_le64(out + NODE + 8, e->size);
	memcpy(out + NODE + 16, e->checksum, CHECKSUM);
}

void datasegment_entry_decode(struct datasegment_entry *out,
			      const uint8_t in[ENTRY])
{
	memcpy(out->comm, in, NODE);
	out->offset = load_le64(in + NODE);
	out->size = load_le64(in + NODE + 8);
	memcpy(out->checksum, in + NODE + 16, CHECKSUM);
}

/* SHA-256 of the entry with a zero checksum, 126 bits of it. */
static void checksum_compute(uint8_t out[CHECKSUM],
			     const struct datasegment_entry *e)
{
	struct datasegment_entry z = *e;
	uint8_t b[ENTRY], h[NODE];

	memset(z.checksum, 0, CHECKSUM);
	datasegment_entry_encode(b, &z);
	/* The node hash is SHA-256 with only byte 31 trimmed. */
	commp_node_hash(h, b, b + NODE);
	memcpy(out, h, CHECKSUM);
	out[CHECKSUM - 1] &= 0x3f;
}

void datasegment_entry_init(struct datasegment_entry *out,
			    const uint8_t comm[NODE], uint64_t offset,
			    uint64_t size)
{
	memcpy(out->comm, comm, NODE);
	out->offset = offset;
	out->size = size;
	checksum_compute(out->checksum, out);
}

bool datasegment_entry_valid(const struct datasegment_entry *e)
{
	uint8_t sum[CHECKSUM];

	checksum_compute(sum, e);
	return !memcmp(sum, e->checksum, CHECKSUM) && e->offset % 128 == 0 &&
	       e->size % 128 == 0;
}

/* The node over an entry's two leaves (what the index proof proves). */
static void entry_node(uint8_t out[NODE], const struct datasegment_entry *e)
{
	uint8_t b[ENTRY];

	datasegment_entry_encode(b, e);
	commp_node_hash(out, b, b + NODE);
}

/* ---- placement ---- */

/*
 * Place the sub-pieces as the builder does; at[i] gets sub-piece i's
 * index in its level.  Returns where the last one ends, in nodes, or
 * UINT64_MAX past NODES_MAX.
 */
static uint64_t place(uint64_t *at, const struct commp_piece *subs, size_t n)
{
	uint64_t end = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned h = subs[i].height;
		uint64_t idx = (end + ((uint64_t)1 << h) - 1) >> h;

		if (idx >= NODES_MAX >> h)
			return UINT64_MAX;
		end = (idx + 1) << h;
		at[i] = idx;
	}
	return end;
}

/* The builder's check: n entries and pieces ending at end nodes fit. */
static bool fits(uint64_t end, size_t n, uint64_t deal)
{
	size_t max = datasegment_index_max(deal);

	return n <= max && end <= datasegment_index_offset(deal) / NODE;
}

static int subs_check(const struct commp_piece *subs, size_t n)
{
	if (n == 0)
		return efs_error_set(EFS_EINVAL,
				     "datasegment: no sub-pieces to aggregate");
	for (size_t i = 0; i < n; i++) {
		const struct commp_piece *s = &subs[i];

		if (!commp_padded_valid(s->padded_size) ||
		    s->height != commp_height_of_padded(s->padded_size) ||
		    s->payload_size > s->unpadded_size ||
		    (s->root[NODE - 1] & 0xc0))
			return efs_error_set(EFS_EINVAL,
					     "datasegment: sub-piece %zu is "
					     "not a valid piece",
					     i);
	}
	return 0;
}

/* The deal for the layout: the one asked for, or the smallest. */
static int deal_choose(uint64_t *deal, uint64_t end, size_t n)
{
	if (*deal) {
		if (!deal_valid(*deal))
			return efs_error_set(EFS_EINVAL,
					     "datasegment: deal size %llu is "
					     "not a padded piece size",
					     (unsigned long long)*deal);
		if (end == UINT64_MAX || !fits(end, n, *deal))
			return efs_error_set(EFS_ETOOBIG,
					     "datasegment: %zu sub-pieces do "
					     "not fit a deal of %llu bytes",
					     n, (unsigned long long)*deal);
		return 0;
	}
	for (unsigned h = 3; h <= COMMP_HEIGHT_MAX && end != UINT64_MAX; h++) {
		if (fits(end, n, (uint64_t)NODE << h)) {
			*deal = (uint64_t)NODE << h;
			return 0;
		}
	}
	return efs_error_set(EFS_ETOOBIG,
			     "datasegment: %zu sub-pieces fit no deal", n);
}

/* ---- the tree of kept nodes ---- */

static void tree_free(struct datasegment_tree *t)
{
	if (!t)
		return;
	for (unsigned l = 0; l <= t->height; l++)
		efs_free(t->level[l].v);
	efs_free(t);
}

static int tnode_cmp(const void *a, const void *b)
{
	const struct tnode *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

/* Append the parents of the sorted nodes below to v. */
static size_t parents_add(struct tnode *v, const struct tlevel *below,
			  unsigned level)
{
	const uint8_t *zero = commp_zero_node(level);
	size_t k = 0;

	for (size_t j = 0; j < below->n; j++) {
		const struct tnode *a = &below->v[j];
		struct tnode *p = &v[k++];

		p->index = a->index >> 1;
		if (a->index & 1) {
			commp_node_hash(p->node, zero, a->node);
		} else if (j + 1 < below->n &&
			   below->v[j + 1].index == a->index + 1) {
			commp_node_hash(p->node, a->node, below->v[j + 1].node);
			j++;
		} else {
			commp_node_hash(p->node, a->node, zero);
		}
	}
	return k;
}

/* Level l: its set nodes, then the parents of level l - 1, sorted. */
static int level_build(struct datasegment_tree *t, unsigned l,
		       const struct datasegment_layout *lay, const uint64_t *at)
{
	struct tlevel *lv = &t->level[l];
	size_t cap = l ? t->level[l - 1].n : 2 * lay->n;

	for (size_t i = 0; i < lay->n; i++)
		cap += lay->subs[i].height == l;
	lv->v = efs_malloc((cap ? cap : 1) * sizeof(*lv->v));
	if (!lv->v)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	for (size_t i = 0; i < lay->n; i++) {
		if (lay->subs[i].height != l)
			continue;
		lv->v[lv->n].index = at[i];
		memcpy(lv->v[lv->n++].node, lay->subs[i].root, NODE);
	}
	if (l == 0) {
		uint64_t first = lay->index_offset / NODE;

		for (size_t i = 0; i < lay->n; i++) {
			uint8_t b[ENTRY];

			datasegment_entry_encode(b, &lay->entries[i]);
			lv->v[lv->n].index = first + 2 * i;
			memcpy(lv->v[lv->n++].node, b, NODE);
			lv->v[lv->n].index = first + 2 * i + 1;
			memcpy(lv->v[lv->n++].node, b + NODE, NODE);
		}
	} else {
		lv->n += parents_add(lv->v + lv->n, &t->level[l - 1], l - 1);
	}
	qsort(lv->v, lv->n, sizeof(*lv->v), tnode_cmp);
	return 0;
}

static int tree_build(struct datasegment_tree **out,
		      const struct datasegment_layout *lay, const uint64_t *at)
{
	unsigned height = commp_height_of_padded(lay->deal_padded);
	struct datasegment_tree *t;
	int error;

	t = efs_calloc(1, sizeof(*t) + (height + 1) * sizeof(t->level[0]));
	if (!t)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	t->height = height;
	for (unsigned l = 0; l <= height; l++) {
		if ((error = level_build(t, l, lay, at)) < 0) {
			tree_free(t);
			return error;
		}
	}
	assert(t->level[height].n == 1 && t->level[height].v[0].index == 0);
	*out = t;
	return 0;
}

/* The node at (level, index): kept, or an all-zero subtree. */
static const uint8_t *tree_node(const struct datasegment_tree *t,
				unsigned level, uint64_t index)
{
	const struct tlevel *lv = &t->level[level];
	struct tnode key = {.index = index};
	const struct tnode *hit;

	hit = bsearch(&key, lv->v, lv->n, sizeof(*lv->v), tnode_cmp);
	return hit ? hit->node : commp_zero_node(level);
}

/* ---- layout ---- */

static int layout_fill(struct datasegment_layout *l,
		       const struct commp_piece *subs, const uint64_t *at)
{
	const uint8_t *root;
	int error;

	l->entries = efs_calloc(l->n, sizeof(*l->entries));
	l->subs = efs_malloc(l->n * sizeof(*l->subs));
	if (!l->entries || !l->subs)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	memcpy(l->subs, subs, l->n * sizeof(*l->subs));
	for (size_t i = 0; i < l->n; i++) {
		unsigned h = subs[i].height;

		datasegment_entry_init(&l->entries[i], subs[i].root,
				       (at[i] << h) * NODE,
				       (uint64_t)NODE << h);
	}
	if ((error = tree_build(&l->tree, l, at)) < 0)
		return error;
	root = l->tree->level[l->tree->height].v[0].node;
	error = commp_piece_init(&l->piece, root, l->deal_padded,
				 commp_unpadded_of_padded(l->deal_padded));
	assert(error == 0);
	return error;
}

int datasegment_layout_init(struct datasegment_layout *out,
			    const struct commp_piece *subs, size_t n,
			    uint64_t deal_padded)
{
	uint64_t *at, end;
	int error;

	memset(out, 0, sizeof(*out));
	if ((error = subs_check(subs, n)) < 0)
		return error;
	at = efs_malloc(n * sizeof(*at));
	if (!at)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	end = place(at, subs, n);
	if ((error = deal_choose(&deal_padded, end, n)) < 0)
		goto out;
	out->deal_padded = deal_padded;
	out->n = n;
	out->index_offset = datasegment_index_offset(deal_padded);
	out->index_max = datasegment_index_max(deal_padded);
	if ((error = layout_fill(out, subs, at)) < 0)
		datasegment_layout_release(out);
out:
	efs_free(at);
	return error;
}

void datasegment_layout_release(struct datasegment_layout *l)
{
	efs_free(l->entries);
	efs_free(l->subs);
	tree_free(l->tree);
	memset(l, 0, sizeof(*l));
}

/* ---- the payload ---- */

/* The padded quad q of the index area: entries 2q and 2q + 1. */
static void index_quad(uint8_t out[QUAD_OUT],
		       const struct datasegment_layout *l, size_t q)
{
	memset(out, 0, QUAD_OUT);
	for (size_t k = 0; k < 2; k++)
		if (2 * q + k < l->n)
			datasegment_entry_encode(out + k * ENTRY,
						 &l->entries[2 * q + k]);
}

int datasegment_index_bytes(struct buf *out, const struct datasegment_layout *l)
{
	size_t quads = l->index_max / 2, start = out->len;
	int error;

	if ((error = buf_grow(out, quads * QUAD_IN)) < 0)
		return error;
	for (size_t q = 0; q < quads; q++) {
		uint8_t padded[QUAD_OUT], raw[QUAD_IN];

		index_quad(padded, l, q);
		commp_fr32_unpad(raw, padded);
		if ((error = buf_add(out, raw, QUAD_IN)) < 0) {
			buf_truncate(out, start);
			return error;
		}
	}
	return 0;
}

static uint64_t unpadded(uint64_t padded)
{
	return padded / QUAD_OUT * QUAD_IN;
}

int datasegment_payload_span(struct datasegment_span *out,
			     const struct datasegment_layout *l, uint64_t pos)
{
	uint64_t end = l->piece.unpadded_size;
	uint64_t index_at = unpadded(l->index_offset), start;
	size_t lo = 0, hi = l->n;

	if (pos >= end)
		return efs_error_set(EFS_EINVAL,
				     "datasegment: offset %llu past the "
				     "payload's %llu bytes",
				     (unsigned long long)pos,
				     (unsigned long long)end);
	memset(out, 0, sizeof(*out));
	if (pos >= index_at) {
		out->kind = DATASEGMENT_SPAN_INDEX;
		out->offset = pos - index_at;
		out->len = end - pos;
		return 0;
	}
	/* lo: the number of sub-pieces that start at or before pos. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (unpadded(l->entries[mid].offset) <= pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	start = lo ? unpadded(l->entries[lo - 1].offset) : 0;
	if (lo && pos - start < l->subs[lo - 1].payload_size) {
		out->kind = DATASEGMENT_SPAN_PIECE;
		out->piece = lo - 1;
		out->offset = pos - start;
		out->len = l->subs[lo - 1].payload_size - out->offset;
		return 0;
	}
	out->kind = DATASEGMENT_SPAN_ZERO;
	out->len =
	    (lo < l->n ? unpadded(l->entries[lo].offset) : index_at) - pos;
	return 0;
}

/* ---- parsing an index (the SP's side) ---- */

static bool entry_in_range(const struct datasegment_entry *e,
			   uint64_t index_offset)
{
	return e->size > 0 && e->offset <= index_offset &&
	       e->size <= index_offset - e->offset;
}

static int entries_push(struct datasegment_entry **v, size_t *n, size_t *cap,
			const struct datasegment_entry *e)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 16;
		struct datasegment_entry *nv;

		nv = efs_realloc(*v, c * sizeof(**v));
		if (!nv)
			return efs_error_set(EFS_ENOMEM, "out of memory");
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = *e;
	return 0;
}

int datasegment_index_parse(struct datasegment_entry **out, size_t *n,
			    const uint8_t *payload_tail, size_t len,
			    uint64_t deal_padded)
{
	struct datasegment_entry *v = NULL;
	size_t nv = 0, cap = 0, quads;
	uint64_t need, index_offset;
	const uint8_t *p;

	*out = NULL;
	*n = 0;
	if (!deal_valid(deal_padded))
		return efs_error_set(EFS_EINVAL,
				     "datasegment: deal size %llu is not a "
				     "padded piece size",
				     (unsigned long long)deal_padded);
	need = datasegment_index_unpadded_size(deal_padded);
	if (len < need)
		return efs_error_set(EFS_EINVAL,
				     "datasegment: %zu bytes of payload tail, "
				     "the index takes %llu",
				     len, (unsigned long long)need);
	index_offset = datasegment_index_offset(deal_padded);
	p = payload_tail + (len - need);
	quads = datasegment_index_max(deal_padded) / 2;
	for (size_t q = 0; q < quads; q++) {
		uint8_t padded[QUAD_OUT];

		commp_fr32_pad(padded, p + q * QUAD_IN);
		for (size_t k = 0; k < 2; k++) {
			struct datasegment_entry e;

			datasegment_entry_decode(&e, padded + k * ENTRY);
			if (!datasegment_entry_valid(&e) ||
			    !entry_in_range(&e, index_offset))
				continue;
			if (entries_push(&v, &nv, &cap, &e) < 0) {
				efs_free(v);
				return EFS_ENOMEM;
			}
		}
	}
	*out = v;
	*n = nv;
	return 0;
}

/* ---- proofs ---- */

static void path_collect(struct datasegment_path *out,
			 const struct datasegment_tree *t, unsigned level,
			 uint64_t index)
{
	uint64_t pos = index;

	memset(out, 0, sizeof(*out));
	out->index = index;
	for (unsigned l = level; l < t->height; l++) {
		memcpy(out->path[out->depth++], tree_node(t, l, pos ^ 1), NODE);
		pos >>= 1;
	}
}

int datasegment_proof_make(struct datasegment_proof *out,
			   const struct datasegment_layout *l, size_t i)
{
	const struct datasegment_entry *e;
	unsigned h;

	if (i >= l->n)
		return efs_error_set(EFS_EINVAL,
				     "datasegment: no sub-piece %zu of %zu", i,
				     l->n);
	e = &l->entries[i];
	h = l->subs[i].height;
	path_collect(&out->tree, l->tree, h, e->offset / NODE >> h);
	path_collect(&out->index, l->tree, 1, l->index_offset / ENTRY + i);
	return 0;
}

/* The root a path leads to from node (proof.js resolveRoot). */
static int path_root(uint8_t out[NODE], const struct datasegment_path *p,
		     const uint8_t node[NODE])
{
	uint64_t pos = p->index;

	if (p->depth > DATASEGMENT_PROOF_DEPTH_MAX || pos >> p->depth)
		return efs_error_set(EFS_EMISMATCH,
				     "datasegment: proof index %llu past the "
				     "width of a tree of depth %u",
				     (unsigned long long)pos, p->depth);
	memcpy(out, node, NODE);
	for (unsigned i = 0; i < p->depth; i++, pos >>= 1) {
		if (pos & 1)
			commp_node_hash(out, p->path[i], out);
		else
			commp_node_hash(out, out, p->path[i]);
	}
	return 0;
}

int datasegment_proof_resolve(struct commp_piece *out,
			      const struct datasegment_proof *p,
			      const struct commp_piece *sub)
{
	uint8_t root[NODE], root2[NODE], node[NODE];
	struct datasegment_entry e;
	unsigned height;
	int error;

	if (!commp_padded_valid(sub->padded_size))
		return efs_error_set(EFS_EINVAL,
				     "datasegment: sub-piece size %llu",
				     (unsigned long long)sub->padded_size);
	if ((error = path_root(root, &p->tree, sub->root)) < 0)
		return error;
	height = commp_height_of_padded(sub->padded_size) + p->tree.depth;
	if (height > COMMP_HEIGHT_MAX)
		return efs_error_set(EFS_EMISMATCH,
				     "datasegment: proof of a tree of height "
				     "%u",
				     height);
	datasegment_entry_init(&e, sub->root, p->tree.index * sub->padded_size,
			       sub->padded_size);
	entry_node(node, &e);
	if ((error = path_root(root2, &p->index, node)) < 0)
		return error;
	if (p->index.depth + 1 != height)
		return efs_error_set(EFS_EMISMATCH,
				     "datasegment: proofs disagree on the "
				     "aggregate's size");
	if (memcmp(root, root2, NODE))
		return efs_error_set(EFS_EMISMATCH,
				     "datasegment: proofs disagree on the "
				     "aggregate's root");
	if (height < 3 ||
	    p->index.index * ENTRY <
		datasegment_index_offset((uint64_t)NODE << height))
		return efs_error_set(EFS_EMISMATCH,
				     "datasegment: index entry outside the "
				     "index area");
	error = commp_piece_init(
	    out, root, (uint64_t)NODE << height,
	    commp_unpadded_of_padded((uint64_t)NODE << height));
	assert(error == 0);
	return error;
}

int datasegment_proof_verify(const struct datasegment_proof *p,
			     const struct commp_piece *aggregate,
			     const struct commp_piece *sub)
{
	struct commp_piece got;
	int error;

	if ((error = datasegment_proof_resolve(&got, p, sub)) < 0)
		return error == EFS_EINVAL ? EFS_EMISMATCH : error;
	if (got.padded_size != aggregate->padded_size ||
	    memcmp(got.root, aggregate->root, NODE))
		return efs_error_set(EFS_EMISMATCH,
				     "datasegment: the proof leads to another "
				     "aggregate");
	return 0;
}

static int path_encode(struct buf *b, const struct datasegment_path *p)
{
	int error;

	if ((error = cbor_put_array(b, 2)) < 0 ||
	    (error = cbor_put_uint(b, p->index)) < 0 ||
	    (error = cbor_put_array(b, p->depth)) < 0)
		return error;
	for (unsigned i = 0; i < p->depth; i++)
		if ((error = cbor_put_bytes(b, p->path[i], NODE)) < 0)
			return error;
	return 0;
}

int datasegment_proof_encode(struct buf *out, const struct datasegment_proof *p)
{
	size_t start = out->len;
	int error;

	if ((error = cbor_put_array(out, 2)) < 0 ||
	    (error = path_encode(out, &p->tree)) < 0 ||
	    (error = path_encode(out, &p->index)) < 0)
		buf_truncate(out, start);
	return error;
}

static int path_decode(struct datasegment_path *out, struct cbor_dec *d)
{
	size_t n;
	int error;

	memset(out, 0, sizeof(*out));
	if ((error = cbor_get_array(d, &n)) < 0)
		return error;
	if (n != 2)
		return efs_error_set(EFS_ECORRUPT,
				     "datasegment: proof of %zu fields", n);
	if ((error = cbor_get_uint(d, &out->index)) < 0 ||
	    (error = cbor_get_array(d, &n)) < 0)
		return error;
	if (n > DATASEGMENT_PROOF_DEPTH_MAX)
		return efs_error_set(EFS_ECORRUPT,
				     "datasegment: proof path of %zu nodes", n);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *node;
		size_t len;

		if ((error = cbor_get_bytes(d, &node, &len)) < 0)
			return error;
		if (len != NODE)
			return efs_error_set(EFS_ECORRUPT,
					     "datasegment: proof node of %zu "
					     "bytes",
					     len);
		memcpy(out->path[i], node, NODE);
	}
	out->depth = (unsigned)n;
	return 0;
}

int datasegment_proof_decode(struct datasegment_proof *out, const uint8_t *data,
			     size_t len)
{
	struct cbor_dec d;
	size_t n;
	int error;

	if ((error = cbor_dec_init(&d, data, len)) < 0 ||
	    (error = cbor_get_array(&d, &n)) < 0)
		return error;
	if (n != 2)
		return efs_error_set(EFS_ECORRUPT,
				     "datasegment: inclusion proof of %zu "
				     "fields",
				     n);
	if ((error = path_decode(&out->tree, &d)) < 0 ||
	    (error = path_decode(&out->index, &d)) < 0)
		return error;
	return 0;
}
