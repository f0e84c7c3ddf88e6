/*
 * carstream.h - a push parser of CARv1 streams: bytes go in as they come
 * off the network, in pieces of any size, and each block comes out once
 * its section is whole, verified against its CID.  What the retriever
 * reads a trustless gateway's CAR reply with while it streams (core/car.h
 * reads a CAR in memory or from a file descriptor; this one is fed).
 *
 * The header (varint length, DAG-CBOR {roots, version 1}) is checked by
 * core/car.h's reader; sections are varint(len) CID data, each at most
 * section_max bytes, the CID decoded with cid_from_bytes and the data
 * hashed with cid_verify before the callback sees it.  A CARv2 (or any
 * version but 1) is EFS_EUNSUPPORTED: gateways are asked for version 1.
 *
 * Memory: one section (at most section_max bytes) and the header.
 *
 * Threads: a struct carstream is owned by one thread.
 */
#ifndef EFS_CARSTREAM_H
#define EFS_CARSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/cid.h"

/*
 * Receives each verified block; id and data are borrowed for the call.
 * A non-zero return stops the stream and is returned by carstream_feed.
 */
typedef int (*carstream_block_fn)(void *cls, const struct cid *id,
				  const uint8_t *data, size_t len);

struct carstream {
	carstream_block_fn on_block;
	void *cls;
	size_t section_max;
	bool header_done;
	uint8_t varint[10];       /* the length varint being read */
	size_t vlen;
	uint64_t need;            /* bytes of the item being read; 0: a
				     varint is being read */
	struct buf item;          /* its bytes so far */
	uint64_t offset;          /* bytes taken in so far */
	uint64_t blocks;          /* blocks given to on_block */
	int err;                  /* sticky: the first failure */
};

/*
 * Start a parser: blocks go to on_block(cls, ...); sections over
 * section_max (0: core/car.h's CAR_SECTION_MAX) are refused.
 */
void carstream_init(struct carstream *cs, size_t section_max,
		    carstream_block_fn on_block, void *cls);

/* Free what it holds. */
void carstream_release(struct carstream *cs);

/*
 * Take in len more bytes.  Returns 0, or (then and for every later call)
 * EFS_ECORRUPT (a bad varint, header, CID or empty section),
 * EFS_EUNSUPPORTED (a CAR version other than 1, a hash this build cannot
 * compute), EFS_ETOOBIG (a header or section over its cap),
 * EFS_EMISMATCH (a block that does not hash to its CID), EFS_ENOMEM or
 * what on_block returned.
 */
int carstream_feed(struct carstream *cs, const uint8_t *data, size_t len);

/*
 * The stream ended: 0 when it ended after the header, between two
 * sections; EFS_ECORRUPT when it was cut inside one (or never had a
 * header); the sticky error if there was one.
 */
int carstream_finish(struct carstream *cs);

#endif
