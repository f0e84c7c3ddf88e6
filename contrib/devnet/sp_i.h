/*
 * sp_i.h - what the files of the devnet's storage-provider half share.
 * Internal to contrib/devnet.
 *
 *	sp.c           lifecycle (sp_start/sp_stop), request routing, the
 *	               per-request faults (offline, slow, 429)
 *	sp_worker.c    the SP's worker thread: deal queue, sealing clock,
 *	               going offline and back
 *	sp_deal.c      one deal's pipeline: transfer, CommP, publish, seal
 *	sp_transfer.c  the pull of a deal's CAR over HTTP (libcurl)
 *	sp_ingest.c    storing a received piece and indexing its blocks
 *	sp_mk12.c      /market/mk12/ask, /store, /status
 *	sp_db.c        the "sp" tables in the devnet's state database
 *	sp_piece.c     /piece/{pieceCid} (FRC-0066)
 *	sp_gateway.c   /ipfs/{cid} (trustless gateway): the request
 *	sp_carwalk.c   /ipfs/{cid}: the CAR it streams
 *	sp_parse.c     Range, Accept, entity-bytes (sp_parse.h; fuzzed)
 *	ipni.c         /cid, /multihash, /routing/v1 on the main listener
 *
 * Files: pieces live in <devnet dir>/sp/<miner id>/piece/<v1 cid>.car, a
 * transfer in progress in .../incoming/<uuid>.car; the sp tables store
 * paths relative to the devnet directory.
 */
#ifndef EFS_DEVNET_SP_I_H
#define EFS_DEVNET_SP_I_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contrib/devnet/devnet.h"
#include "core/buf.h"
#include "core/car.h"
#include "core/cid.h"
#include "core/commp.h"
#include "core/db.h"
#include "core/mk12.h"
#include "core/mk12_http.h"

struct http_req;

/* Deals waiting for the worker (accepted, not yet published; the queue
 * is the sp_deal table); past it proposals get Curio's backpressure
 * message. */
#define SP_QUEUE_MAX 64
/* How often the worker looks at the chain and the faults. */
#define SP_TICK_MS 100
/* A deal's CAR transfer gives up after this long, or when slower than
 * SP_TRANSFER_MIN_BPS for SP_TRANSFER_STALL_S seconds. */
#define SP_TRANSFER_TIMEOUT_S 3600
#define SP_TRANSFER_MIN_BPS 1024
#define SP_TRANSFER_STALL_S 30
/* Largest path the SP builds. */
#define SP_PATH_MAX 4096

/* One simulated storage provider (devnet_miner.sp). */
struct sp {
	struct devnet *d;
	struct devnet_miner *m;
	char dir[SP_PATH_MAX];       /* <devnet dir>/sp/<id> */
	char rel[64];                /* "sp/<id>", what the tables store */

	pthread_mutex_t lock;        /* guards the fields below */
	pthread_cond_t cond;         /* kicked, or stopping */
	bool kicked;                 /* a deal was accepted */
	bool stopping;
	uint64_t rng;                /* xorshift64* state for the faults */
	struct http_server *http;    /* NULL while offline */

	/* the worker's own */
	pthread_t worker;
	bool worker_started;
	struct db *db;               /* the worker's connection */
	int64_t tick_head;           /* head at the last sp_deal_tick */
	bool listen_failed;          /* going back online failed */
	struct devnet_fault tick_fault; /* faults then */
};

/*
 * Deal states (sp_deal.state).  Numbers are stored: never renumber.
 *
 *	ACCEPTED ──► TRANSFERRED ──► PUBLISHED ──► ACTIVE
 *	    │             │              │
 *	    └─────────────┴──────────────┴──► FAILED (error says why)
 */
enum sp_deal_state {
	SP_DEAL_ACCEPTED = 0,    /* queued: CAR not received yet */
	SP_DEAL_TRANSFERRED = 1, /* CommP checked, piece stored */
	SP_DEAL_PUBLISHED = 2,   /* on chain; sealing until seal_at */
	SP_DEAL_ACTIVE = 3,      /* sealed: market_activate done */
	SP_DEAL_FAILED = 4,
};

/* A row of sp_deal. */
struct sp_deal {
	uint8_t uuid[MK12_UUID_LEN];
	uint64_t miner;
	enum sp_deal_state state;
	char error[512];
	struct mk12_deal_params params;  /* decoded from the stored body */
	uint64_t piece_id;               /* 0 until TRANSFERRED */
	uint64_t chain_deal_id;          /* 0 until PUBLISHED */
	struct cid publish_cid;          /* valid when chain_deal_id != 0 */
	int64_t seal_at;                 /* epoch sealing ends */
	uint64_t sector;
	bool slashed;
};

