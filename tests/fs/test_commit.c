/*
 * test_commit.c - commits of directories: the record (CID equal to the
 * reference importer's, path, size and counts), an unchanged directory
 * recording nothing, a change recording a new commit, the snapshot
 * surviving later changes and gc (its pin), the pin of an unfinished
 * commit dropped at open, the read-only listing and its JSON, errors,
 * auto-commit after an idle period, and the allocation-failure loop.
 */
#include "fs/commit.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/bstore.h"
#include "core/error.h"
#include "fs/errmap.h"
#include "fs/inode.h"
#include "tests/fs/fs_test.h"
#include "tests/harness.h"


struct cx {
	struct fsx f;
	struct commit_state *cs;
	uint64_t ino[5];
};

static void cx_open(struct cx *c)
{
	fsx_open_next(&c->f, "unixfs-v1-2025");
	CU_ASSERT_EQUAL_FATAL(commit_open(&c->cs, c->f.db, c->f.t, c->f.bs,
					  &c->f.iopts),
			      0);
	fsx_golden_tree(&c->f, INODE_ROOT, c->ino, false);
}

static void cx_close(struct cx *c)
{
	commit_close(c->cs);
	c->cs = NULL;
	fsx_close(&c->f);
}

static int count_pins(const struct bstore_pin *p, void *payload)
{
	if (strcmp(p->name, "fscommit") == 0)
		(*(int *)payload)++;
	return 0;
}

static int commit_pins(struct cx *c)
{
	int n = 0;

	CU_ASSERT_EQUAL(bstore_pins_foreach(c->f.bs, count_pins, &n), 0);
	return n;
}

static void test_commit__record(void)
{
	struct commit_record r, again;
	char s[CID_STR_MAX];
	bool created;
	struct cx c;

	cx_open(&c);
	CU_ASSERT_EQUAL(commit_dir(&r, &created, c.cs, INODE_ROOT), 0);
	CU_ASSERT(created);
	CU_ASSERT_STRING_EQUAL(cid_tostr(s, &r.root), fsx_golden_root);
	CU_ASSERT_STRING_EQUAL(r.path, "/");
	CU_ASSERT_EQUAL(r.size, 6 + FSX_BIG_LEN);
	CU_ASSERT_EQUAL(r.files, 4);
	CU_ASSERT_EQUAL(r.dirs, 3);
	CU_ASSERT_EQUAL(r.ino, INODE_ROOT);
	CU_ASSERT(r.time_ns > 0);
	/* unchanged: the same commit, nothing recorded */
	CU_ASSERT_EQUAL(commit_dir(&again, &created, c.cs, INODE_ROOT), 0);
	CU_ASSERT(!created);
	CU_ASSERT_EQUAL(again.id, r.id);
	CU_ASSERT_EQUAL(commit_pins(&c), 1);
	commit_record_release(&again);
	/* a subdirectory has its own commits and path */
	CU_ASSERT_EQUAL(commit_dir(&again, &created, c.cs, c.ino[2]), 0);
	CU_ASSERT(created);
	CU_ASSERT_STRING_EQUAL(again.path, "/sub");
	CU_ASSERT_STRING_EQUAL(cid_tostr(s, &again.root), fsx_golden_sub);
	CU_ASSERT(again.id > r.id);
	commit_record_release(&again);
	CU_ASSERT_EQUAL(commit_last(&again, c.cs, INODE_ROOT), 0);
	CU_ASSERT_EQUAL(again.id, r.id);
	commit_record_release(&again);
	commit_record_release(&r);
	cx_close(&c);
}

static void test_commit__changes(void)
{
	struct commit_record r1, r2;
	struct cid old_hello;
	struct inode_content hc;
	bool created;
	struct cx c;

	cx_open(&c);
	CU_ASSERT_EQUAL(commit_dir(&r1, &created, c.cs, INODE_ROOT), 0);
	CU_ASSERT_EQUAL(inode_get_content(&hc, c.f.t, c.ino[0]), 0);
	old_hello = hc.root;
	fsx_write(&c.f, c.ino[0], "changed\n", 8, false);
	CU_ASSERT_EQUAL(commit_dir(&r2, &created, c.cs, INODE_ROOT), 0);
	CU_ASSERT(created);
	CU_ASSERT(!cid_equal(&r1.root, &r2.root));
	CU_ASSERT_EQUAL(r2.size, 8 + FSX_BIG_LEN);
	CU_ASSERT_EQUAL(commit_pins(&c), 2);
	/* the first snapshot outlives the change: its blocks are pinned,
	 * while gc (hours later) frees what nothing holds any more */
	inode_drain(c.f.t); /* the file's own pin of old_hello is gone */
	bstore_test_clock(c.f.bs, time(NULL) + 10 * 3600);
	{
		struct bstore_gc_result gc;

		CU_ASSERT_EQUAL(bstore_gc(&gc, c.f.bs), 0);
	}
	CU_ASSERT(bstore_has(c.f.bs, &r1.root));
	CU_ASSERT(bstore_has(c.f.bs, &old_hello));
	commit_record_release(&r1);
	commit_record_release(&r2);
	cx_close(&c);
}

