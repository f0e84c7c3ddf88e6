/*
 * dagreader.c - reading UnixFS DAGs (see dagreader.h).
 *
 * Design notes:
 * - struct node is one fetched, decoded and classified block.  Its buffer
 *   is reset, not freed, when the node is reloaded, so a file handle
 *   reading sequentially reuses one allocation per level.
 * - A file handle is a stack of nodes: levels[0] is the root, each next
 *   level a child of the one above, levels[depth - 1] the node whose own
 *   bytes were read last.  Every level knows the file offset of its first
 *   byte (base) and how many bytes it spans (size), so a read at pos pops
 *   the levels that do not span pos and descends again from the deepest
 *   one that does.  Descending picks the child by summing blocksizes; a
 *   node's own Data bytes come before its children.  Invariants:
 *     1. levels[0..depth) are loaded; levels[i + 1] is a child of
 *        levels[i] and lies inside it;
 *     2. every loaded level's size equals the blocksize its parent gives
 *        it (checked when it is loaded), and its own bytes plus its
 *        blocksizes add up to its size;
 *     3. an error while loading a level leaves depth as it was.
 *   So every read fetches O(depth) blocks plus the leaves it covers, and
 *   a failed read (EFS_EEVICTED from a retrieval source, say) can simply
 *   be retried.
 * - Directory entry names are checked where they leave this module: a
 *   name the FUSE layer cannot show ("", ".", "..", '/' or NUL inside) is
 *   EFS_ECORRUPT, and so are duplicate or unsorted basic directory names.
 */
#include "core/dagreader.h"

#include <assert.h>
#include <string.h>

#include "core/alloc.h"
#include "core/dagpb.h"
#include "core/error.h"
#include "core/hamt.h"
#include "core/unixfs.h"

#include "core/banned.h"

/* ---- nodes ------------------------------------------------------------ */

struct node {
	struct buf block;
	struct dagpb_node pb;       /* dag-pb only; points into block */
	struct unixfs_data fsd;     /* dag-pb only */
	bool decoded;               /* pb and fsd hold allocations */
	enum dagreader_kind kind;
	const uint8_t *data;        /* file: own bytes; symlink: target */
	size_t data_len;
	uint64_t size;              /* file: bytes it spans */
};

static void node_init(struct node *n)
{
	memset(n, 0, sizeof(*n));
	buf_init(&n->block, DAGREADER_BLOCK_MAX);
}

/* Forget the node, keeping the block's allocation. */
static void node_clear(struct node *n)
{
	if (n->decoded) {
		unixfs_data_release(&n->fsd);
		dagpb_node_release(&n->pb);
		n->decoded = false;
	}
	buf_reset(&n->block);
	n->data = NULL;
	n->data_len = 0;
	n->size = 0;
}

static void node_release(struct node *n)
{
	node_clear(n);
	buf_release(&n->block);
}

/* Own bytes + blocksizes of a File node, checked against filesize. */
static int file_sizes(struct node *n)
{
	uint64_t total = n->data_len;

	if (n->fsd.nblocksizes != n->pb.nlinks)
		return efs_error_set(EFS_ECORRUPT,
				     "dagreader: %zu blocksizes for %zu links",
				     n->fsd.nblocksizes, n->pb.nlinks);
	for (size_t i = 0; i < n->fsd.nblocksizes; i++) {
		if (n->fsd.blocksizes[i] > UINT64_MAX - total)
			return efs_error_set(EFS_ECORRUPT,
					     "dagreader: blocksizes overflow");
		total += n->fsd.blocksizes[i];
	}
	if (n->fsd.has_filesize && n->fsd.filesize != total)
		return efs_error_set(EFS_ECORRUPT,
				     "dagreader: filesize %llu but blocks "
				     "add up to %llu",
				     (unsigned long long)n->fsd.filesize,
				     (unsigned long long)total);
	n->size = total;
	return 0;
}

