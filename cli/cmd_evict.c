/*
 * cmd_evict.c - `estuaryfs evict [DIR|CID]`, `estuaryfs pin DIR|CID` and
 * `estuaryfs unpin DIR|CID`: free what is safe of the local cache, and
 * keep trees local (dealer/evict.h has the rules).
 *
 *   DIR|CID ──► a CID (DIR: the xattr user.estuary.cid of a directory
 *     │         of a mounted estuaryfs; its path in the mount names the
 *     │         pin)
 *     ▼
 *   open the repository ──ok──► evict_* here, with config.json's cache
 *     │                         settings
 *     └─in use (a daemon or a mount holds its lock)──► POST <api.url>/
 *        evict|pin|unpin {"target","name"} with the bearer token of
 *        <repo>/api.token
 *
 * Either way the answer is the evictor's JSON (evict_result_json,
 * evict_pin_json), printed as text or, with --json, as it is.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <jansson.h>

#include "cli/cli_api.h"
#include "cli/cli_i.h"
#include "cli/cli_view.h"
#include "core/bstore.h"
#include "core/buf.h"
#include "core/error.h"
#include "cli/services.h"
#include "dealer/config.h"
#include "dealer/evict.h"

#include "core/banned.h"

#define XATTR_CID "user.estuary.cid"
/* An eviction of a big tree takes a while: the daemon answers when done. */
#define EVICT_HTTP_TIMEOUT_MS (30u * 60 * 1000)

static const char evict_help[] =
	"usage: estuaryfs evict [--json] [DIR|CID]\n"
	"\n"
	"Free local disk: evict the blocks of DIR (a directory of a mounted\n"
	"estuaryfs) or of the DAG under CID that are safe to evict, and say\n"
	"what stayed and why.  Without an argument, run a pass over the\n"
	"whole cache as the daemon does every cache.interval_s: least\n"
	"recently used blocks first, until the local blocks fit cache.size.\n"
	"\n"
	"A block is evicted only when every commit holding it has at least\n"
	"cache.min_active active deals (default: dealer.replication) on each\n"
	"of its pieces, the repository knows where in a piece to fetch it\n"
	"back from, and no `estuaryfs pin` keeps it.  Directory and file\n"
	"nodes always stay, so listing never waits on the network; reading\n"
	"an evicted block fetches it back from a storage provider.\n"
	"\n"
	"While a daemon or a mount holds the repository, the request goes\n"
	"to it (its api.url, with the token in api.token).\n"
	"\n"
	"options:\n"
	"  --json      the evictor's answer as JSON\n"
	"  -h, --help  this help\n"
	"\n"
	"exit status: 0 when something was evicted or nothing needed to be;\n"
	"1 when blocks of DIR|CID had to stay (the reasons are printed);\n"
	"3 for a CID the repository does not hold.\n";

static const char pin_help[] =
	"usage: estuaryfs pin [--json] DIR|CID\n"
	"\n"
	"Keep DIR (a directory of a mounted estuaryfs) or the DAG under CID\n"
	"on this disk: the evictor never frees a block under such a pin.\n"
	"The pin holds the content as it is now (pinning DIR again after it\n"
	"changed moves the pin to the new content).  Blocks already evicted\n"
	"stay so until read; once read they are kept.\n"
	"\n"
	"options:\n"
	"  --json      the pin's ID and what it covers as JSON\n"
	"  -h, --help  this help\n";

static const char unpin_help[] =
	"usage: estuaryfs unpin [--json] DIR|CID\n"
	"\n"
	"Drop what `estuaryfs pin` or `estuaryfs retrieve` made for DIR or\n"
	"CID, and for a CID what `add` and `car import` pinned: its blocks\n"
	"may be evicted again once their commits are replicated, and gc\n"
	"may delete what nothing else keeps.  Exits 3 when there was no\n"
	"such pin.\n"
	"\n"
	"options:\n"
	"  --json      {\"removed\": N}\n"
	"  -h, --help  this help\n";

static int run_evict(int argc, char **argv);
static int run_pin(int argc, char **argv);
static int run_unpin(int argc, char **argv);

const struct cli_cmd cli_cmd_evict = {
	.name = "evict",
	.summary = "free local disk: evict what is safely replicated",
	.help = evict_help,
	.run = run_evict,
};

