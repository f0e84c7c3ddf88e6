/*
 * test_lotus_decode.c - the Lotus reply decoders without a network:
 * go-jsonrpc envelopes and batches, the error object and how it maps to
 * codes, and each typed result on Lotus' own shapes (the examples of
 * Lotus' documentation/en/api-methods-v1-stable.md, as quoted in
 * filecoin-apis.md §1.1, with a real base58 peer ID: the documentation's
 * "12D3KooWExamplePeer" is not base58) and on wrong types, missing
 * members and out of range values.  Every corrupt input must give
 * EFS_ECORRUPT naming the method; an allocation-failure loop runs over
 * the decoders.
 */
#include "dealer/lotus_decode.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "tests/harness.h"

static json_t *parse(const char *text)
{
	json_t *v = NULL;

	CU_ASSERT_EQUAL_FATAL(lotus_decode_parse(&v, text, strlen(text)), 0);
	return v;
}

/* ---- envelope ---- */

static void test_lotus_decode__reply(void)
{
	json_t *v = parse("{\"jsonrpc\":\"2.0\",\"result\":{\"Height\":42},"
			  "\"id\":7}\n");
	json_t *r;
	int64_t h;

	CU_ASSERT_EQUAL(lotus_decode_reply(&r, v, 7, "ChainHead"), 0);
	CU_ASSERT_EQUAL(lotus_decode_head(&h, r), 0);
	CU_ASSERT_EQUAL(h, 42);
	json_decref(r);
	/* another call's id */
	CU_ASSERT_EQUAL(lotus_decode_reply(&r, v, 8, "ChainHead"),
			EFS_ECORRUPT);
	CU_ASSERT(strstr(efs_error_msg(), "Filecoin.ChainHead") != NULL);
	json_decref(v);

	/* older go-jsonrpc omits a null result */
	v = parse("{\"jsonrpc\":\"2.0\",\"id\":3}");
	CU_ASSERT_EQUAL(lotus_decode_reply(&r, v, 3, "StateSearchMsg"), 0);
	CU_ASSERT_PTR_NULL(r);
	json_decref(v);
	v = parse("{\"jsonrpc\":\"2.0\",\"result\":null,\"id\":3}");
	CU_ASSERT_EQUAL(lotus_decode_reply(&r, v, 3, "StateSearchMsg"), 0);
	CU_ASSERT_PTR_NULL(r);
	json_decref(v);
}

static void test_lotus_decode__bad_envelope(void)
{
	static const char *const cases[] = {
		"[]",
		"42",
		"{\"result\":1,\"id\":1}",
		"{\"jsonrpc\":\"1.0\",\"result\":1,\"id\":1}",
		"{\"jsonrpc\":2.0,\"result\":1,\"id\":1}",
		"{\"jsonrpc\":\"2.0\",\"result\":1,\"id\":\"1\"}",
		"{\"jsonrpc\":\"2.0\",\"result\":1,\"id\":1.5}",
		"{\"jsonrpc\":\"2.0\",\"result\":1,\"id\":-1}",
		"{\"jsonrpc\":\"2.0\",\"result\":1}",
		"{\"jsonrpc\":\"2.0\",\"result\":1,\"id\":null}",
		("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":\"1\",\"message\":"
		 "\"x\"},\"id\":1}"),
		"{\"jsonrpc\":\"2.0\",\"error\":{\"code\":1},\"id\":1}",
		"{\"jsonrpc\":\"2.0\",\"error\":\"boom\",\"id\":1}",
	};
	json_t *v, *r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = parse(cases[i]);
		r = NULL;
		CU_ASSERT_EQUAL(lotus_decode_reply(&r, v, 1, "ChainHead"),
				EFS_ECORRUPT);
		CU_ASSERT_PTR_NULL(r);
		CU_ASSERT(strncmp(efs_error_msg(), "lotus: Filecoin.ChainHead",
				  25) == 0);
		json_decref(v);
	}
}

static void test_lotus_decode__not_json(void)
{
	static const char *const cases[] = {
		"", "{", "nul", "{\"a\":1,\"a\":2}", "{\"a\":1} x",
	};
	json_t *v;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CU_ASSERT_EQUAL(lotus_decode_parse(&v, cases[i],
						   strlen(cases[i])),
				EFS_ECORRUPT);
		CU_ASSERT_PTR_NULL(v);
	}
	/* go-jsonrpc ends with a newline; NULs in strings are fine */
	CU_ASSERT_EQUAL(lotus_decode_parse(&v, "{\"a\":\"x\\u0000y\"}\n", 17),
			0);
	json_decref(v);
}

