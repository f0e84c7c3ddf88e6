/*
 * bstore_sync.c - making pending blocks durable, and what happens when
 * that fails.
 *
 * A sync, with wmu held:
 *
 *   1. under wlock: write the buffer out; then under mu take the open
 *      batch (it becomes bs->syncing, still visible to get/has); note how
 *      far it wrote into the current pack (pk.keep: a failing put must not
 *      cut below it).
 *   2. no lock: fdatasync every pack the batch wrote; fsync packs/ if a
 *      pack was created.
 *   3. no lock but wmu: one transaction: for each block, re-read its row
 *      and insert it (new: count its links), revive it (ABSENT: count
 *      links; EVICTED: links were counted already), or mark it a
 *      duplicate; record pack sizes; write touched atimes; update the
 *      counters.  COMMIT (synchronous=FULL: durable when it returns;
 *      bstore_sync_deferred: NORMAL, made durable by the caller's next
 *      FULL commit to index.db, see bstore.h).
 *   4. under mu: forget the batch; record the pack sizes for bounds
 *      checks.  Then punch the duplicates' bytes.
 *
 * A sync with nothing to commit still fsyncs the WAL when a deferred
 * commit came before it that we have not made durable (bs->deferred):
 * its blocks may be ours (a deferred sync takes every pending block, not
 * only its caller's).
 *
 * Puts go on during 2 and 3 (into a new open batch); readers never wait
 * at all: they need mu only for a moment and never wmu.
 *
 * Failure (a pack write, fdatasync or the transaction): the pending blocks
 * cannot be trusted to be on disk (after a failed fdatasync the kernel may
 * have dropped the dirty pages), so both batches are dropped, the current
 * pack is cut back to what the index vouches for, and errseq is bumped so
 * bstore_sync_since tells every writer whose blocks were lost.  Nothing is
 * half-indexed: the index only ever moves by whole committed transactions.
 */
#include "core/bstore_i.h"

#include <inttypes.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

#include "core/banned.h"

/* wlock and mu held. */
int bstore_fail_locked(struct bstore *bs, int code)
{
	bstore_batch_clear(&bs->open);
	bstore_pack_rewind_locked(bs);
	bs->errseq++;
	bs->last_fail = code;
	return code;
}

uint64_t bstore_errseq(struct bstore *bs)
{
	uint64_t seq;

	pthread_mutex_lock(&bs->mu);
	seq = bs->errseq;
	pthread_mutex_unlock(&bs->mu);
	return seq;
}

/* ---- counters and refs, inside the writer's transaction ---- */

void bstore_totals_add(struct bstore *bs, enum bstore_state state,
		       int64_t count, int64_t bytes)
{
	bs->delta_count[state] += count;
	bs->delta_bytes[state] += bytes;
}

/* Forget the noted changes (on rollback). */
static void totals_forget(struct bstore *bs)
{
	memset(bs->delta_count, 0, sizeof(bs->delta_count));
	memset(bs->delta_bytes, 0, sizeof(bs->delta_bytes));
}

/* Write the noted changes (before commit), then forget them. */
static int totals_write(struct bstore *bs)
{
	static const char sql[] =
		"UPDATE totals SET count = count + ?2, bytes = bytes + ?3"
		" WHERE state = ?1";
	sqlite3_stmt *st;
	int error = 0;

	for (int s = 0; s < BSTORE_NSTATES && !error; s++) {
		if (!bs->delta_count[s] && !bs->delta_bytes[s])
			continue;
		if ((error = db_stmt(&st, bs->wdb, sql)) < 0)
			break;
		sqlite3_bind_int(st, 1, s);
		sqlite3_bind_int64(st, 2, bs->delta_count[s]);
		sqlite3_bind_int64(st, 3, bs->delta_bytes[s]);
		error = db_run(bs->wdb, st);
	}
	totals_forget(bs);
	return error;
}

int bstore_commit(struct bstore *bs)
{
	int error = totals_write(bs);

	if (error < 0) {
		db_rollback(bs->wdb);
		return error;
	}
	return db_commit(bs->wdb);
}

void bstore_rollback(struct bstore *bs)
{
	totals_forget(bs);
	db_rollback(bs->wdb);
}

/* Back to FULL after a transaction at bstore_begin_mode's level; a
 * committed deferred one is noted for the next durable commit. */
static void mode_reset(struct bstore *bs, bool full, bool committed)
{
	if (full)
		return;
	if (committed)
		bs->deferred = true;
	/* a failure leaves NORMAL, which the next bstore_begin_mode fixes */
	if (db_sync_mode(bs->wdb, true) < 0)
		efs_error_clear();
}

