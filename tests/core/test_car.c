/*
 * test_car.c - CARv1 writing, DAG export, reading and import.
 *
 * Golden data (tests/data/car/README.md): tree-v1.car and tree-v0.car
 * were written by the JS oracle (@ipld/car) and car_write_dag must
 * reproduce them byte for byte from their own blocks; carv1-basic.car is
 * the CARv1 spec fixture; sample-v1.car is go-car's (dag-cbor over
 * blake2b-256, with identity CIDs).  Corrupt input: every truncation
 * point, flipped bytes, a table of malformed headers and sections.
 */
#include "core/car.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/cbor.h"
#include "core/error.h"
#include "core/memstore.h"
#include "core/varint.h"
#include "tests/harness.h"

#define TREE_V1_ROOT "bafybeieslzvbi2aj6x2apbltesooqys5o6a5lmia5velvljvyjldhr7tvi"
#define TREE_V0_ROOT "QmaXf3TA1fusDNhR8c1v5ZDgAdEsC6e3aqkFsNLRMcXu1D"

/* A car_write_fn appending to a struct buf. */
static int to_buf(void *payload, const uint8_t *data, size_t len)
{
	return buf_add(payload, data, len);
}

/* Read a whole CAR from memory; the section count goes to n. */
static int read_all(size_t *n, const uint8_t *data, size_t len)
{
	struct car_reader *r;
	struct car_block b;
	int rc = car_reader_open_mem(&r, data, len);

	*n = 0;
	if (rc < 0)
		return rc;
	while ((rc = car_reader_next(r, &b)) == 0)
		++*n;
	car_reader_free(r);
	return rc == EFS_ITEROVER ? 0 : rc;
}

struct infos {
	struct car_block_info v[2048];
	size_t n;
};

static int record_info(const struct car_block_info *info, void *payload)
{
	struct infos *in = payload;

	if (in->n == 2048)
		return EFS_ETOOBIG;
	in->v[in->n++] = *info;
	return 0;
}

/* Import a golden CAR, export its DAG again: the same bytes. */
static void check_reproduce(const char *name, const char *root_str)
{
	struct buf car = BUF_INIT(BUF_NOCAP);
	struct buf out = BUF_INIT(BUF_NOCAP);
	struct memstore *ms;
	struct blockio_sink sink;
	struct blockio_source src;
	struct car_writer *w;
	struct car_reader *r;
	struct car_block b;
	struct cid *roots, want;
	size_t nroots, i = 0;
	static struct infos got;

	CU_ASSERT_FATAL(harness_read_data(&car, name) == 0);
	CU_ASSERT_FATAL(memstore_new(&ms) == 0);
	sink = memstore_sink(ms);
	src = memstore_source(ms);
	CU_ASSERT_FATAL(car_import_mem(&roots, &nroots, &sink, car.ptr,
				       car.len) == 0);
	CU_ASSERT_FATAL(nroots == 1);
	CU_ASSERT_EQUAL(cid_parse(&want, root_str), 0);
	CU_ASSERT(cid_equal(&roots[0], &want));

	got.n = 0;
	CU_ASSERT_FATAL(car_writer_new_cb(&w, to_buf, &out) == 0);
	CU_ASSERT_EQUAL(car_write_dag(w, &src, &roots[0], record_info, &got),
			0);
	CU_ASSERT_EQUAL(car_writer_offset(w), car.len);
	car_writer_free(w);
	CU_ASSERT_EQUAL(out.len, car.len);
	CU_ASSERT(out.len == car.len && !memcmp(out.ptr, car.ptr, car.len));

	/* the callback saw each section where the reader finds it */
	CU_ASSERT_FATAL(car_reader_open_mem(&r, out.ptr, out.len) == 0);
	while (car_reader_next(r, &b) == 0 && i < got.n) {
		const struct car_block_info *g = &got.v[i++];

		CU_ASSERT(cid_equal(&g->id, &b.info.id));
		CU_ASSERT_EQUAL(g->section_offset, b.info.section_offset);
		CU_ASSERT_EQUAL(g->section_len, b.info.section_len);
		CU_ASSERT_EQUAL(g->block_offset, b.info.block_offset);
		CU_ASSERT_EQUAL(g->block_len, b.info.block_len);
		CU_ASSERT(!memcmp(out.ptr + g->block_offset, b.data,
				  g->block_len));
	}
	CU_ASSERT_EQUAL(i, got.n);
	CU_ASSERT_EQUAL(i, memstore_count(ms));
	car_reader_free(r);
	efs_free(roots);
	memstore_free(ms);
	buf_release(&out);
	buf_release(&car);
}

