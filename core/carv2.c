/*
 * carv2.c - CARv2 header, indexes, wrapping and random access (see
 * carv2.h).
 *
 * Index layout, as go-car writes and reads it (v2/index/indexsorted.go,
 * mhindexsorted.go), all integers little-endian:
 *
 *   0x0401: varint(0x0401) int32 ncodes
 *             { uint64 code  int32 nwidths
 *               { uint32 width  uint64 nbytes  (digest offset64)* }* }*
 *   0x0400: varint(0x0400) int32 nwidths { uint32 width ... }*
 *
 * width = digest length + 8 and nbytes = entries * width (the spec calls
 * it a count; go-car stores bytes).  Within a bucket the entries are
 * sorted by digest, so a lookup is a binary search in the file's own
 * bytes: a parsed index is a small array of buckets pointing into them.
 *
 * The builder sorts by (code, digest length, digest, offset); go-car's
 * sort is not stable, so for a CAR holding one block twice the order of
 * the two offsets may differ from go-car's.  Nothing else does.
 */
#include "core/carv2.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/car_i.h"
#include "core/error.h"
#include "core/fdio.h"
#include "core/varint.h"

#include "core/banned.h"

const uint8_t carv2_pragma[CARV2_PRAGMA_LEN] = {
	0x0a, 0xa1, 0x67, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x02,
};

static uint64_t get_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = n; i > 0; i--)
		v = v << 8 | p[i - 1];
	return v;
}

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- header ---- */

int carv2_header_decode(struct carv2_header *out,
			const uint8_t p[CARV2_HEADER_LEN])
{
	memcpy(out->characteristics, p, 16);
	out->data_offset = get_le(p + 16, 8);
	out->data_size = get_le(p + 24, 8);
	out->index_offset = get_le(p + 32, 8);
	if (out->data_offset < CARV2_DATA_OFFSET)
		return efs_error_set(EFS_ECORRUPT,
				     "carv2: data offset %llu inside the header",
				     (unsigned long long)out->data_offset);
	if (out->data_size > UINT64_MAX - out->data_offset)
		return efs_error_set(EFS_ECORRUPT, "carv2: data size overflows");
	if (out->index_offset != 0 &&
	    out->index_offset < out->data_offset + out->data_size)
		return efs_error_set(EFS_ECORRUPT,
				     "carv2: index offset %llu inside the data",
				     (unsigned long long)out->index_offset);
	return 0;
}

void carv2_header_encode(uint8_t out[CARV2_HEADER_LEN],
			 const struct carv2_header *h)
{
	memcpy(out, h->characteristics, 16);
	put_le(out + 16, h->data_offset, 8);
	put_le(out + 24, h->data_size, 8);
	put_le(out + 32, h->index_offset, 8);
}

bool carv2_fully_indexed(const struct carv2_header *h)
{
	return (h->characteristics[0] & 0x80) != 0;
}

/* ---- index parsing ---- */

struct bucket {
	uint64_t code;            /* 0 in a 0x0400 index */
	uint32_t width;           /* digest length + 8 */
	size_t count;
	const uint8_t *entries;   /* count * width bytes, in the file */
};

struct carv2_index {
	uint64_t codec;
	struct bucket *buckets;
	size_t nbuckets;
	size_t buckets_cap;
	size_t count;
};

/* A cursor over the index bytes. */
struct ixr {
	const uint8_t *p;
	size_t len;
	size_t pos;
};

static int ixr_take(struct ixr *r, const uint8_t **out, size_t n)
{
	if (n > r->len - r->pos)
		return efs_error_set(EFS_ECORRUPT, "carv2: index truncated");
	*out = r->p + r->pos;
	r->pos += n;
	return 0;
}

static int ixr_le(struct ixr *r, uint64_t *out, size_t n)
{
	const uint8_t *p;
	int rc = ixr_take(r, &p, n);

	if (rc == 0)
		*out = get_le(p, n);
	return rc;
}

