/*
 * bstore.h - the repository's blockstore: blocks in append-only pack files,
 * indexed in sqlite, with reference counts for garbage collection,
 * eviction to Filecoin and recorded locations to fetch blocks back.
 *
 * A repository directory holds index.db (sqlite, WAL; other modules add
 * their tables to it through core/db.h) and packs/00000001.pack, ... .
 * Blocks are keyed by their multihash, so the v0 and v1 CIDs of one block
 * (and the same bytes under two codecs) are one block.
 *
 * Block states:
 *
 *   (none) --put--> pending --sync--> LOCAL --evict--> EVICTED
 *      |                               ^                  |
 *      +-- a stored block links to it  +---- put again ---+
 *      |   or a pin names it: ABSENT --put--> pending
 *      +-- gc deletes a row whose refs are 0 (and, for LOCAL and
 *          EVICTED, whose atime is older than the grace period)
 *
 * Invariants:
 * 1. A block is in the index only once its bytes are durable: bstore_put
 *    appends to a pack and keeps the row in memory (get and has see it);
 *    bstore_sync fdatasyncs the packs, then commits the rows in one
 *    transaction.  kill -9 at any moment leaves a store that opens (bytes
 *    past the last indexed block are truncated, never trusted) and passes
 *    bstore_fsck.
 * 2. refs(b) = number of links to b from LOCAL or EVICTED blocks + number
 *    of pins of b.  Links are counted when a block is first stored (by its
 *    codec, core/links.h) and uncounted when gc deletes it.
 * 3. Only blocks without links are evicted (raw leaves; dag-pb leaves
 *    without links), and only when a location is recorded.  Directory and
 *    file nodes stay local, so metadata never waits on the network and gc
 *    can always find the children of a block it deletes.
 * 4. Every block read is re-hashed against its CID: a mismatch is
 *    EFS_EMISMATCH, never data.
 *
 * Threads: struct bstore is internally locked; any thread may call any
 * function.  Reads (get, has, stat) use their own sqlite connections and
 * pread, and never wait for a sync's fsync or commit.  Writers (sync, gc,
 * evict, pin, locations, fsck) are serialized with each other.  Details
 * in bstore_i.h.
 */
#ifndef EFS_BSTORE_H
#define EFS_BSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/blockio.h"
#include "core/buf.h"
#include "core/cid.h"

struct bstore;

enum bstore_state {
	BSTORE_LOCAL = 0,   /* bytes in a pack */
	BSTORE_EVICTED = 1, /* bytes freed; a location says where they went */
	BSTORE_ABSENT = 2,  /* never stored: only referenced (refs > 0) */
};

#define BSTORE_NSTATES 3

struct bstore_opts {
	uint64_t pack_size;      /* start a new pack past this many bytes */
	uint64_t batch_bytes;    /* sync on its own past this many pending */
	size_t batch_count;      /* ... or this many pending blocks */
	size_t block_max;        /* largest block put accepts */
	size_t write_buffer;     /* pack write buffer: small blocks coalesce */
	uint64_t writeback;      /* start writeback every this many bytes
				    (sync_file_range); 0 = leave it to sync */
	int64_t gc_grace;        /* seconds an unreferenced block survives */
	int64_t atime_step;      /* seconds: reads newer than this do not
				    touch atime again */
	int64_t atime_flush;     /* seconds between atime flushes by sync */
	size_t touch_max;        /* bound on atimes waiting to be flushed */
	unsigned read_conns;     /* idle read connections kept: opened
				    only as readers run at once, so this
				    bounds what a burst leaves open; below
				    the readers' concurrency every get
				    opens and closes one (the gateway under
				    100 clients: 5,000 req/s at 8, 28,000
				    at 128) */
};

