/*
 * market.c - the storage market actor (f05): escrow, deal
 * publication, activation, slashing and settlement.
 *
 * A deal's life, as the built-in market actor runs it (simplified: the
 * whole payment is settled at the end, not every 100 epochs):
 *
 *	market_publish ──► published (SectorStartEpoch -1)
 *	     │                 │ market_activate before StartEpoch passes
 *	     │                 ▼
 *	     │             active (SectorStartEpoch = head) ── market_slash ─┐
 *	     │                 │ head reaches EndEpoch                      │
 *	     ▼                 ▼                                            ▼
 *	StartEpoch passed   paid out, gone                    slashed (SlashEpoch
 *	unactivated: gone   ("deal not found")                set), gone at EndEpoch
 *
 * Funds: publishing locks price x duration + client collateral in the
 * client's escrow and the provider collateral in the provider's.  At the
 * end the payment moves from client to provider escrow and both locks
 * are released.  A deal not activated in time burns the provider
 * collateral (to f099) and unlocks the client; so does a slash, which
 * also pays the provider for the epochs served.  A verified deal takes
 * its padded size from the client's DataCap (given back when the deal
 * is never activated).
 *
 * For load tests, market_inject (Devnet.InjectDeals) makes deals active
 * at once in bulk, free of charge: no escrow, collateral or DataCap
 * moves for them, then or when they end.
 *
 * Invariants: for every actor 0 <= locked <= escrow (enforced by
 * chain_escrow_put_locked); locked is the sum over its live deals of
 * what publication locked.
 */
#include "contrib/devnet/chain.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/cbor.h"
#include "core/error.h"

#include "core/banned.h"

#define GIB ((uint64_t)1 << 30)
/* Provider collateral floor: 0.01 FIL per GiB (a devnet's choice; the
 * real one follows network power and circulating supply). */
#define COLLATERAL_PER_GIB 10000000000000000ULL
/* The ceiling Lotus reports: the total FIL supply, 2e9 FIL. */
#define COLLATERAL_MAX_FIL 2000000000ULL

/* Exit codes (FVM). */
#define EXIT_OK 0
#define EXIT_ILLEGAL_ARGUMENT 16
#define EXIT_NOT_FOUND 17
#define EXIT_FORBIDDEN 18
#define EXIT_INSUFFICIENT_FUNDS 19
#define EXIT_SERIALIZATION 21

#define DEAL_COLUMNS                                                     \
	"id, proposal_cid, piece_cid, piece_size, verified, client,"     \
	" provider, label, label_bytes, start_epoch, end_epoch, price,"  \
	" pcoll, ccoll, sector, sector_start, last_updated, slash"

/* ---- collateral ---- */

static int collateral_floor(struct bigint *out, uint64_t size)
{
	struct bigint per, gib;
	int rc;

	bigint_from_u64(out, size);
	bigint_from_u64(&per, COLLATERAL_PER_GIB);
	bigint_from_u64(&gib, GIB);
	if ((rc = bigint_mul(out, out, &per)) < 0)
		return rc;
	return bigint_divmod(out, NULL, out, &gib);
}

int market_collateral_bounds(struct devnet *d, struct bigint *min,
			     struct bigint *max, uint64_t padded_size,
			     bool verified)
{
	struct bigint k;
	int rc;

	/* Lotus over-estimates Min by 10% (api/v0api, node/impl/full). */
	if ((rc = collateral_floor(min, padded_size)) < 0)
		return rc;
	bigint_from_u64(&k, 110);
	if ((rc = bigint_mul(min, min, &k)) < 0)
		return rc;
	bigint_from_u64(&k, 100);
	if ((rc = bigint_divmod(min, NULL, min, &k)) < 0)
		return rc;
	bigint_from_u64(max, COLLATERAL_MAX_FIL);
	bigint_from_u64(&k, BIGINT_ATTO_PER_FIL);
	return bigint_mul(max, max, &k);
}

/* ---- rows ---- */

