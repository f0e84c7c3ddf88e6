/*
 * devnet_fault.c - the simulated miners' faults: reading and setting
 * them (under d->lock, persisted in devnet_miners.fault as JSON) and
 * their JSON form, which the command line (--fault), the admin RPC
 * (Devnet.SetFault) and the database share.  One field is a setting,
 * not a fault: min_piece, the ask's minimum piece size in place of the
 * miner's own (--min-piece sets it on every miner).
 */
#include "contrib/devnet/chain.h"

#include <stddef.h>
#include <string.h>

#include "core/alloc.h"
#include "core/commp.h"
#include "core/error.h"

#include "core/banned.h"

void devnet_fault_get(struct devnet *d, const struct devnet_miner *m,
		      struct devnet_fault *out)
{
	pthread_mutex_lock(&d->lock);
	*out = m->fault;
	pthread_mutex_unlock(&d->lock);
}

uint64_t devnet_min_piece(struct devnet *d, const struct devnet_miner *m)
{
	struct devnet_fault f;

	devnet_fault_get(d, m, &f);
	return f.min_piece ? f.min_piece : m->min_piece;
}

bool devnet_min_piece_valid(uint64_t v)
{
	return v == 0 || (v <= DEVNET_MIN_PIECE_MAX && commp_padded_valid(v));
}

int devnet_fault_set(struct devnet *d, struct devnet_miner *m,
		     const struct devnet_fault *f)
{
	json_t *j = devnet_fault_to_json(f);
	char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	sqlite3_stmt *st;
	int rc;

	json_decref(j);
	if (!text)
		return efs_error_set(EFS_ENOMEM, "devnet: out of memory");
	pthread_mutex_lock(&d->lock);
	rc = db_stmt(&st, d->db, "UPDATE devnet_miners SET fault = ?"
				 " WHERE id = ?");
	if (rc == 0) {
		sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (int64_t)m->id);
		rc = db_run(d->db, st);
	}
	if (rc == 0)
		m->fault = *f;
	pthread_mutex_unlock(&d->lock);
	efs_free(text);
	return rc;
}

int devnet_fault_parse_apply(struct devnet *d, const char *miner,
			     size_t mlen, const char *json)
{
	struct devnet_miner *m = NULL;
	struct devnet_fault f;
	struct filaddr a;
	json_error_t je;
	json_t *j;
	int rc;

	if (filaddr_parse(&a, NULL, miner, mlen) == 0 &&
	    a.protocol == FILADDR_ID)
		m = devnet_miner_find(d, a.id);
	if (!m)
		return efs_error_set(EFS_EINVAL, "no miner '%.*s'", (int)mlen,
				     miner);
	j = json_loads(json, 0, &je);
	if (!j)
		return efs_error_set(EFS_EINVAL, "fault json: %s", je.text);
	devnet_fault_get(d, m, &f);
	rc = devnet_fault_from_json(&f, j);
	json_decref(j);
	return rc < 0 ? rc : devnet_fault_set(d, m, &f);
}

/* The fields of struct devnet_fault, for the JSON forms. */
enum fault_kind { FAULT_PCT, FAULT_BOOL, FAULT_MS, FAULT_SIZE };

static const struct fault_field {
	const char *name;
	enum fault_kind kind;
	size_t off;
} fault_fields[] = {
	{ "reject_pct", FAULT_PCT, offsetof(struct devnet_fault, reject_pct) },
	{ "fail_transfer", FAULT_BOOL,
	  offsetof(struct devnet_fault, fail_transfer) },
	{ "never_seal", FAULT_BOOL, offsetof(struct devnet_fault, never_seal) },
	{ "slash", FAULT_BOOL, offsetof(struct devnet_fault, slash) },
	{ "offline", FAULT_BOOL, offsetof(struct devnet_fault, offline) },
	{ "slow_ms", FAULT_MS, offsetof(struct devnet_fault, slow_ms) },
	{ "http429_pct", FAULT_PCT,
	  offsetof(struct devnet_fault, http429_pct) },
	{ "corrupt_retrieval", FAULT_BOOL,
	  offsetof(struct devnet_fault, corrupt_retrieval) },
	{ "truncate_retrieval", FAULT_BOOL,
	  offsetof(struct devnet_fault, truncate_retrieval) },
	{ "garbage_market", FAULT_BOOL,
	  offsetof(struct devnet_fault, garbage_market) },
	{ "min_piece", FAULT_SIZE, offsetof(struct devnet_fault, min_piece) },
};

