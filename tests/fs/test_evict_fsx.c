/*
 * test_evict_fsx.c - the data path of open files (fs/fileio.c over
 * staging's block source, which the mount sets to the retriever's) while
 * the blocks under them are evicted between operations:
 * an fsx-like run of random writes (partial overwrites of chunks,
 * page-sized in-place writes as a mapping's writeback makes), truncations
 * both ways and reads on two files against byte-array models, with
 * commits (flushes) and evictions of the committed leaves (bstore_evict,
 * the real blockstore) between them, the evicted bytes served back from
 * a stash by a source that counts its fetches; a read-modify-write of
 * an evicted chunk fetches that chunk and no other; a fetch that fails
 * (timeout, I/O error, no provider, a fetch that stores nothing or bad
 * bytes) gives EIO to a reader and to a flush, never zeros, and nothing
 * staged is lost; invariant 3 (a block with links is never evicted).
 *
 * Why fileio and not a mount: this is the layer that reads the old bytes
 * of a chunk to merge a partial write (the read-modify-write), reads
 * through the read cache and its prefetch on the staging workers, and
 * walks the old tree on flush; FUSE adds only the errno mapping
 * (errmap_to_errno, checked here) and the kernel's page cache.  The
 * mount-level runs are tests/fs/test_evict.sh.
 */
#include "fs/fileio.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "core/bstore.h"
#include "core/dagreader.h"
#include "core/error.h"
#include "core/importer_file.h"
#include "core/links.h"
#include "core/mhash.h"
#include "fs/errmap.h"
#include "tests/fs/fs_test.h"
#include "tests/harness.h"

/* ---- fixture: a repository whose evicted blocks come back from a stash -- */

enum fetch_mode {
	FETCH_OK,      /* put the stashed bytes back */
	FETCH_FAIL,    /* return fail_code */
	FETCH_NOTHING, /* claim success, store nothing */
	FETCH_GARBAGE, /* store other bytes under the CID, claim success */
};

struct stash_block {
	struct cid id;
	uint8_t *data;
	size_t len;
};

struct efx {
	char dir[4096];
	char stdir[4200];
	struct bstore *bs;
	struct staging *st;
	struct importer_opts opts;
	struct cid piece; /* where the evicted blocks "went" */
	uint64_t piece_off;
	pthread_mutex_t lock; /* the fields below: fetches run on
				 readers' and staging workers' threads */
	struct stash_block *stash;
	size_t nstash, astash;
	enum fetch_mode mode;
	int fail_code;
	unsigned fetches; /* fetches of evicted blocks */
	unsigned served;  /* blocks put back */
	unsigned unknown; /* asked for a block never evicted */
};

static int nrepo;

static struct stash_block *stash_find(struct efx *x, const struct cid *id)
{
	for (size_t i = 0; i < x->nstash; i++)
		if (cid_mh_equal(&x->stash[i].id, id))
			return &x->stash[i];
	return NULL;
}

/* Keep a copy of a block's bytes before it is evicted (lock held). */
static void stash_add(struct efx *x, const struct cid *id, const uint8_t *data,
		      size_t len)
{
	struct stash_block *b;

	if (stash_find(x, id))
		return;
	if (x->nstash == x->astash) {
		x->astash = x->astash ? 2 * x->astash : 64;
		x->stash = realloc(x->stash, x->astash * sizeof(*x->stash));
		CU_ASSERT_FATAL(x->stash != NULL);
	}
	b = &x->stash[x->nstash++];
	b->id = *id;
	b->len = len;
	b->data = malloc(len ? len : 1);
	CU_ASSERT_FATAL(b->data != NULL);
	memcpy(b->data, data, len);
}

/* Bring an evicted block back from the stash, as the daemon's retrieval
 * does from the SPs: 0 once it is stored again, or an error. */
static int stash_fetch(struct efx *x, const struct cid *id)
{
	struct stash_block *b;
	int rc;

	pthread_mutex_lock(&x->lock);
	x->fetches++;
	b = stash_find(x, id);
	switch (x->mode) {
	case FETCH_FAIL:
		rc = efs_error_set(x->fail_code, "test: fetch fails");
		break;
	case FETCH_NOTHING:
		rc = 0;
		break;
	case FETCH_GARBAGE:
		if (b) {
			uint8_t *bad = malloc(b->len ? b->len : 1);

			CU_ASSERT_FATAL(bad != NULL);
			memcpy(bad, b->data, b->len);
			bad[b->len / 2] ^= 0x5a;
			rc = bstore_put(x->bs, id, bad, b->len);
			free(bad);
			break;
		}
		/* fall through */
	default:
		if (!b) {
			x->unknown++;
			rc = efs_error_set(EFS_ENOTFOUND, "test: not stashed");
			break;
		}
		/* readable at once, durable at the next sync (the
		 * retriever syncs once per job; here evict_committed does) */
		rc = bstore_put(x->bs, id, b->data, b->len);
		if (rc == 0)
			x->served++;
	}
	pthread_mutex_unlock(&x->lock);
	return rc;
}

