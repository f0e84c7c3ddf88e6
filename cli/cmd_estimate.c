/*
 * cmd_estimate.c - `estuaryfs estimate DIR|CID`: what replicating a
 * commit costs at the current asks, per deal and in total, unverified
 * and verified, in FIL and USD.
 *
 * The sizes: a commit the dealer took has its pieces in the piece store
 * (its own piece, its shards, or its share of an aggregate: the data
 * segment it fills).  A CID not committed yet needs its CAR's size,
 * which only a walk of its DAG in the blockstore gives (while a daemon
 * holds the blockstore, its gateway's CAR of the DAG, counted as it
 * passes: cli_api_car).  Its piece is then what the dealer would make
 * of it: its own piece, an aggregate share below
 * dealer.aggregate_below, shards above dealer.max_piece_payload.
 *
 * The asks: those the dealer recorded (miners.h), of the SPs it could
 * deal with (an endpoint, not disabled or excluded, in the configured
 * list if there is one, taking pieces of the deal's size), within the
 * configured price caps (dealer.max_price_fil and
 * dealer.max_verified_price_fil).  Price per epoch = ask * padded / 2^30
 * (dealproto_price_per_epoch, as Curio computes it); a deal costs that
 * times the duration; the total is the N cheapest deals.
 *
 * FIL/USD: the dealer's last price (report "price"), else
 * config.json price.fil_usd, else price.url fetched now, else none.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_api.h"
#include "cli/cli_i.h"
#include "cli/cli_view.h"
#include "core/alloc.h"
#include "core/bstore.h"
#include "core/car.h"
#include "core/error.h"
#include "net/httpc.h"

#include "core/banned.h"

static const char help_text[] =
	"usage: estuaryfs estimate [--json] [-n N] [--duration EPOCHS] "
	"DIR|CID\n"
	"\n"
	"What N deals of DIR's latest commit (a directory of a mounted\n"
	"estuaryfs) or of CID cost at the asks the dealer last fetched: per\n"
	"deal and in total, for unverified and verified deals, in FIL and\n"
	"USD.  The SPs counted are those the dealer could pick (a deal\n"
	"endpoint, taking pieces of this size, within the price caps of\n"
	"config.json); the total is the N cheapest.  The piece size is the\n"
	"commit's piece (padded), or its share of an aggregate.\n"
	"\n"
	"A CID that is not a commit is sized by walking its DAG in the\n"
	"repository (through the daemon, while one holds it).\n"
	"\n"
	"The FIL/USD rate is the dealer's last price, else config.json's\n"
	"price.fil_usd, else price.url fetched now (a CoinGecko simple/price\n"
	"reply); its source and time are printed.\n"
	"\n"
	"options:\n"
	"  -n, --replication N  deals (default: dealer.replication)\n"
	"  --duration EPOCHS    of each deal (default:\n"
	"                       dealer.duration_epochs)\n"
	"  --json               one JSON object with every figure\n"
	"  -h, --help           this help\n";

static int run(int argc, char **argv);

const struct cli_cmd cli_cmd_estimate = {
	.name = "estimate",
	.summary = "cost of a commit's deals at the current asks",
	.help = help_text,
	.run = run,
};

enum { OPT_JSON = 256, OPT_DURATION };


struct subject {
	const char *source;         /* "piece store", "blockstore" */
	bool has_commit;
	int64_t commit_id;
	char *path;                 /* or NULL */
	struct cid root;
	uint64_t car_size;
};

struct rate {
	bool has;
	double fil_usd;
	char source[512];
	int64_t time;
	char why[512];              /* when !has */
};

struct est {
	struct dealview *v;
	struct subject s;
	struct dealview_est q;      /* sizes, n, duration, offers */
	struct rate rate;
	bool json;
};

/* ---- what is sized ------------------------------------------------------ */

static int count_bytes(void *cls, const uint8_t *data, size_t len)
{
	(void)data;
	*(uint64_t *)cls += len;
	return 0;
}

struct sizing {
	const struct cid *root;
	uint64_t *size;
};

/* Here: a walk of the DAG in the blockstore; through the daemon: its
 * gateway's CAR of it (the same bytes), counted as it passes. */
