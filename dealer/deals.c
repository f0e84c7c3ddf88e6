/*
 * deals.c - the deal records in index.db (see deals.h).
 *
 * CIDs, addresses and amounts are stored as text: the rows are what a
 * user or an operator reads with sqlite3 when something goes wrong, and
 * none of them is on a hot path.  The UUID is a 16-byte blob (it is
 * looked up by the SP status replies).  One connection, one mutex: the
 * dealer's thread does nearly all of the writing; the transfer server
 * and the CLI only read.
 */
#include "dealer/deals.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "core/alloc.h"
#include "core/db.h"
#include "core/error.h"
#include "core/mbase.h"

#include "core/banned.h"

static const char *const schema[] = {
	/* 0 -> 1 */
	"CREATE TABLE dealer_deals ("
	" id INTEGER PRIMARY KEY,"
	" uuid BLOB NOT NULL UNIQUE,"
	" piece_id INTEGER NOT NULL,"
	" piece_cid TEXT NOT NULL,"
	" padded INTEGER NOT NULL,"
	" miner TEXT NOT NULL,"
	" proto TEXT NOT NULL,"
	" state INTEGER NOT NULL,"
	" verified INTEGER NOT NULL,"
	" price TEXT NOT NULL,"
	" collateral TEXT NOT NULL,"
	" start_epoch INTEGER NOT NULL,"
	" end_epoch INTEGER NOT NULL,"
	" proposal_cid TEXT NOT NULL,"
	" signed_cid TEXT NOT NULL,"
	" proposal BLOB NOT NULL,"
	" deal_id INTEGER NOT NULL DEFAULT -1,"
	" sector_start INTEGER NOT NULL DEFAULT -1,"
	" slash_epoch INTEGER NOT NULL DEFAULT -1,"
	" chain TEXT,"
	" chain_at INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL,"
	" updated INTEGER NOT NULL,"
	" next_check INTEGER NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" reason TEXT);"
	"CREATE INDEX dealer_deals_piece ON dealer_deals(piece_id, state);"
	"CREATE INDEX dealer_deals_due ON dealer_deals(next_check)"
	" WHERE state <= 5;"
	"CREATE INDEX dealer_deals_chain ON dealer_deals(deal_id)"
	" WHERE deal_id >= 0;"
	"CREATE INDEX dealer_deals_prop ON dealer_deals(proposal_cid);"
	"CREATE INDEX dealer_deals_signed ON dealer_deals(signed_cid);"
	"CREATE TABLE dealer_deal_events ("
	" deal INTEGER NOT NULL,"
	" time INTEGER NOT NULL,"
	" state INTEGER NOT NULL,"
	" detail TEXT);"
	"CREATE INDEX dealer_deal_events_deal ON dealer_deal_events(deal);",
};

#define COLUMNS                                                            \
	"id, uuid, piece_id, piece_cid, padded, miner, proto, state,"      \
	" verified, price, collateral, start_epoch, end_epoch,"            \
	" proposal_cid, signed_cid, proposal, deal_id, sector_start,"      \
	" slash_epoch, chain, chain_at, created, updated, next_check,"     \
	" attempts, reason"

struct deals {
	struct db *db;
	pthread_mutex_t lock;
};

static const char *const state_names[] = {
	[DEAL_PROPOSING] = "proposing",
	[DEAL_ACCEPTED] = "accepted",
	[DEAL_TRANSFERRING] = "transferring",
	[DEAL_PUBLISHING] = "publishing",
	[DEAL_PUBLISHED] = "published",
	[DEAL_ACTIVE] = "active",
	[DEAL_REJECTED] = "rejected",
	[DEAL_FAILED] = "failed",
	[DEAL_SLASHED] = "slashed",
	[DEAL_EXPIRED] = "expired",
};

#define NSTATES (sizeof(state_names) / sizeof(state_names[0]))

const char *deals_state_name(enum deal_state s)
{
	if ((unsigned)s < NSTATES && state_names[s])
		return state_names[s];
	return "unknown";
}

