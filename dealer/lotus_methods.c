/*
 * lotus_methods.c - the typed Lotus calls of lotus.h: each builds its
 * parameters as Lotus' v1 API takes them, makes the call (lotus.c) and
 * decodes the result strictly (lotus_decode.c).
 *
 * Tipset keys are always null (the head).  Messages and their CIDs go
 * through core/filjson.h, so what is pushed is what was signed.
 * lotus_wait_msg polls rather than blocking in StateWaitMsg: a request
 * never outlives its timeout, and a node that dies is noticed at the
 * next poll.
 */
#include "dealer/lotus.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/filjson.h"
#include "dealer/lotus_decode.h"

#include "core/banned.h"

/* Polling of lotus_wait_msg: first and longest interval. */
#define WAIT_POLL_MIN_MS 100
#define WAIT_POLL_MAX_MS 2000

static int oom(void)
{
	return efs_error_set(EFS_ENOMEM, "lotus: out of memory");
}

/* lotus_call, where params NULL means json_pack ran out of memory. */
static int call(json_t **out, struct lotus *l, const char *method,
		json_t *params)
{
	*out = NULL;
	if (!params)
		return oom();
	return lotus_call(out, l, method, params);
}

/* [address, null] and [address] */
static json_t *addr_params(const struct filaddr *a, bool tsk)
{
	char s[FILADDR_STR_MAX];

	filaddr_format(s, a, 'f');
	return tsk ? json_pack("[s, n]", s) : json_pack("[s]", s);
}

int lotus_chain_head(int64_t *out, struct lotus *l)
{
	json_t *v;
	int rc;

	if ((rc = lotus_call(&v, l, "ChainHead", NULL)) < 0)
		return rc;
	rc = lotus_decode_head(out, v);
	json_decref(v);
	return rc;
}

int lotus_list_miners(struct filaddr **out, size_t *n, struct lotus *l)
{
	json_t *v;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = call(&v, l, "StateListMiners", json_pack("[n]"))) < 0)
		return rc;
	rc = lotus_decode_miners(out, n, v);
	json_decref(v);
	return rc;
}

int lotus_miner_info(struct lotus_miner_info *out, struct lotus *l,
		     const struct filaddr *miner)
{
	json_t *v;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = call(&v, l, "StateMinerInfo", addr_params(miner, true))) <
	    0)
		return rc;
	rc = lotus_decode_miner_info(out, v);
	json_decref(v);
	return rc;
}

int lotus_wallet_balance(struct bigint *out, struct lotus *l,
			 const struct filaddr *addr)
{
	json_t *v;
	int rc;

	if ((rc = call(&v, l, "WalletBalance", addr_params(addr, false))) < 0)
		return rc;
	rc = lotus_decode_bigint(out, v, "WalletBalance");
	json_decref(v);
	return rc;
}

int lotus_market_balance(struct bigint *escrow, struct bigint *locked,
			 struct lotus *l, const struct filaddr *addr)
{
	json_t *v;
	int rc;

	if ((rc = call(&v, l, "StateMarketBalance",
		       addr_params(addr, true))) < 0)
		return rc;
	rc = lotus_decode_market_balance(escrow, locked, v);
	json_decref(v);
	return rc;
}

int lotus_datacap(struct bigint *out, bool *is_verified_client,
		  struct lotus *l, const struct filaddr *addr)
{
	json_t *v;
	int rc;

	if ((rc = call(&v, l, "StateVerifiedClientStatus",
		       addr_params(addr, true))) < 0)
		return rc;
	rc = lotus_decode_datacap(out, is_verified_client, v);
	json_decref(v);
	return rc;
}

int lotus_collateral_bounds(struct bigint *min, struct bigint *max,
			    struct lotus *l, uint64_t padded, bool verified)
{
	json_t *v;
	int rc;

