/*
 * devnet.c - the devnet's life: its state directory and database,
 * genesis, the simulated miners, opening and closing, and the faucet.
 *
 * State lives in D/devnet.db (sqlite, WAL), module "devnet" of db_migrate:
 *
 *	devnet_meta     key/value: head, API host and port, network
 *	                letter, FIL/USD rate, next account ID (chain.c)
 *	devnet_actors   every actor: kind, key address (accounts), balance,
 *	                nonce, market escrow and locked funds, DataCap
 *	                (chain_actor.c)
 *	devnet_miners   the simulated miners' fixed settings and faults
 *	devnet_tipsets  one row per epoch: its timestamp and block CID
 *	devnet_msgs     messages taken by MpoolPush, pending or applied,
 *	                with their receipts (chain_msg.c)
 *	devnet_deals    market deals (market.c)
 *
 * The HS256 key of the API tokens is D/jwt.secret (32 bytes, 0600).
 * Genesis makes the system actors (f00, f05, f06, f099), and for each
 * miner f0<1000+i> its worker account f0<100+i> with a fresh secp256k1
 * key, a peer ID, balances and market escrow (held by f05).  Settings
 * saved by an earlier run win over the defaults and lose to the command
 * line.
 */
#define LOG_TOPIC "devnet"

#include "contrib/devnet/chain.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/fdio.h"
#include "core/log.h"
#include "core/mbase.h"

#include "core/banned.h"

#define GIB ((uint64_t)1 << 30)
#define MIB ((uint64_t)1 << 20)
/* Sector size of every simulated miner: mainnet's 32 GiB. */
#define SECTOR_SIZE (32 * GIB)
/* Genesis balances, in FIL. */
#define GENESIS_MINER_FIL 10000
#define GENESIS_WORKER_FIL 1000
#define GENESIS_MINER_ESCROW_FIL 1000

static const char *const schema[] = {
	"CREATE TABLE devnet_meta(key TEXT PRIMARY KEY,"
	" value TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE devnet_actors(id INTEGER PRIMARY KEY,"
	" kind INTEGER NOT NULL, key BLOB UNIQUE,"
	" balance TEXT NOT NULL DEFAULT '0',"
	" nonce INTEGER NOT NULL DEFAULT 0,"
	" escrow TEXT NOT NULL DEFAULT '0',"
	" locked TEXT NOT NULL DEFAULT '0',"
	" datacap TEXT);"
	"CREATE TABLE devnet_miners(id INTEGER PRIMARY KEY,"
	" worker INTEGER NOT NULL, worker_key BLOB NOT NULL,"
	" peer_id TEXT NOT NULL, port INTEGER NOT NULL DEFAULT 0,"
	" price TEXT NOT NULL, verified_price TEXT NOT NULL,"
	" min_piece INTEGER NOT NULL, max_piece INTEGER NOT NULL,"
	" sector_size INTEGER NOT NULL, seal_delay INTEGER NOT NULL,"
	" fault TEXT NOT NULL DEFAULT '{}');"
	"CREATE TABLE devnet_tipsets(height INTEGER PRIMARY KEY,"
	" ts INTEGER NOT NULL, cid TEXT NOT NULL UNIQUE);"
	"CREATE TABLE devnet_msgs(cid TEXT PRIMARY KEY,"
	" from_id INTEGER NOT NULL, nonce INTEGER NOT NULL,"
	" to_addr BLOB NOT NULL, value TEXT NOT NULL,"
	" method INTEGER NOT NULL, params BLOB, json TEXT NOT NULL,"
	" pushed INTEGER NOT NULL, height INTEGER,"
	" exit_code INTEGER, ret BLOB, gas_used INTEGER,"
	" UNIQUE(from_id, nonce));"
	"CREATE INDEX devnet_msgs_pending ON devnet_msgs(pushed)"
	" WHERE height IS NULL;"
	"CREATE TABLE devnet_deals(id INTEGER PRIMARY KEY,"
	" proposal_cid TEXT NOT NULL UNIQUE, piece_cid TEXT NOT NULL,"
	" piece_size INTEGER NOT NULL, verified INTEGER NOT NULL,"
	" client INTEGER NOT NULL, provider INTEGER NOT NULL,"
	" label BLOB NOT NULL, label_bytes INTEGER NOT NULL,"
	" start_epoch INTEGER NOT NULL, end_epoch INTEGER NOT NULL,"
	" price TEXT NOT NULL, pcoll TEXT NOT NULL, ccoll TEXT NOT NULL,"
	" sector INTEGER NOT NULL DEFAULT 0,"
	" sector_start INTEGER NOT NULL DEFAULT -1,"
	" last_updated INTEGER NOT NULL DEFAULT -1,"
	" slash INTEGER NOT NULL DEFAULT -1);",
	/* 1 -> 2: every epoch's settlement (market_tick_locked) finds its
	 * deals without reading the whole table (tens of thousands of
	 * deals after Devnet.InjectDeals). */
	"CREATE INDEX devnet_deals_end ON devnet_deals(end_epoch);"
	"CREATE INDEX devnet_deals_unsealed ON devnet_deals(start_epoch)"
	" WHERE sector_start = -1;",
};

