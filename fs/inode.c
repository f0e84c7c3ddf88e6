/*
 * inode.c - the inode table (inode.h): tables, opening with its recovery,
 * connections and transactions, rows, the live map (lookup counts and
 * pending writes), attributes, meta and sync.  Content and pins are in
 * inode_pins.c, the namespace in inode_ns.c, xattrs in inode_xattr.c.
 *
 * Tables (module "fs" of index.db, migrated with db_migrate):
 *
 *   fs_inodes   ino INTEGER PRIMARY KEY AUTOINCREMENT (never reused), mode,
 *               nlink, uid, gid, rdev, size, atime/mtime/ctime in ns,
 *               flags (enum inode_flag), root (files: content root CID;
 *               directories: cached CID), tsize, pin (files: blockstore
 *               pin id of root), target (symlinks), dirver (directories:
 *               version of the cached CID)
 *   fs_dentries id INTEGER PRIMARY KEY (the readdir cookie), parent, name
 *               (BLOB: names are bytes), ino; UNIQUE(parent, name), so a
 *               lookup or create is one O(log n) probe
 *   fs_xattrs   (ino, name) -> value
 *   fs_meta     key -> value (the profile the filesystem was made with)
 *
 * Invariants (checked by test_inode's recovery cases):
 *
 * 1. Every regular file with a root has pin = the id of a blockstore pin
 *    named "fs:<ino>" of that root, once inode_table_open has returned
 *    and after every inode_set_content.  So gc, which frees everything a
 *    pin does not reach, never frees a file's blocks.
 * 2. A content change runs: pin the new root (its own durable bstore
 *    transaction), then the inode transaction naming root and pin
 *    (durable), then unpin the old pin.  The inode never names an
 *    unpinned root: a crash between the steps only leaves an extra pin.
 * 3. A "fs:" pin whose id no row names (with that root) is stale: open
 *    drops it.  A row whose pin is missing (a repository restored without
 *    its pins, say) is pinned again at open.
 * 4. Freeing an inode deletes its row and xattrs in one transaction, then
 *    unpins its root (stale by 3 if a crash comes between).
 * 5. nlink is the number of entries naming a file; for a directory 2 +
 *    its subdirectories.  Each directory but the root has exactly one
 *    entry; every entry's parent is a directory.
 * 6. Kernel references (lookup counts) live in memory only: at open there
 *    are none, so rows with nlink 0 are orphans of unlink-while-open and
 *    are freed (R11).  Otherwise a row with nlink 0 is freed at its last
 *    forget.
 * 7. Directory CIDs are caches, never pinned (their blocks may be gc'd;
 *    dircid.c checks before trusting one).  A directory with a cached CID
 *    has all its subdirectories cached; any change below a directory
 *    clears it and its ancestors and bumps their versions, stopping after
 *    the first one that had nothing cached (its ancestors have nothing
 *    either), and a computed CID is stored only when the version it was
 *    computed at is still current.
 * 8. Namespace transactions commit with synchronous=NORMAL (they survive
 *    kill -9); content changes commit with FULL and inode_sync fsyncs the
 *    WAL (db_wal_sync), which makes every earlier transaction in the WAL
 *    durable too, the blockstore's deferred ones included (the pin of a
 *    content change, and the index rows of the blocks the data path
 *    synced with bstore_sync_deferred just before): one WAL fsync per
 *    content change.
 */
#include "fs/inode.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/alloc.h"
#include "core/bstore.h"
#include "core/clock.h"
#include "core/error.h"
#include "fs/errmap.h"
#include "fs/inode_i.h"

#include "core/banned.h"

