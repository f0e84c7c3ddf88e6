/*
 * api_i.h - what the daemon's route modules share (api_server.c and the
 * modules whose route tables it serves): the route type, the scopes of
 * access, the server's state as the routes see it, and the replies every
 * route gives alike.
 *
 * A route module (api/api_<name>.c) defines its table
 *
 *	const struct api_route api_<name>_routes[] = { ... };
 *	const size_t api_<name>_nroutes = sizeof(...) / sizeof(...[0]);
 *
 * declared below, and api_server.c lists it once in its table of
 * tables.  The first route whose path matches wins, tables in the order
 * listed; a path ending in '/' is a prefix (but "/" is the root only).
 * The method is checked after the path (a known path with another
 * method is 405 with Allow); a NULL method leaves the method to the
 * handler; GET routes answer HEAD too (net/http.h sends the headers
 * only).  The scope is checked before the handler runs: a handler
 * never sees a request without the access its route needs.
 *
 * Threads: handlers run on the server's connection threads, many at
 * once; what they get from the accessors is internally locked (or
 * read-only) and stays valid until the server stops.
 */
#ifndef EFS_API_API_I_H
#define EFS_API_API_I_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "api/api_server.h"
#include "api/api_token.h"
#include "dealer/dealview.h"
#include "net/http.h"

/*
 * What a request may do, in order: each scope includes the ones before.
 * PUBLIC routes need no credentials (read-only, nothing private); READ
 * reads what the node keeps for its owner; WRITE changes the repository
 * (adds, pins, evicts); ADMIN spends money or manages access.  The
 * daemon's own token (api.token) has ADMIN.
 */
enum api_scope {
	API_PUBLIC,
	API_READ,
	API_WRITE,
	API_ADMIN,
};

/* The scope's name ("public", "read", "write", "admin"). */
const char *api_scope_name(enum api_scope scope);

struct api_route {
	const char *method;    /* NULL: any (the handler judges) */
	const char *path;      /* exact, or a prefix when it ends in '/' */
	void (*handle)(struct http_req *req, struct api_server *s);
	enum api_scope scope;  /* what the request must be allowed */
};

/*
 * Streamed routes: those of the tables api_server.c lists as streamed
 * (api_upload_routes).  Their handle runs when the headers are in,
 * after the path, method and scope checks, before any body byte is
 * read, and calls api_body_stream (or replies: the body is then never
 * read).  Other routes' bodies are buffered, capped at max_body, and
 * their handle runs once the body is in.
 *
 * From a streamed route's handle: take the request's body as it arrives
 * (net/http.h http_body_ops: ops borrowed, static), capped at the
 * server's upload_max; 413 when the declared Content-Length is over it,
 * 507 when it is over the free space of the repository's disk (or a
 * chunked body leaves less than API_DISK_RESERVE free), both JSON.
 * ops->end(cls, req, rc) is always called once, also at once when the
 * body is refused here (rc < 0, the reply sent: http_req_status(req)
 * is not 0).  In end, a route replies unless the rc is EFS_EIO (the
 * client is gone) or a reply is sent; an EFS_ETOOBIG or EFS_ENOSPC
 * left unanswered gets the 413 or 507.
 */
void api_body_stream(struct http_req *req, struct api_server *s,
		     const struct http_body_ops *ops, void *cls);

/* Free disk space below which uploads are refused (507). */
#define API_DISK_RESERVE ((uint64_t)256 << 20)

/* The server's state (api_server.c owns it; routes read it through the
 * accessors below). */
