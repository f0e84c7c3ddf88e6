/*
 * mk12_i.h - what the two halves of the mk12 message codec share
 * (mk12.c: the message tables and entry points; mk12_shape.c: the
 * table-driven CBOR encoder, decoder and release); not part of any
 * public interface.
 *
 * Each Go struct of the protocol is described once, by a table of its
 * fields (struct mk12_shape): Go name, kind, where the value sits in our
 * C struct.  The same table drives the encoder, the decoder and release,
 * much as cbor-gen generates one MarshalCBOR/UnmarshalCBOR pair per
 * struct.  Tables are immutable; the functions are reentrant.
 */
#ifndef EFS_MK12_I_H
#define EFS_MK12_I_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/cid.h"

/* How a field's value is stored in C and written in CBOR. */
enum mk12_kind {
	MK12_K_BOOL,
	MK12_K_U64,
	MK12_K_I64,
	MK12_K_STR,     /* char *, NUL-terminated */
	MK12_K_BYTES,   /* struct mk12_bytes */
	MK12_K_UUID,    /* uint8_t[16] */
	MK12_K_CID,     /* struct cid */
	MK12_K_ADDR,    /* struct filaddr */
	MK12_K_BIG,     /* struct bigint */
	MK12_K_LABEL,   /* struct mk12_label */
	MK12_K_SIG,     /* struct filsig */
	MK12_K_STRUCT,  /* another shape */
};

/* Field flags: a Go pointer, null when the bool at has_off is false. */
#define MK12_F_NULLABLE 1u
/* Added by protocol 1.2.1 (left out of the 1.2.0 form). */
#define MK12_F_V121 2u

struct mk12_shape;

/* One Go struct field and where its value sits in the C struct. */
struct mk12_field {
	const char *name;             /* the Go field name (the map key) */
	enum mk12_kind kind;
	size_t off;                   /* of the value in the C struct */
	unsigned flags;               /* MK12_F_* */
	size_t has_off;               /* MK12_F_NULLABLE: of its bool */
	const struct mk12_shape *sub; /* MK12_K_STRUCT */
};

/* A Go struct: its fields in wire order (canonical key order for maps). */
struct mk12_shape {
	const char *name;             /* the Go type name, for messages */
	bool tuple;                   /* an array in field order; else a map */
	const struct mk12_field *fields;
	size_t n;
};

/*
 * Append the CBOR of obj (the C struct s describes) to out, leaving out
 * the fields with a flag in skip (MK12_F_V121: the 1.2.0 form).  Returns
 * 0, EFS_EINVAL (a value Go could not encode) or buf's errors; on
 * failure out keeps its old length.
 */
int mk12_shape_encode(struct buf *out, const struct mk12_shape *s,
		      const void *obj, unsigned skip);

/*
 * Decode all of data[0..len) into out, a C struct of size bytes that s
 * describes (cleared first; released again on failure).  When seen is
 * not NULL and s is a map, bit i of *seen tells whether field i was
 * there.  Returns 0, EFS_ECORRUPT or EFS_ENOMEM.
 */
int mk12_shape_decode(void *out, size_t size, const struct mk12_shape *s,
		      const uint8_t *data, size_t len, uint64_t *seen);

/* Free what obj owns (s describes it) and zero its size bytes. */
void mk12_shape_release(const struct mk12_shape *s, void *obj, size_t size);

/*
 * The CIDv1 (dag-cbor, multihash hash) of the encoding of obj.  Returns
 * 0 or the errors of mk12_shape_encode and cid_hash.
 */
int mk12_shape_cid(struct cid *out, uint64_t hash,
		   const struct mk12_shape *s, const void *obj);

#endif
