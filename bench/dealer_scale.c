/*
 * dealer_scale.c - the dealer at the scale of issue 5, against the
 * devnet: the first figures of the closing note.  A benchmark,
 * not a test (bench/dealer_scale.sh builds and runs it with
 * dealer_latency; `meson test` never does).
 *
 *   dealer_scale [--commits N] [--sps N] [--epoch DUR] [--stage DIR]
 *                [--sqlite-mmap MIB] [--keep] [-v]
 *
 * A repository with N tiny commits (default 10,000: a directory holding
 * one file of 200 to 1000 bytes), each its own piece (aggregation off:
 * pieces from 128 bytes), made by the piece store directly (what the
 * dealer's cycles would do 256 commits at a time).  On a devnet of 16
 * SPs (epochs of 1 s), Devnet.InjectDeals makes 6 active deals per
 * piece, each on its own SP, and the matching rows go to the dealer's
 * index as the dealer leaves them (proposing, accepted, published,
 * active, with the chain record and the signed proposal of the same
 * proposal CID; next check due now).  That setup runs in --stage
 * (default /dev/shm): the index syncs every change it records, and
 * 300,000 of them one by one would take minutes on a disk; the finished
 * repository is then copied (cp -a) to $TMPDIR, where everything else
 * runs.  Then, with the dealer opened over that repository as the daemon
 * opens it:
 *
 *   cycle 1  the first cycle after a start: discovery, funds, every deal
 *            due at once, the replication scan of every piece;
 *   cycle 2  right after: nothing due;
 *   cycle 3  every deal made due again: the state check alone.
 *
 * For each: duration, Lotus requests and the JSON-RPC calls in them (the
 * chain is read in batches), deals checked and changed (0: the chain
 * says what the index says), requests to SPs.  Then index.db's size (and
 * its WAL) with its largest tables, and the resident memory of this
 * process, which runs the daemon's dealer code (see struct mem); the goal
 * is 128 MiB.  Last, the parts of the state check timed apart through
 * the same public calls: reading the due rows, the batched
 * StateMarketStorageDeal calls, the rescheduling transaction, and the
 * replication scan's queries.
 *
 * --sqlite-mmap caps sqlite's memory map of each connection (an
 * experiment: core/db.c asks for 256 MiB, and the mapped pages of
 * index.db count in the RSS).
 *
 * Needs DEVNET_BIN, the estuaryfs-devnet program.  Everything lives in a
 * temporary directory under $TMPDIR (default /tmp), removed at the end
 * unless --keep; the devnet is ended by its PID.  Progress goes to
 * stderr, the figures to stdout.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "bench/dealer_bench.h"
#include "core/alloc.h"
#include "core/bstore.h"
#include "core/clock.h"
#include "core/dagpb.h"
#include "core/error.h"
#include "core/mk12.h"
#include "core/unixfs.h"
#include "dealer/dealer.h"
#include "dealer/deals.h"
#include "dealer/lotus.h"
#include "dealer/piece.h"
#include "tests/devnet/devnet_util.h"

#include "core/banned.h"

#define MIB DEALER_BENCH_MIB
#define REPLICATION DEALER_BENCH_REPLICATION
/* The term of the injected deals: the dealer's default. */
#define TERM 1051200

struct opts {
	bool keep;
	unsigned commits, sps;
	const char *epoch;
	const char *stage;           /* where the setup runs */
	long mmap_mib;               /* sqlite's mmap cap; -1: as built */
};

/* ---- memory and files ---- */

/* Reset this process's VmHWM to its VmRSS (Linux >= 4.0). */
static bool hwm_reset(void)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");
	bool ok = f && fputs("5", f) >= 0;

	if (f && fclose(f) != 0)
		ok = false;
	return ok;
}

/* Bytes this process has caused to be written to storage so far
 * (write_bytes of /proc/self/io); 0 when unknown. */
static uint64_t io_written(void)
{
	unsigned long long v = 0;
	char line[128];
	FILE *f = fopen("/proc/self/io", "r");

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "write_bytes: ", 13) == 0)
			v = strtoull(line + 13, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

/* The largest tables of db_path (with their indexes), as
 * "name 12.3 MiB, ..." into out. */
static void table_sizes(char *out, size_t cap, const char *db_path)
{
	static const char sql[] =
		"SELECT coalesce(m.tbl_name, s.name), SUM(s.pgsize)"
		" FROM dbstat s LEFT JOIN sqlite_master m ON m.name = s.name"
		" GROUP BY 1 ORDER BY 2 DESC LIMIT 6";
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	size_t n = 0;

	out[0] = '\0';
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) ==
		    SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK)
		while (sqlite3_step(st) == SQLITE_ROW && n + 1 < cap)
			n += (size_t)snprintf(
				out + n, cap - n, "%s%s %.1f MiB",
				n ? ", " : "",
				(const char *)sqlite3_column_text(st, 0),
				(double)sqlite3_column_int64(st, 1) / MIB);
	if (n == 0)
		snprintf(out, cap, "(dbstat unavailable: %s)",
			 db ? sqlite3_errmsg(db) : "no database");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* ---- the repository ---- */

