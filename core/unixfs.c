/*
 * unixfs.c - the UnixFS Data message (see unixfs.h).
 *
 * Design notes:
 * - The writer follows ipfs-unixfs 13.1.1 (protons) and boxo's
 *   unixfs.pb: fields in number order, optionals only when set,
 *   blocksizes as one `20 varint` per entry, mtime as `08 secs` plus
 *   `15 nsec` only for 1..999999999.  Which optionals are set is the
 *   caller's choice (filesize on File/Raw nodes only, mode dropped when
 *   it is the default for JS compatibility, ...): the codec writes
 *   exactly what the struct says, so decode + encode gives back the
 *   input bytes for every canonical message.
 * - The reader is strict (unixfs.h) with two tolerances for old or
 *   foreign writers: one packed blocksizes record (`22 len varints...`)
 *   in place of the unpacked run, and an mtime carrying nanoseconds 0,
 *   which the JS writer emits for whole-second times (read as no
 *   fraction).  Type is required (proto2 `required` in boxo).
 * - unixfs_decode walks the message twice, first to validate it and
 *   count blocksizes, then to fill an array of exactly that size, as
 *   dagpb_decode does.
 */
#include "core/unixfs.h"

#include <assert.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/pbwire_i.h"
#include "core/varint.h"

#include "core/banned.h"

/* Data and UnixTime field keys (field number << 3 | wire type). */
#define KEY_TYPE	  0x08
#define KEY_DATA	  0x12
#define KEY_FILESIZE	  0x18
#define KEY_BLOCKSIZE	  0x20
#define KEY_HASH_TYPE	  0x28
#define KEY_FANOUT	  0x30
#define KEY_MODE	  0x38
#define KEY_MTIME	  0x42
#define KEY_MTIME_SECONDS 0x08
#define KEY_MTIME_NSEC	  0x15

#define NSEC_MAX 999999999u

static bool nsec_written(uint32_t nsec)
{
	return nsec >= 1 && nsec <= NSEC_MAX;
}

/* protobuf int64: two's complement in a uint64 varint. */
static int64_t to_int64(uint64_t v)
{
	int64_t s;

	memcpy(&s, &v, sizeof(s));
	return s;
}

static uint64_t from_int64(int64_t s)
{
	uint64_t v;

	memcpy(&v, &s, sizeof(v));
	return v;
}

/* UnixTime { Seconds = 1 (required here); FractionalNanoseconds = 2 }. */
static int decode_mtime(struct unixfs_data *out, const uint8_t *p, size_t len)
{
	struct pbwire r;
	uint32_t field;
	unsigned wire;
	uint64_t secs;
	int error;

	pbwire_init(&r, p, len, "unixfs");
	if (pbwire_done(&r))
		return efs_error_set(EFS_ECORRUPT, "unixfs: mtime without "
						   "seconds");
	if ((error = pbwire_key(&r, &field, &wire)) < 0)
		return error;
	if (field != 1 || wire != PBWIRE_VARINT)
		return efs_error_set(EFS_ECORRUPT, "unixfs: mtime without "
						   "seconds");
	if ((error = pbwire_varint(&r, &secs)) < 0)
		return error;
	out->mtime_sec = to_int64(secs);
	out->mtime_nsec = 0;
	out->has_mtime = true;
	if (pbwire_done(&r))
		return 0;
	if ((error = pbwire_key(&r, &field, &wire)) < 0)
		return error;
	if (field != 2 || wire != PBWIRE_I32)
		return efs_error_set(EFS_ECORRUPT,
				     "unixfs: mtime field %u (wire type %u)",
				     field, wire);
	if ((error = pbwire_fixed32(&r, &out->mtime_nsec)) < 0)
		return error;
	if (out->mtime_nsec > NSEC_MAX)
		return efs_error_set(EFS_ECORRUPT,
				     "unixfs: mtime nanoseconds %u",
				     out->mtime_nsec);
	if (!pbwire_done(&r))
		return efs_error_set(EFS_ECORRUPT,
				     "unixfs: trailing bytes in mtime");
	return 0;
}

/* One packed blocksizes record; sizes may be NULL (count only). */
static int decode_packed(struct unixfs_data *out, uint64_t *sizes,
			 struct pbwire *outer)
{
	struct pbwire r;
	const uint8_t *p;
	size_t n;
	uint64_t v;
	int error;

