/*
 * dagpb_golden.h - loads tests/data/dagpb/golden.txt (blocks and UnixFS
 * messages written by @ipld/dag-pb, ipfs-unixfs and
 * ipfs-unixfs-importer; see tests/data/dagpb/README.md) for
 * test_dagpb.c and test_unixfs.c.  Test-only: static inline functions, libc
 * allocation (so the allocation-failure loops do not count it).
 */
#ifndef EFS_TESTS_DAGPB_GOLDEN_H
#define EFS_TESTS_DAGPB_GOLDEN_H

#include <stdlib.h>
#include <string.h>

#include "tests/harness.h"

#define GOLDEN_MAX 256

struct golden {
	char kind[16];  /* "block", "datafirst", "unixfs" */
	char name[64];
	char cid[128];  /* "-" for unixfs lines */
	uint8_t *bytes;
	size_t len;
};

struct golden_set {
	struct golden v[GOLDEN_MAX];
	size_t n;
};

/* Copy the next space-delimited word of *s into out. */
static inline int golden_word(char *out, size_t cap, const char **s)
{
	size_t n = strcspn(*s, " \n");

	if (n == 0 || n >= cap)
		return -1;
	memcpy(out, *s, n);
	out[n] = '\0';
	*s += n + ((*s)[n] == ' ');
	return 0;
}

static inline int golden_parse_line(struct golden *g, const char *line)
{
	size_t hexlen;
	char *hex;
	long n;

	if (golden_word(g->kind, sizeof(g->kind), &line) < 0 ||
	    golden_word(g->name, sizeof(g->name), &line) < 0 ||
	    golden_word(g->cid, sizeof(g->cid), &line) < 0)
		return -1;
	hexlen = strcspn(line, "\n");
	hex = strndup(line, hexlen);
	g->bytes = malloc(hexlen / 2 + 1);
	if (!hex || !g->bytes) {
		free(hex);
		return -1;
	}
	n = harness_unhex(g->bytes, hexlen / 2 + 1, hex);
	free(hex);
	if (n < 0)
		return -1;
	g->len = (size_t)n;
	return 0;
}

static inline void golden_free(struct golden_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->v[i].bytes);
	set->n = 0;
}

/* Load golden.txt; fails the current test (and returns -1) on error. */
static inline int golden_load(struct golden_set *set)
{
	struct buf file = BUF_INIT(BUF_NOCAP);
	const char *line;

	set->n = 0;
	if (harness_read_data(&file, "dagpb/golden.txt") < 0)
		return -1;
	line = (const char *)file.ptr;
	while (line && *line) {
		const char *next = strchr(line, '\n');

		CU_ASSERT_FATAL(set->n < GOLDEN_MAX);
		if (golden_parse_line(&set->v[set->n], line) < 0) {
			CU_FAIL("bad line in golden.txt");
			break;
		}
		set->n++;
		line = next ? next + 1 : NULL;
	}
	buf_release(&file);
	CU_ASSERT(set->n > 50);
	return 0;
}

/* The line named name; fails the test when missing. */
static inline const struct golden *golden_find(const struct golden_set *set,
					const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->v[i].name, name))
			return &set->v[i];
	CU_FAIL_FATAL("golden vector missing");
	return NULL;
}

#endif