	if (padded > INT64_MAX)
		return efs_error_set(EFS_EINVAL, "lotus: piece size %llu too "
				     "big", (unsigned long long)padded);
	if ((rc = call(&v, l, "StateDealProviderCollateralBounds",
		       json_pack("[I, b, n]", (json_int_t)padded,
				 (int)verified))) < 0)
		return rc;
	rc = lotus_decode_bounds(min, max, v);
	json_decref(v);
	return rc;
}

int lotus_lookup_id(struct filaddr *out, struct lotus *l,
		    const struct filaddr *addr)
{
	json_t *v;
	int rc;

	if ((rc = call(&v, l, "StateLookupID", addr_params(addr, true))) < 0)
		return rc;
	rc = lotus_decode_id(out, v);
	json_decref(v);
	return rc;
}

int lotus_nonce(uint64_t *out, struct lotus *l, const struct filaddr *addr)
{
	json_t *v;
	int rc;

	if ((rc = call(&v, l, "MpoolGetNonce", addr_params(addr, false))) < 0)
		return rc;
	rc = lotus_decode_nonce(out, v);
	json_decref(v);
	return rc;
}

int lotus_gas_estimate(struct filmsg *msg, struct lotus *l)
{
	json_t *m, *v;
	int rc;

	if ((rc = filjson_msg_encode(&m, msg, 'f')) < 0)
		return rc;
	/* A null MessageSendSpec: Lotus' default MaxFee. */
	if ((rc = call(&v, l, "GasEstimateMessageGas",
		       json_pack("[o, n, n]", m))) < 0)
		return rc;
	rc = lotus_decode_gas(msg, v);
	json_decref(v);
	return rc;
}

int lotus_mpool_push(struct cid *out, struct lotus *l,
		     const struct filmsg_signed *m)
{
	char want[CID_STR_MAX], got[CID_STR_MAX];
	struct cid expect;
	json_t *sm, *v;
	int rc;

	if ((rc = filmsg_signed_cid(&expect, m)) < 0 ||
	    (rc = filjson_signed_encode(&sm, m, 'f')) < 0)
		return rc;
	if ((rc = call(&v, l, "MpoolPush", json_pack("[o]", sm))) < 0)
		return rc;
	rc = lotus_decode_cid(out, v, "MpoolPush");
	json_decref(v);
	if (rc == 0 && !cid_equal(out, &expect))
		return efs_error_set(EFS_ECORRUPT, "lotus: MpoolPush: the node "
				     "named the message %s, not %s",
				     cid_tostr(got, out),
				     cid_tostr(want, &expect));
	return rc;
}

/* [null, {"/": msg}, -1 (no lookback limit), true (replacements)] */
static json_t *search_params(const struct cid *msg)
{
	json_t *c;

	if (filjson_cid_encode(&c, msg) < 0)
		return NULL;
	return json_pack("[n, o, I, b]", c, (json_int_t)-1, 1);
}

int lotus_search_msg(struct lotus_receipt *out, bool *found, struct lotus *l,
		     const struct cid *msg)
{
	json_t *v;
	int rc;

	memset(out, 0, sizeof(*out));
	*found = false;
	if ((rc = call(&v, l, "StateSearchMsg", search_params(msg))) < 0)
		return rc;
	rc = lotus_decode_lookup(out, found, v);
	json_decref(v);
	return rc;
}

/* One poll: the lookup and the head, in one request. */
static int poll_once(struct lotus_receipt *out, bool *found, int64_t *head,
		     struct lotus *l, const struct cid *msg)
{
	struct lotus_batch *b;
	json_t *v;
	int rc;

	if ((rc = lotus_batch_new(&b)) < 0)
		return rc;
	if ((rc = lotus_batch_add(b, "StateSearchMsg", search_params(msg))) <
		    0 ||
	    (rc = lotus_batch_add(b, "ChainHead", NULL)) < 0 ||
	    (rc = lotus_batch_run(l, b)) < 0 ||
	    (rc = lotus_batch_result(&v, b, 0)) < 0 ||
	    (rc = lotus_decode_lookup(out, found, v)) < 0 ||
	    (rc = lotus_batch_result(&v, b, 1)) < 0)
		goto out;
	rc = lotus_decode_head(head, v);
out:
	lotus_batch_free(b);
	return rc;
}

