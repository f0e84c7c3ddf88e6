/*
 * importer_tree.c - import files and trees from the file system:
 * importer_add_fd and importer_add_path (see importer.h).
 *
 * Files.  A regular file of more than one chunk goes through a leafpool:
 * workers pread and hash its chunks in parallel while this thread stores
 * the leaves in order and feeds them to an importer_file, which builds
 * the tree (either layout).  Files of one chunk (whose leaf may be stored
 * differently, see importer_file.c) and unseekable files are read here
 * and written through importer_file_write.  The pool is created at the
 * first large file and reused for the rest of the tree.
 *
 * Trees.  Depth-first, one directory at a time: list its names, sort them
 * by bytes, import each entry (files, symlinks, sub-directories) and add
 * it to an importer_dir, which decides basic vs HAMT on the final set of
 * entries.  Entries are opened relative to their directory's fd with
 * O_NOFOLLOW, so a symlink is never followed, even when one is swapped
 * in during the walk.  Memory is the names of the directories on the
 * current path.  When a progress callback is given, a first pass adds up
 * the file sizes for the total.
 */
#include "core/importer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_TOPIC "importer"

#include "core/alloc.h"
#include "core/error.h"
#include "core/importer_dir.h"
#include "core/importer_file.h"
#include "core/importer_i.h"
#include "core/leafpool.h"
#include "core/log.h"

#include "core/banned.h"

/* import_at's result for an entry that is not imported. */
#define SKIPPED 1

struct walk {
	const struct importer_opts *opts;
	const struct blockio_sink *sink;
	importer_progress_cb cb;
	void *payload;
	struct leafpool *pool; /* made at the first multi-chunk file */
	uint8_t *rbuf;	       /* chunk_size bytes for import_stream */
	struct buf path;       /* the entry being imported, for messages */
	uint64_t done, total;  /* file bytes */
};

/* A directory's names, sorted: pointers into one arena. */
struct names {
	struct buf arena;
	struct name {
		const char *s;
		size_t len;
	} * v;
	size_t n;
};

static void walk_init(struct walk *w, const struct importer_opts *opts,
		      const struct blockio_sink *sink, importer_progress_cb cb,
		      void *payload)
{
	memset(w, 0, sizeof(*w));
	w->opts = opts;
	w->sink = sink;
	w->cb = cb;
	w->payload = payload;
	buf_init(&w->path, BUF_NOCAP);
}

static void walk_release(struct walk *w)
{
	leafpool_free(w->pool);
	efs_free(w->rbuf);
	buf_release(&w->path);
}

static int progress(struct walk *w)
{
	struct importer_event ev = {IMPORTER_EVENT_PROGRESS, w->done, w->total,
				    NULL, NULL};

	if (w->cb && w->cb(&ev, w->payload))
		return efs_error_set(EFS_ECANCELED, "importer: cancelled");
	return 0;
}

static int warn(struct walk *w, const char *msg)
{
	struct importer_event ev = {IMPORTER_EVENT_WARN, w->done, w->total,
				    (const char *)w->path.ptr, msg};

	if (!w->cb) {
		efs_log_warn("%s: %s", ev.path, msg);
		return 0;
	}
	if (w->cb(&ev, w->payload))
		return efs_error_set(EFS_ECANCELED, "importer: cancelled");
	return 0;
}

static const struct importer_meta *meta_of(struct importer_meta *m,
					   const struct importer_opts *opts,
					   const struct stat *st)
{
	memset(m, 0, sizeof(*m));
	m->has_mode = opts->preserve_mode;
	m->mode = st->st_mode & 07777;
	m->has_mtime = opts->preserve_mtime;
	m->mtime_sec = st->st_mtim.tv_sec;
	m->mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
	return m->has_mode || m->has_mtime ? m : NULL;
}

/* A file read here: one chunk, or a pipe. */
static int import_stream(struct walk *w, int fd, bool seekable,
			 struct importer_file *f)
{
	size_t cap = w->opts->chunk_size;
	uint64_t off = 0;
	uint8_t *buf;
	int error = 0;

