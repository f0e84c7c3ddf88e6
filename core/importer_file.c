/*
 * importer_file.c - one file's DAG, built as the bytes arrive: fixed-size
 * chunks, leaves, and the balanced layout (see importer_file.h).  The
 * trickle layout is in importer_trickle.c: with it, the leaves made here
 * go there instead of into the levels below, and the root is always
 * built there (no single-chunk special case).
 *
 * Design.  The reference layout (ipfs-unixfs-importer's balanced.js, boxo
 * balanced/builder.go) groups the leaves by W = max_links into parents,
 * the parents by W, and so on until one node is left.  Built
 * incrementally, that is a stack of levels, each a list of at most W
 * pending links:
 *
 *   level 0: links to leaves          ┐ a level that reaches W links is
 *   level 1: links to parents of 0    │ emitted at once: its node is
 *   ...                               ┘ stored and linked from level+1
 *
 * At finish the levels are collapsed from the bottom: a non-empty level
 * that is not the single link of the top level is emitted (short) into
 * the level above.  This gives exactly the reference grouping because the
 * reference only ever shortens the last group of a level, and the last
 * group of level d is what level d holds at the end.
 *
 * Invariants:
 *   1. levels[d].n < W between calls (a full level is emitted at once);
 *   2. every level-d link covers W^d leaves except the ones still to be
 *      collapsed at finish, so all leaves end at the same depth;
 *   3. a full chunk is kept in chunk[] until the next byte arrives (or
 *      finish), because only then is it known whether the file is a
 *      single chunk, which is stored differently (it is the root).
 *
 * Single-chunk files are their leaf.  With metadata they become a dag-pb
 * File node with the chunk (JS does this for raw leaves; with dag-pb
 * leaves JS wraps the encoded leaf block instead, a bug we do not copy:
 * see importer.h).  Children with no content are dropped, as in JS.
 */
#include "core/importer_file.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/importer_i.h"
#include "core/varint.h"

#include "core/banned.h"

/* More levels than a 2^64-byte file of 1-byte chunks and W = 2 needs. */
#define FILE_DEPTH_MAX 65

struct level {
	struct dagpb_link *links; /* max_links slots, allocated on first use */
	uint64_t *sizes;	  /* content bytes under each link */
	size_t n;		  /* links pending */
};

struct importer_file {
	struct importer_opts opts;
	struct importer_meta meta;
	bool has_meta; /* meta given with mode or mtime */
	struct blockio_sink sink;
	uint8_t *chunk;	  /* chunk_size bytes, on first write */
	size_t chunk_len; /* bytes waiting in chunk */
	uint64_t size;	  /* bytes added so far */
	uint64_t nleaves; /* leaves pushed into level 0 */
	bool short_leaf;  /* a leaf under chunk_size was pushed */
	struct level levels[FILE_DEPTH_MAX];
	unsigned nlevels; /* levels in use */
	struct importer_trickle *trickle; /* the layout, if trickle */
	struct buf block; /* scratch: an encoded node */
	struct buf data;  /* scratch: its UnixFS Data */
	int error;	  /* sticky: the first error */
	bool finished;
};

int importer_leaf_make(struct importer_leaf *out, struct buf *block,
		       struct buf *data, const uint8_t *chunk, size_t len,
		       const struct importer_opts *opts)
{
	/* kubo's trickle leaves are Type Raw (boxo FillNodeLayer). */
	struct unixfs_data ud = {.type = opts->layout == IMPORTER_LAYOUT_TRICKLE
					     ? UNIXFS_RAW
					     : UNIXFS_FILE};
	struct dagpb_node node = {0};
	int error;

	out->size = len;
	if (opts->raw_leaves) {
		out->block = chunk;
		out->block_len = len;
		out->tsize = len;
		return cid_hash(&out->cid, 1, CID_CODEC_RAW, opts->hash, chunk,
				len);
	}
	ud.data = chunk;
	ud.data_len = len;
	ud.has_data = len > 0;
	ud.filesize = len;
	ud.has_filesize = true;
	buf_reset(data);
	buf_reset(block);
	if ((error = unixfs_encode(data, &ud)) < 0)
		return error;
	node.data = data->ptr;
	node.data_len = data->len;
	node.has_data = true;
	if ((error = dagpb_encode(block, &node)) < 0)
		return error;
	out->block = block->ptr;
	out->block_len = block->len;
	out->tsize = block->len;
	return cid_hash(&out->cid, importer_opts_cid_version(opts),
			CID_CODEC_DAG_PB, opts->hash, block->ptr, block->len);
}

