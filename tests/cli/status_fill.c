/*
 * status_fill.c - writes a fixed picture of a repository the dealer
 * worked in, for test_status.sh: blocks (UnixFS files imported with 1 KiB
 * chunks), the piece store, deals, SPs with asks, and the dealer's
 * report, through the modules that write them in the daemon:
 *
 *	commit 1  pieced (its own CAR); 8 deals: 4 active (deal IDs 101 to
 *	          104, read on chain), 105 published, one transferring
 *	          (checked soonest), one failed a minute ago, one expired
 *	          three days ago
 *	commit 2  small: waiting in the open aggregate
 *	commit 3  pieced, 6 active deals, its leaves evicted
 *	commit 4  pieced, no deals, a note from the dealer
 *	commit 5  pieced, no deals, no note (blocked on DataCap)
 *	loose     a file imported but not committed (for estimate)
 *
 *	SPs       f01000 ask 0.00000003 FIL/GiB/epoch (verified 0),
 *	          f01001 0.00000002 (verified 0), f01002 0.00000005
 *	          (verified 0.000000001: both over the caps), f01003
 *	          disabled, f01004 no ask, f01005 takes 1 GiB pieces only
 *
 *	report    network devnet, head 1000, funds, blocked on DataCap,
 *	          price 4.2 USD/FIL (unless --no-price), last cycle
 *
 * With --replicated, only commit 3 (every commit has its deals: what
 * `wallet --watch` waits for).
 *
 * The report tables are written with plain SQL into the schema of
 * dealer/dealer_report.c (module "dealer_report", version 1): the dealer
 * has no writer that runs without a network.  Times are the real clock,
 * as the CLI compares them with it.  Prints shell assignments of what
 * the test checks: ROOT1, PIECE1, PADDED1, PADDED3, UUID1, PROPOSAL1,
 * SIGNED1, EVICTED3, LOOSE, LOOSE_CAR.
 *
 *	usage: status_fill REPO [--no-price] [--replicated]
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/bstore.h"
#include "core/car.h"
#include "core/db.h"
#include "core/error.h"
#include "core/importer.h"
#include "dealer/deals.h"
#include "dealer/miners.h"
#include "dealer/piece.h"

#define SHA2_256 0x12
#define WALLET "f1abjxfbp274xpdqcpuaykwkfb43omjotacm2p3za"
#define DURATION 1051200
#define GIB (1024ull * 1024 * 1024)

struct fill {
	const char *repo;
	bool price;                 /* write the report's "price" */
	bool replicated;            /* commit 3 only */
	char db[4096];
	struct bstore *bs;
	struct piece_store *ps;
	struct deals *ds;
	int64_t now;
	int64_t piece[6];           /* of commits 1..5 */
	uint64_t padded[6];
	struct cid root[6];         /* [0]: the loose file */
	uint64_t evicted;
};

#define CHECK(x)                                                          \
	do {                                                              \
		int rc_ = (x);                                            \
		if (rc_ < 0) {                                            \
			fprintf(stderr, "status_fill: %s: %s\n", #x,      \
				efs_error_msg());                         \
			return rc_;                                       \
		}                                                         \
	} while (0)

/* ---- blocks and pieces -------------------------------------------------- */

/* Import len bytes of a fixed pattern (seed) as a file of 1 KiB leaves. */
static int import(struct cid *root, struct fill *f, size_t len, unsigned seed)
{
	struct blockio_sink sink = bstore_sink(f->bs);
	struct importer_opts o;
	uint8_t *data = efs_malloc(len);
	uint32_t x = seed * 2654435761u + 1;
	char path[4200];
	int fd, rc;

	if (!data)
		return EFS_ENOMEM;
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		data[i] = (uint8_t)(x >> 16);
	}
	snprintf(path, sizeof(path), "%s/fill.tmp", f->repo);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	rc = fd < 0 || write(fd, data, len) != (ssize_t)len ? EFS_EIO : 0;
	efs_free(data);
	if (rc == 0 && (rc = importer_opts_profile(&o, NULL)) == 0) {
		o.chunk_size = 1024;
		o.threads = 1;
		lseek(fd, 0, SEEK_SET);
		rc = importer_add_fd(root, NULL, fd, &o, &sink, NULL, NULL);
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
	return rc == 0 ? bstore_sync(f->bs) : rc;
}

