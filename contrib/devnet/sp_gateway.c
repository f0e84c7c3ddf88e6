/*
 * sp_gateway.c - GET|HEAD /ipfs/{cid}[/path]: the IPFS trustless gateway
 * as Curio serves it, through frisbii (ipld/frisbii httpipfs.go) and the
 * request rules of go-trustless-utils (http/parse.go, types.go):
 *
 * - the response format comes from ?format=car|raw, which wins over the
 *   Accept header (IPIP-523); car-version, car-order and car-dups query
 *   parameters override the CAR parameters of Accept; dups defaults to
 *   y; the wildcards "* / *" and "application / *" (without the
 *   blanks) mean a CAR;
 * - ?dag-scope=all|entity|block (default all); ?entity-bytes=from:to
 *   (to inclusive, "*" = end, negatives count from the end) applies
 *   when dag-scope=entity, as frisbii's selector does;
 * - ?filename=x.car|x.bin names the attachment;
 * - bafkqaaa (the empty identity CID) is the probe: 200, an empty raw
 *   body or a CAR with only its header;
 * - a root block the SP does not hold sealed is 404 "ipld: could not
 *   find <cid>"; bad requests are 400 with frisbii's message; methods
 *   other than GET and HEAD 405.
 *
 * Replies carry frisbii's headers: Content-Type with the CAR
 * parameters, Content-Disposition attachment, Cache-Control immutable,
 * a weak Etag W/"<cid>.car.<hash>" (FNV-1a here where frisbii uses
 * xxhash: the value is opaque), X-Ipfs-Path, X-Ipfs-Roots (no path),
 * Content-Location when the format came from Accept (rebuilt from the
 * parameters we know: the raw query string is not at hand), Vary,
 * X-Content-Type-Options nosniff, and Accept-Ranges none for CARs.
 *
 * CARs are streamed (chunked) from sp_carwalk.c, raw blocks sent from
 * memory (a block is at most CAR_SECTION_MAX).  The corrupt and
 * truncate faults flip a byte in each block / cut the reply short.
 */
#include "contrib/devnet/sp_i.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contrib/devnet/sp_parse.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/mhash.h"
#include "net/http.h"

#include "core/banned.h"

#define GW_CACHE_CONTROL "public, max-age=29030400, immutable"
/* Longest path below the CID we accept (segments are resolved). */
#define GW_PATH_MAX 4096
/* Accept entries looked at. */
#define GW_ACCEPT_MAX 16

struct gw_req {
	struct cid root;
	char path[GW_PATH_MAX];   /* below the CID, "" or "a/b" */
	struct sp_ctype ct;          /* the negotiated format */
	bool negotiated;          /* from Accept, not ?format= */
	enum sp_scope scope;
	bool range_given;         /* entity-bytes given and not 0:* */
	int64_t from, to;
	bool to_set;
	char filename[512];
	char err[600];            /* why the request is bad */
};

/* The query parameters CheckFormat validates, in its order. */
static const struct {
	const char *name;
	const char *ok[2];
} format_params[] = {
	{ "format", { "car", "raw" } },
	{ "car-order", { "dfs", "unk" } },
	{ "car-dups", { "y", "n" } },
	{ "car-version", { "1", NULL } },
};

static bool check_format_params(struct gw_req *r, struct http_req *req)
{
	for (size_t i = 0; i < sizeof(format_params) / sizeof(format_params[0]);
	     i++) {
		const char *v = http_req_query(req, format_params[i].name);
		const char *const *ok = format_params[i].ok;

		if (v && *v && strcmp(v, ok[0]) &&
		    (!ok[1] || strcmp(v, ok[1]))) {
			snprintf(r->err, sizeof(r->err),
				 "invalid %s parameter; unsupported: \"%s\"",
				 format_params[i].name, v);
			return false;
		}
	}
	return true;
}

/*
 * CheckFormat: the first of the acceptable formats into r->ct, or false
 * with r->err.  The acceptable formats go to accepts (ParseFilename
 * looks at them): the one ?format= names, else all of Accept.
 */
