/*
 * mk12_http.h - the transfer parameters of an online mk12 deal.  For
 * Transfer.Type "http" the bytes of Transfer.Params are the JSON of
 * Boost's and Curio's HttpRequest, which the SP reads to pull the CAR:
 *
 *	{"URL":"http://client.example:8080/deal/x.car",
 *	 "Headers":{"Authorization":"Bearer abc"}}
 *
 * The encoder writes exactly what Go's json.Marshal writes for it
 * (Curio's `sptool toolbox mk12-client deal` and Boost's client build
 * it so): fields in that order, no spaces, header names sorted
 * bytewise, "Headers":null when there are none, and Go's string escapes
 * (\" \\ \b \f \n \r \t, \u00XX for other control bytes, \u003c \u003e
 * \u0026 for < > &, \u2028 \u2029, and \ufffd for each byte that is not
 * UTF-8).
 *
 * The decoder reads it as Curio's json.Unmarshal into HttpRequest does:
 * the whole input must be one JSON value; top-level null gives an empty
 * request; member names match "URL" and "Headers" whatever their ASCII
 * case, a later member overriding an earlier one; other members are
 * skipped; "URL": null leaves the URL alone, "Headers": null empties the
 * headers, a header's null value is ""; a repeated "Headers" object adds
 * to the headers already read (as Go fills an existing map); nesting is
 * capped at Go's 10000.  Invalid UTF-8 and lone surrogates become U+FFFD,
 * as in Go.  Stricter than Go: a string holding U+0000 is refused (our
 * strings are C strings).  Errors: EFS_ECORRUPT (not JSON, not an object
 * or null, a member of the wrong JSON type, a NUL), EFS_ENOMEM.
 *
 * Ownership as in mk12.h: a decoded request owns its strings; release it
 * with mk12_http_request_release.  All functions are reentrant.
 */
#ifndef EFS_MK12_HTTP_H
#define EFS_MK12_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct mk12_http_header {
	char *name;
	char *value;
};

struct mk12_http_request {
	char *url;                         /* NULL encodes as "" */
	struct mk12_http_header *headers;  /* nheaders of them */
	size_t nheaders;
};

/*
 * Append the JSON of r to out.  Returns 0, EFS_EINVAL (two headers of
 * one name, which a Go map cannot hold) or the buf errors.
 */
int mk12_http_request_encode(struct buf *out,
			     const struct mk12_http_request *r);

/* Decode the JSON json[0..len) into out (overwritten, not freed). */
int mk12_http_request_decode(struct mk12_http_request *out,
			     const uint8_t *json, size_t len);

/*
 * Set header name to value (copies), replacing one of the same name as
 * a Go map would.  Returns 0 or EFS_ENOMEM.
 */
int mk12_http_request_set_header(struct mk12_http_request *r,
				 const char *name, const char *value);

/* Free what r owns and zero it. */
void mk12_http_request_release(struct mk12_http_request *r);

#endif
