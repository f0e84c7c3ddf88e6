/*
 * dealer_propose.c - funds and proposals: keeping the market escrow
 * ahead of the deals about to be made, checking DataCap, and proposing
 * deals for every piece with fewer than N counting deals.
 *
 * Money: a deal locks price per epoch x duration of the client's escrow
 * when it is published (verified deals usually cost 0) and, when
 * verified, its padded size of DataCap.  Deals proposed but not yet
 * published will take theirs later, so they are reserved first
 * (deals_foreach_pending) and a new proposal goes out only when what is
 * left covers it.  When the escrow is short, one AddBalance message
 * (funds_add_escrow) adds the shortfall plus the configured margin;
 * while it is in flight nothing that needs escrow is proposed.  When the
 * wallet cannot pay for it, or DataCap is short, the dealer says so in
 * its log and report ("blocked") and goes on with what it can do.
 *
 * A proposal: the deal row (PROPOSING, the signed proposal, its UUID)
 * is written first, then sent (see dealer.h on restarts).  The SP pulls
 * the CAR from a secret URL made for this deal only (transfer.h).
 */
#include "dealer/dealer_i.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/db.h"
#include "core/error.h"
#include "core/log.h"
#include "core/mk12.h"
#include "dealer/dealproto.h"
#include "dealer/lotus.h"
#include "dealer/miners.h"
#include "dealer/mk12_client.h"
#include "dealer/piece.h"

#include "core/banned.h"

/* Proposals sent in one cycle: the rest go in the next. */
#define PROPOSALS_PER_CYCLE 64
/* An SP that failed or rejected a piece is not asked for it again for
 * this long (seconds). */
#define FAILED_SP_HOLD (7 * 86400)
/* A top-up not landed after this long is given up and sent again. */
#define TOPUP_TIMEOUT_S 1800
/* Most SPs one piece can have been tried with. */
#define EXCLUDE_MAX 256

enum outcome {
	SENT = 0,       /* proposed (whatever the SP said) */
	NO_FUNDS,       /* escrow short: stop proposing this cycle */
	NO_DATACAP,     /* DataCap short: stop verified proposals */
	SKIPPED,        /* this SP cannot take it now */
	STOPPED,        /* a test stop was reached */
};

/* Whether the test stop at point is reached now (then once only). */
static bool test_stop(struct dealer *d, enum dealer_test_point point)
{
	if (d->test_stop != point)
		return false;
	d->test_stop = DEALER_TEST_NONE;
	d->stopped = true;
	return true;
}

int dealer_piece(struct piece_info *out, struct dealer *d, int64_t piece_id)
{
	return piece_get(out, d->ps, piece_id);
}

/* ---- funds ---- */

struct reserve {
	struct dealer *d;
	int rc;
};

static int reserve_cb(const struct deal *dl, void *cls)
{
	struct reserve *r = cls;
	struct bigint epochs, cost;
	int rc;

	if (dl->verified)
		r->d->datacap_reserved += dl->padded;
	bigint_from_i64(&epochs, dl->end_epoch - dl->start_epoch);
	if ((rc = bigint_mul(&cost, &dl->price, &epochs)) < 0 ||
	    (rc = bigint_add(&r->d->escrow_reserved, &r->d->escrow_reserved,
			     &cost)) < 0)
		r->rc = rc;
	return 0;
}

static void topup_follow(struct dealer *d)
{
	struct lotus_receipt rcpt;
	char msg[CID_STR_MAX];
	bool found;

	if (!d->topup_pending)
		return;
	cid_tostr(msg, &d->topup_msg);
	if (lotus_search_msg(&rcpt, &found, d->lotus, &d->topup_msg) < 0)
		return;
	if (found) {
		d->topup_pending = false;
		if (rcpt.exit_code == 0) {
			efs_log_notice("dealer: escrow top-up %s landed at "
				       "epoch %lld",
				       msg, (long long)rcpt.height);
			dealer_block(d, DEALER_BLOCK_FUNDS, NULL);
		} else {
			dealer_block(d, DEALER_BLOCK_FUNDS,
				     "escrow top-up %s failed on chain "
				     "(exit code %lld)",
				     msg, (long long)rcpt.exit_code);
		}
		d->dirty = true;
	} else if (d->now - d->topup_at > TOPUP_TIMEOUT_S) {
		efs_log_warn("dealer: escrow top-up %s not on chain after "
			     "%d min: sending another",
			     msg, TOPUP_TIMEOUT_S / 60);
		d->topup_pending = false;
	}
}

