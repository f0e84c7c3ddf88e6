/*
 * test_ipni_find.c - reading IPNI find answers: the example answer of
 * ipni/specs IPNI.md (as quoted in filecoin-apis.md §3: a gateway
 * provider and a graphsync-only one), the devnet indexer's records
 * (contrib/devnet/ipni.c: metadata 0x0920 + 0x0930, /ip4/../http
 * addresses), metadata with a graphsync payload to skip, duplicates,
 * records of the wrong shape, malformed documents and the size cap.
 */
#include "retrieval/ipni_find.h"

#include <stdio.h>
#include <string.h>

#include "core/cbor.h"
#include "core/error.h"
#include "core/mbase.h"
#include "core/varint.h"
#include "tests/harness.h"

#define PIECE "baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq"

static char urls[8][IPNI_FIND_URL_MAX];

/* base64 of varint(code) + payload [+ varint(code2)] into out. */
static void meta(char *out, size_t cap, uint64_t code, const struct buf *pay,
		 uint64_t code2)
{
	uint8_t b[512];
	size_t n = varint_encode(b, code);

	if (pay) {
		memcpy(b + n, pay->ptr, pay->len);
		n += pay->len;
	}
	if (code2)
		n += varint_encode(b + n, code2);
	CU_ASSERT_FATAL(mbase_base64_encode(out, cap, b, n) > 0);
}

/* The CBOR map graphsync-filecoinv1 metadata carries. */
static void graphsync_payload(struct buf *b)
{
	struct cid piece;

	CU_ASSERT_EQUAL_FATAL(cid_parse(&piece, PIECE), 0);
	CU_ASSERT_EQUAL(cbor_put_map(b, 3), 0);
	CU_ASSERT_EQUAL(cbor_put_str(b, "PieceCID"), 0);
	CU_ASSERT_EQUAL(cbor_put_cid(b, &piece), 0);
	CU_ASSERT_EQUAL(cbor_put_str(b, "VerifiedDeal"), 0);
	CU_ASSERT_EQUAL(cbor_put_bool(b, true), 0);
	CU_ASSERT_EQUAL(cbor_put_str(b, "FastRetrieval"), 0);
	CU_ASSERT_EQUAL(cbor_put_bool(b, true), 0);
}

static void test_ipni_find__metadata(void)
{
	struct buf pay = BUF_INIT(BUF_NOCAP);
	char m[800];

	CU_ASSERT_TRUE(ipni_find_has_gateway("oBI="));      /* 0x0920 */
	CU_ASSERT_TRUE(ipni_find_has_gateway("oBKwEg==")); /* + 0x0930 */
	CU_ASSERT_FALSE(ipni_find_has_gateway("gBI="));     /* bitswap */
	CU_ASSERT_FALSE(ipni_find_has_gateway("sBI="));     /* piece */
	CU_ASSERT_TRUE(ipni_find_has_gateway("gBKgEg=="));  /* bs, gw */
	CU_ASSERT_FALSE(ipni_find_has_gateway(""));
	CU_ASSERT_FALSE(ipni_find_has_gateway(NULL));
	CU_ASSERT_FALSE(ipni_find_has_gateway("not base64!"));
	CU_ASSERT_FALSE(ipni_find_has_gateway("gA==")); /* cut varint */

	graphsync_payload(&pay);
	meta(m, sizeof(m), IPNI_FIND_GRAPHSYNC, &pay, 0);
	CU_ASSERT_FALSE(ipni_find_has_gateway(m));
	meta(m, sizeof(m), IPNI_FIND_GRAPHSYNC, &pay, IPNI_FIND_GATEWAY_HTTP);
	CU_ASSERT_TRUE(ipni_find_has_gateway(m));
	/* a graphsync payload cut short: its length is unknown */
	pay.len -= 3;
	meta(m, sizeof(m), IPNI_FIND_GRAPHSYNC, &pay, IPNI_FIND_GATEWAY_HTTP);
	CU_ASSERT_FALSE(ipni_find_has_gateway(m));
	/* an unknown protocol before the gateway: cannot be skipped */
	meta(m, sizeof(m), 0x3e0000, NULL, IPNI_FIND_GATEWAY_HTTP);
	CU_ASSERT_FALSE(ipni_find_has_gateway(m));
	buf_release(&pay);
}

static int parse(size_t *n, size_t max, const char *json)
{
	memset(urls, 0, sizeof(urls));
	return ipni_find_parse(urls, n, max, json, strlen(json));
}