static void test_commit__unfinished_pin(void)
{
	struct commit_record r;
	int64_t pin;
	bool created;
	struct cx c;

	cx_open(&c);
	CU_ASSERT_EQUAL(commit_dir(&r, &created, c.cs, INODE_ROOT), 0);
	/* a crash between the pin and the row (invariant 1) */
	CU_ASSERT_EQUAL(bstore_pin(&pin, c.f.bs, &r.root, "fscommit"), 0);
	CU_ASSERT_EQUAL(commit_pins(&c), 2);
	commit_close(c.cs);
	CU_ASSERT_EQUAL_FATAL(commit_open(&c.cs, c.f.db, c.f.t, c.f.bs,
					  &c.f.iopts),
			      0);
	CU_ASSERT_EQUAL(commit_pins(&c), 1);
	commit_record_release(&r);
	cx_close(&c);
}

struct listing {
	int n;
	int64_t last;
	struct buf json;
};

static int list_cb(const struct commit_record *r, void *payload)
{
	struct listing *l = payload;

	CU_ASSERT(r->id > l->last);
	l->last = r->id;
	l->n++;
	buf_reset(&l->json);
	return commit_record_json(&l->json, r);
}

static void test_commit__list_json(void)
{
	struct listing l = { .json = BUF_INIT(BUF_NOCAP) };
	struct commit_record r;
	char want[512], s[CID_STR_MAX];
	bool created;
	struct cx c;
	uint64_t odd;

	cx_open(&c);
	/* a repository whose commits table does not exist yet */
	CU_ASSERT_EQUAL(commit_list(c.f.db, list_cb, &l), 0);
	CU_ASSERT_EQUAL(l.n, 0);
	odd = fsx_mk(&c.f, INODE_ROOT, "a \"q\"\\", S_IFDIR | 0755);
	CU_ASSERT_EQUAL(commit_dir(&r, &created, c.cs, INODE_ROOT), 0);
	commit_record_release(&r);
	CU_ASSERT_EQUAL(commit_dir(&r, &created, c.cs, odd), 0);
	CU_ASSERT_EQUAL(commit_list(c.f.db, list_cb, &l), 0);
	CU_ASSERT_EQUAL(l.n, 2);
	snprintf(want, sizeof(want),
		 "{\"id\":%d,\"cid\":\"%s\",\"path\":\"/a \\\"q\\\"\\\\\","
		 "\"time\":\"", (int)r.id, cid_tostr(s, &r.root));
	CU_ASSERT_NSTRING_EQUAL((char *)l.json.ptr, want, strlen(want));
	CU_ASSERT(strstr((char *)l.json.ptr,
			 "Z\",\"size\":0,\"files\":0,\"dirs\":1}") != NULL);
	commit_record_release(&r);
	buf_release(&l.json);
	cx_close(&c);
}

struct since {
	int64_t ids[8];
	int n;
	int stop_at;           /* stop (return 7) at this many; 0: never */
};

static int since_cb(const struct commit_record *r, void *payload)
{
	struct since *l = payload;

	if (l->n < 8)
		l->ids[l->n] = r->id;
	l->n++;
	return l->n == l->stop_at ? 7 : 0;
}

/* Commit dir, which must record a new commit; its id. */
static int64_t cx_commit(struct cx *c, uint64_t dir)
{
	struct commit_record r;
	bool created = false;
	int64_t id;

	CU_ASSERT_EQUAL_FATAL(commit_dir(&r, &created, c->cs, dir), 0);
	CU_ASSERT(created);
	id = r.id;
	commit_record_release(&r);
	return id;
}