int dealer_funds(struct dealer *d)
{
	struct reserve r = { .d = d };
	int rc;

	memset(&d->escrow_reserved, 0, sizeof(d->escrow_reserved));
	d->datacap_reserved = 0;
	if ((rc = funds_status(&d->funds, d->lotus, &d->client)) < 0) {
		efs_log_warn("dealer: reading the wallet's funds: %s",
			     efs_error_msg());
		return rc;
	}
	topup_follow(d);
	if ((rc = deals_foreach_pending(d->deals, reserve_cb, &r)) < 0)
		return rc;
	if (r.rc < 0)
		return r.rc;
	d->funds_ok = true;
	return 0;
}

/* Ask for amount more escrow than is available (plus the margin). */
static void topup(struct dealer *d, const struct bigint *shortfall)
{
	char fil[BIGINT_STR_MAX + 8], msg[CID_STR_MAX];
	struct bigint amount;

	if (d->topup_pending) {
		dealer_block(d, DEALER_BLOCK_FUNDS,
			     "waiting for escrow top-up %s to land",
			     cid_tostr(msg, &d->topup_msg));
		return;
	}
	if (bigint_add(&amount, shortfall, &d->cfg->escrow_margin) < 0)
		return;
	bigint_format_fil(fil, &amount);
	if (funds_add_escrow(&d->topup_msg, d->lotus, d->wallet, &d->client,
			     &amount) < 0) {
		dealer_block(d, DEALER_BLOCK_FUNDS, "escrow short by %s: %s",
			     fil, efs_error_msg());
		return;
	}
	d->topup_pending = true;
	d->topup_at = d->now;
	cid_tostr(msg, &d->topup_msg);
	efs_log_notice("dealer: adding %s to the market escrow (message %s)",
		       fil, msg);
	dealer_block(d, DEALER_BLOCK_FUNDS,
		     "waiting for escrow top-up of %s (%s) to land", fil, msg);
}

/* Whether the escrow covers cost more; asks for a top-up when not. */
static bool escrow_covers(struct dealer *d, const struct bigint *cost)
{
	struct bigint need, short_by;

	if (bigint_is_zero(cost))
		return true;
	if (bigint_add(&need, &d->escrow_reserved, cost) < 0)
		return false;
	if (bigint_cmp(&d->funds.available, &need) >= 0)
		return true;
	if (bigint_sub(&short_by, &need, &d->funds.available) == 0)
		topup(d, &short_by);
	return false;
}

static bool datacap_covers(struct dealer *d, uint64_t padded)
{
	if (funds_datacap_check(&d->funds, d->datacap_reserved + padded) ==
	    0)
		return true;
	dealer_block(d, DEALER_BLOCK_DATACAP, "verified deals stopped: %s",
		     efs_error_msg());
	return false;
}

/* ---- proposals ---- */

static int collateral(struct bigint *out, struct dealer *d, uint64_t padded)
{
	struct bigint max;
	int rc;

	if (d->coll.head == d->head && d->coll.padded == padded) {
		*out = d->coll.min;
		return 0;
	}
	if ((rc = lotus_collateral_bounds(out, &max, d->lotus, padded,
					  d->cfg->verified)) < 0)
		return rc;
	d->coll.head = d->head;
	d->coll.padded = padded;
	d->coll.min = *out;
	return 0;
}

/*
 * Fill dd for deal dl of piece p with a new transfer token: a new
 * proposal, or the re-sending of one (same UUID, epochs and amounts:
 * the same signed proposal).  url keeps the URL text dd points to.
 */
