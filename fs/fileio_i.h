/*
 * fileio_i.h - what fileio.c (staging, reads, writes, sealing) and
 * fileio_flush.c (snapshot, tree rebuild, rebase) share.  Not for use
 * outside them.
 */
#ifndef EFS_FILEIO_I_H
#define EFS_FILEIO_I_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/blockio.h"
#include "core/bstore.h"
#include "core/cid.h"
#include "core/dagreader.h"
#include "core/error.h"
#include "fs/fileio.h"
#include "fs/staging.h"

/*
 * A staged chunk.  Its bytes ("the view" of chunk k) are:
 *
 *   MEM      buf[lo, hi) written; the rest from `under` (below)
 *   DISK     the staging file at [k * cs, (k + 1) * cs)
 *   SEALING  being sealed by a worker: buf when it was MEM, else the
 *            staging file; nobody changes it until the worker is done
 *   SEALED   the leaf (leaf_len bytes)
 *
 * `under`, for MEM: ZERO (a hole, or past the DAG), VIEW (the DAG's bytes
 * up to base_limit, zeros past it) or LEAF (leaf's first leaf_len bytes,
 * zeros past them).  With ZERO, lo is 0.
 */
enum slot_state { SLOT_MEM, SLOT_DISK, SLOT_SEALING, SLOT_SEALED };
enum slot_under { UNDER_ZERO, UNDER_VIEW, UNDER_LEAF };

struct slot {
	uint64_t index;         /* chunk number */
	uint64_t gen;           /* fileio.gen at its last change */
	enum slot_state state;
	enum slot_under under;  /* MEM */
	struct cid leaf;        /* SEALED; MEM with UNDER_LEAF */
	uint64_t leaf_len;
	uint8_t *buf;           /* MEM; SEALING from memory */
	size_t cap;             /* bytes of buf, taken from the budget */
	size_t lo, hi;          /* MEM: bytes written */
	uint64_t tick;          /* MEM: last write, for LRU */
};

/*
 * The read cache (fileio_read.c): whole chunks of the DAG, loaded by the
 * reader that needs them or ahead of a sequential reader on the staging
 * workers.  An entry is LOADING while its loader (the only one touching
 * buf and r then) fills it without the lock.
 */
#define FILEIO_RCACHE 6     /* chunks cached per file */
#define FILEIO_PREFETCH 4   /* chunks loaded ahead of a sequential reader */

enum rchunk_state { RC_EMPTY, RC_LOADING, RC_READY };

struct rchunk {
	struct staging_job job;     /* the prefetch */
	struct fileio *f;
	enum rchunk_state state;
	uint64_t index;             /* chunk number */
	struct cid root;            /* of the DAG it is a chunk of */
	uint64_t root_size;
	size_t len;                 /* bytes of the chunk */
	const uint8_t *data;        /* READY: the chunk, in r's leaf (no
				       copy) or in buf */
	uint8_t *buf;               /* a copy, when the leaf is not the chunk
				       (a DAG of another chunk size) */
	size_t cap;                 /* bytes held of the cache budget */
	struct dagreader_file *r;   /* its loader's reader, open on r_root */
	struct cid r_root;
	uint64_t tick;              /* last use, for LRU */
	unsigned pins;              /* fileio_read_iov callbacks reading
				       data: not reloaded meanwhile */
};

/*
 * The file.  Every field below the lock is under it, except mark (used
 * by the one running flush only), a LOADING cache entry's buf and r
 * (its loader's) and dirty_since, which is also read without it.
 *
 * Invariants:
 *  1. slots[0..nslots) are sorted by index, all below ceil(size / cs).
 *  2. base_limit <= base_size and base_limit <= size; the DAG's bytes at
 *     and past base_limit are not the file's (they read as zeros).
 *  3. Bytes of any chunk's view past size are zero (truncation zeroes
 *     them, so growing the file shows zeros).
 *  4. A chunk without a slot reads as the DAG (to base_limit) or zeros,
 *     and is either wholly below base_limit with the DAG's extent, or
 *     wholly at or past it (truncate and extend stage the chunk that
 *     would straddle it).  So at flush its leaf is reused as is.
 *  5. Staging file ranges of chunks that are not DISK (or SEALING from
 *     disk) are holes.
 *  6. Slots with gen <= flush_gen are SEALED and their leaves are in the
 *     root the running flush builds; the others changed after its
 *     snapshot and survive the rebase.
 */
