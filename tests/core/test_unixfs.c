/*
 * test_unixfs.c - the UnixFS Data message: golden messages from
 * ipfs-unixfs 13.1.1 and the Data fields of the golden blocks of
 * ipfs-unixfs-importer 17.1.1 (tests/data/dagpb/golden.txt, see its
 * README), field values of the examples in ipfs-formats.md §3, encoding
 * from structs, the two decoding tolerances, every truncation, a table
 * of corrupt inputs, random round trips and an allocation-failure loop.
 */
#include "core/unixfs.h"

#include <string.h>

#include "core/dagpb.h"
#include "core/error.h"
#include "core/varint.h"
#include "tests/core/dagpb_golden.h"
#include "tests/harness.h"

static long unhex(uint8_t *out, size_t cap, const char *hex)
{
	long n = harness_unhex(out, cap, hex);

	CU_ASSERT_FATAL(n >= 0);
	return n;
}

/* Decode, check the exact size, re-encode and compare with p. */
static int roundtrip(const uint8_t *p, size_t len)
{
	struct unixfs_data d;
	struct buf out = BUF_INIT(BUF_NOCAP);
	int error = unixfs_decode(&d, p, len);

	if (error < 0)
		return error;
	CU_ASSERT_EQUAL(unixfs_encoded_size(&d), len);
	CU_ASSERT_EQUAL(unixfs_encode(&out, &d), 0);
	CU_ASSERT(out.len == len && !memcmp(out.ptr, p, len));
	buf_release(&out);
	unixfs_data_release(&d);
	return 0;
}

/*
 * The UnixFS message of a golden line: the line itself, or the Data of
 * a block made by the importer (the pb-* blocks are not UnixFS).
 */
static bool golden_message(const struct golden *g, const uint8_t **p,
			   size_t *len, struct dagpb_node *node)
{
	memset(node, 0, sizeof(*node));
	if (!strcmp(g->kind, "unixfs")) {
		*p = g->bytes;
		*len = g->len;
		return true;
	}
	if (!strncmp(g->name, "pb-", 3))
		return false;
	CU_ASSERT_EQUAL_FATAL(dagpb_decode(node, g->bytes, g->len), 0);
	CU_ASSERT_FATAL(node->has_data);
	*p = node->data;
	*len = node->data_len;
	return true;
}

static void test_unixfs__golden(void)
{
	struct golden_set set;
	size_t checked = 0;

	if (golden_load(&set) < 0)
		return;
	for (size_t i = 0; i < set.n; i++) {
		struct dagpb_node node;
		const uint8_t *p;
		size_t len;

		if (!golden_message(&set.v[i], &p, &len, &node))
			continue;
		if (roundtrip(p, len) < 0) {
			fprintf(stderr, "%s: %s\n", set.v[i].name,
				efs_error_msg());
			CU_FAIL("golden message does not decode");
		}
		checked++;
		dagpb_node_release(&node);
	}
	CU_ASSERT(checked > 60);
	golden_free(&set);
}

static int decode_hex(struct unixfs_data *d, uint8_t *buf, size_t cap,
		      const char *hex)
{
	long n = unhex(buf, cap, hex);

	return unixfs_decode(d, buf, (size_t)n);
}

