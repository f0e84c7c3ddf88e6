/*
 * bstore_pack.c - pack files: append-only files of block records.
 *
 *   pack    = header record*
 *   header  = "EFSPACK\n" u32le(version = 1) u32le(0)          16 bytes
 *   record  = 0xb1 varint(codec) varint(mh length) mh varint(length) data
 *
 * The index points at a record's data; the header before it lets fsck
 * check that the index points where it thinks, and would let a tool
 * rebuild a lost index from the packs alone (NEEDSWORK: bstore_reindex).
 *
 * Writing: one pack is current.  Records go through a write buffer so
 * small blocks leave in large writes; a record bigger than the buffer is
 * written straight from the caller's memory with pwritev, so 1 MiB chunks
 * are never copied.  Every `writeback` bytes, sync_file_range starts
 * writeback of what was written, so the fdatasync at sync time finds
 * little left to do and the disk streams while the importer hashes.  A
 * pack past pack_size is closed and a new one started; a pack is never
 * appended to after that, so its tail past the indexed size is garbage
 * that the next open truncates.
 *
 * Recovery (at open, before anything else): each pack is cut back to the
 * size the index records for it, pack files the index does not know and
 * that are newer than every indexed pack are removed (they hold only
 * unsynced records).  The bytes past the index are never trusted.
 *
 * Space: gc and evict punch holes over freed records
 * (FALLOC_FL_PUNCH_HOLE); a mostly-empty pack keeps its size on paper.
 * NEEDSWORK: compaction of packs that are mostly holes.
 *
 * All functions named *_locked run under bs->mu; pread, datasync and
 * punch take it only to look up the fd, never around the system call.
 */
#include "core/bstore_i.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#define LOG_TOPIC "bstore"
#include "core/log.h"
#include "core/varint.h"

#include "core/banned.h"

static void pack_name(char *out, size_t cap, uint32_t id)
{
	snprintf(out, cap, "%08" PRIu32 ".pack", id);
}

void bstore_pack_path(char *out, size_t cap, struct bstore *bs, uint32_t id)
{
	snprintf(out, cap, "%s/packs/%08" PRIu32 ".pack", bs->dir, id);
}

int bstore_pack_init(struct bstore *bs)
{
	struct packs *pk = &bs->pk;
	char path[4096];

	memset(pk, 0, sizeof(*pk));
	pk->dirfd = -1;
	pk->next_id = 1;
	snprintf(path, sizeof(path), "%s/packs", bs->dir);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return efs_error_set_errno(EFS_EIO, errno, "mkdir %s", path);
	pk->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pk->dirfd < 0)
		return efs_error_set_errno(EFS_EIO, errno, "open %s", path);
	pk->wbuf = efs_malloc(bs->opts.write_buffer);
	if (!pk->wbuf)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	return 0;
}

void bstore_pack_release(struct bstore *bs)
{
	struct packs *pk = &bs->pk;

	for (size_t i = 0; i < pk->nfds; i++)
		if (pk->fds[i] >= 0)
			close(pk->fds[i]);
	if (pk->dirfd >= 0)
		close(pk->dirfd);
	efs_free(pk->fds);
	efs_free(pk->sizes);
	efs_free(pk->wbuf);
	memset(pk, 0, sizeof(*pk));
	pk->dirfd = -1;
}

static int ensure_slot(struct packs *pk, uint32_t id)
{
	size_t n;
	int *fds;
	uint64_t *sizes;

	if (id < pk->nfds)
		return 0;
	n = pk->nfds ? pk->nfds : 16;
	while (n <= id)
		n *= 2;
	fds = efs_reallocarray(pk->fds, n, sizeof(*fds));
	if (!fds)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	pk->fds = fds;
	sizes = efs_reallocarray(pk->sizes, n, sizeof(*sizes));
	if (!sizes)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	pk->sizes = sizes;
	for (size_t i = pk->nfds; i < n; i++) {
		fds[i] = -1;
		sizes[i] = 0;
	}
	pk->nfds = n;
	return 0;
}

uint64_t bstore_pack_size_locked(struct bstore *bs, uint32_t id)
{
	return id < bs->pk.nfds ? bs->pk.sizes[id] : 0;
}

int bstore_pack_size_set_locked(struct bstore *bs, uint32_t id,
				uint64_t size)
{
	int error = ensure_slot(&bs->pk, id);

	if (error < 0)
		return error;
	bs->pk.sizes[id] = size;
	return 0;
}

