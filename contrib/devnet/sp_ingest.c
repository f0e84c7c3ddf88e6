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
 * offset).  A zero-length section ends a CAR cleanly (go-car's
 * ZeroLengthSectionAsEOF, which Curio reads pieces with: a CAR followed
 * by the zeros that fill its piece).  A piece that is not a CAR, or a CAR
 * that breaks off, keeps the blocks read before the fault: the deal goes
 * on, as it does on a real SP, only retrieval by CID is poorer.
 *
 * Aggregates (FRC-0058): before the CAR reading, the data segment index
 * at the end of the piece's payload is parsed (core/datasegment: the
 * entries go-data-segment's ValidEntries keeps, offsets in range).  When
 * it names sub-pieces, the piece is an aggregate: each sub-piece is read
 * as a CAR at its offset (entry offset * 127 / 128 in the file), its
 * CommP computed in the same pass (the reader's header and sections,
 * then whatever of the sub-piece they do not cover), and the blocks of
 * each sub-piece that hashes to its entry's commitment are indexed with
 * their offsets in the aggregate's file, so /ipfs and IPNI serve the
 * blocks of every sub-piece; a sub-piece that does not hash to its entry
 * loses its places again and is skipped with a warning.  A payload
 * shorter than the piece's unpadded size reads as zeros past its end, as
 * the sealed piece does.
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
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/car.h"
#include "core/carv2.h"
#include "core/datasegment.h"
#include "core/error.h"
#include "core/fdio.h"

#define LOG_TOPIC "sp"
#include "core/log.h"

#include "core/banned.h"

/* Bytes read at a time for the parts of a sub-piece its CAR leaves. */
#define SUB_CHUNK ((size_t)1 << 20)

/*
 * A sub-piece's CommP over [pos, end) of the file fd, fed in order as the
 * CAR is read (hash_read); what the reader does not hand over (a CARv2's
 * header, the zeros after the CAR) is read here, zeros past the file's
 * end.
 */
struct sub_hash {
	struct commp *c;
	int fd;
	uint64_t size;  /* of the file */
	uint64_t pos;   /* the next byte to hash */
	uint64_t end;
	uint8_t *chunk; /* SUB_CHUNK bytes */
};

/* Where the inner CARv1 starts relative to the CAR at start of the file
 * fd (0 for a CARv1). */
