/*
 * test_inode.c - the inode table without FUSE: creation of each type with
 * ownership rules (setgid directories), lookups and POSIX outcomes, link
 * counts, unlink of referenced inodes and orphan cleanup at reopen,
 * rename in all its forms (over files and directories, NOREPLACE,
 * EXCHANGE, same inode, own subtree), readdir cookies stable across
 * deletions, attributes with nanoseconds and the explicit-mtime rule
 * against pending writes, content with its blockstore pins (and their
 * repair after simulated crashes), directory CID cache versions,
 * xattrs, persistence across reopen, a 10k-entry directory, and the
 * allocation-failure loop.
 */
#include "fs/inode.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/bstore.h"
#include "core/error.h"
#include "fs/errmap.h"
#include "tests/fs/fs_test.h"
#include "tests/harness.h"

/* ---- fixture: repositories in the suite's directory (fs_test.h) ---- */

static int nrepo;

struct fx {
	char path[4096];
	char db[4200];
	struct bstore *bs;
	struct inode_table *t;
	struct inode_recovery rec;
};

static int fx_reopen_table(struct fx *f)
{
	struct inode_table_opts o = INODE_TABLE_OPTS_INIT;

	o.root_uid = 1000;
	o.root_gid = 1000;
	return inode_table_open(&f->t, &f->rec, f->db, f->bs, &o);
}

