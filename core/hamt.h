/*
 * hamt.h - UnixFS HAMT sharded directories (Type HAMTShard), as boxo and
 * ipfs-unixfs-importer write them: murmur3-x64-64 (the first 64-bit half
 * of MurmurHash3 x64_128, seed 0, taken big-endian), log2(fanout) bits
 * per level consumed most-significant first, link names = upper-case hex
 * bucket prefix (+ entry name for entries), bitfield with leading zero
 * bytes stripped, mode/mtime only on the top shard.  See ipfs-formats.md
 * §6.
 *
 * All functions are reentrant; sources and sinks are used from the
 * calling thread only.
 */
#ifndef EFS_HAMT_H
#define EFS_HAMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/blockio.h"
#include "core/cid.h"
#include "core/unixfs.h"

#define HAMT_DEFAULT_FANOUT 256
#define HAMT_HASH_MURMUR3 0x22

/* One directory entry to place in a shard.  name is borrowed. */
struct hamt_entry {
	const char *name;
	size_t name_len;
	struct cid cid;
	uint64_t tsize;     /* the child's cumulative size (link Tsize) */
};

struct hamt_opts {
	unsigned fanout;    /* power of two, 8..1024 */
	int cid_version;    /* of the shard blocks */
	uint64_t hash;      /* multihash function of the shard blocks */
	const struct unixfs_data *meta; /* mode/mtime of the top shard, or
					   NULL; other fields ignored */
};

/* The first 64 bits of MurmurHash3 x64_128 (seed 0) of p, as boxo's
 * murmur3.New64().Sum64(). */
uint64_t hamt_murmur3_64(const void *p, size_t len);

/*
 * Build the shard tree holding entries (any order; names unique) and
 * store its blocks through sink, children before parents.  The root CID
 * goes to out and its cumulative size (block + Σ link Tsize) to
 * tsize_out.  Only the shard blocks are stored, not the entries.  The
 * entries array may be reordered.  mode/mtime of opts->meta go on the top
 * shard only, as given (the caller drops defaults if it wants JS's CIDs).
 * Returns 0, EFS_EINVAL (bad fanout, empty or duplicate names, names whose
 * hashes agree on all 64 bits the fanout can use, sizes that overflow, a
 * CIDv0 with a hash other than sha2-256), EFS_ENOMEM or a sink error.
 * Memory: O(n) plus one shard per level; recursion ≤ 64/log2(fanout).
 */
int hamt_build(struct cid *out, uint64_t *tsize_out,
	       struct hamt_entry *entries, size_t n,
	       const struct hamt_opts *opts, const struct blockio_sink *sink);

/*
 * Find name in the shard tree rooted at root (a HAMTShard node).  On
 * success the entry's CID goes to out.  Touches only the shards on the
 * path, and checks each of them (hashType 0x22, fanout a power of two in
 * 8..1024 and the same on every level, bitfield without leading zero
 * bytes and matching the links, upper-case hex prefixes of the right
 * width, entries in the bucket their hash selects).  Identity CIDs need
 * no source.  Returns 0, EFS_ENOTFOUND, EFS_ECORRUPT, EFS_ENOMEM or a
 * source error (unchanged: EFS_EEVICTED reaches the caller as such).
 */
int hamt_lookup(struct cid *out, const struct blockio_source *src,
		const struct cid *root, const char *name, size_t name_len);

/*
 * As hamt_lookup, with the root shard's block bytes already in hand (the
 * DAG reader has just fetched them to learn the node's type).  The bytes
 * are borrowed for the call.
 */
int hamt_lookup_block(struct cid *out, const struct blockio_source *src,
		      const uint8_t *root_block, size_t root_len,
		      const char *name, size_t name_len);

/* Called once per entry in link order; return non-zero to stop (that
 * value is returned by hamt_foreach). */
typedef int (*hamt_foreach_cb)(const char *name, size_t name_len,
			       const struct cid *id, uint64_t tsize,
			       void *payload);

/*
 * Visit every entry of the shard tree rooted at root, in bucket order
 * (depth first), with the same checks as hamt_lookup.  Entry names are
 * reported as stored, without the prefix; they are not otherwise checked
 * (the DAG reader rejects "/", NUL, "." and "..").  Holds one shard per
 * level.  Returns 0, the callback's non-zero value, EFS_ECORRUPT,
 * EFS_ENOMEM or a source error.  An error may come after some callbacks.
 */
int hamt_foreach(const struct blockio_source *src, const struct cid *root,
		 hamt_foreach_cb cb, void *payload);

/* As hamt_foreach, from the root shard's block bytes (borrowed). */
int hamt_foreach_block(const struct blockio_source *src,
		       const uint8_t *root_block, size_t root_len,
		       hamt_foreach_cb cb, void *payload);

#endif
