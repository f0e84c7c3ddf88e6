/*
 * test_sp_retrieval.c - what a simulated SP serves once a deal is sealed:
 * /piece/{cid} (FRC-0066 over Go's ServeContent: Range, 416, ETag, HEAD,
 * v1 and v2 piece CIDs), /ipfs/{cid} (the trustless gateway as frisbii
 * answers it: CAR and raw, dag-scope, entity-bytes, paths, the probe,
 * format negotiation and its 400s), the IPNI endpoint, the corrupt and
 * truncate faults, and a restart of the devnet (pieces still served,
 * a deal being sealed goes on).
 *
 * The CARs served are checked by reading them back with core/car.h
 * (every block hashed) and, for entity-bytes, by reading the range
 * through the DAG reader from the blocks returned alone.
 */
#include "tests/devnet/spfx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "core/alloc.h"
#include "core/car.h"
#include "core/dagpb.h"
#include "core/dagreader.h"
#include "core/db.h"
#include "core/error.h"
#include "core/mbase.h"
#include "core/unixfs.h"
#include "tests/harness.h"

#define BIG_SEED 3
#define BIG_SIZE 300000
#define BLOCKS_MAX 512

static struct spfx_car car;    /* dealt with miner 0 */
static struct spfx_car other;  /* never dealt */
static struct spfx_car hamt;   /* dealt with miner 0: a HAMT directory */
static uint8_t *big_data;      /* the bytes of car's big.bin */
static char base[128];         /* miner 0's URL */

static int setup(void)
{
	uint64_t id;

	if (spfx_open(2) < 0 || spfx_car_make(&car, BIG_SEED, BIG_SIZE) < 0 ||
	    spfx_car_make(&other, 4, 1000) < 0 ||
	    spfx_car_make_opts(&hamt, 5, 20000, 30) < 0 ||
	    spfx_deal(&id, 0, &car) < 0 || spfx_deal(&id, 0, &hamt) < 0) {
		fprintf(stderr, "setup: %s\n", efs_error_msg());
		return 1;
	}
	big_data = malloc(BIG_SIZE);
	harness_fill_random(big_data, BIG_SIZE, BIG_SEED);
	snprintf(base, sizeof(base), "%s", spfx_sp_url(0));
	return 0;
}

static int teardown(void)
{
	free(big_data);
	spfx_car_release(&car);
	spfx_car_release(&other);
	spfx_car_release(&hamt);
	spfx_close();
	return 0;
}

static void get(struct spfx_resp *r, const char *method, const char *path,
		const char *h1, const char *h2)
{
	const char *hdrs[3] = { h1, h1 ? h2 : NULL, NULL };
	char url[1024];

	snprintf(url, sizeof(url), "%s%s", base, path);
	spfx_request(r, method, url, hdrs, NULL, 0);
}

static bool header_is(const struct spfx_resp *r, const char *name,
		      const char *want)
{
	char v[1024];

	if (!spfx_header(r, name, v, sizeof(v))) {
		fprintf(stderr, "no header %s\n", name);
		return false;
	}
	if (strcmp(v, want) != 0) {
		fprintf(stderr, "%s: \"%s\", want \"%s\"\n", name, v, want);
		return false;
	}
	return true;
}

static bool body_is(const struct spfx_resp *r, const void *p, size_t len)
{
	return r->body.len == len && (!len || !memcmp(r->body.ptr, p, len));
}

/* The blocks of a CAR, in order; the reader's last code. */
static int car_blocks(struct cid *ids, size_t *n, struct memstore *ms,
		      const struct buf *b, const struct cid *root)
{
	struct car_reader *r;
	struct car_block blk;
	const struct cid *roots;
	size_t nroots;
	int rc;

	*n = 0;
	if ((rc = car_reader_open_mem(&r, b->ptr, b->len)) < 0)
		return rc;
	roots = car_reader_roots(r, &nroots);
	if (nroots != 1 || !cid_equal(&roots[0], root))
		rc = EFS_ECORRUPT;
	while (rc == 0 && (rc = car_reader_next(r, &blk)) == 0) {
		if (*n < BLOCKS_MAX)
			ids[(*n)++] = blk.info.id;
		if (ms)
			memstore_put(ms, &blk.info.id, blk.data,
				     blk.info.block_len);
	}
	car_reader_free(r);
	return rc == EFS_ITEROVER ? 0 : rc;
}

/* ---- /piece ---- */

