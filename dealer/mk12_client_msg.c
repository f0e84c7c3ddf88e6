/*
 * mk12_client_msg.c - the message side of the mk12 client (see
 * mk12_client.h): the signed DealParams a deal builds, and the mapping
 * of Curio's and Boost's replies to the normalized dealproto types.  No
 * network: the fuzzer and the unit tests drive these with bytes.
 *
 * Design notes:
 * - A proposal is built from the deal alone; with RFC 6979 signatures
 *   the same deal builds the same bytes, so the dealer may persist the
 *   deal (its UUID above all) and propose again after a crash: the SP
 *   then says "already exists" (reason duplicate) and the status call
 *   tells the rest.
 * - Curio answers 200 with CBOR also to rejections; it sniffs rather
 *   than sets its content type, so the type is not checked: the bytes
 *   decode or they are garbage.
 * - Curio's status is coarse ("Processing" until sealed, 1 and 1 for the
 *   transfer bytes); Boost's has checkpoints.  Both map onto one state
 *   ladder, accepted < transferring < awaiting_publish < published <
 *   sealing < active, raised by what else the reply carries (a deal
 *   ID, a publish CID, bytes received).
 */
#include "dealer/mk12_client.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/commp.h"
#include "core/error.h"
#include "core/mk12_http.h"
#include "net/httpc.h"

#include "core/banned.h"

/* ---- building the proposal ---- */

static int check_deal(const struct dealproto_deal *d)
{
	char a[BIGINT_STR_MAX];

	if (!commp_cid_is_v1(&d->piece_cid))
		return efs_error_set(EFS_EINVAL,
				     "mk12: the piece CID is not a v1 piece"
				     " CID");
	if (!commp_padded_valid(d->piece_size))
		return efs_error_set(EFS_EINVAL,
				     "mk12: piece size %llu is not a padded"
				     " size",
				     (unsigned long long)d->piece_size);
	if (commp_padded_size(d->payload_size) != d->piece_size)
		return efs_error_set(EFS_EINVAL,
				     "mk12: a payload of %llu bytes pads to"
				     " %llu, not the piece size %llu",
				     (unsigned long long)d->payload_size,
				     (unsigned long long)commp_padded_size(
					     d->payload_size),
				     (unsigned long long)d->piece_size);
	if (d->end_epoch <= d->start_epoch)
		return efs_error_set(EFS_EINVAL,
				     "mk12: end epoch %lld not after start"
				     " %lld",
				     (long long)d->end_epoch,
				     (long long)d->start_epoch);
	if (d->price_per_epoch.neg || d->provider_collateral.neg) {
		bigint_format(a, d->price_per_epoch.neg
					 ? &d->price_per_epoch
					 : &d->provider_collateral);
		return efs_error_set(EFS_EINVAL, "mk12: negative amount %s",
				     a);
	}
	if (!httpc_url_ok(d->transfer_url))
		return efs_error_set(EFS_EINVAL,
				     "mk12: transfer URL is not http(s)");
	return 0;
}

/* Transfer.Params: the HttpRequest JSON of the pull. */
static int transfer_params(struct mk12_bytes *out,
			   const struct dealproto_deal *d)
{
	struct mk12_http_request hr = { 0 };
	struct buf b = BUF_INIT(MK12_BYTES_MAX);
	int rc = 0;

	hr.url = (char *)d->transfer_url;
	for (size_t i = 0; rc == 0 && i < d->nheaders; i++) {
		for (size_t j = 0; j < hr.nheaders; j++)
			if (!strcmp(hr.headers[j].name, d->headers[i].name))
				rc = efs_error_set(EFS_EINVAL,
						   "mk12: header %s twice",
						   d->headers[i].name);
		if (rc == 0)
			rc = mk12_http_request_set_header(
				&hr, d->headers[i].name, d->headers[i].value);
	}
	if (rc == 0 && (rc = mk12_http_request_encode(&b, &hr)) == 0)
		out->ptr = buf_detach(&b, &out->len);
	hr.url = NULL;   /* borrowed: not for release */
	mk12_http_request_release(&hr);
	buf_release(&b);
	return rc;
}

/* The ClientDealProposal: the proposal and the client's signature. */
static int sign_proposal(struct mk12_client_proposal *cp, struct wallet *w,
			 const struct dealproto_deal *d)
{
	struct mk12_proposal *p = &cp->proposal;
	const char *label = d->label ? d->label : "";
	struct buf b = BUF_INIT(BUF_NOCAP);
	int rc;

	p->piece_cid = d->piece_cid;
	p->piece_size = d->piece_size;
	p->verified = d->verified;
	p->client = d->client;
	p->provider = d->provider;
	p->start_epoch = d->start_epoch;
	p->end_epoch = d->end_epoch;
	p->price_per_epoch = d->price_per_epoch;
	p->provider_collateral = d->provider_collateral;
	bigint_from_u64(&p->client_collateral, 0);
	rc = mk12_label_set(&p->label, false, label, strlen(label));
	if (rc == 0)
		rc = mk12_proposal_encode(&b, p);
	if (rc == 0)
		rc = wallet_sign(&cp->signature, w, &d->client, b.ptr, b.len);
	buf_release(&b);
	return rc;
}

