/*
 * test_db.c - the sqlite helpers: the pragmas every connection gets,
 * per-module migrations (fresh, idempotent, independent modules, a newer
 * schema refused, a failing step rolled back), the statement cache, the
 * mapping of sqlite codes to efs codes, files that are not databases or
 * are damaged, a reader beside a writer (WAL), and the allocation-failure
 * loop over open/prepare/close.
 */
#include "core/db.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/alloc.h"
#include "core/error.h"
#include "tests/harness.h"

static char *tmp;
static char path[4096];

static int setup(void)
{
	tmp = harness_tmpdir();
	if (!tmp)
		return 1;
	snprintf(path, sizeof(path), "%s/t.db", tmp);
	return 0;
}

static int teardown(void)
{
	harness_tmpdir_free(tmp);
	return 0;
}

/* Each test starts from no file. */
static void fresh_path(const char *name)
{
	snprintf(path, sizeof(path), "%s/%s.db", tmp, name);
	remove(path);
}

static struct db *open_db(void)
{
	struct db *db = NULL;

	CU_ASSERT_EQUAL_FATAL(db_open(&db, path, DB_OPEN_CREATE), 0);
	return db;
}

static sqlite3_int64 int_of(struct db *db, const char *sql)
{
	sqlite3_stmt *st;
	sqlite3_int64 v = -1;

	CU_ASSERT_EQUAL_FATAL(db_stmt(&st, db, sql), 0);
	if (db_step(db, st) == 1)
		v = sqlite3_column_int64(st, 0);
	db_reset(st);
	return v;
}

static void test_db__pragmas(void)
{
	struct db *db;
	sqlite3_stmt *st;

	fresh_path("pragmas");
	db = open_db();
	CU_ASSERT_EQUAL(db_stmt(&st, db, "PRAGMA journal_mode"), 0);
	CU_ASSERT_EQUAL(db_step(db, st), 1);
	CU_ASSERT_STRING_EQUAL((const char *)sqlite3_column_text(st, 0),
			       "wal");
	db_reset(st);
	CU_ASSERT_EQUAL(int_of(db, "PRAGMA synchronous"), 2); /* FULL */
	CU_ASSERT_EQUAL(int_of(db, "PRAGMA foreign_keys"), 1);
	CU_ASSERT_EQUAL(int_of(db, "PRAGMA busy_timeout"),
			DB_BUSY_TIMEOUT_MS);
	db_close(db);
}

/* db_sync_mode switches sqlite's level and back; db_wal_sync works on a
 * connection that never wrote and on one that committed NORMAL. */
static void test_db__sync_mode(void)
{
	struct db *db, *other;

	fresh_path("sync_mode");
	db = open_db();
	CU_ASSERT_EQUAL(db_sync_mode(db, true), 0); /* already FULL */
	CU_ASSERT_EQUAL(int_of(db, "PRAGMA synchronous"), 2);
	CU_ASSERT_EQUAL(db_sync_mode(db, false), 0);
	CU_ASSERT_EQUAL(int_of(db, "PRAGMA synchronous"), 1); /* NORMAL */
	CU_ASSERT_EQUAL(db_exec(db, "CREATE TABLE t (x);"
				    "INSERT INTO t VALUES (1)"),
			0);
	other = open_db();
	CU_ASSERT_EQUAL(db_wal_sync(other), 0);
	CU_ASSERT_EQUAL(int_of(other, "SELECT count(*) FROM t"), 1);
	CU_ASSERT_EQUAL(db_wal_sync(db), 0);
	CU_ASSERT_EQUAL(db_sync_mode(db, true), 0);
	CU_ASSERT_EQUAL(int_of(db, "PRAGMA synchronous"), 2);
	/* inside a transaction too */
	CU_ASSERT_EQUAL(db_begin(db), 0);
	CU_ASSERT_EQUAL(db_exec(db, "INSERT INTO t VALUES (2)"), 0);
	CU_ASSERT_EQUAL(db_wal_sync(db), 0);
	CU_ASSERT_EQUAL(db_commit(db), 0);
	db_close(other);
	db_close(db);
}

