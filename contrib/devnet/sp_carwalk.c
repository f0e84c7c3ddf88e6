/*
 * sp_carwalk.c - the CAR that GET /ipfs/{cid}[/path]?format=car streams:
 * which blocks, in which order, read from the SP's sealed pieces.
 *
 * Curio answers /ipfs with frisbii, which walks the DAG with an IPLD
 * selector built from the request (go-trustless-utils Request.Selector)
 * and writes each block as the traversal loads it.  The same order
 * here, block by block, pulled by the HTTP server as it sends:
 *
 *	path      each block needed to resolve the path (the directory
 *	          blocks, and the HAMT shards on the way), then the scope
 *	          at the block the path names
 *	all       every block reachable, depth-first, links in order
 *	block     the block alone
 *	entity    a file: all its blocks (with entity-bytes: only the ones
 *	          that hold bytes of the range, and the nodes above them); a
 *	          HAMT directory: its shards; anything else: the block alone.
 *	          With entity-bytes on a directory, or on a block that is
 *	          not UnixFS, frisbii's selector also takes each direct child
 *	          (the union with a depth-1 recursion), and so do we.
 *
 * Identity CIDs are never written (their bytes are in the CID).  With
 * dups=n a block already written is skipped with its subtree (under
 * "all" and in a file the subtree was written in full the first time);
 * with dups=y (the trustless default) it is written again where it
 * recurs.  A block the SP does not hold ends the stream with an error
 * after what was sent (frisbii cuts the chunked reply the same way).
 *
 * Memory: one block (up to CAR_SECTION_MAX) and its section (framed by
 * core/car.h's writer, flushed after each section), the stack of child
 * lists from the root to the current node, and with dups=n the set of
 * multihashes written (about 45 bytes each).
 */
#include "contrib/devnet/sp_i.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/car.h"
#include "core/dagpb.h"
#include "core/error.h"
#include "core/hamt.h"
#include "core/links.h"
#include "core/unixfs.h"
#include "net/http.h"

#include "core/banned.h"

/* ---- block access over the SP's pieces ---- */

void sp_blocks_init(struct sp_blocks *b, struct sp *sp, struct db *db)
{
	b->sp = sp;
	b->db = db;
	b->fd = -1;
	b->fd_piece = 0;
}

void sp_blocks_release(struct sp_blocks *b)
{
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
}

int sp_blocks_get(void *payload, const struct cid *id, struct buf *out)
{
	struct sp_blocks *b = payload;
	uint8_t mh[CID_MH_BYTES_MAX];
	struct sp_block_loc loc;
	size_t len0 = out->len;
	ssize_t n;
	int rc;

	if (cid_is_identity(id))
		return buf_add(out, id->digest, id->digest_len);
	rc = sp_db_block_find(&loc, b->db, b->sp->d, b->sp->m->id, mh,
			      cid_mh_to_bytes(mh, id));
	if (rc < 0)
		return rc;
	if (loc.len > CAR_SECTION_MAX)
		return efs_error_set(EFS_ETOOBIG, "sp: block of %llu bytes",
				     (unsigned long long)loc.len);
	if (b->fd < 0 || b->fd_piece != loc.piece_id) {
		sp_blocks_release(b);
		b->fd = open(loc.path, O_RDONLY | O_CLOEXEC);
		if (b->fd < 0)
			return efs_error_set_errno(EFS_EIO, errno,
						   "sp: open %s", loc.path);
		b->fd_piece = loc.piece_id;
	}
	if ((rc = buf_grow(out, (size_t)loc.len)) < 0)
		return rc;
	n = pread(b->fd, out->ptr + len0, (size_t)loc.len, (off_t)loc.offset);
	if (n != (ssize_t)loc.len)
		return efs_error_set(EFS_EIO, "sp: short read of a block in %s",
				     loc.path);
	if ((rc = cid_verify(id, out->ptr + len0, (size_t)loc.len)) < 0)
		return rc;
	out->len = len0 + (size_t)loc.len;
	out->ptr[out->len] = '\0';
	return 0;
}