/*
 * The source the files read through (staging_set_source), as the
 * daemon's retriever_source: the blockstore, and for an evicted block a
 * fetch, then the blockstore again.
 */
static int stash_get(void *payload, const struct cid *id, struct buf *out)
{
	struct efx *x = payload;
	int rc = bstore_get(x->bs, id, out);

	if (rc != EFS_EEVICTED)
		return rc;
	if ((rc = stash_fetch(x, id)) < 0)
		return rc;
	return bstore_get(x->bs, id, out);
}

static unsigned fetches(struct efx *x)
{
	unsigned n;

	pthread_mutex_lock(&x->lock);
	n = x->fetches;
	pthread_mutex_unlock(&x->lock);
	return n;
}

static void set_mode(struct efx *x, enum fetch_mode mode, int code)
{
	pthread_mutex_lock(&x->lock);
	x->mode = mode;
	x->fail_code = code;
	pthread_mutex_unlock(&x->lock);
}

static void efx_open(struct efx *x, const char *profile, size_t chunk,
		     unsigned links, bool trickle)
{
	struct blockio_source src;
	uint8_t digest[32];

	memset(x, 0, sizeof(*x));
	pthread_mutex_init(&x->lock, NULL);
	snprintf(x->dir, sizeof(x->dir), "%s/r%d", *fsx_suite_dir(), nrepo++);
	snprintf(x->stdir, sizeof(x->stdir), "%s/staging", x->dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(x->dir, 0755), 0);
	CU_ASSERT_EQUAL_FATAL(mkdir(x->stdir, 0755), 0);
	CU_ASSERT_EQUAL_FATAL(bstore_open(&x->bs, x->dir, NULL), 0);
	CU_ASSERT_FATAL(importer_opts_profile(&x->opts, profile) == 0);
	x->opts.chunk_size = chunk;
	x->opts.max_links = links;
	if (trickle)
		x->opts.layout = IMPORTER_LAYOUT_TRICKLE;
	CU_ASSERT_EQUAL_FATAL(
	    staging_new(&x->st, x->stdir, x->bs, &x->opts, NULL), 0);
	src = (struct blockio_source){.get = stash_get, .payload = x};
	staging_set_source(x->st, &src);
	memset(digest, 0xe5, sizeof(digest));
	CU_ASSERT_EQUAL_FATAL(
	    cid_init(&x->piece, 1, CID_CODEC_FIL_COMMITMENT_UNSEALED,
		     MHASH_SHA2_256_TRUNC254_PADDED, digest, sizeof(digest)),
	    0);
}

/* Close, after checking the store: every LOCAL block re-hashes, every
 * evicted one has its location. */
static void efx_close(struct efx *x)
{
	struct bstore_fsck_report rep;

	staging_set_source(x->st, NULL);
	staging_free(x->st);
	CU_ASSERT_EQUAL(bstore_sync(x->bs), 0);
	CU_ASSERT_EQUAL(bstore_fsck(&rep, x->bs, 0), 0);
	CU_ASSERT_EQUAL(rep.problems, 0);
	CU_ASSERT_EQUAL(x->unknown, 0);
	CU_ASSERT_EQUAL(bstore_close(x->bs), 0);
	for (size_t i = 0; i < x->nstash; i++)
		free(x->stash[i].data);
	free(x->stash);
	pthread_mutex_destroy(&x->lock);
}

/* ---- files and their models --------------------------------------------- */

struct efile {
	struct efx *x;
	struct fileio *f;
	uint8_t *bytes; /* the model */
	size_t size, cap;
	struct cid root; /* the last commit */
	uint64_t root_size;
	int commits;
};

static int commit_cb(const struct cid *root, uint64_t size, uint64_t tsize,
		     void *payload)
{
	struct efile *e = payload;

	(void)tsize;
	e->root = *root;
	e->root_size = size;
	e->commits++;
	return 0;
}

