/*
 * test_transfer.c - the deal transfer server (dealer/transfer.h) behind
 * a loopback net/http.h server, pulled with libcurl as an SP would:
 * whole GETs, HEAD, single ranges (start, middle, end, open-ended,
 * suffix, Curio's "bytes=0-<size-1>"), several ranges, 416, resume after
 * a cut connection (client and server side), the bearer form, unknown,
 * malformed, expired and revoked tokens, byte accounting, concurrent
 * pulls, and a 64 MiB pull whose RSS stays small.
 *
 * The piece source is fake: deterministic bytes, byte(off) below, so
 * every byte received is checked against its offset without a copy.
 */
#include "dealer/transfer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "core/alloc.h"
#include "core/error.h"
#include "net/http.h"
#include "net/httpc.h"
#include "tests/harness.h"

#define SMALL_ID 1
#define SMALL_SIZE (((uint64_t)3 << 20) + 123)
#define BIG_ID 2
#define BIG_SIZE ((uint64_t)64 << 20)
#define GONE_ID 3          /* open: EFS_ENOTFOUND */
#define FAILING_ID 4       /* read fails past FAIL_AT */
#define FAIL_AT ((uint64_t)1 << 20)
#define EMPTY_ID 5

static struct http_server *srv;
static struct transfer *xfer;
static char *tmpdir;
static char base[64];
static atomic_long opened, closed_;
static atomic_ullong sent_total;

static uint8_t byte_at(uint64_t off)
{
	return (uint8_t)(off * 131 + (off >> 11) + (off >> 19));
}

struct src {
	int64_t id;
	uint64_t size;
};

static int src_open(void **out, uint64_t *size, void *cls, int64_t id)
{
	struct src *s;

	if (id == GONE_ID)
		return efs_error_set(EFS_ENOTFOUND, "piece %lld: gone",
				     (long long)id);
	if (!(s = efs_malloc(sizeof(*s))))
		return efs_error_set(EFS_ENOMEM, "out of memory");
	s->id = id;
	s->size = id == BIG_ID ? BIG_SIZE : id == EMPTY_ID ? 0 : SMALL_SIZE;
	*size = s->size;
	*out = s;
	atomic_fetch_add(&opened, 1);
	return 0;
}

static int src_read(void *cls, uint64_t off, uint8_t *buf, size_t len)
{
	struct src *s = cls;

	if (off > s->size || len > s->size - off)
		return efs_error_set(EFS_EINVAL, "read past the end");
	if (s->id == FAILING_ID && off + len > FAIL_AT)
		return efs_error_set(EFS_EIO, "disk on fire");
	for (size_t i = 0; i < len; i++)
		buf[i] = byte_at(off + i);
	return 0;
}

static void src_close(void *cls)
{
	atomic_fetch_add(&closed_, 1);
	efs_free(cls);
}

static void src_sent(void *cls, int64_t id, const char *miner, uint64_t n)
{
	atomic_fetch_add(&sent_total, n);
}

static const struct transfer_source_ops ops = {
	.open = src_open,
	.read = src_read,
	.close = src_close,
	.sent = src_sent,
};

static void handle(struct http_req *req, void *payload)
{
	if (strncmp(http_req_path(req), TRANSFER_PATH_PREFIX,
		    strlen(TRANSFER_PATH_PREFIX)) == 0)
		transfer_handle(req, payload);
	else
		http_reply(req, 404, NULL, "", 0);
}

static int setup(void)
{
	char path[512];

	if (httpc_global_init() < 0 || !(tmpdir = harness_tmpdir()))
		return -1;
	snprintf(path, sizeof(path), "%s/index.db", tmpdir);
	if (transfer_open(&xfer, path, &ops, NULL) < 0)
		return -1;
	if (http_server_start(&srv, "127.0.0.1", 0, 0, handle, xfer) < 0)
		return -1;
	snprintf(base, sizeof(base), "http://127.0.0.1:%u/",
		 (unsigned)http_server_port(srv));
	return 0;
}

