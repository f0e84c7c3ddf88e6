/*
 * clock.h - the few time questions the daemon's threads ask: monotonic
 * seconds for ages and idle times, wall-clock nanoseconds for stored
 * times, and absolute deadlines for pthread_cond_timedwait.
 *
 * All functions are reentrant.
 */
#ifndef EFS_CLOCK_H
#define EFS_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in whole seconds, never 0 (0 can then mean "never"). */
int64_t efs_clock_mono_sec(void);

/* CLOCK_MONOTONIC in seconds, with the fraction (for rates). */
double efs_clock_mono(void);

/* CLOCK_REALTIME in nanoseconds since 1970 (times stored in indexes). */
int64_t efs_clock_real_ns(void);

/*
 * Format wall-clock ns (as efs_clock_real_ns gives) in UTC with
 * strftime's fmt into out[0..cap): "%Y-%m-%dT%H:%M:%SZ".  Returns the
 * length (0 when it does not fit; out is then "").
 */
size_t efs_clock_format(char *out, size_t cap, int64_t ns, const char *fmt);

/* Whether a is earlier than b. */
bool efs_clock_before(const struct timespec *a, const struct timespec *b);

/* Move t on by ms milliseconds. */
void efs_clock_add_ms(struct timespec *t, uint64_t ms);

/*
 * The absolute time ms milliseconds from now on clock clk, for a timed
 * wait on a condition variable using that clock (CLOCK_REALTIME unless
 * the condattr says otherwise).
 */
void efs_clock_deadline(struct timespec *out, clockid_t clk, uint64_t ms);

#endif