#define BSTORE_OPTS_INIT                                                   \
	{                                                                  \
		.pack_size = 1ull << 30, .batch_bytes = 256ull << 20,      \
		.batch_count = 65536, .block_max = 4u << 20,               \
		.write_buffer = 1u << 20, .writeback = 8ull << 20,         \
		.gc_grace = 3600, .atime_step = 60, .atime_flush = 60,     \
		.touch_max = 65536, .read_conns = 128,                     \
	}

/*
 * Open the store in directory dir (which must exist); index.db and packs/
 * are created when missing.  Recovery runs here: pack bytes past what the
 * index records are truncated.  opts may be NULL for the defaults.
 * Takes an exclusive lock on dir/bstore.lock: a second open of the same
 * store, in this process or another, fails with EFS_EEXISTS.
 * Returns 0, EFS_EEXISTS, EFS_ENOMEM, EFS_EIO, EFS_EINVAL (bad opts),
 * EFS_ECORRUPT (index unreadable, or packs hold data the index does not
 * know: a lost index is never silently recreated) or EFS_EUNSUPPORTED
 * (index from a newer build).  *out is the caller's (bstore_close).
 */
int bstore_open(struct bstore **out, const char *dir,
		const struct bstore_opts *opts);

/*
 * Sync, flush atimes, then free everything.  Returns the sync's error (the
 * store is freed either way).  NULL is fine.
 */
int bstore_close(struct bstore *bs);

/*
 * Store len bytes at data under id; the caller vouches that they hash to
 * id (blocks from the network are verified before they get here).  A block
 * already LOCAL is not written again (its atime is freshened); an EVICTED
 * or ABSENT one is written and becomes LOCAL at the next sync.  Identity
 * CIDs store nothing.  The block is readable at once, durable after
 * bstore_sync; put syncs by itself when the pending batch passes
 * batch_bytes or batch_count, and returns that sync's error.
 * Returns 0, EFS_ETOOBIG (over block_max), EFS_EUNSUPPORTED (a hash this
 * build cannot verify), EFS_ECORRUPT (a dag-pb or dag-cbor block that does
 * not decode), EFS_ENOSPC, EFS_EIO, EFS_ENOMEM.  data is borrowed.
 */
int bstore_put(struct bstore *bs, const struct cid *id, const uint8_t *data,
	       size_t len);

/*
 * Append the bytes of id to out, re-hashed against id.  Identity CIDs are
 * answered from the CID.  Returns 0, EFS_ENOTFOUND, EFS_EEVICTED,
 * EFS_EMISMATCH (bytes on disk do not hash to id), EFS_ECORRUPT (the index
 * row is malformed), EFS_EIO or buf errors; out is unchanged on failure.
 * Reading freshens the block's atime (in memory, flushed later).
 */
int bstore_get(struct bstore *bs, const struct cid *id, struct buf *out);

/* True when id's bytes are here (LOCAL or pending) or id is identity. */
bool bstore_has(struct bstore *bs, const struct cid *id);

struct bstore_stat {
	struct cid id;            /* CIDv1 under the codec it was stored */
	enum bstore_state state;
	uint64_t size;            /* bytes; 0 for ABSENT */
	int64_t refs;
	int64_t atime;            /* seconds since the epoch */
	bool pending;             /* put but not yet synced */
};

/* What the index knows of id.  Returns 0, EFS_ENOTFOUND or db errors. */
int bstore_stat(struct bstore_stat *out, struct bstore *bs,
		const struct cid *id);

/*
 * Make every block put before this call durable and indexed.  Returns 0,
 * EFS_ENOSPC, EFS_EIO, EFS_ENOMEM.  After a failure the pending blocks
 * are dropped (their bytes cannot be trusted to have reached the disk):
 * put them again.  With several writing threads, one thread's failed sync
 * can drop blocks another thread put; such a thread uses bstore_sync_since.
 */
int bstore_sync(struct bstore *bs);

/*
 * As bstore_sync, and also fail (with the code of that failure) when a
 * failure dropped pending blocks since *mark was taken; *mark is then
 * brought up to date.  Take the mark with bstore_errseq before the first
 * put whose durability you will rely on (Linux's errseq_t, per file).
 */
