/*
 * dircid.c - CIDs of inodes on demand (dircid.h).
 *
 * A directory is built bottom-up: list it in one read snapshot (taking
 * the cache version of that snapshot), compute each subdirectory without
 * a usable cached CID first, then add every child to an importer_dir and
 * finish it into the blockstore.  The result is stored as the cache only
 * if the directory's version is still the snapshot's (inode.c invariant
 * 7); either way it is the right CID for the snapshot and is returned.
 *
 * A cached CID is used only while its block is still in the blockstore:
 * caches are not pinned, so gc may have taken an old one.  The block of
 * a directory node being present means its whole DAG is (gc frees a
 * block's children only after the block itself), so one check suffices.
 */
#include "fs/dircid.h"

#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/bstore.h"
#include "core/dagpb.h"
#include "core/error.h"
#include "core/importer_dir.h"
#include "core/importer_file.h"
#include "fs/inode.h"

#include "core/banned.h"

/* One child of a directory being built. */
struct child {
	char *name;
	size_t name_len;
	uint64_t ino;
	uint32_t mode;
	struct inode_content content;
};

struct children {
	struct child *v;
	size_t n;
	size_t cap;
};

static void children_release(struct children *c)
{
	for (size_t i = 0; i < c->n; i++)
		efs_free(c->v[i].name);
	efs_free(c->v);
	memset(c, 0, sizeof(*c));
}

static int children_add(const struct inode_dirent *e, void *payload)
{
	struct children *c = payload;
	struct child *ch;

	if (!S_ISREG(e->attr.mode) && !S_ISDIR(e->attr.mode) &&
	    !S_ISLNK(e->attr.mode))
		return 0; /* fifos, sockets, devices: not in UnixFS */
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct child *v = efs_reallocarray(c->v, cap, sizeof(*v));

		if (!v)
			return efs_error_set(EFS_ENOMEM, "dircid: out of "
							 "memory");
		c->v = v;
		c->cap = cap;
	}
	ch = &c->v[c->n];
	if (!(ch->name = efs_strndup(e->name, e->name_len)))
		return efs_error_set(EFS_ENOMEM, "dircid: out of memory");
	ch->name_len = e->name_len;
	ch->ino = e->attr.ino;
	ch->mode = e->attr.mode;
	ch->content = e->content;
	c->n++;
	return 0;
}

int dircid_empty_file(struct cid *out, uint64_t *tsize_out,
		      struct bstore *bs, const struct importer_opts *opts)
{
	struct blockio_sink sink = bs ? bstore_sink(bs) : blockio_null_sink;
	struct importer_file *f;
	int error;

	if ((error = importer_file_new(&f, opts, NULL, &sink)) < 0)
		return error;
	error = importer_file_finish(f, out, NULL, tsize_out);
	importer_file_free(f);
	return error;
}

/*
 * The Tsize of a file root when the table does not know it: a raw leaf's
 * is its size; a dag-pb node's is its block plus its links' Tsizes.
 */
static int file_tsize(uint64_t *out, struct bstore *bs,
		      const struct inode_content *c)
{
	struct buf block = BUF_INIT(DAGPB_BLOCK_MAX);
	int error;

	*out = c->tsize;
	if (c->tsize || c->root.codec == CID_CODEC_RAW) {
		if (!c->tsize)
			*out = c->size;
		return 0;
	}
	if ((error = bstore_get(bs, &c->root, &block)) == 0)
		error = dagpb_tsize(out, block.ptr, block.len);
	buf_release(&block);
	return error;
}

static int symlink_cid(struct cid *out, uint64_t *tsize_out,
		       const struct dircid_env *env, uint64_t ino)
{
	struct buf target = BUF_INIT(BUF_NOCAP);
	struct blockio_sink sink = bstore_sink(env->bs);
	int error;

	if ((error = inode_readlink(&target, env->t, ino)) == 0)
		error = importer_symlink(out, tsize_out,
					 (const char *)target.ptr, target.len,
					 env->iopts, NULL, &sink);
	buf_release(&target);
	return error;
}

