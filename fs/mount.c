/*
 * mount.c - options, repository setup, the FUSE session, daemonizing,
 * signals and clean shutdown (mount.h).
 *
 * Design notes:
 * - The fork comes first, before anything opens a file or starts a
 *   thread (the blockstore's writer, the data path's hashers): the child
 *   does all the setup and reports it through a pipe, so the parent can
 *   print the real error and exit non-zero, and no thread is lost to a
 *   fork (fuse_daemonize forks after the setup, which threads forbid).
 * - Shutdown order is the reverse of setup: the loop ends (unmount or
 *   signal), the session is unmounted so no request can come, the
 *   services hosted beside the mount stop (mount_services: the daemon's
 *   HTTP server and dealer), the data path flushes what is staged, then
 *   commits, the inode table and the blockstore (its final sync) close.
 *   Errors of the final flush are logged and make the daemon exit
 *   non-zero.
 * - The profile a repository's files are built with is fixed when the
 *   filesystem is created (fs_meta "profile"): reused chunks must all
 *   have the same size.  Asking for another one later is an error.
 * - Garbage: flushes store new blocks and unpin the roots they replace,
 *   so the "efs-gc" thread runs bstore_gc every gc_interval seconds
 *   (-o gc_interval=S, default 60, 0 = off), and early (at most every
 *   GC_POLL seconds) once GC_WAKE_PINS pins were dropped since the last
 *   run.  It takes no fs lock: bstore_gc is internally locked and only
 *   touches blocks no pin reaches.  The grace period (GC_GRACE) protects
 *   the blocks of a file being written, which stay unreferenced until
 *   its flush pins the new root; the writeback thread flushes a dirty
 *   file within FSDATA_WRITE_WINDOW seconds (fs_i.h: FSDATA_WB_AGE +
 *   FSDATA_WB_PERIOD), and GC_GRACE is asserted to be far above it.  The
 *   thread is stopped (condvar, joined) before the data path's final
 *   flush and the blockstore's close.
 */
#define LOG_TOPIC "mount"

#include "fs/mount.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/bstore.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/daemonize.h"
#include "core/error.h"
#include "core/log.h"
#include "core/units.h"
#include "fs/commit.h"
#include "fs/fs_i.h"
#include "fs/graft.h"

#include "core/banned.h"

#define DEFAULT_PROFILE "unixfs-v1-2025"

/* Seconds an unreferenced block survives gc in a mounted repository. */
#define GC_GRACE 3600
/* Seconds between the gc thread's checks for early runs. */
#define GC_POLL 5
/* Pins dropped since the last run that make gc run before its time. */
#define GC_WAKE_PINS 1024

_Static_assert(GC_GRACE >= 10 * FSDATA_WRITE_WINDOW,
	       "gc grace must far exceed the writeback window");

extern char **environ;

/* ---- options ------------------------------------------------------- */

void mount_opts_init(struct mount_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->entry_timeout = 1.0;
	o->attr_timeout = 1.0;
	o->negative_timeout = 1.0;
	o->max_threads = 16;
	o->clone_fd = true;
	o->gc_interval = 60;
}

void mount_opts_release(struct mount_opts *o)
{
	efs_free(o->fuse_opts);
	efs_free(o->profile);
	efs_free(o->repo_store);
	o->fuse_opts = o->profile = o->repo_store = NULL;
}

/* Options mount(8) hands helpers that mean nothing to FUSE. */
static bool mount8_only(const char *opt)
{
	static const char *const names[] = {
		"defaults", "auto", "noauto", "user", "users", "nouser",
		"nofail", "_netdev", "owner", "group",
	};

	if (strncmp(opt, "x-", 2) == 0 || strncmp(opt, "comment=", 8) == 0)
		return true;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(opt, names[i]) == 0)
			return true;
	return false;
}

static int parse_seconds(double *out, const char *v, const char *name)
{
	char *end;

	errno = 0;
	*out = strtod(v, &end);
	if (errno || end == v || *end || *out < 0 || *out > 86400 * 365)
		return efs_error_set(EFS_EINVAL, "mount: bad %s '%s'", name, v);
	return 0;
}

/* A number, with an optional size suffix (core/units.h), up to max. */
static int parse_uint(uint64_t *out, const char *v, const char *name,
		      uint64_t max)
{
	if (units_parse_size(out, v) < 0 || *out > max)
		return efs_error_set(EFS_EINVAL, "mount: bad %s '%s'", name, v);
	return 0;
}

