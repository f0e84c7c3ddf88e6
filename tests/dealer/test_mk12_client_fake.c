/*
 * test_mk12_client_fake.c - the mk12 client (dealer/mk12_client.c)
 * against in-process servers that answer what a broken or hostile SP
 * might: first the requests as sent (method, path, headers, bodies,
 * signatures), then bad CBOR, wrong types, HTML, empty and huge bodies,
 * trailing bytes, HTTP 404/500/502/503/429/301, a slow reply, a dropped
 * connection, proper replies about another miner or deal, a reply that
 * is not HTTP and one cut short: each one outcome with a one-line
 * detail, for each of ask, propose and status.
 */
#include "dealer/mk12_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/error.h"
#include "net/http.h"
#include "net/httpc.h"
#include "tests/devnet/devnet_util.h"
#include "tests/harness.h"

/* A v1 piece CID (1 MiB of zeros, FRC-0069) for deals never pulled. */
#define PIECE_V1 \
	"baga6ea4seaqnbnjq3oylj4s4luxsukg752aiwu2bfibjghyyysm7lisubbvrgjq"

enum fake_mode {
	FAKE_OK = 0,      /* a proper reply to what was asked */
	FAKE_BAD_CBOR,
	FAKE_WRONG_TYPES,
	FAKE_TRAILING,    /* a proper reply and one byte more */
	FAKE_HTML,
	FAKE_EMPTY,
	FAKE_HUGE,
	FAKE_404,
	FAKE_500,
	FAKE_502_HTML,
	FAKE_503_TIMEOUT,
	FAKE_429,
	FAKE_301,
	FAKE_SLOW,
	FAKE_DROP,
	FAKE_OTHER,       /* a proper reply about another miner or deal */
};

/* What the fake SP saw of the last request (under fk.lock). */
static struct {
	pthread_mutex_t lock;
	enum fake_mode mode;
	char method[8], path[64], ctype[64], accept[64];
	struct buf body;
	struct http_server *srv;
	char url[64];
	char *dir;
	struct wallet *wallet;
	struct filaddr client;
	struct dealproto *dp;        /* 700 ms timeout */
} fk = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void copy_hdr(char *out, size_t cap, struct http_req *req,
		     const char *name)
{
	const char *v = http_req_header(req, name);

	snprintf(out, cap, "%s", v ? v : "");
}

/* The proper reply to the request in body (an ask, store or status). */
static void proper_reply(struct buf *out, const char *path,
			 const uint8_t *body, size_t len, bool other)
{
	if (!strcmp(path, "/market/mk12/ask")) {
		struct mk12_ask_response r = { .has_ask = true };
		struct mk12_ask_request ar;

		r.ask.has_ask = true;
		if (mk12_ask_request_decode(&ar, body, len) == 0) {
			r.ask.ask.miner = ar.miner;
			if (other)
				filaddr_init_id(&r.ask.ask.miner, 9999);
		}
		bigint_from_u64(&r.ask.ask.price, 50000000);
		r.ask.ask.min_piece_size = 256;
		r.ask.ask.max_piece_size = 1ull << 35;
		r.ask.ask.expiry = 1000000;
		mk12_ask_response_encode(out, &r);
	} else if (!strcmp(path, "/market/mk12/store")) {
		struct mk12_deal_response r = { .accepted = true };

		mk12_deal_response_encode(out, &r);
	} else {
		struct mk12_status_response r = { .has_status = true };
		struct mk12_status_request sr;
		struct filaddr c;

		filaddr_init_id(&c, 1234);
		if (mk12_status_request_decode(&sr, body, len) == 0)
			memcpy(r.uuid, sr.uuid, 16);
		r.uuid[0] ^= other;
		r.status.status = (char *)"Processing";
		r.status.sealing_status = (char *)"Not assigned to sector";
		devnet_util_proposal(&r.status.proposal, &c, 1000, 2048, 10,
				     20, "0", "0", "0", false);
		cid_parse(&r.status.signed_proposal_cid, PIECE_V1);
		r.transfer_size = 1;
		r.nbytes_received = 1;
		mk12_status_response_encode(out, &r);
	}
}

