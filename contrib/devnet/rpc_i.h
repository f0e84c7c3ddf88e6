/*
 * rpc_i.h - what the JSON-RPC method files (rpc_chain.c, rpc_state.c,
 * rpc_mpool.c, rpc_devnet.c) share with the dispatcher (rpc.c).
 *
 * The dispatcher does what go-jsonrpc and Lotus' permission proxy do, in
 * their order: find the method (-32601), check the parameter count
 * (-32602), decode each parameter by its Go type (-32700 "unmarshaling
 * params for 'M' (param: *T): ..."), check the caller's permission
 * (code 1 "missing permission to invoke 'Name' (need 'perm')"), then
 * call the method.  A method gets its decoded parameters in c->p[] and
 * returns 0 with *out set (NULL means null), or a negative efs code: the
 * reply is then code 1 with the efs error message (what Lotus' errors
 * look like), unless the method filled c->err itself (a parameter it
 * decodes on its own, with rpc_param_error).
 */
#ifndef EFS_DEVNET_RPC_I_H
#define EFS_DEVNET_RPC_I_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "contrib/devnet/chain.h"
#include "contrib/devnet/rpc.h"
#include "contrib/devnet/rpc_parse.h"
#include "core/bigint.h"
#include "core/cid.h"
#include "core/filaddr.h"

#define RPC_PARAMS_MAX 5

/*
 * Parameter kinds, one letter each in struct rpc_method.params:
 *	a  address.Address       -> p[i].addr
 *	k  types.TipSetKey       -> p[i].i (its height; the head for
 *	                            null or [])
 *	c  cid.Cid               -> p[i].cid
 *	d  abi.DealID            -> p[i].u
 *	s  abi.PaddedPieceSize   -> p[i].u
 *	l  verifreg.ClaimId      -> p[i].u
 *	u  uint64                -> p[i].u
 *	e  abi.ChainEpoch        -> p[i].i
 *	b  bool                  -> p[i].b
 *	n  big.Int               -> p[i].big
 *	B  []uint8 (base64)      -> p[i].json (checked to be a string)
 *	j  anything; the method decodes p[i].json itself
 */
union rpc_param {
	struct filaddr addr;
	struct cid cid;
	uint64_t u;
	int64_t i;
	bool b;
	struct bigint big;
	const json_t *json;
};

struct rpc_call {
	struct devnet *d;
	int version;                     /* 0 or 1 */
	const char *method;              /* "Filecoin.ChainHead" */
	unsigned perms;                  /* the caller's (jwt.h bits) */
	union rpc_param p[RPC_PARAMS_MAX];
	const json_t *raw[RPC_PARAMS_MAX];
	struct rpc_error err;            /* code 0 unless set */
};

typedef int (*rpc_fn)(struct rpc_call *c, json_t **out);

/*
 * Report that parameter i (Go type gotype, without '*') did not decode:
 * -32700 "unmarshaling params for 'M' (param: *gotype): <fmt...>".
 * Returns EFS_EINVAL.
 */
int rpc_param_error(struct rpc_call *c, const char *gotype, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));

/*
 * A method's return: *out = v, and 0, or EFS_ENOMEM when v is NULL (the
 * builder that made it ran out of memory).
 */
int rpc_result(json_t **out, json_t *v);

/* ---- result builders: new references, NULL when out of memory ---- */

json_t *rpc_json_cid(const struct cid *c);            /* {"/": "..."} */
json_t *rpc_json_addr(const struct devnet *d, const struct filaddr *a);
json_t *rpc_json_id_addr(const struct devnet *d, uint64_t id);
json_t *rpc_json_bigint(const struct bigint *v);      /* "123" */
json_t *rpc_json_bytes(const uint8_t *p, size_t len); /* base64; null if
							* len is 0 */
json_t *rpc_json_tsk(int64_t height);                 /* [{"/": ...}] */
json_t *rpc_json_tipset(struct devnet *d, int64_t height);

/* Decode {"/": "..."} as go-cid does; 0 or EFS_EINVAL with its message. */
int rpc_cid_from_json(struct cid *out, const json_t *v);

/* ---- methods (the files named) ---- */

/* rpc_chain.c */
int rpc_chain_head(struct rpc_call *c, json_t **out);
int rpc_chain_get_tipset_by_height(struct rpc_call *c, json_t **out);
int rpc_chain_get_genesis(struct rpc_call *c, json_t **out);
int rpc_version(struct rpc_call *c, json_t **out);
int rpc_state_network_name(struct rpc_call *c, json_t **out);
int rpc_state_network_version(struct rpc_call *c, json_t **out);

/* rpc_state.c */
int rpc_state_list_miners(struct rpc_call *c, json_t **out);
int rpc_state_miner_info(struct rpc_call *c, json_t **out);
int rpc_state_miner_power(struct rpc_call *c, json_t **out);
int rpc_state_lookup_id(struct rpc_call *c, json_t **out);
int rpc_state_account_key(struct rpc_call *c, json_t **out);
int rpc_state_get_actor(struct rpc_call *c, json_t **out);
int rpc_wallet_balance(struct rpc_call *c, json_t **out);
int rpc_state_market_balance(struct rpc_call *c, json_t **out);
int rpc_state_verified_client_status(struct rpc_call *c, json_t **out);
int rpc_state_deal_provider_collateral_bounds(struct rpc_call *c,
					      json_t **out);
int rpc_state_market_storage_deal(struct rpc_call *c, json_t **out);
int rpc_state_get_claim(struct rpc_call *c, json_t **out);

/* rpc_mpool.c */
int rpc_gas_estimate_message_gas(struct rpc_call *c, json_t **out);
int rpc_mpool_get_nonce(struct rpc_call *c, json_t **out);
int rpc_mpool_push(struct rpc_call *c, json_t **out);
int rpc_state_search_msg(struct rpc_call *c, json_t **out);
int rpc_state_wait_msg(struct rpc_call *c, json_t **out);

/* rpc_devnet.c: the admin methods of the Devnet namespace */
int rpc_devnet_faucet(struct rpc_call *c, json_t **out);
int rpc_devnet_grant_datacap(struct rpc_call *c, json_t **out);
int rpc_devnet_set_fault(struct rpc_call *c, json_t **out);
int rpc_devnet_get_fault(struct rpc_call *c, json_t **out);
int rpc_devnet_set_price(struct rpc_call *c, json_t **out);
int rpc_devnet_miners(struct rpc_call *c, json_t **out);
int rpc_devnet_mine(struct rpc_call *c, json_t **out);
int rpc_devnet_inject_deals(struct rpc_call *c, json_t **out);

#endif
