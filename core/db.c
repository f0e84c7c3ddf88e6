/*
 * db.c - sqlite connections, statement cache, migrations, error mapping
 * (see db.h).
 *
 * Design notes:
 * - The statement cache is a small array searched by SQL pointer (checked
 *   against a copy of the text, since a caller's buffer may be reused),
 *   then by text: the set of statements is fixed by the code, a few dozen
 *   at most, so a linear scan beats hashing.  Statements are prepared with
 *   SQLITE_PREPARE_PERSISTENT and live as long as the connection.
 * - db_step resets a statement that failed, so an error never leaves a
 *   read transaction pinned; callers still db_reset after reading rows.
 * - db_sync_mode remembers the level it set, so switching a connection
 *   between NORMAL and FULL around single transactions costs nothing
 *   when it is already there.  db_wal_sync fsyncs the WAL through the
 *   sqlite3_file that SQLITE_FCNTL_JOURNAL_POINTER hands out (the one the
 *   pager syncs at a FULL commit), so sqlite's own VFS does it.
 * - Checkpoints run every 4096 WAL pages (16 MiB) instead of sqlite's
 *   1000: a namespace operation dirties five or six pages, most of them
 *   the same few b-tree pages again, so a longer WAL coalesces them and
 *   saves a checkpoint's fsync per ~700 operations (about 20% of a
 *   rename's cost, measured).  Writers' connections opened with
 *   DB_OPEN_CHECKPOINTER leave even that to a background thread
 *   (db_ckpt.c).  mmap_size lets readers take database pages from the
 *   page cache without a pread.
 * - Migrations re-read the module's version inside the write transaction,
 *   so two processes opening a fresh repository at once do not both run
 *   step 0.
 */
#include "core/db.h"

#include <errno.h>
#include <string.h>

#include "core/alloc.h"
#include "core/db_i.h"
#include "core/error.h"

#include "core/banned.h"

/* Version of the db_schema bookkeeping, kept in PRAGMA user_version. */
#define DB_LAYOUT_VERSION 1

struct cached_stmt {
	const char *ptr;     /* the caller's string when last seen */
	char *sql;           /* our copy of its text */
	sqlite3_stmt *st;
};

struct db {
	sqlite3 *conn;
	struct cached_stmt *cache;
	size_t ncache;
	size_t cache_cap;
	bool normal;         /* synchronous=NORMAL (db_sync_mode) */
	struct db_ckpt *ckpt; /* DB_OPEN_CHECKPOINTER: our checkpointer */
};

int db_code_to_efs(int rc, int sys_errno)
{
	switch (rc & 0xff) {
	case SQLITE_NOMEM:
		return EFS_ENOMEM;
	case SQLITE_FULL:
		return EFS_ENOSPC;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return EFS_ECORRUPT;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return EFS_ETIMEDOUT;
	case SQLITE_CONSTRAINT:
		return EFS_EEXISTS;
	case SQLITE_INTERRUPT:
		return EFS_ECANCELED;
	case SQLITE_TOOBIG:
		return EFS_ETOOBIG;
	case SQLITE_IOERR:
		if (rc == SQLITE_IOERR_NOMEM)
			return EFS_ENOMEM;
		if (sys_errno == ENOSPC || sys_errno == EDQUOT)
			return EFS_ENOSPC;
		return EFS_EIO;
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
	case SQLITE_READONLY:
	case SQLITE_PROTOCOL:
		return EFS_EIO;
	default:
		return EFS_ERROR;
	}
}

int db_error(struct db *db, int rc, const char *what)
{
	sqlite3 *conn = db ? db->conn : NULL;
	int sys = conn ? sqlite3_system_errno(conn) : 0;
	int code = db_code_to_efs(rc, sys);

	if (!conn)
		return efs_error_set(code, "db: %s: %s", what,
				     sqlite3_errstr(rc));
	return efs_error_set(code, "db: %s: %s (%d)", what,
			     sqlite3_errmsg(conn),
			     sqlite3_extended_errcode(conn));
}

