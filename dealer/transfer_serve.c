/*
 * transfer_serve.c - transfer_handle: GET and HEAD of a deal's payload
 * for the SP that pulls it (see transfer.h for the replies).
 *
 * A pull is one struct pull: the open piece source, the range being
 * sent and the accounting not yet written.  libmicrohttpd asks the
 * stream callback for the next chunk (at most its 64 KiB buffer) at
 * increasing body offsets; the callback reads exactly that from the
 * source into the server's buffer, so a pull of any size holds one
 * chunk.  HEAD replies carry the same headers, and libmicrohttpd never
 * calls the callback for them.
 *
 * The free callback (the reply finished, or the connection was cut)
 * writes the last accounting and closes the source.  Accounting errors
 * are logged, never fatal to the pull.
 */
#define LOG_TOPIC "transfer"

#include "dealer/transfer.h"
#include "dealer/transfer_i.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/log.h"
#include "net/http_range.h"

#include "core/banned.h"

struct pull {
	struct transfer *t;
	void *src;
	uint8_t hash[TRANSFER_HASH_LEN];
	int64_t piece_id;
	char miner[TRANSFER_MINER_MAX + 1];
	char peer[48];
	uint64_t start;        /* first payload byte of the reply */
	uint64_t len;          /* bytes in the reply */
	bool to_end;           /* the reply ends at the payload's end */
	bool head;
	uint64_t reached;      /* body bytes handed to the server */
	uint64_t unflushed;    /* of which not yet accounted */
};

static void flush(struct pull *p, bool done)
{
	const struct transfer_source_ops *ops = p->t->ops;
	uint64_t n = p->unflushed;

	if (!n && !done)
		return;
	p->unflushed = 0;
	if (transfer_account(p->t, p->hash, n, done) < 0)
		efs_log_warn("piece %" PRId64 " to %s: accounting: %s",
			     p->piece_id, p->miner, efs_error_msg());
	if (n && ops->sent)
		ops->sent(p->t->ops_cls, p->piece_id, p->miner, n);
}

static long pull_read(void *cls, uint64_t pos, uint8_t *buf, size_t max)
{
	struct pull *p = cls;
	uint64_t left;
	size_t n;

	if (pos >= p->len)
		return HTTP_STREAM_END;
	left = p->len - pos;
	n = max < left ? max : (size_t)left;
	if (p->t->ops->read(p->src, p->start + pos, buf, n) < 0) {
		efs_log_warn("piece %" PRId64 " to %s (%s): read at %" PRIu64
			     ": %s; cutting the connection",
			     p->piece_id, p->miner, p->peer, p->start + pos,
			     efs_error_msg());
		return HTTP_STREAM_ERROR;
	}
	if (pos + n > p->reached) {
		p->unflushed += pos + n - p->reached;
		p->reached = pos + n;
	}
	if (p->unflushed >= TRANSFER_FLUSH_BYTES)
		flush(p, false);
	return (long)n;
}

static void pull_free(void *cls)
{
	struct pull *p = cls;
	bool done = !p->head && p->to_end && p->reached == p->len;

	flush(p, done);
	efs_log_debug("piece %" PRId64 " to %s (%s): %" PRIu64 " of %" PRIu64
		      " bytes from %" PRIu64 "%s",
		      p->piece_id, p->miner, p->peer, p->reached, p->len,
		      p->start, p->head ? " (HEAD)" : "");
	p->t->ops->close(p->src);
	efs_free(p);
}

static void reply_404(struct http_req *req)
{
	http_reply_text(req, 404, "no such transfer\n");
}

static void reply_416(struct http_req *req, enum http_range_result rr,
		      uint64_t size)
{
	char cr[48];

	if (rr == HTTP_RANGE_NO_OVERLAP) {
		snprintf(cr, sizeof(cr), "bytes */%" PRIu64, size);
		http_resp_header(req, "Content-Range", cr);
	}
	http_reply_text(req, 416, "%s\n",
			rr == HTTP_RANGE_NO_OVERLAP
				? "invalid range: failed to overlap"
				: "invalid range");
}