/* ---- genesis ---- */

static int random_bytes(uint8_t *out, size_t n)
{
	if (fdio_random(out, n) < 0)
		return efs_error_set_errno(EFS_EIO, errno,
					   "devnet: getrandom");
	return 0;
}

/*
 * A libp2p peer ID of the form Ed25519 keys give ("12D3KooW..."): the
 * identity multihash of the protobuf PublicKey {Type: Ed25519, Data: 32
 * bytes}.  No host answers to it; clients only pass it around.
 */
static int make_peer_id(char *out, size_t cap)
{
	uint8_t mh[38] = { 0x00, 0x24, 0x08, 0x01, 0x12, 0x20 };
	int rc;

	if ((rc = random_bytes(mh + 6, 32)) < 0)
		return rc;
	if (mbase_base58_encode(out, cap, mh, sizeof(mh)) < 0)
		return efs_error_set(EFS_ETOOBIG, "devnet: peer id too long");
	return 0;
}

static int actor_insert(struct devnet *d, uint64_t id,
			enum chain_actor_kind kind, const struct filaddr *key,
			uint64_t fil, uint64_t escrow_fil)
{
	struct bigint atto, bal, esc;
	uint8_t kb[FILADDR_BYTES_MAX];
	sqlite3_stmt *st;
	int rc;

	bigint_from_u64(&atto, BIGINT_ATTO_PER_FIL);
	bigint_from_u64(&bal, fil);
	bigint_from_u64(&esc, escrow_fil);
	if ((rc = bigint_mul(&bal, &bal, &atto)) < 0 ||
	    (rc = bigint_mul(&esc, &esc, &atto)) < 0)
		return rc;
	if ((rc = db_stmt(&st, d->db,
			  "INSERT INTO devnet_actors(id, kind, key, balance,"
			  " escrow) VALUES (?, ?, ?, ?, ?)")) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, (int64_t)id);
	sqlite3_bind_int(st, 2, (int)kind);
	if (key)
		sqlite3_bind_blob(st, 3, kb, (int)filaddr_to_bytes(kb, key),
				  SQLITE_TRANSIENT);
	if ((rc = chain_bigint_bind(st, 4, &bal)) < 0 ||
	    (rc = chain_bigint_bind(st, 5, &esc)) < 0) {
		db_reset(st);
		return rc;
	}
	return db_run(d->db, st);
}

/* The settings miner i gets on first start: a spread of prices, sizes
 * and sealing delays, so a client has something to choose between. */
static void miner_defaults(struct devnet_miner *m, size_t i)
{
	m->id = DEVNET_MINER_ID0 + i;
	filaddr_init_id(&m->addr, m->id);
	m->worker_id = 100 + i;
	bigint_from_u64(&m->price, 20000000ULL * (i % 4 + 1));
	bigint_from_u64(&m->verified_price, i % 2 ? 1000000 : 0);
	m->min_piece = i % 4 == 3 ? MIB : 256;
	m->max_piece = SECTOR_SIZE;
	m->sector_size = SECTOR_SIZE;
	m->seal_delay = 2 + (int64_t)(i % 3);
}

