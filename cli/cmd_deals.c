/*
 * cmd_deals.c - the deal records (dealer/deals.h), read-only beside the
 * daemon:
 *
 *	estuaryfs deals [DIR|CID] [--state S] [--all] [--json]
 *	estuaryfs deal show ID [--json]
 *
 * deals lists one row per deal; by default the live ones and those that
 * ended in the last day (a user looking at deals wants to see what is
 * under way and what just went wrong, not years of expired ones).  deal
 * show prints one deal's receipt: who, what, when, for how much, the
 * states it went through and what the chain said of it last.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_i.h"
#include "cli/cli_view.h"
#include "core/alloc.h"
#include "core/error.h"

#include "core/banned.h"

static const char deals_help[] =
	"usage: estuaryfs deals [--state S] [--all] [--json] [DIR|CID]\n"
	"\n"
	"One line per deal: UUID (its first 8 hex digits), SP, state, the\n"
	"on-chain deal ID, piece CID, start and end epochs, price per\n"
	"epoch (FIL), verified (v), last update (UTC) and why it is in its\n"
	"state.  Shows the deals of every commit, of DIR (a directory of a\n"
	"mounted estuaryfs, and below it) or of the commits whose root is\n"
	"CID.  By default the live deals (proposing to active) and those\n"
	"that ended in the last 24 hours.\n"
	"\n"
	"options:\n"
	"  --state S   only deals in state S, however old: proposing,\n"
	"              accepted, transferring, publishing, published,\n"
	"              active, rejected, failed, slashed, expired; or live\n"
	"              (the first six) or ended (the last four)\n"
	"  --all       every deal ever made\n"
	"  --json      a JSON array with every field\n"
	"  -h, --help  this help\n";

static const char deal_help[] =
	"usage: estuaryfs deal show [--json] ID\n"
	"\n"
	"One deal's receipt.  ID is its on-chain deal ID, its UUID (with or\n"
	"without hyphens), or its proposal CID (or signed proposal CID).\n"
	"Prints the SP, deal ID, UUID, proposal CIDs, piece CID and padded\n"
	"size, payload root, start and end epochs, verified, price per epoch\n"
	"and in total, provider collateral, state and reason, the history\n"
	"of its states, and the on-chain record as last read.  Exit 3 when\n"
	"there is no such deal.\n"
	"\n"
	"options:\n"
	"  --json      one JSON object with every field\n"
	"  -h, --help  this help\n";

static int run_deals(int argc, char **argv);
static int run_deal(int argc, char **argv);

const struct cli_cmd cli_cmd_deals = {
	.name = "deals",
	.summary = "the deals made for the commits, with their states",
	.help = deals_help,
	.run = run_deals,
};

const struct cli_cmd cli_cmd_deal = {
	.name = "deal",
	.summary = "one deal's receipt: terms, states, chain record",
	.help = deal_help,
	.run = run_deal,
};

enum { OPT_JSON = 256, OPT_STATE, OPT_ALL };

/* Ended deals newer than this are shown without --all. */
#define RECENT_SECONDS 86400

/* ---- shared ------------------------------------------------------------- */

static void uuid_str(char out[MK12_UUID_STR_MAX], const struct deal *d)
{
	mk12_uuid_format(out, d->uuid);
}

/* ---- estuaryfs deals ---------------------------------------------------- */

struct ids;

enum which { WHICH_RECENT, WHICH_ALL, WHICH_STATE, WHICH_LIVE, WHICH_ENDED };

struct listing {
	enum which which;
	enum deal_state state;
	int64_t now;
	bool json;
	json_t *arr;
	bool bad;
	size_t n, hidden;
	const struct ids *pieces;   /* a DIR|CID selection's, sorted */
};

static bool wanted(struct listing *l, const struct deal *d)
{
	switch (l->which) {
	case WHICH_ALL:
		return true;
	case WHICH_STATE:
		return d->state == l->state;
	case WHICH_LIVE:
		return deal_state_live(d->state);
	case WHICH_ENDED:
		return !deal_state_live(d->state);
	case WHICH_RECENT:
		break;
	}
	if (deal_state_live(d->state) || l->now - d->updated < RECENT_SECONDS)
		return true;
	l->hidden++;
	return false;
}

