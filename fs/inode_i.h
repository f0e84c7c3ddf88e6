/*
 * inode_i.h - what the inode table's files share: the table struct, its
 * locks, the in-memory map of live inodes and the row helpers.
 *
 * Files:
 *   inode.c        open/close, orphans, connections, rows, live map,
 *                  getattr, setattr, meta, sync
 *   inode_pins.c   content and its pins, freeing, the unpin queue and
 *                  thread, pin reconciliation at open
 *   inode_ns.c     namespace: lookup, create, link, unlink, rename
 *   inode_dir.c    listings, parents and paths, directory CID caches
 *   inode_xattr.c  extended attributes
 *   inode_graft.c  whole trees made in one transaction (inode_graft)
 *
 * Locks, always taken in this order:
 *   wmu      serializes write transactions on wdb (sqlite has one writer
 *            anyway); guards wdb.  Held across the commit, which is the
 *            point (as bstore's wmu).  Never held while calling into the
 *            blockstore's writer (pin/unpin happen before or after).
 *   live_mu  the live map (lookup counts, pending writes).  A leaf but
 *            for rpool.mu; never held across sqlite.
 *   rpool.mu the idle read connections (a leaf, core/db.h).
 *   unpin_mu the queue of pins to drop (a leaf).
 */
#ifndef EFS_INODE_I_H
#define EFS_INODE_I_H

#include <pthread.h>
#include <stdatomic.h>

#include "core/db.h"
#include "fs/inode.h"

/* An inode the kernel knows or that has writes not yet flushed. */
struct live {
	uint64_t ino;
	uint64_t nlookup;     /* the kernel's references */
	bool unlinked;        /* its last link went while the kernel held
				 it: the last forget frees its row */
	bool pending;         /* inode_note_write since the last flush */
	bool times;           /* ... and mtime/ctime are the writes' (no
				 explicit mtime since) */
	uint64_t size;        /* pending logical size */
	uint64_t seq;         /* inode_note_write calls so far */
	int64_t mtime_ns;
	int64_t ctime_ns;
	struct live *next;    /* hash chain */
};

struct inode_table {
	struct inode_table_opts opts;
	struct bstore *bs;    /* borrowed */
	char *db_path;

	pthread_mutex_t wmu;
	struct db *wdb;       /* the writer's connection (wmu) */
	bool wfull;           /* the open transaction is FULL (wmu) */

	pthread_mutex_t live_mu;
	struct live **buckets; /* live map (live_mu) */
	size_t nbuckets;
	size_t nlive;

	struct db_pool rpool; /* idle read connections (core/db.h) */

	atomic_uint_least64_t count; /* inodes in the table */

	/* pins to drop, drained by the "efs-unpin" thread (unpin_mu) */
	pthread_mutex_t unpin_mu;
	pthread_cond_t unpin_cond;   /* work queued, stop, or queue empty */
	int64_t *unpins;
	size_t nunpins;
	size_t unpins_cap;
	bool unpin_busy;             /* the thread is dropping a batch */
	bool unpin_stop;
	bool unpin_started;
	pthread_t unpin_thread;
	atomic_uint_least64_t unpinned; /* pins dropped since open */
};

/* Pins queued for the unpin thread at most; past it unpin is inline. */
#define INODE_UNPIN_QUEUE_MAX 65536

/* Columns of an inode row as inode_row_read reads them, of the table
 * aliased a (a string literal), and of the usual alias i. */
#define INODE_COLS_OF(a)                                                   \
	a ".ino, " a ".mode, " a ".nlink, " a ".uid, " a ".gid, " a ".rdev, " \
	a ".size, " a ".atime, " a ".mtime, " a ".ctime, " a ".flags, " a    \
	".root, " a ".tsize"
#define INODE_COLS INODE_COLS_OF("i")
#define INODE_NCOLS 13

/* ---- inode.c ---- */

/* Take wmu and BEGIN IMMEDIATE on wdb; full: the commit waits for the
 * disk (synchronous=FULL).  On error wmu is released. */
int inode_wbegin(struct inode_table *t, bool full);
/* COMMIT and release wmu; rolls back on failure. */
int inode_wcommit(struct inode_table *t);
/* ROLLBACK and release wmu. */
void inode_wrollback(struct inode_table *t);
/* End the transaction by what error says: roll back and return it when
 * negative, else commit (inode_wcommit's result). */
int inode_wend(struct inode_table *t, int error);

/*
 * Read INODE_NCOLS columns from col into out and content (may be NULL).
 * Returns 0 or EFS_ECORRUPT (a malformed root).
 */
int inode_row_read(struct inode_attr *out, struct inode_content *content,
		   sqlite3_stmt *st, int col);

