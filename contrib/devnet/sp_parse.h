/*
 * sp_parse.h - the parsers of request headers and parameters the
 * simulated SPs' retrieval endpoints read, apart from the HTTP server so
 * a fuzz target can drive them alone (tests/fuzz/fuzz_sp_http.c):
 *
 *	Accept         as go-trustless-utils ParseAccept, for /ipfs
 *	entity-bytes   as go-trustless-utils ParseByteRange
 *
 * (Range, for /piece, is net/http_range.h, shared with the daemon.)
 * All functions are reentrant and write only into the caller's memory.
 */
#ifndef EFS_DEVNET_SP_PARSE_H
#define EFS_DEVNET_SP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SP_MIME_CAR "application/vnd.ipld.car"
#define SP_MIME_RAW "application/vnd.ipld.raw"

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