static void print_deal_row(const struct deal *d, bool first)
{
	char uuid[MK12_UUID_STR_MAX], sp[FILADDR_STR_MAX], id[24];
	char piece[CID_STR_MAX], ps[32], price[BIGINT_STR_MAX + 8], upd[32];

	if (first)
		printf("%-8s %-8s %-12s %8s %-16s %8s %8s %-14s %-1s %-19s "
		       "%s\n", "UUID", "SP", "STATE", "DEAL ID", "PIECE",
		       "START", "END", "FIL/EPOCH", "V", "UPDATED (UTC)",
		       "REASON");
	uuid_str(uuid, d);
	uuid[8] = '\0';
	filaddr_format(sp, &d->miner, 'f');
	if (d->deal_id >= 0)
		snprintf(id, sizeof(id), "%" PRId64, d->deal_id);
	else
		snprintf(id, sizeof(id), "-");
	dealview_fmt_short(ps, sizeof(ps), cid_tostr(piece, &d->piece_cid));
	cli_fmt_fil(price, sizeof(price), &d->price);
	dealview_fmt_time(upd, sizeof(upd), d->updated);
	printf("%-8s %-8s %-12s %8s %-16s %8" PRId64 " %8" PRId64 " %-14s "
	       "%-1s %-19s%s%s\n", uuid, sp, deals_state_name(d->state), id,
	       ps, d->start_epoch, d->end_epoch, price, d->verified ? "v" : "",
	       upd, d->reason ? " " : "", d->reason ? d->reason : "");
}

static int deal_cb(const struct deal *d, void *cls)
{
	struct listing *l = cls;

	if (!wanted(l, d))
		return 0;
	if (l->json) {
		if (json_array_append_new(l->arr,
					  dealview_deal_json(d, &l->bad)) < 0)
			l->bad = true;
	} else {
		print_deal_row(d, l->n == 0);
	}
	l->n++;
	return 0;
}

struct ids {
	int64_t *v;
	size_t n, cap;
};

static int id_cb(const struct piece_info *p, const struct piece_member *m,
		 void *cls)
{
	struct ids *ids = cls;
	int64_t *v;

	(void)m;
	if (ids->n == ids->cap) {
		ids->cap = ids->cap ? ids->cap * 2 : 16;
		if (!(v = efs_realloc(ids->v, ids->cap * sizeof(*v))))
			return efs_error_set(EFS_ENOMEM, "out of memory");
		ids->v = v;
	}
	ids->v[ids->n++] = p->id;
	return 0;
}

static int by_id(const void *a, const void *b)
{
	const int64_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

/* The pieces of the selected commits, sorted (an aggregate may appear
 * more than once: that does not matter to bsearch). */
static int pieces_of(struct ids *out, struct dealview *v,
		     const struct dealview_commits *cs)
{
	int rc = 0;

	for (size_t i = 0; i < cs->n && rc == 0 && v->ps; i++)
		if (cs->v[i].in_store)
			rc = piece_commit_foreach(v->ps, cs->v[i].id, id_cb,
						  out);
	if (rc == 0 && out->n)
		qsort(out->v, out->n, sizeof(*out->v), by_id);
	return rc;
}

/* One scan of the deals for those of the pieces in l->pieces. */
static int piece_deal_cb(const struct deal *d, void *cls)
{
	struct listing *l = cls;

	if (!bsearch(&d->piece_id, l->pieces->v, l->pieces->n,
		     sizeof(*l->pieces->v), by_id))
		return 0;
	return deal_cb(d, cls);
}

static int deals_list(struct dealview *v, const struct cli_filter *f,
		      struct listing *l)
{
	struct dealview_commits cs = { 0 };
	struct ids ids = { 0 };
	int rc;

	if (!f->arg)
		return v->deals ? deals_foreach(v->deals, -1, false, deal_cb, l)
				: 0;
	if ((rc = cli_view_commits(&cs, v, f)) < 0)
		return rc;
	if (cs.n == 0)
		rc = cli_filter_none(f, "deals");
	else
		rc = pieces_of(&ids, v, &cs);
	l->pieces = &ids;
	if (rc == 0 && ids.n && v->deals)
		rc = deals_foreach(v->deals, -1, false, piece_deal_cb, l);
	efs_free(ids.v);
	dealview_commits_release(&cs);
	return rc;
}

static int parse_state(struct listing *l, const char *s)
{
	if (!strcmp(s, "live"))
		l->which = WHICH_LIVE;
	else if (!strcmp(s, "ended"))
		l->which = WHICH_ENDED;
	else if (deals_state_parse(&l->state, s))
		l->which = WHICH_STATE;
	else
		return efs_error_set(EFS_EINVAL, "--state: no state '%s'", s);
	return 0;
}

/* Parse the options into l; *go says whether to list (false: exit with
 * the code returned: help, usage). */
static int deals_opts(struct listing *l, bool *go, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool all = false, state = false;
	int c;

	*go = false;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == OPT_JSON)
			l->json = true;
		else if (c == OPT_ALL)
			all = true;
		else if (c == OPT_STATE && parse_state(l, optarg) < 0)
			return cli_usage(&cli_cmd_deals, "%s",
					 efs_error_msg());
		else if (c == OPT_STATE)
			state = true;
		else
			return cli_common_opt(&cli_cmd_deals, c, argv);
	}
	if (all && state)
		return cli_usage(&cli_cmd_deals, "--all or --state, not both");
	if (argc - optind > 1)
		return cli_usage(&cli_cmd_deals, "takes at most one DIR or "
				 "CID");
	if (all)
		l->which = WHICH_ALL;
	*go = true;
	return CLI_EXIT_OK;
}

