/*
 * wallet.h - the repository's wallet: secp256k1 keys on disk, one file
 * per address, and a default address.
 *
 * Layout, inside the repository directory ($ESTUARYFS_HOME or
 * ~/.estuaryfs, see cli_repo_path):
 *
 *	wallet/                 mode 0700
 *	wallet/f1<address>      mode 0600, the key's Lotus key-info hex
 *	                        (what `lotus wallet export` prints) and "\n"
 *	wallet/default          mode 0600, the default address and "\n"
 *
 * Files are named with the mainnet letter 'f'; every function accepts an
 * address of either network.  Files are written atomically (a temporary
 * file in the same directory, fsync, link or rename into place, fsync of
 * the directory), so a crash leaves the old file or the new one, and a
 * key file is never replaced: a new key gets a new name.
 *
 * As ssh does with its keys, a key file that group or others may access,
 * or that another user owns, is refused with a one-line EFS_EINVAL that
 * says how to fix it, and so is a wallet directory that group or others
 * may write to (whoever can write there can swap the default address).
 *
 * Keys are read from disk for each use and wiped from memory after it;
 * nothing here logs, and the private key leaves this module only through
 * wallet_export.
 *
 * A struct wallet does not change after wallet_open: one may be used by
 * many threads at once, and several processes may share a directory.
 */
#ifndef EFS_WALLET_H
#define EFS_WALLET_H

#include <stdbool.h>
#include <stddef.h>

#include "core/filaddr.h"
#include "core/filkey.h"
#include "core/filsig.h"

struct wallet;

/*
 * Open the wallet of the repository directory repo, creating repo (one
 * level, mode 0700) and repo/wallet (mode 0700) when missing.  Returns 0,
 * EFS_ENOMEM, EFS_EIO (cannot create or open them) or EFS_EINVAL (not a
 * directory, or a wallet directory group or others may write to).
 * Close with wallet_close.
 */
int wallet_open(struct wallet **out, const char *repo);

void wallet_close(struct wallet *w);

/*
 * Make a new key, store it, and make it the default when there is no
 * default yet (as `lotus wallet new` does).  Its address goes to out.
 * Returns 0, EFS_EIO / EFS_ENOSPC (writing failed) or EFS_ENOMEM.
 */
int wallet_new(struct filaddr *out, struct wallet *w);

/*
 * Store the key given as key-info text[0..len) (see
 * filkey_keyinfo_parse), making it the default when there is none.  Its
 * address goes to out.  Returns 0, the errors of filkey_keyinfo_parse,
 * EFS_EEXISTS (that key is in the wallet already), or those of
 * wallet_new.
 */
int wallet_import(struct filaddr *out, struct wallet *w, const char *text,
		  size_t len);

/*
 * Write the key-info hex of address a's key into out (room for
 * FILKEY_KEYINFO_MAX, NUL-terminated; wipe it after use).  Returns 0 or
 * the errors of reading a key: EFS_EINVAL (not an f1 address, or the key
 * file's mode or owner is unsafe), EFS_ENOTFOUND (no key for a),
 * EFS_ECORRUPT (the file does not hold a key-info, or holds another
 * address's key), EFS_EIO.
 */
int wallet_export(char *out, struct wallet *w, const struct filaddr *a);

/*
 * The addresses with keys in the wallet, sorted by their string form,
 * in a new array (free it with efs_free) of *n_out entries (NULL when
 * none).  Names that are not f1 addresses, and directories, are not
 * listed.
 * Returns 0, EFS_EIO or EFS_ENOMEM.
 */
int wallet_list(struct filaddr **out, size_t *n_out, struct wallet *w);

/* Whether the wallet has a key file for a. */
bool wallet_has(struct wallet *w, const struct filaddr *a);

/*
 * The default address.  Returns 0, EFS_ENOTFOUND (none set, or its key
 * is gone), EFS_ECORRUPT (the default file does not hold an f1 address)
 * or EFS_EIO.
 */
int wallet_default(struct filaddr *out, struct wallet *w);

/*
 * Make a the default address.  Returns 0, EFS_EINVAL (not an f1
 * address), EFS_ENOTFOUND (no key for a) or the write errors of
 * wallet_new.
 */
int wallet_set_default(struct wallet *w, const struct filaddr *a);

/*
 * Sign msg[0..len) with a's key (filkey_sign: Filecoin's rules).
 * Returns 0 or the errors of reading a key (see wallet_export).
 */
int wallet_sign(struct filsig *out, struct wallet *w, const struct filaddr *a,
		const void *msg, size_t len);

#endif
