/*
 * dagreader.h - read UnixFS DAGs through a blockio_source: what a node is
 * (stat), byte ranges of files, directory listings (basic and HAMT),
 * path resolution and symlink targets.  The FUSE layer and `cat`/`get`
 * read through it.
 *
 * Every block comes from the source given (identity CIDs excepted: their
 * bytes are the digest).  Source errors reach the caller unchanged, so a
 * retrieval source can answer EFS_EEVICTED, fetch the block and have the
 * caller retry; nothing a failed call cached is left half-updated.
 *
 * Bytes are checked as they are read: a file whose blocksizes do not add
 * up to its filesize, a child whose size is not the blocksize its parent
 * gives it, a file DAG deeper than DAGREADER_DEPTH_MAX, directory names
 * that are empty, ".", "..", or hold '/' or NUL, duplicate or unsorted
 * names in a basic directory, and malformed HAMT shards are all
 * EFS_ECORRUPT.  Only the blocks needed are fetched: a range read descends
 * from the root to the leaves covering the range using each interior
 * node's blocksizes; a HAMT lookup touches the shards on one path.
 *
 * Threads: functions are reentrant; a struct dagreader_file is owned by
 * one thread at a time (the FUSE layer locks per open file).
 */
#ifndef EFS_DAGREADER_H
#define EFS_DAGREADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/blockio.h"
#include "core/buf.h"
#include "core/cid.h"

/* Deepest file DAG read (kubo's balanced DAGs of any size are < 10 deep,
 * trickle DAGs of a TiB about 12). */
#define DAGREADER_DEPTH_MAX 64

/* Largest block fetched (raw leaves of 2 MiB chunks and some slack). */
#define DAGREADER_BLOCK_MAX (4u * 1024 * 1024)

enum dagreader_kind {
	DAGREADER_FILE,       /* dag-pb File node (or a legacy Raw-type one) */
	DAGREADER_RAW,        /* a raw-codec block: a one-leaf file */
	DAGREADER_DIRECTORY,  /* basic directory */
	DAGREADER_HAMT,       /* HAMT-sharded directory */
	DAGREADER_SYMLINK,
};

struct dagreader_stat {
	enum dagreader_kind kind;
	uint64_t size;        /* file bytes; symlink target length; 0 for
				 directories */
	size_t nlinks;        /* links of the node itself (a HAMT's top
				 shard, not its entry count) */
	size_t block_size;    /* bytes of the node's block */
	bool has_mode;
	uint32_t mode;        /* as stored: interpret mode & 07777 */
	bool has_mtime;
	int64_t mtime_sec;
	uint32_t mtime_nsec;
};

/*
 * Fetch and classify the node id.  For a file, checks that its own data
 * and blocksizes add up to its filesize.  Returns 0, EFS_ECORRUPT,
 * EFS_EUNSUPPORTED (a codec other than raw and dag-pb, or a UnixFS
 * Metadata node), EFS_ENOMEM or a source error.
 */
int dagreader_stat(struct dagreader_stat *out,
		   const struct blockio_source *src, const struct cid *id);

/* A short name for a kind ("file"). */
const char *dagreader_kind_name(enum dagreader_kind kind);

/* ---- files ------------------------------------------------------------ */

/*
 * An open file.  It keeps the decoded path from the root to the last leaf
 * read, so sequential reads fetch each block once and a read near the
 * last one fetches only what differs.  Memory: one block per level of the
 * DAG (the leaf, up to DAGREADER_BLOCK_MAX, and interior nodes).
 */
struct dagreader_file;

/*
 * Open the file id (a raw block or a dag-pb File node).  src is copied;
 * its payload must outlive the handle.  Returns 0, EFS_EINVAL (id is a
 * directory or a symlink), EFS_ECORRUPT, EFS_EUNSUPPORTED, EFS_ENOMEM or
 * a source error.
 */
int dagreader_file_open(struct dagreader_file **out,
			const struct blockio_source *src, const struct cid *id);

/* The file's size in bytes. */
uint64_t dagreader_file_size(const struct dagreader_file *f);

/*
 * Read up to len bytes at offset off into out; the count stored goes to
 * out_len (len, or less only at end of file; 0 at or past it).  On error
 * nothing is promised about out and the handle stays usable, so the call
 * can be retried (after EFS_EEVICTED, say).  Returns 0, EFS_ECORRUPT,
 * EFS_ENOMEM or a source error.
 */
int dagreader_file_read(void *out, size_t *out_len, struct dagreader_file *f,
			uint64_t off, size_t len);

/*
 * Point out at the file's bytes at offset off inside the block that holds
 * them, without copying: *out_len bytes are there (up to the end of that
 * leaf's bytes; 0 at or past the end of the file).  The bytes stay valid
 * until the next call on f.  A raw leaf's bytes are its whole block, so
 * peeking at the start of a chunk of a file made with that chunk size
 * gives the whole chunk.  Returns as dagreader_file_read.
 */
int dagreader_file_peek(const uint8_t **out, size_t *out_len,
			struct dagreader_file *f, uint64_t off);

/* Close the handle.  NULL is fine. */
void dagreader_file_close(struct dagreader_file *f);

/* open + read + close, for one-off reads. */
int dagreader_read(void *out, size_t *out_len,
		   const struct blockio_source *src, const struct cid *id,
		   uint64_t off, size_t len);

/*
 * A leaf of a file DAG as dagreader_leaves_foreach reports it.  A leaf is
 * a raw block or a dag-pb File node without links; the own Data bytes of
 * a node that also has children are reported too, as an "inner" leaf.
 */
