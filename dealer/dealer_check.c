/*
 * dealer_check.c - the deals that are due for a check, and what moves
 * them (see deals.h for the states).
 *
 * A deal with an on-chain ID is checked against the chain: the due deals
 * go to Lotus as StateMarketStorageDeal calls in batches
 * (lotus_market_deals, LOTUS_BATCH_MAX calls per request), and those
 * whose record did not change are rescheduled together in one
 * transaction, so a cycle over tens of thousands of active deals is a
 * few hundred requests and a few writes.  A deal without an ID yet is
 * checked by asking its SP (mk12 status, by UUID).
 *
 *   chain: slashed (SlashEpoch set)          -> SLASHED, replaced
 *          sector start set                  -> ACTIVE (or EXPIRED past
 *                                               its end)
 *          gone, had been active             -> EXPIRED at its end,
 *                                               else SLASHED (terminated)
 *          not active by its start epoch     -> FAILED, replaced
 *   SP:    failed                            -> FAILED, replaced
 *          does not know a PROPOSING deal    -> the proposal is sent
 *                                               again (after a crash)
 *          no answer ATTEMPTS_MAX times      -> FAILED, replaced
 *          a deal ID                         -> PUBLISHED: the chain
 *                                               takes over
 *
 * Every deal leaving a live state marks the dealer dirty, so the same
 * cycle's replication pass proposes its replacement.
 */
#include "dealer/dealer_i.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "dealer/dealproto.h"
#include "dealer/lotus.h"
#include "dealer/miners.h"

#include "core/banned.h"

/* Deals read per round, and the time after which a cycle leaves the
 * rest of its checks to the next one. */
#define CHECK_CHUNK 2000
#define CHECK_BUDGET_NS (120LL * 1000000000)
/* Checks of an SP that gets no answer before the deal is given up. */
#define ATTEMPTS_MAX 6

struct due {
	struct deal *v;
	size_t n, cap;
};

static int due_cb(const struct deal *dl, void *cls)
{
	struct due *l = cls;
	struct deal *v;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		if (!(v = efs_realloc(l->v, l->cap * sizeof(*v))))
			return EFS_ENOMEM;
		l->v = v;
	}
	/* Only the scalars are kept: the callback's strings are borrowed. */
	l->v[l->n] = *dl;
	memset(&l->v[l->n].proposal, 0, sizeof(l->v[l->n].proposal));
	/* chain_at says whether the chain's record was ever read. */
	if (!dl->chain_json)
		l->v[l->n].chain_at = 0;
	l->v[l->n].chain_json = NULL;
	l->v[l->n].reason = NULL;
	l->n++;
	return 0;
}

static void fate(struct dealer *d, const struct deal *dl, enum miners_fate f,
		 const char *detail)
{
	char piece[CID_STR_MAX];
	struct miner_deal_fate mf = {
		.addr = dl->miner,
		.fate = f,
		.time_ns = efs_clock_real_ns(),
		.has_deal_uuid = true,
		.piece_cid = cid_tostr(piece, &dl->piece_cid),
		.detail = detail,
	};

	memcpy(mf.deal_uuid, dl->uuid, sizeof(mf.deal_uuid));
	if (f == MINERS_FATE_SEALED)
		mf.seal_seconds = d->now - dl->created;
	if (miners_deal_outcome(d->miners, &mf) < 0)
		efs_log_warn("dealer: miner record: %s", efs_error_msg());
}

/* Move dl to state s; a terminal state revokes its transfer and asks
 * for a replacement. */