static void efile_open(struct efile *e, struct efx *x, size_t cap)
{
	memset(e, 0, sizeof(*e));
	e->x = x;
	e->cap = cap;
	e->bytes = malloc(cap);
	CU_ASSERT_FATAL(e->bytes != NULL);
	CU_ASSERT_EQUAL_FATAL(fileio_new(&e->f, x->st, NULL, 0), 0);
}

/* Drop the open state (its caches with it) and open the last commit. */
static void efile_reopen(struct efile *e)
{
	fileio_free(e->f);
	CU_ASSERT_EQUAL_FATAL(fileio_new(&e->f, e->x->st,
					 e->commits ? &e->root : NULL,
					 e->commits ? e->root_size : 0),
			      0);
}

static void efile_close(struct efile *e)
{
	fileio_free(e->f);
	free(e->bytes);
}

static void model_write(struct efile *e, size_t off, const uint8_t *p, size_t n)
{
	CU_ASSERT_FATAL(off + n <= e->cap);
	if (off > e->size)
		memset(e->bytes + e->size, 0, off - e->size);
	memcpy(e->bytes + off, p, n);
	if (off + n > e->size)
		e->size = off + n;
}

static void do_write(struct efile *e, size_t off, const uint8_t *p, size_t n)
{
	CU_ASSERT_EQUAL_FATAL(fileio_write(e->f, off, p, n), 0);
	model_write(e, off, p, n);
}

static void do_truncate(struct efile *e, size_t size)
{
	CU_ASSERT_EQUAL_FATAL(fileio_truncate(e->f, size), 0);
	if (size > e->size)
		memset(e->bytes + e->size, 0, size - e->size);
	e->size = size;
}

struct collect {
	uint8_t *out;
	size_t n;
};

static int collect_iov(const struct iovec *iov, int n, void *payload)
{
	struct collect *c = payload;

	for (int i = 0; i < n; i++) {
		memcpy(c->out + c->n, iov[i].iov_base, iov[i].iov_len);
		c->n += iov[i].iov_len;
	}
	return 0;
}

/* Read [off, off + len) as the FUSE read does (iov) or with fileio_read;
 * the code goes to *rc, the bytes to got (count returned). */
static size_t read_at(int *rc, uint8_t *got, struct efile *e, uint64_t off,
		      size_t len, bool iov)
{
	struct collect c = {got, 0};
	uint8_t *scratch;
	size_t n = 0;

	if (!iov) {
		*rc = fileio_read(got, &n, e->f, off, len);
		return n;
	}
	scratch = malloc(len ? len : 1);
	CU_ASSERT_FATAL(scratch != NULL);
	*rc = fileio_read_iov(e->f, off, len, scratch, collect_iov, &c);
	free(scratch);
	return c.n;
}

/* The read matches the model. */
static void expect_read(struct efile *e, uint64_t off, size_t len, bool iov)
{
	size_t want =
	    off >= e->size ? 0 : (e->size - off < len ? e->size - off : len);
	uint8_t *got = malloc(len ? len : 1);
	size_t n;
	int rc;

	CU_ASSERT_FATAL(got != NULL);
	n = read_at(&rc, got, e, off, len, iov);
	CU_ASSERT_EQUAL(rc, 0);
	if (rc < 0)
		fprintf(stderr, "read %llu+%zu: %s\n", (unsigned long long)off,
			len, efs_error_msg());
	CU_ASSERT_EQUAL(n, want);
	if (rc == 0 && n == want && n)
		CU_ASSERT(!memcmp(got, e->bytes + off, n));
	free(got);
}

/* The read fails, with what the kernel would get as EIO, and hands no
 * bytes over. */
static void expect_read_eio(struct efile *e, uint64_t off, size_t len, bool iov)
{
	uint8_t *got = malloc(len);
	size_t n;
	int rc;

	CU_ASSERT_FATAL(got != NULL);
	memset(got, 0xa5, len);
	n = read_at(&rc, got, e, off, len, iov);
	CU_ASSERT(rc < 0);
	CU_ASSERT_EQUAL(errmap_to_errno(rc), EIO);
	if (errmap_to_errno(rc) != EIO)
		fprintf(stderr, "read %llu+%zu: %s (%s), not EIO\n",
			(unsigned long long)off, len, errmap_name(rc),
			efs_error_msg());
	if (iov)
		CU_ASSERT_EQUAL(n, 0);
	free(got);
}

