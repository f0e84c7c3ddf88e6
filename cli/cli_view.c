/*
 * cli_view.c - the CLI's side of the dealer's view (see cli_view.h): the
 * view opened on the user's repository with the filesystem's commit
 * log, the DIR|CID argument and the terminal formatting.  The view
 * itself (commits, replication, JSON) is dealer/dealview.c, shared with
 * the daemon's REST routes.
 */
#include "cli/cli_view.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cli/cli_i.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#ifdef EFS_WITH_FS
#include "fs/commit.h"
#endif

#include "core/banned.h"

#define XATTR_COMMIT "user.estuary.commit"
/* FUSE's statfs magic (as cmd_commit.c checks it). */
#define FUSE_SUPER_MAGIC 0x65735546

/* ---- the view ----------------------------------------------------------- */

#ifdef EFS_WITH_FS
struct log_adapter {
	dealview_log_cb cb;
	void *cls;
};

static int log_entry(const struct commit_record *r, void *cls)
{
	struct log_adapter *a = cls;
	struct dealview_log_entry e = {
		.id = r->id,
		.root = r->root,
		.path = r->path,
		.time = r->time_ns / 1000000000,
		.size = r->size,
	};

	return a->cb(&e, a->cls);
}
#endif

int cli_commit_log(const char *db_path, dealview_log_cb cb, void *cls)
{
#ifdef EFS_WITH_FS
	struct log_adapter a = { cb, cls };

	return commit_list(db_path, log_entry, &a);
#else
	(void)db_path;
	(void)cb;
	(void)cls;
	return 0;
#endif
}

int cli_view_open(struct dealview *v)
{
	char *repo;
	int rc;

	memset(v, 0, sizeof(*v));
	if ((rc = cli_repo_path(&repo)) < 0)
		return rc;
	rc = dealview_open(v, repo, cli_commit_log);
	efs_free(repo);
	return rc;
}

/* ---- the DIR|CID argument ----------------------------------------------- */

/*
 * DIR's path inside its mount ("/a/b"): the part of its real path below
 * the highest ancestor on the same filesystem.  For a directory never
 * committed, whose commits below it are still its.
 */
static int mount_path(char **out, const char *dir)
{
	char *real = realpath(dir, NULL), *cut, *p;
	struct stat st, up;
	int rc = 0;

	if (!real || stat(real, &st) < 0) {
		rc = efs_error_set_errno(EFS_EIO, errno, "%s", dir);
		goto out;
	}
	cut = real + strlen(real);
	while (cut > real) {
		p = cut;
		while (p > real && p[-1] != '/')
			p--;
		/* the parent: real[0 .. p - 1) */
		p[-1] = '\0';
		rc = stat(p - 1 == real ? "/" : real, &up);
		p[-1] = '/';
		if (rc < 0 || up.st_dev != st.st_dev)
			break;
		cut = p - 1;
	}
	rc = 0;
	if (!(*out = efs_strdup(*cut ? cut : "/")))
		rc = efs_error_set(EFS_ENOMEM, "out of memory");
out:
	free(real);
	return rc;
}

/* DIR's latest commit, from the xattr the filesystem serves; for a
 * directory never committed, its path in the mount. */
static int filter_dir(struct cli_filter *out, const char *dir)
{
	char value[8192];
	json_error_t jerr;
	struct statfs sf;
	json_t *rec, *id, *path;
	ssize_t n;
	int rc = 0;

	if (statfs(dir, &sf) < 0 || sf.f_type != FUSE_SUPER_MAGIC)
		return efs_error_set(EFS_EINVAL, "%s is not a directory of a "
				     "mounted estuaryfs", dir);
	out->by_dir = true;
	out->dir_commit = -1;
	if ((n = getxattr(dir, XATTR_COMMIT, value, sizeof(value) - 1)) < 0) {
		if (errno == ENODATA)
			return mount_path(&out->dir_path, dir);
		return efs_error_set(EFS_EINVAL, "%s is not a directory of a "
				     "mounted estuaryfs", dir);
	}
	value[n] = '\0';
	rec = json_loads(value, 0, &jerr);
	id = json_object_get(rec, "id");
	path = json_object_get(rec, "path");
	if (!json_is_integer(id) || !json_is_string(path))
		rc = efs_error_set(EFS_ECORRUPT, "%s: the filesystem's commit "
				   "record is not what it should be", dir);
	else if (!(out->dir_path = efs_strdup(json_string_value(path))))
		rc = efs_error_set(EFS_ENOMEM, "out of memory");
	else
		out->dir_commit = json_integer_value(id);
	json_decref(rec);
	return rc;
}

