/*
 * dealer_test.h - the fixture of the dealer's tests against the devnet:
 * a repository (blockstore, wallet) with commits made of random files,
 * a devnet with its storage providers, the HTTP server SPs pull CARs
 * from, and a dealer driven cycle by cycle on the test's thread.
 */
#ifndef EFS_DEALER_TEST_H
#define EFS_DEALER_TEST_H

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "core/wallet.h"
#include "dealer/dealer.h"
#include "dealer/deals.h"
#include "dealer/transfer.h"
#include "net/http.h"
#include "tests/dealer/piece_test.h"
#include "tests/devnet/devnet_util.h"

#define DFX_COMMITS_MAX 16

struct dfx_commit {
	int64_t id;
	struct cid root;
};

struct dfx {
	struct fx f;                 /* dir, bstore (its piece store closed) */
	struct devnet_util_proc net;
	struct http_server *http;
	pthread_mutex_t lock;        /* guards d for the HTTP handler */
	struct dealer *d;
	struct dealer_config cfg;
	struct dealer_opts o;
	char base[64];               /* the transfer base URL */
	uint16_t port;               /* its port, kept across restarts */
	struct filaddr client;
	struct dfx_commit c[DFX_COMMITS_MAX];
	size_t nc;
	unsigned transfer_delay_ms;  /* before serving each pull */
};

/*
 * The devnet of the test running (0: none yet, -1: stopped): stopped at
 * exit, or by the next test, when a fatal assertion left the test before
 * dfx_close (CUnit longjmps out).
 */
static pid_t dfx_devnet_pid;

static inline void dfx_atexit(void)
{
	if (dfx_devnet_pid > 0)
		kill(dfx_devnet_pid, SIGKILL);
}

static inline int dfx_list(void *cls, int64_t after, dealer_commit_cb cb,
			   void *cb_cls)
{
	struct dfx *x = cls;
	int rc;

	for (size_t i = 0; i < x->nc; i++)
		if (x->c[i].id > after &&
		    (rc = cb(x->c[i].id, &x->c[i].root, cb_cls)) != 0)
			return rc;
	return 0;
}

static inline void dfx_serve(struct http_req *req, void *cls)
{
	struct dfx *x = cls;

	if (x->transfer_delay_ms)
		usleep(x->transfer_delay_ms * 1000);
	pthread_mutex_lock(&x->lock);
	if (x->d && strncmp(http_req_path(req), TRANSFER_PATH_PREFIX,
			    strlen(TRANSFER_PATH_PREFIX)) == 0)
		transfer_handle(req, dealer_transfer(x->d));
	else
		http_reply_text(req, 503, "no dealer\n");
	pthread_mutex_unlock(&x->lock);
}

/* Add a commit of a random file of len bytes. */
static inline void dfx_commit(struct dfx *x, size_t len, uint64_t seed)
{
	CU_ASSERT_FATAL(x->nc < DFX_COMMITS_MAX);
	make_file(&x->c[x->nc].root, &x->f, len, seed, 1024, 16);
	x->c[x->nc].id = (int64_t)x->nc + 1;
	x->nc++;
}

/*
 * A devnet of nsps SPs (epochs of 50 ms, extra arguments), a repository
 * with a funded wallet (fil FIL, datacap bytes; "0" for none), and the
 * test configuration: replication 6, verified, start 1200 epochs (60 s) ahead,
 * pieces under 1 MiB aggregated at once.
 */
