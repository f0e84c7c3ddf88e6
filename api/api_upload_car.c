/*
 * api_upload_car.c - the CAR push reader of the upload routes
 * (api_upload.h): POST /content/add-car and /car/import are fed their
 * body as it arrives and store each block as its section completes.
 *
 * Design notes:
 * - Stages: HEAD gathers a header (varint, then that many bytes, at
 *   most CAR_HEADER_MAX) and has core/car.h's reader decode it, exactly
 *   as it checks any CAR header; a CARv1 header goes on to the sections,
 *   a CARv2 pragma to V2HDR (the 40-byte header), SKIP (padding up to the
 *   data offset) and HEAD again for the inner CARv1.  SECTIONS hands the
 *   bytes to retrieval/carstream.h (a CARv1 push parser: one section
 *   held at a time, each block hashed once against its CID); for a
 *   CARv2 only up to the end of its data, after which TRAILER (the
 *   index) is dropped unread.
 * - Each block is hashed once, by carstream, and then handed on: the
 *   caller stores it without hashing again (bstore_put trusts its
 *   caller), and the link check below decodes it, never hashes it.
 * - Links (opts.links): a block that arrives is taken off the pending
 *   set; each of its links that is not identity, not pending and not
 *   stored (has: the blockstore, which holds every block this CAR
 *   carried so far) goes on it.  At the end the set must be empty.  The
 *   set holds the DAG's frontier, not the whole DAG: a CAR in
 *   depth-first order (what `car export` and `ipfs dag export` write)
 *   keeps it to a few hundred entries; leaves-first CARs (ipfs-car)
 *   keep it empty.  It is an open-addressing table keyed by a seeded
 *   hash of the multihash (links are unverified bytes: a fixed hash
 *   could be made to collide), capped at API_UPLOAD_CAR_PENDING_MAX.
 * - Blocks are told apart by multihash, as the blockstore does.
 */
#include "api/api_upload.h"

#include <string.h>
#include <sys/random.h>

#include "core/alloc.h"
#include "core/car.h"
#include "core/carv2.h"
#include "core/error.h"
#include "core/links.h"
#include "core/varint.h"

#include "core/banned.h"

enum car_stage {
	STAGE_HEAD,	/* a CARv1 header or the CARv2 pragma */
	STAGE_V2HDR,	/* the CARv2 header */
	STAGE_SKIP,	/* padding before a CARv2's data */
	STAGE_SECTIONS, /* to carstream */
	STAGE_TRAILER,	/* after a CARv2's data: dropped */
};

/* ---- errors: one "car: " prefix ---------------------------------------- */

/* rc with its message starting "car: " (carstream says "carstream: "). */
static int car_err(int rc)
{
	const char *m = efs_error_msg();
	struct efs_error_state st;

	if (strncmp(m, "car: ", 5) == 0)
		return rc;
	efs_error_save(&st);
	if (strncmp(st.msg, "carstream: ", 11) == 0)
		return efs_error_set(rc, "car: %s", st.msg + 11);
	return efs_error_set(rc, "car: %s", st.msg);
}

static int fail(struct api_upload_car *c, int rc)
{
	c->err = car_err(rc);
	return c->err;
}

/* ---- the pending set --------------------------------------------------- */

static uint64_t mh_hash(const struct api_upload_car *c, const struct cid *id)
{
	uint64_t h = c->pend.seed ^ id->hash;

	for (size_t i = 0; i < id->digest_len; i++) {
		h ^= id->digest[i];
		h *= 0x100000001b3ull;
		h ^= h >> 29;
	}
	return h;
}

static bool slot_free(const struct cid *s)
{
	return s->digest_len == 0 && s->hash == 0;
}

static bool mh_same(const struct cid *a, const struct cid *b)
{
	return a->hash == b->hash && a->digest_len == b->digest_len &&
	       memcmp(a->digest, b->digest, a->digest_len) == 0;
}

/* The slot of id, or the free slot where it would go. */
static size_t pend_slot(const struct api_upload_car *c, const struct cid *id)
{
	size_t mask = c->pend.cap - 1, i = mh_hash(c, id) & mask;

	while (!slot_free(&c->pend.v[i]) && !mh_same(&c->pend.v[i], id))
		i = (i + 1) & mask;
	return i;
}

