/*
 * dealer_latency.c - the time from a commit to 6 active deals on the
 * devnet, minus the devnet's own delays: the last figure of issue 5's
 * closing note.  A benchmark, not a test (bench/dealer_scale.sh builds
 * and runs it with dealer_scale; `meson test` never does).
 *
 *   dealer_latency [--epoch DUR] [--rounds N] [--keep] [-v]
 *
 * Each round: a fresh repository and devnet (8 SPs, epochs of --epoch,
 * by default the 1 s the daemon's devnet runs at); 10 FIL in the
 * market escrow and the dealer running (its first cycle done: SPs and
 * asks known), as in a daemon that has made deals before; then one
 * commit of a 1 MiB file and cycles every 100 ms until 6 deals are
 * active.  While it runs the chain is watched apart from the dealer
 * (StateMarketStorageDeal of the devnet's deal IDs every 100 ms), so the
 * time splits into:
 *
 *   commit -> proposals sent            the dealer: CAR, CommP, SPs,
 *                                       6 proposals (mk12 over HTTP)
 *   proposals sent -> the last deal     the devnet: an SP pulls the CAR,
 *     active on chain                   checks its CommP, publishes, and
 *                                       seals after its seal_delay epochs
 *   last active -> the dealer sees it   the dealer: it checks deals on
 *                                       their way every few epochs
 *
 * "Commit to 6 active minus the devnet's delays" is the first and the
 * last of those.  The rounds (default 3) differ mostly by where the
 * dealer's check falls; the median is printed too.
 *
 * Needs DEVNET_BIN, the estuaryfs-devnet program.  Everything lives in a
 * temporary directory under $TMPDIR (default /tmp), removed at the end
 * unless --keep; the devnets are ended by their PID.  Progress goes to
 * stderr, the figures to stdout.
 */
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "bench/dealer_bench.h"
#include "core/alloc.h"
#include "core/bstore.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/fdio.h"
#include "core/importer.h"
#include "core/wallet.h"
#include "dealer/dealer.h"
#include "dealer/deals.h"
#include "dealer/funds.h"
#include "dealer/lotus.h"
#include "dealer/transfer.h"
#include "net/http.h"
#include "tests/devnet/devnet_util.h"

#include "core/banned.h"

#define REPLICATION DEALER_BENCH_REPLICATION
/* SPs, the commit's size, the poll period, the timeout of a round. */
#define LAT_SPS 8
#define LAT_BYTES (1u << 20)
#define LAT_POLL_US 100000
#define LAT_TIMEOUT_S 180
/* Chain deal IDs watched (a fresh devnet counts from 1; rejected
 * proposals take none). */
#define LAT_WATCH 24
#define ROUNDS_MAX 20

struct opts {
	bool keep;
	unsigned rounds;
	const char *epoch;
};

struct lat_deal {
	uint8_t uuid[DEAL_UUID_LEN];
	struct filaddr miner;
	int64_t deal_id;
	enum deal_state state;
	double t_row, t_active;      /* seconds from the commit */
};

struct lat {
	struct opts *o;
	struct devnet_util_proc net;
	struct dealer_bench_repo r;
	struct http_server *http;
	pthread_mutex_t lock;        /* guards d for the HTTP handler */
	struct dealer *d;
	bool committed;
	struct cid root;
	double t0;
	struct lat_deal v[64];
	size_t n;
	double t_sent;               /* the cycle sending the 6th ended */
	double t_pub[LAT_WATCH + 1], t_act[LAT_WATCH + 1];
	int64_t seal_delay[LAT_SPS];
};

static int lat_list(void *cls, int64_t after, dealer_commit_cb cb,
		    void *cb_cls)
{
	struct lat *x = cls;

	return x->committed && after < 1 ? cb(1, &x->root, cb_cls) : 0;
}

static void lat_serve(struct http_req *req, void *cls)
{
	struct lat *x = cls;

	pthread_mutex_lock(&x->lock);
	if (x->d && strncmp(http_req_path(req), TRANSFER_PATH_PREFIX,
			    strlen(TRANSFER_PATH_PREFIX)) == 0)
		transfer_handle(req, dealer_transfer(x->d));
	else
		http_reply_text(req, 503, "no dealer\n");
	pthread_mutex_unlock(&x->lock);
}