static int classify(struct node *n)
{
	switch (n->fsd.type) {
	case UNIXFS_FILE:
	case UNIXFS_RAW:
		n->kind = DAGREADER_FILE;
		n->data = n->fsd.has_data ? n->fsd.data : NULL;
		n->data_len = n->fsd.has_data ? n->fsd.data_len : 0;
		return file_sizes(n);
	case UNIXFS_DIRECTORY:
		n->kind = DAGREADER_DIRECTORY;
		return 0;
	case UNIXFS_HAMT_SHARD:
		n->kind = DAGREADER_HAMT;
		return 0;
	case UNIXFS_SYMLINK:
		n->kind = DAGREADER_SYMLINK;
		if (!n->fsd.has_data || n->fsd.data_len == 0)
			return efs_error_set(EFS_ECORRUPT, "dagreader: "
					     "symlink without target");
		n->data = n->fsd.data;
		n->data_len = n->fsd.data_len;
		return 0;
	case UNIXFS_METADATA:
		break;
	}
	return efs_error_set(EFS_EUNSUPPORTED,
			     "dagreader: unixfs %s nodes not supported",
			     unixfs_type_name(n->fsd.type));
}

static int decode_dagpb(struct node *n)
{
	int rc = dagpb_decode(&n->pb, n->block.ptr, n->block.len);

	if (rc < 0)
		return rc;
	if (!n->pb.has_data) {
		dagpb_node_release(&n->pb);
		return efs_error_set(EFS_ECORRUPT, "dagreader: dag-pb node "
				     "without unixfs data");
	}
	rc = unixfs_decode(&n->fsd, n->pb.data, n->pb.data_len);
	if (rc < 0) {
		dagpb_node_release(&n->pb);
		return rc;
	}
	n->decoded = true;
	return classify(n);
}

/* Fetch, decode and classify id into n.  On failure n is cleared. */
static int node_load(struct node *n, const struct blockio_source *src,
		     const struct cid *id)
{
	int rc;

	node_clear(n);
	if (id->codec != CID_CODEC_RAW && id->codec != CID_CODEC_DAG_PB)
		return efs_error_set(EFS_EUNSUPPORTED,
				     "dagreader: codec 0x%llx is not unixfs",
				     (unsigned long long)id->codec);
	rc = blockio_fetch(src, id, &n->block);
	if (rc < 0)
		return rc;
	if (id->codec == CID_CODEC_RAW) {
		n->kind = DAGREADER_RAW;
		n->data = n->block.ptr;
		n->data_len = n->block.len;
		n->size = n->block.len;
		return 0;
	}
	rc = decode_dagpb(n);
	if (rc < 0)
		node_clear(n);
	return rc;
}

static bool is_file(const struct node *n)
{
	return n->kind == DAGREADER_FILE || n->kind == DAGREADER_RAW;
}

static bool is_dir(const struct node *n)
{
	return n->kind == DAGREADER_DIRECTORY || n->kind == DAGREADER_HAMT;
}

const char *dagreader_kind_name(enum dagreader_kind kind)
{
	switch (kind) {
	case DAGREADER_FILE:
		return "file";
	case DAGREADER_RAW:
		return "raw";
	case DAGREADER_DIRECTORY:
		return "directory";
	case DAGREADER_HAMT:
		return "hamt-sharded-directory";
	case DAGREADER_SYMLINK:
		return "symlink";
	}
	return "unknown";
}

int dagreader_stat(struct dagreader_stat *out,
		   const struct blockio_source *src, const struct cid *id)
{
	struct node n;
	int rc;

	node_init(&n);
	rc = node_load(&n, src, id);
	if (rc < 0)
		goto out;
	memset(out, 0, sizeof(*out));
	out->kind = n.kind;
	out->size = n.kind == DAGREADER_SYMLINK ? n.data_len : n.size;
	out->nlinks = n.decoded ? n.pb.nlinks : 0;
	out->block_size = n.block.len;
	if (n.decoded) {
		out->has_mode = n.fsd.has_mode;
		out->mode = n.fsd.mode;
		out->has_mtime = n.fsd.has_mtime;
		out->mtime_sec = n.fsd.mtime_sec;
		out->mtime_nsec = n.fsd.mtime_nsec;
	}
out:
	node_release(&n);
	return rc;
}

/* ---- files ------------------------------------------------------------ */

struct level {
	struct node n;
	uint64_t base;              /* file offset of the node's first byte */
};

struct dagreader_file {
	struct blockio_source src;
	size_t depth;               /* levels in use, 1..DEPTH_MAX */
	size_t ninit;               /* levels set up, depth..DEPTH_MAX: each
				       when first used, so opening a
				       shallow file does not clear all 64
				       (15 KiB) */
	struct level levels[DAGREADER_DEPTH_MAX];
};

