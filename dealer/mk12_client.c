/*
 * mk12_client.c - the dealer's Curio mk12 client over HTTP (see
 * mk12_client.h): the struct dealproto and its three requests.  The
 * messages themselves (building the proposal, reading the replies) are
 * in mk12_client_msg.c.
 *
 * Design notes:
 * - Every request is one httpc_do with a capped reply; dealproto.c
 *   judges the HTTP side (unreachable, timeout, HTTP errors),
 *   mk12_client_msg.c the protocol side (decoding, and whether the
 *   answer fits the question).
 * - A failure of ours (a bad SP URL, a deal the builder refuses, no key,
 *   no memory) returns its code, with the call marked error: nothing is
 *   sent and the SP is not to blame.
 */
#include "dealer/mk12_client.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"
#include "net/httpc.h"

#include "core/banned.h"

struct mk12_client {
	struct dealproto base;        /* first: the dealproto_ops see it */
	struct wallet *wallet;        /* borrowed */
	unsigned timeout_ms;
	unsigned connect_timeout_ms;
	size_t max_reply;
};

/* Longest SP base URL accepted. */
#define MK12_URL_MAX 2048

static const char *const mk12_headers[] = {
	"Content-Type: application/cbor",
	"Accept: application/cbor",
	NULL,
};

/* ---- requests ---- */

/* <base>/market/mk12/<what>, without doubling a trailing slash. */
static int endpoint(char *out, size_t cap, const struct dealproto_sp *sp,
		    const char *what)
{
	size_t n;

	if (!httpc_url_ok(sp->url))
		return efs_error_set(EFS_EINVAL,
				     "mk12: SP URL is not http(s): '%.40s'",
				     sp->url ? sp->url : "");
	n = strlen(sp->url);
	while (n && sp->url[n - 1] == '/')
		n--;
	if ((size_t)snprintf(out, cap, "%.*s/market/mk12/%s", (int)n, sp->url,
			     what) >= cap)
		return efs_error_set(EFS_EINVAL, "mk12: SP URL too long");
	return 0;
}

/*
 * Send the CBOR in body to the SP's endpoint.  *ok is true when a 200
 * reply is in resp for the caller to read; call gets the HTTP side of
 * it.  Returns 0, or the code of a failure of ours (call marked error).
 */
static int exchange(bool *ok, struct httpc_resp *resp,
		    struct dealproto_call *call, struct mk12_client *c,
		    const struct dealproto_sp *sp, const char *method,
		    const char *what, const struct buf *body)
{
	struct httpc_req req = HTTPC_REQ_INIT(method, NULL);
	char url[MK12_URL_MAX];
	int rc;

	*ok = false;
	memset(resp, 0, sizeof(*resp));
	if ((rc = endpoint(url, sizeof(url), sp, what)) < 0)
		return dealproto_call_local(call, rc);
	req.url = url;
	req.headers = mk12_headers;
	req.body = body->ptr;
	req.body_len = body->len;
	req.max_body = c->max_reply;
	req.timeout_ms = c->timeout_ms;
	req.connect_timeout_ms = c->connect_timeout_ms;
	rc = httpc_do(resp, &req);
	if (rc == EFS_ENOMEM || rc == EFS_ERROR)   /* no memory, no curl */
		return dealproto_call_local(call, rc);
	*ok = dealproto_call_http(call, rc, resp);
	return 0;
}

static int mk12_ask(struct dealproto_ask *out, struct dealproto_call *call,
		    struct dealproto *dp, const struct dealproto_sp *sp)
{
	struct mk12_client *c = (struct mk12_client *)dp;
	struct mk12_ask_request ar = { .miner = sp->addr };
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct httpc_resp resp;
	bool ok = false;
	int rc;

	dealproto_call_init(call);
	memset(&resp, 0, sizeof(resp));
	if ((rc = mk12_ask_request_encode(&b, &ar)) < 0)
		rc = dealproto_call_local(call, rc);
	else if ((rc = exchange(&ok, &resp, call, c, sp, "GET", "ask",
				&b)) == 0 && ok)
		rc = mk12_client_read_ask(out, call, &sp->addr, resp.body.ptr,
					  resp.body.len);
	httpc_resp_release(&resp);
	buf_release(&b);
	return rc;
}

static int mk12_propose(struct dealproto_proposal *out,
			struct dealproto_call *call, struct dealproto *dp,
			const struct dealproto_sp *sp,
			const struct dealproto_deal *deal)
{
	struct mk12_client *c = (struct mk12_client *)dp;
	struct buf b = BUF_INIT(MK12_STORE_BODY_MAX);
	struct mk12_deal_params params;
	struct httpc_resp resp;
	bool ok = false;
	int rc;

	dealproto_call_init(call);
	memset(&resp, 0, sizeof(resp));
	if ((rc = mk12_client_build(&params, out, c->wallet, deal)) < 0 ||
	    (rc = mk12_deal_params_encode(&b, &params)) < 0)
		rc = dealproto_call_local(call, rc);
	else if ((rc = exchange(&ok, &resp, call, c, sp, "POST", "store",
				&b)) == 0 && ok)
		rc = mk12_client_read_store(call, resp.body.ptr,
					    resp.body.len);
	httpc_resp_release(&resp);
	mk12_deal_params_release(&params);
	buf_release(&b);
	return rc;
}

static int mk12_status(struct dealproto_status *out,
		       struct dealproto_call *call, struct dealproto *dp,
		       const struct dealproto_sp *sp,
		       const struct dealproto_ref *ref)
{
	struct mk12_client *c = (struct mk12_client *)dp;
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct mk12_status_request sr;
	struct httpc_resp resp;
	bool ok = false;
	int rc;

	dealproto_call_init(call);
	memset(&resp, 0, sizeof(resp));
	memcpy(sr.uuid, ref->uuid, MK12_UUID_LEN);
	if ((rc = wallet_sign(&sr.signature, c->wallet, &ref->client,
			      ref->uuid, MK12_UUID_LEN)) < 0 ||
	    (rc = mk12_status_request_encode(&b, &sr)) < 0)
		rc = dealproto_call_local(call, rc);
	else if ((rc = exchange(&ok, &resp, call, c, sp, "GET", "status",
				&b)) == 0 && ok)
		rc = mk12_client_read_status(out, call, ref, resp.body.ptr,
					     resp.body.len);
	httpc_resp_release(&resp);
	buf_release(&b);
	return rc;
}

static void mk12_free(struct dealproto *dp)
{
	efs_free(dp);
}

static const struct dealproto_ops mk12_ops = {
	.name = "mk12",
	.ask = mk12_ask,
	.propose = mk12_propose,
	.status = mk12_status,
	.free = mk12_free,
};

int mk12_client_new(struct dealproto **out, struct wallet *w,
		    const struct mk12_client_opts *opts)
{
	struct mk12_client *c = efs_calloc(1, sizeof(*c));

	if (!c)
		return efs_error_set(EFS_ENOMEM, "mk12: out of memory");
	c->base.ops = &mk12_ops;
	c->wallet = w;
	c->timeout_ms = opts && opts->timeout_ms ? opts->timeout_ms
						  : MK12_CLIENT_TIMEOUT_MS;
	c->connect_timeout_ms = opts ? opts->connect_timeout_ms : 0;
	c->max_reply = opts && opts->max_reply ? opts->max_reply
					       : MK12_CLIENT_REPLY_MAX;
	*out = &c->base;
	return 0;
}