static int deal_desc(struct dealproto_deal *dd, struct buf *url,
		     char *label, struct dealer *d, const struct deal *dl,
		     const struct piece_info *p)
{
	char tok[TRANSFER_TOKEN_MAX], miner[FILADDR_STR_MAX];
	int64_t expires;
	int rc;

	filaddr_format(miner, &dl->miner, 'f');
	expires = d->now + dealer_epochs_s(d, dl->start_epoch - d->head) +
		  3600;
	if (expires <= d->now)
		expires = d->now + 3600;
	if ((rc = transfer_token_new(tok, d->tr, p->id, dl->uuid, miner,
				     expires)) < 0 ||
	    (rc = transfer_url(url, d->transfer_base, tok)) < 0)
		return rc;
	memset(dd, 0, sizeof(*dd));
	memcpy(dd->uuid, dl->uuid, sizeof(dd->uuid));
	dd->piece_cid = p->cid;
	dd->piece_size = p->padded;
	dd->payload_size = p->payload;
	if (p->has_label) {
		dd->root = &p->label;
		dd->label = cid_tostr(label, &p->label);
	}
	dd->client = d->client;
	dd->provider = dl->miner;
	dd->start_epoch = dl->start_epoch;
	dd->end_epoch = dl->end_epoch;
	dd->price_per_epoch = dl->price;
	dd->provider_collateral = dl->collateral;
	dd->verified = dl->verified;
	dd->transfer_url = (const char *)url->ptr;
	return 0;
}

/* Send dd to sp for deal row dl and move the row by the answer. */
static void send(struct dealer *d, const struct deal *dl,
		 const struct dealproto_deal *dd, const struct dealproto_sp *sp)
{
	char piece[CID_STR_MAX], why[DEALER_MSG_MAX];
	struct dealproto_proposal ids;
	struct dealproto_call call;
	int64_t next = d->now + dealer_pending_interval(d);
	int rc;

	cid_tostr(piece, &dl->piece_cid);
	rc = dealproto_propose(&ids, &call, d->dp, sp, dd);
	dealer_miner_log(d, &dl->miner, MINERS_ACT_PROPOSE, &call, dl->uuid,
			 piece);
	d->cur.proposed++;
	if (test_stop(d, DEALER_TEST_SENT))
		return;
	if (rc == 0 && call.outcome == DEALPROTO_OK) {
		d->cur.accepted++;
		d->cur.changed++;
		deals_set_state(d->deals, dl->id, DEAL_ACCEPTED, NULL, next,
				d->now);
		return;
	}
	if (rc < 0 || call.outcome == DEALPROTO_REJECTED) {
		if (rc < 0)
			snprintf(why, sizeof(why), "could not propose: %s",
				 call.detail);
		else
			snprintf(why, sizeof(why), "rejected (%s): %s",
				 dealproto_reason_name(call.reason),
				 call.detail);
		d->cur.changed++;
		d->dirty = true;
		deals_set_state(d->deals, dl->id,
				rc < 0 ? DEAL_FAILED : DEAL_REJECTED, why,
				d->now, d->now);
		transfer_revoke(d->tr, dl->uuid);
		if (call.reason == DEALPROTO_REASON_DATACAP)
			dealer_block(d, DEALER_BLOCK_DATACAP,
				     "%s rejected a verified deal: %s",
				     piece, call.detail);
		return;
	}
	/* No answer: the SP may or may not have it; its status says. */
	snprintf(why, sizeof(why), "%s: %s",
		 dealproto_outcome_name(call.outcome), call.detail);
	deals_check_failed(d->deals, dl->id, why, next, d->now);
}

/* The SP's endpoint and ask; false when it has none usable now. */
static bool sp_of(struct miner_record *rec, struct dealer *d,
		  const struct filaddr *miner)
{
	if (miners_get(rec, d->miners, miner) < 0)
		return false;
	if (!rec->url || !rec->has_ask) {
		miners_record_release(rec);
		return false;
	}
	return true;
}