static int miner_insert(struct devnet *d, const struct devnet_miner *m)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = actor_insert(d, m->worker_id, CHAIN_ACTOR_ACCOUNT,
			       &m->worker.addr, GENESIS_WORKER_FIL, 0)) < 0 ||
	    (rc = actor_insert(d, m->id, CHAIN_ACTOR_MINER, NULL,
			       GENESIS_MINER_FIL,
			       GENESIS_MINER_ESCROW_FIL)) < 0)
		return rc;
	if ((rc = db_stmt(&st, d->db,
			  "INSERT INTO devnet_miners(id, worker, worker_key,"
			  " peer_id, port, price, verified_price, min_piece,"
			  " max_piece, sector_size, seal_delay)"
			  " VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)")) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, (int64_t)m->id);
	sqlite3_bind_int64(st, 2, (int64_t)m->worker_id);
	sqlite3_bind_blob(st, 3, m->worker.priv, FILKEY_PRIVATE_LEN,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 4, m->peer_id, -1, SQLITE_STATIC);
	if ((rc = chain_bigint_bind(st, 5, &m->price)) < 0 ||
	    (rc = chain_bigint_bind(st, 6, &m->verified_price)) < 0) {
		db_reset(st);
		return rc;
	}
	sqlite3_bind_int64(st, 7, (int64_t)m->min_piece);
	sqlite3_bind_int64(st, 8, (int64_t)m->max_piece);
	sqlite3_bind_int64(st, 9, (int64_t)m->sector_size);
	sqlite3_bind_int64(st, 10, m->seal_delay);
	return db_run(d->db, st);
}

static int genesis(struct devnet *d)
{
	static const uint64_t system_ids[] = { 0, DEVNET_MARKET_ID,
					       CHAIN_VERIFREG_ID,
					       CHAIN_BURNT_ID };
	struct bigint k;
	int rc;

	for (size_t i = 0; i < sizeof(system_ids) / sizeof(system_ids[0]);
	     i++)
		if ((rc = actor_insert(d, system_ids[i], CHAIN_ACTOR_SYSTEM,
				       NULL, 0, 0)) < 0)
			return rc;
	for (size_t i = 0; i < d->nminers; i++) {
		struct devnet_miner *m = &d->miners[i];
		struct bigint escrow;

		/* The market actor holds every escrow. */
		bigint_from_u64(&escrow, GENESIS_MINER_ESCROW_FIL);
		bigint_from_u64(&k, BIGINT_ATTO_PER_FIL);
		if ((rc = bigint_mul(&escrow, &escrow, &k)) < 0 ||
		    (rc = chain_balance_add_locked(d, DEVNET_MARKET_ID,
						   &escrow)) < 0)
			return rc;
		miner_defaults(m, i);
		if ((rc = filkey_generate(&m->worker)) < 0 ||
		    (rc = make_peer_id(m->peer_id, sizeof(m->peer_id))) < 0 ||
		    (rc = miner_insert(d, m)) < 0)
			return rc;
	}
	if ((rc = chain_meta_set_i64(d, "head", 0)) < 0 ||
	    (rc = chain_meta_set_i64(d, "next_id",
				     CHAIN_FIRST_ACCOUNT_ID)) < 0 ||
	    (rc = chain_meta_set_i64(d, "port", d->port)) < 0 ||
	    (rc = chain_meta_set(d, "host", d->host)) < 0 ||
	    (rc = chain_meta_set_i64(d, "nminers", (int64_t)d->nminers)) < 0)
		return rc;
	return chain_tipset_insert_locked(d, 0);
}

/* ---- miners ---- */

