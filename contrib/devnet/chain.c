/*
 * chain.c - the devnet's chain: the epochs (the clock thread and its
 * tick), the head, tipsets, and the small key/value table of settings.
 *
 * One connection, d->db, used only with d->lock held.  Each epoch is one
 * transaction (the clock's tick):
 *
 *	head h --tick--> apply messages pushed before h+1 (chain_msg.c)
 *	                 settle deals at h+1 (market.c)
 *	                 head = h+1, tipset row, COMMIT, broadcast
 *
 * Invariants: (1) d->head equals the stored head outside a tick; (2) a
 * tick either commits whole or leaves the state at h (rolled back), so a
 * restart resumes at the last committed epoch; (3) the connection runs
 * synchronous=NORMAL: a commit survives a crash of the process, and
 * devnet_close makes the WAL durable.
 */
#define LOG_TOPIC "devnet"

#include "contrib/devnet/chain.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"

#include "core/banned.h"

/* ---- meta ---- */

int chain_meta_get(struct devnet *d, char *out, size_t cap, const char *key)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(&st, d->db, "SELECT value FROM devnet_meta"
					  " WHERE key = ?")) < 0)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = db_step(d->db, st);
	if (rc == 1) {
		snprintf(out, cap, "%s",
			 (const char *)sqlite3_column_text(st, 0));
		rc = 0;
	} else if (rc == 0) {
		rc = EFS_ENOTFOUND;
	}
	db_reset(st);
	return rc;
}

int chain_meta_get_i64(struct devnet *d, int64_t *out, const char *key)
{
	char v[32];
	int rc = chain_meta_get(d, v, sizeof(v), key);

	if (rc == 0)
		*out = strtoll(v, NULL, 10);
	return rc;
}

int chain_meta_set(struct devnet *d, const char *key, const char *value)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(&st, d->db, "INSERT OR REPLACE INTO devnet_meta"
					  " (key, value) VALUES (?, ?)")) < 0)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	return db_run(d->db, st);
}

int chain_meta_set_i64(struct devnet *d, const char *key, int64_t v)
{
	char text[32];

	snprintf(text, sizeof(text), "%lld", (long long)v);
	return chain_meta_set(d, key, text);
}

/* ---- big integers in columns ---- */

int chain_bigint_column(struct bigint *out, sqlite3_stmt *st, int col)
{
	const char *s = (const char *)sqlite3_column_text(st, col);

	if (!s)
		return efs_error_set(EFS_ECORRUPT, "devnet: null amount");
	if (bigint_parse(out, s, strlen(s)) < 0)
		return efs_error_set(EFS_ECORRUPT, "devnet: bad amount '%s'",
				     s);
	return 0;
}

int chain_bigint_bind(sqlite3_stmt *st, int col, const struct bigint *v)
{
	char text[BIGINT_STR_MAX];

	bigint_format(text, v);
	if (sqlite3_bind_text(st, col, text, -1, SQLITE_TRANSIENT) !=
	    SQLITE_OK)
		return efs_error_set(EFS_ENOMEM, "devnet: cannot bind");
	return 0;
}

/* ---- tipsets ---- */

void chain_block_cid(struct cid *out, int64_t height)
{
	char seed[48];
	int n = snprintf(seed, sizeof(seed), "estuaryfs-devnet block %lld",
			 (long long)height);

	/* Cannot fail: dag-cbor + blake2b-256 are always built. */
	if (cid_hash(out, 1, CID_CODEC_DAG_CBOR, MHASH_BLAKE2B_256, seed,
		     (size_t)n) < 0)
		memset(out, 0, sizeof(*out));
}

int chain_tipset_insert_locked(struct devnet *d, int64_t h)
{
	char text[CID_STR_MAX];
	sqlite3_stmt *st;
	struct cid c;
	int rc;

	chain_block_cid(&c, h);
	cid_tostr(text, &c);
	if ((rc = db_stmt(&st, d->db, "INSERT OR REPLACE INTO devnet_tipsets"
				      " (height, ts, cid) VALUES (?, ?, ?)")) <
	    0)
		return rc;
	sqlite3_bind_int64(st, 1, h);
	sqlite3_bind_int64(st, 2, (int64_t)time(NULL));
	sqlite3_bind_text(st, 3, text, -1, SQLITE_TRANSIENT);
	return db_run(d->db, st);
}

int chain_tipset_height(struct devnet *d, int64_t *out, const struct cid *c)
{
	char text[CID_STR_MAX];
	sqlite3_stmt *st;
	int rc;

	cid_tostr(text, c);
	pthread_mutex_lock(&d->lock);
	rc = db_stmt(&st, d->db, "SELECT height FROM devnet_tipsets"
				 " WHERE cid = ?");
	if (rc == 0) {
		sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
		rc = db_step(d->db, st);
		if (rc == 1)
			*out = sqlite3_column_int64(st, 0);
		db_reset(st);
		if (rc == 0)
			rc = efs_error_set(EFS_ENOTFOUND, "loading tipset {%s}:"
					   " not found", text);
		else if (rc == 1)
			rc = 0;
	}
	pthread_mutex_unlock(&d->lock);
	return rc;
}

int chain_timestamp(struct devnet *d, uint64_t *out, int64_t height)
{
	int64_t ts = 0;
	int rc;

	pthread_mutex_lock(&d->lock);
	rc = db_query_int(&ts, d->db, "SELECT ts FROM devnet_tipsets"
				      " WHERE height <= ? ORDER BY height DESC"
				      " LIMIT 1", &height, 1);
	pthread_mutex_unlock(&d->lock);
	*out = (uint64_t)ts;
	return rc < 0 ? rc : 0;
}

/* ---- epochs ---- */

/* One epoch, in one transaction.  Lock held. */
int chain_tick_locked(struct devnet *d)
{
	int64_t h = d->head + 1;
	int rc;

	if ((rc = db_begin(d->db)) < 0)
		return rc;
	if ((rc = chain_msg_apply_locked(d, h)) < 0 ||
	    (rc = market_tick_locked(d, h)) < 0 ||
	    (rc = chain_meta_set_i64(d, "head", h)) < 0 ||
	    (rc = chain_tipset_insert_locked(d, h)) < 0 ||
	    (rc = db_commit(d->db)) < 0)
		goto fail;
	d->head = h;
	pthread_cond_broadcast(&d->head_cond);
	return 0;
fail:
	db_rollback(d->db);
	return rc;
}

int64_t chain_head(struct devnet *d)
{
	int64_t h;

	pthread_mutex_lock(&d->lock);
	h = d->head;
	pthread_mutex_unlock(&d->lock);
	return h;
}

int64_t chain_wait_head(struct devnet *d, int64_t after, unsigned timeout_ms)
{
	struct timespec until;
	int64_t h;

	efs_clock_deadline(&until, CLOCK_MONOTONIC, timeout_ms);
	pthread_mutex_lock(&d->lock);
	while (d->head <= after && !d->stopping &&
	       pthread_cond_timedwait(&d->head_cond, &d->lock, &until) !=
		       ETIMEDOUT)
		;
	h = d->head;
	pthread_mutex_unlock(&d->lock);
	return h;
}

int chain_set_fil_usd(struct devnet *d, double rate)
{
	char text[64];
	int rc;

	snprintf(text, sizeof(text), "%.17g", rate);
	pthread_mutex_lock(&d->lock);
	if ((rc = chain_meta_set(d, "fil_usd", text)) == 0)
		d->fil_usd = rate;
	pthread_mutex_unlock(&d->lock);
	return rc;
}