	if ((error = pbwire_bytes(outer, &p, &n)) < 0)
		return error;
	if (n == 0)
		return efs_error_set(EFS_ECORRUPT,
				     "unixfs: empty packed blocksizes");
	pbwire_init(&r, p, n, "unixfs");
	while (!pbwire_done(&r)) {
		if ((error = pbwire_varint(&r, &v)) < 0)
			return error;
		if (sizes)
			sizes[out->nblocksizes] = v;
		out->nblocksizes++;
	}
	return 0;
}

static unsigned wire_of(uint32_t field)
{
	return field == 2 || field == 8 ? PBWIRE_LEN : PBWIRE_VARINT;
}

static int decode_varint_field(struct unixfs_data *out, uint64_t *sizes,
			       uint32_t field, uint64_t v)
{
	switch (field) {
	case 1:
		if (v > UNIXFS_HAMT_SHARD)
			return efs_error_set(EFS_ECORRUPT,
					     "unixfs: unknown type %llu",
					     (unsigned long long)v);
		out->type = (enum unixfs_type)v;
		break;
	case 3:
		out->filesize = v;
		out->has_filesize = true;
		break;
	case 4:
		if (sizes)
			sizes[out->nblocksizes] = v;
		out->nblocksizes++;
		break;
	case 5:
		out->hash_type = v;
		out->has_hash_type = true;
		break;
	case 6:
		out->fanout = v;
		out->has_fanout = true;
		break;
	case 7:
		if (v > UINT32_MAX)
			return efs_error_set(EFS_ECORRUPT,
					     "unixfs: mode %llu over 32 bits",
					     (unsigned long long)v);
		out->mode = (uint32_t)v;
		out->has_mode = true;
		break;
	}
	return 0;
}

static int decode_field(struct unixfs_data *out, uint64_t *sizes,
			struct pbwire *r, uint32_t field, unsigned wire)
{
	const uint8_t *p;
	size_t n;
	uint64_t v;
	int error;

	if (field == 4 && wire == PBWIRE_LEN)
		return decode_packed(out, sizes, r);
	if (wire != wire_of(field))
		return efs_error_set(EFS_ECORRUPT,
				     "unixfs: wire type %u for field %u", wire,
				     field);
	if (wire == PBWIRE_VARINT) {
		if ((error = pbwire_varint(r, &v)) < 0)
			return error;
		return decode_varint_field(out, sizes, field, v);
	}
	if ((error = pbwire_bytes(r, &p, &n)) < 0)
		return error;
	if (field == 8)
		return decode_mtime(out, p, n);
	out->data = p;
	out->data_len = n;
	out->has_data = true;
	return 0;
}

/*
 * Fields must come in increasing number order; field 4 may repeat
 * (unpacked), or appear once packed.
 */
static int check_order(uint32_t field, unsigned wire, uint32_t last,
		       bool packed)
{
	if (field > 8)
		return efs_error_set(EFS_ECORRUPT, "unixfs: unknown field %u",
				     field);
	if (last == 0 && field != 1)
		return efs_error_set(EFS_ECORRUPT, "unixfs: no type");
	if (field > last)
		return 0;
	if (field == 4 && last == 4 && !packed && wire == PBWIRE_VARINT)
		return 0;
	return efs_error_set(EFS_ECORRUPT, "unixfs: field %u after %u", field,
			     last);
}

/* Walk the message; with sizes == NULL only validate and count. */
static int decode_data(struct unixfs_data *out, uint64_t *sizes,
		       const uint8_t *p, size_t len)
{
	struct pbwire r;
	uint32_t last = 0;
	bool packed = false;
	uint32_t field;
	unsigned wire;
	int error;

	pbwire_init(&r, p, len, "unixfs");
	memset(out, 0, sizeof(*out));
	while (!pbwire_done(&r)) {
		if ((error = pbwire_key(&r, &field, &wire)) < 0)
			return error;
		if ((error = check_order(field, wire, last, packed)) < 0)
			return error;
		if ((error = decode_field(out, sizes, &r, field, wire)) < 0)
			return error;
		packed |= field == 4 && wire == PBWIRE_LEN;
		last = field;
	}
	if (last == 0)
		return efs_error_set(EFS_ECORRUPT, "unixfs: no type");
	return 0;
}

int unixfs_decode(struct unixfs_data *out, const uint8_t *p, size_t len)
{
	uint64_t *sizes;
	int error;

	if ((error = decode_data(out, NULL, p, len)) < 0)
		goto out_clear;
	if (out->nblocksizes == 0)
		return 0;
	sizes = efs_calloc(out->nblocksizes, sizeof(*sizes));
	if (!sizes) {
		error = efs_error_set(EFS_ENOMEM,
				      "unixfs: no memory for %zu blocksizes",
				      out->nblocksizes);
		goto out_clear;
	}
	if ((error = decode_data(out, sizes, p, len)) < 0) {
		efs_free(sizes);
		goto out_clear;
	}
	out->blocksizes = sizes;
	return 0;

out_clear:
	memset(out, 0, sizeof(*out));
	return error;
}

