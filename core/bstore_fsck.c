/*
 * bstore_fsck.c - the blockstore checker (see bstore_fsck in bstore.h).
 *
 * Passes, all under wmu, reading main in one read transaction so the
 * picture is consistent while puts go on:
 *
 *   0. PRAGMA quick_check (sqlite's own structure).
 *   1. every row, in key order: fields sane; LOCAL: range inside its pack,
 *      recorded in temp.fsck_ranges; record header and bytes read and
 *      re-hashed; links counted into temp.fsck_refs.  EVICTED: a location.
 *   2. ranges in (pack, start) order: no two overlap.
 *   3. pins: counted into temp.fsck_refs; each names a stored block.
 *   4. refs: rows whose refs differ from temp.fsck_refs (either side
 *      missing counts as 0) go to temp.fsck_fix.
 *   5. counters against what pass 1 summed.
 *   6. pack files against the packs table.
 *
 * Temporary tables keep memory flat for tens of millions of blocks; they
 * live in sqlite's temp store (a file, or memory if so compiled).
 * Repair (BSTORE_FSCK_REPAIR) runs afterwards in one write transaction:
 * refs from temp.fsck_fix, counters recounted from the rows.
 */
#include "core/bstore_i.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/links.h"

#include "core/banned.h"

struct fsck {
	struct bstore *bs;
	struct db *db;
	struct bstore_fsck_report *out;
	unsigned flags;
	struct buf data;
	int64_t count[BSTORE_NSTATES];
	int64_t bytes[BSTORE_NSTATES];
	uint64_t fixable;         /* refs and counter problems found */
	/* the packs table, for pass 6 */
	struct pack_end *packs;
	bool *seen;
	size_t npacks;
};

const char *bstore_problem_name(enum bstore_problem_kind kind)
{
	static const char *const names[] = {
		"db", "row", "range", "overlap", "header", "mismatch",
		"links", "refs", "pin", "location", "pack", "tail", "totals",
	};

	if ((unsigned)kind >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[kind];
}

static void problem(struct fsck *f, enum bstore_problem_kind kind,
		    const struct cid *id, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void problem(struct fsck *f, enum bstore_problem_kind kind,
		    const struct cid *id, const char *fmt, ...)
{
	struct bstore_fsck_report *r = f->out;
	struct bstore_problem *p;
	va_list ap;

	r->problems++;
	if (kind == BSTORE_PROBLEM_REFS || kind == BSTORE_PROBLEM_TOTALS)
		f->fixable++;
	if (r->nlisted == BSTORE_FSCK_LISTED_MAX)
		return;
	p = &r->listed[r->nlisted++];
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	if (id)
		p->id = *id;
	va_start(ap, fmt);
	vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
	va_end(ap);
}

static const char sql_temp[] =
	"CREATE TEMP TABLE IF NOT EXISTS fsck_refs ("
	" mh BLOB PRIMARY KEY, codec INTEGER, n INTEGER) WITHOUT ROWID;"
	"CREATE TEMP TABLE IF NOT EXISTS fsck_ranges ("
	" pack INTEGER, start INTEGER, fin INTEGER, mh BLOB,"
	" PRIMARY KEY (pack, start)) WITHOUT ROWID;"
	"CREATE TEMP TABLE IF NOT EXISTS fsck_fix ("
	" mh BLOB PRIMARY KEY, codec INTEGER, refs INTEGER, want INTEGER)"
	" WITHOUT ROWID;"
	"DELETE FROM fsck_refs; DELETE FROM fsck_ranges; DELETE FROM fsck_fix;";

static const char sql_drop[] =
	"DROP TABLE IF EXISTS temp.fsck_refs;"
	"DROP TABLE IF EXISTS temp.fsck_ranges;"
	"DROP TABLE IF EXISTS temp.fsck_fix;";

/* ---- pass 1: rows ---- */

static int count_ref(const struct cid *id, void *payload)
{
	static const char sql[] =
		"INSERT INTO temp.fsck_refs(mh, codec, n) VALUES (?1, ?2, 1)"
		" ON CONFLICT(mh) DO UPDATE SET n = n + 1";
	struct fsck *f = payload;
	uint8_t mh[BSTORE_MH_MAX];
	size_t mh_len;
	sqlite3_stmt *st;
	int error;

	if (bstore_key(mh, &mh_len, id) < 0)
		return 0;
	if ((error = db_stmt(&st, f->db, sql)) < 0)
		return error;
	sqlite3_bind_blob(st, 1, mh, (int)mh_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)id->codec);
	return db_run(f->db, st);
}

static int add_range(struct fsck *f, const struct cid *id,
		     const struct bstore_row *row, uint64_t start,
		     const uint8_t *mh, size_t mh_len)
{
	static const char sql[] =
		"INSERT OR IGNORE INTO temp.fsck_ranges(pack, start, fin, mh)"
		" VALUES (?1, ?2, ?3, ?4)";
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, f->db, sql)) < 0)
		return error;
	sqlite3_bind_int64(st, 1, row->pack);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)start);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)(row->off + row->len));
	sqlite3_bind_blob(st, 4, mh, (int)mh_len, SQLITE_STATIC);
	if ((error = db_run(f->db, st)) < 0)
		return error;
	if (!sqlite3_changes(db_handle(f->db)))
		problem(f, BSTORE_PROBLEM_OVERLAP, id,
			"another block starts at pack %" PRIu32 " offset %"
			PRIu64, row->pack, start);
	return 0;
}

