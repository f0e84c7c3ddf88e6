/*
 * test_graft.c - DAGs made to appear in the tree (fs/graft.h): a file, a
 * tree with odd names (raw leaves and dag-pb files), a HAMT directory, a
 * symlink; the grafted directory's CID is the DAG's, kept as a cache and
 * rebuilt after a change below; pins of the files consistent with what
 * the next open recovers; EEXISTS, bad paths, a missing block (nothing
 * made), a taken name found before any block is read, a DAG over
 * GRAFT_INODES_MAX refused, graft_remove (whole, after a partial removal,
 * bad paths), and the allocation-failure loop.
 *
 * The DAGs are made by the filesystem itself (a tree built in the inode
 * table, its CID computed by dircid, whose goldens test_dircid checks
 * against the JS reference importer), so grafting one elsewhere must
 * give back the same CID.
 */
#include "fs/graft.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/bstore.h"
#include "core/error.h"
#include "core/importer_dir.h"
#include "core/mhash.h"
#include "fs/dircid.h"
#include "fs/errmap.h"
#include "fs/inode.h"
#include "tests/fs/fs_test.h"
#include "tests/harness.h"

static struct graft_env env_of(struct fsx *f)
{
	struct graft_env e = {f->t, f->bs, bstore_source(f->bs), 1000, 1000};

	return e;
}

/* The CID of ino (blocks synced, so later grafts read them). */
static struct cid cid_of(struct fsx *f, uint64_t ino)
{
	struct dircid_env env = {f->t, f->bs, &f->iopts};
	struct cid id;

	memset(&id, 0, sizeof(id));
	CU_ASSERT_EQUAL(dircid_inode(&id, NULL, &env, ino), 0);
	CU_ASSERT_EQUAL(bstore_sync(f->bs), 0);
	return id;
}

static uint64_t lookup(struct fsx *f, const char *path)
{
	uint64_t ino = 0;

	CU_ASSERT_EQUAL(graft_lookup(&ino, f->t, path), 0);
	return ino;
}

/* Clear ino's cached CID: a change below it (a file made and removed). */
static void touch_dir(struct fsx *f, uint64_t dir)
{
	fsx_mk(f, dir, ".tmp", S_IFREG | 0644);
	CU_ASSERT_EQUAL(inode_unlink(f->t, dir, ".tmp", false), 0);
}

static int count_entry(const struct inode_dirent *e, void *payload)
{
	(void)e;
	++*(size_t *)payload;
	return 0;
}

static size_t count(struct fsx *f, uint64_t dir)
{
	size_t n = 0;

	CU_ASSERT_EQUAL(inode_readdir(f->t, dir, 0, count_entry, &n), 0);
	return n;
}

static void test_graft__file(void)
{
	struct graft_env env;
	struct graft_result r;
	struct inode_content c;
	struct inode_attr a;
	struct fsx f;
	uint64_t src;
	struct cid id;

	fsx_open_next(&f, "unixfs-v1-2025");
	env = env_of(&f);
	src = fsx_mk(&f, INODE_ROOT, "src", S_IFREG | 0600);
	fsx_write(&f, src, "hello\n", 6, false);
	id = cid_of(&f, src);
	CU_ASSERT_EQUAL(graft_path(&r, &env, "/pins/a/hello", &id), 0);
	CU_ASSERT_EQUAL(r.inodes, 3);
	CU_ASSERT_EQUAL(r.parent, INODE_ROOT);
	CU_ASSERT_STRING_EQUAL(r.name, "pins");
	CU_ASSERT_EQUAL(lookup(&f, "/pins/a/hello"), r.ino);
	CU_ASSERT_EQUAL(inode_getattr(&a, f.t, r.ino), 0);
	CU_ASSERT_EQUAL(a.mode, S_IFREG | 0644);
	CU_ASSERT_EQUAL(a.size, 6);
	CU_ASSERT_EQUAL(a.uid, 1000);
	CU_ASSERT_EQUAL(inode_getattr(&a, f.t, lookup(&f, "/pins")), 0);
	CU_ASSERT_EQUAL(a.mode, S_IFDIR | 0755);
	CU_ASSERT_EQUAL(a.nlink, 3);
	CU_ASSERT_EQUAL(inode_get_content(&c, f.t, r.ino), 0);
	CU_ASSERT(c.has_root && cid_equal(&c.root, &id));
	/* a second one beside it reuses /pins/a */
	CU_ASSERT_EQUAL(graft_path(&r, &env, "//pins/a//again", &id), 0);
	CU_ASSERT_EQUAL(r.inodes, 1);
	CU_ASSERT_EQUAL(r.parent, lookup(&f, "/pins/a"));
	CU_ASSERT_STRING_EQUAL(r.name, "again");
	CU_ASSERT_EQUAL(count(&f, lookup(&f, "/pins/a")), 2);
	/* both pinned as files are: the next open finds nothing to fix */
	inode_drain(f.t);
	inode_table_close(f.t);
	{
		struct inode_recovery rec;

		CU_ASSERT_EQUAL_FATAL(
		    inode_table_open(&f.t, &rec, f.db, f.bs, NULL), 0);
		CU_ASSERT_EQUAL(rec.pins_added, 0);
		CU_ASSERT_EQUAL(rec.pins_dropped, 0);
		CU_ASSERT_EQUAL(rec.orphans, 0);
	}
	CU_ASSERT_EQUAL(
	    inode_unlink(f.t, lookup(&f, "/pins/a"), "hello", false), 0);
	CU_ASSERT_EQUAL(inode_getattr(&a, f.t, lookup(&f, "/pins/a/again")), 0);
	fsx_close(&f);
}

