/*
 * inode_graft.c - whole trees made in one transaction (inode.h:
 * inode_graft), for DAGs made to appear in the filesystem without
 * copying their bytes (fs/graft.h).
 *
 * Design notes:
 * - Every entry is made by inode_create's own code (inode_ns.c), so a
 *   graft checks names, links and places exactly as a create does, and
 *   the directory it lands in gets its times and cache invalidation.
 * - Contents and caches are written after every entry exists: making an
 *   entry clears its directory's cache (invariant 7), so a directory's
 *   CID can only be set once its children are in.
 * - Pins need the inode numbers, which exist only inside the first
 *   transaction, and the blockstore's writer is never called under wmu
 *   (inode_i.h): so the rows are made first, pins taken after, and the
 *   second transaction records them (inode.c invariants 1-3: a crash in
 *   between leaves rows without pins, pinned again at the next open, or
 *   "fs:<ino>" pins no row names, dropped then).
 */
#include "fs/inode.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/bstore.h"
#include "core/error.h"
#include "fs/errmap.h"
#include "fs/inode_i.h"

#include "core/banned.h"

/* An existing entry of a reused directory (wmu held): its ino to *out,
 * 0 when there is none; EFS_EEXISTS when it is not a directory. */
static int reuse_find(uint64_t *out, struct inode_table *t, uint64_t parent,
		      const char *name)
{
	static const char sql[] =
		"SELECT i.ino, i.mode FROM fs_dentries d"
		" JOIN fs_inodes i ON i.ino = d.ino"
		" WHERE d.parent = ?1 AND d.name = ?2";
	sqlite3_stmt *st;
	int error;

	*out = 0;
	if ((error = db_stmt(&st, t->wdb, sql)) < 0)
		return error;
	sqlite3_bind_int64(st, 1, (int64_t)parent);
	sqlite3_bind_blob(st, 2, name, (int)strlen(name), SQLITE_STATIC);
	error = db_step(t->wdb, st);
	if (error > 0 && !S_ISDIR((uint32_t)sqlite3_column_int64(st, 1)))
		error = efs_error_set(EFS_EEXISTS, "inode: '%s' exists and "
				      "is not a directory", name);
	else if (error > 0)
		*out = (uint64_t)sqlite3_column_int64(st, 0);
	db_reset(st);
	return error < 0 ? error : 0;
}

/* Content or cached CID, and times, of a made entry (wmu held). */
static int content_put(struct inode_table *t, uint64_t ino,
		       const struct inode_graft *g)
{
	static const char sql[] =
		"UPDATE fs_inodes SET root = ?2, size = ?3, tsize = ?4,"
		" mtime = coalesce(?5, mtime), atime = coalesce(?5, atime)"
		" WHERE ino = ?1";
	uint8_t bytes[CID_BYTES_MAX];
	bool file = S_ISREG(g->n.mode);
	sqlite3_stmt *st;
	int error;

	if (!g->content.has_root && !g->mtime_ns)
		return 0;
	if ((error = db_stmt(&st, t->wdb, sql)) < 0)
		return error;
	sqlite3_bind_int64(st, 1, (int64_t)ino);
	if (g->content.has_root)
		sqlite3_bind_blob(st, 2, bytes,
				  (int)cid_to_bytes(bytes, &g->content.root),
				  SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, file ? (int64_t)g->content.size
				       : S_ISLNK(g->n.mode)
						 ? (int64_t)g->n.target_len
						 : 0);
	sqlite3_bind_int64(st, 4, (int64_t)g->content.tsize);
	if (g->mtime_ns)
		sqlite3_bind_int64(st, 5, g->mtime_ns);
	return db_run(t->wdb, st);
}

