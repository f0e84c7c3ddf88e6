/*
 * piece.h - pieces: what the dealer makes deals for.  Turns commits (a
 * commit ID and its root CID) into pieces, records where every block
 * lies in them, and reads any piece's payload back at any offset for the
 * SP that pulls it (GET with Range on the daemon's transfer URL).  The
 * payload is never stored: its bytes are made again from the blockstore
 * and the recorded layout.
 *
 * A commit's CAR is car_write_dag's output for its root (core/car.h: the
 * deterministic CARv1, DFS pre-order, each block once).  piece_add_commit
 * streams it once through CommP and records each section's place, then:
 *
 *   padded size >= min_padded, payload <= max_payload
 *       its own piece (PIECE_CAR), labelled with the commit root;
 *   payload > max_payload
 *       split into shards (PIECE_SHARD): CARv1 files of at most
 *       max_payload bytes, each holding a consecutive run of the DFS
 *       order, each its own piece;
 *   padded size < min_padded
 *       a sub-piece (its own CommP) waiting in the open aggregate, which
 *       piece_tick closes into one PIECE_AGGREGATE piece (FRC-0058: the
 *       sub-pieces' CARs at aligned offsets, the data segment index at
 *       the end, an inclusion proof per member).
 *
 * Shard headers: every shard is a valid CARv1 with exactly one root
 * (go-car needs at least one, Lotus and the Filecoin tooling exactly
 * one), and that root is the shard's own first block, so the root is
 * always present in the CAR (what the CAR spec asks, and what an SP that
 * derives the payload CID from the piece finds).  Shard 0 therefore names the
 * commit root and is byte for byte a prefix of the commit's whole CAR.
 * The first block of shard k > 0 is the top of the subtree the cut fell
 * in: every block of a shard hangs, through first-visit DFS edges inside
 * the shard, below either that root or one of the later siblings of its
 * ancestors (the shard's other "tops"); a DAG under the root is complete
 * in the shard only when it fits.  Each shard is retrievable on its own
 * by piece CID and byte range (the recorded locations), and by CID from
 * an SP that indexes it.
 *
 * Stages of a commit (piece_of_commit):
 *
 *   (none) --add--> SIZING --fits, large--> PIECED (one PIECE_CAR)
 *                     |  \---too big------> PIECED (n PIECE_SHARDs)
 *                     \---small-----------> WAITING --tick--> PIECED
 *                                                 (member of an AGGREGATE)
 *
 * A piece is recorded first (with its members) and then its blocks'
 * locations go to the blockstore (bstore_locations_add: block, piece CID
 * v1, offset of the block's bytes in the payload, length); only then is
 * it ready for deals (piece_foreach_ready).
 *
 * Crash safety: every step is one sqlite transaction.  A kill -9 leaves
 * either nothing of a commit (rows of a commit still SIZING are dropped
 * at the next open) or its complete record; a recorded piece whose
 * locations were not all written is finished by the next piece_tick or
 * piece_add_commit of that commit.  Calling piece_add_commit again for a
 * commit, or piece_tick again, never makes a duplicate.
 *
 * Limits change with piece_store_set_limits; they apply to commits added
 * and aggregates closed afterwards (a waiting sub-piece stays one).
 *
 * Memory: in sqlite, one row of about 60 bytes per block of each commit
 * (its CID, its section's offset and the block length; 57 bytes a block
 * measured with 1 KiB blocks, b-tree included); in RAM while a
 * commit is streamed, a hashing buffer of about 8 MiB and a batch of
 * rows, plus what car_write_dag holds (about 50 bytes per block).
 * Readers hold one block.
 *
 * Threads: struct piece_store is internally locked; any thread may call
 * any function.  piece_add_commit, piece_tick and piece_store_set_limits
 * run one at a time; queries and readers use their own read connections
 * and never wait for them.  A struct piece_reader is used by one thread
 * at a time.
 */
#ifndef EFS_DEALER_PIECE_H
#define EFS_DEALER_PIECE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cid.h"
#include "core/commp.h"

struct bstore;
struct piece_store;
struct piece_reader;

struct piece_limits {
	uint64_t min_padded;        /* pieces below this padded size are
				       aggregated (FRC-0058); a power of two */
	uint64_t agg_target_padded; /* an aggregate closes once the padded
				       sizes of its sub-pieces reach this */
	int64_t agg_max_age_s;      /* or once its oldest member waited this
				       long (seconds) */
	uint64_t max_payload;       /* largest payload of one piece: bigger
				       commits are split; aggregates stay
				       within it too */
};

/* The dealer's defaults (dealer/config.c): 1 GiB, 16 GiB, 8 hours, and
 * 90% of a 32 GiB sector's unpadded capacity. */
