/*
 * api_gateway_car.c - the Trustless Gateway's CAR responses
 * (application/vnd.ipld.car; version=1; order=dfs; dups=n|y): the blocks
 * that prove a path, then those dag-scope and entity-bytes select.
 *
 * Design notes:
 * - Before anything is sent the path is resolved through a recording
 *   source: every block the lookups read (directories, the HAMT shards on
 *   the way) is remembered in order; those are the path blocks.  The
 *   block at the path's end is read too, so a missing root is 404, and
 *   what it is (file, directory, HAMT, other) chooses the walk.
 * - The stream is pulled: libmicrohttpd asks for the next bytes, and
 *   advance() makes the next section (header, a path block, one step of
 *   the walk) into a buffer through a car_writer.  The walk is an
 *   explicit depth-first stack of child lists, children in link order:
 *   memory is one list per level plus one block, whatever the DAG's size.
 *
 *	HEADER -> PATH (each path block) -> WALK (stack) -> DONE
 *
 * - What a walk descends into (enum walk):
 *	ALL     every link (any codec links_foreach knows);
 *	RANGE   a file's children whose bytes meet [first, last], by the
 *	        blocksizes of each node (entity-bytes);
 *	SHARDS  a HAMT's sub-shards (links named by the prefix alone), not
 *	        its entries (dag-scope=entity of a sharded directory);
 *	NONE    the block alone.
 * - dups=n: a block is sent once (a set of multihashes); a block seen
 *   again is not descended into either, except in RANGE, where its
 *   second occurrence may need other children than its first.
 *   Identity CIDs are never sent (their bytes are in the CID).
 * - A block that cannot be had mid-stream cuts the connection: the
 *   client sees a short CAR (the spec's "terminate the stream").
 */
#define LOG_TOPIC "gateway"

#include "api/api_gateway_i.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/car.h"
#include "core/dagpb.h"
#include "core/dagreader.h"
#include "core/error.h"
#include "core/links.h"
#include "core/log.h"
#include "core/mhash.h"
#include "core/unixfs.h"
#include "net/http.h"

#include "core/banned.h"

/* Deepest walk (DAGs of directories in directories...). */
#define CAR_DEPTH_MAX 1024

enum walk { WALK_NONE, WALK_ALL, WALK_RANGE, WALK_SHARDS };

enum state { ST_HEADER, ST_PATH, ST_WALK, ST_DONE };

/* One level of the walk: the children still to visit. */
struct frame {
	struct cid *kids;
	uint64_t *off; /* RANGE: file offset of each child */
	size_t n, i;
};

/* The set of multihashes sent (open addressing over an arena). */
struct seen {
	uint32_t *slots; /* arena offset + 1, or 0 */
	size_t nslots, count;
	struct buf arena; /* [len][multihash]... */
};

struct car_stream {
	struct gw_src *src;
	struct car_writer *w;
	struct buf out; /* bytes made, not yet sent */
	size_t out_pos;
	enum state st;
	size_t path_i;
	struct cid root, end; /* the request's root; the path's end */
	enum walk walk;	      /* below the path's end */
	uint64_t first, last; /* RANGE, inclusive */
	bool dups;
	struct frame *stack;
	size_t depth;
	struct seen seen;
	struct buf block; /* scratch */
};

/* ---- the set ---- */

static size_t seen_find(const struct seen *s, const uint8_t *mh, size_t n)
{
	size_t i = mhash_fnv1a(mh, n) & (s->nslots - 1);

	while (s->slots[i]) {
		const uint8_t *e = s->arena.ptr + s->slots[i] - 1;

		if (e[0] == n && memcmp(e + 1, mh, n) == 0)
			break;
		i = (i + 1) & (s->nslots - 1);
	}
	return i;
}

static int seen_grow(struct seen *s)
{
	size_t n = s->nslots ? 2 * s->nslots : 1024;
	uint32_t *old = s->slots;
	size_t oldn = s->nslots;

	s->slots = efs_calloc(n, sizeof(*s->slots));
	if (!s->slots) {
		s->slots = old;
		return efs_error_set(EFS_ENOMEM, "gateway: out of memory");
	}
	s->nslots = n;
	for (size_t i = 0; i < oldn; i++) {
		const uint8_t *e;

		if (!old[i])
			continue;
		e = s->arena.ptr + old[i] - 1;
		s->slots[seen_find(s, e + 1, e[0])] = old[i];
	}
	efs_free(old);
	return 0;
}

