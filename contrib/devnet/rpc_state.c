/*
 * rpc_state.c - state queries: miners, actors, balances, market escrow
 * and deals, DataCap, collateral bounds, claims.
 *
 * The devnet keeps only the current state, so a tipset key parameter
 * is checked to name a known tipset and otherwise ignored.  Error
 * messages are Lotus' (node/impl/full/state.go, chain/stmgr).
 */
#include "contrib/devnet/rpc_i.h"

#include <arpa/inet.h>
#include <string.h>

#include "core/error.h"
#include "core/varint.h"

#include "core/banned.h"

/* go-state-types abi.RegisteredPoStProof_StackedDrgWindow32GiBV1P1 */
#define WINDOW_POST_32GIB_V1P1 8
#define WINDOW_POST_PARTITION_SECTORS 2349
/* Power every miner has besides its deals: 1 PiB. */
#define BASE_POWER ((uint64_t)1 << 50)
/* Verified deals count ten times in quality-adjusted power. */
#define VERIFIED_QA 10
/* Term of a claim beyond the deal (verifreg: max term 5 years). */
#define CLAIM_TERM_MAX 5256000

/* The actor ID behind a as StateLookupID finds it: an f0 is taken as
 * it is, as Lotus does. */
static int lookup_id(struct rpc_call *c, uint64_t *out,
		     const struct filaddr *a)
{
	struct chain_actor act;
	int rc;

	if (a->protocol == FILADDR_ID) {
		*out = a->id;
		return 0;
	}
	if ((rc = chain_actor_get(c->d, &act, a)) < 0)
		return rc;
	*out = act.id;
	return 0;
}

int rpc_state_list_miners(struct rpc_call *c, json_t **out)
{
	json_t *v = json_array();

	for (size_t i = 0; v && i < c->d->nminers; i++)
		if (json_array_append_new(v, rpc_json_addr(
					      c->d, &c->d->miners[i].addr))) {
			json_decref(v);
			v = NULL;
		}
	return rpc_result(out, v);
}

static int miner_get(struct rpc_call *c, struct devnet_miner **out,
		     const struct filaddr *a)
{
	struct chain_actor act;
	int rc;

	if ((rc = chain_actor_get(c->d, &act, a)) < 0)
		return efs_error_set(rc, "failed to load miner actor: %s",
				     efs_error_msg());
	*out = devnet_miner_find(c->d, act.id);
	if (act.kind != CHAIN_ACTOR_MINER || !*out)
		return efs_error_set(EFS_EINVAL, "failed to load miner actor "
				     "state: actor code is not a miner");
	return 0;
}

/* [ /ip4/<host>/tcp/<port>/http ] in binary, base64; null before the
 * SP has a port. */
static json_t *multiaddrs(const struct devnet *d, const struct devnet_miner *m)
{
	uint8_t ma[16] = { 0x04 };
	size_t n = 5;

	if (!m->port || inet_pton(AF_INET, d->host, ma + 1) != 1)
		return json_null();
	ma[n++] = 0x06;
	ma[n++] = (uint8_t)(m->port >> 8);
	ma[n++] = (uint8_t)m->port;
	n += varint_encode(ma + n, 0x01e0);
	return json_pack("[o]", rpc_json_bytes(ma, n));
}

int rpc_state_miner_info(struct rpc_call *c, json_t **out)
{
	struct devnet_miner *m;
	json_t *owner, *v;
	int rc;

	if ((rc = miner_get(c, &m, &c->p[0].addr)) < 0)
		return rc;
	owner = rpc_json_id_addr(c->d, m->worker_id);
	v = json_pack(
		"{s:O, s:O, s:s, s:n, s:i, s:s, s:o, s:i, s:I, s:i, s:i,"
		" s:n, s:O, s:{s:s, s:s, s:i}, s:n}",
		"Owner", owner, "Worker", owner, "NewWorker", "<empty>",
		"ControlAddresses", "WorkerChangeEpoch", -1,
		"PeerId", m->peer_id, "Multiaddrs", multiaddrs(c->d, m),
		"WindowPoStProofType", WINDOW_POST_32GIB_V1P1,
		"SectorSize", (json_int_t)m->sector_size,
		"WindowPoStPartitionSectors", WINDOW_POST_PARTITION_SECTORS,
		"ConsensusFaultElapsed", -1, "PendingOwnerAddress",
		"Beneficiary", owner, "BeneficiaryTerm", "Quota", "0",
		"UsedQuota", "0", "Expiration", 0, "PendingBeneficiaryTerm");
	json_decref(owner);
	return rpc_result(out, v);
}