/* Flush; the commit must equal importing the model from scratch. */
static void check_flush(struct efile *e)
{
	struct importer_file *b;
	struct cid want;

	CU_ASSERT_EQUAL_FATAL(fileio_flush(e->f, commit_cb, e), 0);
	CU_ASSERT(!fileio_dirty(e->f));
	if (!e->commits) {
		CU_ASSERT_EQUAL(e->size, 0);
		return;
	}
	CU_ASSERT_FATAL(
	    importer_file_new(&b, &e->x->opts, NULL, &blockio_null_sink) == 0);
	CU_ASSERT_FATAL(importer_file_write(b, e->bytes, e->size) == 0);
	CU_ASSERT_FATAL(importer_file_finish(b, &want, NULL, NULL) == 0);
	importer_file_free(b);
	CU_ASSERT(cid_equal(&e->root, &want));
	CU_ASSERT_EQUAL(e->root_size, e->size);
}

/* ---- eviction: the leaves of committed roots ---------------------------- */

struct walk {
	struct efx *x;
	struct cid *ids; /* LOCAL leaves found */
	uint64_t *lens;
	size_t n, cap;
	size_t evicted; /* leaves found EVICTED already */
};

static int count_link(const struct cid *id, void *payload)
{
	(void)id;
	(*(size_t *)payload)++;
	return 0;
}

static int walk_block(const struct cid *id, void *payload)
{
	struct walk *w = payload;
	struct buf b = BUF_INIT(BUF_NOCAP);
	size_t links = 0;
	int rc = bstore_get(w->x->bs, id, &b);

	if (rc == EFS_EEVICTED) {
		/* evicted before: its bytes are in the stash */
		pthread_mutex_lock(&w->x->lock);
		CU_ASSERT(stash_find(w->x, id) != NULL);
		pthread_mutex_unlock(&w->x->lock);
		w->evicted++;
		return 0;
	}
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL_FATAL(
	    links_foreach(id, b.ptr, b.len, count_link, &links), 0);
	if (links) {
		rc = links_foreach(id, b.ptr, b.len, walk_block, w);
		buf_release(&b);
		return rc;
	}
	for (size_t i = 0; i < w->n; i++)
		if (cid_mh_equal(&w->ids[i], id))
			goto out;
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 64;
		w->ids = realloc(w->ids, w->cap * sizeof(*w->ids));
		w->lens = realloc(w->lens, w->cap * sizeof(*w->lens));
		CU_ASSERT_FATAL(w->ids && w->lens);
	}
	w->ids[w->n] = *id;
	w->lens[w->n++] = b.len;
	pthread_mutex_lock(&w->x->lock);
	stash_add(w->x, id, b.ptr, b.len);
	pthread_mutex_unlock(&w->x->lock);
out:
	buf_release(&b);
	return 0;
}

/*
 * Evict every leaf of the files' last commits, as the evictor would once
 * their deals are active: stash the bytes, record a location, evict in
 * one batch.  Returns the number evicted now.
 */
static size_t evict_committed(struct efx *x, struct efile *files, size_t n)
{
	struct walk w = {.x = x};
	struct bstore_location *locs;
	size_t done = 99, not_evicted = 0;

	/* what fetches put back becomes LOCAL, so it can go again */
	CU_ASSERT_EQUAL_FATAL(bstore_sync(x->bs), 0);
	for (size_t i = 0; i < n; i++)
		if (files[i].commits)
			CU_ASSERT_EQUAL_FATAL(walk_block(&files[i].root, &w),
					      0);
	if (!w.n)
		return 0;
	locs = calloc(w.n, sizeof(*locs));
	CU_ASSERT_FATAL(locs != NULL);
	for (size_t i = 0; i < w.n; i++) {
		locs[i].block = w.ids[i];
		locs[i].piece = x->piece;
		locs[i].offset = x->piece_off;
		locs[i].length = w.lens[i];
		x->piece_off += w.lens[i];
	}
	CU_ASSERT_EQUAL_FATAL(bstore_locations_add(x->bs, locs, w.n), 0);
	CU_ASSERT_EQUAL_FATAL(bstore_evict_many(&done, x->bs, w.ids, w.n), 0);
	/*
	 * A leaf whose bytes another file's seal put back since the sync
	 * (pending, EVICTED in the index) is passed over and stays
	 * readable.  Everything else went.
	 */
	CU_ASSERT(done <= w.n);
	for (size_t i = 0; i < w.n; i++) {
		struct buf b = BUF_INIT(BUF_NOCAP);

		if (bstore_has(x->bs, &w.ids[i])) {
			CU_ASSERT_EQUAL(bstore_get(x->bs, &w.ids[i], &b), 0);
			buf_release(&b);
			not_evicted++;
		}
	}
	CU_ASSERT(done + not_evicted >= w.n);
	free(locs);
	free(w.ids);
	free(w.lens);
	return done;
}

