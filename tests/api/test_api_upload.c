/*
 * test_api_upload.c - POST /content/add and /content/add-car
 * (api_upload*.c) over loopback, on a real blockstore with an evictor:
 * multipart uploads of several sizes give the importer's CID for the
 * same bytes, with every block stored and the root pinned; fake
 * filesystem hooks see the graft at /uploads/NAME (a suffix when taken)
 * and the commit of /uploads; a CAR made by core/car.h is stored and
 * pinned; corrupt CARs and forms are 400 with nothing stored; 413 over
 * the body cap; 401 without a key, 403 with a read key.  The parsers
 * directly: form edge cases, the CAR check's allocation-failure loop.
 */
#include "api/api_upload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "api/api_keys.h"
#include "api/api_server.h"
#include "api/api_token.h"
#include "core/alloc.h"
#include "core/bstore.h"
#include "core/buf.h"
#include "core/car.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/importer.h"
#include "core/importer_file.h"
#include "core/memstore.h"
#include "core/mhash.h"
#include "dealer/evict.h"
#include "net/httpc.h"
#include "tests/api/api_test.h"
#include "tests/api/api_upload_test.h"
#include "tests/harness.h"

#include "core/banned.h"

/* The server's body cap in these tests. */
#define MAX_BODY (4u << 20)
#define BOUNDARY "xYzZY-boundary"

/* ---- the client side ---- */

/*
 * POST body to path with token tok (NULL: none) and Content-Type ctype
 * (NULL: none).  The status goes to *status, the JSON answer to *out
 * (NULL when not JSON); the error reason, if any, into reason.
 */
static void post(long *status, json_t **out, char reason[64],
		 struct fixture *f, const char *path, const char *tok,
		 const char *ctype, const void *body, size_t len)
{
	char url[512], auth[128], ct[128];
	const char *headers[3] = { NULL };
	struct httpc_req req = HTTPC_REQ_INIT("POST", url);
	struct httpc_resp resp;
	json_t *v, *r;
	size_t n = 0;

	snprintf(url, sizeof(url), "%s%s", api_server_url(f->s), path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
		 tok ? tok : "");
	snprintf(ct, sizeof(ct), "Content-Type: %s", ctype ? ctype : "");
	if (tok)
		headers[n++] = auth;
	if (ctype)
		headers[n++] = ct;
	req.headers = headers;
	req.body = body;
	req.body_len = len;
	req.timeout_ms = 30000;
	CU_ASSERT_EQUAL(httpc_do(&resp, &req), 0);
	*status = resp.status;
	v = json_loadb((const char *)resp.body.ptr, resp.body.len, 0, NULL);
	r = json_object_get(json_object_get(v, "error"), "reason");
	snprintf(reason, 64, "%s", json_is_string(r) ? json_string_value(r)
						     : "");
	if (out)
		*out = v;
	else
		json_decref(v);
	httpc_resp_release(&resp);
}

/* A form with a "data" part of data[0..len) named filename (NULL: no
 * filename parameter), and extra (raw part text, or NULL) before it. */
static void form_make(struct buf *out, const char *filename,
		      const void *data, size_t len, const char *extra)
{
	buf_init(out, BUF_NOCAP);
	CU_ASSERT_EQUAL(buf_printf(out, "preamble\r\n--" BOUNDARY "\r\n%s",
				 extra ? extra : ""), 0);
	CU_ASSERT_EQUAL(buf_printf(out, "Content-Disposition: form-data; "
				 "name=\"data\"%s%s%s\r\n"
				 "Content-Type: application/octet-stream\r\n"
				 "\r\n",
				 filename ? "; filename=\"" : "",
				 filename ? filename : "",
				 filename ? "\"" : ""),
			0);
	CU_ASSERT_EQUAL(buf_add(out, data, len), 0);
	CU_ASSERT_EQUAL(buf_printf(out, "\r\n--" BOUNDARY "--\r\n"), 0);
}

static const char form_ctype[] = "multipart/form-data; boundary=" BOUNDARY;

/* The importer's CID of data[0..len), the default profile, from a file
 * (importer_add_fd: the `estuaryfs add` path). */
