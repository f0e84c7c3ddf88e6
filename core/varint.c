/*
 * varint.c - unsigned LEB128 (see varint.h).
 */
#include "core/varint.h"

#include "core/error.h"

#include "core/banned.h"

size_t varint_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

size_t varint_encode(uint8_t *out, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

static int decode(uint64_t *out, size_t *used, const uint8_t *p, size_t len,
		  size_t max_len)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < len && i < max_len; i++) {
		uint64_t b = p[i] & 0x7f;

		if (i == 9 && b > 1)
			return efs_error_set(EFS_ECORRUPT,
					     "varint overflows 64 bits");
		v |= b << (7 * i);
		if (!(p[i] & 0x80)) {
			if (i > 0 && p[i] == 0)
				return efs_error_set(EFS_ECORRUPT,
						     "varint not minimal");
			*out = v;
			*used = i + 1;
			return 0;
		}
	}
	if (i == max_len)
		return efs_error_set(EFS_ECORRUPT, "varint longer than %zu bytes",
				     max_len);
	return efs_error_set(EFS_ECORRUPT, "varint truncated");
}

int varint_decode(uint64_t *out, size_t *used, const uint8_t *p, size_t len)
{
	return decode(out, used, p, len, VARINT_MF_MAX_LEN);
}

int varint_decode_pb(uint64_t *out, size_t *used, const uint8_t *p,
		     size_t len)
{
	return decode(out, used, p, len, VARINT_MAX_LEN);
}
