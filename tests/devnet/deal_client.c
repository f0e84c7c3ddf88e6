/*
 * deal_client.c - devnet-deal-client: one storage deal made with a
 * running estuaryfs-devnet through its public protocols only, the way a
 * Filecoin client talks to Lotus and Curio, then (with --verify) the
 * data retrieved back and checked.  tests/devnet/test_deal.c runs it;
 * bench/devnet_piece.sh uses it to get a big piece sealed.
 *
 *   devnet-deal-client --api http://127.0.0.1:PORT --token ADMIN_JWT
 *                      --car FILE [--miner f01000] [--verify]
 *                      [--timeout SECONDS]
 *
 * Steps (each through HTTP):
 *  1. a new secp256k1 wallet; Devnet.Faucet funds it (admin RPC);
 *  2. MarketAddBalance as a signed message: MpoolGetNonce, MpoolPush,
 *     StateWaitMsg;
 *  3. the CAR is served on 127.0.0.1 (ephemeral port) behind a bearer
 *     token; its CommP is computed here;
 *  4. StateMinerInfo gives the SP's HTTP address (its multiaddr);
 *     GET /market/mk12/ask its price; ChainHead and
 *     StateDealProviderCollateralBounds the proposal's epochs and
 *     collateral; the signed proposal goes to POST /market/mk12/store;
 *  5. GET /market/mk12/status until "Sealed"; StateMarketStorageDeal
 *     must show the deal in a sector;
 *  6. --verify: GET /piece/{v1} (the bytes of the file, CommP again),
 *     /piece/{v2} with a Range, /ipfs/{root}?format=car (read back with
 *     the CAR reader: every block hashed, as many as in the file),
 *     ?format=raw (hashed), and IPNI /cid/{root} names the SP.
 *
 * Prints "key value" lines (root, piece_cid, piece_cid_v2, deal_id,
 * sp_url) and exits 0, or prints why on stderr and exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "core/alloc.h"
#include "core/car.h"
#include "core/commp.h"
#include "core/error.h"
#include "core/filjson.h"
#include "core/filkey.h"
#include "core/mbase.h"
#include "core/mk12.h"
#include "core/mk12_http.h"
#include "net/http.h"
#include "tests/devnet/devnet_util.h"

#define AUTH "Bearer deal-client-secret"

struct client {
	const char *api;
	const char *token;
	const char *car_path;
	const char *miner;
	bool verify;
	unsigned timeout_s;
	struct filkey key;
	char addr[FILADDR_STR_MAX];
	uint64_t car_size;
	struct cid root;
	struct commp_piece piece;
	struct cid v1, v2;
	char sp_url[128];
	char peer_id[128];
	uint64_t deal_id;
};

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("devnet-deal-client: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return -1;
}

/* ---- HTTP ---- */

struct reply {
	long status;
	struct buf body;
};

static size_t to_buf(char *p, size_t size, size_t n, void *arg)
{
	return buf_add(arg, p, size * n) == 0 ? size * n : 0;
}

/* One request; the body of the reply in r (capped at 64 MiB). */
static int http(struct reply *r, const char *method, const char *url,
		struct curl_slist *hdrs, const void *body, size_t len)
{
	CURL *c = curl_easy_init();
	CURLcode cc;

	r->status = 0;
	buf_init(&r->body, 64u << 20);
	if (!c)
		return -1;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, to_buf);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	}
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_cleanup(c);
	return cc == CURLE_OK ? 0 : fail("%s %s: %s", method, url,
					 curl_easy_strerror(cc));
}

/* A JSON-RPC call; the result (a new reference) or NULL. */
static json_t *rpc(struct client *cl, const char *method, json_t *params)
{
	char url[256], auth[2048];
	struct curl_slist *h = NULL;
	json_t *req, *resp = NULL, *res = NULL;
	struct reply r = { 0 };
	char *body;

	snprintf(url, sizeof(url), "%s/rpc/v1", cl->api);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", cl->token);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, auth);
	req = json_pack("{s:s, s:s, s:o, s:i}", "jsonrpc", "2.0", "method",
			method, "params", params, "id", 1);
	body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (body && http(&r, "POST", url, h, body, strlen(body)) == 0)
		resp = json_loadb((const char *)r.body.ptr, r.body.len, 0,
				  NULL);
	res = json_incref(json_object_get(resp, "result"));
	if (!res)
		fail("%s: %.*s", method, (int)r.body.len,
		     r.body.ptr ? (const char *)r.body.ptr : "");
	json_decref(resp);
	free(body);
	buf_release(&r.body);
	curl_slist_free_all(h);
	return res;
}

