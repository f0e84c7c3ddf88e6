/*
 * mk12_check.c - Curio's mk12 deal acceptance rules and messages (see
 * mk12_check.h).
 *
 * Design notes:
 * - Each rule is checked in Curio's order and the first one broken
 *   decides; the texts are Curio's format strings with Go's formatting
 *   (%s and %d of a big.Int print it in decimal, a []address.Address
 *   prints as "[f01000 f01001]").
 * - Arithmetic that Go does on int64 (the duration) wraps as Go's does;
 *   big integers are 256-bit here and unbounded in Go, so a product that
 *   overflows 256 bits (absurd prices) is taken as "more than anyone
 *   has", which is what Go's comparison would conclude too.
 * - Curio's messages for transfer params Go's JSON decoder rejects carry
 *   Go's error text; ours carry mk12_http's, except for empty params,
 *   where Go's "unexpected end of JSON input" is easy to match.
 */
#include "core/mk12_check.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/cid.h"
#include "core/error.h"
#include "core/mhash.h"

#include "core/banned.h"

/* Cap on the texts a verdict holds (the params echo is the long one). */
#define VERDICT_TEXT_MAX (MK12_BYTES_MAX + 4096)

void mk12_check_verdict_init(struct mk12_verdict *v)
{
	v->accepted = true;
	buf_init(&v->reason, VERDICT_TEXT_MAX);
	buf_init(&v->detail, VERDICT_TEXT_MAX);
}

void mk12_check_verdict_release(struct mk12_verdict *v)
{
	buf_release(&v->reason);
	buf_release(&v->detail);
	v->accepted = false;
}

/* Start over: accepted, no texts. */
static void verdict_reset(struct mk12_verdict *v)
{
	v->accepted = true;
	buf_reset(&v->reason);
	buf_reset(&v->detail);
}

/*
 * Reject: reason = prefix + reason (what the client is told), detail =
 * the error behind it (what Curio logs).  A text past the cap is left
 * out rather than failing the check.
 */
static int reject(struct mk12_verdict *v, const char *prefix,
		  const char *reason, const char *detail)
{
	int rc;

	v->accepted = false;
	buf_reset(&v->reason);
	buf_reset(&v->detail);
	rc = buf_adds(&v->reason, prefix);
	if (rc == 0)
		rc = buf_adds(&v->reason, reason);
	if (rc == 0)
		rc = buf_adds(&v->detail, detail);
	return rc == EFS_ETOOBIG ? 0 : rc;
}

/* Curio's validationError{error: Errorf(...)}: reason = the error. */
static int fail(struct mk12_verdict *v, const struct buf *msg)
{
	const char *m = msg->ptr ? (const char *)msg->ptr : "";

	return reject(v, "failed validation: ", m, m);
}

static void format_big(char *out, const struct bigint *a)
{
	bigint_format(out, a);
}

/* ---- validateDealProposal ---- */

static bool piece_cid_prefix_ok(const struct cid *c)
{
	return c->version == 1 &&
	       c->codec == CID_CODEC_FIL_COMMITMENT_UNSEALED &&
	       c->hash == MHASH_SHA2_256_TRUNC254_PADDED && c->digest_len == 32;
}

static int64_t go_sub(int64_t a, int64_t b)
{
	return (int64_t)((uint64_t)a - (uint64_t)b);
}

static bool has_provider(const struct mk12_chain_view *chain,
			 const struct filaddr *a)
{
	for (size_t i = 0; i < chain->nminers; i++)
		if (filaddr_equal(&chain->miners[i], a))
			return true;
	return false;
}

static int provider_message(struct buf *m, const struct mk12_proposal *p,
			    const struct mk12_chain_view *chain)
{
	char s[FILADDR_STR_MAX];
	int rc;

	filaddr_format(s, &p->provider, chain->net);
	rc = buf_printf(m, "incorrect provider for deal; proposal.Provider: "
			"%s; provider.Address: [", s);
	for (size_t i = 0; rc == 0 && i < chain->nminers; i++) {
		filaddr_format(s, &chain->miners[i], chain->net);
		rc = buf_printf(m, "%s%s", i ? " " : "", s);
	}
	return rc < 0 ? rc : buf_addch(m, ']');
}

