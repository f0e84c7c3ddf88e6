/*
 * car_i.h - what the CARv1 reader (car.c) and CARv2 random access
 * (carv2.c) share.  Internal to core/.
 */
#ifndef EFS_CAR_I_H
#define EFS_CAR_I_H

#include <stddef.h>
#include <stdint.h>

#include "core/car.h"

/*
 * Decode one section whose bytes are all in memory at p: a length varint
 * of vlen bytes that said slen (> 0), then slen bytes of CID and block.
 * offset is the section's offset from the start of the CARv1.  Fills
 * out->info, points out->section at p and out->data into it, and hashes
 * the block against its CID.  Returns 0, EFS_ECORRUPT (no CID at the
 * start), EFS_EMISMATCH or EFS_EUNSUPPORTED (a hash this build cannot
 * compute).  Reentrant.
 */
int car_section_decode(struct car_block *out, const uint8_t *p, size_t vlen,
		       uint64_t slen, uint64_t offset);

#endif
