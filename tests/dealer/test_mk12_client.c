/*
 * test_mk12_client.c - the dealer's Curio mk12 client over HTTP
 * (dealer/mk12_client.c) against the real estuaryfs-devnet; the
 * messages alone are tested in test_mk12_client_msg.c, hostile servers
 * in test_mk12_client_fake.c.
 *
 * devnet: the real estuaryfs-devnet ($DEVNET_BIN, 100 ms epochs, three
 *         SPs found through StateMinerInfo and core/multiaddr): the ask
 *         of each SP; a deal for a CAR served from this process followed
 *         to active and checked on chain; the same deal again
 *         (duplicate); one proposal per rejection reason the devnet
 *         mirrors from Curio; deals that fail (fail_transfer, data
 *         that is not the piece) or never seal; unknown deals, wrong
 *         signers; the faults offline, slow_ms, http429_pct and
 *         reject_pct; dead addresses.
 */
#include "dealer/mk12_client.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "core/alloc.h"
#include "core/car.h"
#include "core/commp.h"
#include "core/error.h"
#include "core/multiaddr.h"
#include "dealer/funds.h"
#include "net/http.h"
#include "net/httpc.h"
#include "tests/devnet/devnet_util.h"
#include "tests/harness.h"

/* A v1 piece CID (1 MiB of zeros, FRC-0069) for deals never pulled. */
#define PIECE_V1 \
	"baga6ea4seaqnbnjq3oylj4s4luxsukg752aiwu2bfibjghyyysm7lisubbvrgjq"

/* ---- the devnet ---- */

static int car_add(void *payload, const uint8_t *data, size_t len)
{
	return buf_add(payload, data, len);
}

/* A CARv1 of one raw block of n pseudo-random bytes (seed). */
static int car_of(struct buf *out, struct cid *root, size_t n,
		  uint64_t seed)
{
	struct car_writer *w = NULL;
	uint8_t *data = efs_malloc(n);
	int rc = EFS_ENOMEM;

	if (data) {
		harness_fill_random(data, n, seed);
		rc = cid_hash(root, 1, CID_CODEC_RAW, MHASH_SHA2_256, data, n);
	}
	if (rc == 0)
		rc = car_writer_new_cb(&w, car_add, out);
	if (rc == 0 && (rc = car_writer_header(w, root, 1)) == 0 &&
	    (rc = car_writer_add(w, NULL, root, data, n)) == 0)
		rc = car_writer_finish(w);
	car_writer_free(w);
	efs_free(data);
	return rc;
}

#define NSPS 3

struct sp_entry {
	struct dealproto_sp sp;
	char url[MULTIADDR_URL_MAX];
	char name[FILADDR_STR_MAX];
};

static char *tmp;
static struct devnet_util_proc dn;
static struct lotus *chain;       /* the devnet's node, admin token */
static struct wallet *wallet;
static struct filaddr client, stranger;
static struct dealproto *dp;
static struct sp_entry sps[NSPS];

