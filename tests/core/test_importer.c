/*
 * test_importer.c - the importer against golden CIDs: files of every
 * shape boundary, balanced and trickle (tests/data/importer/vectors.txt,
 * from the JS oracle ipfs-unixfs-importer 17.1.1), kubo's IPIP-499
 * profile vectors (files incl. the 45 MiB trickle one, and HAMT
 * directories, ChaCha20 inputs), go-ipfs's trickle "foobar\n", and
 * directory trees
 * (trees.txt: nested, empty dirs, symlinks, unicode, hidden, special
 * files, HAMT thresholds in both profiles, the JS importer gap,
 * metadata).  Also options, names, add_fd on pipes and with/without
 * mmap, progress, cancellation and error paths.
 *
 * EFS_TEST_SLOW=1 adds the two 1 GiB IPIP-499 vectors.
 */
#include "core/importer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "core/error.h"
#include "core/importer_dir.h"
#include "core/importer_file.h"
#include "core/importer_i.h"
#include "core/leafpool.h"
#include "core/memstore.h"
#include "tests/core/importer_test.h"
#include "tests/harness.h"

#define MAXW 64

static bool slow_tests(void)
{
	const char *s = getenv("EFS_TEST_SLOW");

	return s && *s && strcmp(s, "0");
}

/* Check that id prints as want; on a mismatch say what for. */
static void expect_cid(const struct cid *id, const char *want, const char *what)
{
	char s[CID_STR_MAX];

	if (!want) {
		CU_FAIL("no CID to compare with");
		return;
	}
	cid_tostr(s, id);
	if (strcmp(s, want))
		fprintf(stderr, "\n%s: got %s, want %s\n", what, s, want);
	CU_ASSERT_STRING_EQUAL(s, want);
}

/* Index of the "=" word, or -1. */
static int eq_index(char **w, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(w[i], "="))
			return i;
	return -1;
}

/* ---- options and names ------------------------------------------------ */

static void test_importer__profiles(void)
{
	struct importer_opts o;

	CU_ASSERT_EQUAL(importer_opts_profile(&o, NULL), 0);
	CU_ASSERT_EQUAL(o.cid_version, 1);
	CU_ASSERT_EQUAL(o.hash, MHASH_SHA2_256);
	CU_ASSERT_EQUAL(o.chunk_size, 1048576);
	CU_ASSERT_EQUAL(o.max_links, 1024);
	CU_ASSERT(o.raw_leaves);
	CU_ASSERT_EQUAL(o.hamt_threshold, 262144);
	CU_ASSERT_EQUAL(o.hamt_estimator, IMPORTER_HAMT_BLOCK);
	CU_ASSERT_EQUAL(o.hamt_fanout, 256);
	CU_ASSERT(o.include_hidden);
	CU_ASSERT(!o.preserve_mode && !o.preserve_mtime);
	CU_ASSERT_EQUAL(o.layout, IMPORTER_LAYOUT_BALANCED);
	CU_ASSERT_EQUAL(importer_opts_check(&o), 0);
	CU_ASSERT_EQUAL(importer_opts_profile(&o, "unixfs-v0-2015"), 0);
	CU_ASSERT_EQUAL(o.layout, IMPORTER_LAYOUT_BALANCED);
	CU_ASSERT_EQUAL(o.cid_version, 0);
	CU_ASSERT_EQUAL(o.chunk_size, 262144);
	CU_ASSERT_EQUAL(o.max_links, 174);
	CU_ASSERT(!o.raw_leaves);
	CU_ASSERT_EQUAL(o.hamt_estimator, IMPORTER_HAMT_LINKS);
	CU_ASSERT_EQUAL(importer_opts_check(&o), 0);
	CU_ASSERT_EQUAL(importer_opts_cid_version(&o), 0);
	o.hash = MHASH_BLAKE2B_256;
	CU_ASSERT_EQUAL(importer_opts_cid_version(&o), 1);
	CU_ASSERT_EQUAL(importer_opts_profile(&o, "legacy-cid-v0"), 0);
	CU_ASSERT_EQUAL(o.cid_version, 0);
	CU_ASSERT_EQUAL(importer_opts_profile(&o, "unixfs-v2"), EFS_EINVAL);
	CU_ASSERT_EQUAL(o.cid_version, 1);
}

