/*
 * importer.c - the importer's options and profiles, name checks, and the
 * node helpers every part of the importer shares (see importer.h).
 *
 * The importer is split by what it builds:
 *   importer.c          options, names, metadata, node encoding, symlinks
 *   importer_file.c     one file: chunking + balanced layout, incremental
 *   importer_trickle.c  one file's trickle layout, fed by importer_file.c
 *   importer_dir.c      one directory: basic node or HAMT
 *   importer_tree.c     files and trees on disk (importer_add_fd/_path)
 *   leafpool.c          worker threads hashing leaves for importer_tree.c
 *
 * Every node and every dag-pb leaf goes through importer_node_make, so
 * the encoding rules (canonical dag-pb, UnixFS fields in number order,
 * the CID version and hash of the options) live in one place.  It sizes
 * the block first, then writes the links, the PBNode.Data header and the
 * UnixFS message straight after it: a chunk is copied once, into the
 * block (raw leaves are not copied at all: the chunk is the block).
 */
#include "core/importer.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/importer_i.h"
#include "core/mhash.h"
#include "core/pbwire_i.h"
#include "core/utf8.h"
#include "core/varint.h"

#include "core/banned.h"

/* Both profiles' HAMT threshold (IPIP-499): 256 KiB. */
#define PROFILE_HAMT_THRESHOLD 262144u

int importer_opts_profile(struct importer_opts *out, const char *name)
{
	memset(out, 0, sizeof(*out));
	out->cid_version = 1;
	out->hash = MHASH_SHA2_256;
	out->chunk_size = 1048576;
	out->max_links = 1024;
	out->raw_leaves = true;
	out->hamt_threshold = PROFILE_HAMT_THRESHOLD;
	out->hamt_estimator = IMPORTER_HAMT_BLOCK;
	out->hamt_fanout = 256;
	out->include_hidden = true;
	if (!name || !*name || !strcmp(name, "unixfs-v1-2025"))
		return 0;
	if (strcmp(name, "unixfs-v0-2015") && strcmp(name, "legacy-cid-v0"))
		return efs_error_set(EFS_EINVAL,
				     "importer: unknown profile '%s'", name);
	out->cid_version = 0;
	out->chunk_size = 262144;
	out->max_links = 174;
	out->raw_leaves = false;
	out->hamt_estimator = IMPORTER_HAMT_LINKS;
	return 0;
}

static bool power_of_two(unsigned v)
{
	return v && !(v & (v - 1));
}

int importer_opts_check(const struct importer_opts *o)
{
	if (o->cid_version != 0 && o->cid_version != 1)
		return efs_error_set(EFS_EINVAL,
				     "importer: cid version %d (want 0 or 1)",
				     o->cid_version);
	if (o->hash == MHASH_IDENTITY || !mhash_can_compute(o->hash) ||
	    !mhash_digest_size(o->hash))
		return efs_error_set(EFS_EINVAL,
				     "importer: cannot hash with 0x%llx",
				     (unsigned long long)o->hash);
	if (o->chunk_size < 1 || o->chunk_size > IMPORTER_CHUNK_MAX)
		return efs_error_set(EFS_EINVAL,
				     "importer: chunk size %zu not in 1..%u",
				     o->chunk_size, IMPORTER_CHUNK_MAX);
	if (o->max_links < 2 || o->max_links > IMPORTER_LINKS_MAX)
		return efs_error_set(EFS_EINVAL,
				     "importer: max links %u not in 2..%u",
				     o->max_links, IMPORTER_LINKS_MAX);
	if (o->layout != IMPORTER_LAYOUT_BALANCED &&
	    o->layout != IMPORTER_LAYOUT_TRICKLE)
		return efs_error_set(EFS_EINVAL, "importer: unknown layout %d",
				     (int)o->layout);
	if (o->hamt_estimator != IMPORTER_HAMT_LINKS &&
	    o->hamt_estimator != IMPORTER_HAMT_BLOCK &&
	    o->hamt_estimator != IMPORTER_HAMT_DISABLED)
		return efs_error_set(EFS_EINVAL,
				     "importer: unknown hamt estimator %d",
				     (int)o->hamt_estimator);
	if (!power_of_two(o->hamt_fanout) || o->hamt_fanout < 8 ||
	    o->hamt_fanout > 1024)
		return efs_error_set(EFS_EINVAL,
				     "importer: hamt fanout %u is not a power "
				     "of two in 8..1024",
				     o->hamt_fanout);
	if (o->threads > IMPORTER_THREADS_MAX)
		return efs_error_set(EFS_EINVAL,
				     "importer: %u threads (max %u)",
				     o->threads, IMPORTER_THREADS_MAX);
	return 0;
}

