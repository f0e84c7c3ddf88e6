/*
 * cli_api.h - the CLI as a client of the daemon's API (api/api_server.h).
 * A command on a repository which a daemon or a mount holds (bstore_open
 * says EFS_EEXISTS: the holder has its lock) sends its request to that
 * process instead, with the bearer token of <repo>/api.token: POST
 * <api.url><path> (evict, pin, unpin, retrieve, gc, fsck), blocks read
 * through it (cat, ls, car export, estimate), bytes streamed from its
 * gateway (cat, car export) or to it (car import, add).  cli_api_at is
 * the one place that chooses: here, or through the daemon.
 *
 * Errors, the same for every command:
 *   EFS_EIO     the holder serves no API (no api.url: a mount with
 *               -o nodaemon), or the daemon does not answer
 *   EFS_EINVAL  401: the daemon refused the token (or 400: a bad
 *               request, with the daemon's details)
 *   ENOTFOUND   404, with the daemon's details
 *   EFS_ECORRUPT the answer is not what the route sends
 *   the code itself, and the daemon's message as it is, when the
 *               route names an efs code in its reason ("ECORRUPT":
 *               /cli/block/), so a command fails as it would here
 * and api_token_read's.  Messages are one line, never quoting the
 * token.
 *
 * Owned by the one thread of the command; httpc_global_init must have
 * run.
 */
#ifndef EFS_CLI_CLI_API_H
#define EFS_CLI_CLI_API_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/blockio.h"
#include "core/buf.h"
#include "core/cid.h"
#include "net/httpc.h"

/* The longest line of a streamed answer. */
#define CLI_API_LINE_MAX ((size_t)64 << 10)

/*
 * POST <api.url><path> with body (a JSON object, borrowed; NULL sends
 * {}), waiting at most timeout_ms for the whole answer; a 200 answer's
 * JSON object goes to *out (the caller's; NULL on failure).  Returns 0
 * or the errors above.
 */
int cli_api_post(json_t **out, const char *repo, const char *path,
		 const json_t *body, unsigned timeout_ms);

/*
 * Called with each line of a streamed answer as it arrives, without
 * its newline and NUL-terminated (borrowed).  A negative return stops
 * the transfer and is returned by cli_api_post_lines.
 */
typedef int (*cli_api_line_fn)(void *cls, const char *line, size_t len);

/*
 * As cli_api_post, for a route that answers 200 with newline-delimited
 * JSON (POST /retrieve): each line goes to fn.  An answer that is not
 * 200 is the route's one JSON error object (it has no newline, so fn
 * never sees it) and gives the errors above.  Returns 0 once the answer
 * ended (fn judges whether it was complete), EFS_ECORRUPT (a line over
 * CLI_API_LINE_MAX, or an answer ending mid-line), fn's error or the
 * errors above.
 */
int cli_api_post_lines(const char *repo, const char *path,
		       const json_t *body, unsigned timeout_ms,
		       cli_api_line_fn fn, void *cls);

/*
 * A command's work, done where the repository is: here, on its
 * blockstore, when no process holds it; else by the daemon holding it.
 */
struct bstore;
struct cli_api_work {
	int (*here)(json_t **out, struct bstore *bs, const char *repo,
		    void *cls);
	int (*daemon)(json_t **out, const char *repo, void *cls);
	void *cls;
};

/*
 * Open the repository and run w->here on it, or, when a daemon or mount
 * holds it (EFS_EEXISTS), w->daemon.  *out is what the one that ran
 * made (NULL on failure).  Initialises the HTTP client.  Returns 0 or
 * the first error (bstore_close's included).
 */
int cli_api_run(json_t **out, const struct cli_api_work *w);

/*
 * Where a command's work runs, as cli_api_at chose: on the blockstore
 * opened here (bs set, conn NULL), or through the daemon holding the
 * repository (conn set, bs NULL).  src gives the blocks either way
 * (through the daemon: cli_api_source).  All borrowed for the call.
 */
