/*
 * fsops_xattr.c - extended attributes (fs_i.h): user.* names are stored
 * in the inode table; two virtual names are ours:
 *
 *   user.estuary.cid     read-only: the inode's CID (a directory's is
 *                        computed on demand and cached, dircid.h; a
 *                        file's is its last flushed content)
 *   user.estuary.commit  write (any value) on a directory: commit it
 *                        (commit.h); read: its latest commit as one
 *                        line of JSON (commit_record_json)
 *
 * Neither is listed, so `cp -a`/`rsync -X` never try to copy them.  Other
 * namespaces: get answers ENODATA (the kernel asks for
 * security.capability on writes), set and remove EOPNOTSUPP.
 */
#define LOG_TOPIC "fs"

#include "fs/fs_i.h"

#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "core/error.h"
#include "core/log.h"
#include "fs/commit.h"
#include "fs/dircid.h"
#include "fs/errmap.h"

#include "core/banned.h"

#define XATTR_CID "user.estuary.cid"
#define XATTR_COMMIT "user.estuary.commit"
#define XATTR_OURS "user.estuary."
#define XATTR_USER "user."

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Reply a value, or its size when the caller asks (size 0). */
static void reply_value(fuse_req_t req, const void *v, size_t len, size_t size)
{
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (len > size)
		errmap_reply_err(req, efs_error_set(FS_ERANGE, "fs: xattr "
						    "of %zu bytes", len));
	else
		fuse_reply_buf(req, v, len);
}

static int cid_value(struct buf *out, struct efs_fs *fs, uint64_t ino)
{
	struct dircid_env env = { fs->itab, fs->bs, &fs->iopts };
	char s[CID_STR_MAX];
	struct cid id;
	int error;

	if ((error = dircid_inode(&id, NULL, &env, ino)) < 0)
		return error;
	return buf_adds(out, cid_tostr(s, &id));
}

static int commit_value(struct buf *out, struct efs_fs *fs, uint64_t ino)
{
	struct commit_record r;
	int error;

	if ((error = commit_last(&r, fs->commits, ino)) < 0)
		return error != EFS_ENOTFOUND
			       ? error
			       : efs_error_set(FS_ENODATA, "fs: not committed");
	error = commit_record_json(out, &r);
	commit_record_release(&r);
	return error;
}

void fsops_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		    size_t size)
{
	struct efs_fs *fs = fs_from_req(req);
	struct buf v = BUF_INIT(INODE_XATTR_VALUE_MAX);
	int error;

	if (strcmp(name, XATTR_CID) == 0)
		error = cid_value(&v, fs, ino);
	else if (strcmp(name, XATTR_COMMIT) == 0)
		error = commit_value(&v, fs, ino);
	else if (!has_prefix(name, XATTR_USER))
		error = efs_error_set(FS_ENODATA, "fs: no xattr %s", name);
	else
		error = inode_xattr_get(&v, fs->itab, ino, name);
	if (error < 0)
		errmap_reply_err(req, error);
	else
		reply_value(req, v.ptr, v.len, size);
	buf_release(&v);
}

void fsops_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct efs_fs *fs = fs_from_req(req);
	struct buf v = BUF_INIT(BUF_NOCAP);
	int error;

	if ((error = inode_xattr_list(&v, fs->itab, ino)) < 0)
		errmap_reply_err(req, error);
	else
		reply_value(req, v.ptr, v.len, size);
	buf_release(&v);
}

static int do_commit(struct efs_fs *fs, uint64_t ino)
{
	struct commit_record r;
	char s[CID_STR_MAX];
	bool created;
	int error;

	if ((error = commit_dir(&r, &created, fs->commits, ino)) < 0)
		return error;
	efs_log_notice("commit %s: %s%s", r.path, cid_tostr(s, &r.root),
		       created ? "" : " (unchanged)");
	commit_record_release(&r);
	return 0;
}

void fsops_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		    const char *value, size_t size, int flags)
{
	struct efs_fs *fs = fs_from_req(req);
	unsigned ours = 0;
	int error;

	if (flags & XATTR_CREATE)
		ours |= INODE_XATTR_CREATE;
	if (flags & XATTR_REPLACE)
		ours |= INODE_XATTR_REPLACE;
	if (strcmp(name, XATTR_COMMIT) == 0)
		error = do_commit(fs, ino);
	else if (has_prefix(name, XATTR_OURS))
		error = efs_error_set(FS_EPERM, "fs: %s is read-only", name);
	else if (!has_prefix(name, XATTR_USER))
		error = efs_error_set(FS_ENOTSUP, "fs: xattr namespace of %s",
				      name);
	else
		error = inode_xattr_set(fs->itab, ino, name, value, size,
					ours);
	errmap_reply_err(req, error);
}

void fsops_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct efs_fs *fs = fs_from_req(req);
	int error;

	if (has_prefix(name, XATTR_OURS))
		error = efs_error_set(FS_EPERM, "fs: %s is read-only", name);
	else if (!has_prefix(name, XATTR_USER))
		error = efs_error_set(FS_ENOTSUP, "fs: xattr namespace of %s",
				      name);
	else
		error = inode_xattr_remove(fs->itab, ino, name);
	errmap_reply_err(req, error);
}
