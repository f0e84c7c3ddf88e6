/*
 * importer_trickle.c - one file's trickle layout, built as the leaves
 * arrive (the shape is described at enum importer_layout, importer.h;
 * the API is in importer_i.h, used by importer_file.c).
 *
 * Design.  boxo's trickledag.go builds the tree recursively:
 *
 *   fill(node, max_depth):              (the root: no max_depth)
 *       link up to W leaves
 *       for depth = 1, 2, ... while depth < max_depth and data is left:
 *           4 times, while data is left:
 *               link fill(new node, depth)
 *
 * Streamed, the recursion is a stack of open nodes (frames), the root at
 * the bottom and the node taking leaves on top:
 *
 *   frames[0]  root     W leaves, 4 x depth 1, 4 x depth 2, ..., open child
 *   frames[1]  depth k  W leaves, 4 x depth 1, ..., open child
 *   ...
 *   top                 taking leaves
 *
 * A leaf goes to the top frame while that holds fewer than W leaves;
 * otherwise it opens the top frame's next sub-tree (of the frame's
 * current child depth; the repeat counter moves on) and goes there.  A
 * frame with its W leaves and no child depth left is full: it is stored
 * at once and linked from the frame below, which may then be full too.
 * At finish the open frames are stored from the top down, the root last.
 * As in boxo, a sub-tree is opened only for a leaf, so no node is empty
 * but the root of an empty file, and the root is a File node even over
 * one leaf.
 *
 * Invariants:
 *   1. no frame on the stack is full (the root never is);
 *   2. a frame's first nleaves links are leaves, the rest its sub-trees
 *      in the order they were opened;
 *   3. frames[i + 1] is the open sub-tree of frames[i], and its
 *      max_depth is the child depth frames[i] had when it opened it.
 *
 * Memory: a sub-tree of depth d holds W * 5^(d-1) leaves, so the stack
 * holds about log5(leaves / W) + 2 frames, each of W + 4 *
 * TRICKLE_DEPTH_MAX link slots: independent of the file size.
 */
#include "core/importer_i.h"

#include <assert.h>
#include <limits.h>

#include "core/alloc.h"
#include "core/error.h"

#include "core/banned.h"

/* Sub-trees per depth (boxo's depthRepeat). */
#define TRICKLE_REPEAT 4
/* Frames on the stack: 2^64 one-byte chunks at W = 2 need 29. */
#define TRICKLE_DEPTH_MAX 32

struct frame {
	struct importer_links links; /* the first nleaves are leaves */
	size_t nleaves;
	unsigned max_depth; /* sub-trees are of depths < this */
	unsigned depth;	    /* depth of the next sub-tree */
	unsigned repeat;    /* sub-trees of that depth so far */
};

struct importer_trickle {
	struct importer_ctx *ctx; /* the file's: options, sink, block */
	size_t cap;		  /* link slots per frame */
	struct frame frames[TRICKLE_DEPTH_MAX];
	unsigned nframes; /* frames in use; frames[0] is the root */
};

/* Push a new, empty frame whose sub-trees are of depths < max_depth. */
static int frame_open(struct importer_trickle *t, unsigned max_depth)
{
	struct frame *fr;
	int error;

	if (t->nframes == TRICKLE_DEPTH_MAX)
		return efs_error_set(EFS_ETOOBIG,
				     "importer: trickle tree too deep");
	fr = &t->frames[t->nframes];
	if ((error = importer_links_alloc(&fr->links, t->cap)) < 0)
		return error;
	fr->links.n = 0;
	fr->nleaves = 0;
	fr->max_depth = max_depth;
	fr->depth = 1;
	fr->repeat = 0;
	t->nframes++;
	return 0;
}

static int frame_link(struct importer_trickle *t, struct frame *fr,
		      const struct cid *id, uint64_t size, uint64_t tsize)
{
	if (fr->links.n == t->cap)
		return efs_error_set(EFS_ETOOBIG,
				     "importer: trickle node too wide");
	importer_links_add(&fr->links, id, size, tsize);
	return 0;
}

static bool frame_full(const struct frame *fr, unsigned w)
{
	return fr->nleaves == w && fr->depth >= fr->max_depth;
}

/* Store the top frame as a File node and pop it: its CID, content size
 * and Tsize go to out, size_out and tsize_out. */
static int frame_store(struct importer_trickle *t, struct cid *out,
		       uint64_t *size_out, uint64_t *tsize_out)
{
	struct frame *fr = &t->frames[t->nframes - 1];
	int error;

	error =
	    importer_links_store(out, size_out, tsize_out, &fr->links, t->ctx);
	if (error < 0)
		return error;
	t->nframes--;
	return 0;
}

/* Store the top frame and link it from the frame below. */
static int frame_close(struct importer_trickle *t)
{
	struct cid id;
	uint64_t size, tsize;
	int error;

	assert(t->nframes > 1);
	if ((error = frame_store(t, &id, &size, &tsize)) < 0)
		return error;
	return frame_link(t, &t->frames[t->nframes - 1], &id, size, tsize);
}

int importer_trickle_new(struct importer_trickle **out,
			 struct importer_ctx *ctx)
{
	struct importer_trickle *t;
	int error;

	if (!(t = efs_calloc(1, sizeof(*t))))
		return efs_error_set(EFS_ENOMEM, "importer: out of memory");
	t->ctx = ctx;
	t->cap =
	    ctx->opts.max_links + (size_t)TRICKLE_REPEAT * TRICKLE_DEPTH_MAX;
	if ((error = frame_open(t, UINT_MAX)) < 0) {
		importer_trickle_free(t);
		return error;
	}
	*out = t;
	return 0;
}

void importer_trickle_free(struct importer_trickle *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < TRICKLE_DEPTH_MAX; i++)
		importer_links_release(&t->frames[i].links);
	efs_free(t);
}

int importer_trickle_push(struct importer_trickle *t, const struct cid *id,
			  uint64_t size, uint64_t tsize)
{
	unsigned w = t->ctx->opts.max_links;
	struct frame *top = &t->frames[t->nframes - 1];
	int error;

	if (top->nleaves == w) {
		/* Leaves done and not full (invariant 1): the leaf starts
		 * the next sub-tree. */
		if ((error = frame_open(t, top->depth)) < 0)
			return error;
		if (++top->repeat == TRICKLE_REPEAT) {
			top->depth++;
			top->repeat = 0;
		}
		top = &t->frames[t->nframes - 1];
	}
	if ((error = frame_link(t, top, id, size, tsize)) < 0)
		return error;
	top->nleaves++;
	while (t->nframes > 1 && frame_full(&t->frames[t->nframes - 1], w))
		if ((error = frame_close(t)) < 0)
			return error;
	return 0;
}

int importer_trickle_finish(struct importer_trickle *t, struct cid *out,
			    uint64_t *tsize_out)
{
	uint64_t size;
	int error;

	assert(t->nframes > 0);
	while (t->nframes > 1)
		if ((error = frame_close(t)) < 0)
			return error;
	return frame_store(t, out, &size, tsize_out);
}
