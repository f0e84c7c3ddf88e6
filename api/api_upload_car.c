/*
 * api_upload_car.c - the check of a CAR uploaded to POST /content/add-car
 * before any of it is stored (api_upload.h).
 *
 * Design notes:
 * - Two passes over the CAR in memory, both through car_reader_next,
 *   which hashes every block against its CID: the first checks the
 *   framing, counts the blocks and gathers their multihashes (sorted
 *   for bsearch); the second asks links_foreach for each block's links
 *   and looks each one up: in the CAR, identity, or already stored.  So
 *   a CAR that would leave a pin over a hole in its DAG is refused, as
 *   is one whose root it does not carry.
 * - Blocks are told apart by multihash (a CIDv0 and a CIDv1 of one
 *   dag-pb block are the same block), as the blockstore does.
 * - Memory: one struct cid per block (at most max_blocks).
 */
#include "api/api_upload.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/car.h"
#include "core/error.h"
#include "core/links.h"

#include "core/banned.h"

struct car_set {
	struct cid *v;
	size_t n, cap;
};

/* Order by multihash: function, length, digest. */
static int mh_cmp(const void *a, const void *b)
{
	const struct cid *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if (x->digest_len != y->digest_len)
		return x->digest_len < y->digest_len ? -1 : 1;
	return memcmp(x->digest, y->digest, x->digest_len);
}

static int set_add(struct car_set *s, const struct cid *id)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct cid *v = efs_realloc(s->v, cap * sizeof(*v));

		if (!v)
			return efs_error_set(EFS_ENOMEM,
					     "add-car: out of memory");
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = *id;
	return 0;
}

static bool set_has(const struct car_set *s, const struct cid *id)
{
	return s->n && bsearch(id, s->v, s->n, sizeof(*s->v), mh_cmp);
}

/* The header: one root, not identity. */
static int check_roots(struct api_upload_car_info *out,
		       const struct car_reader *r)
{
	char str[CID_STR_MAX];
	const struct cid *roots;
	size_t n;

	roots = car_reader_roots(r, &n);
	if (n != 1)
		return efs_error_set(EFS_EINVAL,
				     "add-car: the CAR has %zu "
				     "roots: want exactly one (the content)",
				     n);
	if (cid_is_identity(&roots[0]))
		return efs_error_set(EFS_EINVAL,
				     "add-car: the root %s is an "
				     "identity CID",
				     cid_tostr(str, &roots[0]));
	out->root = roots[0];
	return 0;
}

/* Pass 1: framing, hashes, the count, the set of blocks. */
static int pass_blocks(struct api_upload_car_info *out, struct car_set *set,
		       const uint8_t *data, size_t len, size_t max_blocks)
{
	struct car_reader *r = NULL;
	struct car_block b;
	int rc;

	if ((rc = car_reader_open_mem(&r, data, len)) < 0)
		return rc;
	if ((rc = check_roots(out, r)) < 0)
		goto out;
	while ((rc = car_reader_next(r, &b)) == 0) {
		if (out->blocks >= max_blocks) {
			rc = efs_error_set(EFS_EINVAL,
					   "add-car: more than %zu "
					   "blocks",
					   max_blocks);
			goto out;
		}
		out->blocks++;
		out->bytes += b.info.block_len;
		if ((rc = set_add(set, &b.info.id)) < 0)
			goto out;
	}
	if (rc == EFS_ITEROVER)
		rc = 0;
out:
	car_reader_free(r);
	return rc;
}

struct link_check {
	const struct car_set *set;
	api_upload_has_fn has;
	void *cls;
	const struct cid *from;
};

static int link_cb(const struct cid *id, void *payload)
{
	struct link_check *c = payload;
	char a[CID_STR_MAX], b[CID_STR_MAX];

	if (cid_is_identity(id) || set_has(c->set, id) ||
	    (c->has && c->has(c->cls, id)))
		return 0;
	return efs_error_set(EFS_EINVAL,
			     "add-car: block %s links to %s, "
			     "which is neither in the CAR nor stored here",
			     cid_tostr(a, c->from), cid_tostr(b, id));
}

/* Pass 2: every link resolves. */
static int pass_links(const struct car_set *set, const uint8_t *data,
		      size_t len, api_upload_has_fn has, void *cls)
{
	struct link_check c = {set, has, cls, NULL};
	struct car_reader *r = NULL;
	struct car_block b;
	int rc;

	if ((rc = car_reader_open_mem(&r, data, len)) < 0)
		return rc;
	while ((rc = car_reader_next(r, &b)) == 0) {
		c.from = &b.info.id;
		rc = links_foreach(&b.info.id, b.data, b.info.block_len,
				   link_cb, &c);
		if (rc < 0)
			break;
	}
	if (rc == EFS_ITEROVER)
		rc = 0;
	car_reader_free(r);
	return rc;
}

int api_upload_car_check(struct api_upload_car_info *out, const uint8_t *data,
			 size_t len, size_t max_blocks, api_upload_has_fn has,
			 void *cls)
{
	struct car_set set = {0};
	char str[CID_STR_MAX];
	int rc;

	memset(out, 0, sizeof(*out));
	if (!max_blocks)
		max_blocks = API_UPLOAD_CAR_BLOCKS_MAX;
	if ((rc = pass_blocks(out, &set, data, len, max_blocks)) < 0)
		goto out;
	if (set.n)
		qsort(set.v, set.n, sizeof(*set.v), mh_cmp);
	if (!set_has(&set, &out->root)) {
		rc = efs_error_set(EFS_EINVAL,
				   "add-car: the root %s is not "
				   "in the CAR",
				   cid_tostr(str, &out->root));
		goto out;
	}
	rc = pass_links(&set, data, len, has, cls);
out:
	efs_free(set.v);
	return rc;
}
