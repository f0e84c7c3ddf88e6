/*
 * fsops.c - the fuse_lowlevel_ops table and the metadata operations:
 * init, lookup, forget, getattr, setattr, readlink, mknod, mkdir, create,
 * symlink, link, unlink, rmdir, rename.  Directory listings, statfs and
 * fsyncdir are in fsops_dir.c, xattrs in fsops_xattr.c, the data
 * operations in fsops_data.c (fs_i.h).
 *
 * Design notes:
 * - Every op is a thin translation: arguments to an inode.h call, its
 *   result to a reply, its error through errmap_reply_err.  The inode
 *   table does the work, each namespace op in one transaction.
 * - New inodes take the caller's uid and gid (fuse_req_ctx); the modes
 *   arrive with the umask applied by the kernel (no FUSE_CAP_DONT_MASK),
 *   and permission checks are the kernel's (default_permissions), as is
 *   clearing setuid/setgid on write and chown (it sends the new mode in
 *   the same setattr; we do not ask for FUSE_CAP_HANDLE_KILLPRIV).
 * - Every reply that hands the kernel an entry takes a reference first
 *   (inode_ref); forget drops them, and an unlinked inode is freed with
 *   its last reference.
 * - Locks (flock, fcntl) are left to the kernel: without
 *   FUSE_CAP_POSIX_LOCKS / FLOCK_LOCKS it keeps them locally, which is
 *   exact for a filesystem with one mount.
 */
#define LOG_TOPIC "fs"

#include "fs/fs_i.h"

#include <errno.h>
#include <stdio.h> /* RENAME_NOREPLACE, RENAME_EXCHANGE */
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "core/log.h"
#include "fs/errmap.h"

#include "core/banned.h"

/* st_blksize: what cp and friends size their buffers by. */
#define FSOPS_BLKSIZE (128 * 1024)

void fsops_stat_fill(struct stat *out, const struct inode_attr *a)
{
	memset(out, 0, sizeof(*out));
	out->st_ino = a->ino;
	out->st_mode = a->mode;
	out->st_nlink = a->nlink;
	out->st_uid = a->uid;
	out->st_gid = a->gid;
	out->st_rdev = a->rdev;
	out->st_size = (off_t)a->size;
	out->st_blksize = FSOPS_BLKSIZE;
	out->st_blocks = (blkcnt_t)((a->size + 511) / 512);
	out->st_atim.tv_sec = a->atime_ns / 1000000000;
	out->st_atim.tv_nsec = a->atime_ns % 1000000000;
	out->st_mtim.tv_sec = a->mtime_ns / 1000000000;
	out->st_mtim.tv_nsec = a->mtime_ns % 1000000000;
	out->st_ctim.tv_sec = a->ctime_ns / 1000000000;
	out->st_ctim.tv_nsec = a->ctime_ns % 1000000000;
}

void fsops_entry_fill(struct fuse_entry_param *out, const struct efs_fs *fs,
		      const struct inode_attr *a)
{
	memset(out, 0, sizeof(*out));
	out->ino = a->ino;
	out->generation = a->generation;
	fsops_stat_fill(&out->attr, a);
	out->attr_timeout = fs->opts.attr_timeout;
	out->entry_timeout = fs->opts.entry_timeout;
}

/* Reply attributes a. */
static void reply_attr_of(fuse_req_t req, const struct efs_fs *fs,
			  const struct inode_attr *a)
{
	struct stat st;

	fsops_stat_fill(&st, a);
	fuse_reply_attr(req, &st, fs->opts.attr_timeout);
}

void fsops_reply_attr(fuse_req_t req, struct efs_fs *fs, uint64_t ino)
{
	struct inode_attr a;
	int error;

	if ((error = inode_getattr(&a, fs->itab, ino)) < 0)
		errmap_reply_err(req, error);
	else
		reply_attr_of(req, fs, &a);
}

/* Reference a and reply it as an entry. */
static void reply_entry(fuse_req_t req, struct efs_fs *fs,
			const struct inode_attr *a)
{
	struct fuse_entry_param e;
	int error;

	if ((error = inode_ref(fs->itab, a->ino)) < 0) {
		errmap_reply_err(req, error);
		return;
	}
	fsops_entry_fill(&e, fs, a);
	if (fuse_reply_entry(req, &e) != 0)
		inode_forget(fs->itab, a->ino, 1); /* interrupted: no forget */
}

