/*
 * dealer_sync.c - what the dealer learns each cycle before it acts: new
 * commits (into the piece store), the storage providers and their asks,
 * and the FIL/USD price.
 *
 * Commits: the source is asked for commits above the cursor; each goes
 * to piece_add_commit.  One that fails (a block evicted or missing, a
 * full disk) is kept in a retry list and tried again with a growing
 * delay while the cursor moves on, so one bad commit holds up no other;
 * the cursor stored in the report ("state") is the highest commit below
 * which every commit was taken, so a restart takes again only what
 * needs it (piece_add_commit of a commit already taken is cheap).
 *
 * SPs: the configured list, or the chain's miner list.  Mainnet lists
 * hundreds of thousands of miners, nearly all without an HTTP deal
 * endpoint, so each discovery round reads the miner info of at most
 * DISCOVER_BATCH of them (one batch request), moving on through the list
 * from round to round; an SP once found stays known.  Asks are fetched
 * for SPs whose ask is older than half its allowed age, at most
 * ASKS_PER_ROUND per round.
 */
#include "dealer/dealer_i.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "core/multiaddr.h"
#include "dealer/dealproto.h"
#include "dealer/lotus.h"
#include "dealer/lotus_decode.h"
#include "dealer/miners.h"
#include "dealer/piece.h"
#include "net/httpc.h"

#include "core/banned.h"

#define DISCOVER_BATCH 500
#define ASKS_PER_ROUND 32
#define RETRY_MIN_S 30
#define RETRY_MAX_S 3600
/* Commits taken in one cycle: the rest wait for the next. */
#define COMMITS_PER_CYCLE 256

/* ---- commits ---- */

static void retry_add(struct dealer *d, int64_t id, const struct cid *root)
{
	struct dealer_retry *r = NULL;
	int64_t wait;

	for (size_t i = 0; i < d->nretries; i++)
		if (d->retries[i].id == id)
			r = &d->retries[i];
	if (!r) {
		r = efs_realloc(d->retries,
				(d->nretries + 1) * sizeof(*d->retries));
		if (!r)
			return; /* the cursor stays: found again on restart */
		d->retries = r;
		r = &d->retries[d->nretries++];
		memset(r, 0, sizeof(*r));
		r->id = id;
		r->root = *root;
	}
	wait = (int64_t)RETRY_MIN_S << (r->tries < 7 ? r->tries : 7);
	r->at = d->now + (wait < RETRY_MAX_S ? wait : RETRY_MAX_S);
	r->tries++;
}

static void retry_drop(struct dealer *d, size_t i)
{
	d->retries[i] = d->retries[--d->nretries];
}

static int take(struct dealer *d, int64_t id, const struct cid *root)
{
	char s[CID_STR_MAX];
	int rc;

	rc = piece_add_commit(d->ps, id, root);
	/* A commit sharing blocks evicted since: fetch them back, once. */
	if (rc == EFS_EEVICTED && d->fetch_dag) {
		efs_log_info("dealer: commit %lld shares evicted blocks: "
			     "fetching them back", (long long)id);
		if ((rc = d->fetch_dag(d->fetch_cls, root)) == 0)
			rc = piece_add_commit(d->ps, id, root);
	}
	if (rc < 0) {
		dealer_block(d, DEALER_BLOCK_COMMITS,
			     "commit %lld (%s) cannot be made into a piece: "
			     "%s; trying again later",
			     (long long)id, cid_tostr(s, root),
			     efs_error_msg());
		return rc;
	}
	d->cur.commits++;
	d->dirty = true;
	return 0;
}

struct take_ctx {
	struct dealer *d;
	int64_t high;       /* highest id seen */
	size_t n;
};

static int take_cb(int64_t id, const struct cid *root, void *cls)
{
	struct take_ctx *t = cls;

	if (take(t->d, id, root) < 0)
		retry_add(t->d, id, root);
	t->high = id;
	return ++t->n >= COMMITS_PER_CYCLE;
}