	if (!w->rbuf && !(w->rbuf = efs_malloc(cap)))
		return efs_error_set(EFS_ENOMEM, "importer: out of memory");
	buf = w->rbuf;
	for (;;) {
		ssize_t n = seekable ? pread(fd, buf, cap, (off_t)off)
				     : read(fd, buf, cap);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error = efs_error_set_errno(EFS_EIO, errno,
						    "importer: read %s",
						    (const char *)w->path.ptr);
			break;
		}
		if (n == 0)
			break;
		off += (uint64_t)n;
		w->done += (uint64_t)n;
		if ((error = importer_file_write(f, buf, (size_t)n)) < 0 ||
		    (error = progress(w)) < 0)
			break;
	}
	return error;
}

/* A file of several chunks, hashed by the pool. */
static int import_pooled(struct walk *w, int fd, uint64_t size,
			 struct importer_file *f)
{
	const struct importer_leaf *leaf;
	int error;

	if (!w->pool && (error = leafpool_new(&w->pool, w->opts)) < 0)
		return error;
	if ((error = leafpool_start(w->pool, fd, size)) < 0)
		return error;
	while ((error = leafpool_next(w->pool, &leaf)) == 0) {
		error = blockio_put(w->sink, &leaf->cid, leaf->block,
				    leaf->block_len);
		if (error == 0)
			error = importer_file_push_leaf(f, leaf);
		w->done += leaf->size;
		if (error == 0)
			error = progress(w);
		if (error < 0)
			break;
	}
	if (error == EFS_ITEROVER)
		return 0;
	leafpool_cancel(w->pool);
	return error;
}

static int import_fd(struct walk *w, int fd, const struct stat *st,
		     struct cid *out, uint64_t *tsize)
{
	struct importer_meta meta;
	struct importer_file *f;
	bool reg = S_ISREG(st->st_mode);
	int error;

	error = importer_file_new(&f, w->opts, meta_of(&meta, w->opts, st),
				  w->sink);
	if (error < 0)
		return error;
	if (reg && (uint64_t)st->st_size > w->opts->chunk_size)
		error = import_pooled(w, fd, (uint64_t)st->st_size, f);
	else
		error = import_stream(w, fd, reg, f);
	if (error == 0)
		error = importer_file_finish(f, out, NULL, tsize);
	importer_file_free(f);
	return error;
}

int importer_add_fd(struct cid *out, uint64_t *tsize_out, int fd,
		    const struct importer_opts *opts,
		    const struct blockio_sink *sink, importer_progress_cb cb,
		    void *payload)
{
	struct walk w;
	struct stat st;
	uint64_t tsize;
	int error;

	if ((error = importer_opts_check(opts)) < 0)
		return error;
	if (fstat(fd, &st) < 0)
		return efs_error_set_errno(EFS_EIO, errno, "importer: fstat");
	walk_init(&w, opts, sink, cb, payload);
	if (S_ISREG(st.st_mode))
		w.total = (uint64_t)st.st_size;
	if ((error = buf_printf(&w.path, "fd %d", fd)) == 0)
		error = import_fd(&w, fd, &st, out, &tsize);
	if (error == 0 && tsize_out)
		*tsize_out = tsize;
	walk_release(&w);
	return error;
}

static void names_release(struct names *ns)
{
	buf_release(&ns->arena);
	efs_free(ns->v);
}

static int name_cmp(const void *a, const void *b)
{
	const struct name *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->s, y->s, n);

	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* Index the names in the arena (each NUL-terminated) and sort them. */
static int names_index(struct names *ns)
{
	const char *p = (const char *)ns->arena.ptr;
	const char *end = p + ns->arena.len;

	if (!(ns->v = efs_calloc(ns->n ? ns->n : 1, sizeof(*ns->v))))
		return efs_error_set(EFS_ENOMEM, "importer: out of memory");
	for (size_t i = 0; p < end; i++) {
		ns->v[i].s = p;
		ns->v[i].len = strlen(p);
		p += ns->v[i].len + 1;
	}
	qsort(ns->v, ns->n, sizeof(*ns->v), name_cmp);
	return 0;
}

