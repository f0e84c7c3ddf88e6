/*
 * test_alloc.c - the allocator wrappers: zero sizes, overflow checks,
 * the dup helpers, and fault injection (which allocation fails, that it
 * fails once, the fired flag, and that it is per thread), plus the
 * harness's allocation-failure loop built on it.
 */
#include "core/alloc.h"

#include <pthread.h>
#include <string.h>

#include "core/error.h"
#include "tests/harness.h"

static void test_alloc__basics(void)
{
	uint8_t *p = efs_malloc(0);
	uint8_t *z;
	char *s;

	CU_ASSERT_PTR_NOT_NULL(p);
	efs_free(p);
	z = efs_calloc(0, 0);
	CU_ASSERT_PTR_NOT_NULL(z);
	efs_free(z);
	z = efs_calloc(100, 3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	for (int i = 0; i < 300; i++)
		CU_ASSERT_EQUAL(z[i], 0);
	z = efs_realloc(z, 0);
	CU_ASSERT_PTR_NOT_NULL(z);
	z = efs_reallocarray(z, 1000, 4);
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	memset(z, 1, 4000);
	efs_free(z);
	efs_free(NULL);

	p = efs_memdup("a\0b", 3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT(!memcmp(p, "a\0b", 3));
	efs_free(p);
	p = efs_memdup(NULL, 0);
	CU_ASSERT_PTR_NOT_NULL(p);
	efs_free(p);
	s = efs_strdup("hello");
	CU_ASSERT_STRING_EQUAL(s, "hello");
	efs_free(s);
	s = efs_strndup("hello", 3);
	CU_ASSERT_STRING_EQUAL(s, "hel");
	efs_free(s);
	s = efs_strndup("hi", 10); /* n past the end: stops at the NUL */
	CU_ASSERT_STRING_EQUAL(s, "hi");
	efs_free(s);
	s = efs_strdup("");
	CU_ASSERT_STRING_EQUAL(s, "");
	efs_free(s);
}

static void test_alloc__overflow(void)
{
	uint8_t *p = efs_malloc(16);

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	memset(p, 7, 16);
	CU_ASSERT_PTR_NULL(efs_calloc(SIZE_MAX / 2 + 1, 2));
	CU_ASSERT_PTR_NULL(efs_reallocarray(NULL, SIZE_MAX / 4 + 1, 4));
	/* a failed reallocarray leaves the old block alone */
	CU_ASSERT_PTR_NULL(efs_reallocarray(p, 3, SIZE_MAX / 2));
	CU_ASSERT_EQUAL(p[15], 7);
	efs_free(p);
}

static void test_alloc__inject(void)
{
	void *a;
	void *b;
	void *c;

	efs_alloc_fail_at(0);
	CU_ASSERT_FALSE(efs_alloc_fault_fired());
	CU_ASSERT_PTR_NULL(efs_malloc(8));
	CU_ASSERT(efs_alloc_fault_fired());
	/* once only */
	a = efs_malloc(8);
	CU_ASSERT_PTR_NOT_NULL(a);
	CU_ASSERT(efs_alloc_fault_fired());
	efs_free(a);

	/* the n-th from now, counting every kind of allocation */
	efs_alloc_fail_at(3);
	a = efs_calloc(1, 8);
	b = efs_strdup("x");
	c = efs_memdup("y", 1);
	CU_ASSERT_PTR_NOT_NULL(a);
	CU_ASSERT_PTR_NOT_NULL(b);
	CU_ASSERT_PTR_NOT_NULL(c);
	CU_ASSERT_FALSE(efs_alloc_fault_fired());
	CU_ASSERT_PTR_NULL(efs_realloc(a, 100)); /* a is still ours */
	CU_ASSERT(efs_alloc_fault_fired());
	efs_free(a);
	efs_free(b);
	efs_free(c);

	/* each kind can fail */
	efs_alloc_fail_at(0);
	CU_ASSERT_PTR_NULL(efs_calloc(1, 1));
	efs_alloc_fail_at(0);
	CU_ASSERT_PTR_NULL(efs_strndup("abc", 2));
	efs_alloc_fail_at(0);
	CU_ASSERT_PTR_NULL(efs_memdup("abc", 3));
	efs_alloc_fail_at(0);
	CU_ASSERT_PTR_NULL(efs_reallocarray(NULL, 2, 2));

	/* re-arming clears the flag; -1 turns injection off */
	efs_alloc_fail_at(5);
	CU_ASSERT_FALSE(efs_alloc_fault_fired());
	efs_alloc_fail_at(-1);
	for (int i = 0; i < 10; i++) {
		a = efs_malloc(1);
		CU_ASSERT_PTR_NOT_NULL(a);
		efs_free(a);
	}
	CU_ASSERT_FALSE(efs_alloc_fault_fired());
}

/* Injection on one thread never touches another. */
static void *other_thread(void *arg)
{
	bool *ok = arg;
	void *p = efs_malloc(8);

	*ok = p != NULL && !efs_alloc_fault_fired();
	efs_free(p);
	return NULL;
}

static void test_alloc__per_thread(void)
{
	pthread_t tid;
	bool ok = false;

	efs_alloc_fail_at(0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&tid, NULL, other_thread, &ok),
			      0);
	pthread_join(tid, NULL);
	CU_ASSERT(ok);
	/* pthread_create may allocate, but not through efs_malloc */
	CU_ASSERT_FALSE(efs_alloc_fault_fired());
	CU_ASSERT_PTR_NULL(efs_malloc(8));
	CU_ASSERT(efs_alloc_fault_fired());
	efs_alloc_fail_at(-1);
}

/* Three allocations, cleaned up on any failure. */
static int three_allocs(void *payload)
{
	int *calls = payload;
	void *p[3] = { NULL, NULL, NULL };
	int error = 0;

	(*calls)++;
	for (int i = 0; i < 3 && !error; i++)
		if (!(p[i] = efs_malloc(10)))
			error = efs_error_set(EFS_ENOMEM, "out of memory");
	for (int i = 0; i < 3; i++)
		efs_free(p[i]);
	return error;
}

static void test_alloc__loop(void)
{
	int calls = 0;

	CU_ASSERT_EQUAL(harness_alloc_loop(three_allocs, &calls), 4);
	CU_ASSERT_EQUAL(calls, 4);
	/* the loop leaves injection off */
	CU_ASSERT_FALSE(efs_alloc_fault_fired());
	efs_free(efs_malloc(1));
	CU_ASSERT_FALSE(efs_alloc_fault_fired());
}

static CU_TestInfo alloc_tests[] = {
	{ "basics", test_alloc__basics },
	{ "overflow", test_alloc__overflow },
	{ "inject", test_alloc__inject },
	{ "per_thread", test_alloc__per_thread },
	{ "loop", test_alloc__loop },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "alloc", .pTests = alloc_tests })
