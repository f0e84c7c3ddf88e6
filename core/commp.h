/*
 * commp.h - Filecoin piece commitment (CommP) and piece CIDs, computed
 * exactly as @web3-storage/data-segment 5.3.0 does (ipfs-formats.md §10).
 *
 * The payload is zero-padded to the unpadded piece size U = 127 * 2^k,
 * the smallest such value >= max(payload, 127); each 127-byte block is
 * fr32-padded into four 32-byte leaves; the padded piece of P = U * 128/127
 * bytes is the leaf row of a binary tree whose nodes are
 * SHA-256(left || right) with the top two bits of the last byte cleared.
 * The root is the commitment.  Names for it:
 *
 *	piece CID v1  baga6ea4seaq...   CIDv1, codec fil-commitment-unsealed
 *	                                (0xf101), multihash
 *	                                sha2-256-trunc254-padded (0x1012) of
 *	                                the root; P travels separately
 *	piece CID v2  bafkzcib...       CIDv1, codec raw (0x55), multihash
 *	                                fr32-sha256-trunc254-padbintree
 *	                                (0x1011), digest uvarint(padding) |
 *	                                uint8 height | root (FRC-0069)
 *
 * Streaming: commp_new, commp_update any number of times with pieces of
 * any size, commp_finish.  Memory does not depend on the input size (one
 * node per tree level).  A struct commp is owned by one thread; with
 * threads > 1 it runs its own worker threads internally.
 */
#ifndef EFS_COMMP_H
#define EFS_COMMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cid.h"

/* Bytes of a tree node and of the root. */
#define COMMP_NODE_SIZE 32
/* Payload bytes per fr32 block ("quad": four leaves). */
#define COMMP_QUAD_IN 127
/* Smallest piece: one quad, P = 128, U = 127, height 2. */
#define COMMP_PADDED_MIN 128
/*
 * Largest piece this implementation handles: P = 2^63 (height 58), so
 * that every size fits a uint64_t.  Far past any Filecoin sector.
 */
#define COMMP_HEIGHT_MAX 58
#define COMMP_PAYLOAD_MAX ((uint64_t)127 << 56)
/*
 * With threads > 1, commp_update hands whole subtrees of this many payload
 * bytes (2^13 quads, one node at tree level 15) to the workers.  A call
 * must bring at least two of them, at a multiple of this size from the
 * start of the stream, for the work to be shared.
 */
#define COMMP_CHUNK_QUADS_LOG2 13
#define COMMP_CHUNK_BYTES ((size_t)COMMP_QUAD_IN << COMMP_CHUNK_QUADS_LOG2)

/*
 * A computed or parsed piece.  A plain value.  For a piece made by
 * commp_finish: padded_size = 32 << height, unpadded_size =
 * padded_size / 128 * 127, padding = unpadded_size - payload_size.
 */
struct commp_piece {
	uint8_t root[COMMP_NODE_SIZE]; /* the commitment (CommP) */
	uint64_t payload_size;          /* bytes hashed */
	uint64_t padded_size;           /* P: "PaddedPieceSize" */
	uint64_t unpadded_size;         /* U: "UnpaddedPieceSize" */
	uint64_t padding;               /* U - payload_size */
	unsigned height;                /* log2(P / 32), 2..COMMP_HEIGHT_MAX */
};

struct commp;

/*
 * A streaming hasher.  threads: 1 hashes on the calling thread only; n > 1
 * also starts n - 1 worker threads (see COMMP_CHUNK_BYTES); 0 means one
 * per online CPU.  Returns 0, EFS_ENOMEM, or EFS_ERROR when a thread
 * cannot be started.  Free with commp_free.
 */
int commp_new(struct commp **out, unsigned threads);

/*
 * Add len bytes.  Returns 0, or EFS_ETOOBIG when the payload would pass
 * COMMP_PAYLOAD_MAX (nothing is added then).
 */
int commp_update(struct commp *c, const void *data, size_t len);

/*
 * The piece of everything added so far.  Does not change c: more bytes
 * may be added and commp_finish called again.
 */
void commp_finish(struct commp_piece *out, const struct commp *c);