static bool check_format(struct gw_req *r, struct http_req *req,
			 struct sp_ctype *accepts, size_t *naccepts)
{
	const char *format = http_req_query(req, "format");
	const char *order = http_req_query(req, "car-order");
	const char *dups = http_req_query(req, "car-dups");
	const char *accept = http_req_header(req, "Accept");
	bool given = format && *format;
	size_t n = 0;

	*naccepts = 0;
	if (!check_format_params(r, req))
		return false;
	if (accept && *accept &&
	    !(n = sp_parse_accept(accepts, GW_ACCEPT_MAX, accept)) && !given) {
		snprintf(r->err, sizeof(r->err),
			 "invalid Accept header; unsupported: \"%s\"", accept);
		return false;
	}
	r->ct = sp_parse_ctype_default();
	if (given && !strcmp(format, "raw")) {
		r->ct.raw = true;
	} else if (given) {
		/* A CAR, with the CAR parameters of Accept if it has some. */
		for (size_t i = 0; i < n; i++)
			if (accepts[i].exact_car) {
				r->ct = accepts[i];
				r->ct.q = 1;
				break;
			}
		r->ct.exact_car = true;
	} else if (n) {
		r->ct = accepts[0];
		r->negotiated = true;
	} else {
		snprintf(r->err, sizeof(r->err),
			 "neither a valid Accept header nor format parameter"
			 " were provided");
		return false;
	}
	if (!r->ct.raw && order && *order)
		r->ct.unk = !strcmp(order, "unk");
	if (!r->ct.raw && dups && *dups)
		r->ct.dups = !strcmp(dups, "y");
	if (given) {
		accepts[0] = r->ct;
		n = 1;
	}
	*naccepts = n;
	return true;
}

/* ParseFilename. */
static bool check_filename(struct gw_req *r, struct http_req *req,
			   const struct sp_ctype *accepts, size_t n)
{
	const char *f = http_req_query(req, "filename");
	const char *slash, *dot;
	bool car = false, raw = false;

	if (!f)
		return true;
	slash = strrchr(f, '/');
	dot = strrchr(slash ? slash : f, '.');
	for (size_t i = 0; i < n; i++) {
		car |= !accepts[i].raw;
		raw |= accepts[i].raw;
	}
	if (!dot) {
		snprintf(r->err, sizeof(r->err),
			 "invalid filename parameter; missing extension");
		return false;
	}
	if (!strcmp(dot, ".car") && !car) {
		snprintf(r->err, sizeof(r->err),
			 "invalid filename parameter; .car extension requires"
			 " CAR response format");
		return false;
	}
	if (!strcmp(dot, ".bin") && !raw) {
		snprintf(r->err, sizeof(r->err),
			 "invalid filename parameter; .bin extension requires"
			 " raw response format");
		return false;
	}
	if (strcmp(dot, ".car") && strcmp(dot, ".bin")) {
		snprintf(r->err, sizeof(r->err),
			 "invalid filename parameter; unsupported extension:"
			 " \"%s\"", dot);
		return false;
	}
	snprintf(r->filename, sizeof(r->filename), "%s", f);
	return true;
}

/* ParseScope and ParseByteRange. */
static bool check_scope(struct gw_req *r, struct http_req *req)
{
	const char *s = http_req_query(req, "dag-scope");
	const char *b = http_req_query(req, "entity-bytes");

	r->scope = SP_SCOPE_ALL;
	if (s && !strcmp(s, "entity"))
		r->scope = SP_SCOPE_ENTITY;
	else if (s && !strcmp(s, "block"))
		r->scope = SP_SCOPE_BLOCK;
	else if (s && strcmp(s, "all")) {
		snprintf(r->err, sizeof(r->err), "invalid dag-scope parameter");
		return false;
	}
	if (!b || !*b)
		return true;
	if (!sp_parse_entity_bytes(&r->from, &r->to, &r->to_set, b)) {
		snprintf(r->err, sizeof(r->err),
			 "invalid entity-bytes parameter");
		return false;
	}
	r->range_given = r->from != 0 || r->to_set;
	return true;
}

/* Past "/ipfs" and its slashes: where the CID should start. */
static const char *after_prefix(const char *p)
{
	while (*p == '/')
		p++;
	p += strlen("ipfs");
	while (*p == '/')
		p++;
	return p;
}

