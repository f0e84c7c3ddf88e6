/*
 * datasegment.h - FRC-0058 verifiable data aggregation: several pieces
 * (sub-pieces, "data segments") laid out in one deal with a data segment
 * index at its end, the aggregate's CommP, and inclusion proofs; byte for
 * byte as @web3-storage/data-segment 5.3.0 (its Aggregate builder,
 * Inclusion proofs) and go-data-segment (the index an SP parses).
 *
 * Sizes: "padded" offsets and sizes count the bytes of the fr32-padded
 * deal (the leaf row of its tree); the bytes a client sends and an SP
 * downloads are the unpadded payload, padded * 127 / 128 of them.  Every
 * offset and size here is a multiple of 128 padded bytes, so it maps to
 * a whole number of unpadded bytes.
 *
 * The deal of P padded bytes (a power of two), its unpadded payload:
 *
 *	0                                              index_offset      P
 *	| sub 0 | 0s | sub 1 | sub 2 | 0s ...            | entry 0, 1 ... 0s |
 *
 * Each sub-piece of size S = 32 << height sits at the next multiple of S
 * after the previous one (input order), its payload zero-filled up to
 * its unpadded size; index_offset = P - index_max * 64; index_max =
 * max(4, 2^ceil(log2(P / 2048 / 64))) entries of 64 padded bytes (two
 * leaves): the sub-piece's root, then offset and size (uint64 little
 * endian) and a 126-bit checksum, SHA-256 of the entry with the checksum
 * zeroed, first 16 bytes, top two bits cleared.  Unused entries are zero.
 *
 * Order: the builder never reorders.  Callers should sort sub-pieces by
 * size, largest first: every piece then starts right where the previous
 * one ended, with no alignment gap, and the deal is the smallest possible
 * (tests/data/datasegment: 'sorted' against 'unsorted').
 *
 * All functions are reentrant; a layout is immutable once made and may
 * be read from several threads.
 */
#ifndef EFS_DATASEGMENT_H
#define EFS_DATASEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/commp.h"

/* Padded bytes of an index entry (two leaves). */
#define DATASEGMENT_ENTRY_SIZE	  64
#define DATASEGMENT_CHECKSUM_SIZE 16
/* Longest proof path accepted (data-segment's MAX_DEPTH). */
#define DATASEGMENT_PROOF_DEPTH_MAX 63

/* An index entry, as it sits in the padded index area. */
struct datasegment_entry {
	uint8_t comm[COMMP_NODE_SIZE]; /* the sub-piece's CommP */
	uint64_t offset;	       /* padded bytes from the deal start */
	uint64_t size;		       /* padded bytes within the deal */
	uint8_t checksum[DATASEGMENT_CHECKSUM_SIZE];
};

struct datasegment_tree;

/*
 * An aggregate: where each sub-piece goes, the index, and the deal's
 * piece.  Made by datasegment_layout_init, freed with
 * datasegment_layout_release; read-only in between.
 */
struct datasegment_layout {
	uint64_t deal_padded; /* P */
	size_t n;             /* sub-pieces */
	/* n entries, input order, and copies of the n inputs */
	struct datasegment_entry *entries;
	struct commp_piece *subs;
	uint64_t index_offset; /* padded; the index area runs to P */
	size_t index_max;      /* entries the index area holds */
	struct commp_piece piece; /* the aggregate: P, padding 0 */
	struct datasegment_tree *tree; /* private: nodes kept for proofs */
};

/*
 * Entries in the index of a deal of deal_padded bytes, and the padded
 * offset where that index starts.  0 when deal_padded is not a valid
 * padded size (commp_padded_valid) of at least 256 bytes (the smallest
 * deal with room for an index: four entries).
 */
size_t datasegment_index_max(uint64_t deal_padded);
uint64_t datasegment_index_offset(uint64_t deal_padded);

/*
 * The unpadded bytes of the index area of such a deal (index_max * 63.5)
 * and where they start in the payload (go-data-segment's
 * DataSegmentIndexStartOffset).  0 when deal_padded is not valid.
 */
uint64_t datasegment_index_unpadded_size(uint64_t deal_padded);
uint64_t datasegment_index_unpadded_offset(uint64_t deal_padded);

/* An entry for comm at offset, size, with its checksum computed. */
void datasegment_entry_init(struct datasegment_entry *out,
			    const uint8_t comm[COMMP_NODE_SIZE],
			    uint64_t offset, uint64_t size);

/* The 64 bytes of an entry, and back (decoding checks nothing). */
void datasegment_entry_encode(uint8_t out[DATASEGMENT_ENTRY_SIZE],
			      const struct datasegment_entry *e);
void datasegment_entry_decode(struct datasegment_entry *out,
			      const uint8_t in[DATASEGMENT_ENTRY_SIZE]);

/*
 * go-data-segment's SegmentDesc.Validate: the checksum matches, offset
 * and size are multiples of 128.
 */
bool datasegment_entry_valid(const struct datasegment_entry *e);

