/*
 * api_gateway_dir.c - the gateway's HTML directory listings and content
 * types (api_gateway_i.h).
 *
 * Design notes:
 * - A listing reads the directory's own blocks only (a basic node, or
 *   the shards of a HAMT): sizes are the links' Tsize, as the Path
 *   Gateway spec advises, so a listing of 10,000 entries fetches no
 *   child.  It is built in memory under a cap (LISTING_MAX); a bigger
 *   one is refused with 500 rather than sent cut.
 * - Names are bytes.  In text they are HTML-escaped, with what is not
 *   UTF-8 (and control characters) shown as U+FFFD; in links they are
 *   percent-encoded byte for byte behind "./", so no name can become
 *   markup, a scheme ("javascript:") or another path.
 * - Content types: a table of extensions, then a look at the first bytes
 *   (the magic numbers of the usual formats, then "is it UTF-8 text").
 */
#include "api/api_gateway_i.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/dagreader.h"
#include "core/error.h"
#include "core/utf8.h"

#include "core/banned.h"

/* Largest listing page built. */
#define LISTING_MAX ((size_t)32 << 20)
/* The listing code's version, in its Etag (cache busting). */
#define LISTING_VERSION "efs1"

/* ---- content types ---- */

static const struct {
	const char *ext;
	const char *type;
} ext_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"xml", "application/xml"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/vnd.microsoft.icon"},
    {"pdf", "application/pdf"},
    {"wasm", "application/wasm"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"mp3", "audio/mpeg"},
    {"ogg", "audio/ogg"},
    {"wav", "audio/wav"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"tar", "application/x-tar"},
    {"car", "application/vnd.ipld.car"},
    {"woff2", "font/woff2"},
};

static const struct {
	const char *magic;
	size_t len;
	const char *type;
} magic_types[] = {
    {"\x89PNG\r\n\x1a\n", 8, "image/png"},
    {"\xff\xd8\xff", 3, "image/jpeg"},
    {"GIF87a", 6, "image/gif"},
    {"GIF89a", 6, "image/gif"},
    {"%PDF-", 5, "application/pdf"},
    {"PK\x03\x04", 4, "application/zip"},
    {"\x1f\x8b\x08", 3, "application/gzip"},
    {"\0asm", 4, "application/wasm"},
};

static const char *by_extension(const char *name)
{
	const char *dot = name ? strrchr(name, '.') : NULL;

	if (!dot || dot == name)
		return NULL;
	for (size_t i = 0; i < sizeof(ext_types) / sizeof(ext_types[0]); i++)
		if (strcasecmp(dot + 1, ext_types[i].ext) == 0)
			return ext_types[i].type;
	return NULL;
}

/* Whether p starts (after blanks) with s, ignoring case. */
static bool starts_ci(const uint8_t *p, size_t n, const char *s)
{
	size_t k = strlen(s);

	while (n && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
		p++;
		n--;
	}
	return n >= k && strncasecmp((const char *)p, s, k) == 0;
}

/* UTF-8 text without control characters other than blanks; a sequence
 * cut at the end of the sample is fine. */
static bool looks_like_text(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t w = utf8_width(p + i, n - i);

		if (w == 0)
			return n - i < UTF8_MAX_LEN && p[i] >= 0xc0;
		if (w == 1 && p[i] < 0x20 && p[i] != '\n' && p[i] != '\r' &&
		    p[i] != '\t' && p[i] != '\f')
			return false;
		if (w == 1 && p[i] == 0x7f)
			return false;
		i += w;
	}
	return true;
}

const char *api_gateway_dir_mime(const char *name, const uint8_t *head,
				 size_t n)
{
	const char *t = by_extension(name);

	if (t)
		return t;
	for (size_t i = 0; i < sizeof(magic_types) / sizeof(magic_types[0]);
	     i++)
		if (n >= magic_types[i].len &&
		    memcmp(head, magic_types[i].magic, magic_types[i].len) == 0)
			return magic_types[i].type;
	if (n >= 12 && memcmp(head, "RIFF", 4) == 0 &&
	    memcmp(head + 8, "WEBP", 4) == 0)
		return "image/webp";
	if (starts_ci(head, n, "<!doctype html") || starts_ci(head, n, "<html"))
		return "text/html; charset=utf-8";
	if (starts_ci(head, n, "<svg"))
		return "image/svg+xml";
	if (n > 0 && looks_like_text(head, n))
		return "text/plain; charset=utf-8";
	return "application/octet-stream";
}

/* ---- HTML ---- */

int api_gateway_dir_html_escape(struct buf *out, const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0;) {
		size_t w = utf8_width(p + i, n - i);

		if (w == 0 || (w == 1 && (p[i] < 0x20 || p[i] == 0x7f))) {
			rc = buf_adds(out, "&#xFFFD;");
			i++;
			continue;
		}
		switch (p[i]) {
		case '&':
			rc = buf_adds(out, "&amp;");
			break;
		case '<':
			rc = buf_adds(out, "&lt;");
			break;
		case '>':
			rc = buf_adds(out, "&gt;");
			break;
		case '"':
			rc = buf_adds(out, "&quot;");
			break;
		case '\'':
			rc = buf_adds(out, "&#39;");
			break;
		default:
			rc = buf_add(out, p + i, w);
		}
		i += w;
	}
	return rc;
}