static void test_importer__opts_check(void)
{
	static const struct {
		const char *flags;
		int threads;
		int want;
	} cases[] = {
	    {"--chunk 1", 0, 0},
	    {"--chunk 2096896", 0, 0},
	    {"--chunk 2096897", 0, EFS_EINVAL},
	    {"--chunk 0", 0, EFS_EINVAL},
	    {"--links 2", 0, 0},
	    {"--links 1", 0, EFS_EINVAL},
	    {"--links 16385", 0, EFS_EINVAL},
	    {"--cidv 2", 0, EFS_EINVAL},
	    {"--hamt-fanout 8", 0, 0},
	    {"--hamt-fanout 1024", 0, 0},
	    {"--hamt-fanout 4", 0, EFS_EINVAL},
	    {"--hamt-fanout 12", 0, EFS_EINVAL},
	    {"--hamt-fanout 2048", 0, EFS_EINVAL},
	    {"--hash identity", 0, EFS_EINVAL},
	    {"--hash blake2b-256", 0, 0},
	    {"", 64, 0},
	    {"", 65, EFS_EINVAL},
	    {"--layout trickle --links 2", 0, 0},
	    {"--layout trickle --links 16384", 0, 0},
	    {"--layout trickle --links 1", 0, EFS_EINVAL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct importer_opts o;
		char line[64], *w[8];
		int n;

		snprintf(line, sizeof(line), "%s", cases[i].flags);
		n = split_words(w, 8, line);
		CU_ASSERT_EQUAL_FATAL(flags_to_opts(&o, w, n), 0);
		o.threads = (unsigned)cases[i].threads;
		CU_ASSERT_EQUAL(importer_opts_check(&o), cases[i].want);
		o.layout = (enum importer_layout)2;
		CU_ASSERT_EQUAL(importer_opts_check(&o), EFS_EINVAL);
	}
}

static void test_importer__names(void)
{
	static const struct {
		const char *name;
		size_t len;
		int want;
	} cases[] = {
	    {"a", 1, 0},
	    {".hidden", 7, 0},
	    {"...", 3, 0},
	    {"ünïcødé-名前-🎉.txt", 0, 0},
	    {"\xf4\x8f\xbf\xbf", 4, 0}, /* U+10FFFF */
	    {"\xed\x9f\xbf", 3, 0},	/* U+D7FF */
	    {"", 0, EFS_EINVAL},
	    {".", 1, EFS_EINVAL},
	    {"..", 2, EFS_EINVAL},
	    {"a/b", 3, EFS_EINVAL},
	    {"a\0b", 3, EFS_EINVAL},
	    {"\xc0\xaf", 2, EFS_EINVAL},	 /* overlong '/' */
	    {"\xe0\x80\xaf", 3, EFS_EINVAL},	 /* overlong */
	    {"\xed\xa0\x80", 3, EFS_EINVAL},	 /* surrogate */
	    {"\xf4\x90\x80\x80", 4, EFS_EINVAL}, /* past U+10FFFF */
	    {"\xe2\x82", 2, EFS_EINVAL},	 /* truncated */
	    {"\x80", 1, EFS_EINVAL},		 /* lone continuation */
	    {"caf\xe9", 4, EFS_EINVAL},		 /* latin-1 */
	    {"\xff", 1, EFS_EINVAL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len =
		    cases[i].len ? cases[i].len : strlen(cases[i].name);

		CU_ASSERT_EQUAL(importer_name_check(cases[i].name, len),
				cases[i].want);
	}
}

/* ---- file vectors --------------------------------------------------- */

/* Import p[0..size) with a fresh memstore: streaming in one write, and
 * through add_fd (mmap and pread, 1 and 3 workers); all must give want. */
static void check_file(const uint8_t *p, size_t size, struct importer_opts *o,
		       const char *want, const char *dir)
{
	char path[512];
	struct memstore *ms;
	struct importer_file *f;
	struct blockio_sink sink;
	struct cid id;
	uint64_t fsize = 0, tsize = 0, tsize2 = 0;
	int fd;

	CU_ASSERT_EQUAL_FATAL(memstore_new(&ms), 0);
	sink = memstore_sink(ms);
	CU_ASSERT_EQUAL_FATAL(importer_file_new(&f, o, NULL, &sink), 0);
	CU_ASSERT_EQUAL(importer_file_write(f, p, size), 0);
	CU_ASSERT_EQUAL(importer_file_finish(f, &id, &fsize, &tsize), 0);
	importer_file_free(f);
	expect_cid(&id, want, "importer_file");
	CU_ASSERT_EQUAL(fsize, size);
	/* Random chunks never repeat (but 1-byte ones do): the Tsize is
	 * every block once. */
	if (o->chunk_size > 8)
		CU_ASSERT_EQUAL(tsize, memstore_bytes(ms));
	memstore_free(ms);

	snprintf(path, sizeof(path), "%s/f", dir);
	CU_ASSERT_EQUAL_FATAL(harness_write_file(path, p, size), 0);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	CU_ASSERT_FATAL(fd >= 0);
	for (int mode = 0; mode < 4; mode++) {
		o->use_mmap = mode & 1;
		o->threads = mode & 2 ? 3 : 1;
		CU_ASSERT_EQUAL(importer_add_fd(&id, &tsize2, fd, o,
						&blockio_null_sink, NULL, NULL),
				0);
		expect_cid(&id, want, "importer_add_fd");
		CU_ASSERT_EQUAL(tsize2, tsize);
	}
	close(fd);
}

static void test_importer__file_vectors(void)
{
	struct buf text = BUF_INIT(BUF_NOCAP);
	char *dir = harness_tmpdir();
	char *line, *save = NULL;
	int count = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	if (harness_read_data(&text, "importer/vectors.txt") < 0)
		goto out;
	for (line = strtok_r((char *)text.ptr, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct importer_opts o;
		char *w[MAXW];
		int n = split_words(w, MAXW, line), eq = eq_index(w, n);
		size_t size;
		uint8_t *p;

		if (n < 1 || strcmp(w[0], "file"))
			continue;
		CU_ASSERT_FATAL(eq > 3 && eq + 1 < n);
		CU_ASSERT_EQUAL_FATAL(flags_to_opts(&o, w + 3, eq - 3), 0);
		size = strtoul(w[1], NULL, 10);
		p = gen_alloc(size, strtoull(w[2], NULL, 10));
		check_file(p, size, &o, w[eq + 1], dir);
		free(p);
		count++;
	}
	CU_ASSERT_EQUAL(count, 80 + 91);
out:
	buf_release(&text);
	harness_tmpdir_free(dir);
}

/* ---- kubo's IPIP-499 vectors ---------------------------------------- */

/* kubo's DeterministicRandomReaderBytes: the ChaCha20 keystream with key
 * sha256(seed), 12-byte zero nonce, counter 0 (OpenSSL's 16-byte IV is
 * the 4-byte little-endian counter followed by the nonce). */
static EVP_CIPHER_CTX *chacha_new(const char *seed)
{
	static const uint8_t iv[16];
	uint8_t key[32];
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

	SHA256((const uint8_t *)seed, strlen(seed), key);
	if (ctx &&
	    EVP_EncryptInit_ex(ctx, EVP_chacha20(), NULL, key, iv) != 1) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static void chacha_bytes(EVP_CIPHER_CTX *ctx, uint8_t *out, size_t n)
{
	int len = 0;

	memset(out, 0, n);
	CU_ASSERT_EQUAL(EVP_EncryptUpdate(ctx, out, &len, out, (int)n), 1);
	CU_ASSERT_EQUAL((size_t)len, n);
}

static void test_importer__chacha_stream(void)
{
	/* First bytes of `gen-deterministic.mjs bytes 16 chunk-v1-seed -`. */
	static const uint8_t want[16] = {0xd0, 0xe8, 0x58, 0xd5, 0x90, 0xad,
					 0x07, 0x86, 0xd2, 0x16, 0x00, 0x7a,
					 0xbe, 0x1a, 0x38, 0xd1};
	EVP_CIPHER_CTX *ctx = chacha_new("chunk-v1-seed");
	uint8_t got[16];

	CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
	chacha_bytes(ctx, got, 16);
	CU_ASSERT(!memcmp(got, want, 16));
	EVP_CIPHER_CTX_free(ctx);
}

/* Stream size bytes of the seed's keystream through an importer_file. */
static void check_kubo_file(uint64_t size, const char *seed,
			    const struct importer_opts *o, const char *want)
{
	EVP_CIPHER_CTX *ctx = chacha_new(seed);
	size_t cap = 1 << 20;
	uint8_t *p = malloc(cap);
	struct importer_file *f;
	struct cid id;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL_FATAL(
	    importer_file_new(&f, o, NULL, &blockio_null_sink), 0);
	for (uint64_t done = 0; done < size;) {
		size_t n = size - done < cap ? (size_t)(size - done) : cap;

		chacha_bytes(ctx, p, n);
		CU_ASSERT_EQUAL(importer_file_write(f, p, n), 0);
		done += n;
	}
	CU_ASSERT_EQUAL(importer_file_finish(f, &id, NULL, NULL), 0);
	expect_cid(&id, want, seed);
	importer_file_free(f);
	EVP_CIPHER_CTX_free(ctx);
	free(p);
}

/*
 * kubo's HAMT threshold directory: count files holding "x", names drawn
 * from the keystream over a 39-character alphabet.  Built with the
 * directory API (creating ~5000 files costs seconds on a busy ext4);
 * with EFS_TEST_SLOW also on disk through importer_add_path.
 */
static void check_kubo_hamt(int count, int len, int last, const char *seed,
			    const struct importer_opts *o, const char *want)
{
	static const char alphabet[] =
	    "abcdefghijklmnopqrstuvwxyz01234567890-_";
	EVP_CIPHER_CTX *ctx = chacha_new(seed);
	char *dir = slow_tests() ? harness_tmpdir() : NULL;
	struct importer_file *f;
	struct importer_dir *d;
	struct cid x, id;
	uint64_t tsize;
	char path[512];

	CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
	CU_ASSERT_EQUAL_FATAL(
	    importer_file_new(&f, o, NULL, &blockio_null_sink), 0);
	CU_ASSERT_EQUAL(importer_file_write(f, "x", 1), 0);
	CU_ASSERT_EQUAL(importer_file_finish(f, &x, NULL, &tsize), 0);
	importer_file_free(f);
	CU_ASSERT_EQUAL_FATAL(importer_dir_new(&d, o, NULL, &blockio_null_sink),
			      0);
	for (int i = 0; i < count; i++) {
		int l = i == count - 1 ? last : len;
		uint8_t b[64];
		char name[64];

		chacha_bytes(ctx, b, (size_t)l);
		for (int j = 0; j < l; j++)
			name[j] = alphabet[b[j] % 39];
		name[l] = '\0';
		CU_ASSERT_EQUAL(importer_dir_add(d, name, (size_t)l, &x, tsize),
				0);
		if (!dir)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		CU_ASSERT_EQUAL_FATAL(harness_write_file(path, "x", 1), 0);
	}
	CU_ASSERT_EQUAL(importer_dir_finish(d, &id, NULL), 0);
	importer_dir_free(d);
	expect_cid(&id, want, seed);
	if (dir) {
		CU_ASSERT_EQUAL(importer_add_path(&id, NULL, dir, o,
						  &blockio_null_sink, NULL,
						  NULL),
				0);
		expect_cid(&id, want, seed);
	}
	harness_tmpdir_free(dir);
	EVP_CIPHER_CTX_free(ctx);
}

static void test_importer__kubo_vectors(void)
{
	struct buf text = BUF_INIT(BUF_NOCAP);
	char *line, *save = NULL;
	int files = 0, dirs = 0;

	if (harness_read_data(&text, "importer/vectors.txt") < 0)
		return;
	for (line = strtok_r((char *)text.ptr, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct importer_opts o;
		char *w[MAXW];
		int n = split_words(w, MAXW, line), eq = eq_index(w, n);

		if (n < 1 || eq < 0 || eq + 1 >= n)
			continue;
		if (!strcmp(w[0], "kubo") ||
		    (!strcmp(w[0], "kubo-slow") && slow_tests())) {
			CU_ASSERT_EQUAL_FATAL(flags_to_opts(&o, w + 3, eq - 3),
					      0);
			check_kubo_file(strtoull(w[1], NULL, 10), w[2], &o,
					w[eq + 1]);
			files++;
		} else if (!strcmp(w[0], "kubo-hamt")) {
			CU_ASSERT_EQUAL_FATAL(flags_to_opts(&o, w + 5, eq - 5),
					      0);
			check_kubo_hamt((int)strtol(w[1], NULL, 10),
					(int)strtol(w[2], NULL, 10),
					(int)strtol(w[3], NULL, 10), w[4], &o,
					w[eq + 1]);
			dirs++;
		}
	}
	CU_ASSERT_EQUAL(files, slow_tests() ? 9 : 7);
	CU_ASSERT_EQUAL(dirs, 4);
	buf_release(&text);
}

/*
 * go-ipfs 0.5 `ipfs add --trickle -s size-2` of "foobar\n", recorded with
 * its blocks in rs-ipfs/rust-ipfs unixfs/src/file/visit.rs: a root over
 * four dag-pb leaves of UnixFS Type Raw, the first `0a 08 08 00 12 02
 * "fo" 18 02`.
 */
static void test_importer__trickle_go_ipfs(void)
{
	static const uint8_t leaf0[] = {0x0a, 0x08, 0x08, 0x00, 0x12,
					0x02, 'f',  'o',  0x18, 0x02};
	struct importer_opts o;
	struct memstore *ms;
	struct blockio_sink sink;
	struct importer_file *f;
	struct cid id, leaf;

	importer_opts_profile(&o, "unixfs-v0-2015");
	o.layout = IMPORTER_LAYOUT_TRICKLE;
	o.chunk_size = 2;
	CU_ASSERT_EQUAL_FATAL(memstore_new(&ms), 0);
	sink = memstore_sink(ms);
	CU_ASSERT_EQUAL_FATAL(importer_file_new(&f, &o, NULL, &sink), 0);
	CU_ASSERT_EQUAL(importer_file_write(f, "foobar\n", 7), 0);
	CU_ASSERT_EQUAL(importer_file_finish(f, &id, NULL, NULL), 0);
	importer_file_free(f);
	expect_cid(&id, "QmWfQ48ChJUj4vWKFsUDe4646xCBmXgdmNfhjz9T7crywd",
		   "go-ipfs trickle");
	CU_ASSERT_EQUAL(cid_hash(&leaf, 0, CID_CODEC_DAG_PB, MHASH_SHA2_256,
				 leaf0, sizeof(leaf0)),
			0);
	CU_ASSERT(memstore_has(ms, &leaf));
	CU_ASSERT_EQUAL(memstore_count(ms), 5);
	memstore_free(ms);
}

/*
 * importer_add_path with the trickle layout: every file of the tree (of
 * 0, 1, and many chunks) as importer_file builds it, in a directory as
 * importer_dir builds it.
 */
static void test_importer__trickle_tree(void)
{
	static const size_t sizes[] = {0, 1, 1000, 1001, 77777};
	char *dir = harness_tmpdir();
	struct importer_opts o;
	struct importer_dir *d;
	struct cid want, got;
	char p[512];

	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	importer_opts_profile(&o, "unixfs-v0-2015");
	o.layout = IMPORTER_LAYOUT_TRICKLE;
	o.chunk_size = 1000;
	o.max_links = 3;
	o.threads = 2;
	CU_ASSERT_EQUAL_FATAL(
	    importer_dir_new(&d, &o, NULL, &blockio_null_sink), 0);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *data = gen_alloc(sizes[i], 500 + i);
		struct importer_file *f;
		uint64_t tsize;
		char name[16];

		snprintf(name, sizeof(name), "f%zu", i);
		snprintf(p, sizeof(p), "%s/%s", dir, name);
		CU_ASSERT_EQUAL(harness_write_file(p, data, sizes[i]), 0);
		CU_ASSERT_EQUAL_FATAL(
		    importer_file_new(&f, &o, NULL, &blockio_null_sink), 0);
		CU_ASSERT_EQUAL(importer_file_write(f, data, sizes[i]), 0);
		CU_ASSERT_EQUAL(importer_file_finish(f, &want, NULL, &tsize),
				0);
		importer_file_free(f);
		CU_ASSERT_EQUAL(
		    importer_dir_add(d, name, strlen(name), &want, tsize), 0);
		free(data);
	}
	CU_ASSERT_EQUAL(importer_dir_finish(d, &want, NULL), 0);
	importer_dir_free(d);
	CU_ASSERT_EQUAL(importer_add_path(&got, NULL, dir, &o,
					  &blockio_null_sink, NULL, NULL),
			0);
	CU_ASSERT(cid_equal(&got, &want));
	o.layout = IMPORTER_LAYOUT_BALANCED;
	CU_ASSERT_EQUAL(importer_add_path(&got, NULL, dir, &o,
					  &blockio_null_sink, NULL, NULL),
			0);
	CU_ASSERT(!cid_equal(&got, &want));
	harness_tmpdir_free(dir);
}

/* ---- directory trees (trees.txt) ------------------------------------- */

static void mkdir_p(const char *path)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	CU_ASSERT(mkdir(p, 0755) == 0 || errno == EEXIST);
}

static void write_gen(const char *path, const char *size, const char *seed)
{
	size_t n = strtoul(size, NULL, 10);
	uint8_t *p = gen_alloc(n, strtoull(seed, NULL, 10));

	CU_ASSERT_EQUAL(harness_write_file(path, p, n), 0);
	free(p);
}

/* Create one trees.txt entry under root (mode/mtime come later). */
static void tree_entry(const char *root, char **w, int n)
{
	char p[1024], q[1024];

	snprintf(p, sizeof(p), "%s/%s", root, n > 1 ? w[1] : "");
	if (!strcmp(w[0], "dir")) {
		mkdir_p(p);
	} else if (!strcmp(w[0], "file") && n == 4) {
		write_gen(p, w[2], w[3]);
	} else if (!strcmp(w[0], "text")) {
		struct buf t = BUF_INIT(BUF_NOCAP);

		for (int i = 2; i < n; i++)
			buf_printf(&t, "%s%s", i > 2 ? " " : "", w[i]);
		CU_ASSERT_EQUAL(
		    harness_write_file(p, t.ptr ? (char *)t.ptr : "", t.len),
		    0);
		buf_release(&t);
	} else if (!strcmp(w[0], "link") && n == 3) {
		CU_ASSERT_EQUAL(symlink(w[2], p), 0);
	} else if (!strcmp(w[0], "fifo")) {
		CU_ASSERT_EQUAL(mkfifo(p, 0644), 0);
	} else if (!strcmp(w[0], "files") && n == 6) {
		for (long i = 0; i < strtol(w[2], NULL, 10); i++) {
			char seed[32];

			if (snprintf(q, sizeof(q), "%s/%s%ld", p, w[3], i) >=
			    (int)sizeof(q))
				CU_FAIL("path too long");
			snprintf(seed, sizeof(seed), "%llu",
				 strtoull(w[5], NULL, 10) + (uint64_t)i);
			write_gen(q, w[4], seed);
		}
	} else if (!strcmp(w[0], "subdirs") && n == 5) {
		for (long i = 0; i < strtol(w[1], NULL, 10); i++) {
			char seed[32];

			if (snprintf(q, sizeof(q), "%s/%s%ld/a", root, w[2],
				     i) >= (int)sizeof(q))
				CU_FAIL("path too long");
			*strrchr(q, '/') = '\0';
			mkdir_p(q);
			q[strlen(q)] = '/';
			snprintf(seed, sizeof(seed), "%llu",
				 strtoull(w[4], NULL, 10) + (uint64_t)i);
			write_gen(q, w[3], seed);
		}
	} else if (strcmp(w[0], "mode") && strcmp(w[0], "mtime")) {
		CU_FAIL("trees.txt: unknown entry");
	}
}

static void tree_meta(const char *root, char **w, int n)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/%s", root, n > 1 ? w[1] : "");
	if (!strcmp(w[0], "mode") && n == 3) {
		CU_ASSERT_EQUAL(chmod(p, (mode_t)strtoul(w[2], NULL, 8)), 0);
	} else if (!strcmp(w[0], "mtime") && n == 4) {
		struct timespec ts[2];

		ts[0].tv_sec = ts[1].tv_sec = strtoll(w[2], NULL, 10);
		ts[0].tv_nsec = ts[1].tv_nsec = strtol(w[3], NULL, 10);
		CU_ASSERT_EQUAL(utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW),
				0);
	}
}

/* Build the tree whose entry lines are lines[0..n) at root. */
static int tree_build(const char *root, char **lines, int n)
{
	int fifos = 0;

	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < n; i++) {
			char copy[1024], *w[MAXW];
			int nw;

			snprintf(copy, sizeof(copy), "%s", lines[i]);
			nw = split_words(w, MAXW, copy);
			if (nw == 0)
				continue;
			if (!strcmp(w[0], "rootlink")) {
				if (pass == 0)
					CU_ASSERT_EQUAL(symlink(w[1], root), 0);
				return 0;
			}
			if (pass == 0 && i == 0)
				mkdir_p(root);
			if (pass == 0) {
				tree_entry(root, w, nw);
				fifos += !strcmp(w[0], "fifo");
			} else {
				tree_meta(root, w, nw);
			}
		}
	}
	return fifos;
}

