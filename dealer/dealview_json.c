/*
 * dealview_json.c - the JSON objects the read-side commands print with
 * --json and the daemon's REST routes answer with (dealview.h): the
 * status header, a commit with its replication, a deal and its receipt,
 * an SP and its log.  Moved here from cli/cmd_status.c, cmd_deals.c and
 * cmd_miners.c so that both print the same names.
 *
 * Design notes:
 * - Each builder takes a bool *bad that any failed allocation sets; the
 *   caller checks it once at the end (a half-built object is dropped
 *   there, never printed).
 */
#include "dealer/dealview.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/filaddr.h"
#include "core/mbase.h"
#include "core/mk12.h"
#include "dealer/evict.h"
#include "dealer/miners.h"

#include "core/banned.h"

/* ---- status: the header and one commit ---------------------------------- */

/* The local cache: {"local_blocks","local_bytes","evicted_blocks",
 * "evicted_bytes","size","min_active"}; counts 0 without an index. */
static json_t *jcache(const struct dealview *v, bool *bad)
{
	struct evict_totals t = { 0 };
	json_t *o = json_object();

	if (!o) {
		*bad = true;
		return NULL;
	}
	if (v->has_index && evict_totals_read(&t, v->db) < 0)
		efs_error_clear();
	dealview_jset(o, "local_blocks", dealview_jint(t.local_blocks), bad);
	dealview_jset(o, "local_bytes", dealview_jint(t.local_bytes), bad);
	dealview_jset(o, "evicted_blocks", dealview_jint(t.evicted_blocks),
		      bad);
	dealview_jset(o, "evicted_bytes", dealview_jint(t.evicted_bytes), bad);
	dealview_jset(o, "size",
		      dealview_jint(config_cache_size(&v->cfg, v->repo)), bad);
	dealview_jset(o, "min_active",
		      json_integer(config_min_active(&v->cfg)), bad);
	return o;
}

json_t *dealview_header_json(const struct dealview *v, bool *bad)
{
	static const char *const keys[] = { "network", "head", "funds",
					    "blocked", "price", "cycle" };
	json_t *o = json_object(), *w = json_object(), *r;

	if (!o || !w) {
		json_decref(o);
		json_decref(w);
		*bad = true;
		return NULL;
	}
	dealview_jset(o, "dealer_ran", json_boolean(v->report != NULL), bad);
	dealview_jset(o, "daemon_pid", v->daemon_pid > 0
		      ? json_integer(v->daemon_pid) : json_null(), bad);
	dealview_jset(o, "daemon_running", v->daemon_pid < 0 ? json_null()
		      : json_boolean(v->daemon_pid > 0), bad);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		r = dealview_report(v, keys[i]);
		dealview_jset(o, keys[i], r ? json_incref(r) : json_null(),
			      bad);
	}
	dealview_jset(w, "replication", json_integer(v->cfg.replication), bad);
	dealview_jset(w, "duration_epochs", json_integer(v->cfg.duration),
		      bad);
	dealview_jset(w, "verified", json_boolean(v->cfg.verified), bad);
	dealview_jset(o, "wanted", w, bad);
	dealview_jset(o, "cache", jcache(v, bad), bad);
	return o;
}

static json_t *jpiece(const struct dealview_piece *p, bool *bad)
{
	json_t *o = json_object();

	if (!o) {
		*bad = true;
		return NULL;
	}
	dealview_jset(o, "id", json_integer(p->info.id), bad);
	dealview_jset(o, "cid", dealview_jcid(&p->info.cid), bad);
	dealview_jset(o, "kind", json_string(piece_kind_name(p->info.kind)),
		      bad);
	dealview_jset(o, "padded", dealview_jint(p->info.padded), bad);
	dealview_jset(o, "payload", dealview_jint(p->info.payload), bad);
	dealview_jset(o, "share_padded", dealview_jint(p->share), bad);
	dealview_jset(o, "ready", json_boolean(p->info.ready), bad);
	dealview_jset(o, "active", json_integer(p->active), bad);
	dealview_jset(o, "counting", json_integer(p->counting), bad);
	dealview_jset(o, "live", json_integer(p->live), bad);
	dealview_jset(o, "note", dealview_jstr(p->note), bad);
	dealview_jset(o, "note_time", dealview_jtime(p->note_time), bad);
	return o;
}

