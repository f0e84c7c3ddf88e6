/*
 * evict_walk.c - the evictor's view of DAGs (evict_i.h): sets of
 * blocks, the walk from a root, the user pins and the blocks they keep,
 * and the read-only totals for the CLI.
 *
 * Design notes:
 * - Fingerprints, not CIDs, for leaves: a pinned tree or a commit of a
 *   terabyte has a million leaves, and 8 bytes each keep the sets small.
 *   A collision can only make a block look pinned (it stays) or make a
 *   walk skip a leaf (it stays): never an unsafe eviction.  Nodes with
 *   links are remembered by their full CID, because skipping one would
 *   hide its whole subtree from the pinned set.
 * - Only nodes of a linking codec are read; raw leaves never are, so a
 *   walk costs a read per directory and file node, the same nodes that
 *   always stay local (invariant 3 of core/bstore.h).
 * - The pinned set is kept between passes and rebuilt only when the
 *   user pins changed (their IDs are compared at each pass, and pin_gen
 *   tells a pass under way that this process pinned or unpinned).
 * - The queued set protects commits the piece store does not hold
 *   whole: made but not yet taken by the dealer, or being sized (their
 *   piece_block rows are written in batches).  It is rebuilt at each
 *   pass and topped up with new commits before each eviction; in steady
 *   state it is empty, and costs one lookup per commit of the log.
 */
#include "dealer/evict.h"

#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/db.h"
#include "core/error.h"
#include "core/links.h"
#include "dealer/evict_i.h"
#include "dealer/piece.h"

#include "core/banned.h"

/* Cap on one node read by a walk: the blockstore's largest block. */
#define WALK_BLOCK_MAX ((size_t)16 << 20)

/* ---- fingerprint sets ---- */

uint64_t evict_fp(const struct cid *id)
{
	uint8_t mh[CID_MH_BYTES_MAX];
	size_t n = cid_mh_to_bytes(mh, id);
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ mh[i]) * 0x100000001b3ull;
	/* splitmix64's finalizer: FNV's low bits are weak for probing */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return h ? h : 1;
}

static int fpset_grow(struct evict_fpset *s)
{
	size_t cap = s->cap ? s->cap * 2 : 1024;
	uint64_t *v = efs_calloc(cap, sizeof(*v));

	if (!v)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	for (size_t i = 0; i < s->cap; i++) {
		size_t j = s->v[i] & (cap - 1);

		if (!s->v[i])
			continue;
		while (v[j])
			j = (j + 1) & (cap - 1);
		v[j] = s->v[i];
	}
	efs_free(s->v);
	s->v = v;
	s->cap = cap;
	return 0;
}

int evict_fpset_add(struct evict_fpset *s, uint64_t fp)
{
	size_t j;
	int rc;

	if ((s->n + 1) * 2 > s->cap && (rc = fpset_grow(s)) < 0)
		return rc;
	for (j = fp & (s->cap - 1); s->v[j]; j = (j + 1) & (s->cap - 1))
		if (s->v[j] == fp)
			return 0;
	s->v[j] = fp;
	s->n++;
	return 1;
}

bool evict_fpset_has(const struct evict_fpset *s, uint64_t fp)
{
	if (!s->n)
		return false;
	for (size_t j = fp & (s->cap - 1); s->v[j]; j = (j + 1) & (s->cap - 1))
		if (s->v[j] == fp)
			return true;
	return false;
}

void evict_fpset_clear(struct evict_fpset *s)
{
	if (s->v)
		memset(s->v, 0, s->cap * sizeof(*s->v));
	s->n = 0;
}

void evict_fpset_release(struct evict_fpset *s)
{
	efs_free(s->v);
	memset(s, 0, sizeof(*s));
}

/* ---- the walk ---- */

struct node_slot {
	uint64_t fp;              /* 0: empty */
	struct cid id;
};

struct walk {
	struct bstore *bs;
	bool stat;
	struct cid *stack;
	size_t n, cap;
	struct evict_fpset leaves;
	struct node_slot *nodes;  /* nodes with links, by full CID */
	size_t nnodes, nodes_cap;
	struct buf data;
	size_t links;             /* of the node being read */
};

static int push(struct walk *w, const struct cid *id)
{
	struct cid *v;
	size_t cap;

	if (w->n == w->cap) {
		cap = w->cap ? w->cap * 2 : 64;
		if (!(v = efs_realloc(w->stack, cap * sizeof(*v))))
			return efs_error_set(EFS_ENOMEM, "out of memory");
		w->stack = v;
		w->cap = cap;
	}
	w->stack[w->n++] = *id;
	return 0;
}

