/*
 * log.c - line-atomic leveled logging (see log.h).
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "core/banned.h"

static enum efs_log_level threshold = EFS_LOG_NOTICE;
static int log_fd = 2;

void efs_log_setup(enum efs_log_level level, int fd)
{
	threshold = level;
	log_fd = fd;
}

enum efs_log_level efs_log_level(void)
{
	return threshold;
}

static const char *level_name(enum efs_log_level level)
{
	switch (level) {
	case EFS_LOG_ERR:
		return "error";
	case EFS_LOG_WARN:
		return "warn";
	case EFS_LOG_NOTICE:
		return "notice";
	case EFS_LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

/*
 * The length after an snprintf that returned r at offset n of a size-byte
 * line: r counts what did not fit too, and the last byte of the line is
 * kept for the newline.
 */
static size_t clamp(size_t n, int r, size_t size)
{
	if (r > 0)
		n += (size_t)r;
	return n < size - 1 ? n : size - 1;
}

void efs_log_write(enum efs_log_level level, const char *topic,
		   const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	size_t n;
	int r;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	r = snprintf(line + n, sizeof(line) - n, ".%03ldZ %s %s: ",
		     ts.tv_nsec / 1000000, level_name(level), topic);
	n = clamp(n, r, sizeof(line));
	va_start(ap, fmt);
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	n = clamp(n, r, sizeof(line));
	line[n++] = '\n';
	if (write(log_fd, line, n) < 0) {
		/* Nowhere left to report a failed log write. */
	}
}