/* ---- wallet and escrow ---- */

static int fund(struct client *cl)
{
	struct filmsg_signed sm;
	json_t *v, *sj = NULL, *cid, *rcpt;
	uint64_t nonce;
	int rc = -1;

	if (filkey_generate(&cl->key) < 0)
		return fail("key: %s", efs_error_msg());
	filaddr_format(cl->addr, &cl->key.addr, 'f');
	if (!(v = rpc(cl, "Devnet.Faucet",
		      json_pack("[s, s]", cl->addr, "100000000000000000000"))))
		return -1;
	json_decref(v);
	v = rpc(cl, "Filecoin.MpoolGetNonce", json_pack("[s]", cl->addr));
	if (!v)
		return -1;
	nonce = (uint64_t)json_integer_value(v);
	json_decref(v);
	if (devnet_util_add_balance(&sm, &cl->key, &cl->key.addr, nonce,
				    "10000000000000000000") < 0 ||
	    filjson_signed_encode(&sj, &sm, 'f') < 0) {
		filmsg_signed_release(&sm);
		return fail("AddBalance: %s", efs_error_msg());
	}
	filmsg_signed_release(&sm);
	if ((cid = rpc(cl, "Filecoin.MpoolPush", json_pack("[o]", sj)))) {
		v = rpc(cl, "Filecoin.StateWaitMsg",
			json_pack("[O, i, i, b]", cid, 1, 200, 1));
		rcpt = json_object_get(v, "Receipt");
		if (v && json_integer_value(json_object_get(rcpt,
							    "ExitCode")) == 0)
			rc = 0;
		else if (v)
			fail("AddBalance failed on chain");
		json_decref(v);
		json_decref(cid);
	}
	return rc;
}

/* ---- the CAR ---- */

static int read_car(struct client *cl)
{
	struct car_reader *r = NULL;
	const struct cid *roots;
	struct commp *c = NULL;
	uint8_t buf[1 << 16];
	size_t n;
	ssize_t got;
	int fd, rc = -1;

	if ((fd = open(cl->car_path, O_RDONLY)) < 0)
		return fail("%s: %s", cl->car_path, strerror(errno));
	if (car_reader_open_fd(&r, fd) < 0 ||
	    !(roots = car_reader_roots(r, &n)) || n < 1) {
		fail("%s: not a CAR: %s", cl->car_path, efs_error_msg());
		goto out;
	}
	cl->root = roots[0];
	if (lseek(fd, 0, SEEK_SET) != 0 || commp_new(&c, 0) < 0)
		goto out;
	while ((got = read(fd, buf, sizeof(buf))) > 0) {
		cl->car_size += (uint64_t)got;
		commp_update(c, buf, (size_t)got);
	}
	commp_finish(&cl->piece, c);
	commp_cid_v1(&cl->v1, &cl->piece);
	commp_cid_v2(&cl->v2, &cl->piece);
	rc = got == 0 ? 0 : fail("read %s", cl->car_path);
out:
	commp_free(c);
	car_reader_free(r);
	close(fd);
	return rc;
}

/* The CAR, to the SP that brings the token. */
static void serve_car(struct http_req *req, void *payload)
{
	struct client *cl = payload;
	const char *auth = http_req_header(req, "Authorization");
	int fd;

	if (strcmp(http_req_path(req), "/deal.car") != 0)
		http_reply_text(req, 404, "not found\n");
	else if (!auth || strcmp(auth, AUTH) != 0)
		http_reply_text(req, 401, "unauthorized\n");
	else if ((fd = open(cl->car_path, O_RDONLY)) < 0)
		http_reply_text(req, 500, "cannot open\n");
	else
		http_reply_fd(req, 200, "application/vnd.ipld.car", fd, 0,
			      cl->car_size);
}

/* ---- the SP ---- */

