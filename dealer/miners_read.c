/*
 * miners_read.c - what the miner tables hold, read back (miners.h):
 * records with their performance and score, the interaction log and the
 * bandwidth sums.
 *
 * Design notes:
 * - Records are read with one join of dealer_miners and dealer_miner_perf
 *   (RECORD_SQL); SPs are few (hundreds, a few thousand on mainnet), so
 *   selection loads them all and decides in memory.
 * - SPs are listed in ID order: "f0" then decimal digits without leading
 *   zeros, so ordering by (length, text) is numeric order.
 * - Values stored by this module are checked as they are read back
 *   (prices parse, actions and outcomes are known names): a row that does
 *   not gives EFS_ECORRUPT, never a guess.
 * - A read-only struct miners over an index the dealer never wrote to
 *   (m->db NULL) lists nothing and knows no SP.
 */
#include "dealer/miners.h"

#include <inttypes.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "dealer/miners_i.h"

#include "core/banned.h"

#define ORDER_BY_ADDR " ORDER BY length(addr), addr"

/* Every SP joined with its performance (the C_ columns below). */
#define RECORD_SQL                                                         \
	"SELECT m.addr, m.url, m.peer_id, m.sector_size, m.source,"        \
	" m.price, m.verified_price, m.min_piece, m.max_piece,"            \
	" m.ask_time_ns, m.ask_expiry, m.reachable, m.first_seen_ns,"      \
	" m.last_seen_ns, m.backoff_until_ns, m.fail_streak,"              \
	" m.reject_streak, m.disabled, m.disabled_reason, m.log_rows,"     \
	" p.proposed, p.accepted, p.rejected, p.propose_errors, p.sealed," \
	" p.failed, p.slashed, p.expired, p.seal_count, p.seal_sum_s,"     \
	" p.seal_recent, p.asks, p.asks_ok, p.retrievals,"                 \
	" p.retrievals_ok, p.retrieved_bytes, p.retrieval_us,"             \
	" p.last_ok_ns, p.last_fail_ns"                                    \
	" FROM dealer_miners m JOIN dealer_miner_perf p USING (addr)"

/* ---- score ------------------------------------------------------------- */

uint64_t miners_settled(const struct miner_perf *p)
{
	return p->sealed + p->failed + p->slashed + p->rejected +
	       p->propose_errors;
}

/* The score of p (miners.h has the formula). */
static double perf_score(const struct miner_perf *p)
{
	double deal = ((double)p->sealed + 1) /
		      ((double)miners_settled(p) + 2);
	double seal = p->seal_count
			      ? MINERS_SEAL_REF /
					(MINERS_SEAL_REF + p->seal_median_s)
			      : 0.5;
	double retr = ((double)p->retrievals_ok + 1) /
		      ((double)p->retrievals + 2);
	double speed = p->retrievals_ok
			       ? p->retrieval_speed /
					 (p->retrieval_speed + MINERS_SPEED_REF)
			       : 0.5;

	return 0.60 * deal + 0.15 * seal + 0.15 * retr + 0.10 * speed;
}

