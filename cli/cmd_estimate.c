/*
 * cmd_estimate.c - `estuaryfs estimate DIR|CID`: what replicating a
 * commit costs at the current asks, per deal and in total, unverified
 * and verified, in FIL and USD.
 *
 * The sizes: a commit the dealer took has its pieces in the piece store
 * (its own piece, its shards, or its share of an aggregate: the data
 * segment it fills).  A CID not committed yet needs its CAR's size,
 * which only a walk of its DAG in the blockstore gives: that works while
 * no daemon holds the blockstore, and is refused with a clear message
 * otherwise.  Its piece is then what the dealer would make of it: its own
 * piece, an aggregate share below dealer.aggregate_below, shards above
 * dealer.max_piece_payload.
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

#include "cli/cli_i.h"
#include "cli/cli_view.h"
#include "core/alloc.h"
#include "core/bstore.h"
#include "core/car.h"
#include "core/commp.h"
#include "core/error.h"
#include "dealer/dealproto.h"
#include "dealer/miners.h"
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
	"A CID that is not a commit is sized by walking its DAG, which needs\n"
	"the blockstore: not while the daemon runs.\n"
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

#define PIECES_MAX 64
#define GIB_LOG2 30

/* One piece the deals are for: its size on chain and the commit's share. */
struct size {
	uint64_t deal;              /* padded size of the piece dealt */
	uint64_t share;             /* padded bytes of it the commit fills */
};

struct subject {
	const char *source;         /* "piece store", "blockstore" */
	bool has_commit;
	int64_t commit_id;
	char *path;                 /* or NULL */
	struct cid root;
	uint64_t car_size;
	bool aggregated;
	bool agg_open;              /* its aggregate is not closed yet: the
				       size dealt is its least */
	struct size sizes[PIECES_MAX];
	size_t nsizes;
};

/* One SP's offer for the whole commit. */
struct offer {
	struct filaddr sp;
	struct bigint price, vprice; /* per GiB per epoch */
	bool ok, vok;               /* eligible unverified, verified */
	struct bigint deal, vdeal;  /* one deal: per epoch * duration */
};

struct rate {
	bool has;
	double fil_usd;
	char source[512];
	int64_t time;
	char why[512];              /* when !has */
};

struct est {
	struct cli_view *v;
	struct subject s;
	unsigned n;
	int64_t duration;
	struct offer *offers;
	size_t noffers, cap;
	struct rate rate;
	bool json;
};

/* ---- what is sized ------------------------------------------------------ */

static int size_add(struct subject *s, uint64_t deal, uint64_t share)
{
	if (s->nsizes == PIECES_MAX)
		return efs_error_set(EFS_ETOOBIG, "estimate: over %d pieces",
				     PIECES_MAX);
	s->sizes[s->nsizes].deal = deal;
	s->sizes[s->nsizes++].share = share;
	return 0;
}

/* The padded size of an aggregate of at least min bytes: a power of two. */
static uint64_t pow2_at_least(uint64_t min)
{
	uint64_t p = COMMP_PADDED_MIN;

	while (p < min && p < (1ull << 62))
		p <<= 1;
	return p;
}

/* What the dealer would make of a CAR of car bytes (piece.h's rules). */
static int sizes_of_car(struct subject *s, const struct dealer_config *cfg)
{
	uint64_t padded = commp_padded_size(s->car_size), left = s->car_size;
	uint64_t agg = pow2_at_least(cfg->aggregate_below);
	int rc = 0;

	if (padded < cfg->aggregate_below) {
		s->aggregated = s->agg_open = true;
		return size_add(s, agg, padded);
	}
	if (s->car_size <= cfg->max_payload)
		return size_add(s, padded, padded);
	while (left && rc == 0) {
		uint64_t n = left < cfg->max_payload ? left : cfg->max_payload;

		padded = commp_padded_size(n);
		rc = size_add(s, padded, padded);
		left -= n;
	}
	return rc;
}

static int count_bytes(void *cls, const uint8_t *data, size_t len)
{
	(void)data;
	*(uint64_t *)cls += len;
	return 0;
}

