/*
 * miners_log.c - every interaction with an SP and the fate of its deals
 * (miners.h): the log, its retention, the backoff and the performance
 * counters they imply.
 *
 * Design notes:
 * - Performance is kept incrementally: each event adds to its SP's
 *   counters in the same transaction as its log row, so the aggregates
 *   outlive the log's retention and never need a scan of the log.  The
 *   seal median is over a bounded ring for the same reason.
 * - The log is capped per SP: log_rows counts an SP's rows, and an insert
 *   that passes log_keep deletes that SP's oldest rows (an indexed range
 *   on (addr, time_ns)); rows past log_max_age go at the same time.
 *   60,000 deals thus cost at most log_keep rows per SP.
 * - BEGIN IMMEDIATE around each event, so reading the streaks and writing
 *   them back cannot interleave with another writer's.
 * - Details are stored printable: an SP that sends garbage gets it logged
 *   as \xNN escapes, cut to MINERS_DETAIL_MAX, never raw bytes.
 */
#include "dealer/miners.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "dealer/miners_i.h"

#include "core/banned.h"

/* ---- the log ------------------------------------------------------------ */

/*
 * s[0..len) as printable ASCII into out (room for MINERS_DETAIL_MAX + 1):
 * other bytes as \xNN, cut with "..." when it does not fit.
 */
static void detail_escape(char *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t need = (c >= 0x20 && c < 0x7f) ? 1 : 4;
		/* room for this byte and, unless it is the last, "..." */
		size_t room = MINERS_DETAIL_MAX - (i + 1 < len ? 3 : 0);

		if (n + need > room) {
			memcpy(out + n, "...", 3);
			n += 3;
			break;
		}
		if (need == 1) {
			out[n++] = (char)c;
		} else {
			out[n++] = '\\';
			out[n++] = 'x';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
}

/* Positions in perf_delta.v, in the order of perf_update's ?2.. */
enum {
	PD_PROPOSED, PD_ACCEPTED, PD_REJECTED, PD_PROPOSE_ERRORS, PD_SEALED,
	PD_FAILED, PD_SLASHED, PD_EXPIRED, PD_SEAL_COUNT, PD_SEAL_SUM,
	PD_ASKS, PD_ASKS_OK, PD_RETRIEVALS, PD_RETRIEVALS_OK,
	PD_RETRIEVED_BYTES, PD_RETRIEVAL_US, PD_OK_NS, PD_FAIL_NS, PD_COUNT_
};

/* What one event adds to an SP's counters (dealer_miner_perf). */
struct perf_delta {
	int64_t v[PD_COUNT_];
};

static int perf_update(struct miners *m, const char *addr,
		       const struct perf_delta *d)
{
	static const char sql[] =
		"UPDATE dealer_miner_perf SET proposed = proposed + ?2,"
		" accepted = accepted + ?3, rejected = rejected + ?4,"
		" propose_errors = propose_errors + ?5, sealed = sealed + ?6,"
		" failed = failed + ?7, slashed = slashed + ?8,"
		" expired = expired + ?9, seal_count = seal_count + ?10,"
		" seal_sum_s = seal_sum_s + ?11, asks = asks + ?12,"
		" asks_ok = asks_ok + ?13, retrievals = retrievals + ?14,"
		" retrievals_ok = retrievals_ok + ?15,"
		" retrieved_bytes = retrieved_bytes + ?16,"
		" retrieval_us = retrieval_us + ?17,"
		" last_ok_ns = max(last_ok_ns, ?18),"
		" last_fail_ns = max(last_fail_ns, ?19) WHERE addr = ?1";
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, m->db, sql)) < 0)
		return error;
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	for (int i = 0; i < PD_COUNT_; i++)
		sqlite3_bind_int64(st, i + 2, d->v[i]);
	return db_run(m->db, st);
}

/* An SP's streaks and log size (mu held, in a transaction). */
struct miner_state {
	int64_t fail_streak;
	int64_t reject_streak;
	int64_t log_rows;
};

