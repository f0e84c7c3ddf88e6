/*
 * fuzz_carstream.c - the CARv1 push parser on arbitrary bytes.
 *
 * Properties: the same blocks and the same code whether the bytes come
 * whole, one at a time or in pieces of 7; and for input that core/car.h's
 * memory reader opens as a CARv1, the parser succeeds exactly when the
 * reader reads every section, with the same blocks.
 */
#include <stdlib.h>
#include <string.h>

#include "core/car.h"
#include "core/error.h"
#include "retrieval/carstream.h"

struct seen {
	uint64_t n;
	uint64_t hash;           /* FNV-1a over CIDs and block bytes */
};

static void mix(struct seen *s, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		s->hash = (s->hash ^ p[i]) * 1099511628211ull;
}

static void see(struct seen *s, const struct cid *id, const uint8_t *data,
		size_t len)
{
	uint8_t b[CID_BYTES_MAX];

	s->n++;
	mix(s, b, cid_to_bytes(b, id));
	mix(s, data, len);
}

static int on_block(void *cls, const struct cid *id, const uint8_t *data,
		    size_t len)
{
	see(cls, id, data, len);
	return 0;
}

static int feed(struct seen *s, const uint8_t *data, size_t size,
		size_t step)
{
	struct carstream cs;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	carstream_init(&cs, 0, on_block, s);
	for (size_t pos = 0; pos < size && rc == 0; pos += step)
		rc = carstream_feed(&cs, data + pos,
				    size - pos < step ? size - pos : step);
	if (rc == 0)
		rc = carstream_finish(&cs);
	carstream_release(&cs);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen whole, one, seven, ref = { 0, 0 };
	struct car_reader *rd;
	struct car_block b;
	int rc = feed(&whole, data, size, size ? size : 1);

	if (feed(&one, data, size, 1) != rc ||
	    feed(&seven, data, size, 7) != rc || one.n != whole.n ||
	    seven.n != whole.n || one.hash != whole.hash ||
	    seven.hash != whole.hash)
		abort();
	if (car_reader_open_mem(&rd, data, size) != 0)
		return 0;
	if (car_reader_version(rd) == 1) {
		int rr;

		while ((rr = car_reader_next(rd, &b)) == 0)
			see(&ref, &b.info.id, b.data, b.info.block_len);
		if ((rr == EFS_ITEROVER) != (rc == 0))
			abort();
		if (rc == 0 && (ref.n != whole.n || ref.hash != whole.hash))
			abort();
	}
	car_reader_free(rd);
	return 0;
}