static inline void dfx_open(struct dfx *x, unsigned nsps,
			    const char *const *extra, const char *fil,
			    const char *datacap)
{
	char atto[64];
	struct wallet *w;
	uint16_t port;

	memset(x, 0, sizeof(*x));
	pthread_mutex_init(&x->lock, NULL);
	fx_open(&x->f, 1 << 20, 16 << 20, 0, 64 << 20);
	piece_store_close(x->f.ps);
	x->f.ps = NULL;
	CU_ASSERT_FATAL(devnet_util_start(&x->net, x->f.dir, "50ms", nsps,
					  extra) == 0);
	if (dfx_devnet_pid > 0)
		kill(dfx_devnet_pid, SIGKILL); /* a test that failed */
	if (!dfx_devnet_pid)
		atexit(dfx_atexit);
	dfx_devnet_pid = x->net.pid;
	CU_ASSERT_FATAL(wallet_open(&w, x->f.dir) == 0);
	CU_ASSERT_FATAL(wallet_new(&x->client, w) == 0);
	CU_ASSERT_FATAL(wallet_set_default(w, &x->client) == 0);
	wallet_close(w);
	snprintf(atto, sizeof(atto), "%s000000000000000000", fil);
	CU_ASSERT_FATAL(devnet_util_faucet(&x->net, &x->client, atto) == 0);
	if (strcmp(datacap, "0") != 0)
		CU_ASSERT_FATAL(devnet_util_datacap(&x->net, &x->client,
						    datacap) == 0);
	CU_ASSERT_FATAL(http_server_start(&x->http, "127.0.0.1", 0, 0,
					  dfx_serve, x) == 0);
	port = http_server_port(x->http);
	x->port = port;
	snprintf(x->base, sizeof(x->base), "http://127.0.0.1:%u", port);

	config_defaults(&x->cfg);
	x->cfg.devnet = false;
	x->cfg.replication = 6;
	x->cfg.start_delay = 1200;
	x->cfg.duration = CONFIG_DURATION_MIN;
	x->cfg.check_interval = 2;
	/* Half the devnet's SPs charge for verified deals. */
	bigint_from_u64(&x->cfg.max_verified_price, 100000000);
	x->cfg.aggregate_below = 1 << 20;
	x->cfg.aggregate_target = 16 << 20;
	x->cfg.aggregate_max_age = 0;
	x->cfg.max_payload = 64 << 20;
	x->o.repo = x->f.dir;
	x->o.bs = x->f.bs;
	x->o.commits.list = dfx_list;
	x->o.commits.cls = x;
	x->o.transfer_base = x->base;
	x->o.epoch_seconds = 0.05;
	x->o.lotus_url = x->net.rpc;
	x->o.lotus_token = x->net.token;
}

static inline void dfx_dealer_open(struct dfx *x)
{
	struct dealer *d;
	int rc;

	/* After a restart the server comes back on its port: the SPs pull
	 * from the URLs they were given. */
	if (!x->http)
		CU_ASSERT_FATAL(http_server_start(&x->http, "127.0.0.1",
						  x->port, 0, dfx_serve,
						  x) == 0);
	rc = dealer_open(&d, &x->o, &x->cfg);

	if (rc < 0)
		fprintf(stderr, "dealer_open: %s\n", efs_error_msg());
	CU_ASSERT_FATAL(rc == 0);
	pthread_mutex_lock(&x->lock);
	x->d = d;
	pthread_mutex_unlock(&x->lock);
}

/* Close the dealer as the daemon does: the HTTP server first (a pull
 * streaming from the dealer's pieces must end before they close). */
static inline void dfx_dealer_close(struct dfx *x)
{
	struct dealer *d;

	http_server_stop(x->http);
	x->http = NULL;
	pthread_mutex_lock(&x->lock);
	d = x->d;
	x->d = NULL;
	pthread_mutex_unlock(&x->lock);
	dealer_close(d);
}

static inline void dfx_close(struct dfx *x)
{
	dfx_dealer_close(x);
	CU_ASSERT_EQUAL(devnet_util_stop(&x->net, false), 0);
	dfx_devnet_pid = -1;
	config_release(&x->cfg);
	fx_close(&x->f);
	pthread_mutex_destroy(&x->lock);
}

/* Deals of the repository by state, counted. */
struct dfx_count {
	unsigned by_state[16];
	unsigned total;
};

static inline int dfx_count_cb(const struct deal *d, void *cls)
{
	struct dfx_count *c = cls;

	c->by_state[d->state < 16 ? d->state : 15]++;
	c->total++;
	return 0;
}

static inline void dfx_count(struct dfx_count *out, struct dfx *x,
			     int64_t piece_id)
{
	struct deals *ds;

	memset(out, 0, sizeof(*out));
	CU_ASSERT_FATAL(deals_open(&ds, x->f.db) == 0);
	CU_ASSERT_EQUAL(deals_foreach(ds, piece_id, false, dfx_count_cb, out),
			0);
	deals_close(ds);
}

/* Per piece: live deals on distinct SPs, and the ACTIVE count. */
struct dfx_piece {
	int64_t id;
	unsigned active, live;
	struct filaddr sp[64];
	unsigned nsp;
	bool dup;                    /* two live deals on one SP */
};