static int state_read(struct miner_state *out, struct miners *m,
		      const char *addr)
{
	static const char sql[] =
		"SELECT fail_streak, reject_streak, log_rows FROM dealer_miners"
		" WHERE addr = ?1";
	sqlite3_stmt *st;
	int error;

	memset(out, 0, sizeof(*out));
	if ((error = db_stmt(&st, m->db, sql)) < 0)
		return error;
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	if ((error = db_step(m->db, st)) > 0) {
		out->fail_streak = sqlite3_column_int64(st, 0);
		out->reject_streak = sqlite3_column_int64(st, 1);
		out->log_rows = sqlite3_column_int64(st, 2);
		error = 0;
	} else if (error == 0) {
		error = miners_err_unknown(addr);
	}
	db_reset(st);
	return error;
}

/* Insert the log row of ev (mu held, in a transaction). */
static int log_insert(struct miners *m, const char *addr,
		      const struct miner_event *ev)
{
	static const char sql[] =
		"INSERT INTO dealer_miner_log(time_ns, addr, action, outcome,"
		" latency_us, bytes_up, bytes_down, deal_uuid, piece_cid,"
		" detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
	char detail[MINERS_DETAIL_MAX + 1];
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, m->db, sql)) < 0)
		return error;
	sqlite3_bind_int64(st, 1, ev->time_ns);
	sqlite3_bind_text(st, 2, addr, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, miners_action_name(ev->action), -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 4, miners_outcome_name(ev->outcome), -1,
			  SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, ev->latency_us);
	sqlite3_bind_int64(st, 6, (int64_t)ev->bytes_up);
	sqlite3_bind_int64(st, 7, (int64_t)ev->bytes_down);
	if (ev->has_deal_uuid)
		sqlite3_bind_blob(st, 8, ev->deal_uuid, 16, SQLITE_STATIC);
	miners_bind_text(st, 9, ev->piece_cid);
	if (ev->detail) {
		detail_escape(detail, ev->detail, ev->detail_len
				      ? ev->detail_len : strlen(ev->detail));
		sqlite3_bind_text(st, 10, detail, -1, SQLITE_STATIC);
	}
	return db_run(m->db, st);
}

/*
 * Drop addr's rows older than log_max_age before now_ns and its oldest
 * rows past log_keep; *rows is its row count, updated (mu held, in a
 * transaction).
 */
static int log_trim(struct miners *m, const char *addr, int64_t *rows,
		    int64_t now_ns)
{
	static const char sql_age[] =
		"DELETE FROM dealer_miner_log WHERE addr = ?1 AND time_ns < ?2";
	static const char sql_keep[] =
		"DELETE FROM dealer_miner_log WHERE id IN (SELECT id FROM"
		" dealer_miner_log WHERE addr = ?1 ORDER BY time_ns, id"
		" LIMIT ?2)";
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, m->db, sql_age)) < 0)
		return error;
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_ns - m->opts.log_max_age_ns);
	if ((error = db_run(m->db, st)) < 0)
		return error;
	*rows -= sqlite3_changes(db_handle(m->db));
	if (*rows <= (int64_t)m->opts.log_keep)
		return 0;
	if ((error = db_stmt(&st, m->db, sql_keep)) < 0)
		return error;
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, *rows - (int64_t)m->opts.log_keep);
	if ((error = db_run(m->db, st)) < 0)
		return error;
	*rows -= sqlite3_changes(db_handle(m->db));
	return 0;
}

/* base * 2^(streak - 1) up to max, shortened by up to the jitter. */
static int64_t backoff_delay(struct miners *m, int64_t base, int64_t max,
			     int64_t streak)
{
	int64_t d = base;

	for (int64_t i = 1; i < streak && d < max; i++)
		d = d > max / 2 ? max : d * 2;
	if (d > max)
		d = max;
	return d - (int64_t)((double)d * m->opts.backoff_jitter *
			     miners_rand01(&m->rng));
}

static bool is_failure(enum miners_outcome o)
{
	return o == MINERS_OUT_UNREACHABLE || o == MINERS_OUT_TIMEOUT ||
	       o == MINERS_OUT_GARBAGE || o == MINERS_OUT_ERROR;
}

/* The SP's new state after ev: streaks, backoff, reachability. */
struct state_change {
	int64_t fail_streak;
	int64_t reject_streak;
	int64_t backoff_until_ns;  /* -1: unchanged */
	int reachable;             /* -1: unchanged */
};