#define PIECE_LIMITS_INIT                                                  \
	{                                                                  \
		.min_padded = 1ull << 30, .agg_target_padded = 16ull << 30, \
		.agg_max_age_s = 8 * 3600,                                 \
		.max_payload = (32ull << 30) / 128 * 127 / 10 * 9,         \
	}

enum piece_kind {
	PIECE_CAR = 0,       /* one commit's whole CAR */
	PIECE_SHARD = 1,     /* one of the CARs a big commit is split into */
	PIECE_AGGREGATE = 2, /* FRC-0058 aggregate of small commits */
};

/* "car", "shard", "aggregate"; "unknown" for other values. */
const char *piece_kind_name(enum piece_kind k);

enum piece_stage {
	PIECE_STAGE_SIZING = 0,  /* its CAR is being streamed and hashed */
	PIECE_STAGE_WAITING = 1, /* a sub-piece in the open aggregate */
	PIECE_STAGE_PIECED = 2,  /* in its piece(s) */
};

/* "sizing", "waiting", "pieced"; "unknown" for other values. */
const char *piece_stage_name(enum piece_stage s);

/*
 * Open the piece tables in the index db_path (module "piece", migrated
 * here; rows of commits left SIZING by a crash are dropped) over the
 * blockstore bs (borrowed until piece_store_close), with limits lim
 * (NULL: PIECE_LIMITS_INIT).  Returns 0, EFS_EINVAL (bad limits, see
 * piece_store_set_limits), EFS_ENOMEM, EFS_ERROR (a hashing thread
 * could not start) or db errors.  *out is the caller's.
 */
int piece_store_open(struct piece_store **out, const char *db_path,
		     struct bstore *bs, const struct piece_limits *lim);

/*
 * Open the piece tables of db_path read-only, for the CLI beside a daemon
 * that holds the blockstore: no blockstore, no migration, no writes.
 * The queries work (piece_get, the walks, piece_of_commit, whose close_at
 * follows lim's agg_max_age_s; NULL: PIECE_LIMITS_INIT); piece_add_commit,
 * piece_tick and readers are refused with EFS_EINVAL.  Returns 0,
 * EFS_ENOTFOUND (no index file, or no piece tables in it: the dealer
 * never ran), EFS_EUNSUPPORTED (tables of a newer build), EFS_EINVAL
 * (bad limits), EFS_ENOMEM or db errors (EFS_ECORRUPT: not a database).
 */
int piece_store_open_ro(struct piece_store **out, const char *db_path,
			const struct piece_limits *lim);

/* Free the store (readers must be closed first).  NULL is fine. */
void piece_store_close(struct piece_store *ps);

/*
 * Replace the limits.  Returns 0, or EFS_EINVAL when min_padded is not a
 * power of two of at least 128, agg_target_padded is 0, agg_max_age_s
 * is negative, or max_payload cannot hold an aggregate of min_padded
 * (the largest power of two P with P * 127/128 <= max_payload must be
 * >= min_padded and >= 512).
 */
int piece_store_set_limits(struct piece_store *ps,
			   const struct piece_limits *lim);

/* The current limits. */
void piece_store_limits(struct piece_limits *out, struct piece_store *ps);

/*
 * Make commit commit_id (root: its root CID) into pieces, or a sub-piece
 * waiting for aggregation: see the stages above.  Reads every block of
 * the DAG once from the blockstore (long for a big commit: no database
 * write lock is held while blocks are read).  Calling it again for a
 * commit already past SIZING does nothing but finish recording its
 * pieces' locations.  Returns 0; EFS_EINVAL (commit_id already added
 * with another root); what the blockstore returns for a block
 * (EFS_ENOTFOUND, EFS_EEVICTED, EFS_EMISMATCH...); EFS_ECORRUPT or
 * EFS_EUNSUPPORTED (a block whose links do not decode); EFS_ETOOBIG (one
 * block's section does not fit max_payload); EFS_ENOMEM; db errors.  On
 * failure nothing of the commit is kept.
 */
int piece_add_commit(struct piece_store *ps, int64_t commit_id,
		     const struct cid *root);

/*
 * Close the aggregates that are due at time now (unix seconds): while
 * the waiting sub-pieces (oldest first) fill an aggregate to
 * agg_target_padded, or the next one would not fit an aggregate of at
 * most max_payload, that group is closed; what is left is closed too
 * when its oldest member has waited agg_max_age_s (even alone: an
 * aggregate of one, padded to min_padded, so it gets deals).  Each
 * member's inclusion proof is made and verified before it is recorded.
 * Then writes the locations of the new aggregates and of any piece a
 * crash left without them (a piece that fails there does not hold up
 * the others: the first failure is returned after all were tried; a
 * piece stays not ready until it succeeds).  The number of aggregates
 * closed goes to *closed (may be NULL).  Call it every minute or so.
 * Returns 0, EFS_ENOMEM, EFS_ECORRUPT (a stored row is malformed),
 * EFS_ERROR (a proof did not verify: a bug), blockstore or db errors.
 */