/* One option of ours (key=value), or 1 when it is not ours. */
static int parse_ours(struct mount_opts *o, const char *key, const char *v)
{
	uint64_t n;
	int error = 0;

	if (strcmp(key, "profile") == 0 && v) {
		efs_free(o->profile);
		if (!(o->profile = efs_strdup(v)))
			return efs_error_set(EFS_ENOMEM, "out of memory");
	} else if (strcmp(key, "repo") == 0 && v) {
		efs_free(o->repo_store);
		if (!(o->repo_store = efs_strdup(v)))
			return efs_error_set(EFS_ENOMEM, "out of memory");
		o->repo = o->repo_store;
	} else if (strcmp(key, "entry_timeout") == 0 && v) {
		error = parse_seconds(&o->entry_timeout, v, key);
	} else if (strcmp(key, "attr_timeout") == 0 && v) {
		error = parse_seconds(&o->attr_timeout, v, key);
	} else if (strcmp(key, "negative_timeout") == 0 && v) {
		error = parse_seconds(&o->negative_timeout, v, key);
	} else if (strcmp(key, "max_threads") == 0 && v) {
		if ((error = parse_uint(&n, v, key, 1024)) == 0 && n < 1)
			error = efs_error_set(EFS_EINVAL, "mount: bad %s '%s'",
					      key, v);
		o->max_threads = (unsigned)n;
	} else if (strcmp(key, "staging_max") == 0 && v) {
		error = parse_uint(&o->staging_max, v, key, UINT64_MAX);
	} else if (strcmp(key, "autocommit") == 0 && v) {
		error = parse_uint(&n, v, key, 86400 * 365);
		o->autocommit = (unsigned)n;
	} else if (strcmp(key, "gc_interval") == 0 && v) {
		error = parse_uint(&n, v, key, 86400 * 365);
		o->gc_interval = (unsigned)n;
	} else if (strcmp(key, "clone_fd") == 0 && !v) {
		o->clone_fd = true;
	} else if (strcmp(key, "noclone_fd") == 0 && !v) {
		o->clone_fd = false;
	} else if (strcmp(key, "writeback_cache") == 0 && !v) {
		o->writeback_cache = true;
	} else if (strcmp(key, "nodaemon") == 0 && !v) {
		o->nodaemon = true;
	} else {
		return 1;
	}
	return error;
}

/* Pass opt on to libfuse. */
static int fuse_opt_append(struct mount_opts *o, const char *opt, size_t n)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	int error = 0;

	if (o->fuse_opts && (error = buf_adds(&b, o->fuse_opts)) == 0)
		error = buf_addch(&b, ',');
	if (error == 0)
		error = buf_add(&b, opt, n);
	if (error < 0) {
		buf_release(&b);
		return error;
	}
	efs_free(o->fuse_opts);
	o->fuse_opts = (char *)buf_detach(&b, NULL);
	return 0;
}

int mount_opts_parse(struct mount_opts *o, const char *arg)
{
	char opt[4096];
	int error;

	while (*arg) {
		size_t n = strcspn(arg, ",");
		char *eq;

		if (n >= sizeof(opt))
			return efs_error_set(EFS_EINVAL, "mount: option too "
							 "long");
		memcpy(opt, arg, n);
		opt[n] = '\0';
		arg += n + (arg[n] == ',');
		if (n == 0 || mount8_only(opt))
			continue;
		if ((eq = strchr(opt, '=')))
			*eq = '\0';
		error = parse_ours(o, opt, eq ? eq + 1 : NULL);
		if (error < 0)
			return error;
		if (eq)
			*eq = '=';
		if (error == 1 && (error = fuse_opt_append(o, opt, n)) < 0)
			return error;
	}
	return 0;
}

/* ---- the repository ------------------------------------------------ */

static char *path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = efs_malloc(n);

	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static int mkdir_one(const char *path)
{
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return efs_error_set_errno(EFS_EIO, errno, "mount: mkdir %s",
					   path);
	return 0;
}

