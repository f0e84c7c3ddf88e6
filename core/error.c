/*
 * error.c - thread-local last error (see error.h).
 *
 * The message buffer is fixed-size and per thread, so setting an error
 * never allocates and cannot fail: it is safe on the out-of-memory path.
 * A new message is formatted into a local buffer first, because callers
 * may wrap the previous one: efs_error_set(e, "car: %s", efs_error_msg()).
 */
#include "core/error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/banned.h"

static _Thread_local struct efs_error_state last;

static void format_msg(const char *fmt, va_list ap)
{
	char msg[sizeof(last.msg)];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	memcpy(last.msg, msg, sizeof(msg));
}

int (efs_error_set)(int code, const char *fmt, ...)
{
	va_list ap;

	last.code = code;
	va_start(ap, fmt);
	format_msg(fmt, ap);
	va_end(ap);
	return code;
}

int efs_error_set_errno(int code, int errnum, const char *fmt, ...)
{
	char ebuf[128];
	const char *why = strerror_r(errnum, ebuf, sizeof(ebuf));
	size_t n;
	va_list ap;

	if (errnum == ENOSPC || errnum == EDQUOT)
		code = EFS_ENOSPC;
	last.code = code;
	va_start(ap, fmt);
	format_msg(fmt, ap);
	va_end(ap);
	n = strlen(last.msg);
	snprintf(last.msg + n, sizeof(last.msg) - n, ": %s", why);
	return code;
}

const char *efs_error_msg(void)
{
	return last.msg;
}

int efs_error_code(void)
{
	return last.code;
}

const char *efs_error_name(int code)
{
	static const char *const names[] = {
		"OK", "ERROR", "ENOMEM", "ENOTFOUND", "EEXISTS", "EINVAL",
		"ECORRUPT", "EMISMATCH", "EIO", "EEVICTED", "ETIMEDOUT",
		"ECANCELED", "ENOSPC", "EUNSUPPORTED", "ETOOBIG", "ITEROVER",
		"ERANGE",
	};

	if (code > 0 || code <= -(int)(sizeof(names) / sizeof(names[0])))
		return "EUNKNOWN";
	return names[-code];
}

void efs_error_clear(void)
{
	last.code = 0;
	last.msg[0] = '\0';
}

void efs_error_save(struct efs_error_state *out)
{
	*out = last;
}

int efs_error_restore(const struct efs_error_state *st)
{
	last = *st;
	return st->code;
}