const struct cli_cmd cli_cmd_pin = {
	.name = "pin",
	.summary = "keep a directory or CID on this disk",
	.help = pin_help,
	.run = run_pin,
};

const struct cli_cmd cli_cmd_unpin = {
	.name = "unpin",
	.summary = "let a pinned directory or CID be evicted again",
	.help = unpin_help,
	.run = run_unpin,
};

enum { OPT_JSON = 256 };

/* ---- the target --------------------------------------------------- */

struct target {
	struct cid id;
	bool is_dir;
	char label[4096];         /* DIR's path in the mount, or the CID */
};

static int target_dir(struct target *t, const char *arg)
{
	struct cli_filter f;
	char value[CID_STR_MAX];
	ssize_t n;
	int rc;

	/* it checks that DIR is on estuaryfs and finds its mount path */
	if ((rc = cli_filter_init(&f, arg)) < 0)
		return rc;
	snprintf(t->label, sizeof(t->label), "%s", f.dir_path);
	cli_filter_release(&f);
	n = getxattr(arg, XATTR_CID, value, sizeof(value) - 1);
	if (n < 0)
		return efs_error_set_errno(EFS_EIO, errno, "%s: reading its "
					   "CID", arg);
	value[n] = '\0';
	if (cid_parse(&t->id, value) < 0)
		return efs_error_set(EFS_ECORRUPT, "%s: the filesystem gave "
				     "'%s' as its CID", arg, value);
	t->is_dir = true;
	return 0;
}

static int target_resolve(struct target *t, const char *arg)
{
	struct stat st;
	const char *rest;

	memset(t, 0, sizeof(*t));
	if (stat(arg, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return efs_error_set(EFS_EINVAL, "%s is not a "
					     "directory", arg);
		return target_dir(t, arg);
	}
	if (cli_parse_cid_path(&t->id, &rest, arg) == 0 && !*rest) {
		cid_tostr(t->label, &t->id);
		return 0;
	}
	return efs_error_set(EFS_EINVAL, "'%s' is neither a directory of a "
			     "mounted estuaryfs nor a CID", arg);
}

/* ---- doing it: here, or through the daemon ------------------------- */

enum op { OP_EVICT, OP_PIN, OP_UNPIN };

static const char *const op_path[] = { "/evict", "/pin", "/unpin" };

static int local_op(json_t **out, struct evict *e, enum op op,
		    const struct target *t)
{
	struct evict_pin_info pin;
	struct evict_result r;
	size_t removed;
	int rc;

	switch (op) {
	case OP_EVICT:
		rc = t ? evict_commit(&r, e, &t->id) : evict_run(&r, e);
		*out = rc == 0 ? evict_result_json(&r) : NULL;
		break;
	case OP_PIN:
		rc = evict_pin(&pin, e, &t->id, t->label);
		*out = rc == 0 ? evict_pin_json(&pin) : NULL;
		break;
	default:
		rc = t->is_dir ? evict_unpin(&removed, e, NULL, t->label)
			       : evict_unpin(&removed, e, &t->id, NULL);
		*out = rc == 0 ? json_pack("{s:I}", "removed",
					   (json_int_t)removed) : NULL;
	}
	if (rc == 0 && !*out)
		rc = efs_error_set(EFS_ENOMEM, "out of memory");
	return rc;
}


/* With the repository open here: config.json's cache settings. */
static int local_run(json_t **out, struct bstore *bs, const char *repo,
		     enum op op, const struct target *t)
{
	struct evict_opts o = EVICT_OPTS_INIT;
	struct dealer_config cfg;
	struct buf db = BUF_INIT(BUF_NOCAP);
	struct evict *e = NULL;
	int rc;

	if ((rc = config_load(&cfg, repo)) == 0 &&
	    (rc = buf_printf(&db, "%s/index.db%c", repo, '\0')) == 0) {
		o.cache_size = config_cache_size(&cfg, repo);
		o.min_active = config_min_active(&cfg);
		o.commits.list = cli_commits_list;
		o.commits.cls = db.ptr;
		rc = evict_open(&e, bs, (const char *)db.ptr, &o);
	}
	if (rc == 0)
		rc = local_op(out, e, op, t);
	evict_close(e);
	config_release(&cfg);
	buf_release(&db);
	return rc;
}

static int daemon_run(json_t **out, const char *repo, enum op op,
		      const struct target *t)
{
	char s[CID_STR_MAX];
	json_t *args;
	int rc;

	args = t ? json_pack("{s:s,s:s}", "target", cid_tostr(s, &t->id),
			     "name", t->label) : json_object();
	if (!args)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	rc = cli_api_post(out, repo, op_path[op], args, EVICT_HTTP_TIMEOUT_MS);
	json_decref(args);
	return rc;
}

/* The operation and its target, for cli_api_run. */
struct job {
	enum op op;
	const struct target *t;
};

static int job_here(json_t **out, struct bstore *bs, const char *repo,
		    void *cls)
{
	const struct job *j = cls;

	return local_run(out, bs, repo, j->op, j->t);
}

static int job_daemon(json_t **out, const char *repo, void *cls)
{
	const struct job *j = cls;

	return daemon_run(out, repo, j->op, j->t);
}

/* Do op here when the repository is free, else through its daemon. */
static int do_op(json_t **out, enum op op, const struct target *t)
{
	struct job j = { op, t };
	struct cli_api_work w = { job_here, job_daemon, &j };

	return cli_api_run(out, &w);
}

/* ---- printing ------------------------------------------------------ */

static uint64_t jget(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);

	if (b)
		v = json_object_get(v, b);
	return json_is_integer(v) && json_integer_value(v) > 0
		       ? (uint64_t)json_integer_value(v) : 0;
}

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