/* Commit i: a directory holding "file-<i>", 200 to 1000 bytes. */
static int tiny_commit(struct cid *root, struct bstore *bs, uint64_t i)
{
	uint8_t data[1000];
	struct unixfs_data u = { .type = UNIXFS_DIRECTORY };
	struct buf ub = BUF_INIT(64), nb = BUF_INIT(4096);
	struct dagpb_link l = { .has_name = true, .has_tsize = true };
	struct dagpb_node n = { .links = &l, .nlinks = 1, .has_data = true };
	char name[32];
	size_t len = 200 + (size_t)(i * 7919 % 801);
	uint64_t s = i;
	int rc;

	for (size_t k = 0; k < len; k += 8) {
		uint64_t v = dealer_bench_mix(&s);

		memcpy(data + k, &v, len - k < 8 ? len - k : 8);
	}
	if ((rc = cid_hash(&l.cid, 1, CID_CODEC_RAW, MHASH_SHA2_256, data,
			   len)) < 0 ||
	    (rc = bstore_put(bs, &l.cid, data, len)) < 0)
		goto out;
	l.name = (const uint8_t *)name;
	l.name_len = (size_t)snprintf(name, sizeof(name), "file-%llu",
				      (unsigned long long)i);
	l.tsize = len;
	if ((rc = unixfs_encode(&ub, &u)) < 0)
		goto out;
	n.data = ub.ptr;
	n.data_len = ub.len;
	if ((rc = dagpb_encode(&nb, &n)) < 0 ||
	    (rc = cid_hash(root, 1, CID_CODEC_DAG_PB, MHASH_SHA2_256, nb.ptr,
			   nb.len)) < 0)
		goto out;
	rc = bstore_put(bs, root, nb.ptr, nb.len);
out:
	buf_release(&ub);
	buf_release(&nb);
	return rc;
}

/* ---- pieces and deals ---- */

struct piece_row {
	int64_t id;
	struct cid cid;
	uint64_t padded;
	struct cid label;
};

struct scale {
	struct opts *o;
	struct devnet_util_proc net;
	struct dealer_bench_repo r;
	struct piece_row *p;
	size_t np;
	int64_t head, start, end;    /* of the injected deals */
	char client_id[FILADDR_STR_MAX];
	uint64_t *chain_ids;         /* np x REPLICATION, piece-major */
	int64_t *row_ids;            /* the index's rows, same order */
	double t_pieces, t_inject, t_rows;
};

/* The SP of piece i's deal j: REPLICATION consecutive SPs of sps. */
static uint64_t sp_of(const struct scale *s, size_t i, size_t j)
{
	return 1000 + (i % s->o->sps + j) % s->o->sps;
}

static int ready_cb(const struct piece_info *p, void *cls)
{
	struct scale *s = cls;

	if (s->np == s->o->commits || !p->has_label)
		return efs_error_set(EFS_ECORRUPT, "unexpected piece %lld",
				     (long long)p->id);
	s->p[s->np++] = (struct piece_row){ p->id, p->cid, p->padded,
					    p->label };
	return 0;
}

/* N tiny commits (stored, then synced once: a piece records the places
 * of stored blocks only), each made its own piece. */
static int make_pieces(struct scale *s)
{
	struct piece_limits lim = PIECE_LIMITS_INIT;
	struct cid *roots = efs_calloc(s->o->commits, sizeof(*roots));
	struct piece_store *ps;
	double t0 = efs_clock_mono();
	int rc = 0;

	lim.min_padded = 128;
	if (!roots || !(s->p = efs_calloc(s->o->commits, sizeof(*s->p)))) {
		efs_free(roots);
		return dealer_bench_fail("pieces");
	}
	for (uint64_t i = 0; i < s->o->commits && rc == 0; i++)
		if ((rc = tiny_commit(&roots[i], s->r.bs, i)) < 0)
			dealer_bench_fail("a commit");
	if (rc == 0 && (rc = bstore_sync(s->r.bs)) < 0)
		dealer_bench_fail("bstore_sync");
	if (rc < 0 || piece_store_open(&ps, s->r.db, s->r.bs, &lim) < 0) {
		efs_free(roots);
		return rc < 0 ? rc : dealer_bench_fail("piece_store_open");
	}
	for (uint64_t i = 0; i < s->o->commits && rc == 0; i++) {
		if ((rc = piece_add_commit(ps, (int64_t)i + 1, &roots[i])) < 0)
			dealer_bench_fail("piece_add_commit");
		if (i % 2000 == 1999)
			fprintf(stderr, "  %llu commits pieced\n",
				(unsigned long long)i + 1);
	}
	efs_free(roots);
	if (rc == 0 && (rc = piece_foreach_ready(ps, ready_cb, s)) < 0)
		dealer_bench_fail("piece_foreach_ready");
	piece_store_close(ps);
	s->t_pieces = efs_clock_mono() - t0;
	if (rc == 0 && s->np != s->o->commits) {
		fprintf(stderr, "dealer_scale: %zu pieces ready of %u\n",
			s->np, s->o->commits);
		rc = -1;
	}
	return rc;
}

