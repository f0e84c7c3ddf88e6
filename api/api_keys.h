/*
 * api_keys.h - API keys, as Estuary had them: a bearer token with a
 * scope (read, write or admin), a label, an expiry, revocable.  The
 * secret is shown once, when the key is made; the repository keeps only
 * its sha-256, in the table api_keys of <repo>/index.db (module
 * "api_keys" of db_migrate), beside a short prefix of it for display.
 *
 * A key is "EST" + 64 lowercase hex digits (32 random bytes) + "ARY":
 *
 *	EST3f9a1c2b...(56 more hex digits)...ARY
 *
 * so a leaked one is found by grep -E 'EST[0-9a-f]{64}ARY'.  Its first 11
 * characters ("EST3f9a1c2b", 32 of its 256 random bits) are stored as
 * its prefix and shown by `estuaryfs key list`.
 *
 * Requests send "Authorization: Bearer <key>"; the server looks the key
 * up by hash at every request that needs a scope (api_keys_request_scope),
 * so a key made or revoked by `estuaryfs key` (which writes the table
 * directly, daemon running or not) counts from the next request on.
 *
 * Times are Unix seconds; 0 is "never" (expires, last_used) or "not"
 * (revoked).  The caller passes now, so tests are deterministic.
 *
 * Threads: a struct api_keys is internally locked (reads take their own
 * connection from a pool, writes share one behind a mutex): any thread
 * may call any function.  The _foreach callback runs on the caller's
 * thread without a lock held.  Several processes may open the same
 * index.db (sqlite WAL).
 */
#ifndef EFS_API_API_KEYS_H
#define EFS_API_API_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "api/api_i.h"

#define API_KEY_HEAD "EST"
#define API_KEY_TAIL "ARY"
#define API_KEY_RAW 32                          /* random bytes */
#define API_KEY_LEN (3 + 2 * API_KEY_RAW + 3)   /* 70 characters */
#define API_KEY_SIZE (API_KEY_LEN + 1)
#define API_KEY_PREFIX_LEN 11                   /* "EST" + 8 hex */
#define API_KEY_LABEL_MAX 128                   /* bytes of UTF-8 */

/* A valid key's last_used is written at most this often (seconds): a
 * request never waits on a write for it more than once a minute. */
#define API_KEYS_TOUCH_SEC 60

/* Longest expiry api_keys_duration_parse takes: 100 years. */
#define API_KEYS_DURATION_MAX (100LL * 365 * 86400)

struct api_keys;

/* One key as stored: never its secret. */
struct api_key {
	int64_t id;                 /* never reused */
	enum api_scope scope;       /* READ, WRITE or ADMIN */
	bool corrupt;               /* the row is damaged: it grants nothing
				       (scope is then API_PUBLIC) */
	char prefix[API_KEY_PREFIX_LEN + 1];
	char label[API_KEY_LABEL_MAX + 1];
	int64_t created;
	int64_t expires;            /* 0: never */
	int64_t last_used;          /* 0: never */
	int64_t revoked;            /* 0: not */
};

/*
 * Open the key table of the index at db_path, creating the file and the
 * table when missing.  Returns 0, EFS_ENOMEM, EFS_EIO, EFS_ECORRUPT,
 * EFS_EUNSUPPORTED (a table of a newer build) or a db error.  *out is
 * the caller's (api_keys_close).
 */
int api_keys_open(struct api_keys **out, const char *db_path);

/* Close.  NULL is fine. */
void api_keys_close(struct api_keys *k);

/*
 * Make a key with scope (READ, WRITE or ADMIN), label (NULL or "": none;
 * UTF-8 without control characters, at most API_KEY_LABEL_MAX bytes) and
 * expires (0: never; else later than now).  The secret goes to secret
 * (show it once, never log it; wipe it after), the stored record to out
 * (may be NULL).  Returns 0, EFS_EINVAL (scope, label or expiry), EFS_EIO
 * (no random bytes) or a db error.
 */
int api_keys_create(char secret[API_KEY_SIZE], struct api_key *out,
		    struct api_keys *k, enum api_scope scope,
		    const char *label, int64_t expires, int64_t now);

/*
 * Revoke key id from now on; the record, as it is after, to out (may be
 * NULL).  Revoking a revoked key keeps its first revocation time.
 * Returns 0, EFS_ENOTFOUND (no key id) or a db error.
 */
