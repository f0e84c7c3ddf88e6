/*
 * cmd_wallet.c - `estuaryfs wallet`: the repository's secp256k1 keys
 * (core/wallet.h), with the subcommands and output of `lotus wallet`:
 *
 *	show (or nothing)    address, balance, escrow, DataCap: the deal
 *	                     client's funds (cmd_wallet_show.c)
 *	new                  make a key, print its f1 address
 *	list                 print the addresses, one a line
 *	default [ADDR]       print the default address, or set it
 *	import [FILE|-]      read a Lotus key-info (hex or JSON)
 *	export ADDR          print the key-info hex (the private key!)
 *	sign ADDR HEXMSG     print type || signature in hex
 *	verify ADDR HEXMSG SIG
 *
 * As `lotus wallet sign` does since FRC-0102, sign and verify wrap the
 * message in the envelope "\x19Filecoin Signed Message:\n" <length> so a
 * signed text can never pass for a chain message; --raw signs the bytes
 * as they are (what the WalletSign API does).
 *
 * The private key is printed only by export; a key-info read from a
 * terminal is read without echo.  Buffers that held it are wiped.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli_i.h"
#include "cli/cli_view.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/filaddr.h"
#include "core/filkey.h"
#include "core/filsig.h"
#include "core/mbase.h"
#include "core/wallet.h"

#include "core/banned.h"

static const char help_text[] =
	"usage: estuaryfs wallet [show] [--json] [--watch]\n"
	"       estuaryfs wallet new\n"
	"       estuaryfs wallet list\n"
	"       estuaryfs wallet default [ADDR]\n"
	"       estuaryfs wallet import [--as-default] [FILE|-]\n"
	"       estuaryfs wallet export ADDR\n"
	"       estuaryfs wallet sign [--raw] ADDR HEXMSG\n"
	"       estuaryfs wallet verify [--raw] ADDR HEXMSG SIGNATURE\n"
	"\n"
	"Manage the secp256k1 (f1) keys in the repository's wallet\n"
	"($ESTUARYFS_HOME/wallet or ~/.estuaryfs/wallet, one file per key,\n"
	"mode 0600).  The first key made or imported becomes the default.\n"
	"\n"
	"  show     (the default) the default address's balance, market\n"
	"           escrow (total, locked by deals, available), DataCap and\n"
	"           whether it is a verified client, read from the node the\n"
	"           dealer uses (config.json's, or the devnet in the\n"
	"           repository); the dealer's last reading, with its time,\n"
	"           when the node does not answer.  --watch redraws every 2 s\n"
	"           with the progress of the deals until every commit has\n"
	"           its deals active (or Ctrl-C, exit 1)\n"
	"  new      make a key and print its address\n"
	"  list     print the addresses of the keys, one a line\n"
	"  default  print the default address, or make ADDR the default\n"
	"  import   read a key in Lotus key-info form (the hex `lotus wallet\n"
	"           export` prints, or its JSON) from FILE or stdin, and\n"
	"           print its address\n"
	"  export   print ADDR's key-info hex: this is the private key\n"
	"  sign     sign the bytes HEXMSG with ADDR's key; prints the\n"
	"           signature as Lotus does: hex of type byte || signature\n"
	"  verify   check SIGNATURE (as sign prints it) of HEXMSG by ADDR;\n"
	"           prints valid or invalid (exit 4)\n"
	"\n"
	"options:\n"
	"  --json        show: one JSON object\n"
	"  --watch       show: follow the deals until they are active\n"
	"  --as-default  import: make the key the default\n"
	"  --raw         sign, verify: the bytes as they are, without the\n"
	"                FRC-0102 envelope `lotus wallet sign` adds\n"
	"  -h, --help    this help\n";

static int run(int argc, char **argv);

const struct cli_cmd cli_cmd_wallet = {
	.name = "wallet",
	.summary = "funds (balance, escrow, DataCap) and the keys that sign",
	.help = help_text,
	.run = run,
};

#define FRC102_PREFIX "\x19" "Filecoin Signed Message:\n"

/* Longest HEXMSG accepted, in bytes. */
#define MSG_MAX (1u << 20)

