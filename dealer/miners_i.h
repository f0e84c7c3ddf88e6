/*
 * miners_i.h - what the files of the miners module share (miners.c: the
 * tables, opening, SPs, asks and bandwidth; miners_log.c: interactions,
 * backoff, performance and retention; miners_read.c: records, logs,
 * bandwidth sums and the score; miners_select.c: eligibility, selection
 * and explanations).
 */
#ifndef EFS_MINERS_I_H
#define EFS_MINERS_I_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/db.h"
#include "dealer/miners.h"

struct miners {
	pthread_mutex_t mu;    /* guards everything below */
	struct db *db;         /* NULL: read-only and no tables yet */
	struct miners_opts opts;
	uint64_t rng;          /* jitter, unseeded selections (splitmix64) */
};

/* Longest url, peer ID and piece CID text accepted. */
#define MINERS_TEXT_MAX 2048
#define MINERS_CID_MAX 256

/* EFS_EINVAL when m was opened read-only. */
int miners_check_writable(struct miners *m);

/* EFS_ERANGE when v does not fit an sqlite integer (what names it). */
int miners_check_u63(uint64_t v, const char *what);

/* Bind s to parameter i of st, or NULL when s is NULL. */
void miners_bind_text(sqlite3_stmt *st, int i, const char *s);

/* The next number of the splitmix64 generator at *state. */
uint64_t miners_rand64(uint64_t *state);

/* A uniform double in [0, 1) from *state. */
double miners_rand01(uint64_t *state);

/* The canonical text of an ID address ("f01234") into out; EINVAL for
 * other protocols (what names the caller). */
int miners_addr_str(char out[FILADDR_STR_MAX], const struct filaddr *a,
		    const char *what);

/* EFS_ENOTFOUND, "miners: f01234 is not a known storage provider". */
int miners_err_unknown(const char *addr);

/*
 * Load every SP's record (mu held) into a new array *out of *n_out
 * (release each, then efs_free the array).  0 or an error.
 */
int miners_load_all(struct miner_record **out, size_t *n_out,
		    struct miners *m);

/* Release n records and free the array.  NULL is fine. */
void miners_records_free(struct miner_record *v, size_t n);

#endif
