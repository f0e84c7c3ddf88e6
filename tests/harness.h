/*
 * harness.h - what every CUnit test executable shares: the runner (with
 * clar-style "-s suite[:case]" selection and a non-zero exit on any
 * failure), temp directories, test data files and the allocation-failure
 * loop.
 *
 * Each tests/<folder>/test_<module>.c defines its suites with designated
 * initializers and ends with HARNESS_MAIN(suite_a, suite_b, ...).
 */
#ifndef EFS_HARNESS_H
#define EFS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <CUnit/CUnit.h>

#include "core/buf.h"

/* Run the suites (a CU_SUITE_INFO_NULL-terminated array); returns the
 * process exit status: 0 only when everything ran and passed. */
int harness_run(int argc, char **argv, CU_SuiteInfo *suites);

#define HARNESS_MAIN(...)                                           \
	int main(int argc, char **argv)                             \
	{                                                           \
		CU_SuiteInfo all[] = { __VA_ARGS__, CU_SUITE_INFO_NULL }; \
		return harness_run(argc, argv, all);                \
	}

/* Path of tests/data/<name> (from $EFS_TEST_DATA); a static buffer per
 * call site is not used: the result is malloc'd, free it. */
char *harness_data_path(const char *name);

/* Read a whole file into out.  Returns 0 or a negative efs code. */
int harness_read_file(struct buf *out, const char *path);

/* Read tests/data/<name> into out; CU fails the test when missing. */
int harness_read_data(struct buf *out, const char *name);

/* Write len bytes to path (created/truncated). 0 or negative. */
int harness_write_file(const char *path, const void *data, size_t len);

/* A fresh directory under $TMPDIR; free the result with harness_tmpdir_free,
 * which also removes the tree. */
char *harness_tmpdir(void);
void harness_tmpdir_free(char *dir);

/* Deterministic pseudo-random bytes (xorshift64*, seeded). */
void harness_fill_random(uint8_t *out, size_t len, uint64_t seed);

/* The next number of the xorshift64* generator whose state (non-zero) is
 * *x: the one harness_fill_random draws its bytes from. */
uint64_t harness_rand64(uint64_t *x);

/* Hex helpers for golden vectors: decode hex (spaces ignored) into out,
 * returns the byte count or -1. */
long harness_unhex(uint8_t *out, size_t cap, const char *hex);

/*
 * Find the line "<name> <hex>" in the text of a vector file (read with
 * harness_read_data, e.g. tests/data/cbor/golden.txt) and decode its hex
 * into out.  Returns the byte count, or -1 when there is no such line or
 * its hex does not decode into cap bytes.
 */
long harness_vector_hex(uint8_t *out, size_t cap, const struct buf *file,
			const char *name);

/*
 * The same for a line "<name> <text>": its text, NUL-terminated, into
 * out.  Returns the text's length, or -1 when there is no such line or
 * the text does not fit cap bytes with its NUL.
 */
long harness_vector_str(char *out, size_t cap, const struct buf *file,
			const char *name);

/*
 * The allocation-failure loop (curl torture): for n = 0, 1, 2, ... make
 * the n-th allocation fail and call fn(payload).  Each run in which the
 * injected failure fired must return EFS_ENOMEM (a CUnit failure
 * otherwise); the loop ends at the first run in which no failure fired,
 * which must return 0.  fn must clean up after itself either way (ASan
 * reports leaks).  Returns the number of runs.
 */
long harness_alloc_loop(int (*fn)(void *payload), void *payload);

#endif