int importer_opts_cid_version(const struct importer_opts *o)
{
	return o->hash == MHASH_SHA2_256 ? o->cid_version : 1;
}

const char *importer_escape(char *out, size_t cap, const char *s, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 5 < cap; i++) {
		uint8_t c = (uint8_t)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
	}
	out[o] = '\0';
	return out;
}

static int bad_name(const char *name, size_t len, const char *why)
{
	char esc[256];

	return efs_error_set(EFS_EINVAL, "importer: name '%s' %s",
			     importer_escape(esc, sizeof(esc), name, len), why);
}

int importer_name_check(const char *name, size_t len)
{
	const uint8_t *p = (const uint8_t *)name;

	if (len == 0)
		return efs_error_set(EFS_EINVAL, "importer: empty name");
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return bad_name(name, len, "is reserved");
	for (size_t i = 0; i < len;) {
		size_t n = utf8_width(p + i, len - i);

		if (n == 0)
			return bad_name(name, len, "is not valid UTF-8");
		if (p[i] == '/' || p[i] == '\0')
			return bad_name(name, len, "contains '/' or NUL");
		i += n;
	}
	return 0;
}

void importer_meta_apply(struct unixfs_data *d,
			 const struct importer_meta *meta)
{
	bool dir = d->type == UNIXFS_DIRECTORY || d->type == UNIXFS_HAMT_SHARD;
	uint32_t def = dir ? UNIXFS_DEFAULT_DIR_MODE : UNIXFS_DEFAULT_FILE_MODE;

	if (!meta)
		return;
	if (meta->has_mode && (meta->mode & 07777) != def) {
		d->has_mode = true;
		d->mode = meta->mode & 07777;
	}
	if (meta->has_mtime) {
		d->has_mtime = true;
		d->mtime_sec = meta->mtime_sec;
		d->mtime_nsec = meta->mtime_nsec;
	}
}

int importer_ctx_init(struct importer_ctx *c, const struct importer_opts *opts,
		      const struct importer_meta *meta,
		      const struct blockio_sink *sink)
{
	int error;

	memset(c, 0, sizeof(*c));
	if ((error = importer_opts_check(opts)) < 0)
		return error;
	if (meta && meta->has_mtime && meta->mtime_nsec > 999999999)
		return efs_error_set(EFS_EINVAL,
				     "importer: mtime nanoseconds %u",
				     meta->mtime_nsec);
	c->opts = *opts;
	if (meta)
		c->meta = *meta;
	c->sink = *sink;
	buf_init(&c->block, DAGPB_BLOCK_MAX);
	return 0;
}

void importer_ctx_release(struct importer_ctx *c)
{
	buf_release(&c->block);
}

/* PBNode.Data's key: field 1, length-delimited. */
#define PBNODE_DATA_KEY 0x0a

int importer_node_make(struct cid *out, struct buf *block,
		       const struct unixfs_data *ud,
		       const struct dagpb_link *links, size_t n,
		       const struct importer_opts *opts)
{
	struct dagpb_node node = {.links = (struct dagpb_link *)links,
				  .nlinks = n};
	uint8_t head[1 + VARINT_MAX_LEN];
	size_t ulen = unixfs_encoded_size(ud);
	size_t size = dagpb_encoded_size(&node) + pbwire_len_field_size(ulen);
	size_t hlen =
	    (size_t)(pbwire_put_uint(head, PBNODE_DATA_KEY, ulen) - head);
	int error;

	buf_reset(block);
	if (size > DAGPB_BLOCK_MAX)
		return efs_error_set(EFS_ETOOBIG,
				     "importer: node of %zu bytes over the "
				     "%u cap",
				     size, DAGPB_BLOCK_MAX);
	/* One allocation for the whole block, then append in order. */
	if ((error = buf_grow(block, size)) < 0 ||
	    (n && (error = dagpb_encode(block, &node)) < 0) ||
	    (error = buf_add(block, head, hlen)) < 0 ||
	    (error = unixfs_encode(block, ud)) < 0)
		return error;
	assert(block->len == size);
	return cid_hash(out, importer_opts_cid_version(opts), CID_CODEC_DAG_PB,
			opts->hash, block->ptr, block->len);
}

int importer_node_store(struct cid *out, size_t *len_out,
			struct importer_ctx *c, const struct unixfs_data *ud,
			const struct dagpb_link *links, size_t n)
{
	int error;

	error = importer_node_make(out, &c->block, ud, links, n, &c->opts);
	if (error < 0)
		return error;
	*len_out = c->block.len;
	return blockio_put(&c->sink, out, c->block.ptr, c->block.len);
}

