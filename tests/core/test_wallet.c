/*
 * test_wallet.c - the repository wallet: keys created, imported (Lotus
 * key-info from tests/data/filecoin/key_vectors.txt), exported, listed
 * and used to sign; file modes (0700 directory, 0600 files) checked with
 * stat; unsafe modes refused; atomic rewrites leave no temporary files;
 * corrupt and misplaced key files give clear errors; I/O failure;
 * concurrent use; allocation failure.
 */
#include "core/wallet.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "tests/harness.h"

/* A temporary repository, and paths inside it. */
struct repo {
	char *tmp;
	char path[512];
};

static void repo_init(struct repo *r)
{
	r->tmp = harness_tmpdir();
	CU_ASSERT_FATAL(r->tmp != NULL);
	snprintf(r->path, sizeof(r->path), "%s/repo", r->tmp);
}

static void repo_release(struct repo *r)
{
	harness_tmpdir_free(r->tmp);
}

/* path of wallet/<name> into out. */
static void wpath(char *out, size_t cap, const struct repo *r,
		  const char *name)
{
	snprintf(out, cap, "%s/wallet%s%s", r->path, *name ? "/" : "", name);
}

static unsigned mode_of(const char *path)
{
	struct stat st;

	CU_ASSERT_FATAL(lstat(path, &st) == 0);
	return (unsigned)(st.st_mode & 07777);
}

static void write_text(const char *path, const char *text, unsigned mode)
{
	CU_ASSERT_FATAL(harness_write_file(path, text, strlen(text)) == 0);
	CU_ASSERT_FATAL(chmod(path, mode) == 0);
}

#define VECTORS "filecoin/key_vectors.txt"

static struct buf vectors = BUF_INIT(BUF_NOCAP);

/* Text vector "<name>" of key_vectors.txt into out; fails the test when
 * missing or longer than cap. */
static void vec_str(char *out, size_t cap, const char *name)
{
	if (!vectors.ptr)
		CU_ASSERT_FATAL(harness_read_data(&vectors, VECTORS) == 0);
	CU_ASSERT_FATAL(harness_vector_str(out, cap, &vectors, name) >= 0);
}

static void parse_addr(struct filaddr *out, const char *s)
{
	CU_ASSERT_FATAL(filaddr_parse(out, NULL, s, strlen(s)) == 0);
}

/* Import vector key <key> ("zondax", "rand", ...); returns its address. */
static struct filaddr import_vec(struct wallet *w, const char *key)
{
	char ki[FILKEY_KEYINFO_MAX], name[64], want[FILADDR_STR_MAX];
	struct filaddr a, expect;

	snprintf(name, sizeof(name), "%s.keyinfo", key);
	vec_str(ki, sizeof(ki), name);
	snprintf(name, sizeof(name), "%s.addr", key);
	vec_str(want, sizeof(want), name);
	parse_addr(&expect, want);
	CU_ASSERT_FATAL(wallet_import(&a, w, ki, strlen(ki)) == 0);
	CU_ASSERT(filaddr_equal(&a, &expect));
	return a;
}

