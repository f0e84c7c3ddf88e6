/*
 * chain_msg.c - the message pool and message execution.
 *
 * MpoolPush checks what Lotus' mpool checks before taking a message
 * (signature by the sender's key address over the message CID's bytes,
 * gas limit and fee cap, nonce, funds) and stores it pending.  The next
 * epoch's tick applies every message taken before it, per sender in
 * nonce order:
 *
 *	charge gas (GasUsed x base fee, burnt to f099), nonce + 1
 *	SAVEPOINT
 *	  move Value to the recipient (an f1 never seen gets an account)
 *	  run the method: 0 Send; on f05 2 AddBalance, 3 WithdrawBalance
 *	ROLLBACK TO the savepoint if the exit code is not 0
 *	store the receipt: height, exit code, return bytes, gas used
 *
 * A message lands in the tipset of the epoch that applied it; StateSearchMsg
 * reports that epoch as the receipt's height.
 */
#include "contrib/devnet/chain.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

#include "core/banned.h"

/* The base fee the devnet charges, attoFIL per gas unit. */
#define BASE_FEE 100
/* A block's gas limit (build.BlockGasLimit). */
#define BLOCK_GAS_LIMIT 10000000000LL

/* Exit codes (FVM). */
#define EXIT_OK 0
#define EXIT_SENDER_STATE_INVALID 2
#define EXIT_INVALID_RECEIVER 5
#define EXIT_INSUFFICIENT_FUNDS 6
#define EXIT_UNHANDLED_MESSAGE 22

/* Methods of the market actor. */
#define MARKET_ADD_BALANCE 2
#define MARKET_WITHDRAW_BALANCE 3

void chain_msg_info_release(struct chain_msg_info *m)
{
	buf_release(&m->ret);
	efs_free(m->json);
	memset(m, 0, sizeof(*m));
}

/* The gas a message of this kind uses (close to what Lotus reports). */
int64_t chain_msg_gas(uint64_t to_id, uint64_t method)
{
	if (method == 0)
		return 488000;
	if (to_id == DEVNET_MARKET_ID)
		return 5000000;
	return 1000000;
}

/* ---- the pool ---- */

/* Pending messages of `from`: how many, and what they may spend. */
static int pending(struct devnet *d, uint64_t from, uint64_t *count,
		   struct bigint *need)
{
	sqlite3_stmt *st;
	int rc;

	*count = 0;
	bigint_from_u64(need, 0);
	rc = db_stmt(&st, d->db, "SELECT value FROM devnet_msgs"
				 " WHERE height IS NULL AND from_id = ?");
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st, 1, (int64_t)from);
	while ((rc = db_step(d->db, st)) == 1) {
		struct bigint v;

		if ((rc = chain_bigint_column(&v, st, 0)) < 0 ||
		    (rc = bigint_add(need, need, &v)) < 0)
			break;
		(*count)++;
	}
	db_reset(st);
	return rc;
}

static int known(struct devnet *d, bool *out, const struct cid *c)
{
	char text[CID_STR_MAX];
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(&st, d->db, "SELECT 1 FROM devnet_msgs"
				      " WHERE cid = ?")) < 0)
		return rc;
	sqlite3_bind_text(st, 1, cid_tostr(text, c), -1, SQLITE_TRANSIENT);
	rc = db_step(d->db, st);
	db_reset(st);
	*out = rc == 1;
	return rc < 0 ? rc : 0;
}

static int check_gas(const struct filmsg *m)
{
	struct bigint min;

	if (m->gas_limit <= 0)
		return efs_error_set(EFS_EINVAL, "mpool push: 'GasLimit' "
				     "field cannot be less than the cost of "
				     "storing a message on chain");
	if (m->gas_limit > BLOCK_GAS_LIMIT)
		return efs_error_set(EFS_EINVAL, "mpool push: 'GasLimit' "
				     "field cannot be greater than a block's "
				     "gas limit");
	bigint_from_u64(&min, BASE_FEE);
	if (bigint_cmp(&m->gas_fee_cap, &min) < 0 || m->value.neg ||
	    m->gas_premium.neg)
		return efs_error_set(EFS_EINVAL, "mpool push: 'GasFeeCap' "
				     "less than the minimum base fee (100)");
	if (bigint_cmp(&m->gas_premium, &m->gas_fee_cap) > 0)
		return efs_error_set(EFS_EINVAL, "mpool push: 'GasFeeCap' "
				     "less than 'GasPremium'");
	return 0;
}

