/*
 * retriever_set.c - a set of blocks by multihash, for the DAG walk (seen
 * blocks) and the whole-DAG CAR (wanted blocks): open addressing with
 * linear probing, grown at 1/2 full, deletion by backward shift (no
 * tombstones, so a set that shrinks and grows stays fast).  An empty
 * slot has digest_len 0; identity CIDs are never added.
 */
#include "retrieval/retriever_i.h"

#include <string.h>

#include "core/alloc.h"

#include "core/banned.h"

static size_t hash_of(const struct cid *id)
{
	uint64_t h = 1469598103934665603ull ^ id->hash;

	for (size_t i = 0; i < id->digest_len; i++)
		h = (h ^ id->digest[i]) * 1099511628211ull;
	return (size_t)(h ^ (h >> 29));
}

void retriever_set_init(struct rset *s)
{
	memset(s, 0, sizeof(*s));
}

void retriever_set_release(struct rset *s)
{
	efs_free(s->slot);
	memset(s, 0, sizeof(*s));
}

/* The slot of id, or of the empty slot where it would go. */
static size_t find(const struct rset *s, const struct cid *id)
{
	size_t i = hash_of(id) & (s->cap - 1);

	while (s->slot[i].digest_len && !cid_mh_equal(&s->slot[i], id))
		i = (i + 1) & (s->cap - 1);
	return i;
}

bool retriever_set_has(const struct rset *s, const struct cid *id)
{
	return s->cap && s->slot[find(s, id)].digest_len;
}

static int grow(struct rset *s)
{
	size_t cap = s->cap ? s->cap * 2 : 64;
	struct rset bigger = { .cap = cap };

	if (!(bigger.slot = efs_calloc(cap, sizeof(*bigger.slot))))
		return efs_error_set(EFS_ENOMEM, "retrieval: out of memory");
	for (size_t i = 0; i < s->cap; i++)
		if (s->slot[i].digest_len)
			bigger.slot[find(&bigger, &s->slot[i])] = s->slot[i];
	bigger.n = s->n;
	efs_free(s->slot);
	*s = bigger;
	return 0;
}

int retriever_set_add(struct rset *s, const struct cid *id, bool *added)
{
	size_t i;
	int rc;

	*added = false;
	if (!id->digest_len)
		return 0;
	if ((s->n + 1) * 2 > s->cap && (rc = grow(s)) < 0)
		return rc;
	i = find(s, id);
	if (!s->slot[i].digest_len) {
		s->slot[i] = *id;
		s->n++;
		*added = true;
	}
	return 0;
}

bool retriever_set_del(struct rset *s, const struct cid *id)
{
	size_t i, j, home;

	if (!s->cap || !s->slot[i = find(s, id)].digest_len)
		return false;
	/* Shift back the run after i over slots that may move to i. */
	for (j = (i + 1) & (s->cap - 1); s->slot[j].digest_len;
	     j = (j + 1) & (s->cap - 1)) {
		home = hash_of(&s->slot[j]) & (s->cap - 1);
		if (((j - home) & (s->cap - 1)) >= ((j - i) & (s->cap - 1))) {
			s->slot[i] = s->slot[j];
			i = j;
		}
	}
	s->slot[i].digest_len = 0;
	s->n--;
	return true;
}
