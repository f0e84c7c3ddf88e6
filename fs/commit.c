/*
 * commit.c - commits of directories (commit.h).
 *
 * Table fs_commits (module "fs_commits" of index.db): id, ino, path, root
 * (binary CID), time (ns), size, files, dirs, pin (the blockstore pin of
 * root, named "fscommit").
 *
 * Invariants:
 * 1. Every row's root is pinned by the pin it names: a commit runs
 *    dircid (blocks put), bstore_sync (durable), bstore_pin, then the row
 *    insert (synchronous=FULL).  A crash before the insert leaves a
 *    "fscommit" pin that no row names: commit_open drops it.  A row whose
 *    pin is gone is pinned again at open.
 * 2. Rows are never updated or deleted here: a commit is immutable (the
 *    dealer and a future `estuaryfs uncommit` own their fate).
 * 3. Commits run one at a time (mu); the latest commit of a directory is
 *    read on a separate connection (rmu), so reading it never waits for
 *    a commit being built.
 */
#define LOG_TOPIC "commit"

#include "fs/commit.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/bstore.h"
#include "core/clock.h"
#include "core/db.h"
#include "core/error.h"
#include "core/log.h"
#include "fs/dircid.h"
#include "fs/errmap.h"
#include "fs/inode.h"

#include "core/banned.h"

#define PIN_NAME "fscommit"

static const char *const schema[] = {
	/* 0 -> 1 */
	"CREATE TABLE fs_commits ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" ino INTEGER NOT NULL,"
	" path TEXT NOT NULL,"
	" root BLOB NOT NULL,"
	" time INTEGER NOT NULL,"
	" size INTEGER NOT NULL,"
	" files INTEGER NOT NULL,"
	" dirs INTEGER NOT NULL,"
	" pin INTEGER NOT NULL);"
	"CREATE INDEX fs_commits_ino ON fs_commits(ino, id);",
};

#define COMMIT_COLS "id, ino, path, root, time, size, files, dirs"

/* A directory auto-commit watches. */
struct watch {
	uint64_t ino;
	uint64_t ver;          /* its cache version when last seen */
	int64_t changed;       /* when ver last moved (seconds, monotonic) */
	uint64_t committed;    /* ver at its last auto-commit, +1 (0: none) */
};

struct commit_state {
	struct inode_table *t;
	struct bstore *bs;
	const struct importer_opts *iopts;
	char *db_path;

	pthread_mutex_t mu;    /* one commit at a time; guards wdb */
	struct db *wdb;
	pthread_mutex_t rmu;   /* guards rdb */
	struct db *rdb;

	/* auto-commit (amu) */
	pthread_mutex_t amu;
	pthread_cond_t acond;
	pthread_t athread;
	bool arunning;
	bool astop;
	unsigned idle;
	struct watch *watches;
	size_t nwatches;
};

void commit_record_release(struct commit_record *r)
{
	if (!r)
		return;
	efs_free(r->path);
	r->path = NULL;
}

/* A JSON string: escapes quotes, backslashes and control bytes. */
static int json_str(struct buf *out, const char *s)
{
	int error = buf_addch(out, '"');

	for (; error == 0 && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			error = buf_printf(out, "\\%c", c);
		else if (c < 0x20)
			error = buf_printf(out, "\\u%04x", c);
		else
			error = buf_addch(out, c);
	}
	return error ? error : buf_addch(out, '"');
}

int commit_record_json(struct buf *out, const struct commit_record *r)
{
	char cid[CID_STR_MAX];
	char when[32];
	int error;

	efs_clock_format(when, sizeof(when), r->time_ns, "%Y-%m-%dT%H:%M:%S");
	error = buf_printf(out, "{\"id\":%" PRId64 ",\"cid\":\"%s\",\"path\":",
			   r->id, cid_tostr(cid, &r->root));
	if (error == 0)
		error = json_str(out, r->path ? r->path : "");
	if (error == 0)
		error = buf_printf(out, ",\"time\":\"%s.%09" PRId64 "Z\","
				   "\"size\":%" PRIu64 ",\"files\":%" PRIu64
				   ",\"dirs\":%" PRIu64 "}",
				   when, r->time_ns % 1000000000, r->size,
				   r->files, r->dirs);
	return error;
}