static int size_at(const struct cli_api_where *w, void *cls)
{
	struct sizing *z = cls;
	struct car_writer *cw = NULL;
	int rc;

	if (w->conn)
		return cli_api_car(w->conn, z->root, count_bytes, NULL,
				   z->size);
	if ((rc = car_writer_new_cb(&cw, count_bytes, z->size)) == 0)
		rc = car_write_dag(cw, &w->src, z->root, NULL, NULL);
	car_writer_free(cw);
	return rc;
}

/* The CAR size of root, from its DAG in the repository (through the
 * daemon holding it, if one does). */
static int car_size_of(uint64_t *out, struct dealview *v,
		       const struct cid *root)
{
	struct sizing z = { root, out };
	int rc;

	*out = 0;
	if (!v->has_index)
		return efs_error_set(EFS_ENOTFOUND, "estimate: no repository "
				     "at %s", v->repo);
	rc = cli_api_at(size_at, &z);
	if (rc == EFS_ENOTFOUND || rc == EFS_EEVICTED) {
		char why[256];

		/* the message is the blockstore's; keep it, say what for */
		snprintf(why, sizeof(why), "%s", efs_error_msg());
		efs_error_set(rc, "estimate: %s: sizing a CID needs its whole "
			      "DAG in the repository", why);
	}
	return rc;
}

static int subject_pieced(struct dealview_est *q, struct dealview *v,
			  const struct dealview_commit *c)
{
	struct dealview_state st;
	int rc = dealview_commit_state(&st, v, c);

	for (size_t i = 0; rc == 0 && i < st.npieces; i++) {
		if (st.pieces[i].info.kind == PIECE_AGGREGATE)
			q->aggregated = true;
		rc = dealview_est_size_add(q, st.pieces[i].info.padded,
					   st.pieces[i].share);
	}
	dealview_state_release(&st);
	return rc;
}

/* A commit the dealer took: sizes from its pieces. */
static int subject_commit(struct est *e, struct dealview *v,
			  const struct dealview_commit *c)
{
	struct subject *s = &e->s;

	s->has_commit = true;
	s->commit_id = c->id;
	s->root = c->root;
	if (c->path && !(s->path = efs_strdup(c->path)))
		return efs_error_set(EFS_ENOMEM, "out of memory");
	if (!c->in_store)
		return 1;
	s->source = "piece store";
	s->car_size = c->pc.car_size;
	if (c->pc.stage == PIECE_STAGE_SIZING)
		return efs_error_set(EFS_ETIMEDOUT, "estimate: the dealer is "
				     "sizing commit %" PRId64 " now: try again "
				     "in a moment", c->id);
	if (c->pc.stage == PIECE_STAGE_WAITING) {
		e->q.aggregated = e->q.agg_open = true;
		return dealview_est_size_add(&e->q,
					     dealview_est_agg_padded(&v->cfg),
					     c->pc.padded);
	}
	return subject_pieced(&e->q, v, c);
}

static int subject_init(struct est *e, struct dealview *v,
			const struct cli_filter *f)
{
	struct subject *s = &e->s;
	struct dealview_commits cs;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = cli_view_commits(&cs, v, f)) < 0)
		return rc;
	/* the latest commit the argument selects */
	rc = cs.n ? subject_commit(e, v, &cs.v[cs.n - 1]) : 1;
	dealview_commits_release(&cs);
	if (rc <= 0)
		return rc;
	/* not pieced yet: walk the DAG */
	if (!s->has_commit && !f->by_root)
		return cli_filter_none(f, "estimate");
	if (!s->has_commit)
		s->root = f->root;
	s->source = "blockstore";
	if ((rc = car_size_of(&s->car_size, v, &s->root)) < 0)
		return rc;
	return dealview_est_car(&e->q, &v->cfg, s->car_size);
}

/* ---- the asks ----------------------------------------------------------- */

/* ---- FIL/USD ------------------------------------------------------------ */

static bool parse_rate(double *out, const char *s)
{
	char *end;

	errno = 0;
	*out = s ? strtod(s, &end) : 0;
	return s && !errno && end != s && !*end && *out > 0;
}

