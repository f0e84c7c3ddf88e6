/*
 * cli_i.h - what the estuaryfs command files share: the command table
 * entry, exit codes, error reporting, argument parsing helpers, the
 * repository, output and the progress bar.
 *
 * Conventions every command follows:
 *  - run(argc, argv) gets argv[0] = the command name and parses the rest
 *    with getopt_long (optind reset by the dispatcher); it returns an
 *    exit code from enum cli_exit, never calls exit().
 *  - Errors are one line on stderr, "estuaryfs: <message>", where the
 *    message is the efs error message of the failing call (cli_fail) or
 *    a usage complaint (cli_usage).
 *  - Results go to stdout, progress and notes to stderr.
 */
#ifndef EFS_CLI_I_H
#define EFS_CLI_I_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/cid.h"

/* Exit codes: stable, documented in README.md and `estuaryfs --help`. */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_ERROR = 1,    /* anything else (out of memory, ...) */
	CLI_EXIT_USAGE = 2,    /* bad command line, option or argument */
	CLI_EXIT_NOTFOUND = 3, /* no such file, block, path or CID */
	CLI_EXIT_CORRUPT = 4,  /* corrupt data or failed verification */
	CLI_EXIT_IO = 5,       /* I/O error or disk full */
};

struct cli_cmd {
	const char *name;    /* as typed: "add", "car" */
	const char *summary; /* one line for the command list */
	const char *help;    /* full text for --help and `help NAME` */
	int (*run)(int argc, char **argv);
};

/* The commands, each defined in its cmd_*.c file. */
extern const struct cli_cmd cli_cmd_add;
extern const struct cli_cmd cli_cmd_cat;
extern const struct cli_cmd cli_cmd_ls;
extern const struct cli_cmd cli_cmd_car;
extern const struct cli_cmd cli_cmd_commp;
extern const struct cli_cmd cli_cmd_fsck;
extern const struct cli_cmd cli_cmd_gc;
extern const struct cli_cmd cli_cmd_wallet;
/* What the dealer knows of storage providers (cmd_miners.c). */
extern const struct cli_cmd cli_cmd_miners;
extern const struct cli_cmd cli_cmd_miner;
extern const struct cli_cmd cli_cmd_bandwidth;
/* What the dealer did for the commits (cmd_status.c, cmd_deals.c,
 * cmd_estimate.c). */
extern const struct cli_cmd cli_cmd_status;
extern const struct cli_cmd cli_cmd_deals;
extern const struct cli_cmd cli_cmd_deal;
extern const struct cli_cmd cli_cmd_estimate;
/* The local cache: evict, pin, unpin (cmd_evict.c). */
extern const struct cli_cmd cli_cmd_evict;
extern const struct cli_cmd cli_cmd_pin;
extern const struct cli_cmd cli_cmd_unpin;
/* Any CID's DAG into the repository, pinned (cmd_retrieve.c). */
extern const struct cli_cmd cli_cmd_retrieve;
/* The daemon's services without a mount (cmd_daemon.c). */
extern const struct cli_cmd cli_cmd_daemon;
/* API keys for the daemon's HTTP API (cmd_key.c). */
extern const struct cli_cmd cli_cmd_key;
/* The filesystem's (cmd_mount.c, cmd_commit.c), built with fs/ when
 * libfuse3 is found (EFS_WITH_FS). */
extern const struct cli_cmd cli_cmd_mount;
extern const struct cli_cmd cli_cmd_unmount;
extern const struct cli_cmd cli_cmd_commit;
extern const struct cli_cmd cli_cmd_commits;

/* The exit code for a negative efs error code. */
int cli_exit_code(int efs_code);

/*
 * Report the current efs error: prints "estuaryfs: <message>" (or the
 * code's name when the message is empty) and returns the exit code for
 * efs_code.
 */
int cli_fail(int efs_code);

/*
 * Report a usage error of cmd: "estuaryfs: <cmd>: <message> (see
 * 'estuaryfs help <cmd>')"; returns CLI_EXIT_USAGE.
 */
