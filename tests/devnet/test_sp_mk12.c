/*
 * test_sp_mk12.c - the simulated SPs' deal side: /market/mk12/ask,
 * /store and /status with good and bad input (Curio's status codes and
 * rejection messages, from curio market/mk12/http/http.go and
 * market/mk12/mk12.go), a deal's life from proposal to sealed sector,
 * transfer failures, and the per-SP faults that act on deals and on
 * every request (reject, fail transfer, never seal, slash, offline,
 * slow, 429).  Runs a devnet of two SPs in-process.
 */
#include "tests/devnet/spfx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/filsig.h"
#include "tests/harness.h"

static struct spfx_car car;   /* 40 KiB file: a piece of 64 KiB */
static struct spfx_car car2;  /* same size, other bytes */

static const char *const cbor_hdr[] = { "Content-Type: application/cbor",
					NULL };

static int setup(void)
{
	if (spfx_open(2) < 0 || spfx_car_make(&car, 1, 40000) < 0 ||
	    spfx_car_make(&car2, 2, 40000) < 0) {
		fprintf(stderr, "setup: %s\n", efs_error_msg());
		return 1;
	}
	return car.piece.padded_size == car2.piece.padded_size ? 0 : 1;
}

static int teardown(void)
{
	spfx_car_release(&car);
	spfx_car_release(&car2);
	spfx_close();
	return 0;
}

static void url_of(char *out, size_t cap, size_t miner, const char *path)
{
	snprintf(out, cap, "%s%s", spfx_sp_url(miner), path);
}

/* ---- ask ---- */

static void test_sp_mk12__ask(void)
{
	struct mk12_ask_request ar = { .miner = spfx_miner(0)->addr };
	struct buf b = BUF_INIT(BUF_NOCAP), signed_bytes = BUF_INIT(BUF_NOCAP);
	struct mk12_ask_response resp;
	struct spfx_resp r;
	char url[128], ct[128];

	url_of(url, sizeof(url), 0, "/market/mk12/ask");
	CU_ASSERT_EQUAL_FATAL(mk12_ask_request_encode(&b, &ar), 0);
	spfx_request(&r, "GET", url, cbor_hdr, b.ptr, b.len);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	/* Curio sets Content-Type after WriteHeader: Go sniffs it. */
	CU_ASSERT_PTR_NOT_NULL(spfx_header(&r, "Content-Type", ct,
					   sizeof(ct)));
	CU_ASSERT_EQUAL_FATAL(mk12_ask_response_decode(&resp, r.body.ptr,
						       r.body.len), 0);
	CU_ASSERT(resp.has_ask && resp.ask.has_ask && resp.ask.has_signature);
	CU_ASSERT(filaddr_equal(&resp.ask.ask.miner, &spfx_miner(0)->addr));
	CU_ASSERT_EQUAL(bigint_cmp(&resp.ask.ask.price, &spfx_miner(0)->price),
			0);
	CU_ASSERT_EQUAL(resp.ask.ask.min_piece_size, spfx_miner(0)->min_piece);
	CU_ASSERT_EQUAL(resp.ask.ask.max_piece_size, spfx_miner(0)->max_piece);
	CU_ASSERT_EQUAL(mk12_ask_encode(&signed_bytes, &resp.ask.ask), 0);
	CU_ASSERT_EQUAL(filsig_verify(&resp.ask.signature,
				      &spfx_miner(0)->worker.addr,
				      signed_bytes.ptr, signed_bytes.len), 0);
	spfx_resp_release(&r);

	/* Another miner's ask: Curio finds no ask row, 500. */
	spfx_request(&r, "GET", url, cbor_hdr, NULL, 0);
	CU_ASSERT_EQUAL(r.status, 400);
	spfx_resp_release(&r);
	url_of(url, sizeof(url), 1, "/market/mk12/ask");
	spfx_request(&r, "GET", url, cbor_hdr, b.ptr, b.len);
	CU_ASSERT_EQUAL(r.status, 500);
	CU_ASSERT_EQUAL(r.body.len, 0);
	spfx_resp_release(&r);
	/* No content type, wrong method, garbage. */
	spfx_request(&r, "GET", url, NULL, b.ptr, b.len);
	CU_ASSERT_EQUAL(r.status, 400);
	spfx_resp_release(&r);
	spfx_request(&r, "POST", url, cbor_hdr, b.ptr, b.len);
	CU_ASSERT_EQUAL(r.status, 405);
	spfx_resp_release(&r);
	spfx_request(&r, "GET", url, cbor_hdr, "\xa1\x65Miner\x01", 8);
	CU_ASSERT_EQUAL(r.status, 400);
	spfx_resp_release(&r);
	buf_release(&b);
	buf_release(&signed_bytes);
}

