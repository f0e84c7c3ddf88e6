/*
 * api_pins_worker.c - the pinning API's workers (api_pins_i.h): a pool
 * of threads, "efs-pins-<i>", each taking the oldest queued request and
 * pinning it, so a CID that takes its whole retrieval timeout holds one
 * worker while the others go on.
 *
 * A request's life (its status in the pin_requests table):
 *
 *	queued ──(a worker claims it)──► pinning ──► pinned
 *	   ▲                               │  └───► failed (info.reason)
 *	   └──(daemon stops meanwhile)─────┘
 *
 * Design notes:
 * - The table is the queue: POST only inserts a row and wakes the
 *   workers; a daemon started again finds its queued rows (and puts back
 *   those it left pinning: api_pins_store_requeue).  Its bound is
 *   API_PINS_QUEUE_MAX rows waiting (POST answers 429 past it).  A
 *   worker claims a row with one UPDATE (api_pins_store_claim), so no
 *   two work on one request.
 * - Pinning is api_retrieve_run, what POST /retrieve does: the DAG is
 *   fetched with the server's retriever (local blocks are only read)
 *   and kept by the evictor's user pin "user:pins:<requestid>", so gc
 *   and eviction leave it.  The retriever runs its own fetches in
 *   parallel within a DAG, and its fetch threads are shared by the
 *   workers (config.json pins.workers bounds the DAGs walked at once).
 * - Until the server has both a retriever and an evictor the workers
 *   wait (requests stay queued).
 * - In a mount (the server has fs hooks) a pinned DAG is then grafted at
 *   /pins/<name> (the request's name made safe for a path, else its
 *   requestid; "<name>-<requestid>" when the name is taken, by another
 *   request or anything else) and /pins is committed, so the dealer
 *   replicates it; info.path and info.commit say where and what.  A
 *   graft or commit that fails is told in info.fs_error: the DAG stays
 *   pinned all the same.  A removed request's graft (info.path) is
 *   removed and /pins committed again, so the next commit no longer
 *   holds it, and its blocks are left to the evictor and gc unless
 *   something else holds them (api_pins_worker_forget).  A replacement
 *   removes the graft it replaces before it grafts its own, so one that
 *   keeps the name takes the same path.
 * Invariants:
 *  1. A removed request leaves no pin and no graft: DELETE removes the
 *     row, then the pin and the graft the row names; the worker sets a
 *     status only where the row still exists, and drops the pin and the
 *     graft it made when it does not.  Either order of the two ends
 *     with no row, no pin and no graft.  (A daemon killed between the
 *     row's removal and the graft's leaves the graft: a user's rm -r
 *     and commit takes it.)
 *  2. No lock is held across the db or the network: mu guards only the
 *     flags and the ids of the requests under way.
 */
#define LOG_TOPIC "pins"

#include "api/api_pins_i.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api_i.h"
#include "api/api_retrieve.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/db.h"
#include "core/error.h"
#include "core/log.h"
#include "dealer/evict.h"

#include "core/banned.h"

/* The directory of the mounted tree pinned DAGs go to. */
#define PINS_DIR "/pins"
/* Longest name of a DAG under it (bytes; a requestid suffix may follow). */
#define PINS_NAME_MAX 200

/* How long the worker sleeps with nothing to do (a wake cuts it). */
#define IDLE_MS 5000
/* ... and while the server has no retriever or evictor yet. */
#define UNSET_MS 250

static bool stopping(struct api_pins *p)
{
	bool stop;

	pthread_mutex_lock(&p->mu);
	stop = p->stop;
	pthread_mutex_unlock(&p->mu);
	return stop || atomic_load(&p->s->stopping);
}

/* Sleep up to ms, or until woken or stopped. */
static void idle(struct api_pins *p, unsigned ms)
{
	struct timespec until;

	efs_clock_deadline(&until, CLOCK_MONOTONIC, ms);
	pthread_mutex_lock(&p->mu);
	if (!p->wake && !p->stop)
		pthread_cond_timedwait(&p->cond, &p->mu, &until);
	p->wake = false;
	pthread_mutex_unlock(&p->mu);
}

static void label_of(char *out, size_t cap, const char *rid)
{
	snprintf(out, cap, "%s%s", API_PINS_LABEL_PREFIX, rid);
}

/* Drop request rid's pin (when the server has an evictor). */
static void unpin(struct api_pins *p, const char *rid)
{
	struct evict *e = atomic_load(&p->s->evict);
	char label[64];
	size_t n;

	label_of(label, sizeof(label), rid);
	if (e && evict_unpin(&n, e, NULL, label) < 0)
		efs_log_warn("request %s: unpin: %s", rid, efs_error_msg());
}

