/*
 * api_pins_i.h - what the pinning API's files share (api_pins.c: routes
 * and request parsing; api_pins_store.c: the pin_requests table;
 * api_pins_worker.c: the thread that pins).
 *
 * Threads: struct api_pins' mutable fields name their lock; a struct db
 * is used by one thread (each handler opens its own, the worker has
 * one).
 */
#ifndef EFS_API_API_PINS_I_H
#define EFS_API_API_PINS_I_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "api/api_pins.h"
#include "core/cid.h"
#include "dealer/config.h"

struct api_server;
struct db;

/* A requestid: a random UUID (version 4) as text, NUL included. */
#define API_PINS_RID_SIZE 37
/* GET /pins' limit: default and most (the spec's). */
#define API_PINS_LIMIT_DEFAULT 10
#define API_PINS_LIMIT_MAX 1000
/* Most CIDs in the cid filter, origins in a Pin (the spec's). */
#define API_PINS_CIDS_MAX 10
#define API_PINS_ORIGINS_MAX 20
/* Longest name, in characters (the spec's). */
#define API_PINS_NAME_MAX 255
/* Requests queued or pinning at once: more are refused (429). */
#define API_PINS_QUEUE_MAX 10000
/* The evictor's label of a request's pin: "pins:<requestid>" (the pin
 * itself is named "user:pins:<requestid>"). */
#define API_PINS_LABEL_PREFIX "pins:"
/* Room for a created time: "2026-07-27T17:32:28.276123Z". */
#define API_PINS_TIME_MAX 40
/* Room for a graft's path, "/pins/<name>-<requestid>" (NUL included). */
#define API_PINS_PATH_MAX 256
/* Requests pinned at once when the configuration says nothing
 * (config.json pins.workers), and most: the configuration's own. */
#define API_PINS_WORKERS_DEFAULT CONFIG_PINS_WORKERS
#define API_PINS_WORKERS_MAX CONFIG_PINS_WORKERS_MAX

enum api_pins_status {
	API_PINS_QUEUED,
	API_PINS_PINNING,
	API_PINS_PINNED,
	API_PINS_FAILED,
	API_PINS_NSTATUS,
};

/* "queued", "pinning", "pinned", "failed". */
const char *api_pins_status_name(enum api_pins_status st);

enum api_pins_match {
	API_PINS_EXACT,
	API_PINS_IEXACT,
	API_PINS_PARTIAL,
	API_PINS_IPARTIAL,
};

/* GET /pins' filters, checked (api_pins_filter_parse). */
struct api_pins_filter {
	char cids[API_PINS_CIDS_MAX][CID_STR_MAX]; /* CIDv1 text */
	size_t ncids;                /* 0: any CID */
	const char *name;            /* NULL: any (borrowed) */
	enum api_pins_match match;
	unsigned statuses;           /* bit (1 << status); never 0 */
	bool has_before, has_after;
	int64_t before, after;       /* microseconds since 1970 */
	unsigned limit;
	const char *meta;            /* a JSON object of strings, or NULL
					(borrowed) */
};

/* One worker of the pool: a thread, "efs-pins-<i>". */
struct api_pins_slot {
	struct api_pins *p;          /* its pool */
	pthread_t thread;
	char rid[API_PINS_RID_SIZE]; /* p->mu: the request it pins, or "" */
	bool cancel;                 /* p->mu: rid was removed meanwhile */
};

/* The module's state (api_pins_start). */
struct api_pins {
	struct api_server *s;        /* borrowed; outlives the workers */
	char *db_path;               /* <repo>/index.db */
	struct api_pins_slot *slots; /* [nslots] */
	unsigned nslots;             /* set before the threads start */
	unsigned nworkers;           /* threads started (start and stop's
					thread only) */
	pthread_mutex_t mu;
	pthread_cond_t cond;         /* wake or stop (CLOCK_MONOTONIC) */
	bool wake;                   /* mu: a request was queued */
	bool stop;                   /* mu */
};

/* ---- parsing (api_pins.c): EFS_EINVAL with the reason ---- */

/*
 * A Pin object (POST /pins, POST /pins/{id}) into *out: {"cid",
 * "name" (when given), "origins" ([] when not), "meta" ({} when not)},
 * with the CID parsed into *cid.  Returns 0, EFS_EINVAL (not a Pin: the
 * message says which field) or EFS_ENOMEM.  *out is the caller's.
 */
int api_pins_pin_parse(json_t **out, struct cid *cid, const uint8_t *body,
		       size_t len);

/*
 * GET /pins' query arguments (each NULL when absent) into *out.  Returns
 * 0 or EFS_EINVAL (the message names the argument).  out borrows name
 * and meta.
 */
int api_pins_filter_parse(struct api_pins_filter *out, const char *cid,
			  const char *name, const char *match,
			  const char *status, const char *before,
			  const char *after, const char *limit,
			  const char *meta);

