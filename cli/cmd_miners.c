/*
 * cmd_miners.c - what the dealer knows of storage providers, read from
 * the repository's index (dealer/miners.h):
 *
 *	estuaryfs miners [--json]                  the performance table
 *	estuaryfs miner show ID [--json] [--limit N]  one SP and its log
 *	estuaryfs bandwidth [--json] [--by sp|commit|day]
 *
 * They open index.db read-only (query_only, WAL), so they run beside a
 * daemon that is writing it.  A repository whose dealer never ran has no
 * SPs: the table is empty and says so.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli/cli_i.h"
#include "core/alloc.h"
#include "core/bigint.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/filaddr.h"
#include "core/mk12.h"
#include "dealer/dealview.h"
#include "dealer/miners.h"

#include "core/banned.h"

static const char miners_help[] =
	"usage: estuaryfs miners [--json]\n"
	"\n"
	"The storage providers the dealer knows, with their asks and how\n"
	"they performed: ask price (FIL per GiB per epoch, unverified and\n"
	"verified), the piece sizes they take, deals sealed of those\n"
	"proposed, success (sealed of the proposals whose fate is known),\n"
	"median time to seal, retrievals that worked and their speed, and\n"
	"the state: ok, backed off until a time (after failures), disabled\n"
	"(by configuration), or no ask.\n"
	"\n"
	"options:\n"
	"  --json      a JSON array with every field\n"
	"  -h, --help  this help\n";

static const char miner_help[] =
	"usage: estuaryfs miner show ID [--json] [--limit N]\n"
	"\n"
	"One storage provider (ID: its f0 address, or the number): who it\n"
	"is, its ask, its performance and score, and the log of every\n"
	"interaction with it, newest first: time, action (ask, propose,\n"
	"status, transfer, chain, retrieve), outcome, latency, bytes sent\n"
	"and received, and what happened.\n"
	"\n"
	"options:\n"
	"  --limit N   show the N newest log rows (default 20; 0: all)\n"
	"  --json      one JSON object with the record and the log\n"
	"  -h, --help  this help\n";

static const char bandwidth_help[] =
	"usage: estuaryfs bandwidth [--json] [--by sp|commit|day]\n"
	"\n"
	"Bytes exchanged with storage providers: sent (what they pulled\n"
	"from us for deals) and fetched (what we retrieved from them),\n"
	"summed per SP (the default), per commit (- for bytes not tied to\n"
	"one commit) or per UTC day, with the total.\n"
	"\n"
	"options:\n"
	"  --by KEY    sp, commit or day\n"
	"  --json      a JSON array of the sums\n"
	"  -h, --help  this help\n";

static int run_miners(int argc, char **argv);
static int run_miner(int argc, char **argv);
static int run_bandwidth(int argc, char **argv);

const struct cli_cmd cli_cmd_miners = {
	.name = "miners",
	.summary = "storage providers: asks, performance, state",
	.help = miners_help,
	.run = run_miners,
};

const struct cli_cmd cli_cmd_miner = {
	.name = "miner",
	.summary = "one storage provider and the log of dealing with it",
	.help = miner_help,
	.run = run_miner,
};

const struct cli_cmd cli_cmd_bandwidth = {
	.name = "bandwidth",
	.summary = "bytes sent to and fetched from storage providers",
	.help = bandwidth_help,
	.run = run_bandwidth,
};

enum { OPT_JSON = 256, OPT_LIMIT, OPT_BY };

/* ---- shared ------------------------------------------------------------- */

/* Open the repository's miner tables read-only; *out NULL when there is
 * no index yet. */
static int open_repo(struct miners **out)
{
	struct miners_opts opts = MINERS_OPTS_INIT;
	char *db;
	int rc;

	*out = NULL;
	opts.read_only = true;
	if ((rc = cli_repo_index_path(&db)) < 0)
		return rc;
	rc = miners_open(out, db, &opts);
	if (rc == EFS_ENOTFOUND)
		rc = 0;
	efs_free(db);
	return rc;
}

#define ISO "%Y-%m-%dT%H:%M:%SZ"

/* "45 s", "12 min", "2.0 h", "3.1 d" */
static void fmt_secs(char *out, size_t cap, double s)
{
	if (s < 120)
		snprintf(out, cap, "%.0f s", s);
	else if (s < 7200)
		snprintf(out, cap, "%.0f min", s / 60);
	else if (s < 172800)
		snprintf(out, cap, "%.1f h", s / 3600);
	else
		snprintf(out, cap, "%.1f d", s / 86400);
}