int cli_usage(const struct cli_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Print cmd's help to f. */
void cli_help(const struct cli_cmd *cmd, FILE *f);

/*
 * Handle what getopt_long returned that is not one of cmd's own options:
 * 'h' prints the help (exit 0); '?' (unknown option) and ':' (missing
 * value; optstrings start with ':') report one usage line (exit 2).
 * getopt's own messages are off (opterr = 0, set in main).  Returns the
 * exit code.
 */
int cli_common_opt(const struct cli_cmd *cmd, int opt, char **argv);

/*
 * Parse a size: digits with an optional suffix K, KiB, M, MiB, G, GiB
 * (powers of 1024, case-insensitive).  Returns 0 or EFS_EINVAL (message
 * names what).
 */
int cli_parse_size(uint64_t *out, const char *s, const char *what);

/* Parse a decimal unsigned integer; 0 or EFS_EINVAL. */
int cli_parse_uint(uint64_t *out, const char *s, const char *what);

/*
 * Split "CID[/path/inside]" into the CID and the path after it (a
 * pointer into s, "" when none; leading slashes skipped).  Accepts a
 * leading "/ipfs/".  Returns 0 or EFS_EINVAL with a message quoting s.
 */
int cli_parse_cid_path(struct cid *out, const char **path_out,
		       const char *s);

/*
 * The repository directory: $ESTUARYFS_HOME, else $HOME/.estuaryfs.
 * Returns a malloc'd path (efs_free) in out, or EFS_EINVAL when neither
 * is set.
 */
int cli_repo_path(char **out);

/* Its index, <repository>/index.db (whether there or not), as a malloc'd
 * path in out.  Returns 0 or the errors of cli_repo_path. */
int cli_repo_index_path(char **out);

/*
 * The repository directory as cli_repo_path gives it, created (with its
 * parents, mode 0700 for each directory made) when missing.  Returns
 * 0, EFS_EINVAL (no path; a path that is not a directory) or EFS_EIO
 * (cannot create it); out is NULL on failure.
 */
int cli_repo_dir(char **out);

struct bstore;

/*
 * Open the repository's blockstore, creating the directory (as
 * cli_repo_dir does) on first use.  Close with bstore_close and report its
 * error: it is the final sync.  Returns 0 or the errors of bstore_open
 * (EFS_EEXISTS when another process has it open).
 */
int cli_repo_open(struct bstore **out);

/*
 * Close bs (NULL is fine) and return rc, or, when rc is 0, the error of
 * bstore_close (the final sync), so that a command reports it:
 * `rc = cli_repo_close(bs, rc);`.
 */
int cli_repo_close(struct bstore *bs, int rc);

/*
 * Sync bs, then pin root under the owner tag name unless a pin with that
 * root and name exists already (so repeating a command adds no pins).
 * Returns 0 or bstore errors.
 */
int cli_repo_pin(struct bstore *bs, const struct cid *root,
		 const char *name);

/*
 * Write all len bytes to fd, retrying short writes and EINTR.  Returns 0
 * or EFS_EIO / EFS_ENOSPC with a message naming what.
 */
int cli_write_all(int fd, const void *p, size_t len, const char *what);

/* Format n bytes as "1.5 GiB" into out (cap >= 16). */
void cli_human_bytes(char *out, size_t cap, uint64_t n);


/*
 * A one-line progress bar on stderr, redrawn at most 10 times a second:
 *
 *   add  [##########..........]  50%  512.0 MiB / 1.0 GiB  820.3 MiB/s
 *
 * It draws only when enabled at init (stderr is a terminal, total is
 * large enough, the user did not ask for -q).  Owned by one thread.
 */
struct cli_progress {
	const char *label;
	uint64_t total;
	uint64_t done;
	double start;
	double last_draw;
	bool enabled;
	bool drawn;
};

/* Inputs smaller than this get no progress bar. */
#define CLI_PROGRESS_MIN (64u * 1024 * 1024)

/* Start a bar for total bytes; draws nothing unless want and stderr is a
 * terminal and total >= CLI_PROGRESS_MIN. */
void cli_progress_init(struct cli_progress *p, const char *label,
		       uint64_t total, bool want);

/* Add n bytes done; redraws when due. */
void cli_progress_add(struct cli_progress *p, uint64_t n);

/* Erase the bar for good (so results and errors print on a clean line). */
void cli_progress_end(struct cli_progress *p);

/* Erase the bar for a message; the next update draws it again. */
void cli_progress_clear(struct cli_progress *p);

#endif
