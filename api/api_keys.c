/*
 * api_keys.c - API keys (api_keys.h): the table, making, revoking,
 * listing and looking up keys, and the parsers of what users type.
 *
 * The table (module "api_keys" of db_migrate, in index.db):
 *
 *	api_keys(id INTEGER PRIMARY KEY AUTOINCREMENT   never reused
 *	         hash BLOB UNIQUE     sha-256 of the key's 70 characters
 *	         prefix TEXT          "EST" + 8 hex, for display
 *	         label, scope TEXT    "read" | "write" | "admin"
 *	         created, expires, last_used, revoked)   unix seconds
 *
 * Design notes:
 * - Only the hash is stored.  A plain sha-256, not a slow KDF (bcrypt,
 *   argon2): slow hashing protects secrets people choose, which are
 *   few enough to try; a key is 256 bits from the kernel's CSPRNG, which
 *   no one can try whatever the hash costs, and the server hashes the
 *   presented key at every request that needs a scope, where a KDF's
 *   tens of milliseconds would be the request's whole budget.
 * - The lookup is by hash (a unique index), as dealer/transfer.c looks
 *   up its tokens: what its timing could tell is about a hash, which
 *   tells nothing of any key.  The stored hash is still compared with
 *   the computed one in constant time before a key is accepted.
 * - No cache: every lookup is a read transaction of its own on a pooled
 *   read-only connection, so a key revoked by the CLI (another process,
 *   writing the table directly) is refused from the next request on,
 *   with nothing to tell the daemon.  The cost is a sha-256 and one
 *   indexed row (test_api_keys.c measures it: microseconds).
 * - last_used is written at most once a minute per key, on the writer
 *   connection only when it is free (trylock) and without waiting on
 *   sqlite's lock (busy timeout 0) or the disk (synchronous NORMAL):
 *   a request never waits for the record of its own use.
 * - A row that does not read back as a key (unknown scope, a hash of
 *   the wrong size, bad times) grants nothing; listing shows it as
 *   corrupt so it can be revoked.
 * - Secrets are never logged; messages name keys by id.
 */
#include "api/api_keys.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/db.h"
#include "core/error.h"
#include "core/fdio.h"
#include "core/utf8.h"

#include "core/banned.h"

#define HASH_LEN 32
#define READERS_MAX 4

struct api_keys {
	struct db_pool readers;
	pthread_mutex_t wlock;   /* guards w */
	struct db *w;            /* creates, revokes, touches */
};

static const char *const schema[] = {
	/* 1 */
	"CREATE TABLE api_keys ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" hash BLOB NOT NULL UNIQUE,"
	" prefix TEXT NOT NULL,"
	" label TEXT NOT NULL DEFAULT '',"
	" scope TEXT NOT NULL,"
	" created INTEGER NOT NULL,"
	" expires INTEGER NOT NULL DEFAULT 0,"
	" last_used INTEGER NOT NULL DEFAULT 0,"
	" revoked INTEGER NOT NULL DEFAULT 0"
	");",
};

#define COLUMNS "id, prefix, label, scope, created, expires, last_used, " \
		"revoked, hash"

/* ---- opening ---------------------------------------------------------- */

int api_keys_open(struct api_keys **out, const char *db_path)
{
	struct api_keys *k;
	int rc;

	*out = NULL;
	if (!(k = efs_calloc(1, sizeof(*k))))
		return efs_error_set(EFS_ENOMEM, "api keys: out of memory");
	if (db_pool_init(&k->readers, db_path, READERS_MAX) < 0) {
		efs_free(k);
		return efs_error_set(EFS_ENOMEM, "api keys: out of memory");
	}
	if ((rc = db_open(&k->w, db_path, DB_OPEN_CREATE)) < 0 ||
	    (rc = db_migrate(k->w, NULL, "api_keys", schema,
			     sizeof(schema) / sizeof(schema[0]))) < 0) {
		db_close(k->w);
		db_pool_release(&k->readers);
		efs_free(k);
		return rc;
	}
	pthread_mutex_init(&k->wlock, NULL);
	*out = k;
	return 0;
}