static void rate_fetch(struct rate *r, const char *url, int64_t now)
{
	struct httpc_req req = HTTPC_REQ_INIT("GET", url);
	struct httpc_resp resp;
	json_t *v = NULL, *usd;
	int rc;

	req.timeout_ms = 10000;
	req.max_body = 64 << 10;
	if ((rc = httpc_global_init()) == 0)
		rc = httpc_do(&resp, &req);
	if (rc == 0 && resp.status == 200)
		v = json_loadb((const char *)resp.body.ptr, resp.body.len, 0,
			       NULL);
	usd = json_object_get(json_object_get(v, "filecoin"), "usd");
	if (json_is_number(usd) && json_number_value(usd) > 0) {
		r->has = true;
		r->fil_usd = json_number_value(usd);
		snprintf(r->source, sizeof(r->source), "%s", url);
		r->time = now;
	} else if (rc < 0) {
		snprintf(r->why, sizeof(r->why), "%s", efs_error_msg());
	} else {
		snprintf(r->why, sizeof(r->why), "%s: HTTP %ld, no "
			 "{\"filecoin\":{\"usd\":...}} in the reply", url,
			 resp.status);
	}
	if (rc == 0)
		httpc_resp_release(&resp);
	json_decref(v);
}

static void rate_find(struct rate *r, const struct dealview *v)
{
	json_t *p = dealview_report(v, "price");
	json_t *src = json_object_get(p, "source");
	json_t *t = json_object_get(p, "time");

	memset(r, 0, sizeof(*r));
	if (p && parse_rate(&r->fil_usd, json_string_value(
					json_object_get(p, "fil_usd")))) {
		r->has = true;
		snprintf(r->source, sizeof(r->source), "%s (read by the "
			 "dealer)", json_is_string(src) ? json_string_value(src)
			 : "?");
		r->time = json_is_integer(t) ? json_integer_value(t) : 0;
	} else if (parse_rate(&r->fil_usd, v->cfg.fil_usd)) {
		r->has = true;
		snprintf(r->source, sizeof(r->source), "config.json "
			 "price.fil_usd");
		r->time = v->now;
	} else if (v->cfg.price_url) {
		rate_fetch(r, v->cfg.price_url, v->now);
	} else {
		snprintf(r->why, sizeof(r->why), "no price source configured "
			 "(config.json price.url or price.fil_usd)");
	}
}

/* attoFIL as a double of FIL, for USD (display only). */
static double fil_of(const struct bigint *a)
{
	char s[BIGINT_STR_MAX];

	bigint_format(s, a);
	return strtod(s, NULL) / 1e18;
}

static void fmt_usd(char *out, size_t cap, const struct rate *r,
		    const struct bigint *a)
{
	double usd = r->has ? fil_of(a) * r->fil_usd : 0, x = usd;
	int digits = 2;

	/* below a cent: two significant digits, without an exponent */
	while (x > 0 && x < 0.1 && digits < 18) {
		x *= 10;
		digits++;
	}
	if (!r->has)
		snprintf(out, cap, "-");
	else if (usd == 0 || usd >= 0.01)
		snprintf(out, cap, "$%.2f", usd);
	else
		snprintf(out, cap, "$%.*f", digits, usd);
}

/* ---- output ------------------------------------------------------------- */

