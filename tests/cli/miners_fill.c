/*
 * miners_fill.c - writes a fixed picture of four storage providers into
 * a repository's index.db through dealer/miners.h, for test_miners.sh:
 *
 *	f01000  ask 0.00000003 FIL (verified 0), 1 MiB to 32 GiB; 4 deals
 *	        proposed, 3 sealed (1, 2 and 3 h), 1 rejected; 2 of 3
 *	        retrievals ok (64 MiB in 2 s each); reachable: state ok
 *	f01001  ask, then 3 timeouts just now: backed off
 *	f01002  ask; disabled: "too slow"
 *	f01003  known from the chain only: no url, no ask
 *
 * and a garbage answer in f01000's log, and bandwidth on two days for
 * commits 0 and 7.  Times are relative to the real clock, as the CLI
 * compares backoff with it.
 *
 *	usage: miners_fill INDEX_DB
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "dealer/miners.h"

#define SEC MINERS_NS_PER_SEC
#define GIB (1024ull * 1024 * 1024)

static struct filaddr sp(int i)
{
	struct filaddr a;

	filaddr_init_id(&a, 1000 + (uint64_t)i);
	return a;
}

static int add(struct miners *m, int i, bool with_ask, int64_t now)
{
	struct miner_info info = { .addr = sp(i), .url = "http://sp.example",
				   .peer_id = "12D3KooWfill",
				   .sector_size = 32 * GIB };
	struct miner_ask ask = { .min_piece = 1 << 20,
				 .max_piece = 32 * GIB };
	int rc;

	if (!with_ask)
		info.url = info.peer_id = NULL;
	bigint_from_u64(&ask.price, 30000000000ull);
	if ((rc = miners_upsert(m, &info, now - 86400 * SEC)) < 0 || !with_ask)
		return rc;
	return miners_set_ask(m, &info.addr, &ask, now - 60 * SEC);
}

static int ev(struct miners *m, int i, enum miners_action a,
	      enum miners_outcome o, int64_t t, uint64_t down,
	      const char *detail, size_t detail_len)
{
	struct miner_event e = { .addr = sp(i), .time_ns = t, .action = a,
				 .outcome = o, .latency_us = 2000000,
				 .bytes_down = down, .detail = detail,
				 .detail_len = detail_len };

	return miners_log(m, &e);
}

static int history(struct miners *m, int64_t now)
{
	static const char junk[] = "\x01\x02not cbor\xff";
	int64_t t = now - 7200 * SEC;
	int rc = 0;

	for (int k = 0; k < 3 && rc == 0; k++) {
		struct miner_deal_fate f = {
			.addr = sp(0), .fate = MINERS_FATE_SEALED,
			.seal_seconds = 3600 * (k + 1), .time_ns = t + 2,
			.has_deal_uuid = true,
			.piece_cid = "baga6ea4seaqfill",
		};

		memset(f.deal_uuid, 0xab, sizeof(f.deal_uuid));
		if ((rc = ev(m, 0, MINERS_ACT_PROPOSE, MINERS_OUT_OK, t + 1, 0,
			     "accepted", 0)) == 0)
			rc = miners_deal_outcome(m, &f);
		t += 10;
	}
	if (rc == 0)
		rc = ev(m, 0, MINERS_ACT_PROPOSE, MINERS_OUT_REJECTED, t++, 0,
			"deal rejected: price too low", 0);
	for (int k = 0; k < 3 && rc == 0; k++)
		rc = ev(m, 0, MINERS_ACT_RETRIEVE, k ? MINERS_OUT_OK
			: MINERS_OUT_TIMEOUT, t++, 64 << 20, NULL, 0);
	if (rc == 0)
		rc = ev(m, 0, MINERS_ACT_STATUS, MINERS_OUT_GARBAGE, t++, 0,
			junk, sizeof(junk) - 1);
	if (rc == 0)
		rc = ev(m, 0, MINERS_ACT_ASK, MINERS_OUT_OK, t++, 300, NULL, 0);
	for (int k = 0; k < 3 && rc == 0; k++)
		rc = ev(m, 1, MINERS_ACT_ASK, MINERS_OUT_TIMEOUT, now - 10 + k,
			0, "no answer in 10 s", 0);
	return rc;
}

static int bandwidth(struct miners *m, int64_t now)
{
	struct filaddr a0 = sp(0), a1 = sp(1);
	int rc;

	if ((rc = miners_bandwidth_add(m, &a0, 7, 3 * GIB, 0,
				       now - 86400 * SEC)) < 0 ||
	    (rc = miners_bandwidth_add(m, &a0, 7, GIB, 192 << 20, now)) < 0 ||
	    (rc = miners_bandwidth_add(m, &a1, 0, 1 << 20, 0, now)) < 0)
		return rc;
	return 0;
}

int main(int argc, char **argv)
{
	struct miners_opts opts = MINERS_OPTS_INIT;
	struct filaddr a2 = sp(2);
	struct miners *m;
	struct timespec ts;
	int64_t now;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: miners_fill INDEX_DB\n");
		return 2;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
	opts.seed = 1;
	if ((rc = miners_open(&m, argv[1], &opts)) < 0) {
		fprintf(stderr, "miners_fill: %s\n", efs_error_msg());
		return 1;
	}
	for (int i = 0; i < 4 && rc == 0; i++)
		rc = add(m, i, i < 3, now);
	if (rc == 0 && (rc = history(m, now)) == 0 &&
	    (rc = miners_set_disabled(m, &a2, true, "too slow")) == 0)
		rc = bandwidth(m, now);
	if (rc < 0)
		fprintf(stderr, "miners_fill: %s\n", efs_error_msg());
	miners_close(m);
	return rc < 0;
}