/* The CID and the path below it (empty segments dropped, as
 * datamodel.ParsePath drops them); false with r->err. */
static bool parse_path(struct gw_req *r, const char *p)
{
	char seg[CID_STR_MAX];
	const char *e;
	size_t len, used = 0;

	p = after_prefix(p);
	e = strchr(p, '/');
	len = e ? (size_t)(e - p) : strlen(p);
	if (len >= sizeof(seg))
		goto bad_cid;
	memcpy(seg, p, len);
	seg[len] = '\0';
	if (cid_parse(&r->root, seg) < 0)
		goto bad_cid;
	r->path[0] = '\0';
	for (p += len; *p; p += len) {
		while (*p == '/')
			p++;
		e = strchr(p, '/');
		len = e ? (size_t)(e - p) : strlen(p);
		if (!len)
			continue;
		if (used + len + 2 > sizeof(r->path)) {
			snprintf(r->err, sizeof(r->err), "path too long");
			return false;
		}
		used += (size_t)snprintf(r->path + used,
					 sizeof(r->path) - used, "%s%.*s",
					 used ? "/" : "", (int)len, p);
	}
	return true;
bad_cid:
	snprintf(r->err, sizeof(r->err), "failed to parse CID path parameter");
	return false;
}

/* ---- headers ---- */

static void ctype_str(char *out, size_t cap, const struct sp_ctype *ct)
{
	if (ct->raw)
		snprintf(out, cap, "%s", SP_MIME_RAW);
	else
		snprintf(out, cap, "%s;version=1;order=%s;dups=%s", SP_MIME_CAR,
			 ct->unk ? "unk" : "dfs", ct->dups ? "y" : "n");
}

/* Request.Etag("dfs"), with FNV-1a 64 in place of xxhash. */
static void etag(char *out, size_t cap, const struct gw_req *r)
{
	char cs[CID_STR_MAX], in[GW_PATH_MAX + 2 * CID_STR_MAX + 128];
	char digits[16];
	uint64_t h;
	int n, k = 0;

	cid_tostr(cs, &r->root);
	n = snprintf(in, sizeof(in), "/ipfs/%s%s%s", cs, r->path[0] ? "/" : "",
		     r->path);
	if (r->scope != SP_SCOPE_ALL)
		n += snprintf(in + n, sizeof(in) - (size_t)n, "%cscope=%s", 0,
			      r->scope == SP_SCOPE_BLOCK ? "block" : "entity");
	if (r->range_given)
		n += r->to_set
			     ? snprintf(in + n, sizeof(in) - (size_t)n,
					"%crange=%lld,%lld", 0,
					(long long)r->from, (long long)r->to)
			     : snprintf(in + n, sizeof(in) - (size_t)n,
					"%crange=%lld", 0, (long long)r->from);
	if (r->ct.dups)
		n += snprintf(in + n, sizeof(in) - (size_t)n, "%cdups=y", 0);
	h = mhash_fnv1a((const uint8_t *)in, (size_t)n);
	do {
		digits[k++] = "0123456789abcdefghijklmnopqrstuv"[h % 32];
		h /= 32;
	} while (h);
	n = snprintf(out, cap, "W/\"%s.car.", cs);
	while (k && (size_t)n + 2 < cap)
		out[n++] = digits[--k];
	snprintf(out + n, cap - (size_t)n, "\"");
}

/* Go's %q for the attachment name (escape quotes and controls). */
static void quote(char *out, size_t cap, const char *s)
{
	size_t n = 0;

	out[n++] = '"';
	for (; *s && n + 6 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			n += (size_t)snprintf(out + n, cap - n, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			n += (size_t)snprintf(out + n, cap - n, "\\x%02x", c);
		else
			out[n++] = (char)c;
	}
	snprintf(out + n, cap - n, "\"");
}

/* Content-Location: the request with format= added. */
static void content_location(char *out, size_t cap, struct http_req *req,
			     const struct gw_req *r)
{
	static const char *const keys[] = { "dag-scope", "entity-bytes",
					     "car-version", "car-order",
					     "car-dups", "filename" };
	int n = snprintf(out, cap, "%s", http_req_path(req));
	char sep = '?';

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = http_req_query(req, keys[i]);

		if (v && n >= 0 && (size_t)n < cap) {
			n += snprintf(out + n, cap - (size_t)n, "%c%s=%s", sep,
				      keys[i], v);
			sep = '&';
		}
	}
	if (n >= 0 && (size_t)n < cap)
		snprintf(out + n, cap - (size_t)n, "%cformat=%s", sep,
			 r->ct.raw ? "raw" : "car");
}

