/*
 * sp_mk12.c - /market/mk12/{ask,store,status} as Curio serves them
 * (curio market/mk12/http/http.go, market/mk12/mk12.go, mk12_utils.go):
 *
 * - Every request must say Content-Type: application/cbor and carry one
 *   CBOR message in its body (a GET body for ask and status), at most
 *   4 MiB for store and 1 MiB for the others; anything else is 400 with
 *   an empty body.
 * - Replies are CBOR with status 200, also when a proposal is refused
 *   (DealResponse.Accepted false, Message says why).  Curio writes the
 *   status line before setting Content-Type, so Go sniffs the type from
 *   the bytes: we send what Go would (sp_sniff), not application/cbor.
 * - Refusals carry Curio's messages, in Curio's order of checks.  Where
 *   Curio's code turns a specific reason into a generic one, we do too:
 *   a bad client signature is "server error: validating signature" (its
 *   verifier returns the mismatch as an error), and a price or size
 *   outside the ask is "internal server error: failed to apply filters"
 *   (validateAsk's error is wrapped as an internal one).  The real
 *   reason goes to the devnet log.
 * - Status follows Curio's answers (mk12.h MK12_CURIO_*): "Processing"
 *   until the deal is sealed, then "Sealed" / "Sealed and Indexed" with
 *   the chain deal ID; TransferSize and NBytesReceived 1; an unknown UUID
 *   gets "failed to get sealed deal status".  A failed deal has its
 *   reason in DealStatus.Error (what Curio's failDeal stores), with the
 *   statuses Curio gives a deal that left its pipeline ("Sealed" /
 *   "Sealed and Indexed"): a client must look at Error first.  Unlike
 *   Curio, and as Boost does, the request's signature over the UUID is
 *   checked against the deal's client ("signature verification
 *   failed").
 *
 * The chain state the checks need (collateral bounds, the client's
 * escrow and DataCap) is read from the devnet chain directly.
 */
#include "contrib/devnet/sp_i.h"

#include <stdio.h>
#include <string.h>

#include "contrib/devnet/chain.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/filkey.h"
#include "net/http.h"

#define LOG_TOPIC "sp"
#include "core/log.h"

#include "core/banned.h"

/* go-state-types builtin/v15 market and miner policy. */
#define EPOCHS_IN_DAY 2880
#define DEAL_MIN_DURATION (180 * EPOCHS_IN_DAY)
#define DEAL_MAX_DURATION (1278 * EPOCHS_IN_DAY)
#define MAX_SECTOR_EXPIRATION_EXTENSION (1278 * EPOCHS_IN_DAY)
/* The ask's validity (Curio's SetAsk: ten years of epochs). */
#define ASK_EXPIRY (10 * 365 * EPOCHS_IN_DAY)

#define MSG_BACKPRESSURE \
	"deal rejected due to backpressure. Please retry in some time."

/* Reply with the CBOR in b, typed as Go would sniff it. */
static void reply_cbor(struct http_req *req, const struct buf *b)
{
	http_reply(req, 200, sp_sniff(b->ptr, b->len), b->ptr, b->len);
}

/* Method, content type and size checks; the body on success. */
static const uint8_t *read_body(struct http_req *req, size_t *len,
				const char *method, size_t cap)
{
	const char *ct = http_req_header(req, "Content-Type");
	const uint8_t *body;

	if (strcmp(http_req_method(req), method) != 0) {
		http_resp_header(req, "Allow", method);
		http_reply(req, 405, NULL, "", 0);
		return NULL;
	}
	body = http_req_body(req, len);
	if (!ct || strcmp(ct, "application/cbor") != 0 ||
	    http_req_body_too_big(req) || *len > cap) {
		http_reply(req, 400, NULL, "", 0);
		return NULL;
	}
	return body;
}

/* ---- ask ---- */