/* Read the record (header + data) and check both. */
static int check_bytes(struct fsck *f, const struct cid *id,
		       const struct bstore_row *row, const uint8_t *hdr,
		       size_t hl)
{
	int error;

	buf_reset(&f->data);
	if ((error = buf_grow(&f->data, hl + row->len)) < 0)
		return error;
	error = bstore_pack_pread(f->bs, f->data.ptr, row->pack,
				  row->off - hl, hl + row->len);
	if (error == EFS_ECORRUPT) {
		problem(f, BSTORE_PROBLEM_RANGE, id, "%s", efs_error_msg());
		return 0;
	}
	if (error < 0)
		return error;
	f->out->bytes_read += row->len;
	if (memcmp(f->data.ptr, hdr, hl))
		problem(f, BSTORE_PROBLEM_HEADER, id,
			"record header at pack %" PRIu32 " offset %" PRIu64
			" names another block", row->pack, row->off - hl);
	if (cid_verify(id, f->data.ptr + hl, row->len) < 0) {
		problem(f, BSTORE_PROBLEM_MISMATCH, id,
			"bytes at pack %" PRIu32 " offset %" PRIu64
			" do not hash to the cid", row->pack, row->off);
		return 0;
	}
	error = links_foreach(id, f->data.ptr + hl, row->len, count_ref, f);
	if (error == EFS_ECORRUPT)
		problem(f, BSTORE_PROBLEM_LINKS, id, "%s", efs_error_msg());
	else if (error < 0 && error != EFS_EUNSUPPORTED)
		return error;
	return 0;
}

static int check_local(struct fsck *f, const struct cid *id,
		       const struct bstore_row *row, const uint8_t *mh,
		       size_t mh_len)
{
	uint8_t hdr[PACK_RECORD_HDR_MAX];
	size_t hl = bstore_pack_record_header(hdr, row->codec, mh, mh_len,
					      row->len);
	int error;

	if (row->off < PACK_HEADER_SIZE + hl ||
	    bstore_row_check(f->bs, row) < 0) {
		problem(f, BSTORE_PROBLEM_RANGE, id,
			"pack %" PRIu32 " offset %" PRIu64 " length %" PRIu32
			" is outside the pack", row->pack, row->off, row->len);
		return 0;
	}
	if ((error = add_range(f, id, row, row->off - hl, mh, mh_len)) < 0)
		return error;
	if (f->flags & BSTORE_FSCK_NO_DATA)
		return 0;
	return check_bytes(f, id, row, hdr, hl);
}