int api_keys_revoke(struct api_key *out, struct api_keys *k, int64_t id,
		    int64_t now);

/*
 * Call fn with each key, by id (revoked and expired ones too; a damaged
 * row with corrupt set).  A non-zero return of fn stops the walk and is
 * returned.  Returns 0, fn's value or a db error.
 */
int api_keys_foreach(struct api_keys *k,
		     int (*fn)(void *cls, const struct api_key *key),
		     void *cls);

/*
 * The key whose secret is token (API_KEY_LEN characters), if it may be
 * used at now: known, not revoked, not expired, not damaged.  Its
 * last_used is brought to now when older than API_KEYS_TOUCH_SEC (best
 * effort: skipped when another thread or process is writing).  Returns
 * 0 with *out set, EFS_ENOTFOUND (not a key of this repository, or
 * revoked, or expired: the message says which, never quoting the
 * token), EFS_ECORRUPT (the key's row is damaged) or a db error.
 */
int api_keys_lookup(struct api_key *out, struct api_keys *k,
		    const char *token, int64_t now);

/*
 * The key in an Authorization header value auth: "Bearer" (any case),
 * spaces, a key of the form above, optional trailing spaces or tabs.
 * True with the key, NUL-terminated, in out; false for anything else
 * (including the daemon's own api.token, which has no "EST").
 */
bool api_keys_bearer(char out[API_KEY_SIZE], const char *auth);

/* Whether s[0..len) has the form of a key. */
bool api_keys_is_token(const char *s, size_t len);

/* "read", "write" or "admin" into out; EFS_EINVAL for anything else. */
int api_keys_scope_parse(enum api_scope *out, const char *name);

/*
 * A duration as `key create --expires` takes it: digits and one unit,
 * s, m(inutes), h, d, w or y (365 days), e.g. "30d", "12h"; a bare
 * number is seconds.  "never" is 0.  At most API_KEYS_DURATION_MAX and
 * more than 0.  Returns 0 or EFS_EINVAL.
 */
int api_keys_duration_parse(int64_t *out, const char *s);

/* Whether key may be used at now (not damaged, revoked or expired). */
bool api_keys_usable(const struct api_key *key, int64_t now);

/*
 * The key as JSON: {"id","prefix","label","scope","created","expires",
 * "last_used","revoked","status"} with times as "2025-06-01T12:00:03Z"
 * or null, status "active", "expired", "revoked" or "corrupt".  NULL when
 * out of memory.  The caller's.
 */
json_t *api_keys_json(const struct api_key *key, int64_t now);

/* ---- the server's side (api_keys_serve.c) ---- */

/* Room for what api_keys_request_scope says was wrong. */
#define API_KEYS_WHY_MAX 96

/*
 * What the request's credentials allow: API_ADMIN with the daemon's
 * token (api.token), the key's scope with a usable key of the
 * repository (its record to key_out, may be NULL; id 0 otherwise), else
 * API_PUBLIC with why (may be NULL) saying in a few words what was
 * wrong ("no credentials", "key 3 is revoked", ...: never the token).
 * The key table is opened at the first request that needs it and
 * closed with the server (api_keys_server_close).  Handler threads.
 */
enum api_scope api_keys_request_scope(struct api_key *key_out,
				      char why[API_KEYS_WHY_MAX],
				      struct api_server *s,
				      struct http_req *req);

/*
 * The request may go on with scope need: what api_keys_request_scope
 * finds (the key's record to key_out, may be NULL; the scope to
 * *scope_out, may be NULL), or false with 401 (no valid credentials:
 * UNAUTHORIZED, WWW-Authenticate: Bearer) or 403 (FORBIDDEN) sent: the
 * frame's scope check (api_server.c) is this call with the route's
 * scope.  need API_PUBLIC always goes on.  For a route that wants the
 * key it was let in with (GET /auth): its table entry says API_PUBLIC
 * and the handler calls this, so the key is looked up once per request.
 * Handler threads.
 */
bool api_keys_require(struct api_key *key_out, enum api_scope *scope_out,
		      struct http_req *req, struct api_server *s,
		      enum api_scope need);

/* Keys looked up in the key table since the process started (tests:
 * one per request that needs a scope). */
uint64_t api_keys_lookups(void);

/* Close what api_keys_request_scope opened for s (api_server_stop,
 * once no request runs). */
void api_keys_server_close(struct api_server *s);

#endif
