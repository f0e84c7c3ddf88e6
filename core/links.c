/*
 * links.c - the links of a block, by codec (see links.h).
 *
 * dag-pb goes through dagpb_decode, so a block whose links we count is
 * also a block the DAG reader accepts.  dag-cbor is walked with the
 * zero-copy cbor cursor, which enforces strict DAG-CBOR and a nesting
 * cap, so a hostile block cannot exhaust the stack.
 */
#include "core/links.h"

#include "core/cbor.h"
#include "core/dagpb.h"
#include "core/error.h"

#include "core/banned.h"

static int dagpb_links(const uint8_t *data, size_t len, links_cb cb,
		       void *payload)
{
	struct dagpb_node node;
	int rc = dagpb_decode(&node, data, len);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < node.nlinks; i++) {
		rc = cb(&node.links[i].cid, payload);
		if (rc != 0)
			break;
	}
	dagpb_node_release(&node);
	return rc;
}

bool links_codec_known(uint64_t codec)
{
	return codec == CID_CODEC_RAW || codec == CID_CODEC_DAG_PB ||
	       codec == CID_CODEC_DAG_CBOR;
}

int links_foreach(const struct cid *block_id, const uint8_t *data,
		  size_t len, links_cb cb, void *payload)
{
	if (cid_is_identity(block_id))
		return 0;
	switch (block_id->codec) {
	case CID_CODEC_RAW:
		return 0;
	case CID_CODEC_DAG_PB:
		return dagpb_links(data, len, cb, payload);
	case CID_CODEC_DAG_CBOR:
		return cbor_links(data, len, cb, payload);
	default:
		return efs_error_set(EFS_EUNSUPPORTED,
				     "links: codec 0x%llx not supported",
				     (unsigned long long)block_id->codec);
	}
}