static void test_sp_retrieval__piece(void)
{
	char cs[CID_STR_MAX], path[512], etag[CID_STR_MAX + 4], len[32];
	char inm[CID_STR_MAX + 32];
	struct spfx_resp r;

	snprintf(path, sizeof(path), "/piece/%s", cid_tostr(cs, &car.piece_v1));
	snprintf(etag, sizeof(etag), "\"%s\"", cs);
	get(&r, "GET", path, NULL, NULL);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT(body_is(&r, car.bytes.ptr, car.bytes.len));
	CU_ASSERT(header_is(&r, "Content-Type", "application/octet-stream"));
	CU_ASSERT(header_is(&r, "Etag", etag));
	CU_ASSERT(header_is(&r, "Cache-Control",
			    "public, max-age=29030400, immutable"));
	CU_ASSERT(header_is(&r, "Accept-Ranges", "bytes"));
	CU_ASSERT(header_is(&r, "Vary", "Accept-Encoding"));
	CU_ASSERT(header_is(&r, "Last-Modified",
			    "Thu, 01 Jan 1970 00:00:00 GMT"));
	spfx_resp_release(&r);

	get(&r, "HEAD", path, NULL, NULL);
	snprintf(len, sizeof(len), "%zu", car.bytes.len);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT(header_is(&r, "Content-Length", len));
	CU_ASSERT_EQUAL(r.body.len, 0);
	spfx_resp_release(&r);

	get(&r, "GET", path, "If-None-Match: W/\"x\", ", NULL);
	CU_ASSERT_EQUAL(r.status, 200);
	spfx_resp_release(&r);
	snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
	get(&r, "GET", path, inm, NULL);
	CU_ASSERT_EQUAL(r.status, 304);
	CU_ASSERT_EQUAL(r.body.len, 0);
	spfx_resp_release(&r);

	/* The v2 CID names the same bytes. */
	snprintf(path, sizeof(path), "/piece/%s", cid_tostr(cs, &car.piece_v2));
	snprintf(etag, sizeof(etag), "\"%s\"", cs);
	get(&r, "GET", path, NULL, NULL);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT(body_is(&r, car.bytes.ptr, car.bytes.len));
	CU_ASSERT(header_is(&r, "Etag", etag));
	spfx_resp_release(&r);
}

static void test_sp_retrieval__piece_range(void)
{
	static const struct {
		const char *range;
		long status;
		long start;   /* -1: whole body */
		long len;     /* negative: to the end, minus this */
		const char *body;
	} cases[] = {
		{ "bytes=0-99", 206, 0, 100, NULL },
		{ "bytes=100-", 206, 100, -100, NULL },
		{ "bytes=-50", 206, -50, 50, NULL },
		{ "bytes= 5 - 9 ", 206, 5, 5, NULL },
		{ "bytes=10-99999999", 206, 10, -10, NULL },
		{ "bytes=0-1,5-6", 200, -1, 0, NULL },
		{ "bytes=99999999-", 416, 0, 0,
		  "invalid range: failed to overlap\n" },
		{ "bytes=abc", 416, 0, 0, "invalid range\n" },
		{ "items=0-1", 416, 0, 0, "invalid range\n" },
		{ "bytes=9-5", 416, 0, 0, "invalid range\n" },
		{ "bytes=--5", 416, 0, 0, "invalid range\n" },
	};
	char cs[CID_STR_MAX], path[512], hdr[64], want[96];
	long size = (long)car.bytes.len;

	snprintf(path, sizeof(path), "/piece/%s", cid_tostr(cs, &car.piece_v1));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct spfx_resp r;
		long start = cases[i].start, len = cases[i].len;

		snprintf(hdr, sizeof(hdr), "Range: %s", cases[i].range);
		get(&r, "GET", path, hdr, NULL);
		CU_ASSERT_EQUAL(r.status, cases[i].status);
		if (r.status != cases[i].status)
			fprintf(stderr, "%s: %ld\n", cases[i].range, r.status);
		if (cases[i].body) {
			CU_ASSERT(body_is(&r, cases[i].body,
					  strlen(cases[i].body)));
		} else if (start == -1) {
			CU_ASSERT(body_is(&r, car.bytes.ptr, car.bytes.len));
		} else {
			if (start < 0)
				start += size;
			if (len < 0)
				len += size;
			CU_ASSERT(body_is(&r, car.bytes.ptr + start,
					  (size_t)len));
			snprintf(want, sizeof(want), "bytes %ld-%ld/%ld", start,
				 start + len - 1, size);
			CU_ASSERT(header_is(&r, "Content-Range", want));
		}
		if (cases[i].body && strstr(cases[i].body, "overlap")) {
			snprintf(want, sizeof(want), "bytes */%ld", size);
			CU_ASSERT(header_is(&r, "Content-Range", want));
		}
		spfx_resp_release(&r);
	}
}