/* One Devnet.InjectDeals call for the pieces i with i % sps == g. */
static int inject_group(struct scale *s, unsigned g, char *out, size_t cap)
{
	json_t *req = json_object(), *prov = json_array(),
	       *pieces = json_array(), *res, *ids;
	char c[CID_STR_MAX], l[CID_STR_MAX], addr[FILADDR_STR_MAX], *text;
	size_t k = 0;
	int rc = -1;

	filaddr_format(addr, &s->r.client, 'f');
	for (size_t j = 0; j < REPLICATION; j++) {
		char sp[32];

		snprintf(sp, sizeof(sp), "f0%llu",
			 (unsigned long long)sp_of(s, g, j));
		json_array_append_new(prov, json_string(sp));
	}
	for (size_t i = g; i < s->np; i += s->o->sps)
		json_array_append_new(
			pieces,
			json_pack("{s:s, s:I, s:s}", "cid",
				  cid_tostr(c, &s->p[i].cid), "size",
				  (json_int_t)s->p[i].padded, "label",
				  cid_tostr(l, &s->p[i].label)));
	json_object_set_new(req, "client", json_string(addr));
	json_object_set_new(req, "providers", prov);
	json_object_set_new(req, "pieces", pieces);
	json_object_set_new(req, "start", json_integer(s->start));
	json_object_set_new(req, "end", json_integer(s->end));
	json_object_set_new(req, "verified", json_true());
	req = json_pack("[o]", req);
	text = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (text && devnet_util_rpc(out, cap, &s->net, "Devnet.InjectDeals",
				    text) == 0 &&
	    (res = json_loads(out, 0, NULL)) != NULL) {
		ids = json_object_get(res, "DealIDs");
		for (size_t i = g; i < s->np; i += s->o->sps)
			for (size_t j = 0; j < REPLICATION; j++, k++)
				s->chain_ids[i * REPLICATION + j] =
					(uint64_t)json_integer_value(
						json_array_get(ids, k));
		rc = k == json_array_size(ids) ? 0 : -1;
		json_decref(res);
	} else {
		fprintf(stderr, "Devnet.InjectDeals: %s\n", out);
	}
	free(text);
	return rc;
}

/* The head, and the client's ID address as the chain names it. */
static int chain_facts(struct scale *s)
{
	char out[16384], addr[FILADDR_STR_MAX], params[FILADDR_STR_MAX + 16];
	json_t *v;

	if (devnet_util_rpc(out, sizeof(out), &s->net, "Filecoin.ChainHead",
			    "[]") < 0 ||
	    !(v = json_loads(out, 0, NULL)))
		return -1;
	s->head = json_integer_value(json_object_get(v, "Height"));
	json_decref(v);
	filaddr_format(addr, &s->r.client, 'f');
	snprintf(params, sizeof(params), "[\"%s\", null]", addr);
	if (devnet_util_rpc(out, sizeof(out), &s->net,
			    "Filecoin.StateLookupID", params) < 0)
		return -1;
	snprintf(s->client_id, sizeof(s->client_id), "%.*s",
		 (int)strlen(out) - 2, out + 1);
	return 0;
}

static int inject(struct scale *s)
{
	size_t cap = 4u << 20;
	double t0 = efs_clock_mono();
	char *out = efs_malloc(cap);
	int rc = 0;

	s->chain_ids = efs_calloc(s->np * REPLICATION,
				  sizeof(*s->chain_ids));
	if (!out || !s->chain_ids || chain_facts(s) < 0) {
		efs_free(out);
		return dealer_bench_fail("the chain");
	}
	s->start = s->head;
	s->end = s->head + TERM;
	for (unsigned g = 0; g < s->o->sps && g < s->np && rc == 0; g++)
		rc = inject_group(s, g, out, cap);
	efs_free(out);
	s->t_inject = efs_clock_mono() - t0;
	return rc;
}