static int count_warnings(const struct importer_event *ev, void *payload)
{
	int *warnings = payload;

	if (ev->kind == IMPORTER_EVENT_WARN) {
		CU_ASSERT_PTR_NOT_NULL(strstr(ev->path, "/a/pipe"));
		(*warnings)++;
	}
	return 0;
}

/* One `cid FLAGS [@ ORACLE-FLAGS] = CID` line. */
static void check_tree(const char *root, char *line, int fifos)
{
	struct importer_opts o;
	struct memstore *ms;
	struct blockio_sink sink;
	char *w[MAXW];
	int n = split_words(w, MAXW, line), eq = eq_index(w, n), end = eq;
	int warnings = 0;
	struct cid id;

	CU_ASSERT_FATAL(eq > 0 && eq + 1 < n);
	for (int i = 1; i < eq; i++)
		if (!strcmp(w[i], "@"))
			end = i;
	CU_ASSERT_EQUAL_FATAL(flags_to_opts(&o, w + 1, end - 1), 0);
	CU_ASSERT_EQUAL_FATAL(memstore_new(&ms), 0);
	sink = memstore_sink(ms);
	o.threads = 2;
	CU_ASSERT_EQUAL(importer_add_path(&id, NULL, root, &o, &sink,
					  count_warnings, &warnings),
			0);
	expect_cid(&id, w[eq + 1], root);
	CU_ASSERT_EQUAL(warnings, fifos);
	memstore_free(ms);
}

