/*
 * inode_ns.c - the namespace of the inode table (inode.h): lookup,
 * create, link, unlink, rename, readlink, and the helpers the other
 * inode files share (inode_i.h).
 *
 * Each operation is one write transaction on the table's writer
 * connection (inode_i.h); the checks POSIX asks for (ENOTDIR, EISDIR,
 * ENOTEMPTY, EMLINK ...) are made inside it, so they see the state the
 * change applies to.  Permission checks are the kernel's
 * (default_permissions), sticky directories included.
 *
 * The cost of an operation is mostly the pages its commit writes to the
 * WAL, then its statements: an entry is read with its directory and the
 * inode it names in one query (side_load), whose rows the rest of the
 * transaction trusts (a victim's link count is not read again), and an
 * update sets only the columns that change (an index whose column is
 * set is rewritten even when the value stays).
 *
 * A directory that changes gets a new mtime and ctime, and its cached CID
 * is invalidated with its ancestors' (invariant 7 of inode.c): the
 * update that sets the times also clears the cache and bumps the version,
 * and the walk goes up only when something was cached.
 */
#include "fs/inode.h"

#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "fs/errmap.h"
#include "fs/inode_i.h"

#include "core/banned.h"

int inode_name_check(const char *name)
{
	size_t n = strlen(name);

	if (n > INODE_NAME_MAX)
		return efs_error_set(FS_ENAMETOOLONG,
				     "inode: name of %zu bytes", n);
	if (n == 0 || strchr(name, '/') || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return efs_error_set(EFS_EINVAL, "inode: bad name '%s'", name);
	return 0;
}

static void bind_name(sqlite3_stmt *st, int col, const char *name)
{
	sqlite3_bind_blob(st, col, name, (int)strlen(name), SQLITE_STATIC);
}

int inode_parent_get(uint64_t *out, struct db *db, uint64_t dir)
{
	static const char sql[] =
		"SELECT parent FROM fs_dentries WHERE ino = ?1 LIMIT 1";
	sqlite3_stmt *st;
	int error;

	*out = INODE_ROOT;
	if (dir == INODE_ROOT)
		return 0;
	if ((error = db_stmt(&st, db, sql)) < 0)
		return error;
	sqlite3_bind_int64(st, 1, (int64_t)dir);
	error = db_step(db, st);
	if (error > 0)
		*out = (uint64_t)sqlite3_column_int64(st, 0);
	else if (error == 0)
		error = efs_error_set(EFS_ENOTFOUND, "inode: directory %" PRIu64
						     " has no parent", dir);
	db_reset(st);
	return error < 0 ? error : 0;
}

int inode_dir_get(struct inode_attr *out, struct inode_content *content,
		  struct db *db, uint64_t dir)
{
	int error;

	if ((error = inode_row_get(out, content, db, dir)) < 0)
		return error;
	if (!S_ISDIR(out->mode))
		return efs_error_set(FS_ENOTDIR, "inode: %" PRIu64
						 " is not a directory", dir);
	return 0;
}

int inode_run_ints(struct inode_table *t, const char *sql, const int64_t *v,
		   int n)
{
	return db_run_ints(t->wdb, sql, v, (size_t)n);
}

/*
 * A directory changed (wmu held): new mtime and ctime, nlink by dnlink,
 * cache cleared with its ancestors'.  had_root: it had a cached CID.
 */
static int dir_touch(struct inode_table *t, uint64_t dir, bool had_root,
		     int64_t now, int dnlink)
{
	static const char sql[] =
		"UPDATE fs_inodes SET mtime = ?2, ctime = ?2,"
		" nlink = nlink + ?3, root = NULL, tsize = 0,"
		" dirver = dirver + 1 WHERE ino = ?1";
	int64_t v[3] = { (int64_t)dir, now, dnlink };
	uint64_t up;
	int error;

	if ((error = inode_run_ints(t, sql, v, 3)) < 0)
		return error;
	if (!had_root || dir == INODE_ROOT)
		return 0;
	if ((error = inode_parent_get(&up, t->wdb, dir)) < 0)
		return error;
	return inode_dir_invalidate(t, up);
}

/* nlink += dnlink (or = 0 when zero is set) and ctime = now. */
static int links_add(struct inode_table *t, uint64_t ino, int dnlink,
		     bool zero, int64_t now)
{
	static const char add[] = "UPDATE fs_inodes SET nlink = nlink + ?2,"
				  " ctime = ?3 WHERE ino = ?1";
	static const char clear[] = "UPDATE fs_inodes SET nlink = 0,"
				    " ctime = ?3 WHERE ino = ?1 AND ?2 = ?2";
	int64_t v[3] = { (int64_t)ino, dnlink, now };

	return inode_run_ints(t, zero ? clear : add, v, 3);
}

/* ---- entries ------------------------------------------------------ */

/* An entry name in directory dir, with the directory and what it names
 * (a side of a rename, the victim of an unlink, the place of a new
 * entry). */
struct side {
	uint64_t dir;
	const char *name;
	struct inode_attr d;      /* the directory */
	struct inode_content dc;
	int64_t id;               /* the entry, 0 when missing */
	struct inode_attr v;      /* what it names */
	int64_t pin;              /* v's content pin (0: none) */
};

/*
 * Load side s in one query (wmu held): the directory (EFS_ENOTFOUND,
 * FS_ENOTDIR), the entry (EFS_ENOTFOUND when need, else id 0) and the
 * row it names.
 */
static int side_load(struct side *s, struct inode_table *t, bool need)
{
	static const char sql[] =
		"SELECT " INODE_COLS_OF("p") ", d.id, " INODE_COLS ", i.pin"
		" FROM fs_inodes p LEFT JOIN fs_dentries d"
		" ON d.parent = p.ino AND d.name = ?2"
		" LEFT JOIN fs_inodes i ON i.ino = d.ino WHERE p.ino = ?1";
	const int cid = INODE_NCOLS, cv = INODE_NCOLS + 1;
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, t->wdb, sql)) < 0)
		return error;
	bind_name(st, 2, s->name);
	if ((error = inode_step_ino(t->wdb, st, s->dir)) < 0 ||
	    (error = inode_row_read(&s->d, &s->dc, st, 0)) < 0)
		goto out;
	s->id = sqlite3_column_int64(st, cid);
	if (!S_ISDIR(s->d.mode))
		error = efs_error_set(FS_ENOTDIR, "inode: %" PRIu64
						  " is not a directory",
				      s->dir);
	else if (!s->id && need)
		error = efs_error_set(EFS_ENOTFOUND, "inode: no entry '%s'",
				      s->name);
	else if (s->id && sqlite3_column_type(st, cv) == SQLITE_NULL)
		error = efs_error_set(EFS_ENOTFOUND, "inode: no inode %" PRIu64,
				      (uint64_t)sqlite3_column_int64(st, cid));
	else if (s->id && (error = inode_row_read(&s->v, NULL, st, cv)) == 0)
		s->pin = sqlite3_column_int64(st, cv + INODE_NCOLS);
