/*
 * rpc_chain.c - chain and node methods: ChainHead,
 * ChainGetTipSetByHeight, ChainGetGenesis, Version, StateNetworkName,
 * StateNetworkVersion.
 *
 * The devnet's chain has one block per epoch and no null rounds; its
 * tipsets are built by rpc_json_tipset.
 */
#include "contrib/devnet/rpc_i.h"

#include "core/error.h"

#include "core/banned.h"

/* Lotus' API versions (api/version.go: major << 16 | minor << 8 | patch). */
#define FULL_API_VERSION0 0x010500
#define FULL_API_VERSION1 0x020300
/* The network version the devnet claims (nv25, 2025). */
#define NETWORK_VERSION 25

int rpc_chain_head(struct rpc_call *c, json_t **out)
{
	return rpc_result(out, rpc_json_tipset(c->d, chain_head(c->d)));
}

int rpc_chain_get_tipset_by_height(struct rpc_call *c, json_t **out)
{
	int64_t h = c->p[0].i, from = c->p[1].i;

	if (h < 0)
		return efs_error_set(EFS_EINVAL, "looking for tipset with "
				     "negative height");
	if (h > from)
		return efs_error_set(EFS_EINVAL, "looking for tipset with "
				     "height greater than start point");
	return rpc_result(out, rpc_json_tipset(c->d, h));
}

int rpc_chain_get_genesis(struct rpc_call *c, json_t **out)
{
	return rpc_result(out, rpc_json_tipset(c->d, 0));
}

int rpc_version(struct rpc_call *c, json_t **out)
{
	unsigned delay = (c->d->epoch_ms + 999) / 1000;
	int api = c->version ? FULL_API_VERSION1 : FULL_API_VERSION0;

	return rpc_result(out, json_pack("{s:s, s:i, s:i, s:s}", "Version",
					 "1.36.0+estuaryfs-devnet",
					 "APIVersion", api, "BlockDelay",
					 (int)delay, "Agent",
					 "estuaryfs-devnet"));
}

int rpc_state_network_name(struct rpc_call *c, json_t **out)
{
	return rpc_result(out, json_string("estuaryfs-devnet"));
}

int rpc_state_network_version(struct rpc_call *c, json_t **out)
{
	return rpc_result(out, json_integer(NETWORK_VERSION));
}
