/*
 * piece_add.c - piece_add_commit: a commit's CAR streamed once, hashed
 * into CommP, its sections recorded, and the commit made into a piece,
 * shards, or a sub-piece waiting for aggregation (piece.h).
 *
 * Design notes:
 * - car_write_dag produces the CAR; its output bytes are only counted.
 *   The bytes hashed are rebuilt from what its on_block callback reports
 *   (section framing from the CID and length, the block itself from the
 *   source: the blockstore source is wrapped so the last block fetched
 *   is at hand when on_block runs, right after car_write_dag wrote it).
 *   That lets a cut between shards fall before a section is hashed.
 * - Cutting: the shards are decided while streaming.  A shard starts with
 *   a CAR header naming its first block and takes sections while its
 *   payload stays within max_payload; the section that would pass it
 *   starts the next shard.  Shard 0 names the commit root, so while the
 *   CAR fits max_payload it is the whole CAR: one CommP serves both, and
 *   a commit that fits is never hashed twice.
 * - CommP gets the bytes in PIECE_HASH_BUF runs from the start of each
 *   shard, so its worker threads share the hashing.
 * - Rows go to piece_block in batches, each its own short transaction
 *   (synchronous NORMAL: the final FULL commit makes them durable), so no
 *   write lock is held while blocks are read.  The commit counts only once
 *   the final transaction sets its stage; until then open or a failure
 *   drops its rows (INSERT OR REPLACE makes a rerun converge anyway).
 */
#include "dealer/piece.h"

#include <string.h>

#include "core/alloc.h"
#include "core/bstore.h"
#include "core/car.h"
#include "core/error.h"
#include "core/varint.h"
#include "dealer/piece_i.h"

#include "core/banned.h"

/* One CAR a commit is cut into. */
struct shard {
	uint64_t car_start;      /* its sections: [car_start, car_end) */
	uint64_t car_end;        /* of the commit's CAR */
	struct cid root;         /* its first block (shard 0: the root) */
	uint64_t header_len;
	struct commp_piece piece;
};

struct scan {
	struct piece_store *ps;
	int64_t commit_id;
	uint64_t max_payload;
	size_t batch;
	struct blockio_source inner; /* the blockstore */
	struct buf *got;         /* where the last block fetched landed */
	size_t got_at;
	struct cid got_id;
	uint64_t written;        /* CAR bytes car_write_dag produced */
	uint64_t blocks;
	struct buf rows;         /* rows of the next batch (row_add) */
	size_t nrows;
	struct shard *shards;
	size_t nshards;
	size_t cap;
	uint64_t shard_len;      /* payload bytes of the last shard so far */
	struct buf hash;         /* bytes waiting for CommP */
	struct buf header;       /* scratch */
	bool stopped;            /* the test hook stopped it */
};

/* ---- hashing ---- */

static int hash_flush(struct scan *s)
{
	int rc = 0;

	if (s->hash.len > 0)
		rc = commp_update(s->ps->cp, s->hash.ptr, s->hash.len);
	buf_reset(&s->hash);
	return rc;
}

static int hash_add(struct scan *s, const uint8_t *p, size_t n)
{
	while (n > 0) {
		size_t take = PIECE_HASH_BUF - s->hash.len;
		int rc;

		if (take > n)
			take = n;
		if ((rc = buf_add(&s->hash, p, take)) < 0)
			return rc;
		p += take;
		n -= take;
		if (s->hash.len == PIECE_HASH_BUF &&
		    (rc = hash_flush(s)) < 0)
			return rc;
	}
	return 0;
}

/* ---- shards ---- */

