/*
 * sp_db.c - the storage providers' tables in the devnet's state database
 * (module "sp" of db_migrate), so a restarted devnet goes on sealing the
 * deals it had and serving the pieces it holds.
 *
 *	sp_deal   one row per accepted proposal: its state (sp_i.h), the
 *	          DealParams body as received (decoded again when needed),
 *	          and what the pipeline learnt (piece, chain deal ID, ...)
 *	sp_piece  one row per piece a miner holds: its CommP, sizes and
 *	          file; ready once a deal of it is sealed (only then is it
 *	          served, as Curio serves sealed pieces), announce once a
 *	          sealed deal of it did not ask SkipIPNIAnnounce (only then
 *	          does IPNI list it)
 *	sp_block  one row per block of a piece that is a CAR: where its
 *	          bytes lie in the file, keyed by multihash (what IPNI and
 *	          the gateway look blocks up by)
 *
 * Every thread opens its own connection (sp_db_open); handlers open one
 * per request, the worker keeps one.
 */
#include "contrib/devnet/sp_i.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

#include "core/banned.h"

static const char *const sp_schema[] = {
	"CREATE TABLE sp_deal ("
	" uuid BLOB PRIMARY KEY,"
	" miner INTEGER NOT NULL,"
	" state INTEGER NOT NULL,"
	" error TEXT NOT NULL DEFAULT '',"
	" params BLOB NOT NULL,"
	" proposal_cid TEXT NOT NULL,"
	" piece INTEGER NOT NULL DEFAULT 0,"
	" chain_deal_id INTEGER NOT NULL DEFAULT 0,"
	" publish_cid BLOB,"
	" seal_at INTEGER NOT NULL DEFAULT 0,"
	" sector INTEGER NOT NULL DEFAULT 0,"
	" slashed INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL DEFAULT (strftime('%s', 'now')));"
	"CREATE UNIQUE INDEX sp_deal_proposal ON sp_deal(miner, proposal_cid);"
	"CREATE INDEX sp_deal_state ON sp_deal(miner, state);"
	"CREATE TABLE sp_piece ("
	" id INTEGER PRIMARY KEY,"
	" miner INTEGER NOT NULL,"
	" root BLOB NOT NULL,"
	" padded INTEGER NOT NULL,"
	" payload INTEGER NOT NULL,"
	" path TEXT NOT NULL,"
	" ready INTEGER NOT NULL DEFAULT 0,"
	" announce INTEGER NOT NULL DEFAULT 0,"
	" UNIQUE (miner, root, padded));"
	"CREATE TABLE sp_block ("
	" mh BLOB NOT NULL,"
	" piece INTEGER NOT NULL REFERENCES sp_piece(id) ON DELETE CASCADE,"
	" offset INTEGER NOT NULL,"
	" len INTEGER NOT NULL,"
	" PRIMARY KEY (mh, piece)) WITHOUT ROWID;"
	"CREATE INDEX sp_block_piece ON sp_block(piece);",
};

int sp_db_open(struct devnet *d, struct db **out)
{
	return devnet_db_open(d, out);
}

int sp_db_migrate(struct db *db)
{
	return db_migrate(db, NULL, "sp", sp_schema,
			  sizeof(sp_schema) / sizeof(sp_schema[0]));
}

static void bind_cid_text(sqlite3_stmt *st, int col, const struct cid *id)
{
	char s[CID_STR_MAX];

	cid_tostr(s, id);
	sqlite3_bind_text(st, col, s, -1, SQLITE_TRANSIENT);
}