enum { OPT_RAW = 256, OPT_AS_DEFAULT, OPT_JSON, OPT_WATCH };

struct opts {
	bool raw;
	bool as_default;
	bool json;
	bool watch;
};

static int open_wallet(struct wallet **out)
{
	char *dir;
	int rc;

	if ((rc = cli_repo_dir(&dir)) < 0)
		return rc;
	rc = wallet_open(out, dir);
	efs_free(dir);
	return rc;
}

static int parse_addr(struct filaddr *out, const char *s)
{
	return filaddr_parse(out, NULL, s, strlen(s));
}

static void print_addr(const struct filaddr *a)
{
	char s[FILADDR_STR_MAX];

	filaddr_format(s, a, 'f');
	printf("%s\n", s);
}

/* ---- new, list, default ---- */

static int do_new(struct wallet *w)
{
	struct filaddr a;
	int rc;

	if ((rc = wallet_new(&a, w)) == 0)
		print_addr(&a);
	return rc;
}

static int do_list(struct wallet *w)
{
	struct filaddr *v;
	size_t n;
	int rc;

	if ((rc = wallet_list(&v, &n, w)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		print_addr(&v[i]);
	efs_free(v);
	return 0;
}

static int do_default(struct wallet *w, const char *addr)
{
	struct filaddr a;
	int rc;

	if (!addr) {
		if ((rc = wallet_default(&a, w)) == 0)
			print_addr(&a);
		return rc;
	}
	if ((rc = parse_addr(&a, addr)) < 0)
		return rc;
	return wallet_set_default(w, &a);
}

/* ---- import, export ---- */

/* Read a line from a terminal without echo (the key is secret). */
static int read_tty(char *buf, size_t cap, size_t *len)
{
	struct termios old, quiet;
	ssize_t n;

	fputs("key-info (not echoed): ", stderr);
	if (tcgetattr(STDIN_FILENO, &old) < 0)
		return efs_error_set_errno(EFS_EIO, errno, "stdin terminal");
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	do {
		n = read(STDIN_FILENO, buf, cap);
	} while (n < 0 && errno == EINTR);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fputc('\n', stderr);
	if (n < 0)
		return efs_error_set_errno(EFS_EIO, errno, "read stdin");
	*len = (size_t)n;
	return 0;
}

/* Read all of fd into buf (cap bytes); more than cap is an error. */
static int read_all(int fd, char *buf, size_t cap, size_t *len,
		    const char *name)
{
	ssize_t n;

	*len = 0;
	for (;;) {
		n = read(fd, buf + *len, cap - *len);
		if (n == 0)
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return efs_error_set_errno(EFS_EIO, errno, "read %s",
						   name);
		if ((*len += (size_t)n) == cap)
			return efs_error_set(EFS_ETOOBIG, "%s: over %zu bytes,"
					     " not a key-info", name, cap - 1);
	}
}

static int read_keyinfo(char *buf, size_t cap, size_t *len, const char *path)
{
	int fd, rc;

	if (!path || strcmp(path, "-") == 0) {
		if (isatty(STDIN_FILENO))
			return read_tty(buf, cap, len);
		return read_all(STDIN_FILENO, buf, cap, len, "stdin");
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return efs_error_set_errno(errno == ENOENT ? EFS_ENOTFOUND :
					   EFS_EIO, errno, "open %s", path);
	rc = read_all(fd, buf, cap, len, path);
	close(fd);
	return rc;
}

static int do_import(struct wallet *w, const char *path,
		     const struct opts *o)
{
	char text[FILKEY_KEYINFO_IN_MAX + 2];
	struct filaddr a;
	size_t len = 0;
	int rc;

	if ((rc = read_keyinfo(text, sizeof(text), &len, path)) == 0 &&
	    (rc = wallet_import(&a, w, text, len)) == 0 &&
	    (!o->as_default || (rc = wallet_set_default(w, &a)) == 0))
		print_addr(&a);
	explicit_bzero(text, sizeof(text));
	return rc;
}

static int do_export(struct wallet *w, const char *addr)
{
	char text[FILKEY_KEYINFO_MAX];
	struct filaddr a;
	int rc;

	if ((rc = parse_addr(&a, addr)) < 0)
		return rc;
	if ((rc = wallet_export(text, w, &a)) == 0)
		printf("%s\n", text);
	explicit_bzero(text, sizeof(text));
	return rc;
}

/* ---- sign, verify ---- */

/* Decode the hex argument s into b (cap max bytes). */
static int parse_hex(struct buf *b, const char *s, const char *what)
{
	size_t n = strlen(s);
	int rc;

	if (n % 2)
		return efs_error_set(EFS_EINVAL, "%s: odd number of hex "
				     "digits", what);
	for (size_t i = 0; i < n; i += 2) {
		int hi = mbase_hex_value(s[i]);
		int lo = mbase_hex_value(s[i + 1]);

		if (hi < 0 || lo < 0)
			return efs_error_set(EFS_EINVAL, "%s: not hex", what);
		if ((rc = buf_addch(b, (uint8_t)(hi << 4 | lo))) < 0)
			return rc == EFS_ETOOBIG ?
				efs_error_set(rc, "%s: over %zu bytes", what,
					      b->max) : rc;
	}
	return 0;
}

/* The bytes signed for HEXMSG: with the FRC-0102 envelope unless raw. */
static int signed_bytes(struct buf *out, const char *hex,
			const struct opts *o)
{
	struct buf msg = BUF_INIT(MSG_MAX);
	int rc;

	if ((rc = parse_hex(&msg, hex, "HEXMSG")) < 0)
		goto out;
	if (o->raw)
		rc = buf_add(out, msg.ptr, msg.len);
	else if ((rc = buf_printf(out, FRC102_PREFIX "%zu", msg.len)) == 0)
		rc = buf_add(out, msg.ptr, msg.len);
out:
	buf_release(&msg);
	return rc;
}

static int do_sign(struct wallet *w, char **args, const struct opts *o)
{
	struct buf msg = BUF_INIT(BUF_NOCAP);
	uint8_t bytes[FILSIG_BYTES_MAX];
	char hex[2 * FILSIG_BYTES_MAX + 1];
	struct filaddr a;
	struct filsig sig;
	int rc;

	if ((rc = parse_addr(&a, args[0])) < 0 ||
	    (rc = signed_bytes(&msg, args[1], o)) < 0)
		goto out;
	if ((rc = wallet_sign(&sig, w, &a, msg.ptr, msg.len)) < 0)
		goto out;
	mbase_hex_encode(hex, sizeof(hex), bytes,
			 filsig_to_bytes(bytes, &sig));
	printf("%s\n", hex);
out:
	buf_release(&msg);
	return rc;
}

static int do_verify(char **args, const struct opts *o)
{
	struct buf msg = BUF_INIT(BUF_NOCAP), raw = BUF_INIT(FILSIG_BYTES_MAX);
	struct filaddr a;
	struct filsig sig;
	int rc;

	if ((rc = parse_addr(&a, args[0])) < 0 ||
	    (rc = signed_bytes(&msg, args[1], o)) < 0 ||
	    (rc = parse_hex(&raw, args[2], "SIGNATURE")) < 0)
		goto out;
	if ((rc = filsig_from_bytes(&sig, raw.ptr, raw.len)) < 0)
		goto out;
	rc = filsig_verify(&sig, &a, msg.ptr, msg.len);
	if (rc == 0)
		printf("valid\n");
	else if (rc == EFS_EMISMATCH || rc == EFS_ECORRUPT)
		printf("invalid\n");
out:
	buf_release(&msg);
	buf_release(&raw);
	return rc;
}

/* ---- dispatch ---- */

static const struct {
	const char *name;
	int min_args, max_args;
} subcommands[] = {
	{ "show", 0, 0 },   { "new", 0, 0 },    { "list", 0, 0 },
	{ "default", 0, 1 },
	{ "import", 0, 1 }, { "export", 1, 1 }, { "sign", 2, 2 },
	{ "verify", 3, 3 },
};

static int dispatch(const char *sub, char **args, int nargs,
		    const struct opts *o)
{
	struct wallet *w;
	int rc;

	/* verify needs no keys: it works without a repository */
	if (strcmp(sub, "verify") == 0)
		return do_verify(args, o);
	if (strcmp(sub, "show") == 0)
		return cli_wallet_show(o->json, o->watch);
	if ((rc = open_wallet(&w)) < 0)
		return rc;
	if (strcmp(sub, "new") == 0)
		rc = do_new(w);
	else if (strcmp(sub, "list") == 0)
		rc = do_list(w);
	else if (strcmp(sub, "default") == 0)
		rc = do_default(w, nargs ? args[0] : NULL);
	else if (strcmp(sub, "import") == 0)
		rc = do_import(w, nargs ? args[0] : NULL, o);
	else if (strcmp(sub, "export") == 0)
		rc = do_export(w, args[0]);
	else
		rc = do_sign(w, args, o);
	wallet_close(w);
	return rc;
}

static int check_usage(const char *sub, int nargs, const struct opts *o)
{
	size_t i;

	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (strcmp(subcommands[i].name, sub) == 0)
			break;
	if (i == sizeof(subcommands) / sizeof(subcommands[0]))
		return cli_usage(&cli_cmd_wallet, "no subcommand '%s'", sub);
	if (nargs < subcommands[i].min_args || nargs > subcommands[i].max_args)
		return cli_usage(&cli_cmd_wallet, "%s: wrong number of "
				 "arguments", sub);
	if (o->raw && strcmp(sub, "sign") && strcmp(sub, "verify"))
		return cli_usage(&cli_cmd_wallet, "--raw is for sign and "
				 "verify");
	if (o->as_default && strcmp(sub, "import"))
		return cli_usage(&cli_cmd_wallet, "--as-default is for "
				 "import");
	if ((o->json || o->watch) && strcmp(sub, "show"))
		return cli_usage(&cli_cmd_wallet, "--json and --watch are for "
				 "show");
	if (o->json && o->watch)
		return cli_usage(&cli_cmd_wallet, "--watch draws a display: "
				 "not with --json");
	return CLI_EXIT_OK;
}

static int run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "raw", no_argument, NULL, OPT_RAW },
		{ "as-default", no_argument, NULL, OPT_AS_DEFAULT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "watch", no_argument, NULL, OPT_WATCH },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { 0 };
	const char *sub;
	int c, rc, nargs;

	while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (c) {
		case OPT_RAW:
			o.raw = true;
			break;
		case OPT_AS_DEFAULT:
			o.as_default = true;
			break;
		case OPT_JSON:
			o.json = true;
			break;
		case OPT_WATCH:
			o.watch = true;
			break;
		default:
			return cli_common_opt(&cli_cmd_wallet, c, argv);
		}
	}
	/* plain `estuaryfs wallet` shows the funds */
	sub = optind < argc ? argv[optind] : "show";
	nargs = optind < argc ? argc - optind - 1 : 0;
	if ((rc = check_usage(sub, nargs, &o)) != CLI_EXIT_OK)
		return rc;
	rc = dispatch(sub, argv + optind + 1, nargs, &o);
	return rc < 0 ? cli_fail(rc) : CLI_EXIT_OK;
}