void api_keys_close(struct api_keys *k)
{
	if (!k)
		return;
	db_close(k->w);
	db_pool_release(&k->readers);
	pthread_mutex_destroy(&k->wlock);
	efs_free(k);
}

/* ---- rows ----------------------------------------------------------- */

static const char *const scope_names[] = {
	[API_READ] = "read", [API_WRITE] = "write", [API_ADMIN] = "admin",
};

int api_keys_scope_parse(enum api_scope *out, const char *name)
{
	for (int s = API_READ; s <= API_ADMIN; s++)
		if (name && strcmp(name, scope_names[s]) == 0) {
			*out = (enum api_scope)s;
			return 0;
		}
	return efs_error_set(EFS_EINVAL, "api keys: no scope \"%s\" (want "
			     "read, write or admin)", name ? name : "");
}

static bool label_ok(const char *label)
{
	size_t n = strlen(label);

	if (n > API_KEY_LABEL_MAX || !utf8_valid((const uint8_t *)label, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)label[i] < 0x20 || label[i] == 0x7f)
			return false;
	return true;
}

static bool prefix_ok(const char *p)
{
	return strlen(p) == API_KEY_PREFIX_LEN &&
	       strncmp(p, API_KEY_HEAD, 3) == 0 &&
	       strspn(p + 3, "0123456789abcdef") == API_KEY_PREFIX_LEN - 3;
}

/* Text column i of st into out[0..cap) (false: not text, or too long). */
static bool column_text(char *out, size_t cap, sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	int n = sqlite3_column_bytes(st, i);

	out[0] = '\0';
	if (sqlite3_column_type(st, i) != SQLITE_TEXT || !t || n < 0 ||
	    (size_t)n >= cap)
		return false;
	memcpy(out, t, (size_t)n);
	out[n] = '\0';
	return strlen(out) == (size_t)n;
}

/* A row of COLUMNS into out (its hash to hash when not NULL); a row
 * that does not read back as a key is marked corrupt. */
static void row_read(struct api_key *out, uint8_t hash[HASH_LEN],
		     sqlite3_stmt *st)
{
	char scope[8];
	bool ok;

	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(st, 0);
	ok = column_text(out->prefix, sizeof(out->prefix), st, 1) &&
	     prefix_ok(out->prefix);
	ok = column_text(out->label, sizeof(out->label), st, 2) &&
	     label_ok(out->label) && ok;
	ok = column_text(scope, sizeof(scope), st, 3) &&
	     api_keys_scope_parse(&out->scope, scope) == 0 && ok;
	for (int i = 4; i < 8; i++)
		ok = sqlite3_column_type(st, i) == SQLITE_INTEGER &&
		     sqlite3_column_int64(st, i) >= 0 && ok;
	out->created = sqlite3_column_int64(st, 4);
	out->expires = sqlite3_column_int64(st, 5);
	out->last_used = sqlite3_column_int64(st, 6);
	out->revoked = sqlite3_column_int64(st, 7);
	ok = sqlite3_column_type(st, 8) == SQLITE_BLOB &&
	     sqlite3_column_bytes(st, 8) == HASH_LEN && ok;
	if (ok && hash)
		memcpy(hash, sqlite3_column_blob(st, 8), HASH_LEN);
	if (!ok) {
		out->corrupt = true;
		out->scope = API_PUBLIC;
		/* what cannot be shown as it is is not shown */
		if (!prefix_ok(out->prefix))
			out->prefix[0] = '\0';
		if (!label_ok(out->label))
			out->label[0] = '\0';
	}
}

bool api_keys_usable(const struct api_key *key, int64_t now)
{
	return !key->corrupt && key->scope > API_PUBLIC && !key->revoked &&
	       (key->expires == 0 || now < key->expires);
}

/* ---- tokens ----------------------------------------------------------- */

