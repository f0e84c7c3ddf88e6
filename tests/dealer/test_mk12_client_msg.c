/*
 * test_mk12_client_msg.c - the message side of the mk12 client, no
 * network (dealer/mk12_client_msg.c):
 *
 * build:  the proposal a deal builds is byte for byte the golden one of
 *         tests/data/mk12 (made with @ipld/dag-cbor and @noble/curves,
 *         signed as Lotus signs), with both CIDs and the transfer
 *         parameters; bad deals are refused locally; allocation
 *         failures.
 * read:   every reply shape Curio and Boost send mapped to the normalized
 *         types; replies about another deal; garbage and every
 *         truncation; allocation failures.
 */
#include "dealer/mk12_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/filkey.h"
#include "core/mk12_http.h"
#include "tests/harness.h"

/* ---- the fixture: tests/data/mk12's golden deal ---- */

/* Transfer.Params of the golden DealParams (gen-golden.mjs). */
#define FX_PARAMS \
	"{\"URL\":\"http://127.0.0.1:8080/deal/x.car\"," \
	"\"Headers\":{\"Authorization\":\"Bearer abc\"}}"
/* A v1 piece CID (1 MiB of zeros, FRC-0069) for deals never pulled. */
#define FX_PIECE_V1 \
	"baga6ea4seaqnbnjq3oylj4s4luxsukg752aiwu2bfibjghyyysm7lisubbvrgjq"

static struct {
	struct buf golden;            /* tests/data/mk12/golden.txt */
	char *dir;
	struct wallet *wallet;        /* holds the golden client key */
	struct filaddr client;        /* its address */
	struct filaddr miner;         /* f01000 */
	uint8_t uuid[16];
	struct cid piece, root, signed_cid;
	char root_str[CID_STR_MAX];
} fx;

static int fx_init(void)
{
	uint8_t priv[32], b[CID_BYTES_MAX];
	char kt[FILKEY_KEYINFO_MAX], d[512];
	char *path = harness_data_path("mk12/golden.txt");
	struct filkey k;
	long n;
	int rc;

	for (int i = 0; i < 32; i++)
		priv[i] = (uint8_t)(i + 1);
	buf_init(&fx.golden, BUF_NOCAP);
	rc = path ? harness_read_file(&fx.golden, path) : -1;
	free(path);
	if (rc < 0 || !(fx.dir = harness_tmpdir()))
		return -1;
	snprintf(d, sizeof(d), "%s/repo", fx.dir);
	if (filkey_import(&k, priv, 32) < 0)
		return -1;
	filkey_keyinfo_format(kt, &k);
	filkey_release(&k);
	rc = wallet_open(&fx.wallet, d);
	if (rc == 0)
		rc = wallet_import(&fx.client, fx.wallet, kt, strlen(kt));
	memset(kt, 0, sizeof(kt));
	filaddr_init_id(&fx.miner, 1000);
	n = harness_vector_hex(b, sizeof(b), &fx.golden,
			       "signed_proposal_cid");
	if (rc < 0 || n <= 0 ||
	    cid_from_bytes_exact(&fx.signed_cid, b, (size_t)n) < 0 ||
	    mk12_uuid_parse(fx.uuid, "6ba7b810-9dad-41d1-80b4-00c04fd430c8",
			    36) < 0 ||
	    cid_parse(&fx.piece, "baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76"
				 "ooefnyqw4ynr3d2y6x2mpq") < 0 ||
	    cid_parse(&fx.root, "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqa"
				"bf3oclgtqy55fbzdi") < 0)
		return -1;
	cid_tostr(fx.root_str, &fx.root);
	return 0;
}

static int fx_release(void)
{
	wallet_close(fx.wallet);
	harness_tmpdir_free(fx.dir);
	buf_release(&fx.golden);
	return 0;
}