bool deals_state_parse(enum deal_state *out, const char *name)
{
	for (size_t i = 0; i < NSTATES; i++) {
		if (state_names[i] && strcmp(state_names[i], name) == 0) {
			*out = (enum deal_state)i;
			return true;
		}
	}
	return false;
}

void deals_release(struct deal *d)
{
	if (!d)
		return;
	buf_release(&d->proposal);
	efs_free(d->chain_json);
	efs_free(d->reason);
	memset(d, 0, sizeof(*d));
}

int deals_uuid_parse(uint8_t out[DEAL_UUID_LEN], const char *s)
{
	size_t len = strlen(s);

	if ((len == 2 * DEAL_UUID_LEN &&
	     mbase_hex_decode(out, DEAL_UUID_LEN, s, len) == DEAL_UUID_LEN) ||
	    (len != 2 * DEAL_UUID_LEN && mk12_uuid_parse(out, s, len) == 0))
		return 0;
	return efs_error_set(EFS_EINVAL, "deal: '%s' is not a UUID", s);
}

static int open_db(struct deals **out, const char *db_path, bool ro)
{
	struct deals *ds;
	int version, rc;

	*out = NULL;
	if (!(ds = efs_calloc(1, sizeof(*ds))))
		return EFS_ENOMEM;
	pthread_mutex_init(&ds->lock, NULL);
	rc = db_open(&ds->db, db_path,
		     ro ? DB_OPEN_QUERY_ONLY : DB_OPEN_CREATE);
	if (rc == 0 && ro) {
		rc = db_schema_version(&version, ds->db, "dealer_deals");
		if (rc == 0 && version == 0)
			rc = efs_error_set(EFS_ENOTFOUND,
					   "no deals yet: the dealer has not "
					   "run in this repository");
	} else if (rc == 0) {
		rc = db_migrate(ds->db, NULL, "dealer_deals", schema,
				sizeof(schema) / sizeof(schema[0]));
	}
	if (rc < 0) {
		deals_close(ds);
		return rc;
	}
	*out = ds;
	return 0;
}

int deals_open(struct deals **out, const char *db_path)
{
	return open_db(out, db_path, false);
}

int deals_open_ro(struct deals **out, const char *db_path)
{
	return open_db(out, db_path, true);
}

void deals_close(struct deals *ds)
{
	if (!ds)
		return;
	db_close(ds->db);
	pthread_mutex_destroy(&ds->lock);
	efs_free(ds);
}

/* ---- rows ---- */

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static void bind_cid(sqlite3_stmt *st, int i, const struct cid *id)
{
	char s[CID_STR_MAX];

	bind_text(st, i, cid_tostr(s, id));
}

static void bind_big(sqlite3_stmt *st, int i, const struct bigint *b)
{
	char s[BIGINT_STR_MAX];

	bigint_format(s, b);
	bind_text(st, i, s);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	return s ? s : "";
}

static int col_dup(char **out, sqlite3_stmt *st, int i)
{
	*out = NULL;
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return 0;
	return (*out = efs_strdup(col_text(st, i))) ? 0 : EFS_ENOMEM;
}

/* A row read back that does not parse means the table was edited by
 * hand or damaged: say which deal. */
static int bad_row(int64_t id, const char *what)
{
	return efs_error_set(EFS_ECORRUPT, "deals: deal %lld: bad %s",
			     (long long)id, what);
}