/* Start a shard at car_start whose header names root, and hash it. */
static int shard_start(struct scan *s, uint64_t car_start,
		       const struct cid *root)
{
	struct shard *sh;
	int rc;

	if (s->nshards == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4;
		struct shard *n = efs_reallocarray(s->shards, cap, sizeof(*n));

		if (!n)
			return efs_error_set(EFS_ENOMEM, "out of memory");
		s->shards = n;
		s->cap = cap;
	}
	buf_reset(&s->header);
	if ((rc = piece_car_header(&s->header, root)) < 0)
		return rc;
	sh = &s->shards[s->nshards++];
	memset(sh, 0, sizeof(*sh));
	sh->car_start = car_start;
	sh->root = *root;
	sh->header_len = s->header.len;
	s->shard_len = s->header.len;
	commp_reset(s->ps->cp);
	return hash_add(s, s->header.ptr, s->header.len);
}

/* Close the last shard at car_end: its CommP. */
static int shard_finish(struct scan *s, uint64_t car_end)
{
	struct shard *sh = &s->shards[s->nshards - 1];
	int rc = hash_flush(s);

	if (rc < 0)
		return rc;
	sh->car_end = car_end;
	commp_finish(&sh->piece, s->ps->cp);
	if (sh->piece.payload_size != s->shard_len)
		return efs_error_set(EFS_ERROR, "piece: hashed %llu bytes of a "
				     "%llu-byte shard",
				     (unsigned long long)sh->piece.payload_size,
				     (unsigned long long)s->shard_len);
	return 0;
}

static int too_big(const struct scan *s, const struct car_block_info *info)
{
	char c[CID_STR_MAX];

	return efs_error_set(EFS_ETOOBIG, "piece: block %s (%llu bytes) does "
			     "not fit a piece of at most %llu bytes",
			     cid_tostr(c, &info->id),
			     (unsigned long long)info->block_len,
			     (unsigned long long)s->max_payload);
}

/* Hash one section, starting a new shard first when it would not fit. */
static int section_hash(struct scan *s, const struct car_block_info *info,
			const uint8_t *data)
{
	uint8_t pre[VARINT_MAX_LEN + CID_BYTES_MAX];
	uint8_t cid[CID_BYTES_MAX];
	size_t plen = piece_section_prefix(pre, cid, cid_to_bytes(cid,
						&info->id), info->block_len);
	int rc;

	if (plen + info->block_len != info->section_len)
		return efs_error_set(EFS_ERROR, "piece: section of %llu bytes"
				     " framed as %zu",
				     (unsigned long long)info->section_len,
				     plen + (size_t)info->block_len);
	if (s->shard_len + info->section_len > s->max_payload) {
		if (s->shard_len == s->shards[s->nshards - 1].header_len)
			return too_big(s, info);
		if ((rc = shard_finish(s, info->section_offset)) < 0 ||
		    (rc = shard_start(s, info->section_offset,
				      &info->id)) < 0)
			return rc;
		if (s->shard_len + info->section_len > s->max_payload)
			return too_big(s, info);
	}
	s->shard_len += info->section_len;
	if ((rc = hash_add(s, pre, plen)) < 0)
		return rc;
	return hash_add(s, data, info->block_len);
}

/* ---- block rows ---- */

static int rows_flush(struct scan *s)
{
	static const char sql[] = "INSERT OR REPLACE INTO piece_block"
				  " (commit_id, off, cid, len)"
				  " VALUES (?1, ?2, ?3, ?4)";
	struct db *db = s->ps->wdb;
	const uint8_t *p = s->rows.ptr;
	sqlite3_stmt *st;
	int rc;

	if (s->nrows == 0)
		return 0;
	if ((rc = db_stmt(&st, db, sql)) < 0 || (rc = db_begin(db)) < 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < s->nrows; i++) {
		uint64_t v[2];

		memcpy(v, p, sizeof(v));
		sqlite3_bind_int64(st, 1, s->commit_id);
		sqlite3_bind_int64(st, 2, (int64_t)v[0]);
		sqlite3_bind_blob(st, 3, p + sizeof(v) + 1, p[sizeof(v)],
				  SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (int64_t)v[1]);
		rc = db_run(db, st);
		p += sizeof(v) + 1 + p[sizeof(v)];
	}
	if (rc == 0)
		rc = db_commit(db);
	else
		db_rollback(db);
	buf_reset(&s->rows);
	s->nrows = 0;
	if (rc == 0 && piece_test_stop(s->ps, PIECE_TEST_ROWS)) {
		s->stopped = true;
		rc = efs_error_set(EFS_ECANCELED, "piece: stopped (test)");
	}
	return rc;
}

