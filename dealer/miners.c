/*
 * miners.c - the dealer's memory of storage providers (miners.h): the
 * tables, opening them, and what the dealer tells of who SPs are, what
 * they ask and the bytes exchanged with them (miners_log.c has the
 * interactions, the backoff and the performance they imply).
 *
 * Tables (module "dealer_miners" of index.db):
 *
 *	dealer_miners      one row per SP: who (addr "f01234", url, peer_id,
 *	                   sector_size, source), its last ask (prices as
 *	                   decimal attoFIL text, min/max piece, ask_time_ns,
 *	                   ask_expiry epoch), its state (reachable,
 *	                   first/last_seen_ns, backoff_until_ns, fail_streak,
 *	                   reject_streak, disabled + disabled_reason) and
 *	                   log_rows, the size of its log.
 *	dealer_miner_perf  one row per SP: the counters of struct miner_perf,
 *	                   seal_sum_s and seal_recent (the last
 *	                   MINERS_SEAL_RECENT seal times, big-endian uint32
 *	                   seconds, oldest first).
 *	dealer_miner_log   every interaction: time_ns, addr, action, outcome,
 *	                   latency_us, bytes_up/down, deal_uuid, piece_cid,
 *	                   detail; indexed on (addr, time_ns).
 *	dealer_bandwidth   bytes per (UTC day, addr, commit_id), upserted.
 *
 * Design notes:
 * - The connection runs synchronous=NORMAL: a log row or a backoff lost
 *   to a power cut (not to kill -9) costs nothing but a retry, and an
 *   fsync per status check of 60,000 deals would cost a lot.
 * - Every write is one short transaction on this module's own connection.
 */
#include "dealer/miners.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "dealer/miners_i.h"

#include "core/banned.h"

static const char *const schema[] = {
	/* 0 -> 1 */
	"CREATE TABLE dealer_miners ("
	" addr TEXT PRIMARY KEY,"
	" url TEXT,"
	" peer_id TEXT,"
	" sector_size INTEGER NOT NULL DEFAULT 0,"
	" source TEXT NOT NULL CHECK (source IN ('chain', 'config')),"
	" price TEXT,"
	" verified_price TEXT,"
	" min_piece INTEGER,"
	" max_piece INTEGER,"
	" ask_time_ns INTEGER,"
	" ask_expiry INTEGER,"
	" reachable INTEGER NOT NULL DEFAULT 0,"
	" first_seen_ns INTEGER NOT NULL,"
	" last_seen_ns INTEGER NOT NULL DEFAULT 0,"
	" backoff_until_ns INTEGER NOT NULL DEFAULT 0,"
	" fail_streak INTEGER NOT NULL DEFAULT 0,"
	" reject_streak INTEGER NOT NULL DEFAULT 0,"
	" disabled INTEGER NOT NULL DEFAULT 0,"
	" disabled_reason TEXT,"
	" log_rows INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE dealer_miner_perf ("
	" addr TEXT PRIMARY KEY,"
	" proposed INTEGER NOT NULL DEFAULT 0,"
	" accepted INTEGER NOT NULL DEFAULT 0,"
	" rejected INTEGER NOT NULL DEFAULT 0,"
	" propose_errors INTEGER NOT NULL DEFAULT 0,"
	" sealed INTEGER NOT NULL DEFAULT 0,"
	" failed INTEGER NOT NULL DEFAULT 0,"
	" slashed INTEGER NOT NULL DEFAULT 0,"
	" expired INTEGER NOT NULL DEFAULT 0,"
	" seal_count INTEGER NOT NULL DEFAULT 0,"
	" seal_sum_s INTEGER NOT NULL DEFAULT 0,"
	" seal_recent BLOB,"
	" asks INTEGER NOT NULL DEFAULT 0,"
	" asks_ok INTEGER NOT NULL DEFAULT 0,"
	" retrievals INTEGER NOT NULL DEFAULT 0,"
	" retrievals_ok INTEGER NOT NULL DEFAULT 0,"
	" retrieved_bytes INTEGER NOT NULL DEFAULT 0,"
	" retrieval_us INTEGER NOT NULL DEFAULT 0,"
	" last_ok_ns INTEGER NOT NULL DEFAULT 0,"
	" last_fail_ns INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE dealer_miner_log ("
	" id INTEGER PRIMARY KEY,"
	" time_ns INTEGER NOT NULL,"
	" addr TEXT NOT NULL,"
	" action TEXT NOT NULL CHECK (action IN ('ask', 'propose',"
	"  'status', 'transfer', 'chain', 'retrieve')),"
	" outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'rejected',"
	"  'unreachable', 'timeout', 'garbage', 'error', 'slashed',"
	"  'expired')),"
	" latency_us INTEGER NOT NULL DEFAULT 0,"
	" bytes_up INTEGER NOT NULL DEFAULT 0,"
	" bytes_down INTEGER NOT NULL DEFAULT 0,"
	" deal_uuid BLOB,"
	" piece_cid TEXT,"
	" detail TEXT);"
	"CREATE INDEX dealer_miner_log_addr ON dealer_miner_log(addr, time_ns);"
	"CREATE TABLE dealer_bandwidth ("
	" day INTEGER NOT NULL,"
	" addr TEXT NOT NULL,"
	" commit_id INTEGER NOT NULL DEFAULT 0,"
	" sent INTEGER NOT NULL DEFAULT 0,"
	" fetched INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (day, addr, commit_id)) WITHOUT ROWID;"
	"CREATE INDEX dealer_bandwidth_commit ON dealer_bandwidth(commit_id);",
};

