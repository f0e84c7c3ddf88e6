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

union any_msg {
	struct mk12_proposal proposal;
	struct mk12_client_proposal client_proposal;
	struct mk12_deal_params deal_params;
	struct mk12_deal_response deal_response;
	struct mk12_status_request status_request;
	struct mk12_status_response status_response;
	struct mk12_ask ask;
	struct mk12_signed_ask signed_ask;
	struct mk12_ask_request ask_request;
	struct mk12_ask_response ask_response;
};

struct msg_type {
	int (*encode)(struct buf *out, const void *m);
	int (*decode)(void *out, const uint8_t *p, size_t n);
	void (*release)(void *m);
};

#define MSG(stem, rel)                                                    \
	{ (int (*)(struct buf *, const void *))mk12_##stem##_encode,      \
	  (int (*)(void *, const uint8_t *, size_t))mk12_##stem##_decode, \
	  rel }
#define REL(stem) ((void (*)(void *))mk12_##stem##_release)

static const struct msg_type types[] = {
	MSG(proposal, REL(proposal)),
	MSG(client_proposal, REL(client_proposal)),
	MSG(deal_params, REL(deal_params)),
	MSG(deal_response, REL(deal_response)),
	MSG(status_request, NULL),
	MSG(status_response, REL(status_response)),
	MSG(ask, NULL),
	MSG(signed_ask, NULL),
	MSG(ask_request, NULL),
	MSG(ask_response, NULL),
};

static void release(const struct msg_type *t, void *m)
{
	if (t->release)
		t->release(m);
}

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
	release(t, &m);
	if (t->decode(&m, a.ptr, a.len) != 0 || t->encode(&b, &m) != 0)
		abort();
	release(t, &m);
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
		round_trip(&types[i], data, size);
	checks(data, size);
	json(data, size);
	return 0;
}
