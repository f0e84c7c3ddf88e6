/*
 * inode_dir.c - directories in the inode table (inode.h): listings with
 * stable cookies, parents and paths, and the directory CID caches with
 * their versions (invariant 7 of inode.c).
 */
#include "fs/inode.h"

#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "fs/errmap.h"
#include "fs/inode_i.h"

#include "core/banned.h"

int inode_dir_invalidate(struct inode_table *t, uint64_t dir)
{
	static const char sql[] =
		"UPDATE fs_inodes SET root = NULL, tsize = 0,"
		" dirver = dirver + 1 WHERE ino = ?1";
	struct inode_content c;
	struct inode_attr a;
	int error;

	for (;;) {
		int64_t v = (int64_t)dir;

		if ((error = inode_row_get(&a, &c, t->wdb, dir)) < 0)
			return error;
		if ((error = inode_run_ints(t, sql, &v, 1)) < 0)
			return error;
		if (!c.has_root || dir == INODE_ROOT)
			return 0;
		if ((error = inode_parent_get(&dir, t->wdb, dir)) < 0)
			return error;
	}
}

int inode_parents_invalidate(struct inode_table *t, uint64_t ino)
{
	static const char sql[] =
		"SELECT DISTINCT parent FROM fs_dentries WHERE ino = ?1";
	struct buf dirs = BUF_INIT(BUF_NOCAP);
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, t->wdb, sql)) < 0)
		return error;
	sqlite3_bind_int64(st, 1, (int64_t)ino);
	while ((error = db_step(t->wdb, st)) > 0) {
		uint64_t p = (uint64_t)sqlite3_column_int64(st, 0);

		if ((error = buf_add(&dirs, &p, sizeof(p))) < 0)
			break;
	}
	db_reset(st);
	for (size_t i = 0; error == 0 && i < dirs.len / sizeof(uint64_t);
	     i++) {
		uint64_t p;

		memcpy(&p, dirs.ptr + i * sizeof(p), sizeof(p));
		error = inode_dir_invalidate(t, p);
	}
	buf_release(&dirs);
	return error;
}

int inode_parent(uint64_t *out, struct inode_table *t, uint64_t dir)
{
	struct db *db;
	int error;

	if ((error = db_pool_get(&db, &t->rpool)) < 0)
		return error;
	error = inode_parent_get(out, db, dir);
	db_pool_put(&t->rpool, db);
	return error;
}

/* The entry naming directory dir: its parent and name (read txn). */
static int name_of(uint64_t *parent_out, struct buf *name, struct db *db,
		   uint64_t dir)
{
	static const char sql[] = "SELECT parent, name FROM fs_dentries"
				  " WHERE ino = ?1 LIMIT 1";
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, db, sql)) < 0)
		return error;
	sqlite3_bind_int64(st, 1, (int64_t)dir);
	error = db_step(db, st);
	if (error > 0) {
		*parent_out = (uint64_t)sqlite3_column_int64(st, 0);
		error = buf_add(name, sqlite3_column_blob(st, 1),
				(size_t)sqlite3_column_bytes(st, 1));
	} else if (error == 0) {
		error = efs_error_set(EFS_ENOTFOUND, "inode: directory %" PRIu64
						     " has no entry", dir);
	}
	db_reset(st);
	return error;
}

/* The path from the components collected leaf first, '\0'-separated. */
static int path_reverse(struct buf *out, const struct buf *parts)
{
	size_t end = parts->len;
	int error = 0;

	if (end == 0)
		return buf_addch(out, '/');
	while (end > 0 && error == 0) {
		size_t start = end - 1;

		while (start > 0 && parts->ptr[start - 1] != '\0')
			start--;
		if ((error = buf_addch(out, '/')) == 0)
			error = buf_add(out, parts->ptr + start,
					end - 1 - start);
		end = start;
	}
	return error;
}

int inode_path(struct buf *out, struct inode_table *t, uint64_t dir)
{
	struct buf parts = BUF_INIT(BUF_NOCAP);
	struct db *db;
	int depth = 0;
	int error;

	if ((error = db_pool_get(&db, &t->rpool)) < 0)
		return error;
	if ((error = db_begin_read(db)) < 0)
		goto out;
	while (dir != INODE_ROOT && error == 0) {
		if (++depth > 4096)
			error = efs_error_set(EFS_ECORRUPT,
					      "inode: directory loop");
		else if ((error = name_of(&dir, &parts, db, dir)) == 0)
			error = buf_addch(&parts, '\0');
	}
	db_rollback(db);
	if (error == 0)
		error = path_reverse(out, &parts);
out:
	db_pool_put(&t->rpool, db);
	buf_release(&parts);
	return error;
}

/* ---- listings ------------------------------------------------------ */

#define DIRENT_SQL                                               \
	"SELECT d.id, d.name, " INODE_COLS " FROM fs_dentries d" \
	" JOIN fs_inodes i ON i.ino = d.ino WHERE d.parent = ?1"

