/*
 * bstore_gc.c - the blockstore's lifecycle beyond put and get: pins,
 * garbage collection, eviction, recorded locations, the LRU walk and the
 * counters (see bstore.h).
 *
 * Reference counts (bstore.h invariant 2) change only inside the writer's
 * transactions: sync counts the links of newly stored blocks, pin and
 * unpin move the root's count, gc uncounts the links of what it deletes.
 * Evicted blocks never have links (invariant 3), so gc never needs the
 * bytes of an evicted block to cascade.
 *
 * gc against concurrent puts: gc first syncs and flushes atimes, so every
 * block put or read before it started is in the index with a fresh atime.
 * Then, per batch of candidates (wmu held throughout, so no other writer
 * changes a row): it selects the batch and reads the links of the LOCAL
 * candidates with no lock but wmu; then it holds gc_lock exclusively for
 * the transaction that deletes them: a put that decided "already stored"
 * holds it shared until its block is pending or touched, so gc sees that
 * decision and skips the block; it also skips blocks that pending blocks
 * link to (a parent put while gc runs).  Raw blocks are never read: they
 * have no links to uncount.
 */
#include "core/bstore_i.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/links.h"

#include "core/banned.h"

/* ---- pins ---- */

static int pin_mode(int64_t *out, struct bstore *bs, const struct cid *root,
		    const char *name, bool full)
{
	static const char sql[] =
		"INSERT INTO pins(root, mh, name, created)"
		" VALUES (?1, ?2, ?3, ?4)";
	uint8_t bytes[CID_BYTES_MAX];
	uint8_t mh[BSTORE_MH_MAX];
	size_t mh_len;
	size_t n = cid_to_bytes(bytes, root);
	sqlite3_stmt *st;
	int error;

	if (cid_is_identity(root))
		return efs_error_set(EFS_EINVAL, "bstore: pin of identity cid");
	if ((error = bstore_key(mh, &mh_len, root)) < 0)
		return error;
	pthread_mutex_lock(&bs->wmu);
	if ((error = bstore_begin_mode(bs, full)) < 0)
		goto out_unlock;
	if ((error = db_stmt(&st, bs->wdb, sql)) < 0)
		goto out_end;
	sqlite3_bind_blob(st, 1, bytes, (int)n, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, mh, (int)mh_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name ? name : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, bstore_now(bs));
	if ((error = db_run(bs->wdb, st)) < 0)
		goto out_end;
	*out = sqlite3_last_insert_rowid(db_handle(bs->wdb));
	error = bstore_refs_add(bs, root, 1);
out_end:
	error = bstore_end_mode(bs, full, error);
out_unlock:
	pthread_mutex_unlock(&bs->wmu);
	return error;
}

int bstore_pin(int64_t *out, struct bstore *bs, const struct cid *root,
	       const char *name)
{
	return pin_mode(out, bs, root, name, true);
}

int bstore_pin_deferred(int64_t *out, struct bstore *bs,
			const struct cid *root, const char *name)
{
	return pin_mode(out, bs, root, name, false);
}

struct pin_find {
	const struct cid *root;
	const char *name;
	int64_t id;               /* the pin found, or 0 */
};

static int pin_match(const struct bstore_pin *pin, void *payload)
{
	struct pin_find *f = payload;

	if (cid_equal(&pin->root, f->root) && strcmp(pin->name, f->name) == 0) {
		f->id = pin->id;
		return 1;
	}
	return 0;
}

int bstore_pin_once(int64_t *out, struct bstore *bs, const struct cid *root,
		    const char *name)
{
	struct pin_find f = { root, name, 0 };
	int rc;

	if ((rc = bstore_pins_foreach(bs, pin_match, &f)) < 0)
		return rc;
	if (!f.id && (rc = bstore_pin(&f.id, bs, root, name)) < 0)
		return rc;
	if (out)
		*out = f.id;
	return 0;
}

/* The root of pin id, read in the writer's transaction. */
static int pin_root(struct cid *out, struct bstore *bs, int64_t id)
{
	static const char sql[] = "SELECT root FROM pins WHERE id = ?1";
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, bs->wdb, sql)) < 0)
		return error;
	sqlite3_bind_int64(st, 1, id);
	error = db_step(bs->wdb, st);
	if (error == 0)
		error = efs_error_set(EFS_ENOTFOUND, "bstore: no pin %" PRId64,
				      id);
	else if (error > 0)
		error = bstore_column_cid(out, st, 0);
	db_reset(st);
	return error;
}

