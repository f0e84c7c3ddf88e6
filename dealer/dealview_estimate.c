/*
 * dealview_estimate.c - what replicating a subject costs at the asks the
 * dealer recorded (dealview.h): `estuaryfs estimate` and the REST route
 * POST /deals/estimate.  Moved here from cli/cmd_estimate.c.
 *
 * Design notes:
 * - The asks are those of miners.h, read-only; nothing is asked of an SP
 *   here (an estimate must not wait on the network).  Estuary's own
 *   estimate ran its miner picker; the offers here are the SPs the
 *   dealer's selection could pick (the same eligibility rules), sorted
 *   by price, and the total is the n cheapest.
 * - A piece's price per epoch is Curio's: ask * padded / 2^30, summed
 *   over the subject's share of each piece.
 */
#include "dealer/dealview.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/commp.h"
#include "core/error.h"
#include "dealer/dealproto.h"
#include "dealer/miners.h"

#include "core/banned.h"

int dealview_est_size_add(struct dealview_est *e, uint64_t deal,
			  uint64_t share)
{
	if (e->nsizes == DEALVIEW_EST_PIECES_MAX)
		return efs_error_set(EFS_ETOOBIG, "estimate: over %d pieces",
				     DEALVIEW_EST_PIECES_MAX);
	e->sizes[e->nsizes].deal = deal;
	e->sizes[e->nsizes++].share = share;
	return 0;
}

uint64_t dealview_est_agg_padded(const struct dealer_config *cfg)
{
	uint64_t p = COMMP_PADDED_MIN;

	while (p < cfg->aggregate_below && p < (1ull << 62))
		p <<= 1;
	return p;
}

int dealview_est_car(struct dealview_est *e, const struct dealer_config *cfg,
		     uint64_t car_size)
{
	uint64_t padded = commp_padded_size(car_size), left = car_size;
	int rc = 0;

	if (padded < cfg->aggregate_below) {
		e->aggregated = e->agg_open = true;
		return dealview_est_size_add(e, dealview_est_agg_padded(cfg),
					     padded);
	}
	if (car_size <= cfg->max_payload)
		return dealview_est_size_add(e, padded, padded);
	while (left && rc == 0) {
		uint64_t n = left < cfg->max_payload ? left : cfg->max_payload;

		padded = commp_padded_size(n);
		rc = dealview_est_size_add(e, padded, padded);
		left -= n;
	}
	return rc;
}

/* ---- the asks ----------------------------------------------------------- */

struct offers {
	struct dealview_est *e;
	const struct dealer_config *cfg;
};

static bool listed(const struct filaddr *a, const struct filaddr *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (filaddr_equal(a, &v[i]))
			return true;
	return false;
}

/* Whether the dealer could deal with r at all (price aside). */
static bool dealable(const struct offers *o, const struct miner_record *r)
{
	const struct dealer_config *cfg = o->cfg;

	if (!r->has_ask || !r->url || r->disabled ||
	    config_excluded(cfg, &r->addr) ||
	    (cfg->nminers && !listed(&r->addr, cfg->miners, cfg->nminers)))
		return false;
	for (size_t i = 0; i < o->e->nsizes; i++)
		if (o->e->sizes[i].deal < r->ask.min_piece ||
		    o->e->sizes[i].deal > r->ask.max_piece)
			return false;
	return true;
}

/* One deal of the subject at a price per GiB per epoch. */
static int deal_cost(struct bigint *out, const struct dealview_est *e,
		     const struct bigint *per_gib)
{
	struct bigint sum, one, epochs;
	int rc = 0;

	bigint_from_u64(&sum, 0);
	for (size_t i = 0; i < e->nsizes && rc == 0; i++)
		if ((rc = dealproto_price_per_epoch(&one, per_gib,
						    e->sizes[i].share)) == 0)
			rc = bigint_add(&sum, &sum, &one);
	bigint_from_i64(&epochs, e->duration);
	return rc ? rc : bigint_mul(out, &sum, &epochs);
}

static int offer_cb(const struct miner_record *r, void *cls)
{
	struct offers *x = cls;
	struct dealview_est *e = x->e;
	struct dealview_offer *o;
	int rc;

	if (!dealable(x, r))
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
	o->ok = bigint_cmp(&o->price, &x->cfg->max_price) <= 0;
	o->vok = bigint_cmp(&o->vprice, &x->cfg->max_verified_price) <= 0;
	if ((rc = deal_cost(&o->deal, e, &o->price)) < 0 ||
	    (rc = deal_cost(&o->vdeal, e, &o->vprice)) < 0)
		return rc;
	e->noffers++;
	return 0;
}

/* Cheapest unverified first; those over the cap last. */
static int by_price(const void *a, const void *b)
{
	const struct dealview_offer *x = a, *y = b;
	int c;

	if (x->ok != y->ok)
		return x->ok ? -1 : 1;
	c = bigint_cmp(&x->deal, &y->deal);
	return c ? c : bigint_cmp(&x->vdeal, &y->vdeal);
}

static int by_vprice(const void *a, const void *b)
{
	const struct dealview_offer *x = a, *y = b;

	if (x->vok != y->vok)
		return x->vok ? -1 : 1;
	return bigint_cmp(&x->vdeal, &y->vdeal);
}