/* Call cb for each row of st (a DIRENT_SQL statement). */
static int dirents_walk(struct inode_table *t, struct db *db,
			sqlite3_stmt *st, inode_dir_cb cb, void *payload)
{
	char name[INODE_NAME_MAX + 1];
	struct inode_dirent e;
	int error;

	while ((error = db_step(db, st)) > 0) {
		size_t n = (size_t)sqlite3_column_bytes(st, 1);

		if (n == 0 || n > INODE_NAME_MAX) {
			error = efs_error_set(EFS_ECORRUPT, "inode: entry "
					      "name of %zu bytes", n);
			break;
		}
		memcpy(name, sqlite3_column_blob(st, 1), n);
		name[n] = '\0';
		e.name = name;
		e.name_len = n;
		e.cookie = (uint64_t)sqlite3_column_int64(st, 0) + 2;
		if ((error = inode_row_read(&e.attr, &e.content, st, 2)) < 0)
			break;
		inode_live_overlay(t, &e.attr);
		if ((error = cb(&e, payload)) != 0)
			break;
	}
	db_reset(st);
	return error > 0 ? 0 : error;
}

int inode_readdir(struct inode_table *t, uint64_t dir, uint64_t cookie,
		  inode_dir_cb cb, void *payload)
{
	static const char sql[] = DIRENT_SQL " AND d.id > ?2 ORDER BY d.id";
	struct inode_attr a;
	sqlite3_stmt *st;
	struct db *db;
	int error;

	if ((error = db_pool_get(&db, &t->rpool)) < 0)
		return error;
	if ((error = inode_dir_get(&a, NULL, db, dir)) < 0)
		goto out;
	if ((error = db_stmt(&st, db, sql)) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, (int64_t)dir);
	sqlite3_bind_int64(st, 2, cookie > 2 ? (int64_t)(cookie - 2) : 0);
	error = dirents_walk(t, db, st, cb, payload);
out:
	db_pool_put(&t->rpool, db);
	return error;
}

/* ---- directory CID caches ------------------------------------------ */

/* Directory dir's cached CID and its version, in one read of its row. */
static int dircid_read(struct inode_content *out, uint64_t *ver_out,
		       struct db *db, uint64_t dir)
{
	static const char sql[] = "SELECT " INODE_COLS ", i.dirver"
				  " FROM fs_inodes i WHERE i.ino = ?1";
	struct inode_attr a;
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, db, sql)) < 0)
		return error;
	if ((error = inode_step_ino(db, st, dir)) > 0 &&
	    (error = inode_row_read(&a, out, st, 0)) == 0)
		*ver_out = (uint64_t)sqlite3_column_int64(st, INODE_NCOLS);
	db_reset(st);
	if (error == 0 && !S_ISDIR(a.mode))
		error = efs_error_set(FS_ENOTDIR, "inode: %" PRIu64
						  " is not a directory", dir);
	return error;
}

int inode_dircid_get(struct inode_content *out, uint64_t *ver_out,
		     struct inode_table *t, uint64_t dir)
{
	struct db *db;
	int error;

	if ((error = db_pool_get(&db, &t->rpool)) < 0)
		return error;
	error = dircid_read(out, ver_out, db, dir);
	db_pool_put(&t->rpool, db);
	return error;
}

int inode_dircid_set(bool *stored_out, struct inode_table *t, uint64_t dir,
		     uint64_t ver, const struct cid *root, uint64_t tsize)
{
	static const char sql[] =
		"UPDATE fs_inodes SET root = ?3, tsize = ?4"
		" WHERE ino = ?1 AND dirver = ?2";
	uint8_t bytes[CID_BYTES_MAX];
	sqlite3_stmt *st;
	int error;

	*stored_out = false;
	if ((error = inode_wbegin(t, false)) < 0)
		return error;
	if ((error = db_stmt(&st, t->wdb, sql)) < 0)
		goto fail;
	sqlite3_bind_int64(st, 1, (int64_t)dir);
	sqlite3_bind_int64(st, 2, (int64_t)ver);
	sqlite3_bind_blob(st, 3, bytes, (int)cid_to_bytes(bytes, root),
			  SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (int64_t)tsize);
	if ((error = db_run(t->wdb, st)) < 0)
		goto fail;
	*stored_out = sqlite3_changes(db_handle(t->wdb)) > 0;
	return inode_wcommit(t);
fail:
	inode_wrollback(t);
	return error;
}

int inode_dir_snapshot(uint64_t *ver_out, struct inode_table *t, uint64_t dir,
		       inode_dir_cb cb, void *payload)
{
	static const char sql[] = DIRENT_SQL " ORDER BY d.id";
	struct inode_content c;
	sqlite3_stmt *st;
	struct db *db;
	int error;

	if ((error = db_pool_get(&db, &t->rpool)) < 0)
		return error;
	if ((error = db_begin_read(db)) < 0)
		goto out;
	if ((error = dircid_read(&c, ver_out, db, dir)) < 0)
		goto out_txn;
	if ((error = db_stmt(&st, db, sql)) < 0)
		goto out_txn;
	sqlite3_bind_int64(st, 1, (int64_t)dir);
	error = dirents_walk(t, db, st, cb, payload);
out_txn:
	if (error == 0)
		error = db_commit(db);
	else
		db_rollback(db);
out:
	db_pool_put(&t->rpool, db);
	return error;
}