int lotus_wait_msg(struct lotus_receipt *out, struct lotus *l,
		   const struct cid *msg, uint64_t confidence,
		   unsigned timeout_ms)
{
	unsigned nap_ms = WAIT_POLL_MIN_MS;
	struct timespec until, now, nap;
	char text[CID_STR_MAX];
	bool found = false;
	int64_t head;
	int rc;

	efs_clock_deadline(&until, CLOCK_MONOTONIC, timeout_ms);
	for (;;) {
		if ((rc = poll_once(out, &found, &head, l, msg)) < 0)
			return rc;
		if (found && head >= out->height &&
		    (uint64_t)(head - out->height) >= confidence)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (!efs_clock_before(&now, &until))
			break;
		nap.tv_sec = nap_ms / 1000;
		nap.tv_nsec = (long)(nap_ms % 1000) * 1000000L;
		nanosleep(&nap, NULL);
		if ((nap_ms *= 2) > WAIT_POLL_MAX_MS)
			nap_ms = WAIT_POLL_MAX_MS;
	}
	return efs_error_set(EFS_ETIMEDOUT, "lotus: message %s %s after %u "
			     "ms", cid_tostr(text, msg),
			     found ? "not yet confident" : "not on chain",
			     timeout_ms);
}

int lotus_market_deal(struct lotus_market_deal *out, struct lotus *l,
		      uint64_t deal_id)
{
	json_t *v;
	int rc;

	if (deal_id > INT64_MAX)
		return efs_error_set(EFS_EINVAL, "lotus: deal id %llu too big",
				     (unsigned long long)deal_id);
	if ((rc = call(&v, l, "StateMarketStorageDeal",
		       json_pack("[I, n]", (json_int_t)deal_id))) < 0)
		return rc;
	rc = lotus_decode_market_deal(out, v);
	json_decref(v);
	return rc;
}

static int add_deal(struct lotus_batch *b, uint64_t id)
{
	if (id > INT64_MAX)
		return efs_error_set(EFS_EINVAL, "lotus: deal id %llu too big",
				     (unsigned long long)id);
	return lotus_batch_add(b, "StateMarketStorageDeal",
			       json_pack("[I, n]", (json_int_t)id));
}

/* ids[0..n) in one batch (lotus_batch_run chunks it). */
static int deals_chunk(struct lotus_market_deal *out, int *rcs,
		       struct lotus *l, const uint64_t *ids, size_t n)
{
	struct lotus_batch *b;
	json_t *v;
	int rc;

	if ((rc = lotus_batch_new(&b)) < 0)
		return rc;
	for (size_t i = 0; i < n && rc >= 0; i++)
		rc = add_deal(b, ids[i]);
	if (rc < 0) {
		for (size_t i = 0; i < n; i++)
			rcs[i] = rc;
		goto out;
	}
	rc = lotus_batch_run(l, b);
	for (size_t i = 0; i < n; i++) {
		rcs[i] = lotus_batch_result(&v, b, i);
		if (rcs[i] == 0)
			rcs[i] = lotus_decode_market_deal(&out[i], v);
	}
out:
	lotus_batch_free(b);
	return rc < 0 ? rc : 0;
}

int lotus_market_deals(struct lotus_market_deal *out, int *rcs,
		       struct lotus *l, const uint64_t *ids, size_t n)
{
	/* Chunks bound the JSON held at once: a decoded deal is far
	 * smaller than its jansson tree. */
	const size_t chunk = LOTUS_BATCH_MAX;
	int rc = 0;

	for (size_t i = 0; i < n; i += chunk) {
		size_t k = n - i < chunk ? n - i : chunk;

		if (rc < 0) {
			for (size_t j = 0; j < k; j++)
				rcs[i + j] = rc;
			continue;
		}
		rc = deals_chunk(out + i, rcs + i, l, ids + i, k);
	}
	return rc;
}