/* ---- errors ---- */

static void test_lotus_decode__errors(void)
{
	static const struct {
		const char *error;
		int rc;
		const char *msg;
	} cases[] = {
		/* filecoin-apis.md §1 */
		{ "{\"code\":1,\"message\":\"resolution lookup failed "
		  "(f09999): actor not found\"}",
		  EFS_ENOTFOUND,
		  "lotus: Filecoin.M: resolution lookup failed (f09999): "
		  "actor not found (code 1)" },
		/* Lotus stmgr GetStorageDeal */
		{ "{\"code\":1,\"message\":\"deal 5 not found - deal may not "
		  "have completed sealing before deal proposal start epoch, "
		  "or deal may have been slashed\"}",
		  EFS_ENOTFOUND, NULL },
		{ "{\"code\":1,\"message\":\"failed to load message: ipld: "
		  "could not find bafy\"}",
		  EFS_ENOTFOUND, NULL },
		{ "{\"code\":1,\"message\":\"missing permission to invoke "
		  "'MpoolPush' (need 'write')\"}",
		  EFS_EINVAL,
		  "lotus: Filecoin.M: missing permission to invoke "
		  "'MpoolPush' (need 'write'): use an API token with 'write' "
		  "permission (lotus auth create-token --perm write)" },
		{ "{\"code\":-32601,\"message\":\"method 'Filecoin.M' not "
		  "found\"}",
		  EFS_EUNSUPPORTED, NULL },
		{ "{\"code\":-32602,\"message\":\"wrong param count\"}",
		  EFS_ERROR,
		  "lotus: Filecoin.M: wrong param count (code -32602)" },
		{ "{\"code\":1,\"message\":\"line\\nforged\\u0000\",\"data\":"
		  "{\"x\":1}}",
		  EFS_ERROR, "lotus: Filecoin.M: line forged  (code 1)" },
	};
	json_t *e;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		e = parse(cases[i].error);
		CU_ASSERT_EQUAL(lotus_decode_error(e, "M"), cases[i].rc);
		CU_ASSERT_EQUAL(efs_error_code(), cases[i].rc);
		if (cases[i].msg)
			CU_ASSERT_STRING_EQUAL(efs_error_msg(), cases[i].msg);
		json_decref(e);
	}
}

static void test_lotus_decode__error_reply(void)
{
	json_t *v, *r;

	/* an error wins over a result */
	v = parse("{\"jsonrpc\":\"2.0\",\"result\":5,\"error\":{\"code\":1,"
		  "\"message\":\"boom\"},\"id\":9}");
	CU_ASSERT_EQUAL(lotus_decode_reply(&r, v, 9, "X"), EFS_ERROR);
	CU_ASSERT_STRING_EQUAL(efs_error_msg(),
			       "lotus: Filecoin.X: boom (code 1)");
	json_decref(v);
	/* a parse error the server could not tie to a call: id null */
	v = parse("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":"
		  "-32700,\"message\":\"unexpected end of JSON input\"}}");
	CU_ASSERT_EQUAL(lotus_decode_reply(&r, v, 9, "X"), EFS_ERROR);
	CU_ASSERT(strstr(efs_error_msg(), "(code -32700)") != NULL);
	json_decref(v);
	/* a long message is cut */
	{
		char text[1200];
		char big[1000];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		snprintf(text, sizeof(text), "{\"jsonrpc\":\"2.0\",\"id\":1,"
			 "\"error\":{\"code\":1,\"message\":\"%s\"}}", big);
		v = parse(text);
		CU_ASSERT_EQUAL(lotus_decode_reply(&r, v, 1, "X"), EFS_ERROR);
		CU_ASSERT(strstr(efs_error_msg(), "...") != NULL);
		json_decref(v);
	}
}

/* ---- batches ---- */

static void entries(struct lotus_decode_entry *e, size_t n)
{
	memset(e, 0, n * sizeof(*e));
	for (size_t i = 0; i < n; i++)
		snprintf(e[i].method, sizeof(e[i].method), "M%zu", i);
}

