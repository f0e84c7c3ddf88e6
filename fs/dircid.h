/*
 * dircid.h - the UnixFS CID of any inode, computed on demand: a file's is
 * its content root (the empty file's for a file with no content yet), a
 * symlink's a UnixFS Symlink node, a directory's the directory node (or
 * HAMT) built over its children's CIDs, recursively, with the same
 * profile, so it equals what `ipfs add -r` of the same tree gives.
 *
 * Directory CIDs are cached in the inode table per directory (inode.h:
 * inode_dircid_get/set) until a change below invalidates them, so asking
 * again for an unchanged tree costs one lookup, and after a change only
 * the directories on the path to it are rebuilt.  The blocks built are
 * put into the blockstore (not synced, not pinned: commit.c pins what it
 * keeps).
 *
 * Metadata: mode, mtime, owners and xattrs stay in the inode table and
 * are not stored in the nodes (no UnixFS 1.5 fields), so CIDs depend on
 * names and bytes only, and `chmod` or `touch` do not change them.  A
 * directory's CID therefore equals a plain `ipfs add -r` of the same tree
 * with the same profile: `ipfs add -r --hidden` in a kubo configured
 * with IPIP-499's unixfs-v1-2025 profile (CIDv1, raw leaves, 1 MiB
 * chunks, 1024 links, HAMT by exact block size), or `estuaryfs add` of a
 * copy of the tree; for unixfs-v0-2015, kubo's classic defaults.
 * --hidden matters: dot-files are part of the filesystem, while kubo
 * skips them by default.
 *
 * Entries a UnixFS directory cannot hold (fifos, sockets, devices) are
 * left out, as `ipfs add` skips them; a name that is not valid UTF-8
 * fails the directory with EFS_EINVAL.
 *
 * Threads: reentrant; any number of computations may run at once (the
 * caches stay consistent through their versions).
 */
#ifndef EFS_DIRCID_H
#define EFS_DIRCID_H

#include <stdint.h>

#include "core/cid.h"
#include "core/importer.h"

struct bstore;
struct inode_table;

/* What a computation needs; all borrowed. */
struct dircid_env {
	struct inode_table *t;
	struct bstore *bs;
	const struct importer_opts *iopts; /* the filesystem's profile */
};

/* Deepest directory tree computed (paths are bounded by PATH_MAX). */
#define DIRCID_DEPTH_MAX 2048

/*
 * The CID of inode ino and its cumulative size (the Tsize a directory
 * link to it carries; tsize_out may be NULL).  Returns 0, EFS_ENOTFOUND,
 * EFS_EINVAL (a special file, or a name that is not UTF-8 below a
 * directory), EFS_ETOOBIG (deeper than DIRCID_DEPTH_MAX), EFS_ENOMEM,
 * blockstore, importer or db errors.
 */
int dircid_inode(struct cid *out, uint64_t *tsize_out,
		 const struct dircid_env *env, uint64_t ino);

/* The CID of an empty file under opts (its block is put into bs when bs
 * is not NULL).  Returns 0 or importer/blockstore errors. */
int dircid_empty_file(struct cid *out, uint64_t *tsize_out,
		      struct bstore *bs, const struct importer_opts *opts);

#endif