json_t *dealview_commit_json(const struct dealview_commit *c,
			     const struct dealview_state *s, bool *bad)
{
	json_t *o = json_object(), *pieces = json_array();

	if (!o || !pieces) {
		json_decref(o);
		json_decref(pieces);
		*bad = true;
		return NULL;
	}
	dealview_jset(o, "id", json_integer(c->id), bad);
	dealview_jset(o, "path", dealview_jstr(c->path), bad);
	dealview_jset(o, "root", dealview_jcid(&c->root), bad);
	dealview_jset(o, "time", dealview_jtime(c->time), bad);
	dealview_jset(o, "stage", json_string(dealview_stage_name(c)), bad);
	dealview_jset(o, "close_at", c->in_store &&
		      c->pc.stage == PIECE_STAGE_WAITING
		      ? dealview_jtime(c->pc.close_at) : json_null(), bad);
	dealview_jset(o, "car_size", dealview_jint(c->pc.car_size), bad);
	dealview_jset(o, "blocks", dealview_jint(c->pc.blocks), bad);
	dealview_jset(o, "padded", dealview_jint(c->pc.padded), bad);
	for (size_t i = 0; i < s->npieces; i++)
		if (json_array_append_new(pieces, jpiece(&s->pieces[i], bad)))
			*bad = true;
	dealview_jset(o, "pieces", pieces, bad);
	dealview_jset(o, "want", json_integer(s->want), bad);
	dealview_jset(o, "active", json_integer(s->active), bad);
	dealview_jset(o, "counting", json_integer(s->counting), bad);
	dealview_jset(o, "evicted_blocks", dealview_jint(s->evicted_blocks),
		      bad);
	dealview_jset(o, "evicted_bytes", dealview_jint(s->evicted_bytes),
		      bad);
	dealview_jset(o, "local", json_boolean(s->evicted_blocks == 0), bad);
	dealview_jset(o, "next", json_string(s->next), bad);
	dealview_jset(o, "next_source", json_string(s->next_from_dealer
						    ? "dealer" : "derived"),
		      bad);
	return o;
}

/* ---- deals -------------------------------------------------------------- */

int dealview_deal_total(struct bigint *out, const struct deal *d)
{
	struct bigint epochs;

	bigint_from_i64(&epochs, d->end_epoch > d->start_epoch
				 ? d->end_epoch - d->start_epoch : 0);
	return bigint_mul(out, &d->price, &epochs);
}

