/*
 * importer_file.h - build one file's UnixFS DAG from bytes pushed in any
 * pieces: fixed-size chunking and the balanced or trickle layout
 * (opts->layout), incrementally.
 *
 * The balanced shape is the reference one (ipfs-formats.md §4): group
 * the leaves left to right into File nodes of at most max_links
 * children, then group those the same way, until one node remains; all
 * leaves sit at the same depth, and only the last node of each level may
 * be short.  A file of one chunk is that chunk's leaf (raw block, or
 * dag-pb File leaf); an empty file is one empty chunk.  The trickle
 * shape is kubo's (see enum importer_layout): its root is always a File
 * node.  Memory is O(depth * max_links) links plus one chunk, whatever
 * the file size, in both layouts (trickle: depth ~ log5(leaves /
 * max_links), max_links + 128 links per level).
 *
 * Usage:
 *	importer_file_new(&f, &opts, NULL, &sink);
 *	importer_file_write(f, p, n);   (any number of times)
 *	importer_file_finish(f, &root, &filesize, &tsize);
 *	importer_file_free(f);
 *
 * Leaves go to the sink as soon as the chunk after them starts, interior
 * nodes as soon as they fill; the root last.  A builder is owned
 * by one thread.  After any error, every later call returns that error.
 */
#ifndef EFS_IMPORTER_FILE_H
#define EFS_IMPORTER_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "core/blockio.h"
#include "core/cid.h"
#include "core/importer.h"

struct importer_file;

/*
 * Start a file.  opts and meta (NULL = no metadata) are copied; sink is
 * copied and must stay usable until importer_file_free.  Returns 0,
 * EFS_EINVAL (bad opts) or EFS_ENOMEM.
 */
int importer_file_new(struct importer_file **out,
		      const struct importer_opts *opts,
		      const struct importer_meta *meta,
		      const struct blockio_sink *sink);

/* Append len bytes.  Returns 0, EFS_EINVAL (after a short leaf was
 * added), EFS_ENOMEM or a sink error. */
int importer_file_write(struct importer_file *f, const void *data, size_t len);

/*
 * Append an already-stored chunk without reading or rehashing it: leaf
 * is its CID (raw, or a dag-pb leaf without metadata as this importer
 * writes it for opts->layout: Type File when balanced, Type Raw when
 * trickle), size its content bytes.  Used to rebuild a file's tree after
 * one chunk changed, reusing the others: the result equals a full import
 * of the same bytes, in either layout.  Allowed only on a chunk boundary
 * (the bytes written so far are a multiple of chunk_size), and only the
 * last chunk may be shorter than chunk_size.  A zero-size leaf adds
 * nothing (fixed-size chunking never makes one, and the reference
 * layouts drop them).  Returns 0, EFS_EINVAL (not on a boundary, size
 * over chunk_size, a short leaf already added, a codec other than
 * raw/dag-pb), EFS_ETOOBIG or EFS_ENOMEM / a sink error.
 */
int importer_file_add_leaf(struct importer_file *f, const struct cid *leaf,
			   uint64_t size);

/*
 * Finish the file: flush the last chunk and collapse the levels into the
 * root.  The root CID goes to out, the file size to filesize_out and the
 * root's cumulative size (block + Σ link Tsize; the Tsize of a link to
 * it) to tsize_out; both may be NULL.  Afterwards only
 * importer_file_free may be called.  Returns 0, EFS_EINVAL (balanced
 * layout: the file is one reused leaf but metadata was asked for; write
 * its bytes instead), EFS_ETOOBIG, EFS_ENOMEM or a sink error.
 */
int importer_file_finish(struct importer_file *f, struct cid *out,
			 uint64_t *filesize_out, uint64_t *tsize_out);

/* Bytes added so far (written and reused). */
uint64_t importer_file_size(const struct importer_file *f);

/* Free the builder.  NULL is fine. */
void importer_file_free(struct importer_file *f);

#endif
