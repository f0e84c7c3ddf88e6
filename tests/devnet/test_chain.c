/*
 * test_chain.c - the devnet's chain run in-process (no clock, no HTTP):
 * genesis, the faucet, signed messages (AddBalance, WithdrawBalance,
 * Send) and the mpool's checks, the market's deal life (publish,
 * activate, expire, miss the start, slash) with its escrow accounting,
 * faults, and resuming after a close.
 *
 * Epochs advance with chain_tick_locked, as the clock thread does.  The
 * tests run in order on one devnet and build on each other's state.
 */
#include "contrib/devnet/chain.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "tests/devnet/devnet_util.h"
#include "tests/harness.h"

/* Amounts as decimal text: "10" E18 is 10 FIL in attoFIL. */
#define E18 "000000000000000000"
#define CENTI "10000000000000000"
#define GIB ((uint64_t)1 << 30)

static char *dir;
static struct devnet d;
static struct filkey client;

static void open_devnet(void)
{
	memset(&d, 0, sizeof(d));
	d.dir = efs_strdup(dir);
	snprintf(d.host, sizeof(d.host), "127.0.0.1");
	d.nminers = 3;
	d.epoch_ms = 1000;
	d.net = 'f';
	CU_ASSERT_EQUAL_FATAL(devnet_open(&d), 0);
}

static int setup(void)
{
	dir = harness_tmpdir();
	return dir && filkey_generate(&client) == 0 ? 0 : -1;
}

static int teardown(void)
{
	devnet_close(&d);
	harness_tmpdir_free(dir);
	filkey_release(&client);
	return 0;
}

static void tick(int n)
{
	for (int i = 0; i < n; i++) {
		pthread_mutex_lock(&d.lock);
		CU_ASSERT_EQUAL(chain_tick_locked(&d), 0);
		pthread_mutex_unlock(&d.lock);
	}
}

static void expect_balance(const struct filaddr *a, const char *want)
{
	char got[BIGINT_STR_MAX];
	struct chain_actor act;

	CU_ASSERT_EQUAL_FATAL(chain_actor_get(&d, &act, a), 0);
	bigint_format(got, &act.balance);
	if (strcmp(got, want))
		fprintf(stderr, "balance: got %s, want %s\n", got, want);
	CU_ASSERT_STRING_EQUAL(got, want);
}

static void expect_escrow(uint64_t id, const char *escrow,
			  const char *locked)
{
	char e[BIGINT_STR_MAX], l[BIGINT_STR_MAX];
	struct chain_escrow ce;

	pthread_mutex_lock(&d.lock);
	CU_ASSERT_EQUAL(chain_escrow_get_locked(&d, &ce, id), 0);
	pthread_mutex_unlock(&d.lock);
	bigint_format(e, &ce.escrow);
	bigint_format(l, &ce.locked);
	if (strcmp(e, escrow) || strcmp(l, locked))
		fprintf(stderr, "escrow of %llu: got %s/%s, want %s/%s\n",
			(unsigned long long)id, e, l, escrow, locked);
	CU_ASSERT_STRING_EQUAL(e, escrow);
	CU_ASSERT_STRING_EQUAL(l, locked);
}

static int push(const struct filmsg_signed *sm, struct cid *id)
{
	struct chain_msg_in in = { .msg = &sm->msg };
	uint8_t sb[FILSIG_BYTES_MAX];
	int rc;

	CU_ASSERT_EQUAL_FATAL(filsig_from_bytes(&in.sig, sb,
						filmsg_sig_to_bytes(
							sb, &sm->sig)), 0);
	CU_ASSERT_EQUAL_FATAL(filmsg_cid(&in.unsigned_cid, &sm->msg), 0);
	CU_ASSERT_EQUAL_FATAL(filmsg_signed_cid(&in.cid, sm), 0);
	in.json = "{}";
	rc = chain_msg_push(&d, &in);
	if (id)
		*id = in.cid;
	return rc;
}

static void expect_receipt(const struct cid *id, int64_t exit_code)
{
	struct chain_msg_info m;

	CU_ASSERT_EQUAL_FATAL(chain_msg_get(&d, &m, id), 0);
	CU_ASSERT(m.height > 0);
	CU_ASSERT_EQUAL(m.exit_code, exit_code);
	chain_msg_info_release(&m);
}