static int cid_column(struct cid *out, sqlite3_stmt *st, int col)
{
	const char *s = (const char *)sqlite3_column_text(st, col);

	if (!s || cid_parse(out, s) < 0)
		return efs_error_set(EFS_ECORRUPT, "devnet: bad cid in deal");
	return 0;
}

static int deal_row(struct market_deal *out, sqlite3_stmt *st)
{
	size_t llen = (size_t)sqlite3_column_bytes(st, 7);
	const void *label = sqlite3_column_blob(st, 7);
	int rc;

	memset(out, 0, sizeof(*out));
	out->id = (uint64_t)sqlite3_column_int64(st, 0);
	if ((rc = cid_column(&out->proposal_cid, st, 1)) < 0 ||
	    (rc = cid_column(&out->piece_cid, st, 2)) < 0)
		return rc;
	out->piece_size = (uint64_t)sqlite3_column_int64(st, 3);
	out->verified = sqlite3_column_int(st, 4) != 0;
	out->client = (uint64_t)sqlite3_column_int64(st, 5);
	out->provider = (uint64_t)sqlite3_column_int64(st, 6);
	if (llen > DEVNET_LABEL_MAX)
		return efs_error_set(EFS_ECORRUPT, "devnet: label too long");
	if (llen)
		memcpy(out->label, label, llen);
	out->label_len = llen;
	out->label_is_bytes = sqlite3_column_int(st, 8) != 0;
	out->start_epoch = sqlite3_column_int64(st, 9);
	out->end_epoch = sqlite3_column_int64(st, 10);
	if ((rc = chain_bigint_column(&out->price_per_epoch, st, 11)) < 0 ||
	    (rc = chain_bigint_column(&out->provider_collateral, st, 12)) <
		    0 ||
	    (rc = chain_bigint_column(&out->client_collateral, st, 13)) < 0)
		return rc;
	out->sector = sqlite3_column_int64(st, 14);
	out->sector_start_epoch = sqlite3_column_int64(st, 15);
	out->last_updated_epoch = sqlite3_column_int64(st, 16);
	out->slash_epoch = sqlite3_column_int64(st, 17);
	return 0;
}

static int deal_get_locked(struct devnet *d, struct market_deal *out,
			   uint64_t id)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(&st, d->db, "SELECT " DEAL_COLUMNS
					  " FROM devnet_deals WHERE id = ?")) <
	    0)
		return rc;
	sqlite3_bind_int64(st, 1, (int64_t)id);
	rc = db_step(d->db, st);
	if (rc == 1)
		rc = deal_row(out, st);
	else if (rc == 0)
		rc = efs_error_set(EFS_ENOTFOUND, "deal %llu not found - deal "
				   "may not have completed sealing before "
				   "deal proposal start epoch, or deal may "
				   "have been slashed",
				   (unsigned long long)id);
	db_reset(st);
	return rc;
}

int market_deal_get(struct devnet *d, struct market_deal *out,
		    uint64_t deal_id)
{
	int rc;

	pthread_mutex_lock(&d->lock);
	rc = deal_get_locked(d, out, deal_id);
	pthread_mutex_unlock(&d->lock);
	return rc;
}

int market_deal_bytes(struct devnet *d, uint64_t *all, uint64_t *verified,
		      uint64_t id)
{
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&d->lock);
	rc = db_stmt(&st, d->db, "SELECT TOTAL(piece_size),"
				 " TOTAL(piece_size * verified)"
				 " FROM devnet_deals WHERE sector_start >= 0"
				 " AND slash = -1 AND (? = 0 OR provider = ?)");
	if (rc == 0) {
		sqlite3_bind_int64(st, 1, (int64_t)id);
		sqlite3_bind_int64(st, 2, (int64_t)id);
		rc = db_step(d->db, st);
		if (rc == 1) {
			*all = (uint64_t)sqlite3_column_double(st, 0);
			*verified = (uint64_t)sqlite3_column_double(st, 1);
			rc = 0;
		}
		db_reset(st);
	}
	pthread_mutex_unlock(&d->lock);
	return rc;
}

