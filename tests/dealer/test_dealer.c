/*
 * test_dealer.c - the dealer against the devnet: commits become pieces
 * and reach 6 active deals on 6 different SPs; its report says so.
 */
#include "tests/dealer/dealer_test.h"

#include <jansson.h>

#include "core/banned.h"

/* Three commits: one big enough for its own piece, two small ones that
 * go into an aggregate; all reach 6 active verified deals. */
static void test_dealer__replicates(void)
{
	struct dfx_piece v[32];
	struct dfx x;
	char *report;
	json_t *j;
	size_t n;

	dfx_open(&x, 8, NULL, "100", "1073741824");
	dfx_commit(&x, 1500000, 1);
	dfx_commit(&x, 20000, 2);
	dfx_commit(&x, 30000, 3);
	dfx_dealer_open(&x);
	CU_ASSERT_TRUE(dfx_run(&x, 6, 90, NULL));
	n = dfx_pieces(v, &x);
	CU_ASSERT_EQUAL(n, 2);
	for (size_t i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(v[i].active, 6);
		CU_ASSERT_EQUAL(v[i].live, 6);
		CU_ASSERT_FALSE(v[i].dup);
	}
	CU_ASSERT_EQUAL_FATAL(dealer_report_read(&report, x.f.db), 0);
	j = json_loads(report, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL(json_object_get(j, "funds"));
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(
				       json_object_get(j, "network"), "kind")),
			       "lotus");
	CU_ASSERT_TRUE(json_is_null(json_object_get(
		json_object_get(j, "blocked"), "datacap")));
	json_decref(j);
	efs_free(report);
	dfx_close(&x);
}

static CU_TestInfo tests[] = {
	{ "replicates", test_dealer__replicates },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "dealer", .pTests = tests })