/* The chain record as the dealer stores it (dealer_check.c). */
static char *chain_json(const struct scale *s, size_t i, size_t j)
{
	char piece[CID_STR_MAX], label[CID_STR_MAX], prov[32];
	json_t *v;
	char *text;

	snprintf(prov, sizeof(prov), "f0%llu",
		 (unsigned long long)sp_of(s, i, j));
	v = json_pack(
		"{s:{s:{s:s}, s:I, s:b, s:s, s:s, s:s, s:I, s:I, s:s, s:s,"
		" s:s}, s:{s:I, s:I, s:I, s:I}}",
		"Proposal", "PieceCID", "/", cid_tostr(piece, &s->p[i].cid),
		"PieceSize", (json_int_t)s->p[i].padded, "VerifiedDeal", 1,
		"Client", s->client_id, "Provider", prov, "Label",
		cid_tostr(label, &s->p[i].label), "StartEpoch",
		(json_int_t)s->start, "EndEpoch", (json_int_t)s->end,
		"StoragePricePerEpoch", "0", "ProviderCollateral", "0",
		"ClientCollateral", "0", "State", "SectorNumber",
		(json_int_t)s->chain_ids[i * REPLICATION + j],
		"SectorStartEpoch", (json_int_t)s->head, "LastUpdatedEpoch",
		(json_int_t)-1, "SlashEpoch", (json_int_t)-1);
	text = v ? json_dumps(v, JSON_COMPACT) : NULL;
	json_decref(v);
	return text;
}

/* The deal row of piece i with its j-th SP, signed proposal and all:
 * the same proposal Devnet.InjectDeals made (same proposal CID). */
static int deal_fill(struct deal *dl, struct buf *prop,
		     const struct scale *s, size_t i, size_t j, int64_t now)
{
	struct mk12_client_proposal cp;
	char label[CID_STR_MAX];
	int rc;

	memset(&cp, 0, sizeof(cp));
	cp.proposal.piece_cid = s->p[i].cid;
	cp.proposal.piece_size = s->p[i].padded;
	cp.proposal.verified = true;
	cp.proposal.client = s->r.client;
	filaddr_init_id(&cp.proposal.provider, sp_of(s, i, j));
	cid_tostr(label, &s->p[i].label);
	cp.proposal.label.data.ptr = (uint8_t *)label;
	cp.proposal.label.data.len = strlen(label);
	cp.proposal.start_epoch = s->start;
	cp.proposal.end_epoch = s->end;
	cp.signature = s->r.sig;
	memset(dl, 0, sizeof(*dl));
	buf_reset(prop);
	if ((rc = mk12_uuid_generate(dl->uuid)) < 0 ||
	    (rc = mk12_proposal_cid(&dl->proposal_cid, &cp.proposal)) < 0 ||
	    (rc = mk12_signed_proposal_cid(&dl->signed_cid, &cp)) < 0 ||
	    (rc = mk12_client_proposal_encode(prop, &cp)) < 0)
		return rc;
	dl->proposal = *prop;
	dl->piece_id = s->p[i].id;
	dl->piece_cid = s->p[i].cid;
	dl->padded = s->p[i].padded;
	dl->miner = cp.proposal.provider;
	snprintf(dl->proto, sizeof(dl->proto), "mk12");
	dl->state = DEAL_PROPOSING;
	dl->verified = true;
	dl->start_epoch = s->start;
	dl->end_epoch = s->end;
	dl->created = now - 3600;
	dl->next_check = now;
	return 0;
}

/* Deal (i, j) through the states the dealer moves it through. */
static int deal_write(struct deals *ds, struct buf *prop, struct scale *s,
		      size_t i, size_t j, int64_t now)
{
	int64_t chain_id = (int64_t)s->chain_ids[i * REPLICATION + j];
	char why[128], *json;
	struct deal dl;
	int rc;

	if ((rc = deal_fill(&dl, prop, s, i, j, now)) < 0 ||
	    (rc = deals_insert(ds, &dl)) < 0)
		return rc;
	s->row_ids[i * REPLICATION + j] = dl.id;
	snprintf(why, sizeof(why), "in sector %lld since epoch %lld",
		 (long long)chain_id, (long long)s->head);
	if (!(json = chain_json(s, i, j)))
		return EFS_ENOMEM;
	if ((rc = deals_set_state(ds, dl.id, DEAL_ACCEPTED, NULL, now,
				  now - 3500)) == 0 &&
	    (rc = deals_set_state(ds, dl.id, DEAL_PUBLISHED,
				  "published, waiting for its sector", now,
				  now - 3000)) == 0 &&
	    (rc = deals_set_chain(ds, dl.id, chain_id, s->head, -1, json,
				  now - 60)) == 0)
		rc = deals_set_state(ds, dl.id, DEAL_ACTIVE, why, now,
				     now - 60);
	free(json);
	return rc;
}