/* ---- deterministic cases ------------------------------------------------ */

#define CS 1000u

/* A committed, evicted file of n bytes (seeded) with its state reopened:
 * nothing of it in memory. */
static void evicted_file(struct efile *e, struct efx *x, size_t n,
			 uint64_t seed)
{
	uint8_t *data = malloc(n);

	CU_ASSERT_FATAL(data != NULL);
	harness_fill_random(data, n, seed);
	efile_open(e, x, 64 * CS);
	do_write(e, 0, data, n);
	check_flush(e);
	CU_ASSERT(evict_committed(x, e, 1) > 0);
	efile_reopen(e);
	free(data);
}

/* What leaf_of looks for: the leaf holding byte off. */
struct leaf_at {
	uint64_t off;
	struct cid id;
	bool found;
};

static int find_leaf(const struct dagreader_leaf *l, void *payload)
{
	struct leaf_at *a = payload;

	if (a->off >= l->offset && a->off < l->offset + l->size) {
		a->id = l->id;
		a->found = true;
		return 1;
	}
	return 0;
}

/* The CID of the leaf holding byte off of root, through bstore only
 * (the walk needs the tree's nodes, which stay local). */
static struct cid leaf_of(struct efx *x, const struct cid *root, uint64_t off)
{
	struct blockio_source src = bstore_source(x->bs);
	struct leaf_at a = {.off = off};

	CU_ASSERT(dagreader_leaves_foreach(&src, root, find_leaf, &a) >= 0);
	CU_ASSERT_FATAL(a.found);
	return a.id;
}

/*
 * A partial overwrite of an evicted chunk fetches that chunk (the old
 * bytes around the new ones) and no other; so does a truncation into
 * one and growing a file past its partial last chunk; a read fetches
 * what it reads; a hole fetches nothing.
 */
static void test_evict_fsx__read_modify_write(void)
{
	struct cid leaves[11], old;
	uint8_t patch[300];
	unsigned f0;
	struct efile e;
	struct efx x;

	efx_open(&x, "unixfs-v1-2025", CS, 4, false);
	evicted_file(&e, &x, 10 * CS + 500, 1);
	old = e.root;
	for (unsigned k = 0; k < 11; k++) {
		leaves[k] = leaf_of(&x, &old, k * CS);
		CU_ASSERT_FALSE(bstore_has(x.bs, &leaves[k]));
	}
	/* invariant 3: the root has links and stays */
	{
		struct bstore_location loc = {old, x.piece, 0, 1};

		CU_ASSERT_EQUAL(bstore_location_add(x.bs, &loc), 0);
		CU_ASSERT_EQUAL(bstore_evict(x.bs, &old), EFS_EINVAL);
		CU_ASSERT(bstore_has(x.bs, &old));
	}
	CU_ASSERT_EQUAL(fileio_size(e.f), 10 * CS + 500);
	CU_ASSERT_EQUAL(fetches(&x), 0);

	/* 10 bytes into chunk 3 */
	harness_fill_random(patch, sizeof(patch), 2);
	f0 = fetches(&x);
	do_write(&e, 3 * CS + 100, patch, 10);
	check_flush(&e);
	CU_ASSERT(fetches(&x) - f0 >= 1);
	CU_ASSERT(bstore_has(x.bs, &leaves[3]));
	for (unsigned k = 0; k < 11; k++)
		if (k != 3)
			CU_ASSERT_FALSE(bstore_has(x.bs, &leaves[k]));

	/* across two chunks, partly each */
	f0 = fetches(&x);
	do_write(&e, 1 * CS + 900, patch, 200);
	check_flush(&e);
	CU_ASSERT(fetches(&x) - f0 >= 2);
	CU_ASSERT(bstore_has(x.bs, &leaves[1]));
	CU_ASSERT(bstore_has(x.bs, &leaves[2]));
	CU_ASSERT_FALSE(bstore_has(x.bs, &leaves[0]));

	/* a read fetches what it reads */
	f0 = fetches(&x);
	expect_read(&e, 5 * CS + 10, 20, true);
	CU_ASSERT(fetches(&x) - f0 >= 1);
	CU_ASSERT(bstore_has(x.bs, &leaves[5]));

	/* shrinking into chunk 7 keeps its head: fetched; 8.. are not */
	f0 = fetches(&x);
	do_truncate(&e, 7 * CS + 450);
	check_flush(&e);
	CU_ASSERT(fetches(&x) - f0 >= 1);
	CU_ASSERT(bstore_has(x.bs, &leaves[7]));
	for (unsigned k = 8; k < 11; k++)
		CU_ASSERT_FALSE(bstore_has(x.bs, &leaves[k]));

	/* growing past the partial last chunk, evicted again */
	CU_ASSERT(evict_committed(&x, &e, 1) > 0);
	efile_reopen(&e);
	old = leaf_of(&x, &e.root, 7 * CS);
	CU_ASSERT_FALSE(bstore_has(x.bs, &old));
	f0 = fetches(&x);
	do_truncate(&e, 12 * CS + 3);
	check_flush(&e);
	CU_ASSERT(fetches(&x) - f0 >= 1);
	CU_ASSERT(bstore_has(x.bs, &old));

	/* a hole reads as zeros without the network */
	f0 = fetches(&x);
	expect_read(&e, 9 * CS, 2 * CS, false);
	CU_ASSERT_EQUAL(fetches(&x), f0);

	/* everything, from a fresh state over the evicted commit */
	CU_ASSERT(evict_committed(&x, &e, 1) > 0);
	efile_reopen(&e);
	expect_read(&e, 0, e.size, false);
	efile_close(&e);
	efx_close(&x);
}