int dagreader_file_open(struct dagreader_file **out,
			const struct blockio_source *src, const struct cid *id)
{
	struct dagreader_file *f = efs_malloc(sizeof(*f));
	int rc;

	if (!f)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	f->src = *src;
	f->depth = 0;
	f->ninit = 1;
	f->levels[0].base = 0;
	node_init(&f->levels[0].n);
	rc = node_load(&f->levels[0].n, src, id);
	if (rc == 0 && !is_file(&f->levels[0].n))
		rc = efs_error_set(EFS_EINVAL, "dagreader: %s is not a file",
				   dagreader_kind_name(f->levels[0].n.kind));
	if (rc < 0) {
		dagreader_file_close(f);
		return rc;
	}
	f->depth = 1;
	*out = f;
	return 0;
}

uint64_t dagreader_file_size(const struct dagreader_file *f)
{
	return f->levels[0].n.size;
}

void dagreader_file_close(struct dagreader_file *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->ninit; i++)
		node_release(&f->levels[i].n);
	efs_free(f);
}

static bool level_spans(const struct level *l, uint64_t pos)
{
	return pos >= l->base && pos - l->base < l->n.size;
}

/*
 * Load child id of a File node into child and check that it belongs there:
 * a raw or dag-pb File node of exactly want bytes (its parent's blocksize).
 */
static int load_file_child(struct node *child, const struct blockio_source *src,
			   const struct cid *id, uint64_t want)
{
	int rc;

	if (id->codec != CID_CODEC_RAW && id->codec != CID_CODEC_DAG_PB)
		return efs_error_set(EFS_ECORRUPT,
				     "dagreader: codec 0x%llx inside a file",
				     (unsigned long long)id->codec);
	if ((rc = node_load(child, src, id)) < 0)
		return rc;
	if (!is_file(child))
		return efs_error_set(EFS_ECORRUPT,
				     "dagreader: %s node inside a file",
				     dagreader_kind_name(child->kind));
	if (child->size != want)
		return efs_error_set(EFS_ECORRUPT,
				     "dagreader: child of %llu bytes where "
				     "blocksize says %llu",
				     (unsigned long long)child->size,
				     (unsigned long long)want);
	return 0;
}

/* Load child link i of parent (which starts at start) as the next level. */
static int push_child(struct dagreader_file *f, const struct level *parent,
		      size_t i, uint64_t start)
{
	struct level *child = &f->levels[f->depth];
	const struct cid *id = &parent->n.pb.links[i].cid;
	uint64_t want = parent->n.fsd.blocksizes[i];
	int rc;

	if (f->depth == DAGREADER_DEPTH_MAX)
		return efs_error_set(EFS_ECORRUPT,
				     "dagreader: file dag deeper than %d",
				     DAGREADER_DEPTH_MAX);
	if (f->depth == f->ninit)
		node_init(&f->levels[f->ninit++].n);
	if ((rc = load_file_child(&child->n, &f->src, id, want)) < 0) {
		node_clear(&child->n);
		return rc;
	}
	child->base = parent->base + start;
	f->depth++;
	return 0;
}

/*
 * Make levels[depth - 1] the node whose own bytes hold pos (< file size):
 * pop what does not span pos, then descend.
 */
static int seek_leaf(struct dagreader_file *f, uint64_t pos)
{
	while (f->depth > 1 && !level_spans(&f->levels[f->depth - 1], pos))
		node_clear(&f->levels[--f->depth].n);
	for (;;) {
		const struct level *l = &f->levels[f->depth - 1];
		uint64_t rel = pos - l->base;
		uint64_t start = l->n.data_len;
		size_t i = 0;
		int rc;

		if (rel < l->n.data_len)
			return 0;
		/* rel < size (invariant 2), so some child holds it */
		while (i < l->n.fsd.nblocksizes &&
		       rel - start >= l->n.fsd.blocksizes[i])
			start += l->n.fsd.blocksizes[i++];
		assert(i < l->n.fsd.nblocksizes);
		rc = push_child(f, l, i, start);
		if (rc < 0)
			return rc;
	}
}