#define NFAULT_FIELDS (sizeof(fault_fields) / sizeof(fault_fields[0]))
/* Longest "slow" fault: a minute. */
#define FAULT_SLOW_MAX 60000

/* min_piece: devnet_min_piece_valid. */
static int fault_size_set(struct devnet_fault *f,
			  const struct fault_field *ff, const json_t *v)
{
	json_int_t n = json_is_integer(v) ? json_integer_value(v) : -1;
	uint64_t u = (uint64_t)n;

	if (n < 0 || !devnet_min_piece_valid(u))
		return efs_error_set(EFS_EINVAL,
				     "%s: want 0 or a power of two from 128"
				     " to %llu", ff->name,
				     (unsigned long long)DEVNET_MIN_PIECE_MAX);
	*(uint64_t *)(void *)((char *)f + ff->off) = u;
	return 0;
}

static int fault_field_set(struct devnet_fault *f,
			   const struct fault_field *ff, const json_t *v)
{
	char *p = (char *)f + ff->off;
	json_int_t n;

	if (ff->kind == FAULT_SIZE)
		return fault_size_set(f, ff, v);
	if (ff->kind == FAULT_BOOL) {
		if (!json_is_boolean(v))
			return efs_error_set(EFS_EINVAL,
					     "fault %s: want true or false",
					     ff->name);
		*(bool *)(void *)p = json_is_true(v);
		return 0;
	}
	n = json_is_integer(v) ? json_integer_value(v) : -1;
	if (n < 0 || n > (ff->kind == FAULT_PCT ? 100 : FAULT_SLOW_MAX))
		return efs_error_set(EFS_EINVAL, "fault %s: want 0..%d",
				     ff->name, ff->kind == FAULT_PCT
						       ? 100
						       : FAULT_SLOW_MAX);
	*(unsigned *)(void *)p = (unsigned)n;
	return 0;
}

int devnet_fault_from_json(struct devnet_fault *out, const json_t *j)
{
	struct devnet_fault f = *out;
	const char *key;
	json_t *v;
	int rc;

	if (!json_is_object(j))
		return efs_error_set(EFS_EINVAL, "faults: want an object");
	json_object_foreach((json_t *)j, key, v) {
		size_t i = 0;

		while (i < NFAULT_FIELDS && strcmp(fault_fields[i].name, key))
			i++;
		if (i == NFAULT_FIELDS)
			return efs_error_set(EFS_EINVAL,
					     "faults: unknown field '%s'", key);
		if ((rc = fault_field_set(&f, &fault_fields[i], v)) < 0)
			return rc;
	}
	*out = f;
	return 0;
}

json_t *devnet_fault_to_json(const struct devnet_fault *f)
{
	json_t *j = json_object();

	for (size_t i = 0; j && i < NFAULT_FIELDS; i++) {
		const void *p = (const char *)f + fault_fields[i].off;
		json_t *v = fault_fields[i].kind == FAULT_BOOL
				    ? json_boolean(*(const bool *)p)
			    : fault_fields[i].kind == FAULT_SIZE
				    ? json_integer(
					      (json_int_t)*(const uint64_t *)p)
				    : json_integer(*(const unsigned *)p);

		if (json_object_set_new(j, fault_fields[i].name, v) < 0) {
			json_decref(j);
			return NULL;
		}
	}
	return j;
}
