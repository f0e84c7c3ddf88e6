/*
 * api_pins.c - the IPFS Pinning Service API's routes (api_pins.h): the
 * requests read and checked against the spec, the replies in its
 * shapes, and the module's start and stop.
 *
 * Design notes:
 * - Two routes: "/pins" and the prefix "/pins/" (one per path, as the
 *   frame matches paths before methods), each taking every method and
 *   needing READ; POST and DELETE ask for WRITE here (403 when the key
 *   has only READ: it did authenticate).
 * - Each request opens its own connection to index.db (api_pins_store.c)
 *   and closes it: requests are rare next to the blocks they fetch.
 * - Replies, by the spec: 202 with the PinStatus on POST /pins and on
 *   POST /pins/{id} (the new request's, with a new requestid), 202
 *   without a body on DELETE, 200 on GET; errors are its Failure object
 *   (400 BAD_REQUEST, 401, 403, 404 NOT_FOUND, 429 QUEUE_FULL when
 *   API_PINS_QUEUE_MAX requests wait, 503 UNAVAILABLE without a
 *   repository).
 * - delegates: the spec wants at least one multiaddr where the service
 *   takes the data.  This node has no libp2p peer, so the one it names is
 *   its own HTTP address, /ip4/HOST/tcp/PORT/http, where the trustless
 *   gateway (GET /ipfs/) serves what it holds; there is no /p2p/ part
 *   (the spec's prose asks for one).
 * - origins are checked and kept, and sent back; the retriever cannot
 *   take extra sources (it asks the SPs it knows and IPNI), so they are
 *   not dialled.
 * - DELETE removes the request's row, then its pin and, in a mount, its
 *   graft under /pins/ (api_pins_worker_forget), and commits /pins
 *   before it answers; grafting and the rest of the pinning are the
 *   workers' (api_pins_worker.c).
 */
#define LOG_TOPIC "pins"

#include "api/api_pins.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_i.h"
#include "api/api_keys.h"
#include "api/api_pins_i.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/db.h"
#include "core/error.h"
#include "core/log.h"
#include "core/utf8.h"
#include "net/http.h"

#include "core/banned.h"

#define PINS_PREFIX "/pins/"

/* ---- names and times ------------------------------------------------ */

static const char *const status_names[API_PINS_NSTATUS] = {
    "queued",
    "pinning",
    "pinned",
    "failed",
};

const char *api_pins_status_name(enum api_pins_status st)
{
	return (unsigned)st < API_PINS_NSTATUS ? status_names[st] : "failed";
}

/* Digits of s[0..n) as a number into *out: false unless all n are. */
static bool digits(int *out, const char *s, size_t n)
{
	*out = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*out = *out * 10 + (s[i] - '0');
	}
	return true;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int month_days(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30,
				   31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

int api_pins_time_parse(int64_t *out, const char *s)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	int64_t us = 0, scale = 100000;
	const char *p = s + 19;

	if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' ||
	    !digits(&y, s, 4) || !digits(&mo, s + 5, 2) ||
	    !digits(&d, s + 8, 2) || !digits(&h, s + 11, 2) ||
	    !digits(&mi, s + 14, 2) || !digits(&sec, s + 17, 2))
		goto bad;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			goto bad;
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			us += scale * (*p - '0');
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if ((*p == '+' || *p == '-') && p[3] == ':' &&
		 digits(&oh, p + 1, 2) && digits(&om, p + 4, 2)) {
		sign = *p == '+' ? 1 : -1;
		p += 6;
	} else
		goto bad;
	if (*p || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) ||
	    h > 23 || mi > 59 || sec > 60 || oh > 23 || om > 59)
		goto bad;
	*out = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60 + sec;
	*out -= sign * (oh * 3600 + om * 60);
	*out = *out * 1000000 + us;
	return 0;
bad:
	return efs_error_set(EFS_EINVAL, "not an RFC 3339 date-time (as "
					 "2020-07-27T17:32:28.276Z)");
}