/* A JSON-RPC result, parsed (json_decref it). */
static json_t *rpc(const char *method, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static json_t *rpc(const char *method, const char *fmt, ...)
{
	static char out[1 << 16];
	char params[4096];
	va_list ap;
	json_t *v;

	va_start(ap, fmt);
	vsnprintf(params, sizeof(params), fmt, ap);
	va_end(ap);
	if (devnet_util_rpc(out, sizeof(out), &dn, method, params) != 0) {
		fprintf(stderr, "%s %s: %s\n", method, params, out);
		return NULL;
	}
	v = json_loads(out, JSON_DECODE_ANY, NULL);
	if (!v)
		fprintf(stderr, "%s: not JSON: %.200s\n", method, out);
	return v;
}

static int64_t head(void)
{
	int64_t h = 0;

	CU_ASSERT_EQUAL(lotus_chain_head(&h, chain), 0);
	return h;
}

/* 100 FIL from the faucet for the client, 10 of them into its escrow
 * (the dealer's own top-up, dealer/funds.h). */
static int fund_client(void)
{
	static const char ten[] = "10000000000000000000";
	struct lotus_receipt r;
	struct bigint amount;
	struct cid c;

	if (devnet_util_faucet(&dn, &client, "100000000000000000000") < 0 ||
	    bigint_parse(&amount, ten, strlen(ten)) < 0 ||
	    funds_add_escrow(&c, chain, wallet, &client, &amount) < 0 ||
	    lotus_wait_msg(&r, chain, &c, 1, 30000) < 0)
		return -1;
	return r.exit_code == 0 ? 0 : -1;
}

/* Each SP's deal URL, from its on-chain multiaddr (as the dealer will). */
static int find_sps(void)
{
	struct filaddr *m = NULL;
	size_t n = 0;
	int rc = lotus_list_miners(&m, &n, chain);

	if (rc == 0 && n != NSPS)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < NSPS; i++) {
		struct lotus_miner_info mi;

		sps[i].sp.addr = m[i];
		sps[i].sp.url = sps[i].url;
		filaddr_format(sps[i].name, &m[i], 'f');
		if ((rc = lotus_miner_info(&mi, chain, &m[i])) < 0)
			break;
		if (mi.nmultiaddrs == 0 ||
		    multiaddr_http_url(sps[i].url, sizeof(sps[i].url),
				       mi.multiaddrs[0].bytes,
				       mi.multiaddrs[0].len) <= 0) {
			fprintf(stderr, "%s: no HTTP multiaddr\n", sps[i].name);
			rc = -1;
		}
		lotus_miner_info_release(&mi);
	}
	efs_free(m);
	return rc;
}

static int devnet_init(void)
{
	struct mk12_client_opts opts = { .timeout_ms = 8000 };
	char d[600];

	if (httpc_global_init() < 0 || !(tmp = harness_tmpdir()))
		return 1;
	snprintf(d, sizeof(d), "%s/devnet", tmp);
	if (devnet_util_start(&dn, d, "100ms", NSPS, NULL) < 0)
		return 1;
	snprintf(d, sizeof(d), "%s/repo", tmp);
	if (lotus_open(&chain, dn.rpc, dn.token) < 0 ||
	    wallet_open(&wallet, d) < 0 || wallet_new(&client, wallet) < 0 ||
	    wallet_new(&stranger, wallet) < 0 || fund_client() < 0 ||
	    find_sps() < 0 || mk12_client_new(&dp, wallet, &opts) < 0) {
		fprintf(stderr, "devnet setup: %s\n", efs_error_msg());
		return 1;
	}
	return 0;
}

static int devnet_clean(void)
{
	dealproto_free(dp);
	wallet_close(wallet);
	lotus_close(chain);
	devnet_util_stop(&dn, false);
	harness_tmpdir_free(tmp);
	return 0;
}

static void set_fault(size_t i, const char *json)
{
	json_t *v = rpc("Devnet.SetFault", "[\"%s\", %s]", sps[i].name, json);

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	json_decref(v);
}

/* Each SP's ask, as Devnet.Miners has its settings; URLs agree. */
static void test_mk12_client__devnet_asks(void)
{
	json_t *miners = rpc("Devnet.Miners", "[]");

	CU_ASSERT_EQUAL_FATAL(json_array_size(miners), NSPS);
	for (size_t i = 0; i < NSPS; i++) {
		json_t *m = json_array_get(miners, i);
		const char *price = json_string_value(json_object_get(m,
								      "Price"));
		struct dealproto_ask ask;
		struct dealproto_call call;
		char s[BIGINT_STR_MAX];

		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(m,
								       "URL")),
				       sps[i].url);
		CU_ASSERT_EQUAL(dealproto_ask(&ask, &call, dp, &sps[i].sp), 0);
		CU_ASSERT_EQUAL(call.outcome, DEALPROTO_OK);
		if (call.outcome != DEALPROTO_OK)
			fprintf(stderr, "ask %s: %s\n", sps[i].name,
				call.detail);
		CU_ASSERT_EQUAL(call.http_status, 200);
		CU_ASSERT(call.bytes_up > 0 && call.bytes_down > 0);
		CU_ASSERT(call.latency_us > 0);
		bigint_format(s, &ask.price);
		CU_ASSERT_STRING_EQUAL(s, price ? price : "");
		CU_ASSERT_EQUAL(ask.min_piece, (uint64_t)json_integer_value(
				json_object_get(m, "MinPieceSize")));
		CU_ASSERT_EQUAL(ask.max_piece, (uint64_t)json_integer_value(
				json_object_get(m, "MaxPieceSize")));
		CU_ASSERT(ask.expiry > head());
	}
	json_decref(miners);
}