static void move(struct dealer *d, const struct deal *dl, enum deal_state s,
		 const char *why, int64_t next)
{
	char uuid[MK12_UUID_STR_MAX];

	if (deals_set_state(d->deals, dl->id, s, why, next, d->now) < 0) {
		efs_log_warn("dealer: deal %lld: %s", (long long)dl->id,
			     efs_error_msg());
		return;
	}
	if (s == dl->state)
		return;
	d->cur.changed++;
	mk12_uuid_format(uuid, dl->uuid);
	efs_log_info("dealer: deal %s: %s -> %s%s%s", uuid,
		     deals_state_name(dl->state), deals_state_name(s),
		     why ? ": " : "", why ? why : "");
	if (!deal_state_live(s) || s == DEAL_ACTIVE)
		transfer_revoke(d->tr, dl->uuid);
	/* A deal that ends wants a replacement; one that reaches the
	 * chain frees what was reserved for it (escrow, DataCap). */
	if (!deal_state_live(s) ||
	    (s >= DEAL_PUBLISHED && dl->state < DEAL_PUBLISHED))
		d->dirty = true;
}

/* The SP has the whole CAR: log the transfer once, with its bytes. */
static void transfer_logged(struct dealer *d, const struct deal *dl,
			    enum deal_state to)
{
	struct dealproto_call call;
	char piece[CID_STR_MAX];
	uint64_t bytes = 0;

	if (dl->state >= DEAL_PUBLISHING || to < DEAL_PUBLISHING)
		return;
	dealproto_call_init(&call);
	transfer_stats(d->tr, dl->uuid, &bytes, NULL, NULL);
	call.bytes_up = bytes;
	dealer_miner_log(d, &dl->miner, MINERS_ACT_TRANSFER, &call, dl->uuid,
			 cid_tostr(piece, &dl->piece_cid));
}

/* ---- the chain ---- */

static json_t *market_json(const struct lotus_market_deal *m)
{
	char piece[CID_STR_MAX], client[FILADDR_STR_MAX],
		prov[FILADDR_STR_MAX], price[BIGINT_STR_MAX],
		pcol[BIGINT_STR_MAX], ccol[BIGINT_STR_MAX];

	filaddr_format(client, &m->client, 'f');
	filaddr_format(prov, &m->provider, 'f');
	bigint_format(price, &m->price_per_epoch);
	bigint_format(pcol, &m->provider_collateral);
	bigint_format(ccol, &m->client_collateral);
	return json_pack(
		"{s:{s:{s:s}, s:I, s:b, s:s, s:s, s:s%, s:I, s:I, s:s, s:s,"
		" s:s}, s:{s:I, s:I, s:I, s:I}}",
		"Proposal", "PieceCID", "/", cid_tostr(piece, &m->piece_cid),
		"PieceSize", (json_int_t)m->piece_size, "VerifiedDeal",
		m->verified, "Client", client, "Provider", prov, "Label",
		m->label, m->label_len, "StartEpoch",
		(json_int_t)m->start_epoch, "EndEpoch",
		(json_int_t)m->end_epoch, "StoragePricePerEpoch", price,
		"ProviderCollateral", pcol, "ClientCollateral", ccol, "State",
		"SectorNumber", (json_int_t)m->sector, "SectorStartEpoch",
		(json_int_t)m->sector_start_epoch, "LastUpdatedEpoch",
		(json_int_t)m->last_updated_epoch, "SlashEpoch",
		(json_int_t)m->slash_epoch);
}

static void record_chain(struct dealer *d, const struct deal *dl,
			 const struct lotus_market_deal *m)
{
	json_t *j = market_json(m);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

	deals_set_chain(d->deals, dl->id, dl->deal_id, m->sector_start_epoch,
			m->slash_epoch, text, d->now);
	free(text);
	json_decref(j);
}

/* Where the chain's answer (rc, m) moves dl.  Returns true when dl
 * is unchanged and only needs rescheduling. */
