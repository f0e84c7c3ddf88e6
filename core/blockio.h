/*
 * blockio.h - the two small interfaces blocks flow through, so the
 * importer, the DAG reader and the CAR code need not know where blocks
 * live (libgit2's ODB backends): the blockstore, an in-memory store for
 * tests, a sink that only hashes, and later the retrieval layer.
 *
 * Threads: a sink or source is as thread-safe as the store behind it
 * (bstore: any thread; memstore: its owner thread only).
 */
#ifndef EFS_BLOCKIO_H
#define EFS_BLOCKIO_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/cid.h"

/*
 * Where blocks go.  put stores len bytes at data under id (already
 * computed by the caller, who vouches that data hashes to id).  Storing a
 * block that is already there succeeds.  Returns 0 or a negative code.
 * data is borrowed for the call only.
 */
struct blockio_sink {
	int (*put)(void *payload, const struct cid *id, const uint8_t *data,
		   size_t len);
	void *payload;
};

/*
 * Where blocks come from.  get appends the bytes of block id to out,
 * verified against id.  Returns 0, EFS_ENOTFOUND, EFS_EEVICTED,
 * EFS_EMISMATCH or another negative code; out is unchanged on failure.
 */
struct blockio_source {
	int (*get)(void *payload, const struct cid *id, struct buf *out);
	void *payload;
};

static inline int blockio_put(const struct blockio_sink *s,
			      const struct cid *id, const uint8_t *data,
			      size_t len)
{
	return s->put(s->payload, id, data, len);
}

static inline int blockio_get(const struct blockio_source *s,
			      const struct cid *id, struct buf *out)
{
	return s->get(s->payload, id, out);
}

/*
 * As blockio_get, except that an identity CID is answered from the CID
 * itself (its digest is the block) without asking s.  What the readers of
 * DAGs call: a DAG may link to identity blocks that no store holds.
 * Returns what s->get returns, or buf_add's errors for an identity CID.
 */
int blockio_fetch(const struct blockio_source *s, const struct cid *id,
		  struct buf *out);

/* A sink that drops every block (add --only-hash). */
extern const struct blockio_sink blockio_null_sink;

#endif