static enum outcome propose(struct dealer *d, const struct piece_info *p,
			    const struct filaddr *miner)
{
	char label[CID_STR_MAX];
	struct buf url = BUF_INIT(4096);
	struct mk12_deal_params params;
	struct dealproto_proposal ids;
	struct dealproto_deal dd;
	struct dealproto_sp sp;
	struct miner_record rec;
	struct bigint epochs, cost;
	struct deal dl;
	enum outcome out = SKIPPED;
	int rc;

	if (!sp_of(&rec, d, miner))
		return SKIPPED;
	memset(&dl, 0, sizeof(dl));
	dl.proposal = (struct buf)BUF_INIT(MK12_STORE_BODY_MAX);
	memset(&params, 0, sizeof(params));
	dl.verified = d->cfg->verified;
	if (dealproto_price_per_epoch(&dl.price,
				      dl.verified ? &rec.ask.verified_price
						  : &rec.ask.price,
				      p->padded) < 0)
		goto out;
	bigint_from_i64(&epochs, d->cfg->duration);
	if (bigint_mul(&cost, &dl.price, &epochs) < 0)
		goto out;
	if (dl.verified && !datacap_covers(d, p->padded)) {
		out = NO_DATACAP;
		goto out;
	}
	if (!escrow_covers(d, &cost)) {
		out = NO_FUNDS;
		goto out;
	}
	if (collateral(&dl.collateral, d, p->padded) < 0) {
		efs_log_warn("dealer: collateral bounds: %s", efs_error_msg());
		goto out;
	}
	if (mk12_uuid_generate(dl.uuid) < 0)
		goto out;
	dl.piece_id = p->id;
	dl.piece_cid = p->cid;
	dl.padded = p->padded;
	dl.miner = *miner;
	snprintf(dl.proto, sizeof(dl.proto), "%s", "mk12");
	dl.state = DEAL_PROPOSING;
	dl.start_epoch = d->head + d->cfg->start_delay;
	dl.end_epoch = dl.start_epoch + d->cfg->duration;
	dl.created = d->now;
	dl.next_check = d->now + dealer_pending_interval(d);
	if ((rc = deal_desc(&dd, &url, label, d, &dl, p)) < 0 ||
	    (rc = mk12_client_build(&params, &ids, d->wallet, &dd)) < 0 ||
	    (rc = mk12_client_proposal_encode(&dl.proposal,
					      &params.proposal)) < 0) {
		efs_log_warn("dealer: building a proposal: %s",
			     efs_error_msg());
		goto out;
	}
	dl.proposal_cid = ids.proposal_cid;
	dl.signed_cid = ids.signed_proposal_cid;
	if (deals_insert(d->deals, &dl) < 0) {
		efs_log_warn("dealer: recording a deal: %s", efs_error_msg());
		goto out;
	}
	if (dl.verified)
		d->datacap_reserved += p->padded;
	bigint_add(&d->escrow_reserved, &d->escrow_reserved, &cost);
	if (test_stop(d, DEALER_TEST_RECORDED)) {
		out = STOPPED;
		goto out;
	}
	sp.addr = *miner;
	sp.url = rec.url;
	send(d, &dl, &dd, &sp);
	out = d->stopped ? STOPPED : SENT;
out:
	mk12_deal_params_release(&params);
	buf_release(&dl.proposal);
	buf_release(&url);
	miners_record_release(&rec);
	return out;
}

int dealer_resend(struct dealer *d, const struct deal *dl)
{
	char label[CID_STR_MAX];
	struct buf url = BUF_INIT(4096);
	struct dealproto_deal dd;
	struct dealproto_sp sp;
	struct miner_record rec;
	struct piece_info p;
	int rc;

	if ((rc = dealer_piece(&p, d, dl->piece_id)) < 0)
		return rc;
	if (!sp_of(&rec, d, &dl->miner))
		return efs_error_set(EFS_ENOTFOUND,
				     "dealer: the SP has no endpoint now");
	if ((rc = deal_desc(&dd, &url, label, d, dl, &p)) == 0) {
		sp.addr = dl->miner;
		sp.url = rec.url;
		send(d, dl, &dd, &sp);
	}
	buf_release(&url);
	miners_record_release(&rec);
	return rc;
}

/* ---- replication ---- */

