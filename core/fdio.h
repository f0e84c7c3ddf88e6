/*
 * fdio.h - whole reads and writes on file descriptors: the loops every
 * caller would otherwise write around short transfers and EINTR.
 *
 * They return -1 with errno set, as the system calls do, so that each
 * caller words its own error (efs_error_set_errno).  Reentrant.
 */
#ifndef EFS_FDIO_H
#define EFS_FDIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Write all n bytes of p (at the file position, or at off).  0 or -1. */
int fdio_write(int fd, const void *p, size_t n);
int fdio_pwrite(int fd, const void *p, size_t n, uint64_t off);

/*
 * Read up to n bytes into p (from the file position, or from off),
 * stopping early only at end of file.  Returns the count (less than n
 * only at end of file) or -1.
 */
ssize_t fdio_read(int fd, void *p, size_t n);
ssize_t fdio_pread(int fd, void *p, size_t n, uint64_t off);

/*
 * Fill p with n bytes from the kernel's CSPRNG (getrandom(2), which may
 * return fewer bytes or EINTR).  0 or -1 with errno set.
 */
int fdio_random(void *p, size_t n);

struct buf;

/*
 * Read the whole file at path into out (appended; NUL-terminated, the
 * NUL not counted), up to out's cap.  Unlike the calls above it words
 * its error: returns 0, EFS_ENOTFOUND (no such file), EFS_ETOOBIG (over
 * the cap), EFS_EIO ("PATH: reason") or EFS_ENOMEM.
 */
int fdio_read_file(struct buf *out, const char *path);

#endif