/* Add id; *was says whether it was there already. */
static int seen_add(bool *was, struct seen *s, const struct cid *id)
{
	uint8_t mh[CID_MH_BYTES_MAX];
	size_t n = cid_mh_to_bytes(mh, id), i;
	uint8_t len = (uint8_t)n;
	int rc;

	if (2 * (s->count + 1) > s->nslots && (rc = seen_grow(s)) < 0)
		return rc;
	i = seen_find(s, mh, n);
	*was = s->slots[i] != 0;
	if (*was)
		return 0;
	if (s->arena.len + n + 1 >= UINT32_MAX)
		return efs_error_set(EFS_ETOOBIG, "gateway: DAG too big");
	s->slots[i] = (uint32_t)s->arena.len + 1;
	if ((rc = buf_add(&s->arena, &len, 1)) < 0 ||
	    (rc = buf_add(&s->arena, mh, n)) < 0)
		return rc;
	s->count++;
	return 0;
}

/* ---- the walk ---- */

struct kids {
	struct frame *f;
	size_t cap;
};

static int kid_add(struct kids *k, const struct cid *id, uint64_t off)
{
	struct frame *f = k->f;

	if (f->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 8;
		struct cid *c = efs_realloc(f->kids, cap * sizeof(*c));
		uint64_t *o;

		if (!c)
			return efs_error_set(EFS_ENOMEM,
					     "gateway: out of memory");
		f->kids = c;
		if (!(o = efs_realloc(f->off, cap * sizeof(*o))))
			return efs_error_set(EFS_ENOMEM,
					     "gateway: out of memory");
		f->off = o;
		k->cap = cap;
	}
	f->kids[f->n] = *id;
	f->off[f->n++] = off;
	return 0;
}

static int link_cb(const struct cid *id, void *payload)
{
	return kid_add(payload, id, 0);
}

/* The children of a dag-pb node the walk descends into: a file's
 * children meeting the range (its own Data bytes come first, at off),
 * or a HAMT's sub-shards. */
static int pb_kids(struct kids *k, const struct car_stream *cs,
		   const struct dagpb_node *node, uint64_t off)
{
	struct unixfs_data d;
	int rc;

	if (!node->has_data ||
	    unixfs_decode(&d, node->data, node->data_len) < 0)
		return 0; /* not UnixFS: the block alone */
	rc = 0;
	if (cs->walk == WALK_SHARDS && d.type == UNIXFS_HAMT_SHARD) {
		size_t width = 0;

		for (uint64_t f = d.fanout ? d.fanout - 1 : 0; f; f >>= 4)
			width++;
		for (size_t i = 0; i < node->nlinks && rc == 0; i++)
			if (node->links[i].name_len == width)
				rc = kid_add(k, &node->links[i].cid, 0);
	} else if (cs->walk == WALK_RANGE && d.nblocksizes == node->nlinks &&
		   (d.type == UNIXFS_FILE || d.type == UNIXFS_RAW)) {
		uint64_t at = off + d.data_len;

		for (size_t i = 0; i < node->nlinks && rc == 0; i++) {
			uint64_t sz = d.blocksizes[i];

			if (sz && at <= cs->last && at + sz - 1 >= cs->first)
				rc = kid_add(k, &node->links[i].cid, at);
			at += sz;
		}
	}
	unixfs_data_release(&d);
	return rc;
}

/* Push the children of block id (bytes in cs->block) the walk wants. */
static int push_kids(struct car_stream *cs, const struct cid *id, uint64_t off)
{
	struct frame f = {0};
	struct kids k = {.f = &f};
	struct dagpb_node node;
	int rc = 0;

	if (cs->walk == WALK_NONE)
		return 0;
	if (cs->walk == WALK_ALL) {
		rc = links_foreach(id, cs->block.ptr, cs->block.len, link_cb,
				   &k);
	} else if (id->codec == CID_CODEC_DAG_PB) {
		if ((rc = dagpb_decode(&node, cs->block.ptr, cs->block.len)) <
		    0)
			return rc;
		rc = pb_kids(&k, cs, &node, off);
		dagpb_node_release(&node);
	}
	if (rc == 0 && f.n && cs->depth == CAR_DEPTH_MAX)
		rc = efs_error_set(EFS_ECORRUPT,
				   "gateway: DAG deeper than %d levels",
				   CAR_DEPTH_MAX);
	if (rc < 0 || f.n == 0) {
		efs_free(f.kids);
		efs_free(f.off);
		return rc;
	}
	cs->stack[cs->depth++] = f;
	return 0;
}