/* The checks that need only the proposal and the head, in order. */
static int static_rules(struct buf *m, const struct mk12_proposal *p,
			const struct mk12_chain_view *chain)
{
	uint64_t size = p->piece_size;
	int64_t duration;

	if (p->label.data.len > MK12_LABEL_MAX)
		return buf_printf(m, "deal label can be at most %d bytes, "
				  "is %zu", MK12_LABEL_MAX, p->label.data.len);
	if (size < 128)
		return buf_adds(m, "proposal piece size is invalid: minimum "
				"padded piece size is 128 bytes");
	if (size & (size - 1))
		return buf_adds(m, "proposal piece size is invalid: padded "
				"piece size must be a power of 2");
	if (!piece_cid_prefix_ok(&p->piece_cid))
		return buf_adds(m, "proposal PieceCID had wrong prefix");
	if (p->end_epoch <= p->start_epoch)
		return buf_printf(m, "proposal end %" PRId64 " before "
				  "proposal start %" PRId64, p->end_epoch,
				  p->start_epoch);
	if (chain->head > p->start_epoch)
		return buf_printf(m, "deal start epoch %" PRId64 " has already "
				  "elapsed (current epoch: %" PRId64 ")",
				  p->start_epoch, chain->head);
	duration = go_sub(p->end_epoch, p->start_epoch);
	if (duration < MK12_DURATION_MIN || duration > MK12_DURATION_MAX)
		return buf_printf(m, "deal duration out of bounds (min, max, "
				  "provided): %d, %d, %" PRId64,
				  MK12_DURATION_MIN, MK12_DURATION_MAX,
				  duration);
	if (p->end_epoch > chain->head + MK12_END_MAX_AHEAD)
		return buf_printf(m, "invalid deal end epoch %" PRId64
				  ": cannot be more than %d past current "
				  "epoch %" PRId64, p->end_epoch,
				  MK12_END_MAX_AHEAD, chain->head);
	return 0;
}

static int collateral_rules(struct buf *m, const struct mk12_proposal *p,
			    const struct mk12_chain_view *chain)
{
	struct bigint max, factor;
	char a[BIGINT_STR_MAX], b[BIGINT_STR_MAX];

	bigint_from_u64(&factor, MK12_COLLATERAL_MAX_FACTOR);
	format_big(a, &p->provider_collateral);
	if (bigint_cmp(&p->provider_collateral, &chain->collateral_min) < 0) {
		format_big(b, &chain->collateral_min);
		return buf_printf(m, "proposed provider collateral %s below "
				  "minimum %s", a, b);
	}
	if (bigint_mul(&max, &chain->collateral_min, &factor) < 0)
		return 0;  /* a maximum past 2^256: nothing is above it */
	if (bigint_cmp(&p->provider_collateral, &max) > 0) {
		format_big(b, &max);
		return buf_printf(m, "proposed provider collateral %s above "
				  "maximum %s", a, b);
	}
	return 0;
}

static int funds_rules(struct buf *m, const struct mk12_proposal *p,
		       const struct mk12_chain_view *chain)
{
	struct bigint need, size;
	char a[BIGINT_STR_MAX], b[BIGINT_STR_MAX];

	format_big(a, &chain->client_available);
	if (mk12_check_client_cost(&need, p) < 0)
		return buf_printf(m, "client available funds in escrow %s not "
				  "enough to meet storage cost for deal (over "
				  "2^256)", a);
	if (bigint_cmp(&chain->client_available, &need) < 0) {
		format_big(b, &need);
		return buf_printf(m, "client available funds in escrow %s not "
				  "enough to meet storage cost for deal %s",
				  a, b);
	}
	if (!p->verified)
		return 0;
	bigint_from_u64(&size, p->piece_size);
	if (chain->client_verified &&
	    bigint_cmp(&chain->client_datacap, &size) < 0) {
		format_big(a, &chain->client_datacap);
		return buf_printf(m, "verified deal DataCap %s too small for "
				  "proposed piece size %" PRIu64, a,
				  p->piece_size);
	}
	return 0;
}

