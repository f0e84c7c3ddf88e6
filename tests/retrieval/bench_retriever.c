/*
 * bench_retriever.c - the retriever's own figures against the devnet, a
 * benchmark (built, never run by `meson test`; the mount's figures are
 * bench/retrieval.sh's):
 *
 *	DEVNET_BIN=build/contrib/devnet/estuaryfs-devnet \
 *	RETRIEVAL_BENCH_MIB=1024 build/tests/retrieval/bench_retriever
 *
 * Knobs (environment): RETRIEVAL_BENCH_MIB (file size, default 256),
 * RETRIEVAL_BENCH_CACHE (opts.cache bytes), RETRIEVAL_BENCH_FETCHES
 * (opts.max_fetches), RETRIEVAL_BENCH_NOCHECK (do not compare the bytes
 * read: the reader then costs only its copies), RETRIEVAL_BENCH_SPLIT
 * (also time a read of the local blocks alone and a fetch of every block
 * with no reader).
 *
 * One file of that many MiB (1 MiB raw leaves, the default profile's
 * 1024 links) is committed and taken to one ACTIVE deal (one piece), its
 * leaves evicted; then, in this process:
 *
 *	cold read    the file read in 128 KiB reads through retriever_source
 *	             (what the FUSE read path does), every byte checked
 *	curl         the piece's whole payload from the same SP with the
 *	             curl program (GET /piece with Range), to /dev/null
 *	first 4 KiB  after evicting again, with a new retriever: the time
 *	             of a 4 KiB read at offset 0 and its HTTP requests
 *	rss          this process's resident set (which also holds the
 *	             dealer), its peak sampled every 10 ms during the cold
 *	             read, and before it
 */
#include "tests/retrieval/retrieval_test.h"

#include <stdlib.h>
#include <sys/wait.h>

#include "core/clock.h"
#include "core/importer.h"

#include "core/banned.h"

#define MIB (1u << 20)

static long rss_kib(void)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			v = strtol(line + 6, NULL, 10);
	fclose(f);
	return v;
}

struct sampler {
	pthread_t th;
	volatile bool stop;
	long peak;
};

static void *sample(void *cls)
{
	struct sampler *s = cls;

	while (!s->stop) {
		long v = rss_kib();

		if (v > s->peak)
			s->peak = v;
		usleep(10000);
	}
	return NULL;
}

/* The file: MiB i is harness_fill_random(seed + i). */
static void write_file(const char *path, size_t mib, uint64_t seed)
{
	uint8_t *b = efs_malloc(MIB);
	FILE *f = fopen(path, "w");

	CU_ASSERT_FATAL(b && f);
	for (size_t i = 0; i < mib; i++) {
		harness_fill_random(b, MIB, seed + i);
		CU_ASSERT_FATAL(fwrite(b, 1, MIB, f) == MIB);
	}
	fclose(f);
	efs_free(b);
}

/* Read the whole file through src in 128 KiB reads, checking it. */
static int read_check(const struct blockio_source *src,
		      const struct cid *root, size_t mib, uint64_t seed)
{
	uint8_t *want = efs_malloc(MIB), *got = efs_malloc(128 << 10);
	bool nocheck = getenv("RETRIEVAL_BENCH_NOCHECK") != NULL;
	struct dagreader_file *f;
	size_t n;
	int rc;

	CU_ASSERT_FATAL(want && got);
	if ((rc = dagreader_file_open(&f, src, root)) < 0)
		goto out;
	for (size_t off = 0; off < mib * MIB && rc == 0; off += n) {
		if (off % MIB == 0 && !nocheck)
			harness_fill_random(want, MIB, seed + off / MIB);
		rc = dagreader_file_read(got, &n, f, off, 128 << 10);
		if (rc == 0 && n != 128 << 10)
			rc = EFS_ECORRUPT;
		if (rc == 0 && !nocheck && memcmp(got, want + off % MIB, n))
			rc = EFS_EMISMATCH;
	}
	dagreader_file_close(f);
out:
	efs_free(want);
	efs_free(got);
	return rc;
}

