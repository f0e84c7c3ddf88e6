/*
 * filjson.h - the Lotus JSON forms of Filecoin values (jansson), shared by
 * the devnet (server) and the dealer (client).
 *
 * Lotus (Go's encoding/json with go-state-types and go-cid) writes:
 *
 *	CID         {"/": "bafy2bzace..."}
 *	big integer "1000000000000000000"      (decimal string)
 *	bytes       "3q2+7w=="                 (base64 with padding; Lotus
 *	                                         writes null for empty Params)
 *	address     "f1..."                     (string form)
 *	Signature   {"Type": 1, "Data": "<base64>"}
 *	Message     {"Version": 0, "To": "f05", "From": "f1...", "Nonce": 7,
 *	             "Value": "1", "GasLimit": 5000000, "GasFeeCap": "100000",
 *	             "GasPremium": "99000", "Method": 2, "Params": "<base64>",
 *	             "CID": {"/": "..."}}
 *	SignedMessage {"Message": {...}, "Signature": {...}, "CID": {...}}
 *
 * The CID members are what Lotus adds when it marshals a message (the
 * message's, or the signed message's by filmsg_signed_cid); decoders
 * ignore them, as Lotus does.
 *
 * Decoding is strict about what it reads: each field must have its JSON
 * type (integers must be JSON integers in range, not reals or strings),
 * addresses, big integers, base64 and CIDs must parse, and every member
 * but Version (default 0, and only 0), Params (null, missing or "" for
 * none) and CID must be present.  Field names match exactly (Go would
 * also match them case-insensitively).  Unknown members are ignored, as
 * Go's decoder does.  Errors are EFS_ECORRUPT with one line naming the
 * field: "filjson: Message.Nonce: expected an unsigned integer".  jansson
 * cannot read integers over 2^63-1, so neither can these decoders.
 *
 * Every *_encode function stores a new reference in *out (json_decref it)
 * and returns 0 or EFS_ENOMEM (jansson allocation failed; call
 * json_set_alloc_funcs(efs_malloc, efs_free) once at startup to route
 * jansson through the project allocator), or EFS_ERANGE for a uint64 over
 * 2^63-1, which a JSON integer in jansson cannot hold.  Decoders leave
 * out untouched on failure.  Reentrant.
 */
#ifndef EFS_FILJSON_H
#define EFS_FILJSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/bigint.h"
#include "core/cid.h"
#include "core/filaddr.h"
#include "core/filmsg.h"

/* {"/": "<cid>"} */
int filjson_cid_encode(json_t **out, const struct cid *id);
int filjson_cid_decode(struct cid *out, const json_t *v, const char *what);

/* "<decimal>" (bigint_parse: optional sign, digits). */
int filjson_bigint_encode(json_t **out, const struct bigint *a);
int filjson_bigint_decode(struct bigint *out, const json_t *v,
			  const char *what);

/* "<string form>" with network letter net ('f' or 't'). */
int filjson_addr_encode(json_t **out, const struct filaddr *a, char net);
int filjson_addr_decode(struct filaddr *out, const json_t *v,
			const char *what);

/*
 * Base64 with padding; null when len is 0 (as Go writes a nil []byte).
 * The decoder takes a string of at most max bytes (EFS_ECORRUPT past it),
 * or null or a missing member (v NULL) for no bytes; *out is efs_malloc'd
 * (NULL for none) and owned by the caller.  It may also fail with
 * EFS_ENOMEM.
 */
int filjson_bytes_encode(json_t **out, const uint8_t *p, size_t len);
int filjson_bytes_decode(uint8_t **out, size_t *len, const json_t *v,
			 size_t max, const char *what);

/* {"Type": n, "Data": "<base64>"} */
int filjson_sig_encode(json_t **out, const struct filmsg_sig *s);
int filjson_sig_decode(struct filmsg_sig *out, const json_t *v);

/*
 * A Message with its "CID".  Addresses are written with network letter
 * net.  The decoder fills out (filmsg_release it); it can also fail with
 * EFS_ENOMEM.
 */
int filjson_msg_encode(json_t **out, const struct filmsg *m, char net);
int filjson_msg_decode(struct filmsg *out, const json_t *v);

/* A SignedMessage with its "CID".  As filjson_msg_*. */
int filjson_signed_encode(json_t **out, const struct filmsg_signed *sm,
			  char net);
int filjson_signed_decode(struct filmsg_signed *out, const json_t *v);

#endif
