/*
 * inode_pins.c - file content and the blockstore pins that keep it (the
 * invariants are numbered at the top of inode.c): content changes,
 * freeing unused inodes, the queue of pins to drop and its thread, and
 * the reconciliation of pins with rows at open.
 */
#include "fs/inode.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/bstore.h"
#include "core/error.h"
#include "fs/errmap.h"
#include "fs/inode_i.h"

#include "core/banned.h"

#define PIN_PREFIX "fs:"

/* ---- freeing and pins ---------------------------------------------- */

int inode_free(struct inode_table *t, uint64_t ino)
{
	int64_t v = (int64_t)ino;
	int error;

	if ((error = inode_run_ints(t, "DELETE FROM fs_xattrs WHERE ino = ?1",
				    &v, 1)) < 0 ||
	    (error = inode_run_ints(t, "DELETE FROM fs_inodes WHERE ino = ?1",
				    &v, 1)) < 0)
		return error;
	atomic_fetch_sub(&t->count, 1);
	return 0;
}

int inode_free_if_unused(int64_t *pin_out, struct inode_table *t,
			 uint64_t ino)
{
	static const char get[] =
		"SELECT nlink, pin FROM fs_inodes WHERE ino = ?1";
	sqlite3_stmt *st;
	int64_t nlink = 1;
	int error;

	*pin_out = 0;
	if ((error = db_stmt(&st, t->wdb, get)) < 0)
		return error;
	sqlite3_bind_int64(st, 1, (int64_t)ino);
	if ((error = db_step(t->wdb, st)) > 0) {
		nlink = sqlite3_column_int64(st, 0);
		*pin_out = sqlite3_column_int64(st, 1);
	}
	db_reset(st);
	if (error <= 0 || nlink > 0 || inode_live_hold_unlinked(t, ino)) {
		*pin_out = 0;
		return error < 0 ? error : 0;
	}
	return inode_free(t, ino);
}

/* Drop one pin now; a failure, or a crash before the next durable commit
 * (the unpin is deferred: it need not wait for the disk), leaves it
 * stale (invariant 3). */
static void unpin_now(struct inode_table *t, int64_t pin)
{
	if (bstore_unpin_deferred(t->bs, pin) < 0)
		efs_error_clear();
	atomic_fetch_add(&t->unpinned, 1);
}

uint64_t inode_unpinned(struct inode_table *t)
{
	return atomic_load(&t->unpinned);
}

void inode_unpin(struct inode_table *t, int64_t pin)
{
	bool queued = false;

	if (pin <= 0)
		return;
	pthread_mutex_lock(&t->unpin_mu);
	if (t->unpin_started && !t->unpin_stop) {
		if (t->nunpins == t->unpins_cap &&
		    t->unpins_cap < INODE_UNPIN_QUEUE_MAX) {
			size_t cap = t->unpins_cap ? t->unpins_cap * 2 : 256;
			int64_t *v = efs_reallocarray(t->unpins, cap,
						      sizeof(*v));

			if (v) {
				t->unpins = v;
				t->unpins_cap = cap;
			}
		}
		if (t->nunpins < t->unpins_cap) {
			t->unpins[t->nunpins++] = pin;
			queued = true;
			pthread_cond_broadcast(&t->unpin_cond);
		}
	}
	pthread_mutex_unlock(&t->unpin_mu);
	if (!queued)
		unpin_now(t, pin);
}

static void *unpin_main(void *arg)
{
	struct inode_table *t = arg;
	int64_t batch[256];

	pthread_setname_np(pthread_self(), "efs-unpin");
	pthread_mutex_lock(&t->unpin_mu);
	for (;;) {
		size_t n;

		while (t->nunpins == 0 && !t->unpin_stop)
			pthread_cond_wait(&t->unpin_cond, &t->unpin_mu);
		if (t->nunpins == 0)
			break;
		n = t->nunpins < 256 ? t->nunpins : 256;
		t->nunpins -= n;
		memcpy(batch, t->unpins + t->nunpins, n * sizeof(*batch));
		t->unpin_busy = true;
		pthread_mutex_unlock(&t->unpin_mu);
		for (size_t i = 0; i < n; i++)
			unpin_now(t, batch[i]);
		pthread_mutex_lock(&t->unpin_mu);
		t->unpin_busy = false;
		pthread_cond_broadcast(&t->unpin_cond);
	}
	pthread_mutex_unlock(&t->unpin_mu);
	return NULL;
}