int bstore_sync_since(struct bstore *bs, uint64_t *mark);

/*
 * Deferred durability, for a caller that commits to the same index.db
 * right after (the filesystem's close: blocks, pin, then the inode with
 * ONE WAL fsync instead of three).
 *
 * bstore_sync_deferred is bstore_sync_since (the packs are fdatasynced
 * first, so invariant 1 holds) but its index transaction commits without
 * waiting for the disk (synchronous=NORMAL): it survives kill -9 at once
 * and a power cut only once ANY connection to index.db makes a FULL
 * commit or a db_wal_sync, or bstore_durable runs.  bstore_pin_deferred
 * and bstore_unpin_deferred are bstore_pin and bstore_unpin on the same
 * terms.  The caller must follow with such a durable commit before it
 * reports durability (a WAL fsync covers every frame written before it,
 * and sqlite's recovery never keeps a commit without the earlier ones, so
 * a durable later commit never outlives the deferred one).  Until then the
 * rows may vanish in a power cut: the pack bytes past them are trimmed
 * at open as after any crash, and a lost pin or unpin is as if it had not
 * been asked.  The blockstore remembers a deferred commit it has not seen
 * made durable: its next bstore_sync or bstore_sync_since makes it durable
 * even when it has nothing of its own to commit, so other callers keep
 * their guarantee.  Returns as the non-deferred functions.
 */
int bstore_sync_deferred(struct bstore *bs, uint64_t *mark);
int bstore_pin_deferred(int64_t *out, struct bstore *bs,
			const struct cid *root, const char *name);
int bstore_unpin_deferred(struct bstore *bs, int64_t pin_id);

/* Make every deferred commit so far durable (one WAL fsync; nothing when
 * there is none).  0, EFS_EIO or db errors. */
int bstore_durable(struct bstore *bs);

/* Count of failures that dropped pending blocks since open. */
uint64_t bstore_errseq(struct bstore *bs);

/* The pins table: roots kept with their whole DAG. */
struct bstore_pin {
	int64_t id;
	struct cid root;
	const char *name;         /* borrowed for the callback */
	int64_t created;
};

/*
 * Pin root under name (an owner tag, e.g. "commit:12" or "api:<requestid>";
 * not unique).  root need not be stored yet: it stays ABSENT, referenced.
 * The pin id goes to *out.  Returns 0, EFS_EINVAL (identity CID) or db
 * errors.
 */
int bstore_pin(int64_t *out, struct bstore *bs, const struct cid *root,
	       const char *name);

/*
 * Pin root under name unless a pin with that root (the same CID) and
 * that name exists already, so that repeating an import adds no pins
 * (`estuaryfs car import`, `add` and the daemon's POST /car/import).
 * The pin id, new or found, goes to *out (may be NULL).  The caller
 * syncs the blocks first.  Returns as bstore_pin, and the errors of
 * bstore_pins_foreach.  Two callers at once may both pin.
 */
int bstore_pin_once(int64_t *out, struct bstore *bs, const struct cid *root,
		    const char *name);

/* Drop a pin.  Returns 0, EFS_ENOTFOUND or db errors. */
int bstore_unpin(struct bstore *bs, int64_t pin_id);

/*
 * Call cb for every pin, oldest first, from one read snapshot (pins added
 * meanwhile are not seen).  A non-zero return from cb stops the walk and
 * is returned.  cb may call any bstore function.
 */
int bstore_pins_foreach(struct bstore *bs,
			int (*cb)(const struct bstore_pin *pin, void *payload),
			void *payload);

struct bstore_gc_result {
	uint64_t blocks;          /* rows deleted (all states) */
	uint64_t bytes;           /* pack bytes freed */
	uint64_t unverified;      /* deleted blocks with links that failed
				     to re-hash: their links could not be
				     uncounted (raw blocks are not read) */
};