static void test_importer__trees(void)
{
	struct buf text = BUF_INIT(BUF_NOCAP);
	char *dir = harness_tmpdir();
	char *lines[512], *save = NULL, *l;
	int n = 0, trees = 0, cids = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	if (harness_read_data(&text, "importer/trees.txt") < 0)
		goto out;
	for (l = strtok_r((char *)text.ptr, "\n", &save); l && n < 512;
	     l = strtok_r(NULL, "\n", &save))
		if (l[0] != '#')
			lines[n++] = l;
	for (int i = 0; i < n; i++) {
		char root[512], name[64];
		int first, fifos;

		if (sscanf(lines[i], "tree %63s", name) != 1)
			continue;
		snprintf(root, sizeof(root), "%s/%s", dir, name);
		first = ++i;
		while (i < n && strncmp(lines[i], "cid", 3))
			i++;
		fifos = tree_build(root, lines + first, i - first);
		for (; i < n && !strncmp(lines[i], "cid", 3); i++, cids++)
			check_tree(root, lines[i], fifos);
		i--;
		trees++;
	}
	CU_ASSERT_EQUAL(trees, 6);
	CU_ASSERT_EQUAL(cids, 23);
out:
	buf_release(&text);
	harness_tmpdir_free(dir);
}

/* ---- add_path / add_fd edges ------------------------------------------ */

