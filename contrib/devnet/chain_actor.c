/*
 * chain_actor.c - actors: address resolution, balances, nonces, market
 * escrow columns, DataCap, and the faucet.
 *
 * An account is created, with the next free ID, the first time funds go
 * to an f1 address nobody used before (as the init actor does on a real
 * chain).  Only f0 and f1 addresses name actors here; f2, f3 and f4
 * resolve to nothing.
 */
#include "contrib/devnet/chain.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"

#include "core/banned.h"

#define ACTOR_COLUMNS "id, kind, key, balance, nonce"

static int actor_row(struct chain_actor *out, sqlite3_stmt *st)
{
	const void *key = sqlite3_column_blob(st, 2);

	memset(out, 0, sizeof(*out));
	out->id = (uint64_t)sqlite3_column_int64(st, 0);
	out->kind = (enum chain_actor_kind)sqlite3_column_int(st, 1);
	if (key) {
		if (filaddr_from_bytes(&out->key, key,
				       (size_t)sqlite3_column_bytes(st, 2)) < 0)
			return efs_error_set(EFS_ECORRUPT,
					     "devnet: bad key address");
		out->has_key = true;
	}
	out->nonce = (uint64_t)sqlite3_column_int64(st, 4);
	return chain_bigint_column(&out->balance, st, 3);
}

static int not_found(const struct devnet *d, const struct filaddr *a)
{
	char text[FILADDR_STR_MAX];

	filaddr_format(text, a, d->net);
	return efs_error_set(EFS_ENOTFOUND, "resolution lookup failed (%s): "
			     "resolve address %s: actor not found", text,
			     text);
}

/* Run st (bound), read one actor row. */
static int actor_query(struct devnet *d, struct chain_actor *out,
		       sqlite3_stmt *st)
{
	int rc = db_step(d->db, st);

	if (rc == 1)
		rc = actor_row(out, st);
	else if (rc == 0)
		rc = EFS_ENOTFOUND;
	db_reset(st);
	return rc;
}

int chain_actor_by_id_locked(struct devnet *d, struct chain_actor *out,
			     uint64_t id)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(&st, d->db, "SELECT " ACTOR_COLUMNS
					  " FROM devnet_actors WHERE id = ?")) <
	    0)
		return rc;
	sqlite3_bind_int64(st, 1, (int64_t)id);
	return actor_query(d, out, st);
}

int chain_actor_get_locked(struct devnet *d, struct chain_actor *out,
			   const struct filaddr *a)
{
	uint8_t kb[FILADDR_BYTES_MAX];
	sqlite3_stmt *st;
	int rc;

	if (a->protocol == FILADDR_ID) {
		rc = chain_actor_by_id_locked(d, out, a->id);
	} else if (a->protocol != FILADDR_SECP256K1) {
		rc = EFS_ENOTFOUND;
	} else {
		if ((rc = db_stmt(&st, d->db, "SELECT " ACTOR_COLUMNS
						  " FROM devnet_actors"
						  " WHERE key = ?")) < 0)
			return rc;
		sqlite3_bind_blob(st, 1, kb, (int)filaddr_to_bytes(kb, a),
				  SQLITE_TRANSIENT);
		rc = actor_query(d, out, st);
	}
	return rc == EFS_ENOTFOUND ? not_found(d, a) : rc;
}

int chain_actor_get(struct devnet *d, struct chain_actor *out,
		    const struct filaddr *a)
{
	int rc;

	pthread_mutex_lock(&d->lock);
	rc = chain_actor_get_locked(d, out, a);
	pthread_mutex_unlock(&d->lock);
	return rc;
}

int chain_account_key(struct devnet *d, struct filaddr *out,
		      const struct filaddr *a)
{
	struct chain_actor act;
	int rc;

	if (a->protocol == FILADDR_SECP256K1) {
		*out = *a;
		return 0;
	}
	if ((rc = chain_actor_get(d, &act, a)) < 0)
		return rc;
	if (!act.has_key)
		return efs_error_set(EFS_ENOTFOUND, "actor code is not "
				     "account");
	*out = act.key;
	return 0;
}

static int next_id(struct devnet *d, uint64_t *out)
{
	int64_t v;
	int rc = db_query_int(&v, d->db, "SELECT value FROM devnet_meta"
					 " WHERE key = 'next_id'", NULL, 0);

	if (rc < 0)
		return rc;
	if (rc == 0)
		return efs_error_set(EFS_ECORRUPT, "devnet: no next_id");
	*out = (uint64_t)v;
	return db_run_ints(d->db, "UPDATE devnet_meta SET value ="
				  " CAST(value AS INTEGER) + 1"
				  " WHERE key = 'next_id'", NULL, 0);
}

int chain_actor_ensure_locked(struct devnet *d, struct chain_actor *out,
			      const struct filaddr *a)
{
	uint8_t kb[FILADDR_BYTES_MAX];
	sqlite3_stmt *st;
	uint64_t id = 0;
	int rc = chain_actor_get_locked(d, out, a);

	if (rc != EFS_ENOTFOUND || a->protocol != FILADDR_SECP256K1)
		return rc;
	if ((rc = next_id(d, &id)) < 0 ||
	    (rc = db_stmt(&st, d->db, "INSERT INTO devnet_actors(id, kind,"
				      " key) VALUES (?, ?, ?)")) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, (int64_t)id);
	sqlite3_bind_int(st, 2, CHAIN_ACTOR_ACCOUNT);
	sqlite3_bind_blob(st, 3, kb, (int)filaddr_to_bytes(kb, a),
			  SQLITE_TRANSIENT);
	if ((rc = db_run(d->db, st)) < 0)
		return rc;
	return chain_actor_by_id_locked(d, out, id);
}

