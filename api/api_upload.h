/*
 * api_upload.h - the request parsing behind the upload routes
 * (api_upload.c: POST /content/add, /content/add-car, /car/import):
 * a multipart/form-data push parser and a CAR (v1 or v2) push reader.
 * Both are fed the body as it arrives (net/http.h streamed bodies), in
 * pieces of any size, and hold a bounded amount of it whatever its size.
 *
 * Multipart (RFC 7578 over RFC 2046):
 *
 *	char b[API_UPLOAD_BOUNDARY_MAX + 1];
 *	struct api_upload_form f;
 *
 *	api_upload_form_boundary(b, content_type);
 *	api_upload_form_init(&f, b, &ops, cls);
 *	for each piece of body: api_upload_form_feed(&f, p, n);
 *	api_upload_form_finish(&f);   // 0: the closing boundary was read
 *
 * ops->part(cls, part) gets each part's headers, ops->data(cls, p, n)
 * its bytes in pieces, ops->part_end(cls) its closing boundary.
 *
 * CAR: api_upload_car_init / _feed / _finish give every block, hashed
 * once against its CID, to a callback as its section completes.
 *
 * Threads: reentrant; every object is owned by one thread.
 */
#ifndef EFS_API_API_UPLOAD_H
#define EFS_API_API_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/cid.h"
#include "retrieval/carstream.h"

/* RFC 2046: a boundary is 1 to 70 characters. */
#define API_UPLOAD_BOUNDARY_MAX 70
/* Longest field name or filename kept (a UnixFS name: NAME_MAX). */
#define API_UPLOAD_NAME_MAX 255
/* Most bytes of one part's headers. */
#define API_UPLOAD_HEADERS_MAX 8192
/* Most parts in one form. */
#define API_UPLOAD_PARTS_MAX 64

/*
 * The boundary of a Content-Type "multipart/form-data; boundary=B"
 * (B a token or a quoted string; other parameters ignored) into out.
 * Returns 0, or EFS_EINVAL (NULL, another type, no boundary, one that
 * is empty or longer than API_UPLOAD_BOUNDARY_MAX).
 */
int api_upload_form_boundary(char out[API_UPLOAD_BOUNDARY_MAX + 1],
			     const char *content_type);

/* One part's headers: name and filename copied. */
struct api_upload_part {
	char name[API_UPLOAD_NAME_MAX + 1];	/* the form field */
	char filename[API_UPLOAD_NAME_MAX + 1]; /* "" when none was given */
	bool has_filename;
};

/*
 * What the parser calls, in order for each part: part, data (zero or
 * more times, pieces of any size > 0, borrowed for the call), part_end.
 * Each returns 0, or a negative code that stops the parser: feed returns
 * it (and every later call).
 */
struct api_upload_form_ops {
	int (*part)(void *cls, const struct api_upload_part *p);
	int (*data)(void *cls, const uint8_t *data, size_t len);
	int (*part_end)(void *cls);
};

/* A form being read; its fields are the parser's own (no allocation). */
struct api_upload_form {
	const struct api_upload_form_ops *ops;
	void *cls;
	char delim[API_UPLOAD_BOUNDARY_MAX + 5]; /* "\r\n--" boundary */
	size_t delim_len;
	size_t match;	 /* delim bytes matched at the end of
			    what was fed (they were held back) */
	int state;	 /* api_upload_form.c's enum */
	unsigned dashes; /* after a delimiter: '-' seen */
	bool cr;	 /* after a delimiter: CR seen */
	unsigned parts;	 /* parts begun */
	uint64_t offset; /* bytes fed */
	char head[API_UPLOAD_HEADERS_MAX + 4]; /* a part's headers so far */
	size_t head_len;
	int err; /* sticky error, or 0 */
};

/* Start reading a form with boundary (as api_upload_form_boundary gives
 * it; copied); ops borrowed (static storage). */
void api_upload_form_init(struct api_upload_form *f, const char *boundary,
			  const struct api_upload_form_ops *ops, void *cls);

/*
 * Take len more bytes of the body.  Returns 0; or, then and for every
 * later call, EFS_ECORRUPT (a boundary not followed by a line end,
 * headers without their blank line or over API_UPLOAD_HEADERS_MAX, a
 * part without Content-Disposition form-data and a name, a name or
 * filename over API_UPLOAD_NAME_MAX, more than API_UPLOAD_PARTS_MAX
 * parts) or what a callback returned.  Bytes after the closing
 * boundary (RFC 2046's epilogue) are ignored, as is the preamble.
 */
