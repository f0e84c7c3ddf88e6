/*
 * cmd_key.c - `estuaryfs key create|list|revoke`: the repository's API
 * keys (api/api_keys.h).
 *
 * The commands write <repo>/index.db's key table directly, daemon
 * running or not (sqlite WAL): the daemon looks keys up at every request,
 * so a key made or revoked here counts from its next request, with
 * nothing to tell it.
 *
 * The secret is printed once, by create: alone on stdout (so that
 * KEY=$(estuaryfs key create ...) works) or into a new file of mode
 * 0600 (-o FILE); what was made goes to stderr.  list never shows it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "api/api_keys.h"
#include "cli/cli_i.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/fdio.h"

#include "core/banned.h"

/* A key's default life, as Estuary's: 30 days. */
#define KEY_EXPIRES_DEFAULT "30d"

static const char help_text[] =
	"usage: estuaryfs key create --scope read|write|admin [--label TEXT]\n"
	"                            [--expires DURATION] [-o FILE] [--json]\n"
	"       estuaryfs key list [--json]\n"
	"       estuaryfs key revoke ID\n"
	"\n"
	"API keys for the daemon's HTTP API (Authorization: Bearer KEY).\n"
	"A read key reads what the node keeps; a write key also adds, pins,\n"
	"evicts and collects garbage; an admin key may do everything.\n"
	"Routes marked public need no key.  The daemon's own token\n"
	"(api.token) is an admin key for the CLI.\n"
	"\n"
	"create prints the new key once, alone on stdout (or writes it to a\n"
	"new file of mode 0600 with -o); only its hash is kept, so it cannot\n"
	"be shown again.  Keys look like EST<64 hex digits>ARY, so a leaked\n"
	"one can be found with grep -E 'EST[0-9a-f]{64}ARY'.\n"
	"\n"
	"Keys are kept in the repository's index and take effect, or stop\n"
	"working when revoked, at the daemon's next request: no restart.\n"
	"\n"
	"options:\n"
	"  --scope S       read, write or admin (create)\n"
	"  --label TEXT    a note shown by list (create)\n"
	"  --expires D     a number and s, m, h, d, w or y, e.g. 90d, or\n"
	"                  never (create; default " KEY_EXPIRES_DEFAULT ")\n"
	"  -o, --output F  write the key to the new file F (mode 0600)\n"
	"                  instead of stdout (create)\n"
	"  --json          JSON output (create: with the key as \"secret\")\n"
	"  -h, --help      this help\n";

static int run(int argc, char **argv);

const struct cli_cmd cli_cmd_key = {
	.name = "key",
	.summary = "make, list and revoke API keys",
	.help = help_text,
	.run = run,
};

enum { OPT_SCOPE = 256, OPT_LABEL, OPT_EXPIRES, OPT_JSON };

struct key_args {
	const char *sub;
	const char *scope;
	const char *label;
	const char *expires;
	const char *output;
	bool expires_given;
	bool json;
};

static int open_keys(struct api_keys **out)
{
	char *dir = NULL, *db = NULL;
	int rc;

	if ((rc = cli_repo_dir(&dir)) == 0 &&
	    (rc = cli_repo_index_path(&db)) == 0)
		rc = api_keys_open(out, db);
	efs_free(dir);
	efs_free(db);
	return rc;
}

/* Print json (stolen) indented, with a newline. */
static int print_json(json_t *v)
{
	int rc = v && json_dumpf(v, stdout, JSON_INDENT(2)) == 0 ? 0 : -1;

	json_decref(v);
	if (rc < 0)
		return efs_error_set(EFS_ENOMEM, "key: out of memory");
	putchar('\n');
	return 0;
}

/* "2025-06-01 12:00" (UTC), or dash. */
static void fmt_time(char *out, size_t cap, int64_t t)
{
	if (t <= 0 || !efs_clock_format(out, cap, t * 1000000000,
					"%Y-%m-%d %H:%M"))
		snprintf(out, cap, "-");
}