/* The CAR, to a puller with the token. */
struct car_server {
	struct buf car;
	int pulls;
};

static void serve_car(struct http_req *req, void *payload)
{
	struct car_server *cs = payload;
	const char *auth = http_req_header(req, "Authorization");

	if (strcmp(http_req_path(req), "/deal.car") != 0) {
		http_reply_text(req, 404, "not found\n");
	} else if (!auth || strcmp(auth, "Bearer t0ken") != 0) {
		http_reply_text(req, 401, "unauthorized\n");
	} else {
		__atomic_add_fetch(&cs->pulls, 1, __ATOMIC_SEQ_CST);
		http_reply(req, 200, "application/vnd.ipld.car", cs->car.ptr,
			   cs->car.len);
	}
}

/* A new CAR served at url (cap bytes); its piece and root. */
static void serve_new_car(struct car_server *cs, struct http_server **srv,
			  char *url, size_t cap, struct commp_piece *piece,
			  struct cid *root, uint64_t seed)
{
	CU_ASSERT_EQUAL_FATAL(car_of(&cs->car, root, 20000, seed), 0);
	CU_ASSERT_EQUAL_FATAL(commp_compute(piece, cs->car.ptr, cs->car.len),
			      0);
	CU_ASSERT_EQUAL_FATAL(http_server_start(srv, "127.0.0.1", 0, 0,
						serve_car, cs), 0);
	snprintf(url, cap, "http://127.0.0.1:%u/deal.car",
		 (unsigned)http_server_port(*srv));
}

/* A valid deal of sp i for a piece, priced from its ask. */
static void devnet_deal(struct dealproto_deal *d, size_t i,
			const struct cid *piece, uint64_t padded,
			uint64_t payload, const char *url)
{
	static const struct dealproto_header hdr = { "Authorization",
						     "Bearer t0ken" };
	struct dealproto_ask ask;
	struct dealproto_call call;
	struct bigint max;

	memset(d, 0, sizeof(*d));
	CU_ASSERT_EQUAL_FATAL(mk12_uuid_generate(d->uuid), 0);
	d->piece_cid = *piece;
	d->piece_size = padded;
	d->payload_size = payload;
	d->client = client;
	d->provider = sps[i].sp.addr;
	d->start_epoch = head() + 150;
	d->end_epoch = d->start_epoch + 518400;
	CU_ASSERT_EQUAL(dealproto_ask(&ask, &call, dp, &sps[i].sp), 0);
	CU_ASSERT_EQUAL(dealproto_price_per_epoch(&d->price_per_epoch,
						  &ask.price, padded), 0);
	CU_ASSERT_EQUAL_FATAL(lotus_collateral_bounds(&d->provider_collateral,
						      &max, chain, padded,
						      false), 0);
	d->transfer_url = url;
	d->headers = &hdr;
	d->nheaders = 1;
}