/* The golden tree and odd names under dir. */
static void odd_tree(struct fsx *f, uint64_t dir)
{
	static const char *const odd[] = {
	    "with space",
	    "\xc3\xbc"
	    "n"
	    "\xc3\xaf"
	    "c"
	    "\xc3\xb6"
	    "d"
	    "\xc3\xa9",
	    "-dash",
	    "new\nline",
	    "tab\there",
	    ".hidden",
	    "a'quote\"",
	};
	char longname[INODE_NAME_MAX + 1];
	uint64_t ino[5], d;

	fsx_golden_tree(f, dir, ino, false);
	d = fsx_mk(f, dir, "odd", S_IFDIR | 0700);
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
		fsx_write(f, fsx_mk(f, d, odd[i], S_IFREG | 0644), odd[i],
			  strlen(odd[i]), false);
	memset(longname, 'n', INODE_NAME_MAX);
	longname[INODE_NAME_MAX] = '\0';
	fsx_mk(f, fsx_mk(f, d, longname, S_IFDIR | 0755), "deep",
	       S_IFDIR | 0755);
}

/* Graft a tree of profile profile and check its CIDs. */
static void tree_case(const char *profile)
{
	struct graft_env env;
	struct graft_result r;
	struct buf target = BUF_INIT(BUF_NOCAP);
	struct inode_attr a;
	struct cid want, got;
	uint64_t src, sub;
	struct fsx f;

	fsx_open_next(&f, profile);
	env = env_of(&f);
	src = fsx_mk(&f, INODE_ROOT, "src", S_IFDIR | 0755);
	odd_tree(&f, src);
	want = cid_of(&f, src);
	CU_ASSERT_EQUAL(graft_path(&r, &env, "/dst", &want), 0);
	CU_ASSERT_EQUAL(r.inodes, 17);
	got = cid_of(&f, r.ino);
	CU_ASSERT(cid_equal(&got, &want));
	CU_ASSERT_EQUAL(
	    inode_readlink(&target, f.t, lookup(&f, "/dst/sub/link")), 0);
	CU_ASSERT(target.len == 12 && !memcmp(target.ptr, "../hello.txt", 12));
	buf_release(&target);
	CU_ASSERT_EQUAL(inode_getattr(&a, f.t, lookup(&f, "/dst/sub/big.bin")),
			0);
	CU_ASSERT_EQUAL(a.size, FSX_BIG_LEN);
	CU_ASSERT_EQUAL(
	    inode_getattr(&a, f.t, lookup(&f, "/dst/odd/new\nline")), 0);
	CU_ASSERT_EQUAL(a.size, 8);
	CU_ASSERT_EQUAL(count(&f, lookup(&f, "/dst/odd")), 8);
	/* rebuilt from the inodes after a change: the same DAG again */
	sub = lookup(&f, "/dst/sub");
	touch_dir(&f, sub);
	touch_dir(&f, lookup(&f, "/dst/odd"));
	got = cid_of(&f, lookup(&f, "/dst"));
	CU_ASSERT(cid_equal(&got, &want));
	fsx_close(&f);
}