/* ---- session ------------------------------------------------------- */

static void fsops_init(void *userdata, struct fuse_conn_info *conn)
{
	struct efs_fs *fs = userdata;
	unsigned want = FUSE_CAP_ASYNC_READ | FUSE_CAP_ATOMIC_O_TRUNC |
			FUSE_CAP_EXPORT_SUPPORT | FUSE_CAP_READDIRPLUS |
			FUSE_CAP_READDIRPLUS_AUTO | FUSE_CAP_SPLICE_READ |
			FUSE_CAP_SPLICE_WRITE | FUSE_CAP_PARALLEL_DIROPS |
			FUSE_CAP_ASYNC_DIO;

	if (fs->opts.writeback_cache)
		want |= FUSE_CAP_WRITEBACK_CACHE;
	conn->want |= want & conn->capable;
	/* locks stay in the kernel (see the design notes) */
	conn->want &= ~(unsigned)(FUSE_CAP_POSIX_LOCKS | FUSE_CAP_FLOCK_LOCKS);
	if (!fs->opts.writeback_cache)
		conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
	conn->max_readahead = 4u << 20;
	conn->max_background = 64;
	conn->congestion_threshold = 48;
	conn->time_gran = 1;
	efs_log_info("session up: max_write %u, readahead %u, caps %#x",
		     conn->max_write, conn->max_readahead, conn->want);
}

/* ---- lookups and attributes ---------------------------------------- */

static void fsops_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct efs_fs *fs = fs_from_req(req);
	struct inode_attr a;
	uint64_t ino = parent;
	int error = 0;

	/* "." and ".." come only from NFS export (EXPORT_SUPPORT) */
	if (strcmp(name, "..") == 0)
		error = inode_parent(&ino, fs->itab, parent);
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		error = error < 0 ? error : inode_getattr(&a, fs->itab, ino);
	else
		error = inode_lookup(&a, fs->itab, parent, name);
	if (error < 0) {
		/* a negative entry the kernel may cache */
		if (error == EFS_ENOTFOUND && fs->opts.negative_timeout > 0) {
			struct fuse_entry_param e = {
				.entry_timeout = fs->opts.negative_timeout,
			};

			fuse_reply_entry(req, &e);
			return;
		}
		errmap_reply_err(req, error);
		return;
	}
	reply_entry(req, fs, &a);
}

static void fsops_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct efs_fs *fs = fs_from_req(req);

	if (inode_forget(fs->itab, ino, nlookup) < 0)
		efs_log_warn("forget %lu: %s", (unsigned long)ino,
			     efs_error_msg());
	fuse_reply_none(req);
}

static void fsops_forget_multi(fuse_req_t req, size_t count,
			       struct fuse_forget_data *forgets)
{
	struct efs_fs *fs = fs_from_req(req);
	struct inode_forget v[INODE_FORGET_BATCH];

	while (count > 0) {
		size_t n = count < INODE_FORGET_BATCH ? count
						      : INODE_FORGET_BATCH;

		for (size_t i = 0; i < n; i++) {
			v[i].ino = forgets[i].ino;
			v[i].nlookup = forgets[i].nlookup;
		}
		if (inode_forget_many(fs->itab, v, n) < 0)
			efs_log_warn("forget: %s", efs_error_msg());
		forgets += n;
		count -= n;
	}
	fuse_reply_none(req);
}

static void fsops_getattr(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	fsops_reply_attr(req, fs_from_req(req), ino);
}

static int64_t timespec_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

