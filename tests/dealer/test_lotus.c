/*
 * test_lotus.c - the Lotus client against the real devnet
 * ($DEVNET_BIN on an ephemeral loopback port, 100 ms epochs) and
 * against a fake server (net/http.h, in-process) that answers what a
 * broken or hostile node might: every typed call on good input, batches
 * with mixed outcomes and in chunks, tokens (none, read-only, refused),
 * a dead endpoint, and garbage, wrong types, huge bodies, a wrong id,
 * HTTP 500, a timeout, a dropped connection: each a clean error.
 *
 * A deal on chain for StateMarketStorageDeal comes from the devnet's
 * own deal client ($DEAL_CLIENT, or devnet-deal-client beside the
 * devnet in the build tree), which makes one through Curio's mk12.
 */
#include "dealer/lotus.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/filjson.h"
#include "core/filkey.h"
#include "dealer/lotus_decode.h"
#include "net/http.h"
#include "net/httpc.h"
#include "tests/devnet/devnet_util.h"
#include "tests/net/netfx.h"
#include "tests/harness.h"

#define NSPS 2

static char *tmp;
static struct devnet_util_proc dn;
static struct lotus *l;           /* admin token */

/* ---- helpers ---- */

/* A new key with amount attoFIL from the faucet. */
static void funded_key(struct filkey *k, const char *amount)
{
	CU_ASSERT_EQUAL_FATAL(filkey_generate(k), 0);
	CU_ASSERT_EQUAL_FATAL(devnet_util_faucet(&dn, &k->addr, amount), 0);
}

static bool amount_is(const struct bigint *a, const char *dec)
{
	struct bigint b;

	return bigint_parse(&b, dec, strlen(dec)) == 0 &&
	       bigint_cmp(a, &b) == 0;
}

/* ---- suite ---- */

static int setup(void)
{
	char d[600];

	json_set_alloc_funcs(efs_malloc, efs_free);
	if (httpc_global_init() < 0 || !(tmp = harness_tmpdir()))
		return 1;
	snprintf(d, sizeof(d), "%s/devnet", tmp);
	if (devnet_util_start(&dn, d, "100ms", NSPS, NULL) < 0)
		return 1;
	return lotus_open(&l, dn.rpc, dn.token) < 0;
}

static int teardown(void)
{
	lotus_close(l);
	devnet_util_stop(&dn, false);
	harness_tmpdir_free(tmp);
	return 0;
}

/* ---- endpoints ---- */

static void test_lotus__open(void)
{
	static const char *const bad_urls[] = {
		"", "127.0.0.1:1234/rpc/v1", "ws://127.0.0.1:1234/rpc/v1",
		"http://a b/rpc/v1", "http://a\n/rpc/v1",
	};
	struct lotus *x;
	char big[LOTUS_TOKEN_MAX + 2];

	for (size_t i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++) {
		CU_ASSERT_EQUAL(lotus_open(&x, bad_urls[i], NULL), EFS_EINVAL);
		CU_ASSERT_PTR_NULL(x);
	}
	CU_ASSERT_EQUAL(lotus_open(&x, dn.rpc, "a.b\r\nX-Evil: 1"), EFS_EINVAL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CU_ASSERT_EQUAL(lotus_open(&x, dn.rpc, big), EFS_EINVAL);
	CU_ASSERT_EQUAL_FATAL(lotus_open(&x, "https://node.example/rpc/v1",
					 ""), 0);
	CU_ASSERT_STRING_EQUAL(lotus_url(x), "https://node.example/rpc/v1");
	CU_ASSERT_EQUAL(lotus_requests(x), 0);
	lotus_close(x);
	lotus_close(NULL);
}

static void test_lotus__open_info(void)
{
	static const char *const good[][2] = {
		{ "eyJh.eyJB.sig:/ip4/127.0.0.1/tcp/1234/http",
		  "http://127.0.0.1:1234/rpc/v1" },
		{ "/ip4/10.0.0.1/tcp/1234", "http://10.0.0.1:1234/rpc/v1" },
		{ "t:/ip6/::1/tcp/80/https\n", "https://[::1]:80/rpc/v1" },
		{ "t:/dns4/node.example/tcp/443/wss",
		  "https://node.example:443/rpc/v1" },
		{ "t:/dns/n/tcp/1/ws", "http://n:1/rpc/v1" },
		{ "http://h:1", "http://h:1/rpc/v1" },
		{ "t:https://h:1/", "https://h:1/rpc/v1" },
		{ "ws://h:1/rpc/v0", "http://h:1/rpc/v0" },
	};
	static const char *const bad[] = {
		"", "token-only", "t:", "t:/ip4/1.2.3.4/udp/1/http",
		"t:/ip4/1.2.3.4/tcp/0/http", "t:/ip4/1.2.3.4/tcp/65536",
		"t:/ip4/1.2.3.4/tcp/01", "t:/ip4/1.2.3.4/tcp/1/quic",
		"t:/ip4/1.2.3.4/tcp/1/http/x", "t:/ip4//tcp/1",
		"t:/unix/x/tcp/1", "t:ftp://h:1",
	};
	struct lotus *x;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(lotus_open_info(&x, good[i][0]), 0);
		CU_ASSERT_STRING_EQUAL(lotus_url(x), good[i][1]);
		lotus_close(x);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		x = NULL;
		CU_ASSERT_EQUAL(lotus_open_info(&x, bad[i]), EFS_EINVAL);
		CU_ASSERT_PTR_NULL(x);
		CU_ASSERT(strncmp(efs_error_msg(), "lotus: ", 7) == 0);
	}
	CU_ASSERT_EQUAL(lotus_open_info(&x, NULL), EFS_EINVAL);
}

