/*
 * sp_piece.c - GET|HEAD /piece/{pieceCid}: a sealed piece's bytes, as
 * Curio's handleByPieceCid serves them (market/retrieval/piecehandler.go)
 * over Go's http.ServeContent (FRC-0066):
 *
 * - the CID is a piece CID v1 (baga...) or v2 (bafkzcib...); a path
 *   without one is 400, a CID that does not parse 400, a piece this SP
 *   does not hold sealed 404, all with empty bodies;
 * - the body is the raw piece (the bytes the client sent, no zero
 *   padding), with Content-Type sniffed from its first 512 bytes (a CAR
 *   is application/octet-stream), ETag "\"<cid>\"", Cache-Control
 *   "public, max-age=29030400, immutable", Vary Accept-Encoding,
 *   Accept-Ranges bytes and Last-Modified 1970-01-01 (Curio's constant);
 * - Range as ServeContent reads it: one range gives 206 with
 *   Content-Range; a range past the end 416 "invalid range: failed to
 *   overlap" with Content-Range "bytes *\/size"; a malformed one 416
 *   "invalid range"; several ranges are answered with the whole piece
 *   (200), which RFC 9110 allows (Go would send multipart/byteranges);
 *   If-Range not matching the ETag drops the range; If-None-Match
 *   matching it gives 304.
 *
 * Memory: the body goes from the file to the socket with sendfile
 * (http_reply_fd), so serving a piece of any size costs no buffer.  Only
 * the corrupt and truncate faults stream through a 32 KiB-ish callback
 * buffer, to flip bytes or cut the reply short.
 */
#include "contrib/devnet/sp_i.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "contrib/devnet/sp_parse.h"
#include "core/alloc.h"
#include "core/error.h"
#include "net/http.h"
#include "net/http_range.h"

#include "core/banned.h"

#define PIECE_CACHE_CONTROL "public, max-age=29030400, immutable"
#define PIECE_LAST_MODIFIED "Thu, 01 Jan 1970 00:00:00 GMT"
/* Every this many bytes the corrupt fault flips one. */
#define CORRUPT_STRIDE 4096

/* ---- the fault stream ---- */

struct piece_stream {
	int fd;
	uint64_t off;          /* of the body in the file */
	uint64_t len;          /* of the body */
	uint64_t cut;          /* stop (abort) here: len / 2 when truncating */
	bool corrupt;
};

static long piece_read(void *cls, uint64_t pos, uint8_t *buf, size_t max)
{
	struct piece_stream *ps = cls;
	uint64_t left;
	ssize_t n;

	if (pos >= ps->len)
		return HTTP_STREAM_END;
	if (pos >= ps->cut)
		return HTTP_STREAM_ERROR;
	left = ps->cut - pos;
	if (max > left)
		max = (size_t)left;
	n = pread(ps->fd, buf, max, (off_t)(ps->off + pos));
	if (n <= 0)
		return HTTP_STREAM_ERROR;
	if (ps->corrupt) {
		uint64_t first = (pos + CORRUPT_STRIDE - 1) / CORRUPT_STRIDE *
				 CORRUPT_STRIDE;

		for (uint64_t at = first; at < pos + (uint64_t)n;
		     at += CORRUPT_STRIDE)
			buf[at - pos] ^= 0xff;
	}
	return n;
}

static void piece_stream_free(void *cls)
{
	struct piece_stream *ps = cls;

	close(ps->fd);
	efs_free(ps);
}

/* Send len bytes of fd from off, through the faults when any. */
static void send_body(struct http_req *req, unsigned status,
		      const char *ctype, int fd, uint64_t off, uint64_t len,
		      const struct devnet_fault *f)
{
	struct piece_stream *ps;

	if (!f->corrupt_retrieval && !f->truncate_retrieval) {
		http_reply_fd(req, status, ctype, fd, off, len);
		return;
	}
	if (!(ps = efs_calloc(1, sizeof(*ps)))) {
		close(fd);
		http_reply(req, 500, NULL, "", 0);
		return;
	}
	ps->fd = fd;
	ps->off = off;
	ps->len = len;
	ps->cut = f->truncate_retrieval ? len / 2 : len;
	ps->corrupt = f->corrupt_retrieval;
	http_reply_stream(req, status, ctype, len, piece_read, ps,
			  piece_stream_free);
}

/* ---- the request ---- */

/* Find the sealed piece named by cid; 0 or EFS_ENOTFOUND. */
static int find_piece(struct sp_piece *out, struct sp *sp,
		      const struct cid *id)
{
	struct commp_piece want;
	struct db *db;
	int rc;

	if (commp_cid_is_v1(id))
		memcpy(want.root, id->digest, COMMP_NODE_SIZE);
	else if (commp_piece_from_cid(&want, id) < 0)
		return EFS_ENOTFOUND;
	if ((rc = sp_db_open(sp->d, &db)) < 0)
		return rc;
	rc = sp_db_piece_find(out, db, sp->d, sp->m->id, want.root,
			      commp_cid_is_v1(id) ? 0 : want.padded_size, true);
	db_close(db);
	if (rc == 0 && !commp_cid_is_v1(id) &&
	    out->piece.payload_size != want.payload_size)
		rc = EFS_ENOTFOUND;
	return rc;
}

