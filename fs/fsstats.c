/*
 * fsstats.c - counts and latencies of the FUSE operations (fsstats.h),
 * and the wrapped operation table that records them (fs_i.h).
 *
 * Design notes:
 * - The ops themselves are untouched: fsstats_ops_init copies fsops.c's
 *   table and replaces each op it knows with a wrapper that reads the
 *   clock, calls the real op, reads the clock again and records.  An op
 *   added to fsops_ops later and not known here is served unwrapped
 *   (uncounted), never dropped.
 * - The cost per op is two vDSO clock reads and three relaxed atomic
 *   additions on the op's own counters (its histogram bucket, its sum,
 *   and its errors when it failed): tens of nanoseconds beside a FUSE
 *   round trip of microseconds.  Threads contend on a counter only when
 *   they run the same op at the same moment.
 * - Whether an op failed is learnt from errmap_reply_err, the one place
 *   replies with an errno go through (fs_i.h): it sets a thread-local
 *   flag that fsstats_begin clears and fsstats_end reads.  Every op
 *   replies on the thread that called it (no reply is deferred to
 *   another thread in fs/), so the flag belongs to the op under way.
 * - The wrapper takes the mount's counters from the request before the
 *   op runs: once the op has replied, the request is gone.
 */
#include "fs/fsstats.h"

#include <stddef.h>

#include "fs/fs_i.h"

#include "core/banned.h"

static const char *const names[FSSTATS_NOPS] = {
#define NAME(e, n) [FSSTATS_##e] = #n,
	FSSTATS_OPS(NAME)
#undef NAME
};

static _Thread_local bool op_failed;

const char *fsstats_op_name(enum fsstats_op op)
{
	return (unsigned)op < FSSTATS_NOPS ? names[op] : "unknown";
}

void fsstats_record(struct fsstats *st, enum fsstats_op op, int64_t ns,
		    bool failed)
{
	if ((unsigned)op >= FSSTATS_NOPS)
		return;
	lathist_record(&st->op[op].lat, ns);
	if (failed)
		atomic_fetch_add_explicit(&st->op[op].errors, 1,
					  memory_order_relaxed);
}

void fsstats_snapshot(struct fsstats_op_snap *out, const struct fsstats *st)
{
	for (size_t i = 0; i < FSSTATS_NOPS; i++) {
		out[i].name = names[i];
		out[i].errors = atomic_load_explicit(&st->op[i].errors,
						     memory_order_relaxed);
		lathist_read(&out[i].lat, &st->op[i].lat);
	}
}

int64_t fsstats_begin(void)
{
	op_failed = false;
	return lathist_now_ns();
}

void fsstats_end(struct fsstats *st, enum fsstats_op op, int64_t t0)
{
	fsstats_record(st, op, lathist_now_ns() - t0, op_failed);
	op_failed = false;
}

void fsstats_note_error(void)
{
	op_failed = true;
}

/* ---- the wrapped table ------------------------------------------------ */