bool sp_blocks_has(struct sp_blocks *b, const struct cid *id)
{
	uint8_t mh[CID_MH_BYTES_MAX];
	struct sp_block_loc loc;

	return cid_is_identity(id) ||
	       sp_db_block_find(&loc, b->db, b->sp->d, b->sp->m->id, mh,
				cid_mh_to_bytes(mh, id)) == 0;
}

/* ---- the set of multihashes written (dups=n) ---- */

struct seen {
	struct buf arena;      /* len byte + multihash, per entry */
	uint64_t *slots;       /* arena offset + 1; 0 = empty */
	size_t cap;            /* power of two */
	size_t n;
};

static bool seen_eq(const struct seen *s, uint64_t slot, const uint8_t *mh,
		    size_t len)
{
	const uint8_t *e = s->arena.ptr + slot - 1;

	return e[0] == len && !memcmp(e + 1, mh, len);
}

static int seen_grow(struct seen *s)
{
	size_t cap = s->cap ? s->cap * 2 : 1024;
	uint64_t *slots = efs_calloc(cap, sizeof(*slots));

	if (!slots)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	for (size_t i = 0; i < s->cap; i++) {
		const uint8_t *e;
		size_t j;

		if (!s->slots[i])
			continue;
		e = s->arena.ptr + s->slots[i] - 1;
		j = mhash_fnv1a(e + 1, e[0]) & (cap - 1);
		while (slots[j])
			j = (j + 1) & (cap - 1);
		slots[j] = s->slots[i];
	}
	efs_free(s->slots);
	s->slots = slots;
	s->cap = cap;
	return 0;
}

/* Add id's multihash; *had says whether it was there already. */
static int seen_add(struct seen *s, bool *had, const struct cid *id)
{
	uint8_t mh[CID_MH_BYTES_MAX];
	size_t len = cid_mh_to_bytes(mh, id), j;
	int rc;

	*had = false;
	if ((s->n + 1) * 2 > s->cap && (rc = seen_grow(s)) < 0)
		return rc;
	for (j = mhash_fnv1a(mh, len) & (s->cap - 1); s->slots[j];
	     j = (j + 1) & (s->cap - 1)) {
		if (seen_eq(s, s->slots[j], mh, len)) {
			*had = true;
			return 0;
		}
	}
	s->slots[j] = s->arena.len + 1;
	if ((rc = buf_addch(&s->arena, (uint8_t)len)) < 0 ||
	    (rc = buf_add(&s->arena, mh, len)) < 0)
		return rc;
	s->n++;
	return 0;
}

static void seen_release(struct seen *s)
{
	buf_release(&s->arena);
	efs_free(s->slots);
	memset(s, 0, sizeof(*s));
}

/* ---- the walk ---- */

/* What to do with a block's children once it is written. */
enum walk_mode {
	WALK_NONE,         /* nothing: the block alone */
	WALK_ALL,          /* every link, recursively */
	WALK_ENTITY,       /* decide from the block (entity scope) */
	WALK_ENTITY_RANGE, /* the same, with entity-bytes */
	WALK_FILE_RANGE,   /* file children overlapping the range */
	WALK_SHARDS,       /* HAMT sub-shards only */
	WALK_DIR_CHILDREN, /* sub-shards recursively, entries alone */
	WALK_DIRECT,       /* each link, alone */
};

struct walk_item {
	struct cid id;
	enum walk_mode mode;
	uint64_t start;    /* WALK_FILE_RANGE: file offset of its bytes */
};

struct walk_frame {
	struct walk_item *items;
	size_t n;
	size_t next;
};

struct sp_carwalk {
	struct sp_blocks blocks;
	struct db *db;                 /* owned */
	struct car_writer *car;        /* writes into out */
	struct walk_frame *stack;
	size_t depth;
	size_t cap;
	struct seen seen;
	bool dups;
	bool corrupt;
	bool truncate;
	uint64_t from, to;             /* resolved range (inclusive) */
	bool range_set;
	int64_t want_from, want_to;    /* as asked; to < 0 relative */
	bool want_to_set;
	struct buf block;              /* the block being written */
	struct buf out;                /* bytes ready to send */
	size_t out_pos;
	bool done;
	bool failed;
};