/* What the devnet writes: <dir>/api with <dir>/token, as Lotus' repo. */
static void test_lotus__devnet_api_info(void)
{
	char api[256], info[3000];
	struct lotus *x;
	int64_t h;

	CU_ASSERT_EQUAL_FATAL(devnet_util_read_text(api, sizeof(api), dn.dir,
						    "api"), 0);
	snprintf(info, sizeof(info), "%s:%s", dn.token, api);
	CU_ASSERT_EQUAL_FATAL(lotus_open_info(&x, info), 0);
	CU_ASSERT_STRING_EQUAL(lotus_url(x), dn.rpc);
	CU_ASSERT_EQUAL(lotus_chain_head(&h, x), 0);
	CU_ASSERT_EQUAL(lotus_requests(x), 1);
	CU_ASSERT_EQUAL(lotus_calls(x), 1);
	lotus_close(x);
}

/* ---- typed calls on the devnet ---- */

static void test_lotus__chain(void)
{
	int64_t h1, h2;
	json_t *v;

	CU_ASSERT_EQUAL_FATAL(lotus_chain_head(&h1, l), 0);
	CU_ASSERT(h1 >= 0);
	usleep(300000);
	CU_ASSERT_EQUAL(lotus_chain_head(&h2, l), 0);
	CU_ASSERT(h2 > h1);
	/* the generic call */
	CU_ASSERT_EQUAL_FATAL(lotus_call(&v, l, "StateNetworkName", NULL), 0);
	CU_ASSERT(json_is_string(v));
	json_decref(v);
	CU_ASSERT_EQUAL(lotus_call(&v, l, "ChainHead", json_object()),
			EFS_EINVAL);
	CU_ASSERT_PTR_NULL(v);
}

static void test_lotus__miners(void)
{
	struct lotus_miner_info mi;
	struct filaddr *m;
	size_t n;

	CU_ASSERT_EQUAL_FATAL(lotus_list_miners(&m, &n, l), 0);
	CU_ASSERT_EQUAL_FATAL(n, NSPS);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *b;

		CU_ASSERT_EQUAL(m[i].protocol, FILADDR_ID);
		CU_ASSERT_EQUAL_FATAL(lotus_miner_info(&mi, l, &m[i]), 0);
		CU_ASSERT_EQUAL(mi.worker.protocol, FILADDR_ID);
		CU_ASSERT(strncmp(mi.peer_id, "12D3KooW", 8) == 0);
		CU_ASSERT(mi.sector_size >= 2048);
		/* /ip4/127.0.0.1/tcp/PORT/http */
		CU_ASSERT_EQUAL_FATAL(mi.nmultiaddrs, 1);
		CU_ASSERT_EQUAL_FATAL(mi.multiaddrs[0].len, 10);
		b = mi.multiaddrs[0].bytes;
		CU_ASSERT(memcmp(b, "\x04\x7f\x00\x00\x01\x06", 6) == 0);
		CU_ASSERT(b[6] << 8 | b[7]);
		CU_ASSERT(b[8] == 0xe0 && b[9] == 0x03);
		lotus_miner_info_release(&mi);
	}
	/* not a miner: Lotus' error, nothing to release */
	filaddr_init_id(&m[0], 5);
	CU_ASSERT(lotus_miner_info(&mi, l, &m[0]) < 0);
	CU_ASSERT(strncmp(efs_error_msg(), "lotus: Filecoin.StateMinerInfo: ",
			  32) == 0);
	CU_ASSERT_PTR_NULL(mi.multiaddrs);
	efs_free(m);
}

