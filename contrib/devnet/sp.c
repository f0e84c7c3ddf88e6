/*
 * sp.c - a simulated storage provider: one HTTP server per devnet miner
 * serving what a Curio node with its market and HTTP retrieval enabled
 * serves on its public host (market/mk12/http, market/retrieval):
 *
 *	GET  /market/mk12/ask      CBOR AskRequest -> AskResponse
 *	POST /market/mk12/store    CBOR DealParams -> DealResponse
 *	GET  /market/mk12/status   CBOR DealStatusRequest -> DealStatusResponse
 *	GET|HEAD /piece/{cid}      FRC-0066 piece retrieval, with Range
 *	GET|HEAD /ipfs/{cid}       trustless gateway (frisbii): CAR and raw
 *	GET  /info                 Curio's retrieval info JSON
 *
 * Anything else gets chi's "404 page not found".  Accepted deals go to
 * the SP's worker thread (sp_worker.c), which pulls the CAR, checks its
 * CommP, publishes the deal on the devnet chain and seals it.
 *
 * Faults (devnet_fault) that act on every request are applied here,
 * before routing: offline (the worker closes the listener; a request
 * that slips in is dropped), slow (sleep first), HTTP 429 (a share of
 * requests, with the text Curio's limiter or chi's httprate sends).
 *
 * Threads: handlers run on libmicrohttpd's connection threads and touch
 * struct sp only under sp->lock (the queue, the fault dice); each opens
 * its own database connection.
 */
#include "contrib/devnet/sp_i.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include <curl/curl.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "net/http.h"

#define LOG_TOPIC "sp"
#include "core/log.h"

#include "core/banned.h"

/* What Curio's retrieval limiter and chi's httprate send with a 429. */
#define SP_429_RETRIEVAL \
	"Service temporarily unavailable: too many concurrent requests"
#define SP_429_MARKET "Too Many Requests\n"
/* What the garbage_market fault answers: a proxy's page, not CBOR. */
#define SP_GARBAGE_PAGE "<html><body><h1>Welcome to nginx!</h1></body></html>\n"

static pthread_once_t sp_curl_once = PTHREAD_ONCE_INIT;
static CURLcode sp_curl_rc;

/* curl_global_init is not thread-safe in older libcurls: run it once, on
 * the first sp_start, which main.c calls before any thread starts. */
static void sp_curl_init(void)
{
	sp_curl_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

unsigned sp_roll(struct sp *sp)
{
	uint64_t x;

	pthread_mutex_lock(&sp->lock);
	x = sp->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	sp->rng = x;
	pthread_mutex_unlock(&sp->lock);
	return (unsigned)((x * 2685821657736338717ull) >> 33) % 100;
}

void sp_kick(struct sp *sp)
{
	pthread_mutex_lock(&sp->lock);
	sp->kicked = true;
	pthread_cond_broadcast(&sp->cond);
	pthread_mutex_unlock(&sp->lock);
}

bool sp_is_stopping(struct sp *sp)
{
	bool stop;

	pthread_mutex_lock(&sp->lock);
	stop = sp->stopping;
	pthread_mutex_unlock(&sp->lock);
	return stop || devnet_stopping(sp->d);
}

void sp_sleep_ms(struct sp *sp, unsigned ms)
{
	struct timespec until;

	efs_clock_deadline(&until, CLOCK_REALTIME, ms);
	pthread_mutex_lock(&sp->lock);
	while (!sp->stopping &&
	       pthread_cond_timedwait(&sp->cond, &sp->lock, &until) !=
		       ETIMEDOUT)
		;
	pthread_mutex_unlock(&sp->lock);
}

void sp_miner_str(char *out, size_t cap, const struct sp *sp)
{
	char a[FILADDR_STR_MAX];

	filaddr_format(a, &sp->m->addr, sp->d->net);
	snprintf(out, cap, "%s", a);
}

int sp_path(char *out, const char *dir, const char *name)
{
	int n = snprintf(out, SP_PATH_MAX, "%s/%s", dir, name);

	if (n < 0 || n >= SP_PATH_MAX)
		return efs_error_set(EFS_EINVAL, "sp: path too long: %s/%s",
				     dir, name);
	return 0;
}

const char *sp_sniff(const uint8_t *p, size_t len)
{
	/* Go's DetectContentType ends in these two for bytes that match no
	 * signature: a byte WHATWG calls binary makes it octet-stream. */
	if (len > 512)
		len = 512;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = p[i];

		if (c <= 0x08 || c == 0x0b || (c >= 0x0e && c <= 0x1a) ||
		    (c >= 0x1c && c <= 0x1f))
			return "application/octet-stream";
	}
	return "text/plain; charset=utf-8";
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void serve_info(struct http_req *req)
{
	static const char info[] =
		"{\"Version\":\"0.4.0\", \"Server\": \"Curio/devnet\"}";

	/* Curio writes it without a Content-Type: Go sniffs text/plain. */
	http_reply(req, 200, "text/plain; charset=utf-8", info,
		   sizeof(info) - 1);
}

static void sp_serve(struct http_req *req, void *payload)
{
	struct sp *sp = payload;
	const char *path = http_req_path(req);
	bool retrieval = has_prefix(path, "/piece/") ||
			 has_prefix(path, "/ipfs/") || !strcmp(path, "/ipfs");
	struct devnet_fault f;

	devnet_fault_get(sp->d, sp->m, &f);
	if (f.offline) {
		http_drop(req);
		return;
	}
	if (f.slow_ms)
		sp_sleep_ms(sp, f.slow_ms);
	if (f.http429_pct && sp_roll(sp) < f.http429_pct) {
		if (retrieval)
			http_reply_text(req, 429, "%s", SP_429_RETRIEVAL);
		else
			http_reply_text(req, 429, "%s", SP_429_MARKET);
		return;
	}
	if (has_prefix(path, "/market/mk12/") && f.garbage_market)
		http_reply(req, 200, "text/html", SP_GARBAGE_PAGE,
			   strlen(SP_GARBAGE_PAGE));
	else if (has_prefix(path, "/market/mk12/"))
		sp_mk12_serve(sp, req, path + strlen("/market/mk12"));
	else if (has_prefix(path, "/piece/"))
		sp_piece_serve(sp, req);
	else if (retrieval)
		sp_gateway_serve(sp, req);
	else if (!strcmp(path, "/info"))
		serve_info(req);
	else
		http_reply_text(req, 404, "404 page not found\n");
}

int sp_listen(struct sp *sp, bool on)
{
	struct http_server *s;
	int rc;

	if (on == (sp->http != NULL))
		return 0;
	if (!on) {
		pthread_mutex_lock(&sp->lock);
		s = sp->http;
		sp->http = NULL;
		pthread_mutex_unlock(&sp->lock);
		http_server_stop(s);
		efs_log_info("miner f0%llu: offline",
			     (unsigned long long)sp->m->id);
		return 0;
	}
	rc = http_server_start(&s, sp->d->host, sp->m->port,
			       MK12_STORE_BODY_MAX, sp_serve, sp);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&sp->lock);
	sp->http = s;
	pthread_mutex_unlock(&sp->lock);
	sp->m->port = http_server_port(s);
	return 0;
}

