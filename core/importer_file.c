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

#include "core/banned.h"

/* More levels than a 2^64-byte file of 1-byte chunks and W = 2 needs. */
#define FILE_DEPTH_MAX 65

struct importer_file {
	struct importer_ctx ctx; /* options, metadata, sink, scratch block */
	uint8_t *chunk;		 /* chunk_size bytes, on first write */
	size_t chunk_len;	 /* bytes waiting in chunk */
	uint64_t size;		 /* bytes added so far */
	uint64_t nleaves;	 /* leaves pushed into level 0 */
	bool short_leaf;	 /* a leaf under chunk_size was pushed */
	struct importer_links levels[FILE_DEPTH_MAX];
	unsigned nlevels;		  /* levels in use */
	struct importer_trickle *trickle; /* the layout, if trickle */
	int error;			  /* sticky: the first error */
	bool finished;
};

/* Remember the first error: every later call returns it. */
static int set_sticky(struct importer_file *f, int error)
{
	f->error = error;
	return error;
}

int importer_file_new(struct importer_file **out,
		      const struct importer_opts *opts,
		      const struct importer_meta *meta,
		      const struct blockio_sink *sink)
{
	struct importer_ctx ctx;
	struct importer_file *f;
	int error;

	if ((error = importer_ctx_init(&ctx, opts, meta, sink)) < 0)
		return error;
	if (!(f = efs_calloc(1, sizeof(*f))))
		return efs_error_set(EFS_ENOMEM, "importer: out of memory");
	f->ctx = ctx;
	if (opts->layout == IMPORTER_LAYOUT_TRICKLE &&
	    (error = importer_trickle_new(&f->trickle, &f->ctx)) < 0) {
		importer_file_free(f);
		return error;
	}
	*out = f;
	return 0;
}

void importer_file_free(struct importer_file *f)
{
	if (!f)
		return;
	for (unsigned d = 0; d < FILE_DEPTH_MAX; d++)
		importer_links_release(&f->levels[d]);
	importer_trickle_free(f->trickle);
	efs_free(f->chunk);
	importer_ctx_release(&f->ctx);
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
	struct importer_links *lv = &f->levels[d];
	int error;

	if (d >= FILE_DEPTH_MAX)
		return efs_error_set(EFS_ETOOBIG, "importer: file too deep");
	if ((error = importer_links_alloc(lv, f->ctx.opts.max_links)) < 0)
		return error;
	if (d >= f->nlevels)
		f->nlevels = d + 1;
	importer_links_add(lv, id, size, tsize);
	return lv->n == f->ctx.opts.max_links ? emit(f, d) : 0;
}

/* Store level d's links as one File node and link it from level d+1. */
static int emit(struct importer_file *f, unsigned d)
{
	struct cid id;
	uint64_t size, tsize;
	int error;

	error =
	    importer_links_store(&id, &size, &tsize, &f->levels[d], &f->ctx);
	if (error < 0)
		return error;
	return push_link(f, d + 1, &id, size, tsize);
}

static int push_leaf(struct importer_file *f, const struct importer_leaf *leaf)
{
	if (leaf->size == 0)
		return 0;
	if (leaf->size < f->ctx.opts.chunk_size)
		f->short_leaf = true;
	f->nleaves++;
	if (f->trickle)
		return importer_trickle_push(f->trickle, &leaf->cid, leaf->size,
					     leaf->tsize);
	return push_link(f, 0, &leaf->cid, leaf->size, leaf->tsize);
}

/* Make and store the leaf of p[0..n). */
static int store_leaf(struct importer_file *f, struct importer_leaf *leaf,
		      const uint8_t *p, size_t n)
{
	int error;

	error = importer_leaf_make(leaf, &f->ctx.block, p, n, &f->ctx.opts);
	if (error < 0)
		return error;
	return blockio_put(&f->ctx.sink, &leaf->cid, leaf->block,
			   leaf->block_len);
}

/* Make, store and link the leaf of a chunk known not to be the only one. */
static int push_chunk(struct importer_file *f, const uint8_t *p, size_t n)
{
	struct importer_leaf leaf;
	int error;

	if ((error = store_leaf(f, &leaf, p, n)) < 0)
		return error;
	return push_leaf(f, &leaf);
}

int importer_file_write(struct importer_file *f, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t cs = f->ctx.opts.chunk_size;
	int error = 0;

	if (f->error || len == 0)
		return f->error;
	if (f->finished || f->short_leaf)
		return set_sticky(
		    f, efs_error_set(EFS_EINVAL, "importer: write after %s",
				     f->finished ? "finish" : "a short leaf"));
	if (!f->chunk && !(f->chunk = efs_malloc(cs)))
		return set_sticky(
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
	return error < 0 ? set_sticky(f, error) : 0;
}

/* Check that a leaf may go next, flushing a waiting full chunk. */
static int leaf_may_follow(struct importer_file *f, uint64_t size)
{
	if (f->finished || f->short_leaf)
		return efs_error_set(EFS_EINVAL, "importer: leaf after %s",
				     f->finished ? "finish" : "a short leaf");
	if (size > f->ctx.opts.chunk_size)
		return efs_error_set(EFS_EINVAL,
				     "importer: leaf of %llu bytes over the "
				     "chunk size %zu",
				     (unsigned long long)size,
				     f->ctx.opts.chunk_size);
	if (f->chunk_len == f->ctx.opts.chunk_size) {
		f->chunk_len = 0;
		return push_chunk(f, f->chunk, f->ctx.opts.chunk_size);
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
		return set_sticky(
		    f, efs_error_set(EFS_EINVAL, "importer: leaf codec 0x%llx",
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
		return set_sticky(f, error);
	f->size += leaf->size;
	return 0;
}

/* The root of a file of at most one chunk, from its bytes: its leaf, or
 * with metadata a File node holding the chunk. */
static int store_single(struct importer_file *f, struct cid *out,
			uint64_t *tsize)
{
	static const uint8_t empty[1];
	const uint8_t *p = f->chunk_len ? f->chunk : empty;
	struct unixfs_data ud = {.type = UNIXFS_FILE, .has_filesize = true};
	struct importer_leaf leaf;
	size_t len;
	int error;

	if (!importer_ctx_has_meta(&f->ctx)) {
		if ((error = store_leaf(f, &leaf, p, f->chunk_len)) < 0)
			return error;
		*out = leaf.cid;
		*tsize = leaf.tsize;
		return 0;
	}
	ud.data = p;
	ud.data_len = f->chunk_len;
	ud.has_data = f->chunk_len > 0;
	ud.filesize = f->chunk_len;
	importer_meta_apply(&ud, &f->ctx.meta);
	if ((error = importer_node_store(out, &len, &f->ctx, &ud, NULL, 0)) < 0)
		return error;
	*tsize = len;
	return 0;
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
		if (importer_ctx_has_meta(&f->ctx))
			return efs_error_set(EFS_EINVAL,
					     "importer: a reused single leaf "
					     "cannot carry metadata");
		*out = f->levels[0].links[0].cid;
		*tsize = f->levels[0].links[0].tsize;
		return 0;
	}
	for (unsigned d = 0; d < f->nlevels; d++) {
		struct importer_links *lv = &f->levels[d];

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
		return set_sticky(
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
		return set_sticky(f, error);
	*out = root;
	if (filesize_out)
		*filesize_out = f->size;
	if (tsize_out)
		*tsize_out = tsize;
	return 0;
}
