/*
 * test_fsstats.c - the FUSE operation counters (fs/fsstats.c) without a
 * mount: names, records and snapshots, an op bracketed by begin/end
 * counted as failed only when errmap noted an error on its own thread
 * (and the note not carried into the next op), concurrent ops losing
 * nothing, and the wrapped table replacing every op fsops.c serves.
 * The counters under a real mount: tests/fs/test_metrics.sh.
 */
#include "fs/fsstats.h"

#include <pthread.h>
#include <string.h>

#include "fs/fs_i.h"
#include "tests/harness.h"

static void test_fsstats__names(void)
{
	CU_ASSERT_STRING_EQUAL(fsstats_op_name(FSSTATS_LOOKUP), "lookup");
	CU_ASSERT_STRING_EQUAL(fsstats_op_name(FSSTATS_WRITE), "write");
	CU_ASSERT_STRING_EQUAL(fsstats_op_name(FSSTATS_COPY_FILE_RANGE),
			       "copy_file_range");
	CU_ASSERT_STRING_EQUAL(fsstats_op_name(FSSTATS_REMOVEXATTR),
			       "removexattr");
	CU_ASSERT_STRING_EQUAL(fsstats_op_name(FSSTATS_NOPS), "unknown");
	/* every name distinct and set */
	for (int i = 0; i < FSSTATS_NOPS; i++)
		for (int j = 0; j < i; j++)
			CU_ASSERT(strcmp(fsstats_op_name(i),
					 fsstats_op_name(j)) != 0);
}

static void test_fsstats__record(void)
{
	static struct fsstats st;
	struct fsstats_op_snap v[FSSTATS_NOPS];

	fsstats_record(&st, FSSTATS_GETATTR, 5000, false);
	fsstats_record(&st, FSSTATS_GETATTR, 20000, true);
	fsstats_record(&st, FSSTATS_READ, 3000000, false);
	fsstats_record(&st, FSSTATS_NOPS, 1, true); /* ignored */
	fsstats_snapshot(v, &st);
	CU_ASSERT_STRING_EQUAL(v[FSSTATS_GETATTR].name, "getattr");
	CU_ASSERT_EQUAL(v[FSSTATS_GETATTR].lat.count, 2);
	CU_ASSERT_EQUAL(v[FSSTATS_GETATTR].errors, 1);
	CU_ASSERT_EQUAL(v[FSSTATS_GETATTR].lat.sum_ns, 25000);
	CU_ASSERT_EQUAL(v[FSSTATS_GETATTR].lat.bucket[0], 1); /* <= 10us */
	CU_ASSERT_EQUAL(v[FSSTATS_GETATTR].lat.bucket[1], 2); /* <= 25us */
	CU_ASSERT_EQUAL(v[FSSTATS_READ].lat.count, 1);
	CU_ASSERT_EQUAL(v[FSSTATS_READ].errors, 0);
	CU_ASSERT_EQUAL(v[FSSTATS_READ].lat.bucket[7], 0);   /* 2.5 ms */
	CU_ASSERT_EQUAL(v[FSSTATS_READ].lat.bucket[8], 1);   /* 5 ms */
	for (int i = 0; i < FSSTATS_NOPS; i++)
		if (i != FSSTATS_GETATTR && i != FSSTATS_READ)
			CU_ASSERT_EQUAL(v[i].lat.count + v[i].errors, 0);
}

static void *note_elsewhere(void *cls)
{
	(void)cls;
	fsstats_note_error();
	return NULL;
}

/* begin/end: failed only with a note on this thread, in this op. */
static void test_fsstats__bracket(void)
{
	static struct fsstats st;
	struct fsstats_op_snap v[FSSTATS_NOPS];
	pthread_t t;
	int64_t t0;

	fsstats_note_error(); /* a note before begin: forgotten */
	t0 = fsstats_begin();
	fsstats_end(&st, FSSTATS_LOOKUP, t0);
	t0 = fsstats_begin();
	fsstats_note_error();
	fsstats_end(&st, FSSTATS_RMDIR, t0);
	/* the note does not outlive its op */
	fsstats_end(&st, FSSTATS_MKDIR, fsstats_begin());
	/* nor cross threads */
	t0 = fsstats_begin();
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, note_elsewhere, NULL),
			      0);
	pthread_join(t, NULL);
	fsstats_end(&st, FSSTATS_OPEN, t0);
	fsstats_snapshot(v, &st);
	CU_ASSERT_EQUAL(v[FSSTATS_LOOKUP].lat.count, 1);
	CU_ASSERT_EQUAL(v[FSSTATS_LOOKUP].errors, 0);
	CU_ASSERT_EQUAL(v[FSSTATS_RMDIR].lat.count, 1);
	CU_ASSERT_EQUAL(v[FSSTATS_RMDIR].errors, 1);
	CU_ASSERT_EQUAL(v[FSSTATS_MKDIR].errors, 0);
	CU_ASSERT_EQUAL(v[FSSTATS_OPEN].lat.count, 1);
	CU_ASSERT_EQUAL(v[FSSTATS_OPEN].errors, 0);
}

#define THREADS 4
#define PER_THREAD 50000

static void *ops(void *cls)
{
	struct fsstats *st = cls;

	for (int i = 0; i < PER_THREAD; i++) {
		int64_t t0 = fsstats_begin();

		if (i % 10 == 0)
			fsstats_note_error();
		fsstats_end(st, FSSTATS_WRITE, t0);
	}
	return NULL;
}

static void test_fsstats__threads(void)
{
	static struct fsstats st;
	struct fsstats_op_snap v[FSSTATS_NOPS];
	pthread_t t[THREADS];

	for (int i = 0; i < THREADS; i++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, ops, &st), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	fsstats_snapshot(v, &st);
	CU_ASSERT_EQUAL(v[FSSTATS_WRITE].lat.count, THREADS * PER_THREAD);
	CU_ASSERT_EQUAL(v[FSSTATS_WRITE].errors, THREADS * PER_THREAD / 10);
}

/* Every op fsops.c serves is wrapped; what it leaves NULL stays NULL;
 * init and destroy are its own. */
static void test_fsstats__table(void)
{
	struct fuse_lowlevel_ops w;
	const void *const *a = (const void *const *)&fsops_ops;
	const void *const *b = (const void *const *)&w;
	size_t n = sizeof(w) / sizeof(void *), wrapped = 0;

	fsstats_ops_init(&w);
	CU_ASSERT(w.init == fsops_ops.init);
	CU_ASSERT(w.lookup && w.lookup != fsops_ops.lookup);
	CU_ASSERT(w.write_buf && w.write_buf != fsops_ops.write_buf);
	CU_ASSERT(w.readdirplus != fsops_ops.readdirplus);
	for (size_t i = 0; i < n; i++) {
		CU_ASSERT(!a[i] == !b[i]);
		wrapped += a[i] != b[i];
	}
	/* every op but init: the list in fsstats.h */
	CU_ASSERT_EQUAL(wrapped, FSSTATS_NOPS);
}

static CU_TestInfo fsstats_tests[] = {
	{ "names", test_fsstats__names },
	{ "record", test_fsstats__record },
	{ "bracket", test_fsstats__bracket },
	{ "threads", test_fsstats__threads },
	{ "table", test_fsstats__table },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "fsstats", .pTests = fsstats_tests })