static int first_piece(const struct piece_info *p, const struct piece_member *m,
		       void *cls)
{
	(void)m;
	*(int64_t *)cls = p->id;
	return 1;
}

static int commit(struct fill *f, int64_t id, size_t len)
{
	struct piece_commit_info ci;

	CHECK(import(&f->root[id], f, len, (unsigned)id));
	CHECK(piece_add_commit(f->ps, id, &f->root[id]));
	CHECK(piece_of_commit(&ci, f->ps, id));
	f->padded[id] = ci.padded;
	if (ci.stage == PIECE_STAGE_PIECED)
		CHECK(piece_commit_foreach(f->ps, id, first_piece,
					   &f->piece[id]) < 0 ? -1 : 0);
	return 0;
}

static int count_cb(void *cls, const uint8_t *data, size_t len)
{
	(void)data;
	*(uint64_t *)cls += len;
	return 0;
}

static int evict_cb(const struct car_block_info *info, void *cls)
{
	struct fill *f = cls;

	if (bstore_evict(f->bs, &info->id) == 0)
		f->evicted++;
	return 0;
}

/* Walk root's CAR: its size, and evicting its leaves when evict. */
static int walk(uint64_t *size, struct fill *f, const struct cid *root,
		bool evict)
{
	struct blockio_source src = bstore_source(f->bs);
	struct car_writer *w;
	int rc;

	*size = 0;
	CHECK(car_writer_new_cb(&w, count_cb, size));
	rc = car_write_dag(w, &src, root, evict ? evict_cb : NULL, f);
	car_writer_free(w);
	return rc;
}

/* ---- deals -------------------------------------------------------------- */

static struct filaddr sp(int i)
{
	struct filaddr a;

	filaddr_init_id(&a, 1000 + (uint64_t)i);
	return a;
}

/* A CID of dag-cbor bytes made of tag and n. */
static void some_cid(struct cid *out, const char *tag, int n)
{
	char text[64];

	snprintf(text, sizeof(text), "%s %d", tag, n);
	cid_hash(out, 1, CID_CODEC_DAG_CBOR, SHA2_256, text, strlen(text));
}

/* The chain's record of deal id, as StateMarketStorageDeal shows it. */
static void chain_json(char *out, size_t cap, const struct deal *d,
		       int64_t id)
{
	char piece[CID_STR_MAX], label[CID_STR_MAX], who[FILADDR_STR_MAX];

	cid_tostr(piece, &d->piece_cid);
	filaddr_format(who, &d->miner, 'f');
	snprintf(label, sizeof(label), "deal-%" PRId64, id);
	snprintf(out, cap,
		 "{\"Proposal\":{\"PieceCID\":{\"/\":\"%s\"},"
		 "\"PieceSize\":%" PRIu64 ",\"VerifiedDeal\":true,"
		 "\"Client\":\"" WALLET "\",\"Provider\":\"%s\","
		 "\"Label\":\"%s\",\"StartEpoch\":%" PRId64 ","
		 "\"EndEpoch\":%" PRId64 ",\"StoragePricePerEpoch\":\"0\","
		 "\"ProviderCollateral\":\"0\",\"ClientCollateral\":\"0\"},"
		 "\"State\":{\"SectorStartEpoch\":1500,"
		 "\"LastUpdatedEpoch\":1600,\"SlashEpoch\":-1}}",
		 piece, d->padded, who, label, d->start_epoch, d->end_epoch);
}

struct deal_spec {
	int sp;
	enum deal_state state;
	int64_t deal_id;            /* -1: none */
	int64_t age;                /* seconds since its last change */
	int64_t check_in;           /* next check, seconds from now */
	const char *reason;
	uint64_t price;             /* attoFIL per epoch; 0: verified */
};