static int token_hash(uint8_t out[HASH_LEN], const char *token, size_t len)
{
	unsigned n = 0;

	if (!EVP_Digest(token, len, out, &n, EVP_sha256(), NULL) ||
	    n != HASH_LEN)
		return efs_error_set(EFS_ERROR, "api keys: sha-256 failed");
	return 0;
}

bool api_keys_is_token(const char *s, size_t len)
{
	if (len != API_KEY_LEN || memcmp(s, API_KEY_HEAD, 3) != 0 ||
	    memcmp(s + len - 3, API_KEY_TAIL, 3) != 0)
		return false;
	for (size_t i = 3; i < len - 3; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

bool api_keys_bearer(char out[API_KEY_SIZE], const char *auth)
{
	size_t n;

	out[0] = '\0';
	if (!auth || strncasecmp(auth, "Bearer", 6) != 0 || auth[6] != ' ')
		return false;
	auth += 6;
	auth += strspn(auth, " ");
	n = strcspn(auth, " \t");
	if (auth[n + strspn(auth + n, " \t")] != '\0' ||
	    !api_keys_is_token(auth, n))
		return false;
	memcpy(out, auth, n);
	out[n] = '\0';
	return true;
}

/* A new key into secret, its hash into hash (the caller wipes secret
 * on failure). */
static int token_new(char secret[API_KEY_SIZE], uint8_t hash[HASH_LEN])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t raw[API_KEY_RAW];
	char *p = secret + 3;

	if (fdio_random(raw, sizeof(raw)) < 0)
		return efs_error_set_errno(EFS_EIO, errno, "api keys: no "
					   "random bytes for the key");
	memcpy(secret, API_KEY_HEAD, 3);
	for (size_t i = 0; i < sizeof(raw); i++) {
		*p++ = hex[raw[i] >> 4];
		*p++ = hex[raw[i] & 15];
	}
	memcpy(p, API_KEY_TAIL, 4);
	explicit_bzero(raw, sizeof(raw));
	return token_hash(hash, secret, API_KEY_LEN);
}

/* ---- writing ---------------------------------------------------------- */

/* The row of id into out, read on the writer (its lock held). */
static int row_get_locked(struct api_key *out, struct api_keys *k,
			  int64_t id)
{
	static const char sql[] = "SELECT " COLUMNS " FROM api_keys "
				  "WHERE id = ?1";
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_stmt(&st, k->w, sql)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = db_step(k->w, st)) == 1)
		row_read(out, NULL, st);
	db_reset(st);
	if (rc == 0)
		return efs_error_set(EFS_ENOTFOUND, "api keys: no key %lld",
				     (long long)id);
	return rc < 0 ? rc : 0;
}

static int insert_locked(int64_t *id, struct api_keys *k,
			 const uint8_t hash[HASH_LEN], const char *prefix,
			 const char *label, enum api_scope scope,
			 int64_t expires, int64_t now)
{
	static const char sql[] =
		"INSERT INTO api_keys (hash, prefix, label, scope, created, "
		"expires) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_sync_mode(k->w, true)) < 0 ||
	    (rc = db_stmt(&st, k->w, sql)) < 0)
		return rc;
	sqlite3_bind_blob(st, 1, hash, HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, label, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, scope_names[scope], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, expires);
	if ((rc = db_run(k->w, st)) == 0)
		*id = sqlite3_last_insert_rowid(db_handle(k->w));
	return rc;
}