/* Read a COMMIT_COLS row into out. */
static int row_read(struct commit_record *out, sqlite3_stmt *st)
{
	const char *path = (const char *)sqlite3_column_text(st, 2);
	int error;

	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(st, 0);
	out->ino = (uint64_t)sqlite3_column_int64(st, 1);
	error = cid_from_bytes_exact(&out->root, sqlite3_column_blob(st, 3),
				     (size_t)sqlite3_column_bytes(st, 3));
	if (error < 0)
		return efs_error_set(EFS_ECORRUPT, "commit: bad root in commit "
						   "%" PRId64, out->id);
	out->time_ns = sqlite3_column_int64(st, 4);
	out->size = (uint64_t)sqlite3_column_int64(st, 5);
	out->files = (uint64_t)sqlite3_column_int64(st, 6);
	out->dirs = (uint64_t)sqlite3_column_int64(st, 7);
	if (!(out->path = efs_strdup(path ? path : "")))
		return efs_error_set(EFS_ENOMEM, "commit: out of memory");
	return 0;
}

/* ---- pins at open (invariant 1) ------------------------------------ */

struct pinscan {
	struct commit_state *cs;
	struct buf stale;      /* pin ids no row names */
};

static int pin_check(const struct bstore_pin *pin, void *payload)
{
	struct pinscan *ps = payload;
	int64_t one;
	int error;

	if (strcmp(pin->name, PIN_NAME) != 0)
		return 0;
	error = db_query_int(&one, ps->cs->wdb, "SELECT 1 FROM fs_commits"
			     " WHERE pin = ?1", &pin->id, 1);
	if (error == 0)
		error = buf_add(&ps->stale, &pin->id, sizeof(pin->id));
	return error < 0 ? error : 0;
}

static int pins_reconcile(struct commit_state *cs)
{
	struct pinscan ps = { cs, BUF_INIT(BUF_NOCAP) };
	int error;

	if ((error = bstore_pins_foreach(cs->bs, pin_check, &ps)) < 0)
		goto out;
	for (size_t i = 0; i < ps.stale.len / sizeof(int64_t); i++) {
		int64_t id;

		memcpy(&id, ps.stale.ptr + i * sizeof(id), sizeof(id));
		if ((error = bstore_unpin(cs->bs, id)) < 0 &&
		    error != EFS_ENOTFOUND)
			goto out;
		efs_log_notice("dropped the pin of an unfinished commit");
	}
	error = 0;
out:
	buf_release(&ps.stale);
	return error;
}

/* ---- open and close ------------------------------------------------ */

int commit_open(struct commit_state **out, const char *db_path,
		struct inode_table *t, struct bstore *bs,
		const struct importer_opts *iopts)
{
	struct commit_state *cs;
	int version;
	int error;

	*out = NULL;
	if (!(cs = efs_calloc(1, sizeof(*cs))))
		return efs_error_set(EFS_ENOMEM, "commit: out of memory");
	cs->t = t;
	cs->bs = bs;
	cs->iopts = iopts;
	pthread_mutex_init(&cs->mu, NULL);
	pthread_mutex_init(&cs->rmu, NULL);
	pthread_mutex_init(&cs->amu, NULL);
	pthread_cond_init(&cs->acond, NULL);
	if (!(cs->db_path = efs_strdup(db_path))) {
		error = efs_error_set(EFS_ENOMEM, "commit: out of memory");
		goto fail;
	}
	if ((error = db_open(&cs->wdb, db_path, DB_OPEN_CREATE)) < 0 ||
	    (error = db_schema_version(&version, cs->wdb, "fs_commits")) < 0 ||
	    (error = db_migrate(cs->wdb, NULL, "fs_commits", schema,
				sizeof(schema) / sizeof(schema[0]))) < 0 ||
	    (error = db_open(&cs->rdb, db_path, DB_OPEN_QUERY_ONLY)) < 0 ||
	    (error = pins_reconcile(cs)) < 0)
		goto fail;
	*out = cs;
	return 0;
fail:
	commit_close(cs);
	return error;
}

