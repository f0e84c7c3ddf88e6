/*
 * importer_dir.h - build one UnixFS directory from its entries: a basic
 * directory node, or a HAMT (hamt_build) when its estimated size is
 * strictly greater than opts->hamt_threshold (ipfs-formats.md §5, §6).
 *
 * The estimate counts every entry of the final directory, files and
 * sub-directories alike, as the spec (and kubo) say.  ipfs-unixfs-importer
 * 17 does not count sub-directory entries ("JS importer gap"), so for a
 * directory that is over the threshold only because of its
 * sub-directories the JS oracle's CID differs from ours; ours is the one
 * the spec defines.
 *
 * Usage (the FUSE commit builds each directory bottom-up this way):
 *	importer_dir_new(&d, &opts, NULL, &sink);
 *	importer_dir_add(d, "a.txt", 5, &cid, tsize);   (any order)
 *	importer_dir_finish(d, &root, &tsize);
 *	importer_dir_free(d);
 *
 * Memory: the entries (name + CID + size) until finish.  A builder is
 * owned by one thread.
 */
#ifndef EFS_IMPORTER_DIR_H
#define EFS_IMPORTER_DIR_H

#include <stddef.h>
#include <stdint.h>

#include "core/blockio.h"
#include "core/cid.h"
#include "core/importer.h"

struct importer_dir;

/*
 * Start a directory.  opts and meta (NULL = none; mode/mtime go on the
 * directory node or the top shard) are copied; sink is copied and must
 * stay usable until importer_dir_free.  Returns 0, EFS_EINVAL or
 * EFS_ENOMEM.
 */
int importer_dir_new(struct importer_dir **out,
		     const struct importer_opts *opts,
		     const struct importer_meta *meta,
		     const struct blockio_sink *sink);

/*
 * Add an entry: name[0..name_len) (copied; checked with
 * importer_name_check), the child's CID and its cumulative size (the
 * Tsize importer_file_finish, importer_dir_finish, importer_add_* give).
 * Duplicate names are found at finish.  Returns 0, EFS_EINVAL or
 * EFS_ENOMEM.
 */
int importer_dir_add(struct importer_dir *d, const char *name, size_t name_len,
		     const struct cid *id, uint64_t tsize);

/* Entries added so far. */
size_t importer_dir_count(const struct importer_dir *d);

/*
 * Store the directory (its node, or all its shards) through the sink.
 * The root CID goes to out, the cumulative size to tsize_out (NULL to
 * ignore).  Afterwards only importer_dir_free may be called.  Returns 0,
 * EFS_EEXISTS (two entries with one name), EFS_ETOOBIG (a basic
 * directory over 2 MiB: sharding disabled or threshold too high),
 * EFS_ENOMEM or a sink / hamt_build error.
 */
int importer_dir_finish(struct importer_dir *d, struct cid *out,
			uint64_t *tsize_out);

/* Free the builder.  NULL is fine. */
void importer_dir_free(struct importer_dir *d);

#endif