/* ipfs-formats.md §3 examples and the golden messages, field by field. */
static void test_unixfs__fields(void)
{
	uint8_t b[64];
	struct unixfs_data d;

	CU_ASSERT_EQUAL_FATAL(decode_hex(&d, b, sizeof(b),
					 "0802120b68656c6c6f"
					 "20776f726c64180b"),
			      0);
	CU_ASSERT_EQUAL(d.type, UNIXFS_FILE);
	CU_ASSERT(d.has_data && d.data_len == 11 &&
		  !memcmp(d.data, "hello world", 11));
	CU_ASSERT(d.has_filesize && d.filesize == 11);
	CU_ASSERT(!d.has_mode && !d.has_mtime && !d.has_fanout &&
		  !d.has_hash_type && d.nblocksizes == 0);
	unixfs_data_release(&d);

	CU_ASSERT_EQUAL_FATAL(decode_hex(&d, b, sizeof(b),
					 "08021881804020808040 2001"), 0);
	CU_ASSERT_EQUAL(d.filesize, 1048577);
	CU_ASSERT_EQUAL_FATAL(d.nblocksizes, 2);
	CU_ASSERT_EQUAL(d.blocksizes[0], 1048576);
	CU_ASSERT_EQUAL(d.blocksizes[1], 1);
	CU_ASSERT(!d.has_data);
	unixfs_data_release(&d);

	CU_ASSERT_EQUAL_FATAL(decode_hex(&d, b, sizeof(b), "08021800"), 0);
	CU_ASSERT(d.type == UNIXFS_FILE && d.has_filesize && d.filesize == 0);
	CU_ASSERT(!d.has_data);
	unixfs_data_release(&d);

	CU_ASSERT_EQUAL_FATAL(decode_hex(&d, b, sizeof(b), "0801"), 0);
	CU_ASSERT(d.type == UNIXFS_DIRECTORY && !d.has_filesize);
	unixfs_data_release(&d);

	CU_ASSERT_EQUAL_FATAL(decode_hex(&d, b, sizeof(b), "08041203666f6f"),
			      0);
	CU_ASSERT(d.type == UNIXFS_SYMLINK && d.data_len == 3 &&
		  !memcmp(d.data, "foo", 3));
	unixfs_data_release(&d);

	CU_ASSERT_EQUAL_FATAL(decode_hex(&d, b, sizeof(b),
					 "080512038000012822308002"), 0);
	CU_ASSERT_EQUAL(d.type, UNIXFS_HAMT_SHARD);
	CU_ASSERT(d.data_len == 3 && !memcmp(d.data, "\x80\x00\x01", 3));
	CU_ASSERT(d.has_hash_type && d.hash_type == 0x22);
	CU_ASSERT(d.has_fanout && d.fanout == 256);
	unixfs_data_release(&d);

	/* 0100644 survives: S_IFREG is kept. */
	CU_ASSERT_EQUAL_FATAL(decode_hex(&d, b, sizeof(b), "0802180038a48302"),
			      0);
	CU_ASSERT(d.has_mode && d.mode == 0100644);
	unixfs_data_release(&d);

	CU_ASSERT_EQUAL_FATAL(decode_hex(&d, b, sizeof(b),
					 "08021800420b08ffffffffffffffffff01"),
			      0);
	CU_ASSERT(d.has_mtime && d.mtime_sec == -1 && d.mtime_nsec == 0);
	unixfs_data_release(&d);

	CU_ASSERT_EQUAL_FATAL(decode_hex(&d, b, sizeof(b),
					 "0805120101282230083"
					 "8e8034207080115ffc99a3b"),
			      0);
	CU_ASSERT(d.fanout == 8 && d.mode == 0750);
	CU_ASSERT(d.mtime_sec == 1 && d.mtime_nsec == 999999999);
	unixfs_data_release(&d);

	/* Directory from the importer: mode 0700, mtime 1700000000. */
	CU_ASSERT_EQUAL_FATAL(decode_hex(&d, b, sizeof(b),
					 "080138c00342060880e2cfaa06"), 0);
	CU_ASSERT(d.mode == 0700 && d.mtime_sec == 1700000000 &&
		  d.mtime_nsec == 0);
	unixfs_data_release(&d);

	/* INT64_MIN seconds: a 10-byte varint (written by hand). */
	CU_ASSERT_EQUAL_FATAL(decode_hex(&d, b, sizeof(b),
					 "0802420b0880808080808080808001"), 0);
	CU_ASSERT_EQUAL(d.mtime_sec, INT64_MIN);
	unixfs_data_release(&d);
}

