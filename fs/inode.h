/*
 * inode.h - the filesystem's inode table: inodes, directory entries and
 * extended attributes in the repository's index.db (module "fs"), the
 * kernel's lookup counts, attributes of writes not yet flushed, and the
 * blockstore pins that keep every file's content alive.
 *
 * Inode numbers are the FUSE inode numbers: the root directory is
 * INODE_ROOT (FUSE_ROOT_ID) and a number is never reused (sqlite
 * AUTOINCREMENT), so the kernel can never confuse a new inode with a
 * forgotten one.
 *
 * Every namespace operation (create, link, unlink, rename ...) is one
 * sqlite transaction: after a crash either all of it happened or none.
 * Namespace transactions do not wait for the disk (synchronous=NORMAL:
 * they survive kill -9 but not a power cut, as ext4 without fsync on the
 * directory); inode_set_content and inode_sync wait (synchronous=FULL),
 * and make every earlier transaction durable with them.
 *
 * Errors: 0 or a negative code, either core's enum efs_error (EFS_ENOMEM,
 * EFS_EIO, EFS_ENOSPC, EFS_ECORRUPT ...; EFS_ENOTFOUND is ENOENT,
 * EFS_EEXISTS is EEXIST, EFS_EINVAL is EINVAL) or one of fs/errmap.h's
 * POSIX outcomes (FS_ENOTDIR, FS_ENOTEMPTY ...).  errmap_to_errno turns
 * either into an errno.
 *
 * Threads: struct inode_table is internally locked; any thread may call
 * any function.  Readers (lookup, getattr, readdir, xattr get) use pooled
 * sqlite connections and never wait for writers; writers take the
 * table's writer lock (sqlite allows one writer anyway; the lock spares
 * its sleep-and-retry busy handler).  No lock is held across a callback.
 */
#ifndef EFS_INODE_H
#define EFS_INODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/cid.h"

struct bstore;
struct inode_table;

#define INODE_ROOT 1
/* Longest name of a directory entry (NAME_MAX). */
#define INODE_NAME_MAX 255
/* Most hard links to one inode; most subdirectories of one directory. */
#define INODE_LINK_MAX 65000
/* Longest symlink target (PATH_MAX less the NUL). */
#define INODE_SYMLINK_MAX 4095
/* Largest xattr value (XATTR_SIZE_MAX) and name (XATTR_NAME_MAX). */
#define INODE_XATTR_VALUE_MAX 65536
#define INODE_XATTR_NAME_MAX 255

/* enum inode_flag: bits of struct inode_attr flags (persisted). */
enum inode_flag {
	/* mtime was set by the user (utimensat with a time) after the last
	 * write: a later flush keeps it (R2) */
	INODE_F_MTIME_SET = 1 << 0,
};

/* What stat shows, plus our own fields. */
struct inode_attr {
	uint64_t ino;
	uint64_t generation;  /* constant: numbers are never reused */
	uint32_t mode;        /* S_IFMT type and the 12 permission bits */
	uint32_t nlink;
	uint32_t uid;
	uint32_t gid;
	uint64_t rdev;
	uint64_t size;        /* files: bytes, including writes not yet
				 flushed; symlinks: target length;
				 directories: 0 */
	int64_t atime_ns;     /* nanoseconds since the epoch */
	int64_t mtime_ns;
	int64_t ctime_ns;
	uint32_t flags;       /* enum inode_flag */
};

/* A file's flushed content: the DAG the data path reads under its
 * staged writes. */
struct inode_content {
	bool has_root;        /* false: empty file, no DAG */
	struct cid root;      /* the file's UnixFS root */
	uint64_t size;        /* file bytes of the DAG at root */
	uint64_t tsize;       /* the DAG's cumulative size (its Tsize) */
};

struct inode_table_opts {
	uint32_t root_uid;    /* owner of the root directory when the table
				 is created (the mounting user) */
	uint32_t root_gid;
	uint32_t root_mode;   /* its permission bits (0755) */
	unsigned read_conns;  /* idle read connections kept */
};

#define INODE_TABLE_OPTS_INIT                                    \
	{                                                        \
		.root_uid = 0, .root_gid = 0, .root_mode = 0755, \
		.read_conns = 8,                                 \
	}

/* What inode_table_open repaired. */
struct inode_recovery {
	uint64_t orphans;     /* unlinked inodes freed (R11) */
	uint64_t pins_added;  /* content roots that had lost their pin */
	uint64_t pins_dropped; /* fs pins no inode uses any more */
};