int dealer_sync_commits(struct dealer *d)
{
	struct take_ctx t = { .d = d, .high = d->scan_cursor };
	size_t closed = 0;
	int rc = 0;

	for (size_t i = 0; i < d->nretries;) {
		if (d->retries[i].at > d->now) {
			i++;
		} else if (take(d, d->retries[i].id, &d->retries[i].root) ==
			   0) {
			retry_drop(d, i);
		} else {
			retry_add(d, d->retries[i].id, &d->retries[i].root);
			i++;
		}
	}
	if (d->commits.list &&
	    (rc = d->commits.list(d->commits.cls, d->scan_cursor, take_cb,
				  &t)) < 0)
		efs_log_warn("dealer: listing commits: %s", efs_error_msg());
	/* The saved cursor stops below the oldest commit still to retry,
	 * so a restart tries it again. */
	d->scan_cursor = t.high;
	d->commit_cursor = t.high;
	for (size_t i = 0; i < d->nretries; i++)
		if (d->retries[i].id - 1 < d->commit_cursor)
			d->commit_cursor = d->retries[i].id - 1;
	if (d->nretries == 0)
		dealer_block(d, DEALER_BLOCK_COMMITS, NULL);
	rc = rc < 0 ? rc : 0;
	if (piece_tick(d->ps, d->now, &closed) < 0) {
		efs_log_warn("dealer: closing aggregates: %s",
			     efs_error_msg());
		rc = rc ? rc : EFS_ERROR;
	}
	d->cur.closed = closed;
	if (closed)
		d->dirty = true;
	return rc;
}

/* ---- storage providers ---- */

/* The first of mi's multiaddrs that makes an HTTP URL, into url. */
static bool http_url(char *url, size_t cap,
		     const struct lotus_miner_info *mi)
{
	for (size_t i = 0; i < mi->nmultiaddrs; i++)
		if (multiaddr_http_url(url, cap, mi->multiaddrs[i].bytes,
				       mi->multiaddrs[i].len) > 0)
			return true;
	return false;
}

