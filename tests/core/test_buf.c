/*
 * test_buf.c - the capped byte buffer: appending and NUL termination,
 * printf, truncate/reset/detach, the cap (EFS_ETOOBIG leaves the buffer
 * as it was), size_t overflow under BUF_NOCAP, out-of-memory and the
 * allocation-failure loop.
 */
#include "core/buf.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "tests/harness.h"

/* A snapshot of a buffer, to check that a failed call changed nothing. */
struct snap {
	uint8_t *ptr;
	size_t len;
	size_t asize;
	size_t max;
	char bytes[256];
};

static struct snap take(const struct buf *b)
{
	struct snap s = { b->ptr, b->len, b->asize, b->max, { 0 } };

	if (b->ptr && b->len < sizeof(s.bytes))
		memcpy(s.bytes, b->ptr, b->len + 1);
	return s;
}

static void check_unchanged(const struct buf *b, const struct snap *s)
{
	CU_ASSERT_PTR_EQUAL(b->ptr, s->ptr);
	CU_ASSERT_EQUAL(b->len, s->len);
	CU_ASSERT_EQUAL(b->asize, s->asize);
	CU_ASSERT_EQUAL(b->max, s->max);
	if (b->ptr && b->len < sizeof(s->bytes))
		CU_ASSERT(!memcmp(b->ptr, s->bytes, b->len + 1));
}

static void test_buf__add(void)
{
	struct buf b = BUF_INIT(BUF_NOCAP);

	CU_ASSERT_PTR_NULL(b.ptr);
	CU_ASSERT_EQUAL(buf_add(&b, "abc", 3), 0);
	CU_ASSERT_EQUAL(b.len, 3);
	CU_ASSERT(b.asize > b.len);
	CU_ASSERT_STRING_EQUAL((char *)b.ptr, "abc");
	CU_ASSERT_EQUAL(buf_addch(&b, 'd'), 0);
	CU_ASSERT_EQUAL(buf_adds(&b, "ef"), 0);
	CU_ASSERT_EQUAL(buf_add(&b, NULL, 0), 0);
	CU_ASSERT_EQUAL(buf_adds(&b, ""), 0);
	CU_ASSERT_EQUAL(b.len, 6);
	CU_ASSERT_STRING_EQUAL((char *)b.ptr, "abcdef");
	/* binary bytes, NUL included, keep the terminator after them */
	CU_ASSERT_EQUAL(buf_add(&b, "\0\xff", 2), 0);
	CU_ASSERT_EQUAL(b.len, 8);
	CU_ASSERT_EQUAL(b.ptr[6], 0);
	CU_ASSERT_EQUAL(b.ptr[7], 0xff);
	CU_ASSERT_EQUAL(b.ptr[8], 0);
	buf_release(&b);
	CU_ASSERT_PTR_NULL(b.ptr);
	CU_ASSERT_EQUAL(b.len, 0);
	/* released buffers are reusable */
	CU_ASSERT_EQUAL(buf_adds(&b, "x"), 0);
	CU_ASSERT_STRING_EQUAL((char *)b.ptr, "x");
	buf_release(&b);
	buf_release(&b);
}

static void test_buf__empty_add(void)
{
	struct buf b;

	/* adding nothing still makes a C string */
	buf_init(&b, 0);
	CU_ASSERT_EQUAL(b.max, 0);
	CU_ASSERT_EQUAL(buf_add(&b, NULL, 0), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b.ptr);
	CU_ASSERT_STRING_EQUAL((char *)b.ptr, "");
	CU_ASSERT_EQUAL(buf_addch(&b, 'a'), EFS_ETOOBIG);
	CU_ASSERT_EQUAL(b.len, 0);
	buf_release(&b);
}

static void test_buf__growth(void)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	uint8_t data[100000];

	harness_fill_random(data, sizeof(data), 1);
	for (size_t off = 0; off < sizeof(data); off += 777) {
		size_t n = sizeof(data) - off < 777 ? sizeof(data) - off : 777;

		CU_ASSERT_EQUAL_FATAL(buf_add(&b, data + off, n), 0);
		CU_ASSERT(b.len < b.asize);
		CU_ASSERT_EQUAL(b.ptr[b.len], 0);
	}
	CU_ASSERT_EQUAL(b.len, sizeof(data));
	CU_ASSERT(!memcmp(b.ptr, data, sizeof(data)));
	buf_release(&b);
}

