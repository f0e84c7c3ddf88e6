/*
 * api_gateway_req.c - reading a gateway request (api_gateway_req.h): the
 * path split into the root CID and its segments, ?format= and Accept
 * negotiated into one format, the CAR parameters checked.
 *
 * Design notes:
 * - Accept (RFC 9110 12.5.1) is a list of media ranges with parameters
 *   and weights.  The ranges that name a format of their own (raw, CAR,
 *   and the ones we do not serve: tar, dag-json, dag-cbor, json, cbor,
 *   ipns-record) are "explicit"; any other range (text/html, * / *,
 *   image/png...) asks for the deserialized response.  The highest
 *   weight among what we can serve wins, the first listed on a tie; when
 *   only explicit formats we cannot serve are listed, the answer is 406.
 * - A CAR range is servable when its version is 1 (or absent), its order
 *   dfs or unk (we always send dfs) and its dups y or n.
 * - Numbers are parsed by hand, bounded: nothing here trusts the length
 *   or the content of what the client sent.
 */
#include "api/api_gateway_req.h"

#include <string.h>
#include <strings.h>

#include "core/error.h"

#include "core/banned.h"

#define PREFIX "/ipfs/"
/* A weight of 1 in thousandths. */
#define Q_ONE 1000

/* What one media range of an Accept list asks for. */
enum media {
	MEDIA_OTHER, /* deserialized */
	MEDIA_RAW,
	MEDIA_CAR,
	MEDIA_UNSERVABLE, /* an explicit format we do not make */
};