/* A price in FIL without the unit ("0.00000003"). */
static void fmt_fil(char *out, const struct bigint *a)
{
	size_t n = bigint_format_fil(out, a);

	if (n > 4 && !strcmp(out + n - 4, " FIL"))
		out[n - 4] = '\0';
}

static void addr_str(char out[FILADDR_STR_MAX], const struct filaddr *a)
{
	filaddr_format(out, a, 'f');
}

/* Parse ID: an f0/t0 address or its number. */
static int parse_id(struct filaddr *out, const char *s)
{
	uint64_t id;

	if (s[0] >= '0' && s[0] <= '9') {
		if (cli_parse_uint(&id, s, "storage provider ID") < 0 ||
		    id > INT64_MAX)
			return efs_error_set(EFS_EINVAL, "'%s' is not a "
					     "storage provider ID", s);
		filaddr_init_id(out, id);
		return 0;
	}
	if (filaddr_parse(out, NULL, s, strlen(s)) < 0 ||
	    out->protocol != FILADDR_ID)
		return efs_error_set(EFS_EINVAL, "'%s' is not a storage "
				     "provider ID (f0...)", s);
	return 0;
}

/* ---- JSON --------------------------------------------------------------- */

/* Print v (stolen) as indented JSON and a newline. */
static int json_print(json_t *v, bool bad)
{
	int rc = 0;

	if (bad || !v || json_dumpf(v, stdout, JSON_INDENT(2)) < 0)
		rc = efs_error_set(EFS_ENOMEM, "out of memory");
	else
		putchar('\n');
	json_decref(v);
	return rc;
}

/* ---- estuaryfs miners --------------------------------------------------- */

struct table {
	bool json;
	json_t *arr;
	bool bad;
	int64_t now;
	size_t n;
};

static void print_row(const struct miner_record *r, int64_t now)
{
	char addr[FILADDR_STR_MAX], price[BIGINT_STR_MAX + 8];
	char vprice[BIGINT_STR_MAX + 8], lo[16], hi[16], sizes[40];
	char seal[16], speed[24], pct[16], state[FILADDR_STR_MAX + 256];
	char deals[48], retr[48];
	const struct miner_perf *p = &r->perf;
	int success = dealview_success_pct(p);

	addr_str(addr, &r->addr);
	if (r->has_ask) {
		fmt_fil(price, &r->ask.price);
		fmt_fil(vprice, &r->ask.verified_price);
		cli_human_bytes(lo, sizeof(lo), r->ask.min_piece);
		cli_human_bytes(hi, sizeof(hi), r->ask.max_piece);
		snprintf(sizes, sizeof(sizes), "%s-%s", lo, hi);
	} else {
		snprintf(price, sizeof(price), "-");
		snprintf(vprice, sizeof(vprice), "-");
		snprintf(sizes, sizeof(sizes), "-");
	}
	snprintf(deals, sizeof(deals), "%" PRIu64 "/%" PRIu64, p->sealed,
		 p->proposed);
	if (success < 0)
		snprintf(pct, sizeof(pct), "-");
	else
		snprintf(pct, sizeof(pct), "%d%%", success);
	if (p->seal_count)
		fmt_secs(seal, sizeof(seal), p->seal_median_s);
	else
		snprintf(seal, sizeof(seal), "-");
	snprintf(retr, sizeof(retr), "%" PRIu64 "/%" PRIu64, p->retrievals_ok,
		 p->retrievals);
	if (p->retrievals_ok) {
		cli_human_bytes(lo, sizeof(lo), (uint64_t)p->retrieval_speed);
		snprintf(speed, sizeof(speed), "%s/s", lo);
	} else {
		snprintf(speed, sizeof(speed), "-");
	}
	dealview_miner_state(state, sizeof(state), r, now);
	/* Prices per GiB per epoch run to 20 characters (1 attoFIL). */
	printf("%-10s %-20s %-20s %-21s %-9s %-5s %-8s %-9s %-12s %s\n",
	       addr, price, vprice, sizes, deals, pct, seal, retr, speed,
	       state);
}

static int table_cb(const struct miner_record *r, void *payload)
{
	struct table *t = payload;

	if (t->json) {
		json_t *o = dealview_miner_json(r, t->now, &t->bad);

		if (!o || json_array_append_new(t->arr, o) < 0)
			t->bad = true;
	} else {
		if (t->n == 0)
			printf("%-10s %-20s %-20s %-21s %-9s %-5s %-8s %-9s "
			       "%-12s %s\n", "SP", "PRICE", "VERIFIED",
			       "PIECES", "SEAL/PROP", "OK", "MED SEAL",
			       "RETRIEVED", "SPEED", "STATE");
		print_row(r, t->now);
	}
	t->n++;
	return 0;
}