static void state_next(struct state_change *out, struct miners *m,
		       const struct miner_state *s,
		       const struct miner_event *ev)
{
	out->fail_streak = s->fail_streak;
	out->reject_streak = s->reject_streak;
	out->backoff_until_ns = -1;
	out->reachable = -1;
	if (ev->action == MINERS_ACT_CHAIN)
		return;
	if (ev->outcome == MINERS_OUT_OK) {
		out->fail_streak = out->reject_streak = 0;
		out->backoff_until_ns = 0;
		out->reachable = 1;
	} else if (ev->outcome == MINERS_OUT_REJECTED) {
		out->fail_streak = 0;
		out->reject_streak++;
		out->backoff_until_ns = ev->time_ns +
			backoff_delay(m, m->opts.reject_base_ns,
				      m->opts.reject_max_ns,
				      out->reject_streak);
		out->reachable = 1;
	} else if (is_failure(ev->outcome)) {
		out->fail_streak++;
		out->backoff_until_ns = ev->time_ns +
			backoff_delay(m, m->opts.backoff_base_ns,
				      m->opts.backoff_max_ns, out->fail_streak);
		out->reachable = ev->outcome == MINERS_OUT_UNREACHABLE ||
				 ev->outcome == MINERS_OUT_TIMEOUT ? 0 : 1;
	}
}

static int state_write(struct miners *m, const char *addr,
		       const struct state_change *c, int64_t rows,
		       int64_t time_ns)
{
	static const char sql[] =
		"UPDATE dealer_miners SET fail_streak = ?2, reject_streak = ?3,"
		" backoff_until_ns = CASE WHEN ?4 < 0 THEN backoff_until_ns"
		"  ELSE ?4 END,"
		" reachable = CASE WHEN ?5 < 0 THEN reachable ELSE ?5 END,"
		" last_seen_ns = CASE WHEN ?5 = 1 THEN max(last_seen_ns, ?6)"
		"  ELSE last_seen_ns END,"
		" log_rows = ?7 WHERE addr = ?1";
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, m->db, sql)) < 0)
		return error;
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, c->fail_streak);
	sqlite3_bind_int64(st, 3, c->reject_streak);
	sqlite3_bind_int64(st, 4, c->backoff_until_ns);
	sqlite3_bind_int(st, 5, c->reachable);
	sqlite3_bind_int64(st, 6, time_ns);
	sqlite3_bind_int64(st, 7, rows);
	return db_run(m->db, st);
}

/* The counters one interaction adds. */
static void event_delta(struct perf_delta *d, const struct miner_event *ev)
{
	bool ok = ev->outcome == MINERS_OUT_OK;

	memset(d, 0, sizeof(*d));
	switch (ev->action) {
	case MINERS_ACT_PROPOSE:
		d->v[PD_PROPOSED] = 1;
		d->v[PD_ACCEPTED] = ok;
		d->v[PD_REJECTED] = ev->outcome == MINERS_OUT_REJECTED;
		d->v[PD_PROPOSE_ERRORS] = is_failure(ev->outcome);
		break;
	case MINERS_ACT_ASK:
		d->v[PD_ASKS] = 1;
		d->v[PD_ASKS_OK] = ok;
		break;
	case MINERS_ACT_RETRIEVE:
		d->v[PD_RETRIEVALS] = 1;
		d->v[PD_RETRIEVALS_OK] = ok;
		if (ok) {
			d->v[PD_RETRIEVED_BYTES] = (int64_t)ev->bytes_down;
			d->v[PD_RETRIEVAL_US] = ev->latency_us;
		}
		break;
	case MINERS_ACT_CHAIN:
		return; /* about the chain, not an answer of the SP */
	default:
		break;
	}
	if (ok)
		d->v[PD_OK_NS] = ev->time_ns;
	else if (ev->outcome != MINERS_OUT_EXPIRED)
		d->v[PD_FAIL_NS] = ev->time_ns;
}