static int row_read(struct deal *d, sqlite3_stmt *st)
{
	const char *s;
	int rc;

	memset(d, 0, sizeof(*d));
	d->id = sqlite3_column_int64(st, 0);
	if (sqlite3_column_bytes(st, 1) != DEAL_UUID_LEN)
		return bad_row(d->id, "uuid");
	memcpy(d->uuid, sqlite3_column_blob(st, 1), DEAL_UUID_LEN);
	d->piece_id = sqlite3_column_int64(st, 2);
	if (cid_parse(&d->piece_cid, col_text(st, 3)) < 0)
		return bad_row(d->id, "piece cid");
	d->padded = (uint64_t)sqlite3_column_int64(st, 4);
	s = col_text(st, 5);
	if (filaddr_parse(&d->miner, NULL, s, strlen(s)) < 0)
		return bad_row(d->id, "miner");
	snprintf(d->proto, sizeof(d->proto), "%s", col_text(st, 6));
	d->state = (enum deal_state)sqlite3_column_int(st, 7);
	d->verified = sqlite3_column_int(st, 8) != 0;
	s = col_text(st, 9);
	if (bigint_parse(&d->price, s, strlen(s)) < 0)
		return bad_row(d->id, "price");
	s = col_text(st, 10);
	if (bigint_parse(&d->collateral, s, strlen(s)) < 0)
		return bad_row(d->id, "collateral");
	d->start_epoch = sqlite3_column_int64(st, 11);
	d->end_epoch = sqlite3_column_int64(st, 12);
	if (cid_parse(&d->proposal_cid, col_text(st, 13)) < 0 ||
	    cid_parse(&d->signed_cid, col_text(st, 14)) < 0)
		return bad_row(d->id, "proposal cid");
	buf_init(&d->proposal, BUF_NOCAP);
	if ((rc = buf_add(&d->proposal, sqlite3_column_blob(st, 15),
			  (size_t)sqlite3_column_bytes(st, 15))) < 0)
		return rc;
	d->deal_id = sqlite3_column_int64(st, 16);
	d->sector_start = sqlite3_column_int64(st, 17);
	d->slash_epoch = sqlite3_column_int64(st, 18);
	if ((rc = col_dup(&d->chain_json, st, 19)) < 0)
		return rc;
	d->chain_at = sqlite3_column_int64(st, 20);
	d->created = sqlite3_column_int64(st, 21);
	d->updated = sqlite3_column_int64(st, 22);
	d->next_check = sqlite3_column_int64(st, 23);
	d->attempts = (unsigned)sqlite3_column_int(st, 24);
	return col_dup(&d->reason, st, 25);
}

static int event_add(struct deals *ds, int64_t id, enum deal_state s,
		     const char *detail, int64_t now)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(&st, ds->db,
			  "INSERT INTO dealer_deal_events(deal, time, state,"
			  " detail) VALUES (?, ?, ?, ?)")) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int(st, 3, (int)s);
	bind_text(st, 4, detail);
	return db_run(ds->db, st);
}

