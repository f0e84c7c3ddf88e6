/*
 * test_mk12_check.c - Curio's deal acceptance rules.  Each case breaks
 * one rule of a valid signed proposal and expects the text Curio's
 * market/mk12/mk12.go (validateDealProposal, validateAsk via
 * applyFilters, processDeal) sends back, spelled out here from its
 * format strings; go-padreader's PaddedSize for the transfer size.
 */
#include "core/mk12_check.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/filkey.h"
#include "tests/harness.h"

#define PIECE "baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq"
#define ROOT "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"
#define HEAD 1000000

static struct filkey key;
static struct filaddr miners[2];

static int verify(void *arg, const struct filsig *sig,
		  const struct filaddr *signer, const void *msg, size_t len)
{
	(void)arg;
	return filsig_verify(sig, signer, msg, len);
}

static int setup(void)
{
	uint8_t priv[32];

	for (size_t i = 0; i < 32; i++)
		priv[i] = (uint8_t)(i + 1);
	filaddr_init_id(&miners[0], 1000);
	filaddr_init_id(&miners[1], 1002);
	return filkey_import(&key, priv, sizeof(priv)) < 0;
}

static int teardown(void)
{
	filkey_release(&key);
	return 0;
}

/* A chain where the base proposal passes every rule. */
static void make_chain(struct mk12_chain_view *c)
{
	memset(c, 0, sizeof(*c));
	c->head = HEAD;
	c->miners = miners;
	c->nminers = 2;
	c->net = 'f';
	bigint_from_u64(&c->collateral_min, 100);
	bigint_from_u64(&c->client_available, 1000000000000000000ull);
	c->client_verified = true;
	bigint_from_u64(&c->client_datacap, 1ull << 40);
	c->verify = verify;
}

/* The base proposal: 2 KiB, start in a day, 180 days, price 1000. */
static void make_proposal(struct mk12_proposal *p)
{
	memset(p, 0, sizeof(*p));
	CU_ASSERT_FATAL(cid_parse(&p->piece_cid, PIECE) == 0);
	p->piece_size = 2048;
	p->client = key.addr;
	filaddr_init_id(&p->provider, 1000);
	p->label.data.ptr = (uint8_t *)ROOT;
	p->label.data.len = strlen(ROOT);
	p->start_epoch = HEAD + 2880;
	p->end_epoch = p->start_epoch + MK12_DURATION_MIN;
	bigint_from_u64(&p->price_per_epoch, 1000);
	bigint_from_u64(&p->provider_collateral, 150);
}

static void sign(struct mk12_client_proposal *cp)
{
	struct buf b = BUF_INIT(BUF_NOCAP);

	CU_ASSERT_FATAL(mk12_proposal_encode(&b, &cp->proposal) == 0);
	CU_ASSERT_FATAL(filkey_sign(&cp->signature, &key, b.ptr, b.len) == 0);
	buf_release(&b);
}

static const char *text(const struct buf *b)
{
	return b->ptr ? (const char *)b->ptr : "";
}

/* Run mk12_check_proposal; the reason it gives ("" when accepted). */
static void expect(const struct mk12_client_proposal *cp,
		   const struct mk12_chain_view *c, const char *want)
{
	struct mk12_verdict v;

	mk12_check_verdict_init(&v);
	CU_ASSERT_EQUAL(mk12_check_proposal(&v, cp, c), 0);
	if (strcmp(text(&v.reason), want))
		fprintf(stderr, "got  \"%s\"\nwant \"%s\"\n", text(&v.reason),
			want);
	CU_ASSERT_STRING_EQUAL(text(&v.reason), want);
	CU_ASSERT_EQUAL(v.accepted, *want == '\0');
	CU_ASSERT_EQUAL(v.detail.len == 0, *want == '\0');
	mk12_check_verdict_release(&v);
}

#define FV "failed validation: "