int bstore_begin_mode(struct bstore *bs, bool full)
{
	int error;

	if ((error = db_sync_mode(bs->wdb, full)) < 0)
		return error;
	if ((error = db_begin(bs->wdb)) < 0)
		mode_reset(bs, full, false);
	return error;
}

int bstore_end_mode(struct bstore *bs, bool full, int error)
{
	if (error < 0)
		bstore_rollback(bs);
	else
		error = bstore_commit(bs);
	mode_reset(bs, full, error == 0);
	return error;
}

/* bstore_durable with wmu held. */
static int durable_locked(struct bstore *bs)
{
	int error;

	if (!bs->deferred)
		return 0;
	if ((error = db_wal_sync(bs->wdb)) == 0)
		bs->deferred = false;
	return error;
}

int bstore_durable(struct bstore *bs)
{
	int error;

	pthread_mutex_lock(&bs->wmu);
	error = durable_locked(bs);
	pthread_mutex_unlock(&bs->wmu);
	return error;
}

int bstore_refs_add(struct bstore *bs, const struct cid *id, int delta)
{
	static const char sql_update[] =
		"UPDATE blocks SET refs = max(refs + ?2, 0) WHERE mh = ?1";
	static const char sql_absent[] =
		"INSERT INTO blocks(mh, codec, state, pack, off, len, refs,"
		" atime) VALUES (?1, ?2, 2, 0, 0, 0, ?3, ?4)";
	uint8_t mh[BSTORE_MH_MAX];
	size_t mh_len;
	sqlite3_stmt *st;
	int error;

	if ((error = bstore_key(mh, &mh_len, id)) < 0)
		return error;
	if ((error = db_stmt(&st, bs->wdb, sql_update)) < 0)
		return error;
	sqlite3_bind_blob(st, 1, mh, (int)mh_len, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, delta);
	if ((error = db_run(bs->wdb, st)) < 0)
		return error;
	if (sqlite3_changes(db_handle(bs->wdb)) || delta <= 0)
		return 0;
	if ((error = db_stmt(&st, bs->wdb, sql_absent)) < 0)
		return error;
	sqlite3_bind_blob(st, 1, mh, (int)mh_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)id->codec);
	sqlite3_bind_int(st, 3, delta);
	sqlite3_bind_int64(st, 4, bstore_now(bs));
	if ((error = db_run(bs->wdb, st)) < 0)
		return error;
	bstore_totals_add(bs, BSTORE_ABSENT, 1, 0);
	return 0;
}

int bstore_refs_add_links(struct bstore *bs, const uint8_t *links,
			  size_t len, int delta)
{
	size_t pos = 0;

	while (pos < len) {
		struct cid id;
		size_t used;
		int error = cid_from_bytes(&id, &used, links + pos, len - pos);

		if (error < 0)
			return error;
		if ((error = bstore_refs_add(bs, &id, delta)) < 0)
			return error;
		pos += used;
	}
	return 0;
}

/* Flush touched atimes in the current write transaction (wmu held). */
static int touches_write(struct bstore *bs, struct touchmap *t)
{
	static const char sql[] =
		"UPDATE blocks SET atime = ?2 WHERE mh = ?1 AND atime < ?2";
	sqlite3_stmt *st;
	int error = 0;

	for (size_t i = 0; i < t->nslots && !error; i++) {
		struct touch *e = &t->slots[i];

		if (!e->mh_len)
			continue;
		if ((error = db_stmt(&st, bs->wdb, sql)) < 0)
			break;
		sqlite3_bind_blob(st, 1, e->mh, e->mh_len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, e->atime);
		error = db_run(bs->wdb, st);
	}
	return error;
}

/* ---- the transaction ---- */

static const char sql_state[] =
	"SELECT state, len, codec FROM blocks WHERE mh = ?1";

static const char sql_insert[] =
	"INSERT INTO blocks(mh, codec, state, pack, off, len, refs, atime)"
	" VALUES (?1, ?2, 0, ?3, ?4, ?5, 0, ?6)";

static const char sql_revive[] =
	"UPDATE blocks SET codec = ?2, state = 0, pack = ?3, off = ?4,"
	" len = ?5, atime = max(atime, ?6) WHERE mh = ?1";

/* The row's state (-1 when none), its length and codec. */
static int read_state(int *state, int64_t *len, uint64_t *codec,
		      struct bstore *bs, const struct pend *p)
{
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, bs->wdb, sql_state)) < 0)
		return error;
	sqlite3_bind_blob(st, 1, p->mh, p->mh_len, SQLITE_STATIC);
	error = db_step(bs->wdb, st);
	*state = -1;
	if (error > 0) {
		*state = sqlite3_column_int(st, 0);
		*len = sqlite3_column_int64(st, 1);
		*codec = (uint64_t)sqlite3_column_int64(st, 2);
		error = 0;
	}
	db_reset(st);
	return error;
}