/* The secret into a new file of mode 0600 (never over another). */
static int write_secret(const char *path, const char *secret)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int rc = 0;

	if (fd < 0)
		return efs_error_set_errno(errno == EEXIST ? EFS_EEXISTS
							   : EFS_EIO, errno,
					   "key: cannot create %s", path);
	if (fdio_write(fd, secret, strlen(secret)) < 0 ||
	    fdio_write(fd, "\n", 1) < 0 || fsync(fd) < 0)
		rc = efs_error_set_errno(EFS_EIO, errno, "key: writing %s",
					 path);
	close(fd);
	if (rc < 0)
		unlink(path);
	return rc;
}

static int show_created(const struct api_key *key, const char *secret,
			const struct key_args *a, int64_t now)
{
	char when[32];
	json_t *v;

	if (a->json) {
		v = api_keys_json(key, now);
		if (v && !a->output)
			json_object_set_new(v, "secret", json_string(secret));
		return print_json(v);
	}
	if (!a->output)
		printf("%s\n", secret);
	fmt_time(when, sizeof(when), key->expires);
	fprintf(stderr, "estuaryfs: key %lld (%s%s%s), %s scope, expires "
		"%s%s; it is shown only %s: keep it safe\n",
		(long long)key->id, key->prefix, key->label[0] ? ", " : "",
		key->label, api_scope_name(key->scope),
		key->expires ? when : "never", key->expires ? " UTC" : "",
		a->output ? "in that file" : "now");
	return 0;
}

static int key_create(const struct key_args *a)
{
	int64_t now = (int64_t)time(NULL), life = 0;
	char secret[API_KEY_SIZE] = "";
	struct api_keys *k = NULL;
	enum api_scope scope;
	struct api_key key;
	int rc;

	if ((rc = api_keys_scope_parse(&scope, a->scope)) < 0 ||
	    (rc = api_keys_duration_parse(&life, a->expires)) < 0)
		return cli_usage(&cli_cmd_key, "%s", efs_error_msg() +
				 strlen("api keys: "));
	if (a->output && access(a->output, F_OK) == 0)
		return cli_fail(efs_error_set(EFS_EEXISTS, "key: %s exists "
					      "already", a->output));
	if ((rc = open_keys(&k)) < 0 ||
	    (rc = api_keys_create(secret, &key, k, scope, a->label,
				  life ? now + life : 0, now)) < 0)
		goto out;
	if (a->output && (rc = write_secret(a->output, secret)) < 0) {
		/* a key no one can have is revoked at once */
		api_keys_revoke(NULL, k, key.id, now);
		goto out;
	}
	rc = show_created(&key, secret, a, now);
out:
	explicit_bzero(secret, sizeof(secret));
	api_keys_close(k);
	return rc < 0 ? cli_fail(rc) : CLI_EXIT_OK;
}

struct list_ctx {
	json_t *arr;
	int64_t now;
	size_t n;
};

static int list_one(void *cls, const struct api_key *key)
{
	struct list_ctx *c = cls;
	char created[32], expires[32], used[32];
	json_t *v;

	c->n++;
	if (c->arr) {
		v = api_keys_json(key, c->now);
		return v && json_array_append_new(c->arr, v) == 0
			       ? 0 : efs_error_set(EFS_ENOMEM, "key: out of "
						   "memory");
	}
	if (c->n == 1)
		printf("%-4s %-11s %-5s %-8s %-16s %-16s %-16s %s\n", "ID",
		       "PREFIX", "SCOPE", "STATUS", "CREATED", "EXPIRES",
		       "LAST USED", "LABEL");
	fmt_time(created, sizeof(created), key->created);
	fmt_time(expires, sizeof(expires), key->expires);
	fmt_time(used, sizeof(used), key->last_used);
	v = api_keys_json(key, c->now);
	printf("%-4lld %-11s %-5s %-8s %-16s %-16s %-16s %s\n",
	       (long long)key->id, key->prefix[0] ? key->prefix : "?",
	       key->corrupt ? "?" : api_scope_name(key->scope),
	       v ? json_string_value(json_object_get(v, "status")) : "?",
	       created, key->expires ? expires : "never", used, key->label);
	json_decref(v);
	return 0;
}

