/*
 * dagpb.c - the dag-pb codec (see dagpb.h).
 *
 * Design notes:
 * - Decoding follows @ipld/dag-pb 4.2.0 pb-decode.js, plus what the
 *   dag-pb spec asks of a strict decoder and the JS code leaves out:
 *   minimal varints, a Hash that is a whole CID, no trailing bytes.
 *   The accepted node shapes are Links* Data? and Data Links*; anything
 *   else (Links Data Links, two Data) is ECORRUPT.
 * - dagpb_decode walks the block twice: once to validate it and count
 *   the links, once to fill an array allocated to the exact count.  So a
 *   corrupt block never allocates, and a valid one allocates once; the
 *   cost is parsing each CID twice, which is small next to hashing the
 *   block.  The smallest valid link (an identity CID) takes 8 bytes, so
 *   the array is bounded by DAGPB_BLOCK_MAX / 8 entries.
 * - Encoding sizes the node exactly first (dagpb_encoded_size), grows the
 *   buffer once and writes forwards.  Field order is the canonical one:
 *   every link, then Data; in a link Hash, Name, Tsize.
 */
#include "core/dagpb.h"

#include <assert.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/pbwire_i.h"
#include "core/varint.h"

#include "core/banned.h"

/* PBNode and PBLink field keys (field number << 3 | wire type). */
#define KEY_NODE_DATA  0x0a
#define KEY_NODE_LINK  0x12
#define KEY_LINK_HASH  0x0a
#define KEY_LINK_NAME  0x12
#define KEY_LINK_TSIZE 0x18

static int decode_link_field(struct dagpb_link *out, struct pbwire *r,
			     uint32_t field, unsigned wire)
{
	const uint8_t *p;
	size_t n;
	int error;

	if (field > 3)
		return efs_error_set(EFS_ECORRUPT,
				     "dagpb: unknown link field %u", field);
	if (wire != (field == 3 ? PBWIRE_VARINT : PBWIRE_LEN))
		return efs_error_set(EFS_ECORRUPT,
				     "dagpb: wire type %u for link field %u",
				     wire, field);
	if (field == 3) {
		out->has_tsize = true;
		return pbwire_varint(r, &out->tsize);
	}
	if ((error = pbwire_bytes(r, &p, &n)) < 0)
		return error;
	if (field == 2) {
		out->name = p;
		out->name_len = n;
		out->has_name = true;
		return 0;
	}
	if (cid_from_bytes_exact(&out->cid, p, n) < 0)
		return efs_error_set(EFS_ECORRUPT,
				     "dagpb: link hash is not a cid (%s)",
				     efs_error_msg());
	return 0;
}

/* One PBLink message: Hash, then optional Name, then optional Tsize. */
static int decode_link(struct dagpb_link *out, const uint8_t *p, size_t len)
{
	struct pbwire r;
	uint32_t last = 0;
	uint32_t field;
	unsigned wire;
	int error;

	memset(out, 0, sizeof(*out));
	pbwire_init(&r, p, len, "dagpb");
	while (!pbwire_done(&r)) {
		if ((error = pbwire_key(&r, &field, &wire)) < 0)
			return error;
		if (last == 0 && field != 1)
			break;
		if (field <= last)
			return efs_error_set(EFS_ECORRUPT,
					     "dagpb: link field %u after %u",
					     field, last);
		if ((error = decode_link_field(out, &r, field, wire)) < 0)
			return error;
		last = field;
	}
	if (last == 0)
		return efs_error_set(EFS_ECORRUPT, "dagpb: link without hash");
	return 0;
}

/*
 * Walk the PBNode fields.  With links == NULL only validate and count
 * (into out->nlinks); otherwise also store each link.
 */