/* The CAR size of root, walking its DAG in the blockstore. */
static int car_size_of(uint64_t *out, struct cli_view *v,
		       const struct cid *root)
{
	struct blockio_source src;
	struct car_writer *w = NULL;
	struct bstore *bs = NULL;
	int rc;

	*out = 0;
	if (!v->has_index)
		return efs_error_set(EFS_ENOTFOUND, "estimate: no repository "
				     "at %s", v->repo);
	rc = bstore_open(&bs, v->repo, NULL);
	if (rc == EFS_EEXISTS)
		return efs_error_set(EFS_EEXISTS, "estimate: the daemon holds "
				     "the repository; estimate works for "
				     "committed CIDs while it runs");
	if (rc < 0)
		return rc;
	src = bstore_source(bs);
	if ((rc = car_writer_new_cb(&w, count_bytes, out)) == 0)
		rc = car_write_dag(w, &src, root, NULL, NULL);
	car_writer_free(w);
	if (rc == EFS_ENOTFOUND || rc == EFS_EEVICTED) {
		char why[256];

		/* the message is the blockstore's; keep it, say what for */
		snprintf(why, sizeof(why), "%s", efs_error_msg());
		efs_error_set(rc, "estimate: %s: sizing a CID needs its whole "
			      "DAG in the repository", why);
	}
	return cli_repo_close(bs, rc);
}

static int subject_pieced(struct subject *s, struct cli_view *v,
			  const struct cli_commit *c)
{
	struct cli_commit_state st;
	int rc = cli_view_commit_state(&st, v, c);

	for (size_t i = 0; rc == 0 && i < st.npieces; i++) {
		if (st.pieces[i].info.kind == PIECE_AGGREGATE)
			s->aggregated = true;
		rc = size_add(s, st.pieces[i].info.padded, st.pieces[i].share);
	}
	cli_commit_state_release(&st);
	return rc;
}

/* A commit the dealer took: sizes from its pieces. */
static int subject_commit(struct subject *s, struct cli_view *v,
			  const struct cli_commit *c)
{
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
		s->aggregated = s->agg_open = true;
		return size_add(s, pow2_at_least(v->cfg.aggregate_below),
				c->pc.padded);
	}
	return subject_pieced(s, v, c);
}

static int subject_init(struct subject *s, struct cli_view *v,
			const struct cli_filter *f)
{
	struct cli_commits cs;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = cli_view_commits(&cs, v, f)) < 0)
		return rc;
	/* the latest commit the argument selects */
	rc = cs.n ? subject_commit(s, v, &cs.v[cs.n - 1]) : 1;
	cli_commits_release(&cs);
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
	return sizes_of_car(s, &v->cfg);
}

/* ---- the asks ----------------------------------------------------------- */

static bool listed(const struct filaddr *a, const struct filaddr *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (filaddr_equal(a, &v[i]))
			return true;
	return false;
}

/* Whether the dealer could deal with r at all (price aside). */
static bool dealable(const struct est *e, const struct miner_record *r)
{
	const struct dealer_config *cfg = &e->v->cfg;

	if (!r->has_ask || !r->url || r->disabled ||
	    config_excluded(cfg, &r->addr) ||
	    (cfg->nminers && !listed(&r->addr, cfg->miners, cfg->nminers)))
		return false;
	for (size_t i = 0; i < e->s.nsizes; i++)
		if (e->s.sizes[i].deal < r->ask.min_piece ||
		    e->s.sizes[i].deal > r->ask.max_piece)
			return false;
	return true;
}

/* One deal of the commit at a price per GiB per epoch. */
static int deal_cost(struct bigint *out, const struct est *e,
		     const struct bigint *per_gib)
{
	struct bigint sum, one, epochs;
	int rc = 0;

	bigint_from_u64(&sum, 0);
	for (size_t i = 0; i < e->s.nsizes && rc == 0; i++)
		if ((rc = dealproto_price_per_epoch(&one, per_gib,
						    e->s.sizes[i].share)) == 0)
			rc = bigint_add(&sum, &sum, &one);
	bigint_from_i64(&epochs, e->duration);
	return rc ? rc : bigint_mul(out, &sum, &epochs);
}

static int offer_cb(const struct miner_record *r, void *cls)
{
	struct est *e = cls;
	struct offer *o;
	int rc;

	if (!dealable(e, r))
		return 0;
	if (e->noffers == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 16;
		if (!(o = efs_realloc(e->offers, e->cap * sizeof(*o))))
			return efs_error_set(EFS_ENOMEM, "out of memory");
		e->offers = o;
	}
	o = &e->offers[e->noffers];
	memset(o, 0, sizeof(*o));
	o->sp = r->addr;
	o->price = r->ask.price;
	o->vprice = r->ask.verified_price;
	o->ok = bigint_cmp(&o->price, &e->v->cfg.max_price) <= 0;
	o->vok = bigint_cmp(&o->vprice, &e->v->cfg.max_verified_price) <= 0;
	if ((rc = deal_cost(&o->deal, e, &o->price)) < 0 ||
	    (rc = deal_cost(&o->vdeal, e, &o->vprice)) < 0)
		return rc;
	e->noffers++;
	return 0;
}

