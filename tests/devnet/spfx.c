/*
 * spfx.c - the storage-provider tests' devnet, file server, HTTP
 * client, CAR and mk12 client (see spfx.h).
 */
#include "tests/devnet/spfx.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "contrib/devnet/chain.h"
#include "core/alloc.h"
#include "core/car.h"
#include "core/error.h"
#include "core/importer.h"
#include "core/mk12_http.h"
#include "net/http.h"
#include "tests/harness.h"

#include "core/banned.h"

#define SPFX_FILES_MAX 64

struct served {
	char path[128];
	struct buf data;
	char auth[128];
	unsigned hits;
};

static struct {
	char *dir;
	size_t nminers;
	struct devnet d;
	bool open;
	struct filkey client;
	struct http_server *files;
	pthread_mutex_t lock;          /* the served files */
	struct served served[SPFX_FILES_MAX];
	size_t nserved;
} fx;

/* ---- the devnet ---- */

static int start_devnet(void)
{
	int rc;

	memset(&fx.d, 0, sizeof(fx.d));
	fx.d.dir = efs_strdup(fx.dir);
	snprintf(fx.d.host, sizeof(fx.d.host), "127.0.0.1");
	fx.d.epoch_ms = SPFX_EPOCH_MS;
	fx.d.net = 'f';
	fx.d.nminers = fx.nminers;
	if (!fx.d.dir)
		return EFS_ENOMEM;
	if ((rc = devnet_open(&fx.d)) < 0)
		return rc;
	for (size_t i = 0; i < fx.d.nminers; i++)
		if ((rc = sp_start(&fx.d, &fx.d.miners[i])) < 0)
			return rc;
	if ((rc = devnet_clock_start(&fx.d)) < 0)
		return rc;
	fx.open = true;
	return 0;
}

/* File server and IPNI share one listener. */
static void serve_files(struct http_req *req, void *payload)
{
	const char *path = http_req_path(req);
	const char *auth = http_req_header(req, "Authorization");

	if (ipni_handle(&fx.d, req))
		return;
	pthread_mutex_lock(&fx.lock);
	for (size_t i = 0; i < fx.nserved; i++) {
		struct served *s = &fx.served[i];

		if (strcmp(s->path, path) != 0)
			continue;
		s->hits++;
		if (s->auth[0] && (!auth || strcmp(auth, s->auth) != 0))
			http_reply_text(req, 401, "unauthorized\n");
		else
			http_reply(req, 200, "application/vnd.ipld.car",
				   s->data.ptr, s->data.len);
		pthread_mutex_unlock(&fx.lock);
		return;
	}
	pthread_mutex_unlock(&fx.lock);
	http_reply_text(req, 404, "404 page not found\n");
}

static int fund(const struct filkey *k, const char *amount,
		const char *escrow, const char *datacap)
{
	char a[FILADDR_STR_MAX], msg[256];
	struct chain_actor act;
	struct chain_escrow e;
	struct bigint add, neg;
	int rc;

	filaddr_format(a, &k->addr, 'f');
	if (amount && (rc = devnet_faucet(&fx.d, msg, sizeof(msg), a,
					  amount)) < 0)
		return rc;
	if (datacap && (rc = devnet_grant_datacap(&fx.d, msg, sizeof(msg), a,
						  datacap)) < 0)
		return rc;
	if (!escrow)
		return 0;
	if ((rc = bigint_parse_fil(&add, escrow, strlen(escrow))) < 0 ||
	    (rc = chain_actor_get(&fx.d, &act, &k->addr)) < 0)
		return rc;
	/* What MarketAddBalance does: the FIL moves to the market actor. */
	bigint_from_i64(&neg, 0);
	if ((rc = bigint_sub(&neg, &neg, &add)) < 0)
		return rc;
	pthread_mutex_lock(&fx.d.lock);
	if ((rc = chain_escrow_get_locked(&fx.d, &e, act.id)) == 0 &&
	    (rc = bigint_add(&e.escrow, &e.escrow, &add)) == 0 &&
	    (rc = chain_escrow_put_locked(&fx.d, act.id, &e)) == 0 &&
	    (rc = chain_balance_add_locked(&fx.d, act.id, &neg)) == 0)
		rc = chain_balance_add_locked(&fx.d, DEVNET_MARKET_ID, &add);
	pthread_mutex_unlock(&fx.d.lock);
	return rc;
}