static int teardown(void)
{
	http_server_stop(srv);
	transfer_close(xfer);
	harness_tmpdir_free(tmpdir);
	return 0;
}

/* ---- a pull, as an SP makes it ---- */

struct pull {
	long status;
	char content_range[96];
	char content_type[64];
	bool accept_ranges;
	uint64_t start;       /* offset of the first body byte */
	uint64_t got;         /* body bytes */
	bool bytes_ok;        /* every byte matched byte_at */
	uint64_t stop_after;  /* cut the connection past it (0: never) */
	long rss_max_kb;      /* when sampling */
	bool sample_rss;
	CURLcode cc;
};

static long rss_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static size_t on_header(char *p, size_t size, size_t n, void *cls)
{
	struct pull *pl = cls;
	size_t len = size * n;
	unsigned long long a;

	if (len > 14 && strncasecmp(p, "Content-Range:", 14) == 0) {
		snprintf(pl->content_range, sizeof(pl->content_range), "%.*s",
			 (int)(len - 15), p + 15);
		pl->content_range[strcspn(pl->content_range, "\r\n")] = '\0';
		if (sscanf(pl->content_range, "bytes %llu-", &a) == 1)
			pl->start = a;
	}
	if (len > 13 && strncasecmp(p, "Content-Type:", 13) == 0) {
		snprintf(pl->content_type, sizeof(pl->content_type), "%.*s",
			 (int)(len - 14), p + 14);
		pl->content_type[strcspn(pl->content_type, "\r\n")] = '\0';
	}
	if (strncasecmp(p, "Accept-Ranges: bytes", 20) == 0)
		pl->accept_ranges = true;
	return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *cls)
{
	struct pull *pl = cls;
	size_t len = size * n;

	if (pl->status == 0)
		pl->status = 1;
	for (size_t i = 0; i < len; i++)
		if ((uint8_t)p[i] != byte_at(pl->start + pl->got + i))
			pl->bytes_ok = false;
	if (pl->sample_rss &&
	    (pl->got >> 22) != ((pl->got + len) >> 22)) {
		long kb = rss_kb();

		if (kb > pl->rss_max_kb)
			pl->rss_max_kb = kb;
	}
	pl->got += len;
	if (pl->stop_after && pl->got > pl->stop_after)
		return 0;
	return len;
}

static void do_pull(struct pull *pl, const char *method, const char *url,
		    const char *range, const char *authz)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char line[160];

	pl->status = 0;
	pl->got = 0;
	pl->start = 0;
	pl->bytes_ok = true;
	pl->content_range[0] = pl->content_type[0] = '\0';
	pl->accept_ranges = false;
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	if (range) {
		snprintf(line, sizeof(line), "Range: %s", range);
		h = curl_slist_append(h, line);
	}
	if (authz) {
		snprintf(line, sizeof(line), "Authorization: %s", authz);
		h = curl_slist_append(h, line);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, pl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, pl);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	pl->cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &pl->status);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
}

/* A fresh deal: uuid from n, a token for piece id, its secret URL. */
static void new_deal(char url[256], char tok[TRANSFER_TOKEN_MAX],
		     uint8_t uuid[16], int n, int64_t id, int64_t ttl)
{
	struct buf b = BUF_INIT(255);

	memset(uuid, 0, 16);
	uuid[0] = 0xd3;
	uuid[15] = (uint8_t)n;
	uuid[14] = (uint8_t)(n >> 8);
	CU_ASSERT_EQUAL_FATAL(transfer_token_new(tok, xfer, id, uuid, "f01234",
						 time(NULL) + ttl), 0);
	CU_ASSERT_EQUAL_FATAL(transfer_url(&b, base, tok), 0);
	snprintf(url, 256, "%s", (char *)b.ptr);
	buf_release(&b);
}

/* Wait until the server has closed every source it opened. */
static void settle(void)
{
	for (int i = 0; i < 200; i++) {
		if (atomic_load(&opened) == atomic_load(&closed_))
			return;
		usleep(10000);
	}
	CU_FAIL("a piece source was left open");
}

