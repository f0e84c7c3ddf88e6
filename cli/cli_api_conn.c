/*
 * cli_api_conn.c - one connection to the daemon holding the repository,
 * for the commands that read blocks and stream bytes through it
 * (cli_api.h): streamed GETs, blocks as a blockio_source, streamed
 * uploads.
 *
 * Design notes:
 * - libcurl directly rather than net/httpc.h: a read of a big DAG makes
 *   a request per block, so one easy handle is kept and reused (its
 *   connection stays open), a streamed answer must reach stdout only
 *   once its status is known to be 2xx (the write callback asks curl
 *   for the status before handing on the first bytes), and an upload
 *   is read from a callback as it is sent (chunked).  httpc_do can do
 *   none of the three; its guards are kept: no proxy, http and https
 *   only, no redirects (curl's default), no signals.
 * - No whole-request timeout: a cat of a big file, or a block the
 *   daemon fetches back from a storage provider, may take long.  A
 *   connection that moves no byte for CONN_STALL_S seconds is given up.
 * - An answer that is not 2xx is the route's one JSON error object,
 *   kept (capped) and turned into the efs error by cli_api_error.
 */
#include "cli/cli_api.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "api/api_token.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/car.h"
#include "core/cid.h"
#include "core/dagreader.h"
#include "core/error.h"
#include "core/varint.h"

#include "core/banned.h"

#define CONN_CONNECT_TIMEOUT_MS 5000L
#define CONN_STALL_S		600L
/* An error answer's body kept, at most. */
#define CONN_ERROR_MAX ((size_t)64 << 10)

struct cli_api_conn {
	CURL *curl;
	struct buf url; /* "http://HOST:PORT", then a path */
	size_t base_len;
	char auth[32 + API_TOKEN_SIZE]; /* "Authorization: Bearer ..." */
	struct buf block;		/* the source's scratch */
};

int cli_api_conn_open(struct cli_api_conn **out, const char *repo)
{
	struct cli_api_conn *c = efs_calloc(1, sizeof(*c));
	char tok[API_TOKEN_SIZE];
	int rc;

	*out = NULL;
	if (!c)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	c->url = (struct buf)BUF_INIT(4096 + 256);
	c->block = (struct buf)BUF_INIT(DAGREADER_BLOCK_MAX + CONN_ERROR_MAX);
	if ((rc = cli_api_url(&c->url, repo)) < 0 ||
	    (rc = api_token_read(tok, repo)) < 0)
		goto fail;
	c->base_len = c->url.len;
	snprintf(c->auth, sizeof(c->auth), "Authorization: Bearer %s", tok);
	explicit_bzero(tok, sizeof(tok));
	if (!(c->curl = curl_easy_init())) {
		rc = efs_error_set(EFS_ENOMEM, "out of memory (curl)");
		goto fail;
	}
	*out = c;
	return 0;
fail:
	cli_api_conn_free(c);
	return rc;
}

void cli_api_conn_free(struct cli_api_conn *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	explicit_bzero(c->auth, sizeof(c->auth));
	buf_release(&c->url);
	buf_release(&c->block);
	efs_free(c);
}

/* ---- one request ---- */

/* The token's header, then lines (NULL-ended, or NULL), as curl's
 * list; NULL when out of memory. */
static struct curl_slist *headers_new(const struct cli_api_conn *c,
				      const char *const *lines)
{
	struct curl_slist *l = curl_slist_append(NULL, c->auth), *t;

	for (size_t i = 0; l && lines && lines[i]; i++) {
		if (!(t = curl_slist_append(l, lines[i])))
			curl_slist_free_all(l);
		l = t;
	}
	return l;
}

struct xfer {
	CURL *curl;
	httpc_sink_fn sink;
	void *sink_cls;
	long status;	/* 0 until the first body bytes */
	struct buf err; /* a non-2xx answer's body */
	int sink_rc;	/* the sink's error, or 0 */
	cli_api_read_fn read;
	void *read_cls;
	int read_rc; /* the reader's error, or 0 */
};