/* Remove the graft at path from the mounted tree: true when it went
 * (the caller commits /pins). */
static bool ungraft(struct api_pins *p, const char *rid, const char *path)
{
	const struct api_fs_hooks *fs = &p->s->fs;
	int rc;

	if (!p->s->has_fs || !fs->remove)
		return false;
	rc = fs->remove(fs->cls, path);
	if (rc == 0)
		efs_log_notice("request %s: %s removed", rid, path);
	else if (rc != EFS_ENOTFOUND)
		efs_log_warn("request %s: removing %s: %s", rid, path,
			     efs_error_msg());
	efs_error_clear();
	return rc == 0;
}

void api_pins_worker_commit(struct api_pins *p)
{
	const struct api_fs_hooks *fs = &p->s->fs;
	char root[CID_STR_MAX];
	struct cid commit;

	if (!p->s->has_fs)
		return;
	if (fs->commit(fs->cls, PINS_DIR, &commit) < 0) {
		efs_log_warn("committing %s: %s", PINS_DIR, efs_error_msg());
		efs_error_clear();
		return;
	}
	efs_log_notice("%s committed as %s", PINS_DIR,
		       cid_tostr(root, &commit));
}

/* Remove what request rid replaces (it is done): true when a graft of
 * theirs went. */
static bool drop_replaced(struct api_pins *p, struct db *db, const char *rid)
{
	struct api_pins_forget d = {p, false};

	if (api_pins_store_drop_replaced(db, rid, api_pins_worker_forget,
					 &d) < 0) {
		efs_log_warn("request %s: %s", rid, efs_error_msg());
		efs_error_clear();
	}
	return d.ungrafted;
}

static int progress(void *cls, const struct retriever_progress *pr)
{
	struct api_pins_slot *w = cls;
	bool cancel;

	(void)pr;
	pthread_mutex_lock(&w->p->mu);
	cancel = w->cancel;
	pthread_mutex_unlock(&w->p->mu);
	return cancel || stopping(w->p);
}

/* What a pinned request's info says. */
static json_t *pinned_info(const struct api_retrieve_result *res,
			   const char *rid)
{
	char size[24], blocks[24], fetched[24], storage[160];

	snprintf(size, sizeof(size), "%llu", (unsigned long long)res->p.bytes);
	snprintf(blocks, sizeof(blocks), "%llu",
		 (unsigned long long)res->p.blocks);
	snprintf(fetched, sizeof(fetched), "%llu",
		 (unsigned long long)res->p.fetched);
	snprintf(storage, sizeof(storage),
		 "blockstore pin %s%s%s (kept "
		 "local; not linked under /pins/ in the filesystem)",
		 EVICT_PIN_PREFIX, API_PINS_LABEL_PREFIX, rid);
	return json_pack("{s:s,s:s,s:s,s:s}", "dag_size", size, "blocks",
			 blocks, "fetched_blocks", fetched, "storage", storage);
}

/*
 * A request's name as an entry name of /pins: '/', control bytes and
 * backslashes become '_', cut at PINS_NAME_MAX bytes on a UTF-8
 * boundary; "", "." and ".." give "" (the caller uses the requestid).
 */
