/*
 * carstream.c - the CARv1 push parser (see carstream.h).
 *
 * Two alternating states: reading a length varint (need == 0, its bytes
 * gathered in cs->varint until one has the high bit clear), then reading
 * the item of that length (need > 0, gathered in cs->item).  The first
 * item is the header, handed whole (varint included) to core/car.h's
 * reader, which checks it exactly as it checks any CAR header; every
 * later item is a section.
 */
#include "retrieval/carstream.h"

#include <string.h>

#include "core/car.h"
#include "core/error.h"
#include "core/varint.h"

#include "core/banned.h"

void carstream_init(struct carstream *cs, size_t section_max,
		    carstream_block_fn on_block, void *cls)
{
	memset(cs, 0, sizeof(*cs));
	cs->on_block = on_block;
	cs->cls = cls;
	cs->section_max = section_max ? section_max : CAR_SECTION_MAX;
	buf_init(&cs->item, BUF_NOCAP);
}

void carstream_release(struct carstream *cs)
{
	buf_release(&cs->item);
}

static int fail(struct carstream *cs, int rc)
{
	cs->err = rc;
	return rc;
}

/* The header, varint first, is whole in cs->item. */
static int take_header(struct carstream *cs)
{
	struct car_reader *rd;
	int rc;

	if ((rc = car_reader_open_mem(&rd, cs->item.ptr, cs->item.len)) < 0)
		return rc;
	if (car_reader_version(rd) != 1)
		rc = efs_error_set(EFS_EUNSUPPORTED,
				   "carstream: car version %d, not 1",
				   car_reader_version(rd));
	car_reader_free(rd);
	cs->header_done = rc == 0;
	return rc;
}

/* A section, without its varint, is whole in cs->item. */
static int take_section(struct carstream *cs)
{
	const uint8_t *p = cs->item.ptr;
	size_t len = cs->item.len, used;
	struct cid id;
	int rc;

	if ((rc = cid_from_bytes(&id, &used, p, len)) < 0)
		return efs_error_set(EFS_ECORRUPT,
				     "carstream: bad cid before offset %llu",
				     (unsigned long long)cs->offset);
	if ((rc = cid_verify(&id, p + used, len - used)) < 0)
		return rc;
	cs->blocks++;
	return cs->on_block(cs->cls, &id, p + used, len - used);
}

/* A length varint is whole in cs->varint: start its item. */
static int take_varint(struct carstream *cs)
{
	uint64_t v;
	size_t used;
	size_t cap = cs->header_done ? cs->section_max : CAR_HEADER_MAX;

	if (varint_decode(&v, &used, cs->varint, cs->vlen) < 0 ||
	    used != cs->vlen)
		return efs_error_set(EFS_ECORRUPT,
				     "carstream: bad length varint at %llu",
				     (unsigned long long)cs->offset);
	if (v == 0)
		return efs_error_set(EFS_ECORRUPT,
				     "carstream: empty %s at %llu",
				     cs->header_done ? "section" : "header",
				     (unsigned long long)cs->offset);
	if (v > cap)
		return efs_error_set(EFS_ETOOBIG,
				     "carstream: %s of %llu bytes over %zu",
				     cs->header_done ? "section" : "header",
				     (unsigned long long)v, cap);
	buf_reset(&cs->item);
	/* The header goes to the reader with its varint. */
	if (!cs->header_done && buf_add(&cs->item, cs->varint, cs->vlen) < 0)
		return efs_error_set(EFS_ENOMEM, "carstream: out of memory");
	cs->need = v;
	cs->vlen = 0;
	return 0;
}

int carstream_feed(struct carstream *cs, const uint8_t *data, size_t len)
{
	size_t take;
	int rc;

	if (cs->err)
		return cs->err;
	while (len > 0) {
		if (!cs->need) {
			if (cs->vlen == sizeof(cs->varint))
				return fail(cs, efs_error_set(EFS_ECORRUPT,
					"carstream: length varint too long"));
			cs->varint[cs->vlen++] = *data++;
			len--;
			cs->offset++;
			if (!(cs->varint[cs->vlen - 1] & 0x80) &&
			    (rc = take_varint(cs)) < 0)
				return fail(cs, rc);
			continue;
		}
		take = cs->need < len ? (size_t)cs->need : len;
		if (buf_add(&cs->item, data, take) < 0)
			return fail(cs, efs_error_set(EFS_ENOMEM,
					"carstream: out of memory"));
		data += take;
		len -= take;
		cs->need -= take;
		cs->offset += take;
		if (cs->need)
			continue;
		rc = cs->header_done ? take_section(cs) : take_header(cs);
		if (rc != 0)
			return fail(cs, rc);
	}
	return 0;
}

int carstream_finish(struct carstream *cs)
{
	if (cs->err)
		return cs->err;
	if (!cs->header_done)
		return fail(cs, efs_error_set(EFS_ECORRUPT,
					      "carstream: no header"));
	if (cs->need || cs->vlen)
		return fail(cs, efs_error_set(EFS_ECORRUPT,
			"carstream: stream cut inside a section at %llu",
			(unsigned long long)cs->offset));
	return 0;
}
