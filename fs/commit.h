/*
 * commit.h - commits: immutable snapshots of a directory of the mount,
 * each a root CID recorded with its time, size and file count, and
 * pinned so later changes to the directory never alter it.
 *
 * A commit builds the directory's UnixFS DAG (dircid.h: the same CID as
 * `ipfs add -r` of the same tree with the filesystem's profile), makes
 * its blocks durable, pins the root ("fscommit:<id>") and records it in
 * the fs_commits table of index.db (module "fs_commits").  Committing a
 * directory whose CID equals its last commit records nothing and returns
 * that commit.  These rows are what the dealer replicates.
 *
 * What a commit captures is each file's last flushed state (close or
 * fsync); bytes written and not yet flushed are not in it.
 *
 * Auto-commit (optional, off by default): a thread watches the root and
 * every directory committed before; one that changed and has then been
 * idle for the given seconds is committed again.
 *
 * Threads: struct commit_state is internally locked: commits of any
 * directories may be asked from any thread; they run one at a time.
 */
#ifndef EFS_COMMIT_H
#define EFS_COMMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/cid.h"
#include "core/importer.h"

struct bstore;
struct inode_table;
struct commit_state;

struct commit_record {
	int64_t id;
	uint64_t ino;          /* the directory committed */
	char *path;            /* its path in the mount then, "/a/b" (owned;
				  commit_record_release) */
	struct cid root;
	int64_t time_ns;       /* when it was taken */
	uint64_t size;         /* bytes of the regular files in it */
	uint64_t files;        /* regular files and symlinks */
	uint64_t dirs;         /* directories, itself included */
};

/* Free what a record owns.  NULL is fine. */
void commit_record_release(struct commit_record *r);

/*
 * Append r as one line of JSON (no newline) to out:
 *   {"id":3,"cid":"bafy...","path":"/photos","time":"2026-11-21T08:43:26.
 *   123456789Z","size":1234,"files":10,"dirs":2}
 * This is also the value of the user.estuary.commit xattr.  Returns 0 or
 * buf errors.
 */
int commit_record_json(struct buf *out, const struct commit_record *r);

/*
 * Open the commit state over index.db (db_path; migrates fs_commits), the
 * inode table, the blockstore and the profile (all borrowed until
 * commit_close).  Returns 0, EFS_ENOMEM, db errors.
 */
int commit_open(struct commit_state **out, const char *db_path,
		struct inode_table *t, struct bstore *bs,
		const struct importer_opts *iopts);

/* Stop auto-commit and free.  NULL is fine. */
void commit_close(struct commit_state *cs);

/*
 * Commit directory dir: its record to out (the caller releases it);
 * *created_out says whether a new commit was recorded (false: unchanged
 * since its last commit).  Returns 0, EFS_ENOTFOUND, FS_ENOTDIR,
 * EFS_EINVAL (a name in the tree is not UTF-8), EFS_ENOSPC, EFS_EIO,
 * blockstore, importer or db errors.
 */
int commit_dir(struct commit_record *out, bool *created_out,
	       struct commit_state *cs, uint64_t dir);

/* The latest commit of directory dir.  0, EFS_ENOTFOUND or db errors. */
int commit_last(struct commit_record *out, struct commit_state *cs,
		uint64_t dir);

/* Called for each commit, oldest first; r is borrowed.  Non-zero stops. */
typedef int (*commit_cb)(const struct commit_record *r, void *payload);

/*
 * List the commits recorded in the index db_path, read-only (the CLI's
 * `estuaryfs commits`, beside a running daemon).  A repository that was
 * never mounted, or does not exist yet, has none.  Returns 0, cb's
 * value, or db errors.
 */
int commit_list(const char *db_path, commit_cb cb, void *payload);

/*
 * As commit_list, only the commits whose id is above after, in id order:
 * what the dealer has not seen yet (ids start at 1, so after 0 lists
 * all).  Each call opens its own read-only connection, so any thread of
 * any process may call it beside a mount that is committing.
 */
int commit_list_since(const char *db_path, int64_t after, commit_cb cb,
		      void *payload);

/*
 * Start auto-commit: directories idle for idle_seconds after a change are
 * committed (by a thread named "efs-autocommit"; it logs failures).
 * Returns 0, EFS_EINVAL (0 seconds) or EFS_EIO (thread).
 */
int commit_auto_start(struct commit_state *cs, unsigned idle_seconds);

#endif