static void test_buf__printf(void)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	char want[512];
	size_t n;

	CU_ASSERT_EQUAL(buf_printf(&b, "%s", ""), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b.ptr);
	CU_ASSERT_STRING_EQUAL((char *)b.ptr, "");
	CU_ASSERT_EQUAL(buf_printf(&b, "%d-%s-%zu", -5, "x", (size_t)7), 0);
	CU_ASSERT_STRING_EQUAL((char *)b.ptr, "-5-x-7");
	CU_ASSERT_EQUAL(b.len, 6);
	/* past the first allocation */
	CU_ASSERT_EQUAL(buf_printf(&b, "%300s|", "y"), 0);
	n = (size_t)snprintf(want, sizeof(want), "-5-x-7%300s|", "y");
	CU_ASSERT_EQUAL(b.len, n);
	CU_ASSERT_STRING_EQUAL((char *)b.ptr, want);
	CU_ASSERT_EQUAL(strlen((char *)b.ptr), b.len);
	buf_release(&b);
}

static void test_buf__truncate_reset(void)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	uint8_t *p;

	buf_truncate(&b, 0); /* on an empty buffer: nothing */
	buf_reset(&b);
	CU_ASSERT_EQUAL(buf_adds(&b, "hello world"), 0);
	p = b.ptr;
	buf_truncate(&b, 20); /* longer than len: nothing */
	CU_ASSERT_EQUAL(b.len, 11);
	buf_truncate(&b, 5);
	CU_ASSERT_EQUAL(b.len, 5);
	CU_ASSERT_STRING_EQUAL((char *)b.ptr, "hello");
	buf_reset(&b);
	CU_ASSERT_EQUAL(b.len, 0);
	CU_ASSERT_PTR_EQUAL(b.ptr, p); /* the allocation is kept */
	CU_ASSERT_STRING_EQUAL((char *)b.ptr, "");
	CU_ASSERT_EQUAL(buf_adds(&b, "again"), 0);
	CU_ASSERT_STRING_EQUAL((char *)b.ptr, "again");
	buf_release(&b);
}