struct car_params {
	bool dups;
	bool bad; /* a parameter value we cannot honour */
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Trim blanks around p[0..*n). */
static const char *trim(const char *p, size_t *n)
{
	while (*n && is_space(*p)) {
		p++;
		(*n)--;
	}
	while (*n && is_space(p[*n - 1]))
		(*n)--;
	return p;
}

static bool eq(const char *p, size_t n, const char *lit)
{
	return strlen(lit) == n && strncasecmp(p, lit, n) == 0;
}

/* ---- the path ---- */

static int parse_segments(struct api_gateway_req *out, const char *rest)
{
	size_t used = 0;

	while (*rest) {
		const char *end = strchr(rest, '/');
		size_t n = end ? (size_t)(end - rest) : strlen(rest);

		if (n == 0) {
			rest++;
			continue;
		}
		if ((n == 1 && rest[0] == '.') ||
		    (n == 2 && rest[0] == '.' && rest[1] == '.'))
			return efs_error_set(
			    EFS_EINVAL, "gateway: \".\" and \"..\" are not "
					"allowed in a path");
		if (out->nsegs == API_GATEWAY_SEGS_MAX)
			return efs_error_set(EFS_EINVAL,
					     "gateway: path has more than %d "
					     "segments",
					     API_GATEWAY_SEGS_MAX);
		if (n + 1 > sizeof(out->path) - used)
			return efs_error_set(
			    EFS_EINVAL, "gateway: path longer than %d bytes",
			    API_GATEWAY_PATH_MAX - 1);
		memcpy(out->path + used, rest, n);
		out->path[used + n] = '\0';
		out->seg_off[out->nsegs] = (uint16_t)used;
		out->seg_len[out->nsegs] = (uint16_t)n;
		out->nsegs++;
		used += n + 1;
		rest += n;
	}
	return 0;
}

static int parse_path(struct api_gateway_req *out, const char *path)
{
	const char *cid, *slash;
	size_t n;

	if (strncmp(path, PREFIX, strlen(PREFIX)) != 0)
		return efs_error_set(EFS_EINVAL,
				     "gateway: path must be /ipfs/CID[/path]");
	cid = path + strlen(PREFIX);
	slash = strchr(cid, '/');
	n = slash ? (size_t)(slash - cid) : strlen(cid);
	if (n == 0)
		return efs_error_set(EFS_EINVAL,
				     "gateway: no CID after /ipfs/");
	if (n >= CID_STR_MAX)
		return efs_error_set(EFS_EINVAL, "gateway: CID too long");
	if (cid_parse_n(&out->root, cid, n) < 0)
		return efs_error_set(EFS_EINVAL, "gateway: not a valid CID: %s",
				     efs_error_msg());
	if (!slash)
		return 0;
	out->trailing_slash = slash[strlen(slash) - 1] == '/';
	return parse_segments(out, slash);
}

/* ---- query parameters ---- */

static int parse_format(struct api_gateway_req *out, const char *f)
{
	static const char *const unservable[] = {
	    "tar", "dag-json", "dag-cbor", "json", "cbor", "ipns-record",
	};

	if (strcmp(f, "raw") == 0)
		out->format = API_GATEWAY_RAW;
	else if (strcmp(f, "car") == 0)
		out->format = API_GATEWAY_CAR;
	else {
		for (size_t i = 0;
		     i < sizeof(unservable) / sizeof(unservable[0]); i++)
			if (strcmp(f, unservable[i]) == 0)
				return efs_error_set(
				    EFS_EINVAL,
				    "gateway: format=%s is not served "
				    "here (raw, car)",
				    f);
		return efs_error_set(EFS_EINVAL,
				     "gateway: unknown format (raw, car)");
	}
	out->format_in_query = true;
	return 0;
}

static int parse_scope(struct api_gateway_req *out, const char *s)
{
	if (strcmp(s, "all") == 0)
		out->scope = API_GATEWAY_SCOPE_ALL;
	else if (strcmp(s, "entity") == 0)
		out->scope = API_GATEWAY_SCOPE_ENTITY;
	else if (strcmp(s, "block") == 0)
		out->scope = API_GATEWAY_SCOPE_BLOCK;
	else
		return efs_error_set(EFS_EINVAL,
				     "gateway: dag-scope must be block, "
				     "entity or all");
	return 0;
}

/* A decimal int64, optionally negative, in p[0..n): false when it is
 * not one or does not fit. */
static bool parse_i64(int64_t *out, const char *p, size_t n)
{
	bool neg = n > 0 && p[0] == '-';
	uint64_t v = 0;

	if (neg) {
		p++;
		n--;
	}
	if (n == 0 || n > 19)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	if (v > (uint64_t)INT64_MAX)
		return false;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return true;
}

static int parse_bytes(struct api_gateway_req *out, const char *s)
{
	const char *colon = strchr(s, ':');

	if (!colon || !parse_i64(&out->bytes_from, s, (size_t)(colon - s)))
		goto bad;
	if (strcmp(colon + 1, "*") == 0)
		out->bytes_to_end = true;
	else if (!parse_i64(&out->bytes_to, colon + 1, strlen(colon + 1)))
		goto bad;
	if (!out->bytes_to_end && out->bytes_from >= 0 && out->bytes_to >= 0 &&
	    out->bytes_from > out->bytes_to)
		return efs_error_set(EFS_EINVAL,
				     "gateway: entity-bytes from is past to");
	out->has_bytes = true;
	out->scope = API_GATEWAY_SCOPE_ENTITY;
	return 0;
bad:
	return efs_error_set(EFS_EINVAL,
			     "gateway: entity-bytes must be from:to (integers, "
			     "to may be *)");
}

/* ---- Accept ---- */

/* A weight "0", "0.5", "1.000" in thousandths, or -1. */
static int parse_q(const char *p, size_t n)
{
	int v = 0, digits = 0;

	if (n == 0 || (p[0] != '0' && p[0] != '1'))
		return -1;
	v = (p[0] - '0') * Q_ONE;
	if (n == 1)
		return v;
	if (p[1] != '.' || n > 5)
		return -1;
	for (size_t i = 2; i < n; i++, digits++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v += (p[i] - '0') * (digits == 0 ? 100 : digits == 1 ? 10 : 1);
	}
	return v > Q_ONE ? -1 : v;
}

/* One "name=value" parameter of a CAR media range. */
static void car_param(struct car_params *cp, const char *name, size_t nn,
		      const char *val, size_t vn)
{
	if (vn >= 2 && val[0] == '"' && val[vn - 1] == '"') {
		val++;
		vn -= 2;
	}
	if (eq(name, nn, "version"))
		cp->bad |= !eq(val, vn, "1");
	else if (eq(name, nn, "order"))
		cp->bad |= !eq(val, vn, "dfs") && !eq(val, vn, "unk");
	else if (eq(name, nn, "dups")) {
		if (eq(val, vn, "y"))
			cp->dups = true;
		else if (!eq(val, vn, "n"))
			cp->bad = true;
	}
}

static enum media media_of(const char *t, size_t n)
{
	static const char *const unservable[] = {
	    "application/x-tar",
	    "application/vnd.ipld.dag-json",
	    "application/vnd.ipld.dag-cbor",
	    "application/json",
	    "application/cbor",
	    "application/vnd.ipfs.ipns-record",
	};