/* Propose d to SP i, which must accept it; ref then names the deal. */
static void propose_ok(struct dealproto_proposal *ids,
		       struct dealproto_ref *ref, size_t i,
		       const struct dealproto_deal *d)
{
	struct dealproto_call call;

	CU_ASSERT_EQUAL(dealproto_propose(ids, &call, dp, &sps[i].sp, d), 0);
	CU_ASSERT_EQUAL_FATAL(call.outcome, DEALPROTO_OK);
	memcpy(ref->uuid, d->uuid, 16);
	ref->signed_proposal_cid = ids->signed_proposal_cid;
}

/* Status until it is active or failed, or 60 s pass; the states seen. */
static unsigned follow(struct dealproto_status *st, size_t i,
		       const struct dealproto_ref *ref)
{
	time_t until = time(NULL) + 60;
	unsigned seen = 0;

	do {
		struct dealproto_call call;

		usleep(100000);
		CU_ASSERT_EQUAL_FATAL(dealproto_status(st, &call, dp,
						       &sps[i].sp, ref), 0);
		CU_ASSERT_EQUAL_FATAL(call.outcome, DEALPROTO_OK);
		seen |= 1u << st->state;
	} while (st->state != DEALPROTO_ACTIVE &&
		 st->state != DEALPROTO_FAILED && time(NULL) < until);
	return seen;
}

static void test_mk12_client__devnet_deal(void)
{
	struct car_server cs = { BUF_INIT(BUF_NOCAP), 0 };
	struct http_server *srv = NULL;
	struct dealproto_proposal ids;
	struct dealproto_status st;
	struct dealproto_call call;
	struct dealproto_deal d;
	struct dealproto_ref ref = { .check_proposal = true };
	struct commp_piece piece;
	struct cid root, v1;
	char url[128], rs[CID_STR_MAX], cs1[CID_STR_MAX], cs2[CID_STR_MAX];
	struct lotus_market_deal deal;
	unsigned seen;

	serve_new_car(&cs, &srv, url, sizeof(url), &piece, &root, 7);
	commp_cid_v1(&v1, &piece);
	devnet_deal(&d, 0, &v1, piece.padded_size, cs.car.len, url);
	d.root = &root;
	d.label = cid_tostr(rs, &root);
	propose_ok(&ids, &ref, 0, &d);
	CU_ASSERT(!strncmp(cid_tostr(cs1, &ids.proposal_cid), "bafy2bzace",
			   10));
	CU_ASSERT(!strncmp(cid_tostr(cs2, &ids.signed_proposal_cid),
			   "bafyrei", 7));
	ref.client = client;
	seen = follow(&st, 0, &ref);
	CU_ASSERT_EQUAL(st.state, DEALPROTO_ACTIVE);
	if (st.state != DEALPROTO_ACTIVE)
		fprintf(stderr, "deal: %s %s (%s)\n",
			dealproto_state_name(st.state), st.sp_status,
			st.error);
	CU_ASSERT(seen & (1u << DEALPROTO_ACCEPTED));
	CU_ASSERT(st.deal_id > 0);
	CU_ASSERT(st.has_publish_cid);
	CU_ASSERT_STRING_EQUAL(st.error, "");
	CU_ASSERT(__atomic_load_n(&cs.pulls, __ATOMIC_SEQ_CST) >= 1);
	/* on chain: the market actor has it, in a sector */
	CU_ASSERT_EQUAL_FATAL(lotus_market_deal(&deal, chain, st.deal_id), 0);
	CU_ASSERT(cid_equal(&deal.piece_cid, &v1));
	CU_ASSERT(deal.sector_start_epoch > 0);

	/* the same deal again (a restart re-proposing): duplicate */
	CU_ASSERT_EQUAL(dealproto_propose(&ids, &call, dp, &sps[0].sp, &d), 0);
	CU_ASSERT_EQUAL(call.outcome, DEALPROTO_REJECTED);
	CU_ASSERT_EQUAL(call.reason, DEALPROTO_REASON_DUPLICATE);
	/* the same proposal under a new UUID: duplicate proposal CID */
	CU_ASSERT_EQUAL(mk12_uuid_generate(d.uuid), 0);
	CU_ASSERT_EQUAL(dealproto_propose(&ids, &call, dp, &sps[0].sp, &d), 0);
	CU_ASSERT_EQUAL(call.outcome, DEALPROTO_REJECTED);
	CU_ASSERT_EQUAL(call.reason, DEALPROTO_REASON_DUPLICATE);
	CU_ASSERT(strstr(call.detail, "already exists") != NULL);

	/* status of that deal signed by another key */
	ref.client = stranger;
	CU_ASSERT_EQUAL(dealproto_status(&st, &call, dp, &sps[0].sp, &ref), 0);
	CU_ASSERT_EQUAL(call.outcome, DEALPROTO_REJECTED);
	CU_ASSERT_EQUAL(call.reason, DEALPROTO_REASON_SIGNATURE);
	/* a deal the SP never saw */
	ref.client = client;
	ref.check_proposal = false;
	CU_ASSERT_EQUAL(mk12_uuid_generate(ref.uuid), 0);
	CU_ASSERT_EQUAL(dealproto_status(&st, &call, dp, &sps[0].sp, &ref), 0);
	CU_ASSERT_EQUAL(call.outcome, DEALPROTO_REJECTED);
	CU_ASSERT_EQUAL(call.reason, DEALPROTO_REASON_NOT_FOUND);
	CU_ASSERT_EQUAL(st.state, DEALPROTO_UNKNOWN);
	CU_ASSERT_STRING_EQUAL(st.error, "failed to get sealed deal status");
	/* ... or asked of another SP */
	memcpy(ref.uuid, d.uuid, 16);
	CU_ASSERT_EQUAL(dealproto_status(&st, &call, dp, &sps[1].sp, &ref), 0);
	CU_ASSERT_EQUAL(call.reason, DEALPROTO_REASON_NOT_FOUND);
	http_server_stop(srv);
	buf_release(&cs.car);
}