static bool ok_status(long status)
{
	return status >= 200 && status < 300;
}

static size_t xfer_write(char *data, size_t size, size_t n, void *cls)
{
	struct xfer *x = cls;
	size_t len = size * n;

	if (!x->status)
		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &x->status);
	if (!ok_status(x->status)) {
		/* a longer error body is cut: its start says enough */
		buf_add(&x->err, data, len);
		return len;
	}
	if (!x->sink)
		return len;
	if ((x->sink_rc = x->sink(x->sink_cls, (const uint8_t *)data, len)))
		return 0;
	return len;
}

static size_t xfer_read(char *buf, size_t size, size_t n, void *cls)
{
	struct xfer *x = cls;
	long got = x->read(x->read_cls, (uint8_t *)buf, size * n);

	if (got < 0) {
		x->read_rc = (int)got;
		return CURL_READFUNC_ABORT;
	}
	return (size_t)got;
}

/* Perform the request set on c->curl (method, body); the status and any
 * error body in x. */
static int xfer_run(struct cli_api_conn *c, struct xfer *x, const char *path,
		    struct curl_slist *hdrs)
{
	CURLcode cc;
	int rc;

	c->url.len = c->base_len;
	if ((rc = buf_printf(&c->url, "%s%c", path, '\0')) < 0)
		return rc;
	curl_easy_setopt(c->curl, CURLOPT_URL, (const char *)c->url.ptr);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c->curl, CURLOPT_PROXY, "");
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS,
			 CONN_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_TIME, CONN_STALL_S);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, xfer_write);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, x);
	x->curl = c->curl;
	cc = curl_easy_perform(c->curl);
	if (!x->status)
		curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &x->status);
	if (x->sink_rc)
		return x->sink_rc;
	if (x->read_rc)
		return x->read_rc;
	if (x->status && !ok_status(x->status))
		/* the answer is the error, even when the upload broke off */
		return cli_api_error(x->status, &x->err);
	if (cc == CURLE_OK)
		return 0;
	rc = cc == CURLE_OPERATION_TIMEDOUT ? EFS_ETIMEDOUT : EFS_EIO;
	if (x->status) {
		/* 2xx, and then it stopped: what was sent is short */
		return efs_error_set(rc,
				     "the daemon's answer to %s stopped "
				     "short (%s)",
				     path, curl_easy_strerror(cc));
	}
	efs_error_set(rc, "%s", curl_easy_strerror(cc));
	return cli_api_unreachable(rc);
}

