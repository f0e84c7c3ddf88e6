/*
 * db.h - the sqlite plumbing every index in the repository goes through.
 *
 * One struct db is one sqlite connection opened the way the repository
 * needs it: WAL journal, synchronous=FULL (a commit that returned is on
 * disk), foreign keys on, a busy timeout.  It carries a cache of prepared
 * statements keyed by their SQL text, so hot paths prepare once.
 *
 * Schemas: several modules keep tables in the same index.db (the
 * blockstore, later the fs inode table and the dealer's deal tables).  Each
 * module migrates its own tables with db_migrate(db, "bstore", steps, n):
 * its version lives in a row of the db_schema table, so modules evolve
 * independently.  PRAGMA user_version holds the version of that bookkeeping
 * itself (1); a database written by a newer layout is refused.
 *
 * Errors: sqlite result codes map to efs codes in db_error (one place):
 * SQLITE_NOMEM -> EFS_ENOMEM, SQLITE_FULL and ENOSPC I/O errors ->
 * EFS_ENOSPC, SQLITE_CORRUPT/NOTADB -> EFS_ECORRUPT, SQLITE_BUSY/LOCKED ->
 * EFS_ETIMEDOUT, SQLITE_CONSTRAINT -> EFS_EEXISTS, SQLITE_INTERRUPT ->
 * EFS_ECANCELED, SQLITE_TOOBIG -> EFS_ETOOBIG, other I/O and open
 * failures -> EFS_EIO, the rest -> EFS_ERROR.
 *
 * Threads: a struct db is used by one thread at a time (the connection is
 * opened SQLITE_OPEN_NOMUTEX); share a database between threads by giving
 * each its own connection (WAL lets readers run beside the writer).
 * sqlite allocates with its own allocator, not efs_malloc, so the
 * allocation-failure loops do not reach inside sqlite.
 */
#ifndef EFS_DB_H
#define EFS_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pthread.h>
#include <sqlite3.h>

struct db;

enum db_open_flags {
	DB_OPEN_CREATE = 1 << 0,   /* create the file if missing */
	DB_OPEN_QUERY_ONLY = 1 << 1, /* refuse writes to the main database */
	/* a writer's connection whose checkpoints a background thread runs
	 * (db_ckpt.c), so its commits never copy the WAL themselves */
	DB_OPEN_CHECKPOINTER = 1 << 2,
};

/* How long a statement waits on another connection's lock. */
#define DB_BUSY_TIMEOUT_MS 10000

/*
 * Open path.  Sets WAL, synchronous=FULL, foreign_keys=ON, the busy
 * timeout and a journal size limit.  Returns 0, EFS_ENOMEM, EFS_EIO (cannot
 * open), EFS_ECORRUPT (not a database) or EFS_EUNSUPPORTED (written by a
 * newer schema layout).  *out is owned by the caller (db_close).
 */
int db_open(struct db **out, const char *path, unsigned flags);

/* Finalize the cached statements and close.  NULL is fine. */
void db_close(struct db *db);

/* The raw connection, for what these helpers do not cover.  Borrowed. */
sqlite3 *db_handle(struct db *db);

/*
 * Map an sqlite result code to an efs code, set the thread's error to
 * "db: <what>: <sqlite message>", and return the efs code.  rc must not
 * be SQLITE_OK, SQLITE_ROW or SQLITE_DONE.
 */
int db_error(struct db *db, int rc, const char *what);

/* The efs code for an sqlite result code, without a message. */
int db_code_to_efs(int rc, int sys_errno);

/* Run one or more statements that return no rows.  0 or mapped error. */
int db_exec(struct db *db, const char *sql);

/*
 * A prepared statement for sql from the connection's cache (prepared on
 * first use), reset and with its bindings cleared.  Meant for the fixed
 * statements of the code (string constants are found fastest); ad-hoc SQL
 * grows the cache for the connection's life.  The statement
 * is borrowed: do not finalize it, and db_reset it when done so it does
 * not hold a read transaction open.  Returns 0, EFS_ENOMEM or the mapped
 * prepare error.
 */
int db_stmt(sqlite3_stmt **out, struct db *db, const char *sql);