static const char *const schema[] = {
	/* 0 -> 1 */
	"CREATE TABLE fs_inodes ("
	" ino INTEGER PRIMARY KEY AUTOINCREMENT,"
	" mode INTEGER NOT NULL,"
	" nlink INTEGER NOT NULL,"
	" uid INTEGER NOT NULL,"
	" gid INTEGER NOT NULL,"
	" rdev INTEGER NOT NULL DEFAULT 0,"
	" size INTEGER NOT NULL DEFAULT 0,"
	" atime INTEGER NOT NULL,"
	" mtime INTEGER NOT NULL,"
	" ctime INTEGER NOT NULL,"
	" flags INTEGER NOT NULL DEFAULT 0,"
	" root BLOB,"
	" tsize INTEGER NOT NULL DEFAULT 0,"
	" pin INTEGER,"
	" target BLOB,"
	" dirver INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX fs_inodes_orphans ON fs_inodes(ino) WHERE nlink = 0;"
	"CREATE TABLE fs_dentries ("
	" id INTEGER PRIMARY KEY,"
	" parent INTEGER NOT NULL,"
	" name BLOB NOT NULL,"
	" ino INTEGER NOT NULL,"
	" UNIQUE (parent, name));"
	"CREATE INDEX fs_dentries_dir ON fs_dentries(parent);"
	"CREATE INDEX fs_dentries_ino ON fs_dentries(ino);"
	"CREATE TABLE fs_xattrs ("
	" ino INTEGER NOT NULL,"
	" name TEXT NOT NULL,"
	" value BLOB NOT NULL,"
	" PRIMARY KEY (ino, name)) WITHOUT ROWID;"
	"CREATE TABLE fs_meta ("
	" key TEXT PRIMARY KEY NOT NULL,"
	" value BLOB NOT NULL) WITHOUT ROWID;"
	"INSERT INTO fs_meta VALUES ('syncs', 0);",
};

/* ---- connections and transactions ---------------------------------- */

int inode_wbegin(struct inode_table *t, bool full)
{
	int error = 0;

	pthread_mutex_lock(&t->wmu);
	/* sqlite takes the safety level only outside transactions */
	if ((error = db_sync_mode(t->wdb, full)) == 0 &&
	    (error = db_begin(t->wdb)) == 0) {
		t->wfull = full;
		return 0;
	}
	if (db_sync_mode(t->wdb, false) < 0)
		efs_error_clear(); /* retried at the next begin */
	pthread_mutex_unlock(&t->wmu);
	return error;
}

/* Back to NORMAL after a FULL transaction (wmu held). */
static void wfull_end(struct inode_table *t)
{
	if (t->wfull && db_sync_mode(t->wdb, false) < 0)
		efs_error_clear(); /* retried at the next begin */
	t->wfull = false;
}

int inode_wcommit(struct inode_table *t)
{
	int error = db_commit(t->wdb);

	wfull_end(t);
	pthread_mutex_unlock(&t->wmu);
	return error;
}

void inode_wrollback(struct inode_table *t)
{
	db_rollback(t->wdb);
	wfull_end(t);
	pthread_mutex_unlock(&t->wmu);
}

int inode_wend(struct inode_table *t, int error)
{
	if (error < 0) {
		inode_wrollback(t);
		return error;
	}
	return inode_wcommit(t);
}

/* ---- rows ----------------------------------------------------------- */

int inode_row_read(struct inode_attr *out, struct inode_content *content,
		   sqlite3_stmt *st, int col)
{
	const void *root = sqlite3_column_blob(st, col + 11);
	int error;

	out->ino = (uint64_t)sqlite3_column_int64(st, col);
	out->generation = 1;
	out->mode = (uint32_t)sqlite3_column_int64(st, col + 1);
	out->nlink = (uint32_t)sqlite3_column_int64(st, col + 2);
	out->uid = (uint32_t)sqlite3_column_int64(st, col + 3);
	out->gid = (uint32_t)sqlite3_column_int64(st, col + 4);
	out->rdev = (uint64_t)sqlite3_column_int64(st, col + 5);
	out->size = (uint64_t)sqlite3_column_int64(st, col + 6);
	out->atime_ns = sqlite3_column_int64(st, col + 7);
	out->mtime_ns = sqlite3_column_int64(st, col + 8);
	out->ctime_ns = sqlite3_column_int64(st, col + 9);
	out->flags = (uint32_t)sqlite3_column_int64(st, col + 10);
	if (!content)
		return 0;
	memset(content, 0, sizeof(*content));
	if (root) {
		error = cid_from_bytes_exact(
			&content->root, root,
			(size_t)sqlite3_column_bytes(st, col + 11));
		if (error < 0)
			return efs_error_set(EFS_ECORRUPT, "inode: bad root "
					     "of inode %" PRIu64, out->ino);
		content->has_root = true;
	}
	content->size = S_ISREG(out->mode) ? out->size : 0;
	content->tsize = (uint64_t)sqlite3_column_int64(st, col + 12);
	return 0;
}

int inode_row_get(struct inode_attr *out, struct inode_content *content,
		  struct db *db, uint64_t ino)
{
	static const char sql[] =
		"SELECT " INODE_COLS " FROM fs_inodes i WHERE i.ino = ?1";
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, db, sql)) < 0)
		return error;
	if ((error = inode_step_ino(db, st, ino)) > 0)
		error = inode_row_read(out, content, st, 0);
	db_reset(st);
	return error;
}

