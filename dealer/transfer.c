/*
 * transfer.c - per-deal secret transfer URLs: the token table and the
 * accounting (see transfer.h).  The HTTP side, transfer_handle, is in
 * transfer_serve.c.
 *
 * The table (module "dealer_transfer" of db_migrate, in index.db):
 *
 *	dealer_transfers(token_hash BLOB PRIMARY KEY  sha256 of the token text
 *	                 piece_id, deal_uuid BLOB(16), miner TEXT,
 *	                 created, expires            unix seconds; expires 0:
 *	                                             revoked
 *	                 bytes_sent, requests, last_at, done)
 *
 * Looking a token up by its hash needs no constant-time compare: the
 * lookup learns nothing an attacker could use about other tokens.
 *
 * One sqlite connection, behind t->lock: every statement is short (one
 * row by primary key, or a deal's few rows by index), and the lock is
 * never held across the source's I/O or a network write.
 */
#include "dealer/transfer.h"
#include "dealer/transfer_i.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "core/alloc.h"
#include "core/db.h"
#include "core/error.h"
#include "core/fdio.h"
#include "core/mbase.h"
#include "core/mk12.h"
#include "net/httpc.h"

#include "core/banned.h"

static const char *const schema[] = {
	/* 1 */
	"CREATE TABLE dealer_transfers ("
	" token_hash BLOB PRIMARY KEY,"
	" piece_id INTEGER NOT NULL,"
	" deal_uuid BLOB NOT NULL,"
	" miner TEXT NOT NULL,"
	" created INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"
	" bytes_sent INTEGER NOT NULL DEFAULT 0,"
	" requests INTEGER NOT NULL DEFAULT 0,"
	" last_at INTEGER NOT NULL DEFAULT 0,"
	" done INTEGER NOT NULL DEFAULT 0"
	") WITHOUT ROWID;"
	"CREATE INDEX dealer_transfers_uuid ON dealer_transfers(deal_uuid);",
};

/* Unix seconds. */
static int64_t now_sec(void)
{
	return (int64_t)time(NULL);
}

int transfer_hash(uint8_t out[TRANSFER_HASH_LEN], const char *token)
{
	unsigned n = 0;

	if (!EVP_Digest(token, strlen(token), out, &n, EVP_sha256(), NULL) ||
	    n != TRANSFER_HASH_LEN)
		return efs_error_set(EFS_ERROR, "transfer: sha256 failed");
	return 0;
}

int transfer_open(struct transfer **out, const char *db_path,
		  const struct transfer_source_ops *ops, void *ops_cls)
{
	struct transfer *t;
	int rc;

	*out = NULL;
	if (!(t = efs_calloc(1, sizeof(*t))))
		return efs_error_set(EFS_ENOMEM, "transfer: out of memory");
	t->ops = ops;
	t->ops_cls = ops_cls;
	if ((rc = db_open(&t->db, db_path, DB_OPEN_CREATE)) < 0 ||
	    (rc = db_migrate(t->db, NULL, "dealer_transfer", schema,
			     sizeof(schema) / sizeof(schema[0]))) < 0) {
		db_close(t->db);
		efs_free(t);
		return rc;
	}
	if (pthread_mutex_init(&t->lock, NULL) != 0) {
		db_close(t->db);
		efs_free(t);
		return efs_error_set(EFS_ENOMEM, "transfer: no mutex");
	}
	*out = t;
	return 0;
}

void transfer_close(struct transfer *t)
{
	if (!t)
		return;
	db_close(t->db);
	pthread_mutex_destroy(&t->lock);
	efs_free(t);
}