struct api_server {
	struct http_server *http;
	_Atomic(struct dealer *) dealer;
	_Atomic(struct evict *) evict;
	_Atomic(struct retriever *) retr;
	_Atomic(struct bstore *) bs;
	atomic_bool stopping;          /* cuts long streams */
	char url[48];                  /* "http://HOST:PORT" */
	char token[API_TOKEN_SIZE];    /* "": only PUBLIC routes */
	char *repo;                    /* repository directory, or NULL */
	dealview_log_fn commit_log;    /* the filesystem's commit log, or
					  NULL (api_server_opts) */
	/* the mount's FUSE operations, or NULL (api_server_opts) */
	size_t (*fs_ops)(struct api_fs_op *out, size_t max, void *cls);
	void *fs_ops_cls;
	/* the mounted tree (api_server_opts.fs, copied), or has_fs false */
	struct api_fs_hooks fs;
	bool has_fs;
	/* caps on request bodies: buffered (api_server_opts.max_body,
	   resolved) and streamed (upload_max; UINT64_MAX: none) */
	size_t max_body;
	uint64_t upload_max;
	/* the API keys of repo's index (api_keys.h), opened at the first
	 * request that needs them */
	_Atomic(struct api_keys *) keys;
	/* the pinning API's requests and worker (api_pins.h), or NULL: its
	 * routes answer 503; set before the server listens */
	struct api_pins *pins;
	/* GET /public/stats's last answer, served again for a second
	 * (api_rest_public.c) */
	struct {
		pthread_mutex_t mu;
		char *json;             /* NULL: none yet */
		size_t len;
		double at;              /* efs_clock_mono() when made */
		bool busy;              /* a request is making the next one */
	} stats;
};

/*
 * The error body every route uses (the Pinning Service API's form):
 * {"error":{"reason":"NOT_FOUND","details":"..."}}.  A details text that
 * is not UTF-8 is left out rather than sent broken.
 */
void api_reply_error(struct http_req *req, unsigned status,
		     const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Reply 200 with v, or the error of rc: EFS_ENOTFOUND 404, EFS_EINVAL
 * 400, others 500; v NULL with rc 0 is out of memory.  v is stolen
 * either way (freed unsent when rc < 0). */
void api_reply_result(struct http_req *req, int rc, json_t *v);

/*
 * The services the routes use, or NULL with 503 (UNAVAILABLE, with
 * Retry-After) sent when the daemon has not set them (yet): the dealer,
 * the evictor, the retriever, the blockstore.
 */
struct dealer *api_need_dealer(struct http_req *req, struct api_server *s);
struct evict *api_need_evictor(struct http_req *req, struct api_server *s);
struct retriever *api_need_retriever(struct http_req *req,
				     struct api_server *s);
struct bstore *api_need_bstore(struct http_req *req, struct api_server *s);

/* The repository directory (api_server_opts.repo), or NULL with 503
 * sent. */
const char *api_need_repo(struct http_req *req, struct api_server *s);

/* The server's own address as a multiaddr, "/ip4/HOST/tcp/PORT/http"
 * of its URL (the delegate /pins names, the provider uploads name),
 * into out[0..cap). */
void api_server_multiaddr(char *out, size_t cap, const struct api_server *s);

/* ---- the route tables api_server.c serves ---- */

/*
 * Table i of those the server serves, in the order it searches them:
 * its routes into *routes_out (static, read-only) and their number
 * into *n_out.  False, with nothing set, past the last table.  For
 * tests/api/test_api_docs.c, which checks docs/api.md against them.
 */
bool api_server_table(const struct api_route **routes_out, size_t *n_out,
		      size_t i);

extern const struct api_route api_core_routes[];
extern const size_t api_core_nroutes;
/* Estuary's REST reads and public stats (api_rest.c; its "/content/"
 * prefix comes after every table with a route under it). */
extern const struct api_route api_rest_routes[];
extern const size_t api_rest_nroutes;
/* GET /metrics, Prometheus text (api_metrics.c) */
extern const struct api_route api_metrics_routes[];
extern const size_t api_metrics_nroutes;
extern const struct api_route api_keys_routes[];
extern const size_t api_keys_nroutes;
/* POST /content/add, /content/add-car, /car/import: uploads, streamed
 * (api_upload.c; before api_rest's "/content/" prefix) */
extern const struct api_route api_upload_routes[];
extern const size_t api_upload_nroutes;
/* the IPFS Pinning Service API: /pins (api_pins.c) */
extern const struct api_route api_pins_routes[];
extern const size_t api_pins_nroutes;
extern const struct api_route api_gateway_routes[];
extern const size_t api_gateway_nroutes;
/* GET /dashboard/: the web dashboard's files (api_dash.c) */
extern const struct api_route api_dash_routes[];
extern const size_t api_dash_nroutes;
/* what the CLI asks of a daemon holding the repository: /cli/block/,
 * /fsck (api_cli.c) */
extern const struct api_route api_cli_routes[];
extern const size_t api_cli_nroutes;

#endif