static void importer_cid(struct cid *out, const void *data, size_t len)
{
	char path[4200];
	struct importer_opts o;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/import.bin", tmp);
	CU_ASSERT_EQUAL_FATAL(harness_write_file(path, data, len), 0);
	CU_ASSERT_EQUAL_FATAL(importer_opts_profile(&o, NULL), 0);
	fp = fopen(path, "rb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	CU_ASSERT_EQUAL(importer_add_fd(out, NULL, fileno(fp), &o,
					&blockio_null_sink, NULL, NULL),
			0);
	fclose(fp);
	unlink(path);
}

/* Every block of the DAG under root readable from the blockstore. */
static int dag_bytes(void *payload, const uint8_t *data, size_t len)
{
	*(uint64_t *)payload += len;
	(void)data;
	return 0;
}

static bool dag_complete(struct fixture *f, const struct cid *root)
{
	struct blockio_source src = bstore_source(f->bs);
	struct car_writer *w;
	uint64_t n = 0;
	int rc;

	CU_ASSERT_EQUAL_FATAL(car_writer_new_cb(&w, dag_bytes, &n), 0);
	rc = car_write_dag(w, &src, root, NULL, NULL);
	car_writer_free(w);
	return rc == 0 && n > 0;
}

static const char *jstr(json_t *v, const char *key)
{
	json_t *s = json_object_get(v, key);

	return json_is_string(s) ? json_string_value(s) : NULL;
}

/* ---- POST /content/add ---- */

static void check_add(struct fixture *f, size_t size, const char *filename,
		      const char *want_path)
{
	char reason[64], url[512], str[CID_STR_MAX];
	uint8_t *data = efs_malloc(size ? size : 1);
	struct cid want, got;
	struct buf form;
	json_t *v = NULL;
	long status = 0;

	harness_fill_random(data, size, size + 7);
	importer_cid(&want, data, size);
	form_make(&form, filename, data, size, NULL);
	post(&status, &v, reason, f, "/content/add", f->tok, form_ctype,
	     form.ptr, form.len);
	CU_ASSERT_EQUAL(status, 200);
	CU_ASSERT_PTR_NOT_NULL_FATAL(jstr(v, "cid"));
	CU_ASSERT_EQUAL(cid_parse(&got, jstr(v, "cid")), 0);
	CU_ASSERT(cid_equal(&got, &want));
	snprintf(url, sizeof(url), "%s/ipfs/%s", api_server_url(f->s),
		 cid_tostr(str, &want));
	CU_ASSERT_STRING_EQUAL(jstr(v, "retrieval_url"), url);
	CU_ASSERT(json_array_size(json_object_get(v, "providers")) == 1);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(v, "size")),
			(json_int_t)size);
	CU_ASSERT(dag_complete(f, &want));
	CU_ASSERT_EQUAL(api_test_user_pins(f->bs, &want), 1);
	if (want_path) {
		CU_ASSERT_STRING_EQUAL(jstr(v, "path"), want_path);
		CU_ASSERT_STRING_EQUAL(f->fs.grafted, want_path);
		CU_ASSERT(cid_equal(&f->fs.graft_root, &want));
		CU_ASSERT_STRING_EQUAL(f->fs.committed, "/uploads");
		CU_ASSERT_PTR_NOT_NULL(jstr(v, "estuaryId"));
		CU_ASSERT_STRING_EQUAL(jstr(v, "storage"), "filesystem");
	} else {
		CU_ASSERT(json_is_null(json_object_get(v, "path")));
		CU_ASSERT_STRING_EQUAL(jstr(v, "storage"), "pinned");
		CU_ASSERT_PTR_NOT_NULL(jstr(v, "note"));
	}
	json_decref(v);
	buf_release(&form);
	efs_free(data);
}

static void test_api_upload__add_sizes(void)
{
	struct fixture f;

	fixture_open(&f, "sizes", true, MAX_BODY);
	check_add(&f, 0, "empty.txt", "/uploads/empty.txt");
	check_add(&f, 1, "one.txt", "/uploads/one.txt");
	/* 2.5 chunks of the default profile (1 MiB) */
	check_add(&f, (5u << 20) / 2, "big.bin", "/uploads/big.bin");
	CU_ASSERT_EQUAL(f.fs.commits, 3);
	fixture_close(&f);
}