static const char *const steps_a[] = {
	"CREATE TABLE a1 (x INTEGER);",
	"ALTER TABLE a1 ADD COLUMN y TEXT; CREATE TABLE a2 (z);",
};

static const char *const steps_b[] = {
	"CREATE TABLE b1 (x INTEGER PRIMARY KEY);",
};

static void test_db__migrate(void)
{
	struct db *db;
	bool fresh = false;
	int v = -1;

	fresh_path("migrate");
	db = open_db();
	CU_ASSERT_EQUAL(db_schema_version(&v, db, "a"), 0);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(db_migrate(db, &fresh, "a", steps_a, 1), 0);
	CU_ASSERT(fresh);
	CU_ASSERT_EQUAL(db_schema_version(&v, db, "a"), 0);
	CU_ASSERT_EQUAL(v, 1);
	/* the next build adds step 2 */
	CU_ASSERT_EQUAL(db_migrate(db, &fresh, "a", steps_a, 2), 0);
	CU_ASSERT_FALSE(fresh);
	CU_ASSERT_EQUAL(db_exec(db, "INSERT INTO a1(x, y) VALUES (1, 'q');"
				    "INSERT INTO a2 VALUES (3)"), 0);
	/* again: nothing to do, data intact */
	CU_ASSERT_EQUAL(db_migrate(db, NULL, "a", steps_a, 2), 0);
	CU_ASSERT_EQUAL(int_of(db, "SELECT count(*) FROM a1"), 1);
	/* another module, its own version */
	CU_ASSERT_EQUAL(db_migrate(db, &fresh, "b", steps_b, 1), 0);
	CU_ASSERT(fresh);
	CU_ASSERT_EQUAL(db_schema_version(&v, db, "b"), 0);
	CU_ASSERT_EQUAL(v, 1);
	CU_ASSERT_EQUAL(int_of(db, "PRAGMA user_version"), 1);
	/* an older build meets a newer schema */
	CU_ASSERT_EQUAL(db_migrate(db, NULL, "a", steps_a, 1),
			EFS_EUNSUPPORTED);
	db_close(db);

	/* the layout version itself, from the future */
	db = open_db();
	CU_ASSERT_EQUAL(db_exec(db, "PRAGMA user_version=7"), 0);
	db_close(db);
	db = NULL;
	CU_ASSERT_EQUAL(db_open(&db, path, 0), EFS_EUNSUPPORTED);
	CU_ASSERT_PTR_NULL(db);
}

static void test_db__migrate_rollback(void)
{
	static const char *const bad[] = {
		"CREATE TABLE c1 (x);",
		"CREATE TABLE c2 (y); THIS IS NOT SQL;",
	};
	struct db *db;
	int v = -1;

	fresh_path("rollback");
	db = open_db();
	CU_ASSERT(db_migrate(db, NULL, "c", bad, 2) < 0);
	CU_ASSERT(strstr(efs_error_msg(), "db:") != NULL);
	/* all or nothing: the whole migration is one transaction */
	CU_ASSERT_EQUAL(db_schema_version(&v, db, "c"), 0);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(int_of(db, "SELECT count(*) FROM sqlite_master"
				   " WHERE name IN ('c1', 'c2')"), 0);
	CU_ASSERT_FALSE(db_in_txn(db));
	db_close(db);
}

static void test_db__stmt_cache(void)
{
	static const char sql[] = "SELECT ?1 + 1";
	char copy[sizeof(sql)];
	sqlite3_stmt *a;
	sqlite3_stmt *b;
	struct db *db;

	fresh_path("cache");
	db = open_db();
	memcpy(copy, sql, sizeof(sql));
	CU_ASSERT_EQUAL(db_stmt(&a, db, sql), 0);
	sqlite3_bind_int(a, 1, 41);
	CU_ASSERT_EQUAL(db_step(db, a), 1);
	CU_ASSERT_EQUAL(sqlite3_column_int(a, 0), 42);
	/* handed out again: reset, bindings cleared */
	CU_ASSERT_EQUAL(db_stmt(&b, db, sql), 0);
	CU_ASSERT_PTR_EQUAL(a, b);
	CU_ASSERT_EQUAL(db_step(db, b), 1);
	CU_ASSERT_EQUAL(sqlite3_column_type(b, 0), SQLITE_NULL);
	/* same text at another address: same statement */
	CU_ASSERT_EQUAL(db_stmt(&b, db, copy), 0);
	CU_ASSERT_PTR_EQUAL(a, b);
	db_reset(b);
	/* a syntax error is an error, not a crash */
	CU_ASSERT_EQUAL(db_stmt(&b, db, "SELEC nothing"), EFS_ERROR);
	db_close(db);
}

