/*
 * cmd_daemon.c - `estuaryfs daemon`: run the daemon's services (the HTTP
 * server and the dealer, cli/services.h) without a mount, and `estuaryfs
 * daemon stop`.
 *
 *   parent ──fork──► child: setsid, log to <repo>/logs/daemon.log, open
 *      │                    the repository (its lock), daemon.pid, start
 *      │ ◄── status ────────┘ the services (0, or the error message)
 *   exit 0 / 1       child: wait for SIGINT, SIGTERM or SIGHUP, then stop
 *                    the services, remove daemon.pid, close the store
 *
 * As with mount, the fork comes before anything opens a file or starts a
 * thread, and every setup error reaches the terminal as one line.  With
 * -f there is no fork and the log goes to stderr.
 *
 * Exclusivity: the blockstore's lock.  A mount of the repository hosts
 * the same services, so a daemon beside it (or a second daemon) is
 * refused, saying which.  daemon.pid names the daemon for `daemon stop`,
 * which trusts it only while the repository's lock is held and the
 * process is an estuaryfs (a pid left by a kill -9 may be reused).
 *
 * Signals: SIGINT, SIGTERM and SIGHUP are blocked in every thread (the
 * mask is set before the first thread starts, and threads inherit it)
 * and taken by sigwait on the main thread, so no handler runs inside a
 * library call and shutdown is ordinary code.
 */
#define LOG_TOPIC "daemon"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli_i.h"
#include "cli/services.h"
#include "core/alloc.h"
#include "core/bstore.h"
#include "core/buf.h"
#include "core/daemonize.h"
#include "core/error.h"
#include "core/fdio.h"
#include "core/log.h"
#include "net/httpc.h"

#include "core/banned.h"

/* How long `daemon stop` waits for the daemon to close the repository. */
#define DAEMON_STOP_WAIT_MS 120000
#define DAEMON_PID_FILE "daemon.pid"

static const char daemon_help[] =
	"usage: estuaryfs daemon [-f] [--log-level LEVEL]\n"
	"       estuaryfs daemon stop\n"
	"\n"
	"Run the daemon's services without a mount: the HTTP server (deal\n"
	"transfers to storage providers, /health) and the dealer, which\n"
	"replicates every commit to storage providers.  A mount of the\n"
	"repository runs the same services itself (unless -o nodaemon), so\n"
	"the daemon is for when nothing is mounted; both at once are refused.\n"
	"It runs in the background until `estuaryfs daemon stop` (or SIGTERM)\n"
	"and logs to $ESTUARYFS_HOME/logs/daemon.log.\n"
	"\n"
	"Settings come from $ESTUARYFS_HOME/config.json, e.g.\n"
	"  {\"http\": {\"listen\": \"127.0.0.1:3004\"},\n"
	"   \"dealer\": {\"enabled\": true, \"replication\": 6}}\n"
	"(http.listen port 0: any free port; http.public_url: the base URL\n"
	"storage providers pull CARs from; no \"network\" section: the local\n"
	"devnet).  While it runs, api.url holds the server's URL and\n"
	"daemon.pid its process id.\n"
	"\n"
	"options:\n"
	"  -f, --foreground   stay in the foreground, log to stderr; SIGINT\n"
	"                     or SIGTERM stop it\n"
	"  --log-level LEVEL  error, warn, notice (default), info or debug\n"
	"  -h, --help         this help\n"
	"\n"
	"exit status: 0 once running (or stopped cleanly), 1 when it cannot\n"
	"start (the reason in one line), 2 for a bad command line; `stop`\n"
	"exits 3 when no daemon runs.\n";

static int run_daemon(int argc, char **argv);

const struct cli_cmd cli_cmd_daemon = {
	.name = "daemon",
	.summary = "run the HTTP server and the dealer without a mount",
	.help = daemon_help,
	.run = run_daemon,
};

/* ---- files in the repository -------------------------------------- */

static char *repo_file(const char *repo, const char *name)
{
	size_t n = strlen(repo) + strlen(name) + 2;
	char *p = efs_malloc(n);

	if (p)
		snprintf(p, n, "%s/%s", repo, name);
	return p;
}

static int pid_write(const char *repo)
{
	char *path = repo_file(repo, DAEMON_PID_FILE);
	char text[32];
	int fd, rc = 0;

	if (!path)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || fdio_write(fd, text, strlen(text)) < 0)
		rc = efs_error_set_errno(EFS_EIO, errno, "daemon: writing %s",
					 path);
	if (fd >= 0)
		close(fd);
	efs_free(path);
	return rc;
}

static void pid_remove(const char *repo)
{
	char *path = repo_file(repo, DAEMON_PID_FILE);

	if (path && unlink(path) < 0 && errno != ENOENT)
		efs_log_warn("cannot remove %s", path);
	efs_free(path);
}