void commit_close(struct commit_state *cs)
{
	if (!cs)
		return;
	if (cs->arunning) {
		pthread_mutex_lock(&cs->amu);
		cs->astop = true;
		pthread_cond_signal(&cs->acond);
		pthread_mutex_unlock(&cs->amu);
		pthread_join(cs->athread, NULL);
	}
	db_close(cs->wdb);
	db_close(cs->rdb);
	efs_free(cs->watches);
	efs_free(cs->db_path);
	pthread_mutex_destroy(&cs->mu);
	pthread_mutex_destroy(&cs->rmu);
	pthread_mutex_destroy(&cs->amu);
	pthread_cond_destroy(&cs->acond);
	efs_free(cs);
}

/* ---- queries ------------------------------------------------------- */

static int last_on(struct commit_record *out, struct db *db, uint64_t dir)
{
	static const char sql[] = "SELECT " COMMIT_COLS " FROM fs_commits"
				  " WHERE ino = ?1 ORDER BY id DESC LIMIT 1";
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, db, sql)) < 0)
		return error;
	sqlite3_bind_int64(st, 1, (int64_t)dir);
	error = db_step(db, st);
	if (error > 0)
		error = row_read(out, st);
	else if (error == 0)
		error = efs_error_set(EFS_ENOTFOUND, "commit: directory "
				      "%" PRIu64 " was never committed", dir);
	db_reset(st);
	return error;
}

int commit_last(struct commit_record *out, struct commit_state *cs,
		uint64_t dir)
{
	int error;

	pthread_mutex_lock(&cs->rmu);
	error = last_on(out, cs->rdb, dir);
	pthread_mutex_unlock(&cs->rmu);
	return error;
}

static int list_on(struct db *db, int64_t after, commit_cb cb,
		   void *payload)
{
	static const char sql[] = "SELECT " COMMIT_COLS " FROM fs_commits"
				  " WHERE id > ?1 ORDER BY id";
	struct commit_record r;
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, db, sql)) < 0)
		return error;
	sqlite3_bind_int64(st, 1, after);
	while ((error = db_step(db, st)) > 0) {
		if ((error = row_read(&r, st)) == 0)
			error = cb(&r, payload);
		commit_record_release(&r);
		if (error != 0)
			break;
	}
	db_reset(st);
	return error;
}

int commit_list(const char *db_path, commit_cb cb, void *payload)
{
	return commit_list_since(db_path, 0, cb, payload);
}

int commit_list_since(const char *db_path, int64_t after, commit_cb cb,
		      void *payload)
{
	struct db *db;
	int version;
	int error;

	if (access(db_path, F_OK) < 0 && errno == ENOENT)
		return 0; /* no repository yet: no commits */
	if ((error = db_open(&db, db_path, DB_OPEN_QUERY_ONLY)) < 0)
		return error;
	error = db_schema_version(&version, db, "fs_commits");
	if (error == 0 && version > 0)
		error = list_on(db, after, cb, payload);
	db_close(db);
	return error;
}

/* ---- committing ---------------------------------------------------- */

struct tally {
	uint64_t size;
	uint64_t files;
	uint64_t dirs;
	struct buf subdirs;    /* uint64_t inos still to walk */
};