/* Names in the wallet directory that start with a dot. */
static int count_hidden(const struct repo *r)
{
	char dir[1024];
	struct dirent *de;
	DIR *d;
	int n = 0;

	wpath(dir, sizeof(dir), r, "");
	CU_ASSERT_FATAL((d = opendir(dir)) != NULL);
	while ((de = readdir(d)))
		n += de->d_name[0] == '.' && strcmp(de->d_name, ".") &&
		     strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

/* Whether v is in ascending order of string form. */
static bool sorted(const struct filaddr *v, size_t n)
{
	char a[FILADDR_STR_MAX], b[FILADDR_STR_MAX];

	for (size_t i = 1; i < n; i++) {
		filaddr_format(a, &v[i - 1], 'f');
		filaddr_format(b, &v[i], 'f');
		if (strcmp(a, b) >= 0)
			return false;
	}
	return true;
}

static void test_wallet__new_and_modes(void)
{
	char path[1024], name[FILADDR_STR_MAX], text[256];
	struct filaddr a, b, def, *list;
	struct repo r;
	struct wallet *w;
	struct buf content = BUF_INIT(4096);
	size_t n;
	mode_t old;

	repo_init(&r);
	/* a permissive umask changes nothing */
	old = umask(0);
	CU_ASSERT_FATAL(wallet_open(&w, r.path) == 0);
	CU_ASSERT_FATAL(wallet_new(&a, w) == 0);
	umask(old);
	CU_ASSERT_EQUAL(a.protocol, FILADDR_SECP256K1);
	CU_ASSERT(wallet_has(w, &a));
	wpath(path, sizeof(path), &r, "");
	CU_ASSERT_EQUAL(mode_of(path), 0700);
	CU_ASSERT_EQUAL(mode_of(r.path), 0700);
	filaddr_format(name, &a, 'f');
	wpath(path, sizeof(path), &r, name);
	CU_ASSERT_EQUAL(mode_of(path), 0600);
	wpath(path, sizeof(path), &r, "default");
	CU_ASSERT_EQUAL(mode_of(path), 0600);
	/* the first key became the default; the file names it */
	CU_ASSERT_FATAL(wallet_default(&def, w) == 0);
	CU_ASSERT(filaddr_equal(&def, &a));
	CU_ASSERT_FATAL(harness_read_file(&content, path) == 0);
	snprintf(text, sizeof(text), "%s\n", name);
	CU_ASSERT_STRING_EQUAL((char *)content.ptr, text);
	/* a second key does not take the default */
	CU_ASSERT_FATAL(wallet_new(&b, w) == 0);
	CU_ASSERT(!filaddr_equal(&a, &b));
	CU_ASSERT_FATAL(wallet_default(&def, w) == 0);
	CU_ASSERT(filaddr_equal(&def, &a));
	CU_ASSERT_FATAL(wallet_list(&list, &n, w) == 0);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT(sorted(list, n));
	CU_ASSERT(filaddr_equal(&list[0], &a) || filaddr_equal(&list[1], &a));
	efs_free(list);
	CU_ASSERT_EQUAL(count_hidden(&r), 0);
	wallet_close(w);
	/* reopening finds the same keys */
	CU_ASSERT_FATAL(wallet_open(&w, r.path) == 0);
	CU_ASSERT(wallet_has(w, &a) && wallet_has(w, &b));
	wallet_close(w);
	buf_release(&content);
	repo_release(&r);
}

static void test_wallet__import_export_sign(void)
{
	char ki[FILKEY_KEYINFO_MAX], want[FILKEY_KEYINFO_MAX + 1];
	char path[1024], name[FILADDR_STR_MAX];
	uint8_t sig_want[65];
	struct buf content = BUF_INIT(4096);
	struct filaddr a, b, again, t, id;
	struct filsig sig;
	struct repo r;
	struct wallet *w;

	repo_init(&r);
	CU_ASSERT_FATAL(wallet_open(&w, r.path) == 0);
	a = import_vec(w, "zondax");
	/* the file holds exactly what `lotus wallet export` prints */
	vec_str(want, sizeof(want), "zondax.keyinfo");
	filaddr_format(name, &a, 'f');
	wpath(path, sizeof(path), &r, name);
	CU_ASSERT_FATAL(harness_read_file(&content, path) == 0);
	CU_ASSERT_EQUAL(content.len, strlen(want) + 1);
	CU_ASSERT(memcmp(content.ptr, want, strlen(want)) == 0);
	CU_ASSERT_EQUAL(mode_of(path), 0600);
	CU_ASSERT_EQUAL(wallet_export(ki, w, &a), 0);
	CU_ASSERT_STRING_EQUAL(ki, want);
	/* importing it again is refused, and changes nothing */
	CU_ASSERT_EQUAL(wallet_import(&again, w, want, strlen(want)),
			EFS_EEXISTS);
	CU_ASSERT_EQUAL(count_hidden(&r), 0);
	/* signatures are the reference's, byte for byte */
	CU_ASSERT_FATAL(wallet_sign(&sig, w, &a, "hello", 5) == 0);
	vec_str(ki, sizeof(ki), "zondax.sig.hello");
	CU_ASSERT_EQUAL(harness_unhex(sig_want, sizeof(sig_want), ki), 65);
	CU_ASSERT(memcmp(sig.data, sig_want, 65) == 0);
	CU_ASSERT_EQUAL(filsig_verify(&sig, &a, "hello", 5), 0);
	/* the testnet spelling of the address is the same key */
	parse_addr(&t, "t1d2xrzcslx7xlbbylc5c3d5lvandqw4iwl6epxba");
	CU_ASSERT(wallet_has(w, &t));
	CU_ASSERT_EQUAL(wallet_sign(&sig, w, &t, "hello", 5), 0);
	/* a second key, then the default moves to it */
	b = import_vec(w, "rand");
	CU_ASSERT_EQUAL(wallet_set_default(w, &b), 0);
	CU_ASSERT_EQUAL(wallet_default(&again, w), 0);
	CU_ASSERT(filaddr_equal(&again, &b));
	/* keys we do not have, addresses that have no keys */
	parse_addr(&t, "f1wcuzrs736zqzbbjjdgl2wvyyufuk4pefbymzf2i");
	CU_ASSERT(!wallet_has(w, &t));
	CU_ASSERT_EQUAL(wallet_sign(&sig, w, &t, "x", 1), EFS_ENOTFOUND);
	CU_ASSERT(strstr(efs_error_msg(), "f1wcuzrs736") != NULL);
	CU_ASSERT_EQUAL(wallet_export(ki, w, &t), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(wallet_set_default(w, &t), EFS_ENOTFOUND);
	filaddr_init_id(&id, 1000);
	CU_ASSERT(!wallet_has(w, &id));
	CU_ASSERT_EQUAL(wallet_sign(&sig, w, &id, "x", 1), EFS_EINVAL);
	CU_ASSERT_EQUAL(wallet_set_default(w, &id), EFS_EINVAL);
	/* bls keys are not for us */
	CU_ASSERT_EQUAL(wallet_import(&again, w,
				      "{\"Type\":\"bls\",\"PrivateKey\":\"\"}",
				      31), EFS_EUNSUPPORTED);
	wallet_close(w);
	buf_release(&content);
	repo_release(&r);
}

static void test_wallet__bad_modes(void)
{
	/* readable by others, by group, writable by group: all refused */
	static const unsigned bad[] = { 0644, 0640, 0620, 0604, 0601 };
	char path[1024], name[FILADDR_STR_MAX], ki[FILKEY_KEYINFO_MAX];
	struct filaddr a;
	struct filsig sig;
	struct repo r;
	struct wallet *w;

	repo_init(&r);
	CU_ASSERT_FATAL(wallet_open(&w, r.path) == 0);
	a = import_vec(w, "rand");
	filaddr_format(name, &a, 'f');
	wpath(path, sizeof(path), &r, name);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_FATAL(chmod(path, bad[i]) == 0);
		CU_ASSERT_EQUAL(wallet_sign(&sig, w, &a, "x", 1), EFS_EINVAL);
		CU_ASSERT(strstr(efs_error_msg(), "chmod 600") != NULL);
		CU_ASSERT(strchr(efs_error_msg(), '\n') == NULL);
		CU_ASSERT_EQUAL(wallet_export(ki, w, &a), EFS_EINVAL);
	}
	/* owner-only modes are fine */
	CU_ASSERT_FATAL(chmod(path, 0400) == 0);
	CU_ASSERT_EQUAL(wallet_sign(&sig, w, &a, "x", 1), 0);
	CU_ASSERT_FATAL(chmod(path, 0600) == 0);
	CU_ASSERT_EQUAL(wallet_sign(&sig, w, &a, "x", 1), 0);
	/* another user's key file (only root can make one here) */
	if (geteuid() == 0) {
		CU_ASSERT_FATAL(chown(path, 4242, (gid_t)-1) == 0);
		CU_ASSERT_EQUAL(wallet_sign(&sig, w, &a, "x", 1), EFS_EINVAL);
		CU_ASSERT(strstr(efs_error_msg(), "uid 4242") != NULL);
		CU_ASSERT_FATAL(chown(path, 0, (gid_t)-1) == 0);
	}
	wallet_close(w);
	/* a wallet directory others may write to is refused; group read
	 * is allowed */
	wpath(path, sizeof(path), &r, "");
	CU_ASSERT_FATAL(chmod(path, 0770) == 0);
	CU_ASSERT_EQUAL(wallet_open(&w, r.path), EFS_EINVAL);
	CU_ASSERT(strstr(efs_error_msg(), "chmod 700") != NULL);
	CU_ASSERT_FATAL(chmod(path, 0702) == 0);
	CU_ASSERT_EQUAL(wallet_open(&w, r.path), EFS_EINVAL);
	CU_ASSERT_FATAL(chmod(path, 0750) == 0);
	CU_ASSERT_FATAL(wallet_open(&w, r.path) == 0);
	wallet_close(w);
	repo_release(&r);
}

static void test_wallet__corrupt_files(void)
{
	char path[1024], name[FILADDR_STR_MAX], other[FILKEY_KEYINFO_MAX];
	char big[5000];
	struct filaddr a, def;
	struct filsig sig;
	struct repo r;
	struct wallet *w;

	repo_init(&r);
	CU_ASSERT_FATAL(wallet_open(&w, r.path) == 0);
	a = import_vec(w, "rand");
	filaddr_format(name, &a, 'f');
	wpath(path, sizeof(path), &r, name);

	write_text(path, "not a key\n", 0600);
	CU_ASSERT_EQUAL(wallet_sign(&sig, w, &a, "x", 1), EFS_ECORRUPT);
	CU_ASSERT(strstr(efs_error_msg(), name) != NULL);
	CU_ASSERT(strstr(efs_error_msg(), "key-info") != NULL);
	write_text(path, "", 0600);
	CU_ASSERT_EQUAL(wallet_sign(&sig, w, &a, "x", 1), EFS_ECORRUPT);
	memset(big, '7', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	write_text(path, big, 0600);
	CU_ASSERT_EQUAL(wallet_sign(&sig, w, &a, "x", 1), EFS_ECORRUPT);
	/* another key under this name */
	vec_str(other, sizeof(other), "one.keyinfo");
	write_text(path, other, 0600);
	CU_ASSERT_EQUAL(wallet_sign(&sig, w, &a, "x", 1), EFS_ECORRUPT);
	CU_ASSERT(strstr(efs_error_msg(), "holds the key of") != NULL);
	/* a directory or a symlink where the key should be */
	CU_ASSERT_FATAL(unlink(path) == 0);
	CU_ASSERT_FATAL(mkdir(path, 0700) == 0);
	CU_ASSERT(!wallet_has(w, &a));
	CU_ASSERT_EQUAL(wallet_sign(&sig, w, &a, "x", 1), EFS_ECORRUPT);
	CU_ASSERT_FATAL(rmdir(path) == 0);
	CU_ASSERT_FATAL(symlink("/dev/null", path) == 0);
	CU_ASSERT(!wallet_has(w, &a));
	CU_ASSERT(wallet_sign(&sig, w, &a, "x", 1) < 0);
	CU_ASSERT_FATAL(unlink(path) == 0);

	/* default: gone key, garbage, a non-f1 address */
	CU_ASSERT_EQUAL(wallet_default(&def, w), EFS_ENOTFOUND);
	wpath(path, sizeof(path), &r, "default");
	write_text(path, "garbage\n", 0600);
	CU_ASSERT_EQUAL(wallet_default(&def, w), EFS_ECORRUPT);
	write_text(path, "f01000\n", 0600);
	CU_ASSERT_EQUAL(wallet_default(&def, w), EFS_ECORRUPT);
	/* a new key is still stored when the default file is bad */
	CU_ASSERT_EQUAL(wallet_new(&a, w), 0);
	CU_ASSERT(wallet_has(w, &a));
	CU_ASSERT_EQUAL(wallet_default(&def, w), EFS_ECORRUPT);
	CU_ASSERT_EQUAL(wallet_set_default(w, &a), 0);
	CU_ASSERT_EQUAL(wallet_default(&def, w), 0);
	CU_ASSERT(filaddr_equal(&def, &a));
	wallet_close(w);

	/* the repository is a file */
	snprintf(path, sizeof(path), "%s/afile", r.tmp);
	write_text(path, "x", 0600);
	CU_ASSERT_EQUAL(wallet_open(&w, path), EFS_EINVAL);
	repo_release(&r);
}

static void test_wallet__list_and_rewrite(void)
{
	char path[1024];
	struct filaddr a, b, def, *list;
	struct repo r;
	struct wallet *w;
	size_t n;

	repo_init(&r);
	CU_ASSERT_FATAL(wallet_open(&w, r.path) == 0);
	CU_ASSERT_EQUAL(wallet_list(&list, &n, w), 0);
	CU_ASSERT_EQUAL(n, 0);
	efs_free(list);
	a = import_vec(w, "one");
	b = import_vec(w, "max");
	/* stray files: a crash's temporary file, notes, a testnet name,
	 * a directory */
	wpath(path, sizeof(path), &r, ".tmp-f1abc-1-0");
	write_text(path, "junk", 0600);
	wpath(path, sizeof(path), &r, "notes.txt");
	write_text(path, "junk", 0600);
	wpath(path, sizeof(path), &r,
	      "t1wcuzrs736zqzbbjjdgl2wvyyufuk4pefbymzf2i");
	write_text(path, "junk", 0600);
	wpath(path, sizeof(path), &r,
	      "f1douk4hn6e2odih6yfcmldibirhizdthmubpm7ji");
	CU_ASSERT_FATAL(mkdir(path, 0700) == 0);
	CU_ASSERT_EQUAL(wallet_list(&list, &n, w), 0);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	/* sorted by string: f1mwvnb... (max) before f1wcuzr... (one) */
	CU_ASSERT(filaddr_equal(&list[0], &b));
	CU_ASSERT(filaddr_equal(&list[1], &a));
	efs_free(list);
	/* rewriting the default many times leaves one file, no temps */
	for (int i = 0; i < 20; i++) {
		CU_ASSERT_EQUAL(wallet_set_default(w, i % 2 ? &a : &b), 0);
		CU_ASSERT_EQUAL(wallet_default(&def, w), 0);
		CU_ASSERT(filaddr_equal(&def, i % 2 ? &a : &b));
	}
	CU_ASSERT_EQUAL(count_hidden(&r), 1); /* only the planted one */
	wpath(path, sizeof(path), &r, "default");
	CU_ASSERT_EQUAL(mode_of(path), 0600);
	wallet_close(w);
	repo_release(&r);
}

/* I/O failure: the default cannot be renamed over a directory. */
static void test_wallet__io_failure(void)
{
	char path[1024];
	struct filaddr a, def;
	struct repo r;
	struct wallet *w;

	repo_init(&r);
	CU_ASSERT_FATAL(wallet_open(&w, r.path) == 0);
	wpath(path, sizeof(path), &r, "default");
	CU_ASSERT_FATAL(mkdir(path, 0700) == 0);
	wpath(path, sizeof(path), &r, "default/x");
	write_text(path, "x", 0600);
	/* the key is stored (the unreadable default is left alone), and
	 * setting it as default fails */
	CU_ASSERT_EQUAL(wallet_new(&a, w), 0);
	CU_ASSERT(wallet_has(w, &a));
	CU_ASSERT_EQUAL(wallet_set_default(w, &a), EFS_EIO);
	CU_ASSERT(wallet_default(&def, w) < 0);
	CU_ASSERT_EQUAL(count_hidden(&r), 0);
	wallet_close(w);
	/* a missing parent directory */
	snprintf(path, sizeof(path), "%s/no/such/repo", r.tmp);
	CU_ASSERT_EQUAL(wallet_open(&w, path), EFS_EIO);
	repo_release(&r);
}

struct worker {
	struct wallet *w;
	int rc;
};

static void *make_keys(void *arg)
{
	struct worker *wk = arg;
	struct filaddr a;
	struct filsig sig;

	for (int i = 0; i < 5 && wk->rc == 0; i++) {
		wk->rc = wallet_new(&a, wk->w);
		if (wk->rc == 0)
			wk->rc = wallet_sign(&sig, wk->w, &a, "m", 1);
		if (wk->rc == 0)
			wk->rc = filsig_verify(&sig, &a, "m", 1);
	}
	return NULL;
}

static void test_wallet__threads(void)
{
	struct worker wk[4];
	pthread_t th[4];
	struct filaddr *list;
	struct repo r;
	struct wallet *w;
	size_t n;

	repo_init(&r);
	CU_ASSERT_FATAL(wallet_open(&w, r.path) == 0);
	for (int i = 0; i < 4; i++) {
		wk[i] = (struct worker){ w, 0 };
		CU_ASSERT_FATAL(pthread_create(&th[i], NULL, make_keys,
					       &wk[i]) == 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CU_ASSERT_EQUAL(wk[i].rc, 0);
	}
	CU_ASSERT_EQUAL(wallet_list(&list, &n, w), 0);
	CU_ASSERT_EQUAL(n, 20);
	efs_free(list);
	CU_ASSERT_EQUAL(count_hidden(&r), 0);
	wallet_close(w);
	repo_release(&r);
}

static int alloc_run(void *payload)
{
	const struct repo *r = payload;
	struct filaddr a, *list = NULL;
	struct wallet *w;
	size_t n;
	int rc;

	if ((rc = wallet_open(&w, r->path)) < 0)
		return rc;
	if ((rc = wallet_new(&a, w)) == 0 &&
	    (rc = wallet_list(&list, &n, w)) == 0)
		efs_free(list);
	wallet_close(w);
	return rc;
}

static void test_wallet__alloc(void)
{
	struct repo r;

	repo_init(&r);
	/* enough keys that listing grows its array more than once */
	for (int i = 0; i < 20; i++)
		CU_ASSERT_FATAL(alloc_run(&r) == 0);
	CU_ASSERT(harness_alloc_loop(alloc_run, &r) > 1);
	repo_release(&r);
}

static CU_TestInfo wallet_tests[] = {
	{ "new_and_modes", test_wallet__new_and_modes },
	{ "import_export_sign", test_wallet__import_export_sign },
	{ "bad_modes", test_wallet__bad_modes },
	{ "corrupt_files", test_wallet__corrupt_files },
	{ "list_and_rewrite", test_wallet__list_and_rewrite },
	{ "io_failure", test_wallet__io_failure },
	{ "threads", test_wallet__threads },
	{ "alloc", test_wallet__alloc },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "wallet", .pTests = wallet_tests })
