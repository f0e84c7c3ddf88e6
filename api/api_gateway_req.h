/*
 * api_gateway_req.h - what a gateway request asks for, read from its
 * path, its query and its Accept header: the root CID and the path below
 * it, the response format (deserialized, raw block, CAR) and the CAR
 * parameters of the Trustless Gateway spec (dag-scope, entity-bytes,
 * car-version, car-order, car-dups, and the same as Accept parameters).
 *
 * The path given is the one libmicrohttpd decoded once (%XX already
 * turned into bytes): it is never decoded again, so a name "%41" is asked
 * for as "%2541".  Segments are split on '/'; empty ones ("a//b") are
 * skipped; "." and ".." are refused, whatever the client's normalising.
 *
 * Everything here is pure and reentrant: no allocation, no I/O.
 */
#ifndef EFS_API_GATEWAY_REQ_H
#define EFS_API_GATEWAY_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cid.h"

/* Bytes of the path below the CID, and segments in it. */
#define API_GATEWAY_PATH_MAX 4096
#define API_GATEWAY_SEGS_MAX 128

enum api_gateway_format {
	API_GATEWAY_DESERIALIZED, /* files, listings (the path gateway) */
	API_GATEWAY_RAW,	  /* application/vnd.ipld.raw: one block */
	API_GATEWAY_CAR,	  /* application/vnd.ipld.car: CARv1 */
};

/* dag-scope: which blocks below the path's end a CAR holds. */
enum api_gateway_scope {
	API_GATEWAY_SCOPE_ALL,	  /* the whole DAG (the default) */
	API_GATEWAY_SCOPE_ENTITY, /* a whole file, a directory's own
				     blocks (HAMT shards), else the block */
	API_GATEWAY_SCOPE_BLOCK,  /* the block at the path's end */
};

/* The request's parts the parser reads; NULL when absent. */
struct api_gateway_query {
	const char *format;	  /* ?format= */
	const char *accept;	  /* Accept: header */
	const char *dag_scope;	  /* ?dag-scope= */
	const char *entity_bytes; /* ?entity-bytes= */
	const char *car_version;  /* ?car-version= */
	const char *car_order;	  /* ?car-order= */
	const char *car_dups;	  /* ?car-dups= */
};

struct api_gateway_req {
	struct cid root;
	/* The segments, each NUL-terminated, back to back in path. */
	char path[API_GATEWAY_PATH_MAX];
	uint16_t seg_off[API_GATEWAY_SEGS_MAX];
	uint16_t seg_len[API_GATEWAY_SEGS_MAX];
	size_t nsegs;
	bool trailing_slash; /* the URL path ended in '/' */
	enum api_gateway_format format;
	bool format_in_query; /* chosen by ?format= rather than Accept */
	/* CAR only (left at their defaults otherwise): */
	enum api_gateway_scope scope;
	bool has_bytes;	    /* entity-bytes given (scope is ENTITY) */
	int64_t bytes_from; /* negative: from the end */
	int64_t bytes_to;   /* inclusive; negative: from the end */
	bool bytes_to_end;  /* to was "*" */
	bool dups;	    /* car-dups=y / dups=y: send duplicates */
};

/*
 * Read the request: path is the decoded URL path ("/ipfs/CID/a/b/"),
 * q what the query and headers said.  ?format= wins over Accept; the
 * car-* query parameters win over Accept's parameters.  Returns 0,
 * EFS_EINVAL (400: not /ipfs/, a bad CID, "." or "..", a path or a
 * segment too long, a bad or unsupported format=, dag-scope=,
 * entity-bytes= or car-* value; the message says which) or
 * EFS_EUNSUPPORTED (406: Accept names only formats this gateway does
 * not serve, or a CAR variant it cannot make).
 */
int api_gateway_req_parse(struct api_gateway_req *out, const char *path,
			  const struct api_gateway_query *q);

/* Segment i (NUL-terminated; its length in *len when len is not NULL). */
const char *api_gateway_req_seg(const struct api_gateway_req *r, size_t i,
				size_t *len);

/*
 * Resolve entity-bytes against a file of size bytes: the first and last
 * byte wanted (inclusive) into *first and *last.  Returns true when the
 * range holds at least one byte of the file, false when it is empty or
 * entirely outside (the CAR then holds the file's root block alone).
 */
bool api_gateway_req_bytes(uint64_t *first, uint64_t *last,
			   const struct api_gateway_req *r, uint64_t size);

#endif
