/*
 * piece_locate.c - where every block of a recorded piece lies in its
 * payload, written to the blockstore's locations table (retrieval reads
 * it back with GET /piece/{pieceCid} and a Range), then the piece is
 * marked ready for deals.
 *
 * A block of a part lies at part offset + header length + (its section's
 * offset - car_start) + the section's framing; its location names the
 * piece CID v1.  Locations go in batches, each one bstore transaction;
 * recording one again updates it, so an interrupted run is simply run
 * again (by the next piece_tick or piece_add_commit of the commit).
 * Only after the last batch does the piece turn READY.
 */
#include "dealer/piece.h"

#include <string.h>

#include "core/alloc.h"
#include "core/bstore.h"
#include "core/error.h"
#include "core/varint.h"
#include "dealer/piece_i.h"

#include "core/banned.h"

/* Locations per bstore_locations_add at most (each is about 320 bytes). */
#define LOCATE_BATCH_MAX 1024

struct part {
	uint64_t off;            /* in the payload */
	int64_t commit_id;
	uint64_t header_len;
	uint64_t car_start;
	uint64_t car_end;
};

struct locate {
	struct piece_store *ps;
	struct cid piece;        /* v1 */
	struct bstore_location *locs;
	size_t batch;
	bool first;              /* no batch written yet (test hook) */
};

/* The location of the block in the current row of st, within part q. */
static int row_location(struct bstore_location *out, sqlite3_stmt *st,
			const struct locate *lc, const struct part *q)
{
	uint64_t off = (uint64_t)sqlite3_column_int64(st, 0);
	uint64_t len = (uint64_t)sqlite3_column_int64(st, 2);
	size_t clen = (size_t)sqlite3_column_bytes(st, 1);
	uint64_t framing;
	int rc;

	if ((rc = piece_column_cid(&out->block, st, 1, "block")) < 0)
		return rc;
	framing = varint_size(clen + len) + clen;
	if (off < q->car_start || len > q->car_end - off ||
	    framing > q->car_end - off - len)
		return efs_error_set(EFS_ECORRUPT, "piece: section at %llu of "
				     "commit %lld outside its part",
				     (unsigned long long)off,
				     (long long)q->commit_id);
	out->piece = lc->piece;
	out->offset = q->off + q->header_len + (off - q->car_start) + framing;
	out->length = len;
	return 0;
}

/* One batch of q's blocks from car offset *pos on; *n says how many. */
static int locate_batch(size_t *n, uint64_t *pos, struct locate *lc,
			const struct part *q)
{
	static const char sql[] =
		"SELECT off, cid, len FROM piece_block WHERE commit_id = ?1"
		" AND off >= ?2 AND off < ?3 ORDER BY off LIMIT ?4";
	struct db *db = lc->ps->wdb;
	sqlite3_stmt *st;
	int rc;

	*n = 0;
	if ((rc = db_stmt(&st, db, sql)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, q->commit_id);
	sqlite3_bind_int64(st, 2, (int64_t)*pos);
	sqlite3_bind_int64(st, 3, (int64_t)q->car_end);
	sqlite3_bind_int64(st, 4, (int64_t)lc->batch);
	while ((rc = db_step(db, st)) > 0) {
		*pos = (uint64_t)sqlite3_column_int64(st, 0) + 1;
		if ((rc = row_location(&lc->locs[*n], st, lc, q)) < 0)
			break;
		++*n;
	}
	db_reset(st);
	if (rc < 0 || *n == 0)
		return rc;
	if ((rc = bstore_locations_add(lc->ps->bs, lc->locs, *n)) < 0)
		return rc;
	if (lc->first && piece_test_stop(lc->ps, PIECE_TEST_LOCATED))
		return efs_error_set(EFS_ECANCELED, "piece: stopped (test)");
	lc->first = false;
	return 0;
}

static int locate_part(struct locate *lc, const struct part *q)
{
	uint64_t pos = q->car_start;
	size_t n;
	int rc;

	do {
		rc = locate_batch(&n, &pos, lc, q);
	} while (rc == 0 && n == lc->batch);
	return rc;
}

/* The part of piece_id at payload offset >= from: 1, or 0 when none. */
static int next_part(struct part *out, struct db *db, int64_t piece_id,
		     uint64_t from)
{
	static const char sql[] =
		"SELECT off, commit_id, length(header), car_start, car_end"
		" FROM piece_part WHERE piece_id = ?1 AND off >= ?2"
		" ORDER BY off LIMIT 1";
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(&st, db, sql)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, piece_id);
	sqlite3_bind_int64(st, 2, (int64_t)from);
	if ((rc = db_step(db, st)) > 0) {
		out->off = (uint64_t)sqlite3_column_int64(st, 0);
		out->commit_id = sqlite3_column_int64(st, 1);
		out->header_len = (uint64_t)sqlite3_column_int64(st, 2);
		out->car_start = (uint64_t)sqlite3_column_int64(st, 3);
		out->car_end = (uint64_t)sqlite3_column_int64(st, 4);
		if (out->car_start > out->car_end)
			rc = efs_error_set(EFS_ECORRUPT, "piece: part of piece "
					   "%lld ends before it starts",
					   (long long)piece_id);
	}
	db_reset(st);
	return rc;
}

