/*
 * test_dircid.c - CIDs of inodes on demand: the golden tree (files,
 * an empty file, a symlink, an empty directory, a multi-chunk file) in
 * both profiles and a 6000-entry directory (HAMT), against the JS
 * reference importer (tests/data/fs/README.md says how they were made);
 * caches reused, invalidated by a change below and rebuilt when their
 * blocks are gone; Tsize worked out when the table does not have it;
 * special files left out; names that are not UTF-8 refused; and the
 * allocation-failure loop.
 */
#include "fs/dircid.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/bstore.h"
#include "core/error.h"
#include "fs/inode.h"
#include "tests/fs/fs_test.h"
#include "tests/harness.h"

/*
 * From the JS reference importer (ipfs-unixfs-importer 17.1.1, through the
 * oracle's cid-of-tree.mjs PATH [--profile ...]) over the trees fs_test.h
 * describes (tests/data/fs/README.md).
 */
static const char golden_emptydir[] =
	"bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354";
static const char golden_hello[] =
	"bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am";
static const char golden_big[] =
	"bafybeifinki7tqtym6homrgnvjpht4b3whugvhtbgejlxvsgdlevzn7b3a";
static const char golden_root_v0[] =
	"Qma9fnmjd5NnR8MJLCYFrZTxYVUQHT8X2MkcHKXivWKNV4";
static const char golden_hamt[] =
	"bafybeibey42qdivrqqjmgmff477obalhas7cjkwskkeke3c4nxsna6chse";
static const char empty_file_v1[] =
	"bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";

/* The CID of ino as a string in out (CID_STR_MAX). */
static int cid_of(char *out, struct fsx *f, uint64_t ino)
{
	struct dircid_env env = { f->t, f->bs, &f->iopts };
	struct cid id;
	int error;

	out[0] = '\0';
	if ((error = dircid_inode(&id, NULL, &env, ino)) == 0)
		cid_tostr(out, &id);
	return error;
}

static void check_cid(struct fsx *f, uint64_t ino, const char *want)
{
	char got[CID_STR_MAX];

	CU_ASSERT_EQUAL(cid_of(got, f, ino), 0);
	CU_ASSERT_STRING_EQUAL(got, want);
}

static void test_dircid__golden_tree(void)
{
	uint64_t ino[5];
	struct fsx f;

	fsx_open_next(&f, "unixfs-v1-2025");
	fsx_golden_tree(&f, INODE_ROOT, ino, false);
	check_cid(&f, INODE_ROOT, fsx_golden_root);
	check_cid(&f, ino[2], fsx_golden_sub);
	check_cid(&f, ino[3], golden_emptydir);
	check_cid(&f, ino[0], golden_hello);
	check_cid(&f, ino[1], empty_file_v1);
	check_cid(&f, ino[4], golden_big);
	fsx_close(&f);
}

static void test_dircid__golden_v0(void)
{
	uint64_t ino[5];
	struct fsx f;

	fsx_open_next(&f, "unixfs-v0-2015");
	fsx_golden_tree(&f, INODE_ROOT, ino, false);
	check_cid(&f, INODE_ROOT, golden_root_v0);
	fsx_close(&f);
}

static void test_dircid__tsize_unknown(void)
{
	uint64_t ino[5];
	struct fsx f;

	fsx_open_next(&f, "unixfs-v1-2025");
	fsx_golden_tree(&f, INODE_ROOT, ino, true);
	check_cid(&f, INODE_ROOT, fsx_golden_root);
	fsx_close(&f);
}

static void test_dircid__hamt(void)
{
	char name[32];
	struct fsx f;
	uint64_t d;

	fsx_open_next(&f, "unixfs-v1-2025");
	d = fsx_mk(&f, INODE_ROOT, "big", S_IFDIR | 0755);
	for (int i = 1; i <= 6000; i++) {
		snprintf(name, sizeof(name), "file-%05d", i);
		fsx_mk(&f, d, name, S_IFREG | 0644);
	}
	check_cid(&f, d, golden_hamt);
	fsx_close(&f);
}