static void test_api_upload__add_names(void)
{
	char reason[64];
	struct buf form;
	json_t *v = NULL;
	long status = 0;
	struct fixture f;
	struct cid want;

	fixture_open(&f, "names", true, MAX_BODY);
	check_add(&f, 10, "a.txt", "/uploads/a.txt");
	/* taken: a suffix before the extension */
	check_add(&f, 11, "a.txt", "/uploads/a-1.txt");
	check_add(&f, 12, "a.txt", "/uploads/a-2.txt");
	/* no filename: the CID names it */
	importer_cid(&want, "no name", 7);
	form_make(&form, NULL, "no name", 7, NULL);
	post(&status, &v, reason, &f, "/content/add?dir=/in/box/", f.tok,
	     form_ctype, form.ptr, form.len);
	CU_ASSERT_EQUAL(status, 200);
	CU_ASSERT(strncmp(f.fs.grafted, "/uploads/in/box/bafk", 20) == 0);
	json_decref(v);
	buf_release(&form);
	/* the "filename" field wins over the part's filename */
	form_make(&form, "part.txt", "x", 1,
		  "Content-Disposition: form-data; name=\"filename\"\r\n\r\n"
		  "field.txt\r\n--" BOUNDARY "\r\n");
	post(&status, NULL, reason, &f, "/content/add", f.tok, form_ctype,
	     form.ptr, form.len);
	CU_ASSERT_EQUAL(status, 200);
	CU_ASSERT_STRING_EQUAL(f.fs.grafted, "/uploads/field.txt");
	buf_release(&form);
	/* bad names */
	form_make(&form, "..", "x", 1, NULL);
	post(&status, NULL, reason, &f, "/content/add", f.tok, form_ctype,
	     form.ptr, form.len);
	CU_ASSERT_EQUAL(status, 400);
	post(&status, NULL, reason, &f, "/content/add?dir=a/../b", f.tok,
	     form_ctype, form.ptr, form.len);
	CU_ASSERT_EQUAL(status, 400);
	buf_release(&form);
	/* a graft that fails for another reason: 500, still pinned */
	f.fs.graft_rc = EFS_EIO;
	form_make(&form, "io.txt", "io", 2, NULL);
	post(&status, NULL, reason, &f, "/content/add", f.tok, form_ctype,
	     form.ptr, form.len);
	CU_ASSERT_EQUAL(status, 500);
	importer_cid(&want, "io", 2);
	CU_ASSERT_EQUAL(api_test_user_pins(f.bs, &want), 1);
	buf_release(&form);
	fixture_close(&f);
}

static void test_api_upload__add_no_fs(void)
{
	struct fixture f;

	fixture_open(&f, "nofs", false, MAX_BODY);
	check_add(&f, 100, "x.txt", NULL);
	CU_ASSERT_EQUAL(f.fs.grafts, 0);
	fixture_close(&f);
}

static void test_api_upload__add_bad(void)
{
	static const char *const bodies[] = {
		"",
		"--" BOUNDARY "--\r\n",              /* no data part */
		"--" BOUNDARY "\r\nContent-Disposition: form-data; "
		"name=\"data\"\r\n\r\nabc",          /* no closing boundary */
		"--" BOUNDARY "\r\nContent-Disposition: form-data; "
		"name=\"data\"\r\n",                 /* headers do not end */
		"--" BOUNDARY "\r\nContent-Type: text/plain\r\n\r\nx\r\n--"
		BOUNDARY "--",                      /* no disposition */
		"--other\r\n\r\nx\r\n--other--",     /* another boundary */
	};
	char reason[64];
	long status = 0;
	struct fixture f;

	fixture_open(&f, "badform", true, MAX_BODY);
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		post(&status, NULL, reason, &f, "/content/add", f.tok,
		     form_ctype, bodies[i], strlen(bodies[i]));
		CU_ASSERT_EQUAL(status, 400);
		CU_ASSERT_STRING_EQUAL(reason, "BAD_REQUEST");
	}
	/* not a form at all */
	post(&status, NULL, reason, &f, "/content/add", f.tok, NULL, "x", 1);
	CU_ASSERT_EQUAL(status, 400);
	post(&status, NULL, reason, &f, "/content/add", f.tok,
	     "application/json", "{}", 2);
	CU_ASSERT_EQUAL(status, 400);
	post(&status, NULL, reason, &f, "/content/add", f.tok,
	     "multipart/form-data", "x", 1);
	CU_ASSERT_EQUAL(status, 400);
	CU_ASSERT_EQUAL(f.fs.grafts, 0);
	CU_ASSERT_EQUAL(api_test_user_pins(f.bs, NULL), 0);
	fixture_close(&f);
}