/* Raw and quality-adjusted power of miner id (0: all miners). */
static int power(struct rpc_call *c, struct bigint *raw, struct bigint *qa,
		 uint64_t id)
{
	struct bigint base, n, k;
	uint64_t deals, verified;
	int rc;

	if ((rc = market_deal_bytes(c->d, &deals, &verified, id)) < 0)
		return rc;
	bigint_from_u64(&base, BASE_POWER);
	bigint_from_u64(&n, id ? 1 : c->d->nminers);
	if ((rc = bigint_mul(&base, &base, &n)) < 0)
		return rc;
	bigint_from_u64(&n, deals);
	if ((rc = bigint_add(raw, &base, &n)) < 0)
		return rc;
	/* qa = raw + (10 - 1) x verified */
	bigint_from_u64(&n, verified);
	bigint_from_u64(&k, VERIFIED_QA - 1);
	if ((rc = bigint_mul(&n, &n, &k)) < 0)
		return rc;
	return bigint_add(qa, raw, &n);
}

int rpc_state_miner_power(struct rpc_call *c, json_t **out)
{
	struct bigint mraw, mqa, traw, tqa;
	struct devnet_miner *m;
	int rc;

	if ((rc = miner_get(c, &m, &c->p[0].addr)) < 0 ||
	    (rc = power(c, &mraw, &mqa, m->id)) < 0 ||
	    (rc = power(c, &traw, &tqa, 0)) < 0)
		return rc;
	return rpc_result(out, json_pack(
		"{s:{s:o, s:o}, s:{s:o, s:o}, s:b}",
		"MinerPower", "RawBytePower", rpc_json_bigint(&mraw),
		"QualityAdjPower", rpc_json_bigint(&mqa),
		"TotalPower", "RawBytePower", rpc_json_bigint(&traw),
		"QualityAdjPower", rpc_json_bigint(&tqa),
		"HasMinPower", 1));
}

int rpc_state_lookup_id(struct rpc_call *c, json_t **out)
{
	uint64_t id;
	int rc;

	if ((rc = lookup_id(c, &id, &c->p[0].addr)) < 0)
		return rc;
	return rpc_result(out, rpc_json_id_addr(c->d, id));
}

int rpc_state_account_key(struct rpc_call *c, json_t **out)
{
	struct filaddr key;
	int rc;

	if ((rc = chain_account_key(c->d, &key, &c->p[0].addr)) < 0)
		return rc;
	return rpc_result(out, rpc_json_addr(c->d, &key));
}

/* A code CID like the pre-FVM builtin actors': raw, identity multihash
 * of "fil/<version>/<name>". */
static json_t *actor_code(enum chain_actor_kind kind)
{
	static const char *const names[] = { "fil/16/system",
					     "fil/16/account",
					     "fil/16/storageminer" };
	const char *name = names[kind <= CHAIN_ACTOR_MINER ? kind : 0];
	struct cid code;

	if (cid_init(&code, 1, CID_CODEC_RAW, MHASH_IDENTITY,
		     (const uint8_t *)name, strlen(name)) < 0)
		return NULL;
	return rpc_json_cid(&code);
}

int rpc_state_get_actor(struct rpc_call *c, json_t **out)
{
	struct chain_actor act;
	struct cid head;
	int rc;

	if ((rc = chain_actor_get(c->d, &act, &c->p[0].addr)) < 0)
		return rc;
	chain_block_cid(&head, -(int64_t)act.id - 1);
	return rpc_result(out, json_pack(
		"{s:o, s:o, s:I, s:o, s:n}",
		"Code", actor_code(act.kind),
		"Head", rpc_json_cid(&head),
		"Nonce", (json_int_t)act.nonce,
		"Balance", rpc_json_bigint(&act.balance),
		"DelegatedAddress"));
}

int rpc_wallet_balance(struct rpc_call *c, json_t **out)
{
	struct chain_actor act;
	int rc = chain_actor_get(c->d, &act, &c->p[0].addr);

	/* Lotus: an address without an actor has a balance of zero. */
	if (rc == EFS_ENOTFOUND)
		bigint_from_u64(&act.balance, 0);
	else if (rc < 0)
		return rc;
	return rpc_result(out, rpc_json_bigint(&act.balance));
}

