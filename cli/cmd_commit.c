/*
 * cmd_commit.c - `estuaryfs commit DIR` and `estuaryfs commits`.
 *
 * commit talks to the daemon serving DIR through the filesystem itself:
 * it sets the xattr user.estuary.commit on DIR (the daemon builds and
 * records the commit before the call returns) and reads it back, which
 * gives the directory's latest commit as JSON (fs/commit.h).  So it works
 * for any user who may write DIR, with no socket or credentials.
 *
 * commits reads the repository's index read-only, beside a running
 * daemon.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <time.h>

#include "cli/cli_i.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/error.h"
#include "fs/commit.h"

#include "core/banned.h"

#define XATTR_COMMIT "user.estuary.commit"

static const char commit_help[] =
	"usage: estuaryfs commit DIR [--json]\n"
	"\n"
	"Snapshot DIR, a directory of a mounted estuaryfs, into an immutable\n"
	"root CID recorded with its time, size and file count, and print the\n"
	"CID.  Committing an unchanged directory gives the same CID and\n"
	"records nothing new.  What is committed is each file as last closed\n"
	"or fsynced.  Scripts may instead run\n"
	"  setfattr -n user.estuary.commit -v 1 DIR\n"
	"\n"
	"options:\n"
	"  --json        print the whole commit record as JSON\n"
	"  -h, --help    this help\n";

static const char commits_help[] =
	"usage: estuaryfs commits [--json]\n"
	"\n"
	"List the repository's commits, oldest first: id, time (UTC), root\n"
	"CID, size, file count and the directory's path in the mount.\n"
	"\n"
	"options:\n"
	"  --json        a JSON array of commit records\n"
	"  -h, --help    this help\n";

static int run_commit(int argc, char **argv);
static int run_commits(int argc, char **argv);

const struct cli_cmd cli_cmd_commit = {
	.name = "commit",
	.summary = "snapshot a directory of the mount into a root CID",
	.help = commit_help,
	.run = run_commit,
};

const struct cli_cmd cli_cmd_commits = {
	.name = "commits",
	.summary = "list the commits",
	.help = commits_help,
	.run = run_commits,
};

/* Parse the "cid" field out of a commit record's JSON. */
static int json_cid(char *out, size_t cap, const char *json)
{
	const char *p = strstr(json, "\"cid\":\"");
	size_t n;

	if (!p)
		return efs_error_set(EFS_ECORRUPT, "commit: no cid in '%s'",
				     json);
	p += strlen("\"cid\":\"");
	n = strcspn(p, "\"");
	if (n == 0 || n >= cap)
		return efs_error_set(EFS_ECORRUPT, "commit: bad cid in '%s'",
				     json);
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/* FUSE's statfs magic: other filesystems must not get our xattr. */
#define FUSE_SUPER_MAGIC 0x65735546

static bool on_estuaryfs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == FUSE_SUPER_MAGIC;
}

static int xattr_fail(const char *what, const char *dir)
{
	int e = errno;

	if (e == ENOTSUP || e == ENODATA)
		return cli_fail(efs_error_set(EFS_EINVAL, "commit: %s is not "
					      "in a mounted estuaryfs", dir));
	if (e == ENOTDIR)
		return cli_fail(efs_error_set(EFS_EINVAL, "commit: %s is not "
					      "a directory", dir));
	return cli_fail(efs_error_set_errno(EFS_EIO, e, "commit: %s %s",
					    what, dir));
}

static int run_commit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char value[8192], cid[CID_STR_MAX];
	bool json = false;
	const char *dir;
	ssize_t n;
	int c, rc;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c != 'j')
			return cli_common_opt(&cli_cmd_commit, c, argv);
		json = true;
	}
	if (optind != argc - 1)
		return cli_usage(&cli_cmd_commit, "needs one DIR");
	dir = argv[optind];
	if (!on_estuaryfs(dir))
		return cli_fail(efs_error_set(EFS_EINVAL, "commit: %s is not "
					      "in a mounted estuaryfs", dir));
	if (setxattr(dir, XATTR_COMMIT, "1", 1, 0) < 0)
		return xattr_fail("committing", dir);
	if ((n = getxattr(dir, XATTR_COMMIT, value, sizeof(value) - 1)) < 0)
		return xattr_fail("reading the commit of", dir);
	value[n] = '\0';
	if (json) {
		printf("%s\n", value);
		return CLI_EXIT_OK;
	}
	if ((rc = json_cid(cid, sizeof(cid), value)) < 0)
		return cli_fail(rc);
	printf("%s\n", cid);
	return CLI_EXIT_OK;
}

struct listing {
	bool json;
	size_t n;
};

static int print_commit(const struct commit_record *r, void *payload)
{
	struct listing *l = payload;
	struct buf b = BUF_INIT(BUF_NOCAP);
	char when[32], size[16], cid[CID_STR_MAX];
	int rc;

	if (l->json) {
		if ((rc = commit_record_json(&b, r)) == 0)
			printf("%s\n  %s", l->n ? "," : "", (char *)b.ptr);
		buf_release(&b);
		l->n++;
		return rc;
	}
	efs_clock_format(when, sizeof(when), r->time_ns,
			 "%Y-%m-%d %H:%M:%S");
	cli_human_bytes(size, sizeof(size), r->size);
	printf("%-4" PRId64 " %s  %s  %9s  %6" PRIu64 " files  %s\n", r->id,
	       when, cid_tostr(cid, &r->root), size, r->files, r->path);
	l->n++;
	return 0;
}

static int run_commits(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct listing l = { 0 };
	char *db;
	int c, rc;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c != 'j')
			return cli_common_opt(&cli_cmd_commits, c, argv);
		l.json = true;
	}
	if (optind != argc)
		return cli_usage(&cli_cmd_commits, "takes no arguments");
	if ((rc = cli_repo_index_path(&db)) < 0)
		return cli_fail(rc);
	if (l.json)
		printf("[");
	rc = commit_list(db, print_commit, &l);
	if (l.json)
		printf("%s]\n", l.n ? "\n" : "");
	efs_free(db);
	return rc < 0 ? cli_fail(rc) : CLI_EXIT_OK;
}