static void test_api_upload__limits_and_scopes(void)
{
	char rkey[API_KEY_SIZE], wkey[API_KEY_SIZE], reason[64];
	size_t big = MAX_BODY + 1024;
	uint8_t *data = efs_calloc(1, big);
	struct buf form;
	long status = 0;
	struct fixture f;

	fixture_open(&f, "limits", true, MAX_BODY);
	api_test_keys_rw(rkey, wkey, f.db);
	form_make(&form, "s.txt", "s", 1, NULL);
	post(&status, NULL, reason, &f, "/content/add", NULL, form_ctype,
	     form.ptr, form.len);
	CU_ASSERT_EQUAL(status, 401);
	post(&status, NULL, reason, &f, "/content/add-car", NULL, NULL, "x",
	     1);
	CU_ASSERT_EQUAL(status, 401);
	post(&status, NULL, reason, &f, "/content/add", rkey, form_ctype,
	     form.ptr, form.len);
	CU_ASSERT_EQUAL(status, 403);
	post(&status, NULL, reason, &f, "/content/add-car", rkey, NULL, "x",
	     1);
	CU_ASSERT_EQUAL(status, 403);
	post(&status, NULL, reason, &f, "/content/add", wkey, form_ctype,
	     form.ptr, form.len);
	CU_ASSERT_EQUAL(status, 200);
	buf_release(&form);
	/* over the cap */
	form_make(&form, "big", data, big, NULL);
	post(&status, NULL, reason, &f, "/content/add", f.tok, form_ctype,
	     form.ptr, form.len);
	CU_ASSERT_EQUAL(status, 413);
	CU_ASSERT_STRING_EQUAL(reason, "TOO_LARGE");
	post(&status, NULL, reason, &f, "/content/add-car", f.tok, NULL,
	     data, big);
	CU_ASSERT_EQUAL(status, 413);
	buf_release(&form);
	efs_free(data);
	CU_ASSERT_EQUAL(f.fs.grafts, 1);
	fixture_close(&f);
}

/* ---- POST /content/add-car ---- */

/* A CAR of a size-byte file (seed: its bytes) into out; its root and
 * the memstore of its blocks (the caller frees). */
static void car_make(struct buf *out, struct cid *root, struct memstore **ms,
		     size_t size, uint64_t seed)
{
	struct blockio_sink sink;
	struct blockio_source src;
	struct importer_file *imp;
	struct importer_opts o;
	struct car_writer *w;
	uint8_t *data = efs_malloc(size ? size : 1);

	harness_fill_random(data, size, seed);
	CU_ASSERT_EQUAL_FATAL(memstore_new(ms), 0);
	sink = memstore_sink(*ms);
	src = memstore_source(*ms);
	CU_ASSERT_EQUAL(importer_opts_profile(&o, NULL), 0);
	o.chunk_size = 1024;   /* a few blocks from a few KiB */
	CU_ASSERT_EQUAL_FATAL(importer_file_new(&imp, &o, NULL, &sink), 0);
	CU_ASSERT_EQUAL(importer_file_write(imp, data, size), 0);
	CU_ASSERT_EQUAL(importer_file_finish(imp, root, NULL, NULL), 0);
	importer_file_free(imp);
	buf_init(out, BUF_NOCAP);
	CU_ASSERT_EQUAL_FATAL(car_writer_new_cb(&w, car_out, out), 0);
	CU_ASSERT_EQUAL(car_write_dag(w, &src, root, NULL, NULL), 0);
	car_writer_free(w);
	efs_free(data);
}