static void test_sp_retrieval__piece_bad(void)
{
	char cs[CID_STR_MAX], path[512];
	struct spfx_resp r;

	snprintf(path, sizeof(path), "/piece/%s",
		 cid_tostr(cs, &other.piece_v1));
	get(&r, "GET", path, NULL, NULL);
	CU_ASSERT_EQUAL(r.status, 404);
	CU_ASSERT_EQUAL(r.body.len, 0);
	spfx_resp_release(&r);
	snprintf(path, sizeof(path), "/piece/%s", cid_tostr(cs, &car.root));
	get(&r, "GET", path, NULL, NULL);
	CU_ASSERT_EQUAL(r.status, 404);
	spfx_resp_release(&r);
	get(&r, "GET", "/piece/", NULL, NULL);
	CU_ASSERT_EQUAL(r.status, 400);
	spfx_resp_release(&r);
	get(&r, "GET", "/piece/baga-not-a-cid", NULL, NULL);
	CU_ASSERT_EQUAL(r.status, 400);
	spfx_resp_release(&r);
	snprintf(path, sizeof(path), "/piece/%s", cid_tostr(cs, &car.piece_v1));
	get(&r, "POST", path, NULL, NULL);
	CU_ASSERT_EQUAL(r.status, 405);
	spfx_resp_release(&r);
	/* Miner 1 does not hold it. */
	snprintf(base, sizeof(base), "%s", spfx_sp_url(1));
	get(&r, "GET", path, NULL, NULL);
	CU_ASSERT_EQUAL(r.status, 404);
	spfx_resp_release(&r);
	snprintf(base, sizeof(base), "%s", spfx_sp_url(0));
}

/* ---- /ipfs ---- */

static void test_sp_retrieval__probe(void)
{
	static const uint8_t probe_car[] = {
		0x11, 0xa2, 0x65, 'r', 'o', 'o', 't', 's', 0x81, 0xd8, 0x2a,
		0x45, 0x00, 0x01, 0x55, 0x00, 0x00, 0x67, 'v', 'e', 'r',
		's', 'i', 'o', 'n', 0x01,
	};
	struct spfx_resp r;

	get(&r, "HEAD", "/ipfs/bafkqaaa", "Accept: application/vnd.ipld.raw",
	    NULL);
	CU_ASSERT_EQUAL(r.status, 200);
	spfx_resp_release(&r);
	get(&r, "GET", "/ipfs/bafkqaaa?format=raw", NULL, NULL);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(r.body.len, 0);
	CU_ASSERT(header_is(&r, "Content-Type", "application/vnd.ipld.raw"));
	spfx_resp_release(&r);
	get(&r, "GET", "/ipfs/bafkqaaa?format=car", NULL, NULL);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT(body_is(&r, probe_car, sizeof(probe_car)));
	CU_ASSERT(header_is(&r, "Content-Type", "application/vnd.ipld.car;"
			    "version=1;order=dfs;dups=y"));
	spfx_resp_release(&r);
}

static void test_sp_retrieval__raw(void)
{
	char cs[CID_STR_MAX], path[512], v[512];
	struct buf want = BUF_INIT(BUF_NOCAP);
	struct spfx_resp r;

	snprintf(path, sizeof(path), "/ipfs/%s?format=raw",
		 cid_tostr(cs, &car.small));
	get(&r, "GET", path, NULL, NULL);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT(body_is(&r, "hello devnet\n", 13));
	CU_ASSERT(header_is(&r, "Content-Type", "application/vnd.ipld.raw"));
	snprintf(v, sizeof(v), "attachment; filename=\"%s.bin\"", cs);
	CU_ASSERT(header_is(&r, "Content-Disposition", v));
	CU_ASSERT(header_is(&r, "X-Ipfs-Roots", cs));
	CU_ASSERT(header_is(&r, "X-Content-Type-Options", "nosniff"));
	CU_ASSERT_PTR_NULL(spfx_header(&r, "Content-Location", v, sizeof(v)));
	spfx_resp_release(&r);

	/* By Accept alone: Content-Location names the format. */
	snprintf(path, sizeof(path), "/ipfs/%s", cs);
	get(&r, "GET", path, "Accept: application/vnd.ipld.raw", NULL);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT(body_is(&r, "hello devnet\n", 13));
	snprintf(v, sizeof(v), "/ipfs/%s?format=raw", cs);
	CU_ASSERT(header_is(&r, "Content-Location", v));
	spfx_resp_release(&r);

	/* An interior node of the file. */
	snprintf(path, sizeof(path), "/ipfs/%s?format=raw",
		 cid_tostr(cs, &car.big));
	get(&r, "GET", path, NULL, NULL);
	CU_ASSERT_EQUAL(memstore_get(car.ms, &car.big, &want), 0);
	CU_ASSERT(body_is(&r, want.ptr, want.len));
	spfx_resp_release(&r);
	buf_release(&want);
}

