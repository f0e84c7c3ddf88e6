/*
 * test_api_upload_stream.c - the upload routes' streamed bodies
 * (net/http.h http_req_body_stream through api_body_stream) over raw
 * sockets, so that the client side is exactly what the test sends:
 * 401 and 413 answered on the headers of a 10 GiB request before any
 * body byte is sent; a chunked body over the cap stopped with 413; a
 * client gone mid-body leaves no pin, no graft and a healthy server;
 * 507 when the declared size does not fit on the disk; and POST
 * /car/import: pin-roots true and false, the bafkqaaa placeholder
 * root, CARv2, a CAR corrupt midway (400 BAD_CAR, nothing pinned);
 * /metrics counts each streamed request once, however it was answered.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "api/api_server.h"
#include "api/api_token.h"
#include "core/alloc.h"
#include "core/bstore.h"
#include "core/buf.h"
#include "core/car.h"
#include "core/carv2.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/importer_file.h"
#include "core/memstore.h"
#include "dealer/evict.h"
#include "tests/api/api_test.h"
#include "tests/api/api_upload_test.h"
#include "tests/harness.h"

#include "core/banned.h"

/* The upload cap in these tests. */
#define UPLOAD_MAX (1u << 20)
#define IMPORT_PIN "cli:car-import"

/* Pins named name (NULL: any) of root (NULL: any). */
struct pin_count {
	const char *name;
	const struct cid *root;
	int n;
};

static int pin_cb(const struct bstore_pin *pin, void *payload)
{
	struct pin_count *c = payload;

	if ((!c->name || strcmp(pin->name, c->name) == 0) &&
	    (!c->root || cid_equal(&pin->root, c->root)))
		c->n++;
	return 0;
}

static int pins(struct fixture *f, const char *name, const struct cid *root)
{
	struct pin_count c = {name, root, 0};

	CU_ASSERT_EQUAL(bstore_pins_foreach(f->bs, pin_cb, &c), 0);
	return c.n;
}

/* ---- a raw client ---- */

static int raw_open(struct fixture *f)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	CU_ASSERT_FATAL(fd >= 0);
	sin.sin_port = htons(api_server_port(f->s));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CU_ASSERT_EQUAL_FATAL(connect(fd, (struct sockaddr *)&sin, sizeof(sin)),
			      0);
	return fd;
}

/* Send what fits; false once the server stopped taking it. */
static bool raw_send(int fd, const void *p, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

		if (k <= 0)
			return false;
		p = (const uint8_t *)p + k;
		n -= (size_t)k;
	}
	return true;
}

/* Whether a reply has begun to come (within ms). */
static bool raw_readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, ms) == 1;
}

/* Read the reply until the peer closes (or 10 s): its status, its body
 * into body (may be NULL). */
static long raw_reply(int fd, struct buf *body)
{
	struct buf in = BUF_INIT(1 << 20);
	double until = efs_clock_mono() + 10;
	const char *eoh;
	char chunk[4096];
	long status = 0;

	while (efs_clock_mono() < until && raw_readable(fd, 100)) {
		ssize_t k = recv(fd, chunk, sizeof(chunk), 0);

		if (k <= 0)
			break;
		CU_ASSERT_EQUAL_FATAL(buf_add(&in, chunk, (size_t)k), 0);
	}
	CU_ASSERT_EQUAL_FATAL(buf_addch(&in, 0), 0);
	if (in.len > 12 && strncmp((char *)in.ptr, "HTTP/1.1 ", 9) == 0)
		status = strtol((char *)in.ptr + 9, NULL, 10);
	eoh = strstr((char *)in.ptr, "\r\n\r\n");
	if (body && eoh)
		CU_ASSERT_EQUAL(buf_adds(body, eoh + 4), 0);
	buf_release(&in);
	return status;
}

/* Headers of a request to path with tok (NULL: none) and extra lines. */
static int raw_request(struct fixture *f, const char *method, const char *path,
		       const char *tok, const char *extra)
{
	struct buf h = BUF_INIT(BUF_NOCAP);
	int fd = raw_open(f);

	CU_ASSERT_EQUAL(buf_printf(&h,
				   "%s %s HTTP/1.1\r\nHost: x\r\n%s%s%s"
				   "%s\r\n",
				   method, path,
				   tok ? "Authorization: Bearer " : "",
				   tok ? tok : "", tok ? "\r\n" : "", extra),
			0);
	CU_ASSERT(raw_send(fd, h.ptr, h.len));
	buf_release(&h);
	return fd;
}

