/*
 * memstore.h - an in-memory block store: a blockio sink and source backed
 * by a hash table keyed on the multihash (so a v0 and a v1 CID of one
 * block find the same bytes).  Used by tests, by `car import` staging of
 * small CARs, and wherever a DAG must be held briefly in memory.
 *
 * Owned by one thread; not locked.
 */
#ifndef EFS_MEMSTORE_H
#define EFS_MEMSTORE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/blockio.h"

struct memstore;

/* Create an empty store.  Returns 0 or EFS_ENOMEM. */
int memstore_new(struct memstore **out);

/* Free the store and every block in it.  NULL is fine. */
void memstore_free(struct memstore *ms);

/* Store a copy of data under id (not verified).  0 or EFS_ENOMEM. */
int memstore_put(struct memstore *ms, const struct cid *id,
		 const uint8_t *data, size_t len);

/*
 * Append the bytes of id to out, verified against id.  Returns 0,
 * EFS_ENOTFOUND, EFS_EMISMATCH or buf errors.
 */
int memstore_get(struct memstore *ms, const struct cid *id, struct buf *out);

/* True when the store holds id's multihash. */
bool memstore_has(struct memstore *ms, const struct cid *id);

/*
 * Borrow the stored bytes of id without copying or verifying: valid until
 * the store is freed.  Returns 0 or EFS_ENOTFOUND.  (Tests use it to
 * corrupt a block in place.)
 */
int memstore_peek(uint8_t **data_out, size_t *len_out, struct memstore *ms,
		  const struct cid *id);

/* Number of blocks, and their total size in bytes. */
size_t memstore_count(const struct memstore *ms);
size_t memstore_bytes(const struct memstore *ms);

/* The sink and source views; borrowed from ms. */
struct blockio_sink memstore_sink(struct memstore *ms);
struct blockio_source memstore_source(struct memstore *ms);

#endif
