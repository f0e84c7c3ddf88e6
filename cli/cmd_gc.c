/*
 * cmd_gc.c - `estuaryfs gc`: collect the repository's garbage with
 * bstore_gc (blocks no pin reaches, unreferenced for longer than the
 * grace period, and what they alone link to) and report the blocks and
 * bytes freed.
 *
 *   open the repository ──ok──► bstore_gc here (--grace: the period)
 *     └─in use (a daemon or a mount holds its lock)──► POST <api.url>/gc
 *        with the token of <repo>/api.token: the daemon runs bstore_gc
 *        on its own blockstore, as a mount's "efs-gc" thread does
 *        (fs/mount.c), and answers {"blocks","bytes","unverified"}
 *
 * The daemon collects with the grace period its blockstore was opened
 * with (an hour, the default here too): it protects the blocks of files
 * being written, which stay unreferenced until their flush pins them,
 * so --grace is refused then rather than silently ignored.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "cli/cli_api.h"
#include "cli/cli_i.h"
#include "cli/cli_view.h"
#include "core/alloc.h"
#include "core/bstore.h"
#include "core/error.h"
#include "net/httpc.h"

#include "core/banned.h"

/* A collection of a big store takes a while: the daemon answers when
 * done. */
#define GC_HTTP_TIMEOUT_MS (30u * 60 * 1000)

static const char help_text[] =
	"usage: estuaryfs gc [--grace SECONDS] [--json] [-q]\n"
	"\n"
	"Delete the blocks of the repository ($ESTUARYFS_HOME or\n"
	"~/.estuaryfs) that no pin reaches and that were not used for the\n"
	"grace period, and punch their bytes out of the pack files.  Prints\n"
	"the blocks and bytes freed.\n"
	"\n"
	"While a daemon or a mount holds the repository, the collection runs\n"
	"in it (its api.url, with the token in api.token), with its grace\n"
	"period of an hour: --grace cannot be given then.  A mount also\n"
	"collects by itself (mount -o gc_interval=S).\n"
	"\n"
	"options:\n"
	"  --grace S    keep unreferenced blocks used in the last S seconds\n"
	"               (default 3600)\n"
	"  --json       {\"blocks\": N, \"bytes\": N, \"unverified\": N}\n"
	"  -q, --quiet  print nothing on success\n"
	"  -h, --help   this help\n";

static int run(int argc, char **argv);

const struct cli_cmd cli_cmd_gc = {
	.name = "gc",
	.summary = "delete the blocks no pin reaches",
	.help = help_text,
	.run = run,
};

enum { OPT_GRACE = 256, OPT_JSON };

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

/* POST /gc to the daemon holding the repository: its answer into out. */
static int collect_daemon(struct bstore_gc_result *out, const char *repo)
{
	json_t *v, *n;
	uint64_t *fields[] = { &out->blocks, &out->bytes, &out->unverified };
	const char *names[] = { "blocks", "bytes", "unverified" };
	int rc;

	if ((rc = httpc_global_init()) < 0 ||
	    (rc = cli_api_post(&v, repo, "/gc", NULL, GC_HTTP_TIMEOUT_MS)) < 0)
		return rc;
	for (size_t i = 0; i < 3 && rc == 0; i++) {
		n = json_object_get(v, names[i]);
		if (!json_is_integer(n) || json_integer_value(n) < 0)
			rc = efs_error_set(EFS_ECORRUPT, "the daemon's answer "
					   "has no %s", names[i]);
		else
			*fields[i] = (uint64_t)json_integer_value(n);
	}
	json_decref(v);
	return rc;
}

/* Collect here, or through the daemon when it holds the repository;
 * grace < 0: not given. */
static int collect(struct bstore_gc_result *out, int64_t grace)
{
	struct bstore_opts opts = BSTORE_OPTS_INIT;
	struct bstore *bs;
	char *dir;
	int rc;

	if (grace >= 0)
		opts.gc_grace = grace;
	if ((rc = cli_repo_path(&dir)) < 0)
		return rc;
	rc = bstore_open(&bs, dir, &opts);
	if (rc == EFS_EEXISTS && grace >= 0)
		rc = efs_error_set(EFS_EINVAL, "gc: --grace cannot be given "
				   "while a daemon or a mount holds the "
				   "repository (it collects with its own grace "
				   "period, an hour)");
	else if (rc == EFS_EEXISTS)
		rc = collect_daemon(out, dir);
	else if (rc == 0)
		rc = cli_repo_close(bs, bstore_gc(out, bs));
	efs_free(dir);
	return rc;
}

static int print_result(const struct bstore_gc_result *r, bool json)
{
	char bytes[16];

	if (json)
		return cli_json_print(json_pack("{s:I,s:I,s:I}", "blocks",
						(json_int_t)r->blocks, "bytes",
						(json_int_t)r->bytes,
						"unverified",
						(json_int_t)r->unverified),
				      false) < 0
			       ? cli_fail(EFS_ENOMEM) : CLI_EXIT_OK;
	cli_human_bytes(bytes, sizeof(bytes), r->bytes);
	printf("freed: %" PRIu64 " blocks, %" PRIu64 " bytes (%s)\n",
	       r->blocks, r->bytes, bytes);
	if (r->unverified)
		printf("unverified: %" PRIu64 " blocks (their links stay "
		       "counted)\n", r->unverified);
	return CLI_EXIT_OK;
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "grace", required_argument, NULL, OPT_GRACE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bstore_gc_result r = { 0 };
	int64_t grace = -1;
	bool quiet = false, json = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, ":qh", opts, NULL)) != -1) {
		switch (c) {
		case OPT_GRACE:
			if (!parse_grace(&grace, optarg))
				return cli_usage(&cli_cmd_gc, "bad --grace "
						 "'%s'", optarg);
			break;
		case OPT_JSON:
			json = true;
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
	if ((rc = collect(&r, grace)) < 0)
		return cli_fail(rc);
	return quiet ? CLI_EXIT_OK : print_result(&r, json);
}
