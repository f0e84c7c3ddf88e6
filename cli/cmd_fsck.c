/*
 * cmd_fsck.c - `estuaryfs fsck`: verify the repository with bstore_fsck
 * (index integrity, every local block re-hashed, pack ranges, reference
 * counts, pins, locations, counters) and report what it found.
 *
 * Exit status 4 (CLI_EXIT_CORRUPT) whenever problems were found, so
 * scripts can act on it; --repair rewrites what can be recomputed
 * (reference counts and counters) and says so; a second run confirms.
 *
 * While a daemon or a mount holds the repository, the check runs there
 * on its open store (POST /fsck, api/api_cli.c) and its report comes
 * back as JSON, printed the same way.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli_api.h"
#include "cli/cli_i.h"
#include "core/bstore.h"
#include "core/error.h"

#include "core/banned.h"

static const char help_text[] =
	"usage: estuaryfs fsck [--quick] [--repair] [-q]\n"
	"\n"
	"Verify the repository ($ESTUARYFS_HOME or ~/.estuaryfs): the sqlite\n"
	"index, every local block re-read and re-hashed against its CID, pack\n"
	"files and ranges, reference counts, pins and recorded locations.\n"
	"Prints a summary and the first problems found; exits 4 when there\n"
	"are any.\n"
	"\n"
	"options:\n"
	"  --quick      do not read and hash the blocks (index checks only)\n"
	"  --repair     rewrite reference counts and counters that are wrong\n"
	"               (damaged blocks are reported, never \"repaired\")\n"
	"  -q, --quiet  print problems only\n"
	"  -h, --help   this help\n";

static int run(int argc, char **argv);

const struct cli_cmd cli_cmd_fsck = {
	.name = "fsck",
	.summary = "verify the repository (exit 4 when it finds problems)",
	.help = help_text,
	.run = run,
};

enum { OPT_QUICK = 256, OPT_REPAIR };

static void print_report(const struct bstore_fsck_report *r, bool quiet)
{
	char bytes[16], str[CID_STR_MAX];

	for (size_t i = 0; i < r->nlisted; i++) {
		const struct bstore_problem *p = &r->listed[i];

		if (p->id.digest_len)
			printf("problem: %s: %s: %s\n",
			       bstore_problem_name(p->kind),
			       cid_tostr(str, &p->id), p->msg);
		else
			printf("problem: %s: %s\n",
			       bstore_problem_name(p->kind), p->msg);
	}
	if (r->problems > r->nlisted)
		printf("problem: ... and %" PRIu64 " more\n",
		       r->problems - r->nlisted);
	if (quiet)
		return;
	cli_human_bytes(bytes, sizeof(bytes), r->bytes_read);
	printf("blocks:   %" PRIu64 " (%" PRIu64 " local, %" PRIu64
	       " evicted, %" PRIu64 " absent)\n",
	       r->blocks, r->by_state[BSTORE_LOCAL],
	       r->by_state[BSTORE_EVICTED], r->by_state[BSTORE_ABSENT]);
	printf("verified: %s in %" PRIu64 " packs\n", bytes, r->packs);
	printf("pins:     %" PRIu64 "\n", r->pins);
	if (r->repaired)
		printf("repaired: %" PRIu64 "\n", r->repaired);
	printf("problems: %" PRIu64 "\n", r->problems);
}

/* ---- through the daemon ---- */

static uint64_t juint(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) && json_integer_value(v) > 0
		       ? (uint64_t)json_integer_value(v) : 0;
}

static int problem_kind(enum bstore_problem_kind *out, const char *name)
{
	for (int k = BSTORE_PROBLEM_DB; k <= BSTORE_PROBLEM_TOTALS; k++) {
		if (strcmp(name, bstore_problem_name(k)) == 0) {
			*out = k;
			return 0;
		}
	}
	return efs_error_set(EFS_ECORRUPT, "the daemon's fsck report names "
			     "a problem '%s' this estuaryfs does not know",
			     name);
}