static void test_lotus__balances(void)
{
	struct bigint a, b;
	struct filaddr id, unknown;
	struct filkey k, fresh;
	uint64_t nonce;
	bool verified;

	funded_key(&k, "100000000000000000000");
	CU_ASSERT_EQUAL(lotus_wallet_balance(&a, l, &k.addr), 0);
	CU_ASSERT(amount_is(&a, "100000000000000000000"));
	CU_ASSERT_EQUAL(lotus_lookup_id(&id, l, &k.addr), 0);
	CU_ASSERT_EQUAL(id.protocol, FILADDR_ID);
	CU_ASSERT(id.id >= 1000);
	CU_ASSERT_EQUAL(lotus_nonce(&nonce, l, &k.addr), 0);
	CU_ASSERT_EQUAL(nonce, 0);
	CU_ASSERT_EQUAL(lotus_market_balance(&a, &b, l, &k.addr), 0);
	CU_ASSERT(bigint_is_zero(&a) && bigint_is_zero(&b));
	CU_ASSERT_EQUAL(lotus_datacap(&a, &verified, l, &k.addr), 0);
	CU_ASSERT(!verified);
	CU_ASSERT(bigint_is_zero(&a));
	CU_ASSERT_EQUAL_FATAL(devnet_util_datacap(&dn, &k.addr, "1048576"), 0);
	CU_ASSERT_EQUAL(lotus_datacap(&a, &verified, l, &id), 0);
	CU_ASSERT(verified);
	CU_ASSERT(amount_is(&a, "1048576"));

	/* an address the chain has never seen */
	CU_ASSERT_EQUAL_FATAL(filkey_generate(&fresh), 0);
	unknown = fresh.addr;
	CU_ASSERT_EQUAL(lotus_wallet_balance(&a, l, &unknown), 0);
	CU_ASSERT(bigint_is_zero(&a));
	CU_ASSERT_EQUAL(lotus_lookup_id(&id, l, &unknown), EFS_ENOTFOUND);
	CU_ASSERT(strstr(efs_error_msg(), "actor not found (code 1)") != NULL);
	CU_ASSERT_EQUAL(lotus_market_balance(&a, &b, l, &unknown),
			EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(lotus_datacap(&a, &verified, l, &unknown),
			EFS_ENOTFOUND);
	filkey_release(&fresh);
	filkey_release(&k);
}

static void test_lotus__collateral(void)
{
	struct bigint min, max;

	CU_ASSERT_EQUAL(lotus_collateral_bounds(&min, &max, l, 2048, false), 0);
	CU_ASSERT(bigint_cmp(&min, &max) <= 0);
	CU_ASSERT_EQUAL(lotus_collateral_bounds(&min, &max, l, 1u << 30, true),
			0);
	CU_ASSERT(!bigint_is_zero(&max));
}

/* A Send of 1 attoFIL from k to itself, gas estimated, signed. */
static void signed_send(struct filmsg_signed *sm, const struct filkey *k,
			uint64_t nonce)
{
	uint8_t cb[CID_BYTES_MAX];
	struct filsig sig;
	struct cid id;

	memset(sm, 0, sizeof(*sm));
	filmsg_init(&sm->msg);
	sm->msg.to = k->addr;
	sm->msg.from = k->addr;
	sm->msg.nonce = nonce;
	bigint_from_u64(&sm->msg.value, 1);
	CU_ASSERT_EQUAL_FATAL(lotus_gas_estimate(&sm->msg, l), 0);
	CU_ASSERT(sm->msg.gas_limit > 0);
	CU_ASSERT(!bigint_is_zero(&sm->msg.gas_fee_cap));
	CU_ASSERT_EQUAL_FATAL(filmsg_cid(&id, &sm->msg), 0);
	CU_ASSERT_EQUAL_FATAL(filkey_sign(&sig, k, cb, cid_to_bytes(cb, &id)),
			      0);
	filmsg_sig_from_filsig(&sm->sig, &sig);
}

static void test_lotus__messages(void)
{
	struct lotus_receipt r;
	struct filmsg_signed sm;
	struct filkey k;
	struct cid c, want, unknown;
	uint64_t nonce;
	bool found;

	funded_key(&k, "10000000000000000000");
	CU_ASSERT_EQUAL_FATAL(lotus_nonce(&nonce, l, &k.addr), 0);
	signed_send(&sm, &k, nonce);
	CU_ASSERT_EQUAL_FATAL(lotus_mpool_push(&c, l, &sm), 0);
	CU_ASSERT_EQUAL(filmsg_signed_cid(&want, &sm), 0);
	CU_ASSERT(cid_equal(&c, &want));
	CU_ASSERT_EQUAL(lotus_nonce(&nonce, l, &k.addr), 0);
	CU_ASSERT_EQUAL(nonce, 1);
	/* pending: known, not found yet (or just landed) */
	CU_ASSERT_EQUAL(lotus_search_msg(&r, &found, l, &c), 0);
	CU_ASSERT_EQUAL(lotus_wait_msg(&r, l, &c, 1, 20000), 0);
	CU_ASSERT_EQUAL(r.exit_code, 0);
	CU_ASSERT(r.gas_used > 0);
	CU_ASSERT(cid_equal(&r.msg, &c));
	CU_ASSERT_EQUAL(lotus_search_msg(&r, &found, l, &c), 0);
	CU_ASSERT(found);
	CU_ASSERT(r.height > 0);
	/* far too much confidence asked for */
	CU_ASSERT_EQUAL(lotus_wait_msg(&r, l, &c, 100000, 300), EFS_ETIMEDOUT);
	/* a message the node never saw */
	unknown = c;
	unknown.digest[5] ^= 1;
	CU_ASSERT_EQUAL(lotus_search_msg(&r, &found, l, &unknown),
			EFS_ENOTFOUND);
	CU_ASSERT(!found);
	CU_ASSERT_EQUAL(lotus_wait_msg(&r, l, &unknown, 1, 5000),
			EFS_ENOTFOUND);
	filmsg_signed_release(&sm);
	/* another message with a used nonce: the node refuses it */
	signed_send(&sm, &k, 0);
	sm.msg.value.w[0] = 2;
	CU_ASSERT_EQUAL(lotus_mpool_push(&c, l, &sm), EFS_ERROR);
	CU_ASSERT(strncmp(efs_error_msg(), "lotus: Filecoin.MpoolPush: ",
			  27) == 0);
	filmsg_signed_release(&sm);
	filkey_release(&k);
}

/* A sealed deal made by the deal client; its ID. */
static uint64_t make_deal(void)
{
	char out[4096], *car = harness_data_path("car/carv1-basic.car");
	const char *argv[] = { getenv("DEAL_CLIENT"), "--api", dn.api,
			       "--token", dn.token, "--car", car, "--miner",
			       "f01000", "--timeout", "60", NULL };
	const char *p;
	int rc;

	rc = devnet_util_run(out, sizeof(out), argv);
	free(car);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	p = strstr(out, "deal_id ");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	return strtoull(p + 8, NULL, 10);
}

static void test_lotus__market_deals(void)
{
	struct lotus_market_deal d, ds[3];
	uint64_t id = make_deal(), ids[3];
	int rcs[3];
	uint64_t req;

	CU_ASSERT_EQUAL_FATAL(lotus_market_deal(&d, l, id), 0);
	CU_ASSERT_EQUAL(d.piece_size, 1024);
	CU_ASSERT_EQUAL(d.provider.id, 1000);
	CU_ASSERT_EQUAL(d.client.protocol, FILADDR_ID);
	CU_ASSERT(!d.verified);
	CU_ASSERT(d.label_len > 0);
	CU_ASSERT(d.end_epoch - d.start_epoch == 518400);
	CU_ASSERT(d.sector_start_epoch > 0);
	CU_ASSERT_EQUAL(d.slash_epoch, -1);
	CU_ASSERT(!bigint_is_zero(&d.provider_collateral));

	CU_ASSERT_EQUAL(lotus_market_deal(&d, l, 999999), EFS_ENOTFOUND);
	CU_ASSERT(strstr(efs_error_msg(), "deal 999999 not found") != NULL);

	ids[0] = id;
	ids[1] = 999999;
	ids[2] = id;
	req = lotus_requests(l);
	CU_ASSERT_EQUAL(lotus_market_deals(ds, rcs, l, ids, 3), 0);
	CU_ASSERT_EQUAL(lotus_requests(l), req + 1);
	CU_ASSERT_EQUAL(rcs[0], 0);
	CU_ASSERT_EQUAL(rcs[1], EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(rcs[2], 0);
	CU_ASSERT(cid_equal(&ds[0].piece_cid, &d.piece_cid) ||
		  cid_equal(&ds[2].piece_cid, &ds[0].piece_cid));
	CU_ASSERT_EQUAL(ds[2].sector_start_epoch, ds[0].sector_start_epoch);
}

/* ---- batches ---- */

static void test_lotus__batch(void)
{
	struct lotus_batch *b;
	json_t *v;
	int64_t h;
	uint64_t req = lotus_requests(l), calls = lotus_calls(l);

	CU_ASSERT_EQUAL_FATAL(lotus_batch_new(&b), 0);
	CU_ASSERT_EQUAL(lotus_batch_add(b, "ChainHead", NULL), 0);
	CU_ASSERT_EQUAL(lotus_batch_add(b, "StateMarketStorageDeal",
					json_pack("[I, n]",
						  (json_int_t)424242)), 1);
	CU_ASSERT_EQUAL(lotus_batch_add(b, "NoSuchMethod", NULL), 2);
	CU_ASSERT_EQUAL(lotus_batch_add(b, "StateLookupID",
					json_pack("[s, n]", "f01000")), 3);
	CU_ASSERT_EQUAL(lotus_batch_add(b, "StateLookupID",
					json_pack("[s, n]", "f1nope")), 4);
	CU_ASSERT_EQUAL(lotus_batch_add(b, "ChainHead", json_pack("[i]", 1)),
			5);
	CU_ASSERT_EQUAL(lotus_batch_result(&v, b, 0), EFS_EINVAL);
	CU_ASSERT_EQUAL_FATAL(lotus_batch_run(l, b), 0);
	CU_ASSERT_EQUAL(lotus_requests(l), req + 1);
	CU_ASSERT_EQUAL(lotus_calls(l), calls + 6);

	CU_ASSERT_EQUAL(lotus_batch_result(&v, b, 0), 0);
	CU_ASSERT_EQUAL(lotus_decode_head(&h, v), 0);
	CU_ASSERT_EQUAL(lotus_batch_result(&v, b, 1), EFS_ENOTFOUND);
	CU_ASSERT_PTR_NULL(v);
	CU_ASSERT_EQUAL(lotus_batch_result(&v, b, 2), EFS_EUNSUPPORTED);
	CU_ASSERT(strstr(efs_error_msg(), "Filecoin.NoSuchMethod") != NULL);
	CU_ASSERT_EQUAL(lotus_batch_result(&v, b, 3), 0);
	CU_ASSERT_STRING_EQUAL(json_string_value(v), "f01000");
	/* a parameter that does not decode: -32700 */
	CU_ASSERT_EQUAL(lotus_batch_result(&v, b, 4), EFS_ERROR);
	CU_ASSERT(strstr(efs_error_msg(), "(code -32700)") != NULL);
	/* wrong parameter count: -32602 */
	CU_ASSERT_EQUAL(lotus_batch_result(&v, b, 5), EFS_ERROR);
	CU_ASSERT(strstr(efs_error_msg(), "(code -32602)") != NULL);

	/* run again: only the new call is sent */
	CU_ASSERT_EQUAL(lotus_batch_add(b, "ChainHead", NULL), 6);
	CU_ASSERT_EQUAL(lotus_batch_run(l, b), 0);
	CU_ASSERT_EQUAL(lotus_calls(l), calls + 7);
	CU_ASSERT_EQUAL(lotus_batch_result(&v, b, 6), 0);
	CU_ASSERT_EQUAL(lotus_batch_count(b), 7);
	lotus_batch_free(b);
	lotus_batch_free(NULL);
}

static void test_lotus__batch_chunks(void)
{
	struct lotus_limits lim = { .batch_max = 3 };
	struct lotus_batch *b;
	struct lotus *x;
	json_t *v;

	CU_ASSERT_EQUAL_FATAL(lotus_open(&x, dn.rpc, dn.token), 0);
	lotus_set_limits(x, &lim);
	CU_ASSERT_EQUAL_FATAL(lotus_batch_new(&b), 0);
	for (int i = 0; i < 10; i++)
		CU_ASSERT_EQUAL(lotus_batch_add(b, "ChainHead", NULL), i);
	CU_ASSERT_EQUAL(lotus_batch_run(x, b), 0);
	CU_ASSERT_EQUAL(lotus_requests(x), 4);
	CU_ASSERT_EQUAL(lotus_calls(x), 10);
	for (size_t i = 0; i < 10; i++) {
		CU_ASSERT_EQUAL(lotus_batch_result(&v, b, i), 0);
		CU_ASSERT(json_is_object(v));
	}
	lotus_batch_free(b);
	lotus_close(x);
}

/* ---- tokens ---- */

static void push_fails_with_perm(struct lotus *x)
{
	struct filmsg_signed sm;
	struct filkey k;
	struct cid c;

	funded_key(&k, "1000000000000000000");
	signed_send(&sm, &k, 0);
	CU_ASSERT_EQUAL(lotus_mpool_push(&c, x, &sm), EFS_EINVAL);
	CU_ASSERT(strstr(efs_error_msg(), "need 'write'") != NULL);
	CU_ASSERT(strstr(efs_error_msg(), "create-token --perm write") !=
		  NULL);
	filmsg_signed_release(&sm);
	filkey_release(&k);
}

static void test_lotus__tokens(void)
{
	char tok[2048];
	struct lotus *x;
	int64_t h;

	/* none: read only */
	CU_ASSERT_EQUAL_FATAL(lotus_open(&x, dn.rpc, NULL), 0);
	CU_ASSERT_EQUAL(lotus_chain_head(&h, x), 0);
	push_fails_with_perm(x);
	lotus_close(x);
	/* a read token */
	CU_ASSERT_EQUAL_FATAL(devnet_util_token(tok, sizeof(tok), &dn, "read"),
			      0);
	CU_ASSERT_EQUAL_FATAL(lotus_open(&x, dn.rpc, tok), 0);
	CU_ASSERT_EQUAL(lotus_chain_head(&h, x), 0);
	push_fails_with_perm(x);
	lotus_close(x);
	/* a refused token: HTTP 401 */
	CU_ASSERT_EQUAL_FATAL(lotus_open(&x, dn.rpc, "eyJh.eyJi.c2ln"), 0);
	CU_ASSERT_EQUAL(lotus_chain_head(&h, x), EFS_EINVAL);
	CU_ASSERT(strstr(efs_error_msg(), "HTTP 401") != NULL);
	CU_ASSERT(strstr(efs_error_msg(), "refused the API token") != NULL);
	lotus_close(x);
}

/* ---- threads ---- */

static void *hammer(void *payload)
{
	struct lotus *x = payload;
	int64_t h;
	long bad = 0;

	for (int i = 0; i < 20; i++)
		bad += lotus_chain_head(&h, x) != 0;
	return (void *)bad;
}

static void test_lotus__threads(void)
{
	pthread_t t[4];
	struct lotus *x;
	void *bad;

	CU_ASSERT_EQUAL_FATAL(lotus_open(&x, dn.rpc, dn.token), 0);
	for (int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, hammer, x),
				      0);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], &bad);
		CU_ASSERT_PTR_NULL(bad);
	}
	CU_ASSERT_EQUAL(lotus_requests(x), 80);
	CU_ASSERT_EQUAL(lotus_calls(x), 80);
	lotus_close(x);
}

