/*
 * localnet.c - start or attach to the local devnet (see localnet.h).
 *
 * A devnet writes <dir>/api ("TOKEN:/ip4/127.0.0.1/tcp/PORT/http" form,
 * see contrib/devnet) and <dir>/token once it listens.  A devnet already
 * running in the directory (a previous daemon started it, or the user
 * did) is used as it is: it answers Filecoin.ChainHead.  Otherwise the
 * stale files are removed and a new one is started in its own session,
 * so a Ctrl-C meant for a foreground daemon reaches the daemon, which
 * then stops it in order.
 */
#include "dealer/localnet.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/fdio.h"
#include "dealer/lotus.h"

#define LOG_TOPIC "devnet"
#include "core/log.h"

#include "core/banned.h"

/* The storage providers of a new devnet. */
#define LOCALNET_SPS "16"

#define DEVNET_PROGRAM "estuaryfs-devnet"
#define START_WAIT_MS 15000
#define STOP_WAIT_MS 10000

static bool executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       access(path, X_OK) == 0;
}

/* The program's path into out (PATH_MAX), or EFS_ENOTFOUND. */
static int find_program(char *out)
{
	static const char *const near[] = {
		"/" DEVNET_PROGRAM,
		"/../contrib/devnet/" DEVNET_PROGRAM,
	};
	const char *env = getenv("ESTUARYFS_DEVNET"), *path;
	char self[PATH_MAX], *slash;
	ssize_t n;

	if (env && *env) {
		if (!executable(env))
			return efs_error_set(EFS_ENOTFOUND,
					     "ESTUARYFS_DEVNET=%s is not an "
					     "executable", env);
		snprintf(out, PATH_MAX, "%s", env);
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = 0;
		if ((slash = strrchr(self, '/')) != NULL)
			*slash = 0;
		for (size_t i = 0; i < sizeof(near) / sizeof(near[0]); i++) {
			if (snprintf(out, PATH_MAX, "%s%s", self, near[i]) <
				    PATH_MAX &&
			    executable(out))
				return 0;
		}
	}
	for (path = getenv("PATH"); path && *path;) {
		size_t len = strcspn(path, ":");

		if (len && snprintf(out, PATH_MAX, "%.*s/%s", (int)len, path,
				    DEVNET_PROGRAM) < PATH_MAX &&
		    executable(out))
			return 0;
		path += len + (path[len] == ':');
	}
	return efs_error_set(EFS_ENOTFOUND,
			     "no network configured and no %s program found "
			     "(install estuaryfs with it, set "
			     "ESTUARYFS_DEVNET, or configure a network in "
			     "config.json)", DEVNET_PROGRAM);
}

/*
 * Read <dir>/token and <dir>/api (its multiaddr) into ln->token and
 * ln->url, the URL as Lotus clients make it of FULLNODE_API_INFO.
 */
static int read_files(struct localnet *ln)
{
	struct buf info = BUF_INIT(sizeof(ln->token) + 1024);
	char path[sizeof(ln->dir) + 16];
	struct lotus *l = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/token", ln->dir);
	if ((rc = fdio_read_file(&info, path)) < 0)
		goto out;
	while (info.len && (info.ptr[info.len - 1] == '\n' ||
			    info.ptr[info.len - 1] == '\r'))
		info.len--;
	snprintf(path, sizeof(path), "%s/api", ln->dir);
	if ((rc = buf_addch(&info, ':')) < 0 ||
	    (rc = fdio_read_file(&info, path)) < 0 ||
	    (rc = lotus_open_info(&l, (const char *)info.ptr)) < 0)
		goto out;
	snprintf(ln->url, sizeof(ln->url), "%s", lotus_url(l));
	snprintf(ln->token, sizeof(ln->token), "%s",
		 lotus_token(l) ? lotus_token(l) : "");
out:
	lotus_close(l);
	buf_release(&info);
	return rc;
}

/* True when the devnet described by ln answers ChainHead. */
static bool answers(const struct localnet *ln)
{
	struct lotus_limits lim = { .timeout_ms = 2000 };
	struct lotus *l;
	int64_t head;
	bool ok;

	if (lotus_open(&l, ln->url, ln->token) < 0)
		return false;
	lotus_set_limits(l, &lim);
	ok = lotus_chain_head(&head, l) == 0;
	lotus_close(l);
	return ok;
}

static int spawn(struct localnet *ln, const char *prog)
{
	char log[sizeof(ln->dir) + 16];
	pid_t pid;

	snprintf(log, sizeof(log), "%s/devnet.log", ln->dir);
	if ((pid = fork()) < 0)
		return efs_error_set_errno(EFS_EIO, errno, "devnet: fork");
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			      0600);
		int nul = open("/dev/null", O_RDONLY);

		setsid();
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (nul >= 0)
			dup2(nul, 0);
		/* 16 SPs: half of the devnet's SPs charge for verified
		 * deals, and 6 deals of a piece need 6 SPs that do not. */
		execl(prog, prog, "--dir", ln->dir, "--listen", "127.0.0.1:0",
		      "--sps", LOCALNET_SPS, (char *)NULL);
		_exit(127);
	}
	ln->pid = pid;
	return 0;
}