/* Funds: value + GasLimit x GasFeeCap, over what is pending. */
static int check_funds(const struct chain_actor *act, const struct filmsg *m,
		       const struct bigint *pending_need)
{
	char a[BIGINT_STR_MAX], b[BIGINT_STR_MAX];
	struct bigint need, gas;
	int rc;

	bigint_from_i64(&gas, m->gas_limit);
	if ((rc = bigint_mul(&gas, &gas, &m->gas_fee_cap)) < 0 ||
	    (rc = bigint_add(&need, &m->value, &gas)) < 0 ||
	    (rc = bigint_add(&need, &need, pending_need)) < 0)
		return rc;
	if (bigint_cmp(&need, &act->balance) <= 0)
		return 0;
	bigint_format(a, &need);
	bigint_format(b, &act->balance);
	return efs_error_set(EFS_EINVAL, "mpool push: not enough funds "
			     "including pending messages (required: %s, "
			     "balance: %s)", a, b);
}

static int check_nonce(const struct chain_actor *act, const struct filmsg *m,
		       uint64_t npending)
{
	uint64_t next = act->nonce + npending;

	if (m->nonce < act->nonce)
		return efs_error_set(EFS_EINVAL, "mpool push: minimum "
				     "expected nonce is %llu: message nonce "
				     "too low",
				     (unsigned long long)act->nonce);
	if (m->nonce < next)
		return efs_error_set(EFS_EINVAL, "mpool push: a message with "
				     "nonce %llu is already pending",
				     (unsigned long long)m->nonce);
	if (m->nonce > next)
		return efs_error_set(EFS_EINVAL, "mpool push: unfulfilled "
				     "nonce gap (expected %llu, got %llu)",
				     (unsigned long long)next,
				     (unsigned long long)m->nonce);
	return 0;
}

static int check_signature(const struct chain_actor *act,
			   const struct chain_msg_in *m)
{
	uint8_t cb[CID_BYTES_MAX];
	size_t n = cid_to_bytes(cb, &m->unsigned_cid);

	if (!act->has_key)
		return efs_error_set(EFS_EINVAL, "mpool push: sender is not "
				     "an account actor");
	if (filsig_verify(&m->sig, &act->key, cb, n) < 0)
		return efs_error_set(EFS_EINVAL, "mpool push: signature "
				     "verification failed: %s",
				     efs_error_msg());
	return 0;
}