static bool pend_has(const struct api_upload_car *c, const struct cid *id)
{
	return c->pend.n && !slot_free(&c->pend.v[pend_slot(c, id)]);
}

static int pend_grow(struct api_upload_car *c)
{
	size_t cap = c->pend.cap ? c->pend.cap * 2 : 256;
	struct cid *old = c->pend.v, *v = efs_calloc(cap, sizeof(*v));
	size_t oldcap = c->pend.cap;

	if (!v)
		return efs_error_set(EFS_ENOMEM, "car: out of memory");
	c->pend.v = v;
	c->pend.cap = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (!slot_free(&old[i]))
			v[pend_slot(c, &old[i])] = old[i];
	efs_free(old);
	return 0;
}

static int pend_add(struct api_upload_car *c, const struct cid *id)
{
	int rc;

	if (c->pend.n >= API_UPLOAD_CAR_PENDING_MAX)
		return efs_error_set(EFS_EINVAL,
				     "car: more than %u links "
				     "wait for blocks the CAR has not carried "
				     "yet",
				     API_UPLOAD_CAR_PENDING_MAX);
	if ((c->pend.n + 1) * 2 > c->pend.cap && (rc = pend_grow(c)) < 0)
		return rc;
	c->pend.v[pend_slot(c, id)] = *id;
	c->pend.n++;
	return 0;
}

/* Take id off the set (linear probing: later entries of its run move
 * back, so no slot is left as a tombstone). */
static void pend_del(struct api_upload_car *c, const struct cid *id)
{
	size_t mask = c->pend.cap - 1, i, j;

	if (!c->pend.n || slot_free(&c->pend.v[i = pend_slot(c, id)]))
		return;
	memset(&c->pend.v[i], 0, sizeof(c->pend.v[i]));
	c->pend.n--;
	for (j = (i + 1) & mask; !slot_free(&c->pend.v[j]);
	     j = (j + 1) & mask) {
		size_t home = mh_hash(c, &c->pend.v[j]) & mask;

		/* move j back to i unless its home lies in (i, j] */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && home <= i && home > j)) {
			c->pend.v[i] = c->pend.v[j];
			memset(&c->pend.v[j], 0, sizeof(c->pend.v[j]));
			i = j;
		}
	}
}

static int link_cb(const struct cid *id, void *payload)
{
	struct api_upload_car *c = payload;

	if (cid_is_identity(id) || pend_has(c, id) || c->o.has(c->o.cls, id))
		return 0;
	return pend_add(c, id);
}

/* ---- blocks ------------------------------------------------------------ */

static int on_block(void *cls, const struct cid *id, const uint8_t *data,
		    size_t len)
{
	struct api_upload_car *c = cls;
	int rc;

	if (c->blocks >= c->o.max_blocks)
		return efs_error_set(EFS_EINVAL, "car: more than %zu blocks",
				     c->o.max_blocks);
	c->blocks++;
	c->bytes += len;
	if (c->o.one_root && cid_mh_equal(id, &c->roots[0]))
		c->root_seen = true;
	if ((rc = c->o.on_block(c->o.cls, id, data, len)) < 0)
		return rc;
	if (!c->o.links)
		return 0;
	pend_del(c, id);
	return links_foreach(id, data, len, link_cb, c);
}

/* ---- headers ----------------------------------------------------------- */

/* The roots of a CARv1 header: one_root's checks. */
static int take_roots(struct api_upload_car *c, struct car_reader *rd)
{
	char str[CID_STR_MAX];
	const struct cid *roots = car_reader_roots(rd, &c->nroots);

	if (c->o.one_root && c->nroots != 1)
		return efs_error_set(EFS_EINVAL,
				     "car: the CAR has %zu roots: "
				     "want exactly one (the content)",
				     c->nroots);
	if (c->o.one_root && cid_is_identity(&roots[0]))
		return efs_error_set(EFS_EINVAL,
				     "car: the root %s is an "
				     "identity CID",
				     cid_tostr(str, &roots[0]));
	if (c->nroots &&
	    !(c->roots = efs_memdup(roots, c->nroots * sizeof(*roots))))
		return efs_error_set(EFS_ENOMEM, "car: out of memory");
	return 0;
}