/*
 * Open the inode table in the sqlite database db_path (the repository's
 * index.db; bs is that repository's blockstore, open, borrowed until
 * close).  Creates or migrates the tables (module "fs") and, on a fresh
 * table, the root directory.  Recovers: frees orphans (inodes with no
 * links left: nothing can reference them before the first lookup) and
 * reconciles the blockstore pins tagged "fs:<ino>" with the inodes' roots
 * (invariants in inode.c).  rec (may be NULL) says what was repaired.
 * Returns 0, EFS_ENOMEM, EFS_EIO, EFS_ECORRUPT, EFS_EUNSUPPORTED (tables
 * of a newer build) or bstore errors.  *out is the caller's
 * (inode_table_close).
 */
int inode_table_open(struct inode_table **out, struct inode_recovery *rec,
		     const char *db_path, struct bstore *bs,
		     const struct inode_table_opts *opts);

/* Close the connections and free the table.  NULL is fine.  Inodes still
 * referenced by the kernel are kept: the next open frees the unlinked
 * ones. */
void inode_table_close(struct inode_table *t);

/* ---- lookups and the kernel's references ------------------------------ */

/*
 * The entry name in directory parent: its attributes to out.  Does not
 * take a reference (inode_ref does).  Returns 0, EFS_ENOTFOUND,
 * FS_ENOTDIR (parent is not a directory), FS_ENAMETOOLONG or db errors.
 */
int inode_lookup(struct inode_attr *out, struct inode_table *t,
		 uint64_t parent, const char *name);

/* Attributes of ino.  Returns 0, EFS_ENOTFOUND or db errors. */
int inode_getattr(struct inode_attr *out, struct inode_table *t,
		  uint64_t ino);

/*
 * One more kernel reference (lookup count) to ino: call before every
 * reply that hands the kernel an entry (lookup, create, mkdir, mknod,
 * symlink, link, readdirplus entries), and do not reply the entry when it
 * fails.  Returns 0 or EFS_ENOMEM.
 */
int inode_ref(struct inode_table *t, uint64_t ino);

/*
 * Drop n kernel references (FUSE forget).  An inode with no links and no
 * references left is freed: its row, xattrs and content pin.  Returns 0
 * or the error of freeing (then it is freed at the next open).
 */
int inode_forget(struct inode_table *t, uint64_t ino, uint64_t n);

/* One forget of a batch (the layout of FUSE's struct fuse_forget_data). */
struct inode_forget {
	uint64_t ino;
	uint64_t nlookup;
};

/* Most inodes freed by one transaction of inode_forget_many. */
#define INODE_FORGET_BATCH 64

/*
 * inode_forget for n inodes (FUSE batch forget): the inodes it frees go
 * in one transaction per INODE_FORGET_BATCH.  Returns 0 or the first
 * error of freeing (the rest of that batch is freed at the next open).
 */
int inode_forget_many(struct inode_table *t, const struct inode_forget *v,
		      size_t n);

/* ---- namespace -------------------------------------------------------- */

/* What a new inode is made of. */
struct inode_new {
	uint32_t mode;        /* S_IFREG, S_IFDIR, S_IFLNK, S_IFIFO,
				 S_IFSOCK, S_IFCHR or S_IFBLK, with the
				 permission bits after the kernel's umask */
	uint32_t uid;         /* the caller's (fuse_req_ctx) */
	uint32_t gid;         /* the caller's; a setgid parent overrides */
	uint64_t rdev;        /* devices */
	const char *target;   /* symlinks: target bytes (not NUL-ended) */
	size_t target_len;    /* 1..INODE_SYMLINK_MAX */
};

/*
 * Create name in directory parent.  The gid comes from the parent when
 * it is setgid, and a new directory inherits the setgid bit.  The
 * parent's mtime and ctime become now.  The new inode's attributes go to
 * out (no reference taken).  Returns 0, EFS_EEXISTS, EFS_ENOTFOUND
 * (parent gone), FS_ENOTDIR, FS_ENAMETOOLONG, FS_EMLINK (parent has
 * INODE_LINK_MAX subdirectories), EFS_EINVAL (bad mode or target) or db
 * errors.
 */
int inode_create(struct inode_attr *out, struct inode_table *t,
		 uint64_t parent, const char *name, const struct inode_new *n);

/*
 * Hard link: entry newname in newparent for ino (not a directory).
 * Attributes after (nlink + 1, new ctime) to out.  Returns 0,
 * EFS_EEXISTS, EFS_ENOTFOUND, FS_EPERM (ino is a directory), FS_EMLINK,
 * FS_ENOTDIR, FS_ENAMETOOLONG or db errors.
 */
