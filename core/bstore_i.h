/*
 * bstore_i.h - what the blockstore's files share: the store struct, its
 * locks, the pending batches and the pack writer.
 *
 * Files:
 *   bstore.c        open/close, put/get/has/stat, read connections
 *   bstore_pack.c   pack files: records, the writer and its thread, reads
 *   bstore_recover.c  packs at open; the packs/ walk
 *   bstore_batch.c  pending batches and the touched-atime map (memory)
 *   bstore_sync.c   sync: fdatasync, then the index transaction; failures
 *   bstore_gc.c     pins, gc, evict, locations, LRU walk, totals
 *   bstore_fsck.c   the checker
 *
 * Locks, always taken in this order (no lock is held across fsync except
 * wmu, which only writers take, and gc_lock for gc's commit, which puts
 * wait for):
 *
 *   wmu      serializes writers (sync, gc, evict, pin, locations, fsck,
 *            atime flush); guards wdb.  Held across fdatasync and commit,
 *            which is the point: readers never take it.
 *   gc_lock  rwlock: put holds it shared from its "already stored?" look
 *            to the append, gc holds it exclusive for the transaction that
 *            deletes a batch (it picks the batch and reads its blocks
 *            before), so a put never dedupes against a block gc is
 *            deleting.  Held across that transaction's commit (an fsync):
 *            readers see the rows until it commits.
 *   wlock    the pack writer: appends and buffer flushes (put, and sync's
 *            first step).  Full buffers go to the writer thread, which
 *            writes them with no lock held; a put waits (under wlock)
 *            only when every buffer is queued, and sync waits for the
 *            queue to drain.  The put that rolls over to a new pack
 *            writes the padded buffer, trims the old pack and creates
 *            the new one under it.  Readers never wait for the disk.
 *   mu       everything in memory: the batches, the writer's buffers and
 *            offsets (changed under wlock and mu, so readers need only
 *            mu), the fd table, the touched map, errseq.  Never held
 *            across a disk write, fdatasync or sqlite.  Held across small
 *            file operations only: opening a pack's fd on its first use,
 *            and, on the failure path, the truncate and the reload of the
 *            last partial block (pread of under PACK_ALIGN bytes).
 *            memcpy into the write buffer happens under it, in slices of
 *            at most 256 KiB.
 *   rpool.mu the idle read connections (a leaf, core/db.h).
 */
#ifndef EFS_BSTORE_I_H
#define EFS_BSTORE_I_H

#include <pthread.h>
#include <stdatomic.h>

#include "core/bstore.h"
#include "core/db.h"
#include "core/error.h"

/* Longest multihash stored: put accepts only hashes it can verify
 * (sha2-256, blake2b-256), so 64 leaves room. */
#define BSTORE_MH_MAX 64

/* Sanity cap on a block length read from the index, whatever block_max
 * was when it was stored. */
#define BSTORE_LEN_HARD_MAX (64u << 20)

/* Highest pack id (16 Mi packs of 1 GiB: 16 PiB): bounds the fd table
 * whatever a damaged index says. */
#define PACK_ID_MAX (1u << 24)

/* Pack file: 16-byte header, then records. */
#define PACK_MAGIC "EFSPACK\n"
#define PACK_VERSION 1
#define PACK_HEADER_SIZE 16

/* A record: tag, varint codec, varint mh length, mh, varint data length,
 * data.  The index points at the data. */
#define PACK_RECORD_TAG 0xb1
#define PACK_RECORD_HDR_MAX (1 + 10 + 1 + BSTORE_MH_MAX + 10)

/* A block put but not yet in the index. */
struct pend {
	uint8_t mh[BSTORE_MH_MAX];
	uint8_t mh_len;
	uint64_t codec;
	uint32_t pack;
	uint64_t off;             /* of the data in the pack */
	uint32_t len;
	uint32_t hdr_len;         /* record header before off */
	uint8_t *links;           /* binary CIDs back to back, or NULL */
	uint32_t links_len;
	bool dup;                 /* sync found it stored already */
};

/* How far a batch wrote into one pack. */
struct pack_end {
	uint32_t pack;
	uint64_t end;
};

