/*
 * services.h - the daemon's services, one code path for both of their
 * hosts: `estuaryfs daemon` (no mount) and a mount (fs/mount.h's
 * services hook).  They are the HTTP server (api/api_server.h) and the
 * dealer (dealer/dealer.h), set up from <repo>/config.json:
 *
 *   config_load ─► api_server_start(http.listen) ─► <repo>/api.url
 *       │
 *       └─ dealer.enabled ─► dealer_open(transfer base = http.public_url
 *                             or the server's URL; commits from the
 *                             filesystem's log) ─► dealer_start ─►
 *                             api_server_set_dealer
 *       └─ evict_open(cache.*) ─► evict_start ─► api_server_set_evictor
 *          (POST /evict, /pin, /unpin, with the token of <repo>/api.token,
 *          made before the server starts and removed when it stops)
 *       └─ retriever_open(retrieval.*) ─► api_server_set_retriever
 *          (POST /retrieve; POST /gc runs on the blockstore given)
 *
 * <repo>/api.url holds the server's base URL ("http://127.0.0.1:3004")
 * and a newline while the services run, so other processes (the CLI,
 * tests with port 0) find them: it is written once all of them are up
 * and removed first when they stop.
 *
 * Both functions run on the host's main thread; the caller holds the
 * repository open (its blockstore lock) from before start to after stop.
 */
#ifndef EFS_CLI_SERVICES_H
#define EFS_CLI_SERVICES_H

#include "core/blockio.h"
#include "dealer/dealer.h"

struct bstore;
struct cli_services;
struct fsstats;
struct mount_tree;

/*
 * Start the services over the repository repo (an absolute path) whose
 * blockstore bs is open (borrowed until cli_services_stop).  fs_stats:
 * the mount's FUSE operation counters (fs/fsstats.h, borrowed until
 * cli_services_stop), shown by /metrics; NULL without a mount.  tree:
 * the mounted tree (fs/mount.h, borrowed until cli_services_stop), where
 * the routes that add content (/pins, /content/add) graft and commit
 * what they add (api_server_opts.fs); NULL without a mount.  Logs where
 * HTTP listens and what the dealer does (or "dealer disabled in
 * config.json").  Returns 0, the errors of config_load ("config.json:
 * ..."), of api_server_start (the message says to change http.listen),
 * of dealer_open, EFS_EIO (api.url) or EFS_ENOMEM.  *out is the
 * caller's (cli_services_stop).
 */
int cli_services_start(struct cli_services **out, struct bstore *bs,
		       const char *repo, const struct fsstats *fs_stats,
		       struct mount_tree *tree);

/*
 * The blockstore as a source that brings evicted blocks back through the
 * services' retrieval (retriever_source: a mount's source hook,
 * fs/mount.h; state is the struct cli_services): a get of an evicted
 * block fails after retrieval.timeout_s with EFS_ETIMEDOUT.
 */
struct blockio_source cli_services_source(void *state);

/*
 * The filesystem's commit log as a dealer_commit_source's list (the
 * dealer's and the evictor's commits): cls is the repository's index.db
 * path.  A build without the filesystem has no commits.
 */
int cli_commits_list(void *db_path, int64_t after, dealer_commit_cb cb,
		     void *cb_cls);

/*
 * The retriever's options from a loaded configuration (retrieval.*):
 * the daemon's, and `estuaryfs retrieve`'s without a daemon.  out's
 * ipni_url is borrowed from cfg.
 */
struct retriever_opts;
void cli_retriever_opts(struct retriever_opts *out,
			const struct dealer_config *cfg);

/* The HTTP server's base URL.  Borrowed. */
const char *cli_services_url(const struct cli_services *s);

/*
 * Stop the HTTP server, then the dealer (its cycle under way finishes),
 * remove api.url and free.  NULL is fine.
 */
void cli_services_stop(struct cli_services *s);

#endif