uint64_t importer_leaf_block_size(uint64_t size)
{
	/* 08 02 [12 len chunk] 18 size, wrapped in PBNode.Data: 0a len */
	uint64_t inner = 2 + 1 + varint_size(size);

	if (size)
		inner += 1 + varint_size(size) + size;
	return 1 + varint_size(inner) + inner;
}

static int fail(struct importer_file *f, int error)
{
	f->error = error;
	return error;
}

int importer_file_new(struct importer_file **out,
		      const struct importer_opts *opts,
		      const struct importer_meta *meta,
		      const struct blockio_sink *sink)
{
	struct importer_file *f;
	int error;

	if ((error = importer_opts_check(opts)) < 0)
		return error;
	if (meta && meta->has_mtime && meta->mtime_nsec > 999999999)
		return efs_error_set(EFS_EINVAL,
				     "importer: mtime nanoseconds %u",
				     meta->mtime_nsec);
	if (!(f = efs_calloc(1, sizeof(*f))))
		return efs_error_set(EFS_ENOMEM, "importer: out of memory");
	f->opts = *opts;
	if (meta && (meta->has_mode || meta->has_mtime)) {
		f->meta = *meta;
		f->has_meta = true;
	}
	f->sink = *sink;
	buf_init(&f->block, DAGPB_BLOCK_MAX);
	buf_init(&f->data, DAGPB_BLOCK_MAX);
	if (opts->layout == IMPORTER_LAYOUT_TRICKLE) {
		error = importer_trickle_new(&f->trickle, opts,
					     f->has_meta ? &f->meta : NULL,
					     sink, &f->block, &f->data);
		if (error < 0) {
			importer_file_free(f);
			return error;
		}
	}
	*out = f;
	return 0;
}

void importer_file_free(struct importer_file *f)
{
	if (!f)
		return;
	for (unsigned d = 0; d < FILE_DEPTH_MAX; d++) {
		efs_free(f->levels[d].links);
		efs_free(f->levels[d].sizes);
	}
	importer_trickle_free(f->trickle);
	efs_free(f->chunk);
	buf_release(&f->block);
	buf_release(&f->data);
	efs_free(f);
}

uint64_t importer_file_size(const struct importer_file *f)
{
	return f->size;
}

static int emit(struct importer_file *f, unsigned d);

/* Add a link to level d, emitting the level when it fills. */
static int push_link(struct importer_file *f, unsigned d, const struct cid *id,
		     uint64_t size, uint64_t tsize)
{
	struct level *lv = &f->levels[d];
	struct dagpb_link *lk;

	if (d >= FILE_DEPTH_MAX)
		return efs_error_set(EFS_ETOOBIG, "importer: file too deep");
	if (!lv->links) {
		lv->links = efs_calloc(f->opts.max_links, sizeof(*lv->links));
		lv->sizes = efs_calloc(f->opts.max_links, sizeof(*lv->sizes));
		if (!lv->links || !lv->sizes) {
			efs_free(lv->links);
			efs_free(lv->sizes);
			lv->links = NULL;
			lv->sizes = NULL;
			return efs_error_set(EFS_ENOMEM,
					     "importer: out of memory");
		}
	}
	if (d >= f->nlevels)
		f->nlevels = d + 1;
	lk = &lv->links[lv->n];
	lk->cid = *id;
	lk->name = (const uint8_t *)"";
	lk->name_len = 0;
	lk->has_name = true;
	lk->tsize = tsize;
	lk->has_tsize = true;
	lv->sizes[lv->n++] = size;
	return lv->n == f->opts.max_links ? emit(f, d) : 0;
}