int bstore_pack_fd_locked(int *out, struct bstore *bs, uint32_t id)
{
	struct packs *pk = &bs->pk;
	char name[32];
	int error;

	if (id == 0)
		return efs_error_set(EFS_ECORRUPT, "bstore: pack id 0");
	if ((error = ensure_slot(pk, id)) < 0)
		return error;
	if (pk->fds[id] < 0) {
		pack_name(name, sizeof(name), id);
		pk->fds[id] = openat(pk->dirfd, name, O_RDWR | O_CLOEXEC);
		if (pk->fds[id] < 0)
			return efs_error_set_errno(errno == ENOENT ?
						   EFS_ECORRUPT : EFS_EIO,
						   errno, "open pack %s", name);
	}
	*out = pk->fds[id];
	return 0;
}

static bool fault_fires(struct packs *pk, enum bstore_fault where)
{
	if (!pk->fail_errno[where])
		return false;
	if (pk->fail_after[where]-- > 0)
		return false;
	errno = pk->fail_errno[where];
	pk->fail_errno[where] = 0;
	return true;
}

static int write_all(struct bstore *bs, int fd, const struct iovec *iov,
		     int iovcnt, uint64_t off)
{
	struct iovec v[2];
	int cnt = iovcnt;

	memcpy(v, iov, (size_t)iovcnt * sizeof(*v));
	if (fault_fires(&bs->pk, BSTORE_FAULT_WRITE))
		return efs_error_set_errno(EFS_EIO, errno, "write pack %" PRIu32,
					   bs->pk.cur);
	while (cnt) {
		ssize_t n = pwritev(fd, v, cnt, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return efs_error_set_errno(EFS_EIO, errno,
						   "write pack %" PRIu32,
						   bs->pk.cur);
		off += (uint64_t)n;
		while (cnt && (size_t)n >= v[0].iov_len) {
			n -= (ssize_t)v[0].iov_len;
			memmove(v, v + 1, (size_t)--cnt * sizeof(*v));
		}
		if (cnt) {
			v[0].iov_base = (uint8_t *)v[0].iov_base + n;
			v[0].iov_len -= (size_t)n;
		}
	}
	return 0;
}

static void start_writeback(struct bstore *bs, int fd)
{
	struct packs *pk = &bs->pk;
	uint64_t done = pk->wbuf_off;

	if (!bs->opts.writeback || done < pk->wb_done + bs->opts.writeback)
		return;
	/* Errors surface from the fdatasync at sync time. */
	sync_file_range(fd, (off_t)pk->wb_done, (off_t)(done - pk->wb_done),
			SYNC_FILE_RANGE_WRITE);
	pk->wb_done = done;
}

int bstore_pack_flush(struct bstore *bs)
{
	struct packs *pk = &bs->pk;
	struct iovec iov;
	int fd;
	int error;

	if (!pk->wlen)
		return 0;
	if ((error = bstore_pack_fd_locked(&fd, bs, pk->cur)) < 0)
		return error;
	iov.iov_base = pk->wbuf;
	iov.iov_len = pk->wlen;
	if ((error = write_all(bs, fd, &iov, 1, pk->wbuf_off)) < 0)
		return error;
	pk->wbuf_off += pk->wlen;
	pk->wlen = 0;
	start_writeback(bs, fd);
	return 0;
}

static int create_pack(struct bstore *bs)
{
	struct packs *pk = &bs->pk;
	uint8_t hdr[PACK_HEADER_SIZE] = PACK_MAGIC;
	uint32_t id = pk->next_id;
	struct iovec iov = { hdr, sizeof(hdr) };
	char name[32];
	int fd;
	int error;

	hdr[8] = PACK_VERSION;
	if ((error = ensure_slot(pk, id)) < 0)
		return error;
	pack_name(name, sizeof(name), id);
	fd = openat(pk->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
		    0644);
	if (fd < 0)
		return efs_error_set_errno(EFS_EIO, errno, "create pack %s",
					   name);
	if ((error = write_all(bs, fd, &iov, 1, 0)) < 0) {
		close(fd);
		unlinkat(pk->dirfd, name, 0);
		return error;
	}
	pk->next_id++;
	pk->fds[id] = fd;
	pk->sizes[id] = 0;
	pk->cur = id;
	pk->end = pk->keep = pk->wbuf_off = pk->wb_done = PACK_HEADER_SIZE;
	pk->broken = false;
	pk->dir_dirty = true;
	return 0;
}

static int roll_over(struct bstore *bs, size_t rec)
{
	struct packs *pk = &bs->pk;
	int error;

	if (pk->cur && !pk->broken &&
	    (pk->end <= PACK_HEADER_SIZE ||
	     pk->end + rec <= bs->opts.pack_size))
		return 0;
	if (pk->cur && !pk->broken && (error = bstore_pack_flush(bs)) < 0)
		return error;
	pk->wlen = 0;
	return create_pack(bs);
}

size_t bstore_pack_record_header(uint8_t *out, uint64_t codec,
				 const uint8_t *mh, size_t mh_len, size_t len)
{
	size_t n = 0;

	out[n++] = PACK_RECORD_TAG;
	n += varint_encode(out + n, codec);
	n += varint_encode(out + n, mh_len);
	memcpy(out + n, mh, mh_len);
	n += mh_len;
	n += varint_encode(out + n, len);
	return n;
}

static int append_record(struct bstore *bs, const uint8_t *hdr, size_t hl,
			 const uint8_t *data, size_t len)
{
	struct packs *pk = &bs->pk;
	size_t cap = bs->opts.write_buffer;
	struct iovec iov[2] = { { (void *)hdr, hl }, { (void *)data, len } };
	int fd;
	int error;

	if (pk->wlen + hl + len > cap) {
		if ((error = bstore_pack_flush(bs)) < 0)
			return error;
		if (hl + len > cap) {
			if ((error = bstore_pack_fd_locked(&fd, bs,
							   pk->cur)) < 0 ||
			    (error = write_all(bs, fd, iov, 2,
					       pk->wbuf_off)) < 0)
				return error;
			pk->wbuf_off += hl + len;
			start_writeback(bs, fd);
			return 0;
		}
	}
	memcpy(pk->wbuf + pk->wlen, hdr, hl);
	if (len)
		memcpy(pk->wbuf + pk->wlen + hl, data, len);
	pk->wlen += hl + len;
	return 0;
}

int bstore_pack_append(struct bstore *bs, struct batch *b, struct pend *p,
		       const uint8_t *data, size_t len)
{
	struct packs *pk = &bs->pk;
	uint8_t hdr[PACK_RECORD_HDR_MAX];
	size_t hl = bstore_pack_record_header(hdr, p->codec, p->mh,
					      p->mh_len, len);
	int error;

	if ((error = roll_over(bs, hl + len)) < 0)
		return error;
	if ((error = bstore_batch_note_end(b, pk->cur,
					   pk->end + hl + len)) < 0)
		return error;
	if ((error = append_record(bs, hdr, hl, data, len)) < 0)
		return error;
	p->pack = pk->cur;
	p->off = pk->end + hl;
	p->hdr_len = (uint32_t)hl;
	p->len = (uint32_t)len;
	pk->end += hl + len;
	return 0;
}

bool bstore_pack_read_buffered(struct bstore *bs, uint8_t *dst,
			       uint32_t pack, uint64_t off, size_t len)
{
	struct packs *pk = &bs->pk;

	if (pack != pk->cur || off < pk->wbuf_off ||
	    off + len > pk->wbuf_off + pk->wlen)
		return false;
	if (len)
		memcpy(dst, pk->wbuf + (off - pk->wbuf_off), len);
	return true;
}

static int fd_of(int *out, struct bstore *bs, uint32_t id)
{
	int error;

	pthread_mutex_lock(&bs->mu);
	error = bstore_pack_fd_locked(out, bs, id);
	pthread_mutex_unlock(&bs->mu);
	return error;
}

int bstore_pack_pread(struct bstore *bs, uint8_t *dst, uint32_t pack,
		      uint64_t off, size_t len)
{
	int fd;
	int error;

	if ((error = fd_of(&fd, bs, pack)) < 0)
		return error;
	while (len) {
		ssize_t n = pread(fd, dst, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return efs_error_set_errno(EFS_EIO, errno,
						   "read pack %" PRIu32, pack);
		if (n == 0)
			return efs_error_set(EFS_ECORRUPT,
					     "bstore: pack %" PRIu32
					     " ends before offset %" PRIu64,
					     pack, off + len);
		dst += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int bstore_pack_datasync(struct bstore *bs, int fd, uint32_t id)
{
	bool fail;

	pthread_mutex_lock(&bs->mu);
	fail = fault_fires(&bs->pk, BSTORE_FAULT_FSYNC);
	pthread_mutex_unlock(&bs->mu);
	if (fail || fdatasync(fd) < 0)
		return efs_error_set_errno(EFS_EIO, errno,
					   "fdatasync pack %" PRIu32, id);
	return 0;
}

int bstore_pack_dirsync(struct bstore *bs, bool dirty)
{
	if (dirty && fsync(bs->pk.dirfd) < 0)
		return efs_error_set_errno(EFS_EIO, errno, "fsync %s/packs",
					   bs->dir);
	return 0;
}

void bstore_pack_punch(struct bstore *bs, uint32_t pack, uint64_t off,
		       uint64_t len)
{
	int fd;

	if (!len || fd_of(&fd, bs, pack) < 0)
		return;
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len) < 0 && errno != EOPNOTSUPP)
		efs_log_debug("punch pack %" PRIu32 ": errno %d", pack, errno);
}

void bstore_pack_rewind_locked(struct bstore *bs)
{
	struct packs *pk = &bs->pk;
	int fd;

	pk->wlen = 0;
	if (!pk->cur || pk->broken)
		return;
	if (bstore_pack_fd_locked(&fd, bs, pk->cur) < 0 ||
	    ftruncate(fd, (off_t)pk->keep) < 0) {
		/* Leave the garbage; the next put starts a new pack. */
		pk->broken = true;
		return;
	}
	pk->end = pk->wbuf_off = pk->keep;
	if (pk->wb_done > pk->keep)
		pk->wb_done = pk->keep;
}

/* ---- recovery ---- */

static bool parse_pack_name(uint32_t *out, const char *name)
{
	uint32_t id = 0;

	for (int i = 0; i < 8; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		id = id * 10 + (uint32_t)(name[i] - '0');
	}
	if (strcmp(name + 8, ".pack") || id == 0)
		return false;
	*out = id;
	return true;
}

static bool header_ok(int fd)
{
	uint8_t hdr[PACK_HEADER_SIZE];

	if (pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr))
		return false;
	return !memcmp(hdr, PACK_MAGIC, 8) && hdr[8] == PACK_VERSION;
}

/* Cut one indexed pack back to its indexed size. */
static int recover_one(struct bstore *bs, uint32_t id, uint64_t size,
		       bool *changed)
{
	struct stat st;
	int fd;
	int error;

	if ((error = bstore_pack_size_set_locked(bs, id, size)) < 0)
		return error;
	if (bstore_pack_fd_locked(&fd, bs, id) < 0) {
		/* fsck reports it; reads of its blocks fail. */
		efs_log_warn("pack %" PRIu32 " is missing", id);
		return 0;
	}
	if (fstat(fd, &st) < 0)
		return efs_error_set_errno(EFS_EIO, errno, "stat pack %" PRIu32,
					   id);
	if ((uint64_t)st.st_size > size) {
		efs_log_notice("pack %" PRIu32 ": dropping %" PRIu64
			       " unindexed bytes", id,
			       (uint64_t)st.st_size - size);
		if (ftruncate(fd, (off_t)size) < 0 || fdatasync(fd) < 0)
			return efs_error_set_errno(EFS_EIO, errno,
						   "truncate pack %" PRIu32,
						   id);
		*changed = true;
	} else if ((uint64_t)st.st_size < size) {
		efs_log_warn("pack %" PRIu32 " is shorter than the index says",
			     id);
	}
	return 0;
}

/* Continue appending to the newest pack, if it is sound and not full. */
static void pick_current(struct bstore *bs, uint32_t id)
{
	struct packs *pk = &bs->pk;
	uint64_t size = pk->sizes[id];
	struct stat st;
	int fd = pk->fds[id];

	if (fd < 0 || fstat(fd, &st) < 0 || (uint64_t)st.st_size != size ||
	    !header_ok(fd) || size >= bs->opts.pack_size)
		return;
	pk->cur = id;
	pk->broken = false;
	pk->end = pk->keep = pk->wbuf_off = pk->wb_done = size;
}

static int load_indexed(struct bstore *bs, uint32_t *max, bool *changed)
{
	static const char sql[] = "SELECT id, size FROM packs ORDER BY id";
	sqlite3_stmt *st;
	int error;

	if ((error = db_stmt(&st, bs->wdb, sql)) < 0)
		return error;
	while ((error = db_step(bs->wdb, st)) > 0) {
		sqlite3_int64 id = sqlite3_column_int64(st, 0);
		sqlite3_int64 size = sqlite3_column_int64(st, 1);

		if (id <= 0 || id >= UINT32_MAX || size < PACK_HEADER_SIZE) {
			efs_log_warn("index: bad packs row %lld", (long long)id);
			continue;
		}
		if ((error = recover_one(bs, (uint32_t)id, (uint64_t)size,
					 changed)) < 0)
			break;
		*max = (uint32_t)id;
	}
	db_reset(st);
	if (*max >= bs->pk.next_id)
		bs->pk.next_id = *max + 1;
	return error;
}

/* A pack file the index does not know. */
static int orphan(struct bstore *bs, const char *name, uint32_t id,
		  uint32_t max_indexed, bool fresh_index, bool *changed)
{
	struct packs *pk = &bs->pk;
	struct stat st;

	if (fstatat(pk->dirfd, name, &st, 0) < 0)
		return efs_error_set_errno(EFS_EIO, errno, "stat %s", name);
	if (fresh_index && st.st_size > PACK_HEADER_SIZE)
		return efs_error_set(EFS_ECORRUPT,
				     "bstore: packs/%s holds blocks but the "
				     "index is new (was index.db lost?)", name);
	if (id > max_indexed) {
		efs_log_notice("removing unindexed pack %s", name);
		if (unlinkat(pk->dirfd, name, 0) < 0)
			return efs_error_set_errno(EFS_EIO, errno, "unlink %s",
						   name);
		*changed = true;
		return 0;
	}
	/* Older than an indexed pack: keep it for fsck to report. */
	efs_log_warn("pack %s is not in the index", name);
	if (id >= pk->next_id)
		pk->next_id = id + 1;
	return 0;
}

static int scan_orphans(struct bstore *bs, uint32_t max_indexed,
			bool fresh_index, bool *changed)
{
	int fd = dup(bs->pk.dirfd);
	DIR *d;
	struct dirent *e;
	int error = 0;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return efs_error_set_errno(EFS_EIO, errno, "opendir packs");
	}
	rewinddir(d);
	while (!error && (e = readdir(d))) {
		uint32_t id;

		if (!parse_pack_name(&id, e->d_name))
			continue;
		if (bstore_pack_size_locked(bs, id))
			continue;
		error = orphan(bs, e->d_name, id, max_indexed, fresh_index,
			       changed);
	}
	closedir(d);
	return error;
}