static int decode_node(struct dagpb_node *out, struct dagpb_link *links,
		       const uint8_t *block, size_t len)
{
	struct pbwire r;
	struct dagpb_link tmp;
	bool data_after_links = false;
	uint32_t field;
	unsigned wire;
	const uint8_t *p;
	size_t n;
	int error;

	pbwire_init(&r, block, len, "dagpb");
	out->nlinks = 0;
	while (!pbwire_done(&r)) {
		size_t at = r.pos;

		if ((error = pbwire_key(&r, &field, &wire)) < 0)
			return error;
		if (field > 2)
			return efs_error_set(EFS_ECORRUPT,
					     "dagpb: unknown node field %u",
					     field);
		if (wire != PBWIRE_LEN)
			return efs_error_set(
			    EFS_ECORRUPT,
			    "dagpb: wire type %u for node field %u", wire,
			    field);
		if ((error = pbwire_bytes(&r, &p, &n)) < 0)
			return error;
		if (field == 1) {
			if (out->has_data)
				return efs_error_set(
				    EFS_ECORRUPT,
				    "dagpb: second data at offset %zu", at);
			out->data = p;
			out->data_len = n;
			out->has_data = true;
			data_after_links = out->nlinks > 0;
			continue;
		}
		if (data_after_links)
			return efs_error_set(
			    EFS_ECORRUPT,
			    "dagpb: link after data at offset %zu", at);
		if ((error = decode_link(links ? &links[out->nlinks] : &tmp, p,
					 n)) < 0)
			return error;
		out->nlinks++;
	}
	return 0;
}

int dagpb_decode(struct dagpb_node *out, const uint8_t *block, size_t len)
{
	int error;

	memset(out, 0, sizeof(*out));
	if (len > DAGPB_BLOCK_MAX)
		return efs_error_set(
		    EFS_ETOOBIG, "dagpb: block of %zu bytes over the %u cap",
		    len, DAGPB_BLOCK_MAX);
	if ((error = decode_node(out, NULL, block, len)) < 0)
		goto out_clear;
	if (out->nlinks == 0)
		return 0;
	out->links = efs_calloc(out->nlinks, sizeof(*out->links));
	if (!out->links) {
		error = efs_error_set(
		    EFS_ENOMEM, "dagpb: no memory for %zu links", out->nlinks);
		goto out_clear;
	}
	out->has_data = false;
	if ((error = decode_node(out, out->links, block, len)) < 0)
		goto out_clear;
	return 0;

out_clear:
	dagpb_node_release(out);
	return error;
}

void dagpb_node_release(struct dagpb_node *node)
{
	efs_free(node->links);
	memset(node, 0, sizeof(*node));
}

int dagpb_tsize(uint64_t *out, const uint8_t *block, size_t len)
{
	struct dagpb_node node;
	uint64_t sum = len;
	int error;

	if ((error = dagpb_decode(&node, block, len)) < 0)
		return error;
	for (size_t i = 0; i < node.nlinks; i++) {
		if (node.links[i].tsize > UINT64_MAX - sum) {
			error = efs_error_set(EFS_ECORRUPT,
					      "dagpb: tsizes overflow");
			break;
		}
		sum += node.links[i].tsize;
	}
	dagpb_node_release(&node);
	if (error == 0)
		*out = sum;
	return error;
}

/* Bytes of a PBLink message body (without its own key and length). */
static size_t link_body_size(const struct dagpb_link *link)
{
	size_t n = pbwire_len_field_size(cid_size(&link->cid));

	if (link->has_name)
		n += pbwire_len_field_size(link->name_len);
	if (link->has_tsize)
		n += 1 + varint_size(link->tsize);
	return n;
}

size_t dagpb_link_size(const struct dagpb_link *link)
{
	return pbwire_len_field_size(link_body_size(link));
}

size_t dagpb_encoded_size(const struct dagpb_node *node)
{
	size_t n = 0;

	for (size_t i = 0; i < node->nlinks; i++)
		n += dagpb_link_size(&node->links[i]);
	if (node->has_data)
		n += pbwire_len_field_size(node->data_len);
	return n;
}