/* The profile: as recorded at creation; o->profile must agree. */
static int profile_setup(struct efs_fs *fs, const char *asked)
{
	struct buf rec = BUF_INIT(256);
	const char *name;
	int error;

	error = inode_meta_get(&rec, fs->itab, "profile");
	if (error == EFS_ENOTFOUND) {
		efs_error_clear();
		name = asked ? asked : DEFAULT_PROFILE;
		if ((error = importer_opts_profile(&fs->iopts, name)) == 0)
			error = inode_meta_set(fs->itab, "profile", name,
					       strlen(name));
	} else if (error == 0) {
		name = (const char *)rec.ptr;
		if (asked && strcmp(asked, name) != 0)
			error = efs_error_set(EFS_EINVAL, "mount: the "
					      "filesystem was made with "
					      "profile %s, not %s", name,
					      asked);
		else
			error = importer_opts_profile(&fs->iopts, name);
	}
	buf_release(&rec);
	return error;
}

/* ---- garbage collection ------------------------------------------- */

struct mount_gc {
	struct efs_fs *fs;
	pthread_mutex_t mu;
	pthread_cond_t cond;  /* stop */
	bool stop;
	pthread_t thread;
};

static void gc_run(struct efs_fs *fs)
{
	struct bstore_gc_result r = { 0 };
	int error = bstore_gc(&r, fs->bs);

	if (error < 0) {
		efs_log_warn("gc: %s", efs_error_msg());
		efs_error_clear();
	}
	if (r.blocks || r.unverified)
		efs_log_info("gc: freed %llu blocks, %llu bytes (%llu "
			     "unverified)", (unsigned long long)r.blocks,
			     (unsigned long long)r.bytes,
			     (unsigned long long)r.unverified);
}

static void *gc_main(void *arg)
{
	struct mount_gc *g = arg;
	struct efs_fs *fs = g->fs;
	uint64_t pins_then = inode_unpinned(fs->itab);
	unsigned waited = 0;
	struct timespec until;

	pthread_setname_np(pthread_self(), "efs-gc");
	pthread_mutex_lock(&g->mu);
	while (!g->stop) {
		unsigned step = fs->opts.gc_interval < GC_POLL
					? fs->opts.gc_interval
					: GC_POLL;
		uint64_t pins;

		efs_clock_deadline(&until, CLOCK_REALTIME, step * 1000ull);
		pthread_cond_timedwait(&g->cond, &g->mu, &until);
		if (g->stop)
			break;
		waited += step;
		pins = inode_unpinned(fs->itab);
		if (waited < fs->opts.gc_interval &&
		    pins - pins_then < GC_WAKE_PINS)
			continue;
		pthread_mutex_unlock(&g->mu);
		gc_run(fs);
		pthread_mutex_lock(&g->mu);
		waited = 0;
		pins_then = pins;
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

static int gc_start(struct efs_fs *fs)
{
	struct mount_gc *g;
	int rc;

	if (fs->opts.gc_interval == 0)
		return 0;
	if (!(g = efs_calloc(1, sizeof(*g))))
		return efs_error_set(EFS_ENOMEM, "out of memory");
	g->fs = fs;
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cond, NULL);
	if ((rc = pthread_create(&g->thread, NULL, gc_main, g)) != 0) {
		pthread_cond_destroy(&g->cond);
		pthread_mutex_destroy(&g->mu);
		efs_free(g);
		return efs_error_set_errno(EFS_EIO, rc, "mount: gc thread");
	}
	fs->gc = g;
	return 0;
}

/* Stop the gc thread; a run under way finishes first. */
static void gc_stop(struct efs_fs *fs)
{
	struct mount_gc *g = fs->gc;

	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	g->stop = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->mu);
	pthread_join(g->thread, NULL);
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->mu);
	efs_free(g);
	fs->gc = NULL;
}

static void fs_close(struct efs_fs *fs, int *status)
{
	int error;

	gc_stop(fs);
	if (fs->data && (error = fsops_data_destroy(fs)) < 0) {
		efs_log_err("final flush: %s", efs_error_msg());
		*status = error;
	}
	commit_close(fs->commits);
	inode_table_close(fs->itab);
	if (fs->bs && (error = bstore_close(fs->bs)) < 0) {
		efs_log_err("closing the blockstore: %s", efs_error_msg());
		*status = error;
	}
	efs_free(fs->staging_dir);
	efs_free(fs->opts.repo);
	memset(fs, 0, sizeof(*fs));
}

static void opts_copy(struct efs_fs_opts *out, const struct mount_opts *o)
{
	out->entry_timeout = o->entry_timeout;
	out->attr_timeout = o->attr_timeout;
	out->negative_timeout = o->negative_timeout;
	out->max_threads = o->max_threads;
	out->clone_fd = o->clone_fd;
	out->writeback_cache = o->writeback_cache;
	out->staging_max = o->staging_max;
	out->autocommit_idle = o->autocommit;
	out->gc_interval = o->gc_interval;
}

