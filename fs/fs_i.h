/*
 * fs_i.h - what the files of fs/ share: the mounted filesystem's state
 * (struct efs_fs), the FUSE glue helpers, and the data-path entry points
 * that fsops.c puts in the fuse_lowlevel_ops table and fsops_data.c
 * implements.
 *
 * Files of fs/ and who calls whom:
 *
 *   mount.c       options, repository, session, daemonizing, signals;
 *                 builds struct efs_fs and runs the loop (mount.h)
 *   fsops.c       the fuse_lowlevel_ops table; metadata ops (lookup,
 *                 getattr, setattr, mknod, mkdir, create, symlink, link,
 *                 unlink, rmdir, rename, readlink)
 *   fsops_dir.c   readdir, readdirplus, fsyncdir, statfs
 *   fsops_xattr.c xattrs: user.*, and user.estuary.cid / .commit
 *   fsops_data.c  data ops: open, read, write_buf, flush, fsync, release,
 *                 fallocate, copy_file_range, lseek, and truncate for
 *                 setattr (fsops_data_setsize)
 *   inode*.c      the inode table (inode.h): inodes, dentries, xattrs in
 *                 index.db; lookup counts; content roots and their pins
 *   fileio*.c     per-inode file state: staged writes over the DAG
 *   staging.c     the staging area on disk and its budget
 *   dircid.c      CIDs of inodes on demand, directory caches (dircid.h)
 *   commit.c      commits: snapshots of a directory with a root CID
 *   errmap.c      the one place efs codes become errno values
 *   fsstats.c     the ops' counts and latencies (fsstats.h), and the
 *                 wrapped table that records them
 *
 * Only fsops*.c, mount.c and errmap.c see FUSE; inode, dircid and
 * commit are plain libraries over core/ (unit-tested without a mount).
 *
 * Threads: FUSE calls the ops from up to opts.max_threads threads at once.
 * struct efs_fs itself is immutable once the session runs (its pointers
 * are set up before and torn down after the loop); what it points to is
 * internally locked (bstore, inode_table) or documented in its header.
 *
 * Every op replies exactly once, on the thread it was called on (the
 * counters of fsstats.c rely on it).  Errors are replied through
 * errmap_reply_err (errmap.h), never with a raw errno computed elsewhere.
 */
#ifndef EFS_FS_I_H
#define EFS_FS_I_H

#include <fuse_lowlevel.h>

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/bstore.h"
#include "core/importer.h"
#include "fs/fsstats.h"
#include "fs/inode.h"
#include "fs/staging.h"

/* Options of one mount, parsed by mount.c from -o and the command line. */
struct efs_fs_opts {
	char *repo;              /* repository directory (owned) */
	const char *profile;     /* profile asked for, NULL = the one
				    recorded at first mount (default
				    unixfs-v1-2025); borrowed */
	double entry_timeout;    /* seconds the kernel caches a lookup */
	double attr_timeout;     /* seconds the kernel caches attributes */
	double negative_timeout; /* seconds a failed lookup is cached */
	unsigned max_threads;    /* FUSE worker threads, >= 16 */
	bool clone_fd;           /* one /dev/fuse fd per worker */
	bool writeback_cache;    /* FUSE_CAP_WRITEBACK_CACHE (off: R10) */
	uint64_t staging_max;    /* bytes staged before writers wait; 0 =
				    the data path's default */
	unsigned autocommit_idle; /* commit a directory idle this many
				     seconds; 0 = off */
	unsigned gc_interval;    /* seconds between bstore_gc runs of the
				    "efs-gc" thread (mount.c); 0 = off */
};

struct fsdata;       /* the data path's state (fileio.c, staging.c) */
struct commit_state; /* commit.c */
struct mount_gc;     /* mount.c: the "efs-gc" thread */

struct efs_fs {
	struct efs_fs_opts opts;
	struct importer_opts iopts; /* the repository's profile: every file
				       and directory DAG is built with it */
	char *repo;                 /* = opts.repo, borrowed */
	char *staging_dir;          /* <repo>/staging, created by mount.c,
				       the data path's (owned) */
	struct bstore *bs;          /* internally locked */
	struct inode_table *itab;   /* internally locked */
	struct fsdata *data;        /* fsops_data_init / _destroy */
	struct commit_state *commits; /* internally locked */
	struct fuse_session *se;    /* for notify_inval_*; NULL in tests */
	struct mount_gc *gc;        /* NULL when gc_interval is 0 */
	struct fsstats stats;       /* atomics: the ops' counts (fsstats.h) */
};

/* The filesystem a request belongs to. */
static inline struct efs_fs *fs_from_req(fuse_req_t req)
{
	return (struct efs_fs *)fuse_req_userdata(req);
}

/* ---- fsops.c and its helpers ----------------------------------------- */

/* The ops (the table fsstats_ops_init wraps). */
extern const struct fuse_lowlevel_ops fsops_ops;

/* fsstats.c: fsops_ops with every op it knows timed and counted in the
 * request's fs->stats: the table handed to fuse_session_new (mount.c). */
void fsstats_ops_init(struct fuse_lowlevel_ops *out);

/* Fill a lookup reply for a (timeouts from fs->opts); the caller has
 * taken the reference (inode_ref). */
