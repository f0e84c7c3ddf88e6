/*
 * evict_thread.c - the evictor's thread ("efs-evict"): a pass every
 * interval, or at once when woken (evict.h: evict_start, evict_wake,
 * evict_stop).
 *
 * Design notes:
 * - The waits are on CLOCK_MONOTONIC (a clock step must not stall the
 *   loop), as the dealer's are.
 * - Logging is at the boundary: a pass that evicted something says so
 *   once (notice); one that could not reach the target says why once
 *   per change of its reason, so a cache full of data not yet replicated
 *   does not fill the log every minute.  Errors likewise.
 * - A pass that freed nothing while over the target looked at every
 *   local block for nothing: the next waits twice as long (up to
 *   EVICT_BACKOFF_MAX intervals), until a pass frees something again or
 *   evict_wake asks for one.
 */
#define LOG_TOPIC "evict"

#include "dealer/evict.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "dealer/evict_i.h"

#include "core/banned.h"

/* The longest wait after fruitless passes, in intervals. */
#define EVICT_BACKOFF_MAX 32

/* "1.5 GiB" */
static void human(char *out, size_t cap, uint64_t n)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	snprintf(out, cap, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

/* The main reason a pass fell short of its target, as a log line. */
static void short_line(char *out, size_t cap, const struct evict_result *r)
{
	char loc[32], size[32];
	size_t top = 0;

	for (size_t i = 1; i < EVICT_NREASONS; i++)
		if (r->kept_bytes[i] > r->kept_bytes[top])
			top = i;
	human(loc, sizeof(loc), r->local_after);
	human(size, sizeof(size), r->cache_size);
	snprintf(out, cap, "local blocks %s, over the cache size %s: nothing "
		 "more is safe to evict (most kept: %s)", loc, size,
		 evict_reason_name((enum evict_reason)top));
}

/* A pass, logged; *fruitless when it freed nothing while over the
 * target (or failed). */
static int run_logged(bool *fruitless, struct evict *e)
{
	static _Thread_local char last[256];
	struct evict_result r;
	char line[256], a[32], b[32];
	int rc = evict_run(&r, e);

	*fruitless = rc < 0 || (!r.blocks && r.local_after > r.cache_size);
	if (rc < 0) {
		snprintf(line, sizeof(line), "pass failed: %s",
			 efs_error_msg());
		if (strcmp(line, last) != 0)
			efs_log_warn("%s", line);
		snprintf(last, sizeof(last), "%s", line);
		return rc;
	}
	if (r.blocks) {
		human(a, sizeof(a), r.bytes);
		human(b, sizeof(b), r.local_after);
		efs_log_notice("evicted %" PRIu64 " blocks (%s); local now %s",
			       r.blocks, a, b);
	}
	line[0] = '\0';
	if (r.local_after > r.cache_size)
		short_line(line, sizeof(line), &r);
	if (line[0] && strcmp(line, last) != 0)
		efs_log_notice("%s", line);
	snprintf(last, sizeof(last), "%s", line);
	return 0;
}

static void *loop(void *arg)
{
	struct evict *e = arg;
	struct timespec until;
	uint64_t backoff = 1;
	bool fruitless;

	pthread_mutex_lock(&e->mu);
	while (!e->stop) {
		if (e->wake)
			backoff = 1;
		e->wake = false;
		pthread_mutex_unlock(&e->mu);
		if (run_logged(&fruitless, e) < 0)
			efs_error_clear();
		backoff = !fruitless ? 1
			  : backoff * 2 > EVICT_BACKOFF_MAX ? EVICT_BACKOFF_MAX
			  : backoff * 2;
		pthread_mutex_lock(&e->mu);
		efs_clock_deadline(&until, CLOCK_MONOTONIC,
				   (uint64_t)e->interval_s * 1000 * backoff);
		while (!e->stop && !e->wake &&
		       pthread_cond_timedwait(&e->cond, &e->mu, &until) == 0)
			;
	}
	pthread_mutex_unlock(&e->mu);
	return NULL;
}

int evict_start(struct evict *e, int64_t interval_s)
{
	pthread_condattr_t ca;
	int err;

	pthread_mutex_lock(&e->mu);
	if (e->running || interval_s < 1) {
		pthread_mutex_unlock(&e->mu);
		return efs_error_set(EFS_EINVAL, "evict: already running, or "
				     "an interval under a second");
	}
	e->interval_s = interval_s;
	e->stop = e->wake = false;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_destroy(&e->cond);
	pthread_cond_init(&e->cond, &ca);
	pthread_condattr_destroy(&ca);
	err = pthread_create(&e->thread, NULL, loop, e);
	e->running = err == 0;
	pthread_mutex_unlock(&e->mu);
	if (err)
		return efs_error_set_errno(EFS_ERROR, err,
					   "evict: cannot start its thread");
	pthread_setname_np(e->thread, "efs-evict");
	return 0;
}

void evict_wake(struct evict *e)
{
	pthread_mutex_lock(&e->mu);
	e->wake = true;
	pthread_cond_signal(&e->cond);
	pthread_mutex_unlock(&e->mu);
}

void evict_stop(struct evict *e)
{
	bool running;

	pthread_mutex_lock(&e->mu);
	running = e->running;
	e->stop = true;
	e->running = false;
	pthread_cond_signal(&e->cond);
	pthread_mutex_unlock(&e->mu);
	if (running)
		pthread_join(e->thread, NULL);
}