int sp_db_deal_insert(struct db *db, bool *dup_uuid, const struct sp *sp,
		      const struct mk12_deal_params *dp, const uint8_t *body,
		      size_t len, const struct cid *proposal_cid)
{
	sqlite3_stmt *st;
	int rc;

	*dup_uuid = false;
	if ((rc = db_stmt(&st, db, "SELECT 1 FROM sp_deal WHERE uuid = ?")) < 0)
		return rc;
	sqlite3_bind_blob(st, 1, dp->uuid, MK12_UUID_LEN, SQLITE_STATIC);
	rc = db_step(db, st);
	db_reset(st);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		*dup_uuid = true;
		return efs_error_set(EFS_EEXISTS, "sp: deal uuid exists");
	}
	if ((rc = db_stmt(&st, db,
			  "INSERT INTO sp_deal (uuid, miner, state, params,"
			  " proposal_cid) VALUES (?, ?, ?, ?, ?)")) < 0)
		return rc;
	sqlite3_bind_blob(st, 1, dp->uuid, MK12_UUID_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)sp->m->id);
	sqlite3_bind_int(st, 3, SP_DEAL_ACCEPTED);
	sqlite3_bind_blob(st, 4, body, (int)len, SQLITE_STATIC);
	bind_cid_text(st, 5, proposal_cid);
	return db_run(db, st);
}

static int row_cid(struct cid *out, sqlite3_stmt *st, int col)
{
	const void *p = sqlite3_column_blob(st, col);
	int n = sqlite3_column_bytes(st, col);

	if (!p || n <= 0)
		return efs_error_set(EFS_ECORRUPT, "sp: empty cid column");
	return cid_from_bytes_exact(out, p, (size_t)n);
}

static int deal_from_row(struct sp_deal *out, sqlite3_stmt *st)
{
	const void *p = sqlite3_column_blob(st, 3);
	int n = sqlite3_column_bytes(st, 3);
	const unsigned char *err = sqlite3_column_text(st, 2);
	int rc;

	out->miner = (uint64_t)sqlite3_column_int64(st, 0);
	out->state = (enum sp_deal_state)sqlite3_column_int(st, 1);
	snprintf(out->error, sizeof(out->error), "%s",
		 err ? (const char *)err : "");
	out->piece_id = (uint64_t)sqlite3_column_int64(st, 4);
	out->chain_deal_id = (uint64_t)sqlite3_column_int64(st, 5);
	out->seal_at = sqlite3_column_int64(st, 7);
	out->sector = (uint64_t)sqlite3_column_int64(st, 8);
	out->slashed = sqlite3_column_int(st, 9) != 0;
	if (out->chain_deal_id &&
	    (rc = row_cid(&out->publish_cid, st, 6)) < 0)
		return rc;
	if (!p || n <= 0)
		return efs_error_set(EFS_ECORRUPT, "sp: deal without params");
	return mk12_deal_params_decode(&out->params, p, (size_t)n);
}

int sp_db_deal_get(struct sp_deal *out, struct db *db,
		   const uint8_t uuid[MK12_UUID_LEN])
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	memcpy(out->uuid, uuid, MK12_UUID_LEN);
	if ((rc = db_stmt(&st, db,
			  "SELECT miner, state, error, params, piece,"
			  " chain_deal_id, publish_cid, seal_at, sector,"
			  " slashed FROM sp_deal WHERE uuid = ?")) < 0)
		return rc;
	sqlite3_bind_blob(st, 1, uuid, MK12_UUID_LEN, SQLITE_STATIC);
	rc = db_step(db, st);
	if (rc == 0)
		rc = efs_error_set(EFS_ENOTFOUND, "sp: no such deal");
	else if (rc == 1)
		rc = deal_from_row(out, st);
	db_reset(st);
	if (rc < 0)
		sp_deal_release(out);
	return rc;
}

void sp_deal_release(struct sp_deal *dl)
{
	mk12_deal_params_release(&dl->params);
}

