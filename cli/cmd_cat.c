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
 *
 * While a daemon or a mount holds the repository, both run through it
 * (cli_api_at): the same code reads blocks from the daemon
 * (cli_api_source), so paths, listings and errors are the same; cat's
 * bytes then come in one stream from the daemon's gateway, which
 * fetches evicted blocks back (Case B).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_api.h"
#include "cli/cli_i.h"
#include "core/alloc.h"
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

/* What a command was asked: "CID[/path]" and its options. */
struct job {
	struct cid root;
	const char *path;            /* inside root ("" for none) */
	const char *arg;             /* as typed */
	uint64_t off, len;           /* cat */
	bool long_fmt;               /* ls */
};

/* ---- cat ---- */

/* From off, at most len bytes of file f to stdout; *done counts them. */
static int cat_read(struct dagreader_file *f, uint64_t off, uint64_t len,
		    uint64_t *done)
{
	uint8_t *buf;
	size_t got;
	int rc = 0;

	if (!(buf = efs_malloc(CAT_SLICE)))
		return efs_error_set(EFS_ENOMEM, "out of memory");
	while (len > 0) {
		size_t want = len < CAT_SLICE ? (size_t)len : CAT_SLICE;

		if ((rc = dagreader_file_read(buf, &got, f, off, want)) < 0 ||
		    got == 0)
			break;
		if ((rc = cli_write_all(1, buf, got, "stdout")) < 0)
			break;
		off += got;
		len -= got;
		*done += got;
	}
	efs_free(buf);
	return rc;
}

struct stream_out {
	uint64_t done;
	bool failed;                 /* the error is stdout's */
};

static int stream_write(void *cls, const uint8_t *data, size_t len)
{
	struct stream_out *o = cls;
	int rc = cli_write_all(1, data, len, "stdout");

	o->failed = rc < 0;
	if (rc == 0)
		o->done += len;
	return rc;
}

/*
 * Through the daemon: the bytes come from its gateway in one stream
 * (GET /ipfs/{cid} with a Range).  If the stream fails (a block the
 * daemon could not have), the rest is read block by block, which fails
 * at that block as the command fails here.
 */
static int cat_stream(const struct cli_api_where *w, struct dagreader_file *f,
		      const struct cid *id, uint64_t off, uint64_t len)
{
	char path[16 + CID_STR_MAX], s[CID_STR_MAX], range[96];
	const char *const headers[] = { range, NULL };
	uint64_t size = dagreader_file_size(f);
	struct stream_out o = { 0 };
	int rc;

	if (off >= size || len == 0)
		return 0;
	if (len > size - off)
		len = size - off;
	snprintf(path, sizeof(path), "/ipfs/%s", cid_tostr(s, id));
	snprintf(range, sizeof(range), "Range: bytes=%" PRIu64 "-%" PRIu64,
		 off, off + len - 1);
	rc = cli_api_get(w->conn, path, headers, stream_write, &o);
	if (rc == 0 && o.done != len)
		rc = efs_error_set(EFS_EIO, "the daemon sent %" PRIu64 " bytes "
				   "of %s, not %" PRIu64, o.done, s, len);
	if (rc == 0 || o.failed)
		return rc;
	return cat_read(f, off + o.done, len - o.done, &o.done);
}

static int cat_at(const struct cli_api_where *w, void *cls)
{
	const struct job *j = cls;
	struct dagreader_file *f;
	uint64_t done = 0;
	struct cid id;
	int rc;

	if ((rc = dagreader_resolve(&id, &w->src, &j->root, j->path)) < 0)
		return rc;
	if ((rc = dagreader_file_open(&f, &w->src, &id)) < 0) {
		if (rc == EFS_EINVAL)
			rc = efs_error_set(EFS_EINVAL,
					   "cat: not a file (a directory or "
					   "symlink: use ls)");
		return rc;
	}
	if (w->conn)
		rc = cat_stream(w, f, &id, j->off, j->len);
	else
		rc = cat_read(f, j->off, j->len, &done);
	dagreader_file_close(f);
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
	struct job j = { .len = UINT64_MAX };
	int c, rc;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'O':
			if ((rc = cli_parse_size(&j.off, optarg,
						 "--offset")) < 0)
				return cli_fail(rc);
			break;
		case 'L':
			if ((rc = cli_parse_size(&j.len, optarg,
						 "--length")) < 0)
				return cli_fail(rc);
			break;
		default:
			return cli_common_opt(&cli_cmd_cat, c, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage(&cli_cmd_cat, "expected one CID[/PATH]");
	j.arg = argv[optind];
	if ((rc = cli_parse_cid_path(&j.root, &j.path, j.arg)) == 0)
		rc = cli_api_at(cat_at, &j);
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

static int ls_node(const struct blockio_source *srcp, const struct cid *id,
		   const char *arg, bool long_fmt)
{
	struct blockio_source src = *srcp;
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

static int ls_at(const struct cli_api_where *w, void *cls)
{
	const struct job *j = cls;
	struct cid id;
	int rc;

	if ((rc = dagreader_resolve(&id, &w->src, &j->root, j->path)) < 0)
		return rc;
	return ls_node(&w->src, &id, j->arg, j->long_fmt);
}

static int ls_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "long", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct job j = { 0 };
	int c, rc;

	while ((c = getopt_long(argc, argv, ":lh", opts, NULL)) != -1) {
		if (c == 'l')
			j.long_fmt = true;
		else
			return cli_common_opt(&cli_cmd_ls, c, argv);
	}
	if (argc - optind != 1)
		return cli_usage(&cli_cmd_ls, "expected one CID[/PATH]");
	j.arg = argv[optind];
	if ((rc = cli_parse_cid_path(&j.root, &j.path, j.arg)) == 0)
		rc = cli_api_at(ls_at, &j);
	return rc < 0 ? cli_fail(rc) : CLI_EXIT_OK;
}
