/*
 * api_gateway.c - the IPFS HTTP gateway: GET/HEAD /ipfs/{cid}[/path]
 * (PUBLIC), the Path Gateway (files with Range and content types,
 * directories as index.html or an HTML listing, 301 to the slash form of
 * a directory URL) and the Trustless Gateway (?format=raw|car and the
 * matching Accept, CAR streams in api_gateway_car.c).
 *
 * Design notes:
 * - Blocks come through struct gw_src: the daemon's retriever when it
 *   runs (Case A: local blocks at once; Case B: evicted or absent blocks
 *   fetched from SPs or IPNI providers, verified and stored before they
 *   are read), else the blockstore alone, where an evicted block is 503
 *   and an absent one 404.  Every block a reply carries was read through
 *   a source that checks it against its CID: nothing unverified is sent.
 * - Files are streamed: the reply callback reads each chunk through one
 *   open dagreader_file, which holds a block per level of the DAG, so a
 *   file of any size costs a few blocks of memory.  A block that cannot
 *   be had mid-stream cuts the connection (the status is already sent):
 *   the client sees a short body, never wrong bytes.
 * - Everything said about the request is decided before the reply:
 *   parse (400/406), resolve (404/503/504), conditional (304), Range
 *   (206/416).  Paths in headers (Location, X-Ipfs-Path) are re-encoded,
 *   so no byte the client sent reaches a header raw.
 */
#define LOG_TOPIC "gateway"

#include "api/api_gateway_i.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/bstore.h"
#include "core/dagreader.h"
#include "core/error.h"
#include "core/log.h"
#include "net/http.h"
#include "net/http_range.h"
#include "retrieval/retriever.h"

#include "core/banned.h"

/* Bytes read to guess a content type. */
#define SNIFF_LEN 512
/* Largest block served raw. */
#define RAW_MAX DAGREADER_BLOCK_MAX

/* ---- the block source ---- */

static int src_get(void *payload, const struct cid *id, struct buf *out)
{
	struct gw_src *g = payload;
	int rc = blockio_get(&g->base, id, out);

	/* The retriever's source fetches evicted blocks itself; a block
	 * never stored here is Case B too. */
	if (rc == EFS_ENOTFOUND && g->retr) {
		rc = retriever_fetch(g->retr, id, 0);
		if (rc == 0)
			rc = blockio_get(&g->base, id, out);
	}
	if (rc == EFS_EEVICTED && !g->retr) {
		char s[CID_STR_MAX];

		rc = efs_error_set(EFS_EEVICTED,
				   "block %s is evicted and this daemon runs "
				   "no retriever: start `estuaryfs daemon` "
				   "with retrieval, or `estuaryfs retrieve` it",
				   cid_tostr(s, id));
	}
	if (rc == 0 && g->record) {
		for (size_t i = 0; i < g->nrec; i++)
			if (cid_mh_equal(&g->rec[i], id))
				return 0;
		if (g->nrec == g->rec_cap) {
			size_t cap = g->rec_cap ? 2 * g->rec_cap : 16;
			struct cid *p = efs_realloc(g->rec, cap * sizeof(*p));

			if (!p)
				return efs_error_set(EFS_ENOMEM,
						     "gateway: out of memory");
			g->rec = p;
			g->rec_cap = cap;
		}
		g->rec[g->nrec++] = *id;
	}
	return rc;
}

struct gw_src *api_gateway_src_new(struct api_server *s, struct bstore *bs,
				   struct retriever *retr)
{
	struct gw_src *g = efs_calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->s = s;
	g->retr = retr;
	g->base = retr ? retriever_source(retr) : bstore_source(bs);
	g->io.get = src_get;
	g->io.payload = g;
	return g;
}

void api_gateway_src_free(struct gw_src *g)
{
	if (!g)
		return;
	efs_free(g->rec);
	efs_free(g);
}

/* ---- paths, errors, headers ---- */

int api_gateway_resolve(struct cid *out, struct cid *roots, struct gw_src *src,
			const struct api_gateway_req *r)
{
	struct cid cur = r->root, next;
	int rc;

	if (roots)
		roots[0] = cur;
	for (size_t i = 0; i < r->nsegs; i++) {
		size_t n;
		const char *name = api_gateway_req_seg(r, i, &n);

		rc = dagreader_dir_lookup(&next, &src->io, &cur, name, n);
		if (rc == EFS_EINVAL || rc == EFS_ENOTFOUND ||
		    (rc == EFS_EUNSUPPORTED && i > 0))
			return efs_error_set(
			    EFS_ENOTFOUND,
			    "gateway: no \"%s\" at segment %zu "
			    "of the path (%s)",
			    name, i + 1,
			    rc == EFS_ENOTFOUND ? "no such entry"
						: "not a directory");
		if (rc < 0)
			return rc;
		cur = next;
		if (roots)
			roots[i + 1] = cur;
	}
	*out = cur;
	return 0;
}

