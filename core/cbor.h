/*
 * cbor.h - strict DAG-CBOR (codec 0x71): a streaming encoder into a
 * struct buf and a zero-copy decoder cursor.
 *
 * The data model is the DAG-CBOR subset of CBOR: unsigned and negative
 * integers (64-bit), byte strings, text strings, arrays, maps with
 * text keys, false/true/null, 64-bit floats (no NaN or infinities) and
 * CIDs (tag 42 around a byte string of 0x00 + binary CID).  Everything is
 * encoded the one canonical way: minimal heads, definite lengths, map
 * keys sorted length-first then bytewise, no duplicate keys.  The decoder
 * rejects anything else (EFS_ECORRUPT); that is what makes a block's
 * bytes a function of its value, so CIDs agree with @ipld/dag-cbor and
 * go-ipld-prime.  One exception, as in those two: text is not checked
 * for UTF-8 (blocks with invalid sequences exist).
 *
 * Encoding: call cbor_put_* in document order.  A container is opened
 * with its item count (cbor_put_array(b, 2), cbor_put_map(b, n)) and is
 * complete once that many items (2n for a map: key, value, ...) follow.
 * The caller writes map keys in canonical order (cbor_key_compare); the
 * encoder does not buffer to sort them.
 *
 * Decoding: cbor_dec_init checks the whole item once (strictness, every
 * length against the bytes left, nesting under CBOR_DEPTH_MAX), so the
 * cursor that follows only checks types.  Strings and byte strings it
 * returns point into the input, which must outlive the cursor.
 *
 *	struct cbor_dec d;
 *	size_t n;
 *	if ((rc = cbor_dec_init(&d, data, len)) < 0 ||
 *	    (rc = cbor_get_map(&d, &n)) < 0 ||
 *	    (rc = cbor_get_key(&d, "roots")) < 0) ...
 *
 * All functions are reentrant; a cursor is owned by one thread.
 */
#ifndef EFS_CBOR_H
#define EFS_CBOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/cid.h"

/* Deepest nesting of arrays, maps and tags the decoder accepts. */
#define CBOR_DEPTH_MAX 64

/* The CBOR tag for a CID. */
#define CBOR_TAG_CID 42

enum cbor_type {
	CBOR_END = 0,   /* no item left */
	CBOR_UINT,      /* major type 0 */
	CBOR_NEGINT,    /* major type 1: the value is -1 - n */
	CBOR_BYTES,
	CBOR_TEXT,
	CBOR_ARRAY,
	CBOR_MAP,
	CBOR_CID,       /* tag 42 */
	CBOR_BOOL,
	CBOR_NULL,
	CBOR_FLOAT,
};

/* ---- encoder: each appends to b; returns 0 or buf errors ---- */

int cbor_put_uint(struct buf *b, uint64_t v);
int cbor_put_int(struct buf *b, int64_t v);
/* The negative integer -1 - n (reaches -2^64). */
int cbor_put_negint(struct buf *b, uint64_t n);
int cbor_put_bytes(struct buf *b, const void *p, size_t len);
/* Text of len bytes; the caller vouches that it is UTF-8. */
int cbor_put_text(struct buf *b, const char *s, size_t len);
/* A NUL-terminated text string. */
int cbor_put_str(struct buf *b, const char *s);
/* Open an array of n items or a map of n entries. */
int cbor_put_array(struct buf *b, uint64_t n);
int cbor_put_map(struct buf *b, uint64_t n);
int cbor_put_bool(struct buf *b, bool v);
int cbor_put_null(struct buf *b);
/* A 64-bit float; EFS_EINVAL for NaN and infinities. */
int cbor_put_float(struct buf *b, double v);
int cbor_put_cid(struct buf *b, const struct cid *id);

/* Bytes cbor_put_cid writes for id. */
size_t cbor_cid_size(const struct cid *id);

/*
 * The canonical order of map keys: shorter first, then bytewise.
 * Returns <0, 0 or >0.
 */
int cbor_key_compare(const char *a, size_t alen, const char *b, size_t blen);

/* ---- checks over whole items ---- */

/*
 * Check the single strict DAG-CBOR item at the start of data[0..len)
 * and store its length in out.  Returns 0 or EFS_ECORRUPT.
 */
int cbor_item_size(size_t *out, const uint8_t *data, size_t len);

/* As cbor_item_size, but the item must be all of data. */
int cbor_check(const uint8_t *data, size_t len);

/*
 * Call cb for every CID in the item data[0..len) (all of data), in
 * depth-first document order.  The whole item is checked before cb is
 * first called.  Returns 0, EFS_ECORRUPT or the first non-zero value cb
 * returned.  (links_foreach uses this for dag-cbor blocks.)
 */
int cbor_links(const uint8_t *data, size_t len,
	       int (*cb)(const struct cid *id, void *payload),
	       void *payload);

/* ---- decoder cursor ---- */

struct cbor_dec {
	const uint8_t *p;   /* the checked item; borrowed */
	size_t len;
	size_t pos;         /* next unread byte */
};

/*
 * Check data[0..len) (one item, nothing after it) and point a cursor at
 * its start.  Returns 0 or EFS_ECORRUPT.
 */
int cbor_dec_init(struct cbor_dec *d, const uint8_t *data, size_t len);

/*
 * As cbor_dec_init for the item at the start of data; the bytes after it
 * are not looked at.  d->len is then the item's length.
 */
int cbor_dec_init_prefix(struct cbor_dec *d, const uint8_t *data,
			 size_t len);

/* Type of the next item, CBOR_END when everything has been read. */
enum cbor_type cbor_peek(const struct cbor_dec *d);

/* True when every byte of the item has been read. */
bool cbor_dec_done(const struct cbor_dec *d);

/* Name of a type for messages ("text string"). */
const char *cbor_type_name(enum cbor_type t);

/*
 * Each cbor_get_* reads the next item when it has the expected type and
 * returns 0; otherwise it reads nothing and returns EFS_ECORRUPT with a
 * message naming the type found.  Pointers returned point into the
 * input; text is not NUL-terminated.
 */
int cbor_get_uint(struct cbor_dec *d, uint64_t *out);
/* Either integer type, in range for int64 (EFS_ECORRUPT if not). */
int cbor_get_int(struct cbor_dec *d, int64_t *out);
/* A negative integer; out = n where the value is -1 - n. */
int cbor_get_negint(struct cbor_dec *d, uint64_t *out);
int cbor_get_bytes(struct cbor_dec *d, const uint8_t **out, size_t *len);
int cbor_get_text(struct cbor_dec *d, const char **out, size_t *len);
/* Open an array or map: the count of items / entries goes to out. */
int cbor_get_array(struct cbor_dec *d, size_t *out);
int cbor_get_map(struct cbor_dec *d, size_t *out);
int cbor_get_bool(struct cbor_dec *d, bool *out);
int cbor_get_null(struct cbor_dec *d);
int cbor_get_float(struct cbor_dec *d, double *out);
int cbor_get_cid(struct cbor_dec *d, struct cid *out);

/*
 * Read a map key and require it to be the text key (a struct-like map
 * read field by field).  Returns 0 or EFS_ECORRUPT naming both keys.
 */
int cbor_get_key(struct cbor_dec *d, const char *key);

/* Skip the next item, containers with all they hold.  0 or ECORRUPT. */
int cbor_skip(struct cbor_dec *d);

#endif