/* Queue a row: [offset u64][block length u64][CID length u8][CID]. */
static int row_add(struct scan *s, const struct car_block_info *info)
{
	uint64_t v[2] = { info->section_offset, info->block_len };
	uint8_t cid[CID_BYTES_MAX];
	size_t n = cid_to_bytes(cid, &info->id);
	int rc;

	if ((rc = buf_add(&s->rows, v, sizeof(v))) < 0 ||
	    (rc = buf_addch(&s->rows, (uint8_t)n)) < 0 ||
	    (rc = buf_add(&s->rows, cid, n)) < 0)
		return rc;
	if (++s->nrows >= s->batch)
		return rows_flush(s);
	return 0;
}

/* ---- the walk ---- */

static int scan_get(void *payload, const struct cid *id, struct buf *out)
{
	struct scan *s = payload;
	size_t at = out->len;
	int rc = blockio_get(&s->inner, id, out);

	s->got = rc == 0 ? out : NULL;
	s->got_at = at;
	s->got_id = *id;
	return rc;
}

static int scan_block(const struct car_block_info *info, void *payload)
{
	struct scan *s = payload;
	const uint8_t *data;
	int rc;

	if (!s->got || !cid_equal(&s->got_id, &info->id) ||
	    s->got->len - s->got_at != info->block_len)
		return efs_error_set(EFS_ERROR, "piece: the CAR writer "
				     "reported a block it did not fetch");
	data = s->got->ptr + s->got_at;
	s->got = NULL;
	s->blocks++;
	if ((rc = section_hash(s, info, data)) < 0)
		return rc;
	return row_add(s, info);
}

static int scan_count(void *payload, const uint8_t *data, size_t len)
{
	struct scan *s = payload;

	(void)data;
	s->written += len;
	return 0;
}

/* Stream the CAR of root: shards, rows, hashes. */
static int scan_run(struct scan *s, const struct cid *root)
{
	struct blockio_source src = { scan_get, s };
	const struct shard *last;
	struct car_writer *w;
	int rc;

	if ((rc = shard_start(s, 0, root)) < 0)
		return rc;
	s->shards[0].car_start = s->shards[0].header_len;
	if ((rc = car_writer_new_cb(&w, scan_count, s)) < 0)
		return rc;
	rc = car_write_dag(w, &src, root, scan_block, s);
	car_writer_free(w);
	if (rc == 0)
		rc = rows_flush(s);
	if (rc == 0)
		rc = shard_finish(s, s->written);
	last = &s->shards[s->nshards - 1];
	if (rc == 0 && (s->shards[0].car_start > s->written ||
			s->shard_len != last->header_len + s->written -
						last->car_start))
		rc = efs_error_set(EFS_ERROR, "piece: CAR of %llu bytes does "
				   "not add up with its sections",
				   (unsigned long long)s->written);
	return rc;
}

/* ---- recording ---- */