static void test_mk12_check__proposal(void)
{
	struct mk12_client_proposal cp;
	struct mk12_proposal *p = &cp.proposal;
	struct mk12_chain_view c;
	char label[300];

	make_chain(&c);
	make_proposal(p);
	sign(&cp);
	expect(&cp, &c, "");

	cp.signature.data[3] ^= 1;
	expect(&cp, &c, FV "server error: validating signature");

	filaddr_init_id(&p->provider, 1001);
	sign(&cp);
	expect(&cp, &c, FV "incorrect provider for deal; proposal.Provider: "
	       "f01001; provider.Address: [f01000 f01002]");
	c.net = 't';
	expect(&cp, &c, FV "incorrect provider for deal; proposal.Provider: "
	       "t01001; provider.Address: [t01000 t01002]");
	c.net = 'f';

	make_proposal(p);
	memset(label, 'x', sizeof(label));
	p->label.data.ptr = (uint8_t *)label;
	p->label.data.len = 257;
	sign(&cp);
	expect(&cp, &c, FV "deal label can be at most 256 bytes, is 257");
	p->label.data.len = 256;
	sign(&cp);
	expect(&cp, &c, "");

	make_proposal(p);
	p->piece_size = 64;
	sign(&cp);
	expect(&cp, &c, FV "proposal piece size is invalid: minimum padded "
	       "piece size is 128 bytes");
	p->piece_size = 3072;
	sign(&cp);
	expect(&cp, &c, FV "proposal piece size is invalid: padded piece size "
	       "must be a power of 2");

	make_proposal(p);
	CU_ASSERT_FATAL(cid_parse(&p->piece_cid, ROOT) == 0);
	sign(&cp);
	expect(&cp, &c, FV "proposal PieceCID had wrong prefix");

	make_proposal(p);
	p->end_epoch = p->start_epoch;
	sign(&cp);
	expect(&cp, &c, FV "proposal end 1002880 before proposal start "
	       "1002880");

	make_proposal(p);
	p->start_epoch = HEAD - 1;
	p->end_epoch = p->start_epoch + MK12_DURATION_MIN;
	sign(&cp);
	expect(&cp, &c, FV "deal start epoch 999999 has already elapsed "
	       "(current epoch: 1000000)");

	make_proposal(p);
	p->end_epoch--;
	sign(&cp);
	expect(&cp, &c, FV "deal duration out of bounds (min, max, provided): "
	       "518400, 3680640, 518399");
	p->start_epoch = -2;
	p->end_epoch = INT64_MAX;
	c.head = INT64_MIN + 10;
	sign(&cp);
	/* Go's int64 subtraction wraps: the duration is negative */
	expect(&cp, &c, FV "deal duration out of bounds (min, max, provided): "
	       "518400, 3680640, -9223372036854775807");
	c.head = HEAD;

	make_proposal(p);
	p->start_epoch = HEAD + 10;
	p->end_epoch = p->start_epoch + MK12_DURATION_MAX;
	sign(&cp);
	expect(&cp, &c, FV "invalid deal end epoch 4680650: cannot be more "
	       "than 3680640 past current epoch 1000000");

	make_proposal(p);
	bigint_from_u64(&p->provider_collateral, 99);
	sign(&cp);
	expect(&cp, &c, FV "proposed provider collateral 99 below minimum 100");
	bigint_from_u64(&p->provider_collateral, 201);
	sign(&cp);
	expect(&cp, &c, FV "proposed provider collateral 201 above maximum "
	       "200");
	bigint_from_u64(&p->provider_collateral, 200);
	sign(&cp);
	expect(&cp, &c, "");

	make_proposal(p);
	bigint_from_u64(&p->client_collateral, 7);
	sign(&cp);
	bigint_from_i64(&c.client_available, -3);
	expect(&cp, &c, FV "client available funds in escrow -3 not enough to "
	       "meet storage cost for deal 518400007");
	bigint_from_u64(&c.client_available, 518400007);
	expect(&cp, &c, "");

	make_proposal(p);
	p->verified = true;
	sign(&cp);
	c.client_verified = false;
	expect(&cp, &c, FV "client is not a verified client");
	c.client_verified = true;
	bigint_from_u64(&c.client_datacap, 2047);
	expect(&cp, &c, FV "verified deal DataCap 2047 too small for proposed "
	       "piece size 2048");
	bigint_from_u64(&c.client_datacap, 2048);
	expect(&cp, &c, "");
}

/* The first broken rule wins, in Curio's order. */
static void test_mk12_check__order(void)
{
	struct mk12_client_proposal cp;
	struct mk12_proposal *p = &cp.proposal;
	struct mk12_chain_view c;

	make_chain(&c);
	make_proposal(p);
	p->piece_size = 100;
	p->end_epoch = p->start_epoch;
	bigint_from_u64(&p->provider_collateral, 1);
	sign(&cp);
	expect(&cp, &c, FV "proposal piece size is invalid: minimum padded "
	       "piece size is 128 bytes");
	filaddr_init_id(&p->provider, 5);
	sign(&cp);
	cp.signature.data[0] ^= 1;
	expect(&cp, &c, FV "server error: validating signature");
}

#define DETAIL "validateSignature failed: error verifying signature: "