static int push_frame(struct sp_carwalk *w, struct walk_item *items, size_t n)
{
	if (!n) {
		efs_free(items);
		return 0;
	}
	if (w->depth == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		void *p = efs_reallocarray(w->stack, cap, sizeof(*w->stack));

		if (!p) {
			efs_free(items);
			return efs_error_set(EFS_ENOMEM, "out of memory");
		}
		w->stack = p;
		w->cap = cap;
	}
	w->stack[w->depth++] = (struct walk_frame){ items, n, 0 };
	return 0;
}

/* The next item to write, or false when the walk is over. */
static bool pop_item(struct sp_carwalk *w, struct walk_item *out)
{
	while (w->depth) {
		struct walk_frame *f = &w->stack[w->depth - 1];

		if (f->next < f->n) {
			*out = f->items[f->next++];
			return true;
		}
		efs_free(f->items);
		w->depth--;
	}
	return false;
}

struct link_list {
	struct walk_item *items;
	size_t n;
	enum walk_mode mode;
};

static int add_link(const struct cid *id, void *payload)
{
	struct link_list *l = payload;
	void *p = efs_reallocarray(l->items, l->n + 1, sizeof(*l->items));

	if (!p)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	l->items = p;
	l->items[l->n++] = (struct walk_item){ *id, l->mode, 0 };
	return 0;
}

/* All links of a block (any codec links_foreach knows), each in mode. */
static int push_links(struct sp_carwalk *w, const struct cid *id,
		      enum walk_mode mode)
{
	struct link_list l = { .mode = mode };
	int rc;

	if (id->codec == CID_CODEC_RAW)
		return 0;
	rc = links_foreach(id, w->block.ptr, w->block.len, add_link, &l);
	if (rc < 0) {
		efs_free(l.items);
		return rc;
	}
	return push_frame(w, l.items, l.n);
}

/* Width of a HAMT's bucket prefixes: hex digits of fanout - 1. */
static size_t hamt_prefix_len(const struct unixfs_data *u)
{
	uint64_t f = u->has_fanout ? u->fanout : HAMT_DEFAULT_FANOUT;
	size_t n = 0;

	for (f = f ? f - 1 : 0; f; f >>= 4)
		n++;
	return n;
}

/* A directory's (or HAMT shard's) links: sub-shards in shard_mode,
 * and, when keep_entries, the entries in entry_mode. */
static int push_dir(struct sp_carwalk *w, const struct dagpb_node *pb,
		    const struct unixfs_data *u, enum walk_mode shard_mode,
		    enum walk_mode entry_mode, bool keep_entries)
{
	size_t plen = u->type == UNIXFS_HAMT_SHARD ? hamt_prefix_len(u) : 0;
	struct walk_item *items = efs_calloc(pb->nlinks + 1, sizeof(*items));
	size_t n = 0;

	if (!items)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	for (size_t i = 0; i < pb->nlinks; i++) {
		const struct dagpb_link *l = &pb->links[i];
		bool shard = plen && l->name_len == plen;

		if (!shard && !keep_entries)
			continue;
		items[n++] = (struct walk_item){
			l->cid, shard ? shard_mode : entry_mode, 0
		};
	}
	return push_frame(w, items, n);
}

/* File children of the node (own data_len bytes first) that overlap
 * the range; start is the node's file offset. */
static int push_file_range(struct sp_carwalk *w, const struct dagpb_node *pb,
			   const struct unixfs_data *u, uint64_t start)
{
	uint64_t off = start + u->data_len;
	struct walk_item *items;
	size_t n = 0;

	if (pb->nlinks != u->nblocksizes)
		return efs_error_set(EFS_ECORRUPT,
				     "sp: file node with %zu links and %zu"
				     " blocksizes", pb->nlinks,
				     u->nblocksizes);
	if (!w->range_set || !pb->nlinks)
		return 0;
	if (!(items = efs_calloc(pb->nlinks, sizeof(*items))))
		return efs_error_set(EFS_ENOMEM, "out of memory");
	for (size_t i = 0; i < pb->nlinks; i++) {
		uint64_t len = u->blocksizes[i];

		if (len && off <= w->to && off + len > w->from)
			items[n++] = (struct walk_item){ pb->links[i].cid,
							 WALK_FILE_RANGE, off };
		off += len;
	}
	return push_frame(w, items, n);
}