int deals_insert(struct deals *ds, struct deal *d)
{
	sqlite3_stmt *st;
	char miner[FILADDR_STR_MAX];
	int rc;

	filaddr_format(miner, &d->miner, 'f');
	pthread_mutex_lock(&ds->lock);
	if ((rc = db_begin(ds->db)) < 0)
		goto out;
	if ((rc = db_stmt(&st, ds->db,
			  "INSERT INTO dealer_deals(uuid, piece_id, piece_cid,"
			  " padded, miner, proto, state, verified, price,"
			  " collateral, start_epoch, end_epoch, proposal_cid,"
			  " signed_cid, proposal, created, updated,"
			  " next_check, reason) VALUES (?, ?, ?, ?, ?, ?, ?,"
			  " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) < 0)
		goto fail;
	sqlite3_bind_blob(st, 1, d->uuid, DEAL_UUID_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, d->piece_id);
	bind_cid(st, 3, &d->piece_cid);
	sqlite3_bind_int64(st, 4, (int64_t)d->padded);
	bind_text(st, 5, miner);
	bind_text(st, 6, d->proto);
	sqlite3_bind_int(st, 7, (int)d->state);
	sqlite3_bind_int(st, 8, d->verified);
	bind_big(st, 9, &d->price);
	bind_big(st, 10, &d->collateral);
	sqlite3_bind_int64(st, 11, d->start_epoch);
	sqlite3_bind_int64(st, 12, d->end_epoch);
	bind_cid(st, 13, &d->proposal_cid);
	bind_cid(st, 14, &d->signed_cid);
	sqlite3_bind_blob(st, 15,
			  d->proposal.ptr ? (const void *)d->proposal.ptr : "",
			  (int)d->proposal.len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 16, d->created);
	sqlite3_bind_int64(st, 17, d->created);
	sqlite3_bind_int64(st, 18, d->next_check);
	bind_text(st, 19, d->reason);
	if ((rc = db_run(ds->db, st)) < 0)
		goto fail;
	d->id = sqlite3_last_insert_rowid(sqlite3_db_handle(st));
	d->updated = d->created;
	if ((rc = event_add(ds, d->id, d->state, d->reason, d->created)) < 0 ||
	    (rc = db_commit(ds->db)) < 0)
		goto fail;
	goto out;
fail:
	db_rollback(ds->db);
out:
	pthread_mutex_unlock(&ds->lock);
	return rc;
}

int deals_set_state(struct deals *ds, int64_t id, enum deal_state state,
		    const char *reason, int64_t next_check, int64_t now)
{
	sqlite3_stmt *st;
	int64_t old;
	int rc;

	pthread_mutex_lock(&ds->lock);
	if ((rc = db_begin(ds->db)) < 0)
		goto out;
	if ((rc = db_query_int(&old, ds->db,
			       "SELECT state FROM dealer_deals WHERE id = ?",
			       &id, 1)) <= 0) {
		if (rc == 0)
			rc = efs_error_set(EFS_ENOTFOUND,
					   "deals: no deal %lld",
					   (long long)id);
		goto fail;
	}
	if ((rc = db_stmt(&st, ds->db,
			  "UPDATE dealer_deals SET state = ?, reason = ?,"
			  " next_check = ?, updated = ?, attempts = 0"
			  " WHERE id = ?")) < 0)
		goto fail;
	sqlite3_bind_int(st, 1, (int)state);
	bind_text(st, 2, reason);
	sqlite3_bind_int64(st, 3, next_check);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, id);
	if ((rc = db_run(ds->db, st)) < 0)
		goto fail;
	if (old != state && (rc = event_add(ds, id, state, reason, now)) < 0)
		goto fail;
	if ((rc = db_commit(ds->db)) < 0)
		goto fail;
	goto out;
fail:
	db_rollback(ds->db);
out:
	pthread_mutex_unlock(&ds->lock);
	return rc;
}

int deals_set_chain(struct deals *ds, int64_t id, int64_t deal_id,
		    int64_t sector_start, int64_t slash_epoch,
		    const char *json, int64_t now)
{
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&ds->lock);
	if ((rc = db_stmt(&st, ds->db,
			  "UPDATE dealer_deals SET deal_id = ?,"
			  " sector_start = ?, slash_epoch = ?,"
			  " chain = coalesce(?, chain), chain_at = ?"
			  " WHERE id = ?")) == 0) {
		sqlite3_bind_int64(st, 1, deal_id);
		sqlite3_bind_int64(st, 2, sector_start);
		sqlite3_bind_int64(st, 3, slash_epoch);
		bind_text(st, 4, json);
		sqlite3_bind_int64(st, 5, now);
		sqlite3_bind_int64(st, 6, id);
		rc = db_run(ds->db, st);
	}
	pthread_mutex_unlock(&ds->lock);
	return rc;
}

int deals_check_failed(struct deals *ds, int64_t id, const char *reason,
		       int64_t next_check, int64_t now)
{
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&ds->lock);
	if ((rc = db_stmt(&st, ds->db,
			  "UPDATE dealer_deals SET attempts = attempts + 1,"
			  " reason = ?, next_check = ?, updated = ?"
			  " WHERE id = ?")) == 0) {
		bind_text(st, 1, reason);
		sqlite3_bind_int64(st, 2, next_check);
		sqlite3_bind_int64(st, 3, now);
		sqlite3_bind_int64(st, 4, id);
		rc = db_run(ds->db, st);
	}
	pthread_mutex_unlock(&ds->lock);
	return rc;
}

/* Run a prepared SELECT of COLUMNS, calling cb per row (or filling one
 * deal when one != NULL: EFS_ENOTFOUND when there is no row). */