static void deals_notes(const struct listing *l)
{
	if (l->json)
		return;
	if (l->n == 0)
		fprintf(stderr, "estuaryfs: no deals%s\n",
			l->which == WHICH_RECENT ? " under way or ended in the "
			"last day (--all shows every deal)" : "");
	else if (l->hidden)
		fprintf(stderr, "estuaryfs: %zu deal%s that ended over a day "
			"ago not shown (--all)\n", l->hidden,
			l->hidden == 1 ? "" : "s");
}

static int run_deals(int argc, char **argv)
{
	struct listing l = { .which = WHICH_RECENT };
	struct cli_filter f;
	struct dealview v;
	bool go;
	int rc = deals_opts(&l, &go, argc, argv);

	if (!go)
		return rc;
	if ((rc = cli_filter_init(&f, optind < argc ? argv[optind] : NULL)) < 0)
		return rc == EFS_EINVAL ? cli_usage(&cli_cmd_deals, "%s",
						    efs_error_msg())
					: cli_fail(rc);
	if ((rc = cli_view_open(&v)) == 0) {
		l.now = v.now;
		if (l.json && !(l.arr = json_array()))
			rc = efs_error_set(EFS_ENOMEM, "out of memory");
		if (rc == 0)
			rc = deals_list(&v, &f, &l);
	}
	if (rc == 0 && l.json)
		rc = cli_json_print(l.arr, l.bad);
	else
		json_decref(l.arr);
	if (rc == 0)
		deals_notes(&l);
	dealview_release(&v);
	cli_filter_release(&f);
	return rc < 0 ? cli_fail(rc) : CLI_EXIT_OK;
}

/* ---- estuaryfs deal show ------------------------------------------------ */

struct history {
	size_t n;
};

static int event_cb(int64_t time, enum deal_state st, const char *detail,
		    void *cls)
{
	struct history *h = cls;
	char when[32];

	if (h->n == 0)
		printf("\nhistory:\n  %-19s  %-12s %s\n", "TIME (UTC)",
		       "STATE", "DETAIL");
	dealview_fmt_time(when, sizeof(when), time);
	if (detail)
		printf("  %-19s  %-12s %s\n", when, deals_state_name(st),
		       detail);
	else
		printf("  %-19s  %s\n", when, deals_state_name(st));
	h->n++;
	return 0;
}