int localnet_start(struct localnet *out, const char *repo)
{
	char prog[PATH_MAX], path[sizeof(out->dir) + 16];
	int rc;

	memset(out, 0, sizeof(*out));
	out->pid = -1;
	if (snprintf(out->dir, sizeof(out->dir), "%s/devnet", repo) >=
	    (int)sizeof(out->dir))
		return efs_error_set(EFS_EINVAL, "devnet: path too long");
	if (mkdir(out->dir, 0700) < 0 && errno != EEXIST)
		return efs_error_set_errno(EFS_EIO, errno, "devnet: %s",
					   out->dir);
	if (read_files(out) == 0 && answers(out)) {
		efs_log_notice("no network configured: using the devnet "
			       "(simulated Filecoin, nothing real is stored) "
			       "already running in %s", out->dir);
		return 0;
	}
	if ((rc = find_program(prog)) < 0)
		return rc;
	/* Stale files of a devnet that is gone: the new one rewrites them,
	 * and we must not read the old port meanwhile. */
	snprintf(path, sizeof(path), "%s/api", out->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/token", out->dir);
	unlink(path);
	if ((rc = spawn(out, prog)) < 0)
		return rc;
	for (int waited = 0; waited < START_WAIT_MS; waited += 50) {
		if (read_files(out) == 0 && answers(out)) {
			efs_log_notice("no network configured: started the "
				       "devnet (simulated Filecoin, nothing "
				       "real is stored; pid %d) in %s",
				       (int)out->pid, out->dir);
			return 0;
		}
		if (waitpid(out->pid, NULL, WNOHANG) == out->pid) {
			out->pid = -1;
			return efs_error_set(EFS_EIO, "devnet: %s exited at "
					     "start (see %s/devnet.log)", prog,
					     out->dir);
		}
		usleep(50 * 1000);
	}
	localnet_stop(out);
	return efs_error_set(EFS_ETIMEDOUT, "devnet: no answer after %d s "
			     "(see %s/devnet.log)", START_WAIT_MS / 1000,
			     out->dir);
}

void localnet_stop(struct localnet *ln)
{
	if (ln->pid <= 0)
		return;
	kill(ln->pid, SIGTERM);
	for (int waited = 0; waited < STOP_WAIT_MS; waited += 20) {
		if (waitpid(ln->pid, NULL, WNOHANG) == ln->pid) {
			ln->pid = -1;
			return;
		}
		usleep(20 * 1000);
	}
	kill(ln->pid, SIGKILL);
	waitpid(ln->pid, NULL, 0);
	ln->pid = -1;
}

/* Devnet.Faucet or Devnet.GrantDataCap of `amount` to addr. */
static int grant(struct lotus *l, const char *method,
		 const struct filaddr *addr, const struct bigint *amount)
{
	char a[FILADDR_STR_MAX], n[BIGINT_STR_MAX];
	json_t *res = NULL;
	int rc;

	filaddr_format(a, addr, 'f');
	bigint_format(n, amount);
	rc = lotus_call(&res, l, method, json_pack("[s, s]", a, n));
	json_decref(res);
	return rc;
}

int localnet_fund(struct lotus *l, const struct filaddr *addr,
		  const struct bigint *min_fil, const struct bigint *datacap_min)
{
	struct bigint have, need;
	bool verified;
	int rc;

	if ((rc = lotus_wallet_balance(&have, l, addr)) < 0)
		return rc;
	if (bigint_cmp(&have, min_fil) < 0) {
		if ((rc = bigint_sub(&need, min_fil, &have)) < 0 ||
		    (rc = grant(l, "Devnet.Faucet", addr, &need)) < 0)
			return rc;
		efs_log_info("devnet faucet: funded the wallet");
	}
	if (!datacap_min || bigint_is_zero(datacap_min))
		return 0;
	rc = lotus_datacap(&have, &verified, l, addr);
	if (rc == EFS_ENOTFOUND)
		bigint_from_u64(&have, 0);
	else if (rc < 0)
		return rc;
	if (bigint_cmp(&have, datacap_min) >= 0)
		return 0;
	if ((rc = bigint_sub(&need, datacap_min, &have)) < 0 ||
	    (rc = grant(l, "Devnet.GrantDataCap", addr, &need)) < 0)
		return rc;
	efs_log_info("devnet: granted DataCap to the wallet");
	return 0;
}
