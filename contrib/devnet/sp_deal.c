/*
 * sp_deal.c - one deal's life on a simulated SP, after /market/mk12/store
 * accepted it (worker thread only):
 *
 *	ACCEPTED     pull the CAR from the client's URL (sp_transfer.c),
 *	   │         check its size and CommP against the proposal, keep and
 *	   ▼         index the piece (sp_ingest.c)
 *	TRANSFERRED  check the start epoch can still be met, publish the deal
 *	   │         on the devnet chain (market_publish: the chain deal ID)
 *	   ▼
 *	PUBLISHED    seal: once seal_at (the head when published + the
 *	   │         miner's seal_delay) is reached, market_activate
 *	   ▼
 *	ACTIVE       the piece is served (/piece, /ipfs) and announced (IPNI)
 *
 * Any step can end in FAILED with the reason in sp_deal.error, which
 * /market/mk12/status reports as DealStatus.Error.  The messages are
 * Curio's where Curio has one (its commp and PSD tasks).
 *
 * Invariants:
 * 1. Each state change is one committed row update: a restart resumes
 *    from the last state written (a transfer in flight starts over; a
 *    deal being sealed goes on sealing).
 * 2. A piece is served only once a deal of it is ACTIVE (sp_piece.ready).
 * 3. Faults are read on every step, so runtime changes apply to deals
 *    already in flight: fail_transfer at the transfer, never_seal and
 *    slash at every tick.
 */
#include "contrib/devnet/sp_i.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/mhash.h"

#define LOG_TOPIC "sp"
#include "core/log.h"

#include "core/banned.h"

/* Deals looked at per tick and state. */
#define TICK_BATCH 256

static void deal_log(const struct sp *sp, const struct sp_deal *dl,
		     const char *what)
{
	char u[MK12_UUID_STR_MAX];

	mk12_uuid_format(u, dl->uuid);
	efs_log_info("miner f0%llu: deal %s: %s",
		     (unsigned long long)sp->m->id, u, what);
}

static void deal_fail(struct sp *sp, struct sp_deal *dl, const char *fmt,
		      ...) __attribute__((format(printf, 3, 4)));

static void deal_fail(struct sp *sp, struct sp_deal *dl, const char *fmt,
		      ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dl->error, sizeof(dl->error), fmt, ap);
	va_end(ap);
	dl->state = SP_DEAL_FAILED;
	if (sp_db_deal_update(sp->db, dl) < 0)
		efs_log_warn("sp: cannot record a deal failure: %s",
			     efs_error_msg());
	deal_log(sp, dl, dl->error);
}

/* Curio's checkExpiry message. */
static void fail_expired(struct sp *sp, struct sp_deal *dl, int64_t head)
{
	deal_fail(sp, dl,
		  "deal proposal must be proven on chain by deal proposal"
		  " start epoch %lld, but it has expired: current chain"
		  " height: %lld",
		  (long long)dl->params.proposal.proposal.start_epoch,
		  (long long)head);
}

static int incoming_path(char *out, const struct sp *sp,
			 const struct sp_deal *dl)
{
	char u[MK12_UUID_STR_MAX], name[MK12_UUID_STR_MAX + 16];

	mk12_uuid_format(u, dl->uuid);
	snprintf(name, sizeof(name), "incoming/%s.car", u);
	return sp_path(out, sp->dir, name);
}

/* The CommP of what arrived must be the proposal's. */
static bool commp_matches(struct sp *sp, struct sp_deal *dl,
			  const struct commp_piece *got)
{
	const struct mk12_proposal *p = &dl->params.proposal.proposal;
	char a[CID_STR_MAX], b[CID_STR_MAX];
	struct cid calc;

	commp_cid_v1(&calc, got);
	if (cid_equal(&calc, &p->piece_cid) &&
	    got->padded_size == p->piece_size)
		return true;
	deal_fail(sp, dl, "commP mismatch calculated %s and supplied %s",
		  cid_tostr(a, &calc), cid_tostr(b, &p->piece_cid));
	return false;
}