static void test_api_upload__add_car(void)
{
	char reason[64], str[CID_STR_MAX], path[300];
	struct memstore *ms;
	struct buf car;
	struct cid root;
	json_t *v = NULL;
	long status = 0;
	struct fixture f;

	fixture_open(&f, "car", true, MAX_BODY);
	car_make(&car, &root, &ms, 5000, 1);
	post(&status, &v, reason, &f, "/content/add-car", f.tok,
	     "application/vnd.ipld.car", car.ptr, car.len);
	CU_ASSERT_EQUAL(status, 200);
	CU_ASSERT_STRING_EQUAL(jstr(v, "cid"), cid_tostr(str, &root));
	CU_ASSERT(dag_complete(&f, &root));
	CU_ASSERT_EQUAL(api_test_user_pins(f.bs, &root), 1);
	snprintf(path, sizeof(path), "/uploads/%s", str);
	CU_ASSERT_STRING_EQUAL(f.fs.grafted, path);
	CU_ASSERT_STRING_EQUAL(f.fs.committed, "/uploads");
	json_decref(v);
	/* again: the same root under a suffixed name */
	post(&status, NULL, reason, &f, "/content/add-car", f.tok, NULL,
	     car.ptr, car.len);
	CU_ASSERT_EQUAL(status, 200);
	snprintf(path, sizeof(path), "/uploads/%s-1", str);
	CU_ASSERT_STRING_EQUAL(f.fs.grafted, path);
	CU_ASSERT_EQUAL(api_test_user_pins(f.bs, &root), 1);
	/* a root that is not UnixFS: pinned, not grafted */
	f.fs.graft_rc = EFS_EINVAL;
	post(&status, &v, reason, &f, "/content/add-car?filename=x.car",
	     f.tok, NULL, car.ptr, car.len);
	CU_ASSERT_EQUAL(status, 200);
	CU_ASSERT_STRING_EQUAL(jstr(v, "storage"), "pinned");
	json_decref(v);
	/* a block of another codec (dag-cbor): the same, and the note
	 * says why */
	f.fs.graft_rc = EFS_EUNSUPPORTED;
	post(&status, &v, reason, &f, "/content/add-car?filename=y.car",
	     f.tok, NULL, car.ptr, car.len);
	CU_ASSERT_EQUAL(status, 200);
	CU_ASSERT_STRING_EQUAL(jstr(v, "storage"), "pinned");
	CU_ASSERT(jstr(v, "note") &&
		  strstr(jstr(v, "note"), "fake: graft refused") != NULL);
	json_decref(v);
	buf_release(&car);
	memstore_free(ms);
	fixture_close(&f);
}

/* A CAR with header roots[0..n) and the blocks of the CAR good (NULL:
 * none). */
static void car_custom(struct buf *out, const struct cid *roots, size_t n,
		       const struct buf *good)
{
	struct car_reader *r;
	struct car_writer *w;
	struct car_block b;

	buf_init(out, BUF_NOCAP);
	CU_ASSERT_EQUAL_FATAL(car_writer_new_cb(&w, car_out, out), 0);
	CU_ASSERT_EQUAL(car_writer_header(w, roots, n), 0);
	if (good) {
		CU_ASSERT_EQUAL_FATAL(car_reader_open_mem(&r, good->ptr,
							  good->len),
				      0);
		while (car_reader_next(r, &b) == 0)
			CU_ASSERT_EQUAL(car_writer_add(w, NULL, &b.info.id,
						       b.data,
						       b.info.block_len),
					0);
		car_reader_free(r);
	}
	CU_ASSERT_EQUAL(car_writer_finish(w), 0);
	car_writer_free(w);
}

/* A CAR of root's block alone. */
static void root_only(struct buf *out, const struct cid *root,
		      struct memstore *ms)
{
	struct car_writer *w;
	uint8_t *blk;
	size_t len;

