/*
 * fileio.h - the open state of one regular file: writes staged chunk by
 * chunk over the file's DAG, reads that see them, truncation, and flush,
 * which seals what is staged into the blockstore and rebuilds the file's
 * tree around the leaves that did not change.
 *
 * The file is a sequence of fixed-size chunks (the profile's chunk size):
 * chunk k holds bytes [k * cs, (k + 1) * cs), the last one fewer.  A
 * write into chunk k stages that chunk: in memory while it is written
 * (sequential writers never touch the disk twice), on disk in an
 * anonymous staging file when memory runs short or a writer jumps around.
 * A chunk the writer fills is sealed at once on a worker (hashed into its
 * leaf and put into the blockstore), so a sequential writer keeps a chunk
 * or two staged whatever the file size.  Reads see staged chunks before
 * the DAG; holes and bytes past a truncation read as zeros.
 *
 * Flush seals every staged chunk and rebuilds the tree: chunks never
 * written keep their leaf (a 4 KiB write into a 1 GiB file stores one
 * new chunk and the nodes above it), holes become zero leaves.  The root
 * equals what importing the file's bytes from scratch gives (the CID
 * depends only on the bytes and the profile).  Flush indexes the blocks
 * with bstore_sync_deferred (packs fdatasynced, index rows committed
 * without waiting for the disk) and hands the root to a commit callback,
 * whose FULL commit to the same index.db (pointing the inode at the root)
 * makes the blocks' rows durable too, before it returns.
 *
 * One struct fileio serves every open descriptor of an inode, so two
 * descriptors see each other's writes at once.
 *
 * Threads: internally locked (one mutex per file).  The lock is never
 * held while waiting for another file or for the network; a writer may
 * wait for this file's own chunks being sealed (back-pressure) and for a
 * flush of this file to seal what it staged.  Flushes of one file run one
 * at a time; reads and writes go on during the rebuild and the commit.
 */
#ifndef EFS_FILEIO_H
#define EFS_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/cid.h"
#include "fs/staging.h"

struct fileio;

/*
 * Largest file size: 16 TiB, ext4's limit with 4 KiB blocks.  A flush
 * walks every chunk of the file (a hole too: its chunks are links to one
 * zero leaf), so the bound keeps a truncate to a huge size or a write far
 * past the end from tying up a FUSE thread for hours; past it writes and
 * truncates fail with EFBIG.
 */
#define FILEIO_SIZE_MAX (16ull << 40)

/*
 * Open the state of a file whose content is root (NULL: no DAG yet; the
 * size bytes then read as zeros) of size bytes.  The root is read only
 * when needed; its size must then be size (else reads and flushes fail
 * with EFS_ECORRUPT).  st must outlive the file.  Returns 0 or
 * EFS_ENOMEM.
 */
int fileio_new(struct fileio **out, struct staging *st, const struct cid *root,
	       uint64_t size);

/*
 * Drop the state, and with it whatever was written and not flushed.
 * Waits for chunks being sealed.  NULL is fine.
 */
void fileio_free(struct fileio *f);

/* The file's size, staged writes included. */
uint64_t fileio_size(struct fileio *f);

/* True when something was written or truncated since the last flush.
 * A file without a DAG is clean while it is empty (the inode says "empty"
 * without one). */
bool fileio_dirty(struct fileio *f);

/*
 * When the oldest change not yet flushed was made (CLOCK_MONOTONIC
 * seconds), or 0 when the file is clean: for writeback of files held
 * open.  Never waits for the file's lock (a write or read may hold it
 * across disk I/O), so a scan of many files may call it under its own.
 */
int64_t fileio_dirty_since(struct fileio *f);

/*
 * Read up to len bytes at off into out; the count goes to out_len: len,
 * or less only at end of file (0 at or past it).  Returns 0, EFS_ECORRUPT,
 * EFS_EIO, EFS_ENOMEM or a blockstore error (EFS_ENOTFOUND,
 * EFS_EEVICTED, EFS_EMISMATCH).
 */
int fileio_read(void *out, size_t *out_len, struct fileio *f, uint64_t off,
		size_t len);

/* Pieces fileio_read_iov hands over at most. */
#define FILEIO_IOV_MAX 2

/* Gets the bytes read; returns what fileio_read_iov returns. */
typedef int (*fileio_iov_cb)(const struct iovec *iov, int n, void *payload);

/*
 * As fileio_read, but hand the bytes to cb instead of copying them out:
 * in place when they are in the read cache (at most FILEIO_IOV_MAX
 * pieces, valid during cb, which runs without the file's lock), else
 * read into scratch (len bytes of the caller's) first.  The pieces hold
 * len bytes, or fewer only at end of file.  Returns cb's value, or a
 * read error (cb is then not called).
 */
int fileio_read_iov(struct fileio *f, uint64_t off, size_t len,
		    uint8_t *scratch, fileio_iov_cb cb, void *payload);

/*
 * Write len bytes of data at off, extending the file if needed (the gap
 * is a hole).  All of it is written or, on error, an unknown part of it.
 * Returns 0, FS_EFBIG (past FILEIO_SIZE_MAX), EFS_ENOSPC, EFS_EIO,
 * EFS_ENOMEM, an error of sealing an earlier chunk in the background
 * (reported once; that chunk stays staged and flush retries it), or
 * the error that broke the file (see fileio_flush).
 */
int fileio_write(struct fileio *f, uint64_t off, const void *data,
		 size_t len);

/*
 * Set the size: shrinking drops what lies past it (the chunk holding the
 * new end is staged with its tail zeroed); growing leaves a hole.
 * Returns 0, FS_EFBIG or the errors of fileio_write.
 */
int fileio_truncate(struct fileio *f, uint64_t size);

/*
 * Called by fileio_flush with the new root, the file's size and the
 * root's cumulative size (the Tsize of a link to it) once its blocks are
 * in the packs (fdatasynced) and indexed by bstore_sync_deferred, whose
 * index commit is not yet durable: the callback's FULL commit to the
 * same index.db makes it durable (core/bstore.h), so the callback must
 * make one.  Return 0 once the inode points at it durably, or an error,
 * which fileio_flush returns (the staged state is kept: a later flush
 * tries again).
 */
typedef int (*fileio_commit_cb)(const struct cid *root, uint64_t size,
				uint64_t tsize, void *payload);

/*
 * Make everything written before the call durable: seal staged chunks,
 * rebuild the tree, bstore_sync, then cb.  Nothing happens when the file
 * is clean (cb is not called).  Returns 0, EFS_ENOSPC, EFS_EIO,
 * EFS_ENOMEM, a blockstore error or cb's error; except as below, the
 * staged data stays and a later flush may succeed.  If a failed
 * blockstore sync lost chunks sealed since the last flush, the file is
 * broken: this and every later write and flush return EFS_EIO until the
 * file is freed (reopening starts again from the last flushed root).
 */
int fileio_flush(struct fileio *f, fileio_commit_cb cb, void *payload);

/* What a file holds, for tests and the benchmark. */
struct fileio_stats {
	uint64_t mem_chunks;     /* staged in memory */
	uint64_t disk_chunks;    /* staged on disk */
	uint64_t sealing;        /* being sealed now */
	uint64_t sealed;         /* sealed, waiting for the next flush */
	uint64_t flushes;        /* flushes that committed a root */
	uint64_t cache_loads;    /* chunks read into the read cache */
};

void fileio_stats(struct fileio_stats *out, struct fileio *f);

#endif
