/*
 * test_mhash.c - multihash functions: known answers for sha2-256 and
 * blake2b-256 (FIPS 180-2 "abc" and the empty string; the blake2b-256
 * answers and the 1 MiB pattern were computed with coreutils `sha256sum`
 * and `b2sum -l 256`), the identity cap, the name/code table and
 * unsupported codes, and hashing from several threads at once.
 */
#include "core/mhash.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "tests/harness.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define MIB (1024 * 1024)

/* The 1 MiB input: byte i is i % 251 (a period prime to every power of 2). */
static uint8_t *pattern_mib(void)
{
	uint8_t *p = malloc(MIB);

	CU_ASSERT_FATAL(p != NULL);
	for (size_t i = 0; i < MIB; i++)
		p[i] = (uint8_t)(i % 251);
	return p;
}

static void check_digest(uint64_t code, const void *data, size_t len,
			 const char *want_hex)
{
	uint8_t want[32];
	uint8_t got[MHASH_DIGEST_MAX];
	size_t got_len = 0;

	CU_ASSERT_EQUAL_FATAL(harness_unhex(want, sizeof(want), want_hex),
			      32);
	CU_ASSERT_EQUAL(mhash_compute(got, &got_len, code, data, len), 0);
	CU_ASSERT_EQUAL(got_len, 32);
	CU_ASSERT(!memcmp(got, want, 32));
}

