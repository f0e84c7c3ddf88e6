/*
 * cli_util.c - helpers shared by the estuaryfs commands (see cli_i.h):
 * exit codes, one-line error reports, size/CID argument parsing, the
 * repository path, full writes and the progress bar.
 *
 * The exit code of a failure follows from the efs error code alone, so
 * every command maps errors the same way and README.md can document one
 * table.
 */
#include "cli/cli_i.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/bstore.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/fdio.h"
#include "core/units.h"

#include "core/banned.h"

int cli_exit_code(int efs_code)
{
	switch (efs_code) {
	case EFS_OK:
		return CLI_EXIT_OK;
	case EFS_EINVAL:
		return CLI_EXIT_USAGE;
	case EFS_ENOTFOUND:
	case EFS_EEVICTED:
		return CLI_EXIT_NOTFOUND;
	case EFS_ECORRUPT:
	case EFS_EMISMATCH:
		return CLI_EXIT_CORRUPT;
	case EFS_EIO:
	case EFS_ENOSPC:
		return CLI_EXIT_IO;
	default:
		return CLI_EXIT_ERROR;
	}
}

int cli_fail(int efs_code)
{
	const char *msg = efs_error_msg();

	fflush(stdout);
	if (msg[0] == '\0')
		fprintf(stderr, "estuaryfs: %s\n", efs_error_name(efs_code));
	else
		fprintf(stderr, "estuaryfs: %s\n", msg);
	return cli_exit_code(efs_code);
}

int cli_usage(const struct cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "estuaryfs: %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'estuaryfs help %s')\n", cmd->name);
	return CLI_EXIT_USAGE;
}

void cli_help(const struct cli_cmd *cmd, FILE *f)
{
	fputs(cmd->help, f);
}

int cli_common_opt(const struct cli_cmd *cmd, int opt, char **argv)
{
	char shortopt[3] = { '-', (char)optopt, '\0' };
	const char *name = argv[optind - 1];

	if (opt == 'h') {
		cli_help(cmd, stdout);
		return CLI_EXIT_OK;
	}
	/* optopt names a short option; for long ones, the argument does. */
	if (optopt > 0 && optopt < 128 && isalnum(optopt))
		name = shortopt;
	if (opt == ':')
		return cli_usage(cmd, "option %s needs a value", name);
	return cli_usage(cmd, "unknown option %s", name);
}

int cli_parse_size(uint64_t *out, const char *s, const char *what)
{
	if (units_parse_size(out, s) < 0)
		return efs_error_set(EFS_EINVAL, "%s: bad size '%s'", what, s);
	return 0;
}

int cli_parse_uint(uint64_t *out, const char *s, const char *what)
{
	char *end;

	if (*s < '0' || *s > '9')
		goto out_invalid;
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno || *end)
		goto out_invalid;
	return 0;
out_invalid:
	return efs_error_set(EFS_EINVAL, "%s: bad number '%s'", what, s);
}

int cli_parse_cid_path(struct cid *out, const char **path_out,
		       const char *s)
{
	const char *slash;
	int rc;

	if (strncmp(s, "/ipfs/", 6) == 0)
		s += 6;
	slash = strchr(s, '/');
	if (!slash)
		slash = s + strlen(s);
	if (slash == s)
		return efs_error_set(EFS_EINVAL,
				     "'%s' does not start with a CID", s);
	rc = cid_parse_n(out, s, (size_t)(slash - s));
	if (rc < 0)
		return efs_error_set(EFS_EINVAL, "'%.*s' is not a valid CID",
				     (int)(slash - s), s);
	while (*slash == '/')
		slash++;
	*path_out = slash;
	return 0;
}

int cli_repo_path(char **out)
{
	const char *env = getenv("ESTUARYFS_HOME");
	const char *home = getenv("HOME");
	size_t n;

	if (env && *env) {
		*out = efs_strdup(env);
	} else if (home && *home) {
		n = strlen(home) + sizeof("/.estuaryfs");
		if ((*out = efs_malloc(n)))
			snprintf(*out, n, "%s/.estuaryfs", home);
	} else {
		return efs_error_set(EFS_EINVAL, "set ESTUARYFS_HOME or HOME "
						 "to find the repository");
	}
	if (!*out)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	return 0;
}