int mk12_client_build(struct mk12_deal_params *out,
		      struct dealproto_proposal *ids, struct wallet *w,
		      const struct dealproto_deal *d)
{
	struct dealproto_proposal tmp;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!ids)
		ids = &tmp;
	if ((rc = check_deal(d)) < 0)
		return rc;
	memcpy(out->uuid, d->uuid, MK12_UUID_LEN);
	out->data_root = d->root ? *d->root : d->piece_cid;
	out->transfer.size = d->payload_size;
	if (!(out->transfer.type = efs_strdup("http")))
		rc = efs_error_set(EFS_ENOMEM, "mk12: out of memory");
	if (rc == 0)
		rc = transfer_params(&out->transfer.params, d);
	if (rc == 0)
		rc = sign_proposal(&out->proposal, w, d);
	if (rc == 0)
		rc = mk12_proposal_cid(&ids->proposal_cid,
				       &out->proposal.proposal);
	if (rc == 0)
		rc = mk12_signed_proposal_cid(&ids->signed_proposal_cid,
					      &out->proposal);
	return rc;
}

/* ---- reading replies ---- */

/* A 200 body that is not the message: say what it looked like. */
static int garbage(struct dealproto_call *call, int rc, const char *what,
		   const uint8_t *body, size_t len)
{
	size_t i = 0;

	if (rc == EFS_ENOMEM)
		return dealproto_call_local(call, rc);
	while (i < len && (body[i] == ' ' || body[i] == '\n' ||
			   body[i] == '\r' || body[i] == '\t'))
		i++;
	if (len == 0)
		dealproto_call_set(call, DEALPROTO_GARBAGE, "empty %s reply",
				   what);
	else if (i < len && body[i] == '<')
		dealproto_call_set(call, DEALPROTO_GARBAGE,
				   "%s reply is an HTML page, not CBOR", what);
	else
		dealproto_call_set(call, DEALPROTO_GARBAGE, "%s reply: %s",
				   what, efs_error_msg());
	return 0;
}

int mk12_client_read_ask(struct dealproto_ask *out,
			 struct dealproto_call *call,
			 const struct filaddr *miner, const uint8_t *body,
			 size_t len)
{
	struct mk12_ask_response r;
	const struct mk12_ask *a = &r.ask.ask;
	char x[FILADDR_STR_MAX], y[FILADDR_STR_MAX];
	int rc = 0;

	if (len == 0 || (rc = mk12_ask_response_decode(&r, body, len)) < 0)
		return garbage(call, len ? rc : 0, "ask", body, len);
	if (!r.has_ask || !r.ask.has_ask)
		return dealproto_call_set(call, DEALPROTO_REJECTED,
					  "the SP has no ask");
	if (!filaddr_equal(&a->miner, miner)) {
		filaddr_format(x, &a->miner, 'f');
		filaddr_format(y, miner, 'f');
		return dealproto_call_set(call, DEALPROTO_GARBAGE,
					  "ask is for %s, not %s", x, y);
	}
	if (a->price.neg || a->verified_price.neg)
		return dealproto_call_set(call, DEALPROTO_GARBAGE,
					  "ask has a negative price");
	if (a->max_piece_size == 0 || a->min_piece_size > a->max_piece_size)
		return dealproto_call_set(
			call, DEALPROTO_GARBAGE, "ask piece sizes %llu..%llu",
			(unsigned long long)a->min_piece_size,
			(unsigned long long)a->max_piece_size);
	out->price = a->price;
	out->verified_price = a->verified_price;
	out->min_piece = a->min_piece_size;
	out->max_piece = a->max_piece_size;
	out->expiry = a->expiry;
	out->seq = a->seq_no;
	return dealproto_call_set(call, DEALPROTO_OK, "%s", "");
}

int mk12_client_read_store(struct dealproto_call *call, const uint8_t *body,
			   size_t len)
{
	struct mk12_deal_response r;
	int rc = 0;

	if (len == 0 || (rc = mk12_deal_response_decode(&r, body, len)) < 0)
		return garbage(call, len ? rc : 0, "store", body, len);
	if (r.accepted)
		dealproto_call_set(call, DEALPROTO_OK, "%s", "");
	else
		dealproto_call_reject(call, r.message ? r.message : "",
				      r.message ? strlen(r.message) : 0);
	mk12_deal_response_release(&r);
	return 0;
}

