/*
 * test_dealproto.c - the protocol-neutral half of the deal-protocol
 * interface: every rejection text Curio's market sends (market/mk12/
 * mk12.go and mk12_utils.go at e0294b0, as contrib/devnet/sp_mk12.c
 * mirrors them) and Boost's status errors classified, details made one
 * printable line, how each HTTP result maps to an outcome, the price per
 * epoch as Curio's client computes it, and dispatch through the ops.
 */
#include "dealer/dealproto.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/utf8.h"
#include "net/httpc.h"
#include "tests/harness.h"

static void test_dealproto__reasons(void)
{
	static const struct {
		const char *text;
		enum dealproto_reason reason;
	} cases[] = {
		/* ExecuteDeal */
		{ "deal rejected due to backpressure. Please retry in some"
		  " time.", DEALPROTO_REASON_BUSY },
		{ "internal server error: failed to apply filters",
		  DEALPROTO_REASON_ASK },
		{ "internal server error: failed to apply backpressure",
		  DEALPROTO_REASON_BUSY },
		{ "internal server error: validating deal against allow list",
		  DEALPROTO_REASON_SERVER },
		{ "internal server error: failed to check cid gravity",
		  DEALPROTO_REASON_SERVER },
		{ "offline deals are not allowed on this provider",
		  DEALPROTO_REASON_POLICY },
		{ "online deals are not allowed on this provider",
		  DEALPROTO_REASON_POLICY },
		{ "client not allowed by provider", DEALPROTO_REASON_POLICY },
		{ "Libp2p is disabled for the provider",
		  DEALPROTO_REASON_POLICY },
		{ "getting signed proposal cid: oops", DEALPROTO_REASON_SERVER },
		/* validateDealProposal, behind "failed validation: " */
		{ "failed validation: server error: getting chain head",
		  DEALPROTO_REASON_SERVER },
		{ "failed validation: proposal PieceCID undefined",
		  DEALPROTO_REASON_INVALID },
		{ "failed validation: server error: validating signature",
		  DEALPROTO_REASON_SIGNATURE },
		{ "failed validation: invalid signature",
		  DEALPROTO_REASON_SIGNATURE },
		{ "failed validation: incorrect provider for deal;"
		  " proposal.Provider: f01001; provider.Address: [f01000]",
		  DEALPROTO_REASON_POLICY },
		{ "failed validation: deal label can be at most 256 bytes,"
		  " is 300", DEALPROTO_REASON_INVALID },
		{ "failed validation: proposal piece size is invalid: padded"
		  " piece size must be a power of 2", DEALPROTO_REASON_INVALID },
		{ "failed validation: proposal PieceCID had wrong prefix",
		  DEALPROTO_REASON_INVALID },
		{ "failed validation: proposal end 10 before proposal start 20",
		  DEALPROTO_REASON_EPOCHS },
		{ "failed validation: deal start epoch 10 has already elapsed"
		  " (current epoch: 20)", DEALPROTO_REASON_EPOCHS },
		{ "failed validation: deal duration out of bounds (min, max,"
		  " provided): 518400, 3680640, 10", DEALPROTO_REASON_EPOCHS },
		{ "failed validation: invalid deal end epoch 9999999: cannot be"
		  " more than 3680640 past current epoch 1",
		  DEALPROTO_REASON_EPOCHS },
		{ "failed validation: server error: getting collateral bounds",
		  DEALPROTO_REASON_SERVER },
		{ "failed validation: proposed provider collateral 0 below"
		  " minimum 17", DEALPROTO_REASON_COLLATERAL },
		{ "failed validation: proposed provider collateral 99 above"
		  " maximum 34", DEALPROTO_REASON_COLLATERAL },
		{ "failed validation: server error: getting market balance",
		  DEALPROTO_REASON_SERVER },
		{ "failed validation: client available funds in escrow 5 not"
		  " enough to meet storage cost for deal 9",
		  DEALPROTO_REASON_FUNDS },
		{ "failed validation: client is not a verified client",
		  DEALPROTO_REASON_DATACAP },
		{ "failed validation: node error fetching verified data cap:"
		  " data cap missing -- client not verified",
		  DEALPROTO_REASON_DATACAP },
		{ "failed validation: verified deal DataCap 10 too small for"
		  " proposed piece size 2048", DEALPROTO_REASON_DATACAP },
		/* filters, when passed through (Boost, CIDGravity) */
		{ "storage price per epoch less than asking price: 1 < 2",
		  DEALPROTO_REASON_ASK },
		{ "piece size less than minimum required size: 128 < 256",
		  DEALPROTO_REASON_ASK },
		{ "piece size more than maximum allowed size: 9 > 8",
		  DEALPROTO_REASON_ASK },
		{ "deal rejected as storage price per epoch is less than the"
		  " amount allowed by the pricing filter",
		  DEALPROTO_REASON_ASK },
		{ "deal rejected as maximum allowed deals per hour limit has"
		  " been reached for the client, please retry in some time",
		  DEALPROTO_REASON_BUSY },
		/* processDeal */
		{ "libp2p URLs are not supported by this provider",
		  DEALPROTO_REASON_TRANSFER },
		{ "deal proposal piece size 2048 doesn't match padded piece"
		  " size 1024", DEALPROTO_REASON_TRANSFER },
		{ "failed to de-serialize transport params bytes 'x': eof",
		  DEALPROTO_REASON_TRANSFER },
		{ "store deal: market deal with the same proposalCID"
		  " bafy2bzacea already exists: 1",
		  DEALPROTO_REASON_DUPLICATE },
		{ "store deal: store deal success: updated 0 rows instead of 1",
		  DEALPROTO_REASON_DUPLICATE },
		{ "store deal: could not commit the transaction",
		  DEALPROTO_REASON_SERVER },
		/* status errors: Curio, Boost */
		{ "failed to get sealed deal status",
		  DEALPROTO_REASON_NOT_FOUND },
		{ "failed to query the db for deal status",
		  DEALPROTO_REASON_SERVER },
		{ "found multiple entries for the same UUID, inform the storage"
		  " provider", DEALPROTO_REASON_SERVER },
		{ "no storage deal found with deal UUID"
		  " 6ba7b810-9dad-41d1-80b4-00c04fd430c8",
		  DEALPROTO_REASON_NOT_FOUND },
		{ "signature verification failed", DEALPROTO_REASON_SIGNATURE },
		/* the HTTP side */
		{ "Too Many Requests", DEALPROTO_REASON_BUSY },
		{ "Service temporarily unavailable: too many concurrent"
		  " requests", DEALPROTO_REASON_BUSY },
		/* case does not matter; nothing known is other */
		{ "CLIENT NOT ALLOWED BY PROVIDER", DEALPROTO_REASON_POLICY },
		{ "the moon is in the wrong phase", DEALPROTO_REASON_OTHER },
		{ "", DEALPROTO_REASON_OTHER },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum dealproto_reason r = dealproto_reason_of(
			cases[i].text, strlen(cases[i].text));

		CU_ASSERT_EQUAL(r, cases[i].reason);
		if (r != cases[i].reason)
			fprintf(stderr, "'%s': %s, want %s\n", cases[i].text,
				dealproto_reason_name(r),
				dealproto_reason_name(cases[i].reason));
	}
}