static void test_graft__tree_raw_leaves(void)
{
	tree_case("unixfs-v1-2025");
}

static void test_graft__tree_dagpb_files(void)
{
	tree_case("unixfs-v0-2015");
}

static void test_graft__hamt(void)
{
	struct graft_env env;
	struct graft_result r;
	struct cid want, got;
	char name[32];
	struct fsx f;
	uint64_t d;

	fsx_open_next(&f, "unixfs-v1-2025");
	env = env_of(&f);
	d = fsx_mk(&f, INODE_ROOT, "big", S_IFDIR | 0755);
	for (int i = 1; i <= 6000; i++) {
		snprintf(name, sizeof(name), "file-%05d", i);
		fsx_mk(&f, d, name, S_IFREG | 0644);
	}
	fsx_write(&f, fsx_mk(&f, d, "data", S_IFREG | 0644), "x", 1, false);
	want = cid_of(&f, d);
	CU_ASSERT_EQUAL(graft_path(&r, &env, "/uploads/hamt", &want), 0);
	CU_ASSERT_EQUAL(count(&f, r.ino), 6001);
	CU_ASSERT_EQUAL(lookup(&f, "/uploads/hamt/file-03000") > 0, 1);
	touch_dir(&f, r.ino);
	got = cid_of(&f, r.ino);
	CU_ASSERT(cid_equal(&got, &want));
	fsx_close(&f);
}

static void test_graft__symlink(void)
{
	struct buf target = BUF_INIT(BUF_NOCAP);
	struct graft_env env;
	struct graft_result r;
	struct inode_attr a;
	struct fsx f;
	struct cid id;

	fsx_open_next(&f, "unixfs-v1-2025");
	env = env_of(&f);
	id = cid_of(&f, fsx_symlink(&f, INODE_ROOT, "l", "some/where"));
	CU_ASSERT_EQUAL(graft_path(&r, &env, "/l2", &id), 0);
	CU_ASSERT_EQUAL(inode_getattr(&a, f.t, r.ino), 0);
	CU_ASSERT_EQUAL(a.mode, S_IFLNK | 0777);
	CU_ASSERT_EQUAL(inode_readlink(&target, f.t, r.ino), 0);
	CU_ASSERT(target.len == 10 && !memcmp(target.ptr, "some/where", 10));
	buf_release(&target);
	fsx_close(&f);
}

static void test_graft__exists_and_bad_paths(void)
{
	static const char *const bad[] = {
	    "", "rel/x", "/", "//", "/a/../b", "/a/./b", "/..",
	};
	char longpath[INODE_NAME_MAX + 8];
	struct graft_env env;
	struct graft_result r;
	uint64_t file, before;
	struct fsx f;
	struct cid id;

	fsx_open_next(&f, "unixfs-v1-2025");
	env = env_of(&f);
	file = fsx_mk(&f, INODE_ROOT, "f", S_IFREG | 0644);
	fsx_write(&f, file, "abc", 3, false);
	id = cid_of(&f, file);
	before = inode_count(f.t);
	CU_ASSERT_EQUAL(graft_path(&r, &env, "/f", &id), EFS_EEXISTS);
	CU_ASSERT_EQUAL(graft_path(&r, &env, "/f/x", &id), EFS_EEXISTS);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(graft_path(&r, &env, bad[i], &id), EFS_EINVAL);
	longpath[0] = '/';
	memset(longpath + 1, 'x', INODE_NAME_MAX + 1);
	longpath[INODE_NAME_MAX + 2] = '\0';
	CU_ASSERT_EQUAL(graft_path(&r, &env, longpath, &id), FS_ENAMETOOLONG);
	CU_ASSERT_EQUAL(inode_count(f.t), before);
	/* the path's directories are made only with the rest */
	CU_ASSERT_EQUAL(graft_path(&r, &env, "/new/f", &id), 0);
	CU_ASSERT_EQUAL(graft_path(&r, &env, "/new/f", &id), EFS_EEXISTS);
	CU_ASSERT_EQUAL(inode_count(f.t), before + 2);
	fsx_close(&f);
}