/* /ip4/A.B.C.D/tcp/PORT/http from a binary multiaddr. */
static int sp_from_multiaddr(struct client *cl, const uint8_t *m, size_t len)
{
	if (len < 8 || m[0] != 0x04 || m[5] != 0x06)
		return fail("unexpected multiaddr");
	snprintf(cl->sp_url, sizeof(cl->sp_url), "http://%u.%u.%u.%u:%u",
		 m[1], m[2], m[3], m[4], (unsigned)(m[6] << 8 | m[7]));
	return 0;
}

static int find_sp(struct client *cl)
{
	json_t *v = rpc(cl, "Filecoin.StateMinerInfo",
			json_pack("[s, n]", cl->miner));
	const char *b64, *peer;
	uint8_t ma[256];
	char mb[1024];
	long n;
	int rc;

	if (!v)
		return -1;
	b64 = json_string_value(json_array_get(json_object_get(v, "Multiaddrs"),
					       0));
	peer = json_string_value(json_object_get(v, "PeerId"));
	snprintf(cl->peer_id, sizeof(cl->peer_id), "%s", peer ? peer : "");
	snprintf(mb, sizeof(mb), "M%s", b64 ? b64 : "");
	n = mbase_decode(ma, sizeof(ma), mb, strlen(mb));
	rc = n > 0 ? sp_from_multiaddr(cl, ma, (size_t)n)
		   : fail("StateMinerInfo: no multiaddr");
	json_decref(v);
	return rc;
}

/* The CBOR message in b to the SP's /market/mk12/<what>; 0 when it
 * answered 200, the reply in r either way (buf_release r->body). */
static int mk12_call(struct reply *r, struct client *cl, const char *method,
		     const char *what, const struct buf *b)
{
	struct curl_slist *h =
		curl_slist_append(NULL, "Content-Type: application/cbor");
	char url[256];
	int rc;

	snprintf(url, sizeof(url), "%s/market/mk12/%s", cl->sp_url, what);
	rc = http(r, method, url, h, b->ptr, b->len);
	curl_slist_free_all(h);
	return rc == 0 && r->status == 200 ? 0 : -1;
}

/* The ask's unverified price for our piece (attoFIL per epoch). */
static int ask_price(struct client *cl, struct bigint *out)
{
	struct mk12_ask_request ar;
	struct mk12_ask_response resp;
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct bigint size, gib, rem;
	struct reply r = { 0 };
	int rc = -1;

	if (filaddr_parse(&ar.miner, NULL, cl->miner, strlen(cl->miner)) == 0 &&
	    mk12_ask_request_encode(&b, &ar) == 0 &&
	    mk12_call(&r, cl, "GET", "ask", &b) == 0 &&
	    mk12_ask_response_decode(&resp, r.body.ptr, r.body.len) == 0 &&
	    resp.has_ask && resp.ask.has_ask) {
		bigint_from_u64(&size, cl->piece.padded_size);
		bigint_from_u64(&gib, 1u << 30);
		bigint_mul(out, &resp.ask.ask.price, &size);
		bigint_divmod(out, &rem, out, &gib);
		bigint_from_u64(&rem, 1);
		rc = bigint_add(out, out, &rem);
	} else {
		fail("ask: HTTP %ld", r.status);
	}
	buf_release(&b);
	buf_release(&r.body);
	return rc;
}

static int big_of(struct bigint *out, json_t *v)
{
	const char *s = json_string_value(v);

	return s ? bigint_parse(out, s, strlen(s)) : -1;
}