int api_keys_create(char secret[API_KEY_SIZE], struct api_key *out,
		    struct api_keys *k, enum api_scope scope,
		    const char *label, int64_t expires, int64_t now)
{
	char prefix[API_KEY_PREFIX_LEN + 1];
	uint8_t hash[HASH_LEN];
	struct api_key key;
	int64_t id = 0;
	int rc;

	secret[0] = '\0';
	if (!label)
		label = "";
	if (scope < API_READ || scope > API_ADMIN)
		return efs_error_set(EFS_EINVAL, "api keys: a key's scope is "
				     "read, write or admin");
	if (!label_ok(label))
		return efs_error_set(EFS_EINVAL, "api keys: a label is UTF-8 "
				     "text of at most %d bytes without control "
				     "characters", API_KEY_LABEL_MAX);
	if (expires != 0 && expires <= now)
		return efs_error_set(EFS_EINVAL, "api keys: the expiry is not "
				     "in the future");
	if ((rc = token_new(secret, hash)) == 0) {
		memcpy(prefix, secret, API_KEY_PREFIX_LEN);
		prefix[API_KEY_PREFIX_LEN] = '\0';
		pthread_mutex_lock(&k->wlock);
		rc = insert_locked(&id, k, hash, prefix, label, scope, expires,
				   now);
		if (rc == 0)
			rc = row_get_locked(&key, k, id);
		pthread_mutex_unlock(&k->wlock);
	}
	if (rc < 0)
		explicit_bzero(secret, API_KEY_SIZE);
	else if (out)
		*out = key;
	return rc;
}

int api_keys_revoke(struct api_key *out, struct api_keys *k, int64_t id,
		    int64_t now)
{
	static const char sql[] = "UPDATE api_keys SET revoked = ?2 "
				  "WHERE id = ?1 AND revoked = 0";
	int64_t v[] = { id, now > 0 ? now : 1 };
	struct api_key key;
	int rc;

	pthread_mutex_lock(&k->wlock);
	if ((rc = db_sync_mode(k->w, true)) == 0 &&
	    (rc = db_run_ints(k->w, sql, v, 2)) == 0)
		rc = row_get_locked(&key, k, id);
	pthread_mutex_unlock(&k->wlock);
	if (rc == 0 && out)
		*out = key;
	return rc;
}

/* last_used = now, when the writer is free and sqlite's lock too. */
static void touch(struct api_keys *k, int64_t id, int64_t now)
{
	static const char sql[] = "UPDATE api_keys SET last_used = ?2 "
				  "WHERE id = ?1 AND last_used < ?2";
	int64_t v[] = { id, now };
	sqlite3 *h;

	if (pthread_mutex_trylock(&k->wlock) != 0)
		return;
	h = db_handle(k->w);
	sqlite3_busy_timeout(h, 0);
	if (db_sync_mode(k->w, false) == 0)
		(void)db_run_ints(k->w, sql, v, 2);
	sqlite3_busy_timeout(h, DB_BUSY_TIMEOUT_MS);
	pthread_mutex_unlock(&k->wlock);
	efs_error_clear();
}

/* ---- reading ---------------------------------------------------------- */

int api_keys_foreach(struct api_keys *k,
		     int (*fn)(void *cls, const struct api_key *key),
		     void *cls)
{
	static const char sql[] = "SELECT " COLUMNS " FROM api_keys "
				  "WHERE id > ?1 ORDER BY id LIMIT 1";
	struct api_key key = { .id = 0 };
	sqlite3_stmt *st;
	struct db *db;
	int rc;

	if ((rc = db_pool_get(&db, &k->readers)) < 0)
		return rc;
	/* one row per statement: fn runs with no read transaction open */
	for (;;) {
		if ((rc = db_stmt(&st, db, sql)) < 0)
			break;
		sqlite3_bind_int64(st, 1, key.id);
		if ((rc = db_step(db, st)) == 1)
			row_read(&key, NULL, st);
		db_reset(st);
		if (rc <= 0 || (rc = fn(cls, &key)) != 0)
			break;
	}
	db_pool_put(&k->readers, db);
	return rc;
}

/* The row whose hash is hash into out (and its stored hash): 1, 0 when
 * none, or an error. */
static int find(struct api_key *out, uint8_t stored[HASH_LEN],
		struct api_keys *k, const uint8_t hash[HASH_LEN])
{
	static const char sql[] = "SELECT " COLUMNS " FROM api_keys "
				  "WHERE hash = ?1";
	sqlite3_stmt *st;
	struct db *db;
	int rc;

