/*
 * cmd_retrieve.c - `estuaryfs retrieve CID`: fetch the whole DAG under
 * any CID into the blockstore (Estuary's "Case B": the evicted blocks
 * of a commit, or content this node never had) and pin it, with
 * progress.
 *
 *   CID ──► open the repository ──ok──► a retriever and an evictor here
 *             │                         (config.json's retrieval
 *             │                         settings): api_retrieve_run
 *             └─in use (a daemon or a mount holds its lock)──►
 *                POST <api.url>/retrieve {"target"} with the token of
 *                <repo>/api.token: the daemon's retriever walks, its
 *                progress lines arrive as they come
 *
 * Either way the user sees the same thing: on a terminal one progress
 * line redrawn at most ten times a second, then the summary (with
 * --json, api_retrieve_json's object), or one error line.  The pin
 * (a user pin named after the CID, as `estuaryfs pin CID` makes) keeps
 * the DAG from gc and the evictor until `estuaryfs unpin CID`.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "api/api_retrieve.h"
#include "cli/cli_api.h"
#include "cli/cli_i.h"
#include "cli/cli_view.h"
#include "cli/services.h"
#include "core/bstore.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/error.h"
#include "dealer/config.h"
#include "dealer/evict.h"
#include "retrieval/retriever.h"

#include "core/banned.h"

/* The whole request to a daemon: a big DAG from a slow SP takes long. */
#define RETRIEVE_HTTP_TIMEOUT_MS (24u * 3600 * 1000)

static const char help_text[] =
	"usage: estuaryfs retrieve [--json] [-q] CID\n"
	"\n"
	"Fetch the whole DAG under CID into the repository: blocks that were\n"
	"evicted come back from the storage providers holding their pieces,\n"
	"and content this node never had is asked of the storage providers\n"
	"it knows and of the IPNI indexer (retrieval.ipni in config.json).\n"
	"Every block is checked against its CID before it is stored.\n"
	"\n"
	"What is retrieved is pinned, as `estuaryfs pin CID` does: gc and the\n"
	"evictor leave it on this disk until `estuaryfs unpin CID`.\n"
	"\n"
	"While a daemon or a mount holds the repository, its retriever does\n"
	"the work (its api.url, with the token in api.token).  On a terminal\n"
	"a progress line shows the blocks and bytes walked, those fetched\n"
	"and the rate; the summary follows at the end.\n"
	"\n"
	"options:\n"
	"  --json       the summary as JSON: root, blocks, bytes,\n"
	"               fetched_blocks, fetched_bytes, seconds, pin\n"
	"  -q, --quiet  no progress line\n"
	"  -h, --help   this help\n"
	"\n"
	"exit status: 0 once all of it is here; 2 for a bad CID; 3 when no\n"
	"provider has it; 5 when every source failed (or another I/O\n"
	"error); 1 for a timeout (retrieval.timeout_s) or anything else.\n"
	"The reason is one line on stderr.\n";

static int run(int argc, char **argv);

const struct cli_cmd cli_cmd_retrieve = {
	.name = "retrieve",
	.summary = "fetch a CID's whole DAG into the repository and pin it",
	.help = help_text,
	.run = run,
};

enum { OPT_JSON = 256 };

/* ---- the progress line ---------------------------------------------- */

struct show {
	bool enabled;              /* stderr is a terminal, no -q */
	bool drawn;
	double last_draw;
	double start;
};

static void show_init(struct show *sh, bool quiet)
{
	memset(sh, 0, sizeof(*sh));
	sh->enabled = !quiet && isatty(2);
	sh->start = efs_clock_mono();
	sh->last_draw = sh->start;
}

static void show_progress(struct show *sh, const struct retriever_progress *p,
			  double secs)
{
	char bytes[16], fetched[16], rate[16];
	double now = efs_clock_mono();

	if (!sh->enabled || now - sh->last_draw < 0.1)
		return;
	cli_human_bytes(bytes, sizeof(bytes), p->bytes);
	cli_human_bytes(fetched, sizeof(fetched), p->fetched_bytes);
	cli_human_bytes(rate, sizeof(rate),
			secs > 0 ? (uint64_t)((double)p->fetched_bytes / secs)
				 : 0);
	fprintf(stderr, "\rretrieve  %" PRIu64 " blocks, %s  fetched %" PRIu64
		" blocks, %s  %s/s\033[K", p->blocks, bytes, p->fetched,
		fetched, rate);
	sh->last_draw = now;
	sh->drawn = true;
}

