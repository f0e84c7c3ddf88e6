/*
 * daemonize.h - becoming a background daemon, as `estuaryfs mount` and
 * `estuaryfs daemon` do it:
 *
 *   parent ──daemonize_fork──► child (a new session): set up, then
 *     │                         daemonize_status(fd, 0 or the error)
 *     │ ◄──── status ──────────┘ daemonize_detach, serve
 *   returns the child's status (0, or its error with its message)
 *
 * So every error of the setup reaches the terminal that ran the
 * command, and nothing runs threads across the fork (the child starts
 * its threads after it).
 */
#ifndef EFS_DAEMONIZE_H
#define EFS_DAEMONIZE_H

#include <stdbool.h>

/*
 * Fork.  In the parent: wait until the child sends its status, and
 * return it (0, or the child's error code with its message set here);
 * *is_child is false.  In the child (setsid'd): return 0 with *is_child
 * true and *fd the pipe to send the status on.  who ("mount") prefixes
 * errors.  Returns EFS_EIO when the pipe or the fork fails, or when the
 * child ends before it sends a status.
 */
int daemonize_fork(bool *is_child, int *fd, const char *who);

/* Send code (0 or an efs_error; the thread's message goes with it) to
 * the parent and close fd.  fd < 0 (the foreground): nothing. */
void daemonize_status(int fd, int code);

/*
 * Detach: the log (at level) to <dir>/<log_name> (dir made 0700 when
 * missing, the file 0600, appended), stdin/out/err to /dev/null, cwd /.
 * Returns 0 or EFS_EIO (the message names the path; who prefixes it).
 */
int daemonize_detach(const char *dir, const char *log_name, unsigned level,
		     const char *who);

#endif
