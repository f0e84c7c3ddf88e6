/*
 * fileio_flush.c - flushing one open file (see fileio.h; structures and
 * invariants in fileio_i.h).
 *
 * Steps:
 *
 *   1. lock; wait for a running flush of this file; flushing = true
 *   2. barrier (writers and truncates wait at their start): seal every
 *      MEM and DISK chunk on the workers, wait for all seals
 *   3. snapshot: the DAG, base_limit, size and every slot's leaf (all
 *      are SEALED now); flush_gen = gen; lift the barrier; unlock
 *   4. rebuild the tree, unlocked: walk the DAG's leaves and add, chunk
 *      by chunk, the snapshot's leaf, the DAG's leaf (reused as is), or a
 *      zero leaf for a hole; a chunk whose DAG leaf does not fit (another
 *      chunk size or profile, a straddled limit) is read and re-hashed;
 *      evicted leaves are kept without fetching them (leaf_evicted), so
 *      a small change to an evicted file fetches only what it touches
 *   5. bstore_sync_deferred: the blocks are indexed; the commit
 *      callback's durable commit (inode_set_content) makes them durable
 *      with the inode, one WAL fsync for both
 *   6. the commit callback points the inode at the root
 *   7. lock; rebase: the root becomes the DAG; slots of the snapshot go
 *      (invariant 6); flushing = false
 *
 * Writes go on during 4-6.  Rebasing keeps what they changed: their slots
 * have newer gens, and base_limit becomes the lowest size seen since the
 * snapshot, so every chunk reads the same before and after (a chunk the
 * snapshot did not stage has the same leaf in the old DAG and the new;
 * one it did has its sealed leaf in the new DAG).
 *
 * A failed sync that dropped leaves sealed since the last flush (their
 * bytes are gone from staging too) breaks the file (fileio.h).
 */
#include "fs/fileio.h"

#include <assert.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/importer_file.h"
#include "core/varint.h"
#include "fs/fileio_i.h"

#include "core/banned.h"

/* The walk's stop codes (positive, so never an efs error). */
#define WALK_STOP   1 /* past the DAG's part of the file */
#define WALK_MISFIT 2 /* a leaf that cannot be reused: read instead */

struct snap_leaf {
	uint64_t index;
	struct cid leaf;
	uint64_t len;
};

struct snap {
	struct cid base;
	bool has_base;
	uint64_t base_size, base_limit, size;
	struct snap_leaf *leaves; /* by index */
	size_t nleaves;
};

struct rebuild {
	struct fileio *f; /* for cs, st and src only */
	const struct snap *snap;
	const struct importer_opts *opts;
	struct importer_file *b;
	uint64_t next;	 /* next chunk to add */
	size_t li;	 /* next snapshot leaf */
	struct cid zero; /* leaf of a whole zero chunk */
	bool has_zero;
	struct dagreader_file *reader; /* the DAG, for chunks read */
	uint8_t *buf;		       /* a chunk read */
	bool pb_read;		       /* a dag-pb leaf the walk read fit */
	bool has_unread;      /* the walk kept an evicted dag-pb leaf: */
	struct cid unread;    /* the first, */
	uint64_t unread_size; /* of this many content bytes */
};

/* ---- 2. sealing --------------------------------------------------------- */

static int seal_all(struct fileio *f)
{
	size_t staged = 0;
	int error = 0;

	f->barrier = true;
	while (f->nsealing)
		fileio_wait(f);
	for (size_t i = 0; i < f->nslots; i++)
		staged += f->slots[i]->state != SLOT_SEALED;
	/* The slots do not change meanwhile: the barrier holds writers off
	 * and sealing one here releases the lock only around hashing it. */
	for (size_t i = 0; i < f->nslots && error == 0; i++) {
		struct slot *s = f->slots[i];
		size_t ext = (size_t)fileio_extent(f, s->index, f->size);

		if (s->state == SLOT_MEM)
			error = fileio_mem_complete(f, s, ext);
		/* one chunk (a small file, a tail): no handoff */
		if (error == 0 &&
		    (s->state == SLOT_MEM || s->state == SLOT_DISK))
			error = fileio_seal_submit(f, s, ext, staged == 1);
	}
	while (f->nsealing)
		fileio_wait(f);
	if (f->seal_error) {
		int seal_error = efs_error_restore(&f->seal_err);

		f->seal_error = 0;
		if (error == 0)
			error = seal_error;
	}
	return error;
}

/* ---- 3. snapshot -------------------------------------------------------- */

