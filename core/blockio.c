/*
 * blockio.c - the trivial sink (see blockio.h).
 */
#include "core/blockio.h"

#include "core/banned.h"

static int null_put(void *payload, const struct cid *id, const uint8_t *data,
		    size_t len)
{
	(void)payload;
	(void)id;
	(void)data;
	(void)len;
	return 0;
}

const struct blockio_sink blockio_null_sink = { null_put, NULL };
