/*
 * units.c - sizes with binary suffixes (see units.h).
 */
#include "core/units.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"

#include "core/banned.h"

/* Powers of 1024 by their letter: the shift, or -1. */
static int suffix_shift(const char *s)
{
	static const char letters[] = "kmgt";
	const char *at;

	if (!*s || strcasecmp(s, "b") == 0)
		return 0;
	if (!(at = strchr(letters, s[0] | 0x20)))
		return -1;
	if (s[1] && strcasecmp(s + 1, "b") != 0 &&
	    strcasecmp(s + 1, "ib") != 0)
		return -1;
	return 10 * (int)(at - letters + 1);
}

int units_parse_size(uint64_t *out, const char *s)
{
	unsigned long long v;
	char *end;
	int shift;

	if (*s < '0' || *s > '9')
		goto bad;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || (shift = suffix_shift(end)) < 0 ||
	    v > (UINT64_MAX >> shift))
		goto bad;
	*out = (uint64_t)v << shift;
	return 0;
bad:
	return efs_error_set(EFS_EINVAL, "bad size '%s'", s);
}