/* ACCEPTED -> TRANSFERRED. */
static void deal_transfer(struct sp *sp, struct sp_deal *dl)
{
	const struct mk12_transfer *t = &dl->params.transfer;
	struct mk12_http_request hr = { 0 };
	char path[SP_PATH_MAX];
	struct devnet_fault f;
	struct commp_piece got;
	uint64_t n;
	int rc;

	devnet_fault_get(sp->d, sp->m, &f);
	if (f.fail_transfer) {
		deal_fail(sp, dl, "error making GET request: connection reset"
			  " by peer (devnet fault: fail_transfer)");
		return;
	}
	if ((rc = incoming_path(path, sp, dl)) < 0) {
		deal_fail(sp, dl, "%s", efs_error_msg());
		return;
	}
	if ((rc = sp_transfer_params(&hr, &t->params)) < 0 ||
	    (rc = sp_transfer(&got, &n, sp, &hr, path, t->size)) < 0) {
		if (rc != EFS_ECANCELED)
			deal_fail(sp, dl, "%s", efs_error_msg());
		goto out;
	}
	if (n != t->size) {
		deal_fail(sp, dl,
			  "number of bytes written to CommP writer %llu not"
			  " equal to the file size %llu",
			  (unsigned long long)n, (unsigned long long)t->size);
		goto out;
	}
	if (!commp_matches(sp, dl, &got))
		goto out;
	if ((rc = sp_ingest(&dl->piece_id, sp, sp->db, path, &got)) < 0) {
		deal_fail(sp, dl, "storing the piece: %s", efs_error_msg());
		goto out;
	}
	dl->state = SP_DEAL_TRANSFERRED;
	if (sp_db_deal_update(sp->db, dl) == 0)
		deal_log(sp, dl, "transferred, commP checked");
out:
	if (dl->state != SP_DEAL_TRANSFERRED)
		unlink(path);
	mk12_http_request_release(&hr);
}

/*
 * There is no PublishStorageDeals message on the devnet chain, so the
 * PublishCid the status reports is made up: a dag-cbor blake2b-256 CID
 * (what message CIDs are) of the proposal CID and the deal ID.
 */
static void made_up_publish_cid(struct cid *out, const struct cid *prop,
				uint64_t deal_id)
{
	uint8_t b[CID_BYTES_MAX + 8];
	size_t n = cid_to_bytes(b, prop);

	for (int i = 0; i < 8; i++)
		b[n++] = (uint8_t)(deal_id >> (8 * i));
	if (cid_hash(out, 1, CID_CODEC_DAG_CBOR, MHASH_BLAKE2B_256, b, n) < 0)
		*out = *prop;
}

/* TRANSFERRED -> PUBLISHED. */
static void deal_publish(struct sp *sp, struct sp_deal *dl)
{
	const struct mk12_proposal *p = &dl->params.proposal.proposal;
	int64_t head = chain_head(sp->d);
	char why[512] = "", msg[64];
	struct cid pcid;
	int rc;

	if (head + sp->m->seal_delay > p->start_epoch) {
		fail_expired(sp, dl, head);
		return;
	}
	if ((rc = mk12_proposal_cid(&pcid, p)) < 0) {
		deal_fail(sp, dl, "get proposal CID: %s", efs_error_msg());
		return;
	}
	rc = market_publish(sp->d, p, &pcid, &dl->chain_deal_id, why,
			    sizeof(why));
	if (rc < 0) {
		deal_fail(sp, dl, "publishing the deal: %s",
			  why[0] ? why : efs_error_msg());
		return;
	}
	made_up_publish_cid(&dl->publish_cid, &pcid, dl->chain_deal_id);
	dl->seal_at = head + sp->m->seal_delay;
	dl->state = SP_DEAL_PUBLISHED;
	if (sp_db_deal_update(sp->db, dl) == 0) {
		snprintf(msg, sizeof(msg), "published as deal %llu",
			 (unsigned long long)dl->chain_deal_id);
		deal_log(sp, dl, msg);
	}
}

bool sp_deal_next(struct sp *sp)
{
	uint8_t uuid[MK12_UUID_LEN];
	struct sp_deal dl;
	bool moved;

	if (sp_db_deal_next(uuid, sp->db, sp->m->id) < 0)
		return false;
	if (sp_db_deal_get(&dl, sp->db, uuid) < 0) {
		/* A row we cannot read would come back forever. */
		memset(&dl, 0, sizeof(dl));
		memcpy(dl.uuid, uuid, MK12_UUID_LEN);
		deal_fail(sp, &dl, "deal record unreadable: %s",
			  efs_error_msg());
		return false;
	}
	if (dl.state == SP_DEAL_ACCEPTED)
		deal_transfer(sp, &dl);
	if (dl.state == SP_DEAL_TRANSFERRED && !sp_is_stopping(sp))
		deal_publish(sp, &dl);
	moved = dl.state != SP_DEAL_ACCEPTED &&
		dl.state != SP_DEAL_TRANSFERRED;
	sp_deal_release(&dl);
	return moved;
}