/* Encoding from structs: what the importer engineer will set. */
static void test_unixfs__encode(void)
{
	static uint64_t sizes[] = { 262144, 262144, 1 };
	static const struct {
		struct unixfs_data d;
		const char *hex;
	} cases[] = {
		{ { .type = UNIXFS_FILE, .has_filesize = true }, "08021800" },
		{ { .type = UNIXFS_DIRECTORY }, "0801" },
		{ { .type = UNIXFS_RAW, .data = (const uint8_t *)"ab",
		    .data_len = 2, .has_data = true, .filesize = 2,
		    .has_filesize = true },
		  "08001202616218 02" },
		{ { .type = UNIXFS_FILE, .filesize = 524289,
		    .has_filesize = true, .blocksizes = sizes,
		    .nblocksizes = 3 },
		  "0802188180 20 2080801020808010 2001" },
		{ { .type = UNIXFS_SYMLINK, .data = (const uint8_t *)"",
		    .has_data = true },
		  "08041200" },
		{ { .type = UNIXFS_HAMT_SHARD, .data = (const uint8_t *)"\x01",
		    .data_len = 1, .has_data = true, .hash_type = 0x22,
		    .has_hash_type = true, .fanout = 256, .has_fanout = true },
		  "08051201012822308002" },
		/* nanoseconds 0 are not written */
		{ { .type = UNIXFS_FILE, .has_filesize = true,
		    .mtime_sec = 5, .has_mtime = true },
		  "08021800 42020805" },
		{ { .type = UNIXFS_FILE, .has_filesize = true,
		    .mtime_sec = 5, .mtime_nsec = 1, .has_mtime = true },
		  "08021800 4207 0805 1501000000" },
		{ { .type = UNIXFS_DIRECTORY, .mode = 0755, .has_mode = true,
		    .mtime_sec = -1, .mtime_nsec = 999999999,
		    .has_mtime = true },
		  "0801 38ed03 4210 08ffffffffffffffffff01 15ffc99a3b" },
		{ { .type = UNIXFS_FILE, .mode = 0xffffffffu,
		    .has_mode = true },
		  "0802 38ffffffff0f" },
		{ { .type = UNIXFS_METADATA, .data = (const uint8_t *)"m",
		    .data_len = 1, .has_data = true },
		  "080312016d" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t want[64];
		long n = unhex(want, sizeof(want), cases[i].hex);
		struct buf out = BUF_INIT(BUF_NOCAP);

		CU_ASSERT_EQUAL(unixfs_encode(&out, &cases[i].d), 0);
		CU_ASSERT_EQUAL(unixfs_encoded_size(&cases[i].d), (size_t)n);
		if (out.len != (size_t)n || memcmp(out.ptr, want, out.len)) {
			fprintf(stderr, "encode case %zu differs\n", i);
			CU_FAIL("encoding differs");
		}
		buf_release(&out);
	}
}

static void test_unixfs__encode_errors(void)
{
	struct unixfs_data d = { .type = UNIXFS_FILE, .has_filesize = true };
	struct buf out = BUF_INIT(BUF_NOCAP);
	struct buf small = BUF_INIT(3);

	d.type = (enum unixfs_type)6;
	CU_ASSERT_EQUAL(unixfs_encode(&out, &d), EFS_EINVAL);
	d.type = UNIXFS_FILE;
	d.has_mtime = true;
	d.mtime_nsec = 1000000000;
	CU_ASSERT_EQUAL(unixfs_encode(&out, &d), EFS_EINVAL);
	CU_ASSERT_EQUAL(out.len, 0);
	d.mtime_nsec = 0;
	CU_ASSERT_EQUAL(unixfs_encode(&small, &d), EFS_ETOOBIG);
	CU_ASSERT_EQUAL(small.len, 0);
	buf_release(&out);
	buf_release(&small);
}

/* Accepted but not canonical: decoded, then written the canonical way. */
static void test_unixfs__tolerated(void)
{
	static const struct {
		const char *what;
		const char *in;
		const char *canonical;
	} cases[] = {
		{ "packed blocksizes", "0802180a 22020307",
		  "0802180a 2003 2007" },
		{ "packed, multi-byte", "0802 2204 80800401",
		  "0802 2080800420 01" },
		{ "packed then hashType", "0805 220101 2822",
		  "0805 2001 2822" },
		/* ipfs-unixfs 13.1.1 for mtime { secs: 5n, nsecs: 0 } */
		{ "mtime nanoseconds 0", "08021800 4207 0805 1500000000",
		  "08021800 42020805" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t in[64];
		uint8_t want[64];
		long n = unhex(in, sizeof(in), cases[i].in);
		long wn = unhex(want, sizeof(want), cases[i].canonical);
		struct unixfs_data d;
		struct buf out = BUF_INIT(BUF_NOCAP);

		CU_ASSERT_EQUAL_FATAL(unixfs_decode(&d, in, (size_t)n), 0);
		CU_ASSERT_EQUAL(unixfs_encode(&out, &d), 0);
		if (out.len != (size_t)wn || memcmp(out.ptr, want, out.len)) {
			fprintf(stderr, "%s: re-encoding differs\n",
				cases[i].what);
			CU_FAIL("tolerated form not canonicalised");
		}
		buf_release(&out);
		unixfs_data_release(&d);
	}
}

static void test_unixfs__corrupt(void)
{
	static const struct {
		const char *what;
		const char *hex;
	} cases[] = {
		{ "empty", "" },
		{ "no type", "1800" },
		{ "type after data", "120161 0802" },
		{ "type 6", "0806" },
		{ "type 2^32+2", "088280808010" },
		{ "type as bytes", "0a00" },
		{ "type as fixed32", "0d02000000" },
		{ "type truncated", "08" },
		{ "type non-minimal", "088200" },
		{ "duplicate type", "0802 0802" },
		{ "duplicate data", "0802 120161 120161" },
		{ "duplicate filesize", "0802 1800 1800" },
		{ "data as varint", "0802 1001" },
		{ "data past end", "0802 1205 61" },
		{ "filesize as bytes", "0802 1a00" },
		{ "out of order", "0802 1800 120161" },
		{ "blocksizes after hashType", "0802 2822 2001" },
		{ "unpacked after packed", "0802 220101 2001" },
		{ "packed after unpacked", "0802 2001 220101" },
		{ "two packed", "0802 220101 220101" },
		{ "empty packed", "0802 2200" },
		{ "packed truncated varint", "0802 220180" },
		{ "packed past end", "0802 220501" },
		{ "blocksizes as fixed32", "0802 2501000000" },
		{ "hashType as bytes", "0805 2a00" },
		{ "fanout as bytes", "0805 3200" },
		{ "mode over 32 bits", "0802 388080808010" },
		{ "mode as bytes", "0802 3a00" },
		{ "mtime as varint", "0802 4001" },
		{ "mtime without seconds", "0802 4200" },
		{ "mtime nanoseconds only", "0802 4205 1501000000" },
		{ "mtime nanoseconds 10^9", "0802 4207 0801 1500ca9a3b" },
		{ "mtime nanoseconds 2^32-1", "0802 4207 0801 15ffffffff" },
		{ "mtime nanoseconds as varint", "0802 4204 0801 1001" },
		{ "mtime nanoseconds truncated", "0802 4205 0801 150000" },
		{ "mtime seconds as fixed64", "0802 4209 090100000000000000" },
		{ "mtime unknown field", "0802 4204 0801 1801" },
		{ "mtime duplicate seconds", "0802 4204 0801 0801" },
		{ "mtime seconds over 64 bits",
		  "0802 420b 08ffffffffffffffffff7f" },
		{ "mtime past end", "0802 4205 0801" },
		{ "unknown field 9", "0802 4800" },
		{ "unknown field 2^29-1", "0802 f8ffffff0f00" },
		{ "field 0", "0802 0000" },
		{ "trailing zero", "0802 00" },
		{ "trailing varint start", "0802 ff" },
		{ "non-minimal key", "8800 02" },
		{ "non-minimal length", "0802 128100 61" },
		{ "fixed64 wire type", "0802 1900000000000000 00" },
		{ "group wire type", "0802 1b" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[64];
		long n = unhex(buf, sizeof(buf), cases[i].hex);
		uint8_t *p = malloc(n ? (size_t)n : 1);
		struct unixfs_data d;
		int got;

		CU_ASSERT_FATAL(p != NULL);
		memcpy(p, buf, (size_t)n);
		got = unixfs_decode(&d, p, (size_t)n);
		if (got != EFS_ECORRUPT)
			fprintf(stderr, "%s: got %d\n", cases[i].what, got);
		CU_ASSERT_EQUAL(got, EFS_ECORRUPT);
		CU_ASSERT_PTR_NULL(d.blocksizes);
		unixfs_data_release(&d);
		free(p);
	}
}

/* True when the first k bytes of a valid message end on a field. */
static bool on_boundary(const uint8_t *p, size_t len, size_t k)
{
	size_t pos = 0;

	while (pos < k && pos < len) {
		uint64_t key;
		uint64_t n;
		size_t used;

		if (varint_decode_pb(&key, &used, p + pos, len - pos) < 0)
			return false;
		pos += used;
		if ((key & 7) == 5) {
			pos += 4;
			continue;
		}
		if (varint_decode_pb(&n, &used, p + pos, len - pos) < 0)
			return false;
		pos += used + ((key & 7) == 2 ? n : 0);
	}
	return pos == k;
}

static void test_unixfs__truncated(void)
{
	struct golden_set set;

	if (golden_load(&set) < 0)
		return;
	for (size_t i = 0; i < set.n; i++) {
		struct dagpb_node node;
		const uint8_t *msg;
		size_t len;

		if (!golden_message(&set.v[i], &msg, &len, &node))
			continue;
		for (size_t k = 0; k < len; k++) {
			uint8_t *p = malloc(k ? k : 1);
			struct unixfs_data d;
			int want = k > 0 && on_boundary(msg, len, k) ?
					   0 :
					   EFS_ECORRUPT;
			int got;

			CU_ASSERT_FATAL(p != NULL);
			memcpy(p, msg, k);
			got = unixfs_decode(&d, p, k);
			if (got != want)
				fprintf(stderr, "%s[0..%zu): %d, want %d\n",
					set.v[i].name, k, got, want);
			CU_ASSERT_EQUAL(got, want);
			unixfs_data_release(&d);
			free(p);
		}
		dagpb_node_release(&node);
	}
	golden_free(&set);
}

static uint64_t random_value(uint64_t *x)
{
	return harness_rand64(x) >> (harness_rand64(x) % 64);
}

static void random_data(struct unixfs_data *d, uint64_t *sizes, size_t max,
			const uint8_t *pool, uint64_t *x)
{
	memset(d, 0, sizeof(*d));
	d->type = (enum unixfs_type)(harness_rand64(x) % 6);
	d->has_data = harness_rand64(x) % 2;
	d->data = pool + harness_rand64(x) % 100;
	d->data_len = harness_rand64(x) % 2 ? harness_rand64(x) % 130 :
					   harness_rand64(x) % 17000;
	d->has_filesize = harness_rand64(x) % 2;
	d->filesize = random_value(x);
	d->nblocksizes = harness_rand64(x) % max;
	d->blocksizes = sizes;
	for (size_t i = 0; i < d->nblocksizes; i++)
		sizes[i] = random_value(x);
	d->has_hash_type = harness_rand64(x) % 4 == 0;
	d->hash_type = random_value(x);
	d->has_fanout = harness_rand64(x) % 4 == 0;
	d->fanout = random_value(x);
	d->has_mode = harness_rand64(x) % 2;
	d->mode = (uint32_t)random_value(x);
	d->has_mtime = harness_rand64(x) % 2;
	d->mtime_sec = (int64_t)harness_rand64(x) >> (harness_rand64(x) % 64);
	d->mtime_nsec = harness_rand64(x) % 3 ? (uint32_t)(harness_rand64(x) %
							 1000000000u) : 0;
}

static void test_unixfs__random(void)
{
	static uint8_t pool[17200];
	uint64_t sizes[50];
	uint64_t x = 11;

	harness_fill_random(pool, sizeof(pool), 5);
	for (int round = 0; round < 3000; round++) {
		struct unixfs_data d;
		struct unixfs_data back;
		struct buf out = BUF_INIT(BUF_NOCAP);
		struct buf again = BUF_INIT(BUF_NOCAP);

		random_data(&d, sizes, 50, pool, &x);
		CU_ASSERT_EQUAL_FATAL(unixfs_encode(&out, &d), 0);
		CU_ASSERT_EQUAL(out.len, unixfs_encoded_size(&d));
		CU_ASSERT_EQUAL_FATAL(unixfs_decode(&back, out.ptr, out.len),
				      0);
		CU_ASSERT(back.type == d.type && back.has_data == d.has_data &&
			  back.has_filesize == d.has_filesize &&
			  back.nblocksizes == d.nblocksizes &&
			  back.has_mode == d.has_mode &&
			  back.has_mtime == d.has_mtime);
		if (d.nblocksizes)
			CU_ASSERT(!memcmp(back.blocksizes, d.blocksizes,
					  d.nblocksizes * sizeof(uint64_t)));
		if (d.has_mtime)
			CU_ASSERT(back.mtime_sec == d.mtime_sec &&
				  back.mtime_nsec == d.mtime_nsec);
		if (d.has_mode)
			CU_ASSERT_EQUAL(back.mode, d.mode);
		CU_ASSERT_EQUAL(unixfs_encode(&again, &back), 0);
		CU_ASSERT(again.len == out.len &&
			  !memcmp(again.ptr, out.ptr, out.len));
		unixfs_data_release(&back);
		buf_release(&out);
		buf_release(&again);
	}
}

static int decode_encode(void *payload)
{
	const struct buf *in = payload;
	struct unixfs_data d;
	struct buf out = BUF_INIT(BUF_NOCAP);
	int error;

	if ((error = unixfs_decode(&d, in->ptr, in->len)) < 0)
		return error;
	error = unixfs_encode(&out, &d);
	if (error == 0 && (out.len != in->len || memcmp(out.ptr, in->ptr,
							in->len)))
		error = EFS_ERROR;
	buf_release(&out);
	unixfs_data_release(&d);
	return error;
}

static void test_unixfs__alloc_failure(void)
{
	uint8_t b[64];
	long n = unhex(b, sizeof(b), "08021881804020808040 2001 38a48302");
	struct buf in = { b, (size_t)n, (size_t)n, (size_t)n };

	CU_ASSERT(harness_alloc_loop(decode_encode, &in) >= 3);
	n = unhex(b, sizeof(b), "0801");
	in.len = (size_t)n;
	CU_ASSERT(harness_alloc_loop(decode_encode, &in) >= 1);
}

static void test_unixfs__type_name(void)
{
	CU_ASSERT_STRING_EQUAL(unixfs_type_name(UNIXFS_RAW), "raw");
	CU_ASSERT_STRING_EQUAL(unixfs_type_name(UNIXFS_DIRECTORY),
			       "directory");
	CU_ASSERT_STRING_EQUAL(unixfs_type_name(UNIXFS_FILE), "file");
	CU_ASSERT_STRING_EQUAL(unixfs_type_name(UNIXFS_METADATA), "metadata");
	CU_ASSERT_STRING_EQUAL(unixfs_type_name(UNIXFS_SYMLINK), "symlink");
	CU_ASSERT_STRING_EQUAL(unixfs_type_name(UNIXFS_HAMT_SHARD),
			       "hamt-sharded-directory");
	CU_ASSERT_STRING_EQUAL(unixfs_type_name((enum unixfs_type)9),
			       "unknown");
}

static CU_TestInfo unixfs_tests[] = {
	{ "golden", test_unixfs__golden },
	{ "fields", test_unixfs__fields },
	{ "encode", test_unixfs__encode },
	{ "encode_errors", test_unixfs__encode_errors },
	{ "tolerated", test_unixfs__tolerated },
	{ "corrupt", test_unixfs__corrupt },
	{ "truncated", test_unixfs__truncated },
	{ "random", test_unixfs__random },
	{ "alloc_failure", test_unixfs__alloc_failure },
	{ "type_name", test_unixfs__type_name },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "unixfs", .pTests = unixfs_tests })