/* An int32 count, which go-car writes signed. */
static int ixr_count(struct ixr *r, uint64_t *out)
{
	int rc = ixr_le(r, out, 4);

	if (rc == 0 && *out > INT32_MAX)
		return efs_error_set(EFS_ECORRUPT, "carv2: negative index count");
	return rc;
}

static int check_bucket(const struct bucket *b, uint64_t data_size)
{
	size_t dlen = b->width - 8;

	for (size_t i = 0; i < b->count; i++) {
		const uint8_t *e = b->entries + i * b->width;

		if (get_le(e + dlen, 8) >= data_size)
			return efs_error_set(EFS_ECORRUPT,
					     "carv2: index offset past the data");
		if (i > 0 && memcmp(e - b->width, e, dlen) > 0)
			return efs_error_set(EFS_ECORRUPT,
					     "carv2: index bucket not sorted");
	}
	return 0;
}

static int add_bucket(struct carv2_index *idx, struct ixr *r, uint64_t code,
		      uint64_t data_size)
{
	uint64_t width, nbytes;
	struct bucket *b;
	int rc = ixr_le(r, &width, 4);

	if (rc == 0)
		rc = ixr_le(r, &nbytes, 8);
	if (rc < 0)
		return rc;
	if (width < 8 || width > 8 + MHASH_DIGEST_MAX)
		return efs_error_set(EFS_ECORRUPT, "carv2: index width %llu",
				     (unsigned long long)width);
	if (nbytes % width || nbytes > r->len - r->pos)
		return efs_error_set(EFS_ECORRUPT,
				     "carv2: index bucket of %llu bytes",
				     (unsigned long long)nbytes);
	if (idx->nbuckets > 0) {
		const struct bucket *prev = &idx->buckets[idx->nbuckets - 1];

		if (prev->code == code && prev->width >= width)
			return efs_error_set(EFS_ECORRUPT,
					     "carv2: index widths not sorted");
	}
	if (idx->nbuckets == idx->buckets_cap) {
		/* Doubling: a hostile index may hold millions of buckets. */
		size_t cap = idx->buckets_cap ? idx->buckets_cap * 2 : 4;

		b = efs_reallocarray(idx->buckets, cap, sizeof(*b));
		if (!b)
			return efs_error_set(EFS_ENOMEM, "out of memory");
		idx->buckets = b;
		idx->buckets_cap = cap;
	}
	b = &idx->buckets[idx->nbuckets++];
	b->code = code;
	b->width = (uint32_t)width;
	b->count = (size_t)(nbytes / width);
	b->entries = r->p + r->pos;
	r->pos += (size_t)nbytes;
	idx->count += b->count;
	return check_bucket(b, data_size);
}

/* nwidths buckets of one hash code. */
static int add_buckets(struct carv2_index *idx, struct ixr *r, uint64_t code,
		       uint64_t data_size)
{
	uint64_t n;
	int rc = ixr_count(r, &n);

	for (uint64_t i = 0; rc == 0 && i < n; i++)
		rc = add_bucket(idx, r, code, data_size);
	return rc;
}

static int parse_mh_sorted(struct carv2_index *idx, struct ixr *r,
			   uint64_t data_size)
{
	uint64_t n, code, prev = 0;
	int rc = ixr_count(r, &n);

	for (uint64_t i = 0; rc == 0 && i < n; i++) {
		rc = ixr_le(r, &code, 8);
		if (rc == 0 && i > 0 && code <= prev)
			rc = efs_error_set(EFS_ECORRUPT,
					   "carv2: index codes not sorted");
		if (rc == 0)
			rc = add_buckets(idx, r, code, data_size);
		prev = code;
	}
	return rc;
}