int inode_unpin_start(struct inode_table *t)
{
	int rc = pthread_create(&t->unpin_thread, NULL, unpin_main, t);

	if (rc != 0)
		return efs_error_set_errno(EFS_EIO, rc, "inode: thread");
	t->unpin_started = true;
	return 0;
}

void inode_drain(struct inode_table *t)
{
	pthread_mutex_lock(&t->unpin_mu);
	while (t->nunpins > 0 || t->unpin_busy)
		pthread_cond_wait(&t->unpin_cond, &t->unpin_mu);
	pthread_mutex_unlock(&t->unpin_mu);
}

void inode_unpin_stop(struct inode_table *t)
{
	if (!t->unpin_started)
		return;
	pthread_mutex_lock(&t->unpin_mu);
	t->unpin_stop = true;
	pthread_cond_broadcast(&t->unpin_cond);
	pthread_mutex_unlock(&t->unpin_mu);
	pthread_join(t->unpin_thread, NULL);
	t->unpin_started = false;
}

void inode_pin_name(char *out, size_t cap, uint64_t ino)
{
	snprintf(out, cap, PIN_PREFIX "%" PRIu64, ino);
}

/* ---- recovery ------------------------------------------------------ */

/* Collects the fs pins into the temp table fs_pinscan (on wdb). */
static int pinscan_add(const struct bstore_pin *pin, void *payload)
{
	static const char sql[] =
		"INSERT INTO temp.fs_pinscan VALUES (?1, ?2, ?3)";
	struct inode_table *t = payload;
	uint8_t bytes[CID_BYTES_MAX];
	size_t n = cid_to_bytes(bytes, &pin->root);
	sqlite3_stmt *st;
	char *end;
	unsigned long long ino;
	int error;

	if (strncmp(pin->name, PIN_PREFIX, strlen(PIN_PREFIX)) != 0)
		return 0;
	errno = 0;
	ino = strtoull(pin->name + strlen(PIN_PREFIX), &end, 10);
	if (errno || *end)
		ino = 0; /* a malformed tag of ours: stale */
	if ((error = db_stmt(&st, t->wdb, sql)) < 0)
		return error;
	sqlite3_bind_int64(st, 1, pin->id);
	sqlite3_bind_int64(st, 2, (int64_t)ino);
	sqlite3_bind_blob(st, 3, bytes, (int)n, SQLITE_TRANSIENT);
	return db_run(t->wdb, st);
}

/* Collect the int64 column 0 of every row of sql into out. */
static int collect_ids(struct buf *out, struct db *db, const char *sql)
{
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, db, sql)) < 0)
		return error;
	while ((error = db_step(db, st)) > 0) {
		int64_t id = sqlite3_column_int64(st, 0);

		if ((error = buf_add(out, &id, sizeof(id))) < 0)
			break;
	}
	db_reset(st);
	return error;
}

/* Pin the root of file ino again and record the pin (invariant 3). */
static int repin(struct inode_table *t, uint64_t ino)
{
	static const char set[] =
		"UPDATE fs_inodes SET pin = ?2 WHERE ino = ?1";
	struct inode_content c;
	struct inode_attr a;
	char name[32];
	int64_t v[2] = { (int64_t)ino, 0 };
	int error;

	if ((error = inode_row_get(&a, &c, t->wdb, ino)) < 0)
		return error;
	inode_pin_name(name, sizeof(name), ino);
	if ((error = bstore_pin(&v[1], t->bs, &c.root, name)) < 0)
		return error;
	return inode_run_ints(t, set, v, 2);
}

/*
 * Invariant 3 at open: pin what lost its pin, then drop pins no row
 * names.  Runs outside transactions on wdb (bstore_pin is the
 * blockstore's own transaction); only the open thread uses wdb yet.
 */