/*
 * Delete blocks whose refs are 0 and whose atime is older than the grace
 * period (ABSENT rows at once), cascading to the blocks they link to, and
 * punch their bytes out of the packs.  Pending blocks and blocks touched
 * since are never deleted.  Returns 0 or an error; out says what was done
 * (also on error).
 */
int bstore_gc(struct bstore_gc_result *out, struct bstore *bs);

/* Where a block can be fetched back from: its range inside a piece. */
struct bstore_location {
	struct cid block;
	struct cid piece;         /* piece CID (baga... or bafkzcib...) */
	uint64_t offset;          /* of the block's bytes in the piece */
	uint64_t length;
};

/*
 * Record locations, all in one transaction.  Each block must be LOCAL or
 * EVICTED (synced).  Recording the same (block, piece) again updates it.
 * Returns 0, EFS_ENOTFOUND (a block the index does not hold; nothing is
 * recorded) or db errors.
 */
int bstore_locations_add(struct bstore *bs,
			 const struct bstore_location *locs, size_t n);

/* One location. */
int bstore_location_add(struct bstore *bs, const struct bstore_location *loc);

/*
 * Call cb for each recorded location of id.  Returns 0, what cb returned
 * (non-zero stops) or db errors.  Safe to call from any thread.
 */
int bstore_locations(struct bstore *bs, const struct cid *id,
		     int (*cb)(const struct bstore_location *loc,
			       void *payload),
		     void *payload);

/*
 * Call cb for each location recorded in piece whose offset lies in
 * [from, to), by offset, with its block's state as bstore_has sees it (a
 * block put but not yet synced is LOCAL; an ABSENT one is passed over).
 * Retrieval's read-ahead: the blocks that follow one in its piece.  Uses
 * the index locations(piece, off).  Returns 0, what cb returned
 * (non-zero stops), EFS_ECORRUPT (a malformed row) or db errors.  Safe
 * to call from any thread; cb must not call back into the blockstore's
 * writers (it runs on a read connection, no lock held).
 */
int bstore_locations_range(struct bstore *bs, const struct cid *piece,
			   uint64_t from, uint64_t to,
			   int (*cb)(const struct bstore_location *loc,
				     enum bstore_state state, void *payload),
			   void *payload);

/*
 * Free the bytes of id and mark it EVICTED.  Evicting an EVICTED block is
 * a no-op.  Returns 0, EFS_ENOTFOUND, EFS_EINVAL (no location recorded, or
 * the block has links: invariant 3), EFS_EMISMATCH (its bytes are already
 * bad; not evicted) or db/I/O errors.
 */
int bstore_evict(struct bstore *bs, const struct cid *id);

/*
 * Evict what it can of ids[0..n) in one transaction (one fsync, not n):
 * blocks that are not found, have no location, have links or are already
 * bad are passed over.  The number evicted goes to *out.  Returns 0 or a
 * db/I/O error (then nothing is evicted).  The evictor's batch call.
 */
int bstore_evict_many(size_t *out, struct bstore *bs, const struct cid *ids,
		      size_t n);

/*
 * Walk the blocks in state, least recently used first (the evictor's
 * candidates; atimes are flushed first).  cb gets a borrowed stat and may
 * call bstore_evict.  A non-zero return stops the walk and is returned.
 */
int bstore_lru_foreach(struct bstore *bs, enum bstore_state state,
		       int (*cb)(const struct bstore_stat *st, void *payload),
		       void *payload);

/* Write the atimes of recently read blocks to the index (the daemon calls
 * this every few minutes; sync does it every atime_flush seconds). */
int bstore_flush_atimes(struct bstore *bs);

struct bstore_totals {
	uint64_t count[BSTORE_NSTATES];  /* by enum bstore_state */
	uint64_t bytes[BSTORE_NSTATES];
	uint64_t pending_count;          /* put, not yet synced */
	uint64_t pending_bytes;
	uint64_t pins;
};