/* One chunk of a chunked body. */
static bool raw_chunk(int fd, const void *p, size_t n)
{
	char head[32];

	snprintf(head, sizeof(head), "%zx\r\n", n);
	return raw_send(fd, head, strlen(head)) && raw_send(fd, p, n) &&
	       raw_send(fd, "\r\n", 2);
}

/* The server still answers: GET /health. */
static void healthy(struct fixture *f)
{
	int fd =
	    raw_request(f, "GET", "/health", NULL, "Connection: close\r\n");

	CU_ASSERT_EQUAL(raw_reply(fd, NULL), 200);
	close(fd);
}

/* ---- refused on the headers ---- */

static void test_api_upload_stream__refused_early(void)
{
	static const char *const paths[] = {"/content/add", "/content/add-car",
					    "/car/import"};
	static const char *const types[] = {
	    "Content-Type: multipart/form-data; boundary=B\r\n", "",
	    "Content-Type: application/vnd.ipld.car\r\n"};
	char ten_gib[256];
	struct fixture f;
	double t0;
	int fd;

	fixture_open(&f, "early", true, UPLOAD_MAX);
	for (size_t i = 0; i < 3; i++) {
		snprintf(ten_gib, sizeof(ten_gib),
			 "Content-Length: "
			 "10737418240\r\n%s",
			 types[i]);
		/* no key: 401 before a byte of the 10 GiB is sent */
		t0 = efs_clock_mono();
		fd = raw_request(&f, "POST", paths[i], NULL, ten_gib);
		CU_ASSERT(raw_readable(fd, 5000));
		CU_ASSERT_EQUAL(raw_reply(fd, NULL), 401);
		CU_ASSERT(efs_clock_mono() - t0 < 5);
		close(fd);
		/* a key: 413 on the declared size, same */
		fd = raw_request(&f, "POST", paths[i], f.tok, ten_gib);
		CU_ASSERT(raw_readable(fd, 5000));
		CU_ASSERT_EQUAL(raw_reply(fd, NULL), 413);
		close(fd);
	}
	/* a JSON route's buffered body is capped small: 413 on its size */
	fd = raw_request(&f, "POST", "/pin", f.tok,
			 "Content-Length: 2097152\r\n");
	CU_ASSERT(raw_readable(fd, 5000));
	CU_ASSERT_EQUAL(raw_reply(fd, NULL), 413);
	close(fd);
	healthy(&f);
	fixture_close(&f);
}

/* Short of disk: 507 on the declared size. */
static void test_api_upload_stream__disk_full(void)
{
	struct buf body = BUF_INIT(BUF_NOCAP);
	struct fixture f;
	int fd;

	fixture_open(&f, "disk", true, UINT64_MAX);
	fd = raw_request(&f, "POST", "/car/import", f.tok,
			 "Content-Length: 1125899906842624\r\n");
	CU_ASSERT_EQUAL(raw_reply(fd, &body), 507);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr((char *)body.ptr, "INSUFFICIENT_STORAGE"));
	close(fd);
	buf_release(&body);
	fixture_close(&f);
}

/* ---- stopped midway ---- */

static const char form_head[] =
    "--B\r\nContent-Disposition: form-data; name=\"data\"; "
    "filename=\"f.bin\"\r\n\r\n";

/* POST /content/add, chunked: a form whose data part is zeros sent
 * until the server answers, or 8 times the cap went (the server stops
 * it long before).  The socket; the data bytes sent into *sent. */
static int send_over_cap(struct fixture *f, size_t *sent)
{
	uint8_t *block = efs_calloc(1, 64 * 1024);
	int fd = raw_request(f, "POST", "/content/add", f->tok,
			     "Transfer-Encoding: chunked\r\nContent-Type: "
			     "multipart/form-data; boundary=B\r\n");

	CU_ASSERT_PTR_NOT_NULL_FATAL(block);
	CU_ASSERT(raw_chunk(fd, form_head, strlen(form_head)));
	*sent = 0;
	while (*sent < 8 * UPLOAD_MAX && !raw_readable(fd, 0) &&
	       raw_chunk(fd, block, 64 * 1024))
		*sent += 64 * 1024;
	efs_free(block);
	return fd;
}