	buf_init(out, BUF_NOCAP);
	CU_ASSERT_EQUAL_FATAL(memstore_peek(&blk, &len, ms, root), 0);
	CU_ASSERT_EQUAL_FATAL(car_writer_new_cb(&w, car_out, out), 0);
	CU_ASSERT_EQUAL(car_writer_header(w, root, 1), 0);
	CU_ASSERT_EQUAL(car_writer_add(w, NULL, root, blk, len), 0);
	CU_ASSERT_EQUAL(car_writer_finish(w), 0);
	car_writer_free(w);
}

static void expect_refused(struct fixture *f, const struct buf *car,
			   const struct cid *root)
{
	char reason[64];
	long status = 0;

	post(&status, NULL, reason, f, "/content/add-car", f->tok, NULL,
	     car->ptr, car->len);
	CU_ASSERT_EQUAL(status, 400);
	CU_ASSERT_STRING_EQUAL(reason, "BAD_REQUEST");
	/* blocks may be stored (as they came), but nothing keeps them */
	CU_ASSERT_EQUAL(api_test_user_pins(f->bs, root), 0);
	CU_ASSERT_EQUAL(f->fs.grafts, 0);
}

static void test_api_upload__car_corrupt(void)
{
	static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff, 0x0f };
	struct memstore *ms;
	struct buf car, bad;
	struct cid root, other[2];
	struct fixture f;

	fixture_open(&f, "carbad", true, MAX_BODY);
	car_make(&car, &root, &ms, 5000, 2);
	/* the root alone: its links lead nowhere (first: blocks refused
	 * CARs leave behind would resolve them) */
	root_only(&bad, &root, ms);
	expect_refused(&f, &bad, &root);
	buf_release(&bad);
	/* truncated: every cut but the whole */
	for (size_t cut = 1; cut < car.len; cut += car.len / 7)
		expect_refused(&f, &(struct buf){ .ptr = car.ptr,
						   .len = car.len - cut },
			       &root);
	/* a block's byte flipped: its hash no longer matches */
	buf_init(&bad, BUF_NOCAP);
	CU_ASSERT_EQUAL(buf_add(&bad, car.ptr, car.len), 0);
	bad.ptr[bad.len - 10] ^= 1;
	expect_refused(&f, &bad, &root);
	buf_release(&bad);
	/* the header names a root the CAR does not carry */
	CU_ASSERT_EQUAL(cid_hash(&other[0], 1, CID_CODEC_RAW, MHASH_SHA2_256,
				 "elsewhere", 9),
			0);
	car_custom(&bad, other, 1, &car);
	expect_refused(&f, &bad, &root);
	buf_release(&bad);
	/* two roots, and none */
	other[1] = root;
	car_custom(&bad, other, 2, &car);
	expect_refused(&f, &bad, &root);
	buf_release(&bad);
	car_custom(&bad, other, 0, &car);
	expect_refused(&f, &bad, &root);
	buf_release(&bad);
	/* a section length of 4 GiB after a good header */
	car_custom(&bad, &root, 1, NULL);
	CU_ASSERT_EQUAL(buf_add(&bad, huge, sizeof(huge)), 0);
	CU_ASSERT_EQUAL(buf_add(&bad, car.ptr, 64), 0);
	expect_refused(&f, &bad, &root);
	buf_release(&bad);
	/* not a CAR at all, and nothing */
	expect_refused(&f, &(struct buf){ .ptr = (uint8_t *)"hello",
					   .len = 5 }, &root);
	expect_refused(&f, &(struct buf){ .ptr = (uint8_t *)"", .len = 0 },
		       &root);
	CU_ASSERT_EQUAL(api_test_user_pins(f.bs, NULL), 0);
	CU_ASSERT_EQUAL(f.fs.grafts, 0);
	buf_release(&car);
	memstore_free(ms);
	fixture_close(&f);
}

/* ---- the parsers directly ---- */

/* What a form's callbacks saw: each part's name, filename and bytes. */
struct form_rec {
	char names[8][API_UPLOAD_NAME_MAX + 1];
	char filenames[8][API_UPLOAD_NAME_MAX + 2];
	struct buf data[8];
	size_t n;
	bool open;               /* a part began and has not ended */
};