static void fx_open(struct fx *f)
{
	snprintf(f->path, sizeof(f->path), "%s/r%d", *fsx_suite_dir(),
		 nrepo++);
	CU_ASSERT_EQUAL_FATAL(mkdir(f->path, 0755), 0);
	snprintf(f->db, sizeof(f->db), "%s/index.db", f->path);
	CU_ASSERT_EQUAL_FATAL(bstore_open(&f->bs, f->path, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(fx_reopen_table(f), 0);
}

static void fx_close(struct fx *f)
{
	inode_table_close(f->t);
	f->t = NULL;
	CU_ASSERT_EQUAL(bstore_close(f->bs), 0);
}

/* Close and open again (as a remount: the kernel's references die). */
static void fx_remount(struct fx *f)
{
	inode_table_close(f->t);
	CU_ASSERT_EQUAL_FATAL(fx_reopen_table(f), 0);
}

static uint64_t mk(struct fx *f, uint64_t parent, const char *name,
		   uint32_t mode)
{
	struct inode_new n = { .mode = mode, .uid = 1000, .gid = 1000 };
	struct inode_attr a;

	CU_ASSERT_EQUAL_FATAL(inode_create(&a, f->t, parent, name, &n), 0);
	return a.ino;
}

static struct inode_attr attr(struct fx *f, uint64_t ino)
{
	struct inode_attr a;

	memset(&a, 0, sizeof(a));
	CU_ASSERT_EQUAL(inode_getattr(&a, f->t, ino), 0);
	return a;
}

static uint64_t look(struct fx *f, uint64_t parent, const char *name)
{
	struct inode_attr a;
	int rc = inode_lookup(&a, f->t, parent, name);

	return rc == 0 ? a.ino : 0;
}

static void make_cid(struct cid *out, int seed)
{
	char data[32];

	snprintf(data, sizeof(data), "content %d", seed);
	CU_ASSERT_EQUAL(cid_hash(out, 1, CID_CODEC_RAW, MHASH_SHA2_256, data,
				 strlen(data)), 0);
}

/* Pins named name: count, and the root of the last one. */
struct pins {
	const char *name;
	int n;
	struct cid root;
	int fs;   /* pins tagged fs: */
};

static int pins_cb(const struct bstore_pin *p, void *payload)
{
	struct pins *ps = payload;

	if (strncmp(p->name, "fs:", 3) == 0)
		ps->fs++;
	if (ps->name && strcmp(p->name, ps->name) == 0) {
		ps->n++;
		ps->root = p->root;
	}
	return 0;
}

static struct pins pins_of(struct fx *f, uint64_t ino)
{
	static char name[32];
	struct pins ps;

	if (f->t)
		inode_drain(f->t); /* pins are dropped in the background */
	memset(&ps, 0, sizeof(ps));
	snprintf(name, sizeof(name), "fs:%" PRIu64, ino);
	ps.name = name;
	CU_ASSERT_EQUAL(bstore_pins_foreach(f->bs, pins_cb, &ps), 0);
	return ps;
}

/* ---- create, lookup ---- */

static void test_inode__create_types(void)
{
	struct inode_new sl = { .mode = S_IFLNK | 0777, .uid = 7, .gid = 8,
				.target = "a/b", .target_len = 3 };
	struct inode_new dev = { .mode = S_IFCHR | 0600, .rdev = 0x0103 };
	struct buf target = BUF_INIT(BUF_NOCAP);
	struct inode_attr a, r;
	struct fx f;
	uint64_t d, file;

	fx_open(&f);
	r = attr(&f, INODE_ROOT);
	CU_ASSERT_EQUAL(r.mode, S_IFDIR | 0755);
	CU_ASSERT_EQUAL(r.uid, 1000);
	CU_ASSERT_EQUAL(r.nlink, 2);
	d = mk(&f, INODE_ROOT, "d", S_IFDIR | 0750);
	file = mk(&f, d, "f", S_IFREG | 0644);
	CU_ASSERT(d > INODE_ROOT && file > d);
	CU_ASSERT_EQUAL(attr(&f, INODE_ROOT).nlink, 3);
	CU_ASSERT_EQUAL(attr(&f, d).nlink, 2);
	a = attr(&f, file);
	CU_ASSERT_EQUAL(a.mode, S_IFREG | 0644);
	CU_ASSERT_EQUAL(a.nlink, 1);
	CU_ASSERT_EQUAL(a.size, 0);
	CU_ASSERT(a.mtime_ns > 0 && a.mtime_ns == a.ctime_ns);
	CU_ASSERT_EQUAL(inode_create(&a, f.t, d, "s", &sl), 0);
	CU_ASSERT_EQUAL(a.size, 3);
	CU_ASSERT_EQUAL(a.uid, 7);
	CU_ASSERT_EQUAL(inode_readlink(&target, f.t, a.ino), 0);
	CU_ASSERT_STRING_EQUAL((char *)target.ptr, "a/b");
	CU_ASSERT_EQUAL(inode_readlink(&target, f.t, file), EFS_EINVAL);
	CU_ASSERT_EQUAL(inode_create(&a, f.t, d, "dev", &dev), 0);
	CU_ASSERT_EQUAL(attr(&f, a.ino).rdev, 0x0103);
	mk(&f, d, "fifo", S_IFIFO | 0644);
	CU_ASSERT_EQUAL(look(&f, d, "fifo") > 0, 1);
	CU_ASSERT_EQUAL(inode_count(f.t), 6);
	buf_release(&target);
	fx_close(&f);
}

static void test_inode__create_errors(void)
{
	struct inode_new n = { .mode = S_IFREG | 0644 };
	struct inode_new bad = { .mode = 0170000 | 0644 };
	struct inode_new sl = { .mode = S_IFLNK | 0777 };
	char longname[INODE_NAME_MAX + 2];
	struct inode_attr a;
	struct fx f;
	uint64_t file;

	fx_open(&f);
	file = mk(&f, INODE_ROOT, "f", S_IFREG | 0644);
	CU_ASSERT_EQUAL(inode_create(&a, f.t, INODE_ROOT, "f", &n),
			EFS_EEXISTS);
	CU_ASSERT_EQUAL(inode_create(&a, f.t, file, "x", &n), FS_ENOTDIR);
	CU_ASSERT_EQUAL(inode_create(&a, f.t, 9999, "x", &n), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(inode_create(&a, f.t, INODE_ROOT, "a/b", &n),
			EFS_EINVAL);
	CU_ASSERT_EQUAL(inode_create(&a, f.t, INODE_ROOT, "..", &n),
			EFS_EINVAL);
	CU_ASSERT_EQUAL(inode_create(&a, f.t, INODE_ROOT, "", &n), EFS_EINVAL);
	CU_ASSERT_EQUAL(inode_create(&a, f.t, INODE_ROOT, "b", &bad),
			EFS_EINVAL);
	CU_ASSERT_EQUAL(inode_create(&a, f.t, INODE_ROOT, "s", &sl),
			EFS_EINVAL);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CU_ASSERT_EQUAL(inode_create(&a, f.t, INODE_ROOT, longname, &n),
			FS_ENAMETOOLONG);
	CU_ASSERT_EQUAL(inode_lookup(&a, f.t, INODE_ROOT, longname),
			FS_ENAMETOOLONG);
	longname[INODE_NAME_MAX] = '\0';
	CU_ASSERT_EQUAL(inode_create(&a, f.t, INODE_ROOT, longname, &n), 0);
	CU_ASSERT_EQUAL(inode_lookup(&a, f.t, INODE_ROOT, "nope"),
			EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(inode_lookup(&a, f.t, file, "x"), FS_ENOTDIR);
	CU_ASSERT_EQUAL(inode_count(f.t), 3);
	fx_close(&f);
}

static void test_inode__setgid_dirs(void)
{
	struct inode_new n = { .mode = S_IFDIR | 02775, .uid = 5, .gid = 50 };
	struct inode_new sub = { .mode = S_IFDIR | 0755, .uid = 6, .gid = 60 };
	struct inode_new file = { .mode = S_IFREG | 0644, .uid = 6, .gid = 60 };
	struct inode_attr g, a;
	struct fx f;

	fx_open(&f);
	CU_ASSERT_EQUAL(inode_create(&g, f.t, INODE_ROOT, "g", &n), 0);
	CU_ASSERT_EQUAL(g.gid, 50);
	CU_ASSERT_EQUAL(inode_create(&a, f.t, g.ino, "sub", &sub), 0);
	CU_ASSERT_EQUAL(a.uid, 6);
	CU_ASSERT_EQUAL(a.gid, 50);
	CU_ASSERT_EQUAL(a.mode, S_IFDIR | 02755);
	CU_ASSERT_EQUAL(inode_create(&a, f.t, g.ino, "f", &file), 0);
	CU_ASSERT_EQUAL(a.gid, 50);
	CU_ASSERT_EQUAL(a.mode, S_IFREG | 0644);
	CU_ASSERT_EQUAL(inode_create(&a, f.t, INODE_ROOT, "f", &file), 0);
	CU_ASSERT_EQUAL(a.gid, 60);
	fx_close(&f);
}

/* ---- links and unlink ---- */

static void test_inode__links(void)
{
	struct inode_attr a;
	struct fx f;
	uint64_t d, file;

	fx_open(&f);
	d = mk(&f, INODE_ROOT, "d", S_IFDIR | 0755);
	file = mk(&f, INODE_ROOT, "f", S_IFREG | 0644);
	CU_ASSERT_EQUAL(inode_link(&a, f.t, file, d, "g"), 0);
	CU_ASSERT_EQUAL(a.nlink, 2);
	CU_ASSERT_EQUAL(look(&f, d, "g"), file);
	CU_ASSERT_EQUAL(inode_link(&a, f.t, file, d, "g"), EFS_EEXISTS);
	CU_ASSERT_EQUAL(inode_link(&a, f.t, d, INODE_ROOT, "d2"), FS_EPERM);
	CU_ASSERT_EQUAL(inode_unlink(f.t, INODE_ROOT, "f", false), 0);
	CU_ASSERT_EQUAL(attr(&f, file).nlink, 1);
	CU_ASSERT_EQUAL(look(&f, INODE_ROOT, "f"), 0);
	CU_ASSERT_EQUAL(inode_unlink(f.t, d, "g", false), 0);
	/* no kernel reference: freed at once */
	CU_ASSERT_EQUAL(inode_getattr(&a, f.t, file), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(inode_count(f.t), 2);
	fx_close(&f);
}

static void test_inode__rmdir(void)
{
	struct fx f;
	uint64_t d, e;

	fx_open(&f);
	d = mk(&f, INODE_ROOT, "d", S_IFDIR | 0755);
	e = mk(&f, d, "e", S_IFDIR | 0755);
	mk(&f, e, "f", S_IFREG | 0644);
	CU_ASSERT_EQUAL(attr(&f, d).nlink, 3);
	CU_ASSERT_EQUAL(inode_unlink(f.t, INODE_ROOT, "d", true),
			FS_ENOTEMPTY);
	CU_ASSERT_EQUAL(inode_unlink(f.t, INODE_ROOT, "d", false), FS_EISDIR);
	CU_ASSERT_EQUAL(inode_unlink(f.t, e, "f", true), FS_ENOTDIR);
	CU_ASSERT_EQUAL(inode_unlink(f.t, e, "nope", false), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(inode_unlink(f.t, e, "f", false), 0);
	CU_ASSERT_EQUAL(inode_ref(f.t, e), 0);
	CU_ASSERT_EQUAL(inode_unlink(f.t, d, "e", true), 0);
	CU_ASSERT_EQUAL(attr(&f, d).nlink, 2);
	/* still referenced: the row stays, with no links */
	CU_ASSERT_EQUAL(attr(&f, e).nlink, 0);
	/* and nothing can be created in it */
	CU_ASSERT_EQUAL(inode_create(&(struct inode_attr){ 0 }, f.t, e, "x",
				     &(struct inode_new){ .mode = S_IFREG }),
			EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(inode_forget(f.t, e, 1), 0);
	CU_ASSERT_EQUAL(inode_getattr(&(struct inode_attr){ 0 }, f.t, e),
			EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(inode_unlink(f.t, INODE_ROOT, "d", true), 0);
	CU_ASSERT_EQUAL(attr(&f, INODE_ROOT).nlink, 2);
	CU_ASSERT_EQUAL(inode_count(f.t), 1);
	fx_close(&f);
}

static void test_inode__orphans(void)
{
	struct cid c;
	struct fx f;
	uint64_t file, keep;

	fx_open(&f);
	make_cid(&c, 1);
	file = mk(&f, INODE_ROOT, "open", S_IFREG | 0644);
	keep = mk(&f, INODE_ROOT, "keep", S_IFREG | 0644);
	CU_ASSERT_EQUAL(inode_set_content(f.t, file, &c, 9, 9), 0);
	CU_ASSERT_EQUAL(inode_xattr_set(f.t, file, "user.a", "1", 1, 0), 0);
	CU_ASSERT_EQUAL(inode_ref(f.t, file), 0);
	CU_ASSERT_EQUAL(inode_ref(f.t, file), 0);
	CU_ASSERT_EQUAL(inode_unlink(f.t, INODE_ROOT, "open", false), 0);
	CU_ASSERT_EQUAL(attr(&f, file).nlink, 0);
	CU_ASSERT_EQUAL(pins_of(&f, file).n, 1);
	CU_ASSERT_EQUAL(inode_forget(f.t, file, 1), 0);
	CU_ASSERT_EQUAL(attr(&f, file).nlink, 0);
	/* "crash" with the reference held: the remount frees it */
	fx_remount(&f);
	CU_ASSERT_EQUAL(f.rec.orphans, 1);
	CU_ASSERT_EQUAL(f.rec.pins_dropped, 1);
	CU_ASSERT_EQUAL(inode_getattr(&(struct inode_attr){ 0 }, f.t, file),
			EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(pins_of(&f, file).n, 0);
	CU_ASSERT_EQUAL(attr(&f, keep).nlink, 1);
	CU_ASSERT_EQUAL(inode_count(f.t), 2);
	fx_close(&f);
}

/* ---- rename ---- */

static void test_inode__rename_basic(void)
{
	struct fx f;
	uint64_t a, b, x, y;

	fx_open(&f);
	a = mk(&f, INODE_ROOT, "a", S_IFDIR | 0755);
	b = mk(&f, INODE_ROOT, "b", S_IFDIR | 0755);
	x = mk(&f, a, "x", S_IFREG | 0644);
	y = mk(&f, b, "y", S_IFREG | 0644);
	CU_ASSERT_EQUAL(inode_rename(f.t, a, "x", a, "x2", 0), 0);
	CU_ASSERT_EQUAL(look(&f, a, "x2"), x);
	CU_ASSERT_EQUAL(look(&f, a, "x"), 0);
	/* over an existing file in another directory: y goes away */
	CU_ASSERT_EQUAL(inode_rename(f.t, a, "x2", b, "y", 0), 0);
	CU_ASSERT_EQUAL(look(&f, b, "y"), x);
	CU_ASSERT_EQUAL(inode_getattr(&(struct inode_attr){ 0 }, f.t, y),
			EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(inode_rename(f.t, a, "nope", b, "z", 0),
			EFS_ENOTFOUND);
	/* directories move with their link counts */
	CU_ASSERT_EQUAL(inode_rename(f.t, INODE_ROOT, "a", b, "a", 0), 0);
	CU_ASSERT_EQUAL(attr(&f, INODE_ROOT).nlink, 3);
	CU_ASSERT_EQUAL(attr(&f, b).nlink, 3);
	CU_ASSERT_EQUAL(inode_rename(f.t, INODE_ROOT, "b", a, "b", 0),
			EFS_EINVAL);
	CU_ASSERT_EQUAL(inode_rename(f.t, INODE_ROOT, "b", b, "b", 0),
			EFS_EINVAL);
	uint64_t p;
	CU_ASSERT_EQUAL(inode_parent(&p, f.t, a), 0);
	CU_ASSERT_EQUAL(p, b);
	CU_ASSERT_EQUAL(inode_count(f.t), 4);
	fx_close(&f);
}

static void test_inode__rename_replace_rules(void)
{
	struct fx f;
	uint64_t d, e, file, g;

	fx_open(&f);
	d = mk(&f, INODE_ROOT, "d", S_IFDIR | 0755);
	e = mk(&f, INODE_ROOT, "e", S_IFDIR | 0755);
	file = mk(&f, INODE_ROOT, "f", S_IFREG | 0644);
	mk(&f, e, "inner", S_IFREG | 0644);
	CU_ASSERT_EQUAL(inode_rename(f.t, INODE_ROOT, "d", INODE_ROOT, "f", 0),
			FS_ENOTDIR);
	CU_ASSERT_EQUAL(inode_rename(f.t, INODE_ROOT, "f", INODE_ROOT, "d", 0),
			FS_EISDIR);
	CU_ASSERT_EQUAL(inode_rename(f.t, INODE_ROOT, "d", INODE_ROOT, "e", 0),
			FS_ENOTEMPTY);
	CU_ASSERT_EQUAL(inode_rename(f.t, INODE_ROOT, "e", INODE_ROOT, "d", 0),
			0);
	CU_ASSERT_EQUAL(look(&f, INODE_ROOT, "d"), e);
	CU_ASSERT_EQUAL(attr(&f, INODE_ROOT).nlink, 3);
	CU_ASSERT_EQUAL(inode_getattr(&(struct inode_attr){ 0 }, f.t, d),
			EFS_ENOTFOUND);
	/* two links of one inode: nothing happens */
	CU_ASSERT_EQUAL(inode_link(&(struct inode_attr){ 0 }, f.t, file,
				   INODE_ROOT, "g"), 0);
	CU_ASSERT_EQUAL(inode_rename(f.t, INODE_ROOT, "f", INODE_ROOT, "g", 0),
			0);
	CU_ASSERT_EQUAL(look(&f, INODE_ROOT, "f"), file);
	CU_ASSERT_EQUAL(attr(&f, file).nlink, 2);
	/* NOREPLACE */
	g = mk(&f, INODE_ROOT, "h", S_IFREG | 0644);
	CU_ASSERT_EQUAL(inode_rename(f.t, INODE_ROOT, "f", INODE_ROOT, "h",
				     INODE_RENAME_NOREPLACE),
			EFS_EEXISTS);
	CU_ASSERT_EQUAL(inode_rename(f.t, INODE_ROOT, "h", INODE_ROOT, "i",
				     INODE_RENAME_NOREPLACE),
			0);
	CU_ASSERT_EQUAL(look(&f, INODE_ROOT, "i"), g);
	CU_ASSERT_EQUAL(inode_rename(f.t, INODE_ROOT, "i", INODE_ROOT, "j",
				     INODE_RENAME_NOREPLACE |
					     INODE_RENAME_EXCHANGE),
			EFS_EINVAL);
	fx_close(&f);
}

static void test_inode__rename_exchange(void)
{
	struct fx f;
	uint64_t a, b, sub, file;

	fx_open(&f);
	a = mk(&f, INODE_ROOT, "a", S_IFDIR | 0755);
	b = mk(&f, INODE_ROOT, "b", S_IFDIR | 0755);
	sub = mk(&f, a, "sub", S_IFDIR | 0755);
	file = mk(&f, b, "file", S_IFREG | 0644);
	CU_ASSERT_EQUAL(inode_rename(f.t, a, "sub", b, "nope",
				     INODE_RENAME_EXCHANGE),
			EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(inode_rename(f.t, a, "sub", b, "file",
				     INODE_RENAME_EXCHANGE),
			0);
	CU_ASSERT_EQUAL(look(&f, a, "sub"), file);
	CU_ASSERT_EQUAL(look(&f, b, "file"), sub);
	CU_ASSERT_EQUAL(attr(&f, a).nlink, 2);
	CU_ASSERT_EQUAL(attr(&f, b).nlink, 3);
	uint64_t p;
	CU_ASSERT_EQUAL(inode_parent(&p, f.t, sub), 0);
	CU_ASSERT_EQUAL(p, b);
	/* a directory may not be swapped below itself */
	CU_ASSERT_EQUAL(inode_rename(f.t, INODE_ROOT, "b", sub, "x", 0) ==
				EFS_EINVAL,
			1);
	fx_close(&f);
}

/* ---- readdir ---- */

struct listing {
	int n;
	uint64_t last_cookie;
	char names[64][16];
	int stop_after;
};

static int list_cb(const struct inode_dirent *e, void *payload)
{
	struct listing *l = payload;

	CU_ASSERT(e->cookie > l->last_cookie);
	l->last_cookie = e->cookie;
	snprintf(l->names[l->n], sizeof(l->names[0]), "%s", e->name);
	l->n++;
	return l->stop_after && l->n >= l->stop_after ? 1 : 0;
}

static void test_inode__readdir_stable(void)
{
	struct listing l;
	struct fx f;
	char name[16];

	fx_open(&f);
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "e%d", i);
		mk(&f, INODE_ROOT, name, S_IFREG | 0644);
	}
	memset(&l, 0, sizeof(l));
	l.stop_after = 4;
	CU_ASSERT_EQUAL(inode_readdir(f.t, INODE_ROOT, 0, list_cb, &l), 0);
	CU_ASSERT_EQUAL(l.n, 4);
	CU_ASSERT_STRING_EQUAL(l.names[3], "e3");
	/* rm -rf style: delete what was listed, and one ahead */
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "e%d", i);
		CU_ASSERT_EQUAL(inode_unlink(f.t, INODE_ROOT, name, false), 0);
	}
	CU_ASSERT_EQUAL(inode_unlink(f.t, INODE_ROOT, "e5", false), 0);
	l.stop_after = 0;
	CU_ASSERT_EQUAL(inode_readdir(f.t, INODE_ROOT, l.last_cookie, list_cb,
				      &l),
			0);
	CU_ASSERT_EQUAL(l.n, 9);
	CU_ASSERT_STRING_EQUAL(l.names[4], "e4");
	CU_ASSERT_STRING_EQUAL(l.names[5], "e6");
	CU_ASSERT_STRING_EQUAL(l.names[8], "e9");
	CU_ASSERT_EQUAL(inode_readdir(f.t, 999, 0, list_cb, &l),
			EFS_ENOTFOUND);
	fx_close(&f);
}

static int count_cb(const struct inode_dirent *e, void *payload)
{
	(*(int *)payload)++;
	return 0;
}

static void test_inode__big_directory(void)
{
	struct fx f;
	char name[32];
	int n = 0;
	uint64_t d;

	fx_open(&f);
	d = mk(&f, INODE_ROOT, "big", S_IFDIR | 0755);
	for (int i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "file-%05d", i);
		mk(&f, d, name, S_IFREG | 0644);
	}
	CU_ASSERT(look(&f, d, "file-07777") > 0);
	CU_ASSERT_EQUAL(inode_readdir(f.t, d, 0, count_cb, &n), 0);
	CU_ASSERT_EQUAL(n, 10000);
	for (int i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "file-%05d", i);
		CU_ASSERT_EQUAL_FATAL(inode_unlink(f.t, d, name, false), 0);
	}
	CU_ASSERT_EQUAL(inode_unlink(f.t, INODE_ROOT, "big", true), 0);
	CU_ASSERT_EQUAL(inode_count(f.t), 1);
	fx_close(&f);
}

/*
 * A rename over a file takes a link from it: the last one frees it with
 * its pin and xattrs at once, or at its last forget while the kernel
 * holds it; with another link left only the count goes down.  The
 * directory lists what it should after renames within it.
 */
static void test_inode__rename_victims(void)
{
	struct inode_attr a;
	struct buf v = BUF_INIT(BUF_NOCAP);
	struct cid c;
	struct fx f;
	uint64_t x, y, z, w;
	int n = 0;

	fx_open(&f);
	make_cid(&c, 5);
	x = mk(&f, INODE_ROOT, "x", S_IFREG | 0644);
	y = mk(&f, INODE_ROOT, "y", S_IFREG | 0644);
	CU_ASSERT_EQUAL(inode_set_content(f.t, y, &c, 9, 9), 0);
	CU_ASSERT_EQUAL(inode_xattr_set(f.t, y, "user.a", "1", 1, 0), 0);
	CU_ASSERT_EQUAL(pins_of(&f, y).n, 1);
	CU_ASSERT_EQUAL(inode_rename(f.t, INODE_ROOT, "x", INODE_ROOT, "y", 0),
			0);
	CU_ASSERT_EQUAL(look(&f, INODE_ROOT, "y"), x);
	CU_ASSERT_EQUAL(inode_getattr(&a, f.t, y), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(inode_xattr_get(&v, f.t, y, "user.a"), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(pins_of(&f, y).n, 0);
	/* another link left */
	z = mk(&f, INODE_ROOT, "z", S_IFREG | 0644);
	CU_ASSERT_EQUAL(inode_link(&a, f.t, z, INODE_ROOT, "z2"), 0);
	CU_ASSERT_EQUAL(inode_rename(f.t, INODE_ROOT, "y", INODE_ROOT, "z", 0),
			0);
	CU_ASSERT_EQUAL(look(&f, INODE_ROOT, "z"), x);
	CU_ASSERT_EQUAL(attr(&f, z).nlink, 1);
	CU_ASSERT_EQUAL(look(&f, INODE_ROOT, "z2"), z);
	/* held by the kernel: no links, kept with its pin until forgotten */
	w = mk(&f, INODE_ROOT, "w", S_IFREG | 0644);
	CU_ASSERT_EQUAL(inode_set_content(f.t, w, &c, 9, 9), 0);
	CU_ASSERT_EQUAL(inode_ref(f.t, w), 0);
	CU_ASSERT_EQUAL(inode_rename(f.t, INODE_ROOT, "z", INODE_ROOT, "w", 0),
			0);
	CU_ASSERT_EQUAL(attr(&f, w).nlink, 0);
	CU_ASSERT_EQUAL(pins_of(&f, w).n, 1);
	CU_ASSERT_EQUAL(inode_forget(f.t, w, 1), 0);
	CU_ASSERT_EQUAL(inode_getattr(&a, f.t, w), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(pins_of(&f, w).n, 0);
	/* left: "w" (x) and "z2" (z) */
	CU_ASSERT_EQUAL(inode_readdir(f.t, INODE_ROOT, 0, count_cb, &n), 0);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(look(&f, INODE_ROOT, "w"), x);
	CU_ASSERT_EQUAL(inode_count(f.t), 3);
	buf_release(&v);
	fx_close(&f);
}

/* ---- attributes ---- */

static void test_inode__setattr(void)
{
	struct inode_set s = { 0 };
	struct inode_attr a;
	struct fx f;
	uint64_t file;

	fx_open(&f);
	file = mk(&f, INODE_ROOT, "f", S_IFREG | 0644);
	s.valid = INODE_SET_MODE | INODE_SET_UID | INODE_SET_GID;
	s.mode = 04755 | S_IFDIR; /* the type bits are ignored */
	s.uid = 42;
	s.gid = 43;
	CU_ASSERT_EQUAL(inode_setattr(&a, f.t, file, &s), 0);
	CU_ASSERT_EQUAL(a.mode, S_IFREG | 04755);
	CU_ASSERT_EQUAL(a.uid, 42);
	CU_ASSERT_EQUAL(a.gid, 43);
	s.valid = INODE_SET_ATIME | INODE_SET_MTIME;
	s.atime_ns = 1000000000123456789LL;
	s.mtime_ns = 1200000000987654321LL;
	CU_ASSERT_EQUAL(inode_setattr(&a, f.t, file, &s), 0);
	a = attr(&f, file);
	CU_ASSERT_EQUAL(a.atime_ns, 1000000000123456789LL);
	CU_ASSERT_EQUAL(a.mtime_ns, 1200000000987654321LL);
	CU_ASSERT(a.flags & INODE_F_MTIME_SET);
	CU_ASSERT(a.ctime_ns > a.mtime_ns);
	s.valid = INODE_SET_MTIME_NOW;
	CU_ASSERT_EQUAL(inode_setattr(&a, f.t, file, &s), 0);
	CU_ASSERT(!(a.flags & INODE_F_MTIME_SET));
	CU_ASSERT(a.mtime_ns > 1200000000987654321LL);
	CU_ASSERT_EQUAL(inode_setattr(&a, f.t, 999, &s), EFS_ENOTFOUND);
	fx_close(&f);
}

static void test_inode__mtime_rule(void)
{
	struct inode_set s = { .valid = INODE_SET_MTIME,
			       .mtime_ns = 1234567890000000007LL };
	struct inode_attr a;
	struct cid c;
	struct fx f;
	uint64_t file;

	fx_open(&f);
	make_cid(&c, 2);
	file = mk(&f, INODE_ROOT, "f", S_IFREG | 0644);
	/* writes show at once */
	CU_ASSERT_EQUAL(inode_note_write(f.t, file, 4096), 0);
	a = attr(&f, file);
	CU_ASSERT_EQUAL(a.size, 4096);
	/* rsync: write, then utimens, then the flush comes */
	CU_ASSERT_EQUAL(inode_setattr(&a, f.t, file, &s), 0);
	CU_ASSERT_EQUAL(a.size, 4096);
	CU_ASSERT_EQUAL(inode_set_content(f.t, file, &c, 4096, 4096), 0);
	a = attr(&f, file);
	CU_ASSERT_EQUAL(a.mtime_ns, 1234567890000000007LL);
	CU_ASSERT_EQUAL(a.size, 4096);
	/* a write after the utimens wins again */
	CU_ASSERT_EQUAL(inode_note_write(f.t, file, 8192), 0);
	CU_ASSERT_EQUAL(inode_set_content(f.t, file, &c, 8192, 8192), 0);
	a = attr(&f, file);
	CU_ASSERT(a.mtime_ns > 1234567890000000007LL);
	CU_ASSERT(!(a.flags & INODE_F_MTIME_SET));
	CU_ASSERT_EQUAL(a.size, 8192);
	/* a write staged after the flush's snapshot keeps showing */
	CU_ASSERT_EQUAL(inode_note_write(f.t, file, 9000), 0);
	CU_ASSERT_EQUAL(inode_set_content(f.t, file, &c, 8192, 8192), 0);
	CU_ASSERT_EQUAL(attr(&f, file).size, 9000);
	CU_ASSERT_EQUAL(inode_set_content(f.t, file, &c, 9000, 9000), 0);
	CU_ASSERT_EQUAL(attr(&f, file).size, 9000);
	/* nothing changed: nothing written, the times stay */
	a = attr(&f, file);
	CU_ASSERT_EQUAL(inode_set_content(f.t, file, &c, 9000, 9000), 0);
	CU_ASSERT_EQUAL(attr(&f, file).ctime_ns, a.ctime_ns);
	/* dropped writes drop their size */
	CU_ASSERT_EQUAL(inode_note_write(f.t, file, 1), 0);
	CU_ASSERT_EQUAL(attr(&f, file).size, 1);
	inode_pending_discard(f.t, file);
	CU_ASSERT_EQUAL(attr(&f, file).size, 9000);
	fx_close(&f);
}

/* ---- content and pins ---- */

static void test_inode__content_pins(void)
{
	struct inode_content c;
	struct cid c1, c2;
	struct pins ps;
	struct fx f;
	uint64_t file, d;

	fx_open(&f);
	make_cid(&c1, 1);
	make_cid(&c2, 2);
	d = mk(&f, INODE_ROOT, "d", S_IFDIR | 0755);
	file = mk(&f, INODE_ROOT, "f", S_IFREG | 0644);
	CU_ASSERT_EQUAL(inode_get_content(&c, f.t, file), 0);
	CU_ASSERT(!c.has_root);
	CU_ASSERT_EQUAL(inode_get_content(&c, f.t, d), FS_EISDIR);
	CU_ASSERT_EQUAL(inode_set_content(f.t, d, &c1, 1, 1), FS_EISDIR);
	CU_ASSERT_EQUAL(inode_set_content(f.t, file, &c1, 100, 110), 0);
	CU_ASSERT_EQUAL(inode_get_content(&c, f.t, file), 0);
	CU_ASSERT(c.has_root && cid_equal(&c.root, &c1));
	CU_ASSERT_EQUAL(c.size, 100);
	CU_ASSERT_EQUAL(c.tsize, 110);
	ps = pins_of(&f, file);
	CU_ASSERT_EQUAL(ps.n, 1);
	CU_ASSERT(cid_equal(&ps.root, &c1));
	/* the same root again keeps its pin; a new one moves it */
	CU_ASSERT_EQUAL(inode_set_content(f.t, file, &c1, 100, 110), 0);
	CU_ASSERT_EQUAL(pins_of(&f, file).n, 1);
	CU_ASSERT_EQUAL(inode_set_content(f.t, file, &c2, 200, 210), 0);
	ps = pins_of(&f, file);
	CU_ASSERT_EQUAL(ps.n, 1);
	CU_ASSERT(cid_equal(&ps.root, &c2));
	CU_ASSERT_EQUAL(attr(&f, file).size, 200);
	/* truncated to empty: no DAG, no pin (whatever root is given) */
	CU_ASSERT_EQUAL(inode_set_content(f.t, file, &c1, 0, 0), 0);
	CU_ASSERT_EQUAL(pins_of(&f, file).n, 0);
	CU_ASSERT_EQUAL(inode_get_content(&c, f.t, file), 0);
	CU_ASSERT(!c.has_root);
	CU_ASSERT_EQUAL(c.size, 0);
	CU_ASSERT_EQUAL(inode_set_content(f.t, file, &c2, 200, 210), 0);
	CU_ASSERT_EQUAL(inode_unlink(f.t, INODE_ROOT, "f", false), 0);
	ps = pins_of(&f, file);
	CU_ASSERT_EQUAL(ps.n, 0);
	CU_ASSERT_EQUAL(ps.fs, 0);
	fx_close(&f);
}

static int first_fs_pin(const struct bstore_pin *p, void *payload)
{
	if (strncmp(p->name, "fs:", 3) != 0)
		return 0;
	*(int64_t *)payload = p->id;
	return 1;
}

static void test_inode__pins_repair(void)
{
	struct cid c1, c2;
	struct pins ps;
	struct fx f;
	int64_t stray, pin;
	uint64_t a, b;

	fx_open(&f);
	make_cid(&c1, 1);
	make_cid(&c2, 2);
	a = mk(&f, INODE_ROOT, "a", S_IFREG | 0644);
	b = mk(&f, INODE_ROOT, "b", S_IFREG | 0644);
	CU_ASSERT_EQUAL(inode_set_content(f.t, a, &c1, 1, 1), 0);
	CU_ASSERT_EQUAL(inode_set_content(f.t, b, &c2, 1, 1), 0);
	/* a crash after step 1 of a content change (invariant 2): the new
	 * root pinned, the row unchanged */
	CU_ASSERT_EQUAL(bstore_pin(&stray, f.bs, &c2, "fs:2"), 0);
	/* a tag of ours for an inode that does not exist */
	CU_ASSERT_EQUAL(bstore_pin(&stray, f.bs, &c2, "fs:77"), 0);
	CU_ASSERT_EQUAL(bstore_pin(&stray, f.bs, &c2, "fs:bogus"), 0);
	/* someone else's pins are left alone */
	CU_ASSERT_EQUAL(bstore_pin(&pin, f.bs, &c2, "commit:1"), 0);
	fx_remount(&f);
	CU_ASSERT_EQUAL(f.rec.pins_dropped, 3);
	CU_ASSERT_EQUAL(f.rec.pins_added, 0);
	CU_ASSERT_EQUAL(pins_of(&f, a).n, 1);
	ps = pins_of(&f, b);
	CU_ASSERT_EQUAL(ps.n, 1);
	CU_ASSERT_EQUAL(ps.fs, 2);
	/* a lost pin (the row names a pin that is gone) is made again:
	 * drop every fs pin behind the table's back */
	inode_table_close(f.t);
	f.t = NULL;
	for (;;) {
		int64_t found = 0;

		bstore_pins_foreach(f.bs, first_fs_pin, &found);
		if (!found)
			break;
		CU_ASSERT_EQUAL_FATAL(bstore_unpin(f.bs, found), 0);
	}
	CU_ASSERT_EQUAL_FATAL(fx_reopen_table(&f), 0);
	CU_ASSERT_EQUAL(f.rec.pins_added, 2);
	CU_ASSERT_EQUAL(pins_of(&f, a).n, 1);
	ps = pins_of(&f, b);
	CU_ASSERT_EQUAL(ps.n, 1);
	CU_ASSERT(cid_equal(&ps.root, &c2));
	/* and a reopen with nothing wrong repairs nothing */
	fx_remount(&f);
	CU_ASSERT_EQUAL(f.rec.pins_added + f.rec.pins_dropped + f.rec.orphans,
			0);
	fx_close(&f);
}

/* ---- directory CID caches ---- */

static void test_inode__dircid_versions(void)
{
	struct inode_content c;
	uint64_t v0, v1, va, vb;
	struct cid k;
	bool stored;
	struct fx f;
	uint64_t a, b, file;

	fx_open(&f);
	make_cid(&k, 9);
	a = mk(&f, INODE_ROOT, "a", S_IFDIR | 0755);
	b = mk(&f, a, "b", S_IFDIR | 0755);
	file = mk(&f, b, "f", S_IFREG | 0644);
	CU_ASSERT_EQUAL(inode_dircid_get(&c, &v0, f.t, b), 0);
	CU_ASSERT(!c.has_root);
	CU_ASSERT_EQUAL(inode_dircid_get(&c, &v0, f.t, file), FS_ENOTDIR);
	/* cache bottom-up */
	CU_ASSERT_EQUAL(inode_dircid_get(&c, &vb, f.t, b), 0);
	CU_ASSERT_EQUAL(inode_dircid_set(&stored, f.t, b, vb, &k, 10), 0);
	CU_ASSERT(stored);
	CU_ASSERT_EQUAL(inode_dircid_get(&c, &va, f.t, a), 0);
	CU_ASSERT_EQUAL(inode_dircid_set(&stored, f.t, a, va, &k, 20), 0);
	CU_ASSERT(stored);
	CU_ASSERT_EQUAL(inode_dircid_get(&c, &v1, f.t, a), 0);
	CU_ASSERT(c.has_root && cid_equal(&c.root, &k) && c.tsize == 20);
	/* a change below b clears b and a (and bumps them) */
	CU_ASSERT_EQUAL(inode_set_content(f.t, file, &k, 1, 1), 0);
	CU_ASSERT_EQUAL(inode_dircid_get(&c, &v1, f.t, b), 0);
	CU_ASSERT(!c.has_root && v1 != vb);
	CU_ASSERT_EQUAL(inode_dircid_get(&c, &v1, f.t, a), 0);
	CU_ASSERT(!c.has_root && v1 != va);
	/* a stale computation is not stored */
	CU_ASSERT_EQUAL(inode_dircid_set(&stored, f.t, a, va, &k, 20), 0);
	CU_ASSERT(!stored);
	/* a computation in flight at a (nothing cached) sees a change
	 * below it through the version, even when the walk stops at a */
	CU_ASSERT_EQUAL(inode_dircid_get(&c, &va, f.t, a), 0);
	CU_ASSERT_EQUAL(inode_dircid_get(&c, &vb, f.t, b), 0);
	CU_ASSERT_EQUAL(inode_dircid_set(&stored, f.t, b, vb, &k, 10), 0);
	CU_ASSERT(stored);
	mk(&f, b, "g", S_IFREG | 0644);
	CU_ASSERT_EQUAL(inode_dircid_set(&stored, f.t, a, va, &k, 20), 0);
	CU_ASSERT(!stored);
	fx_close(&f);
}

struct snap {
	int n;
	bool saw_file_root;
};

static int snap_cb(const struct inode_dirent *e, void *payload)
{
	struct snap *s = payload;

	s->n++;
	if (S_ISREG(e->attr.mode) && e->content.has_root)
		s->saw_file_root = true;
	return 0;
}

static void test_inode__dir_snapshot(void)
{
	struct snap s = { 0 };
	uint64_t ver;
	struct cid k;
	struct fx f;
	uint64_t file;

	fx_open(&f);
	make_cid(&k, 3);
	file = mk(&f, INODE_ROOT, "f", S_IFREG | 0644);
	mk(&f, INODE_ROOT, "d", S_IFDIR | 0755);
	CU_ASSERT_EQUAL(inode_set_content(f.t, file, &k, 5, 5), 0);
	CU_ASSERT_EQUAL(inode_dir_snapshot(&ver, f.t, INODE_ROOT, snap_cb, &s),
			0);
	CU_ASSERT_EQUAL(s.n, 2);
	CU_ASSERT(s.saw_file_root);
	fx_close(&f);
}

/* ---- xattrs ---- */

static void test_inode__xattrs(void)
{
	struct buf v = BUF_INIT(BUF_NOCAP);
	char big[INODE_XATTR_VALUE_MAX + 1];
	struct fx f;
	uint64_t file;

	fx_open(&f);
	file = mk(&f, INODE_ROOT, "f", S_IFREG | 0644);
	CU_ASSERT_EQUAL(inode_xattr_get(&v, f.t, file, "user.a"), FS_ENODATA);
	CU_ASSERT_EQUAL(inode_xattr_get(&v, f.t, 999, "user.a"),
			EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(inode_xattr_set(f.t, file, "user.a", "one", 3, 0), 0);
	CU_ASSERT_EQUAL(inode_xattr_set(f.t, file, "user.b", "", 0, 0), 0);
	CU_ASSERT_EQUAL(inode_xattr_set(f.t, file, "user.a", "x", 1,
					INODE_XATTR_CREATE),
			EFS_EEXISTS);
	CU_ASSERT_EQUAL(inode_xattr_set(f.t, file, "user.c", "x", 1,
					INODE_XATTR_REPLACE),
			FS_ENODATA);
	CU_ASSERT_EQUAL(inode_xattr_set(f.t, file, "user.a", "two", 3,
					INODE_XATTR_REPLACE),
			0);
	CU_ASSERT_EQUAL(inode_xattr_get(&v, f.t, file, "user.a"), 0);
	CU_ASSERT_EQUAL(v.len, 3);
	CU_ASSERT(!memcmp(v.ptr, "two", 3));
	buf_reset(&v);
	CU_ASSERT_EQUAL(inode_xattr_get(&v, f.t, file, "user.b"), 0);
	CU_ASSERT_EQUAL(v.len, 0);
	buf_reset(&v);
	CU_ASSERT_EQUAL(inode_xattr_list(&v, f.t, file), 0);
	CU_ASSERT_EQUAL(v.len, sizeof("user.a") * 2);
	CU_ASSERT(!memcmp(v.ptr, "user.a\0user.b\0", v.len));
	memset(big, 'v', sizeof(big));
	CU_ASSERT_EQUAL(inode_xattr_set(f.t, file, "user.big", big,
					sizeof(big), 0),
			EFS_ETOOBIG);
	CU_ASSERT_EQUAL(inode_xattr_set(f.t, file, "user.big", big,
					sizeof(big) - 1, 0),
			0);
	CU_ASSERT_EQUAL(inode_xattr_remove(f.t, file, "user.a"), 0);
	CU_ASSERT_EQUAL(inode_xattr_remove(f.t, file, "user.a"), FS_ENODATA);
	buf_reset(&v);
	CU_ASSERT_EQUAL(inode_xattr_list(&v, f.t, file), 0);
	CU_ASSERT(!memcmp(v.ptr, "user.b\0user.big\0", v.len));
	buf_release(&v);
	fx_close(&f);
}

/* ---- persistence ---- */

static void test_inode__persistence(void)
{
	struct inode_set s = { .valid = INODE_SET_MTIME,
			       .mtime_ns = 1500000000000000001LL };
	struct buf v = BUF_INIT(BUF_NOCAP);
	struct inode_content c;
	struct inode_attr a;
	struct cid k;
	struct fx f;
	uint64_t d, file, next;

	fx_open(&f);
	make_cid(&k, 4);
	d = mk(&f, INODE_ROOT, "d", S_IFDIR | 0700);
	file = mk(&f, d, "f", S_IFREG | 0600);
	CU_ASSERT_EQUAL(inode_set_content(f.t, file, &k, 77, 80), 0);
	CU_ASSERT_EQUAL(inode_setattr(&a, f.t, file, &s), 0);
	CU_ASSERT_EQUAL(inode_xattr_set(f.t, file, "user.k", "v", 1, 0), 0);
	CU_ASSERT_EQUAL(inode_meta_set(f.t, "profile", "unixfs-v1-2025", 14),
			0);
	CU_ASSERT_EQUAL(inode_sync(f.t), 0);
	CU_ASSERT_EQUAL(inode_unlink(f.t, d, "f", false) == 0, 1);
	CU_ASSERT_EQUAL(look(&f, d, "f"), 0);
	/* recreate, then check numbers are never reused after remount */
	file = mk(&f, d, "f", S_IFREG | 0600);
	CU_ASSERT_EQUAL(inode_set_content(f.t, file, &k, 77, 80), 0);
	CU_ASSERT_EQUAL(inode_setattr(&a, f.t, file, &s), 0);
	fx_remount(&f);
	CU_ASSERT_EQUAL(look(&f, INODE_ROOT, "d"), d);
	CU_ASSERT_EQUAL(look(&f, d, "f"), file);
	a = attr(&f, file);
	CU_ASSERT_EQUAL(a.mode, S_IFREG | 0600);
	CU_ASSERT_EQUAL(a.size, 77);
	CU_ASSERT_EQUAL(a.mtime_ns, 1500000000000000001LL);
	CU_ASSERT_EQUAL(inode_get_content(&c, f.t, file), 0);
	CU_ASSERT(cid_equal(&c.root, &k));
	CU_ASSERT_EQUAL(inode_meta_get(&v, f.t, "profile"), 0);
	CU_ASSERT_STRING_EQUAL((char *)v.ptr, "unixfs-v1-2025");
	CU_ASSERT_EQUAL(inode_meta_get(&v, f.t, "nope"), EFS_ENOTFOUND);
	/* numbers are never reused, not even the highest after a remount */
	next = mk(&f, INODE_ROOT, "n", S_IFREG | 0644);
	CU_ASSERT(next > file);
	CU_ASSERT_EQUAL(inode_count(f.t), 4);
	CU_ASSERT_EQUAL(inode_unlink(f.t, INODE_ROOT, "n", false), 0);
	fx_remount(&f);
	CU_ASSERT(mk(&f, INODE_ROOT, "n2", S_IFREG | 0644) > next);
	buf_release(&v);
	fx_close(&f);
}

/* ---- allocation failures ---- */

struct alloc_ctx {
	char path[4096];
	char db[4200];
	struct bstore *bs;
	int round;
};

static int alloc_run(void *payload)
{
	struct alloc_ctx *c = payload;
	struct inode_new n = { .mode = S_IFREG | 0644 };
	struct buf v = BUF_INIT(BUF_NOCAP);
	struct inode_table *t = NULL;
	struct inode_attr a;
	char name[32];
	int k = 0;
	int error;

	if ((error = inode_table_open(&t, NULL, c->db, c->bs, NULL)) < 0)
		return error;
	snprintf(name, sizeof(name), "f%d", c->round++);
	if ((error = inode_create(&a, t, INODE_ROOT, name, &n)) < 0 ||
	    (error = inode_ref(t, a.ino)) < 0 ||
	    (error = inode_note_write(t, a.ino, 10)) < 0 ||
	    (error = inode_xattr_set(t, a.ino, "user.x", "y", 1, 0)) < 0 ||
	    (error = inode_xattr_list(&v, t, a.ino)) < 0 ||
	    (error = inode_readdir(t, INODE_ROOT, 0, count_cb, &k)) < 0 ||
	    (error = inode_unlink(t, INODE_ROOT, name, false)) < 0 ||
	    (error = inode_forget(t, a.ino, 1)) < 0)
		goto out;
out:
	buf_release(&v);
	inode_table_close(t);
	return error;
}

static void test_inode__alloc_failures(void)
{
	struct alloc_ctx c;
	long runs;

	memset(&c, 0, sizeof(c));
	snprintf(c.path, sizeof(c.path), "%s/alloc", *fsx_suite_dir());
	CU_ASSERT_EQUAL_FATAL(mkdir(c.path, 0755), 0);
	snprintf(c.db, sizeof(c.db), "%s/index.db", c.path);
	CU_ASSERT_EQUAL_FATAL(bstore_open(&c.bs, c.path, NULL), 0);
	runs = harness_alloc_loop(alloc_run, &c);
	CU_ASSERT(runs > 5);
	CU_ASSERT_EQUAL(bstore_close(c.bs), 0);
}

static CU_TestInfo inode_tests[] = {
	{ "create_types", test_inode__create_types },
	{ "create_errors", test_inode__create_errors },
	{ "setgid_dirs", test_inode__setgid_dirs },
	{ "links", test_inode__links },
	{ "rmdir", test_inode__rmdir },
	{ "orphans", test_inode__orphans },
	{ "rename_basic", test_inode__rename_basic },
	{ "rename_replace_rules", test_inode__rename_replace_rules },
	{ "rename_exchange", test_inode__rename_exchange },
	{ "readdir_stable", test_inode__readdir_stable },
	{ "big_directory", test_inode__big_directory },
	{ "rename_victims", test_inode__rename_victims },
	{ "setattr", test_inode__setattr },
	{ "mtime_rule", test_inode__mtime_rule },
	{ "content_pins", test_inode__content_pins },
	{ "pins_repair", test_inode__pins_repair },
	{ "dircid_versions", test_inode__dircid_versions },
	{ "dir_snapshot", test_inode__dir_snapshot },
	{ "xattrs", test_inode__xattrs },
	{ "persistence", test_inode__persistence },
	{ "alloc_failures", test_inode__alloc_failures },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "inode", .pInitFunc = fsx_suite_setup,
	       .pCleanupFunc = fsx_suite_teardown, .pTests = inode_tests })