/* ---- tests ---- */

static void test_transfer__token_and_url(void)
{
	char url[256], tok[TRANSFER_TOKEN_MAX], tok2[TRANSFER_TOKEN_MAX];
	struct buf u = BUF_INIT(BUF_NOCAP), a = BUF_INIT(BUF_NOCAP);
	uint8_t uuid[16];

	new_deal(url, tok, uuid, 1, SMALL_ID, 3600);
	new_deal(url, tok2, uuid, 1, SMALL_ID, 3600);
	CU_ASSERT_EQUAL(strlen(tok), 43);
	CU_ASSERT(strcmp(tok, tok2) != 0);
	CU_ASSERT(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
			      "qrstuvwxyz0123456789-_") == 43);
	/* One '/' between base and path, whatever base ends with. */
	CU_ASSERT_EQUAL(transfer_url(&u, "http://h:1//", "T"), 0);
	CU_ASSERT_STRING_EQUAL((char *)u.ptr, "http://h:1/transfer/T");
	buf_reset(&u);
	CU_ASSERT_EQUAL(transfer_url_bearer(&u, &a, "https://h", uuid, "T"),
			0);
	CU_ASSERT_STRING_EQUAL((char *)u.ptr, "https://h/transfer/"
			       "d3000000-0000-0000-0000-000000000001");
	CU_ASSERT_STRING_EQUAL((char *)a.ptr, "Bearer T");
	buf_reset(&u);
	CU_ASSERT_EQUAL(transfer_url(&u, "ftp://h", "T"), EFS_EINVAL);
	buf_release(&u);
	buf_release(&a);
	/* Bad arguments. */
	CU_ASSERT_EQUAL(transfer_token_new(tok, xfer, 1, uuid, "f01",
					   time(NULL) - 1), EFS_EINVAL);
	CU_ASSERT_EQUAL(transfer_token_new(tok, xfer, 1, uuid, "",
					   time(NULL) + 60), EFS_EINVAL);
	{
		uint8_t none[16] = { 0x77 };

		CU_ASSERT_EQUAL(transfer_stats(xfer, none, NULL, NULL, NULL),
				EFS_ENOTFOUND);
		CU_ASSERT(!transfer_done(xfer, none));
	}
}

static void test_transfer__full_get_and_head(void)
{
	char url[256], tok[TRANSFER_TOKEN_MAX];
	uint8_t uuid[16];
	struct pull pl = { 0 };
	uint64_t bytes = 1, reqs = 0;
	int64_t last = 0;
	unsigned long long sent0 = atomic_load(&sent_total);

	new_deal(url, tok, uuid, 2, SMALL_ID, 3600);
	CU_ASSERT_EQUAL(transfer_stats(xfer, uuid, &bytes, &reqs, &last), 0);
	CU_ASSERT_EQUAL(bytes, 0);
	CU_ASSERT_EQUAL(reqs, 0);
	CU_ASSERT_EQUAL(last, 0);

	do_pull(&pl, "HEAD", url, NULL, NULL);
	CU_ASSERT_EQUAL(pl.cc, CURLE_OK);
	CU_ASSERT_EQUAL(pl.status, 200);
	CU_ASSERT_EQUAL(pl.got, 0);
	CU_ASSERT(pl.accept_ranges);
	CU_ASSERT_STRING_EQUAL(pl.content_type, "application/vnd.ipld.car");
	settle();
	CU_ASSERT(!transfer_done(xfer, uuid));

	do_pull(&pl, "GET", url, NULL, NULL);
	CU_ASSERT_EQUAL(pl.cc, CURLE_OK);
	CU_ASSERT_EQUAL(pl.status, 200);
	CU_ASSERT_EQUAL(pl.got, SMALL_SIZE);
	CU_ASSERT(pl.bytes_ok);
	CU_ASSERT(pl.accept_ranges);
	CU_ASSERT_STRING_EQUAL(pl.content_range, "");
	settle();
	CU_ASSERT_EQUAL(transfer_stats(xfer, uuid, &bytes, &reqs, &last), 0);
	CU_ASSERT_EQUAL(bytes, SMALL_SIZE);
	CU_ASSERT_EQUAL(reqs, 2);
	CU_ASSERT(last >= time(NULL) - 5 && last <= time(NULL));
	CU_ASSERT(transfer_done(xfer, uuid));
	CU_ASSERT_EQUAL(atomic_load(&sent_total) - sent0, SMALL_SIZE);

	/* POST: 405. */
	do_pull(&pl, "POST", url, NULL, NULL);
	CU_ASSERT_EQUAL(pl.status, 405);
	settle();
}