static void test_car__golden_tree_v1(void)
{
	check_reproduce("car/tree-v1.car", TREE_V1_ROOT);
}

static void test_car__golden_tree_v0(void)
{
	check_reproduce("car/tree-v0.car", TREE_V0_ROOT);
}

/*
 * go-car's sample: 1043 dag-cbor blocks over blake2b-256 plus identity
 * sections.  The export is the same CAR without the identity sections
 * (go-car writes them; we skip them, as kubo's dag export does).
 */
static void test_car__golden_sample_v1(void)
{
	struct buf car = BUF_INIT(BUF_NOCAP);
	struct buf out = BUF_INIT(BUF_NOCAP);
	struct buf want = BUF_INIT(BUF_NOCAP);
	struct memstore *ms;
	struct blockio_sink sink;
	struct blockio_source src;
	struct car_writer *w;
	struct car_reader *r;
	struct car_block b;
	struct cid *roots;
	size_t nroots, hlen, nident = 0, n = 0;
	const uint8_t *h;

	CU_ASSERT_FATAL(harness_read_data(&car, "car/sample-v1.car") == 0);
	CU_ASSERT_FATAL(car_reader_open_mem(&r, car.ptr, car.len) == 0);
	CU_ASSERT_EQUAL(car_reader_version(r), 1);
	h = car_reader_header_bytes(r, &hlen);
	CU_ASSERT_EQUAL(buf_add(&want, h, hlen), 0);
	while (car_reader_next(r, &b) == 0) {
		n++;
		if (cid_is_identity(&b.info.id)) {
			nident++;
			continue;
		}
		CU_ASSERT_EQUAL(buf_add(&want, b.section,
					(size_t)b.info.section_len), 0);
	}
	car_reader_free(r);
	CU_ASSERT_EQUAL(n, 1049);
	CU_ASSERT_EQUAL(nident, 6);

	CU_ASSERT_FATAL(memstore_new(&ms) == 0);
	sink = memstore_sink(ms);
	src = memstore_source(ms);
	CU_ASSERT_FATAL(car_import_mem(&roots, &nroots, &sink, car.ptr,
				       car.len) == 0);
	CU_ASSERT_EQUAL(memstore_count(ms), 1043);
	CU_ASSERT_FATAL(car_writer_new_cb(&w, to_buf, &out) == 0);
	CU_ASSERT_EQUAL(car_write_dag(w, &src, &roots[0], NULL, NULL), 0);
	car_writer_free(w);
	CU_ASSERT_EQUAL(out.len, want.len);
	CU_ASSERT(out.len == want.len && !memcmp(out.ptr, want.ptr, want.len));
	efs_free(roots);
	memstore_free(ms);
	buf_release(&want);
	buf_release(&out);
	buf_release(&car);
}

/*
 * The spec fixture: two roots, eight sections.  The low-level writer
 * given the same roots and sections writes the same bytes.
 */