static int unpin_mode(struct bstore *bs, int64_t pin_id, bool full)
{
	static const char sql[] = "DELETE FROM pins WHERE id = ?1";
	struct cid root;
	sqlite3_stmt *st;
	int error;

	pthread_mutex_lock(&bs->wmu);
	if ((error = bstore_begin_mode(bs, full)) < 0)
		goto out_unlock;
	if ((error = pin_root(&root, bs, pin_id)) < 0 ||
	    (error = db_stmt(&st, bs->wdb, sql)) < 0)
		goto out_end;
	sqlite3_bind_int64(st, 1, pin_id);
	if ((error = db_run(bs->wdb, st)) == 0)
		error = bstore_refs_add(bs, &root, -1);
out_end:
	error = bstore_end_mode(bs, full, error);
out_unlock:
	pthread_mutex_unlock(&bs->wmu);
	return error;
}

int bstore_unpin(struct bstore *bs, int64_t pin_id)
{
	return unpin_mode(bs, pin_id, true);
}

int bstore_unpin_deferred(struct bstore *bs, int64_t pin_id)
{
	return unpin_mode(bs, pin_id, false);
}

static int pins_walk(struct db *db,
		     int (*cb)(const struct bstore_pin *pin, void *payload),
		     void *payload)
{
	static const char sql[] =
		"SELECT id, root, name, created FROM pins ORDER BY id";
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, db, sql)) < 0)
		return error;
	while ((error = db_step(db, st)) > 0) {
		struct bstore_pin pin;
		const char *name = (const char *)sqlite3_column_text(st, 2);

		pin.id = sqlite3_column_int64(st, 0);
		pin.name = name ? name : "";
		pin.created = sqlite3_column_int64(st, 3);
		error = bstore_column_cid(&pin.root, st, 1);
		if (error < 0 || (error = cb(&pin, payload)) != 0)
			break;
	}
	db_reset(st);
	return error;
}

int bstore_pins_foreach(struct bstore *bs,
			int (*cb)(const struct bstore_pin *pin, void *payload),
			void *payload)
{
	struct db *db;
	int error;

	if ((error = db_pool_get(&db, &bs->rpool)) < 0)
		return error;
	error = pins_walk(db, cb, payload);
	db_pool_put(&bs->rpool, db);
	return error;
}

/* ---- gc ---- */

#define GC_BATCH 256

struct gc_cand {
	uint8_t mh[BSTORE_MH_MAX];
	uint8_t mh_len;
	struct bstore_row row;
};

struct gc_run {
	struct gc_cand cands[GC_BATCH];
	size_t n;
	/* per candidate, filled before gc_lock is taken */
	struct buf links[GC_BATCH];   /* LOCAL: its links (binary CIDs) */
	bool unverified[GC_BATCH];    /* LOCAL: its links could not be read */
	bool linked[GC_BATCH];        /* a pending block links to it */
	int64_t key_atime;        /* keyset position in (atime, mh) order */
	uint8_t key_mh[BSTORE_MH_MAX];
	size_t key_len;
	int64_t cutoff;           /* LOCAL/EVICTED rows older than this go */
	struct bstore_gc_result *res;
	uint64_t pass_deleted;
};

static int gc_select(struct gc_run *g, struct bstore *bs)
{
	static const char sql[] =
		"SELECT mh, codec, state, pack, off, len, refs, atime"
		" FROM blocks WHERE refs = 0 AND (atime, mh) > (?1, ?2)"
		" ORDER BY atime, mh LIMIT 256";
	sqlite3_stmt *st;
	int error;

	g->n = 0;
	if ((error = db_stmt(&st, bs->wdb, sql)) < 0)
		return error;
	sqlite3_bind_int64(st, 1, g->key_atime);
	sqlite3_bind_blob(st, 2, g->key_mh, (int)g->key_len, SQLITE_STATIC);
	while (g->n < GC_BATCH && (error = db_step(bs->wdb, st)) > 0) {
		struct gc_cand *c = &g->cands[g->n];
		int len = sqlite3_column_bytes(st, 0);
		struct bstore_row *r = &c->row;

		if (len <= 0 || len > BSTORE_MH_MAX)
			continue;
		memcpy(c->mh, sqlite3_column_blob(st, 0), (size_t)len);
		c->mh_len = (uint8_t)len;
		r->codec = (uint64_t)sqlite3_column_int64(st, 1);
		r->state = (enum bstore_state)sqlite3_column_int(st, 2);
		r->pack = (uint32_t)sqlite3_column_int64(st, 3);
		r->off = (uint64_t)sqlite3_column_int64(st, 4);
		r->len = (uint32_t)sqlite3_column_int64(st, 5);
		r->refs = 0;
		r->atime = sqlite3_column_int64(st, 7);
		g->key_atime = r->atime;
		memcpy(g->key_mh, c->mh, (size_t)len);
		g->key_len = (size_t)len;
		g->n++;
	}
	db_reset(st);
	return error < 0 ? error : 0;
}