/* What publication locked in the client's escrow: price x duration +
 * client collateral (total) and the payment alone (pay). */
static int deal_costs(struct bigint *total, struct bigint *pay,
		      const struct bigint *price, int64_t start, int64_t end,
		      const struct bigint *ccoll)
{
	struct bigint dur;
	int rc;

	bigint_from_i64(&dur, end - start);
	if ((rc = bigint_mul(pay, price, &dur)) < 0)
		return rc;
	return bigint_add(total, pay, ccoll);
}

/* ---- escrow moves ---- */

/* Add delta_escrow and delta_locked to id's escrow (either may be
 * negative). */
static int escrow_move(struct devnet *d, uint64_t id,
		       const struct bigint *delta_escrow,
		       const struct bigint *delta_locked)
{
	struct chain_escrow e;
	int rc;

	if ((rc = chain_escrow_get_locked(d, &e, id)) < 0)
		return rc;
	if ((delta_escrow &&
	     (rc = bigint_add(&e.escrow, &e.escrow, delta_escrow)) < 0) ||
	    (delta_locked &&
	     (rc = bigint_add(&e.locked, &e.locked, delta_locked)) < 0))
		return rc;
	return chain_escrow_put_locked(d, id, &e);
}

static void neg(struct bigint *out, const struct bigint *a)
{
	*out = *a;
	if (!bigint_is_zero(a))
		out->neg = !a->neg;
}

/* Burn the provider collateral of a deal (to f099) and release it. */
static int burn_collateral(struct devnet *d, const struct market_deal *m)
{
	struct bigint minus;
	int rc;

	neg(&minus, &m->provider_collateral);
	if ((rc = escrow_move(d, m->provider, &minus, &minus)) < 0 ||
	    (rc = chain_balance_add_locked(d, DEVNET_MARKET_ID, &minus)) < 0)
		return rc;
	return chain_balance_add_locked(d, CHAIN_BURNT_ID,
					&m->provider_collateral);
}

/* Pay the provider for `epochs` epochs and release the client's lock,
 * and the provider's unless its collateral is about to be burnt. */
static int settle(struct devnet *d, const struct market_deal *m,
		  int64_t epochs, bool release_provider)
{
	struct bigint total, pay, full, n, minus_pay, minus_total, minus_pc;
	int rc;

	if ((rc = deal_costs(&total, &full, &m->price_per_epoch,
			     m->start_epoch, m->end_epoch,
			     &m->client_collateral)) < 0)
		return rc;
	bigint_from_i64(&n, epochs < 0 ? 0 : epochs);
	if ((rc = bigint_mul(&pay, &m->price_per_epoch, &n)) < 0)
		return rc;
	neg(&minus_pay, &pay);
	neg(&minus_total, &total);
	neg(&minus_pc, &m->provider_collateral);
	if ((rc = escrow_move(d, m->client, &minus_pay, &minus_total)) < 0)
		return rc;
	return escrow_move(d, m->provider, &pay,
			   release_provider ? &minus_pc : NULL);
}

static int deal_delete(struct devnet *d, uint64_t id)
{
	const int64_t v = (int64_t)id;

	return db_run_ints(d->db, "DELETE FROM devnet_deals WHERE id = ?",
			   &v, 1);
}

/* ---- publication ---- */

struct publish_check {
	struct chain_actor client;
	struct bigint total;            /* client lock */
	struct bigint datacap;          /* after the deal, if verified */
};

