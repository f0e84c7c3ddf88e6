/*
 * car.c - the CARv1 writer, the DAG exporter and the CARv1/CARv2 reader
 * (see car.h).  CARv2 headers, indexes and wrapping are in carv2.c.
 *
 * Design notes:
 * - The writer buffers up to CAR_WRITE_BUF bytes; a block at least that
 *   big goes straight to the output after a flush, so nothing is copied
 *   twice.  The offset counts bytes handed to the writer, so section
 *   offsets are known before the bytes reach the disk.
 * - An output error is sticky: once a write failed, every later call
 *   returns the same code, so a caller that checks only the last call
 *   (car_writer_finish) still sees it.
 * - car_write_dag walks the DAG with an explicit stack instead of
 *   recursion.  Frame i holds the links of the i-th node on the path from
 *   the root as concatenated binary CIDs (about 36 bytes a link, not a
 *   struct cid's 150) and the position of the next one to visit.  Frames
 *   keep their buffers when popped, for the next node at that depth.
 * - The set of blocks already written is keyed by multihash, like the
 *   blockstore: a v0 and a v1 CID of one block are one block.  Entries
 *   are [length byte][multihash] in one arena; the open-addressing table
 *   (at most half full) stores arena offsets + 1 as uint32.
 */
#include "core/car.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/car_i.h"
#include "core/carv2.h"
#include "core/cbor.h"
#include "core/error.h"
#include "core/fdio.h"
#include "core/links.h"
#include "core/mhash.h"
#include "core/varint.h"

#include "core/banned.h"

#define CAR_WRITE_BUF (64u * 1024)

struct car_writer {
	int fd;            /* output, or -1 with fn */
	car_write_fn fn;
	void *payload;
	struct buf pending;
	uint64_t offset;   /* bytes accepted so far */
	bool has_header;
	int error;         /* first output error, sticky */
};

static int writer_new(struct car_writer **out, int fd, car_write_fn fn,
		      void *payload)
{
	struct car_writer *w = efs_calloc(1, sizeof(*w));

	if (!w)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	w->fd = fd;
	w->fn = fn;
	w->payload = payload;
	buf_init(&w->pending, BUF_NOCAP);
	*out = w;
	return 0;
}

int car_writer_new_fd(struct car_writer **out, int fd)
{
	return writer_new(out, fd, NULL, NULL);
}

int car_writer_new_cb(struct car_writer **out, car_write_fn fn,
		      void *payload)
{
	return writer_new(out, -1, fn, payload);
}

void car_writer_free(struct car_writer *w)
{
	if (!w)
		return;
	buf_release(&w->pending);
	efs_free(w);
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	if (fdio_write(fd, p, n) < 0)
		return efs_error_set_errno(EFS_EIO, errno,
					   "car: write failed");
	return 0;
}

static int output(struct car_writer *w, const uint8_t *p, size_t n)
{
	int rc;

	if (n == 0)
		return 0;
	rc = w->fn ? w->fn(w->payload, p, n) : write_all(w->fd, p, n);
	if (rc < 0)
		w->error = rc;
	return rc;
}

static int flush(struct car_writer *w)
{
	int rc;

	if (w->error)
		return w->error;
	rc = output(w, w->pending.ptr, w->pending.len);
	buf_reset(&w->pending);
	return rc;
}

/* Accept n bytes: buffered when small, written through when large. */
static int emit(struct car_writer *w, const void *p, size_t n)
{
	int rc;

	if (w->error)
		return w->error;
	if (w->pending.len + n > CAR_WRITE_BUF) {
		rc = flush(w);
		if (rc < 0)
			return rc;
	}
	if (n >= CAR_WRITE_BUF)
		rc = output(w, p, n);
	else
		rc = buf_add(&w->pending, p, n);
	if (rc == 0)
		w->offset += n;
	return rc;
}