static void test_chain__genesis(void)
{
	struct chain_actor act;
	struct filaddr a;

	open_devnet();
	CU_ASSERT_EQUAL(chain_head(&d), 0);
	CU_ASSERT_EQUAL(d.nminers, 3);
	for (size_t i = 0; i < d.nminers; i++) {
		struct devnet_miner *m = &d.miners[i];

		CU_ASSERT_EQUAL(m->id, 1000 + i);
		CU_ASSERT_PTR_EQUAL(devnet_miner_find(&d, m->id), m);
		CU_ASSERT_EQUAL(strncmp(m->peer_id, "12D3KooW", 8), 0);
		CU_ASSERT_EQUAL(m->worker.addr.protocol, FILADDR_SECP256K1);
		/* the worker resolves both ways */
		CU_ASSERT_EQUAL(chain_actor_get(&d, &act, &m->worker.addr), 0);
		CU_ASSERT_EQUAL(act.id, m->worker_id);
		CU_ASSERT_TRUE(filaddr_equal(&act.key, &m->worker.addr));
		expect_escrow(m->id, "1000000000000000000000", "0");
	}
	CU_ASSERT_PTR_NULL(devnet_miner_find(&d, 999));
	CU_ASSERT_PTR_NULL(devnet_miner_find(&d, 1003));
	filaddr_init_id(&a, 1000);
	expect_balance(&a, "10000000000000000000000");
	filaddr_init_id(&a, 4242);
	CU_ASSERT_EQUAL(chain_actor_get(&d, &act, &a), EFS_ENOTFOUND);
	CU_ASSERT_STRING_EQUAL(efs_error_msg(), "resolution lookup failed "
			       "(f04242): resolve address f04242: actor not "
			       "found");
	tick(3);
	CU_ASSERT_EQUAL(chain_head(&d), 3);
}