struct progress_log {
	uint64_t done, total;
	int events;
	int cancel_at; /* cancel at this PROGRESS event; -1 never */
};

static int log_progress(const struct importer_event *ev, void *payload)
{
	struct progress_log *pl = payload;

	if (ev->kind != IMPORTER_EVENT_PROGRESS)
		return 0;
	CU_ASSERT(ev->done >= pl->done);
	CU_ASSERT(ev->done <= ev->total);
	pl->done = ev->done;
	pl->total = ev->total;
	return pl->events++ == pl->cancel_at;
}

static void test_importer__progress_and_cancel(void)
{
	char *dir = harness_tmpdir();
	char p[512];
	struct importer_opts o;
	struct progress_log pl = {0, 0, 0, -1};
	struct cid id;
	uint8_t *big = gen_alloc(100000, 7);

	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	importer_opts_profile(&o, NULL);
	o.chunk_size = 4096;
	o.max_links = 5;
	snprintf(p, sizeof(p), "%s/sub", dir);
	mkdir_p(p);
	snprintf(p, sizeof(p), "%s/sub/big", dir);
	CU_ASSERT_EQUAL(harness_write_file(p, big, 100000), 0);
	snprintf(p, sizeof(p), "%s/small", dir);
	CU_ASSERT_EQUAL(harness_write_file(p, big, 1000), 0);
	CU_ASSERT_EQUAL(importer_add_path(&id, NULL, dir, &o,
					  &blockio_null_sink, log_progress,
					  &pl),
			0);
	CU_ASSERT_EQUAL(pl.total, 101000);
	CU_ASSERT_EQUAL(pl.done, 101000);
	CU_ASSERT(pl.events >= 100000 / 4096);
	/* Cancel in the middle of the pooled file, and on the first event. */
	for (int at = 0; at < 2; at++) {
		pl = (struct progress_log){0, 0, 0, at ? 10 : 0};
		CU_ASSERT_EQUAL(importer_add_path(&id, NULL, dir, &o,
						  &blockio_null_sink,
						  log_progress, &pl),
				EFS_ECANCELED);
	}
	free(big);
	harness_tmpdir_free(dir);
}