/* Cheapest unverified first; those over the cap last. */
static int by_price(const void *a, const void *b)
{
	const struct offer *x = a, *y = b;
	int c;

	if (x->ok != y->ok)
		return x->ok ? -1 : 1;
	c = bigint_cmp(&x->deal, &y->deal);
	return c ? c : bigint_cmp(&x->vdeal, &y->vdeal);
}

static int by_vprice(const void *a, const void *b)
{
	const struct offer *x = a, *y = b;

	if (x->vok != y->vok)
		return x->vok ? -1 : 1;
	return bigint_cmp(&x->vdeal, &y->vdeal);
}

static int offers_load(struct est *e)
{
	struct miners_opts opts = MINERS_OPTS_INIT;
	struct miners *m = NULL;
	int rc;

	if (!e->v->has_index)
		return 0;
	opts.read_only = true;
	if ((rc = miners_open(&m, e->v->db, &opts)) == EFS_ENOTFOUND)
		return 0;
	if (rc == 0)
		rc = miners_foreach(m, offer_cb, e);
	miners_close(m);
	return rc;
}

/* The sum of the n cheapest eligible deals (sorted first); how many. */
static int total_of(struct bigint *out, unsigned *deals, struct est *e,
		    bool verified)
{
	int rc = 0;

	bigint_from_u64(out, 0);
	*deals = 0;
	if (e->noffers)
		qsort(e->offers, e->noffers, sizeof(*e->offers),
		      verified ? by_vprice : by_price);
	for (size_t i = 0; i < e->noffers && *deals < e->n && rc == 0; i++) {
		const struct offer *o = &e->offers[i];

		if (!(verified ? o->vok : o->ok))
			break;
		rc = bigint_add(out, out, verified ? &o->vdeal : &o->deal);
		++*deals;
	}
	return rc;
}

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

static void rate_find(struct rate *r, const struct cli_view *v)
{
	json_t *p = cli_view_report(v, "price");
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
	for (size_t i = 0; i < s->nsizes; i++) {
		cli_human_bytes(a, sizeof(a), s->sizes[i].share);
		cli_human_bytes(b, sizeof(b), s->sizes[i].deal);
		if (s->sizes[i].share == s->sizes[i].deal)
			printf("piece:       %s padded (%" PRIu64 ")\n", a,
			       s->sizes[i].share);
		else
			printf("piece:       %s padded (%" PRIu64 ") share of "
			       "an aggregate of %s%s\n", a, s->sizes[i].share,
			       s->agg_open ? "at least " : "", b);
	}
	printf("deals:       %u of %" PRId64 " epochs each (%.1f days of "
	       "30 s epochs)\n", e->n, e->duration,
	       (double)e->duration * 30 / 86400);
}

static void print_rate(const struct rate *r)
{
	char when[32];

	if (!r->has) {
		printf("FIL/USD:     USD: %s\n", r->why);
		return;
	}
	cli_fmt_time(when, sizeof(when), r->time);
	printf("FIL/USD:     %g, from %s at %s UTC\n", r->fil_usd, r->source,
	       when);
}

static void print_offer(const struct est *e, const struct offer *o)
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
	if (deals < e->n)
		printf(": only %u SP%s eligible of the %u deals wanted", deals,
		       deals == 1 ? " is" : "s are", e->n);
	putchar('\n');
}

static int print_human(struct est *e)
{
	struct bigint sum, vsum;
	unsigned n, vn;
	int rc;

	print_subject(e);
	print_rate(&e->rate);
	if ((rc = total_of(&vsum, &vn, e, true)) < 0 ||
	    (rc = total_of(&sum, &n, e, false)) < 0)
		return rc;
	if (e->noffers == 0) {
		printf("\nno SP the dealer could deal with has an ask for "
		       "pieces of this size (estuaryfs miners)\n");
		return 0;
	}
	printf("\n%-10s %-16s %-22s %-12s %-16s %-22s %s\n", "SP",
	       "FIL/GiB/EPOCH", "PER DEAL (FIL)", "USD", "VERIFIED",
	       "PER VERIFIED DEAL", "USD");
	for (size_t i = 0; i < e->noffers; i++)
		print_offer(e, &e->offers[i]);
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
	cli_jset(o, "fil_usd", json_real(r->fil_usd), bad);
	cli_jset(o, "source", json_string(r->source), bad);
	cli_jset(o, "time", cli_jtime(r->time), bad);
	return o;
}

static json_t *jcost(const struct est *e, bool ok, const struct bigint *a,
		     bool *bad)
{
	json_t *o = json_object();

	if (!o) {
		*bad = true;
		return NULL;
	}
	cli_jset(o, "eligible", json_boolean(ok), bad);
	cli_jset(o, "per_deal", cli_jamount(a, bad), bad);
	cli_jset(o, "usd", e->rate.has ? json_real(fil_of(a) *
						  e->rate.fil_usd)
				       : json_null(), bad);
	return o;
}