static void test_lotus_decode__batch(void)
{
	struct lotus_decode_entry e[3];
	json_t *v;

	entries(e, 3);
	/* any order, mixed outcomes */
	v = parse("[{\"jsonrpc\":\"2.0\",\"id\":12,\"result\":\"c\"},"
		  "{\"jsonrpc\":\"2.0\",\"id\":10,\"result\":null},"
		  "{\"jsonrpc\":\"2.0\",\"id\":11,\"error\":{\"code\":1,"
		  "\"message\":\"deal 9 not found\"}}]");
	CU_ASSERT_EQUAL_FATAL(lotus_decode_batch(e, 3, v, 10), 0);
	CU_ASSERT_EQUAL(e[0].rc, 0);
	CU_ASSERT_PTR_NULL(e[0].result);
	CU_ASSERT_EQUAL(e[1].rc, EFS_ENOTFOUND);
	CU_ASSERT_STRING_EQUAL(e[1].msg, "lotus: Filecoin.M1: deal 9 not "
					 "found (code 1)");
	CU_ASSERT_EQUAL(e[2].rc, 0);
	CU_ASSERT_STRING_EQUAL(json_string_value(e[2].result), "c");
	for (size_t i = 0; i < 3; i++)
		lotus_decode_entry_release(&e[i]);
	json_decref(v);
}

static void test_lotus_decode__bad_batch(void)
{
	static const struct {
		const char *text;
		int rc;
	} cases[] = {
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1}",
		  EFS_ECORRUPT },
		{ "[]", EFS_ECORRUPT },
		{ "[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1}]",
		  EFS_ECORRUPT },
		/* a repeated id, an id not asked for */
		{ "[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1},"
		  "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1}]",
		  EFS_ECORRUPT },
		{ "[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1},"
		  "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":1}]",
		  EFS_ECORRUPT },
		{ "[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1},"
		  "{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":1}]",
		  EFS_ECORRUPT },
		{ "[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1}, 5]",
		  EFS_ECORRUPT },
		/* one error for the whole batch */
		{ "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":"
		  "-32700,\"message\":\"request bigger than maximum\"}}",
		  EFS_ERROR },
	};
	struct lotus_decode_entry e[2];
	json_t *v;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		entries(e, 2);
		v = parse(cases[i].text);
		CU_ASSERT_EQUAL(lotus_decode_batch(e, 2, v, 1), cases[i].rc);
		/* nothing kept */
		CU_ASSERT_PTR_NULL(e[0].result);
		CU_ASSERT_PTR_NULL(e[0].msg);
		CU_ASSERT_PTR_NULL(e[1].result);
		json_decref(v);
	}
}

/* ---- typed results ---- */

static const char miner_info[] =
	"{\"Owner\":\"f0100\",\"Worker\":\"f0101\",\"NewWorker\":\"<empty>\","
	"\"ControlAddresses\":[\"f0102\"],\"WorkerChangeEpoch\":-1,"
	"\"PeerId\":\"12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf\","
	"\"Multiaddrs\":[\"NgpzcC5leGFtcGxlBgG73gM=\"],"
	"\"WindowPoStProofType\":8,\"SectorSize\":34359738368,"
	"\"WindowPoStPartitionSectors\":2349,\"ConsensusFaultElapsed\":-1,"
	"\"PendingOwnerAddress\":null,\"Beneficiary\":\"f0100\","
	"\"BeneficiaryTerm\":{\"Quota\":\"0\",\"UsedQuota\":\"0\","
	"\"Expiration\":0},\"PendingBeneficiaryTerm\":null}";

static void test_lotus_decode__miner_info(void)
{
	/* /dns4/sp.example/tcp/443/wss, filecoin-apis.md §1.1 */
	static const uint8_t ma[] = { 0x36, 0x0a, 's', 'p', '.', 'e', 'x',
				      'a', 'm', 'p', 'l', 'e', 0x06, 0x01,
				      0xbb, 0xde, 0x03 };
	struct lotus_miner_info mi;
	json_t *v = parse(miner_info);

	CU_ASSERT_EQUAL_FATAL(lotus_decode_miner_info(&mi, v), 0);
	CU_ASSERT_EQUAL(mi.owner.id, 100);
	CU_ASSERT_EQUAL(mi.worker.protocol, FILADDR_ID);
	CU_ASSERT_EQUAL(mi.worker.id, 101);
	CU_ASSERT_STRING_EQUAL(mi.peer_id, "12D3KooWGzxzKZYveHXtpG6AsrUJBcWx"
					   "HBFS2HsEoGTxrMLvKXtf");
	CU_ASSERT_EQUAL(mi.sector_size, (uint64_t)34359738368);
	CU_ASSERT_EQUAL_FATAL(mi.nmultiaddrs, 1);
	CU_ASSERT_EQUAL(mi.multiaddrs[0].len, sizeof(ma));
	CU_ASSERT(memcmp(mi.multiaddrs[0].bytes, ma, sizeof(ma)) == 0);
	lotus_miner_info_release(&mi);
	/* PeerId and Multiaddrs may be null */
	json_object_set_new(v, "PeerId", json_null());
	json_object_set_new(v, "Multiaddrs", json_null());
	CU_ASSERT_EQUAL_FATAL(lotus_decode_miner_info(&mi, v), 0);
	CU_ASSERT_STRING_EQUAL(mi.peer_id, "");
	CU_ASSERT_EQUAL(mi.nmultiaddrs, 0);
	lotus_miner_info_release(&mi);
	json_decref(v);
}