int inode_link(struct inode_attr *out, struct inode_table *t, uint64_t ino,
	       uint64_t newparent, const char *newname);

/*
 * Remove name from parent: unlink (dir false) or rmdir (dir true).  The
 * inode loses a link; with none left and no kernel reference it is freed
 * at once, else at its last forget.  Returns 0, EFS_ENOTFOUND, FS_EISDIR
 * (unlink of a directory), FS_ENOTDIR (rmdir of a non-directory, or
 * parent not a directory), FS_ENOTEMPTY, FS_EBUSY (rmdir of the root) or
 * db errors.
 */
int inode_unlink(struct inode_table *t, uint64_t parent, const char *name,
		 bool dir);

enum inode_rename_flags {
	INODE_RENAME_NOREPLACE = 1 << 0, /* RENAME_NOREPLACE */
	INODE_RENAME_EXCHANGE = 1 << 1,  /* RENAME_EXCHANGE */
};

/*
 * Rename parent/name to newparent/newname in one transaction, replacing
 * an existing target (which loses a link, as unlink), or failing on one
 * (NOREPLACE), or swapping the two (EXCHANGE).  Renaming onto another
 * link of the same inode does nothing.  Moving a directory into its own
 * subtree is refused.  Returns 0, EFS_ENOTFOUND, EFS_EEXISTS (NOREPLACE),
 * FS_EISDIR, FS_ENOTDIR, FS_ENOTEMPTY, FS_EMLINK, FS_ENAMETOOLONG,
 * EFS_EINVAL (both flags, or a directory into its own subtree) or db
 * errors.
 */
int inode_rename(struct inode_table *t, uint64_t parent, const char *name,
		 uint64_t newparent, const char *newname, unsigned flags);

/*
 * Read a symlink's target into out (no NUL counted).  Returns 0,
 * EFS_ENOTFOUND, EFS_EINVAL (not a symlink), buf or db errors.
 */
int inode_readlink(struct buf *out, struct inode_table *t, uint64_t ino);

/* ---- grafts: a whole tree at once (fs/graft.h) ------------------------- */

/* The directory inode_graft is given, as the parent of an entry. */
#define INODE_GRAFT_TOP SIZE_MAX

/* One inode of a graft. */
struct inode_graft {
	size_t parent;        /* index in the graft of its directory (below
				 its own), or INODE_GRAFT_TOP */
	const char *name;     /* NUL-terminated, borrowed */
	bool reuse_dir;       /* mkdir -p: a directory already named so is
				 used as it is (n and content ignored) */
	struct inode_new n;   /* type, permissions, owner, symlink target */
	int64_t mtime_ns;     /* 0: now */
	struct inode_content content; /* files: their DAG (no root:
				 empty); directories: their CID and Tsize as
				 the cached CID (no root: none) */
};

/*
 * Make the entries v[0..n) in one transaction: after a crash all of them
 * exist or none.  Each is made as inode_create makes it, in order (a
 * directory before what it holds), then files get their content and
 * directories their cached CID (invariant 7 of inode.c holds when every
 * directory of a graft has one: the DAG it was made from).  Then each
 * file's root is pinned ("fs:<ino>") and the pins recorded in a second,
 * durable transaction (synchronous=FULL): a crash between the two leaves
 * files without pins, which the next open pins (invariant 3).  The inode
 * numbers go to inos_out[0..n) (reused directories' too) and the index
 * of the first entry made to *made_out (those before it were reused).
 * Returns 0, EFS_EEXISTS (an entry exists: a reused one that is not a
 * directory too), EFS_ENOTFOUND (parent gone), FS_ENOTDIR,
 * FS_ENAMETOOLONG, FS_EMLINK, EFS_EINVAL (a bad name, mode or target),
 * bstore or db errors; on an error of the first transaction nothing was
 * made; on one of the pins the tree stays, pinned at the next open.
 */
int inode_graft(uint64_t *inos_out, size_t *made_out, struct inode_table *t,
		uint64_t parent, const struct inode_graft *v, size_t n);

/* ---- attributes ------------------------------------------------------- */

