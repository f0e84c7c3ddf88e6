/*
 * piece.c - the piece store: its tables, limits, read connections and
 * the small helpers every piece file uses (piece.h is the manual,
 * piece_i.h the map of the files and tables).
 *
 * Design notes:
 * - Sizes of a commit's CAR and of its sections are never stored twice:
 *   a section's framing is rebuilt from its CID and block length, a
 *   part's CAR header from its root, so the rows stay small (a few dozen
 *   bytes a block) and cannot disagree with each other.
 * - Opening drops what a crash left of commits still SIZING: their block
 *   rows were written in batches while the CAR streamed, and only the
 *   final transaction of piece_add_commit makes a commit count.
 */
#include "dealer/piece.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/car.h"
#include "core/error.h"
#include "core/varint.h"
#include "dealer/piece_i.h"

#include "core/banned.h"

static const char *const schema[] = {
	/* 0 -> 1 */
	"CREATE TABLE piece_commit ("
	" commit_id INTEGER PRIMARY KEY,"
	" root BLOB NOT NULL,"
	" stage INTEGER NOT NULL,"
	" since INTEGER NOT NULL,"
	" car_size INTEGER NOT NULL DEFAULT 0,"
	" header_len INTEGER NOT NULL DEFAULT 0,"
	" blocks INTEGER NOT NULL DEFAULT 0,"
	" comm BLOB,"
	" padded INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX piece_commit_stage ON piece_commit(stage, since,"
	" commit_id);"
	"CREATE TABLE piece_block ("
	" commit_id INTEGER NOT NULL,"
	" off INTEGER NOT NULL,"
	" cid BLOB NOT NULL,"
	" len INTEGER NOT NULL,"
	" PRIMARY KEY (commit_id, off)) WITHOUT ROWID;"
	"CREATE TABLE piece ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" kind INTEGER NOT NULL,"
	" comm BLOB NOT NULL,"
	" padded INTEGER NOT NULL,"
	" payload INTEGER NOT NULL,"
	" label BLOB,"
	" created INTEGER NOT NULL,"
	" members INTEGER NOT NULL,"
	" shard INTEGER NOT NULL DEFAULT 0,"
	" shards INTEGER NOT NULL DEFAULT 0,"
	" state INTEGER NOT NULL,"
	" index_off INTEGER NOT NULL DEFAULT 0,"
	" index_bytes BLOB);"
	"CREATE INDEX piece_state ON piece(state, id);"
	"CREATE TABLE piece_part ("
	" piece_id INTEGER NOT NULL REFERENCES piece(id),"
	" off INTEGER NOT NULL,"
	" commit_id INTEGER NOT NULL REFERENCES piece_commit(commit_id),"
	" header BLOB NOT NULL,"
	" car_start INTEGER NOT NULL,"
	" car_end INTEGER NOT NULL,"
	" sub_comm BLOB,"
	" sub_padded INTEGER NOT NULL DEFAULT 0,"
	" seg_off INTEGER NOT NULL DEFAULT 0,"
	" seg_size INTEGER NOT NULL DEFAULT 0,"
	" proof BLOB,"
	" PRIMARY KEY (piece_id, off)) WITHOUT ROWID;"
	"CREATE INDEX piece_part_commit ON piece_part(commit_id, piece_id);",
	/* 1 -> 2: the commits holding a block, by the blockstore's key
	 * (the evictor asks it of every candidate: dealer/evict.h) */
	"CREATE INDEX piece_block_mh ON piece_block(" PIECE_BLOCK_MH("cid")
	");",
};

const char *piece_kind_name(enum piece_kind k)
{
	switch (k) {
	case PIECE_CAR:
		return "car";
	case PIECE_SHARD:
		return "shard";
	case PIECE_AGGREGATE:
		return "aggregate";
	}
	return "unknown";
}

const char *piece_stage_name(enum piece_stage s)
{
	switch (s) {
	case PIECE_STAGE_SIZING:
		return "sizing";
	case PIECE_STAGE_WAITING:
		return "waiting";
	case PIECE_STAGE_PIECED:
		return "pieced";
	}
	return "unknown";
}

uint64_t piece_padded_max(uint64_t payload)
{
	uint64_t p = (uint64_t)1 << COMMP_HEIGHT_MAX << 5;

	while (p >= COMMP_PADDED_MIN && commp_unpadded_of_padded(p) > payload)
		p >>= 1;
	return p >= COMMP_PADDED_MIN ? p : 0;
}

