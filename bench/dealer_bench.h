/*
 * dealer_bench.h - what the dealer's benchmarks (dealer_scale.c,
 * dealer_latency.c) share: a repository with a funded wallet on a
 * devnet, the dealer's configuration for them, /proc figures, temporary
 * directories.  Everything here runs on the benchmark's main thread,
 * except dealer_bench_status_kib (any thread).
 */
#ifndef EFS_BENCH_DEALER_BENCH_H
#define EFS_BENCH_DEALER_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/filaddr.h"
#include "core/filsig.h"
#include "dealer/config.h"

struct bstore;
struct devnet_util_proc;

/* Deals per piece: the dealer's default replication. */
#define DEALER_BENCH_REPLICATION 6
#define DEALER_BENCH_MIB (1024.0 * 1024.0)

/* Print "<prog>: what: <the efs error message>" to stderr; returns -1. */
int dealer_bench_fail(const char *what);

/* Name the program for dealer_bench_fail; set the log level (warnings,
 * or everything with verbose); curl's global init.  0 or -1. */
int dealer_bench_init(const char *prog, bool verbose);

/* "250ms" or "2s" (a devnet --epoch) in seconds; 0 when it is neither. */
double dealer_bench_epoch_s(const char *s);

/* A "Key:  123 kB" line of /proc/<pid>/status in KiB (pid 0: this
 * process); -1 when there is none. */
long dealer_bench_status_kib(int pid, const char *key);

/* The size of the file path + suffix in MiB (0 when there is none). */
double dealer_bench_file_mib(const char *path, const char *suffix);

/* A new directory $TMPDIR/<name>.XXXXXX (TMPDIR default /tmp) into out
 * (cap bytes).  0 or -1. */
int dealer_bench_tmpdir(char *out, size_t cap, const char *name);

/* Remove dir and everything under it (symlinks not followed). */
void dealer_bench_rm_tree(const char *dir);

/* splitmix64: the next pseudo-random word of state *s. */
uint64_t dealer_bench_mix(uint64_t *s);

/* A repository: its blockstore and a wallet key the devnet funded. */
struct dealer_bench_repo {
	char dir[4096];
	char db[4200];               /* dir/index.db */
	struct bstore *bs;
	struct filaddr client;       /* the wallet's default key */
	struct filsig sig;           /* a signature of it, for proposals */
};

/*
 * Make a repository in dir (created): its blockstore, a wallet with a
 * new default key, funded from net's faucet (1000 FIL) with 1 TiB of
 * DataCap.  0 or -1 (said on stderr).  Close with dealer_bench_repo_close.
 */
int dealer_bench_repo_open(struct dealer_bench_repo *r, const char *dir,
			   const struct devnet_util_proc *net);

/* Close the blockstore (the rest is files).  Fine twice. */
void dealer_bench_repo_close(struct dealer_bench_repo *r);

/*
 * The daemon's dealer configuration (config_defaults) but for the
 * endpoint (the caller's Lotus URL: devnet false), aggregation off
 * (pieces from 128 bytes, so each commit is its own piece) and the
 * verified price cap raised as the tests raise it: half the devnet's SPs
 * charge for verified deals.  Release with config_release.
 */
void dealer_bench_config(struct dealer_config *c);

#endif