/* ---- broken endpoints ---- */

static void test_lotus__dead_endpoint(void)
{
	struct lotus_batch *b;
	char u[128];
	struct lotus *x;
	json_t *v;
	int64_t h;

	snprintf(u, sizeof(u), "http://127.0.0.1:%u/rpc/v1", netfx_dead_port());
	CU_ASSERT_EQUAL_FATAL(lotus_open(&x, u, NULL), 0);
	CU_ASSERT_EQUAL(lotus_chain_head(&h, x), EFS_EIO);
	CU_ASSERT(strncmp(efs_error_msg(), "lotus: Filecoin.ChainHead: ",
			  27) == 0);
	/* a batch stops at its first failed request */
	lotus_set_limits(x, &(struct lotus_limits){ .batch_max = 2 });
	CU_ASSERT_EQUAL_FATAL(lotus_batch_new(&b), 0);
	for (int i = 0; i < 5; i++)
		lotus_batch_add(b, "ChainHead", NULL);
	CU_ASSERT_EQUAL(lotus_batch_run(x, b), EFS_EIO);
	CU_ASSERT_EQUAL(lotus_requests(x), 2);
	for (size_t i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(lotus_batch_result(&v, b, i), EFS_EIO);
	lotus_batch_free(b);
	lotus_close(x);
}

/* The fake node: answers by mode. */
enum fake_mode {
	FAKE_GOOD, FAKE_GARBAGE, FAKE_EMPTY, FAKE_WRONG_TYPES, FAKE_HUGE,
	FAKE_WRONG_ID, FAKE_500_TEXT, FAKE_500_RPC, FAKE_403, FAKE_SLOW,
	FAKE_DROP, FAKE_BATCH_SHORT, FAKE_BATCH_OBJECT, FAKE_DEEP,
	FAKE_WRONG_CID,
};

static volatile enum fake_mode fake_mode;

static void fake_reply(struct http_req *req, json_int_t id)
{
	char body[512];
	int n;

	switch (fake_mode) {
	case FAKE_WRONG_TYPES:
		n = snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":"
			     "%lld,\"result\":{\"Height\":\"12\"}}",
			     (long long)id);
		break;
	case FAKE_WRONG_ID:
		n = snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":"
			     "%lld,\"result\":{\"Height\":12}}",
			     (long long)id + 1);
		break;
	case FAKE_WRONG_CID:
		n = snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":"
			     "%lld,\"result\":{\"/\":\"bafy2bzacea3wsdh6y3a36t"
			     "b3skempjoxqpuyompjbmfeyf34fi3uy6uue42v4\"}}",
			     (long long)id);
		break;
	default:
		n = snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":"
			     "%lld,\"result\":{\"Height\":12}}\n",
			     (long long)id);
		break;
	}
	http_reply(req, 200, "application/json", body, (size_t)n);
}