static void test_bench(void)
{
	const char *env = getenv("RETRIEVAL_BENCH_MIB");
	size_t mib = env ? (size_t)strtoul(env, NULL, 10) : 256;
	struct retriever_stats st;
	struct blockio_source src;
	struct importer_opts io;
	struct piece_store *ps;
	struct piece_info pi;
	struct sampler sm = { .peak = 0 };
	struct miner_record rec;
	struct miners *m;
	struct rfx t;
	char path[4200], range[64], url[2300];
	long base;
	double t0, read_s, curl_s, first_ms;
	int fd, status = 0;
	pid_t pid;

	/* rfx_open's steps, for a big file: streamed from disk, one SP. */
	memset(&t, 0, sizeof(t));
	dfx_open(&t.x, 2, NULL, "100", "68719476736");
	t.x.cfg.replication = 1;
	t.x.cfg.max_payload = (mib + 64) * (uint64_t)MIB;
	snprintf(path, sizeof(path), "%s/big", t.x.f.dir);
	write_file(path, mib, 1000);
	CU_ASSERT_FATAL(importer_opts_profile(&io, NULL) == 0);
	io.threads = 2;
	src = bstore_source(t.x.f.bs);
	fd = open(path, O_RDONLY);
	CU_ASSERT_FATAL(fd >= 0);
	{
		struct blockio_sink sink = bstore_sink(t.x.f.bs);

		CU_ASSERT_FATAL(importer_add_fd(&t.root, NULL, fd, &io, &sink,
						NULL, NULL) == 0);
	}
	close(fd);
	unlink(path);
	CU_ASSERT_FATAL(bstore_sync(t.x.f.bs) == 0);
	t.x.c[0].root = t.root;
	t.x.c[0].id = 1;
	t.x.nc = 1;
	t0 = efs_clock_mono();
	dfx_dealer_open(&t.x);
	CU_ASSERT_FATAL(dfx_run(&t.x, 1, 1800, NULL));
	fprintf(stderr, "dealt %zu MiB in %.1f s\n", mib,
		efs_clock_mono() - t0);
	CU_ASSERT_EQUAL_FATAL(dagreader_leaves_foreach(&src, &t.root,
						       rfx_leaf_cb, &t), 0);
	{
		struct deals *ds;

		CU_ASSERT_FATAL(deals_open(&ds, t.x.f.db) == 0);
		CU_ASSERT_EQUAL(deals_foreach(ds, -1, true, rfx_deal_cb, &t),
				0);
		deals_close(ds);
	}
	CU_ASSERT_EQUAL_FATAL(t.nsp, 1);
	t.o = (struct retriever_opts)RETRIEVER_OPTS_INIT;
	if (getenv("RETRIEVAL_BENCH_FETCHES"))
		t.o.max_fetches = (unsigned)strtoul(
			getenv("RETRIEVAL_BENCH_FETCHES"), NULL, 10);
	if (getenv("RETRIEVAL_BENCH_CACHE"))
		t.o.cache = strtoul(getenv("RETRIEVAL_BENCH_CACHE"), NULL, 10);
	rfx_retriever(&t);
	rfx_evict(&t);

	/* cold read */
	base = rss_kib();
	pthread_create(&sm.th, NULL, sample, &sm);
	src = retriever_source(t.r);
	t0 = efs_clock_mono();
	CU_ASSERT_EQUAL(read_check(&src, &t.root, mib, 1000), 0);
	read_s = efs_clock_mono() - t0;
	sm.stop = true;
	pthread_join(sm.th, NULL);
	CU_ASSERT_EQUAL(retriever_wait_idle(t.r, 60000), 0);
	retriever_stats(&st, t.r);

	/* curl of the piece's payload from the same SP */
	CU_ASSERT_FATAL(piece_store_open_ro(&ps, t.x.f.db, NULL) == 0);
	CU_ASSERT_FATAL(piece_get(&pi, ps, 1) == 0);
	piece_store_close(ps);
	CU_ASSERT_FATAL(miners_open(&m, t.x.f.db, NULL) == 0);
	CU_ASSERT_FATAL(miners_get(&rec, m, &t.sp[0]) == 0);
	snprintf(url, sizeof(url), "%s/piece/%s", rec.url,
		 cid_tostr(path, &t.piece));
	miners_record_release(&rec);
	miners_close(m);
	snprintf(range, sizeof(range), "Range: bytes=0-%llu",
		 (unsigned long long)pi.payload - 1);
	t0 = efs_clock_mono();
	if ((pid = fork()) == 0) {
		execlp("curl", "curl", "-sf", "-o", "/dev/null", "-H", range,
		       url, (char *)NULL);
		_exit(127);
	}
	CU_ASSERT_FATAL(pid > 0 && waitpid(pid, &status, 0) == pid);
	curl_s = efs_clock_mono() - t0;
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	if (getenv("RETRIEVAL_BENCH_SPLIT")) {
		struct blockio_source ls = bstore_source(t.x.f.bs);

		t0 = efs_clock_mono();
		CU_ASSERT_EQUAL(read_check(&ls, &t.root, mib, 1000), 0);
		fprintf(stderr, "local read %.1f MB/s\n",
			mib * (double)MIB / 1e6 / (efs_clock_mono() - t0));
		rfx_evict(&t);
		t0 = efs_clock_mono();
		for (size_t i = 0; i < t.nleaves; i++)
			CU_ASSERT_EQUAL(retriever_prefetch(t.r, &t.leaves[i]),
					0);
		CU_ASSERT_EQUAL(retriever_wait_idle(t.r, 60000), 0);
		fprintf(stderr, "fetch only %.1f MB/s\n",
			mib * (double)MIB / 1e6 / (efs_clock_mono() - t0));
	}
	/* first 4 KiB, cold, with fresh counters */
	retriever_close(t.r);
	rfx_retriever(&t);
	rfx_evict(&t);
	src = retriever_source(t.r);
	t0 = efs_clock_mono();
	{
		uint8_t b[4096];
		size_t n;

		CU_ASSERT_EQUAL(dagreader_read(b, &n, &src, &t.root, 0,
					       sizeof(b)), 0);
	}
	first_ms = (efs_clock_mono() - t0) * 1000;
	{
		struct retriever_stats s4;

		retriever_stats(&s4, t.r);
		printf("\nretriever, evicted %zu MiB file, one devnet SP\n",
		       mib);
		printf("  cold read (retriever_source)   %8.1f MB/s  "
		       "(%.2f s, %llu requests, %llu prefetched windows)\n",
		       mib * (double)MIB / 1e6 / read_s, read_s,
		       (unsigned long long)st.piece_requests,
		       (unsigned long long)st.prefetches);
		printf("  curl of the piece payload      %8.1f MB/s  "
		       "(%.2f s)\n",
		       (double)pi.payload / 1e6 / curl_s, curl_s);
		printf("  ratio                          %8.2f\n",
		       (mib * (double)MIB / read_s) /
			       ((double)pi.payload / curl_s));
		printf("  first 4 KiB                    %8.1f ms  "
		       "(%llu request)\n",
		       first_ms, (unsigned long long)s4.requests);
		printf("  rss during the read            %8ld MiB peak, "
		       "%ld MiB before\n",
		       sm.peak / 1024, base / 1024);
	}
	rfx_close(&t);
}

static CU_TestInfo bench_tests[] = {
	{ "bench", test_bench },
	CU_TEST_INFO_NULL,
};

static int suite_setup(void)
{
	return httpc_global_init() == 0 ? 0 : 1;
}

HARNESS_MAIN({ .pName = "bench", .pTests = bench_tests,
	       .pInitFunc = suite_setup })