static uint64_t data_offset(int fd, int version, uint64_t start)
{
	uint8_t h[CARV2_HEADER_LEN];
	struct carv2_header hdr;

	if (version != 2 ||
	    fdio_pread(fd, h, sizeof(h), start + CARV2_PRAGMA_LEN) !=
		    (ssize_t)sizeof(h) ||
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

/* True when the byte at off is a zero (a zero-length section's varint)
 * or past the end of the file. */
static bool zero_at(int fd, uint64_t off)
{
	uint8_t b = 0;

	return fdio_pread(fd, &b, 1, off) <= 1 && b == 0;
}

/* Hash the file's bytes from h->pos up to `to` (at most h->end). */
static int hash_file(struct sub_hash *h, uint64_t to)
{
	int rc = 0;

	if (to > h->end)
		to = h->end;
	while (rc == 0 && h->pos < to) {
		size_t n = to - h->pos < SUB_CHUNK ? (size_t)(to - h->pos)
						   : SUB_CHUNK;
		ssize_t r = 0;

		memset(h->chunk, 0, n);
		if (h->pos < h->size)
			r = fdio_pread(h->fd, h->chunk, n, h->pos);
		if (r < 0)
			return efs_error_set_errno(EFS_EIO, errno,
						   "sp: read piece");
		rc = commp_update(h->c, h->chunk, n);
		h->pos += n;
	}
	return rc;
}

/* Hash the n bytes p that the reader found at file offset at, after the
 * bytes before them; no-op when h is NULL.  Bytes already hashed or past
 * h->end are left out. */
static int hash_read(struct sub_hash *h, uint64_t at, const uint8_t *p,
		     uint64_t n)
{
	int rc;

	if (!h)
		return 0;
	if ((rc = hash_file(h, at)) < 0 || at != h->pos)
		return rc;
	if (n > h->end - at)
		n = h->end - at;
	h->pos += n;
	return commp_update(h->c, p, (size_t)n);
}

/*
 * Read the CAR at [start, end) of the file fd (name: for messages): its
 * blocks' places, as file offsets, into places; with h, hash the bytes
 * read into it as well.  Fails only when memory runs out or, with h, the
 * file cannot be read.
 */
static int index_car_at(struct buf *places, size_t *count, int fd,
			uint64_t start, uint64_t end, const char *name,
			struct sub_hash *h)
{
	struct car_reader *r = NULL;
	const uint8_t *hdr;
	struct car_block b;
	uint64_t base, next;
	size_t hlen;
	int rc;

	*count = 0;
	if (lseek(fd, (off_t)start, SEEK_SET) < 0 ||
	    (rc = car_reader_open_fd(&r, fd)) < 0) {
		efs_log_info("%s is not a CAR (%s): not indexed", name,
			     efs_error_msg());
		rc = 0;
		goto out;
	}
	base = start + data_offset(fd, car_reader_version(r), start);
	hdr = car_reader_header_bytes(r, &hlen);
	if ((rc = hash_read(h, base, hdr, hlen)) < 0)
		goto out;
	next = hlen;
	while ((rc = car_reader_next(r, &b)) == 0) {
		if (base + b.info.block_offset + b.info.block_len > end)
			break;
		if ((rc = place_add(places, &b.info, base)) < 0 ||
		    (rc = hash_read(h, base + b.info.section_offset, b.section,
				    b.info.section_len)) < 0)
			goto out;
		next = b.info.block_offset + b.info.block_len;
		(*count)++;
	}
	if (rc == 0)
		efs_log_warn("%s: CAR runs past its piece after %zu blocks",
			     name, *count);
	else if (rc != EFS_ITEROVER &&
		 !(rc == EFS_ECORRUPT && zero_at(fd, base + next)))
		efs_log_warn("%s: CAR breaks off after %zu blocks: %s", name,
			     *count, efs_error_msg());
	rc = 0;
out:
	car_reader_free(r);
	return rc;
}

/* The entries of the data segment index at the end of piece p's payload
 * (file fd of size bytes); none when p is not an aggregate. */
static int read_index(struct datasegment_entry **out, size_t *n, int fd,
		      uint64_t size, const struct commp_piece *p)
{
	uint64_t at = datasegment_index_unpadded_offset(p->padded_size);
	uint64_t len = datasegment_index_unpadded_size(p->padded_size);
	uint8_t *tail;
	ssize_t got = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (len == 0)
		return 0;
	if (!(tail = efs_calloc(1, (size_t)len)))
		return efs_error_set(EFS_ENOMEM, "out of memory");
	if (at < size)
		got = fdio_pread(fd, tail, (size_t)(size - at < len ? size - at
								    : len),
				 at);
	if (got < 0)
		rc = efs_error_set_errno(EFS_EIO, errno, "sp: read piece");
	else
		rc = datasegment_index_parse(out, n, tail, (size_t)len,
					     p->padded_size);
	efs_free(tail);
	return rc;
}

/* Index each sub-piece of an aggregate whose CommP checks out. */
static int index_aggregate(struct buf *places, size_t *count, size_t *subs,
			   int fd, uint64_t size, const char *path,
			   const struct datasegment_entry *e, size_t n)
{
	struct sub_hash h = { .fd = fd, .size = size };
	int rc = commp_new(&h.c, 1);

	if (rc == 0 && !(h.chunk = efs_malloc(SUB_CHUNK)))
		rc = efs_error_set(EFS_ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char name[SP_PATH_MAX + 32];
		struct commp_piece got;
		uint64_t start = e[i].offset / 128 * 127;
		size_t mark = places->len, c;

		commp_reset(h.c);
		h.pos = start;
		h.end = start + e[i].size / 128 * 127;
		snprintf(name, sizeof(name), "%s sub-piece %zu", path, i);
		if ((rc = index_car_at(places, &c, fd, start, h.end, name,
				       &h)) < 0 ||
		    (rc = hash_file(&h, h.end)) < 0)
			break;
		commp_finish(&got, h.c);
		if (got.padded_size != e[i].size ||
		    memcmp(got.root, e[i].comm, COMMP_NODE_SIZE)) {
			efs_log_warn("%s: bytes do not match its index entry:"
				     " not indexed", name);
			buf_truncate(places, mark);
			continue;
		}
		*count += c;
		(*subs)++;
	}
	efs_free(h.chunk);
	commp_free(h.c);
	return rc;
}

/* Read the piece p at path: an aggregate's sub-pieces, or one CAR. */
static int index_piece(struct buf *places, size_t *count, size_t *subs,
		       const char *path, const struct commp_piece *p)
{
	struct datasegment_entry *e = NULL;
	struct stat stbuf;
	size_t n = 0;
	int fd, rc;

	*count = 0;
	*subs = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return efs_error_set_errno(EFS_EIO, errno, "sp: open %s", path);
	if (fstat(fd, &stbuf) != 0)
		rc = efs_error_set_errno(EFS_EIO, errno, "sp: stat %s", path);
	else
		rc = read_index(&e, &n, fd, (uint64_t)stbuf.st_size, p);
	if (rc == 0 && n > 0)
		rc = index_aggregate(places, count, subs, fd,
				     (uint64_t)stbuf.st_size, path, e, n);
	else if (rc == 0)
		rc = index_car_at(places, count, fd, 0,
				  (uint64_t)stbuf.st_size, path, NULL);
	efs_free(e);
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
	size_t nblocks, nsubs;
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
	if ((rc = index_piece(&places, &nblocks, &nsubs, abs, p)) < 0 ||
	    (rc = db_begin(db)) < 0)
		goto out;
	if ((rc = insert_piece(piece_id, db, sp, p, rel)) < 0 ||
	    (rc = insert_blocks(db, *piece_id, &places)) < 0 ||
	    (rc = db_commit(db)) < 0) {
		db_rollback(db);
		goto out;
	}
	if (nsubs)
		efs_log_info("miner f0%llu: aggregate piece %s stored, %zu "
			     "blocks of %zu sub-pieces indexed",
			     (unsigned long long)sp->m->id, cs, nblocks, nsubs);
	else
		efs_log_info("miner f0%llu: piece %s stored, %zu blocks "
			     "indexed", (unsigned long long)sp->m->id, cs,
			     nblocks);
out:
	buf_release(&places);
	return rc;
}