static void test_dircid__cache(void)
{
	struct inode_content c;
	char first[CID_STR_MAX], again[CID_STR_MAX];
	uint64_t ino[5], ver, ver2;
	bool stored;
	struct fsx f;

	fsx_open_next(&f, "unixfs-v1-2025");
	fsx_golden_tree(&f, INODE_ROOT, ino, false);
	CU_ASSERT_EQUAL(cid_of(first, &f, INODE_ROOT), 0);
	/* cached all the way down, and used as is */
	CU_ASSERT_EQUAL(inode_dircid_get(&c, &ver, f.t, INODE_ROOT), 0);
	CU_ASSERT(c.has_root);
	CU_ASSERT_EQUAL(inode_dircid_get(&c, &ver, f.t, ino[2]), 0);
	CU_ASSERT(c.has_root);
	CU_ASSERT_EQUAL(cid_of(again, &f, INODE_ROOT), 0);
	CU_ASSERT_STRING_EQUAL(first, again);
	CU_ASSERT_EQUAL(inode_dircid_get(&c, &ver2, f.t, ino[2]), 0);
	CU_ASSERT_EQUAL(ver, ver2);
	/* a change below sub clears sub and the root */
	fsx_write(&f, ino[4], "other", 5, false);
	CU_ASSERT_EQUAL(inode_dircid_get(&c, &ver, f.t, ino[2]), 0);
	CU_ASSERT(!c.has_root);
	CU_ASSERT_EQUAL(inode_dircid_get(&c, &ver, f.t, INODE_ROOT), 0);
	CU_ASSERT(!c.has_root);
	CU_ASSERT_EQUAL(cid_of(again, &f, INODE_ROOT), 0);
	CU_ASSERT(strcmp(first, again) != 0);
	/* back to the golden bytes: the golden CID again */
	{
		static uint8_t big[FSX_BIG_LEN];

		fsx_big(big);
		fsx_write(&f, ino[4], big, sizeof(big), false);
	}
	check_cid(&f, INODE_ROOT, fsx_golden_root);
	/* a cache whose block is gone (gc) is not trusted */
	CU_ASSERT_EQUAL(inode_dircid_get(&c, &ver, f.t, ino[2]), 0);
	{
		struct cid bogus;

		CU_ASSERT_EQUAL(cid_parse(&bogus, golden_hamt), 0);
		CU_ASSERT_EQUAL(inode_dircid_set(&stored, f.t, ino[2], ver,
						 &bogus, 7),
				0);
		CU_ASSERT(stored);
	}
	CU_ASSERT_EQUAL(inode_dircid_get(&c, &ver, f.t, INODE_ROOT), 0);
	CU_ASSERT_EQUAL(inode_dircid_set(&stored, f.t, INODE_ROOT, ver,
					 &c.root, 1),
			0);
	check_cid(&f, ino[2], fsx_golden_sub);
	fsx_close(&f);
}

static void test_dircid__special_and_bad_names(void)
{
	struct inode_new fifo = { .mode = S_IFIFO | 0644 };
	struct inode_attr a;
	char got[CID_STR_MAX];
	struct fsx f;
	uint64_t d;

	fsx_open_next(&f, "unixfs-v1-2025");
	d = fsx_mk(&f, INODE_ROOT, "d", S_IFDIR | 0755);
	CU_ASSERT_EQUAL(inode_create(&a, f.t, d, "fifo", &fifo), 0);
	/* a directory holding only a fifo is an empty directory */
	check_cid(&f, d, golden_emptydir);
	CU_ASSERT_EQUAL(cid_of(got, &f, a.ino), EFS_EINVAL);
	CU_ASSERT_EQUAL(cid_of(got, &f, 999), EFS_ENOTFOUND);
	fsx_mk(&f, d, "bad\xff", S_IFREG | 0644);
	CU_ASSERT_EQUAL(cid_of(got, &f, d), EFS_EINVAL);
	CU_ASSERT_EQUAL(cid_of(got, &f, INODE_ROOT), EFS_EINVAL);
	fsx_close(&f);
}

struct alloc_case {
	struct fsx f;
	uint64_t ino[5];
};

static int alloc_run(void *payload)
{
	struct alloc_case *c = payload;
	struct dircid_env env = { c->f.t, c->f.bs, &c->f.iopts };
	struct inode_content content;
	struct cid id;
	uint64_t ver;
	bool stored;
	int error;

	if ((error = dircid_inode(&id, NULL, &env, INODE_ROOT)) < 0)
		return error;
	/* make the next run build the root again: a cache whose block is
	 * not in the blockstore */
	CU_ASSERT_EQUAL(cid_parse(&id, golden_hamt), 0);
	if ((error = inode_dircid_get(&content, &ver, c->f.t, INODE_ROOT)) <
		    0 ||
	    (error = inode_dircid_set(&stored, c->f.t, INODE_ROOT, ver, &id,
				      1)) < 0)
		return error;
	return 0;
}

static void test_dircid__alloc_failures(void)
{
	struct alloc_case c;

	fsx_open_next(&c.f, "unixfs-v1-2025");
	fsx_golden_tree(&c.f, INODE_ROOT, c.ino, false);
	CU_ASSERT(harness_alloc_loop(alloc_run, &c) > 5);
	fsx_close(&c.f);
}

static CU_TestInfo dircid_tests[] = {
	{ "golden_tree", test_dircid__golden_tree },
	{ "golden_v0", test_dircid__golden_v0 },
	{ "tsize_unknown", test_dircid__tsize_unknown },
	{ "hamt", test_dircid__hamt },
	{ "cache", test_dircid__cache },
	{ "special_and_bad_names", test_dircid__special_and_bad_names },
	{ "alloc_failures", test_dircid__alloc_failures },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "dircid", .pInitFunc = fsx_suite_setup,
	       .pCleanupFunc = fsx_suite_teardown, .pTests = dircid_tests })
