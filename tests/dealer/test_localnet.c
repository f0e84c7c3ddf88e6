/*
 * test_localnet.c - the daemon's own devnet: started from
 * $ESTUARYFS_DEVNET in <repo>/devnet, attached to when it runs already,
 * a wallet funded from its faucet with DataCap, and a clear error when
 * there is no program.
 */
#include "dealer/localnet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "dealer/lotus.h"
#include "net/httpc.h"
#include "tests/harness.h"

static char *dir;

static int setup(void)
{
	if (httpc_global_init() < 0 || !getenv("DEVNET_BIN"))
		return 1;
	setenv("ESTUARYFS_DEVNET", getenv("DEVNET_BIN"), 1);
	return (dir = harness_tmpdir()) == NULL;
}

static int teardown(void)
{
	harness_tmpdir_free(dir);
	return 0;
}

static void test_localnet__start_attach_fund(void)
{
	struct localnet a, b;
	struct lotus *l;
	struct filaddr addr;
	struct bigint min, cap, have;
	bool verified;
	int64_t head;

	CU_ASSERT_EQUAL_FATAL(localnet_start(&a, dir), 0);
	CU_ASSERT(a.pid > 0);
	CU_ASSERT(strncmp(a.url, "http://127.0.0.1:", 17) == 0);

	/* a second start finds it running and does not own it */
	CU_ASSERT_EQUAL(localnet_start(&b, dir), 0);
	CU_ASSERT_EQUAL(b.pid, -1);
	CU_ASSERT_STRING_EQUAL(a.url, b.url);
	localnet_stop(&b);

	CU_ASSERT_EQUAL_FATAL(lotus_open(&l, a.url, a.token), 0);
	CU_ASSERT_EQUAL(lotus_chain_head(&head, l), 0);
	CU_ASSERT_EQUAL(filaddr_parse(&addr, NULL,
		"f1abjxfbp274xpdqcpuaykwkfb43omjotacm2p3za", 41), 0);
	bigint_from_u64(&min, 5000000000000000000ULL);
	bigint_from_u64(&cap, 1ULL << 30);
	CU_ASSERT_EQUAL(localnet_fund(l, &addr, &min, &cap), 0);
	CU_ASSERT_EQUAL(lotus_wallet_balance(&have, l, &addr), 0);
	CU_ASSERT(bigint_cmp(&have, &min) >= 0);
	CU_ASSERT_EQUAL(lotus_datacap(&have, &verified, l, &addr), 0);
	CU_ASSERT(verified);
	CU_ASSERT(bigint_cmp(&have, &cap) >= 0);
	/* already enough: nothing more is granted */
	CU_ASSERT_EQUAL(localnet_fund(l, &addr, &min, &cap), 0);
	CU_ASSERT_EQUAL(lotus_wallet_balance(&have, l, &addr), 0);
	CU_ASSERT_EQUAL(bigint_cmp(&have, &min), 0);
	lotus_close(l);

	localnet_stop(&a);
	CU_ASSERT_EQUAL(a.pid, -1);
	localnet_stop(&a);
}

static void test_localnet__no_program(void)
{
	struct localnet ln;
	char *saved = strdup(getenv("ESTUARYFS_DEVNET"));

	setenv("ESTUARYFS_DEVNET", "/nonexistent/estuaryfs-devnet", 1);
	CU_ASSERT_EQUAL(localnet_start(&ln, dir), EFS_ENOTFOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(efs_error_msg(), "ESTUARYFS_DEVNET"));
	setenv("ESTUARYFS_DEVNET", saved, 1);
	free(saved);
}

static CU_TestInfo tests[] = {
	{ "no_program", test_localnet__no_program },
	{ "start_attach_fund", test_localnet__start_attach_fund },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "localnet", .pInitFunc = setup,
	       .pCleanupFunc = teardown, .pTests = tests })