/* The report POST /fsck answers (api/api_cli.c) into r. */
static int report_from_json(struct bstore_fsck_report *r, const json_t *v)
{
	const json_t *st = json_object_get(v, "by_state"), *p;
	const json_t *list = json_object_get(v, "listed");
	size_t i;
	int rc;

	memset(r, 0, sizeof(*r));
	r->blocks = juint(v, "blocks");
	r->by_state[BSTORE_LOCAL] = juint(st, "local");
	r->by_state[BSTORE_EVICTED] = juint(st, "evicted");
	r->by_state[BSTORE_ABSENT] = juint(st, "absent");
	r->bytes_read = juint(v, "bytes_read");
	r->pins = juint(v, "pins");
	r->packs = juint(v, "packs");
	r->problems = juint(v, "problems");
	r->repaired = juint(v, "repaired");
	json_array_foreach(list, i, p) {
		struct bstore_problem *q = &r->listed[r->nlisted];
		const char *kind = json_string_value(json_object_get(p, "kind"));
		const char *cid = json_string_value(json_object_get(p, "cid"));
		const char *msg = json_string_value(json_object_get(p, "msg"));

		if (r->nlisted == BSTORE_FSCK_LISTED_MAX)
			break;
		if (!kind || !msg)
			return efs_error_set(EFS_ECORRUPT, "the daemon's fsck "
					     "report is not what it sends");
		if ((rc = problem_kind(&q->kind, kind)) < 0 ||
		    (cid && (rc = cid_parse(&q->id, cid)) < 0))
			return rc;
		snprintf(q->msg, sizeof(q->msg), "%s", msg);
		r->nlisted++;
	}
	return 0;
}

/* A whole check of a big store takes a while: the daemon answers when
 * done. */
#define FSCK_HTTP_TIMEOUT_MS (24u * 3600 * 1000)

struct job {
	struct bstore_fsck_report *r;
	unsigned flags;
};

static int fsck_at(const struct cli_api_where *w, void *cls)
{
	struct job *j = cls;
	json_t *args, *v = NULL;
	int rc;

	if (w->bs)
		return bstore_fsck(j->r, w->bs, j->flags);
	args = json_pack("{s:b,s:b}", "quick",
			 (j->flags & BSTORE_FSCK_NO_DATA) != 0, "repair",
			 (j->flags & BSTORE_FSCK_REPAIR) != 0);
	if (!args)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	rc = cli_api_post(&v, w->repo, "/fsck", args, FSCK_HTTP_TIMEOUT_MS);
	if (rc == 0)
		rc = report_from_json(j->r, v);
	json_decref(args);
	json_decref(v);
	return rc;
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, OPT_QUICK },
		{ "repair", no_argument, NULL, OPT_REPAIR },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct bstore_fsck_report report;
	struct job j = { &report, 0 };
	bool quiet = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, ":qh", opts, NULL)) != -1) {
		switch (c) {
		case OPT_QUICK:
			j.flags |= BSTORE_FSCK_NO_DATA;
			break;
		case OPT_REPAIR:
			j.flags |= BSTORE_FSCK_REPAIR;
			break;
		case 'q':
			quiet = true;
			break;
		default:
			return cli_common_opt(&cli_cmd_fsck, c, argv);
		}
	}
	if (optind != argc)
		return cli_usage(&cli_cmd_fsck, "takes no arguments");
	if ((rc = cli_api_at(fsck_at, &j)) < 0)
		return cli_fail(rc);
	print_report(&report, quiet);
	if (report.problems > 0) {
		fprintf(stderr, "estuaryfs: fsck found %" PRIu64 " problem%s\n",
			report.problems, report.problems == 1 ? "" : "s");
		return CLI_EXIT_CORRUPT;
	}
	return CLI_EXIT_OK;
}