static int deal_add(struct fill *f, int commit, int n,
		    const struct deal_spec *spec, struct deal *out)
{
	static const uint8_t sig[] = "a signed ClientDealProposal";
	struct piece_info info;
	struct deal d = { 0 };
	char json[2048];

	CHECK(piece_get(&info, f->ps, f->piece[commit]));
	/* b0b0b0b0-b0b0-... for commit 1's first deal: hex letters, so
	 * that no UUID reads as a deal ID */
	memset(d.uuid, 0xa0 + 0x10 * commit + n, sizeof(d.uuid));
	d.piece_id = info.id;
	d.piece_cid = info.cid;
	d.padded = info.padded;
	d.miner = sp(spec->sp);
	snprintf(d.proto, sizeof(d.proto), "mk12");
	d.state = DEAL_PROPOSING;
	d.verified = spec->price == 0;
	bigint_from_u64(&d.price, spec->price);
	bigint_from_u64(&d.collateral, 0);
	d.start_epoch = 2000;
	d.end_epoch = 2000 + DURATION;
	some_cid(&d.proposal_cid, "proposal", commit * 100 + n);
	some_cid(&d.signed_cid, "signed", commit * 100 + n);
	buf_init(&d.proposal, BUF_NOCAP);
	CHECK(buf_add(&d.proposal, sig, sizeof(sig) - 1));
	d.created = f->now - spec->age - 600;
	d.next_check = f->now + spec->check_in;
	CHECK(deals_insert(f->ds, &d));
	CHECK(deals_set_state(f->ds, d.id, DEAL_ACCEPTED, "accepted",
			      d.next_check, d.created + 10));
	if (spec->deal_id >= 0) {
		chain_json(json, sizeof(json), &d, spec->deal_id);
		CHECK(deals_set_chain(f->ds, d.id, spec->deal_id, 1500, -1,
				      json, f->now - spec->age - 5));
	}
	CHECK(deals_set_state(f->ds, d.id, spec->state, spec->reason,
			      d.next_check, f->now - spec->age));
	if (out)
		*out = d;
	else
		deals_release(&d);
	return 0;
}

static int deals_fill(struct fill *f)
{
	static const struct deal_spec one[] = {
		{ 0, DEAL_ACTIVE, 101, 300, 600, NULL, 0 },
		{ 1, DEAL_ACTIVE, 102, 300, 600, NULL, 0 },
		/* unverified at f01000's ask: 3e10 * 256 KiB / 1 GiB */
		{ 2, DEAL_ACTIVE, 103, 300, 600, NULL, 7324218 },
		{ 3, DEAL_ACTIVE, 104, 300, 600, NULL, 0 },
		{ 4, DEAL_PUBLISHED, 105, 60, 30, "published", 0 },
		{ 5, DEAL_TRANSFERRING, -1, 30, 10, "the SP is pulling", 0 },
		{ 6, DEAL_FAILED, -1, 60, 0, "sp: rejected: price too low", 0 },
		{ 7, DEAL_EXPIRED, 99, 3 * 86400, 0, "ran its term", 0 },
	};
	struct deal first;
	char s[CID_STR_MAX], u[MK12_UUID_STR_MAX];

	for (int i = 0; i < 6; i++) {
		struct deal_spec a = { i, DEAL_ACTIVE, 201 + i, 300, 600,
				       NULL, 0 };

		CHECK(deal_add(f, 3, i, &a, NULL));
	}
	if (f->replicated)
		return 0;
	CHECK(deal_add(f, 1, 0, &one[0], &first));
	for (size_t i = 1; i < sizeof(one) / sizeof(one[0]); i++)
		CHECK(deal_add(f, 1, (int)i, &one[i], NULL));
	mk12_uuid_format(u, first.uuid);
	printf("UUID1=%s\n", u);
	printf("PROPOSAL1=%s\n", cid_tostr(s, &first.proposal_cid));
	printf("SIGNED1=%s\n", cid_tostr(s, &first.signed_cid));
	deals_release(&first);
	return 0;
}

/* ---- SPs ---------------------------------------------------------------- */

