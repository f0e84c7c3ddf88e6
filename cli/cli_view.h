/*
 * cli_view.h - what the read-side commands (status, deals, deal show,
 * estimate, wallet show) share beyond the dealer's view of the index
 * (dealer/dealview.h, which the daemon's REST routes share too): the
 * view opened on the repository of $ESTUARYFS_HOME with the filesystem's
 * commit log, the commits a DIR or CID argument selects, and the
 * terminal formatting they print with.
 *
 * Owned by the one thread of the command.
 */
#ifndef EFS_CLI_VIEW_H
#define EFS_CLI_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/bigint.h"
#include "core/cid.h"
#include "dealer/dealview.h"

/*
 * Open the view (dealview_open) of the repository cli_repo_path names,
 * with the filesystem's commit log (cli_commit_log).  Returns 0,
 * EFS_EINVAL (no repository path) or dealview_open's errors.  Release
 * with dealview_release, also after an error.
 */
int cli_view_open(struct dealview *v);

/*
 * The filesystem's commit log of the index db_path (fs/commit.h's
 * commit_list) as a dealview_log_fn: the CLI's views and the daemon's
 * REST routes.  A build without the filesystem has none.
 */
int cli_commit_log(const char *db_path, dealview_log_cb cb, void *cls);

/* What a DIR|CID argument selects (NULL argument: every commit). */
struct cli_filter {
	const char *arg;            /* as typed, or NULL */
	bool by_root;               /* CID: commits with this root */
	struct cid root;
	bool by_dir;                /* DIR: its commits and its subtree's */
	char *dir_path;             /* its path in the mount ("/a/b") */
	int64_t dir_commit;         /* its latest commit; -1: none */
};

/*
 * Resolve arg: a directory of a mounted estuaryfs (its latest commit,
 * read from the xattr user.estuary.commit, gives its path in the mount;
 * for one never committed, its path below the mount point) or a CID.
 * arg NULL selects everything.  Returns 0, EFS_EINVAL (neither; a
 * directory outside estuaryfs), EFS_EIO, EFS_ENOMEM.  Release with
 * cli_filter_release.
 */
int cli_filter_init(struct cli_filter *out, const char *arg);
void cli_filter_release(struct cli_filter *f);

/*
 * The error for a selection of no commit, for cmd ("status"):
 * EFS_ENOTFOUND, saying how to commit a directory never committed.
 */
int cli_filter_none(const struct cli_filter *f, const char *cmd);

/*
 * The commits f selects, oldest first (dealview_list_commits, then the
 * selection).  An empty selection is not an error here.  Returns 0,
 * EFS_ENOMEM, EFS_ECORRUPT or db errors.  Release with
 * dealview_commits_release.
 */
int cli_view_commits(struct dealview_commits *out, struct dealview *v,
		     const struct cli_filter *f);

/* ---- wallet show (cmd_wallet_show.c) ---- */

/*
 * `estuaryfs wallet [show]`: the deal client's address, balance, escrow
 * and DataCap, read from the node (or the dealer's last reading), as
 * text or JSON; watching: redraw with deal progress every 2 s until
 * every commit has its deals or SIGINT.  Returns 0 or an efs error
 * (EFS_ECANCELED: interrupted while watching).
 */
int cli_wallet_show(bool json, bool watching);

/* ---- formatting ---- */

/* "in 40 s", "3 min ago", "now" relative to now. */
void cli_fmt_rel(char *out, size_t cap, int64_t t, int64_t now);

/* attoFIL as FIL without the unit ("0.0315"). */
void cli_fmt_fil(char *out, size_t cap, const struct bigint *a);

/* Print v (stolen) as indented JSON and a newline; EFS_ENOMEM when it or
 * something in it could not be made (bad). */
int cli_json_print(json_t *v, bool bad);

#endif