static bool chain_one(struct dealer *d, const struct deal *dl, int rc,
		      const struct lotus_market_deal *m)
{
	int64_t pending = d->now + dealer_pending_interval(d);
	char why[DEALER_MSG_MAX];

	if (rc == EFS_ENOTFOUND) {
		if (dl->state == DEAL_ACTIVE && d->head >= dl->end_epoch) {
			snprintf(why, sizeof(why), "ran its term (ended at "
				 "epoch %lld)", (long long)dl->end_epoch);
			fate(d, dl, MINERS_FATE_EXPIRED, why);
			move(d, dl, DEAL_EXPIRED, why, d->now);
		} else if (dl->state == DEAL_ACTIVE) {
			snprintf(why, sizeof(why), "gone from the market at "
				 "epoch %lld, before its end epoch %lld "
				 "(terminated)", (long long)d->head,
				 (long long)dl->end_epoch);
			fate(d, dl, MINERS_FATE_SLASHED, why);
			move(d, dl, DEAL_SLASHED, why, d->now);
		} else if (d->head >= dl->start_epoch) {
			snprintf(why, sizeof(why), "not activated by its start "
				 "epoch %lld", (long long)dl->start_epoch);
			fate(d, dl, MINERS_FATE_FAILED, why);
			move(d, dl, DEAL_FAILED, why, d->now);
		} else {
			return true;
		}
		return false;
	}
	if (rc < 0) {
		snprintf(why, sizeof(why), "chain: %s", efs_error_msg());
		deals_check_failed(d->deals, dl->id, why, pending, d->now);
		return false;
	}
	if (m->slash_epoch >= 0) {
		record_chain(d, dl, m);
		snprintf(why, sizeof(why), "slashed at epoch %lld",
			 (long long)m->slash_epoch);
		fate(d, dl, MINERS_FATE_SLASHED, why);
		move(d, dl, DEAL_SLASHED, why, d->now);
		return false;
	}
	if (m->sector_start_epoch >= 0) {
		if (d->head >= m->end_epoch) {
			record_chain(d, dl, m);
			fate(d, dl, MINERS_FATE_EXPIRED, "ran its term");
			move(d, dl, DEAL_EXPIRED, "ran its term", d->now);
			return false;
		}
		if (dl->state == DEAL_ACTIVE && dl->chain_at > 0)
			return true;
		record_chain(d, dl, m);
		snprintf(why, sizeof(why), "in sector %llu since epoch %lld",
			 (unsigned long long)m->sector,
			 (long long)m->sector_start_epoch);
		if (dl->state != DEAL_ACTIVE) {
			transfer_logged(d, dl, DEAL_ACTIVE);
			fate(d, dl, MINERS_FATE_SEALED, why);
		}
		move(d, dl, DEAL_ACTIVE, why,
		     d->now + d->cfg->check_interval);
		return false;
	}
	if (d->head >= dl->start_epoch) {
		record_chain(d, dl, m);
		snprintf(why, sizeof(why), "published but not activated by "
			 "its start epoch %lld", (long long)dl->start_epoch);
		fate(d, dl, MINERS_FATE_FAILED, why);
		move(d, dl, DEAL_FAILED, why, d->now);
		return false;
	}
	if (dl->state == DEAL_PUBLISHED && dl->chain_at > 0)
		return true;
	record_chain(d, dl, m);
	transfer_logged(d, dl, DEAL_PUBLISHED);
	move(d, dl, DEAL_PUBLISHED, "published, waiting for its sector",
	     d->now + dealer_published_interval(d));
	return false;
}