char *api_pins_time_format(char out[API_PINS_TIME_MAX], int64_t us)
{
	size_t n =
	    efs_clock_format(out, API_PINS_TIME_MAX,
			     (us / 1000000) * 1000000000, "%Y-%m-%dT%H:%M:%S");

	snprintf(out + n, API_PINS_TIME_MAX - n, ".%06dZ", (int)(us % 1000000));
	return out;
}

/* ---- parsing -------------------------------------------------------- */

static int bad(const char *fmt, const char *what)
{
	return efs_error_set(EFS_EINVAL, fmt, what);
}

/* A name within the spec's length (in characters). */
static bool name_ok(const char *s)
{
	size_t chars = 0;

	for (const char *p = s; *p; p++)
		chars += ((uint8_t)*p & 0xc0) != 0x80;
	return chars <= API_PINS_NAME_MAX &&
	       utf8_valid((const uint8_t *)s, strlen(s));
}

/* A CID a pin may name (no identity CID: its bytes are the CID). */
static int cid_arg(struct cid *out, const char *s)
{
	if (cid_parse(out, s) < 0)
		return efs_error_set(EFS_EINVAL, "cid: %s", efs_error_msg());
	if (cid_is_identity(out))
		return bad("cid: %s is an identity CID: its bytes are the CID "
			   "itself",
			   s);
	return 0;
}

/* A JSON object whose values are strings (meta). */
static bool meta_ok(const json_t *v)
{
	const char *k;
	json_t *x;

	if (!json_is_object(v) || json_object_size(v) > 1000)
		return false;
	json_object_foreach((json_t *)v, k, x)
		if (!json_is_string(x))
			return false;
	return true;
}

static bool origins_ok(const json_t *v)
{
	size_t n = json_array_size(v);

	if (!json_is_array(v) || n > API_PINS_ORIGINS_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		const json_t *a = json_array_get(v, i);

		if (!json_is_string(a) || json_string_value(a)[0] != '/')
			return false;
		for (size_t j = 0; j < i; j++)
			if (json_equal(a, json_array_get(v, j)))
				return false;
	}
	return true;
}

int api_pins_pin_parse(json_t **out, struct cid *cid, const uint8_t *body,
		       size_t len)
{
	json_t *v = json_loadb((const char *)body, len, 0, NULL);
	json_t *c = json_object_get(v, "cid"), *n = json_object_get(v, "name");
	json_t *o = json_object_get(v, "origins"),
	       *m = json_object_get(v, "meta");
	int rc = 0;

	*out = NULL;
	if (!json_is_object(v))
		rc = bad("%s", "want a Pin: {\"cid\": \"...\", \"name\": "
			       "\"...\", \"origins\": [...], \"meta\": {...}}");
	else if (!json_is_string(c))
		rc = bad("%s", "cid: missing, or not a string");
	else if ((rc = cid_arg(cid, json_string_value(c))) < 0)
		;
	else if (n && (!json_is_string(n) || !name_ok(json_string_value(n))))
		rc = bad("name: not a string of at most %s characters", "255");
	else if (o && !origins_ok(o))
		rc = bad("origins: want at most %s distinct multiaddrs "
			 "(\"/ip4/...\")",
			 "20");
	else if (m && !meta_ok(m))
		rc = bad("%s", "meta: want an object of strings");
	if (rc == 0 &&
	    !(*out = json_pack("{s:O,s:o,s:o}", "cid", c, "origins",
			       o ? json_incref(o) : json_array(), "meta",
			       m ? json_incref(m) : json_object())))
		rc = efs_error_set(EFS_ENOMEM, "pins: out of memory");
	if (rc == 0 && n && json_object_set(*out, "name", n) < 0)
		rc = efs_error_set(EFS_ENOMEM, "pins: out of memory");
	if (rc < 0) {
		json_decref(*out);
		*out = NULL;
	}
	json_decref(v);
	return rc;
}

