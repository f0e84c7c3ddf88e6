/*
 * test_clock.c - monotonic seconds, deadline arithmetic (the nanosecond
 * carry) and ordering.
 */
#include "core/clock.h"

#include "tests/harness.h"

static void test_clock__mono(void)
{
	int64_t a = efs_clock_mono_sec();
	double b = efs_clock_mono();

	CU_ASSERT(a > 0);
	CU_ASSERT(b >= (double)a - 1);
	CU_ASSERT(efs_clock_mono() >= b);
}

static void test_clock__add_ms(void)
{
	struct timespec t = { .tv_sec = 10, .tv_nsec = 999000000L };

	efs_clock_add_ms(&t, 1);
	CU_ASSERT_EQUAL(t.tv_sec, 11);
	CU_ASSERT_EQUAL(t.tv_nsec, 0);
	efs_clock_add_ms(&t, 2500);
	CU_ASSERT_EQUAL(t.tv_sec, 13);
	CU_ASSERT_EQUAL(t.tv_nsec, 500000000L);
	efs_clock_add_ms(&t, 999);
	CU_ASSERT_EQUAL(t.tv_sec, 14);
	CU_ASSERT_EQUAL(t.tv_nsec, 499000000L);
}

static void test_clock__deadline_before(void)
{
	struct timespec now, soon, later;

	clock_gettime(CLOCK_MONOTONIC, &now);
	efs_clock_deadline(&soon, CLOCK_MONOTONIC, 0);
	efs_clock_deadline(&later, CLOCK_MONOTONIC, 1500);
	CU_ASSERT(!efs_clock_before(&soon, &now));
	CU_ASSERT(efs_clock_before(&soon, &later));
	CU_ASSERT(!efs_clock_before(&later, &soon));
	CU_ASSERT(!efs_clock_before(&later, &later));
	CU_ASSERT(later.tv_nsec >= 0 && later.tv_nsec < 1000000000L);
	CU_ASSERT(later.tv_sec >= now.tv_sec + 1);
}

/* Wall-clock nanoseconds: agree with time(2), never go back much. */
static void test_clock__real_ns(void)
{
	int64_t a = efs_clock_real_ns(), b;
	time_t t = time(NULL);

	b = efs_clock_real_ns();
	CU_ASSERT(a <= b);
	CU_ASSERT(a / 1000000000 >= (int64_t)t - 1);
	CU_ASSERT(a / 1000000000 <= (int64_t)t + 1);
}

/* UTC formatting of stored times; too small a buffer gives "". */
static void test_clock__format(void)
{
	char out[32];

	CU_ASSERT_EQUAL(efs_clock_format(out, sizeof(out),
					 1763714606123456789LL,
					 "%Y-%m-%dT%H:%M:%SZ"), 20);
	CU_ASSERT_STRING_EQUAL(out, "2025-11-21T08:43:26Z");
	CU_ASSERT_EQUAL(efs_clock_format(out, sizeof(out), 0, "%Y-%m-%d"), 10);
	CU_ASSERT_STRING_EQUAL(out, "1970-01-01");
	CU_ASSERT_EQUAL(efs_clock_format(out, 5, 0, "%Y-%m-%d"), 0);
	CU_ASSERT_STRING_EQUAL(out, "");
}

static CU_TestInfo clock_tests[] = {
	{ "format", test_clock__format },
	{ "real_ns", test_clock__real_ns },
	{ "mono", test_clock__mono },
	{ "add_ms", test_clock__add_ms },
	{ "deadline_before", test_clock__deadline_before },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "clock", .pTests = clock_tests })