void api_gateway_reply_rc(struct http_req *req, int rc)
{
	const char *msg = efs_error_msg();

	switch (rc) {
	case EFS_ENOTFOUND:
		api_reply_error(req, 404, "NOT_FOUND", "%s", msg);
		break;
	case EFS_EINVAL:
		api_reply_error(req, 400, "BAD_REQUEST", "%s", msg);
		break;
	case EFS_EEVICTED:
	case EFS_ECANCELED:
		http_resp_header(req, "Retry-After", "60");
		api_reply_error(req, 503, "UNAVAILABLE", "%s", msg);
		break;
	case EFS_ETIMEDOUT:
		http_resp_header(req, "Retry-After", "30");
		api_reply_error(req, 504, "TIMEOUT",
				"retrieval did not finish in time (it goes on "
				"in the background: ask again): %s",
				msg);
		break;
	case EFS_EIO:
		http_resp_header(req, "Retry-After", "60");
		api_reply_error(req, 502, "RETRIEVAL_FAILED", "%s", msg);
		break;
	case EFS_EUNSUPPORTED:
		api_reply_error(req, 501, "NOT_IMPLEMENTED", "%s", msg);
		break;
	default:
		api_reply_error(req, 500, "INTERNAL", "%s", msg);
		break;
	}
}

int api_gateway_url_encode(struct buf *out, const char *s, size_t n,
			   bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~' || (keep_slash && c == '/'))
			rc = buf_addch(out, c);
		else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};

			rc = buf_add(out, e, 3);
		}
	}
	return rc;
}

int api_gateway_request_url(struct buf *out, const struct api_gateway_req *r)
{
	char s[CID_STR_MAX];
	int rc = buf_printf(out, "/ipfs/%s", cid_tostr(s, &r->root));

	for (size_t i = 0; i < r->nsegs && rc == 0; i++) {
		size_t n;
		const char *seg = api_gateway_req_seg(r, i, &n);

		if ((rc = buf_addch(out, '/')) == 0)
			rc = api_gateway_url_encode(out, seg, n, false);
	}
	if (rc == 0 && r->trailing_slash)
		rc = buf_addch(out, '/');
	return rc;
}

bool api_gateway_etag_matches(struct http_req *req, const char *etag)
{
	const char *h = http_req_header(req, "If-None-Match");
	size_t n = strlen(etag);

	if (!h)
		return false;
	while (*h) {
		while (*h == ' ' || *h == ',' || *h == '\t')
			h++;
		if (*h == '*')
			return true;
		if (strncmp(h, "W/", 2) == 0)
			h += 2;
		if (strncmp(h, etag, n) == 0 &&
		    (h[n] == '\0' || h[n] == ',' || h[n] == ' '))
			return true;
		while (*h && *h != ',')
			h++;
	}
	return false;
}

/* 304 with the validators. */
static void reply_not_modified(struct http_req *req, const char *etag)
{
	http_resp_header(req, "Etag", etag);
	http_resp_header(req, "Cache-Control", GW_CACHE_IMMUTABLE);
	http_reply(req, 304, NULL, "", 0);
}

/* X-Ipfs-Path, and X-Ipfs-Roots from roots[0..n). */
static void path_headers(struct http_req *req, const struct api_gateway_req *r,
			 const struct cid *roots, size_t n)
{
	struct buf b = BUF_INIT(64 * 1024);
	char s[CID_STR_MAX];

	if (api_gateway_request_url(&b, r) == 0)
		http_resp_header(req, "X-Ipfs-Path", (const char *)b.ptr);
	buf_reset(&b);
	for (size_t i = 0; roots && i < n; i++)
		if (buf_printf(&b, "%s%s", i ? "," : "",
			       cid_tostr(s, &roots[i])) < 0)
			break;
	if (roots && b.len)
		http_resp_header(req, "X-Ipfs-Roots", (const char *)b.ptr);
	buf_release(&b);
}