static int tally_cb(const struct inode_dirent *e, void *payload)
{
	struct tally *tl = payload;

	if (S_ISDIR(e->attr.mode))
		return buf_add(&tl->subdirs, &e->attr.ino, sizeof(uint64_t));
	if (S_ISREG(e->attr.mode)) {
		tl->files++;
		tl->size += e->content.size;
	} else if (S_ISLNK(e->attr.mode)) {
		tl->files++;
	}
	return 0;
}

/* Size and counts of the tree at dir (what its DAG holds). */
static int tally_tree(struct tally *tl, struct inode_table *t, uint64_t dir)
{
	uint64_t ver;
	int error;

	if ((error = buf_add(&tl->subdirs, &dir, sizeof(dir))) < 0)
		return error;
	while (tl->subdirs.len > 0) {
		uint64_t d;

		tl->subdirs.len -= sizeof(d);
		memcpy(&d, tl->subdirs.ptr + tl->subdirs.len, sizeof(d));
		tl->dirs++;
		if ((error = inode_dir_snapshot(&ver, t, d, tally_cb, tl)) < 0)
			return error;
	}
	return 0;
}

/* Record a new commit of dir at root, pinned (mu held). */
static int record(struct commit_record *out, struct commit_state *cs,
		  uint64_t dir, const struct cid *root)
{
	static const char sql[] =
		"INSERT INTO fs_commits(ino, path, root, time, size, files,"
		" dirs, pin) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
	struct tally tl = { .subdirs = BUF_INIT(BUF_NOCAP) };
	struct buf path = BUF_INIT(BUF_NOCAP);
	uint8_t bytes[CID_BYTES_MAX];
	int64_t now = efs_clock_real_ns();
	sqlite3_stmt *st;
	int64_t pin = 0;
	int error;

	if ((error = tally_tree(&tl, cs->t, dir)) < 0 ||
	    (error = inode_path(&path, cs->t, dir)) < 0 ||
	    (error = bstore_sync(cs->bs)) < 0 ||
	    (error = bstore_pin(&pin, cs->bs, root, PIN_NAME)) < 0)
		goto out;
	if ((error = db_stmt(&st, cs->wdb, sql)) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, (int64_t)dir);
	sqlite3_bind_text(st, 2, (const char *)path.ptr, (int)path.len,
			  SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, bytes, (int)cid_to_bytes(bytes, root),
			  SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, (int64_t)tl.size);
	sqlite3_bind_int64(st, 6, (int64_t)tl.files);
	sqlite3_bind_int64(st, 7, (int64_t)tl.dirs);
	sqlite3_bind_int64(st, 8, pin);
	if ((error = db_run(cs->wdb, st)) < 0)
		goto out;
	pin = 0;
	error = last_on(out, cs->wdb, dir);
out:
	if (pin > 0)
		bstore_unpin(cs->bs, pin);
	buf_release(&tl.subdirs);
	buf_release(&path);
	return error;
}

int commit_dir(struct commit_record *out, bool *created_out,
	       struct commit_state *cs, uint64_t dir)
{
	struct dircid_env env = { cs->t, cs->bs, cs->iopts };
	struct inode_attr a;
	struct cid root;
	int error;

	*created_out = false;
	memset(out, 0, sizeof(*out));
	if ((error = inode_getattr(&a, cs->t, dir)) < 0)
		return error;
	if (!S_ISDIR(a.mode))
		return efs_error_set(FS_ENOTDIR, "commit: %" PRIu64
						 " is not a directory", dir);
	pthread_mutex_lock(&cs->mu);
	if ((error = dircid_inode(&root, NULL, &env, dir)) < 0)
		goto out;
	error = last_on(out, cs->wdb, dir);
	if (error == 0 && cid_equal(&out->root, &root))
		goto out; /* unchanged: that commit stands */
	if (error < 0 && error != EFS_ENOTFOUND)
		goto out;
	efs_error_clear();
	commit_record_release(out);
	if ((error = record(out, cs, dir, &root)) == 0)
		*created_out = true;
out:
	pthread_mutex_unlock(&cs->mu);
	return error;
}