static void show_end(struct show *sh)
{
	if (sh->drawn)
		fputs("\r\033[K", stderr);
	sh->drawn = false;
}

static uint64_t juint(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) && json_integer_value(v) > 0
		       ? (uint64_t)json_integer_value(v) : 0;
}

static double jreal(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : 0;
}

/* ---- without a daemon: here ----------------------------------------- */

static int local_progress(void *cls, const struct retriever_progress *p)
{
	struct show *sh = cls;

	show_progress(sh, p, efs_clock_mono() - sh->start);
	return 0;
}

/* The retriever and evictor over bs as the daemon sets them up. */
static int local_run(json_t **out, struct bstore *bs, const char *repo,
		     const struct cid *root, struct show *sh)
{
	struct api_retrieve_result res;
	struct dealer_config cfg;
	struct retriever_opts ro;
	struct retriever *r = NULL;
	struct evict *e = NULL;
	struct buf db = BUF_INIT(BUF_NOCAP);
	char label[CID_STR_MAX];
	int rc;

	config_defaults(&cfg);
	if ((rc = config_load(&cfg, repo)) < 0 ||
	    (rc = buf_printf(&db, "%s/index.db%c", repo, '\0')) < 0)
		goto out;
	cli_retriever_opts(&ro, &cfg);
	if ((rc = retriever_open(&r, bs, (const char *)db.ptr, &ro)) < 0 ||
	    (rc = evict_open(&e, bs, (const char *)db.ptr, NULL)) < 0)
		goto out;
	rc = api_retrieve_run(&res, r, e, root, cid_tostr(label, root),
			      local_progress, sh);
	if (rc == 0 && !(*out = api_retrieve_json(&res)))
		rc = efs_error_set(EFS_ENOMEM, "out of memory");
out:
	evict_close(e);
	retriever_close(r);
	config_release(&cfg);
	buf_release(&db);
	return rc;
}

/* ---- through the daemon --------------------------------------------- */

struct remote {
	struct show *sh;
	json_t *result;            /* the "result" line's object */
	int err;                   /* the "error" line's code, or 0 */
	char details[512];
};

static int remote_line(void *cls, const char *line, size_t len)
{
	struct remote *rm = cls;
	json_t *v = json_loadb(line, len, 0, NULL), *o, *reason, *details;
	struct retriever_progress p;

	if (!json_is_object(v)) {
		json_decref(v);
		return efs_error_set(EFS_ECORRUPT, "the daemon's answer is "
				     "not JSON lines");
	}
	if ((o = json_object_get(v, "progress"))) {
		p.blocks = juint(o, "blocks");
		p.bytes = juint(o, "bytes");
		p.fetched = juint(o, "fetched_blocks");
		p.fetched_bytes = juint(o, "fetched_bytes");
		show_progress(rm->sh, &p, jreal(o, "seconds"));
	} else if ((o = json_object_get(v, "result"))) {
		json_decref(rm->result);
		rm->result = json_incref(o);
	} else if ((o = json_object_get(v, "error"))) {
		reason = json_object_get(o, "reason");
		details = json_object_get(o, "details");
		rm->err = api_retrieve_code(json_is_string(reason)
						    ? json_string_value(reason)
						    : "");
		snprintf(rm->details, sizeof(rm->details), "%s",
			 json_is_string(details) ? json_string_value(details)
						 : "no details");
	}
	json_decref(v);
	return 0;
}

static int daemon_run(json_t **out, const char *repo, const struct cid *root,
		      struct show *sh)
{
	struct remote rm = { .sh = sh };
	char s[CID_STR_MAX];
	json_t *args;
	int rc;