static int run_miners(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct table t = { .now = efs_clock_real_ns() };
	struct miners *m;
	int c, rc;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c != OPT_JSON)
			return cli_common_opt(&cli_cmd_miners, c, argv);
		t.json = true;
	}
	if (optind != argc)
		return cli_usage(&cli_cmd_miners, "takes no arguments");
	if ((rc = open_repo(&m)) < 0)
		return cli_fail(rc);
	if (t.json && !(t.arr = json_array()))
		rc = efs_error_set(EFS_ENOMEM, "out of memory");
	if (rc == 0 && m)
		rc = miners_foreach(m, table_cb, &t);
	miners_close(m);
	if (rc == 0 && t.json)
		rc = json_print(t.arr, t.bad);
	else
		json_decref(t.arr);
	if (rc < 0)
		return cli_fail(rc);
	if (!t.json && t.n == 0)
		fprintf(stderr, "estuaryfs: no storage providers known yet "
				"(the dealer finds them on chain or in its "
				"configuration)\n");
	return CLI_EXIT_OK;
}

/* ---- estuaryfs miner show ----------------------------------------------- */

static void print_event(const struct miner_event *ev)
{
	char when[32], lat[32], up[16], down[16];
	char uuid[MK12_UUID_STR_MAX];

	efs_clock_format(when, sizeof(when), ev->time_ns,
			 "%Y-%m-%d %H:%M:%S");
	if (ev->latency_us >= 10000000)
		snprintf(lat, sizeof(lat), "%.1f s",
			 (double)ev->latency_us / 1e6);
	else if (ev->latency_us >= 10000)
		snprintf(lat, sizeof(lat), "%" PRId64 " ms",
			 ev->latency_us / 1000);
	else
		snprintf(lat, sizeof(lat), "%" PRId64 " us", ev->latency_us);
	cli_human_bytes(up, sizeof(up), ev->bytes_up);
	cli_human_bytes(down, sizeof(down), ev->bytes_down);
	printf("%s  %-8s %-11s %8s %10s %10s  %s", when,
	       miners_action_name(ev->action),
	       miners_outcome_name(ev->outcome), lat, up, down,
	       ev->detail ? ev->detail : "");
	if (ev->piece_cid)
		printf("%spiece %s", ev->detail ? "; " : "", ev->piece_cid);
	if (ev->has_deal_uuid) {
		mk12_uuid_format(uuid, ev->deal_uuid);
		printf("%sdeal %s", ev->detail || ev->piece_cid ? "; " : "",
		       uuid);
	}
	putchar('\n');
}

struct show {
	bool json;
	json_t *log;
	bool bad;
	size_t n;
};

static int event_cb(const struct miner_event *ev, void *payload)
{
	struct show *s = payload;

	if (s->json) {
		json_t *o = dealview_event_json(ev, &s->bad);

		if (!o || json_array_append_new(s->log, o) < 0)
			s->bad = true;
	} else {
		if (s->n == 0)
			printf("\n%-19s  %-8s %-11s %8s %10s %10s  %s\n",
			       "TIME (UTC)", "ACTION", "OUTCOME", "LATENCY",
			       "SENT", "RECEIVED", "DETAIL");
		print_event(ev);
	}
	s->n++;
	return 0;
}

