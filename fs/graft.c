/*
 * graft.c - UnixFS DAGs made to appear at a path (graft.h).
 *
 * Two steps, so no lock is held while blocks are read:
 *
 *   path ─► plan: the path's directories (reused when they exist), then
 *           the DAG walked depth-first (dagreader: stat each node, list
 *           each directory), one struct inode_graft per inode, a
 *           directory before its entries
 *        ─► inode_graft: the plan made in one transaction, then pinned
 *
 * The plan owns its strings (names, symlink targets) until it is freed.
 * Sizes: a raw leaf's is its block's, read from the blockstore's index
 * (bstore_stat), so an evicted leaf costs nothing; a dag-pb node's comes
 * from dagreader_stat.  Tsizes come from the links that name each node;
 * the top node's, which no link names, is its block plus its links'
 * (dagpb_tsize).  The path is looked up before the DAG is read (a taken
 * name costs no block), and the plan is capped at GRAFT_INODES_MAX.
 *
 * Removal (graft_remove) is rm -r on the inode table: each directory is
 * listed a batch at a time from its start (what a batch names is gone
 * before the next listing, so nothing is skipped), its entries removed
 * deepest first with inode_unlink, as FUSE's unlink and rmdir do, so it
 * needs no lock beyond the table's own.
 */
#include "fs/graft.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/bstore.h"
#include "core/dagpb.h"
#include "core/dagreader.h"
#include "core/error.h"
#include "fs/errmap.h"

#include "core/banned.h"

struct plan {
	const struct graft_env *env;
	struct inode_graft *v;
	size_t n;
	size_t cap;
};

static void plan_release(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		efs_free((char *)p->v[i].name);
		efs_free((char *)p->v[i].n.target);
	}
	efs_free(p->v);
	memset(p, 0, sizeof(*p));
}

/* A new entry named name[0..len) in parent: its index to *out. */
static int plan_add(size_t *out, struct plan *p, size_t parent,
		    const char *name, size_t len)
{
	struct inode_graft *g;

	if (len > INODE_NAME_MAX)
		return efs_error_set(FS_ENAMETOOLONG,
				     "graft: name of %zu bytes", len);
	if (memchr(name, '\0', len))
		return efs_error_set(EFS_EINVAL, "graft: a name holds NUL");
	if (p->n == GRAFT_INODES_MAX)
		return efs_error_set(EFS_ETOOBIG,
				     "graft: more than %u inodes to make: "
				     "graft a directory inside the dag instead",
				     GRAFT_INODES_MAX);
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct inode_graft *v;

		if (cap > GRAFT_INODES_MAX)
			cap = GRAFT_INODES_MAX;
		if (!(v = efs_reallocarray(p->v, cap, sizeof(*v))))
			return efs_error_set(EFS_ENOMEM,
					     "graft: out of memory");
		p->v = v;
		p->cap = cap;
	}
	g = &p->v[p->n];
	memset(g, 0, sizeof(*g));
	if (!(g->name = efs_strndup(name, len)))
		return efs_error_set(EFS_ENOMEM, "graft: out of memory");
	g->parent = parent;
	g->n.uid = p->env->uid;
	g->n.gid = p->env->gid;
	*out = p->n++;
	return 0;
}

/* ---- the path ------------------------------------------------------ */

/*
 * The path's components into the plan: all but the last as reused
 * directories; the last's index to *out.
 */
static int plan_path(size_t *out, struct plan *p, const char *path)
{
	size_t parent = INODE_GRAFT_TOP, len = strlen(path);
	const char *s = path;
	int error;

	if (path[0] != '/' || len > GRAFT_PATH_MAX)
		return efs_error_set(EFS_EINVAL, "graft: bad path '%.64s'",
				     path);
	*out = INODE_GRAFT_TOP;
	while (*s) {
		size_t n = strcspn(s, "/");

		if ((n == 1 && s[0] == '.') ||
		    (n == 2 && s[0] == '.' && s[1] == '.'))
			return efs_error_set(
			    EFS_EINVAL, "graft: '.' or '..' in '%.64s'", path);
		if (n > 0) {
			if (*out != INODE_GRAFT_TOP) {
				p->v[*out].reuse_dir = true;
				p->v[*out].n.mode = S_IFDIR | 0755;
				parent = *out;
			}
			if ((error = plan_add(out, p, parent, s, n)) < 0)
				return error;
		}
		s += n + (s[n] == '/');
	}
	if (*out == INODE_GRAFT_TOP)
		return efs_error_set(EFS_EINVAL, "graft: no name in '%s'",
				     path);
	return 0;
}