static void set_headers(struct http_req *req, const struct gw_req *r)
{
	char cs[CID_STR_MAX], name[600], disp[GW_PATH_MAX + 400];
	char buf[GW_PATH_MAX + 300];

	cid_tostr(cs, &r->root);
	if (!r->ct.raw)
		http_resp_header(req, "Accept-Ranges", "none");
	if (r->filename[0])
		snprintf(name, sizeof(name), "%s", r->filename);
	else
		snprintf(name, sizeof(name), "%s%s", cs,
			 r->ct.raw ? ".bin" : ".car");
	quote(buf, sizeof(buf), name);
	snprintf(disp, sizeof(disp), "attachment; filename=%s", buf);
	http_resp_header(req, "Content-Disposition", disp);
	http_resp_header(req, "Cache-Control", GW_CACHE_CONTROL);
	if (r->negotiated) {
		content_location(buf, sizeof(buf), req, r);
		http_resp_header(req, "Content-Location", buf);
	}
	if (!r->path[0])
		http_resp_header(req, "X-Ipfs-Roots", cs);
	etag(buf, sizeof(buf), r);
	http_resp_header(req, "Etag", buf);
	http_resp_header(req, "X-Content-Type-Options", "nosniff");
	snprintf(buf, sizeof(buf), "/ipfs/%s%s%s", cs, r->path[0] ? "/" : "",
		 r->path);
	http_resp_header(req, "X-Ipfs-Path", buf);
	http_resp_header(req, "Vary", "Accept, Accept-Encoding");
}

/* ---- replies ---- */

static void reply_error(struct http_req *req, unsigned status,
			const char *msg)
{
	http_reply(req, status, "text/plain; charset=utf-8", msg, strlen(msg));
}

/* A raw block, maybe damaged by the faults. */
struct mem_stream {
	uint8_t *p;
	size_t len;
	size_t cut;
};

static long mem_read(void *cls, uint64_t pos, uint8_t *buf, size_t max)
{
	struct mem_stream *m = cls;

	if (pos >= m->len)
		return HTTP_STREAM_END;
	if (pos >= m->cut)
		return HTTP_STREAM_ERROR;
	if (max > m->cut - pos)
		max = (size_t)(m->cut - pos);
	memcpy(buf, m->p + pos, max);
	return (long)max;
}

static void mem_free(void *cls)
{
	struct mem_stream *m = cls;

	efs_free(m->p);
	efs_free(m);
}

static void reply_raw(struct http_req *req, struct buf *block,
		      const struct devnet_fault *f, const char *ctype)
{
	struct mem_stream *m;

	if (f->corrupt_retrieval && block->len)
		block->ptr[block->len / 2] ^= 0xff;
	if (!f->truncate_retrieval || block->len < 2) {
		http_reply(req, 200, ctype, block->ptr, block->len);
		return;
	}
	if (!(m = efs_calloc(1, sizeof(*m)))) {
		reply_error(req, 500, "out of memory");
		return;
	}
	m->len = block->len;
	m->cut = block->len / 2;
	m->p = buf_detach(block, &m->len);
	http_reply_stream(req, 200, ctype, m->len, mem_read, m, mem_free);
}

static bool is_probe(const struct cid *id)
{
	return id->version == 1 && id->codec == CID_CODEC_RAW &&
	       id->hash == MHASH_IDENTITY && id->digest_len == 0;
}

static void serve_probe(struct http_req *req, const struct gw_req *r,
			const char *ctype)
{
	static const uint8_t probe_car[] = {
		/* varint 0x11, {"roots": [bafkqaaa], "version": 1} */
		0x11, 0xa2, 0x65, 'r', 'o', 'o', 't', 's', 0x81, 0xd8, 0x2a,
		0x45, 0x00, 0x01, 0x55, 0x00, 0x00, 0x67, 'v', 'e', 'r',
		's', 'i', 'o', 'n', 0x01,
	};
	bool head = !strcmp(http_req_method(req), "HEAD");

	if (head || r->ct.raw)
		http_reply(req, 200, ctype, "", 0);
	else
		http_reply(req, 200, ctype, probe_car, sizeof(probe_car));
}

