/*
 * piece_reader.c - any byte range of a piece's payload, made again from
 * the records and the blockstore (the payload is never stored).
 *
 * The payload is a run of regions, found by lookups rather than by
 * replaying the stream:
 *
 *   part        a member's CAR header (from its row), then its sections:
 *               framing and CID rebuilt from the piece_block row, block
 *               bytes from the blockstore (bstore_get re-hashes them)
 *   zeros       after a part, up to the next part, the index or the end
 *   index       an aggregate's data segment index (its non-zero bytes
 *               are in the piece row; zeros after them)
 *
 * A read finds its part with one indexed lookup (the last part starting
 * at or before the offset), then its section the same way in the
 * commit's rows: O(log n) for a seek.  The part, section and block last
 * used are kept, so reads in order (an SP's download, in whatever chunks
 * the HTTP server asks for) cost a lookup per section and a block fetch
 * per block.  Every row is checked against its neighbours' bounds: a
 * record that would put bytes outside its part is EFS_ECORRUPT, never
 * wrong bytes.
 */
#include "dealer/piece.h"

#include <string.h>

#include "core/alloc.h"
#include "core/bstore.h"
#include "core/error.h"
#include "core/varint.h"
#include "dealer/piece_i.h"
#include "dealer/transfer.h"

#include "core/banned.h"

struct piece_reader {
	struct piece_store *ps;
	struct db *db;           /* a pooled read connection */
	int64_t piece_id;
	uint64_t size;           /* of the payload */
	uint64_t index_off;      /* aggregates: the index region; else size */
	struct buf index;        /* its non-zero bytes */

	/* the part last used: bytes [part_off, part_end), zeros to gap_end */
	bool has_part;
	uint64_t part_off;
	uint64_t part_end;
	uint64_t gap_end;
	int64_t commit_id;
	uint64_t car_start;
	uint64_t car_end;
	struct buf header;

	/* the section last used: [sec_off, sec_off + sec_len) of the CAR */
	bool has_sec;
	uint64_t sec_off;
	uint64_t sec_len;
	uint8_t prefix[VARINT_MAX_LEN + CID_BYTES_MAX];
	size_t prefix_len;
	struct cid cid;
	uint64_t blen;
	bool has_block;
	struct buf block;
};

/* ---- regions ---- */

static size_t min_len(size_t len, uint64_t avail)
{
	return avail < len ? (size_t)avail : len;
}

/* Copy from the index region. */
static size_t read_index(struct piece_reader *r, uint64_t off, uint8_t *p,
			 size_t len)
{
	uint64_t rel = off - r->index_off;

	if (rel < r->index.len) {
		len = min_len(len, r->index.len - rel);
		memcpy(p, r->index.ptr + rel, len);
		return len;
	}
	len = min_len(len, r->size - off);
	memset(p, 0, len);
	return len;
}

/* The part at or before off and the next part's start (or the index).
 * No part at or before off: has_part stays false, gap_end is set. */