static int check_chain(struct dealer *d, struct deal **v, size_t n)
{
	struct lotus_market_deal *m = NULL;
	int64_t *active = NULL, *pending = NULL;
	size_t na = 0, np = 0;
	uint64_t *ids = NULL;
	int *rcs = NULL, rc;

	if (n == 0)
		return 0;
	if (!(m = efs_calloc(n, sizeof(*m))) ||
	    !(ids = efs_calloc(n, sizeof(*ids))) ||
	    !(rcs = efs_calloc(n, sizeof(*rcs))) ||
	    !(active = efs_calloc(n, sizeof(*active))) ||
	    !(pending = efs_calloc(n, sizeof(*pending)))) {
		rc = EFS_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		ids[i] = (uint64_t)v[i]->deal_id;
	rc = lotus_market_deals(m, rcs, d->lotus, ids, n);
	for (size_t i = 0; i < n; i++) {
		d->cur.checked++;
		/* A request that got no reply says nothing of the deal. */
		if (rc < 0 && rcs[i] == rc) {
			deals_check_failed(d->deals, v[i]->id, efs_error_msg(),
					   d->now + dealer_pending_interval(d),
					   d->now);
			continue;
		}
		if (!chain_one(d, v[i], rcs[i], &m[i]))
			continue;
		if (v[i]->state == DEAL_ACTIVE)
			active[na++] = v[i]->id;
		else
			pending[np++] = v[i]->id;
	}
	/* Published deals are watched every epoch: one batched request
	 * for all of them tells when their sectors land. */
	if ((rc = deals_reschedule(d->deals, active, na,
				   d->now + d->cfg->check_interval, d->now,
				   d->now)) == 0)
		rc = deals_reschedule(d->deals, pending, np,
				      d->now + dealer_published_interval(d),
				      d->now, d->now);
out:
	efs_free(m);
	efs_free(ids);
	efs_free(rcs);
	efs_free(active);
	efs_free(pending);
	return rc;
}

/* ---- the SP ---- */

/* The state an SP's report moves dl to. */
static enum deal_state sp_state(const struct deal *dl,
				const struct dealproto_status *st)
{
	switch (st->state) {
	case DEALPROTO_ACCEPTED:
		return dl->state == DEAL_PROPOSING ? DEAL_ACCEPTED : dl->state;
	case DEALPROTO_TRANSFERRING:
		return DEAL_TRANSFERRING;
	case DEALPROTO_AWAITING_PUBLISH:
		return DEAL_PUBLISHING;
	case DEALPROTO_PUBLISHED:
	case DEALPROTO_SEALING:
	case DEALPROTO_ACTIVE:
		return st->deal_id ? DEAL_PUBLISHED : DEAL_PUBLISHING;
	case DEALPROTO_FAILED:
		return DEAL_FAILED;
	case DEALPROTO_UNKNOWN:
	default:
		return dl->state;
	}
}

static void no_answer(struct dealer *d, const struct deal *dl,
		      const char *detail)
{
	char why[DEALER_MSG_MAX];
	int64_t wait = dealer_pending_interval(d) << (dl->attempts < 6
							      ? dl->attempts
							      : 6);

	if (dl->attempts + 1 >= ATTEMPTS_MAX) {
		snprintf(why, sizeof(why), "the SP did not answer %d checks: "
			 "%.400s", ATTEMPTS_MAX, detail);
		if (dl->state >= DEAL_ACCEPTED)
			fate(d, dl, MINERS_FATE_FAILED, why);
		move(d, dl, DEAL_FAILED, why, d->now);
		return;
	}
	deals_check_failed(d->deals, dl->id, detail, d->now + wait, d->now);
}

static void check_sp(struct dealer *d, const struct deal *dl)
{
	char piece[CID_STR_MAX], why[DEALER_MSG_MAX];
	struct dealproto_ref ref = { .client = d->client,
				     .check_proposal = true,
				     .signed_proposal_cid = dl->signed_cid };
	struct dealproto_status st;
	struct dealproto_call call;
	struct dealproto_sp sp;
	struct miner_record rec;
	enum deal_state to;
	int rc;

	d->cur.checked++;
	if (d->head >= dl->start_epoch) {
		snprintf(why, sizeof(why), "its start epoch %lld passed "
			 "before it was published", (long long)dl->start_epoch);
		if (dl->state >= DEAL_ACCEPTED)
			fate(d, dl, MINERS_FATE_FAILED, why);
		move(d, dl, DEAL_FAILED, why, d->now);
		return;
	}
	if (miners_get(&rec, d->miners, &dl->miner) < 0) {
		no_answer(d, dl, efs_error_msg());
		return;
	}
	if (!rec.url) {
		miners_record_release(&rec);
		no_answer(d, dl, "the SP has no deal endpoint now");
		return;
	}
	memcpy(ref.uuid, dl->uuid, sizeof(ref.uuid));
	sp.addr = dl->miner;
	sp.url = rec.url;
	rc = dealproto_status(&st, &call, d->dp, &sp, &ref);
	miners_record_release(&rec);
	dealer_miner_log(d, &dl->miner, MINERS_ACT_STATUS, &call, dl->uuid,
			 cid_tostr(piece, &dl->piece_cid));
	if (rc < 0 || (call.outcome != DEALPROTO_OK &&
		       call.outcome != DEALPROTO_REJECTED)) {
		snprintf(why, sizeof(why), "status: %s: %s",
			 dealproto_outcome_name(call.outcome), call.detail);
		no_answer(d, dl, why);
		return;
	}
	if (call.outcome == DEALPROTO_REJECTED) {
		if (call.reason == DEALPROTO_REASON_NOT_FOUND &&
		    dl->state == DEAL_PROPOSING) {
			/* Recorded, never received: send it (again). */
			if (dealer_resend(d, dl) < 0)
				no_answer(d, dl, efs_error_msg());
		} else if (call.reason == DEALPROTO_REASON_NOT_FOUND) {
			snprintf(why, sizeof(why), "the SP no longer knows "
				 "the deal: %s", call.detail);
			fate(d, dl, MINERS_FATE_FAILED, why);
			move(d, dl, DEAL_FAILED, why, d->now);
		} else {
			snprintf(why, sizeof(why), "status refused: %s",
				 call.detail);
			no_answer(d, dl, why);
		}
		return;
	}
	to = sp_state(dl, &st);
	if (to == DEAL_FAILED) {
		snprintf(why, sizeof(why), "the SP failed it: %s",
			 st.error[0] ? st.error : st.sp_status);
		fate(d, dl, MINERS_FATE_FAILED, why);
		move(d, dl, DEAL_FAILED, why, d->now);
		return;
	}
	transfer_logged(d, dl, to);
	if (st.deal_id) {
		deals_set_chain(d->deals, dl->id, (int64_t)st.deal_id, -1, -1,
				NULL, d->now);
		/* The chain confirms it in this cycle's next round. */
		move(d, dl, to, "published: deal ID from the SP", d->now);
		return;
	}
	snprintf(why, sizeof(why), "SP: %s", st.sp_status);
	move(d, dl, to, st.sp_status[0] ? why : NULL,
	     d->now + dealer_pending_interval(d));
}

int dealer_check(struct dealer *d)
{
	int64_t t0 = efs_clock_real_ns();
	struct due l = { 0 };
	struct deal **chain = NULL;
	size_t nchain;
	int rc = 0;

	for (int round = 0;; round++) {
		l.n = 0;
		if ((rc = deals_foreach_due(d->deals, d->now, CHECK_CHUNK,
					    due_cb, &l)) < 0 ||
		    l.n == 0)
			break;
		efs_free(chain);
		if (!(chain = efs_calloc(l.n, sizeof(*chain)))) {
			rc = EFS_ENOMEM;
			break;
		}
		nchain = 0;
		for (size_t i = 0; i < l.n; i++)
			if (l.v[i].deal_id >= 0)
				chain[nchain++] = &l.v[i];
		if ((rc = check_chain(d, chain, nchain)) < 0)
			efs_log_warn("dealer: chain check: %s",
				     efs_error_msg());
		for (size_t i = 0; i < l.n; i++)
			if (l.v[i].deal_id < 0)
				check_sp(d, &l.v[i]);
		if (l.n < CHECK_CHUNK || rc < 0 ||
		    efs_clock_real_ns() - t0 > CHECK_BUDGET_NS)
			break;
	}
	efs_free(chain);
	efs_free(l.v);
	return rc;
}