static void print_count(const char *what, uint64_t blocks, uint64_t bytes)
{
	char h[32];

	cli_human_bytes(h, sizeof(h), bytes);
	printf("%-9s %" PRIu64 " block%s, %s", what, blocks, plural(blocks), h);
}

static void print_shorts(json_t *v)
{
	json_t *s;
	size_t i;

	json_array_foreach(json_object_get(v, "short"), i, s) {
		int64_t id = (int64_t)jget(s, "commit", NULL);

		if (!json_is_true(json_object_get(s, "pieced")))
			printf("            commit %" PRId64 ": not in a piece "
			       "yet (no deals)\n", id);
		else
			printf("            commit %" PRId64 ": %" PRIu64 " of "
			       "%" PRIu64 " active deals\n", id,
			       jget(s, "active", NULL), jget(s, "want", NULL));
	}
	if (jget(v, "more_short", NULL))
		printf("            and %" PRIu64 " more commits (estuaryfs "
		       "status)\n", jget(v, "more_short", NULL));
}

/* Each reason a block stayed, in the order a user can act on them. */
static void print_kept(json_t *v)
{
	static const struct {
		const char *name, *why;
	} reasons[] = {
		{ "short", "their commits are short of active deals:" },
		{ "no_location", "not in a piece yet (uncommitted, or the "
				 "dealer has not made its pieces)" },
		{ "no_commit", "in no commit the dealer knows" },
		{ "pinned", "pinned (estuaryfs unpin lets them go)" },
		{ "queued", "in a commit the dealer has not made into pieces "
			    "yet" },
		{ "refused", "refused by the blockstore (estuaryfs fsck)" },
		{ "links", "directory and file nodes (they always stay)" },
	};
	json_t *kept = json_object_get(v, "kept");

	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		uint64_t n = jget(kept, reasons[i].name, "blocks");

		if (!n)
			continue;
		print_count("kept:", n, jget(kept, reasons[i].name, "bytes"));
		printf(": %s\n", reasons[i].why);
		if (!strcmp(reasons[i].name, "short"))
			print_shorts(v);
	}
}

/* Blocks that had to stay, nodes (which always do) aside. */
static uint64_t kept_needed(json_t *v)
{
	json_t *kept = json_object_get(v, "kept"), *r;
	const char *name;
	uint64_t n = 0;

	json_object_foreach(kept, name, r)
		if (strcmp(name, "links") != 0)
			n += jget(r, "blocks", NULL);
	return n;
}