static int select_rows(struct deals *ds, sqlite3_stmt *st, struct deal *one,
		       int (*cb)(const struct deal *d, void *cls), void *cls)
{
	struct deal d;
	int rc, cbrc = 0;

	while ((rc = db_step(ds->db, st)) == 1) {
		if (one) {
			cbrc = row_read(one, st);
			break;
		}
		if ((cbrc = row_read(&d, st)) == 0)
			cbrc = cb(&d, cls);
		deals_release(&d);
		if (cbrc != 0)
			break;
	}
	db_reset(st);
	if (rc < 0)
		return rc;
	if (one && rc == 0)
		return efs_error_set(EFS_ENOTFOUND, "deals: no such deal");
	return cbrc;
}

int deals_get(struct deal *out, struct deals *ds, int64_t id)
{
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&ds->lock);
	if ((rc = db_stmt(&st, ds->db, "SELECT " COLUMNS
			  " FROM dealer_deals WHERE id = ?")) == 0) {
		sqlite3_bind_int64(st, 1, id);
		rc = select_rows(ds, st, out, NULL, NULL);
	}
	pthread_mutex_unlock(&ds->lock);
	return rc;
}

int deals_find(struct deal *out, struct deals *ds, const char *key)
{
	uint8_t uuid[DEAL_UUID_LEN];
	sqlite3_stmt *st;
	struct cid id;
	char *end;
	long long n;
	int rc;

	/* A UUID's 32 hex digits may all be decimal digits: a deal ID
	 * is never that long (it would overflow). */
	errno = 0;
	n = strtoll(key, &end, 10);
	pthread_mutex_lock(&ds->lock);
	if (*key && !*end && n >= 0 && errno == 0) {
		rc = db_stmt(&st, ds->db, "SELECT " COLUMNS
			     " FROM dealer_deals WHERE deal_id = ?"
			     " ORDER BY id DESC LIMIT 1");
		if (rc == 0)
			sqlite3_bind_int64(st, 1, n);
	} else if (deals_uuid_parse(uuid, key) == 0) {
		rc = db_stmt(&st, ds->db, "SELECT " COLUMNS
			     " FROM dealer_deals WHERE uuid = ?");
		if (rc == 0)
			sqlite3_bind_blob(st, 1, uuid, DEAL_UUID_LEN,
					  SQLITE_TRANSIENT);
	} else if (cid_parse(&id, key) == 0) {
		rc = db_stmt(&st, ds->db, "SELECT " COLUMNS
			     " FROM dealer_deals WHERE proposal_cid = ?1"
			     " OR signed_cid = ?1");
		if (rc == 0)
			bind_cid(st, 1, &id);
	} else {
		pthread_mutex_unlock(&ds->lock);
		return efs_error_set(EFS_EINVAL,
				     "deal: '%s' is neither a deal ID, a "
				     "deal UUID nor a proposal CID", key);
	}
	if (rc == 0) {
		rc = select_rows(ds, st, out, NULL, NULL);
		if (rc == EFS_ENOTFOUND)
			rc = efs_error_set(EFS_ENOTFOUND,
					   "deal: no deal %s", key);
	}
	pthread_mutex_unlock(&ds->lock);
	return rc;
}

int deals_foreach(struct deals *ds, int64_t piece_id, bool live_only,
		  int (*cb)(const struct deal *d, void *cls), void *cls)
{
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&ds->lock);
	/* Two statements: "?1 < 0 OR piece_id = ?1" would keep sqlite from
	 * using the piece index, a full scan per piece. */
	if ((rc = db_stmt(&st, ds->db,
			  piece_id < 0
				  ? "SELECT " COLUMNS " FROM dealer_deals"
				    " WHERE ?1 < 0 AND (?2 = 0 OR state <= 5)"
				    " ORDER BY id"
				  : "SELECT " COLUMNS " FROM dealer_deals"
				    " WHERE piece_id = ?1 AND (?2 = 0 OR"
				    " state <= 5) ORDER BY id")) == 0) {
		sqlite3_bind_int64(st, 1, piece_id);
		sqlite3_bind_int(st, 2, live_only);
		rc = select_rows(ds, st, NULL, cb, cls);
	}
	pthread_mutex_unlock(&ds->lock);
	return rc;
}

