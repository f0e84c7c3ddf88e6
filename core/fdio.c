/*
 * fdio.c - whole reads and writes (see fdio.h).
 */
#include "core/fdio.h"

#include <errno.h>
#include <unistd.h>

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
