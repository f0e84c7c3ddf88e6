/*
 * bstore.c - the blockstore's front: open and recovery, put, get, has,
 * stat, the read connections and the blockio views (see bstore.h; the
 * locking rules are in bstore_i.h).
 *
 * Design notes:
 * - put decides "already stored?" from the pending batches and a read
 *   connection, then appends under mu.  The decision is advisory: sync
 *   re-reads each row inside its transaction and decides there whether a
 *   block is new (count its links), coming back from eviction, or a
 *   duplicate that raced in (its bytes are punched out again).  So two
 *   threads putting the same block at once cost a few wasted bytes, never
 *   a wrong count.
 * - get reads pending blocks from the write buffer or the pack (pread),
 *   synced ones through a read connection; it re-hashes every block.  A
 *   mismatch is looked up once more before it is reported: gc or evict may
 *   have freed the range between the lookup and the pread.
 * - Reads never write: an atime newer than atime_step goes to the touched
 *   map, which sync (or bstore_flush_atimes) writes out in one statement
 *   per block, inside a transaction it commits anyway.
 */
#include "core/bstore_i.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/links.h"
#include "core/varint.h"

#include "core/banned.h"

static const char *const schema[] = {
	/* 1 */
	"CREATE TABLE blocks ("
	" mh BLOB PRIMARY KEY NOT NULL,"
	" codec INTEGER NOT NULL,"
	" state INTEGER NOT NULL,"   /* enum bstore_state */
	" pack INTEGER NOT NULL,"
	" off INTEGER NOT NULL,"     /* of the data in the pack */
	" len INTEGER NOT NULL,"
	" refs INTEGER NOT NULL,"
	" atime INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE INDEX blocks_lru ON blocks(state, atime);"
	"CREATE INDEX blocks_unref ON blocks(atime) WHERE refs = 0;"
	"CREATE TABLE locations ("
	" mh BLOB NOT NULL REFERENCES blocks(mh) ON DELETE CASCADE,"
	" piece BLOB NOT NULL,"
	" off INTEGER NOT NULL,"
	" len INTEGER NOT NULL,"
	" PRIMARY KEY (mh, piece)"
	") WITHOUT ROWID;"
	"CREATE TABLE pins ("
	" id INTEGER PRIMARY KEY,"
	" root BLOB NOT NULL,"       /* binary CID */
	" mh BLOB NOT NULL,"
	" name TEXT NOT NULL,"
	" created INTEGER NOT NULL);"
	"CREATE INDEX pins_mh ON pins(mh);"
	"CREATE TABLE packs ("
	" id INTEGER PRIMARY KEY,"
	" size INTEGER NOT NULL);"   /* bytes the index vouches for */
	"CREATE TABLE totals ("
	" state INTEGER PRIMARY KEY,"
	" count INTEGER NOT NULL,"
	" bytes INTEGER NOT NULL);"
	"INSERT INTO totals VALUES (0, 0, 0), (1, 0, 0), (2, 0, 0);",
	/* 2: retrieval's read-ahead asks which blocks follow one in its
	 * piece (bstore_locations_range) */
	"CREATE INDEX locations_piece ON locations(piece, off);",
};

const char bstore_sql_row_get[] =
	"SELECT codec, state, pack, off, len, refs, atime FROM blocks"
	" WHERE mh = ?1";

int64_t bstore_now(struct bstore *bs)
{
	int64_t t = (int64_t)atomic_load(&bs->test_now);

	return t ? t : (int64_t)time(NULL);
}

/* ---- rows ---- */

int bstore_cid_from_mh(struct cid *out, uint64_t codec, const uint8_t *mh,
		       size_t mh_len)
{
	uint8_t bytes[1 + VARINT_MAX_LEN + BSTORE_MH_MAX];
	size_t n;

	if (mh_len == 0 || mh_len > BSTORE_MH_MAX || codec > INT64_MAX)
		return efs_error_set(EFS_ECORRUPT,
				     "bstore: bad key in index (%zu bytes)",
				     mh_len);
	bytes[0] = 1;
	n = 1 + varint_encode(bytes + 1, codec);
	memcpy(bytes + n, mh, mh_len);
	if (cid_from_bytes_exact(out, bytes, n + mh_len) < 0)
		return efs_error_set(EFS_ECORRUPT,
				     "bstore: index key is not a multihash");
	return 0;
}