out:
	db_reset(st);
	return error;
}

/* ---- lookup -------------------------------------------------------- */

int inode_lookup(struct inode_attr *out, struct inode_table *t,
		 uint64_t parent, const char *name)
{
	static const char sql[] =
		"SELECT " INODE_COLS " FROM fs_dentries d"
		" JOIN fs_inodes i ON i.ino = d.ino"
		" WHERE d.parent = ?1 AND d.name = ?2";
	struct inode_attr p;
	sqlite3_stmt *st;
	struct db *db;
	int error;

	if ((error = inode_name_check(name)) < 0)
		return error == EFS_EINVAL
			       ? efs_error_set(EFS_ENOTFOUND,
					       "inode: no entry '%s'", name)
			       : error;
	if ((error = db_pool_get(&db, &t->rpool)) < 0)
		return error;
	if ((error = db_stmt(&st, db, sql)) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, (int64_t)parent);
	bind_name(st, 2, name);
	error = db_step(db, st);
	if (error > 0 && (error = inode_row_read(out, NULL, st, 0)) == 0)
		inode_live_overlay(t, out);
	else if (error == 0 &&
		 (error = inode_dir_get(&p, NULL, db, parent)) == 0)
		/* missing, and not because parent is no directory */
		error = efs_error_set(EFS_ENOTFOUND, "inode: no entry '%s'",
				      name);
	db_reset(st);
out:
	db_pool_put(&t->rpool, db);
	return error;
}

/* ---- create and link ----------------------------------------------- */

