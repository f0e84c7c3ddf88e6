/*
 * funds.c - wallet balance, market escrow and DataCap, and the signed
 * AddBalance top-up (see funds.h).
 *
 * Design notes:
 *  - funds_status is one batch request, so the figures come from one
 *    moment of the node's state (and cost one round trip per check).
 *  - Lotus answers "actor not found" for the market balance and the
 *    DataCap of an address the chain has not seen; for the dealer that
 *    is a wallet with nothing in it yet, not an error.
 *  - The top-up is built and signed here (the node holds no keys): the
 *    balance is checked against amount + GasLimit x GasFeeCap before
 *    pushing, so a short wallet gets a message telling the user to fund
 *    it rather than the mpool's refusal.
 */
#include "dealer/funds.h"

#include <string.h>

#include "core/buf.h"
#include "core/cbor.h"
#include "core/error.h"
#include "core/filmsg.h"
#include "core/filsig.h"
#include "dealer/lotus_decode.h"

#include "core/banned.h"

/* The storage market actor. */
#define FUNDS_MARKET_ACTOR 5

/* ---- status ---- */

static json_t *addr_params(const struct filaddr *a, bool tsk)
{
	char s[FILADDR_STR_MAX];

	filaddr_format(s, a, 'f');
	return tsk ? json_pack("[s, n]", s) : json_pack("[s]", s);
}

/* Add a call whose params json_pack made (NULL: out of memory). */
static int add(struct lotus_batch *b, const char *method, json_t *params)
{
	if (!params)
		return efs_error_set(EFS_ENOMEM, "dealer: out of memory");
	return lotus_batch_add(b, method, params);
}

/* Entry i's result, with "actor not found" read as a null result. */
static int result_or_none(json_t **out, struct lotus_batch *b, size_t i,
			  bool *none)
{
	int rc = lotus_batch_result(out, b, i);

	*none = rc == EFS_ENOTFOUND;
	return *none ? 0 : rc;
}

static int status_decode(struct funds_status *out, struct lotus_batch *b)
{
	json_t *v;
	bool none;
	int rc;

	if ((rc = lotus_batch_result(&v, b, 0)) < 0 ||
	    (rc = lotus_decode_bigint(&out->balance, v, "WalletBalance")) < 0 ||
	    (rc = result_or_none(&v, b, 1, &none)) < 0 ||
	    (!none && (rc = lotus_decode_market_balance(
			       &out->escrow, &out->locked, v)) < 0) ||
	    (rc = result_or_none(&v, b, 2, &none)) < 0 ||
	    (!none && (rc = lotus_decode_datacap(&out->datacap,
						 &out->verified_client, v)) <
			      0) ||
	    (rc = lotus_batch_result(&v, b, 3)) < 0 ||
	    (rc = lotus_decode_head(&out->height, v)) < 0)
		return rc;
	return bigint_sub(&out->available, &out->escrow, &out->locked);
}

int funds_status(struct funds_status *out, struct lotus *l,
		 const struct filaddr *addr)
{
	struct lotus_batch *b;
	int rc;

	memset(out, 0, sizeof(*out));
	out->addr = *addr;
	if ((rc = lotus_batch_new(&b)) < 0)
		return rc;
	if ((rc = add(b, "WalletBalance", addr_params(addr, false))) >= 0 &&
	    (rc = add(b, "StateMarketBalance", addr_params(addr, true))) >= 0 &&
	    (rc = add(b, "StateVerifiedClientStatus",
		      addr_params(addr, true))) >= 0 &&
	    (rc = lotus_batch_add(b, "ChainHead", NULL)) >= 0 &&
	    (rc = lotus_batch_run(l, b)) == 0)
		rc = status_decode(out, b);
	lotus_batch_free(b);
	return rc < 0 ? rc : 0;
}

int funds_escrow_needed(struct bigint *out, const struct funds_status *s,
			const struct bigint *want)
{
	if (bigint_cmp(want, &s->available) <= 0) {
		bigint_from_u64(out, 0);
		return 0;
	}
	return bigint_sub(out, want, &s->available);
}

int funds_datacap_check(const struct funds_status *s, uint64_t need)
{
	char a[FILADDR_STR_MAX], have[BIGINT_STR_MAX];
	struct bigint n;

	filaddr_format(a, &s->addr, 'f');
	if (!s->verified_client)
		return efs_error_set(EFS_EINVAL, "dealer: wallet %s is not a "
				     "verified client: get DataCap from a "
				     "notary or make unverified deals (devnet: "
				     "estuaryfs-devnet --dir DIR datacap %s "
				     "BYTES)", a, a);
	bigint_from_u64(&n, need);
	if (bigint_cmp(&s->datacap, &n) >= 0)
		return 0;
	bigint_format(have, &s->datacap);
	return efs_error_set(EFS_EINVAL, "dealer: wallet %s has %s bytes of "
			     "DataCap, short of the %llu a verified deal "
			     "needs: get more from a notary or make "
			     "unverified deals", a, have,
			     (unsigned long long)need);
}

/* ---- the top-up ---- */

