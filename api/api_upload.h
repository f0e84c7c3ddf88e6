/*
 * api_upload.h - the request parsing behind Estuary's upload routes
 * (api_upload.c: POST /content/add and /content/add-car): a
 * multipart/form-data reader and the check of an uploaded CAR.  Both
 * read a body already in memory (net/http.h collects it, capped by
 * api_server_opts.max_body) and never allocate per byte of it.
 *
 * Multipart (RFC 7578 over RFC 2046):
 *
 *	char b[API_UPLOAD_BOUNDARY_MAX + 1];
 *	struct api_upload_form f;
 *	struct api_upload_part p;
 *
 *	api_upload_form_boundary(b, content_type);
 *	api_upload_form_init(&f, body, len, b);
 *	while ((rc = api_upload_form_next(&f, &p)) == 0)
 *		... p.name, p.filename, p.data[0..p.len) ...
 *	rc == EFS_ITEROVER: the closing boundary was read
 *
 * Threads: reentrant; every object is owned by one thread.
 */
#ifndef EFS_API_API_UPLOAD_H
#define EFS_API_API_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cid.h"

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

/* A form being read; its fields are the reader's own. */
struct api_upload_form {
	const uint8_t *p, *end;      /* what is left of the body */
	char delim[API_UPLOAD_BOUNDARY_MAX + 5]; /* "\r\n--" boundary */
	size_t delim_len;
	unsigned parts;              /* parts read so far */
	bool started, done;
	int err;                     /* sticky error, or 0 */
};

/* One part: name and filename are copied, data points into the body. */
struct api_upload_part {
	char name[API_UPLOAD_NAME_MAX + 1];      /* the form field */
	char filename[API_UPLOAD_NAME_MAX + 1];  /* "" when none was given */
	bool has_filename;
	const uint8_t *data;         /* borrowed from the body */
	size_t len;
};

/* Start reading body[0..len) (borrowed) with boundary (copied; as
 * api_upload_form_boundary gives it). */
void api_upload_form_init(struct api_upload_form *f, const uint8_t *body,
			  size_t len, const char *boundary);

/*
 * The next part into out.  Returns 0; EFS_ITEROVER after the last one
 * (the closing boundary was read; what follows it is ignored, as RFC
 * 2046's epilogue); EFS_ECORRUPT (no opening boundary, a part without a
 * closing one, headers without their blank line or over
 * API_UPLOAD_HEADERS_MAX, a part without Content-Disposition form-data
 * and a name, a name or filename over API_UPLOAD_NAME_MAX, more than
 * API_UPLOAD_PARTS_MAX parts).  After an error, every call returns it.
 */
int api_upload_form_next(struct api_upload_form *f,
			 struct api_upload_part *out);

/* ---- CARs ---- */

/* Most blocks one uploaded CAR may hold. */
#define API_UPLOAD_CAR_BLOCKS_MAX 1000000u

/* Whether block id is already stored (the blockstore), for blocks a CAR
 * links to but does not carry. */
typedef bool (*api_upload_has_fn)(void *cls, const struct cid *id);

/* What api_upload_car_check found. */
struct api_upload_car_info {
	struct cid root;             /* the header's one root */
	uint64_t blocks;             /* sections (duplicates counted) */
	uint64_t bytes;              /* block bytes */
};

/*
 * Check the CAR (v1, or v2 around a v1) in data[0..len) before anything
 * of it is stored: exactly one root, not an identity CID; every section
 * well formed and its block hashing to its CID (car_reader_next); at
 * most max_blocks sections (0: API_UPLOAD_CAR_BLOCKS_MAX); the root
 * among the blocks; and every link of every block (links_foreach) to a
 * block in the CAR, an identity CID, or one has(cls, id) says is
 * stored (has NULL: none is).  Returns 0, EFS_ECORRUPT, EFS_EMISMATCH,
 * EFS_ETOOBIG, EFS_EUNSUPPORTED (a CAR version, hash or codec this
 * build cannot read), EFS_EINVAL (not one root, an identity root, too
 * many blocks, a root or a link missing) or EFS_ENOMEM; the message
 * says which.
 */
int api_upload_car_check(struct api_upload_car_info *out, const uint8_t *data,
			 size_t len, size_t max_blocks, api_upload_has_fn has,
			 void *cls);

#endif
