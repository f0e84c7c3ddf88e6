/*
 * devnet_util.h - what the devnet tests (and the dealer's) share: signed
 * chain messages as a Lotus wallet makes them, market deal proposals,
 * reading the files the program writes in its state directory, and
 * running the program: start, stop, admin calls (faucet, DataCap),
 * tokens.
 */
#ifndef EFS_TESTS_DEVNET_UTIL_H
#define EFS_TESTS_DEVNET_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

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

/* A running estuaryfs-devnet program (devnet_util_start). */
struct devnet_util_proc {
	pid_t pid;
	char dir[512];        /* its state directory */
	char api[128];        /* "http://127.0.0.1:PORT" */
	char rpc[160];        /* its Lotus JSON-RPC: api + "/rpc/v1" */
	unsigned port;
	char token[2048];     /* the admin JWT */
};

/*
 * Start $DEVNET_BIN with --dir dir (created when missing) --listen
 * 127.0.0.1:0 --epoch epoch (e.g. "100ms") --sps nsps, plus the
 * NULL-terminated extra arguments (may be NULL), stdout and stderr
 * appended to dir/devnet.log; wait (up to 10 s) until it has written
 * its api and token files (a previous run's are removed first, so a
 * restart in the same directory works).  Returns 0, or -1 (DEVNET_BIN
 * unset, cannot start; the process, if any, is stopped) with the reason
 * printed to stderr.
 */
int devnet_util_start(struct devnet_util_proc *out, const char *dir,
		      const char *epoch, unsigned nsps,
		      const char *const *extra);

/*
 * Stop it by its PID: SIGTERM, then SIGKILL after 10 s; with kill9,
 * SIGKILL at once (a crash).  Returns its exit status (128 + signal when
 * a signal ended it), -1 when it had to be killed after the wait, 0 when
 * it was not running.
 */
int devnet_util_stop(struct devnet_util_proc *p, bool kill9);

/*
 * Run argv (NULL-terminated, argv[0] a path) to completion, its stdout
 * into out (at most cap - 1 bytes, NUL-terminated), stderr inherited.
 * Returns its exit status (128 + signal), or -1 when it cannot start.
 */
int devnet_util_run(char *out, size_t cap, const char *const *argv);

/*
 * One admin JSON-RPC call (method, params as a JSON array text) to the
 * program; the reply's "result" as JSON text into out (cap bytes).
 * Returns 0, or -1 (transport failure, or an "error" reply, whose
 * message goes to out).
 */
int devnet_util_rpc(char *out, size_t cap, const struct devnet_util_proc *p,
		    const char *method, const char *params);

/*
 * Devnet.Faucet: atto attoFIL (decimal) into a's wallet; and
 * Devnet.GrantDataCap: bytes (decimal) of DataCap to a.  Returns 0, or -1
 * with the reason printed to stderr.
 */
int devnet_util_faucet(const struct devnet_util_proc *p,
		       const struct filaddr *a, const char *atto);
int devnet_util_datacap(const struct devnet_util_proc *p,
			const struct filaddr *a, const char *bytes);

/*
 * A new API token of the program with permission perm ("read", "write",
 * "admin"), as `estuaryfs-devnet --dir DIR token PERM` prints it, into
 * out (cap bytes).  Returns 0, or -1 when the command fails or prints
 * nothing.
 */
int devnet_util_token(char *out, size_t cap, const struct devnet_util_proc *p,
		      const char *perm);

#endif