int inode_step_ino(struct db *db, sqlite3_stmt *st, uint64_t ino)
{
	int error;

	sqlite3_bind_int64(st, 1, (int64_t)ino);
	error = db_step(db, st);
	if (error == 0)
		error = efs_error_set(EFS_ENOTFOUND, "inode: no inode %" PRIu64,
				      ino);
	return error;
}

/* ---- the live map -------------------------------------------------- */

static size_t live_slot(const struct inode_table *t, uint64_t ino)
{
	return (size_t)((ino * 0x9e3779b97f4a7c15ull) >> 20) %
	       t->nbuckets;
}

struct live *inode_live_find(struct inode_table *t, uint64_t ino)
{
	struct live *l = t->buckets[live_slot(t, ino)];

	while (l && l->ino != ino)
		l = l->next;
	return l;
}

/* Double the buckets when the map is full (live_mu held); best effort. */
static void live_grow(struct inode_table *t)
{
	size_t n = t->nbuckets * 2;
	struct live **b = efs_calloc(n, sizeof(*b));
	struct live **old = t->buckets;
	size_t oldn = t->nbuckets;

	if (!b)
		return;
	t->buckets = b;
	t->nbuckets = n;
	for (size_t i = 0; i < oldn; i++) {
		while (old[i]) {
			struct live *l = old[i];
			size_t s = live_slot(t, l->ino);

			old[i] = l->next;
			l->next = b[s];
			b[s] = l;
		}
	}
	efs_free(old);
}

/* The entry of ino, made when missing (live_mu held); NULL: ENOMEM. */
static struct live *live_get(struct inode_table *t, uint64_t ino)
{
	struct live *l = inode_live_find(t, ino);
	size_t s;

	if (l)
		return l;
	if (t->nlive >= t->nbuckets)
		live_grow(t);
	if (!(l = efs_calloc(1, sizeof(*l))))
		return NULL;
	l->ino = ino;
	s = live_slot(t, ino);
	l->next = t->buckets[s];
	t->buckets[s] = l;
	t->nlive++;
	return l;
}

void inode_live_put(struct inode_table *t, struct live *l)
{
	struct live **p;

	if (l->nlookup || l->pending)
		return;
	p = &t->buckets[live_slot(t, l->ino)];
	while (*p != l)
		p = &(*p)->next;
	*p = l->next;
	t->nlive--;
	efs_free(l);
}

static void live_free_all(struct inode_table *t)
{
	for (size_t i = 0; t->buckets && i < t->nbuckets; i++) {
		while (t->buckets[i]) {
			struct live *l = t->buckets[i];

			t->buckets[i] = l->next;
			efs_free(l);
		}
	}
	efs_free(t->buckets);
	t->buckets = NULL;
}

void inode_live_overlay(struct inode_table *t, struct inode_attr *a)
{
	struct live *l;

	pthread_mutex_lock(&t->live_mu);
	if ((l = inode_live_find(t, a->ino)) && l->pending) {
		a->size = l->size;
		if (l->times) {
			a->mtime_ns = l->mtime_ns;
			if (l->ctime_ns > a->ctime_ns)
				a->ctime_ns = l->ctime_ns;
		}
	}
	pthread_mutex_unlock(&t->live_mu);
}

int inode_ref(struct inode_table *t, uint64_t ino)
{
	struct live *l;

	pthread_mutex_lock(&t->live_mu);
	if ((l = live_get(t, ino)))
		l->nlookup++;
	pthread_mutex_unlock(&t->live_mu);
	if (!l)
		return efs_error_set(EFS_ENOMEM, "inode: out of memory");
	return 0;
}

bool inode_live_hold_unlinked(struct inode_table *t, uint64_t ino)
{
	struct live *l;
	bool held;

	pthread_mutex_lock(&t->live_mu);
	l = inode_live_find(t, ino);
	held = l && l->nlookup > 0;
	if (held)
		l->unlinked = true;
	pthread_mutex_unlock(&t->live_mu);
	return held;
}

/*
 * Drop v's references; true when the last one went from an unlinked
 * inode, which is then to be freed (live_mu held).  The last forget of a
 * linked inode (the kernel trimming its caches) costs no transaction.
 */