void unixfs_data_release(struct unixfs_data *d)
{
	efs_free(d->blocksizes);
	memset(d, 0, sizeof(*d));
}

static size_t mtime_body_size(const struct unixfs_data *d)
{
	size_t n = 1 + varint_size(from_int64(d->mtime_sec));

	if (nsec_written(d->mtime_nsec))
		n += 5;
	return n;
}

static size_t uint_field_size(bool has, uint64_t v)
{
	return has ? 1 + varint_size(v) : 0;
}

size_t unixfs_encoded_size(const struct unixfs_data *d)
{
	size_t n = 1 + varint_size((uint64_t)d->type);

	if (d->has_data)
		n += pbwire_len_field_size(d->data_len);
	n += uint_field_size(d->has_filesize, d->filesize);
	for (size_t i = 0; i < d->nblocksizes; i++)
		n += 1 + varint_size(d->blocksizes[i]);
	n += uint_field_size(d->has_hash_type, d->hash_type);
	n += uint_field_size(d->has_fanout, d->fanout);
	n += uint_field_size(d->has_mode, d->mode);
	if (d->has_mtime)
		n += pbwire_len_field_size(mtime_body_size(d));
	return n;
}

static uint8_t *put_mtime(uint8_t *w, const struct unixfs_data *d)
{
	w = pbwire_put_uint(w, KEY_MTIME, mtime_body_size(d));
	w = pbwire_put_uint(w, KEY_MTIME_SECONDS, from_int64(d->mtime_sec));
	if (nsec_written(d->mtime_nsec)) {
		*w++ = KEY_MTIME_NSEC;
		*w++ = (uint8_t)d->mtime_nsec;
		*w++ = (uint8_t)(d->mtime_nsec >> 8);
		*w++ = (uint8_t)(d->mtime_nsec >> 16);
		*w++ = (uint8_t)(d->mtime_nsec >> 24);
	}
	return w;
}

static uint8_t *put_fields(uint8_t *w, const struct unixfs_data *d)
{
	w = pbwire_put_uint(w, KEY_TYPE, (uint64_t)d->type);
	if (d->has_data)
		w = pbwire_put_bytes(w, KEY_DATA, d->data, d->data_len);
	if (d->has_filesize)
		w = pbwire_put_uint(w, KEY_FILESIZE, d->filesize);
	for (size_t i = 0; i < d->nblocksizes; i++)
		w = pbwire_put_uint(w, KEY_BLOCKSIZE, d->blocksizes[i]);
	if (d->has_hash_type)
		w = pbwire_put_uint(w, KEY_HASH_TYPE, d->hash_type);
	if (d->has_fanout)
		w = pbwire_put_uint(w, KEY_FANOUT, d->fanout);
	if (d->has_mode)
		w = pbwire_put_uint(w, KEY_MODE, d->mode);
	if (d->has_mtime)
		w = put_mtime(w, d);
	return w;
}

int unixfs_encode(struct buf *out, const struct unixfs_data *d)
{
	size_t size = unixfs_encoded_size(d);
	uint8_t *start;
	uint8_t *end;
	int error;

	if ((unsigned)d->type > UNIXFS_HAMT_SHARD)
		return efs_error_set(EFS_EINVAL, "unixfs: unknown type %d",
				     (int)d->type);
	if (d->has_mtime && d->mtime_nsec > NSEC_MAX)
		return efs_error_set(EFS_EINVAL, "unixfs: mtime nanoseconds %u",
				     d->mtime_nsec);
	if ((error = buf_grow(out, size)) < 0)
		return error;
	start = out->ptr + out->len;
	end = put_fields(start, d);
	assert((size_t)(end - start) == size);
	(void)end;
	out->len += size;
	out->ptr[out->len] = '\0';
	return 0;
}

const char *unixfs_type_name(enum unixfs_type type)
{
	switch (type) {
	case UNIXFS_RAW:
		return "raw";
	case UNIXFS_DIRECTORY:
		return "directory";
	case UNIXFS_FILE:
		return "file";
	case UNIXFS_METADATA:
		return "metadata";
	case UNIXFS_SYMLINK:
		return "symlink";
	case UNIXFS_HAMT_SHARD:
		return "hamt-sharded-directory";
	}
	return "unknown";
}