static void test_transfer__ranges(void)
{
	static const struct {
		const char *range;
		long status;
		uint64_t start, len;
	} cases[] = {
		{ "bytes=0-99", 206, 0, 100 },
		{ "bytes=1000000-1000009", 206, 1000000, 10 },
		{ "bytes=3145800-", 206, 3145800, SMALL_SIZE - 3145800 },
		{ "bytes=-100", 206, SMALL_SIZE - 100, 100 },
		{ "bytes=-99999999", 206, 0, SMALL_SIZE },
		{ "bytes=3145700-99999999", 206, 3145700,
		  SMALL_SIZE - 3145700 },
		/* Curio's robusthttp, first request and resumed. */
		{ "bytes=0-3145850", 206, 0, SMALL_SIZE },
		{ "bytes=65536-3145850", 206, 65536, SMALL_SIZE - 65536 },
		/* Several ranges: the whole body. */
		{ "bytes=0-0,-1", 200, 0, SMALL_SIZE },
		{ "", 200, 0, SMALL_SIZE },
		/* Unsatisfiable or malformed. */
		{ "bytes=3145851-", 416, 0, 0 },
		{ "bytes=99999999-", 416, 0, 0 },
		{ "bytes=5-2", 416, 0, 0 },
		{ "items=0-1", 416, 0, 0 },
		{ "bytes=-0", 416, 0, 0 },
	};
	char url[256], tok[TRANSFER_TOKEN_MAX];
	uint8_t uuid[16];
	struct pull pl = { 0 };

	CU_ASSERT_EQUAL_FATAL(SMALL_SIZE, 3145851);
	new_deal(url, tok, uuid, 3, SMALL_ID, 3600);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char cr[96];

		do_pull(&pl, "GET", url, cases[i].range, NULL);
		CU_ASSERT_EQUAL(pl.cc, CURLE_OK);
		CU_ASSERT_EQUAL(pl.status, cases[i].status);
		if (pl.status != cases[i].status)
			fprintf(stderr, "range %s: %ld\n", cases[i].range,
				pl.status);
		if (cases[i].status == 416)
			continue;
		CU_ASSERT_EQUAL(pl.got, cases[i].len);
		CU_ASSERT_EQUAL(pl.start, cases[i].start);
		CU_ASSERT(pl.bytes_ok);
		if (cases[i].status == 206) {
			snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu",
				 (unsigned long long)cases[i].start,
				 (unsigned long long)(cases[i].start +
						      cases[i].len - 1),
				 (unsigned long long)SMALL_SIZE);
			CU_ASSERT_STRING_EQUAL(pl.content_range, cr);
		}
	}
	/* 416 past the end says the size. */
	do_pull(&pl, "GET", url, "bytes=4000000-", NULL);
	CU_ASSERT_EQUAL(pl.status, 416);
	CU_ASSERT_STRING_EQUAL(pl.content_range, "bytes */3145851");
	/* HEAD of a range: its headers, no body. */
	do_pull(&pl, "HEAD", url, "bytes=10-19", NULL);
	CU_ASSERT_EQUAL(pl.status, 206);
	CU_ASSERT_STRING_EQUAL(pl.content_range, "bytes 10-19/3145851");
	CU_ASSERT_EQUAL(pl.got, 0);
	settle();
}