int spfx_open(size_t nminers)
{
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	pthread_mutex_init(&fx.lock, NULL);
	fx.nminers = nminers;
	if (!(fx.dir = harness_tmpdir()))
		return EFS_EIO;
	if ((rc = start_devnet()) < 0)
		return rc;
	if ((rc = http_server_start(&fx.files, "127.0.0.1", 0, 0, serve_files,
				    NULL)) < 0)
		return rc;
	if ((rc = filkey_generate(&fx.client)) < 0)
		return rc;
	return fund(&fx.client, "1000", "100", "1073741824");
}

void spfx_shutdown(void)
{
	if (!fx.open)
		return;
	devnet_stop(&fx.d);
	for (size_t i = 0; i < fx.d.nminers; i++)
		sp_stop(&fx.d, &fx.d.miners[i]);
	devnet_close(&fx.d);
	fx.open = false;
}

int spfx_reopen(void)
{
	return start_devnet();
}

void spfx_close(void)
{
	http_server_stop(fx.files);
	fx.files = NULL;
	spfx_shutdown();
	for (size_t i = 0; i < fx.nserved; i++)
		buf_release(&fx.served[i].data);
	fx.nserved = 0;
	filkey_release(&fx.client);
	harness_tmpdir_free(fx.dir);
	fx.dir = NULL;
	curl_global_cleanup();
}

struct devnet *spfx_devnet(void)
{
	return &fx.d;
}

struct devnet_miner *spfx_miner(size_t i)
{
	return &fx.d.miners[i];
}

const char *spfx_sp_url(size_t i)
{
	static char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%u",
		 (unsigned)fx.d.miners[i].port);
	return url;
}

const char *spfx_ipni_url(void)
{
	static char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%u",
		 (unsigned)http_server_port(fx.files));
	return url;
}

void spfx_fault(size_t i, const struct devnet_fault *f)
{
	static const struct devnet_fault none;

	CU_ASSERT_EQUAL(devnet_fault_set(&fx.d, &fx.d.miners[i],
					 f ? f : &none), 0);
}

void spfx_wait_epochs(int64_t epochs)
{
	int64_t want = chain_head(&fx.d) + epochs;

	while (chain_head(&fx.d) < want)
		chain_wait_head(&fx.d, want - 1, 1000);
}

/* ---- files ---- */

const char *spfx_file_serve(const char *path, const void *data, size_t len,
			    const char *auth)
{
	static char url[256];
	struct served *s;

	pthread_mutex_lock(&fx.lock);
	if (fx.nserved == SPFX_FILES_MAX) {
		/* Reuse the oldest slot: tests serve a few dozen files. */
		buf_release(&fx.served[0].data);
		memmove(fx.served, fx.served + 1,
			(SPFX_FILES_MAX - 1) * sizeof(fx.served[0]));
		fx.nserved--;
	}
	s = &fx.served[fx.nserved++];
	snprintf(s->path, sizeof(s->path), "%s", path);
	snprintf(s->auth, sizeof(s->auth), "%s", auth ? auth : "");
	s->hits = 0;
	buf_init(&s->data, BUF_NOCAP);
	if (buf_add(&s->data, data, len) < 0)
		fprintf(stderr, "spfx: out of memory serving %s\n", path);
	pthread_mutex_unlock(&fx.lock);
	snprintf(url, sizeof(url), "%s%s", spfx_ipni_url(), path);
	return url;
}

unsigned spfx_file_hits(const char *path)
{
	unsigned n = 0;

	pthread_mutex_lock(&fx.lock);
	for (size_t i = 0; i < fx.nserved; i++)
		if (!strcmp(fx.served[i].path, path))
			n += fx.served[i].hits;
	pthread_mutex_unlock(&fx.lock);
	return n;
}

/* ---- HTTP client ---- */

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	return buf_add(arg, p, size * n) == 0 ? size * n : 0;
}