static void test_chain__faucet(void)
{
	char msg[256];
	struct bigint v, now;
	struct filaddr a;
	uint64_t id;
	bool is;

	CU_ASSERT_EQUAL(bigint_parse(&v, "100" E18, strlen("100" E18)), 0);
	CU_ASSERT_EQUAL(chain_grant(&d, &id, &now, &client.addr, &v, false), 0);
	CU_ASSERT_EQUAL(id, CHAIN_FIRST_ACCOUNT_ID);
	expect_balance(&client.addr, "100000000000000000000");
	filaddr_init_id(&a, id);
	expect_balance(&a, "100000000000000000000");
	CU_ASSERT_EQUAL(devnet_faucet(&d, msg, sizeof(msg), "f01100",
				      "0.5"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "balance 100.5 FIL"));
	expect_balance(&client.addr, "100500000000000000000");
	CU_ASSERT_EQUAL(devnet_faucet(&d, msg, sizeof(msg), "f09999", "1"),
			EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(devnet_faucet(&d, msg, sizeof(msg), "f1xyz", "1"),
			EFS_EINVAL);
	CU_ASSERT_EQUAL(devnet_faucet(&d, msg, sizeof(msg), "f01100", "-1"),
			EFS_EINVAL);
	CU_ASSERT_EQUAL(devnet_faucet(&d, msg, sizeof(msg), "f01100", "abc"),
			EFS_EINVAL);
	/* DataCap */
	pthread_mutex_lock(&d.lock);
	CU_ASSERT_EQUAL(chain_datacap_get_locked(&d, &now, &is, id), 0);
	pthread_mutex_unlock(&d.lock);
	CU_ASSERT_FALSE(is);
	CU_ASSERT_EQUAL(devnet_grant_datacap(&d, msg, sizeof(msg), "f01100",
					     "68719476736"), 0);
	pthread_mutex_lock(&d.lock);
	CU_ASSERT_EQUAL(chain_datacap_get_locked(&d, &now, &is, id), 0);
	pthread_mutex_unlock(&d.lock);
	CU_ASSERT_TRUE(is);
	CU_ASSERT_EQUAL(bigint_to_u64(&id, &now), 0);
	CU_ASSERT_EQUAL(id, 64 * GIB);
}

static void test_chain__messages(void)
{
	struct filmsg_signed sm;
	struct filaddr other;
	struct filkey k2;
	struct cid id, id2;
	uint64_t n = 99;

	CU_ASSERT_EQUAL(chain_msg_next_nonce(&d, &n, &client.addr), 0);
	CU_ASSERT_EQUAL(n, 0);
	/* AddBalance of 10 FIL into the client's own escrow */
	CU_ASSERT_EQUAL_FATAL(
	    devnet_util_add_balance(&sm, &client, &client.addr, 0, "10" E18),
	    0);
	CU_ASSERT_EQUAL(push(&sm, &id), 0);
	/* the same message again: accepted, no effect */
	CU_ASSERT_EQUAL(push(&sm, NULL), 0);
	filmsg_signed_release(&sm);
	CU_ASSERT_EQUAL(chain_msg_next_nonce(&d, &n, &client.addr), 0);
	CU_ASSERT_EQUAL(n, 1);
	/* nonce too low, gap */
	CU_ASSERT_EQUAL_FATAL(
	    devnet_util_add_balance(&sm, &client, &client.addr, 0, "1"), 0);
	CU_ASSERT_EQUAL(push(&sm, NULL), EFS_EINVAL);
	filmsg_signed_release(&sm);
	CU_ASSERT_EQUAL_FATAL(
	    devnet_util_add_balance(&sm, &client, &client.addr, 5, "1"), 0);
	CU_ASSERT_EQUAL(push(&sm, NULL), EFS_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(efs_error_msg(), "nonce gap"));
	filmsg_signed_release(&sm);
	/* more than the balance */
	CU_ASSERT_EQUAL_FATAL(
	    devnet_util_add_balance(&sm, &client, &client.addr, 1, "1000" E18),
	    0);
	CU_ASSERT_EQUAL(push(&sm, NULL), EFS_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(efs_error_msg(), "not enough funds"));
	filmsg_signed_release(&sm);
	/* a signature by another key */
	CU_ASSERT_EQUAL_FATAL(filkey_generate(&k2), 0);
	CU_ASSERT_EQUAL_FATAL(
	    devnet_util_add_balance(&sm, &k2, &client.addr, 1, "1"), 0);
	sm.msg.from = client.addr;
	CU_ASSERT_EQUAL(push(&sm, NULL), EFS_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(efs_error_msg(), "signature"));
	filmsg_signed_release(&sm);
	/* an unknown sender */
	CU_ASSERT_EQUAL_FATAL(
	    devnet_util_add_balance(&sm, &k2, &k2.addr, 0, "1"), 0);
	CU_ASSERT_EQUAL(push(&sm, NULL), EFS_ENOTFOUND);
	filmsg_signed_release(&sm);
	/* a plain send of 1 FIL to a new address makes its account */
	other = k2.addr;
	CU_ASSERT_EQUAL_FATAL(devnet_util_signed_msg(&sm, &client, &other, 1, 0,
						     "1" E18, NULL, 0),
			      0);
	CU_ASSERT_EQUAL(push(&sm, &id2), 0);
	filmsg_signed_release(&sm);
	tick(1);
	expect_receipt(&id, 0);
	expect_receipt(&id2, 0);
	expect_escrow(CHAIN_FIRST_ACCOUNT_ID, "10000000000000000000", "0");
	expect_balance(&other, "1000000000000000000");
	CU_ASSERT_EQUAL(chain_msg_next_nonce(&d, &n, &client.addr), 0);
	CU_ASSERT_EQUAL(n, 2);
	/* withdraw 1 FIL back, and an unhandled method */
	CU_ASSERT_EQUAL_FATAL(
	    devnet_util_withdraw(&sm, &client, &client.addr, 2, "1" E18), 0);
	CU_ASSERT_EQUAL(push(&sm, &id), 0);
	filmsg_signed_release(&sm);
	filaddr_init_id(&other, DEVNET_MARKET_ID);
	CU_ASSERT_EQUAL_FATAL(
	    devnet_util_signed_msg(&sm, &client, &other, 3, 99, "0", NULL, 0),
	    0);
	CU_ASSERT_EQUAL(push(&sm, &id2), 0);
	filmsg_signed_release(&sm);
	tick(1);
	expect_receipt(&id, 0);
	expect_receipt(&id2, 22);
	expect_escrow(CHAIN_FIRST_ACCOUNT_ID, "9000000000000000000", "0");
	/* nobody may withdraw a miner's escrow but its owner */
	CU_ASSERT_EQUAL_FATAL(
	    devnet_util_withdraw(&sm, &client, &d.miners[0].addr, 4, "1" E18),
	    0);
	CU_ASSERT_EQUAL(push(&sm, &id), 0);
	filmsg_signed_release(&sm);
	tick(1);
	expect_receipt(&id, 18);
	filkey_release(&k2);
}

static int publish(const struct mk12_proposal *p, uint64_t *deal,
		   char *why, size_t whylen)
{
	struct cid pcid;

	CU_ASSERT_EQUAL_FATAL(mk12_proposal_cid(&pcid, p), 0);
	return market_publish(&d, p, &pcid, deal, why, whylen);
}

static void test_chain__deal_life(void)
{
	struct mk12_proposal p;
	struct market_deal m;
	char why[256];
	uint64_t deal, deal2;
	int64_t h = chain_head(&d);

	/* 1 GiB for 10 epochs at 1e15/epoch: 1e16 + 0 collateral */
	devnet_util_proposal(&p, &client.addr, 1000, GIB, h + 2, h + 12,
			     "1000000000000000", "10000000000000000", "0",
			     false);
	CU_ASSERT_EQUAL(publish(&p, &deal, why, sizeof(why)), 0);
	CU_ASSERT_STRING_EQUAL(why, "");
	CU_ASSERT_EQUAL(publish(&p, &deal2, why, sizeof(why)), EFS_EINVAL);
	CU_ASSERT_STRING_EQUAL(why, "cannot publish duplicate deal proposal");
	expect_escrow(CHAIN_FIRST_ACCOUNT_ID, "9000000000000000000",
		      "10000000000000000");
	expect_escrow(1000, "1000000000000000000000", "10000000000000000");
	CU_ASSERT_EQUAL(market_deal_get(&d, &m, deal), 0);
	CU_ASSERT_EQUAL(m.sector_start_epoch, -1);
	CU_ASSERT_EQUAL(m.slash_epoch, -1);
	CU_ASSERT_EQUAL(m.last_updated_epoch, -1);
	CU_ASSERT_EQUAL(m.client, CHAIN_FIRST_ACCOUNT_ID);
	CU_ASSERT_EQUAL(m.provider, 1000);
	CU_ASSERT_EQUAL(m.label_len, 11);
	CU_ASSERT_STRING_EQUAL(m.label, "devnet-test");
	tick(1);
	CU_ASSERT_EQUAL(market_activate(&d, deal, 7), 0);
	CU_ASSERT_EQUAL(market_activate(&d, deal, 7), EFS_EINVAL);
	CU_ASSERT_EQUAL(market_deal_get(&d, &m, deal), 0);
	CU_ASSERT_EQUAL(m.sector_start_epoch, h + 1);
	CU_ASSERT_EQUAL(m.sector, 7);
	{
		uint64_t all = 0, ver = 9;

		CU_ASSERT_EQUAL(market_deal_bytes(&d, &all, &ver, 1000), 0);
		CU_ASSERT_EQUAL(all, GIB);
		CU_ASSERT_EQUAL(ver, 0);
	}
	/* still there at EndEpoch - 1, gone at EndEpoch */
	tick(10);
	CU_ASSERT_EQUAL(chain_head(&d), h + 11);
	CU_ASSERT_EQUAL(market_deal_get(&d, &m, deal), 0);
	tick(1);
	CU_ASSERT_EQUAL(market_deal_get(&d, &m, deal), EFS_ENOTFOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(efs_error_msg(), "not found - deal may"));
	/* paid: 10 epochs x 1e15 from client to provider escrow */
	expect_escrow(CHAIN_FIRST_ACCOUNT_ID, "8990000000000000000", "0");
	expect_escrow(1000, "1000010000000000000000", "0");
}

static void test_chain__refusals(void)
{
	struct mk12_proposal p;
	char why[256];
	uint64_t deal;
	int64_t h = chain_head(&d);
	static const struct {
		uint64_t provider, size;
		const char *pcoll;
		int64_t start, end;
		const char *price;
		bool verified;
		const char *why;
	} cases[] = {
		{ 1003, 1024, CENTI, 5, 10, "0", false,
		  "provider is not a miner" },
		{ 1000, 1000, CENTI, 5, 10, "0", false,
		  "proposal piece size 1000 is invalid" },
		{ 1000, 1024, CENTI, 0, 10, "0", false,
		  "has already elapsed" },
		{ 1000, 1024, CENTI, 5, 5, "0", false,
		  "deal duration out of bounds" },
		{ 1000, 1024, "0", 5, 10, "0", false,
		  "provider collateral out of bounds" },
		{ 1000, 1024, CENTI, 5, 10, "1000" E18, false,
		  "not enough client escrow" },
		{ 1000, 1024, "2000" E18, 5, 10, "0", false,
		  "not enough provider escrow" },
		{ 1000, 128 * GIB, "2" E18, 5, 10, "0", true,
		  "verified deal of 137438953472 bytes" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		devnet_util_proposal(&p, &client.addr, cases[i].provider,
				     cases[i].size, h + cases[i].start,
				     h + cases[i].end, cases[i].price,
				     cases[i].pcoll, "0", cases[i].verified);
		CU_ASSERT_EQUAL(publish(&p, &deal, why, sizeof(why)),
				EFS_EINVAL);
		CU_ASSERT_PTR_NOT_NULL(strstr(why, cases[i].why));
	}
	/* an unknown client */
	{
		struct filkey k;

		CU_ASSERT_EQUAL_FATAL(filkey_generate(&k), 0);
		devnet_util_proposal(&p, &k.addr, 1000, 1024, h + 5, h + 10,
				     "0", CENTI, "0", false);
		CU_ASSERT_EQUAL(publish(&p, &deal, why, sizeof(why)),
				EFS_EINVAL);
		CU_ASSERT_STRING_EQUAL(why, "client address not found");
		filkey_release(&k);
	}
}

static void test_chain__missed_start_and_slash(void)
{
	struct filaddr burnt;
	struct mk12_proposal p;
	struct market_deal m;
	struct bigint cap;
	uint64_t late, slashed, v;
	bool is;
	int64_t h = chain_head(&d);

	filaddr_init_id(&burnt, CHAIN_BURNT_ID);
	/* a verified deal never activated: DataCap comes back, the
	 * provider's collateral is burnt */
	devnet_util_proposal(&p, &client.addr, 1001, 32 * GIB, h + 2, h + 20,
			     "0", "1" E18, "0", true);
	CU_ASSERT_EQUAL(publish(&p, &late, NULL, 0), 0);
	pthread_mutex_lock(&d.lock);
	CU_ASSERT_EQUAL(chain_datacap_get_locked(&d, &cap, &is,
						 CHAIN_FIRST_ACCOUNT_ID), 0);
	pthread_mutex_unlock(&d.lock);
	CU_ASSERT_EQUAL(bigint_to_u64(&v, &cap), 0);
	CU_ASSERT_EQUAL(v, 32 * GIB);
	/* one that gets slashed after activation */
	devnet_util_proposal(&p, &client.addr, 1002, GIB, h + 2, h + 10, "1000",
			     "1" E18, "0", false);
	CU_ASSERT_EQUAL(publish(&p, &slashed, NULL, 0), 0);
	CU_ASSERT_EQUAL(market_slash(&d, slashed), EFS_EINVAL);
	tick(1);
	CU_ASSERT_EQUAL(market_activate(&d, slashed, 1), 0);
	tick(2);
	CU_ASSERT_EQUAL(market_deal_get(&d, &m, late), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(market_activate(&d, late, 1), EFS_ENOTFOUND);
	pthread_mutex_lock(&d.lock);
	CU_ASSERT_EQUAL(chain_datacap_get_locked(&d, &cap, &is,
						 CHAIN_FIRST_ACCOUNT_ID), 0);
	pthread_mutex_unlock(&d.lock);
	CU_ASSERT_EQUAL(bigint_to_u64(&v, &cap), 0);
	CU_ASSERT_EQUAL(v, 64 * GIB);
	expect_escrow(1001, "999000000000000000000", "0");
	if (market_slash(&d, slashed) != 0) {
		fprintf(stderr, "slash: %s\n", efs_error_msg());
		CU_FAIL("market_slash");
	}
	CU_ASSERT_EQUAL(market_slash(&d, slashed), EFS_EINVAL);
	CU_ASSERT_EQUAL(market_deal_get(&d, &m, slashed), 0);
	CU_ASSERT_EQUAL(m.slash_epoch, h + 3);
	/* paid for 1 epoch (h+2 .. h+3) */
	expect_escrow(1002, "999000000000000001000", "0");
	expect_escrow(CHAIN_FIRST_ACCOUNT_ID, "8989999999999999000", "0");
	/* two collaterals, and the gas of the five messages before */
	expect_balance(&burnt, "2000000002048800000");
	tick(8);
	CU_ASSERT_EQUAL(market_deal_get(&d, &m, slashed), EFS_ENOTFOUND);
}

static void test_chain__faults(void)
{
	struct devnet_fault f = { 0 };
	json_t *j;

	j = json_loads("{\"reject_pct\":50,\"offline\":true}", 0, NULL);
	CU_ASSERT_EQUAL(devnet_fault_from_json(&f, j), 0);
	json_decref(j);
	CU_ASSERT_EQUAL(f.reject_pct, 50);
	CU_ASSERT_TRUE(f.offline);
	CU_ASSERT_EQUAL(devnet_fault_set(&d, &d.miners[1], &f), 0);
	j = json_loads("{\"reject_pct\":101}", 0, NULL);
	CU_ASSERT_EQUAL(devnet_fault_from_json(&f, j), EFS_EINVAL);
	json_decref(j);
	j = json_loads("{\"bogus\":1}", 0, NULL);
	CU_ASSERT_EQUAL(devnet_fault_from_json(&f, j), EFS_EINVAL);
	json_decref(j);
	j = json_loads("{\"offline\":1}", 0, NULL);
	CU_ASSERT_EQUAL(devnet_fault_from_json(&f, j), EFS_EINVAL);
	json_decref(j);
	CU_ASSERT_EQUAL(devnet_fault_parse_apply(&d, "f01002", 6,
						 "{\"slow_ms\":250}"), 0);
	CU_ASSERT_EQUAL(devnet_fault_parse_apply(&d, "f01009", 6, "{}"),
			EFS_EINVAL);
	CU_ASSERT_EQUAL(devnet_fault_parse_apply(&d, "f01002", 6, "{"),
			EFS_EINVAL);
}

/* Close and open again: everything is where it was. */
static void test_chain__resume(void)
{
	char peer[DEVNET_PEER_ID_MAX];
	struct filaddr worker;
	struct devnet_fault f;
	int64_t h = chain_head(&d);

	memcpy(peer, d.miners[2].peer_id, sizeof(peer));
	worker = d.miners[2].worker.addr;
	d.miners[2].port = 4321;
	CU_ASSERT_EQUAL(devnet_miner_save_port(&d, &d.miners[2]), 0);
	devnet_close(&d);
	open_devnet();
	CU_ASSERT_EQUAL(chain_head(&d), h);
	CU_ASSERT_STRING_EQUAL(d.miners[2].peer_id, peer);
	CU_ASSERT_TRUE(filaddr_equal(&d.miners[2].worker.addr, &worker));
	CU_ASSERT_EQUAL(d.miners[2].port, 4321);
	devnet_fault_get(&d, &d.miners[1], &f);
	CU_ASSERT_EQUAL(f.reject_pct, 50);
	CU_ASSERT_TRUE(f.offline);
	devnet_fault_get(&d, &d.miners[2], &f);
	CU_ASSERT_EQUAL(f.slow_ms, 250);
	expect_escrow(CHAIN_FIRST_ACCOUNT_ID, "8989999999999999000", "0");
	tick(1);
	CU_ASSERT_EQUAL(chain_head(&d), h + 1);
}

static CU_TestInfo chain_tests[] = {
	{ "genesis", test_chain__genesis },
	{ "faucet", test_chain__faucet },
	{ "messages", test_chain__messages },
	{ "deal_life", test_chain__deal_life },
	{ "refusals", test_chain__refusals },
	{ "missed_start_and_slash", test_chain__missed_start_and_slash },
	{ "faults", test_chain__faults },
	{ "resume", test_chain__resume },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "chain", .pInitFunc = setup,
	       .pCleanupFunc = teardown, .pTests = chain_tests })
