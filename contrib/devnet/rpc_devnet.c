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
 *
 * Faults are the JSON of struct devnet_fault (devnet.h): SetFault
 * changes only the fields given.
 */
#include "contrib/devnet/rpc_i.h"

#include <stdio.h>

#include "core/error.h"

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