static int key_list(const struct key_args *a)
{
	struct list_ctx c = { .now = (int64_t)time(NULL) };
	struct api_keys *k = NULL;
	int rc;

	if (a->json && !(c.arr = json_array()))
		return cli_fail(efs_error_set(EFS_ENOMEM, "key: out of "
					      "memory"));
	if ((rc = open_keys(&k)) == 0)
		rc = api_keys_foreach(k, list_one, &c);
	api_keys_close(k);
	if (rc == 0 && c.arr) {
		rc = print_json(c.arr);
		c.arr = NULL;
	} else if (rc == 0 && c.n == 0) {
		fprintf(stderr, "estuaryfs: no API keys (make one with "
			"'estuaryfs key create --scope read')\n");
	}
	json_decref(c.arr);
	return rc < 0 ? cli_fail(rc) : CLI_EXIT_OK;
}

static int key_revoke(const char *id_text)
{
	struct api_keys *k = NULL;
	struct api_key key;
	uint64_t id;
	int rc;

	if (cli_parse_uint(&id, id_text, "key ID") < 0 || id == 0 ||
	    id > INT64_MAX)
		return cli_usage(&cli_cmd_key, "bad key ID '%s' (see "
				 "'estuaryfs key list')", id_text);
	if ((rc = open_keys(&k)) == 0)
		rc = api_keys_revoke(&key, k, (int64_t)id, (int64_t)time(NULL));
	api_keys_close(k);
	if (rc < 0)
		return cli_fail(rc);
	fprintf(stderr, "estuaryfs: key %lld (%s) is revoked\n",
		(long long)key.id, key.prefix[0] ? key.prefix : "?");
	return CLI_EXIT_OK;
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "scope", required_argument, NULL, OPT_SCOPE },
		{ "label", required_argument, NULL, OPT_LABEL },
		{ "expires", required_argument, NULL, OPT_EXPIRES },
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct key_args a = { .expires = KEY_EXPIRES_DEFAULT };
	bool create;
	int c;

	while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
		switch (c) {
		case OPT_SCOPE: a.scope = optarg; break;
		case OPT_LABEL: a.label = optarg; break;
		case OPT_EXPIRES:
			a.expires = optarg;
			a.expires_given = true;
			break;
		case 'o': a.output = optarg; break;
		case OPT_JSON: a.json = true; break;
		default: return cli_common_opt(&cli_cmd_key, c, argv);
		}
	}
	if (optind >= argc)
		return cli_usage(&cli_cmd_key, "create, list or revoke?");
	a.sub = argv[optind++];
	create = strcmp(a.sub, "create") == 0;
	if (!create && (a.scope || a.label || a.output ||
			a.expires_given))
		return cli_usage(&cli_cmd_key, "--scope, --label, --expires "
				 "and -o are for 'key create'");
	if (strcmp(a.sub, "revoke") == 0) {
		if (argc - optind != 1)
			return cli_usage(&cli_cmd_key, "revoke takes one key "
					 "ID");
		return key_revoke(argv[optind]);
	}
	if (optind < argc)
		return cli_usage(&cli_cmd_key, "unexpected '%s'",
				 argv[optind]);
	if (create && !a.scope)
		return cli_usage(&cli_cmd_key, "create needs --scope read, "
				 "write or admin");
	if (create)
		return key_create(&a);
	if (strcmp(a.sub, "list") == 0)
		return key_list(&a);
	return cli_usage(&cli_cmd_key, "no subcommand '%s' (create, list or "
			 "revoke)", a.sub);
}