static int cand_compare(const void *pa, const void *pb)
{
	const struct gc_cand *a = *(const struct gc_cand *const *)pa;
	const struct gc_cand *b = *(const struct gc_cand *const *)pb;

	if (a->mh_len != b->mh_len)
		return a->mh_len < b->mh_len ? -1 : 1;
	return memcmp(a->mh, b->mh, a->mh_len);
}

/*
 * Mark the candidates a pending block links to (a parent put while gc
 * runs), walking the pending links once for the whole batch (mu held).
 */
static void gc_mark_linked(struct gc_run *g, struct bstore *bs)
{
	const struct batch *b = &bs->open;
	struct gc_cand *sorted[GC_BATCH];
	struct gc_cand key;

	for (size_t i = 0; i < g->n; i++)
		sorted[i] = &g->cands[i];
	qsort(sorted, g->n, sizeof(sorted[0]), cand_compare);
	for (size_t i = 0; i < b->n; i++) {
		const uint8_t *p = b->v[i].links;
		size_t left = b->v[i].links_len;

		while (left) {
			uint8_t mh[CID_MH_BYTES_MAX];
			const struct gc_cand *k = &key;
			struct gc_cand **hit;
			struct cid id;
			size_t used;
			size_t n;

			if (cid_from_bytes(&id, &used, p, left) < 0)
				break;
			p += used;
			left -= used;
			n = cid_mh_to_bytes(mh, &id);
			if (n > BSTORE_MH_MAX)
				continue;
			memcpy(key.mh, mh, n);
			key.mh_len = (uint8_t)n;
			hit = bsearch(&k, sorted, g->n, sizeof(sorted[0]),
				      cand_compare);
			if (hit)
				g->linked[*hit - g->cands] = true;
		}
	}
}

/* Candidate i stays: young, pending, read since the flush, or linked. */
static bool gc_keep(struct gc_run *g, struct bstore *bs, size_t i)
{
	const struct gc_cand *c = &g->cands[i];
	bool keep;

	if (c->row.state != BSTORE_ABSENT && c->row.atime > g->cutoff)
		return true;
	if (g->linked[i])
		return true;
	pthread_mutex_lock(&bs->mu);
	keep = bstore_pending_locked(bs, c->mh, c->mh_len) ||
	       bstore_touch_has(&bs->touched, c->mh, c->mh_len);
	pthread_mutex_unlock(&bs->mu);
	return keep;
}

/* Append the links of LOCAL candidate c to out; data is scratch. */
static int cand_links(struct buf *out, struct bstore *bs,
		      const struct gc_cand *c, struct buf *data)
{
	struct cid id;
	int error;

	buf_reset(data);
	if ((error = bstore_cid_from_mh(&id, c->row.codec, c->mh,
					c->mh_len)) < 0 ||
	    (error = bstore_row_check(bs, &c->row)) < 0 ||
	    (error = bstore_read_verify(bs, &id, &c->row, data)) < 0)
		return error;
	return bstore_links_collect(out, &id, data->ptr, data->len);
}

/*
 * Read the links of the LOCAL candidates old enough to go, before gc_lock
 * is taken, so puts do not wait while gc reads and hashes blocks.  Nothing
 * else can change the rows meanwhile: every writer holds wmu.  Raw blocks
 * and codecs whose links are unknown have none to uncount and are not
 * read.  A block that cannot be read or decoded is marked unverified.
 */
static void gc_read_links(struct gc_run *g, struct bstore *bs)
{
	struct buf data = BUF_INIT(BUF_NOCAP);

	for (size_t i = 0; i < g->n; i++) {
		const struct gc_cand *c = &g->cands[i];

		buf_reset(&g->links[i]);
		g->unverified[i] = false;
		g->linked[i] = false;
		if (c->row.state != BSTORE_LOCAL ||
		    c->row.atime > g->cutoff ||
		    !links_codec_known(c->row.codec) ||
		    c->row.codec == CID_CODEC_RAW)
			continue;
		if (cand_links(&g->links[i], bs, c, &data) < 0)
			g->unverified[i] = true;
	}
	buf_release(&data);
}