/* The deal whose proposal is gen-golden.mjs's `proposal`. */
static void fx_golden_deal(struct dealproto_deal *d)
{
	static const struct dealproto_header hdr = { "Authorization",
						     "Bearer abc" };

	memset(d, 0, sizeof(*d));
	memcpy(d->uuid, fx.uuid, 16);
	d->piece_cid = fx.piece;
	d->piece_size = 34359738368ull;
	d->payload_size = 34359738368ull / 128 * 127;
	d->root = &fx.root;
	d->label = fx.root_str;
	d->client = fx.client;
	d->provider = fx.miner;
	d->start_epoch = 4210000;
	d->end_epoch = 4728400;
	bigint_from_u64(&d->price_per_epoch, 3200000000ull);
	bigint_from_u64(&d->provider_collateral, 1000000000000000ull);
	d->transfer_url = "http://127.0.0.1:8080/deal/x.car";
	d->headers = &hdr;
	d->nheaders = 1;
}

/* The golden proposal itself (borrowed pointers: not to release). */
static void fx_proposal(struct mk12_proposal *p)
{
	memset(p, 0, sizeof(*p));
	p->piece_cid = fx.piece;
	p->piece_size = 34359738368ull;
	p->client = fx.client;
	p->provider = fx.miner;
	p->label.data.ptr = (uint8_t *)fx.root_str;
	p->label.data.len = strlen(fx.root_str);
	p->start_epoch = 4210000;
	p->end_epoch = 4728400;
	bigint_from_u64(&p->price_per_epoch, 3200000000ull);
	bigint_from_u64(&p->provider_collateral, 1000000000000000ull);
}

/* The golden StorageAsk (gen-golden.mjs `ask`) of miner. */
static void fx_ask(struct mk12_ask *a, const struct filaddr *miner)
{
	memset(a, 0, sizeof(*a));
	bigint_from_u64(&a->price, 50000000);
	bigint_from_u64(&a->verified_price, 5000000);
	a->min_piece_size = 256;
	a->max_piece_size = 34359738368ull;
	a->miner = *miner;
	a->expiry = 10512000;
	a->seq_no = 3;
}

/* ---- build ---- */

static void test_mk12_client__build_golden(void)
{
	struct dealproto_deal d;
	struct mk12_deal_params dp;
	struct dealproto_proposal ids;
	struct mk12_http_request hr;
	struct buf b = BUF_INIT(BUF_NOCAP);
	uint8_t want[1024];
	long n;

	fx_golden_deal(&d);
	CU_ASSERT_EQUAL_FATAL(mk12_client_build(&dp, &ids, fx.wallet, &d), 0);
	/* the ClientDealProposal: proposal, signature */
	CU_ASSERT_EQUAL(mk12_client_proposal_encode(&b, &dp.proposal), 0);
	n = harness_vector_hex(want, sizeof(want), &fx.golden,
			       "client_proposal");
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL(b.len, (size_t)n);
	CU_ASSERT(b.len == (size_t)n && !memcmp(b.ptr, want, b.len));
	n = harness_vector_hex(want, sizeof(want), &fx.golden, "proposal_cid");
	CU_ASSERT(n > 0 && cid_to_bytes(want + 512, &ids.proposal_cid) ==
				   (size_t)n &&
		  !memcmp(want, want + 512, (size_t)n));
	n = harness_vector_hex(want, sizeof(want), &fx.golden,
			       "signed_proposal_cid");
	CU_ASSERT(n > 0 && cid_to_bytes(want + 512,
					&ids.signed_proposal_cid) == (size_t)n &&
		  !memcmp(want, want + 512, (size_t)n));
	/* the rest of DealParams */
	CU_ASSERT(!memcmp(dp.uuid, fx.uuid, 16));
	CU_ASSERT(cid_equal(&dp.data_root, &fx.root));
	CU_ASSERT_FALSE(dp.is_offline);
	CU_ASSERT_FALSE(dp.v120);
	CU_ASSERT_FALSE(dp.remove_unsealed_copy);
	CU_ASSERT_FALSE(dp.skip_ipni_announce);
	CU_ASSERT_STRING_EQUAL(dp.transfer.type, "http");
	CU_ASSERT_EQUAL(dp.transfer.size, d.payload_size);
	/* Go's json.Marshal of the HttpRequest, as the golden file has it */
	CU_ASSERT_EQUAL(dp.transfer.params.len, strlen(FX_PARAMS));
	CU_ASSERT(!memcmp(dp.transfer.params.ptr, FX_PARAMS,
			  dp.transfer.params.len));
	CU_ASSERT_EQUAL(mk12_http_request_decode(&hr, dp.transfer.params.ptr,
						 dp.transfer.params.len), 0);
	mk12_http_request_release(&hr);
	buf_release(&b);
	mk12_deal_params_release(&dp);
}

