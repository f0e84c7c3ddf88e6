/*
 * api_cli.c - the routes the estuaryfs command uses while a daemon holds
 * the repository (cli/cli_api.h), where no route of the public API fits:
 *
 *	GET  /cli/block/{cid}   READ   one block, verified, with its error
 *	                               as the efs code's name
 *	POST /fsck              ADMIN  bstore_fsck on the daemon's store
 *	                               {"quick","repair"} -> the report
 *
 * Design notes:
 * - The gateway's ?format=raw serves blocks too, but its errors are
 *   those of a web gateway: a corrupt block and a full disk are both
 *   500 INTERNAL.  The CLI must exit as it would without a daemon (4
 *   for corrupt data, 3 for a missing block...), so /cli/block/ names
 *   the efs code ("ECORRUPT") in its error's reason.  Its blocks come
 *   through the gateway's source: Case A at once, Case B (evicted or
 *   absent blocks) fetched by the retriever, every block re-hashed.
 * - /fsck runs on the connection's thread and answers when done: the
 *   check has no progress to stream and cannot be cancelled halfway.
 *   It holds the store's writer lock while it runs (bstore.h), so the
 *   daemon's writes wait at their next sync.
 */
#define LOG_TOPIC "api"

#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include <jansson.h>

#include "api/api_gateway_i.h"
#include "api/api_i.h"
#include "core/alloc.h"
#include "core/bstore.h"
#include "core/buf.h"
#include "core/cid.h"
#include "core/dagreader.h"
#include "core/error.h"
#include "net/http.h"

#include "core/banned.h"

#define BLOCK_PREFIX "/cli/block/"

/* ---- GET /cli/block/{cid} ---- */

static unsigned block_status(int rc)
{
	switch (rc) {
	case EFS_ENOTFOUND:
		return 404;
	case EFS_EINVAL:
		return 400;
	case EFS_EEVICTED:
	case EFS_ECANCELED:
		return 503;
	case EFS_ETIMEDOUT:
		return 504;
	case EFS_EIO:
		return 502;
	default:
		return 500;
	}
}

static void route_block(struct http_req *req, struct api_server *s)
{
	const char *arg = http_req_path(req) + strlen(BLOCK_PREFIX);
	struct buf b = BUF_INIT(DAGREADER_BLOCK_MAX);
	struct gw_src *src = NULL;
	struct bstore *bs;
	struct cid id;
	int rc;

	if (cid_parse(&id, arg) < 0) {
		api_reply_error(req, 400, efs_error_name(EFS_EINVAL),
				"'%s' is not a CID", arg);
		return;
	}
	if (!(bs = api_need_bstore(req, s)))
		return;
	if (!(src = api_gateway_src_new(s, bs, atomic_load(&s->retr)))) {
		api_reply_error(req, 500, efs_error_name(EFS_ENOMEM),
				"out of memory");
		return;
	}
	if ((rc = blockio_fetch(&src->io, &id, &b)) < 0)
		api_reply_error(req, block_status(rc), efs_error_name(rc), "%s",
				efs_error_msg());
	else
		http_reply(req, 200, "application/vnd.ipld.raw",
			   b.ptr ? b.ptr : (const uint8_t *)"", b.len);
	buf_release(&b);
	api_gateway_src_free(src);
}

/* ---- POST /fsck ---- */

static json_t *fsck_json(const struct bstore_fsck_report *r)
{
	json_t *v = json_pack(
	    "{s:I,s:{s:I,s:I,s:I},s:I,s:I,s:I,s:I,s:I,s:[]}", "blocks",
	    (json_int_t)r->blocks, "by_state", "local",
	    (json_int_t)r->by_state[BSTORE_LOCAL], "evicted",
	    (json_int_t)r->by_state[BSTORE_EVICTED], "absent",
	    (json_int_t)r->by_state[BSTORE_ABSENT], "bytes_read",
	    (json_int_t)r->bytes_read, "pins", (json_int_t)r->pins, "packs",
	    (json_int_t)r->packs, "problems", (json_int_t)r->problems,
	    "repaired", (json_int_t)r->repaired, "listed");
	json_t *list = json_object_get(v, "listed");
	char s[CID_STR_MAX];

	for (size_t i = 0; v && i < r->nlisted; i++) {
		const struct bstore_problem *p = &r->listed[i];
		json_t *e =
		    json_pack("{s:s,s:s}", "kind", bstore_problem_name(p->kind),
			      "msg", p->msg);

		if (e && p->id.digest_len &&
		    json_object_set_new(
			e, "cid", json_string(cid_tostr(s, &p->id))) < 0) {
			json_decref(e);
			e = NULL;
		}
		if (!e || json_array_append_new(list, e) < 0) {
			json_decref(v);
			return NULL;
		}
	}
	return v;
}

static bool flag(const json_t *args, const char *name)
{
	return json_is_true(json_object_get(args, name));
}

static void route_fsck(struct http_req *req, struct api_server *s)
{
	static const char *const known[] = {"quick", "repair"};
	struct bstore_fsck_report *r;
	const uint8_t *body;
	json_t *args, *v;
	const char *key;
	unsigned flags = 0;
	struct bstore *bs;
	size_t len;
	int rc;

	body = http_req_body(req, &len);
	args =
	    len ? json_loadb((const char *)body, len, 0, NULL) : json_object();
	if (!json_is_object(args)) {
		json_decref(args);
		api_reply_error(req, 400, "BAD_REQUEST",
				"the body is not a JSON object");
		return;
	}
	json_object_foreach(args, key, v)
	{
		if (strcmp(key, known[0]) && strcmp(key, known[1])) {
			api_reply_error(req, 400, "BAD_REQUEST",
					"unknown field \"%s\" (quick, repair)",
					key);
			json_decref(args);
			return;
		}
	}
	flags |= flag(args, "quick") ? BSTORE_FSCK_NO_DATA : 0;
	flags |= flag(args, "repair") ? BSTORE_FSCK_REPAIR : 0;
	json_decref(args);
	if (!(bs = api_need_bstore(req, s)))
		return;
	/* a report is some 6 KiB: not on a connection thread's stack */
	if (!(r = efs_calloc(1, sizeof(*r)))) {
		api_reply_error(req, 500, "INTERNAL", "out of memory");
		return;
	}
	rc = bstore_fsck(r, bs, flags);
	api_reply_result(req, rc, rc == 0 ? fsck_json(r) : NULL);
	efs_free(r);
}

const struct api_route api_cli_routes[] = {
    {"GET", BLOCK_PREFIX, route_block, API_READ},
    {"POST", "/fsck", route_fsck, API_ADMIN},
};
const size_t api_cli_nroutes =
    sizeof(api_cli_routes) / sizeof(api_cli_routes[0]);