int piece_tick(struct piece_store *ps, int64_t now, size_t *closed);

struct piece_info {
	int64_t id;
	enum piece_kind kind;
	struct commp_piece piece; /* CommP root and sizes; its CIDs are
				     commp_cid_v1 and commp_cid_v2 */
	struct cid cid;           /* piece CID v1 (baga...) */
	uint64_t padded;          /* padded piece size (a power of two) */
	uint64_t payload;         /* bytes an SP downloads */
	/*
	 * car and shard (has_label): the root its CAR header names, for
	 * the deal's DealDataRoot and Label, so that an SP looking the
	 * payload CID up in the piece finds it: the commit root for a car
	 * and for shard 0, the shard's first block for shard k > 0.  And
	 * the commit it holds, whose root is commit_root.
	 */
	bool has_label;
	struct cid label;
	int64_t commit_id;        /* -1 for an aggregate */
	struct cid commit_root;
	int64_t created;          /* unix seconds */
	size_t members;           /* commits in it (1 for car and shard) */
	unsigned shard;           /* shard: its index, 0-based */
	unsigned shards;          /* shard: how many the commit has; else 0 */
	bool ready;               /* locations recorded: deals may be made */
};

typedef int (*piece_info_cb)(const struct piece_info *p, void *cls);

/* One piece.  Returns 0, EFS_ENOTFOUND, EFS_ECORRUPT or db errors. */
int piece_get(struct piece_info *out, struct piece_store *ps,
	      int64_t piece_id);

/*
 * Call cb for every piece ready for deals, oldest first (one read
 * snapshot).  cb's info is borrowed; a non-zero return stops the walk
 * and is returned.  cb may call any piece function.  Returns 0, cb's
 * value, EFS_ECORRUPT or db errors.
 */
int piece_foreach_ready(struct piece_store *ps, piece_info_cb cb, void *cls);

struct piece_commit_info {
	int64_t commit_id;
	struct cid root;
	enum piece_stage stage;
	int64_t since;            /* when it entered its stage */
	int64_t close_at;         /* WAITING: when its aggregate closes at
				     the latest (sooner once full) */
	uint64_t car_size;        /* bytes of its whole CAR (0: sizing) */
	uint64_t blocks;          /* sections in it */
	uint64_t padded;          /* its CAR's padded size as one piece;
				     0 when it was split */
	size_t pieces;            /* pieces holding it */
};

/* A commit's stage.  Returns 0, EFS_ENOTFOUND (never added),
 * EFS_ECORRUPT or db errors. */
int piece_of_commit(struct piece_commit_info *out, struct piece_store *ps,
		    int64_t commit_id);

/*
 * Call cb for every commit the store knows (any stage), in commit ID
 * order, as piece_of_commit describes it (one read snapshot; cb's info
 * is borrowed).  Same callback rules as piece_foreach_ready.  Returns 0,
 * cb's value, EFS_ECORRUPT or db errors.
 */
typedef int (*piece_commit_cb)(const struct piece_commit_info *c, void *cls);
int piece_commits_foreach(struct piece_store *ps, piece_commit_cb cb,
			  void *cls);

/*
 * How many of commit_id's blocks (the sections of its CAR) the
 * blockstore of the same index holds EVICTED, and their bytes: read from
 * the blockstore's own table, so it works beside a daemon holding the
 * blockstore.  0 and 0 for a commit never added (a commit still SIZING
 * counts the blocks recorded so far).  Costs one lookup when nothing in
 * the blockstore is evicted, else one per block of the commit.  Returns
 * 0 or db errors.
 */
int piece_commit_evicted(uint64_t *blocks, uint64_t *bytes,
			 struct piece_store *ps, int64_t commit_id);

/*
 * Call cb for every commit whose CAR holds block (any stage; matched by
 * multihash, so the block's v0 and v1 CIDs, and its bytes under another
 * codec, are one block, as in the blockstore), in commit ID order: what
 * the evictor asks before it frees a block (DESIGN.md invariant 2).  One
 * index search (index piece_block_mh); read-only stores too.  Same
 * callback rules as piece_foreach_ready.  Returns 0, cb's value or db
 * errors.
 */
typedef int (*piece_block_commit_cb)(int64_t commit_id, void *cls);
int piece_block_commits(struct piece_store *ps, const struct cid *block,
			piece_block_commit_cb cb, void *cls);