json_t *dealview_deal_json(const struct deal *d, bool *bad)
{
	char uuid[MK12_UUID_STR_MAX], sp[FILADDR_STR_MAX];
	struct bigint total;
	json_t *o = json_object();

	if (!o) {
		*bad = true;
		return NULL;
	}
	mk12_uuid_format(uuid, d->uuid);
	filaddr_format(sp, &d->miner, 'f');
	dealview_jset(o, "uuid", json_string(uuid), bad);
	dealview_jset(o, "sp", json_string(sp), bad);
	dealview_jset(o, "state", json_string(deals_state_name(d->state)),
		      bad);
	dealview_jset(o, "reason", dealview_jstr(d->reason), bad);
	dealview_jset(o, "deal_id", d->deal_id >= 0
		      ? json_integer(d->deal_id) : json_null(), bad);
	dealview_jset(o, "piece_id", json_integer(d->piece_id), bad);
	dealview_jset(o, "piece_cid", dealview_jcid(&d->piece_cid), bad);
	dealview_jset(o, "padded", dealview_jint(d->padded), bad);
	dealview_jset(o, "protocol", json_string(d->proto), bad);
	dealview_jset(o, "verified", json_boolean(d->verified), bad);
	dealview_jset(o, "start_epoch", json_integer(d->start_epoch), bad);
	dealview_jset(o, "end_epoch", json_integer(d->end_epoch), bad);
	dealview_jset(o, "price_per_epoch", dealview_jamount(&d->price, bad),
		      bad);
	if (dealview_deal_total(&total, d) == 0)
		dealview_jset(o, "total_price", dealview_jamount(&total, bad),
			      bad);
	dealview_jset(o, "provider_collateral",
		      dealview_jamount(&d->collateral, bad), bad);
	dealview_jset(o, "proposal_cid", dealview_jcid(&d->proposal_cid), bad);
	dealview_jset(o, "signed_proposal_cid", dealview_jcid(&d->signed_cid),
		      bad);
	dealview_jset(o, "sector_start_epoch", d->sector_start >= 0
		      ? json_integer(d->sector_start) : json_null(), bad);
	dealview_jset(o, "slash_epoch", d->slash_epoch >= 0
		      ? json_integer(d->slash_epoch) : json_null(), bad);
	dealview_jset(o, "created", dealview_jtime(d->created), bad);
	dealview_jset(o, "updated", dealview_jtime(d->updated), bad);
	dealview_jset(o, "next_check", deal_state_live(d->state)
		      ? dealview_jtime(d->next_check) : json_null(), bad);
	dealview_jset(o, "failed_checks", json_integer(d->attempts), bad);
	return o;
}

void dealview_payload_root(char *out, size_t cap, struct dealview *v,
			   const struct deal *d, json_t *chain)
{
	json_t *label = json_object_get(json_object_get(chain, "Proposal"),
					"Label");
	struct piece_info info;
	char s[CID_STR_MAX];

	snprintf(out, cap, "-");
	if (v->ps && piece_get(&info, v->ps, d->piece_id) == 0 &&
	    info.has_label)
		snprintf(out, cap, "%s", cid_tostr(s, &info.label));
	else if (json_is_string(label))
		snprintf(out, cap, "%s", json_string_value(label));
}

struct history {
	json_t *arr;
	bool *bad;
};

static int event_cb(int64_t time, enum deal_state st, const char *detail,
		    void *cls)
{
	struct history *h = cls;
	json_t *o;

	if (!(o = json_object()) || json_array_append_new(h->arr, o) < 0) {
		*h->bad = true;
		return 0;
	}
	dealview_jset(o, "time", dealview_jtime(time), h->bad);
	dealview_jset(o, "state", json_string(deals_state_name(st)), h->bad);
	dealview_jset(o, "detail", dealview_jstr(detail), h->bad);
	return 0;
}

int dealview_receipt_json(json_t **out, struct dealview *v,
			  const struct deal *d)
{
	char root[CID_STR_MAX + 512], *hex;
	json_error_t jerr;
	json_t *chain = NULL, *o;
	bool bad = false;
	struct history h = { json_array(), &bad };
	int rc = 0;

	*out = NULL;
	if (d->chain_json)
		chain = json_loads(d->chain_json, 0, &jerr);
	dealview_payload_root(root, sizeof(root), v, d, chain);
	o = dealview_deal_json(d, &bad);
	if (o && h.arr)
		dealview_jset(o, "history", json_incref(h.arr), &bad);
	else
		bad = true;
	if (!bad && v->deals)
		rc = deals_events(v->deals, d->id, event_cb, &h);
	json_decref(h.arr);
	if ((hex = efs_malloc(2 * d->proposal.len + 1)))
		mbase_hex_encode(hex, 2 * d->proposal.len + 1,
				 d->proposal.ptr, d->proposal.len);
	if (o) {
		dealview_jset(o, "payload_root", json_string(root), &bad);
		dealview_jset(o, "signed_proposal_hex",
			      hex ? json_string(hex) : NULL, &bad);
		/* the record as read; its text when it is not JSON */
		dealview_jset(o, "chain", chain ? json_incref(chain)
			      : dealview_jstr(d->chain_json), &bad);
		dealview_jset(o, "chain_read", dealview_jtime(d->chain_at),
			      &bad);
	}
	efs_free(hex);
	json_decref(chain);
	if (rc == 0 && bad)
		rc = efs_error_set(EFS_ENOMEM, "out of memory");
	if (rc < 0) {
		json_decref(o);
		return rc;
	}
	*out = o;
	return 0;
}