/*
 * With dag-pb leaves (unixfs-v0-2015, kubo's default) a small change to
 * an evicted file fetches what it touches and no more, as with raw
 * leaves: the flush's walk of the old tree keeps an evicted dag-pb child
 * without reading it (an evicted block has no links: a leaf), by its
 * size in the index.  The leaf the change read to merge it vouches for
 * the leaves' encoding; a whole-chunk change reads nothing, so the flush
 * reads one kept leaf to check it.  (Before this, every leaf was
 * fetched: 20 for this file.)
 */
static void test_evict_fsx__small_change_dagpb(void)
{
	uint8_t patch[CS];
	unsigned f0;
	struct efile e;
	struct efx x;

	efx_open(&x, "unixfs-v0-2015", CS, 4, false);
	evicted_file(&e, &x, 20 * CS, 5);
	harness_fill_random(patch, sizeof(patch), 6);
	f0 = fetches(&x);
	do_write(&e, 3 * CS + 100, patch, 10);
	check_flush(&e);
	CU_ASSERT_EQUAL(fetches(&x) - f0, 1);
	CU_ASSERT(evict_committed(&x, &e, 1) > 0);
	efile_reopen(&e);
	f0 = fetches(&x);
	do_write(&e, 7 * CS, patch, CS);
	check_flush(&e);
	CU_ASSERT_EQUAL(fetches(&x) - f0, 1);
	efile_reopen(&e);
	expect_read(&e, 0, e.size, false);
	efile_close(&e);
	efx_close(&x);
}

/*
 * A DAG whose evicted dag-pb leaves have the size of this profile's but
 * not its type (trickle's Raw leaves under the balanced layout, one byte
 * either way): the leaf read to check them tells, and the flush reads
 * the chunks instead, so the commit is still the profile's own DAG of
 * the bytes (check_flush compares it with a fresh import).
 */
static void test_evict_fsx__dagpb_other_type(void)
{
	struct blockio_sink sink;
	struct importer_opts o;
	struct importer_file *b;
	uint8_t patch[CS];
	unsigned f0;
	struct efile e;
	struct efx x;

	efx_open(&x, "unixfs-v0-2015", CS, 4, false);
	efile_open(&e, &x, 64 * CS);
	e.size = 20 * CS;
	harness_fill_random(e.bytes, e.size, 8);
	o = x.opts;
	o.layout = IMPORTER_LAYOUT_TRICKLE;
	sink = bstore_sink(x.bs);
	CU_ASSERT_FATAL(importer_file_new(&b, &o, NULL, &sink) == 0);
	CU_ASSERT_FATAL(importer_file_write(b, e.bytes, e.size) == 0);
	CU_ASSERT_FATAL(importer_file_finish(b, &e.root, &e.root_size, NULL) ==
			0);
	importer_file_free(b);
	e.commits = 1;
	CU_ASSERT(evict_committed(&x, &e, 1) == 20);
	efile_reopen(&e);
	harness_fill_random(patch, sizeof(patch), 9);
	f0 = fetches(&x);
	do_write(&e, 7 * CS, patch, CS);
	check_flush(&e);
	CU_ASSERT(fetches(&x) - f0 >= 19);
	efile_reopen(&e);
	expect_read(&e, 0, e.size, false);
	efile_close(&e);
	efx_close(&x);
}