/* A signed proposal for the piece, at the chain's current epoch. */
static int make_proposal(struct client *cl, struct mk12_deal_params *dp,
			 const char *car_url)
{
	struct mk12_proposal *p = &dp->proposal.proposal;
	struct mk12_http_header hh = { (char *)"Authorization", (char *)AUTH };
	struct mk12_http_request hr = { (char *)car_url, &hh, 1 };
	struct buf b = BUF_INIT(BUF_NOCAP);
	char cs[CID_STR_MAX];
	json_t *head, *bounds;
	int rc;

	if (!(head = rpc(cl, "Filecoin.ChainHead", json_array())))
		return -1;
	bounds = rpc(cl, "Filecoin.StateDealProviderCollateralBounds",
		     json_pack("[I, b, n]", (json_int_t)cl->piece.padded_size,
			       0));
	if (!bounds) {
		json_decref(head);
		return -1;
	}
	mk12_uuid_generate(dp->uuid);
	p->piece_cid = cl->v1;
	p->piece_size = cl->piece.padded_size;
	p->client = cl->key.addr;
	filaddr_parse(&p->provider, NULL, cl->miner, strlen(cl->miner));
	cid_tostr(cs, &cl->root);
	mk12_label_set(&p->label, false, cs, strlen(cs));
	p->start_epoch = json_integer_value(json_object_get(head, "Height")) +
			 200;
	p->end_epoch = p->start_epoch + 518400;
	rc = ask_price(cl, &p->price_per_epoch);
	if (rc == 0)
		rc = big_of(&p->provider_collateral,
			    json_object_get(bounds, "Min"));
	bigint_from_u64(&p->client_collateral, 0);
	dp->data_root = cl->root;
	dp->transfer.type = efs_strdup("http");
	dp->transfer.size = cl->car_size;
	if (rc == 0 && (rc = mk12_http_request_encode(&b, &hr)) == 0)
		dp->transfer.params.ptr =
			buf_detach(&b, &dp->transfer.params.len);
	if (rc == 0 && (rc = mk12_proposal_encode(&b, p)) == 0)
		rc = filkey_sign(&dp->proposal.signature, &cl->key, b.ptr,
				 b.len);
	buf_release(&b);
	json_decref(head);
	json_decref(bounds);
	return rc < 0 ? fail("proposal: %s", efs_error_msg()) : 0;
}

static int propose(struct client *cl, const struct mk12_deal_params *dp)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct mk12_deal_response resp = { 0 };
	struct reply r = { 0 };
	int rc = -1;

	if (mk12_deal_params_encode(&b, dp) == 0 &&
	    mk12_call(&r, cl, "POST", "store", &b) == 0 &&
	    mk12_deal_response_decode(&resp, r.body.ptr, r.body.len) == 0)
		rc = resp.accepted ? 0
				   : fail("deal rejected: %s", resp.message);
	else
		fail("store: HTTP %ld", r.status);
	mk12_deal_response_release(&resp);
	buf_release(&b);
	buf_release(&r.body);
	return rc;
}

/* One status query: 1 sealed, 0 not yet, -1 failed. */
static int status_once(struct client *cl, const uint8_t *uuid)
{
	struct mk12_status_request sr;
	struct mk12_status_response st;
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct reply r = { 0 };
	int rc = 0;

	memcpy(sr.uuid, uuid, MK12_UUID_LEN);
	if (filkey_sign(&sr.signature, &cl->key, uuid, MK12_UUID_LEN) < 0 ||
	    mk12_status_request_encode(&b, &sr) < 0 ||
	    mk12_call(&r, cl, "GET", "status", &b) < 0 ||
	    mk12_status_response_decode(&st, r.body.ptr, r.body.len) < 0) {
		rc = fail("status: HTTP %ld", r.status);
	} else {
		if (st.error && st.error[0])
			rc = fail("status: %s", st.error);
		else if (st.has_status && st.status.error[0])
			rc = fail("deal failed: %s", st.status.error);
		else if (st.has_status &&
			 !strcmp(st.status.status, MK12_CURIO_SEALED)) {
			cl->deal_id = st.status.chain_deal_id;
			rc = 1;
		}
		mk12_status_response_release(&st);
	}
	buf_release(&b);
	buf_release(&r.body);
	return rc;
}

static int wait_sealed(struct client *cl, const uint8_t *uuid)
{
	time_t until = time(NULL) + cl->timeout_s;
	int rc;

	while ((rc = status_once(cl, uuid)) == 0) {
		if (time(NULL) > until)
			return fail("not sealed after %u s", cl->timeout_s);
		usleep(200000);
	}
	return rc < 0 ? -1 : 0;
}

static int check_chain(struct client *cl)
{
	json_t *v = rpc(cl, "Filecoin.StateMarketStorageDeal",
			json_pack("[I, n]", (json_int_t)cl->deal_id));
	json_int_t start;

	if (!v)
		return -1;
	start = json_integer_value(json_object_get(
		json_object_get(v, "State"), "SectorStartEpoch"));
	json_decref(v);
	return start >= 0 ? 0 : fail("deal %llu not active on chain",
				     (unsigned long long)cl->deal_id);
}

/* ---- retrieval ---- */

struct piece_check {
	int fd;          /* the CAR file, compared against */
	struct commp *c;
	uint64_t off;
	bool same;
};