/* ---- store: input the handler refuses outright ---- */

static void test_sp_mk12__store_bad_input(void)
{
	size_t big = (4u << 20) + 100;
	uint8_t *junk = calloc(1, big);
	struct spfx_resp r;
	char url[128];

	url_of(url, sizeof(url), 0, "/market/mk12/store");
	spfx_request(&r, "POST", url, NULL, "x", 1);
	CU_ASSERT_EQUAL(r.status, 400);
	spfx_resp_release(&r);
	spfx_request(&r, "POST", url, cbor_hdr, "\xff\x00", 2);
	CU_ASSERT_EQUAL(r.status, 400);
	CU_ASSERT_EQUAL(r.body.len, 0);
	spfx_resp_release(&r);
	spfx_request(&r, "POST", url, cbor_hdr, "\xa0", 1);
	CU_ASSERT_EQUAL(r.status, 400);
	spfx_resp_release(&r);
	spfx_request(&r, "GET", url, cbor_hdr, "\xa0", 1);
	CU_ASSERT_EQUAL(r.status, 405);
	spfx_resp_release(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(junk);
	spfx_request(&r, "POST", url, cbor_hdr, junk, big);
	CU_ASSERT_EQUAL(r.status, 400);
	spfx_resp_release(&r);
	free(junk);
	url_of(url, sizeof(url), 0, "/market/mk12/nope");
	spfx_request(&r, "POST", url, cbor_hdr, "\xa0", 1);
	CU_ASSERT_EQUAL(r.status, 404);
	spfx_resp_release(&r);
}

/* ---- store: proposals refused with Curio's messages ---- */

enum tweak {
	T_BAD_SIG, T_PROVIDER, T_LABEL, T_SIZE_SMALL, T_SIZE_POW2, T_PREFIX,
	T_END_BEFORE, T_START_PAST, T_DURATION, T_END_FAR, T_COLLATERAL_LOW,
	T_COLLATERAL_HIGH, T_ESCROW, T_NOT_VERIFIED, T_PRICE, T_SIZE_MISMATCH,
	T_LIBP2P, T_PARAMS, T_OFFLINE, T_TOO_SMALL_FOR_ASK,
};

static const struct {
	enum tweak t;
	const char *msg;  /* expected message, or its prefix when ending in * */
} rejections[] = {
	{ T_BAD_SIG, "failed validation: server error: validating signature" },
	{ T_PROVIDER, "failed validation: incorrect provider for deal;"
		      " proposal.Provider: f01001;"
		      " provider.Address: [f01000]" },
	{ T_LABEL, "failed validation: deal label can be at most 256 bytes,"
		   " is 300" },
	{ T_SIZE_SMALL, "failed validation: proposal piece size is invalid:"
			" minimum padded piece size is 128 bytes" },
	{ T_SIZE_POW2, "failed validation: proposal piece size is invalid:"
		       " padded piece size must be a power of 2" },
	{ T_PREFIX, "failed validation: proposal PieceCID had wrong prefix" },
	{ T_END_BEFORE, "failed validation: proposal end *" },
	{ T_START_PAST, "failed validation: deal start epoch 1 has already"
			" elapsed (current epoch: *" },
	{ T_DURATION, "failed validation: deal duration out of bounds (min,"
		      " max, provided): 518400, 3680640, 1000" },
	{ T_END_FAR, "failed validation: invalid deal end epoch *" },
	{ T_COLLATERAL_LOW, "failed validation: proposed provider collateral 0"
			    " below minimum *" },
	{ T_COLLATERAL_HIGH, "failed validation: proposed provider collateral"
			     " * above maximum *" },
	{ T_ESCROW, "failed validation: client available funds in escrow *"
		    " not enough to meet storage cost for deal *" },
	{ T_NOT_VERIFIED, "failed validation: client is not a verified"
			  " client" },
	{ T_PRICE, "internal server error: failed to apply filters" },
	{ T_SIZE_MISMATCH, "deal proposal piece size 65536 doesn't match"
			   " padded piece size 131072" },
	{ T_LIBP2P, "libp2p URLs are not supported by this provider" },
	{ T_PARAMS, "failed to de-serialize transport params bytes"
		    " 'not json': *" },
	{ T_OFFLINE, "offline deals are not allowed on this provider" },
	{ T_TOO_SMALL_FOR_ASK, "internal server error: failed to apply"
			       " filters" },
};

/* Match msg against want, where a '*' in want matches any run. */
static bool glob(const char *want, const char *msg)
{
	if (!*want)
		return !*msg;
	if (*want == '*') {
		for (const char *p = msg;; p++) {
			if (glob(want + 1, p))
				return true;
			if (!*p)
				return false;
		}
	}
	return *want == *msg && glob(want + 1, msg + 1);
}

static void apply(struct mk12_deal_params *dp, enum tweak t,
		  const struct filkey *poor, const struct filkey *unverified)
{
	struct mk12_proposal *p = &dp->proposal.proposal;
	const struct filkey *key = spfx_client();
	char label[301];
	struct bigint k;

	switch (t) {
	case T_BAD_SIG:
		p->end_epoch++;   /* after signing */
		return;
	case T_PROVIDER:
		p->provider = spfx_miner(1)->addr;
		break;
	case T_LABEL:
		memset(label, 'x', 300);
		mk12_label_set(&p->label, false, label, 300);
		break;
	case T_SIZE_SMALL:
		p->piece_size = 64;
		break;
	case T_SIZE_POW2:
		p->piece_size = 3 * 1024;
		break;
	case T_PREFIX:
		p->piece_cid = car.root;
		break;
	case T_END_BEFORE:
		p->end_epoch = p->start_epoch;
		break;
	case T_START_PAST:
		p->start_epoch = 1;
		break;
	case T_DURATION:
		p->end_epoch = p->start_epoch + 1000;
		break;
	case T_END_FAR:
		p->start_epoch += 3680640 - 518400;
		p->end_epoch = p->start_epoch + 518400;
		break;
	case T_COLLATERAL_LOW:
		bigint_from_u64(&p->provider_collateral, 0);
		break;
	case T_COLLATERAL_HIGH:
		bigint_from_u64(&k, 3);
		bigint_mul(&p->provider_collateral, &p->provider_collateral,
			   &k);
		break;
	case T_ESCROW:
		p->client = poor->addr;
		key = poor;
		break;
	case T_NOT_VERIFIED:
		p->verified = true;
		p->client = unverified->addr;
		key = unverified;
		break;
	case T_PRICE:
		/* Miner 0 asks 20000000 attoFIL/GiB/epoch: a 64 MiB piece
		 * needs 1250000 a epoch. */
		p->piece_size = 64u << 20;
		bigint_from_u64(&p->price_per_epoch, 1);
		break;
	case T_SIZE_MISMATCH:
		dp->transfer.size = 70000;
		break;
	case T_LIBP2P:
		efs_free(dp->transfer.type);
		dp->transfer.type = efs_strdup("libp2p");
		break;
	case T_PARAMS:
		efs_free(dp->transfer.params.ptr);
		dp->transfer.params.ptr = (uint8_t *)efs_strdup("not json");
		dp->transfer.params.len = 8;
		break;
	case T_OFFLINE:
		dp->is_offline = true;
		break;
	case T_TOO_SMALL_FOR_ASK:
		/* Miner 0's minimum is 256 bytes. */
		p->piece_size = 128;
		dp->transfer.size = 100;
		break;
	}
	/* Keep the collateral right for the size the case ended with. */
	if (t != T_COLLATERAL_LOW && t != T_COLLATERAL_HIGH &&
	    commp_padded_valid(p->piece_size))
		market_collateral_bounds(spfx_devnet(), &p->provider_collateral,
					 &k, p->piece_size, p->verified);
	spfx_sign(dp, key);
}

static void test_sp_mk12__store_rejections(void)
{
	struct filkey poor, unverified;

	spfx_wait_epochs(3);
	CU_ASSERT_EQUAL_FATAL(spfx_client_new(&poor, "1", NULL, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(spfx_client_new(&unverified, "10", "5", NULL), 0);
	for (size_t i = 0; i < sizeof(rejections) / sizeof(rejections[0]);
	     i++) {
		struct mk12_deal_params dp;
		char msg[1024];
		bool ok;

		CU_ASSERT_EQUAL_FATAL(spfx_params(&dp, 0, &car, NULL), 0);
		if (rejections[i].t == T_ESCROW)
			bigint_from_u64(&dp.proposal.proposal.client_collateral,
					1000000);
		apply(&dp, rejections[i].t, &poor, &unverified);
		CU_ASSERT_EQUAL(spfx_propose(&ok, msg, sizeof(msg), 0, &dp), 0);
		CU_ASSERT_FALSE(ok);
		if (!glob(rejections[i].msg, msg)) {
			fprintf(stderr, "case %zu: got \"%s\"\n", i, msg);
			CU_FAIL("rejection message");
		}
		mk12_deal_params_release(&dp);
	}
	filkey_release(&poor);
	filkey_release(&unverified);
}

/* ---- a deal's life ---- */

static void test_sp_mk12__deal_sealed(void)
{
	struct mk12_status_response st;
	struct mk12_deal_params dp;
	struct market_deal md;
	struct cid spc;
	char msg[512], u[MK12_UUID_STR_MAX], path[64];
	bool ok;

	CU_ASSERT_EQUAL_FATAL(spfx_params(&dp, 1, &car, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(spfx_propose(&ok, msg, sizeof(msg), 1, &dp), 0);
	CU_ASSERT_FATAL(ok);
	CU_ASSERT_STRING_EQUAL(msg, "");
	CU_ASSERT_EQUAL(spfx_status(&st, 1, dp.uuid, NULL), 0);
	CU_ASSERT(st.has_status);
	CU_ASSERT(!memcmp(st.uuid, dp.uuid, MK12_UUID_LEN));
	mk12_status_response_release(&st);

	CU_ASSERT_EQUAL_FATAL(spfx_wait_status(&st, 1, dp.uuid,
					       MK12_CURIO_SEALED, 20000), 0);
	CU_ASSERT_FATAL(st.has_status);
	CU_ASSERT_STRING_EQUAL(st.status.error, "");
	CU_ASSERT_STRING_EQUAL(st.status.sealing_status,
			       MK12_CURIO_SEALED_INDEXED);
	CU_ASSERT(st.status.chain_deal_id > 0);
	CU_ASSERT(st.status.has_publish_cid);
	CU_ASSERT_EQUAL(st.transfer_size, 1);
	CU_ASSERT_EQUAL(mk12_signed_proposal_cid(&spc, &dp.proposal), 0);
	CU_ASSERT(cid_equal(&spc, &st.status.signed_proposal_cid));
	CU_ASSERT(cid_equal(&st.status.proposal.piece_cid, &car.piece_v1));

	/* On chain: active in a sector. */
	CU_ASSERT_EQUAL(market_deal_get(spfx_devnet(), &md,
					st.status.chain_deal_id), 0);
	CU_ASSERT(md.sector_start_epoch >= 0);
	CU_ASSERT_EQUAL(md.slash_epoch, -1);
	CU_ASSERT_EQUAL(md.provider, spfx_miner(1)->id);

	/* The SP pulled the CAR once, with the client's header. */
	mk12_uuid_format(u, dp.uuid);
	snprintf(path, sizeof(path), "/%s.car", u);
	CU_ASSERT_EQUAL(spfx_file_hits(path), 1);

	/* The same proposal again: Curio's duplicate messages. */
	CU_ASSERT_EQUAL(spfx_propose(&ok, msg, sizeof(msg), 1, &dp), 0);
	CU_ASSERT_FALSE(ok);
	CU_ASSERT_STRING_EQUAL(msg, "store deal: store deal success: updated"
			       " 0 rows instead of 1");
	CU_ASSERT_EQUAL(mk12_uuid_generate(dp.uuid), 0);
	CU_ASSERT_EQUAL(spfx_propose(&ok, msg, sizeof(msg), 1, &dp), 0);
	CU_ASSERT_FALSE(ok);
	CU_ASSERT(glob("store deal: market deal with the same proposalCID"
		       " bafy2bzace* already exists: 1", msg));
	mk12_status_response_release(&st);
	mk12_deal_params_release(&dp);
}

/* Propose dp (changed by the caller) and wait for its failure. */
static void expect_failure(struct mk12_deal_params *dp, size_t miner,
			   const char *want)
{
	struct mk12_status_response st;
	char msg[512];
	bool ok;

	CU_ASSERT_EQUAL_FATAL(spfx_propose(&ok, msg, sizeof(msg), miner, dp),
			      0);
	if (!ok)
		fprintf(stderr, "rejected: %s\n", msg);
	CU_ASSERT_FATAL(ok);
	CU_ASSERT_EQUAL_FATAL(spfx_wait_status(&st, miner, dp->uuid,
					       MK12_CURIO_SEALED, 20000), 0);
	CU_ASSERT_FATAL(st.has_status);
	if (!glob(want, st.status.error)) {
		fprintf(stderr, "deal error: \"%s\"\n", st.status.error);
		CU_FAIL("deal error");
	}
	mk12_status_response_release(&st);
}

static void test_sp_mk12__transfer_failures(void)
{
	struct mk12_deal_params dp;
	struct buf longer = BUF_INIT(BUF_NOCAP);
	char none[128];
	const char *url;

	/* CommP of the bytes is not the proposal's. */
	CU_ASSERT_EQUAL_FATAL(spfx_params(&dp, 0, &car2, NULL), 0);
	dp.proposal.proposal.piece_cid = car.piece_v1;
	spfx_sign(&dp, spfx_client());
	expect_failure(&dp, 0, "commP mismatch calculated baga6ea4seaq*"
			       " and supplied baga6ea4seaq*");
	mk12_deal_params_release(&dp);

	/* Nobody at the URL; nothing at the URL. */
	CU_ASSERT_EQUAL_FATAL(spfx_params(&dp, 0, &car,
					  "http://127.0.0.1:1/none.car"), 0);
	expect_failure(&dp, 0, "error making GET request: *");
	mk12_deal_params_release(&dp);
	snprintf(none, sizeof(none), "%s/none.car", spfx_ipni_url());
	CU_ASSERT_EQUAL_FATAL(spfx_params(&dp, 0, &car, none), 0);
	expect_failure(&dp, 0, "not ok response from HTTP server: 404 Not"
			       " Found");
	mk12_deal_params_release(&dp);

	/* The client's header does not open the door. */
	url = spfx_file_serve("/locked.car", car.bytes.ptr, car.bytes.len,
			      "Bearer other");
	CU_ASSERT_EQUAL_FATAL(spfx_params(&dp, 0, &car, url), 0);
	expect_failure(&dp, 0, "not ok response from HTTP server: 401"
			       " Unauthorized");
	mk12_deal_params_release(&dp);

	/* More bytes than Transfer.Size, and fewer. */
	buf_add(&longer, car.bytes.ptr, car.bytes.len);
	buf_add(&longer, "0123456789", 10);
	url = spfx_file_serve("/longer.car", longer.ptr, longer.len, NULL);
	CU_ASSERT_EQUAL_FATAL(spfx_params(&dp, 0, &car, url), 0);
	expect_failure(&dp, 0, "transfer is longer than the deal's * bytes");
	mk12_deal_params_release(&dp);
	url = spfx_file_serve("/shorter.car", car.bytes.ptr,
			      car.bytes.len - 10, NULL);
	CU_ASSERT_EQUAL_FATAL(spfx_params(&dp, 0, &car, url), 0);
	expect_failure(&dp, 0, "number of bytes written to CommP writer *"
			       " not equal to the file size *");
	mk12_deal_params_release(&dp);
	buf_release(&longer);
}

static void test_sp_mk12__status_bad(void)
{
	struct mk12_status_response st;
	struct mk12_deal_params dp;
	struct filkey other;
	struct spfx_resp r;
	uint8_t uuid[MK12_UUID_LEN];
	char url[128], msg[256];
	bool ok;

	/* Unknown deal. */
	CU_ASSERT_EQUAL(mk12_uuid_generate(uuid), 0);
	CU_ASSERT_EQUAL(spfx_status(&st, 0, uuid, NULL), 0);
	CU_ASSERT_FALSE(st.has_status);
	CU_ASSERT_STRING_EQUAL(st.error, MK12_CURIO_STATUS_FAILED);
	mk12_status_response_release(&st);

	/* Someone else asks about our deal. */
	CU_ASSERT_EQUAL_FATAL(spfx_params(&dp, 0, &car, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(spfx_propose(&ok, msg, sizeof(msg), 0, &dp), 0);
	CU_ASSERT_FATAL(ok);
	CU_ASSERT_EQUAL(filkey_generate(&other), 0);
	CU_ASSERT_EQUAL(spfx_status(&st, 0, dp.uuid, &other), 0);
	CU_ASSERT_FALSE(st.has_status);
	CU_ASSERT_STRING_EQUAL(st.error, "signature verification failed");
	mk12_status_response_release(&st);
	/* Another SP does not know it. */
	CU_ASSERT_EQUAL(spfx_status(&st, 1, dp.uuid, NULL), 0);
	CU_ASSERT_STRING_EQUAL(st.error, MK12_CURIO_STATUS_FAILED);
	mk12_status_response_release(&st);
	filkey_release(&other);
	mk12_deal_params_release(&dp);

	url_of(url, sizeof(url), 0, "/market/mk12/status");
	spfx_request(&r, "GET", url, cbor_hdr, "\x82\x01", 2);
	CU_ASSERT_EQUAL(r.status, 400);
	spfx_resp_release(&r);
	spfx_request(&r, "GET", url, NULL, "\xa0", 1);
	CU_ASSERT_EQUAL(r.status, 400);
	spfx_resp_release(&r);
	spfx_request(&r, "POST", url, cbor_hdr, "\xa0", 1);
	CU_ASSERT_EQUAL(r.status, 405);
	spfx_resp_release(&r);
}

/* ---- faults ---- */

static void test_sp_mk12__fault_reject(void)
{
	struct devnet_fault f = { .reject_pct = 100 };
	struct mk12_deal_params dp;
	size_t accepted = 0, rejected = 0;
	char msg[512];
	bool ok;

	spfx_fault(0, &f);
	CU_ASSERT_EQUAL_FATAL(spfx_params(&dp, 0, &car, NULL), 0);
	CU_ASSERT_EQUAL(spfx_propose(&ok, msg, sizeof(msg), 0, &dp), 0);
	CU_ASSERT_FALSE(ok);
	CU_ASSERT_STRING_EQUAL(msg, "client not allowed by provider");
	mk12_deal_params_release(&dp);

	/* Half of them: the rest go through (and are dealt). */
	f.reject_pct = 50;
	spfx_fault(0, &f);
	for (int i = 0; i < 24; i++) {
		char label[32];

		CU_ASSERT_EQUAL_FATAL(spfx_params(&dp, 0, &car, NULL), 0);
		snprintf(label, sizeof(label), "share %d", i);
		mk12_label_set(&dp.proposal.proposal.label, false, label,
			       strlen(label));
		spfx_sign(&dp, spfx_client());
		CU_ASSERT_EQUAL(spfx_propose(&ok, msg, sizeof(msg), 0, &dp), 0);
		if (ok) {
			accepted++;
		} else {
			rejected++;
			CU_ASSERT_STRING_EQUAL(msg, "deal rejected due to"
					       " backpressure. Please retry in"
					       " some time.");
		}
		mk12_deal_params_release(&dp);
	}
	CU_ASSERT(accepted > 0 && rejected > 0);
	spfx_fault(0, NULL);
}

static void test_sp_mk12__fault_fail_transfer(void)
{
	struct devnet_fault f = { .fail_transfer = true };
	struct mk12_deal_params dp;

	spfx_fault(1, &f);
	CU_ASSERT_EQUAL_FATAL(spfx_params(&dp, 1, &car2, NULL), 0);
	expect_failure(&dp, 1, "error making GET request: *fail_transfer*");
	mk12_deal_params_release(&dp);
	spfx_fault(1, NULL);
}

static void test_sp_mk12__fault_never_seal(void)
{
	struct devnet_fault f = { .never_seal = true };
	struct mk12_status_response st;
	struct mk12_deal_params dp;
	char msg[512];
	bool ok;

	spfx_fault(1, &f);
	CU_ASSERT_EQUAL_FATAL(spfx_params(&dp, 1, &car2, NULL), 0);
	/* Start soon, so the deal expires within the test. */
	dp.proposal.proposal.start_epoch = chain_head(spfx_devnet()) + 30;
	dp.proposal.proposal.end_epoch =
		dp.proposal.proposal.start_epoch + 518400;
	spfx_sign(&dp, spfx_client());
	CU_ASSERT_EQUAL_FATAL(spfx_propose(&ok, msg, sizeof(msg), 1, &dp), 0);
	CU_ASSERT_FATAL(ok);
	spfx_wait_epochs(10);
	CU_ASSERT_EQUAL(spfx_status(&st, 1, dp.uuid, NULL), 0);
	CU_ASSERT_STRING_EQUAL(st.status.status, MK12_CURIO_PROCESSING);
	mk12_status_response_release(&st);
	CU_ASSERT_EQUAL(spfx_wait_status(&st, 1, dp.uuid, MK12_CURIO_SEALED,
					 20000), 0);
	CU_ASSERT(glob("deal proposal must be proven on chain by deal"
		       " proposal start epoch *, but it has expired: current"
		       " chain height: *", st.status.error));
	mk12_status_response_release(&st);
	mk12_deal_params_release(&dp);
	spfx_fault(1, NULL);
}

static void test_sp_mk12__fault_slash(void)
{
	struct devnet_fault f = { .slash = true };
	struct market_deal md;
	uint64_t id;
	int rc;

	spfx_fault(0, &f);
	CU_ASSERT_EQUAL_FATAL(spfx_deal(&id, 0, &car2), 0);
	spfx_wait_epochs(4);
	rc = market_deal_get(spfx_devnet(), &md, id);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT(md.slash_epoch >= 0);
	spfx_fault(0, NULL);
}

static void test_sp_mk12__fault_requests(void)
{
	struct devnet_fault f = { .offline = true };
	struct spfx_resp r;
	char url[128], piece[128];
	int i;

	url_of(url, sizeof(url), 1, "/info");
	spfx_fault(1, &f);
	for (i = 0; i < 40; i++) {
		spfx_request(&r, "GET", url, NULL, NULL, 0);
		spfx_resp_release(&r);
		if (r.curl_code == CURLE_COULDNT_CONNECT)
			break;
		usleep(50000);
	}
	CU_ASSERT_EQUAL(r.curl_code, CURLE_COULDNT_CONNECT);
	memset(&f, 0, sizeof(f));
	spfx_fault(1, &f);
	for (i = 0; i < 40; i++) {
		spfx_request(&r, "GET", url, NULL, NULL, 0);
		spfx_resp_release(&r);
		if (r.status == 200)
			break;
		usleep(50000);
	}
	CU_ASSERT_EQUAL(r.status, 200);

	f.slow_ms = 300;
	spfx_fault(1, &f);
	spfx_request(&r, "GET", url, NULL, NULL, 0);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT(r.seconds >= 0.29);
	spfx_resp_release(&r);

	f.slow_ms = 0;
	f.http429_pct = 100;
	spfx_fault(1, &f);
	spfx_request(&r, "GET", url, NULL, NULL, 0);
	CU_ASSERT_EQUAL(r.status, 429);
	CU_ASSERT_STRING_EQUAL((const char *)r.body.ptr, "Too Many Requests\n");
	spfx_resp_release(&r);
	snprintf(piece, sizeof(piece), "%s/piece/x", spfx_sp_url(1));
	spfx_request(&r, "GET", piece, NULL, NULL, 0);
	CU_ASSERT_EQUAL(r.status, 429);
	CU_ASSERT_STRING_EQUAL((const char *)r.body.ptr,
			       "Service temporarily unavailable: too many"
			       " concurrent requests");
	spfx_resp_release(&r);
	spfx_fault(1, NULL);
}

static CU_TestInfo mk12_tests[] = {
	{ "ask", test_sp_mk12__ask },
	{ "store_bad_input", test_sp_mk12__store_bad_input },
	{ "store_rejections", test_sp_mk12__store_rejections },
	{ "deal_sealed", test_sp_mk12__deal_sealed },
	{ "transfer_failures", test_sp_mk12__transfer_failures },
	{ "status_bad", test_sp_mk12__status_bad },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo fault_tests[] = {
	{ "reject", test_sp_mk12__fault_reject },
	{ "fail_transfer", test_sp_mk12__fault_fail_transfer },
	{ "never_seal", test_sp_mk12__fault_never_seal },
	{ "slash", test_sp_mk12__fault_slash },
	{ "requests", test_sp_mk12__fault_requests },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ "mk12", setup, teardown, NULL, NULL, mk12_tests },
	     { "faults", setup, teardown, NULL, NULL, fault_tests })