/* The deals of piece_cid that sql selects (?1 the piece CID, ?2 state
 * when state >= 0), to cb. */
static int foreach_piece_cid(struct deals *ds, const char *sql,
			     const struct cid *piece_cid, int state,
			     int (*cb)(const struct deal *d, void *cls),
			     void *cls)
{
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&ds->lock);
	if ((rc = db_stmt(&st, ds->db, sql)) == 0) {
		bind_cid(st, 1, piece_cid);
		if (state >= 0)
			sqlite3_bind_int(st, 2, state);
		rc = select_rows(ds, st, NULL, cb, cls);
	}
	pthread_mutex_unlock(&ds->lock);
	return rc;
}

int deals_foreach_piece_cid(struct deals *ds, const struct cid *piece_cid,
			    enum deal_state state,
			    int (*cb)(const struct deal *d, void *cls),
			    void *cls)
{
	return foreach_piece_cid(ds,
				 "SELECT " COLUMNS " FROM dealer_deals WHERE"
				 " piece_cid = ?1 AND state = ?2 ORDER BY id",
				 piece_cid, (int)state, cb, cls);
}

/* deals_foreach_piece_cid_any's SQL names the known states by number. */
_Static_assert(DEAL_PROPOSING == 0 && DEAL_ACTIVE == 5 &&
		       DEAL_REJECTED == 10 && DEAL_EXPIRED == 13,
	       "deal states renumbered");

int deals_foreach_piece_cid_any(struct deals *ds, const struct cid *piece_cid,
				int (*cb)(const struct deal *d, void *cls),
				void *cls)
{
	return foreach_piece_cid(ds,
				 "SELECT " COLUMNS " FROM dealer_deals WHERE"
				 " piece_cid = ?1 AND (state BETWEEN 0 AND 5"
				 " OR state BETWEEN 10 AND 13) ORDER BY"
				 " state, id",
				 piece_cid, -1, cb, cls);
}

int deals_foreach_due(struct deals *ds, int64_t now, size_t limit,
		      int (*cb)(const struct deal *d, void *cls), void *cls)
{
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&ds->lock);
	if ((rc = db_stmt(&st, ds->db, "SELECT " COLUMNS
			  " FROM dealer_deals WHERE state <= 5"
			  " AND next_check <= ? ORDER BY next_check"
			  " LIMIT ?")) == 0) {
		sqlite3_bind_int64(st, 1, now);
		sqlite3_bind_int64(st, 2, (int64_t)limit);
		rc = select_rows(ds, st, NULL, cb, cls);
	}
	pthread_mutex_unlock(&ds->lock);
	return rc;
}

int deals_foreach_pending(struct deals *ds,
			  int (*cb)(const struct deal *d, void *cls),
			  void *cls)
{
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&ds->lock);
	if ((rc = db_stmt(&st, ds->db, "SELECT " COLUMNS
			  " FROM dealer_deals WHERE state < 4 ORDER BY id"))
	    == 0)
		rc = select_rows(ds, st, NULL, cb, cls);
	pthread_mutex_unlock(&ds->lock);
	return rc;
}

int deals_reschedule(struct deals *ds, const int64_t *ids, size_t n,
		     int64_t next_check, int64_t chain_at, int64_t now)
{
	sqlite3_stmt *st;
	int rc;

	if (n == 0)
		return 0;
	pthread_mutex_lock(&ds->lock);
	if ((rc = db_begin(ds->db)) < 0)
		goto out;
	if ((rc = db_stmt(&st, ds->db,
			  "UPDATE dealer_deals SET next_check = ?,"
			  " attempts = 0, chain_at = CASE WHEN ? > 0"
			  " THEN ? ELSE chain_at END, updated = ?"
			  " WHERE id = ?")) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_int64(st, 1, next_check);
		sqlite3_bind_int64(st, 2, chain_at);
		sqlite3_bind_int64(st, 3, chain_at);
		sqlite3_bind_int64(st, 4, now);
		sqlite3_bind_int64(st, 5, ids[i]);
		if ((rc = db_run(ds->db, st)) < 0)
			goto fail;
	}
	if ((rc = db_commit(ds->db)) == 0)
		goto out;
fail:
	db_rollback(ds->db);
out:
	pthread_mutex_unlock(&ds->lock);
	return rc;
}