/* UPDATE devnet_actors SET <col> = ? WHERE id = ?, for amount columns. */
static int amount_put(struct devnet *d, const char *sql, uint64_t id,
		      const struct bigint *v)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(&st, d->db, sql)) < 0)
		return rc;
	if ((rc = chain_bigint_bind(st, 1, v)) < 0) {
		db_reset(st);
		return rc;
	}
	sqlite3_bind_int64(st, 2, (int64_t)id);
	return db_run(d->db, st);
}

int chain_balance_add_locked(struct devnet *d, uint64_t id,
			     const struct bigint *delta)
{
	struct chain_actor act;
	struct bigint nb;
	int rc;

	if ((rc = chain_actor_by_id_locked(d, &act, id)) < 0)
		return rc;
	if ((rc = bigint_add(&nb, &act.balance, delta)) < 0)
		return rc;
	if (nb.neg)
		return efs_error_set(EFS_EINVAL, "not enough funds");
	return amount_put(d, "UPDATE devnet_actors SET balance = ?"
			     " WHERE id = ?", id, &nb);
}

int chain_nonce_set_locked(struct devnet *d, uint64_t id, uint64_t nonce)
{
	const int64_t v[] = { (int64_t)nonce, (int64_t)id };

	return db_run_ints(d->db, "UPDATE devnet_actors SET nonce = ?"
				  " WHERE id = ?", v, 2);
}

int chain_escrow_get_locked(struct devnet *d, struct chain_escrow *out,
			    uint64_t id)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(&st, d->db, "SELECT escrow, locked FROM"
				      " devnet_actors WHERE id = ?")) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, (int64_t)id);
	rc = db_step(d->db, st);
	if (rc == 1) {
		if ((rc = chain_bigint_column(&out->escrow, st, 0)) == 0)
			rc = chain_bigint_column(&out->locked, st, 1);
	} else if (rc == 0) {
		/* No such actor: no escrow. */
		bigint_from_u64(&out->escrow, 0);
		bigint_from_u64(&out->locked, 0);
	}
	db_reset(st);
	return rc;
}

int chain_escrow_put_locked(struct devnet *d, uint64_t id,
			    const struct chain_escrow *e)
{
	int rc;

	if (e->escrow.neg || e->locked.neg ||
	    bigint_cmp(&e->locked, &e->escrow) > 0)
		return efs_error_set(EFS_ERROR, "devnet: escrow of f0%llu "
				     "would go wrong", (unsigned long long)id);
	if ((rc = amount_put(d, "UPDATE devnet_actors SET escrow = ?"
				" WHERE id = ?", id, &e->escrow)) < 0)
		return rc;
	return amount_put(d, "UPDATE devnet_actors SET locked = ?"
			     " WHERE id = ?", id, &e->locked);
}

int chain_datacap_get_locked(struct devnet *d, struct bigint *out,
			     bool *is_client, uint64_t id)
{
	sqlite3_stmt *st;
	int rc;

	*is_client = false;
	bigint_from_u64(out, 0);
	if ((rc = db_stmt(&st, d->db, "SELECT datacap FROM devnet_actors"
				      " WHERE id = ?")) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, (int64_t)id);
	rc = db_step(d->db, st);
	if (rc == 1 && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*is_client = true;
		rc = chain_bigint_column(out, st, 0);
	}
	db_reset(st);
	return rc < 0 ? rc : 0;
}

int chain_datacap_put_locked(struct devnet *d, uint64_t id,
			     const struct bigint *v)
{
	return amount_put(d, "UPDATE devnet_actors SET datacap = ?"
			     " WHERE id = ?", id, v);
}

/* ---- faucet ---- */

/* Resolve (creating) addr and add amount to its balance or DataCap;
 * lock held. */
static int grant_locked(struct devnet *d, struct chain_actor *act,
			const struct filaddr *a, const struct bigint *amount,
			bool datacap, struct bigint *now)
{
	bool client;
	int rc;

	if ((rc = db_begin(d->db)) < 0)
		return rc;
	if ((rc = chain_actor_ensure_locked(d, act, a)) < 0)
		goto fail;
	if (!datacap) {
		if ((rc = chain_balance_add_locked(d, act->id, amount)) < 0 ||
		    (rc = bigint_add(now, &act->balance, amount)) < 0)
			goto fail;
	} else {
		if ((rc = chain_datacap_get_locked(d, now, &client,
						   act->id)) < 0 ||
		    (rc = bigint_add(now, now, amount)) < 0 ||
		    (rc = chain_datacap_put_locked(d, act->id, now)) < 0)
			goto fail;
	}
	return db_commit(d->db);
fail:
	db_rollback(d->db);
	return rc;
}

int chain_grant(struct devnet *d, uint64_t *id, struct bigint *now,
		const struct filaddr *a, const struct bigint *amount,
		bool datacap)
{
	struct chain_actor act;
	int rc;

	if (amount->neg)
		return efs_error_set(EFS_EINVAL, "negative amount");
	pthread_mutex_lock(&d->lock);
	rc = grant_locked(d, &act, a, amount, datacap, now);
	pthread_mutex_unlock(&d->lock);
	if (rc == 0)
		*id = act.id;
	return rc;
}
