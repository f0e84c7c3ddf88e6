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
 * Make the leaf of chunk[0..len): a raw block (CIDv1) or a dag-pb leaf
 * without metadata (UnixFS Type File, or Type Raw in the trickle layout,
 * as kubo writes them), encoded into block (data is scratch).  Hashes
 * but does not store.  Thread-safe (the buffers are the caller's).
 * Returns 0, EFS_ENOMEM or EFS_ETOOBIG.
 */
int importer_leaf_make(struct importer_leaf *out, struct buf *block,
		       struct buf *data, const uint8_t *chunk, size_t len,
		       const struct importer_opts *opts);

/* Size of the dag-pb leaf (no metadata, Type File or Raw) of a
 * size-byte chunk. */
uint64_t importer_leaf_block_size(uint64_t size);

/*
 * A printable copy of s[0..len) for messages: bytes outside printable
 * ASCII (and backslashes) as \xNN, cut to fit cap.  Returns out.
 */
const char *importer_escape(char *out, size_t cap, const char *s, size_t len);

/*
 * Put metadata into a UnixFS Data message the way ipfs-unixfs writes it:
 * mode & 07777, left out when it is the default for the type (0755 for
 * directories and shards, 0644 otherwise); mtime as given.  meta may be
 * NULL.
 */
void importer_meta_apply(struct unixfs_data *d,
			 const struct importer_meta *meta);

/*
 * Encode a dag-pb node (links, in canonical order, + the UnixFS Data ud)
 * into block, using data as scratch; hash it with opts's CID version and
 * hash, and put it through sink.  The CID goes to out, the block length
 * to len_out.  Returns 0, EFS_ETOOBIG, EFS_ENOMEM or a sink error.
 */
int importer_node_store(struct cid *out, size_t *len_out, struct buf *block,
			struct buf *data, const struct unixfs_data *ud,
			struct dagpb_link *links, size_t n,
			const struct importer_opts *opts,
			const struct blockio_sink *sink);

/*
 * Append a leaf whose block the caller already stored (add_fd's
 * parallel path).  As importer_file_add_leaf, with the Tsize given.
 */
int importer_file_push_leaf(struct importer_file *f,
			    const struct importer_leaf *leaf);

/*
 * One file's trickle layout (importer_trickle.c): importer_file.c makes
 * and stores the leaves and hands them over in file order; the builder
 * stores the File nodes above them as they fill, and the root at finish.
 * opts and meta (NULL = none) are copied; sink is copied and must stay
 * usable until importer_trickle_free; block and data are the caller's
 * scratch buffers, used only during calls.  Owned by one thread.
 */
struct importer_trickle;

/* Returns 0 or EFS_ENOMEM. */
int importer_trickle_new(struct importer_trickle **out,
			 const struct importer_opts *opts,
			 const struct importer_meta *meta,
			 const struct blockio_sink *sink, struct buf *block,
			 struct buf *data);

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