static void test_commit__list_since(void)
{
	struct since l = { .n = 0 };
	int64_t ids[4];
	struct cx c;

	cx_open(&c);
	/* no table yet, and no index at all */
	CU_ASSERT_EQUAL(commit_list_since(c.f.db, 0, since_cb, &l), 0);
	CU_ASSERT_EQUAL(commit_list_since("/nonexistent/index.db", 0,
					  since_cb, &l),
			0);
	CU_ASSERT_EQUAL(l.n, 0);
	ids[0] = cx_commit(&c, c.ino[3]);
	ids[1] = cx_commit(&c, c.ino[2]);
	ids[2] = cx_commit(&c, INODE_ROOT);
	fsx_mk(&c.f, c.ino[2], "x", S_IFREG | 0644);
	ids[3] = cx_commit(&c, c.ino[2]);
	/* everything, in id order */
	CU_ASSERT_EQUAL(commit_list_since(c.f.db, 0, since_cb, &l), 0);
	CU_ASSERT_EQUAL_FATAL(l.n, 4);
	for (int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(l.ids[i], ids[i]);
	/* only those above the cursor */
	memset(&l, 0, sizeof(l));
	CU_ASSERT_EQUAL(commit_list_since(c.f.db, ids[1], since_cb, &l), 0);
	CU_ASSERT_EQUAL(l.n, 2);
	CU_ASSERT_EQUAL(l.ids[0], ids[2]);
	CU_ASSERT_EQUAL(l.ids[1], ids[3]);
	memset(&l, 0, sizeof(l));
	CU_ASSERT_EQUAL(commit_list_since(c.f.db, ids[3], since_cb, &l), 0);
	CU_ASSERT_EQUAL(l.n, 0);
	/* a negative cursor is all of them; cb's value stops the walk */
	memset(&l, 0, sizeof(l));
	l.stop_at = 2;
	CU_ASSERT_EQUAL(commit_list_since(c.f.db, -5, since_cb, &l), 7);
	CU_ASSERT_EQUAL(l.n, 2);
	CU_ASSERT_EQUAL(l.ids[1], ids[1]);
	/* commit_list is the same walk from the start */
	memset(&l, 0, sizeof(l));
	CU_ASSERT_EQUAL(commit_list(c.f.db, since_cb, &l), 0);
	CU_ASSERT_EQUAL(l.n, 4);
	CU_ASSERT_EQUAL(l.ids[3], ids[3]);
	cx_close(&c);
}

static void test_commit__errors(void)
{
	struct commit_record r;
	bool created;
	struct cx c;

	cx_open(&c);
	CU_ASSERT_EQUAL(commit_dir(&r, &created, c.cs, c.ino[0]), FS_ENOTDIR);
	CU_ASSERT_EQUAL(commit_dir(&r, &created, c.cs, 999), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(commit_last(&r, c.cs, INODE_ROOT), EFS_ENOTFOUND);
	fsx_mk(&c.f, c.ino[3], "bad\xfe", S_IFREG | 0644);
	CU_ASSERT_EQUAL(commit_dir(&r, &created, c.cs, c.ino[3]), EFS_EINVAL);
	CU_ASSERT_EQUAL(commit_pins(&c), 0);
	CU_ASSERT_EQUAL(commit_auto_start(c.cs, 0), EFS_EINVAL);
	cx_close(&c);
}

static void test_commit__auto(void)
{
	struct commit_record r;
	bool done = false;
	struct cx c;

	cx_open(&c);
	CU_ASSERT_EQUAL(commit_auto_start(c.cs, 1), 0);
	/* the root is watched from the start: committed once idle */
	for (int i = 0; i < 100 && !done; i++) {
		usleep(100 * 1000);
		done = commit_last(&r, c.cs, INODE_ROOT) == 0;
	}
	CU_ASSERT_FATAL(done);
	commit_record_release(&r);
	fsx_mk(&c.f, INODE_ROOT, "later", S_IFREG | 0644);
	done = false;
	for (int i = 0; i < 100 && !done; i++) {
		usleep(100 * 1000);
		if (commit_last(&r, c.cs, INODE_ROOT) == 0) {
			done = r.files == 5;
			commit_record_release(&r);
		}
	}
	CU_ASSERT(done);
	cx_close(&c);
}

static int alloc_run(void *payload)
{
	struct cx *c = payload;
	struct commit_record r;
	struct listing l = { .json = BUF_INIT(BUF_NOCAP) };
	bool created;
	int error;

	/* a change each run, so each run records a commit */
	if ((error = commit_dir(&r, &created, c->cs, INODE_ROOT)) < 0)
		return error;
	commit_record_release(&r);
	error = commit_list(c->f.db, list_cb, &l);
	buf_release(&l.json);
	if (error == 0) {
		struct inode_new n = { .mode = S_IFREG | 0644 };
		struct inode_attr a;
		char name[32];

		snprintf(name, sizeof(name), "n%d", l.n);
		error = inode_create(&a, c->f.t, INODE_ROOT, name, &n);
	}
	return error;
}

static void test_commit__alloc_failures(void)
{
	struct cx c;

	cx_open(&c);
	CU_ASSERT(harness_alloc_loop(alloc_run, &c) > 5);
	cx_close(&c);
}

static CU_TestInfo commit_tests[] = {
	{ "record", test_commit__record },
	{ "changes", test_commit__changes },
	{ "unfinished_pin", test_commit__unfinished_pin },
	{ "list_json", test_commit__list_json },
	{ "list_since", test_commit__list_since },
	{ "errors", test_commit__errors },
	{ "auto", test_commit__auto },
	{ "alloc_failures", test_commit__alloc_failures },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "commit", .pInitFunc = fsx_suite_setup,
	       .pCleanupFunc = fsx_suite_teardown, .pTests = commit_tests })