/* The header gathered in c->head is whole: the CARv2 pragma (the only
 * encoding of {"version": 2} strict DAG-CBOR allows, so compared as
 * bytes), or a CARv1 header, which core/car.h's reader checks. */
static int take_header(struct api_upload_car *c)
{
	struct car_reader *rd = NULL;
	int rc;

	if (c->head.len == CARV2_PRAGMA_LEN &&
	    memcmp(c->head.ptr, carv2_pragma, CARV2_PRAGMA_LEN) == 0) {
		if (c->inner)
			return efs_error_set(EFS_ECORRUPT,
					     "car: carv2 inside a carv2");
		c->version = 2;
		c->stage = STAGE_V2HDR;
		buf_reset(&c->head);
		return 0;
	}
	if ((rc = car_reader_open_mem(&rd, c->head.ptr, c->head.len)) < 0)
		return rc;
	if (!c->version)
		c->version = 1;
	if ((rc = take_roots(c, rd)) == 0)
		rc = carstream_feed(&c->cs, c->head.ptr, c->head.len);
	c->stage = STAGE_SECTIONS;
	car_reader_free(rd);
	return rc;
}

/* Gather a header's bytes from p[0..n): its length varint a byte at a
 * time, then that many bytes; *used says how many it took. */
static int head_feed(struct api_upload_car *c, const uint8_t *p, size_t n,
		     size_t *used)
{
	size_t take, vlen;
	uint64_t v;

	*used = 0;
	while (!c->head_sized && *used < n) {
		if (buf_addch(&c->head, p[(*used)++]) < 0)
			return efs_error_set(EFS_ENOMEM, "car: out of memory");
		if (c->head.ptr[c->head.len - 1] & 0x80) {
			if (c->head.len == VARINT_MF_MAX_LEN)
				return efs_error_set(EFS_ECORRUPT,
						     "car: bad "
						     "header length varint");
			continue;
		}
		if (varint_decode(&v, &vlen, c->head.ptr, c->head.len) < 0 ||
		    v == 0)
			return efs_error_set(EFS_ECORRUPT, "car: no header");
		if (v > CAR_HEADER_MAX)
			return efs_error_set(EFS_ETOOBIG,
					     "car: header of %llu "
					     "bytes over the %u-byte cap",
					     (unsigned long long)v,
					     CAR_HEADER_MAX);
		c->head_need = v;
		c->head_sized = true;
	}
	if (!c->head_sized)
		return 0;
	take = c->head_need < n - *used ? (size_t)c->head_need : n - *used;
	if (take && buf_add(&c->head, p + *used, take) < 0)
		return efs_error_set(EFS_ENOMEM, "car: out of memory");
	*used += take;
	c->head_need -= take;
	if (c->head_need)
		return 0;
	c->head_sized = false;
	return take_header(c);
}

/* The CARv2 header gathered in c->head (40 bytes). */
static int take_v2(struct api_upload_car *c)
{
	struct carv2_header h;
	int rc;

	if ((rc = carv2_header_decode(&h, c->head.ptr)) < 0)
		return rc;
	c->skip = h.data_offset - CARV2_DATA_OFFSET;
	c->end = h.data_offset + h.data_size;
	c->inner = true;
	buf_reset(&c->head);
	c->stage = c->skip ? STAGE_SKIP : STAGE_HEAD;
	return 0;
}

/* ---- feeding ----------------------------------------------------------- */

void api_upload_car_init(struct api_upload_car *c,
			 const struct api_upload_car_opts *opts)
{
	memset(c, 0, sizeof(*c));
	c->o = *opts;
	if (!c->o.max_blocks)
		c->o.max_blocks = API_UPLOAD_CAR_BLOCKS_MAX;
	c->stage = STAGE_HEAD;
	c->end = UINT64_MAX;
	buf_init(&c->head, BUF_NOCAP);
	carstream_init(&c->cs, 0, on_block, c);
	if (getrandom(&c->pend.seed, sizeof(c->pend.seed), GRND_NONBLOCK) !=
	    sizeof(c->pend.seed))
		c->pend.seed = (uint64_t)(uintptr_t)c ^ 0x9e3779b97f4a7c15ull;
}