/* Send block id (once, unless dups) and, when descend, push its
 * children.  off: its first byte's file offset (RANGE). */
static int visit(struct car_stream *cs, const struct cid *id, uint64_t off,
		 bool descend)
{
	bool was = false;
	int rc;

	if (cid_is_identity(id))
		return 0;
	if (!cs->dups && (rc = seen_add(&was, &cs->seen, id)) < 0)
		return rc;
	if (was && !(descend && cs->walk == WALK_RANGE))
		return 0;
	buf_reset(&cs->block);
	if ((rc = blockio_fetch(&cs->src->io, id, &cs->block)) < 0)
		return rc;
	if (!was && ((rc = car_writer_add(cs->w, NULL, id, cs->block.ptr,
					  cs->block.len)) < 0 ||
		     (rc = car_writer_finish(cs->w)) < 0))
		return rc;
	return descend ? push_kids(cs, id, off) : 0;
}

/* Make the next bytes (maybe none: a block skipped, a level done). */
static int advance(struct car_stream *cs)
{
	struct frame *f;
	int rc;

	switch (cs->st) {
	case ST_HEADER:
		cs->st = ST_PATH;
		if ((rc = car_writer_header(cs->w, &cs->root, 1)) < 0)
			return rc;
		return car_writer_finish(cs->w);
	case ST_PATH:
		if (cs->path_i < cs->src->nrec)
			return visit(cs, &cs->src->rec[cs->path_i++], 0, false);
		cs->st = ST_WALK;
		return visit(cs, &cs->end, 0, true);
	case ST_WALK:
		if (cs->depth == 0) {
			cs->st = ST_DONE;
			return 0;
		}
		f = &cs->stack[cs->depth - 1];
		if (f->i == f->n) {
			efs_free(f->kids);
			efs_free(f->off);
			cs->depth--;
			return 0;
		}
		f->i++;
		return visit(cs, &f->kids[f->i - 1], f->off[f->i - 1], true);
	case ST_DONE:
		break;
	}
	return 0;
}

static long car_read(void *cls, uint64_t pos, uint8_t *buf, size_t max)
{
	struct car_stream *cs = cls;
	size_t n;
	int rc;

	(void)pos;
	while (cs->out_pos == cs->out.len) {
		char s[CID_STR_MAX];

		if (cs->st == ST_DONE)
			return HTTP_STREAM_END;
		if (atomic_load(&cs->src->s->stopping))
			return HTTP_STREAM_ERROR;
		buf_reset(&cs->out);
		cs->out_pos = 0;
		if ((rc = advance(cs)) < 0) {
			efs_log_warn("car of %s: %s; cutting the stream",
				     cid_tostr(s, &cs->root), efs_error_msg());
			return HTTP_STREAM_ERROR;
		}
	}
	n = cs->out.len - cs->out_pos < max ? cs->out.len - cs->out_pos : max;
	memcpy(buf, cs->out.ptr + cs->out_pos, n);
	cs->out_pos += n;
	return (long)n;
}

static void car_stream_free(void *cls)
{
	struct car_stream *cs = cls;

	if (!cs)
		return;
	while (cs->depth) {
		cs->depth--;
		efs_free(cs->stack[cs->depth].kids);
		efs_free(cs->stack[cs->depth].off);
	}
	efs_free(cs->stack);
	car_writer_free(cs->w);
	buf_release(&cs->out);
	buf_release(&cs->block);
	buf_release(&cs->seen.arena);
	efs_free(cs->seen.slots);
	api_gateway_src_free(cs->src);
	efs_free(cs);
}

static int out_write(void *payload, const uint8_t *data, size_t len)
{
	return buf_add(payload, data, len);
}

/* ---- choosing the walk ---- */

/* The walk below the path's end for r's scope, from its block (read
 * into cs->block here: 404 now rather than a broken stream later). */