static int check_row(struct fsck *f, sqlite3_stmt *st)
{
	const uint8_t *mh = sqlite3_column_blob(st, 0);
	int mh_len = sqlite3_column_bytes(st, 0);
	struct bstore_row row;
	struct cid id;
	int error;

	f->out->blocks++;
	if (mh_len <= 0 || bstore_row_decode(&row, st, 1) < 0 ||
	    bstore_cid_from_mh(&id, row.codec, mh, (size_t)mh_len) < 0) {
		problem(f, BSTORE_PROBLEM_ROW, NULL, "malformed index row");
		return 0;
	}
	f->out->by_state[row.state]++;
	f->count[row.state]++;
	if (row.state == BSTORE_ABSENT)
		return 0;
	f->bytes[row.state] += row.len;
	if (row.state == BSTORE_LOCAL)
		return check_local(f, &id, &row, mh, (size_t)mh_len);
	if ((error = bstore_has_location(f->db, mh, (size_t)mh_len)) < 0)
		return error;
	if (!error)
		problem(f, BSTORE_PROBLEM_LOCATION, &id,
			"evicted without a recorded location");
	return 0;
}

static int pass_rows(struct fsck *f)
{
	static const char sql[] =
		"SELECT mh, codec, state, pack, off, len, refs, atime"
		" FROM blocks ORDER BY mh";
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, f->db, sql)) < 0)
		return error;
	while ((error = db_step(f->db, st)) > 0)
		if ((error = check_row(f, st)) < 0)
			break;
	db_reset(st);
	return error;
}

/* ---- pass 2: overlaps ---- */

static int pass_overlaps(struct fsck *f)
{
	static const char sql[] =
		"SELECT pack, start, fin, mh FROM temp.fsck_ranges"
		" ORDER BY pack, start";
	sqlite3_stmt *st;
	int64_t pack = -1;
	int64_t fin = 0;
	int error;

	if ((error = db_stmt(&st, f->db, sql)) < 0)
		return error;
	while ((error = db_step(f->db, st)) > 0) {
		int64_t p = sqlite3_column_int64(st, 0);
		int64_t start = sqlite3_column_int64(st, 1);
		struct cid id;

		if (p == pack && start < fin) {
			memset(&id, 0, sizeof(id));
			bstore_cid_from_mh(&id, CID_CODEC_RAW,
					   sqlite3_column_blob(st, 3),
					   (size_t)sqlite3_column_bytes(st, 3));
			problem(f, BSTORE_PROBLEM_OVERLAP, &id,
				"record at pack %" PRId64 " offset %" PRId64
				" overlaps the one before", p, start);
		}
		if (p != pack || sqlite3_column_int64(st, 2) > fin)
			fin = sqlite3_column_int64(st, 2);
		pack = p;
	}
	db_reset(st);
	return error;
}

/* ---- pass 3: pins ---- */

static int pass_pins(struct fsck *f)
{
	static const char sql[] =
		"SELECT p.root, b.state FROM pins p"
		" LEFT JOIN blocks b ON b.mh = p.mh ORDER BY p.id";
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, f->db, sql)) < 0)
		return error;
	while ((error = db_step(f->db, st)) > 0) {
		struct cid root;
		char s[CID_STR_MAX];

		f->out->pins++;
		if (bstore_column_cid(&root, st, 0) < 0) {
			problem(f, BSTORE_PROBLEM_PIN, NULL,
				"pin with a malformed root");
			continue;
		}
		if (sqlite3_column_type(st, 1) == SQLITE_NULL ||
		    sqlite3_column_int(st, 1) == BSTORE_ABSENT)
			problem(f, BSTORE_PROBLEM_PIN, &root,
				"pinned root %s is not stored",
				cid_tostr(s, &root));
		if ((error = count_ref(&root, f)) < 0)
			break;
	}
	db_reset(st);
	return error;
}

/* ---- pass 4: refs ---- */

static const char sql_fix[] =
	"INSERT INTO temp.fsck_fix(mh, codec, refs, want)"
	" SELECT b.mh, b.codec, b.refs, coalesce(r.n, 0) FROM blocks b"
	"  LEFT JOIN temp.fsck_refs r ON r.mh = b.mh"
	"  WHERE b.refs != coalesce(r.n, 0)"
	" UNION ALL"
	" SELECT r.mh, r.codec, 0, r.n FROM temp.fsck_refs r"
	"  WHERE NOT EXISTS (SELECT 1 FROM blocks b WHERE b.mh = r.mh)";