static int refuse(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int refuse(char *why, size_t whylen, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (why && whylen)
		snprintf(why, whylen, "%s", msg);
	return efs_error_set(EFS_EINVAL, "%s", msg);
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* The checks of the market actor's PublishStorageDeals; lock held. */
static int publish_check(struct devnet *d, struct publish_check *pc,
			 const struct mk12_proposal *p, char *why,
			 size_t whylen)
{
	char a[BIGINT_STR_MAX], b[BIGINT_STR_MAX];
	struct bigint min, max, pay, free_;
	struct chain_escrow ce, pe;
	bool client;
	int rc;

	if (p->provider.protocol != FILADDR_ID ||
	    !devnet_miner_find(d, p->provider.id))
		return refuse(why, whylen, "provider is not a miner");
	if (!is_pow2(p->piece_size) || p->piece_size < 128)
		return refuse(why, whylen, "proposal piece size %llu is "
			      "invalid", (unsigned long long)p->piece_size);
	if (p->label.data.len > DEVNET_LABEL_MAX)
		return refuse(why, whylen, "deal label can be at most %d "
			      "bytes, is %zu", DEVNET_LABEL_MAX,
			      p->label.data.len);
	if (p->start_epoch <= d->head)
		return refuse(why, whylen, "deal start epoch %lld has "
			      "already elapsed", (long long)p->start_epoch);
	if (p->end_epoch <= p->start_epoch)
		return refuse(why, whylen, "deal duration out of bounds: "
			      "end %lld before start %lld",
			      (long long)p->end_epoch,
			      (long long)p->start_epoch);
	if (p->price_per_epoch.neg || p->provider_collateral.neg ||
	    p->client_collateral.neg)
		return refuse(why, whylen, "negative price or collateral");
	if ((rc = market_collateral_bounds(d, &min, &max, p->piece_size,
					   p->verified)) < 0 ||
	    (rc = collateral_floor(&min, p->piece_size)) < 0)
		return rc;
	if (bigint_cmp(&p->provider_collateral, &min) < 0 ||
	    bigint_cmp(&p->provider_collateral, &max) > 0) {
		bigint_format(a, &p->provider_collateral);
		bigint_format(b, &min);
		return refuse(why, whylen, "provider collateral out of "
			      "bounds: %s, min %s", a, b);
	}
	rc = chain_actor_get_locked(d, &pc->client, &p->client);
	if (rc == EFS_ENOTFOUND)
		return refuse(why, whylen, "client address not found");
	if (rc < 0)
		return rc;
	if ((rc = deal_costs(&pc->total, &pay, &p->price_per_epoch,
			     p->start_epoch, p->end_epoch,
			     &p->client_collateral)) < 0 ||
	    (rc = chain_escrow_get_locked(d, &ce, pc->client.id)) < 0 ||
	    (rc = bigint_sub(&free_, &ce.escrow, &ce.locked)) < 0)
		return rc;
	if (bigint_cmp(&free_, &pc->total) < 0) {
		bigint_format(a, &pc->total);
		bigint_format(b, &free_);
		return refuse(why, whylen, "not enough client escrow: need "
			      "%s, available %s", a, b);
	}
	if ((rc = chain_escrow_get_locked(d, &pe, p->provider.id)) < 0 ||
	    (rc = bigint_sub(&free_, &pe.escrow, &pe.locked)) < 0)
		return rc;
	if (bigint_cmp(&free_, &p->provider_collateral) < 0) {
		bigint_format(a, &p->provider_collateral);
		bigint_format(b, &free_);
		return refuse(why, whylen, "not enough provider escrow: need "
			      "%s, available %s", a, b);
	}
	if (!p->verified)
		return 0;
	if ((rc = chain_datacap_get_locked(d, &pc->datacap, &client,
					   pc->client.id)) < 0)
		return rc;
	bigint_from_u64(&pay, p->piece_size);
	if (!client || bigint_cmp(&pc->datacap, &pay) < 0) {
		bigint_format(a, &pc->datacap);
		return refuse(why, whylen, "verified deal of %llu bytes: the "
			      "client has %s of DataCap",
			      (unsigned long long)p->piece_size,
			      client ? a : "no");
	}
	return bigint_sub(&pc->datacap, &pc->datacap, &pay);
}

static int deal_insert(struct devnet *d, uint64_t *id,
		       const struct mk12_proposal *p, const struct cid *pcid,
		       uint64_t client)
{
	char c1[CID_STR_MAX], c2[CID_STR_MAX];
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(&st, d->db,
			  "INSERT INTO devnet_deals(proposal_cid, piece_cid,"
			  " piece_size, verified, client, provider, label,"
			  " label_bytes, start_epoch, end_epoch, price, pcoll,"
			  " ccoll) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
			  " ?)")) < 0)
		return rc;
	sqlite3_bind_text(st, 1, cid_tostr(c1, pcid), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, cid_tostr(c2, &p->piece_cid), -1,
			  SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (int64_t)p->piece_size);
	sqlite3_bind_int(st, 4, p->verified);
	sqlite3_bind_int64(st, 5, (int64_t)client);
	sqlite3_bind_int64(st, 6, (int64_t)p->provider.id);
	sqlite3_bind_blob(st, 7, p->label.data.ptr ? (void *)p->label.data.ptr
						    : (void *)"",
			  (int)p->label.data.len, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 8, p->label.is_bytes);
	sqlite3_bind_int64(st, 9, p->start_epoch);
	sqlite3_bind_int64(st, 10, p->end_epoch);
	if ((rc = chain_bigint_bind(st, 11, &p->price_per_epoch)) < 0 ||
	    (rc = chain_bigint_bind(st, 12, &p->provider_collateral)) < 0 ||
	    (rc = chain_bigint_bind(st, 13, &p->client_collateral)) < 0) {
		db_reset(st);
		return rc;
	}
	if ((rc = db_run(d->db, st)) < 0)
		return rc;
	*id = (uint64_t)sqlite3_last_insert_rowid(db_handle(d->db));
	return 0;
}