static void name_sanitise(char *out, size_t cap, const char *name)
{
	size_t n = 0;

	for (; name[n] && n + 1 < cap && n < PINS_NAME_MAX; n++) {
		unsigned char c = (unsigned char)name[n];

		out[n] = c < 0x20 || c == 0x7f || c == '/' || c == '\\'
			     ? '_'
			     : (char)c;
	}
	if (name[n]) /* cut: not inside a UTF-8 sequence */
		while (n > 0 && ((unsigned char)name[n] & 0xc0) == 0x80)
			n--;
	out[n] = '\0';
	if (strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
		out[0] = '\0';
}

/* Graft the pinned cid of request rid under /pins/, saying where in
 * info: 0 or the graft's error. */
static int graft(struct api_pins *p, struct db *db, const char *rid,
		 const struct cid *cid, json_t *info)
{
	const struct api_fs_hooks *fs = &p->s->fs;
	char raw[4 * API_PINS_NAME_MAX + 1], name[PINS_NAME_MAX + 1];
	char path[API_PINS_PATH_MAX];
	int rc;

	if (api_pins_store_name(raw, sizeof(raw), db, rid) < 0)
		efs_error_clear(); /* no name: the requestid */
	name_sanitise(name, sizeof(name), raw);
	snprintf(path, sizeof(path), PINS_DIR "/%s", name[0] ? name : rid);
	rc = fs->graft(fs->cls, path, cid);
	if (rc == EFS_EEXISTS && name[0]) {
		snprintf(path, sizeof(path), PINS_DIR "/%s-%s", name, rid);
		rc = fs->graft(fs->cls, path, cid);
	}
	if (rc < 0)
		efs_log_warn("request %s: %s: %s", rid, path, efs_error_msg());
	else
		json_object_set_new(info, "path", json_string(path));
	return rc;
}

/* Graft the pinned cid of request rid under /pins/ and commit /pins
 * (also when only the grafts it replaces went: dropped), saying how it
 * went in info. */
static void place(struct api_pins *p, struct db *db, const char *rid,
		  const struct cid *cid, json_t *info, bool dropped)
{
	const struct api_fs_hooks *fs = &p->s->fs;
	char root[CID_STR_MAX];
	struct cid commit;
	int rc = graft(p, db, rid, cid, info);

	if (rc < 0) {
		json_object_set_new(info, "fs_error",
				    json_string(efs_error_msg()));
		efs_error_clear();
		if (dropped)
			api_pins_worker_commit(p);
		return;
	}
	if ((rc = fs->commit(fs->cls, PINS_DIR, &commit)) < 0) {
		efs_log_warn("request %s: committing %s: %s", rid, PINS_DIR,
			     efs_error_msg());
		json_object_set_new(info, "fs_error",
				    json_string(efs_error_msg()));
		efs_error_clear();
		return;
	}
	cid_tostr(root, &commit);
	json_object_set_new(info, "commit", json_string(root));
	json_object_set_new(info, "storage",
			    json_string("grafted into the filesystem and "
					"committed: the dealer replicates it"));
	efs_log_notice("request %s: at %s, %s committed as %s", rid,
		       json_string_value(json_object_get(info, "path")),
		       PINS_DIR, root);
}

/* Record how the request ended: st with info (stolen).  A request
 * removed meanwhile loses the pin and graft made for it (invariant 1). */
static void finish(struct api_pins *p, struct db *db, const char *rid,
		   enum api_pins_status st, int64_t pin_id, json_t *info)
{
	const char *path = json_string_value(json_object_get(info, "path"));
	bool found = false;

	if (api_pins_store_set(&found, db, rid, st, pin_id, info) < 0) {
		efs_log_warn("request %s: %s", rid, efs_error_msg());
	} else if (!found) {
		if (pin_id)
			unpin(p, rid);
		if (path && ungraft(p, rid, path))
			api_pins_worker_commit(p);
	}
	json_decref(info);
}

/* The retrieval of request rid worked: pinned, grafted in a mount. */
static void pinned(struct api_pins *p, struct db *db, const char *rid,
		   const struct cid *cid, const struct api_retrieve_result *res)
{
	json_t *info = pinned_info(res, rid);
	/* what it replaces goes first: a client that sees the new status
	 * sees the old request gone, and its graft's name is free */
	bool dropped = drop_replaced(p, db, rid);

	if (info && p->s->has_fs)
		place(p, db, rid, cid, info, dropped);
	else if (dropped)
		api_pins_worker_commit(p);
	finish(p, db, rid, API_PINS_PINNED, res->pin_id, info);
}

static void pin_one(struct api_pins_slot *w, struct db *db, struct retriever *r,
		    struct evict *e, const char *rid, const struct cid *cid)
{
	struct api_pins *p = w->p;
	struct api_retrieve_result res;
	char label[64], s[CID_STR_MAX];
	bool removed;
	int rc;

	pthread_mutex_lock(&p->mu);
	snprintf(w->rid, sizeof(w->rid), "%s", rid);
	w->cancel = false;
	pthread_mutex_unlock(&p->mu);
	label_of(label, sizeof(label), rid);
	rc = api_retrieve_run(&res, r, e, cid, label, progress, w);
	pthread_mutex_lock(&p->mu);
	removed = w->cancel;
	pthread_mutex_unlock(&p->mu);
	cid_tostr(s, cid);
	if (rc == 0) {
		efs_log_notice("request %s: pinned %s (%llu blocks)", rid, s,
			       (unsigned long long)res.p.blocks);
		pinned(p, db, rid, cid, &res);
	} else if (removed) {
		efs_log_info("request %s: removed while pinning", rid);
	} else if (rc == EFS_ECANCELED && stopping(p)) {
		finish(p, db, rid, API_PINS_QUEUED, 0, NULL);
	} else {
		efs_log_warn("request %s: pinning %s failed: %s", rid, s,
			     efs_error_msg());
		json_t *info =
		    json_pack("{s:s,s:s}", "reason", api_retrieve_reason(rc),
			      "status_details", efs_error_msg());

		if (drop_replaced(p, db, rid))
			api_pins_worker_commit(p);
		finish(p, db, rid, API_PINS_FAILED, 0, info);
	}
	pthread_mutex_lock(&p->mu);
	w->rid[0] = '\0';
	pthread_mutex_unlock(&p->mu);
	efs_error_clear();
}

/* One turn: false when there was nothing to do (the caller idles). */
static bool turn(struct api_pins_slot *w, struct db *db)
{
	struct retriever *r = atomic_load(&w->p->s->retr);
	struct evict *e = atomic_load(&w->p->s->evict);
	char rid[API_PINS_RID_SIZE];
	struct cid cid;
	bool found;
	int rc;

	if (!r || !e) {
		idle(w->p, UNSET_MS);
		return true;
	}
	rc = api_pins_store_claim(rid, &cid, db);
	if (rc == EFS_ECORRUPT) {
		/* a row no daemon wrote: fail it rather than loop on it */
		efs_log_warn("%s", efs_error_msg());
		api_pins_store_set(&found, db, rid, API_PINS_FAILED, 0, NULL);
		efs_error_clear();
		return true;
	}
	if (rc < 0)
		efs_log_warn("%s", efs_error_msg());
	if (rc <= 0)
		return false;
	pin_one(w, db, r, e, rid, &cid);
	return true;
}

static void *worker_main(void *arg)
{
	struct api_pins_slot *w = arg;
	struct api_pins *p = w->p;
	struct db *db = NULL;
	char name[16];

	snprintf(name, sizeof(name), "efs-pins-%u", (unsigned)(w - p->slots));
	pthread_setname_np(pthread_self(), name);
	while (!stopping(p)) {
		if (!db && api_pins_store_open(&db, p->db_path, false) < 0) {
			efs_log_warn("%s", efs_error_msg());
			idle(p, IDLE_MS);
			continue;
		}
		if (!turn(w, db))
			idle(p, IDLE_MS);
	}
	db_close(db);
	efs_error_clear();
	return NULL;
}

/* Stop and join the threads started, and free what start made. */
static void pool_end(struct api_pins *p)
{
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->nworkers; i++)
		pthread_join(p->slots[i].thread, NULL);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->mu);
	efs_free(p->slots);
	p->slots = NULL;
	p->nslots = p->nworkers = 0;
}