/* ---- storage providers -------------------------------------------------- */

int dealview_success_pct(const struct miner_perf *p)
{
	uint64_t settled = miners_settled(p);

	return settled ? (int)(p->sealed * 100 / settled) : -1;
}

void dealview_miner_state(char *out, size_t cap, const struct miner_record *r,
			  int64_t now_ns)
{
	char when[32];

	if (r->disabled) {
		snprintf(out, cap, "disabled%s%s", r->disabled_reason ? ": "
			 : "", r->disabled_reason ? r->disabled_reason : "");
	} else if (r->backoff_until_ns > now_ns) {
		efs_clock_format(when, sizeof(when), r->backoff_until_ns,
				 "%Y-%m-%dT%H:%M:%SZ");
		snprintf(out, cap, "backed off until %s", when);
	} else if (!r->has_ask) {
		snprintf(out, cap, "no ask");
	} else {
		snprintf(out, cap, "ok");
	}
}

static json_t *jask(const struct miner_record *r, bool *bad)
{
	json_t *o;

	if (!r->has_ask)
		return json_null();
	if (!(o = json_object())) {
		*bad = true;
		return NULL;
	}
	dealview_jset(o, "price_per_gib_epoch",
		      dealview_jamount(&r->ask.price, bad), bad);
	dealview_jset(o, "verified_price_per_gib_epoch",
		      dealview_jamount(&r->ask.verified_price, bad), bad);
	dealview_jset(o, "min_piece_size", dealview_jint(r->ask.min_piece),
		      bad);
	dealview_jset(o, "max_piece_size", dealview_jint(r->ask.max_piece),
		      bad);
	dealview_jset(o, "expiry_epoch", json_integer(r->ask.expiry), bad);
	dealview_jset(o, "fetched", dealview_jtime_ns(r->ask_time_ns), bad);
	return o;
}

static json_t *jperf(const struct miner_perf *p, bool *bad)
{
	json_t *o = json_object();
	int pct = dealview_success_pct(p);

	if (!o) {
		*bad = true;
		return NULL;
	}
	dealview_jset(o, "proposed", dealview_jint(p->proposed), bad);
	dealview_jset(o, "accepted", dealview_jint(p->accepted), bad);
	dealview_jset(o, "rejected", dealview_jint(p->rejected), bad);
	dealview_jset(o, "propose_errors", dealview_jint(p->propose_errors),
		      bad);
	dealview_jset(o, "sealed", dealview_jint(p->sealed), bad);
	dealview_jset(o, "failed", dealview_jint(p->failed), bad);
	dealview_jset(o, "slashed", dealview_jint(p->slashed), bad);
	dealview_jset(o, "expired", dealview_jint(p->expired), bad);
	dealview_jset(o, "success_percent", pct < 0 ? json_null()
		      : json_integer(pct), bad);
	dealview_jset(o, "seals_timed", dealview_jint(p->seal_count), bad);
	dealview_jset(o, "seal_mean_seconds", json_real(p->seal_mean_s), bad);
	dealview_jset(o, "seal_median_seconds", json_real(p->seal_median_s),
		      bad);
	dealview_jset(o, "asks", dealview_jint(p->asks), bad);
	dealview_jset(o, "asks_ok", dealview_jint(p->asks_ok), bad);
	dealview_jset(o, "retrievals", dealview_jint(p->retrievals), bad);
	dealview_jset(o, "retrievals_ok", dealview_jint(p->retrievals_ok),
		      bad);
	dealview_jset(o, "retrieved_bytes", dealview_jint(p->retrieved_bytes),
		      bad);
	dealview_jset(o, "retrieval_bytes_per_second",
		      json_real(p->retrieval_speed), bad);
	dealview_jset(o, "last_ok", dealview_jtime_ns(p->last_ok_ns), bad);
	dealview_jset(o, "last_failure", dealview_jtime_ns(p->last_fail_ns),
		      bad);
	return o;
}