struct cli_api_conn;
struct cli_api_where {
	const char *repo;
	struct bstore *bs;
	struct cli_api_conn *conn;
	struct blockio_source src;
};

typedef int (*cli_api_at_fn)(const struct cli_api_where *w, void *cls);

/*
 * Open the repository and run fn with it here, or, when a daemon or
 * mount holds it (EFS_EEXISTS), with a connection to that process.
 * Initialises the HTTP client.  Returns fn's result, or the first error
 * (opening, connecting, bstore_close's final sync).
 */
int cli_api_at(cli_api_at_fn fn, void *cls);

/* ---- one connection to the daemon (cli_api_conn.c) ---- */

/*
 * Connect to the daemon holding repo (its api.url and api.token, read
 * now); requests on it reuse one connection.  Free with
 * cli_api_conn_free (NULL is fine).  Returns 0 or the errors above.
 */
int cli_api_conn_open(struct cli_api_conn **out, const char *repo);
void cli_api_conn_free(struct cli_api_conn *c);

/*
 * GET path (with its query) with headers ("Name: value", NULL-ended, or
 * NULL) besides the token.  A 2xx answer's body goes to sink as it
 * arrives (never the body of another status).  Returns 0 once the whole
 * answer arrived; the sink's error; EFS_EIO or EFS_ETIMEDOUT when a 2xx
 * answer stopped short (the daemon cut it: a block it could not have);
 * or the errors above.
 */
int cli_api_get(struct cli_api_conn *c, const char *path,
		const char *const *headers, httpc_sink_fn sink, void *cls);

/*
 * The blocks of the daemon's store as a source (GET /cli/block/{cid}):
 * Case A and B as its gateway serves them, verified there and here
 * again, the daemon's error codes kept.  Borrowed from c; one thread.
 */
struct blockio_source cli_api_source(struct cli_api_conn *c);

/* An upload's next bytes into buf[0..max): how many, 0 at the end, or a
 * negative efs code that stops the upload (and is returned). */
typedef long (*cli_api_read_fn)(void *cls, uint8_t *buf, size_t max);

/*
 * POST path with a body of type ctype read from fn as it is sent
 * (chunked: its length need not be known); a 200 answer's JSON object
 * goes to *out (the caller's).  An error answer the daemon sent wins
 * over a broken upload.  Returns 0, fn's error or the errors above.
 */
int cli_api_post_stream(json_t **out, struct cli_api_conn *c,
			const char *path, const char *ctype,
			cli_api_read_fn fn, void *cls);

/* A block of a CAR as it passes: its CID and its section's offset in
 * the CARv1 (both borrowed).  A negative return stops the transfer. */
typedef int (*cli_api_car_block_fn)(void *cls, const struct cid *id,
				    uint64_t offset);

/*
 * The deterministic CARv1 of root's DAG (what car_write_dag writes: the
 * daemon's gateway, ?format=car&dag-scope=all, makes the same bytes),
 * streamed to sink; with on_block, each block's CID and offset too (the
 * CARv2 index).  Both get cls.  When the daemon cannot send it (404, or
 * a stream it cut at a block it could not have) the DAG is walked
 * through cli_api_source to fail as car_write_dag fails here.  Returns
 * 0, sink's or on_block's error, the walk's, or the errors above.
 */
int cli_api_car(struct cli_api_conn *c, const struct cid *root,
		httpc_sink_fn sink, cli_api_car_block_fn on_block, void *cls);

/* ---- what cli_api.c and cli_api_conn.c share ---- */

/* <repo>/api.url, the daemon's base URL, appended to out. */
int cli_api_url(struct buf *out, const char *repo);

/* A failed answer's status and body as the efs error (above). */
int cli_api_error(long status, const struct buf *body);

/* A transport failure rc (message set): say it is the daemon that does
 * not answer. */
int cli_api_unreachable(int rc);

#endif