	if ((rc = db_pool_get(&db, &k->readers)) < 0)
		return rc;
	if ((rc = db_stmt(&st, db, sql)) == 0) {
		sqlite3_bind_blob(st, 1, hash, HASH_LEN, SQLITE_STATIC);
		if ((rc = db_step(db, st)) == 1)
			row_read(out, stored, st);
		db_reset(st);
	}
	db_pool_put(&k->readers, db);
	return rc;
}

int api_keys_lookup(struct api_key *out, struct api_keys *k,
		    const char *token, int64_t now)
{
	uint8_t hash[HASH_LEN], stored[HASH_LEN];
	size_t len = strlen(token);
	struct api_key key;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!api_keys_is_token(token, len))
		return efs_error_set(EFS_ENOTFOUND, "api keys: not a key");
	if ((rc = token_hash(hash, token, len)) < 0 ||
	    (rc = find(&key, stored, k, hash)) < 0)
		return rc;
	if (rc == 0 || (!key.corrupt && CRYPTO_memcmp(stored, hash,
						      HASH_LEN) != 0))
		return efs_error_set(EFS_ENOTFOUND, "api keys: unknown key");
	if (key.corrupt)
		return efs_error_set(EFS_ECORRUPT, "api keys: key %lld: its "
				     "row is damaged", (long long)key.id);
	if (key.revoked)
		return efs_error_set(EFS_ENOTFOUND, "api keys: key %lld is "
				     "revoked", (long long)key.id);
	if (key.expires && now >= key.expires)
		return efs_error_set(EFS_ENOTFOUND, "api keys: key %lld has "
				     "expired", (long long)key.id);
	if (now - key.last_used >= API_KEYS_TOUCH_SEC) {
		touch(k, key.id, now);
		key.last_used = now;
	}
	*out = key;
	return 0;
}

/* ---- what users type -------------------------------------------------- */

int api_keys_duration_parse(int64_t *out, const char *s)
{
	static const struct {
		char unit;
		int64_t sec;
	} units[] = { { 's', 1 },     { 'm', 60 },     { 'h', 3600 },
		      { 'd', 86400 }, { 'w', 604800 }, { 'y', 365 * 86400 } };
	int64_t mult = 1;
	unsigned long long n;
	char *end;

	if (s && strcmp(s, "never") == 0) {
		*out = 0;
		return 0;
	}
	if (!s || *s < '0' || *s > '9')
		goto bad;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno)
		goto bad;
	if (*end) {
		size_t i = 0;

		while (i < sizeof(units) / sizeof(units[0]) &&
		       units[i].unit != *end)
			i++;
		if (i == sizeof(units) / sizeof(units[0]) || end[1])
			goto bad;
		mult = units[i].sec;
	}
	if (n == 0 || n > (unsigned long long)(API_KEYS_DURATION_MAX / mult))
		goto bad;
	*out = (int64_t)n * mult;
	return 0;
bad:
	return efs_error_set(EFS_EINVAL, "api keys: bad duration \"%s\" (want "
			     "a number and s, m, h, d, w or y, e.g. 30d; up "
			     "to 100y; or never)", s ? s : "");
}

/* ---- JSON ------------------------------------------------------------- */

static json_t *json_time(int64_t t)
{
	char s[32];

	if (t <= 0 || !efs_clock_format(s, sizeof(s), t * 1000000000,
					"%Y-%m-%dT%H:%M:%SZ"))
		return json_null();
	return json_string(s);
}

static const char *status(const struct api_key *key, int64_t now)
{
	if (key->corrupt)
		return "corrupt";
	if (key->revoked)
		return "revoked";
	if (key->expires && now >= key->expires)
		return "expired";
	return "active";
}

json_t *api_keys_json(const struct api_key *key, int64_t now)
{
	return json_pack("{s:I,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:s}", "id",
			 (json_int_t)key->id, "prefix", key->prefix, "label",
			 key->label, "scope", api_scope_name(key->scope),
			 "created", json_time(key->created), "expires",
			 json_time(key->expires), "last_used",
			 json_time(key->last_used), "revoked",
			 json_time(key->revoked), "status", status(key, now));
}