int inode_pins_reconcile(struct inode_table *t, struct inode_recovery *rec)
{
	static const char missing[] =
		"SELECT i.ino FROM fs_inodes i WHERE i.root IS NOT NULL"
		" AND (i.mode & 61440) = 32768 AND NOT EXISTS"
		" (SELECT 1 FROM temp.fs_pinscan p WHERE p.id = i.pin"
		" AND p.ino = i.ino AND p.root = i.root)";
	static const char stale[] =
		"SELECT p.id FROM temp.fs_pinscan p WHERE NOT EXISTS"
		" (SELECT 1 FROM fs_inodes i WHERE i.ino = p.ino"
		" AND i.pin = p.id AND i.root = p.root)";
	struct buf ids = BUF_INIT(BUF_NOCAP);
	const int64_t *v;
	size_t n;
	int error;

	error = db_exec(t->wdb, "CREATE TEMP TABLE IF NOT EXISTS fs_pinscan"
				"(id INTEGER PRIMARY KEY, ino INTEGER,"
				" root BLOB);"
				"DELETE FROM temp.fs_pinscan;");
	if (error < 0)
		return error;
	/* One transaction for the scan; the pins and unpins below are the
	 * blockstore's own transactions, so they run outside any of ours. */
	if ((error = db_begin(t->wdb)) < 0)
		goto out;
	if ((error = bstore_pins_foreach(t->bs, pinscan_add, t)) < 0 ||
	    (error = db_commit(t->wdb)) < 0) {
		db_rollback(t->wdb);
		goto out;
	}
	if ((error = collect_ids(&ids, t->wdb, missing)) < 0)
		goto out;
	v = (const int64_t *)ids.ptr;
	n = ids.len / sizeof(*v);
	for (size_t i = 0; i < n; i++) {
		if ((error = repin(t, (uint64_t)v[i])) < 0)
			goto out;
		rec->pins_added++;
	}
	buf_reset(&ids);
	if ((error = collect_ids(&ids, t->wdb, stale)) < 0)
		goto out;
	v = (const int64_t *)ids.ptr;
	n = ids.len / sizeof(*v);
	for (size_t i = 0; i < n; i++) {
		if ((error = bstore_unpin(t->bs, v[i])) < 0 &&
		    error != EFS_ENOTFOUND)
			goto out;
		rec->pins_dropped++;
	}
	error = 0;
out:
	buf_release(&ids);
	db_exec(t->wdb, "DROP TABLE IF EXISTS temp.fs_pinscan");
	return error;
}

/* ---- content ------------------------------------------------------- */

int inode_get_content(struct inode_content *out, struct inode_table *t,
		      uint64_t ino)
{
	struct inode_attr a;
	struct db *db;
	int error;

	if ((error = db_pool_get(&db, &t->rpool)) < 0)
		return error;
	error = inode_row_get(&a, out, db, ino);
	db_pool_put(&t->rpool, db);
	if (error == 0 && S_ISDIR(a.mode))
		return efs_error_set(FS_EISDIR, "inode: %" PRIu64
						" is a directory", ino);
	if (error == 0 && !S_ISREG(a.mode))
		return efs_error_set(EFS_EINVAL, "inode: %" PRIu64
						 " is not a regular file", ino);
	return error;
}

/*
 * The row update of inode_set_content (wmu held, in a transaction).  The
 * pending writes' times go into the row; *seq_out is how many writes
 * were noted then.
 */
