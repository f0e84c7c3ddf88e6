/*
 * dealer_report.c - what the dealer tells the CLI: the table
 * dealer_report (one JSON object per key, see dealer.h) and one note per
 * piece, in index.db (module "dealer_report").  The dealer's thread is
 * the only writer; `estuaryfs status` and `wallet` read them from
 * another process while it runs.
 */
#include "dealer/dealer.h"
#include "dealer/dealer_i.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "core/alloc.h"
#include "core/db.h"
#include "core/error.h"

#include "core/banned.h"

static const char *const schema[] = {
	/* 0 -> 1 */
	"CREATE TABLE dealer_report ("
	" key TEXT PRIMARY KEY,"
	" value TEXT NOT NULL,"
	" time INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE dealer_piece_notes ("
	" piece_id INTEGER PRIMARY KEY,"
	" note TEXT NOT NULL,"
	" time INTEGER NOT NULL);",
};

#define MODULE "dealer_report"

int dealer_report_open(struct dealer *d)
{
	int rc;

	if ((rc = db_open(&d->rdb, d->db_path, DB_OPEN_CREATE)) < 0)
		return rc;
	return db_migrate(d->rdb, NULL, MODULE, schema,
			  sizeof(schema) / sizeof(schema[0]));
}

int dealer_report_put(struct dealer *d, const char *key, json_t *value)
{
	sqlite3_stmt *st;
	char *text;
	int rc;

	if (!value)
		return EFS_ENOMEM;
	text = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(value);
	if (!text)
		return EFS_ENOMEM;
	if ((rc = db_stmt(&st, d->rdb,
			  "INSERT OR REPLACE INTO dealer_report(key, value,"
			  " time) VALUES (?, ?, ?)")) == 0) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, d->now);
		rc = db_run(d->rdb, st);
	}
	free(text);
	return rc;
}

json_t *dealer_report_get(struct dealer *d, const char *key)
{
	sqlite3_stmt *st;
	json_t *v = NULL;

	if (db_stmt(&st, d->rdb,
		    "SELECT value FROM dealer_report WHERE key = ?") < 0)
		return NULL;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (db_step(d->rdb, st) == 1)
		v = json_loads((const char *)sqlite3_column_text(st, 0), 0,
			       NULL);
	db_reset(st);
	return v;
}

int dealer_note(struct dealer *d, int64_t piece_id, const char *fmt, ...)
{
	char note[DEALER_MSG_MAX];
	sqlite3_stmt *st;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(note, sizeof(note), fmt, ap);
	va_end(ap);
	if ((rc = db_stmt(&st, d->rdb,
			  "INSERT INTO dealer_piece_notes(piece_id, note, time)"
			  " VALUES (?1, ?2, ?3) ON CONFLICT(piece_id) DO"
			  " UPDATE SET note = ?2, time = ?3"
			  " WHERE note != ?2")) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, piece_id);
	sqlite3_bind_text(st, 2, note, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, d->now);
	return db_run(d->rdb, st);
}

static json_t *fil(const struct bigint *v)
{
	char s[BIGINT_STR_MAX + 8];

	bigint_format_fil(s, v);
	return json_string(s);
}

static json_t *funds_json(const struct dealer *d)
{
	const struct funds_status *f = &d->funds;
	char cap[BIGINT_STR_MAX], msg[CID_STR_MAX];

	bigint_format(cap, &f->datacap);
	return json_pack("{s:o, s:o, s:o, s:o, s:s, s:b, s:I, s:I, s:s?}",
			 "balance", fil(&f->balance), "escrow",
			 fil(&f->escrow), "locked", fil(&f->locked),
			 "available", fil(&f->available), "datacap", cap,
			 "verified_client", f->verified_client, "height",
			 (json_int_t)f->height, "time", (json_int_t)d->now,
			 "topup",
			 d->topup_pending ? cid_tostr(msg, &d->topup_msg)
					  : NULL);
}

static json_t *blocked_json(const struct dealer *d)
{
	static const char *const names[DEALER_BLOCK_COUNT_] = {
		"funds", "datacap", "miners", "commits",
	};
	json_t *o = json_object();

	for (int i = 0; o && i < DEALER_BLOCK_COUNT_; i++)
		json_object_set_new(o, names[i],
				    d->blocked[i][0] ? json_string(d->blocked[i])
						     : json_null());
	return o;
}