/* Deals the SP accepts and then fails, or never seals. */
static void test_mk12_client__devnet_failures(void)
{
	struct car_server cs = { BUF_INIT(BUF_NOCAP), 0 };
	struct http_server *srv = NULL;
	struct dealproto_proposal ids;
	struct dealproto_status st;
	struct dealproto_call call;
	struct dealproto_deal d;
	struct dealproto_ref ref = { .check_proposal = true };
	struct commp_piece piece, other;
	struct cid root, v1;
	char url[128];

	serve_new_car(&cs, &srv, url, sizeof(url), &piece, &root, 11);
	commp_cid_v1(&v1, &piece);
	ref.client = client;
	/* the transfer fails (fail_transfer): failed, with Curio's words */
	set_fault(2, "{\"fail_transfer\": true}");
	devnet_deal(&d, 2, &v1, piece.padded_size, cs.car.len, url);
	propose_ok(&ids, &ref, 2, &d);
	follow(&st, 2, &ref);
	CU_ASSERT_EQUAL(st.state, DEALPROTO_FAILED);
	CU_ASSERT(strstr(st.error, "connection reset") != NULL);
	set_fault(2, "{\"fail_transfer\": false}");
	/* the data is not the piece proposed: the SP's CommP check fails */
	CU_ASSERT_EQUAL(commp_compute(&other, cs.car.ptr, 1000), 0);
	commp_cid_v1(&v1, &other);
	devnet_deal(&d, 1, &v1, piece.padded_size, cs.car.len, url);
	propose_ok(&ids, &ref, 1, &d);
	follow(&st, 1, &ref);
	CU_ASSERT_EQUAL(st.state, DEALPROTO_FAILED);
	CU_ASSERT(st.error[0] != '\0');
	/* never_seal: Curio says "Processing" all along */
	set_fault(1, "{\"never_seal\": true}");
	commp_cid_v1(&v1, &piece);
	devnet_deal(&d, 1, &v1, piece.padded_size, cs.car.len, url);
	propose_ok(&ids, &ref, 1, &d);
	for (int k = 0; k < 15; k++) {
		usleep(100000);
		CU_ASSERT_EQUAL(dealproto_status(&st, &call, dp, &sps[1].sp,
						 &ref), 0);
		CU_ASSERT_EQUAL(call.outcome, DEALPROTO_OK);
		CU_ASSERT_EQUAL(st.state, DEALPROTO_ACCEPTED);
	}
	CU_ASSERT_STRING_EQUAL(st.sp_status,
			       "Processing / Not assigned to sector");
	set_fault(1, "{\"never_seal\": false}");
	http_server_stop(srv);
	buf_release(&cs.car);
}

