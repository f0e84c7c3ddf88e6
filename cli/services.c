/*
 * services.c - the daemon's services, started and stopped the same way
 * by `estuaryfs daemon` and by a mount (services.h).
 *
 * Design notes:
 * - Order: the HTTP server first, because the dealer's transfer URLs
 *   name it (its URL when no http.public_url is configured, which with
 *   port 0 is known only once it listens); the dealer is handed to the
 *   server once it runs, and until then /transfer/ answers 503.  Stop is
 *   the reverse: no request may be under way when the dealer closes.
 * - The dealer learns of commits from the filesystem's commit log,
 *   read-only on its own connections (fs/commit.h commit_list_since), so
 *   it needs no mount: the daemon alone replicates what earlier mounts
 *   committed.  Without fs/ (no libfuse3) there are no commits.
 * - A configuration error stops the host from starting at all: a typo
 *   must not silently run the dealer with defaults that spend money.
 * - The evictor (dealer/evict.h, config.json "cache") runs on its own
 *   thread beside the dealer and serves POST /evict, /pin and /unpin;
 *   the retriever serves POST /retrieve (with the evictor, which pins
 *   what it fetched) and the blockstore POST /gc.  Those routes need
 *   the bearer token written to <repo>/api.token at each start
 *   (api/api_token.h), which the CLI reads.
 * - A mount hands start its FUSE operation counters (fs/fsstats.h);
 *   /metrics reads them through api_server_opts.fs_ops (a copy into the
 *   API's own struct, so api/ needs nothing of fs/).  `estuaryfs daemon`
 *   has none, and /metrics then shows no efs_fuse_* series.
 * - A mount hands start its tree too (fs/mount.h mount_tree_*): the
 *   routes that add content (/pins, /content/add) graft what they add
 *   under /pins/ or /uploads/ and commit it (and remove a pin's graft
 *   when its request goes) through api_server_opts.fs,
 *   adapted here so api/ and fs/ know nothing of each other.
 */
#define LOG_TOPIC "daemon"

#include "cli/services.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api/api_server.h"
#include "api/api_token.h"
#include "cli/cli_view.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/fdio.h"
#include "core/log.h"
#include "dealer/config.h"
#include "dealer/dealer.h"
#include "dealer/evict.h"
#include "retrieval/retriever.h"
#ifdef EFS_WITH_FS
#include "fs/commit.h"
#include "fs/fsstats.h"
#include "fs/mount.h"
#endif

#include "core/banned.h"

/* The cap on a buffered API request body (the JSON routes; uploads are
 * streamed, capped by config.json http.upload_max). */
#define SERVICES_BODY_MAX ((size_t)1 << 20)

struct cli_services {
	char *repo;
	char *db_path;                  /* <repo>/index.db */
	struct dealer_config cfg;       /* as loaded; outlives the dealer */
	struct api_server *api;
	struct dealer *dealer;          /* NULL: disabled */
	struct evict *evict;            /* the cache's evictor */
	struct retriever *retr;         /* evicted blocks back on read */
	char token[API_TOKEN_SIZE];     /* the API's bearer token */
};

/* ---- the commit source -------------------------------------------- */

struct commit_walk {
	dealer_commit_cb cb;
	void *cb_cls;
};

#ifdef EFS_WITH_FS
static int commit_one(const struct commit_record *r, void *payload)
{
	struct commit_walk *w = payload;

	return w->cb(r->id, &r->root, w->cb_cls);
}
#endif

int cli_commits_list(void *db_path, int64_t after, dealer_commit_cb cb,
		     void *cb_cls)
{
	struct commit_walk w = { cb, cb_cls };

#ifdef EFS_WITH_FS
	return commit_list_since(db_path, after, commit_one, &w);
#else
	(void)w;
	(void)db_path;
	return 0; /* built without the filesystem: nothing is committed */
#endif
}

/* ---- api.url ------------------------------------------------------- */

/*
 * Replace <repo>/<name> with text (written to a temporary file first, so
 * a reader sees the old file or the new one, never half of one).
 */
static int note_write(const char *repo, const char *name, const char *text)
{
	struct buf path = BUF_INIT(BUF_NOCAP), tmp = BUF_INIT(BUF_NOCAP);
	int fd = -1;
	int rc;

	if ((rc = buf_printf(&path, "%s/%s%c", repo, name, '\0')) < 0 ||
	    (rc = buf_printf(&tmp, "%s/.%s.tmp%c", repo, name, '\0')) < 0)
		goto out;
	fd = open((const char *)tmp.ptr,
		  O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || fdio_write(fd, text, strlen(text)) < 0 ||
	    rename((const char *)tmp.ptr, (const char *)path.ptr) < 0)
		rc = efs_error_set_errno(EFS_EIO, errno, "daemon: writing %s",
					 (const char *)path.ptr);
	if (rc < 0)
		unlink((const char *)tmp.ptr);
out:
	if (fd >= 0)
		close(fd);
	buf_release(&path);
	buf_release(&tmp);
	return rc;
}