static int fs_open_tables(struct efs_fs *fs, const struct mount_opts *o)
{
	struct inode_table_opts topts = INODE_TABLE_OPTS_INIT;
	struct inode_recovery rec;
	char *db_path;
	int error;

	if (!(db_path = path_join(fs->repo, "index.db")))
		return efs_error_set(EFS_ENOMEM, "out of memory");
	topts.root_uid = getuid();
	topts.root_gid = getgid();
	topts.read_conns = o->max_threads; /* one per worker stays open */
	error = inode_table_open(&fs->itab, &rec, db_path, fs->bs, &topts);
	if (error == 0 && rec.orphans + rec.pins_added + rec.pins_dropped)
		efs_log_notice("recovered: %llu orphan inodes freed, %llu "
			       "pins added, %llu dropped",
			       (unsigned long long)rec.orphans,
			       (unsigned long long)rec.pins_added,
			       (unsigned long long)rec.pins_dropped);
	if (error == 0)
		error = profile_setup(fs, o->profile);
	if (error == 0)
		error = commit_open(&fs->commits, db_path, fs->itab, fs->bs,
				    &fs->iopts);
	efs_free(db_path);
	return error;
}

static int fs_open(struct efs_fs *fs, const struct mount_opts *o)
{
	struct bstore_opts bopts = BSTORE_OPTS_INIT;
	int error;

	memset(fs, 0, sizeof(*fs));
	opts_copy(&fs->opts, o);
	if (!(fs->opts.repo = efs_strdup(o->repo)) ||
	    !(fs->staging_dir = path_join(o->repo, "staging")))
		return efs_error_set(EFS_ENOMEM, "out of memory");
	fs->repo = fs->opts.repo;
	fs->opts.profile = o->profile;
	bopts.gc_grace = GC_GRACE;
	if ((error = mkdir_one(fs->repo)) < 0 ||
	    (error = mkdir_one(fs->staging_dir)) < 0 ||
	    (error = bstore_open(&fs->bs, fs->repo, &bopts)) < 0 ||
	    (error = fs_open_tables(fs, o)) < 0 ||
	    (error = fsops_data_init(fs)) < 0 ||
	    (error = gc_start(fs)) < 0)
		return error;
	if (o->autocommit)
		return commit_auto_start(fs->commits, o->autocommit);
	return 0;
}

/* ---- the session --------------------------------------------------- */

/* libfuse -o: ours first, then the user's. */
static int session_opts(struct buf *out, const struct mount_opts *o)
{
	int error = buf_adds(out, "default_permissions,subtype=estuaryfs,"
				  "fsname=");

	/* the repository path names the mount: escape what -o parses */
	for (const char *p = o->repo; error == 0 && *p; p++) {
		if (*p == ',' || *p == '\\')
			error = buf_addch(out, '\\');
		if (error == 0)
			error = buf_addch(out, (uint8_t)*p);
	}
	if (error == 0 && o->fuse_opts)
		error = buf_printf(out, ",%s", o->fuse_opts);
	return error;
}

static int session_new(struct fuse_session **out, struct efs_fs *fs,
		       const struct mount_opts *o)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct buf opts = BUF_INIT(BUF_NOCAP);
	struct fuse_lowlevel_ops ops;
	int error;

	*out = NULL;
	if ((error = session_opts(&opts, o)) < 0)
		goto out;
	if (fuse_opt_add_arg(&args, "estuaryfs") < 0 ||
	    fuse_opt_add_arg(&args, "-o") < 0 ||
	    fuse_opt_add_arg(&args, (const char *)opts.ptr) < 0 ||
	    (o->debug && fuse_opt_add_arg(&args, "-d") < 0)) {
		error = efs_error_set(EFS_ENOMEM, "out of memory");
		goto out;
	}
	fsstats_ops_init(&ops);
	*out = fuse_session_new(&args, &ops, sizeof(ops), fs);
	if (!*out) {
		error = efs_error_set(EFS_EINVAL, "mount: bad options '%s' "
				      "(see libfuse's message above)",
				      (const char *)opts.ptr);
		goto out;
	}
	if (fuse_set_signal_handlers(*out) < 0) {
		error = efs_error_set(EFS_EIO, "mount: signal handlers");
		goto out;
	}
	if (fuse_session_mount(*out, o->mountpoint) < 0)
		error = efs_error_set(EFS_EIO, "mount: cannot mount on %s "
				      "(see libfuse's message above)",
				      o->mountpoint);
