/*
 * dealer.c - the dealer: opening it over a repository and a network, its
 * thread, and one cycle (see dealer.h for the cycle's steps and
 * dealer_i.h for how the work is split among the dealer_*.c files).
 *
 * The thread wakes every tick, or at once on dealer_wake, and runs a
 * cycle.  A cycle's failure to reach the chain is logged once (and
 * again when the message changes), then retried every tick: a Lotus
 * node that restarts must not stop the dealer.
 */
#include "dealer/dealer.h"
#include "dealer/dealer_i.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/db.h"
#include "core/error.h"
#include "core/log.h"
#include "core/wallet.h"
#include "dealer/dealproto.h"
#include "dealer/lotus.h"
#include "dealer/miners.h"
#include "dealer/mk12_client.h"
#include "dealer/piece.h"
#include "net/httpc.h"

#include "core/banned.h"

#define TICK_MS_DEFAULT 1000
#define EPOCH_S_MAINNET 30.0
/* The devnet's default epoch (estuaryfs-devnet --epoch). */
#define EPOCH_S_DEVNET 1.0
/* FIL the devnet's faucet keeps in the wallet, and DataCap (32 GiB). */
#define DEVNET_FUND_FIL "1000"
#define DEVNET_FUND_DATACAP "34359738368"

int64_t dealer_now(const struct dealer *d)
{
	return d->test_now ? d->test_now
			   : efs_clock_real_ns() / 1000000000LL;
}

int64_t dealer_epochs_s(const struct dealer *d, int64_t n)
{
	return (int64_t)((double)n * d->epoch_s + 0.5);
}

int64_t dealer_discover_interval(const struct dealer *d)
{
	int64_t s = d->cfg->check_interval;

	return s < 10 ? 10 : s > 600 ? 600 : s;
}

int64_t dealer_ask_refresh(const struct dealer *d)
{
	/* Half the age at which selection finds an ask stale. */
	(void)d;
	return 900;
}

int64_t dealer_published_interval(const struct dealer *d)
{
	int64_t s = dealer_epochs_s(d, 1);

	return s < 1 ? 1 : s;
}

int64_t dealer_pending_interval(const struct dealer *d)
{
	int64_t s = d->cfg->check_interval / 10;

	/* Two epochs: the SP's side moves no faster than the chain's
	 * (publication, sealing), and a deal waits at most that long to
	 * be seen moving. */
	if (s > dealer_epochs_s(d, 2))
		s = dealer_epochs_s(d, 2);
	return s < 1 ? 1 : s;
}

void dealer_block(struct dealer *d, enum dealer_block b, const char *fmt,
		  ...)
{
	char msg[DEALER_MSG_MAX] = "";
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	}
	if (strcmp(msg, d->blocked[b]) == 0)
		return;
	if (msg[0])
		efs_log_warn("dealer: %s", msg);
	else
		efs_log_notice("dealer: resolved: %s", d->blocked[b]);
	memcpy(d->blocked[b], msg, sizeof(msg));
	d->blocked_dirty = true;
}

/* ---- opening ---- */

/* The transfer server's source: pieces, with bandwidth accounting. */
static int tr_open(void **src, uint64_t *size, void *cls, int64_t piece_id)
{
	struct dealer *d = cls;

	return piece_transfer_open(src, size, d->ps, piece_id);
}

/*
 * Bytes of piece_id went to miner: counted per SP, day and commit; an
 * aggregate's bytes count for the commit whose part of the payload they
 * are, shared by the members' lengths.
 */
struct bw_share {
	struct dealer *d;
	struct filaddr miner;
	uint64_t bytes, total, left;
	int64_t now_ns;
};

static int bw_member(const struct piece_member *m, void *cls)
{
	struct bw_share *s = cls;
	uint64_t part = s->total ? (uint64_t)((double)s->bytes *
					      (double)m->length /
					      (double)s->total)
				 : 0;

	if (part > s->left)
		part = s->left;
	s->left -= part;
	return miners_bandwidth_add(s->d->miners, &s->miner, m->commit_id,
				    part, 0, s->now_ns);
}

static int bw_total(const struct piece_member *m, void *cls)
{
	((struct bw_share *)cls)->total += m->length;
	return 0;
}