static size_t on_piece(char *p, size_t size, size_t n, void *arg)
{
	struct piece_check *pc = arg;
	size_t len = size * n;
	uint8_t *mine = malloc(len);

	if (!mine || pread(pc->fd, mine, len, (off_t)pc->off) != (ssize_t)len ||
	    memcmp(mine, p, len))
		pc->same = false;
	free(mine);
	commp_update(pc->c, p, len);
	pc->off += len;
	return len;
}

static int check_piece(struct client *cl)
{
	struct piece_check pc = { .same = true };
	char cs[CID_STR_MAX], url[512];
	struct commp_piece got;
	struct cid v1;
	CURL *c = curl_easy_init();
	CURLcode cc;

	pc.fd = open(cl->car_path, O_RDONLY);
	commp_new(&pc.c, 0);
	snprintf(url, sizeof(url), "%s/piece/%s", cl->sp_url,
		 cid_tostr(cs, &cl->v1));
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_piece);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &pc);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	cc = curl_easy_perform(c);
	curl_easy_cleanup(c);
	commp_finish(&got, pc.c);
	commp_cid_v1(&v1, &got);
	commp_free(pc.c);
	close(pc.fd);
	if (cc != CURLE_OK)
		return fail("GET %s: %s", url, curl_easy_strerror(cc));
	if (!pc.same || pc.off != cl->car_size || !cid_equal(&v1, &cl->v1))
		return fail("/piece: the bytes are not the CAR's");
	return 0;
}

static int check_range(struct client *cl)
{
	struct curl_slist *h = curl_slist_append(NULL, "Range: bytes=100-199");
	char cs[CID_STR_MAX], url[512];
	uint8_t mine[100];
	struct reply r = { 0 };
	int fd = open(cl->car_path, O_RDONLY), rc = -1;

	snprintf(url, sizeof(url), "%s/piece/%s", cl->sp_url,
		 cid_tostr(cs, &cl->v2));
	if (fd >= 0 && pread(fd, mine, 100, 100) == 100 &&
	    http(&r, "GET", url, h, NULL, 0) == 0 && r.status == 206 &&
	    r.body.len == 100 && !memcmp(r.body.ptr, mine, 100))
		rc = 0;
	else
		fail("/piece range: HTTP %ld, %zu bytes", r.status, r.body.len);
	if (fd >= 0)
		close(fd);
	buf_release(&r.body);
	curl_slist_free_all(h);
	return rc;
}

static size_t count_blocks(const char *path, struct cid *root, int *rc)
{
	struct car_reader *r;
	struct car_block b;
	const struct cid *roots;
	size_t n = 0, nroots;
	int fd = open(path, O_RDONLY);

	*rc = -1;
	if (fd < 0 || car_reader_open_fd(&r, fd) < 0) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	roots = car_reader_roots(r, &nroots);
	if (nroots >= 1)
		*root = roots[0];
	while ((*rc = car_reader_next(r, &b)) == 0)
		n++;
	if (*rc == EFS_ITEROVER)
		*rc = 0;
	car_reader_free(r);
	close(fd);
	return n;
}

static size_t to_fd(char *p, size_t size, size_t n, void *arg)
{
	return write(*(int *)arg, p, size * n) == (ssize_t)(size * n)
		       ? size * n
		       : 0;
}

static int check_gateway(struct client *cl)
{
	const char *tmpdir = getenv("TMPDIR");
	char cs[CID_STR_MAX], url[512], tmp[512];
	size_t want, got;
	struct cid r1, r2;
	struct reply r = { 0 };
	int fd, rc1, rc2, rc = -1;
	CURL *c;
	CURLcode cc;

	/* The CAR can be big: to a file, not to memory. */
	snprintf(tmp, sizeof(tmp), "%s/deal-client-XXXXXX",
		 tmpdir && *tmpdir ? tmpdir : "/tmp");
	if ((fd = mkstemp(tmp)) < 0)
		return fail("mkstemp %s: %s", tmp, strerror(errno));
	c = curl_easy_init();

	cid_tostr(cs, &cl->root);
	snprintf(url, sizeof(url), "%s/ipfs/%s?format=car", cl->sp_url, cs);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, to_fd);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &fd);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	cc = curl_easy_perform(c);
	curl_easy_cleanup(c);
	close(fd);
	want = count_blocks(cl->car_path, &r1, &rc1);
	got = count_blocks(tmp, &r2, &rc2);
	unlink(tmp);
	if (cc != CURLE_OK || rc2 < 0 || got != want || !cid_equal(&r1, &r2))
		return fail("/ipfs car: %zu blocks (want %zu), %s", got, want,
			    curl_easy_strerror(cc));
	snprintf(url, sizeof(url), "%s/ipfs/%s?format=raw", cl->sp_url, cs);
	if (http(&r, "GET", url, NULL, NULL, 0) == 0 && r.status == 200 &&
	    cid_verify(&cl->root, r.body.ptr, r.body.len) == 0)
		rc = 0;
	else
		fail("/ipfs raw: HTTP %ld", r.status);
	buf_release(&r.body);
	return rc;
}