int sp_db_deal_update(struct db *db, const struct sp_deal *dl)
{
	uint8_t pc[CID_BYTES_MAX];
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(&st, db,
			  "UPDATE sp_deal SET state = ?, error = ?, piece = ?,"
			  " chain_deal_id = ?, publish_cid = ?, seal_at = ?,"
			  " sector = ?, slashed = ? WHERE uuid = ?")) < 0)
		return rc;
	sqlite3_bind_int(st, 1, dl->state);
	sqlite3_bind_text(st, 2, dl->error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)dl->piece_id);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)dl->chain_deal_id);
	if (dl->chain_deal_id)
		sqlite3_bind_blob(st, 5, pc,
				  (int)cid_to_bytes(pc, &dl->publish_cid),
				  SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, dl->seal_at);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)dl->sector);
	sqlite3_bind_int(st, 8, dl->slashed);
	sqlite3_bind_blob(st, 9, dl->uuid, MK12_UUID_LEN, SQLITE_STATIC);
	return db_run(db, st);
}

int sp_db_deals_in(uint8_t (**out)[MK12_UUID_LEN], size_t *n, struct db *db,
		   uint64_t miner, enum sp_deal_state state, size_t max)
{
	uint8_t(*v)[MK12_UUID_LEN] = NULL;
	size_t cnt = 0;
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = db_stmt(&st, db,
			  "SELECT uuid FROM sp_deal WHERE miner = ? AND"
			  " state = ? ORDER BY rowid LIMIT ?")) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)miner);
	sqlite3_bind_int(st, 2, state);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	while ((rc = db_step(db, st)) == 1) {
		const void *p = sqlite3_column_blob(st, 0);
		void *nv;

		if (!p || sqlite3_column_bytes(st, 0) != MK12_UUID_LEN)
			continue;
		nv = efs_reallocarray(v, cnt + 1, sizeof(*v));
		if (!nv) {
			rc = efs_error_set(EFS_ENOMEM, "out of memory");
			break;
		}
		v = nv;
		memcpy(v[cnt++], p, MK12_UUID_LEN);
	}
	db_reset(st);
	if (rc < 0) {
		efs_free(v);
		return rc;
	}
	*out = v;
	*n = cnt;
	return 0;
}

int sp_db_next_sector(uint64_t *out, struct db *db, uint64_t miner)
{
	int64_t v = (int64_t)miner, next;
	int rc = db_query_int(&next, db,
			      "SELECT COALESCE(MAX(sector), 0) + 1 FROM sp_deal"
			      " WHERE miner = ?", &v, 1);

	if (rc == 1)
		*out = (uint64_t)next;
	return rc < 0 ? rc : 0;
}

static int piece_from_row(struct sp_piece *out, sqlite3_stmt *st,
			  struct devnet *d)
{
	const void *root = sqlite3_column_blob(st, 2);
	const unsigned char *path = sqlite3_column_text(st, 5);
	int rc;

	out->id = (uint64_t)sqlite3_column_int64(st, 0);
	out->miner = (uint64_t)sqlite3_column_int64(st, 1);
	out->ready = sqlite3_column_int(st, 6) != 0;
	if (!root || sqlite3_column_bytes(st, 2) != COMMP_NODE_SIZE || !path)
		return efs_error_set(EFS_ECORRUPT, "sp: bad piece row %llu",
				     (unsigned long long)out->id);
	rc = commp_piece_init(&out->piece, root,
			      (uint64_t)sqlite3_column_int64(st, 3),
			      (uint64_t)sqlite3_column_int64(st, 4));
	if (rc < 0)
		return rc;
	return sp_path(out->path, d->dir, (const char *)path);
}

#define PIECE_COLS "SELECT id, miner, root, padded, payload, path, ready"