/* The median of the big-endian uint32 seconds in blob[0..len). */
static double seal_median(const uint8_t *blob, size_t len)
{
	uint32_t v[MINERS_SEAL_RECENT];
	size_t n = 0;

	for (size_t i = 0; i + 4 <= len && n < MINERS_SEAL_RECENT; i += 4) {
		uint32_t x = (uint32_t)blob[i] << 24 |
			     (uint32_t)blob[i + 1] << 16 |
			     (uint32_t)blob[i + 2] << 8 | blob[i + 3];
		size_t j = n++;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	if (n == 0)
		return 0;
	if (n % 2)
		return v[n / 2];
	return ((double)v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- records ------------------------------------------------------------ */

/* Parse a stored address; ECORRUPT when it is not one. */
static int addr_parse(struct filaddr *out, const char *s)
{
	if (!s || filaddr_parse(out, NULL, s, strlen(s)) < 0 ||
	    out->protocol != FILADDR_ID)
		return efs_error_set(EFS_ECORRUPT, "miners: stored address "
				     "'%s' is not an ID address",
				     s ? s : "(null)");
	return 0;
}

void miners_record_release(struct miner_record *r)
{
	if (!r)
		return;
	efs_free(r->url);
	efs_free(r->peer_id);
	efs_free(r->disabled_reason);
	r->url = r->peer_id = r->disabled_reason = NULL;
}

/* Columns of RECORD_SQL. */
enum {
	C_ADDR, C_URL, C_PEER, C_SECTOR, C_SOURCE, C_PRICE, C_VPRICE,
	C_MIN, C_MAX, C_ASK_TIME, C_ASK_EXPIRY, C_REACHABLE, C_FIRST_SEEN,
	C_LAST_SEEN, C_BACKOFF, C_FAIL_STREAK, C_REJECT_STREAK, C_DISABLED,
	C_REASON, C_LOG_ROWS, C_PROPOSED, C_ACCEPTED, C_REJECTED,
	C_PROPOSE_ERRORS, C_SEALED, C_FAILED, C_SLASHED, C_EXPIRED,
	C_SEAL_COUNT, C_SEAL_SUM, C_SEAL_RECENT, C_ASKS, C_ASKS_OK,
	C_RETRIEVALS, C_RETRIEVALS_OK, C_RETRIEVED_BYTES, C_RETRIEVAL_US,
	C_LAST_OK, C_LAST_FAIL,
};

static uint64_t col_u64(sqlite3_stmt *st, int i)
{
	int64_t v = sqlite3_column_int64(st, i);

	return v < 0 ? 0 : (uint64_t)v;
}

/* A copy of text column i, or NULL when it is NULL. */
static int col_strdup(char **out, sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	*out = NULL;
	if (s && !(*out = efs_strdup(s)))
		return efs_error_set(EFS_ENOMEM, "miners: out of memory");
	return 0;
}

static int col_bigint(struct bigint *out, sqlite3_stmt *st, int i,
		      const char *addr)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	if (!s || bigint_parse(out, s, strlen(s)) < 0 || out->neg)
		return efs_error_set(EFS_ECORRUPT, "miners: %s: stored price "
				     "'%s' is not an amount", addr,
				     s ? s : "(null)");
	return 0;
}

static int read_ask(struct miner_record *out, sqlite3_stmt *st,
		    const char *addr)
{
	int error;

	out->has_ask = sqlite3_column_type(st, C_PRICE) != SQLITE_NULL;
	if (!out->has_ask)
		return 0;
	if ((error = col_bigint(&out->ask.price, st, C_PRICE, addr)) < 0 ||
	    (error = col_bigint(&out->ask.verified_price, st, C_VPRICE,
				addr)) < 0)
		return error;
	out->ask.min_piece = col_u64(st, C_MIN);
	out->ask.max_piece = col_u64(st, C_MAX);
	out->ask.expiry = sqlite3_column_int64(st, C_ASK_EXPIRY);
	out->ask_time_ns = sqlite3_column_int64(st, C_ASK_TIME);
	return 0;
}

static void read_perf(struct miner_perf *p, sqlite3_stmt *st)
{
	uint64_t seal_sum = col_u64(st, C_SEAL_SUM);

	p->proposed = col_u64(st, C_PROPOSED);
	p->accepted = col_u64(st, C_ACCEPTED);
	p->rejected = col_u64(st, C_REJECTED);
	p->propose_errors = col_u64(st, C_PROPOSE_ERRORS);
	p->sealed = col_u64(st, C_SEALED);
	p->failed = col_u64(st, C_FAILED);
	p->slashed = col_u64(st, C_SLASHED);
	p->expired = col_u64(st, C_EXPIRED);
	p->seal_count = col_u64(st, C_SEAL_COUNT);
	p->seal_mean_s = p->seal_count ? (double)seal_sum / p->seal_count : 0;
	p->seal_median_s = seal_median(
		sqlite3_column_blob(st, C_SEAL_RECENT),
		(size_t)sqlite3_column_bytes(st, C_SEAL_RECENT));
	p->asks = col_u64(st, C_ASKS);
	p->asks_ok = col_u64(st, C_ASKS_OK);
	p->retrievals = col_u64(st, C_RETRIEVALS);
	p->retrievals_ok = col_u64(st, C_RETRIEVALS_OK);
	p->retrieved_bytes = col_u64(st, C_RETRIEVED_BYTES);
	p->retrieval_us = col_u64(st, C_RETRIEVAL_US);
	p->retrieval_speed = p->retrieval_us
				     ? (double)p->retrieved_bytes * 1e6 /
					       (double)p->retrieval_us
				     : 0;
	p->last_ok_ns = sqlite3_column_int64(st, C_LAST_OK);
	p->last_fail_ns = sqlite3_column_int64(st, C_LAST_FAIL);
}

/* Fill out from the columns of RECORD_SQL's row (mu held). */
static int row_read(struct miner_record *out, sqlite3_stmt *st)
{
	const char *addr = (const char *)sqlite3_column_text(st, C_ADDR);
	const char *source = (const char *)sqlite3_column_text(st, C_SOURCE);
	int error;

	memset(out, 0, sizeof(*out));
	if ((error = addr_parse(&out->addr, addr)) < 0 ||
	    (error = read_ask(out, st, addr)) < 0)
		return error;
	out->sector_size = col_u64(st, C_SECTOR);
	out->source = source && !strcmp(source, "config")
			      ? MINERS_SOURCE_CONFIG : MINERS_SOURCE_CHAIN;
	out->reachable = sqlite3_column_int(st, C_REACHABLE) != 0;
	out->first_seen_ns = sqlite3_column_int64(st, C_FIRST_SEEN);
	out->last_seen_ns = sqlite3_column_int64(st, C_LAST_SEEN);
	out->backoff_until_ns = sqlite3_column_int64(st, C_BACKOFF);
	out->fail_streak = (uint32_t)col_u64(st, C_FAIL_STREAK);
	out->reject_streak = (uint32_t)col_u64(st, C_REJECT_STREAK);
	out->disabled = sqlite3_column_int(st, C_DISABLED) != 0;
	out->log_rows = col_u64(st, C_LOG_ROWS);
	read_perf(&out->perf, st);
	out->score = perf_score(&out->perf);
	if ((error = col_strdup(&out->url, st, C_URL)) < 0 ||
	    (error = col_strdup(&out->peer_id, st, C_PEER)) < 0 ||
	    (error = col_strdup(&out->disabled_reason, st, C_REASON)) < 0)
		miners_record_release(out);
	return error;
}

static int get_locked(struct miner_record *out, struct miners *m,
		      const char *addr)
{
	static const char sql[] = RECORD_SQL " WHERE m.addr = ?1";
	sqlite3_stmt *st;
	int error;

	if (!m->db)
		return miners_err_unknown(addr);
	if ((error = db_stmt(&st, m->db, sql)) < 0)
		return error;
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	if ((error = db_step(m->db, st)) > 0)
		error = row_read(out, st);
	else if (error == 0)
		error = miners_err_unknown(addr);
	db_reset(st);
	return error;
}

int miners_get(struct miner_record *out, struct miners *m,
	       const struct filaddr *a)
{
	char addr[FILADDR_STR_MAX];
	int error;

	memset(out, 0, sizeof(*out));
	if ((error = miners_addr_str(addr, a, "get")) < 0)
		return error;
	pthread_mutex_lock(&m->mu);
	error = get_locked(out, m, addr);
	pthread_mutex_unlock(&m->mu);
	return error;
}

static const char all_sql[] = RECORD_SQL ORDER_BY_ADDR;

static int foreach_locked(struct miners *m, miners_cb cb, void *payload)
{
	struct miner_record r;
	sqlite3_stmt *st;
	int error;

	if (!m->db)
		return 0;
	if ((error = db_stmt(&st, m->db, all_sql)) < 0)
		return error;
	while ((error = db_step(m->db, st)) > 0) {
		if ((error = row_read(&r, st)) < 0)
			break;
		error = cb(&r, payload);
		miners_record_release(&r);
		if (error != 0)
			break;
	}
	db_reset(st);
	return error;
}

int miners_foreach(struct miners *m, miners_cb cb, void *payload)
{
	int error;

	pthread_mutex_lock(&m->mu);
	error = foreach_locked(m, cb, payload);
	pthread_mutex_unlock(&m->mu);
	return error;
}

void miners_records_free(struct miner_record *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		miners_record_release(&v[i]);
	efs_free(v);
}

/* Room in *v (of *cap records) for one past n. */
static int records_grow(struct miner_record **v, size_t *cap, size_t n)
{
	struct miner_record *nv;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	if (!(nv = efs_reallocarray(*v, ncap, sizeof(*nv))))
		return efs_error_set(EFS_ENOMEM, "miners: out of memory");
	*v = nv;
	*cap = ncap;
	return 0;
}

/* Rows are read straight into the array (not through foreach_locked,
 * whose records are borrowed and would need copying). */
int miners_load_all(struct miner_record **out, size_t *n_out,
		    struct miners *m)
{
	struct miner_record *v = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *st;
	int error;

	*out = NULL;
	*n_out = 0;
	if (!m->db)
		return 0;
	if ((error = db_stmt(&st, m->db, all_sql)) < 0)
		return error;
	while ((error = db_step(m->db, st)) > 0) {
		if ((error = records_grow(&v, &cap, n)) < 0 ||
		    (error = row_read(&v[n], st)) < 0)
			break;
		n++;
	}
	db_reset(st);
	if (error < 0) {
		miners_records_free(v, n);
		return error;
	}
	*out = v;
	*n_out = n;
	return 0;
}

/* ---- the log ------------------------------------------------------------ */

static int name_lookup(int *out, const char *s, const char *(*name)(int),
		       int count)
{
	for (int i = 0; s && i < count; i++) {
		if (!strcmp(s, name(i))) {
			*out = i;
			return 0;
		}
	}
	return efs_error_set(EFS_ECORRUPT, "miners: unknown name '%s' in the "
			     "log", s ? s : "(null)");
}

static const char *action_name_int(int i)
{
	return miners_action_name((enum miners_action)i);
}

static const char *outcome_name_int(int i)
{
	return miners_outcome_name((enum miners_outcome)i);
}

static int event_read(struct miner_event *ev, sqlite3_stmt *st)
{
	const char *action = (const char *)sqlite3_column_text(st, 2);
	const char *outcome = (const char *)sqlite3_column_text(st, 3);
	int a, o, error;

	if ((error = name_lookup(&a, action, action_name_int,
				 MINERS_ACT_COUNT_)) < 0 ||
	    (error = name_lookup(&o, outcome, outcome_name_int,
				 MINERS_OUT_COUNT_)) < 0)
		return error;
	ev->id = sqlite3_column_int64(st, 0);
	ev->time_ns = sqlite3_column_int64(st, 1);
	ev->action = (enum miners_action)a;
	ev->outcome = (enum miners_outcome)o;
	ev->latency_us = sqlite3_column_int64(st, 4);
	ev->bytes_up = col_u64(st, 5);
	ev->bytes_down = col_u64(st, 6);
	ev->has_deal_uuid = sqlite3_column_bytes(st, 7) == 16;
	if (ev->has_deal_uuid)
		memcpy(ev->deal_uuid, sqlite3_column_blob(st, 7), 16);
	ev->piece_cid = (const char *)sqlite3_column_text(st, 8);
	ev->detail = (const char *)sqlite3_column_text(st, 9);
	ev->detail_len = ev->detail ? strlen(ev->detail) : 0;
	return 0;
}

static int log_foreach_locked(struct miners *m, const struct filaddr *a,
			      const char *addr, int64_t since_ns,
			      size_t limit, miners_event_cb cb, void *payload)
{
	static const char sql[] =
		"SELECT id, time_ns, action, outcome, latency_us, bytes_up,"
		" bytes_down, deal_uuid, piece_cid, detail FROM"
		" dealer_miner_log WHERE addr = ?1 AND time_ns >= ?2"
		" ORDER BY time_ns DESC, id DESC LIMIT ?3";
	struct miner_event ev = { .addr = *a };
	sqlite3_stmt *st;
	int error;

	if (!m->db)
		return 0;
	if ((error = db_stmt(&st, m->db, sql)) < 0)
		return error;
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, since_ns);
	sqlite3_bind_int64(st, 3, limit && limit <= INT64_MAX
					  ? (int64_t)limit : -1);
	while ((error = db_step(m->db, st)) > 0) {
		if ((error = event_read(&ev, st)) < 0 ||
		    (error = cb(&ev, payload)) != 0)
			break;
	}
	db_reset(st);
	return error;
}

int miners_log_foreach(struct miners *m, const struct filaddr *a,
		       int64_t since_ns, size_t limit, miners_event_cb cb,
		       void *payload)
{
	char addr[FILADDR_STR_MAX];
	int error;

	if ((error = miners_addr_str(addr, a, "log")) < 0)
		return error;
	pthread_mutex_lock(&m->mu);
	error = log_foreach_locked(m, a, addr, since_ns, limit, cb, payload);
	pthread_mutex_unlock(&m->mu);
	return error;
}

/* ---- bandwidth ---------------------------------------------------------- */

#define BW_WHERE                                                 \
	" FROM dealer_bandwidth WHERE (?1 IS NULL OR addr = ?1)" \
	" AND (?2 < 0 OR commit_id = ?2) AND day >= ?3"

static const char *const bw_sql[] = {
	[MINERS_BW_ROWS] = "SELECT day, addr, commit_id, sent, fetched"
		BW_WHERE " ORDER BY day, length(addr), addr, commit_id",
	[MINERS_BW_BY_SP] = "SELECT -1, addr, -1, sum(sent), sum(fetched)"
		BW_WHERE " GROUP BY addr" ORDER_BY_ADDR,
	[MINERS_BW_BY_COMMIT] = "SELECT -1, NULL, commit_id, sum(sent),"
		" sum(fetched)" BW_WHERE " GROUP BY commit_id"
		" ORDER BY commit_id",
	[MINERS_BW_BY_DAY] = "SELECT day, NULL, -1, sum(sent), sum(fetched)"
		BW_WHERE " GROUP BY day ORDER BY day",
};

static const char bw_sum_sql[] =
	"SELECT coalesce(sum(sent), 0), coalesce(sum(fetched), 0)" BW_WHERE;

/* Prepare sql and bind the filter (addr text into addr). */
static int bw_prepare(sqlite3_stmt **out, struct miners *m, const char *sql,
		      const struct miners_bw_filter *f,
		      char addr[FILADDR_STR_MAX])
{
	static const struct miners_bw_filter all = MINERS_BW_FILTER_INIT;
	int error;

	if (!f)
		f = &all;
	if (f->addr && (error = miners_addr_str(addr, f->addr,
						"bandwidth")) < 0)
		return error;
	if ((error = db_stmt(out, m->db, sql)) < 0)
		return error;
	if (f->addr)
		sqlite3_bind_text(*out, 1, addr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(*out, 2, f->commit_id < 0 ? -1 : f->commit_id);
	sqlite3_bind_int64(*out, 3, f->since_day);
	return 0;
}

static int bw_row_read(struct miners_bw_row *out, sqlite3_stmt *st)
{
	int error;

	memset(out, 0, sizeof(*out));
	out->day = sqlite3_column_int64(st, 0);
	out->has_addr = sqlite3_column_type(st, 1) != SQLITE_NULL;
	if (out->has_addr &&
	    (error = addr_parse(&out->addr, (const char *)
				       sqlite3_column_text(st, 1))) < 0)
		return error;
	out->commit_id = sqlite3_column_int64(st, 2);
	out->sent = col_u64(st, 3);
	out->fetched = col_u64(st, 4);
	return 0;
}

static int bw_foreach_locked(struct miners *m, enum miners_bw_by by,
			     const struct miners_bw_filter *f,
			     miners_bw_cb cb, void *payload)
{
	char addr[FILADDR_STR_MAX];
	struct miners_bw_row row;
	sqlite3_stmt *st;
	int error;

	if ((unsigned)by > MINERS_BW_BY_DAY)
		return efs_error_set(EFS_EINVAL, "miners: unknown bandwidth "
				     "grouping");
	if (!m->db)
		return 0;
	if ((error = bw_prepare(&st, m, bw_sql[by], f, addr)) < 0)
		return error;
	while ((error = db_step(m->db, st)) > 0) {
		if ((error = bw_row_read(&row, st)) < 0 ||
		    (error = cb(&row, payload)) != 0)
			break;
	}
	db_reset(st);
	return error;
}

int miners_bandwidth_foreach(struct miners *m, enum miners_bw_by by,
			     const struct miners_bw_filter *filter,
			     miners_bw_cb cb, void *payload)
{
	int error;

	pthread_mutex_lock(&m->mu);
	error = bw_foreach_locked(m, by, filter, cb, payload);
	pthread_mutex_unlock(&m->mu);
	return error;
}

static int bw_sum_locked(uint64_t *sent_out, uint64_t *fetched_out,
			 struct miners *m, const struct miners_bw_filter *f)
{
	char addr[FILADDR_STR_MAX];
	sqlite3_stmt *st;
	int error;

	*sent_out = *fetched_out = 0;
	if (!m->db)
		return 0;
	if ((error = bw_prepare(&st, m, bw_sum_sql, f, addr)) < 0)
		return error;
	if ((error = db_step(m->db, st)) > 0) {
		*sent_out = col_u64(st, 0);
		*fetched_out = col_u64(st, 1);
		error = 0;
	}
	db_reset(st);
	return error;
}

int miners_bandwidth_sum(uint64_t *sent_out, uint64_t *fetched_out,
			 struct miners *m,
			 const struct miners_bw_filter *filter)
{
	int error;

	pthread_mutex_lock(&m->mu);
	error = bw_sum_locked(sent_out, fetched_out, m, filter);
	pthread_mutex_unlock(&m->mu);
	return error;
}
