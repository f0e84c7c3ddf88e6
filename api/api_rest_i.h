/*
 * api_rest_i.h - what the REST route modules (api_rest.c: content,
 * deals, estimates, lookup by CID; api_rest_public.c: stats, SPs,
 * bandwidth) share: the per-request view of the repository's index and
 * the query parsing.
 *
 * Threads: every function is for one request on its connection thread.
 */
#ifndef EFS_API_API_REST_I_H
#define EFS_API_API_REST_I_H

#include <stdbool.h>
#include <stdint.h>

#include "api/api_i.h"
#include "dealer/dealview.h"

struct miners;

/*
 * Open the view of the server's repository (dealer/dealview.h, with the
 * filesystem's commit log the daemon gave, if any) for this request.
 * False when the reply is sent already (503 without a repository, 500
 * when the index cannot be read); release v with dealview_release
 * either way.
 */
bool api_rest_view(struct dealview *v, struct http_req *req,
		   struct api_server *s);

/*
 * The SP tables of v's index, read-only, into *out (NULL: the dealer
 * never ran).  Returns 0 or the errors of miners_open.
 */
int api_rest_miners(struct miners **out, const struct dealview *v);

/*
 * The query argument name as an unsigned integer at most max, or def
 * when absent.  Returns 0 or EFS_EINVAL with a message naming it.
 */
int api_rest_query_uint(uint64_t *out, struct http_req *req,
			const char *name, uint64_t def, uint64_t max);

/* The routes of api_rest_public.c, listed in api_rest.c's table. */
void api_rest_route_stats(struct http_req *req, struct api_server *s);
void api_rest_route_miners(struct http_req *req, struct api_server *s);
void api_rest_route_miner_stats(struct http_req *req, struct api_server *s);
void api_rest_route_miner_deals(struct http_req *req, struct api_server *s);
void api_rest_route_bandwidth(struct http_req *req, struct api_server *s);

/* The deals of deals_foreach's walk as JSON (dealview_deal_json), those
 * of one SP, live or expired only, paged; cls a struct api_rest_deals. */
struct api_rest_deals {
	json_t *arr;
	bool bad;
	const struct filaddr *miner;   /* only this SP's, or NULL */
	bool ignore_failed;            /* leave out failed, rejected, slashed */
	uint64_t skip, limit, n;       /* n: deals that matched */
};
int api_rest_deal_cb(const struct deal *d, void *cls);

/*
 * A page of deals: the request's ?limit (def when absent, at most max)
 * and ?offset into w.  False when the reply (400) is sent already.
 */
bool api_rest_deals_query(struct api_rest_deals *w, struct http_req *req,
			  uint64_t def, uint64_t max);

/* Reply with the deals of v's index that w selects, by row, as an array
 * (w->arr is made and handed to the reply here). */
void api_rest_deals_reply(struct http_req *req, struct api_rest_deals *w,
			  const struct dealview *v);

/* The path's part after prefix (prefix is a prefix of it). */
const char *api_rest_tail(struct http_req *req, const char *prefix);

#endif