static void test_mk12_check__detail(void)
{
	struct mk12_client_proposal cp;
	struct mk12_chain_view c;
	struct mk12_verdict v;

	make_chain(&c);
	make_proposal(&cp.proposal);
	sign(&cp);
	cp.signature.data[5] ^= 1;
	mk12_check_verdict_init(&v);
	CU_ASSERT_EQUAL(mk12_check_proposal(&v, &cp, &c), 0);
	CU_ASSERT(!strncmp(text(&v.detail), DETAIL, strlen(DETAIL)));
	/* a verdict is reused: accepted again, texts cleared */
	sign(&cp);
	CU_ASSERT_EQUAL(mk12_check_proposal(&v, &cp, &c), 0);
	CU_ASSERT(v.accepted && v.reason.len == 0 && v.detail.len == 0);
	mk12_check_verdict_release(&v);
}

static void make_ask(struct mk12_ask *a)
{
	memset(a, 0, sizeof(*a));
	bigint_from_u64(&a->price, 50000000);
	bigint_from_u64(&a->verified_price, 5000000);
	a->min_piece_size = 256;
	a->max_piece_size = 34359738368ull;
}

static void expect_ask(const struct mk12_proposal *p, const struct mk12_ask *a,
		       const char *detail)
{
	struct mk12_verdict v;

	mk12_check_verdict_init(&v);
	CU_ASSERT_EQUAL(mk12_check_ask(&v, p, a), 0);
	CU_ASSERT_EQUAL(v.accepted, *detail == '\0');
	CU_ASSERT_STRING_EQUAL(text(&v.reason),
			       *detail ? MK12_REASON_FILTERS : "");
	if (strcmp(text(&v.detail), detail))
		fprintf(stderr, "got  \"%s\"\nwant \"%s\"\n", text(&v.detail),
			detail);
	CU_ASSERT_STRING_EQUAL(text(&v.detail), detail);
	mk12_check_verdict_release(&v);
}

static void test_mk12_check__ask(void)
{
	struct mk12_proposal p;
	struct mk12_ask a;
	struct bigint min;
	int64_t v;

	make_ask(&a);
	make_proposal(&p);
	p.piece_size = 34359738368ull;
	CU_ASSERT_EQUAL(mk12_check_min_price(&min, &a.price, p.piece_size), 0);
	CU_ASSERT(bigint_to_i64(&v, &min) == 0 && v == 1600000000);
	p.price_per_epoch = min;
	expect_ask(&p, &a, "");
	bigint_from_u64(&p.price_per_epoch, 1599999999);
	expect_ask(&p, &a, "storage price per epoch less than asking price: "
		   "1599999999 < 1600000000");
	p.verified = true;
	expect_ask(&p, &a, "");
	bigint_from_u64(&p.price_per_epoch, 0);
	expect_ask(&p, &a, "storage price per epoch less than asking price: "
		   "0 < 160000000");

	/* rounded down: 2 KiB at 50000000 is 95.367... */
	p.verified = false;
	p.piece_size = 2048;
	bigint_from_u64(&p.price_per_epoch, 95);
	expect_ask(&p, &a, "");
	p.piece_size = 128;
	bigint_from_u64(&p.price_per_epoch, 5);
	expect_ask(&p, &a, "piece size less than minimum required size: "
		   "128 < 256");
	p.piece_size = 68719476736ull;
	bigint_from_u64(&p.price_per_epoch, 3200000000u);
	expect_ask(&p, &a, "piece size more than maximum allowed size: "
		   "68719476736 > 34359738368");

	/* Go's big.Int.Div is Euclidean: -1 * 1 / 2^30 is -1 */
	bigint_from_i64(&a.price, -1);
	CU_ASSERT_EQUAL(mk12_check_min_price(&min, &a.price, 1), 0);
	CU_ASSERT(bigint_to_i64(&v, &min) == 0 && v == -1);
	bigint_from_i64(&a.price, -(1 << 30));
	CU_ASSERT_EQUAL(mk12_check_min_price(&min, &a.price, 2), 0);
	CU_ASSERT(bigint_to_i64(&v, &min) == 0 && v == -2);
}

static void expect_transfer(const struct mk12_deal_params *dp,
			    const char *want, const char *url)
{
	struct mk12_verdict v;
	struct mk12_http_request req;

	mk12_check_verdict_init(&v);
	CU_ASSERT_EQUAL(mk12_check_transfer(&v, &req, dp), 0);
	if (strncmp(text(&v.reason), want, strlen(want)))
		fprintf(stderr, "got  \"%s\"\nwant \"%s...\"\n",
			text(&v.reason), want);
	CU_ASSERT(!strncmp(text(&v.reason), want, strlen(want)));
	CU_ASSERT_EQUAL(v.accepted, *want == '\0');
	if (url) {
		CU_ASSERT(req.url && !strcmp(req.url, url));
	} else {
		CU_ASSERT_PTR_NULL(req.url);
	}
	mk12_http_request_release(&req);
	mk12_check_verdict_release(&v);
}

