/*
 * cmd_cat.c - reading DAGs back: `estuaryfs cat CID[/path]` streams a
 * file's bytes (or a byte range) to stdout, `estuaryfs ls CID[/path]`
 * lists a directory.
 *
 * Both go through the DAG reader on the blockstore's source, so every
 * block is re-hashed as it is read (bad bytes are an error, never
 * output) and only the blocks needed are fetched.  cat reads in slices of
 * CAT_SLICE bytes through one open file handle, which keeps the path to
 * the current leaf, so each block is fetched once.  ls collects the
 * entries and sorts them by name bytes (a HAMT yields bucket order), so
 * a sharded directory lists exactly like a basic one.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_i.h"
#include "core/alloc.h"
#include "core/bstore.h"
#include "core/buf.h"
#include "core/dagreader.h"
#include "core/dagpb.h"
#include "core/error.h"

#include "core/banned.h"

#define CAT_SLICE (1u << 20)

static const char cat_help[] =
	"usage: estuaryfs cat [--offset N] [--length N] CID[/PATH]\n"
	"\n"
	"Write the bytes of a file to stdout.  CID may be a CIDv0 or CIDv1\n"
	"(or /ipfs/CID); PATH names a file inside a directory DAG (basic or\n"
	"HAMT-sharded).  Every block is checked against its CID as it is\n"
	"read.\n"
	"\n"
	"options:\n"
	"  --offset N   start at byte N (sizes may end in K, M, G: KiB...)\n"
	"  --length N   write at most N bytes\n"
	"  -h, --help   this help\n"
	"\n"
	"examples:\n"
	"  estuaryfs cat bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5ee...\n"
	"  estuaryfs cat bafy.../photos/2024/img_0001.jpg > img.jpg\n";

static const char ls_help[] =
	"usage: estuaryfs ls [-l] CID[/PATH]\n"
	"\n"
	"List a directory (basic or HAMT-sharded) in name order, directories\n"
	"with a trailing '/'.  Given a file or symlink, list just that.\n"
	"\n"
	"options:\n"
	"  -l, --long   one line per entry: type (file, dir, hamt for a\n"
	"               sharded directory, symlink), size in bytes ('-' for\n"
	"               directories), CID, name (symlinks: name -> target)\n"
	"  -h, --help   this help\n";

static int cat_run(int argc, char **argv);
static int ls_run(int argc, char **argv);

const struct cli_cmd cli_cmd_cat = {
	.name = "cat",
	.summary = "write a file's bytes to stdout",
	.help = cat_help,
	.run = cat_run,
};

const struct cli_cmd cli_cmd_ls = {
	.name = "ls",
	.summary = "list a directory",
	.help = ls_help,
	.run = ls_run,
};

/* Open the repository and resolve "CID[/path]" in it.  *bs_out (NULL
 * before) is left for the caller to close, whatever the result. */
static int open_resolve(struct bstore **bs_out, struct cid *out,
			const char *arg)
{
	struct blockio_source src;
	const char *path;
	struct cid root;
	int rc;

	if ((rc = cli_parse_cid_path(&root, &path, arg)) < 0)
		return rc;
	if ((rc = cli_repo_open(bs_out)) < 0)
		return rc;
	src = bstore_source(*bs_out);
	return dagreader_resolve(out, &src, &root, path);
}

/* ---- cat ---- */

static int cat_file(struct bstore *bs, const struct cid *id, uint64_t off,
		    uint64_t len)
{
	struct blockio_source src = bstore_source(bs);
	struct dagreader_file *f;
	uint8_t *buf;
	size_t got;
	int rc;

	if (!(buf = efs_malloc(CAT_SLICE)))
		return efs_error_set(EFS_ENOMEM, "out of memory");
	if ((rc = dagreader_file_open(&f, &src, id)) < 0) {
		if (rc == EFS_EINVAL)
			rc = efs_error_set(EFS_EINVAL,
					   "cat: not a file (a directory or "
					   "symlink: use ls)");
		goto out;
	}
	while (len > 0) {
		size_t want = len < CAT_SLICE ? (size_t)len : CAT_SLICE;

		if ((rc = dagreader_file_read(buf, &got, f, off, want)) < 0 ||
		    got == 0)
			break;
		if ((rc = cli_write_all(1, buf, got, "stdout")) < 0)
			break;
		off += got;
		len -= got;
	}
	dagreader_file_close(f);
out:
	efs_free(buf);
	return rc;
}

