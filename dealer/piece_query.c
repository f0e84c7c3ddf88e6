/*
 * piece_query.c - reading the piece tables: one piece, the pieces ready
 * for deals, a commit's stage and pieces, an aggregate's members.
 *
 * Every query runs on a read connection from the store's pool, so it
 * never waits for piece_add_commit or piece_tick; a walk reads one
 * snapshot (its statement stays open while the callback runs).  Rows are
 * checked as they are read: a malformed one is EFS_ECORRUPT.
 */
#include "dealer/piece.h"

#include <string.h>

#include "core/error.h"
#include "dealer/piece_i.h"

#include "core/banned.h"

/* A piece and, for a car or a shard, its commit (one part). */
#define PIECE_SELECT                                                     \
	"SELECT p.id, p.kind, p.comm, p.padded, p.payload, p.label,"     \
	" p.created, p.members, p.shard, p.shards, p.state, c.commit_id," \
	" c.root FROM piece p"                                            \
	" LEFT JOIN piece_part q ON q.piece_id = p.id AND p.kind != 2"    \
	" LEFT JOIN piece_commit c ON c.commit_id = q.commit_id"

static int info_read(struct piece_info *out, sqlite3_stmt *st)
{
	uint8_t root[COMMP_NODE_SIZE];
	int rc;

	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(st, 0);
	out->kind = (enum piece_kind)sqlite3_column_int(st, 1);
	if (out->kind != PIECE_CAR && out->kind != PIECE_SHARD &&
	    out->kind != PIECE_AGGREGATE)
		return efs_error_set(EFS_ECORRUPT, "piece: piece %lld of "
				     "unknown kind", (long long)out->id);
	if ((rc = piece_column_root(root, st, 2)) < 0 ||
	    (rc = piece_commp_from_row(&out->piece, root,
			(uint64_t)sqlite3_column_int64(st, 3),
			(uint64_t)sqlite3_column_int64(st, 4))) < 0)
		return rc;
	commp_cid_v1(&out->cid, &out->piece);
	out->padded = out->piece.padded_size;
	out->payload = out->piece.payload_size;
	if (sqlite3_column_type(st, 5) != SQLITE_NULL) {
		if ((rc = piece_column_cid(&out->label, st, 5, "label")) < 0)
			return rc;
		out->has_label = true;
	}
	out->created = sqlite3_column_int64(st, 6);
	out->members = (size_t)sqlite3_column_int64(st, 7);
	out->shard = (unsigned)sqlite3_column_int(st, 8);
	out->shards = (unsigned)sqlite3_column_int(st, 9);
	out->ready = sqlite3_column_int(st, 10) == PIECE_STATE_READY;
	out->commit_id = -1;
	if (out->kind == PIECE_AGGREGATE)
		return 0;
	if (sqlite3_column_type(st, 11) == SQLITE_NULL || !out->has_label)
		return efs_error_set(EFS_ECORRUPT, "piece: piece %lld has no "
				     "commit", (long long)out->id);
	out->commit_id = sqlite3_column_int64(st, 11);
	return piece_column_cid(&out->commit_root, st, 12, "commit root");
}

int piece_get_on(struct piece_info *out, struct db *db, int64_t piece_id)
{
	static const char sql[] = PIECE_SELECT " WHERE p.id = ?1";
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(&st, db, sql)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, piece_id);
	rc = db_step(db, st);
	if (rc > 0)
		rc = info_read(out, st);
	else if (rc == 0)
		rc = efs_error_set(EFS_ENOTFOUND, "piece: no piece %lld",
				   (long long)piece_id);
	db_reset(st);
	return rc;
}

int piece_get(struct piece_info *out, struct piece_store *ps,
	      int64_t piece_id)
{
	struct db *db;
	int rc = db_pool_get(&db, &ps->rpool);

	if (rc < 0)
		return rc;
	rc = piece_get_on(out, db, piece_id);
	db_pool_put(&ps->rpool, db);
	return rc;
}

int piece_foreach_ready(struct piece_store *ps, piece_info_cb cb, void *cls)
{
	static const char sql[] = PIECE_SELECT
				  " WHERE p.state = 1 ORDER BY p.id";
	struct piece_info p;
	sqlite3_stmt *st;
	struct db *db;
	int rc = db_pool_get(&db, &ps->rpool);

	if (rc < 0)
		return rc;
	if ((rc = db_stmt(&st, db, sql)) == 0) {
		while ((rc = db_step(db, st)) > 0)
			if ((rc = info_read(&p, st)) < 0 ||
			    (rc = cb(&p, cls)) != 0)
				break;
		db_reset(st);
	}
	db_pool_put(&ps->rpool, db);
	return rc;
}

/* ---- commits ---- */

