/*
 * staging.h - what every open file of a mount shares on the write path:
 * the staging directory (anonymous files under <repo>/staging that hold
 * chunks staged on disk), the memory and disk budgets that bound staged
 * data, the sealing workers that hash full chunks into the blockstore off
 * the FUSE threads, and leaf making with the repository's profile.
 * fileio.c is its user; see fileio.h for what a chunk is.
 *
 * Budgets are soft counters: a take that would pass the limit fails and
 * the caller falls back (memory: stage on disk instead; disk: seal its own
 * staged chunks), so a writer never waits on another file (R6).
 *
 * Threads: struct staging is internally locked; every function may be
 * called from any thread.  Jobs run on the workers ("efs-seal<N>") in the
 * order submitted, several at once.
 */
#ifndef EFS_STAGING_H
#define EFS_STAGING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bstore.h"
#include "core/cid.h"
#include "core/blockio.h"
#include "core/importer.h"

struct staging;

struct staging_opts {
	uint64_t mem_max;  /* bytes of chunk buffers in memory, at least
			      one chunk; 0 = STAGING_MEM_DEFAULT */
	uint64_t disk_max; /* bytes of chunks staged on disk; 0 =
			      STAGING_DISK_DEFAULT */
	unsigned workers;  /* sealing threads; 0 = one per online CPU, at
			      most STAGING_WORKERS_MAX */
	uint64_t cache_max; /* bytes of chunks cached for readers; 0 =
			       STAGING_CACHE_DEFAULT */
};

#define STAGING_MEM_DEFAULT (64ull << 20)
#define STAGING_CACHE_DEFAULT (64ull << 20)
#define STAGING_DISK_DEFAULT (1ull << 30)
#define STAGING_WORKERS_MAX 8u

/*
 * Work for the sealing workers.  The submitter embeds it in its own state
 * and keeps that alive until run has returned.  run gets the worker's
 * scratch buffer of chunk_size bytes.
 */
struct staging_job {
	void (*run)(struct staging_job *job, uint8_t *scratch);
	struct staging_job *next; /* the queue's */
};

/*
 * Set up the staging area in dir (which must exist) for blocks going to
 * bs, made with opts (copied; the repository's profile).  sopts may be
 * NULL for the defaults.  Starts the workers.  Returns 0, EFS_EINVAL (bad
 * opts), EFS_ENOMEM or EFS_ERROR (a thread could not start).
 */
int staging_new(struct staging **out, const char *dir, struct bstore *bs,
		const struct importer_opts *opts,
		const struct staging_opts *sopts);

/* Stop the workers and free.  No job may be queued or running.  NULL is
 * fine. */
void staging_free(struct staging *st);

/* The profile files are built with; borrowed. */
const struct importer_opts *staging_importer_opts(const struct staging *st);

/* The blockstore; borrowed. */
struct bstore *staging_bstore(const struct staging *st);

/*
 * Read file data through src from now on instead of the blockstore
 * alone: the daemon's retrieving source (retriever_source), which gets a
 * block from the blockstore and brings an evicted one back, verified and
 * stored, within bounded time (else EFS_ETIMEDOUT, EFS_EIO,
 * EFS_ENOTFOUND).  src is copied; NULL goes back to the blockstore alone
 * (evicted blocks EFS_EEVICTED, reads of them EIO), waiting for the gets
 * under way to end, so src's payload may be freed once it returns.
 */
void staging_set_source(struct staging *st, const struct blockio_source *src);

/*
 * The source files read their blocks through: the one set above, else
 * the blockstore; a block it does not find (EFS_ENOTFOUND: absent, or
 * evicted and no provider has it) is EFS_EIO, the error a read of a
 * file's data gets.  Valid as long as st.
 */
struct blockio_source staging_source(struct staging *st);

/*
 * Open a new anonymous file in the staging directory for a file's staged
 * chunks (O_TMPFILE, or created and unlinked at once): nothing is left
 * behind by a crash.  The fd goes to out (the caller closes it).
 * Returns 0, EFS_ENOSPC or EFS_EIO.
 */
int staging_tmpfile(int *out, struct staging *st);

/* Take n bytes of the memory budget; false (nothing taken) when that
 * would pass mem_max. */
bool staging_mem_take(struct staging *st, uint64_t n);

/* Take n bytes of the memory budget even past mem_max (a flush must
 * finish what it started). */
void staging_mem_add(struct staging *st, uint64_t n);
void staging_mem_give(struct staging *st, uint64_t n);

/* Take n bytes of the disk budget (always); give them back. */
void staging_disk_add(struct staging *st, uint64_t n);
void staging_disk_give(struct staging *st, uint64_t n);

/* True when the disk budget is used up: writers seal their own chunks. */
bool staging_disk_over(struct staging *st);

/* The read cache's budget, as the memory budget's. */
bool staging_cache_take(struct staging *st, uint64_t n);
void staging_cache_give(struct staging *st, uint64_t n);

/* Queue job for a worker (sealing chunks, loading chunks for readers). */
void staging_submit(struct staging *st, struct staging_job *job);

/*
 * Make the leaf of chunk[0..len) (1..chunk_size bytes) as the importer
 * does and put it into the blockstore; its CID goes to out.  Reentrant.
 * Returns 0, EFS_EINVAL (len), EFS_ENOMEM or a blockstore error.
 */
int staging_leaf_put(struct cid *out, struct staging *st,
		     const uint8_t *chunk, size_t len);

/* The leaf of len zero bytes (a hole's chunk), put into the blockstore.
 * Returns as staging_leaf_put. */
int staging_zero_leaf(struct cid *out, struct staging *st, size_t len);

struct staging_stats {
	uint64_t mem_used, mem_peak;   /* bytes of the memory budget */
	uint64_t disk_used, disk_peak; /* bytes of the disk budget */
	uint64_t cache_used, cache_peak; /* bytes of the read cache */
	uint64_t leaves;               /* leaves made */
	uint64_t leaf_bytes;           /* their content bytes */
	uint64_t jobs;                 /* jobs run */
};

void staging_stats(struct staging_stats *out, struct staging *st);

#endif