int spfx_request(struct spfx_resp *out, const char *method, const char *url,
		 const char *const *headers, const void *body, size_t len)
{
	struct curl_slist *h = NULL;
	CURL *c = curl_easy_init();
	CURLcode cc;

	memset(out, 0, sizeof(*out));
	buf_init(&out->body, 64u << 20);
	buf_init(&out->headers, 1u << 20);
	if (!c)
		return EFS_ENOMEM;
	for (; headers && *headers; headers++)
		h = curl_slist_append(h, *headers);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &out->body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &out->headers);
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	}
	cc = curl_easy_perform(c);
	out->curl_code = (int)cc;
	if (cc == CURLE_OK || cc == CURLE_PARTIAL_FILE)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &out->seconds);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	return 0;
}

void spfx_resp_release(struct spfx_resp *r)
{
	buf_release(&r->body);
	buf_release(&r->headers);
}

const char *spfx_header(const struct spfx_resp *r, const char *name,
			char *out, size_t cap)
{
	const char *p = (const char *)r->headers.ptr;
	size_t n = strlen(name);

	while (p && *p) {
		const char *eol = strstr(p, "\r\n");
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len > n && !strncasecmp(p, name, n) && p[n] == ':') {
			const char *v = p + n + 1;

			while (*v == ' ')
				v++;
			snprintf(out, cap, "%.*s", (int)(len - (size_t)(v - p)),
				 v);
			return out;
		}
		p += len + (eol ? 2 : 0);
	}
	return NULL;
}

/* ---- the CAR ---- */

static int write_file(const char *path, const void *p, size_t len)
{
	return harness_write_file(path, p, len);
}

static int to_buf(void *payload, const uint8_t *data, size_t len)
{
	return buf_add(payload, data, len);
}

/* Files f00..f<n-1> with the same bytes in dir/d. */
static int same_files(const char *dir, unsigned n)
{
	char path[4096];
	int rc = 0;

	for (unsigned i = 0; i < n && rc == 0; i++) {
		snprintf(path, sizeof(path), "%s/d/f%02u", dir, i);
		rc = write_file(path, "same bytes\n", 11);
	}
	return rc;
}

int spfx_car_make(struct spfx_car *out, uint64_t seed, size_t big_size)
{
	return spfx_car_make_opts(out, seed, big_size, 0);
}

int spfx_car_make_opts(struct spfx_car *out, uint64_t seed, size_t big_size,
		       unsigned hamt_files)
{
	char *dir = harness_tmpdir(), path[4096];
	struct importer_opts o;
	struct blockio_sink sink;
	struct blockio_source src;
	struct car_writer *w = NULL;
	uint8_t *data = efs_malloc(big_size ? big_size : 1);
	int rc;

	memset(out, 0, sizeof(*out));
	buf_init(&out->bytes, BUF_NOCAP);
	if (!dir || !data || (rc = memstore_new(&out->ms)) < 0) {
		rc = EFS_ENOMEM;
		goto out;
	}
	harness_fill_random(data, big_size, seed);
	out->big_size = big_size;
	snprintf(path, sizeof(path), "%s/d", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/d/big.bin", dir);
	if ((rc = write_file(path, data, big_size)) < 0)
		goto out;
	snprintf(path, sizeof(path), "%s/d/small.txt", dir);
	if ((rc = write_file(path, "hello devnet\n", 13)) < 0 ||
	    (rc = same_files(dir, hamt_files)) < 0)
		goto out;
	importer_opts_profile(&o, NULL);
	o.chunk_size = 4096;
	o.max_links = 4;
	o.threads = 1;
	if (hamt_files) {
		/* Shard whatever the size, 8 buckets a level: sub-shards. */
		o.hamt_threshold = 0;
		o.hamt_fanout = 8;
	}
	sink = memstore_sink(out->ms);
	src = memstore_source(out->ms);
	snprintf(path, sizeof(path), "%s/d", dir);
	if ((rc = importer_add_path(&out->root, NULL, path, &o, &sink, NULL,
				    NULL)) < 0)
		goto out;
	snprintf(path, sizeof(path), "%s/d/big.bin", dir);
	if ((rc = importer_add_path(&out->big, NULL, path, &o, &sink, NULL,
				    NULL)) < 0)
		goto out;
	snprintf(path, sizeof(path), "%s/d/small.txt", dir);
	if ((rc = importer_add_path(&out->small, NULL, path, &o, &sink, NULL,
				    NULL)) < 0)
		goto out;
	if ((rc = car_writer_new_cb(&w, to_buf, &out->bytes)) < 0 ||
	    (rc = car_write_dag(w, &src, &out->root, NULL, NULL)) < 0)
		goto out;
	if ((rc = commp_compute(&out->piece, out->bytes.ptr,
				out->bytes.len)) < 0)
		goto out;
	commp_cid_v1(&out->piece_v1, &out->piece);
	commp_cid_v2(&out->piece_v2, &out->piece);
out:
	car_writer_free(w);
	efs_free(data);
	if (dir)
		harness_tmpdir_free(dir);
	return rc;
}

void spfx_car_release(struct spfx_car *c)
{
	buf_release(&c->bytes);
	memstore_free(c->ms);
	memset(c, 0, sizeof(*c));
}

/* ---- mk12 ---- */

const struct filkey *spfx_client(void)
{
	return &fx.client;
}

int spfx_client_new(struct filkey *out, const char *amount,
		    const char *escrow, const char *datacap)
{
	int rc = filkey_generate(out);

	return rc < 0 ? rc : fund(out, amount, escrow, datacap);
}

int spfx_sign(struct mk12_deal_params *dp, const struct filkey *key)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	int rc = mk12_proposal_encode(&b, &dp->proposal.proposal);

	if (rc == 0)
		rc = filkey_sign(&dp->proposal.signature, key, b.ptr, b.len);
	buf_release(&b);
	return rc;
}