static int ask_sign(struct mk12_signed_ask *sa, const struct sp *sp)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	int rc;

	if ((rc = mk12_ask_encode(&b, &sa->ask)) == 0)
		rc = filkey_sign(&sa->signature, &sp->m->worker, b.ptr, b.len);
	buf_release(&b);
	sa->has_signature = rc == 0;
	return rc;
}

static void serve_ask(struct sp *sp, struct http_req *req)
{
	struct mk12_ask_response resp = { .has_ask = true };
	struct mk12_signed_ask *sa = &resp.ask;
	struct buf out = BUF_INIT(BUF_NOCAP);
	struct mk12_ask_request ar;
	const uint8_t *body;
	size_t len;

	if (!(body = read_body(req, &len, "GET", MK12_ASK_BODY_MAX)))
		return;
	if (mk12_ask_request_decode(&ar, body, len) < 0) {
		http_reply(req, 400, NULL, "", 0);
		return;
	}
	/* GetAsk: IDFromAddress fails, or no ask row for that miner. */
	if (!filaddr_equal(&ar.miner, &sp->m->addr)) {
		http_reply(req, 500, NULL, "", 0);
		return;
	}
	sa->has_ask = true;
	sa->ask.price = sp->m->price;
	sa->ask.verified_price = sp->m->verified_price;
	sa->ask.min_piece_size = devnet_min_piece(sp->d, sp->m);
	sa->ask.max_piece_size = sp->m->max_piece;
	sa->ask.miner = sp->m->addr;
	sa->ask.timestamp = 0;
	sa->ask.expiry = ASK_EXPIRY;
	sa->ask.seq_no = 1;
	if (ask_sign(sa, sp) < 0 || mk12_ask_response_encode(&out, &resp) < 0)
		http_reply(req, 500, NULL, "", 0);
	else
		reply_cbor(req, &out);
	buf_release(&out);
}

/* ---- store ---- */

/*
 * Curio takes the bounds from StateDealProviderCollateralBounds and
 * accepts Min .. maxDealCollateralMultiplier (2) x Min, whatever Max is.
 */
static void check_collateral(char *why, size_t cap, struct sp *sp,
			     const struct mk12_proposal *p)
{
	struct bigint min, max, two;
	char a[BIGINT_STR_MAX], b[BIGINT_STR_MAX];

	if (market_collateral_bounds(sp->d, &min, &max, p->piece_size,
				     p->verified) < 0) {
		snprintf(why, cap, "server error: getting collateral bounds");
		return;
	}
	bigint_from_u64(&two, 2);
	if (bigint_mul(&max, &min, &two) < 0) {
		snprintf(why, cap, "server error: getting collateral bounds");
		return;
	}
	bigint_format(a, &p->provider_collateral);
	if (bigint_cmp(&p->provider_collateral, &min) < 0)
		snprintf(why, cap, "proposed provider collateral %s below"
			 " minimum %s", a, (bigint_format(b, &min), b));
	else if (bigint_cmp(&p->provider_collateral, &max) > 0)
		snprintf(why, cap, "proposed provider collateral %s above"
			 " maximum %s", a, (bigint_format(b, &max), b));
}

/* The chain state Curio reads for a proposal: escrow, DataCap. */
struct client_state {
	struct chain_escrow escrow;
	struct bigint datacap;
	bool is_verified;
};

static int client_state(struct client_state *out, struct sp *sp,
			const struct filaddr *client)
{
	struct chain_actor a;
	int rc;

	if ((rc = chain_actor_get(sp->d, &a, client)) < 0)
		return rc;
	pthread_mutex_lock(&sp->d->lock);
	rc = chain_escrow_get_locked(sp->d, &out->escrow, a.id);
	if (rc == 0)
		rc = chain_datacap_get_locked(sp->d, &out->datacap,
					      &out->is_verified, a.id);
	pthread_mutex_unlock(&sp->d->lock);
	return rc;
}