/* The same deal builds the same bytes (RFC 6979): safe to re-propose. */
static void test_mk12_client__build_deterministic(void)
{
	struct buf a = BUF_INIT(BUF_NOCAP), b = BUF_INIT(BUF_NOCAP);
	struct mk12_deal_params dp;
	struct dealproto_deal d;

	fx_golden_deal(&d);
	for (int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL_FATAL(mk12_client_build(&dp, NULL, fx.wallet,
							&d), 0);
		CU_ASSERT_EQUAL(mk12_deal_params_encode(i ? &b : &a, &dp), 0);
		mk12_deal_params_release(&dp);
	}
	CU_ASSERT(a.len > 0 && a.len == b.len && !memcmp(a.ptr, b.ptr, a.len));
	/* no root: DealDataRoot is the piece CID; no label; no headers */
	d.root = NULL;
	d.label = NULL;
	d.nheaders = 0;
	CU_ASSERT_EQUAL_FATAL(mk12_client_build(&dp, NULL, fx.wallet, &d), 0);
	CU_ASSERT(cid_equal(&dp.data_root, &d.piece_cid));
	CU_ASSERT_EQUAL(dp.proposal.proposal.label.data.len, 0);
	CU_ASSERT(strstr((const char *)dp.transfer.params.ptr,
			 "\"Headers\":null") != NULL);
	mk12_deal_params_release(&dp);
	buf_release(&a);
	buf_release(&b);
}

static void test_mk12_client__build_refused(void)
{
	static const struct dealproto_header twice[] = {
		{ "A", "1" }, { "A", "2" },
	};
	struct mk12_deal_params dp;
	struct dealproto_deal d;
	struct filaddr stranger;

	for (int i = 0; i < 11; i++) {
		fx_golden_deal(&d);
		switch (i) {
		case 0: d.piece_cid = fx.root; break;        /* not a piece */
		case 1: d.piece_size = 3000; break;
		case 2: d.piece_size = 64; break;
		case 3: d.payload_size = 1000; break;        /* pads to 1 KiB */
		case 4: d.payload_size = d.piece_size; break; /* over */
		case 5: d.end_epoch = d.start_epoch; break;
		case 6: d.price_per_epoch.neg = true; break;
		case 7: d.provider_collateral.neg = true; break;
		case 8: d.transfer_url = "ftp://x/y.car"; break;
		case 9: d.label = "\xff\xfe"; break;
		case 10: d.headers = twice; d.nheaders = 2; break;
		}
		CU_ASSERT_EQUAL(mk12_client_build(&dp, NULL, fx.wallet, &d),
				EFS_EINVAL);
		mk12_deal_params_release(&dp);
	}
	/* a client the wallet has no key for */
	fx_golden_deal(&d);
	filaddr_init_id(&stranger, 1234);
	d.client = stranger;
	CU_ASSERT(mk12_client_build(&dp, NULL, fx.wallet, &d) < 0);
	mk12_deal_params_release(&dp);
}

static int build_once(void *payload)
{
	struct mk12_deal_params dp;
	struct dealproto_deal d;
	int rc;

	fx_golden_deal(&d);
	rc = mk12_client_build(&dp, NULL, fx.wallet, &d);
	mk12_deal_params_release(&dp);
	return rc;
}

static void test_mk12_client__build_alloc(void)
{
	CU_ASSERT(harness_alloc_loop(build_once, NULL) > 3);
}

/* ---- read ---- */

