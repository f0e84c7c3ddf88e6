/*
 * test_daemonize.c - the child's setup status reaches the parent (0, or
 * its error code and message); a child that dies first is an error, not
 * a hang; detach sends the log to its file.
 */
#include "core/daemonize.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/log.h"
#include "tests/harness.h"

#include "core/banned.h"

static void test_daemonize__ok(void)
{
	bool child;
	int fd, rc;

	rc = daemonize_fork(&child, &fd, "test");
	if (child) {
		daemonize_status(fd, 0);
		_exit(0);
	}
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_FALSE(child);
	CU_ASSERT_EQUAL(fd, -1);
}

static void test_daemonize__error(void)
{
	bool child;
	int fd, rc;

	rc = daemonize_fork(&child, &fd, "test");
	if (child) {
		daemonize_status(fd, efs_error_set(EFS_EINVAL, "bad setting"));
		_exit(1);
	}
	CU_ASSERT_EQUAL(rc, EFS_EINVAL);
	CU_ASSERT_STRING_EQUAL(efs_error_msg(), "bad setting");
}

static void test_daemonize__child_dies(void)
{
	bool child;
	int fd, rc;

	rc = daemonize_fork(&child, &fd, "test");
	if (child)
		_exit(3);
	CU_ASSERT_EQUAL(rc, EFS_EIO);
	CU_ASSERT_PTR_NOT_NULL(strstr(efs_error_msg(), "died during setup"));
}

static void test_daemonize__detach(void)
{
	char *dir = harness_tmpdir(), logs[4096], file[4200];
	struct buf b = BUF_INIT(1 << 16);
	bool child;
	int fd, rc;

	CU_ASSERT_FATAL(dir != NULL);
	snprintf(logs, sizeof(logs), "%s/logs", dir);
	snprintf(file, sizeof(file), "%s/x.log", logs);
	rc = daemonize_fork(&child, &fd, "test");
	if (child) {
		rc = daemonize_detach(logs, "x.log", EFS_LOG_NOTICE, "test");
		efs_log_notice("detached and logging");
		daemonize_status(fd, rc);
		_exit(0);
	}
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(harness_read_file(&b, file), 0);
	CU_ASSERT_PTR_NOT_NULL(memmem(b.ptr, b.len, "detached and logging",
				      20));
	buf_release(&b);
	/* A log directory that cannot be made: the parent hears why. */
	rc = daemonize_fork(&child, &fd, "test");
	if (child) {
		rc = daemonize_detach("/proc/nope/logs", "x.log",
				      EFS_LOG_NOTICE, "test");
		daemonize_status(fd, rc);
		_exit(0);
	}
	CU_ASSERT_EQUAL(rc, EFS_EIO);
	CU_ASSERT_PTR_NOT_NULL(strstr(efs_error_msg(), "/proc/nope/logs"));
	harness_tmpdir_free(dir);
}

static CU_TestInfo tests[] = {
	{ "ok", test_daemonize__ok },
	{ "error", test_daemonize__error },
	{ "child_dies", test_daemonize__child_dies },
	{ "detach", test_daemonize__detach },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "daemonize", .pTests = tests })