/* A row of sp_piece. */
struct sp_piece {
	uint64_t id;
	uint64_t miner;
	struct commp_piece piece;        /* root, sizes */
	char path[SP_PATH_MAX];          /* absolute */
	bool ready;                      /* a deal of it is sealed */
};

/* Where a block lies (sp_block joined with its piece). */
struct sp_block_loc {
	uint64_t piece_id;
	uint64_t offset;                 /* of the block's bytes in the file */
	uint64_t len;
	char path[SP_PATH_MAX];          /* absolute */
};

/* ---- sp.c ---- */

/* A pseudo-random number in [0, 100) for fault shares. */
unsigned sp_roll(struct sp *sp);

/* Wake the worker: a deal was accepted. */
void sp_kick(struct sp *sp);

/* True once sp_stop or the devnet's shutdown began. */
bool sp_is_stopping(struct sp *sp);

/* Sleep ms, waking early when the SP stops. */
void sp_sleep_ms(struct sp *sp, unsigned ms);

/* The Content-Type Go's http.DetectContentType gives bytes that start
 * with p[0..len) and match none of its signatures (a CAR, CBOR). */
const char *sp_sniff(const uint8_t *p, size_t len);

/* The text form of the SP's miner address ("f01000"). */
void sp_miner_str(char *out, size_t cap, const struct sp *sp);

/* Build dir/name into out (SP_PATH_MAX).  0 or EFS_EINVAL (too long). */
int sp_path(char *out, const char *dir, const char *name);

/* ---- sp_worker.c ---- */

int sp_worker_start(struct sp *sp);
void sp_worker_stop(struct sp *sp);

/* Start or stop the SP's listener to match the offline fault.
 * Worker thread and sp_start/sp_stop only. */
int sp_listen(struct sp *sp, bool on);

/* ---- sp_deal.c (worker thread) ---- */

/* Run the oldest deal waiting for its transfer or its publication as
 * far as it goes (transfer .. publish).  False when there was none. */
bool sp_deal_next(struct sp *sp);

/* Seal deals whose time has come, slash or expire what the faults
 * say.  Called on every tick; acts when the head or the faults moved. */
void sp_deal_tick(struct sp *sp);

/* ---- sp_transfer.c (worker thread) ---- */

/*
 * GET hr->url with hr's headers into the file path, at most max bytes,
 * computing the CommP of what arrives into out.  Gives up when sp stops.
 * The byte count goes to *got.  Returns 0, or EFS_EIO / EFS_ETOOBIG /
 * EFS_ETIMEDOUT / EFS_ECANCELED with a one-line reason in the error
 * message (Curio's words where it has some).
 */
int sp_transfer(struct commp_piece *out, uint64_t *got, struct sp *sp,
		const struct mk12_http_request *hr, const char *path,
		uint64_t max);

/*
 * Decode Transfer.Params as Curio does (mk12_http.h).  0, or
 * EFS_ECORRUPT with Curio's rejection text ("failed to de-serialize
 * transport params bytes '...': ...") as the message, or EFS_ENOMEM.
 */
int sp_transfer_params(struct mk12_http_request *out,
		       const struct mk12_bytes *params);

/* ---- sp_ingest.c (worker thread) ---- */

/*
 * Take the received file tmp_path for piece p: move it to the piece
 * directory (or drop it when the miner already holds the piece), record
 * the piece and, when the file is a CAR, the offset of each block.  The
 * piece's id goes to *piece_id.  0 or a negative code.
 */
int sp_ingest(uint64_t *piece_id, struct sp *sp, struct db *db,
	      const char *tmp_path, const struct commp_piece *p);

/* ---- sp_db.c ---- */

/* Open a connection to the state database (the sp tables migrated by
 * sp_start).  One per thread; db_close it. */
int sp_db_open(struct devnet *d, struct db **out);

/* Create or upgrade the sp tables. */
int sp_db_migrate(struct db *db);

/* Insert a new deal (ACCEPTED).  EFS_EEXISTS when the UUID or, for this
 * miner, the proposal CID is already there (*dup_uuid says which). */
int sp_db_deal_insert(struct db *db, bool *dup_uuid, const struct sp *sp,
		      const struct mk12_deal_params *dp, const uint8_t *body,
		      size_t len, const struct cid *proposal_cid);

/* Load a deal (any miner).  0, EFS_ENOTFOUND, EFS_ECORRUPT, db errors.
 * Release with sp_deal_release. */
