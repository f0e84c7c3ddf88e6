/*
 * dagpb.h - the dag-pb codec (0x70): PBNode { Links = 2; Data = 1 },
 * PBLink { Hash = 1; Name = 2; Tsize = 3 }.
 *
 * Encoding writes only the canonical form that boxo and @ipld/dag-pb
 * write: links first, then Data; inside a link Hash, Name, Tsize; links
 * sorted by name bytes (stable).  Decoding is strict: fields out of
 * order, duplicates, unknown fields, wire-type mismatches, a link without
 * Hash, a Hash that is not exactly one binary CID, non-minimal varints
 * and trailing bytes are EFS_ECORRUPT.  Data before Links is accepted
 * (old blocks exist), as the spec asks; Links on both sides of Data are
 * not.  Unsorted links are accepted on decode (legacy blocks; the JS
 * decoder does not check either).  Names are bytes: UTF-8 is not
 * checked.
 *
 * Everything here is reentrant; a struct dagpb_node belongs to one thread.
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
 * Decode a block.  out->links is allocated (NULL when there are no
 * links; free with dagpb_node_release); link names and data point into
 * block, which must outlive out.  An empty Data field gives has_data with
 * data_len 0.  Returns 0, EFS_ECORRUPT, EFS_ETOOBIG (len over
 * DAGPB_BLOCK_MAX) or EFS_ENOMEM; on error out is zeroed (releasing it
 * is harmless).
 */
int dagpb_decode(struct dagpb_node *out, const uint8_t *block, size_t len);

/* Free what dagpb_decode allocated; node is zeroed. */
void dagpb_node_release(struct dagpb_node *node);

/*
 * The Tsize of block, what a link to it carries: the block's length plus
 * the Tsizes of its links (a link without one counts 0).  A raw leaf's
 * Tsize is its length; this is for dag-pb blocks.  Returns 0,
 * EFS_ECORRUPT (not dag-pb, or a sum past UINT64_MAX), EFS_ETOOBIG or
 * EFS_ENOMEM, as dagpb_decode.
 */
int dagpb_tsize(uint64_t *out, const uint8_t *block, size_t len);

/* Exact size of the encoding of node. */
size_t dagpb_encoded_size(const struct dagpb_node *node);

/* Exact size of one encoded link, tag and length prefix included. */
size_t dagpb_link_size(const struct dagpb_link *link);

/*
 * Append the canonical encoding of node to out.  The links must already
 * be in canonical order (dagpb_links_sort); node is borrowed.  Name is
 * written when has_name (an empty one as `12 00`), Tsize when has_tsize,
 * Data when has_data (an empty one as `0a 00`).  Returns 0, EFS_EINVAL
 * (links out of order; out unchanged), EFS_ETOOBIG (the block would pass
 * DAGPB_BLOCK_MAX, or out's cap) or EFS_ENOMEM.
 */
int dagpb_encode(struct buf *out, const struct dagpb_node *node);

/*
 * Stable sort of links by name bytes, shorter prefix first (a link
 * without has_name sorts as the empty name).  Allocates a scratch copy
 * only when links are not already sorted.  Returns 0 or EFS_ENOMEM
 * (links unchanged).
 */
int dagpb_links_sort(struct dagpb_link *links, size_t n);

/*
 * Compare two link names the dag-pb way: unsigned bytes, then length
 * (a prefix sorts first).  Returns -1, 0 or 1.  a/b may be NULL when
 * their length is 0.
 */
int dagpb_name_compare(const uint8_t *a, size_t alen, const uint8_t *b,
		       size_t blen);

#endif