int db_exec(struct db *db, const char *sql)
{
	int rc = sqlite3_exec(db->conn, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return db_error(db, rc, "exec");
	return 0;
}

static int check_layout(struct db *db)
{
	sqlite3_stmt *st;
	int version;
	int error;

	if ((error = db_stmt(&st, db, "PRAGMA user_version")) < 0)
		return error;
	if ((error = db_step(db, st)) < 0)
		return error;
	version = error ? sqlite3_column_int(st, 0) : 0;
	db_reset(st);
	if (version > DB_LAYOUT_VERSION)
		return efs_error_set(EFS_EUNSUPPORTED,
				     "db: schema layout %d is newer than this "
				     "build (%d)", version, DB_LAYOUT_VERSION);
	return 0;
}

static int configure(struct db *db, unsigned flags)
{
	int rc;
	int error;

	rc = sqlite3_busy_timeout(db->conn, DB_BUSY_TIMEOUT_MS);
	if (rc != SQLITE_OK)
		return db_error(db, rc, "busy timeout");
	/*
	 * journal_mode answers with a row; sqlite3_exec ignores it.  The
	 * first statement is also the first to read the file, so a file
	 * that is not a database fails here with EFS_ECORRUPT.
	 */
	error = db_exec(db, "PRAGMA journal_mode=WAL;"
			    "PRAGMA synchronous=FULL;"
			    "PRAGMA foreign_keys=ON;"
			    "PRAGMA journal_size_limit=67108864;"
			    "PRAGMA wal_autocheckpoint=4096;"
			    "PRAGMA mmap_size=268435456;");
	if (error < 0)
		return error;
	if (flags & DB_OPEN_QUERY_ONLY)
		if ((error = db_exec(db, "PRAGMA query_only=ON")) < 0)
			return error;
	return check_layout(db);
}

int db_open(struct db **out, const char *path, unsigned flags)
{
	int oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	struct db *db = efs_calloc(1, sizeof(*db));
	int rc;
	int error;

	if (!db)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	if (flags & DB_OPEN_CREATE)
		oflags |= SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(path, &db->conn, oflags, NULL);
	if (rc != SQLITE_OK) {
		error = db->conn ? db_error(db, rc, path)
				 : efs_error_set(EFS_ENOMEM, "out of memory");
		db_close(db);
		return error;
	}
	sqlite3_extended_result_codes(db->conn, 1);
	if ((error = configure(db, flags)) < 0 ||
	    ((flags & DB_OPEN_CHECKPOINTER) &&
	     (error = db_ckpt_attach(&db->ckpt, db->conn, path)) < 0)) {
		db_close(db);
		return error;
	}
	*out = db;
	return 0;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	for (size_t i = 0; i < db->ncache; i++) {
		sqlite3_finalize(db->cache[i].st);
		efs_free(db->cache[i].sql);
	}
	efs_free(db->cache);
	db_ckpt_detach(db->ckpt, db->conn);
	sqlite3_close(db->conn);
	efs_free(db);
}

sqlite3 *db_handle(struct db *db)
{
	return db->conn;
}

static struct cached_stmt *cache_find(struct db *db, const char *sql)
{
	/* The pointer finds the entry fast; the text makes sure. */
	for (size_t i = 0; i < db->ncache; i++)
		if (db->cache[i].ptr == sql && !strcmp(db->cache[i].sql, sql))
			return &db->cache[i];
	for (size_t i = 0; i < db->ncache; i++) {
		if (!strcmp(db->cache[i].sql, sql)) {
			db->cache[i].ptr = sql;
			return &db->cache[i];
		}
	}
	return NULL;
}

static int cache_add(sqlite3_stmt **out, struct db *db, const char *sql)
{
	sqlite3_stmt *st;
	char *copy;
	int rc;

	if (db->ncache == db->cache_cap) {
		size_t cap = db->cache_cap ? db->cache_cap * 2 : 16;
		struct cached_stmt *c = efs_reallocarray(db->cache, cap,
							  sizeof(*c));

		if (!c)
			return efs_error_set(EFS_ENOMEM, "out of memory");
		db->cache = c;
		db->cache_cap = cap;
	}
	copy = efs_strdup(sql);
	if (!copy)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	rc = sqlite3_prepare_v3(db->conn, sql, -1, SQLITE_PREPARE_PERSISTENT,
				&st, NULL);
	if (rc != SQLITE_OK) {
		efs_free(copy);
		return db_error(db, rc, "prepare");
	}
	db->cache[db->ncache].ptr = sql;
	db->cache[db->ncache].sql = copy;
	db->cache[db->ncache].st = st;
	db->ncache++;
	*out = st;
	return 0;
}

int db_stmt(sqlite3_stmt **out, struct db *db, const char *sql)
{
	struct cached_stmt *c = cache_find(db, sql);

	if (!c)
		return cache_add(out, db, sql);
	sqlite3_reset(c->st);
	sqlite3_clear_bindings(c->st);
	*out = c->st;
	return 0;
}

int db_step(struct db *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	rc = db_error(db, rc, "step");
	sqlite3_reset(st);
	return rc;
}

int db_run(struct db *db, sqlite3_stmt *st)
{
	int error = db_step(db, st);

	sqlite3_reset(st);
	if (error > 0)
		return efs_error_set(EFS_EINVAL, "db: statement returned rows");
	return error;
}

static int bind_ints(sqlite3_stmt **out, struct db *db, const char *sql,
		     const int64_t *v, size_t n)
{
	int error;

	if ((error = db_stmt(out, db, sql)) < 0)
		return error;
	for (size_t i = 0; i < n; i++)
		sqlite3_bind_int64(*out, (int)i + 1, v[i]);
	return 0;
}

int db_run_ints(struct db *db, const char *sql, const int64_t *v, size_t n)
{
	sqlite3_stmt *st;
	int error;

	if ((error = bind_ints(&st, db, sql, v, n)) < 0)
		return error;
	return db_run(db, st);
}

int db_query_int(int64_t *out, struct db *db, const char *sql,
		 const int64_t *v, size_t n)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = bind_ints(&st, db, sql, v, n)) < 0)
		return rc;
	if ((rc = db_step(db, st)) == 1)
		*out = sqlite3_column_int64(st, 0);
	db_reset(st);
	return rc;
}

