/*
 * rpc_devnet.c - the simulator's own methods, namespace "Devnet" (admin
 * permission unless said otherwise):
 *
 *	Devnet.Faucet [address, attoFIL]     -> {"ID","Balance"}
 *	Devnet.GrantDataCap [address, bytes] -> {"ID","DataCap"}
 *	Devnet.SetFault [miner, {faults}]    -> the miner's faults now
 *	Devnet.GetFault [miner]              -> its faults
 *	Devnet.SetPrice [usd per FIL]        -> null
 *	Devnet.Miners []                     -> every miner's settings (read)
 *	Devnet.Mine [n]                      -> the head after n epochs more
 *	                                        (the clock may add some)
 *	Devnet.InjectDeals [{request}]       -> {"DealIDs":[...],
 *	                                        "SectorStartEpoch":H}
 *
 * Faults are the JSON of struct devnet_fault (devnet.h): SetFault
 * changes only the fields given.
 *
 * InjectDeals makes deals that are active at once, in bulk and in one
 * transaction (60,000 take seconds), for load tests of a client's deal
 * tracking: one deal per piece and provider, free of charge (price and
 * collaterals 0; see market_inject).  The request:
 *
 *	{"client": "f1...",                  the deals' client
 *	 "providers": ["f01000", ...],       distinct miners, at most 64
 *	 "pieces": [{"cid": "baga...", "size": 2048, "label": "bafy..."}],
 *	   or "count": N, "size": 2048       N pieces of random CommPs
 *	 "start": E, "end": E,               default: the head, start +
 *	                                     1051200
 *	 "verified": false}
 *
 * DealIDs are piece-major: piece i's deal with provider j is at
 * i * len(providers) + j.
 */
#include "contrib/devnet/rpc_i.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/commp.h"
#include "core/error.h"
#include "core/fdio.h"

#include "core/banned.h"

/* Most epochs one Devnet.Mine call makes. */
#define MINE_MAX 100000

static int grant(struct rpc_call *c, json_t **out, bool datacap)
{
	struct bigint now;
	uint64_t id;
	int rc;

	if (c->p[1].big.neg)
		return efs_error_set(EFS_EINVAL, "amount must not be negative");
	if ((rc = chain_grant(c->d, &id, &now, &c->p[0].addr, &c->p[1].big,
			      datacap)) < 0)
		return rc;
	return rpc_result(out, json_pack("{s:o, s:o}",
					 "ID", rpc_json_id_addr(c->d, id),
					 datacap ? "DataCap" : "Balance",
					 rpc_json_bigint(&now)));
}

int rpc_devnet_faucet(struct rpc_call *c, json_t **out)
{
	return grant(c, out, false);
}

int rpc_devnet_grant_datacap(struct rpc_call *c, json_t **out)
{
	return grant(c, out, true);
}

static int miner_param(struct rpc_call *c, struct devnet_miner **out)
{
	const struct filaddr *a = &c->p[0].addr;

	*out = a->protocol == FILADDR_ID ? devnet_miner_find(c->d, a->id)
					 : NULL;
	if (!*out) {
		char text[FILADDR_STR_MAX];

		filaddr_format(text, a, c->d->net);
		return efs_error_set(EFS_ENOTFOUND, "no devnet miner %s",
				     text);
	}
	return 0;
}

int rpc_devnet_set_fault(struct rpc_call *c, json_t **out)
{
	struct devnet_miner *m;
	struct devnet_fault f;
	int rc;

	if ((rc = miner_param(c, &m)) < 0)
		return rc;
	devnet_fault_get(c->d, m, &f);
	if ((rc = devnet_fault_from_json(&f, c->p[1].json)) < 0 ||
	    (rc = devnet_fault_set(c->d, m, &f)) < 0)
		return rc;
	return rpc_result(out, devnet_fault_to_json(&f));
}

int rpc_devnet_get_fault(struct rpc_call *c, json_t **out)
{
	struct devnet_miner *m;
	struct devnet_fault f;
	int rc;

	if ((rc = miner_param(c, &m)) < 0)
		return rc;
	devnet_fault_get(c->d, m, &f);
	return rpc_result(out, devnet_fault_to_json(&f));
}

int rpc_devnet_set_price(struct rpc_call *c, json_t **out)
{
	const json_t *v = c->p[0].json;

	if (!json_is_number(v) || json_number_value(v) < 0)
		return rpc_param_error(c, "float64",
				       "json: cannot unmarshal "
				       "%s into Go value of type float64",
				       rpc_parse_type_name(v));
	*out = NULL;
	return chain_set_fil_usd(c->d, json_number_value(v));
}