static void test_api_upload_stream__chunked_over_cap(void)
{
	struct buf body = BUF_INIT(BUF_NOCAP);
	struct fixture f;
	size_t sent;
	int fd;

	fixture_open(&f, "chunked", true, UPLOAD_MAX);
	fd = send_over_cap(&f, &sent);
	CU_ASSERT(sent < 8 * UPLOAD_MAX);
	CU_ASSERT_EQUAL(raw_reply(fd, &body), 413);
	CU_ASSERT_PTR_NOT_NULL(strstr((char *)body.ptr, "TOO_LARGE"));
	close(fd);
	CU_ASSERT_EQUAL(f.fs.grafts, 0);
	CU_ASSERT_EQUAL(pins(&f, NULL, NULL), 0);
	healthy(&f);
	buf_release(&body);
	fixture_close(&f);
}

static void test_api_upload_stream__client_gone(void)
{
	uint8_t *block = efs_calloc(1, 256 * 1024);
	char ctl[128];
	struct fixture f;
	int fd;

	fixture_open(&f, "gone", true, UINT64_MAX);
	/* half of a declared body, then the client goes */
	snprintf(ctl, sizeof(ctl),
		 "Content-Length: %u\r\nContent-Type: "
		 "multipart/form-data; boundary=B\r\n",
		 64u << 20);
	fd = raw_request(&f, "POST", "/content/add", f.tok, ctl);
	CU_ASSERT(raw_send(fd, form_head, strlen(form_head)));
	for (int i = 0; i < 16; i++)
		CU_ASSERT(raw_send(fd, block, 256 * 1024));
	close(fd);
	/* and a chunked CAR import cut inside a section */
	fd = raw_request(&f, "POST", "/car/import", f.tok,
			 "Transfer-Encoding: chunked\r\n");
	CU_ASSERT(raw_chunk(fd, "\x3a\xa2", 2));
	close(fd);
	usleep(300 * 1000);
	healthy(&f);
	CU_ASSERT_EQUAL(f.fs.grafts, 0);
	CU_ASSERT_EQUAL(f.fs.commits, 0);
	CU_ASSERT_EQUAL(pins(&f, NULL, NULL), 0);
	efs_free(block);
	fixture_close(&f);
}

/* ---- /metrics ---- */

/* The count /metrics gives for route and code (0 when absent). */
static long metric(struct fixture *f, const char *route, unsigned code)
{
	struct buf body = BUF_INIT(BUF_NOCAP);
	char key[128];
	const char *at;
	long n = 0;
	int fd = raw_request(f, "GET", "/metrics", NULL,
			     "Connection: close\r\n");

	CU_ASSERT_EQUAL(raw_reply(fd, &body), 200);
	close(fd);
	snprintf(key, sizeof(key),
		 "efs_http_requests_total{route=\"%s\",code=\"%u\"} ", route,
		 code);
	if (body.ptr && (at = strstr((char *)body.ptr, key)))
		n = strtol(at + strlen(key), NULL, 10);
	buf_release(&body);
	return n;
}

/* Each streamed request is counted once, however it was answered: by
 * the route on the headers, by the frame on the declared size, or as
 * a body stopped midway (a reply written on the socket). */
static void test_api_upload_stream__metrics(void)
{
	struct fixture f;
	long t415, t413;
	size_t sent;
	int fd;

	fixture_open(&f, "metrics", true, UPLOAD_MAX);
	t415 = metric(&f, "/car/import", 415);
	t413 = metric(&f, "/content/add", 413);
	/* the route's own refusal, before it streams */
	fd = raw_request(&f, "POST", "/car/import", f.tok,
			 "Content-Type: text/plain\r\nContent-Length: 0\r\n");
	CU_ASSERT_EQUAL(raw_reply(fd, NULL), 415);
	close(fd);
	CU_ASSERT_EQUAL(metric(&f, "/car/import", 415), t415 + 1);
	/* the frame's 413 on the declared size */
	fd = raw_request(&f, "POST", "/content/add", f.tok,
			 "Content-Length: 10737418240\r\nContent-Type: "
			 "multipart/form-data; boundary=B\r\n");
	CU_ASSERT_EQUAL(raw_reply(fd, NULL), 413);
	close(fd);
	CU_ASSERT_EQUAL(metric(&f, "/content/add", 413), t413 + 1);
	/* a chunked body stopped over the cap: a reply on the socket */
	fd = send_over_cap(&f, &sent);
	CU_ASSERT_EQUAL(raw_reply(fd, NULL), 413);
	close(fd);
	CU_ASSERT_EQUAL(metric(&f, "/content/add", 413), t413 + 2);
	fixture_close(&f);
}

