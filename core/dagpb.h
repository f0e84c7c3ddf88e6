/*
 * dagpb.h - the dag-pb codec (0x70): PBNode { Links = 2; Data = 1 },
 * PBLink { Hash = 1; Name = 2; Tsize = 3 }.
 *
 * Encoding writes only the canonical form that boxo and @ipld/dag-pb
 * write: links first, then Data; inside a link Hash, Name, Tsize; links
 * sorted by name bytes (stable).  Decoding is strict: fields out of
 * order, duplicates, unknown fields, wire-type mismatches, a link without
 * Hash, non-minimal varints and trailing bytes are EFS_ECORRUPT.  Data
 * before Links is accepted (old blocks exist), as the spec asks.
 */
#ifndef EFS_DAGPB_H
#define EFS_DAGPB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/cid.h"

struct dagpb_link {
	struct cid cid;
	const uint8_t *name; /* borrowed; not NUL-terminated; may be NULL */
	size_t name_len;
	uint64_t tsize;
	bool has_name;       /* the reference writers always set both */
	bool has_tsize;
};

struct dagpb_node {
	struct dagpb_link *links; /* see ownership at each function */
	size_t nlinks;
	const uint8_t *data;      /* borrowed */
	size_t data_len;
	bool has_data;
};

/* Largest block this codec will decode or produce (2 MiB, bitswap's). */
#define DAGPB_BLOCK_MAX (2u * 1024 * 1024)

/*
 * Decode a block.  out->links is allocated (free with
 * dagpb_node_release); link names and data point into block, which must
 * outlive out.  Returns 0, EFS_ECORRUPT or EFS_ENOMEM.
 */
int dagpb_decode(struct dagpb_node *out, const uint8_t *block, size_t len);

/* Free what dagpb_decode allocated. */
void dagpb_node_release(struct dagpb_node *node);

/* Exact size of the encoding of node. */
size_t dagpb_encoded_size(const struct dagpb_node *node);

/* Exact size of one encoded link, tag and length prefix included. */
size_t dagpb_link_size(const struct dagpb_link *link);

/*
 * Append the canonical encoding of node to out.  The links must already
 * be in canonical order (dagpb_links_sort); node is borrowed.  Returns 0,
 * EFS_EINVAL (links out of order) or buf errors.
 */
int dagpb_encode(struct buf *out, const struct dagpb_node *node);

/* Stable sort of links by name bytes, shorter prefix first. */
int dagpb_links_sort(struct dagpb_link *links, size_t n);

/* Compare two link names the dag-pb way (bytes, then length). */
int dagpb_name_compare(const uint8_t *a, size_t alen, const uint8_t *b,
		       size_t blen);

#endif