int bstore_row_check(struct bstore *bs, const struct bstore_row *row)
{
	uint64_t size;

	if (row->state != BSTORE_LOCAL)
		return 0;
	if (row->pack == 0 || row->off < PACK_HEADER_SIZE ||
	    row->len > BSTORE_LEN_HARD_MAX)
		return efs_error_set(EFS_ECORRUPT,
				     "bstore: index row out of range (pack %"
				     PRIu32 " offset %" PRIu64 ")", row->pack,
				     row->off);
	pthread_mutex_lock(&bs->mu);
	size = bstore_pack_size_locked(bs, row->pack);
	pthread_mutex_unlock(&bs->mu);
	if (row->off + row->len > size)
		return efs_error_set(EFS_ECORRUPT,
				     "bstore: block at %" PRIu64 "+%" PRIu32
				     " past the end of pack %" PRIu32
				     " (%" PRIu64 ")", row->off, row->len,
				     row->pack, size);
	return 0;
}

int bstore_row_decode(struct bstore_row *out, sqlite3_stmt *st, int col)
{
	sqlite3_int64 codec = sqlite3_column_int64(st, col);
	sqlite3_int64 state = sqlite3_column_int64(st, col + 1);
	sqlite3_int64 pack = sqlite3_column_int64(st, col + 2);
	sqlite3_int64 off = sqlite3_column_int64(st, col + 3);
	sqlite3_int64 len = sqlite3_column_int64(st, col + 4);
	sqlite3_int64 refs = sqlite3_column_int64(st, col + 5);

	if (codec < 0 || state < 0 || state >= BSTORE_NSTATES || pack < 0 ||
	    pack >= UINT32_MAX || off < 0 || len < 0 ||
	    len > BSTORE_LEN_HARD_MAX || refs < 0)
		return efs_error_set(EFS_ECORRUPT,
				     "bstore: malformed index row");
	out->codec = (uint64_t)codec;
	out->state = (enum bstore_state)state;
	out->pack = (uint32_t)pack;
	out->off = (uint64_t)off;
	out->len = (uint32_t)len;
	out->refs = refs;
	out->atime = sqlite3_column_int64(st, col + 6);
	return 0;
}

int bstore_column_cid(struct cid *out, sqlite3_stmt *st, int col)
{
	return cid_from_bytes_exact(out, sqlite3_column_blob(st, col),
				    (size_t)sqlite3_column_bytes(st, col));
}

int bstore_row_get(struct bstore_row *out, struct bstore *bs, struct db *db,
		   const uint8_t *mh, size_t mh_len)
{
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, db, bstore_sql_row_get)) < 0)
		return error;
	sqlite3_bind_blob(st, 1, mh, (int)mh_len, SQLITE_STATIC);
	error = db_step(db, st);
	if (error > 0)
		error = bstore_row_decode(out, st, 0);
	else if (error == 0)
		error = EFS_ENOTFOUND;
	db_reset(st);
	if (error == 0)
		error = bstore_row_check(bs, out);
	return error;
}

static int row_lookup(struct bstore_row *out, struct bstore *bs,
		      const uint8_t *mh, size_t mh_len)
{
	struct db *db;
	int error;

	if ((error = db_pool_get(&db, &bs->rpool)) < 0)
		return error;
	error = bstore_row_get(out, bs, db, mh, mh_len);
	db_pool_put(&bs->rpool, db);
	return error;
}

/* ---- links ---- */

static int collect_one(const struct cid *id, void *payload)
{
	uint8_t bytes[CID_BYTES_MAX];

	/* No block, or a multihash too long to key (and to verify). */
	if (cid_is_identity(id) || cid_mh_to_bytes(bytes, id) > BSTORE_MH_MAX)
		return 0;
	return buf_add(payload, bytes, cid_to_bytes(bytes, id));
}

int bstore_links_collect(struct buf *out, const struct cid *id,
			 const uint8_t *data, size_t len)
{
	int error;

	if (!links_codec_known(id->codec))
		return 0;
	error = links_foreach(id, data, len, collect_one, out);
	if (error == EFS_EUNSUPPORTED) {
		buf_reset(out);
		return 0;
	}
	return error;
}

/* ---- open and close ---- */