/* The comma list cid into f->cids, as CIDv1 text. */
static int filter_cids(struct api_pins_filter *f, const char *list)
{
	struct cid c;

	for (const char *p = list;; p++) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (f->ncids == API_PINS_CIDS_MAX)
			return bad("cid: more than %s CIDs", "10");
		if (n == 0 || cid_parse_n(&c, p, n) < 0)
			return efs_error_set(EFS_EINVAL, "cid: %s",
					     n ? efs_error_msg()
					       : "an empty CID in the list");
		c.version = 1;
		cid_tostr(f->cids[f->ncids++], &c);
		if (!end)
			return 0;
		p = end;
	}
}

static int filter_statuses(struct api_pins_filter *f, const char *list)
{
	f->statuses = 0;
	for (const char *p = list;; p++) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		int i = 0;

		while (i < API_PINS_NSTATUS &&
		       (strlen(status_names[i]) != n ||
			strncmp(status_names[i], p, n) != 0))
			i++;
		if (i == API_PINS_NSTATUS)
			return bad("status: %s", "want a list of queued, "
						 "pinning, pinned, failed");
		f->statuses |= 1u << i;
		if (!end)
			return 0;
		p = end;
	}
}

static int filter_match(struct api_pins_filter *f, const char *s)
{
	static const char *const names[] = {"exact", "iexact", "partial",
					    "ipartial"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			f->match = (enum api_pins_match)i;
			return 0;
		}
	return bad("match: %s", "want exact, iexact, partial or ipartial");
}

static int filter_limit(struct api_pins_filter *f, const char *s)
{
	int n;

	if (strlen(s) > 4 || !s[0] || !digits(&n, s, strlen(s)) || n < 1 ||
	    n > API_PINS_LIMIT_MAX)
		return bad("limit: %s", "want a number from 1 to 1000");
	f->limit = (unsigned)n;
	return 0;
}

static int filter_meta(struct api_pins_filter *f, const char *s)
{
	json_t *v = json_loads(s, 0, NULL);
	bool ok = meta_ok(v);

	json_decref(v);
	if (!ok)
		return bad("meta: %s", "want a JSON object of strings");
	f->meta = s;
	return 0;
}

static int filter_time(bool *has, int64_t *out, const char *s, const char *what)
{
	if (api_pins_time_parse(out, s) < 0)
		return efs_error_set(EFS_EINVAL, "%s: %s", what,
				     efs_error_msg());
	*has = true;
	return 0;
}

int api_pins_filter_parse(struct api_pins_filter *out, const char *cid,
			  const char *name, const char *match,
			  const char *status, const char *before,
			  const char *after, const char *limit,
			  const char *meta)
{
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->statuses = 1u << API_PINS_PINNED; /* the spec's default */
	out->limit = API_PINS_LIMIT_DEFAULT;
	if (cid && (rc = filter_cids(out, cid)) < 0)
		return rc;
	if (name && !name_ok(name))
		return bad("name: %s", "longer than 255 characters");
	out->name = name;
	if ((match && (rc = filter_match(out, match)) < 0) ||
	    (status && (rc = filter_statuses(out, status)) < 0) ||
	    (before && (rc = filter_time(&out->has_before, &out->before, before,
					 "before")) < 0) ||
	    (after && (rc = filter_time(&out->has_after, &out->after, after,
					"after")) < 0) ||
	    (limit && (rc = filter_limit(out, limit)) < 0) ||
	    (meta && (rc = filter_meta(out, meta)) < 0))
		return rc;
	return 0;
}

/* ---- replies -------------------------------------------------------- */

/* The error of rc as the spec's Failure. */
static void reply_failure(struct http_req *req, int rc)
{
	if (rc == EFS_EINVAL)
		api_reply_error(req, 400, "BAD_REQUEST", "%s", efs_error_msg());
	else if (rc == EFS_ENOTFOUND)
		api_reply_error(req, 404, "NOT_FOUND", "%s", efs_error_msg());
	else if (rc == EFS_ETOOBIG)
		api_reply_error(req, 429, "QUEUE_FULL", "%s", efs_error_msg());
	else
		api_reply_error(req, 500, "INTERNAL", "%s", efs_error_msg());
}

