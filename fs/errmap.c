/*
 * errmap.c - efs and FS_E* codes to errno values, and the error reply
 * every FUSE op goes through (errmap.h).
 *
 * Design notes: one table for the fs outcomes, one switch for core's
 * codes.  Anything unknown is EIO: the kernel must never see a made-up
 * or positive value.  EIO-class replies are logged with the efs message,
 * since it is the only trace of what went wrong (the caller sees EIO).
 */
#define LOG_TOPIC "fs"

#include "fs/errmap.h"

#include <errno.h>

#include <fuse_lowlevel.h>

#include "core/error.h"
#include "core/log.h"
#include "fs/fsstats.h"

#include "core/banned.h"

static const struct {
	int code;
	int errnum;
	const char *name;
} fs_codes[] = {
	{ FS_ENOTDIR, ENOTDIR, "ENOTDIR" },
	{ FS_EISDIR, EISDIR, "EISDIR" },
	{ FS_ENOTEMPTY, ENOTEMPTY, "ENOTEMPTY" },
	{ FS_EPERM, EPERM, "EPERM" },
	{ FS_EACCES, EACCES, "EACCES" },
	{ FS_ENAMETOOLONG, ENAMETOOLONG, "ENAMETOOLONG" },
	{ FS_EMLINK, EMLINK, "EMLINK" },
	{ FS_ENODATA, ENODATA, "ENODATA" },
	{ FS_ERANGE, ERANGE, "ERANGE" },
	{ FS_ENOTSUP, EOPNOTSUPP, "ENOTSUP" },
	{ FS_EBUSY, EBUSY, "EBUSY" },
	{ FS_EXDEV, EXDEV, "EXDEV" },
	{ FS_EFBIG, EFBIG, "EFBIG" },
	{ FS_EBADF, EBADF, "EBADF" },
	{ FS_EAGAIN, EAGAIN, "EAGAIN" },
	{ FS_EINTR, EINTR, "EINTR" },
	{ FS_ENXIO, ENXIO, "ENXIO" },
};

#define NFS_CODES (sizeof(fs_codes) / sizeof(fs_codes[0]))

static int core_errno(int code)
{
	switch (code) {
	case EFS_ENOMEM:
		return ENOMEM;
	case EFS_ENOTFOUND:
		return ENOENT;
	case EFS_EEXISTS:
		return EEXIST;
	case EFS_EINVAL:
		return EINVAL;
	case EFS_ENOSPC:
		return ENOSPC;
	case EFS_ETOOBIG:
		return E2BIG;
	case EFS_ECANCELED:
		return EINTR;
	case EFS_EUNSUPPORTED:
		return EOPNOTSUPP;
	default: /* ECORRUPT, EMISMATCH, EIO, EEVICTED, ETIMEDOUT, ... */
		return EIO;
	}
}

int errmap_to_errno(int code)
{
	if (code >= 0)
		return 0;
	for (size_t i = 0; i < NFS_CODES; i++)
		if (fs_codes[i].code == code)
			return fs_codes[i].errnum;
	return core_errno(code);
}

const char *errmap_name(int code)
{
	for (size_t i = 0; i < NFS_CODES; i++)
		if (fs_codes[i].code == code)
			return fs_codes[i].name;
	return efs_error_name(code);
}

void errmap_reply_err(struct fuse_req *req, int code)
{
	int errnum = errmap_to_errno(code);

	if (errnum == EIO || errnum == ENOMEM || errnum == ENOSPC)
		efs_log_warn("%s: %s", errmap_name(code), efs_error_msg());
	if (errnum)
		fsstats_note_error();
	fuse_reply_err(req, errnum);
}