void api_upload_car_release(struct api_upload_car *c)
{
	buf_release(&c->head);
	carstream_release(&c->cs);
	efs_free(c->roots);
	efs_free(c->pend.v);
	memset(c, 0, sizeof(*c));
}

/* Bytes of p[0..n) that belong to the stage under way. */
static size_t stage_span(const struct api_upload_car *c, size_t n)
{
	uint64_t left;

	if (c->stage == STAGE_SKIP)
		return c->skip < n ? (size_t)c->skip : n;
	if (c->stage == STAGE_V2HDR)
		left = CARV2_HEADER_LEN - c->head.len;
	else if (c->end != UINT64_MAX)
		left = c->end > c->pos ? c->end - c->pos : 0;
	else
		return n;
	return left < n ? (size_t)left : n;
}

static int feed(struct api_upload_car *c, const uint8_t *p, size_t n)
{
	size_t used;
	int rc = 0;

	while (n > 0) {
		size_t span = stage_span(c, n);

		used = span;
		switch (c->stage) {
		case STAGE_HEAD:
			if (span == 0)
				return efs_error_set(EFS_ECORRUPT,
						     "car: carv2 "
						     "data ends in its header");
			rc = head_feed(c, p, span, &used);
			break;
		case STAGE_V2HDR:
			if ((rc = buf_add(&c->head, p, span)) < 0)
				rc = efs_error_set(EFS_ENOMEM, "car: out of "
							       "memory");
			else if (c->head.len == CARV2_HEADER_LEN)
				rc = take_v2(c);
			break;
		case STAGE_SKIP:
			if ((c->skip -= span) == 0)
				c->stage = STAGE_HEAD;
			break;
		case STAGE_SECTIONS:
			if (span == 0)
				c->stage = STAGE_TRAILER;
			else
				rc = carstream_feed(&c->cs, p, span);
			break;
		default:
			used = n; /* a CARv2's index: not read */
		}
		if (rc < 0)
			return rc;
		c->pos += used;
		p += used;
		n -= used;
	}
	return 0;
}

int api_upload_car_feed(struct api_upload_car *c, const uint8_t *data,
			size_t len)
{
	int rc;

	if (c->err)
		return c->err;
	if ((rc = feed(c, data, len)) < 0)
		return fail(c, rc);
	return 0;
}

int api_upload_car_finish(struct api_upload_car *c)
{
	char str[CID_STR_MAX];
	int rc;

	if (c->err)
		return c->err;
	if (c->stage != STAGE_SECTIONS && c->stage != STAGE_TRAILER)
		return fail(c, efs_error_set(EFS_ECORRUPT,
					     "car: truncated before the "
					     "first section's end"));
	if (c->end != UINT64_MAX && c->pos < c->end)
		return fail(c, efs_error_set(EFS_ECORRUPT,
					     "car: carv2 data "
					     "truncated at %llu",
					     (unsigned long long)c->pos));
	if ((rc = carstream_finish(&c->cs)) < 0)
		return fail(c, rc);
	if (c->o.one_root && !c->root_seen)
		return fail(c, efs_error_set(EFS_EINVAL,
					     "car: the root %s is "
					     "not in the CAR",
					     cid_tostr(str, &c->roots[0])));
	if (c->o.links && c->pend.n) {
		for (size_t i = 0; i < c->pend.cap; i++)
			if (!slot_free(&c->pend.v[i]))
				cid_tostr(str, &c->pend.v[i]);
		return fail(c, efs_error_set(EFS_EINVAL,
					     "car: %zu linked "
					     "blocks are neither in the CAR "
					     "nor stored here (%s is one)",
					     c->pend.n, str));
	}
	return 0;
}

const struct cid *api_upload_car_roots(const struct api_upload_car *c,
				       size_t *n)
{
	*n = c->nroots;
	return c->roots;
}