static void print_summary(const struct miner_record *r, int64_t now)
{
	const struct miner_perf *p = &r->perf;
	char addr[FILADDR_STR_MAX], a[BIGINT_STR_MAX + 8];
	char b[BIGINT_STR_MAX + 8], x[32], y[32];
	int pct = dealview_success_pct(p);

	addr_str(addr, &r->addr);
	cli_human_bytes(x, sizeof(x), r->sector_size);
	printf("%s  (%s)\n  url:         %s\n  peer:        %s\n"
	       "  sector size: %s\n", addr, r->source == MINERS_SOURCE_CONFIG
	       ? "from the configuration" : "found on chain",
	       r->url ? r->url : "-", r->peer_id ? r->peer_id : "-",
	       r->sector_size ? x : "-");
	if (r->has_ask) {
		bigint_format_fil(a, &r->ask.price);
		bigint_format_fil(b, &r->ask.verified_price);
		cli_human_bytes(x, sizeof(x), r->ask.min_piece);
		cli_human_bytes(y, sizeof(y), r->ask.max_piece);
		printf("  ask:         %s/GiB/epoch (verified %s), pieces %s "
		       "to %s", a, b, x, y);
		efs_clock_format(x, sizeof(x), r->ask_time_ns, ISO);
		printf(", fetched %s\n", x);
	} else {
		printf("  ask:         none yet\n");
	}
	dealview_miner_state(a, sizeof(a), r, now);
	printf("  state:       %s", a);
	if (r->fail_streak)
		printf(" (%" PRIu32 " failure%s in a row)", r->fail_streak,
		       r->fail_streak == 1 ? "" : "s");
	else if (r->reject_streak)
		printf(" (%" PRIu32 " rejection%s in a row)", r->reject_streak,
		       r->reject_streak == 1 ? "" : "s");
	printf("\n");
	printf("  deals:       %" PRIu64 " proposed: %" PRIu64 " accepted, %"
	       PRIu64 " rejected, %" PRIu64 " errors; %" PRIu64 " sealed, %"
	       PRIu64 " failed, %" PRIu64 " slashed, %" PRIu64 " expired\n",
	       p->proposed, p->accepted, p->rejected, p->propose_errors,
	       p->sealed, p->failed, p->slashed, p->expired);
	if (pct >= 0)
		printf("  success:     %d%%\n", pct);
	if (p->seal_count) {
		fmt_secs(x, sizeof(x), p->seal_median_s);
		fmt_secs(y, sizeof(y), p->seal_mean_s);
		printf("  seal time:   median %s, mean %s (%" PRIu64
		       " deals)\n", x, y, p->seal_count);
	}
	cli_human_bytes(x, sizeof(x), p->retrieved_bytes);
	cli_human_bytes(y, sizeof(y), (uint64_t)p->retrieval_speed);
	printf("  retrievals:  %" PRIu64 " of %" PRIu64 " ok, %s, %s/s\n",
	       p->retrievals_ok, p->retrievals, x, y);
	printf("  asks:        %" PRIu64 " of %" PRIu64 " answered\n",
	       p->asks_ok, p->asks);
	printf("  score:       %.2f\n", r->score);
}

static int show(struct miners *m, const struct filaddr *a, size_t limit,
		bool json)
{
	struct show s = { .json = json };
	struct miner_record r;
	json_t *o = NULL;
	int64_t now = efs_clock_real_ns();
	int rc;

	if (!m) {
		char addr[FILADDR_STR_MAX];

		addr_str(addr, a);
		return efs_error_set(EFS_ENOTFOUND, "miners: %s is not a known "
				     "storage provider", addr);
	}
	if ((rc = miners_get(&r, m, a)) < 0)
		return rc;
	if (json) {
		o = dealview_miner_json(&r, now, &s.bad);
		if (!o || !(s.log = json_array()) ||
		    json_object_set_new(o, "log", s.log) < 0)
			s.bad = true;
	} else {
		print_summary(&r, now);
	}
	rc = miners_log_foreach(m, a, 0, limit, event_cb, &s);
	if (rc == 0 && json)
		rc = json_print(o, s.bad);
	else
		json_decref(o);
	if (rc == 0 && !json && r.log_rows > s.n)
		printf("(%zu of %" PRIu64 " log rows; --limit 0 shows all)\n",
		       s.n, r.log_rows);
	miners_record_release(&r);
	return rc;
}

static int run_miner(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct filaddr a;
	struct miners *m;
	uint64_t limit = 20;
	bool json = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == OPT_JSON)
			json = true;
		else if (c == OPT_LIMIT &&
			 cli_parse_uint(&limit, optarg, "--limit") < 0)
			return cli_usage(&cli_cmd_miner, "%s",
					 efs_error_msg());
		else if (c != OPT_LIMIT)
			return cli_common_opt(&cli_cmd_miner, c, argv);
	}
	if (optind >= argc)
		return cli_usage(&cli_cmd_miner, "no subcommand (show)");
	if (strcmp(argv[optind], "show") != 0)
		return cli_usage(&cli_cmd_miner, "no subcommand '%s'",
				 argv[optind]);
	if (argc - optind != 2)
		return cli_usage(&cli_cmd_miner, "show takes one ID");
	if (parse_id(&a, argv[optind + 1]) < 0)
		return cli_usage(&cli_cmd_miner, "%s", efs_error_msg());
	if ((rc = open_repo(&m)) < 0)
		return cli_fail(rc);
	rc = show(m, &a, limit > SIZE_MAX ? SIZE_MAX : (size_t)limit, json);
	miners_close(m);
	return rc < 0 ? cli_fail(rc) : CLI_EXIT_OK;
}

/* ---- estuaryfs bandwidth ------------------------------------------------ */

