/*
 * api_pins_store.c - the pinning API's requests in index.db
 * (api_pins_i.h): the table pin_requests (module "api_pins" of db_migrate).
 *
 * Design notes:
 * - One row per request, visible until removed.  A replaced request is
 *   hidden at once (replaced_by names the request that replaced it, or
 *   the one that replaced that: always the visible head) and removed
 *   with its pin when the head is done, so blocks both share are never
 *   collected in between (the spec's reason for replace).
 * - created is in microseconds and unique (the spec pages on it with
 *   before/after): a request created in the same microsecond as the
 *   newest takes the next one.  Insertion runs in BEGIN IMMEDIATE, so
 *   the newest is read and written under one lock.
 * - status is the enum's number; origins, meta and info are JSON text
 *   as they are sent back.  cid is kept as the client wrote it (the
 *   spec echoes the Pin), cid_v1 as CIDv1 text for the cid filter, so a
 *   v0 and a v1 CID of one DAG find the same requests.
 * - The meta filter is done by sqlite's JSON functions: every key of
 *   the query object must be in the row's meta with the same string.
 */
#include "api/api_pins_i.h"

#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/db.h"
#include "core/error.h"
#include "core/fdio.h"

#include "core/banned.h"

static const char *const schema[] = {
    /* 1 */
    "CREATE TABLE pin_requests ("
    " requestid TEXT PRIMARY KEY,"
    " cid TEXT NOT NULL,"
    " cid_v1 TEXT NOT NULL,"
    " name TEXT,"
    " origins TEXT NOT NULL DEFAULT '[]',"
    " meta TEXT NOT NULL DEFAULT '{}',"
    " status INTEGER NOT NULL,"
    " created INTEGER NOT NULL UNIQUE,"
    " info TEXT NOT NULL DEFAULT '{}',"
    " pin_id INTEGER NOT NULL DEFAULT 0,"
    " replaced_by TEXT"
    ");"
    "CREATE INDEX pin_requests_status ON pin_requests(status, created);",
};

#define COLUMNS "requestid, cid, name, origins, meta, status, created, info"

int api_pins_store_open(struct db **out, const char *db_path, bool create)
{
	int rc;

	if ((rc = db_open(out, db_path, create ? DB_OPEN_CREATE : 0)) < 0)
		return rc;
	if (create &&
	    (rc = db_migrate(*out, NULL, "api_pins", schema,
			     sizeof(schema) / sizeof(schema[0]))) < 0) {
		db_close(*out);
		*out = NULL;
	}
	return rc;
}

/* ---- rows as JSON --------------------------------------------------- */

/* Column i, JSON text, as a value (fallback when it does not parse:
 * stored by this file, so it always should). */
static json_t *column_json(sqlite3_stmt *st, int i, json_t *fallback)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	json_t *v = t ? json_loads(t, 0, NULL) : NULL;

	if (v) {
		json_decref(fallback);
		return v;
	}
	return fallback;
}

/* The row under st (COLUMNS) as a PinStatus. */
static json_t *row_json(sqlite3_stmt *st, const char *delegate)
{
	char created[API_PINS_TIME_MAX];
	int64_t status = sqlite3_column_int64(st, 5);
	json_t *pin, *v;

	pin = json_pack("{s:s,s:o,s:o}", "cid",
			(const char *)sqlite3_column_text(st, 1), "origins",
			column_json(st, 3, json_array()), "meta",
			column_json(st, 4, json_object()));
	if (pin && sqlite3_column_type(st, 2) != SQLITE_NULL &&
	    json_object_set_new(
		pin, "name",
		json_string((const char *)sqlite3_column_text(st, 2))) < 0) {
		json_decref(pin);
		return NULL;
	}
	if (status < 0 || status >= API_PINS_NSTATUS)
		status = API_PINS_FAILED;
	v = json_pack(
	    "{s:s,s:s,s:s,s:o,s:[s],s:o}", "requestid",
	    (const char *)sqlite3_column_text(st, 0), "status",
	    api_pins_status_name((enum api_pins_status)status), "created",
	    api_pins_time_format(created, sqlite3_column_int64(st, 6)), "pin",
	    pin, "delegates", delegate, "info",
	    column_json(st, 7, json_object()));
	return v;
}

