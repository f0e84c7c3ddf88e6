/*
 * db_ckpt.c - WAL checkpoints on a background thread, one per database
 * file, so that no writer's commit (a FUSE operation holding the
 * namespace lock, a blockstore sync) pays for copying the WAL into the
 * database and the fsyncs that go with it.
 *
 * Design notes:
 * - Writers' connections (DB_OPEN_CHECKPOINTER) run with
 *   wal_autocheckpoint=0 and a WAL hook.  After a commit that leaves
 *   DB_CKPT_PAGES or more frames in the WAL the hook wakes the
 *   checkpointer, which runs a PASSIVE checkpoint on its own connection:
 *   it never takes the write lock, so writers go on meanwhile, and it
 *   copies only frames no reader still needs.  Readers are never blocked.
 * - A checkpointer that cannot keep up (DB_CKPT_BEHIND times the
 *   threshold) must not let the WAL grow without bound: the committing
 *   writer then checkpoints itself, as sqlite's automatic checkpoint
 *   would have.
 * - The checkpointers live in a list keyed by the path string, with a
 *   reference per attached connection; the blockstore and the inode table
 *   open index.db by the same path, so they share one thread.
 * - A commit with synchronous=NORMAL is made durable by its owner
 *   (db_wal_sync); a checkpoint fsyncs the WAL before it copies, which
 *   only makes more commits durable sooner.
 */
#include "core/db_i.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/db.h"
#include "core/error.h"
#include "core/log.h"

#include "core/banned.h"

/* Frames (pages) in the WAL that make a checkpoint worth running. */
#define DB_CKPT_PAGES 4096
/* How far behind the checkpointer may fall before writers step in. */
#define DB_CKPT_BEHIND 4

struct db_ckpt {
	char *path;
	unsigned refs;             /* ckpt_list_lock */
	struct db_ckpt *next;      /* ckpt_list_lock */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool wanted;               /* mu: a writer asked for a checkpoint */
	bool stop;                 /* mu */
};

static pthread_mutex_t ckpt_list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct db_ckpt *ckpt_list;

static void run_checkpoint(struct db *db, const char *path)
{
	int rc = sqlite3_wal_checkpoint_v2(db_handle(db), "main",
					   SQLITE_CHECKPOINT_PASSIVE, NULL,
					   NULL);

	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		efs_log_warn("db: checkpoint of %s: %s", path,
			     sqlite3_errmsg(db_handle(db)));
}

static void *ckpt_main(void *arg)
{
	struct db_ckpt *c = arg;
	struct db *db = NULL;

	pthread_setname_np(pthread_self(), "efs-ckpt");
	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->wanted && !c->stop)
			pthread_cond_wait(&c->cond, &c->mu);
		if (!c->wanted)
			break; /* stopping with nothing asked */
		c->wanted = false;
		pthread_mutex_unlock(&c->mu);
		if (db || db_open(&db, c->path, 0) == 0)
			run_checkpoint(db, c->path);
		else
			efs_log_warn("db: checkpointer: %s", efs_error_msg());
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	db_close(db);
	return NULL;
}

static int wal_hook(void *arg, sqlite3 *conn, const char *name, int frames)
{
	struct db_ckpt *c = arg;

	if (frames < DB_CKPT_PAGES)
		return SQLITE_OK;
	if (frames >= DB_CKPT_PAGES * DB_CKPT_BEHIND) {
		sqlite3_wal_checkpoint_v2(conn, name,
					  SQLITE_CHECKPOINT_PASSIVE, NULL,
					  NULL);
		return SQLITE_OK;
	}
	pthread_mutex_lock(&c->mu);
	c->wanted = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->mu);
	return SQLITE_OK;
}

static void ckpt_free(struct db_ckpt *c)
{
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->mu);
	efs_free(c->path);
	efs_free(c);
}

static int ckpt_new(struct db_ckpt **out, const char *path)
{
	struct db_ckpt *c = efs_calloc(1, sizeof(*c));
	int rc;

	if (!c || !(c->path = efs_strdup(path))) {
		efs_free(c);
		return efs_error_set(EFS_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cond, NULL);
	if ((rc = pthread_create(&c->thread, NULL, ckpt_main, c)) != 0) {
		ckpt_free(c);
		return efs_error_set_errno(EFS_ERROR, rc,
					   "db: cannot start the checkpointer");
	}
	*out = c;
	return 0;
}

int db_ckpt_attach(struct db_ckpt **out, sqlite3 *conn, const char *path)
{
	struct db_ckpt *c;
	int error = 0;

	pthread_mutex_lock(&ckpt_list_lock);
	for (c = ckpt_list; c && strcmp(c->path, path) != 0; c = c->next)
		;
	if (!c && (error = ckpt_new(&c, path)) == 0) {
		c->next = ckpt_list;
		ckpt_list = c;
	}
	if (c)
		c->refs++;
	pthread_mutex_unlock(&ckpt_list_lock);
	if (error < 0)
		return error;
	sqlite3_wal_autocheckpoint(conn, 0);
	sqlite3_wal_hook(conn, wal_hook, c);
	*out = c;
	return 0;
}

void db_ckpt_detach(struct db_ckpt *c, sqlite3 *conn)
{
	struct db_ckpt **p;
	bool last;

	if (!c)
		return;
	sqlite3_wal_hook(conn, NULL, NULL);
	pthread_mutex_lock(&ckpt_list_lock);
	last = --c->refs == 0;
	if (last) {
		for (p = &ckpt_list; *p != c; p = &(*p)->next)
			;
		*p = c->next;
	}
	pthread_mutex_unlock(&ckpt_list_lock);
	if (!last)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	ckpt_free(c);
}