#define NSTEPS (sizeof(schema) / sizeof(schema[0]))

static const char *const action_names[MINERS_ACT_COUNT_] = {
	"ask", "propose", "status", "transfer", "chain", "retrieve",
};

static const char *const outcome_names[MINERS_OUT_COUNT_] = {
	"ok", "rejected", "unreachable", "timeout", "garbage", "error",
	"slashed", "expired",
};

const char *miners_action_name(enum miners_action a)
{
	return (unsigned)a < MINERS_ACT_COUNT_ ? action_names[a] : "?";
}

const char *miners_outcome_name(enum miners_outcome o)
{
	return (unsigned)o < MINERS_OUT_COUNT_ ? outcome_names[o] : "?";
}

/* ---- small helpers ---------------------------------------------------- */

uint64_t miners_rand64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

double miners_rand01(uint64_t *state)
{
	return (double)(miners_rand64(state) >> 11) / 9007199254740992.0;
}

int miners_addr_str(char out[FILADDR_STR_MAX], const struct filaddr *a,
		    const char *what)
{
	if (a->protocol != FILADDR_ID)
		return efs_error_set(EFS_EINVAL, "miners: %s: a storage "
				     "provider is named by its ID address "
				     "(f0...)", what);
	filaddr_format(out, a, 'f');
	return 0;
}

int miners_err_unknown(const char *addr)
{
	return efs_error_set(EFS_ENOTFOUND, "miners: %s is not a known "
			     "storage provider", addr);
}

int miners_check_writable(struct miners *m)
{
	if (m->opts.read_only || !m->db)
		return efs_error_set(EFS_EINVAL, "miners: opened read-only");
	return 0;
}

int miners_check_u63(uint64_t v, const char *what)
{
	if (v > INT64_MAX)
		return efs_error_set(EFS_ERANGE, "miners: %s %" PRIu64
				     " is over 2^63-1", what, v);
	return 0;
}

void miners_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* ---- open and close ---------------------------------------------------- */

static int check_opts(const struct miners_opts *o)
{
	if (o->backoff_base_ns <= 0 || o->backoff_max_ns < o->backoff_base_ns ||
	    o->reject_base_ns <= 0 || o->reject_max_ns < o->reject_base_ns)
		return efs_error_set(EFS_EINVAL, "miners: backoff bases must "
				     "be positive and at most their caps");
	if (!(o->backoff_jitter >= 0 && o->backoff_jitter < 1))
		return efs_error_set(EFS_EINVAL, "miners: backoff jitter must "
				     "be in [0, 1)");
	if (o->log_keep < 1 || o->log_max_age_ns <= 0)
		return efs_error_set(EFS_EINVAL, "miners: the log must keep at "
				     "least one row for some time");
	return 0;
}

static int open_read_only(struct miners *m, const char *db_path)
{
	int version;
	int error;

	if (access(db_path, F_OK) < 0 && errno == ENOENT)
		return efs_error_set(EFS_ENOTFOUND, "miners: no index at %s",
				     db_path);
	if ((error = db_open(&m->db, db_path, DB_OPEN_QUERY_ONLY)) < 0 ||
	    (error = db_schema_version(&version, m->db, "dealer_miners")) < 0)
		return error;
	if ((size_t)version > NSTEPS)
		return efs_error_set(EFS_EUNSUPPORTED, "miners: the tables are "
				     "at version %d, this build knows %zu",
				     version, NSTEPS);
	if (version == 0) {
		/* the dealer never ran here: nothing to list */
		db_close(m->db);
		m->db = NULL;
	}
	return 0;
}