static int rec_part(void *cls, const struct api_upload_part *p)
{
	struct form_rec *r = cls;

	CU_ASSERT_FATAL(r->n < 8 && !r->open);
	snprintf(r->names[r->n], sizeof(r->names[0]), "%s", p->name);
	snprintf(r->filenames[r->n], sizeof(r->filenames[0]), "%s%s", p->has_filename ? "=" : "",
		 p->filename);
	buf_init(&r->data[r->n], BUF_NOCAP);
	r->open = true;
	return 0;
}

static int rec_data(void *cls, const uint8_t *data, size_t len)
{
	struct form_rec *r = cls;

	CU_ASSERT(r->open && len > 0);
	return buf_add(&r->data[r->n], data, len);
}

static int rec_end(void *cls)
{
	struct form_rec *r = cls;

	CU_ASSERT(r->open);
	r->open = false;
	r->n++;
	return 0;
}

static const struct api_upload_form_ops rec_ops = { rec_part, rec_data,
						    rec_end };

static void rec_release(struct form_rec *r)
{
	for (size_t i = 0; i < 8; i++)
		buf_release(&r->data[i]);
}

/* Feed body in pieces of step bytes (0: whole); the finish code. */
static int form_feed(struct form_rec *r, const char *body, size_t len,
		     const char *boundary, size_t step)
{
	struct api_upload_form f;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	api_upload_form_init(&f, boundary, &rec_ops, r);
	for (size_t at = 0; rc == 0 && at < len; at += step ? step : len) {
		size_t n = step && step < len - at ? step : len - at;

		rc = api_upload_form_feed(&f, (const uint8_t *)body + at, n);
	}
	if (rc == 0)
		rc = api_upload_form_finish(&f);
	if (rc < 0)
		CU_ASSERT_EQUAL(api_upload_form_finish(&f), rc);
	return rc;
}

static void test_api_upload__form_parser(void)
{
	static const char body[] =
		"--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
		"1\r\n--B  \r\ncontent-disposition: FORM-DATA; filename="
		"\"q\\\"t.txt\"; name=data\r\n\r\n\r\n--x\r\n-\r\r\n--"
		"\r\n--B--epilogue";
	static const char *const bad[] = {
		"--B\r\nX\r\n\r\n",          /* no Content-Disposition */
		"--B\r\n\r\ndata",           /* no name */
		"--B-x",                     /* '-' then not '-' */
		"--Bx\r\n",                  /* not a line end */
		"nothing here",              /* no opening boundary */
		"--B\r\nContent-Disposition: form-data; name=a\r\n\r\nabc",
	};
	char b[API_UPLOAD_BOUNDARY_MAX + 1];
	struct form_rec r;

	CU_ASSERT_EQUAL(api_upload_form_boundary(b, "Multipart/Form-Data; "
						  "charset=x; boundary=\"B\""),
			0);
	CU_ASSERT_STRING_EQUAL(b, "B");
	CU_ASSERT_EQUAL(api_upload_form_boundary(b, "text/plain"),
			EFS_EINVAL);
	CU_ASSERT_EQUAL(api_upload_form_boundary(b, "multipart/form-data; "
						  "boundary="),
			EFS_EINVAL);
	CU_ASSERT_EQUAL(api_upload_form_boundary(
				b, "multipart/form-data; boundary=0123456789"
				   "01234567890123456789012345678901234567890"
				   "12345678901234567890"),
			EFS_EINVAL);
	CU_ASSERT_STRING_EQUAL(b, "");
	/* every split gives the same parts: a boundary may straddle two
	 * pieces, and look-alikes ("\r\n--x", "\r\r\n--" just before
	 * the delimiter) are data */
	for (size_t step = 0; step <= sizeof(body); step++) {
		CU_ASSERT_EQUAL_FATAL(form_feed(&r, body, strlen(body), "B",
						step), 0);
		CU_ASSERT_EQUAL_FATAL(r.n, 2);
		CU_ASSERT_STRING_EQUAL(r.names[0], "a");
		CU_ASSERT_STRING_EQUAL(r.filenames[0], "");
		CU_ASSERT(r.data[0].len == 1 && r.data[0].ptr[0] == '1');
		CU_ASSERT_STRING_EQUAL(r.names[1], "data");
		CU_ASSERT_STRING_EQUAL(r.filenames[1], "=q\"t.txt");
		CU_ASSERT(r.data[1].len == 13 &&
			  memcmp(r.data[1].ptr, "\r\n--x\r\n-\r\r\n--", 13)
				  == 0);
		rec_release(&r);
	}
	/* errors stick, however split */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		for (size_t step = 0; step < 4; step++) {
			CU_ASSERT_EQUAL(form_feed(&r, bad[i], strlen(bad[i]),
						  "B", step), EFS_ECORRUPT);
			rec_release(&r);
		}
}