static int dir_cid(struct cid *out, uint64_t *tsize_out,
		   const struct dircid_env *env, uint64_t dir, int depth);

/* The CID of one child (type from mode; content from the listing). */
static int child_cid(struct cid *out, uint64_t *tsize_out,
		     const struct dircid_env *env, const struct child *ch,
		     int depth)
{
	if (S_ISDIR(ch->mode))
		return dir_cid(out, tsize_out, env, ch->ino, depth + 1);
	if (S_ISLNK(ch->mode))
		return symlink_cid(out, tsize_out, env, ch->ino);
	if (!ch->content.has_root)
		return dircid_empty_file(out, tsize_out, env->bs, env->iopts);
	*out = ch->content.root;
	return file_tsize(tsize_out, env->bs, &ch->content);
}

/* Build dir from its listing c into the blockstore. */
static int dir_build(struct cid *out, uint64_t *tsize_out,
		     const struct dircid_env *env, const struct children *c,
		     int depth)
{
	struct blockio_sink sink = bstore_sink(env->bs);
	struct importer_dir *d;
	int error;

	if ((error = importer_dir_new(&d, env->iopts, NULL, &sink)) < 0)
		return error;
	for (size_t i = 0; i < c->n; i++) {
		const struct child *ch = &c->v[i];
		struct cid id;
		uint64_t tsize;

		if ((error = child_cid(&id, &tsize, env, ch, depth)) < 0 ||
		    (error = importer_dir_add(d, ch->name, ch->name_len, &id,
					      tsize)) < 0)
			goto out;
	}
	error = importer_dir_finish(d, out, tsize_out);
out:
	importer_dir_free(d);
	return error;
}

static int dir_cid(struct cid *out, uint64_t *tsize_out,
		   const struct dircid_env *env, uint64_t dir, int depth)
{
	struct children c = { 0 };
	struct inode_content cached;
	uint64_t ver;
	bool stored;
	int error;

	if (depth > DIRCID_DEPTH_MAX)
		return efs_error_set(EFS_ETOOBIG, "dircid: tree deeper than "
						  "%d", DIRCID_DEPTH_MAX);
	if ((error = inode_dircid_get(&cached, &ver, env->t, dir)) < 0)
		return error;
	if (cached.has_root && bstore_has(env->bs, &cached.root)) {
		*out = cached.root;
		*tsize_out = cached.tsize;
		return 0;
	}
	error = inode_dir_snapshot(&ver, env->t, dir, children_add, &c);
	if (error == 0)
		error = dir_build(out, tsize_out, env, &c, depth);
	children_release(&c);
	if (error < 0)
		return error;
	return inode_dircid_set(&stored, env->t, dir, ver, out, *tsize_out);
}

int dircid_inode(struct cid *out, uint64_t *tsize_out,
		 const struct dircid_env *env, uint64_t ino)
{
	struct inode_content content;
	struct inode_attr a;
	struct child ch;
	uint64_t tsize;
	int error;

	if (!tsize_out)
		tsize_out = &tsize;
	if ((error = inode_getattr(&a, env->t, ino)) < 0)
		return error;
	if (S_ISREG(a.mode) &&
	    (error = inode_get_content(&content, env->t, ino)) < 0)
		return error;
	if (!S_ISREG(a.mode) && !S_ISDIR(a.mode) && !S_ISLNK(a.mode))
		return efs_error_set(EFS_EINVAL, "dircid: inode %llu is a "
						 "special file",
				     (unsigned long long)ino);
	memset(&ch, 0, sizeof(ch));
	ch.ino = ino;
	ch.mode = a.mode;
	if (S_ISREG(a.mode))
		ch.content = content;
	return child_cid(out, tsize_out, env, &ch, 0);
}