static void note_remove(const char *repo, const char *name)
{
	struct buf path = BUF_INIT(BUF_NOCAP);

	if (buf_printf(&path, "%s/%s%c", repo, name, '\0') == 0 &&
	    unlink((const char *)path.ptr) < 0 && errno != ENOENT)
		efs_log_warn("cannot remove %s", (const char *)path.ptr);
	buf_release(&path);
}

/* ---- the evictor -------------------------------------------------- */

static int evictor_up(struct cli_services *s, struct bstore *bs)
{
	struct evict_opts o = EVICT_OPTS_INIT;
	int rc;

	o.cache_size = config_cache_size(&s->cfg, s->repo);
	o.min_active = config_min_active(&s->cfg);
	o.commits.list = cli_commits_list;
	o.commits.cls = s->db_path;
	if ((rc = evict_open(&s->evict, bs, s->db_path, &o)) < 0 ||
	    (rc = evict_start(s->evict, s->cfg.cache_interval)) < 0)
		return rc;
	api_server_set_evictor(s->api, s->evict);
	efs_log_notice("evict: cache of %llu MiB%s; a block goes once every "
		       "commit holding it has %u active deals",
		       (unsigned long long)(o.cache_size >> 20),
		       s->cfg.cache_size ? "" : " (a quarter of the disk)",
		       o.min_active);
	return 0;
}

/* ---- retrieval ----------------------------------------------------- */

void cli_retriever_opts(struct retriever_opts *out,
			const struct dealer_config *cfg)
{
	*out = (struct retriever_opts)RETRIEVER_OPTS_INIT;
	out->timeout_ms = (unsigned)cfg->retrieval_timeout * 1000;
	out->readahead = cfg->retrieval_readahead;
	out->ipni_url = cfg->ipni_url;
}

static int retriever_up(struct cli_services *s, struct bstore *bs)
{
	struct retriever_opts o;
	int rc;

	cli_retriever_opts(&o, &s->cfg);
	if ((rc = retriever_open(&s->retr, bs, s->db_path, &o)) < 0)
		return rc;
	api_server_set_retriever(s->api, s->retr);
	efs_log_notice("retrieval: evicted blocks come back from the SPs "
		       "holding them (a read waits up to %llds)",
		       (long long)s->cfg.retrieval_timeout);
	return 0;
}

struct blockio_source cli_services_source(void *state)
{
	struct cli_services *s = state;

	return retriever_source(s->retr);
}

/* ---- start and stop ----------------------------------------------- */

/* Say what to change when the listen address fails. */
static int http_failed(int rc, const char *repo)
{
	struct efs_error_state err;

	efs_error_save(&err);
	return efs_error_set(rc, "%s (set http.listen in %s/config.json)",
			     err.msg, repo);
}

#ifdef EFS_WITH_FS
/* api_server_opts' fs_ops: the mount's counters (cls) as the API has
 * them. */
static size_t fs_ops(struct api_fs_op *out, size_t max, void *cls)
{
	struct fsstats_op_snap v[FSSTATS_NOPS];
	size_t n = 0;

	fsstats_snapshot(v, cls);
	for (; n < FSSTATS_NOPS && n < max; n++) {
		out[n].name = v[n].name;
		out[n].errors = v[n].errors;
		out[n].lat = v[n].lat;
	}
	return n;
}
#endif

#ifdef EFS_WITH_FS
/* api_fs_hooks over the mounted tree (cls). */
static int fs_graft(void *cls, const char *path, const struct cid *root)
{
	return mount_tree_graft(cls, path, root);
}

static int fs_commit(void *cls, const char *path, struct cid *out)
{
	return mount_tree_commit(out, cls, path);
}

static int fs_remove(void *cls, const char *path)
{
	return mount_tree_remove(cls, path);
}
#endif