static int write_rows(struct scale *s)
{
	struct buf prop = BUF_INIT(BUF_NOCAP);
	int64_t now = efs_clock_real_ns() / 1000000000;
	double t0 = efs_clock_mono();
	struct deals *ds;
	int rc = 0;

	if (!(s->row_ids = efs_calloc(s->np * REPLICATION,
				      sizeof(*s->row_ids))) ||
	    deals_open(&ds, s->r.db) < 0)
		return dealer_bench_fail("the deal rows");
	for (size_t i = 0; i < s->np && rc == 0; i++) {
		for (size_t j = 0; j < REPLICATION && rc == 0; j++)
			rc = deal_write(ds, &prop, s, i, j, now);
		if (i % 2000 == 1999)
			fprintf(stderr, "  %zu deal rows written\n",
				(i + 1) * REPLICATION);
	}
	deals_close(ds);
	buf_release(&prop);
	s->t_rows = efs_clock_mono() - t0;
	return rc < 0 ? dealer_bench_fail("a deal row") : 0;
}

/* ---- the dealer's cycles ---- */

static int no_commits(void *cls, int64_t after, dealer_commit_cb cb,
		      void *cb_cls)
{
	return 0;
}

static void print_cycle(const char *what, const struct dealer_cycle_stats *st,
			uint64_t written)
{
	printf("  %-34s %8.3f s %7llu %9llu %7zu %7zu %6llu %7.1f%s\n", what,
	       (double)st->duration_us / 1e6,
	       (unsigned long long)st->rpc_requests,
	       (unsigned long long)st->rpc_calls, st->checked, st->changed,
	       (unsigned long long)st->sp_calls, (double)written / MIB,
	       st->rc ? "  (an error: see stderr)" : "");
}

/*
 * This process's memory while the dealer runs: VmHWM (the kernel's
 * peak, reset at the start of each window) and, sampled every 5 ms by a
 * thread, the peaks of its two parts: RssAnon (heap, stacks) and RssFile
 * (mapped files: the binary, its libraries, and sqlite's memory map of
 * index.db, mmap_size 256 MiB per connection: a page of the file counts
 * once for each connection that maps it).  Windows leave out the
 * bench's own work between cycles.
 */
struct mem {
	pthread_mutex_t lock;        /* guards the fields below */
	pthread_cond_t cond;
	bool stop, on;
	long hwm, anon, file;        /* peaks over the windows */
	long rss_before, rss_after, anon_after, file_after;
	long setup_peak;             /* ru_maxrss before the first window */
	uint64_t written[3];         /* bytes each cycle wrote to storage */
};

static void *sampler(void *arg)
{
	struct mem *m = arg;
	struct timespec until;

	pthread_mutex_lock(&m->lock);
	while (!m->stop) {
		if (m->on) {
			long a = dealer_bench_status_kib(0, "RssAnon"),
			     f = dealer_bench_status_kib(0, "RssFile");

			m->anon = a > m->anon ? a : m->anon;
			m->file = f > m->file ? f : m->file;
		}
		efs_clock_deadline(&until, CLOCK_REALTIME, 5);
		pthread_cond_timedwait(&m->cond, &m->lock, &until);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

/* Start (on) or end a window. */
static void window(struct mem *m, bool on)
{
	long h;

	if (on && !hwm_reset())
		fprintf(stderr, "dealer_scale: cannot reset VmHWM: the peak "
			"includes the setup\n");
	h = on ? 0 : dealer_bench_status_kib(0, "VmHWM");
	pthread_mutex_lock(&m->lock);
	m->on = on;
	m->hwm = h > m->hwm ? h : m->hwm;
	pthread_mutex_unlock(&m->lock);
}

/* One cycle, and the bytes it wrote to storage. */
static int cycle(struct dealer_cycle_stats *st, uint64_t *written,
		 struct dealer *d)
{
	uint64_t w0 = io_written();
	int rc = dealer_cycle(st, d);

	*written = io_written() - w0;
	return rc;
}

/* Cycles 1 to 3 (see the top), with this process's memory. */
static int cycles(struct scale *s, struct dealer_cycle_stats *st,
		  struct mem *m, const struct dealer_opts *o,
		  const struct dealer_config *cfg)
{
	struct rusage ru;
	struct dealer *d;
	struct deals *ds;
	int64_t now;
	int rc;

	getrusage(RUSAGE_SELF, &ru);
	m->setup_peak = ru.ru_maxrss;
	m->rss_before = dealer_bench_status_kib(0, "VmRSS");
	window(m, true);
	if (dealer_open(&d, o, cfg) < 0) {
		window(m, false);
		return dealer_bench_fail("dealer_open");
	}
	rc = cycle(&st[0], &m->written[0], d);
	if (rc == 0)
		rc = cycle(&st[1], &m->written[1], d);
	window(m, false);
	now = efs_clock_real_ns() / 1000000000;
	if (rc == 0 && (rc = deals_open(&ds, s->r.db)) == 0) {
		rc = deals_reschedule(ds, s->row_ids, s->np * REPLICATION,
				      now, now, now);
		deals_close(ds);
	}
	window(m, true);
	if (rc == 0)
		rc = cycle(&st[2], &m->written[2], d);
	window(m, false);
	m->rss_after = dealer_bench_status_kib(0, "VmRSS");
	m->anon_after = dealer_bench_status_kib(0, "RssAnon");
	m->file_after = dealer_bench_status_kib(0, "RssFile");
	dealer_close(d);
	return rc < 0 ? dealer_bench_fail("a cycle") : 0;
}

static int run_cycles(struct scale *s, struct dealer_cycle_stats *st,
		      struct mem *m)
{
	struct dealer_opts o = { 0 };
	struct dealer_config cfg;
	pthread_t t;
	int rc;

	dealer_bench_config(&cfg);
	o.repo = s->r.dir;
	o.bs = s->r.bs;
	o.commits.list = no_commits;
	/* Nothing is proposed: no SP ever pulls from it. */
	o.transfer_base = "http://127.0.0.1:9";
	o.epoch_seconds = dealer_bench_epoch_s(s->o->epoch);
	o.lotus_url = s->net.rpc;
	o.lotus_token = s->net.token;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	if (pthread_create(&t, NULL, sampler, m) != 0) {
		config_release(&cfg);
		return -1;
	}
	rc = cycles(s, st, m, &o, &cfg);
	pthread_mutex_lock(&m->lock);
	m->stop = true;
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->lock);
	pthread_join(t, NULL);
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->lock);
	config_release(&cfg);
	return rc;
}

