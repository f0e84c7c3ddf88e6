/*
 * api_upload_import.c - POST /car/import (docs/api.md "CAR import"): the
 * daemon's side of `estuaryfs car import` and `estuaryfs add` when a
 * daemon holds the repository.
 *
 *	POST|PUT /car/import[?pin-roots=true|false]   WRITE
 *	body: a CARv1 or CARv2 (application/vnd.ipld.car or
 *	application/octet-stream, usually chunked)
 *	200 {"roots":[CID...],"pinned":[CID...],"blocks":N,"bytes":N}
 *	400 {"error":{"reason":"BAD_CAR","details":"car: ..."}}
 *
 * Design notes:
 * - The body is streamed (api_body_stream) through the CAR push reader
 *   (api_upload.h): each block is hashed once on arrival and stored;
 *   nothing is grafted or committed, and links are not followed (a CAR
 *   may hold part of a DAG, as `car import` allows).
 * - At the end: bstore_sync_since, then each root pinned as the local
 *   `car import` does (bstore_pin_once, the pin name "cli:car-import":
 *   an import repeated adds no pin), unless pin-roots=false; the root
 *   bafkqaaa (ipfs-car's placeholder for a root not known when the
 *   header was written) is never pinned.  A bad CAR pins nothing; the
 *   blocks stored before the fault are unreferenced, for gc.
 * - blocks and bytes count the blocks stored (identity CIDs carry their
 *   bytes in the CID: not stored, not counted).
 */
#define LOG_TOPIC "api"

#include "api/api_upload_i.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "api/api_upload.h"
#include "core/alloc.h"
#include "core/bstore.h"
#include "core/error.h"
#include "core/log.h"

#include "core/banned.h"

struct import {
	struct http_req *req;
	struct bstore *bs;
	struct api_upload_car car;
	bool pin_roots;
	bool chunk_failed;	/* the body was refused midway */
	bool store_failed;	/* ... by the blockstore */
	uint64_t mark;		/* bstore_errseq at the start */
	uint64_t blocks, bytes; /* stored */
};

static int import_block(void *cls, const struct cid *id, const uint8_t *data,
			size_t len)
{
	struct import *im = cls;
	char str[CID_STR_MAX];
	int rc;

	if (cid_is_identity(id))
		return 0;
	rc = bstore_put(im->bs, id, data, len);
	if (rc == EFS_ECORRUPT || rc == EFS_EUNSUPPORTED || rc == EFS_ETOOBIG)
		return efs_error_set(rc, "car: block %s: %s",
				     cid_tostr(str, id), efs_error_msg());
	if (rc < 0) {
		im->store_failed = true;
		return rc;
	}
	im->blocks++;
	im->bytes += len;
	return 0;
}

static int import_chunk(void *cls, struct http_req *req, const uint8_t *data,
			size_t len)
{
	struct import *im = cls;
	int rc = api_upload_car_feed(&im->car, data, len);

	if (rc < 0)
		im->chunk_failed = true;
	return rc;
}

/* The roots pinned (unless pin-roots=false or the placeholder) into
 * pinned, all of them into roots. */
static int import_pin(struct import *im, json_t *roots, json_t *pinned)
{
	char str[CID_STR_MAX];
	const struct cid *v;
	size_t n;
	int rc;

	v = api_upload_car_roots(&im->car, &n);
	for (size_t i = 0; i < n; i++) {
		cid_tostr(str, &v[i]);
		if (json_array_append_new(roots, json_string(str)) < 0)
			return efs_error_set(EFS_ENOMEM, "out of memory");
		if (!im->pin_roots ||
		    strcmp(str, API_UPLOAD_PLACEHOLDER_ROOT) == 0)
			continue;
		rc =
		    bstore_pin_once(NULL, im->bs, &v[i], API_UPLOAD_IMPORT_PIN);
		if (rc < 0)
			return rc;
		if (json_array_append_new(pinned, json_string(str)) < 0)
			return efs_error_set(EFS_ENOMEM, "out of memory");
	}
	return 0;
}