/* A text is matched within its length only. */
static void test_dealproto__reason_len(void)
{
	const char *t = "client not allowed by provider";

	CU_ASSERT_EQUAL(dealproto_reason_of(t, 14), DEALPROTO_REASON_OTHER);
	CU_ASSERT_EQUAL(dealproto_reason_of(t, 18), DEALPROTO_REASON_POLICY);
	CU_ASSERT_EQUAL(dealproto_reason_of(NULL, 0), DEALPROTO_REASON_OTHER);
}

static void test_dealproto__line(void)
{
	static const struct {
		const char *in;
		size_t cap;
		const char *out;
	} cases[] = {
		{ "plain", 64, "plain" },
		{ "  \r\n padded \t\n", 64, "padded" },
		{ "two\nlines\r\nhere", 64, "two lines  here" },
		{ "nul\x01" "del\x7f" "end", 64, "nul del end" },
		{ "bad \xff\xfe utf8", 64, "bad ?? utf8" },
		{ "caf\xc3\xa9 ok", 64, "caf\xc3\xa9 ok" },
		{ "overlong \xc0\xaf", 64, "overlong ??" },
		{ "0123456789", 11, "0123456789" },
		{ "0123456789a", 11, "0123456..." },
		{ "0123456789", 8, "0123..." },
		/* a cut never splits a UTF-8 sequence */
		{ "abcd\xc3\xa9\xc3\xa9xyz", 9, "abcd..." },
		{ "abc\xc3\xa9\xc3\xa9xyz", 9, "abc\xc3\xa9..." },
		{ "", 8, "" },
		{ "abcdef", 3, "ab" },
		{ "abcdef", 1, "" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[64];

		memset(out, 'x', sizeof(out));
		dealproto_line(out, cases[i].cap, cases[i].in,
			       strlen(cases[i].in));
		CU_ASSERT_STRING_EQUAL(out, cases[i].out);
		CU_ASSERT(strlen(out) < cases[i].cap);
		CU_ASSERT(utf8_valid((const uint8_t *)out, strlen(out)));
		if (strcmp(out, cases[i].out))
			fprintf(stderr, "line %zu: '%s'\n", i, out);
	}
}

/* A fake reply to judge: status, body, httpc's rc. */
static int judge(struct dealproto_call *call, int rc, long status,
		 const char *body)
{
	struct httpc_resp resp = { .status = status };

	buf_init(&resp.body, BUF_NOCAP);
	buf_adds(&resp.body, body);
	resp.bytes_up = 10;
	resp.bytes_down = resp.body.len;
	resp.total_us = 1234;
	dealproto_call_init(call);
	rc = dealproto_call_http(call, rc, &resp);
	httpc_resp_release(&resp);
	return rc;
}

static void test_dealproto__http(void)
{
	static const struct {
		int rc;
		long status;
		const char *body;
		bool ok;
		enum dealproto_outcome outcome;
		const char *detail;     /* prefix */
	} cases[] = {
		{ 0, 200, "\xa1", true, DEALPROTO_OK, "" },
		{ EFS_ETIMEDOUT, 0, "", false, DEALPROTO_TIMEOUT, "http: x" },
		{ EFS_ETIMEDOUT, 200, "", false, DEALPROTO_TIMEOUT, "http: x" },
		{ EFS_ETOOBIG, 200, "", false, DEALPROTO_GARBAGE, "http: x" },
		{ EFS_EIO, 0, "", false, DEALPROTO_UNREACHABLE, "http: x" },
		{ EFS_EIO, 200, "", false, DEALPROTO_GARBAGE, "broken reply" },
		{ EFS_EINVAL, 0, "", false, DEALPROTO_GARBAGE, "broken reply" },
		{ EFS_ENOMEM, 0, "", false, DEALPROTO_ERROR, "http: x" },
		{ 0, 404, "404 page not found\n", false, DEALPROTO_ERROR,
		  "HTTP 404: 404 page not found" },
		{ 0, 500, "", false, DEALPROTO_ERROR, "HTTP 500: empty body" },
		{ 0, 502, "  <html><body>Bad Gateway</body></html>", false,
		  DEALPROTO_ERROR, "HTTP 502: an HTML page of 39 bytes" },
		{ 0, 400, "line one\nline two", false, DEALPROTO_ERROR,
		  "HTTP 400: line one" },
		{ 0, 429, "Too Many Requests\n", false, DEALPROTO_REJECTED,
		  "HTTP 429: Too Many Requests" },
		{ 0, 503, "timeout reading request", false, DEALPROTO_TIMEOUT,
		  "the SP timed out: HTTP 503: timeout reading request" },
		{ 0, 503, "down for maintenance", false, DEALPROTO_ERROR,
		  "HTTP 503: down" },
		{ 0, 301, "", false, DEALPROTO_ERROR, "HTTP 301" },
		{ 0, 204, "", false, DEALPROTO_ERROR, "HTTP 204" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dealproto_call call;
		bool ok;

		efs_error_set(cases[i].rc ? cases[i].rc : EFS_ERROR,
			      "http: x");
		ok = judge(&call, cases[i].rc, cases[i].status, cases[i].body);
		CU_ASSERT_EQUAL(ok, cases[i].ok);
		CU_ASSERT_EQUAL(call.outcome, cases[i].outcome);
		CU_ASSERT_EQUAL(call.http_status, cases[i].status);
		CU_ASSERT_EQUAL(call.latency_us, 1234);
		CU_ASSERT_EQUAL(call.bytes_up, 10);
		CU_ASSERT(!strncmp(call.detail, cases[i].detail,
				   strlen(cases[i].detail)));
		if (strncmp(call.detail, cases[i].detail,
			    strlen(cases[i].detail)))
			fprintf(stderr, "http %zu: '%s'\n", i, call.detail);
		CU_ASSERT_EQUAL(call.reason, cases[i].status == 429
						     ? DEALPROTO_REASON_BUSY
						     : DEALPROTO_REASON_NONE);
	}
}

static void test_dealproto__call_set(void)
{
	struct dealproto_call call;
	char long_text[600];

	dealproto_call_init(&call);
	dealproto_call_reject(&call, "", 0);
	CU_ASSERT_EQUAL(call.outcome, DEALPROTO_REJECTED);
	CU_ASSERT_EQUAL(call.reason, DEALPROTO_REASON_OTHER);
	CU_ASSERT_STRING_EQUAL(call.detail, "rejected without a reason");
	dealproto_call_reject(&call, "client not allowed by provider\n", 31);
	CU_ASSERT_EQUAL(call.reason, DEALPROTO_REASON_POLICY);
	CU_ASSERT_STRING_EQUAL(call.detail, "client not allowed by provider");
	dealproto_call_set(&call, DEALPROTO_GARBAGE, "x %d", 5);
	CU_ASSERT_EQUAL(call.reason, DEALPROTO_REASON_NONE);
	CU_ASSERT_STRING_EQUAL(call.detail, "x 5");
	memset(long_text, 'a', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	dealproto_call_set(&call, DEALPROTO_ERROR, "%s", long_text);
	CU_ASSERT_EQUAL(strlen(call.detail), DEALPROTO_DETAIL_MAX - 1);
	CU_ASSERT(!strcmp(call.detail + DEALPROTO_DETAIL_MAX - 4, "..."));
	efs_error_set(EFS_EINVAL, "mk12: bad");
	CU_ASSERT_EQUAL(dealproto_call_local(&call, EFS_EINVAL), EFS_EINVAL);
	CU_ASSERT_EQUAL(call.outcome, DEALPROTO_ERROR);
	CU_ASSERT_STRING_EQUAL(call.detail, "mk12: bad");
}

static void test_dealproto__price(void)
{
	static const struct {
		const char *price;     /* attoFIL per GiB per epoch */
		uint64_t padded;
		const char *want;
	} cases[] = {
		{ "50000000", 2048, "95" },          /* 95.37 rounds down */
		{ "50000000", 1ull << 30, "50000000" },
		{ "50000000", 32ull << 30, "1600000000" },
		{ "0", 1ull << 35, "0" },
		{ "1", 128, "0" },
		{ "20000000", 8192, "152" },
		/* 2^200 attoFIL x 2^63: past 256 bits before the division */
		{ "1606938044258990275541962092341162602522202993782792835301376",
		  1ull << 63, NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bigint p, out;
		char s[BIGINT_STR_MAX];
		int rc;

		CU_ASSERT_FATAL(bigint_parse(&p, cases[i].price,
					     strlen(cases[i].price)) == 0);
		rc = dealproto_price_per_epoch(&out, &p, cases[i].padded);
		if (!cases[i].want) {
			CU_ASSERT_EQUAL(rc, EFS_ERANGE);
			continue;
		}
		CU_ASSERT_EQUAL(rc, 0);
		bigint_format(s, &out);
		CU_ASSERT_STRING_EQUAL(s, cases[i].want);
	}
}

static void test_dealproto__names(void)
{
	CU_ASSERT_STRING_EQUAL(dealproto_outcome_name(DEALPROTO_OK), "ok");
	CU_ASSERT_STRING_EQUAL(dealproto_outcome_name(DEALPROTO_ERROR),
			       "error");
	CU_ASSERT_STRING_EQUAL(dealproto_outcome_name(99), "unknown");
	CU_ASSERT_STRING_EQUAL(dealproto_reason_name(DEALPROTO_REASON_OTHER),
			       "other");
	CU_ASSERT_STRING_EQUAL(
		dealproto_reason_name(DEALPROTO_REASON_NOT_FOUND), "not_found");
	CU_ASSERT_STRING_EQUAL(dealproto_state_name(DEALPROTO_ACTIVE),
			       "active");
	CU_ASSERT_STRING_EQUAL(
		dealproto_state_name(DEALPROTO_AWAITING_PUBLISH),
		"awaiting_publish");
	CU_ASSERT_STRING_EQUAL(dealproto_state_name(DEALPROTO_UNKNOWN),
			       "unknown");
}

/* ---- dispatch ---- */

struct fake_proto {
	struct dealproto base;
	int calls;
	bool freed;
};

static int fake_ask(struct dealproto_ask *out, struct dealproto_call *call,
		    struct dealproto *dp, const struct dealproto_sp *sp)
{
	((struct fake_proto *)dp)->calls++;
	out->seq = 7;
	dealproto_call_init(call);
	return 0;
}

static int fake_propose(struct dealproto_proposal *out,
			struct dealproto_call *call, struct dealproto *dp,
			const struct dealproto_sp *sp,
			const struct dealproto_deal *deal)
{
	((struct fake_proto *)dp)->calls += 10;
	return 0;
}

static int fake_status(struct dealproto_status *out,
		       struct dealproto_call *call, struct dealproto *dp,
		       const struct dealproto_sp *sp,
		       const struct dealproto_ref *ref)
{
	((struct fake_proto *)dp)->calls += 100;
	return EFS_EINVAL;
}

static void fake_free(struct dealproto *dp)
{
	((struct fake_proto *)dp)->freed = true;
}

static void test_dealproto__dispatch(void)
{
	static const struct dealproto_ops ops = {
		.name = "fake",
		.ask = fake_ask,
		.propose = fake_propose,
		.status = fake_status,
		.free = fake_free,
	};
	struct fake_proto f = { .base.ops = &ops };
	struct dealproto_sp sp = { .url = "http://x" };
	struct dealproto_ask ask;
	struct dealproto_proposal prop;
	struct dealproto_status st;
	struct dealproto_deal deal = { .label = "" };
	struct dealproto_ref ref = { .check_proposal = false };
	struct dealproto_call call;

	CU_ASSERT_EQUAL(dealproto_ask(&ask, &call, &f.base, &sp), 0);
	CU_ASSERT_EQUAL(ask.seq, 7);
	CU_ASSERT_EQUAL(dealproto_propose(&prop, &call, &f.base, &sp, &deal),
			0);
	CU_ASSERT_EQUAL(dealproto_status(&st, &call, &f.base, &sp, &ref),
			EFS_EINVAL);
	CU_ASSERT_EQUAL(f.calls, 111);
	dealproto_free(&f.base);
	CU_ASSERT(f.freed);
	dealproto_free(NULL);
}

static CU_TestInfo dealproto_tests[] = {
	{ "reasons", test_dealproto__reasons },
	{ "reason_len", test_dealproto__reason_len },
	{ "line", test_dealproto__line },
	{ "http", test_dealproto__http },
	{ "call_set", test_dealproto__call_set },
	{ "price", test_dealproto__price },
	{ "names", test_dealproto__names },
	{ "dispatch", test_dealproto__dispatch },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "dealproto", .pTests = dealproto_tests })