int dagreader_file_read(void *out, size_t *out_len, struct dagreader_file *f,
			uint64_t off, size_t len)
{
	uint64_t size = dagreader_file_size(f);
	uint8_t *dst = out;
	size_t done = 0;

	*out_len = 0;
	if (off >= size)
		return 0;
	if (len > size - off)
		len = (size_t)(size - off);
	while (done < len) {
		uint64_t pos = off + done;
		const struct level *l;
		uint64_t rel;
		size_t n;
		int rc = seek_leaf(f, pos);

		if (rc < 0)
			return rc;
		l = &f->levels[f->depth - 1];
		rel = pos - l->base;
		n = len - done;
		if (n > l->n.data_len - rel)
			n = (size_t)(l->n.data_len - rel);
		memcpy(dst + done, l->n.data + rel, n);
		done += n;
	}
	*out_len = done;
	return 0;
}

int dagreader_file_peek(const uint8_t **out, size_t *out_len,
			struct dagreader_file *f, uint64_t off)
{
	const struct level *l;
	uint64_t rel;
	int rc;

	*out = NULL;
	*out_len = 0;
	if (off >= dagreader_file_size(f))
		return 0;
	if ((rc = seek_leaf(f, off)) < 0)
		return rc;
	l = &f->levels[f->depth - 1];
	rel = off - l->base;
	*out = l->n.data + rel;
	*out_len = (size_t)(l->n.data_len - rel);
	return 0;
}

int dagreader_read(void *out, size_t *out_len,
		   const struct blockio_source *src, const struct cid *id,
		   uint64_t off, size_t len)
{
	struct dagreader_file *f;
	int rc = dagreader_file_open(&f, src, id);

	if (rc < 0)
		return rc;
	rc = dagreader_file_read(out, out_len, f, off, len);
	dagreader_file_close(f);
	return rc;
}

/* ---- leaves ----------------------------------------------------------- */

struct leaves_walk {
	const struct blockio_source *src;
	dagreader_leaf_known_fn known;  /* or NULL */
	dagreader_leaf_cb cb;
	void *payload;
	struct node *nodes;         /* DAGREADER_DEPTH_MAX levels */
};

static int report_node(struct leaves_walk *w, const struct node *n,
		       const struct cid *id, uint64_t base)
{
	struct dagreader_leaf leaf = {
		.id = *id,
		.offset = base,
		.size = n->size,
		.fetched = true,
		.block_size = n->block.len,
		.has_meta = n->decoded && (n->fsd.has_mode || n->fsd.has_mtime),
		.raw_type = n->decoded && n->fsd.type == UNIXFS_RAW,
	};

	return w->cb(&leaf, w->payload);
}

static int walk_node(struct leaves_walk *w, size_t depth, const struct cid *id,
		     uint64_t base);

/* Child i of nodes[depth] (a File node with links) at offset base. */
static int walk_child(struct leaves_walk *w, size_t depth, size_t i,
		      uint64_t base)
{
	const struct node *parent = &w->nodes[depth];
	const struct cid *id = &parent->pb.links[i].cid;
	uint64_t want = parent->fsd.blocksizes[i];
	struct dagreader_leaf leaf = {
		.id = *id, .offset = base, .size = want,
	};
	struct node *child;
	int rc;

	if (id->codec == CID_CODEC_RAW)
		return w->cb(&leaf, w->payload);
	if (id->codec == CID_CODEC_DAG_PB && w->known &&
	    w->known(&leaf.block_size, id, w->payload))
		return w->cb(&leaf, w->payload);
	if (depth + 1 == DAGREADER_DEPTH_MAX)
		return efs_error_set(EFS_ECORRUPT,
				     "dagreader: file dag deeper than %d",
				     DAGREADER_DEPTH_MAX);
	child = &w->nodes[depth + 1];
	if ((rc = load_file_child(child, w->src, id, want)) < 0)
		return rc;
	return walk_node(w, depth + 1, id, base);
}