static void test_car__basic_fixture(void)
{
	struct buf car = BUF_INIT(BUF_NOCAP);
	struct buf out = BUF_INIT(BUF_NOCAP);
	struct car_reader *r;
	struct car_writer *w;
	struct car_block b;
	const struct cid *roots;
	size_t n, count = 0;
	char s[CID_STR_MAX];

	CU_ASSERT_FATAL(harness_read_data(&car, "car/carv1-basic.car") == 0);
	CU_ASSERT_FATAL(car_reader_open_mem(&r, car.ptr, car.len) == 0);
	roots = car_reader_roots(r, &n);
	CU_ASSERT_FATAL(n == 2);
	CU_ASSERT_STRING_EQUAL(cid_tostr(s, &roots[0]),
		"bafyreihyrpefhacm6kkp4ql6j6udakdit7g3dmkzfriqfykhjw6cad5lrm");
	CU_ASSERT_STRING_EQUAL(cid_tostr(s, &roots[1]),
		"bafyreidj5idub6mapiupjwjsyyxhyhedxycv4vihfsicm2vt46o7morwlm");
	CU_ASSERT_FATAL(car_writer_new_cb(&w, to_buf, &out) == 0);
	CU_ASSERT_EQUAL(car_writer_add(w, NULL, &roots[0], car.ptr, 1),
			EFS_EINVAL);
	CU_ASSERT_EQUAL(car_writer_header(w, roots, n), 0);
	CU_ASSERT_EQUAL(car_writer_header(w, roots, n), EFS_EINVAL);
	while (car_reader_next(r, &b) == 0) {
		struct car_block_info info;

		count++;
		CU_ASSERT_EQUAL(car_writer_add(w, &info, &b.info.id, b.data,
					       (size_t)b.info.block_len), 0);
		CU_ASSERT_EQUAL(info.section_offset, b.info.section_offset);
	}
	CU_ASSERT_EQUAL(count, 8);
	CU_ASSERT_EQUAL(car_writer_finish(w), 0);
	CU_ASSERT(out.len == car.len && !memcmp(out.ptr, car.ptr, car.len));
	car_writer_free(w);
	car_reader_free(r);
	buf_release(&out);
	buf_release(&car);
}

/* The same CARs read through an fd (refills across 64 KiB). */
static void test_car__fd(void)
{
	static const char *const names[] = {
		"car/sample-v1.car", "car/sample-wrapped-v2.car",
		"car/sample-rw-bs-v2.car", "car/tree-v0.car",
	};
	static const size_t counts[] = { 1049, 1049, 3, 0 };

	for (size_t i = 0; i < 4; i++) {
		struct buf car = BUF_INIT(BUF_NOCAP);
		char *path = harness_data_path(names[i]);
		int fd = open(path, O_RDONLY);
		struct car_reader *r;
		struct car_block b;
		size_t n = 0, nm;
		int rc;

		CU_ASSERT_FATAL(fd >= 0);
		CU_ASSERT_FATAL(harness_read_data(&car, names[i]) == 0);
		CU_ASSERT_FATAL(car_reader_open_fd(&r, fd) == 0);
		while ((rc = car_reader_next(r, &b)) == 0)
			n++;
		CU_ASSERT_EQUAL(rc, EFS_ITEROVER);
		CU_ASSERT_EQUAL(car_reader_next(r, &b), EFS_ITEROVER);
		CU_ASSERT_EQUAL(read_all(&nm, car.ptr, car.len), 0);
		CU_ASSERT_EQUAL(n, nm);
		if (counts[i])
			CU_ASSERT_EQUAL(n, counts[i]);
		car_reader_free(r);
		close(fd);
		free(path);
		buf_release(&car);
	}
}

/* import through an fd, into memstore: every block, the roots. */
static void test_car__import_fd(void)
{
	char *path = harness_data_path("car/sample-rw-bs-v2.car");
	int fd = open(path, O_RDONLY);
	struct memstore *ms;
	struct blockio_sink sink;
	struct cid *roots;
	size_t n;

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(memstore_new(&ms) == 0);
	sink = memstore_sink(ms);
	CU_ASSERT_EQUAL(car_import_fd(&roots, &n, &sink, fd), 0);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_EQUAL(memstore_count(ms), 3);
	for (size_t i = 0; i < n; i++)
		CU_ASSERT(memstore_has(ms, &roots[i]));
	efs_free(roots);
	memstore_free(ms);
	close(fd);
	free(path);
}

/*
 * Every truncation point of a small CAR: an error, or (cut exactly at a
 * section boundary of a CARv1) a shorter CAR; a CARv2 cut in its index
 * still reads in full, since the sequential reader stops at the data's
 * end (complete_at).  Heap copies of the exact length let ASan see any
 * overread.
 */
