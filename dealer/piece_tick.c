/*
 * piece_tick.c - piece_tick: the waiting sub-pieces closed into FRC-0058
 * aggregates (core/datasegment.h does the layout, index and proofs).
 *
 * Grouping: the WAITING commits, oldest first, are taken in turn into
 * the open group.  Before one is taken, the group closes if it could not
 * join (the group's sub-pieces plus it, packed largest first, and the
 * index would not fit the largest aggregate, the largest power of two P
 * with P * 127/128 <= max_payload); after it is taken, the group closes
 * once its padded sizes reach agg_target_padded.  The last, open group
 * closes when its oldest member has waited agg_max_age_s.  Packed largest
 * first, sizes being powers of two, each sub-piece starts where the one
 * before ended, so the group's extent is simply the sum of its sizes.
 *
 * Closing: the members sorted by size, largest first (ties: oldest
 * first), are laid out in the smallest deal of at least min_padded they
 * fit; every member's inclusion proof is made and checked against the
 * aggregate's CommP before anything is written.  The aggregate, its
 * members (offset, sub-piece CommP, index entry, proof) and their move
 * to PIECED are one transaction; the locations of the new aggregates
 * (and of any piece a crash left unfinished) are written at the end of
 * the tick (piece_locate_pending).
 */
#include "dealer/piece.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/datasegment.h"
#include "core/error.h"
#include "dealer/piece_i.h"

#include "core/banned.h"

struct member {
	int64_t commit_id;
	struct cid root;
	struct commp_piece sub;  /* CommP of its whole CAR */
	uint64_t header_len;
	int64_t since;
};

struct waiting {
	struct member *v;
	size_t n;
	size_t cap;
};

/* ---- the waiting list ---- */

static int member_read(struct member *out, sqlite3_stmt *st)
{
	uint8_t root[COMMP_NODE_SIZE];
	int rc;

	out->commit_id = sqlite3_column_int64(st, 0);
	out->header_len = (uint64_t)sqlite3_column_int64(st, 4);
	out->since = sqlite3_column_int64(st, 5);
	if ((rc = piece_column_cid(&out->root, st, 1, "commit root")) < 0 ||
	    (rc = piece_column_root(root, st, 2)) < 0)
		return rc;
	return piece_commp_from_row(&out->sub, root,
				    (uint64_t)sqlite3_column_int64(st, 3),
				    (uint64_t)sqlite3_column_int64(st, 6));
}

static int waiting_load(struct waiting *w, struct db *db)
{
	static const char sql[] =
		"SELECT commit_id, root, comm, padded, header_len, since,"
		" car_size FROM piece_commit WHERE stage = 1"
		" ORDER BY since, commit_id";
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(&st, db, sql)) < 0)
		return rc;
	while ((rc = db_step(db, st)) > 0) {
		if (w->n == w->cap) {
			size_t cap = w->cap ? w->cap * 2 : 64;
			struct member *v = efs_reallocarray(w->v, cap,
							    sizeof(*v));

			if (!v) {
				rc = efs_error_set(EFS_ENOMEM, "out of memory");
				break;
			}
			w->v = v;
			w->cap = cap;
		}
		if ((rc = member_read(&w->v[w->n], st)) < 0)
			break;
		w->n++;
	}
	db_reset(st);
	return rc;
}

/* ---- recording ---- */

static int insert_aggregate(int64_t *out, struct db *db,
			    const struct datasegment_layout *l,
			    const struct buf *index, int64_t now)
{
	static const char sql[] =
		"INSERT INTO piece (kind, comm, padded, payload, created,"
		" members, state, index_off, index_bytes)"
		" VALUES (2, ?1, ?2, ?3, ?4, ?5, 0, ?6, ?7)";
	size_t len = index->len;
	sqlite3_stmt *st;
	int rc;

	/* only up to the last non-zero byte: the rest reads as zeros */
	while (len > 0 && index->ptr[len - 1] == 0)
		len--;
	if ((rc = db_stmt(&st, db, sql)) < 0)
		return rc;
	sqlite3_bind_blob(st, 1, l->piece.root, COMMP_NODE_SIZE,
			  SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)l->piece.padded_size);
	sqlite3_bind_int64(st, 3, (int64_t)l->piece.payload_size);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, (int64_t)l->n);
	sqlite3_bind_int64(st, 6, (int64_t)datasegment_index_unpadded_offset(
					  l->deal_padded));
	sqlite3_bind_blob(st, 7, index->ptr, (int)len, SQLITE_STATIC);
	if ((rc = db_run(db, st)) == 0)
		*out = sqlite3_last_insert_rowid(db_handle(db));
	return rc;
}