static int count_cb(const struct deal *dl, void *cls)
{
	(*(size_t *)cls)++;
	return 0;
}

struct scan_count {
	struct deals *ds;
	int64_t head, renew;
	size_t pieces, full;
};

static int scan_cb(const struct piece_info *p, void *cls)
{
	struct scan_count *c = cls;
	unsigned counting, active;
	int rc;

	if ((rc = deals_count(&counting, &active, c->ds, p->id, c->head,
			      c->renew)) < 0)
		return rc;
	c->pieces++;
	c->full += counting >= REPLICATION;
	return 0;
}

/* The batched StateMarketStorageDeal calls of a full check, in the
 * dealer's rounds of 2000. */
static int chain_reads(struct scale *s, double *secs, uint64_t *reqs)
{
	size_t n = s->np * REPLICATION, chunk = 2000;
	struct lotus_market_deal *m = efs_calloc(chunk, sizeof(*m));
	int *rcs = efs_calloc(chunk, sizeof(*rcs));
	struct lotus *l = NULL;
	double t0;
	int rc = -1;

	if (!m || !rcs || lotus_open(&l, s->net.rpc, s->net.token) < 0)
		goto out;
	t0 = efs_clock_mono();
	for (size_t i = 0; i < n; i += chunk)
		if ((rc = lotus_market_deals(m, rcs, l, s->chain_ids + i,
					     n - i < chunk ? n - i : chunk)) <
		    0)
			break;
	*secs = efs_clock_mono() - t0;
	*reqs = lotus_requests(l);
out:
	lotus_close(l);
	efs_free(m);
	efs_free(rcs);
	return rc;
}

/* The parts of a full state check and the replication scan's queries,
 * timed apart through the same public calls. */
static int parts(struct scale *s)
{
	struct piece_limits lim = PIECE_LIMITS_INIT;
	struct scan_count sc = { .head = s->head, .renew = 60480 };
	int64_t now = efs_clock_real_ns() / 1000000000;
	double t0, t_due, t_chain = 0, t_resched, t_scan;
	size_t due = 0, n = s->np * REPLICATION;
	struct piece_store *ps;
	struct deals *ds;
	uint64_t reqs = 0;
	char what[128];

	lim.min_padded = 128;
	if (deals_open(&ds, s->r.db) < 0)
		return dealer_bench_fail("deals_open");
	t0 = efs_clock_mono();
	if (deals_foreach_due(ds, now + 100000, n, count_cb, &due) < 0)
		return dealer_bench_fail("deals_foreach_due");
	t_due = efs_clock_mono() - t0;
	if (chain_reads(s, &t_chain, &reqs) < 0)
		return dealer_bench_fail("StateMarketStorageDeal");
	t0 = efs_clock_mono();
	if (deals_reschedule(ds, s->row_ids, n, now + 600, now, now) < 0)
		return dealer_bench_fail("deals_reschedule");
	t_resched = efs_clock_mono() - t0;
	if (piece_store_open_ro(&ps, s->r.db, &lim) < 0)
		return dealer_bench_fail("piece_store_open_ro");
	sc.ds = ds;
	t0 = efs_clock_mono();
	if (piece_foreach_ready(ps, scan_cb, &sc) < 0)
		return dealer_bench_fail("the scan");
	t_scan = efs_clock_mono() - t0;
	piece_store_close(ps);
	deals_close(ds);
	printf("the state check's parts, timed apart:\n");
	snprintf(what, sizeof(what), "read the %zu due rows "
		 "(deals_foreach_due)", due);
	printf("  %-58s %7.3f s\n", what, t_due);
	snprintf(what, sizeof(what), "StateMarketStorageDeal x %zu in %llu "
		 "requests", n, (unsigned long long)reqs);
	printf("  %-58s %7.3f s\n", what, t_chain);
	snprintf(what, sizeof(what), "reschedule the %zu rows, one "
		 "transaction", n);
	printf("  %-58s %7.3f s\n", what, t_resched);
	snprintf(what, sizeof(what), "the replication scan's queries: %zu "
		 "pieces x deals_count", sc.pieces);
	printf("  %-58s %7.3f s\n    (%.0f us a piece; %zu with %d counting "
	       "deals)\n", what, t_scan,
	       sc.pieces ? t_scan * 1e6 / (double)sc.pieces : 0, sc.full,
	       REPLICATION);
	return 0;
}