/* Pending blocks, with a hash index over them (mh -> v[slot - 1]). */
struct batch {
	struct pend *v;
	size_t n;
	size_t cap;
	uint32_t *slots;          /* 0 = empty, else index + 1 */
	size_t nslots;
	uint64_t bytes;
	struct pack_end *ends;    /* packs written, in order */
	size_t nends;
	size_t ends_cap;
};

struct touch {
	uint8_t mh[BSTORE_MH_MAX];
	uint8_t mh_len;           /* 0 = empty slot */
	int64_t atime;
};

/* Blocks read since the last atime flush (open addressing). */
struct touchmap {
	struct touch *slots;
	size_t nslots;
	size_t n;
};

/* Alignment of direct writes: offsets, lengths and buffers. */
#define PACK_ALIGN 4096

/* Write buffers: one filling, the rest queued for the writer thread. */
#define PACK_WBUFS 4

/* A full buffer waiting to be written. */
struct pack_chunk {
	uint8_t *buf;
	uint64_t off;
	size_t len;
};

struct packs {
	int dirfd;                /* repo/packs */
	int *fds;                 /* by pack id; -1 = not open (buffered
				     fds: reads, fdatasync, punch) */
	uint64_t *sizes;          /* by pack id: size the index records */
	size_t nfds;
	/* the writer: fields written under wlock and mu, read under either */
	uint32_t cur;             /* pack being appended to; 0 = none yet */
	uint32_t next_id;
	uint32_t first_new;       /* packs from here on were created by us */
	int wfd;                  /* cur opened for writing, or -1 */
	bool direct;              /* wfd is O_DIRECT */
	uint64_t end;             /* where the next record goes */
	uint8_t *bufs[PACK_WBUFS]; /* PACK_ALIGN-aligned, write_buffer each */
	void *raw[PACK_WBUFS];    /* what to free */
	bool busy[PACK_WBUFS];    /* queued for the writer thread */
	uint8_t *wbuf;            /* the buffer being filled: one of bufs */
	uint64_t wbuf_off;        /* pack offset of wbuf[0]; aligned */
	size_t wlen;              /* end == wbuf_off + wlen */
	bool wdirty;              /* wbuf holds bytes not yet written */
	/* full buffers, in pack order, for the writer thread (mu) */
	struct pack_chunk q[PACK_WBUFS];
	size_t qhead;
	size_t qlen;
	pthread_t writer;
	bool writer_started;
	bool stop;
	pthread_cond_t work;      /* the queue grew, or stop */
	pthread_cond_t idle;      /* a chunk was written */
	int werr;                 /* the writer thread's first failure */
	struct efs_error_state werr_msg;
	uint64_t keep;            /* never truncate cur below this */
	uint64_t wb_done;         /* buffered mode: writeback started to */
	bool dir_dirty;           /* a pack was created since the last sync */
	bool broken;              /* cur cannot take appends: roll over */
	/* fault injection (enum bstore_fault) */
	int fail_errno[2];
	int fail_after[2];
	int fsync_delay_ms;
};

struct bstore {
	char *dir;
	char *db_path;
	struct bstore_opts opts;
	int lockfd;

	pthread_mutex_t wmu;
	struct db *wdb;           /* the writer's connection (wmu) */

	pthread_rwlock_t gc_lock;

	pthread_mutex_t wlock;

	pthread_mutex_t mu;
	struct batch open;        /* pending, not yet taken by a sync */
	struct batch *syncing;    /* taken by the sync in flight, or NULL */
	struct packs pk;
	struct touchmap touched;
	uint64_t touch_dropped;   /* touches lost because the map was full */
	uint64_t errseq;          /* failures that dropped pending blocks */
	int last_fail;            /* code of the latest such failure */
	int64_t last_flush;       /* when atimes were last flushed */

	bool deferred;            /* a deferred commit not yet made
				     durable by us (wmu) */

	/* counters changed by the open write transaction (wmu) */
	int64_t delta_count[BSTORE_NSTATES];
	int64_t delta_bytes[BSTORE_NSTATES];

	atomic_llong test_now;    /* 0 = real clock */

	struct db_pool rpool;     /* idle read connections */
};

/* ---- bstore.c ---- */

int64_t bstore_now(struct bstore *bs);


