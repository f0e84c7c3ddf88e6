/*
 * cmd_commp.c - `estuaryfs commp FILE|-`: the Filecoin piece commitment
 * of a file's bytes (for a deal, the file is the CARv1 payload), with the
 * piece CIDs v1 and v2 and the piece sizes, in the layout of the JS
 * reference's commp.mjs.
 *
 * The input is read in slices of whole COMMP_CHUNK_BYTES subtrees, so
 * the CommP worker threads can share the hashing (see core/commp.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli_i.h"
#include "core/alloc.h"
#include "core/commp.h"
#include "core/error.h"
#include "core/fdio.h"
#include "core/mbase.h"

#include "core/banned.h"

/* Bytes read per commp_update: eight worker subtrees (about 8 MiB). */
#define READ_SIZE (8 * COMMP_CHUNK_BYTES)

static const char help_text[] =
	"usage: estuaryfs commp [--json] [-j N] [-q] FILE|-\n"
	"\n"
	"Compute the Filecoin piece commitment (CommP) of FILE's bytes ('-'\n"
	"reads stdin), as @web3-storage/data-segment and Lotus do.  For a\n"
	"storage deal FILE is the CARv1 the deal carries (estuaryfs car\n"
	"export).  Prints the piece CID v1 (baga..., fil-commitment-\n"
	"unsealed), the piece CID v2 (bafkzcib..., FRC-0069: it carries the\n"
	"size), the payload size, the padded piece size (PaddedPieceSize, a\n"
	"power of two), the unpadded size (padded * 127/128), the tree\n"
	"height and the zero padding added.\n"
	"\n"
	"options:\n"
	"  --json           print a JSON object instead\n"
	"  -j, --threads N  hashing threads (default: one per CPU)\n"
	"  -q, --quiet      no progress bar\n"
	"  -h, --help       this help\n"
	"\n"
	"example:\n"
	"  estuaryfs car export bafy... -o x.car && estuaryfs commp x.car\n";

static int run(int argc, char **argv);

const struct cli_cmd cli_cmd_commp = {
	.name = "commp",
	.summary = "piece commitment and piece CIDs of a file (a deal's CAR)",
	.help = help_text,
	.run = run,
};

/* Read until buf is full or the input ends; *got = bytes read. */
static int read_full(int fd, uint8_t *buf, size_t cap, size_t *got,
		     const char *name)
{
	ssize_t n = fdio_read(fd, buf, cap);

	if (n < 0)
		return efs_error_set_errno(EFS_EIO, errno, "read %s", name);
	*got = (size_t)n;
	return 0;
}

static int hash_fd(struct commp_piece *out, int fd, const char *name,
		   unsigned threads, bool quiet)
{
	struct cli_progress bar;
	struct commp *c = NULL;
	struct stat st;
	uint8_t *buf;
	size_t got;
	int rc;

	if (!(buf = efs_malloc(READ_SIZE)))
		return efs_error_set(EFS_ENOMEM, "out of memory");
	if ((rc = commp_new(&c, threads)) < 0)
		goto out;
	cli_progress_init(&bar, "commp",
			  fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ?
				  (uint64_t)st.st_size :
				  0,
			  !quiet);
	do {
		if ((rc = read_full(fd, buf, READ_SIZE, &got, name)) < 0 ||
		    (rc = commp_update(c, buf, got)) < 0)
			break;
		cli_progress_add(&bar, got);
	} while (got == READ_SIZE);
	cli_progress_end(&bar);
	if (rc == 0)
		commp_finish(out, c);
out:
	commp_free(c);
	efs_free(buf);
	return rc;
}

static void print_piece(const struct commp_piece *p, bool json)
{
	char v1[CID_STR_MAX], v2[CID_STR_MAX], hex[2 * COMMP_NODE_SIZE + 1];
	struct cid id1, id2;

	commp_cid_v1(&id1, p);
	commp_cid_v2(&id2, p);
	cid_tostr(v1, &id1);
	cid_tostr(v2, &id2);
	mbase_hex_encode(hex, sizeof(hex), p->root, COMMP_NODE_SIZE);
	if (json) {
		printf("{\n"
		       "  \"pieceCidV1\": \"%s\",\n"
		       "  \"pieceCidV2\": \"%s\",\n"
		       "  \"payloadSize\": %" PRIu64 ",\n"
		       "  \"paddedSize\": %" PRIu64 ",\n"
		       "  \"unpaddedSize\": %" PRIu64 ",\n"
		       "  \"height\": %u,\n"
		       "  \"padding\": %" PRIu64 ",\n"
		       "  \"rootHex\": \"%s\"\n"
		       "}\n",
		       v1, v2, p->payload_size, p->padded_size,
		       p->unpadded_size, p->height, p->padding, hex);
		return;
	}
	printf("piece_cid_v1:  %s\n"
	       "piece_cid_v2:  %s\n"
	       "payload_size:  %" PRIu64 "\n"
	       "padded_size:   %" PRIu64 "\n"
	       "unpadded_size: %" PRIu64 "\n"
	       "height:        %u\n"
	       "padding:       %" PRIu64 "\n",
	       v1, v2, p->payload_size, p->padded_size, p->unpadded_size,
	       p->height, p->padding);
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "threads", required_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct commp_piece piece;
	const char *name;
	uint64_t threads = 0;
	bool json = false, quiet = false;
	int c, fd, rc;

	while ((c = getopt_long(argc, argv, ":j:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'J':
			json = true;
			break;
		case 'j':
			if (cli_parse_uint(&threads, optarg, "--threads") < 0 ||
			    threads > 256)
				return cli_usage(&cli_cmd_commp,
						 "--threads wants 0..256");
			break;
		case 'q':
			quiet = true;
			break;
		default:
			return cli_common_opt(&cli_cmd_commp, c, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage(&cli_cmd_commp, "expected one FILE or '-'");
	name = argv[optind];
	if (strcmp(name, "-") == 0) {
		fd = 0;
		name = "stdin";
	} else if ((fd = open(name, O_RDONLY | O_CLOEXEC)) < 0) {
		return cli_fail(efs_error_set_errno(
			errno == ENOENT ? EFS_ENOTFOUND : EFS_EIO, errno,
			"open %s", name));
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	rc = hash_fd(&piece, fd, name, (unsigned)threads, quiet);
	if (fd != 0)
		close(fd);
	if (rc < 0)
		return cli_fail(rc);
	print_piece(&piece, json);
	return CLI_EXIT_OK;
}