/* Insert a piece of one part; its id goes to *out. */
static int insert_single(struct scan *s, enum piece_kind kind,
			 const struct shard *sh, unsigned idx, unsigned n,
			 int64_t now)
{
	static const char psql[] =
		"INSERT INTO piece (kind, comm, padded, payload, label,"
		" created, members, shard, shards, state)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?8, 0)";
	static const char qsql[] =
		"INSERT INTO piece_part (piece_id, off, commit_id, header,"
		" car_start, car_end) VALUES (?1, 0, ?2, ?3, ?4, ?5)";
	struct db *db = s->ps->wdb;
	uint8_t label[CID_BYTES_MAX];
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(&st, db, psql)) < 0)
		return rc;
	sqlite3_bind_int(st, 1, kind);
	sqlite3_bind_blob(st, 2, sh->piece.root, COMMP_NODE_SIZE,
			  SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)sh->piece.padded_size);
	sqlite3_bind_int64(st, 4, (int64_t)sh->piece.payload_size);
	sqlite3_bind_blob(st, 5, label, (int)cid_to_bytes(label, &sh->root),
			  SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now);
	sqlite3_bind_int(st, 7, (int)idx);
	sqlite3_bind_int(st, 8, kind == PIECE_SHARD ? (int)n : 0);
	if ((rc = db_run(db, st)) < 0)
		return rc;
	buf_reset(&s->header);
	if ((rc = piece_car_header(&s->header, &sh->root)) < 0 ||
	    (rc = db_stmt(&st, db, qsql)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, sqlite3_last_insert_rowid(db_handle(db)));
	sqlite3_bind_int64(st, 2, s->commit_id);
	sqlite3_bind_blob(st, 3, s->header.ptr, (int)s->header.len,
			  SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (int64_t)sh->car_start);
	sqlite3_bind_int64(st, 5, (int64_t)sh->car_end);
	return db_run(db, st);
}

static int update_commit(struct scan *s, enum piece_stage stage,
			 const struct commp_piece *whole, int64_t now)
{
	static const char sql[] =
		"UPDATE piece_commit SET stage = ?2, since = ?3,"
		" car_size = ?4, header_len = ?5, blocks = ?6, comm = ?7,"
		" padded = ?8 WHERE commit_id = ?1 AND stage = 0";
	struct db *db = s->ps->wdb;
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(&st, db, sql)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, s->commit_id);
	sqlite3_bind_int(st, 2, stage);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, (int64_t)s->written);
	sqlite3_bind_int64(st, 5, (int64_t)s->shards[0].header_len);
	sqlite3_bind_int64(st, 6, (int64_t)s->blocks);
	if (whole)
		sqlite3_bind_blob(st, 7, whole->root, COMMP_NODE_SIZE,
				  SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, whole ? (int64_t)whole->padded_size : 0);
	if ((rc = db_run(db, st)) < 0)
		return rc;
	if (sqlite3_changes(db_handle(db)) != 1)
		return efs_error_set(EFS_ERROR, "piece: commit %lld changed "
				     "while it was sized",
				     (long long)s->commit_id);
	return 0;
}

/* The final transaction: the commit's stage and its pieces. */
static int record(struct scan *s, uint64_t min_padded)
{
	struct db *db = s->ps->wdb;
	const struct commp_piece *whole = &s->shards[0].piece;
	int64_t now = piece_now(s->ps);
	int rc;

	if ((rc = db_sync_mode(db, true)) < 0 || (rc = db_begin(db)) < 0)
		return rc;
	if (s->nshards > 1) {
		rc = update_commit(s, PIECE_STAGE_PIECED, NULL, now);
		for (size_t i = 0; rc == 0 && i < s->nshards; i++)
			rc = insert_single(s, PIECE_SHARD, &s->shards[i],
					   (unsigned)i, (unsigned)s->nshards,
					   now);
	} else if (whole->padded_size >= min_padded) {
		rc = update_commit(s, PIECE_STAGE_PIECED, whole, now);
		if (rc == 0)
			rc = insert_single(s, PIECE_CAR, &s->shards[0], 0, 1,
					   now);
	} else {
		rc = update_commit(s, PIECE_STAGE_WAITING, whole, now);
	}
	if (rc == 0)
		return db_commit(db);
	db_rollback(db);
	return rc;
}

/* ---- the entry point ---- */