/*
 * Is path free?  Looked up before the DAG is walked, so a caller trying
 * names one after another walks it once; inode_graft checks again in its
 * transaction.  0, EFS_EEXISTS (path exists, or a directory of it is not
 * one) or db errors.
 */
static int path_free(struct inode_table *t, const char *path)
{
	uint64_t ino;
	int error = graft_lookup(&ino, t, path);

	if (error == EFS_ENOTFOUND) {
		efs_error_clear();
		return 0;
	}
	if (error == 0)
		return efs_error_set(EFS_EEXISTS, "graft: %s exists", path);
	if (error == FS_ENOTDIR)
		return efs_error_set(
		    EFS_EEXISTS, "graft: a directory of %s is not one", path);
	return error;
}

/* ---- the DAG ------------------------------------------------------- */

static int plan_node(struct plan *p, size_t i, const struct cid *id,
		     uint64_t tsize, int depth);

struct dir_walk {
	struct plan *p;
	size_t dir;
	int depth;
};

static int dir_entry(const char *name, size_t name_len, const struct cid *id,
		     uint64_t tsize, void *payload)
{
	struct dir_walk *w = payload;
	size_t i;
	int error;

	if ((error = plan_add(&i, w->p, w->dir, name, name_len)) < 0)
		return error;
	return plan_node(w->p, i, id, tsize, w->depth + 1);
}

/* The Tsize of a node no link names: its block plus its links'. */
static int node_tsize(uint64_t *out, const struct graft_env *env,
		      const struct cid *id)
{
	struct buf block = BUF_INIT(DAGPB_BLOCK_MAX);
	int error;

	if ((error = blockio_fetch(&env->src, id, &block)) == 0)
		error = dagpb_tsize(out, block.ptr, block.len);
	buf_release(&block);
	return error;
}

/* A raw block: a one-leaf file of its block's size. */
static int plan_raw(struct inode_graft *g, const struct graft_env *env,
		    const struct cid *id)
{
	struct buf block = BUF_INIT(DAGREADER_BLOCK_MAX);
	struct bstore_stat st;
	int error;

	g->n.mode = S_IFREG | 0644;
	if (bstore_stat(&st, env->bs, id) == 0 && st.state != BSTORE_ABSENT) {
		g->content.size = st.size;
	} else {
		efs_error_clear();
		if ((error = blockio_fetch(&env->src, id, &block)) < 0)
			return error;
		g->content.size = block.len;
		buf_release(&block);
	}
	return 0;
}

static void plan_meta(struct inode_graft *g, const struct dagreader_stat *st,
		      uint32_t type, uint32_t mode)
{
	g->n.mode = type | (st->has_mode ? st->mode & 07777 : mode);
	if (st->has_mtime && st->mtime_sec > 0 &&
	    st->mtime_sec < INT64_MAX / 1000000000 - 1)
		g->mtime_ns = st->mtime_sec * 1000000000 + st->mtime_nsec;
}

static int plan_symlink(struct inode_graft *g, const struct graft_env *env,
			const struct cid *id)
{
	struct buf target = BUF_INIT(INODE_SYMLINK_MAX);
	int error;

	error = dagreader_symlink_target(&target, &env->src, id);
	if (error == EFS_ETOOBIG)
		return efs_error_set(EFS_EINVAL,
				     "graft: symlink target over %d bytes",
				     INODE_SYMLINK_MAX);
	if (error < 0)
		return error;
	if (target.len == 0 || memchr(target.ptr, '\0', target.len)) {
		buf_release(&target);
		return efs_error_set(EFS_EINVAL, "graft: empty symlink target "
						 "or one holding NUL");
	}
	g->n.target_len = target.len;
	g->n.target = (const char *)buf_detach(&target, NULL);
	return 0;
}