int cli_filter_init(struct cli_filter *out, const char *arg)
{
	const char *rest;
	struct stat st;

	memset(out, 0, sizeof(*out));
	out->arg = arg;
	if (!arg)
		return 0;
	if (stat(arg, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return efs_error_set(EFS_EINVAL, "%s is not a "
					     "directory", arg);
		return filter_dir(out, arg);
	}
	if (cli_parse_cid_path(&out->root, &rest, arg) == 0 && !*rest) {
		out->by_root = true;
		return 0;
	}
	return efs_error_set(EFS_EINVAL, "'%s' is neither a directory nor a "
			     "CID", arg);
}

int cli_filter_none(const struct cli_filter *f, const char *cmd)
{
	if (f->by_dir && f->dir_commit < 0)
		return efs_error_set(EFS_ENOTFOUND, "%s: %s has no commit yet "
				     "(estuaryfs commit %s)", cmd, f->arg,
				     f->arg);
	return efs_error_set(EFS_ENOTFOUND, "%s: no commit of %s", cmd,
			     f->arg);
}

void cli_filter_release(struct cli_filter *f)
{
	efs_free(f->dir_path);
	memset(f, 0, sizeof(*f));
}

/* path is dir or inside it ("/" holds everything). */
static bool path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return true;
	return strncmp(path, dir, n) == 0 && (!path[n] || path[n] == '/');
}

static bool filter_match(const struct cli_filter *f,
			 const struct dealview_commit *c)
{
	if (f->by_root)
		return cid_equal(&c->root, &f->root);
	if (f->by_dir)
		return c->id == f->dir_commit ||
		       (c->path && path_under(c->path, f->dir_path));
	return true;
}

/* Drop the commits f does not select, keeping the order. */
static void commits_filter(struct dealview_commits *c,
			   const struct cli_filter *f)
{
	size_t k = 0;

	for (size_t i = 0; i < c->n; i++) {
		if (filter_match(f, &c->v[i]))
			c->v[k++] = c->v[i];
		else
			efs_free(c->v[i].path);
	}
	c->n = k;
}

int cli_view_commits(struct dealview_commits *out, struct dealview *v,
		     const struct cli_filter *f)
{
	int rc = dealview_list_commits(out, v);

	if (rc == 0)
		commits_filter(out, f);
	return rc;
}

/* ---- formatting --------------------------------------------------------- */

void cli_fmt_rel(char *out, size_t cap, int64_t t, int64_t now)
{
	int64_t d = t > now ? t - now : now - t;
	const char *ago = t > now ? "" : " ago", *in = t > now ? "in " : "";

	if (d == 0)
		snprintf(out, cap, "now");
	else if (d < 120)
		snprintf(out, cap, "%s%" PRId64 " s%s", in, d, ago);
	else if (d < 7200)
		snprintf(out, cap, "%s%" PRId64 " min%s", in, d / 60, ago);
	else if (d < 172800)
		snprintf(out, cap, "%s%.1f h%s", in, (double)d / 3600, ago);
	else
		snprintf(out, cap, "%s%.1f d%s", in, (double)d / 86400, ago);
}

void cli_fmt_fil(char *out, size_t cap, const struct bigint *a)
{
	char s[BIGINT_STR_MAX + 8];
	size_t n = bigint_format_fil(s, a);

	if (n > 4 && !strcmp(s + n - 4, " FIL"))
		s[n - 4] = '\0';
	snprintf(out, cap, "%s", s);
}

int cli_json_print(json_t *v, bool bad)
{
	int rc = 0;

	if (bad || !v || json_dumpf(v, stdout, JSON_INDENT(2) |
				    JSON_REAL_PRECISION(15)) < 0)
		rc = efs_error_set(EFS_ENOMEM, "out of memory");
	else
		putchar('\n');
	json_decref(v);
	return rc;
}
