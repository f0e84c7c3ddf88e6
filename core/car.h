/*
 * car.h - CAR files (content-addressed archives): the CARv1 writer, a
 * streaming DAG exporter, the CARv1/CARv2 reader and a `car import`
 * helper.  CARv2 headers, indexes and wrapping are in carv2.h.
 *
 * CARv1 = varint(len(H)) H section*, where H is the DAG-CBOR map
 * {"roots": [CID...], "version": 1} and a section is
 * varint(len(CID) + len(data)) CID data (ipfs-formats.md §9).
 *
 * Offsets: every offset in this API counts bytes from the start of the
 * CARv1 stream (for a CARv2, from the start of its inner CARv1, which is
 * what CARv2 indexes store).  A section's offset is that of its length
 * varint; its length counts the varint too, so sections tile the stream.
 *
 * Threads: every object here is owned by one thread.
 */
#ifndef EFS_CAR_H
#define EFS_CAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/blockio.h"
#include "core/cid.h"

/* Largest header the reader accepts (go-car allows 32 MiB; ours is DoS
 * safe and still holds thousands of roots). */
#define CAR_HEADER_MAX (1u << 20)
/* Largest section the reader accepts by default: a 2 MiB block (the
 * bitswap limit) plus its CID. */
#define CAR_SECTION_MAX (2u * 1024 * 1024 + CID_BYTES_MAX)

/* Where a block lies in a CAR (see Offsets above). */
struct car_block_info {
	struct cid id;
	uint64_t section_offset; /* of the section's length varint */
	uint64_t section_len;    /* varint + CID + data */
	uint64_t block_offset;   /* of the block's first byte */
	uint64_t block_len;
};

/* ---- writing CARv1 ---- */

/*
 * Receives the CAR bytes in order.  Returns 0, or a negative code that
 * aborts the write and is passed back to the caller.  data is borrowed.
 */
typedef int (*car_write_fn)(void *payload, const uint8_t *data, size_t len);

struct car_writer;

/*
 * A writer to the file descriptor fd (not closed by the writer) or to a
 * callback.  Output is buffered (64 KiB); car_writer_finish flushes.
 * Returns 0 or EFS_ENOMEM.
 */
int car_writer_new_fd(struct car_writer **out, int fd);
int car_writer_new_cb(struct car_writer **out, car_write_fn fn,
		      void *payload);

/* Free the writer; bytes not flushed by car_writer_finish are lost. */
void car_writer_free(struct car_writer *w);

/*
 * Write the header {"roots": roots, "version": 1}.  Must come first, and
 * once.  Returns 0, EFS_EINVAL (called twice, or after a section) or an
 * output error (EFS_EIO with errno for an fd, or the callback's code).
 */
int car_writer_header(struct car_writer *w, const struct cid *roots,
		      size_t nroots);

/*
 * Append a section for block id (the caller vouches that data hashes to
 * id).  Where it landed goes to info when not NULL.  Returns 0,
 * EFS_EINVAL (no header yet) or output errors.
 */
int car_writer_add(struct car_writer *w, struct car_block_info *info,
		   const struct cid *id, const uint8_t *data, size_t len);

/*
 * Append len bytes verbatim, outside the CARv1 framing (CARv2 pragma,
 * header and index; sections copied from another CAR).  Returns 0 or
 * output errors.
 */
int car_writer_raw(struct car_writer *w, const void *data, size_t len);

/* Bytes written so far, buffered ones included. */
uint64_t car_writer_offset(const struct car_writer *w);

/* Flush buffered bytes.  Returns 0 or output errors. */
int car_writer_finish(struct car_writer *w);

/*
 * Called after each section car_write_dag writes; info is borrowed.  A
 * non-zero return stops the export and is returned.
 */
typedef int (*car_block_fn)(const struct car_block_info *info,
			    void *payload);