static int msg_insert(struct devnet *d, const struct chain_msg_in *in,
		      uint64_t from)
{
	const struct filmsg *m = in->msg;
	uint8_t tb[FILADDR_BYTES_MAX];
	char text[CID_STR_MAX];
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(&st, d->db,
			  "INSERT INTO devnet_msgs(cid, from_id, nonce,"
			  " to_addr, value, method, params, json, pushed)"
			  " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) < 0)
		return rc;
	sqlite3_bind_text(st, 1, cid_tostr(text, &in->cid), -1,
			  SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (int64_t)from);
	sqlite3_bind_int64(st, 3, (int64_t)m->nonce);
	sqlite3_bind_blob(st, 4, tb, (int)filaddr_to_bytes(tb, &m->to),
			  SQLITE_TRANSIENT);
	if ((rc = chain_bigint_bind(st, 5, &m->value)) < 0) {
		db_reset(st);
		return rc;
	}
	sqlite3_bind_int64(st, 6, (int64_t)m->method);
	sqlite3_bind_blob(st, 7, m->params ? (const void *)m->params
					   : (const void *)"",
			  (int)m->params_len, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 8, in->json ? in->json : "{}", -1,
			  SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 9, d->head);
	return db_run(d->db, st);
}

static int push_locked(struct devnet *d, const struct chain_msg_in *in)
{
	const struct filmsg *m = in->msg;
	struct chain_actor act;
	struct bigint need;
	uint64_t n;
	bool seen;
	int rc;

	if ((rc = known(d, &seen, &in->cid)) < 0 || seen)
		return rc;
	if ((rc = check_gas(m)) < 0)
		return rc;
	if ((rc = chain_actor_get_locked(d, &act, &m->from)) < 0)
		return efs_error_set(rc, "mpool push: %s", efs_error_msg());
	if ((rc = check_signature(&act, in)) < 0 ||
	    (rc = pending(d, act.id, &n, &need)) < 0 ||
	    (rc = check_nonce(&act, m, n)) < 0 ||
	    (rc = check_funds(&act, m, &need)) < 0)
		return rc;
	return msg_insert(d, in, act.id);
}

int chain_msg_push(struct devnet *d, const struct chain_msg_in *m)
{
	int rc;

	pthread_mutex_lock(&d->lock);
	rc = push_locked(d, m);
	pthread_mutex_unlock(&d->lock);
	return rc;
}

int chain_msg_next_nonce(struct devnet *d, uint64_t *out,
			 const struct filaddr *a)
{
	struct chain_actor act;
	struct bigint need;
	uint64_t n = 0;
	int rc;

	pthread_mutex_lock(&d->lock);
	if ((rc = chain_actor_get_locked(d, &act, a)) == 0 &&
	    (rc = pending(d, act.id, &n, &need)) == 0)
		*out = act.nonce + n;
	pthread_mutex_unlock(&d->lock);
	return rc;
}

int chain_msg_get(struct devnet *d, struct chain_msg_info *out,
		  const struct cid *c)
{
	char text[CID_STR_MAX];
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	buf_init(&out->ret, BUF_NOCAP);
	pthread_mutex_lock(&d->lock);
	rc = db_stmt(&st, d->db, "SELECT from_id, nonce, height, exit_code,"
				 " ret, gas_used, json FROM devnet_msgs"
				 " WHERE cid = ?");
	if (rc < 0)
		goto out;
	sqlite3_bind_text(st, 1, cid_tostr(text, c), -1, SQLITE_TRANSIENT);
	rc = db_step(d->db, st);
	if (rc == 1) {
		out->cid = *c;
		out->from = (uint64_t)sqlite3_column_int64(st, 0);
		out->nonce = (uint64_t)sqlite3_column_int64(st, 1);
		out->height = sqlite3_column_type(st, 2) == SQLITE_NULL
				      ? -1
				      : sqlite3_column_int64(st, 2);
		out->exit_code = sqlite3_column_int64(st, 3);
		out->gas_used = sqlite3_column_int64(st, 5);
		rc = buf_add(&out->ret, sqlite3_column_blob(st, 4),
			     (size_t)sqlite3_column_bytes(st, 4));
		out->json = efs_strdup(
			sqlite3_column_text(st, 6)
				? (const char *)sqlite3_column_text(st, 6)
				: "{}");
		if (rc == 0 && !out->json)
			rc = efs_error_set(EFS_ENOMEM, "out of memory");
	} else if (rc == 0) {
		rc = EFS_ENOTFOUND;
	}
	db_reset(st);
out:
	pthread_mutex_unlock(&d->lock);
	if (rc < 0)
		chain_msg_info_release(out);
	return rc;
}

/* ---- execution ---- */

struct applied {
	char cid[CID_STR_MAX];
	uint64_t from;
	uint64_t nonce;
	struct filaddr to;
	struct bigint value;
	uint64_t method;
	struct buf params;
};

/* Run the method on the recipient: the exit code, or a db error. */
static int invoke(struct devnet *d, const struct applied *m,
		  const struct chain_actor *to, struct buf *ret)
{
	if (m->method == 0)
		return EXIT_OK;
	if (to->id == DEVNET_MARKET_ID && m->method == MARKET_ADD_BALANCE)
		return market_add_balance_locked(d, m->params.ptr,
						 m->params.len, &m->value);
	if (to->id == DEVNET_MARKET_ID && m->method == MARKET_WITHDRAW_BALANCE)
		return market_withdraw_locked(d, m->from, m->params.ptr,
					      m->params.len, ret);
	return EXIT_UNHANDLED_MESSAGE;
}

/* Value transfer and method, inside the savepoint. */
static int execute(struct devnet *d, const struct applied *m,
		   struct buf *ret)
{
	struct chain_actor from, to;
	struct bigint minus;
	int rc;

	rc = chain_actor_ensure_locked(d, &to, &m->to);
	if (rc == EFS_ENOTFOUND)
		return EXIT_INVALID_RECEIVER;
	if (rc < 0 || (rc = chain_actor_by_id_locked(d, &from, m->from)) < 0)
		return rc;
	if (bigint_cmp(&from.balance, &m->value) < 0)
		return EXIT_INSUFFICIENT_FUNDS;
	minus = m->value;
	minus.neg = !bigint_is_zero(&minus);
	if ((rc = chain_balance_add_locked(d, m->from, &minus)) < 0 ||
	    (rc = chain_balance_add_locked(d, to.id, &m->value)) < 0)
		return rc;
	return invoke(d, m, &to, ret);
}

/* Charge gas (as much as the sender has), bump the nonce. */
static int charge(struct devnet *d, const struct applied *m, int64_t gas)
{
	struct chain_actor from;
	struct bigint cost, minus;
	int rc;

	if ((rc = chain_actor_by_id_locked(d, &from, m->from)) < 0)
		return rc;
	bigint_from_i64(&cost, gas * BASE_FEE);
	if (bigint_cmp(&cost, &from.balance) > 0)
		cost = from.balance;
	minus = cost;
	minus.neg = !bigint_is_zero(&minus);
	if ((rc = chain_balance_add_locked(d, m->from, &minus)) < 0 ||
	    (rc = chain_balance_add_locked(d, CHAIN_BURNT_ID, &cost)) < 0)
		return rc;
	return chain_nonce_set_locked(d, m->from, from.nonce + 1);
}

static int receipt(struct devnet *d, const struct applied *m, int64_t h,
		   int exit_code, const struct buf *ret, int64_t gas)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(&st, d->db, "UPDATE devnet_msgs SET height = ?,"
				      " exit_code = ?, ret = ?, gas_used = ?"
				      " WHERE cid = ?")) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, h);
	sqlite3_bind_int(st, 2, exit_code);
	if (ret->len)
		sqlite3_bind_blob(st, 3, ret->ptr, (int)ret->len,
				  SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, gas);
	sqlite3_bind_text(st, 5, m->cid, -1, SQLITE_STATIC);
	return db_run(d->db, st);
}