/* Report the leaves under nodes[depth] (loaded; it is id, at base). */
static int walk_node(struct leaves_walk *w, size_t depth, const struct cid *id,
		     uint64_t base)
{
	const struct node *n = &w->nodes[depth];
	uint64_t pos = base + n->data_len;
	int rc;

	if (!n->decoded || n->pb.nlinks == 0)
		return report_node(w, n, id, base);
	if (n->data_len) {
		struct dagreader_leaf leaf = {
			.id = *id, .offset = base, .size = n->data_len,
			.inner = true, .fetched = true,
			.block_size = n->block.len,
			.has_meta = n->fsd.has_mode || n->fsd.has_mtime,
		};

		if ((rc = w->cb(&leaf, w->payload)) != 0)
			return rc;
	}
	for (size_t i = 0; i < n->pb.nlinks; i++) {
		if ((rc = walk_child(w, depth, i, pos)) != 0)
			return rc;
		pos += n->fsd.blocksizes[i];
	}
	return 0;
}

int dagreader_leaves_foreach(const struct blockio_source *src,
			     const struct cid *id, dagreader_leaf_cb cb,
			     void *payload)
{
	return dagreader_leaves_foreach_known(src, id, NULL, cb, payload);
}

int dagreader_leaves_foreach_known(const struct blockio_source *src,
				   const struct cid *id,
				   dagreader_leaf_known_fn known,
				   dagreader_leaf_cb cb, void *payload)
{
	struct leaves_walk w = { src, known, cb, payload, NULL };
	int rc;

	w.nodes = efs_calloc(DAGREADER_DEPTH_MAX, sizeof(*w.nodes));
	if (!w.nodes)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	for (size_t i = 0; i < DAGREADER_DEPTH_MAX; i++)
		node_init(&w.nodes[i]);
	rc = node_load(&w.nodes[0], src, id);
	if (rc == 0 && !is_file(&w.nodes[0]))
		rc = efs_error_set(EFS_EINVAL, "dagreader: %s is not a file",
				   dagreader_kind_name(w.nodes[0].kind));
	if (rc == 0)
		rc = walk_node(&w, 0, id, 0);
	for (size_t i = 0; i < DAGREADER_DEPTH_MAX; i++)
		node_release(&w.nodes[i]);
	efs_free(w.nodes);
	return rc;
}

/* ---- directories ------------------------------------------------------ */

static bool name_ok(const uint8_t *name, size_t len)
{
	if (len == 0 || memchr(name, '/', len) || memchr(name, '\0', len))
		return false;
	return !(len == 1 && name[0] == '.') &&
	       !(len == 2 && name[0] == '.' && name[1] == '.');
}

static int bad_name(const uint8_t *name, size_t len)
{
	return efs_error_set(EFS_ECORRUPT,
			     "dagreader: bad directory entry name \"%.*s\"",
			     (int)len, (const char *)name);
}

/* Names present, valid, strictly increasing. */
static int check_basic_dir(const struct node *dir)
{
	for (size_t i = 0; i < dir->pb.nlinks; i++) {
		const struct dagpb_link *l = &dir->pb.links[i];
		const struct dagpb_link *prev = l - 1;

		if (!l->has_name || !name_ok(l->name, l->name_len))
			return bad_name(l->name, l->name_len);
		if (i > 0 && dagpb_name_compare(prev->name, prev->name_len,
						l->name, l->name_len) >= 0)
			return efs_error_set(EFS_ECORRUPT,
					     "dagreader: directory names "
					     "unsorted or repeated at \"%.*s\"",
					     (int)l->name_len,
					     (const char *)l->name);
	}
	return 0;
}

struct hamt_walk {
	dagreader_dir_cb cb;
	void *payload;
};

static int hamt_entry(const char *name, size_t name_len, const struct cid *id,
		      uint64_t tsize, void *payload)
{
	struct hamt_walk *w = payload;

	if (!name_ok((const uint8_t *)name, name_len))
		return bad_name((const uint8_t *)name, name_len);
	return w->cb(name, name_len, id, tsize, w->payload);
}

static int list_loaded(const struct blockio_source *src, const struct node *dir,
		       dagreader_dir_cb cb, void *payload)
{
	struct hamt_walk w = { cb, payload };
	int rc;

	if (dir->kind == DAGREADER_HAMT)
		return hamt_foreach_block(src, dir->block.ptr, dir->block.len,
					  hamt_entry, &w);
	rc = check_basic_dir(dir);
	for (size_t i = 0; rc == 0 && i < dir->pb.nlinks; i++) {
		const struct dagpb_link *l = &dir->pb.links[i];

		rc = cb((const char *)l->name, l->name_len, &l->cid, l->tsize,
			payload);
	}
	return rc;
}