static void check_truncations(const char *name, size_t complete_at)
{
	struct buf car = BUF_INIT(BUF_NOCAP);
	size_t full, n;

	CU_ASSERT_FATAL(harness_read_data(&car, name) == 0);
	CU_ASSERT_FATAL(read_all(&full, car.ptr, car.len) == 0);
	for (size_t k = 0; k < car.len; k++) {
		uint8_t *cut = malloc(k ? k : 1);
		int rc;

		memcpy(cut, car.ptr, k);
		rc = read_all(&n, cut, k);
		if (k >= complete_at)
			CU_ASSERT(rc == 0 && n == full);
		CU_ASSERT(rc == 0 ? n <= full : rc == EFS_ECORRUPT);
		CU_ASSERT(k >= complete_at || rc != 0 || n < full);
		free(cut);
	}
	buf_release(&car);
}

static void test_car__truncated(void)
{
	check_truncations("car/carv1-basic.car", 715);
	check_truncations("car/tree-v1.car", 25524);
	/* data offset 1464 + data size 273 */
	check_truncations("car/sample-rw-bs-v2.car", 1737);
}

/*
 * Flip each byte of the spec fixture.  A flip inside a block must be
 * EFS_EMISMATCH; anywhere else, an error or (a flip that still makes a
 * valid CAR, e.g. in a root's digest or a CID's codec) success.
 */
static void test_car__flipped(void)
{
	struct buf car = BUF_INIT(BUF_NOCAP);
	struct car_reader *r;
	struct car_block b;
	bool in_block[1024] = { false };
	size_t n;

	CU_ASSERT_FATAL(harness_read_data(&car, "car/carv1-basic.car") == 0);
	CU_ASSERT_FATAL(car.len <= sizeof(in_block));
	CU_ASSERT_FATAL(car_reader_open_mem(&r, car.ptr, car.len) == 0);
	while (car_reader_next(r, &b) == 0)
		for (uint64_t i = 0; i < b.info.block_len; i++)
			in_block[b.info.block_offset + i] = true;
	car_reader_free(r);
	for (size_t k = 0; k < car.len; k++) {
		for (int bit = 0; bit < 8; bit += 7) {
			uint8_t *copy = malloc(car.len);
			int rc;

			memcpy(copy, car.ptr, car.len);
			copy[k] ^= (uint8_t)(1u << bit);
			rc = read_all(&n, copy, car.len);
			if (in_block[k])
				CU_ASSERT_EQUAL(rc, EFS_EMISMATCH);
			CU_ASSERT(rc == 0 || rc == EFS_ECORRUPT ||
				  rc == EFS_EMISMATCH || rc == EFS_ETOOBIG ||
				  rc == EFS_EUNSUPPORTED);
			free(copy);
		}
	}
	buf_release(&car);
}

/* Hand-made CARs: a header, then optional section bytes. */
static const struct {
	const char *hex;
	int open;   /* expected from car_reader_open_mem */
	int next;   /* then from car_reader_next (when open is 0) */
	const char *why;
} bad[] = {
	{ "", EFS_ECORRUPT, 0, "empty" },
	{ "00", EFS_ECORRUPT, 0, "zero-length header" },
	{ "80", EFS_ECORRUPT, 0, "cut varint" },
	{ "808080", EFS_ECORRUPT, 0, "cut varint, three bytes" },
	{ "8000", EFS_ECORRUPT, 0, "non-minimal header varint" },
	{ "808041", EFS_ECORRUPT, 0, "header over 1 MiB, cut" },
	{ "0aa16776657273696f6e", EFS_ECORRUPT, 0, "header cut" },
	{ "0aa16776657273696f6e01", EFS_ECORRUPT, 0, "v1 without roots" },
	{ "0aa16776657273696f6e03", EFS_EUNSUPPORTED, 0, "version 3" },
	{ "0aa16776657273696f6e20", EFS_ECORRUPT, 0, "version -1" },
	{ "11a265726f6f7473806776657273696f6e01", 0, EFS_ITEROVER,
	  "no roots, no sections" },
	{ "11a26776657273696f6e0165726f6f747380", EFS_ECORRUPT, 0,
	  "keys out of order" },
	{ "11a265726f6f7473a06776657273696f6e01", EFS_ECORRUPT, 0,
	  "roots a map" },
	{ "11a265726f6f7473816776657273696f6e01", EFS_ECORRUPT, 0,
	  "roots holds a string" },
	{ "14a361610165726f6f7473806776657273696f6e01", EFS_ECORRUPT, 0,
	  "three keys" },
	{ "14a265726f6f7473806776657273696f6e01616101", EFS_ECORRUPT, 0,
	  "trailing cbor in header" },
	{ "13a265726f6f7473806776657273696f6e1901ff", EFS_EUNSUPPORTED, 0,
	  "version 511" },
	{ "11a265726f6f7473806776657273696f6e02", EFS_ECORRUPT, 0,
	  "version 2 with roots" },
	{ "11a265726f6f7473806776657273696f6e0100", 0, EFS_ECORRUPT,
	  "zero-length section" },
	{ "11a265726f6f7473806776657273696f6e0105", 0, EFS_ECORRUPT,
	  "section cut" },
	{ "11a265726f6f7473806776657273696f6e0180", 0, EFS_ECORRUPT,
	  "section varint cut" },
	{ "11a265726f6f7473806776657273696f6e01ffffffffffffffffff7f", 0,
	  EFS_ECORRUPT, "section of 2^63 bytes" },
	{ "11a265726f6f7473806776657273696f6e010301551200", 0, EFS_ECORRUPT,
	  "cid cut" },
	{ "11a265726f6f7473806776657273696f6e01040255120000", 0,
	  EFS_ECORRUPT, "cid version 2" },
	/* raw identity CID of "a": the data must equal the digest */
	{ "11a265726f6f7473806776657273696f6e0106015500016162", 0,
	  EFS_EMISMATCH, "identity data differs from digest" },
	{ "11a265726f6f7473806776657273696f6e010601550001616161", 0,
	  EFS_ECORRUPT, "trailing byte after a good section" },
	{ "11a265726f6f7473806776657273696f6e01050155000161", 0,
	  EFS_EMISMATCH, "identity cid without data" },
};