static void tr_sent(void *cls, int64_t piece_id, const char *miner,
		    uint64_t bytes)
{
	struct bw_share s = { .d = cls, .bytes = bytes, .left = bytes };
	struct piece_info p;

	s.now_ns = efs_clock_real_ns();
	if (filaddr_parse(&s.miner, NULL, miner, strlen(miner)) < 0 ||
	    piece_get(&p, s.d->ps, piece_id) < 0)
		return;
	if (p.kind != PIECE_AGGREGATE) {
		miners_bandwidth_add(s.d->miners, &s.miner, p.commit_id, bytes,
				     0, s.now_ns);
		return;
	}
	if (piece_members(s.d->ps, piece_id, bw_total, &s) < 0 ||
	    piece_members(s.d->ps, piece_id, bw_member, &s) < 0)
		return;
	/* What rounding left over: the index and the padding. */
	if (s.left)
		miners_bandwidth_add(s.d->miners, &s.miner, 0, s.left, 0,
				     s.now_ns);
}

static int open_network(struct dealer *d, const struct dealer_opts *o)
{
	const struct dealer_config *c = d->cfg;
	struct bigint fil, cap;
	int rc;

	if (o->lotus_url) {
		rc = lotus_open(&d->lotus, o->lotus_url, o->lotus_token);
	} else if (c->devnet) {
		if ((rc = localnet_start(&d->ln, d->repo)) < 0)
			return rc;
		d->devnet = true;
		rc = lotus_open(&d->lotus, d->ln.url, d->ln.token);
	} else {
		rc = lotus_open(&d->lotus, c->lotus_url, c->lotus_token);
	}
	if (rc < 0)
		return rc;
	if ((rc = wallet_open(&d->wallet, d->repo)) < 0)
		return rc;
	rc = wallet_default(&d->client, d->wallet);
	if (rc == EFS_ENOTFOUND && d->devnet) {
		if ((rc = wallet_new(&d->client, d->wallet)) == 0)
			rc = wallet_set_default(d->wallet, &d->client);
		if (rc == 0)
			efs_log_notice("dealer: made wallet key for the "
				       "devnet");
	} else if (rc == EFS_ENOTFOUND) {
		return efs_error_set(EFS_EINVAL,
				     "dealer: the wallet has no default key: "
				     "make one with 'estuaryfs wallet new' and "
				     "fund it");
	}
	if (rc < 0)
		return rc;
	if (d->devnet) {
		bigint_parse_fil(&fil, DEVNET_FUND_FIL,
				 strlen(DEVNET_FUND_FIL));
		bigint_parse(&cap, DEVNET_FUND_DATACAP,
			     strlen(DEVNET_FUND_DATACAP));
		if ((rc = localnet_fund(d->lotus, &d->client, &fil,
					c->verified ? &cap : NULL)) < 0)
			return rc;
	}
	if (c->price_url)
		snprintf(d->price_url, sizeof(d->price_url), "%s",
			 c->price_url);
	else if (d->devnet)
		/* The devnet serves a price beside its Lotus API. */
		snprintf(d->price_url, sizeof(d->price_url), "%.*s/price",
			 (int)(strstr(d->ln.url, "/rpc/") ?
				       strstr(d->ln.url, "/rpc/") - d->ln.url
				       : (long)strlen(d->ln.url)),
			 d->ln.url);
	return mk12_client_new(&d->dp, d->wallet, NULL);
}

static int open_stores(struct dealer *d)
{
	struct piece_limits lim = PIECE_LIMITS_INIT;
	const struct dealer_config *c = d->cfg;
	int rc;

	lim.min_padded = c->aggregate_below;
	lim.agg_target_padded = c->aggregate_target;
	lim.agg_max_age_s = c->aggregate_max_age;
	lim.max_payload = c->max_payload;
	d->tr_ops.open = tr_open;
	d->tr_ops.read = piece_transfer_read;
	d->tr_ops.close = piece_transfer_close;
	d->tr_ops.sent = tr_sent;
	if ((rc = deals_open(&d->deals, d->db_path)) < 0 ||
	    (rc = piece_store_open(&d->ps, d->db_path, d->bs, &lim)) < 0 ||
	    (rc = miners_open(&d->miners, d->db_path, NULL)) < 0 ||
	    (rc = transfer_open(&d->tr, d->db_path, &d->tr_ops, d)) < 0 ||
	    (rc = dealer_report_open(d)) < 0)
		return rc;
	return 0;
}