static bool etag_matches(const char *h, const char *etag)
{
	const char *p = h;
	size_t n = strlen(etag);

	if (!h)
		return false;
	if (!strcmp(h, "*"))
		return true;
	while ((p = strstr(p, etag))) {
		if (p[n] == '\0' || p[n] == ',' || p[n] == ' ')
			return true;
		p += n;
	}
	return false;
}

static void add_headers(struct http_req *req, const char *etag,
			const char *ctype, const char *cid_str)
{
	char disp[2 * CID_STR_MAX + 64];

	http_resp_header(req, "Vary", "Accept-Encoding");
	http_resp_header(req, "Cache-Control", PIECE_CACHE_CONTROL);
	if (strcmp(ctype, "application/octet-stream") != 0) {
		snprintf(disp, sizeof(disp),
			 "inline; filename=\"%s.txt\"; filename*=UTF-8''%s.txt",
			 cid_str, cid_str);
		http_resp_header(req, "Content-Disposition", disp);
	}
	http_resp_header(req, "Etag", etag);
	http_resp_header(req, "Last-Modified", PIECE_LAST_MODIFIED);
	http_resp_header(req, "Accept-Ranges", "bytes");
}

static void reply_416(struct http_req *req, enum http_range_result rr,
		      uint64_t size)
{
	char cr[64];

	if (rr == HTTP_RANGE_NO_OVERLAP) {
		snprintf(cr, sizeof(cr), "bytes */%" PRIu64, size);
		http_resp_header(req, "Content-Range", cr);
	}
	http_resp_header(req, "X-Content-Type-Options", "nosniff");
	http_reply_text(req, 416, "%s\n",
			rr == HTTP_RANGE_NO_OVERLAP
				? "invalid range: failed to overlap"
				: "invalid range");
}

static void serve(struct sp *sp, struct http_req *req, const struct cid *id,
		  const struct sp_piece *pc)
{
	char cs[CID_STR_MAX], etag[CID_STR_MAX + 4], cr[96];
	const char *ir = http_req_header(req, "If-Range");
	uint64_t size = pc->piece.payload_size;
	const char *ctype;
	uint8_t head[512];
	struct devnet_fault f;
	enum http_range_result rr;
	struct http_range r;
	ssize_t n;
	int fd;

	if ((fd = open(pc->path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    (n = pread(fd, head, sizeof(head), 0)) < 0) {
		if (fd >= 0)
			close(fd);
		http_reply(req, 500, NULL, "", 0);
		return;
	}
	snprintf(etag, sizeof(etag), "\"%s\"", cid_tostr(cs, id));
	if (etag_matches(http_req_header(req, "If-None-Match"), etag)) {
		close(fd);
		http_resp_header(req, "Etag", etag);
		http_reply(req, 304, NULL, "", 0);
		return;
	}
	rr = http_range_parse(&r, http_req_header(req, "Range"), size);
	if (ir && strcmp(ir, etag) != 0)
		rr = HTTP_RANGE_NONE;
	if (rr == HTTP_RANGE_INVALID || rr == HTTP_RANGE_NO_OVERLAP) {
		close(fd);
		reply_416(req, rr, size);
		return;
	}
	ctype = sp_sniff(head, (size_t)n);
	add_headers(req, etag, ctype, cs);
	devnet_fault_get(sp->d, sp->m, &f);
	if (rr != HTTP_RANGE_ONE) {
		send_body(req, 200, ctype, fd, 0, size, &f);
		return;
	}
	snprintf(cr, sizeof(cr), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64,
		 r.start, r.start + r.len - 1, size);
	http_resp_header(req, "Content-Range", cr);
	send_body(req, 206, ctype, fd, r.start, r.len, &f);
}

void sp_piece_serve(struct sp *sp, struct http_req *req)
{
	const char *method = http_req_method(req);
	const char *s = http_req_path(req) + strlen("/piece/");
	struct sp_piece pc;
	struct cid id;
	int rc;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		http_resp_header(req, "Allow", "GET, HEAD");
		http_reply(req, 405, NULL, "", 0);
		return;
	}
	if (!*s || cid_parse(&id, s) < 0) {
		http_reply(req, 400, NULL, "", 0);
		return;
	}
	rc = find_piece(&pc, sp, &id);
	if (rc == EFS_ENOTFOUND)
		http_reply(req, 404, NULL, "", 0);
	else if (rc < 0)
		http_reply(req, 500, NULL, "", 0);
	else
		serve(sp, req, &id, &pc);
}
