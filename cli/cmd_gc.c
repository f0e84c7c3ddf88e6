/*
 * cmd_gc.c - `estuaryfs gc`: collect the garbage of a repository that is
 * not mounted with bstore_gc (blocks no pin reaches, unreferenced for
 * longer than the grace period, and what they alone link to) and report
 * the blocks and bytes freed.
 *
 * A mounted repository is collected by its daemon (the "efs-gc" thread,
 * fs/mount.c): the daemon holds the repository's lock, so here the open
 * fails with EFS_EEXISTS and the command says so in one line.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli_i.h"
#include "core/alloc.h"
#include "core/bstore.h"
#include "core/error.h"

#include "core/banned.h"

static const char help_text[] =
	"usage: estuaryfs gc [--grace SECONDS] [-q]\n"
	"\n"
	"Delete the blocks of the repository ($ESTUARYFS_HOME or\n"
	"~/.estuaryfs) that no pin reaches and that were not used for the\n"
	"grace period, and punch their bytes out of the pack files.  Prints\n"
	"the blocks and bytes freed.  A mounted repository cannot be\n"
	"collected here: the mount daemon collects its garbage itself.\n"
	"\n"
	"options:\n"
	"  --grace S    keep unreferenced blocks used in the last S seconds\n"
	"               (default 3600)\n"
	"  -q, --quiet  print nothing on success\n"
	"  -h, --help   this help\n";

static int run(int argc, char **argv);

const struct cli_cmd cli_cmd_gc = {
	.name = "gc",
	.summary = "delete unreferenced blocks of an unmounted repository",
	.help = help_text,
	.run = run,
};

enum { OPT_GRACE = 256 };

/* The grace period: whole seconds, 0 to ten years. */
static bool parse_grace(int64_t *out, const char *s)
{
	char *end;
	long long n = strtoll(s, &end, 10);

	if (end == s || *end || n < 0 || n > 86400LL * 3650)
		return false;
	*out = n;
	return true;
}

static int collect(struct bstore_gc_result *out, int64_t grace)
{
	struct bstore_opts opts = BSTORE_OPTS_INIT;
	struct bstore *bs;
	char *dir;
	int rc;

	opts.gc_grace = grace;
	if ((rc = cli_repo_path(&dir)) < 0)
		return cli_fail(rc);
	rc = bstore_open(&bs, dir, &opts);
	efs_free(dir);
	if (rc == EFS_EEXISTS) {
		fflush(stdout);
		fprintf(stderr, "estuaryfs: gc: the repository is in use "
				"(mounted?); the mount daemon collects "
				"garbage itself\n");
		return cli_exit_code(rc);
	}
	if (rc < 0)
		return cli_fail(rc);
	rc = bstore_gc(out, bs);
	rc = cli_repo_close(bs, rc);
	return rc < 0 ? cli_fail(rc) : CLI_EXIT_OK;
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "grace", required_argument, NULL, OPT_GRACE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bstore_gc_result r = { 0 };
	struct bstore_opts defaults = BSTORE_OPTS_INIT;
	int64_t grace = defaults.gc_grace;
	char bytes[16];
	bool quiet = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, ":qh", opts, NULL)) != -1) {
		switch (c) {
		case OPT_GRACE:
			if (!parse_grace(&grace, optarg))
				return cli_usage(&cli_cmd_gc, "bad --grace "
						 "'%s'", optarg);
			break;
		case 'q':
			quiet = true;
			break;
		default:
			return cli_common_opt(&cli_cmd_gc, c, argv);
		}
	}
	if (optind != argc)
		return cli_usage(&cli_cmd_gc, "takes no arguments");
	if ((rc = collect(&r, grace)) != CLI_EXIT_OK)
		return rc;
	if (!quiet) {
		cli_human_bytes(bytes, sizeof(bytes), r.bytes);
		printf("freed: %" PRIu64 " blocks, %" PRIu64 " bytes (%s)\n",
		       r.blocks, r.bytes, bytes);
		if (r.unverified)
			printf("unverified: %" PRIu64 " blocks (their links "
			       "stay counted)\n", r.unverified);
	}
	return CLI_EXIT_OK;
}
