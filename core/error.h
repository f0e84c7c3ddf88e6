/*
 * error.h - error codes and the thread-local last-error message.
 *
 * Every function that can fail returns int: 0, or a negative enum efs_error.
 * The codes are persisted (job and deal tables) and are never renumbered.
 * The message that goes with the most recent error of this thread is kept
 * in thread-local storage, libgit2 style:
 *
 *	return efs_error_set(EFS_ECORRUPT, "car: section length %zu past end", n);
 *
 * sets it and returns the code in one line.  Propagate codes unchanged; only
 * the layer that handles an error clears it.
 */
#ifndef EFS_ERROR_H
#define EFS_ERROR_H

#include <stdarg.h>

enum efs_error {
	EFS_OK = 0,
	EFS_ERROR = -1,      /* generic; see the message */
	EFS_ENOMEM = -2,     /* out of memory */
	EFS_ENOTFOUND = -3,  /* no such block, file, key */
	EFS_EEXISTS = -4,    /* already there */
	EFS_EINVAL = -5,     /* bad argument or option from the caller/user */
	EFS_ECORRUPT = -6,   /* malformed bytes from disk, network or user */
	EFS_EMISMATCH = -7,  /* bytes do not hash to their CID */
	EFS_EIO = -8,        /* a system call failed; errno is in the message */
	EFS_EEVICTED = -9,   /* block was evicted: retrieval needed */
	EFS_ETIMEDOUT = -10, /* gave up waiting */
	EFS_ECANCELED = -11, /* shutting down or cancelled by the caller */
	EFS_ENOSPC = -12,    /* the disk is full */
	EFS_EUNSUPPORTED = -13, /* valid, but a codec/hash/feature not built */
	EFS_ETOOBIG = -14,   /* over a size cap */
	EFS_ITEROVER = -15,  /* iteration finished (not an error to users) */
	EFS_ERANGE = -16,    /* a number does not fit its type */
	/* -17 .. -99: reserved for core.  -100 and below: outcomes only a
	 * higher layer knows (fs/errmap.h FS_E*: ENOTDIR, ENOTEMPTY ...). */
};

/*
 * Record code and a printf-style message for this thread; returns code.
 * Messages are one lowercase line without a trailing period.
 */
int efs_error_set(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * The macro lets the compiler see that the result is code itself, so
 * -Wmaybe-uninitialized knows that outputs which are set only on success
 * are never read after `if ((error = f(&x)) < 0) return error;`.
 */
#define efs_error_set(code, ...)                          \
	({                                                \
		int efs_code_ = (code);                   \
		(efs_error_set)(efs_code_, __VA_ARGS__);  \
		efs_code_;                                \
	})

/*
 * As efs_error_set, with ": <strerror(errnum)>" appended.  errnum ENOSPC
 * and EDQUOT turn code into EFS_ENOSPC, so "disk full" reaches the user
 * whatever layer saw it.
 */
int efs_error_set_errno(int code, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The last message of this thread ("" when none).  Borrowed. */
const char *efs_error_msg(void);

/* The last code of this thread (0 when none). */
int efs_error_code(void);

/* A stable short name for a code: "ECORRUPT". */
const char *efs_error_name(int code);

/* Forget this thread's error. */
void efs_error_clear(void);

/* A copy of an error, to hand from a worker thread to a waiting one. */
struct efs_error_state {
	int code;
	char msg[256];
};

/* Copy this thread's last error into out. */
void efs_error_save(struct efs_error_state *out);

/* Make a saved error this thread's last error; returns its code. */
int efs_error_restore(const struct efs_error_state *st);

#endif