struct bw {
	enum miners_bw_by by;
	bool json;
	json_t *arr;
	bool bad;
	size_t n;
	uint64_t sent;     /* the total: every group summed */
	uint64_t fetched;
};

static const char *const bw_keys[] = {
	[MINERS_BW_BY_SP] = "SP",
	[MINERS_BW_BY_COMMIT] = "COMMIT",
	[MINERS_BW_BY_DAY] = "DAY",
};

/* The group's key as text ("f01000", "12" or "-", "2025-06-15"). */
static void bw_key(char *out, size_t cap, const struct miners_bw_row *row,
		   enum miners_bw_by by)
{
	if (by == MINERS_BW_BY_SP)
		filaddr_format(out, &row->addr, 'f');
	else if (by == MINERS_BW_BY_DAY)
		efs_clock_format(out, cap,
				 row->day * 86400 * MINERS_NS_PER_SEC,
				 "%Y-%m-%d");
	else if (row->commit_id > 0)
		snprintf(out, cap, "%" PRId64, row->commit_id);
	else
		snprintf(out, cap, "-");
}

static int bw_cb(const struct miners_bw_row *row, void *payload)
{
	struct bw *b = payload;
	char key[FILADDR_STR_MAX], sent[16], fetched[16];

	bw_key(key, sizeof(key), row, b->by);
	if (b->json) {
		json_t *o = json_object();
		json_t *k = b->by == MINERS_BW_BY_COMMIT
				    ? json_integer(row->commit_id)
				    : json_string(key);

		if (!o) {
			json_decref(k);
			b->bad = true;
			return 0;
		}
		dealview_jset(o, b->by == MINERS_BW_BY_SP ? "sp"
			: b->by == MINERS_BW_BY_DAY ? "day" : "commit", k,
		     &b->bad);
		dealview_jset(o, "sent", dealview_jint(row->sent), &b->bad);
		dealview_jset(o, "fetched", dealview_jint(row->fetched),
			      &b->bad);
		if (json_array_append_new(b->arr, o) < 0)
			b->bad = true;
	} else {
		if (b->n == 0)
			printf("%-12s %12s %12s\n", bw_keys[b->by], "SENT",
			       "FETCHED");
		cli_human_bytes(sent, sizeof(sent), row->sent);
		cli_human_bytes(fetched, sizeof(fetched), row->fetched);
		printf("%-12s %12s %12s\n", key, sent, fetched);
	}
	b->sent += row->sent;
	b->fetched += row->fetched;
	b->n++;
	return 0;
}

static int parse_by(enum miners_bw_by *out, const char *s)
{
	if (!strcmp(s, "sp"))
		*out = MINERS_BW_BY_SP;
	else if (!strcmp(s, "commit"))
		*out = MINERS_BW_BY_COMMIT;
	else if (!strcmp(s, "day"))
		*out = MINERS_BW_BY_DAY;
	else
		return -1;
	return 0;
}

static int bandwidth(struct miners *m, struct bw *b)
{
	char sent[16], fetched[16];
	int rc;

	if (b->json && !(b->arr = json_array()))
		return efs_error_set(EFS_ENOMEM, "out of memory");
	if (m && (rc = miners_bandwidth_foreach(m, b->by, NULL, bw_cb,
						b)) < 0) {
		json_decref(b->arr);
		return rc;
	}
	if (b->json)
		return json_print(b->arr, b->bad);
	if (b->n == 0) {
		fprintf(stderr, "estuaryfs: no bytes exchanged with storage "
				"providers yet\n");
		return 0;
	}
	cli_human_bytes(sent, sizeof(sent), b->sent);
	cli_human_bytes(fetched, sizeof(fetched), b->fetched);
	printf("%-12s %12s %12s\n", "total", sent, fetched);
	return 0;
}

static int run_bandwidth(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "by", required_argument, NULL, OPT_BY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bw b = { .by = MINERS_BW_BY_SP };
	struct miners *m;
	int c, rc;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == OPT_JSON)
			b.json = true;
		else if (c == OPT_BY && parse_by(&b.by, optarg) < 0)
			return cli_usage(&cli_cmd_bandwidth, "--by takes sp, "
					 "commit or day, not '%s'", optarg);
		else if (c != OPT_BY)
			return cli_common_opt(&cli_cmd_bandwidth, c, argv);
	}
	if (optind != argc)
		return cli_usage(&cli_cmd_bandwidth, "takes no arguments");
	if ((rc = open_repo(&m)) < 0)
		return cli_fail(rc);
	rc = bandwidth(m, &b);
	miners_close(m);
	return rc < 0 ? cli_fail(rc) : CLI_EXIT_OK;
}
