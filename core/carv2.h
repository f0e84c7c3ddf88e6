/*
 * carv2.h - CARv2: the fixed header, the 0x0400 IndexSorted and 0x0401
 * MultihashIndexSorted indexes, wrapping a CARv1 the way go-car's
 * WrapV1File does, and random access to blocks by multihash.
 *
 * Layout (ipfs-formats.md §9): the 11-byte pragma (a CARv1 header saying
 * version 2), a 40-byte header (16 bytes of characteristics, then data
 * offset, data size and index offset as uint64 LE, from the start of the
 * file), [padding], the inner CARv1, [padding], the index.  Index entries
 * give the offset of a section from the start of the inner CARv1.
 *
 * Sequential reading of a CARv2 is car_reader_open_* (car.h).
 * Threads: every object is owned by one thread.
 */
#ifndef EFS_CARV2_H
#define EFS_CARV2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/car.h"
#include "core/cid.h"

#define CARV2_PRAGMA_LEN 11
#define CARV2_HEADER_LEN 40
/* Where go-car puts the inner CARv1 (no padding): pragma + header. */
#define CARV2_DATA_OFFSET (CARV2_PRAGMA_LEN + CARV2_HEADER_LEN)

/* Index codecs (multicodec table). */
#define CARV2_INDEX_SORTED 0x0400
#define CARV2_INDEX_MH_SORTED 0x0401

/* Largest index carv2_open_* loads (about 6 million 32-byte entries). */
#define CARV2_INDEX_MAX (256u * 1024 * 1024)

/* The pragma: varint(10) {"version": 2}. */
extern const uint8_t carv2_pragma[CARV2_PRAGMA_LEN];

struct carv2_header {
	uint8_t characteristics[16];
	uint64_t data_offset;
	uint64_t data_size;
	uint64_t index_offset; /* 0: no index */
};

/*
 * Decode the 40 bytes after the pragma and check them: the data starts
 * after the header, data and index do not overflow, the index (if any)
 * starts after the data.  Returns 0 or EFS_ECORRUPT.
 */
int carv2_header_decode(struct carv2_header *out,
			const uint8_t p[CARV2_HEADER_LEN]);

/* Encode h into 40 bytes. */
void carv2_header_encode(uint8_t out[CARV2_HEADER_LEN],
			 const struct carv2_header *h);

/* The "fully indexed" characteristic: identity CIDs are in the index. */
bool carv2_fully_indexed(const struct carv2_header *h);

/* ---- indexes ---- */

struct carv2_index;

/*
 * Parse an index (from its codec varint to its end, which must be the
 * end of p[0..len)).  The index points into p, which must outlive it.
 * Checked: known codec, counts and widths consistent with the bytes,
 * widths over 8 bytes and ascending, hash codes ascending, digests in
 * order within each bucket, every offset below data_size.
 * Returns 0, EFS_ECORRUPT, EFS_EUNSUPPORTED (another index codec) or
 * EFS_ENOMEM.
 */
int carv2_index_parse(struct carv2_index **out, const uint8_t *p,
		      size_t len, uint64_t data_size);

void carv2_index_free(struct carv2_index *idx);

/* The index codec: CARV2_INDEX_SORTED or CARV2_INDEX_MH_SORTED. */
uint64_t carv2_index_codec(const struct carv2_index *idx);

/* Number of entries. */
size_t carv2_index_count(const struct carv2_index *idx);

/*
 * The offset (from the start of the inner CARv1) of the first section
 * whose multihash is id's (for 0x0400, whose digest is id's: that index
 * does not record hash functions).  Returns 0 or EFS_ENOTFOUND.
 */
int carv2_index_find(uint64_t *out, const struct carv2_index *idx,
		     const struct cid *id);

/*
 * Call fn for every entry: hash code (0 for a 0x0400 index), digest and
 * offset, in index order.  A non-zero return stops and is returned.
 */
int carv2_index_foreach(const struct carv2_index *idx,
			int (*fn)(uint64_t code, const uint8_t *digest,
				  size_t dlen, uint64_t offset,
				  void *payload),
			void *payload);

/* Collects (multihash, offset) pairs and writes a 0x0401 index. */
struct carv2_index_builder;

int carv2_index_builder_new(struct carv2_index_builder **out);
void carv2_index_builder_free(struct carv2_index_builder *b);

/* Record that the section of id is at offset.  0 or EFS_ENOMEM. */
int carv2_index_builder_add(struct carv2_index_builder *b,
			    const struct cid *id, uint64_t offset);

/*
 * Append the MultihashIndexSorted index of what was added, byte for byte
 * as go-car writes it, to out.  Returns 0 or buf errors.
 */
int carv2_index_builder_write(struct carv2_index_builder *b,
			      struct buf *out);

/* ---- wrapping a CARv1 ---- */

/*
 * Wrap the CARv1 in v1[0..len) into a CARv2, appended to out: pragma,
 * header (characteristics 0, data offset 51), the CARv1 unchanged and a
 * 0x0401 index of every non-identity section: exactly go-car's
 * WrapV1File.  The CARv1 is read and checked in full (hashes included)
 * first.  Returns 0, EFS_EINVAL (v1 is a CARv2), the errors of
 * car_reader_next, or buf errors.
 */
int carv2_wrap_mem(struct buf *out, const uint8_t *v1, size_t len);

/*
 * As carv2_wrap_mem, streaming: the CARv1 is read from in_fd (a regular
 * file, from its current position to its end) and the CARv2 written to
 * out_fd.  Memory: the index, about 64 bytes a block.  Returns as
 * carv2_wrap_mem, plus EFS_EIO.
 */
int carv2_wrap_fd(int out_fd, int in_fd);

/* ---- random access ---- */

struct carv2;

/*
 * Open a CARv2 for lookups: check the pragma and header, load and parse
 * the index.  For _mem, data must outlive the handle; for _fd, the file
 * is read with pread and must not change while open (the fd is not
 * closed).  A CARv2 without an index opens, but carv2_get then returns
 * EFS_ENOTFOUND for everything.  Returns 0, EFS_ECORRUPT, EFS_EINVAL
 * (not a CARv2), EFS_ETOOBIG (index over CARV2_INDEX_MAX),
 * EFS_EUNSUPPORTED (index codec), EFS_EIO or EFS_ENOMEM.
 */
int carv2_open_mem(struct carv2 **out, const uint8_t *data, size_t len);
int carv2_open_fd(struct carv2 **out, int fd);

void carv2_close(struct carv2 *c);

/* The header; borrowed.  */
const struct carv2_header *carv2_header(const struct carv2 *c);

/* The index, or NULL when the file has none; borrowed. */
const struct carv2_index *carv2_index(const struct carv2 *c);

/*
 * Append the bytes of block id to out: find its section through the
 * index, read it, check that the section's CID has id's multihash and
 * that the bytes hash to it.  Where the section lies goes to info when
 * not NULL.  Returns 0, EFS_ENOTFOUND, EFS_ECORRUPT (the index points at
 * something that is not a section of that block), EFS_EMISMATCH,
 * EFS_EIO or buf errors.
 */
int carv2_get(struct carv2 *c, struct car_block_info *info,
	      const struct cid *id, struct buf *out);

/*
 * Check every index entry against the section it points at (as
 * carv2_get does).  Returns 0 or the first error.
 */
int carv2_verify_index(struct carv2 *c);

#endif