static void test_transfer__resume(void)
{
	char url[256], tok[TRANSFER_TOKEN_MAX], range[64];
	uint8_t uuid[16];
	struct pull pl = { 0 };
	uint64_t have, bytes = 0;

	/* The big piece: the server hands bytes to socket buffers that can
	 * hold tens of MiB on loopback (tcp_rmem), and a cut reply whose
	 * every byte was handed out counts as done. */
	new_deal(url, tok, uuid, 4, BIG_ID, 3600);
	/* The SP gets cut off after about 1 MiB ... */
	pl.stop_after = 1 << 20;
	snprintf(range, sizeof(range), "bytes=0-%llu",
		 (unsigned long long)(BIG_SIZE - 1));
	do_pull(&pl, "GET", url, range, NULL);
	CU_ASSERT_EQUAL(pl.cc, CURLE_WRITE_ERROR);
	CU_ASSERT(pl.bytes_ok);
	have = pl.got;
	CU_ASSERT(have > (1 << 20) && have < BIG_SIZE);
	settle();
	CU_ASSERT(!transfer_done(xfer, uuid));
	/* ... and resumes where it stopped, as Curio does. */
	pl.stop_after = 0;
	snprintf(range, sizeof(range), "bytes=%llu-%llu",
		 (unsigned long long)have, (unsigned long long)(BIG_SIZE - 1));
	do_pull(&pl, "GET", url, range, NULL);
	CU_ASSERT_EQUAL(pl.cc, CURLE_OK);
	CU_ASSERT_EQUAL(pl.status, 206);
	CU_ASSERT_EQUAL(pl.start, have);
	CU_ASSERT_EQUAL(have + pl.got, BIG_SIZE);
	CU_ASSERT(pl.bytes_ok);
	settle();
	CU_ASSERT(transfer_done(xfer, uuid));
	/* Counted: what the server handed out, at least the payload; the
	 * cut reply counts what was in flight in the socket buffers too,
	 * never more than its whole length. */
	CU_ASSERT_EQUAL(transfer_stats(xfer, uuid, &bytes, NULL, NULL), 0);
	CU_ASSERT(bytes >= BIG_SIZE);
	CU_ASSERT(bytes <= BIG_SIZE + (BIG_SIZE - have));
	fprintf(stderr, "resume: %llu bytes counted for %llu\n",
		(unsigned long long)bytes, (unsigned long long)BIG_SIZE);

	/* The server's source fails mid-body: the connection is cut. */
	new_deal(url, tok, uuid, 5, FAILING_ID, 3600);
	do_pull(&pl, "GET", url, NULL, NULL);
	CU_ASSERT(pl.cc != CURLE_OK);
	CU_ASSERT(pl.got <= FAIL_AT);
	CU_ASSERT(pl.bytes_ok);
	settle();
	CU_ASSERT(!transfer_done(xfer, uuid));
	/* A later range before the bad spot still works. */
	do_pull(&pl, "GET", url, "bytes=0-999", NULL);
	CU_ASSERT_EQUAL(pl.status, 206);
	CU_ASSERT_EQUAL(pl.got, 1000);
	settle();
}

static void test_transfer__not_found(void)
{
	char url[256], tok[TRANSFER_TOKEN_MAX], u2[300];
	uint8_t uuid[16];
	struct pull pl = { 0 };
	static const char *const bad[] = {
		"transfer/", "transfer/x", "transfer/..",
		"transfer/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"transfer/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%21",
		"transfer/d3000000-0000-0000-0000-000000000006",
	};

	new_deal(url, tok, uuid, 6, SMALL_ID, 3600);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(u2, sizeof(u2), "%s%s", base, bad[i]);
		do_pull(&pl, "GET", u2, NULL, NULL);
		CU_ASSERT_EQUAL(pl.status, 404);
	}
	/* The token with something after it. */
	snprintf(u2, sizeof(u2), "%s/x", url);
	do_pull(&pl, "GET", u2, NULL, NULL);
	CU_ASSERT_EQUAL(pl.status, 404);
	/* A piece the source no longer has. */
	new_deal(url, tok, uuid, 7, GONE_ID, 3600);
	do_pull(&pl, "GET", url, NULL, NULL);
	CU_ASSERT_EQUAL(pl.status, 404);
	settle();
}