int dealer_report_cycle(struct dealer *d)
{
	const struct dealer_cycle_stats *s = &d->cur;
	int rc;

	if ((rc = db_begin(d->rdb)) < 0)
		return rc;
	if ((rc = dealer_report_put(d, "head",
				    json_pack("{s:I, s:I}", "height",
					      (json_int_t)d->head, "time",
					      (json_int_t)d->now))) < 0 ||
	    (d->funds_ok &&
	     (rc = dealer_report_put(d, "funds", funds_json(d))) < 0) ||
	    (rc = dealer_report_put(d, "blocked", blocked_json(d))) < 0 ||
	    (rc = dealer_report_put(
		     d, "cycle",
		     json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
			       " s:I}",
			       "time", (json_int_t)s->time, "duration_ms",
			       (json_int_t)(s->duration_us / 1000),
			       "rpc_requests", (json_int_t)s->rpc_requests,
			       "rpc_calls", (json_int_t)s->rpc_calls,
			       "sp_calls", (json_int_t)s->sp_calls,
			       "checked", (json_int_t)s->checked,
			       "proposed", (json_int_t)s->proposed,
			       "commits", (json_int_t)s->commits,
			       "changed", (json_int_t)s->changed))) < 0) {
		db_rollback(d->rdb);
		return rc;
	}
	return db_commit(d->rdb);
}

/* ---- readers ---- */

static int open_ro(struct db **out, const char *db_path)
{
	int version, rc;

	if ((rc = db_open(out, db_path, DB_OPEN_QUERY_ONLY)) < 0)
		return rc;
	if ((rc = db_schema_version(&version, *out, MODULE)) == 0 &&
	    version == 0)
		rc = efs_error_set(EFS_ENOTFOUND, "the dealer has not run in "
						  "this repository yet");
	if (rc < 0) {
		db_close(*out);
		*out = NULL;
	}
	return rc;
}

int dealer_report_read(char **out, const char *db_path)
{
	json_t *all = NULL, *v;
	sqlite3_stmt *st;
	struct db *db;
	char *text;
	int rc;

	*out = NULL;
	if ((rc = open_ro(&db, db_path)) < 0)
		return rc;
	if (!(all = json_object())) {
		rc = EFS_ENOMEM;
		goto out;
	}
	if ((rc = db_stmt(&st, db, "SELECT key, value FROM dealer_report"
				   " ORDER BY key")) < 0)
		goto out;
	while ((rc = db_step(db, st)) == 1) {
		v = json_loads((const char *)sqlite3_column_text(st, 1), 0,
			       NULL);
		if (v)
			json_object_set_new(
				all, (const char *)sqlite3_column_text(st, 0),
				v);
	}
	db_reset(st);
	if (rc < 0)
		goto out;
	if (!(text = json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS))) {
		rc = EFS_ENOMEM;
		goto out;
	}
	/* json_dumps allocates with malloc; hand out an efs_ copy. */
	if (!(*out = efs_strdup(text)))
		rc = EFS_ENOMEM;
	free(text);
out:
	json_decref(all);
	db_close(db);
	return rc < 0 ? rc : 0;
}

int dealer_report(char **out, struct dealer *d)
{
	return dealer_report_read(out, d->db_path);
}

int dealer_piece_notes(const char *db_path, dealer_note_cb cb, void *cls)
{
	sqlite3_stmt *st;
	struct db *db;
	int rc, cbrc = 0;

	if ((rc = open_ro(&db, db_path)) < 0)
		return rc;
	if ((rc = db_stmt(&st, db, "SELECT piece_id, note, time FROM"
				   " dealer_piece_notes ORDER BY piece_id")) ==
	    0) {
		while ((rc = db_step(db, st)) == 1 &&
		       (cbrc = cb(sqlite3_column_int64(st, 0),
				  (const char *)sqlite3_column_text(st, 1),
				  sqlite3_column_int64(st, 2), cls)) == 0)
			;
		db_reset(st);
	}
	db_close(db);
	return cbrc ? cbrc : rc < 0 ? rc : 0;
}

int dealer_piece_note(char **out, int64_t *time, const char *db_path,
		      int64_t piece_id)
{
	sqlite3_stmt *st;
	struct db *db;
	const char *note;
	int rc;

	*out = NULL;
	if ((rc = open_ro(&db, db_path)) < 0)
		return rc;
	if ((rc = db_stmt(&st, db, "SELECT note, time FROM dealer_piece_notes"
				   " WHERE piece_id = ?")) == 0) {
		sqlite3_bind_int64(st, 1, piece_id);
		if ((rc = db_step(db, st)) == 1) {
			note = (const char *)sqlite3_column_text(st, 0);
			*time = sqlite3_column_int64(st, 1);
			rc = (*out = efs_strdup(note)) ? 0 : EFS_ENOMEM;
		} else if (rc == 0) {
			rc = efs_error_set(EFS_ENOTFOUND,
					   "no note for piece %lld",
					   (long long)piece_id);
		}
		db_reset(st);
	}
	db_close(db);
	return rc;
}