static void fake_serve(struct http_req *req, void *payload)
{
	static const char html[] = "<!DOCTYPE html><html><body>"
				   "<h1>Welcome to nginx!</h1></body></html>";
	struct buf out = BUF_INIT(BUF_NOCAP);
	const uint8_t *body;
	enum fake_mode mode;
	size_t len;

	body = http_req_body(req, &len);
	pthread_mutex_lock(&fk.lock);
	mode = fk.mode;
	snprintf(fk.method, sizeof(fk.method), "%s", http_req_method(req));
	snprintf(fk.path, sizeof(fk.path), "%s", http_req_path(req));
	copy_hdr(fk.ctype, sizeof(fk.ctype), req, "Content-Type");
	copy_hdr(fk.accept, sizeof(fk.accept), req, "Accept");
	buf_reset(&fk.body);
	buf_add(&fk.body, body, len);
	pthread_mutex_unlock(&fk.lock);
	switch (mode) {
	case FAKE_OK:
	case FAKE_OTHER:
	case FAKE_TRAILING:
		proper_reply(&out, http_req_path(req), body, len,
			     mode == FAKE_OTHER);
		if (mode == FAKE_TRAILING)
			buf_addch(&out, 0);
		http_reply(req, 200, "application/octet-stream", out.ptr,
			   out.len);
		break;
	case FAKE_BAD_CBOR:
		http_reply(req, 200, "application/cbor", "\xff\xfe\x13junk", 7);
		break;
	case FAKE_WRONG_TYPES:
		/* a text where each reply has a map, an int, a bytes... */
		http_reply(req, 200, "application/cbor",
			   "\xa3\x63" "Ask\x61x" "\x68" "Accepted\x01"
			   "\x68" "DealUUID\x61x", 27);
		break;
	case FAKE_HTML:
		http_reply(req, 200, "text/html", html, sizeof(html) - 1);
		break;
	case FAKE_EMPTY:
		http_reply(req, 200, "application/cbor", "", 0);
		break;
	case FAKE_HUGE:
		buf_grow(&out, 2u << 20);
		memset(out.ptr, 0xa1, 2u << 20);
		http_reply(req, 200, "application/cbor", out.ptr, 2u << 20);
		break;
	case FAKE_404:
		http_reply_text(req, 404, "404 page not found\n");
		break;
	case FAKE_500:
		http_reply(req, 500, NULL, "", 0);
		break;
	case FAKE_502_HTML:
		http_reply(req, 502, "text/html", html, sizeof(html) - 1);
		break;
	case FAKE_503_TIMEOUT:
		http_reply_text(req, 503, "timeout reading request");
		break;
	case FAKE_429:
		http_reply_text(req, 429, "Too Many Requests\n");
		break;
	case FAKE_301:
		http_resp_header(req, "Location", "http://127.0.0.1:1/");
		http_reply(req, 301, NULL, "", 0);
		break;
	case FAKE_SLOW:
		usleep(1500000);
		http_reply(req, 500, NULL, "", 0);
		break;
	case FAKE_DROP:
		http_drop(req);
		break;
	}
	buf_release(&out);
}

static void set_mode(enum fake_mode m)
{
	pthread_mutex_lock(&fk.lock);
	fk.mode = m;
	pthread_mutex_unlock(&fk.lock);
}

static int fake_init(void)
{
	struct mk12_client_opts opts = { .timeout_ms = 700 };
	char d[600];

	buf_init(&fk.body, BUF_NOCAP);
	if (httpc_global_init() < 0 || !(fk.dir = harness_tmpdir()))
		return 1;
	snprintf(d, sizeof(d), "%s/repo", fk.dir);
	if (wallet_open(&fk.wallet, d) < 0 ||
	    wallet_new(&fk.client, fk.wallet) < 0 ||
	    mk12_client_new(&fk.dp, fk.wallet, &opts) < 0 ||
	    http_server_start(&fk.srv, "127.0.0.1", 0, 4u << 20, fake_serve,
			      NULL) < 0)
		return 1;
	snprintf(fk.url, sizeof(fk.url), "http://127.0.0.1:%u",
		 (unsigned)http_server_port(fk.srv));
	return 0;
}

static int fake_clean(void)
{
	http_server_stop(fk.srv);
	dealproto_free(fk.dp);
	wallet_close(fk.wallet);
	harness_tmpdir_free(fk.dir);
	buf_release(&fk.body);
	return 0;
}

