/*
 * cmd_add.c - `estuaryfs add PATH`: import a file, symlink or directory
 * tree (or stdin) as a UnixFS DAG and print its root CID.
 *
 * The blocks go into the repository's blockstore, which is synced before
 * the root is pinned (cli_repo_pin), so a pin never names blocks that did
 * not reach the disk; with --only-hash they go nowhere (blockio_null_sink)
 * and the repository is not even opened.  The importer's parameters start
 * from a profile and each option overrides one field; importer_opts_check
 * has the last word on what combinations are valid.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_i.h"
#include "core/bstore.h"
#include "core/error.h"
#include "core/importer.h"
#include "core/mhash.h"

#include "core/banned.h"

/* The owner tag of pins made by this command. */
#define ADD_PIN_NAME "cli:add"

static const char help_text[] =
	"usage: estuaryfs add [OPTIONS] PATH|-\n"
	"\n"
	"Import a file, a symlink or a directory tree (recursively; the\n"
	"root is PATH itself) as a UnixFS DAG into the repository, pin it\n"
	"and print its root CID.  '-' imports stdin as one file.  CIDs equal\n"
	"what kubo (`ipfs add`) and the JS ipfs-unixfs-importer make with\n"
	"the same parameters.\n"
	"\n"
	"options:\n"
	"  --profile NAME       unixfs-v1-2025 (default: CIDv1, raw leaves,\n"
	"                       1 MiB chunks, 1024 links, HAMT by block size)\n"
	"                       or unixfs-v0-2015 (CIDv0, dag-pb leaves,\n"
	"                       256 KiB chunks, 174 links; kubo's classic\n"
	"                       default)\n"
	"  --hash NAME          sha2-256 (default) or blake2b-256 (implies\n"
	"                       CIDv1)\n"
	"  --chunk-size SIZE    fixed chunk size, e.g. 262144, 256KiB, 1MiB\n"
	"                       (at most 2096896)\n"
	"  --max-links N        children per file node (layout width)\n"
	"  --trickle            trickle layout (kubo --trickle; what kubo's MFS\n"
	"                       writes) instead of the balanced one\n"
	"  --raw-leaves, --no-raw-leaves\n"
	"                       store chunks as raw blocks or as dag-pb nodes\n"
	"  --cid-version 0|1    CID version of dag-pb nodes\n"
	"  -n, --only-hash      compute the CID only; store nothing\n"
	"  --no-hidden          skip names starting with '.' (default: keep)\n"
	"  --preserve-mode      store permission bits (UnixFS 1.5)\n"
	"  --preserve-mtime     store modification times (UnixFS 1.5)\n"
	"  -j, --threads N      hashing threads (default: one per CPU)\n"
	"  -q, --quiet          no progress bar\n"
	"  -h, --help           this help\n"
	"\n"
	"A progress bar is drawn on stderr when it is a terminal and the\n"
	"input is 64 MiB or more.  Fifos, sockets and devices inside a tree\n"
	"are skipped with a warning.\n"
	"\n"
	"examples:\n"
	"  estuaryfs add photos/\n"
	"  estuaryfs add -n --profile unixfs-v0-2015 file.iso\n"
	"  tar c dir | estuaryfs add -\n";

static int run(int argc, char **argv);

const struct cli_cmd cli_cmd_add = {
	.name = "add",
	.summary = "import a file or directory, print its root CID",
	.help = help_text,
	.run = run,
};

enum {
	OPT_PROFILE = 256,
	OPT_HASH,
	OPT_CHUNK,
	OPT_LINKS,
	OPT_RAW,
	OPT_NO_RAW,
	OPT_CIDV,
	OPT_NO_HIDDEN,
	OPT_MODE,
	OPT_MTIME,
	OPT_TRICKLE,
};