int sp_db_piece_find(struct sp_piece *out, struct db *db, struct devnet *d,
		     uint64_t miner, const uint8_t root[COMMP_NODE_SIZE],
		     uint64_t padded, bool ready_only)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(&st, db,
			  PIECE_COLS " FROM sp_piece WHERE miner = ? AND"
			  " root = ? AND (? = 0 OR padded = ?) AND"
			  " (? = 0 OR ready = 1) ORDER BY id LIMIT 1")) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)miner);
	sqlite3_bind_blob(st, 2, root, COMMP_NODE_SIZE, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)padded);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)padded);
	sqlite3_bind_int(st, 5, ready_only);
	rc = db_step(db, st);
	if (rc == 0)
		rc = efs_error_set(EFS_ENOTFOUND, "sp: no such piece");
	else if (rc == 1)
		rc = piece_from_row(out, st, d);
	db_reset(st);
	return rc;
}

int sp_db_piece_get(struct sp_piece *out, struct db *db, struct devnet *d,
		    uint64_t id)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(&st, db, PIECE_COLS " FROM sp_piece WHERE id = ?")) <
	    0)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	rc = db_step(db, st);
	if (rc == 0)
		rc = efs_error_set(EFS_ENOTFOUND, "sp: no piece %llu",
				   (unsigned long long)id);
	else if (rc == 1)
		rc = piece_from_row(out, st, d);
	db_reset(st);
	return rc;
}

int sp_db_piece_set_ready(struct db *db, uint64_t id, bool announce)
{
	const int64_t v[] = { announce, (int64_t)id };

	return db_run_ints(db,
			   "UPDATE sp_piece SET ready = 1,"
			   " announce = MAX(announce, ?) WHERE id = ?",
			   v, 2);
}

int sp_db_block_find(struct sp_block_loc *out, struct db *db,
		     struct devnet *d, uint64_t miner, const uint8_t *mh,
		     size_t mhlen)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(&st, db,
			  "SELECT b.piece, b.offset, b.len, p.path FROM"
			  " sp_block b JOIN sp_piece p ON p.id = b.piece"
			  " WHERE b.mh = ? AND p.miner = ? AND p.ready = 1"
			  " ORDER BY b.piece LIMIT 1")) < 0)
		return rc;
	sqlite3_bind_blob(st, 1, mh, (int)mhlen, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)miner);
	rc = db_step(db, st);
	if (rc == 0) {
		rc = efs_error_set(EFS_ENOTFOUND, "sp: no such block");
	} else if (rc == 1) {
		const unsigned char *path = sqlite3_column_text(st, 3);

		out->piece_id = (uint64_t)sqlite3_column_int64(st, 0);
		out->offset = (uint64_t)sqlite3_column_int64(st, 1);
		out->len = (uint64_t)sqlite3_column_int64(st, 2);
		rc = path ? sp_path(out->path, d->dir, (const char *)path)
			  : efs_error_set(EFS_ECORRUPT, "sp: piece no path");
	}
	db_reset(st);
	return rc;
}

int sp_db_deals_waiting(size_t *out, struct db *db, uint64_t miner)
{
	int64_t v = (int64_t)miner, n = 0;
	int rc = db_query_int(&n, db,
			      "SELECT COUNT(*) FROM sp_deal WHERE miner = ? AND"
			      " state IN (0, 1)", &v, 1);

	*out = (size_t)n;
	return rc < 0 ? rc : 0;
}

int sp_db_deal_next(uint8_t out[MK12_UUID_LEN], struct db *db,
		    uint64_t miner)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(&st, db,
			  "SELECT uuid FROM sp_deal WHERE miner = ? AND"
			  " state IN (0, 1) ORDER BY rowid LIMIT 1")) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)miner);
	rc = db_step(db, st);
	if (rc == 0) {
		rc = EFS_ENOTFOUND;
	} else if (rc == 1) {
		const void *p = sqlite3_column_blob(st, 0);

		if (p && sqlite3_column_bytes(st, 0) == MK12_UUID_LEN) {
			memcpy(out, p, MK12_UUID_LEN);
			rc = 0;
		} else {
			rc = efs_error_set(EFS_ECORRUPT, "sp: bad deal uuid");
		}
	}
	db_reset(st);
	return rc;
}