/* Content-Disposition from ?filename= and ?download=true. */
static void disposition(struct http_req *req)
{
	const char *fn = http_req_query(req, "filename");
	const char *dl = http_req_query(req, "download");
	bool attach = dl && strcmp(dl, "true") == 0;
	struct buf b = BUF_INIT(8192);

	if (!fn && !attach)
		return;
	buf_adds(&b, attach ? "attachment" : "inline");
	if (fn && *fn) {
		buf_adds(&b, "; filename=\"");
		for (const char *p = fn; *p; p++) {
			unsigned char c = (unsigned char)*p;

			buf_addch(&b,
				  c < 0x20 || c > 0x7e || c == '"' || c == '\\'
				      ? '_'
				      : c);
		}
		buf_adds(&b, "\"; filename*=UTF-8''");
		api_gateway_url_encode(&b, fn, strlen(fn), false);
	}
	if (b.ptr)
		http_resp_header(req, "Content-Disposition",
				 (const char *)b.ptr);
	buf_release(&b);
}

/* ---- files ---- */

struct file_stream {
	struct gw_src *src;
	struct dagreader_file *f;
	uint64_t start;
	uint64_t len;
	char cid[CID_STR_MAX];
};

static long file_read(void *cls, uint64_t pos, uint8_t *buf, size_t max)
{
	struct file_stream *fs = cls;
	size_t n, got = 0;
	int rc;

	if (pos >= fs->len)
		return HTTP_STREAM_END;
	if (atomic_load(&fs->src->s->stopping))
		return HTTP_STREAM_ERROR;
	n = fs->len - pos < max ? (size_t)(fs->len - pos) : max;
	rc = dagreader_file_read(buf, &got, fs->f, fs->start + pos, n);
	if (rc < 0 || got == 0) {
		efs_log_warn("%s at %" PRIu64 ": %s; cutting the reply",
			     fs->cid, fs->start + pos,
			     rc < 0 ? efs_error_msg() : "file ends short");
		return HTTP_STREAM_ERROR;
	}
	return (long)got;
}

static void file_stream_free(void *cls)
{
	struct file_stream *fs = cls;

	dagreader_file_close(fs->f);
	api_gateway_src_free(fs->src);
	efs_free(fs);
}

/* The content type of file f named name (NULL: unknown). */
static int file_mime(const char **out, struct dagreader_file *f,
		     const char *name)
{
	uint8_t head[SNIFF_LEN];
	size_t n = 0;
	int rc;

	*out = api_gateway_dir_mime(name, NULL, 0);
	if (strcmp(*out, "application/octet-stream") != 0)
		return 0;
	rc = dagreader_file_read(head, &n, f, 0, sizeof(head));
	if (rc < 0)
		return rc;
	*out = api_gateway_dir_mime(NULL, head, n);
	return 0;
}

/* Reply with file id (takes src).  name: the last segment, for its
 * extension, or NULL. */
static void serve_file(struct http_req *req, struct gw_src *src,
		       const struct api_gateway_req *r, const struct cid *id,
		       const struct cid *roots, const char *name)
{
	struct file_stream *fs = efs_calloc(1, sizeof(*fs));
	struct http_range rg = {0};
	char etag[CID_STR_MAX + 2], cr[96];
	const char *ctype;
	uint64_t size;
	unsigned status = 200;
	int rc;

	if (!fs) {
		api_gateway_src_free(src);
		api_reply_error(req, 500, "INTERNAL", "out of memory");
		return;
	}
	fs->src = src;
	cid_tostr(fs->cid, id);
	snprintf(etag, sizeof(etag), "\"%s\"", fs->cid);
	if (api_gateway_etag_matches(req, etag)) {
		reply_not_modified(req, etag);
		goto out_free;
	}
	if ((rc = dagreader_file_open(&fs->f, &src->io, id)) < 0 ||
	    (rc = file_mime(&ctype, fs->f, name)) < 0) {
		api_gateway_reply_rc(req, rc);
		goto out_free;
	}
	size = dagreader_file_size(fs->f);
	http_resp_header(req, "Etag", etag);
	http_resp_header(req, "Cache-Control", GW_CACHE_IMMUTABLE);
	http_resp_header(req, "Accept-Ranges", "bytes");
	http_resp_header(req, "X-Content-Type-Options", "nosniff");
	path_headers(req, r, roots, r->nsegs + 1);
	disposition(req);
	switch (http_range_parse(&rg, http_req_header(req, "Range"), size)) {
	case HTTP_RANGE_ONE:
		status = 206;
		snprintf(cr, sizeof(cr),
			 "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, rg.start,
			 rg.start + rg.len - 1, size);
		http_resp_header(req, "Content-Range", cr);
		break;
	case HTTP_RANGE_INVALID:
	case HTTP_RANGE_NO_OVERLAP:
		snprintf(cr, sizeof(cr), "bytes */%" PRIu64, size);
		http_resp_header(req, "Content-Range", cr);
		api_reply_error(req, 416, "RANGE_NOT_SATISFIABLE",
				"range not satisfiable for %" PRIu64 " bytes",
				size);
		goto out_free;
	default:
		rg.start = 0;
		rg.len = size;
	}
	fs->start = rg.start;
	fs->len = rg.len;
	if (fs->len == 0) {
		http_reply(req, status, ctype, "", 0);
		goto out_free;
	}
	http_reply_stream(req, status, ctype, fs->len, file_read, fs,
			  file_stream_free);
	return;
out_free:
	file_stream_free(fs);
}

