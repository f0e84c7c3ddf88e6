/*
 * test_funds.c - wallet balance, escrow and DataCap against the real
 * devnet ($DEVNET_BIN, 100 ms epochs): a new wallet (core/wallet in a
 * temporary repository) is seen as empty, refused a top-up with a
 * message saying to fund it, funded from the faucet (Devnet.Faucet),
 * tops up its escrow with signed AddBalance messages that land, and is
 * granted DataCap (Devnet.GrantDataCap); a read-only token cannot push.
 */
#include "dealer/funds.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/filkey.h"
#include "net/httpc.h"
#include "tests/devnet/devnet_util.h"
#include "tests/harness.h"

#define FIL "000000000000000000"

static char *tmp;
static struct devnet_util_proc dn;
static struct lotus *l;
static struct wallet *w;
static struct filaddr me;
static char me_s[FILADDR_STR_MAX];

static int setup(void)
{
	char d[600];

	json_set_alloc_funcs(efs_malloc, efs_free);
	if (httpc_global_init() < 0 || !(tmp = harness_tmpdir()))
		return 1;
	snprintf(d, sizeof(d), "%s/devnet", tmp);
	if (devnet_util_start(&dn, d, "100ms", 1, NULL) < 0)
		return 1;
	snprintf(d, sizeof(d), "%s/repo", tmp);
	if (lotus_open(&l, dn.rpc, dn.token) < 0 || wallet_open(&w, d) < 0 ||
	    wallet_new(&me, w) < 0)
		return 1;
	filaddr_format(me_s, &me, 'f');
	return 0;
}

static int teardown(void)
{
	wallet_close(w);
	lotus_close(l);
	devnet_util_stop(&dn, false);
	harness_tmpdir_free(tmp);
	return 0;
}

static void big(struct bigint *out, const char *dec)
{
	CU_ASSERT_EQUAL_FATAL(bigint_parse(out, dec, strlen(dec)), 0);
}

static bool amount_is(const struct bigint *a, const char *dec)
{
	struct bigint b;

	big(&b, dec);
	return bigint_cmp(a, &b) == 0;
}

/* Top up by amount and wait for it to land. */
static void top_up(const char *amount)
{
	struct lotus_receipt r;
	struct bigint a;
	struct cid c;

	big(&a, amount);
	CU_ASSERT_EQUAL_FATAL(funds_add_escrow(&c, l, w, &me, &a), 0);
	CU_ASSERT_EQUAL_FATAL(lotus_wait_msg(&r, l, &c, 1, 20000), 0);
	CU_ASSERT_EQUAL(r.exit_code, 0);
}

static void test_funds__empty(void)
{
	struct funds_status s;
	uint64_t req = lotus_requests(l), calls = lotus_calls(l);

	CU_ASSERT_EQUAL_FATAL(funds_status(&s, l, &me), 0);
	/* one request */
	CU_ASSERT_EQUAL(lotus_requests(l), req + 1);
	CU_ASSERT_EQUAL(lotus_calls(l), calls + 4);
	CU_ASSERT(filaddr_equal(&s.addr, &me));
	CU_ASSERT(bigint_is_zero(&s.balance));
	CU_ASSERT(bigint_is_zero(&s.escrow));
	CU_ASSERT(bigint_is_zero(&s.locked));
	CU_ASSERT(bigint_is_zero(&s.available));
	CU_ASSERT(bigint_is_zero(&s.datacap));
	CU_ASSERT(!s.verified_client);
	CU_ASSERT(s.height >= 0);
}

static void test_funds__refusals(void)
{
	char msg[256];
	struct filkey other;
	struct bigint a;
	struct cid c;

	/* nothing in the wallet */
	big(&a, "1" FIL);
	CU_ASSERT_EQUAL(funds_add_escrow(&c, l, w, &me, &a), EFS_EINVAL);
	snprintf(msg, sizeof(msg), "dealer: wallet %s has 0 FIL, short of ",
		 me_s);
	CU_ASSERT(strncmp(efs_error_msg(), msg, strlen(msg)) == 0);
	CU_ASSERT(strstr(efs_error_msg(), "fund it (devnet: ") != NULL);
	/* nothing to add */
	bigint_from_u64(&a, 0);
	CU_ASSERT_EQUAL(funds_add_escrow(&c, l, w, &me, &a), EFS_EINVAL);
	bigint_from_i64(&a, -5);
	CU_ASSERT_EQUAL(funds_add_escrow(&c, l, w, &me, &a), EFS_EINVAL);
	/* a key the wallet does not hold */
	CU_ASSERT_EQUAL_FATAL(filkey_generate(&other), 0);
	bigint_from_u64(&a, 1);
	CU_ASSERT_EQUAL(funds_add_escrow(&c, l, w, &other.addr, &a),
			EFS_EINVAL);
	CU_ASSERT(strstr(efs_error_msg(), "no key for") != NULL);
	filkey_release(&other);
}