/* The push reader over car[0..len) in pieces of step (0: whole), with
 * the blocks into ms, links checked against it. */
struct car_run {
	struct memstore *ms;
	size_t max_blocks;
	size_t step;
	const struct buf *car;
	bool one_root;
};

static bool ms_has(void *cls, const struct cid *id)
{
	return memstore_has(cls, id);
}

static int ms_put(void *cls, const struct cid *id, const uint8_t *data,
		  size_t len)
{
	return memstore_put(cls, id, data, len);
}

static int car_read(struct api_upload_car *c, const struct car_run *run)
{
	struct api_upload_car_opts o = {
		.one_root = run->one_root, .links = run->one_root,
		.max_blocks = run->max_blocks, .has = ms_has,
		.on_block = ms_put, .cls = run->ms };
	size_t len = run->car->len, step = run->step ? run->step : len;
	int rc = 0;

	api_upload_car_init(c, &o);
	for (size_t at = 0; rc == 0 && at < len; at += step)
		rc = api_upload_car_feed(c, run->car->ptr + at,
					 step < len - at ? step : len - at);
	return rc == 0 ? api_upload_car_finish(c) : rc;
}

static int car_read_once(void *payload)
{
	const struct car_run *proto = payload;
	struct car_run run = *proto;
	struct api_upload_car c;
	int rc;

	if ((rc = memstore_new(&run.ms)) < 0)
		return rc;
	rc = car_read(&c, &run);
	api_upload_car_release(&c);
	memstore_free(run.ms);
	return rc;
}

static void test_api_upload__car_reader(void)
{
	struct memstore *ms;
	struct car_run run = { 0 };
	struct api_upload_car c;
	const struct cid *roots;
	struct buf car;
	struct cid root;
	size_t n;

	car_make(&car, &root, &ms, 5000, 3);
	run.car = &car;
	run.one_root = true;
	for (size_t step = 0; step < 40; step += 3) {
		CU_ASSERT_EQUAL_FATAL(memstore_new(&run.ms), 0);
		run.step = step;
		CU_ASSERT_EQUAL(car_read(&c, &run), 0);
		roots = api_upload_car_roots(&c, &n);
		CU_ASSERT(n == 1 && cid_equal(&roots[0], &root));
		CU_ASSERT_EQUAL(c.blocks, memstore_count(ms));
		CU_ASSERT_EQUAL(memstore_count(run.ms), memstore_count(ms));
		api_upload_car_release(&c);
		memstore_free(run.ms);
	}
	run.step = 0;
	run.max_blocks = 2;
	CU_ASSERT_EQUAL(car_read_once(&run), EFS_EINVAL);
	run.max_blocks = 0;
	run.step = 7;
	CU_ASSERT(harness_alloc_loop(car_read_once, &run) >= 1);
	buf_release(&car);
	memstore_free(ms);
}

static CU_TestInfo tests[] = {
	{ "add_sizes", test_api_upload__add_sizes },
	{ "add_names", test_api_upload__add_names },
	{ "add_no_fs", test_api_upload__add_no_fs },
	{ "add_bad", test_api_upload__add_bad },
	{ "limits_and_scopes", test_api_upload__limits_and_scopes },
	{ "add_car", test_api_upload__add_car },
	{ "car_corrupt", test_api_upload__car_corrupt },
	{ "form_parser", test_api_upload__form_parser },
	{ "car_reader", test_api_upload__car_reader },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "api_upload", .pInitFunc = api_test_suite_setup,
	       .pCleanupFunc = api_test_suite_teardown, .pTests = tests })