/* Entry i is the node id (named by a link of Tsize tsize; 0: none). */
static int plan_node(struct plan *p, size_t i, const struct cid *id,
		     uint64_t tsize, int depth)
{
	const struct graft_env *env = p->env;
	struct dagreader_stat st;
	struct dir_walk w = {p, i, depth};
	struct inode_graft *g = &p->v[i];
	int error;

	if (depth > GRAFT_DEPTH_MAX)
		return efs_error_set(EFS_ETOOBIG, "graft: tree deeper than %d",
				     GRAFT_DEPTH_MAX);
	g->content.root = *id;
	g->content.tsize = tsize;
	if (id->codec == CID_CODEC_RAW) {
		g->content.has_root = true;
		if ((error = plan_raw(g, env, id)) == 0 && !tsize)
			g->content.tsize = g->content.size;
		return error;
	}
	if ((error = dagreader_stat(&st, &env->src, id)) < 0)
		return error;
	if (!tsize && st.kind != DAGREADER_SYMLINK &&
	    (error = node_tsize(&g->content.tsize, env, id)) < 0)
		return error;
	switch (st.kind) {
	case DAGREADER_FILE:
	case DAGREADER_RAW:
		plan_meta(g, &st, S_IFREG, 0644);
		g->content.size = st.size;
		g->content.has_root = st.size > 0;
		return 0;
	case DAGREADER_SYMLINK:
		plan_meta(g, &st, S_IFLNK, 0777);
		g->content.has_root = false;
		return plan_symlink(g, env, id);
	case DAGREADER_DIRECTORY:
	case DAGREADER_HAMT:
		plan_meta(g, &st, S_IFDIR, 0755);
		g->content.has_root = true;
		/* p->v moves as entries are added: g is stale after this */
		return dagreader_dir_foreach(&env->src, id, dir_entry, &w);
	}
	return efs_error_set(EFS_EINVAL, "graft: not a UnixFS node");
}

/* ---- the graft ----------------------------------------------------- */

int graft_path(struct graft_result *out, const struct graft_env *env,
	       const char *path, const struct cid *root)
{
	struct plan p = {.env = env};
	uint64_t *inos = NULL;
	size_t top, made;
	int error;

	memset(out, 0, sizeof(*out));
	if ((error = plan_path(&top, &p, path)) < 0 ||
	    (error = path_free(env->t, path)) < 0 ||
	    (error = plan_node(&p, top, root, 0, 0)) < 0)
		goto out;
	if (!(inos = efs_calloc(p.n, sizeof(*inos)))) {
		error = efs_error_set(EFS_ENOMEM, "graft: out of memory");
		goto out;
	}
	error = inode_graft(inos, &made, env->t, INODE_ROOT, p.v, p.n);
	if (made < p.n) {
		/* made, even when pinning failed after (graft.h) */
		size_t up = p.v[made].parent;

		out->ino = inos[top];
		out->inodes = p.n - made;
		out->parent = up == INODE_GRAFT_TOP ? INODE_ROOT : inos[up];
		snprintf(out->name, sizeof(out->name), "%s", p.v[made].name);
	}
out:
	efs_free(inos);
	plan_release(&p);
	return error;
}

int graft_lookup(uint64_t *out, struct inode_table *t, const char *path)
{
	char name[INODE_NAME_MAX + 1];
	struct inode_attr a;
	const char *s = path;
	int error;

	*out = INODE_ROOT;
	if (path[0] != '/' || strlen(path) > GRAFT_PATH_MAX)
		return efs_error_set(EFS_EINVAL, "graft: bad path '%.64s'",
				     path);
	while (*s) {
		size_t n = strcspn(s, "/");

		if (n > INODE_NAME_MAX)
			return efs_error_set(FS_ENAMETOOLONG,
					     "graft: name of %zu bytes", n);
		if (n > 0) {
			memcpy(name, s, n);
			name[n] = '\0';
			if ((error = inode_lookup(&a, t, *out, name)) < 0)
				return error;
			*out = a.ino;
		}
		s += n + (s[n] == '/');
	}
	return 0;
}

