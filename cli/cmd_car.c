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
 *
 * While a daemon or a mount holds the repository (cli_api_at), export
 * streams the daemon's gateway CAR of the DAG (the same bytes; --v2
 * streams it twice, as the local export walks twice) and import streams
 * the file to POST /car/import, which stores and pins there.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli_api.h"
#include "cli/cli_i.h"
#include "core/alloc.h"
#include "core/bstore.h"
#include "core/buf.h"
#include "core/car.h"
#include "core/carv2.h"
#include "core/error.h"
#include "core/fdio.h"

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

/* ---- export through the daemon ---- */

static int fd_write(void *cls, const uint8_t *data, size_t len)
{
	return cli_write_all(*(const int *)cls, data, len, "car");
}

struct measure {
	uint64_t size;
	struct carv2_index_builder *ib;
};

static int measure_bytes(void *cls, const uint8_t *data, size_t len)
{
	(void)data;
	((struct measure *)cls)->size += len;
	return 0;
}

static int measure_block(void *cls, const struct cid *id, uint64_t offset)
{
	return carv2_index_builder_add(((struct measure *)cls)->ib, id,
				       offset);
}

/* The daemon's CAR streamed twice, as write_v2 walks twice: to measure
 * it and make its index, then to write it between header and index. */
static int remote_v2(int fd, struct cli_api_conn *c, const struct cid *root)
{
	uint8_t head[CARV2_PRAGMA_LEN + CARV2_HEADER_LEN];
	struct carv2_header h = { 0 };
	struct measure m = { 0 };
	struct buf index = BUF_INIT(BUF_NOCAP);
	int rc;

	if ((rc = carv2_index_builder_new(&m.ib)) < 0 ||
	    (rc = cli_api_car(c, root, measure_bytes, measure_block, &m)) < 0 ||
	    (rc = carv2_index_builder_write(m.ib, &index)) < 0)
		goto out;
	h.data_size = m.size;
	h.data_offset = CARV2_DATA_OFFSET;
	h.index_offset = h.data_offset + h.data_size;
	memcpy(head, carv2_pragma, CARV2_PRAGMA_LEN);
	carv2_header_encode(head + CARV2_PRAGMA_LEN, &h);
	if ((rc = cli_write_all(fd, head, sizeof(head), "car")) < 0 ||
	    (rc = cli_api_car(c, root, fd_write, NULL, &fd)) < 0 ||
	    (rc = cli_write_all(fd, index.ptr, index.len, "car")) < 0)
		goto out;
out:
	buf_release(&index);
	carv2_index_builder_free(m.ib);
	return rc;
}

struct export_job {
	const struct cid *root;
	int fd;
	bool v2;
};

static int export_at(const struct cli_api_where *w, void *cls)
{
	struct export_job *j = cls;

	if (w->conn)
		return j->v2 ? remote_v2(j->fd, w->conn, j->root)
			     : cli_api_car(w->conn, j->root, fd_write, NULL,
					   &j->fd);
	return j->v2 ? write_v2(j->fd, &w->src, j->root)
		     : write_v1(j->fd, &w->src, j->root);
}

static int export(const struct cid *root, const char *path, bool v2)
{
	struct export_job j = { root, -1, v2 };
	struct out_file o;
	int rc;

	if ((rc = out_open(&o, path)) < 0)
		return rc;
	j.fd = o.fd;
	rc = cli_api_at(export_at, &j);
	return out_close(&o, rc);
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

struct import_job {
	int fd;
	bool quiet;
	struct cid *roots;
	size_t n;
	json_t *answer;              /* through the daemon */
};

static int import_here(struct import_job *j, struct bstore *bs)
{
	struct import_sink is;
	struct blockio_sink sink = { import_put, &is };
	struct stat st;
	int rc;

	is.inner = bstore_sink(bs);
	cli_progress_init(&is.bar, "import",
			  fstat(j->fd, &st) == 0 && S_ISREG(st.st_mode) ?
				  (uint64_t)st.st_size :
				  0,
			  !j->quiet);
	rc = car_import_fd(&j->roots, &j->n, &sink, j->fd);
	cli_progress_end(&is.bar);
	for (size_t i = 0; rc == 0 && i < j->n; i++)
		rc = cli_repo_pin(bs, &j->roots[i], IMPORT_PIN_NAME);
	return rc;
}

/* The CAR's bytes for the upload, moving the progress bar. */
struct import_read {
	int fd;
	struct cli_progress bar;
};

static long import_read(void *cls, uint8_t *buf, size_t max)
{
	struct import_read *r = cls;
	ssize_t n = fdio_read(r->fd, buf, max);

	if (n < 0)
		return efs_error_set_errno(EFS_EIO, errno, "read the CAR");
	cli_progress_add(&r->bar, (uint64_t)n);
	return (long)n;
}

/* Through the daemon: the CAR streamed to POST /car/import, which checks
 * and stores every block and pins the roots; its roots printed. */
static int import_daemon(struct import_job *j, struct cli_api_conn *c)
{
	struct import_read r = { .fd = j->fd };
	json_t *root;
	struct stat st;
	size_t i;
	int rc;

	cli_progress_init(&r.bar, "import",
			  fstat(j->fd, &st) == 0 && S_ISREG(st.st_mode) ?
				  (uint64_t)st.st_size :
				  0,
			  !j->quiet);
	rc = cli_api_post_stream(&j->answer, c, "/car/import?pin-roots=true",
				 "application/vnd.ipld.car", import_read, &r);
	cli_progress_end(&r.bar);
	if (rc < 0)
		return rc;
	j->n = json_array_size(json_object_get(j->answer, "roots"));
	if (!(j->roots = efs_calloc(j->n ? j->n : 1, sizeof(*j->roots))))
		return efs_error_set(EFS_ENOMEM, "out of memory");
	json_array_foreach(json_object_get(j->answer, "roots"), i, root) {
		if (!json_is_string(root) ||
		    cid_parse(&j->roots[i], json_string_value(root)) < 0)
			return efs_error_set(EFS_ECORRUPT, "the daemon's answer "
					     "to /car/import is not what it "
					     "sends");
	}
	return 0;
}

static int import_at(const struct cli_api_where *w, void *cls)
{
	return w->conn ? import_daemon(cls, w->conn) : import_here(cls, w->bs);
}

static int import(int fd, bool quiet)
{
	struct import_job j = { .fd = fd, .quiet = quiet };
	char str[CID_STR_MAX];
	int rc = cli_api_at(import_at, &j);

	for (size_t i = 0; rc == 0 && i < j.n; i++)
		printf("%s\n", cid_tostr(str, &j.roots[i]));
	efs_free(j.roots);
	json_decref(j.answer);
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