/* Set member key of the object at path (NULL: the top) to the JSON
 * text repl ("-": remove it) in a copy of base, decode with fn. */
static json_t *mutate(const char *base, const char *path, const char *key,
		      const char *repl)
{
	json_t *v = parse(base), *o = path ? json_object_get(v, path) : v;

	if (strcmp(repl, "-") == 0)
		json_object_del(o, key);
	else
		json_object_set_new(o, key, parse(repl));
	return v;
}

static void test_lotus_decode__bad_miner_info(void)
{
	static const char *const cases[][2] = {
		{ "Worker", "-" },
		{ "Worker", "101" },
		{ "Worker", "\"x0101\"" },
		{ "Owner", "null" },
		{ "PeerId", "5" },
		{ "PeerId", "\"12D3 Koo\"" },
		{ "PeerId", "\"0OIl\"" },
		{ "PeerId", "\"\"" },
		{ "Multiaddrs", "\"NgpzcC5leGFtcGxlBgG73gM=\"" },
		{ "Multiaddrs", "[5]" },
		{ "Multiaddrs", "[\"!!!\"]" },
		{ "Multiaddrs", "[null]" },
		{ "Multiaddrs", "[\"\"]" },
		{ "Multiaddrs", "[\"NgpzcC5leGFtcGxlBgG73gM=\", \"??\"]" },
		{ "SectorSize", "-" },
		{ "SectorSize", "\"34359738368\"" },
		{ "SectorSize", "34359738368.0" },
		{ "SectorSize", "-2048" },
		{ "SectorSize", "0" },
		{ "SectorSize", "3000" },
	};
	struct lotus_miner_info mi;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *v = mutate(miner_info, NULL, cases[i][0],
				   cases[i][1]);

		CU_ASSERT_EQUAL(lotus_decode_miner_info(&mi, v), EFS_ECORRUPT);
		CU_ASSERT(strncmp(efs_error_msg(), "lotus: StateMinerInfo: ",
				  23) == 0);
		json_decref(v);
	}
	{
		json_t *v = parse("[]");

		CU_ASSERT_EQUAL(lotus_decode_miner_info(&mi, v), EFS_ECORRUPT);
		CU_ASSERT_EQUAL(lotus_decode_miner_info(&mi, NULL),
				EFS_ECORRUPT);
		json_decref(v);
	}
}

static void test_lotus_decode__too_many_multiaddrs(void)
{
	json_t *v = parse(miner_info), *a = json_array();
	struct lotus_miner_info mi;

	for (int i = 0; i <= LOTUS_MULTIADDRS_MAX; i++)
		json_array_append_new(a, json_string("BAECAwQGBNI="));
	json_object_set_new(v, "Multiaddrs", a);
	CU_ASSERT_EQUAL(lotus_decode_miner_info(&mi, v), EFS_ECORRUPT);
	json_decref(v);
}

static const char deal[] =
	"{\"Proposal\":{\"PieceCID\":{\"/\":\"baga6ea4seaqgiktap34inmaex4wbs6"
	"cghlq5i2j2yd2bb2zndn5ep7ralzphkdy\"},\"PieceSize\":34359738368,"
	"\"VerifiedDeal\":false,\"Client\":\"f01234\",\"Provider\":"
	"\"f01000\",\"Label\":\"bafybeig-root\",\"StartEpoch\":4210000,"
	"\"EndEpoch\":4728400,\"StoragePricePerEpoch\":\"3200000000\","
	"\"ProviderCollateral\":\"1000000000000000\",\"ClientCollateral\":"
	"\"0\"},\"State\":{\"SectorNumber\":812,\"SectorStartEpoch\":4205120,"
	"\"LastUpdatedEpoch\":-1,\"SlashEpoch\":-1}}";