/* ---- POST /car/import ---- */

/* A CAR of a size-byte file into out, with header roots roots (NULL:
 * the file's root); the root into *root. */
static void car_make(struct buf *out, struct cid *root, size_t size,
		     const struct cid *roots, size_t nroots)
{
	struct memstore *ms;
	struct blockio_sink sink;
	struct blockio_source src;
	struct importer_file *imp;
	struct importer_opts o;
	struct car_writer *w;
	uint8_t *data = efs_malloc(size);

	harness_fill_random(data, size, size);
	CU_ASSERT_EQUAL_FATAL(memstore_new(&ms), 0);
	sink = memstore_sink(ms);
	src = memstore_source(ms);
	CU_ASSERT_EQUAL(importer_opts_profile(&o, NULL), 0);
	o.chunk_size = 1024;
	CU_ASSERT_EQUAL_FATAL(importer_file_new(&imp, &o, NULL, &sink), 0);
	CU_ASSERT_EQUAL(importer_file_write(imp, data, size), 0);
	CU_ASSERT_EQUAL(importer_file_finish(imp, root, NULL, NULL), 0);
	importer_file_free(imp);
	buf_init(out, BUF_NOCAP);
	CU_ASSERT_EQUAL_FATAL(car_writer_new_cb(&w, car_out, out), 0);
	if (roots) {
		/* the same blocks under another header */
		struct car_writer *w2;
		struct buf tmpcar = BUF_INIT(BUF_NOCAP);
		struct car_reader *r;
		struct car_block b;

		CU_ASSERT_EQUAL_FATAL(car_writer_new_cb(&w2, car_out, &tmpcar),
				      0);
		CU_ASSERT_EQUAL(car_write_dag(w2, &src, root, NULL, NULL), 0);
		car_writer_free(w2);
		CU_ASSERT_EQUAL(car_writer_header(w, roots, nroots), 0);
		CU_ASSERT_EQUAL_FATAL(
		    car_reader_open_mem(&r, tmpcar.ptr, tmpcar.len), 0);
		while (car_reader_next(r, &b) == 0)
			CU_ASSERT_EQUAL(car_writer_add(w, NULL, &b.info.id,
						       b.data,
						       b.info.block_len),
					0);
		car_reader_free(r);
		CU_ASSERT_EQUAL(car_writer_finish(w), 0);
		buf_release(&tmpcar);
	} else {
		CU_ASSERT_EQUAL(car_write_dag(w, &src, root, NULL, NULL), 0);
	}
	car_writer_free(w);
	memstore_free(ms);
	efs_free(data);
}

/* POST car to /car/import + query, chunked in pieces of step: status,
 * the JSON reply into *out (may be NULL). */
static long import(struct fixture *f, const char *query, const struct buf *car,
		   size_t step, json_t **out)
{
	struct buf body = BUF_INIT(BUF_NOCAP);
	char path[128];
	long status;
	int fd;

	snprintf(path, sizeof(path), "/car/import%s", query);
	fd = raw_request(f, "POST", path, f->tok,
			 "Transfer-Encoding: chunked\r\nContent-Type: "
			 "application/vnd.ipld.car\r\nConnection: close\r\n");
	for (size_t at = 0; at < car->len; at += step)
		if (!raw_chunk(fd, car->ptr + at,
			       step < car->len - at ? step : car->len - at))
			break;
	raw_send(fd, "0\r\n\r\n", 5);
	status = raw_reply(fd, &body);
	close(fd);
	if (out)
		*out = json_loadb((char *)body.ptr, body.len, 0, NULL);
	buf_release(&body);
	return status;
}