/* Counts and bytes by state, from counters kept in the index: O(1). */
int bstore_stat_totals(struct bstore_totals *out, struct bstore *bs);

enum bstore_problem_kind {
	BSTORE_PROBLEM_DB,        /* sqlite's own check failed */
	BSTORE_PROBLEM_ROW,       /* malformed index row */
	BSTORE_PROBLEM_RANGE,     /* block bytes outside its pack */
	BSTORE_PROBLEM_OVERLAP,   /* two blocks share pack bytes */
	BSTORE_PROBLEM_HEADER,    /* record header does not name the block */
	BSTORE_PROBLEM_MISMATCH,  /* bytes do not hash to the CID */
	BSTORE_PROBLEM_LINKS,     /* a stored block's links do not decode */
	BSTORE_PROBLEM_REFS,      /* refs differ from links + pins */
	BSTORE_PROBLEM_PIN,       /* a pin names a block not stored */
	BSTORE_PROBLEM_LOCATION,  /* evicted block without a location */
	BSTORE_PROBLEM_PACK,      /* pack file missing, short or unknown */
	BSTORE_PROBLEM_TAIL,      /* bytes past the indexed end of a pack */
	BSTORE_PROBLEM_TOTALS,    /* counters differ from the rows */
};

#define BSTORE_FSCK_LISTED_MAX 32

struct bstore_problem {
	enum bstore_problem_kind kind;
	struct cid id;            /* the block, or digest_len 0 if none */
	char msg[160];
};

struct bstore_fsck_report {
	uint64_t blocks;          /* index rows seen */
	uint64_t by_state[BSTORE_NSTATES];
	uint64_t bytes_read;      /* block bytes read and re-hashed */
	uint64_t pins;
	uint64_t packs;
	uint64_t problems;        /* all found; the first ones are listed */
	uint64_t repaired;        /* refs and counters rewritten */
	size_t nlisted;
	struct bstore_problem listed[BSTORE_FSCK_LISTED_MAX];
};

enum bstore_fsck_flags {
	BSTORE_FSCK_REPAIR = 1 << 0,   /* rewrite refs and counters */
	BSTORE_FSCK_NO_DATA = 1 << 1,  /* skip reading and hashing blocks */
};

/*
 * Check the store (after a sync): sqlite's quick_check; every LOCAL block
 * read and re-hashed, its record header checked, its range inside its pack
 * and overlapping no other; refs recomputed from links and pins; pins name
 * stored blocks; evicted blocks have a location; counters match; pack
 * files match the index, no bytes past their indexed end.  Fills out and
 * returns 0 when the check ran (problems or not; out->problems says), or
 * an error when it could not run.  Memory stays bounded: recomputed refs
 * and ranges go to temporary tables.  Holds the writer lock throughout
 * (puts continue until they need a sync).
 */
int bstore_fsck(struct bstore_fsck_report *out, struct bstore *bs,
		unsigned flags);

/* A short name for a problem kind ("mismatch"). */
const char *bstore_problem_name(enum bstore_problem_kind kind);

/* The blockio views; borrowed from bs. */
struct blockio_sink bstore_sink(struct bstore *bs);
struct blockio_source bstore_source(struct bstore *bs);

/* ---- test hooks ---- */

enum bstore_fault {
	BSTORE_FAULT_WRITE,       /* a pack write */
	BSTORE_FAULT_FSYNC,       /* a pack fdatasync */
};

/*
 * Make the after-th next operation of kind where (0 = the next one) fail
 * with errnum, once.  errnum 0 cancels.
 */
void bstore_test_fail(struct bstore *bs, enum bstore_fault where, int errnum,
		      int after);

/* Make every pack fdatasync take ms milliseconds longer (0: off). */
void bstore_test_fsync_delay(struct bstore *bs, int ms);

/* Use now (seconds) as the clock; 0 returns to the real clock. */
void bstore_test_clock(struct bstore *bs, int64_t now);

#endif