static void test_funds__add_escrow(void)
{
	struct funds_status s;
	struct bigint want, need, max;

	CU_ASSERT_EQUAL_FATAL(devnet_util_faucet(&dn, &me, "10" FIL), 0);
	CU_ASSERT_EQUAL_FATAL(funds_status(&s, l, &me), 0);
	CU_ASSERT(amount_is(&s.balance, "10" FIL));
	CU_ASSERT(bigint_is_zero(&s.escrow));

	top_up("2" FIL);
	CU_ASSERT_EQUAL_FATAL(funds_status(&s, l, &me), 0);
	CU_ASSERT(amount_is(&s.escrow, "2" FIL));
	CU_ASSERT(amount_is(&s.available, "2" FIL));
	CU_ASSERT(bigint_is_zero(&s.locked));
	/* 10 FIL less 2 and the gas, which is less than 1 FIL */
	big(&max, "8" FIL);
	CU_ASSERT(bigint_cmp(&s.balance, &max) < 0);
	big(&max, "7" FIL);
	CU_ASSERT(bigint_cmp(&s.balance, &max) > 0);

	big(&want, "3" FIL);
	CU_ASSERT_EQUAL(funds_escrow_needed(&need, &s, &want), 0);
	CU_ASSERT(amount_is(&need, "1" FIL));
	big(&want, "1" FIL);
	CU_ASSERT_EQUAL(funds_escrow_needed(&need, &s, &want), 0);
	CU_ASSERT(bigint_is_zero(&need));

	/* a second message: the next nonce */
	top_up("1" FIL);
	CU_ASSERT_EQUAL_FATAL(funds_status(&s, l, &me), 0);
	CU_ASSERT(amount_is(&s.escrow, "3" FIL));

	/* more than the balance holds */
	big(&want, "100" FIL);
	CU_ASSERT_EQUAL(funds_add_escrow(&(struct cid){ 0 }, l, w, &me, &want),
			EFS_EINVAL);
	CU_ASSERT(strstr(efs_error_msg(), "short of 100 FIL for escrow: fund "
					  "it") != NULL);
	/* all of it, which leaves nothing for gas */
	CU_ASSERT_EQUAL_FATAL(funds_status(&s, l, &me), 0);
	CU_ASSERT_EQUAL(funds_add_escrow(&(struct cid){ 0 }, l, w, &me,
					 &s.balance), EFS_EINVAL);
	CU_ASSERT(strstr(efs_error_msg(), "for escrow and gas: fund it") !=
		  NULL);
}

static void test_funds__datacap(void)
{
	struct funds_status s;

	CU_ASSERT_EQUAL_FATAL(funds_status(&s, l, &me), 0);
	CU_ASSERT(!s.verified_client);
	CU_ASSERT_EQUAL(funds_datacap_check(&s, 2048), EFS_EINVAL);
	CU_ASSERT(strstr(efs_error_msg(), "is not a verified client") != NULL);
	CU_ASSERT_EQUAL_FATAL(devnet_util_datacap(&dn, &me, "1048576"), 0);
	CU_ASSERT_EQUAL_FATAL(funds_status(&s, l, &me), 0);
	CU_ASSERT(s.verified_client);
	CU_ASSERT(amount_is(&s.datacap, "1048576"));
	CU_ASSERT_EQUAL(funds_datacap_check(&s, 2048), 0);
	CU_ASSERT_EQUAL(funds_datacap_check(&s, 1048576), 0);
	CU_ASSERT_EQUAL(funds_datacap_check(&s, 2097152), EFS_EINVAL);
	CU_ASSERT(strstr(efs_error_msg(), "has 1048576 bytes of DataCap, "
					  "short of the 2097152") != NULL);
}

static void test_funds__read_token(void)
{
	char tok[2048];
	struct lotus *ro;
	struct bigint a;
	struct cid c;

	CU_ASSERT_EQUAL_FATAL(devnet_util_token(tok, sizeof(tok), &dn, "read"),
			      0);
	CU_ASSERT_EQUAL_FATAL(lotus_open(&ro, dn.rpc, tok), 0);
	bigint_from_u64(&a, 1000);
	CU_ASSERT_EQUAL(funds_add_escrow(&c, ro, w, &me, &a), EFS_EINVAL);
	CU_ASSERT(strstr(efs_error_msg(), "lotus auth create-token --perm "
					  "write") != NULL);
	lotus_close(ro);
}

static CU_TestInfo funds_tests[] = {
	{ "empty", test_funds__empty },
	{ "refusals", test_funds__refusals },
	{ "add_escrow", test_funds__add_escrow },
	{ "datacap", test_funds__datacap },
	{ "read_token", test_funds__read_token },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "funds", .pInitFunc = setup,
	       .pCleanupFunc = teardown, .pTests = funds_tests })