/* ---- other nodes ---- */

static void serve_symlink(struct http_req *req, struct gw_src *src,
			  const struct api_gateway_req *r, const struct cid *id,
			  const struct cid *roots)
{
	struct buf b = BUF_INIT(64 * 1024);
	int rc = dagreader_symlink_target(&b, &src->io, id);

	if (rc < 0) {
		api_gateway_reply_rc(req, rc);
	} else {
		http_resp_header(req, "Cache-Control", GW_CACHE_IMMUTABLE);
		http_resp_header(req, "X-Content-Type-Options", "nosniff");
		path_headers(req, r, roots, r->nsegs + 1);
		http_reply(req, 200, "text/plain; charset=utf-8",
			   b.ptr ? b.ptr : (const uint8_t *)"", b.len);
	}
	buf_release(&b);
}

/* The block id as is, in the content type its codec names: raw blocks
 * for ?format=raw, and non-UnixFS codecs for the path gateway. */
static void serve_block(struct http_req *req, struct gw_src *src,
			const struct api_gateway_req *r, const struct cid *id,
			const char *ctype, bool trustless)
{
	struct buf b = BUF_INIT(RAW_MAX);
	char s[CID_STR_MAX], etag[CID_STR_MAX + 8], cd[CID_STR_MAX + 40];
	int rc;

	cid_tostr(s, id);
	snprintf(etag, sizeof(etag), "\"%s%s\"", s, trustless ? ".raw" : "");
	if (api_gateway_etag_matches(req, etag)) {
		reply_not_modified(req, etag);
		return;
	}
	if ((rc = blockio_fetch(&src->io, id, &b)) < 0) {
		api_gateway_reply_rc(req, rc);
		return;
	}
	http_resp_header(req, "Etag", etag);
	http_resp_header(req, "Cache-Control", GW_CACHE_IMMUTABLE);
	http_resp_header(req, "X-Content-Type-Options", "nosniff");
	if (trustless) {
		snprintf(cd, sizeof(cd), "attachment; filename=\"%s.bin\"", s);
		http_resp_header(req, "Content-Disposition", cd);
		if (!r->format_in_query) {
			struct buf loc = BUF_INIT(64 * 1024);

			if (api_gateway_request_url(&loc, r) == 0 &&
			    buf_adds(&loc, "?format=raw") == 0)
				http_resp_header(req, "Content-Location",
						 (const char *)loc.ptr);
			buf_release(&loc);
		}
	}
	http_reply(req, 200, ctype, b.ptr ? b.ptr : (const uint8_t *)"", b.len);
	buf_release(&b);
}

static const char *codec_mime(uint64_t codec)
{
	switch (codec) {
	case 0x71:
		return "application/vnd.ipld.dag-cbor";
	case 0x0129:
		return "application/vnd.ipld.dag-json";
	case 0x0200:
		return "application/json";
	case 0x51:
		return "application/cbor";
	default:
		return NULL;
	}
}

/* ---- directories ---- */

static void serve_dir(struct http_req *req, struct gw_src *src,
		      const struct api_gateway_req *r, const struct cid *dir,
		      const struct cid *roots)
{
	struct cid index;
	struct dagreader_stat st;
	int rc;

	if (!r->trailing_slash) {
		struct buf loc = BUF_INIT(64 * 1024);

		/* The same path, with its slash. */
		if ((rc = api_gateway_request_url(&loc, r)) == 0 &&
		    (rc = buf_addch(&loc, '/')) == 0) {
			http_resp_header(req, "Location",
					 (const char *)loc.ptr);
			http_reply(req, 301, "text/plain; charset=utf-8", "",
				   0);
		} else
			api_gateway_reply_rc(req, rc);
		buf_release(&loc);
		api_gateway_src_free(src);
		return;
	}
	rc = dagreader_dir_lookup(&index, &src->io, dir, "index.html", 10);
	if (rc == 0 && (rc = dagreader_stat(&st, &src->io, &index)) == 0 &&
	    (st.kind == DAGREADER_FILE || st.kind == DAGREADER_RAW)) {
		serve_file(req, src, r, &index, roots, "index.html");
		return;
	}
	if (rc < 0 && rc != EFS_ENOTFOUND) {
		api_gateway_reply_rc(req, rc);
		api_gateway_src_free(src);
		return;
	}
	path_headers(req, r, roots, r->nsegs + 1);
	api_gateway_dir_listing(req, src, r, dir);
	api_gateway_src_free(src);
}

