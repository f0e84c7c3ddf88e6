/*
 * fsops_data.c - the data operations of the mount (fs_i.h): open, create's
 * file handle, read, write, flush, fsync, release, truncate, fallocate,
 * copy_file_range and lseek, over one struct fileio per open inode.
 *
 * Design notes:
 * - Open files: a table of struct ofile by inode number, each holding the
 *   inode's fileio and the count of handles open on it; fi->fh points at
 *   the ofile, so every descriptor of an inode shares its staged writes.
 *   The last release flushes what a failed flush left (its error can only
 *   be logged: flush and fsync are where errors are reported, R1) and
 *   frees the fileio.  An open racing that release reuses the ofile, so a
 *   reopen never reads the inode's content before the final flush lands.
 * - Flush and fsync run fileio_flush with a commit callback that points
 *   the inode at the new root (inode_set_content, synchronous=FULL): when
 *   they return, the data and the index row are durable (invariant 1).
 *   fsync of a clean file still syncs the index (a chmod before it).
 * - Writes and truncations tell the inode table the new size and times
 *   (inode_note_write), so getattr shows them before the flush (R9).
 * - Truncate by path with no handle open stages, flushes and drops at
 *   once.  The kernel's page cache stays valid across opens (keep_cache):
 *   every change to a file's bytes comes through this mount.
 * - A writeback thread ("efs-wb") flushes files left dirty for
 *   FSDATA_WB_AGE seconds, so sealed chunks of files held open do not
 *   wait unreferenced in the blockstore (gc grace) and a crash loses at
 *   most that much of what was written and not yet flushed.
 * - Reads of cached chunks are replied from the read cache in place
 *   (fileio_read_iov), others through a per-thread buffer (a pthread
 *   key, grown to the largest request seen: max_read, 1 MiB).  Writes
 *   are taken from libfuse's buffer where they are.  A read holds its
 *   ofile until it returns: the reply can complete the last async read
 *   of a closed file, and the kernel then sends RELEASE at once.
 */
#define LOG_TOPIC "data"

#include "fs/fs_i.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "fs/errmap.h"
#include "fs/fileio.h"
#include "fs/staging.h"

#include "core/banned.h"

/* Bytes one copy_file_range copies at most. */
#define FSDATA_COPY_MAX (64u << 20)
/* Piece size of copies and zeroing. */
#define FSDATA_IO_MAX (1u << 20)

struct ofile {
	uint64_t ino;
	struct fileio *f;
	unsigned nopen;	    /* handles, plus transient users; lock */
	struct ofile *next; /* hash chain; lock */
};

struct fsdata {
	struct efs_fs *fs;
	struct staging *st;
	pthread_key_t bufkey; /* per-thread struct iobuf */
	pthread_mutex_t lock;
	pthread_cond_t wb_cond; /* wakes the writeback thread to stop */
	struct ofile **tab;	/* lock */
	size_t cap, n;		/* lock */
	bool stop;		/* lock */
	pthread_t wb;
	bool wb_started;
};

struct iobuf {
	uint8_t *p;
	size_t cap;
};

/* ---- per-thread buffers ------------------------------------------------- */

static void iobuf_free(void *arg)
{
	struct iobuf *b = arg;

	efs_free(b->p);
	efs_free(b);
}

/* This thread's buffer of at least n bytes, or NULL. */
static uint8_t *iobuf_get(struct fsdata *d, size_t n)
{
	struct iobuf *b = pthread_getspecific(d->bufkey);
	uint8_t *p;

	if (!b) {
		if (!(b = efs_calloc(1, sizeof(*b))))
			return NULL;
		if (pthread_setspecific(d->bufkey, b) != 0) {
			efs_free(b);
			return NULL;
		}
	}
	if (b->cap >= n)
		return b->p;
	if (!(p = efs_realloc(b->p, n ? n : 1)))
		return NULL;
	b->p = p;
	b->cap = n;
	return p;
}

/* ---- the open-file table ------------------------------------------------ */

static size_t bucket(const struct fsdata *d, uint64_t ino)
{
	return (size_t)((ino * 0x9e3779b97f4a7c15ull) >> 20) & (d->cap - 1);
}

static struct ofile *table_find(struct fsdata *d, uint64_t ino)
{
	struct ofile *o = d->tab[bucket(d, ino)];

	while (o && o->ino != ino)
		o = o->next;
	return o;
}