static void test_car__malformed(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t in[64];
		long n = harness_unhex(in, sizeof(in), bad[i].hex);
		uint8_t *copy;
		struct car_reader *r = NULL;
		struct car_block b;
		int rc, rn = 0;

		CU_ASSERT_FATAL(n >= 0);
		copy = malloc(n ? (size_t)n : 1);
		memcpy(copy, in, (size_t)n);
		rc = car_reader_open_mem(&r, copy, (size_t)n);
		if (rc == 0) {
			while ((rn = car_reader_next(r, &b)) == 0)
				;
			car_reader_free(r);
		}
		if (rc != bad[i].open || (rc == 0 && rn != bad[i].next))
			fprintf(stderr, "%s: open %s next %s (%s)\n",
				bad[i].why, efs_error_name(rc),
				efs_error_name(rn), efs_error_msg());
		CU_ASSERT_EQUAL(rc, bad[i].open);
		if (rc == 0)
			CU_ASSERT_EQUAL(rn, bad[i].next);
		free(copy);
	}
}

/* A section over the cap is EFS_ETOOBIG; after an error, the same. */
static void test_car__section_cap(void)
{
	uint8_t *big = calloc(1, CAR_HEADER_MAX + 100);
	size_t hv;
	struct buf car = BUF_INIT(BUF_NOCAP);
	struct car_reader *r;
	struct car_block b;

	CU_ASSERT_FATAL(harness_read_data(&car, "car/tree-v1.car") == 0);
	CU_ASSERT_FATAL(car_reader_open_mem(&r, car.ptr, car.len) == 0);
	car_reader_set_section_max(r, 100);
	CU_ASSERT_EQUAL(car_reader_next(r, &b), EFS_ETOOBIG);
	car_reader_set_section_max(r, CAR_SECTION_MAX);
	CU_ASSERT_EQUAL(car_reader_next(r, &b), EFS_ETOOBIG);
	car_reader_free(r);
	/* a header over the cap, with the bytes there: ETOOBIG; cut: ECORRUPT */
	CU_ASSERT_FATAL(big != NULL);
	hv = varint_encode(big, CAR_HEADER_MAX + 1);
	CU_ASSERT_EQUAL(car_reader_open_mem(&r, big, CAR_HEADER_MAX + 100),
			EFS_ETOOBIG);
	CU_ASSERT_EQUAL(car_reader_open_mem(&r, big, CAR_HEADER_MAX + hv),
			EFS_ECORRUPT);
	/* a section over the cap, cut short: ECORRUPT */
	CU_ASSERT_FATAL(car_reader_open_mem(&r, car.ptr, 300) == 0);
	car_reader_set_section_max(r, 100);
	CU_ASSERT_EQUAL(car_reader_next(r, &b), EFS_ECORRUPT);
	car_reader_free(r);
	free(big);
	buf_release(&car);
}