/* Store level d's links as one File node and link it from level d+1. */
static int emit(struct importer_file *f, unsigned d)
{
	struct level *lv = &f->levels[d];
	struct unixfs_data ud = {.type = UNIXFS_FILE, .has_filesize = true};
	uint64_t tsize = 0;
	struct cid id;
	size_t len;
	int error;

	for (size_t i = 0; i < lv->n; i++) {
		ud.filesize += lv->sizes[i];
		tsize += lv->links[i].tsize;
	}
	ud.blocksizes = lv->sizes;
	ud.nblocksizes = lv->n;
	importer_meta_apply(&ud, f->has_meta ? &f->meta : NULL);
	error = importer_node_store(&id, &len, &f->block, &f->data, &ud,
				    lv->links, lv->n, &f->opts, &f->sink);
	if (error < 0)
		return error;
	lv->n = 0;
	return push_link(f, d + 1, &id, ud.filesize, tsize + len);
}

static int push_leaf(struct importer_file *f, const struct importer_leaf *leaf)
{
	if (leaf->size == 0)
		return 0;
	if (leaf->size < f->opts.chunk_size)
		f->short_leaf = true;
	f->nleaves++;
	if (f->trickle)
		return importer_trickle_push(f->trickle, &leaf->cid, leaf->size,
					     leaf->tsize);
	return push_link(f, 0, &leaf->cid, leaf->size, leaf->tsize);
}

/* Make, store and link the leaf of a chunk known not to be the only one. */
static int push_chunk(struct importer_file *f, const uint8_t *p, size_t n)
{
	struct importer_leaf leaf;
	int error;

	error = importer_leaf_make(&leaf, &f->block, &f->data, p, n, &f->opts);
	if (error < 0)
		return error;
	error = blockio_put(&f->sink, &leaf.cid, leaf.block, leaf.block_len);
	if (error < 0)
		return error;
	return push_leaf(f, &leaf);
}

int importer_file_write(struct importer_file *f, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t cs = f->opts.chunk_size;
	int error = 0;

	if (f->error || len == 0)
		return f->error;
	if (f->finished || f->short_leaf)
		return fail(
		    f, efs_error_set(EFS_EINVAL, "importer: write after %s",
				     f->finished ? "finish" : "a short leaf"));
	if (!f->chunk && !(f->chunk = efs_malloc(cs)))
		return fail(
		    f, efs_error_set(EFS_ENOMEM, "importer: out of memory"));
	while (len && error == 0) {
		size_t n;

		if (f->chunk_len == cs) {
			/* More bytes follow: the waiting chunk is not the
			 * only one (invariant 3). */
			error = push_chunk(f, f->chunk, cs);
			f->chunk_len = 0;
			continue;
		}
		if (f->chunk_len == 0 && len > cs) {
			/* A whole chunk with more behind it: no copy. */
			error = push_chunk(f, p, cs);
			n = cs;
		} else {
			n = cs - f->chunk_len < len ? cs - f->chunk_len : len;
			memcpy(f->chunk + f->chunk_len, p, n);
			f->chunk_len += n;
		}
		f->size += n;
		p += n;
		len -= n;
	}
	return error < 0 ? fail(f, error) : 0;
}

/* Check that a leaf may go next, flushing a waiting full chunk. */
static int leaf_may_follow(struct importer_file *f, uint64_t size)
{
	if (f->finished || f->short_leaf)
		return efs_error_set(EFS_EINVAL, "importer: leaf after %s",
				     f->finished ? "finish" : "a short leaf");
	if (size > f->opts.chunk_size)
		return efs_error_set(EFS_EINVAL,
				     "importer: leaf of %llu bytes over the "
				     "chunk size %zu",
				     (unsigned long long)size,
				     f->opts.chunk_size);
	if (f->chunk_len == f->opts.chunk_size) {
		f->chunk_len = 0;
		return push_chunk(f, f->chunk, f->opts.chunk_size);
	}
	if (f->chunk_len)
		return efs_error_set(EFS_EINVAL,
				     "importer: leaf not on a chunk boundary "
				     "(%llu bytes added)",
				     (unsigned long long)f->size);
	return 0;
}

