/*
 * cli_api.h - the CLI as a client of the daemon's API (api/api_server.h).
 * A command that changes a repository which a daemon or a mount holds
 * (bstore_open says EFS_EEXISTS: the holder has its lock) sends its
 * request to that process instead: POST <api.url><path> with the bearer
 * token of <repo>/api.token (evict, pin, unpin, retrieve, gc).
 *
 * Errors, the same for every command:
 *   EFS_EIO     the holder serves no API (no api.url: a mount with
 *               -o nodaemon), or the daemon does not answer
 *   EFS_EINVAL  401: the daemon refused the token (or 400: a bad
 *               request, with the daemon's details)
 *   ENOTFOUND   404, with the daemon's details
 *   EFS_ECORRUPT the answer is not what the route sends
 * and api_token_read's.  Messages are one line, never quoting the
 * token.
 *
 * Owned by the one thread of the command; httpc_global_init must have
 * run.
 */
#ifndef EFS_CLI_CLI_API_H
#define EFS_CLI_CLI_API_H

#include <stddef.h>

#include <jansson.h>

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

#endif