/* One proposal per reason the devnet rejects with (Curio's texts). */
static void test_mk12_client__devnet_rejections(void)
{
	static const struct {
		const char *what;
		enum dealproto_reason reason;
	} cases[] = {
		{ "price below the ask", DEALPROTO_REASON_ASK },
		{ "escrow too small", DEALPROTO_REASON_FUNDS },
		{ "verified, no DataCap", DEALPROTO_REASON_DATACAP },
		{ "collateral 0", DEALPROTO_REASON_COLLATERAL },
		{ "start passed", DEALPROTO_REASON_EPOCHS },
		{ "too short", DEALPROTO_REASON_EPOCHS },
		{ "another provider", DEALPROTO_REASON_POLICY },
		{ "reject_pct 100", DEALPROTO_REASON_POLICY },
	};
	struct cid piece;

	/* any v1 piece CID: these never get as far as a transfer */
	CU_ASSERT_EQUAL_FATAL(cid_parse(&piece, PIECE_V1), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dealproto_proposal ids;
		struct dealproto_call call;
		struct dealproto_deal d;

		devnet_deal(&d, 1, &piece, 1 << 20, 600000,
			    "http://127.0.0.1:9/none.car");
		switch (i) {
		case 0: bigint_from_u64(&d.price_per_epoch, 0); break;
		case 1: bigint_from_u64(&d.price_per_epoch, 1ull << 60); break;
		case 2: d.verified = true; break;
		case 3: bigint_from_u64(&d.provider_collateral, 0); break;
		case 4: d.start_epoch = head() - 5; break;
		case 5: d.end_epoch = d.start_epoch + 100; break;
		case 6: d.provider = sps[0].sp.addr; break;
		case 7: set_fault(1, "{\"reject_pct\": 100}"); break;
		}
		CU_ASSERT_EQUAL(dealproto_propose(&ids, &call, dp, &sps[1].sp,
						  &d), 0);
		CU_ASSERT_EQUAL(call.outcome, DEALPROTO_REJECTED);
		CU_ASSERT_EQUAL(call.reason, cases[i].reason);
		CU_ASSERT_EQUAL(call.http_status, 200);
		if (call.reason != cases[i].reason)
			fprintf(stderr, "%s: %s: %s\n", cases[i].what,
				dealproto_reason_name(call.reason),
				call.detail);
	}
	set_fault(1, "{\"reject_pct\": 0}");
}

/* Poll the ask until its outcome is want (faults apply within a tick). */
static bool ask_until(struct dealproto *p, size_t i,
		      enum dealproto_outcome want,
		      struct dealproto_call *call)
{
	struct dealproto_ask ask;

	for (int k = 0; k < 50; k++) {
		CU_ASSERT_EQUAL(dealproto_ask(&ask, call, p, &sps[i].sp), 0);
		if (call->outcome == want)
			return true;
		usleep(100000);
	}
	fprintf(stderr, "ask %s: %s (%s), want %s\n", sps[i].name,
		dealproto_outcome_name(call->outcome), call->detail,
		dealproto_outcome_name(want));
	return false;
}