static void test_importer__path_errors(void)
{
	char *dir = harness_tmpdir();
	char p[512];
	struct importer_opts o;
	struct cid id;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	importer_opts_profile(&o, NULL);
	snprintf(p, sizeof(p), "%s/missing", dir);
	CU_ASSERT_EQUAL(
	    importer_add_path(&id, NULL, p, &o, &blockio_null_sink, NULL, NULL),
	    EFS_ENOTFOUND);
	snprintf(p, sizeof(p), "%s/fifo", dir);
	CU_ASSERT_EQUAL_FATAL(mkfifo(p, 0644), 0);
	CU_ASSERT_EQUAL(
	    importer_add_path(&id, NULL, p, &o, &blockio_null_sink, NULL, NULL),
	    EFS_EINVAL);
	unlink(p);
	snprintf(p, sizeof(p), "%s/d/bad\xff", dir);
	mkdir_p(p);
	snprintf(p, sizeof(p), "%s/d", dir);
	CU_ASSERT_EQUAL(
	    importer_add_path(&id, NULL, p, &o, &blockio_null_sink, NULL, NULL),
	    EFS_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(efs_error_msg(), "/d/bad\\xff"));
	o.chunk_size = 0;
	CU_ASSERT_EQUAL(importer_add_path(&id, NULL, dir, &o,
					  &blockio_null_sink, NULL, NULL),
			EFS_EINVAL);
	harness_tmpdir_free(dir);
}

