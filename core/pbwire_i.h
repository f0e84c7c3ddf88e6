/*
 * pbwire_i.h - protobuf wire-format helpers shared by the dag-pb and
 * UnixFS codecs (internal to core/).
 *
 * Reading: a struct pbwire walks p[0..len); every helper checks bounds
 * and sets an "<who>: ... at offset N" message, so a caller only adds
 * the checks of its own schema.  Varints must be minimal (varint.h).
 * Writing: the callers size their output exactly first, so the put
 * helpers write into memory known to be large enough.  Reentrant; a
 * struct pbwire belongs to one thread.
 */
#ifndef EFS_PBWIRE_I_H
#define EFS_PBWIRE_I_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/error.h"
#include "core/varint.h"

enum pbwire_type {
	PBWIRE_VARINT = 0,
	PBWIRE_I64 = 1,
	PBWIRE_LEN = 2,
	PBWIRE_I32 = 5,
};

struct pbwire {
	const uint8_t *p;
	size_t len;
	size_t pos;
	const char *who; /* message prefix: "dagpb", "unixfs" */
};

static inline void pbwire_init(struct pbwire *r, const uint8_t *p, size_t len,
			       const char *who)
{
	r->p = p;
	r->len = len;
	r->pos = 0;
	r->who = who;
}

static inline bool pbwire_done(const struct pbwire *r)
{
	return r->pos >= r->len;
}

static inline int pbwire_varint(struct pbwire *r, uint64_t *out)
{
	size_t used;

	*out = 0;
	if (varint_decode_pb(out, &used, r->p + r->pos, r->len - r->pos) < 0)
		return efs_error_set(EFS_ECORRUPT,
				     "%s: bad varint at offset %zu", r->who,
				     r->pos);
	r->pos += used;
	return 0;
}

/* A field key: field number (1..2^29-1) and wire type. */
static inline int pbwire_key(struct pbwire *r, uint32_t *field, unsigned *wire)
{
	size_t at = r->pos;
	uint64_t v;
	int error;

	*field = 0;
	*wire = 0;
	if ((error = pbwire_varint(r, &v)) < 0)
		return error;
	if (v >> 3 == 0 || v >> 3 > 0x1fffffff)
		return efs_error_set(EFS_ECORRUPT,
				     "%s: bad field number at offset %zu",
				     r->who, at);
	*field = (uint32_t)(v >> 3);
	*wire = (unsigned)(v & 7);
	return 0;
}

/* A length-delimited value: *out points into the input. */
static inline int pbwire_bytes(struct pbwire *r, const uint8_t **out,
			       size_t *len)
{
	size_t at = r->pos;
	uint64_t n;
	int error;

	*out = NULL;
	*len = 0;
	if ((error = pbwire_varint(r, &n)) < 0)
		return error;
	if (n > r->len - r->pos)
		return efs_error_set(EFS_ECORRUPT,
				     "%s: length %llu at offset %zu past end",
				     r->who, (unsigned long long)n, at);
	*out = r->p + r->pos;
	*len = (size_t)n;
	r->pos += (size_t)n;
	return 0;
}

static inline int pbwire_fixed32(struct pbwire *r, uint32_t *out)
{
	const uint8_t *b = r->p + r->pos;

	*out = 0;
	if (r->len - r->pos < 4)
		return efs_error_set(EFS_ECORRUPT,
				     "%s: truncated fixed32 at offset %zu",
				     r->who, r->pos);
	*out = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
	r->pos += 4;
	return 0;
}

/* Size of a whole length-delimited field whose key is one byte. */
static inline size_t pbwire_len_field_size(size_t n)
{
	return 1 + varint_size(n) + n;
}

static inline uint8_t *pbwire_put_varint(uint8_t *w, uint64_t v)
{
	return w + varint_encode(w, v);
}

/* A one-byte key, then a varint value. */
static inline uint8_t *pbwire_put_uint(uint8_t *w, uint8_t key, uint64_t v)
{
	*w++ = key;
	return pbwire_put_varint(w, v);
}

/* A one-byte key, the length, then n bytes of p. */
static inline uint8_t *pbwire_put_bytes(uint8_t *w, uint8_t key, const void *p,
					size_t n)
{
	w = pbwire_put_uint(w, key, n);
	if (n)
		memcpy(w, p, n);
	return w + n;
}

#endif