/* ---- removing ------------------------------------------------------ */

/* Entries of one directory taken at a time by a removal. */
#define REMOVE_BATCH 32

struct remove_batch {
	char names[REMOVE_BATCH][INODE_NAME_MAX + 1];
	bool dir[REMOVE_BATCH];
	size_t n;
};

static int remove_take(const struct inode_dirent *e, void *payload)
{
	struct remove_batch *b = payload;

	if (b->n == REMOVE_BATCH || e->name_len > INODE_NAME_MAX)
		return 1; /* full: the rest at the next listing */
	memcpy(b->names[b->n], e->name, e->name_len);
	b->names[b->n][e->name_len] = '\0';
	b->dir[b->n++] = S_ISDIR(e->attr.mode);
	return 0;
}

static int remove_entry(uint64_t *removed, struct inode_table *t,
			uint64_t parent, const char *name, bool dir,
			unsigned depth);

/* Empty directory dir, depth levels below the path removed, counting
 * the entries that go.  Each listing starts over: what it names is gone
 * before the next. */
static int remove_below(uint64_t *removed, struct inode_table *t,
			uint64_t dir, unsigned depth)
{
	struct remove_batch *b;
	int error = 0;

	if (depth > GRAFT_DEPTH_MAX)
		return efs_error_set(EFS_ETOOBIG,
				     "remove: deeper than %u directories",
				     GRAFT_DEPTH_MAX);
	if (!(b = efs_malloc(sizeof(*b))))
		return efs_error_set(EFS_ENOMEM, "remove: out of memory");
	do {
		b->n = 0;
		error = inode_readdir(t, dir, 0, remove_take, b);
		for (size_t i = 0; error == 0 && i < b->n; i++)
			error = remove_entry(removed, t, dir, b->names[i],
					     b->dir[i], depth + 1);
	} while (error == 0 && b->n > 0);
	efs_free(b);
	return error;
}

/* Remove parent/name and what is below it; gone already is fine. */
static int remove_entry(uint64_t *removed, struct inode_table *t,
			uint64_t parent, const char *name, bool dir,
			unsigned depth)
{
	struct inode_attr a;
	int error = 0;

	if (dir && (error = inode_lookup(&a, t, parent, name)) == 0)
		error = remove_below(removed, t, a.ino, depth);
	if (error == 0 && (error = inode_unlink(t, parent, name, dir)) == 0)
		(*removed)++;
	if (error == EFS_ENOTFOUND) {
		efs_error_clear();
		error = 0;
	}
	return error;
}

int graft_remove(struct graft_result *out, struct inode_table *t,
		 const char *path)
{
	char dir[GRAFT_PATH_MAX + 1];
	struct inode_attr a;
	size_t n = strlen(path);
	char *name;
	int error;

	memset(out, 0, sizeof(*out));
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (path[0] != '/' || n > GRAFT_PATH_MAX)
		return efs_error_set(EFS_EINVAL, "remove: bad path '%.64s'",
				     path);
	memcpy(dir, path, n);
	dir[n] = '\0';
	name = strrchr(dir, '/') + 1;
	if (!name[0] || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return efs_error_set(EFS_EINVAL, "remove: bad path '%.64s'",
				     path);
	name[-1] = '\0';
	if ((error = graft_lookup(&out->parent, t, dir[0] ? dir : "/")) < 0 ||
	    (error = inode_lookup(&a, t, out->parent, name)) < 0)
		return error;
	out->ino = a.ino;
	snprintf(out->name, sizeof(out->name), "%s", name);
	if (S_ISDIR(a.mode))
		error = remove_below(&out->inodes, t, a.ino, 0);
	if (error == 0 &&
	    (error = inode_unlink(t, out->parent, name, S_ISDIR(a.mode))) == 0)
		out->inodes++;
	return error;
}