static int gc_delete(struct gc_run *g, struct bstore *bs, size_t i)
{
	static const char sql[] = "DELETE FROM blocks WHERE mh = ?1";
	const struct gc_cand *c = &g->cands[i];
	const struct bstore_row *r = &c->row;
	sqlite3_stmt *st;
	int error;

	if (r->state == BSTORE_LOCAL && g->unverified[i]) {
		/* Its links are unknowable: fsck will find the leftovers. */
		g->res->unverified++;
	} else if (r->state == BSTORE_LOCAL &&
		   (error = bstore_refs_add_links(bs, g->links[i].ptr,
						  g->links[i].len, -1)) < 0) {
		return error;
	}
	if ((error = db_stmt(&st, bs->wdb, sql)) < 0)
		return error;
	sqlite3_bind_blob(st, 1, c->mh, c->mh_len, SQLITE_STATIC);
	if ((error = db_run(bs->wdb, st)) < 0)
		return error;
	if (r->state < BSTORE_NSTATES)
		bstore_totals_add(bs, r->state, -1,
				  r->state == BSTORE_ABSENT ? 0
							    : -(int64_t)r->len);
	return 0;
}

static void gc_punch(struct bstore *bs, const struct gc_cand *c)
{
	uint8_t hdr[PACK_RECORD_HDR_MAX];
	size_t hl;

	if (c->row.state != BSTORE_LOCAL ||
	    bstore_row_check(bs, &c->row) < 0)
		return;
	hl = bstore_pack_record_header(hdr, c->row.codec, c->mh, c->mh_len,
				       c->row.len);
	if (c->row.off >= hl)
		bstore_pack_punch(bs, c->row.pack, c->row.off - hl,
				  hl + c->row.len);
}

/*
 * Delete what of the selected candidates may go, in one transaction under
 * gc_lock (exclusive), so that no put decides "already stored" about a
 * row being deleted.  deleted[i] says which went.
 */
static int gc_delete_batch(struct gc_run *g, struct bstore *bs, bool *deleted)
{
	int error;

	pthread_rwlock_wrlock(&bs->gc_lock);
	if ((error = db_begin(bs->wdb)) < 0)
		goto out_unlock;
	pthread_mutex_lock(&bs->mu);
	gc_mark_linked(g, bs);
	pthread_mutex_unlock(&bs->mu);
	for (size_t i = 0; i < g->n; i++) {
		if (gc_keep(g, bs, i))
			continue;
		if ((error = gc_delete(g, bs, i)) < 0)
			goto out_rollback;
		deleted[i] = true;
	}
	error = bstore_commit(bs);
	goto out_unlock;
out_rollback:
	bstore_rollback(bs);
out_unlock:
	pthread_rwlock_unlock(&bs->gc_lock);
	return error;
}

/* One batch of candidates.  Returns how many rows it looked at (0: the
 * pass is over) or an error. */
static int gc_batch(struct gc_run *g, struct bstore *bs, bool *deleted)
{
	int error;

	if ((error = gc_select(g, bs)) < 0)
		return error;
	if (g->n == 0)
		return 0;
	gc_read_links(g, bs);
	if ((error = gc_delete_batch(g, bs, deleted)) < 0)
		return error;
	for (size_t i = 0; i < g->n; i++) {
		if (!deleted[i])
			continue;
		g->res->blocks++;
		g->pass_deleted++;
		if (g->cands[i].row.state == BSTORE_LOCAL)
			g->res->bytes += g->cands[i].row.len;
		gc_punch(bs, &g->cands[i]);
	}
	return (int)g->n;
}

static int gc_pass(struct gc_run *g, struct bstore *bs)
{
	bool deleted[GC_BATCH];
	int n;

	g->key_atime = INT64_MIN;
	g->key_len = 0;
	g->pass_deleted = 0;
	do {
		memset(deleted, 0, sizeof(deleted));
		n = gc_batch(g, bs, deleted);
	} while (n > 0);
	return n;
}

