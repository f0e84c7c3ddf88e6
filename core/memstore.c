/*
 * memstore.c - in-memory block store (see memstore.h).
 *
 * Open addressing with linear probing over a power-of-two table, grown at
 * 50% load.  Keys are multihash bytes; entries are never removed, so no
 * tombstones are needed.
 */
#include "core/memstore.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/mhash.h"

#include "core/banned.h"

struct entry {
	uint8_t *mh;      /* multihash bytes; NULL for an empty slot */
	size_t mh_len;
	uint8_t *data;
	size_t len;
};

struct memstore {
	struct entry *slots;
	size_t nslots;    /* a power of two */
	size_t count;
	size_t bytes;
};

int memstore_new(struct memstore **out)
{
	struct memstore *ms = efs_calloc(1, sizeof(*ms));

	if (!ms)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	ms->nslots = 64;
	ms->slots = efs_calloc(ms->nslots, sizeof(*ms->slots));
	if (!ms->slots) {
		efs_free(ms);
		return efs_error_set(EFS_ENOMEM, "out of memory");
	}
	*out = ms;
	return 0;
}

void memstore_free(struct memstore *ms)
{
	if (!ms)
		return;
	for (size_t i = 0; i < ms->nslots; i++) {
		efs_free(ms->slots[i].mh);
		efs_free(ms->slots[i].data);
	}
	efs_free(ms->slots);
	efs_free(ms);
}

static struct entry *find_slot(struct entry *slots, size_t nslots,
			       const uint8_t *mh, size_t len)
{
	size_t i = (size_t)mhash_fnv1a(mh, len) & (nslots - 1);

	while (slots[i].mh &&
	       (slots[i].mh_len != len || memcmp(slots[i].mh, mh, len)))
		i = (i + 1) & (nslots - 1);
	return &slots[i];
}

static int grow(struct memstore *ms)
{
	size_t n = ms->nslots * 2;
	struct entry *slots = efs_calloc(n, sizeof(*slots));

	if (!slots)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	for (size_t i = 0; i < ms->nslots; i++) {
		struct entry *e = &ms->slots[i];

		if (e->mh)
			*find_slot(slots, n, e->mh, e->mh_len) = *e;
	}
	efs_free(ms->slots);
	ms->slots = slots;
	ms->nslots = n;
	return 0;
}

int memstore_put(struct memstore *ms, const struct cid *id,
		 const uint8_t *data, size_t len)
{
	uint8_t mh[CID_MH_BYTES_MAX];
	size_t mh_len = cid_mh_to_bytes(mh, id);
	struct entry *e;
	int error;

	if ((ms->count + 1) * 2 > ms->nslots && (error = grow(ms)) < 0)
		return error;
	e = find_slot(ms->slots, ms->nslots, mh, mh_len);
	if (e->mh)
		return 0;
	e->mh = efs_memdup(mh, mh_len);
	e->data = efs_memdup(data, len);
	if (!e->mh || !e->data) {
		efs_free(e->mh);
		efs_free(e->data);
		e->mh = NULL;
		e->data = NULL;
		return efs_error_set(EFS_ENOMEM, "out of memory");
	}
	e->mh_len = mh_len;
	e->len = len;
	ms->count++;
	ms->bytes += len;
	return 0;
}

static struct entry *lookup(struct memstore *ms, const struct cid *id)
{
	uint8_t mh[CID_MH_BYTES_MAX];
	size_t mh_len = cid_mh_to_bytes(mh, id);
	struct entry *e = find_slot(ms->slots, ms->nslots, mh, mh_len);

	return e->mh ? e : NULL;
}

int memstore_peek(uint8_t **data_out, size_t *len_out, struct memstore *ms,
		  const struct cid *id)
{
	struct entry *e = lookup(ms, id);
	char s[CID_STR_MAX];

	if (!e)
		return efs_error_set(EFS_ENOTFOUND, "block %s not found",
				     cid_tostr(s, id));
	*data_out = e->data;
	*len_out = e->len;
	return 0;
}

int memstore_get(struct memstore *ms, const struct cid *id, struct buf *out)
{
	uint8_t *data;
	size_t len;
	int error;

	if ((error = memstore_peek(&data, &len, ms, id)) < 0)
		return error;
	if ((error = cid_verify(id, data, len)) < 0)
		return error;
	return buf_add(out, data, len);
}

bool memstore_has(struct memstore *ms, const struct cid *id)
{
	return lookup(ms, id) != NULL;
}

size_t memstore_count(const struct memstore *ms)
{
	return ms->count;
}

size_t memstore_bytes(const struct memstore *ms)
{
	return ms->bytes;
}

static int sink_put(void *payload, const struct cid *id, const uint8_t *data,
		    size_t len)
{
	return memstore_put(payload, id, data, len);
}

static int source_get(void *payload, const struct cid *id, struct buf *out)
{
	return memstore_get(payload, id, out);
}

struct blockio_sink memstore_sink(struct memstore *ms)
{
	struct blockio_sink s = { sink_put, ms };

	return s;
}

struct blockio_source memstore_source(struct memstore *ms)
{
	struct blockio_source s = { source_get, ms };

	return s;
}