/* add_fd on a pipe reads it sequentially; on a directory it fails. */
static void test_importer__add_fd_pipe(void)
{
	uint8_t *p = gen_alloc(20000, 99);
	struct importer_opts o;
	struct importer_file *f;
	struct cid want, got;
	uint64_t tw, tg;
	char *dir = harness_tmpdir();
	int fds[2], fd;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	importer_opts_profile(&o, "unixfs-v0-2015");
	o.chunk_size = 1024;
	o.max_links = 3;
	CU_ASSERT_EQUAL_FATAL(
	    importer_file_new(&f, &o, NULL, &blockio_null_sink), 0);
	CU_ASSERT_EQUAL(importer_file_write(f, p, 20000), 0);
	CU_ASSERT_EQUAL(importer_file_finish(f, &want, NULL, &tw), 0);
	importer_file_free(f);
	CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
	CU_ASSERT_EQUAL(write(fds[1], p, 20000), 20000);
	close(fds[1]);
	CU_ASSERT_EQUAL(importer_add_fd(&got, &tg, fds[0], &o,
					&blockio_null_sink, NULL, NULL),
			0);
	CU_ASSERT(cid_equal(&got, &want));
	CU_ASSERT_EQUAL(tg, tw);
	close(fds[0]);
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	CU_ASSERT_EQUAL(
	    importer_add_fd(&got, NULL, fd, &o, &blockio_null_sink, NULL, NULL),
	    EFS_EIO);
	close(fd);
	free(p);
	harness_tmpdir_free(dir);
}

/* A sink failing at its n-th put, for every n: the error comes back. */
static void test_importer__sink_errors(void)
{
	char *dir = harness_tmpdir();
	char p[512];
	uint8_t *data = gen_alloc(50000, 5);
	struct importer_opts o;
	struct failing_sink fs = {blockio_null_sink, 0, 0};
	struct blockio_sink sink = {failing_put, &fs};
	struct cid id;
	long total;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	importer_opts_profile(&o, NULL);
	o.chunk_size = 2048;
	o.max_links = 4;
	snprintf(p, sizeof(p), "%s/s", dir);
	mkdir_p(p);
	snprintf(p, sizeof(p), "%s/s/f", dir);
	CU_ASSERT_EQUAL(harness_write_file(p, data, 50000), 0);
	snprintf(p, sizeof(p), "%s/s/l", dir);
	CU_ASSERT_EQUAL(symlink("f", p), 0);
	snprintf(p, sizeof(p), "%s/s/e", dir);
	mkdir_p(p);
	fs.fail_at = -1;
	CU_ASSERT_EQUAL(
	    importer_add_path(&id, NULL, dir, &o, &sink, NULL, NULL), 0);
	total = fs.puts;
	CU_ASSERT(total > 25);
	for (long n = 0; n < total; n++) {
		fs.fail_at = n;
		fs.puts = 0;
		CU_ASSERT_EQUAL(
		    importer_add_path(&id, NULL, dir, &o, &sink, NULL, NULL),
		    EFS_EIO);
	}
	free(data);
	harness_tmpdir_free(dir);
}