int inode_new_check(const struct inode_new *n)
{
	switch (n->mode & S_IFMT) {
	case S_IFLNK:
		if (n->target_len == 0 || n->target_len > INODE_SYMLINK_MAX)
			return efs_error_set(EFS_EINVAL,
					     "inode: symlink target of %zu "
					     "bytes", n->target_len);
		return 0;
	case S_IFREG:
	case S_IFDIR:
	case S_IFIFO:
	case S_IFSOCK:
	case S_IFCHR:
	case S_IFBLK:
		return 0;
	default:
		return efs_error_set(EFS_EINVAL, "inode: bad mode %o",
				     n->mode);
	}
}

/* Insert the inode row of a, with a symlink's target (wmu held). */
static int row_insert(struct inode_attr *a, struct inode_table *t,
		      const struct inode_new *n)
{
	static const char sql[] =
		"INSERT INTO fs_inodes(mode, nlink, uid, gid, rdev, size,"
		" atime, mtime, ctime, target)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?7, ?8)";
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, t->wdb, sql)) < 0)
		return error;
	sqlite3_bind_int64(st, 1, a->mode);
	sqlite3_bind_int64(st, 2, a->nlink);
	sqlite3_bind_int64(st, 3, a->uid);
	sqlite3_bind_int64(st, 4, a->gid);
	sqlite3_bind_int64(st, 5, (int64_t)a->rdev);
	sqlite3_bind_int64(st, 6, (int64_t)a->size);
	sqlite3_bind_int64(st, 7, a->mtime_ns);
	if (S_ISLNK(a->mode))
		sqlite3_bind_blob(st, 8, n->target, (int)n->target_len,
				  SQLITE_STATIC);
	if ((error = db_run(t->wdb, st)) < 0)
		return error;
	a->ino = (uint64_t)sqlite3_last_insert_rowid(db_handle(t->wdb));
	return 0;
}

static int dentry_insert(struct inode_table *t, uint64_t parent,
			 const char *name, uint64_t ino)
{
	static const char sql[] = "INSERT INTO fs_dentries(parent, name, ino)"
				  " VALUES (?1, ?2, ?3)";
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, t->wdb, sql)) < 0)
		return error;
	sqlite3_bind_int64(st, 1, (int64_t)parent);
	bind_name(st, 2, name);
	sqlite3_bind_int64(st, 3, (int64_t)ino);
	return db_run(t->wdb, st);
}

/* The place of a new entry (wmu held): its directory, still linked,
 * without that name. */
static int new_entry_check(struct side *s, struct inode_table *t)
{
	int error;

	if ((error = side_load(s, t, false)) < 0)
		return error;
	if (s->d.nlink == 0)
		return efs_error_set(EFS_ENOTFOUND, "inode: directory %" PRIu64
						    " was removed", s->dir);
	if (s->id)
		return efs_error_set(EFS_EEXISTS, "inode: '%s' exists",
				     s->name);
	return 0;
}

int inode_create_locked(struct inode_attr *a, struct inode_table *t,
			uint64_t parent, const char *name,
			const struct inode_new *n)
{
	struct side p = { .dir = parent, .name = name };
	bool dir = S_ISDIR(n->mode);
	int error;

	if ((error = new_entry_check(&p, t)) < 0)
		return error;
	if (dir && p.d.nlink >= INODE_LINK_MAX)
		return efs_error_set(FS_EMLINK, "inode: directory %" PRIu64
						" has too many links", parent);
	memset(a, 0, sizeof(*a));
	a->mode = n->mode;
	a->uid = n->uid;
	a->gid = n->gid;
	if (p.d.mode & S_ISGID) {
		a->gid = p.d.gid;
		if (dir)
			a->mode |= S_ISGID;
	}
	a->nlink = dir ? 2 : 1;
	a->rdev = S_ISCHR(n->mode) || S_ISBLK(n->mode) ? n->rdev : 0;
	a->size = S_ISLNK(n->mode) ? n->target_len : 0;
	a->atime_ns = a->mtime_ns = a->ctime_ns = efs_clock_real_ns();
	a->generation = 1;
	if ((error = row_insert(a, t, n)) < 0)
		return error;
	if ((error = dentry_insert(t, parent, name, a->ino)) < 0)
		return error;
	return dir_touch(t, parent, p.dc.has_root, a->mtime_ns, dir ? 1 : 0);
}

int inode_create(struct inode_attr *out, struct inode_table *t,
		 uint64_t parent, const char *name, const struct inode_new *n)
{
	int error;

	if ((error = inode_name_check(name)) < 0 ||
	    (error = inode_new_check(n)) < 0)
		return error;
	if ((error = inode_wbegin(t, false)) < 0)
		return error;
	error = inode_create_locked(out, t, parent, name, n);
	if ((error = inode_wend(t, error)) < 0)
		return error;
	atomic_fetch_add(&t->count, 1);
	return 0;
}