static int part_find(struct piece_reader *r, uint64_t off)
{
	static const char at_sql[] =
		"SELECT off, commit_id, header, car_start, car_end"
		" FROM piece_part WHERE piece_id = ?1 AND off <= ?2"
		" ORDER BY off DESC LIMIT 1";
	static const char next_sql[] =
		"SELECT off FROM piece_part WHERE piece_id = ?1 AND off > ?2"
		" ORDER BY off LIMIT 1";
	int64_t v[2] = { r->piece_id, (int64_t)off };
	int64_t next;
	sqlite3_stmt *st;
	int rc;

	r->has_part = r->has_sec = false;
	if ((rc = db_stmt(&st, r->db, at_sql)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, r->piece_id);
	sqlite3_bind_int64(st, 2, (int64_t)off);
	if ((rc = db_step(r->db, st)) > 0) {
		const void *h = sqlite3_column_blob(st, 2);
		size_t hlen = (size_t)sqlite3_column_bytes(st, 2);

		r->part_off = (uint64_t)sqlite3_column_int64(st, 0);
		r->commit_id = sqlite3_column_int64(st, 1);
		r->car_start = (uint64_t)sqlite3_column_int64(st, 3);
		r->car_end = (uint64_t)sqlite3_column_int64(st, 4);
		buf_reset(&r->header);
		rc = hlen ? buf_add(&r->header, h, hlen) : 0;
		r->has_part = rc == 0;
	}
	db_reset(st);
	if (rc < 0 || (rc = db_query_int(&next, r->db, next_sql, v, 2)) < 0)
		return rc;
	r->gap_end = rc > 0 && (uint64_t)next < r->index_off ? (uint64_t)next
							     : r->index_off;
	if (!r->has_part)
		return 0;
	r->part_end = r->part_off + r->header.len;
	if (r->car_start > r->car_end || r->part_end < r->part_off ||
	    r->part_end > r->gap_end ||
	    r->car_end - r->car_start > r->gap_end - r->part_end)
		return efs_error_set(EFS_ECORRUPT, "piece: part at %llu of "
				     "piece %lld overruns its place",
				     (unsigned long long)r->part_off,
				     (long long)r->piece_id);
	r->part_end += r->car_end - r->car_start;
	return 0;
}

/* The section of the commit's CAR holding byte car. */
static int section_find(struct piece_reader *r, uint64_t car)
{
	static const char sql[] =
		"SELECT off, cid, len FROM piece_block WHERE commit_id = ?1"
		" AND off <= ?2 ORDER BY off DESC LIMIT 1";
	sqlite3_stmt *st;
	bool found = false;
	int rc;

	r->has_sec = r->has_block = false;
	if ((rc = db_stmt(&st, r->db, sql)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, r->commit_id);
	sqlite3_bind_int64(st, 2, (int64_t)car);
	if ((rc = db_step(r->db, st)) > 0) {
		const uint8_t *c = sqlite3_column_blob(st, 1);
		size_t clen = (size_t)sqlite3_column_bytes(st, 1);

		r->sec_off = (uint64_t)sqlite3_column_int64(st, 0);
		r->blen = (uint64_t)sqlite3_column_int64(st, 2);
		rc = piece_column_cid(&r->cid, st, 1, "block");
		found = rc == 0 && r->blen <= r->car_end;
		if (found)
			r->prefix_len = piece_section_prefix(r->prefix, c,
							     clen, r->blen);
	}
	db_reset(st);
	if (rc < 0)
		return rc;
	if (found)
		r->sec_len = r->prefix_len + r->blen;
	if (!found || r->sec_off < r->car_start ||
	    r->sec_len > r->car_end - r->sec_off ||
	    car >= r->sec_off + r->sec_len)
		return efs_error_set(EFS_ECORRUPT, "piece: no section of commit"
				     " %lld holds byte %llu of its CAR",
				     (long long)r->commit_id,
				     (unsigned long long)car);
	r->has_sec = true;
	return 0;
}

static int block_load(struct piece_reader *r)
{
	char c[CID_STR_MAX];
	int rc;

	buf_reset(&r->block);
	if ((rc = bstore_get(r->ps->bs, &r->cid, &r->block)) < 0)
		return rc;
	if (r->block.len != r->blen)
		return efs_error_set(EFS_ECORRUPT, "piece: block %s has %zu "
				     "bytes, recorded %llu",
				     cid_tostr(c, &r->cid), r->block.len,
				     (unsigned long long)r->blen);
	r->has_block = true;
	return 0;
}

/* Bytes of the part's sections from CAR offset car on; *n copied. */
static int read_sections(size_t *n, struct piece_reader *r, uint64_t car,
			 uint8_t *p, size_t len)
{
	uint64_t rel;
	int rc;

	if (!r->has_sec || car < r->sec_off ||
	    car - r->sec_off >= r->sec_len) {
		if ((rc = section_find(r, car)) < 0)
			return rc;
	}
	rel = car - r->sec_off;
	if (rel < r->prefix_len) {
		*n = min_len(len, r->prefix_len - rel);
		memcpy(p, r->prefix + rel, *n);
		return 0;
	}
	if (!r->has_block && (rc = block_load(r)) < 0)
		return rc;
	rel -= r->prefix_len;
	*n = min_len(len, r->blen - rel);
	memcpy(p, r->block.ptr + rel, *n);
	return 0;
}

/* Some bytes at off (before the index); *n copied (>= 1). */
static int read_some(size_t *n, struct piece_reader *r, uint64_t off,
		     uint8_t *p, size_t len)
{
	uint64_t rel;
	int rc;

	if (!(r->has_part && off >= r->part_off && off < r->gap_end) &&
	    (rc = part_find(r, off)) < 0)
		return rc;
	if (!r->has_part || off >= r->part_end) {
		*n = min_len(len, r->gap_end - off);
		memset(p, 0, *n);
		return 0;
	}
	rel = off - r->part_off;
	if (rel < r->header.len) {
		*n = min_len(len, r->header.len - rel);
		memcpy(p, r->header.ptr + rel, *n);
		return 0;
	}
	len = min_len(len, r->part_end - off);
	return read_sections(n, r, r->car_start + rel - r->header.len, p,
			     len);
}

int piece_reader_read(struct piece_reader *r, uint64_t off, void *buf,
		      size_t len)
{
	uint8_t *p = buf;
	size_t n;
	int rc;

	if (off > r->size || len > r->size - off)
		return efs_error_set(EFS_EINVAL, "piece: bytes %llu+%zu past "
				     "the end of piece %lld (%llu bytes)",
				     (unsigned long long)off, len,
				     (long long)r->piece_id,
				     (unsigned long long)r->size);
	while (len > 0) {
		if (off >= r->index_off)
			n = read_index(r, off, p, len);
		else if ((rc = read_some(&n, r, off, p,
					 min_len(len, r->index_off - off))) < 0)
			return rc;
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

/* ---- open and close ---- */

static int head_load(struct piece_reader *r)
{
	static const char sql[] =
		"SELECT kind, payload, index_off, index_bytes FROM piece"
		" WHERE id = ?1";
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(&st, r->db, sql)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, r->piece_id);
	rc = db_step(r->db, st);
	if (rc == 0)
		rc = efs_error_set(EFS_ENOTFOUND, "piece: no piece %lld",
				   (long long)r->piece_id);
	if (rc > 0) {
		const void *ib = sqlite3_column_blob(st, 3);
		size_t ilen = (size_t)sqlite3_column_bytes(st, 3);

		r->size = (uint64_t)sqlite3_column_int64(st, 1);
		r->index_off = r->size;
		rc = 0;
		if (sqlite3_column_int(st, 0) == PIECE_AGGREGATE) {
			r->index_off = (uint64_t)sqlite3_column_int64(st, 2);
			rc = ilen ? buf_add(&r->index, ib, ilen) : 0;
		}
	}
	db_reset(st);
	if (rc == 0 && (r->index_off > r->size ||
			r->index.len > r->size - r->index_off))
		rc = efs_error_set(EFS_ECORRUPT, "piece: index of piece %lld "
				   "past its end", (long long)r->piece_id);
	return rc;
}

int piece_reader_open(struct piece_reader **out, struct piece_store *ps,
		      int64_t piece_id)
{
	struct piece_reader *r;
	int rc;

	*out = NULL;
	/* a read-only store has no blockstore to read blocks from */
	if ((rc = piece_check_writable(ps, "reader")) < 0)
		return rc;
	if (!(r = efs_calloc(1, sizeof(*r))))
		return efs_error_set(EFS_ENOMEM, "out of memory");
	r->ps = ps;
	r->piece_id = piece_id;
	buf_init(&r->index, BUF_NOCAP);
	buf_init(&r->header, BUF_NOCAP);
	buf_init(&r->block, BUF_NOCAP);
	if ((rc = db_pool_get(&r->db, &ps->rpool)) < 0 ||
	    (rc = head_load(r)) < 0) {
		piece_reader_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

uint64_t piece_reader_size(const struct piece_reader *r)
{
	return r->size;
}

void piece_reader_close(struct piece_reader *r)
{
	if (!r)
		return;
	db_pool_put(&r->ps->rpool, r->db);
	buf_release(&r->index);
	buf_release(&r->header);
	buf_release(&r->block);
	efs_free(r);
}

/* ---- dealer/transfer.h's source shape ---- */

int piece_transfer_open(void **src, uint64_t *size, void *cls,
			int64_t piece_id)
{
	struct piece_reader *r;
	int rc = piece_reader_open(&r, cls, piece_id);

	if (rc < 0)
		return rc;
	*src = r;
	*size = piece_reader_size(r);
	return 0;
}

int piece_transfer_read(void *src, uint64_t off, uint8_t *buf, size_t len)
{
	return piece_reader_read(src, off, buf, len);
}

void piece_transfer_close(void *src)
{
	piece_reader_close(src);
}

const struct transfer_source_ops piece_source_ops = {
	.open = piece_transfer_open,
	.read = piece_transfer_read,
	.close = piece_transfer_close,
};
