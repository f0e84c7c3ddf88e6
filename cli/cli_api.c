/*
 * cli_api.c - requests to the daemon that holds the repository
 * (cli_api.h).
 *
 * Design notes:
 * - The daemon's address is <repo>/api.url, written once its services
 *   are up and removed first when they stop; the token is the one it
 *   wrote to <repo>/api.token at start.  Both are read at each request,
 *   so a restarted daemon is found again.
 * - A streamed answer is cut into lines as it arrives.  The sink does
 *   not know the status yet, so it hands on every complete line; an
 *   error answer is one JSON object without a newline (net/http.h's
 *   http_reply_json), which stays in the pending line and becomes the
 *   error once the status is known.
 * - The 401 message says what to do, never the token.
 */
#include "cli/cli_api.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_token.h"
#include "cli/cli_i.h"
#include "core/alloc.h"
#include "core/bstore.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/fdio.h"
#include "net/httpc.h"

#include "core/banned.h"

int cli_api_url(struct buf *out, const char *repo)
{
	struct buf path = BUF_INIT(BUF_NOCAP);
	int rc = buf_printf(&path, "%s/api.url%c", repo, '\0');

	if (rc == 0)
		rc = fdio_read_file(out, (const char *)path.ptr);
	if (rc == EFS_ENOTFOUND)
		rc = efs_error_set(EFS_EIO, "the repository is in use by a "
				   "process that serves no API (a mount with "
				   "-o nodaemon?): unmount it, or mount with "
				   "the daemon");
	while (rc == 0 && out->len && strchr("\n ", out->ptr[out->len - 1]))
		out->ptr[--out->len] = '\0';
	buf_release(&path);
	return rc;
}

/* The efs code a reason names ("ECORRUPT"; POST /car/import's
 * "BAD_CAR" is the CAR reader's ECORRUPT), or 0 when it names none. */
static int reason_code(const json_t *reason)
{
	const char *r = json_string_value(reason);

	if (r && strcmp(r, "BAD_CAR") == 0)
		return EFS_ECORRUPT;
	for (int code = EFS_ERROR; r && code >= EFS_ERANGE; code--)
		if (strcmp(r, efs_error_name(code)) == 0)
			return code;
	return 0;
}

int cli_api_error(long status, const struct buf *body)
{
	json_t *v = json_loadb((const char *)body->ptr, body->len, 0, NULL);
	json_t *e = json_object_get(v, "error");
	json_t *d = json_object_get(e, "details");
	int code = reason_code(json_object_get(e, "reason"));
	char msg[1024];

	snprintf(msg, sizeof(msg), "%s",
		 json_is_string(d) ? json_string_value(d) : "no details");
	json_decref(v);
	/* the routes that name the code send the message as it was */
	if (code && status != 401)
		return efs_error_set(code, "%s", msg);
	if (status == 401)
		return efs_error_set(EFS_EINVAL, "the daemon refused the "
				     "token of api.token (was it restarted "
				     "meanwhile? try again)");
	code = status == 404 ? EFS_ENOTFOUND
	       : status == 400 ? EFS_EINVAL : EFS_EIO;
	return efs_error_set(code, "%s (the daemon answered %ld)", msg,
			     status);
}

int cli_api_unreachable(int rc)
{
	struct efs_error_state err;

	efs_error_save(&err);
	if (rc == EFS_ENOMEM)
		return rc;
	return efs_error_set(rc == EFS_ETIMEDOUT ? rc : EFS_EIO,
			     "the daemon holding the repository does not "
			     "answer (%s)", err.msg);
}

/* POST body to the daemon; the answer as req's sink or resp say.
 * *transport: the error (if any) is httpc_do's. */
static int post(struct httpc_resp *resp, bool *transport,
		struct httpc_req *req, const char *repo, const char *path,
		const json_t *body)
{
	char tok[API_TOKEN_SIZE], auth[32 + API_TOKEN_SIZE];
	const char *headers[] = { auth, "Content-Type: application/json",
				  NULL };
	struct buf url = BUF_INIT(4096);
	char *dumped = NULL;
	int rc;

	memset(resp, 0, sizeof(*resp));
	*transport = false;
	if ((rc = cli_api_url(&url, repo)) < 0 ||
	    (rc = api_token_read(tok, repo)) < 0 ||
	    (rc = buf_printf(&url, "%s%c", path, '\0')) < 0)
		goto out;
	if (body && !(dumped = json_dumps(body, JSON_COMPACT))) {
		rc = efs_error_set(EFS_ENOMEM, "out of memory");
		goto out;
	}
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
	req->method = "POST";
	req->url = (const char *)url.ptr;
	req->headers = headers;
	req->body = dumped ? dumped : "{}";
	req->body_len = strlen(req->body);
	if ((rc = httpc_do(resp, req)) < 0)
		*transport = true;
out:
	explicit_bzero(tok, sizeof(tok));
	explicit_bzero(auth, sizeof(auth));
	free(dumped);
	buf_release(&url);
	return rc;
}