static int check_event(const struct miner_event *ev, const char *addr)
{
	int error;

	if ((unsigned)ev->action >= MINERS_ACT_COUNT_ ||
	    (unsigned)ev->outcome >= MINERS_OUT_COUNT_)
		return efs_error_set(EFS_EINVAL, "miners: %s: action or "
				     "outcome out of range", addr);
	if (ev->piece_cid && strlen(ev->piece_cid) > MINERS_CID_MAX)
		return efs_error_set(EFS_EINVAL, "miners: %s: piece CID over "
				     "%d bytes", addr, MINERS_CID_MAX);
	if (ev->latency_us < 0)
		return efs_error_set(EFS_EINVAL, "miners: %s: negative latency",
				     addr);
	if ((error = miners_check_u63(ev->bytes_up, "bytes up")) < 0 ||
	    (error = miners_check_u63(ev->bytes_down, "bytes down")) < 0)
		return error;
	return 0;
}

/* Append secs to addr's ring of recent seal times (in a transaction). */
static int seal_ring_add(struct miners *m, const char *addr, uint32_t secs)
{
	static const char sql_get[] =
		"SELECT seal_recent FROM dealer_miner_perf WHERE addr = ?1";
	static const char sql_set[] =
		"UPDATE dealer_miner_perf SET seal_recent = ?2 WHERE addr = ?1";
	uint8_t ring[4 * MINERS_SEAL_RECENT];
	size_t len = 0;
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, m->db, sql_get)) < 0)
		return error;
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	if ((error = db_step(m->db, st)) > 0) {
		const void *p = sqlite3_column_blob(st, 0);

		len = (size_t)sqlite3_column_bytes(st, 0) / 4 * 4;
		if (len > sizeof(ring))
			len = sizeof(ring);
		if (p)
			memcpy(ring, p, len);
	}
	db_reset(st);
	if (error < 0)
		return error;
	if (len == sizeof(ring)) {
		memmove(ring, ring + 4, len - 4);
		len -= 4;
	}
	ring[len++] = (uint8_t)(secs >> 24);
	ring[len++] = (uint8_t)(secs >> 16);
	ring[len++] = (uint8_t)(secs >> 8);
	ring[len++] = (uint8_t)secs;
	if ((error = db_stmt(&st, m->db, sql_set)) < 0)
		return error;
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, ring, (int)len, SQLITE_STATIC);
	return db_run(m->db, st);
}

/*
 * Log ev, apply the state change it implies and the perf delta d, and
 * add *seal_secs to the ring of seal times when not NULL: one
 * transaction (mu held).
 */
static int log_locked(struct miners *m, const char *addr,
		      const struct miner_event *ev, const struct perf_delta *d,
		      const uint32_t *seal_secs)
{
	struct miner_state s;
	struct state_change c;
	int error;

	if ((error = miners_check_writable(m)) < 0 ||
	    (error = db_begin(m->db)) < 0)
		return error;
	if ((error = state_read(&s, m, addr)) < 0 ||
	    (error = log_insert(m, addr, ev)) < 0)
		goto out;
	s.log_rows++;
	state_next(&c, m, &s, ev);
	if ((error = log_trim(m, addr, &s.log_rows, ev->time_ns)) < 0 ||
	    (error = state_write(m, addr, &c, s.log_rows, ev->time_ns)) < 0 ||
	    (error = perf_update(m, addr, d)) < 0 ||
	    (seal_secs && (error = seal_ring_add(m, addr, *seal_secs)) < 0))
		goto out;
	return db_commit(m->db);
out:
	db_rollback(m->db);
	return error;
}

int miners_log(struct miners *m, const struct miner_event *ev)
{
	char addr[FILADDR_STR_MAX];
	struct perf_delta d;
	int error;

	if ((error = miners_addr_str(addr, &ev->addr, "log")) < 0 ||
	    (error = check_event(ev, addr)) < 0)
		return error;
	event_delta(&d, ev);
	pthread_mutex_lock(&m->mu);
	error = log_locked(m, addr, ev, &d, NULL);
	pthread_mutex_unlock(&m->mu);
	return error;
}

/* ---- deal fates --------------------------------------------------------- */

