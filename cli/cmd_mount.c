/*
 * cmd_mount.c - `estuaryfs mount DIR` and `estuaryfs unmount DIR`: serve
 * the repository as a filesystem (fs/mount.h) and stop serving it.
 *
 * The mount's process also hosts the daemon's services (cli/services.h:
 * the HTTP server and the dealer), as `estuaryfs daemon` does without a
 * mount; -o nodaemon leaves them out.
 *
 * mount daemonizes like sshfs: it returns once the filesystem is mounted,
 * or fails with the setup's own error; -f keeps it in the foreground
 * (logging to stderr), where SIGINT or SIGTERM unmount it cleanly.
 * unmount waits until the daemon has flushed and closed the repository,
 * so a mount right after it works.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli_i.h"
#include "cli/services.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/log.h"
#include "fs/mount.h"
#include "net/httpc.h"

#include "core/banned.h"

/* How long unmount waits for the daemon's final flush. */
#define UNMOUNT_WAIT_MS 120000

static const char mount_help[] =
	"usage: estuaryfs mount DIR [-f] [-d] [-v] [-o OPTIONS]\n"
	"\n"
	"Mount the repository ($ESTUARYFS_HOME or ~/.estuaryfs, or -o repo=)\n"
	"on DIR and serve it in the background until `estuaryfs unmount DIR`.\n"
	"Files written there become UnixFS DAGs in the repository; `getfattr\n"
	"-n user.estuary.cid PATH` shows any file's or directory's CID.  The\n"
	"mount also runs the daemon's HTTP server and dealer, configured in\n"
	"the repository's config.json (see `estuaryfs help daemon`).\n"
	"\n"
	"options:\n"
	"  -f            stay in the foreground, log to stderr\n"
	"  -d            also trace every FUSE request (implies -f)\n"
	"  -v            log more (info level)\n"
	"  -o OPTIONS    comma-separated, may be repeated:\n"
	"     repo=PATH           the repository\n"
	"     profile=NAME        unixfs-v1-2025 (default) or unixfs-v0-2015;\n"
	"                         fixed when the filesystem is first mounted\n"
	"     autocommit=SECONDS  commit the root and committed directories\n"
	"                         once idle this long after a change (off)\n"
	"     gc_interval=SECONDS delete unreferenced blocks this often, and\n"
	"                         sooner after many unpins (60; 0 = off)\n"
	"     entry_timeout=S, attr_timeout=S, negative_timeout=S  (1 s)\n"
	"     max_threads=N       FUSE worker threads (16)\n"
	"     noclone_fd          one /dev/fuse descriptor for all threads\n"
	"     writeback_cache     let the kernel cache writes (experimental)\n"
	"     staging_max=SIZE    bytes of writes staged before writers wait\n"
	"     nodaemon            no HTTP server and no dealer in this mount\n"
	"     allow_other, ro, auto_unmount, ...  passed to FUSE\n"
	"  -h, --help    this help\n"
	"\n"
	"Also mountable with mount(8) through contrib/mount.fuse.estuaryfs:\n"
	"  mount -t fuse.estuaryfs ~/.estuaryfs DIR\n";

static const char unmount_help[] =
	"usage: estuaryfs unmount DIR [--no-wait]\n"
	"\n"
	"Unmount the estuaryfs filesystem at DIR and wait until its daemon\n"
	"has flushed everything and closed the repository.\n"
	"\n"
	"options:\n"
	"  --no-wait     return once unmounted, without waiting\n"
	"  -h, --help    this help\n";

static int run_mount(int argc, char **argv);
static int run_unmount(int argc, char **argv);

const struct cli_cmd cli_cmd_mount = {
	.name = "mount",
	.summary = "mount the repository as a filesystem on DIR",
	.help = mount_help,
	.run = run_mount,
};

const struct cli_cmd cli_cmd_unmount = {
	.name = "unmount",
	.summary = "unmount DIR and wait for the daemon to finish",
	.help = unmount_help,
	.run = run_unmount,
};

/* The services hook of fs/mount.h; a failure says how to do without. */
static int services_start(void **state, void *cls, struct bstore *bs,
			  const char *repo, const struct fsstats *stats,
			  struct mount_tree *tree)
{
	struct efs_error_state err;
	struct cli_services *s;
	int rc = cli_services_start(&s, bs, repo, stats, tree);

	*state = rc < 0 ? NULL : s;
	if (rc < 0) {
		efs_error_save(&err);
		rc = efs_error_set(rc, "%s (-o nodaemon mounts without the "
				   "HTTP server and the dealer)", err.msg);
	}
	return rc;
}

static void services_stop(void *state)
{
	cli_services_stop(state);
}

static int run_mount(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mount_opts o;
	char *repo = NULL;
	int c, rc;

	mount_opts_init(&o);
	while ((c = getopt_long(argc, argv, ":fdvo:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			o.foreground = true;
			break;
		case 'd':
			o.debug = true;
			break;
		case 'v':
			o.log_level = EFS_LOG_INFO;
			break;
		case 'o':
			if ((rc = mount_opts_parse(&o, optarg)) < 0) {
				rc = cli_fail(rc);
				goto out;
			}
			break;
		default:
			rc = cli_common_opt(&cli_cmd_mount, c, argv);
			goto out;
		}
	}
	if (optind != argc - 1) {
		rc = cli_usage(&cli_cmd_mount, "needs one DIR");
		goto out;
	}
	o.mountpoint = argv[optind];
	if (!o.repo && (rc = cli_repo_path(&repo)) < 0) {
		rc = cli_fail(rc);
		goto out;
	}
	if (!o.repo)
		o.repo = repo;
	o.services.start = services_start;
	o.services.source = cli_services_source;
	o.services.stop = services_stop;
	/* before the fork, while no thread runs (net/httpc.h) */
	if (!o.nodaemon && (rc = httpc_global_init()) < 0) {
		rc = cli_fail(rc);
		goto out;
	}
	rc = mount_run(&o);
	rc = rc < 0 ? cli_fail(rc) : CLI_EXIT_OK;
out:
	efs_free(repo);
	mount_opts_release(&o);
	return rc;
}

static int run_unmount(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "no-wait", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int wait_ms = UNMOUNT_WAIT_MS;
	int c, rc;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			wait_ms = 0;
			break;
		default:
			return cli_common_opt(&cli_cmd_unmount, c, argv);
		}
	}
	if (optind != argc - 1)
		return cli_usage(&cli_cmd_unmount, "needs one DIR");
	if ((rc = mount_unmount(argv[optind], wait_ms)) < 0)
		return cli_fail(rc);
	return CLI_EXIT_OK;
}