static void test_ipni_find__spec_example(void)
{
	struct buf pay = BUF_INIT(BUF_NOCAP);
	char m[800], doc[2048];
	size_t n;

	graphsync_payload(&pay);
	meta(m, sizeof(m), IPNI_FIND_GRAPHSYNC, &pay, 0);
	snprintf(doc, sizeof(doc),
		 "{\"MultihashResults\":[{\"Multihash\":\"EiB...\","
		 "\"ProviderResults\":["
		 "{\"ContextID\":\"AAE=\",\"Metadata\":\"oBI=\",\"Provider\":"
		 "{\"ID\":\"12D3KooWSP\",\"Addrs\":"
		 "[\"/dns/sp.example/tcp/443/https\"]}},"
		 "{\"ContextID\":\"AAE=\",\"Metadata\":\"%s\",\"Provider\":"
		 "{\"ID\":\"12D3KooWOld\",\"Addrs\":"
		 "[\"/ip4/203.0.113.5/tcp/24001\"]}}]}]}", m);
	CU_ASSERT_EQUAL(parse(&n, 8, doc), 0);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_STRING_EQUAL(urls[0], "https://sp.example:443");
	buf_release(&pay);
}

/* As contrib/devnet/ipni.c writes them: two SPs, one twice. */
static void test_ipni_find__devnet(void)
{
	static const char doc[] =
		"{\"MultihashResults\": [{\"Multihash\": \"EiA=\","
		" \"ProviderResults\": ["
		"{\"ContextID\": \"ghkBAA==\", \"Metadata\": \"oBKwEg==\","
		" \"Provider\": {\"ID\": \"12D3KooWA\", \"Addrs\":"
		" [\"/ip4/127.0.0.1/tcp/40001/http\"]}},"
		"{\"ContextID\": \"ghkBAB==\", \"Metadata\": \"oBKwEg==\","
		" \"Provider\": {\"ID\": \"12D3KooWA\", \"Addrs\":"
		" [\"/ip4/127.0.0.1/tcp/40001/http\"]}},"
		"{\"ContextID\": \"ghkBAA==\", \"Metadata\": \"oBKwEg==\","
		" \"Provider\": {\"ID\": \"12D3KooWB\", \"Addrs\":"
		" [\"/unix/x\", \"/ip6/::1/tcp/40002/http\"]}}]}]}";
	size_t n;

	CU_ASSERT_EQUAL(parse(&n, 8, doc), 0);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_STRING_EQUAL(urls[0], "http://127.0.0.1:40001");
	CU_ASSERT_STRING_EQUAL(urls[1], "http://[::1]:40002");
	CU_ASSERT_EQUAL(parse(&n, 1, doc), 0);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(parse(&n, 0, doc), 0);
	CU_ASSERT_EQUAL(n, 0);
}

/* Records of the wrong shape are skipped; documents of it refused. */
static void test_ipni_find__malformed(void)
{
	static const struct {
		const char *doc;
		int rc;
		size_t n;
	} cases[] = {
		{ "", EFS_ECORRUPT, 0 },
		{ "nope", EFS_ECORRUPT, 0 },
		{ "[]", EFS_ECORRUPT, 0 },
		{ "{}", EFS_ECORRUPT, 0 },
		{ "{\"MultihashResults\": 3}", EFS_ECORRUPT, 0 },
		{ "{\"MultihashResults\": [3]}", EFS_ECORRUPT, 0 },
		{ "{\"MultihashResults\": [{\"ProviderResults\": {}}]}",
		  EFS_ECORRUPT, 0 },
		{ "{\"MultihashResults\": [], \"MultihashResults\": []}",
		  EFS_ECORRUPT, 0 },
		{ "{\"MultihashResults\": []}", 0, 0 },
		{ "{\"MultihashResults\": [{\"ProviderResults\": []}]}", 0,
		  0 },
		{ "{\"MultihashResults\": [{\"ProviderResults\": [3, null,"
		  " {\"Metadata\": \"oBI=\"},"
		  " {\"Metadata\": \"oBI=\", \"Provider\": 1},"
		  " {\"Metadata\": \"oBI=\", \"Provider\": {\"Addrs\": 1}},"
		  " {\"Metadata\": \"oBI=\", \"Provider\": {\"Addrs\": [1,"
		  " \"/ip4/1.2.3.4/udp/9/http\", \"garbage\"]}},"
		  " {\"Metadata\": 7, \"Provider\": {\"Addrs\":"
		  " [\"/ip4/1.2.3.4/tcp/80/http\"]}},"
		  " {\"Metadata\": \"oBI=\", \"Provider\": {\"Addrs\":"
		  " [\"/dns4/ok.example/tcp/8443/tls/http\"]}}]}]}",
		  0, 1 },
	};
	size_t n;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CU_ASSERT_EQUAL(parse(&n, 8, cases[i].doc), cases[i].rc);
		CU_ASSERT_EQUAL(n, cases[i].n);
	}
	CU_ASSERT_STRING_EQUAL(urls[0], "https://ok.example:8443");
	CU_ASSERT_EQUAL(ipni_find_parse(urls, &n, 8, "{}",
					IPNI_FIND_BODY_MAX + 1),
			EFS_ETOOBIG);
}

static CU_TestInfo ipni_find_tests[] = {
	{ "metadata", test_ipni_find__metadata },
	{ "spec_example", test_ipni_find__spec_example },
	{ "devnet", test_ipni_find__devnet },
	{ "malformed", test_ipni_find__malformed },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "ipni_find", .pTests = ipni_find_tests })