static void test_transfer__bearer(void)
{
	char url[256], tok[TRANSFER_TOKEN_MAX], authz[80];
	struct buf u = BUF_INIT(BUF_NOCAP), a = BUF_INIT(BUF_NOCAP);
	uint8_t uuid[16], other[16];
	struct pull pl = { 0 };

	new_deal(url, tok, uuid, 8, SMALL_ID, 3600);
	CU_ASSERT_EQUAL_FATAL(transfer_url_bearer(&u, &a, base, uuid, tok),
			      0);
	do_pull(&pl, "GET", (char *)u.ptr, "bytes=100-199", (char *)a.ptr);
	CU_ASSERT_EQUAL(pl.status, 206);
	CU_ASSERT_EQUAL(pl.got, 100);
	CU_ASSERT(pl.bytes_ok);
	/* Go canonicalises nothing in values; the scheme in any case. */
	snprintf(authz, sizeof(authz), "bearer   %s ", tok);
	do_pull(&pl, "GET", (char *)u.ptr, "bytes=0-0", authz);
	CU_ASSERT_EQUAL(pl.status, 206);
	/* No header, another scheme, a wrong token: 404. */
	do_pull(&pl, "GET", (char *)u.ptr, NULL, NULL);
	CU_ASSERT_EQUAL(pl.status, 404);
	snprintf(authz, sizeof(authz), "Basic %s", tok);
	do_pull(&pl, "GET", (char *)u.ptr, NULL, authz);
	CU_ASSERT_EQUAL(pl.status, 404);
	/* The token of another deal on this deal's URL: 404. */
	buf_reset(&u);
	memcpy(other, uuid, 16);
	other[15] ^= 0xff;
	CU_ASSERT_EQUAL(transfer_url_bearer(&u, &a, base, other, tok), 0);
	do_pull(&pl, "GET", (char *)u.ptr, NULL, (char *)a.ptr);
	CU_ASSERT_EQUAL(pl.status, 404);
	buf_release(&u);
	buf_release(&a);
	settle();
}

static void test_transfer__expiry_and_revoke(void)
{
	char url[256], tok[TRANSFER_TOKEN_MAX];
	char url2[256], tok2[TRANSFER_TOKEN_MAX];
	uint8_t uuid[16], uuid2[16];
	struct pull pl = { 0 };
	uint64_t reqs = 0;
	/* 2 s, not 1: whole seconds, and a slow (sanitizer) run could
	 * cross a 1 s expiry before its first pull */
	time_t until = time(NULL) + 2;

	new_deal(url, tok, uuid, 9, SMALL_ID, 2);
	new_deal(url2, tok2, uuid2, 10, SMALL_ID, 3600);
	do_pull(&pl, "GET", url, "bytes=0-9", NULL);
	CU_ASSERT_EQUAL(pl.status, 206);
	do_pull(&pl, "GET", url2, "bytes=0-9", NULL);
	CU_ASSERT_EQUAL(pl.status, 206);

	CU_ASSERT_EQUAL(transfer_revoke(xfer, uuid2), 0);
	do_pull(&pl, "GET", url2, "bytes=0-9", NULL);
	CU_ASSERT_EQUAL(pl.status, 404);
	CU_ASSERT_EQUAL(transfer_stats(xfer, uuid2, NULL, &reqs, NULL), 0);
	CU_ASSERT_EQUAL(reqs, 1);

	while (time(NULL) <= until)
		usleep(50000);
	do_pull(&pl, "GET", url, "bytes=0-9", NULL);
	CU_ASSERT_EQUAL(pl.status, 404);
	CU_ASSERT_EQUAL(transfer_stats(xfer, uuid, NULL, &reqs, NULL), 0);
	CU_ASSERT_EQUAL(reqs, 1);
	settle();
}