static void test_buf__detach(void)
{
	struct buf b = BUF_INIT(100);
	uint8_t *p;
	size_t len = 99;

	/* never allocated: NULL and 0 */
	CU_ASSERT_PTR_NULL(buf_detach(&b, &len));
	CU_ASSERT_EQUAL(len, 0);
	CU_ASSERT_EQUAL(buf_adds(&b, "taken"), 0);
	p = buf_detach(&b, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(len, 5);
	CU_ASSERT_STRING_EQUAL((char *)p, "taken");
	CU_ASSERT_PTR_NULL(b.ptr);
	CU_ASSERT_EQUAL(b.len, 0);
	CU_ASSERT_EQUAL(b.asize, 0);
	CU_ASSERT_EQUAL(b.max, 100); /* the cap stays */
	efs_free(p);
	CU_ASSERT_EQUAL(buf_adds(&b, "abc"), 0);
	p = buf_detach(&b, NULL);
	CU_ASSERT_STRING_EQUAL((char *)p, "abc");
	efs_free(p);
}

static void test_buf__attach(void)
{
	struct buf b = BUF_INIT(8);
	uint8_t *p = efs_malloc(16);

	/* empty: p becomes the storage, NUL-terminated */
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	memcpy(p, "abcdefgh", 8);
	CU_ASSERT_EQUAL(buf_adds(&b, "x"), 0);
	buf_reset(&b);
	CU_ASSERT_EQUAL(buf_attach(&b, p, 5, 16), 0);
	CU_ASSERT_PTR_EQUAL(b.ptr, p);
	CU_ASSERT_EQUAL(b.len, 5);
	CU_ASSERT_EQUAL(b.asize, 16);
	CU_ASSERT_STRING_EQUAL((char *)b.ptr, "abcde");
	/* not empty: copied after what is there, p freed */
	p = efs_malloc(2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	memcpy(p, "yz", 2);
	CU_ASSERT_EQUAL(buf_attach(&b, p, 2, 2), 0);
	CU_ASSERT_STRING_EQUAL((char *)b.ptr, "abcdeyz");
	/* no room for the NUL: copied; past the cap: refused, p freed */
	buf_release(&b);
	p = efs_malloc(3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	memcpy(p, "123", 3);
	CU_ASSERT_EQUAL(buf_attach(&b, p, 3, 3), 0);
	CU_ASSERT_STRING_EQUAL((char *)b.ptr, "123");
	CU_ASSERT_EQUAL(b.asize > 3, true);
	buf_release(&b);
	p = efs_malloc(32);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(buf_attach(&b, p, 9, 32), EFS_ETOOBIG);
	CU_ASSERT_PTR_NULL(b.ptr);
	CU_ASSERT_EQUAL(b.len, 0);
}

static void test_buf__cap(void)
{
	struct buf b = BUF_INIT(10);
	struct snap s;

	CU_ASSERT_EQUAL(buf_adds(&b, "0123456"), 0);
	s = take(&b);
	CU_ASSERT_EQUAL(buf_adds(&b, "7890"), EFS_ETOOBIG);
	CU_ASSERT_EQUAL(efs_error_code(), EFS_ETOOBIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(efs_error_msg(), "10-byte cap"));
	check_unchanged(&b, &s);
	CU_ASSERT_EQUAL(buf_printf(&b, "%s", "7890"), EFS_ETOOBIG);
	check_unchanged(&b, &s);
	CU_ASSERT_EQUAL(buf_grow(&b, 4), EFS_ETOOBIG);
	CU_ASSERT_EQUAL(buf_grow(&b, SIZE_MAX), EFS_ETOOBIG);
	check_unchanged(&b, &s);
	/* exactly to the cap is fine, one more is not */
	CU_ASSERT_EQUAL(buf_adds(&b, "789"), 0);
	CU_ASSERT_EQUAL(b.len, 10);
	CU_ASSERT_STRING_EQUAL((char *)b.ptr, "0123456789");
	s = take(&b);
	CU_ASSERT_EQUAL(buf_addch(&b, 'x'), EFS_ETOOBIG);
	CU_ASSERT_EQUAL(buf_add(&b, "", 0), 0);
	check_unchanged(&b, &s);
	buf_release(&b);
}

/* Without a cap, len + extra + NUL must not wrap around. */
static void test_buf__nocap_overflow(void)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct snap s;

	CU_ASSERT_EQUAL(buf_grow(&b, SIZE_MAX), EFS_ETOOBIG);
	CU_ASSERT_PTR_NULL(b.ptr);
	CU_ASSERT_EQUAL(buf_adds(&b, "a"), 0);
	s = take(&b);
	CU_ASSERT_EQUAL(buf_grow(&b, SIZE_MAX - 1), EFS_ETOOBIG);
	CU_ASSERT_EQUAL(buf_grow(&b, SIZE_MAX), EFS_ETOOBIG);
	check_unchanged(&b, &s);
	buf_release(&b);
}

static void test_buf__nomem(void)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct snap s;
	uint8_t big[200];

	memset(big, 'q', sizeof(big));
	efs_alloc_fail_at(0);
	CU_ASSERT_EQUAL(buf_adds(&b, "abc"), EFS_ENOMEM);
	efs_alloc_fail_at(-1);
	CU_ASSERT_PTR_NULL(b.ptr);
	CU_ASSERT_EQUAL(b.len, 0);
	CU_ASSERT_EQUAL(buf_adds(&b, "abc"), 0);
	s = take(&b);
	/* the realloc that grows fails: the old bytes are intact */
	efs_alloc_fail_at(0);
	CU_ASSERT_EQUAL(buf_add(&b, big, sizeof(big)), EFS_ENOMEM);
	CU_ASSERT_EQUAL(buf_printf(&b, "%200s", "x"), 0); /* fired once */
	efs_alloc_fail_at(-1);
	CU_ASSERT_EQUAL(b.len, 203);
	buf_truncate(&b, 3);
	CU_ASSERT_STRING_EQUAL((char *)b.ptr, s.bytes);
	buf_release(&b);

	efs_alloc_fail_at(0);
	CU_ASSERT_EQUAL(buf_printf(&b, "%d", 42), EFS_ENOMEM);
	efs_alloc_fail_at(-1);
	CU_ASSERT_PTR_NULL(b.ptr);
	CU_ASSERT_EQUAL(b.len, 0);
}

static int build_some(void *payload)
{
	struct buf b = BUF_INIT(4096);
	uint8_t *p;
	size_t len;
	int error = 0;

	(void)payload;
	for (int i = 0; i < 100 && !error; i++)
		error = buf_printf(&b, "line %d of text\n", i);
	if (!error)
		error = buf_add(&b, "end", 3);
	if (error) {
		buf_release(&b);
		return error;
	}
	p = buf_detach(&b, &len);
	if (len < 1000 || memcmp(p, "line 0 of text\n", 15))
		error = EFS_ERROR;
	efs_free(p);
	return error;
}

static void test_buf__alloc_loop(void)
{
	CU_ASSERT(harness_alloc_loop(build_some, NULL) > 3);
}

static CU_TestInfo buf_tests[] = {
	{ "add", test_buf__add },
	{ "empty_add", test_buf__empty_add },
	{ "growth", test_buf__growth },
	{ "printf", test_buf__printf },
	{ "truncate_reset", test_buf__truncate_reset },
	{ "detach", test_buf__detach },
	{ "attach", test_buf__attach },
	{ "cap", test_buf__cap },
	{ "nocap_overflow", test_buf__nocap_overflow },
	{ "nomem", test_buf__nomem },
	{ "alloc_loop", test_buf__alloc_loop },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "buf", .pTests = buf_tests })