/* The module, a connection to its table, and the delegate: false when
 * the reply (503, 500) is sent. */
static bool request_open(struct api_pins **p, struct db **db, char *dlg,
			 size_t cap, struct http_req *req, struct api_server *s)
{
	*db = NULL;
	if (!(*p = s->pins)) {
		http_resp_header(req, "Retry-After", "10");
		api_reply_error(
		    req, 503, "UNAVAILABLE",
		    "the pinning service "
		    "is not running (the daemon serves no "
		    "repository, or its pin_requests table could not "
		    "open: see the log)");
		return false;
	}
	if (api_pins_store_open(db, (*p)->db_path, false) < 0) {
		reply_failure(req, EFS_EIO);
		return false;
	}
	api_server_multiaddr(dlg, cap, s);
	return true;
}

/* POST and DELETE change the pins: the key must have WRITE (the table
 * asks READ, what GET needs). */
static bool writable(struct http_req *req, struct api_server *s)
{
	return api_keys_require(NULL, NULL, req, s, API_WRITE);
}

static bool is_get(struct http_req *req)
{
	const char *m = http_req_method(req);

	return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
}

static void reply_json(struct http_req *req, unsigned status, json_t *v)
{
	if (v)
		http_reply_json(req, status, v);
	else
		api_reply_error(req, 500, "INTERNAL", "out of memory");
	json_decref(v);
}

/* ---- the routes ----------------------------------------------------- */

static void pins_list(struct http_req *req, struct db *db, const char *dlg)
{
	struct api_pins_filter f;
	json_t *v = NULL;
	int rc;

	rc = api_pins_filter_parse(
	    &f, http_req_query(req, "cid"), http_req_query(req, "name"),
	    http_req_query(req, "match"), http_req_query(req, "status"),
	    http_req_query(req, "before"), http_req_query(req, "after"),
	    http_req_query(req, "limit"), http_req_query(req, "meta"));
	if (rc == 0)
		rc = api_pins_store_list(&v, db, &f, dlg);
	if (rc < 0)
		reply_failure(req, rc);
	else
		reply_json(req, 200, v);
}

/* POST /pins, or POST /pins/{replaces}: a new request, 202. */
static void pins_add(struct http_req *req, struct api_pins *p, struct db *db,
		     const char *dlg, const char *replaces)
{
	char rid[API_PINS_RID_SIZE], created[API_PINS_TIME_MAX];
	const uint8_t *body;
	struct cid cid;
	json_t *pin = NULL;
	int64_t at;
	size_t len;
	int rc;

	body = http_req_body(req, &len);
	if ((rc = api_pins_pin_parse(&pin, &cid, body, len)) < 0 ||
	    (rc = api_pins_store_add(rid, &at, db, pin, &cid, replaces)) < 0) {
		reply_failure(req, rc);
		json_decref(pin);
		return;
	}
	efs_log_info("request %s: pin %s%s%s", rid,
		     json_string_value(json_object_get(pin, "cid")),
		     replaces ? ", replacing " : "", replaces ? replaces : "");
	api_pins_worker_wake(p);
	reply_json(req, 202,
		   json_pack("{s:s,s:s,s:s,s:o,s:[s],s:{}}", "requestid", rid,
			     "status", api_pins_status_name(API_PINS_QUEUED),
			     "created", api_pins_time_format(created, at),
			     "pin", pin, "delegates", dlg, "info"));
}

static void pins_remove(struct http_req *req, struct api_pins *p, struct db *db,
			const char *rid)
{
	struct api_pins_forget r = {p, false};
	int rc = api_pins_store_remove(db, rid, api_pins_worker_forget, &r);

	if (rc < 0) {
		reply_failure(req, rc);
		return;
	}
	/* before the reply: the client's next commit no longer holds it */
	if (r.ungrafted)
		api_pins_worker_commit(p);
	efs_log_info("request %s removed", rid);
	http_reply(req, 202, NULL, "", 0);
}

