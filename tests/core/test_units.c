/*
 * test_units.c - sizes with suffixes: every suffix in both cases, the
 * limits of uint64_t, and what is refused.
 */
#include "core/units.h"

#include <string.h>

#include "core/error.h"
#include "tests/harness.h"

static void test_units__good(void)
{
	static const struct {
		const char *s;
		uint64_t v;
	} cases[] = {
		{ "0", 0 }, { "4096", 4096 }, { "7b", 7 }, { "7B", 7 },
		{ "1k", 1024 }, { "1K", 1024 }, { "2kb", 2048 },
		{ "2KiB", 2048 }, { "8MiB", 8 << 20 }, { "8m", 8 << 20 },
		{ "8MB", 8 << 20 }, { "1G", 1 << 30 }, { "1gib", 1 << 30 },
		{ "3T", 3ULL << 40 }, { "3TiB", 3ULL << 40 },
		{ "18446744073709551615", UINT64_MAX },
		{ "16777215T", 16777215ULL << 40 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 1;

		CU_ASSERT_EQUAL(units_parse_size(&v, cases[i].s), 0);
		CU_ASSERT_EQUAL(v, cases[i].v);
	}
}

static void test_units__bad(void)
{
	static const char *const cases[] = {
		"", "k", "-1", " 1", "+1", "1 k", "1x", "1kk", "1kibb", "1iB",
		"1p", "18446744073709551616", "16777216T", "1.5G", "0x10",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 42;

		CU_ASSERT_EQUAL(units_parse_size(&v, cases[i]), EFS_EINVAL);
		CU_ASSERT_EQUAL(v, 42);
		CU_ASSERT_PTR_NOT_NULL(strstr(efs_error_msg(), "bad size"));
	}
}

static CU_TestInfo tests[] = {
	{ "good", test_units__good },
	{ "bad", test_units__bad },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "units", .pTests = tests })
