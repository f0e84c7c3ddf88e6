/*
 * fuzz_dagpb.c - dagpb_decode on arbitrary bytes.
 *
 * Properties: decoding fails only with ECORRUPT (or ETOOBIG over the
 * cap); whatever it accepts has exactly dagpb_encoded_size bytes, and
 * re-encoding gives the input back: byte for byte when the links are
 * sorted and Data comes last, and otherwise each link re-encodes to its
 * own bytes in the input and the Data field to its own (the two
 * non-canonical forms the decoder accepts: Data first, unsorted links).
 * Any other difference aborts.
 */
#include <stdlib.h>
#include <string.h>

#include "core/dagpb.h"
#include "core/error.h"

/* The encoding of one link (or of the Data field) equals in[at..]. */
static size_t check_part(const uint8_t *in, size_t size, size_t at,
			 const struct dagpb_node *part)
{
	struct buf out = BUF_INIT(BUF_NOCAP);
	size_t n;

	if (dagpb_encode(&out, part) != 0 || out.len > size - at ||
	    memcmp(out.ptr, in + at, out.len))
		abort();
	n = out.len;
	buf_release(&out);
	return n;
}

/* Check the input field by field, in the order it has. */
static void check_parts(const uint8_t *in, size_t size,
			const struct dagpb_node *node)
{
	struct dagpb_node data = { .data = node->data,
				   .data_len = node->data_len,
				   .has_data = node->has_data };
	struct dagpb_node one = { .nlinks = 1 };
	bool data_first = node->has_data && node->nlinks > 0 &&
			  in[0] == 0x0a;
	size_t at = 0;

	if (data_first)
		at += check_part(in, size, at, &data);
	for (size_t i = 0; i < node->nlinks; i++) {
		one.links = &node->links[i];
		at += check_part(in, size, at, &one);
	}
	if (node->has_data && !data_first)
		at += check_part(in, size, at, &data);
	if (at != size)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dagpb_node node;
	struct buf out = BUF_INIT(BUF_NOCAP);
	int error = dagpb_decode(&node, data, size);

	if (error == EFS_ETOOBIG && size > DAGPB_BLOCK_MAX)
		return 0;
	if (error == EFS_ECORRUPT)
		return 0;
	if (error != 0 || dagpb_encoded_size(&node) != size)
		abort();
	check_parts(data, size, &node);
	error = dagpb_encode(&out, &node);
	if (error == EFS_EINVAL) {
		/* Unsorted: sorting must make it encodable, same size. */
		if (dagpb_links_sort(node.links, node.nlinks) != 0 ||
		    dagpb_encode(&out, &node) != 0 || out.len != size)
			abort();
	} else if (error != 0 || out.len != size) {
		abort();
	} else if (memcmp(out.ptr, data, size) &&
		   !(node.has_data && data[0] == 0x0a)) {
		abort();
	}
	buf_release(&out);
	dagpb_node_release(&node);
	return 0;
}