/* Insert o (under the lock), growing the table past one entry a bucket. */
static void table_insert(struct fsdata *d, struct ofile *o)
{
	if (d->n >= d->cap) {
		size_t cap = d->cap * 2;
		struct ofile **tab = efs_calloc(cap, sizeof(*tab));

		if (tab) {
			struct ofile **old = d->tab;
			size_t ocap = d->cap;

			d->tab = tab;
			d->cap = cap;
			for (size_t i = 0; i < ocap; i++) {
				while (old[i]) {
					struct ofile *e = old[i];
					size_t b = bucket(d, e->ino);

					old[i] = e->next;
					e->next = tab[b];
					tab[b] = e;
				}
			}
			efs_free(old);
		}
		/* else: longer chains, still correct */
	}
	o->next = d->tab[bucket(d, o->ino)];
	d->tab[bucket(d, o->ino)] = o;
	d->n++;
}

static void table_remove(struct fsdata *d, struct ofile *o)
{
	struct ofile **pp = &d->tab[bucket(d, o->ino)];

	while (*pp != o)
		pp = &(*pp)->next;
	*pp = o->next;
	d->n--;
}

/* A new fileio for ino from its flushed content (fresh: a file just
 * created, known to be empty). */
static int ofile_load(struct ofile **out, struct efs_fs *fs, uint64_t ino,
		      bool fresh)
{
	struct inode_content c = {0};
	struct ofile *o;
	int error;

	if (!fresh && (error = inode_get_content(&c, fs->itab, ino)) < 0)
		return error;
	if (!(o = efs_calloc(1, sizeof(*o))))
		return efs_error_set(EFS_ENOMEM, "data: out of memory");
	o->ino = ino;
	error = fileio_new(&o->f, fs->data->st, c.has_root ? &c.root : NULL,
			   c.size);
	if (error < 0) {
		efs_free(o);
		return error;
	}
	*out = o;
	return 0;
}

/* The ofile of ino with one more user, made when none is open. */
static int ofile_get(struct ofile **out, struct efs_fs *fs, uint64_t ino,
		     bool fresh)
{
	struct fsdata *d = fs->data;
	struct ofile *o, *made = NULL;
	int error;

	pthread_mutex_lock(&d->lock);
	o = table_find(d, ino);
	if (o)
		o->nopen++;
	pthread_mutex_unlock(&d->lock);
	if (o) {
		*out = o;
		return 0;
	}
	if ((error = ofile_load(&made, fs, ino, fresh)) < 0)
		return error;
	pthread_mutex_lock(&d->lock);
	/* another open may have made it meanwhile */
	if (!(o = table_find(d, ino))) {
		o = made;
		made = NULL;
		table_insert(d, o);
	}
	o->nopen++;
	pthread_mutex_unlock(&d->lock);
	if (made) {
		fileio_free(made->f);
		efs_free(made);
	}
	*out = o;
	return 0;
}

struct commit_ctx {
	struct efs_fs *fs;
	uint64_t ino;
};

static int commit_cb(const struct cid *root, uint64_t size, uint64_t tsize,
		     void *payload)
{
	struct commit_ctx *c = payload;

	return inode_set_content(c->fs->itab, c->ino, root, size, tsize);
}

static int ofile_flush(struct efs_fs *fs, struct ofile *o)
{
	struct commit_ctx c = {fs, o->ino};

	return fileio_flush(o->f, commit_cb, &c);
}

/* Is ino still linked somewhere (worth flushing at the last close)? */
static bool linked(struct efs_fs *fs, uint64_t ino)
{
	struct inode_attr a;

	return inode_getattr(&a, fs->itab, ino) == 0 && a.nlink > 0;
}

/*
 * Drop one user of o.  The last one flushes what is still staged (errors
 * logged: flush and fsync reported them already) and frees it, unless
 * someone opened it meanwhile.  Returns the final flush's error.
 */
static int ofile_put(struct efs_fs *fs, struct ofile *o)
{
	struct fsdata *d = fs->data;
	int error = 0;
	bool last;

	pthread_mutex_lock(&d->lock);
	last = --o->nopen == 0;
	pthread_mutex_unlock(&d->lock);
	if (!last)
		return 0;
	if (fileio_dirty(o->f) && linked(fs, o->ino) &&
	    (error = ofile_flush(fs, o)) < 0)
		efs_log_err("inode %llu: last flush: %s",
			    (unsigned long long)o->ino, efs_error_msg());
	pthread_mutex_lock(&d->lock);
	last = o->nopen == 0;
	if (last)
		table_remove(d, o);
	pthread_mutex_unlock(&d->lock);
	if (!last)
		return error;
	if (fileio_dirty(o->f))
		inode_pending_discard(fs->itab, o->ino);
	fileio_free(o->f);
	efs_free(o);
	return error;
}

