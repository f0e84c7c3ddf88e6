/*
 * cmd_status.c - `estuaryfs status [DIR|CID]`: where the dealer stands
 * (network, wallet and funds, what blocks it, its last cycle) and, per
 * commit, its replication: stage, pieces, deals active of those wanted,
 * local or evicted blocks, and what the dealer will do next.
 *
 * It reads index.db only (cli_view.h), so it runs beside the daemon.
 * Problems that stop deals (no funds, no DataCap, no eligible SP) are
 * printed first and in capitals: the one thing Estuary's users most
 * needed to see and could not (estuary.md: deals stalled silently).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_i.h"
#include "cli/cli_view.h"
#include "core/alloc.h"
#include "core/error.h"
#include "dealer/evict.h"

#include "core/banned.h"

static const char help_text[] =
	"usage: estuaryfs status [--json] [DIR|CID]\n"
	"\n"
	"What the dealer is doing: the network it deals on, whether the\n"
	"daemon runs (and its pid), the wallet's balance, market escrow\n"
	"and DataCap as last read, anything that blocks new deals (shown\n"
	"as BLOCKED), and the dealer's last cycle.  Then one\n"
	"line per commit (all of them, those of DIR, a directory of a\n"
	"mounted estuaryfs, and below it, or those whose root is CID):\n"
	"\n"
	"  ID, PATH, ROOT  the commit\n"
	"  STAGE           queued (the dealer has not taken it yet),\n"
	"                  sizing (making its CAR and CommP), waiting (in\n"
	"                  the open aggregate), pieced\n"
	"  PIECE           the piece CID its deals are for (+N: shards)\n"
	"  ACTIVE          active deals of those wanted (dealer.replication),\n"
	"                  not counting those inside the renewal window\n"
	"  COUNTING        live deals that count toward it (proposed to\n"
	"                  active, outside the renewal window)\n"
	"  DATA            local, or how many of its blocks are evicted\n"
	"  NEXT            what the dealer will do next for it\n"
	"\n"
	"The header also gives the local cache: bytes of blocks kept here,\n"
	"bytes evicted (held by storage providers, fetched back on read),\n"
	"and the cache size the evictor keeps the local bytes under.\n"
	"\n"
	"It reads the repository's index only, beside a running daemon.\n"
	"\n"
	"options:\n"
	"  --json      one JSON object with every field\n"
	"  -h, --help  this help\n";

static int run(int argc, char **argv);

const struct cli_cmd cli_cmd_status = {
	.name = "status",
	.summary = "replication of each commit, funds, what blocks deals",
	.help = help_text,
	.run = run,
};

enum { OPT_JSON = 256 };

/* Seconds after which a last cycle means the daemon is not running. */
#define STALE_CYCLE 300

/* ---- the header --------------------------------------------------------- */

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int64_t jnum(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? json_integer_value(v) : 0;
}

/* An amount the report gives as FIL text, without a repeated unit. */
static const char *fil_text(char *out, size_t cap, json_t *o, const char *key)
{
	const char *s = jstr(o, key);
	size_t n;

	if (!s)
		return "?";
	n = strlen(s);
	if (n > 4 && !strcmp(s + n - 4, " FIL"))
		n -= 4;
	snprintf(out, cap, "%.*s FIL", (int)n, s);
	return out;
}

static void print_network(const struct dealview *v)
{
	json_t *net = dealview_report(v, "network");
	const char *kind = jstr(net, "kind"), *url = jstr(net, "url");

	if (!net) {
		if (v->cfg.devnet)
			printf("network:     devnet (no network configured; "
			       "simulated: nothing real is stored)\n");
		else
			printf("network:     lotus at %s\n",
			       v->cfg.lotus_url ? v->cfg.lotus_url : "?");
		return;
	}
	printf("network:     %s at %s%s\n", kind ? kind : "?", url ? url : "?",
	       kind && !strcmp(kind, "devnet")
		       ? " (simulated: nothing real is stored)" : "");
}

