/*
 * test_fdio.c - whole writes and reads: positional and not, short reads
 * only at end of file, a pipe delivering in pieces, errors with errno.
 */
#include "core/fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/error.h"
#include "tests/harness.h"

static char *tmp;

static int setup(void)
{
	return (tmp = harness_tmpdir()) == NULL;
}

static int teardown(void)
{
	harness_tmpdir_free(tmp);
	return 0;
}

static int open_file(const char *name)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	return fd;
}

static void test_fdio__file(void)
{
	static uint8_t data[200000], back[200001];
	int fd = open_file("f");

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	CU_ASSERT_EQUAL(fdio_write(fd, data, 1000), 0);
	CU_ASSERT_EQUAL(fdio_pwrite(fd, data + 1000, sizeof(data) - 1000,
				    1000),
			0);
	CU_ASSERT_EQUAL(fdio_pread(fd, back, sizeof(back), 0),
			(ssize_t)sizeof(data)); /* short only at the end */
	CU_ASSERT_EQUAL(memcmp(back, data, sizeof(data)), 0);
	CU_ASSERT_EQUAL(fdio_pread(fd, back, 10, sizeof(data) - 4), 4);
	CU_ASSERT_EQUAL(fdio_pread(fd, back, 10, sizeof(data) + 5), 0);
	CU_ASSERT_EQUAL(lseek(fd, 500, SEEK_SET), 500);
	CU_ASSERT_EQUAL(fdio_read(fd, back, 100), 100);
	CU_ASSERT_EQUAL(memcmp(back, data + 500, 100), 0);
	/* the file position moved on; positional calls do not move it */
	CU_ASSERT_EQUAL(lseek(fd, 0, SEEK_CUR), 600);
	close(fd);
}

static void test_fdio__pipe(void)
{
	uint8_t back[64];
	int p[2];

	CU_ASSERT_FATAL(pipe(p) == 0);
	CU_ASSERT_EQUAL(fdio_write(p[1], "abc", 3), 0);
	CU_ASSERT_EQUAL(fdio_write(p[1], "defgh", 5), 0);
	close(p[1]);
	/* pieces are joined; the end of the input stops the read */
	CU_ASSERT_EQUAL(fdio_read(p[0], back, sizeof(back)), 8);
	CU_ASSERT_EQUAL(memcmp(back, "abcdefgh", 8), 0);
	CU_ASSERT_EQUAL(fdio_read(p[0], back, sizeof(back)), 0);
	close(p[0]);
}

static void test_fdio__errors(void)
{
	uint8_t b[4] = { 0 };
	int fd = open_file("ro");

	close(fd);
	errno = 0;
	CU_ASSERT_EQUAL(fdio_write(fd, b, 4), -1);
	CU_ASSERT_EQUAL(errno, EBADF);
	errno = 0;
	CU_ASSERT_EQUAL(fdio_pread(fd, b, 4, 0), -1);
	CU_ASSERT_EQUAL(errno, EBADF);
	errno = 0;
	CU_ASSERT_EQUAL(fdio_pwrite(-1, b, 4, 0), -1);
	CU_ASSERT_EQUAL(errno, EBADF);
	CU_ASSERT_EQUAL(fdio_read(-1, b, 4), -1);
	CU_ASSERT_EQUAL(fdio_write(1, b, 0), 0); /* nothing to do */
}

/* Whole files: empty, exactly at the cap, one past it, missing. */
static void test_fdio__read_file(void)
{
	char path[4096], data[100];
	struct buf b;
	int fd;

	memset(data, 'x', sizeof(data));
	snprintf(path, sizeof(path), "%s/whole", tmp);
	fd = open_file("whole");
	close(fd);
	buf_init(&b, 11);
	CU_ASSERT_EQUAL(fdio_read_file(&b, path), 0);
	CU_ASSERT_EQUAL(b.len, 0);

	fd = open_file("whole");
	CU_ASSERT_EQUAL(fdio_write(fd, data, 10), 0);
	close(fd);
	CU_ASSERT_EQUAL(fdio_read_file(&b, path), 0);
	CU_ASSERT_EQUAL(b.len, 10);
	CU_ASSERT_EQUAL(b.ptr[10], 0);

	fd = open_file("whole");
	CU_ASSERT_EQUAL(fdio_write(fd, data, 11), 0);
	close(fd);
	buf_reset(&b);
	CU_ASSERT_EQUAL(fdio_read_file(&b, path), EFS_ETOOBIG);
	CU_ASSERT_EQUAL(b.len, 0);
	buf_release(&b);

	buf_init(&b, 1 << 20);
	fd = open_file("whole");
	for (int i = 0; i < 1000; i++)
		CU_ASSERT_EQUAL(fdio_write(fd, data, sizeof(data)), 0);
	close(fd);
	CU_ASSERT_EQUAL(fdio_read_file(&b, path), 0);
	CU_ASSERT_EQUAL(b.len, 100000);
	snprintf(path, sizeof(path), "%s/missing", tmp);
	CU_ASSERT_EQUAL(fdio_read_file(&b, path), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(b.len, 100000);
	buf_release(&b);
}

/* Random bytes: all of a large request filled, two draws differ. */
static void test_fdio__random(void)
{
	static uint8_t a[100000], b[100000];
	size_t zeros = 0;

	CU_ASSERT_EQUAL(fdio_random(a, sizeof(a)), 0);
	CU_ASSERT_EQUAL(fdio_random(b, sizeof(b)), 0);
	CU_ASSERT(memcmp(a, b, sizeof(a)) != 0);
	for (size_t i = 0; i < sizeof(a); i++)
		zeros += a[i] == 0;
	/* about 390 expected; a short fill would leave many more */
	CU_ASSERT(zeros < 1000);
	CU_ASSERT_EQUAL(fdio_random(a, 0), 0);
}

static CU_TestInfo fdio_tests[] = {
	{ "random", test_fdio__random },
	{ "read_file", test_fdio__read_file },
	{ "file", test_fdio__file },
	{ "pipe", test_fdio__pipe },
	{ "errors", test_fdio__errors },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "fdio", .pInitFunc = setup,
	       .pCleanupFunc = teardown, .pTests = fdio_tests })
