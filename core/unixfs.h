/*
 * unixfs.h - the UnixFS Data message carried in dag-pb PBNode.Data.
 *
 *   Data { Type = 1; Data = 2; filesize = 3; blocksizes = 4 (repeated,
 *          unpacked); hashType = 5; fanout = 6; mode = 7;
 *          mtime = 8 { Seconds = 1 (int64); FractionalNanoseconds = 2
 *          (fixed32) } }
 *
 * Encoding writes fields in number order and omits absent optionals,
 * byte-identical to boxo and ipfs-unixfs.  Decoding is strict in the
 * same way as dagpb.h (out-of-order, repeated or unknown fields, bad
 * wire types, non-minimal varints, a missing or unknown Type, mode over
 * 32 bits, an mtime without Seconds, nanoseconds over 999999999 are
 * EFS_ECORRUPT).  Two tolerances: blocksizes may arrive as one packed
 * record instead of the unpacked run (never written), and an mtime with
 * nanoseconds 0 (written by the JS library for whole seconds; the spec
 * calls it invalid) decodes as mtime_nsec 0 and re-encodes without it.
 *
 * Everything here is reentrant; a struct unixfs_data belongs to one
 * thread.
 */
#ifndef EFS_UNIXFS_H
#define EFS_UNIXFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

enum unixfs_type {
	UNIXFS_RAW = 0,
	UNIXFS_DIRECTORY = 1,
	UNIXFS_FILE = 2,
	UNIXFS_METADATA = 3,
	UNIXFS_SYMLINK = 4,
	UNIXFS_HAMT_SHARD = 5,
};

struct unixfs_data {
	enum unixfs_type type;
	const uint8_t *data;   /* borrowed: chunk bytes, symlink target, or
				  HAMT bitfield */
	size_t data_len;
	bool has_data;
	uint64_t filesize;
	bool has_filesize;
	uint64_t *blocksizes;  /* see ownership at each function */
	size_t nblocksizes;
	uint64_t hash_type;    /* HAMT: 0x22 murmur3-x64-64 */
	bool has_hash_type;
	uint64_t fanout;       /* HAMT: 256 by default */
	bool has_fanout;
	uint32_t mode;         /* permission bits as stored (keep upper bits) */
	bool has_mode;
	int64_t mtime_sec;
	uint32_t mtime_nsec;   /* written only when 1..999999999 */
	bool has_mtime;
};

/* The UnixFS spec's default modes, dropped by the JS writer. */
#define UNIXFS_DEFAULT_FILE_MODE 0644
#define UNIXFS_DEFAULT_DIR_MODE 0755

/*
 * Decode PBNode.Data bytes.  out->blocksizes is allocated (NULL when
 * there are none; free with unixfs_data_release); out->data points into
 * p.  Returns 0, EFS_ECORRUPT or EFS_ENOMEM; on error out is zeroed.
 */
int unixfs_decode(struct unixfs_data *out, const uint8_t *p, size_t len);

/* Free what unixfs_decode allocated; d is zeroed. */
void unixfs_data_release(struct unixfs_data *d);

/* Exact size of the encoding of d. */
size_t unixfs_encoded_size(const struct unixfs_data *d);

/*
 * Append the encoding of d (borrowed) to out.  Each optional is written
 * exactly when its has_ flag is set (Data even when empty, as `12 00`;
 * the reference writers leave an empty chunk's has_data false), every
 * blocksizes entry as its own field, mtime nanoseconds only when
 * 1..999999999.  Returns 0, EFS_EINVAL (type not in the enum, or
 * mtime_nsec over 999999999), EFS_ETOOBIG (out's cap) or EFS_ENOMEM.
 */
int unixfs_encode(struct buf *out, const struct unixfs_data *d);

/* Short name of a type as ipfs-unixfs spells it ("file",
 * "hamt-sharded-directory"), or "unknown". */
const char *unixfs_type_name(enum unixfs_type type);

#endif
