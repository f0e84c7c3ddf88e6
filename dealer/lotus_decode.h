/*
 * lotus_decode.h - the pure half of the Lotus client (lotus.h): reading
 * replies as go-jsonrpc and Lotus write them, with no network, so tests
 * and the fuzzer (tests/fuzz/fuzz_lotus.c) can feed it any bytes.
 *
 * Envelope (go-jsonrpc response.go):
 *
 *	{"jsonrpc":"2.0","id":7,"result":<any>}
 *	{"jsonrpc":"2.0","id":7,"error":{"code":1,"message":"...","data":..}}
 *
 * "jsonrpc" must be "2.0" and "id" the integer that was sent; an
 * "error" that is not null wins over "result"; "result" may be absent
 * (older go-jsonrpc omits a null result).  A batch reply is an array of
 * such objects, one per call, matched by id (each exactly once, in any
 * order).  An error object maps to an efs code and one line (lotus.h):
 * "lotus: Filecoin.<method>: <message> (code N)".
 *
 * The typed decoders read a call's result (NULL for null) by Lotus'
 * types and reject anything else with EFS_ECORRUPT "lotus: <Method>:
 * <Field>: <why>"; members they do not need are ignored, as Go's decoder
 * does.  Decoders leave *out unspecified on failure and own nothing
 * then.  All functions are reentrant.
 */
#ifndef EFS_LOTUS_DECODE_H
#define EFS_LOTUS_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "dealer/lotus.h"

/* Longest method name (without "Filecoin."). */
#define LOTUS_METHOD_MAX 64

/*
 * Parse a reply body[0..len) as JSON (any value at the top; duplicate
 * keys refused, NULs in strings allowed).  *out is a new reference.  0,
 * EFS_ECORRUPT ("lotus: reply is not json: ...") or EFS_ENOMEM (jansson
 * reports some allocation failures inside its parser as syntax errors:
 * those come back as EFS_ECORRUPT).
 */
int lotus_decode_parse(json_t **out, const void *body, size_t len);

/*
 * The reply v to the call of method (for messages) with this id: 0 and
 * *out its result (a new reference, NULL for null), or the error the
 * reply carries (see lotus.h), or EFS_ECORRUPT for a malformed envelope
 * or another id.
 */
int lotus_decode_reply(json_t **out, const json_t *v, int64_t id,
		       const char *method);

/*
 * The JSON-RPC error object e from a reply to method as an efs error:
 * sets this thread's error and returns its code (never 0).
 */
int lotus_decode_error(const json_t *e, const char *method);

/* One call of a batch. */
struct lotus_decode_entry {
	char method[LOTUS_METHOD_MAX];  /* in */
	json_t *result;     /* out: a new reference, NULL for null */
	int rc;             /* out: 0 or the entry's error code */
	char *msg;          /* out: its message (efs_malloc'd) when rc < 0 */
};

/*
 * The batch reply v to calls e[0..n), whose ids were first_id + i.
 * Returns 0 with every entry's outputs set (release them with
 * lotus_decode_entry_release), or, with no entry touched: EFS_ECORRUPT
 * (not an array, a malformed element, an id not asked for or repeated,
 * an answer missing), EFS_ENOMEM, or the error of a single error object
 * answering the whole batch.
 */
int lotus_decode_batch(struct lotus_decode_entry *e, size_t n,
		       const json_t *v, int64_t first_id);

/* Free an entry's outputs; it may be decoded again. */
void lotus_decode_entry_release(struct lotus_decode_entry *e);

/* ---- typed results (v: the result, NULL for null) ---- */

int lotus_decode_head(int64_t *out, const json_t *v);
int lotus_decode_miners(struct filaddr **out, size_t *n, const json_t *v);
/* On success release *out with lotus_miner_info_release. */
int lotus_decode_miner_info(struct lotus_miner_info *out, const json_t *v);
/* A big integer result (WalletBalance); method names it in errors. */
int lotus_decode_bigint(struct bigint *out, const json_t *v,
			const char *method);
int lotus_decode_market_balance(struct bigint *escrow, struct bigint *locked,
				const json_t *v);
int lotus_decode_datacap(struct bigint *out, bool *is_verified_client,
			 const json_t *v);
int lotus_decode_bounds(struct bigint *min, struct bigint *max,
			const json_t *v);
/* StateLookupID: must be an ID address. */
int lotus_decode_id(struct filaddr *out, const json_t *v);
int lotus_decode_nonce(uint64_t *out, const json_t *v);
/* A CID result (MpoolPush); method names it in errors. */
int lotus_decode_cid(struct cid *out, const json_t *v, const char *method);
/* GasEstimateMessageGas: copies the gas fields of v into msg. */
int lotus_decode_gas(struct filmsg *msg, const json_t *v);
/* StateSearchMsg: null is not found. */
int lotus_decode_lookup(struct lotus_receipt *out, bool *found,
			const json_t *v);
int lotus_decode_market_deal(struct lotus_market_deal *out, const json_t *v);

#endif