static int link_locked(struct inode_attr *a, struct inode_table *t,
		       uint64_t ino, uint64_t newparent, const char *newname)
{
	struct side p = { .dir = newparent, .name = newname };
	int64_t now = efs_clock_real_ns();
	int error;

	if ((error = inode_row_get(a, NULL, t->wdb, ino)) < 0)
		return error;
	if (S_ISDIR(a->mode))
		return efs_error_set(FS_EPERM, "inode: hard link to directory");
	if (a->nlink >= INODE_LINK_MAX)
		return efs_error_set(FS_EMLINK, "inode: %" PRIu64
						" has too many links", ino);
	if (a->nlink == 0)
		return efs_error_set(EFS_ENOTFOUND, "inode: %" PRIu64
						    " was removed", ino);
	if ((error = new_entry_check(&p, t)) < 0)
		return error;
	if ((error = dentry_insert(t, newparent, newname, ino)) < 0)
		return error;
	if ((error = links_add(t, ino, 1, false, now)) < 0)
		return error;
	a->nlink++;
	a->ctime_ns = now;
	return dir_touch(t, newparent, p.dc.has_root, now, 0);
}

int inode_link(struct inode_attr *out, struct inode_table *t, uint64_t ino,
	       uint64_t newparent, const char *newname)
{
	int error;

	if ((error = inode_name_check(newname)) < 0)
		return error;
	if ((error = inode_wbegin(t, false)) < 0)
		return error;
	error = link_locked(out, t, ino, newparent, newname);
	if ((error = inode_wend(t, error)) < 0)
		return error;
	inode_live_overlay(t, out);
	return 0;
}

/* ---- unlink -------------------------------------------------------- */

/* Does directory dir hold entries (wmu held)?  1, 0 or an error. */
static int dir_has_entries(struct inode_table *t, uint64_t dir)
{
	int64_t v = (int64_t)dir, one;

	return db_query_int(&one, t->wdb, "SELECT 1 FROM fs_dentries"
			    " WHERE parent = ?1 LIMIT 1", &v, 1);
}

/* Can victim v be removed by rmdir (dir) or unlink (!dir)? */
static int remove_check(struct inode_table *t, const struct inode_attr *v,
			bool dir)
{
	int error;

	if (!dir && S_ISDIR(v->mode))
		return efs_error_set(FS_EISDIR, "inode: %" PRIu64
						" is a directory", v->ino);
	if (dir && !S_ISDIR(v->mode))
		return efs_error_set(FS_ENOTDIR, "inode: %" PRIu64
						 " is not a directory", v->ino);
	if (v->ino == INODE_ROOT)
		return efs_error_set(FS_EBUSY, "inode: the root directory");
	if (dir && (error = dir_has_entries(t, v->ino)) != 0)
		return error < 0 ? error
				 : efs_error_set(FS_ENOTEMPTY,
						 "inode: directory %" PRIu64
						 " is not empty", v->ino);
	return 0;
}

/*
 * Take a link from what s names, whose entry was just deleted (wmu
 * held).  With none left and no kernel reference it is freed at once
 * (its pin to drop after the commit goes to *pin_out); else its count
 * goes down.  s was read in this transaction, so its link count is known
 * without reading it again.
 */
static int victim_drop(int64_t *pin_out, struct inode_table *t,
		       const struct side *s, int64_t now)
{
	bool dir = S_ISDIR(s->v.mode);

	if ((dir || s->v.nlink <= 1) &&
	    !inode_live_hold_unlinked(t, s->v.ino)) {
		*pin_out = s->pin;
		return inode_free(t, s->v.ino);
	}
	return links_add(t, s->v.ino, -1, dir, now);
}

static int dentry_delete(struct inode_table *t, int64_t id)
{
	return inode_run_ints(t, "DELETE FROM fs_dentries WHERE id = ?1", &id,
			      1);
}

