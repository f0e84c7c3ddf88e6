/*
 * test_lathist.c - the latency histogram: bounds and their labels agree,
 * each observation lands in the first bucket whose bound it does not
 * pass (a value on a bound counts in it, as Prometheus' le says), the
 * snapshot is cumulative with +Inf equal to the count, the sum is
 * exact, and concurrent records lose nothing.
 */
#include "core/lathist.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tests/harness.h"

/* Every bound's label, parsed as seconds, is the bound; they grow. */
static void test_lathist__bounds(void)
{
	for (unsigned i = 0; i < LATHIST_NBOUNDS; i++) {
		double s = strtod(lathist_bound_label(i), NULL);
		double ns = (double)lathist_bound_ns(i);

		CU_ASSERT(s * 1e9 > ns - 0.5 && s * 1e9 < ns + 0.5);
		if (i)
			CU_ASSERT(lathist_bound_ns(i) >
				  lathist_bound_ns(i - 1));
	}
	CU_ASSERT_EQUAL(lathist_bound_ns(0), 10000);
	CU_ASSERT_EQUAL(lathist_bound_ns(LATHIST_NBOUNDS - 1),
			60000000000ull);
	CU_ASSERT_STRING_EQUAL(lathist_bound_label(LATHIST_NBOUNDS), "+Inf");
	CU_ASSERT_EQUAL(lathist_bound_ns(LATHIST_NBOUNDS), UINT64_MAX);
}

static void test_lathist__buckets(void)
{
	static const struct {
		int64_t ns;
		unsigned bucket;
	} cases[] = {
		{ -5, 0 },                /* a clock step back: 0 */
		{ 0, 0 },
		{ 10000, 0 },             /* on the bound: le includes it */
		{ 10001, 1 },
		{ 999999, 6 },            /* just under 1 ms */
		{ 1000000, 6 },
		{ 1000001, 7 },
		{ 60000000000, 20 },
		{ 60000000001, 21 },      /* +Inf */
		{ INT64_MAX, 21 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct lathist h;
		struct lathist_snap s;

		memset(&h, 0, sizeof(h));
		lathist_record(&h, cases[i].ns);
		lathist_read(&s, &h);
		CU_ASSERT_EQUAL(s.count, 1);
		for (unsigned b = 0; b < LATHIST_NBUCKETS; b++)
			CU_ASSERT_EQUAL(s.bucket[b], b >= cases[i].bucket);
		CU_ASSERT_EQUAL(s.sum_ns,
				cases[i].ns > 0 ? (uint64_t)cases[i].ns : 0);
	}
}

static void test_lathist__cumulative(void)
{
	static struct lathist h; /* static storage: empty */
	struct lathist_snap s;

	lathist_read(&s, &h);
	CU_ASSERT_EQUAL(s.count, 0);
	CU_ASSERT_EQUAL(s.bucket[LATHIST_NBOUNDS], 0);
	lathist_record(&h, 5000);        /* 5 us: bucket 0 */
	lathist_record(&h, 2000000);     /* 2 ms: <= 2.5 ms, bucket 7 */
	lathist_record(&h, 2000000);
	lathist_record(&h, 90000000000); /* 90 s: +Inf */
	lathist_read(&s, &h);
	CU_ASSERT_EQUAL(s.count, 4);
	CU_ASSERT_EQUAL(s.bucket[0], 1);
	CU_ASSERT_EQUAL(s.bucket[6], 1);
	CU_ASSERT_EQUAL(s.bucket[7], 3);
	CU_ASSERT_EQUAL(s.bucket[LATHIST_NBOUNDS - 1], 3);
	CU_ASSERT_EQUAL(s.bucket[LATHIST_NBOUNDS], 4);
	CU_ASSERT_EQUAL(s.sum_ns, 5000 + 4000000 + 90000000000ull);
}

static void test_lathist__now(void)
{
	int64_t a = lathist_now_ns(), b = lathist_now_ns();

	CU_ASSERT(a > 0);
	CU_ASSERT(b >= a);
}

#define THREADS 4
#define PER_THREAD 100000

static void *recorder(void *cls)
{
	struct lathist *h = cls;

	for (int i = 0; i < PER_THREAD; i++)
		lathist_record(h, (int64_t)(i % 7) * 300000);
	return NULL;
}

/* Records from several threads at once, with reads between: none lost,
 * and every snapshot is cumulative. */
static void test_lathist__threads(void)
{
	static struct lathist h;
	pthread_t t[THREADS];
	struct lathist_snap s;
	uint64_t sum = 0;

	for (int i = 0; i < THREADS; i++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, recorder, &h),
				      0);
	for (int k = 0; k < 100; k++) {
		lathist_read(&s, &h);
		for (unsigned b = 1; b < LATHIST_NBUCKETS; b++)
			CU_ASSERT(s.bucket[b] >= s.bucket[b - 1]);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	lathist_read(&s, &h);
	CU_ASSERT_EQUAL(s.count, THREADS * PER_THREAD);
	for (int i = 0; i < PER_THREAD; i++)
		sum += (uint64_t)(i % 7) * 300000;
	CU_ASSERT_EQUAL(s.sum_ns, sum * THREADS);
}

static CU_TestInfo lathist_tests[] = {
	{ "bounds", test_lathist__bounds },
	{ "buckets", test_lathist__buckets },
	{ "cumulative", test_lathist__cumulative },
	{ "now", test_lathist__now },
	{ "threads", test_lathist__threads },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "lathist", .pTests = lathist_tests })