static void test_lotus_decode__market_deal(void)
{
	struct lotus_market_deal d;
	struct bigint b;
	json_t *v = parse(deal);
	char s[CID_STR_MAX];

	CU_ASSERT_EQUAL_FATAL(lotus_decode_market_deal(&d, v), 0);
	CU_ASSERT_STRING_EQUAL(cid_tostr(s, &d.piece_cid),
			       "baga6ea4seaqgiktap34inmaex4wbs6cghlq5i2j2yd2bb"
			       "2zndn5ep7ralzphkdy");
	CU_ASSERT_EQUAL(d.piece_size, (uint64_t)34359738368);
	CU_ASSERT(!d.verified);
	CU_ASSERT_EQUAL(d.client.id, 1234);
	CU_ASSERT_EQUAL(d.provider.id, 1000);
	CU_ASSERT_STRING_EQUAL(d.label, "bafybeig-root");
	CU_ASSERT_EQUAL(d.label_len, 13);
	CU_ASSERT_EQUAL(d.start_epoch, 4210000);
	CU_ASSERT_EQUAL(d.end_epoch, 4728400);
	bigint_from_u64(&b, 3200000000u);
	CU_ASSERT_EQUAL(bigint_cmp(&d.price_per_epoch, &b), 0);
	bigint_from_u64(&b, 1000000000000000u);
	CU_ASSERT_EQUAL(bigint_cmp(&d.provider_collateral, &b), 0);
	CU_ASSERT(bigint_is_zero(&d.client_collateral));
	CU_ASSERT_EQUAL(d.sector, 812);
	CU_ASSERT_EQUAL(d.sector_start_epoch, 4205120);
	CU_ASSERT_EQUAL(d.last_updated_epoch, -1);
	CU_ASSERT_EQUAL(d.slash_epoch, -1);
	json_decref(v);
	/* before nv22 there is no SectorNumber */
	v = mutate(deal, "State", "SectorNumber", "-");
	CU_ASSERT_EQUAL(lotus_decode_market_deal(&d, v), 0);
	CU_ASSERT_EQUAL(d.sector, 0);
	json_decref(v);
}

static void test_lotus_decode__bad_market_deal(void)
{
	static const char *const cases[][3] = {
		{ NULL, "Proposal", "-" },
		{ NULL, "Proposal", "[]" },
		{ NULL, "State", "null" },
		{ "Proposal", "PieceCID", "\"baga6ea4seaq\"" },
		{ "Proposal", "PieceCID", "{\"/\":\"nope\"}" },
		{ "Proposal", "PieceSize", "100" },
		{ "Proposal", "PieceSize", "64" },
		{ "Proposal", "PieceSize", "\"2048\"" },
		{ "Proposal", "VerifiedDeal", "0" },
		{ "Proposal", "VerifiedDeal", "-" },
		{ "Proposal", "Client", "1234" },
		{ "Proposal", "Provider", "\"f0\"" },
		{ "Proposal", "Label", "5" },
		{ "Proposal", "Label", "-" },
		{ "Proposal", "StartEpoch", "-5" },
		{ "Proposal", "StartEpoch", "4210000.5" },
		{ "Proposal", "EndEpoch", "4210000" },
		{ "Proposal", "StoragePricePerEpoch", "3200000000" },
		{ "Proposal", "StoragePricePerEpoch", "\"-1\"" },
		{ "Proposal", "StoragePricePerEpoch", "\"1e9\"" },
		{ "Proposal", "ProviderCollateral", "-" },
		{ "Proposal", "ClientCollateral", "null" },
		{ "State", "SectorNumber", "-1" },
		{ "State", "SectorNumber", "\"812\"" },
		{ "State", "SectorStartEpoch", "-2" },
		{ "State", "LastUpdatedEpoch", "-" },
		{ "State", "SlashEpoch", "true" },
	};
	struct lotus_market_deal d;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *v = mutate(deal, cases[i][0], cases[i][1],
				   cases[i][2]);

		CU_ASSERT_EQUAL(lotus_decode_market_deal(&d, v), EFS_ECORRUPT);
		CU_ASSERT(strncmp(efs_error_msg(),
				  "lotus: StateMarketStorageDeal: ", 31) == 0);
		json_decref(v);
	}
}