static int check_opts(const struct bstore_opts *o)
{
	const char *bad = NULL;

	if (o->pack_size < 4096)
		bad = "pack_size under 4096";
	else if (o->block_max == 0 || o->block_max > BSTORE_LEN_HARD_MAX)
		bad = "block_max not in 1..64 MiB";
	else if (o->write_buffer < 4096)
		bad = "write_buffer under 4096";
	else if (o->batch_count == 0 || o->batch_bytes == 0)
		bad = "batch_count or batch_bytes 0";
	else if (o->gc_grace < 0 || o->atime_step < 0 || o->atime_flush < 0)
		bad = "negative gc_grace, atime_step or atime_flush";
	if (bad)
		return efs_error_set(EFS_EINVAL, "bstore: bad options: %s",
				     bad);
	return 0;
}

static void free_all(struct bstore *bs)
{
	db_pool_release(&bs->rpool);
	db_close(bs->wdb);
	bstore_pack_release(bs);
	bstore_batch_release(&bs->open);
	bstore_touch_release(&bs->touched);
	pthread_mutex_destroy(&bs->mu);
	pthread_mutex_destroy(&bs->wlock);
	pthread_rwlock_destroy(&bs->gc_lock);
	pthread_mutex_destroy(&bs->wmu);
	if (bs->lockfd >= 0)
		close(bs->lockfd);
	efs_free(bs->db_path);
	efs_free(bs->dir);
	efs_free(bs);
}

