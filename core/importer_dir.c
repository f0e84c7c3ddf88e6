/*
 * importer_dir.c - one directory from its entries: a basic UnixFS
 * directory node, or a HAMT through hamt_build (see importer_dir.h).
 *
 * Entries are collected (names in one arena, so a large directory costs
 * two allocations that grow geometrically, not one per name), sorted by
 * name bytes at finish, checked for duplicates, and measured with the
 * configured estimator.  The decision is taken once, on the final set of
 * entries, which is what the spec asks and what kubo does; the JS
 * importer decides while inserting and never counts sub-directories.
 *
 *   links estimator:  Σ len(name) + len(binary CID)        (boxo, JS)
 *   block estimator:  exact size of the basic directory block, Data
 *                     (with mode/mtime) included          (boxo, JS)
 *   shard when estimate > hamt_threshold (strictly greater).
 */
#include "core/importer_dir.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/hamt.h"
#include "core/importer_i.h"

#include "core/banned.h"

struct dir_entry {
	struct cid cid;
	uint64_t tsize;
	size_t name_off; /* in names */
	size_t name_len;
};

struct importer_dir {
	struct importer_ctx ctx; /* options, metadata, sink, scratch block */
	struct dir_entry *entries;
	size_t n, cap;
	struct buf names; /* every name, back to back */
	bool finished;
};

int importer_dir_new(struct importer_dir **out,
		     const struct importer_opts *opts,
		     const struct importer_meta *meta,
		     const struct blockio_sink *sink)
{
	struct importer_ctx ctx;
	struct importer_dir *d;
	int error;

	if ((error = importer_ctx_init(&ctx, opts, meta, sink)) < 0)
		return error;
	if (!(d = efs_calloc(1, sizeof(*d))))
		return efs_error_set(EFS_ENOMEM, "importer: out of memory");
	d->ctx = ctx;
	buf_init(&d->names, BUF_NOCAP);
	*out = d;
	return 0;
}

void importer_dir_free(struct importer_dir *d)
{
	if (!d)
		return;
	efs_free(d->entries);
	buf_release(&d->names);
	importer_ctx_release(&d->ctx);
	efs_free(d);
}

size_t importer_dir_count(const struct importer_dir *d)
{
	return d->n;
}

int importer_dir_add(struct importer_dir *d, const char *name, size_t name_len,
		     const struct cid *id, uint64_t tsize)
{
	struct dir_entry *e;
	int error;

	if (d->finished)
		return efs_error_set(EFS_EINVAL,
				     "importer: directory already finished");
	if ((error = importer_name_check(name, name_len)) < 0)
		return error;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;

		e = efs_reallocarray(d->entries, cap, sizeof(*e));
		if (!e)
			return efs_error_set(EFS_ENOMEM,
					     "importer: out of memory");
		d->entries = e;
		d->cap = cap;
	}
	e = &d->entries[d->n];
	e->name_off = d->names.len;
	if ((error = buf_add(&d->names, name, name_len)) < 0)
		return error;
	e->name_len = name_len;
	e->cid = *id;
	e->tsize = tsize;
	d->n++;
	return 0;
}

/* The entries as sorted dag-pb links (names point into d->names). */
static int sorted_links(struct dagpb_link **out, const struct importer_dir *d)
{
	struct dagpb_link *links = efs_calloc(d->n ? d->n : 1, sizeof(*links));
	int error;

	if (!links)
		return efs_error_set(EFS_ENOMEM, "importer: out of memory");
	for (size_t i = 0; i < d->n; i++) {
		const struct dir_entry *e = &d->entries[i];

		links[i].cid = e->cid;
		links[i].name = d->names.ptr + e->name_off;
		links[i].name_len = e->name_len;
		links[i].has_name = true;
		links[i].tsize = e->tsize;
		links[i].has_tsize = true;
	}
	if ((error = dagpb_links_sort(links, d->n)) < 0) {
		efs_free(links);
		return error;
	}
	for (size_t i = 1; i < d->n; i++) {
		if (dagpb_name_compare(links[i - 1].name, links[i - 1].name_len,
				       links[i].name, links[i].name_len))
			continue;
		error = efs_error_set(
		    EFS_EEXISTS, "importer: duplicate name '%.*s'",
		    (int)links[i].name_len, (const char *)links[i].name);
		efs_free(links);
		return error;
	}
	*out = links;
	return 0;
}

/* The size estimate the threshold is compared with. */
static uint64_t estimate(const struct importer_dir *d,
			 const struct dagpb_link *links,
			 const struct unixfs_data *ud)
{
	struct dagpb_node node = {0};
	uint64_t sum = 0;

	switch (d->ctx.opts.hamt_estimator) {
	case IMPORTER_HAMT_LINKS:
		for (size_t i = 0; i < d->n; i++)
			sum += links[i].name_len + cid_size(&links[i].cid);
		return sum;
	case IMPORTER_HAMT_BLOCK:
		node.links = (struct dagpb_link *)links;
		node.nlinks = d->n;
		node.data_len = unixfs_encoded_size(ud);
		node.has_data = true;
		return dagpb_encoded_size(&node);
	case IMPORTER_HAMT_DISABLED:
	default:
		return 0;
	}
}

static int store_hamt(struct importer_dir *d, struct cid *out, uint64_t *tsize)
{
	struct unixfs_data meta = {.type = UNIXFS_HAMT_SHARD};
	struct hamt_opts ho = {0};
	struct hamt_entry *es = efs_calloc(d->n, sizeof(*es));
	int error;

	if (!es)
		return efs_error_set(EFS_ENOMEM, "importer: out of memory");
	for (size_t i = 0; i < d->n; i++) {
		es[i].name =
		    (const char *)d->names.ptr + d->entries[i].name_off;
		es[i].name_len = d->entries[i].name_len;
		es[i].cid = d->entries[i].cid;
		es[i].tsize = d->entries[i].tsize;
	}
	importer_meta_apply(&meta, &d->ctx.meta);
	ho.fanout = d->ctx.opts.hamt_fanout;
	ho.cid_version = importer_opts_cid_version(&d->ctx.opts);
	ho.hash = d->ctx.opts.hash;
	ho.meta = &meta;
	error = hamt_build(out, tsize, es, d->n, &ho, &d->ctx.sink);
	efs_free(es);
	return error;
}

int importer_dir_finish(struct importer_dir *d, struct cid *out,
			uint64_t *tsize_out)
{
	struct unixfs_data ud = {.type = UNIXFS_DIRECTORY};
	struct dagpb_link *links = NULL;
	uint64_t tsize = 0;
	size_t len;
	int error;

	if (d->finished)
		return efs_error_set(EFS_EINVAL,
				     "importer: directory already finished");
	d->finished = true;
	if ((error = sorted_links(&links, d)) < 0)
		return error;
	importer_meta_apply(&ud, &d->ctx.meta);
	/* An empty directory is never sharded (boxo and JS decide when an
	 * entry is added, so they never look at one). */
	if (d->n > 0 && d->ctx.opts.hamt_estimator != IMPORTER_HAMT_DISABLED &&
	    estimate(d, links, &ud) > d->ctx.opts.hamt_threshold) {
		error = store_hamt(d, out, &tsize);
		goto out;
	}
	error = importer_node_store(out, &len, &d->ctx, &ud, links, d->n);
	if (error < 0)
		goto out;
	tsize = len;
	for (size_t i = 0; i < d->n; i++)
		tsize += links[i].tsize;
out:
	if (error == 0 && tsize_out)
		*tsize_out = tsize;
	efs_free(links);
	importer_ctx_release(&d->ctx);
	return error;
}