/* The pid daemon.pid names, or 0 (none, unreadable). */
static long pid_read(const char *repo)
{
	struct buf text = BUF_INIT(64);
	char *path = repo_file(repo, DAEMON_PID_FILE);
	char *end;
	long pid = 0;

	if (path && fdio_read_file(&text, path) == 0) {
		pid = strtol((const char *)text.ptr, &end, 10);
		if (end == (char *)text.ptr || (*end && *end != '\n') ||
		    pid < 2)
			pid = 0;
	}
	efs_error_clear();
	efs_free(path);
	buf_release(&text);
	return pid;
}

/*
 * Whether some process holds the repository's lock: a daemon or a
 * mount.  Probing takes the lock for an instant when it is free.
 */
static bool repo_locked(const char *repo)
{
	char *path = repo_file(repo, "bstore.lock");
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	bool held = false;

	efs_free(path);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK)
		held = true;
	close(fd); /* drops the probe's lock */
	return held;
}

/* Whether pid runs an estuaryfs program (guards against a reused pid). */
static bool pid_is_estuaryfs(long pid)
{
	char path[64], comm[64] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	if (n <= 0)
		return false;
	comm[strcspn(comm, "\n")] = '\0';
	return strcmp(comm, "estuaryfs") == 0;
}

/* Whether pid has exited (a zombie nobody reaped yet counts). */
static bool pid_gone(long pid)
{
	char path[64], stat[256];
	const char *paren;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return true;
	n = read(fd, stat, sizeof(stat) - 1);
	close(fd);
	if (n <= 0)
		return true;
	stat[n] = '\0';
	/* "pid (comm) S ...": the state follows the last ')' */
	paren = strrchr(stat, ')');
	return paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

/* ---- the daemon process ------------------------------------------- */

/* The log to <repo>/logs/daemon.log, stdio to /dev/null. */
static int daemon_detach(const char *repo, unsigned level)
{
	char *dir = repo_file(repo, "logs");
	int rc = dir ? daemonize_detach(dir, "daemon.log", level, "daemon")
		     : EFS_ENOMEM;

	efs_free(dir);
	return rc;
}

/* The stop signals: default action (a shell leaves SIGINT ignored in
 * background jobs, and an ignored signal never reaches sigwait), then
 * blocked, for sigwait. */
static void signals_block(sigset_t *set)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };

	sigemptyset(set);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		signal(sigs[i], SIG_DFL);
		sigaddset(set, sigs[i]);
	}
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* bstore_open, saying who holds the repository when it is taken. */
static int repo_open(struct bstore **out, const char *repo)
{
	long pid;
	int rc = bstore_open(out, repo, NULL);

	if (rc != EFS_EEXISTS)
		return rc;
	if ((pid = pid_read(repo)) > 0 && pid_is_estuaryfs(pid))
		return efs_error_set(rc, "daemon: a daemon (pid %ld) already "
				     "serves %s", pid, repo);
	return efs_error_set(rc, "daemon: %s is in use by another estuaryfs "
			     "process: a mount of it runs the daemon's "
			     "services already", repo);
}

/*
 * Close the blockstore (its final sync) and return the outcome: rc when
 * the daemon failed (its message kept for the caller), else the close's.
 */
static int close_repo(struct bstore *bs, int rc)
{
	struct efs_error_state err;
	int closed;

	efs_error_save(&err);
	if ((closed = bstore_close(bs)) < 0)
		efs_log_err("closing the blockstore: %s", efs_error_msg());
	if (rc < 0)
		return efs_error_restore(&err);
	if (closed == 0)
		efs_log_notice("stopped");
	return closed;
}

static int serve(const char *repo, unsigned level, int fd)
{
	struct cli_services *svc = NULL;
	struct bstore *bs = NULL;
	sigset_t set;
	int rc, sig = 0;

	signals_block(&set);
	efs_log_setup(level, 2);
	if (fd >= 0 && (rc = daemon_detach(repo, level)) < 0) {
		daemonize_status(fd, rc);
		goto out;
	}
	if ((rc = repo_open(&bs, repo)) < 0 ||
	    (rc = pid_write(repo)) < 0 ||
	    (rc = cli_services_start(&svc, bs, repo, NULL, NULL)) < 0) {
		/* the terminal gets it from the parent; the log keeps it */
		if (fd >= 0)
			efs_log_err("did not start: %s", efs_error_msg());
		daemonize_status(fd, rc);
		goto out;
	}
	daemonize_status(fd, 0);
	efs_log_notice("serving %s (pid %ld)", repo, (long)getpid());
	while (sigwait(&set, &sig) != 0)
		;
	efs_log_notice("stopping (signal %d)", sig);
out:
	cli_services_stop(svc);
	if (bs)
		pid_remove(repo);
	return close_repo(bs, rc);
}

