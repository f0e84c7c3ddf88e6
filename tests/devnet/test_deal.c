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
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "core/error.h"
#include "tests/devnet/devnet_util.h"
#include "tests/devnet/spfx.h"
#include "tests/harness.h"

static char *dir;
static pid_t devnet = -1;
static char api[128], token[2048], car_path[512];

static void sleep_ms(unsigned ms)
{
	usleep(ms * 1000);
}

/* Run argv with stdout to out (NULL: the log) and stderr to the log. */
static pid_t spawn(char *const *argv, int out_fd)
{
	char log[512];
	pid_t p;

	snprintf(log, sizeof(log), "%s/log", dir);
	p = fork();
	if (p == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);

		if (fd >= 0) {
			dup2(out_fd >= 0 ? out_fd : fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	return p;
}

static int start_devnet(void)
{
	char dn[512], *argv[] = { getenv("DEVNET_BIN"), "--dir", dn,
				  "--listen", "127.0.0.1:0", "--sps", "2",
				  "--epoch", "100ms", NULL };
	const char *tcp;

	if (!argv[0])
		return -1;
	snprintf(dn, sizeof(dn), "%s/dn", dir);
	if ((devnet = spawn(argv, -1)) < 0)
		return -1;
	for (int i = 0; i < 500; i++) {
		char a[256];

		if (devnet_util_read_text(a, sizeof(a), dn, "api") == 0 &&
		    (tcp = strstr(a, "/tcp/")) != NULL &&
		    devnet_util_read_text(token, sizeof(token), dn,
					  "token") == 0) {
			snprintf(api, sizeof(api), "http://127.0.0.1:%lu",
				 strtoul(tcp + 5, NULL, 10));
			return 0;
		}
		sleep_ms(20);
	}
	return -1;
}

static void stop_devnet(void)
{
	if (devnet <= 0)
		return;
	kill(devnet, SIGTERM);
	for (int i = 0; i < 500; i++) {
		if (waitpid(devnet, NULL, WNOHANG) == devnet) {
			devnet = -1;
			return;
		}
		sleep_ms(20);
	}
	kill(devnet, SIGKILL);
	waitpid(devnet, NULL, 0);
	devnet = -1;
}

static int setup(void)
{
	struct spfx_car car;
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!getenv("DEVNET_BIN") || !getenv("DEAL_CLIENT")) {
		fprintf(stderr, "DEVNET_BIN and DEAL_CLIENT must be set\n");
		return 1;
	}
	if (!(dir = harness_tmpdir()) || start_devnet() < 0)
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
	stop_devnet();
	harness_tmpdir_free(dir);
	curl_global_cleanup();
	return 0;
}

/* Run the client against miner; its exit status, stdout in out. */
static int run_client(char *out, size_t cap, const char *miner,
		      bool verify)
{
	char *argv[] = { getenv("DEAL_CLIENT"), "--api", api, "--token", token,
			 "--car", car_path, "--miner", (char *)miner,
			 "--timeout", "60", verify ? "--verify" : NULL, NULL };
	int fds[2], status;
	size_t got = 0;
	ssize_t r;
	pid_t p;

	if (pipe(fds) != 0)
		return -1;
	p = spawn(argv, fds[1]);
	close(fds[1]);
	while (got + 1 < cap &&
	       (r = read(fds[0], out + got, cap - 1 - got)) > 0)
		got += (size_t)r;
	out[got] = '\0';
	close(fds[0]);
	waitpid(p, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
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

	snprintf(url, sizeof(url), "%s/rpc/v1", api);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
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