static void test_graft__missing_block(void)
{
	struct graft_env env;
	struct graft_result r;
	struct inode_attr a;
	struct fsx f;
	struct cid id;

	fsx_open_next(&f, "unixfs-v1-2025");
	env = env_of(&f);
	/* a directory node nobody stored: nothing is made, no /q */
	CU_ASSERT_EQUAL(cid_parse(&id, "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw"
				       "3gofszvwlyarci47bgf354"),
			0);
	CU_ASSERT(graft_path(&r, &env, "/q/r", &id) < 0);
	CU_ASSERT_EQUAL(inode_lookup(&a, f.t, INODE_ROOT, "q"), EFS_ENOTFOUND);
	fsx_close(&f);
}

/* A source that counts what it is asked for (bstore behind it). */
struct counting {
	struct blockio_source inner;
	unsigned gets;
};

static int counting_get(void *payload, const struct cid *id, struct buf *out)
{
	struct counting *c = payload;

	c->gets++;
	return blockio_get(&c->inner, id, out);
}

/*
 * A name taken under the target directory is found before the DAG is
 * read: trying names one after another ("x", "x-1", ...) walks the DAG
 * once, for the name that is free.
 */
static void test_graft__name_clash(void)
{
	struct counting cnt;
	struct graft_env env;
	struct graft_result r;
	uint64_t src, ino[5], before;
	struct fsx f;
	struct cid tree, gone;

	fsx_open_next(&f, "unixfs-v1-2025");
	env = env_of(&f);
	src = fsx_mk(&f, INODE_ROOT, "src", S_IFDIR | 0755);
	fsx_golden_tree(&f, src, ino, false);
	tree = cid_of(&f, src);
	cnt.inner = env.src;
	cnt.gets = 0;
	env.src = (struct blockio_source){.get = counting_get, .payload = &cnt};
	CU_ASSERT_EQUAL(graft_path(&r, &env, "/up/x", &tree), 0);
	CU_ASSERT(cnt.gets > 0);
	before = inode_count(f.t);
	cnt.gets = 0;
	CU_ASSERT_EQUAL(graft_path(&r, &env, "/up/x", &tree), EFS_EEXISTS);
	CU_ASSERT_EQUAL(graft_path(&r, &env, "/src/hello.txt/x", &tree),
			EFS_EEXISTS);
	CU_ASSERT_EQUAL(cnt.gets, 0);
	CU_ASSERT_EQUAL(r.inodes, 0);
	/* a DAG nobody holds: the name is what fails, not the DAG */
	gone = tree;
	gone.digest[0] ^= 1;
	CU_ASSERT_EQUAL(graft_path(&r, &env, "/up/x", &gone), EFS_EEXISTS);
	CU_ASSERT_EQUAL(cnt.gets, 0);
	CU_ASSERT_EQUAL(inode_count(f.t), before);
	/* the next name walks it, once */
	CU_ASSERT_EQUAL(graft_path(&r, &env, "/up/x-1", &tree), 0);
	CU_ASSERT(cnt.gets > 0);
	CU_ASSERT_EQUAL(count(&f, lookup(&f, "/up")), 2);
	fsx_close(&f);
}

/*
 * A DAG of more than GRAFT_INODES_MAX entries is refused with one line
 * before anything is made.  Cheap to build: 200 entries naming one
 * directory of 1000 (identity) files is 200,200 inodes to make from two
 * blocks.
 */
