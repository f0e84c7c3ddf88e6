/*
 * fuzz_mk12.c - every mk12 decoder, the transfer-params JSON decoder
 * and the SP's checks on arbitrary bytes.
 *
 * Properties: nothing crashes or leaks; whatever a decoder accepts
 * encodes again (decoded values are always encodable), and the
 * re-encoding is a fixed point: decoding it and encoding once more
 * gives the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/mk12.h"
#include "core/mk12_check.h"
#include "core/mk12_http.h"
#include "tests/core/mk12_test.h"

static const struct msg_type *const types[] = {
	&T_PROPOSAL, &T_CLIENT_PROPOSAL, &T_DEAL_PARAMS, &T_DEAL_RESPONSE,
	&T_STATUS_REQUEST, &T_STATUS_RESPONSE, &T_ASK, &T_SIGNED_ASK,
	&T_ASK_REQUEST, &T_ASK_RESPONSE,
};

/* decode -> encode -> decode -> encode, the two encodings equal. */
static void round_trip(const struct msg_type *t, const uint8_t *data,
		       size_t size)
{
	union any_msg m;
	struct buf a = BUF_INIT(BUF_NOCAP), b = BUF_INIT(BUF_NOCAP);

	if (t->decode(&m, data, size) != 0)
		return;
	if (t->encode(&a, &m) != 0)
		abort();
	msg_release(t, &m);
	if (t->decode(&m, a.ptr, a.len) != 0 || t->encode(&b, &m) != 0)
		abort();
	msg_release(t, &m);
	if (a.len != b.len || memcmp(a.ptr, b.ptr, a.len))
		abort();
	buf_release(&a);
	buf_release(&b);
}

static int accept_all(void *arg, const struct filsig *sig,
		      const struct filaddr *signer, const void *msg,
		      size_t len)
{
	(void)arg, (void)sig, (void)signer, (void)msg, (void)len;
	return 0;
}

/* The SP's checks on whatever DealParams the bytes decode to. */
static void checks(const uint8_t *data, size_t size)
{
	struct mk12_deal_params dp;
	struct mk12_chain_view c;
	struct mk12_verdict v;
	struct mk12_http_request req;
	struct mk12_ask ask;

	if (mk12_deal_params_decode(&dp, data, size) != 0)
		return;
	memset(&c, 0, sizeof(c));
	memset(&ask, 0, sizeof(ask));
	c.head = 1000;
	c.miners = &dp.proposal.proposal.provider;
	c.nminers = 1;
	c.net = 'f';
	c.verify = accept_all;
	ask.max_piece_size = UINT64_MAX;
	mk12_check_verdict_init(&v);
	if (mk12_check_proposal(&v, &dp.proposal, &c) != 0 ||
	    mk12_check_ask(&v, &dp.proposal.proposal, &ask) != 0 ||
	    mk12_check_transfer(&v, &req, &dp) != 0)
		abort();
	mk12_http_request_release(&req);
	mk12_check_verdict_release(&v);
	mk12_deal_params_release(&dp);
}

static void json(const uint8_t *data, size_t size)
{
	struct mk12_http_request r;
	struct buf a = BUF_INIT(BUF_NOCAP), b = BUF_INIT(BUF_NOCAP);

	if (mk12_http_request_decode(&r, data, size) != 0)
		return;
	if (mk12_http_request_encode(&a, &r) != 0)
		abort();
	mk12_http_request_release(&r);
	if (mk12_http_request_decode(&r, a.ptr, a.len) != 0 ||
	    mk12_http_request_encode(&b, &r) != 0)
		abort();
	mk12_http_request_release(&r);
	if (a.len != b.len || memcmp(a.ptr, b.ptr, a.len))
		abort();
	buf_release(&a);
	buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		round_trip(types[i], data, size);
	checks(data, size);
	json(data, size);
	return 0;
}