int api_pins_store_get(json_t **out, struct db *db, const char *rid,
		       const char *delegate)
{
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	if ((rc = db_stmt(&st, db,
			  "SELECT " COLUMNS " FROM pin_requests WHERE "
			  "requestid = ?1 AND replaced_by IS "
			  "NULL")) < 0)
		return rc;
	sqlite3_bind_text(st, 1, rid, -1, SQLITE_STATIC);
	if ((rc = db_step(db, st)) == 1 && !(*out = row_json(st, delegate)))
		rc = efs_error_set(EFS_ENOMEM, "pins: out of memory");
	else if (rc == 0)
		rc = efs_error_set(EFS_ENOTFOUND, "pins: no request %s", rid);
	db_reset(st);
	return rc < 0 ? rc : 0;
}

/* ---- listing -------------------------------------------------------- */

/* f's WHERE clause into w, its arguments numbered as bind_filter binds
 * them. */
static int where_build(struct buf *w, const struct api_pins_filter *f)
{
	static const char *const names[] = {
	    [API_PINS_EXACT] = "name = ?2",
	    [API_PINS_IEXACT] = "name = ?2 COLLATE NOCASE",
	    [API_PINS_PARTIAL] = "instr(name, ?2) > 0",
	    [API_PINS_IPARTIAL] = "instr(lower(name), lower(?2)) > 0",
	};
	const char *sep = "";
	int rc = buf_adds(w, " WHERE replaced_by IS NULL AND status IN (");

	for (int i = 0; rc == 0 && i < API_PINS_NSTATUS; i++)
		if (f->statuses & (1u << i)) {
			rc = buf_printf(w, "%s%d", sep, i);
			sep = ",";
		}
	if (rc == 0)
		rc = buf_adds(w, ")");
	if (rc == 0 && f->ncids) {
		rc = buf_adds(w, " AND cid_v1 IN (");
		for (size_t i = 0; rc == 0 && i < f->ncids; i++)
			rc = buf_printf(w, "%s?%zu", i ? "," : "", 10 + i);
		if (rc == 0)
			rc = buf_adds(w, ")");
	}
	if (rc == 0 && f->name)
		rc = buf_printf(w, " AND %s", names[f->match]);
	if (rc == 0 && f->has_before)
		rc = buf_adds(w, " AND created < ?3");
	if (rc == 0 && f->has_after)
		rc = buf_adds(w, " AND created > ?4");
	if (rc == 0 && f->meta)
		rc = buf_adds(w,
			      " AND NOT EXISTS (SELECT 1 FROM json_each(?5)"
			      " AS q WHERE NOT EXISTS (SELECT 1 FROM "
			      "json_each(pin_requests.meta) AS m WHERE m.key = "
			      "q.key AND m.type = 'text' AND m.value = "
			      "q.value))");
	return rc;
}

static void bind_filter(sqlite3_stmt *st, const struct api_pins_filter *f)
{
	if (f->name)
		sqlite3_bind_text(st, 2, f->name, -1, SQLITE_STATIC);
	if (f->has_before)
		sqlite3_bind_int64(st, 3, f->before);
	if (f->has_after)
		sqlite3_bind_int64(st, 4, f->after);
	if (f->meta)
		sqlite3_bind_text(st, 5, f->meta, -1, SQLITE_STATIC);
	for (size_t i = 0; i < f->ncids; i++)
		sqlite3_bind_text(st, (int)(10 + i), f->cids[i], -1,
				  SQLITE_STATIC);
}

/* Prepare "head where tail" with f bound. */
static int prepare(sqlite3_stmt **out, struct db *db, const char *head,
		   const struct buf *where, const char *tail,
		   const struct api_pins_filter *f)
{
	struct buf sql = BUF_INIT(BUF_NOCAP);
	int rc;

	*out = NULL;
	if ((rc = buf_printf(&sql, "%s%.*s%s", head, (int)where->len,
			     (const char *)where->ptr, tail)) < 0)
		return rc;
	rc = sqlite3_prepare_v2(db_handle(db), (const char *)sql.ptr,
				(int)sql.len, out, NULL);
	buf_release(&sql);
	if (rc != SQLITE_OK)
		return db_error(db, rc, "pins: list");
	bind_filter(*out, f);
	return 0;
}

/* The rows of st into the array results. */
static int rows_add(json_t *results, struct db *db, sqlite3_stmt *st,
		    const char *delegate)
{
	int rc;

	while ((rc = db_step(db, st)) == 1)
		if (json_array_append_new(results, row_json(st, delegate)) < 0)
			return efs_error_set(EFS_ENOMEM, "pins: out of memory");
	return rc;
}

