/*
 * bstore_bench.c - blockstore put throughput against the disk.
 *
 *   bstore_bench [-H] [-b BLOCK_KIB] [-w BUFFER_KIB] SRC REPO
 *
 * Reads SRC (any file; keep it in the page cache so the disk only sees
 * the writes) in BLOCK_KIB chunks (default 1024), puts each as a raw block
 * into a fresh store in REPO (which must not exist), then one bstore_sync
 * (the batch bounds are lifted so that it is the only one), and prints the
 * time and MB/s for the puts plus the sync.  -w sets the pack write
 * buffer (default: the store's default).  The CIDs are
 * computed before the clock starts unless -H is given, in which case the
 * hashing (sha2-256) is timed too, as the importer would see it.
 *
 * Compare with dd writing the same bytes to the same disk:
 *   dd if=SRC of=REPO.dd bs=1M oflag=direct
 *   dd if=SRC of=REPO.dd bs=1M conv=fdatasync
 * bench/bstore_bench.sh runs all three side by side.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/bstore.h"
#include "core/clock.h"
#include "core/error.h"

static int die(const char *what)
{
	fprintf(stderr, "bstore_bench: %s: %s\n", what, efs_error_msg());
	return 1;
}

static int read_block(uint8_t *buf, int fd, size_t bs, size_t i, size_t *len)
{
	ssize_t n = pread(fd, buf, bs, (off_t)(i * bs));

	if (n < 0)
		return -1;
	*len = (size_t)n;
	return 0;
}

int main(int argc, char **argv)
{
	struct bstore_opts opts = BSTORE_OPTS_INIT;
	struct bstore *st;
	struct cid *ids;
	struct stat sb;
	size_t block = 1 << 20;
	size_t nblocks;
	size_t len;
	uint8_t *buf;
	bool hash_timed = false;
	double t0;
	double t1;
	double t2;
	int fd;
	int opt;

	while ((opt = getopt(argc, argv, "Hb:w:")) != -1) {
		if (opt == 'H')
			hash_timed = true;
		else if (opt == 'b')
			block = (size_t)strtoul(optarg, NULL, 10) << 10;
		else if (opt == 'w')
			opts.write_buffer = (size_t)strtoul(optarg, NULL, 10)
					    << 10;
		else
			return 2;
	}
	if (argc - optind != 2 || !block) {
		fprintf(stderr, "usage: bstore_bench [-H] [-b KIB] [-w KIB] "
				"SRC REPO\n");
		return 2;
	}
	fd = open(argv[optind], O_RDONLY);
	if (fd < 0 || fstat(fd, &sb) < 0) {
		perror(argv[optind]);
		return 1;
	}
	if (mkdir(argv[optind + 1], 0755) < 0) {
		perror(argv[optind + 1]);
		return 1;
	}
	nblocks = ((size_t)sb.st_size + block - 1) / block;
	buf = malloc(block);
	ids = calloc(nblocks ? nblocks : 1, sizeof(*ids));
	if (!buf || !ids)
		return 1;
	for (size_t i = 0; i < nblocks && !hash_timed; i++)
		if (read_block(buf, fd, block, i, &len) < 0 ||
		    cid_hash(&ids[i], 1, CID_CODEC_RAW, MHASH_SHA2_256, buf,
			     len) < 0)
			return die("hash");
	opts.block_max = block > opts.block_max ? block : opts.block_max;
	opts.batch_bytes = UINT64_MAX;
	opts.batch_count = SIZE_MAX;
	if (bstore_open(&st, argv[optind + 1], &opts) < 0)
		return die("open");
	t0 = efs_clock_mono();
	for (size_t i = 0; i < nblocks; i++) {
		if (read_block(buf, fd, block, i, &len) < 0)
			return die("read");
		if (hash_timed && cid_hash(&ids[i], 1, CID_CODEC_RAW,
					   MHASH_SHA2_256, buf, len) < 0)
			return die("hash");
		if (bstore_put(st, &ids[i], buf, len) < 0)
			return die("put");
	}
	t1 = efs_clock_mono();
	if (bstore_sync(st) < 0)
		return die("sync");
	t2 = efs_clock_mono();
	printf("bstore put%s: %zu blocks, %.1f MiB in %.3f s (puts %.3f s, "
	       "final sync %.3f s): %.1f MB/s\n",
	       hash_timed ? "+hash" : "", nblocks,
	       (double)sb.st_size / 1048576.0, t2 - t0, t1 - t0, t2 - t1,
	       (double)sb.st_size / 1e6 / (t2 - t0));
	if (bstore_close(st) < 0)
		return die("close");
	free(buf);
	free(ids);
	close(fd);
	return 0;
}