/* A deal the fake SP f01000 gets (never pulled). */
static void fake_deal(struct dealproto_deal *d)
{
	memset(d, 0, sizeof(*d));
	mk12_uuid_generate(d->uuid);
	cid_parse(&d->piece_cid, PIECE_V1);
	d->piece_size = 1 << 20;
	d->payload_size = 600000;
	d->client = fk.client;
	filaddr_init_id(&d->provider, 1000);
	d->start_epoch = 100;
	d->end_epoch = 100 + 518400;
	d->transfer_url = "http://127.0.0.1:9/x.car";
}

/* Ask, propose and status with the server in mode m: their calls. */
static void run_ops(struct dealproto_call call[3], const char *url)
{
	struct dealproto_sp sp = { .url = url };
	struct dealproto_ref ref = { .client = fk.client };
	struct dealproto_proposal ids;
	struct dealproto_status st;
	struct dealproto_ask ask;
	struct dealproto_deal d;

	filaddr_init_id(&sp.addr, 1000);
	fake_deal(&d);
	memcpy(ref.uuid, d.uuid, 16);
	CU_ASSERT_EQUAL(dealproto_ask(&ask, &call[0], fk.dp, &sp), 0);
	CU_ASSERT_EQUAL(dealproto_propose(&ids, &call[1], fk.dp, &sp, &d), 0);
	CU_ASSERT_EQUAL(dealproto_status(&st, &call[2], fk.dp, &sp, &ref), 0);
}

/* The requests as sent: methods, paths, headers, decodable bodies. */
static void test_mk12_client__fake_requests(void)
{
	static const char *const what[] = { "ask", "store", "status" };
	struct dealproto_sp sp = { .url = NULL };
	struct dealproto_ref ref = { .client = fk.client };
	struct mk12_deal_params got, want;
	struct mk12_status_request sr;
	struct mk12_ask_request ar;
	struct dealproto_call call[3];
	struct dealproto_proposal ids;
	struct dealproto_status st;
	struct dealproto_deal d;
	struct buf wb = BUF_INIT(BUF_NOCAP);
	char url[80];

	set_mode(FAKE_OK);
	snprintf(url, sizeof(url), "%s/", fk.url);  /* a trailing slash */
	sp.url = url;
	filaddr_init_id(&sp.addr, 1000);
	for (int i = 0; i < 3; i++) {
		fake_deal(&d);
		memcpy(ref.uuid, d.uuid, 16);
		if (i == 0)
			dealproto_ask(&(struct dealproto_ask){ 0 }, &call[i],
				      fk.dp, &sp);
		else if (i == 1)
			dealproto_propose(&ids, &call[i], fk.dp, &sp, &d);
		else
			dealproto_status(&st, &call[i], fk.dp, &sp, &ref);
		CU_ASSERT_EQUAL(call[i].outcome, DEALPROTO_OK);
		CU_ASSERT_EQUAL(call[i].http_status, 200);
		pthread_mutex_lock(&fk.lock);
		CU_ASSERT_STRING_EQUAL(fk.method, i == 1 ? "POST" : "GET");
		CU_ASSERT(!strcmp(fk.path + 13, what[i]) &&
			  !strncmp(fk.path, "/market/mk12/", 13));
		CU_ASSERT_STRING_EQUAL(fk.ctype, "application/cbor");
		CU_ASSERT_STRING_EQUAL(fk.accept, "application/cbor");
		CU_ASSERT_EQUAL(call[i].bytes_up, fk.body.len);
		if (i == 0) {
			CU_ASSERT_EQUAL(mk12_ask_request_decode(
				&ar, fk.body.ptr, fk.body.len), 0);
			CU_ASSERT(filaddr_equal(&ar.miner, &sp.addr));
		} else if (i == 1) {
			/* exactly what the builder makes of the deal */
			CU_ASSERT_EQUAL(mk12_client_build(&want, NULL,
							  fk.wallet, &d), 0);
			CU_ASSERT_EQUAL(mk12_deal_params_encode(&wb, &want),
					0);
			CU_ASSERT(wb.len == fk.body.len &&
				  !memcmp(wb.ptr, fk.body.ptr, wb.len));
			CU_ASSERT_EQUAL(mk12_deal_params_decode(
				&got, fk.body.ptr, fk.body.len), 0);
			mk12_deal_params_release(&got);
			mk12_deal_params_release(&want);
		} else {
			/* signed by the client over the 16 UUID bytes */
			CU_ASSERT_EQUAL(mk12_status_request_decode(
				&sr, fk.body.ptr, fk.body.len), 0);
			CU_ASSERT(!memcmp(sr.uuid, d.uuid, 16));
			CU_ASSERT_EQUAL(filsig_verify(&sr.signature, &fk.client,
						      d.uuid, 16), 0);
		}
		pthread_mutex_unlock(&fk.lock);
	}
	CU_ASSERT_EQUAL(st.state, DEALPROTO_ACCEPTED);
	buf_release(&wb);
}

