/*
 * fuzz_car.c - the CAR readers on arbitrary bytes.
 *
 * Properties: the memory reader and the fd reader (a memfd) agree on
 * every section and on the final code; a CARv1 that reads in full is
 * rewritten by the writer to the very same bytes (header and sections
 * have one encoding), and wraps into a CARv2 whose index checks out;
 * carv2_open_mem never crashes, and a file it opens serves every
 * indexed block.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/car.h"
#include "core/carv2.h"
#include "core/error.h"

static int to_buf(void *payload, const uint8_t *data, size_t len)
{
	return buf_add(payload, data, len);
}

static int open_memfd(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz_car", 0);

	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	if (lseek(fd, 0, SEEK_SET) != 0)
		abort();
	return fd;
}

/*
 * Read both ways.  Codes must agree, except that the memory reader sees
 * a CARv2 data size past the end of the input at once, where the fd
 * reader reads the sections that are there first: then both end in
 * EFS_ECORRUPT.  Rewrite into out when the CAR is a good CARv1.
 */
static int read_both(struct buf *out, const uint8_t *data, size_t size)
{
	struct car_reader *rm = NULL, *rf = NULL;
	struct car_writer *w = NULL;
	struct car_block bm, bf;
	int fd = open_memfd(data, size);
	int cm = car_reader_open_mem(&rm, data, size);
	int cf = car_reader_open_fd(&rf, fd);
	bool v1 = cm == 0 && car_reader_version(rm) == 1;

	if (v1) {
		size_t n;
		const struct cid *roots = car_reader_roots(rm, &n);

		if (car_writer_new_cb(&w, to_buf, out) != 0 ||
		    car_writer_header(w, roots, n) != 0)
			abort();
	}
	while (cm == 0 && cf == 0) {
		cm = car_reader_next(rm, &bm);
		cf = car_reader_next(rf, &bf);
		if (cm != 0 || cf != 0)
			break;
		if (!cid_equal(&bm.info.id, &bf.info.id) ||
		    bm.info.section_offset != bf.info.section_offset ||
		    bm.info.block_len != bf.info.block_len ||
		    memcmp(bm.data, bf.data, (size_t)bm.info.block_len))
			abort();
		if (w && car_writer_add(w, NULL, &bm.info.id, bm.data,
					(size_t)bm.info.block_len) != 0)
			abort();
	}
	while (cf == 0)
		cf = car_reader_next(rf, &bf);
	if (cm != cf)
		abort();
	if (w && car_writer_finish(w) != 0)
		abort();
	car_writer_free(w);
	car_reader_free(rm);
	car_reader_free(rf);
	close(fd);
	return v1 && cm == EFS_ITEROVER ? 0 : -1;
}

static void check_v2(const uint8_t *data, size_t size, bool must_open)
{
	struct carv2 *c;
	int rc = carv2_open_mem(&c, data, size);

	if (rc < 0) {
		if (must_open)
			abort();
		return;
	}
	rc = carv2_verify_index(c);
	if (must_open && rc != 0)
		abort();
	carv2_close(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT(BUF_NOCAP);
	struct buf v2 = BUF_INIT(BUF_NOCAP);

	if (read_both(&out, data, size) == 0) {
		if (out.len != size || memcmp(out.ptr, data, size))
			abort();
		if (carv2_wrap_mem(&v2, data, size) != 0)
			abort();
		check_v2(v2.ptr, v2.len, true);
	}
	check_v2(data, size, false);
	buf_release(&v2);
	buf_release(&out);
	return 0;
}