static int emit_varint(struct car_writer *w, uint64_t v)
{
	uint8_t tmp[VARINT_MAX_LEN];

	return emit(w, tmp, varint_encode(tmp, v));
}

int car_writer_header(struct car_writer *w, const struct cid *roots,
		      size_t nroots)
{
	struct buf h = BUF_INIT(CAR_HEADER_MAX);
	int rc;

	if (w->has_header || w->offset > 0)
		return efs_error_set(EFS_EINVAL, "car: header written twice");
	rc = cbor_put_map(&h, 2);
	if (rc == 0)
		rc = cbor_put_str(&h, "roots");
	if (rc == 0)
		rc = cbor_put_array(&h, nroots);
	for (size_t i = 0; rc == 0 && i < nroots; i++)
		rc = cbor_put_cid(&h, &roots[i]);
	if (rc == 0)
		rc = cbor_put_str(&h, "version");
	if (rc == 0)
		rc = cbor_put_uint(&h, 1);
	if (rc == 0)
		rc = emit_varint(w, h.len);
	if (rc == 0)
		rc = emit(w, h.ptr, h.len);
	if (rc == 0)
		w->has_header = true;
	buf_release(&h);
	return rc;
}

int car_writer_add(struct car_writer *w, struct car_block_info *info,
		   const struct cid *id, const uint8_t *data, size_t len)
{
	uint8_t cidb[CID_BYTES_MAX];
	size_t clen = cid_to_bytes(cidb, id);
	uint64_t start = w->offset;
	int rc;

	if (!w->has_header)
		return efs_error_set(EFS_EINVAL, "car: section before header");
	rc = emit_varint(w, (uint64_t)clen + len);
	if (rc == 0)
		rc = emit(w, cidb, clen);
	if (rc == 0)
		rc = emit(w, data, len);
	if (rc < 0)
		return rc;
	if (info) {
		info->id = *id;
		info->section_offset = start;
		info->section_len = w->offset - start;
		info->block_offset = w->offset - len;
		info->block_len = len;
	}
	return 0;
}

int car_writer_raw(struct car_writer *w, const void *data, size_t len)
{
	return emit(w, data, len);
}

uint64_t car_writer_offset(const struct car_writer *w)
{
	return w->offset;
}

int car_writer_finish(struct car_writer *w)
{
	return flush(w);
}

/* ---- the set of multihashes written ---- */

struct seen {
	uint32_t *slots;  /* arena offset + 1, or 0 when empty */
	size_t nslots;    /* a power of two */
	size_t count;
	struct buf arena; /* [len][multihash bytes]... */
};

static bool slot_is(const struct seen *s, uint32_t slot, const uint8_t *mh,
		    size_t n)
{
	const uint8_t *e = s->arena.ptr + slot - 1;

	return e[0] == n && !memcmp(e + 1, mh, n);
}

static int seen_grow(struct seen *s)
{
	size_t nslots = s->nslots ? s->nslots * 2 : 1024;
	uint32_t *slots = efs_calloc(nslots, sizeof(*slots));

	if (!slots)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	for (size_t i = 0; i < s->nslots; i++) {
		uint32_t v = s->slots[i];
		const uint8_t *e;
		size_t j;

		if (!v)
			continue;
		e = s->arena.ptr + v - 1;
		j = mhash_fnv1a(e + 1, e[0]) & (nslots - 1);
		while (slots[j])
			j = (j + 1) & (nslots - 1);
		slots[j] = v;
	}
	efs_free(s->slots);
	s->slots = slots;
	s->nslots = nslots;
	return 0;
}