static int commit_read(struct piece_commit_info *out, sqlite3_stmt *st,
		       int64_t max_age)
{
	int rc;

	memset(out, 0, sizeof(*out));
	out->commit_id = sqlite3_column_int64(st, 0);
	if ((rc = piece_column_cid(&out->root, st, 1, "commit root")) < 0)
		return rc;
	out->stage = (enum piece_stage)sqlite3_column_int(st, 2);
	out->since = sqlite3_column_int64(st, 3);
	out->car_size = (uint64_t)sqlite3_column_int64(st, 4);
	out->blocks = (uint64_t)sqlite3_column_int64(st, 5);
	out->padded = (uint64_t)sqlite3_column_int64(st, 6);
	out->pieces = (size_t)sqlite3_column_int64(st, 7);
	if (out->stage == PIECE_STAGE_WAITING)
		out->close_at = sqlite3_column_int64(st, 8) + max_age;
	return 0;
}

int piece_of_commit(struct piece_commit_info *out, struct piece_store *ps,
		    int64_t commit_id)
{
	static const char sql[] =
		"SELECT commit_id, root, stage, since, car_size, blocks,"
		" padded, (SELECT count(*) FROM piece_part q"
		"  WHERE q.commit_id = c.commit_id),"
		" (SELECT min(since) FROM piece_commit WHERE stage = 1)"
		" FROM piece_commit c WHERE commit_id = ?1";
	struct piece_limits lim;
	sqlite3_stmt *st;
	struct db *db;
	int rc = db_pool_get(&db, &ps->rpool);

	if (rc < 0)
		return rc;
	piece_store_limits(&lim, ps);
	if ((rc = db_stmt(&st, db, sql)) == 0) {
		sqlite3_bind_int64(st, 1, commit_id);
		rc = db_step(db, st);
		if (rc > 0)
			rc = commit_read(out, st, lim.agg_max_age_s);
		else if (rc == 0)
			rc = efs_error_set(EFS_ENOTFOUND, "piece: commit %lld "
					   "was never added",
					   (long long)commit_id);
		db_reset(st);
	}
	db_pool_put(&ps->rpool, db);
	return rc;
}

int piece_commits_foreach(struct piece_store *ps, piece_commit_cb cb,
			  void *cls)
{
	static const char sql[] =
		"SELECT commit_id, root, stage, since, car_size, blocks,"
		" padded, (SELECT count(*) FROM piece_part q"
		"  WHERE q.commit_id = c.commit_id),"
		" (SELECT min(since) FROM piece_commit WHERE stage = 1)"
		" FROM piece_commit c ORDER BY commit_id";
	struct piece_commit_info info;
	struct piece_limits lim;
	sqlite3_stmt *st;
	struct db *db;
	int rc = db_pool_get(&db, &ps->rpool);

	if (rc < 0)
		return rc;
	piece_store_limits(&lim, ps);
	if ((rc = db_stmt(&st, db, sql)) == 0) {
		while ((rc = db_step(db, st)) > 0)
			if ((rc = commit_read(&info, st,
					      lim.agg_max_age_s)) < 0 ||
			    (rc = cb(&info, cls)) != 0)
				break;
		db_reset(st);
	}
	db_pool_put(&ps->rpool, db);
	return rc;
}

/* The multihash of a piece_block row's CID (piece_i.h). */
#define BLOCK_MH PIECE_BLOCK_MH("k.cid")

int piece_commit_evicted(uint64_t *blocks, uint64_t *bytes,
			 struct piece_store *ps, int64_t commit_id)
{
	/* state 1: BSTORE_EVICTED.  The totals row makes the common case,
	 * nothing evicted anywhere, one lookup. */
	static const char any[] = "SELECT count FROM totals WHERE state = 1";
	static const char sql[] =
		"SELECT count(*), coalesce(sum(b.len), 0) FROM piece_block k"
		" JOIN blocks b ON b.mh = (" BLOCK_MH ")"
		" WHERE k.commit_id = ?1 AND b.state = 1";
	sqlite3_stmt *st;
	struct db *db;
	int64_t n = 0;
	int rc = db_pool_get(&db, &ps->rpool);

	*blocks = *bytes = 0;
	if (rc < 0)
		return rc;
	if ((rc = db_query_int(&n, db, any, NULL, 0)) <= 0 || n == 0)
		goto out;
	if ((rc = db_stmt(&st, db, sql)) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, commit_id);
	if ((rc = db_step(db, st)) > 0) {
		*blocks = (uint64_t)sqlite3_column_int64(st, 0);
		*bytes = (uint64_t)sqlite3_column_int64(st, 1);
		rc = 0;
	}
	db_reset(st);
out:
	db_pool_put(&ps->rpool, db);
	return rc < 0 ? rc : 0;
}

