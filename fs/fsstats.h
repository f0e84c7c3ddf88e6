/*
 * fsstats.h - counts and latencies of the mount's FUSE operations, for
 * the daemon's /metrics: per operation (lookup, getattr, read, write
 * ...), how many were answered, how many of those with an error, and a
 * latency histogram (core/lathist.h) from the request's arrival in the
 * op to its reply.
 *
 * The mount (mount.c) serves a wrapped operation table (fsstats_ops_init
 * in fs_i.h) whose every entry times the real op and records it in the
 * mount's struct fsstats; the services hook of fs/mount.h receives that
 * struct, and reads it with fsstats_snapshot.  This header needs no FUSE
 * headers, so the daemon's other modules can include it.
 *
 * An error is a reply with an errno (errmap_reply_err with a non-zero
 * code): ENOENT of a lookup, ENODATA of a getxattr and EIO alike.
 *
 * Threads: fsstats_record and fsstats_snapshot may run from any threads
 * at once (atomics, no lock).  fsstats_begin/_end bracket one op on one
 * thread (errmap_reply_err's note of an error is thread-local).
 */
#ifndef EFS_FSSTATS_H
#define EFS_FSSTATS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/lathist.h"

/* X(ENUM, name): every operation counted, in the order /metrics shows. */
#define FSSTATS_OPS(X)                                                   \
	X(LOOKUP, lookup) X(FORGET, forget) X(FORGET_MULTI, forget_multi) \
	X(GETATTR, getattr) X(SETATTR, setattr) X(READLINK, readlink)     \
	X(MKNOD, mknod) X(MKDIR, mkdir) X(UNLINK, unlink)                 \
	X(RMDIR, rmdir) X(SYMLINK, symlink) X(RENAME, rename)             \
	X(LINK, link) X(CREATE, create) X(OPEN, open) X(READ, read)       \
	X(WRITE, write) X(FLUSH, flush) X(FSYNC, fsync)                   \
	X(RELEASE, release) X(FALLOCATE, fallocate)                       \
	X(COPY_FILE_RANGE, copy_file_range) X(LSEEK, lseek)               \
	X(READDIR, readdir) X(READDIRPLUS, readdirplus)                   \
	X(FSYNCDIR, fsyncdir) X(STATFS, statfs) X(SETXATTR, setxattr)     \
	X(GETXATTR, getxattr) X(LISTXATTR, listxattr)                     \
	X(REMOVEXATTR, removexattr)

enum fsstats_op {
#define FSSTATS_ENUM(e, n) FSSTATS_##e,
	FSSTATS_OPS(FSSTATS_ENUM)
#undef FSSTATS_ENUM
	FSSTATS_NOPS
};

/* One mount's counters.  All zero (memset, calloc) is empty. */
struct fsstats {
	struct {
		atomic_uint_fast64_t errors;
		struct lathist lat;  /* its count is the op's count */
	} op[FSSTATS_NOPS];
};

/* One operation as read. */
struct fsstats_op_snap {
	const char *name;         /* "lookup", "write" ...: static */
	uint64_t errors;
	struct lathist_snap lat;  /* lat.count: replies, errors included */
};

/* The name of op ("getattr"); "unknown" out of range. */
const char *fsstats_op_name(enum fsstats_op op);

/* Record one op of ns nanoseconds, failed or not. */
void fsstats_record(struct fsstats *st, enum fsstats_op op, int64_t ns,
		    bool failed);

/* Read every operation of st into out[0..FSSTATS_NOPS), in enum order. */
void fsstats_snapshot(struct fsstats_op_snap *out, const struct fsstats *st);

/*
 * Bracket one operation on this thread: begin returns its start time
 * and forgets any earlier error note; end records the op in st with
 * its time and whether fsstats_note_error was called in between.
 */
int64_t fsstats_begin(void);
void fsstats_end(struct fsstats *st, enum fsstats_op op, int64_t t0);

/* The op under way on this thread replied an error (errmap.c). */
void fsstats_note_error(void);

#endif