struct fileio {
	struct staging *st;
	struct bstore *bs;
	struct blockio_source src;
	size_t cs;                      /* chunk size */
	uint64_t mark;                  /* bstore errseq at the last flush */
	pthread_mutex_t lock;
	pthread_cond_t cond;            /* a seal ended, the barrier lifted,
					   a flush ended */
	struct cid base;                /* the DAG */
	bool has_base;
	uint64_t base_size, base_limit;
	uint64_t size;
	struct slot **slots;
	size_t nslots, aslots;
	unsigned nmem, ndisk, nsealing;
	uint64_t gen, flush_gen, tick;
	uint64_t limit_since;           /* lowest size since the snapshot */
	bool barrier;                   /* a flush is sealing: writers wait */
	bool flushing;
	int seal_error;                 /* a background seal failed */
	struct efs_error_state seal_err;
	int broken;                     /* data lost: sticky */
	struct dagreader_file *reader;  /* of base, used under the lock */
	struct rchunk rc[FILEIO_RCACHE];
	unsigned nloading;              /* cache entries LOADING */
	uint64_t rc_next;               /* where the last read ended */
	uint64_t rc_loads;              /* chunks loaded into the cache */
	struct dagreader_file *lreader; /* of lreader_id, a leaf */
	struct cid lreader_id;
	atomic_int_least64_t dirty_since; /* fileio_dirty_since; written
					     under the lock, read without */
	int stfd;                       /* staging file, or -1 */
	uint64_t flushes;
};

/* Chunk k's byte count in a file of size bytes (k below the chunk count). */
static inline uint64_t fileio_extent(const struct fileio *f, uint64_t k,
				     uint64_t size)
{
	uint64_t start = k * f->cs;

	return size - start < f->cs ? size - start : f->cs;
}

/* Slot of chunk k, or NULL. */
struct slot *fileio_slot_find(struct fileio *f, uint64_t k);

/* The first slot of a chunk at or past k, or NULL. */
struct slot *fileio_slot_from(struct fileio *f, uint64_t k);

/* Forget slot s (of any state but SEALING), giving back what it held. */
void fileio_slot_drop(struct fileio *f, struct slot *s);

/* Read [pos, pos + n) of the file as the DAG shows it (zeros at and past
 * base_limit).  Under the lock. */
int fileio_view_base(struct fileio *f, uint64_t pos, size_t n, void *dst);

/* Read [off, off + n) of the staging file; bytes past its end are
 * zeros. */
int fileio_disk_read(struct fileio *f, uint64_t off, size_t n, void *p);

/* Read [a, a + n) of what lies under MEM slot s. */
int fileio_under_read(struct fileio *f, const struct slot *s, size_t a,
		      size_t n, uint8_t *dst);

/* Read [a, a + n) of MEM slot s's chunk. */
int fileio_mem_read(struct fileio *f, const struct slot *s, size_t a,
		    size_t n, uint8_t *dst);

/* Close the reader of the old DAG after a rebase (cache entries of it
 * are no longer found).  Under the lock. */
void fileio_readers_drop(struct fileio *f);

/* Wait for chunks being loaded and free the read cache.  Under the
 * lock, when the file is being freed. */
void fileio_rcache_free(struct fileio *f);

/* Read [a, a + n) of chunk k as the file shows it.  Under the lock. */
int fileio_chunk_read(struct fileio *f, uint64_t k, size_t a, size_t n,
		      void *dst);

/* Submit slot s (MEM or DISK) for sealing its first len bytes; a MEM
 * slot must hold them all (fileio_mem_complete).  With here, a MEM slot
 * is sealed on this thread, the lock released meanwhile (a handoff costs
 * more than hashing a small chunk).  Under the lock. */
int fileio_seal_submit(struct fileio *f, struct slot *s, size_t len,
		       bool here);

/* Make MEM slot s hold chunk bytes [0, len) itself (reading what it
 * lacks from under), past the budget if need be.  Under the lock. */
int fileio_mem_complete(struct fileio *f, struct slot *s, size_t len);

/* Wait on the file's condition (the lock is released meanwhile). */
static inline void fileio_wait(struct fileio *f)
{
	pthread_cond_wait(&f->cond, &f->lock);
}

#endif
