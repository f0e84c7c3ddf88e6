/*
 * fuzz_unixfs.c - unixfs_decode on arbitrary bytes.
 *
 * Properties: decoding fails only with ECORRUPT; whatever it accepts
 * re-encodes to exactly unixfs_encoded_size bytes, and the input is
 * that canonical encoding, or one of the two tolerated variants of it
 * (blocksizes as one packed record; an mtime carrying nanoseconds 0),
 * rebuilt here from the canonical bytes.  Any other difference aborts.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/unixfs.h"
#include "core/varint.h"

static void add(struct buf *b, const void *p, size_t n)
{
	if (buf_add(b, p, n) != 0)
		abort();
}

static void add_varint(struct buf *b, uint64_t v)
{
	uint8_t tmp[VARINT_MAX_LEN];

	add(b, tmp, varint_encode(tmp, v));
}

/* Skip one field of a canonical message; returns its key. */
static uint8_t skip_field(const struct buf *c, size_t *pos)
{
	uint8_t key = c->ptr[*pos];
	uint64_t v;
	size_t used;

	(*pos)++;
	if (varint_decode_pb(&v, &used, c->ptr + *pos, c->len - *pos) != 0)
		abort();
	*pos += used + ((key & 7) == 2 ? v : 0);
	return key;
}

/*
 * The canonical bytes c with the blocksizes run packed and/or the mtime
 * given an explicit zero nanoseconds field.
 */
static void variant(struct buf *out, const struct buf *c,
		    const struct unixfs_data *d, bool packed, bool nsec0)
{
	size_t pos = 0;

	while (pos < c->len) {
		size_t start = pos;
		uint8_t key = skip_field(c, &pos);

		if (key == 0x20 && packed) {
			struct buf body = BUF_INIT(BUF_NOCAP);

			for (size_t i = 0; i < d->nblocksizes; i++)
				add_varint(&body, d->blocksizes[i]);
			add(out, "\x22", 1);
			add_varint(out, body.len);
			add(out, body.ptr, body.len);
			buf_release(&body);
			while (pos < c->len && c->ptr[pos] == 0x20)
				skip_field(c, &pos);
		} else if (key == 0x42 && nsec0) {
			/* The body starts after the key and a 1-byte length. */
			add(out, "\x42", 1);
			add_varint(out, pos - start - 2 + 5);
			add(out, c->ptr + start + 2, pos - start - 2);
			add(out, "\x15\0\0\0\0", 5);
		} else {
			add(out, c->ptr + start, pos - start);
		}
	}
}

static bool same(const struct buf *b, const uint8_t *data, size_t size)
{
	return b->len == size && !memcmp(b->ptr, data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct unixfs_data d;
	struct buf canon = BUF_INIT(BUF_NOCAP);
	bool matched;
	int error = unixfs_decode(&d, data, size);

	if (error == EFS_ECORRUPT)
		return 0;
	if (error != 0 || unixfs_encode(&canon, &d) != 0 ||
	    canon.len != unixfs_encoded_size(&d))
		abort();
	matched = same(&canon, data, size);
	for (int v = 1; v < 4 && !matched; v++) {
		bool packed = v & 1;
		bool nsec0 = v & 2;
		struct buf alt = BUF_INIT(BUF_NOCAP);

		if ((packed && d.nblocksizes == 0) ||
		    (nsec0 && (!d.has_mtime || d.mtime_nsec != 0)))
			continue;
		variant(&alt, &canon, &d, packed, nsec0);
		matched = same(&alt, data, size);
		buf_release(&alt);
	}
	if (!matched)
		abort();
	buf_release(&canon);
	unixfs_data_release(&d);
	return 0;
}