static int miner_load_row(struct devnet_miner *m, sqlite3_stmt *st)
{
	const char *peer = (const char *)sqlite3_column_text(st, 3);
	const char *fault = (const char *)sqlite3_column_text(st, 11);
	json_t *fj;
	int rc;

	m->id = (uint64_t)sqlite3_column_int64(st, 0);
	filaddr_init_id(&m->addr, m->id);
	m->worker_id = (uint64_t)sqlite3_column_int64(st, 1);
	if ((rc = filkey_import(&m->worker, sqlite3_column_blob(st, 2),
				(size_t)sqlite3_column_bytes(st, 2))) < 0)
		return rc;
	snprintf(m->peer_id, sizeof(m->peer_id), "%s", peer ? peer : "");
	m->port = (uint16_t)sqlite3_column_int(st, 4);
	if ((rc = chain_bigint_column(&m->price, st, 5)) < 0 ||
	    (rc = chain_bigint_column(&m->verified_price, st, 6)) < 0)
		return rc;
	m->min_piece = (uint64_t)sqlite3_column_int64(st, 7);
	m->max_piece = (uint64_t)sqlite3_column_int64(st, 8);
	m->sector_size = (uint64_t)sqlite3_column_int64(st, 9);
	m->seal_delay = sqlite3_column_int64(st, 10);
	fj = json_loads(fault ? fault : "{}", 0, NULL);
	rc = fj ? devnet_fault_from_json(&m->fault, fj)
		: efs_error_set(EFS_ECORRUPT, "devnet: bad fault json");
	json_decref(fj);
	return rc;
}

static int miners_load(struct devnet *d)
{
	sqlite3_stmt *st;
	size_t n = 0;
	int rc;

	if ((rc = db_stmt(&st, d->db,
			  "SELECT id, worker, worker_key, peer_id, port,"
			  " price, verified_price, min_piece, max_piece,"
			  " sector_size, seal_delay, fault FROM devnet_miners"
			  " ORDER BY id")) < 0)
		return rc;
	while ((rc = db_step(d->db, st)) == 1) {
		if (n == d->nminers) {
			rc = efs_error_set(EFS_ECORRUPT,
					   "devnet: more miners than recorded");
			break;
		}
		if ((rc = miner_load_row(&d->miners[n++], st)) < 0)
			break;
	}
	db_reset(st);
	if (rc == 0 && n != d->nminers)
		rc = efs_error_set(EFS_ECORRUPT, "devnet: %zu miners, want %zu",
				   n, d->nminers);
	return rc;
}

struct devnet_miner *devnet_miner_find(struct devnet *d, uint64_t id)
{
	if (id < DEVNET_MINER_ID0 || id - DEVNET_MINER_ID0 >= d->nminers)
		return NULL;
	return &d->miners[id - DEVNET_MINER_ID0];
}

/* ---- open and close ---- */

static int secret_load(struct devnet *d)
{
	char path[4096];
	ssize_t n;
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/jwt.secret", d->dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, d->jwt_secret, sizeof(d->jwt_secret));
		close(fd);
		if (n != (ssize_t)sizeof(d->jwt_secret))
			return efs_error_set(EFS_ECORRUPT,
					     "devnet: %s is not %zu bytes",
					     path, sizeof(d->jwt_secret));
		return 0;
	}
	if (errno != ENOENT)
		return efs_error_set_errno(EFS_EIO, errno, "devnet: %s", path);
	if ((rc = random_bytes(d->jwt_secret, sizeof(d->jwt_secret))) < 0)
		return rc;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return efs_error_set_errno(EFS_EIO, errno, "devnet: %s", path);
	if (write(fd, d->jwt_secret, sizeof(d->jwt_secret)) !=
		    (ssize_t)sizeof(d->jwt_secret) ||
	    fsync(fd) != 0)
		rc = efs_error_set_errno(EFS_EIO, errno, "devnet: %s", path);
	close(fd);
	return rc;
}

/* Settings saved by an earlier run win over the defaults, lose to the
 * command line. */
