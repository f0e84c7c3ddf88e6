/*
 * cmd_car.c - `estuaryfs car export` and `estuaryfs car import`.
 *
 * export writes the deterministic CARv1 of a DAG (header roots = [root],
 * blocks in depth-first pre-order, each once: the Filecoin deal payload)
 * streaming from the blockstore.  With --v2 it writes what go-car's
 * WrapV1File would make of that CARv1 (pragma, header, the CARv1, a
 * 0x0401 index) in two passes over the DAG: the first only measures the
 * CARv1 and collects the index, so the header can be written first and
 * the output need not be seekable.  A CAR written to -o FILE goes to a
 * temporary file in the same directory, renamed into place once
 * complete and synced, so a failure never leaves a partial FILE.
 *
 * import reads a CARv1 or CARv2 (every block hash-checked by the reader),
 * stores the blocks, then syncs and pins each root and prints it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli_i.h"
#include "core/alloc.h"
#include "core/bstore.h"
#include "core/buf.h"
#include "core/car.h"
#include "core/carv2.h"
#include "core/error.h"

#include "core/banned.h"

#define IMPORT_PIN_NAME "cli:car-import"

static const char help_text[] =
	"usage: estuaryfs car export [--v2] [-o FILE] CID\n"
	"       estuaryfs car import [-q] FILE|-\n"
	"\n"
	"export: write the DAG under CID as a CAR, to stdout or FILE.  The\n"
	"CARv1 is deterministic, the layout Filecoin deals use and `ipfs dag\n"
	"export` writes: one root, blocks in depth-first pre-order from the\n"
	"root, children in link order, each block once.  Every block is\n"
	"re-hashed as it is read.  A CAR is never written to a terminal.\n"
	"\n"
	"  -o, --output FILE  write FILE (replaced only once complete)\n"
	"  --v2               a CARv2: the same CARv1 with go-car's header\n"
	"                     and multihash index (what go-car's WrapV1File\n"
	"                     writes)\n"
	"\n"
	"import: read a CARv1 or CARv2 ('-' = stdin), check every block\n"
	"against its CID, store the blocks, pin the header's roots and print\n"
	"them.\n"
	"\n"
	"  -q, --quiet        no progress bar\n"
	"  -h, --help         this help\n"
	"\n"
	"examples:\n"
	"  estuaryfs car export bafy... > dag.car\n"
	"  estuaryfs car export --v2 -o dag.car2 bafy...\n"
	"  ESTUARYFS_HOME=/tmp/other estuaryfs car import dag.car\n";

static int run(int argc, char **argv);

const struct cli_cmd cli_cmd_car = {
	.name = "car",
	.summary = "export a DAG as a CAR, or import a CAR",
	.help = help_text,
	.run = run,
};

/* ---- output file ---- */

struct out_file {
	int fd;
	char *tmp;          /* temporary name, or NULL for stdout */
	const char *path;
};

static int out_open(struct out_file *o, const char *path)
{
	size_t n;
	mode_t mask;

	o->path = path;
	o->tmp = NULL;
	if (!path) {
		if (isatty(1))
			return efs_error_set(EFS_EINVAL,
					     "refusing to write a CAR to a "
					     "terminal (redirect stdout or use "
					     "-o FILE)");
		o->fd = 1;
		return 0;
	}
	n = strlen(path) + sizeof(".XXXXXX");
	if (!(o->tmp = efs_malloc(n)))
		return efs_error_set(EFS_ENOMEM, "out of memory");
	snprintf(o->tmp, n, "%s.XXXXXX", path);
	if ((o->fd = mkstemp(o->tmp)) < 0) {
		int err = errno;

		efs_free(o->tmp);
		o->tmp = NULL;
		return efs_error_set_errno(EFS_EIO, err, "create %s", path);
	}
	mask = umask(0);
	umask(mask);
	fchmod(o->fd, 0666 & ~mask);
	return 0;
}

/* Finish (rc == 0: sync and rename into place) or abandon the output. */
static int out_close(struct out_file *o, int rc)
{
	if (!o->tmp)
		return rc;
	if (rc == 0 && fdatasync(o->fd) < 0)
		rc = efs_error_set_errno(EFS_EIO, errno, "sync %s", o->path);
	if (close(o->fd) < 0 && rc == 0)
		rc = efs_error_set_errno(EFS_EIO, errno, "close %s", o->path);
	if (rc == 0 && rename(o->tmp, o->path) < 0)
		rc = efs_error_set_errno(EFS_EIO, errno, "rename to %s",
					 o->path);
	if (rc < 0)
		unlink(o->tmp);
	efs_free(o->tmp);
	o->tmp = NULL;
	return rc;
}

/* ---- export ---- */

static int discard(void *payload, const uint8_t *data, size_t len)
{
	return 0;
}

static int index_block(const struct car_block_info *info, void *payload)
{
	return carv2_index_builder_add(payload, &info->id,
				       info->section_offset);
}

static int write_v1(int fd, const struct blockio_source *src,
		    const struct cid *root)
{
	struct car_writer *w;
	int rc;

	if ((rc = car_writer_new_fd(&w, fd)) < 0)
		return rc;
	rc = car_write_dag(w, src, root, NULL, NULL);
	car_writer_free(w);
	return rc;
}