static json_t *miner_json(struct devnet *d, const struct devnet_miner *m)
{
	struct devnet_fault f;
	char url[128];

	devnet_fault_get(d, m, &f);
	snprintf(url, sizeof(url), "http://%s:%u", d->host,
		 (unsigned)m->port);
	return json_pack("{s:o, s:o, s:o, s:s, s:s, s:o, s:o, s:I, s:I, s:I,"
			 " s:I, s:o}",
			 "Address", rpc_json_addr(d, &m->addr),
			 "Worker", rpc_json_addr(d, &m->worker.addr),
			 "WorkerID", rpc_json_id_addr(d, m->worker_id),
			 "PeerId", m->peer_id, "URL", url,
			 "Price", rpc_json_bigint(&m->price),
			 "VerifiedPrice", rpc_json_bigint(&m->verified_price),
			 "MinPieceSize",
			 (json_int_t)devnet_min_piece(d, m),
			 "MaxPieceSize", (json_int_t)m->max_piece,
			 "SectorSize", (json_int_t)m->sector_size,
			 "SealDelay", (json_int_t)m->seal_delay,
			 "Fault", devnet_fault_to_json(&f));
}

int rpc_devnet_miners(struct rpc_call *c, json_t **out)
{
	json_t *v = json_array();

	for (size_t i = 0; v && i < c->d->nminers; i++)
		if (json_array_append_new(v, miner_json(c->d,
							&c->d->miners[i]))) {
			json_decref(v);
			v = NULL;
		}
	return rpc_result(out, v);
}

int rpc_devnet_mine(struct rpc_call *c, json_t **out)
{
	struct devnet *d = c->d;
	bool stop = false;
	int rc = 0;

	if (c->p[0].u > MINE_MAX)
		return efs_error_set(EFS_EINVAL, "at most %d epochs at once",
				     MINE_MAX);
	/* The lock is taken per epoch: up to MINE_MAX ticks take seconds,
	 * and the other methods and the SPs go on between them. */
	for (uint64_t i = 0; i < c->p[0].u && rc == 0 && !stop; i++) {
		pthread_mutex_lock(&d->lock);
		stop = d->stopping;
		if (!stop)
			rc = chain_tick_locked(d);
		pthread_mutex_unlock(&d->lock);
	}
	if (rc < 0)
		return rc;
	return rpc_result(out, json_integer(chain_head(d)));
}

/* ---- Devnet.InjectDeals ---- */

static int inject_addr(struct filaddr *out, const json_t *v, const char *what)
{
	const char *s = json_string_value(v);

	if (!s || filaddr_parse(out, NULL, s, strlen(s)) < 0)
		return efs_error_set(EFS_EINVAL, "%s: not an address", what);
	return 0;
}

static int inject_providers(uint64_t *out, size_t *n, const json_t *v)
{
	struct filaddr a;
	size_t i;
	json_t *e;
	int rc;

	if (!json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > DEVNET_MINERS_MAX)
		return efs_error_set(EFS_EINVAL, "providers: an array of 1 to "
				     "%d miners", DEVNET_MINERS_MAX);
	json_array_foreach(v, i, e)
	{
		if ((rc = inject_addr(&a, e, "providers")) < 0)
			return rc;
		if (a.protocol != FILADDR_ID)
			return efs_error_set(EFS_EINVAL, "providers: %s is "
					     "not an f0 address",
					     json_string_value(e));
		out[i] = a.id;
	}
	*n = json_array_size(v);
	return 0;
}