static void test_mhash__sha2_256(void)
{
	uint8_t *mib = pattern_mib();

	check_digest(MHASH_SHA2_256, "", 0,
		     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check_digest(MHASH_SHA2_256, NULL, 0,
		     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check_digest(MHASH_SHA2_256, "abc", 3,
		     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check_digest(MHASH_SHA2_256, "hello world", 11,
		     "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
	check_digest(MHASH_SHA2_256, mib, MIB,
		     "631b84027d6b9e52b539c4e8373622d23032dfadc64d60af87339c9037e4f769");
	free(mib);
}

static void test_mhash__blake2b_256(void)
{
	uint8_t *mib = pattern_mib();

	check_digest(MHASH_BLAKE2B_256, "", 0,
		     "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
	check_digest(MHASH_BLAKE2B_256, NULL, 0,
		     "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
	check_digest(MHASH_BLAKE2B_256, "abc", 3,
		     "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
	check_digest(MHASH_BLAKE2B_256, "hello world", 11,
		     "256c83b297114d201b30179f3f0ef0cace9783622da5974326b436178aeef610");
	check_digest(MHASH_BLAKE2B_256, mib, MIB,
		     "8a5a7a9dc3cf203ed374b0a1eea930601ad2acbfe2b4bc62cf83de4ee536528b");
	free(mib);
}

static void test_mhash__identity(void)
{
	uint8_t in[MHASH_DIGEST_MAX + 1];
	uint8_t out[MHASH_DIGEST_MAX];
	size_t len = 99;

	harness_fill_random(in, sizeof(in), 7);
	CU_ASSERT_EQUAL(mhash_compute(out, &len, MHASH_IDENTITY, NULL, 0), 0);
	CU_ASSERT_EQUAL(len, 0);
	CU_ASSERT_EQUAL(mhash_compute(out, &len, MHASH_IDENTITY, in, 11), 0);
	CU_ASSERT_EQUAL(len, 11);
	CU_ASSERT(!memcmp(out, in, 11));
	CU_ASSERT_EQUAL(mhash_compute(out, &len, MHASH_IDENTITY, in,
				      MHASH_DIGEST_MAX), 0);
	CU_ASSERT_EQUAL(len, MHASH_DIGEST_MAX);
	CU_ASSERT(!memcmp(out, in, MHASH_DIGEST_MAX));
	len = 99;
	CU_ASSERT_EQUAL(mhash_compute(out, &len, MHASH_IDENTITY, in,
				      MHASH_DIGEST_MAX + 1), EFS_ETOOBIG);
	CU_ASSERT_EQUAL(efs_error_code(), EFS_ETOOBIG);
	CU_ASSERT_EQUAL(len, 99);
}

static const struct {
	uint64_t code;
	const char *name;
	size_t size;
	bool computable;
} table[] = {
	/* multiformats/multicodec table.csv */
	{ 0x00, "identity", 0, true },
	{ 0x12, "sha2-256", 32, true },
	{ 0x22, "murmur3-x64-64", 8, false },
	{ 0x1011, "fr32-sha256-trunc254-padbintree", 0, false },
	{ 0x1012, "sha2-256-trunc254-padded", 32, false },
	{ 0xb220, "blake2b-256", 32, true },
};

static void test_mhash__names(void)
{
	for (size_t i = 0; i < N_ELEMS(table); i++) {
		uint64_t code = 12345;

		CU_ASSERT_PTR_NOT_NULL_FATAL(mhash_name(table[i].code));
		CU_ASSERT_STRING_EQUAL(mhash_name(table[i].code),
				       table[i].name);
		CU_ASSERT_EQUAL(mhash_from_name(&code, table[i].name), 0);
		CU_ASSERT_EQUAL(code, table[i].code);
		CU_ASSERT_EQUAL(mhash_digest_size(table[i].code),
				table[i].size);
		CU_ASSERT_EQUAL(mhash_can_compute(table[i].code),
				table[i].computable);
	}
}

static void test_mhash__unknown(void)
{
	static const uint64_t codes[] = {
		0x11 /* sha1 */, 0x13 /* sha2-512 */, 0x1b /* keccak-256 */,
		0xb260 /* blake2b-512 */, 0x1e /* blake3 */, UINT64_MAX,
	};
	static const char *const names[] = {
		"", "sha256", "SHA2-256", "sha2-256 ", "blake2b", "sha1",
	};
	uint8_t out[MHASH_DIGEST_MAX];
	size_t len = 99;

	for (size_t i = 0; i < N_ELEMS(codes); i++) {
		CU_ASSERT_PTR_NULL(mhash_name(codes[i]));
		CU_ASSERT_EQUAL(mhash_digest_size(codes[i]), 0);
		CU_ASSERT_FALSE(mhash_can_compute(codes[i]));
		CU_ASSERT_EQUAL(mhash_compute(out, &len, codes[i], "x", 1),
				EFS_EUNSUPPORTED);
	}
	/* known but not computable here */
	CU_ASSERT_EQUAL(mhash_compute(out, &len, MHASH_MURMUR3_X64_64, "x", 1),
			EFS_EUNSUPPORTED);
	CU_ASSERT_EQUAL(mhash_compute(out, &len,
				      MHASH_SHA2_256_TRUNC254_PADDED, "x", 1),
			EFS_EUNSUPPORTED);
	CU_ASSERT_EQUAL(mhash_compute(out, &len,
				      MHASH_FR32_SHA256_TRUNC254_PADBINTREE,
				      "x", 1),
			EFS_EUNSUPPORTED);
	CU_ASSERT_EQUAL(len, 99);
	for (size_t i = 0; i < N_ELEMS(names); i++) {
		uint64_t code = 12345;

		CU_ASSERT_EQUAL(mhash_from_name(&code, names[i]), EFS_EINVAL);
		CU_ASSERT_EQUAL(code, 12345);
	}
}

/* mhash_compute claims to be thread-safe: hash from four threads at once. */
struct hash_job {
	const uint8_t *data;
	size_t len;
	uint8_t sha[32];
	uint8_t b2[32];
	int failures;
};

static void *hash_thread(void *arg)
{
	struct hash_job *job = arg;

	for (int i = 0; i < 20; i++) {
		uint8_t d[MHASH_DIGEST_MAX];
		size_t n;

		if (mhash_compute(d, &n, MHASH_SHA2_256, job->data, job->len) ||
		    memcmp(d, job->sha, 32))
			job->failures++;
		if (mhash_compute(d, &n, MHASH_BLAKE2B_256, job->data,
				  job->len) ||
		    memcmp(d, job->b2, 32))
			job->failures++;
	}
	return NULL;
}

static void test_mhash__threads(void)
{
	enum { NTHREADS = 4, LEN = 65536 };
	static uint8_t data[NTHREADS][LEN];
	struct hash_job jobs[NTHREADS];
	pthread_t tids[NTHREADS];
	size_t n;

	for (int t = 0; t < NTHREADS; t++) {
		harness_fill_random(data[t], LEN, (uint64_t)t + 1);
		jobs[t].data = data[t];
		jobs[t].len = LEN - (size_t)t;
		jobs[t].failures = 0;
		CU_ASSERT_EQUAL(mhash_compute(jobs[t].sha, &n, MHASH_SHA2_256,
					      jobs[t].data, jobs[t].len), 0);
		CU_ASSERT_EQUAL(mhash_compute(jobs[t].b2, &n,
					      MHASH_BLAKE2B_256, jobs[t].data,
					      jobs[t].len), 0);
	}
	for (int t = 0; t < NTHREADS; t++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&tids[t], NULL,
						     hash_thread, &jobs[t]), 0);
	for (int t = 0; t < NTHREADS; t++) {
		pthread_join(tids[t], NULL);
		CU_ASSERT_EQUAL(jobs[t].failures, 0);
	}
}

static CU_TestInfo mhash_tests[] = {
	{ "sha2_256", test_mhash__sha2_256 },
	{ "blake2b_256", test_mhash__blake2b_256 },
	{ "identity", test_mhash__identity },
	{ "names", test_mhash__names },
	{ "unknown", test_mhash__unknown },
	{ "threads", test_mhash__threads },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "mhash", .pTests = mhash_tests })