int bstore_gc(struct bstore_gc_result *out, struct bstore *bs)
{
	struct gc_run *g;
	int error;

	memset(out, 0, sizeof(*out));
	if ((error = bstore_sync(bs)) < 0 ||
	    (error = bstore_flush_atimes(bs)) < 0)
		return error;
	g = efs_calloc(1, sizeof(*g));
	if (!g)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	for (size_t i = 0; i < GC_BATCH; i++)
		buf_init(&g->links[i], BUF_NOCAP);
	g->res = out;
	g->cutoff = bstore_now(bs) - bs->opts.gc_grace;
	pthread_mutex_lock(&bs->wmu);
	do {
		error = gc_pass(g, bs);
	} while (!error && g->pass_deleted);
	pthread_mutex_unlock(&bs->wmu);
	for (size_t i = 0; i < GC_BATCH; i++)
		buf_release(&g->links[i]);
	efs_free(g);
	return error;
}

/* ---- locations ---- */

static int location_write(struct bstore *bs, const struct bstore_location *l)
{
	static const char sql_has[] =
		"SELECT state FROM blocks WHERE mh = ?1";
	static const char sql_put[] =
		"INSERT INTO locations(mh, piece, off, len)"
		" VALUES (?1, ?2, ?3, ?4) ON CONFLICT(mh, piece)"
		" DO UPDATE SET off = excluded.off, len = excluded.len";
	uint8_t mh[BSTORE_MH_MAX];
	uint8_t piece[CID_BYTES_MAX];
	size_t mh_len;
	size_t n;
	sqlite3_stmt *st;
	char s[CID_STR_MAX];
	int error;

	if (l->offset > INT64_MAX || l->length > INT64_MAX)
		return efs_error_set(EFS_EINVAL,
				     "bstore: location offset or length over 2^63");
	if ((error = bstore_key(mh, &mh_len, &l->block)) < 0 ||
	    (error = db_stmt(&st, bs->wdb, sql_has)) < 0)
		return error;
	sqlite3_bind_blob(st, 1, mh, (int)mh_len, SQLITE_STATIC);
	error = db_step(bs->wdb, st);
	if (error > 0 && sqlite3_column_int(st, 0) == BSTORE_ABSENT)
		error = 0;
	db_reset(st);
	if (error == 0)
		return efs_error_set(EFS_ENOTFOUND,
				     "bstore: location for %s, not stored",
				     cid_tostr(s, &l->block));
	if (error < 0 || (error = db_stmt(&st, bs->wdb, sql_put)) < 0)
		return error;
	n = cid_to_bytes(piece, &l->piece);
	sqlite3_bind_blob(st, 1, mh, (int)mh_len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, piece, (int)n, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)l->offset);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)l->length);
	return db_run(bs->wdb, st);
}

int bstore_locations_add(struct bstore *bs,
			 const struct bstore_location *locs, size_t n)
{
	int error;

	pthread_mutex_lock(&bs->wmu);
	if ((error = db_begin(bs->wdb)) < 0)
		goto out_unlock;
	for (size_t i = 0; i < n && !error; i++)
		error = location_write(bs, &locs[i]);
	if (error < 0)
		bstore_rollback(bs);
	else
		error = bstore_commit(bs);
out_unlock:
	pthread_mutex_unlock(&bs->wmu);
	return error;
}

int bstore_location_add(struct bstore *bs, const struct bstore_location *loc)
{
	return bstore_locations_add(bs, loc, 1);
}

static int locations_walk(struct db *db, const struct cid *id,
			  const uint8_t *mh, size_t mh_len,
			  int (*cb)(const struct bstore_location *loc,
				    void *payload),
			  void *payload)
{
	static const char sql[] =
		"SELECT piece, off, len FROM locations WHERE mh = ?1";
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, db, sql)) < 0)
		return error;
	sqlite3_bind_blob(st, 1, mh, (int)mh_len, SQLITE_STATIC);
	while ((error = db_step(db, st)) > 0) {
		struct bstore_location loc;

		loc.block = *id;
		loc.offset = (uint64_t)sqlite3_column_int64(st, 1);
		loc.length = (uint64_t)sqlite3_column_int64(st, 2);
		error = bstore_column_cid(&loc.piece, st, 0);
		if (error < 0 || (error = cb(&loc, payload)) != 0)
			break;
	}
	db_reset(st);
	return error;
}