void db_reset(sqlite3_stmt *st)
{
	if (st)
		sqlite3_reset(st);
}

int db_begin(struct db *db)
{
	return db_exec(db, "BEGIN IMMEDIATE");
}

int db_begin_read(struct db *db)
{
	return db_exec(db, "BEGIN");
}

int db_commit(struct db *db)
{
	int error = db_exec(db, "COMMIT");

	/* A failed COMMIT can leave the transaction open (SQLITE_BUSY). */
	if (error < 0)
		db_rollback(db);
	return error;
}

int db_sync_mode(struct db *db, bool full)
{
	int error;

	if (db->normal == !full)
		return 0;
	error = db_exec(db, full ? "PRAGMA synchronous=FULL"
				 : "PRAGMA synchronous=NORMAL");
	if (error == 0)
		db->normal = !full;
	return error;
}

int db_wal_sync(struct db *db)
{
	sqlite3_file *f = NULL;
	int rc;

	rc = sqlite3_file_control(db->conn, "main",
				  SQLITE_FCNTL_JOURNAL_POINTER, &f);
	if (rc != SQLITE_OK)
		return db_error(db, rc, "wal pointer");
	if (!f || !f->pMethods) {
		/* the connection has not opened the WAL yet: a read does */
		if ((rc = db_exec(db, "SELECT 1 FROM sqlite_schema"))
		    < 0)
			return rc;
		rc = sqlite3_file_control(db->conn, "main",
					  SQLITE_FCNTL_JOURNAL_POINTER, &f);
		if (rc != SQLITE_OK)
			return db_error(db, rc, "wal pointer");
		if (!f || !f->pMethods)
			return efs_error_set(EFS_EIO, "db: no wal to sync");
	}
	rc = f->pMethods->xSync(f, SQLITE_SYNC_NORMAL);
	if (rc != SQLITE_OK)
		return db_error(db, rc, "wal sync");
	return 0;
}