struct exclude {
	struct filaddr a[EXCLUDE_MAX];
	size_t n;
	int64_t since;
};

static int exclude_cb(const struct deal *dl, void *cls)
{
	struct exclude *x = cls;

	/* Never two deals of a piece on one SP, nor one that failed it
	 * lately or slashed it ever. */
	if (deal_state_live(dl->state) || dl->state == DEAL_SLASHED ||
	    ((dl->state == DEAL_REJECTED || dl->state == DEAL_FAILED) &&
	     dl->updated >= x->since))
		for (size_t i = 0; i <= x->n && x->n < EXCLUDE_MAX; i++) {
			if (i == x->n) {
				x->a[x->n++] = dl->miner;
				break;
			}
			if (filaddr_equal(&x->a[i], &dl->miner))
				break;
		}
	return 0;
}

struct want {
	int64_t piece_id;
	unsigned missing, counting, active;
};

/*
 * The pieces seen by one scan, by CommP: two commits of the same tree
 * (a directory committed, deleted, copied back) make two pieces of one
 * piece CID, and SPs must not get the same piece twice.  The first
 * (oldest) piece of a CID is the one deals are made for.  Open
 * addressing over the CommP's first bytes (already uniform).
 */
struct seen {
	struct seen_slot {
		uint8_t root[COMMP_NODE_SIZE];
		uint64_t padded;
		int64_t piece_id;       /* 0: empty */
	} *slot;
	size_t cap, n;
};

/* The piece first seen with p's CommP, or 0 when p is the first. */
static int seen_add(int64_t *first, struct seen *s,
		    const struct piece_info *p)
{
	struct seen_slot *old = s->slot, *e;
	size_t oldcap = s->cap, i;
	uint64_t h;

	if (2 * (s->n + 1) > s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1024;
		if (!(s->slot = efs_calloc(s->cap, sizeof(*s->slot)))) {
			s->slot = old;
			s->cap = oldcap;
			return EFS_ENOMEM;
		}
		s->n = 0;
		for (i = 0; i < oldcap; i++)
			if (old[i].piece_id) {
				memcpy(&h, old[i].root, sizeof(h));
				for (h %= s->cap; s->slot[h].piece_id;
				     h = (h + 1) % s->cap)
					;
				s->slot[h] = old[i];
				s->n++;
			}
		efs_free(old);
	}
	memcpy(&h, p->piece.root, sizeof(h));
	for (h %= s->cap;; h = (h + 1) % s->cap) {
		e = &s->slot[h];
		if (!e->piece_id)
			break;
		if (e->padded == p->padded &&
		    memcmp(e->root, p->piece.root, COMMP_NODE_SIZE) == 0) {
			*first = e->piece_id;
			return 0;
		}
	}
	memcpy(e->root, p->piece.root, COMMP_NODE_SIZE);
	e->padded = p->padded;
	e->piece_id = p->id;
	s->n++;
	*first = 0;
	return 0;
}

struct scan {
	struct dealer *d;
	struct want *w;
	size_t n, cap;
	struct seen seen;
	int rc;
};

static int scan_cb(const struct piece_info *p, void *cls)
{
	struct scan *s = cls;
	unsigned counting, active;
	int64_t first;
	struct want *w;
	int rc;

	if ((rc = seen_add(&first, &s->seen, p)) < 0)
		return rc;
	if (first) {
		dealer_note(s->d, p->id,
			    "the same data as piece %lld, whose deals "
			    "replicate it",
			    (long long)first);
		return 0;
	}
	if ((rc = deals_count(&counting, &active, s->d->deals, p->id,
			      s->d->head, s->d->cfg->renew_window)) < 0)
		return rc;
	if (counting >= s->d->cfg->replication) {
		dealer_note(s->d, p->id,
			    "replicated: %u of %u deals active; checking "
			    "them every %llds",
			    active, s->d->cfg->replication,
			    (long long)s->d->cfg->check_interval);
		return 0;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		if (!(w = efs_realloc(s->w, s->cap * sizeof(*w))))
			return EFS_ENOMEM;
		s->w = w;
	}
	s->w[s->n++] = (struct want){ p->id, s->d->cfg->replication - counting,
				      counting, active };
	return 0;
}