static int nodes_grow(struct walk *w)
{
	size_t cap = w->nodes_cap ? w->nodes_cap * 2 : 256;
	struct node_slot *v = efs_calloc(cap, sizeof(*v));

	if (!v)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	for (size_t i = 0; i < w->nodes_cap; i++) {
		size_t j = w->nodes[i].fp & (cap - 1);

		if (!w->nodes[i].fp)
			continue;
		while (v[j].fp)
			j = (j + 1) & (cap - 1);
		v[j] = w->nodes[i];
	}
	efs_free(w->nodes);
	w->nodes = v;
	w->nodes_cap = cap;
	return 0;
}

/* Find id among the nodes seen; add it when add.  1: it was there. */
static int nodes_find(struct walk *w, const struct cid *id, bool add)
{
	uint64_t fp = evict_fp(id);
	size_t j;
	int rc;

	if (add && (w->nnodes + 1) * 2 > w->nodes_cap &&
	    (rc = nodes_grow(w)) < 0)
		return rc;
	if (!w->nodes_cap)
		return 0;
	for (j = fp & (w->nodes_cap - 1); w->nodes[j].fp;
	     j = (j + 1) & (w->nodes_cap - 1))
		if (w->nodes[j].fp == fp && cid_mh_equal(&w->nodes[j].id, id))
			return 1;
	if (add) {
		w->nodes[j].fp = fp;
		w->nodes[j].id = *id;
		w->nnodes++;
	}
	return 0;
}

static int child(const struct cid *id, void *payload)
{
	struct walk *w = payload;

	w->links++;
	return cid_is_identity(id) ? 0 : push(w, id);
}