void fsops_entry_fill(struct fuse_entry_param *out, const struct efs_fs *fs,
		      const struct inode_attr *a);

/* fsops_dir.c: listings, statfs, fsyncdir. */
void fsops_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi);
void fsops_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
		       off_t off, struct fuse_file_info *fi);
void fsops_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
		    struct fuse_file_info *fi);
void fsops_statfs(fuse_req_t req, fuse_ino_t ino);

/* fsops_xattr.c: user.* xattrs and our user.estuary.* names. */
void fsops_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		    const char *value, size_t size, int flags);
void fsops_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		    size_t size);
void fsops_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void fsops_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);

/* ---- helpers of fsops.c the data path uses ---------------------------- */

/*
 * Reply attributes for ino (size and times include writes not yet
 * flushed, see inode_note_write), or the error.  For setattr, fallocate
 * and the like.
 */
void fsops_reply_attr(fuse_req_t req, struct efs_fs *fs, uint64_t ino);

/* Fill a struct stat from an inode's attributes (st_blocks from size). */
void fsops_stat_fill(struct stat *out, const struct inode_attr *a);

/* ---- the data path (fsops_data.c) ------------------------------------ */

/* Seconds between the data path's writeback scans. */
#define FSDATA_WB_PERIOD 5
/* Seconds a file may stay dirty before writeback flushes it. */
#define FSDATA_WB_AGE 30
/* Longest time a sealed chunk of a file being written stays unreferenced
 * in the blockstore (until the flush pins the file's new root); gc's
 * grace period must exceed it (mount.c). */
#define FSDATA_WRITE_WINDOW (FSDATA_WB_AGE + FSDATA_WB_PERIOD)

/*
 * Set up and tear down fs->data.  init runs after the inode table and
 * the blockstore are open and before the session starts: it removes
 * what a crash left in the staging directory and sets fs->data
 * (non-NULL) on success.  Staged data does NOT survive a crash (staging
 * files are O_TMPFILE, or unlinked at once, staging.c): what survives a
 * kill -9 is everything that was fsynced or closed (flush and fsync
 * return once the data and the inode row are durable), plus what the
 * writeback thread had flushed of files left dirty a while.  destroy
 * runs (only when fs->data is set) after the session was unmounted:
 * flush what is left and free fs->data.  init returns 0 or a negative
 * efs code; destroy returns the first error of its final flushes (the
 * daemon logs it and exits non-zero).
 */
int fsops_data_init(struct efs_fs *fs);
int fsops_data_destroy(struct efs_fs *fs);

/* Read file data through src (staging_set_source); NULL: the blockstore
 * alone again, once the reads under way ended. */
void fsops_data_set_source(struct efs_fs *fs,
			   const struct blockio_source *src);

/* The source file data is read through (staging_source): for grafts,
 * whose one-block files may have been evicted. */
struct blockio_source fsops_data_source(struct efs_fs *fs);

/*
 * Open the inode a create() just made (a regular file of size 0): set
 * fi->fh and the open flags (keep_cache, direct_io ...) as open does.
 * fsops.c replies with fuse_reply_create.  Returns 0 or a negative efs
 * code (the new inode is then unlinked again).
 */
int fsops_data_create(struct efs_fs *fs, uint64_t ino,
		      struct fuse_file_info *fi);

/*
 * Take back the handle fsops_data_create set in fi when the kernel never
 * got it (create failed after it, or fuse_reply_create failed because
 * the request was interrupted): no release will come for it.  Drops the
 * handle as release does and clears fi->fh.
 */
void fsops_data_create_abort(struct efs_fs *fs, struct fuse_file_info *fi);

/*
 * Truncate or extend ino to size for setattr (FUSE_SET_ATTR_SIZE); fi is
 * the open file for ftruncate, NULL for truncate(2) by path.  Sets the
 * inode's pending size and times with inode_note_write.  The other
 * attributes of the same setattr are applied by fsops.c afterwards.
 * Returns 0 or a negative efs code (FS_EISDIR etc. from errmap.h too).
 */
int fsops_data_setsize(struct efs_fs *fs, uint64_t ino, uint64_t size,
		       struct fuse_file_info *fi);

/* The data ops, as struct fuse_lowlevel_ops has them. */
void fsops_data_open(fuse_req_t req, fuse_ino_t ino,
		     struct fuse_file_info *fi);
void fsops_data_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     struct fuse_file_info *fi);
void fsops_data_write_buf(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_bufvec *bufv, off_t off,
			  struct fuse_file_info *fi);
void fsops_data_flush(fuse_req_t req, fuse_ino_t ino,
		      struct fuse_file_info *fi);
void fsops_data_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		      struct fuse_file_info *fi);
void fsops_data_release(fuse_req_t req, fuse_ino_t ino,
			struct fuse_file_info *fi);
void fsops_data_fallocate(fuse_req_t req, fuse_ino_t ino, int mode,
			  off_t offset, off_t length,
			  struct fuse_file_info *fi);
void fsops_data_copy_file_range(fuse_req_t req, fuse_ino_t ino_in,
				off_t off_in, struct fuse_file_info *fi_in,
				fuse_ino_t ino_out, off_t off_out,
				struct fuse_file_info *fi_out, size_t len,
				int flags);
void fsops_data_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		      struct fuse_file_info *fi);

#endif