/* PUBLISHED -> ACTIVE, when its time has come and the faults allow. */
static void deal_seal(struct sp *sp, struct sp_deal *dl, int64_t head,
		      const struct devnet_fault *f)
{
	char msg[64];
	int rc;

	if (f->never_seal || head < dl->seal_at) {
		if (head > dl->params.proposal.proposal.start_epoch)
			fail_expired(sp, dl, head);
		return;
	}
	if ((rc = sp_db_next_sector(&dl->sector, sp->db, sp->m->id)) < 0)
		return;
	rc = market_activate(sp->d, dl->chain_deal_id, dl->sector);
	if (rc == EFS_ENOTFOUND) {
		fail_expired(sp, dl, head);
		return;
	}
	if (rc < 0 && rc != EFS_EINVAL) {
		efs_log_warn("sp: activating deal %llu: %s",
			     (unsigned long long)dl->chain_deal_id,
			     efs_error_msg());
		return;
	}
	dl->state = SP_DEAL_ACTIVE;
	if (sp_db_piece_set_ready(sp->db, dl->piece_id,
				  !dl->params.skip_ipni_announce) < 0 ||
	    sp_db_deal_update(sp->db, dl) < 0)
		return;
	snprintf(msg, sizeof(msg), "sealed in sector %llu",
		 (unsigned long long)dl->sector);
	deal_log(sp, dl, msg);
}

static void deal_slash(struct sp *sp, struct sp_deal *dl)
{
	int rc = market_slash(sp->d, dl->chain_deal_id);

	/* Tried once: a deal the chain will not slash is not retried. */
	if (rc < 0 && rc != EFS_ENOTFOUND && rc != EFS_EINVAL)
		efs_log_warn("sp: slashing deal %llu: %s",
			     (unsigned long long)dl->chain_deal_id,
			     efs_error_msg());
	dl->slashed = true;
	if (sp_db_deal_update(sp->db, dl) == 0 && rc == 0)
		deal_log(sp, dl, "slashed (devnet fault)");
}

/* Apply fn to each of the miner's deals in state st. */
static void for_each_deal(struct sp *sp, enum sp_deal_state st,
			  void (*fn)(struct sp *, struct sp_deal *, int64_t,
				     const struct devnet_fault *),
			  int64_t head, const struct devnet_fault *f)
{
	uint8_t(*ids)[MK12_UUID_LEN];
	size_t n;

	if (sp_db_deals_in(&ids, &n, sp->db, sp->m->id, st, TICK_BATCH) < 0)
		return;
	for (size_t i = 0; i < n && !sp_is_stopping(sp); i++) {
		struct sp_deal dl;

		if (sp_db_deal_get(&dl, sp->db, ids[i]) < 0)
			continue;
		fn(sp, &dl, head, f);
		sp_deal_release(&dl);
	}
	efs_free(ids);
}

static void slash_if_asked(struct sp *sp, struct sp_deal *dl, int64_t head,
			   const struct devnet_fault *f)
{
	/* An epoch after activation, so the deal was seen active. */
	if (f->slash && !dl->slashed && head > dl->seal_at)
		deal_slash(sp, dl);
}

void sp_deal_tick(struct sp *sp)
{
	int64_t head = chain_head(sp->d);
	struct devnet_fault f;

	devnet_fault_get(sp->d, sp->m, &f);
	if (head == sp->tick_head &&
	    f.never_seal == sp->tick_fault.never_seal &&
	    f.slash == sp->tick_fault.slash)
		return;
	sp->tick_head = head;
	sp->tick_fault = f;
	for_each_deal(sp, SP_DEAL_PUBLISHED, deal_seal, head, &f);
	if (f.slash)
		for_each_deal(sp, SP_DEAL_ACTIVE, slash_if_asked, head, &f);
}
