/*
 * fuzz_upload_car.c - the CAR push reader of POST /content/add-car and
 * /car/import (api/api_upload_car.c).  Input: byte 0 seeds the split
 * into pieces and says whether add-car's checks (one root, links) are
 * on; the rest is the request body.  Any bytes must be taken or refused
 * without a crash; fed whole or in random pieces the reader must give
 * the same result and the same blocks; a CAR taken with add-car's
 * checks has its root among its blocks.
 */
#include <stdint.h>
#include <stdlib.h>

#include "api/api_upload.h"
#include "core/error.h"
#include "core/memstore.h"

/* Few blocks, so that inputs stay fast. */
#define BLOCKS_MAX 4096

static bool has(void *cls, const struct cid *id)
{
	return memstore_has(cls, id);
}

static int put(void *cls, const struct cid *id, const uint8_t *data, size_t len)
{
	return memstore_put(cls, id, data, len);
}

/* Read data[0..size) in pieces drawn from seed (0: whole) into ms. */
static int run(struct memstore *ms, uint64_t *blocks, const uint8_t *data,
	       size_t size, uint32_t seed, bool checks)
{
	struct api_upload_car_opts o = {.one_root = checks,
					.links = checks,
					.max_blocks = BLOCKS_MAX,
					.has = has,
					.on_block = put,
					.cls = ms};
	struct api_upload_car c;
	const struct cid *roots;
	size_t at = 0, n;
	int rc = 0;

	api_upload_car_init(&c, &o);
	while (rc == 0 && at < size) {
		n = size - at;
		if (seed) {
			seed ^= seed << 13;
			seed ^= seed >> 17;
			seed ^= seed << 5;
			n = 1 + seed % 257;
			if (n > size - at)
				n = size - at;
		}
		rc = api_upload_car_feed(&c, data + at, n);
		at += n;
	}
	if (rc == 0)
		rc = api_upload_car_finish(&c);
	if (api_upload_car_finish(&c) != rc)
		abort();
	roots = api_upload_car_roots(&c, &n);
	if (rc == 0 && checks &&
	    (n != 1 || cid_is_identity(&roots[0]) ||
	     !memstore_has(ms, &roots[0])))
		abort();
	*blocks = c.blocks;
	api_upload_car_release(&c);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct memstore *a = NULL, *b = NULL;
	uint64_t na = 0, nb = 0;
	uint32_t seed;
	bool checks;
	int rc;

	if (size < 1)
		return 0;
	seed = 0x9e37u * (data[0] + 1u);
	checks = data[0] & 1;
	if (memstore_new(&a) < 0 || memstore_new(&b) < 0)
		goto out;
	rc = run(a, &na, data + 1, size - 1, 0, checks);
	if (run(b, &nb, data + 1, size - 1, seed, checks) != rc)
		abort();
	if (rc == 0 && (na != nb || memstore_count(a) != memstore_count(b)))
		abort();
	if (rc == 0 && na == 0 && checks)
		abort();
out:
	memstore_free(a);
	memstore_free(b);
	return 0;
}