static void test_sp_retrieval__car_all(void)
{
	struct cid got[BLOCKS_MAX], want[BLOCKS_MAX];
	char cs[CID_STR_MAX], path[512];
	size_t n, nwant;
	struct spfx_resp r;

	CU_ASSERT_EQUAL_FATAL(car_blocks(want, &nwant, NULL, &car.bytes,
					 &car.root), 0);
	cid_tostr(cs, &car.root);
	snprintf(path, sizeof(path), "/ipfs/%s?format=car", cs);
	get(&r, "GET", path, NULL, NULL);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT(header_is(&r, "Content-Type", "application/vnd.ipld.car;"
			    "version=1;order=dfs;dups=y"));
	CU_ASSERT(header_is(&r, "Accept-Ranges", "none"));
	CU_ASSERT_EQUAL(car_blocks(got, &n, NULL, &r.body, &car.root), 0);
	CU_ASSERT_EQUAL(n, nwant);
	for (size_t i = 0; i < n && i < nwant; i++)
		CU_ASSERT(cid_equal(&got[i], &want[i]));
	/* Without duplicates the deal's own CAR comes back. */
	CU_ASSERT(body_is(&r, car.bytes.ptr, car.bytes.len));
	spfx_resp_release(&r);

	snprintf(path, sizeof(path), "/ipfs/%s", cs);
	get(&r, "GET", path,
	    "Accept: application/vnd.ipld.car; version=1; dups=n; q=0.5, "
	    "text/html", NULL);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT(header_is(&r, "Content-Type", "application/vnd.ipld.car;"
			    "version=1;order=dfs;dups=n"));
	CU_ASSERT(body_is(&r, car.bytes.ptr, car.bytes.len));
	if (!body_is(&r, car.bytes.ptr, car.bytes.len))
		fprintf(stderr, "dups=n: %zu bytes, want %zu, curl %d\n",
			r.body.len, car.bytes.len, r.curl_code);
	spfx_resp_release(&r);

	snprintf(path, sizeof(path), "/ipfs/%s?format=car&dag-scope=block", cs);
	get(&r, "GET", path, NULL, NULL);
	CU_ASSERT_EQUAL(car_blocks(got, &n, NULL, &r.body, &car.root), 0);
	CU_ASSERT_EQUAL(n, 1);
	spfx_resp_release(&r);

	/* Entity of a directory: the directory block alone. */
	snprintf(path, sizeof(path), "/ipfs/%s?format=car&dag-scope=entity",
		 cs);
	get(&r, "GET", path, NULL, NULL);
	CU_ASSERT_EQUAL(car_blocks(got, &n, NULL, &r.body, &car.root), 0);
	CU_ASSERT_EQUAL(n, 1);
	spfx_resp_release(&r);
}

static void test_sp_retrieval__car_path(void)
{
	struct cid got[BLOCKS_MAX], want[BLOCKS_MAX];
	char cs[CID_STR_MAX], path[512], v[512];
	size_t n, nwant;
	struct spfx_resp r;

	CU_ASSERT_EQUAL_FATAL(car_blocks(want, &nwant, NULL, &car.bytes,
					 &car.root), 0);
	cid_tostr(cs, &car.root);
	/* root/big.bin, entity: the directory, then the whole file: every
	 * block of the deal's CAR but small.txt, the last one. */
	snprintf(path, sizeof(path),
		 "/ipfs/%s/big.bin?format=car&dag-scope=entity", cs);
	get(&r, "GET", path, NULL, NULL);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(car_blocks(got, &n, NULL, &r.body, &car.root), 0);
	CU_ASSERT_EQUAL(n, nwant - 1);
	for (size_t i = 0; i < n && i + 1 < nwant; i++)
		CU_ASSERT(cid_equal(&got[i], &want[i]));
	CU_ASSERT_PTR_NULL(spfx_header(&r, "X-Ipfs-Roots", v, sizeof(v)));
	snprintf(v, sizeof(v), "/ipfs/%s/big.bin", cs);
	CU_ASSERT(header_is(&r, "X-Ipfs-Path", v));
	spfx_resp_release(&r);

	snprintf(path, sizeof(path), "/ipfs/%s//small.txt/?format=car", cs);
	get(&r, "GET", path, NULL, NULL);
	CU_ASSERT_EQUAL(car_blocks(got, &n, NULL, &r.body, &car.root), 0);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT(n == 2 && cid_equal(&got[1], &car.small));
	spfx_resp_release(&r);

	/* A name that is not there: the blocks on the way, then the end. */
	snprintf(path, sizeof(path), "/ipfs/%s/nope?format=car", cs);
	get(&r, "GET", path, NULL, NULL);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(car_blocks(got, &n, NULL, &r.body, &car.root), 0);
	CU_ASSERT_EQUAL(n, 1);
	spfx_resp_release(&r);
}