/* The entries of the directory open as dir, minus . and .. (and hidden
 * names unless they are asked for), sorted by bytes. */
static int list_dir(struct names *out, struct walk *w, DIR *dir)
{
	struct dirent *de;
	int error = 0;

	memset(out, 0, sizeof(*out));
	buf_init(&out->arena, BUF_NOCAP);
	for (;;) {
		const char *name;

		errno = 0;
		if (!(de = readdir(dir)))
			break;
		name = de->d_name;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		if (name[0] == '.' && !w->opts->include_hidden)
			continue;
		if ((error = buf_add(&out->arena, name, strlen(name) + 1)) < 0)
			goto out_release;
		out->n++;
	}
	if (errno) {
		error =
		    efs_error_set_errno(EFS_EIO, errno, "importer: readdir %s",
					(const char *)w->path.ptr);
		goto out_release;
	}
	if ((error = names_index(out)) == 0)
		return 0;
out_release:
	names_release(out);
	return error;
}

/* Append "/name" to the path for messages; returns the old length. */
static size_t path_push(struct walk *w, const char *name, int *error)
{
	size_t old = w->path.len;

	if ((*error = buf_addch(&w->path, '/')) == 0)
		*error = buf_adds(&w->path, name);
	return old;
}

static int import_at(struct walk *w, int at, const char *name,
		     const struct stat *st, struct cid *out, uint64_t *tsize);

/* Import one entry of a directory into d. */
static int import_entry(struct walk *w, struct importer_dir *d, int at,
			const struct name *n)
{
	struct stat st;
	struct cid id;
	uint64_t tsize = 0;
	int error;
	size_t old = path_push(w, n->s, &error);

	if (error < 0)
		return error;
	if (importer_name_check(n->s, n->len) < 0) {
		char esc[1024];

		error = efs_error_set(
		    EFS_EINVAL, "importer: %s: name is not valid UTF-8",
		    importer_escape(esc, sizeof(esc), (const char *)w->path.ptr,
				    w->path.len));
		goto out;
	}
	if (fstatat(at, n->s, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		error = efs_error_set_errno(EFS_EIO, errno, "importer: stat %s",
					    (const char *)w->path.ptr);
		goto out;
	}
	error = import_at(w, at, n->s, &st, &id, &tsize);
	if (error == SKIPPED)
		error = warn(w, "not a regular file, directory or symlink; "
				"skipped");
	else if (error == 0)
		error = importer_dir_add(d, n->s, n->len, &id, tsize);
out:
	buf_truncate(&w->path, old);
	return error;
}

/* Import the directory open at fd (taken over and closed). */
static int import_dir(struct walk *w, int fd, const struct stat *st,
		      struct cid *out, uint64_t *tsize)
{
	struct importer_meta meta;
	struct importer_dir *d = NULL;
	struct names ns;
	DIR *dir = fdopendir(fd);
	int error;

	if (!dir) {
		error =
		    efs_error_set_errno(EFS_EIO, errno, "importer: opendir %s",
					(const char *)w->path.ptr);
		close(fd);
		return error;
	}
	if ((error = list_dir(&ns, w, dir)) < 0)
		goto out_close;
	error =
	    importer_dir_new(&d, w->opts, meta_of(&meta, w->opts, st), w->sink);
	for (size_t i = 0; error == 0 && i < ns.n; i++)
		error = import_entry(w, d, dirfd(dir), &ns.v[i]);
	if (error == 0)
		error = importer_dir_finish(d, out, tsize);
	importer_dir_free(d);
	names_release(&ns);
out_close:
	closedir(dir);
	return error;
}

static int import_link(struct walk *w, int at, const char *name,
		       const struct stat *st, struct cid *out, uint64_t *tsize)
{
	struct importer_meta meta;
	size_t cap = (size_t)st->st_size + 1;
	char *target = NULL;
	ssize_t n;
	int error;

	/* st_size may be 0 (some file systems) or stale: grow until the
	 * target fits with room to spare. */
	for (;;) {
		char *t = efs_realloc(target, cap);

		if (!t) {
			efs_free(target);
			return efs_error_set(EFS_ENOMEM,
					     "importer: out of memory");
		}
		target = t;
		n = readlinkat(at, name, target, cap);
		if (n < 0 || (size_t)n < cap)
			break;
		cap *= 2;
	}
	if (n < 0)
		error =
		    efs_error_set_errno(EFS_EIO, errno, "importer: readlink %s",
					(const char *)w->path.ptr);
	else
		error = importer_symlink(out, tsize, target, (size_t)n, w->opts,
					 meta_of(&meta, w->opts, st), w->sink);
	efs_free(target);
	return error;
}

static int import_at(struct walk *w, int at, const char *name,
		     const struct stat *st, struct cid *out, uint64_t *tsize)
{
	struct stat fst;
	int fd, error;

	if (S_ISLNK(st->st_mode))
		return import_link(w, at, name, st, out, tsize);
	if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode))
		return SKIPPED;
	/* O_NONBLOCK: a fifo swapped in since the stat must not hang us. */
	fd = openat(at, name,
		    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK |
			(S_ISDIR(st->st_mode) ? O_DIRECTORY : 0));
	if (fd < 0)
		return efs_error_set_errno(EFS_EIO, errno, "importer: open %s",
					   (const char *)w->path.ptr);
	if (fstat(fd, &fst) < 0 ||
	    (fst.st_mode & S_IFMT) != (st->st_mode & S_IFMT)) {
		close(fd);
		return efs_error_set(EFS_EIO,
				     "importer: %s changed while importing",
				     (const char *)w->path.ptr);
	}
	if (S_ISDIR(fst.st_mode))
		return import_dir(w, fd, &fst, out, tsize);
	error = import_fd(w, fd, &fst, out, tsize);
	close(fd);
	return error;
}