/* The SPs' seal delays (Devnet.Miners). */
static int seal_delays(struct lat *x)
{
	char *out = efs_malloc(1 << 16);
	json_t *v = NULL, *e;
	size_t i;
	int rc = -1;

	if (out && devnet_util_rpc(out, 1 << 16, &x->net, "Devnet.Miners",
				   "[]") == 0 &&
	    (v = json_loads(out, 0, NULL)) != NULL) {
		json_array_foreach(v, i, e)
		{
			if (i < LAT_SPS)
				x->seal_delay[i] = json_integer_value(
					json_object_get(e, "SealDelay"));
		}
		rc = 0;
	}
	json_decref(v);
	efs_free(out);
	return rc;
}

/* The 1 MiB commit: a file of random bytes, imported as `add` does. */
static int lat_commit(struct lat *x)
{
	struct blockio_sink sink = bstore_sink(x->r.bs);
	struct importer_opts io;
	char path[4200];
	uint8_t *data = efs_malloc(LAT_BYTES);
	uint64_t seed = 42;
	int fd, rc;

	snprintf(path, sizeof(path), "%s/file.bin", x->r.dir);
	if (!data)
		return EFS_ENOMEM;
	for (size_t k = 0; k < LAT_BYTES; k += 8) {
		uint64_t r = dealer_bench_mix(&seed);

		memcpy(data + k, &r, 8);
	}
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	rc = fd < 0 ? EFS_EIO : fdio_write(fd, data, LAT_BYTES);
	efs_free(data);
	if (rc < 0) {
		if (fd >= 0)
			close(fd);
		return efs_error_set(EFS_EIO, "writing %s", path);
	}
	if ((rc = importer_opts_profile(&io, NULL)) == 0)
		rc = importer_add_fd(&x->root, NULL, fd, &io, &sink, NULL,
				     NULL);
	close(fd);
	unlink(path);
	return rc < 0 ? rc : bstore_sync(x->r.bs);
}

struct lat_seen {
	struct lat *x;
	double t;
	size_t live, active;
};

static int seen_cb(const struct deal *dl, void *cls)
{
	struct lat_seen *c = cls;
	struct lat *x = c->x;
	struct lat_deal *v = NULL;

	for (size_t i = 0; i < x->n && !v; i++)
		if (memcmp(x->v[i].uuid, dl->uuid, DEAL_UUID_LEN) == 0)
			v = &x->v[i];
	if (!v && x->n < sizeof(x->v) / sizeof(x->v[0])) {
		v = &x->v[x->n++];
		memcpy(v->uuid, dl->uuid, DEAL_UUID_LEN);
		v->miner = dl->miner;
		v->t_row = c->t;
	}
	if (!v)
		return 0;
	v->state = dl->state;
	v->deal_id = dl->deal_id;
	if (dl->state == DEAL_ACTIVE && v->t_active == 0)
		v->t_active = c->t;
	c->live += deal_state_live(dl->state);
	c->active += dl->state == DEAL_ACTIVE;
	return 0;
}

/* The chain's deals 1..LAT_WATCH, apart from the dealer. */
static void watch_chain(struct lat *x, struct lotus *l, double t)
{
	struct lotus_market_deal m[LAT_WATCH];
	uint64_t ids[LAT_WATCH];
	int rcs[LAT_WATCH];

	for (size_t i = 0; i < LAT_WATCH; i++)
		ids[i] = i + 1;
	if (lotus_market_deals(m, rcs, l, ids, LAT_WATCH) < 0)
		return;
	for (size_t i = 0; i < LAT_WATCH; i++) {
		if (rcs[i] < 0)
			continue;
		if (x->t_pub[i + 1] == 0)
			x->t_pub[i + 1] = t;
		if (m[i].sector_start_epoch >= 0 && x->t_act[i + 1] == 0)
			x->t_act[i + 1] = t;
	}
}