/* Bits of struct inode_set valid. */
enum inode_set_valid {
	INODE_SET_MODE = 1 << 0,
	INODE_SET_UID = 1 << 1,
	INODE_SET_GID = 1 << 2,
	INODE_SET_ATIME = 1 << 3,     /* atime_ns */
	INODE_SET_MTIME = 1 << 4,     /* mtime_ns: marks INODE_F_MTIME_SET */
	INODE_SET_ATIME_NOW = 1 << 5, /* UTIME_NOW */
	INODE_SET_MTIME_NOW = 1 << 6, /* UTIME_NOW: a "touch", not a user
					 time: clears INODE_F_MTIME_SET */
	INODE_SET_CTIME = 1 << 7,     /* ctime_ns (otherwise now, when
					 anything changed) */
};

struct inode_set {
	unsigned valid;       /* enum inode_set_valid */
	uint32_t mode;        /* permission bits (the type is kept) */
	uint32_t uid;
	uint32_t gid;
	int64_t atime_ns;
	int64_t mtime_ns;
	int64_t ctime_ns;
};

/*
 * Change attributes (chmod, chown, utimens) in one transaction; ctime
 * becomes now.  Permission checks are the kernel's (default_permissions),
 * and so is clearing setuid/setgid on chown and write: the kernel sends
 * the new mode with the same request.  An explicit mtime survives a
 * pending write's flush (R2).  Attributes after to out.  Size is not
 * handled here (fsops_data_setsize).  Returns 0, EFS_ENOTFOUND or db
 * errors.
 */
int inode_setattr(struct inode_attr *out, struct inode_table *t, uint64_t ino,
		  const struct inode_set *set);

/* ---- directories ------------------------------------------------------ */

/* One entry of a listing; fields borrowed for the callback. */
struct inode_dirent {
	const char *name;     /* NUL-terminated */
	size_t name_len;
	struct inode_attr attr;
	struct inode_content content; /* files: flushed content;
					 directories: cached CID, if any */
	uint64_t cookie;      /* offset to resume after this entry */
};

/* Return 0 to go on; anything else stops the listing (and is returned
 * when negative; a positive value stops quietly: "buffer full"). */
typedef int (*inode_dir_cb)(const struct inode_dirent *e, void *payload);

/*
 * List directory dir from cookie (0 = start) in a stable order: cookies
 * are entry ids, so entries removed or added meanwhile never make others
 * vanish or repeat (R8).  "." and ".." are not listed (fsops adds them
 * with cookies 1 and 2; entry cookies are > 2).  Returns 0, a negative cb
 * value, EFS_ENOTFOUND, FS_ENOTDIR or db errors.
 */
int inode_readdir(struct inode_table *t, uint64_t dir, uint64_t cookie,
		  inode_dir_cb cb, void *payload);

/* The parent of directory dir (the root is its own parent). */
int inode_parent(uint64_t *out, struct inode_table *t, uint64_t dir);

/*
 * Append the path of directory dir from the root ("/" for the root,
 * "/a/b" below) to out.  Returns 0, EFS_ENOTFOUND (dir, or a directory
 * on the way, was removed meanwhile), buf or db errors.
 */
int inode_path(struct buf *out, struct inode_table *t, uint64_t dir);

/*
 * The cached UnixFS CID of directory dir and the version of the cache:
 * out->has_root is false when nothing is cached.  *ver_out changes
 * whenever anything below dir changes.  Returns 0, EFS_ENOTFOUND,
 * FS_ENOTDIR or db errors.
 */
int inode_dircid_get(struct inode_content *out, uint64_t *ver_out,
		     struct inode_table *t, uint64_t dir);

/*
 * Cache dir's CID computed from a listing taken at version ver: stored
 * only when nothing changed since (else *stored_out is false and the
 * caller may retry).  Returns 0 or db errors.
 */
int inode_dircid_set(bool *stored_out, struct inode_table *t, uint64_t dir,
		     uint64_t ver, const struct cid *root, uint64_t tsize);

/*
 * List all of dir in one read snapshot, with the directory's cache
 * version at that snapshot (for inode_dircid_set).  Returns as
 * inode_readdir.
 */
int inode_dir_snapshot(uint64_t *ver_out, struct inode_table *t, uint64_t dir,
		       inode_dir_cb cb, void *payload);

/* ---- content (the data path) ------------------------------------------ */

/*
 * The flushed content of file ino (what its DAG holds; the staged writes
 * over it are the data path's).  Returns 0, EFS_ENOTFOUND, FS_EISDIR or
 * EFS_EINVAL (not a regular file), or db errors.
 */
int inode_get_content(struct inode_content *out, struct inode_table *t,
		      uint64_t ino);

