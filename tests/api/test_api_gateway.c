/*
 * test_api_gateway.c - GET/HEAD /ipfs/ of the daemon's API (the path and
 * trustless gateway: api_gateway*.c) over loopback, against a real
 * blockstore holding a tree imported with core/importer.h: files (one
 * block, and 3 MiB over 64 KiB chunks), Range, conditional requests,
 * directories (redirect, index.html, listings with odd names), a HAMT
 * directory, raw blocks, CARs (parsed back with core/car.h: every block
 * re-hashed; the whole-DAG CAR equal byte for byte to car_write_dag's
 * deterministic CAR; path, entity and block scopes and entity-bytes
 * checked by reading the CAR's blocks back through the DAG reader), bad
 * CIDs, paths and parameters, traversal, 404, HEAD, and an evicted block
 * without a retriever (503).  The client is a bare socket speaking
 * HTTP/1.0, so paths reach the server exactly as written.
 */
#include "api/api_gateway_req.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "api/api_server.h"
#include "core/bstore.h"
#include "core/buf.h"
#include "core/car.h"
#include "core/dagreader.h"
#include "core/error.h"
#include "core/importer.h"
#include "core/memstore.h"
#include "tests/harness.h"

#include "core/banned.h"

#define BIG_SIZE (3u * 1024 * 1024 + 123)
#define CHUNK	 (64u * 1024)
#define HAMT_N	 300

static char *tmp;
static struct bstore *bs;
static struct api_server *srv;
static uint16_t port;
static struct cid root;
static char root_str[CID_STR_MAX];
static uint8_t *big;
static bool setup_failed; /* the tree could not be written */

/* ---- the tree ---- */

static void write_file(const char *dir, const char *name, const void *p,
		       size_t n)
{
	char path[8192];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (harness_write_file(path, p, n) < 0)
		setup_failed = true;
}

static void make_dir(char *out, size_t cap, const char *parent,
		     const char *name)
{
	snprintf(out, cap, "%s/%s", parent, name);
	if (mkdir(out, 0700) < 0)
		setup_failed = true;
}

/*
 * tree/ hello.txt, big.bin, "a b&<c>.txt", "ünï.txt", "%41",
 *       noext (PNG bytes), site/ (index.html, style.css),
 *       hamt/ (HAMT_N files "file-N.txt", sharded), empty/
 */
static void make_tree(const char *top)
{
	static const uint8_t png[] = {0x89, 'P',  'N', 'G', '\r', '\n',
				      0x1a, '\n', 0,   0,   0,	  13};
	char d[4096], name[64], body[64];

	make_dir(d, sizeof(d), top, "tree");
	write_file(d, "hello.txt", "hello world\n", 12);
	write_file(d, "big.bin", big, BIG_SIZE);
	write_file(d, "a b&<c>.txt", "odd\n", 4);
	write_file(d, "\xc3\xbcn\xc3\xaf.txt", "unicode\n", 8);
	write_file(d, "%41", "percent\n", 8);
	write_file(d, "noext", png, sizeof(png));
	make_dir(d, sizeof(d), top, "tree/site");
	write_file(d, "index.html", "<html>hi</html>\n", 16);
	write_file(d, "style.css", "p{}\n", 4);
	make_dir(d, sizeof(d), top, "tree/empty");
	make_dir(d, sizeof(d), top, "tree/hamt");
	for (int i = 0; i < HAMT_N; i++) {
		snprintf(name, sizeof(name), "file-%d.txt", i);
		snprintf(body, sizeof(body), "content %d\n", i);
		write_file(d, name, body, strlen(body));
	}
}

static int suite_setup(void)
{
	struct bstore_opts bo = BSTORE_OPTS_INIT;
	struct importer_opts io;
	struct api_server_opts so = {0};
	char path[4096];
	const char *url;
	struct blockio_sink sink;

	if (!(tmp = harness_tmpdir()) || !(big = malloc(BIG_SIZE)))
		return 1;
	harness_fill_random(big, BIG_SIZE, 7);
	make_tree(tmp);
	if (setup_failed)
		return 1;
	snprintf(path, sizeof(path), "%s/repo", tmp);
	if (mkdir(path, 0700) < 0 || bstore_open(&bs, path, &bo) < 0)
		return 1;
	importer_opts_profile(&io, "unixfs-v1-2025");
	io.chunk_size = CHUNK;
	io.max_links = 16;	  /* a deeper file DAG */
	io.hamt_threshold = 2000; /* hamt/ shards */
	io.threads = 1;
	sink = bstore_sink(bs);
	snprintf(path, sizeof(path), "%s/tree", tmp);
	if (importer_add_path(&root, NULL, path, &io, &sink, NULL, NULL) < 0 ||
	    bstore_sync(bs) < 0)
		return 1;
	cid_tostr(root_str, &root);
	if (api_server_start(&srv, "127.0.0.1:0", &so) < 0)
		return 1;
	api_server_set_bstore(srv, bs);
	url = api_server_url(srv);
	port = (uint16_t)strtoul(strrchr(url, ':') + 1, NULL, 10);
	return 0;
}