static int cat_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "offset", required_argument, NULL, 'O' },
		{ "length", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t off = 0, len = UINT64_MAX;
	struct bstore *bs = NULL;
	struct cid id;
	int c, rc;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'O':
			if ((rc = cli_parse_size(&off, optarg, "--offset")) < 0)
				return cli_fail(rc);
			break;
		case 'L':
			if ((rc = cli_parse_size(&len, optarg, "--length")) < 0)
				return cli_fail(rc);
			break;
		default:
			return cli_common_opt(&cli_cmd_cat, c, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage(&cli_cmd_cat, "expected one CID[/PATH]");
	if ((rc = open_resolve(&bs, &id, argv[optind])) == 0)
		rc = cat_file(bs, &id, off, len);
	rc = cli_repo_close(bs, rc);
	return rc < 0 ? cli_fail(rc) : CLI_EXIT_OK;
}

/* ---- ls ---- */

struct ls_entry {
	char *name;
	size_t name_len;
	struct cid id;
};

struct ls_list {
	struct ls_entry *v;
	size_t n, cap;
};

static int ls_collect(const char *name, size_t name_len, const struct cid *id,
		      uint64_t tsize, void *payload)
{
	struct ls_list *l = payload;
	struct ls_entry *e;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;

		if (!(e = efs_reallocarray(l->v, cap, sizeof(*e))))
			return efs_error_set(EFS_ENOMEM, "out of memory");
		l->v = e;
		l->cap = cap;
	}
	e = &l->v[l->n];
	if (!(e->name = efs_strndup(name, name_len)))
		return efs_error_set(EFS_ENOMEM, "out of memory");
	e->name_len = name_len;
	e->id = *id;
	l->n++;
	return 0;
}

static int ls_compare(const void *a, const void *b)
{
	const struct ls_entry *x = a, *y = b;

	return dagpb_name_compare((const uint8_t *)x->name, x->name_len,
				  (const uint8_t *)y->name, y->name_len);
}

static void ls_list_release(struct ls_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		efs_free(l->v[i].name);
	efs_free(l->v);
}

static bool is_dir(enum dagreader_kind k)
{
	return k == DAGREADER_DIRECTORY || k == DAGREADER_HAMT;
}

/* Print one entry: its name, or with long its type, size and CID too. */
static int ls_print(const struct blockio_source *src, const char *name,
		    size_t name_len, const struct cid *id, bool long_fmt)
{
	struct buf target = BUF_INIT(1u << 20);
	struct dagreader_stat st;
	char str[CID_STR_MAX];
	int rc;

	if ((rc = dagreader_stat(&st, src, id)) < 0)
		return rc;
	if (!long_fmt) {
		printf("%.*s%s\n", (int)name_len, name,
		       is_dir(st.kind) ? "/" : "");
		return 0;
	}
	if (st.kind == DAGREADER_SYMLINK &&
	    (rc = dagreader_symlink_target(&target, src, id)) < 0)
		return rc;
	if (is_dir(st.kind))
		printf("%-7s %12s ",
		       st.kind == DAGREADER_HAMT ? "hamt" : "dir", "-");
	else
		printf("%-7s %12" PRIu64 " ",
		       st.kind == DAGREADER_SYMLINK ? "symlink" : "file",
		       st.size);
	printf("%s %.*s%s", cid_tostr(str, id), (int)name_len, name,
	       is_dir(st.kind) ? "/" : "");
	if (st.kind == DAGREADER_SYMLINK)
		printf(" -> %.*s", (int)target.len, (const char *)target.ptr);
	putchar('\n');
	buf_release(&target);
	return 0;
}

static int ls_node(struct bstore *bs, const struct cid *id, const char *arg,
		   bool long_fmt)
{
	struct blockio_source src = bstore_source(bs);
	struct ls_list l = { 0 };
	struct dagreader_stat st;
	const char *name;
	int rc;

	if ((rc = dagreader_stat(&st, &src, id)) < 0)
		return rc;
	if (!is_dir(st.kind)) {
		name = strrchr(arg, '/') ? strrchr(arg, '/') + 1 : arg;
		return ls_print(&src, name, strlen(name), id, long_fmt);
	}
	if ((rc = dagreader_dir_foreach(&src, id, ls_collect, &l)) < 0)
		goto out;
	qsort(l.v, l.n, sizeof(*l.v), ls_compare);
	for (size_t i = 0; i < l.n && rc == 0; i++)
		rc = ls_print(&src, l.v[i].name, l.v[i].name_len, &l.v[i].id,
			      long_fmt);
out:
	ls_list_release(&l);
	return rc;
}

static int ls_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "long", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bstore *bs = NULL;
	bool long_fmt = false;
	struct cid id;
	int c, rc;

	while ((c = getopt_long(argc, argv, ":lh", opts, NULL)) != -1) {
		if (c == 'l')
			long_fmt = true;
		else
			return cli_common_opt(&cli_cmd_ls, c, argv);
	}
	if (argc - optind != 1)
		return cli_usage(&cli_cmd_ls, "expected one CID[/PATH]");
	if ((rc = open_resolve(&bs, &id, argv[optind])) == 0)
		rc = ls_node(bs, &id, argv[optind], long_fmt);
	rc = cli_repo_close(bs, rc);
	return rc < 0 ? cli_fail(rc) : CLI_EXIT_OK;
}
