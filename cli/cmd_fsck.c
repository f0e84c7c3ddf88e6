/*
 * cmd_fsck.c - `estuaryfs fsck`: verify the repository with bstore_fsck
 * (index integrity, every local block re-hashed, pack ranges, reference
 * counts, pins, locations, counters) and report what it found.
 *
 * Exit status 4 (CLI_EXIT_CORRUPT) whenever problems were found, so
 * scripts can act on it; --repair rewrites what can be recomputed
 * (reference counts and counters) and says so; a second run confirms.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

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
	struct bstore *bs;
	unsigned flags = 0;
	bool quiet = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, ":qh", opts, NULL)) != -1) {
		switch (c) {
		case OPT_QUICK:
			flags |= BSTORE_FSCK_NO_DATA;
			break;
		case OPT_REPAIR:
			flags |= BSTORE_FSCK_REPAIR;
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
	if ((rc = cli_repo_open(&bs)) < 0)
		return cli_fail(rc);
	rc = bstore_fsck(&report, bs, flags);
	rc = cli_repo_close(bs, rc);
	if (rc < 0)
		return cli_fail(rc);
	print_report(&report, quiet);
	if (report.problems > 0) {
		fprintf(stderr, "estuaryfs: fsck found %" PRIu64 " problem%s\n",
			report.problems, report.problems == 1 ? "" : "s");
		return CLI_EXIT_CORRUPT;
	}
	return CLI_EXIT_OK;
}