static int unlink_locked(int64_t *pin_out, struct inode_table *t,
			 uint64_t parent, const char *name, bool dir)
{
	struct side s = { .dir = parent, .name = name };
	int64_t now = efs_clock_real_ns();
	int error;

	if ((error = side_load(&s, t, true)) < 0)
		return error;
	if ((error = remove_check(t, &s.v, dir)) < 0)
		return error;
	if ((error = dentry_delete(t, s.id)) < 0)
		return error;
	if ((error = victim_drop(pin_out, t, &s, now)) < 0)
		return error;
	return dir_touch(t, parent, s.dc.has_root, now, dir ? -1 : 0);
}

int inode_unlink(struct inode_table *t, uint64_t parent, const char *name,
		 bool dir)
{
	int64_t pin = 0;
	int error;

	if ((error = inode_name_check(name)) < 0)
		return error == EFS_EINVAL && strcmp(name, ".") == 0
			       ? efs_error_set(EFS_EINVAL, "inode: rmdir .")
			       : error;
	if ((error = inode_wbegin(t, false)) < 0)
		return error;
	error = unlink_locked(&pin, t, parent, name, dir);
	if ((error = inode_wend(t, error)) == 0)
		inode_unpin(t, pin);
	return error;
}

/* ---- rename -------------------------------------------------------- */

/* True when dir is anc or below it (wmu held). */
static bool is_below(struct inode_table *t, uint64_t dir, uint64_t anc,
		     int *error)
{
	*error = 0;
	for (;;) {
		if (dir == anc)
			return true;
		if (dir == INODE_ROOT)
			return false;
		if ((*error = inode_parent_get(&dir, t->wdb, dir)) < 0)
			return false;
	}
}

/* A directory v may move into dir: not into itself or below. */
static int move_check(struct inode_table *t, const struct inode_attr *v,
		      uint64_t dir)
{
	int error;

	if (!S_ISDIR(v->mode))
		return 0;
	if (is_below(t, dir, v->ino, &error))
		return efs_error_set(EFS_EINVAL, "inode: directory %" PRIu64
						 " into its own subtree",
				     v->ino);
	return error;
}

/*
 * The other directory of a rename was just touched, and may have been an
 * ancestor of b's holding its cache: read b's cache state again (wmu
 * held).  Invalidation only clears, so one that had none still has none.
 */
static int dir_reload(struct inode_table *t, struct side *b)
{
	if (!b->dc.has_root)
		return 0;
	return inode_dir_get(&b->d, &b->dc, t->wdb, b->dir);
}

static int dentry_point(struct inode_table *t, int64_t id, uint64_t ino)
{
	int64_t v[2] = { id, (int64_t)ino };

	return inode_run_ints(t, "UPDATE fs_dentries SET ino = ?2"
				 " WHERE id = ?1", v, 2);
}

static int exchange_locked(struct inode_table *t, struct side *a,
			   struct side *b, int64_t now)
{
	int da = S_ISDIR(a->v.mode), db = S_ISDIR(b->v.mode);
	int error;

	if (a->dir != b->dir && ((error = move_check(t, &a->v, b->dir)) < 0 ||
				 (error = move_check(t, &b->v, a->dir)) < 0))
		return error;
	if ((error = dentry_point(t, a->id, b->v.ino)) < 0 ||
	    (error = dentry_point(t, b->id, a->v.ino)) < 0)
		return error;
	if ((error = links_add(t, a->v.ino, 0, false, now)) < 0 ||
	    (error = links_add(t, b->v.ino, 0, false, now)) < 0)
		return error;
	if (a->dir == b->dir)
		return dir_touch(t, a->dir, a->dc.has_root, now, 0);
	if ((error = dir_touch(t, a->dir, a->dc.has_root, now, db - da)) < 0 ||
	    (error = dir_reload(t, b)) < 0)
		return error;
	return dir_touch(t, b->dir, b->dc.has_root, now, da - db);
}

/* The target b exists and is not a's inode: may a replace it? */
static int replace_check(struct inode_table *t, const struct side *a,
			 const struct side *b, unsigned flags)
{
	if (flags & INODE_RENAME_NOREPLACE)
		return efs_error_set(EFS_EEXISTS, "inode: '%s' exists",
				     b->name);
	if (S_ISDIR(a->v.mode) && !S_ISDIR(b->v.mode))
		return efs_error_set(FS_ENOTDIR, "inode: '%s' is not a "
						 "directory", b->name);
	return remove_check(t, &b->v, S_ISDIR(a->v.mode));
}