/* Read the miner info of miners[0..n) in one batch and record them. */
static int discover_batch(struct dealer *d, const struct filaddr *miners,
			  size_t n, enum miners_source source)
{
	char addr[FILADDR_STR_MAX], url[MULTIADDR_URL_MAX];
	int64_t now_ns = efs_clock_real_ns();
	struct lotus_miner_info mi;
	struct lotus_batch *b;
	struct miner_info info;
	json_t *v;
	int rc;

	if ((rc = lotus_batch_new(&b)) < 0)
		return rc;
	for (size_t i = 0; i < n && rc >= 0; i++) {
		filaddr_format(addr, &miners[i], 'f');
		rc = lotus_batch_add(b, "StateMinerInfo",
				     json_pack("[s, n]", addr));
	}
	if (rc < 0 || (rc = lotus_batch_run(d->lotus, b)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (lotus_batch_result(&v, b, i) < 0 ||
		    lotus_decode_miner_info(&mi, v) < 0)
			continue;
		memset(&info, 0, sizeof(info));
		info.addr = miners[i];
		info.url = http_url(url, sizeof(url), &mi) ? url : NULL;
		info.peer_id = mi.peer_id[0] ? mi.peer_id : NULL;
		info.sector_size = mi.sector_size;
		info.source = source;
		/* Chain miners without an HTTP endpoint are not worth a row. */
		if (info.url || source == MINERS_SOURCE_CONFIG)
			rc = miners_upsert(d->miners, &info, now_ns);
		lotus_miner_info_release(&mi);
		if (rc < 0)
			break;
	}
out:
	lotus_batch_free(b);
	return rc;
}

static int discover_miners(struct dealer *d)
{
	const struct dealer_config *c = d->cfg;
	struct filaddr *all = NULL;
	size_t n = 0, k;
	int rc;

	if (c->nminers)
		return discover_batch(d, c->miners, c->nminers,
				      MINERS_SOURCE_CONFIG);
	if ((rc = lotus_list_miners(&all, &n, d->lotus)) < 0)
		return rc;
	if (d->discover_pos >= n)
		d->discover_pos = 0;
	k = n - d->discover_pos < DISCOVER_BATCH ? n - d->discover_pos
						  : DISCOVER_BATCH;
	rc = discover_batch(d, all + d->discover_pos, k, MINERS_SOURCE_CHAIN);
	d->discover_pos += k;
	efs_free(all);
	return rc;
}

/* An SP to ask: copied out of the miners' callback (which holds its
 * lock). */
struct ask_target {
	struct filaddr addr;
	char url[MULTIADDR_URL_MAX];
};

struct ask_list {
	struct dealer *d;
	struct ask_target t[ASKS_PER_ROUND];
	size_t n;
	int64_t now_ns, stale_ns;
};

static int ask_pick(const struct miner_record *r, void *cls)
{
	struct ask_list *l = cls;

	if (!r->url || r->disabled || r->backoff_until_ns > l->now_ns ||
	    (r->has_ask && r->ask_time_ns > l->now_ns - l->stale_ns))
		return 0;
	l->t[l->n].addr = r->addr;
	snprintf(l->t[l->n].url, sizeof(l->t[l->n].url), "%s", r->url);
	return ++l->n == ASKS_PER_ROUND;
}

void dealer_miner_log(struct dealer *d, const struct filaddr *addr,
		      enum miners_action act, const struct dealproto_call *c,
		      const uint8_t *uuid, const char *piece)
{
	struct miner_event ev = {
		.addr = *addr,
		.time_ns = efs_clock_real_ns(),
		.action = act,
		.outcome = (enum miners_outcome)c->outcome,
		.latency_us = (int64_t)c->latency_us,
		.bytes_up = c->bytes_up,
		.bytes_down = c->bytes_down,
		.piece_cid = piece,
		.detail = c->detail[0] ? c->detail : NULL,
	};

	if (uuid) {
		ev.has_deal_uuid = true;
		memcpy(ev.deal_uuid, uuid, sizeof(ev.deal_uuid));
	}
	d->cur.sp_calls++;
	if (miners_log(d->miners, &ev) < 0)
		efs_log_warn("dealer: miner log: %s", efs_error_msg());
}

static int fetch_asks(struct dealer *d)
{
	struct ask_list l = { .d = d };
	struct dealproto_ask ask;
	struct dealproto_call call;
	struct dealproto_sp sp;
	struct miner_ask ma;
	int rc;

	l.now_ns = efs_clock_real_ns();
	l.stale_ns = MINERS_NS_PER_SEC * dealer_ask_refresh(d);
	if ((rc = miners_foreach(d->miners, ask_pick, &l)) < 0)
		return rc;
	for (size_t i = 0; i < l.n; i++) {
		sp.addr = l.t[i].addr;
		sp.url = l.t[i].url;
		if ((rc = dealproto_ask(&ask, &call, d->dp, &sp)) < 0)
			efs_log_warn("dealer: ask: %s", efs_error_msg());
		dealer_miner_log(d, &sp.addr, MINERS_ACT_ASK, &call, NULL, NULL);
		if (rc < 0 || call.outcome != DEALPROTO_OK)
			continue;
		ma.price = ask.price;
		ma.verified_price = ask.verified_price;
		ma.min_piece = ask.min_piece;
		ma.max_piece = ask.max_piece;
		ma.expiry = ask.expiry;
		if (miners_set_ask(d->miners, &sp.addr, &ma, l.now_ns) < 0)
			efs_log_warn("dealer: ask of an SP: %s",
				     efs_error_msg());
	}
	return 0;
}

/* Keep the configuration's exclude list as disabled SPs. */
static void apply_excludes(struct dealer *d)
{
	for (size_t i = 0; i < d->cfg->nexclude; i++)
		miners_set_disabled(d->miners, &d->cfg->exclude[i], true,
				    "excluded in config.json");
}

/* ---- the FIL/USD price ---- */

static int fetch_price(struct dealer *d)
{
	struct httpc_req req = HTTPC_REQ_INIT("GET", d->price_url);
	struct httpc_resp resp;
	json_t *v = NULL, *usd;
	char rate[64];
	int rc;

	if (d->cfg->fil_usd)
		return dealer_report_put(
			d, "price",
			json_pack("{s:s, s:s, s:I}", "fil_usd", d->cfg->fil_usd,
				  "source", "config.json price.fil_usd",
				  "time", (json_int_t)d->now));
	if (!d->price_url[0])
		return 0;
	req.timeout_ms = 10000;
	req.max_body = 64 << 10;
	rc = httpc_do(&resp, &req);
	if (rc == 0 && resp.status == 200)
		v = json_loadb((const char *)resp.body.ptr, resp.body.len, 0,
			       NULL);
	httpc_resp_release(&resp);
	usd = json_object_get(json_object_get(v, "filecoin"), "usd");
	if (!json_is_number(usd) || json_number_value(usd) <= 0) {
		json_decref(v);
		efs_log_info("dealer: no FIL/USD price from %s", d->price_url);
		return 0;
	}
	snprintf(rate, sizeof(rate), "%.6g", json_number_value(usd));
	json_decref(v);
	return dealer_report_put(d, "price",
				 json_pack("{s:s, s:s, s:I}", "fil_usd", rate,
					   "source", d->price_url, "time",
					   (json_int_t)d->now));
}

int dealer_discover(struct dealer *d)
{
	int rc;

	d->next_discover = d->now + dealer_discover_interval(d);
	if ((rc = discover_miners(d)) < 0)
		efs_log_warn("dealer: listing storage providers: %s",
			     efs_error_msg());
	apply_excludes(d);
	if (fetch_asks(d) < 0)
		efs_log_warn("dealer: asks: %s", efs_error_msg());
	fetch_price(d);
	/* New asks may make SPs eligible for pieces that found none. */
	d->dirty = true;
	return rc;
}