/* The state a restart resumes: the commit cursor and a top-up in flight. */
static int load_state(struct dealer *d)
{
	json_t *v = dealer_report_get(d, "state");
	const char *msg;

	if (!v)
		return 0;
	d->commit_cursor = json_integer_value(json_object_get(v, "commits"));
	d->scan_cursor = d->commit_cursor;
	msg = json_string_value(json_object_get(v, "topup"));
	if (msg && cid_parse(&d->topup_msg, msg) == 0) {
		d->topup_pending = true;
		d->topup_at = json_integer_value(json_object_get(v,
								 "topup_at"));
	}
	json_decref(v);
	return 0;
}

static int report_network(struct dealer *d)
{
	char addr[FILADDR_STR_MAX];

	filaddr_format(addr, &d->client, 'f');
	return dealer_report_put(
		d, "network",
		json_pack("{s:s, s:s, s:s, s:I, s:I, s:b}", "kind",
			  d->devnet ? "devnet" : "lotus", "url",
			  lotus_url(d->lotus), "wallet", addr, "started",
			  (json_int_t)d->now, "replication",
			  (json_int_t)d->cfg->replication, "verified",
			  d->cfg->verified));
}

int dealer_open(struct dealer **out, const struct dealer_opts *o,
		const struct dealer_config *cfg)
{
	struct dealer *d;
	int rc;

	*out = NULL;
	if (!o->transfer_base || !httpc_url_ok(o->transfer_base))
		return efs_error_set(EFS_EINVAL,
				     "dealer: transfer base URL '%s' is not "
				     "http(s)",
				     o->transfer_base ? o->transfer_base : "");
	if (!(d = efs_calloc(1, sizeof(*d))))
		return EFS_ENOMEM;
	d->ln.pid = -1;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	d->cfg = cfg;
	d->bs = o->bs;
	d->commits = o->commits;
	d->fetch_dag = o->fetch_dag;
	d->fetch_cls = o->fetch_cls;
	d->tick_ms = o->tick_ms ? o->tick_ms : TICK_MS_DEFAULT;
	d->test_now = o->test_now;
	d->now = dealer_now(d);
	d->epoch_s = o->epoch_seconds > 0 ? o->epoch_seconds
		     : cfg->devnet && !o->lotus_url ? EPOCH_S_DEVNET
						     : EPOCH_S_MAINNET;
	d->dirty = true;
	if (!(d->repo = efs_strdup(o->repo)) ||
	    !(d->transfer_base = efs_strdup(o->transfer_base)) ||
	    !(d->db_path = efs_malloc(strlen(o->repo) + 16))) {
		rc = EFS_ENOMEM;
		goto fail;
	}
	snprintf(d->db_path, strlen(o->repo) + 16, "%s/index.db", o->repo);
	if ((rc = open_stores(d)) < 0 || (rc = load_state(d)) < 0 ||
	    (rc = open_network(d, o)) < 0 || (rc = report_network(d)) < 0)
		goto fail;
	*out = d;
	return 0;
fail:
	dealer_close(d);
	return rc;
}

/* ---- the cycle ---- */

static int save_state(struct dealer *d)
{
	char msg[CID_STR_MAX];

	return dealer_report_put(
		d, "state",
		json_pack("{s:I, s:s?, s:I}", "commits",
			  (json_int_t)d->commit_cursor, "topup",
			  d->topup_pending ? cid_tostr(msg, &d->topup_msg)
					   : NULL,
			  "topup_at", (json_int_t)d->topup_at));
}

static void keep_rc(struct dealer *d, int rc)
{
	if (rc < 0 && d->cur.rc == 0)
		d->cur.rc = rc;
}