out:
	fuse_opt_free_args(&args);
	buf_release(&opts);
	return error;
}

static void session_free(struct fuse_session *se, bool mounted)
{
	if (!se)
		return;
	if (mounted)
		fuse_session_unmount(se);
	fuse_remove_signal_handlers(se);
	fuse_session_destroy(se);
}

static int session_loop(struct fuse_session *se, const struct mount_opts *o)
{
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	int rc;

	if (!cfg)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	fuse_loop_cfg_set_clone_fd(cfg, o->clone_fd);
	fuse_loop_cfg_set_max_threads(cfg, o->max_threads);
	fuse_loop_cfg_set_idle_threads(cfg, o->max_threads / 2);
	rc = fuse_session_loop_mt(se, cfg);
	fuse_loop_cfg_destroy(cfg);
	if (rc < 0)
		return efs_error_set_errno(EFS_EIO, -rc, "mount: session loop");
	return 0;
}

/* ---- the daemon ---------------------------------------------------- */

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* The log to <repo>/logs/estuaryfs.log, stdio to /dev/null. */
static int detach(const char *repo, unsigned level)
{
	char *dir = path_join(repo, "logs");
	int error = dir ? daemonize_detach(dir, "estuaryfs.log", level, "mount")
			: EFS_ENOMEM;

	efs_free(dir);
	return error;
}

/* ---- the tree as the services change it ------------------------- */

/*
 * What mount_tree_* reach: the filesystem, and whether its session may
 * still be notified (mu: the session ends, in serve, while a graft of a
 * services' worker may be telling it of an entry; the notification is
 * one write to /dev/fuse, which the kernel answers at once).
 */
struct mount_tree {
	struct efs_fs *fs;
	pthread_mutex_t mu;
	bool live;            /* mu: fs->se may be notified */
};

/*
 * The kernel may have cached that name was missing in parent (a
 * negative entry) and parent's listing: drop both.  ENOENT means it
 * knows nothing of parent, which is just as good.
 */
static void tree_inval(struct mount_tree *tree, uint64_t parent,
		       const char *name)
{
	struct efs_fs *fs = tree->fs;
	int rc = 0, rc2 = 0;

	pthread_mutex_lock(&tree->mu);
	if (tree->live && fs->se) {
		rc = fuse_lowlevel_notify_inval_entry(fs->se, parent, name,
						      strlen(name));
		rc2 = fuse_lowlevel_notify_inval_inode(fs->se, parent, 0, 0);
	}
	pthread_mutex_unlock(&tree->mu);
	if ((rc < 0 && rc != -ENOENT) || (rc2 < 0 && rc2 != -ENOENT))
		efs_log_warn("telling the kernel of %s: errno %d, %d", name,
			     -rc, -rc2);
}

/* Stop notifying the session (it is about to end). */
static void tree_end(struct mount_tree *tree)
{
	pthread_mutex_lock(&tree->mu);
	tree->live = false;
	pthread_mutex_unlock(&tree->mu);
}

int mount_tree_graft(struct mount_tree *tree, const char *path,
		     const struct cid *root)
{
	struct efs_fs *fs = tree->fs;
	struct graft_env env = { fs->itab, fs->bs, fsops_data_source(fs),
				 getuid(), getgid() };
	struct graft_result r;
	int error = graft_path(&r, &env, path, root);

	if (r.inodes)
		tree_inval(tree, r.parent, r.name);
	if (error == 0)
		efs_log_info("grafted %llu inodes at %s",
			     (unsigned long long)r.inodes, path);
	return error;
}

int mount_tree_remove(struct mount_tree *tree, const char *path)
{
	struct graft_result r;
	int error = graft_remove(&r, tree->fs->itab, path);

	if (r.inodes)
		tree_inval(tree, r.parent, r.name);
	if (error == 0)
		efs_log_info("removed %llu inodes at %s",
			     (unsigned long long)r.inodes, path);
	return error;
}