/* One more user of o, which the caller holds already. */
static void ofile_hold(struct efs_fs *fs, struct ofile *o)
{
	pthread_mutex_lock(&fs->data->lock);
	o->nopen++;
	pthread_mutex_unlock(&fs->data->lock);
}

static struct ofile *fh_ofile(const struct fuse_file_info *fi)
{
	return (struct ofile *)(uintptr_t)fi->fh;
}

/* ---- writeback ---------------------------------------------------------- */

/* Flush the open files dirty for FSDATA_WB_AGE seconds or more. */
static void writeback_scan(struct efs_fs *fs)
{
	struct fsdata *d = fs->data;
	struct ofile **due = NULL;
	size_t n = 0, cap = 0;
	int64_t limit = efs_clock_mono_sec() - FSDATA_WB_AGE;
	bool nomem = false; /* the rest waits for the next scan */

	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < d->cap && !nomem; i++) {
		for (struct ofile *o = d->tab[i]; o; o = o->next) {
			/* does not wait for the file's lock */
			int64_t since = fileio_dirty_since(o->f);

			if (since == 0 || since > limit)
				continue;
			if (n == cap) {
				size_t ncap = cap ? 2 * cap : 16;
				struct ofile **p =
				    efs_reallocarray(due, ncap, sizeof(*p));

				if ((nomem = !p))
					break;
				due = p;
				cap = ncap;
			}
			o->nopen++;
			due[n++] = o;
		}
	}
	pthread_mutex_unlock(&d->lock);
	for (size_t i = 0; i < n; i++) {
		if (ofile_flush(fs, due[i]) < 0)
			efs_log_warn("inode %llu: writeback: %s",
				     (unsigned long long)due[i]->ino,
				     efs_error_msg());
		ofile_put(fs, due[i]);
	}
	efs_free(due);
}