struct dagreader_leaf {
	struct cid id;         /* the leaf block; for inner bytes, the node
				  holding them */
	uint64_t offset;       /* file offset of its first byte */
	uint64_t size;         /* content bytes */
	bool inner;            /* bytes in the Data of a node with children:
				  not a block of their own */
	bool fetched;          /* the block was read (a raw child, and a
				  dag-pb child the caller knows to be a
				  leaf, are reported from the CID and the
				  parent's blocksize without reading it) */
	size_t block_size;     /* bytes of the block when fetched or known
				  (dagreader_leaves_foreach_known), else 0 */
	bool has_meta;         /* a fetched dag-pb leaf with mode or mtime */
	bool raw_type;         /* a fetched dag-pb leaf of UnixFS type Raw
				  (kubo's trickle leaves), not File */
};

/* Called once per leaf, in file order; leaf is borrowed for the call.
 * Return 0 to go on; any other value stops the walk and is returned. */
typedef int (*dagreader_leaf_cb)(const struct dagreader_leaf *leaf,
				 void *payload);

/*
 * Walk the leaves of the file id (a raw block or a dag-pb File node) in
 * file order, so a writer can rebuild the file's tree reusing the leaves
 * it did not change.  Interior nodes and dag-pb children are fetched (a
 * dag-pb child is a leaf only if it has no links); raw children are not:
 * their size is the blocksize their parent gives them, checked only when
 * they are read.  The root is always fetched.  Sizes are checked as in a
 * read (a child whose size is not its blocksize is EFS_ECORRUPT).
 * Memory: one block per level of the DAG.  Returns 0, the callback's
 * value, EFS_EINVAL (id is a directory or a symlink), EFS_ECORRUPT,
 * EFS_EUNSUPPORTED, EFS_ENOMEM or a source error (which may come after
 * some callbacks).
 */
int dagreader_leaves_foreach(const struct blockio_source *src,
			     const struct cid *id, dagreader_leaf_cb cb,
			     void *payload);

/*
 * Does the caller know, without reading it, that the dag-pb block id has
 * no links?  Then it returns true with the block's size in bytes in *out.
 * (The blockstore's EVICTED blocks are such blocks: core/bstore.h,
 * invariant 3.)  payload is the leaf callback's.
 */
typedef bool (*dagreader_leaf_known_fn)(size_t *out, const struct cid *id,
					void *payload);

/*
 * As dagreader_leaves_foreach, except that a dag-pb child for which known
 * answers true is reported as a leaf without being read: fetched false,
 * size its parent's blocksize, block_size what known said.  Nothing
 * checks that such a leaf holds that many bytes until it is read.  So a
 * walk of a file whose leaves were evicted costs no fetch.  The root is
 * always fetched.
 */
int dagreader_leaves_foreach_known(const struct blockio_source *src,
				   const struct cid *id,
				   dagreader_leaf_known_fn known,
				   dagreader_leaf_cb cb, void *payload);

/* ---- directories ------------------------------------------------------ */

/* Called once per entry; name and id are borrowed for the call.  Return 0
 * to go on; any other value stops the listing and is returned. */
typedef int (*dagreader_dir_cb)(const char *name, size_t name_len,
				const struct cid *id, uint64_t tsize,
				void *payload);

/*
 * List the directory dir (basic or HAMT): name order for a basic
 * directory, bucket order for a HAMT.  Returns 0, the callback's value,
 * EFS_EINVAL (dir is not a directory), EFS_ECORRUPT, EFS_EUNSUPPORTED,
 * EFS_ENOMEM or a source error (which may come after some callbacks).
 */
int dagreader_dir_foreach(const struct blockio_source *src,
			  const struct cid *dir, dagreader_dir_cb cb,
			  void *payload);

/*
 * Look up one entry of the directory dir; its CID goes to out.  Returns
 * 0, EFS_ENOTFOUND, EFS_EINVAL (dir is not a directory; name empty, ".",
 * "..", or holding '/' or NUL), EFS_ECORRUPT, EFS_EUNSUPPORTED,
 * EFS_ENOMEM or a source error.
 */
int dagreader_dir_lookup(struct cid *out, const struct blockio_source *src,
			 const struct cid *dir, const char *name,
			 size_t name_len);

/* ---- paths ------------------------------------------------------------ */

/*
 * Resolve path ("a/b/c") below root through basic and HAMT directories;
 * the CID it names goes to out.  Empty and "." segments are skipped (so
 * "", "/" and "./a//b/" work); ".." is EFS_EINVAL, as is going through a
 * file or a symlink (links are not followed).  Returns 0, EFS_ENOTFOUND
 * (a name is missing), EFS_EINVAL, EFS_ECORRUPT, EFS_EUNSUPPORTED,
 * EFS_ENOMEM or a source error.
 */
int dagreader_resolve(struct cid *out, const struct blockio_source *src,
		      const struct cid *root, const char *path);

/*
 * Resolve "CID", "CID/a/b" or "/ipfs/CID/a/b" (what `ipfs cat` takes).
 * Returns what dagreader_resolve returns, or EFS_EINVAL for a string that
 * does not start with a CID.
 */
int dagreader_resolve_str(struct cid *out, const struct blockio_source *src,
			  const char *cid_path);

/* ---- symlinks --------------------------------------------------------- */

/*
 * Append the target of the symlink id to out (no NUL counted in out->len;
 * buf keeps one after it).  Returns 0, EFS_EINVAL (not a symlink),
 * EFS_ECORRUPT, EFS_EUNSUPPORTED, EFS_ENOMEM, EFS_ETOOBIG (out's cap) or a
 * source error.
 */
int dagreader_symlink_target(struct buf *out,
			     const struct blockio_source *src,
			     const struct cid *id);

#endif