/* ---- auto-commit --------------------------------------------------- */

/* The watch of ino, added when new (amu held); NULL on ENOMEM. */
static struct watch *watch_get(struct commit_state *cs, uint64_t ino)
{
	struct watch *w;

	for (size_t i = 0; i < cs->nwatches; i++)
		if (cs->watches[i].ino == ino)
			return &cs->watches[i];
	w = efs_reallocarray(cs->watches, cs->nwatches + 1, sizeof(*w));
	if (!w)
		return NULL;
	cs->watches = w;
	w = &cs->watches[cs->nwatches++];
	memset(w, 0, sizeof(*w));
	w->ino = ino;
	w->changed = efs_clock_mono_sec();
	return w;
}

static int watch_add_cb(const struct commit_record *r, void *payload)
{
	return watch_get(payload, r->ino) ? 0 : EFS_ENOMEM;
}

/* Commit w's directory if it changed and has been idle long enough. */
static void watch_check(struct commit_state *cs, struct watch *w)
{
	struct commit_record r;
	struct inode_content c;
	char s[CID_STR_MAX];
	uint64_t ver;
	bool created;

	if (inode_dircid_get(&c, &ver, cs->t, w->ino) < 0) {
		efs_error_clear(); /* removed, or not a directory any more */
		return;
	}
	if (ver != w->ver) {
		w->ver = ver;
		w->changed = efs_clock_mono_sec();
		return;
	}
	if (w->committed == ver + 1 ||
	    efs_clock_mono_sec() - w->changed < cs->idle)
		return;
	if (commit_dir(&r, &created, cs, w->ino) < 0) {
		efs_log_warn("auto-commit of directory %" PRIu64 ": %s", w->ino,
			     efs_error_msg());
		/* try again after another wait */
		w->changed = efs_clock_mono_sec();
		return;
	}
	if (created)
		efs_log_notice("auto-commit %s: %s", r.path,
			       cid_tostr(s, &r.root));
	commit_record_release(&r);
	/* the commit cached CIDs, which does not move the version */
	w->committed = ver + 1;
}

static void auto_round(struct commit_state *cs)
{
	pthread_mutex_lock(&cs->rmu);
	if (!watch_get(cs, INODE_ROOT) ||
	    list_on(cs->rdb, 0, watch_add_cb, cs) < 0)
		efs_log_warn("auto-commit: %s", efs_error_msg());
	pthread_mutex_unlock(&cs->rmu);
	for (size_t i = 0; i < cs->nwatches; i++)
		watch_check(cs, &cs->watches[i]);
}

static void *auto_main(void *arg)
{
	struct commit_state *cs = arg;
	unsigned step = cs->idle < 5 ? cs->idle : 5;
	struct timespec until;

	pthread_setname_np(pthread_self(), "efs-autocommit");
	pthread_mutex_lock(&cs->amu);
	while (!cs->astop) {
		efs_clock_deadline(&until, CLOCK_REALTIME, step * 1000ull);
		pthread_cond_timedwait(&cs->acond, &cs->amu, &until);
		if (cs->astop)
			break;
		pthread_mutex_unlock(&cs->amu);
		auto_round(cs);
		pthread_mutex_lock(&cs->amu);
	}
	pthread_mutex_unlock(&cs->amu);
	return NULL;
}

int commit_auto_start(struct commit_state *cs, unsigned idle_seconds)
{
	int rc;

	if (idle_seconds == 0)
		return efs_error_set(EFS_EINVAL, "commit: auto-commit after 0 "
						 "seconds");
	cs->idle = idle_seconds;
	if ((rc = pthread_create(&cs->athread, NULL, auto_main, cs)) != 0)
		return efs_error_set_errno(EFS_EIO, rc, "commit: thread");
	cs->arunning = true;
	return 0;
}