int importer_file_add_leaf(struct importer_file *f, const struct cid *leaf,
			   uint64_t size)
{
	struct importer_leaf l = {.cid = *leaf, .size = size};

	if (f->error)
		return f->error;
	if (leaf->codec == CID_CODEC_RAW)
		l.tsize = size;
	else if (leaf->codec == CID_CODEC_DAG_PB)
		l.tsize = importer_leaf_block_size(size);
	else
		return fail(f, efs_error_set(EFS_EINVAL,
					     "importer: leaf codec 0x%llx",
					     (unsigned long long)leaf->codec));
	return importer_file_push_leaf(f, &l);
}

int importer_file_push_leaf(struct importer_file *f,
			    const struct importer_leaf *leaf)
{
	int error;

	if (f->error)
		return f->error;
	if ((error = leaf_may_follow(f, leaf->size)) < 0 ||
	    (error = push_leaf(f, leaf)) < 0)
		return fail(f, error);
	f->size += leaf->size;
	return 0;
}

/* The root of a file of at most one chunk, from its bytes. */
static int store_single(struct importer_file *f, struct cid *out,
			uint64_t *tsize)
{
	static const uint8_t empty[1];
	const uint8_t *p = f->chunk_len ? f->chunk : empty;
	struct unixfs_data ud = {.type = UNIXFS_FILE, .has_filesize = true};
	struct importer_leaf leaf;
	size_t len;
	int error;

	if (f->opts.raw_leaves && !f->has_meta) {
		error = importer_leaf_make(&leaf, &f->block, &f->data, p,
					   f->chunk_len, &f->opts);
		if (error == 0)
			error = blockio_put(&f->sink, &leaf.cid, leaf.block,
					    leaf.block_len);
		*out = leaf.cid;
		*tsize = leaf.tsize;
		return error;
	}
	ud.data = p;
	ud.data_len = f->chunk_len;
	ud.has_data = f->chunk_len > 0;
	ud.filesize = f->chunk_len;
	importer_meta_apply(&ud, f->has_meta ? &f->meta : NULL);
	error = importer_node_store(out, &len, &f->block, &f->data, &ud, NULL,
				    0, &f->opts, &f->sink);
	*tsize = len;
	return error;
}

static unsigned top_level(const struct importer_file *f)
{
	unsigned d = f->nlevels;

	while (d > 0 && f->levels[d - 1].n == 0)
		d--;
	return d - 1;
}

/* Collapse the pending levels into the root (see the design notes). */
static int collapse(struct importer_file *f, struct cid *out, uint64_t *tsize)
{
	int error;

	if (f->nleaves == 1) {
		/* One leaf pushed, none waiting: a reused single chunk. */
		if (f->has_meta)
			return efs_error_set(EFS_EINVAL,
					     "importer: a reused single leaf "
					     "cannot carry metadata");
		*out = f->levels[0].links[0].cid;
		*tsize = f->levels[0].links[0].tsize;
		return 0;
	}
	for (unsigned d = 0; d < f->nlevels; d++) {
		struct level *lv = &f->levels[d];

		if (d == top_level(f) && lv->n == 1) {
			*out = lv->links[0].cid;
			*tsize = lv->links[0].tsize;
			return 0;
		}
		if (lv->n && (error = emit(f, d)) < 0)
			return error;
	}
	return efs_error_set(EFS_ERROR, "importer: layout did not converge");
}

int importer_file_finish(struct importer_file *f, struct cid *out,
			 uint64_t *filesize_out, uint64_t *tsize_out)
{
	struct cid root;
	uint64_t tsize = 0;
	int error;

	if (f->error)
		return f->error;
	if (f->finished)
		return fail(
		    f, efs_error_set(EFS_EINVAL, "importer: finished twice"));
	f->finished = true;
	if (f->nleaves == 0 && !f->trickle) {
		error = store_single(f, &root, &tsize);
	} else {
		error = 0;
		if (f->chunk_len)
			error = push_chunk(f, f->chunk, f->chunk_len);
		f->chunk_len = 0;
		if (error == 0 && f->trickle)
			error =
			    importer_trickle_finish(f->trickle, &root, &tsize);
		else if (error == 0)
			error = collapse(f, &root, &tsize);
	}
	if (error < 0)
		return fail(f, error);
	*out = root;
	if (filesize_out)
		*filesize_out = f->size;
	if (tsize_out)
		*tsize_out = tsize;
	return 0;
}
