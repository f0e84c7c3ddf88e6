/*
 * commp_bench.c - CommP throughput of core/commp on one file, for
 * bench/commp.sh.  Not installed, not a test.
 *
 *	commp_bench [-j THREADS] [-m] FILE     hash FILE, print one line
 *	commp_bench -g BYTES FILE              write BYTES of deterministic
 *	                                       data (xorshift64*, seed 1:
 *	                                       harness_fill_random's stream)
 *
 * The file is read with read(2) in slices of 8 chunks (about 8 MiB), as
 * `estuaryfs commp` does; -m maps it instead (MAP_POPULATE, before the
 * clock starts), so only the hashing is timed.  The output line:
 *
 *	threads=N bytes=B wall=S cpu=S mbps=X v1=CID v2=CID
 *
 * mbps is payload bytes / wall seconds / 10^6; cpu is user + system time
 * of the process.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/commp.h"
#include "core/error.h"

#include "core/banned.h"

#define SLICE (8 * COMMP_CHUNK_BYTES)

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

static int generate(const char *path, unsigned long long len)
{
	static uint8_t out[1 << 16];
	uint64_t x = 1;
	FILE *f = fopen(path, "wb");

	if (!f) {
		perror(path);
		return 1;
	}
	for (unsigned long long i = 0; i < len; i++) {
		if (i % 8 == 0) {
			x ^= x >> 12;
			x ^= x << 25;
			x ^= x >> 27;
		}
		out[i % sizeof(out)] =
			(uint8_t)((x * 0x2545f4914f6cdd1dull) >> (8 * (i % 8)));
		if (i % sizeof(out) == sizeof(out) - 1 &&
		    fwrite(out, 1, sizeof(out), f) != sizeof(out))
			break;
	}
	fwrite(out, 1, len % sizeof(out), f);
	if (ferror(f) | fclose(f)) {
		perror(path);
		return 1;
	}
	return 0;
}

static int hash_read(struct commp *c, int fd)
{
	uint8_t *buf = malloc(SLICE);
	ssize_t n;

	if (!buf)
		return EFS_ENOMEM;
	while ((n = read(fd, buf, SLICE)) > 0) {
		/* Keep slices whole: short reads would split chunks. */
		ssize_t more;

		while ((size_t)n < SLICE &&
		       (more = read(fd, buf + n, SLICE - (size_t)n)) > 0)
			n += more;
		if (commp_update(c, buf, (size_t)n) < 0)
			break;
	}
	free(buf);
	return n < 0 ? efs_error_set_errno(EFS_EIO, errno, "read") : 0;
}

static int hash_map(struct commp *c, int fd, size_t len, double *t0,
		    double *cpu0)
{
	uint8_t *p = len ? mmap(NULL, len, PROT_READ,
				MAP_PRIVATE | MAP_POPULATE, fd, 0)
			 : NULL;
	int error = 0;

	if (p == MAP_FAILED)
		return efs_error_set_errno(EFS_EIO, errno, "mmap");
	*cpu0 = cpu_seconds();
	*t0 = efs_clock_mono();
	for (size_t off = 0; off < len && !error; off += SLICE)
		error = commp_update(c, p + off,
				     len - off < SLICE ? len - off : SLICE);
	if (p)
		munmap(p, len);
	return error;
}

int main(int argc, char **argv)
{
	unsigned threads = 1;
	bool map = false;
	struct commp_piece piece;
	struct commp *c;
	struct cid id;
	struct stat st;
	char v1[CID_STR_MAX], v2[CID_STR_MAX];
	double t0, t1, cpu0;
	int opt, fd, error;

	while ((opt = getopt(argc, argv, "g:j:m")) != -1) {
		if (opt == 'g' && optind < argc)
			return generate(argv[optind],
					strtoull(optarg, NULL, 10));
		else if (opt == 'j')
			threads = (unsigned)strtoul(optarg, NULL, 10);
		else if (opt == 'm')
			map = true;
		else
			goto usage;
	}
	if (optind != argc - 1)
		goto usage;
	fd = open(argv[optind], O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(argv[optind]);
		return 1;
	}
	if (commp_new(&c, threads) < 0) {
		fprintf(stderr, "commp: %s\n", efs_error_msg());
		return 1;
	}
	cpu0 = cpu_seconds();
	t0 = efs_clock_mono();
	error = map ? hash_map(c, fd, (size_t)st.st_size, &t0, &cpu0)
		    : hash_read(c, fd);
	commp_finish(&piece, c);
	t1 = efs_clock_mono();
	if (error < 0) {
		fprintf(stderr, "commp: %s\n", efs_error_msg());
		return 1;
	}
	commp_cid_v1(&id, &piece);
	cid_tostr(v1, &id);
	commp_cid_v2(&id, &piece);
	cid_tostr(v2, &id);
	printf("threads=%u bytes=%llu wall=%.3f cpu=%.3f mbps=%.1f v1=%s "
	       "v2=%s\n",
	       threads, (unsigned long long)piece.payload_size, t1 - t0,
	       cpu_seconds() - cpu0,
	       (double)piece.payload_size / (t1 - t0) / 1e6, v1, v2);
	commp_free(c);
	close(fd);
	return 0;
usage:
	fputs("usage: commp_bench [-j THREADS] [-m] FILE\n"
	      "       commp_bench -g BYTES FILE\n", stderr);
	return 2;
}