/* Run in the background (fork, the child reports its setup) or not. */
static int start(const char *repo, unsigned level, bool foreground)
{
	bool child;
	int fd, rc;

	if (foreground)
		return serve(repo, level, -1);
	if ((rc = daemonize_fork(&child, &fd, "daemon")) < 0 || !child)
		return rc;
	/* the child never returns to the command: it exits here */
	_exit(serve(repo, level, fd) < 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK);
}

/* ---- daemon stop ---------------------------------------------------- */

static int stop(const char *repo)
{
	long pid = pid_read(repo);
	int waited;

	if (pid == 0 || !repo_locked(repo) || !pid_is_estuaryfs(pid)) {
		if (pid != 0 && !repo_locked(repo))
			pid_remove(repo); /* left by a daemon killed -9 */
		return efs_error_set(EFS_ENOTFOUND, "daemon: no daemon runs "
				     "for %s", repo);
	}
	if (kill((pid_t)pid, SIGTERM) < 0)
		return efs_error_set_errno(EFS_EIO, errno, "daemon: kill %ld",
					   pid);
	for (waited = 0; repo_locked(repo) || !pid_gone(pid); waited += 20) {
		if (waited >= DAEMON_STOP_WAIT_MS)
			return efs_error_set(EFS_ETIMEDOUT, "daemon: pid %ld "
					     "is still stopping after %d s",
					     pid, DAEMON_STOP_WAIT_MS / 1000);
		poll(NULL, 0, 20);
	}
	return 0;
}

/* ---- the command ---------------------------------------------------- */

static int parse_level(unsigned *out, const char *s)
{
	static const struct {
		const char *name;
		enum efs_log_level level;
	} names[] = {
		{ "error", EFS_LOG_ERR },   { "warn", EFS_LOG_WARN },
		{ "notice", EFS_LOG_NOTICE }, { "info", EFS_LOG_INFO },
		{ "debug", EFS_LOG_DEBUG },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i].name) == 0) {
			*out = names[i].level;
			return 0;
		}
	}
	return -1;
}

/* The repository as an absolute path (the daemon changes to /). */
static int repo_abs(char **out, bool create)
{
	char *dir, *real;
	int rc;

	*out = NULL;
	if ((rc = create ? cli_repo_dir(&dir) : cli_repo_path(&dir)) < 0)
		return rc;
	real = realpath(dir, NULL);
	if (!real) {
		rc = efs_error_set_errno(errno == ENOENT ? EFS_ENOTFOUND
							 : EFS_EIO,
					 errno, "daemon: %s", dir);
		efs_free(dir);
		return rc;
	}
	efs_free(dir);
	*out = efs_strdup(real);
	free(real);
	return *out ? 0 : efs_error_set(EFS_ENOMEM, "out of memory");
}

static int run_stop(int argc, char **argv)
{
	char *repo;
	int rc;

	if (argc > 1)
		return cli_usage(&cli_cmd_daemon, "stop takes no arguments");
	if ((rc = repo_abs(&repo, false)) == EFS_ENOTFOUND)
		return cli_fail(efs_error_set(rc, "daemon: no daemon runs "
					      "(no repository)"));
	if (rc == 0)
		rc = stop(repo);
	efs_free(repo);
	return rc < 0 ? cli_fail(rc) : CLI_EXIT_OK;
}

static int run_daemon(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned level = EFS_LOG_NOTICE;
	bool foreground = false;
	char *repo = NULL;
	int c, rc;

	/* '+': `daemon stop` is a subcommand; options stop at it */
	while ((c = getopt_long(argc, argv, "+:fh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			foreground = true;
			break;
		case 'l':
			if (parse_level(&level, optarg) < 0)
				return cli_usage(&cli_cmd_daemon,
						 "bad log level '%s'", optarg);
			break;
		default:
			return cli_common_opt(&cli_cmd_daemon, c, argv);
		}
	}
	if (optind < argc && strcmp(argv[optind], "stop") == 0)
		return run_stop(argc - optind, argv + optind);
	if (optind < argc)
		return cli_usage(&cli_cmd_daemon, "unexpected '%s'",
				 argv[optind]);
	/* before the fork, while no thread runs (net/httpc.h) */
	if ((rc = httpc_global_init()) < 0 ||
	    (rc = repo_abs(&repo, true)) < 0 ||
	    (rc = start(repo, level, foreground)) < 0) {
		cli_fail(rc);
		rc = CLI_EXIT_ERROR; /* the daemon did not start */
	}
	efs_free(repo);
	return rc;
}