/* Cycles every LAT_POLL_US from the commit until 6 deals are active. */
static int lat_run(struct lat *x, struct lotus *l)
{
	struct dealer_cycle_stats st;
	struct lat_seen c = { .x = x };
	struct deals *ds;
	int rc = 0;

	if (deals_open_ro(&ds, x->r.db) < 0)
		return dealer_bench_fail("deals_open_ro");
	x->committed = true;
	x->t0 = efs_clock_mono();
	while (c.active < REPLICATION) {
		if (efs_clock_mono() - x->t0 > LAT_TIMEOUT_S) {
			fprintf(stderr, "dealer_latency: not 6 active after "
				"%d s\n", LAT_TIMEOUT_S);
			rc = -1;
			break;
		}
		if (dealer_cycle(&st, x->d) < 0)
			dealer_bench_fail("a cycle");
		c.t = efs_clock_mono() - x->t0;
		c.live = c.active = 0;
		if (deals_foreach(ds, -1, false, seen_cb, &c) < 0) {
			rc = dealer_bench_fail("deals_foreach");
			break;
		}
		if (x->t_sent == 0 && c.live >= REPLICATION)
			x->t_sent = c.t;
		watch_chain(x, l, efs_clock_mono() - x->t0);
		if (c.active < REPLICATION)
			usleep(LAT_POLL_US);
	}
	deals_close(ds);
	return rc;
}

/* The pending deals' check interval, as dealer_pending_interval makes
 * it: a tenth of check_interval (600 s), at most 2 epochs, at least
 * 1 s; those with a deal ID are checked on chain every epoch. */
static double pending_s(double epoch)
{
	return 60 < 2 * epoch ? 60 : 2 * epoch < 1 ? 1 : 2 * epoch;
}

/* Where the time went (see the top). */
struct lat_result {
	double total;                /* commit -> the 6th seen active */
	double sent;                 /* commit -> proposals sent */
	double devnet;               /* proposals sent -> last active */
	double notice;               /* last active -> seen */
	int64_t max_seal;            /* epochs */
};

static void lat_deal_print(const struct lat *x, const struct lat_deal *v)
{
	char sp[FILADDR_STR_MAX];
	int64_t k = v->deal_id, sd = 0;
	bool w = k >= 1 && k <= LAT_WATCH;

	if (v->miner.id >= 1000 && v->miner.id < 1000 + LAT_SPS)
		sd = x->seal_delay[v->miner.id - 1000];
	filaddr_format(sp, &v->miner, 'f');
	printf("  %-8s %4lld epochs %7.2f s %13.2f s %12.2f s %10.2f s  %s\n",
	       sp, (long long)sd, v->t_row, w ? x->t_pub[k] : -1,
	       w ? x->t_act[k] : -1, v->t_active, deals_state_name(v->state));
}

static void lat_result(struct lat_result *out, const struct lat *x,
		       bool print)
{
	double t_chain = 0;

	memset(out, 0, sizeof(*out));
	if (print)
		printf("  %-8s %10s %9s %15s %14s %12s\n", "SP",
		       "seal_delay", "proposed", "chain: deal ID",
		       "chain: active", "dealer: seen");
	for (size_t i = 0; i < x->n; i++) {
		const struct lat_deal *v = &x->v[i];
		int64_t k = v->deal_id;

		if (print)
			lat_deal_print(x, v);
		if (v->state != DEAL_ACTIVE)
			continue;
		if (v->t_active > out->total)
			out->total = v->t_active;
		if (k >= 1 && k <= LAT_WATCH && x->t_act[k] > t_chain)
			t_chain = x->t_act[k];
		if (v->miner.id >= 1000 && v->miner.id < 1000 + LAT_SPS &&
		    x->seal_delay[v->miner.id - 1000] > out->max_seal)
			out->max_seal = x->seal_delay[v->miner.id - 1000];
	}
	out->sent = x->t_sent;
	out->devnet = t_chain - x->t_sent;
	out->notice = out->total - t_chain;
}

/* 10 FIL into the client's market escrow, landed: a running daemon has
 * escrow from its earlier deals, so the commit does not wait for a
 * top-up message to land. */