static int suite_teardown(void)
{
	api_server_stop(srv);
	if (bs)
		bstore_close(bs);
	free(big);
	harness_tmpdir_free(tmp);
	return 0;
}

/* ---- a bare HTTP/1.0 client ---- */

struct reply {
	int status;
	char head[16384]; /* the status line and headers */
	struct buf body;
};

/* Send "METHOD target HTTP/1.0" with extra header lines (each ending in
 * \r\n, or NULL); the reply until the server closes. */
static int request(struct reply *out, const char *method, const char *target,
		   const char *headers)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct timeval tv = {.tv_sec = 20};
	struct buf raw = BUF_INIT(64u << 20);
	char req[8192], chunk[65536];
	const char *end;
	ssize_t r;
	int fd, n;

	memset(out, 0, sizeof(*out));
	buf_init(&out->body, 64u << 20);
	n = snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: x\r\n%s\r\n",
		     method, target, headers ? headers : "");
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    write(fd, req, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	while ((r = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_add(&raw, chunk, (size_t)r) < 0)
			break;
	close(fd);
	end = raw.ptr ? strstr((const char *)raw.ptr, "\r\n\r\n") : NULL;
	if (!end ||
	    (size_t)(end - (const char *)raw.ptr) >= sizeof(out->head)) {
		buf_release(&raw);
		return -1;
	}
	memcpy(out->head, raw.ptr, (size_t)(end - (const char *)raw.ptr));
	out->status = (int)strtol(out->head + 9, NULL, 10);
	buf_add(&out->body, end + 4,
		raw.len - (size_t)(end + 4 - (const char *)raw.ptr));
	buf_release(&raw);
	return 0;
}

static void reply_release(struct reply *r)
{
	buf_release(&r->body);
}

/* A header's value (copied into out), or NULL. */
static const char *header(char *out, size_t cap, const struct reply *r,
			  const char *name)
{
	size_t n = strlen(name);

	for (const char *p = strstr(r->head, "\r\n"); p;
	     p = strstr(p + 2, "\r\n")) {
		const char *v = p + 2, *e;

		if (strncasecmp(v, name, n) != 0 || v[n] != ':')
			continue;
		v += n + 1;
		while (*v == ' ')
			v++;
		e = strstr(v, "\r\n");
		n = e ? (size_t)(e - v) : strlen(v);
		if (n >= cap)
			n = cap - 1;
		memcpy(out, v, n);
		out[n] = '\0';
		return out;
	}
	return NULL;
}

/* GET target, expecting status; the body is left in *out. */
static void get(struct reply *out, const char *target, const char *headers,
		int status)
{
	CU_ASSERT_EQUAL_FATAL(request(out, "GET", target, headers), 0);
	if (out->status != status)
		fprintf(stderr, "GET %s: %d (want %d): %.*s\n", target,
			out->status, status, (int)out->body.len,
			out->body.ptr ? (const char *)out->body.ptr : "");
	CU_ASSERT_EQUAL(out->status, status);
}

static void status_of(const char *target, const char *headers, int status)
{
	struct reply r;

	get(&r, target, headers, status);
	reply_release(&r);
}

static char *url(char *out, size_t cap, const char *path)
{
	snprintf(out, cap, "/ipfs/%s%s", root_str, path);
	return out;
}

/* ---- files ---- */

static void test_api_gateway__file(void)
{
	struct blockio_source src = bstore_source(bs);
	struct reply r;
	char u[1024], h[1024], cid[CID_STR_MAX];
	struct cid id;

	get(&r, url(u, sizeof(u), "/hello.txt"), NULL, 200);
	CU_ASSERT_EQUAL(r.body.len, 12);
	CU_ASSERT(r.body.ptr && memcmp(r.body.ptr, "hello world\n", 12) == 0);
	CU_ASSERT_STRING_EQUAL(header(h, sizeof(h), &r, "Content-Type"),
			       "text/plain; charset=utf-8");
	CU_ASSERT_STRING_EQUAL(header(h, sizeof(h), &r, "Cache-Control"),
			       "public, max-age=29030400, immutable");
	CU_ASSERT_STRING_EQUAL(
	    header(h, sizeof(h), &r, "X-Content-Type-Options"), "nosniff");
	CU_ASSERT_STRING_EQUAL(header(h, sizeof(h), &r, "X-Ipfs-Path"), u);
	/* Roots: the directory, then the file; the Etag is the file. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(header(h, sizeof(h), &r, "X-Ipfs-Roots"));
	CU_ASSERT_EQUAL(strncmp(h, root_str, strlen(root_str)), 0);
	CU_ASSERT_EQUAL_FATAL(dagreader_resolve(&id, &src, &root, "hello.txt"),
			      0);
	snprintf(u, sizeof(u), "%s,%s", root_str, cid_tostr(cid, &id));
	CU_ASSERT_STRING_EQUAL(h, u);
	snprintf(u, sizeof(u), "\"%s\"", cid);
	CU_ASSERT_STRING_EQUAL(header(h, sizeof(h), &r, "Etag"), u);
	reply_release(&r);

	/* A big file streams whole; content types by name and by bytes. */
	get(&r, url(u, sizeof(u), "/big.bin"), NULL, 200);
	CU_ASSERT_EQUAL(r.body.len, BIG_SIZE);
	CU_ASSERT(r.body.ptr && memcmp(r.body.ptr, big, BIG_SIZE) == 0);
	CU_ASSERT_STRING_EQUAL(header(h, sizeof(h), &r, "Content-Type"),
			       "application/octet-stream");
	reply_release(&r);
	get(&r, url(u, sizeof(u), "/noext"), NULL, 200);
	CU_ASSERT_STRING_EQUAL(header(h, sizeof(h), &r, "Content-Type"),
			       "image/png");
	reply_release(&r);
	get(&r, url(u, sizeof(u), "/site/style.css"), NULL, 200);
	CU_ASSERT_STRING_EQUAL(header(h, sizeof(h), &r, "Content-Type"),
			       "text/css; charset=utf-8");
	reply_release(&r);

	/* HEAD: the same headers, no body. */
	CU_ASSERT_EQUAL_FATAL(
	    request(&r, "HEAD", url(u, sizeof(u), "/big.bin"), NULL), 0);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(r.body.len, 0);
	snprintf(u, sizeof(u), "%u", BIG_SIZE);
	CU_ASSERT_STRING_EQUAL(header(h, sizeof(h), &r, "Content-Length"), u);
	reply_release(&r);
}

static void test_api_gateway__range(void)
{
	struct reply r;
	char u[512], h[256], want[512], etag[CID_STR_MAX + 64];

	get(&r, url(u, sizeof(u), "/big.bin"), "Range: bytes=100000-300000\r\n",
	    206);
	CU_ASSERT_EQUAL(r.body.len, 200001);
	CU_ASSERT(r.body.ptr && memcmp(r.body.ptr, big + 100000, 200001) == 0);
	snprintf(want, sizeof(want), "bytes 100000-300000/%u", BIG_SIZE);
	CU_ASSERT_STRING_EQUAL(header(h, sizeof(h), &r, "Content-Range"), want);
	header(etag, sizeof(etag), &r, "Etag");
	reply_release(&r);

	get(&r, url(u, sizeof(u), "/big.bin"), "Range: bytes=-10\r\n", 206);
	CU_ASSERT_EQUAL(r.body.len, 10);
	CU_ASSERT(r.body.ptr &&
		  memcmp(r.body.ptr, big + BIG_SIZE - 10, 10) == 0);
	reply_release(&r);

	get(&r, url(u, sizeof(u), "/big.bin"), "Range: bytes=9999999-\r\n",
	    416);
	snprintf(want, sizeof(want), "bytes */%u", BIG_SIZE);
	CU_ASSERT_STRING_EQUAL(header(h, sizeof(h), &r, "Content-Range"), want);
	reply_release(&r);
	status_of(url(u, sizeof(u), "/big.bin"), "Range: bytes=x-y\r\n", 416);

	/* If-None-Match with the Etag: 304, no body. */
	snprintf(want, sizeof(want), "If-None-Match: %s\r\n", etag);
	get(&r, url(u, sizeof(u), "/big.bin"), want, 304);
	CU_ASSERT_EQUAL(r.body.len, 0);
	reply_release(&r);
	status_of(url(u, sizeof(u), "/big.bin"), "If-None-Match: \"other\"\r\n",
		  200);
}

/* ---- directories ---- */

static void test_api_gateway__dir(void)
{
	struct reply r;
	char u[512], h[1024];
	const char *html;

	/* No trailing slash: 301 to the slash form. */
	get(&r, url(u, sizeof(u), ""), NULL, 301);
	CU_ASSERT_STRING_EQUAL(header(h, sizeof(h), &r, "Location"),
			       url(u, sizeof(u), "/"));
	reply_release(&r);
	get(&r, url(u, sizeof(u), "/site"), NULL, 301);
	CU_ASSERT_STRING_EQUAL(header(h, sizeof(h), &r, "Location"),
			       url(u, sizeof(u), "/site/"));
	reply_release(&r);

	/* index.html is served for its directory. */
	get(&r, url(u, sizeof(u), "/site/"), NULL, 200);
	CU_ASSERT_EQUAL(r.body.len, 16);
	CU_ASSERT_STRING_EQUAL(header(h, sizeof(h), &r, "Content-Type"),
			       "text/html; charset=utf-8");
	reply_release(&r);

	/* A listing: escaped names, encoded links, sizes. */
	get(&r, url(u, sizeof(u), "/"), NULL, 200);
	html = (const char *)r.body.ptr;
	CU_ASSERT_STRING_EQUAL(header(h, sizeof(h), &r, "Content-Type"),
			       "text/html; charset=utf-8");
	CU_ASSERT_PTR_NOT_NULL(strstr(html, ">a b&amp;&lt;c&gt;.txt</a>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(html, "href=\"./a%20b%26%3Cc%3E.txt\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(html, ">\xc3\xbcn\xc3\xaf.txt</a>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(html, "href=\"./%C3%BCn%C3%AF.txt\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(html, "href=\"./%2541\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(html, "href=\"./hamt\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(html, "3.0 MiB"));
	CU_ASSERT_PTR_NULL(strstr(html, "<c>"));
	CU_ASSERT_PTR_NULL(strstr(html, "href=\"../\"")); /* at the root */
	CU_ASSERT_PTR_NOT_NULL(header(h, sizeof(h), &r, "Etag"));
	CU_ASSERT_EQUAL(strncmp(h, "\"DirIndex-", 10), 0);
	reply_release(&r);

	/* An empty directory lists nothing, with a way up. */
	get(&r, url(u, sizeof(u), "/empty/"), NULL, 200);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr((const char *)r.body.ptr, "href=\"../\""));
	reply_release(&r);
}

static void test_api_gateway__hamt(void)
{
	struct reply r;
	struct dagreader_stat st;
	struct blockio_source src = bstore_source(bs);
	struct cid id;
	char u[512], name[64];

	CU_ASSERT_EQUAL_FATAL(dagreader_resolve(&id, &src, &root, "hamt"), 0);
	CU_ASSERT_EQUAL_FATAL(dagreader_stat(&st, &src, &id), 0);
	CU_ASSERT_EQUAL_FATAL(st.kind, DAGREADER_HAMT);

	get(&r, url(u, sizeof(u), "/hamt/file-123.txt"), NULL, 200);
	CU_ASSERT(r.body.ptr &&
		  strcmp((const char *)r.body.ptr, "content 123\n") == 0);
	reply_release(&r);
	status_of(url(u, sizeof(u), "/hamt/file-300.txt"), NULL, 404);

	get(&r, url(u, sizeof(u), "/hamt/"), NULL, 200);
	for (int i = 0; i < HAMT_N; i++) {
		snprintf(name, sizeof(name), "href=\"./file-%d.txt\"", i);
		CU_ASSERT_PTR_NOT_NULL(strstr((const char *)r.body.ptr, name));
	}
	reply_release(&r);
}

/* ---- names and paths ---- */

static void test_api_gateway__names(void)
{
	struct reply r;
	char u[512];

	get(&r, url(u, sizeof(u), "/a%20b%26%3Cc%3E.txt"), NULL, 200);
	CU_ASSERT(r.body.ptr && strcmp((const char *)r.body.ptr, "odd\n") == 0);
	reply_release(&r);
	get(&r, url(u, sizeof(u), "/%C3%BCn%C3%AF.txt"), NULL, 200);
	CU_ASSERT(r.body.ptr &&
		  strcmp((const char *)r.body.ptr, "unicode\n") == 0);
	reply_release(&r);
	/* Decoded once: "%2541" is the name "%41", never "A". */
	get(&r, url(u, sizeof(u), "/%2541"), NULL, 200);
	CU_ASSERT(r.body.ptr &&
		  strcmp((const char *)r.body.ptr, "percent\n") == 0);
	reply_release(&r);
	status_of(url(u, sizeof(u), "/A"), NULL, 404);
	/* Empty segments are skipped. */
	status_of(url(u, sizeof(u), "//site//style.css"), NULL, 200);
}

static void test_api_gateway__bad_paths(void)
{
	char u[512];

	status_of(url(u, sizeof(u), "/../x"), NULL, 400);
	status_of(url(u, sizeof(u), "/site/../hello.txt"), NULL, 400);
	status_of(url(u, sizeof(u), "/%2E%2E/hello.txt"), NULL, 400);
	status_of(url(u, sizeof(u), "/./hello.txt"), NULL, 400);
	status_of(url(u, sizeof(u), "/hello.txt/x"), NULL, 404);
	/* a NUL never cuts the name: this is not hello.txt */
	status_of(url(u, sizeof(u), "/hello.txt%00.png"), NULL, 404);
	status_of(url(u, sizeof(u), "/missing"), NULL, 404);
	status_of("/ipfs/", NULL, 400);
	status_of("/ipfs/notacid", NULL, 400);
	status_of(
	    "/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzd",
	    NULL, 400);
	/* A valid CID this node does not have. */
	status_of(
	    "/ipfs/bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
	    NULL, 404);
	status_of("/ipfs/"
		  "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku?"
		  "format=raw",
		  NULL, 404);
	status_of("/ipfs/"
		  "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku?"
		  "format=car",
		  NULL, 404);
}

/* ---- trustless: raw blocks ---- */

static void test_api_gateway__raw(void)
{
	struct blockio_source src = bstore_source(bs);
	struct reply r;
	char u[512], h[512], want[CID_STR_MAX + 64];
	struct cid id;

	get(&r, url(u, sizeof(u), "?format=raw"), NULL, 200);
	CU_ASSERT_EQUAL(cid_verify(&root, r.body.ptr, r.body.len), 0);
	CU_ASSERT_STRING_EQUAL(header(h, sizeof(h), &r, "Content-Type"),
			       "application/vnd.ipld.raw");
	snprintf(want, sizeof(want), "attachment; filename=\"%s.bin\"",
		 root_str);
	CU_ASSERT_STRING_EQUAL(header(h, sizeof(h), &r, "Content-Disposition"),
			       want);
	CU_ASSERT_PTR_NULL(header(h, sizeof(h), &r, "Content-Location"));
	reply_release(&r);

	/* By Accept: the same block, and where it lives by format=. */
	get(&r, url(u, sizeof(u), ""), "Accept: application/vnd.ipld.raw\r\n",
	    200);
	CU_ASSERT_EQUAL(cid_verify(&root, r.body.ptr, r.body.len), 0);
	snprintf(want, sizeof(want), "/ipfs/%s?format=raw", root_str);
	CU_ASSERT_STRING_EQUAL(header(h, sizeof(h), &r, "Content-Location"),
			       want);
	reply_release(&r);

	/* A leaf of big.bin, by its own CID, as a trustless client asks. */
	get(&r, url(u, sizeof(u), "/big.bin?format=raw"), NULL, 200);
	CU_ASSERT_EQUAL_FATAL(dagreader_resolve(&id, &src, &root, "big.bin"),
			      0);
	CU_ASSERT_EQUAL(cid_verify(&id, r.body.ptr, r.body.len), 0);
	reply_release(&r);

	/* The identity probe. */
	get(&r, "/ipfs/bafkqaaa?format=raw", NULL, 200);
	CU_ASSERT_EQUAL(r.body.len, 0);
	reply_release(&r);
}

/* ---- trustless: CARs ---- */

/* Read the CAR in r's body: its blocks (each re-hashed by the reader)
 * into ms, their CIDs in order into ids (up to max); the count, or -1. */
static long car_parse(struct memstore *ms, struct cid *ids, size_t max,
		      const struct reply *r, const struct cid *want_root)
{
	struct car_reader *cr;
	struct car_block b;
	const struct cid *roots;
	size_t nroots;
	long n = 0;
	int rc;

	if (car_reader_open_mem(&cr, r->body.ptr, r->body.len) < 0)
		return -1;
	roots = car_reader_roots(cr, &nroots);
	CU_ASSERT_EQUAL(nroots, 1);
	CU_ASSERT(nroots == 1 && cid_equal(&roots[0], want_root));
	while ((rc = car_reader_next(cr, &b)) == 0) {
		if ((size_t)n < max)
			ids[n] = b.info.id;
		n++;
		if (ms)
			CU_ASSERT_EQUAL(memstore_put(ms, &b.info.id, b.data,
						     b.info.block_len),
					0);
	}
	CU_ASSERT_EQUAL(rc, EFS_ITEROVER);
	car_reader_free(cr);
	return rc == EFS_ITEROVER ? n : -1;
}

static int to_buf(void *payload, const uint8_t *data, size_t len)
{
	return buf_add(payload, data, len);
}

static void test_api_gateway__car_all(void)
{
	struct blockio_source src = bstore_source(bs);
	struct buf want = BUF_INIT(BUF_NOCAP);
	struct car_writer *w;
	struct reply r;
	char u[512], h[512], cd[CID_STR_MAX + 64];

	/* The whole DAG: the deterministic CAR, byte for byte. */
	CU_ASSERT_EQUAL_FATAL(car_writer_new_cb(&w, to_buf, &want), 0);
	CU_ASSERT_EQUAL_FATAL(car_write_dag(w, &src, &root, NULL, NULL), 0);
	car_writer_free(w);
	get(&r, url(u, sizeof(u), "?format=car"), NULL, 200);
	CU_ASSERT_STRING_EQUAL(header(h, sizeof(h), &r, "Content-Type"),
			       "application/vnd.ipld.car; version=1; "
			       "order=dfs; dups=n");
	snprintf(cd, sizeof(cd), "attachment; filename=\"%s.car\"", root_str);
	CU_ASSERT_STRING_EQUAL(header(h, sizeof(h), &r, "Content-Disposition"),
			       cd);
	CU_ASSERT_STRING_EQUAL(
	    header(h, sizeof(h), &r, "X-Content-Type-Options"), "nosniff");
	CU_ASSERT_EQUAL(r.body.len, want.len);
	CU_ASSERT(r.body.len == want.len &&
		  memcmp(r.body.ptr, want.ptr, want.len) == 0);
	CU_ASSERT(car_parse(NULL, NULL, 0, &r, &root) > HAMT_N);
	reply_release(&r);

	/* By Accept, with dups=y asked and said. */
	get(&r, url(u, sizeof(u), "/"),
	    "Accept: application/vnd.ipld.car; version=1; order=dfs; "
	    "dups=y\r\n",
	    200);
	CU_ASSERT_STRING_EQUAL(header(h, sizeof(h), &r, "Content-Type"),
			       "application/vnd.ipld.car; version=1; "
			       "order=dfs; dups=y");
	CU_ASSERT_PTR_NOT_NULL(header(h, sizeof(h), &r, "Content-Location"));
	CU_ASSERT(car_parse(NULL, NULL, 0, &r, &root) > HAMT_N);
	reply_release(&r);

	/* HEAD: the headers alone. */
	CU_ASSERT_EQUAL_FATAL(
	    request(&r, "HEAD", url(u, sizeof(u), "?format=car"), NULL), 0);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(r.body.len, 0);
	reply_release(&r);

	/* The identity probe: a CAR rooted at bafkqaaa. */
	get(&r, "/ipfs/bafkqaaa?format=car", NULL, 200);
	CU_ASSERT_EQUAL(r.body.len > 0, 1);
	reply_release(&r);
	buf_release(&want);
}

/* A path's CAR must let a client resolve the path and read what it
 * names from the CAR's blocks alone. */
static void test_api_gateway__car_path(void)
{
	struct memstore *ms;
	struct blockio_source msrc;
	struct cid ids[64], id, want;
	struct reply r;
	char u[512], text[64];
	size_t n;
	long k;

	CU_ASSERT_EQUAL_FATAL(memstore_new(&ms), 0);
	msrc = memstore_source(ms);
	get(&r,
	    url(u, sizeof(u), "/hamt/file-77.txt?format=car&dag-scope=entity"),
	    NULL, 200);
	k = car_parse(ms, ids, 64, &r, &root);
	CU_ASSERT(k >= 3); /* root, shard(s), the file */
	reply_release(&r);
	CU_ASSERT_EQUAL_FATAL(
	    dagreader_resolve(&id, &msrc, &root, "hamt/file-77.txt"), 0);
	CU_ASSERT(cid_equal(&ids[k - 1], &id)); /* the file comes last */
	CU_ASSERT_EQUAL(dagreader_read(text, &n, &msrc, &id, 0, sizeof(text)),
			0);
	CU_ASSERT(n == 11 && memcmp(text, "content 77\n", 11) == 0);
	/* Only the shards on the path: another entry is not there. */
	CU_ASSERT_NOT_EQUAL(
	    dagreader_resolve(&id, &msrc, &root, "hamt/file-78.txt") == 0 &&
		dagreader_read(text, &n, &msrc, &id, 0, 4) == 0,
	    1);
	memstore_free(ms);

	/* dag-scope=block of big.bin: the root directory and its root. */
	get(&r, url(u, sizeof(u), "/big.bin?format=car&dag-scope=block"), NULL,
	    200);
	CU_ASSERT_EQUAL(car_parse(NULL, ids, 64, &r, &root), 2);
	CU_ASSERT(cid_equal(&ids[0], &root));
	{
		struct blockio_source src = bstore_source(bs);

		CU_ASSERT_EQUAL(
		    dagreader_resolve(&want, &src, &root, "big.bin"), 0);
	}
	CU_ASSERT(cid_equal(&ids[1], &want));
	reply_release(&r);

	/* dag-scope=entity of the HAMT: its shards, none of its files. */
	CU_ASSERT_EQUAL_FATAL(memstore_new(&ms), 0);
	msrc = memstore_source(ms);
	get(&r, url(u, sizeof(u), "/hamt?format=car&dag-scope=entity"), NULL,
	    200);
	k = car_parse(ms, ids, 64, &r, &root);
	CU_ASSERT(k >= 2 && k < HAMT_N); /* shards only */
	reply_release(&r);
	CU_ASSERT_EQUAL(dagreader_resolve(&id, &msrc, &root, "hamt/file-5.txt"),
			0); /* every shard is there to find it */
	CU_ASSERT_EQUAL(dagreader_read(text, &n, &msrc, &id, 0, 4),
			EFS_ENOTFOUND); /* but not the file */
	memstore_free(ms);
}

static void test_api_gateway__entity_bytes(void)
{
	struct memstore *ms;
	struct blockio_source msrc;
	struct cid id;
	struct reply r;
	char u[512];
	uint8_t *out = malloc(BIG_SIZE);
	size_t n;
	long all, part;

	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	get(&r, url(u, sizeof(u), "/big.bin?format=car&dag-scope=entity"), NULL,
	    200);
	all = car_parse(NULL, NULL, 0, &r, &root);
	reply_release(&r);
	CU_ASSERT(all > 48); /* 3 MiB of 64 KiB leaves and their parents */

	CU_ASSERT_EQUAL_FATAL(memstore_new(&ms), 0);
	msrc = memstore_source(ms);
	get(&r,
	    url(u, sizeof(u),
		"/big.bin?format=car&entity-bytes=1000000:1100000"),
	    NULL, 200);
	part = car_parse(ms, NULL, 0, &r, &root);
	reply_release(&r);
	CU_ASSERT(part > 2 && part < 12);
	CU_ASSERT_EQUAL_FATAL(dagreader_resolve(&id, &msrc, &root, "big.bin"),
			      0);
	CU_ASSERT_EQUAL(dagreader_read(out, &n, &msrc, &id, 1000000, 100001),
			0);
	CU_ASSERT(n == 100001 && memcmp(out, big + 1000000, n) == 0);
	CU_ASSERT_EQUAL(dagreader_read(out, &n, &msrc, &id, 0, 10),
			EFS_ENOTFOUND);
	memstore_free(ms);

	/* The last bytes, and a range outside the file (the root alone). */
	CU_ASSERT_EQUAL_FATAL(memstore_new(&ms), 0);
	msrc = memstore_source(ms);
	get(&r, url(u, sizeof(u), "/big.bin?format=car&entity-bytes=-100:*"),
	    NULL, 200);
	part = car_parse(ms, NULL, 0, &r, &root);
	reply_release(&r);
	CU_ASSERT_EQUAL(
	    dagreader_read(out, &n, &msrc, &id, BIG_SIZE - 100, 100), 0);
	CU_ASSERT(n == 100 && memcmp(out, big + BIG_SIZE - 100, 100) == 0);
	memstore_free(ms);
	get(&r,
	    url(u, sizeof(u), "/big.bin?format=car&entity-bytes=99999999:*"),
	    NULL, 200);
	CU_ASSERT_EQUAL(car_parse(NULL, NULL, 0, &r, &root), 2);
	reply_release(&r);
	free(out);
}

static void test_api_gateway__bad_params(void)
{
	char u[512];

	status_of(url(u, sizeof(u), "?format=car&dag-scope=foo"), NULL, 400);
	status_of(url(u, sizeof(u), "?format=car&entity-bytes=abc"), NULL, 400);
	status_of(url(u, sizeof(u), "?format=car&entity-bytes=10:5"), NULL,
		  400);
	status_of(url(u, sizeof(u), "?format=car&car-version=2"), NULL, 400);
	status_of(url(u, sizeof(u), "?format=car&car-dups=maybe"), NULL, 400);
	status_of(url(u, sizeof(u), "?format=tar"), NULL, 400);
	status_of(url(u, sizeof(u), "?format=nope"), NULL, 400);
	status_of(url(u, sizeof(u), "/"), "Accept: application/x-tar\r\n", 406);
	status_of(url(u, sizeof(u), "/"),
		  "Accept: application/vnd.ipld.car; version=2\r\n", 406);
	/* What the client can take beats what it cannot. */
	status_of(url(u, sizeof(u), "/"),
		  "Accept: application/x-tar, text/html;q=0.5\r\n", 200);
	status_of(url(u, sizeof(u), "/"), "Accept: text/html, */*;q=0.8\r\n",
		  200);
}

/* ---- Case A without a retriever: an evicted block is 503 ---- */

static void test_api_gateway__evicted(void)
{
	struct blockio_source src = bstore_source(bs);
	struct bstore_location loc = {0};
	struct reply r;
	char u[512];

	CU_ASSERT_EQUAL_FATAL(dagreader_resolve(&loc.block, &src, &root, "%41"),
			      0);
	CU_ASSERT_EQUAL_FATAL(
	    cid_hash(&loc.piece, 1, CID_CODEC_RAW, MHASH_SHA2_256, "piece", 5),
	    0);
	loc.length = 8;
	CU_ASSERT_EQUAL_FATAL(bstore_location_add(bs, &loc), 0);
	CU_ASSERT_EQUAL_FATAL(bstore_evict(bs, &loc.block), 0);
	get(&r, url(u, sizeof(u), "/%2541"), NULL, 503);
	CU_ASSERT_PTR_NOT_NULL(strstr((const char *)r.body.ptr, "evicted"));
	reply_release(&r);
	status_of(url(u, sizeof(u), "/%2541?format=raw"), NULL, 503);
	/* The rest of the tree is still served. */
	status_of(url(u, sizeof(u), "/hello.txt"), NULL, 200);
}

static CU_TestInfo tests[] = {
    {"file", test_api_gateway__file},
    {"range", test_api_gateway__range},
    {"dir", test_api_gateway__dir},
    {"hamt", test_api_gateway__hamt},
    {"names", test_api_gateway__names},
    {"bad_paths", test_api_gateway__bad_paths},
    {"raw", test_api_gateway__raw},
    {"car_all", test_api_gateway__car_all},
    {"car_path", test_api_gateway__car_path},
    {"entity_bytes", test_api_gateway__entity_bytes},
    {"bad_params", test_api_gateway__bad_params},
    /* last: it evicts a block */
    {"evicted", test_api_gateway__evicted},
    CU_TEST_INFO_NULL,
};

HARNESS_MAIN({.pName = "api_gateway",
	      .pInitFunc = suite_setup,
	      .pCleanupFunc = suite_teardown,
	      .pTests = tests})