static const struct option add_opts[] = {
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "hash", required_argument, NULL, OPT_HASH },
	{ "chunk-size", required_argument, NULL, OPT_CHUNK },
	{ "max-links", required_argument, NULL, OPT_LINKS },
	{ "raw-leaves", no_argument, NULL, OPT_RAW },
	{ "no-raw-leaves", no_argument, NULL, OPT_NO_RAW },
	{ "cid-version", required_argument, NULL, OPT_CIDV },
	{ "only-hash", no_argument, NULL, 'n' },
	{ "no-hidden", no_argument, NULL, OPT_NO_HIDDEN },
	{ "preserve-mode", no_argument, NULL, OPT_MODE },
	{ "preserve-mtime", no_argument, NULL, OPT_MTIME },
	{ "trickle", no_argument, NULL, OPT_TRICKLE },
	{ "threads", required_argument, NULL, 'j' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* What the command line asked for, before it is applied to a profile. */
struct add_args {
	const char *profile;
	const char *hash;
	const char *chunk;
	const char *links;
	const char *cidv;
	const char *threads;
	int raw_leaves;         /* -1 profile's, 0 no, 1 yes */
	bool no_hidden, mode, mtime, only_hash, quiet, trickle;
	const char *path;
};

static int parse_args(struct add_args *a, int argc, char **argv)
{
	int c;

	memset(a, 0, sizeof(*a));
	a->raw_leaves = -1;
	while ((c = getopt_long(argc, argv, ":nj:qh", add_opts, NULL)) != -1) {
		switch (c) {
		case OPT_PROFILE:
			a->profile = optarg;
			break;
		case OPT_HASH:
			a->hash = optarg;
			break;
		case OPT_CHUNK:
			a->chunk = optarg;
			break;
		case OPT_LINKS:
			a->links = optarg;
			break;
		case OPT_RAW:
			a->raw_leaves = 1;
			break;
		case OPT_NO_RAW:
			a->raw_leaves = 0;
			break;
		case OPT_CIDV:
			a->cidv = optarg;
			break;
		case 'n':
			a->only_hash = true;
			break;
		case OPT_NO_HIDDEN:
			a->no_hidden = true;
			break;
		case OPT_MODE:
			a->mode = true;
			break;
		case OPT_MTIME:
			a->mtime = true;
			break;
		case OPT_TRICKLE:
			a->trickle = true;
			break;
		case 'j':
			a->threads = optarg;
			break;
		case 'q':
			a->quiet = true;
			break;
		default:
			return cli_common_opt(&cli_cmd_add, c, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage(&cli_cmd_add, "expected one PATH");
	a->path = argv[optind];
	return -1;
}

/* Apply the arguments to opts.  Returns 0 or EFS_EINVAL. */
static int make_opts(struct importer_opts *o, const struct add_args *a)
{
	uint64_t v;
	int rc;

	if ((rc = importer_opts_profile(o, a->profile)) < 0)
		return efs_error_set(EFS_EINVAL,
				     "unknown profile '%s' (unixfs-v1-2025 or "
				     "unixfs-v0-2015)",
				     a->profile);
	if (a->hash && mhash_from_name(&o->hash, a->hash) < 0)
		return efs_error_set(EFS_EINVAL, "unknown hash '%s'", a->hash);
	if (a->chunk) {
		if ((rc = cli_parse_size(&v, a->chunk, "--chunk-size")) < 0)
			return rc;
		if (v == 0 || v > IMPORTER_CHUNK_MAX)
			return efs_error_set(EFS_EINVAL,
					     "--chunk-size must be 1..%u",
					     IMPORTER_CHUNK_MAX);
		o->chunk_size = (size_t)v;
	}
	if (a->links) {
		if ((rc = cli_parse_uint(&v, a->links, "--max-links")) < 0)
			return rc;
		if (v < 2 || v > IMPORTER_LINKS_MAX)
			return efs_error_set(EFS_EINVAL,
					     "--max-links must be 2..%u",
					     IMPORTER_LINKS_MAX);
		o->max_links = (unsigned)v;
	}
	if (a->cidv) {
		if (strcmp(a->cidv, "0") != 0 && strcmp(a->cidv, "1") != 0)
			return efs_error_set(EFS_EINVAL,
					     "--cid-version must be 0 or 1");
		o->cid_version = a->cidv[0] - '0';
	}
	if (a->threads) {
		if ((rc = cli_parse_uint(&v, a->threads, "--threads")) < 0)
			return rc;
		if (v > IMPORTER_THREADS_MAX)
			return efs_error_set(EFS_EINVAL,
					     "--threads must be 0..%u",
					     IMPORTER_THREADS_MAX);
		o->threads = (unsigned)v;
	}
	if (a->raw_leaves >= 0)
		o->raw_leaves = a->raw_leaves;
	if (a->no_hidden)
		o->include_hidden = false;
	o->preserve_mode = a->mode;
	o->preserve_mtime = a->mtime;
	if (a->trickle)
		o->layout = IMPORTER_LAYOUT_TRICKLE;
	return importer_opts_check(o);
}

struct add_ctx {
	struct cli_progress bar;
	bool quiet;
	bool started;
};

static int on_event(const struct importer_event *ev, void *payload)
{
	struct add_ctx *ctx = payload;

	if (ev->kind == IMPORTER_EVENT_WARN) {
		cli_progress_clear(&ctx->bar);
		fprintf(stderr, "estuaryfs: warning: skipped %s: %s\n",
			ev->path ? ev->path : "?", ev->msg ? ev->msg : "");
		return 0;
	}
	if (!ctx->started) {
		cli_progress_init(&ctx->bar, "add", ev->total, !ctx->quiet);
		ctx->started = true;
	}
	ctx->bar.total = ev->total;
	cli_progress_add(&ctx->bar, ev->done - ctx->bar.done);
	return 0;
}

static int import(struct cid *root, const struct add_args *a,
		  const struct importer_opts *o,
		  const struct blockio_sink *sink)
{
	struct add_ctx ctx = { .quiet = a->quiet };
	int rc;

	if (strcmp(a->path, "-") == 0)
		rc = importer_add_fd(root, NULL, 0, o, sink, on_event, &ctx);
	else
		rc = importer_add_path(root, NULL, a->path, o, sink, on_event,
				       &ctx);
	cli_progress_end(&ctx.bar);
	return rc;
}

static int run(int argc, char **argv)
{
	char str[CID_STR_MAX];
	struct importer_opts o;
	struct add_args a;
	struct bstore *bs = NULL;
	struct blockio_sink sink;
	struct cid root;
	int rc;

	if ((rc = parse_args(&a, argc, argv)) >= 0)
		return rc;
	if ((rc = make_opts(&o, &a)) < 0)
		return cli_fail(rc);
	if (a.only_hash) {
		sink = blockio_null_sink;
	} else {
		if ((rc = cli_repo_open(&bs)) < 0)
			return cli_fail(rc);
		sink = bstore_sink(bs);
	}
	rc = import(&root, &a, &o, &sink);
	if (rc == 0 && bs)
		rc = cli_repo_pin(bs, &root, ADD_PIN_NAME);
	rc = cli_repo_close(bs, rc);
	if (rc < 0)
		return cli_fail(rc);
	printf("%s\n", cid_tostr(str, &root));
	return CLI_EXIT_OK;
}