int mk12_client_read_status(struct dealproto_status *out,
			    struct dealproto_call *call,
			    const struct dealproto_ref *ref,
			    const uint8_t *body, size_t len)
{
	struct mk12_status_response r;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->state = DEALPROTO_UNKNOWN;
	if (len == 0 || (rc = mk12_status_response_decode(&r, body, len)) < 0)
		return garbage(call, len ? rc : 0, "status", body, len);
	mk12_client_status_of(out, call, ref, &r);
	mk12_status_response_release(&r);
	return 0;
}

/* Status texts (DealStatus.Status) of Curio and Boost. */
static const struct {
	const char *text;
	enum dealproto_state state;
} status_texts[] = {
	{ MK12_CURIO_PROCESSING, DEALPROTO_ACCEPTED },
	{ "Sealing", DEALPROTO_SEALING },
	{ MK12_CURIO_SEALED, DEALPROTO_ACTIVE },
	{ MK12_CURIO_SEALED_INDEXED, DEALPROTO_ACTIVE },
	{ MK12_BOOST_ACCEPTED, DEALPROTO_ACCEPTED },
	{ MK12_BOOST_TRANSFERRED, DEALPROTO_AWAITING_PUBLISH },
	{ MK12_BOOST_PUBLISHED, DEALPROTO_AWAITING_PUBLISH },
	{ MK12_BOOST_PUBLISH_CONFIRMED, DEALPROTO_PUBLISHED },
	{ MK12_BOOST_ADDED_PIECE, DEALPROTO_SEALING },
	{ MK12_BOOST_INDEXED, DEALPROTO_SEALING },
	{ MK12_BOOST_COMPLETE, DEALPROTO_ACTIVE },
};

static enum dealproto_state state_of(const char *text,
				     const struct dealproto_status *st)
{
	enum dealproto_state s = DEALPROTO_UNKNOWN;
	size_t n = sizeof(status_texts) / sizeof(status_texts[0]);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(text, status_texts[i].text))
			s = status_texts[i].state;
	if (s > DEALPROTO_SEALING)
		return s;
	/* What the SP reports beside the text says how far it got. */
	if (st->has_bytes && st->bytes_received && s < DEALPROTO_TRANSFERRING)
		s = DEALPROTO_TRANSFERRING;
	if (st->has_publish_cid && s < DEALPROTO_AWAITING_PUBLISH)
		s = DEALPROTO_AWAITING_PUBLISH;
	if (st->deal_id && s < DEALPROTO_PUBLISHED)
		s = DEALPROTO_PUBLISHED;
	return s;
}

static bool is_empty(const char *s)
{
	return !s || !s[0];
}

void mk12_client_status_of(struct dealproto_status *out,
			   struct dealproto_call *call,
			   const struct dealproto_ref *ref,
			   const struct mk12_status_response *r)
{
	const struct mk12_deal_status *ds = &r->status;
	char u[MK12_UUID_STR_MAX], line[DEALPROTO_STATUS_MAX * 2];

	memset(out, 0, sizeof(*out));
	out->state = DEALPROTO_UNKNOWN;
	if (memcmp(r->uuid, ref->uuid, MK12_UUID_LEN)) {
		mk12_uuid_format(u, r->uuid);
		dealproto_call_set(call, DEALPROTO_GARBAGE,
				   "status is of deal %s", u);
		return;
	}
	if (!r->has_status) {
		if (is_empty(r->error)) {
			dealproto_call_set(call, DEALPROTO_GARBAGE,
					   "status reply has no status and no"
					   " error");
			return;
		}
		dealproto_call_reject(call, r->error, strlen(r->error));
		dealproto_line(out->error, sizeof(out->error), r->error,
			       strlen(r->error));
		return;
	}
	if (ref->check_proposal &&
	    !cid_equal(&ds->signed_proposal_cid, &ref->signed_proposal_cid)) {
		dealproto_call_set(call, DEALPROTO_GARBAGE,
				   "status is of another proposal");
		return;
	}
	snprintf(line, sizeof(line), "%s / %s", ds->status ? ds->status : "",
		 ds->sealing_status ? ds->sealing_status : "");
	dealproto_line(out->sp_status, sizeof(out->sp_status), line,
		       strlen(line));
	out->deal_id = ds->chain_deal_id;
	out->has_publish_cid = ds->has_publish_cid;
	if (ds->has_publish_cid)
		out->publish_cid = ds->publish_cid;
	if (r->transfer_size > 1) {
		out->has_bytes = true;
		out->bytes_received = r->nbytes_received;
		out->transfer_size = r->transfer_size;
	}
	if (!is_empty(ds->error)) {
		out->state = DEALPROTO_FAILED;
		dealproto_line(out->error, sizeof(out->error), ds->error,
			       strlen(ds->error));
		if (!out->error[0])
			snprintf(out->error, sizeof(out->error),
				 "the SP gave no reason");
	} else {
		out->state = state_of(ds->status ? ds->status : "", out);
	}
	dealproto_call_set(call, DEALPROTO_OK, "%s", "");
}