	if (!(args = json_pack("{s:s}", "target", cid_tostr(s, root))))
		return efs_error_set(EFS_ENOMEM, "out of memory");
	rc = cli_api_post_lines(repo, "/retrieve", args,
				RETRIEVE_HTTP_TIMEOUT_MS, remote_line, &rm);
	json_decref(args);
	if (rc == 0 && rm.err)
		rc = efs_error_set(rm.err, "%s", rm.details);
	else if (rc == 0 && !rm.result)
		rc = efs_error_set(EFS_EIO, "the daemon's answer ended before "
				   "the retrieval did (did it stop?)");
	if (rc == 0)
		*out = json_incref(rm.result);
	json_decref(rm.result);
	return rc;
}

/* ---- the command ---------------------------------------------------- */

/* The root and its progress display, for cli_api_run. */
struct job {
	const struct cid *root;
	struct show *sh;
};

static int job_here(json_t **out, struct bstore *bs, const char *repo,
		    void *cls)
{
	const struct job *j = cls;

	return local_run(out, bs, repo, j->root, j->sh);
}

static int job_daemon(json_t **out, const char *repo, void *cls)
{
	const struct job *j = cls;

	return daemon_run(out, repo, j->root, j->sh);
}

/* Here when the repository is free, else through its daemon. */
static int retrieve(json_t **out, const struct cid *root, struct show *sh)
{
	struct job j = { root, sh };
	struct cli_api_work w = { job_here, job_daemon, &j };
	int rc = cli_api_run(out, &w);

	show_end(sh);
	return rc;
}

static void print_summary(const json_t *v, const char *cid)
{
	uint64_t blocks = juint(v, "blocks");
	uint64_t fetched = juint(v, "fetched_blocks");
	uint64_t fetched_bytes = juint(v, "fetched_bytes");
	double secs = jreal(v, "seconds");
	char a[16], b[16];

	cli_human_bytes(a, sizeof(a), juint(v, "bytes"));
	printf("retrieved: %" PRIu64 " block%s, %s of %s\n", blocks,
	       blocks == 1 ? "" : "s", a, cid);
	cli_human_bytes(a, sizeof(a), fetched_bytes);
	cli_human_bytes(b, sizeof(b),
			secs > 0 ? (uint64_t)((double)fetched_bytes / secs)
				 : 0);
	if (fetched)
		printf("fetched:   %" PRIu64 " block%s, %s in %.1f s (%s/s)\n",
		       fetched, fetched == 1 ? "" : "s", a, secs, b);
	else
		printf("fetched:   nothing: every block was here already\n");
	printf("pinned:    it stays on this disk until `estuaryfs unpin "
	       "%s`\n", cid);
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false, quiet = false;
	char s[CID_STR_MAX];
	const char *rest;
	struct show sh;
	struct cid root;
	json_t *v;
	int c;

	while ((c = getopt_long(argc, argv, ":qh", opts, NULL)) != -1) {
		if (c == OPT_JSON)
			json = true;
		else if (c == 'q')
			quiet = true;
		else
			return cli_common_opt(&cli_cmd_retrieve, c, argv);
	}
	if (argc - optind != 1)
		return cli_usage(&cli_cmd_retrieve, "takes one CID");
	if (cli_parse_cid_path(&root, &rest, argv[optind]) < 0)
		return cli_usage(&cli_cmd_retrieve, "'%s' is not a CID",
				 argv[optind]);
	if (*rest)
		return cli_usage(&cli_cmd_retrieve, "takes a CID, not a path "
				 "inside one ('%s')", argv[optind]);
	if (cid_is_identity(&root))
		return cli_usage(&cli_cmd_retrieve, "%s is an identity CID: "
				 "its bytes are the CID itself", argv[optind]);
	show_init(&sh, quiet);
	if ((c = retrieve(&v, &root, &sh)) < 0)
		return cli_fail(c);
	if (json)
		return cli_json_print(v, false) < 0 ? cli_fail(EFS_ENOMEM)
						    : CLI_EXIT_OK;
	print_summary(v, cid_tostr(s, &root));
	json_decref(v);
	return CLI_EXIT_OK;
}
