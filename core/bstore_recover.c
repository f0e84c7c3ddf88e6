/*
 * bstore_recover.c - pack files at open, and the directory walk fsck uses
 * (see bstore_i.h).
 *
 * Recovery (at open, before anything else, wmu held): each pack is cut
 * back to the size the index records for it; pack files the index does
 * not know and that are newer than every indexed pack are removed (they
 * hold only unsynced records).  The bytes past the index are never
 * trusted.
 *
 * A pack file the index does not know but that is older than an indexed
 * one is kept and reported (fsck): something other than a crash made it.
 * An index that knows no pack while packs/ holds blocks is refused: a lost
 * index.db is never silently recreated over data.
 */
#include "core/bstore_i.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#define LOG_TOPIC "bstore"
#include "core/log.h"

#include "core/banned.h"

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
		return efs_error_set_errno(EFS_EIO, errno,
					   "bstore: stat pack %" PRIu32, id);
	if ((uint64_t)st.st_size > size) {
		efs_log_notice("pack %" PRIu32 ": dropping %" PRIu64
			       " unindexed bytes", id,
			       (uint64_t)st.st_size - size);
		if (ftruncate(fd, (off_t)size) < 0 || fdatasync(fd) < 0)
			return efs_error_set_errno(
			    EFS_EIO, errno, "bstore: truncate pack %" PRIu32,
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
	pk->end = pk->keep = pk->wb_done = size;
	if (bstore_pack_load_tail_locked(bs) < 0)
		pk->broken = true;
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

		if (id <= 0 || id > PACK_ID_MAX || size < PACK_HEADER_SIZE) {
			efs_log_warn("index: bad packs row %lld",
				     (long long)id);
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

/* What recovery knows when it meets the files of packs/. */
struct orphans {
	uint32_t max_indexed;     /* newest pack the index knows */
	bool fresh_index;
	bool *changed;
};

/* A file of packs/: nothing to do unless the index does not know it. */
static int orphan(struct bstore *bs, const char *name, uint32_t id,
		  void *payload)
{
	const struct orphans *o = payload;
	struct packs *pk = &bs->pk;
	struct stat st;

	if (bstore_pack_size_locked(bs, id))
		return 0;
	if (fstatat(pk->dirfd, name, &st, 0) < 0)
		return efs_error_set_errno(EFS_EIO, errno, "bstore: stat %s",
					   name);
	if (o->fresh_index && st.st_size > PACK_HEADER_SIZE)
		return efs_error_set(EFS_ECORRUPT,
				     "bstore: packs/%s holds blocks but the "
				     "index is new (was index.db lost?)", name);
	if (id > o->max_indexed) {
		efs_log_notice("removing unindexed pack %s", name);
		if (unlinkat(pk->dirfd, name, 0) < 0)
			return efs_error_set_errno(EFS_EIO, errno,
						   "bstore: unlink %s", name);
		*o->changed = true;
		return 0;
	}
	/* Older than an indexed pack: keep it for fsck to report. */
	efs_log_warn("pack %s is not in the index", name);
	if (id >= pk->next_id)
		pk->next_id = id + 1;
	return 0;
}

/*
 * Call fn for each file of packs/ named like a pack (NNNNNNNN.pack), with
 * its id, until fn returns non-zero (which is returned).
 */
static int packs_foreach(struct bstore *bs,
			 int (*fn)(struct bstore *bs, const char *name,
				   uint32_t id, void *payload),
			 void *payload)
{
	int fd = dup(bs->pk.dirfd);
	DIR *d;
	struct dirent *e;
	int error = 0;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return efs_error_set_errno(EFS_EIO, errno,
					   "bstore: opendir %s/packs", bs->dir);
	}
	rewinddir(d);
	while (!error && (e = readdir(d))) {
		uint32_t id;

		if (parse_pack_name(&id, e->d_name))
			error = fn(bs, e->d_name, id, payload);
	}
	closedir(d);
	return error;
}

int bstore_recover(struct bstore *bs, bool fresh_index)
{
	struct packs *pk = &bs->pk;
	struct orphans o;
	bool changed = false;
	uint32_t max = 0;
	int error;

	if ((error = load_indexed(bs, &max, &changed)) < 0)
		return error;
	o.max_indexed = max;
	o.fresh_index = fresh_index;
	o.changed = &changed;
	if ((error = packs_foreach(bs, orphan, &o)) < 0)
		return error;
	if (max)
		pick_current(bs, max);
	pk->first_new = pk->next_id;
	if (changed && fsync(pk->dirfd) < 0)
		return efs_error_set_errno(EFS_EIO, errno,
					   "bstore: fsync %s/packs", bs->dir);
	return 0;
}

struct scan {
	int (*cb)(uint32_t id, uint64_t size, bool header_ok, void *payload);
	void *payload;
};

static int scan_one(struct bstore *bs, const char *name, uint32_t id,
		    void *payload)
{
	const struct scan *sc = payload;
	struct stat st;
	int error;
	int fd = openat(bs->pk.dirfd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0)
		error = efs_error_set_errno(EFS_EIO, errno,
					    "bstore: open pack %s", name);
	else
		error = sc->cb(id, (uint64_t)st.st_size, header_ok(fd),
			       sc->payload);
	if (fd >= 0)
		close(fd);
	return error;
}

int bstore_recover_scan(struct bstore *bs,
			int (*cb)(uint32_t id, uint64_t size, bool header_ok,
				  void *payload),
			void *payload)
{
	struct scan sc = { cb, payload };

	return packs_foreach(bs, scan_one, &sc);
}