/* Resolve entity-bytes against the file size (the root's). */
static void resolve_range(struct sp_carwalk *w, uint64_t size)
{
	int64_t s = (int64_t)size, from = w->want_from, to;

	to = w->want_to_set ? w->want_to : s - 1;
	if (from < 0)
		from = from + s < 0 ? 0 : from + s;
	if (to < 0)
		to = to + s;
	if (to >= s)
		to = s - 1;
	w->range_set = from <= to && from < s && to >= 0;
	w->from = (uint64_t)from;
	w->to = (uint64_t)(to < 0 ? 0 : to);
}

static uint64_t file_size(const struct unixfs_data *u)
{
	uint64_t n = u->data_len;

	if (u->has_filesize)
		return u->filesize;
	for (size_t i = 0; i < u->nblocksizes; i++)
		n += u->blocksizes[i];
	return n;
}

/* The entity scope at a dag-pb block in w->block. */
static int push_entity(struct sp_carwalk *w, const struct walk_item *it)
{
	bool range = it->mode == WALK_ENTITY_RANGE;
	struct dagpb_node pb;
	struct unixfs_data u;
	int rc;

	if (dagpb_decode(&pb, w->block.ptr, w->block.len) < 0)
		return range ? push_links(w, &it->id, WALK_NONE) : 0;
	if (!pb.has_data || unixfs_decode(&u, pb.data, pb.data_len) < 0) {
		dagpb_node_release(&pb);
		return range ? push_links(w, &it->id, WALK_NONE) : 0;
	}
	switch (u.type) {
	case UNIXFS_FILE:
	case UNIXFS_RAW:
		if (!range) {
			rc = push_links(w, &it->id, WALK_ALL);
			break;
		}
		resolve_range(w, file_size(&u));
		rc = push_file_range(w, &pb, &u, 0);
		break;
	case UNIXFS_DIRECTORY:
		rc = range ? push_dir(w, &pb, &u, WALK_NONE, WALK_NONE, true)
			   : 0;
		break;
	case UNIXFS_HAMT_SHARD:
		rc = range ? push_dir(w, &pb, &u, WALK_DIR_CHILDREN, WALK_NONE,
				      true)
			   : push_dir(w, &pb, &u, WALK_SHARDS, WALK_NONE,
				      false);
		break;
	default:
		rc = 0;
	}
	unixfs_data_release(&u);
	dagpb_node_release(&pb);
	return rc;
}

/* After writing it->id (bytes in w->block): queue its children. */
static int push_children(struct sp_carwalk *w, const struct walk_item *it)
{
	struct dagpb_node pb;
	struct unixfs_data u;
	int rc;

	switch (it->mode) {
	case WALK_ALL:
		return push_links(w, &it->id, WALK_ALL);
	case WALK_DIRECT:
		return push_links(w, &it->id, WALK_NONE);
	case WALK_ENTITY:
	case WALK_ENTITY_RANGE:
		if (it->id.codec != CID_CODEC_DAG_PB)
			return it->mode == WALK_ENTITY_RANGE
				       ? push_links(w, &it->id, WALK_NONE)
				       : 0;
		return push_entity(w, it);
	case WALK_FILE_RANGE:
	case WALK_SHARDS:
	case WALK_DIR_CHILDREN:
		break;
	default:
		return 0;
	}
	if (it->id.codec != CID_CODEC_DAG_PB)
		return 0;
	if ((rc = dagpb_decode(&pb, w->block.ptr, w->block.len)) < 0)
		return rc;
	if (!pb.has_data ||
	    (rc = unixfs_decode(&u, pb.data, pb.data_len)) < 0) {
		dagpb_node_release(&pb);
		return rc < 0 ? rc : 0;
	}
	if (it->mode == WALK_FILE_RANGE)
		rc = push_file_range(w, &pb, &u, it->start);
	else if (u.type == UNIXFS_HAMT_SHARD)
		rc = push_dir(w, &pb, &u, it->mode, WALK_NONE,
			      it->mode == WALK_DIR_CHILDREN);
	unixfs_data_release(&u);
	dagpb_node_release(&pb);
	return rc;
}