static int purge(struct db *db, int64_t commit_id)
{
	int rc = db_begin(db);

	if (rc == 0)
		rc = db_run_ints(db, "DELETE FROM piece_block"
				 " WHERE commit_id = ?1", &commit_id, 1);
	if (rc == 0)
		rc = db_run_ints(db, "DELETE FROM piece_commit"
				 " WHERE commit_id = ?1 AND stage = 0",
				 &commit_id, 1);
	if (rc == 0)
		return db_commit(db);
	db_rollback(db);
	return rc;
}

/* What is known of commit_id: 1 with its stage and root, or 0. */
static int lookup(enum piece_stage *stage, struct cid *root,
		  struct db *db, int64_t commit_id)
{
	static const char sql[] =
		"SELECT stage, root FROM piece_commit WHERE commit_id = ?1";
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(&st, db, sql)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, commit_id);
	if ((rc = db_step(db, st)) > 0) {
		*stage = (enum piece_stage)sqlite3_column_int(st, 0);
		rc = piece_column_cid(root, st, 1, "commit root");
		rc = rc < 0 ? rc : 1;
	}
	db_reset(st);
	return rc;
}

static int begin_sizing(struct piece_store *ps, int64_t commit_id,
			const struct cid *root)
{
	static const char sql[] = "INSERT INTO piece_commit"
				  " (commit_id, root, stage, since)"
				  " VALUES (?1, ?2, 0, ?3)";
	uint8_t b[CID_BYTES_MAX];
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_sync_mode(ps->wdb, false)) < 0 ||
	    (rc = db_stmt(&st, ps->wdb, sql)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, commit_id);
	sqlite3_bind_blob(st, 2, b, (int)cid_to_bytes(b, root), SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, piece_now(ps));
	return db_run(ps->wdb, st);
}

static int add_locked(struct piece_store *ps, int64_t commit_id,
		      const struct cid *root)
{
	struct scan s = { .ps = ps, .commit_id = commit_id,
			  .max_payload = ps->lim.max_payload,
			  .batch = piece_batch(ps),
			  .inner = bstore_source(ps->bs),
			  .rows = BUF_INIT(BUF_NOCAP),
			  .hash = BUF_INIT(BUF_NOCAP),
			  .header = BUF_INIT(BUF_NOCAP) };
	enum piece_stage stage;
	struct cid known;
	int rc = lookup(&stage, &known, ps->wdb, commit_id);
	char a[CID_STR_MAX], b[CID_STR_MAX];

	if (rc > 0 && !cid_equal(&known, root))
		return efs_error_set(EFS_EINVAL, "piece: commit %lld is %s, "
				     "not %s", (long long)commit_id,
				     cid_tostr(a, &known), cid_tostr(b, root));
	if (rc > 0 && stage != PIECE_STAGE_SIZING)
		return piece_locate_pending(ps, commit_id);
	if ((rc < 0) || (rc > 0 && (rc = purge(ps->wdb, commit_id)) < 0))
		return rc;
	if ((rc = begin_sizing(ps, commit_id, root)) == 0 &&
	    (rc = scan_run(&s, root)) == 0)
		rc = record(&s, ps->lim.min_padded);
	db_sync_mode(ps->wdb, true);
	if (rc < 0 && !s.stopped) {
		struct efs_error_state saved;

		efs_error_save(&saved);
		purge(ps->wdb, commit_id);
		efs_error_restore(&saved);
	}
	if (rc == 0 && piece_test_stop(ps, PIECE_TEST_RECORDED))
		rc = efs_error_set(EFS_ECANCELED, "piece: stopped (test)");
	if (rc == 0)
		rc = piece_locate_pending(ps, commit_id);
	buf_release(&s.rows);
	buf_release(&s.hash);
	buf_release(&s.header);
	efs_free(s.shards);
	return rc;
}

int piece_add_commit(struct piece_store *ps, int64_t commit_id,
		     const struct cid *root)
{
	int rc = piece_check_writable(ps, "add");

	if (rc < 0)
		return rc;
	pthread_mutex_lock(&ps->mu);
	rc = add_locked(ps, commit_id, root);
	pthread_mutex_unlock(&ps->mu);
	return rc;
}