static void test_mk12_client__read_ask(void)
{
	struct mk12_ask_response r = { .has_ask = true };
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct dealproto_call call;
	struct dealproto_ask ask;
	struct filaddr other;

	r.ask.has_ask = true;
	fx_ask(&r.ask.ask, &fx.miner);
	CU_ASSERT_EQUAL(mk12_ask_response_encode(&b, &r), 0);
	dealproto_call_init(&call);
	CU_ASSERT_EQUAL(mk12_client_read_ask(&ask, &call, &fx.miner, b.ptr,
					     b.len), 0);
	CU_ASSERT_EQUAL(call.outcome, DEALPROTO_OK);
	CU_ASSERT_STRING_EQUAL(call.detail, "");
	CU_ASSERT(bigint_cmp(&ask.price, &r.ask.ask.price) == 0);
	CU_ASSERT(bigint_cmp(&ask.verified_price, &r.ask.ask.verified_price)
		  == 0);
	CU_ASSERT_EQUAL(ask.min_piece, 256);
	CU_ASSERT_EQUAL(ask.max_piece, 34359738368ull);
	CU_ASSERT_EQUAL(ask.expiry, 10512000);
	CU_ASSERT_EQUAL(ask.seq, 3);
	/* another miner's ask */
	filaddr_init_id(&other, 1001);
	mk12_client_read_ask(&ask, &call, &other, b.ptr, b.len);
	CU_ASSERT_EQUAL(call.outcome, DEALPROTO_GARBAGE);
	CU_ASSERT_STRING_EQUAL(call.detail, "ask is for f01000, not f01001");
	/* sizes, prices */
	for (int i = 0; i < 3; i++) {
		fx_ask(&r.ask.ask, &fx.miner);
		if (i == 0)
			r.ask.ask.min_piece_size = 1ull << 40;
		if (i == 1)
			r.ask.ask.max_piece_size = 0;
		if (i == 2)
			bigint_from_i64(&r.ask.ask.price, -1);
		buf_reset(&b);
		CU_ASSERT_EQUAL(mk12_ask_response_encode(&b, &r), 0);
		mk12_client_read_ask(&ask, &call, &fx.miner, b.ptr, b.len);
		CU_ASSERT_EQUAL(call.outcome, DEALPROTO_GARBAGE);
	}
	/* no ask at all: Curio's AskResponse{Ask: nil} */
	r.has_ask = false;
	buf_reset(&b);
	CU_ASSERT_EQUAL(mk12_ask_response_encode(&b, &r), 0);
	mk12_client_read_ask(&ask, &call, &fx.miner, b.ptr, b.len);
	CU_ASSERT_EQUAL(call.outcome, DEALPROTO_REJECTED);
	CU_ASSERT_STRING_EQUAL(call.detail, "the SP has no ask");
	CU_ASSERT_EQUAL(call.reason, DEALPROTO_REASON_OTHER);
	buf_release(&b);
}

static void test_mk12_client__read_store(void)
{
	uint8_t v[512];
	struct dealproto_call call;
	long n;

	n = harness_vector_hex(v, sizeof(v), &fx.golden, "deal_response_ok");
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL(mk12_client_read_store(&call, v, (size_t)n), 0);
	CU_ASSERT_EQUAL(call.outcome, DEALPROTO_OK);
	n = harness_vector_hex(v, sizeof(v), &fx.golden,
			       "deal_response_rejected");
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL(mk12_client_read_store(&call, v, (size_t)n), 0);
	CU_ASSERT_EQUAL(call.outcome, DEALPROTO_REJECTED);
	CU_ASSERT_EQUAL(call.reason, DEALPROTO_REASON_EPOCHS);
	CU_ASSERT_STRING_EQUAL(call.detail,
			       "failed validation: deal start epoch 10 has"
			       " already elapsed (current epoch: 20)");
	/* every truncation is garbage */
	for (long k = 0; k < n; k++) {
		CU_ASSERT_EQUAL(mk12_client_read_store(&call, v, (size_t)k), 0);
		CU_ASSERT_EQUAL(call.outcome, DEALPROTO_GARBAGE);
	}
	/* {"Accepted": 1}: a number where Go has a bool */
	CU_ASSERT_EQUAL(mk12_client_read_store(&call, (const uint8_t *)
					       "\xa1\x68" "Accepted\x01", 11),
			0);
	CU_ASSERT_EQUAL(call.outcome, DEALPROTO_GARBAGE);
	CU_ASSERT(!strncmp(call.detail, "store reply: ", 13));
	CU_ASSERT_EQUAL(mk12_client_read_store(&call, (const uint8_t *)
					       "\n <html>", 8), 0);
	CU_ASSERT_STRING_EQUAL(call.detail,
			       "store reply is an HTML page, not CBOR");
	CU_ASSERT_EQUAL(mk12_client_read_store(&call, v, 0), 0);
	CU_ASSERT_STRING_EQUAL(call.detail, "empty store reply");
}

