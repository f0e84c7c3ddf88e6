/*
 * lathist.c - fixed-bucket latency histograms (see lathist.h).
 *
 * Design notes:
 * - A record is two relaxed atomic additions (its bucket and the sum):
 *   the count is not kept apart but read as the sum of the buckets, so a
 *   snapshot's +Inf bucket always equals its count.  No ordering between
 *   counters is needed: each is a statistic, not a guard for other data.
 * - Buckets are kept per range (not cumulative) so a record touches one
 *   of them; lathist_read accumulates.
 * - The bucket is found by a linear scan of 21 bounds: most observations
 *   fall in the first few (FUSE operations take microseconds), and the
 *   scan is a few nanoseconds beside the two clock reads around it.
 */
#include "core/lathist.h"

#include <stddef.h>
#include <time.h>

#include "core/banned.h"

#define US 1000ull
#define MS 1000000ull
#define S 1000000000ull

static const uint64_t bounds[LATHIST_NBOUNDS] = {
	10 * US, 25 * US, 50 * US, 100 * US, 250 * US, 500 * US,
	1 * MS, 5 * MS / 2, 5 * MS, 10 * MS, 25 * MS, 50 * MS,
	100 * MS, 250 * MS, 500 * MS,
	1 * S, 5 * S / 2, 5 * S, 10 * S, 30 * S, 60 * S,
};

/* The same in seconds, as Prometheus' le labels (and +Inf). */
static const char *const labels[LATHIST_NBUCKETS] = {
	"0.00001", "0.000025", "0.00005", "0.0001", "0.00025", "0.0005",
	"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
	"0.1", "0.25", "0.5",
	"1", "2.5", "5", "10", "30", "60", "+Inf",
};

uint64_t lathist_bound_ns(unsigned i)
{
	return i < LATHIST_NBOUNDS ? bounds[i] : UINT64_MAX;
}

const char *lathist_bound_label(unsigned i)
{
	return i < LATHIST_NBUCKETS ? labels[i] : labels[LATHIST_NBOUNDS];
}

int64_t lathist_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void lathist_record(struct lathist *h, int64_t ns)
{
	uint64_t v = ns > 0 ? (uint64_t)ns : 0;
	unsigned i = 0;

	while (i < LATHIST_NBOUNDS && v > bounds[i])
		i++;
	atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_ns, v, memory_order_relaxed);
}

void lathist_read(struct lathist_snap *out, const struct lathist *h)
{
	uint64_t n = 0;

	for (size_t i = 0; i < LATHIST_NBUCKETS; i++) {
		n += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
		out->bucket[i] = n;
	}
	out->count = n;
	out->sum_ns = atomic_load_explicit(&h->sum_ns, memory_order_relaxed);
}