static void print_subject(const struct est *e)
{
	const struct subject *s = &e->s;
	char root[CID_STR_MAX], a[16], b[16];

	if (s->has_commit)
		printf("commit:      %" PRId64 "%s%s%s, root %s\n",
		       s->commit_id, s->path ? " (" : "",
		       s->path ? s->path : "", s->path ? ")" : "",
		       cid_tostr(root, &s->root));
	else
		printf("root:        %s (not a commit)\n",
		       cid_tostr(root, &s->root));
	cli_human_bytes(a, sizeof(a), s->car_size);
	printf("CAR:         %s (%" PRIu64 " bytes, from the %s)\n", a,
	       s->car_size, s->source);
	for (size_t i = 0; i < e->q.nsizes; i++) {
		cli_human_bytes(a, sizeof(a), e->q.sizes[i].share);
		cli_human_bytes(b, sizeof(b), e->q.sizes[i].deal);
		if (e->q.sizes[i].share == e->q.sizes[i].deal)
			printf("piece:       %s padded (%" PRIu64 ")\n", a,
			       e->q.sizes[i].share);
		else
			printf("piece:       %s padded (%" PRIu64 ") share of "
			       "an aggregate of %s%s\n", a, e->q.sizes[i].share,
			       e->q.agg_open ? "at least " : "", b);
	}
	printf("deals:       %u of %" PRId64 " epochs each (%.1f days of "
	       "30 s epochs)\n", e->q.n, e->q.duration,
	       (double)e->q.duration * 30 / 86400);
}

static void print_rate(const struct rate *r)
{
	char when[32];

	if (!r->has) {
		printf("FIL/USD:     USD: %s\n", r->why);
		return;
	}
	dealview_fmt_time(when, sizeof(when), r->time);
	printf("FIL/USD:     %g, from %s at %s UTC\n", r->fil_usd, r->source,
	       when);
}

static void print_offer(const struct est *e,
			const struct dealview_offer *o)
{
	char sp[FILADDR_STR_MAX], p[BIGINT_STR_MAX + 8], vp[BIGINT_STR_MAX + 8];
	char d[BIGINT_STR_MAX + 8], vd[BIGINT_STR_MAX + 8], u[32], vu[32];

	filaddr_format(sp, &o->sp, 'f');
	cli_fmt_fil(p, sizeof(p), &o->price);
	cli_fmt_fil(vp, sizeof(vp), &o->vprice);
	cli_fmt_fil(d, sizeof(d), &o->deal);
	cli_fmt_fil(vd, sizeof(vd), &o->vdeal);
	fmt_usd(u, sizeof(u), &e->rate, &o->deal);
	fmt_usd(vu, sizeof(vu), &e->rate, &o->vdeal);
	if (!o->ok)
		snprintf(u, sizeof(u), "over cap");
	if (!o->vok)
		snprintf(vu, sizeof(vu), "over cap");
	printf("%-10s %-16s %-22s %-12s %-16s %-22s %s\n", sp, p, d, u, vp, vd,
	       vu);
}

static void print_total(const struct est *e, const char *what,
			const struct bigint *sum, unsigned deals)
{
	char fil[BIGINT_STR_MAX + 8], usd[32];

	bigint_format_fil(fil, sum);
	fmt_usd(usd, sizeof(usd), &e->rate, sum);
	if (deals == 0) {
		printf("%-11s  no SP could take these deals now\n", what);
		return;
	}
	printf("%-11s  %s (%s) for %u deal%s", what, fil, usd, deals,
	       deals == 1 ? "" : "s");
	if (deals < e->q.n)
		printf(": only %u SP%s eligible of the %u deals wanted", deals,
		       deals == 1 ? " is" : "s are", e->q.n);
	putchar('\n');
}

static int print_human(struct est *e)
{
	struct bigint sum, vsum;
	unsigned n, vn;
	int rc;

	print_subject(e);
	print_rate(&e->rate);
	if ((rc = dealview_est_total(&vsum, &vn, &e->q, true)) < 0 ||
	    (rc = dealview_est_total(&sum, &n, &e->q, false)) < 0)
		return rc;
	if (e->q.noffers == 0) {
		printf("\nno SP the dealer could deal with has an ask for "
		       "pieces of this size (estuaryfs miners)\n");
		return 0;
	}
	printf("\n%-10s %-16s %-22s %-12s %-16s %-22s %s\n", "SP",
	       "FIL/GiB/EPOCH", "PER DEAL (FIL)", "USD", "VERIFIED",
	       "PER VERIFIED DEAL", "USD");
	for (size_t i = 0; i < e->q.noffers; i++)
		print_offer(e, &e->q.offers[i]);
	putchar('\n');
	print_total(e, "unverified:", &sum, n);
	print_total(e, "verified:", &vsum, vn);
	return 0;
}