/*
 * Every way a fetch can fail reaches a reader as EIO and never as
 * bytes; a flush that needs the old bytes fails the same way and keeps
 * what was written, which a later flush commits once fetches work again.
 */
static void test_evict_fsx__fetch_fails(void)
{
	static const int codes[] = {EFS_ETIMEDOUT, EFS_EIO, EFS_ENOTFOUND};
	uint8_t patch[50];
	struct cid leaf;
	int commits;
	struct efile e;
	struct efx x;

	efx_open(&x, "unixfs-v1-2025", CS, 4, false);
	evicted_file(&e, &x, 8 * CS, 3);
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		set_mode(&x, FETCH_FAIL, codes[i]);
		expect_read_eio(&e, 2 * CS + 5, 100, false);
		expect_read_eio(&e, 2 * CS + 5, 100, true);
	}
	set_mode(&x, FETCH_NOTHING, 0);
	expect_read_eio(&e, 4 * CS, CS, false);
	expect_read_eio(&e, 4 * CS, CS, true);

	/* a sequential reader: its prefetches fail too, and none sticks */
	set_mode(&x, FETCH_FAIL, EFS_ETIMEDOUT);
	for (unsigned k = 0; k < 6; k++)
		expect_read_eio(&e, k * CS, CS, true);
	set_mode(&x, FETCH_OK, 0);
	for (unsigned k = 0; k < 8; k++)
		expect_read(&e, k * CS, CS, true);

	/* a partial overwrite whose old bytes cannot be had */
	CU_ASSERT(evict_committed(&x, &e, 1) > 0);
	efile_reopen(&e);
	set_mode(&x, FETCH_FAIL, EFS_EIO);
	harness_fill_random(patch, sizeof(patch), 4);
	do_write(&e, 6 * CS + 200, patch, sizeof(patch));
	commits = e.commits;
	{
		int rc = fileio_flush(e.f, commit_cb, &e);

		CU_ASSERT(rc < 0);
		CU_ASSERT_EQUAL(errmap_to_errno(rc), EIO);
	}
	CU_ASSERT_EQUAL(e.commits, commits);
	CU_ASSERT(fileio_dirty(e.f));
	expect_read_eio(&e, 6 * CS, CS, true);
	set_mode(&x, FETCH_OK, 0);
	expect_read(&e, 6 * CS, CS, true);
	check_flush(&e);
	CU_ASSERT_EQUAL(e.commits, commits + 1);

	/* a fetch that stores bytes not matching the CID: re-hashed on read
	 * (invariant 4), so they never reach the reader */
	CU_ASSERT(evict_committed(&x, &e, 1) > 0);
	efile_reopen(&e);
	leaf = leaf_of(&x, &e.root, 0);
	set_mode(&x, FETCH_GARBAGE, 0);
	expect_read_eio(&e, 10, 100, true);
	CU_ASSERT(bstore_has(x.bs, &leaf)); /* stored, bad: fsck's to find */
	{
		struct bstore_fsck_report rep;

		set_mode(&x, FETCH_OK, 0);
		CU_ASSERT_EQUAL(bstore_sync(x.bs), 0);
		CU_ASSERT_EQUAL(bstore_fsck(&rep, x.bs, 0), 0);
		CU_ASSERT_EQUAL(rep.problems, 1);
	}
	efile_close(&e);
	/* not efx_close: the store holds the bad block on purpose */
	staging_set_source(x.st, NULL);
	staging_free(x.st);
	CU_ASSERT_EQUAL(bstore_close(x.bs), 0);
	for (size_t i = 0; i < x.nstash; i++)
		free(x.stash[i].data);
	free(x.stash);
	pthread_mutex_destroy(&x.lock);
}

/* ---- fsx with evictions between operations ------------------------------ */

#define NFILES 2

static uint64_t next_rand(uint64_t *s)
{
	return harness_rand64(s);
}

/* A small write inside the file, as a mapping's dirty page comes back:
 * page-aligned, never past the end (a mapping cannot extend a file), or
 * a few bytes anywhere in it. */
static void mapped_write(struct efile *e, uint64_t *s, uint8_t *data)
{
	size_t page = e->x->opts.chunk_size / 4, off, len;

	if (e->size == 0)
		return;
	if (next_rand(s) % 2) {
		off = (size_t)(next_rand(s) % e->size) / page * page;
		len = e->size - off < page ? e->size - off : page;
	} else {
		off = (size_t)(next_rand(s) % e->size);
		len = (size_t)(next_rand(s) % 16) + 1;
		if (len > e->size - off)
			len = e->size - off;
	}
	harness_fill_random(data, len, *s);
	do_write(e, off, data, len);
}