static bool live_unref(struct inode_table *t, const struct inode_forget *v)
{
	struct live *l = inode_live_find(t, v->ino);
	bool last;

	if (!l)
		return false;
	l->nlookup = l->nlookup > v->nlookup ? l->nlookup - v->nlookup : 0;
	last = l->nlookup == 0 && l->unlinked;
	inode_live_put(t, l);
	return last && v->ino != INODE_ROOT;
}

/* Free the unlinked inodes of last[0..n) in one transaction. */
static int forget_free(struct inode_table *t, const uint64_t *last, size_t n)
{
	int64_t pins[INODE_FORGET_BATCH];
	int error;

	if (n == 0)
		return 0;
	if ((error = inode_wbegin(t, false)) < 0)
		return error;
	for (size_t i = 0; i < n && error == 0; i++)
		error = inode_free_if_unused(&pins[i], t, last[i]);
	if ((error = inode_wend(t, error)) < 0)
		return error;
	for (size_t i = 0; i < n; i++)
		inode_unpin(t, pins[i]);
	return 0;
}

int inode_forget_many(struct inode_table *t, const struct inode_forget *v,
		      size_t n)
{
	uint64_t last[INODE_FORGET_BATCH];
	int error = 0;

	while (n > 0 && error == 0) {
		size_t k = n < INODE_FORGET_BATCH ? n : INODE_FORGET_BATCH;
		size_t nlast = 0;

		pthread_mutex_lock(&t->live_mu);
		for (size_t i = 0; i < k; i++)
			if (live_unref(t, &v[i]))
				last[nlast++] = v[i].ino;
		pthread_mutex_unlock(&t->live_mu);
		error = forget_free(t, last, nlast);
		v += k;
		n -= k;
	}
	return error;
}

int inode_forget(struct inode_table *t, uint64_t ino, uint64_t n)
{
	struct inode_forget f = { ino, n };

	return inode_forget_many(t, &f, 1);
}

int inode_note_write(struct inode_table *t, uint64_t ino, uint64_t size)
{
	int64_t now = efs_clock_real_ns();
	struct live *l;

	pthread_mutex_lock(&t->live_mu);
	if ((l = live_get(t, ino))) {
		l->pending = true;
		l->times = true;
		l->size = size;
		l->seq++;
		l->mtime_ns = now;
		l->ctime_ns = now;
	}
	pthread_mutex_unlock(&t->live_mu);
	if (!l)
		return efs_error_set(EFS_ENOMEM, "inode: out of memory");
	return 0;
}

void inode_pending_discard(struct inode_table *t, uint64_t ino)
{
	struct live *l;

	pthread_mutex_lock(&t->live_mu);
	if ((l = inode_live_find(t, ino))) {
		l->pending = false;
		l->times = false;
		inode_live_put(t, l);
	}
	pthread_mutex_unlock(&t->live_mu);
}

/* Invariant 6 at open: no kernel references yet, so free nlink-0 rows. */
static int orphans_free(struct inode_table *t, struct inode_recovery *rec)
{
	int error;

	if ((error = inode_wbegin(t, true)) < 0)
		return error;
	error = db_exec(t->wdb,
			"DELETE FROM fs_xattrs WHERE ino IN"
			" (SELECT ino FROM fs_inodes WHERE nlink = 0);"
			"DELETE FROM fs_inodes WHERE nlink = 0;");
	if (error == 0)
		rec->orphans = (uint64_t)sqlite3_changes(db_handle(t->wdb));
	return inode_wend(t, error);
}

/* The root directory of a fresh table. */
static int root_create(struct inode_table *t)
{
	static const char sql[] =
		"INSERT INTO fs_inodes(ino, mode, nlink, uid, gid, atime,"
		" mtime, ctime) VALUES (?1, ?2, 2, ?3, ?4, ?5, ?5, ?5)";
	int64_t v[5] = { INODE_ROOT, S_IFDIR | (t->opts.root_mode & 07777),
			 t->opts.root_uid, t->opts.root_gid,
			 efs_clock_real_ns() };
	int error;

	if ((error = inode_wbegin(t, true)) < 0)
		return error;
	return inode_wend(t, inode_run_ints(t, sql, v, 5));
}

static int count_rows(struct inode_table *t)
{
	int64_t n;
	int error = db_query_int(&n, t->wdb, "SELECT count(*) FROM fs_inodes",
				 NULL, 0);

	if (error > 0)
		atomic_store(&t->count, (uint64_t)n);
	return error < 0 ? error : 0;
}