int transfer_token_new(char out[TRANSFER_TOKEN_MAX], struct transfer *t,
		       int64_t piece_id, const uint8_t uuid[16],
		       const char *miner, int64_t expires)
{
	static const char sql[] =
		"INSERT INTO dealer_transfers (token_hash, piece_id, "
		"deal_uuid, miner, created, expires) VALUES (?1,?2,?3,?4,?5,?6)";
	uint8_t raw[TRANSFER_TOKEN_BYTES], hash[TRANSFER_HASH_LEN];
	int64_t now = now_sec();
	sqlite3_stmt *st;
	int rc;

	out[0] = '\0';
	if (expires <= now)
		return efs_error_set(EFS_EINVAL,
				     "transfer: expiry %lld is not in the future",
				     (long long)expires);
	if (!miner || !*miner || strlen(miner) > TRANSFER_MINER_MAX)
		return efs_error_set(EFS_EINVAL, "transfer: bad miner address");
	if (fdio_random(raw, sizeof(raw)) < 0)
		return efs_error_set_errno(EFS_EIO, errno,
					   "transfer: getrandom");
	if (mbase_base64url_encode(out, TRANSFER_TOKEN_MAX, raw,
				   sizeof(raw)) != TRANSFER_TOKEN_LEN)
		return efs_error_set(EFS_ERROR, "transfer: cannot encode token");
	if ((rc = transfer_hash(hash, out)) < 0)
		goto fail;
	pthread_mutex_lock(&t->lock);
	if ((rc = db_stmt(&st, t->db, sql)) == 0) {
		sqlite3_bind_blob(st, 1, hash, sizeof(hash), SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, piece_id);
		sqlite3_bind_blob(st, 3, uuid, 16, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, miner, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, now);
		sqlite3_bind_int64(st, 6, expires);
		rc = db_run(t->db, st);
	}
	pthread_mutex_unlock(&t->lock);
fail:
	explicit_bzero(raw, sizeof(raw));
	if (rc < 0)
		explicit_bzero(out, TRANSFER_TOKEN_MAX);
	return rc;
}

/* base_url checked, without a trailing '/', then "/transfer/". */
static int url_base(struct buf *out, const char *base_url)
{
	size_t n;
	int rc;

	if (!httpc_url_ok(base_url))
		return efs_error_set(EFS_EINVAL,
				     "transfer: base url must be http(s)://...");
	n = strlen(base_url);
	while (n && base_url[n - 1] == '/')
		n--;
	if ((rc = buf_add(out, base_url, n)) < 0)
		return rc;
	return buf_adds(out, TRANSFER_PATH_PREFIX);
}

int transfer_url(struct buf *out, const char *base_url, const char *token)
{
	int rc;

	if ((rc = url_base(out, base_url)) < 0)
		return rc;
	return buf_adds(out, token);
}

int transfer_url_bearer(struct buf *url_out, struct buf *auth_out,
			const char *base_url, const uint8_t uuid[16],
			const char *token)
{
	char u[MK12_UUID_STR_MAX];
	int rc;

	mk12_uuid_format(u, uuid);
	if ((rc = url_base(url_out, base_url)) < 0 ||
	    (rc = buf_adds(url_out, u)) < 0 ||
	    (rc = buf_adds(auth_out, "Bearer ")) < 0)
		return rc;
	return buf_adds(auth_out, token);
}