json_t *dealview_miner_json(const struct miner_record *r, int64_t now_ns,
			    bool *bad)
{
	char s[FILADDR_STR_MAX + 256];
	json_t *o = json_object();

	if (!o) {
		*bad = true;
		return NULL;
	}
	filaddr_format(s, &r->addr, 'f');
	dealview_jset(o, "address", json_string(s), bad);
	dealview_jset(o, "url", dealview_jstr(r->url), bad);
	dealview_jset(o, "peer_id", dealview_jstr(r->peer_id), bad);
	dealview_jset(o, "sector_size", dealview_jint(r->sector_size), bad);
	dealview_jset(o, "source", json_string(r->source == MINERS_SOURCE_CONFIG
					       ? "config" : "chain"), bad);
	dealview_jset(o, "ask", jask(r, bad), bad);
	dealview_miner_state(s, sizeof(s), r, now_ns);
	dealview_jset(o, "state", json_string(s), bad);
	dealview_jset(o, "reachable", json_boolean(r->reachable), bad);
	dealview_jset(o, "first_seen", dealview_jtime_ns(r->first_seen_ns),
		      bad);
	dealview_jset(o, "last_seen", dealview_jtime_ns(r->last_seen_ns), bad);
	dealview_jset(o, "backoff_until",
		      dealview_jtime_ns(r->backoff_until_ns), bad);
	dealview_jset(o, "fail_streak", json_integer(r->fail_streak), bad);
	dealview_jset(o, "reject_streak", json_integer(r->reject_streak), bad);
	dealview_jset(o, "disabled", json_boolean(r->disabled), bad);
	dealview_jset(o, "disabled_reason", dealview_jstr(r->disabled_reason),
		      bad);
	dealview_jset(o, "log_rows", dealview_jint(r->log_rows), bad);
	dealview_jset(o, "score", json_real(r->score), bad);
	dealview_jset(o, "performance", jperf(&r->perf, bad), bad);
	return o;
}

json_t *dealview_event_json(const struct miner_event *ev, bool *bad)
{
	json_t *o = json_object();
	char uuid[MK12_UUID_STR_MAX];

	if (!o) {
		*bad = true;
		return NULL;
	}
	dealview_jset(o, "time", dealview_jtime_ns(ev->time_ns), bad);
	dealview_jset(o, "action", json_string(miners_action_name(ev->action)),
		      bad);
	dealview_jset(o, "outcome",
		      json_string(miners_outcome_name(ev->outcome)), bad);
	dealview_jset(o, "latency_us", json_integer(ev->latency_us), bad);
	dealview_jset(o, "bytes_up", dealview_jint(ev->bytes_up), bad);
	dealview_jset(o, "bytes_down", dealview_jint(ev->bytes_down), bad);
	if (ev->has_deal_uuid)
		mk12_uuid_format(uuid, ev->deal_uuid);
	dealview_jset(o, "deal_uuid", ev->has_deal_uuid ? json_string(uuid)
		      : json_null(), bad);
	dealview_jset(o, "piece_cid", dealview_jstr(ev->piece_cid), bad);
	dealview_jset(o, "detail", dealview_jstr(ev->detail), bad);
	return o;
}