/* The UnixFS Data of the dag-pb leaf of chunk[0..len). */
static void leaf_data(struct unixfs_data *out, enum importer_layout layout,
		      const uint8_t *chunk, size_t len)
{
	memset(out, 0, sizeof(*out));
	/* kubo's trickle leaves are Type Raw (boxo FillNodeLayer). */
	out->type =
	    layout == IMPORTER_LAYOUT_TRICKLE ? UNIXFS_RAW : UNIXFS_FILE;
	out->data = chunk;
	out->data_len = len;
	out->has_data = len > 0;
	out->filesize = len;
	out->has_filesize = true;
}

int importer_leaf_make(struct importer_leaf *out, struct buf *block,
		       const uint8_t *chunk, size_t len,
		       const struct importer_opts *opts)
{
	struct unixfs_data ud;
	int error;

	out->size = len;
	if (opts->raw_leaves) {
		out->block = chunk;
		out->block_len = len;
		out->tsize = len;
		return cid_hash(&out->cid, 1, CID_CODEC_RAW, opts->hash, chunk,
				len);
	}
	leaf_data(&ud, opts->layout, chunk, len);
	error = importer_node_make(&out->cid, block, &ud, NULL, 0, opts);
	if (error < 0)
		return error;
	out->block = block->ptr;
	out->block_len = block->len;
	out->tsize = block->len;
	return 0;
}

uint64_t importer_leaf_block_size(uint64_t size)
{
	struct unixfs_data ud;

	/* Type File and Raw encode to the same size. */
	leaf_data(&ud, IMPORTER_LAYOUT_BALANCED, NULL, (size_t)size);
	return pbwire_len_field_size(unixfs_encoded_size(&ud));
}

int importer_links_alloc(struct importer_links *l, size_t cap)
{
	if (l->links)
		return 0;
	l->links = efs_calloc(cap, sizeof(*l->links));
	l->sizes = efs_calloc(cap, sizeof(*l->sizes));
	if (!l->links || !l->sizes) {
		importer_links_release(l);
		return efs_error_set(EFS_ENOMEM, "importer: out of memory");
	}
	return 0;
}

void importer_links_release(struct importer_links *l)
{
	efs_free(l->links);
	efs_free(l->sizes);
	memset(l, 0, sizeof(*l));
}

void importer_links_add(struct importer_links *l, const struct cid *id,
			uint64_t size, uint64_t tsize)
{
	struct dagpb_link *lk = &l->links[l->n];

	lk->cid = *id;
	lk->name = (const uint8_t *)"";
	lk->name_len = 0;
	lk->has_name = true;
	lk->tsize = tsize;
	lk->has_tsize = true;
	l->sizes[l->n++] = size;
}

int importer_links_store(struct cid *out, uint64_t *size_out,
			 uint64_t *tsize_out, struct importer_links *l,
			 struct importer_ctx *c)
{
	struct unixfs_data ud = {.type = UNIXFS_FILE, .has_filesize = true};
	uint64_t tsize = 0;
	size_t len;
	int error;

	for (size_t i = 0; i < l->n; i++) {
		ud.filesize += l->sizes[i];
		tsize += l->links[i].tsize;
	}
	ud.blocksizes = l->sizes;
	ud.nblocksizes = l->n;
	importer_meta_apply(&ud, &c->meta);
	error = importer_node_store(out, &len, c, &ud, l->links, l->n);
	if (error < 0)
		return error;
	l->n = 0;
	*size_out = ud.filesize;
	*tsize_out = tsize + len;
	return 0;
}

/* A symlink target longer than this is refused (PATH_MAX is 4096). */
#define SYMLINK_TARGET_MAX (1u << 20)

int importer_symlink(struct cid *out, uint64_t *tsize_out, const char *target,
		     size_t len, const struct importer_opts *opts,
		     const struct importer_meta *meta,
		     const struct blockio_sink *sink)
{
	struct unixfs_data ud = {.type = UNIXFS_SYMLINK};
	struct importer_ctx c;
	size_t n = 0;
	int error;

	if ((error = importer_ctx_init(&c, opts, meta, sink)) < 0)
		return error;
	if (len > SYMLINK_TARGET_MAX)
		return efs_error_set(
		    EFS_ETOOBIG, "importer: symlink target of %zu bytes", len);
	ud.data = (const uint8_t *)target;
	ud.data_len = len;
	ud.has_data = len > 0;
	importer_meta_apply(&ud, &c.meta);
	error = importer_node_store(out, &n, &c, &ud, NULL, 0);
	importer_ctx_release(&c);
	if (error == 0 && tsize_out)
		*tsize_out = n;
	return error;
}