int bstore_pack_recover(struct bstore *bs, bool fresh_index)
{
	struct packs *pk = &bs->pk;
	bool changed = false;
	uint32_t max = 0;
	int error;

	if ((error = load_indexed(bs, &max, &changed)) < 0)
		return error;
	if ((error = scan_orphans(bs, max, fresh_index, &changed)) < 0)
		return error;
	if (max)
		pick_current(bs, max);
	if (changed && fsync(pk->dirfd) < 0)
		return efs_error_set_errno(EFS_EIO, errno, "fsync packs");
	return 0;
}

int bstore_pack_scan(struct bstore *bs,
		     int (*cb)(uint32_t id, uint64_t size, bool header_ok,
			       void *payload),
		     void *payload)
{
	int fd = dup(bs->pk.dirfd);
	DIR *d;
	struct dirent *e;
	int error = 0;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return efs_error_set_errno(EFS_EIO, errno, "opendir packs");
	}
	rewinddir(d);
	while (!error && (e = readdir(d))) {
		struct stat st;
		uint32_t id;
		int pfd;

		if (!parse_pack_name(&id, e->d_name))
			continue;
		pfd = openat(bs->pk.dirfd, e->d_name, O_RDONLY | O_CLOEXEC);
		if (pfd < 0 || fstat(pfd, &st) < 0) {
			error = efs_error_set_errno(EFS_EIO, errno, "open %s",
						    e->d_name);
		} else {
			error = cb(id, (uint64_t)st.st_size, header_ok(pfd),
				   payload);
		}
		if (pfd >= 0)
			close(pfd);
	}
	closedir(d);
	return error;
}