static int mkdir_one(const char *path)
{
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		return efs_error_set_errno(EFS_EIO, errno, "sp: mkdir %s",
					   path);
	return 0;
}

static int sp_dirs(struct sp *sp)
{
	char p[SP_PATH_MAX];
	int rc;

	snprintf(sp->rel, sizeof(sp->rel), "sp/%llu",
		 (unsigned long long)sp->m->id);
	if ((rc = sp_path(p, sp->d->dir, "sp")) < 0 ||
	    (rc = mkdir_one(p)) < 0 ||
	    (rc = sp_path(sp->dir, sp->d->dir, sp->rel)) < 0 ||
	    (rc = mkdir_one(sp->dir)) < 0 ||
	    (rc = sp_path(p, sp->dir, "piece")) < 0 ||
	    (rc = mkdir_one(p)) < 0 ||
	    (rc = sp_path(p, sp->dir, "incoming")) < 0)
		return rc;
	return mkdir_one(p);
}

static void sp_free(struct sp *sp)
{
	db_close(sp->db);
	pthread_cond_destroy(&sp->cond);
	pthread_mutex_destroy(&sp->lock);
	efs_free(sp);
}

int sp_start(struct devnet *d, struct devnet_miner *m)
{
	struct sp *sp;
	int rc;

	pthread_once(&sp_curl_once, sp_curl_init);
	if (sp_curl_rc != CURLE_OK)
		return efs_error_set(EFS_ERROR, "sp: curl_global_init: %s",
				     curl_easy_strerror(sp_curl_rc));
	if (m->sp)
		return 0;
	if (!(sp = efs_calloc(1, sizeof(*sp))))
		return efs_error_set(EFS_ENOMEM, "out of memory");
	sp->d = d;
	sp->m = m;
	sp->tick_head = -1;
	pthread_mutex_init(&sp->lock, NULL);
	pthread_cond_init(&sp->cond, NULL);
	if (getrandom(&sp->rng, sizeof(sp->rng), 0) != sizeof(sp->rng))
		sp->rng = (uint64_t)time(NULL);
	sp->rng |= 1;
	if ((rc = sp_dirs(sp)) < 0 || (rc = sp_db_open(d, &sp->db)) < 0 ||
	    (rc = sp_db_migrate(sp->db)) < 0 || (rc = sp_listen(sp, true)) < 0)
		goto out_free;
	if ((rc = sp_worker_start(sp)) < 0)
		goto out_stop;
	m->sp = sp;
	return 0;
out_stop:
	sp_listen(sp, false);
out_free:
	sp_free(sp);
	return rc;
}

void sp_stop(struct devnet *d, struct devnet_miner *m)
{
	struct sp *sp = m->sp;

	if (!sp)
		return;
	pthread_mutex_lock(&sp->lock);
	sp->stopping = true;
	pthread_cond_broadcast(&sp->cond);
	pthread_mutex_unlock(&sp->lock);
	sp_worker_stop(sp);
	sp_listen(sp, false);
	sp_free(sp);
	m->sp = NULL;
}