int piece_block_commits(struct piece_store *ps, const struct cid *block,
			piece_block_commit_cb cb, void *cls)
{
	/* the expression of the index piece_block_mh: one index search */
	static const char sql[] = "SELECT DISTINCT k.commit_id"
				  " FROM piece_block k WHERE " BLOCK_MH
				  " = ?1 ORDER BY k.commit_id";
	uint8_t mh[CID_MH_BYTES_MAX];
	size_t n = cid_mh_to_bytes(mh, block);
	sqlite3_stmt *st;
	struct db *db;
	int rc;

	if ((rc = db_pool_get(&db, &ps->rpool)) < 0)
		return rc;
	if ((rc = db_stmt(&st, db, sql)) == 0) {
		sqlite3_bind_blob(st, 1, mh, (int)n, SQLITE_STATIC);
		while ((rc = db_step(db, st)) > 0)
			if ((rc = cb(sqlite3_column_int64(st, 0), cls)) != 0)
				break;
		db_reset(st);
	}
	db_pool_put(&ps->rpool, db);
	return rc;
}

/* ---- members ---- */

#define PART_COLS                                                        \
	"piece_id, off, commit_id, length(header), car_start, car_end,"  \
	" sub_comm, sub_padded, seg_off, seg_size, proof"

static int member_read(struct piece_member *out, sqlite3_stmt *st)
{
	uint64_t hlen = (uint64_t)sqlite3_column_int64(st, 3);
	uint8_t root[COMMP_NODE_SIZE];
	int rc;

	memset(out, 0, sizeof(*out));
	out->piece_id = sqlite3_column_int64(st, 0);
	out->offset = (uint64_t)sqlite3_column_int64(st, 1);
	out->commit_id = sqlite3_column_int64(st, 2);
	out->car_start = (uint64_t)sqlite3_column_int64(st, 4);
	out->car_end = (uint64_t)sqlite3_column_int64(st, 5);
	if (out->car_start > out->car_end)
		return efs_error_set(EFS_ECORRUPT, "piece: part of piece %lld "
				     "ends before it starts",
				     (long long)out->piece_id);
	out->length = hlen + out->car_end - out->car_start;
	if (sqlite3_column_type(st, 6) == SQLITE_NULL)
		return 0;
	if ((rc = piece_column_root(root, st, 6)) < 0 ||
	    (rc = piece_commp_from_row(&out->sub, root,
			(uint64_t)sqlite3_column_int64(st, 7),
			out->length)) < 0)
		return rc;
	commp_cid_v1(&out->sub_cid, &out->sub);
	out->has_sub = true;
	out->seg_offset = (uint64_t)sqlite3_column_int64(st, 8);
	out->seg_size = (uint64_t)sqlite3_column_int64(st, 9);
	out->proof = sqlite3_column_blob(st, 10);
	out->proof_len = (size_t)sqlite3_column_bytes(st, 10);
	return 0;
}

int piece_members(struct piece_store *ps, int64_t piece_id,
		  piece_member_cb cb, void *cls)
{
	static const char sql[] = "SELECT " PART_COLS " FROM piece_part"
				  " WHERE piece_id = ?1 ORDER BY off";
	struct piece_member m;
	struct piece_info p;
	sqlite3_stmt *st;
	struct db *db;
	int rc = db_pool_get(&db, &ps->rpool);

	if (rc < 0)
		return rc;
	if ((rc = db_begin_read(db)) < 0)
		goto out;
	if ((rc = piece_get_on(&p, db, piece_id)) == 0 &&
	    (rc = db_stmt(&st, db, sql)) == 0) {
		sqlite3_bind_int64(st, 1, piece_id);
		while ((rc = db_step(db, st)) > 0)
			if ((rc = member_read(&m, st)) < 0 ||
			    (rc = cb(&m, cls)) != 0)
				break;
		db_reset(st);
	}
	db_rollback(db);
out:
	db_pool_put(&ps->rpool, db);
	return rc;
}

int piece_commit_foreach(struct piece_store *ps, int64_t commit_id,
			 piece_holding_cb cb, void *cls)
{
	static const char sql[] = "SELECT " PART_COLS " FROM piece_part"
				  " WHERE commit_id = ?1"
				  " ORDER BY piece_id, off";
	struct piece_member m;
	struct piece_info p;
	sqlite3_stmt *st;
	struct db *db;
	int rc = db_pool_get(&db, &ps->rpool);

	if (rc < 0)
		return rc;
	if ((rc = db_begin_read(db)) < 0)
		goto out;
	if ((rc = db_stmt(&st, db, sql)) == 0) {
		sqlite3_bind_int64(st, 1, commit_id);
		while ((rc = db_step(db, st)) > 0)
			if ((rc = member_read(&m, st)) < 0 ||
			    (rc = piece_get_on(&p, db, m.piece_id)) < 0 ||
			    (rc = cb(&p, &m, cls)) != 0)
				break;
		db_reset(st);
	}
	db_rollback(db);
out:
	db_pool_put(&ps->rpool, db);
	return rc;
}