/* Without a DAG, base_limit is 0: only an empty file is clean. */
static bool is_dirty(const struct fileio *f)
{
	return f->nslots || f->size != f->base_size ||
	       f->base_limit != f->base_size;
}

static int snapshot(struct snap *out, struct fileio *f)
{
	memset(out, 0, sizeof(*out));
	if (f->nslots &&
	    !(out->leaves = efs_calloc(f->nslots, sizeof(*out->leaves))))
		return efs_error_set(EFS_ENOMEM, "fileio: out of memory");
	for (size_t i = 0; i < f->nslots; i++) {
		const struct slot *s = f->slots[i];

		assert(s->state == SLOT_SEALED);
		out->leaves[i].index = s->index;
		out->leaves[i].leaf = s->leaf;
		out->leaves[i].len = s->leaf_len;
	}
	out->nleaves = f->nslots;
	out->base = f->base;
	out->has_base = f->has_base;
	out->base_size = f->base_size;
	out->base_limit = f->base_limit;
	out->size = f->size;
	f->flush_gen = f->gen;
	f->limit_since = f->size;
	return 0;
}

/* ---- 4. rebuild --------------------------------------------------------- */

/* Bytes of the dag-pb leaf block of a size-byte chunk (no metadata). */
static uint64_t pb_leaf_size(uint64_t size)
{
	/* 08 type [12 len chunk] 18 size, inside PBNode.Data: 0a len */
	uint64_t inner = 2 + 1 + varint_size(size);

	if (size)
		inner += 1 + varint_size(size) + size;
	return 1 + varint_size(inner) + inner;
}

/* Is the dag-pb leaf l, read, the block the importer makes of its bytes? */
static bool pb_leaf_fits(const struct importer_opts *o,
			 const struct dagreader_leaf *l)
{
	return l->fetched && !l->inner && !l->has_meta &&
	       l->raw_type == (o->layout == IMPORTER_LAYOUT_TRICKLE) &&
	       l->block_size == pb_leaf_size(l->size);
}

/*
 * Is leaf what the importer would make of its bytes with these opts?  An
 * evicted dag-pb leaf (not read) fits when its block has the size of the
 * importer's leaf for its bytes: metadata would make it bigger.  Its type
 * (File or Raw, one byte either way) is taken from a leaf that is read:
 * see check_unread.
 */
static bool leaf_fits(const struct rebuild *r, const struct dagreader_leaf *l)
{
	const struct importer_opts *o = r->opts;
	size_t cs = r->f->cs;

	if (l->inner || l->size == 0 || l->offset % cs ||
	    (l->size != cs && l->offset + l->size != r->snap->base_size) ||
	    l->id.hash != o->hash)
		return false;
	if (o->raw_leaves)
		return l->id.codec == CID_CODEC_RAW && l->id.version == 1;
	if (l->id.codec != CID_CODEC_DAG_PB ||
	    l->id.version != importer_opts_cid_version(o))
		return false;
	return l->fetched ? pb_leaf_fits(o, l)
			  : l->block_size == pb_leaf_size(l->size);
}

/* The walk's dagreader_leaf_known_fn: an evicted block has no links
 * (core/bstore.h, invariant 3), so an evicted dag-pb child is a leaf the
 * walk reports without fetching it, with its size from the index. */
static bool leaf_evicted(size_t *out, const struct cid *id, void *payload)
{
	struct rebuild *r = payload;
	struct bstore_stat st;

	if (bstore_stat(&st, r->f->bs, id) < 0 || st.pending ||
	    st.state != BSTORE_EVICTED || st.id.codec != CID_CODEC_DAG_PB)
		return false;
	*out = (size_t)st.size;
	return true;
}

static int unread_fits(const struct dagreader_leaf *l, void *payload)
{
	const struct rebuild *r = payload;

	return cid_equal(&l->id, &r->unread) && l->size == r->unread_size &&
		       pb_leaf_fits(r->opts, l)
		   ? 0
		   : WALK_MISFIT;
}

/*
 * The walk kept evicted dag-pb leaves by their size alone.  When no leaf
 * it read vouches for the type of the file's leaves (the one a small
 * write touches was read to merge it, and vouches), read the first kept
 * one: one fetch instead of one per leaf.  0 or WALK_MISFIT (read every
 * chunk instead) or an error.
 */
static int check_unread(struct rebuild *r)
{
	if (!r->has_unread || r->pb_read)
		return 0;
	return dagreader_leaves_foreach(&r->f->src, &r->unread, unread_fits, r);
}