/* Member i of l (m: the same commit) as a part of piece id, moved to
 * PIECED, once its inclusion proof verifies (the caller rolls back
 * otherwise).  scratch holds the member's header and proof. */
static int insert_member(struct db *db, int64_t id,
			 const struct datasegment_layout *l, size_t i,
			 const struct member *m, int64_t now,
			 struct buf *scratch)
{
	static const char sql[] =
		"INSERT INTO piece_part (piece_id, off, commit_id, header,"
		" car_start, car_end, sub_comm, sub_padded, seg_off, seg_size,"
		" proof) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
	static const char moved[] =
		"UPDATE piece_commit SET stage = 2, since = ?2"
		" WHERE commit_id = ?1 AND stage = 1";
	const struct datasegment_entry *e = &l->entries[i];
	struct datasegment_proof proof;
	sqlite3_stmt *st;
	size_t hlen;
	int rc;

	buf_reset(scratch);
	if ((rc = piece_car_header(scratch, &m->root)) < 0)
		return rc;
	if ((hlen = scratch->len) != m->header_len)
		return efs_error_set(EFS_ECORRUPT, "piece: commit %lld has a "
				     "header of %zu bytes, recorded %llu",
				     (long long)m->commit_id, hlen,
				     (unsigned long long)m->header_len);
	if ((rc = datasegment_proof_make(&proof, l, i)) < 0)
		return rc;
	if (datasegment_proof_verify(&proof, &l->piece, &l->subs[i]) < 0)
		return efs_error_set(EFS_ERROR, "piece: inclusion proof of "
				     "sub-piece %zu does not verify", i);
	if ((rc = datasegment_proof_encode(scratch, &proof)) < 0 ||
	    (rc = db_stmt(&st, db, sql)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, (int64_t)(e->offset / 128 * 127));
	sqlite3_bind_int64(st, 3, m->commit_id);
	sqlite3_bind_blob(st, 4, scratch->ptr, (int)hlen, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (int64_t)hlen);
	sqlite3_bind_int64(st, 6, (int64_t)m->sub.payload_size);
	sqlite3_bind_blob(st, 7, m->sub.root, COMMP_NODE_SIZE, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, (int64_t)m->sub.padded_size);
	sqlite3_bind_int64(st, 9, (int64_t)e->offset);
	sqlite3_bind_int64(st, 10, (int64_t)e->size);
	sqlite3_bind_blob(st, 11, scratch->ptr + hlen,
			  (int)(scratch->len - hlen), SQLITE_STATIC);
	if ((rc = db_run(db, st)) < 0 || (rc = db_stmt(&st, db, moved)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, m->commit_id);
	sqlite3_bind_int64(st, 2, now);
	if ((rc = db_run(db, st)) < 0)
		return rc;
	if (sqlite3_changes(db_handle(db)) != 1)
		return efs_error_set(EFS_ERROR, "piece: commit %lld left the "
				     "aggregate queue",
				     (long long)m->commit_id);
	return 0;
}

static int record(int64_t *out, struct db *db,
		  const struct datasegment_layout *l, struct member *const *g,
		  int64_t now)
{
	struct buf index = BUF_INIT(BUF_NOCAP);
	struct buf scratch = BUF_INIT(BUF_NOCAP);
	int rc = datasegment_index_bytes(&index, l);

	if (rc == 0)
		rc = db_begin(db);
	if (rc < 0)
		goto out;
	rc = insert_aggregate(out, db, l, &index, now);
	for (size_t i = 0; rc == 0 && i < l->n; i++)
		rc = insert_member(db, *out, l, i, g[i], now, &scratch);
	if (rc == 0)
		rc = db_commit(db);
	else
		db_rollback(db);
out:
	buf_release(&index);
	buf_release(&scratch);
	return rc;
}

/* ---- closing a group ---- */

/* Largest first; among equals, oldest first (their order in the list). */
static int by_size(const void *a, const void *b)
{
	const struct member *x = *(struct member *const *)a;
	const struct member *y = *(struct member *const *)b;

	if (x->sub.padded_size != y->sub.padded_size)
		return x->sub.padded_size > y->sub.padded_size ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Lay g[0..n) out in the smallest deal of at least min_padded. */
static int lay_out(struct datasegment_layout *l, struct member *const *g,
		   size_t n, uint64_t min_padded)
{
	struct commp_piece *subs = efs_calloc(n, sizeof(*subs));
	int rc;

	if (!subs)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		subs[i] = g[i]->sub;
	rc = datasegment_layout_init(l, subs, n, 0);
	if (rc == 0 && l->deal_padded < min_padded) {
		datasegment_layout_release(l);
		rc = datasegment_layout_init(l, subs, n, min_padded);
	}
	efs_free(subs);
	return rc;
}

static int close_group(struct piece_store *ps, struct member *v, size_t n,
		       int64_t now)
{
	struct datasegment_layout l = { 0 };
	struct member **g = efs_calloc(n, sizeof(*g));
	int64_t id;
	int rc;

	if (!g)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		g[i] = &v[i];
	qsort(g, n, sizeof(*g), by_size);
	if ((rc = lay_out(&l, g, n, ps->lim.min_padded)) == 0 &&
	    (rc = record(&id, ps->wdb, &l, g, now)) == 0 &&
	    piece_test_stop(ps, PIECE_TEST_AGGREGATE))
		rc = efs_error_set(EFS_ECANCELED, "piece: stopped (test)");
	datasegment_layout_release(&l);
	efs_free(g);
	return rc;
}

/* Whether sub-pieces of padded sizes summing to sum, n of them, fit one
 * aggregate of pmax padded bytes (packed largest first). */
static bool fits(uint64_t sum, size_t n, uint64_t pmax)
{
	return n <= datasegment_index_max(pmax) &&
	       sum <= datasegment_index_offset(pmax);
}

static int tick_locked(struct piece_store *ps, int64_t now, size_t *closed)
{
	const struct piece_limits *lim = &ps->lim;
	uint64_t pmax = piece_padded_max(lim->max_payload), sum = 0;
	struct waiting w = { 0 };
	size_t start = 0;
	int rc;

	if ((rc = waiting_load(&w, ps->wdb)) < 0)
		goto out;
	for (size_t i = 0; rc == 0 && i < w.n; i++) {
		uint64_t p = w.v[i].sub.padded_size;

		if (i > start && !fits(sum + p, i - start + 1, pmax)) {
			if ((rc = close_group(ps, w.v + start, i - start,
					      now)) < 0)
				break;
			++*closed;
			start = i;
			sum = 0;
		}
		sum += p;
		if (sum >= lim->agg_target_padded) {
			if ((rc = close_group(ps, w.v + start, i + 1 - start,
					      now)) < 0)
				break;
			++*closed;
			start = i + 1;
			sum = 0;
		}
	}
	if (rc == 0 && start < w.n && now - w.v[start].since >=
					      lim->agg_max_age_s) {
		if ((rc = close_group(ps, w.v + start, w.n - start, now)) == 0)
			++*closed;
	}
	/* the new aggregates' locations, and any a crash left unwritten */
	if (rc == 0)
		rc = piece_locate_pending(ps, -1);
out:
	efs_free(w.v);
	return rc;
}

int piece_tick(struct piece_store *ps, int64_t now, size_t *closed)
{
	size_t n = 0;
	int rc = piece_check_writable(ps, "tick");

	if (closed)
		*closed = 0;
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&ps->mu);
	rc = tick_locked(ps, now, &n);
	pthread_mutex_unlock(&ps->mu);
	if (closed)
		*closed = n;
	return rc;
}
