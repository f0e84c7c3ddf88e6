/*
 * transfer_i.h - what transfer.c (the token table) and transfer_serve.c
 * (the HTTP handler) share.  Not for other modules.
 */
#ifndef EFS_DEALER_TRANSFER_I_H
#define EFS_DEALER_TRANSFER_I_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "dealer/transfer.h"

struct db;

/* Random bytes of a token, and its length in base64url. */
#define TRANSFER_TOKEN_BYTES 32
#define TRANSFER_TOKEN_LEN 43
/* SHA-256, what the table keeps of a token. */
#define TRANSFER_HASH_LEN 32
/* Longest miner address kept. */
#define TRANSFER_MINER_MAX 64

struct transfer {
	pthread_mutex_t lock;        /* guards db */
	struct db *db;
	const struct transfer_source_ops *ops;
	void *ops_cls;
};

/* What a live token gives access to. */
struct transfer_row {
	int64_t piece_id;
	uint8_t uuid[16];
	char miner[TRANSFER_MINER_MAX + 1];
};

/* SHA-256 of the token's text.  0 or EFS_ERROR. */
int transfer_hash(uint8_t out[TRANSFER_HASH_LEN], const char *token);

/*
 * The live (known, not expired, not revoked) token whose hash is hash,
 * counting one more request for it.  0, EFS_ENOTFOUND or a database
 * error.
 */
int transfer_lookup(struct transfer_row *out, struct transfer *t,
		    const uint8_t hash[TRANSFER_HASH_LEN]);

/* Add bytes to the token's bytes_sent; set done when done.  0 or error. */
int transfer_account(struct transfer *t,
		     const uint8_t hash[TRANSFER_HASH_LEN], uint64_t bytes,
		     bool done);

/*
 * Which transfer a request names (transfer_parse.c), from its decoded
 * path and its Authorization header (NULL: none):
 *   "/transfer/<token>"                       the secret URL
 *   "/transfer/<uuid>" + "Bearer <token>"     the bearer form; the uuid
 *                                             (8-4-4-4-12 hex, any case)
 *                                             goes to uuid, *has_uuid set
 * A token is TRANSFER_TOKEN_LEN base64url characters.  Returns 0 with
 * the token (NUL-terminated) in token, or EFS_ENOTFOUND for anything
 * else.  Reentrant; reads only the two strings.
 */
int transfer_parse_target(char token[TRANSFER_TOKEN_MAX], uint8_t uuid[16],
			  bool *has_uuid, const char *path,
			  const char *authz);

#endif