/*
 * Bind ino as ?1 of st and step it: 1 when a row came back,
 * EFS_ENOTFOUND when none did, or a db error.  The caller resets st.
 */
int inode_step_ino(struct db *db, sqlite3_stmt *st, uint64_t ino);

/* The row of ino on db.  0, EFS_ENOTFOUND, EFS_ECORRUPT or db errors. */
int inode_row_get(struct inode_attr *out, struct inode_content *content,
		  struct db *db, uint64_t ino);

/* The live entry of ino (live_mu held), or NULL. */
struct live *inode_live_find(struct inode_table *t, uint64_t ino);

/* Drop l from the map when it holds nothing any more (live_mu held). */
void inode_live_put(struct inode_table *t, struct live *l);

/* Apply pending writes (sizes, times) of the live map to a row's attrs. */
void inode_live_overlay(struct inode_table *t, struct inode_attr *a);

/*
 * ino has no links left (wmu held, in the transaction that took the
 * last): true when the kernel still references it, which then marks it
 * for its last forget to free (only marked inodes cost a transaction at
 * forget; one the mark misses is an orphan the next open frees).
 */
bool inode_live_hold_unlinked(struct inode_table *t, uint64_t ino);

/* ---- inode_pins.c ---- */

/*
 * Delete ino's row and xattrs in the open write transaction (wmu held)
 * when it has no links and no kernel reference; the blockstore pin to
 * drop after the commit goes to *pin_out (0: none, or not freed).
 */
int inode_free_if_unused(int64_t *pin_out, struct inode_table *t,
			 uint64_t ino);

/* Delete ino's row and xattrs (wmu held, in a transaction), for a caller
 * that knows it is unused; its pin is the caller's to drop. */
int inode_free(struct inode_table *t, uint64_t ino);

/*
 * Drop a pin after the commit that stopped using it (0: nothing to do).
 * Queued for the unpin thread: each blockstore unpin is a durable
 * transaction of its own, which rm -rf should not wait for.  Failure,
 * or a crash before the thread gets to it, only leaves a stale pin that
 * the next open drops (invariant 3).
 */
void inode_unpin(struct inode_table *t, int64_t pin);

/* The pin owner tag of ino: "fs:<ino>". */
void inode_pin_name(char *out, size_t cap, uint64_t ino);

/* Start / stop the unpin thread (stop drains the queue first). */
int inode_unpin_start(struct inode_table *t);
void inode_unpin_stop(struct inode_table *t);

/*
 * Invariant 3 at open: pin what lost its pin, drop "fs:" pins no row
 * names.  Runs outside transactions on wdb (bstore_pin is the
 * blockstore's own transaction); only the opening thread uses wdb yet.
 */
int inode_pins_reconcile(struct inode_table *t, struct inode_recovery *rec);

/* ---- inode_ns.c ---- */

/* The parent of directory dir on db (the root's is the root). */
int inode_parent_get(uint64_t *out, struct db *db, uint64_t dir);

/* The directory dir's row (wdb or a read connection): EFS_ENOTFOUND, or
 * FS_ENOTDIR for anything else. */
int inode_dir_get(struct inode_attr *out, struct inode_content *content,
		  struct db *db, uint64_t dir);

/* Run a one-shot statement with int64 bindings ?1..?n on wdb (wmu). */
int inode_run_ints(struct inode_table *t, const char *sql, const int64_t *v,
		   int n);

/* Check a directory entry name: FS_ENAMETOOLONG, EFS_EINVAL (empty, ".",
 * "..", holds '/'). */
int inode_name_check(const char *name);

/* Check what a new inode is made of: EFS_EINVAL (bad mode or target). */
int inode_new_check(const struct inode_new *n);

/*
 * inode_create's work in the open write transaction (wmu held): the
 * checks of the entry's place (EFS_EEXISTS, EFS_ENOTFOUND, FS_ENOTDIR,
 * FS_EMLINK), the row, the entry, the parent's times, links and cache.
 * The name and n are checked already.  Does not count the inode.
 */
int inode_create_locked(struct inode_attr *a, struct inode_table *t,
			uint64_t parent, const char *name,
			const struct inode_new *n);

/* ---- inode_dir.c ---- */

/*
 * Invalidate the cached CID of dir and of the directories above it (wmu
 * held, in a transaction): each is cleared and its version bumped, up to
 * and including the first one that had nothing cached (invariant 7).
 */
int inode_dir_invalidate(struct inode_table *t, uint64_t dir);

/* invalidate every directory holding a link to ino (wmu held). */
int inode_parents_invalidate(struct inode_table *t, uint64_t ino);

#endif