/* A size for people: "512 B", "1.5 KiB". */
static void human_size(char *out, size_t cap, uint64_t n)
{
	static const char *const unit[] = {"KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	size_t u = 0;

	if (n < 1024) {
		snprintf(out, cap, "%" PRIu64 " B", n);
		return;
	}
	v /= 1024;
	while (v >= 1024 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		v /= 1024;
		u++;
	}
	snprintf(out, cap, "%.1f %s", v, unit[u]);
}

struct listing {
	struct buf *out;
	size_t n;
};

static int list_entry(const char *name, size_t name_len, const struct cid *id,
		      uint64_t tsize, void *payload)
{
	struct listing *l = payload;
	char s[CID_STR_MAX], size[32];
	int rc;

	cid_tostr(s, id);
	human_size(size, sizeof(size), tsize);
	l->n++;
	if ((rc = buf_adds(l->out, "<tr><td><a href=\"./")) < 0 ||
	    (rc = api_gateway_url_encode(l->out, name, name_len, false)) < 0 ||
	    (rc = buf_adds(l->out, "\">")) < 0 ||
	    (rc = api_gateway_dir_html_escape(l->out, name, name_len)) < 0 ||
	    (rc = buf_printf(l->out,
			     "</a></td><td><a class=\"cid\" href=\"/ipfs/%s"
			     "?filename=",
			     s)) < 0 ||
	    (rc = api_gateway_url_encode(l->out, name, name_len, false)) < 0 ||
	    (rc = buf_printf(l->out,
			     "\">%s</a></td><td title=\"%" PRIu64
			     " bytes\">%s</td></tr>\n",
			     s, tsize, size)) < 0)
		return rc;
	return 0;
}

static int listing_head(struct buf *out, const struct api_gateway_req *r,
			const struct cid *dir)
{
	struct buf url = BUF_INIT(64 * 1024);
	char s[CID_STR_MAX];
	int rc;

	if ((rc = api_gateway_request_url(&url, r)) < 0)
		goto out;
	if ((rc = buf_adds(out, "<!DOCTYPE html>\n<html><head>"
				"<meta charset=\"utf-8\"><title>Index of ")) <
		0 ||
	    (rc = api_gateway_dir_html_escape(out, (const char *)url.ptr,
					      url.len)) < 0 ||
	    (rc =
		 buf_adds(out, "</title><style>body{font-family:sans-serif}"
			       "td{padding:2px 12px}.cid{font-family:monospace;"
			       "font-size:small}</style></head>\n<body><h1>"
			       "Index of ")) < 0 ||
	    (rc = api_gateway_dir_html_escape(out, (const char *)url.ptr,
					      url.len)) < 0 ||
	    (rc = buf_printf(out,
			     "</h1>\n<p>CID <code>%s</code> &middot; "
			     "<a href=\"/ipfs/%s?format=car\">CAR</a></p>\n"
			     "<table>\n<tr><th>Name</th><th>CID</th>"
			     "<th>Size</th></tr>\n",
			     cid_tostr(s, dir), s)) < 0)
		goto out;
	if (r->nsegs > 0)
		rc = buf_adds(out, "<tr><td><a href=\"../\">..</a></td>"
				   "<td></td><td></td></tr>\n");
out:
	buf_release(&url);
	return rc;
}

void api_gateway_dir_listing(struct http_req *req, struct gw_src *src,
			     const struct api_gateway_req *r,
			     const struct cid *dir)
{
	struct buf out = BUF_INIT(LISTING_MAX);
	struct listing l = {.out = &out};
	char etag[CID_STR_MAX + 32], s[CID_STR_MAX];
	int rc;

	snprintf(etag, sizeof(etag), "\"DirIndex-%s_CID-%s\"", LISTING_VERSION,
		 cid_tostr(s, dir));
	if (api_gateway_etag_matches(req, etag)) {
		http_resp_header(req, "Etag", etag);
		http_reply(req, 304, NULL, "", 0);
		return;
	}
	if ((rc = listing_head(&out, r, dir)) == 0 &&
	    (rc = dagreader_dir_foreach(&src->io, dir, list_entry, &l)) == 0)
		rc = buf_adds(&out, "</table>\n</body></html>\n");
	if (rc == EFS_ETOOBIG)
		api_reply_error(req, 500, "LISTING_TOO_BIG",
				"the listing of this directory is over %zu MiB "
				"(%zu entries read): fetch it as a CAR",
				LISTING_MAX >> 20, l.n);
	else if (rc < 0)
		api_gateway_reply_rc(req, rc);
	else {
		http_resp_header(req, "Etag", etag);
		http_resp_header(req, "Cache-Control", GW_CACHE_IMMUTABLE);
		http_resp_header(req, "X-Content-Type-Options", "nosniff");
		http_reply(req, 200, "text/html; charset=utf-8", out.ptr,
			   out.len);
	}
	buf_release(&out);
}