static int lat_escrow(struct lat *x, struct lotus *l)
{
	struct lotus_receipt rcpt;
	struct bigint amount;
	struct wallet *w;
	struct cid msg;
	int rc;

	if (bigint_parse_fil(&amount, "10", 2) < 0 ||
	    wallet_open(&w, x->r.dir) < 0)
		return dealer_bench_fail("the wallet");
	rc = funds_add_escrow(&msg, l, w, &x->r.client, &amount);
	wallet_close(w);
	if (rc == 0)
		rc = lotus_wait_msg(&rcpt, l, &msg, 0, 30000);
	if (rc < 0)
		return dealer_bench_fail("the escrow");
	if (rcpt.exit_code != 0) {
		fprintf(stderr, "dealer_latency: the escrow: exit code %lld\n",
			(long long)rcpt.exit_code);
		return -1;
	}
	return 0;
}

static int lat_dealer(struct lat *x, struct dealer_config *cfg)
{
	struct dealer_opts o = { 0 };
	struct dealer_cycle_stats st;
	struct dealer *d;
	char base[64];

	if (http_server_start(&x->http, "127.0.0.1", 0, 0, lat_serve, x) <
	    0)
		return dealer_bench_fail("http_server_start");
	snprintf(base, sizeof(base), "http://127.0.0.1:%u",
		 (unsigned)http_server_port(x->http));
	dealer_bench_config(cfg);
	o.repo = x->r.dir;
	o.bs = x->r.bs;
	o.commits.list = lat_list;
	o.commits.cls = x;
	o.transfer_base = base;
	o.epoch_seconds = dealer_bench_epoch_s(x->o->epoch);
	o.lotus_url = x->net.rpc;
	o.lotus_token = x->net.token;
	if (dealer_open(&d, &o, cfg) < 0)
		return dealer_bench_fail("dealer_open");
	pthread_mutex_lock(&x->lock);
	x->d = d;
	pthread_mutex_unlock(&x->lock);
	/* A running daemon: discovery and funds done before the commit. */
	return dealer_cycle(&st, d) < 0 ? dealer_bench_fail("the first cycle") : 0;
}

/* One round in tmp/<round>-devnet and tmp/<round>-repo; the first
 * prints its deals. */