/* ---- framing (core/car.h's writer, flushed into w->out) ---- */

static int to_out(void *payload, const uint8_t *data, size_t len)
{
	struct sp_carwalk *w = payload;

	return buf_add(&w->out, data, len);
}

/* Frame the block in w->block as a section into w->out. */
static int put_section(struct sp_carwalk *w, const struct cid *id)
{
	size_t at;
	int rc;

	if ((rc = car_writer_add(w->car, NULL, id, w->block.ptr,
				 w->block.len)) < 0 ||
	    (rc = car_writer_finish(w->car)) < 0)
		return rc;
	/* The block's bytes end the section, so they end w->out. */
	at = w->out.len - w->block.len;
	if (w->corrupt && w->block.len)
		w->out.ptr[at + w->block.len / 2] ^= 0xff;
	return 0;
}

/* Produce the next section into w->out; false when none is left. */
static int next_section(struct sp_carwalk *w, bool *more)
{
	struct walk_item it;
	bool had = false;
	int rc;

	*more = false;
	while (pop_item(w, &it)) {
		if (cid_is_identity(&it.id))
			continue;
		if (!w->dups && (rc = seen_add(&w->seen, &had, &it.id)) < 0)
			return rc;
		if (had)
			continue;
		buf_reset(&w->block);
		if ((rc = sp_blocks_get(&w->blocks, &it.id, &w->block)) < 0 ||
		    (rc = put_section(w, &it.id)) < 0 ||
		    (rc = push_children(w, &it)) < 0)
			return rc;
		*more = true;
		return 0;
	}
	return 0;
}

long sp_carwalk_read(void *cls, uint64_t pos, uint8_t *dst, size_t max)
{
	struct sp_carwalk *w = cls;
	size_t n;

	while (w->out_pos == w->out.len) {
		bool more;

		if (w->done)
			return w->failed ? HTTP_STREAM_ERROR : HTTP_STREAM_END;
		buf_reset(&w->out);
		w->out_pos = 0;
		if (next_section(w, &more) < 0) {
			w->done = w->failed = true;
		} else if (!more) {
			w->done = true;
		} else if (w->truncate) {
			/* Half of the first section, then cut the reply. */
			buf_truncate(&w->out, w->out.len / 2);
			w->done = w->failed = true;
		}
	}
	n = w->out.len - w->out_pos;
	if (n > max)
		n = max;
	memcpy(dst, w->out.ptr + w->out_pos, n);
	w->out_pos += n;
	return (long)n;
}

void sp_carwalk_free(void *cls)
{
	struct sp_carwalk *w = cls;
	struct walk_item it;

	if (!w)
		return;
	while (pop_item(w, &it))
		;
	efs_free(w->stack);
	seen_release(&w->seen);
	buf_release(&w->block);
	buf_release(&w->out);
	car_writer_free(w->car);
	sp_blocks_release(&w->blocks);
	db_close(w->db);
	efs_free(w);
}

/* ---- the path ---- */

/* A blockio_source that records the CIDs it is asked for. */
struct recorder {
	struct sp_blocks *blocks;
	struct walk_item *items;
	size_t n;
};

static int record_get(void *payload, const struct cid *id, struct buf *out)
{
	struct recorder *r = payload;
	void *p;
	int rc = sp_blocks_get(r->blocks, id, out);

	if (rc < 0)
		return rc;
	if (!(p = efs_reallocarray(r->items, r->n + 1, sizeof(*r->items))))
		return efs_error_set(EFS_ENOMEM, "out of memory");
	r->items = p;
	r->items[r->n++] = (struct walk_item){ *id, WALK_NONE, 0 };
	return 0;
}

/* Look name up in the directory dir: the blocks read on the way are
 * appended to r (dir itself first). */