int deals_count(unsigned *counting, unsigned *active, struct deals *ds,
		int64_t piece_id, int64_t head, int64_t renew_window)
{
	sqlite3_stmt *st;
	int rc;

	*counting = *active = 0;
	pthread_mutex_lock(&ds->lock);
	if ((rc = db_stmt(&st, ds->db,
			  "SELECT count(*), coalesce(sum(state = 5), 0)"
			  " FROM dealer_deals WHERE piece_id = ?"
			  " AND state <= 5 AND (state < 5 OR end_epoch > ?)"))
	    == 0) {
		sqlite3_bind_int64(st, 1, piece_id);
		sqlite3_bind_int64(st, 2, head + renew_window);
		if ((rc = db_step(ds->db, st)) == 1) {
			*counting = (unsigned)sqlite3_column_int(st, 0);
			*active = (unsigned)sqlite3_column_int(st, 1);
			rc = 0;
		}
		db_reset(st);
	}
	pthread_mutex_unlock(&ds->lock);
	return rc;
}

int deals_count_states(struct deals_state_counts *out, struct deals *ds)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&ds->lock);
	if ((rc = db_stmt(&st, ds->db,
			  "SELECT state, count(*), coalesce(sum(padded), 0),"
			  " count(DISTINCT miner) FROM dealer_deals"
			  " GROUP BY state")) == 0) {
		while ((rc = db_step(ds->db, st)) == 1) {
			int64_t s = sqlite3_column_int64(st, 0);

			if (s < 0 || s >= DEALS_NSTATES)
				continue;
			out->deals[s] = (uint64_t)sqlite3_column_int64(st, 1);
			out->padded[s] = (uint64_t)sqlite3_column_int64(st, 2);
			out->miners[s] = (uint64_t)sqlite3_column_int64(st, 3);
		}
		db_reset(st);
	}
	pthread_mutex_unlock(&ds->lock);
	return rc < 0 ? rc : 0;
}

int deals_miner_has(bool *out, struct deals *ds, int64_t piece_id,
		    const struct filaddr *miner, int64_t since)
{
	char m[FILADDR_STR_MAX];
	sqlite3_stmt *st;
	int rc;

	*out = false;
	filaddr_format(m, miner, 'f');
	pthread_mutex_lock(&ds->lock);
	if ((rc = db_stmt(&st, ds->db,
			  "SELECT 1 FROM dealer_deals WHERE piece_id = ?"
			  " AND miner = ? AND (state <= 5 OR"
			  " (state IN (10, 11) AND updated >= ?)) LIMIT 1"))
	    == 0) {
		sqlite3_bind_int64(st, 1, piece_id);
		bind_text(st, 2, m);
		sqlite3_bind_int64(st, 3, since);
		rc = db_step(ds->db, st);
		*out = rc == 1;
		db_reset(st);
		rc = rc < 0 ? rc : 0;
	}
	pthread_mutex_unlock(&ds->lock);
	return rc;
}

int deals_events(struct deals *ds, int64_t id,
		 int (*cb)(int64_t time, enum deal_state s,
			   const char *detail, void *cls),
		 void *cls)
{
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&ds->lock);
	if ((rc = db_stmt(&st, ds->db,
			  "SELECT time, state, detail FROM dealer_deal_events"
			  " WHERE deal = ? ORDER BY rowid")) == 0) {
		sqlite3_bind_int64(st, 1, id);
		int cbrc = 0;

		while ((rc = db_step(ds->db, st)) == 1) {
			const char *d =
				(const char *)sqlite3_column_text(st, 2);

			cbrc = cb(sqlite3_column_int64(st, 0),
				  (enum deal_state)sqlite3_column_int(st, 1),
				  d, cls);
			if (cbrc != 0)
				break;
		}
		db_reset(st);
		rc = rc < 0 ? rc : cbrc;
	}
	pthread_mutex_unlock(&ds->lock);
	return rc;
}