/* A file shorter than the pool was told (it shrank): EFS_EIO, for both
 * ways of reading, with a worker or with the caller alone, and the pool
 * is reusable after a cancel. */
static void test_importer__leafpool_shrink(void)
{
	char *dir = harness_tmpdir();
	char p[512];
	uint8_t *data = gen_alloc(10000, 3);
	struct importer_opts o;
	const struct importer_leaf *leaf;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	snprintf(p, sizeof(p), "%s/f", dir);
	CU_ASSERT_EQUAL(harness_write_file(p, data, 10000), 0);
	importer_opts_profile(&o, NULL);
	o.chunk_size = 1000;
	for (int run = 0; run < 4; run++) {
		struct leafpool *pool;
		int fd = open(p, O_RDONLY), error, n = 0;

		o.use_mmap = run & 1;
		o.threads = run & 2 ? 1 : 2;
		CU_ASSERT_EQUAL_FATAL(leafpool_new(&pool, &o), 0);
		CU_ASSERT_EQUAL(leafpool_threads(pool), o.threads);
		CU_ASSERT_EQUAL(leafpool_start(pool, fd, 15500), 0);
		CU_ASSERT_EQUAL(leafpool_start(pool, fd, 1), EFS_EINVAL);
		while ((error = leafpool_next(pool, &leaf)) == 0)
			n++;
		CU_ASSERT_EQUAL(error, EFS_EIO);
		CU_ASSERT_EQUAL(n, 10);
		leafpool_cancel(pool);
		CU_ASSERT_EQUAL(leafpool_start(pool, fd, 10000), 0);
		while ((error = leafpool_next(pool, &leaf)) == 0)
			CU_ASSERT_EQUAL(leaf->size, 1000);
		CU_ASSERT_EQUAL(error, EFS_ITEROVER);
		/* Abandon a file half-way: free cancels it. */
		CU_ASSERT_EQUAL(leafpool_start(pool, fd, 10000), 0);
		CU_ASSERT_EQUAL(leafpool_next(pool, &leaf), 0);
		leafpool_free(pool);
		close(fd);
	}
	free(data);
	harness_tmpdir_free(dir);
}

static void test_importer__symlink(void)
{
	struct importer_opts o;
	struct memstore *ms;
	struct blockio_sink sink;
	struct importer_meta meta = {0};
	struct cid a, b;
	uint64_t ta, tb;
	uint8_t *block;
	size_t len;

	importer_opts_profile(&o, NULL);
	CU_ASSERT_EQUAL_FATAL(memstore_new(&ms), 0);
	sink = memstore_sink(ms);
	CU_ASSERT_EQUAL(importer_symlink(&a, &ta, "foo", 3, &o, NULL, &sink),
			0);
	/* ipfs-formats.md §3: symlink Data = 08 04 12 03 "foo". */
	CU_ASSERT_EQUAL_FATAL(memstore_peek(&block, &len, ms, &a), 0);
	CU_ASSERT_EQUAL(len, 9);
	CU_ASSERT_EQUAL(ta, 9);
	CU_ASSERT(!memcmp(block,
			  "\x0a\x07\x08\x04\x12\x03"
			  "foo",
			  9));
	/* 0644 is the default mode of a symlink too: omitted, as in JS. */
	meta.has_mode = true;
	meta.mode = 0120644;
	CU_ASSERT_EQUAL(importer_symlink(&b, &tb, "foo", 3, &o, &meta, &sink),
			0);
	CU_ASSERT(cid_equal(&a, &b));
	meta.mode = 0120777;
	CU_ASSERT_EQUAL(importer_symlink(&b, &tb, "foo", 3, &o, &meta, &sink),
			0);
	CU_ASSERT(!cid_equal(&a, &b));
	CU_ASSERT_EQUAL(tb, 12); /* + 38 ff 03 */
	memstore_free(ms);
}

static CU_TestInfo importer_tests[] = {
    {"profiles", test_importer__profiles},
    {"opts_check", test_importer__opts_check},
    {"names", test_importer__names},
    {"file_vectors", test_importer__file_vectors},
    {"chacha_stream", test_importer__chacha_stream},
    {"kubo_vectors", test_importer__kubo_vectors},
    {"trickle_go_ipfs", test_importer__trickle_go_ipfs},
    {"trickle_tree", test_importer__trickle_tree},
    {"trees", test_importer__trees},
    {"progress_and_cancel", test_importer__progress_and_cancel},
    {"path_errors", test_importer__path_errors},
    {"add_fd_pipe", test_importer__add_fd_pipe},
    {"sink_errors", test_importer__sink_errors},
    {"leafpool_shrink", test_importer__leafpool_shrink},
    {"symlink", test_importer__symlink},
    CU_TEST_INFO_NULL,
};

HARNESS_MAIN({.pName = "importer", .pTests = importer_tests})