/* Add mh unless present; *added says which.  0, ENOMEM or ETOOBIG. */
static int seen_add(struct seen *s, bool *added, const uint8_t *mh,
		    size_t n)
{
	size_t j;
	int rc;

	if ((s->count + 1) * 2 > s->nslots) {
		rc = seen_grow(s);
		if (rc < 0)
			return rc;
	}
	j = mhash_fnv1a(mh, n) & (s->nslots - 1);
	for (; s->slots[j]; j = (j + 1) & (s->nslots - 1)) {
		if (slot_is(s, s->slots[j], mh, n)) {
			*added = false;
			return 0;
		}
	}
	if (s->arena.len + 1 + n >= UINT32_MAX)
		return efs_error_set(EFS_ETOOBIG, "car: dag too large to export");
	rc = buf_addch(&s->arena, (uint8_t)n);
	if (rc == 0)
		rc = buf_add(&s->arena, mh, n);
	if (rc < 0)
		return rc;
	s->slots[j] = (uint32_t)(s->arena.len - n); /* offset + 1 */
	s->count++;
	*added = true;
	return 0;
}

static void seen_release(struct seen *s)
{
	efs_free(s->slots);
	buf_release(&s->arena);
}

/* ---- DAG export ---- */

struct frame {
	struct buf links; /* binary CIDs, back to back */
	size_t pos;       /* next one to visit */
};

struct walk {
	struct car_writer *w;
	const struct blockio_source *src;
	car_block_fn on_block;
	void *payload;
	struct frame *stack;
	size_t depth;     /* frames in use */
	size_t cap;       /* frames allocated (with buffers kept) */
	struct seen seen;
	struct buf block;
};

static int push_link(const struct cid *id, void *payload)
{
	struct buf *links = payload;
	uint8_t b[CID_BYTES_MAX];

	return buf_add(links, b, cid_to_bytes(b, id));
}

static int push_frame(struct walk *k, struct frame **out)
{
	if (k->depth == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 16;
		struct frame *st = efs_reallocarray(k->stack, cap,
						    sizeof(*st));

		if (!st)
			return efs_error_set(EFS_ENOMEM, "out of memory");
		for (size_t i = k->cap; i < cap; i++)
			buf_init(&st[i].links, BUF_NOCAP);
		k->stack = st;
		k->cap = cap;
	}
	*out = &k->stack[k->depth];
	buf_reset(&(*out)->links);
	(*out)->pos = 0;
	return 0;
}

/* Write block id unless already written, and queue its links. */
static int visit(struct walk *k, const struct cid *id)
{
	uint8_t mh[CID_MH_BYTES_MAX];
	struct car_block_info info;
	struct frame *f = NULL;
	bool added;
	int rc;

	if (cid_is_identity(id))
		return 0;
	rc = seen_add(&k->seen, &added, mh, cid_mh_to_bytes(mh, id));
	if (rc < 0 || !added)
		return rc;
	buf_reset(&k->block);
	rc = blockio_get(k->src, id, &k->block);
	if (rc == 0)
		rc = car_writer_add(k->w, &info, id, k->block.ptr,
				    k->block.len);
	if (rc == 0 && k->on_block)
		rc = k->on_block(&info, k->payload);
	if (rc == 0)
		rc = push_frame(k, &f);
	if (rc == 0)
		rc = links_foreach(id, k->block.ptr, k->block.len, push_link,
				   &f->links);
	if (rc == 0 && f->links.len > 0)
		k->depth++;
	return rc;
}

/* Visit the next link of the top frame, or pop it when done. */
static int step(struct walk *k)
{
	struct frame *f = &k->stack[k->depth - 1];
	struct cid id;
	size_t used;
	int rc;

	if (f->pos == f->links.len) {
		k->depth--;
		return 0;
	}
	rc = cid_from_bytes(&id, &used, f->links.ptr + f->pos,
			    f->links.len - f->pos);
	if (rc < 0)
		return rc;
	f->pos += used;
	return visit(k, &id);
}

