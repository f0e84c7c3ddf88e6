/*
 * mount.h - mount the repository's filesystem and serve it until it is
 * unmounted: options, the FUSE session (libfuse3 low-level API,
 * multithreaded loop), daemonizing, signals, and the clean shutdown that
 * flushes every file before the repository is closed.
 *
 * Shape of a mount (mount_run):
 *
 *   parent ──fork──► child: setsid, open the repository (blockstore,
 *      │                   inode table and its recovery, commits, data
 *      │                   path), create the session, mount
 *      │ ◄── status ───────┘ (0, or the error message)
 *   exit 0 / error      child: stdio to /dev/null, log to
 *                       <repo>/logs/estuaryfs.log, start the services
 *                       (struct mount_services), serve until unmounted
 *                       or signalled (SIGINT, SIGTERM, SIGHUP), then
 *                       unmount, stop the services, flush, close.
 *
 * With foreground there is no fork and the log goes to stderr.  So every
 * error of the setup reaches the terminal that ran `estuaryfs mount`,
 * as with sshfs, and nothing runs threads across a fork.
 *
 * The source of the mount (what df and /proc/mounts show) is the
 * repository path, and its type fuse.estuaryfs, so an fstab line reads
 *   /home/me/.estuaryfs  /home/me/fil  fuse.estuaryfs  defaults  0 0
 * (contrib/mount.fuse.estuaryfs runs it).
 */
#ifndef EFS_MOUNT_H
#define EFS_MOUNT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/blockio.h"

struct bstore;
struct cid;
struct efs_fs_opts;
struct fsstats;
struct mount_tree;

/*
 * What else the serving process hosts (the daemon's HTTP server and
 * dealer: cli/services.h); fs/ knows nothing of them.  start is called
 * once the repository is open and the log has its final place, before
 * the parent is told the mount is up (so its error fails the mount);
 * stop after the session ended, before the blockstore closes.  bs, repo
 * (absolute), stats (the mount's FUSE operation counters, read with
 * fsstats_snapshot: /metrics) and tree (mount_tree_graft and
 * mount_tree_commit: what the services add to the tree) are borrowed
 * until stop.  start returns 0 or a negative efs code with its message.
 * A NULL start: nothing.
 */
struct mount_services {
	int (*start)(void **state, void *cls, struct bstore *bs,
		     const char *repo, const struct fsstats *stats,
		     struct mount_tree *tree);
	void (*stop)(void *state);
	/* The source file data is read through while they run: the
	 * blockstore, with evicted blocks brought back (staging_set_source's
	 * contract), from start's state; NULL: the services do not
	 * retrieve. */
	struct blockio_source (*source)(void *state);
	void *cls;
};

struct mount_opts {
	const char *mountpoint;   /* borrowed */
	const char *repo;         /* repository directory, borrowed (or
				     repo_store's) */
	char *repo_store;         /* owned copy from -o repo=PATH */
	bool foreground;          /* -f: no fork, log to stderr */
	bool debug;               /* -d: FUSE's request trace, and our
				     debug log; implies foreground */
	unsigned log_level;       /* enum efs_log_level; 0 = notice */
	char *fuse_opts;          /* -o options for libfuse (allow_other,
				     ro, ...), comma-separated; owned */
	/* ours, from -o (mount_opts_parse) */
	char *profile;            /* owned; NULL: as created */
	double entry_timeout;
	double attr_timeout;
	double negative_timeout;
	unsigned max_threads;
	bool clone_fd;
	bool writeback_cache;
	uint64_t staging_max;
	unsigned autocommit;      /* seconds idle; 0 = off */
	unsigned gc_interval;     /* seconds between gc runs; 0 = off */
	bool nodaemon;            /* -o nodaemon: do not start services */
	struct mount_services services;
};

/*
 * Make the DAG root appear at path, absolute in the mounted tree
 * ("/pins/NAME"), as fs/graft.h's graft_path does (missing directories
 * made, one transaction, nothing copied), owned by the mounting user;
 * the kernel's caches are told of the new entry.  Any thread (the
 * services' workers), while the services run.  Returns graft_path's
 * codes: 0, EFS_EEXISTS, EFS_EINVAL ...
 */
int mount_tree_graft(struct mount_tree *tree, const char *path,
		     const struct cid *root);

/*
 * Remove path, absolute in the mounted tree ("/pins/NAME"), and all
 * below it (rm -r): graft_remove (fs/graft.h: entry by entry, deepest
 * first, so a crash midway leaves part of the tree, which a second call
 * removes), then the kernel's caches are told the entry is gone.  Any
 * thread, while the services run.  Returns graft_remove's errors.
 */
int mount_tree_remove(struct mount_tree *tree, const char *path);

/*
 * Commit the directory at path as `estuaryfs commit` does (fs/commit.h:
 * recorded for the dealer, or the last commit when nothing changed): its
 * root CID to out.  Any thread.  Returns 0, EFS_ENOTFOUND, FS_ENOTDIR or
 * commit_dir's errors.
 */
int mount_tree_commit(struct cid *out, struct mount_tree *tree,
		      const char *path);

/* Fill o with the defaults (entry/attr timeout 1 s, negative 1 s, 16
 * threads, clone_fd, no writeback cache, auto-commit off, gc every 60 s). */
void mount_opts_init(struct mount_opts *o);

/* Free what o owns. */
void mount_opts_release(struct mount_opts *o);

/*
 * Take one -o argument (comma-separated).  Our options:
 *   profile=NAME  entry_timeout=S  attr_timeout=S  negative_timeout=S
 *   max_threads=N  clone_fd  noclone_fd  writeback_cache
 *   staging_max=SIZE  autocommit=S  gc_interval=S (0 = no gc)  repo=PATH
 *   nodaemon (the services hook is not called)
 * (repo= points o->repo at a copy o owns).  Options mount(8) passes that
 * FUSE has no use for (defaults, auto, noauto, user, users, nofail,
 * _netdev, x-*, comment=) are dropped; the rest go to libfuse
 * (allow_other, ro, auto_unmount, ...).  May be called several times.
 * Returns 0, EFS_EINVAL (a bad value; the message names it) or
 * EFS_ENOMEM.
 */
int mount_opts_parse(struct mount_opts *o, const char *arg);

/*
 * Mount o->repo at o->mountpoint and serve it (see the top of this
 * file).  Without foreground, returns in the parent once the child has
 * mounted (0) or failed (its error, with its message); in the child it
 * returns only when the filesystem was unmounted (the exit status for
 * the process; the caller exits with it at once).  Returns 0 or a
 * negative efs code.
 */
int mount_run(const struct mount_opts *o);

/*
 * Unmount the estuaryfs mount at mountpoint (fusermount3 -u, which also
 * works for the user who mounted it) and wait up to wait_ms (0: do not
 * wait) for its daemon to finish its shutdown, so that a mount right
 * after finds the repository free (the repository is the mount's source
 * in /proc/self/mountinfo).  Returns 0, EFS_EINVAL (not an estuaryfs
 * mount), EFS_EIO (fusermount3 failed) or EFS_ETIMEDOUT (the daemon is
 * still flushing).
 */
int mount_unmount(const char *mountpoint, int wait_ms);

#endif