static void *writeback_main(void *arg)
{
	struct efs_fs *fs = arg;
	struct fsdata *d = fs->data;

	pthread_setname_np(pthread_self(), "efs-wb");
	pthread_mutex_lock(&d->lock);
	while (!d->stop) {
		struct timespec until;

		efs_clock_deadline(&until, CLOCK_REALTIME,
				   FSDATA_WB_PERIOD * 1000ull);
		pthread_cond_timedwait(&d->wb_cond, &d->lock, &until);
		if (d->stop)
			break;
		pthread_mutex_unlock(&d->lock);
		writeback_scan(fs);
		pthread_mutex_lock(&d->lock);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

/* ---- setup -------------------------------------------------------------- */

/* Staged data is not kept across a crash (staging.c): drop leftovers of
 * the tmpfile fallback. */
static void staging_sweep(const char *dir)
{
	DIR *dh = opendir(dir);
	struct dirent *e;

	if (!dh)
		return;
	while ((e = readdir(dh)))
		if (!strncmp(e->d_name, "tmp.", 4))
			unlinkat(dirfd(dh), e->d_name, 0);
	closedir(dh);
}

int fsops_data_init(struct efs_fs *fs)
{
	struct staging_opts so = {.disk_max = fs->opts.staging_max};
	struct fsdata *d;
	int error;

	staging_sweep(fs->staging_dir);
	if (!(d = efs_calloc(1, sizeof(*d))))
		return efs_error_set(EFS_ENOMEM, "data: out of memory");
	d->fs = fs;
	d->cap = 256;
	if (!(d->tab = efs_calloc(d->cap, sizeof(*d->tab)))) {
		efs_free(d);
		return efs_error_set(EFS_ENOMEM, "data: out of memory");
	}
	error = staging_new(&d->st, fs->staging_dir, fs->bs, &fs->iopts, &so);
	if (error < 0) {
		efs_free(d->tab);
		efs_free(d);
		return error;
	}
	pthread_key_create(&d->bufkey, iobuf_free);
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->wb_cond, NULL);
	fs->data = d;
	if (pthread_create(&d->wb, NULL, writeback_main, fs) == 0)
		d->wb_started = true;
	else
		efs_log_warn("no writeback thread: dirty files wait for "
			     "their close");
	return 0;
}

void fsops_data_set_source(struct efs_fs *fs, const struct blockio_source *src)
{
	if (fs->data)
		staging_set_source(fs->data->st, src);
}

struct blockio_source fsops_data_source(struct efs_fs *fs)
{
	return fs->data ? staging_source(fs->data->st) : bstore_source(fs->bs);
}

int fsops_data_destroy(struct efs_fs *fs)
{
	struct fsdata *d = fs->data;
	int error = 0;

	pthread_mutex_lock(&d->lock);
	d->stop = true;
	pthread_cond_broadcast(&d->wb_cond);
	pthread_mutex_unlock(&d->lock);
	if (d->wb_started)
		pthread_join(d->wb, NULL);
	/* files the kernel never released (a lazy unmount) */
	for (size_t i = 0; i < d->cap; i++) {
		while (d->tab[i]) {
			struct ofile *o = d->tab[i];
			int e;

			o->nopen = 1;
			if ((e = ofile_put(fs, o)) < 0 && error == 0)
				error = e;
		}
	}
	staging_free(d->st);
	pthread_key_delete(d->bufkey);
	pthread_cond_destroy(&d->wb_cond);
	pthread_mutex_destroy(&d->lock);
	efs_free(d->tab);
	efs_free(d);
	fs->data = NULL;
	return error;
}

/* ---- open, create, release ---------------------------------------------- */

static void handle_flags(struct fuse_file_info *fi)
{
	/* every change comes through this mount: the cache stays good */
	fi->keep_cache = 1;
}

static int truncate_on_open(struct efs_fs *fs, struct ofile *o,
			    struct fuse_file_info *fi)
{
	int error;

	/* the kernel checked write permission for O_TRUNC */
	if (!(fi->flags & O_TRUNC))
		return 0;
	if ((error = fileio_truncate(o->f, 0)) < 0)
		return error;
	return inode_note_write(fs->itab, o->ino, 0);
}

void fsops_data_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct efs_fs *fs = fs_from_req(req);
	struct ofile *o;
	int error;

	if ((error = ofile_get(&o, fs, ino, false)) < 0) {
		errmap_reply_err(req, error);
		return;
	}
	if ((error = truncate_on_open(fs, o, fi)) < 0) {
		ofile_put(fs, o);
		errmap_reply_err(req, error);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)o;
	handle_flags(fi);
	if (fuse_reply_open(req, fi) != 0)
		ofile_put(fs, o); /* interrupted: no release will come */
}

int fsops_data_create(struct efs_fs *fs, uint64_t ino,
		      struct fuse_file_info *fi)
{
	struct ofile *o;
	int error;

	if ((error = ofile_get(&o, fs, ino, true)) < 0)
		return error;
	fi->fh = (uint64_t)(uintptr_t)o;
	handle_flags(fi);
	return 0;
}

void fsops_data_create_abort(struct efs_fs *fs, struct fuse_file_info *fi)
{
	ofile_put(fs, fh_ofile(fi));
	fi->fh = 0;
}

void fsops_data_release(fuse_req_t req, fuse_ino_t ino,
			struct fuse_file_info *fi)
{
	ofile_put(fs_from_req(req), fh_ofile(fi));
	fuse_reply_err(req, 0);
}

/* ---- read and write ----------------------------------------------------- */

struct read_reply {
	fuse_req_t req;
	bool replied;
};

static int reply_iov(const struct iovec *iov, int n, void *payload)
{
	struct read_reply *r = payload;

	r->replied = true;
	/* a failure means the request is gone (interrupted): nothing to do */
	fuse_reply_iov(r->req, iov, n);
	return 0;
}

void fsops_data_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct efs_fs *fs = fs_from_req(req);
	uint8_t *buf = iobuf_get(fs->data, size);
	struct read_reply r = {req, false};
	struct ofile *o = fh_ofile(fi);
	int error;

	if (!buf) {
		errmap_reply_err(
		    req, efs_error_set(EFS_ENOMEM, "data: out of memory"));
		return;
	}
	/*
	 * Cached chunks go to the kernel from where they are, and are
	 * unpinned after the reply.  Completing an async read can let the
	 * kernel send the file's RELEASE before this returns: hold the file
	 * meanwhile.
	 */
	ofile_hold(fs, o);
	error = fileio_read_iov(o->f, (uint64_t)off, size, buf, reply_iov, &r);
	if (!r.replied)
		errmap_reply_err(req, error);
	ofile_put(fs, o);
}

