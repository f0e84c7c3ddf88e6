/*
 * api_server.h - the daemon's HTTP server: one listener (config.json
 * "http.listen", default 127.0.0.1:3004) whose routes serve what the
 * daemon offers over HTTP.  Routes today:
 *
 *	/transfer/...   the deal CARs storage providers pull
 *	                (dealer/transfer.h); 503 until a dealer is set
 *	GET /health     200 {"ok":true,"version":"0.1.0","dealer":bool}
 *	anything else   404
 *
 * Errors are JSON in the form of the IPFS Pinning Service API, so every
 * route answers alike: {"error":{"reason":"NOT_FOUND","details":"..."}}
 * (reasons NOT_FOUND 404, METHOD_NOT_ALLOWED 405, TOO_LARGE 413,
 * UNAVAILABLE 503).
 *
 * The routes are a table in api_server.c (method, path or path prefix,
 * handler): the gateway, the pinning API, /stats and the dashboard of
 * issue 7 are rows added there.
 *
 *	api_server_start(&srv, "127.0.0.1:0", NULL);   // port 0: any free
 *	api_server_url(srv);                   // "http://127.0.0.1:41234"
 *	api_server_set_dealer(srv, d);         // /transfer/ now served
 *	...
 *	api_server_stop(srv);                  // then dealer_close(d)
 *
 * Threads: the server answers each connection on its own thread
 * (net/http.h).  api_server_set_dealer may be called from any thread
 * while the server runs; the other functions belong to the thread that
 * started it.
 */
#ifndef EFS_API_API_SERVER_H
#define EFS_API_API_SERVER_H

#include <stddef.h>
#include <stdint.h>

struct api_server;
struct dealer;

/* The listen address when the configuration names none. */
#define API_LISTEN_DEFAULT "127.0.0.1:3004"

struct api_server_opts {
	size_t max_body;        /* cap on request bodies; 0: HTTP_BODY_MAX */
};

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
 * Stop listening, wait for the requests under way and free s.  NULL is
 * fine.
 */
void api_server_stop(struct api_server *s);

#endif
