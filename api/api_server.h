/*
 * api_server.h - the daemon's HTTP server: one listener (config.json
 * "http.listen", default 127.0.0.1:3004) whose routes serve what the
 * daemon offers over HTTP.  Routes today:
 *
 *	/transfer/...   the deal CARs storage providers pull
 *	                (dealer/transfer.h); 503 until a dealer is set
 *	GET /health     200 {"ok":true,"version":"0.1.0","dealer":bool}
 *	POST /evict     {"target":"CID"}: evict what is safe of that DAG;
 *	                {}: a pass over the cache (dealer/evict.h); 200
 *	                with evict_result_json
 *	POST /pin       {"target":"CID","name":"/dir"}: keep it local
 *	                (evict_pin; name defaults to the CID); 200 with
 *	                evict_pin_json
 *	POST /unpin     {"target":"CID"} or {"name":"/dir"}: 200
 *	                {"removed":N}
 *	POST /retrieve  {"target":"CID","name":"/dir"}: fetch the whole
 *	                DAG into the blockstore and pin it as /pin does;
 *	                200 with a stream of progress lines, ending in
 *	                its result or error (api/api_retrieve.h)
 *	POST /gc        collect the blockstore's garbage now (bstore_gc,
 *	                with the store's grace period); 200
 *	                {"blocks":N,"bytes":N,"unverified":N}
 *	anything else   404
 *
 * The POST routes change the repository: they need the header
 * "Authorization: Bearer <token>" with the token of api_server_opts
 * (api/api_token.h), or answer 401 (UNAUTHORIZED); before what they
 * use is set (the evictor; for /retrieve the retriever too; for /gc
 * the blockstore) they answer 503.  GET routes are open.
 *
 * Errors are JSON in the form of the IPFS Pinning Service API, so every
 * route answers alike: {"error":{"reason":"NOT_FOUND","details":"..."}}
 * (reasons BAD_REQUEST 400, UNAUTHORIZED 401, FORBIDDEN 403,
 * NOT_FOUND 404, METHOD_NOT_ALLOWED 405, TOO_LARGE 413, INTERNAL 500,
 * UNAVAILABLE 503;
 * the last line of a /retrieve stream, sent after its 200, may also say
 * TIMEOUT, CORRUPT or BAD_GATEWAY: api/api_retrieve.h).
 *
 * The routes are tables (api/api_i.h: method, path or path prefix,
 * handler, scope): api_server.c's own, and one per route module of
 * issue 7 (the gateway, the pinning API, /stats, the dashboard).
 *
 *	api_server_start(&srv, "127.0.0.1:0", NULL);   // port 0: any free
 *	api_server_url(srv);                   // "http://127.0.0.1:41234"
 *	api_server_set_dealer(srv, d);         // /transfer/ now served
 *	...
 *	api_server_stop(srv);                  // then dealer_close(d)
 *
 * Threads: the server answers each connection on its own thread
 * (net/http.h).  The api_server_set_* functions may be called from any
 * thread while the server runs; the others belong to the thread that
 * started it.
 */
#ifndef EFS_API_API_SERVER_H
#define EFS_API_API_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "core/lathist.h"

struct api_fs_op;
struct api_server;
struct bstore;
struct dealer;
struct dealview_log_entry;
struct evict;
struct retriever;

/* The listen address when the configuration names none. */
#define API_LISTEN_DEFAULT "127.0.0.1:3004"

struct api_server_opts {
	size_t max_body;        /* cap on request bodies; 0: HTTP_BODY_MAX */
	const char *token;      /* the bearer token of the POST routes
				   (copied); NULL: they always answer 401 */
	const char *repo;       /* the repository directory the routes
				   read (copied); NULL: none, they answer
				   503 */
	/* the filesystem's commit log (paths and times of the commits the
	   REST routes list: dealer/dealview.h); NULL: the dealer's
	   commits only */
	int (*commit_log)(const char *db_path,
			  int (*cb)(const struct dealview_log_entry *e,
				    void *cls),
			  void *cls);
	/* the mount's FUSE operations (a mount's services read
	   fs/fsstats.h): fill out[0..max), return how many; called from
	   request threads.  NULL: no mount, /metrics shows no efs_fuse_*
	   series */
	size_t (*fs_ops)(struct api_fs_op *out, size_t max, void *cls);
	void *fs_ops_cls;
};

/* One FUSE operation's figures, for /metrics. */
struct api_fs_op {
	const char *name;          /* "getattr": static */
	uint64_t errors;           /* replies with an errno */
	struct lathist_snap lat;   /* lat.count: every reply */
};

/* Most operations fs_ops is asked for. */
#define API_FS_OPS_MAX 64

/*
 * Listen on listen, "IPV4:PORT" ("localhost" is 127.0.0.1; port 0 picks
 * a free one, see api_server_port), and serve the routes.  An address
 * other than loopback (127.0.0.0/8) is logged as a warning: whoever can
 * reach it can use every route.  opts may be NULL.  Returns 0,
 * EFS_EINVAL (listen is not IPV4:PORT: "api: bad listen address ..."),
 * EFS_EIO ("http: cannot listen on 127.0.0.1:3004: Address already in
 * use") or EFS_ENOMEM.  *out is the caller's (api_server_stop).
 */
int api_server_start(struct api_server **out, const char *listen,
		     const struct api_server_opts *opts);

/* The port the server listens on (the one picked, for port 0). */
uint16_t api_server_port(const struct api_server *s);

/*
 * "http://HOST:PORT", the server's own base URL (HOST is 127.0.0.1 when
 * listening on 0.0.0.0).  Borrowed; valid until api_server_stop.
 */
const char *api_server_url(const struct api_server *s);

/*
 * Serve /transfer/ with d's transfers (dealer_transfer) from now on; d
 * stays the caller's and must outlive the server: stop the server
 * before closing d.  Requests before this call get 503.
 */
void api_server_set_dealer(struct api_server *s, struct dealer *d);

/*
 * Serve /evict, /pin and /unpin with e from now on; e stays the
 * caller's and must outlive the server (stop the server before
 * evict_close).  Requests before this call get 503.  Any thread.
 */
void api_server_set_evictor(struct api_server *s, struct evict *e);

/*
 * Serve /retrieve with r (and the evictor, which pins what it fetched)
 * from now on; r stays the caller's and must outlive the server.  Any
 * thread.
 */
void api_server_set_retriever(struct api_server *s, struct retriever *r);

/*
 * Serve /gc on bs from now on; bs stays the caller's and must outlive
 * the server.  Any thread.
 */
void api_server_set_bstore(struct api_server *s, struct bstore *bs);

/*
 * Stop listening, cut the /retrieve streams (their walks stop at their
 * next block), wait for the requests under way and free s.  NULL is
 * fine.
 */
void api_server_stop(struct api_server *s);

#endif