static void test_mk12_client__devnet_faults(void)
{
	struct mk12_client_opts opts = { .timeout_ms = 700 };
	struct dealproto *quick = NULL;
	struct dealproto_status st;
	struct dealproto_call call;
	struct dealproto_ref ref = { .check_proposal = false };

	CU_ASSERT_EQUAL(mk12_uuid_generate(ref.uuid), 0);
	ref.client = client;
	CU_ASSERT_EQUAL_FATAL(mk12_client_new(&quick, wallet, &opts), 0);
	/* offline: the listener closes, connections are refused */
	set_fault(2, "{\"offline\": true}");
	CU_ASSERT(ask_until(dp, 2, DEALPROTO_UNREACHABLE, &call));
	CU_ASSERT_EQUAL(call.http_status, 0);
	CU_ASSERT_EQUAL(dealproto_status(&st, &call, dp, &sps[2].sp, &ref), 0);
	CU_ASSERT_EQUAL(call.outcome, DEALPROTO_UNREACHABLE);
	set_fault(2, "{\"offline\": false}");
	CU_ASSERT(ask_until(dp, 2, DEALPROTO_OK, &call));
	/* slow: past the client's timeout */
	set_fault(2, "{\"slow_ms\": 2000}");
	CU_ASSERT(ask_until(quick, 2, DEALPROTO_TIMEOUT, &call));
	CU_ASSERT(call.latency_us >= 600000);
	set_fault(2, "{\"slow_ms\": 0}");
	/* HTTP 429 from the rate limiter */
	set_fault(2, "{\"http429_pct\": 100}");
	CU_ASSERT(ask_until(dp, 2, DEALPROTO_REJECTED, &call));
	CU_ASSERT_EQUAL(call.http_status, 429);
	CU_ASSERT_EQUAL(call.reason, DEALPROTO_REASON_BUSY);
	CU_ASSERT_STRING_EQUAL(call.detail, "HTTP 429: Too Many Requests");
	set_fault(2, "{\"http429_pct\": 0}");
	CU_ASSERT(ask_until(dp, 2, DEALPROTO_OK, &call));
	dealproto_free(quick);
}

/* An SP URL nothing listens on, and one that is not HTTP at all. */
static void test_mk12_client__devnet_unreachable(void)
{
	struct dealproto_sp sp = sps[0].sp;
	struct dealproto_ask ask;
	struct dealproto_call call;

	sp.url = "http://127.0.0.1:1";
	CU_ASSERT_EQUAL(dealproto_ask(&ask, &call, dp, &sp), 0);
	CU_ASSERT_EQUAL(call.outcome, DEALPROTO_UNREACHABLE);
	sp.url = "http://name.invalid";
	CU_ASSERT_EQUAL(dealproto_ask(&ask, &call, dp, &sp), 0);
	CU_ASSERT_EQUAL(call.outcome, DEALPROTO_UNREACHABLE);
	/* ours to fix: no request is made, the SP is not to blame */
	sp.url = "ftp://127.0.0.1";
	CU_ASSERT_EQUAL(dealproto_ask(&ask, &call, dp, &sp), EFS_EINVAL);
	CU_ASSERT_EQUAL(call.outcome, DEALPROTO_ERROR);
	CU_ASSERT_EQUAL(call.http_status, 0);
	sp.url = "http://127.0.0.1 :80";
	CU_ASSERT_EQUAL(dealproto_ask(&ask, &call, dp, &sp), EFS_EINVAL);
	sp.url = NULL;
	CU_ASSERT_EQUAL(dealproto_ask(&ask, &call, dp, &sp), EFS_EINVAL);
}

static CU_TestInfo devnet_tests[] = {
	{ "asks", test_mk12_client__devnet_asks },
	{ "deal", test_mk12_client__devnet_deal },
	{ "failures", test_mk12_client__devnet_failures },
	{ "rejections", test_mk12_client__devnet_rejections },
	{ "faults", test_mk12_client__devnet_faults },
	{ "unreachable", test_mk12_client__devnet_unreachable },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "mk12_client_devnet", .pInitFunc = devnet_init,
	       .pCleanupFunc = devnet_clean, .pTests = devnet_tests })