static int publish_locked(struct devnet *d, const struct mk12_proposal *p,
			  const struct cid *pcid, uint64_t *deal_id,
			  char *why, size_t whylen)
{
	struct publish_check pc;
	int rc;

	if ((rc = publish_check(d, &pc, p, why, whylen)) < 0)
		return rc;
	if ((rc = db_begin(d->db)) < 0)
		return rc;
	rc = deal_insert(d, deal_id, p, pcid, pc.client.id);
	if (rc == EFS_EEXISTS)
		rc = refuse(why, whylen, "cannot publish duplicate deal "
			    "proposal");
	if (rc < 0 ||
	    (rc = escrow_move(d, pc.client.id, NULL, &pc.total)) < 0 ||
	    (rc = escrow_move(d, p->provider.id, NULL,
			      &p->provider_collateral)) < 0 ||
	    (p->verified && (rc = chain_datacap_put_locked(d, pc.client.id,
							   &pc.datacap)) < 0))
		goto fail;
	return db_commit(d->db);
fail:
	db_rollback(d->db);
	return rc;
}

int market_publish(struct devnet *d, const struct mk12_proposal *p,
		   const struct cid *proposal_cid, uint64_t *deal_id,
		   char *why, size_t whylen)
{
	int rc;

	if (why && whylen)
		why[0] = '\0';
	pthread_mutex_lock(&d->lock);
	rc = publish_locked(d, p, proposal_cid, deal_id, why, whylen);
	pthread_mutex_unlock(&d->lock);
	if (rc < 0 && rc != EFS_EINVAL && why && whylen)
		snprintf(why, whylen, "%s", efs_error_msg());
	return rc;
}

/* ---- activation and slashing ---- */

static int deal_update(struct devnet *d, const char *sql, int64_t a,
		       int64_t b, uint64_t id)
{
	const int64_t v[] = { a, b, (int64_t)id };

	return db_run_ints(d->db, sql, v, 3);
}

int market_activate(struct devnet *d, uint64_t deal_id, uint64_t sector)
{
	struct market_deal m;
	int rc;

	pthread_mutex_lock(&d->lock);
	if ((rc = deal_get_locked(d, &m, deal_id)) < 0)
		goto out;
	if (m.sector_start_epoch != -1 || m.slash_epoch != -1) {
		rc = efs_error_set(EFS_EINVAL, "deal %llu already activated",
				   (unsigned long long)deal_id);
		goto out;
	}
	rc = deal_update(d, "UPDATE devnet_deals SET sector_start = ?,"
			    " sector = ? WHERE id = ?",
			 d->head, (int64_t)sector, deal_id);
out:
	pthread_mutex_unlock(&d->lock);
	return rc;
}

