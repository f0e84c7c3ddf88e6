/*
 * blockio.c - the trivial sink and the identity-aware fetch (see
 * blockio.h).
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

int blockio_fetch(const struct blockio_source *s, const struct cid *id,
		  struct buf *out)
{
	if (cid_is_identity(id))
		return buf_add(out, id->digest, id->digest_len);
	return blockio_get(s, id, out);
}