/*
 * An RFC 3339 date-time ("2020-07-27T17:32:28.276Z", offsets "+02:00"
 * too) into microseconds since 1970 (a finer fraction is cut).  0 or
 * EFS_EINVAL.
 */
int api_pins_time_parse(int64_t *out, const char *s);

/* us (0 to INT64_MAX / 1000: 1970 to 2262, as a created time is) as
 * "2020-07-27T17:32:28.276123Z" into out; returns out. */
char *api_pins_time_format(char out[API_PINS_TIME_MAX], int64_t us);

/* ---- the pin_requests table (api_pins_store.c) ---- */

/*
 * Open a connection to the index db_path; create migrates the table
 * (and creates the file).  0 or db errors.
 */
int api_pins_store_open(struct db **out, const char *db_path, bool create);

/*
 * Record pin (api_pins_pin_parse's) as a new queued request: its id to
 * rid, its created time to *created.  replaces (or NULL): a request the
 * new one replaces, hidden at once and removed when the new one is
 * done.  Returns 0, EFS_ENOTFOUND (no request replaces), EFS_ETOOBIG
 * (API_PINS_QUEUE_MAX requests wait already), EFS_EIO (no random
 * bytes) or db errors.
 */
int api_pins_store_add(char rid[API_PINS_RID_SIZE], int64_t *created,
		       struct db *db, const json_t *pin, const struct cid *cid,
		       const char *replaces);

/* Request rid as a PinStatus (delegate: the one multiaddr of its
 * delegates).  0, EFS_ENOTFOUND, EFS_ENOMEM or db errors. */
int api_pins_store_get(json_t **out, struct db *db, const char *rid,
		       const char *delegate);

/* The requests f selects as PinResults, newest first.  0, EFS_ENOMEM or
 * db errors. */
int api_pins_store_list(json_t **out, struct db *db,
			const struct api_pins_filter *f, const char *delegate);

/* Called with the id of each request removed (its pin is to go) and
 * the path of its graft in the mounted tree (info.path; NULL: none). */
typedef void (*api_pins_removed_fn)(void *cls, const char *rid,
				    const char *path);

/*
 * Remove request rid and those it replaces.  0, EFS_ENOTFOUND or db
 * errors.
 */
int api_pins_store_remove(struct db *db, const char *rid,
			  api_pins_removed_fn cb, void *cls);

/* Remove the requests rid replaces (it is done).  0 or db errors. */
int api_pins_store_drop_replaced(struct db *db, const char *rid,
				 api_pins_removed_fn cb, void *cls);

/*
 * Take the oldest queued request: set it pinning and return 1 with rid
 * and cid set, 0 when none is queued, EFS_ECORRUPT (its CID does not
 * parse: rid is set, the caller fails it) or db errors.  One statement,
 * so two workers never take the same request.
 */
int api_pins_store_claim(char rid[API_PINS_RID_SIZE], struct cid *cid,
			 struct db *db);

/* Request rid's name into out[0..cap) ("" when it has none or is gone;
 * cut at cap).  0 or db errors. */
int api_pins_store_name(char *out, size_t cap, struct db *db,
			const char *rid);

/*
 * Set request rid's status, pin id (0: none) and info (a JSON object of
 * strings, or NULL: {}).  *found is false when it was removed meanwhile.
 * 0 or db errors.
 */
int api_pins_store_set(bool *found, struct db *db, const char *rid,
		       enum api_pins_status st, int64_t pin_id,
		       const json_t *info);

/* Requests left pinning (a daemon stopped) back to queued.  0 or db
 * errors. */
int api_pins_store_requeue(struct db *db);

/* ---- the workers (api_pins_worker.c) ---- */

/* Start p's n worker threads (1 to API_PINS_WORKERS_MAX).  0,
 * EFS_ENOMEM or EFS_ERROR (no thread: none runs). */
int api_pins_worker_start(struct api_pins *p, unsigned n);

/* A request was queued: look now. */
void api_pins_worker_wake(struct api_pins *p);

/* What one removal of requests forgot (api_pins_worker_forget's cls). */
struct api_pins_forget {
	struct api_pins *p;
	bool ungrafted; /* a graft went: the caller commits /pins
			   (api_pins_worker_commit) once it is done */
};

/*
 * The api_pins_removed_fn of api_pins_store_remove and _drop_replaced,
 * cls a struct api_pins_forget: request rid is removed, so stop pinning
 * it if it is under way, drop its pin (the evictor's, when set) and
 * remove its graft at path (NULL: none) from the mounted tree.
 */
void api_pins_worker_forget(void *cls, const char *rid, const char *path);

/* Commit /pins of the mounted tree (after grafts went); a failure is
 * logged. */
void api_pins_worker_commit(struct api_pins *p);

/* Stop and join the workers. */
void api_pins_worker_stop(struct api_pins *p);

#endif