/* ---- the route ---- */

/* The path gateway: what the path names, deserialized.  Takes src. */
static void serve_path(struct http_req *req, struct gw_src *src,
		       const struct api_gateway_req *r)
{
	struct cid *roots = efs_calloc(r->nsegs + 1, sizeof(*roots));
	struct dagreader_stat st;
	struct cid id;
	const char *name =
	    r->nsegs ? api_gateway_req_seg(r, r->nsegs - 1, NULL) : NULL;
	const char *ctype;
	int rc;

	if (!roots) {
		api_reply_error(req, 500, "INTERNAL", "out of memory");
		api_gateway_src_free(src);
		return;
	}
	/* A raw block is a file: serve_file reads it once, rather than
	 * stat fetching and hashing it first (a 1 MiB block is 0.6 ms). */
	if ((rc = api_gateway_resolve(&id, roots, src, r)) == 0 &&
	    id.codec == CID_CODEC_RAW)
		st.kind = DAGREADER_RAW;
	else if (rc == 0)
		rc = dagreader_stat(&st, &src->io, &id);
	if (rc == EFS_EUNSUPPORTED && (ctype = codec_mime(id.codec))) {
		serve_block(req, src, r, &id, ctype, false);
		api_gateway_src_free(src);
	} else if (rc < 0) {
		api_gateway_reply_rc(req, rc);
		api_gateway_src_free(src);
	} else if (st.kind == DAGREADER_FILE || st.kind == DAGREADER_RAW) {
		serve_file(req, src, r, &id, roots, name);
	} else if (st.kind == DAGREADER_SYMLINK) {
		serve_symlink(req, src, r, &id, roots);
		api_gateway_src_free(src);
	} else {
		serve_dir(req, src, r, &id, roots);
	}
	efs_free(roots);
}

static void route_ipfs(struct http_req *req, struct api_server *s)
{
	struct api_gateway_query q = {
	    .format = http_req_query(req, "format"),
	    .accept = http_req_header(req, "Accept"),
	    .dag_scope = http_req_query(req, "dag-scope"),
	    .entity_bytes = http_req_query(req, "entity-bytes"),
	    .car_version = http_req_query(req, "car-version"),
	    .car_order = http_req_query(req, "car-order"),
	    .car_dups = http_req_query(req, "car-dups"),
	};
	struct api_gateway_req *r = efs_malloc(sizeof(*r));
	struct gw_src *src = NULL;
	struct bstore *bs;
	struct cid id;
	int rc;

	/* A bad request is 400/406 whatever the daemon runs. */
	if (!r) {
		api_reply_error(req, 500, "INTERNAL", "out of memory");
		return;
	}
	rc = api_gateway_req_parse(r, http_req_path(req), &q);
	if (rc == EFS_EUNSUPPORTED) {
		api_reply_error(req, 406, "NOT_ACCEPTABLE", "%s",
				efs_error_msg());
		goto out;
	} else if (rc < 0) {
		api_reply_error(req, 400, "BAD_REQUEST", "%s", efs_error_msg());
		goto out;
	}
	if (!(bs = api_need_bstore(req, s)))
		goto out;
	if (!(src = api_gateway_src_new(s, bs, atomic_load(&s->retr)))) {
		api_reply_error(req, 500, "INTERNAL", "out of memory");
		goto out;
	}
	if (r->format == API_GATEWAY_CAR) {
		api_gateway_car_reply(req, src, r);
	} else if (r->format == API_GATEWAY_RAW) {
		if ((rc = api_gateway_resolve(&id, NULL, src, r)) < 0)
			api_gateway_reply_rc(req, rc);
		else
			serve_block(req, src, r, &id,
				    "application/vnd.ipld.raw", true);
		api_gateway_src_free(src);
	} else {
		serve_path(req, src, r);
	}
out:
	efs_free(r);
}

const struct api_route api_gateway_routes[] = {
    {"GET", "/ipfs/", route_ipfs, API_PUBLIC},
};
const size_t api_gateway_nroutes =
    sizeof(api_gateway_routes) / sizeof(api_gateway_routes[0]);