static void print_funds(const struct dealview *v)
{
	json_t *f = dealview_report(v, "funds");
	json_t *net = dealview_report(v, "network");
	char a[96], b[96], c[96], d[96], dc[32];
	const char *w = jstr(net, "wallet"), *cap = jstr(f, "datacap");
	uint64_t bytes = 0;

	if (!f) {
		printf("wallet:      %s (funds not read yet)\n", w ? w : "-");
		return;
	}
	if (cap && cli_parse_uint(&bytes, cap, "datacap") == 0)
		cli_human_bytes(dc, sizeof(dc), bytes);
	else
		snprintf(dc, sizeof(dc), "%s", cap ? cap : "?");
	printf("wallet:      %s  balance %s; escrow %s (locked %s, "
	       "available %s); DataCap %s%s\n", w ? w : "-",
	       fil_text(a, sizeof(a), f, "balance"),
	       fil_text(b, sizeof(b), f, "escrow"),
	       fil_text(c, sizeof(c), f, "locked"),
	       fil_text(d, sizeof(d), f, "available"), dc,
	       json_is_false(json_object_get(f, "verified_client"))
		       ? " (not a verified client)" : "");
	if (jstr(f, "topup"))
		printf("             escrow top-up in flight: message %s\n",
		       jstr(f, "topup"));
	if (dealview_funds_time(v) > 0) {
		dealview_fmt_time(a, sizeof(a), dealview_funds_time(v));
		printf("             as read at %s UTC, height %" PRId64 "\n",
		       a, jnum(f, "height"));
	} else if (jnum(f, "height") > 0) {
		printf("             as read at height %" PRId64 "\n",
		       jnum(f, "height"));
	}
}

static void print_blocked(const struct dealview *v)
{
	static const char *const keys[][2] = {
		{ "funds", "funds" }, { "datacap", "DataCap" },
		{ "miners", "SPs" }, { "commits", "commits" },
	};
	json_t *b = dealview_report(v, "blocked");

	for (size_t i = 0; b && i < sizeof(keys) / sizeof(keys[0]); i++)
		if (jstr(b, keys[i][0]))
			printf("BLOCKED:     %s: %s\n", keys[i][1],
			       jstr(b, keys[i][0]));
}

static void print_cycle(const struct dealview *v)
{
	json_t *c = dealview_report(v, "cycle");
	char when[32], rel[32];
	int64_t t = jnum(c, "time");

	if (v->daemon_pid > 0)
		printf("daemon:      running (pid %ld)\n", v->daemon_pid);
	else if (v->daemon_pid == 0)
		printf("daemon:      not running (estuaryfs daemon, or a "
		       "mount, runs the dealer)\n");
	if (!v->report) {
		printf("dealer:      has not run in this repository\n");
		return;
	}
	if (!c || t <= 0) {
		printf("dealer:      no cycle finished yet\n");
		return;
	}
	dealview_fmt_time(when, sizeof(when), t);
	cli_fmt_rel(rel, sizeof(rel), t, v->now);
	printf("dealer:      last cycle %s UTC (%s), %" PRId64 " ms, %" PRId64
	       " RPC request%s, chain height %" PRId64 "%s\n",
	       when, rel, jnum(c, "duration_ms"), jnum(c, "rpc_requests"),
	       jnum(c, "rpc_requests") == 1 ? "" : "s", v->head,
	       v->daemon_pid > 0 && v->now - t > STALE_CYCLE
		   ? "; the dealer seems stuck (see the daemon's log)"
		   : "");
}

/* Local and evicted bytes of the blockstore, and the cache size. */
static void print_cache(const struct dealview *v)
{
	char local[32], evicted[32], size[32];
	struct evict_totals t;

	if (!v->has_index || evict_totals_read(&t, v->db) < 0) {
		efs_error_clear();
		return;
	}
	cli_human_bytes(local, sizeof(local), t.local_bytes);
	cli_human_bytes(evicted, sizeof(evicted), t.evicted_bytes);
	cli_human_bytes(size, sizeof(size), config_cache_size(&v->cfg, v->repo));
	printf("cache:       %s local (%" PRIu64 " blocks), %s evicted (%"
	       PRIu64 " blocks); cache size %s%s; evicts blocks of commits "
	       "with %u active deals\n", local, t.local_blocks, evicted,
	       t.evicted_blocks, size, v->cfg.cache_size ? ""
	       : " (a quarter of the disk)", config_min_active(&v->cfg));
}