/* ClientBalanceRequirement: collateral + price x duration. */
static int client_need(struct bigint *out, const struct mk12_proposal *p)
{
	struct bigint dur;
	int rc;

	bigint_from_i64(&dur, p->end_epoch - p->start_epoch);
	if ((rc = bigint_mul(out, &p->price_per_epoch, &dur)) < 0)
		return rc;
	return bigint_add(out, out, &p->client_collateral);
}

/* Curio's escrow and DataCap checks (StateMarketBalance,
 * StateVerifiedClientStatus). */
static void check_funds(char *why, size_t cap, struct sp *sp,
			const struct mk12_proposal *p)
{
	char a[BIGINT_STR_MAX], b[BIGINT_STR_MAX];
	struct bigint avail, need, size;
	struct client_state cs;

	if (client_state(&cs, sp, &p->client) < 0) {
		snprintf(why, cap, "server error: getting market balance");
		return;
	}
	if (bigint_sub(&avail, &cs.escrow.escrow, &cs.escrow.locked) < 0 ||
	    client_need(&need, p) < 0) {
		snprintf(why, cap, "server error: getting market balance");
		return;
	}
	bigint_format(a, &avail);
	bigint_format(b, &need);
	bigint_from_u64(&size, p->piece_size);
	if (bigint_cmp(&avail, &need) < 0) {
		snprintf(why, cap, "client available funds in escrow %s not"
			 " enough to meet storage cost for deal %s", a, b);
	} else if (p->verified && !cs.is_verified) {
		snprintf(why, cap, "client is not a verified client");
	} else if (p->verified && bigint_cmp(&cs.datacap, &size) < 0) {
		bigint_format(a, &cs.datacap);
		snprintf(why, cap, "verified deal DataCap %s too small for"
			 " proposed piece size %llu", a,
			 (unsigned long long)p->piece_size);
	}
}

/* Curio's validateDealProposal: "" when valid, else the reason. */
static void validate_proposal(char *why, size_t cap, struct sp *sp,
			      const struct mk12_client_proposal *cp,
			      int64_t head)
{
	const struct mk12_proposal *p = &cp->proposal;
	char a[FILADDR_STR_MAX], me[FILADDR_STR_MAX];
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct filaddr key;
	int64_t dur = p->end_epoch - p->start_epoch;
	int rc;

	why[0] = '\0';
	rc = chain_account_key(sp->d, &key, &p->client);
	if (rc == 0 && (rc = mk12_proposal_encode(&b, p)) == 0)
		rc = filsig_verify(&cp->signature, &key, b.ptr, b.len);
	buf_release(&b);
	if (rc < 0) {
		efs_log_info("miner f0%llu: proposal signature: %s",
			     (unsigned long long)sp->m->id, efs_error_msg());
		snprintf(why, cap, "server error: validating signature");
	} else if (!filaddr_equal(&p->provider, &sp->m->addr)) {
		filaddr_format(a, &p->provider, sp->d->net);
		filaddr_format(me, &sp->m->addr, sp->d->net);
		snprintf(why, cap,
			 "incorrect provider for deal; proposal.Provider: %s;"
			 " provider.Address: [%s]", a, me);
	} else if (p->label.data.len > DEVNET_LABEL_MAX) {
		snprintf(why, cap, "deal label can be at most %d bytes, is %zu",
			 DEVNET_LABEL_MAX, p->label.data.len);
	} else if (p->piece_size < 128) {
		snprintf(why, cap, "proposal piece size is invalid: minimum"
			 " padded piece size is 128 bytes");
	} else if (p->piece_size & (p->piece_size - 1)) {
		snprintf(why, cap, "proposal piece size is invalid: padded"
			 " piece size must be a power of 2");
	} else if (!commp_cid_is_v1(&p->piece_cid)) {
		snprintf(why, cap, "proposal PieceCID had wrong prefix");
	} else if (p->end_epoch <= p->start_epoch) {
		snprintf(why, cap,
			 "proposal end %lld before proposal start %lld",
			 (long long)p->end_epoch, (long long)p->start_epoch);
	} else if (head > p->start_epoch) {
		snprintf(why, cap, "deal start epoch %lld has already elapsed"
			 " (current epoch: %lld)",
			 (long long)p->start_epoch, (long long)head);
	} else if (dur < DEAL_MIN_DURATION || dur > DEAL_MAX_DURATION) {
		snprintf(why, cap, "deal duration out of bounds (min, max,"
			 " provided): %d, %d, %lld", DEAL_MIN_DURATION,
			 DEAL_MAX_DURATION, (long long)dur);
	} else if (p->end_epoch > head + MAX_SECTOR_EXPIRATION_EXTENSION) {
		snprintf(why, cap, "invalid deal end epoch %lld: cannot be more"
			 " than %d past current epoch %lld",
			 (long long)p->end_epoch,
			 MAX_SECTOR_EXPIRATION_EXTENSION, (long long)head);
	} else {
		check_collateral(why, cap, sp, p);
		if (!why[0])
			check_funds(why, cap, sp, p);
	}
}