int api_upload_form_feed(struct api_upload_form *f, const uint8_t *data,
			 size_t len);

/*
 * The body ended: 0 when the closing boundary was read, else
 * EFS_ECORRUPT (no opening boundary, a part cut short: truncated) or
 * the sticky error.
 */
int api_upload_form_finish(struct api_upload_form *f);

/* ---- CARs ---- */

/* Most blocks one uploaded CAR may hold. */
#define API_UPLOAD_CAR_BLOCKS_MAX 1000000u
/* Most links waiting at once for a block the CAR has not carried yet
 * (the pending set: about 100 bytes each). */
#define API_UPLOAD_CAR_PENDING_MAX 262144u

/* Whether block id is already stored (the blockstore): for links to
 * blocks a CAR does not carry, and those it carried earlier. */
typedef bool (*api_upload_has_fn)(void *cls, const struct cid *id);

/* Receives each block, verified; id and data borrowed for the call.  A
 * negative return stops the reader and is returned by feed. */
typedef int (*api_upload_block_fn)(void *cls, const struct cid *id,
				   const uint8_t *data, size_t len);

/* What the reader checks beyond framing and hashes. */
struct api_upload_car_opts {
	bool one_root;	       /* exactly one root, not identity, and
				  carried by the CAR (add-car) */
	bool links;	       /* every link of every block resolves:
				  in the CAR, identity, or has() */
	size_t max_blocks;     /* 0: API_UPLOAD_CAR_BLOCKS_MAX */
	api_upload_has_fn has; /* needed with links */
	api_upload_block_fn on_block;
	void *cls; /* has's and on_block's */
};

/* A CAR being read (api_upload_car.c owns the fields). */
struct api_upload_car {
	struct api_upload_car_opts o;
	int stage;	     /* api_upload_car.c's enum */
	bool inner;	     /* reading a CARv2's inner CARv1 */
	struct buf head;     /* a header being gathered */
	bool head_sized;     /* its length varint was read */
	uint64_t head_need;  /* bytes of it still to come */
	uint64_t pos;	     /* bytes of the body taken */
	uint64_t skip;	     /* CARv2 padding left before the data */
	uint64_t end;	     /* where a CARv2's data ends, or
				UINT64_MAX */
	struct carstream cs; /* the sections */
	struct cid *roots;
	size_t nroots;
	int version;	       /* 1 or 2; 0 before the header */
	bool root_seen;	       /* one_root: the root block came */
	uint64_t blocks;       /* sections given to on_block */
	uint64_t bytes;	       /* their block bytes */
	struct {	       /* links: the pending set */
		struct cid *v; /* open addressing; digest_len 0 and
				  hash 0: a free slot */
		size_t cap, n;
		uint64_t seed;
	} pend;
	int err; /* sticky */
};

/* Start reading with opts (copied). */
void api_upload_car_init(struct api_upload_car *c,
			 const struct api_upload_car_opts *opts);

/* Free what it holds. */
void api_upload_car_release(struct api_upload_car *c);

/*
 * Take len more bytes.  Returns 0; or, then and for every later call,
 * EFS_ECORRUPT (framing, a bad header or CID, CARv2 header or offsets),
 * EFS_EMISMATCH (a block that does not hash to its CID), EFS_ETOOBIG (a
 * header or section over its cap), EFS_EUNSUPPORTED (a CAR version,
 * hash or codec this build cannot read), EFS_EINVAL (one_root: not one
 * root, an identity root; too many blocks or pending links),
 * EFS_ENOMEM, or what on_block returned.  Messages begin "car: ".
 */
int api_upload_car_feed(struct api_upload_car *c, const uint8_t *data,
			size_t len);

/*
 * The body ended.  Returns 0 when the CAR was whole (a CARv2 up to the
 * end of its data; what follows, its index, is not read), with, as
 * opts asked, its root carried and every link resolved; else
 * EFS_ECORRUPT (cut short), EFS_EINVAL (the root not in the CAR, a link
 * to a block neither in it nor stored) or the sticky error.
 */
int api_upload_car_finish(struct api_upload_car *c);

/* The header's roots (of the inner CARv1 for a CARv2), once the header
 * was read; borrowed. */
const struct cid *api_upload_car_roots(const struct api_upload_car *c,
				       size_t *n);

#endif