static void test_mk12_client__fake_replies(void)
{
	static const struct {
		enum fake_mode mode;
		enum dealproto_outcome outcome;
		long status;
		const char *detail;      /* in each op's detail */
	} cases[] = {
		{ FAKE_BAD_CBOR, DEALPROTO_GARBAGE, 200, "reply: " },
		{ FAKE_WRONG_TYPES, DEALPROTO_GARBAGE, 200, "reply: " },
		{ FAKE_TRAILING, DEALPROTO_GARBAGE, 200, "reply: " },
		{ FAKE_HTML, DEALPROTO_GARBAGE, 200,
		  "reply is an HTML page, not CBOR" },
		{ FAKE_EMPTY, DEALPROTO_GARBAGE, 200, "empty " },
		{ FAKE_HUGE, DEALPROTO_GARBAGE, 200,
		  "reply body over 1048576 bytes" },
		{ FAKE_404, DEALPROTO_ERROR, 404,
		  "HTTP 404: 404 page not found" },
		{ FAKE_500, DEALPROTO_ERROR, 500, "HTTP 500: empty body" },
		{ FAKE_502_HTML, DEALPROTO_ERROR, 502,
		  "HTTP 502: an HTML page of" },
		{ FAKE_503_TIMEOUT, DEALPROTO_TIMEOUT, 503,
		  "the SP timed out: HTTP 503: timeout reading request" },
		{ FAKE_429, DEALPROTO_REJECTED, 429,
		  "HTTP 429: Too Many Requests" },
		{ FAKE_301, DEALPROTO_ERROR, 301, "HTTP 301" },
		{ FAKE_SLOW, DEALPROTO_TIMEOUT, 0, "timed out" },
		{ FAKE_DROP, DEALPROTO_UNREACHABLE, 0, "http: " },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dealproto_call call[3];

		set_mode(cases[i].mode);
		run_ops(call, fk.url);
		for (int k = 0; k < 3; k++) {
			CU_ASSERT_EQUAL(call[k].outcome, cases[i].outcome);
			CU_ASSERT_EQUAL(call[k].http_status, cases[i].status);
			CU_ASSERT(strstr(call[k].detail, cases[i].detail) !=
				  NULL);
			CU_ASSERT(strchr(call[k].detail, '\n') == NULL);
			if (call[k].outcome != cases[i].outcome ||
			    !strstr(call[k].detail, cases[i].detail))
				fprintf(stderr, "mode %d op %d: %s: %s\n",
					cases[i].mode, k,
					dealproto_outcome_name(
						call[k].outcome),
					call[k].detail);
		}
	}
	set_mode(FAKE_OK);
}

/* Proper replies about another miner or another deal. */
static void test_mk12_client__fake_other(void)
{
	struct dealproto_call call[3];

	set_mode(FAKE_OTHER);
	run_ops(call, fk.url);
	CU_ASSERT_EQUAL(call[0].outcome, DEALPROTO_GARBAGE);
	CU_ASSERT_STRING_EQUAL(call[0].detail, "ask is for f09999, not f01000");
	CU_ASSERT_EQUAL(call[1].outcome, DEALPROTO_OK);
	CU_ASSERT_EQUAL(call[2].outcome, DEALPROTO_GARBAGE);
	CU_ASSERT(!strncmp(call[2].detail, "status is of deal ", 18));
	set_mode(FAKE_OK);
}

/* ---- a server that does not speak HTTP properly ---- */

enum raw_mode { RAW_NOT_HTTP, RAW_CUT_SHORT, RAW_CLOSE };