	if (eq(t, n, "application/vnd.ipld.raw"))
		return MEDIA_RAW;
	if (eq(t, n, "application/vnd.ipld.car"))
		return MEDIA_CAR;
	for (size_t i = 0; i < sizeof(unservable) / sizeof(unservable[0]); i++)
		if (eq(t, n, unservable[i]))
			return MEDIA_UNSERVABLE;
	return MEDIA_OTHER;
}

/* One media range p[0..n): its kind, weight and CAR parameters. */
static enum media parse_range(int *q, struct car_params *cp, const char *p,
			      size_t n)
{
	const char *semi = memchr(p, ';', n);
	size_t tn = semi ? (size_t)(semi - p) : n;
	const char *t = trim(p, &tn);
	enum media m = media_of(t, tn);

	*q = Q_ONE;
	while (semi) {
		const char *par = semi + 1;
		size_t left = n - (size_t)(par - p), pn, nn, vn;
		const char *eqs, *name, *val;

		semi = memchr(par, ';', left);
		pn = semi ? (size_t)(semi - par) : left;
		eqs = memchr(par, '=', pn);
		if (!eqs)
			continue;
		nn = (size_t)(eqs - par);
		name = trim(par, &nn);
		vn = pn - (size_t)(eqs + 1 - par);
		val = trim(eqs + 1, &vn);
		if (eq(name, nn, "q"))
			*q = parse_q(val, vn);
		else if (m == MEDIA_CAR)
			car_param(cp, name, nn, val, vn);
	}
	if (m == MEDIA_CAR && cp->bad)
		m = MEDIA_UNSERVABLE;
	return m;
}

static int parse_accept(struct api_gateway_req *out, const char *a)
{
	int best_q = -1;
	bool unservable = false, any = false;
	enum media best = MEDIA_OTHER;
	bool best_dups = false;

	while (*a) {
		const char *comma = strchr(a, ',');
		size_t n = comma ? (size_t)(comma - a) : strlen(a);
		struct car_params cp = {0};
		const char *p = trim(a, &n);
		enum media m;
		int q;

		a = comma ? comma + 1 : a + strlen(a);
		if (n == 0)
			continue;
		m = parse_range(&q, &cp, p, n);
		if (q <= 0)
			continue;
		any = true;
		if (m == MEDIA_UNSERVABLE) {
			unservable = true;
			continue;
		}
		if (q > best_q) {
			best_q = q;
			best = m;
			best_dups = cp.dups;
		}
	}
	if (best_q < 0 && any && unservable)
		return efs_error_set(
		    EFS_EUNSUPPORTED,
		    "gateway: none of the formats in Accept "
		    "is served here (application/vnd.ipld.raw, "
		    "application/vnd.ipld.car; version=1; "
		    "order=dfs; dups=n|y, or deserialized)");
	if (best == MEDIA_RAW)
		out->format = API_GATEWAY_RAW;
	else if (best == MEDIA_CAR) {
		out->format = API_GATEWAY_CAR;
		out->dups = best_dups;
	}
	return 0;
}

static int parse_car(struct api_gateway_req *out,
		     const struct api_gateway_query *q)
{
	int rc;

	if (q->car_version && strcmp(q->car_version, "1") != 0)
		return efs_error_set(EFS_EINVAL,
				     "gateway: car-version must be 1");
	if (q->car_order && strcmp(q->car_order, "dfs") != 0 &&
	    strcmp(q->car_order, "unk") != 0)
		return efs_error_set(EFS_EINVAL,
				     "gateway: car-order must be dfs or unk");
	if (q->car_dups) {
		if (strcmp(q->car_dups, "y") == 0)
			out->dups = true;
		else if (strcmp(q->car_dups, "n") == 0)
			out->dups = false;
		else
			return efs_error_set(
			    EFS_EINVAL, "gateway: car-dups must be y or n");
	}
	if (q->dag_scope && (rc = parse_scope(out, q->dag_scope)) < 0)
		return rc;
	if (q->entity_bytes && (rc = parse_bytes(out, q->entity_bytes)) < 0)
		return rc;
	return 0;
}

int api_gateway_req_parse(struct api_gateway_req *out, const char *path,
			  const struct api_gateway_query *q)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = parse_path(out, path)) < 0)
		return rc;
	/* Accept first (it may carry dups=), then ?format= over it: an
	 * Accept we cannot serve is no error when format= says what to. */
	if (q->accept && (rc = parse_accept(out, q->accept)) < 0 && !q->format)
		return rc;
	if (q->format && (rc = parse_format(out, q->format)) < 0)
		return rc;
	if (out->format == API_GATEWAY_CAR)
		return parse_car(out, q);
	out->dups = false;
	return 0;
}

const char *api_gateway_req_seg(const struct api_gateway_req *r, size_t i,
				size_t *len)
{
	if (len)
		*len = r->seg_len[i];
	return r->path + r->seg_off[i];
}

bool api_gateway_req_bytes(uint64_t *first, uint64_t *last,
			   const struct api_gateway_req *r, uint64_t size)
{
	int64_t from = r->bytes_from, to = r->bytes_to;
	uint64_t a, b;

	if (size == 0)
		return false;
	if (from < 0)
		a = (uint64_t)-from >= size ? 0 : size - (uint64_t)-from;
	else
		a = (uint64_t)from;
	if (r->bytes_to_end)
		b = size - 1;
	else if (to < 0) {
		if ((uint64_t)-to > size)
			return false;
		b = size - (uint64_t)-to;
	} else
		b = (uint64_t)to < size ? (uint64_t)to : size - 1;
	if (a >= size || a > b)
		return false;
	*first = a;
	*last = b;
	return true;
}
