/*
 * errmap.h - the one place where error codes become errno values for the
 * kernel (sshfs keeps the same rule), and the POSIX outcomes of
 * filesystem operations that core's short list of codes has no word for.
 *
 * The FS_E* codes are negative ints below core's range (core/error.h
 * keeps its codes above -64), used only inside fs/ and never persisted:
 * "directory not empty" is a normal answer to rmdir, not an error of the
 * kind core reports, but it travels the same way (returned, with a
 * message set by efs_error_set).
 */
#ifndef EFS_ERRMAP_H
#define EFS_ERRMAP_H

/* fuse_req_t without the FUSE headers, so inode.c and its tests need none. */
struct fuse_req;

enum errmap_fs_code {
	FS_ENOTDIR = -100,
	FS_EISDIR = -101,
	FS_ENOTEMPTY = -102,
	FS_EPERM = -103,
	FS_EACCES = -104,
	FS_ENAMETOOLONG = -105,
	FS_EMLINK = -106,
	FS_ENODATA = -107,     /* no such xattr */
	FS_ERANGE = -108,      /* a buffer too small for a reply */
	FS_ENOTSUP = -109,     /* an xattr namespace or mode we refuse */
	FS_EBUSY = -110,
	FS_EXDEV = -111,
	FS_EFBIG = -112,
	FS_EBADF = -113,
	FS_EAGAIN = -114,      /* O_NONBLOCK and the data is not local */
	FS_EINTR = -115,       /* interrupted by the caller (FUSE INTERRUPT) */
	FS_ENXIO = -116,       /* lseek SEEK_DATA/SEEK_HOLE past the end */
};

/*
 * The positive errno for code: 0 for 0 and for positive values, the
 * POSIX value for FS_E* and for core's codes (EFS_ENOTFOUND -> ENOENT,
 * EFS_EEXISTS -> EEXIST, EFS_EINVAL -> EINVAL, EFS_ENOMEM -> ENOMEM,
 * EFS_ENOSPC -> ENOSPC, EFS_ETIMEDOUT and EFS_EEVICTED -> EIO (a block
 * could not be fetched back in time), EFS_ETOOBIG -> E2BIG, EFS_ECANCELED
 * -> EINTR, EFS_EUNSUPPORTED -> EOPNOTSUPP, everything else -> EIO).
 */
int errmap_to_errno(int code);

/* The FS_E* name ("ENOTEMPTY") or core's (efs_error_name). */
const char *errmap_name(int code);

/*
 * Reply the error code (negative efs or FS_E* code) to req; 0 replies
 * success, for the ops whose only reply is an errno (unlink, setxattr,
 * fsync ...).  EIO-class
 * errors are logged with the thread's last message first (the kernel
 * only ever sees the errno); the expected ones (ENOENT, EEXIST ...) are
 * not.
 */
void errmap_reply_err(struct fuse_req *req, int code);

#endif