static void test_db__errors(void)
{
	static const struct {
		int rc;
		int sys;
		int code;
	} map[] = {
		{ SQLITE_NOMEM, 0, EFS_ENOMEM },
		{ SQLITE_FULL, 0, EFS_ENOSPC },
		{ SQLITE_IOERR_WRITE, ENOSPC, EFS_ENOSPC },
		{ SQLITE_IOERR_FSYNC, EIO, EFS_EIO },
		{ SQLITE_IOERR_NOMEM, 0, EFS_ENOMEM },
		{ SQLITE_CORRUPT, 0, EFS_ECORRUPT },
		{ SQLITE_NOTADB, 0, EFS_ECORRUPT },
		{ SQLITE_BUSY, 0, EFS_ETIMEDOUT },
		{ SQLITE_LOCKED, 0, EFS_ETIMEDOUT },
		{ SQLITE_CONSTRAINT_PRIMARYKEY, 0, EFS_EEXISTS },
		{ SQLITE_INTERRUPT, 0, EFS_ECANCELED },
		{ SQLITE_TOOBIG, 0, EFS_ETOOBIG },
		{ SQLITE_CANTOPEN, 0, EFS_EIO },
		{ SQLITE_READONLY, 0, EFS_EIO },
		{ SQLITE_ERROR, 0, EFS_ERROR },
	};
	struct db *db;
	sqlite3_stmt *st;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		CU_ASSERT_EQUAL(db_code_to_efs(map[i].rc, map[i].sys),
				map[i].code);
	fresh_path("errors");
	db = open_db();
	CU_ASSERT_EQUAL(db_exec(db, "CREATE TABLE u (k PRIMARY KEY);"
				    "INSERT INTO u VALUES (1)"), 0);
	CU_ASSERT_EQUAL(db_stmt(&st, db, "INSERT INTO u VALUES (1)"), 0);
	CU_ASSERT_EQUAL(db_run(db, st), EFS_EEXISTS);
	CU_ASSERT(strstr(efs_error_msg(), "UNIQUE") != NULL);
	db_close(db);
}

static void test_db__not_a_database(void)
{
	struct db *db = NULL;
	uint8_t junk[8192];

	fresh_path("junk");
	harness_fill_random(junk, sizeof(junk), 7);
	CU_ASSERT_EQUAL(harness_write_file(path, junk, sizeof(junk)), 0);
	CU_ASSERT_EQUAL(db_open(&db, path, DB_OPEN_CREATE), EFS_ECORRUPT);
	CU_ASSERT_PTR_NULL(db);
	fresh_path("missing");
	CU_ASSERT_EQUAL(db_open(&db, path, 0), EFS_EIO);
}

static void test_db__damaged(void)
{
	struct buf file = BUF_INIT(BUF_NOCAP);
	struct db *db;
	char sql[128];
	int error;

	fresh_path("damaged");
	db = open_db();
	CU_ASSERT_EQUAL(db_exec(db, "CREATE TABLE t (k INTEGER PRIMARY KEY,"
				    " v BLOB); CREATE INDEX t_v ON t(v);"), 0);
	CU_ASSERT_EQUAL(db_begin(db), 0);
	for (int i = 0; i < 2000; i++) {
		snprintf(sql, sizeof(sql),
			 "INSERT INTO t VALUES (%d, randomblob(100))", i);
		CU_ASSERT_EQUAL(db_exec(db, sql), 0);
	}
	CU_ASSERT_EQUAL(db_commit(db), 0);
	CU_ASSERT_EQUAL(db_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)"), 0);
	CU_ASSERT_EQUAL(db_quick_check(db), 0);
	db_close(db);

	/* Scribble over the middle pages of the file. */
	CU_ASSERT_EQUAL_FATAL(harness_read_file(&file, path), 0);
	CU_ASSERT_FATAL(file.len > 64 * 1024);
	harness_fill_random(file.ptr + 8192, 32 * 1024, 99);
	CU_ASSERT_EQUAL(harness_write_file(path, file.ptr, file.len), 0);
	buf_release(&file);

	db = NULL;
	error = db_open(&db, path, 0);
	if (error == 0) {
		error = db_quick_check(db);
		db_close(db);
	}
	CU_ASSERT_EQUAL(error, EFS_ECORRUPT);
}