static int not_a_dir(const struct node *n)
{
	return efs_error_set(EFS_EINVAL, "dagreader: %s is not a directory",
			     dagreader_kind_name(n->kind));
}

int dagreader_dir_foreach(const struct blockio_source *src,
			  const struct cid *dir, dagreader_dir_cb cb,
			  void *payload)
{
	struct node n;
	int rc;

	node_init(&n);
	rc = node_load(&n, src, dir);
	if (rc == 0)
		rc = is_dir(&n) ? list_loaded(src, &n, cb, payload)
				: not_a_dir(&n);
	node_release(&n);
	return rc;
}

/* Find name (already checked) in the loaded directory dir. */
static int lookup_loaded(struct cid *out, const struct blockio_source *src,
			 const struct node *dir, const char *name,
			 size_t name_len)
{
	int rc;

	if (!is_dir(dir))
		return not_a_dir(dir);
	if (dir->kind == DAGREADER_HAMT)
		return hamt_lookup_block(out, src, dir->block.ptr,
					 dir->block.len, name, name_len);
	rc = check_basic_dir(dir);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < dir->pb.nlinks; i++) {
		const struct dagpb_link *l = &dir->pb.links[i];

		if (l->name_len == name_len &&
		    !memcmp(l->name, name, name_len)) {
			*out = l->cid;
			return 0;
		}
	}
	return efs_error_set(EFS_ENOTFOUND, "dagreader: no entry \"%.*s\"",
			     (int)name_len, name);
}

int dagreader_dir_lookup(struct cid *out, const struct blockio_source *src,
			 const struct cid *dir, const char *name,
			 size_t name_len)
{
	struct node n;
	int rc;

	if (!name_ok((const uint8_t *)name, name_len))
		return efs_error_set(EFS_EINVAL,
				     "dagreader: bad name \"%.*s\"",
				     (int)name_len, name);
	node_init(&n);
	rc = node_load(&n, src, dir);
	if (rc == 0)
		rc = lookup_loaded(out, src, &n, name, name_len);
	node_release(&n);
	return rc;
}

/* ---- paths ------------------------------------------------------------ */

int dagreader_resolve(struct cid *out, const struct blockio_source *src,
		      const struct cid *root, const char *path)
{
	struct cid cur = *root;
	struct node n;
	int rc = 0;

	node_init(&n);
	while (*path) {
		size_t len = strcspn(path, "/");
		const char *seg = path;

		path += len + (path[len] == '/');
		if (len == 0 || (len == 1 && seg[0] == '.'))
			continue;
		if (len == 2 && seg[0] == '.' && seg[1] == '.') {
			rc = efs_error_set(EFS_EINVAL,
					   "dagreader: \"..\" in a path");
			break;
		}
		rc = node_load(&n, src, &cur);
		if (rc == 0)
			rc = lookup_loaded(&cur, src, &n, seg, len);
		if (rc < 0)
			break;
	}
	node_release(&n);
	if (rc == 0)
		*out = cur;
	return rc;
}

int dagreader_resolve_str(struct cid *out, const struct blockio_source *src,
			  const char *cid_path)
{
	const char *p = cid_path;
	struct cid root;
	size_t len;

	if (!strncmp(p, "/ipfs/", 6))
		p += 6;
	len = strcspn(p, "/");
	if (len == 0 || cid_parse_n(&root, p, len) < 0)
		return efs_error_set(EFS_EINVAL,
				     "dagreader: \"%s\" does not start with "
				     "a cid", cid_path);
	return dagreader_resolve(out, src, &root, p + len);
}

/* ---- symlinks --------------------------------------------------------- */

int dagreader_symlink_target(struct buf *out,
			     const struct blockio_source *src,
			     const struct cid *id)
{
	struct node n;
	int rc;

	node_init(&n);
	rc = node_load(&n, src, id);
	if (rc == 0 && n.kind != DAGREADER_SYMLINK)
		rc = efs_error_set(EFS_EINVAL,
				   "dagreader: %s is not a symlink",
				   dagreader_kind_name(n.kind));
	if (rc == 0)
		rc = buf_add(out, n.data, n.data_len);
	node_release(&n);
	return rc;
}