int transfer_revoke(struct transfer *t, const uint8_t uuid[16])
{
	static const char sql[] =
		"UPDATE dealer_transfers SET expires = 0 WHERE deal_uuid = ?1";
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&t->lock);
	if ((rc = db_stmt(&st, t->db, sql)) == 0) {
		sqlite3_bind_blob(st, 1, uuid, 16, SQLITE_STATIC);
		rc = db_run(t->db, st);
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int transfer_stats(struct transfer *t, const uint8_t uuid[16],
		   uint64_t *bytes, uint64_t *requests, int64_t *last_at)
{
	static const char sql[] =
		"SELECT count(*), total(bytes_sent), total(requests),"
		" max(last_at) FROM dealer_transfers"
		" WHERE deal_uuid = ?1";
	sqlite3_stmt *st = NULL;
	int rc;

	pthread_mutex_lock(&t->lock);
	if ((rc = db_stmt(&st, t->db, sql)) < 0)
		goto out;
	sqlite3_bind_blob(st, 1, uuid, 16, SQLITE_STATIC);
	if ((rc = db_step(t->db, st)) < 0)
		goto out;
	if (rc == 0 || sqlite3_column_int64(st, 0) == 0) {
		rc = efs_error_set(EFS_ENOTFOUND,
				   "transfer: no transfer for this deal");
		goto out;
	}
	if (bytes)
		*bytes = (uint64_t)sqlite3_column_int64(st, 1);
	if (requests)
		*requests = (uint64_t)sqlite3_column_int64(st, 2);
	if (last_at)
		*last_at = sqlite3_column_int64(st, 3);
	rc = 0;
out:
	db_reset(st);
	pthread_mutex_unlock(&t->lock);
	return rc;
}

bool transfer_done(struct transfer *t, const uint8_t uuid[16])
{
	static const char sql[] =
		"SELECT 1 FROM dealer_transfers WHERE deal_uuid = ?1 AND done"
		" LIMIT 1";
	sqlite3_stmt *st;
	bool done = false;

	pthread_mutex_lock(&t->lock);
	if (db_stmt(&st, t->db, sql) == 0) {
		sqlite3_bind_blob(st, 1, uuid, 16, SQLITE_STATIC);
		done = db_step(t->db, st) == 1;
		db_reset(st);
	}
	pthread_mutex_unlock(&t->lock);
	return done;
}

int transfer_lookup(struct transfer_row *out, struct transfer *t,
		    const uint8_t hash[TRANSFER_HASH_LEN])
{
	static const char sel[] =
		"SELECT piece_id, deal_uuid, miner, expires"
		" FROM dealer_transfers WHERE token_hash = ?1";
	static const char upd[] =
		"UPDATE dealer_transfers SET requests = requests + 1,"
		" last_at = ?2 WHERE token_hash = ?1";
	int64_t now = now_sec();
	sqlite3_stmt *st;
	const void *u;
	const unsigned char *m;
	int rc;

	pthread_mutex_lock(&t->lock);
	if ((rc = db_stmt(&st, t->db, sel)) < 0)
		goto out;
	sqlite3_bind_blob(st, 1, hash, TRANSFER_HASH_LEN, SQLITE_STATIC);
	if ((rc = db_step(t->db, st)) < 0)
		goto out;
	u = sqlite3_column_blob(st, 1);
	m = sqlite3_column_text(st, 2);
	if (rc == 0 || sqlite3_column_int64(st, 3) <= now || !u || !m ||
	    sqlite3_column_bytes(st, 1) != 16 ||
	    strlen((const char *)m) > TRANSFER_MINER_MAX) {
		db_reset(st);
		rc = efs_error_set(EFS_ENOTFOUND, "transfer: no such token");
		goto out;
	}
	out->piece_id = sqlite3_column_int64(st, 0);
	memcpy(out->uuid, u, 16);
	snprintf(out->miner, sizeof(out->miner), "%s", (const char *)m);
	db_reset(st);
	if ((rc = db_stmt(&st, t->db, upd)) == 0) {
		sqlite3_bind_blob(st, 1, hash, TRANSFER_HASH_LEN,
				  SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now);
		rc = db_run(t->db, st);
	}
out:
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int transfer_account(struct transfer *t,
		     const uint8_t hash[TRANSFER_HASH_LEN], uint64_t bytes,
		     bool done)
{
	static const char sql[] =
		"UPDATE dealer_transfers SET bytes_sent = bytes_sent + ?2,"
		" done = done OR ?3 WHERE token_hash = ?1";
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&t->lock);
	if ((rc = db_stmt(&st, t->db, sql)) == 0) {
		sqlite3_bind_blob(st, 1, hash, TRANSFER_HASH_LEN,
				  SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (int64_t)bytes);
		sqlite3_bind_int(st, 3, done);
		rc = db_run(t->db, st);
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}