static void test_mk12_check__transfer(void)
{
	static const char json[] =
		"{\"URL\":\"http://c/x.car\",\"Headers\":null}";
	struct mk12_deal_params dp;

	memset(&dp, 0, sizeof(dp));
	make_proposal(&dp.proposal.proposal);
	dp.proposal.proposal.piece_size = 1048576;
	dp.transfer.type = "http";
	dp.transfer.size = 1040000;
	dp.transfer.params.ptr = (uint8_t *)json;
	dp.transfer.params.len = strlen(json);
	expect_transfer(&dp, "", "http://c/x.car");

	dp.transfer.size = 1040385;
	expect_transfer(&dp, "deal proposal piece size 1048576 doesn't match "
			"padded piece size 2097152", NULL);
	dp.transfer.size = 1040384;
	dp.transfer.params.len = 1;
	expect_transfer(&dp, "failed to de-serialize transport params bytes "
			"'{': ", NULL);
	dp.transfer.params.len = 0;
	expect_transfer(&dp, "failed to de-serialize transport params bytes "
			"'': unexpected end of JSON input", NULL);
	dp.transfer.type = "libp2p";
	expect_transfer(&dp, "libp2p URLs are not supported by this provider",
			NULL);
	dp.is_offline = true;
	expect_transfer(&dp, "libp2p URLs are not supported by this provider",
			NULL);
	dp.transfer.type = NULL;
	dp.transfer.size = 5;
	expect_transfer(&dp, "", NULL);
}

static void test_mk12_check__padded_size(void)
{
	static const struct {
		uint64_t in, out;
	} cases[] = {
		{ 0, 128 }, { 1, 128 }, { 127, 128 }, { 128, 256 },
		{ 254, 256 }, { 255, 512 }, { 1040384, 1048576 },
		{ 1040385, 2097152 }, { 34091302912ull, 34359738368ull },
		{ 34091302913ull, 68719476736ull },
		{ (uint64_t)127 << 56, (uint64_t)1 << 63 },
		{ ((uint64_t)127 << 56) + 1, 0 },
		{ UINT64_MAX, 1 },  /* (size + 126) wraps to 125 */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t got = mk12_check_padded_size(cases[i].in);

		if (got != cases[i].out)
			fprintf(stderr, "%" PRIu64 ": %" PRIu64 "\n",
				cases[i].in, got);
		CU_ASSERT_EQUAL(got, cases[i].out);
	}
}

static void test_mk12_check__client_cost(void)
{
	struct mk12_proposal p;
	struct bigint cost;
	int64_t v;

	make_proposal(&p);
	bigint_from_u64(&p.client_collateral, 5);
	CU_ASSERT_EQUAL(mk12_check_client_cost(&cost, &p), 0);
	CU_ASSERT(bigint_to_i64(&v, &cost) == 0 && v == 518400005);
	CU_ASSERT_EQUAL(bigint_parse(&p.price_per_epoch,
		"100000000000000000000000000000000000000000000000000000000000"
		"000000000000000000", 78), 0);
	CU_ASSERT_EQUAL(mk12_check_client_cost(&cost, &p), EFS_ERANGE);
}

static int alloc_run(void *payload)
{
	struct mk12_client_proposal *cp = payload;
	struct mk12_chain_view c;
	struct mk12_verdict v;
	int rc;

	make_chain(&c);
	bigint_from_u64(&c.collateral_min, 1000);
	mk12_check_verdict_init(&v);
	rc = mk12_check_proposal(&v, cp, &c);
	if (rc == 0 && (v.accepted || !v.reason.len))
		rc = EFS_ERROR;
	mk12_check_verdict_release(&v);
	return rc;
}

static void test_mk12_check__alloc(void)
{
	struct mk12_client_proposal cp;

	make_proposal(&cp.proposal);
	sign(&cp);
	CU_ASSERT(harness_alloc_loop(alloc_run, &cp) > 1);
}

static CU_TestInfo tests[] = {
	{ "proposal", test_mk12_check__proposal },
	{ "order", test_mk12_check__order },
	{ "detail", test_mk12_check__detail },
	{ "ask", test_mk12_check__ask },
	{ "transfer", test_mk12_check__transfer },
	{ "padded_size", test_mk12_check__padded_size },
	{ "client_cost", test_mk12_check__client_cost },
	{ "alloc", test_mk12_check__alloc },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ "mk12_check", setup, teardown, NULL, NULL, tests })