int api_pins_store_list(json_t **out, struct db *db,
			const struct api_pins_filter *f, const char *delegate)
{
	struct buf where = BUF_INIT(BUF_NOCAP);
	sqlite3_stmt *count = NULL, *rows = NULL;
	json_t *results = json_array();
	int64_t n = 0;
	int rc;

	*out = NULL;
	if (!results) {
		rc = efs_error_set(EFS_ENOMEM, "pins: out of memory");
		goto out;
	}
	if ((rc = where_build(&where, f)) < 0 ||
	    (rc = prepare(&count, db, "SELECT count(*) FROM pin_requests",
			  &where, "", f)) < 0 ||
	    (rc = prepare(&rows, db, "SELECT " COLUMNS " FROM pin_requests",
			  &where, " ORDER BY created DESC LIMIT ?6", f)) < 0 ||
	    (rc = db_begin_read(db)) < 0)
		goto out;
	sqlite3_bind_int64(rows, 6, f->limit);
	if ((rc = db_step(db, count)) == 1)
		n = sqlite3_column_int64(count, 0);
	if (rc >= 0)
		rc = rows_add(results, db, rows, delegate);
	if (rc >= 0 && !(*out = json_pack("{s:I,s:O}", "count", (json_int_t)n,
					  "results", results)))
		rc = efs_error_set(EFS_ENOMEM, "pins: out of memory");
	db_reset(count);
	db_reset(rows);
	if (rc >= 0)
		rc = db_commit(db);
	else
		db_rollback(db);
out:
	sqlite3_finalize(count);
	sqlite3_finalize(rows);
	buf_release(&where);
	json_decref(results);
	return rc < 0 ? rc : 0;
}

/* ---- adding --------------------------------------------------------- */

/* A random UUID, version 4. */
static int rid_make(char rid[API_PINS_RID_SIZE])
{
	uint8_t b[16];

	if (fdio_random(b, sizeof(b)) < 0)
		return efs_error_set(EFS_EIO, "pins: no random bytes");
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	snprintf(rid, API_PINS_RID_SIZE,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

/* What the new row needs before it is inserted: replaces is there, the
 * queue has room; its created time. */
static int add_check(int64_t *created, struct db *db, const char *replaces)
{
	sqlite3_stmt *st;
	int64_t n = 0, newest = 0;
	int rc;

	if (replaces) {
		if ((rc = db_stmt(&st, db,
				  "SELECT 1 FROM pin_requests WHERE "
				  "requestid = ?1 AND replaced_by "
				  "IS NULL")) < 0)
			return rc;
		sqlite3_bind_text(st, 1, replaces, -1, SQLITE_STATIC);
		rc = db_step(db, st);
		db_reset(st);
		if (rc == 0)
			return efs_error_set(EFS_ENOTFOUND,
					     "pins: no request %s", replaces);
		if (rc < 0)
			return rc;
	}
	if ((rc = db_query_int(&n, db,
			       "SELECT count(*) FROM pin_requests WHERE "
			       "status IN (0, 1) AND replaced_by IS "
			       "NULL",
			       NULL, 0)) < 0 ||
	    (rc = db_query_int(&newest, db,
			       "SELECT max(created) FROM pin_requests", NULL,
			       0)) < 0)
		return rc;
	if (n >= API_PINS_QUEUE_MAX)
		return efs_error_set(EFS_ETOOBIG,
				     "pins: %lld requests wait "
				     "already: try again once some are done",
				     (long long)n);
	*created = efs_clock_real_ns() / 1000;
	if (*created <= newest)
		*created = newest + 1;
	return 0;
}

static int add_insert(struct db *db, const char *rid, int64_t created,
		      const json_t *pin, const struct cid *cid)
{
	json_t *name = json_object_get(pin, "name");
	char *origins =
	    json_dumps(json_object_get(pin, "origins"), JSON_COMPACT);
	char *meta = json_dumps(json_object_get(pin, "meta"), JSON_COMPACT);
	char v1[CID_STR_MAX];
	struct cid c = *cid;
	sqlite3_stmt *st;
	int rc;

	c.version = 1;
	if (!origins || !meta)
		rc = efs_error_set(EFS_ENOMEM, "pins: out of memory");
	else if ((rc = db_stmt(&st, db,
			       "INSERT INTO pin_requests (requestid, cid, "
			       "cid_v1, name, origins, meta, status, "
			       "created) VALUES (?1, ?2, ?3, ?4, ?5, "
			       "?6, 0, ?7)")) == 0) {
		sqlite3_bind_text(st, 1, rid, -1, SQLITE_STATIC);
		sqlite3_bind_text(
		    st, 2, json_string_value(json_object_get(pin, "cid")), -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(st, 3, cid_tostr(v1, &c), -1, SQLITE_STATIC);
		if (name)
			sqlite3_bind_text(st, 4, json_string_value(name), -1,
					  SQLITE_STATIC);
		sqlite3_bind_text(st, 5, origins, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, meta, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 7, created);
		rc = db_run(db, st);
	}
	free(origins); /* jansson's allocator */
	free(meta);
	return rc;
}

int api_pins_store_add(char rid[API_PINS_RID_SIZE], int64_t *created,
		       struct db *db, const json_t *pin, const struct cid *cid,
		       const char *replaces)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = rid_make(rid)) < 0 || (rc = db_begin(db)) < 0)
		return rc;
	if ((rc = add_check(created, db, replaces)) < 0 ||
	    (rc = add_insert(db, rid, *created, pin, cid)) < 0)
		goto fail;
	if (replaces) {
		if ((rc = db_stmt(&st, db,
				  "UPDATE pin_requests SET replaced_by = ?1 "
				  "WHERE requestid = ?2 OR "
				  "replaced_by = ?2")) < 0)
			goto fail;
		sqlite3_bind_text(st, 1, rid, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, replaces, -1, SQLITE_STATIC);
		if ((rc = db_run(db, st)) < 0)
			goto fail;
	}
	if ((rc = db_commit(db)) < 0)
		goto fail;
	return 0;
fail:
	db_rollback(db);
	return rc;
}

