/*
 * dealer_bench.c - the helpers of the dealer's benchmarks (see
 * dealer_bench.h).
 */
#include "bench/dealer_bench.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/bstore.h"
#include "core/error.h"
#include "core/log.h"
#include "core/wallet.h"
#include "net/httpc.h"
#include "tests/devnet/devnet_util.h"

#include "core/banned.h"

/* The program's name in messages (main thread only). */
static const char *prog = "dealer_bench";

int dealer_bench_fail(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, efs_error_msg());
	return -1;
}

int dealer_bench_init(const char *name, bool verbose)
{
	prog = name;
	efs_log_setup(verbose ? EFS_LOG_INFO : EFS_LOG_WARN, 2);
	if (!getenv("DEVNET_BIN")) {
		fprintf(stderr, "%s: DEVNET_BIN must name the "
			"estuaryfs-devnet program\n", prog);
		return -1;
	}
	return httpc_global_init() < 0 ? dealer_bench_fail("curl") : 0;
}

double dealer_bench_epoch_s(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (strcmp(end, "ms") == 0)
		return v / 1000;
	return strcmp(end, "s") == 0 ? v : 0;
}

long dealer_bench_status_kib(int pid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/status", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

double dealer_bench_file_mib(const char *path, const char *suffix)
{
	char p[4200];
	struct stat st;

	snprintf(p, sizeof(p), "%s%s", path, suffix);
	return stat(p, &st) == 0 ? (double)st.st_size / DEALER_BENCH_MIB : 0;
}

int dealer_bench_tmpdir(char *out, size_t cap, const char *name)
{
	const char *t = getenv("TMPDIR");

	snprintf(out, cap, "%s/%s.XXXXXX", t && *t ? t : "/tmp", name);
	if (!mkdtemp(out)) {
		fprintf(stderr, "%s: cannot make %s\n", prog, out);
		return -1;
	}
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	return remove(path);
}

void dealer_bench_rm_tree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

uint64_t dealer_bench_mix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

int dealer_bench_repo_open(struct dealer_bench_repo *r, const char *dir,
			   const struct devnet_util_proc *net)
{
	struct wallet *w;
	int rc;

	memset(r, 0, sizeof(*r));
	snprintf(r->dir, sizeof(r->dir), "%s", dir);
	snprintf(r->db, sizeof(r->db), "%s/index.db", dir);
	if (mkdir(dir, 0700) < 0 || bstore_open(&r->bs, dir, NULL) < 0)
		return dealer_bench_fail("the repository");
	if (wallet_open(&w, dir) < 0)
		return dealer_bench_fail("the wallet");
	if ((rc = wallet_new(&r->client, w)) == 0 &&
	    (rc = wallet_set_default(w, &r->client)) == 0)
		rc = wallet_sign(&r->sig, w, &r->client, "estuaryfs", 9);
	wallet_close(w);
	if (rc < 0)
		return dealer_bench_fail("the wallet key");
	if (devnet_util_faucet(net, &r->client, "1000000000000000000000") <
		    0 ||
	    devnet_util_datacap(net, &r->client, "1099511627776") < 0)
		return -1;
	return 0;
}

void dealer_bench_repo_close(struct dealer_bench_repo *r)
{
	bstore_close(r->bs);
	r->bs = NULL;
}

void dealer_bench_config(struct dealer_config *c)
{
	config_defaults(c);
	c->devnet = false;
	c->aggregate_below = 128;
	bigint_from_u64(&c->max_verified_price, 100000000);
}