static void test_lotus_decode__label(void)
{
	struct lotus_market_deal d;
	char big[LOTUS_LABEL_MAX + 2];
	json_t *v = parse(deal), *p = json_object_get(v, "Proposal");

	json_object_set_new(p, "Label", json_stringn("a\0b", 3));
	CU_ASSERT_EQUAL(lotus_decode_market_deal(&d, v), 0);
	CU_ASSERT_EQUAL(d.label_len, 3);
	CU_ASSERT(memcmp(d.label, "a\0b", 4) == 0);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	json_object_set_new(p, "Label", json_string(big + 1));
	CU_ASSERT_EQUAL(lotus_decode_market_deal(&d, v), 0);
	CU_ASSERT_EQUAL(d.label_len, LOTUS_LABEL_MAX);
	json_object_set_new(p, "Label", json_string(big));
	CU_ASSERT_EQUAL(lotus_decode_market_deal(&d, v), EFS_ECORRUPT);
	json_decref(v);
}

static void test_lotus_decode__scalars(void)
{
	struct bigint a, b;
	struct filaddr id;
	struct cid c;
	uint64_t n;
	bool ok;
	json_t *v;

	/* WalletBalance */
	v = parse("\"5000000000000000000\"");
	CU_ASSERT_EQUAL(lotus_decode_bigint(&a, v, "WalletBalance"), 0);
	bigint_from_u64(&b, 5000000000000000000u);
	CU_ASSERT_EQUAL(bigint_cmp(&a, &b), 0);
	json_decref(v);
	v = parse("5");
	CU_ASSERT_EQUAL(lotus_decode_bigint(&a, v, "WalletBalance"),
			EFS_ECORRUPT);
	CU_ASSERT(strncmp(efs_error_msg(), "lotus: WalletBalance: ", 22) == 0);
	json_decref(v);
	v = parse("\"-5\"");
	CU_ASSERT_EQUAL(lotus_decode_bigint(&a, v, "WalletBalance"),
			EFS_ECORRUPT);
	json_decref(v);
	CU_ASSERT_EQUAL(lotus_decode_bigint(&a, NULL, "WalletBalance"),
			EFS_ECORRUPT);

	/* StateMarketBalance */
	v = parse("{\"Escrow\":\"2000000000000000\",\"Locked\":"
		  "\"1500000000000000\"}");
	CU_ASSERT_EQUAL(lotus_decode_market_balance(&a, &b, v), 0);
	json_decref(v);
	v = parse("{\"Escrow\":\"1\",\"Locked\":\"2\"}");
	CU_ASSERT_EQUAL(lotus_decode_market_balance(&a, &b, v), EFS_ECORRUPT);
	json_decref(v);
	v = parse("{\"Escrow\":\"1\"}");
	CU_ASSERT_EQUAL(lotus_decode_market_balance(&a, &b, v), EFS_ECORRUPT);
	json_decref(v);

	/* StateVerifiedClientStatus */
	v = parse("\"34359738368\"");
	CU_ASSERT_EQUAL(lotus_decode_datacap(&a, &ok, v), 0);
	CU_ASSERT(ok);
	json_decref(v);
	CU_ASSERT_EQUAL(lotus_decode_datacap(&a, &ok, NULL), 0);
	CU_ASSERT(!ok);
	CU_ASSERT(bigint_is_zero(&a));
	v = parse("{}");
	CU_ASSERT_EQUAL(lotus_decode_datacap(&a, &ok, v), EFS_ECORRUPT);
	json_decref(v);

	/* StateDealProviderCollateralBounds */
	v = parse("{\"Min\":\"10\",\"Max\":\"20\"}");
	CU_ASSERT_EQUAL(lotus_decode_bounds(&a, &b, v), 0);
	json_decref(v);
	v = parse("{\"Min\":\"30\",\"Max\":\"20\"}");
	CU_ASSERT_EQUAL(lotus_decode_bounds(&a, &b, v), EFS_ECORRUPT);
	json_decref(v);

	/* StateLookupID */
	v = parse("\"f01234\"");
	CU_ASSERT_EQUAL(lotus_decode_id(&id, v), 0);
	CU_ASSERT_EQUAL(id.id, 1234);
	json_decref(v);
	{
		char s[FILADDR_STR_MAX];
		struct filaddr f2;

		filaddr_init_actor(&f2, (const uint8_t *)"x", 1);
		filaddr_format(s, &f2, 'f');
		v = json_string(s);
		CU_ASSERT_EQUAL(lotus_decode_id(&id, v), EFS_ECORRUPT);
		CU_ASSERT_STRING_EQUAL(efs_error_msg(), "lotus: StateLookupID: "
				       "result: not an ID address");
		json_decref(v);
	}

	/* MpoolGetNonce */
	v = parse("7");
	CU_ASSERT_EQUAL(lotus_decode_nonce(&n, v), 0);
	CU_ASSERT_EQUAL(n, 7);
	json_decref(v);
	v = parse("-7");
	CU_ASSERT_EQUAL(lotus_decode_nonce(&n, v), EFS_ECORRUPT);
	json_decref(v);
	v = parse("\"7\"");
	CU_ASSERT_EQUAL(lotus_decode_nonce(&n, v), EFS_ECORRUPT);
	json_decref(v);

	/* MpoolPush */
	v = parse("{\"/\":\"bafy2bzacea3wsdh6y3a36tb3skempjoxqpuyompjbmfeyf34"
		  "fi3uy6uue42v4\"}");
	CU_ASSERT_EQUAL(lotus_decode_cid(&c, v, "MpoolPush"), 0);
	json_decref(v);
	v = parse("\"bafy2bzacea3wsdh6y3a36tb3skempjoxqpuyompjbmfeyf34fi3uy6"
		  "uue42v4\"");
	CU_ASSERT_EQUAL(lotus_decode_cid(&c, v, "MpoolPush"), EFS_ECORRUPT);
	CU_ASSERT(strncmp(efs_error_msg(), "lotus: MpoolPush: ", 18) == 0);
	json_decref(v);

	/* ChainHead */
	v = parse("{\"Cids\":[],\"Height\":-1}");
	CU_ASSERT_EQUAL(lotus_decode_head(&(int64_t){ 0 }, v), EFS_ECORRUPT);
	json_decref(v);
}