int cli_repo_index_path(char **out)
{
	char *repo;
	size_t n;
	int rc;

	if ((rc = cli_repo_path(&repo)) < 0)
		return rc;
	n = strlen(repo) + sizeof("/index.db");
	if ((*out = efs_malloc(n)))
		snprintf(*out, n, "%s/index.db", repo);
	efs_free(repo);
	return *out ? 0 : efs_error_set(EFS_ENOMEM, "out of memory");
}

/* mkdir -p with mode 0700 for what it creates. */
static int mkdir_p(char *path)
{
	struct stat st;

	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			*p = '/';
			goto out_errno;
		}
		*p = '/';
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		goto out_errno;
	if (stat(path, &st) < 0)
		goto out_errno;
	if (!S_ISDIR(st.st_mode))
		return efs_error_set(EFS_EINVAL,
				     "repository %s is not a directory", path);
	return 0;
out_errno:
	return efs_error_set_errno(EFS_EIO, errno,
				   "cannot create repository %s", path);
}

int cli_repo_dir(char **out)
{
	int rc = cli_repo_path(out);

	if (rc == 0 && (rc = mkdir_p(*out)) < 0) {
		efs_free(*out);
		*out = NULL;
	}
	return rc;
}

int cli_repo_open(struct bstore **out)
{
	char *dir;
	int rc;

	if ((rc = cli_repo_dir(&dir)) < 0)
		return rc;
	rc = bstore_open(out, dir, NULL);
	efs_free(dir);
	return rc;
}

int cli_repo_close(struct bstore *bs, int rc)
{
	int rc2 = bstore_close(bs);

	return rc == 0 ? rc2 : rc;
}

int cli_repo_pin(struct bstore *bs, const struct cid *root, const char *name)
{
	int rc;

	if ((rc = bstore_sync(bs)) < 0)
		return rc;
	return bstore_pin_once(NULL, bs, root, name);
}

int cli_write_all(int fd, const void *p, size_t len, const char *what)
{
	if (fdio_write(fd, p, len) < 0)
		return efs_error_set_errno(EFS_EIO, errno, "write %s", what);
	return 0;
}

void cli_human_bytes(char *out, size_t cap, uint64_t n)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, cap, "%llu B", (unsigned long long)n);
	else
		snprintf(out, cap, "%.1f %s", v, units[u]);
}

void cli_progress_init(struct cli_progress *p, const char *label,
		       uint64_t total, bool want)
{
	memset(p, 0, sizeof(*p));
	p->label = label;
	p->total = total;
	p->start = efs_clock_mono();
	/* First draw after a quarter second, when the rate means something. */
	p->last_draw = p->start + 0.15;
	p->enabled = want && total >= CLI_PROGRESS_MIN && isatty(2);
}

static void progress_draw(struct cli_progress *p, double now)
{
	char bar[21], done[16], total[16], rate[16];
	double frac = p->total ? (double)p->done / (double)p->total : 1;
	double secs = now - p->start;
	size_t fill;

	if (frac > 1)
		frac = 1;
	fill = (size_t)(frac * 20);
	memset(bar, '#', fill);
	memset(bar + fill, '.', 20 - fill);
	bar[20] = '\0';
	cli_human_bytes(done, sizeof(done), p->done);
	cli_human_bytes(total, sizeof(total), p->total);
	cli_human_bytes(rate, sizeof(rate),
			secs > 0 ? (uint64_t)((double)p->done / secs) : 0);
	fprintf(stderr, "\r%s  [%s] %3d%%  %s / %s  %s/s\033[K", p->label,
		bar, (int)(frac * 100), done, total, rate);
	p->last_draw = now;
	p->drawn = true;
}

void cli_progress_add(struct cli_progress *p, uint64_t n)
{
	double now;

	p->done += n;
	if (!p->enabled)
		return;
	now = efs_clock_mono();
	if (now - p->last_draw >= 0.1)
		progress_draw(p, now);
}

void cli_progress_clear(struct cli_progress *p)
{
	if (p->drawn)
		fputs("\r\033[K", stderr);
	p->drawn = false;
}

void cli_progress_end(struct cli_progress *p)
{
	cli_progress_clear(p);
	p->enabled = false;
}