/* The bytes of bufv in memory: in place when they are, else copied into
 * this thread's buffer.  Returns 0 or an error. */
static int write_source(const uint8_t **out, size_t *len, struct fsdata *d,
			struct fuse_bufvec *bufv)
{
	size_t size = fuse_buf_size(bufv);
	struct fuse_bufvec dst = FUSE_BUFVEC_INIT(size);
	const struct fuse_buf *b = &bufv->buf[bufv->idx];
	ssize_t got;

	if (bufv->count - bufv->idx == 1 && !(b->flags & FUSE_BUF_IS_FD)) {
		*out = (const uint8_t *)b->mem + bufv->off;
		*len = b->size - bufv->off;
		return 0;
	}
	if (!(dst.buf[0].mem = iobuf_get(d, size)))
		return efs_error_set(EFS_ENOMEM, "data: out of memory");
	got = fuse_buf_copy(&dst, bufv, 0);
	if (got < 0)
		return efs_error_set_errno(EFS_EIO, (int)-got,
					   "data: reading the write");
	*out = dst.buf[0].mem;
	*len = (size_t)got;
	return 0;
}

void fsops_data_write_buf(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_bufvec *bufv, off_t off,
			  struct fuse_file_info *fi)
{
	struct efs_fs *fs = fs_from_req(req);
	struct ofile *o = fh_ofile(fi);
	const uint8_t *p = NULL;
	size_t len = 0;
	int error;

	if ((error = write_source(&p, &len, fs->data, bufv)) < 0 ||
	    (error = fileio_write(o->f, (uint64_t)off, p, len)) < 0 ||
	    (error = inode_note_write(fs->itab, ino, fileio_size(o->f))) < 0)
		errmap_reply_err(req, error);
	else
		fuse_reply_write(req, len);
}

/* ---- flush, fsync ------------------------------------------------------- */

void fsops_data_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	errmap_reply_err(req, ofile_flush(fs_from_req(req), fh_ofile(fi)));
}

void fsops_data_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		      struct fuse_file_info *fi)
{
	struct efs_fs *fs = fs_from_req(req);
	struct ofile *o = fh_ofile(fi);
	bool dirty = fileio_dirty(o->f);
	int error = ofile_flush(fs, o);

	/* a clean file's attributes may still be in flight (chmod) */
	if (error == 0 && !dirty && !datasync)
		error = inode_sync(fs->itab);
	errmap_reply_err(req, error);
}

/* ---- sizes -------------------------------------------------------------- */

int fsops_data_setsize(struct efs_fs *fs, uint64_t ino, uint64_t size,
		       struct fuse_file_info *fi)
{
	struct ofile *o;
	int error, put_error;

	if (size > FILEIO_SIZE_MAX)
		return efs_error_set(FS_EFBIG, "data: size %llu too large",
				     (unsigned long long)size);
	if (fi)
		return (error = fileio_truncate(fh_ofile(fi)->f, size)) < 0
			   ? error
			   : inode_note_write(fs->itab, ino, size);
	/* truncate(2) by path */
	if ((error = ofile_get(&o, fs, ino, false)) < 0)
		return error;
	error = fileio_truncate(o->f, size);
	if (error == 0)
		error = inode_note_write(fs->itab, ino, size);
	put_error = ofile_put(fs, o);
	return error < 0 ? error : put_error;
}

/* Write zeros over [off, off + len) of f. */
static int write_zeros(struct fsdata *d, struct fileio *f, uint64_t off,
		       uint64_t len)
{
	size_t piece = len < FSDATA_IO_MAX ? (size_t)len : FSDATA_IO_MAX;
	uint8_t *zeros = iobuf_get(d, piece);
	int error = 0;

	if (!zeros)
		return efs_error_set(EFS_ENOMEM, "data: out of memory");
	memset(zeros, 0, piece);
	while (len && error == 0) {
		size_t n = len < piece ? (size_t)len : piece;

		error = fileio_write(f, off, zeros, n);
		off += n;
		len -= n;
	}
	return error;
}