static void fake_batch(struct http_req *req, const json_t *calls)
{
	json_t *out = json_array(), *c;
	size_t i, n = json_array_size(calls);

	if (fake_mode == FAKE_BATCH_OBJECT) {
		http_reply_text(req, 200, "{\"jsonrpc\":\"2.0\",\"id\":1,"
				"\"result\":1}");
		json_decref(out);
		return;
	}
	json_array_foreach(calls, i, c)
	{
		if (fake_mode == FAKE_BATCH_SHORT && i + 1 == n)
			break;
		json_array_append_new(out, json_pack(
			"{s:s, s:O, s:{s:i}}", "jsonrpc", "2.0", "id",
			json_object_get(c, "id"), "result", "Height", 5));
	}
	http_reply_json(req, 200, out);
	json_decref(out);
}

static void fake_handle(struct http_req *req, void *payload)
{
	size_t len;
	const uint8_t *body = http_req_body(req, &len);
	json_t *v = json_loadb((const char *)body, len, 0, NULL);
	char *big;

	(void)payload;
	switch (fake_mode) {
	case FAKE_GARBAGE:
		http_reply(req, 200, "text/html", "<html>hello", 11);
		break;
	case FAKE_EMPTY:
		http_reply(req, 200, "application/json", "", 0);
		break;
	case FAKE_HUGE:
		big = malloc(1 << 20);
		memset(big, ' ', 1 << 20);
		big[0] = '[';
		big[(1 << 20) - 1] = ']';
		http_reply(req, 200, "application/json", big, 1 << 20);
		free(big);
		break;
	case FAKE_500_TEXT:
		http_reply_text(req, 500, "internal\terror\nsecond line\n");
		break;
	case FAKE_500_RPC:
		http_reply_text(req, 500, "{\"jsonrpc\":\"2.0\",\"id\":null,"
				"\"error\":{\"code\":-32700,\"message\":"
				"\"Parse error\"}}");
		break;
	case FAKE_403:
		http_reply_text(req, 403, "forbidden\n");
		break;
	case FAKE_SLOW:
		usleep(1500000);
		http_reply_text(req, 200, "{}");
		break;
	case FAKE_DROP:
		http_drop(req);
		break;
	case FAKE_DEEP:
		/* deeper than jansson's nesting limit */
		big = malloc(60000);
		memset(big, '[', 60000);
		http_reply(req, 200, "application/json", big, 60000);
		free(big);
		break;
	default:
		if (json_is_array(v))
			fake_batch(req, v);
		else
			fake_reply(req, json_integer_value(
					       json_object_get(v, "id")));
	}
	json_decref(v);
}

