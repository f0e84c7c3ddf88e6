/*
 * importer_i.h - helpers shared by the importer's files (importer.c,
 * importer_file.c, importer_trickle.c, importer_dir.c, importer_tree.c,
 * leafpool.c).  Not for use outside the importer.
 */
#ifndef EFS_IMPORTER_I_H
#define EFS_IMPORTER_I_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/blockio.h"
#include "core/buf.h"
#include "core/cid.h"
#include "core/dagpb.h"
#include "core/importer.h"
#include "core/importer_file.h"
#include "core/unixfs.h"

/*
 * What a builder of one entry keeps (importer_file, importer_trickle,
 * importer_dir, importer_symlink): its options, its metadata (all false
 * when there is none, so importer_meta_apply adds nothing), where its
 * blocks go, and a scratch buffer for the node being encoded.
 */
struct importer_ctx {
	struct importer_opts opts;
	struct importer_meta meta;
	struct blockio_sink sink;
	struct buf block; /* scratch: an encoded node */
};

/*
 * Check a builder's arguments, opts (importer_opts_check) and meta (NULL
 * for none; mtime nanoseconds over 999999999 are refused), and copy them
 * into c (sink must stay usable while c is).  Allocates nothing.
 * Returns 0 or EFS_EINVAL.
 */
int importer_ctx_init(struct importer_ctx *c, const struct importer_opts *opts,
		      const struct importer_meta *meta,
		      const struct blockio_sink *sink);

/* Free c's scratch buffer. */
void importer_ctx_release(struct importer_ctx *c);

/* True when c's entry carries a mode or an mtime. */
static inline bool importer_ctx_has_meta(const struct importer_ctx *c)
{
	return c->meta.has_mode || c->meta.has_mtime;
}

/*
 * Put metadata into a UnixFS Data message the way ipfs-unixfs writes it:
 * mode & 07777, left out when it is the default for the type (0755 for
 * directories and shards, 0644 otherwise); mtime as given.  meta may be
 * NULL.
 */
void importer_meta_apply(struct unixfs_data *d,
			 const struct importer_meta *meta);

/*
 * Encode and hash a dag-pb node: links (in canonical order), then
 * PBNode.Data holding the UnixFS message ud, which is encoded straight
 * into block after the Data field's header, so ud's bytes (a chunk) are
 * copied once.  block is reset first.  The CID (opts's CID version and
 * hash) goes to out.  The one way every node and dag-pb leaf is made.
 * Thread-safe (block is the caller's).  Returns 0, EFS_EINVAL (links
 * out of order, a bad ud), EFS_ETOOBIG (over DAGPB_BLOCK_MAX) or
 * EFS_ENOMEM.
 */
int importer_node_make(struct cid *out, struct buf *block,
		       const struct unixfs_data *ud,
		       const struct dagpb_link *links, size_t n,
		       const struct importer_opts *opts);

/*
 * importer_node_make with c's options and scratch block, then put the
 * block through c's sink.  The block length goes to len_out.  Returns
 * what importer_node_make returns, or a sink error.
 */
int importer_node_store(struct cid *out, size_t *len_out,
			struct importer_ctx *c, const struct unixfs_data *ud,
			const struct dagpb_link *links, size_t n);

/* A chunk made into a leaf, not yet stored. */
struct importer_leaf {
	struct cid cid;
	const uint8_t *block; /* the leaf block: the chunk itself for a raw
				 leaf, else the encoding in a buffer of
				 the caller's */
	size_t block_len;
	uint64_t size;	/* content bytes */
	uint64_t tsize; /* Tsize of a link to it (= block_len) */
};

/*
 * Make the leaf of chunk[0..len): a raw block (CIDv1, no copy) or a
 * dag-pb leaf without metadata (UnixFS Type File, or Type Raw in the
 * trickle layout, as kubo writes them) encoded into block by
 * importer_node_make.  Hashes but does not store.  Thread-safe (block is
 * the caller's).  Returns 0, EFS_ENOMEM or EFS_ETOOBIG.
 */
int importer_leaf_make(struct importer_leaf *out, struct buf *block,
		       const uint8_t *chunk, size_t len,
		       const struct importer_opts *opts);

/* Size of the dag-pb leaf (no metadata, Type File or Raw) of a
 * size-byte chunk (size at most IMPORTER_CHUNK_MAX). */
uint64_t importer_leaf_block_size(uint64_t size);

/*
 * The links of a File node being filled (a balanced level, a trickle
 * frame): slots for cap links, allocated on first use, and the content
 * bytes under each.  Zeroed is empty and unallocated.
 */
struct importer_links {
	struct dagpb_link *links;
	uint64_t *sizes;
	size_t n;
};

/* Allocate cap slots, unless l has them.  Returns 0 or EFS_ENOMEM. */
int importer_links_alloc(struct importer_links *l, size_t cap);

/* Free l's slots; l is zeroed. */
void importer_links_release(struct importer_links *l);

/* Append an unnamed link (a file's) to a chunk of size content bytes
 * and Tsize tsize.  The caller checks there is a free slot. */
void importer_links_add(struct importer_links *l, const struct cid *id,
			uint64_t size, uint64_t tsize);

/*
 * Store a File node over l's links with c's metadata and empty l.  Its
 * CID goes to out, the content bytes under it to size_out, its Tsize
 * (block + Σ link Tsize) to tsize_out.  Returns what importer_node_store
 * returns (l is then unchanged).
 */
int importer_links_store(struct cid *out, uint64_t *size_out,
			 uint64_t *tsize_out, struct importer_links *l,
			 struct importer_ctx *c);

/*
 * A printable copy of s[0..len) for messages: bytes outside printable
 * ASCII (and backslashes) as \xNN, cut to fit cap.  Returns out.
 */
const char *importer_escape(char *out, size_t cap, const char *s, size_t len);

/*
 * Append a leaf whose block the caller already stored (add_fd's
 * parallel path).  As importer_file_add_leaf, with the Tsize given.
 */
int importer_file_push_leaf(struct importer_file *f,
			    const struct importer_leaf *leaf);

/*
 * One file's trickle layout (importer_trickle.c): importer_file.c makes
 * and stores the leaves and hands them over in file order; the builder
 * stores the File nodes above them as they fill, and the root at finish,
 * with ctx's options, metadata, sink and scratch block.  ctx is the
 * file's (borrowed: it must outlive the builder).  Owned by one thread.
 */
struct importer_trickle;

/* Returns 0 or EFS_ENOMEM. */
int importer_trickle_new(struct importer_trickle **out,
			 struct importer_ctx *ctx);

/*
 * Link the next leaf: its CID, content bytes (> 0) and Tsize.  Returns
 * 0, EFS_ETOOBIG (past the depth limit, which no file of fewer than
 * 2^64 leaves reaches), EFS_ENOMEM or a sink error.
 */
int importer_trickle_push(struct importer_trickle *t, const struct cid *id,
			  uint64_t size, uint64_t tsize);

/*
 * Store the open nodes and the root (a File node, even over zero or one
 * leaf).  The root CID goes to out, its cumulative size to tsize_out.
 * Returns 0, EFS_ETOOBIG, EFS_ENOMEM or a sink error.
 */
int importer_trickle_finish(struct importer_trickle *t, struct cid *out,
			    uint64_t *tsize_out);

/* Free the builder.  NULL is fine. */
void importer_trickle_free(struct importer_trickle *t);

#endif