/* The first transaction: every row and entry (wmu held). */
static int graft_locked(uint64_t *inos, size_t *made_out,
			struct inode_table *t, uint64_t parent,
			const struct inode_graft *v, size_t n)
{
	struct inode_attr a;
	size_t made = n;
	int error;

	for (size_t i = 0; i < n; i++) {
		uint64_t dir = v[i].parent == INODE_GRAFT_TOP
				       ? parent
				       : inos[v[i].parent];

		assert(v[i].parent == INODE_GRAFT_TOP || v[i].parent < i);
		if (v[i].reuse_dir && made == n) {
			if ((error = reuse_find(&inos[i], t, dir,
						v[i].name)) < 0)
				return error;
			if (inos[i])
				continue;
		}
		if (made == n)
			made = i;
		error = inode_create_locked(&a, t, dir, v[i].name, &v[i].n);
		if (error == EFS_EEXISTS && v[i].parent != INODE_GRAFT_TOP &&
		    !v[v[i].parent].reuse_dir)
			return efs_error_set(EFS_ECORRUPT, "inode: name '%s' "
					     "twice in a grafted directory",
					     v[i].name);
		if (error < 0)
			return error;
		inos[i] = a.ino;
	}
	for (size_t i = made; i < n; i++)
		if (!v[i].reuse_dir &&
		    (error = content_put(t, inos[i], &v[i])) < 0)
			return error;
	*made_out = made;
	return 0;
}

/* Does file v need a pin?  Identity roots have no block to keep. */
static bool needs_pin(const struct inode_graft *v)
{
	return S_ISREG(v->n.mode) && v->content.has_root &&
	       !cid_is_identity(&v->content.root);
}

/* The second transaction: record the pins (wmu held).  A pin whose row
 * is gone or changed meanwhile is zeroed in pins[], to be dropped. */
static int pins_record(struct inode_table *t, const uint64_t *inos,
		       int64_t *pins, size_t n)
{
	static const char sql[] = "UPDATE fs_inodes SET pin = ?2"
				  " WHERE ino = ?1 AND pin IS NULL";
	int error;

	for (size_t i = 0; i < n; i++) {
		int64_t v[2] = { (int64_t)inos[i], pins[i] };

		if (!pins[i])
			continue;
		if ((error = inode_run_ints(t, sql, v, 2)) < 0)
			return error;
		if (sqlite3_changes(db_handle(t->wdb)) == 0)
			pins[i] = -pins[i]; /* not ours to keep */
	}
	return 0;
}

/* Pin the files of v[made..n) and record the pins. */
static int graft_pins(struct inode_table *t, const uint64_t *inos,
		      const struct inode_graft *v, size_t made, size_t n)
{
	int64_t *pins = efs_calloc(n ? n : 1, sizeof(*pins));
	char name[32];
	int error = 0;

	if (!pins)
		return efs_error_set(EFS_ENOMEM, "inode: out of memory");
	for (size_t i = made; i < n && error == 0; i++) {
		if (!needs_pin(&v[i]))
			continue;
		inode_pin_name(name, sizeof(name), inos[i]);
		error = bstore_pin_deferred(&pins[i], t->bs, &v[i].content.root,
					    name);
	}
	if (error == 0 && (error = inode_wbegin(t, true)) == 0)
		error = inode_wend(t, pins_record(t, inos, pins, n));
	for (size_t i = 0; i < n; i++) {
		if (error < 0 && pins[i] > 0)
			inode_unpin(t, pins[i]);
		else if (pins[i] < 0)
			inode_unpin(t, -pins[i]);
	}
	efs_free(pins);
	return error;
}

int inode_graft(uint64_t *inos_out, size_t *made_out, struct inode_table *t,
		uint64_t parent, const struct inode_graft *v, size_t n)
{
	size_t made = n;
	int error;

	*made_out = n;
	for (size_t i = 0; i < n; i++)
		if ((error = inode_name_check(v[i].name)) < 0 ||
		    (error = inode_new_check(&v[i].n)) < 0)
			return error;
	if ((error = inode_wbegin(t, false)) < 0)
		return error;
	error = graft_locked(inos_out, &made, t, parent, v, n);
	if ((error = inode_wend(t, error)) < 0)
		return error;
	atomic_fetch_add(&t->count, n - made);
	*made_out = made;
	return graft_pins(t, inos_out, v, made, n);
}