static void print_scale(struct scale *s, const struct dealer_cycle_stats *st,
			const struct mem *m)
{
	char tables[1024];

	table_sizes(tables, sizeof(tables), s->r.db);
	printf("\nscale: %zu commits (one piece each), %zu active deals "
	       "(%d a piece, %u SPs), devnet epoch %s\n",
	       s->np, s->np * REPLICATION, REPLICATION, s->o->sps,
	       s->o->epoch);
	printf("setup: pieces %.1f s, Devnet.InjectDeals %.1f s, deal rows "
	       "%.1f s\n", s->t_pieces, s->t_inject, s->t_rows);
	printf("  %-34s %10s %7s %9s %7s %7s %6s %7s\n", "cycle",
	       "duration", "rpc req", "rpc calls", "checked", "changed",
	       "sp req", "MiB out");
	print_cycle("1 first after start, all due", &st[0], m->written[0]);
	print_cycle("2 right after, nothing due", &st[1], m->written[1]);
	print_cycle("3 all due again (the check alone)", &st[2],
		    m->written[2]);
	printf("  (MiB out: what the cycle wrote to storage, write_bytes of "
	       "/proc/self/io)\n");
	printf("index.db: %.1f MiB, -wal %.1f MiB, -shm %.2f MiB\n"
	       "  largest: %s\n",
	       dealer_bench_file_mib(s->r.db, ""), dealer_bench_file_mib(s->r.db, "-wal"),
	       dealer_bench_file_mib(s->r.db, "-shm"), tables);
	printf("RSS of this process, which runs the daemon's dealer code "
	       "(goal <= 128 MiB):\n"
	       "  before dealer_open %.1f MiB; peak over open and cycles 1-3 "
	       "(VmHWM) %.1f MiB,\n"
	       "  of which at most %.1f MiB heap and stacks (RssAnon) and "
	       "%.1f MiB mapped files\n"
	       "  (RssFile: binary, libraries, sqlite's mmap of index.db per "
	       "connection)\n"
	       "  after them %.1f MiB: RssAnon %.1f MiB, RssFile %.1f MiB; "
	       "peak of the setup\n"
	       "  before (ru_maxrss) %.1f MiB\n",
	       (double)m->rss_before / 1024, (double)m->hwm / 1024,
	       (double)m->anon / 1024, (double)m->file / 1024,
	       (double)m->rss_after / 1024, (double)m->anon_after / 1024,
	       (double)m->file_after / 1024, (double)m->setup_peak / 1024);
	printf("devnet: RSS %.1f MiB, devnet.db %.1f MiB, -wal %.1f MiB\n",
	       (double)dealer_bench_status_kib(s->net.pid, "VmRSS") / 1024,
	       dealer_bench_file_mib(s->net.dir, "/devnet.db"),
	       dealer_bench_file_mib(s->net.dir, "/devnet.db-wal"));
}

/* Move the repository made in the staging directory to dir, with cp -a,
 * and open its blockstore there. */
static int repo_move(struct dealer_bench_repo *r, const char *dir)
{
	const char *argv[] = { "/bin/cp", "-a", r->dir, dir, NULL };
	char out[256], from[sizeof(r->dir)];

	dealer_bench_repo_close(r);
	snprintf(from, sizeof(from), "%s", r->dir);
	if (devnet_util_run(out, sizeof(out), argv) != 0) {
		fprintf(stderr, "dealer_scale: cp -a %s %s failed\n", from,
			dir);
		return -1;
	}
	dealer_bench_rm_tree(from);
	snprintf(r->dir, sizeof(r->dir), "%s", dir);
	snprintf(r->db, sizeof(r->db), "%s/index.db", dir);
	return bstore_open(&r->bs, dir, NULL) < 0 ? dealer_bench_fail("bstore_open") : 0;
}