static int stat_node(struct evict_node *n, struct walk *w)
{
	struct bstore_stat st;
	int rc = bstore_stat(&st, w->bs, n->id);

	if (rc == EFS_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	n->stored = st.state != BSTORE_ABSENT;
	n->state = st.state;
	n->size = st.size;
	return 0;
}

/* A leaf (no links): reported once, by fingerprint. */
static int visit_leaf(struct evict_node *n, struct walk *w, evict_walk_cb cb,
		      void *cls)
{
	int rc = evict_fpset_add(&w->leaves, evict_fp(n->id));

	if (rc <= 0)
		return rc;
	if (w->stat && !n->stored && (rc = stat_node(n, w)) < 0)
		return rc;
	return cb(n, cls);
}

static int visit(struct walk *w, const struct cid *id, evict_walk_cb cb,
		 void *cls)
{
	struct evict_node n = { .id = id };
	int rc;

	if (id->codec == CID_CODEC_RAW || !links_codec_known(id->codec))
		return visit_leaf(&n, w, cb, cls);
	if ((rc = nodes_find(w, id, false)) != 0)
		return rc < 0 ? rc : 0;
	buf_reset(&w->data);
	rc = bstore_get(w->bs, id, &w->data);
	if (rc == EFS_EEVICTED) {
		/* evicted blocks have no links (invariant 3) */
		n.stored = true;
		n.state = BSTORE_EVICTED;
		return visit_leaf(&n, w, cb, cls);
	}
	if (rc == EFS_ENOTFOUND)
		return visit_leaf(&n, w, cb, cls);
	if (rc < 0)
		return rc;
	n.stored = true;
	n.state = BSTORE_LOCAL;
	n.size = w->data.len;
	w->links = 0;
	if ((rc = links_foreach(id, w->data.ptr, w->data.len, child, w)) < 0)
		return rc;
	n.links = w->links;
	if (!n.links)
		return visit_leaf(&n, w, cb, cls);
	if ((rc = nodes_find(w, id, true)) < 0)
		return rc;
	return cb(&n, cls);
}

int evict_walk(struct bstore *bs, const struct cid *root, bool stat,
	       evict_walk_cb cb, void *cls)
{
	struct walk w = {
		.bs = bs, .stat = stat, .data = BUF_INIT(WALK_BLOCK_MAX),
	};
	struct cid id;
	int rc = cid_is_identity(root) ? 0 : push(&w, root);

	while (rc == 0 && w.n > 0) {
		id = w.stack[--w.n];
		rc = visit(&w, &id, cb, cls);
	}
	efs_free(w.stack);
	efs_free(w.nodes);
	evict_fpset_release(&w.leaves);
	buf_release(&w.data);
	return rc;
}

/* ---- the pinned set ---- */

/* Pairs of a row id (a pin's, a commit's) and its root, grown as a
 * listing calls back. */
struct id_roots {
	int64_t *ids;
	struct cid *roots;
	size_t n, cap;
};

static int id_roots_add(struct id_roots *l, int64_t id,
			const struct cid *root)
{
	size_t cap;
	void *p;

	if (l->n == l->cap) {
		cap = l->cap ? l->cap * 2 : 64;
		if (!(p = efs_realloc(l->ids, cap * sizeof(*l->ids))))
			return efs_error_set(EFS_ENOMEM, "out of memory");
		l->ids = p;
		if (!(p = efs_realloc(l->roots, cap * sizeof(*l->roots))))
			return efs_error_set(EFS_ENOMEM, "out of memory");
		l->roots = p;
		l->cap = cap;
	}
	l->ids[l->n] = id;
	l->roots[l->n++] = *root;
	return 0;
}

static void id_roots_release(struct id_roots *l)
{
	efs_free(l->ids);
	efs_free(l->roots);
	memset(l, 0, sizeof(*l));
}

/* The user pins (of one name, or all), as bstore_pins_foreach lists
 * them. */
struct pin_list {
	struct id_roots v;
	const char *name;         /* only pins of this name; NULL: all
				     user pins */
	bool cli;                 /* the CLI's pins too */
};

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int pin_list_cb(const struct bstore_pin *pin, void *cls)
{
	struct pin_list *l = cls;
	bool mine = has_prefix(pin->name, EVICT_PIN_PREFIX) ||
		    (l->cli && has_prefix(pin->name, EVICT_CLI_PIN_PREFIX));

	if (!mine || (l->name && strcmp(pin->name, l->name)))
		return 0;
	return id_roots_add(&l->v, pin->id, &pin->root);
}

static int fpset_add_node(const struct evict_node *n, void *cls)
{
	int rc = evict_fpset_add(cls, evict_fp(n->id));

	return rc < 0 ? rc : 0;
}

static bool same_ids(const struct evict *e, const struct id_roots *l)
{
	return e->npin_ids == l->n &&
	       (!l->n || !memcmp(e->pin_ids, l->ids, l->n * sizeof(*l->ids)));
}

int evict_pinned_refresh(struct evict *e)
{
	uint64_t gen = atomic_load(&e->pin_gen);
	struct pin_list l = { 0 };
	int rc = bstore_pins_foreach(e->bs, pin_list_cb, &l);

	if (rc == 0 && !(e->pinned_valid && same_ids(e, &l.v))) {
		e->pinned_valid = false;
		evict_fpset_clear(&e->pinned);
		for (size_t i = 0; i < l.v.n && rc == 0; i++)
			rc = evict_walk(e->bs, &l.v.roots[i], false,
					fpset_add_node, &e->pinned);
		if (rc == 0) {
			efs_free(e->pin_ids);
			e->pin_ids = l.v.ids;
			e->npin_ids = l.v.n;
			l.v.ids = NULL;
			e->pinned_valid = true;
		}
	}
	if (rc == 0)
		e->pinned_gen = gen;
	id_roots_release(&l.v);
	return rc;
}

/* ---- commits not yet pieced ---- */

static int commit_list_cb(int64_t id, const struct cid *root, void *cls)
{
	return id_roots_add(cls, id, root);
}

/* Whether the piece store holds commit id whole: 1, 0, or an error. */
static int commit_taken(struct evict *e, int64_t id)
{
	struct piece_commit_info pc;
	int rc = piece_of_commit(&pc, e->ps, id);

	if (rc == EFS_ENOTFOUND) {
		efs_error_clear();
		return 0;
	}
	return rc < 0 ? rc : pc.stage != PIECE_STAGE_SIZING;
}

int evict_queued_refresh(struct evict *e,
			 const struct dealer_commit_source *src, bool only_new)
{
	struct id_roots l = { 0 };
	int rc;

	if (!src->list || !e->ps)
		return 0;
	if (!only_new) {
		evict_fpset_clear(&e->queued.blocks);
		e->queued.last_id = 0;
	}
	rc = src->list(src->cls, e->queued.last_id, commit_list_cb, &l);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		if (l.ids[i] > e->queued.last_id)
			e->queued.last_id = l.ids[i];
		if ((rc = commit_taken(e, l.ids[i])) == 0)
			rc = evict_walk(e->bs, &l.roots[i], false, fpset_add_node,
					&e->queued.blocks);
		else if (rc > 0)
			rc = 0;
	}
	id_roots_release(&l);
	return rc;
}

/* ---- evict_pin, evict_unpin ---- */

static int pin_count(const struct evict_node *n, void *cls)
{
	struct evict_pin_info *info = cls;

	if (!n->stored)
		return 0;
	info->blocks++;
	info->bytes += n->size;
	if (n->state == BSTORE_EVICTED) {
		info->evicted_blocks++;
		info->evicted_bytes += n->size;
	}
	return 0;
}