/* A commit's place in a piece. */
struct piece_member {
	int64_t piece_id;
	int64_t commit_id;
	uint64_t offset;          /* of its first byte in the payload */
	uint64_t length;          /* its bytes: CAR header and sections */
	uint64_t car_start;       /* the sections of the commit's CAR it */
	uint64_t car_end;         /* holds: [car_start, car_end) */
	/* aggregates only (has_sub) */
	bool has_sub;
	struct commp_piece sub;   /* the sub-piece (CommP of its CAR) */
	struct cid sub_cid;       /* its piece CID v1 */
	uint64_t seg_offset;      /* its data segment: padded offset and */
	uint64_t seg_size;        /* size in the aggregate (index entry) */
	const uint8_t *proof;     /* inclusion proof, datasegment_proof_
				     encode's bytes; borrowed */
	size_t proof_len;
};

typedef int (*piece_member_cb)(const struct piece_member *m, void *cls);
typedef int (*piece_holding_cb)(const struct piece_info *p,
				const struct piece_member *m, void *cls);

/*
 * Call cb for each member of piece piece_id in payload order (one for a
 * car or a shard).  Same callback rules as piece_foreach_ready.
 * Returns 0, cb's value, EFS_ENOTFOUND, EFS_ECORRUPT or db errors.
 */
int piece_members(struct piece_store *ps, int64_t piece_id,
		  piece_member_cb cb, void *cls);

/*
 * Call cb for each piece holding commit commit_id (its shards in order),
 * with the commit's place in it.  None while the commit is SIZING or
 * WAITING.  Same callback rules; returns 0, cb's value, EFS_ECORRUPT or
 * db errors.
 */
int piece_commit_foreach(struct piece_store *ps, int64_t commit_id,
			 piece_holding_cb cb, void *cls);

/* ---- reading payloads ---- */

/*
 * A reader of piece piece_id's payload.  Returns 0, EFS_ENOTFOUND,
 * EFS_ECORRUPT, EFS_ENOMEM, db errors.  Free with piece_reader_close.
 */
int piece_reader_open(struct piece_reader **out, struct piece_store *ps,
		      int64_t piece_id);

/* The payload's size in bytes. */
uint64_t piece_reader_size(const struct piece_reader *r);

/*
 * Fill buf with exactly len bytes of the payload from offset off: CAR
 * headers, section framing and CIDs from the records, block bytes from
 * the blockstore (re-hashed against their CIDs), zero fill, and an
 * aggregate's data segment index.  A seek costs O(log n) lookups; reads
 * in order go section by section.  Returns 0; EFS_EINVAL (the range
 * passes the end); EFS_EEVICTED (a block in the range was evicted: it
 * must be retrieved first, issue 6); EFS_ENOTFOUND, EFS_EMISMATCH or
 * EFS_EIO from the blockstore; EFS_ECORRUPT (a record or a block
 * length disagrees); EFS_ENOMEM; db errors.  buf's contents are
 * undefined after an error.
 */
int piece_reader_read(struct piece_reader *r, uint64_t off, void *buf,
		      size_t len);

/* Free a reader.  NULL is fine. */
void piece_reader_close(struct piece_reader *r);

/*
 * The same with dealer/transfer.h's source shape, cls being the struct
 * piece_store: open puts the reader in *src and the size in *size.
 */
int piece_transfer_open(void **src, uint64_t *size, void *cls,
			int64_t piece_id);
int piece_transfer_read(void *src, uint64_t off, uint8_t *buf, size_t len);
void piece_transfer_close(void *src);

/*
 * Those three as the transfer server's source (ops_cls: the struct
 * piece_store; no bandwidth callback: copy it and set `sent` for one):
 *
 *	transfer_open(&t, db_path, &piece_source_ops, ps);
 */
struct transfer_source_ops;
extern const struct transfer_source_ops piece_source_ops;

/* ---- test hooks ---- */

enum piece_test_point {
	PIECE_TEST_NONE = 0,
	PIECE_TEST_ROWS,      /* after the first batch of block rows */
	PIECE_TEST_RECORDED,  /* after a commit's pieces are recorded */
	PIECE_TEST_LOCATED,   /* after the first batch of locations */
	PIECE_TEST_AGGREGATE, /* after an aggregate is recorded */
};

/*
 * Make the next add or tick that reaches point stop there with
 * EFS_ECANCELED and leave the database as a kill -9 at that point would
 * (no clean-up), once.  PIECE_TEST_NONE cancels.
 */
void piece_store_test_stop(struct piece_store *ps,
			   enum piece_test_point point);

/* Rows (and locations) per transaction; 0 restores the default. */
void piece_store_test_batch(struct piece_store *ps, size_t n);

/* Use now (unix seconds) as the clock of piece_add_commit; 0: real. */
void piece_store_test_clock(struct piece_store *ps, int64_t now);

#endif