static int sp_add(struct miners *m, int i, uint64_t price, uint64_t vprice,
		  uint64_t min, bool with_ask, int64_t now_ns)
{
	struct miner_info info = { .addr = sp(i), .url = "http://sp.example",
				   .sector_size = 32 * GIB };
	struct miner_ask ask = { .min_piece = min, .max_piece = 32 * GIB };

	bigint_from_u64(&ask.price, price);
	bigint_from_u64(&ask.verified_price, vprice);
	if (!with_ask)
		info.url = NULL;
	CHECK(miners_upsert(m, &info, now_ns));
	if (with_ask)
		CHECK(miners_set_ask(m, &info.addr, &ask, now_ns));
	return 0;
}

static int miners_fill(struct fill *f)
{
	struct miners_opts opts = MINERS_OPTS_INIT;
	int64_t now = f->now * MINERS_NS_PER_SEC;
	struct filaddr a3 = sp(3);
	struct miners *m;
	int rc;

	opts.seed = 1;
	CHECK(miners_open(&m, f->db, &opts));
	if ((rc = sp_add(m, 0, 30000000000ull, 0, 128, true, now)) == 0 &&
	    (rc = sp_add(m, 1, 20000000000ull, 0, 128, true, now)) == 0 &&
	    (rc = sp_add(m, 2, 50000000000ull, 1000000000ull, 128, true,
			 now)) == 0 &&
	    (rc = sp_add(m, 3, 1, 0, 128, true, now)) == 0 &&
	    (rc = sp_add(m, 4, 0, 0, 0, false, now)) == 0 &&
	    (rc = sp_add(m, 5, 1, 0, GIB, true, now)) == 0)
		rc = miners_set_disabled(m, &a3, true, "excluded in "
					 "config.json");
	miners_close(m);
	return rc;
}

/* ---- the dealer's report ------------------------------------------------ */

/* dealer/dealer_report.c's schema, module "dealer_report" version 1. */
static const char *const report_schema[] = {
	"CREATE TABLE dealer_report ("
	" key TEXT PRIMARY KEY,"
	" value TEXT NOT NULL,"
	" time INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE dealer_piece_notes ("
	" piece_id INTEGER PRIMARY KEY,"
	" note TEXT NOT NULL,"
	" time INTEGER NOT NULL);",
};

static int put(struct db *db, const char *key, const char *value, int64_t t)
{
	sqlite3_stmt *st;

	CHECK(db_stmt(&st, db, "INSERT OR REPLACE INTO dealer_report(key,"
		      " value, time) VALUES (?, ?, ?)"));
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, t);
	return db_run(db, st);
}

static int report_fill(struct fill *f)
{
	char v[1024];
	int64_t t = f->now;
	struct db *db;
	sqlite3_stmt *st;
	int rc;

	CHECK(db_open(&db, f->db, DB_OPEN_CREATE));
	rc = db_migrate(db, NULL, "dealer_report", report_schema, 1);
	snprintf(v, sizeof(v), "{\"kind\":\"devnet\",\"url\":\"http://127.0.0"
		 ".1:1/rpc/v1\",\"wallet\":\"" WALLET "\",\"started\":%" PRId64
		 ",\"replication\":6,\"verified\":true}", t - 3600);
	if (rc == 0)
		rc = put(db, "network", v, t - 3600);
	snprintf(v, sizeof(v), "{\"height\":1000,\"time\":%" PRId64 "}", t - 5);
	if (rc == 0)
		rc = put(db, "head", v, t - 5);
	if (rc == 0)
		rc = put(db, "funds", "{\"available\":\"1.5 FIL\","
			 "\"balance\":\"100 FIL\",\"datacap\":\"0\","
			 "\"escrow\":\"2 FIL\",\"height\":1000,"
			 "\"locked\":\"0.5 FIL\",\"topup\":null,"
			 "\"verified_client\":false}", t - 5);
	if (rc == 0)
		rc = put(db, "blocked", "{\"commits\":null,"
			 "\"datacap\":\"wallet " WALLET " has no DataCap: "
			 "verified deals need it (devnet: estuaryfs-devnet "
			 "datacap)\",\"funds\":null,"
			 "\"miners\":null}", t - 5);
	snprintf(v, sizeof(v), "{\"fil_usd\":\"4.2\",\"source\":\"http://"
		 "price.example/simple/price\",\"time\":%" PRId64 "}", t - 60);
	if (rc == 0 && f->price)
		rc = put(db, "price", v, t - 60);
	snprintf(v, sizeof(v), "{\"time\":%" PRId64 ",\"duration_ms\":12,"
		 "\"rpc_requests\":3,\"rpc_calls\":9,\"checked\":8,"
		 "\"proposed\":0,\"commits\":5}", t - 5);
	if (rc == 0)
		rc = put(db, "cycle", v, t - 5);
	if (rc == 0 && !f->replicated &&
	    (rc = db_stmt(&st, db, "INSERT INTO dealer_piece_notes"
				     "(piece_id, note, time) VALUES (?, ?, ?)"))
		       == 0) {
		sqlite3_bind_int64(st, 1, f->piece[4]);
		sqlite3_bind_text(st, 2, "no eligible SP: 5 backed off, 2 ask "
				  "too old", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, t - 5);
		rc = db_run(db, st);
	}
	if (rc < 0)
		fprintf(stderr, "status_fill: report: %s\n", efs_error_msg());
	db_close(db);
	return rc;
}

