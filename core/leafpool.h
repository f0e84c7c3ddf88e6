/*
 * leafpool.h - read a file's chunks and make them into UnixFS leaves on
 * worker threads, handing the leaves back in file order: the engine of
 * importer_add_fd / importer_add_path.
 *
 * The calling thread starts a file, then takes leaves one by one with
 * leafpool_next; meanwhile the hashing threads map (or pread) and hash
 * the next few chunks (a ring of 2 slots per thread, each one chunk), so
 * memory is bounded by 2 * threads * chunk_size whatever the file size.
 * The hashing threads are internal workers and the caller itself, which
 * makes queued leaves in leafpool_next rather than wait for its own.
 * The caller stores each leaf's block and builds the tree, so blocks
 * reach the sink from one thread, in file order.
 *
 * A pool is owned by the thread that created it; its workers are
 * internal.  Threads are named "efs-leaf<N>".
 */
#ifndef EFS_LEAFPOOL_H
#define EFS_LEAFPOOL_H

#include <stdint.h>

#include "core/importer.h"

struct leafpool;
struct importer_leaf;

/*
 * Make a pool of opts->threads hashing threads (0 = one per online
 * CPU): the caller's and threads - 1 workers, started here.  They make
 * leaves with opts's chunk size, leaf kind, CID version and hash (opts
 * is copied).  Returns 0, EFS_EINVAL, EFS_ENOMEM or EFS_ERROR (a thread
 * could not be started).
 */
int leafpool_new(struct leafpool **out, const struct importer_opts *opts);

/* Number of hashing threads (the workers and the caller). */
unsigned leafpool_threads(const struct leafpool *p);

/*
 * Begin the chunks of bytes [0, size) of fd (mapped or read with pread,
 * as opts->use_mmap says, so fd's offset is untouched).  The previous
 * file must be finished (leafpool_next returned EFS_ITEROVER) or
 * cancelled.  fd must stay open until then.  Returns 0 or EFS_EINVAL.
 */
int leafpool_start(struct leafpool *p, int fd, uint64_t size);

/*
 * Wait for the next leaf in file order and point out at it; the leaf and
 * its block bytes stay valid until the next call.  Returns 0,
 * EFS_ITEROVER (all chunks of the file were returned; the pool is ready
 * for leafpool_start), or the error of that chunk: EFS_EIO (read failed
 * or the file shrank), EFS_ENOMEM; after an error call leafpool_cancel.
 */
int leafpool_next(struct leafpool *p, const struct importer_leaf **out);

/* Abandon the current file: waits for chunks in flight.  Harmless when
 * no file is started. */
void leafpool_cancel(struct leafpool *p);

/* Stop the workers (after cancelling any file) and free the pool.  NULL
 * is fine. */
void leafpool_free(struct leafpool *p);

#endif