static int transfer_params(struct mk12_deal_params *dp, const char *url)
{
	struct mk12_http_request hr = { 0 };
	struct buf b = BUF_INIT(BUF_NOCAP);
	int rc;

	hr.url = efs_strdup(url);
	if (!hr.url)
		return EFS_ENOMEM;
	rc = mk12_http_request_set_header(&hr, "Authorization",
					  "Bearer devnet-test");
	if (rc == 0)
		rc = mk12_http_request_encode(&b, &hr);
	mk12_http_request_release(&hr);
	if (rc < 0) {
		buf_release(&b);
		return rc;
	}
	dp->transfer.params.ptr = buf_detach(&b, &dp->transfer.params.len);
	return 0;
}

int spfx_params(struct mk12_deal_params *out, size_t miner,
		const struct spfx_car *car, const char *url)
{
	/* A different price each time: proposals of the same CAR in the
	 * same epoch would otherwise be the same proposal. */
	static unsigned nth;
	struct mk12_proposal *p = &out->proposal.proposal;
	struct devnet_miner *m = &fx.d.miners[miner];
	char name[64], u[MK12_UUID_STR_MAX], cs[CID_STR_MAX];
	struct bigint max;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = mk12_uuid_generate(out->uuid)) < 0)
		return rc;
	mk12_uuid_format(u, out->uuid);
	if (!url) {
		snprintf(name, sizeof(name), "/%s.car", u);
		url = spfx_file_serve(name, car->bytes.ptr, car->bytes.len,
				      "Bearer devnet-test");
	}
	p->piece_cid = car->piece_v1;
	p->piece_size = car->piece.padded_size;
	p->client = fx.client.addr;
	p->provider = m->addr;
	cid_tostr(cs, &car->root);
	if ((rc = mk12_label_set(&p->label, false, cs, strlen(cs))) < 0)
		return rc;
	p->start_epoch = chain_head(&fx.d) + 400;
	p->end_epoch = p->start_epoch + 518400;
	/* Above every devnet ask for small pieces (the asks are tens of
	 * millions of attoFIL per GiB per epoch). */
	bigint_from_u64(&p->price_per_epoch, 100000 + nth++);
	if ((rc = market_collateral_bounds(&fx.d, &p->provider_collateral,
					   &max, p->piece_size, false)) < 0)
		return rc;
	bigint_from_u64(&p->client_collateral, 0);
	out->data_root = car->root;
	out->transfer.type = efs_strdup("http");
	out->transfer.size = car->bytes.len;
	if (!out->transfer.type)
		return EFS_ENOMEM;
	if ((rc = transfer_params(out, url)) < 0)
		return rc;
	return spfx_sign(out, &fx.client);
}