static void test_graft__too_many_inodes(void)
{
	struct blockio_sink sink;
	struct importer_dir *d;
	struct graft_env env;
	struct graft_result r;
	struct inode_attr a;
	uint64_t before, tsize;
	struct cid leaf, sub, top;
	char name[32];
	struct fsx f;
	int len;

	fsx_open_next(&f, "unixfs-v1-2025");
	env = env_of(&f);
	sink = bstore_sink(f.bs);
	CU_ASSERT_FATAL(importer_dir_new(&d, &f.iopts, NULL, &sink) == 0);
	for (unsigned i = 0; i < 1000; i++) {
		len = snprintf(name, sizeof(name), "file-%04u", i);
		CU_ASSERT_FATAL(cid_init(&leaf, 1, CID_CODEC_RAW,
					 MHASH_IDENTITY, (uint8_t *)name,
					 (size_t)len) == 0);
		CU_ASSERT_FATAL(importer_dir_add(d, name, (size_t)len, &leaf,
						 (uint64_t)len) == 0);
	}
	CU_ASSERT_FATAL(importer_dir_finish(d, &sub, &tsize) == 0);
	importer_dir_free(d);
	CU_ASSERT_FATAL(importer_dir_new(&d, &f.iopts, NULL, &sink) == 0);
	for (unsigned i = 0; i < 200; i++) {
		len = snprintf(name, sizeof(name), "dir-%03u", i);
		CU_ASSERT_FATAL(
		    importer_dir_add(d, name, (size_t)len, &sub, tsize) == 0);
	}
	CU_ASSERT_FATAL(importer_dir_finish(d, &top, NULL) == 0);
	importer_dir_free(d);
	CU_ASSERT_EQUAL_FATAL(bstore_sync(f.bs), 0);

	before = inode_count(f.t);
	CU_ASSERT_EQUAL(graft_path(&r, &env, "/pins/big", &top), EFS_ETOOBIG);
	CU_ASSERT(strstr(efs_error_msg(), "200000") != NULL);
	CU_ASSERT(strchr(efs_error_msg(), '\n') == NULL);
	CU_ASSERT_EQUAL(r.inodes, 0);
	CU_ASSERT_EQUAL(inode_count(f.t), before);
	CU_ASSERT_EQUAL(inode_lookup(&a, f.t, INODE_ROOT, "pins"),
			EFS_ENOTFOUND);
	/* a directory inside it goes in */
	CU_ASSERT_EQUAL(graft_path(&r, &env, "/pins/part", &sub), 0);
	CU_ASSERT_EQUAL(r.inodes, 1002);
	fsx_close(&f);
}

/*
 * graft_remove undoes a graft: everything below goes, deepest first,
 * directories of more entries than one listing batch too; a tree left
 * half removed (a crash midway) goes with a second call; what is gone
 * or not a path is an error and removes nothing.
 */
