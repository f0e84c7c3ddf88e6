/*
 * lathist.h - a latency histogram with fixed buckets, for the daemon's
 * /metrics: cheap enough to record every FUSE operation and every
 * retrieval (two relaxed atomic additions, no lock), read at any time as
 * Prometheus wants it (cumulative buckets, a count and a sum).
 *
 * The bucket bounds are the same for every histogram, from 10 us (a
 * FUSE getattr) to 60 s (a retrieval's deadline), about 2.5x apart:
 *
 *	10us 25us 50us 100us 250us 500us 1ms 2.5ms 5ms 10ms 25ms 50ms
 *	100ms 250ms 500ms 1s 2.5s 5s 10s 30s 60s, then +Inf
 *
 *	static struct lathist h;                 // zeroed: empty
 *	int64_t t0 = lathist_now_ns();
 *	...
 *	lathist_record(&h, lathist_now_ns() - t0);
 *	struct lathist_snap s;
 *	lathist_read(&s, &h);                    // s.bucket[i]: <= bound i
 *
 * Threads: lathist_record and lathist_read may run from any threads at
 * once, with no lock.  A read racing records may see a sum and buckets
 * from slightly different moments (each counter is exact on its own,
 * and a snapshot's count is the sum of its buckets, so the cumulative
 * series never decreases across bounds); Prometheus tolerates that.
 */
#ifndef EFS_LATHIST_H
#define EFS_LATHIST_H

#include <stdatomic.h>
#include <stdint.h>

/* Finite bounds; the snapshot has one more bucket, +Inf. */
#define LATHIST_NBOUNDS 21
#define LATHIST_NBUCKETS (LATHIST_NBOUNDS + 1)

/* A histogram.  All zero (static storage, or memset/calloc) is empty. */
struct lathist {
	atomic_uint_fast64_t bucket[LATHIST_NBUCKETS]; /* not cumulative */
	atomic_uint_fast64_t sum_ns;
};

/* A histogram as read: cumulative, as Prometheus' _bucket series. */
struct lathist_snap {
	uint64_t bucket[LATHIST_NBUCKETS]; /* observations <= bound i; the
					      last (+Inf) is count */
	uint64_t count;
	uint64_t sum_ns;
};

/* Bound i (i < LATHIST_NBOUNDS) in nanoseconds. */
uint64_t lathist_bound_ns(unsigned i);

/*
 * Bound i as Prometheus' le label value, in seconds ("0.00001",
 * "2.5", "60"); i == LATHIST_NBOUNDS gives "+Inf".  A static string.
 */
const char *lathist_bound_label(unsigned i);

/* CLOCK_MONOTONIC in nanoseconds (what to subtract for a duration). */
int64_t lathist_now_ns(void);

/* Record one observation of ns nanoseconds (negative counts as 0). */
void lathist_record(struct lathist *h, int64_t ns);

/* Read h into out (cumulative buckets). */
void lathist_read(struct lathist_snap *out, const struct lathist *h);

#endif
