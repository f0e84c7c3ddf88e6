/*
 * fuzz_multiaddr.c - binary and text multiaddrs.  Bytes that validate
 * must format to text that parses back to exactly those bytes, and their
 * HTTP URL (when there is one) must be a NUL-terminated string of the
 * length returned; text that parses must format and parse to the same
 * bytes again.  A broken round trip aborts so libFuzzer reports it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/multiaddr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Text is at most 9 bytes a byte of input ("/p2p-stardust" from 2
 * bytes); a URL holds a host and a port. */
#define TEXT_CAP(n) ((n) * 10 + 16)

static void check_bytes(const uint8_t *data, size_t size)
{
	char *s = malloc(TEXT_CAP(size)), url[MULTIADDR_URL_MAX * 2];
	uint8_t *back = malloc(size + 1);
	int v = multiaddr_validate(data, size);
	long n, u;

	if (!s || !back)
		abort();
	n = multiaddr_format(s, TEXT_CAP(size), data, size);
	u = multiaddr_http_url(url, sizeof(url), data, size);
	if (v < 0 && (n != v || u != v))
		abort();
	if (v == 0 && (n <= 0 || (size_t)n != strlen(s)))
		abort();
	if (u >= 0 && ((size_t)u != strlen(url) || strncmp(url, "http", 4)))
		abort();
	if (v == 0 && u < 0 && u != EFS_EUNSUPPORTED)
		abort();
	if (v == 0 && (multiaddr_parse(back, size + 1, s, (size_t)n) !=
			       (long)size ||
		       memcmp(back, data, size)))
		abort();
	free(s);
	free(back);
}

static void check_text(const uint8_t *data, size_t size)
{
	/* Bytes are at most 17 for 7 characters ("/ip6/::"). */
	size_t cap = size * 3 + 32;
	uint8_t *b = malloc(cap), *b2 = malloc(cap);
	char *s = malloc(TEXT_CAP(cap));
	long n, t;

	if (!b || !b2 || !s)
		abort();
	n = multiaddr_parse(b, cap, (const char *)data, size);
	if (n >= 0) {
		if (multiaddr_validate(b, (size_t)n) < 0)
			abort();
		t = multiaddr_format(s, TEXT_CAP(cap), b, (size_t)n);
		if (t <= 0 || multiaddr_parse(b2, cap, s, (size_t)t) != n ||
		    memcmp(b, b2, (size_t)n))
			abort();
	}
	free(b);
	free(b2);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_bytes(data, size);
	check_text(data, size);
	return 0;
}
