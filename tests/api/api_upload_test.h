/*
 * api_upload_test.h - what the upload route tests (test_api_upload.c,
 * test_api_upload_stream.c) share: fake filesystem hooks that record
 * the grafts and commits asked of them, a repository with the daemon's
 * pieces and an API server over it (struct fixture), and a CAR writer
 * callback into a struct buf.
 *
 * Static functions in a header, as api_test.h: each test is one .c file
 * that includes it once.
 */
#ifndef EFS_TESTS_API_API_UPLOAD_TEST_H
#define EFS_TESTS_API_API_UPLOAD_TEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "api/api_server.h"
#include "api/api_token.h"
#include "core/bstore.h"
#include "core/buf.h"
#include "core/cid.h"
#include "core/error.h"
#include "core/mhash.h"
#include "dealer/evict.h"
#include "tests/api/api_test.h"
#include "tests/harness.h"

/* Fake filesystem hooks: what graft and commit were asked. */
struct fake_fs {
	char taken[8][256];          /* paths graft says exist */
	size_t ntaken;
	char grafted[256];           /* the last graft that succeeded */
	struct cid graft_root;
	unsigned grafts;             /* calls, refused ones included */
	char committed[256];
	unsigned commits;
	int graft_rc;                /* forced result (0: normal) */
};

static int fake_graft(void *cls, const char *path, const struct cid *root)
{
	struct fake_fs *fs = cls;

	fs->grafts++;
	if (fs->graft_rc)
		return efs_error_set(fs->graft_rc, "fake: graft refused");
	for (size_t i = 0; i < fs->ntaken; i++)
		if (strcmp(fs->taken[i], path) == 0)
			return efs_error_set(EFS_EEXISTS, "fake: %s exists",
					     path);
	snprintf(fs->grafted, sizeof(fs->grafted), "%s", path);
	if (fs->ntaken < 8)
		snprintf(fs->taken[fs->ntaken++], 256, "%s", path);
	fs->graft_root = *root;
	return 0;
}

static int fake_commit(void *cls, const char *path, struct cid *out)
{
	struct fake_fs *fs = cls;

	fs->commits++;
	snprintf(fs->committed, sizeof(fs->committed), "%s", path);
	return cid_hash(out, 1, CID_CODEC_DAG_PB, MHASH_SHA2_256, path,
			strlen(path));
}

/* A repository and the daemon's pieces over it. */
struct fixture {
	char dir[4096];
	char db[4200];
	char tok[API_TOKEN_SIZE];
	struct bstore *bs;
	struct evict *e;
	struct api_server *s;
	struct fake_fs fs;
};

/*
 * A repository tmp/name with a blockstore, an evictor and the admin
 * token, and an API server on 127.0.0.1:0 over them with uploads capped
 * at upload_max (0: the default) and, when with_fs, the fake hooks.
 */
static void fixture_open(struct fixture *f, const char *name, bool with_fs,
			 uint64_t upload_max)
{
	struct bstore_opts bo = BSTORE_OPTS_INIT;
	struct api_server_opts so = { 0 };
	struct api_fs_hooks hooks = { fake_graft, fake_commit, NULL, NULL };

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "%s/%s", tmp, name);
	snprintf(f->db, sizeof(f->db), "%s/index.db", f->dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(f->dir, 0700), 0);
	CU_ASSERT_EQUAL_FATAL(bstore_open(&f->bs, f->dir, &bo), 0);
	CU_ASSERT_EQUAL_FATAL(evict_open(&f->e, f->bs, f->db, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(api_token_create(f->tok, f->dir), 0);
	so.token = f->tok;
	so.repo = f->dir;
	so.upload_max = upload_max;
	hooks.cls = &f->fs;
	if (with_fs)
		so.fs = &hooks;
	CU_ASSERT_EQUAL_FATAL(api_server_start(&f->s, "127.0.0.1:0", &so), 0);
	api_server_set_evictor(f->s, f->e);
	api_server_set_bstore(f->s, f->bs);
}

static void fixture_close(struct fixture *f)
{
	api_server_stop(f->s);
	evict_close(f->e);
	CU_ASSERT_EQUAL(bstore_close(f->bs), 0);
}

/* A car_writer_new_cb callback: the CAR's bytes onto a struct buf. */
static int car_out(void *payload, const uint8_t *data, size_t len)
{
	return buf_add(payload, data, len);
}

#endif
