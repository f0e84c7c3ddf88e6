/*
 * daemonize.c - fork, report the setup to the parent, detach (see
 * daemonize.h).  The status is a struct efs_error_state written whole
 * through a pipe: a short read means the child died first.
 */
#include "core/daemonize.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"

#include "core/banned.h"

int daemonize_fork(bool *is_child, int *fd, const char *who)
{
	struct efs_error_state st;
	int fds[2], wst = 0;
	ssize_t n;
	pid_t pid;

	*is_child = false;
	*fd = -1;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return efs_error_set_errno(EFS_EIO, errno, "%s: pipe", who);
	if ((pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		return efs_error_set_errno(EFS_EIO, errno, "%s: fork", who);
	}
	if (pid == 0) {
		close(fds[0]);
		setsid();
		*is_child = true;
		*fd = fds[1];
		return 0;
	}
	close(fds[1]);
	do {
		n = read(fds[0], &st, sizeof(st));
	} while (n < 0 && errno == EINTR);
	close(fds[0]);
	if (n != (ssize_t)sizeof(st)) {
		waitpid(pid, &wst, 0);
		return efs_error_set(EFS_EIO, "%s: the daemon died during "
				     "setup (status %d)", who, wst);
	}
	st.msg[sizeof(st.msg) - 1] = '\0';
	return efs_error_restore(&st);
}

void daemonize_status(int fd, int code)
{
	struct efs_error_state st;

	if (fd < 0)
		return;
	efs_error_save(&st);
	st.code = code;
	if (write(fd, &st, sizeof(st)) != (ssize_t)sizeof(st))
		efs_log_warn("cannot report to the parent");
	close(fd);
}

int daemonize_detach(const char *dir, const char *log_name, unsigned level,
		     const char *who)
{
	char file[4096];
	int null, log;

	if (snprintf(file, sizeof(file), "%s/%s", dir, log_name) >=
	    (int)sizeof(file))
		return efs_error_set(EFS_EIO, "%s: log path too long", who);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return efs_error_set_errno(EFS_EIO, errno, "%s: mkdir %s", who,
					   dir);
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		return efs_error_set_errno(EFS_EIO, errno, "%s: /dev/null",
					   who);
	log = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (log < 0) {
		close(null);
		return efs_error_set_errno(EFS_EIO, errno, "%s: open %s", who,
					   file);
	}
	efs_log_setup(level, log);
	dup2(null, 0);
	dup2(null, 1);
	dup2(null, 2);
	close(null);
	if (chdir("/") < 0)
		efs_log_warn("chdir /: failed");
	return 0;
}
