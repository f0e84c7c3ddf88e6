/*
 * harness.c - shared CUnit runner and test utilities (see harness.h).
 */
#include "tests/harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/mbase.h"

static const char *filter_suite;
static const char *filter_case;

static void apply_filter(CU_SuiteInfo *suites)
{
	for (CU_SuiteInfo *s = suites; s->pName; s++) {
		CU_pSuite suite;

		if (filter_suite && strcmp(filter_suite, s->pName))
			continue;
		suite = CU_add_suite_with_setup_and_teardown(
			s->pName, s->pInitFunc, s->pCleanupFunc,
			s->pSetUpFunc, s->pTearDownFunc);
		for (CU_TestInfo *t = s->pTests; suite && t->pName; t++) {
			if (filter_case && strcmp(filter_case, t->pName))
				continue;
			CU_add_test(suite, t->pName, t->pTestFunc);
		}
	}
}

int harness_run(int argc, char **argv, CU_SuiteInfo *suites)
{
	static char sel[256];
	unsigned failures;
	unsigned suites_failed;
	int opt;

	while ((opt = getopt(argc, argv, "s:")) != -1) {
		if (opt != 's') {
			fprintf(stderr, "usage: %s [-s suite[:case]]\n", argv[0]);
			return 2;
		}
		snprintf(sel, sizeof(sel), "%s", optarg);
		filter_suite = sel;
		char *colon = strchr(sel, ':');
		if (colon) {
			*colon = '\0';
			filter_case = colon + 1;
		}
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	apply_filter(suites);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures();
	suites_failed = CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failures || suites_failed ? 1 : 0;
}

char *harness_data_path(const char *name)
{
	const char *dir = getenv("EFS_TEST_DATA");
	size_t n;
	char *p;

	if (!dir)
		dir = "tests/data";
	n = strlen(dir) + strlen(name) + 2;
	p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

int harness_read_file(struct buf *out, const char *path)
{
	char chunk[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	int error = 0;

	if (fd < 0)
		return efs_error_set_errno(EFS_EIO, errno, "open %s", path);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if ((error = buf_add(out, chunk, (size_t)n)) < 0)
			break;
	if (n < 0)
		error = efs_error_set_errno(EFS_EIO, errno, "read %s", path);
	close(fd);
	return error;
}

int harness_read_data(struct buf *out, const char *name)
{
	char *path = harness_data_path(name);
	int error = harness_read_file(out, path);

	if (error < 0)
		fprintf(stderr, "cannot read test data %s: %s\n", path,
			efs_error_msg());
	CU_ASSERT_EQUAL(error, 0);
	free(path);
	return error;
}

int harness_write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	const uint8_t *p = data;

	if (fd < 0)
		return efs_error_set_errno(EFS_EIO, errno, "open %s", path);
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			close(fd);
			return efs_error_set_errno(EFS_EIO, errno, "write %s",
						   path);
		}
		p += n;
		len -= (size_t)n;
	}
	return close(fd) < 0 ? efs_error_set_errno(EFS_EIO, errno, "close")
			     : 0;
}

char *harness_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *p;
	size_t n;

	if (!base)
		base = "/tmp";
	n = strlen(base) + 32;
	p = malloc(n);
	if (!p)
		return NULL;
	snprintf(p, n, "%s/efs-test-XXXXXX", base);
	if (!mkdtemp(p)) {
		free(p);
		return NULL;
	}
	return p;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void harness_tmpdir_free(char *dir)
{
	if (!dir)
		return;
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

uint64_t harness_rand64(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dull;
}

void harness_fill_random(uint8_t *out, size_t len, uint64_t seed)
{
	uint64_t x = seed ? seed : 0x9e3779b97f4a7c15ull;
	uint64_t v = 0;

	for (size_t i = 0; i < len; i++) {
		if (i % 8 == 0)
			v = harness_rand64(&x);
		out[i] = (uint8_t)(v >> (8 * (i % 8)));
	}
}

long harness_unhex(uint8_t *out, size_t cap, const char *hex)
{
	size_t n = 0;
	int hi = -1;

	for (; *hex; hex++) {
		int v;

		if (*hex == ' ' || *hex == '\n')
			continue;
		if ((v = mbase_hex_value(*hex)) < 0)
			return -1;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == cap)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	return hi < 0 ? (long)n : -1;
}

/* The value of the line "<name> <value>" of file, and its length in
 * *len; NULL when there is no such line. */
static const char *vector_find(const struct buf *file, const char *name,
			       size_t *len)
{
	const char *p = (const char *)file->ptr;
	size_t nlen = strlen(name);

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t llen = eol ? (size_t)(eol - p) : strlen(p);

		if (llen > nlen && !memcmp(p, name, nlen) && p[nlen] == ' ') {
			*len = llen - nlen - 1;
			return p + nlen + 1;
		}
		p = eol ? eol + 1 : NULL;
	}
	return NULL;
}

long harness_vector_str(char *out, size_t cap, const struct buf *file,
			const char *name)
{
	size_t len;
	const char *v = vector_find(file, name, &len);

	if (!v || len >= cap)
		return -1;
	memcpy(out, v, len);
	out[len] = '\0';
	return (long)len;
}

long harness_vector_hex(uint8_t *out, size_t cap, const struct buf *file,
			const char *name)
{
	size_t len;
	const char *v = vector_find(file, name, &len);
	char *hex = v ? strndup(v, len) : NULL;
	long n = hex ? harness_unhex(out, cap, hex) : -1;

	free(hex);
	return n;
}

long harness_alloc_loop(int (*fn)(void *payload), void *payload)
{
	for (long n = 0;; n++) {
		int error;

		efs_alloc_fail_at(n);
		error = fn(payload);
		if (!efs_alloc_fault_fired()) {
			efs_alloc_fail_at(-1);
			CU_ASSERT_EQUAL(error, 0);
			return n + 1;
		}
		efs_alloc_fail_at(-1);
		if (error != EFS_ENOMEM)
			fprintf(stderr, "alloc loop: run %ld returned %s (%s)\n",
				n, efs_error_name(error), efs_error_msg());
		CU_ASSERT_EQUAL(error, EFS_ENOMEM);
		if (error == 0)
			return n + 1;
	}
}