/* A status reply as an SP would write it. */
struct st_case {
	const char *name;
	const char *resp_error;       /* DealStatusResponse.Error */
	bool has_status;
	const char *status;
	const char *sealing;
	const char *ds_error;         /* DealStatus.Error */
	uint64_t deal_id;
	bool publish;
	uint64_t tsize, nbytes;
	enum dealproto_outcome outcome;
	enum dealproto_reason reason;
	enum dealproto_state state;
};

static const struct st_case st_cases[] = {
	/* Curio (mk12_utils.go GetDealStatus) */
	{ "curio processing", "", true, "Processing", "Not assigned to sector",
	  "", 0, false, 1, 1, DEALPROTO_OK, 0, DEALPROTO_ACCEPTED },
	{ "curio processing, published", "", true, "Processing",
	  "Not assigned to sector", "", 77, true, 1, 1, DEALPROTO_OK, 0,
	  DEALPROTO_PUBLISHED },
	{ "curio processing, publishing", "", true, "Processing",
	  "Not assigned to sector", "", 0, true, 1, 1, DEALPROTO_OK, 0,
	  DEALPROTO_AWAITING_PUBLISH },
	{ "curio sealing", "", true, "Sealing", "Sealed", "", 77, true, 1, 1,
	  DEALPROTO_OK, 0, DEALPROTO_SEALING },
	{ "curio sealed", "", true, "Sealed", "Sealed and Indexed", "", 77,
	  true, 1, 1, DEALPROTO_OK, 0, DEALPROTO_ACTIVE },
	{ "curio indexed", "", true, "Sealed and Indexed", "Sealed", "", 77,
	  true, 1, 1, DEALPROTO_OK, 0, DEALPROTO_ACTIVE },
	{ "curio failed", "", true, "Sealed", "Sealed and Indexed",
	  "commp mismatch", 0, false, 1, 1, DEALPROTO_OK, 0,
	  DEALPROTO_FAILED },
	{ "curio unknown uuid", "failed to get sealed deal status", false, "",
	  "", "", 0, false, 0, 0, DEALPROTO_REJECTED,
	  DEALPROTO_REASON_NOT_FOUND, DEALPROTO_UNKNOWN },
	{ "curio db", "failed to query the db for deal status", false, "", "",
	  "", 0, false, 0, 0, DEALPROTO_REJECTED, DEALPROTO_REASON_SERVER,
	  DEALPROTO_UNKNOWN },
	/* Boost (storagemarket/types dealcheckpoints) */
	{ "boost accepted", "", true, "Accepted", "", "", 0, false, 1000, 0,
	  DEALPROTO_OK, 0, DEALPROTO_ACCEPTED },
	{ "boost transferring", "", true, "Accepted", "", "", 0, false, 1000,
	  400, DEALPROTO_OK, 0, DEALPROTO_TRANSFERRING },
	{ "boost transferred", "", true, "Transferred", "", "", 0, false,
	  1000, 1000, DEALPROTO_OK, 0, DEALPROTO_AWAITING_PUBLISH },
	{ "boost published", "", true, "Published", "", "", 0, true, 1000,
	  1000, DEALPROTO_OK, 0, DEALPROTO_AWAITING_PUBLISH },
	{ "boost confirmed", "", true, "PublishConfirmed", "", "", 12, true,
	  1000, 1000, DEALPROTO_OK, 0, DEALPROTO_PUBLISHED },
	{ "boost added", "", true, "AddedPiece", "PreCommit1", "", 12, true,
	  1000, 1000, DEALPROTO_OK, 0, DEALPROTO_SEALING },
	{ "boost indexed", "", true, "IndexedAndAnnounced", "Proving", "", 12,
	  true, 1000, 1000, DEALPROTO_OK, 0, DEALPROTO_SEALING },
	{ "boost complete", "", true, "Complete", "Proving", "", 12, true,
	  1000, 1000, DEALPROTO_OK, 0, DEALPROTO_ACTIVE },
	{ "boost failed", "", true, "Complete", "", "data transfer failed", 0,
	  false, 1000, 10, DEALPROTO_OK, 0, DEALPROTO_FAILED },
	{ "boost not found", "no storage deal found with deal UUID x", false,
	  "", "", "", 0, false, 0, 0, DEALPROTO_REJECTED,
	  DEALPROTO_REASON_NOT_FOUND, DEALPROTO_UNKNOWN },
	{ "boost signature", "signature verification failed", false, "", "",
	  "", 0, false, 0, 0, DEALPROTO_REJECTED, DEALPROTO_REASON_SIGNATURE,
	  DEALPROTO_UNKNOWN },
	/* neither */
	{ "nonsense status", "", true, "Dancing", "", "", 0, false, 1, 1,
	  DEALPROTO_OK, 0, DEALPROTO_UNKNOWN },
	{ "empty", "", false, "", "", "", 0, false, 0, 0, DEALPROTO_GARBAGE,
	  0, DEALPROTO_UNKNOWN },
};