/* from's balance and next nonce, in one request (an address with no
 * actor yet: 0 and 0). */
static int balance_nonce(struct bigint *balance, uint64_t *nonce,
			 struct lotus *l, const struct filaddr *from)
{
	struct lotus_batch *b;
	bool none;
	json_t *v;
	int rc;

	if ((rc = lotus_batch_new(&b)) < 0)
		return rc;
	if ((rc = add(b, "WalletBalance", addr_params(from, false))) < 0 ||
	    (rc = add(b, "MpoolGetNonce", addr_params(from, false))) < 0 ||
	    (rc = lotus_batch_run(l, b)) < 0 ||
	    (rc = lotus_batch_result(&v, b, 0)) < 0 ||
	    (rc = lotus_decode_bigint(balance, v, "WalletBalance")) < 0 ||
	    (rc = result_or_none(&v, b, 1, &none)) < 0)
		goto out;
	*nonce = 0;
	if (!none)
		rc = lotus_decode_nonce(nonce, v);
out:
	lotus_batch_free(b);
	return rc;
}

/* AddBalance's params: the CBOR byte string of the address. */
static int add_balance_msg(struct filmsg *m, const struct filaddr *from,
			   uint64_t nonce, const struct bigint *amount)
{
	uint8_t ab[FILADDR_BYTES_MAX];
	struct buf p = BUF_INIT(BUF_NOCAP);
	int rc;

	filmsg_init(m);
	filaddr_init_id(&m->to, FUNDS_MARKET_ACTOR);
	m->from = *from;
	m->nonce = nonce;
	m->value = *amount;
	m->method = FILMSG_METHOD_MARKET_ADD_BALANCE;
	if ((rc = cbor_put_bytes(&p, ab, filaddr_to_bytes(ab, from))) == 0)
		rc = filmsg_set_params(m, p.ptr, p.len);
	buf_release(&p);
	return rc;
}

/* The balance must cover the amount and the most the gas can cost
 * (none until estimated). */
static int check_balance(const struct filmsg *m, const struct bigint *balance)
{
	char a[FILADDR_STR_MAX], have[BIGINT_STR_MAX + 8];
	char need_s[BIGINT_STR_MAX + 8];
	struct bigint gas, need;
	int rc;

	bigint_from_i64(&gas, m->gas_limit);
	if ((rc = bigint_mul(&gas, &gas, &m->gas_fee_cap)) < 0 ||
	    (rc = bigint_add(&need, &gas, &m->value)) < 0)
		return efs_error_set(rc, "dealer: escrow top-up: gas cost out "
				     "of range");
	if (bigint_cmp(balance, &need) >= 0)
		return 0;
	filaddr_format(a, &m->from, 'f');
	bigint_format_fil(have, balance);
	bigint_format_fil(need_s, &need);
	return efs_error_set(EFS_EINVAL, "dealer: wallet %s has %s, short of "
			     "%s for escrow%s: fund it (devnet: "
			     "estuaryfs-devnet --dir DIR faucet %s 100)", a,
			     have, need_s, m->gas_limit ? " and gas" : "", a);
}

static int sign(struct filmsg_signed *sm, struct wallet *w)
{
	uint8_t cb[CID_BYTES_MAX];
	struct filsig sig;
	struct cid id;
	int rc;

	if ((rc = filmsg_cid(&id, &sm->msg)) < 0 ||
	    (rc = wallet_sign(&sig, w, &sm->msg.from, cb,
			      cid_to_bytes(cb, &id))) < 0)
		return rc;
	filmsg_sig_from_filsig(&sm->sig, &sig);
	return 0;
}

int funds_add_escrow(struct cid *msg_out, struct lotus *l, struct wallet *w,
		     const struct filaddr *from, const struct bigint *amount)
{
	char a[FILADDR_STR_MAX];
	struct filmsg_signed sm;
	struct bigint balance;
	uint64_t nonce;
	int rc;

	memset(&sm, 0, sizeof(sm));
	filmsg_init(&sm.msg);
	filaddr_format(a, from, 'f');
	if (amount->neg || bigint_is_zero(amount))
		return efs_error_set(EFS_EINVAL, "dealer: an escrow top-up "
				     "must be more than 0 FIL");
	if (!wallet_has(w, from))
		return efs_error_set(EFS_EINVAL, "dealer: no key for %s in the "
				     "wallet: import it (estuaryfs wallet "
				     "import) or use another address", a);
	/* The balance is checked before asking for gas (Lotus cannot
	 * estimate for an address it has not seen) and after. */
	if ((rc = balance_nonce(&balance, &nonce, l, from)) < 0 ||
	    (rc = add_balance_msg(&sm.msg, from, nonce, amount)) < 0 ||
	    (rc = check_balance(&sm.msg, &balance)) < 0 ||
	    (rc = lotus_gas_estimate(&sm.msg, l)) < 0 ||
	    (rc = check_balance(&sm.msg, &balance)) < 0 ||
	    (rc = sign(&sm, w)) < 0)
		goto out;
	rc = lotus_mpool_push(msg_out, l, &sm);
out:
	filmsg_signed_release(&sm);
	return rc;
}
