/*
 * fuzz_gateway_req.c - the gateway's reading of a request
 * (api/api_gateway_req.h) and its escaping of names
 * (api/api_gateway_i.h).  Input: lines "path\nformat\naccept\ndag-scope\n
 * entity-bytes\ncar-version\ncar-order\ncar-dups" (an empty or missing
 * line is an absent value).  What parses must hold together: segments
 * non-empty, without '/', never "." or "..", inside the path buffer;
 * entity-bytes only with a CAR and ENTITY scope; a resolved byte range
 * inside the file.  The path, as a name, must escape to HTML without
 * markup and encode to a URL of unreserved bytes and %XX only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_gateway_i.h"
#include "api/api_gateway_req.h"
#include "core/buf.h"

#define TEXT_MAX 8192
#define FIELDS	 8

static void check_req(const struct api_gateway_req *r)
{
	static const uint64_t sizes[] = {0, 1, 1000, UINT64_MAX / 2};

	if (r->nsegs > API_GATEWAY_SEGS_MAX)
		abort();
	for (size_t i = 0; i < r->nsegs; i++) {
		size_t n;
		const char *s = api_gateway_req_seg(r, i, &n);

		if (n == 0 || strlen(s) != n || memchr(s, '/', n) ||
		    strcmp(s, ".") == 0 || strcmp(s, "..") == 0 ||
		    r->seg_off[i] + n >= API_GATEWAY_PATH_MAX)
			abort();
	}
	if (r->has_bytes && (r->format != API_GATEWAY_CAR ||
			     r->scope != API_GATEWAY_SCOPE_ENTITY))
		abort();
	for (size_t i = 0; r->has_bytes && i < 4; i++) {
		uint64_t a, b;

		if (api_gateway_req_bytes(&a, &b, r, sizes[i]) &&
		    (a > b || b >= sizes[i]))
			abort();
	}
}

static void check_escape(const char *s, size_t n)
{
	struct buf b = BUF_INIT(BUF_NOCAP);

	if (api_gateway_dir_html_escape(&b, s, n) == 0 && b.ptr &&
	    (memchr(b.ptr, '<', b.len) || memchr(b.ptr, '>', b.len) ||
	     memchr(b.ptr, '"', b.len) || memchr(b.ptr, '\'', b.len)))
		abort();
	buf_reset(&b);
	if (api_gateway_url_encode(&b, s, n, false) == 0 && b.ptr)
		for (size_t i = 0; i < b.len; i++) {
			char c = (char)b.ptr[i];

			if (!((c >= 'A' && c <= 'Z') ||
			      (c >= 'a' && c <= 'z') ||
			      (c >= '0' && c <= '9') || c == '-' || c == '.' ||
			      c == '_' || c == '~' || c == '%'))
				abort();
		}
	buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct api_gateway_req r;
	char text[TEXT_MAX + 1], *field[FIELDS] = {0}, *p = text;
	struct api_gateway_query q;

	if (size > TEXT_MAX)
		size = TEXT_MAX;
	memcpy(text, data, size);
	text[size] = '\0';
	for (size_t i = 0; i < FIELDS && p; i++) {
		char *nl = strchr(p, '\n');

		if (nl)
			*nl = '\0';
		field[i] = *p ? p : NULL;
		p = nl ? nl + 1 : NULL;
	}
	if (!field[0])
		return 0;
	check_escape(field[0], strlen(field[0]));
	q = (struct api_gateway_query){
	    .format = field[1],
	    .accept = field[2],
	    .dag_scope = field[3],
	    .entity_bytes = field[4],
	    .car_version = field[5],
	    .car_order = field[6],
	    .car_dups = field[7],
	};
	if (api_gateway_req_parse(&r, field[0], &q) == 0)
		check_req(&r);
	return 0;
}