static const enum miners_outcome fate_outcomes[] = {
	[MINERS_FATE_SEALED] = MINERS_OUT_OK,
	[MINERS_FATE_FAILED] = MINERS_OUT_ERROR,
	[MINERS_FATE_SLASHED] = MINERS_OUT_SLASHED,
	[MINERS_FATE_EXPIRED] = MINERS_OUT_EXPIRED,
};

static void fate_delta(struct perf_delta *d, const struct miner_deal_fate *f,
		       uint32_t secs)
{
	memset(d, 0, sizeof(*d));
	switch (f->fate) {
	case MINERS_FATE_SEALED:
		d->v[PD_SEALED] = 1;
		d->v[PD_SEAL_COUNT] = 1;
		d->v[PD_SEAL_SUM] = secs;
		d->v[PD_OK_NS] = f->time_ns;
		break;
	case MINERS_FATE_FAILED:
		d->v[PD_FAILED] = 1;
		d->v[PD_FAIL_NS] = f->time_ns;
		break;
	case MINERS_FATE_SLASHED:
		d->v[PD_SLASHED] = 1;
		d->v[PD_FAIL_NS] = f->time_ns;
		break;
	case MINERS_FATE_EXPIRED:
		d->v[PD_EXPIRED] = 1;
		break;
	}
}

int miners_deal_outcome(struct miners *m, const struct miner_deal_fate *f)
{
	struct miner_event ev = {
		.addr = f->addr,
		.time_ns = f->time_ns,
		.action = MINERS_ACT_CHAIN,
		.has_deal_uuid = f->has_deal_uuid,
		.piece_cid = f->piece_cid,
		.detail = f->detail,
	};
	char addr[FILADDR_STR_MAX];
	char said[96];
	struct perf_delta d;
	uint32_t secs;
	int error;

	if ((error = miners_addr_str(addr, &f->addr, "deal outcome")) < 0)
		return error;
	if ((unsigned)f->fate > MINERS_FATE_EXPIRED)
		return efs_error_set(EFS_EINVAL, "miners: %s: unknown deal "
				     "fate", addr);
	if ((error = check_event(&ev, addr)) < 0)
		return error;
	memcpy(ev.deal_uuid, f->deal_uuid, sizeof(ev.deal_uuid));
	ev.outcome = fate_outcomes[f->fate];
	secs = f->seal_seconds < 0 ? 0
	       : f->seal_seconds > UINT32_MAX ? UINT32_MAX
	       : (uint32_t)f->seal_seconds;
	if (f->fate == MINERS_FATE_SEALED && !f->detail) {
		snprintf(said, sizeof(said), "sealed %" PRIu32 " s after "
			 "acceptance", secs);
		ev.detail = said;
	}
	fate_delta(&d, f, secs);
	pthread_mutex_lock(&m->mu);
	error = log_locked(m, addr, &ev, &d, f->fate == MINERS_FATE_SEALED
					     ? &secs : NULL);
	pthread_mutex_unlock(&m->mu);
	return error;
}

/* ---- pruning ------------------------------------------------------------ */

static int prune_locked(struct miners *m, int64_t now_ns)
{
	static const char sql_age[] =
		"DELETE FROM dealer_miner_log WHERE time_ns < ?1";
	static const char sql_count[] =
		"UPDATE dealer_miners SET log_rows = (SELECT count(*) FROM"
		" dealer_miner_log l WHERE l.addr = dealer_miners.addr)";
	int64_t cutoff = now_ns - m->opts.log_max_age_ns;
	int error;

	if ((error = miners_check_writable(m)) < 0 ||
	    (error = db_begin(m->db)) < 0)
		return error;
	if ((error = db_run_ints(m->db, sql_age, &cutoff, 1)) < 0)
		goto out;
	if (sqlite3_changes(db_handle(m->db)) > 0 &&
	    (error = db_run_ints(m->db, sql_count, NULL, 0)) < 0)
		goto out;
	return db_commit(m->db);
out:
	db_rollback(m->db);
	return error;
}

int miners_prune(struct miners *m, int64_t now_ns)
{
	int error;

	pthread_mutex_lock(&m->mu);
	error = prune_locked(m, now_ns);
	pthread_mutex_unlock(&m->mu);
	return error;
}
