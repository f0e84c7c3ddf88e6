/*
 * piece_test.h - the fixture shared by test_piece.c and
 * test_piece_reader.c: a blockstore and a piece store (test clock T0) in
 * a temp directory, UnixFS files imported into it with small chunks, and
 * what core/ makes of them independently (a commit's CAR as
 * car_write_dag writes it) next to what the piece reader returns.
 */
#ifndef EFS_PIECE_TEST_H
#define EFS_PIECE_TEST_H

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/bstore.h"
#include "core/car.h"
#include "core/error.h"
#include "core/importer.h"
#include "dealer/piece.h"
#include "tests/harness.h"

#define T0 1700000000

struct fx {
	char *dir;
	char db[4096];           /* the piece store's index.db in dir */
	struct bstore *bs;
	struct piece_store *ps;
	struct piece_limits lim;
	struct cid roots[8];     /* commits a test made, for its own use */
	size_t nroots;
};

/* Open the piece store over f->bs with f->lim, on the test clock. */
static inline void fx_open_store(struct fx *f)
{
	int rc = piece_store_open(&f->ps, f->db, f->bs, &f->lim);

	if (rc < 0)
		fprintf(stderr, "piece_store_open: %s\n", efs_error_msg());
	CU_ASSERT_FATAL(rc == 0);
	piece_store_test_clock(f->ps, T0);
}

/* The blockstore and the piece store, opened again after fx_unstore. */
static inline void fx_store(struct fx *f)
{
	CU_ASSERT_FATAL(bstore_open(&f->bs, f->dir, NULL) == 0);
	fx_open_store(f);
}

static inline void fx_unstore(struct fx *f)
{
	piece_store_close(f->ps);
	CU_ASSERT_EQUAL(bstore_close(f->bs), 0);
}

/* A new temp directory with both stores, and these limits. */
static inline void fx_open(struct fx *f, uint64_t min_padded,
			   uint64_t target, int64_t age, uint64_t max_payload)
{
	memset(f, 0, sizeof(*f));
	f->dir = harness_tmpdir();
	CU_ASSERT_FATAL(f->dir != NULL);
	snprintf(f->db, sizeof(f->db), "%s/index.db", f->dir);
	f->lim.min_padded = min_padded;
	f->lim.agg_target_padded = target;
	f->lim.agg_max_age_s = age;
	f->lim.max_payload = max_payload;
	fx_store(f);
}

static inline void fx_close(struct fx *f)
{
	fx_unstore(f);
	harness_tmpdir_free(f->dir);
}

/* Import data[0..len) as a file of chunk-byte leaves. */
static inline void import_bytes(struct cid *root, struct fx *f,
				const uint8_t *data, size_t len, size_t chunk,
				unsigned links)
{
	struct blockio_sink sink = bstore_sink(f->bs);
	struct importer_opts o;
	char path[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/in", f->dir);
	CU_ASSERT_FATAL(harness_write_file(path, data, len) == 0);
	CU_ASSERT_FATAL(importer_opts_profile(&o, NULL) == 0);
	o.chunk_size = chunk;
	o.max_links = links;
	o.threads = 1;
	fd = open(path, O_RDONLY);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(importer_add_fd(root, NULL, fd, &o, &sink, NULL,
					NULL) == 0);
	close(fd);
	unlink(path);
	CU_ASSERT_FATAL(bstore_sync(f->bs) == 0);
}

/* Import len random bytes (seed) as a file of chunk-byte leaves. */
static inline void make_file(struct cid *root, struct fx *f, size_t len,
			     uint64_t seed, size_t chunk, unsigned links)
{
	uint8_t *data = efs_malloc(len ? len : 1);

	CU_ASSERT_FATAL(data != NULL);
	harness_fill_random(data, len, seed);
	import_bytes(root, f, data, len, chunk, links);
	efs_free(data);
}

static inline int fx_to_buf(void *payload, const uint8_t *data, size_t len)
{
	return buf_add(payload, data, len);
}

/* The commit's CAR exactly as car_write_dag writes it. */
static inline void car_of(struct buf *out, struct fx *f,
			  const struct cid *root)
{
	struct blockio_source src = bstore_source(f->bs);
	struct car_writer *w;

	buf_reset(out);
	CU_ASSERT_FATAL(car_writer_new_cb(&w, fx_to_buf, out) == 0);
	CU_ASSERT_FATAL(car_write_dag(w, &src, root, NULL, NULL) == 0);
	car_writer_free(w);
}

/* The whole payload of a piece through its reader. */
static inline int payload_of(struct buf *out, struct fx *f, int64_t piece_id)
{
	struct piece_reader *r;
	uint64_t size;
	int rc;

	buf_reset(out);
	if ((rc = piece_reader_open(&r, f->ps, piece_id)) < 0)
		return rc;
	size = piece_reader_size(r);
	rc = buf_grow(out, (size_t)size);
	if (rc == 0)
		rc = piece_reader_read(r, 0, out->ptr, (size_t)size);
	if (rc == 0)
		out->len = (size_t)size;
	piece_reader_close(r);
	return rc;
}

#endif