/*
 * Point file ino at a new flushed content (root NULL, or size 0: empty;
 * an empty file keeps no DAG and no pin, its CID is the profile's empty
 * file, dircid.h), durably:
 * pin root in the blockstore as "fs:<ino>" (bstore_pin_deferred), then
 * in one transaction (synchronous=FULL: its WAL fsync also makes the pin
 * durable, and every earlier deferred blockstore commit) set root, size,
 * tsize and the pin, and the times of the writes noted so far (an mtime
 * the user set after the last write stays), then drop the old pin.  size
 * is the file's bytes under root; tsize the root's cumulative size
 * (importer_file_finish's tsize_out: directory CIDs need it).  The
 * blocks under root must be indexed already: bstore_sync_since, or
 * bstore_sync_deferred (one fsync less: this call makes them durable,
 * bs's index.db being db_path).  Invalidates the CIDs of the directories
 * above.  The pending state of inode_note_write is cleared when no write
 * was noted meanwhile and the pending size is size; otherwise it keeps
 * showing (writes staged after the flush's snapshot).  May run beside
 * writes to the same inode.  When nothing changes (same root and size,
 * no write noted) nothing is written but the blockstore's deferred
 * commits are made durable (bstore_durable); inode_sync makes the earlier
 * inode transactions durable when the caller needs that.  Returns 0,
 * EFS_ENOTFOUND, EFS_EINVAL (not a regular file), FS_EISDIR, bstore or
 * db errors; on error the old content stays.
 */
int inode_set_content(struct inode_table *t, uint64_t ino,
		      const struct cid *root, uint64_t size, uint64_t tsize);

/*
 * A write or truncate changed ino: size is its new logical size (staged
 * writes included; call after the write is staged, with the size that
 * includes it), mtime and ctime become now.  Kept in memory until
 * inode_set_content or inode_pending_discard; getattr shows it at once.
 * Returns 0 or EFS_ENOMEM.
 */
int inode_note_write(struct inode_table *t, uint64_t ino, uint64_t size);

/* Forget what inode_note_write noted (the staged writes were dropped). */
void inode_pending_discard(struct inode_table *t, uint64_t ino);

/* ---- extended attributes ---------------------------------------------- */

enum inode_xattr_flags {
	INODE_XATTR_CREATE = 1 << 0,  /* XATTR_CREATE */
	INODE_XATTR_REPLACE = 1 << 1, /* XATTR_REPLACE */
};

/*
 * Stored xattrs (user.* only: fsops answers the other namespaces and our
 * virtual user.estuary.* names itself).  get appends the value to out;
 * list appends "name\0" for each; set takes INODE_XATTR_* flags.
 * Returns 0, EFS_ENOTFOUND (no such inode), FS_ENODATA (no such
 * attribute), EFS_EEXISTS (CREATE and it exists), EFS_ETOOBIG (a value
 * over INODE_XATTR_VALUE_MAX), FS_ERANGE (a name over
 * INODE_XATTR_NAME_MAX), buf or db errors.
 */
int inode_xattr_get(struct buf *out, struct inode_table *t, uint64_t ino,
		    const char *name);
int inode_xattr_list(struct buf *out, struct inode_table *t, uint64_t ino);
int inode_xattr_set(struct inode_table *t, uint64_t ino, const char *name,
		    const void *value, size_t len, unsigned flags);
int inode_xattr_remove(struct inode_table *t, uint64_t ino,
		       const char *name);

/* ---- whole table ------------------------------------------------------ */

/*
 * The table's small key/value store (fs_meta): settings fixed when the
 * filesystem was created, e.g. "profile".  get appends the value to out;
 * EFS_ENOTFOUND when unset.  set replaces.  0 or db/buf errors.
 */
int inode_meta_get(struct buf *out, struct inode_table *t, const char *key);
int inode_meta_set(struct inode_table *t, const char *key, const void *value,
		   size_t len);

/*
 * Wait until the pins that content changes and frees have let go of are
 * dropped from the blockstore (a background thread drops them; they keep
 * their blocks from gc until then).  For tests and gc.
 */
void inode_drain(struct inode_table *t);

/*
 * How many pins the table has dropped from the blockstore since it was
 * opened (the unpin thread's and inline unpins, failed ones included).
 * The mount's gc thread runs early once many pins went.  Any thread.
 */
uint64_t inode_unpinned(struct inode_table *t);

/* Inodes in the table (kept as a counter: O(1)), for statfs. */
uint64_t inode_count(struct inode_table *t);

/* Make every earlier transaction durable (fsyncdir, syncfs).  0 or db
 * errors. */
int inode_sync(struct inode_table *t);

#endif