static int table_init(struct inode_table *t, struct inode_recovery *rec)
{
	struct inode_attr root;
	int version;
	bool fresh;
	int error;

	if ((error = db_open(&t->wdb, t->db_path,
			     DB_OPEN_CREATE | DB_OPEN_CHECKPOINTER)) < 0)
		return error;
	if ((error = db_sync_mode(t->wdb, false)) < 0)
		return error;
	/* Reads the version once before db_migrate does: db_migrate's fast
	 * path takes a failed read for "not up to date" and retries, which
	 * would hide an ENOMEM from the allocation-failure tests. */
	if ((error = db_schema_version(&version, t->wdb, "fs")) < 0)
		return error;
	error = db_migrate(t->wdb, &fresh, "fs", schema,
			   sizeof(schema) / sizeof(schema[0]));
	if (error < 0)
		return error;
	error = inode_row_get(&root, NULL, t->wdb, INODE_ROOT);
	if (error == EFS_ENOTFOUND) {
		efs_error_clear();
		error = root_create(t);
	}
	if (error < 0)
		return error;
	if ((error = orphans_free(t, rec)) < 0)
		return error;
	if ((error = inode_pins_reconcile(t, rec)) < 0)
		return error;
	return count_rows(t);
}

int inode_table_open(struct inode_table **out, struct inode_recovery *rec,
		     const char *db_path, struct bstore *bs,
		     const struct inode_table_opts *opts)
{
	static const struct inode_table_opts defaults = INODE_TABLE_OPTS_INIT;
	struct inode_recovery scratch;
	struct inode_table *t;
	int error;

	*out = NULL;
	if (!rec)
		rec = &scratch;
	memset(rec, 0, sizeof(*rec));
	if (!(t = efs_calloc(1, sizeof(*t))))
		return efs_error_set(EFS_ENOMEM, "inode: out of memory");
	t->opts = opts ? *opts : defaults;
	t->bs = bs;
	pthread_mutex_init(&t->wmu, NULL);
	pthread_mutex_init(&t->live_mu, NULL);
	pthread_mutex_init(&t->unpin_mu, NULL);
	pthread_cond_init(&t->unpin_cond, NULL);
	t->nbuckets = 1024;
	t->db_path = efs_strdup(db_path);
	t->buckets = efs_calloc(t->nbuckets, sizeof(*t->buckets));
	if (!t->db_path || !t->buckets ||
	    db_pool_init(&t->rpool, db_path, t->opts.read_conns) < 0) {
		error = efs_error_set(EFS_ENOMEM, "inode: out of memory");
		goto fail;
	}
	if ((error = table_init(t, rec)) < 0)
		goto fail;
	if ((error = inode_unpin_start(t)) < 0)
		goto fail;
	*out = t;
	return 0;
fail:
	inode_table_close(t);
	return error;
}

void inode_table_close(struct inode_table *t)
{
	if (!t)
		return;
	inode_unpin_stop(t);
	db_close(t->wdb);
	db_pool_release(&t->rpool);
	live_free_all(t);
	efs_free(t->db_path);
	pthread_mutex_destroy(&t->wmu);
	pthread_mutex_destroy(&t->live_mu);
	pthread_mutex_destroy(&t->unpin_mu);
	pthread_cond_destroy(&t->unpin_cond);
	efs_free(t->unpins);
	efs_free(t);
}

/* ---- attributes ---------------------------------------------------- */

int inode_getattr(struct inode_attr *out, struct inode_table *t, uint64_t ino)
{
	struct db *db;
	int error;

	if ((error = db_pool_get(&db, &t->rpool)) < 0)
		return error;
	error = inode_row_get(out, NULL, db, ino);
	db_pool_put(&t->rpool, db);
	if (error == 0)
		inode_live_overlay(t, out);
	return error;
}

/* The new times of a setattr; drops pending write times an explicit
 * mtime overrides (live_mu taken). */
static void setattr_times(struct inode_table *t, struct inode_attr *a,
			  const struct inode_set *set, int64_t now)
{
	struct live *l;

	if (set->valid & INODE_SET_ATIME)
		a->atime_ns = set->atime_ns;
	if (set->valid & INODE_SET_ATIME_NOW)
		a->atime_ns = now;
	if (set->valid & (INODE_SET_MTIME | INODE_SET_MTIME_NOW)) {
		a->mtime_ns = set->valid & INODE_SET_MTIME ? set->mtime_ns
							   : now;
		if (set->valid & INODE_SET_MTIME)
			a->flags |= INODE_F_MTIME_SET;
		else
			a->flags &= ~(uint32_t)INODE_F_MTIME_SET;
		pthread_mutex_lock(&t->live_mu);
		if ((l = inode_live_find(t, a->ino)))
			l->times = false;
		pthread_mutex_unlock(&t->live_mu);
	}
}