int car_write_dag(struct car_writer *w, const struct blockio_source *src,
		  const struct cid *root, car_block_fn on_block,
		  void *payload)
{
	struct walk k = { w, src, on_block, payload, NULL, 0, 0, { 0 },
			  BUF_INIT(CAR_SECTION_MAX) };
	int rc;

	buf_init(&k.seen.arena, BUF_NOCAP);
	rc = car_writer_header(w, root, 1);
	if (rc == 0)
		rc = visit(&k, root);
	while (rc == 0 && k.depth > 0)
		rc = step(&k);
	if (rc == 0)
		rc = car_writer_finish(w);
	for (size_t i = 0; i < k.cap; i++)
		buf_release(&k.stack[i].links);
	efs_free(k.stack);
	seen_release(&k.seen);
	buf_release(&k.block);
	return rc;
}

/* ---- reading ---- */

/* Read-ahead from an fd, and the least a refill asks for. */
#define CAR_READ_CHUNK (64u * 1024)

struct car_reader {
	/* input: mem when reading memory, else fd through the in buffer */
	const uint8_t *mem;
	size_t mem_len;
	int fd;
	struct buf in;      /* bytes read from fd; in.ptr[start] is at pos */
	size_t start;
	bool eof;
	uint64_t pos;       /* offset in the input of the next byte */
	uint64_t end;       /* where the CARv1 ends; UINT64_MAX: at EOF */
	uint64_t v1_base;   /* where the CARv1 starts */

	int version;
	struct cid *roots;
	size_t nroots;
	uint8_t *header;    /* CARv1 header bytes, varint first */
	size_t header_len;
	size_t section_max;
	int error;          /* sticky */
};

/* Bytes left before end (or EOF). */
static uint64_t left_before_end(const struct car_reader *r)
{
	return r->end == UINT64_MAX ? UINT64_MAX : r->end - r->pos;
}

/*
 * Make up to want bytes available at the read position; *p points at
 * them and *got says how many there are (fewer only at EOF or at end).
 * Pointers from earlier calls are invalid afterwards.
 */
static int fill(struct car_reader *r, const uint8_t **p, size_t *got,
		size_t want)
{
	uint64_t limit = left_before_end(r);
	size_t have;

	if (want > limit)
		want = (size_t)limit;
	if (r->mem) {
		have = r->mem_len - (size_t)r->pos;
		*p = r->mem + r->pos;
		*got = have < want ? have : want;
		return 0;
	}
	if (r->in.len - r->start < want && !r->eof) {
		int rc;

		if (r->start > 0) {
			memmove(r->in.ptr, r->in.ptr + r->start,
				r->in.len - r->start);
			buf_truncate(&r->in, r->in.len - r->start);
			r->start = 0;
		}
		rc = buf_grow(&r->in, want < CAR_READ_CHUNK ? CAR_READ_CHUNK
							      : want);
		if (rc < 0)
			return rc;
		while (r->in.len < want && !r->eof) {
			ssize_t k = read(r->fd, r->in.ptr + r->in.len,
					 r->in.asize - 1 - r->in.len);

			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				return efs_error_set_errno(EFS_EIO, errno,
							   "car: read failed");
			if (k == 0)
				r->eof = true;
			r->in.len += (size_t)k;
		}
	}
	have = r->in.len - r->start;
	*p = r->in.ptr + r->start;
	*got = have < want ? have : want;
	return 0;
}

static void consume(struct car_reader *r, size_t n)
{
	if (!r->mem)
		r->start += n;
	r->pos += n;
}

/*
 * The varint at the read position.  *none is set when there is no byte
 * left at all (a clean end); a partial or bad varint is EFS_ECORRUPT.
 */
static int read_varint(struct car_reader *r, uint64_t *out, size_t *used,
		       bool *none)
{
	const uint8_t *p = NULL;
	size_t got = 0;
	int rc = fill(r, &p, &got, VARINT_MF_MAX_LEN);

	if (rc < 0)
		return rc;
	*none = got == 0;
	if (got == 0)
		return 0;
	if (varint_decode(out, used, p, got) < 0)
		return efs_error_set(EFS_ECORRUPT,
				     "car: bad length varint at %llu",
				     (unsigned long long)r->pos);
	return 0;
}

