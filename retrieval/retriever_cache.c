/*
 * retriever_cache.c - the blocks just fetched, kept in memory for the
 * reader about to ask for them: a sequential reader of an evicted file
 * then takes each block from here instead of reading back from the pack
 * and hashing it a second time (the bytes were verified against their
 * CID on arrival, and a CID's bytes never change).
 *
 * A block is taken out when it is read (readers of a file keep their own
 * copy of the leaf they are in); blocks nobody reads are dropped oldest
 * first once the cache holds more than its cap (opts.cache).  The /piece
 * slicer hands over the buffer it filled (no copy); copies, when made,
 * are made outside the lock, which only links and unlinks.
 *
 * Block buffers are recycled through a small pool: a buffer filled on a
 * worker thread and emptied on a reader's would otherwise go back to
 * the worker's malloc arena, and with a few workers the arenas together
 * keep several times the cache's size (measured: +45 MiB of RSS over a
 * 1 GiB read with a 16 MiB cache; with the pool the buffers in use are
 * the cache, one per running job and the pool).
 */
#include "retrieval/retriever_i.h"

#include <string.h>

#include "core/alloc.h"

#include "core/banned.h"

struct rcached {
	struct cid id;
	struct rcached *next;     /* hash chain */
	struct rcached *older, *newer;
	size_t len;
	uint8_t *data;            /* a pool buffer of cap bytes */
	size_t cap;
};

static size_t slot_of(const struct cid *id)
{
	uint64_t h = 1469598103934665603ull ^ id->hash;

	for (size_t i = 0; i < id->digest_len; i++)
		h = (h ^ id->digest[i]) * 1099511628211ull;
	return (size_t)(h & (RET_CACHE_SLOTS - 1));
}

/* Unlink c (cmu held). */
static void unlink_locked(struct retriever *r, struct rcached *c)
{
	struct rcached **pp = &r->cache_slot[slot_of(&c->id)];

	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	if (c->older)
		c->older->newer = c->newer;
	else
		r->cache_oldest = c->newer;
	if (c->newer)
		c->newer->older = c->older;
	else
		r->cache_newest = c->older;
	r->cache_bytes -= c->len;
	atomic_fetch_sub(&r->cache_n, 1);
}

static struct rcached *find_locked(struct retriever *r, const struct cid *id)
{
	struct rcached *c = r->cache_slot[slot_of(id)];

	while (c && !cid_mh_equal(&c->id, id))
		c = c->next;
	return c;
}

/* ---- the buffer pool (cmu) ---- */

uint8_t *retriever_buf_get(struct retriever *r, size_t len, size_t *cap)
{
	uint8_t *p = NULL;

	pthread_mutex_lock(&r->cmu);
	/* A buffer at most twice the size asked: blocks are mostly of the
	 * chunk size, and a big one is not spent on a small block.  One
	 * byte more than asked, so that a reader's struct buf can take it
	 * over (buf_attach keeps a NUL after the bytes). */
	for (size_t i = 0; i < r->npool && !p; i++)
		if (r->pool[i].cap > len && r->pool[i].cap / 2 <= len) {
			p = r->pool[i].p;
			*cap = r->pool[i].cap;
			r->pool[i] = r->pool[--r->npool];
		}
	pthread_mutex_unlock(&r->cmu);
	if (!p && (p = efs_malloc(len + 1)))
		*cap = len + 1;
	return p;
}

void retriever_buf_put(struct retriever *r, uint8_t *p, size_t cap)
{
	if (!p)
		return;
	pthread_mutex_lock(&r->cmu);
	if (r->npool < RET_POOL_MAX) {
		r->pool[r->npool].p = p;
		r->pool[r->npool++].cap = cap;
		p = NULL;
	}
	pthread_mutex_unlock(&r->cmu);
	efs_free(p);
}

/* ---- the cache ---- */

static void cached_free(struct retriever *r, struct rcached *c)
{
	retriever_buf_put(r, c->data, c->cap);
	efs_free(c);
}

void retriever_cache_adopt(struct retriever *r, const struct cid *id,
			   uint8_t *data, size_t len, size_t cap)
{
	struct rcached *c, *drop = NULL;

	if (len > r->o.cache || !(c = efs_malloc(sizeof(*c)))) {
		retriever_buf_put(r, data, cap);
		return;
	}
	c->id = *id;
	c->len = len;
	c->data = data;
	c->cap = cap;
	pthread_mutex_lock(&r->cmu);
	if (find_locked(r, id)) {
		pthread_mutex_unlock(&r->cmu);
		cached_free(r, c);
		return;
	}
	c->next = r->cache_slot[slot_of(id)];
	r->cache_slot[slot_of(id)] = c;
	c->newer = NULL;
	c->older = r->cache_newest;
	if (c->older)
		c->older->newer = c;
	else
		r->cache_oldest = c;
	r->cache_newest = c;
	r->cache_bytes += len;
	atomic_fetch_add(&r->cache_n, 1);
	/* Over the cap: the oldest go (never the one just put). */
	while (r->cache_bytes > r->o.cache && r->cache_oldest != c) {
		struct rcached *old = r->cache_oldest;

		unlink_locked(r, old);
		old->next = drop;
		drop = old;
	}
	pthread_mutex_unlock(&r->cmu);
	while (drop) {
		c = drop->next;
		cached_free(r, drop);
		drop = c;
	}
}

void retriever_cache_put(struct retriever *r, const struct cid *id,
			 const uint8_t *data, size_t len)
{
	uint8_t *copy;
	size_t cap;

	if (len > r->o.cache || !(copy = retriever_buf_get(r, len, &cap)))
		return;
	memcpy(copy, data, len);
	retriever_cache_adopt(r, id, copy, len, cap);
}

int retriever_cache_take(struct retriever *r, const struct cid *id,
			 struct buf *out)
{
	struct rcached *c;
	int rc;

	if (!atomic_load(&r->cache_n))
		return EFS_ENOTFOUND;
	pthread_mutex_lock(&r->cmu);
	if ((c = find_locked(r, id)))
		unlink_locked(r, c);
	pthread_mutex_unlock(&r->cmu);
	if (!c)
		return EFS_ENOTFOUND;
	/* the reader takes the buffer over: no copy */
	rc = buf_attach(out, c->data, c->len, c->cap);
	efs_free(c);
	return rc;
}

void retriever_cache_release(struct retriever *r)
{
	struct rcached *c = r->cache_oldest, *next;

	for (; c; c = next) {
		next = c->newer;
		efs_free(c->data);
		efs_free(c);
	}
	for (size_t i = 0; i < r->npool; i++)
		efs_free(r->pool[i].p);
	r->npool = 0;
	memset(r->cache_slot, 0, sizeof(r->cache_slot));
	r->cache_oldest = r->cache_newest = NULL;
	r->cache_bytes = 0;
}
