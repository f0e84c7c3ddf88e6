/*
 * sp_parse.h - the parsers of request headers and parameters the
 * simulated SPs' retrieval endpoints read, apart from the HTTP server so
 * a fuzz target can drive them alone (tests/fuzz/fuzz_sp_http.c):
 *
 *	Range          as Go's http.ServeContent reads it (net/http fs.go
 *	               parseRange), for /piece
 *	Accept         as go-trustless-utils ParseAccept, for /ipfs
 *	entity-bytes   as go-trustless-utils ParseByteRange
 *
 * All functions are reentrant and write only into the caller's memory.
 */
#ifndef EFS_DEVNET_SP_PARSE_H
#define EFS_DEVNET_SP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SP_MIME_CAR "application/vnd.ipld.car"
#define SP_MIME_RAW "application/vnd.ipld.raw"

/* A byte range of a body: start, length (> 0). */
struct sp_range {
	uint64_t start;
	uint64_t len;
};

enum sp_range_result {
	SP_RANGE_NONE,       /* no (usable) Range: the whole body */
	SP_RANGE_ONE,        /* one range, in *out */
	SP_RANGE_INVALID,    /* 416 "invalid range" */
	SP_RANGE_NO_OVERLAP, /* 416 "invalid range: failed to overlap" */
};

/*
 * The Range header h (NULL: none) against a body of size bytes.  Go's
 * rules: "bytes=" then a comma-separated list of "a-b", "a-" or "-n";
 * elements starting past the end are dropped (all dropped: no overlap);
 * several ranges, or ranges adding up past the size, give SP_RANGE_NONE
 * here (the whole body: Go would send multipart/byteranges for the
 * former).
 */
enum sp_range_result sp_parse_range(struct sp_range *out, const char *h,
				    uint64_t size);

/* A content type of the trustless gateway (go-trustless-utils
 * ContentType). */
struct sp_ctype {
	bool raw;           /* application/vnd.ipld.raw, else a CAR */
	bool exact_car;     /* the mime was exactly application/vnd.ipld.car */
	bool unk;           /* order=unk, else dfs */
	bool dups;          /* dups=y (the default) */
	double q;           /* quality, 0..1 */
};

/* The content type the gateway assumes (a CAR, dfs, dups, q 1). */
struct sp_ctype sp_parse_ctype_default(void);

/*
 * ParseAccept: the valid entries of the Accept header h (the CAR and
 * raw types and the two wildcards that mean a CAR, with acceptable
 * parameters), at most max of them, sorted by quality (stable).
 * Returns how many.
 */
size_t sp_parse_accept(struct sp_ctype *out, size_t max, const char *h);

/*
 * ParseByteRange: "from:to" with from and to decimal int64 (signs
 * allowed), to "*" for the end (*to_set false).  Returns false when s is
 * not of that form.
 */
bool sp_parse_entity_bytes(int64_t *from, int64_t *to, bool *to_set,
			   const char *s);

#endif
