/*
 * test_error.c - the thread-local last error: set/get/clear, names,
 * errno messages and the ENOSPC mapping, truncation of long messages,
 * wrapping the previous message, and save/restore across threads.
 */
#include "core/error.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include "tests/harness.h"

static void test_error__set(void)
{
	efs_error_clear();
	CU_ASSERT_EQUAL(efs_error_code(), 0);
	CU_ASSERT_STRING_EQUAL(efs_error_msg(), "");
	CU_ASSERT_EQUAL(efs_error_set(EFS_ECORRUPT, "car: section length %zu "
				      "past end", (size_t)42), EFS_ECORRUPT);
	CU_ASSERT_EQUAL(efs_error_code(), EFS_ECORRUPT);
	CU_ASSERT_STRING_EQUAL(efs_error_msg(),
			       "car: section length 42 past end");
	/* the next error replaces the last one */
	CU_ASSERT_EQUAL(efs_error_set(EFS_ENOTFOUND, "no %s", "block"),
			EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(efs_error_code(), EFS_ENOTFOUND);
	CU_ASSERT_STRING_EQUAL(efs_error_msg(), "no block");
	efs_error_clear();
	CU_ASSERT_EQUAL(efs_error_code(), 0);
	CU_ASSERT_STRING_EQUAL(efs_error_msg(), "");
}

static void test_error__names(void)
{
	static const struct {
		int code;
		const char *name;
	} names[] = {
		{ EFS_OK, "OK" },
		{ EFS_ERROR, "ERROR" },
		{ EFS_ENOMEM, "ENOMEM" },
		{ EFS_ENOTFOUND, "ENOTFOUND" },
		{ EFS_EEXISTS, "EEXISTS" },
		{ EFS_EINVAL, "EINVAL" },
		{ EFS_ECORRUPT, "ECORRUPT" },
		{ EFS_EMISMATCH, "EMISMATCH" },
		{ EFS_EIO, "EIO" },
		{ EFS_EEVICTED, "EEVICTED" },
		{ EFS_ETIMEDOUT, "ETIMEDOUT" },
		{ EFS_ECANCELED, "ECANCELED" },
		{ EFS_ENOSPC, "ENOSPC" },
		{ EFS_EUNSUPPORTED, "EUNSUPPORTED" },
		{ EFS_ETOOBIG, "ETOOBIG" },
		{ EFS_ITEROVER, "ITEROVER" },
		{ EFS_ERANGE, "ERANGE" },
		/* not codes */
		{ 1, "EUNKNOWN" },
		{ -17, "EUNKNOWN" },
		{ INT_MAX, "EUNKNOWN" },
		{ INT_MIN, "EUNKNOWN" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		CU_ASSERT_STRING_EQUAL(efs_error_name(names[i].code),
				       names[i].name);
}

static void test_error__errno(void)
{
	CU_ASSERT_EQUAL(efs_error_set_errno(EFS_EIO, EACCES, "open %s", "f"),
			EFS_EIO);
	CU_ASSERT_EQUAL(efs_error_code(), EFS_EIO);
	CU_ASSERT_STRING_EQUAL(efs_error_msg(), "open f: Permission denied");
	/* a full disk is ENOSPC whatever the caller passed */
	CU_ASSERT_EQUAL(efs_error_set_errno(EFS_EIO, ENOSPC, "write"),
			EFS_ENOSPC);
	CU_ASSERT_EQUAL(efs_error_code(), EFS_ENOSPC);
	CU_ASSERT_STRING_EQUAL(efs_error_msg(),
			       "write: No space left on device");
	CU_ASSERT_EQUAL(efs_error_set_errno(EFS_EIO, EDQUOT, "write"),
			EFS_ENOSPC);
	CU_ASSERT_EQUAL(efs_error_set_errno(EFS_ERROR, 0, "x"), EFS_ERROR);
	CU_ASSERT_EQUAL(strncmp(efs_error_msg(), "x: ", 3), 0);
	CU_ASSERT_EQUAL(efs_error_set_errno(EFS_EIO, 99999, "odd"), EFS_EIO);
	CU_ASSERT_EQUAL(strncmp(efs_error_msg(), "odd: ", 5), 0);
}

static void test_error__long(void)
{
	char big[1000];
	size_t max = sizeof(((struct efs_error_state *)0)->msg) - 1;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	efs_error_set(EFS_ERROR, "%s", big);
	CU_ASSERT_EQUAL(strlen(efs_error_msg()), max);
	CU_ASSERT_EQUAL(efs_error_set_errno(EFS_EIO, EACCES, "%s", big),
			EFS_EIO);
	CU_ASSERT_EQUAL(strlen(efs_error_msg()), max);
	/* room left for part of the errno text */
	big[max - 4] = '\0';
	efs_error_set_errno(EFS_EIO, EACCES, "%s", big);
	CU_ASSERT_EQUAL(strlen(efs_error_msg()), max);
	CU_ASSERT_STRING_EQUAL(efs_error_msg() + max - 4, ": Pe");
}

/* A layer may wrap the message of the error it propagates. */
static void test_error__wrap(void)
{
	efs_error_set(EFS_ECORRUPT, "dagpb: bad link %d", 3);
	CU_ASSERT_EQUAL(efs_error_set(efs_error_code(), "car %s: %s", "a.car",
				      efs_error_msg()), EFS_ECORRUPT);
	CU_ASSERT_STRING_EQUAL(efs_error_msg(), "car a.car: dagpb: bad link 3");
	efs_error_set_errno(EFS_EIO, EACCES, "open");
	efs_error_set_errno(EFS_EIO, EIO, "%s; retry", efs_error_msg());
	CU_ASSERT_STRING_EQUAL(efs_error_msg(),
			       "open: Permission denied; retry: "
			       "Input/output error");
}

static void test_error__save_restore(void)
{
	struct efs_error_state st;

	efs_error_set(EFS_ETIMEDOUT, "deal %d: no answer", 7);
	efs_error_save(&st);
	efs_error_clear();
	CU_ASSERT_EQUAL(efs_error_restore(&st), EFS_ETIMEDOUT);
	CU_ASSERT_EQUAL(efs_error_code(), EFS_ETIMEDOUT);
	CU_ASSERT_STRING_EQUAL(efs_error_msg(), "deal 7: no answer");
}

/* A worker fails; the waiting thread gets its error through save/restore. */
struct worker {
	int code_at_start;
	char msg_at_start[8];
	struct efs_error_state st;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	w->code_at_start = efs_error_code();
	memcpy(w->msg_at_start, efs_error_msg(), 1);
	efs_error_set(EFS_EIO, "worker: disk %s", "gone");
	efs_error_save(&w->st);
	return NULL;
}

static void test_error__threads(void)
{
	struct worker w = { -1, { 'z' }, { 0, { 0 } } };
	pthread_t tid;

	efs_error_set(EFS_ENOTFOUND, "main thread");
	CU_ASSERT_EQUAL_FATAL(pthread_create(&tid, NULL, worker_main, &w), 0);
	pthread_join(tid, NULL);
	/* the worker started clean and did not touch this thread's error */
	CU_ASSERT_EQUAL(w.code_at_start, 0);
	CU_ASSERT_EQUAL(w.msg_at_start[0], '\0');
	CU_ASSERT_EQUAL(efs_error_code(), EFS_ENOTFOUND);
	CU_ASSERT_STRING_EQUAL(efs_error_msg(), "main thread");
	CU_ASSERT_EQUAL(efs_error_restore(&w.st), EFS_EIO);
	CU_ASSERT_EQUAL(efs_error_code(), EFS_EIO);
	CU_ASSERT_STRING_EQUAL(efs_error_msg(), "worker: disk gone");
}

static CU_TestInfo error_tests[] = {
	{ "set", test_error__set },
	{ "names", test_error__names },
	{ "errno", test_error__errno },
	{ "long", test_error__long },
	{ "wrap", test_error__wrap },
	{ "save_restore", test_error__save_restore },
	{ "threads", test_error__threads },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "error", .pTests = error_tests })