static int limits_check(const struct piece_limits *lim)
{
	uint64_t pmax = piece_padded_max(lim->max_payload);

	if (!commp_padded_valid(lim->min_padded))
		return efs_error_set(EFS_EINVAL, "piece: min_padded %llu is "
				     "not a power of two of at least 128",
				     (unsigned long long)lim->min_padded);
	if (lim->agg_target_padded == 0 || lim->agg_max_age_s < 0)
		return efs_error_set(EFS_EINVAL, "piece: aggregate target 0 "
				     "or negative maximum age");
	if (pmax < lim->min_padded || pmax < 512)
		return efs_error_set(EFS_EINVAL, "piece: max_payload %llu "
				     "cannot hold an aggregate of min_padded "
				     "%llu",
				     (unsigned long long)lim->max_payload,
				     (unsigned long long)lim->min_padded);
	return 0;
}

/* Drop the rows of commits a crash left SIZING (piece.h, crash safety). */
static int purge_sizing(struct db *db)
{
	int rc = db_begin(db);

	if (rc == 0)
		rc = db_exec(db, "DELETE FROM piece_block WHERE commit_id IN"
			     " (SELECT commit_id FROM piece_commit"
			     " WHERE stage = 0);"
			     "DELETE FROM piece_commit WHERE stage = 0;");
	if (rc == 0)
		return db_commit(db);
	db_rollback(db);
	return rc;
}

int piece_store_open(struct piece_store **out, const char *db_path,
		     struct bstore *bs, const struct piece_limits *lim)
{
	static const struct piece_limits def = PIECE_LIMITS_INIT;
	struct piece_store *ps;
	int rc;

	*out = NULL;
	if (!lim)
		lim = &def;
	if ((rc = limits_check(lim)) < 0)
		return rc;
	if (!(ps = efs_calloc(1, sizeof(*ps))))
		return efs_error_set(EFS_ENOMEM, "out of memory");
	ps->bs = bs;
	ps->lim = *lim;
	ps->batch = PIECE_BATCH_DEFAULT;
	pthread_mutex_init(&ps->mu, NULL);
	pthread_mutex_init(&ps->mmu, NULL);
	if (db_pool_init(&ps->rpool, db_path, PIECE_POOL_MAX) < 0) {
		rc = efs_error_set(EFS_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = db_open(&ps->wdb, db_path, DB_OPEN_CREATE)) < 0 ||
	    (rc = db_migrate(ps->wdb, NULL, "piece", schema,
			     sizeof(schema) / sizeof(schema[0]))) < 0 ||
	    (rc = purge_sizing(ps->wdb)) < 0 ||
	    (rc = commp_new(&ps->cp, 0)) < 0)
		goto fail;
	*out = ps;
	return 0;
fail:
	piece_store_close(ps);
	return rc;
}

/* The piece tables' version in db_path: 0 when there are none. */
static int tables_version(int *out, struct piece_store *ps)
{
	struct db *db;
	int rc = db_pool_get(&db, &ps->rpool);

	if (rc < 0)
		return rc;
	rc = db_schema_version(out, db, "piece");
	db_pool_put(&ps->rpool, db);
	return rc;
}

int piece_store_open_ro(struct piece_store **out, const char *db_path,
			const struct piece_limits *lim)
{
	static const struct piece_limits def = PIECE_LIMITS_INIT;
	struct piece_store *ps;
	int version, rc;

	*out = NULL;
	if (!lim)
		lim = &def;
	if ((rc = limits_check(lim)) < 0)
		return rc;
	/* sqlite would say "unable to open": say what it means here */
	if (access(db_path, F_OK) < 0)
		return efs_error_set(EFS_ENOTFOUND, "piece: no index %s",
				     db_path);
	if (!(ps = efs_calloc(1, sizeof(*ps))))
		return efs_error_set(EFS_ENOMEM, "out of memory");
	ps->lim = *lim;
	ps->batch = PIECE_BATCH_DEFAULT;
	pthread_mutex_init(&ps->mu, NULL);
	pthread_mutex_init(&ps->mmu, NULL);
	if (db_pool_init(&ps->rpool, db_path, PIECE_POOL_MAX) < 0) {
		rc = efs_error_set(EFS_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = tables_version(&version, ps)) < 0)
		goto fail;
	if (version == 0)
		rc = efs_error_set(EFS_ENOTFOUND, "piece: no pieces yet: the "
				   "dealer has not run in this repository");
	else if (version > (int)(sizeof(schema) / sizeof(schema[0])))
		rc = efs_error_set(EFS_EUNSUPPORTED, "piece: tables of a "
				   "newer estuaryfs (version %d)", version);
	if (rc < 0)
		goto fail;
	*out = ps;
	return 0;
fail:
	piece_store_close(ps);
	return rc;
}

int piece_check_writable(struct piece_store *ps, const char *what)
{
	if (ps->wdb)
		return 0;
	return efs_error_set(EFS_EINVAL, "piece: %s: the store is open "
			     "read-only", what);
}