static int settings_load(struct devnet *d)
{
	char v[64];
	int64_t x = 0;
	int rc;

	if ((rc = chain_meta_get_i64(d, &d->head, "head")) < 0 ||
	    (rc = chain_meta_get_i64(d, &x, "nminers")) < 0)
		return rc;
	if (x < 1 || x > DEVNET_MINERS_MAX)
		return efs_error_set(EFS_ECORRUPT, "devnet: %lld miners",
				     (long long)x);
	d->nminers = (size_t)x;
	/* --listen HOST:0 also means "the port of the last run". */
	if (!d->listen_given &&
	    (rc = chain_meta_get(d, d->host, sizeof(d->host), "host")) < 0)
		return rc;
	if (!d->listen_given || d->port == 0) {
		if ((rc = chain_meta_get_i64(d, &x, "port")) < 0)
			return rc;
		d->port = (uint16_t)x;
	}
	if (!d->fil_usd_given &&
	    chain_meta_get(d, v, sizeof(v), "fil_usd") == 0)
		d->fil_usd = strtod(v, NULL);
	return 0;
}

static int state_open(struct devnet *d)
{
	bool fresh;
	int rc;

	if ((rc = db_open(&d->db, d->db_path, DB_OPEN_CREATE)) < 0 ||
	    (rc = db_sync_mode(d->db, false)) < 0 ||
	    (rc = db_migrate(d->db, &fresh, "devnet", schema,
			     sizeof(schema) / sizeof(schema[0]))) < 0)
		return rc;
	if (!fresh && (rc = settings_load(d)) < 0)
		return rc;
	d->miners = efs_calloc(d->nminers, sizeof(*d->miners));
	if (!d->miners)
		return efs_error_set(EFS_ENOMEM, "devnet: out of memory");
	if (!fresh)
		return miners_load(d);
	if ((rc = db_begin(d->db)) < 0)
		return rc;
	if ((rc = genesis(d)) < 0) {
		db_rollback(d->db);
		return rc;
	}
	return db_commit(d->db);
}

int devnet_open(struct devnet *d)
{
	pthread_condattr_t ca;
	size_t n = strlen(d->dir) + sizeof("/devnet.db");
	int rc;

	if (mkdir(d->dir, 0700) != 0 && errno != EEXIST)
		rc = efs_error_set_errno(EFS_EIO, errno, "devnet: mkdir %s",
					 d->dir);
	else if (!(d->db_path = efs_malloc(n)))
		rc = efs_error_set(EFS_ENOMEM, "devnet: out of memory");
	else
		rc = 0;
	if (rc < 0) {
		efs_free(d->dir);
		d->dir = NULL;
		return rc;
	}
	snprintf(d->db_path, n, "%s/devnet.db", d->dir);
	pthread_mutex_init(&d->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->head_cond, &ca);
	pthread_condattr_destroy(&ca);
	if ((rc = secret_load(d)) < 0 || (rc = state_open(d)) < 0) {
		devnet_close(d);
		return rc;
	}
	return 0;
}

int devnet_db_open(struct devnet *d, struct db **out)
{
	int rc = db_open(out, d->db_path, 0);

	if (rc == 0 && (rc = db_sync_mode(*out, false)) < 0) {
		db_close(*out);
		*out = NULL;
	}
	return rc;
}

int devnet_save_api(struct devnet *d)
{
	int rc;

	pthread_mutex_lock(&d->lock);
	if ((rc = chain_meta_set(d, "host", d->host)) == 0)
		rc = chain_meta_set_i64(d, "port", d->port);
	pthread_mutex_unlock(&d->lock);
	return rc;
}

int devnet_miner_save_port(struct devnet *d, const struct devnet_miner *m)
{
	const int64_t v[] = { m->port, (int64_t)m->id };
	int rc;

	pthread_mutex_lock(&d->lock);
	rc = db_run_ints(d->db, "UPDATE devnet_miners SET port = ?"
				" WHERE id = ?", v, 2);
	pthread_mutex_unlock(&d->lock);
	return rc;
}

void devnet_close(struct devnet *d)
{
	if (!d->db_path)
		return;
	devnet_stop(d);
	if (d->db) {
		db_wal_sync(d->db);
		db_close(d->db);
	}
	for (size_t i = 0; d->miners && i < d->nminers; i++)
		filkey_release(&d->miners[i].worker);
	efs_free(d->miners);
	pthread_cond_destroy(&d->head_cond);
	pthread_mutex_destroy(&d->lock);
	explicit_bzero(d->jwt_secret, sizeof(d->jwt_secret));
	efs_free(d->db_path);
	efs_free(d->dir);
	memset(d, 0, sizeof(*d));
}

