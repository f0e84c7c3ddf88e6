/*
 * devnet_util.h - what the devnet tests share: signed chain messages as
 * a Lotus wallet makes them, market deal proposals, and reading the
 * files the program writes in its state directory.
 */
#ifndef EFS_TESTS_DEVNET_UTIL_H
#define EFS_TESTS_DEVNET_UTIL_H

#include <stdint.h>

#include "core/filkey.h"
#include "core/filmsg.h"
#include "core/mk12.h"

/*
 * A message from k's address to `to` (method, value in attoFIL as a
 * decimal string, params),
 * with Lotus-like gas, signed by k over the unsigned message's CID.
 * Release *out with filmsg_signed_release.  Returns 0 or an efs code.
 */
int devnet_util_signed_msg(struct filmsg_signed *out, const struct filkey *k,
			   const struct filaddr *to, uint64_t nonce,
			   uint64_t method, const char *value_atto,
			   const uint8_t *params, size_t params_len);

/* An AddBalance message (to f05, method 2) crediting `who`'s escrow. */
int devnet_util_add_balance(struct filmsg_signed *out, const struct filkey *k,
			    const struct filaddr *who, uint64_t nonce,
			    const char *value_atto);

/* A WithdrawBalance message (to f05, method 3) of amount from `who`. */
int devnet_util_withdraw(struct filmsg_signed *out, const struct filkey *k,
			 const struct filaddr *who, uint64_t nonce,
			 const char *amount_atto);

/*
 * A deal proposal of piece_size padded bytes (a fixed piece CID) from
 * client to provider f0<provider>, epochs [start, end), price per epoch,
 * collaterals (attoFIL, decimal strings); label "devnet-test".  Owns
 * nothing: do not release.
 */
void devnet_util_proposal(struct mk12_proposal *out,
			  const struct filaddr *client, uint64_t provider,
			  uint64_t piece_size, int64_t start, int64_t end,
			  const char *price, const char *pcoll,
			  const char *ccoll, bool verified);

/*
 * The text of the file dir/name (the program's "api" and "token") into
 * out, at most cap - 1 bytes, trailing newlines cut.  0, or -1 when the
 * file cannot be opened (not written yet).
 */
int devnet_util_read_text(char *out, size_t cap, const char *dir,
			  const char *name);

#endif