void piece_store_close(struct piece_store *ps)
{
	if (!ps)
		return;
	db_pool_release(&ps->rpool);
	db_close(ps->wdb);
	commp_free(ps->cp);
	pthread_mutex_destroy(&ps->mu);
	pthread_mutex_destroy(&ps->mmu);
	efs_free(ps);
}

int piece_store_set_limits(struct piece_store *ps,
			   const struct piece_limits *lim)
{
	int rc = limits_check(lim);

	if (rc < 0)
		return rc;
	pthread_mutex_lock(&ps->mu);
	pthread_mutex_lock(&ps->mmu);
	ps->lim = *lim;
	pthread_mutex_unlock(&ps->mmu);
	pthread_mutex_unlock(&ps->mu);
	return 0;
}

void piece_store_limits(struct piece_limits *out, struct piece_store *ps)
{
	pthread_mutex_lock(&ps->mmu);
	*out = ps->lim;
	pthread_mutex_unlock(&ps->mmu);
}

/* ---- helpers ---- */

int64_t piece_now(struct piece_store *ps)
{
	int64_t now;

	pthread_mutex_lock(&ps->mmu);
	now = ps->test_now;
	pthread_mutex_unlock(&ps->mmu);
	return now ? now : (int64_t)time(NULL);
}

size_t piece_batch(struct piece_store *ps)
{
	size_t n;

	pthread_mutex_lock(&ps->mmu);
	n = ps->batch;
	pthread_mutex_unlock(&ps->mmu);
	return n;
}

bool piece_test_stop(struct piece_store *ps, enum piece_test_point p)
{
	bool stop;

	pthread_mutex_lock(&ps->mmu);
	stop = ps->stop != PIECE_TEST_NONE && ps->stop == p;
	if (stop)
		ps->stop = PIECE_TEST_NONE;
	pthread_mutex_unlock(&ps->mmu);
	return stop;
}

static int to_buf(void *payload, const uint8_t *data, size_t len)
{
	return buf_add(payload, data, len);
}

int piece_car_header(struct buf *out, const struct cid *root)
{
	struct car_writer *w;
	int rc = car_writer_new_cb(&w, to_buf, out);

	if (rc < 0)
		return rc;
	rc = car_writer_header(w, root, 1);
	if (rc == 0)
		rc = car_writer_finish(w);
	car_writer_free(w);
	return rc;
}

size_t piece_section_prefix(uint8_t *out, const uint8_t *cid, size_t cidlen,
			    uint64_t blen)
{
	size_t n = varint_encode(out, cidlen + blen);

	memcpy(out + n, cid, cidlen);
	return n + cidlen;
}

int piece_column_cid(struct cid *out, sqlite3_stmt *st, int col,
		     const char *what)
{
	const void *p = sqlite3_column_blob(st, col);
	int n = sqlite3_column_bytes(st, col);

	if (!p || n <= 0 || cid_from_bytes_exact(out, p, (size_t)n) < 0)
		return efs_error_set(EFS_ECORRUPT, "piece: bad %s CID in the "
				     "index", what);
	return 0;
}

int piece_column_root(uint8_t out[COMMP_NODE_SIZE], sqlite3_stmt *st,
		      int col)
{
	const void *p = sqlite3_column_blob(st, col);

	if (!p || sqlite3_column_bytes(st, col) != COMMP_NODE_SIZE)
		return efs_error_set(EFS_ECORRUPT, "piece: bad CommP in the "
				     "index");
	memcpy(out, p, COMMP_NODE_SIZE);
	return 0;
}

int piece_commp_from_row(struct commp_piece *out,
			 const uint8_t root[COMMP_NODE_SIZE], uint64_t padded,
			 uint64_t payload)
{
	if (commp_piece_init(out, root, padded, payload) < 0)
		return efs_error_set(EFS_ECORRUPT, "piece: bad piece size "
				     "%llu (payload %llu) in the index",
				     (unsigned long long)padded,
				     (unsigned long long)payload);
	return 0;
}

/* ---- test hooks ---- */

void piece_store_test_stop(struct piece_store *ps,
			   enum piece_test_point point)
{
	pthread_mutex_lock(&ps->mmu);
	ps->stop = point;
	pthread_mutex_unlock(&ps->mmu);
}

void piece_store_test_batch(struct piece_store *ps, size_t n)
{
	pthread_mutex_lock(&ps->mmu);
	ps->batch = n ? n : PIECE_BATCH_DEFAULT;
	pthread_mutex_unlock(&ps->mmu);
}

void piece_store_test_clock(struct piece_store *ps, int64_t now)
{
	pthread_mutex_lock(&ps->mmu);
	ps->test_now = now;
	pthread_mutex_unlock(&ps->mmu);
}