/* Read chunk k's bytes [0, ext) as the snapshot's DAG shows them, and make
 * them a leaf. */
static int read_leaf(struct cid *out, struct rebuild *r, uint64_t k, size_t ext)
{
	uint64_t pos = k * r->f->cs, limit = r->snap->base_limit;
	size_t m = pos + ext <= limit ? ext : (size_t)(limit - pos);
	size_t got;
	int error;

	if (!r->buf && !(r->buf = efs_malloc(r->f->cs)))
		return efs_error_set(EFS_ENOMEM, "fileio: out of memory");
	if (!r->reader) {
		error =
		    dagreader_file_open(&r->reader, &r->f->src, &r->snap->base);
		if (error < 0)
			return error;
	}
	if ((error = dagreader_file_read(r->buf, &got, r->reader, pos, m)) < 0)
		return error;
	if (got != m)
		return efs_error_set(EFS_ECORRUPT,
				     "fileio: dag ends at %llu, not %llu",
				     (unsigned long long)(pos + got),
				     (unsigned long long)(pos + m));
	memset(r->buf + m, 0, ext - m);
	return staging_leaf_put(out, r->f->st, r->buf, ext);
}

static int zero_leaf(struct cid *out, struct rebuild *r, size_t ext)
{
	int error;

	if (ext != r->f->cs)
		return staging_zero_leaf(out, r->f->st, ext);
	if (!r->has_zero) {
		if ((error = staging_zero_leaf(&r->zero, r->f->st, ext)) < 0)
			return error;
		r->has_zero = true;
	}
	*out = r->zero;
	return 0;
}

/* Add chunk k (the next one); dl is the DAG's leaf for it, or NULL. */
static int add_chunk(struct rebuild *r, uint64_t k,
		     const struct dagreader_leaf *dl)
{
	const struct snap *sn = r->snap;
	size_t cs = r->f->cs;
	size_t ext = (size_t)fileio_extent(r->f, k, sn->size);
	const struct snap_leaf *sl = NULL;
	struct cid id;
	int error;

	assert(k == r->next);
	r->next++;
	if (r->li < sn->nleaves && sn->leaves[r->li].index == k)
		sl = &sn->leaves[r->li++];
	if (sl && sl->len != ext)
		return efs_error_set(EFS_ERROR,
				     "fileio: chunk %llu sealed with %llu "
				     "bytes, not %zu",
				     (unsigned long long)k,
				     (unsigned long long)sl->len, ext);
	if (sl)
		return importer_file_add_leaf(r->b, &sl->leaf, ext);
	if (k * cs >= sn->base_limit)
		error = zero_leaf(&id, r, ext);
	else if (dl && k * cs + ext <= sn->base_limit && dl->size == ext)
		return importer_file_add_leaf(r->b, &dl->id, ext);
	else
		error = read_leaf(&id, r, k, ext);
	return error < 0 ? error : importer_file_add_leaf(r->b, &id, ext);
}

static int walk_leaf(const struct dagreader_leaf *dl, void *payload)
{
	struct rebuild *r = payload;
	const struct snap *sn = r->snap;
	uint64_t end = sn->base_limit < sn->size ? sn->base_limit : sn->size;
	uint64_t k;
	int error;

	if (dl->offset >= end)
		return WALK_STOP;
	if (!leaf_fits(r, dl))
		return WALK_MISFIT;
	if (dl->id.codec == CID_CODEC_DAG_PB && dl->fetched) {
		r->pb_read = true;
	} else if (dl->id.codec == CID_CODEC_DAG_PB && !r->has_unread) {
		r->has_unread = true;
		r->unread = dl->id;
		r->unread_size = dl->size;
	}
	k = dl->offset / r->f->cs;
	while (r->next < k)
		if ((error = add_chunk(r, r->next, NULL)) < 0)
			return error;
	return add_chunk(r, k, dl);
}

static int builder_start(struct rebuild *r)
{
	struct blockio_sink sink = bstore_sink(r->f->bs);

	importer_file_free(r->b);
	r->b = NULL;
	r->next = 0;
	r->li = 0;
	r->pb_read = false;
	r->has_unread = false;
	return importer_file_new(&r->b, r->opts, NULL, &sink);
}