/*
 * Export the DAG under root as a deterministic CARv1 (the Filecoin deal
 * layout, what `ipfs dag export` writes): header {roots: [root]}, then
 * every block reachable from root in depth-first pre-order, children in
 * link order (links_foreach), each block at its first occurrence only
 * (blocks are told apart by multihash), identity CIDs skipped.  Ends
 * with car_writer_finish.  on_block may be NULL.
 *
 * Memory: the blocks are fetched one at a time; what is held is, for each
 * node on the path from the root, its list of links in binary form, plus
 * the set of multihashes written (about 50 bytes a block).
 *
 * Returns 0; EFS_EINVAL when w already has a header; what src returns
 * (EFS_ENOTFOUND for a missing block, EFS_EMISMATCH...); EFS_ECORRUPT or
 * EFS_EUNSUPPORTED from links_foreach (a block that does not decode, a
 * codec whose links are unknown); output errors; on_block's value.
 */
int car_write_dag(struct car_writer *w, const struct blockio_source *src,
		  const struct cid *root, car_block_fn on_block,
		  void *payload);

/* ---- reading CARv1 and CARv2 ---- */

struct car_reader;

/* One section, as car_reader_next returns it. */
struct car_block {
	struct car_block_info info;
	const uint8_t *data;     /* the block; borrowed until the next call */
	const uint8_t *section;  /* the whole section, varint first */
};

/*
 * Open a reader over the CAR in data[0..len) (borrowed: it must outlive
 * the reader; blocks point into it) or streaming from fd (read
 * sequentially from its current position, never seeked; not closed).
 * Reads and checks the header: strict DAG-CBOR {roots, version 1}, or
 * the CARv2 pragma, 40-byte header and the inner CARv1's header (the
 * reader then stops at the end of the inner CARv1 and does not look at
 * the index: see carv2.h for that).
 * Returns 0, EFS_ECORRUPT, EFS_ETOOBIG (header over CAR_HEADER_MAX),
 * EFS_EUNSUPPORTED (a CAR version other than 1 and 2), EFS_EIO or
 * EFS_ENOMEM.
 */
int car_reader_open_mem(struct car_reader **out, const uint8_t *data,
			size_t len);
int car_reader_open_fd(struct car_reader **out, int fd);

void car_reader_free(struct car_reader *r);

/* 1 or 2. */
int car_reader_version(const struct car_reader *r);

/* The header's roots (of the inner CARv1 for a CARv2); borrowed. */
const struct cid *car_reader_roots(const struct car_reader *r, size_t *n);

/*
 * The CARv1 header bytes, length varint included (with sections, the
 * whole CARv1 stream is these bytes then every section's bytes).
 */
const uint8_t *car_reader_header_bytes(const struct car_reader *r,
				       size_t *len);

/* Raise or lower the section cap (default CAR_SECTION_MAX). */
void car_reader_set_section_max(struct car_reader *r, size_t max);

/*
 * Read the next section into out (pointers valid until the next call or
 * car_reader_free).  The block is hashed and checked against its CID.
 * Returns 0; EFS_ITEROVER after the last section; EFS_ECORRUPT (a
 * zero-length section, a bad CID, a section running past the end of the
 * input or of a CARv2's data, truncation, trailing bytes that are not a
 * section); EFS_ETOOBIG (a section over the cap with more than the cap
 * left in the input); EFS_EMISMATCH; EFS_EUNSUPPORTED (a hash this
 * build cannot compute); EFS_EIO; EFS_ENOMEM.  After an error the
 * reader only returns that error again.  Memory and fd readers of the
 * same bytes return the same sections and codes.
 */
int car_reader_next(struct car_reader *r, struct car_block *out);

/*
 * `car import`: read the CAR (v1 or v2) in data[0..len) or from fd and
 * put every block into sink.  The header's roots go to roots_out (an
 * array the caller frees with efs_free; NULL when there are none) and
 * nroots_out.  Returns 0 or the errors of car_reader_next and the sink;
 * blocks already put stay in the sink.
 */
int car_import_mem(struct cid **roots_out, size_t *nroots_out,
		   const struct blockio_sink *sink, const uint8_t *data,
		   size_t len);
int car_import_fd(struct cid **roots_out, size_t *nroots_out,
		  const struct blockio_sink *sink, int fd);

#endif
