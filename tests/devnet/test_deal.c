/*
 * test_deal.c - a whole storage deal against the estuaryfs-devnet
 * program, through its public protocols only: the program
 * ($DEVNET_BIN) runs on 127.0.0.1 with ephemeral ports in a temp
 * directory, and devnet-deal-client ($DEAL_CLIENT, deal_client.c) funds
 * a new wallet, adds market escrow with a signed message, serves a CAR,
 * proposes it over /market/mk12/store, waits for "Sealed" on
 * /market/mk12/status, checks StateMarketStorageDeal, and retrieves the
 * data over /piece (whole and a Range) and /ipfs (CAR and raw), and
 * finds the SP through IPNI.  Then a fault set through the admin RPC
 * (Devnet.SetFault) makes the same client fail.  Processes are ended
 * by their PID.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "core/error.h"
#include "tests/devnet/devnet_util.h"
#include "tests/devnet/spfx.h"
#include "tests/harness.h"

static char *dir;
static struct devnet_util_proc dn;
static char car_path[512];

static int setup(void)
{
	struct spfx_car car;
	char path[600];
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!getenv("DEVNET_BIN") || !getenv("DEAL_CLIENT")) {
		fprintf(stderr, "DEVNET_BIN and DEAL_CLIENT must be set\n");
		return 1;
	}
	if (!(dir = harness_tmpdir()))
		return 1;
	snprintf(path, sizeof(path), "%s/dn", dir);
	if (devnet_util_start(&dn, path, "100ms", 2, NULL) < 0)
		return 1;
	if (spfx_car_make(&car, 7, 200000) < 0)
		return 1;
	snprintf(car_path, sizeof(car_path), "%s/deal.car", dir);
	rc = harness_write_file(car_path, car.bytes.ptr, car.bytes.len);
	spfx_car_release(&car);
	return rc < 0;
}

static int teardown(void)
{
	devnet_util_stop(&dn, false);
	harness_tmpdir_free(dir);
	curl_global_cleanup();
	return 0;
}

/* Run the client against miner; its exit status, stdout in out. */
static int run_client(char *out, size_t cap, const char *miner,
		      bool verify)
{
	const char *argv[] = { getenv("DEAL_CLIENT"), "--api", dn.api,
			       "--token", dn.token, "--car", car_path,
			       "--miner", miner, "--timeout", "60",
			       verify ? "--verify" : NULL, NULL };

	return devnet_util_run(out, cap, argv);
}

static void test_deal__sealed_and_retrieved(void)
{
	char out[4096];

	CU_ASSERT_EQUAL(run_client(out, sizeof(out), "f01000", true), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "piece_cid baga6ea4seaq"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "piece_cid_v2 bafkzcib"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "deal_id "));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "verified ok"));
}

/* Set a miner's faults through the admin JSON-RPC. */
static long set_fault(const char *miner, const char *json)
{
	struct spfx_resp r;
	char body[512], auth[2200], url[256];
	const char *hdrs[] = { "Content-Type: application/json", auth, NULL };
	long status;

	snprintf(url, sizeof(url), "%s/rpc/v1", dn.api);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", dn.token);
	snprintf(body, sizeof(body),
		 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
		 "\"Devnet.SetFault\",\"params\":[\"%s\",%s]}", miner, json);
	spfx_request(&r, "POST", url, hdrs, body, strlen(body));
	status = r.status;
	if (!r.body.ptr || strstr((const char *)r.body.ptr, "\"error\""))
		status = -1;
	spfx_resp_release(&r);
	return status;
}

static void test_deal__faults_over_rpc(void)
{
	char out[4096];

	CU_ASSERT_EQUAL(set_fault("f01001", "{\"reject_pct\":100}"), 200);
	CU_ASSERT_EQUAL(run_client(out, sizeof(out), "f01001", false), 1);
	CU_ASSERT_PTR_NULL(strstr(out, "deal_id"));
	CU_ASSERT_EQUAL(set_fault("f01001", "{\"reject_pct\":0,"
				  "\"fail_transfer\":true}"), 200);
	CU_ASSERT_EQUAL(run_client(out, sizeof(out), "f01001", false), 1);
	CU_ASSERT_EQUAL(set_fault("f01001", "{\"fail_transfer\":false}"), 200);
	CU_ASSERT_EQUAL(run_client(out, sizeof(out), "f01001", false), 0);
}

static CU_TestInfo tests[] = {
	{ "sealed_and_retrieved", test_deal__sealed_and_retrieved },
	{ "faults_over_rpc", test_deal__faults_over_rpc },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ "deal", setup, teardown, NULL, NULL, tests })
