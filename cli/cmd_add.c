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
 *
 * While a daemon or a mount holds the repository (cli_api_at), the
 * import still runs here, and its blocks stream to the daemon as a CAR
 * (POST /car/import), which stores them; POST /pin then pins the root
 * there, as `estuaryfs pin CID` does (the pin is named for the CID, not
 * "cli:add": the daemon's pins of one name hold one root).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli_api.h"
#include "cli/cli_i.h"
#include "core/bstore.h"
#include "core/car.h"
#include "core/error.h"
#include "core/fdio.h"
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

/* ---- through the daemon ---- */

/*
 * The importer runs here, as without a daemon; its blocks go out as a
 * CARv1 (header root bafkqaaa: the root is known only at the end) down
 * a pipe to a thread that streams it to POST /car/import?pin-roots=false;
 * once the daemon has every block, POST /pin pins the root there.  The
 * blocks wait unpinned between the two requests: the daemon's gc spares
 * blocks younger than its grace period (core/bstore.h gc_grace).
 */
#define PLACEHOLDER_ROOT "bafkqaaa"
/* Pinning walks the DAG on the daemon: its answer may take a while. */
#define PIN_HTTP_TIMEOUT_MS (30u * 60 * 1000)

struct upload {
	struct cli_api_conn *c;
	int rd;                      /* the pipe's ends */
	int wr;
	atomic_bool abort;           /* the importer failed: cut the upload */
	pthread_t thread;
	json_t *answer;
	int rc;
	struct efs_error_state err;  /* the thread's error */
	struct car_writer *w;
	bool running;                /* the thread was started */
	bool pipe_failed;            /* the importer's error is the pipe's */
};

static long upload_read(void *cls, uint8_t *buf, size_t max)
{
	struct upload *u = cls;
	ssize_t n = fdio_read(u->rd, buf, max);

	if (n < 0)
		return efs_error_set_errno(EFS_EIO, errno, "add: pipe");
	if (n == 0 && atomic_load(&u->abort))
		return efs_error_set(EFS_ECANCELED, "add: the import failed");
	return (long)n;
}

static void *upload_main(void *cls)
{
	struct upload *u = cls;

	u->rc = cli_api_post_stream(&u->answer, u->c,
				    "/car/import?pin-roots=false",
				    "application/vnd.ipld.car", upload_read, u);
	efs_error_save(&u->err);
	close(u->rd);
	u->rd = -1;
	return NULL;
}

static int upload_put(void *payload, const struct cid *id,
		      const uint8_t *data, size_t len)
{
	struct upload *u = payload;
	int rc = car_writer_add(u->w, NULL, id, data, len);

	u->pipe_failed = rc < 0;
	return rc;
}

/* Start the upload thread and the CAR's header. */
static int upload_start(struct upload *u)
{
	struct cid placeholder;
	int fds[2], rc;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return efs_error_set_errno(EFS_EIO, errno, "add: pipe");
	u->rd = fds[0];
	u->wr = fds[1];
	if ((rc = cid_parse(&placeholder, PLACEHOLDER_ROOT)) < 0 ||
	    (rc = car_writer_new_fd(&u->w, u->wr)) < 0)
		return rc;
	if ((rc = pthread_create(&u->thread, NULL, upload_main, u)) != 0)
		return efs_error_set_errno(EFS_ENOMEM, rc, "add: thread");
	u->running = true;
	if ((rc = car_writer_header(u->w, &placeholder, 1)) < 0)
		u->pipe_failed = true;
	return rc;
}

/* End the CAR (or cut it: rc < 0), wait for the answer; the error that
 * says what went wrong first. */
static int upload_end(struct upload *u, int rc)
{
	if (rc == 0) {
		rc = car_writer_finish(u->w);
		u->pipe_failed = rc < 0;
	}
	if (rc < 0)
		atomic_store(&u->abort, true);
	close(u->wr);
	u->wr = -1;
	pthread_join(u->thread, NULL);
	/* a pipe that broke because the daemon refused: the daemon's
	 * error says why */
	if (u->rc < 0 && (rc == 0 || u->pipe_failed)) {
		efs_error_restore(&u->err);
		rc = u->rc;
	}
	return rc;
}

static int add_daemon(struct cid *root, const struct add_args *a,
		      const struct importer_opts *o,
		      const struct cli_api_where *w)
{
	struct upload u = { .c = w->conn, .rd = -1, .wr = -1 };
	struct blockio_sink sink = { upload_put, &u };
	char s[CID_STR_MAX];
	json_t *args, *v = NULL;
	int rc;

	/* the thread closes its end when the daemon answers, even early
	 * (a refusal): the importer's next write is then EPIPE, not a
	 * signal */
	signal(SIGPIPE, SIG_IGN);
	rc = upload_start(&u);
	if (u.running) {
		if (rc == 0)
			rc = import(root, a, o, &sink);
		rc = upload_end(&u, rc);
	} else {
		if (u.rd >= 0)
			close(u.rd);
		if (u.wr >= 0)
			close(u.wr);
	}
	car_writer_free(u.w);
	json_decref(u.answer);
	if (rc < 0 || cid_is_identity(root))
		return rc;
	cid_tostr(s, root);
	if (!(args = json_pack("{s:s,s:s}", "target", s, "name", s)))
		return efs_error_set(EFS_ENOMEM, "out of memory");
	rc = cli_api_post(&v, w->repo, "/pin", args, PIN_HTTP_TIMEOUT_MS);
	json_decref(args);
	json_decref(v);
	return rc;
}

/* ---- the command ---- */

struct add_job {
	const struct add_args *a;
	const struct importer_opts *o;
	struct cid root;
};

static int add_at(const struct cli_api_where *w, void *cls)
{
	struct add_job *j = cls;
	struct blockio_sink sink;
	int rc;

	if (w->conn)
		return add_daemon(&j->root, j->a, j->o, w);
	sink = bstore_sink(w->bs);
	if ((rc = import(&j->root, j->a, j->o, &sink)) < 0)
		return rc;
	return cli_repo_pin(w->bs, &j->root, ADD_PIN_NAME);
}

static int run(int argc, char **argv)
{
	char str[CID_STR_MAX];
	struct importer_opts o;
	struct add_args a;
	struct add_job j = { .a = &a, .o = &o };
	int rc;

	if ((rc = parse_args(&a, argc, argv)) >= 0)
		return rc;
	if ((rc = make_opts(&o, &a)) < 0)
		return cli_fail(rc);
	if (a.only_hash)
		rc = import(&j.root, &a, &o, &blockio_null_sink);
	else
		rc = cli_api_at(add_at, &j);
	if (rc < 0)
		return cli_fail(rc);
	printf("%s\n", cid_tostr(str, &j.root));
	return CLI_EXIT_OK;
}