static int lat_round(struct lat_result *res, struct opts *o, const char *tmp,
		     unsigned round)
{
	struct dealer_config cfg;
	struct lat x = { .o = o };
	struct lotus *l = NULL;
	struct dealer *d;
	char dir[4096];
	int rc = -1;

	memset(&cfg, 0, sizeof(cfg));
	pthread_mutex_init(&x.lock, NULL);
	snprintf(dir, sizeof(dir), "%s/%u-devnet", tmp, round);
	fprintf(stderr, "round %u: a devnet of %d SPs\n", round, LAT_SPS);
	if (devnet_util_start(&x.net, dir, o->epoch, LAT_SPS, NULL) < 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s/%u-repo", tmp, round);
	if (dealer_bench_repo_open(&x.r, dir, &x.net) < 0 ||
	    seal_delays(&x) < 0 ||
	    lotus_open(&l, x.net.rpc, x.net.token) < 0 ||
	    lat_escrow(&x, l) < 0 || lat_dealer(&x, &cfg) < 0)
		goto out;
	if (lat_commit(&x) < 0) {
		dealer_bench_fail("the commit");
		goto out;
	}
	fprintf(stderr, "round %u: committed; cycles until %d deals are "
		"active\n", round, REPLICATION);
	if ((rc = lat_run(&x, l)) == 0)
		lat_result(res, &x, round == 1);
out:
	http_server_stop(x.http);
	pthread_mutex_lock(&x.lock);
	d = x.d;
	x.d = NULL;
	pthread_mutex_unlock(&x.lock);
	dealer_close(d);
	config_release(&cfg);
	lotus_close(l);
	dealer_bench_repo_close(&x.r);
	devnet_util_stop(&x.net, false);
	pthread_mutex_destroy(&x.lock);
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of field f over n results. */
static double median(const struct lat_result *r, size_t n, size_t off)
{
	double v[ROUNDS_MAX];

	for (size_t i = 0; i < n; i++)
		v[i] = *(const double *)((const char *)&r[i] + off);
	qsort(v, n, sizeof(v[0]), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void print_row(const char *name, double total, double sent,
		      double devnet, double notice)
{
	printf("  %-7s %8.2f s %10.2f s %10.2f s %9.2f s %12.2f s\n", name,
	       total, devnet, sent, notice, sent + notice);
}

static int latency(struct opts *o, const char *tmp)
{
	struct lat_result r[ROUNDS_MAX];
	double epoch = dealer_bench_epoch_s(o->epoch);
	int64_t seal = 0;
	char name[16];

	printf("\ncommit to %d active deals: a %u KiB file, %d SPs, devnet "
	       "epoch %s, cycles every %d ms\n",
	       REPLICATION, LAT_BYTES / 1024, LAT_SPS, o->epoch,
	       LAT_POLL_US / 1000);
	for (unsigned i = 0; i < o->rounds; i++) {
		if (lat_round(&r[i], o, tmp, i + 1) < 0)
			return -1;
		seal = r[i].max_seal > seal ? r[i].max_seal : seal;
	}
	printf("  %-7s %10s %12s %12s %11s %14s\n", "round", "total",
	       "devnet's", "dealer: to", "dealer:", "total minus");
	printf("  %-7s %10s %12s %12s %11s %14s\n", "", "", "own delays",
	       "proposals", "noticing", "devnet delays");
	for (unsigned i = 0; i < o->rounds; i++) {
		snprintf(name, sizeof(name), "%u", i + 1);
		print_row(name, r[i].total, r[i].sent, r[i].devnet,
			  r[i].notice);
	}
	print_row("median", median(r, o->rounds,
				   offsetof(struct lat_result, total)),
		  median(r, o->rounds, offsetof(struct lat_result, sent)),
		  median(r, o->rounds, offsetof(struct lat_result, devnet)),
		  median(r, o->rounds, offsetof(struct lat_result, notice)));
	printf("  the devnet's own delays: proposals sent -> the last deal "
	       "active on chain\n"
	       "  (the SP pulls the CAR, checks its CommP, publishes, seals "
	       "after its\n"
	       "  seal_delay: at most %lld epochs of %.2f s); noticing: the "
	       "last activation\n"
	       "  -> the dealer seeing it (it asks SPs about deals on their "
	       "way every %.0f s,\n  the chain about published ones every "
	       "epoch)\n",
	       (long long)seal, epoch, pending_s(epoch));
	return 0;
}

static int parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "epoch", required_argument, NULL, 'e' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "keep", no_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	bool verbose = false;
	int c;

	*o = (struct opts){ false, 3, "1s" };
	while ((c = getopt_long(argc, argv, "v", longs, NULL)) != -1) {
		switch (c) {
		case 'e':
			o->epoch = optarg;
			break;
		case 'r':
			o->rounds = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'k':
			o->keep = true;
			break;
		case 'v':
			verbose = true;
			break;
		default:
			return -1;
		}
	}
	if (optind != argc || o->rounds == 0 || o->rounds > ROUNDS_MAX ||
	    dealer_bench_epoch_s(o->epoch) <= 0) {
		fprintf(stderr, "usage: dealer_latency [--epoch DUR] "
			"[--rounds 1-%d] [--keep] [-v]\n", ROUNDS_MAX);
		return -1;
	}
	return dealer_bench_init("dealer_latency", verbose);
}

int main(int argc, char **argv)
{
	char tmp[2048];
	struct opts o;
	int rc;

	if (parse_opts(&o, argc, argv) < 0)
		return 2;
	if (dealer_bench_tmpdir(tmp, sizeof(tmp), "efs-dealer-latency") < 0)
		return 1;
	rc = latency(&o, tmp) < 0 ? 1 : 0;
	if (o.keep)
		fprintf(stderr, "kept %s\n", tmp);
	else
		dealer_bench_rm_tree(tmp);
	return rc;
}