int sp_db_deal_get(struct sp_deal *out, struct db *db,
		   const uint8_t uuid[MK12_UUID_LEN]);
void sp_deal_release(struct sp_deal *dl);

/* Write the mutable columns of dl back (state, error, piece, chain
 * fields, seal_at, sector, slashed). */
int sp_db_deal_update(struct db *db, const struct sp_deal *dl);

/* UUIDs of this miner's deals in state st, oldest first, into *out
 * (efs_free it), count in *n; at most max. */
int sp_db_deals_in(uint8_t (**out)[MK12_UUID_LEN], size_t *n, struct db *db,
		   uint64_t miner, enum sp_deal_state st, size_t max);

/* How many of this miner's deals wait for the worker (ACCEPTED or
 * TRANSFERRED). */
int sp_db_deals_waiting(size_t *out, struct db *db, uint64_t miner);

/* The oldest deal of this miner waiting for the worker.  0 or
 * EFS_ENOTFOUND. */
int sp_db_deal_next(uint8_t out[MK12_UUID_LEN], struct db *db,
		    uint64_t miner);

/* The next free sector number of a miner. */
int sp_db_next_sector(uint64_t *out, struct db *db, uint64_t miner);

/* Find the ready piece with root and (when padded != 0) that padded
 * size.  0 or EFS_ENOTFOUND. */
int sp_db_piece_find(struct sp_piece *out, struct db *db, struct devnet *d,
		     uint64_t miner, const uint8_t root[COMMP_NODE_SIZE],
		     uint64_t padded, bool ready_only);
int sp_db_piece_get(struct sp_piece *out, struct db *db, struct devnet *d,
		    uint64_t id);
/* Mark a piece sealed (served); announce: also listed by IPNI. */
int sp_db_piece_set_ready(struct db *db, uint64_t id, bool announce);

/* Where the block with multihash mh lies in one of miner's ready pieces.
 * 0 or EFS_ENOTFOUND. */
int sp_db_block_find(struct sp_block_loc *out, struct db *db,
		     struct devnet *d, uint64_t miner, const uint8_t *mh,
		     size_t mhlen);

/* ---- sp_carwalk.c ---- */

/* Blocks of one miner's sealed pieces, read by offset from the files
 * (one open file kept).  Owned by one thread; db is borrowed. */
struct sp_blocks {
	struct sp *sp;
	struct db *db;
	int fd;
	uint64_t fd_piece;
};

void sp_blocks_init(struct sp_blocks *b, struct sp *sp, struct db *db);
void sp_blocks_release(struct sp_blocks *b);

/* A blockio_source get: append block id (checked against its CID; an
 * identity CID's digest) to out.  0, EFS_ENOTFOUND, EFS_EMISMATCH (the
 * file changed under us), EFS_EIO, buf errors. */
int sp_blocks_get(void *payload, const struct cid *id, struct buf *out);

/* True when the miner holds block id in a sealed piece. */
bool sp_blocks_has(struct sp_blocks *b, const struct cid *id);

enum sp_scope { SP_SCOPE_ALL, SP_SCOPE_ENTITY, SP_SCOPE_BLOCK };

/* What a trustless gateway CAR request asked for. */
struct sp_carwalk_opts {
	enum sp_scope scope;
	bool has_range;      /* entity-bytes given (and scope is entity) */
	int64_t from;        /* entity-bytes from (negative: from the end) */
	int64_t to;          /* entity-bytes to, inclusive, when to_set */
	bool to_set;         /* false: "*" */
	bool dups;           /* dups=y */
	bool corrupt;        /* faults */
	bool truncate;
};

struct sp_carwalk;

/*
 * The CAR for root[/path] under o, ready to stream with sp_carwalk_read
 * (an http_stream_fn) and sp_carwalk_free.  Takes db (closed by
 * sp_carwalk_free, also when this fails).  Resolves the path now.
 * Returns 0, EFS_ENOMEM or buf errors.
 */
int sp_carwalk_new(struct sp_carwalk **out, struct sp *sp, struct db *db,
		   const struct cid *root, const char *path,
		   const struct sp_carwalk_opts *o);
long sp_carwalk_read(void *cls, uint64_t pos, uint8_t *buf, size_t max);
void sp_carwalk_free(void *cls);

/* ---- sp_mk12.c, sp_piece.c, sp_gateway.c: request handlers ---- */

void sp_mk12_serve(struct sp *sp, struct http_req *req, const char *sub);
void sp_piece_serve(struct sp *sp, struct http_req *req);
void sp_gateway_serve(struct sp *sp, struct http_req *req);

#endif