int carv2_index_parse(struct carv2_index **out, const uint8_t *p,
		      size_t len, uint64_t data_size)
{
	struct carv2_index *idx;
	struct ixr r = { p, len, 0 };
	uint64_t codec;
	size_t used;
	int rc;

	if (varint_decode(&codec, &used, p, len) < 0)
		return efs_error_set(EFS_ECORRUPT, "carv2: bad index codec");
	if (codec != CARV2_INDEX_SORTED && codec != CARV2_INDEX_MH_SORTED)
		return efs_error_set(EFS_EUNSUPPORTED,
				     "carv2: index codec 0x%llx",
				     (unsigned long long)codec);
	idx = efs_calloc(1, sizeof(*idx));
	if (!idx)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	idx->codec = codec;
	r.pos = used;
	if (codec == CARV2_INDEX_MH_SORTED)
		rc = parse_mh_sorted(idx, &r, data_size);
	else
		rc = add_buckets(idx, &r, 0, data_size);
	if (rc == 0 && r.pos != len)
		rc = efs_error_set(EFS_ECORRUPT,
				   "carv2: %zu bytes after the index",
				   len - r.pos);
	if (rc < 0) {
		carv2_index_free(idx);
		return rc;
	}
	*out = idx;
	return 0;
}

void carv2_index_free(struct carv2_index *idx)
{
	if (!idx)
		return;
	efs_free(idx->buckets);
	efs_free(idx);
}

uint64_t carv2_index_codec(const struct carv2_index *idx)
{
	return idx->codec;
}

size_t carv2_index_count(const struct carv2_index *idx)
{
	return idx->count;
}