static int print_evict(json_t *v, const struct target *t, const char *arg)
{
	char a[32], b[32];

	print_count("evicted:", jget(v, "evicted", "blocks"),
		    jget(v, "evicted", "bytes"));
	printf("\n");
	if (t && jget(v, "already", NULL))
		printf("%-9s %" PRIu64 " block%s evicted before\n", "already:",
		       jget(v, "already", NULL),
		       plural(jget(v, "already", NULL)));
	print_kept(v);
	cli_human_bytes(a, sizeof(a), jget(v, "local_after", NULL));
	cli_human_bytes(b, sizeof(b), jget(v, "cache_size", NULL));
	printf("%-9s %s of local blocks (cache size %s)\n", "local:", a, b);
	if (!t && jget(v, "local_before", NULL) <= jget(v, "cache_size", NULL))
		printf("nothing to do: the local blocks fit the cache\n");
	if (t && !jget(v, "evicted", "blocks") && kept_needed(v)) {
		fflush(stdout);
		fprintf(stderr, "estuaryfs: evict: nothing of %s could be "
				"evicted safely (the reasons are above)\n",
			arg);
		return CLI_EXIT_ERROR;
	}
	return CLI_EXIT_OK;
}

static void print_pin(json_t *v, const struct target *t)
{
	char s[CID_STR_MAX], h[32];

	print_count("pinned:", jget(v, "blocks", NULL), jget(v, "bytes", NULL));
	printf(" of %s", t->label);
	if (t->is_dir)
		printf(" (%s)", cid_tostr(s, &t->id));
	printf(" stay local\n");
	if (jget(v, "evicted_blocks", NULL)) {
		cli_human_bytes(h, sizeof(h), jget(v, "evicted_bytes", NULL));
		printf("note:     %" PRIu64 " of them (%s) are evicted: they "
		       "come back when read, and then stay\n",
		       jget(v, "evicted_blocks", NULL), h);
	}
}

/* ---- the commands ---------------------------------------------------- */

/* Options and the one DIR|CID argument (optional for evict). */
static int parse(const struct cli_cmd *cmd, bool *json, const char **arg,
		 bool optional, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*json = false;
	*arg = NULL;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c != OPT_JSON)
			return cli_common_opt(cmd, c, argv);
		*json = true;
	}
	if (argc - optind > 1 || (!optional && argc - optind != 1))
		return cli_usage(cmd, optional ? "takes at most one DIR or CID"
				 : "takes one DIR or CID");
	if (optind < argc)
		*arg = argv[optind];
	return -1;
}

/* Resolve, run op, and print its answer with print (NULL: JSON). */
static int command(const struct cli_cmd *cmd, enum op op, int argc,
		   char **argv)
{
	struct target t;
	const char *arg;
	json_t *v = NULL;
	size_t removed;
	bool json;
	int rc;

	if ((rc = parse(cmd, &json, &arg, op == OP_EVICT, argc, argv)) >= 0)
		return rc;
	if (arg && (rc = target_resolve(&t, arg)) < 0)
		return rc == EFS_EINVAL ? cli_usage(cmd, "%s", efs_error_msg())
					: cli_fail(rc);
	if ((rc = do_op(&v, op, arg ? &t : NULL)) < 0)
		return cli_fail(rc);
	removed = jget(v, "removed", NULL);
	rc = CLI_EXIT_OK;
	if (json)
		rc = cli_json_print(json_incref(v), false) < 0
			     ? cli_fail(EFS_ENOMEM) : CLI_EXIT_OK;
	else if (op == OP_EVICT)
		rc = print_evict(v, arg ? &t : NULL, arg);
	else if (op == OP_PIN)
		print_pin(v, &t);
	else if (removed)
		printf("unpinned: %zu pin%s of %s\n", removed,
		       removed == 1 ? "" : "s", t.label);
	if (op == OP_UNPIN && !removed) {
		efs_error_set(EFS_ENOTFOUND, "unpin: no pin of %s (estuaryfs "
			      "pin makes one)", t.label);
		rc = cli_fail(EFS_ENOTFOUND);
	}
	json_decref(v);
	return rc;
}

static int run_evict(int argc, char **argv)
{
	return command(&cli_cmd_evict, OP_EVICT, argc, argv);
}

static int run_pin(int argc, char **argv)
{
	return command(&cli_cmd_pin, OP_PIN, argc, argv);
}

static int run_unpin(int argc, char **argv)
{
	return command(&cli_cmd_unpin, OP_UNPIN, argc, argv);
}