static int signature_rule(struct mk12_verdict *v, bool *ok,
			  const struct mk12_client_proposal *cp,
			  const struct mk12_chain_view *chain)
{
	struct buf msg = BUF_INIT(BUF_NOCAP);
	struct buf detail = BUF_INIT(VERDICT_TEXT_MAX);
	int rc = mk12_proposal_encode(&msg, &cp->proposal);

	assert(chain->verify);
	*ok = true;
	if (rc == 0 && chain->verify(chain->verify_arg, &cp->signature,
				     &cp->proposal.client, msg.ptr,
				     msg.len) < 0) {
		*ok = false;
		rc = buf_printf(&detail, "validateSignature failed: error "
				"verifying signature: %s", efs_error_msg());
		if (rc == 0)
			rc = reject(v, "failed validation: ",
				    "server error: validating signature",
				    (const char *)detail.ptr);
	}
	buf_release(&msg);
	buf_release(&detail);
	return rc;
}

int mk12_check_proposal(struct mk12_verdict *out,
			const struct mk12_client_proposal *cp,
			const struct mk12_chain_view *chain)
{
	const struct mk12_proposal *p = &cp->proposal;
	struct buf m = BUF_INIT(VERDICT_TEXT_MAX);
	bool ok;
	int rc;

	verdict_reset(out);
	rc = signature_rule(out, &ok, cp, chain);
	if (rc < 0 || !ok)
		return rc;
	if (!has_provider(chain, &p->provider))
		rc = provider_message(&m, p, chain);
	if (rc == 0 && m.len == 0)
		rc = static_rules(&m, p, chain);
	if (rc == 0 && m.len == 0)
		rc = collateral_rules(&m, p, chain);
	if (rc == 0 && m.len == 0)
		rc = funds_rules(&m, p, chain);
	/* after the funds, as in Curio; its own reason, unlike the rest */
	if (rc == 0 && m.len == 0 && p->verified && !chain->client_verified)
		rc = reject(out, "failed validation: ",
			    "client is not a verified client",
			    "node error fetching verified data cap: data cap "
			    "missing -- client not verified");
	else if (rc == 0 && m.len > 0)
		rc = fail(out, &m);
	buf_release(&m);
	return rc;
}

/* ---- validateAsk ---- */

int mk12_check_min_price(struct bigint *out, const struct bigint *ask_price,
			 uint64_t piece_size)
{
	struct bigint size, gib, prod, q, r;
	int rc;

	bigint_from_u64(&size, piece_size);
	bigint_from_u64(&gib, (uint64_t)1 << 30);
	rc = bigint_mul(&prod, ask_price, &size);
	if (rc == 0)
		rc = bigint_divmod(&q, &r, &prod, &gib);
	if (rc < 0)
		return rc;
	/* Go's big.Int.Div is Euclidean: round a negative quotient down */
	if (prod.neg && !bigint_is_zero(&r)) {
		struct bigint one;

		bigint_from_u64(&one, 1);
		rc = bigint_sub(&q, &q, &one);
	}
	if (rc == 0)
		*out = q;
	return rc;
}

