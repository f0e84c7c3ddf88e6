/*
 * bstore_batch.c - the blockstore's memory: pending batches (blocks put
 * but not yet indexed) and the map of read blocks whose atime waits to be
 * flushed.  See bstore_i.h; every function here runs under bs->mu or on a
 * batch only its owner sees.
 *
 * Both are open-addressing hash tables keyed by multihash bytes, which are
 * digests already, so the hash is just their last eight bytes.  Entries
 * are never removed one by one: a batch is cleared whole after its sync,
 * the touched map after its flush.
 */
#include "core/bstore_i.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/mhash.h"

#include "core/banned.h"

/* The last eight bytes are digest bytes (or all of a short key). */
static size_t mh_hash(const uint8_t *mh, size_t len)
{
	size_t start = len > 8 ? len - 8 : 0;

	return (size_t)(mhash_fnv1a(mh + start, len - start) ^ len);
}

void bstore_batch_init(struct batch *b)
{
	memset(b, 0, sizeof(*b));
}

static void free_links(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		efs_free(b->v[i].links);
		b->v[i].links = NULL;
	}
}

void bstore_batch_release(struct batch *b)
{
	free_links(b);
	efs_free(b->v);
	efs_free(b->slots);
	efs_free(b->ends);
	bstore_batch_init(b);
}

void bstore_batch_clear(struct batch *b)
{
	free_links(b);
	b->n = 0;
	b->bytes = 0;
	b->nends = 0;
	if (b->slots)
		memset(b->slots, 0, b->nslots * sizeof(*b->slots));
}

static uint32_t *slot_for(uint32_t *slots, size_t nslots,
			  const struct pend *v, const uint8_t *mh,
			  size_t mh_len)
{
	size_t i = mh_hash(mh, mh_len) & (nslots - 1);

	while (slots[i]) {
		const struct pend *p = &v[slots[i] - 1];

		if (p->mh_len == mh_len && !memcmp(p->mh, mh, mh_len))
			break;
		i = (i + 1) & (nslots - 1);
	}
	return &slots[i];
}

/* The entry for mh, or NULL. */
static struct pend *batch_find(struct batch *b, const uint8_t *mh,
			       size_t mh_len)
{
	uint32_t *s;

	if (!b->n)
		return NULL;
	s = slot_for(b->slots, b->nslots, b->v, mh, mh_len);
	return *s ? &b->v[*s - 1] : NULL;
}

static int rehash(struct batch *b, size_t nslots)
{
	uint32_t *slots = efs_calloc(nslots, sizeof(*slots));

	if (!slots)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	for (size_t i = 0; i < b->n; i++)
		*slot_for(slots, nslots, b->v, b->v[i].mh,
			  b->v[i].mh_len) = (uint32_t)(i + 1);
	efs_free(b->slots);
	b->slots = slots;
	b->nslots = nslots;
	return 0;
}

static int reserve_end(struct batch *b)
{
	size_t cap;
	struct pack_end *e;

	if (b->nends < b->ends_cap)
		return 0;
	cap = b->ends_cap ? b->ends_cap * 2 : 4;
	e = efs_reallocarray(b->ends, cap, sizeof(*e));
	if (!e)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	b->ends = e;
	b->ends_cap = cap;
	return 0;
}

int bstore_batch_reserve(struct batch *b)
{
	size_t cap;
	struct pend *v;
	int error;

	/* An append notes at most one new pack end. */
	if ((error = reserve_end(b)) < 0)
		return error;
	if (b->n < b->cap)
		return 0;
	cap = b->cap ? b->cap * 2 : 64;
	if (cap > UINT32_MAX - 1)
		return efs_error_set(EFS_ETOOBIG, "bstore: batch too large");
	v = efs_reallocarray(b->v, cap, sizeof(*v));
	if (!v)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	b->v = v;
	b->cap = cap;
	return rehash(b, cap * 2);
}

void bstore_batch_add(struct batch *b, const struct pend *p)
{
	uint32_t *s = slot_for(b->slots, b->nslots, b->v, p->mh, p->mh_len);

	b->v[b->n] = *p;
	*s = (uint32_t)(++b->n);
	b->bytes += p->len;
}

int bstore_batch_note_end(struct batch *b, uint32_t pack, uint64_t end)
{
	if (b->nends && b->ends[b->nends - 1].pack == pack) {
		b->ends[b->nends - 1].end = end;
		return 0;
	}
	if (reserve_end(b) < 0)
		return EFS_ENOMEM;
	b->ends[b->nends].pack = pack;
	b->ends[b->nends].end = end;
	b->nends++;
	return 0;
}

struct pend *bstore_pending_locked(struct bstore *bs, const uint8_t *mh,
				   size_t mh_len)
{
	struct pend *p = batch_find(&bs->open, mh, mh_len);

	if (!p && bs->syncing)
		p = batch_find(bs->syncing, mh, mh_len);
	return p;
}

void bstore_touch_init(struct touchmap *t)
{
	memset(t, 0, sizeof(*t));
}

void bstore_touch_release(struct touchmap *t)
{
	efs_free(t->slots);
	bstore_touch_init(t);
}

static struct touch *touch_slot(struct touch *slots, size_t nslots,
				const uint8_t *mh, size_t mh_len)
{
	size_t i = mh_hash(mh, mh_len) & (nslots - 1);

	while (slots[i].mh_len && (slots[i].mh_len != mh_len ||
				   memcmp(slots[i].mh, mh, mh_len)))
		i = (i + 1) & (nslots - 1);
	return &slots[i];
}

static bool touch_grow(struct touchmap *t)
{
	size_t n = t->nslots ? t->nslots * 2 : 256;
	struct touch *slots = efs_calloc(n, sizeof(*slots));

	if (!slots)
		return false;
	for (size_t i = 0; i < t->nslots; i++)
		if (t->slots[i].mh_len)
			*touch_slot(slots, n, t->slots[i].mh,
				    t->slots[i].mh_len) = t->slots[i];
	efs_free(t->slots);
	t->slots = slots;
	t->nslots = n;
	return true;
}

bool bstore_touch_set(struct touchmap *t, size_t max, const uint8_t *mh,
		      size_t mh_len, int64_t atime)
{
	struct touch *s;

	if (mh_len == 0 || mh_len > BSTORE_MH_MAX)
		return false;
	if (!t->n || !bstore_touch_has(t, mh, mh_len)) {
		if ((t->n + 1) * 2 > t->nslots &&
		    (t->n >= max || !touch_grow(t)))
			return false;
	}
	s = touch_slot(t->slots, t->nslots, mh, mh_len);
	if (!s->mh_len) {
		memcpy(s->mh, mh, mh_len);
		s->mh_len = (uint8_t)mh_len;
		t->n++;
	}
	if (atime > s->atime)
		s->atime = atime;
	return true;
}

bool bstore_touch_has(const struct touchmap *t, const uint8_t *mh,
		      size_t mh_len)
{
	if (!t->n)
		return false;
	return touch_slot(t->slots, t->nslots, mh, mh_len)->mh_len != 0;
}