/* Pass 1 of --v2: the CARv1's size and the index of its sections. */
static int measure_v1(uint64_t *size_out, struct carv2_index_builder *ib,
		      const struct blockio_source *src, const struct cid *root)
{
	struct car_writer *w;
	int rc;

	if ((rc = car_writer_new_cb(&w, discard, NULL)) < 0)
		return rc;
	if ((rc = car_write_dag(w, src, root, index_block, ib)) == 0)
		*size_out = car_writer_offset(w);
	car_writer_free(w);
	return rc;
}

static int write_v2(int fd, const struct blockio_source *src,
		    const struct cid *root)
{
	uint8_t head[CARV2_PRAGMA_LEN + CARV2_HEADER_LEN];
	struct carv2_index_builder *ib = NULL;
	struct carv2_header h = { 0 };
	struct buf index = BUF_INIT(BUF_NOCAP);
	int rc;

	if ((rc = carv2_index_builder_new(&ib)) < 0 ||
	    (rc = measure_v1(&h.data_size, ib, src, root)) < 0 ||
	    (rc = carv2_index_builder_write(ib, &index)) < 0)
		goto out;
	h.data_offset = CARV2_DATA_OFFSET;
	h.index_offset = h.data_offset + h.data_size;
	memcpy(head, carv2_pragma, CARV2_PRAGMA_LEN);
	carv2_header_encode(head + CARV2_PRAGMA_LEN, &h);
	if ((rc = cli_write_all(fd, head, sizeof(head), "car")) < 0 ||
	    (rc = write_v1(fd, src, root)) < 0 ||
	    (rc = cli_write_all(fd, index.ptr, index.len, "car")) < 0)
		goto out;
out:
	buf_release(&index);
	carv2_index_builder_free(ib);
	return rc;
}

static int export(const struct cid *root, const char *path, bool v2)
{
	struct blockio_source src;
	struct out_file o;
	struct bstore *bs;
	int rc;

	if ((rc = out_open(&o, path)) < 0)
		return rc;
	if ((rc = cli_repo_open(&bs)) < 0)
		return out_close(&o, rc);
	src = bstore_source(bs);
	rc = v2 ? write_v2(o.fd, &src, root) : write_v1(o.fd, &src, root);
	rc = out_close(&o, rc);
	return cli_repo_close(bs, rc);
}

static int cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "v2", no_argument, NULL, '2' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *rest;
	struct cid root;
	bool v2 = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case '2':
			v2 = true;
			break;
		default:
			return cli_common_opt(&cli_cmd_car, c, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage(&cli_cmd_car, "export: expected one CID");
	if ((rc = cli_parse_cid_path(&root, &rest, argv[optind])) < 0)
		return cli_fail(rc);
	if (*rest)
		return cli_usage(&cli_cmd_car,
				 "export: takes a CID, not a path");
	if ((rc = export(&root, out, v2)) < 0)
		return cli_fail(rc);
	return CLI_EXIT_OK;
}

/* ---- import ---- */

/* A sink that stores into the blockstore and moves the progress bar. */
struct import_sink {
	struct blockio_sink inner;
	struct cli_progress bar;
};

static int import_put(void *payload, const struct cid *id,
		      const uint8_t *data, size_t len)
{
	struct import_sink *s = payload;

	cli_progress_add(&s->bar, len);
	return blockio_put(&s->inner, id, data, len);
}

static int import(int fd, bool quiet)
{
	char str[CID_STR_MAX];
	struct import_sink is;
	struct blockio_sink sink = { import_put, &is };
	struct cid *roots = NULL;
	struct bstore *bs;
	struct stat st;
	size_t n = 0;
	int rc;

	if ((rc = cli_repo_open(&bs)) < 0)
		return rc;
	is.inner = bstore_sink(bs);
	cli_progress_init(&is.bar, "import",
			  fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ?
				  (uint64_t)st.st_size :
				  0,
			  !quiet);
	rc = car_import_fd(&roots, &n, &sink, fd);
	cli_progress_end(&is.bar);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = cli_repo_pin(bs, &roots[i], IMPORT_PIN_NAME);
	rc = cli_repo_close(bs, rc);
	for (size_t i = 0; rc == 0 && i < n; i++)
		printf("%s\n", cid_tostr(str, &roots[i]));
	efs_free(roots);
	return rc;
}

static int cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path;
	bool quiet = false;
	int c, fd, rc;

	while ((c = getopt_long(argc, argv, ":qh", opts, NULL)) != -1) {
		if (c == 'q')
			quiet = true;
		else
			return cli_common_opt(&cli_cmd_car, c, argv);
	}
	if (argc - optind != 1)
		return cli_usage(&cli_cmd_car,
				 "import: expected one FILE or '-'");
	path = argv[optind];
	if (strcmp(path, "-") == 0) {
		fd = 0;
	} else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		return cli_fail(efs_error_set_errno(
			errno == ENOENT ? EFS_ENOTFOUND : EFS_EIO, errno,
			"open %s", path));
	}
	rc = import(fd, quiet);
	if (fd != 0)
		close(fd);
	if (rc < 0)
		return cli_fail(rc);
	return CLI_EXIT_OK;
}

static int run(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "export") == 0)
		return cmd_export(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "import") == 0)
		return cmd_import(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
			  strcmp(argv[1], "--help") == 0)) {
		cli_help(&cli_cmd_car, stdout);
		return CLI_EXIT_OK;
	}
	return cli_usage(&cli_cmd_car, "expected 'export' or 'import'");
}