static void print_header(const struct dealview *v)
{
	print_network(v);
	print_funds(v);
	print_blocked(v);
	print_cycle(v);
	print_cache(v);
	printf("wanted:      %u %sdeals of %" PRId64 " epochs per commit\n",
	       v->cfg.replication, v->cfg.verified ? "verified " : "",
	       v->cfg.duration);
}

/* ---- one commit --------------------------------------------------------- */

static void print_row(const struct dealview_commit *c,
		      const struct dealview_state *s, bool first)
{
	char root[CID_STR_MAX], rs[32], piece[CID_STR_MAX], ps[32];
	char act[24], data[48], more[24] = "", col[64];

	if (first)
		printf("\n%-4s %-16s %-16s %-8s %-18s %-7s %-8s %-12s %s\n",
		       "ID", "PATH", "ROOT", "STAGE", "PIECE", "ACTIVE",
		       "COUNTING", "DATA", "NEXT");
	dealview_fmt_short(rs, sizeof(rs), cid_tostr(root, &c->root));
	if (s->npieces)
		dealview_fmt_short(ps, sizeof(ps),
			      cid_tostr(piece, &s->pieces[0].info.cid));
	else
		snprintf(ps, sizeof(ps), "-");
	/* a split commit: its first shard and how many more */
	if (s->npieces > 1)
		snprintf(more, sizeof(more), " +%zu", s->npieces - 1);
	snprintf(col, sizeof(col), "%s%s", ps, more);
	snprintf(act, sizeof(act), "%u/%u", s->active, s->want);
	if (s->evicted_blocks)
		snprintf(data, sizeof(data), "%" PRIu64 " evicted",
			 s->evicted_blocks);
	else
		snprintf(data, sizeof(data), "local");
	printf("%-4" PRId64 " %-16s %-16s %-8s %-18s %-7s %-8u %-12s %s\n",
	       c->id, c->path ? c->path : "-", rs, dealview_stage_name(c), col,
	       act, s->counting, data, s->next);
}

/* ---- the whole ---------------------------------------------------------- */

static int status(struct dealview *v, const struct dealview_commits *cs,
		  bool json)
{
	struct dealview_state s;
	json_t *o = NULL, *arr = NULL;
	bool bad = false;
	int rc = 0;

	if (json) {
		o = dealview_header_json(v, &bad);
		if (o && (arr = json_array()))
			dealview_jset(o, "commits", arr, &bad);
		else
			bad = true;
	} else {
		print_header(v);
	}
	for (size_t i = 0; i < cs->n && rc == 0 && !bad; i++) {
		if ((rc = dealview_commit_state(&s, v, &cs->v[i])) == 0) {
			if (json && json_array_append_new(
					arr, dealview_commit_json(&cs->v[i], &s,
								  &bad)) < 0)
				bad = true;
			else if (!json)
				print_row(&cs->v[i], &s, i == 0);
		}
		dealview_state_release(&s);
	}
	if (rc == 0 && json)
		return cli_json_print(o, bad);
	json_decref(o);
	return rc;
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dealview_commits cs = { 0 };
	struct cli_filter f;
	struct dealview v;
	bool json = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c != OPT_JSON)
			return cli_common_opt(&cli_cmd_status, c, argv);
		json = true;
	}
	if (argc - optind > 1)
		return cli_usage(&cli_cmd_status, "takes at most one DIR or "
				 "CID");
	if ((rc = cli_filter_init(&f, optind < argc ? argv[optind] : NULL)) < 0)
		return rc == EFS_EINVAL ? cli_usage(&cli_cmd_status, "%s",
						    efs_error_msg())
					: cli_fail(rc);
	if ((rc = cli_view_open(&v)) == 0 &&
	    (rc = cli_view_commits(&cs, &v, &f)) == 0) {
		if (f.arg && cs.n == 0)
			rc = cli_filter_none(&f, "status");
		else
			rc = status(&v, &cs, json);
	}
	if (rc == 0 && !json && cs.n == 0)
		fprintf(stderr, "estuaryfs: no commits yet (estuaryfs commit "
				"DIR in a mounted estuaryfs)\n");
	dealview_commits_release(&cs);
	dealview_release(&v);
	cli_filter_release(&f);
	return rc < 0 ? cli_fail(rc) : CLI_EXIT_OK;
}