/* ---- removing ------------------------------------------------------- */

/* A removed request as remove_rows keeps it until its callback. */
struct removed {
	char rid[API_PINS_RID_SIZE];
	char path[API_PINS_PATH_MAX]; /* "": no graft */
};

/* Row st's requestid and info.path (columns 0 and 1) into r; a path
 * this module did not write (not under /pins/, too long) is left out,
 * so what it names is left alone. */
static void removed_take(struct removed *r, sqlite3_stmt *st)
{
	const char *id = (const char *)sqlite3_column_text(st, 0);
	const char *path = (const char *)sqlite3_column_text(st, 1);

	snprintf(r->rid, sizeof(r->rid), "%s", id ? id : "");
	r->path[0] = '\0';
	if (path && strncmp(path, "/pins/", 6) == 0 &&
	    strlen(path) < sizeof(r->path))
		snprintf(r->path, sizeof(r->path), "%s", path);
}

/* Delete the rows select picks (?1 = rid; columns requestid and
 * info.path) with del, calling cb with each one after the commit. */
static int remove_rows(struct db *db, const char *rid, bool must_exist,
		       const char *select, const char *del,
		       api_pins_removed_fn cb, void *cls)
{
	struct buf rows = BUF_INIT(BUF_NOCAP);
	struct removed r;
	sqlite3_stmt *st;
	size_t n = 0;
	int rc;

	if ((rc = db_begin(db)) < 0)
		return rc;
	if ((rc = db_stmt(&st, db, select)) < 0)
		goto fail;
	sqlite3_bind_text(st, 1, rid, -1, SQLITE_STATIC);
	while ((rc = db_step(db, st)) == 1) {
		removed_take(&r, st);
		if ((rc = buf_add(&rows, &r, sizeof(r))) < 0)
			break;
		n++;
	}
	db_reset(st);
	if (rc < 0)
		goto fail;
	if (must_exist && n == 0) {
		rc = efs_error_set(EFS_ENOTFOUND, "pins: no request %s", rid);
		goto fail;
	}
	if ((rc = db_stmt(&st, db, del)) < 0)
		goto fail;
	sqlite3_bind_text(st, 1, rid, -1, SQLITE_STATIC);
	if ((rc = db_run(db, st)) < 0 || (rc = db_commit(db)) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		const struct removed *e = (const struct removed *)rows.ptr + i;

		cb(cls, e->rid, e->path[0] ? e->path : NULL);
	}
	buf_release(&rows);
	return 0;
fail:
	db_rollback(db);
	buf_release(&rows);
	return rc;
}

