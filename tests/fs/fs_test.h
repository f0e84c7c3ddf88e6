/*
 * fs_test.h - what the fs unit tests share: a repository (blockstore and
 * inode table) in a fresh directory, and helpers that build trees in the
 * inode table with real content in the blockstore.  Header-only (static
 * functions), like tests/core/importer_test.h.
 */
#ifndef EFS_TESTS_FS_TEST_H
#define EFS_TESTS_FS_TEST_H

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/bstore.h"
#include "core/importer.h"
#include "core/importer_file.h"
#include "fs/inode.h"
#include "tests/harness.h"

struct fsx {
	char path[4096];
	char db[4200];
	struct bstore *bs;
	struct inode_table *t;
	struct importer_opts iopts;
};

/* Open a repository in dir/name with the given importer profile. */
static inline void fsx_open(struct fsx *f, const char *dir, const char *name,
			    const char *profile)
{
	struct bstore_opts bo = BSTORE_OPTS_INIT;

	snprintf(f->path, sizeof(f->path), "%s/%s", dir, name);
	CU_ASSERT_EQUAL_FATAL(mkdir(f->path, 0755), 0);
	snprintf(f->db, sizeof(f->db), "%s/index.db", f->path);
	CU_ASSERT_EQUAL_FATAL(bstore_open(&f->bs, f->path, &bo), 0);
	CU_ASSERT_EQUAL_FATAL(inode_table_open(&f->t, NULL, f->db, f->bs,
					       NULL),
			      0);
	CU_ASSERT_EQUAL_FATAL(importer_opts_profile(&f->iopts, profile), 0);
	f->iopts.threads = 1;
}

static inline void fsx_close(struct fsx *f)
{
	inode_table_close(f->t);
	f->t = NULL;
	CU_ASSERT_EQUAL(bstore_close(f->bs), 0);
	f->bs = NULL;
}

static inline uint64_t fsx_mk(struct fsx *f, uint64_t parent,
			      const char *name, uint32_t mode)
{
	struct inode_new n = { .mode = mode };
	struct inode_attr a;

	CU_ASSERT_EQUAL_FATAL(inode_create(&a, f->t, parent, name, &n), 0);
	return a.ino;
}

static inline uint64_t fsx_symlink(struct fsx *f, uint64_t parent,
				   const char *name, const char *target)
{
	struct inode_new n = { .mode = S_IFLNK | 0777, .target = target,
			       .target_len = strlen(target) };
	struct inode_attr a;

	CU_ASSERT_EQUAL_FATAL(inode_create(&a, f->t, parent, name, &n), 0);
	return a.ino;
}

/*
 * Give file ino the content data[0..len) as the data path would: import
 * it into the blockstore with the profile, sync, set the content.  With
 * no_tsize the table is told tsize 0 (dircid must then work it out).
 */
static inline void fsx_write(struct fsx *f, uint64_t ino, const void *data,
			     size_t len, bool no_tsize)
{
	struct blockio_sink sink = bstore_sink(f->bs);
	struct importer_file *b;
	struct cid root;
	uint64_t size, tsize;

	CU_ASSERT_EQUAL_FATAL(importer_file_new(&b, &f->iopts, NULL, &sink),
			      0);
	CU_ASSERT_EQUAL_FATAL(importer_file_write(b, data, len), 0);
	CU_ASSERT_EQUAL_FATAL(importer_file_finish(b, &root, &size, &tsize),
			      0);
	importer_file_free(b);
	CU_ASSERT_EQUAL_FATAL(bstore_sync(f->bs), 0);
	CU_ASSERT_EQUAL_FATAL(inode_set_content(f->t, ino, &root, size,
						no_tsize ? 0 : tsize),
			      0);
}

/* The bytes of big.bin in the golden tree: i % 251, 2.5 MiB. */
#define FSX_BIG_LEN 2621440u

static inline void fsx_big(uint8_t *out)
{
	for (size_t i = 0; i < FSX_BIG_LEN; i++)
		out[i] = (uint8_t)(i % 251);
}

/*
 * The golden tree (tests/data/fs/README.md):
 *   hello.txt "hello\n", empty (no bytes), sub/link -> ../hello.txt,
 *   sub/big.bin (FSX_BIG_LEN bytes of i % 251), emptydir/
 * Its inode numbers go to ino[0..5): root-level dir entries in the order
 * hello.txt, empty, sub, emptydir, sub/big.bin.
 */
static inline void fsx_golden_tree(struct fsx *f, uint64_t parent,
				   uint64_t *ino, bool no_tsize)
{
	static uint8_t big[FSX_BIG_LEN];
	uint64_t sub;

	fsx_big(big);
	ino[0] = fsx_mk(f, parent, "hello.txt", S_IFREG | 0644);
	fsx_write(f, ino[0], "hello\n", 6, no_tsize);
	ino[1] = fsx_mk(f, parent, "empty", S_IFREG | 0644);
	ino[2] = sub = fsx_mk(f, parent, "sub", S_IFDIR | 0755);
	fsx_symlink(f, sub, "link", "../hello.txt");
	ino[4] = fsx_mk(f, sub, "big.bin", S_IFREG | 0644);
	fsx_write(f, ino[4], big, sizeof(big), no_tsize);
	ino[3] = fsx_mk(f, parent, "emptydir", S_IFDIR | 0755);
}

/* The suite's temporary directory, made by fsx_suite_setup. */
static inline char **fsx_suite_dir(void)
{
	static char *dir;

	return &dir;
}

/* CUnit suite init/cleanup: a fresh directory for the suite's repositories. */
static inline int fsx_suite_setup(void)
{
	*fsx_suite_dir() = harness_tmpdir();
	return *fsx_suite_dir() ? 0 : 1;
}

static inline int fsx_suite_teardown(void)
{
	harness_tmpdir_free(*fsx_suite_dir());
	*fsx_suite_dir() = NULL;
	return 0;
}

/* Open a new repository (r0, r1, ...) in the suite's directory. */
static inline void fsx_open_next(struct fsx *f, const char *profile)
{
	static int n;
	char name[32];

	snprintf(name, sizeof(name), "r%d", n++);
	fsx_open(f, *fsx_suite_dir(), name, profile);
}

/* The golden tree's root CID and its sub-directory's, unixfs-v1-2025
 * (tests/data/fs/README.md: from the JS reference importer). */
static const char fsx_golden_root[] =
	"bafybeihld3aimyaw2kg6iiwkqshqtqusi75d3h2kxw4xavtfsaiikojzje";
static const char fsx_golden_sub[] =
	"bafybeihyhp6gj32y3xcvneet6kxsnzlgr6ms4wy24xmik5feb7sdxentz4";

#endif
