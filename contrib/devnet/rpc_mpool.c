/*
 * rpc_mpool.c - messages: MpoolGetNonce, GasEstimateMessageGas,
 * MpoolPush, StateSearchMsg, StateWaitMsg.
 *
 * A message pushed at head h is applied by the tick to h+1, which is the
 * Height of its MsgLookup.  StateWaitMsg returns once the head is
 * `confidence` epochs past that; it never waits longer than
 * RPC_WAIT_MAX_MS (Lotus would wait as long as the client does), so no
 * request hangs forever.
 */
#include "contrib/devnet/rpc_i.h"

#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/filjson.h"
#include "core/filmsg.h"

#include "core/banned.h"

/* Longest StateWaitMsg wait. */
#define RPC_WAIT_MAX_MS 60000

int rpc_mpool_get_nonce(struct rpc_call *c, json_t **out)
{
	uint64_t n;
	int rc;

	if ((rc = chain_msg_next_nonce(c->d, &n, &c->p[0].addr)) < 0)
		return rc;
	return rpc_result(out, json_integer((json_int_t)n));
}

/* ---- lookups ---- */

static json_t *lookup_json(const struct chain_msg_info *m)
{
	return json_pack("{s:o, s:{s:I, s:o, s:I, s:n}, s:n, s:o, s:I}",
			 "Message", rpc_json_cid(&m->cid),
			 "Receipt", "ExitCode", (json_int_t)m->exit_code,
			 "Return", rpc_json_bytes(m->ret.ptr, m->ret.len),
			 "GasUsed", (json_int_t)m->gas_used, "EventsRoot",
			 "ReturnDec", "TipSet", rpc_json_tsk(m->height),
			 "Height", (json_int_t)m->height);
}

/* The message, or Lotus' error for one it never saw. */
static int msg_load(struct rpc_call *c, struct chain_msg_info *out,
		    const struct cid *id)
{
	char text[CID_STR_MAX];
	int rc = chain_msg_get(c->d, out, id);

	if (rc == EFS_ENOTFOUND)
		return efs_error_set(EFS_ENOTFOUND, "failed to load message: "
				     "ipld: could not find %s",
				     cid_tostr(text, id));
	return rc;
}

int rpc_state_search_msg(struct rpc_call *c, json_t **out)
{
	const struct cid *id = &c->p[c->version ? 1 : 0].cid;
	struct chain_msg_info m;
	int rc;

	*out = NULL;
	if ((rc = msg_load(c, &m, id)) < 0)
		return rc;
	if (m.height >= 0)
		rc = rpc_result(out, lookup_json(&m));
	chain_msg_info_release(&m);
	return rc;
}

/* Whether the monotonic deadline t has passed. */
static bool passed(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return !efs_clock_before(&now, t);
}

int rpc_state_wait_msg(struct rpc_call *c, json_t **out)
{
	const struct cid *id = &c->p[0].cid;
	uint64_t confidence = c->p[1].u;
	char text[CID_STR_MAX];
	struct chain_msg_info m;
	struct timespec until;
	int64_t head;
	int rc;

	*out = NULL;
	efs_clock_deadline(&until, CLOCK_MONOTONIC, RPC_WAIT_MAX_MS);
	for (;;) {
		if ((rc = msg_load(c, &m, id)) < 0)
			return rc;
		head = chain_head(c->d);
		if (m.height >= 0 &&
		    (uint64_t)(head - m.height) >= confidence) {
			rc = rpc_result(out, lookup_json(&m));
			chain_msg_info_release(&m);
			return rc;
		}
		chain_msg_info_release(&m);
		if (passed(&until) || devnet_stopping(c->d))
			break;
		/* Wake at every epoch, and at least once a second. */
		chain_wait_head(c->d, head, 1000);
	}
	return efs_error_set(EFS_ETIMEDOUT, "waiting for message %s: gave up "
			     "after %d s (the devnet bounds StateWaitMsg)",
			     cid_tostr(text, id), RPC_WAIT_MAX_MS / 1000);
}

/* ---- types.Message and types.SignedMessage JSON ---- */

/* Lotus' MaxMessageSize: a signed message's encoding past it is
 * refused by the mpool. */
#define MSG_SIZE_MAX (64 << 10)

/*
 * MpoolPush's parameter, decoded by core/filjson (stricter than Go about
 * field types, as its header says); a failure is a parameter error.
 */
static int signed_from_json(struct rpc_call *c, struct filmsg_signed *out,
			    const json_t *o)
{
	if (filjson_signed_decode(out, o) < 0)
		return rpc_param_error(c, "types.SignedMessage", "%s",
				       efs_error_msg());
	return 0;
}

static int push(struct rpc_call *c, struct filmsg_signed *sm,
		const json_t *msg_json, json_t **out)
{
	struct buf enc = BUF_INIT(MSG_SIZE_MAX);
	struct chain_msg_in in = { .msg = &sm->msg };
	int rc;

	if (sm->msg.version != FILMSG_VERSION)
		return efs_error_set(EFS_EINVAL, "mpool push: 'Version' "
				     "unsupported");
	if (filmsg_signed_encode(&enc, sm) == EFS_ETOOBIG) {
		buf_release(&enc);
		return efs_error_set(EFS_EINVAL, "mpool push: mpool message "
				     "too large (over %d bytes)",
				     MSG_SIZE_MAX);
	}
	buf_release(&enc);
	if (filmsg_sig_to_filsig(&in.sig, &sm->sig) < 0)
		return efs_error_set(EFS_EINVAL, "mpool push: invalid "
				     "signature: %s", efs_error_msg());
	if ((rc = filmsg_cid(&in.unsigned_cid, &sm->msg)) < 0 ||
	    (rc = filmsg_signed_cid(&in.cid, sm)) < 0)
		return rc;
	in.json = json_dumps(msg_json, JSON_COMPACT);
	rc = chain_msg_push(c->d, &in);
	efs_free((void *)in.json);
	if (rc < 0)
		return rc;
	return rpc_result(out, rpc_json_cid(&in.cid));
}

int rpc_mpool_push(struct rpc_call *c, json_t **out)
{
	struct filmsg_signed sm;
	int rc;

	if ((rc = signed_from_json(c, &sm, c->p[0].json)) < 0)
		return rc;
	rc = push(c, &sm, json_object_get(c->p[0].json, "Message"), out);
	filmsg_signed_release(&sm);
	return rc;
}

/*
 * Fill what the message leaves zero: GasLimit (the gas it will use,
 * +25% as Lotus' default GasOverEstimation), GasPremium and GasFeeCap.
 */
int rpc_gas_estimate_message_gas(struct rpc_call *c, json_t **out)
{
	struct bigint premium, cap;
	struct filmsg m;
	int rc;

	if (filjson_msg_decode(&m, c->p[0].json) < 0)
		return rpc_param_error(c, "types.Message", "%s",
				       efs_error_msg());
	if (m.gas_limit == 0)
		m.gas_limit = chain_msg_gas(m.to.protocol == FILADDR_ID
						    ? m.to.id
						    : 0,
					    m.method) * 5 / 4;
	bigint_from_u64(&premium, 100000);
	bigint_from_u64(&cap, 200000);
	if (bigint_is_zero(&m.gas_premium))
		m.gas_premium = premium;
	if (bigint_is_zero(&m.gas_fee_cap))
		m.gas_fee_cap = cap;
	rc = filjson_msg_encode(out, &m, c->d->net);
	filmsg_release(&m);
	return rc;
}