static inline int dfx_piece_cb(const struct deal *d, void *cls)
{
	struct dfx_piece *p = cls;

	if (!deal_state_live(d->state))
		return 0;
	p->live++;
	p->active += d->state == DEAL_ACTIVE;
	for (unsigned i = 0; i < p->nsp; i++)
		if (filaddr_equal(&p->sp[i], &d->miner))
			p->dup = true;
	if (p->nsp < 64)
		p->sp[p->nsp++] = d->miner;
	return 0;
}

static inline int dfx_ready_cb(const struct piece_info *p, void *cls)
{
	struct dfx_piece *v = cls;
	size_t i = 0;

	while (v[i].id)
		i++;
	if (i < 31)
		v[i].id = p->id;
	return 0;
}

/* The ready pieces (up to 31) with their live deals; how many. */
static inline size_t dfx_pieces(struct dfx_piece *v, struct dfx *x)
{
	struct piece_store *ps;
	struct deals *ds;
	size_t n = 0;

	memset(v, 0, 32 * sizeof(*v));
	CU_ASSERT_FATAL(piece_store_open(&ps, x->f.db, x->f.bs, NULL) == 0);
	CU_ASSERT_EQUAL(piece_foreach_ready(ps, dfx_ready_cb, v), 0);
	piece_store_close(ps);
	CU_ASSERT_FATAL(deals_open(&ds, x->f.db) == 0);
	for (n = 0; v[n].id; n++)
		CU_ASSERT_EQUAL(deals_foreach(ds, v[n].id, false, dfx_piece_cb,
					      &v[n]),
				0);
	deals_close(ds);
	return n;
}

static inline int dfx_dump_cb(const struct deal *d, void *cls)
{
	char m[FILADDR_STR_MAX];

	filaddr_format(m, &d->miner, 'f');
	fprintf(stderr, "deal %lld piece %lld %s %s: %s\n", (long long)d->id,
		(long long)d->piece_id, m, deals_state_name(d->state),
		d->reason ? d->reason : "");
	return 0;
}

/* Every deal with its state and reason, to stderr. */
static inline void dfx_dump(struct dfx *x)
{
	struct deals *ds;

	if (deals_open(&ds, x->f.db) < 0)
		return;
	deals_foreach(ds, -1, false, dfx_dump_cb, NULL);
	deals_close(ds);
}

/* Set miner f0<id>'s devnet faults to json. */
static inline void dfx_fault(struct dfx *x, unsigned id, const char *json)
{
	char params[512], out[1024];

	snprintf(params, sizeof(params), "[\"f0%u\", %s]", id, json);
	CU_ASSERT_EQUAL_FATAL(devnet_util_rpc(out, sizeof(out), &x->net,
					      "Devnet.SetFault", params),
			      0);
}

/* The dealer's report key as JSON (decref it), or NULL. */
static inline json_t *dfx_report(struct dfx *x, const char *key)
{
	json_t *all, *v;
	char *text;

	if (dealer_report_read(&text, x->f.db) < 0)
		return NULL;
	all = json_loads(text, 0, NULL);
	efs_free(text);
	v = json_incref(json_object_get(all, key));
	json_decref(all);
	return v;
}

/*
 * Run cycles until every commit is pieced and each piece has want ACTIVE
 * deals, or timeout_s passes; true when reached.  poke (may be NULL) is
 * called after each cycle with its number.
 */
static inline bool dfx_run(struct dfx *x, unsigned want, int timeout_s,
			   void (*poke)(struct dfx *, unsigned))
{
	struct dfx_piece v[32];
	struct dealer_cycle_stats st;
	time_t end = time(NULL) + timeout_s;
	unsigned cycle = 0;
	size_t n, ok;

	while (time(NULL) < end) {
		if (dealer_cycle(&st, x->d) < 0)
			fprintf(stderr, "cycle: %s\n", efs_error_msg());
		if (poke)
			poke(x, cycle);
		cycle++;
		n = dfx_pieces(v, x);
		ok = 0;
		for (size_t i = 0; i < n; i++) {
			CU_ASSERT_FALSE(v[i].dup);
			ok += v[i].active >= want;
		}
		if (n > 0 && ok == n)
			return true;
		usleep(100 * 1000);
	}
	n = dfx_pieces(v, x);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "piece %lld: %u active, %u live\n",
			(long long)v[i].id, v[i].active, v[i].live);
	dfx_dump(x);
	return false;
}

#endif