int cli_api_get(struct cli_api_conn *c, const char *path,
		const char *const *headers, httpc_sink_fn sink, void *cls)
{
	struct xfer x = {
	    .sink = sink, .sink_cls = cls, .err = BUF_INIT(CONN_ERROR_MAX)};
	struct curl_slist *hdrs = headers_new(c, headers);
	int rc;

	if (!hdrs)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	curl_easy_reset(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
	rc = xfer_run(c, &x, path, hdrs);
	curl_slist_free_all(hdrs);
	buf_release(&x.err);
	return rc;
}

/* ---- streamed uploads ---- */

static int keep_body(void *cls, const uint8_t *data, size_t len)
{
	return buf_add(cls, data, len) == EFS_ETOOBIG
		   ? efs_error_set(EFS_ECORRUPT, "the daemon's answer is "
						 "longer than it can be")
		   : 0;
}

/*
 * An upload that broke off before any answer: a daemon that refuses a
 * request (401) answers at once and closes, and curl, still sending,
 * may see only the broken connection.  A cheap request with the same
 * token (the identity block of no bytes) then says whether that was
 * the refusal; else the upload's own error stands.
 */
static int upload_why(struct cli_api_conn *c, int rc)
{
	struct efs_error_state err;
	int again;

	efs_error_save(&err);
	again = cli_api_get(c, "/cli/block/bafkqaaa", NULL, NULL, NULL);
	if (again < 0 && again != EFS_EIO && again != EFS_ETIMEDOUT)
		return again;
	efs_error_restore(&err);
	return rc;
}

int cli_api_post_stream(json_t **out, struct cli_api_conn *c, const char *path,
			const char *ctype, cli_api_read_fn fn, void *cls)
{
	struct buf body = BUF_INIT(CONN_ERROR_MAX);
	struct xfer x = {.sink = keep_body,
			 .sink_cls = &body,
			 .read = fn,
			 .read_cls = cls,
			 .err = BUF_INIT(CONN_ERROR_MAX)};
	char type[128];
	const char *const lines[] = {type, "Transfer-Encoding: chunked",
				     "Expect:", NULL};
	struct curl_slist *hdrs;
	int rc = 0;

	*out = NULL;
	snprintf(type, sizeof(type), "Content-Type: %s", ctype);
	if (!(hdrs = headers_new(c, lines))) {
		rc = efs_error_set(EFS_ENOMEM, "out of memory");
		goto out;
	}
	curl_easy_reset(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(c->curl, CURLOPT_READFUNCTION, xfer_read);
	curl_easy_setopt(c->curl, CURLOPT_READDATA, &x);
	if ((rc = xfer_run(c, &x, path, hdrs)) < 0) {
		if (!x.status && !x.read_rc && !x.sink_rc)
			rc = upload_why(c, rc);
		goto out;
	}
	*out = json_loadb((const char *)body.ptr, body.len, 0, NULL);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		rc = efs_error_set(EFS_ECORRUPT,
				   "the daemon's answer to %s "
				   "is not JSON",
				   path);
	}
out:
	curl_slist_free_all(hdrs);
	buf_release(&x.err);
	buf_release(&body);
	return rc;
}

/* ---- blocks ---- */

static int source_get(void *payload, const struct cid *id, struct buf *out)
{
	struct cli_api_conn *c = payload;
	char path[sizeof("/cli/block/") + CID_STR_MAX];
	char s[CID_STR_MAX];
	int rc;

	if (cid_is_identity(id))
		return buf_add(out, id->digest, id->digest_len);
	snprintf(path, sizeof(path), "/cli/block/%s", cid_tostr(s, id));
	buf_reset(&c->block);
	if ((rc = cli_api_get(c, path, NULL, keep_body, &c->block)) < 0)
		return rc;
	/* the daemon checked it; so does every reader of a source */
	if ((rc = cid_verify(id,
			     c->block.ptr ? c->block.ptr : (const uint8_t *)"",
			     c->block.len)) < 0)
		return rc;
	return buf_add(out, c->block.ptr, c->block.len);
}

struct blockio_source cli_api_source(struct cli_api_conn *c)
{
	struct blockio_source s = {source_get, c};

	return s;
}

/* ---- CARs ---- */

/*
 * The sections of a CARv1 stream as it passes: each block's CID and the
 * offset of its section, without keeping its bytes.  A section is
 * varint(len) CID data: the varint is read a byte at a time, then as
 * much of the section as a CID can take, the rest passed over.
 */
enum split_state { SPLIT_LEN, SPLIT_HEAD, SPLIT_SKIP };

struct car_split {
	cli_api_car_block_fn on_block;
	void *cls;
	enum split_state st;
	uint64_t off; /* the current section's offset */
	uint8_t var[10];
	size_t nvar;
	uint64_t len; /* the section's length after var */
	uint8_t head[CID_BYTES_MAX];
	size_t nhead, want;
	uint64_t skip;
	bool in_blocks; /* the header section is behind */
};

static int split_corrupt(const struct car_split *sp)
{
	return efs_error_set(EFS_ECORRUPT,
			     "car: bad section length at byte "
			     "%" PRIu64 " of the daemon's CAR",
			     sp->off);
}

/* The section's head is in: its CID to on_block (not the header's). */
static int split_head(struct car_split *sp)
{
	struct cid id;
	size_t used;
	int rc;

	sp->skip = sp->len - sp->nhead;
	sp->st = SPLIT_SKIP;
	if (!sp->in_blocks)
		return 0;
	if ((rc = cid_from_bytes(&id, &used, sp->head, sp->nhead)) < 0)
		return rc;
	return sp->on_block(sp->cls, &id, sp->off);
}

static int split_add(struct car_split *sp, const uint8_t *p, size_t len)
{
	size_t n;
	int rc;

	while (len) {
		if (sp->st == SPLIT_LEN) {
			if (sp->nvar == sizeof(sp->var))
				return split_corrupt(sp);
			sp->var[sp->nvar++] = *p;
			n = 1;
			if (!(*p & 0x80)) {
				if (varint_decode(&sp->len, &n, sp->var,
						  sp->nvar) < 0 ||
				    !sp->len)
					return split_corrupt(sp);
				n = 1;
				sp->nhead = 0;
				sp->want = sp->len < sizeof(sp->head)
					       ? (size_t)sp->len
					       : sizeof(sp->head);
				sp->st = SPLIT_HEAD;
			}
		} else if (sp->st == SPLIT_HEAD) {
			n = sp->want - sp->nhead < len ? sp->want - sp->nhead
						       : len;
			memcpy(sp->head + sp->nhead, p, n);
			sp->nhead += n;
			if (sp->nhead == sp->want && (rc = split_head(sp)) < 0)
				return rc;
		} else {
			n = sp->skip < len ? (size_t)sp->skip : len;
			sp->skip -= n;
		}
		p += n;
		len -= n;
		if (sp->st == SPLIT_SKIP && !sp->skip) {
			sp->off += sp->nvar + sp->len;
			sp->nvar = 0;
			sp->in_blocks = true;
			sp->st = SPLIT_LEN;
		}
	}
	return 0;
}

struct car_xfer {
	httpc_sink_fn sink;
	void *cls;
	struct car_split split;
	bool failed; /* the error is the sink's */
};

static int car_sink(void *cls, const uint8_t *data, size_t len)
{
	struct car_xfer *cx = cls;
	int rc = 0;

	if (cx->split.on_block)
		rc = split_add(&cx->split, data, len);
	if (rc == 0)
		rc = cx->sink(cx->cls, data, len);
	cx->failed = rc < 0;
	return rc;
}

static int discard(void *payload, const uint8_t *data, size_t len)
{
	(void)payload;
	(void)data;
	(void)len;
	return 0;
}

/* Walk root's DAG through c's blocks as car export does, to find the
 * error a stream of it met.  0 when the walk goes through. */
static int car_replay(struct cli_api_conn *c, const struct cid *root)
{
	struct blockio_source src = cli_api_source(c);
	struct car_writer *w;
	int rc;

	if ((rc = car_writer_new_cb(&w, discard, NULL)) < 0)
		return rc;
	rc = car_write_dag(w, &src, root, NULL, NULL);
	car_writer_free(w);
	return rc;
}

int cli_api_car(struct cli_api_conn *c, const struct cid *root,
		httpc_sink_fn sink, cli_api_car_block_fn on_block, void *cls)
{
	struct car_xfer cx = {.sink = sink,
			      .cls = cls,
			      .split = {.on_block = on_block, .cls = cls}};
	char path[64 + CID_STR_MAX], s[CID_STR_MAX];
	const char *const accept[] = {"Accept: application/vnd.ipld.car", NULL};
	struct efs_error_state err;
	int rc, again;

	snprintf(path, sizeof(path), "/ipfs/%s?format=car&dag-scope=all",
		 cid_tostr(s, root));
	rc = cli_api_get(c, path, accept, car_sink, &cx);
	if (rc == 0 && (cx.split.st != SPLIT_LEN || cx.split.nvar))
		rc = efs_error_set(EFS_EIO,
				   "the daemon's CAR of %s ends in "
				   "the middle of a section",
				   s);
	if (rc == 0 || cx.failed)
		return rc;
	/* the gateway says 404, or cut the stream: the walk says why as
	 * the command says it without a daemon */
	efs_error_save(&err);
	if ((again = car_replay(c, root)) < 0)
		return again;
	efs_error_restore(&err);
	return rc;
}