static void test_db__reader_beside_writer(void)
{
	struct db *w = NULL;
	struct db *r = NULL;

	fresh_path("wal");
	w = open_db();
	CU_ASSERT_EQUAL(db_exec(w, "CREATE TABLE t (x); INSERT INTO t"
				   " VALUES (1)"), 0);
	CU_ASSERT_EQUAL_FATAL(db_open(&r, path, DB_OPEN_QUERY_ONLY), 0);
	CU_ASSERT_EQUAL(db_begin(w), 0);
	CU_ASSERT_EQUAL(db_exec(w, "INSERT INTO t VALUES (2)"), 0);
	/* the reader is not blocked and sees the last commit */
	CU_ASSERT_EQUAL(int_of(r, "SELECT count(*) FROM t"), 1);
	CU_ASSERT_EQUAL(db_commit(w), 0);
	CU_ASSERT_EQUAL(int_of(r, "SELECT count(*) FROM t"), 2);
	/* query-only connections refuse writes */
	CU_ASSERT(db_exec(r, "INSERT INTO t VALUES (3)") < 0);
	db_close(r);
	db_close(w);
}

static int alloc_run(void *payload)
{
	struct db *db = NULL;
	sqlite3_stmt *st;
	int error;

	(void)payload;
	if ((error = db_open(&db, path, DB_OPEN_CREATE)) < 0)
		return error;
	for (int i = 0; i < 20 && !error; i++) {
		char sql[64];

		/* 20 distinct statements: the cache must grow */
		snprintf(sql, sizeof(sql), "SELECT %d", i);
		error = db_stmt(&st, db, sql);
		if (!error)
			db_reset(st);
	}
	db_close(db);
	return error;
}

static void test_db__alloc_failures(void)
{
	fresh_path("alloc");
	/* db, the first statements, the cache's growth, the copies of SQL */
	CU_ASSERT(harness_alloc_loop(alloc_run, NULL) > 20);
}

/* db_run_ints and db_query_int: bindings, no row, NULL, errors. */
static void test_db__ints(void)
{
	int64_t v[2] = { 7, 42 }, out = -1;
	struct db *db;

	fresh_path("ints");
	db = open_db();
	CU_ASSERT_EQUAL_FATAL(db_exec(db, "CREATE TABLE t (k INTEGER, v)"), 0);
	CU_ASSERT_EQUAL(db_run_ints(db, "INSERT INTO t VALUES (?1, ?2)", v, 2),
			0);
	CU_ASSERT_EQUAL(db_query_int(&out, db, "SELECT v FROM t WHERE k = ?1",
				     v, 1),
			1);
	CU_ASSERT_EQUAL(out, 42);
	out = -1;
	CU_ASSERT_EQUAL(db_query_int(&out, db, "SELECT v FROM t WHERE k = ?1",
				     &v[1], 1),
			0);
	CU_ASSERT_EQUAL(out, -1); /* untouched without a row */
	CU_ASSERT_EQUAL(db_query_int(&out, db, "SELECT NULL", NULL, 0), 1);
	CU_ASSERT_EQUAL(out, 0);
	CU_ASSERT_EQUAL(db_query_int(&out, db, "SELECT COUNT(*) FROM t", NULL,
				     0),
			1);
	CU_ASSERT_EQUAL(out, 1);
	CU_ASSERT(db_query_int(&out, db, "SELECT x FROM nosuch", NULL, 0) < 0);
	CU_ASSERT_EQUAL(db_run_ints(db, "SELECT k FROM t", NULL, 0),
			EFS_EINVAL); /* a statement that returns rows */
	db_close(db);
}