/* ---- main --------------------------------------------------------------- */

static int fill(struct fill *f)
{
	struct piece_limits lim = { 64 << 10, 1 << 20, 3600, 1 << 20 };
	char s[CID_STR_MAX];
	uint64_t car;

	CHECK(bstore_open(&f->bs, f->repo, NULL));
	CHECK(piece_store_open(&f->ps, f->db, f->bs, &lim));
	piece_store_test_clock(f->ps, f->now);
	if (f->replicated) {
		CHECK(commit(f, 3, 100000));
		CHECK(deals_open(&f->ds, f->db));
		CHECK(deals_fill(f));
		return report_fill(f);
	}
	CHECK(commit(f, 1, 150000));
	CHECK(commit(f, 2, 3000));
	CHECK(commit(f, 3, 100000));
	CHECK(commit(f, 4, 80000));
	CHECK(commit(f, 5, 70000));
	CHECK(walk(&car, f, &f->root[3], true));
	CHECK(import(&f->root[0], f, 50000, 99));
	CHECK(walk(&car, f, &f->root[0], false));
	printf("ROOT1=%s\n", cid_tostr(s, &f->root[1]));
	printf("ROOT2=%s\n", cid_tostr(s, &f->root[2]));
	printf("PADDED1=%" PRIu64 "\nPADDED3=%" PRIu64 "\n", f->padded[1],
	       f->padded[3]);
	printf("EVICTED3=%" PRIu64 "\n", f->evicted);
	printf("LOOSE=%s\nLOOSE_CAR=%" PRIu64 "\n", cid_tostr(s, &f->root[0]),
	       car);
	CHECK(deals_open(&f->ds, f->db));
	CHECK(deals_fill(f));
	CHECK(miners_fill(f));
	return report_fill(f);
}

int main(int argc, char **argv)
{
	struct fill f = { 0 };
	struct piece_info info;
	char s[CID_STR_MAX];
	int rc;

	f.price = true;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--no-price"))
			f.price = false;
		else if (!strcmp(argv[i], "--replicated"))
			f.replicated = true;
		else
			argc = 0;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: status_fill REPO [--no-price] "
			"[--replicated]\n");
		return 2;
	}
	f.repo = argv[1];
	f.now = (int64_t)time(NULL);
	snprintf(f.db, sizeof(f.db), "%s/index.db", f.repo);
	rc = fill(&f);
	if (rc == 0 && !f.replicated &&
	    piece_get(&info, f.ps, f.piece[1]) == 0)
		printf("PIECE1=%s\n", cid_tostr(s, &info.cid));
	deals_close(f.ds);
	piece_store_close(f.ps);
	if (bstore_close(f.bs) < 0 && rc == 0)
		rc = -1;
	return rc < 0;
}