static int choose_walk(struct car_stream *cs, const struct api_gateway_req *r)
{
	struct dagreader_stat st;
	int rc;

	if ((rc = blockio_fetch(&cs->src->io, &cs->end, &cs->block)) < 0)
		return rc;
	if (r->scope == API_GATEWAY_SCOPE_ALL) {
		cs->walk = WALK_ALL;
		return 0;
	}
	cs->walk = WALK_NONE;
	if (r->scope == API_GATEWAY_SCOPE_BLOCK)
		return 0;
	rc = dagreader_stat(&st, &cs->src->io, &cs->end);
	if (rc == EFS_EUNSUPPORTED || rc == EFS_ECORRUPT)
		return 0; /* not UnixFS: entity is the block */
	if (rc < 0)
		return rc;
	if (st.kind == DAGREADER_HAMT) {
		cs->walk = WALK_SHARDS;
	} else if (st.kind == DAGREADER_FILE || st.kind == DAGREADER_RAW) {
		cs->walk = WALK_ALL;
		if (r->has_bytes)
			cs->walk = api_gateway_req_bytes(&cs->first, &cs->last,
							 r, st.size)
				       ? WALK_RANGE
				       : WALK_NONE;
	}
	return 0;
}

/* The Etag: the root, the path, the scope and the range make the CAR. */
static void car_etag(char *out, size_t cap, const struct car_stream *cs,
		     const struct api_gateway_req *r)
{
	struct buf b = BUF_INIT(64 * 1024);
	char s[CID_STR_MAX];
	uint64_t h = 0;

	if (api_gateway_request_url(&b, r) == 0 &&
	    buf_printf(&b, "|%d|%d|%" PRId64 "|%" PRId64 "|%d|%d", r->scope,
		       r->has_bytes, r->bytes_from, r->bytes_to,
		       r->bytes_to_end, cs->dups) == 0)
		h = mhash_fnv1a(b.ptr, b.len);
	buf_release(&b);
	snprintf(out, cap, "\"%s.car.%016" PRIx64 "\"", cid_tostr(s, &r->root),
		 h);
}

static void car_headers(struct http_req *req, const struct api_gateway_req *r,
			const char *etag)
{
	char s[CID_STR_MAX], cd[CID_STR_MAX + 40];

	snprintf(cd, sizeof(cd), "attachment; filename=\"%s.car\"",
		 cid_tostr(s, &r->root));
	http_resp_header(req, "Content-Disposition", cd);
	http_resp_header(req, "Etag", etag);
	http_resp_header(req, "Cache-Control", GW_CACHE_IMMUTABLE);
	http_resp_header(req, "X-Content-Type-Options", "nosniff");
	http_resp_header(req, "Accept-Ranges", "none");
	http_resp_header(req, "Vary", "Accept");
	if (!r->format_in_query) {
		struct buf loc = BUF_INIT(64 * 1024);

		if (api_gateway_request_url(&loc, r) == 0 &&
		    buf_adds(&loc, "?format=car") == 0)
			http_resp_header(req, "Content-Location",
					 (const char *)loc.ptr);
		buf_release(&loc);
	}
}

void api_gateway_car_reply(struct http_req *req, struct gw_src *src,
			   const struct api_gateway_req *r)
{
	struct car_stream *cs = efs_calloc(1, sizeof(*cs));
	char etag[CID_STR_MAX + 32];
	int rc;

	if (!cs) {
		api_gateway_src_free(src);
		api_reply_error(req, 500, "INTERNAL", "out of memory");
		return;
	}
	cs->src = src;
	cs->root = r->root;
	cs->dups = r->dups;
	buf_init(&cs->out, BUF_NOCAP);
	buf_init(&cs->block, DAGREADER_BLOCK_MAX);
	buf_init(&cs->seen.arena, BUF_NOCAP);
	cs->stack = efs_calloc(CAR_DEPTH_MAX, sizeof(*cs->stack));
	if (!cs->stack || car_writer_new_cb(&cs->w, out_write, &cs->out) < 0) {
		api_reply_error(req, 500, "INTERNAL", "out of memory");
		goto out_free;
	}
	src->record = true;
	rc = api_gateway_resolve(&cs->end, NULL, src, r);
	src->record = false;
	if (rc == 0)
		rc = choose_walk(cs, r);
	if (rc < 0) {
		api_gateway_reply_rc(req, rc);
		goto out_free;
	}
	car_etag(etag, sizeof(etag), cs, r);
	if (api_gateway_etag_matches(req, etag)) {
		http_resp_header(req, "Etag", etag);
		http_reply(req, 304, NULL, "", 0);
		goto out_free;
	}
	car_headers(req, r, etag);
	http_reply_stream(req, 200,
			  cs->dups ? "application/vnd.ipld.car; version=1; "
				     "order=dfs; dups=y"
				   : "application/vnd.ipld.car; version=1; "
				     "order=dfs; dups=n",
			  HTTP_SIZE_UNKNOWN, car_read, cs, car_stream_free);
	return;
out_free:
	car_stream_free(cs);
}