int mk12_check_ask(struct mk12_verdict *out, const struct mk12_proposal *p,
		   const struct mk12_ask *ask)
{
	const struct bigint *price = p->verified ? &ask->verified_price
						 : &ask->price;
	struct buf m = BUF_INIT(VERDICT_TEXT_MAX);
	struct bigint min;
	char a[BIGINT_STR_MAX], b[BIGINT_STR_MAX];
	int rc = 0;

	verdict_reset(out);
	if (mk12_check_min_price(&min, price, p->piece_size) == 0 &&
	    bigint_cmp(&p->price_per_epoch, &min) < 0) {
		format_big(a, &p->price_per_epoch);
		format_big(b, &min);
		rc = buf_printf(&m, "storage price per epoch less than asking "
				"price: %s < %s", a, b);
	} else if (p->piece_size < ask->min_piece_size) {
		rc = buf_printf(&m, "piece size less than minimum required "
				"size: %" PRIu64 " < %" PRIu64, p->piece_size,
				ask->min_piece_size);
	} else if (p->piece_size > ask->max_piece_size) {
		rc = buf_printf(&m, "piece size more than maximum allowed "
				"size: %" PRIu64 " > %" PRIu64, p->piece_size,
				ask->max_piece_size);
	}
	if (rc == 0 && m.len > 0)
		rc = reject(out, "", MK12_REASON_FILTERS, (const char *)m.ptr);
	buf_release(&m);
	return rc;
}

/* ---- processDeal ---- */

uint64_t mk12_check_padded_size(uint64_t size)
{
	uint64_t padded, unpadded;

	if (size <= 127)
		return 128;
	/* go-padreader PaddedSize, in Go's wrapping uint64 arithmetic */
	padded = (size + 126) / 127 * 128;
	if (__builtin_popcountll(padded) != 1) {
		int lz = padded ? __builtin_clzll(padded) : 64;

		/* Go's 1 << 64 is 0 */
		padded = lz == 0 ? 0 : (uint64_t)1 << (64 - lz);
	}
	unpadded = padded - padded / 128;
	return unpadded + unpadded / 127;
}

static int params_rule(struct mk12_verdict *out, struct mk12_http_request *req,
		       const struct mk12_deal_params *dp)
{
	const struct mk12_bytes *params = &dp->transfer.params;
	struct buf m = BUF_INIT(VERDICT_TEXT_MAX);
	char why[256];
	int rc = mk12_http_request_decode(req, params->ptr, params->len);

	if (rc == EFS_ENOMEM || rc == 0)
		return rc;
	snprintf(why, sizeof(why), "%s",
		 params->len == 0 ? "unexpected end of JSON input"
				  : efs_error_msg());
	rc = buf_adds(&m, "failed to de-serialize transport params bytes '");
	if (rc == 0)
		rc = buf_add(&m, params->ptr, params->len);
	if (rc == 0)
		rc = buf_printf(&m, "': %s", why);
	if (rc == 0 || rc == EFS_ETOOBIG)
		rc = reject(out, "", m.ptr ? (const char *)m.ptr : "",
			    m.ptr ? (const char *)m.ptr : "");
	buf_release(&m);
	return rc;
}

int mk12_check_transfer(struct mk12_verdict *out,
			struct mk12_http_request *req,
			const struct mk12_deal_params *dp)
{
	uint64_t want = mk12_check_padded_size(dp->transfer.size);
	uint64_t size = dp->proposal.proposal.piece_size;
	char m[160];

	verdict_reset(out);
	memset(req, 0, sizeof(*req));
	if (dp->transfer.type && !strcmp(dp->transfer.type, "libp2p"))
		return reject(out, "", "libp2p URLs are not supported by this "
			      "provider", "libp2p URLs are not supported by "
			      "this provider");
	if (dp->is_offline)
		return 0;
	if (size != want) {
		snprintf(m, sizeof(m), "deal proposal piece size %" PRIu64
			 " doesn't match padded piece size %" PRIu64, size,
			 want);
		return reject(out, "", m, m);
	}
	return params_rule(out, req, dp);
}

/* ---- pricing ---- */

int mk12_check_client_cost(struct bigint *out, const struct mk12_proposal *p)
{
	struct bigint duration, fee;
	int rc;

	bigint_from_i64(&duration, go_sub(p->end_epoch, p->start_epoch));
	rc = bigint_mul(&fee, &p->price_per_epoch, &duration);
	if (rc == 0)
		rc = bigint_add(&fee, &fee, &p->client_collateral);
	if (rc == 0)
		*out = fee;
	return rc;
}