int rpc_state_market_balance(struct rpc_call *c, json_t **out)
{
	struct chain_escrow e;
	uint64_t id;
	int rc;

	if ((rc = lookup_id(c, &id, &c->p[0].addr)) < 0)
		return rc;
	pthread_mutex_lock(&c->d->lock);
	rc = chain_escrow_get_locked(c->d, &e, id);
	pthread_mutex_unlock(&c->d->lock);
	if (rc < 0)
		return rc;
	return rpc_result(out, json_pack("{s:o, s:o}",
					 "Escrow", rpc_json_bigint(&e.escrow),
					 "Locked", rpc_json_bigint(&e.locked)));
}

int rpc_state_verified_client_status(struct rpc_call *c, json_t **out)
{
	struct bigint cap;
	bool client;
	uint64_t id;
	int rc;

	if ((rc = lookup_id(c, &id, &c->p[0].addr)) < 0)
		return rc;
	pthread_mutex_lock(&c->d->lock);
	rc = chain_datacap_get_locked(c->d, &cap, &client, id);
	pthread_mutex_unlock(&c->d->lock);
	if (rc < 0)
		return rc;
	*out = NULL;
	return client ? rpc_result(out, rpc_json_bigint(&cap)) : 0;
}

int rpc_state_deal_provider_collateral_bounds(struct rpc_call *c,
					      json_t **out)
{
	struct bigint min, max;
	int rc;

	if ((rc = market_collateral_bounds(c->d, &min, &max, c->p[0].u,
					   c->p[1].b)) < 0)
		return rc;
	return rpc_result(out, json_pack("{s:o, s:o}",
					 "Min", rpc_json_bigint(&min),
					 "Max", rpc_json_bigint(&max)));
}

/* DealLabel as go-state-types marshals it: the text (a byte label as
 * base64, which Lotus would refuse to marshal). */
static json_t *label_json(const struct market_deal *m)
{
	json_t *v = NULL;

	if (!m->label_is_bytes)
		v = json_stringn(m->label, m->label_len);
	return v ? v : rpc_json_bytes((const uint8_t *)m->label, m->label_len);
}

int rpc_state_market_storage_deal(struct rpc_call *c, json_t **out)
{
	struct market_deal m;
	int rc;

	if ((rc = market_deal_get(c->d, &m, c->p[0].u)) < 0)
		return rc;
	return rpc_result(out, json_pack(
		"{s:{s:o, s:I, s:b, s:o, s:o, s:o, s:I, s:I, s:o, s:o, s:o},"
		" s:{s:I, s:I, s:I, s:I}}",
		"Proposal", "PieceCID", rpc_json_cid(&m.piece_cid),
		"PieceSize", (json_int_t)m.piece_size,
		"VerifiedDeal", m.verified,
		"Client", rpc_json_id_addr(c->d, m.client),
		"Provider", rpc_json_id_addr(c->d, m.provider),
		"Label", label_json(&m),
		"StartEpoch", (json_int_t)m.start_epoch,
		"EndEpoch", (json_int_t)m.end_epoch,
		"StoragePricePerEpoch", rpc_json_bigint(&m.price_per_epoch),
		"ProviderCollateral", rpc_json_bigint(&m.provider_collateral),
		"ClientCollateral", rpc_json_bigint(&m.client_collateral),
		"State", "SectorNumber", (json_int_t)m.sector,
		"SectorStartEpoch", (json_int_t)m.sector_start_epoch,
		"LastUpdatedEpoch", (json_int_t)m.last_updated_epoch,
		"SlashEpoch", (json_int_t)m.slash_epoch));
}

/*
 * Claims: the devnet's verified deals, once active, are claimed under
 * the deal's ID (a real chain numbers allocations separately).
 */
int rpc_state_get_claim(struct rpc_call *c, json_t **out)
{
	struct market_deal m;
	uint64_t provider;
	int rc;

	*out = NULL;
	if ((rc = lookup_id(c, &provider, &c->p[0].addr)) < 0)
		return rc;
	rc = market_deal_get(c->d, &m, c->p[1].u);
	if (rc == EFS_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	if (!m.verified || m.provider != provider ||
	    m.sector_start_epoch < 0)
		return 0;
	return rpc_result(out, json_pack(
		"{s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:I}",
		"Provider", (json_int_t)m.provider,
		"Client", (json_int_t)m.client,
		"Data", rpc_json_cid(&m.piece_cid),
		"Size", (json_int_t)m.piece_size,
		"TermMin", (json_int_t)(m.end_epoch - m.start_epoch),
		"TermMax", (json_int_t)CLAIM_TERM_MAX,
		"TermStart", (json_int_t)m.sector_start_epoch,
		"Sector", (json_int_t)m.sector));
}