/* The inode.h form of FUSE's setattr bits (size aside). */
static void setattr_convert(struct inode_set *out, const struct stat *attr,
			    int to_set)
{
	static const struct {
		int fuse;
		unsigned ours;
	} bits[] = {
		{ FUSE_SET_ATTR_MODE, INODE_SET_MODE },
		{ FUSE_SET_ATTR_UID, INODE_SET_UID },
		{ FUSE_SET_ATTR_GID, INODE_SET_GID },
		{ FUSE_SET_ATTR_ATIME, INODE_SET_ATIME },
		{ FUSE_SET_ATTR_MTIME, INODE_SET_MTIME },
		{ FUSE_SET_ATTR_ATIME_NOW, INODE_SET_ATIME_NOW },
		{ FUSE_SET_ATTR_MTIME_NOW, INODE_SET_MTIME_NOW },
		{ FUSE_SET_ATTR_CTIME, INODE_SET_CTIME },
	};

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (to_set & bits[i].fuse)
			out->valid |= bits[i].ours;
	/* *_NOW comes with the plain bit set too: NOW wins */
	if (out->valid & INODE_SET_ATIME_NOW)
		out->valid &= ~(unsigned)INODE_SET_ATIME;
	if (out->valid & INODE_SET_MTIME_NOW)
		out->valid &= ~(unsigned)INODE_SET_MTIME;
	out->mode = attr->st_mode;
	out->uid = attr->st_uid;
	out->gid = attr->st_gid;
	out->atime_ns = timespec_ns(&attr->st_atim);
	out->mtime_ns = timespec_ns(&attr->st_mtim);
	out->ctime_ns = timespec_ns(&attr->st_ctim);
}

static void fsops_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
			  int to_set, struct fuse_file_info *fi)
{
	struct efs_fs *fs = fs_from_req(req);
	struct inode_attr a;
	struct inode_set set;
	int error;

	if ((to_set & FUSE_SET_ATTR_SIZE) &&
	    (error = fsops_data_setsize(fs, ino, (uint64_t)attr->st_size,
					fi)) < 0) {
		errmap_reply_err(req, error);
		return;
	}
	setattr_convert(&set, attr, to_set);
	if (!set.valid) {
		fsops_reply_attr(req, fs, ino);
		return;
	}
	if ((error = inode_setattr(&a, fs->itab, ino, &set)) < 0) {
		errmap_reply_err(req, error);
		return;
	}
	/* the attributes after the update, pending writes applied */
	reply_attr_of(req, fs, &a);
}

static void fsops_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct efs_fs *fs = fs_from_req(req);
	struct buf target = BUF_INIT(INODE_SYMLINK_MAX + 1);
	int error;

	if ((error = inode_readlink(&target, fs->itab, ino)) < 0)
		errmap_reply_err(req, error);
	else
		fuse_reply_readlink(req, (const char *)target.ptr);
	buf_release(&target);
}

/* ---- namespace ----------------------------------------------------- */

/* Make name in parent for the caller; reply the entry. */
static void make(fuse_req_t req, fuse_ino_t parent, const char *name,
		 struct inode_new *n)
{
	struct efs_fs *fs = fs_from_req(req);
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct inode_attr a;
	int error;

	n->uid = ctx->uid;
	n->gid = ctx->gid;
	if ((error = inode_create(&a, fs->itab, parent, name, n)) < 0) {
		errmap_reply_err(req, error);
		return;
	}
	reply_entry(req, fs, &a);
}

static void fsops_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
			mode_t mode, dev_t rdev)
{
	struct inode_new n = { .mode = mode, .rdev = rdev };

	if (S_ISDIR(mode) || S_ISLNK(mode)) {
		errmap_reply_err(req, efs_error_set(EFS_EINVAL,
						    "fs: mknod of mode %o",
						    mode));
		return;
	}
	make(req, parent, name, &n);
}

static void fsops_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
			mode_t mode)
{
	struct inode_new n = { .mode = S_IFDIR | (mode & 07777) };

	make(req, parent, name, &n);
}

static void fsops_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
			  const char *name)
{
	size_t len = strlen(link);
	struct inode_new n = { .mode = S_IFLNK | 0777, .target = link,
			       .target_len = len };

	if (len > INODE_SYMLINK_MAX) {
		errmap_reply_err(req, efs_error_set(FS_ENAMETOOLONG,
						    "fs: symlink target of "
						    "%zu bytes", len));
		return;
	}
	make(req, parent, name, &n);
}

/*
 * Take back what create made when the kernel never saw it: the handle
 * (fi, when fsops_data_create set it, else NULL) and the name.  Replies
 * with this thread's last error (the one that made create fail).
 */