int spfx_propose(bool *accepted, char *msg, size_t cap, size_t miner,
		 const struct mk12_deal_params *dp)
{
	static const char *const hdrs[] = { "Content-Type: application/cbor",
					    NULL };
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct mk12_deal_response r = { 0 };
	struct spfx_resp resp;
	char url[128];
	int rc;

	*accepted = false;
	msg[0] = '\0';
	if ((rc = mk12_deal_params_encode(&b, dp)) < 0)
		return rc;
	snprintf(url, sizeof(url), "%s/market/mk12/store", spfx_sp_url(miner));
	spfx_request(&resp, "POST", url, hdrs, b.ptr, b.len);
	buf_release(&b);
	if (resp.status != 200) {
		snprintf(msg, cap, "HTTP %ld", resp.status);
		spfx_resp_release(&resp);
		return EFS_EIO;
	}
	rc = mk12_deal_response_decode(&r, resp.body.ptr, resp.body.len);
	spfx_resp_release(&resp);
	if (rc < 0)
		return rc;
	*accepted = r.accepted;
	snprintf(msg, cap, "%s", r.message ? r.message : "");
	mk12_deal_response_release(&r);
	return 0;
}

int spfx_status(struct mk12_status_response *out, size_t miner,
		const uint8_t uuid[MK12_UUID_LEN], const struct filkey *key)
{
	static const char *const hdrs[] = { "Content-Type: application/cbor",
					    NULL };
	struct mk12_status_request req;
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct spfx_resp resp;
	char url[128];
	int rc;

	memset(out, 0, sizeof(*out));
	memcpy(req.uuid, uuid, MK12_UUID_LEN);
	if ((rc = filkey_sign(&req.signature, key ? key : &fx.client, uuid,
			      MK12_UUID_LEN)) < 0 ||
	    (rc = mk12_status_request_encode(&b, &req)) < 0) {
		buf_release(&b);
		return rc;
	}
	snprintf(url, sizeof(url), "%s/market/mk12/status",
		 spfx_sp_url(miner));
	spfx_request(&resp, "GET", url, hdrs, b.ptr, b.len);
	buf_release(&b);
	rc = resp.status == 200 ? mk12_status_response_decode(
					  out, resp.body.ptr, resp.body.len)
				: EFS_EIO;
	spfx_resp_release(&resp);
	return rc;
}

static bool status_final(const struct mk12_status_response *s,
			 const char *want)
{
	if (s->error && s->error[0])
		return true;
	if (!s->has_status)
		return false;
	if (s->status.error && s->status.error[0])
		return true;
	return s->status.status && !strcmp(s->status.status, want);
}

int spfx_wait_status(struct mk12_status_response *out, size_t miner,
		     const uint8_t uuid[MK12_UUID_LEN], const char *want,
		     unsigned timeout_ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int rc = spfx_status(out, miner, uuid, NULL);

		if (rc == 0 && status_final(out, want))
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 +
			    (t.tv_nsec - t0.tv_nsec) / 1000000 >
		    (long)timeout_ms)
			return EFS_ETIMEDOUT;
		mk12_status_response_release(out);
		usleep(SPFX_EPOCH_MS * 1000);
	}
}

int spfx_deal(uint64_t *deal_id, size_t miner, const struct spfx_car *car)
{
	struct mk12_status_response st;
	struct mk12_deal_params dp;
	char msg[512];
	bool ok;
	int rc;

	*deal_id = 0;
	if ((rc = spfx_params(&dp, miner, car, NULL)) < 0)
		goto out;
	if ((rc = spfx_propose(&ok, msg, sizeof(msg), miner, &dp)) < 0)
		goto out;
	if (!ok) {
		fprintf(stderr, "deal rejected: %s\n", msg);
		rc = EFS_EINVAL;
		goto out;
	}
	rc = spfx_wait_status(&st, miner, dp.uuid, MK12_CURIO_SEALED, 20000);
	if (rc == 0 && st.has_status &&
	    !(st.status.error && st.status.error[0]))
		*deal_id = st.status.chain_deal_id;
	else if (rc == 0)
		rc = EFS_EIO;
	mk12_status_response_release(&st);
out:
	mk12_deal_params_release(&dp);
	return rc;
}
