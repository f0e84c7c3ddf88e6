/*
 * api_server.h - the daemon's HTTP server: one listener (config.json
 * "http.listen", default 127.0.0.1:3004) whose routes serve what the
 * daemon offers over HTTP.  Its own routes (api_server.c), with the
 * scope each needs (api_i.h: PUBLIC < READ < WRITE < ADMIN):
 *
 *	/transfer/...   PUBLIC  the deal CARs storage providers pull
 *	                (dealer/transfer.h; a per-deal secret URL); 503
 *	                until a dealer is set
 *	GET /health     PUBLIC  200 {"ok":true,"version":"0.1.0",
 *	                "dealer":bool}
 *	GET /dealer     PUBLIC  the dealer's report (dealer_report)
 *	POST /evict     WRITE   {"target":"CID"}: evict what is safe of that
 *	                DAG; {}: a pass over the cache (dealer/evict.h);
 *	                200 with evict_result_json
 *	POST /pin       WRITE   {"target":"CID","name":"/dir"}: keep it
 *	                local (evict_pin; name defaults to the CID); 200
 *	                with evict_pin_json
 *	POST /unpin     WRITE   {"target":"CID"} or {"name":"/dir"}: 200
 *	                {"removed":N}
 *	POST /retrieve  WRITE   {"target":"CID","name":"/dir"}: fetch the
 *	                whole DAG into the blockstore and pin it as /pin
 *	                does; 200 with a stream of progress lines, ending
 *	                in its result or error (api/api_retrieve.h)
 *	POST /gc        WRITE   collect the blockstore's garbage now
 *	                (bstore_gc, with the store's grace period); 200
 *	                {"blocks":N,"bytes":N,"unverified":N}
 *
 * and the route modules' (each file's header comment lists its routes;
 * docs/api.md documents them for users):
 *
 *	GET /auth                  api_keys_serve.c: the request's scope
 *	GET /ipfs/{cid}[/path]     api_gateway*.c: the IPFS gateway
 *	/pins, /pins/{requestid}   api_pins*.c: the IPFS Pinning Service
 *	                           API
 *	POST /content/add,
 *	POST /content/add-car      api_upload*.c: uploads (multipart form,
 *	                           CAR) into /uploads/ of the mount
 *	POST /car/import           api_upload_import.c: a CAR stored, its
 *	                           roots pinned (`estuaryfs car import`)
 *	/public/..., /content/...,
 *	/deals/...                 api_rest.c, api_rest_public.c: Estuary's
 *	                           REST reads and public stats
 *	GET /metrics               api_metrics.c: Prometheus text
 *	GET /dashboard/            api_dash.c: the web dashboard
 *
 * Anything else is 404.  A route above PUBLIC needs "Authorization:
 * Bearer <credential>": the daemon's token (api_server_opts.token, i.e.
 * <repo>/api.token, api/api_token.h), which has ADMIN, or an API key of
 * the repository (api/api_keys.h), which has its scope.  Without valid
 * credentials the answer is 401 (UNAUTHORIZED), with too small a scope
 * 403 (FORBIDDEN).  Before what a route uses is set (the dealer, the
 * evictor, the retriever, the blockstore, the repository) it answers
 * 503.
 *
 * Errors are JSON in the form of the IPFS Pinning Service API, so every
 * route answers alike: {"error":{"reason":"NOT_FOUND","details":"..."}}
 * (reasons BAD_REQUEST 400, UNAUTHORIZED 401, FORBIDDEN 403,
 * NOT_FOUND 404, METHOD_NOT_ALLOWED 405, TOO_LARGE 413,
 * UNSUPPORTED_MEDIA_TYPE 415, INTERNAL 500, UNAVAILABLE 503,
 * INSUFFICIENT_STORAGE 507; the uploads add BAD_CAR 400; the gateway adds NOT_ACCEPTABLE 406,
 * RANGE_NOT_SATISFIABLE 416, LISTING_TOO_BIG 500, NOT_IMPLEMENTED 501,
 * RETRIEVAL_FAILED 502 and TIMEOUT 504;
 * the last line of a /retrieve stream, sent after its 200, may also say
 * TIMEOUT, CORRUPT or BAD_GATEWAY: api/api_retrieve.h).
 *
 * The routes are tables (api/api_i.h: method, path or path prefix,
 * handler, scope): api_server.c's own, and one per route module, listed
 * in api_server.c's tables[].
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

struct api_fs_hooks;
struct api_fs_op;
struct api_server;
struct cid;
struct bstore;
struct dealer;
struct dealview_log_entry;
struct evict;
struct retriever;

/* The listen address when the configuration names none. */
#define API_LISTEN_DEFAULT "127.0.0.1:3004"
/* The cap on an upload when the configuration names none (64 GiB). */
#define API_UPLOAD_MAX_DEFAULT ((uint64_t)64 << 30)

struct api_server_opts {
	size_t max_body;        /* cap on buffered request bodies (the JSON
				   routes); 0: HTTP_BODY_MAX (1 MiB) */
	uint64_t upload_max;    /* cap on streamed bodies (uploads, CAR
				   imports); 0: API_UPLOAD_MAX_DEFAULT;
				   UINT64_MAX: none */
	const char *token;      /* the daemon's bearer token, which has
				   the ADMIN scope (copied); NULL: only
				   API keys give access */
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
	/* the mounted filesystem's tree, for the routes that add content
	   (/pins, /content/add): copied; NULL: no mount, what they add
	   stays a blockstore pin */
	const struct api_fs_hooks *fs;
	/* pin requests worked on at once (config.json pins.workers);
	   0: API_PINS_WORKERS_DEFAULT */
	unsigned pins_workers;
};

/*
 * The mounted filesystem as the routes that add content use it (a
 * mount's services fill it; the daemon without a mount has none).  Each
 * may be called from request and worker threads at once; each returns 0
 * or a negative efs code with its message.
 */
struct api_fs_hooks {
	/*
	 * Make the DAG root (a UnixFS file or directory, its blocks in the
	 * blockstore, or fetchable) appear at path, absolute in the mount
	 * ("/pins/NAME"); missing parent directories are made.
	 * EFS_EEXISTS when path exists (nothing is replaced), EFS_EINVAL
	 * for a bad path or a root that is not UnixFS.
	 */
	int (*graft)(void *cls, const char *path, const struct cid *root);
	/* Commit the directory path (as `estuaryfs commit` does): the
	   dealer takes it from there; *out its root CID. */
	int (*commit)(void *cls, const char *path, struct cid *out);
	void *cls;
	/*
	 * Remove path and all below it (rm -r), as when a pin request
	 * whose graft it is goes: EFS_ENOTFOUND when nothing is there.
	 * NULL: grafts stay when their requests go.  Last, so the hooks
	 * made without it read as before.
	 */
	int (*remove)(void *cls, const char *path);
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