/* ---- car_write_dag on DAGs built here ---- */

/* A dag-cbor block of the links given, stored in ms; its CID to out. */
static int put_cbor(struct cid *out, struct memstore *ms,
		    const struct cid *links, size_t n)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	int rc = cbor_put_array(&b, n);

	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = cbor_put_cid(&b, &links[i]);
	if (rc == 0)
		rc = cid_hash(out, 1, CID_CODEC_DAG_CBOR, MHASH_SHA2_256,
			      b.ptr, b.len);
	if (rc == 0)
		rc = memstore_put(ms, out, b.ptr, b.len);
	buf_release(&b);
	return rc;
}

static int put_raw(struct cid *out, struct memstore *ms, const char *s)
{
	int rc = cid_hash(out, 1, CID_CODEC_RAW, MHASH_SHA2_256, s,
			  strlen(s));

	return rc ? rc : memstore_put(ms, out, (const uint8_t *)s, strlen(s));
}

/*
 * root -> [a, x, b, a, id, x']; a -> [x, y]; b -> [y, z], where id is an
 * identity CID and x' is x's multihash under another codec.  Pre-order,
 * each block once: root a x y b z.
 */
struct dag {
	struct memstore *ms;
	struct cid root, a, b, x, y, z, id;
};

static int build_dag(struct dag *d)
{
	struct cid l[6];
	int rc = memstore_new(&d->ms);

	if (rc == 0)
		rc = put_raw(&d->x, d->ms, "x");
	if (rc == 0)
		rc = put_raw(&d->y, d->ms, "y");
	if (rc == 0)
		rc = put_raw(&d->z, d->ms, "z");
	if (rc == 0)
		rc = cid_hash(&d->id, 1, CID_CODEC_RAW, MHASH_IDENTITY, "id",
			      2);
	l[0] = d->x, l[1] = d->y;
	if (rc == 0)
		rc = put_cbor(&d->a, d->ms, l, 2);
	l[0] = d->y, l[1] = d->z;
	if (rc == 0)
		rc = put_cbor(&d->b, d->ms, l, 2);
	l[0] = d->a, l[1] = d->x, l[2] = d->b, l[3] = d->a, l[4] = d->id;
	/* x again under another codec: the same multihash, written once */
	l[5] = d->x;
	l[5].codec = CID_CODEC_DAG_CBOR;
	if (rc == 0)
		rc = put_cbor(&d->root, d->ms, l, 6);
	return rc;
}

static void test_car__dag_order(void)
{
	struct dag d;
	struct buf out = BUF_INIT(BUF_NOCAP);
	struct car_writer *w;
	struct blockio_source src;
	static struct infos got;

	CU_ASSERT_FATAL(build_dag(&d) == 0);
	src = memstore_source(d.ms);
	got.n = 0;
	CU_ASSERT_FATAL(car_writer_new_cb(&w, to_buf, &out) == 0);
	CU_ASSERT_EQUAL(car_write_dag(w, &src, &d.root, record_info, &got),
			0);
	car_writer_free(w);
	CU_ASSERT_EQUAL_FATAL(got.n, 6);
	CU_ASSERT(cid_equal(&got.v[0].id, &d.root));
	CU_ASSERT(cid_equal(&got.v[1].id, &d.a));
	CU_ASSERT(cid_equal(&got.v[2].id, &d.x));
	CU_ASSERT(cid_equal(&got.v[3].id, &d.y));
	CU_ASSERT(cid_equal(&got.v[4].id, &d.b));
	CU_ASSERT(cid_equal(&got.v[5].id, &d.z));
	memstore_free(d.ms);
	buf_release(&out);
}