int mount_tree_commit(struct cid *out, struct mount_tree *tree,
		      const char *path)
{
	struct efs_fs *fs = tree->fs;
	struct commit_record r = { 0 };
	bool created;
	uint64_t ino;
	int error;

	if ((error = graft_lookup(&ino, fs->itab, path)) < 0 ||
	    (error = commit_dir(&r, &created, fs->commits, ino)) < 0)
		return error;
	*out = r.root;
	commit_record_release(&r);
	return 0;
}

/*
 * The services hook (mount.h), after detach: they start threads that
 * log, and the log's destination must not change under them.
 */
static int services_start(void **state, const struct mount_opts *o,
			  struct efs_fs *fs, struct mount_tree *tree)
{
	int error;

	*state = NULL;
	if (o->nodaemon || !o->services.start)
		return 0;
	tree->fs = fs;
	tree->live = true;
	if ((error = o->services.start(state, o->services.cls, fs->bs,
				       o->repo, &fs->stats, tree)) < 0)
		return error;
	/* Reads of evicted blocks go through the services' retrieval. */
	if (*state && o->services.source) {
		struct blockio_source src = o->services.source(*state);

		fsops_data_set_source(fs, &src);
	}
	return 0;
}

/*
 * Stop the services.  The files' final flushes may read evicted blocks
 * (a file partly rewritten keeps the rest of its old DAG), so they run
 * first, while retrieval still works; then the services' source is
 * dropped (waiting for the reads under way) before the services go.
 */
static void services_stop(void *state, const struct mount_opts *o,
			  struct efs_fs *fs, int *status)
{
	int error;

	if (!state)
		return;
	if (fs->data && (error = fsops_data_destroy(fs)) < 0) {
		efs_log_err("final flush: %s", efs_error_msg());
		*status = error;
	}
	fsops_data_set_source(fs, NULL);
	if (o->services.stop)
		o->services.stop(state);
}

/* Set up, report to the parent (fd; -1 in the foreground), serve. */
static int serve(const struct mount_opts *o, int fd)
{
	unsigned level = o->log_level ? o->log_level : EFS_LOG_NOTICE;
	struct fuse_session *se = NULL;
	struct mount_tree tree = { .mu = PTHREAD_MUTEX_INITIALIZER };
	void *services = NULL;
	struct efs_fs fs;
	bool mounted = false;
	int status = 0;
	int error;

	raise_nofile();
	efs_log_setup(o->debug ? EFS_LOG_DEBUG : level, 2);
	if ((error = fs_open(&fs, o)) < 0 ||
	    (error = session_new(&se, &fs, o)) < 0) {
		daemonize_status(fd, error);
		goto out;
	}
	mounted = true;
	fs.se = se;
	if ((fd >= 0 && (error = detach(o->repo, level)) < 0) ||
	    (error = services_start(&services, o, &fs, &tree)) < 0) {
		daemonize_status(fd, error);
		goto out;
	}
	daemonize_status(fd, 0);
	efs_log_notice("mounted %s on %s", o->repo, o->mountpoint);
	error = session_loop(se, o);
	efs_log_notice("unmounting %s", o->mountpoint);
out:
	tree_end(&tree);
	session_free(se, mounted);
	fs.se = NULL;
	status = error;
	services_stop(services, o, &fs, &status);
	fs_close(&fs, &status);
	return status;
}

/*
 * The absolute path of an existing directory into *out (efs_free it):
 * the daemon changes to / and the unmount at exit names the mountpoint,
 * so neither path may be relative.
 */
static int abs_dir(char **out, const char *path)
{
	struct stat st;
	char *real;

	*out = NULL;
	if (stat(path, &st) < 0)
		return efs_error_set_errno(errno == ENOENT ? EFS_ENOTFOUND
							   : EFS_EIO,
					   errno, "mount: %s", path);
	if (!S_ISDIR(st.st_mode))
		return efs_error_set(EFS_EINVAL, "mount: %s is not a directory",
				     path);
	if (!(real = realpath(path, NULL)))
		return efs_error_set_errno(EFS_EIO, errno, "mount: %s", path);
	*out = efs_strdup(real);
	free(real);
	return *out ? 0 : efs_error_set(EFS_ENOMEM, "out of memory");
}

static int run(const struct mount_opts *o)
{
	bool child;
	int fd, error;

	if (o->foreground || o->debug)
		return serve(o, -1);
	if ((error = daemonize_fork(&child, &fd, "mount")) < 0 || !child)
		return error;
	/* the child never returns to the command: it exits here */
	_exit(serve(o, fd) < 0 ? 1 : 0);
}