static int lookup(struct cid *out, struct recorder *r, const struct cid *dir,
		  const char *name, size_t len)
{
	struct blockio_source src = { record_get, r };
	struct buf b = BUF_INIT(CAR_SECTION_MAX);
	struct dagpb_node pb;
	struct unixfs_data u;
	int rc = record_get(r, dir, &b);

	if (rc == 0 && dir->codec != CID_CODEC_DAG_PB)
		rc = EFS_ENOTFOUND;
	if (rc < 0)
		goto out;
	if ((rc = dagpb_decode(&pb, b.ptr, b.len)) < 0)
		goto out;
	if (!pb.has_data || (rc = unixfs_decode(&u, pb.data, pb.data_len)) < 0)
		goto out_pb;
	rc = EFS_ENOTFOUND;
	if (u.type == UNIXFS_HAMT_SHARD) {
		rc = hamt_lookup_block(out, &src, b.ptr, b.len, name, len);
	} else if (u.type == UNIXFS_DIRECTORY) {
		for (size_t i = 0; i < pb.nlinks; i++) {
			const struct dagpb_link *l = &pb.links[i];

			if (l->name_len == len && !memcmp(l->name, name, len)) {
				*out = l->cid;
				rc = 0;
				break;
			}
		}
	}
	unixfs_data_release(&u);
out_pb:
	dagpb_node_release(&pb);
out:
	buf_release(&b);
	return rc < 0 ? rc : 0;
}

/*
 * The items for "root/path" then the scope: the blocks on the way are
 * written alone; if the path does not resolve, the CAR ends with them.
 */
static int plan(struct sp_carwalk *w, const struct cid *root,
		const char *path, enum walk_mode terminal)
{
	struct recorder r = { .blocks = &w->blocks };
	struct cid at = *root;
	const char *p = path;
	int rc = 0;

	while (*p) {
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		struct cid next;

		if (len && !(len == 1 && p[0] == '.')) {
			size_t before = r.n;

			rc = lookup(&next, &r, &at, p, len);
			if (rc < 0 || r.n == before)
				break;
			at = next;
		}
		p += len + (e ? 1 : 0);
	}
	if (rc == EFS_ENOMEM) {
		efs_free(r.items);
		return rc;
	}
	if (rc == 0) {
		struct walk_item *items =
			efs_reallocarray(r.items, r.n + 1, sizeof(*r.items));

		if (!items) {
			efs_free(r.items);
			return efs_error_set(EFS_ENOMEM, "out of memory");
		}
		r.items = items;
		r.items[r.n++] = (struct walk_item){ at, terminal, 0 };
	}
	return push_frame(w, r.items, r.n);
}

int sp_carwalk_new(struct sp_carwalk **out, struct sp *sp, struct db *db,
		   const struct cid *root, const char *path,
		   const struct sp_carwalk_opts *o)
{
	struct sp_carwalk *w = efs_calloc(1, sizeof(*w));
	enum walk_mode terminal;
	int rc;

	*out = NULL;
	if (!w) {
		db_close(db);
		return efs_error_set(EFS_ENOMEM, "out of memory");
	}
	w->db = db;
	sp_blocks_init(&w->blocks, sp, db);
	buf_init(&w->block, CAR_SECTION_MAX);
	buf_init(&w->out, 2 * CAR_SECTION_MAX);
	buf_init(&w->seen.arena, BUF_NOCAP);
	w->dups = o->dups;
	w->corrupt = o->corrupt;
	w->truncate = o->truncate;
	w->want_from = o->from;
	w->want_to = o->to;
	w->want_to_set = o->to_set;
	if (o->scope == SP_SCOPE_ALL)
		terminal = WALK_ALL;
	else if (o->scope == SP_SCOPE_BLOCK)
		terminal = WALK_NONE;
	else
		terminal = o->has_range ? WALK_ENTITY_RANGE : WALK_ENTITY;
	if ((rc = car_writer_new_cb(&w->car, to_out, w)) < 0 ||
	    (rc = car_writer_header(w->car, root, 1)) < 0 ||
	    (rc = car_writer_finish(w->car)) < 0 ||
	    (rc = plan(w, root, path ? path : "", terminal)) < 0) {
		sp_carwalk_free(w);
		return rc;
	}
	*out = w;
	return 0;
}