/* Σ sizes of the regular files under name (for the progress total);
 * best effort: what cannot be read here fails later, with a message. */
static uint64_t total_size(struct walk *w, int at, const char *name)
{
	struct stat st;
	struct names ns;
	uint64_t sum = 0;
	DIR *dir;
	int fd;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (S_ISREG(st.st_mode))
		return (uint64_t)st.st_size;
	if (!S_ISDIR(st.st_mode))
		return 0;
	fd = openat(at, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_DIRECTORY);
	if (fd < 0)
		return 0;
	if (!(dir = fdopendir(fd))) {
		close(fd);
		return 0;
	}
	if (list_dir(&ns, w, dir) == 0) {
		for (size_t i = 0; i < ns.n; i++)
			sum += total_size(w, dirfd(dir), ns.v[i].s);
		names_release(&ns);
	}
	closedir(dir);
	return sum;
}

int importer_add_path(struct cid *out, uint64_t *tsize_out, const char *path,
		      const struct importer_opts *opts,
		      const struct blockio_sink *sink, importer_progress_cb cb,
		      void *payload)
{
	struct walk w;
	struct stat st;
	uint64_t tsize = 0;
	int error;

	if ((error = importer_opts_check(opts)) < 0)
		return error;
	if (lstat(path, &st) < 0)
		return efs_error_set_errno(errno == ENOENT ? EFS_ENOTFOUND
							   : EFS_EIO,
					   errno, "importer: %s", path);
	walk_init(&w, opts, sink, cb, payload);
	if ((error = buf_adds(&w.path, path)) < 0)
		goto out;
	if (cb)
		w.total = total_size(&w, AT_FDCWD, path);
	error = import_at(&w, AT_FDCWD, path, &st, out, &tsize);
	if (error == SKIPPED)
		error = efs_error_set(EFS_EINVAL,
				      "importer: %s: not a regular file, "
				      "directory or symlink",
				      path);
	if (error == 0 && tsize_out)
		*tsize_out = tsize;
out:
	walk_release(&w);
	return error;
}