/* What remove_rows selects: requestid and info.path. */
#define SELECT_REMOVED                                                         \
	"SELECT requestid, CASE WHEN json_valid(info) THEN "                   \
	"json_extract(info, '$.path') END FROM pin_requests WHERE "

int api_pins_store_remove(struct db *db, const char *rid,
			  api_pins_removed_fn cb, void *cls)
{
	/* the visible request first: replaced ones only when it exists */
	return remove_rows(db, rid, true,
			   SELECT_REMOVED "(requestid = ?1 AND replaced_by IS "
					  "NULL) OR replaced_by = ?1 ORDER BY "
					  "replaced_by IS NOT NULL",
			   "DELETE FROM pin_requests WHERE requestid = ?1 OR "
			   "replaced_by = ?1",
			   cb, cls);
}

int api_pins_store_drop_replaced(struct db *db, const char *rid,
				 api_pins_removed_fn cb, void *cls)
{
	return remove_rows(db, rid, false, SELECT_REMOVED "replaced_by = ?1",
			   "DELETE FROM pin_requests WHERE replaced_by = ?1",
			   cb, cls);
}

/* ---- the worker's side ---------------------------------------------- */

int api_pins_store_claim(char rid[API_PINS_RID_SIZE], struct cid *cid,
			 struct db *db)
{
	sqlite3_stmt *st;
	const char *id, *text;
	int rc;

	/* one statement: two workers never take the same row */
	if ((rc = db_stmt(&st, db,
			  "UPDATE pin_requests SET status = 1, info = '{}' "
			  "WHERE requestid = (SELECT requestid FROM "
			  "pin_requests WHERE status = 0 AND replaced_by IS "
			  "NULL ORDER BY created LIMIT 1) RETURNING "
			  "requestid, cid")) < 0)
		return rc;
	if ((rc = db_step(db, st)) == 1) {
		id = (const char *)sqlite3_column_text(st, 0);
		text = (const char *)sqlite3_column_text(st, 1);
		snprintf(rid, API_PINS_RID_SIZE, "%s", id ? id : "");
		if (!text || cid_parse(cid, text) < 0)
			rc = efs_error_set(EFS_ECORRUPT,
					   "pins: request %s "
					   "has a bad CID",
					   rid);
	}
	db_reset(st);
	return rc;
}

int api_pins_store_name(char *out, size_t cap, struct db *db, const char *rid)
{
	sqlite3_stmt *st;
	const char *name;
	int rc;

	out[0] = '\0';
	if ((rc = db_stmt(&st, db,
			  "SELECT name FROM pin_requests WHERE "
			  "requestid = ?1")) < 0)
		return rc;
	sqlite3_bind_text(st, 1, rid, -1, SQLITE_STATIC);
	if ((rc = db_step(db, st)) == 1 &&
	    (name = (const char *)sqlite3_column_text(st, 0)))
		snprintf(out, cap, "%s", name);
	db_reset(st);
	return rc < 0 ? rc : 0;
}

int api_pins_store_set(bool *found, struct db *db, const char *rid,
		       enum api_pins_status st_, int64_t pin_id,
		       const json_t *info)
{
	char *text = info ? json_dumps(info, JSON_COMPACT) : NULL;
	sqlite3_stmt *st;
	int rc;

	*found = false;
	if (info && !text)
		return efs_error_set(EFS_ENOMEM, "pins: out of memory");
	if ((rc = db_stmt(&st, db,
			  "UPDATE pin_requests SET status = ?2, pin_id = "
			  "?3, info = ?4 WHERE requestid = ?1")) == 0) {
		sqlite3_bind_text(st, 1, rid, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, (int)st_);
		sqlite3_bind_int64(st, 3, pin_id);
		sqlite3_bind_text(st, 4, text ? text : "{}", -1, SQLITE_STATIC);
		if ((rc = db_run(db, st)) == 0)
			*found = sqlite3_changes(db_handle(db)) > 0;
	}
	free(text); /* jansson's allocator */
	return rc;
}

int api_pins_store_requeue(struct db *db)
{
	return db_exec(db,
		       "UPDATE pin_requests SET status = 0, info = '{}' WHERE "
		       "status = 1");
}