static int content_write(int64_t *oldpin_out, uint64_t *seq_out,
			 struct inode_table *t, uint64_t ino,
			 const struct cid *root, uint64_t size, uint64_t tsize,
			 int64_t pin)
{
	static const char get[] = "SELECT " INODE_COLS ", i.pin"
				  " FROM fs_inodes i WHERE i.ino = ?1";
	static const char sql[] =
		"UPDATE fs_inodes SET root = ?2, size = ?3, tsize = ?4,"
		" pin = ?5, mtime = ?6, ctime = ?7, flags = ?8 WHERE ino = ?1";
	uint8_t bytes[CID_BYTES_MAX];
	struct inode_attr a;
	struct live *l;
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, t->wdb, get)) < 0)
		return error;
	if ((error = inode_step_ino(t->wdb, st, ino)) > 0 &&
	    (error = inode_row_read(&a, NULL, st, 0)) == 0)
		*oldpin_out = sqlite3_column_int64(st, INODE_NCOLS);
	db_reset(st);
	if (error < 0)
		return error;
	if (!S_ISREG(a.mode))
		return efs_error_set(EFS_EINVAL, "inode: %" PRIu64
						 " is not a regular file", ino);
	pthread_mutex_lock(&t->live_mu);
	if ((l = inode_live_find(t, ino)) && l->pending && l->times) {
		a.mtime_ns = l->mtime_ns;
		if (l->ctime_ns > a.ctime_ns)
			a.ctime_ns = l->ctime_ns;
		a.flags &= ~(uint32_t)INODE_F_MTIME_SET;
	}
	*seq_out = l ? l->seq : 0;
	pthread_mutex_unlock(&t->live_mu);
	if ((error = db_stmt(&st, t->wdb, sql)) < 0)
		return error;
	sqlite3_bind_int64(st, 1, (int64_t)ino);
	if (root)
		sqlite3_bind_blob(st, 2, bytes, (int)cid_to_bytes(bytes, root),
				  SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)size);
	sqlite3_bind_int64(st, 4, (int64_t)tsize);
	if (pin < 0) /* the same root: keep its pin */
		sqlite3_bind_int64(st, 5, *oldpin_out);
	else if (pin > 0)
		sqlite3_bind_int64(st, 5, pin);
	sqlite3_bind_int64(st, 6, a.mtime_ns);
	sqlite3_bind_int64(st, 7, a.ctime_ns);
	sqlite3_bind_int64(st, 8, a.flags);
	if ((error = db_run(t->wdb, st)) < 0)
		return error;
	return inode_parents_invalidate(t, ino);
}

/* Same root and size as the row, and no write noted since: no-op. */
static bool content_unchanged(struct inode_table *t, uint64_t ino,
			      const struct inode_content *cur,
			      const struct cid *root, uint64_t size)
{
	struct live *l;
	bool pending;

	if (cur->size != size || cur->has_root != (root != NULL) ||
	    (root && !cid_equal(root, &cur->root)))
		return false;
	pthread_mutex_lock(&t->live_mu);
	pending = (l = inode_live_find(t, ino)) && l->pending;
	pthread_mutex_unlock(&t->live_mu);
	return !pending;
}

int inode_set_content(struct inode_table *t, uint64_t ino,
		      const struct cid *root, uint64_t size, uint64_t tsize)
{
	struct inode_content cur;
	int64_t pin = 0, oldpin = 0;
	uint64_t seq = 0;
	struct live *l;
	char name[32];
	int error;

	if (size == 0)
		root = NULL; /* an empty file has no DAG (see inode.h) */
	if ((error = inode_get_content(&cur, t, ino)) < 0)
		return error;
	if (content_unchanged(t, ino, &cur, root, size))
		return bstore_durable(t->bs); /* blocks synced deferred */
	inode_pin_name(name, sizeof(name), ino);
	/* The pin commits without waiting for the disk: the FULL commit
	 * below makes it durable with the row (invariant 2 holds: the WAL
	 * never keeps the row without the pin before it). */
	if (root && cur.has_root && cid_equal(root, &cur.root))
		pin = -1; /* rewritten with the same bytes: keep the pin */
	else if (root &&
		 (error = bstore_pin_deferred(&pin, t->bs, root, name)) < 0)
		return error;
	if ((error = inode_wbegin(t, true)) < 0)
		goto fail;
	error = content_write(&oldpin, &seq, t, ino, root, size, tsize, pin);
	if ((error = inode_wend(t, error)) < 0)
		goto fail;
	if (pin < 0)
		oldpin = 0;
	/* The pending state goes only when no write came since it was read
	 * and the flushed size is the pending one: writes staged after the
	 * flush's snapshot keep showing until their own flush. */
	pthread_mutex_lock(&t->live_mu);
	if ((l = inode_live_find(t, ino)) && l->seq == seq && l->size == size) {
		l->pending = false;
		l->times = false;
		inode_live_put(t, l);
	}
	pthread_mutex_unlock(&t->live_mu);
	inode_unpin(t, oldpin);
	return 0;
fail:
	if (pin > 0)
		inode_unpin(t, pin);
	return error;
}
