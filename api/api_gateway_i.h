/*
 * api_gateway_i.h - what the gateway's files share (api_gateway.c: the
 * route, paths and files; api_gateway_dir.c: directory listings and
 * content types; api_gateway_car.c: CAR streams).  Internal to api/.
 */
#ifndef EFS_API_API_GATEWAY_I_H
#define EFS_API_API_GATEWAY_I_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api_gateway_req.h"
#include "api/api_i.h"
#include "core/blockio.h"
#include "core/buf.h"
#include "core/cid.h"

struct retriever;

/* "public, max-age=29030400, immutable": every /ipfs/ reply. */
#define GW_CACHE_IMMUTABLE "public, max-age=29030400, immutable"

/*
 * Where the gateway's blocks come from: the retriever's source when the
 * daemon runs one (local blocks at once; evicted ones fetched, verified
 * and stored; absent ones asked of SPs and IPNI through retriever_fetch),
 * else the blockstore alone.  With record set, every CID read is
 * appended to rec (the blocks a CAR needs to prove its path).  Heap
 * allocated: a streamed reply owns it until the reply ends.
 */
struct gw_src {
	struct blockio_source io;   /* what readers call: gw_src itself */
	struct blockio_source base; /* the retriever's or the store's */
	struct retriever *retr;	    /* or NULL */
	struct api_server *s;
	bool record;
	struct cid *rec;
	size_t nrec, rec_cap;
};

/* A source over s's blockstore (bs) and retriever (may be NULL).
 * NULL when out of memory. */
struct gw_src *api_gateway_src_new(struct api_server *s, struct bstore *bs,
				   struct retriever *retr);
void api_gateway_src_free(struct gw_src *g);

/*
 * Walk r's segments from its root; the CID at the end goes to out and,
 * when roots is not NULL, the CID each segment reached to roots[i + 1]
 * (roots[0] is the root; roots holds r->nsegs + 1).  Returns 0,
 * EFS_ENOTFOUND (a name is missing, or the path goes through something
 * that is not a directory: the message names the path), or the source's
 * errors.
 */
int api_gateway_resolve(struct cid *out, struct cid *roots, struct gw_src *src,
			const struct api_gateway_req *r);

/* Reply to a failed read of what what names (a path, a CID): 404, 502,
 * 503, 504 or 500 as rc says, with efs_error_msg() as details. */
void api_gateway_reply_rc(struct http_req *req, int rc);

/*
 * Append s[0..n) to out percent-encoded for a URL path: every byte but
 * the unreserved ones (A-Z a-z 0-9 - . _ ~) and, when keep_slash, '/'.
 * Returns buf_add's codes.
 */
int api_gateway_url_encode(struct buf *out, const char *s, size_t n,
			   bool keep_slash);

/* The request's path re-encoded: "/ipfs/CID/a%20b[/]" (the CID as the
 * client wrote it is not kept: its canonical string is used). */
int api_gateway_request_url(struct buf *out, const struct api_gateway_req *r);

/* True when the request's If-None-Match names etag (quoted) or is "*". */
bool api_gateway_etag_matches(struct http_req *req, const char *etag);

/* ---- api_gateway_dir.c ---- */

/*
 * The Content-Type of a file named name (may be NULL) whose first bytes
 * are head[0..n): by the name's extension, else by the bytes (HTML,
 * images, PDF, archives, UTF-8 text), else application/octet-stream.
 * A static string.
 */
const char *api_gateway_dir_mime(const char *name, const uint8_t *head,
				 size_t n);

/* Reply with the HTML listing of directory dir (path r, already
 * resolved): escaped names, sizes (the links' Tsize), links. */
void api_gateway_dir_listing(struct http_req *req, struct gw_src *src,
			     const struct api_gateway_req *r,
			     const struct cid *dir);

/* Append s[0..n) escaped for HTML text and attributes; bytes that are not
 * UTF-8, and control characters, become U+FFFD. */
int api_gateway_dir_html_escape(struct buf *out, const char *s, size_t n);

/* ---- api_gateway_car.c ---- */

/*
 * Reply with the CAR r asks for (format CAR): the path resolved first
 * (404 and the like before anything is sent), then the stream: header
 * {roots: [r->root]}, the blocks proving the path, the blocks dag-scope
 * and entity-bytes select, depth-first, children in link order.  Takes
 * src (freed when the reply ends).
 */
void api_gateway_car_reply(struct http_req *req, struct gw_src *src,
			   const struct api_gateway_req *r);

#endif
