/*
 * localnet.h - the local devnet the daemon uses when no network is
 * configured: find the estuaryfs-devnet program, start it in
 * <repo>/devnet on a loopback port (or attach to the one already running
 * there), and keep the dealer's wallet funded from its faucet.
 *
 * Nothing on a devnet is real: no FIL is spent and nothing leaves the
 * machine.  The daemon says so in its log and `estuaryfs status` shows
 * "network: devnet".
 *
 * The program is looked for in order: $ESTUARYFS_DEVNET; next to the
 * running executable (an installed tree: bindir/estuaryfs-devnet); in a
 * build tree (../contrib/devnet/estuaryfs-devnet from cli/); then $PATH.
 */
#ifndef EFS_DEALER_LOCALNET_H
#define EFS_DEALER_LOCALNET_H

#include <stdbool.h>
#include <sys/types.h>

#include "core/bigint.h"
#include "core/filaddr.h"

struct lotus;

struct localnet {
	pid_t pid;              /* ours, or -1 when we attached to one */
	char dir[4096];         /* <repo>/devnet */
	char url[128];          /* "http://127.0.0.1:PORT/rpc/v1" */
	char token[4096];       /* its admin JWT */
};

/*
 * Attach to the devnet running in <repo>/devnet, or start one (its
 * output goes to <repo>/devnet/devnet.log) and wait up to 15 s for it to
 * answer.  Returns 0, EFS_ENOTFOUND (no estuaryfs-devnet program: the
 * message says how to install one or configure a network), EFS_EIO,
 * EFS_ETIMEDOUT (it did not come up: see its log).
 */
int localnet_start(struct localnet *out, const char *repo);

/* Stop the devnet if this process started it (SIGTERM, then SIGKILL
 * after 10 s).  Safe to call twice. */
void localnet_stop(struct localnet *ln);

/*
 * Top up addr from the faucet to at least min_fil attoFIL and, when
 * datacap_min is not zero, its DataCap to at least that many bytes
 * (admin calls Devnet.Faucet and Devnet.GrantDataCap through l, which
 * must hold the devnet's admin token).  Returns 0 or the call's error.
 */
int localnet_fund(struct lotus *l, const struct filaddr *addr,
		  const struct bigint *min_fil, const struct bigint *datacap_min);

#endif