static int apply_one(struct devnet *d, const struct applied *m, int64_t h)
{
	struct buf ret = BUF_INIT(BUF_NOCAP);
	struct chain_actor from;
	int64_t gas = chain_msg_gas(m->to.protocol == FILADDR_ID ? m->to.id
								 : 0,
				    m->method);
	int rc, exit_code;

	if ((rc = chain_actor_by_id_locked(d, &from, m->from)) < 0)
		return rc;
	if (from.nonce != m->nonce) {
		rc = receipt(d, m, h, EXIT_SENDER_STATE_INVALID, &ret, 0);
		goto out;
	}
	if ((rc = charge(d, m, gas)) < 0 ||
	    (rc = db_exec(d->db, "SAVEPOINT devnet_msg")) < 0)
		goto out;
	exit_code = execute(d, m, &ret);
	if (exit_code < 0) {
		rc = exit_code;
		goto out;
	}
	if (exit_code != EXIT_OK) {
		buf_reset(&ret);
		if ((rc = db_exec(d->db, "ROLLBACK TO devnet_msg")) < 0)
			goto out;
	}
	if ((rc = db_exec(d->db, "RELEASE devnet_msg")) < 0)
		goto out;
	rc = receipt(d, m, h, exit_code, &ret, gas);
out:
	buf_release(&ret);
	return rc;
}

static int next_pending(struct devnet *d, struct applied *out, bool *found,
			int64_t h)
{
	sqlite3_stmt *st;
	const char *c;
	int rc;

	*found = false;
	if ((rc = db_stmt(&st, d->db, "SELECT cid, from_id, nonce, to_addr,"
				      " value, method, params FROM devnet_msgs"
				      " WHERE height IS NULL AND pushed < ?"
				      " ORDER BY from_id, nonce LIMIT 1")) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, h);
	rc = db_step(d->db, st);
	if (rc == 1) {
		*found = true;
		c = (const char *)sqlite3_column_text(st, 0);
		snprintf(out->cid, sizeof(out->cid), "%s", c ? c : "");
		out->from = (uint64_t)sqlite3_column_int64(st, 1);
		out->nonce = (uint64_t)sqlite3_column_int64(st, 2);
		rc = filaddr_from_bytes(&out->to, sqlite3_column_blob(st, 3),
					(size_t)sqlite3_column_bytes(st, 3));
		if (rc == 0)
			rc = chain_bigint_column(&out->value, st, 4);
		out->method = (uint64_t)sqlite3_column_int64(st, 5);
		buf_reset(&out->params);
		if (rc == 0)
			rc = buf_add(&out->params, sqlite3_column_blob(st, 6),
				     (size_t)sqlite3_column_bytes(st, 6));
	}
	db_reset(st);
	return rc < 0 ? rc : 0;
}

int chain_msg_apply_locked(struct devnet *d, int64_t height)
{
	struct applied m = { .params = BUF_INIT(BUF_NOCAP) };
	bool found;
	int rc;

	for (;;) {
		if ((rc = next_pending(d, &m, &found, height)) < 0 || !found)
			break;
		if ((rc = apply_one(d, &m, height)) < 0)
			break;
	}
	buf_release(&m.params);
	return rc;
}
