/*
 * sp_ingest.c - what a simulated SP does with a piece whose CommP
 * checked out: keep the file (sp/<id>/piece/<v1 cid>.car) and index it
 * the way Curio's indexing task does, so the gateway can serve blocks by
 * CID and IPNI can announce them.
 *
 * The index is one sp_block row per block: its multihash and where its
 * bytes lie in the piece file.  The file is read once, front to back,
 * with the streaming CAR reader (which hashes every block against its
 * CID); of the piece only the current section is held in memory, with
 * the list of block places found so far (about 50 bytes a block).  A
 * CARv2 is indexed through its inner CARv1 (offsets shifted by its data
 * offset).  A piece that is not a CAR, or a CAR that breaks off, keeps
 * the blocks read before the fault: the deal goes on, as it does on a
 * real SP, only retrieval by CID is poorer.
 *
 * The piece row and its blocks are written in one transaction, so they
 * appear together; it opens only once the file has been read, so the
 * database's write lock (which the chain's tick needs every epoch) is
 * never held while a big piece is read and hashed.
 */
#include "contrib/devnet/sp_i.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/car.h"
#include "core/carv2.h"
#include "core/error.h"

#define LOG_TOPIC "sp"
#include "core/log.h"

#include "core/banned.h"

/* Where the inner CARv1 starts in the file fd (0 for a CARv1). */
static uint64_t data_offset(int fd, int version)
{
	uint8_t h[CARV2_HEADER_LEN];
	struct carv2_header hdr;

	if (version != 2 ||
	    pread(fd, h, sizeof(h), CARV2_PRAGMA_LEN) != (ssize_t)sizeof(h) ||
	    carv2_header_decode(&hdr, h) < 0)
		return 0;
	return hdr.data_offset;
}

/*
 * The places of the blocks index_car found, packed one after another:
 * the multihash's length (1 byte), the multihash, then the offset and
 * length of the block's bytes in the file (two host-order uint64).
 */
static int place_add(struct buf *places, const struct car_block_info *bi,
		     uint64_t base)
{
	uint8_t mh[CID_MH_BYTES_MAX];
	const uint64_t at[2] = { base + bi->block_offset, bi->block_len };
	size_t n = cid_mh_to_bytes(mh, &bi->id);
	int rc;

	if ((rc = buf_addch(places, (uint8_t)n)) < 0 ||
	    (rc = buf_add(places, mh, n)) < 0)
		return rc;
	return buf_add(places, at, sizeof(at));
}

/* Read the CAR at path: its blocks' places into places.  Fails only
 * when the file cannot be opened or memory runs out. */
static int index_car(struct buf *places, size_t *count, const char *path)
{
	struct car_reader *r = NULL;
	struct car_block b;
	uint64_t base;
	int fd, rc;

	*count = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return efs_error_set_errno(EFS_EIO, errno, "sp: open %s", path);
	if ((rc = car_reader_open_fd(&r, fd)) < 0) {
		efs_log_info("piece %s is not a CAR (%s): not indexed", path,
			     efs_error_msg());
		rc = 0;
		goto out;
	}
	base = data_offset(fd, car_reader_version(r));
	while ((rc = car_reader_next(r, &b)) == 0) {
		if ((rc = place_add(places, &b.info, base)) < 0)
			goto out;
		(*count)++;
	}
	if (rc != EFS_ITEROVER)
		efs_log_warn("piece %s: CAR breaks off after %zu blocks: %s",
			     path, *count, efs_error_msg());
	rc = 0;
out:
	car_reader_free(r);
	close(fd);
	return rc;
}

static int insert_blocks(struct db *db, uint64_t piece,
			 const struct buf *places)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(&st, db, "INSERT OR IGNORE INTO sp_block (mh, piece,"
				   " offset, len) VALUES (?, ?, ?, ?)")) < 0)
		return rc;
	for (size_t pos = 0; rc == 0 && pos < places->len;) {
		size_t n = places->ptr[pos];
		uint64_t at[2];

		memcpy(at, places->ptr + pos + 1 + n, sizeof(at));
		sqlite3_bind_blob(st, 1, places->ptr + pos + 1, (int)n,
				  SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)piece);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)at[0]);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)at[1]);
		rc = db_run(db, st);
		pos += 1 + n + sizeof(at);
	}
	return rc;
}

static int insert_piece(uint64_t *out, struct db *db, const struct sp *sp,
			const struct commp_piece *p, const char *rel)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(&st, db,
			  "INSERT INTO sp_piece (miner, root, padded, payload,"
			  " path) VALUES (?, ?, ?, ?, ?)")) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)sp->m->id);
	sqlite3_bind_blob(st, 2, p->root, COMMP_NODE_SIZE, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)p->padded_size);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)p->payload_size);
	sqlite3_bind_text(st, 5, rel, -1, SQLITE_STATIC);
	if ((rc = db_run(db, st)) < 0)
		return rc;
	*out = (uint64_t)sqlite3_last_insert_rowid(db_handle(db));
	return 0;
}

int sp_ingest(uint64_t *piece_id, struct sp *sp, struct db *db,
	      const char *tmp_path, const struct commp_piece *p)
{
	char cs[CID_STR_MAX], name[CID_STR_MAX + 16], rel[SP_PATH_MAX];
	char abs[SP_PATH_MAX];
	struct buf places = BUF_INIT(BUF_NOCAP);
	struct sp_piece have;
	struct cid v1;
	size_t nblocks;
	int rc;

	if (sp_db_piece_find(&have, db, sp->d, sp->m->id, p->root,
			     p->padded_size, false) == 0) {
		unlink(tmp_path);
		*piece_id = have.id;
		return 0;
	}
	commp_cid_v1(&v1, p);
	snprintf(name, sizeof(name), "piece/%s.car", cid_tostr(cs, &v1));
	if ((rc = sp_path(rel, sp->rel, name)) < 0 ||
	    (rc = sp_path(abs, sp->d->dir, rel)) < 0)
		return rc;
	if (rename(tmp_path, abs) != 0)
		return efs_error_set_errno(EFS_EIO, errno, "sp: rename %s",
					   tmp_path);
	if ((rc = index_car(&places, &nblocks, abs)) < 0 ||
	    (rc = db_begin(db)) < 0)
		goto out;
	if ((rc = insert_piece(piece_id, db, sp, p, rel)) < 0 ||
	    (rc = insert_blocks(db, *piece_id, &places)) < 0 ||
	    (rc = db_commit(db)) < 0) {
		db_rollback(db);
		goto out;
	}
	efs_log_info("miner f0%llu: piece %s stored, %zu blocks indexed",
		     (unsigned long long)sp->m->id, cs, nblocks);
out:
	buf_release(&places);
	return rc;
}