static void test_car__dag_errors(void)
{
	struct dag d;
	struct buf out = BUF_INIT(BUF_NOCAP);
	struct car_writer *w;
	struct blockio_source src;
	struct cid missing;
	uint8_t *p;
	size_t len;

	CU_ASSERT_FATAL(build_dag(&d) == 0);
	src = memstore_source(d.ms);

	/* a missing block */
	CU_ASSERT_EQUAL(cid_hash(&missing, 1, CID_CODEC_RAW, MHASH_SHA2_256,
				 "nope", 4), 0);
	CU_ASSERT_FATAL(car_writer_new_cb(&w, to_buf, &out) == 0);
	CU_ASSERT_EQUAL(car_write_dag(w, &src, &missing, NULL, NULL),
			EFS_ENOTFOUND);
	/* the header is written: a second export on this writer refused */
	CU_ASSERT_EQUAL(car_write_dag(w, &src, &d.root, NULL, NULL),
			EFS_EINVAL);
	car_writer_free(w);

	/* an identity root: a header and nothing else */
	buf_reset(&out);
	CU_ASSERT_FATAL(car_writer_new_cb(&w, to_buf, &out) == 0);
	CU_ASSERT_EQUAL(car_write_dag(w, &src, &d.id, NULL, NULL), 0);
	car_writer_free(w);
	CU_ASSERT_EQUAL(out.len, 1 + 17 + cbor_cid_size(&d.id));

	/* a block that no longer hashes to its CID */
	CU_ASSERT_FATAL(memstore_peek(&p, &len, d.ms, &d.y) == 0);
	p[0] ^= 1;
	buf_reset(&out);
	CU_ASSERT_FATAL(car_writer_new_cb(&w, to_buf, &out) == 0);
	CU_ASSERT_EQUAL(car_write_dag(w, &src, &d.root, NULL, NULL),
			EFS_EMISMATCH);
	car_writer_free(w);
	p[0] ^= 1;

	/* a block that does not decode */
	CU_ASSERT_FATAL(memstore_peek(&p, &len, d.ms, &d.b) == 0);
	p[0] = 0x83; /* three items, two present; the hash still fails */
	buf_reset(&out);
	CU_ASSERT_FATAL(car_writer_new_cb(&w, to_buf, &out) == 0);
	CU_ASSERT_EQUAL(car_write_dag(w, &src, &d.root, NULL, NULL),
			EFS_EMISMATCH);
	car_writer_free(w);
	p[0] = 0x82;

	/* a codec whose links are unknown */
	{
		struct cid j = d.x;

		j.codec = 0x0129; /* dag-json */
		buf_reset(&out);
		CU_ASSERT_FATAL(car_writer_new_cb(&w, to_buf, &out) == 0);
		CU_ASSERT_EQUAL(car_write_dag(w, &src, &j, NULL, NULL),
				EFS_EUNSUPPORTED);
		car_writer_free(w);
	}
	memstore_free(d.ms);
	buf_release(&out);
}

static int stop_at_third(const struct car_block_info *info, void *payload)
{
	int *n = payload;

	(void)info;
	return ++*n == 3 ? EFS_ECANCELED : 0;
}

/* Output that fails on its n-th call. */
struct failing {
	int calls;
	int fail_at;
};

static int failing_write(void *payload, const uint8_t *data, size_t len)
{
	struct failing *f = payload;

	(void)data;
	(void)len;
	if (f->calls++ == f->fail_at)
		return efs_error_set(EFS_EIO, "injected write failure");
	return 0;
}

static void test_car__io_errors(void)
{
	struct dag d;
	struct car_writer *w;
	struct blockio_source src;
	struct failing f = { 0, 0 };
	int n = 0;
	int fd;

	CU_ASSERT_FATAL(build_dag(&d) == 0);
	src = memstore_source(d.ms);
	/* the callback's value stops the export */
	CU_ASSERT_FATAL(car_writer_new_cb(&w, failing_write, &f) == 0);
	f.fail_at = -1;
	CU_ASSERT_EQUAL(car_write_dag(w, &src, &d.root, stop_at_third, &n),
			EFS_ECANCELED);
	car_writer_free(w);
	/* an output error is reported, and sticks */
	f.calls = 0;
	f.fail_at = 0;
	CU_ASSERT_FATAL(car_writer_new_cb(&w, failing_write, &f) == 0);
	CU_ASSERT_EQUAL(car_write_dag(w, &src, &d.root, NULL, NULL), EFS_EIO);
	CU_ASSERT_EQUAL(car_writer_finish(w), EFS_EIO);
	car_writer_free(w);
	/* a full disk */
	fd = open("/dev/full", O_WRONLY);
	if (fd >= 0) {
		CU_ASSERT_FATAL(car_writer_new_fd(&w, fd) == 0);
		CU_ASSERT_EQUAL(car_write_dag(w, &src, &d.root, NULL, NULL),
				EFS_ENOSPC);
		car_writer_free(w);
		close(fd);
	}
	/* a read error: a directory */
	fd = open(".", O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		struct car_reader *r;

		CU_ASSERT_EQUAL(car_reader_open_fd(&r, fd), EFS_EIO);
		close(fd);
	}
	memstore_free(d.ms);
}

