/*
 * cli_view.h - what the read-side commands (status, deals, deal show,
 * estimate, wallet show) share: the dealer's state as the repository's
 * index holds it, opened read-only beside a running daemon, the commits
 * a DIR or CID argument selects, each commit's replication, and the JSON
 * and time formatting they all print with.
 *
 * Nothing here opens the blockstore: the daemon holds its lock
 * (core/bstore.c, bstore.lock) while it runs.  Everything is read from
 * index.db through the dealer's read-only openers (deals_open_ro,
 * piece_store_open_ro, dealer_report_read, dealer_piece_note,
 * miners_open read_only) and fs/commit.h's commit_list.
 *
 * A repository in which the dealer never ran is not an error: the view
 * then has no deals, no pieces and no report, and the commands say so.
 * A missing index.db is the same.  A corrupt one is an error (one line,
 * exit 4), as is a config.json that does not parse.
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
#include "dealer/config.h"
#include "dealer/deals.h"
#include "dealer/piece.h"

struct cli_note {
	int64_t piece_id;
	int64_t time;
	char *text;
};

struct cli_view {
	char *repo;                 /* the repository directory */
	char *db;                   /* its index.db */
	bool has_index;             /* index.db exists */
	struct dealer_config cfg;   /* config.json over the defaults */
	json_t *report;             /* the dealer's report, or NULL: it
				       never ran */
	struct deals *deals;        /* NULL: no deals table yet */
	struct piece_store *ps;     /* NULL: no piece tables yet */
	int64_t head;               /* chain height the dealer last read;
				       -1 unknown */
	int64_t now;                /* unix seconds, for the whole command */
	long daemon_pid;            /* the process holding the blockstore (the
				       daemon, a mount): 0 none, -1 unknown */
	bool no_notes;              /* skip the dealer's notes (--watch
				       needs none) */
	/* the dealer's notes, read in one scan when first needed, by
	 * piece ID */
	struct cli_note *notes;
	size_t nnotes, notes_cap;
	bool notes_read;
	/* the live deals, read in one scan when first needed and sorted
	 * by piece (cli_view.c) */
	struct cli_live *live;
	size_t nlive, live_cap;
	bool live_read;
};

/*
 * Open the view of the repository: config, report, deals and pieces,
 * each left NULL when the dealer has not written it.  Returns 0,
 * EFS_EINVAL (no repository path; a config.json error: the message
 * says which key), EFS_ECORRUPT (index.db or the report is not what the
 * dealer writes), EFS_ENOMEM or db errors.  Release with
 * cli_view_release, also after an error.
 */
int cli_view_open(struct cli_view *v);

void cli_view_release(struct cli_view *v);

/* The report's object under key ("funds", "blocked", ...), or NULL.
 * Borrowed from v. */
json_t *cli_view_report(const struct cli_view *v, const char *key);

/*
 * When the report's "funds" were read (unix seconds): its own "time",
 * else the head's time when the heights agree (both are written by the
 * same cycle), else 0 (unknown).
 */
int64_t cli_view_funds_time(const struct cli_view *v);

/* ---- commits and the DIR|CID argument ---- */

struct cli_commit {
	int64_t id;
	struct cid root;
	char *path;                 /* its directory in the mount when
				       taken, or NULL: not known here */
	int64_t time;               /* unix seconds it was taken; 0 unknown */
	uint64_t size;              /* bytes of its files; 0 unknown */
	bool in_store;              /* the dealer took it: pc is set */
	struct piece_commit_info pc;
};

struct cli_commits {
	struct cli_commit *v;
	size_t n, cap;
};

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
 * The commits f selects, oldest first: those of the filesystem's log
 * (with EFS_WITH_FS) and those the dealer's piece store knows, merged by
 * ID.  An empty selection is not an error here.  Returns 0, EFS_ENOMEM,
 * EFS_ECORRUPT or db errors.  Release with cli_commits_release.
 */
int cli_view_commits(struct cli_commits *out, struct cli_view *v,
		     const struct cli_filter *f);
void cli_commits_release(struct cli_commits *c);

/* ---- a commit's replication ---- */

/* One piece holding (part of) a commit, and its deals. */
struct cli_piece {
	struct piece_info info;
	uint64_t share;             /* padded bytes of the commit in it: the
				       piece, or its data segment in an
				       aggregate */
	unsigned counting, active;  /* deals_count at v->head */
	unsigned live;              /* live deals, ACTIVE or not */
	char *note;                 /* the dealer's note, or NULL */
	int64_t note_time;
	/* the live, not yet active deal checked soonest (has_wait) */
	bool has_wait;
	struct filaddr wait_sp;
	enum deal_state wait_state;
	int64_t wait_check;
	/* the earliest epoch an active deal of it leaves the count (its
	 * end minus the renewal window); -1 none */
	int64_t renew_epoch;
};

struct cli_commit_state {
	struct cli_piece *pieces;
	size_t npieces;
	unsigned want;              /* replication wanted */
	unsigned active, counting;  /* the least over its pieces; 0: none */
	uint64_t evicted_blocks, evicted_bytes;
	char next[512];             /* what the dealer will do next */
	bool next_from_dealer;      /* next is the dealer's own note */
};

/*
 * The replication of commit c: its pieces, their deals counted, its
 * evicted blocks and the next thing the dealer will do (its note for
 * the piece, or derived from the stage and the deals).  Returns 0,
 * EFS_ENOMEM, EFS_ECORRUPT or db errors.  Release with
 * cli_commit_state_release.
 */
int cli_view_commit_state(struct cli_commit_state *out, struct cli_view *v,
			  const struct cli_commit *c);
void cli_commit_state_release(struct cli_commit_state *s);

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

/* "2025-06-01 12:00:03" (UTC) of unix seconds t; "-" for t <= 0. */
void cli_fmt_time(char *out, size_t cap, int64_t t);

/* "in 40 s", "3 min ago", "now" relative to now. */
void cli_fmt_rel(char *out, size_t cap, int64_t t, int64_t now);

/* A CID shortened for a table: "bafybeih...4xq2" (full when short). */
void cli_fmt_short(char *out, size_t cap, const char *s);

/* attoFIL as FIL without the unit ("0.0315"). */
void cli_fmt_fil(char *out, size_t cap, const struct bigint *a);

/* Set key to v (stolen); remembers a failure in *bad. */
void cli_jset(json_t *o, const char *key, json_t *v, bool *bad);

/* JSON of unix seconds: "2025-06-01T12:00:03Z", null for t <= 0. */
json_t *cli_jtime(int64_t t);

/* A string or null. */
json_t *cli_jstr(const char *s);

/* An integer, saturated at INT64_MAX. */
json_t *cli_jint(uint64_t v);

/* A CID's string form. */
json_t *cli_jcid(const struct cid *id);

/* An amount: {"attofil": "...", "fil": "... FIL"}. */
json_t *cli_jamount(const struct bigint *a, bool *bad);

/* Print v (stolen) as indented JSON and a newline; EFS_ENOMEM when it or
 * something in it could not be made (bad). */
int cli_json_print(json_t *v, bool bad);

#endif