int cli_api_post(json_t **out, const char *repo, const char *path,
		 const json_t *body, unsigned timeout_ms)
{
	struct httpc_req req = HTTPC_REQ_INIT("POST", NULL);
	struct httpc_resp resp;
	bool transport;
	int rc;

	*out = NULL;
	req.timeout_ms = timeout_ms;
	rc = post(&resp, &transport, &req, repo, path, body);
	if (rc < 0 && transport)
		rc = cli_api_unreachable(rc);
	else if (rc == 0 && resp.status != 200)
		rc = cli_api_error(resp.status, &resp.body);
	if (rc == 0) {
		*out = json_loadb((const char *)resp.body.ptr, resp.body.len,
				  0, NULL);
		if (!json_is_object(*out)) {
			json_decref(*out);
			*out = NULL;
			rc = efs_error_set(EFS_ECORRUPT, "the daemon's answer "
					   "is not JSON");
		}
	}
	httpc_resp_release(&resp);
	return rc;
}

/* ---- streamed answers ---------------------------------------------- */

struct lines {
	cli_api_line_fn fn;
	void *cls;
	struct buf pending;          /* the line arriving (capped) */
	bool failed;                 /* the error is the sink's */
};

static int lines_cut(struct lines *l, const uint8_t *data, size_t len)
{
	const uint8_t *nl;
	size_t n;
	int rc;

	while (len) {
		nl = memchr(data, '\n', len);
		n = nl ? (size_t)(nl - data) : len;
		if ((rc = buf_add(&l->pending, data, n)) == EFS_ETOOBIG)
			return efs_error_set(EFS_ECORRUPT, "the daemon's "
					     "answer has a line over %zu bytes",
					     CLI_API_LINE_MAX);
		if (rc < 0)
			return rc;
		data += n;
		len -= n;
		if (!nl)
			break;
		data++;
		len--;
		rc = l->fn(l->cls, l->pending.ptr ? (const char *)l->pending.ptr
						  : "", l->pending.len);
		buf_reset(&l->pending);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int lines_sink(void *cls, const uint8_t *data, size_t len)
{
	struct lines *l = cls;
	int rc = lines_cut(l, data, len);

	l->failed = rc < 0;
	return rc;
}

int cli_api_post_lines(const char *repo, const char *path,
		       const json_t *body, unsigned timeout_ms,
		       cli_api_line_fn fn, void *cls)
{
	struct lines l = { fn, cls, BUF_INIT(CLI_API_LINE_MAX), false };
	struct httpc_req req = HTTPC_REQ_INIT("POST", NULL);
	struct httpc_resp resp;
	bool transport;
	int rc;

	req.timeout_ms = timeout_ms;
	req.sink = lines_sink;
	req.sink_cls = &l;
	rc = post(&resp, &transport, &req, repo, path, body);
	if (rc < 0 && transport && !l.failed)
		rc = cli_api_unreachable(rc);
	else if (rc == 0 && resp.status != 200)
		rc = cli_api_error(resp.status, &l.pending);
	else if (rc == 0 && l.pending.len)
		rc = efs_error_set(EFS_ECORRUPT, "the daemon's answer ended "
				   "in the middle of a line");
	httpc_resp_release(&resp);
	buf_release(&l.pending);
	return rc;
}

int cli_api_at(cli_api_at_fn fn, void *cls)
{
	struct cli_api_where w = { 0 };
	char *repo = NULL;
	int rc;

	if ((rc = httpc_global_init()) < 0 || (rc = cli_repo_dir(&repo)) < 0)
		goto out;
	w.repo = repo;
	rc = bstore_open(&w.bs, repo, NULL);
	if (rc == EFS_EEXISTS) {
		efs_error_clear();
		w.bs = NULL;
		if ((rc = cli_api_conn_open(&w.conn, repo)) == 0) {
			w.src = cli_api_source(w.conn);
			rc = fn(&w, cls);
		}
		cli_api_conn_free(w.conn);
	} else if (rc == 0) {
		w.src = bstore_source(w.bs);
		rc = cli_repo_close(w.bs, fn(&w, cls));
	}
out:
	efs_free(repo);
	return rc;
}

/* cli_api_run's work, at the place cli_api_at chose. */
struct run {
	json_t **out;
	const struct cli_api_work *w;
};

static int run_at(const struct cli_api_where *where, void *cls)
{
	struct run *r = cls;

	if (where->bs)
		return r->w->here(r->out, where->bs, where->repo, r->w->cls);
	return r->w->daemon(r->out, where->repo, r->w->cls);
}

int cli_api_run(json_t **out, const struct cli_api_work *w)
{
	struct run r = { out, w };
	int rc;

	*out = NULL;
	if ((rc = cli_api_at(run_at, &r)) < 0) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}
