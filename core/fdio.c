/*
 * fdio.c - whole reads and writes (see fdio.h).
 */
#include "core/fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/error.h"

#include "core/banned.h"

/* off < 0: at the file position. */
static int write_at(int fd, const void *p, size_t n, int64_t off)
{
	const uint8_t *src = p;

	while (n) {
		ssize_t k = off < 0 ? write(fd, src, n)
				    : pwrite(fd, src, n, (off_t)off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		src += k;
		n -= (size_t)k;
		if (off >= 0)
			off += k;
	}
	return 0;
}

static ssize_t read_at(int fd, void *p, size_t n, int64_t off)
{
	uint8_t *dst = p;
	size_t done = 0;

	while (done < n) {
		ssize_t k = off < 0 ? read(fd, dst + done, n - done)
				    : pread(fd, dst + done, n - done,
					    (off_t)off + (off_t)done);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0)
			break;
		done += (size_t)k;
	}
	return (ssize_t)done;
}

int fdio_write(int fd, const void *p, size_t n)
{
	return write_at(fd, p, n, -1);
}

int fdio_pwrite(int fd, const void *p, size_t n, uint64_t off)
{
	return write_at(fd, p, n, (int64_t)off);
}

ssize_t fdio_read(int fd, void *p, size_t n)
{
	return read_at(fd, p, n, -1);
}

ssize_t fdio_pread(int fd, void *p, size_t n, uint64_t off)
{
	return read_at(fd, p, n, (int64_t)off);
}

int fdio_random(void *p, size_t n)
{
	uint8_t *b = p;
	size_t done = 0;

	while (done < n) {
		ssize_t r = getrandom(b + done, n - done, 0);

		if (r < 0 && errno != EINTR)
			return -1;
		if (r > 0)
			done += (size_t)r;
	}
	return 0;
}

int fdio_read_file(struct buf *out, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t start = out->len, room;
	ssize_t n;
	int rc = 0;

	if (fd < 0)
		return errno == ENOENT ?
			       efs_error_set(EFS_ENOTFOUND, "%s: no such file",
					     path) :
			       efs_error_set_errno(EFS_EIO, errno, "%s", path);
	for (;;) {
		/* One byte of the cap stays free for the NUL. */
		room = out->max - out->len;
		if (room <= 1) {
			char probe;

			if (fdio_read(fd, &probe, 1) == 0)
				break;
			rc = efs_error_set(EFS_ETOOBIG,
					   "%s: larger than %zu bytes", path,
					   out->max - start - 1);
			break;
		}
		if ((rc = buf_grow(out, room < 65536 ? room : 65536)) < 0)
			break;
		room = out->asize - out->len;
		if (room > out->max - out->len)
			room = out->max - out->len;
		n = fdio_read(fd, out->ptr + out->len, room - 1);
		if (n < 0) {
			rc = efs_error_set_errno(EFS_EIO, errno, "%s", path);
			break;
		}
		out->len += (size_t)n;
		out->ptr[out->len] = 0;
		if ((size_t)n < room - 1)
			break;
	}
	close(fd);
	if (rc < 0)
		buf_truncate(out, start);
	return rc;
}