/* Pin root as name unless it is so pinned; drop name's other pins. */
static int pin_replace(int64_t *out, struct evict *e, const struct cid *root,
		       const char *name)
{
	struct pin_list l = { .name = name };
	int rc;

	*out = 0;
	pthread_mutex_lock(&e->pin_mu);
	rc = bstore_pins_foreach(e->bs, pin_list_cb, &l);
	for (size_t i = 0; rc == 0 && i < l.v.n; i++)
		if (cid_mh_equal(&l.v.roots[i], root) && !*out)
			*out = l.v.ids[i];
	if (rc == 0 && !*out)
		rc = bstore_pin(out, e->bs, root, name);
	for (size_t i = 0; rc == 0 && i < l.v.n; i++)
		if (l.v.ids[i] != *out)
			rc = bstore_unpin(e->bs, l.v.ids[i]);
	atomic_fetch_add(&e->pin_gen, 1);
	pthread_mutex_unlock(&e->pin_mu);
	id_roots_release(&l.v);
	return rc;
}

int evict_pin(struct evict_pin_info *out, struct evict *e,
	      const struct cid *root, const char *label)
{
	struct evict_pin_info info = { 0 };
	struct bstore_stat st;
	char s[CID_STR_MAX];
	struct buf name = BUF_INIT(4096);
	int rc;

	if (out)
		memset(out, 0, sizeof(*out));
	if (cid_is_identity(root) || !label || !*label)
		return efs_error_set(EFS_EINVAL, "pin: an identity CID or an "
				     "empty name");
	rc = bstore_stat(&st, e->bs, root);
	if (rc == EFS_ENOTFOUND || (rc == 0 && st.state == BSTORE_ABSENT))
		return efs_error_set(EFS_ENOTFOUND, "pin: %s is not in the "
				     "repository", cid_tostr(s, root));
	if (rc < 0)
		return rc;
	if ((rc = buf_printf(&name, "%s%s%c", EVICT_PIN_PREFIX, label,
			     '\0')) < 0)
		return rc;
	rc = pin_replace(&info.pin_id, e, root, (const char *)name.ptr);
	if (rc == 0)
		rc = evict_walk(e->bs, root, true, pin_count, &info);
	if (rc == 0 && out)
		*out = info;
	buf_release(&name);
	return rc;
}

int evict_unpin(size_t *removed, struct evict *e, const struct cid *root,
		const char *label)
{
	struct pin_list l = { 0 };
	struct buf name = BUF_INIT(4096);
	int rc = 0;

	*removed = 0;
	if (!root && (rc = buf_printf(&name, "%s%s%c", EVICT_PIN_PREFIX,
				      label ? label : "", '\0')) < 0)
		return rc;
	l.name = root ? NULL : (const char *)name.ptr;
	l.cli = root != NULL;
	pthread_mutex_lock(&e->pin_mu);
	rc = bstore_pins_foreach(e->bs, pin_list_cb, &l);
	for (size_t i = 0; rc == 0 && i < l.v.n; i++) {
		if (root && !cid_mh_equal(&l.v.roots[i], root))
			continue;
		if ((rc = bstore_unpin(e->bs, l.v.ids[i])) == 0)
			(*removed)++;
	}
	atomic_fetch_add(&e->pin_gen, 1);
	pthread_mutex_unlock(&e->pin_mu);
	id_roots_release(&l.v);
	buf_release(&name);
	return rc;
}

/* ---- the totals, read-only ---- */

int evict_totals_read(struct evict_totals *out, const char *db_path)
{
	static const char sql[] = "SELECT state, count, bytes FROM totals"
				  " WHERE state IN (0, 1)";
	sqlite3_stmt *st;
	struct db *db;
	int version = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (access(db_path, F_OK) < 0)
		return efs_error_set(EFS_ENOTFOUND, "evict: no index %s",
				     db_path);
	if ((rc = db_open(&db, db_path, DB_OPEN_QUERY_ONLY)) < 0)
		return rc;
	if ((rc = db_schema_version(&version, db, "bstore")) == 0 &&
	    version == 0)
		rc = efs_error_set(EFS_ENOTFOUND, "evict: no blockstore in %s",
				   db_path);
	if (rc == 0 && (rc = db_stmt(&st, db, sql)) == 0) {
		while ((rc = db_step(db, st)) > 0) {
			uint64_t n = (uint64_t)sqlite3_column_int64(st, 1);
			uint64_t b = (uint64_t)sqlite3_column_int64(st, 2);

			if (sqlite3_column_int(st, 0) == BSTORE_LOCAL) {
				out->local_blocks = n;
				out->local_bytes = b;
			} else {
				out->evicted_blocks = n;
				out->evicted_bytes = b;
			}
		}
		db_reset(st);
	}
	db_close(db);
	return rc;
}