/*
 * Step st: returns 1 when a row is ready, 0 when done, or a negative
 * mapped error (the statement is reset then).
 */
int db_step(struct db *db, sqlite3_stmt *st);

/* Step a statement that returns no rows and reset it: 0 or error. */
int db_run(struct db *db, sqlite3_stmt *st);

/*
 * The cached statement sql with v[0..n) bound to ?1..?n, run to the end:
 * a statement that returns no rows.  0 or error (as db_run).
 */
int db_run_ints(struct db *db, const char *sql, const int64_t *v, size_t n);

/*
 * The first column of the first row of sql with v[0..n) bound to ?1..?n,
 * as an integer (NULL reads as 0).  Returns 1 with *out set, 0 when there
 * is no row (*out untouched), or a negative mapped error.  The statement
 * is reset before returning.
 */
int db_query_int(int64_t *out, struct db *db, const char *sql,
		 const int64_t *v, size_t n);

/* Reset a statement so it releases its read snapshot.  NULL is fine. */
void db_reset(sqlite3_stmt *st);

/* BEGIN IMMEDIATE (write lock now), BEGIN (deferred), COMMIT, ROLLBACK. */
int db_begin(struct db *db);
int db_begin_read(struct db *db);
int db_commit(struct db *db);
/* Roll back if a transaction is open; keeps the thread's last error. */
void db_rollback(struct db *db);

/* True while a transaction is open on this connection. */
bool db_in_txn(struct db *db);

/*
 * The safety level of this connection's later commits: full
 * (synchronous=FULL, the default of db_open) makes COMMIT return only
 * once the transaction is on disk; !full (NORMAL) returns once it is in
 * the WAL file (it survives kill -9, not a power cut) and it becomes
 * durable with the next FULL commit or db_wal_sync of ANY connection to
 * the same database: a WAL fsync covers every frame written before it,
 * and recovery never keeps a commit without the ones before it.  Call
 * outside transactions (sqlite ignores it inside).  Does nothing when the
 * level is already the one asked.  0 or a mapped error.
 */
int db_sync_mode(struct db *db, bool full);

/*
 * Make every transaction committed so far to db's database, by any
 * connection, durable: fsync the WAL through sqlite's own file (what a
 * FULL commit does last), without writing anything.  Outside
 * transactions or inside.  0, EFS_EIO or a mapped error.
 */
int db_wal_sync(struct db *db);

/*
 * Bring module's tables to version nsteps: steps[i] is the SQL that moves
 * version i to i + 1, run in one transaction with the version bump.
 * Returns 0, EFS_EUNSUPPORTED (the database is at a newer version than
 * this build knows) or a mapped sqlite error.  *fresh_out (may be NULL)
 * is set when the module had no tables before this call.
 */
int db_migrate(struct db *db, bool *fresh_out, const char *module,
	       const char *const *steps, size_t nsteps);

/* The stored version of module's tables (0 when none). */
int db_schema_version(int *out, struct db *db, const char *module);

/*
 * PRAGMA quick_check: 0 when sqlite finds the file sound, EFS_ECORRUPT
 * with the first complaint as the message, or a mapped error.
 */
int db_quick_check(struct db *db);

/* ---- read connections for many threads (db_pool.c) ---- */

/*
 * Idle read-only (DB_OPEN_QUERY_ONLY) connections to one database, for
 * modules whose readers run on many threads at once (the blockstore, the
 * inode table, the piece store): a reader takes one, uses it alone, and
 * gives it back.  Connections are opened on demand; at most max idle
 * ones are kept.  The lock is a leaf, never held across sqlite.
 */
struct db_pool {
	pthread_mutex_t mu;
	char *path;
	struct db **idle;
	size_t n, max;
};

/* Set up a pool for path (copied).  0 or EFS_ENOMEM. */
int db_pool_init(struct db_pool *p, const char *path, size_t max);

/* Close the idle connections and free.  Safe on a zeroed pool. */
void db_pool_release(struct db_pool *p);

/* An idle connection, or a new one.  0 or the errors of db_open. */
int db_pool_get(struct db **out, struct db_pool *p);

/* Give db back (closed when max are idle already).  NULL is fine. */
void db_pool_put(struct db_pool *p, struct db *db);

#endif