static int move_locked(int64_t *pin_out, struct inode_table *t,
		       struct side *a, struct side *b, int64_t now)
{
	static const char move[] = "UPDATE fs_dentries SET parent = ?2,"
				   " name = ?3 WHERE id = ?1";
	/* within a directory the parent stays: setting it anyway would
	 * rewrite its index too, a page more to write at the commit */
	static const char same[] = "UPDATE fs_dentries SET name = ?3"
				   " WHERE id = ?1";
	int da = S_ISDIR(a->v.mode);
	int gone = b->id && S_ISDIR(b->v.mode);
	sqlite3_stmt *st;
	int error;

	if (a->dir != b->dir && (error = move_check(t, &a->v, b->dir)) < 0)
		return error;
	if (a->dir != b->dir && da && !gone && b->d.nlink >= INODE_LINK_MAX)
		return efs_error_set(FS_EMLINK, "inode: directory %" PRIu64
						" has too many links", b->dir);
	if (b->id && ((error = dentry_delete(t, b->id)) < 0 ||
		      (error = victim_drop(pin_out, t, b, now)) < 0))
		return error;
	if ((error = db_stmt(&st, t->wdb, a->dir == b->dir ? same : move)) < 0)
		return error;
	sqlite3_bind_int64(st, 1, a->id);
	sqlite3_bind_int64(st, 2, (int64_t)b->dir);
	bind_name(st, 3, b->name);
	if ((error = db_run(t->wdb, st)) < 0)
		return error;
	if ((error = links_add(t, a->v.ino, 0, false, now)) < 0)
		return error;
	if (a->dir == b->dir)
		return dir_touch(t, a->dir, a->dc.has_root, now, -gone);
	if ((error = dir_touch(t, a->dir, a->dc.has_root, now, -da)) < 0 ||
	    (error = dir_reload(t, b)) < 0)
		return error;
	return dir_touch(t, b->dir, b->dc.has_root, now, da - gone);
}

static int rename_locked(int64_t *pin_out, struct inode_table *t,
			 struct side *a, struct side *b, unsigned flags)
{
	int64_t now = efs_clock_real_ns();
	int error;

	if ((error = side_load(a, t, true)) < 0 ||
	    (error = side_load(b, t, flags & INODE_RENAME_EXCHANGE)) < 0)
		return error;
	if (flags & INODE_RENAME_EXCHANGE)
		return a->id == b->id ? 0 : exchange_locked(t, a, b, now);
	if (b->id && b->v.ino == a->v.ino)
		return 0; /* two links of one inode: POSIX says do nothing */
	if (b->id && (error = replace_check(t, a, b, flags)) < 0)
		return error;
	return move_locked(pin_out, t, a, b, now);
}

int inode_rename(struct inode_table *t, uint64_t parent, const char *name,
		 uint64_t newparent, const char *newname, unsigned flags)
{
	struct side a = { .dir = parent, .name = name };
	struct side b = { .dir = newparent, .name = newname };
	int64_t pin = 0;
	int error;

	if ((flags & INODE_RENAME_NOREPLACE) &&
	    (flags & INODE_RENAME_EXCHANGE))
		return efs_error_set(EFS_EINVAL, "inode: rename flags %#x",
				     flags);
	if ((error = inode_name_check(name)) < 0 ||
	    (error = inode_name_check(newname)) < 0)
		return error;
	if ((error = inode_wbegin(t, false)) < 0)
		return error;
	error = rename_locked(&pin, t, &a, &b, flags);
	if ((error = inode_wend(t, error)) == 0)
		inode_unpin(t, pin);
	return error;
}

/* ---- symlinks ------------------------------------------------------ */

int inode_readlink(struct buf *out, struct inode_table *t, uint64_t ino)
{
	static const char sql[] =
		"SELECT target FROM fs_inodes WHERE ino = ?1";
	sqlite3_stmt *st;
	struct db *db;
	int error;

	if ((error = db_pool_get(&db, &t->rpool)) < 0)
		return error;
	if ((error = db_stmt(&st, db, sql)) < 0)
		goto out;
	error = inode_step_ino(db, st, ino);
	if (error > 0 && sqlite3_column_type(st, 0) != SQLITE_BLOB)
		error = efs_error_set(EFS_EINVAL, "inode: %" PRIu64
						  " is not a symlink", ino);
	else if (error > 0)
		error = buf_add(out, sqlite3_column_blob(st, 0),
				(size_t)sqlite3_column_bytes(st, 0));
	db_reset(st);
out:
	db_pool_put(&t->rpool, db);
	return error;
}