static void route_pins(struct http_req *req, struct api_server *s)
{
	struct api_pins *p;
	struct db *db;
	char dlg[96];

	if (!is_get(req) && strcmp(http_req_method(req), "POST") != 0) {
		http_resp_header(req, "Allow", "GET, HEAD, POST");
		api_reply_error(req, 405, "METHOD_NOT_ALLOWED",
				"%s is not "
				"allowed on /pins",
				http_req_method(req));
		return;
	}
	if ((!is_get(req) && !writable(req, s)) ||
	    !request_open(&p, &db, dlg, sizeof(dlg), req, s))
		return;
	if (is_get(req))
		pins_list(req, db, dlg);
	else
		pins_add(req, p, db, dlg, NULL);
	db_close(db);
}

static void route_pin(struct http_req *req, struct api_server *s)
{
	const char *rid = http_req_path(req) + strlen(PINS_PREFIX);
	const char *m = http_req_method(req);
	struct api_pins *p;
	struct db *db;
	json_t *v;
	char dlg[96];
	int rc;

	if (!is_get(req) && strcmp(m, "POST") != 0 &&
	    strcmp(m, "DELETE") != 0) {
		http_resp_header(req, "Allow", "GET, HEAD, POST, DELETE");
		api_reply_error(req, 405, "METHOD_NOT_ALLOWED",
				"%s is not "
				"allowed on /pins/{requestid}",
				m);
		return;
	}
	if ((!is_get(req) && !writable(req, s)) ||
	    !request_open(&p, &db, dlg, sizeof(dlg), req, s))
		return;
	if (!rid[0] || strlen(rid) >= API_PINS_RID_SIZE || strchr(rid, '/')) {
		api_reply_error(req, 404, "NOT_FOUND", "no request %s", rid);
	} else if (is_get(req)) {
		rc = api_pins_store_get(&v, db, rid, dlg);
		if (rc < 0)
			reply_failure(req, rc);
		else
			reply_json(req, 200, v);
	} else if (strcmp(m, "POST") == 0) {
		pins_add(req, p, db, dlg, rid);
	} else {
		pins_remove(req, p, db, rid);
	}
	db_close(db);
}

const struct api_route api_pins_routes[] = {
    {NULL, "/pins", route_pins, API_READ},
    {NULL, PINS_PREFIX, route_pin, API_READ},
};
const size_t api_pins_nroutes =
    sizeof(api_pins_routes) / sizeof(api_pins_routes[0]);

/* ---- start and stop ------------------------------------------------- */

int api_pins_start(struct api_pins **out, struct api_server *s,
		   unsigned workers)
{
	size_t n = s->repo ? strlen(s->repo) + sizeof("/index.db") : 0;
	struct api_pins *p;
	struct db *db;
	int rc;

	*out = NULL;
	if (!s->repo)
		return efs_error_set(EFS_EINVAL, "pins: no repository");
	if (!(p = efs_calloc(1, sizeof(*p))) || !(p->db_path = efs_malloc(n))) {
		efs_free(p);
		return efs_error_set(EFS_ENOMEM, "pins: out of memory");
	}
	snprintf(p->db_path, n, "%s/index.db", s->repo);
	p->s = s;
	if ((rc = api_pins_store_open(&db, p->db_path, true)) == 0) {
		rc = api_pins_store_requeue(db);
		db_close(db);
	}
	if (workers == 0)
		workers = API_PINS_WORKERS_DEFAULT;
	if (workers > API_PINS_WORKERS_MAX)
		workers = API_PINS_WORKERS_MAX;
	if (rc == 0 && (rc = api_pins_worker_start(p, workers)) == 0) {
		*out = p;
		return 0;
	}
	efs_free(p->db_path);
	efs_free(p);
	return rc;
}

void api_pins_stop(struct api_pins *p)
{
	if (!p)
		return;
	api_pins_worker_stop(p);
	efs_free(p->db_path);
	efs_free(p);
}