static int check_ipni(struct client *cl)
{
	char cs[CID_STR_MAX], url[512];
	struct reply r = { 0 };
	int rc;

	snprintf(url, sizeof(url), "%s/cid/%s", cl->api,
		 cid_tostr(cs, &cl->root));
	rc = http(&r, "GET", url, NULL, NULL, 0);
	if (rc == 0 && (r.status != 200 || !r.body.ptr ||
			!strstr((const char *)r.body.ptr, cl->peer_id)))
		rc = fail("IPNI: HTTP %ld", r.status);
	buf_release(&r.body);
	return rc;
}

/* ---- main ---- */

static int run(struct client *cl)
{
	struct mk12_deal_params dp = { 0 };
	struct http_server *srv = NULL;
	char car_url[128], cs[CID_STR_MAX];
	int rc;

	if ((rc = read_car(cl)) < 0 || (rc = fund(cl)) < 0 ||
	    (rc = find_sp(cl)) < 0)
		return rc;
	if (http_server_start(&srv, "127.0.0.1", 0, 0, serve_car, cl) < 0)
		return fail("serving the CAR: %s", efs_error_msg());
	snprintf(car_url, sizeof(car_url), "http://127.0.0.1:%u/deal.car",
		 (unsigned)http_server_port(srv));
	if ((rc = make_proposal(cl, &dp, car_url)) == 0 &&
	    (rc = propose(cl, &dp)) == 0 &&
	    (rc = wait_sealed(cl, dp.uuid)) == 0)
		rc = check_chain(cl);
	http_server_stop(srv);
	mk12_deal_params_release(&dp);
	if (rc < 0)
		return rc;
	printf("root %s\n", cid_tostr(cs, &cl->root));
	printf("piece_cid %s\n", cid_tostr(cs, &cl->v1));
	printf("piece_cid_v2 %s\n", cid_tostr(cs, &cl->v2));
	printf("piece_size %llu\n", (unsigned long long)cl->piece.padded_size);
	printf("deal_id %llu\n", (unsigned long long)cl->deal_id);
	printf("sp_url %s\n", cl->sp_url);
	fflush(stdout);
	if (cl->verify && ((rc = check_piece(cl)) < 0 ||
			   (rc = check_range(cl)) < 0 ||
			   (rc = check_gateway(cl)) < 0 ||
			   (rc = check_ipni(cl)) < 0))
		return rc;
	if (cl->verify)
		printf("verified ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "api", required_argument, NULL, 'a' },
		{ "token", required_argument, NULL, 't' },
		{ "car", required_argument, NULL, 'c' },
		{ "miner", required_argument, NULL, 'm' },
		{ "verify", no_argument, NULL, 'v' },
		{ "timeout", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	struct client cl = { .miner = "f01000", .timeout_s = 120 };
	int o, rc;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'a': cl.api = optarg; break;
		case 't': cl.token = optarg; break;
		case 'c': cl.car_path = optarg; break;
		case 'm': cl.miner = optarg; break;
		case 'v': cl.verify = true; break;
		case 'T': cl.timeout_s = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default: return 2;
		}
	}
	if (!cl.api || !cl.token || !cl.car_path) {
		fprintf(stderr, "usage: devnet-deal-client --api URL --token T"
			" --car FILE [--miner f0..] [--verify]"
			" [--timeout S]\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = run(&cl);
	filkey_release(&cl.key);
	curl_global_cleanup();
	return rc < 0 ? 1 : 0;
}
