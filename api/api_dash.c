/*
 * api_dash.c - the web dashboard: the page, its stylesheet and its
 * script (api/dash/), served by the daemon, so there is nothing for the
 * user to build or fetch.  At build time contrib/embed_assets.py makes
 * them into api_dash_files.h (C byte arrays, in the build directory).
 *
 *	GET /dashboard               PUBLIC  308 to /dashboard/
 *	GET /dashboard/              PUBLIC  index.html
 *	GET /dashboard/{file}        PUBLIC  dash.css, dash.js, index.html
 *	GET /dashboard/api/deals     PUBLIC  every deal, paged (?limit,
 *	                                     ?offset), as /public/miners/deals
 *
 * Design notes:
 * - The files are public: they hold no data.  The script reads the
 *   REST routes (docs/api.md) from the browser, with the user's API key
 *   for the READ ones, so access control stays where it is.
 * - Every reply forbids what the page never needs: a strict
 *   Content-Security-Policy (scripts, styles and requests from the
 *   daemon only; no inline script, no frames, no forms elsewhere),
 *   nosniff, no referrer, no framing.  Cache-Control no-cache: the
 *   files change with the binary, and revalidating them costs little on
 *   a local daemon.
 * - Names are looked up exactly in the embedded table: no file system
 *   is touched, so no path can escape it.
 * - The one JSON route of its own, /dashboard/api/deals, is the deals of
 *   every SP in one list (the REST surface has them per SP or per
 *   content only): the same objects and scope as /public/miners/deals,
 *   by the same code (api_rest_i.h), so a deal with an SP the miners
 *   table no longer lists is shown too.
 */
#include "api/api_i.h"

#include <stdint.h>
#include <string.h>

#include "api/api_dash_files.h" /* generated: struct dash_asset,
				   dash_assets[] */
#include "api/api_rest_i.h"
#include "net/http.h"

#include "core/banned.h"

#define DASH_NASSETS (sizeof(dash_assets) / sizeof(dash_assets[0]))

#define DASH_PREFIX "/dashboard/"

/* Deals per page of /dashboard/api/deals: the default and the cap. */
#define DASH_DEALS_DEFAULT 1000
#define DASH_DEALS_MAX 10000

#define DASH_CSP                                                          \
	"default-src 'none'; script-src 'self'; style-src 'self'; "       \
	"img-src 'self' data:; connect-src 'self'; base-uri 'none'; "     \
	"form-action 'self'; frame-ancestors 'none'"

static const struct dash_asset *asset_find(const char *name)
{
	if (!*name)
		name = "index.html";
	for (size_t i = 0; i < DASH_NASSETS; i++)
		if (strcmp(dash_assets[i].name, name) == 0)
			return &dash_assets[i];
	return NULL;
}

/* The headers every dashboard reply carries. */
static int headers_set(struct http_req *req)
{
	int rc;

	if ((rc = http_resp_header(req, "Content-Security-Policy",
				   DASH_CSP)) < 0 ||
	    (rc = http_resp_header(req, "X-Content-Type-Options",
				   "nosniff")) < 0 ||
	    (rc = http_resp_header(req, "Referrer-Policy",
				   "no-referrer")) < 0 ||
	    (rc = http_resp_header(req, "X-Frame-Options", "DENY")) < 0 ||
	    (rc = http_resp_header(req, "Cache-Control", "no-cache")) < 0)
		return rc;
	return 0;
}

static void route_asset(struct http_req *req, struct api_server *s)
{
	const char *name = http_req_path(req) + strlen(DASH_PREFIX);
	const struct dash_asset *a = asset_find(name);

	if (!a) {
		api_reply_error(req, 404, "NOT_FOUND", "the dashboard has no "
				"file %s (try %s)", name, DASH_PREFIX);
		return;
	}
	if (headers_set(req) < 0) {
		api_reply_error(req, 500, "INTERNAL", "out of memory");
		return;
	}
	http_reply(req, 200, a->ctype, a->data, a->len);
}

/* /dashboard to the page. */
static void route_redirect(struct http_req *req, struct api_server *s)
{
	static const char body[] = "see " DASH_PREFIX "\n";

	if (http_resp_header(req, "Location", DASH_PREFIX) < 0) {
		api_reply_error(req, 500, "INTERNAL", "out of memory");
		return;
	}
	http_reply(req, 308, "text/plain; charset=utf-8", body,
		   sizeof(body) - 1);
}

/* Every deal of the index, by row, as /public/miners/deals shows one
 * SP's (dealview_deal_json). */
static void route_deals(struct http_req *req, struct api_server *s)
{
	struct api_rest_deals w = { 0 };
	struct dealview v;

	if (!api_rest_deals_query(&w, req, DASH_DEALS_DEFAULT, DASH_DEALS_MAX))
		return;
	if (api_rest_view(&v, req, s))
		api_rest_deals_reply(req, &w, &v);
	dealview_release(&v);
}

const struct api_route api_dash_routes[] = {
	{ "GET", "/", route_redirect, API_PUBLIC },
	{ "GET", "/dashboard", route_redirect, API_PUBLIC },
	{ "GET", "/dashboard/api/deals", route_deals, API_PUBLIC },
	{ "GET", DASH_PREFIX, route_asset, API_PUBLIC },
};
const size_t api_dash_nroutes =
	sizeof(api_dash_routes) / sizeof(api_dash_routes[0]);