static int pass_refs(struct fsck *f)
{
	static const char sql[] =
		"SELECT mh, codec, refs, want FROM temp.fsck_fix";
	sqlite3_stmt *st;
	int error;

	if ((error = db_exec(f->db, sql_fix)) < 0 ||
	    (error = db_stmt(&st, f->db, sql)) < 0)
		return error;
	while ((error = db_step(f->db, st)) > 0) {
		struct cid id;
		struct cid *idp = &id;

		if (bstore_cid_from_mh(&id,
				       (uint64_t)sqlite3_column_int64(st, 1),
				       sqlite3_column_blob(st, 0),
				       (size_t)sqlite3_column_bytes(st, 0)))
			idp = NULL;
		problem(f, BSTORE_PROBLEM_REFS, idp,
			"refs %lld, links and pins say %lld",
			(long long)sqlite3_column_int64(st, 2),
			(long long)sqlite3_column_int64(st, 3));
	}
	db_reset(st);
	return error;
}

/* ---- pass 5: counters ---- */

static int pass_totals(struct fsck *f)
{
	struct bstore_totals t;
	int error;

	memset(&t, 0, sizeof(t));
	if ((error = bstore_stat_totals(&t, f->bs)) < 0)
		return error;
	for (int s = 0; s < BSTORE_NSTATES; s++)
		if (t.count[s] != (uint64_t)f->count[s] ||
		    t.bytes[s] != (uint64_t)f->bytes[s])
			problem(f, BSTORE_PROBLEM_TOTALS, NULL,
				"state %d: counters say %" PRIu64 " blocks %"
				PRIu64 " bytes, rows %lld and %lld", s,
				t.count[s], t.bytes[s], (long long)f->count[s],
				(long long)f->bytes[s]);
	return 0;
}

/* ---- pass 6: pack files ---- */

static int load_packs(struct fsck *f)
{
	static const char sql[] = "SELECT id, size FROM packs ORDER BY id";
	sqlite3_stmt *st;
	size_t cap = 0;
	int error;

	if ((error = db_stmt(&st, f->db, sql)) < 0)
		return error;
	while ((error = db_step(f->db, st)) > 0) {
		if (f->npacks == cap) {
			size_t n = cap ? cap * 2 : 16;
			struct pack_end *p = efs_reallocarray(f->packs, n,
							      sizeof(*p));
			bool *seen = efs_reallocarray(f->seen, n,
						      sizeof(*seen));

			if (p)
				f->packs = p;
			if (seen)
				f->seen = seen;
			if (!p || !seen) {
				error = efs_error_set(EFS_ENOMEM,
						      "out of memory");
				break;
			}
			cap = n;
		}
		f->packs[f->npacks].pack =
			(uint32_t)sqlite3_column_int64(st, 0);
		f->packs[f->npacks].end =
			(uint64_t)sqlite3_column_int64(st, 1);
		f->seen[f->npacks++] = false;
	}
	db_reset(st);
	return error;
}

static int pack_seen(uint32_t id, uint64_t size, bool header_ok,
		     void *payload)
{
	struct fsck *f = payload;
	struct bstore *bs = f->bs;
	uint64_t allowed;
	size_t i;

	for (i = 0; i < f->npacks && f->packs[i].pack != id; i++)
		;
	f->out->packs++;
	pthread_mutex_lock(&bs->mu);
	allowed = id == bs->pk.cur
			  ? bs->pk.end + bstore_pack_slack_locked(bs, id)
			  : 0;
	pthread_mutex_unlock(&bs->mu);
	if (i == f->npacks && allowed && size <= allowed)
		return 0; /* the pack being written, before its first sync */
	if (i == f->npacks) {
		problem(f, BSTORE_PROBLEM_PACK, NULL,
			"pack %08" PRIu32 " is not in the index", id);
		return 0;
	}
	f->seen[i] = true;
	if (!header_ok)
		problem(f, BSTORE_PROBLEM_PACK, NULL,
			"pack %08" PRIu32 " has a bad header", id);
	/* Puts go on during fsck: the current pack may have grown. */
	allowed = f->packs[i].end;
	pthread_mutex_lock(&bs->mu);
	if (id == bs->pk.cur && bs->pk.end > allowed)
		allowed = bs->pk.end;
	allowed += bstore_pack_slack_locked(bs, id);
	pthread_mutex_unlock(&bs->mu);
	if (size > allowed)
		problem(f, BSTORE_PROBLEM_TAIL, NULL,
			"pack %08" PRIu32 " has %" PRIu64
			" bytes past its indexed end", id, size - allowed);
	else if (size < f->packs[i].end)
		problem(f, BSTORE_PROBLEM_PACK, NULL,
			"pack %08" PRIu32 " is %" PRIu64 " bytes short", id,
			f->packs[i].end - size);
	return 0;
}