static int write_row(struct bstore *bs, const char *sql,
		     const struct pend *p, uint64_t codec, int64_t now)
{
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, bs->wdb, sql)) < 0)
		return error;
	sqlite3_bind_blob(st, 1, p->mh, p->mh_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)codec);
	sqlite3_bind_int64(st, 3, p->pack);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)p->off);
	sqlite3_bind_int64(st, 5, p->len);
	sqlite3_bind_int64(st, 6, now);
	return db_run(bs->wdb, st);
}

static int apply_one(struct bstore *bs, struct pend *p, int64_t now)
{
	int state;
	int64_t len = 0;
	uint64_t codec = 0;
	int error;

	if ((error = read_state(&state, &len, &codec, bs, p)) < 0)
		return error;
	switch (state) {
	case -1:
		error = write_row(bs, sql_insert, p, p->codec, now);
		break;
	case BSTORE_ABSENT:
		error = write_row(bs, sql_revive, p, p->codec, now);
		bstore_totals_add(bs, BSTORE_ABSENT, -1, 0);
		break;
	case BSTORE_EVICTED:
		/* Its links were counted when it was first stored. */
		error = write_row(bs, sql_revive, p, codec, now);
		bstore_totals_add(bs, BSTORE_EVICTED, -1, -len);
		bstore_totals_add(bs, BSTORE_LOCAL, 1, p->len);
		return error;
	case BSTORE_LOCAL:
		p->dup = true;
		return 0;
	default:
		return efs_error_set(EFS_ECORRUPT,
				     "bstore: index row in state %d", state);
	}
	if (error < 0)
		return error;
	bstore_totals_add(bs, BSTORE_LOCAL, 1, p->len);
	return bstore_refs_add_links(bs, p->links, p->links_len, 1);
}

static int write_pack_sizes(struct bstore *bs, const struct batch *b)
{
	static const char sql[] =
		"INSERT INTO packs(id, size) VALUES (?1, ?2)"
		" ON CONFLICT(id) DO UPDATE SET size = excluded.size";
	sqlite3_stmt *st;
	int error = 0;

	for (size_t i = 0; i < b->nends && !error; i++) {
		if ((error = db_stmt(&st, bs->wdb, sql)) < 0)
			break;
		sqlite3_bind_int64(st, 1, b->ends[i].pack);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)b->ends[i].end);
		error = db_run(bs->wdb, st);
	}
	return error;
}

static int commit_batch(struct bstore *bs, struct batch *b,
			struct touchmap *t, bool full)
{
	int64_t now = bstore_now(bs);
	int error;

	if ((error = bstore_begin_mode(bs, full)) < 0)
		return error;
	for (size_t i = 0; i < b->n && !error; i++)
		error = apply_one(bs, &b->v[i], now);
	if (!error)
		error = write_pack_sizes(bs, b);
	if (!error)
		error = touches_write(bs, t);
	return bstore_end_mode(bs, full, error);
}

/* ---- sync ---- */

static int datasync_all(struct bstore *bs, const struct batch *b)
{
	for (size_t i = 0; i < b->nends; i++) {
		int fd;
		int error;

		pthread_mutex_lock(&bs->mu);
		error = bstore_pack_fd_locked(&fd, bs, b->ends[i].pack);
		pthread_mutex_unlock(&bs->mu);
		if (error < 0 ||
		    (error = bstore_pack_datasync(bs, fd, b->ends[i].pack)) < 0)
			return error;
	}
	return 0;
}

static bool touches_due(struct bstore *bs, int64_t now)
{
	return bs->touched.n &&
	       (now - bs->last_flush >= bs->opts.atime_flush ||
		bs->touched.n >= bs->opts.touch_max / 2);
}

/*
 * Step 1 (wlock held): write the buffer out, then under mu take the open
 * batch into b, and the touched map into t when due.  Returns 1 when
 * there is nothing to do.
 */
static int take_batch(struct bstore *bs, struct batch *b,
		      struct touchmap *t, bool *dir_dirty)
{
	struct packs *pk = &bs->pk;
	int64_t now = bstore_now(bs);
	int error = 0;

	pthread_mutex_lock(&bs->mu);
	if (!bs->open.n)
		error = 1;
	pthread_mutex_unlock(&bs->mu);
	if (error || (error = bstore_pack_flush(bs)) < 0) {
		if (error < 0) {
			pthread_mutex_lock(&bs->mu);
			bstore_fail_locked(bs, error);
			pthread_mutex_unlock(&bs->mu);
		}
		return error;
	}
	pthread_mutex_lock(&bs->mu);
	*b = bs->open;
	bstore_batch_init(&bs->open);
	bs->syncing = b;
	if (b->nends && b->ends[b->nends - 1].pack == pk->cur)
		pk->keep = b->ends[b->nends - 1].end;
	if (touches_due(bs, now)) {
		*t = bs->touched;
		bstore_touch_init(&bs->touched);
		bs->last_flush = now;
	}
	*dir_dirty = pk->dir_dirty;
	pk->dir_dirty = false;
	pthread_mutex_unlock(&bs->mu);
	return 0;
}