static int slash_locked(struct devnet *d, uint64_t deal_id)
{
	struct market_deal m;
	int rc;

	if ((rc = deal_get_locked(d, &m, deal_id)) < 0)
		return rc;
	if (m.sector_start_epoch == -1 || m.slash_epoch != -1)
		return efs_error_set(EFS_EINVAL, "deal %llu is not active",
				     (unsigned long long)deal_id);
	if ((rc = db_begin(d->db)) < 0)
		return rc;
	if ((rc = settle(d, &m, d->head - m.start_epoch, false)) < 0 ||
	    (rc = burn_collateral(d, &m)) < 0 ||
	    (rc = deal_update(d, "UPDATE devnet_deals SET slash = ?,"
				 " last_updated = ? WHERE id = ?",
			      d->head, d->head, deal_id)) < 0) {
		db_rollback(d->db);
		return rc;
	}
	return db_commit(d->db);
}

int market_slash(struct devnet *d, uint64_t deal_id)
{
	int rc;

	pthread_mutex_lock(&d->lock);
	rc = slash_locked(d, deal_id);
	pthread_mutex_unlock(&d->lock);
	return rc;
}

/* ---- the tick ---- */

/* The first deal matching where (one '?' bound to height), or 0 with
 * *found false. */
static int deal_next(struct devnet *d, struct market_deal *out, bool *found,
		     const char *sql, int64_t height)
{
	sqlite3_stmt *st;
	int rc;

	*found = false;
	if ((rc = db_stmt(&st, d->db, sql)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, height);
	rc = db_step(d->db, st);
	if (rc == 1) {
		*found = true;
		rc = deal_row(out, st);
	}
	db_reset(st);
	return rc;
}

/* A deal whose start passed before activation: burn, unlock, drop. */
static int drop_unactivated(struct devnet *d, const struct market_deal *m)
{
	struct bigint total, pay, minus, cap, size;
	bool client;
	int rc;

	if ((rc = deal_costs(&total, &pay, &m->price_per_epoch,
			     m->start_epoch, m->end_epoch,
			     &m->client_collateral)) < 0)
		return rc;
	neg(&minus, &total);
	if ((rc = escrow_move(d, m->client, NULL, &minus)) < 0 ||
	    (rc = burn_collateral(d, m)) < 0)
		return rc;
	if (m->verified) {
		bigint_from_u64(&size, m->piece_size);
		if ((rc = chain_datacap_get_locked(d, &cap, &client,
						   m->client)) < 0 ||
		    (rc = bigint_add(&cap, &cap, &size)) < 0 ||
		    (rc = chain_datacap_put_locked(d, m->client, &cap)) < 0)
			return rc;
	}
	return deal_delete(d, m->id);
}

int market_tick_locked(struct devnet *d, int64_t height)
{
	struct market_deal m;
	bool found;
	int rc;

	for (;;) {
		if ((rc = deal_next(d, &m, &found,
				    "SELECT " DEAL_COLUMNS " FROM devnet_deals"
				    " WHERE sector_start = -1 AND"
				    " start_epoch < ? LIMIT 1",
				    height)) < 0)
			return rc;
		if (!found)
			break;
		if ((rc = drop_unactivated(d, &m)) < 0)
			return rc;
	}
	for (;;) {
		if ((rc = deal_next(d, &m, &found,
				    "SELECT " DEAL_COLUMNS " FROM devnet_deals"
				    " WHERE end_epoch <= ? LIMIT 1",
				    height)) < 0)
			return rc;
		if (!found)
			break;
		if (m.slash_epoch == -1 &&
		    (rc = settle(d, &m, m.end_epoch - m.start_epoch, true)) < 0)
			return rc;
		if ((rc = deal_delete(d, m.id)) < 0)
			return rc;
	}
	return 0;
}

/* ---- messages to f05 ---- */

int market_add_balance_locked(struct devnet *d, const uint8_t *params,
			      size_t len, const struct bigint *value)
{
	struct chain_actor target;
	struct cbor_dec dec;
	const uint8_t *ab;
	struct filaddr a;
	size_t alen;
	int rc;

	if (cbor_dec_init(&dec, params, len) < 0 ||
	    cbor_get_bytes(&dec, &ab, &alen) < 0 ||
	    filaddr_from_bytes(&a, ab, alen) < 0)
		return EXIT_SERIALIZATION;
	rc = chain_actor_get_locked(d, &target, &a);
	if (rc == EFS_ENOTFOUND)
		return EXIT_NOT_FOUND;
	if (rc < 0)
		return rc;
	if (target.kind == CHAIN_ACTOR_SYSTEM)
		return EXIT_ILLEGAL_ARGUMENT;
	/* The value came with the message (chain_msg.c moved it to f05). */
	if ((rc = escrow_move(d, target.id, value, NULL)) < 0)
		return rc;
	return EXIT_OK;
}

/* WithdrawBalanceParams: [ProviderOrClientAddress, Amount]. */
static int withdraw_params(struct filaddr *a, struct bigint *amount,
			   const uint8_t *params, size_t len)
{
	struct cbor_dec dec;
	const uint8_t *p;
	size_t n;

	if (cbor_dec_init(&dec, params, len) < 0 ||
	    cbor_get_array(&dec, &n) < 0 || n != 2 ||
	    cbor_get_bytes(&dec, &p, &n) < 0 ||
	    filaddr_from_bytes(a, p, n) < 0 ||
	    cbor_get_bytes(&dec, &p, &n) < 0 ||
	    bigint_from_bytes(amount, p, n) < 0)
		return -1;
	return 0;
}

int market_withdraw_locked(struct devnet *d, uint64_t from,
			   const uint8_t *params, size_t len,
			   struct buf *ret)
{
	uint8_t bytes[BIGINT_BYTES_MAX];
	struct chain_actor target;
	struct devnet_miner *m;
	struct chain_escrow e;
	struct bigint amount, free_, minus;
	struct filaddr a;
	int rc;

	if (withdraw_params(&a, &amount, params, len) < 0)
		return EXIT_SERIALIZATION;
	if (amount.neg)
		return EXIT_ILLEGAL_ARGUMENT;
	rc = chain_actor_get_locked(d, &target, &a);
	if (rc == EFS_ENOTFOUND)
		return EXIT_NOT_FOUND;
	if (rc < 0)
		return rc;
	/* A client withdraws its own funds; a miner's go to its owner. */
	m = target.kind == CHAIN_ACTOR_MINER ? devnet_miner_find(d, target.id)
					     : NULL;
	if ((m ? m->worker_id : target.id) != from)
		return EXIT_FORBIDDEN;
	if ((rc = chain_escrow_get_locked(d, &e, target.id)) < 0 ||
	    (rc = bigint_sub(&free_, &e.escrow, &e.locked)) < 0)
		return rc;
	if (bigint_cmp(&amount, &free_) > 0)
		amount = free_;
	neg(&minus, &amount);
	if ((rc = escrow_move(d, target.id, &minus, NULL)) < 0 ||
	    (rc = chain_balance_add_locked(d, DEVNET_MARKET_ID, &minus)) < 0 ||
	    (rc = chain_balance_add_locked(d, from, &amount)) < 0)
		return rc;
	if (cbor_put_bytes(ret, bytes, bigint_to_bytes(bytes, &amount)) < 0)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	return EXIT_OK;
}

/* ---- bulk injection ---- */

static int inject_check(struct devnet *d, const struct market_inject *in,
			int64_t start, int64_t end)
{
	const struct market_inject_piece *p;

	if (in->nproviders == 0 || in->npieces == 0 ||
	    in->npieces > MARKET_INJECT_MAX / in->nproviders)
		return efs_error_set(EFS_EINVAL, "between 1 and %d deals at "
				     "once", MARKET_INJECT_MAX);
	for (size_t i = 0; i < in->nproviders; i++) {
		if (!devnet_miner_find(d, in->providers[i]))
			return efs_error_set(EFS_EINVAL, "provider f0%llu is "
					     "not a miner",
					     (unsigned long long)
						     in->providers[i]);
		for (size_t j = 0; j < i; j++)
			if (in->providers[j] == in->providers[i])
				return efs_error_set(
					EFS_EINVAL, "provider f0%llu given "
					"twice",
					(unsigned long long)in->providers[i]);
	}
	for (size_t i = 0; i < in->npieces; i++) {
		p = &in->pieces[i];
		if (!is_pow2(p->size) || p->size < 128)
			return efs_error_set(EFS_EINVAL, "piece %zu: size "
					     "%llu is invalid", i,
					     (unsigned long long)p->size);
		if (p->label_len > DEVNET_LABEL_MAX)
			return efs_error_set(EFS_EINVAL, "piece %zu: label "
					     "longer than %d bytes", i,
					     DEVNET_LABEL_MAX);
	}
	if (end <= start || end <= d->head)
		return efs_error_set(EFS_EINVAL, "end epoch %lld is not after "
				     "the start %lld and the head %lld",
				     (long long)end, (long long)start,
				     (long long)d->head);
	return 0;
}

/* One deal of piece pc with provider, active at the head. */
static int inject_one(struct devnet *d, uint64_t *id,
		      const struct market_inject *in,
		      const struct market_inject_piece *pc, uint64_t provider,
		      uint64_t client_id, int64_t start, int64_t end)
{
	struct mk12_proposal p;
	struct cid pcid;
	int rc;

	memset(&p, 0, sizeof(p));
	p.piece_cid = pc->cid;
	p.piece_size = pc->size;
	p.verified = in->verified;
	p.client = in->client;
	filaddr_init_id(&p.provider, provider);
	/* Only read: the proposal is encoded, never changed or freed. */
	p.label.data.ptr = (uint8_t *)(uintptr_t)pc->label;
	p.label.data.len = pc->label ? pc->label_len : 0;
	p.start_epoch = start;
	p.end_epoch = end;
	if ((rc = mk12_proposal_cid(&pcid, &p)) < 0)
		return rc;
	rc = deal_insert(d, id, &p, &pcid, client_id);
	if (rc == EFS_EEXISTS)
		return efs_error_set(EFS_EEXISTS, "cannot publish duplicate "
				     "deal proposal (piece %zu, provider "
				     "f0%llu)", (size_t)(pc - in->pieces),
				     (unsigned long long)provider);
	if (rc < 0)
		return rc;
	return deal_update(d, "UPDATE devnet_deals SET sector_start = ?,"
			      " sector = ? WHERE id = ?",
			   d->head, (int64_t)*id, *id);
}

static int inject_locked(struct devnet *d, uint64_t *ids,
			 const struct market_inject *in)
{
	int64_t start = in->has_start ? in->start : d->head;
	int64_t end = in->end ? in->end : start + MARKET_INJECT_TERM;
	struct chain_actor client;
	size_t k = 0;
	int rc;

	if ((rc = inject_check(d, in, start, end)) < 0)
		return rc;
	if ((rc = db_begin(d->db)) < 0)
		return rc;
	if ((rc = chain_actor_ensure_locked(d, &client, &in->client)) < 0)
		goto fail;
	for (size_t i = 0; i < in->npieces; i++)
		for (size_t j = 0; j < in->nproviders; j++, k++)
			if ((rc = inject_one(d, &ids[k], in, &in->pieces[i],
					     in->providers[j], client.id,
					     start, end)) < 0)
				goto fail;
	return db_commit(d->db);
fail:
	db_rollback(d->db);
	return rc;
}

int market_inject(struct devnet *d, uint64_t *ids, int64_t *head,
		  const struct market_inject *in)
{
	int rc;

	pthread_mutex_lock(&d->lock);
	*head = d->head;
	rc = inject_locked(d, ids, in);
	pthread_mutex_unlock(&d->lock);
	return rc;
}
