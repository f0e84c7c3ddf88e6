/*
 * buf.h - a growable byte buffer with a size cap (curl's dynbuf, git's
 * strbuf).
 *
 * Invariants: len <= asize; when ptr is not NULL, ptr[len] == '\0' (so a
 * buffer of text is a C string); len never exceeds max, the cap set at
 * init, so a buffer filled from outside cannot grow without bound.
 * A struct buf is owned by one thread.
 */
#ifndef EFS_BUF_H
#define EFS_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *ptr;  /* NULL until the first byte is added */
	size_t len;    /* bytes in use */
	size_t asize;  /* bytes allocated */
	size_t max;    /* cap on len */
};

#define BUF_INIT(cap) { NULL, 0, 0, (cap) }

/* A cap for buffers whose size the program itself controls. */
#define BUF_NOCAP SIZE_MAX

void buf_init(struct buf *b, size_t max);

/* Free the bytes; b is left empty and may be reused. */
void buf_release(struct buf *b);

/* Forget the contents, keeping the allocation. */
void buf_reset(struct buf *b);

/*
 * Make room for extra more bytes.  Returns 0, EFS_ETOOBIG (past the cap)
 * or EFS_ENOMEM.  On failure b is unchanged.
 */
int buf_grow(struct buf *b, size_t extra);

/*
 * Append n bytes; errors as buf_grow.  p (and buf_printf's arguments) must
 * not point into b itself: growing may move its bytes.
 */
int buf_add(struct buf *b, const void *p, size_t n);
int buf_addch(struct buf *b, uint8_t c);
int buf_adds(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Set len to n <= len (truncate). */
void buf_truncate(struct buf *b, size_t n);

/*
 * Take the bytes: returns ptr (caller frees with efs_free; may be NULL
 * for an empty buffer) and leaves b empty.
 */
uint8_t *buf_detach(struct buf *b, size_t *len_out);

/*
 * Append the len bytes at p, an efs_malloc'd block of asize bytes that is
 * given to b (and freed, whatever happens, if b does not keep it).  When
 * b is empty, len < asize (room for the NUL) and len is within the cap,
 * p becomes b's storage without a copy; otherwise the bytes are added as
 * by buf_add and p is freed.  Returns 0 or buf_add's errors.
 */
int buf_attach(struct buf *b, uint8_t *p, size_t len, size_t asize);

#endif