/* Curio's validateAsk; true when the proposal fits the ask.  Curio
 * reports a misfit as "internal server error: failed to apply filters";
 * the log gets the real reason. */
static bool fits_ask(struct sp *sp, const struct mk12_proposal *p)
{
	struct bigint size, gib, min, rem;
	char a[BIGINT_STR_MAX], b[BIGINT_STR_MAX];
	uint64_t min_piece = devnet_min_piece(sp->d, sp->m);

	bigint_from_u64(&size, p->piece_size);
	bigint_from_u64(&gib, 1ull << 30);
	if (bigint_mul(&min, p->verified ? &sp->m->verified_price
					 : &sp->m->price, &size) < 0 ||
	    bigint_divmod(&min, &rem, &min, &gib) < 0)
		return false;
	if (bigint_cmp(&p->price_per_epoch, &min) < 0) {
		bigint_format(a, &p->price_per_epoch);
		bigint_format(b, &min);
		efs_log_info("storage price per epoch less than asking price:"
			     " %s < %s", a, b);
		return false;
	}
	if (p->piece_size < min_piece || p->piece_size > sp->m->max_piece) {
		efs_log_info("piece size %llu outside the ask's %llu..%llu",
			     (unsigned long long)p->piece_size,
			     (unsigned long long)min_piece,
			     (unsigned long long)sp->m->max_piece);
		return false;
	}
	return true;
}

/* Curio's processDeal checks of the transfer. */
static void validate_transfer(char *why, size_t cap,
			      const struct mk12_deal_params *dp)
{
	const struct mk12_transfer *t = &dp->transfer;
	uint64_t padded = commp_padded_size(t->size);
	struct mk12_http_request hr = { 0 };

	why[0] = '\0';
	if (t->type && !strcmp(t->type, "libp2p")) {
		snprintf(why, cap,
			 "libp2p URLs are not supported by this provider");
	} else if (dp->proposal.proposal.piece_size != padded) {
		snprintf(why, cap, "deal proposal piece size %llu doesn't"
			 " match padded piece size %llu",
			 (unsigned long long)dp->proposal.proposal.piece_size,
			 (unsigned long long)padded);
	} else if (sp_transfer_params(&hr, &t->params) < 0) {
		snprintf(why, cap, "%s", efs_error_msg());
	}
	mk12_http_request_release(&hr);
}

/* The provider's own filters: offline deals, faults, backpressure. */
static void apply_filters(char *why, size_t cap, struct sp *sp,
			  struct db *db, const struct mk12_deal_params *dp)
{
	struct devnet_fault f;
	size_t waiting;