static void test_graft__remove(void)
{
	struct graft_env env;
	struct graft_result r;
	struct inode_attr a;
	uint64_t src, many, before, made, ino;
	char name[32];
	struct fsx f;
	struct cid tree;

	fsx_open_next(&f, "unixfs-v1-2025");
	env = env_of(&f);
	src = fsx_mk(&f, INODE_ROOT, "src", S_IFDIR | 0755);
	odd_tree(&f, src);
	many = fsx_mk(&f, src, "many", S_IFDIR | 0755);
	for (unsigned i = 0; i < 100; i++) { /* past a listing's batch */
		snprintf(name, sizeof(name), "f%03u", i);
		fsx_mk(&f, many, name, S_IFREG | 0644);
	}
	tree = cid_of(&f, src);
	before = inode_count(f.t);
	CU_ASSERT_EQUAL_FATAL(graft_path(&r, &env, "/pins/x", &tree), 0);
	made = r.inodes; /* "pins" too */
	CU_ASSERT_EQUAL(made, 1 + 1 + 16 + 1 + 100);

	CU_ASSERT_EQUAL(graft_remove(&r, f.t, "/pins/x/"), 0);
	CU_ASSERT_EQUAL(r.inodes, made - 1);
	CU_ASSERT_EQUAL(r.parent, lookup(&f, "/pins"));
	CU_ASSERT_STRING_EQUAL(r.name, "x");
	CU_ASSERT_EQUAL(graft_lookup(&ino, f.t, "/pins/x"), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(count(&f, lookup(&f, "/pins")), 0);
	CU_ASSERT_EQUAL(inode_count(f.t), before + 1); /* "pins" stays */
	CU_ASSERT_EQUAL(graft_remove(&r, f.t, "/pins/x"), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(r.inodes, 0);

	/* half removed, as a crash midway leaves it: a second call ends it */
	CU_ASSERT_EQUAL_FATAL(graft_path(&r, &env, "/pins/y", &tree), 0);
	CU_ASSERT_EQUAL(
	    inode_unlink(f.t, lookup(&f, "/pins/y/sub"), "big.bin", false), 0);
	CU_ASSERT_EQUAL(
	    inode_unlink(f.t, lookup(&f, "/pins/y/many"), "f050", false), 0);
	CU_ASSERT_EQUAL(graft_remove(&r, f.t, "/pins/y"), 0);
	CU_ASSERT_EQUAL(r.inodes, made - 1 - 2);
	CU_ASSERT_EQUAL(inode_count(f.t), before + 1);

	/* a file; what is not a path removes nothing */
	CU_ASSERT_EQUAL(graft_remove(&r, f.t, "/src/hello.txt"), 0);
	CU_ASSERT_EQUAL(r.inodes, 1);
	CU_ASSERT_EQUAL(inode_lookup(&a, f.t, src, "hello.txt"),
			EFS_ENOTFOUND);
	before = inode_count(f.t);
	CU_ASSERT_EQUAL(graft_remove(&r, f.t, "src/many"), EFS_EINVAL);
	CU_ASSERT_EQUAL(graft_remove(&r, f.t, "/"), EFS_EINVAL);
	CU_ASSERT_EQUAL(graft_remove(&r, f.t, "/src/."), EFS_EINVAL);
	CU_ASSERT_EQUAL(graft_remove(&r, f.t, "/src/.."), EFS_EINVAL);
	CU_ASSERT_EQUAL(graft_remove(&r, f.t, "/src/sub/link/x"), FS_ENOTDIR);
	CU_ASSERT_EQUAL(r.inodes, 0);
	CU_ASSERT_EQUAL(inode_count(f.t), before);
	CU_ASSERT_EQUAL(count(&f, many), 100);
	fsx_close(&f);
}

struct alloc_case {
	struct fsx f;
	struct cid tree;
	int run;
};

static int alloc_run(void *payload)
{
	struct alloc_case *c = payload;
	struct graft_env env = env_of(&c->f);
	struct graft_result r;
	char path[64];
	uint64_t ino;
	int error;

	snprintf(path, sizeof(path), "/runs/%d/t", c->run++);
	if ((error = graft_path(&r, &env, path, &c->tree)) < 0) {
		/* all or nothing: the run's directory is not there */
		if (graft_lookup(&ino, c->f.t, path) == 0 && r.inodes == 0)
			CU_FAIL("a failed graft left its tree");
		efs_error_clear();
		return error;
	}
	/* and taken away again; a removal cut short leaves part of it */
	if ((error = graft_remove(&r, c->f.t, path)) < 0) {
		efs_error_clear();
		return error;
	}
	CU_ASSERT_EQUAL(graft_lookup(&ino, c->f.t, path), EFS_ENOTFOUND);
	efs_error_clear();
	return 0;
}

static void test_graft__alloc_failures(void)
{
	struct alloc_case c = {.run = 0};
	uint64_t src, ino[5];

	fsx_open_next(&c.f, "unixfs-v1-2025");
	src = fsx_mk(&c.f, INODE_ROOT, "src", S_IFDIR | 0755);
	fsx_golden_tree(&c.f, src, ino, false);
	c.tree = cid_of(&c.f, src);
	CU_ASSERT(harness_alloc_loop(alloc_run, &c) > 5);
	fsx_close(&c.f);
}

static CU_TestInfo graft_tests[] = {
    {"file", test_graft__file},
    {"tree_raw_leaves", test_graft__tree_raw_leaves},
    {"tree_dagpb_files", test_graft__tree_dagpb_files},
    {"hamt", test_graft__hamt},
    {"symlink", test_graft__symlink},
    {"exists_and_bad_paths", test_graft__exists_and_bad_paths},
    {"missing_block", test_graft__missing_block},
    {"name_clash", test_graft__name_clash},
    {"too_many_inodes", test_graft__too_many_inodes},
    {"remove", test_graft__remove},
    {"alloc_failures", test_graft__alloc_failures},
    CU_TEST_INFO_NULL,
};

HARNESS_MAIN({.pName = "graft",
	      .pInitFunc = fsx_suite_setup,
	      .pCleanupFunc = fsx_suite_teardown,
	      .pTests = graft_tests})