static int init_locks(struct bstore *bs)
{
	pthread_rwlockattr_t attr;
	int rc;

	pthread_rwlockattr_init(&attr);
	/* gc must not starve behind a stream of puts. */
	pthread_rwlockattr_setkind_np(
		&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	rc = pthread_rwlock_init(&bs->gc_lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	if (rc)
		return efs_error_set(EFS_ENOMEM, "bstore: rwlock init failed");
	pthread_mutex_init(&bs->wmu, NULL);
	pthread_mutex_init(&bs->wlock, NULL);
	pthread_mutex_init(&bs->mu, NULL);
	return 0;
}

static int take_lock(struct bstore *bs)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/bstore.lock", bs->dir);
	bs->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (bs->lockfd < 0)
		return efs_error_set_errno(EFS_EIO, errno, "bstore: open %s",
					   path);
	if (flock(bs->lockfd, LOCK_EX | LOCK_NB) < 0)
		return efs_error_set_errno(
		    errno == EWOULDBLOCK ? EFS_EEXISTS : EFS_EIO, errno,
		    "bstore: %s is in use", bs->dir);
	return 0;
}

static int alloc_store(struct bstore **out, const char *dir,
		       const struct bstore_opts *opts)
{
	struct bstore *bs = efs_calloc(1, sizeof(*bs));
	size_t n = strlen(dir) + sizeof("/index.db");

	if (!bs)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	bs->lockfd = -1;
	bs->pk.dirfd = -1;
	bs->opts = *opts;
	bs->opts.write_buffer = (opts->write_buffer + PACK_ALIGN - 1) &
				~(size_t)(PACK_ALIGN - 1);
	bs->dir = efs_strdup(dir);
	bs->db_path = efs_malloc(n);
	if (bs->db_path)
		snprintf(bs->db_path, n, "%s/index.db", dir);
	if (!bs->dir || !bs->db_path ||
	    db_pool_init(&bs->rpool, bs->db_path, opts->read_conns) < 0 ||
	    init_locks(bs) < 0) {
		db_pool_release(&bs->rpool);
		efs_free(bs->db_path);
		efs_free(bs->dir);
		efs_free(bs);
		return efs_error_set(EFS_ENOMEM, "out of memory");
	}
	*out = bs;
	return 0;
}

int bstore_open(struct bstore **out, const char *dir,
		const struct bstore_opts *opts)
{
	static const struct bstore_opts defaults = BSTORE_OPTS_INIT;
	struct bstore *bs = NULL;
	bool fresh = false;
	int error;

	if (!opts)
		opts = &defaults;
	if ((error = check_opts(opts)) < 0)
		return error;
	/* Room for dir/bstore.lock and dir/packs in the path buffers. */
	if (strlen(dir) + sizeof("/bstore.lock") > PATH_MAX)
		return efs_error_set(EFS_EINVAL,
				     "bstore: repository path too long (%zu bytes)",
				     strlen(dir));
	if ((error = alloc_store(&bs, dir, opts)) < 0)
		return error;
	if ((error = take_lock(bs)) < 0 ||
	    (error = db_open(&bs->wdb, bs->db_path,
			     DB_OPEN_CREATE | DB_OPEN_CHECKPOINTER)) < 0 ||
	    (error = db_migrate(bs->wdb, &fresh, "bstore", schema,
				sizeof(schema) / sizeof(schema[0]))) < 0 ||
	    (error = bstore_pack_init(bs)) < 0 ||
	    (error = bstore_recover(bs, fresh)) < 0) {
		free_all(bs);
		return error;
	}
	bs->last_flush = bstore_now(bs);
	*out = bs;
	return 0;
}

int bstore_close(struct bstore *bs)
{
	int error;
	int error2;

	if (!bs)
		return 0;
	error = bstore_sync(bs);
	error2 = bstore_flush_atimes(bs);
	pthread_mutex_lock(&bs->wlock);
	bstore_pack_trim(bs);
	pthread_mutex_unlock(&bs->wlock);
	free_all(bs);
	return error < 0 ? error : error2;
}

void bstore_test_fail(struct bstore *bs, enum bstore_fault where, int errnum,
		      int after)
{
	pthread_mutex_lock(&bs->mu);
	bs->pk.fail_errno[where] = errnum;
	bs->pk.fail_after[where] = after;
	pthread_mutex_unlock(&bs->mu);
}

void bstore_test_fsync_delay(struct bstore *bs, int ms)
{
	pthread_mutex_lock(&bs->mu);
	bs->pk.fsync_delay_ms = ms;
	pthread_mutex_unlock(&bs->mu);
}

void bstore_test_clock(struct bstore *bs, int64_t now)
{
	atomic_store(&bs->test_now, (long long)now);
}

/* ---- put ---- */

int bstore_key(uint8_t *mh, size_t *mh_len, const struct cid *id)
{
	uint8_t tmp[CID_MH_BYTES_MAX];
	size_t n = cid_mh_to_bytes(tmp, id);

	if (n > BSTORE_MH_MAX)
		return efs_error_set(EFS_EUNSUPPORTED,
				     "bstore: %zu-byte multihash", n);
	memcpy(mh, tmp, n);
	*mh_len = n;
	return 0;
}

static void touch(struct bstore *bs, const uint8_t *mh, size_t mh_len)
{
	int64_t now = bstore_now(bs);

	pthread_mutex_lock(&bs->mu);
	if (!bstore_touch_set(&bs->touched, bs->opts.touch_max, mh, mh_len,
			      now))
		bs->touch_dropped++;
	pthread_mutex_unlock(&bs->mu);
}

/* Is it stored already?  1 yes (touched), 0 no, or an error. */
static int put_stored(struct bstore *bs, const uint8_t *mh, size_t mh_len)
{
	struct bstore_row row;
	bool pending;
	int error;

	pthread_mutex_lock(&bs->mu);
	pending = bstore_pending_locked(bs, mh, mh_len) != NULL;
	pthread_mutex_unlock(&bs->mu);
	if (pending)
		return 1;
	error = row_lookup(&row, bs, mh, mh_len);
	if (error == EFS_ENOTFOUND)
		return 0;
	if (error < 0)
		return error;
	if (row.state != BSTORE_LOCAL)
		return 0;
	touch(bs, mh, mh_len);
	return 1;
}

static int put_append(struct bstore *bs, struct pend *p, struct buf *links,
		      const uint8_t *data, size_t len, bool *need_sync)
{
	int error;

	pthread_mutex_lock(&bs->wlock);
	pthread_mutex_lock(&bs->mu);
	if (bstore_pending_locked(bs, p->mh, p->mh_len))
		error = 1;
	else
		error = bstore_batch_reserve(&bs->open);
	pthread_mutex_unlock(&bs->mu);
	if (error)
		goto out;
	error = bstore_pack_append(bs, &bs->open, p, data, len);
	pthread_mutex_lock(&bs->mu);
	if (error < 0) {
		bstore_fail_locked(bs, error);
	} else {
		p->links_len = (uint32_t)links->len;
		p->links = buf_detach(links, NULL);
		bstore_batch_add(&bs->open, p);
		*need_sync = bs->open.bytes >= bs->opts.batch_bytes ||
			     bs->open.n >= bs->opts.batch_count;
	}
	pthread_mutex_unlock(&bs->mu);
out:
	pthread_mutex_unlock(&bs->wlock);
	return error;
}

static int put_check(struct bstore *bs, const struct cid *id, size_t len)
{
	char s[CID_STR_MAX];

	if (len > bs->opts.block_max)
		return efs_error_set(EFS_ETOOBIG,
				     "bstore: block %s of %zu bytes (max %zu)",
				     cid_tostr(s, id), len,
				     bs->opts.block_max);
	if (!mhash_can_compute(id->hash))
		return efs_error_set(EFS_EUNSUPPORTED,
				     "bstore: cannot verify hash 0x%llx",
				     (unsigned long long)id->hash);
	return 0;
}

int bstore_put(struct bstore *bs, const struct cid *id, const uint8_t *data,
	       size_t len)
{
	struct buf links = BUF_INIT(BUF_NOCAP);
	struct pend p;
	size_t mh_len;
	bool need_sync = false;
	int error;

	if (cid_is_identity(id))
		return 0;
	memset(&p, 0, sizeof(p));
	if ((error = put_check(bs, id, len)) < 0 ||
	    (error = bstore_key(p.mh, &mh_len, id)) < 0)
		goto out;
	p.mh_len = (uint8_t)mh_len;
	p.codec = id->codec;
	pthread_rwlock_rdlock(&bs->gc_lock);
	error = put_stored(bs, p.mh, mh_len);
	if (error == 0)
		error = bstore_links_collect(&links, id, data, len);
	if (error == 0)
		error = put_append(bs, &p, &links, data, len, &need_sync);
	pthread_rwlock_unlock(&bs->gc_lock);
	if (error > 0)
		error = 0;
	if (!error && need_sync)
		error = bstore_sync(bs);
out:
	buf_release(&links);
	return error;
}

/* ---- get ---- */

int bstore_read_verify(struct bstore *bs, const struct cid *id,
		       const struct bstore_row *row, struct buf *out)
{
	int error;

	if ((error = buf_grow(out, row->len)) < 0)
		return error;
	if ((error = bstore_pack_pread(bs, out->ptr + out->len, row->pack,
				       row->off, row->len)) < 0 ||
	    (error = cid_verify(id, out->ptr + out->len, row->len)) < 0) {
		out->ptr[out->len] = '\0';
		return error;
	}
	out->len += row->len;
	out->ptr[out->len] = '\0';
	return 0;
}

/* Where the bytes of mh are: pending (partly copied already) or a row. */
struct found {
	struct bstore_row row;
	bool pending;
	size_t on_disk;           /* pending: leading bytes still to pread */
};

static int locate(struct found *f, struct bstore *bs, const uint8_t *mh,
		  size_t mh_len, struct buf *out)
{
	struct pend *p;
	int error = 0;

	memset(f, 0, sizeof(*f));
	pthread_mutex_lock(&bs->mu);
	p = bstore_pending_locked(bs, mh, mh_len);
	if (p) {
		f->pending = true;
		f->row.state = BSTORE_LOCAL;
		f->row.pack = p->pack;
		f->row.off = p->off;
		f->row.len = p->len;
		f->row.codec = p->codec;
		if ((error = buf_grow(out, p->len)) == 0)
			f->on_disk = bstore_pack_read_buffered(
				bs, out->ptr + out->len, p->pack, p->off,
				p->len);
	}
	pthread_mutex_unlock(&bs->mu);
	if (error < 0 || p)
		return error;
	return row_lookup(&f->row, bs, mh, mh_len);
}

static int read_found(struct bstore *bs, const struct cid *id,
		      const struct found *f, struct buf *out)
{
	char s[CID_STR_MAX];
	int error;

	if (f->row.state == BSTORE_EVICTED)
		return efs_error_set(EFS_EEVICTED, "bstore: %s is evicted",
				     cid_tostr(s, id));
	if (f->row.state == BSTORE_ABSENT)
		return efs_error_set(EFS_ENOTFOUND, "bstore: %s not found",
				     cid_tostr(s, id));
	if (!f->pending)
		return bstore_read_verify(bs, id, &f->row, out);
	if ((f->on_disk &&
	     (error = bstore_pack_pread(bs, out->ptr + out->len, f->row.pack,
					f->row.off, f->on_disk)) < 0) ||
	    (error = cid_verify(id, out->ptr + out->len, f->row.len)) < 0) {
		out->ptr[out->len] = '\0';
		return error;
	}
	out->len += f->row.len;
	out->ptr[out->len] = '\0';
	return 0;
}

static bool same_place(const struct found *a, const struct found *b)
{
	return a->row.state == b->row.state && a->row.pack == b->row.pack &&
	       a->row.off == b->row.off && a->row.len == b->row.len;
}

int bstore_get(struct bstore *bs, const struct cid *id, struct buf *out)
{
	uint8_t mh[BSTORE_MH_MAX];
	size_t mh_len;
	struct found f;
	struct found again;
	char s[CID_STR_MAX];
	int error;

	if (cid_is_identity(id))
		return buf_add(out, id->digest, id->digest_len);
	if (bstore_key(mh, &mh_len, id) < 0)
		return efs_error_set(EFS_ENOTFOUND, "bstore: %s not found",
				     cid_tostr(s, id));
	error = locate(&f, bs, mh, mh_len, out);
	for (int tries = 0; error == 0 && tries < 3; tries++) {
		error = read_found(bs, id, &f, out);
		if (error != EFS_EMISMATCH && error != EFS_ECORRUPT &&
		    error != EFS_EIO)
			break;
		/* Freed or moved under us?  Then read it where it is now. */
		if (locate(&again, bs, mh, mh_len, out) < 0 ||
		    same_place(&f, &again))
			break;
		f = again;
	}
	if (error == EFS_ENOTFOUND)
		error = efs_error_set(EFS_ENOTFOUND, "bstore: %s not found",
				      cid_tostr(s, id));
	if (!error && !f.pending &&
	    bstore_now(bs) - f.row.atime >= bs->opts.atime_step)
		touch(bs, mh, mh_len);
	return error;
}

bool bstore_has(struct bstore *bs, const struct cid *id)
{
	uint8_t mh[BSTORE_MH_MAX];
	size_t mh_len;
	struct bstore_row row;
	bool pending;

	if (cid_is_identity(id))
		return true;
	if (bstore_key(mh, &mh_len, id) < 0)
		return false;
	pthread_mutex_lock(&bs->mu);
	pending = bstore_pending_locked(bs, mh, mh_len) != NULL;
	pthread_mutex_unlock(&bs->mu);
	if (pending)
		return true;
	return row_lookup(&row, bs, mh, mh_len) == 0 &&
	       row.state == BSTORE_LOCAL;
}

int bstore_stat(struct bstore_stat *out, struct bstore *bs,
		const struct cid *id)
{
	uint8_t mh[BSTORE_MH_MAX];
	size_t mh_len;
	struct bstore_row row;
	struct pend *p;
	char s[CID_STR_MAX];
	int error;

	memset(out, 0, sizeof(*out));
	if ((error = bstore_key(mh, &mh_len, id)) < 0)
		return error;
	pthread_mutex_lock(&bs->mu);
	p = bstore_pending_locked(bs, mh, mh_len);
	if (p) {
		out->pending = true;
		out->size = p->len;
		out->id = cid_to_v1(id);
		out->id.codec = p->codec;
	}
	pthread_mutex_unlock(&bs->mu);
	error = row_lookup(&row, bs, mh, mh_len);
	if (error == EFS_ENOTFOUND && out->pending)
		return 0;
	if (error == EFS_ENOTFOUND)
		return efs_error_set(EFS_ENOTFOUND, "bstore: %s not found",
				     cid_tostr(s, id));
	if (error < 0)
		return error;
	out->refs = row.refs;
	out->atime = row.atime;
	if (out->pending)
		return 0;
	out->state = row.state;
	out->size = row.len;
	return bstore_cid_from_mh(&out->id, row.codec, mh, mh_len);
}

/* ---- blockio ---- */

static int sink_put(void *payload, const struct cid *id, const uint8_t *data,
		    size_t len)
{
	return bstore_put(payload, id, data, len);
}

static int source_get(void *payload, const struct cid *id, struct buf *out)
{
	return bstore_get(payload, id, out);
}

struct blockio_sink bstore_sink(struct bstore *bs)
{
	struct blockio_sink s = { sink_put, bs };

	return s;
}

struct blockio_source bstore_source(struct bstore *bs)
{
	struct blockio_source s = { source_get, bs };

	return s;
}
