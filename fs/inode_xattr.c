/*
 * inode_xattr.c - extended attributes of the inode table (inode.h): one
 * row per (inode, name) in fs_xattrs.
 *
 * Only what fsops.c lets through arrives here (user.* names; our virtual
 * user.estuary.* names are answered before).  Values are bytes, up to
 * INODE_XATTR_VALUE_MAX; set, remove and the inode's ctime change in one
 * transaction.
 */
#include "fs/inode.h"

#include <inttypes.h>
#include <string.h>

#include "core/clock.h"
#include "core/error.h"
#include "fs/errmap.h"
#include "fs/inode_i.h"

#include "core/banned.h"

static int name_check(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > INODE_XATTR_NAME_MAX)
		return efs_error_set(FS_ERANGE, "inode: xattr name of %zu "
						"bytes", n);
	return 0;
}

/* ENOTFOUND unless ino exists (on db). */
static int exists(struct db *db, uint64_t ino)
{
	struct inode_attr a;

	return inode_row_get(&a, NULL, db, ino);
}

int inode_xattr_get(struct buf *out, struct inode_table *t, uint64_t ino,
		    const char *name)
{
	static const char sql[] =
		"SELECT value FROM fs_xattrs WHERE ino = ?1 AND name = ?2";
	sqlite3_stmt *st;
	struct db *db;
	int error;

	if ((error = name_check(name)) < 0)
		return error;
	if ((error = db_pool_get(&db, &t->rpool)) < 0)
		return error;
	if ((error = db_stmt(&st, db, sql)) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, (int64_t)ino);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	error = db_step(db, st);
	if (error > 0)
		error = buf_add(out, sqlite3_column_blob(st, 0),
				(size_t)sqlite3_column_bytes(st, 0));
	else if (error == 0 && (error = exists(db, ino)) == 0)
		error = efs_error_set(FS_ENODATA, "inode: no xattr '%s'", name);
	db_reset(st);
out:
	db_pool_put(&t->rpool, db);
	return error;
}

int inode_xattr_list(struct buf *out, struct inode_table *t, uint64_t ino)
{
	static const char sql[] =
		"SELECT name FROM fs_xattrs WHERE ino = ?1 ORDER BY name";
	sqlite3_stmt *st;
	struct db *db;
	int error;

	if ((error = db_pool_get(&db, &t->rpool)) < 0)
		return error;
	if ((error = exists(db, ino)) < 0)
		goto out;
	if ((error = db_stmt(&st, db, sql)) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, (int64_t)ino);
	while ((error = db_step(db, st)) > 0) {
		/* the NUL after each name comes with it */
		error = buf_add(out, sqlite3_column_text(st, 0),
				(size_t)sqlite3_column_bytes(st, 0) + 1);
		if (error < 0)
			break;
	}
	db_reset(st);
out:
	db_pool_put(&t->rpool, db);
	return error;
}

/* Does ino have name? (wmu held) */
static int has_xattr(bool *out, struct inode_table *t, uint64_t ino,
		     const char *name)
{
	static const char sql[] =
		"SELECT 1 FROM fs_xattrs WHERE ino = ?1 AND name = ?2";
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, t->wdb, sql)) < 0)
		return error;
	sqlite3_bind_int64(st, 1, (int64_t)ino);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	error = db_step(t->wdb, st);
	db_reset(st);
	*out = error > 0;
	return error < 0 ? error : 0;
}

static int ctime_set(struct inode_table *t, uint64_t ino)
{
	int64_t v[2] = { (int64_t)ino, efs_clock_real_ns() };

	return inode_run_ints(t, "UPDATE fs_inodes SET ctime = ?2"
			      " WHERE ino = ?1", v, 2);
}

static int set_locked(struct inode_table *t, uint64_t ino, const char *name,
		      const void *value, size_t len, unsigned flags)
{
	static const char sql[] =
		"INSERT OR REPLACE INTO fs_xattrs VALUES (?1, ?2, ?3)";
	sqlite3_stmt *st;
	bool has;
	int error;

	if ((error = exists(t->wdb, ino)) < 0)
		return error;
	if ((error = has_xattr(&has, t, ino, name)) < 0)
		return error;
	if (has && (flags & INODE_XATTR_CREATE))
		return efs_error_set(EFS_EEXISTS, "inode: xattr '%s' exists",
				     name);
	if (!has && (flags & INODE_XATTR_REPLACE))
		return efs_error_set(FS_ENODATA, "inode: no xattr '%s'", name);
	if ((error = db_stmt(&st, t->wdb, sql)) < 0)
		return error;
	sqlite3_bind_int64(st, 1, (int64_t)ino);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, len ? value : "", (int)len, SQLITE_STATIC);
	if ((error = db_run(t->wdb, st)) < 0)
		return error;
	return ctime_set(t, ino);
}

int inode_xattr_set(struct inode_table *t, uint64_t ino, const char *name,
		    const void *value, size_t len, unsigned flags)
{
	int error;

	if ((error = name_check(name)) < 0)
		return error;
	if (len > INODE_XATTR_VALUE_MAX)
		return efs_error_set(EFS_ETOOBIG, "inode: xattr value of %zu "
						  "bytes", len);
	if ((error = inode_wbegin(t, false)) < 0)
		return error;
	return inode_wend(t, set_locked(t, ino, name, value, len, flags));
}

static int remove_locked(struct inode_table *t, uint64_t ino,
			 const char *name)
{
	static const char sql[] =
		"DELETE FROM fs_xattrs WHERE ino = ?1 AND name = ?2";
	sqlite3_stmt *st;
	int error;

	if ((error = exists(t->wdb, ino)) < 0)
		return error;
	if ((error = db_stmt(&st, t->wdb, sql)) < 0)
		return error;
	sqlite3_bind_int64(st, 1, (int64_t)ino);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if ((error = db_run(t->wdb, st)) < 0)
		return error;
	if (sqlite3_changes(db_handle(t->wdb)) == 0)
		return efs_error_set(FS_ENODATA, "inode: no xattr '%s'", name);
	return ctime_set(t, ino);
}

int inode_xattr_remove(struct inode_table *t, uint64_t ino, const char *name)
{
	int error;

	if ((error = name_check(name)) < 0)
		return error;
	if ((error = inode_wbegin(t, false)) < 0)
		return error;
	return inode_wend(t, remove_locked(t, ino, name));
}