static json_t *jrate(const struct rate *r, bool *bad)
{
	json_t *o;

	if (!r->has)
		return json_null();
	if (!(o = json_object())) {
		*bad = true;
		return NULL;
	}
	dealview_jset(o, "fil_usd", json_real(r->fil_usd), bad);
	dealview_jset(o, "source", json_string(r->source), bad);
	dealview_jset(o, "time", dealview_jtime(r->time), bad);
	return o;
}

static int print_json(struct est *e)
{
	bool bad = false;
	json_t *o = json_object();
	int rc;

	if (!o)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	dealview_jset(o, "commit", e->s.has_commit
		      ? json_integer(e->s.commit_id) : json_null(), &bad);
	dealview_jset(o, "path", dealview_jstr(e->s.path), &bad);
	dealview_jset(o, "root", dealview_jcid(&e->s.root), &bad);
	dealview_jset(o, "car_size", dealview_jint(e->s.car_size), &bad);
	dealview_jset(o, "sized_from", json_string(e->s.source), &bad);
	dealview_jset(o, "aggregated", json_boolean(e->q.aggregated), &bad);
	dealview_jset(o, "aggregate_open", json_boolean(e->q.agg_open), &bad);
	dealview_jset(o, "replication", json_integer(e->q.n), &bad);
	dealview_jset(o, "duration_epochs", json_integer(e->q.duration), &bad);
	dealview_jset(o, "fil_usd", jrate(&e->rate, &bad), &bad);
	dealview_jset(o, "usd_unavailable", e->rate.has ? json_null()
		      : json_string(e->rate.why), &bad);
	if ((rc = dealview_est_json(o, &e->q, e->rate.has ? &e->rate.fil_usd
				    : NULL, &bad)) < 0) {
		json_decref(o);
		return rc;
	}
	return cli_json_print(o, bad);
}

static int estimate(struct est *e)
{
	int rc;

	rate_find(&e->rate, e->v);
	if ((rc = dealview_est_offers(&e->q, e->v)) < 0)
		return rc;
	return e->json ? print_json(e) : print_human(e);
}

static int parse_opts(struct est *e, bool *go, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "replication", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t x;
	int c;

	*go = false;
	while ((c = getopt_long(argc, argv, ":hn:", opts, NULL)) != -1) {
		if (c == OPT_JSON) {
			e->json = true;
		} else if (c == 'n' || c == OPT_DURATION) {
			if (cli_parse_uint(&x, optarg, c == 'n' ?
					   "--replication" : "--duration") < 0
			    || x == 0 || x > (c == 'n' ? CONFIG_REPLICATION_MAX
					      : INT32_MAX))
				return cli_usage(&cli_cmd_estimate, "bad %s "
						 "'%s'", c == 'n' ?
						 "--replication" :
						 "--duration", optarg);
			if (c == 'n')
				e->q.n = (unsigned)x;
			else
				e->q.duration = (int64_t)x;
		} else {
			return cli_common_opt(&cli_cmd_estimate, c, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage(&cli_cmd_estimate, "needs one DIR or CID");
	*go = true;
	return CLI_EXIT_OK;
}

static int run(int argc, char **argv)
{
	struct est e = { 0 };
	struct cli_filter f;
	struct dealview v;
	bool go;
	int rc = parse_opts(&e, &go, argc, argv);

	if (!go)
		return rc;
	if ((rc = cli_filter_init(&f, argv[optind])) < 0)
		return rc == EFS_EINVAL ? cli_usage(&cli_cmd_estimate, "%s",
						    efs_error_msg())
					: cli_fail(rc);
	e.v = &v;
	if ((rc = cli_view_open(&v)) == 0) {
		if (!e.q.n)
			e.q.n = v.cfg.replication;
		if (!e.q.duration)
			e.q.duration = v.cfg.duration;
		if ((rc = subject_init(&e, &v, &f)) == 0)
			rc = estimate(&e);
	}
	dealview_est_release(&e.q);
	efs_free(e.s.path);
	dealview_release(&v);
	cli_filter_release(&f);
	return rc < 0 ? cli_fail(rc) : CLI_EXIT_OK;
}