int mount_run(const struct mount_opts *o)
{
	struct mount_opts abs = *o;
	char *mnt = NULL, *repo = NULL;
	int error;

	if (!o->mountpoint || !o->repo)
		return efs_error_set(EFS_EINVAL, "mount: no mountpoint or "
						 "repository");
	if ((error = abs_dir(&mnt, o->mountpoint)) == 0 &&
	    (error = mkdir_one(o->repo)) == 0 &&
	    (error = abs_dir(&repo, o->repo)) == 0) {
		abs.mountpoint = mnt;
		abs.repo = repo;
		error = run(&abs);
	}
	efs_free(mnt);
	efs_free(repo);
	return error;
}

/* ---- unmount ------------------------------------------------------- */

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] &&
		    s[3]) {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/*
 * The source (our repository path) of the estuaryfs mount at path, from
 * /proc/self/mountinfo: "id parent maj:min root mountpoint opts ... -
 * fstype source superopts".
 */
static int mount_source(char **out, const char *path)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[8192];
	int error = efs_error_set(EFS_EINVAL, "unmount: %s is not an "
					      "estuaryfs mount", path);

	*out = NULL;
	if (!f)
		return efs_error_set_errno(EFS_EIO, errno, "unmount: "
					   "/proc/self/mountinfo");
	while (fgets(line, sizeof(line), f)) {
		char mnt[4096], type[256], src[4096];
		const char *dash = strstr(line, " - ");

		if (!dash || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(dash + 3, "%255s %4095s", type, src) != 2)
			continue;
		unescape(mnt);
		unescape(src);
		if (strcmp(mnt, path) != 0 || strcmp(type, "fuse.estuaryfs"))
			continue;
		efs_free(*out);
		error = (*out = efs_strdup(src))
				? 0
				: efs_error_set(EFS_ENOMEM, "out of memory");
	}
	fclose(f);
	return error;
}

static int run_fusermount(const char *path)
{
	char *argv[] = { "fusermount3", "-u", (char *)path, NULL };
	pid_t pid;
	int st;
	int rc;

	rc = posix_spawnp(&pid, "fusermount3", NULL, NULL, argv, environ);
	if (rc != 0)
		return efs_error_set_errno(EFS_EIO, rc, "unmount: fusermount3");
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return efs_error_set_errno(EFS_EIO, errno,
						   "unmount: wait");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return efs_error_set(EFS_EIO, "unmount: fusermount3 -u %s "
					      "failed", path);
	return 0;
}

/* Wait until the daemon of repo has closed it (its lock is free). */
static int wait_released(const char *repo, int wait_ms)
{
	char *lock = path_join(repo, "bstore.lock");
	int fd = lock ? open(lock, O_RDONLY | O_CLOEXEC) : -1;
	int error = 0;

	efs_free(lock);
	if (fd < 0)
		return 0; /* no repository there: nothing to wait for */
	for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; waited += 20) {
		if (waited >= wait_ms) {
			error = efs_error_set(EFS_ETIMEDOUT, "unmount: the "
					      "daemon of %s is still "
					      "flushing", repo);
			break;
		}
		poll(NULL, 0, 20);
	}
	close(fd); /* drops our probe's lock too */
	return error;
}

/*
 * The absolute path of mountpoint (efs_free it).  realpath cannot stat
 * the mountpoint of a daemon that died ("transport endpoint is not
 * connected"): then the path as given, made absolute, is what
 * /proc/self/mountinfo shows.
 */
static char *mount_path(const char *mountpoint)
{
	char *real = realpath(mountpoint, NULL);
	char cwd[4096];
	char *path;

	if (real) {
		path = efs_strdup(real);
		free(real);
		return path;
	}
	if (errno != ENOTCONN)
		return NULL;
	if (mountpoint[0] == '/')
		return efs_strdup(mountpoint);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	return path_join(cwd, mountpoint);
}

int mount_unmount(const char *mountpoint, int wait_ms)
{
	char *path = mount_path(mountpoint);
	char *repo = NULL;
	int error;

	if (!path)
		return efs_error_set_errno(EFS_EINVAL, errno, "unmount: %s",
					   mountpoint);
	if ((error = mount_source(&repo, path)) == 0 &&
	    (error = run_fusermount(path)) == 0 && wait_ms > 0)
		error = wait_released(repo, wait_ms);
	efs_free(repo);
	efs_free(path);
	return error;
}