/* The CIDv1 for a stored codec and multihash.  EFS_ECORRUPT if bad. */
int bstore_cid_from_mh(struct cid *out, uint64_t codec, const uint8_t *mh,
		       size_t mh_len);

/* An index row, as read and checked. */
struct bstore_row {
	uint64_t codec;
	enum bstore_state state;
	uint32_t pack;
	uint64_t off;
	uint32_t len;
	int64_t refs;
	int64_t atime;
};

/*
 * Decode the row fields codec, state, pack, off, len, refs, atime from
 * the columns col .. col + 6 of st, checking their ranges (not the pack
 * bounds: bstore_row_check).  Returns 0 or EFS_ECORRUPT.
 */
int bstore_row_decode(struct bstore_row *out, sqlite3_stmt *st, int col);

/* The binary CID in column col of st.  Returns 0 or EFS_ECORRUPT. */
int bstore_column_cid(struct cid *out, sqlite3_stmt *st, int col);

/*
 * Read mh's row on db.  Returns 0, EFS_ENOTFOUND, EFS_ECORRUPT (malformed
 * row) or db errors.
 */
int bstore_row_get(struct bstore_row *out, struct bstore *bs, struct db *db,
		   const uint8_t *mh, size_t mh_len);

/* Check a row's fields; the message names what is wrong. */
int bstore_row_check(struct bstore *bs, const struct bstore_row *row);

/*
 * Read a LOCAL block's bytes (row) and verify them against id, appending
 * to out.  Returns 0, EFS_EMISMATCH, EFS_ECORRUPT, EFS_EIO, buf errors.
 */
int bstore_read_verify(struct bstore *bs, const struct cid *id,
		       const struct bstore_row *row, struct buf *out);

/* Collect the links of a block as back-to-back binary CIDs into out. */
int bstore_links_collect(struct buf *out, const struct cid *id,
			 const uint8_t *data, size_t len);

/* ---- bstore_pack.c ---- */

int bstore_pack_init(struct bstore *bs);
void bstore_pack_release(struct bstore *bs);

/* Encode a record header; returns its length. */
size_t bstore_pack_record_header(uint8_t *out, uint64_t codec,
				 const uint8_t *mh, size_t mh_len, size_t len);

/*
 * Append p's record (wlock held, mu not): sets p->pack, off, hdr_len, len
 * and notes the pack end in b.  Returns 0 or an error (the caller runs
 * bstore_fail_locked).
 */
int bstore_pack_append(struct bstore *bs, struct batch *b, struct pend *p,
		       const uint8_t *data, size_t len);

/* Write the partly filled buffer out, padded (wlock held).  0 or error. */
int bstore_pack_flush(struct bstore *bs);

/*
 * Copy what of a pending block's bytes sits in the writer's buffers (mu
 * held).  Returns how many leading bytes are not buffered: those are in
 * the file, to pread after mu is dropped.
 */
size_t bstore_pack_read_buffered(struct bstore *bs, uint8_t *dst,
				 uint32_t pack, uint64_t off, size_t len);

/* The fd of pack id (mu held), opened on first use.  0 or error. */
int bstore_pack_fd_locked(int *out, struct bstore *bs, uint32_t id);

/* pread exactly len bytes (no lock held).  EFS_ECORRUPT when short. */
int bstore_pack_pread(struct bstore *bs, uint8_t *dst, uint32_t pack,
		      uint64_t off, size_t len);

/* fdatasync a pack (no lock held; honours fault injection). */
int bstore_pack_datasync(struct bstore *bs, int fd, uint32_t id);

/* fsync the packs directory if a pack was created (wmu held). */
int bstore_pack_dirsync(struct bstore *bs, bool dirty);

/* Free [off, off + len) of a pack's bytes (no lock held).  Best effort:
 * a filesystem without hole punching keeps the bytes. */
void bstore_pack_punch(struct bstore *bs, uint32_t pack, uint64_t off,
		uint64_t len);

/* After a failure (wlock and mu held): cut cur back to keep and reload
 * the buffer from there. */
void bstore_pack_rewind_locked(struct bstore *bs);

/* At close (wlock held): drop the padding after the last record. */
void bstore_pack_trim(struct bstore *bs);

/* Bytes the current pack may hold past end (padding of direct writes). */
uint64_t bstore_pack_slack_locked(struct bstore *bs, uint32_t id);