/* Forget the bytes added; c is as new (its threads are kept). */
void commp_reset(struct commp *c);

/* Stop the workers and free c.  NULL is ignored. */
void commp_free(struct commp *c);

/* The piece of len bytes at data, on the calling thread, with no
 * allocation (about 12 KiB of stack).  Never fails for len <=
 * COMMP_PAYLOAD_MAX; EFS_ETOOBIG past it. */
int commp_compute(struct commp_piece *out, const void *data, size_t len);

/*
 * Sizes.  All return 0 for an argument outside what they accept.
 *   commp_unpadded_size(payload)   U for a payload (127 for 0..127 bytes)
 *   commp_padded_size(payload)     P for a payload (128 for 0..127 bytes)
 *   commp_unpadded_of_padded(P)    P / 128 * 127; P must be valid
 *   commp_padded_of_unpadded(U)    U / 127 * 128; U must be valid
 *   commp_height_of_padded(P)      log2(P / 32); P must be valid
 */
uint64_t commp_unpadded_size(uint64_t payload);
uint64_t commp_padded_size(uint64_t payload);
uint64_t commp_unpadded_of_padded(uint64_t padded);
uint64_t commp_padded_of_unpadded(uint64_t unpadded);
unsigned commp_height_of_padded(uint64_t padded);

/* P is a power of two, 128..2^63. */
bool commp_padded_valid(uint64_t padded);
/* U is 127 * 2^k with U / 127 * 128 a valid P. */
bool commp_unpadded_valid(uint64_t unpadded);

/*
 * A piece from what a v1 piece CID comes with: its root, P, and the
 * payload size (for the padding of the v2 CID).  Returns 0, or EFS_EINVAL
 * when P is not a valid padded size, payload_size > U, or the root is not
 * a tree node (top two bits of its last byte set).
 */
int commp_piece_init(struct commp_piece *out,
		     const uint8_t root[COMMP_NODE_SIZE], uint64_t padded_size,
		     uint64_t payload_size);

/* The piece CID v1 (baga...) and v2 (bafkzcib...) of a piece. */
void commp_cid_v1(struct cid *out, const struct commp_piece *p);
void commp_cid_v2(struct cid *out, const struct commp_piece *p);

/* True when id has the codec and multihash of a piece CID v1 / v2. */
bool commp_cid_is_v1(const struct cid *id);
bool commp_cid_is_v2(const struct cid *id);

/*
 * The piece named by a piece CID v2: root, height and padding, and the
 * sizes they imply.  Returns 0; EFS_EINVAL when id is not a piece CID v2
 * (a v1 CID carries no size: use commp_piece_init); EFS_ECORRUPT for a
 * malformed digest (bad varint, wrong length, height under 2, padding
 * over U, root not a tree node); EFS_EUNSUPPORTED for a height over
 * COMMP_HEIGHT_MAX.
 */
int commp_piece_from_cid(struct commp_piece *out, const struct cid *id);

/* As commp_piece_from_cid for a CID string; also EFS_ECORRUPT as
 * cid_parse. */
int commp_piece_parse(struct commp_piece *out, const char *s);

/*
 * Tree primitives, for code that builds trees of pieces (core/datasegment).
 *
 * commp_node_hash: the parent of two nodes, SHA-256(left || right) with
 * the top two bits of its last byte cleared.  out may alias left or right.
 * commp_zero_node: the root of an all-zero subtree of the given height
 * (0: a zero leaf), height <= COMMP_HEIGHT_MAX; a static node.
 * commp_fr32_pad / commp_fr32_unpad: one quad, 127 payload bytes to four
 * 32-byte leaves (the two high bits of each cleared) and back.  Unpadding
 * drops those two bits of each leaf.
 * All four are reentrant and never fail.
 */
void commp_node_hash(uint8_t out[COMMP_NODE_SIZE], const uint8_t *left,
		     const uint8_t *right);
const uint8_t *commp_zero_node(unsigned height);
void commp_fr32_pad(uint8_t out[128], const uint8_t in[COMMP_QUAD_IN]);
void commp_fr32_unpad(uint8_t out[COMMP_QUAD_IN], const uint8_t in[128]);

#endif