/* Step 4 (wlock and mu held). */
static int finish_batch(struct bstore *bs, struct batch *b, bool dir_dirty,
			int error)
{
	struct packs *pk = &bs->pk;

	bs->syncing = NULL;
	if (error < 0) {
		pk->dir_dirty |= dir_dirty;
		pk->keep = bstore_pack_size_locked(bs, pk->cur);
		if (pk->keep < PACK_HEADER_SIZE)
			pk->keep = PACK_HEADER_SIZE;
		return bstore_fail_locked(bs, error);
	}
	/* The slots exist (the packs were open), so this cannot fail. */
	for (size_t i = 0; i < b->nends; i++)
		bstore_pack_size_set_locked(bs, b->ends[i].pack,
					    b->ends[i].end);
	return 0;
}

static void punch_dups(struct bstore *bs, const struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct pend *p = &b->v[i];

		if (p->dup)
			bstore_pack_punch(bs, p->pack, p->off - p->hdr_len,
					  p->hdr_len + p->len);
	}
}

/* The whole sync, wmu held; full: the index commit waits for the disk. */
static int sync_wmu(struct bstore *bs, bool full)
{
	struct batch b;
	struct touchmap t;
	bool dir_dirty = false;
	int error;

	bstore_batch_init(&b);
	bstore_touch_init(&t);
	pthread_mutex_lock(&bs->wlock);
	error = take_batch(bs, &b, &t, &dir_dirty);
	pthread_mutex_unlock(&bs->wlock);
	if (error < 0)
		return error;
	if (error > 0) /* nothing pending: only a deferred commit to seal */
		return full ? durable_locked(bs) : 0;
	error = datasync_all(bs, &b);
	if (!error)
		error = bstore_pack_dirsync(bs, dir_dirty);
	if (!error)
		error = commit_batch(bs, &b, &t, full);
	pthread_mutex_lock(&bs->wlock);
	pthread_mutex_lock(&bs->mu);
	error = finish_batch(bs, &b, dir_dirty, error);
	pthread_mutex_unlock(&bs->mu);
	pthread_mutex_unlock(&bs->wlock);
	if (!error)
		punch_dups(bs, &b);
	bstore_batch_release(&b);
	bstore_touch_release(&t);
	/* the rows are in; a failed fsync here fails this sync only */
	if (!error && full)
		error = durable_locked(bs);
	return error;
}

static int sync_mark(struct bstore *bs, uint64_t *mark, bool full)
{
	uint64_t seq;
	int last;
	int error;

	pthread_mutex_lock(&bs->wmu);
	error = sync_wmu(bs, full);
	pthread_mutex_lock(&bs->mu);
	seq = bs->errseq;
	last = bs->last_fail;
	pthread_mutex_unlock(&bs->mu);
	pthread_mutex_unlock(&bs->wmu);
	if (!error && mark && seq != *mark)
		error = efs_error_set(last ? last : EFS_EIO,
				      "bstore: a failed write dropped blocks "
				      "put before this sync (%s)",
				      efs_error_name(last));
	if (mark)
		*mark = seq;
	return error;
}

int bstore_sync_since(struct bstore *bs, uint64_t *mark)
{
	return sync_mark(bs, mark, true);
}

int bstore_sync_deferred(struct bstore *bs, uint64_t *mark)
{
	return sync_mark(bs, mark, false);
}

int bstore_sync(struct bstore *bs)
{
	uint64_t mark = bstore_errseq(bs);

	return bstore_sync_since(bs, &mark);
}

int bstore_flush_atimes(struct bstore *bs)
{
	struct touchmap t;
	int error = 0;

	pthread_mutex_lock(&bs->wmu);
	pthread_mutex_lock(&bs->mu);
	t = bs->touched;
	bstore_touch_init(&bs->touched);
	bs->last_flush = bstore_now(bs);
	pthread_mutex_unlock(&bs->mu);
	if (t.n) {
		if ((error = db_begin(bs->wdb)) == 0 &&
		    (error = touches_write(bs, &t)) == 0)
			error = bstore_commit(bs);
		else
			bstore_rollback(bs);
	}
	pthread_mutex_unlock(&bs->wmu);
	bstore_touch_release(&t);
	return error;
}