/* GET entity-bytes=range of big.bin; the file bytes [from, to] must be
 * readable from the blocks returned alone. */
static void check_range(const char *range, uint64_t from, uint64_t to,
			size_t max_blocks)
{
	struct cid got[BLOCKS_MAX];
	struct blockio_source src;
	struct memstore *ms;
	char cs[CID_STR_MAX], path[512];
	uint8_t *out = malloc(to - from + 1);
	struct spfx_resp r;
	size_t n, len = 0;

	CU_ASSERT_EQUAL_FATAL(memstore_new(&ms), 0);
	snprintf(path, sizeof(path),
		 "/ipfs/%s?format=car&dag-scope=entity&entity-bytes=%s",
		 cid_tostr(cs, &car.big), range);
	get(&r, "GET", path, NULL, NULL);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(car_blocks(got, &n, ms, &r.body, &car.big), 0);
	CU_ASSERT(n >= 1 && n <= max_blocks);
	if (n > max_blocks)
		fprintf(stderr, "%s: %zu blocks\n", range, n);
	src = memstore_source(ms);
	CU_ASSERT_EQUAL(dagreader_read(out, &len, &src, &car.big, from,
				       (size_t)(to - from + 1)), 0);
	CU_ASSERT_EQUAL(len, to - from + 1);
	CU_ASSERT(!memcmp(out, big_data + from, (size_t)(to - from + 1)));
	spfx_resp_release(&r);
	memstore_free(ms);
	free(out);
}

static void test_sp_retrieval__entity_bytes(void)
{
	struct cid got[BLOCKS_MAX];
	char cs[CID_STR_MAX], path[512];
	struct spfx_resp r;
	size_t n;

	/* 4 KiB leaves, 4 links a node: 74 leaves under 4 levels. */
	check_range("0:0", 0, 0, 6);
	check_range("100000:100099", 100000, 100099, 6);
	check_range("8000:20000", 8000, 20000, 12);
	check_range("-100:*", BIG_SIZE - 100, BIG_SIZE - 1, 6);
	check_range("299990:999999", 299990, BIG_SIZE - 1, 6);
	/* Past the end: the root alone. */
	snprintf(path, sizeof(path),
		 "/ipfs/%s?format=car&dag-scope=entity&entity-bytes=400000:*",
		 cid_tostr(cs, &car.big));
	get(&r, "GET", path, NULL, NULL);
	CU_ASSERT_EQUAL(car_blocks(got, &n, NULL, &r.body, &car.big), 0);
	CU_ASSERT_EQUAL(n, 1);
	spfx_resp_release(&r);
}

static void test_sp_retrieval__gateway_bad(void)
{
	static const struct {
		const char *method;
		const char *path;   /* %s: the root CID */
		const char *accept;
		long status;
		const char *body;   /* NULL: not checked */
	} cases[] = {
		{ "GET", "/ipfs/%s?format=xml", NULL, 400,
		  "invalid format parameter; unsupported: \"xml\"" },
		{ "GET", "/ipfs/%s?format=car&dag-scope=some", NULL, 400,
		  "invalid dag-scope parameter" },
		{ "GET", "/ipfs/%s?format=car&entity-bytes=a:b", NULL, 400,
		  "invalid entity-bytes parameter" },
		{ "GET", "/ipfs/%s?format=car&car-version=2", NULL, 400,
		  "invalid car-version parameter; unsupported: \"2\"" },
		{ "GET", "/ipfs/%s?format=car&car-dups=x", NULL, 400,
		  "invalid car-dups parameter; unsupported: \"x\"" },
		{ "GET", "/ipfs/%s?format=car&filename=x.txt", NULL, 400,
		  "invalid filename parameter; unsupported extension:"
		  " \".txt\"" },
		{ "GET", "/ipfs/%s?format=raw&filename=x.car", NULL, 400,
		  "invalid filename parameter; .car extension requires CAR"
		  " response format" },
		{ "GET", "/ipfs/%s", "Accept:", 400,
		  "neither a valid Accept header nor format parameter were"
		  " provided" },
		{ "GET", "/ipfs/%s", "Accept: text/html", 400,
		  "invalid Accept header; unsupported: \"text/html\"" },
		{ "GET", "/ipfs/%s/small.txt?format=raw", NULL, 400,
		  "path not supported for raw requests" },
		{ "GET", "/ipfs/notacid?format=car", NULL, 400,
		  "failed to parse CID path parameter" },
		{ "GET", "/ipfs/?format=car", NULL, 404, "not found" },
		{ "POST", "/ipfs/%s?format=car", NULL, 405,
		  "method not allowed" },
		{ "HEAD", "/ipfs/%s?format=car", NULL, 200, NULL },
	};
	char cs[CID_STR_MAX], path[512], want[CID_STR_MAX + 32];
	struct spfx_resp r;

	cid_tostr(cs, &car.root);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof(path), cases[i].path, cs);
		get(&r, cases[i].method, path, cases[i].accept, NULL);
		CU_ASSERT_EQUAL(r.status, cases[i].status);
		if (cases[i].body && !body_is(&r, cases[i].body,
					      strlen(cases[i].body))) {
			fprintf(stderr, "case %zu: %ld \"%.*s\"\n", i, r.status,
				(int)r.body.len, (const char *)r.body.ptr);
			CU_FAIL("gateway error body");
		}
		spfx_resp_release(&r);
	}
	/* Blocks this SP does not hold. */
	snprintf(path, sizeof(path), "/ipfs/%s?format=car",
		 cid_tostr(cs, &other.root));
	snprintf(want, sizeof(want), "ipld: could not find %s", cs);
	get(&r, "GET", path, NULL, NULL);
	CU_ASSERT_EQUAL(r.status, 404);
	CU_ASSERT(body_is(&r, want, strlen(want)));
	spfx_resp_release(&r);
	get(&r, "HEAD", path, NULL, NULL);
	CU_ASSERT_EQUAL(r.status, 404);
	spfx_resp_release(&r);
	snprintf(path, sizeof(path), "/ipfs/%s?format=raw", cs);
	get(&r, "GET", path, NULL, NULL);
	CU_ASSERT_EQUAL(r.status, 404);
	spfx_resp_release(&r);
}