static void print_receipt(const struct deal *d, const char *root)
{
	char uuid[MK12_UUID_STR_MAX], sp[FILADDR_STR_MAX], a[CID_STR_MAX];
	char b[BIGINT_STR_MAX + 8], size[16];
	struct bigint total;

	uuid_str(uuid, d);
	filaddr_format(sp, &d->miner, 'f');
	if (d->deal_id >= 0)
		printf("deal %" PRId64 " with %s: %s\n", d->deal_id, sp,
		       deals_state_name(d->state));
	else
		printf("deal with %s (no deal ID yet): %s\n", sp,
		       deals_state_name(d->state));
	if (d->reason)
		printf("  reason:          %s\n", d->reason);
	printf("  uuid:            %s\n", uuid);
	printf("  proposal:        %s\n", cid_tostr(a, &d->proposal_cid));
	printf("  signed proposal: %s (%zu bytes, %s)\n",
	       cid_tostr(a, &d->signed_cid), d->proposal.len, d->proto);
	cli_human_bytes(size, sizeof(size), d->padded);
	printf("  piece:           %s (%s padded)\n",
	       cid_tostr(a, &d->piece_cid), size);
	printf("  payload root:    %s\n", root);
	printf("  epochs:          %" PRId64 " to %" PRId64 " (%" PRId64
	       " epochs)\n", d->start_epoch, d->end_epoch,
	       d->end_epoch - d->start_epoch);
	printf("  verified:        %s\n", d->verified ? "yes" : "no");
	bigint_format_fil(b, &d->price);
	printf("  price:           %s per epoch", b);
	if (dealview_deal_total(&total, d) == 0) {
		bigint_format_fil(b, &total);
		printf(", %s in all", b);
	}
	bigint_format_fil(b, &d->collateral);
	printf("\n  collateral:      %s (provider)\n", b);
	if (d->sector_start >= 0)
		printf("  sector start:    epoch %" PRId64 "\n",
		       d->sector_start);
	if (d->slash_epoch >= 0)
		printf("  slashed:         epoch %" PRId64 "\n",
		       d->slash_epoch);
	dealview_fmt_time(a, sizeof(a), d->created);
	dealview_fmt_time(b, sizeof(b), d->updated);
	printf("  created:         %s UTC, updated %s UTC\n", a, b);
	if (deal_state_live(d->state)) {
		dealview_fmt_time(a, sizeof(a), d->next_check);
		printf("  next check:      %s UTC%s\n", a, d->attempts
		       ? " (after failed checks)" : "");
	}
}

static void print_chain(const struct deal *d, json_t *chain)
{
	char when[32];

	if (!d->chain_json) {
		printf("\non chain: not read yet\n");
		return;
	}
	dealview_fmt_time(when, sizeof(when), d->chain_at);
	printf("\non chain, as read at %s UTC:\n", when);
	if (!chain || json_dumpf(chain, stdout, JSON_INDENT(2)) < 0)
		fputs(d->chain_json, stdout);
	putchar('\n');
}

static int show(struct dealview *v, const struct deal *d, bool json)
{
	struct history h = { 0 };
	char root[CID_STR_MAX + 512];
	json_error_t jerr;
	json_t *chain = NULL, *o;
	int rc;

	if (json) {
		if ((rc = dealview_receipt_json(&o, v, d)) < 0)
			return rc;
		return cli_json_print(o, false);
	}
	if (d->chain_json)
		chain = json_loads(d->chain_json, 0, &jerr);
	dealview_payload_root(root, sizeof(root), v, d, chain);
	print_receipt(d, root);
	if ((rc = deals_events(v->deals, d->id, event_cb, &h)) == 0)
		print_chain(d, chain);
	json_decref(chain);
	return rc;
}

/* Whether key is a deal ID, a UUID or a CID (what deals_find takes). */
static bool key_ok(const char *key)
{
	uint8_t uuid[DEAL_UUID_LEN];
	uint64_t n;
	struct cid id;

	return cli_parse_uint(&n, key, "deal ID") == 0 ||
	       deals_uuid_parse(uuid, key) == 0 || cid_parse(&id, key) == 0;
}

static int run_deal(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dealview v;
	struct deal d = { 0 };
	bool json = false;
	const char *key;
	int c, rc;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c != OPT_JSON)
			return cli_common_opt(&cli_cmd_deal, c, argv);
		json = true;
	}
	if (optind >= argc)
		return cli_usage(&cli_cmd_deal, "no subcommand (show)");
	if (strcmp(argv[optind], "show") != 0)
		return cli_usage(&cli_cmd_deal, "no subcommand '%s'",
				 argv[optind]);
	if (argc - optind != 2)
		return cli_usage(&cli_cmd_deal, "show takes one ID");
	key = argv[optind + 1];
	if (!key_ok(key))
		return cli_usage(&cli_cmd_deal, "'%s' is neither a deal ID, a "
				 "deal UUID nor a proposal CID", key);
	if ((rc = cli_view_open(&v)) == 0 && !v.deals)
		rc = efs_error_set(EFS_ENOTFOUND, "deal: no deal %s (no deal "
				   "was made in this repository)", key);
	if (rc == 0 && (rc = deals_find(&d, v.deals, key)) == 0)
		rc = show(&v, &d, json);
	deals_release(&d);
	dealview_release(&v);
	return rc < 0 ? cli_fail(rc) : CLI_EXIT_OK;
}