	why[0] = '\0';
	devnet_fault_get(sp->d, sp->m, &f);
	if (dp->is_offline)
		snprintf(why, cap,
			 "offline deals are not allowed on this provider");
	else if (f.reject_pct >= 100)
		snprintf(why, cap, "client not allowed by provider");
	else if ((f.reject_pct && sp_roll(sp) < f.reject_pct) ||
		 sp_db_deals_waiting(&waiting, db, sp->m->id) < 0 ||
		 waiting >= SP_QUEUE_MAX)
		snprintf(why, cap, "%s", MSG_BACKPRESSURE);
	else if (!fits_ask(sp, &dp->proposal.proposal))
		snprintf(why, cap, "internal server error: failed to apply"
			 " filters");
	else
		validate_transfer(why, cap, dp);
}

/* Record the deal; "" on success, else Curio's "store deal: ..." text. */
static void store_deal(char *why, size_t cap, struct sp *sp, struct db *db,
		       const struct mk12_deal_params *dp, const uint8_t *body,
		       size_t len)
{
	char cs[CID_STR_MAX];
	struct cid pcid;
	bool dup_uuid;
	int rc;

	why[0] = '\0';
	if ((rc = mk12_proposal_cid(&pcid, &dp->proposal.proposal)) < 0) {
		snprintf(why, cap, "get proposal CID: %s", efs_error_msg());
		return;
	}
	rc = sp_db_deal_insert(db, &dup_uuid, sp, dp, body, len, &pcid);
	if (rc == EFS_EEXISTS && dup_uuid)
		snprintf(why, cap, "store deal: store deal success: updated 0"
			 " rows instead of 1");
	else if (rc == EFS_EEXISTS)
		snprintf(why, cap, "store deal: market deal with the same"
			 " proposalCID %s already exists: 1",
			 cid_tostr(cs, &pcid));
	else if (rc < 0)
		snprintf(why, cap, "store deal: %s", efs_error_msg());
}

/* Curio's ExecuteDeal: "" when accepted, else the rejection reason. */
static void execute_deal(char *why, size_t cap, struct sp *sp,
			 const struct mk12_deal_params *dp,
			 const uint8_t *body, size_t len)
{
	char v[768];
	struct db *db;

	validate_proposal(v, sizeof(v), sp, &dp->proposal, chain_head(sp->d));
	if (v[0]) {
		snprintf(why, cap, "failed validation: %s", v);
		return;
	}
	if (sp_db_open(sp->d, &db) < 0) {
		snprintf(why, cap, "store deal: %s", efs_error_msg());
		return;
	}
	apply_filters(why, cap, sp, db, dp);
	if (!why[0])
		store_deal(why, cap, sp, db, dp, body, len);
	db_close(db);
}

static void serve_store(struct sp *sp, struct http_req *req)
{
	struct mk12_deal_response resp = { 0 };
	struct buf out = BUF_INIT(BUF_NOCAP);
	struct mk12_deal_params dp;
	char why[1024], u[MK12_UUID_STR_MAX];
	const uint8_t *body;
	size_t len;

	if (!(body = read_body(req, &len, "POST", MK12_STORE_BODY_MAX)))
		return;
	if (mk12_deal_params_decode(&dp, body, len) < 0) {
		efs_log_info("miner f0%llu: bad DealParams: %s",
			     (unsigned long long)sp->m->id, efs_error_msg());
		http_reply(req, 400, NULL, "", 0);
		return;
	}
	execute_deal(why, sizeof(why), sp, &dp, body, len);
	mk12_uuid_format(u, dp.uuid);
	efs_log_info("miner f0%llu: deal %s %s%s",
		     (unsigned long long)sp->m->id, u,
		     why[0] ? "rejected: " : "accepted", why);
	resp.accepted = !why[0];
	resp.message = why;
	if (mk12_deal_response_encode(&out, &resp) < 0)
		http_reply(req, 500, "text/plain; charset=utf-8",
			   efs_error_msg(), strlen(efs_error_msg()));
	else
		reply_cbor(req, &out);
	if (resp.accepted)
		sp_kick(sp);
	buf_release(&out);
	mk12_deal_params_release(&dp);
}