int bstore_locations(struct bstore *bs, const struct cid *id,
		     int (*cb)(const struct bstore_location *loc,
			       void *payload),
		     void *payload)
{
	uint8_t mh[BSTORE_MH_MAX];
	size_t mh_len;
	struct db *db;
	int error;

	if ((error = bstore_key(mh, &mh_len, id)) < 0 ||
	    (error = db_pool_get(&db, &bs->rpool)) < 0)
		return error;
	error = locations_walk(db, id, mh, mh_len, cb, payload);
	db_pool_put(&bs->rpool, db);
	return error;
}

/* The state of a location's block in a range walk: pending is LOCAL. */
static enum bstore_state range_state(struct bstore *bs, int state,
				     const uint8_t *mh, size_t mh_len)
{
	bool pending;

	if (state != BSTORE_EVICTED)
		return (enum bstore_state)state;
	pthread_mutex_lock(&bs->mu);
	pending = bstore_pending_locked(bs, mh, mh_len) != NULL;
	pthread_mutex_unlock(&bs->mu);
	return pending ? BSTORE_LOCAL : BSTORE_EVICTED;
}

static int range_walk(struct bstore *bs, struct db *db, const uint8_t *piece,
		      size_t piece_len, const struct cid *piece_id,
		      uint64_t from, uint64_t to,
		      int (*cb)(const struct bstore_location *loc,
				enum bstore_state state, void *payload),
		      void *payload)
{
	static const char sql[] =
		"SELECT l.mh, b.codec, b.state, l.off, l.len"
		" FROM locations l JOIN blocks b ON b.mh = l.mh"
		" WHERE l.piece = ?1 AND l.off >= ?2 AND l.off < ?3"
		" ORDER BY l.off";
	struct bstore_location loc;
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, db, sql)) < 0)
		return error;
	sqlite3_bind_blob(st, 1, piece, (int)piece_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)from);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)to);
	loc.piece = *piece_id;
	while ((error = db_step(db, st)) > 0) {
		const uint8_t *mh = sqlite3_column_blob(st, 0);
		size_t mh_len = (size_t)sqlite3_column_bytes(st, 0);
		int64_t codec = sqlite3_column_int64(st, 1);
		int state = sqlite3_column_int(st, 2);

		if (state == BSTORE_ABSENT)
			continue;
		if (codec < 0 || state < 0 || state >= BSTORE_NSTATES ||
		    sqlite3_column_int64(st, 3) < 0 ||
		    sqlite3_column_int64(st, 4) < 0) {
			error = efs_error_set(EFS_ECORRUPT,
					      "bstore: malformed location row");
			break;
		}
		if ((error = bstore_cid_from_mh(&loc.block, (uint64_t)codec,
						mh, mh_len)) < 0)
			break;
		loc.offset = (uint64_t)sqlite3_column_int64(st, 3);
		loc.length = (uint64_t)sqlite3_column_int64(st, 4);
		if ((error = cb(&loc, range_state(bs, state, mh, mh_len),
				payload)) != 0)
			break;
	}
	db_reset(st);
	return error;
}

int bstore_locations_range(struct bstore *bs, const struct cid *piece,
			   uint64_t from, uint64_t to,
			   int (*cb)(const struct bstore_location *loc,
				     enum bstore_state state, void *payload),
			   void *payload)
{
	uint8_t key[CID_BYTES_MAX];
	size_t n = cid_to_bytes(key, piece);
	struct db *db;
	int error;

	if (from > INT64_MAX)
		return 0;
	if (to > INT64_MAX)
		to = INT64_MAX;
	if (from >= to)
		return 0;
	if ((error = db_pool_get(&db, &bs->rpool)) < 0)
		return error;
	error = range_walk(bs, db, key, n, piece, from, to, cb, payload);
	db_pool_put(&bs->rpool, db);
	return error;
}

/* ---- evict ---- */

int bstore_has_location(struct db *db, const uint8_t *mh, size_t mh_len)
{
	static const char sql[] =
		"SELECT 1 FROM locations WHERE mh = ?1 LIMIT 1";
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, db, sql)) < 0)
		return error;
	sqlite3_bind_blob(st, 1, mh, (int)mh_len, SQLITE_STATIC);
	error = db_step(db, st);
	db_reset(st);
	return error;
}