/*
 * Lay out the n sub-pieces subs (n >= 1, in this order) in a deal of
 * deal_padded bytes, or with deal_padded 0 in the smallest deal they fit
 * in, exactly as data-segment's Aggregate builder, and compute the index
 * and the aggregate's piece.  Only root and height of each sub-piece
 * matter for the layout; payload_size tells where the zero fill after a
 * sub-piece's payload starts (datasegment_payload_span).
 *
 * Memory: about 40 bytes per tree node kept, n * (height - log2 n + 4)
 * nodes at most.  Returns 0; EFS_EINVAL for n == 0, an invalid
 * deal_padded or an invalid sub-piece; EFS_ETOOBIG when the sub-pieces
 * and the index do not fit (or n > index_max); EFS_ENOMEM.  On error out
 * is left released.
 */
int datasegment_layout_init(struct datasegment_layout *out,
			    const struct commp_piece *subs, size_t n,
			    uint64_t deal_padded);

/* Free what a layout holds; l is zeroed.  A zeroed layout is ignored. */
void datasegment_layout_release(struct datasegment_layout *l);

/*
 * Append to out the unpadded bytes of the index area: the payload from
 * datasegment_index_unpadded_offset(P) to its end.  Returns 0 or buf's
 * errors.
 */
int datasegment_index_bytes(struct buf *out,
			    const struct datasegment_layout *l);

/*
 * What the aggregate's payload holds at an unpadded offset: a streamer
 * serves byte pos from the sub-piece payloads, zeros and the index bytes.
 */
enum datasegment_span_kind {
	DATASEGMENT_SPAN_PIECE, /* sub-piece `piece`'s payload at `offset` */
	DATASEGMENT_SPAN_ZERO,	/* zeros */
	DATASEGMENT_SPAN_INDEX, /* datasegment_index_bytes at `offset` */
};

struct datasegment_span {
	enum datasegment_span_kind kind;
	size_t piece;	 /* PIECE: the sub-piece */
	uint64_t offset; /* PIECE, INDEX: where pos is within it */
	uint64_t len;	 /* bytes from pos to the span's end (>= 1) */
};

/*
 * The span at unpadded offset pos.  Returns 0, or EFS_EINVAL when pos is
 * at or past the payload's end (l->piece.unpadded_size).
 */
int datasegment_payload_span(struct datasegment_span *out,
			     const struct datasegment_layout *l, uint64_t pos);

/*
 * What an SP does with a deal's payload: read the index area from its
 * end and keep the entries that go-data-segment's ValidEntries keeps
 * (datasegment_entry_valid) and that lie before the index area (size > 0,
 * offset + size <= index offset; others are dropped as out of range).
 *
 * payload_tail: the last len bytes of the deal's unpadded payload of
 * deal_padded * 127 / 128 bytes (a payload shorter than that is
 * zero-filled to it, as SPs do); len >= datasegment_index_unpadded_size,
 * only that many final bytes are read.  On success *out is an array of
 * *n entries in index order (NULL when none), freed with efs_free.
 * Returns 0; EFS_EINVAL for an invalid deal_padded or a short tail;
 * EFS_ENOMEM.
 */
int datasegment_index_parse(struct datasegment_entry **out, size_t *n,
			    const uint8_t *payload_tail, size_t len,
			    uint64_t deal_padded);

/*
 * A Merkle path: the sibling of the node, then of its parent, ... up to
 * the root's children; index: the node's position in its level.
 */
struct datasegment_path {
	uint64_t index;
	unsigned depth;
	uint8_t path[DATASEGMENT_PROOF_DEPTH_MAX][COMMP_NODE_SIZE];
};

/*
 * data-segment's InclusionProof: tree proves the sub-piece's root (at its
 * height) in the aggregate, index proves its index entry (the node over
 * the entry's two leaves, level 1).  A plain value of about 4 KiB.
 */
struct datasegment_proof {
	struct datasegment_path tree;
	struct datasegment_path index;
};

/* The proof of sub-piece i of l.  Returns 0, or EFS_EINVAL for i >= n. */
int datasegment_proof_make(struct datasegment_proof *out,
			   const struct datasegment_layout *l, size_t i);

/*
 * The aggregate a proof leads to for sub (data-segment's
 * resolveAggregate, go-data-segment's ComputeExpectedAuxData): both paths
 * must reach the same root at the same size, and the entry must lie in
 * that size's index area.  out: root and padded size, padding 0.
 * Returns 0, or EFS_EMISMATCH when the proof does not hold for sub.
 */
int datasegment_proof_resolve(struct commp_piece *out,
			      const struct datasegment_proof *p,
			      const struct commp_piece *sub);

/*
 * Check that p proves sub inside aggregate (root and padded size; its
 * payload size is not looked at).  Returns 0 or EFS_EMISMATCH.
 */
int datasegment_proof_verify(const struct datasegment_proof *p,
			     const struct commp_piece *aggregate,
			     const struct commp_piece *sub);

/*
 * The proof's bytes: data-segment's Inclusion.encode (and go-data-segment's
 * InclusionProof CBOR), DAG-CBOR
 *
 *	[[tree.index, [node, ...]], [index.index, [node, ...]]]
 *
 * nodes as 32-byte byte strings.  encode appends to out (0 or buf's
 * errors); decode reads exactly one such item: 0, or EFS_ECORRUPT (a
 * path over DATASEGMENT_PROOF_DEPTH_MAX, a node not of 32 bytes, any
 * other shape).
 */
int datasegment_proof_encode(struct buf *out,
			     const struct datasegment_proof *p);
int datasegment_proof_decode(struct datasegment_proof *out, const uint8_t *data,
			     size_t len);

#endif
