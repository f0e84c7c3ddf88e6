/*
 * rpc_json.c - Lotus' JSON forms for the devnet's RPC methods: decoding
 * parameters by their Go types (with the messages encoding/json and the
 * types' UnmarshalJSON methods give) and building results (CIDs as
 * {"/": ...}, big integers as decimal strings, bytes as standard base64,
 * tipsets as types.TipSet marshals).
 */
#include "contrib/devnet/rpc_i.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/filjson.h"

#include "core/banned.h"

int rpc_param_error(struct rpc_call *c, const char *gotype, const char *fmt,
		    ...)
{
	char detail[RPC_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	rpc_parse_error_set(&c->err, RPC_PARSE_ERROR,
			    "unmarshaling params for '%s' (param: *%s): %s",
			    c->method, gotype, detail);
	return efs_error_set(EFS_EINVAL, "%s", c->err.message);
}

int rpc_result(json_t **out, json_t *v)
{
	*out = v;
	return v ? 0 : efs_error_set(EFS_ENOMEM, "out of memory");
}

/* ---- bytes ---- */

json_t *rpc_json_bytes(const uint8_t *p, size_t len)
{
	json_t *v;

	return filjson_bytes_encode(&v, p, len) < 0 ? NULL : v;
}

/* ---- CIDs, addresses, amounts ---- */

json_t *rpc_json_cid(const struct cid *c)
{
	json_t *v;

	return filjson_cid_encode(&v, c) < 0 ? NULL : v;
}

int rpc_cid_from_json(struct cid *out, const json_t *v)
{
	if (filjson_cid_decode(out, v, "cid") < 0)
		return efs_error_set(EFS_EINVAL, "%s", efs_error_msg());
	return 0;
}

json_t *rpc_json_addr(const struct devnet *d, const struct filaddr *a)
{
	json_t *v;

	return filjson_addr_encode(&v, a, d->net) < 0 ? NULL : v;
}

json_t *rpc_json_id_addr(const struct devnet *d, uint64_t id)
{
	struct filaddr a;

	filaddr_init_id(&a, id);
	return rpc_json_addr(d, &a);
}

json_t *rpc_json_bigint(const struct bigint *v)
{
	json_t *j;

	return filjson_bigint_encode(&j, v) < 0 ? NULL : j;
}

/* ---- tipsets ---- */

json_t *rpc_json_tsk(int64_t height)
{
	struct cid c;

	chain_block_cid(&c, height);
	return json_pack("[o]", rpc_json_cid(&c));
}

/* A CID standing for the height's state root, receipts, messages. */
static json_t *derived_cid(int64_t height, const char *what)
{
	char seed[64];
	struct cid c;
	int n = snprintf(seed, sizeof(seed), "estuaryfs-devnet %s %lld", what,
			 (long long)height);

	if (cid_hash(&c, 1, CID_CODEC_DAG_CBOR, MHASH_BLAKE2B_256, seed,
		     (size_t)n) < 0)
		return NULL;
	return rpc_json_cid(&c);
}

static json_t *block_json(struct devnet *d, int64_t height, uint64_t ts)
{
	char weight[32];
	struct cid self;
	json_t *proof, *parents, *v;
	uint64_t miner = DEVNET_MINER_ID0 + (uint64_t)height % d->nminers;

	chain_block_cid(&self, height);
	proof = rpc_json_bytes(self.digest, self.digest_len);
	parents = height > 0 ? rpc_json_tsk(height - 1) : json_array();
	snprintf(weight, sizeof(weight), "%lld", (long long)height);
	v = json_pack(
		"{s:o, s:{s:O}, s:{s:i, s:O}, s:[], s:[], s:o, s:s, s:I, s:o,"
		" s:o, s:o, s:{s:i, s:n}, s:I, s:{s:i, s:n}, s:i, s:s}",
		"Miner", rpc_json_id_addr(d, miner),
		"Ticket", "VRFProof", proof,
		"ElectionProof", "WinCount", 1, "VRFProof", proof,
		"BeaconEntries", "WinPoStProof",
		"Parents", parents,
		"ParentWeight", weight,
		"Height", (json_int_t)height,
		"ParentStateRoot", derived_cid(height, "state"),
		"ParentMessageReceipts", derived_cid(height, "receipts"),
		"Messages", derived_cid(height, "messages"),
		"BLSAggregate", "Type", 2, "Data",
		"Timestamp", (json_int_t)ts,
		"BlockSig", "Type", 2, "Data",
		"ForkSignaling", 0,
		"ParentBaseFee", "100");
	json_decref(proof);
	return v;
}

json_t *rpc_json_tipset(struct devnet *d, int64_t height)
{
	uint64_t ts = 0;
	json_t *block, *v;

	if (chain_timestamp(d, &ts, height) < 0)
		return NULL;
	block = block_json(d, height, ts);
	if (!block)
		return NULL;
	v = json_pack("{s:o, s:[o], s:I}", "Cids", rpc_json_tsk(height),
		      "Blocks", block, "Height", (json_int_t)height);
	return v;
}
