/*
 * b2speed.c - libb2's own BLAKE2b-256 throughput, the yardstick bench/core.sh
 * holds `estuaryfs add --hash blake2b-256` against (as `openssl speed` is
 * for sha2-256).
 *
 *   b2speed [-t THREADS] [-s SECONDS] [-b BLOCK]
 *
 * Each thread hashes its own BLOCK-byte buffer (default 1 MiB, the
 * importer's chunk) over and over for SECONDS (default 3); prints
 *
 *   blake2b-256 threads=N block=B bytes=T wall=S cpu=C bytes_per_sec=R
 *   bytes_per_cpu_sec=P
 *
 * (one line): T bytes hashed in S seconds of wall clock and C seconds of
 * CPU (user + system, all threads).  P is the per-core figure that a
 * loaded machine disturbs least.
 */
#include <blake2.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

struct job {
	size_t block;
	double seconds;
	uint64_t bytes;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *hash_loop(void *arg)
{
	struct job *j = arg;
	uint8_t out[32];
	uint8_t *buf = malloc(j->block);
	double end;

	if (!buf)
		return NULL;
	for (size_t i = 0; i < j->block; i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	end = now() + j->seconds;
	while (now() < end) {
		for (int k = 0; k < 16; k++) {
			blake2b(out, buf, NULL, 32, j->block, 0);
			buf[0] ^= out[0];
			j->bytes += j->block;
		}
	}
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t tid[256];
	struct job jobs[256];
	long threads = 1;
	double seconds = 3, start, took, cpu;
	struct rusage ru;
	size_t block = 1 << 20;
	uint64_t total = 0;
	int c;

	while ((c = getopt(argc, argv, "t:s:b:")) != -1) {
		switch (c) {
		case 't':
			threads = strtol(optarg, NULL, 10);
			break;
		case 's':
			seconds = strtod(optarg, NULL);
			break;
		case 'b':
			block = strtoul(optarg, NULL, 10);
			break;
		default:
			fputs("usage: b2speed [-t N] [-s SECONDS] [-b BLOCK]\n",
			      stderr);
			return 2;
		}
	}
	if (threads < 1 || threads > 256 || block == 0 || seconds <= 0) {
		fprintf(stderr, "b2speed: bad arguments\n");
		return 2;
	}
	start = now();
	for (long i = 0; i < threads; i++) {
		jobs[i] = (struct job){ block, seconds, 0 };
		if (pthread_create(&tid[i], NULL, hash_loop, &jobs[i]) != 0) {
			fprintf(stderr, "b2speed: cannot start a thread\n");
			return 1;
		}
	}
	for (long i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
		total += jobs[i].bytes;
	}
	took = now() - start;
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	      (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	printf("blake2b-256 threads=%ld block=%zu bytes=%llu wall=%.3f "
	       "cpu=%.3f bytes_per_sec=%.0f bytes_per_cpu_sec=%.0f\n",
	       threads, block, (unsigned long long)total, took, cpu,
	       (double)total / took, cpu > 0 ? (double)total / cpu : 0);
	return 0;
}