static int part_scale(struct opts *o, const char *tmp)
{
	struct dealer_cycle_stats st[3];
	struct scale s = { .o = o };
	struct mem m;
	char dir[4096], stage[2100] = "";
	int rc = -1;

	memset(st, 0, sizeof(st));
	memset(&m, 0, sizeof(m));
	snprintf(dir, sizeof(dir), "%s/scale-devnet", tmp);
	fprintf(stderr, "scale: starting a devnet of %u SPs\n", o->sps);
	if (devnet_util_start(&s.net, dir, o->epoch, o->sps, NULL) < 0)
		return -1;
	snprintf(stage, sizeof(stage), "%s/efs-scale-stage.XXXXXX",
		 o->stage);
	if (!mkdtemp(stage)) {
		fprintf(stderr, "dealer_scale: cannot make %s\n", stage);
		goto out;
	}
	snprintf(dir, sizeof(dir), "%s/repo", stage);
	fprintf(stderr, "scale: %u commits into pieces (in %s)\n",
		o->commits, stage);
	if (dealer_bench_repo_open(&s.r, dir, &s.net) < 0 || make_pieces(&s) < 0)
		goto out;
	fprintf(stderr, "scale: injecting %zu deals\n", s.np * REPLICATION);
	if (inject(&s) < 0)
		goto out;
	fprintf(stderr, "scale: writing the deal rows\n");
	if (write_rows(&s) < 0)
		goto out;
	snprintf(dir, sizeof(dir), "%s/scale-repo", tmp);
	fprintf(stderr, "scale: moving the repository to %s\n", dir);
	if (repo_move(&s.r, dir) < 0)
		goto out;
	fprintf(stderr, "scale: running the dealer\n");
	if (run_cycles(&s, st, &m) < 0)
		goto out;
	print_scale(&s, st, &m);
	rc = parts(&s);
out:
	dealer_bench_repo_close(&s.r);
	if (stage[0] && !o->keep)
		dealer_bench_rm_tree(stage);
	devnet_util_stop(&s.net, false);
	efs_free(s.p);
	efs_free(s.chain_ids);
	efs_free(s.row_ids);
	fflush(stdout);
	return rc;
}

/* ---- main ---- */

static int parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "commits", required_argument, NULL, 'c' },
		{ "sps", required_argument, NULL, 's' },
		{ "epoch", required_argument, NULL, 'e' },
		{ "stage", required_argument, NULL, 't' },
		{ "sqlite-mmap", required_argument, NULL, 'm' },
		{ "keep", no_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	bool verbose = false;
	int c;

	*o = (struct opts){ false, 10000, 16, "1s", NULL, -1 };
	while ((c = getopt_long(argc, argv, "v", longs, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->commits = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 's':
			o->sps = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'e':
			o->epoch = optarg;
			break;
		case 't':
			o->stage = optarg;
			break;
		case 'm':
			o->mmap_mib = strtol(optarg, NULL, 10);
			break;
		case 'k':
			o->keep = true;
			break;
		case 'v':
			verbose = true;
			break;
		default:
			return -1;
		}
	}
	if (!o->stage)
		o->stage = access("/dev/shm", W_OK) == 0 ? "/dev/shm"
			   : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	if (optind != argc || o->commits == 0 || o->sps < REPLICATION ||
	    o->sps > 64 || dealer_bench_epoch_s(o->epoch) <= 0) {
		fprintf(stderr,
			"usage: dealer_scale [--commits N] [--sps N] "
			"[--epoch DUR] [--stage DIR]\n"
			"                    [--sqlite-mmap MIB] [--keep] "
			"[-v]\n");
		return -1;
	}
	return dealer_bench_init("dealer_scale", verbose);
}

int main(int argc, char **argv)
{
	char tmp[2048];
	struct opts o;
	int rc;

	if (parse_opts(&o, argc, argv) < 0)
		return 2;
	/* An experiment: cap every connection's memory map (core/db.c
	 * asks for 256 MiB) before sqlite is first used. */
	if (o.mmap_mib >= 0 &&
	    sqlite3_config(SQLITE_CONFIG_MMAP_SIZE,
			   (sqlite3_int64)o.mmap_mib << 20,
			   (sqlite3_int64)o.mmap_mib << 20) != SQLITE_OK) {
		fprintf(stderr, "dealer_scale: sqlite3_config failed\n");
		return 1;
	}
	if (dealer_bench_tmpdir(tmp, sizeof(tmp), "efs-dealer-scale") < 0)
		return 1;
	rc = part_scale(&o, tmp) < 0 ? 1 : 0;
	if (o.keep)
		fprintf(stderr, "kept %s\n", tmp);
	else
		dealer_bench_rm_tree(tmp);
	return rc;
}