int inode_setattr(struct inode_attr *out, struct inode_table *t, uint64_t ino,
		  const struct inode_set *set)
{
	static const char sql[] =
		"UPDATE fs_inodes SET mode = ?2, uid = ?3, gid = ?4,"
		" atime = ?5, mtime = ?6, ctime = ?7, flags = ?8"
		" WHERE ino = ?1";
	int64_t now = efs_clock_real_ns();
	sqlite3_stmt *st;
	struct inode_attr a;
	int error;

	if ((error = inode_wbegin(t, false)) < 0)
		return error;
	if ((error = inode_row_get(&a, NULL, t->wdb, ino)) < 0)
		goto fail;
	if (set->valid & INODE_SET_MODE)
		a.mode = (a.mode & S_IFMT) | (set->mode & 07777);
	if (set->valid & INODE_SET_UID)
		a.uid = set->uid;
	if (set->valid & INODE_SET_GID)
		a.gid = set->gid;
	setattr_times(t, &a, set, now);
	a.ctime_ns = set->valid & INODE_SET_CTIME ? set->ctime_ns : now;
	if ((error = db_stmt(&st, t->wdb, sql)) < 0)
		goto fail;
	sqlite3_bind_int64(st, 1, (int64_t)ino);
	sqlite3_bind_int64(st, 2, a.mode);
	sqlite3_bind_int64(st, 3, a.uid);
	sqlite3_bind_int64(st, 4, a.gid);
	sqlite3_bind_int64(st, 5, a.atime_ns);
	sqlite3_bind_int64(st, 6, a.mtime_ns);
	sqlite3_bind_int64(st, 7, a.ctime_ns);
	sqlite3_bind_int64(st, 8, a.flags);
	if ((error = db_run(t->wdb, st)) < 0)
		goto fail;
	if ((error = inode_wcommit(t)) < 0)
		return error;
	*out = a;
	inode_live_overlay(t, out);
	return 0;
fail:
	inode_wrollback(t);
	return error;
}

/* ---- meta and sync ------------------------------------------------- */

int inode_meta_get(struct buf *out, struct inode_table *t, const char *key)
{
	static const char sql[] = "SELECT value FROM fs_meta WHERE key = ?1";
	sqlite3_stmt *st;
	struct db *db;
	int error;

	if ((error = db_pool_get(&db, &t->rpool)) < 0)
		return error;
	if ((error = db_stmt(&st, db, sql)) < 0)
		goto out;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	error = db_step(db, st);
	if (error == 0)
		error = efs_error_set(EFS_ENOTFOUND, "inode: no meta '%s'",
				      key);
	else if (error > 0)
		error = buf_add(out, sqlite3_column_blob(st, 0),
				(size_t)sqlite3_column_bytes(st, 0));
	db_reset(st);
out:
	db_pool_put(&t->rpool, db);
	return error;
}

int inode_meta_set(struct inode_table *t, const char *key, const void *value,
		   size_t len)
{
	static const char sql[] =
		"INSERT OR REPLACE INTO fs_meta VALUES (?1, ?2)";
	sqlite3_stmt *st;
	int error;

	if ((error = inode_wbegin(t, true)) < 0)
		return error;
	if ((error = db_stmt(&st, t->wdb, sql)) < 0)
		goto fail;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, value ? value : "", (int)len, SQLITE_STATIC);
	if ((error = db_run(t->wdb, st)) < 0)
		goto fail;
	return inode_wcommit(t);
fail:
	inode_wrollback(t);
	return error;
}

int inode_sync(struct inode_table *t)
{
	struct db *db;
	int error;

	/* Every commit so far is in the WAL: one fsync of it is enough,
	 * through any connection (db_wal_sync), so a reader's, and writers
	 * do not wait for the disk meanwhile. */
	if ((error = db_pool_get(&db, &t->rpool)) < 0)
		return error;
	error = db_wal_sync(db);
	db_pool_put(&t->rpool, db);
	return error;
}

uint64_t inode_count(struct inode_table *t)
{
	return atomic_load(&t->count);
}