static json_t *joffers(const struct est *e, bool *bad)
{
	json_t *arr = json_array(), *o;
	char sp[FILADDR_STR_MAX];

	for (size_t i = 0; arr && i < e->noffers; i++) {
		const struct offer *x = &e->offers[i];

		if (!(o = json_object()) || json_array_append_new(arr, o)) {
			*bad = true;
			break;
		}
		filaddr_format(sp, &x->sp, 'f');
		cli_jset(o, "sp", json_string(sp), bad);
		cli_jset(o, "price_per_gib_epoch", cli_jamount(&x->price, bad),
			 bad);
		cli_jset(o, "verified_price_per_gib_epoch",
			 cli_jamount(&x->vprice, bad), bad);
		cli_jset(o, "unverified", jcost(e, x->ok, &x->deal, bad), bad);
		cli_jset(o, "verified", jcost(e, x->vok, &x->vdeal, bad), bad);
	}
	if (!arr)
		*bad = true;
	return arr;
}

static json_t *jtotal(const struct est *e, const struct bigint *sum,
		      unsigned deals, bool *bad)
{
	json_t *o = json_object();

	if (!o) {
		*bad = true;
		return NULL;
	}
	cli_jset(o, "deals", json_integer(deals), bad);
	cli_jset(o, "fil", cli_jamount(sum, bad), bad);
	cli_jset(o, "usd", e->rate.has ? json_real(fil_of(sum) *
						  e->rate.fil_usd)
				       : json_null(), bad);
	return o;
}

static json_t *jsizes(const struct subject *s, bool *bad)
{
	json_t *arr = json_array(), *o;

	for (size_t i = 0; arr && i < s->nsizes; i++) {
		if (!(o = json_object()) || json_array_append_new(arr, o)) {
			*bad = true;
			break;
		}
		cli_jset(o, "deal_padded", cli_jint(s->sizes[i].deal), bad);
		cli_jset(o, "share_padded", cli_jint(s->sizes[i].share), bad);
	}
	if (!arr)
		*bad = true;
	return arr;
}

static int print_json(struct est *e)
{
	struct bigint sum, vsum;
	unsigned n, vn;
	bool bad = false;
	json_t *o = json_object();
	int rc;

	if ((rc = total_of(&vsum, &vn, e, true)) < 0 ||
	    (rc = total_of(&sum, &n, e, false)) < 0) {
		json_decref(o);
		return rc;
	}
	if (!o)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	cli_jset(o, "commit", e->s.has_commit ? json_integer(e->s.commit_id)
					      : json_null(), &bad);
	cli_jset(o, "path", cli_jstr(e->s.path), &bad);
	cli_jset(o, "root", cli_jcid(&e->s.root), &bad);
	cli_jset(o, "car_size", cli_jint(e->s.car_size), &bad);
	cli_jset(o, "sized_from", json_string(e->s.source), &bad);
	cli_jset(o, "aggregated", json_boolean(e->s.aggregated), &bad);
	cli_jset(o, "aggregate_open", json_boolean(e->s.agg_open), &bad);
	cli_jset(o, "pieces", jsizes(&e->s, &bad), &bad);
	cli_jset(o, "replication", json_integer(e->n), &bad);
	cli_jset(o, "duration_epochs", json_integer(e->duration), &bad);
	cli_jset(o, "fil_usd", jrate(&e->rate, &bad), &bad);
	cli_jset(o, "usd_unavailable", e->rate.has ? json_null()
			 : json_string(e->rate.why), &bad);
	cli_jset(o, "sps", joffers(e, &bad), &bad);
	cli_jset(o, "unverified", jtotal(e, &sum, n, &bad), &bad);
	cli_jset(o, "verified", jtotal(e, &vsum, vn, &bad), &bad);
	return cli_json_print(o, bad);
}

static int estimate(struct est *e)
{
	int rc;

	rate_find(&e->rate, e->v);
	if ((rc = offers_load(e)) < 0)
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
				e->n = (unsigned)x;
			else
				e->duration = (int64_t)x;
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
	struct cli_view v;
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
		if (!e.n)
			e.n = v.cfg.replication;
		if (!e.duration)
			e.duration = v.cfg.duration;
		if ((rc = subject_init(&e.s, &v, &f)) == 0)
			rc = estimate(&e);
	}
	efs_free(e.offers);
	efs_free(e.s.path);
	cli_view_release(&v);
	cli_filter_release(&f);
	return rc < 0 ? cli_fail(rc) : CLI_EXIT_OK;
}