/* wrap_<member>: time fsops_ops.<member> and count it as op. */
#define WRAP(member, op, params, args)                                         \
	static void wrap_##member params                                       \
	{                                                                      \
		struct fsstats *st = &fs_from_req(req)->stats;                 \
		int64_t t0 = fsstats_begin();                                  \
                                                                               \
		fsops_ops.member args;                                         \
		fsstats_end(st, FSSTATS_##op, t0);                             \
	}

WRAP(lookup, LOOKUP, (fuse_req_t req, fuse_ino_t p, const char *n), (req, p, n))
WRAP(forget, FORGET, (fuse_req_t req, fuse_ino_t i, uint64_t n), (req, i, n))
WRAP(forget_multi, FORGET_MULTI,
     (fuse_req_t req, size_t n, struct fuse_forget_data *f), (req, n, f))
WRAP(getattr, GETATTR,
     (fuse_req_t req, fuse_ino_t i, struct fuse_file_info *fi), (req, i, fi))
WRAP(setattr, SETATTR,
     (fuse_req_t req, fuse_ino_t i, struct stat *a, int set,
      struct fuse_file_info *fi),
     (req, i, a, set, fi))
WRAP(readlink, READLINK, (fuse_req_t req, fuse_ino_t i), (req, i))
WRAP(mknod, MKNOD,
     (fuse_req_t req, fuse_ino_t p, const char *n, mode_t m, dev_t d),
     (req, p, n, m, d))
WRAP(mkdir, MKDIR, (fuse_req_t req, fuse_ino_t p, const char *n, mode_t m),
     (req, p, n, m))
WRAP(unlink, UNLINK, (fuse_req_t req, fuse_ino_t p, const char *n), (req, p, n))
WRAP(rmdir, RMDIR, (fuse_req_t req, fuse_ino_t p, const char *n), (req, p, n))
WRAP(symlink, SYMLINK,
     (fuse_req_t req, const char *l, fuse_ino_t p, const char *n),
     (req, l, p, n))
WRAP(rename, RENAME,
     (fuse_req_t req, fuse_ino_t p, const char *n, fuse_ino_t np,
      const char *nn, unsigned int fl),
     (req, p, n, np, nn, fl))
WRAP(link, LINK, (fuse_req_t req, fuse_ino_t i, fuse_ino_t np, const char *n),
     (req, i, np, n))
WRAP(create, CREATE,
     (fuse_req_t req, fuse_ino_t p, const char *n, mode_t m,
      struct fuse_file_info *fi),
     (req, p, n, m, fi))
WRAP(open, OPEN, (fuse_req_t req, fuse_ino_t i, struct fuse_file_info *fi),
     (req, i, fi))
WRAP(read, READ,
     (fuse_req_t req, fuse_ino_t i, size_t s, off_t o,
      struct fuse_file_info *fi),
     (req, i, s, o, fi))
WRAP(write_buf, WRITE,
     (fuse_req_t req, fuse_ino_t i, struct fuse_bufvec *b, off_t o,
      struct fuse_file_info *fi),
     (req, i, b, o, fi))
WRAP(flush, FLUSH, (fuse_req_t req, fuse_ino_t i, struct fuse_file_info *fi),
     (req, i, fi))
WRAP(fsync, FSYNC,
     (fuse_req_t req, fuse_ino_t i, int d, struct fuse_file_info *fi),
     (req, i, d, fi))
WRAP(release, RELEASE,
     (fuse_req_t req, fuse_ino_t i, struct fuse_file_info *fi), (req, i, fi))
WRAP(fallocate, FALLOCATE,
     (fuse_req_t req, fuse_ino_t i, int m, off_t o, off_t l,
      struct fuse_file_info *fi),
     (req, i, m, o, l, fi))
WRAP(copy_file_range, COPY_FILE_RANGE,
     (fuse_req_t req, fuse_ino_t ii, off_t oi, struct fuse_file_info *fii,
      fuse_ino_t io, off_t oo, struct fuse_file_info *fio, size_t len, int fl),
     (req, ii, oi, fii, io, oo, fio, len, fl))
WRAP(lseek, LSEEK,
     (fuse_req_t req, fuse_ino_t i, off_t o, int w, struct fuse_file_info *fi),
     (req, i, o, w, fi))
WRAP(readdir, READDIR,
     (fuse_req_t req, fuse_ino_t i, size_t s, off_t o,
      struct fuse_file_info *fi),
     (req, i, s, o, fi))
WRAP(readdirplus, READDIRPLUS,
     (fuse_req_t req, fuse_ino_t i, size_t s, off_t o,
      struct fuse_file_info *fi),
     (req, i, s, o, fi))
WRAP(fsyncdir, FSYNCDIR,
     (fuse_req_t req, fuse_ino_t i, int d, struct fuse_file_info *fi),
     (req, i, d, fi))
WRAP(statfs, STATFS, (fuse_req_t req, fuse_ino_t i), (req, i))
WRAP(setxattr, SETXATTR,
     (fuse_req_t req, fuse_ino_t i, const char *n, const char *v, size_t s,
      int f),
     (req, i, n, v, s, f))
WRAP(getxattr, GETXATTR,
     (fuse_req_t req, fuse_ino_t i, const char *n, size_t s), (req, i, n, s))
WRAP(listxattr, LISTXATTR, (fuse_req_t req, fuse_ino_t i, size_t s),
     (req, i, s))
WRAP(removexattr, REMOVEXATTR, (fuse_req_t req, fuse_ino_t i, const char *n),
     (req, i, n))

void fsstats_ops_init(struct fuse_lowlevel_ops *out)
{
	*out = fsops_ops;
#define SET(member)                                                            \
	if (fsops_ops.member)                                                  \
		out->member = wrap_##member;
	/* clang-format off */
	SET(lookup) SET(forget) SET(forget_multi) SET(getattr) SET(setattr)
	SET(readlink) SET(mknod) SET(mkdir) SET(unlink) SET(rmdir)
	SET(symlink) SET(rename) SET(link) SET(create) SET(open) SET(read)
	SET(write_buf) SET(flush) SET(fsync) SET(release) SET(fallocate)
	SET(copy_file_range) SET(lseek) SET(readdir) SET(readdirplus)
	SET(fsyncdir) SET(statfs) SET(setxattr) SET(getxattr) SET(listxattr)
	SET(removexattr)
	/* clang-format on */
#undef SET
}
