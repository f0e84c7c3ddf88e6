/*
 * fsops_dir.c - directory listings (readdir, readdirplus), fsyncdir and
 * statfs (fs_i.h).
 *
 * Offsets are the inode table's cookies: 1 and 2 for "." and "..", then
 * entry ids, so a listing resumed after entries were removed (rm -rf
 * removes while it reads) neither skips nor repeats anything (R8).
 * readdirplus hands the kernel each entry's attributes, sparing the
 * lookup per entry that ls -l would make; every entry it returns but "."
 * and ".." takes a reference, as a lookup does.  The inodes referenced
 * are remembered, so a reply that fails (the request was interrupted:
 * no forget will come for them) releases them again.
 */
#define LOG_TOPIC "fs"

#include "fs/fs_i.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/log.h"
#include "fs/errmap.h"

#include "core/banned.h"

/* Cap on the reply buffer, whatever the kernel asks for. */
#define DIR_BUF_MAX (1u << 20)

struct fill {
	fuse_req_t req;
	struct efs_fs *fs;
	char *buf;
	size_t size;
	size_t used;
	bool plus;
	uint64_t *refs;   /* readdirplus: inodes referenced for the reply */
	size_t nrefs;
	size_t refs_cap;
};

/* Room for one more entry in f->refs; false when out of memory. */
static bool refs_reserve(struct fill *f)
{
	size_t cap;
	uint64_t *v;

	if (f->nrefs < f->refs_cap)
		return true;
	cap = f->refs_cap ? f->refs_cap * 2 : 64;
	if (!(v = efs_reallocarray(f->refs, cap, sizeof(*v))))
		return false;
	f->refs = v;
	f->refs_cap = cap;
	return true;
}

/*
 * Add one entry; returns false when it does not fit.  For readdirplus, a
 * dot entry goes with node id 0: the kernel then links nothing (and the
 * entry takes no reference) but still lists it under its inode number.
 */
static bool add(struct fill *f, const char *name, const struct inode_attr *a,
		off_t cookie, bool dot)
{
	size_t room = f->size - f->used;
	size_t n;

	if (f->plus) {
		struct fuse_entry_param e;

		fsops_entry_fill(&e, f->fs, a);
		if (dot)
			e.ino = 0;
		n = fuse_add_direntry_plus(f->req, f->buf + f->used, room,
					   name, &e, cookie);
	} else {
		struct stat st = { .st_ino = a->ino, .st_mode = a->mode };

		n = fuse_add_direntry(f->req, f->buf + f->used, room, name,
				      &st, cookie);
	}
	if (n > room)
		return false;
	f->used += n;
	return true;
}

static int fill_cb(const struct inode_dirent *e, void *payload)
{
	struct fill *f = payload;
	size_t used = f->used;
	int error;

	if (!add(f, e->name, &e->attr, (off_t)e->cookie, false))
		return 1; /* full */
	if (!f->plus)
		return 0;
	if (!refs_reserve(f))
		error = efs_error_set(EFS_ENOMEM, "fs: out of memory");
	else
		error = inode_ref(f->fs->itab, e->attr.ino);
	if (error < 0) {
		f->used = used; /* the kernel must not get it unreferenced */
		return used ? 1 : error;
	}
	f->refs[f->nrefs++] = e->attr.ino;
	return 0;
}

/* "." (cookie 1) and ".." (cookie 2). */
static int add_dots(struct fill *f, uint64_t dir, off_t off)
{
	struct inode_attr a = { .ino = dir, .mode = S_IFDIR };
	uint64_t parent;
	int error;

	if (off < 1 && !add(f, ".", &a, 1, true))
		return 1;
	if (off < 2) {
		if ((error = inode_parent(&parent, f->fs->itab, dir)) < 0)
			return error;
		a.ino = parent;
		if (!add(f, "..", &a, 2, true))
			return 1;
	}
	return 0;
}

static void list(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		 bool plus)
{
	struct fill f = { .req = req, .fs = fs_from_req(req), .plus = plus };
	int error;

	f.size = size < DIR_BUF_MAX ? size : DIR_BUF_MAX;
	if (!(f.buf = efs_malloc(f.size))) {
		errmap_reply_err(req, efs_error_set(EFS_ENOMEM,
						    "fs: out of memory"));
		return;
	}
	error = add_dots(&f, ino, off);
	if (error == 0)
		error = inode_readdir(f.fs->itab, ino, off > 2 ? (uint64_t)off
							       : 0,
				      fill_cb, &f);
	/* entries already in the buffer are referenced: send them */
	if (error < 0 && f.used == 0) {
		errmap_reply_err(req, error);
	} else if (fuse_reply_buf(req, f.buf, f.used) != 0) {
		/* interrupted: the kernel never saw them, no forget comes */
		for (size_t i = 0; i < f.nrefs; i++)
			inode_forget(f.fs->itab, f.refs[i], 1);
	}
	efs_free(f.refs);
	efs_free(f.buf);
}

void fsops_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	list(req, ino, size, off, false);
}

void fsops_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
		       off_t off, struct fuse_file_info *fi)
{
	list(req, ino, size, off, true);
}

void fsops_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
		    struct fuse_file_info *fi)
{
	errmap_reply_err(req, inode_sync(fs_from_req(req)->itab));
}

/* Bytes in units of frsize, rounded up. */
static fsblkcnt_t fs_units(uint64_t bytes, unsigned long frsize)
{
	return (fsblkcnt_t)((bytes + frsize - 1) / frsize);
}

/*
 * Space: what can still be written is the repository disk's free space
 * (that is where blocks go), and the blocks held locally and the blocks
 * evicted (kept by storage providers only) are told apart the way ext4
 * tells its reserved blocks: total = local + evicted + free, free =
 * evicted + free, available = free.  So df shows the local bytes as
 * Used, what can be written as Avail, and a Size that counts the evicted
 * bytes too (Size - Used - Avail); `stat -f` shows the evicted bytes as
 * Free - Available.  Files are ours plus what the disk could still hold.
 */
void fsops_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct efs_fs *fs = fs_from_req(req);
	struct bstore_totals t;
	struct statvfs st;
	fsblkcnt_t local, evicted;
	int error;

	if (statvfs(fs->repo, &st) < 0) {
		errmap_reply_err(req, efs_error_set_errno(EFS_EIO, errno,
							  "fs: statvfs %s",
							  fs->repo));
		return;
	}
	if ((error = bstore_stat_totals(&t, fs->bs)) < 0) {
		errmap_reply_err(req, error);
		return;
	}
	if (!st.f_frsize)
		st.f_frsize = st.f_bsize ? st.f_bsize : 4096;
	local = fs_units(t.bytes[BSTORE_LOCAL] + t.pending_bytes, st.f_frsize);
	evicted = fs_units(t.bytes[BSTORE_EVICTED], st.f_frsize);
	st.f_bfree = st.f_bavail + evicted;
	st.f_blocks = st.f_bavail + evicted + local;
	st.f_files = inode_count(fs->itab) + st.f_ffree;
	st.f_favail = st.f_ffree;
	st.f_namemax = INODE_NAME_MAX;
	fuse_reply_statfs(req, &st);
}