/* First entry of b whose digest is >= d, by binary search. */
static size_t lower_bound(const struct bucket *b, const uint8_t *d)
{
	size_t lo = 0, hi = b->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(b->entries + mid * b->width, d, b->width - 8) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int carv2_index_find(uint64_t *out, const struct carv2_index *idx,
		     const struct cid *id)
{
	uint64_t code = idx->codec == CARV2_INDEX_MH_SORTED ? id->hash : 0;
	size_t width = (size_t)id->digest_len + 8;

	for (size_t i = 0; i < idx->nbuckets; i++) {
		const struct bucket *b = &idx->buckets[i];
		const uint8_t *e;
		size_t k;

		if (b->code != code || b->width != width)
			continue;
		k = lower_bound(b, id->digest);
		e = b->entries + k * width;
		if (k < b->count && !memcmp(e, id->digest, id->digest_len)) {
			*out = get_le(e + id->digest_len, 8);
			return 0;
		}
	}
	return efs_error_set(EFS_ENOTFOUND, "carv2: block not in the index");
}

int carv2_index_foreach(const struct carv2_index *idx,
			int (*fn)(uint64_t code, const uint8_t *digest,
				  size_t dlen, uint64_t offset,
				  void *payload),
			void *payload)
{
	for (size_t i = 0; i < idx->nbuckets; i++) {
		const struct bucket *b = &idx->buckets[i];
		size_t dlen = b->width - 8;

		for (size_t k = 0; k < b->count; k++) {
			const uint8_t *e = b->entries + k * b->width;
			int rc = fn(b->code, e, dlen, get_le(e + dlen, 8),
				    payload);

			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

/* ---- index building ---- */

struct rec {
	uint64_t code;
	uint64_t offset;
	size_t at;           /* digest bytes in the arena */
	uint8_t dlen;
};

struct carv2_index_builder {
	struct rec *recs;
	size_t n, cap;
	struct buf digests;
};

int carv2_index_builder_new(struct carv2_index_builder **out)
{
	struct carv2_index_builder *b = efs_calloc(1, sizeof(*b));

	if (!b)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	buf_init(&b->digests, BUF_NOCAP);
	*out = b;
	return 0;
}

void carv2_index_builder_free(struct carv2_index_builder *b)
{
	if (!b)
		return;
	efs_free(b->recs);
	buf_release(&b->digests);
	efs_free(b);
}

int carv2_index_builder_add(struct carv2_index_builder *b,
			    const struct cid *id, uint64_t offset)
{
	struct rec *r;
	int rc;

	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;

		r = efs_reallocarray(b->recs, cap, sizeof(*r));
		if (!r)
			return efs_error_set(EFS_ENOMEM, "out of memory");
		b->recs = r;
		b->cap = cap;
	}
	rc = buf_add(&b->digests, id->digest, id->digest_len);
	if (rc < 0)
		return rc;
	r = &b->recs[b->n++];
	r->code = id->hash;
	r->offset = offset;
	r->at = b->digests.len - id->digest_len;
	r->dlen = id->digest_len;
	return 0;
}

/* Order of the index; arena is the digest bytes the records point into. */
static int rec_compare(const void *pa, const void *pb, void *arena)
{
	const uint8_t *sort_arena = arena;
	const struct rec *a = pa, *b = pb;
	int c;

	if (a->code != b->code)
		return a->code < b->code ? -1 : 1;
	if (a->dlen != b->dlen)
		return a->dlen < b->dlen ? -1 : 1;
	c = memcmp(sort_arena + a->at, sort_arena + b->at, a->dlen);
	if (c)
		return c;
	return a->offset < b->offset ? -1 : a->offset > b->offset;
}

static int put_le_buf(struct buf *out, uint64_t v, size_t n)
{
	uint8_t tmp[8];

	put_le(tmp, v, n);
	return buf_add(out, tmp, n);
}

/* Records [i, j) share code and digest length: one bucket. */
static int write_bucket(struct buf *out, const struct carv2_index_builder *b,
			size_t i, size_t j)
{
	size_t width = (size_t)b->recs[i].dlen + 8;
	int rc = put_le_buf(out, width, 4);

	if (rc == 0)
		rc = put_le_buf(out, (uint64_t)(j - i) * width, 8);
	for (; rc == 0 && i < j; i++) {
		rc = buf_add(out, b->digests.ptr + b->recs[i].at,
			     b->recs[i].dlen);
		if (rc == 0)
			rc = put_le_buf(out, b->recs[i].offset, 8);
	}
	return rc;
}

/* Records [i, j) share a code: its width count and buckets. */
static int write_code(struct buf *out, const struct carv2_index_builder *b,
		      size_t i, size_t j)
{
	size_t nwidths = 0;
	int rc;

	for (size_t k = i; k < j; k++)
		nwidths += k == i || b->recs[k].dlen != b->recs[k - 1].dlen;
	rc = put_le_buf(out, b->recs[i].code, 8);
	if (rc == 0)
		rc = put_le_buf(out, nwidths, 4);
	while (rc == 0 && i < j) {
		size_t k = i + 1;

		while (k < j && b->recs[k].dlen == b->recs[i].dlen)
			k++;
		rc = write_bucket(out, b, i, k);
		i = k;
	}
	return rc;
}

int carv2_index_builder_write(struct carv2_index_builder *b,
			      struct buf *out)
{
	uint8_t v[VARINT_MAX_LEN];
	size_t ncodes = 0;
	size_t i = 0;
	int rc;

	if (b->n > 1)
		qsort_r(b->recs, b->n, sizeof(*b->recs), rec_compare,
			b->digests.ptr);
	for (size_t k = 0; k < b->n; k++)
		ncodes += k == 0 || b->recs[k].code != b->recs[k - 1].code;
	rc = buf_add(out, v, varint_encode(v, CARV2_INDEX_MH_SORTED));
	if (rc == 0)
		rc = put_le_buf(out, ncodes, 4);
	while (rc == 0 && i < b->n) {
		size_t k = i + 1;

		while (k < b->n && b->recs[k].code == b->recs[i].code)
			k++;
		rc = write_code(out, b, i, k);
		i = k;
	}
	return rc;
}

/* ---- wrapping ---- */

static void wrap_header(uint8_t out[CARV2_DATA_OFFSET], uint64_t v1_len)
{
	struct carv2_header h = { { 0 }, CARV2_DATA_OFFSET, v1_len,
				  CARV2_DATA_OFFSET + v1_len };

	memcpy(out, carv2_pragma, CARV2_PRAGMA_LEN);
	carv2_header_encode(out + CARV2_PRAGMA_LEN, &h);
}

/*
 * Read every section of r, index the non-identity ones and pass each
 * section's bytes to w when w is not NULL.  The byte count of the CARv1
 * goes to total.
 */
static int index_sections(struct carv2_index_builder *b, uint64_t *total,
			  struct car_reader *r, struct car_writer *w)
{
	struct car_block blk;
	size_t hlen;
	const uint8_t *h = car_reader_header_bytes(r, &hlen);
	int rc = 0;

	if (car_reader_version(r) != 1)
		return efs_error_set(EFS_EINVAL, "carv2: input is already a carv2");
	*total = hlen;
	if (w)
		rc = car_writer_raw(w, h, hlen);
	while (rc == 0 && (rc = car_reader_next(r, &blk)) == 0) {
		*total += blk.info.section_len;
		if (w)
			rc = car_writer_raw(w, blk.section,
					    (size_t)blk.info.section_len);
		if (rc == 0 && !cid_is_identity(&blk.info.id))
			rc = carv2_index_builder_add(b, &blk.info.id,
						     blk.info.section_offset);
	}
	return rc == EFS_ITEROVER ? 0 : rc;
}

int carv2_wrap_mem(struct buf *out, const uint8_t *v1, size_t len)
{
	struct carv2_index_builder *b = NULL;
	struct car_reader *r = NULL;
	uint8_t head[CARV2_DATA_OFFSET];
	size_t old = out->len;
	uint64_t total = 0;
	int rc = carv2_index_builder_new(&b);

	if (rc == 0)
		rc = car_reader_open_mem(&r, v1, len);
	if (rc == 0)
		rc = index_sections(b, &total, r, NULL);
	if (rc == 0) {
		wrap_header(head, len);
		rc = buf_add(out, head, sizeof(head));
	}
	if (rc == 0)
		rc = buf_add(out, v1, len);
	if (rc == 0)
		rc = carv2_index_builder_write(b, out);
	if (rc < 0)
		buf_truncate(out, old);
	car_reader_free(r);
	carv2_index_builder_free(b);
	return rc;
}

/* Bytes from fd's position to its end; fd must be a regular file. */
static int fd_remaining(uint64_t *out, int fd)
{
	struct stat st;
	off_t pos;

	if (fstat(fd, &st) < 0)
		return efs_error_set_errno(EFS_EIO, errno, "carv2: fstat");
	if (!S_ISREG(st.st_mode))
		return efs_error_set(EFS_EINVAL,
				     "carv2: can only wrap a regular file");
	pos = lseek(fd, 0, SEEK_CUR);
	if (pos < 0 || pos > st.st_size)
		return efs_error_set_errno(EFS_EIO, errno, "carv2: lseek");
	*out = (uint64_t)(st.st_size - pos);
	return 0;
}

int carv2_wrap_fd(int out_fd, int in_fd)
{
	struct carv2_index_builder *b = NULL;
	struct car_reader *r = NULL;
	struct car_writer *w = NULL;
	struct buf index = BUF_INIT(BUF_NOCAP);
	uint8_t head[CARV2_DATA_OFFSET];
	uint64_t len = 0, total = 0;
	int rc = fd_remaining(&len, in_fd);

	if (rc == 0)
		rc = carv2_index_builder_new(&b);
	if (rc == 0)
		rc = car_writer_new_fd(&w, out_fd);
	if (rc == 0)
		rc = car_reader_open_fd(&r, in_fd);
	if (rc == 0) {
		wrap_header(head, len);
		rc = car_writer_raw(w, head, sizeof(head));
	}
	if (rc == 0)
		rc = index_sections(b, &total, r, w);
	if (rc == 0 && total != len)
		rc = efs_error_set(EFS_ECORRUPT,
				   "carv2: carv1 changed size while wrapped");
	if (rc == 0)
		rc = carv2_index_builder_write(b, &index);
	if (rc == 0)
		rc = car_writer_raw(w, index.ptr, index.len);
	if (rc == 0)
		rc = car_writer_finish(w);
	buf_release(&index);
	car_writer_free(w);
	car_reader_free(r);
	carv2_index_builder_free(b);
	return rc;
}

/* ---- random access ---- */

struct carv2 {
	const uint8_t *mem;       /* the file in memory, or NULL */
	int fd;
	uint64_t size;            /* of the file */
	struct carv2_header h;
	uint8_t *index_bytes;     /* fd: owned copy of the index */
	struct carv2_index *idx;  /* NULL: no index */
	struct buf scratch;       /* fd: the section being read */
};

static int pread_all(int fd, uint8_t *dst, uint64_t off, size_t n)
{
	ssize_t k = fdio_pread(fd, dst, n, off);

	if (k < 0)
		return efs_error_set_errno(EFS_EIO, errno,
					   "carv2: read failed");
	if ((size_t)k < n)
		return efs_error_set(EFS_ECORRUPT,
				     "carv2: file shrank while open");
	return 0;
}

/* Read n bytes at off: a pointer into the file (mem) or into scratch. */
static int read_at(struct carv2 *c, const uint8_t **out, uint64_t off,
		   size_t n)
{
	int rc;

	if (off > c->size || n > c->size - off)
		return efs_error_set(EFS_ECORRUPT, "carv2: read past the end");
	if (c->mem) {
		*out = c->mem + off;
		return 0;
	}
	buf_reset(&c->scratch);
	rc = buf_grow(&c->scratch, n);
	if (rc == 0)
		rc = pread_all(c->fd, c->scratch.ptr, off, n);
	if (rc < 0)
		return rc;
	c->scratch.len = n;
	*out = c->scratch.ptr;
	return 0;
}

static int load_index(struct carv2 *c)
{
	const uint8_t *p;
	uint64_t n;
	int rc;

	if (c->h.index_offset == 0)
		return 0;
	if (c->h.index_offset > c->size)
		return efs_error_set(EFS_ECORRUPT, "carv2: index past the end");
	n = c->size - c->h.index_offset;
	if (n > CARV2_INDEX_MAX)
		return efs_error_set(EFS_ETOOBIG, "carv2: index of %llu bytes",
				     (unsigned long long)n);
	if (c->mem) {
		p = c->mem + c->h.index_offset;
	} else {
		c->index_bytes = efs_malloc(n ? (size_t)n : 1);
		if (!c->index_bytes)
			return efs_error_set(EFS_ENOMEM, "out of memory");
		rc = pread_all(c->fd, c->index_bytes, c->h.index_offset,
			       (size_t)n);
		if (rc < 0)
			return rc;
		p = c->index_bytes;
	}
	return carv2_index_parse(&c->idx, p, (size_t)n, c->h.data_size);
}

static int carv2_load(struct carv2 *c)
{
	const uint8_t *p;
	int rc = read_at(c, &p, 0, CARV2_DATA_OFFSET);

	if (rc == EFS_ECORRUPT ||
	    (rc == 0 && memcmp(p, carv2_pragma, CARV2_PRAGMA_LEN)))
		return efs_error_set(EFS_EINVAL, "carv2: not a carv2 file");
	if (rc == 0)
		rc = carv2_header_decode(&c->h, p + CARV2_PRAGMA_LEN);
	if (rc == 0 && c->h.data_offset + c->h.data_size > c->size)
		rc = efs_error_set(EFS_ECORRUPT, "carv2: data past the end");
	if (rc == 0)
		rc = load_index(c);
	return rc;
}

static int carv2_new(struct carv2 **out, const uint8_t *mem, uint64_t size,
		     int fd)
{
	struct carv2 *c = efs_calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	c->mem = mem;
	c->size = size;
	c->fd = fd;
	buf_init(&c->scratch, CAR_SECTION_MAX + VARINT_MAX_LEN);
	rc = carv2_load(c);
	if (rc < 0) {
		carv2_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

int carv2_open_mem(struct carv2 **out, const uint8_t *data, size_t len)
{
	static const uint8_t empty[1];

	return carv2_new(out, data ? data : empty, data ? len : 0, -1);
}

int carv2_open_fd(struct carv2 **out, int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return efs_error_set_errno(EFS_EIO, errno, "carv2: fstat");
	return carv2_new(out, NULL, (uint64_t)st.st_size, fd);
}

void carv2_close(struct carv2 *c)
{
	if (!c)
		return;
	carv2_index_free(c->idx);
	efs_free(c->index_bytes);
	buf_release(&c->scratch);
	efs_free(c);
}

const struct carv2_header *carv2_header(const struct carv2 *c)
{
	return &c->h;
}

const struct carv2_index *carv2_index(const struct carv2 *c)
{
	return c->idx;
}

/*
 * The section at off (from the start of the CARv1), inside the data:
 * where it lies to info, its block to *data.
 */
static int read_section(struct carv2 *c, struct car_block_info *info,
			const uint8_t **data, uint64_t off)
{
	uint64_t end = c->h.data_size;
	struct car_block b;
	const uint8_t *p;
	uint64_t slen;
	size_t vlen, win;
	int rc;

	if (off >= end)
		return efs_error_set(EFS_ECORRUPT,
				     "carv2: offset %llu past the data",
				     (unsigned long long)off);
	win = end - off < VARINT_MF_MAX_LEN ? (size_t)(end - off)
					    : VARINT_MF_MAX_LEN;
	rc = read_at(c, &p, c->h.data_offset + off, win);
	if (rc < 0)
		return rc;
	if (varint_decode(&slen, &vlen, p, win) < 0 || slen == 0 ||
	    slen > end - off - vlen)
		return efs_error_set(EFS_ECORRUPT,
				     "carv2: no section at offset %llu",
				     (unsigned long long)off);
	if (slen > CAR_SECTION_MAX)
		return efs_error_set(EFS_ETOOBIG,
				     "carv2: section of %llu bytes",
				     (unsigned long long)slen);
	rc = read_at(c, &p, c->h.data_offset + off, vlen + (size_t)slen);
	if (rc < 0)
		return rc;
	if ((rc = car_section_decode(&b, p, vlen, slen, off)) < 0)
		return rc;
	*info = b.info;
	*data = b.data;
	return 0;
}

int carv2_get(struct carv2 *c, struct car_block_info *info,
	      const struct cid *id, struct buf *out)
{
	struct car_block_info tmp;
	const uint8_t *data = NULL;
	uint64_t off;
	int rc;

	if (!info)
		info = &tmp;
	if (!c->idx)
		return efs_error_set(EFS_ENOTFOUND, "carv2: no index");
	rc = carv2_index_find(&off, c->idx, id);
	if (rc == 0)
		rc = read_section(c, info, &data, off);
	if (rc < 0)
		return rc;
	if (info->id.digest_len != id->digest_len ||
	    memcmp(info->id.digest, id->digest, id->digest_len) ||
	    (c->idx->codec == CARV2_INDEX_MH_SORTED &&
	     info->id.hash != id->hash))
		return efs_error_set(EFS_ECORRUPT,
				     "carv2: index points at another block");
	return buf_add(out, data, (size_t)info->block_len);
}

static int verify_entry(uint64_t code, const uint8_t *digest, size_t dlen,
			uint64_t offset, void *payload)
{
	struct carv2 *c = payload;
	struct car_block_info info;
	const uint8_t *data = NULL;
	int rc = read_section(c, &info, &data, offset);

	if (rc < 0)
		return rc;
	if (info.id.digest_len != dlen || memcmp(info.id.digest, digest, dlen) ||
	    (c->idx->codec == CARV2_INDEX_MH_SORTED && info.id.hash != code))
		return efs_error_set(EFS_ECORRUPT,
				     "carv2: index entry at %llu names another "
				     "block", (unsigned long long)offset);
	return 0;
}

int carv2_verify_index(struct carv2 *c)
{
	if (!c->idx)
		return 0;
	return carv2_index_foreach(c->idx, verify_entry, c);
}