/* ---- the clock ---- */

static void *clock_main(void *arg)
{
	struct devnet *d = arg;
	struct timespec next, now;

	clock_gettime(CLOCK_MONOTONIC, &next);
	pthread_mutex_lock(&d->lock);
	while (!d->stopping) {
		efs_clock_add_ms(&next, d->epoch_ms);
		for (;;) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (d->stopping || !efs_clock_before(&now, &next))
				break;
			pthread_cond_timedwait(&d->head_cond, &d->lock, &next);
		}
		if (d->stopping)
			break;
		if (chain_tick_locked(d) < 0)
			efs_log_err("epoch %lld: %s", (long long)d->head + 1,
				    efs_error_msg());
		/* After a stall (a suspended machine, a slow disk), do
		 * not catch up in a burst: count again from now. */
		clock_gettime(CLOCK_MONOTONIC, &now);
		{
			struct timespec late = next;

			efs_clock_add_ms(&late, d->epoch_ms);
			if (efs_clock_before(&late, &now))
				next = now;
		}
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

int devnet_clock_start(struct devnet *d)
{
	int rc = pthread_create(&d->clock, NULL, clock_main, d);

	if (rc != 0)
		return efs_error_set_errno(EFS_EIO, rc,
					   "devnet: cannot start the clock");
	d->clock_running = true;
	return 0;
}

void devnet_stop(struct devnet *d)
{
	pthread_mutex_lock(&d->lock);
	d->stopping = true;
	pthread_cond_broadcast(&d->head_cond);
	pthread_mutex_unlock(&d->lock);
	if (d->clock_running) {
		pthread_join(d->clock, NULL);
		d->clock_running = false;
	}
}

bool devnet_stopping(struct devnet *d)
{
	bool s;

	pthread_mutex_lock(&d->lock);
	s = d->stopping;
	pthread_mutex_unlock(&d->lock);
	return s;
}

/* ---- the faucet ---- */

static int give(struct devnet *d, char *msg, size_t msglen,
		const char *addr, const char *amount, bool datacap)
{
	char as[FILADDR_STR_MAX], ns[BIGINT_STR_MAX + 8];
	char gs[BIGINT_STR_MAX + 8];
	struct bigint v, now;
	struct filaddr a;
	uint64_t id;
	int rc;

	if (filaddr_parse(&a, NULL, addr, strlen(addr)) < 0)
		return efs_error_set(EFS_EINVAL, "bad address '%s': %s", addr,
				     efs_error_msg());
	rc = datacap ? bigint_parse(&v, amount, strlen(amount))
		     : bigint_parse_fil(&v, amount, strlen(amount));
	if (rc < 0 || v.neg)
		return efs_error_set(EFS_EINVAL, "bad amount '%s'", amount);
	if ((rc = chain_grant(d, &id, &now, &a, &v, datacap)) < 0)
		return rc;
	filaddr_format(as, &a, d->net);
	if (datacap) {
		bigint_format(gs, &v);
		bigint_format(ns, &now);
		snprintf(msg, msglen, "%s (%c0%llu): +%s bytes of DataCap, "
			 "now %s", as, d->net, (unsigned long long)id, gs, ns);
	} else {
		bigint_format_fil(gs, &v);
		bigint_format_fil(ns, &now);
		snprintf(msg, msglen, "%s (%c0%llu): +%s, balance %s", as,
			 d->net,
			 (unsigned long long)id, gs, ns);
	}
	return 0;
}

int devnet_faucet(struct devnet *d, char *msg, size_t msglen,
		  const char *addr, const char *amount)
{
	return give(d, msg, msglen, addr, amount, false);
}

int devnet_grant_datacap(struct devnet *d, char *msg, size_t msglen,
			 const char *addr, const char *bytes)
{
	return give(d, msg, msglen, addr, bytes, true);
}
