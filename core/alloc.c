/*
 * alloc.c - allocator wrappers with per-thread fault injection.
 *
 * The countdown is thread-local so that a test that injects a failure on
 * its own thread never disturbs a background thread.
 */
#include "core/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/banned.h"

static _Thread_local long fail_countdown = -1;
static _Thread_local bool fault_fired;

static bool inject(void)
{
	if (fail_countdown < 0)
		return false;
	if (fail_countdown-- == 0) {
		fault_fired = true;
		return true;
	}
	return false;
}

void efs_alloc_fail_at(long n)
{
	fail_countdown = n;
	fault_fired = false;
}

bool efs_alloc_fault_fired(void)
{
	return fault_fired;
}

void *efs_malloc(size_t size)
{
	if (inject())
		return NULL;
	return malloc(size ? size : 1);
}

void *efs_calloc(size_t n, size_t size)
{
	/* Checked here too: sanitizers abort on calloc's own check. */
	if (size && n > SIZE_MAX / size)
		return NULL;
	if (inject())
		return NULL;
	return calloc(n ? n : 1, size ? size : 1);
}

void *efs_realloc(void *p, size_t size)
{
	if (inject())
		return NULL;
	return realloc(p, size ? size : 1);
}

void *efs_reallocarray(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return efs_realloc(p, n * size);
}

void *efs_memdup(const void *p, size_t size)
{
	void *q = efs_malloc(size);

	if (q && size)
		memcpy(q, p, size);
	return q;
}

char *efs_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *q = efs_malloc(len + 1);

	if (!q)
		return NULL;
	memcpy(q, s, len);
	q[len] = '\0';
	return q;
}

char *efs_strdup(const char *s)
{
	return efs_strndup(s, SIZE_MAX);
}

void efs_free(void *p)
{
	free(p);
}