static void create_undo(fuse_req_t req, struct efs_fs *fs, fuse_ino_t parent,
			const char *name, struct fuse_file_info *fi)
{
	struct efs_error_state saved;

	efs_error_save(&saved);
	if (fi)
		fsops_data_create_abort(fs, fi);
	inode_unlink(fs->itab, parent, name, false);
	errmap_reply_err(req, efs_error_restore(&saved));
}

static void fsops_create(fuse_req_t req, fuse_ino_t parent, const char *name,
			 mode_t mode, struct fuse_file_info *fi)
{
	struct efs_fs *fs = fs_from_req(req);
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct inode_new n = { .mode = S_IFREG | (mode & 07777),
			       .uid = ctx->uid, .gid = ctx->gid };
	struct fuse_entry_param e;
	struct inode_attr a;
	int error;

	if ((error = inode_create(&a, fs->itab, parent, name, &n)) < 0) {
		errmap_reply_err(req, error);
		return;
	}
	if (fsops_data_create(fs, a.ino, fi) < 0) {
		create_undo(req, fs, parent, name, NULL);
		return;
	}
	if (inode_ref(fs->itab, a.ino) < 0) {
		create_undo(req, fs, parent, name, fi);
		return;
	}
	fsops_entry_fill(&e, fs, &a);
	if (fuse_reply_create(req, &e, fi) != 0) {
		/* interrupted: no release and no forget will come; the name
		 * stays, as after an interrupted open(O_CREAT) elsewhere */
		fsops_data_create_abort(fs, fi);
		inode_forget(fs->itab, a.ino, 1);
	}
}

static void fsops_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		       const char *newname)
{
	struct efs_fs *fs = fs_from_req(req);
	struct inode_attr a;
	int error;

	if ((error = inode_link(&a, fs->itab, ino, newparent, newname)) < 0) {
		errmap_reply_err(req, error);
		return;
	}
	reply_entry(req, fs, &a);
}

static void fsops_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct efs_fs *fs = fs_from_req(req);

	errmap_reply_err(req, inode_unlink(fs->itab, parent, name, false));
}

static void fsops_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct efs_fs *fs = fs_from_req(req);

	errmap_reply_err(req, inode_unlink(fs->itab, parent, name, true));
}

static void fsops_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
			 fuse_ino_t newparent, const char *newname,
			 unsigned int flags)
{
	struct efs_fs *fs = fs_from_req(req);
	unsigned ours = 0;

	if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE)) {
		/* RENAME_WHITEOUT is for overlayfs upper layers */
		errmap_reply_err(req, efs_error_set(EFS_EINVAL,
						    "fs: rename flags %#x",
						    flags));
		return;
	}
	if (flags & RENAME_NOREPLACE)
		ours |= INODE_RENAME_NOREPLACE;
	if (flags & RENAME_EXCHANGE)
		ours |= INODE_RENAME_EXCHANGE;
	errmap_reply_err(req, inode_rename(fs->itab, parent, name, newparent,
					   newname, ours));
}

const struct fuse_lowlevel_ops fsops_ops = {
	.init = fsops_init,
	.lookup = fsops_lookup,
	.forget = fsops_forget,
	.forget_multi = fsops_forget_multi,
	.getattr = fsops_getattr,
	.setattr = fsops_setattr,
	.readlink = fsops_readlink,
	.mknod = fsops_mknod,
	.mkdir = fsops_mkdir,
	.unlink = fsops_unlink,
	.rmdir = fsops_rmdir,
	.symlink = fsops_symlink,
	.rename = fsops_rename,
	.link = fsops_link,
	.create = fsops_create,
	.readdir = fsops_readdir,
	.readdirplus = fsops_readdirplus,
	.fsyncdir = fsops_fsyncdir,
	.statfs = fsops_statfs,
	.setxattr = fsops_setxattr,
	.getxattr = fsops_getxattr,
	.listxattr = fsops_listxattr,
	.removexattr = fsops_removexattr,
	/* the data path (fsops_data.c) */
	.open = fsops_data_open,
	.read = fsops_data_read,
	.write_buf = fsops_data_write_buf,
	.flush = fsops_data_flush,
	.fsync = fsops_data_fsync,
	.release = fsops_data_release,
	.fallocate = fsops_data_fallocate,
	.copy_file_range = fsops_data_copy_file_range,
	.lseek = fsops_data_lseek,
};