int miners_open(struct miners **out, const char *db_path,
		const struct miners_opts *opts)
{
	static const struct miners_opts defaults = MINERS_OPTS_INIT;
	struct miners *m;
	int error;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	if ((error = check_opts(opts)) < 0)
		return error;
	if (!(m = efs_calloc(1, sizeof(*m))))
		return efs_error_set(EFS_ENOMEM, "miners: out of memory");
	pthread_mutex_init(&m->mu, NULL);
	m->opts = *opts;
	m->rng = opts->seed ? opts->seed
			    : (uint64_t)efs_clock_real_ns() ^
				      ((uint64_t)getpid() << 32);
	if (opts->read_only)
		error = open_read_only(m, db_path);
	else if ((error = db_open(&m->db, db_path, DB_OPEN_CREATE)) == 0 &&
		 (error = db_migrate(m->db, NULL, "dealer_miners", schema,
				     NSTEPS)) == 0)
		error = db_sync_mode(m->db, false);
	if (error < 0) {
		miners_close(m);
		return error;
	}
	*out = m;
	return 0;
}

void miners_close(struct miners *m)
{
	if (!m)
		return;
	db_close(m->db);
	pthread_mutex_destroy(&m->mu);
	efs_free(m);
}

/* ---- who they are and what they ask ---------------------------------- */

static int upsert_locked(struct miners *m, const char *addr,
			 const struct miner_info *info, int64_t now_ns)
{
	static const char sql_miner[] =
		"INSERT INTO dealer_miners(addr, url, peer_id, sector_size,"
		" source, first_seen_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
		" ON CONFLICT(addr) DO UPDATE SET"
		" url = coalesce(excluded.url, url),"
		" peer_id = coalesce(excluded.peer_id, peer_id),"
		" sector_size = CASE WHEN excluded.sector_size > 0"
		"  THEN excluded.sector_size ELSE sector_size END,"
		" source = excluded.source";
	static const char sql_perf[] =
		"INSERT OR IGNORE INTO dealer_miner_perf(addr) VALUES (?1)";
	sqlite3_stmt *st;
	int error;

	if ((error = db_begin(m->db)) < 0)
		return error;
	if ((error = db_stmt(&st, m->db, sql_miner)) < 0)
		goto out;
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	miners_bind_text(st, 2, info->url);
	miners_bind_text(st, 3, info->peer_id);
	sqlite3_bind_int64(st, 4, (int64_t)info->sector_size);
	sqlite3_bind_text(st, 5, info->source == MINERS_SOURCE_CONFIG
				 ? "config" : "chain", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now_ns);
	if ((error = db_run(m->db, st)) < 0 ||
	    (error = db_stmt(&st, m->db, sql_perf)) < 0)
		goto out;
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	if ((error = db_run(m->db, st)) == 0)
		return db_commit(m->db);
out:
	db_rollback(m->db);
	return error;
}

int miners_upsert(struct miners *m, const struct miner_info *info,
		  int64_t now_ns)
{
	char addr[FILADDR_STR_MAX];
	int error;

	if ((error = miners_addr_str(addr, &info->addr, "upsert")) < 0 ||
	    (error = miners_check_u63(info->sector_size, "sector size")) < 0)
		return error;
	if ((info->url && strlen(info->url) > MINERS_TEXT_MAX) ||
	    (info->peer_id && strlen(info->peer_id) > MINERS_TEXT_MAX))
		return efs_error_set(EFS_EINVAL, "miners: %s: url or peer ID "
				     "over %d bytes", addr, MINERS_TEXT_MAX);
	if ((unsigned)info->source > MINERS_SOURCE_CONFIG)
		return efs_error_set(EFS_EINVAL, "miners: %s: unknown source",
				     addr);
	pthread_mutex_lock(&m->mu);
	if ((error = miners_check_writable(m)) == 0)
		error = upsert_locked(m, addr, info, now_ns);
	pthread_mutex_unlock(&m->mu);
	return error;
}

/* Run st (bound, cached) and say ENOTFOUND when it changed no row. */
static int run_on_miner(struct miners *m, sqlite3_stmt *st, const char *addr)
{
	int error = db_run(m->db, st);

	if (error == 0 && sqlite3_changes(db_handle(m->db)) == 0)
		error = miners_err_unknown(addr);
	return error;
}