/* ---- status ---- */

/* Boost's check of the request signature; "" when it holds. */
static void check_status_sig(char *why, size_t cap, struct sp *sp,
			     const struct mk12_status_request *r,
			     const struct sp_deal *dl)
{
	const struct filaddr *client = &dl->params.proposal.proposal.client;
	char a[FILADDR_STR_MAX];
	struct filaddr key;

	why[0] = '\0';
	if (chain_account_key(sp->d, &key, client) < 0) {
		filaddr_format(a, client, sp->d->net);
		snprintf(why, cap,
			 "failed to get account key for client addr %s", a);
	} else if (filsig_verify(&r->signature, &key, r->uuid,
				 MK12_UUID_LEN) < 0) {
		snprintf(why, cap, "signature verification failed");
	}
}

static void fill_status(struct mk12_status_response *resp,
			const struct sp_deal *dl)
{
	struct mk12_deal_status *ds = &resp->status;
	bool done = dl->state == SP_DEAL_ACTIVE || dl->state == SP_DEAL_FAILED;

	resp->has_status = true;
	resp->transfer_size = 1;
	resp->nbytes_received = 1;
	ds->error = (char *)dl->error;
	ds->status = done ? MK12_CURIO_SEALED : MK12_CURIO_PROCESSING;
	ds->sealing_status = done ? MK12_CURIO_SEALED_INDEXED
				  : MK12_CURIO_NOT_ASSIGNED;
	ds->proposal = dl->params.proposal.proposal;
	/* Cannot fail for a proposal that decoded; undefined otherwise. */
	mk12_signed_proposal_cid(&ds->signed_proposal_cid,
				 &dl->params.proposal);
	if (done && dl->chain_deal_id) {
		ds->chain_deal_id = dl->chain_deal_id;
		ds->has_publish_cid = true;
		ds->publish_cid = dl->publish_cid;
	}
}

static void serve_status(struct sp *sp, struct http_req *req)
{
	struct mk12_status_response resp = { 0 };
	struct buf out = BUF_INIT(BUF_NOCAP);
	struct mk12_status_request sr;
	struct sp_deal dl = { 0 };
	const uint8_t *body;
	struct db *db = NULL;
	char why[256] = "";
	size_t len;
	int rc;

	if (!(body = read_body(req, &len, "GET", MK12_STATUS_BODY_MAX)))
		return;
	if (mk12_status_request_decode(&sr, body, len) < 0) {
		http_reply(req, 400, NULL, "", 0);
		return;
	}
	memcpy(resp.uuid, sr.uuid, MK12_UUID_LEN);
	rc = sp_db_open(sp->d, &db);
	if (rc == 0)
		rc = sp_db_deal_get(&dl, db, sr.uuid);
	if (rc < 0 || dl.miner != sp->m->id)
		snprintf(why, sizeof(why), "%s", MK12_CURIO_STATUS_FAILED);
	else
		check_status_sig(why, sizeof(why), sp, &sr, &dl);
	if (why[0])
		resp.error = why;
	else
		fill_status(&resp, &dl);
	if (mk12_status_response_encode(&out, &resp) < 0)
		http_reply(req, 500, "text/plain; charset=utf-8",
			   efs_error_msg(), strlen(efs_error_msg()));
	else
		reply_cbor(req, &out);
	buf_release(&out);
	sp_deal_release(&dl);
	db_close(db);
}

void sp_mk12_serve(struct sp *sp, struct http_req *req, const char *sub)
{
	if (!strcmp(sub, "/store"))
		serve_store(sp, req);
	else if (!strcmp(sub, "/status"))
		serve_status(sp, req);
	else if (!strcmp(sub, "/ask"))
		serve_ask(sp, req);
	else
		http_reply_text(req, 404, "404 page not found\n");
}