static void serve_car(struct sp *sp, struct http_req *req,
		      const struct gw_req *r, struct db *db, const char *ctype,
		      const struct devnet_fault *f)
{
	struct sp_carwalk_opts o = {
		.scope = r->scope,
		.has_range = r->scope == SP_SCOPE_ENTITY && r->range_given,
		.from = r->from,
		.to = r->to,
		.to_set = r->to_set,
		.dups = r->ct.dups,
		.corrupt = f->corrupt_retrieval,
		.truncate = f->truncate_retrieval,
	};
	struct sp_carwalk *w;

	if (sp_carwalk_new(&w, sp, db, &r->root, r->path, &o) < 0) {
		reply_error(req, 500, efs_error_msg());
		return;
	}
	http_reply_stream(req, 200, ctype, HTTP_SIZE_UNKNOWN, sp_carwalk_read,
			  w, sp_carwalk_free);
}

static void serve_found(struct sp *sp, struct http_req *req,
			const struct gw_req *r, struct db *db)
{
	bool head = !strcmp(http_req_method(req), "HEAD");
	struct buf block = BUF_INIT(CAR_SECTION_MAX);
	struct sp_blocks blocks;
	char ctype[128], msg[CID_STR_MAX + 32], cs[CID_STR_MAX];
	struct devnet_fault f;
	int rc = 0;

	ctype_str(ctype, sizeof(ctype), &r->ct);
	snprintf(msg, sizeof(msg), "ipld: could not find %s",
		 cid_tostr(cs, &r->root));
	sp_blocks_init(&blocks, sp, db);
	devnet_fault_get(sp->d, sp->m, &f);
	if (!head && r->ct.raw)
		rc = sp_blocks_get(&blocks, &r->root, &block);
	else if (!sp_blocks_has(&blocks, &r->root))
		rc = EFS_ENOTFOUND;
	sp_blocks_release(&blocks);
	if (rc == EFS_ENOTFOUND) {
		reply_error(req, 404, msg);
	} else if (rc < 0) {
		reply_error(req, 500, efs_error_msg());
	} else {
		set_headers(req, r);
		if (head)
			http_reply(req, 200, ctype, "", 0);
		else if (r->ct.raw)
			reply_raw(req, &block, &f, ctype);
		else {
			serve_car(sp, req, r, db, ctype, &f);
			db = NULL;
		}
	}
	buf_release(&block);
	db_close(db);
}

void sp_gateway_serve(struct sp *sp, struct http_req *req)
{
	const char *method = http_req_method(req);
	struct sp_ctype accepts[GW_ACCEPT_MAX];
	struct gw_req *r;
	struct db *db;
	size_t n;

	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		http_resp_header(req, "Allow", "GET, HEAD");
		reply_error(req, 405, "method not allowed");
		return;
	}
	if (!(r = efs_calloc(1, sizeof(*r)))) {
		reply_error(req, 500, "out of memory");
		return;
	}
	if (!*after_prefix(http_req_path(req))) {
		reply_error(req, 404, "not found");
	} else if (!check_format(r, req, accepts, &n) ||
		   !check_filename(r, req, accepts, n) ||
		   !parse_path(r, http_req_path(req))) {
		reply_error(req, 400, r->err);
	} else if (r->ct.raw && r->path[0]) {
		reply_error(req, 400, "path not supported for raw requests");
	} else if (!r->ct.raw && !check_scope(r, req)) {
		reply_error(req, 400, r->err);
	} else if (is_probe(&r->root)) {
		char ctype[128];

		ctype_str(ctype, sizeof(ctype), &r->ct);
		set_headers(req, r);
		serve_probe(req, r, ctype);
	} else if (sp_db_open(sp->d, &db) < 0) {
		reply_error(req, 500, efs_error_msg());
	} else {
		serve_found(sp, req, r, db);
	}
	efs_free(r);
}
