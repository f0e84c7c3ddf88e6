/*
 * fuzz_dagreader.c - the DAG reader and the HAMT reader over a DAG made
 * of fuzzed blocks.
 *
 * Input: byte 0 gives the block count n = byte % 8 + 1, then each block
 * is a 2-byte big-endian length and that many bytes (cut short at the
 * end of the input).  Block 0 is the root, named by its dag-pb CIDv1;
 * any other CID is answered with block (first digest byte % n), so the
 * fuzzer can link blocks without finding hashes, cycles included.
 *
 * Properties: nothing crashes or leaks, every call returns 0 or a
 * negative code, and a file's bytes read in one go equal the same bytes
 * read in pieces through a second handle (the path cache must not change
 * what is read).  Any difference aborts.
 */
#include <stdlib.h>
#include <string.h>

#include "core/dagreader.h"
#include "core/error.h"
#include "core/hamt.h"

#define MAX_BLOCKS 8
#define READ_MAX (64 * 1024)

struct blocks {
	const uint8_t *p[MAX_BLOCKS];
	size_t len[MAX_BLOCKS];
	size_t n;
	struct cid root;
};

static int fuzz_get(void *payload, const struct cid *id, struct buf *out)
{
	const struct blocks *b = payload;
	size_t k = 0;

	if (!cid_equal(id, &b->root))
		k = id->digest_len ? id->digest[0] % b->n : 0;
	return buf_add(out, b->p[k], b->len[k]);
}

static void split(struct blocks *b, const uint8_t *data, size_t size)
{
	size_t at = 1;

	b->n = data[0] % MAX_BLOCKS + 1;
	for (size_t i = 0; i < b->n; i++) {
		size_t len = 0;

		if (at + 2 <= size)
			len = (size_t)data[at] << 8 | data[at + 1];
		at = at + 2 <= size ? at + 2 : size;
		if (len > size - at)
			len = size - at;
		b->p[i] = data + at;
		b->len[i] = len;
		at += len;
	}
}

static int count_cb(const char *name, size_t name_len, const struct cid *id,
		    uint64_t tsize, void *payload)
{
	(*(size_t *)payload)++;
	return 0;
}

static void check(int rc)
{
	if (rc > 0)
		abort();
}

/* Read the start of the file whole, then in odd-sized pieces. */
static void read_file(const struct blockio_source *src, const struct cid *id)
{
	struct dagreader_file *f, *g;
	uint8_t *whole, *piece;
	size_t len, n, got = 0;

	if (dagreader_file_open(&f, src, id) != 0)
		return;
	if (dagreader_file_open(&g, src, id) != 0)
		abort();
	len = dagreader_file_size(f) < READ_MAX ? dagreader_file_size(f)
						  : READ_MAX;
	whole = malloc(len + 1);
	piece = malloc(len + 1);
	if (!whole || !piece)
		abort();
	if (dagreader_file_read(whole, &n, f, 0, len) == 0) {
		if (n != len)
			abort();
		for (size_t step = 1; got < len; step = step * 3 + 1) {
			if (dagreader_file_read(piece + got, &n, g, got,
						step) != 0)
				abort();
			got += n;
		}
		if (memcmp(whole, piece, len))
			abort();
	}
	check(dagreader_file_read(whole, &n, f, dagreader_file_size(f) / 2,
				  1));
	free(whole);
	free(piece);
	dagreader_file_close(g);
	dagreader_file_close(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct blocks b;
	struct blockio_source src = { fuzz_get, &b };
	struct buf target = BUF_INIT(4096);
	struct dagreader_stat st;
	struct cid out;
	size_t count = 0;

	if (size == 0)
		return 0;
	split(&b, data, size);
	if (cid_hash(&b.root, 1, CID_CODEC_DAG_PB, MHASH_SHA2_256, b.p[0],
		     b.len[0]) != 0)
		abort();
	check(dagreader_stat(&st, &src, &b.root));
	read_file(&src, &b.root);
	check(dagreader_dir_foreach(&src, &b.root, count_cb, &count));
	check(dagreader_dir_lookup(&out, &src, &b.root, "a", 1));
	check(dagreader_resolve(&out, &src, &b.root, "a/b/c"));
	check(dagreader_symlink_target(&target, &src, &b.root));
	check(hamt_foreach(&src, &b.root, count_cb, &count));
	check(hamt_lookup(&out, &src, &b.root, "a", 1));
	buf_release(&target);
	efs_error_clear();
	return 0;
}
