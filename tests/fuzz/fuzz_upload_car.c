/*
 * fuzz_upload_car.c - POST /content/add-car's check of the CAR it is
 * sent (api/api_upload_car.c), before anything is stored.  Input: the
 * request body.  Any bytes must be taken or refused without a crash; a
 * CAR taken must have a root that is not identity and at least one
 * block, and its blocks must all import (car_import_mem) into a
 * memstore that then holds the root.
 */
#include <stdint.h>
#include <stdlib.h>

#include "api/api_upload.h"
#include "core/alloc.h"
#include "core/car.h"
#include "core/error.h"
#include "core/memstore.h"

/* Few blocks, so that inputs stay fast. */
#define BLOCKS_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_upload_car_info info;
	struct memstore *ms = NULL;
	struct blockio_sink sink;
	struct cid *roots = NULL;
	size_t n;

	if (api_upload_car_check(&info, data, size, BLOCKS_MAX, NULL, NULL) <
	    0)
		return 0;
	if (cid_is_identity(&info.root) || info.blocks == 0)
		abort();
	if (memstore_new(&ms) < 0)
		return 0;
	sink = memstore_sink(ms);
	if (car_import_mem(&roots, &n, &sink, data, size) < 0 || n != 1 ||
	    !memstore_has(ms, &info.root))
		abort();
	efs_free(roots);
	memstore_free(ms);
	return 0;
}
