/*
 * piece_i.h - what the piece files share: the store, its tables and the
 * helpers they all use.  Internal to dealer/.
 *
 * Files:
 *   piece.c         open/close, limits, schema, read connections, hooks
 *   piece_add.c     piece_add_commit: stream, hash, cut, record
 *   piece_tick.c    piece_tick: grouping sub-pieces into aggregates
 *   piece_locate.c  block locations of recorded pieces
 *   piece_query.c   piece_get and the walks
 *   piece_reader.c  the payload reader
 *
 * Tables (module "piece" of index.db):
 *
 *   piece_commit  commit_id PK, root (binary CID), stage (enum
 *                 piece_stage), since, car_size, header_len, blocks,
 *                 comm (CommP root of its whole CAR, NULL when split),
 *                 padded (of that CommP; 0 when split)
 *   piece_block   (commit_id, off) PK, WITHOUT ROWID: one row per section
 *                 of the commit's CAR: off = the section's offset in that
 *                 CAR, cid = the section's binary CID as written, len =
 *                 the block's bytes.  The section is varint(len(cid) +
 *                 len) cid block, so nothing else is needed to rebuild it.
 *   piece         id PK, kind, comm (32-byte CommP root), padded, payload,
 *                 label (binary CID or NULL), created, members, shard,
 *                 shards, state (enum piece_state), index_off and
 *                 index_bytes (aggregates: where the data segment index
 *                 region starts in the payload and its bytes up to the
 *                 last non-zero one; the rest of the region is zeros)
 *   piece_part    (piece_id, off) PK, WITHOUT ROWID: one row per member:
 *                 off = payload offset of its first byte, commit_id,
 *                 header = its CAR header bytes (varint first), the
 *                 sections [car_start, car_end) of the commit's CAR that
 *                 follow it; aggregates also sub_comm, sub_padded,
 *                 seg_off, seg_size (its index entry) and proof.
 *
 * A part's bytes in the payload: header, then the commit CAR's bytes
 * from car_start to car_end.  Between parts and up to the index (or the
 * end of the payload) the payload is zeros.
 *
 * Locks: mu serializes the writers (add, tick, set_limits) and guards
 * wdb and cp; mmu guards lim (written under both) and the test hooks;
 * rpool (core/db.h) has its own leaf lock.  mu is taken before mmu; mmu is never
 * held across sqlite or block reads.
 */
#ifndef EFS_DEALER_PIECE_I_H
#define EFS_DEALER_PIECE_I_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/cid.h"
#include "core/commp.h"
#include "core/db.h"
#include "dealer/piece.h"

/* Rows per transaction and locations per bstore_locations_add. */
#define PIECE_BATCH_DEFAULT 4096
/* Idle read connections kept. */
#define PIECE_POOL_MAX 8
/* Bytes handed to CommP at a time: whole chunks, so its threads share
 * the work (commp.h). */
#define PIECE_HASH_BUF (8 * COMMP_CHUNK_BYTES)

enum piece_state {
	PIECE_STATE_LOCATING = 0, /* recorded; locations being written */
	PIECE_STATE_READY = 1,    /* locations written: deals may start */
};

struct piece_store {
	struct bstore *bs;        /* NULL when read-only */

	pthread_mutex_t mu;
	struct db *wdb;           /* mu; NULL when read-only
				     (piece_store_open_ro) */
	struct commp *cp;         /* mu: the hasher, threads kept */

	pthread_mutex_t mmu;
	struct piece_limits lim;  /* mmu to read outside mu; mu + mmu to
				     write */
	struct db_pool rpool;     /* idle read connections */
	size_t batch;             /* mmu */
	int64_t test_now;         /* mmu */
	enum piece_test_point stop; /* mmu */
};

/*
 * The multihash of a binary CID column c of piece_block, the key of the
 * blockstore's blocks table (core/bstore.c): a v0 CID is its multihash;
 * a v1 CID is 0x01, the codec's varint (1 to 3 bytes for any codec in
 * use), then the multihash.  The index piece_block_mh is on this
 * expression: a query uses it only when it spells it the same way.
 */
#define PIECE_BLOCK_MH(c)                                                \
	"CASE WHEN substr(" c ", 1, 1) != x'01' THEN " c                 \
	" WHEN substr(" c ", 2, 1) < x'80' THEN substr(" c ", 3)"        \
	" WHEN substr(" c ", 3, 1) < x'80' THEN substr(" c ", 4)"        \
	" ELSE substr(" c ", 5) END"

/* piece.c */

/* The clock of add (unix seconds; the test clock when set). */
int64_t piece_now(struct piece_store *ps);

/* The largest padded size P with P * 127/128 <= payload (0: none):
 * the largest aggregate max_payload allows. */
uint64_t piece_padded_max(uint64_t payload);

/* Rows per transaction. */
size_t piece_batch(struct piece_store *ps);

/* 0, or EFS_EINVAL naming what when ps was opened read-only (it has no
 * write connection and no blockstore). */
int piece_check_writable(struct piece_store *ps, const char *what);

/* True (once) when the test hook asks to stop at point p. */
bool piece_test_stop(struct piece_store *ps, enum piece_test_point p);

/* The CARv1 header naming root, varint first, appended to out. */
int piece_car_header(struct buf *out, const struct cid *root);

/* The framing before a block: varint(len(cid) + blen) and the CID bytes,
 * into out (room for VARINT_MAX_LEN + CID_BYTES_MAX); returns its
 * length. */
size_t piece_section_prefix(uint8_t *out, const uint8_t *cid, size_t cidlen,
			    uint64_t blen);

/* Column col as a binary CID; EFS_ECORRUPT naming what when it is not. */
int piece_column_cid(struct cid *out, sqlite3_stmt *st, int col,
		     const char *what);

/* Column col as a 32-byte CommP root; EFS_ECORRUPT when it is not. */
int piece_column_root(uint8_t out[COMMP_NODE_SIZE], sqlite3_stmt *st,
		      int col);

/* The piece described by a CommP root, padded size and payload size from
 * the tables; EFS_ECORRUPT when they do not make one. */
int piece_commp_from_row(struct commp_piece *out,
			 const uint8_t root[COMMP_NODE_SIZE], uint64_t padded,
			 uint64_t payload);

/* piece_query.c */

/* piece_get on connection db (inside the caller's transaction, if any). */
int piece_get_on(struct piece_info *out, struct db *db, int64_t piece_id);

/* piece_locate.c */

/* Write the locations of every block of recorded piece piece_id to the
 * blockstore, then mark it ready.  Idempotent. */
int piece_locate(struct piece_store *ps, int64_t piece_id);

/* piece_locate for every piece not yet ready: of commit_id, or of all
 * commits when commit_id < 0. */
int piece_locate_pending(struct piece_store *ps, int64_t commit_id);

#endif