static int pass_packs(struct fsck *f)
{
	int error;

	if ((error = load_packs(f)) < 0 ||
	    (error = bstore_recover_scan(f->bs, pack_seen, f)) < 0)
		return error;
	for (size_t i = 0; i < f->npacks; i++)
		if (!f->seen[i])
			problem(f, BSTORE_PROBLEM_PACK, NULL,
				"pack %08" PRIu32 " is missing",
				f->packs[i].pack);
	return 0;
}

/* ---- repair ---- */

static const char sql_repair[] =
	"UPDATE blocks SET refs = (SELECT want FROM temp.fsck_fix x"
	"  WHERE x.mh = blocks.mh)"
	" WHERE mh IN (SELECT mh FROM temp.fsck_fix);"
	"INSERT INTO blocks(mh, codec, state, pack, off, len, refs, atime)"
	" SELECT mh, codec, 2, 0, 0, 0, want, 0 FROM temp.fsck_fix x"
	"  WHERE NOT EXISTS (SELECT 1 FROM blocks b WHERE b.mh = x.mh);"
	"UPDATE totals SET"
	" count = (SELECT count(*) FROM blocks b WHERE b.state = totals.state),"
	" bytes = (SELECT coalesce(sum(len), 0) FROM blocks b"
	"  WHERE b.state = totals.state AND b.state != 2);";

static int repair(struct fsck *f)
{
	int error;

	if ((error = db_begin(f->db)) < 0)
		return error;
	if ((error = db_exec(f->db, sql_repair)) < 0) {
		db_rollback(f->db);
		return error;
	}
	if ((error = db_commit(f->db)) < 0)
		return error;
	f->out->repaired = f->fixable;
	return 0;
}

static int run(struct fsck *f)
{
	int error = db_quick_check(f->db);

	if (error == EFS_ECORRUPT) {
		problem(f, BSTORE_PROBLEM_DB, NULL, "%s", efs_error_msg());
		return 0;
	}
	if (error < 0 || (error = db_exec(f->db, sql_temp)) < 0)
		return error;
	if ((error = db_begin_read(f->db)) < 0)
		return error;
	if ((error = pass_rows(f)) < 0 || (error = pass_overlaps(f)) < 0 ||
	    (error = pass_pins(f)) < 0 ||
	    (!(f->flags & BSTORE_FSCK_NO_DATA) &&
	     (error = pass_refs(f)) < 0) ||
	    (error = pass_totals(f)) < 0 || (error = pass_packs(f)) < 0) {
		db_rollback(f->db);
		return error;
	}
	if ((error = db_commit(f->db)) < 0)
		return error;
	if ((f->flags & BSTORE_FSCK_REPAIR) && f->fixable)
		error = repair(f);
	return error;
}

int bstore_fsck(struct bstore_fsck_report *out, struct bstore *bs,
		unsigned flags)
{
	struct fsck f;
	struct efs_error_state saved;
	int error;

	memset(out, 0, sizeof(*out));
	memset(&f, 0, sizeof(f));
	f.bs = bs;
	f.out = out;
	f.flags = flags;
	buf_init(&f.data, BUF_NOCAP);
	if ((error = bstore_sync(bs)) < 0 ||
	    (error = bstore_flush_atimes(bs)) < 0)
		return error;
	pthread_mutex_lock(&bs->wmu);
	f.db = bs->wdb;
	error = run(&f);
	efs_error_save(&saved);
	db_exec(f.db, sql_drop);
	efs_error_restore(&saved);
	pthread_mutex_unlock(&bs->wmu);
	buf_release(&f.data);
	efs_free(f.packs);
	efs_free(f.seen);
	return error;
}
