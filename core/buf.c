/*
 * buf.c - growable capped byte buffer (see buf.h).
 */
#include "core/buf.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

#include "core/banned.h"

void buf_init(struct buf *b, size_t max)
{
	b->ptr = NULL;
	b->len = 0;
	b->asize = 0;
	b->max = max;
}

void buf_release(struct buf *b)
{
	efs_free(b->ptr);
	b->ptr = NULL;
	b->len = 0;
	b->asize = 0;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

int buf_grow(struct buf *b, size_t extra)
{
	size_t need;
	size_t nsize;
	uint8_t *p;

	/* The last test keeps room for the NUL under BUF_NOCAP. */
	if (extra > b->max || b->len > b->max - extra ||
	    b->len + extra == SIZE_MAX)
		return efs_error_set(EFS_ETOOBIG,
				     "buffer over its %zu-byte cap", b->max);
	need = b->len + extra + 1;
	if (need <= b->asize)
		return 0;
	nsize = b->asize ? b->asize : 64;
	while (nsize < need)
		nsize = nsize > SIZE_MAX / 2 ? need : nsize * 2;
	p = efs_realloc(b->ptr, nsize);
	if (!p)
		return efs_error_set(EFS_ENOMEM, "out of memory (%zu bytes)",
				     nsize);
	b->ptr = p;
	b->asize = nsize;
	b->ptr[b->len] = '\0';
	return 0;
}

int buf_add(struct buf *b, const void *p, size_t n)
{
	int error = buf_grow(b, n);

	if (error < 0)
		return error;
	if (n)
		memcpy(b->ptr + b->len, p, n);
	b->len += n;
	b->ptr[b->len] = '\0';
	return 0;
}

int buf_addch(struct buf *b, uint8_t c)
{
	return buf_add(b, &c, 1);
}

int buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	int error;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return efs_error_set(EFS_EINVAL, "bad format string");
	if ((error = buf_grow(b, (size_t)n)) < 0)
		return error;
	va_start(ap, fmt);
	vsnprintf((char *)b->ptr + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void buf_truncate(struct buf *b, size_t n)
{
	if (n < b->len) {
		b->len = n;
		b->ptr[n] = '\0';
	}
}

int buf_attach(struct buf *b, uint8_t *p, size_t len, size_t asize)
{
	int error = 0;

	if (b->len == 0 && len < asize && len <= b->max) {
		efs_free(b->ptr);
		b->ptr = p;
		b->len = len;
		b->asize = asize;
		b->ptr[len] = '\0';
		return 0;
	}
	error = buf_add(b, p, len);
	efs_free(p);
	return error;
}

uint8_t *buf_detach(struct buf *b, size_t *len_out)
{
	uint8_t *p = b->ptr;

	if (len_out)
		*len_out = b->len;
	b->ptr = NULL;
	b->len = 0;
	b->asize = 0;
	return p;
}