/* Invariant 3: a block with links stays.  0, EFS_EINVAL or read errors. */
static int check_no_links(struct bstore *bs, const struct cid *id,
			  const struct bstore_row *row)
{
	struct buf data = BUF_INIT(BUF_NOCAP);
	struct buf links = BUF_INIT(BUF_NOCAP);
	char s[CID_STR_MAX];
	int error;

	if (!links_codec_known(row->codec) || row->codec == CID_CODEC_RAW)
		return 0;
	if ((error = bstore_read_verify(bs, id, row, &data)) == 0 &&
	    (error = bstore_links_collect(&links, id, data.ptr,
					  data.len)) == 0 &&
	    links.len)
		error = efs_error_set(EFS_EINVAL,
				      "bstore: %s has links; it stays local",
				      cid_tostr(s, id));
	buf_release(&data);
	buf_release(&links);
	return error;
}

static int evict_txn(struct bstore *bs, const struct cid *id,
		     const uint8_t *mh, size_t mh_len,
		     struct bstore_row *row)
{
	static const char sql[] = "UPDATE blocks SET state = 1 WHERE mh = ?1";
	sqlite3_stmt *st;
	char s[CID_STR_MAX];
	int error;

	error = bstore_row_get(row, bs, bs->wdb, mh, mh_len);
	if (error == 0 && row->state == BSTORE_ABSENT)
		error = EFS_ENOTFOUND;
	if (error == EFS_ENOTFOUND)
		return efs_error_set(EFS_ENOTFOUND, "bstore: %s not found",
				     cid_tostr(s, id));
	if (error < 0 || row->state == BSTORE_EVICTED)
		return error;
	if ((error = bstore_has_location(bs->wdb, mh, mh_len)) < 0)
		return error;
	if (!error)
		return efs_error_set(EFS_EINVAL,
				     "bstore: %s has no recorded location",
				     cid_tostr(s, id));
	if ((error = check_no_links(bs, id, row)) < 0 ||
	    (error = db_stmt(&st, bs->wdb, sql)) < 0)
		return error;
	sqlite3_bind_blob(st, 1, mh, (int)mh_len, SQLITE_STATIC);
	if ((error = db_run(bs->wdb, st)) < 0)
		return error;
	bstore_totals_add(bs, BSTORE_LOCAL, -1, -(int64_t)row->len);
	bstore_totals_add(bs, BSTORE_EVICTED, 1, row->len);
	return 1;
}

/* A block evict_many passes over: its reason is the block's business. */
static bool evict_skippable(int error)
{
	return error == EFS_ENOTFOUND || error == EFS_EINVAL ||
	       error == EFS_EMISMATCH || error == EFS_ECORRUPT ||
	       error == EFS_EUNSUPPORTED;
}

/* Evict in one transaction (wmu held); punch[] gets what was freed. */
static int evict_txn_all(size_t *done, struct gc_cand *punch,
			 struct bstore *bs, const struct cid *ids, size_t n,
			 bool lenient)
{
	int error;

	*done = 0;
	if ((error = db_begin(bs->wdb)) < 0)
		return error;
	for (size_t i = 0; i < n; i++) {
		struct gc_cand *c = &punch[*done];
		size_t mh_len = 0;

		error = bstore_key(c->mh, &mh_len, &ids[i]);
		if (!error)
			error = evict_txn(bs, &ids[i], c->mh, mh_len, &c->row);
		if (error == 1) {
			c->mh_len = (uint8_t)mh_len;
			(*done)++;
		} else if (error < 0 && !(lenient && evict_skippable(error))) {
			bstore_rollback(bs);
			*done = 0;
			return error;
		}
	}
	return bstore_commit(bs);
}

static int evict_ids(size_t *out, struct bstore *bs, const struct cid *ids,
		     size_t n, bool lenient)
{
	struct gc_cand *punch = efs_calloc(n ? n : 1, sizeof(*punch));
	size_t done = 0;
	int error;

	if (!punch)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	pthread_mutex_lock(&bs->wmu);
	error = evict_txn_all(&done, punch, bs, ids, n, lenient);
	pthread_mutex_unlock(&bs->wmu);
	for (size_t i = 0; !error && i < done; i++)
		gc_punch(bs, &punch[i]);
	if (out)
		*out = error ? 0 : done;
	efs_free(punch);
	return error;
}

int bstore_evict(struct bstore *bs, const struct cid *id)
{
	return evict_ids(NULL, bs, id, 1, false);
}

int bstore_evict_many(size_t *out, struct bstore *bs, const struct cid *ids,
		      size_t n)
{
	return evict_ids(out, bs, ids, n, true);
}

/* ---- LRU ---- */

#define LRU_PAGE 256