static void test_transfer__empty(void)
{
	char url[256], tok[TRANSFER_TOKEN_MAX];
	uint8_t uuid[16];
	struct pull pl = { 0 };

	new_deal(url, tok, uuid, 11, EMPTY_ID, 3600);
	do_pull(&pl, "GET", url, NULL, NULL);
	CU_ASSERT_EQUAL(pl.status, 200);
	CU_ASSERT_EQUAL(pl.got, 0);
	do_pull(&pl, "GET", url, "bytes=0-", NULL);
	CU_ASSERT_EQUAL(pl.status, 416);
	settle();
}

#define NPULLS 4

struct worker {
	const char *url;
	struct pull pl;
};

static void *puller(void *arg)
{
	struct worker *w = arg;

	do_pull(&w->pl, "GET", w->url, NULL, NULL);
	return NULL;
}

static void test_transfer__concurrent(void)
{
	char url[256], tok[TRANSFER_TOKEN_MAX];
	uint8_t uuid[16];
	struct worker w[NPULLS];
	pthread_t th[NPULLS];
	uint64_t bytes = 0, reqs = 0;

	new_deal(url, tok, uuid, 12, SMALL_ID, 3600);
	for (int i = 0; i < NPULLS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].url = url;
		CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, puller,
						     &w[i]), 0);
	}
	for (int i = 0; i < NPULLS; i++) {
		pthread_join(th[i], NULL);
		CU_ASSERT_EQUAL(w[i].pl.cc, CURLE_OK);
		CU_ASSERT_EQUAL(w[i].pl.status, 200);
		CU_ASSERT_EQUAL(w[i].pl.got, SMALL_SIZE);
		CU_ASSERT(w[i].pl.bytes_ok);
	}
	settle();
	CU_ASSERT_EQUAL(transfer_stats(xfer, uuid, &bytes, &reqs, NULL), 0);
	CU_ASSERT_EQUAL(bytes, NPULLS * SMALL_SIZE);
	CU_ASSERT_EQUAL(reqs, NPULLS);
}

static void test_transfer__big_rss(void)
{
	char url[256], tok[TRANSFER_TOKEN_MAX];
	uint8_t uuid[16];
	struct pull pl = { 0 };
	long before;

	new_deal(url, tok, uuid, 13, BIG_ID, 3600);
	/* Warm up (libcurl, the server's thread) before the baseline. */
	do_pull(&pl, "GET", url, "bytes=0-999999", NULL);
	settle();
	before = rss_kb();
	pl.sample_rss = true;
	pl.rss_max_kb = before;
	do_pull(&pl, "GET", url, NULL, NULL);
	CU_ASSERT_EQUAL(pl.cc, CURLE_OK);
	CU_ASSERT_EQUAL(pl.got, BIG_SIZE);
	CU_ASSERT(pl.bytes_ok);
	settle();
	fprintf(stderr, "64 MiB pull: RSS %ld kB before, %ld kB at most\n",
		before, pl.rss_max_kb);
	CU_ASSERT(before > 0);
	CU_ASSERT(pl.rss_max_kb - before < 8 * 1024);
	CU_ASSERT(transfer_done(xfer, uuid));
}

static CU_TestInfo transfer_tests[] = {
	{ "big_rss", test_transfer__big_rss },
	{ "token_and_url", test_transfer__token_and_url },
	{ "full_get_and_head", test_transfer__full_get_and_head },
	{ "ranges", test_transfer__ranges },
	{ "resume", test_transfer__resume },
	{ "not_found", test_transfer__not_found },
	{ "bearer", test_transfer__bearer },
	{ "expiry_and_revoke", test_transfer__expiry_and_revoke },
	{ "empty", test_transfer__empty },
	{ "concurrent", test_transfer__concurrent },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "transfer", .pInitFunc = setup,
	       .pCleanupFunc = teardown, .pTests = transfer_tests })
