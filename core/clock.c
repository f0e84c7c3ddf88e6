/*
 * clock.c - monotonic time and wait deadlines (see clock.h).
 */
#include "core/clock.h"

#include "core/banned.h"

int64_t efs_clock_mono_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec > 0 ? ts.tv_sec : 1;
}

int64_t efs_clock_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

size_t efs_clock_format(char *out, size_t cap, int64_t ns, const char *fmt)
{
	time_t secs = (time_t)(ns / 1000000000);
	struct tm tm;
	size_t n = 0;

	if (gmtime_r(&secs, &tm) && cap)
		n = strftime(out, cap, fmt, &tm);
	if (!n && cap)
		out[0] = '\0';
	return n;
}

double efs_clock_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool efs_clock_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

void efs_clock_add_ms(struct timespec *t, uint64_t ms)
{
	t->tv_sec += (time_t)(ms / 1000);
	t->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

void efs_clock_deadline(struct timespec *out, clockid_t clk, uint64_t ms)
{
	clock_gettime(clk, out);
	efs_clock_add_ms(out, ms);
}