struct lru_page {
	struct bstore_stat st[LRU_PAGE];
	size_t n;
	int64_t key_atime;
	uint8_t key_mh[BSTORE_MH_MAX];
	size_t key_len;
};

static int lru_fetch(struct lru_page *pg, struct db *db,
		     enum bstore_state state)
{
	static const char sql[] =
		"SELECT mh, codec, len, refs, atime FROM blocks"
		" WHERE state = ?1 AND (atime, mh) > (?2, ?3)"
		" ORDER BY atime, mh LIMIT 256";
	sqlite3_stmt *st;
	int error;

	pg->n = 0;
	if ((error = db_stmt(&st, db, sql)) < 0)
		return error;
	sqlite3_bind_int(st, 1, state);
	sqlite3_bind_int64(st, 2, pg->key_atime);
	sqlite3_bind_blob(st, 3, pg->key_mh, (int)pg->key_len, SQLITE_STATIC);
	while (pg->n < LRU_PAGE && (error = db_step(db, st)) > 0) {
		struct bstore_stat *s = &pg->st[pg->n];
		const uint8_t *mh = sqlite3_column_blob(st, 0);
		int len = sqlite3_column_bytes(st, 0);

		if (len <= 0 || len > BSTORE_MH_MAX ||
		    bstore_cid_from_mh(&s->id,
				       (uint64_t)sqlite3_column_int64(st, 1),
				       mh, (size_t)len) < 0) {
			error = efs_error_set(EFS_ECORRUPT,
					      "bstore: malformed index key");
			break;
		}
		s->state = state;
		s->size = (uint64_t)sqlite3_column_int64(st, 2);
		s->refs = sqlite3_column_int64(st, 3);
		s->atime = sqlite3_column_int64(st, 4);
		s->pending = false;
		pg->key_atime = s->atime;
		memcpy(pg->key_mh, mh, (size_t)len);
		pg->key_len = (size_t)len;
		pg->n++;
	}
	db_reset(st);
	return error < 0 ? error : 0;
}

int bstore_lru_foreach(struct bstore *bs, enum bstore_state state,
		       int (*cb)(const struct bstore_stat *st, void *payload),
		       void *payload)
{
	struct lru_page *pg;
	struct db *db;
	int error;

	if ((error = bstore_flush_atimes(bs)) < 0)
		return error;
	pg = efs_calloc(1, sizeof(*pg));
	if (!pg)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	pg->key_atime = INT64_MIN;
	if ((error = db_pool_get(&db, &bs->rpool)) < 0)
		goto out;
	do {
		/* Page, so no read transaction stays open across cb. */
		if ((error = lru_fetch(pg, db, state)) < 0)
			break;
		for (size_t i = 0; i < pg->n && !error; i++)
			error = cb(&pg->st[i], payload);
	} while (!error && pg->n == LRU_PAGE);
	db_pool_put(&bs->rpool, db);
out:
	efs_free(pg);
	return error;
}

/* ---- totals ---- */

static int totals_read(struct bstore_totals *out, struct db *db)
{
	static const char sql[] = "SELECT state, count, bytes FROM totals";
	static const char sql_pins[] = "SELECT count(*) FROM pins";
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, db, sql)) < 0)
		return error;
	while ((error = db_step(db, st)) > 0) {
		int s = sqlite3_column_int(st, 0);

		if (s < 0 || s >= BSTORE_NSTATES)
			continue;
		out->count[s] = (uint64_t)sqlite3_column_int64(st, 1);
		out->bytes[s] = (uint64_t)sqlite3_column_int64(st, 2);
	}
	db_reset(st);
	if (error < 0 || (error = db_stmt(&st, db, sql_pins)) < 0)
		return error;
	if ((error = db_step(db, st)) > 0) {
		out->pins = (uint64_t)sqlite3_column_int64(st, 0);
		error = 0;
	}
	db_reset(st);
	return error;
}

int bstore_stat_totals(struct bstore_totals *out, struct bstore *bs)
{
	struct db *db;
	int error;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&bs->mu);
	out->pending_count = bs->open.n;
	out->pending_bytes = bs->open.bytes;
	if (bs->syncing) {
		out->pending_count += bs->syncing->n;
		out->pending_bytes += bs->syncing->bytes;
	}
	pthread_mutex_unlock(&bs->mu);
	if ((error = db_pool_get(&db, &bs->rpool)) < 0)
		return error;
	error = totals_read(out, db);
	db_pool_put(&bs->rpool, db);
	return error;
}
