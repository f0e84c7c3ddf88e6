/*
 * fuzz_upload_form.c - POST /content/add's multipart push parser
 * (api/api_upload_form.c).  Input: byte 0 seeds the split of the body
 * into pieces; up to the first NUL after it, the Content-Type header;
 * after the NUL, the body.  Any bytes must be taken or refused; the
 * body fed whole and fed in random pieces must give the same parts
 * (names, filenames, bytes) and the same result, callbacks in order
 * (part, data*, part_end), an error that sticks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_upload.h"
#include "core/error.h"

#define CTYPE_MAX 512

/* What the callbacks saw, folded: parts, and a hash of all they got. */
struct seen {
	unsigned parts, ends;
	uint64_t bytes, hash;
	int open;
};

static void mix(struct seen *s, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		s->hash = (s->hash ^ b[i]) * 0x100000001b3ull;
}

static int on_part(void *cls, const struct api_upload_part *p)
{
	struct seen *s = cls;

	if (s->open || !p->name[0] || (!p->has_filename && p->filename[0]))
		abort();
	s->open = 1;
	s->parts++;
	mix(s, p->name, strlen(p->name) + 1);
	mix(s, p->filename, strlen(p->filename) + 1);
	return 0;
}

static int on_data(void *cls, const uint8_t *data, size_t len)
{
	struct seen *s = cls;

	if (!s->open || len == 0)
		abort();
	s->bytes += len;
	mix(s, data, len);
	return 0;
}

static int on_end(void *cls)
{
	struct seen *s = cls;

	if (!s->open)
		abort();
	s->open = 0;
	s->ends++;
	mix(s, "|", 1);
	return 0;
}

static const struct api_upload_form_ops ops = {on_part, on_data, on_end};

/* Feed body[0..len) in pieces drawn from seed (0: whole). */
static int run(struct seen *s, const char *b, const uint8_t *body, size_t len,
	       uint32_t seed)
{
	struct api_upload_form f;
	size_t at = 0;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	api_upload_form_init(&f, b, &ops, s);
	while (rc == 0 && at < len) {
		size_t n = len - at;

		if (seed) {
			seed ^= seed << 13;
			seed ^= seed >> 17;
			seed ^= seed << 5;
			n = 1 + seed % 97;
			if (n > len - at)
				n = len - at;
		}
		rc = api_upload_form_feed(&f, body + at, n);
		at += n;
	}
	if (rc == 0)
		rc = api_upload_form_finish(&f);
	if (api_upload_form_finish(&f) != rc ||
	    api_upload_form_feed(&f, body, len) != (rc ? rc : 0))
		abort();
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char b[API_UPLOAD_BOUNDARY_MAX + 1], ctype[CTYPE_MAX];
	const uint8_t *nul, *body;
	size_t clen, blen;
	struct seen whole, split;
	uint32_t seed;
	int rc;

	if (size < 1)
		return 0;
	seed = 0x9e37u * (data[0] + 1u);
	data++;
	size--;
	nul = memchr(data, 0, size);
	body = nul ? nul + 1 : data + size;
	clen = nul ? (size_t)(nul - data) : size;
	blen = (size_t)(data + size - body);
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
	rc = run(&whole, b, body, blen, 0);
	if (rc != 0 && rc != EFS_ECORRUPT)
		abort();
	if (run(&split, b, body, blen, seed) != rc)
		abort();
	/* the same parts, whatever the split (an error may come after a
	 * different amount of data was given out: compare on success) */
	if (rc == 0 &&
	    (whole.parts != split.parts || whole.bytes != split.bytes ||
	     whole.hash != split.hash || whole.ends != whole.parts))
		abort();
	return 0;
}
