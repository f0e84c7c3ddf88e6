/*
 * alloc.h - the project's allocator wrappers.
 *
 * Every allocation in core/, dealer/ and retrieval/ goes through these, so
 * a test can make the n-th allocation fail (curl's torture mode, SQLite's
 * OOM tests) and check that the caller returns EFS_ENOMEM and leaks
 * nothing.  They return NULL on failure; they never abort.
 */
#ifndef EFS_ALLOC_H
#define EFS_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

void *efs_malloc(size_t size);
/* Overflow-checked n * size, zeroed. */
void *efs_calloc(size_t n, size_t size);
void *efs_realloc(void *p, size_t size);
/* Overflow-checked realloc of n * size bytes. */
void *efs_reallocarray(void *p, size_t n, size_t size);
void *efs_memdup(const void *p, size_t size);
char *efs_strdup(const char *s);
char *efs_strndup(const char *s, size_t n);
void efs_free(void *p);

/*
 * Fault injection for tests, per thread: make the n-th allocation from now
 * (0 = the next one) fail, once.  n < 0 turns injection off.
 */
void efs_alloc_fail_at(long n);

/* True when an injected failure fired since the last efs_alloc_fail_at. */
bool efs_alloc_fault_fired(void);

#endif