int dealview_est_offers(struct dealview_est *e, const struct dealview *v)
{
	struct miners_opts opts = MINERS_OPTS_INIT;
	struct offers x = { e, &v->cfg };
	struct miners *m = NULL;
	int rc;

	if (!v->has_index)
		return 0;
	opts.read_only = true;
	if ((rc = miners_open(&m, v->db, &opts)) == EFS_ENOTFOUND)
		return 0;
	if (rc == 0)
		rc = miners_foreach(m, offer_cb, &x);
	miners_close(m);
	return rc;
}

int dealview_est_total(struct bigint *out, unsigned *deals,
		       struct dealview_est *e, bool verified)
{
	int rc = 0;

	bigint_from_u64(out, 0);
	*deals = 0;
	if (e->noffers)
		qsort(e->offers, e->noffers, sizeof(*e->offers),
		      verified ? by_vprice : by_price);
	for (size_t i = 0; i < e->noffers && *deals < e->n && rc == 0; i++) {
		const struct dealview_offer *o = &e->offers[i];

		if (!(verified ? o->vok : o->ok))
			break;
		rc = bigint_add(out, out, verified ? &o->vdeal : &o->deal);
		++*deals;
	}
	return rc;
}

void dealview_est_release(struct dealview_est *e)
{
	efs_free(e->offers);
	e->offers = NULL;
	e->noffers = e->cap = 0;
}

/* ---- JSON --------------------------------------------------------------- */

/* FIL of attoFIL, as a double (for USD only). */
static double fil_of(const struct bigint *a)
{
	char s[BIGINT_STR_MAX];

	bigint_format(s, a);
	return strtod(s, NULL) / 1e18;
}

static json_t *jusd(const struct bigint *a, const double *fil_usd)
{
	return fil_usd ? json_real(fil_of(a) * *fil_usd) : json_null();
}

static json_t *jcost(bool ok, const struct bigint *a, const double *fil_usd,
		     bool *bad)
{
	json_t *o = json_object();

	if (!o) {
		*bad = true;
		return NULL;
	}
	dealview_jset(o, "eligible", json_boolean(ok), bad);
	dealview_jset(o, "per_deal", dealview_jamount(a, bad), bad);
	dealview_jset(o, "usd", jusd(a, fil_usd), bad);
	return o;
}

static json_t *joffers(const struct dealview_est *e, const double *fil_usd,
		       bool *bad)
{
	json_t *arr = json_array(), *o;
	char sp[FILADDR_STR_MAX];

	for (size_t i = 0; arr && i < e->noffers; i++) {
		const struct dealview_offer *x = &e->offers[i];

		if (!(o = json_object()) || json_array_append_new(arr, o)) {
			*bad = true;
			break;
		}
		filaddr_format(sp, &x->sp, 'f');
		dealview_jset(o, "sp", json_string(sp), bad);
		dealview_jset(o, "price_per_gib_epoch",
			      dealview_jamount(&x->price, bad), bad);
		dealview_jset(o, "verified_price_per_gib_epoch",
			      dealview_jamount(&x->vprice, bad), bad);
		dealview_jset(o, "unverified",
			      jcost(x->ok, &x->deal, fil_usd, bad), bad);
		dealview_jset(o, "verified",
			      jcost(x->vok, &x->vdeal, fil_usd, bad), bad);
	}
	if (!arr)
		*bad = true;
	return arr;
}

static json_t *jtotal(const struct bigint *sum, unsigned deals,
		      const double *fil_usd, bool *bad)
{
	json_t *o = json_object();

	if (!o) {
		*bad = true;
		return NULL;
	}
	dealview_jset(o, "deals", json_integer(deals), bad);
	dealview_jset(o, "fil", dealview_jamount(sum, bad), bad);
	dealview_jset(o, "usd", jusd(sum, fil_usd), bad);
	return o;
}

static json_t *jsizes(const struct dealview_est *e, bool *bad)
{
	json_t *arr = json_array(), *o;

	for (size_t i = 0; arr && i < e->nsizes; i++) {
		if (!(o = json_object()) || json_array_append_new(arr, o)) {
			*bad = true;
			break;
		}
		dealview_jset(o, "deal_padded", dealview_jint(e->sizes[i].deal),
			      bad);
		dealview_jset(o, "share_padded",
			      dealview_jint(e->sizes[i].share), bad);
	}
	if (!arr)
		*bad = true;
	return arr;
}

int dealview_est_json(json_t *o, struct dealview_est *e,
		      const double *fil_usd, bool *bad)
{
	struct bigint sum, vsum;
	unsigned n, vn;
	int rc;

	if ((rc = dealview_est_total(&vsum, &vn, e, true)) < 0 ||
	    (rc = dealview_est_total(&sum, &n, e, false)) < 0)
		return rc;
	dealview_jset(o, "pieces", jsizes(e, bad), bad);
	dealview_jset(o, "sps", joffers(e, fil_usd, bad), bad);
	dealview_jset(o, "unverified", jtotal(&sum, n, fil_usd, bad), bad);
	dealview_jset(o, "verified", jtotal(&vsum, vn, fil_usd, bad), bad);
	return 0;
}