static int inject_size(uint64_t *out, const json_t *v, size_t i)
{
	if (!json_is_integer(v) || json_integer_value(v) <= 0)
		return efs_error_set(EFS_EINVAL, "piece %zu: size: a positive "
				     "integer", i);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* {"cid": "baga..." or {"/": ...}, "size": N, "label": "..."} */
static int inject_piece(struct market_inject_piece *out, const json_t *v,
			size_t i)
{
	const json_t *c = json_object_get(v, "cid"), *l;
	const char *s;
	int rc;

	if (!json_is_object(v) || json_object_size(v) >
					  2 + !!json_object_get(v, "label"))
		return efs_error_set(EFS_EINVAL, "piece %zu: an object of cid, "
				     "size and label", i);
	s = json_string_value(c);
	rc = s ? cid_parse(&out->cid, s) : rpc_cid_from_json(&out->cid, c);
	if (rc < 0 || !commp_cid_is_v1(&out->cid))
		return efs_error_set(EFS_EINVAL, "piece %zu: cid: not a piece "
				     "CID v1", i);
	if ((rc = inject_size(&out->size, json_object_get(v, "size"), i)) < 0)
		return rc;
	if ((l = json_object_get(v, "label")) != NULL) {
		if (!json_is_string(l))
			return efs_error_set(EFS_EINVAL, "piece %zu: label: a "
					     "string", i);
		out->label = json_string_value(l);
		out->label_len = json_string_length(l);
	}
	return 0;
}

/* count pieces of size with random CommPs (no data behind them). */
static int inject_random(struct market_inject_piece *v, size_t count,
			 uint64_t size)
{
	uint8_t root[COMMP_NODE_SIZE];
	struct commp_piece cp;

	for (size_t i = 0; i < count; i++) {
		if (fdio_random(root, sizeof(root)) < 0)
			return efs_error_set(EFS_EIO, "devnet: getrandom");
		root[COMMP_NODE_SIZE - 1] &= 0x3f;
		if (commp_piece_init(&cp, root, size, 0) < 0)
			return efs_error_set(EFS_EINVAL, "size %llu is not a "
					     "piece size",
					     (unsigned long long)size);
		commp_cid_v1(&v[i].cid, &cp);
		v[i].size = size;
	}
	return 0;
}

static int inject_pieces(struct market_inject_piece **out, size_t *n,
			 const json_t *req)
{
	const json_t *pv = json_object_get(req, "pieces"),
		     *cv = json_object_get(req, "count"), *e;
	uint64_t size;
	size_t i;
	int rc = 0;

	if (!!pv == !!cv || (pv && !json_is_array(pv)) ||
	    (cv && (!json_is_integer(cv) || json_integer_value(cv) <= 0 ||
		    json_integer_value(cv) > MARKET_INJECT_MAX)))
		return efs_error_set(EFS_EINVAL, "pieces: an array, or count: "
				     "1 to %d (not both)", MARKET_INJECT_MAX);
	*n = pv ? json_array_size(pv) : (size_t)json_integer_value(cv);
	if (*n == 0 || *n > MARKET_INJECT_MAX)
		return efs_error_set(EFS_EINVAL, "pieces: 1 to %d",
				     MARKET_INJECT_MAX);
	if (!(*out = efs_calloc(*n, sizeof(**out))))
		return EFS_ENOMEM;
	if (cv) {
		if ((rc = inject_size(&size, json_object_get(req, "size"),
				      0)) == 0)
			rc = inject_random(*out, *n, size);
		return rc;
	}
	json_array_foreach(pv, i, e)
	{
		if ((rc = inject_piece(&(*out)[i], e, i)) < 0)
			return rc;
	}
	return 0;
}

static int inject_epoch(int64_t *out, bool *given, const json_t *v,
			const char *what)
{
	if (!v)
		return 0;
	if (!json_is_integer(v))
		return efs_error_set(EFS_EINVAL, "%s: an epoch", what);
	*out = json_integer_value(v);
	if (given)
		*given = true;
	return 0;
}

static int inject_request(struct market_inject *in, uint64_t *providers,
			  struct market_inject_piece **pieces,
			  const json_t *req)
{
	static const char *const keys[] = { "client", "providers", "pieces",
					    "count", "size", "start", "end",
					    "verified" };
	const json_t *v;
	const char *k;
	int rc;

	if (!json_is_object(req))
		return efs_error_set(EFS_EINVAL, "InjectDeals takes one "
				     "object");
	json_object_foreach((json_t *)req, k, v)
	{
		size_t i = 0;

		while (i < sizeof(keys) / sizeof(keys[0]) &&
		       strcmp(keys[i], k) != 0)
			i++;
		if (i == sizeof(keys) / sizeof(keys[0]))
			return efs_error_set(EFS_EINVAL, "unknown field '%s'",
					     k);
	}
	v = json_object_get(req, "verified");
	if (v && !json_is_boolean(v))
		return efs_error_set(EFS_EINVAL, "verified: a boolean");
	in->verified = json_is_true(v);
	in->providers = providers;
	if ((rc = inject_addr(&in->client, json_object_get(req, "client"),
			      "client")) < 0 ||
	    (rc = inject_providers(providers, &in->nproviders,
				   json_object_get(req, "providers"))) < 0 ||
	    (rc = inject_epoch(&in->start, &in->has_start,
			       json_object_get(req, "start"), "start")) < 0 ||
	    (rc = inject_epoch(&in->end, NULL, json_object_get(req, "end"),
			       "end")) < 0 ||
	    (rc = inject_pieces(pieces, &in->npieces, req)) < 0)
		return rc;
	in->pieces = *pieces;
	return 0;
}

int rpc_devnet_inject_deals(struct rpc_call *c, json_t **out)
{
	uint64_t providers[DEVNET_MINERS_MAX], *ids = NULL;
	struct market_inject_piece *pieces = NULL;
	struct market_inject in;
	json_t *v = NULL, *a;
	int64_t head;
	int rc;

	memset(&in, 0, sizeof(in));
	if ((rc = inject_request(&in, providers, &pieces, c->p[0].json)) < 0)
		goto out;
	if (!(ids = efs_calloc(in.npieces * in.nproviders, sizeof(*ids)))) {
		rc = EFS_ENOMEM;
		goto out;
	}
	if ((rc = market_inject(c->d, ids, &head, &in)) < 0)
		goto out;
	v = json_pack("{s:[], s:I}", "DealIDs", "SectorStartEpoch",
		      (json_int_t)head);
	a = json_object_get(v, "DealIDs");
	for (size_t i = 0; v && i < in.npieces * in.nproviders; i++)
		if (json_array_append_new(a, json_integer((json_int_t)ids[i]))) {
			json_decref(v);
			v = NULL;
			break;
		}
	rc = rpc_result(out, v);
out:
	efs_free(pieces);
	efs_free(ids);
	return rc;
}