void db_rollback(struct db *db)
{
	struct efs_error_state saved;

	if (sqlite3_get_autocommit(db->conn))
		return;
	efs_error_save(&saved);
	sqlite3_exec(db->conn, "ROLLBACK", NULL, NULL, NULL);
	efs_error_restore(&saved);
}

bool db_in_txn(struct db *db)
{
	return !sqlite3_get_autocommit(db->conn);
}

static const char sql_layout[] =
	"CREATE TABLE IF NOT EXISTS db_schema ("
	" module TEXT PRIMARY KEY,"
	" version INTEGER NOT NULL) WITHOUT ROWID;"
	"PRAGMA user_version=1;";

static const char sql_version_get[] =
	"SELECT version FROM db_schema WHERE module = ?1";

static const char sql_version_set[] =
	"INSERT INTO db_schema(module, version) VALUES (?1, ?2)"
	" ON CONFLICT(module) DO UPDATE SET version = excluded.version";

static int read_version(int *out, struct db *db, const char *module)
{
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, db, sql_version_get)) < 0)
		return error;
	sqlite3_bind_text(st, 1, module, -1, SQLITE_STATIC);
	error = db_step(db, st);
	if (error >= 0) {
		*out = error ? sqlite3_column_int(st, 0) : 0;
		error = 0;
	}
	db_reset(st);
	return error;
}

static bool has_layout(struct db *db)
{
	sqlite3_stmt *st;
	bool found = false;

	if (sqlite3_prepare_v2(db->conn,
			       "SELECT 1 FROM sqlite_master WHERE name = "
			       "'db_schema'", -1, &st, NULL) != SQLITE_OK)
		return false;
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

int db_schema_version(int *out, struct db *db, const char *module)
{
	if (!has_layout(db)) {
		*out = 0;
		return 0;
	}
	return read_version(out, db, module);
}

static int migrate_step(struct db *db, const char *module, int version,
			const char *sql)
{
	sqlite3_stmt *st;
	int error;

	if ((error = db_exec(db, sql)) < 0)
		return error;
	if ((error = db_stmt(&st, db, sql_version_set)) < 0)
		return error;
	sqlite3_bind_text(st, 1, module, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, version);
	return db_run(db, st);
}

int db_migrate(struct db *db, bool *fresh_out, const char *module,
	       const char *const *steps, size_t nsteps)
{
	int version = 0;
	int error;

	/* The common case, up to date: no write transaction. */
	if (has_layout(db)) {
		if ((error = read_version(&version, db, module)) < 0)
			return error;
		if ((size_t)version == nsteps) {
			if (fresh_out)
				*fresh_out = false;
			return 0;
		}
	}
	if ((error = db_begin(db)) < 0)
		return error;
	if ((error = db_exec(db, sql_layout)) < 0 ||
	    (error = read_version(&version, db, module)) < 0)
		goto out_rollback;
	if (fresh_out)
		*fresh_out = version == 0;
	if ((size_t)version > nsteps) {
		error = efs_error_set(EFS_EUNSUPPORTED,
				      "db: %s tables are at version %d, this "
				      "build knows %zu", module, version,
				      nsteps);
		goto out_rollback;
	}
	for (size_t i = (size_t)version; i < nsteps; i++)
		if ((error = migrate_step(db, module, (int)i + 1,
					  steps[i])) < 0)
			goto out_rollback;
	return db_commit(db);
out_rollback:
	db_rollback(db);
	return error;
}

int db_quick_check(struct db *db)
{
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, db, "PRAGMA quick_check(1)")) < 0)
		return error;
	error = db_step(db, st);
	if (error > 0) {
		const char *msg = (const char *)sqlite3_column_text(st, 0);

		if (!msg || strcmp(msg, "ok"))
			error = efs_error_set(EFS_ECORRUPT, "db: %s",
					      msg ? msg : "quick_check failed");
		else
			error = 0;
	}
	db_reset(st);
	return error;
}