static void test_api_upload_stream__car_import(void)
{
	struct cid root, roots[2];
	char str[CID_STR_MAX];
	struct buf car, car2;
	struct fixture f;
	json_t *v = NULL;

	fixture_open(&f, "import", true, 0);
	car_make(&car, &root, 20000, NULL, 0);
	/* pin-roots=false: stored, nothing pinned */
	CU_ASSERT_EQUAL(import(&f, "?pin-roots=false", &car, 333, &v), 200);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(v, "roots")), 1);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(v, "pinned")), 0);
	CU_ASSERT(json_integer_value(json_object_get(v, "blocks")) > 10);
	CU_ASSERT(json_integer_value(json_object_get(v, "bytes")) > 20000);
	CU_ASSERT(bstore_has(f.bs, &root));
	CU_ASSERT_EQUAL(pins(&f, NULL, NULL), 0);
	json_decref(v);
	/* default: pinned as `car import` pins, once however often */
	CU_ASSERT_EQUAL(import(&f, "", &car, 4096, &v), 200);
	CU_ASSERT_STRING_EQUAL(
	    json_string_value(json_array_get(json_object_get(v, "pinned"), 0)),
	    cid_tostr(str, &root));
	json_decref(v);
	CU_ASSERT_EQUAL(import(&f, "?pin-roots=true", &car, 100000, NULL), 200);
	CU_ASSERT_EQUAL(pins(&f, IMPORT_PIN, &root), 1);
	CU_ASSERT_EQUAL(f.fs.grafts, 0);
	CU_ASSERT_EQUAL(f.fs.commits, 0);
	CU_ASSERT_EQUAL(import(&f, "?pin-roots=maybe", &car, 4096, NULL), 400);
	buf_release(&car);
	/* the placeholder root bafkqaaa is listed, never pinned */
	CU_ASSERT_EQUAL(cid_parse(&roots[0], "bafkqaaa"), 0);
	car_make(&car, &root, 3000, roots, 1);
	CU_ASSERT_EQUAL(import(&f, "", &car, 1000, &v), 200);
	CU_ASSERT_STRING_EQUAL(
	    json_string_value(json_array_get(json_object_get(v, "roots"), 0)),
	    "bafkqaaa");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(v, "pinned")), 0);
	CU_ASSERT_EQUAL(pins(&f, NULL, &roots[0]), 0);
	json_decref(v);
	/* a CARv2 (go-car's wrapping: pragma, header, the CARv1, index) */
	buf_init(&car2, BUF_NOCAP);
	{
		struct carv2_header h = {.data_offset = CARV2_DATA_OFFSET,
					 .data_size = car.len};
		uint8_t hb[CARV2_HEADER_LEN];

		carv2_header_encode(hb, &h);
		CU_ASSERT_EQUAL(buf_add(&car2, carv2_pragma, CARV2_PRAGMA_LEN),
				0);
		CU_ASSERT_EQUAL(buf_add(&car2, hb, sizeof(hb)), 0);
		CU_ASSERT_EQUAL(buf_add(&car2, car.ptr, car.len), 0);
		CU_ASSERT_EQUAL(buf_add(&car2, "index bytes", 11), 0);
	}
	buf_release(&car);
	roots[1] = root;
	car_make(&car, &root, 3001, &roots[1], 1);
	CU_ASSERT_EQUAL(import(&f, "", &car2, 77, &v), 200);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(v, "roots")), 1);
	json_decref(v);
	buf_release(&car2);
	/* corrupt midway: 400 BAD_CAR, nothing pinned */
	car.ptr[car.len / 2] ^= 0x55;
	CU_ASSERT_EQUAL(import(&f, "", &car, 512, &v), 400);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(
				   json_object_get(v, "error"), "reason")),
			       "BAD_CAR");
	CU_ASSERT(strncmp(json_string_value(json_object_get(
			      json_object_get(v, "error"), "details")),
			  "car: ", 5) == 0);
	CU_ASSERT_EQUAL(pins(&f, NULL, &root), 0);
	json_decref(v);
	buf_release(&car);
	healthy(&f);
	fixture_close(&f);
}

static CU_TestInfo tests[] = {
    {"refused_early", test_api_upload_stream__refused_early},
    {"disk_full", test_api_upload_stream__disk_full},
    {"chunked_over_cap", test_api_upload_stream__chunked_over_cap},
    {"client_gone", test_api_upload_stream__client_gone},
    {"car_import", test_api_upload_stream__car_import},
    {"metrics", test_api_upload_stream__metrics},
    CU_TEST_INFO_NULL,
};

HARNESS_MAIN({.pName = "api_upload_stream",
	      .pInitFunc = api_test_suite_setup,
	      .pCleanupFunc = api_test_suite_teardown,
	      .pTests = tests})