int dealer_cycle(struct dealer_cycle_stats *out, struct dealer *d)
{
	uint64_t req0 = lotus_requests(d->lotus), calls0 = lotus_calls(d->lotus);
	int64_t t0 = efs_clock_real_ns();
	int rc;

	memset(&d->cur, 0, sizeof(d->cur));
	d->now = dealer_now(d);
	d->cur.time = d->now;
	d->funds_ok = false;
	if ((rc = lotus_chain_head(&d->head, d->lotus)) < 0) {
		d->cur.rc = rc;
		goto out;
	}
	d->cur.head = d->head;
	keep_rc(d, dealer_sync_commits(d));
	if (d->now >= d->next_discover)
		keep_rc(d, dealer_discover(d));
	/* Checks first: the funds and the reservations of deals not yet
	 * published are then read at one moment. */
	keep_rc(d, dealer_check(d));
	keep_rc(d, dealer_funds(d));
	keep_rc(d, dealer_replicate(d));
	if (d->stopped) {
		d->stopped = false;
		rc = efs_error_set(EFS_ECANCELED, "dealer: test stop");
		goto out;
	}
	keep_rc(d, save_state(d));
out:
	d->cur.duration_us = (uint64_t)(efs_clock_real_ns() - t0) / 1000;
	d->cur.rpc_requests = lotus_requests(d->lotus) - req0;
	d->cur.rpc_calls = lotus_calls(d->lotus) - calls0;
	if (rc == 0)
		keep_rc(d, dealer_report_cycle(d));
	pthread_mutex_lock(&d->lock);
	d->last = d->cur;
	pthread_mutex_unlock(&d->lock);
	if (out)
		*out = d->cur;
	return rc;
}

void dealer_cycle_stats(struct dealer_cycle_stats *out, struct dealer *d)
{
	pthread_mutex_lock(&d->lock);
	*out = d->last;
	pthread_mutex_unlock(&d->lock);
}

/* ---- the thread ---- */

static void *loop(void *arg)
{
	struct dealer *d = arg;
	char last_err[256] = "";
	struct timespec until;
	int rc;

	pthread_mutex_lock(&d->lock);
	while (!d->stop) {
		d->wake = false;
		pthread_mutex_unlock(&d->lock);
		if ((rc = dealer_cycle(NULL, d)) < 0) {
			if (strcmp(last_err, efs_error_msg()) != 0) {
				snprintf(last_err, sizeof(last_err), "%s",
					 efs_error_msg());
				efs_log_warn("dealer: cycle: %s", last_err);
			}
		} else if (last_err[0]) {
			efs_log_notice("dealer: the chain answers again");
			last_err[0] = '\0';
		}
		pthread_mutex_lock(&d->lock);
		efs_clock_deadline(&until, CLOCK_MONOTONIC, d->tick_ms);
		while (!d->stop && !d->wake &&
		       pthread_cond_timedwait(&d->cond, &d->lock, &until) == 0)
			;
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

int dealer_start(struct dealer *d)
{
	pthread_condattr_t ca;
	int err;

	/* The waits are on CLOCK_MONOTONIC: a clock step must not stall
	 * the loop. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_destroy(&d->cond);
	pthread_cond_init(&d->cond, &ca);
	pthread_condattr_destroy(&ca);
	if ((err = pthread_create(&d->thread, NULL, loop, d)) != 0)
		return efs_error_set_errno(EFS_ERROR, err,
					   "dealer: cannot start its thread");
	pthread_setname_np(d->thread, "efs-dealer");
	d->running = true;
	efs_log_notice("dealer: running: %u deals per commit, %s, on %s",
		       d->cfg->replication,
		       d->cfg->verified ? "verified" : "unverified",
		       d->devnet ? "the local devnet" : lotus_url(d->lotus));
	return 0;
}

void dealer_test_stop(struct dealer *d, enum dealer_test_point point)
{
	d->test_stop = point;
}

void dealer_wake(struct dealer *d)
{
	pthread_mutex_lock(&d->lock);
	d->wake = true;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

struct transfer *dealer_transfer(struct dealer *d)
{
	return d->tr;
}

void dealer_close(struct dealer *d)
{
	if (!d)
		return;
	if (d->running) {
		pthread_mutex_lock(&d->lock);
		d->stop = true;
		pthread_cond_signal(&d->cond);
		pthread_mutex_unlock(&d->lock);
		pthread_join(d->thread, NULL);
	}
	dealproto_free(d->dp);
	transfer_close(d->tr);
	miners_close(d->miners);
	piece_store_close(d->ps);
	deals_close(d->deals);
	db_close(d->rdb);
	lotus_close(d->lotus);
	wallet_close(d->wallet);
	localnet_stop(&d->ln);
	efs_free(d->retries);
	efs_free(d->transfer_base);
	efs_free(d->db_path);
	efs_free(d->repo);
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->lock);
	efs_free(d);
}