static void test_lotus_decode__miners(void)
{
	struct filaddr *a;
	size_t n;
	json_t *v = parse("[\"f01000\",\"f01001\"]");

	CU_ASSERT_EQUAL_FATAL(lotus_decode_miners(&a, &n, v), 0);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(a[1].id, 1001);
	efs_free(a);
	json_decref(v);
	CU_ASSERT_EQUAL(lotus_decode_miners(&a, &n, NULL), 0);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_PTR_NULL(a);
	v = parse("[\"f01000\",1001]");
	CU_ASSERT_EQUAL(lotus_decode_miners(&a, &n, v), EFS_ECORRUPT);
	CU_ASSERT_PTR_NULL(a);
	json_decref(v);
	v = parse("{}");
	CU_ASSERT_EQUAL(lotus_decode_miners(&a, &n, v), EFS_ECORRUPT);
	json_decref(v);
}

static const char lookup[] =
	"{\"Message\":{\"/\":\"bafy2bzacea3wsdh6y3a36tb3skempjoxqpuyompjbmfey"
	"f34fi3uy6uue42v4\"},\"Receipt\":{\"ExitCode\":0,\"Return\":null,"
	"\"GasUsed\":4000000,\"EventsRoot\":null},\"ReturnDec\":null,"
	"\"TipSet\":[{\"/\":\"bafy2bzacea3wsdh6y3a36tb3skempjoxqpuyompjbmf"
	"eyf34fi3uy6uue42v4\"}],\"Height\":57}";

static void test_lotus_decode__lookup(void)
{
	static const char *const bad[][3] = {
		{ NULL, "Message", "-" },
		{ NULL, "Height", "\"57\"" },
		{ NULL, "TipSet", "5" },
		{ NULL, "Receipt", "null" },
		{ "Receipt", "ExitCode", "-" },
		{ "Receipt", "ExitCode", "0.0" },
		{ "Receipt", "GasUsed", "-1" },
		{ "Receipt", "Return", "5" },
	};
	struct lotus_receipt r;
	bool found;
	json_t *v = parse(lookup);

	CU_ASSERT_EQUAL(lotus_decode_lookup(&r, &found, v), 0);
	CU_ASSERT(found);
	CU_ASSERT_EQUAL(r.exit_code, 0);
	CU_ASSERT_EQUAL(r.gas_used, 4000000);
	CU_ASSERT_EQUAL(r.height, 57);
	json_decref(v);
	CU_ASSERT_EQUAL(lotus_decode_lookup(&r, &found, NULL), 0);
	CU_ASSERT(!found);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = mutate(lookup, bad[i][0], bad[i][1], bad[i][2]);
		CU_ASSERT_EQUAL(lotus_decode_lookup(&r, &found, v),
				EFS_ECORRUPT);
		CU_ASSERT(!found);
		json_decref(v);
	}
}

static const char gas_msg[] =
	"{\"Version\":0,\"To\":\"f05\",\"From\":\"f01234\",\"Nonce\":3,"
	"\"Value\":\"1\",\"GasLimit\":6250000,\"GasFeeCap\":\"200000\","
	"\"GasPremium\":\"100000\",\"Method\":2,\"Params\":null}";