static int check_ask(const struct miner_ask *ask, const char *addr)
{
	int error;

	if (ask->price.neg || ask->verified_price.neg)
		return efs_error_set(EFS_EINVAL, "miners: %s: negative price "
				     "in its ask", addr);
	if (ask->min_piece > ask->max_piece)
		return efs_error_set(EFS_EINVAL, "miners: %s: ask min piece "
				     "size %" PRIu64 " over its max %" PRIu64,
				     addr, ask->min_piece,
				     ask->max_piece);
	if ((error = miners_check_u63(ask->max_piece, "max piece size")) < 0)
		return error;
	return 0;
}

int miners_set_ask(struct miners *m, const struct filaddr *a,
		   const struct miner_ask *ask, int64_t now_ns)
{
	static const char sql[] =
		"UPDATE dealer_miners SET price = ?2, verified_price = ?3,"
		" min_piece = ?4, max_piece = ?5, ask_expiry = ?6,"
		" ask_time_ns = ?7 WHERE addr = ?1";
	char addr[FILADDR_STR_MAX];
	char price[BIGINT_STR_MAX], vprice[BIGINT_STR_MAX];
	sqlite3_stmt *st;
	int error;

	if ((error = miners_addr_str(addr, a, "ask")) < 0 ||
	    (error = check_ask(ask, addr)) < 0)
		return error;
	bigint_format(price, &ask->price);
	bigint_format(vprice, &ask->verified_price);
	pthread_mutex_lock(&m->mu);
	if ((error = miners_check_writable(m)) < 0 ||
	    (error = db_stmt(&st, m->db, sql)) < 0)
		goto out;
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, price, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, vprice, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (int64_t)ask->min_piece);
	sqlite3_bind_int64(st, 5, (int64_t)ask->max_piece);
	sqlite3_bind_int64(st, 6, ask->expiry);
	sqlite3_bind_int64(st, 7, now_ns);
	error = run_on_miner(m, st, addr);
out:
	pthread_mutex_unlock(&m->mu);
	return error;
}

int miners_set_disabled(struct miners *m, const struct filaddr *a,
			bool disabled, const char *reason)
{
	static const char sql[] =
		"UPDATE dealer_miners SET disabled = ?2, disabled_reason = ?3"
		" WHERE addr = ?1";
	char addr[FILADDR_STR_MAX];
	sqlite3_stmt *st;
	int error;

	if ((error = miners_addr_str(addr, a, "disable")) < 0)
		return error;
	if (reason && strlen(reason) > MINERS_TEXT_MAX)
		return efs_error_set(EFS_EINVAL, "miners: %s: reason over %d "
				     "bytes", addr, MINERS_TEXT_MAX);
	pthread_mutex_lock(&m->mu);
	if ((error = miners_check_writable(m)) < 0 ||
	    (error = db_stmt(&st, m->db, sql)) < 0)
		goto out;
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, disabled);
	miners_bind_text(st, 3, disabled ? reason : NULL);
	error = run_on_miner(m, st, addr);
out:
	pthread_mutex_unlock(&m->mu);
	return error;
}

/* ---- bandwidth and pruning ------------------------------------------- */

int miners_bandwidth_add(struct miners *m, const struct filaddr *a,
			 int64_t commit_id, uint64_t sent, uint64_t fetched,
			 int64_t now_ns)
{
	static const char sql[] =
		"INSERT INTO dealer_bandwidth(day, addr, commit_id, sent,"
		" fetched) VALUES (?1, ?2, ?3, ?4, ?5)"
		" ON CONFLICT(day, addr, commit_id) DO UPDATE SET"
		" sent = sent + excluded.sent,"
		" fetched = fetched + excluded.fetched";
	const int64_t day_ns = 86400 * MINERS_NS_PER_SEC;
	char addr[FILADDR_STR_MAX];
	int64_t day;
	sqlite3_stmt *st;
	int error;

	if ((error = miners_addr_str(addr, a, "bandwidth")) < 0 ||
	    (error = miners_check_u63(sent, "bytes sent")) < 0 ||
	    (error = miners_check_u63(fetched, "bytes fetched")) < 0)
		return error;
	if (commit_id < 0)
		return efs_error_set(EFS_EINVAL, "miners: negative commit ID");
	day = now_ns / day_ns - (now_ns % day_ns < 0);
	pthread_mutex_lock(&m->mu);
	if ((error = miners_check_writable(m)) < 0 ||
	    (error = db_stmt(&st, m->db, sql)) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, day);
	sqlite3_bind_text(st, 2, addr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, commit_id);
	sqlite3_bind_int64(st, 4, (int64_t)sent);
	sqlite3_bind_int64(st, 5, (int64_t)fetched);
	error = db_run(m->db, st);
out:
	pthread_mutex_unlock(&m->mu);
	return error;
}