int api_pins_worker_start(struct api_pins *p, unsigned n)
{
	pthread_condattr_t ca;
	int rc;

	assert(n > 0 && n <= API_PINS_WORKERS_MAX);
	if (!(p->slots = efs_calloc(n, sizeof(*p->slots))))
		return efs_error_set(EFS_ENOMEM, "pins: out of memory");
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);
	for (unsigned i = 0; i < n; i++)
		p->slots[i].p = p;
	p->nslots = n;
	for (p->nworkers = 0; p->nworkers < n; p->nworkers++) {
		struct api_pins_slot *w = &p->slots[p->nworkers];

		if ((rc = pthread_create(&w->thread, NULL, worker_main, w))) {
			pool_end(p);
			return efs_error_set_errno(EFS_ERROR, rc,
						   "pins: no thread");
		}
	}
	return 0;
}

void api_pins_worker_wake(struct api_pins *p)
{
	pthread_mutex_lock(&p->mu);
	p->wake = true;
	pthread_cond_broadcast(&p->cond); /* the idle ones look */
	pthread_mutex_unlock(&p->mu);
}

void api_pins_worker_forget(void *cls, const char *rid, const char *path)
{
	struct api_pins_forget *f = cls;
	struct api_pins *p = f->p;

	pthread_mutex_lock(&p->mu);
	for (unsigned i = 0; i < p->nslots; i++)
		if (strcmp(p->slots[i].rid, rid) == 0)
			p->slots[i].cancel = true;
	pthread_mutex_unlock(&p->mu);
	unpin(p, rid);
	if (path && ungraft(p, rid, path))
		f->ungrafted = true;
}

void api_pins_worker_stop(struct api_pins *p)
{
	pool_end(p);
}