static int http_start(struct cli_services *s, struct bstore *bs,
		      const struct fsstats *fs_stats, struct mount_tree *tree)
{
	const char *listen = s->cfg.listen ? s->cfg.listen
					   : API_LISTEN_DEFAULT;
	struct api_server_opts opts = { .token = s->token, .repo = s->repo,
					 .commit_log = cli_commit_log,
					 .max_body = SERVICES_BODY_MAX,
					 .upload_max = s->cfg.upload_max,
					 .pins_workers = s->cfg.pins_workers };
	struct api_fs_hooks hooks = { 0 };
	int rc;

#ifdef EFS_WITH_FS
	if (fs_stats) {
		opts.fs_ops = fs_ops;
		opts.fs_ops_cls = (void *)fs_stats;
	}
	if (tree) {
		hooks = (struct api_fs_hooks){ fs_graft, fs_commit, tree,
						 fs_remove };
		opts.fs = &hooks;
	}
#else
	(void)fs_stats; /* no filesystem, no mount */
	(void)tree;
	(void)hooks;
#endif

	if ((rc = api_token_create(s->token, s->repo)) < 0)
		return rc;
	if ((rc = api_server_start(&s->api, listen, &opts)) < 0)
		return http_failed(rc, s->repo);
	api_server_set_bstore(s->api, bs);
	efs_log_notice("http: listening on %s", api_server_url(s->api));
	return 0;
}

/* The dealer's fetch_dag: a re-commit's evicted blocks come back. */
static int fetch_dag(void *cls, const struct cid *root)
{
	struct cli_services *s = cls;

	if (!s->retr)
		return efs_error_set(EFS_ECANCELED, "retrieval is not running");
	return retriever_retrieve_dag(s->retr, root, NULL, NULL);
}

static int dealer_up(struct cli_services *s, struct bstore *bs)
{
	struct dealer_opts o = {
		.repo = s->repo,
		.bs = bs,
		.commits = { cli_commits_list, s->db_path },
		.fetch_dag = fetch_dag,
		.fetch_cls = s,
		.transfer_base = s->cfg.public_url ? s->cfg.public_url
						   : api_server_url(s->api),
	};
	int rc;

	if (!s->cfg.enabled) {
		efs_log_notice("dealer disabled in config.json: serving "
			       "HTTP only");
		return 0;
	}
	if ((rc = dealer_open(&s->dealer, &o, &s->cfg)) < 0)
		return rc;
	/* before the first proposal, so no pull of it gets 503 */
	api_server_set_dealer(s->api, s->dealer);
	if ((rc = dealer_start(s->dealer)) < 0)
		return rc;
	efs_log_notice("dealer: storage providers pull CARs from %s/",
		       o.transfer_base);
	return 0;
}

int cli_services_start(struct cli_services **out, struct bstore *bs,
		       const char *repo, const struct fsstats *fs_stats,
		       struct mount_tree *tree)
{
	struct cli_services *s;
	char line[128];
	int rc;

	*out = NULL;
	if (!(s = efs_calloc(1, sizeof(*s))))
		return efs_error_set(EFS_ENOMEM, "out of memory");
	config_defaults(&s->cfg);
	if (!(s->repo = efs_strdup(repo)) ||
	    !(s->db_path = efs_malloc(strlen(repo) + sizeof("/index.db")))) {
		rc = efs_error_set(EFS_ENOMEM, "out of memory");
		goto fail;
	}
	snprintf(s->db_path, strlen(repo) + sizeof("/index.db"),
		 "%s/index.db", repo);
	if ((rc = config_load(&s->cfg, repo)) < 0 ||
	    (rc = http_start(s, bs, fs_stats, tree)) < 0 ||
	    (rc = retriever_up(s, bs)) < 0 ||
	    (rc = dealer_up(s, bs)) < 0 || (rc = evictor_up(s, bs)) < 0)
		goto fail;
	/* last: api.url says the services are up */
	snprintf(line, sizeof(line), "%s\n", api_server_url(s->api));
	if ((rc = note_write(s->repo, "api.url", line)) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	cli_services_stop(s);
	return rc;
}

const char *cli_services_url(const struct cli_services *s)
{
	return api_server_url(s->api);
}

void cli_services_stop(struct cli_services *s)
{
	struct efs_error_state err;

	if (!s)
		return;
	/* a failed start's error is the caller's to report */
	efs_error_save(&err);
	if (s->api) {
		note_remove(s->repo, "api.url");
		api_server_stop(s->api);
	}
	if (s->token[0])
		api_token_remove(s->repo);
	explicit_bzero(s->token, sizeof(s->token));
	/* the dealer may be fetching a re-commit's blocks: it goes first */
	evict_close(s->evict);
	dealer_close(s->dealer);
	retriever_close(s->retr);
	config_release(&s->cfg);
	efs_free(s->db_path);
	efs_free(s->repo);
	efs_free(s);
	efs_error_restore(&err);
}