/* Propose w->missing deals for one piece.  NO_FUNDS stops the cycle. */
static enum outcome replicate_one(struct dealer *d, const struct want *w,
				  bool *no_sp)
{
	struct miners_query q = MINERS_QUERY_INIT;
	struct filaddr picks[CONFIG_REPLICATION_MAX];
	struct exclude x = { .since = d->now - FAILED_SP_HOLD };
	struct piece_info p;
	size_t n = 0, sent = 0;
	enum outcome o = SENT;
	int rc;

	if (dealer_piece(&p, d, w->piece_id) < 0 ||
	    deals_foreach(d->deals, w->piece_id, false, exclude_cb, &x) < 0)
		return SKIPPED;
	q.want = w->missing;
	q.piece_size = p.padded;
	q.verified = d->cfg->verified;
	q.max_price = d->cfg->max_price;
	q.max_verified_price = d->cfg->max_verified_price;
	q.exclude = x.a;
	q.nexclude = x.n;
	q.now_ns = efs_clock_real_ns();
	q.head_epoch = d->head;
	if ((rc = miners_select(picks, &n, d->miners, &q)) < 0) {
		*no_sp = true;
		dealer_note(d, w->piece_id,
			    "%u of %u deals: waiting for an eligible storage "
			    "provider (%s)",
			    w->counting, d->cfg->replication, efs_error_msg());
		if (rc == EFS_ENOTFOUND)
			dealer_block(d, DEALER_BLOCK_MINERS, "%s",
				     efs_error_msg());
		return SKIPPED;
	}
	for (size_t i = 0; i < n && d->cur.proposed < PROPOSALS_PER_CYCLE;
	     i++) {
		o = propose(d, &p, &picks[i]);
		if (o == NO_FUNDS || o == NO_DATACAP || o == STOPPED)
			break;
		sent += o == SENT;
	}
	if (o == NO_FUNDS || o == NO_DATACAP)
		dealer_note(d, w->piece_id, "%u of %u deals: waiting for %s",
			    w->counting, d->cfg->replication,
			    o == NO_FUNDS ? "escrow" : "DataCap");
	else
		dealer_note(d, w->piece_id,
			    "%u of %u deals counting (%u active): proposed "
			    "%zu more",
			    w->counting, d->cfg->replication, w->active, sent);
	return o;
}

int dealer_replicate(struct dealer *d)
{
	struct scan s = { .d = d };
	bool no_sp = false, funds = false, datacap = false;
	enum outcome o;
	int rc;

	if (!d->funds_ok || (!d->dirty && d->now < d->next_scan))
		return 0;
	d->dirty = false;
	d->next_scan = d->now + dealer_discover_interval(d);
	/* The scan's notes in one transaction: one sync, not one a piece. */
	if ((rc = db_begin(d->rdb)) < 0)
		goto out;
	if ((rc = piece_foreach_ready(d->ps, scan_cb, &s)) < 0) {
		db_rollback(d->rdb);
		goto out;
	}
	if ((rc = db_commit(d->rdb)) < 0)
		goto out;
	for (size_t i = 0; i < s.n; i++) {
		if (d->cur.proposed >= PROPOSALS_PER_CYCLE) {
			d->dirty = true; /* the rest next cycle */
			break;
		}
		o = replicate_one(d, &s.w[i], &no_sp);
		funds |= o == NO_FUNDS;
		datacap |= o == NO_DATACAP;
		if (o == NO_FUNDS || o == NO_DATACAP || o == STOPPED)
			break;
	}
	if (!no_sp)
		dealer_block(d, DEALER_BLOCK_MINERS, NULL);
	if (!datacap)
		dealer_block(d, DEALER_BLOCK_DATACAP, NULL);
	if (!funds && !d->topup_pending)
		dealer_block(d, DEALER_BLOCK_FUNDS, NULL);
out:
	efs_free(s.seen.slot);
	efs_free(s.w);
	return rc;
}