/* The size the index records for a pack (mu held); 0 if unknown. */
uint64_t bstore_pack_size_locked(struct bstore *bs, uint32_t id);

/* Record a committed pack size (mu held). */
int bstore_pack_size_set_locked(struct bstore *bs, uint32_t id, uint64_t size);

/* Reload the partly filled block at the end of cur (mu held). */
int bstore_pack_load_tail_locked(struct bstore *bs);

/* ---- bstore_recover.c ---- */

/*
 * Recovery at open (wmu held): truncate each pack to the size the index
 * records, remove pack files newer than the index knows, refuse packs
 * with data when the index is new.  Loads the size table and picks the
 * pack to continue.
 */
int bstore_recover(struct bstore *bs, bool fresh_index);

/* Call cb for each pack file in packs/ (wmu held). */
int bstore_recover_scan(struct bstore *bs,
			int (*cb)(uint32_t id, uint64_t size, bool header_ok,
				  void *payload),
			void *payload);


/* ---- bstore_batch.c ---- */

void bstore_batch_init(struct batch *b);
void bstore_batch_release(struct batch *b);
/* Forget the entries, keeping allocations. */
void bstore_batch_clear(struct batch *b);
/* Reserve room for one more entry (so add cannot fail). 0 or ENOMEM. */
int bstore_batch_reserve(struct batch *b);
/* Add an entry (after batch_reserve); takes p->links. */
void bstore_batch_add(struct batch *b, const struct pend *p);
/* Note that the batch wrote pack up to end. 0 or ENOMEM. */
int bstore_batch_note_end(struct batch *b, uint32_t pack, uint64_t end);
/* Find mh in the open batch or the one being synced (mu held). */
struct pend *bstore_pending_locked(struct bstore *bs, const uint8_t *mh,
				   size_t mh_len);

void bstore_touch_init(struct touchmap *t);
void bstore_touch_release(struct touchmap *t);
/* Record atime for mh; false when the map is full. */
bool bstore_touch_set(struct touchmap *t, size_t max, const uint8_t *mh,
		  size_t mh_len, int64_t atime);
bool bstore_touch_has(const struct touchmap *t, const uint8_t *mh,
		  size_t mh_len);

/* ---- bstore_sync.c ---- */

/*
 * A failure lost pending blocks (mu held): drop the open batch, rewind the
 * pack writer, bump errseq.  Returns code.
 */
int bstore_fail_locked(struct bstore *bs, int code);

/* Note a change of a state's counters (wmu held, in a transaction). */
void bstore_totals_add(struct bstore *bs, enum bstore_state state,
		       int64_t count, int64_t bytes);

/* Commit the write transaction with the counters; roll back on error. */
int bstore_commit(struct bstore *bs);

/*
 * BEGIN IMMEDIATE at a safety level (wmu held): full waits for the disk
 * at commit; !full is a deferred commit (bstore.h): bstore_end_deferred
 * after it notes it.
 */
int bstore_begin_mode(struct bstore *bs, bool full);
/*
 * End a transaction begun with bstore_begin_mode (wmu held): commit it when
 * error is 0 (bstore_commit), else roll it back; then back to FULL, noting
 * a committed deferred transaction.  Returns the transaction's outcome.
 */
int bstore_end_mode(struct bstore *bs, bool full, int error);
void bstore_rollback(struct bstore *bs);

/* The key of a CID; EFS_EUNSUPPORTED when over BSTORE_MH_MAX. */
int bstore_key(uint8_t *mh, size_t *mh_len, const struct cid *id);

/*
 * Add delta to the refs of the block cid names; a missing block gets an
 * ABSENT row (delta > 0).  wmu held, in a transaction.
 */
int bstore_refs_add(struct bstore *bs, const struct cid *id, int delta);

/* bstore_refs_add for each CID of a links list (bstore_links_collect). */
int bstore_refs_add_links(struct bstore *bs, const uint8_t *links,
			  size_t len, int delta);

/* ---- bstore_gc.c ---- */

/* SQL shared between files. */
extern const char bstore_sql_row_get[];

/* Is a location recorded for mh (on db)?  1, 0 or a db error. */
int bstore_has_location(struct db *db, const uint8_t *mh, size_t mh_len);

#endif