int piece_locate(struct piece_store *ps, int64_t piece_id)
{
	struct locate lc = { .ps = ps, .first = true };
	struct piece_info info;
	struct part q;
	uint64_t from = 0;
	int rc;

	if ((rc = piece_get_on(&info, ps->wdb, piece_id)) < 0 || info.ready)
		return rc;
	lc.piece = info.cid;
	lc.batch = piece_batch(ps);
	if (lc.batch > LOCATE_BATCH_MAX)
		lc.batch = LOCATE_BATCH_MAX;
	if (!(lc.locs = efs_calloc(lc.batch, sizeof(*lc.locs))))
		return efs_error_set(EFS_ENOMEM, "out of memory");
	while ((rc = next_part(&q, ps->wdb, piece_id, from)) > 0) {
		if ((rc = locate_part(&lc, &q)) < 0)
			break;
		from = q.off + 1;
	}
	efs_free(lc.locs);
	if (rc < 0)
		return rc;
	return db_run_ints(ps->wdb, "UPDATE piece SET state = 1"
			   " WHERE id = ?1", &piece_id, 1);
}

int piece_locate_pending(struct piece_store *ps, int64_t commit_id)
{
	static const char sql[] =
		"SELECT DISTINCT p.id FROM piece p"
		" JOIN piece_part q ON q.piece_id = p.id"
		" WHERE p.state = 0 AND (?1 < 0 OR q.commit_id = ?1)"
		" ORDER BY p.id";
	struct buf ids = BUF_INIT(BUF_NOCAP);
	struct efs_error_state first;
	int first_rc = 0;
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(&st, ps->wdb, sql)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, commit_id);
	while ((rc = db_step(ps->wdb, st)) > 0) {
		int64_t id = sqlite3_column_int64(st, 0);

		if ((rc = buf_add(&ids, &id, sizeof(id))) < 0)
			break;
	}
	db_reset(st);
	/* one piece that cannot be finished must not hold up the others:
	 * try them all, report the first failure */
	for (size_t i = 0; rc == 0 && i < ids.len / sizeof(int64_t); i++) {
		int64_t id;

		memcpy(&id, ids.ptr + i * sizeof(id), sizeof(id));
		rc = piece_locate(ps, id);
		if (rc < 0 && rc != EFS_ENOMEM && rc != EFS_ECANCELED) {
			if (first_rc == 0) {
				efs_error_save(&first);
				first_rc = rc;
			}
			rc = 0;
		}
	}
	buf_release(&ids);
	if (rc == 0 && first_rc < 0)
		rc = efs_error_restore(&first);
	return rc;
}