/* True when block id (in ms) is a HAMT shard. */
static bool is_shard(struct memstore *ms, const struct cid *id)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct dagpb_node pb;
	struct unixfs_data u;
	bool yes = false;

	if (memstore_get(ms, id, &b) == 0 && id->codec == CID_CODEC_DAG_PB &&
	    dagpb_decode(&pb, b.ptr, b.len) == 0) {
		if (pb.has_data &&
		    unixfs_decode(&u, pb.data, pb.data_len) == 0) {
			yes = u.type == UNIXFS_HAMT_SHARD;
			unixfs_data_release(&u);
		}
		dagpb_node_release(&pb);
	}
	buf_release(&b);
	return yes;
}

static void test_sp_retrieval__hamt(void)
{
	struct cid src[BLOCKS_MAX], got[BLOCKS_MAX], found;
	char cs[CID_STR_MAX], path[512];
	struct blockio_source bs;
	struct memstore *ms;
	size_t nsrc, n, nshards = 0;
	struct spfx_resp r;

	CU_ASSERT_EQUAL_FATAL(car_blocks(src, &nsrc, NULL, &hamt.bytes,
					 &hamt.root), 0);
	for (size_t i = 0; i < nsrc; i++)
		nshards += is_shard(hamt.ms, &src[i]);
	CU_ASSERT(nshards > 1);
	cid_tostr(cs, &hamt.root);

	/* Entity of a HAMT: its shards, none of its entries. */
	snprintf(path, sizeof(path), "/ipfs/%s?format=car&dag-scope=entity",
		 cs);
	get(&r, "GET", path, NULL, NULL);
	CU_ASSERT_EQUAL(car_blocks(got, &n, NULL, &r.body, &hamt.root), 0);
	CU_ASSERT_EQUAL(n, nshards);
	for (size_t i = 0; i < n; i++)
		CU_ASSERT(is_shard(hamt.ms, &got[i]));
	spfx_resp_release(&r);

	/* A path through the shards: enough blocks to resolve it. */
	snprintf(path, sizeof(path), "/ipfs/%s/small.txt?format=car", cs);
	get(&r, "GET", path, NULL, NULL);
	CU_ASSERT_EQUAL_FATAL(memstore_new(&ms), 0);
	CU_ASSERT_EQUAL(car_blocks(got, &n, ms, &r.body, &hamt.root), 0);
	CU_ASSERT(n >= 2 && n < nshards + 1);
	CU_ASSERT(n >= 2 && cid_equal(&got[n - 1], &hamt.small));
	for (size_t i = 0; i + 1 < n; i++)
		CU_ASSERT(is_shard(hamt.ms, &got[i]));
	bs = memstore_source(ms);
	CU_ASSERT_EQUAL(dagreader_resolve(&found, &bs, &hamt.root,
					  "small.txt"), 0);
	CU_ASSERT(cid_equal(&found, &hamt.small));
	memstore_free(ms);
	spfx_resp_release(&r);

	/* 30 files of the same bytes: dups=y repeats their block, dups=n
	 * gives back the deal's own CAR. */
	snprintf(path, sizeof(path), "/ipfs/%s?format=car", cs);
	get(&r, "GET", path, NULL, NULL);
	CU_ASSERT_EQUAL(car_blocks(got, &n, NULL, &r.body, &hamt.root), 0);
	CU_ASSERT_EQUAL(n, nsrc + 29);
	spfx_resp_release(&r);
	snprintf(path, sizeof(path), "/ipfs/%s?format=car&car-dups=n", cs);
	get(&r, "GET", path, NULL, NULL);
	CU_ASSERT(body_is(&r, hamt.bytes.ptr, hamt.bytes.len));
	CU_ASSERT(header_is(&r, "Content-Type", "application/vnd.ipld.car;"
			    "version=1;order=dfs;dups=n"));
	spfx_resp_release(&r);
}