static void test_lotus_decode__gas(void)
{
	struct filmsg m;
	json_t *v = parse(gas_msg);

	filmsg_init(&m);
	CU_ASSERT_EQUAL(lotus_decode_gas(&m, v), 0);
	CU_ASSERT_EQUAL(m.gas_limit, 6250000);
	CU_ASSERT_EQUAL(m.gas_fee_cap.w[0], 200000);
	CU_ASSERT_EQUAL(m.gas_premium.w[0], 100000);
	json_decref(v);
	v = mutate(gas_msg, NULL, "GasLimit", "0");
	CU_ASSERT_EQUAL(lotus_decode_gas(&m, v), EFS_ECORRUPT);
	json_decref(v);
	v = mutate(gas_msg, NULL, "GasFeeCap", "\"-1\"");
	CU_ASSERT_EQUAL(lotus_decode_gas(&m, v), EFS_ECORRUPT);
	json_decref(v);
	v = mutate(gas_msg, NULL, "Nonce", "\"3\"");
	CU_ASSERT_EQUAL(lotus_decode_gas(&m, v), EFS_ECORRUPT);
	CU_ASSERT(strncmp(efs_error_msg(), "lotus: GasEstimateMessageGas: ",
			  30) == 0);
	json_decref(v);
	CU_ASSERT_EQUAL(lotus_decode_gas(&m, NULL), EFS_ECORRUPT);
	/* untouched by the failures */
	CU_ASSERT_EQUAL(m.gas_limit, 6250000);
	filmsg_release(&m);
}

/* ---- allocation failures ---- */

/* The parsed inputs of the loop (jansson reports some allocation
 * failures of its parser as syntax errors, so parsing is not looped). */
struct alloc_inputs {
	json_t *batch, *info, *deal;
};

static int alloc_run(void *payload)
{
	struct alloc_inputs *in = payload;
	struct lotus_decode_entry e[2];
	struct lotus_miner_info mi;
	struct lotus_market_deal d;
	struct filaddr *a = NULL;
	size_t n;
	int rc;

	entries(e, 2);
	if ((rc = lotus_decode_batch(e, 2, in->batch, 1)) < 0)
		return rc;
	rc = lotus_decode_miners(&a, &n, e[0].result);
	efs_free(a);
	lotus_decode_entry_release(&e[0]);
	lotus_decode_entry_release(&e[1]);
	if (rc < 0 || (rc = lotus_decode_miner_info(&mi, in->info)) < 0)
		return rc;
	lotus_miner_info_release(&mi);
	return lotus_decode_market_deal(&d, in->deal);
}

static void test_lotus_decode__alloc(void)
{
	struct alloc_inputs in;

	json_set_alloc_funcs(efs_malloc, efs_free);
	in.batch = parse("[{\"jsonrpc\":\"2.0\",\"id\":2,\"error\":"
			 "{\"code\":1,\"message\":\"boom\"}},"
			 "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
			 "[\"f01\",\"f02\"]}]");
	in.info = parse(miner_info);
	in.deal = parse(deal);
	CU_ASSERT(harness_alloc_loop(alloc_run, &in) > 3);
	json_decref(in.batch);
	json_decref(in.info);
	json_decref(in.deal);
	json_set_alloc_funcs(malloc, free);
}

static CU_TestInfo lotus_decode_tests[] = {
	{ "reply", test_lotus_decode__reply },
	{ "bad_envelope", test_lotus_decode__bad_envelope },
	{ "not_json", test_lotus_decode__not_json },
	{ "errors", test_lotus_decode__errors },
	{ "error_reply", test_lotus_decode__error_reply },
	{ "batch", test_lotus_decode__batch },
	{ "bad_batch", test_lotus_decode__bad_batch },
	{ "miner_info", test_lotus_decode__miner_info },
	{ "bad_miner_info", test_lotus_decode__bad_miner_info },
	{ "too_many_multiaddrs", test_lotus_decode__too_many_multiaddrs },
	{ "market_deal", test_lotus_decode__market_deal },
	{ "bad_market_deal", test_lotus_decode__bad_market_deal },
	{ "label", test_lotus_decode__label },
	{ "scalars", test_lotus_decode__scalars },
	{ "miners", test_lotus_decode__miners },
	{ "lookup", test_lotus_decode__lookup },
	{ "gas", test_lotus_decode__gas },
	{ "alloc", test_lotus_decode__alloc },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "lotus_decode", .pTests = lotus_decode_tests })