static int fallocate_do(struct efs_fs *fs, uint64_t ino, struct fileio *f,
			int mode, uint64_t off, uint64_t len)
{
	uint64_t size = fileio_size(f), end = off + len;
	bool keep = mode & FALLOC_FL_KEEP_SIZE;
	int error = 0;

	if (end < off || end > FILEIO_SIZE_MAX)
		return efs_error_set(FS_EFBIG, "data: fallocate past the "
					       "largest file size");
	mode &= ~FALLOC_FL_KEEP_SIZE;
	if (mode == FALLOC_FL_PUNCH_HOLE && !keep)
		return efs_error_set(EFS_EINVAL, "data: punch hole without "
						 "keep size");
	if (mode == FALLOC_FL_PUNCH_HOLE || mode == FALLOC_FL_ZERO_RANGE) {
		uint64_t zend = end < size ? end : size;

		if (off < zend)
			error = write_zeros(fs->data, f, off, zend - off);
	} else if (mode != 0) {
		return efs_error_set(FS_ENOTSUP, "data: fallocate mode %#x",
				     (unsigned)mode);
	}
	/* blocks are content-addressed: allocating is only growing */
	if (error == 0 && !keep && end > size)
		error = fileio_truncate(f, end);
	if (error == 0 && (mode || end > size))
		error = inode_note_write(fs->itab, ino, fileio_size(f));
	return error;
}

void fsops_data_fallocate(fuse_req_t req, fuse_ino_t ino, int mode,
			  off_t offset, off_t length, struct fuse_file_info *fi)
{
	struct efs_fs *fs = fs_from_req(req);
	int error;

	if (offset < 0 || length <= 0)
		error = efs_error_set(EFS_EINVAL, "data: fallocate range");
	else
		error = fallocate_do(fs, ino, fh_ofile(fi)->f, mode,
				     (uint64_t)offset, (uint64_t)length);
	errmap_reply_err(req, error);
}

/* ---- copy_file_range, lseek --------------------------------------------- */

/* Copy up to len bytes; the count goes to out (short only at EOF). */
static int copy_range(size_t *out, struct efs_fs *fs, struct fileio *in,
		      uint64_t off_in, struct fileio *dst, uint64_t off_out,
		      size_t len)
{
	uint8_t *buf = iobuf_get(fs->data, FSDATA_IO_MAX);
	size_t done = 0;
	int error = 0;

	if (!buf)
		return efs_error_set(EFS_ENOMEM, "data: out of memory");
	while (done < len && error == 0) {
		size_t want =
		    len - done < FSDATA_IO_MAX ? len - done : FSDATA_IO_MAX;
		size_t n;

		error = fileio_read(buf, &n, in, off_in + done, want);
		if (error == 0 && n == 0)
			break;
		if (error == 0)
			error = fileio_write(dst, off_out + done, buf, n);
		if (error == 0)
			done += n;
	}
	*out = done;
	return done ? 0 : error;
}

void fsops_data_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
				struct fuse_file_info *fi_in,
				fuse_ino_t ino_out, off_t off_out,
				struct fuse_file_info *fi_out, size_t len,
				int flags)
{
	struct efs_fs *fs = fs_from_req(req);
	struct fileio *out = fh_ofile(fi_out)->f;
	size_t done = 0;
	int error;

	if (flags || off_in < 0 || off_out < 0) {
		errmap_reply_err(req, efs_error_set(EFS_EINVAL,
						    "data: copy_file_range "
						    "arguments"));
		return;
	}
	if (len > FSDATA_COPY_MAX)
		len = FSDATA_COPY_MAX;
	error = copy_range(&done, fs, fh_ofile(fi_in)->f, (uint64_t)off_in, out,
			   (uint64_t)off_out, len);
	if (error == 0 && done)
		error = inode_note_write(fs->itab, ino_out, fileio_size(out));
	if (error < 0)
		errmap_reply_err(req, error);
	else
		fuse_reply_write(req, done);
}

void fsops_data_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		      struct fuse_file_info *fi)
{
	uint64_t size = fileio_size(fh_ofile(fi)->f);

	/* Holes are not tracked: the whole file is data (POSIX allows it). */
	if (whence != SEEK_DATA && whence != SEEK_HOLE) {
		errmap_reply_err(
		    req,
		    efs_error_set(EFS_EINVAL, "data: lseek whence %d", whence));
		return;
	}
	if (off < 0 || (uint64_t)off >= size) {
		errmap_reply_err(req, efs_error_set(FS_ENXIO, "data: lseek "
							      "past the end"));
		return;
	}
	fuse_reply_lseek(req, whence == SEEK_DATA ? off : (off_t)size);
}