static int rebuild_run(struct cid *out, uint64_t *tsize, struct rebuild *r)
{
	const struct snap *sn = r->snap;
	uint64_t nchunks = (sn->size + r->f->cs - 1) / r->f->cs;
	uint64_t filesize;
	int error;

	if ((error = builder_start(r)) < 0)
		return error;
	if (sn->has_base && sn->base_limit > 0) {
		error = dagreader_leaves_foreach_known(
		    &r->f->src, &sn->base, leaf_evicted, walk_leaf, r);
		if (error == 0 || error == WALK_STOP)
			error = check_unread(r);
		if (error == WALK_MISFIT)
			error = builder_start(r);
		if (error < 0)
			return error;
	}
	while (r->next < nchunks)
		if ((error = add_chunk(r, r->next, NULL)) < 0)
			return error;
	if ((error = importer_file_finish(r->b, out, &filesize, tsize)) < 0)
		return error;
	if (filesize != sn->size)
		return efs_error_set(
		    EFS_ERROR, "fileio: rebuilt %llu bytes, not %llu",
		    (unsigned long long)filesize, (unsigned long long)sn->size);
	return 0;
}

static int rebuild(struct cid *out, uint64_t *tsize, struct fileio *f,
		   const struct snap *sn)
{
	struct rebuild r = {
	    .f = f,
	    .snap = sn,
	    .opts = staging_importer_opts(f->st),
	};
	int error = rebuild_run(out, tsize, &r);

	importer_file_free(r.b);
	dagreader_file_close(r.reader);
	efs_free(r.buf);
	return error;
}

/* ---- 7. after ----------------------------------------------------------- */

static void rebase(struct fileio *f, const struct cid *root,
		   const struct snap *sn)
{
	f->base = *root;
	f->has_base = true;
	f->base_size = sn->size;
	f->base_limit = f->limit_since < sn->size ? f->limit_since : sn->size;
	fileio_readers_drop(f);
	for (size_t i = f->nslots; i-- > 0;) {
		struct slot *s = f->slots[i];

		if (s->gen <= f->flush_gen) {
			assert(s->state == SLOT_SEALED);
			fileio_slot_drop(f, s);
		}
	}
	f->flushes++;
	/* writes since the snapshot are the oldest changes now */
	f->dirty_since = is_dirty(f) ? efs_clock_mono_sec() : 0;
}

/* After a failed sync: are leaves of the snapshot gone? */
static bool snap_lost(struct fileio *f, const struct snap *sn)
{
	for (size_t i = 0; i < sn->nleaves; i++)
		if (!bstore_has(f->bs, &sn->leaves[i].leaf))
			return true;
	return false;
}

/* ... or leaves sealed since?  Under the lock. */
static bool leaves_lost(struct fileio *f, const struct snap *sn)
{
	if (snap_lost(f, sn))
		return true;
	for (size_t i = 0; i < f->nslots; i++) {
		const struct slot *s = f->slots[i];

		if (s->state == SLOT_SEALED && !bstore_has(f->bs, &s->leaf))
			return true;
	}
	return false;
}

int fileio_flush(struct fileio *f, fileio_commit_cb cb, void *payload)
{
	struct snap sn = {0};
	struct cid root;
	uint64_t tsize = 0;
	bool dirty;
	int error;

	pthread_mutex_lock(&f->lock);
	while (f->flushing)
		fileio_wait(f);
	f->flushing = true;
	error = f->broken ? efs_error_set(f->broken,
					  "fileio: the file lost "
					  "data in a failed blockstore sync")
			  : seal_all(f);
	dirty = error == 0 && is_dirty(f);
	if (dirty)
		error = snapshot(&sn, f);
	f->barrier = false;
	pthread_cond_broadcast(&f->cond);
	if (error < 0 || !dirty)
		goto out;
	pthread_mutex_unlock(&f->lock);

	for (int tries = 0;; tries++) {
		if ((error = rebuild(&root, &tsize, f, &sn)) < 0)
			break;
		error = bstore_sync_deferred(f->bs, &f->mark);
		/* A failure since the last flush is reported once, even if
		 * it came before the blocks of this one: when the sealed
		 * leaves are all there, put the tree again and sync again. */
		if (error == 0 || tries == 1 || snap_lost(f, &sn))
			break;
	}
	if (error == 0)
		error = cb(&root, sn.size, tsize, payload);

	pthread_mutex_lock(&f->lock);
	if (error == 0)
		rebase(f, &root, &sn);
	else if (leaves_lost(f, &sn))
		f->broken = EFS_EIO;
out:
	f->flushing = false;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	efs_free(sn.leaves);
	return error;
}

bool fileio_dirty(struct fileio *f)
{
	bool dirty;

	pthread_mutex_lock(&f->lock);
	dirty = is_dirty(f);
	pthread_mutex_unlock(&f->lock);
	return dirty;
}