static void expect(struct lotus *x, enum fake_mode mode, int rc,
		   const char *part)
{
	int64_t h = -1;

	fake_mode = mode;
	CU_ASSERT_EQUAL(lotus_chain_head(&h, x), rc);
	if (rc == 0)
		CU_ASSERT_EQUAL(h, 12);
	if (part && !strstr(efs_error_msg(), part)) {
		fprintf(stderr, "mode %d: '%s' lacks '%s'\n", (int)mode,
			efs_error_msg(), part);
		CU_FAIL("message");
	}
}

static void test_lotus__fake_node(void)
{
	struct lotus_limits lim = { .max_reply = 64 << 10,
				    .timeout_ms = 500 };
	struct http_server *srv;
	struct lotus_batch *b;
	struct filmsg_signed sm;
	struct lotus *x;
	char u[128];
	struct cid c;
	json_t *v;

	CU_ASSERT_EQUAL_FATAL(http_server_start(&srv, "127.0.0.1", 0, 0,
						fake_handle, NULL), 0);
	snprintf(u, sizeof(u), "http://127.0.0.1:%u/rpc/v1",
		 (unsigned)http_server_port(srv));
	CU_ASSERT_EQUAL_FATAL(lotus_open(&x, u, "a.b.c"), 0);
	lotus_set_limits(x, &lim);

	expect(x, FAKE_GOOD, 0, NULL);
	expect(x, FAKE_GARBAGE, EFS_ECORRUPT,
	       "lotus: Filecoin.ChainHead: reply is not json");
	expect(x, FAKE_EMPTY, EFS_ECORRUPT, "empty reply");
	expect(x, FAKE_WRONG_TYPES, EFS_ECORRUPT,
	       "lotus: ChainHead: Height: expected an integer");
	expect(x, FAKE_HUGE, EFS_ETOOBIG, "reply over 65536 bytes");
	expect(x, FAKE_WRONG_ID, EFS_ECORRUPT, "answers another call");
	expect(x, FAKE_500_TEXT, EFS_EIO, "HTTP 500 from http://127.0.0.1:");
	expect(x, FAKE_500_TEXT, EFS_EIO, ": internal?error");
	expect(x, FAKE_500_RPC, EFS_ERROR, "Parse error (code -32700)");
	expect(x, FAKE_403, EFS_EINVAL, "HTTP 403: the node refused");
	expect(x, FAKE_SLOW, EFS_ETIMEDOUT, "lotus: Filecoin.ChainHead: ");
	expect(x, FAKE_DROP, EFS_EIO, NULL);
	expect(x, FAKE_DEEP, EFS_ECORRUPT, NULL);
	expect(x, FAKE_GOOD, 0, NULL);

	/* batches */
	fake_mode = FAKE_GOOD;
	CU_ASSERT_EQUAL_FATAL(lotus_batch_new(&b), 0);
	lotus_batch_add(b, "ChainHead", NULL);
	lotus_batch_add(b, "ChainHead", NULL);
	CU_ASSERT_EQUAL(lotus_batch_run(x, b), 0);
	CU_ASSERT_EQUAL(lotus_batch_result(&v, b, 1), 0);
	fake_mode = FAKE_BATCH_SHORT;
	lotus_batch_add(b, "ChainHead", NULL);
	lotus_batch_add(b, "ChainHead", NULL);
	CU_ASSERT_EQUAL(lotus_batch_run(x, b), EFS_ECORRUPT);
	CU_ASSERT(strstr(efs_error_msg(), "batch of 2 calls got 1 replies") !=
		  NULL);
	CU_ASSERT_EQUAL(lotus_batch_result(&v, b, 1), 0);
	CU_ASSERT_EQUAL(lotus_batch_result(&v, b, 3), EFS_ECORRUPT);
	fake_mode = FAKE_BATCH_OBJECT;
	lotus_batch_add(b, "ChainHead", NULL);
	CU_ASSERT_EQUAL(lotus_batch_run(x, b), EFS_ECORRUPT);
	CU_ASSERT_EQUAL(lotus_batch_result(&v, b, 4), EFS_ECORRUPT);
	lotus_batch_free(b);

	/* a node that names a pushed message wrongly */
	fake_mode = FAKE_WRONG_CID;
	memset(&sm, 0, sizeof(sm));
	filmsg_init(&sm.msg);
	filaddr_init_id(&sm.msg.to, 5);
	filaddr_init_id(&sm.msg.from, 1234);
	sm.sig.type = FILSIG_SECP256K1;
	sm.sig.len = 65;
	CU_ASSERT_EQUAL(lotus_mpool_push(&c, x, &sm), EFS_ECORRUPT);
	CU_ASSERT(strstr(efs_error_msg(), "named the message") != NULL);

	lotus_close(x);
	http_server_stop(srv);
}

static CU_TestInfo lotus_tests[] = {
	{ "open", test_lotus__open },
	{ "open_info", test_lotus__open_info },
	{ "devnet_api_info", test_lotus__devnet_api_info },
	{ "chain", test_lotus__chain },
	{ "miners", test_lotus__miners },
	{ "balances", test_lotus__balances },
	{ "collateral", test_lotus__collateral },
	{ "messages", test_lotus__messages },
	{ "market_deals", test_lotus__market_deals },
	{ "batch", test_lotus__batch },
	{ "batch_chunks", test_lotus__batch_chunks },
	{ "tokens", test_lotus__tokens },
	{ "threads", test_lotus__threads },
	{ "dead_endpoint", test_lotus__dead_endpoint },
	{ "fake_node", test_lotus__fake_node },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "lotus", .pInitFunc = setup,
	       .pCleanupFunc = teardown, .pTests = lotus_tests })
