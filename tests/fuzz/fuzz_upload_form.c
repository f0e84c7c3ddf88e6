/*
 * fuzz_upload_form.c - POST /content/add's reading of a request
 * (api/api_upload_form.c).  Input: up to the first NUL, the
 * Content-Type header; after it, the body.  Any bytes must be taken or
 * refused; every part taken must lie inside the body, have a name, and
 * the reader must end in EFS_ITEROVER or one error that sticks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_upload.h"
#include "core/error.h"

#define CTYPE_MAX 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char b[API_UPLOAD_BOUNDARY_MAX + 1], ctype[CTYPE_MAX];
	const uint8_t *nul = memchr(data, 0, size);
	const uint8_t *body = nul ? nul + 1 : data + size;
	size_t clen = nul ? (size_t)(nul - data) : size;
	size_t blen = (size_t)(data + size - body);
	struct api_upload_form f;
	struct api_upload_part p;
	int rc;

	if (clen >= CTYPE_MAX)
		return 0;
	memcpy(ctype, data, clen);
	ctype[clen] = '\0';
	if (api_upload_form_boundary(b, ctype) < 0) {
		if (b[0])
			abort();
		/* read the body with a fixed boundary all the same */
		memcpy(b, "B", 2);
	}
	if (!b[0] || strlen(b) > API_UPLOAD_BOUNDARY_MAX)
		abort();
	api_upload_form_init(&f, body, blen, b);
	while ((rc = api_upload_form_next(&f, &p)) == 0) {
		if (!p.name[0] || p.data < body || p.data + p.len > body + blen)
			abort();
		if (!p.has_filename && p.filename[0])
			abort();
	}
	if (api_upload_form_next(&f, &p) != rc)
		abort();
	if (rc != EFS_ITEROVER && rc != EFS_ECORRUPT)
		abort();
	return 0;
}