static void encode_case(struct buf *b, const struct st_case *c,
			const uint8_t *uuid)
{
	struct mk12_status_response r = { .has_status = c->has_status };
	struct mk12_deal_status *ds = &r.status;

	memcpy(r.uuid, uuid, 16);
	r.error = (char *)c->resp_error;
	r.transfer_size = c->tsize;
	r.nbytes_received = c->nbytes;
	ds->error = (char *)c->ds_error;
	ds->status = (char *)c->status;
	ds->sealing_status = (char *)c->sealing;
	fx_proposal(&ds->proposal);
	ds->signed_proposal_cid = fx.signed_cid;
	ds->chain_deal_id = c->deal_id;
	ds->has_publish_cid = c->publish;
	ds->publish_cid = fx.root;
	CU_ASSERT_EQUAL_FATAL(mk12_status_response_encode(b, &r), 0);
}

static void test_mk12_client__read_status(void)
{
	struct dealproto_ref ref = { .check_proposal = true };

	memcpy(ref.uuid, fx.uuid, 16);
	ref.client = fx.client;
	ref.signed_proposal_cid = fx.signed_cid;
	for (size_t i = 0; i < sizeof(st_cases) / sizeof(st_cases[0]); i++) {
		const struct st_case *c = &st_cases[i];
		struct buf b = BUF_INIT(BUF_NOCAP);
		struct dealproto_status st;
		struct dealproto_call call;

		encode_case(&b, c, fx.uuid);
		dealproto_call_init(&call);
		CU_ASSERT_EQUAL(mk12_client_read_status(&st, &call, &ref, b.ptr,
							b.len), 0);
		CU_ASSERT_EQUAL(call.outcome, c->outcome);
		CU_ASSERT_EQUAL(call.reason, c->reason);
		CU_ASSERT_EQUAL(st.state, c->state);
		if (call.outcome != c->outcome || st.state != c->state)
			fprintf(stderr, "%s: %s %s (%s)\n", c->name,
				dealproto_outcome_name(call.outcome),
				dealproto_state_name(st.state), call.detail);
		if (c->outcome == DEALPROTO_OK) {
			CU_ASSERT_EQUAL(st.deal_id, c->deal_id);
			CU_ASSERT_EQUAL(st.has_publish_cid, c->publish);
			CU_ASSERT_EQUAL(st.has_bytes, c->tsize > 1);
			CU_ASSERT_STRING_EQUAL(st.error, c->ds_error);
			CU_ASSERT(!strncmp(st.sp_status, c->status,
					   strlen(c->status)));
		}
		if (c->outcome == DEALPROTO_REJECTED)
			CU_ASSERT_STRING_EQUAL(st.error, c->resp_error);
		buf_release(&b);
	}
}

