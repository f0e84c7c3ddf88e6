/*
 * graft.h - make a UnixFS DAG appear at a path of the filesystem without
 * copying its bytes: a file becomes an inode whose content is the DAG's
 * root (as a flushed file's is), a directory (basic or HAMT-sharded) a
 * tree of inodes made by walking the DAG, a symlink a symlink.  What the
 * pinning API puts under /pins/ and uploads under /uploads/; and
 * graft_remove, which takes such a tree away again.
 *
 * The whole tree, and the directories of the path that were missing
 * (mkdir -p), are made in one inode-table transaction (inode_graft): a
 * crash leaves all of it or nothing.  Names are checked as any create
 * checks them.  Modes and mtimes come from the DAG's UnixFS 1.5 metadata
 * when it has them, else 0644 for files, 0755 for directories and the
 * path's directories, 0777 for symlinks; owners are the env's.
 *
 * Each grafted directory keeps the DAG's CID as its cached CID, so the
 * filesystem's CID of the tree (dircid.h), and a commit of it, is the
 * DAG grafted, whatever profile or metadata it was made with, until
 * something below changes; rebuilt then with the filesystem's profile.
 *
 * Blocks: directory nodes (and file and symlink roots with links) are
 * read through env->src, and must be there: the daemon's pins worker
 * retrieves the whole DAG first, and a node with links is never evicted.
 * The size of a raw file comes from the blockstore's index, so evicted
 * leaves are never fetched; a one-block dag-pb file that was evicted is
 * read through env->src (a retrieving source brings it back).
 *
 * Threads: reentrant; the inode table and blockstore are internally
 * locked.  No lock is held while the DAG is read.
 */
#ifndef EFS_GRAFT_H
#define EFS_GRAFT_H

#include <stddef.h>
#include <stdint.h>

#include "core/blockio.h"
#include "core/cid.h"
#include "fs/inode.h"

struct bstore;

/* Deepest directory tree grafted. */
#define GRAFT_DEPTH_MAX 256
/*
 * Most inodes one graft makes.  The whole plan is in memory until its
 * transaction ends: about 290 bytes per inode, measured (struct
 * inode_graft 248, its name's allocation, 32 for names up to 24 bytes,
 * 8 for its inode number and 8 for its pin), so 200,000 inodes take
 * 58 MB (longer names cost their length more).  A bigger DAG is refused
 * before anything is made: graft a directory inside it instead.
 */
#define GRAFT_INODES_MAX 200000u
/* Longest path taken (PATH_MAX less the NUL). */
#define GRAFT_PATH_MAX 4095

/* What a graft needs; all borrowed. */
struct graft_env {
	struct inode_table *t;
	struct bstore *bs;
	struct blockio_source src; /* the DAG's blocks */
	uint32_t uid;              /* owner of what is made */
	uint32_t gid;
};

/* What a graft made. */
struct graft_result {
	uint64_t ino;          /* the inode at path */
	uint64_t inodes;       /* inodes made, the path's directories too */
	/* the first entry made, in a directory that existed: what the
	   kernel's caches must forget (fuse_lowlevel_notify_inval_entry) */
	uint64_t parent;
	char name[INODE_NAME_MAX + 1];
};

/*
 * Make the DAG root appear at path, absolute ("/pins/photos"; empty
 * components are skipped, the root itself cannot be replaced).  The path
 * is looked up before any block is read, so a caller trying one name
 * after another walks the DAG once.  Returns 0, EFS_EEXISTS (path
 * exists, or a directory of it is not one: nothing is made), EFS_EINVAL
 * (a relative path, "." or "..", a path over GRAFT_PATH_MAX, a root that
 * is not UnixFS or a symlink target out of bounds), FS_ENAMETOOLONG (a
 * name of the path or of the DAG over INODE_NAME_MAX), EFS_ETOOBIG (deeper than GRAFT_DEPTH_MAX or more than
 * GRAFT_INODES_MAX inodes), EFS_ECORRUPT (a malformed DAG, duplicate
 * names), EFS_EUNSUPPORTED (a codec other than dag-pb and raw), source,
 * inode_graft or db errors.  out is filled whenever the tree was made,
 * even when pinning its files failed after (inode_graft): out->inodes
 * is 0 when nothing was made.
 */
int graft_path(struct graft_result *out, const struct graft_env *env,
	       const char *path, const struct cid *root);

/*
 * The inode at path, absolute, without following symlinks ("/" is the
 * root).  Returns 0, EFS_ENOTFOUND, FS_ENOTDIR, EFS_EINVAL (relative,
 * too long) or db errors.
 */
int graft_lookup(uint64_t *out, struct inode_table *t, const char *path);

/*
 * Remove path, absolute ("/pins/NAME"), and all below it (rm -r): what
 * graft_path made, undone.  Not one transaction: entries go one by one,
 * deepest first, each as an unlink or rmdir does (an inode still open is
 * freed at its last forget), so a crash midway leaves part of the tree,
 * which a second call removes.  out as graft_path's, for what went:
 * inodes counts the entries removed, and parent and name are the path's
 * last entry (what the kernel's caches must forget when inodes > 0),
 * also on an error midway.  Returns 0, EFS_ENOTFOUND (nothing at path),
 * EFS_EINVAL (a relative path, the root, "." or ".."), FS_ENOTDIR,
 * FS_ENOTEMPTY (an entry made meanwhile), EFS_ETOOBIG (deeper than
 * GRAFT_DEPTH_MAX), EFS_ENOMEM or db errors.
 */
int graft_remove(struct graft_result *out, struct inode_table *t,
		 const char *path);

#endif