/* Export to a file, read it back through the fd. */
static void test_car__fd_roundtrip(void)
{
	struct dag d;
	struct car_writer *w;
	struct car_reader *r;
	struct car_block b;
	struct blockio_source src;
	char *dir = harness_tmpdir();
	char path[4096];
	const struct cid *roots;
	size_t n, count = 0;
	int fd;

	CU_ASSERT_FATAL(build_dag(&d) == 0);
	src = memstore_source(d.ms);
	snprintf(path, sizeof(path), "%s/out.car", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(car_writer_new_fd(&w, fd) == 0);
	CU_ASSERT_EQUAL(car_write_dag(w, &src, &d.root, NULL, NULL), 0);
	car_writer_free(w);
	close(fd);
	fd = open(path, O_RDONLY);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(car_reader_open_fd(&r, fd) == 0);
	roots = car_reader_roots(r, &n);
	CU_ASSERT(n == 1 && cid_equal(&roots[0], &d.root));
	while (car_reader_next(r, &b) == 0)
		count++;
	CU_ASSERT_EQUAL(count, 6);
	car_reader_free(r);
	close(fd);
	memstore_free(d.ms);
	harness_tmpdir_free(dir);
}

/* ---- allocation failures ---- */

struct alloc_ctx {
	struct buf car;
};

static int import_export(void *payload)
{
	struct alloc_ctx *a = payload;
	struct memstore *ms = NULL;
	struct car_writer *w = NULL;
	struct buf out = BUF_INIT(BUF_NOCAP);
	struct blockio_sink sink;
	struct blockio_source src;
	struct cid *roots = NULL;
	size_t n;
	int rc = memstore_new(&ms);

	if (rc == 0) {
		sink = memstore_sink(ms);
		src = memstore_source(ms);
		rc = car_import_mem(&roots, &n, &sink, a->car.ptr, a->car.len);
	}
	if (rc == 0)
		rc = car_writer_new_cb(&w, to_buf, &out);
	if (rc == 0)
		rc = car_write_dag(w, &src, &roots[0], NULL, NULL);
	if (rc == 0 && (out.len != a->car.len ||
			memcmp(out.ptr, a->car.ptr, out.len)))
		rc = EFS_ERROR;
	car_writer_free(w);
	efs_free(roots);
	memstore_free(ms);
	buf_release(&out);
	return rc;
}

static void test_car__alloc(void)
{
	struct alloc_ctx a = { BUF_INIT(BUF_NOCAP) };

	CU_ASSERT_FATAL(harness_read_data(&a.car, "car/tree-v0.car") == 0);
	CU_ASSERT(harness_alloc_loop(import_export, &a) > 10);
	buf_release(&a.car);
}

static CU_TestInfo car_tests[] = {
	{ "golden_tree_v1", test_car__golden_tree_v1 },
	{ "golden_tree_v0", test_car__golden_tree_v0 },
	{ "golden_sample_v1", test_car__golden_sample_v1 },
	{ "basic_fixture", test_car__basic_fixture },
	{ "fd", test_car__fd },
	{ "import_fd", test_car__import_fd },
	{ "truncated", test_car__truncated },
	{ "flipped", test_car__flipped },
	{ "malformed", test_car__malformed },
	{ "section_cap", test_car__section_cap },
	{ "dag_order", test_car__dag_order },
	{ "dag_errors", test_car__dag_errors },
	{ "io_errors", test_car__io_errors },
	{ "fd_roundtrip", test_car__fd_roundtrip },
	{ "alloc", test_car__alloc },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "car", .pTests = car_tests })