/* The whole CAR is in and read: sync, pin, reply. */
static void import_done(struct import *im)
{
	json_t *roots = json_array(), *pinned = json_array();
	int rc;

	if (!roots || !pinned) {
		rc = efs_error_set(EFS_ENOMEM, "out of memory");
	} else if ((rc = bstore_sync_since(im->bs, &im->mark)) == 0 &&
		   (rc = import_pin(im, roots, pinned)) == 0) {
		efs_log_notice("car import: %llu blocks, %llu bytes, %zu "
			       "roots pinned",
			       (unsigned long long)im->blocks,
			       (unsigned long long)im->bytes,
			       json_array_size(pinned));
		api_reply_result(im->req, 0,
				 json_pack("{s:O,s:O,s:I,s:I}", "roots", roots,
					   "pinned", pinned, "blocks",
					   (json_int_t)im->blocks, "bytes",
					   (json_int_t)im->bytes));
	}
	if (rc == EFS_ENOSPC)
		api_reply_error(im->req, 507, "INSUFFICIENT_STORAGE", "%s",
				efs_error_msg());
	else if (rc < 0)
		api_reply_error(im->req, 500, "INTERNAL", "car import: %s",
				efs_error_msg());
	json_decref(roots);
	json_decref(pinned);
}

static void import_end(void *cls, struct http_req *req, int rc)
{
	struct import *im = cls;

	if (rc == 0 && (rc = api_upload_car_finish(&im->car)) == 0)
		import_done(im);
	else if (http_req_status(req) || (rc == EFS_EIO && !im->chunk_failed))
		efs_log_info("car import stopped: %s", efs_error_msg());
	else if (rc == EFS_ENOSPC || (rc == EFS_ETOOBIG && !im->chunk_failed))
		; /* the frame's 507 or 413 */
	else if (im->store_failed || rc == EFS_ENOMEM)
		api_reply_error(req, 500, "INTERNAL", "car import: %s",
				efs_error_msg());
	else
		api_reply_error(req, 400, "BAD_CAR", "%s", efs_error_msg());
	api_upload_car_release(&im->car);
	efs_free(im);
}

static const struct http_body_ops import_ops = {import_chunk, import_end};

/* pin-roots: absent, "true" or "" true; "false" false; else 400. */
static bool pin_roots_arg(bool *out, struct http_req *req)
{
	const char *v = http_req_query(req, "pin-roots");

	*out = !v || !*v || strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
	if (*out || strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		return true;
	api_reply_error(req, 400, "BAD_REQUEST",
			"pin-roots: want true or "
			"false, not \"%s\"",
			v);
	return false;
}

/* A Content-Type a CAR may come with: none, the CAR type, octets. */
static bool car_type(const char *t)
{
	return !t || !*t ||
	       strncasecmp(t, "application/vnd.ipld.car", 24) == 0 ||
	       strncasecmp(t, "application/octet-stream", 24) == 0;
}

void api_upload_import(struct http_req *req, struct api_server *s)
{
	const char *method = http_req_method(req);
	/* no block count cap: it bounds add-car's link check, not run here */
	struct api_upload_car_opts o = {.on_block = import_block,
					.max_blocks = SIZE_MAX};
	struct import *im;
	struct bstore *bs;
	bool pin_roots;

	if (strcmp(method, "POST") != 0 && strcmp(method, "PUT") != 0) {
		http_resp_header(req, "Allow", "POST, PUT");
		api_reply_error(req, 405, "METHOD_NOT_ALLOWED",
				"%s is not allowed on /car/import", method);
		return;
	}
	if (!car_type(http_req_header(req, "Content-Type"))) {
		api_reply_error(req, 415, "UNSUPPORTED_MEDIA_TYPE",
				"want a CAR (Content-Type "
				"application/vnd.ipld.car), not %s",
				http_req_header(req, "Content-Type"));
		return;
	}
	if (!pin_roots_arg(&pin_roots, req) || !(bs = api_need_bstore(req, s)))
		return;
	if (!(im = efs_calloc(1, sizeof(*im)))) {
		api_reply_error(req, 500, "INTERNAL", "out of memory");
		return;
	}
	im->req = req;
	im->bs = bs;
	im->pin_roots = pin_roots;
	im->mark = bstore_errseq(bs);
	o.cls = im;
	api_upload_car_init(&im->car, &o);
	api_body_stream(req, s, &import_ops, im);
}