/* Skip n bytes (CARv2 padding). */
static int skip(struct car_reader *r, uint64_t n)
{
	while (n > 0) {
		const uint8_t *p = NULL;
		size_t got = 0;
		size_t want = n < CAR_READ_CHUNK ? (size_t)n : CAR_READ_CHUNK;
		int rc = fill(r, &p, &got, want);

		if (rc < 0)
			return rc;
		if (got == 0)
			return efs_error_set(EFS_ECORRUPT,
					     "car: truncated before the data");
		consume(r, got);
		n -= got;
	}
	return 0;
}

static int decode_roots(struct car_reader *r, struct cbor_dec *d)
{
	size_t n;
	int rc = cbor_get_array(d, &n);

	if (rc < 0)
		return rc;
	if (n > 0) {
		r->roots = efs_calloc(n, sizeof(*r->roots));
		if (!r->roots)
			return efs_error_set(EFS_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		rc = cbor_get_cid(d, &r->roots[i]);
		if (rc < 0)
			return rc;
		r->nroots++;
	}
	return 0;
}

/*
 * Decode a header map: {"roots": [...], "version": 1} or the CARv2
 * pragma's {"version": 2}; the version goes to *version.
 */
static int decode_header(struct car_reader *r, uint64_t *version,
			 const uint8_t *p, size_t len)
{
	struct cbor_dec d;
	size_t n;
	bool has_roots = false;
	int rc = cbor_dec_init(&d, p, len);

	if (rc == 0)
		rc = cbor_get_map(&d, &n);
	if (rc == 0 && (n == 2 || n == 1) && cbor_peek(&d) == CBOR_TEXT &&
	    cbor_get_key(&d, "roots") == 0) {
		has_roots = true;
		rc = decode_roots(r, &d);
		n--;
	}
	if (rc == 0 && n != 1)
		rc = efs_error_set(EFS_ECORRUPT,
				   "car: header is not {roots, version}");
	if (rc == 0)
		rc = cbor_get_key(&d, "version");
	if (rc == 0)
		rc = cbor_get_uint(&d, version);
	if (rc < 0) {
		struct efs_error_state st;

		efs_error_save(&st);
		return efs_error_set(rc, "car: bad header: %s", st.msg);
	}
	if (*version == 1 && !has_roots)
		return efs_error_set(EFS_ECORRUPT, "car: header without roots");
	if (*version == 2 && has_roots)
		return efs_error_set(EFS_ECORRUPT, "car: carv2 pragma with roots");
	if (*version != 1 && *version != 2)
		return efs_error_set(EFS_EUNSUPPORTED, "car: version %llu",
				     (unsigned long long)*version);
	return 0;
}

/*
 * A header or section of len bytes (after a varint of vlen) over cap:
 * EFS_ECORRUPT when the input ends first (truncation, garbage), else
 * EFS_ETOOBIG.  Reads at most cap + 1 bytes to tell, so memory and fd
 * input agree unless more than cap bytes are left.
 */
static int over_cap(struct car_reader *r, size_t vlen, uint64_t len,
		    size_t cap, const char *what)
{
	const uint8_t *p;
	size_t got;
	uint64_t known = r->mem ? r->mem_len - r->pos : left_before_end(r);
	int rc = fill(r, &p, &got, vlen + cap + 1);

	if (rc < 0)
		return rc;
	if (got < vlen + cap + 1 || len > known - vlen)
		return efs_error_set(EFS_ECORRUPT,
				     "car: %s of %llu bytes past the end",
				     what, (unsigned long long)len);
	return efs_error_set(EFS_ETOOBIG,
			     "car: %s of %llu bytes over the %zu-byte cap",
			     what, (unsigned long long)len, cap);
}

/* Read one header (varint + DAG-CBOR) and keep a copy of its bytes. */
static int read_header(struct car_reader *r, uint64_t *version)
{
	const uint8_t *p;
	uint64_t hlen;
	size_t vlen, got;
	bool none;
	int rc = read_varint(r, &hlen, &vlen, &none);

	if (rc < 0)
		return rc;
	if (none || hlen == 0)
		return efs_error_set(EFS_ECORRUPT, "car: no header");
	if (hlen > CAR_HEADER_MAX)
		return over_cap(r, vlen, hlen, CAR_HEADER_MAX, "header");
	rc = fill(r, &p, &got, vlen + (size_t)hlen);
	if (rc < 0)
		return rc;
	if (got < vlen + hlen)
		return efs_error_set(EFS_ECORRUPT, "car: truncated header");
	rc = decode_header(r, version, p + vlen, (size_t)hlen);
	if (rc == 0) {
		r->header = efs_memdup(p, got);
		if (!r->header)
			return efs_error_set(EFS_ENOMEM, "out of memory");
		r->header_len = got;
	}
	if (rc == 0)
		consume(r, got);
	return rc;
}

/* After the pragma: the CARv2 header, padding, the inner CARv1 header. */
static int open_v2(struct car_reader *r)
{
	struct carv2_header h;
	const uint8_t *p;
	size_t got;
	uint64_t version;
	int rc = fill(r, &p, &got, CARV2_HEADER_LEN);

	if (rc < 0)
		return rc;
	if (got < CARV2_HEADER_LEN)
		return efs_error_set(EFS_ECORRUPT, "car: truncated carv2 header");
	rc = carv2_header_decode(&h, p);
	if (rc < 0)
		return rc;
	consume(r, CARV2_HEADER_LEN);
	rc = skip(r, h.data_offset - r->pos);
	if (rc < 0)
		return rc;
	r->v1_base = r->pos;
	r->end = h.data_offset + h.data_size;
	rc = read_header(r, &version);
	if (rc == 0 && version != 1)
		rc = efs_error_set(EFS_ECORRUPT, "car: carv2 inside a carv2");
	return rc;
}

static int reader_open(struct car_reader *r)
{
	uint64_t version;
	int rc;

	r->end = UINT64_MAX;
	r->section_max = CAR_SECTION_MAX;
	rc = read_header(r, &version);
	if (rc < 0)
		return rc;
	r->version = (int)version;
	if (version == 1)
		return 0;
	/* what was read is the pragma; the CARv1 header comes later */
	efs_free(r->header);
	r->header = NULL;
	r->header_len = 0;
	return open_v2(r);
}

static int reader_new(struct car_reader **out, const uint8_t *mem,
		      size_t mem_len, int fd)
{
	struct car_reader *r = efs_calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	r->mem = mem;
	r->mem_len = mem_len;
	r->fd = fd;
	buf_init(&r->in, BUF_NOCAP);
	rc = reader_open(r);
	if (rc < 0) {
		car_reader_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int car_reader_open_mem(struct car_reader **out, const uint8_t *data,
			size_t len)
{
	static const uint8_t empty[1];

	/* a non-NULL mem tells memory input from fd input */
	return reader_new(out, data ? data : empty, data ? len : 0, -1);
}

int car_reader_open_fd(struct car_reader **out, int fd)
{
	return reader_new(out, NULL, 0, fd);
}

void car_reader_free(struct car_reader *r)
{
	if (!r)
		return;
	buf_release(&r->in);
	efs_free(r->roots);
	efs_free(r->header);
	efs_free(r);
}

int car_reader_version(const struct car_reader *r)
{
	return r->version;
}

const struct cid *car_reader_roots(const struct car_reader *r, size_t *n)
{
	*n = r->nroots;
	return r->roots;
}

const uint8_t *car_reader_header_bytes(const struct car_reader *r,
				       size_t *len)
{
	*len = r->header_len;
	return r->header;
}

void car_reader_set_section_max(struct car_reader *r, size_t max)
{
	r->section_max = max;
}

/* The end of the sections: clean, or short of a CARv2's data size. */
static int at_end(const struct car_reader *r)
{
	if (r->end != UINT64_MAX && r->pos != r->end)
		return efs_error_set(EFS_ECORRUPT,
				     "car: carv2 data truncated at %llu",
				     (unsigned long long)r->pos);
	return EFS_ITEROVER;
}

int car_section_decode(struct car_block *out, const uint8_t *p, size_t vlen,
		       uint64_t slen, uint64_t offset)
{
	size_t clen;

	if (cid_from_bytes(&out->info.id, &clen, p + vlen, (size_t)slen) < 0)
		return efs_error_set(EFS_ECORRUPT,
				     "car: bad cid in section at %llu",
				     (unsigned long long)offset);
	out->section = p;
	out->data = p + vlen + clen;
	out->info.section_offset = offset;
	out->info.section_len = vlen + slen;
	out->info.block_offset = offset + vlen + clen;
	out->info.block_len = slen - clen;
	return cid_verify(&out->info.id, out->data,
			  (size_t)out->info.block_len);
}

static int next_section(struct car_reader *r, struct car_block *out)
{
	const uint8_t *p;
	uint64_t slen;
	size_t vlen, got;
	bool none;
	int rc = read_varint(r, &slen, &vlen, &none);

	if (rc < 0)
		return rc;
	if (none)
		return at_end(r);
	if (slen == 0)
		return efs_error_set(EFS_ECORRUPT,
				     "car: zero-length section at %llu",
				     (unsigned long long)(r->pos - r->v1_base));
	if (slen > r->section_max)
		return over_cap(r, vlen, slen, r->section_max, "section");
	rc = fill(r, &p, &got, vlen + (size_t)slen);
	if (rc < 0)
		return rc;
	if (got < vlen + slen)
		return efs_error_set(EFS_ECORRUPT, "car: truncated section");
	rc = car_section_decode(out, p, vlen, slen, r->pos - r->v1_base);
	if (rc < 0)
		return rc;
	consume(r, got);
	return 0;
}

int car_reader_next(struct car_reader *r, struct car_block *out)
{
	if (r->error)
		return r->error;
	r->error = next_section(r, out);
	return r->error;
}

/* ---- import ---- */

static int import(struct cid **roots_out, size_t *nroots_out,
		  const struct blockio_sink *sink, struct car_reader *r)
{
	struct car_block b;
	size_t n;
	const struct cid *roots = car_reader_roots(r, &n);
	int rc;

	while ((rc = car_reader_next(r, &b)) == 0) {
		if (cid_is_identity(&b.info.id))
			continue;
		rc = blockio_put(sink, &b.info.id, b.data,
				 (size_t)b.info.block_len);
		if (rc < 0)
			return rc;
	}
	if (rc != EFS_ITEROVER)
		return rc;
	*roots_out = NULL;
	*nroots_out = n;
	if (n == 0)
		return 0;
	*roots_out = efs_memdup(roots, n * sizeof(*roots));
	if (!*roots_out)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	return 0;
}

int car_import_mem(struct cid **roots_out, size_t *nroots_out,
		   const struct blockio_sink *sink, const uint8_t *data,
		   size_t len)
{
	struct car_reader *r;
	int rc = car_reader_open_mem(&r, data, len);

	if (rc < 0)
		return rc;
	rc = import(roots_out, nroots_out, sink, r);
	car_reader_free(r);
	return rc;
}

int car_import_fd(struct cid **roots_out, size_t *nroots_out,
		  const struct blockio_sink *sink, int fd)
{
	struct car_reader *r;
	int rc = car_reader_open_fd(&r, fd);

	if (rc < 0)
		return rc;
	rc = import(roots_out, nroots_out, sink, r);
	car_reader_free(r);
	return rc;
}