static void fsx_step(struct efx *x, struct efile *files, uint64_t *s,
		     uint8_t *data, size_t maxsize)
{
	size_t cs = x->opts.chunk_size;
	struct efile *e = &files[next_rand(s) % NFILES];
	uint64_t r = next_rand(s) % 100;
	size_t off = (size_t)(next_rand(s) % maxsize);
	size_t len = (size_t)(next_rand(s) % (3 * cs)) + 1;

	if (r < 30) {
		/* near chunk edges too */
		if (r < 8)
			off = off / cs * cs + (r % 3) * cs - (r % 2);
		if (off > maxsize - 1)
			off = maxsize - 1;
		if (len > maxsize - off)
			len = maxsize - off;
		harness_fill_random(data, len, *s);
		do_write(e, off, data, len);
	} else if (r < 40) {
		mapped_write(e, s, data);
	} else if (r < 48) {
		if (r < 42)
			off = off / cs * cs;
		else if (r < 45 && e->size)
			off = (size_t)(next_rand(s) % e->size);
		do_truncate(e, off);
	} else if (r < 72) {
		expect_read(e, off, len, r % 2);
	} else if (r < 82) {
		check_flush(e);
	} else if (r < 90) {
		for (size_t i = 0; i < NFILES; i++)
			check_flush(&files[i]);
		evict_committed(x, files, NFILES);
	} else if (r < 95) {
		/* under staged changes */
		evict_committed(x, files, NFILES);
	} else {
		check_flush(e);
		efile_reopen(e);
	}
	CU_ASSERT_EQUAL_FATAL(fileio_size(e->f), e->size);
}

static void fsx_evict_run(struct efx *x, uint64_t seed, int ops, size_t maxsize)
{
	struct efile files[NFILES];
	uint8_t *data = malloc(3 * x->opts.chunk_size);
	uint64_t s = seed;

	CU_ASSERT_FATAL(data != NULL);
	for (size_t i = 0; i < NFILES; i++)
		efile_open(&files[i], x, maxsize);
	for (int i = 0; i < ops; i++)
		fsx_step(x, files, &s, data, maxsize);
	/* the end: committed, evicted, read back whole from nothing */
	for (size_t i = 0; i < NFILES; i++)
		check_flush(&files[i]);
	evict_committed(x, files, NFILES);
	for (size_t i = 0; i < NFILES; i++) {
		efile_reopen(&files[i]);
		expect_read(&files[i], 0, files[i].size, false);
		efile_close(&files[i]);
	}
	free(data);
}

static void fsx_profile(const char *profile, size_t cs, unsigned links,
			bool trickle, uint64_t seed0, int nseeds, int ops)
{
	struct efx x;

	efx_open(&x, profile, cs, links, trickle);
	for (int i = 0; i < nseeds; i++)
		fsx_evict_run(&x, (seed0 + i) * 0x9e3779b97f4a7c15ull, ops,
			      40 * cs);
	fprintf(stderr, "# %s%s: %zu distinct blocks evicted, %u fetched\n",
		profile, trickle ? " trickle" : "", x.nstash, x.served);
	CU_ASSERT(x.fetches > 0);
	CU_ASSERT(x.served > 0);
	efx_close(&x);
}

static void test_evict_fsx__raw(void)
{
	fsx_profile("unixfs-v1-2025", 1000, 4, false, 1, 4, 600);
}

/* dag-pb leaves (CIDv0) and the trickle layout */
static void test_evict_fsx__profiles(void)
{
	fsx_profile("unixfs-v0-2015", 700, 3, false, 11, 2, 400);
	fsx_profile("unixfs-v1-2025", 512, 3, true, 21, 2, 400);
}

static CU_TestInfo evict_fsx_tests[] = {
    {"read_modify_write", test_evict_fsx__read_modify_write},
    {"small_change_dagpb", test_evict_fsx__small_change_dagpb},
    {"dagpb_other_type", test_evict_fsx__dagpb_other_type},
    {"fetch_fails", test_evict_fsx__fetch_fails},
    {"raw", test_evict_fsx__raw},
    {"profiles", test_evict_fsx__profiles},
    CU_TEST_INFO_NULL,
};

HARNESS_MAIN({.pName = "evict_fsx",
	      .pInitFunc = fsx_suite_setup,
	      .pCleanupFunc = fsx_suite_teardown,
	      .pTests = evict_fsx_tests})