static uint8_t *put_link(uint8_t *w, const struct dagpb_link *link)
{
	uint8_t cid[CID_BYTES_MAX];
	size_t cidlen = cid_to_bytes(cid, &link->cid);

	w = pbwire_put_uint(w, KEY_NODE_LINK, link_body_size(link));
	w = pbwire_put_bytes(w, KEY_LINK_HASH, cid, cidlen);
	if (link->has_name)
		w = pbwire_put_bytes(w, KEY_LINK_NAME, link->name,
				     link->name_len);
	if (link->has_tsize)
		w = pbwire_put_uint(w, KEY_LINK_TSIZE, link->tsize);
	return w;
}

/* A link's name as dag-pb sorts it: no name sorts as "". */
static int link_compare(const struct dagpb_link *a, const struct dagpb_link *b)
{
	return dagpb_name_compare(
	    a->has_name ? a->name : NULL, a->has_name ? a->name_len : 0,
	    b->has_name ? b->name : NULL, b->has_name ? b->name_len : 0);
}

int dagpb_encode(struct buf *out, const struct dagpb_node *node)
{
	size_t size = dagpb_encoded_size(node);
	uint8_t *start;
	uint8_t *w;
	int error;

	for (size_t i = 1; i < node->nlinks; i++)
		if (link_compare(&node->links[i - 1], &node->links[i]) > 0)
			return efs_error_set(EFS_EINVAL,
					     "dagpb: link %zu out of order", i);
	if (size > DAGPB_BLOCK_MAX)
		return efs_error_set(EFS_ETOOBIG,
				     "dagpb: node of %zu bytes over the %u cap",
				     size, DAGPB_BLOCK_MAX);
	if ((error = buf_grow(out, size)) < 0)
		return error;
	start = w = out->ptr + out->len;
	for (size_t i = 0; i < node->nlinks; i++)
		w = put_link(w, &node->links[i]);
	if (node->has_data)
		w = pbwire_put_bytes(w, KEY_NODE_DATA, node->data,
				     node->data_len);
	assert((size_t)(w - start) == size);
	(void)start;
	out->len += size;
	out->ptr[out->len] = '\0';
	return 0;
}

int dagpb_name_compare(const uint8_t *a, size_t alen, const uint8_t *b,
		       size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = n ? memcmp(a, b, n) : 0;

	if (c)
		return c < 0 ? -1 : 1;
	return alen < blen ? -1 : alen > blen;
}

/* Merge sorted src[lo..mid) and src[mid..hi) into dst[lo..hi). */
static void merge(struct dagpb_link *dst, const struct dagpb_link *src,
		  size_t lo, size_t mid, size_t hi)
{
	size_t i = lo;
	size_t j = mid;

	for (size_t k = lo; k < hi; k++) {
		/* Take from the left on ties: that keeps the sort stable. */
		if (i < mid && (j >= hi || link_compare(&src[i], &src[j]) <= 0))
			dst[k] = src[i++];
		else
			dst[k] = src[j++];
	}
}

int dagpb_links_sort(struct dagpb_link *links, size_t n)
{
	struct dagpb_link *tmp;
	struct dagpb_link *src = links;
	struct dagpb_link *dst;
	size_t i = 1;

	/* File chunk links (all named "") are the common, sorted case. */
	while (i < n && link_compare(&links[i - 1], &links[i]) <= 0)
		i++;
	if (i >= n)
		return 0;
	tmp = efs_calloc(n, sizeof(*tmp));
	if (!tmp)
		return efs_error_set(
		    EFS_ENOMEM, "dagpb: out of memory sorting %zu links", n);
	dst = tmp;
	/* Bottom-up merge sort, ping-ponging between links and tmp. */
	for (size_t width = 1; width < n; width *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * width) {
			size_t mid = lo + width < n ? lo + width : n;
			size_t hi = mid + width < n ? mid + width : n;

			merge(dst, src, lo, mid, hi);
		}
		src = dst;
		dst = src == links ? tmp : links;
	}
	if (src != links)
		memcpy(links, src, n * sizeof(*links));
	efs_free(tmp);
	return 0;
}
