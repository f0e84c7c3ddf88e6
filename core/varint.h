/*
 * varint.h - unsigned LEB128 varints (multiformats unsigned-varint, and
 * protobuf's uint64 varints).  All functions are reentrant.
 */
#ifndef EFS_VARINT_H
#define EFS_VARINT_H

#include <stddef.h>
#include <stdint.h>

/* Longest encoding of a uint64 (protobuf). */
#define VARINT_MAX_LEN 10
/* Longest multiformats varint: 63-bit values in 9 bytes. */
#define VARINT_MF_MAX_LEN 9

/* Bytes needed to encode v. */
size_t varint_size(uint64_t v);

/* Write v at out (room for VARINT_MAX_LEN); returns the bytes written. */
size_t varint_encode(uint8_t *out, uint64_t v);

/*
 * Decode a multiformats varint from p[0..len): minimal form, at most 9
 * bytes.  Stores the value in out and the bytes consumed in used.
 * Returns 0 or EFS_ECORRUPT (truncated, over-long or non-minimal).
 */
int varint_decode(uint64_t *out, size_t *used, const uint8_t *p, size_t len);

/*
 * Decode a protobuf varint: up to 10 bytes, the value must fit in 64
 * bits, and (as @ipld/dag-pb and boxo require for dag-pb) the encoding
 * must be minimal.  Returns 0 or EFS_ECORRUPT.
 */
int varint_decode_pb(uint64_t *out, size_t *used, const uint8_t *p,
		     size_t len);

#endif