/* ---- IPNI ---- */

static json_t *ipni_get(long *status, const char *path, const char *accept,
			struct spfx_resp *r)
{
	const char *hdrs[2] = { accept, NULL };
	char url[512];

	snprintf(url, sizeof(url), "%s%s", spfx_ipni_url(), path);
	spfx_request(r, "GET", url, hdrs, NULL, 0);
	*status = r->status;
	return r->status == 200 && !accept
		       ? json_loadb((const char *)r->body.ptr, r->body.len, 0,
				    NULL)
		       : NULL;
}

static void test_sp_retrieval__ipni(void)
{
	char cs[CID_STR_MAX], path[512], addr[128], b58[128];
	uint8_t mh[CID_MH_BYTES_MAX];
	struct spfx_resp r;
	json_t *j, *pr;
	long status;

	cid_tostr(cs, &car.small);
	snprintf(path, sizeof(path), "/cid/%s", cs);
	j = ipni_get(&status, path, NULL, &r);
	CU_ASSERT_EQUAL(status, 200);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	pr = json_object_get(json_array_get(json_object_get(json_array_get(
		json_object_get(j, "MultihashResults"), 0), "ProviderResults"),
		0), "Provider");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(pr, "ID")),
			       spfx_miner(0)->peer_id);
	snprintf(addr, sizeof(addr), "/ip4/127.0.0.1/tcp/%u/http",
		 (unsigned)spfx_miner(0)->port);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(
				       json_object_get(pr, "Addrs"), 0)), addr);
	json_decref(j);
	spfx_resp_release(&r);

	/* By base58 multihash, and as NDJSON. */
	mbase_base58_encode(b58, sizeof(b58), mh,
			    cid_mh_to_bytes(mh, &car.small));
	snprintf(path, sizeof(path), "/multihash/%s", b58);
	j = ipni_get(&status, path, NULL, &r);
	CU_ASSERT_EQUAL(status, 200);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(
		json_object_get(json_array_get(json_object_get(j,
		"MultihashResults"), 0), "ProviderResults"), 0), "Metadata")),
		"oBKwEg==");
	json_decref(j);
	spfx_resp_release(&r);
	snprintf(path, sizeof(path), "/cid/%s", cs);
	ipni_get(&status, path, "Accept: application/x-ndjson", &r);
	CU_ASSERT_EQUAL(status, 200);
	CU_ASSERT(r.body.len > 0 && r.body.ptr[r.body.len - 1] == '\n');
	spfx_resp_release(&r);

	snprintf(path, sizeof(path), "/routing/v1/providers/%s", cs);
	j = ipni_get(&status, path, NULL, &r);
	CU_ASSERT_EQUAL(status, 200);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(json_object_get(
		json_array_get(json_object_get(j, "Providers"), 0),
		"Protocols"), 0)), "transport-ipfs-gateway-http");
	json_decref(j);
	spfx_resp_release(&r);

	snprintf(path, sizeof(path), "/cid/%s", cid_tostr(cs, &other.root));
	ipni_get(&status, path, NULL, &r);
	CU_ASSERT_EQUAL(status, 404);
	spfx_resp_release(&r);
	ipni_get(&status, "/cid/nope", NULL, &r);
	CU_ASSERT_EQUAL(status, 400);
	spfx_resp_release(&r);
	ipni_get(&status, "/multihash/0OIl", NULL, &r);
	CU_ASSERT_EQUAL(status, 400);
	spfx_resp_release(&r);
}

/* ---- faults ---- */

/* GET car's piece into p and its CAR over /ipfs into c, with miner 0
 * showing the faults f (cleared afterwards). */
static void get_faulty(struct spfx_resp *p, struct spfx_resp *c,
		       const struct devnet_fault *f)
{
	char cs[CID_STR_MAX], path[512];

	spfx_fault(0, f);
	snprintf(path, sizeof(path), "/piece/%s", cid_tostr(cs, &car.piece_v1));
	get(p, "GET", path, NULL, NULL);
	snprintf(path, sizeof(path), "/ipfs/%s?format=car",
		 cid_tostr(cs, &car.root));
	get(c, "GET", path, NULL, NULL);
	spfx_fault(0, NULL);
}

