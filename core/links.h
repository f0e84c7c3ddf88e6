/*
 * links.h - the CIDs a block links to, whatever its codec.
 *
 * The blockstore counts references with it and the CAR writer walks DAGs
 * with it.  Links are reported in link order: dag-pb in PBNode.Links
 * order; dag-cbor every tag-42 CID in depth-first document order (map
 * entries in their canonical key order); raw blocks and the blocks of
 * identity CIDs have none.
 */
#ifndef EFS_LINKS_H
#define EFS_LINKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cid.h"

/*
 * Called once per link.  id is borrowed for the call.  Return 0 to go
 * on; any other value stops the walk and links_foreach returns it.
 */
typedef int (*links_cb)(const struct cid *id, void *payload);

/*
 * Call cb for every CID the block data[0..len) named block_id links to.
 * The codec comes from block_id; the data is not hashed here.
 * Returns 0, whatever non-zero value cb returned, EFS_ECORRUPT (the
 * block does not decode), EFS_ENOMEM or EFS_EUNSUPPORTED (a codec whose
 * links this build cannot find).  Thread-safe; allocates only while
 * decoding dag-pb.
 */
int links_foreach(const struct cid *block_id, const uint8_t *data,
		  size_t len, links_cb cb, void *payload);

/* True when links_foreach understands block_id's codec. */
bool links_codec_known(uint64_t codec);

#endif