/* A reply about another deal, or another proposal, is garbage. */
static void test_mk12_client__read_status_mismatch(void)
{
	struct dealproto_ref ref = { .check_proposal = true };
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct dealproto_status st;
	struct dealproto_call call;
	uint8_t other[16] = { 1 };

	memcpy(ref.uuid, fx.uuid, 16);
	ref.signed_proposal_cid = fx.root;
	encode_case(&b, &st_cases[4], fx.uuid);
	mk12_client_read_status(&st, &call, &ref, b.ptr, b.len);
	CU_ASSERT_EQUAL(call.outcome, DEALPROTO_GARBAGE);
	CU_ASSERT_STRING_EQUAL(call.detail, "status is of another proposal");
	CU_ASSERT_EQUAL(st.state, DEALPROTO_UNKNOWN);
	ref.check_proposal = false;
	mk12_client_read_status(&st, &call, &ref, b.ptr, b.len);
	CU_ASSERT_EQUAL(call.outcome, DEALPROTO_OK);
	buf_reset(&b);
	encode_case(&b, &st_cases[4], other);
	mk12_client_read_status(&st, &call, &ref, b.ptr, b.len);
	CU_ASSERT_EQUAL(call.outcome, DEALPROTO_GARBAGE);
	CU_ASSERT_STRING_EQUAL(call.detail, "status is of deal"
			       " 01000000-0000-0000-0000-000000000000");
	/* every truncation of a good reply is garbage, never a crash */
	buf_reset(&b);
	encode_case(&b, &st_cases[4], fx.uuid);
	for (size_t k = 0; k < b.len; k++) {
		mk12_client_read_status(&st, &call, &ref, b.ptr, k);
		CU_ASSERT_EQUAL(call.outcome, DEALPROTO_GARBAGE);
	}
	buf_release(&b);
}

struct read_payload {
	struct buf ask, store, status;
};

static int read_once(void *payload)
{
	struct read_payload *p = payload;
	struct dealproto_ref ref = { .check_proposal = false };
	struct dealproto_status st;
	struct dealproto_call call;
	struct dealproto_ask ask;
	int rc;

	memcpy(ref.uuid, fx.uuid, 16);
	if ((rc = mk12_client_read_ask(&ask, &call, &fx.miner, p->ask.ptr,
				       p->ask.len)) < 0)
		return rc;
	if ((rc = mk12_client_read_store(&call, p->store.ptr,
					 p->store.len)) < 0)
		return rc;
	if ((rc = mk12_client_read_status(&st, &call, &ref, p->status.ptr,
					  p->status.len)) < 0)
		return rc;
	CU_ASSERT_EQUAL(call.outcome, DEALPROTO_OK);
	return 0;
}

static void test_mk12_client__read_alloc(void)
{
	struct read_payload p = { BUF_INIT(BUF_NOCAP), BUF_INIT(BUF_NOCAP),
				  BUF_INIT(BUF_NOCAP) };
	struct mk12_ask_response ar = { .has_ask = true };
	struct mk12_deal_response dr = { false, (char *)"nope" };

	ar.ask.has_ask = true;
	fx_ask(&ar.ask.ask, &fx.miner);
	CU_ASSERT_EQUAL(mk12_ask_response_encode(&p.ask, &ar), 0);
	CU_ASSERT_EQUAL(mk12_deal_response_encode(&p.store, &dr), 0);
	encode_case(&p.status, &st_cases[4], fx.uuid);
	CU_ASSERT(harness_alloc_loop(read_once, &p) > 2);
	buf_release(&p.ask);
	buf_release(&p.store);
	buf_release(&p.status);
}

static CU_TestInfo msg_tests[] = {
	{ "golden", test_mk12_client__build_golden },
	{ "deterministic", test_mk12_client__build_deterministic },
	{ "refused", test_mk12_client__build_refused },
	{ "alloc", test_mk12_client__build_alloc },
	{ "read_ask", test_mk12_client__read_ask },
	{ "read_store", test_mk12_client__read_store },
	{ "read_status", test_mk12_client__read_status },
	{ "read_status_mismatch", test_mk12_client__read_status_mismatch },
	{ "read_alloc", test_mk12_client__read_alloc },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "mk12_client_msg", .pInitFunc = fx_init,
	       .pCleanupFunc = fx_release, .pTests = msg_tests })