static void test_sp_retrieval__fault_corrupt(void)
{
	const struct devnet_fault f = { .corrupt_retrieval = true };
	struct cid got[BLOCKS_MAX];
	struct spfx_resp p, c;
	size_t n;

	get_faulty(&p, &c, &f);
	CU_ASSERT_EQUAL(p.status, 200);
	CU_ASSERT_EQUAL(p.body.len, car.bytes.len);
	CU_ASSERT_FALSE(body_is(&p, car.bytes.ptr, car.bytes.len));
	CU_ASSERT_EQUAL(c.status, 200);
	CU_ASSERT_EQUAL(car_blocks(got, &n, NULL, &c.body, &car.root),
			EFS_EMISMATCH);
	spfx_resp_release(&p);
	spfx_resp_release(&c);
}

static void test_sp_retrieval__fault_truncate(void)
{
	const struct devnet_fault f = { .truncate_retrieval = true };
	struct cid got[BLOCKS_MAX];
	struct spfx_resp p, c;
	size_t n;

	get_faulty(&p, &c, &f);
	CU_ASSERT_NOT_EQUAL(p.curl_code, CURLE_OK);
	CU_ASSERT(p.body.len < car.bytes.len);
	CU_ASSERT_NOT_EQUAL(c.curl_code, CURLE_OK);
	CU_ASSERT_NOT_EQUAL(car_blocks(got, &n, NULL, &c.body, &car.root), 0);
	spfx_resp_release(&p);
	spfx_resp_release(&c);
}

/* ---- restart ---- */

static int deal_state(const uint8_t uuid[MK12_UUID_LEN])
{
	sqlite3_stmt *st;
	struct db *db;
	int state = -1;

	if (devnet_db_open(spfx_devnet(), &db) < 0)
		return -1;
	if (db_stmt(&st, db, "SELECT state FROM sp_deal WHERE uuid = ?") == 0) {
		sqlite3_bind_blob(st, 1, uuid, MK12_UUID_LEN, SQLITE_STATIC);
		if (db_step(db, st) == 1)
			state = sqlite3_column_int(st, 0);
		db_reset(st);
	}
	db_close(db);
	return state;
}

static void test_sp_retrieval__restart(void)
{
	struct devnet_fault f = { .never_seal = true };
	struct mk12_status_response st;
	struct mk12_deal_params dp;
	char cs[CID_STR_MAX], path[512], msg[256];
	struct spfx_resp r;
	bool ok;
	int i;

	/* A deal left sealing when the devnet stops. */
	spfx_fault(1, &f);
	CU_ASSERT_EQUAL_FATAL(spfx_params(&dp, 1, &other, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(spfx_propose(&ok, msg, sizeof(msg), 1, &dp), 0);
	CU_ASSERT_FATAL(ok);
	for (i = 0; i < 200 && deal_state(dp.uuid) != 2; i++)
		usleep(20000);
	CU_ASSERT_EQUAL_FATAL(deal_state(dp.uuid), 2);

	spfx_shutdown();
	CU_ASSERT_EQUAL_FATAL(spfx_reopen(), 0);
	spfx_fault(1, NULL);
	snprintf(base, sizeof(base), "%s", spfx_sp_url(0));

	snprintf(path, sizeof(path), "/piece/%s", cid_tostr(cs, &car.piece_v1));
	get(&r, "GET", path, NULL, NULL);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT(body_is(&r, car.bytes.ptr, car.bytes.len));
	spfx_resp_release(&r);

	CU_ASSERT_EQUAL(spfx_wait_status(&st, 1, dp.uuid, MK12_CURIO_SEALED,
					 20000), 0);
	CU_ASSERT(st.has_status && st.status.chain_deal_id > 0);
	CU_ASSERT_STRING_EQUAL(st.status.error, "");
	mk12_status_response_release(&st);
	mk12_deal_params_release(&dp);
}

static CU_TestInfo tests[] = {
	{ "piece", test_sp_retrieval__piece },
	{ "piece_range", test_sp_retrieval__piece_range },
	{ "piece_bad", test_sp_retrieval__piece_bad },
	{ "probe", test_sp_retrieval__probe },
	{ "raw", test_sp_retrieval__raw },
	{ "car_all", test_sp_retrieval__car_all },
	{ "car_path", test_sp_retrieval__car_path },
	{ "entity_bytes", test_sp_retrieval__entity_bytes },
	{ "gateway_bad", test_sp_retrieval__gateway_bad },
	{ "hamt", test_sp_retrieval__hamt },
	{ "ipni", test_sp_retrieval__ipni },
	{ "fault_corrupt", test_sp_retrieval__fault_corrupt },
	{ "fault_truncate", test_sp_retrieval__fault_truncate },
	{ "restart", test_sp_retrieval__restart },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ "retrieval", setup, teardown, NULL, NULL, tests })
