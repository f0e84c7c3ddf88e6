/*
 * http_range.h - the HTTP Range request header, read the way Go's
 * http.ServeContent reads it (net/http fs.go parseRange), since the
 * clients that pull our bytes (Curio, Boost, lassie) and the servers we
 * imitate (Curio's /piece) are Go.  Shared by the daemon's transfer
 * server (dealer/transfer.c) and the devnet's /piece.
 *
 *	struct http_range r;
 *	switch (http_range_parse(&r, http_req_header(req, "Range"), size)) {
 *	case HTTP_RANGE_ONE:       206, Content-Range, bytes r.start..
 *	case HTTP_RANGE_NONE:
 *	case HTTP_RANGE_MULTI:     200, the whole body
 *	case HTTP_RANGE_INVALID:
 *	case HTTP_RANGE_NO_OVERLAP: 416 (the latter with "bytes * /size")
 *	}
 *
 * Reentrant; writes only into *out; nothing is allocated.  The header
 * text is untrusted: bounded by its NUL, numbers by int64.
 */
#ifndef EFS_NET_HTTP_RANGE_H
#define EFS_NET_HTTP_RANGE_H

#include <stdint.h>

/* A byte range of a body: start, length (> 0), inside the body. */
struct http_range {
	uint64_t start;
	uint64_t len;
};

enum http_range_result {
	HTTP_RANGE_NONE,       /* no Range header (NULL or ""): whole body */
	HTTP_RANGE_ONE,        /* one satisfiable range, in *out */
	HTTP_RANGE_MULTI,      /* several ranges, or ranges adding up past
				  the size: Go answers with the whole body
				  (multipart/byteranges for the former; we
				  send the plain body with 200) */
	HTTP_RANGE_INVALID,    /* 416 "invalid range" (syntax) */
	HTTP_RANGE_NO_OVERLAP, /* 416 "invalid range: failed to overlap":
				  every range starts past the end */
};

/*
 * The Range header h (NULL: none) against a body of size bytes: "bytes="
 * then a comma-separated list of "a-b", "a-" or "-n" (blanks allowed
 * around elements and numbers, empty elements skipped); "b" past the end
 * is clamped, "-n" past the size is the whole body, elements starting at
 * or past the end are dropped (all dropped: HTTP_RANGE_NO_OVERLAP).  *out
 * is set only for HTTP_RANGE_ONE.
 */
enum http_range_result http_range_parse(struct http_range *out, const char *h,
					uint64_t size);

#endif
