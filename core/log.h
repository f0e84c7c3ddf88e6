/*
 * log.h - leveled logging, one write(2) per line so threads never
 * interleave.  Each .c file that logs defines LOG_TOPIC before including
 * this header.  The level is checked before any formatting (Redis).
 *
 * Format: "2026-11-21T08:43:26.123Z level topic: message\n".
 * Library code returns errors instead of logging them; log at boundaries.
 */
#ifndef EFS_LOG_H
#define EFS_LOG_H

enum efs_log_level {
	EFS_LOG_ERR = 3,
	EFS_LOG_WARN = 4,
	EFS_LOG_NOTICE = 5,
	EFS_LOG_INFO = 6,
	EFS_LOG_DEBUG = 7,
};

/* Threshold and destination (an fd, default 2).  Not thread-safe: call
 * at startup. */
void efs_log_setup(enum efs_log_level level, int fd);

/* The current threshold. */
enum efs_log_level efs_log_level(void);

void efs_log_write(enum efs_log_level level, const char *topic,
		   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#ifndef LOG_TOPIC
#define LOG_TOPIC "efs"
#endif

#define EFS_LOG_AT(lvl, ...)                                       \
	do {                                                       \
		if ((lvl) <= efs_log_level())                      \
			efs_log_write((lvl), LOG_TOPIC, __VA_ARGS__); \
	} while (0)

#define efs_log_err(...) EFS_LOG_AT(EFS_LOG_ERR, __VA_ARGS__)
#define efs_log_warn(...) EFS_LOG_AT(EFS_LOG_WARN, __VA_ARGS__)
#define efs_log_notice(...) EFS_LOG_AT(EFS_LOG_NOTICE, __VA_ARGS__)
#define efs_log_info(...) EFS_LOG_AT(EFS_LOG_INFO, __VA_ARGS__)
#define efs_log_debug(...) EFS_LOG_AT(EFS_LOG_DEBUG, __VA_ARGS__)

#endif