/* A writer opened with DB_OPEN_CHECKPOINTER leaves checkpoints to the
 * background thread: its own automatic checkpoint is off, and the WAL's
 * pages still reach the database file. */
static void test_db__checkpointer(void)
{
	int64_t ms, v[1];
	struct db *db, *plain;
	struct stat sb;

	fresh_path("ckpt");
	CU_ASSERT_EQUAL_FATAL(db_open(&db, path, DB_OPEN_CREATE |
						 DB_OPEN_CHECKPOINTER),
			      0);
	CU_ASSERT_EQUAL(int_of(db, "PRAGMA wal_autocheckpoint"), 0);
	CU_ASSERT_EQUAL_FATAL(db_open(&plain, path, 0), 0);
	CU_ASSERT_EQUAL(int_of(plain, "PRAGMA wal_autocheckpoint"), 4096);
	db_close(plain);
	CU_ASSERT_EQUAL_FATAL(db_exec(db, "CREATE TABLE t (v BLOB)"), 0);
	/* 5000 pages, one transaction each: past the 4096-page mark */
	for (int i = 0; i < 5000; i++) {
		v[0] = i;
		CU_ASSERT_EQUAL_FATAL(
		    db_run_ints(db, "INSERT INTO t VALUES (zeroblob(3000))",
				v, 0),
		    0);
	}
	for (ms = 0; ms < 10000; ms += 10) {
		CU_ASSERT_EQUAL_FATAL(stat(path, &sb), 0);
		if (sb.st_size > 4096 * 3000)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 10000000L }, NULL);
	}
	CU_ASSERT(sb.st_size > 4096 * 3000);
	db_close(db);
}

/* The read pool: connections are reused, read-only, at most max kept. */
static void test_db__pool(void)
{
	struct db_pool pool;
	struct db *w, *a, *b, *c;
	int64_t v;

	fresh_path("pool");
	w = open_db();
	CU_ASSERT_EQUAL(db_exec(w, "CREATE TABLE t(x); INSERT INTO t VALUES (7)"),
			0);
	CU_ASSERT_EQUAL_FATAL(db_pool_init(&pool, path, 1), 0);
	CU_ASSERT_EQUAL_FATAL(db_pool_get(&a, &pool), 0);
	CU_ASSERT_EQUAL_FATAL(db_pool_get(&b, &pool), 0);
	CU_ASSERT_PTR_NOT_EQUAL(a, b);
	CU_ASSERT_EQUAL(db_query_int(&v, a, "SELECT x FROM t", NULL, 0), 1);
	CU_ASSERT_EQUAL(v, 7);
	CU_ASSERT_NOT_EQUAL(db_exec(b, "INSERT INTO t VALUES (8)"), 0);
	db_pool_put(&pool, a);
	db_pool_put(&pool, b);      /* one over max: closed */
	db_pool_put(&pool, NULL);
	CU_ASSERT_EQUAL_FATAL(db_pool_get(&c, &pool), 0);
	CU_ASSERT_PTR_EQUAL(c, a);
	db_pool_put(&pool, c);
	db_pool_release(&pool);
	db_pool_release(&pool);
	db_close(w);
}

static CU_TestInfo db_tests[] = {
	{ "pool", test_db__pool },
	{ "pragmas", test_db__pragmas },
	{ "sync_mode", test_db__sync_mode },
	{ "migrate", test_db__migrate },
	{ "migrate_rollback", test_db__migrate_rollback },
	{ "stmt_cache", test_db__stmt_cache },
	{ "errors", test_db__errors },
	{ "not_a_database", test_db__not_a_database },
	{ "damaged", test_db__damaged },
	{ "reader_beside_writer", test_db__reader_beside_writer },
	{ "ints", test_db__ints },
	{ "checkpointer", test_db__checkpointer },
	{ "alloc_failures", test_db__alloc_failures },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "db", .pInitFunc = setup, .pCleanupFunc = teardown,
	       .pTests = db_tests })