/* The pull of the live token of req, or a reply already sent (NULL). */
static struct pull *pull_new(struct http_req *req, struct transfer *t)
{
	char token[TRANSFER_TOKEN_MAX];
	struct transfer_row row;
	uint8_t uuid[16];
	bool has_uuid;
	struct pull *p;
	int rc;

	if (transfer_parse_target(token, uuid, &has_uuid, http_req_path(req),
				  http_req_header(req, "Authorization")) < 0) {
		reply_404(req);
		return NULL;
	}
	if (!(p = efs_calloc(1, sizeof(*p)))) {
		http_reply_text(req, 503, "out of memory\n");
		return NULL;
	}
	rc = transfer_hash(p->hash, token);
	explicit_bzero(token, sizeof(token));
	if (rc == 0)
		rc = transfer_lookup(&row, t, p->hash);
	if (rc == 0 && has_uuid && memcmp(uuid, row.uuid, 16) != 0)
		rc = EFS_ENOTFOUND;
	if (rc < 0) {
		if (rc == EFS_ENOTFOUND) {
			reply_404(req);
		} else {
			efs_log_warn("lookup: %s", efs_error_msg());
			http_reply_text(req, 500, "internal error\n");
		}
		efs_free(p);
		return NULL;
	}
	p->t = t;
	p->piece_id = row.piece_id;
	memcpy(p->miner, row.miner, sizeof(p->miner));
	snprintf(p->peer, sizeof(p->peer), "%s", http_req_peer(req));
	p->head = strcmp(http_req_method(req), "HEAD") == 0;
	return p;
}

/* Open p's source and answer; p is taken. */
static void pull_start(struct http_req *req, struct pull *p)
{
	const struct transfer_source_ops *ops = p->t->ops;
	const char *range = http_req_header(req, "Range");
	enum http_range_result rr;
	struct http_range r;
	uint64_t size = 0;
	unsigned status = 200;
	char cr[80];
	int rc;

	if ((rc = ops->open(&p->src, &size, p->t->ops_cls, p->piece_id)) < 0) {
		if (rc == EFS_ENOTFOUND)
			reply_404(req);
		else
			http_reply_text(req, 500, "internal error\n");
		efs_log_warn("piece %" PRId64 " to %s: cannot open: %s",
			     p->piece_id, p->miner, efs_error_msg());
		efs_free(p);
		return;
	}
	/* If-Range without validators to match: the whole body (Go). */
	if (http_req_header(req, "If-Range"))
		range = NULL;
	rr = http_range_parse(&r, range, size);
	if (rr == HTTP_RANGE_INVALID || rr == HTTP_RANGE_NO_OVERLAP) {
		reply_416(req, rr, size);
		ops->close(p->src);
		efs_free(p);
		return;
	}
	http_resp_header(req, "Accept-Ranges", "bytes");
	http_resp_header(req, "Cache-Control", "no-store");
	p->start = 0;
	p->len = size;
	if (rr == HTTP_RANGE_ONE) {
		status = 206;
		p->start = r.start;
		p->len = r.len;
		snprintf(cr, sizeof(cr),
			 "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, r.start,
			 r.start + r.len - 1, size);
		http_resp_header(req, "Content-Range", cr);
	}
	p->to_end = p->start + p->len == size;
	http_reply_stream(req, status, TRANSFER_CTYPE, p->len, pull_read, p,
			  pull_free);
}

void transfer_handle(struct http_req *req, struct transfer *t)
{
	const char *m = http_req_method(req);
	struct pull *p;

	if (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0) {
		http_resp_header(req, "Allow", "GET, HEAD");
		http_reply_text(req, 405, "method not allowed\n");
		return;
	}
	if ((p = pull_new(req, t)))
		pull_start(req, p);
}