static struct {
	int fd;
	uint16_t port;
	pthread_t thread;
	int mode;        /* atomic */
	int stop;        /* atomic */
} raw = { .fd = -1 };

/* Read the whole request (headers, then Content-Length bytes). */
static void raw_read_request(int c)
{
	char b[1 << 16];
	size_t got = 0, need = SIZE_MAX;
	ssize_t n;

	while (got < need && got < sizeof(b) - 1 &&
	       (n = read(c, b + got, sizeof(b) - 1 - got)) > 0) {
		char *end, *cl;

		got += (size_t)n;
		b[got] = '\0';
		if (need == SIZE_MAX && (end = strstr(b, "\r\n\r\n"))) {
			cl = strcasestr(b, "Content-Length:");
			need = (size_t)(end + 4 - b) +
			       (cl ? strtoul(cl + 15, NULL, 10) : 0);
		}
	}
}

static void raw_serve(int c, int mode)
{
	static const char not_http[] = "SSH-2.0-OpenSSH_9.2\r\n";
	static const char cut[] = "HTTP/1.1 200 OK\r\n"
				  "Content-Type: application/cbor\r\n"
				  "Content-Length: 100\r\n\r\n\xa2\x68" "Acc";
	struct timeval tv = { 1, 0 };
	char drain[256];

	if (mode == RAW_CLOSE)
		return;
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	raw_read_request(c);
	if (mode == RAW_NOT_HTTP)
		(void)!write(c, not_http, sizeof(not_http) - 1);
	else
		(void)!write(c, cut, sizeof(cut) - 1);
	shutdown(c, SHUT_WR);
	while (read(c, drain, sizeof(drain)) > 0)
		;
}

static void *raw_main(void *arg)
{
	while (!__atomic_load_n(&raw.stop, __ATOMIC_SEQ_CST)) {
		struct pollfd p = { .fd = raw.fd, .events = POLLIN };
		int c;

		if (poll(&p, 1, 50) <= 0)
			continue;
		if ((c = accept(raw.fd, NULL, NULL)) < 0)
			continue;
		raw_serve(c, __atomic_load_n(&raw.mode, __ATOMIC_SEQ_CST));
		close(c);
	}
	return arg;
}

static int raw_start(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((raw.fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    bind(raw.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(raw.fd, 8) < 0 ||
	    getsockname(raw.fd, (struct sockaddr *)&sa, &len) < 0)
		return -1;
	raw.port = ntohs(sa.sin_port);
	return pthread_create(&raw.thread, NULL, raw_main, NULL) ? -1 : 0;
}

static void raw_stop(void)
{
	__atomic_store_n(&raw.stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(raw.thread, NULL);
	close(raw.fd);
}

static void test_mk12_client__fake_raw(void)
{
	static const struct {
		int mode;
		enum dealproto_outcome outcome;
		const char *detail;
	} cases[] = {
		{ RAW_NOT_HTTP, DEALPROTO_GARBAGE, "broken reply: http: " },
		{ RAW_CUT_SHORT, DEALPROTO_GARBAGE, "broken reply: http: " },
		{ RAW_CLOSE, DEALPROTO_UNREACHABLE, "http: " },
	};
	char url[64];

	CU_ASSERT_EQUAL_FATAL(raw_start(), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)raw.port);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dealproto_call call[3];

		__atomic_store_n(&raw.mode, cases[i].mode, __ATOMIC_SEQ_CST);
		run_ops(call, url);
		for (int k = 0; k < 3; k++) {
			CU_ASSERT_EQUAL(call[k].outcome, cases[i].outcome);
			CU_ASSERT(!strncmp(call[k].detail, cases[i].detail,
					   strlen(cases[i].detail)));
			if (call[k].outcome != cases[i].outcome)
				fprintf(stderr, "raw %d op %d: %s: %s\n",
					cases[i].mode, k,
					dealproto_outcome_name(
						call[k].outcome),
					call[k].detail);
		}
	}
	raw_stop();
}

static CU_TestInfo fake_tests[] = {
	{ "requests", test_mk12_client__fake_requests },
	{ "replies", test_mk12_client__fake_replies },
	{ "other", test_mk12_client__fake_other },
	{ "raw", test_mk12_client__fake_raw },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "mk12_client_fake", .pInitFunc = fake_init,
	       .pCleanupFunc = fake_clean, .pTests = fake_tests })
