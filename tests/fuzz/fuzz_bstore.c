/*
 * fuzz_bstore.c - the blockstore over a damaged repository.
 *
 * A small valid repository is built once (raw leaves, a dag-pb node
 * linking them, a pin, an evicted leaf with its location, two packs).
 * Each input is a program of damage applied to a fresh copy of it: index
 * columns set to arbitrary integers or blobs, rows inserted or deleted,
 * pack bytes flipped, packs cut short.  Then the store is opened and
 * driven through everything that reads the index: get, has, stat, the LRU
 * and pin walks, locations, fsck, gc, evict, a put and a sync, fsck with
 * repair, close.
 *
 * Properties: nothing crashes or leaks; get never returns bytes that do
 * not hash to the CID asked for; a store that opened closes.
 *
 * Input: a sequence of ops, each an op byte and its operands (see
 * damage); running out of bytes ends the program.  Every run fsyncs, so
 * fuzz with TMPDIR on a tmpfs (TMPDIR=/dev/shm) for a useful speed.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/bstore.h"
#include "core/dagpb.h"
#include "core/db.h"
#include "core/error.h"
#include "core/log.h"

#define NLEAVES 6

struct file {
	char name[64];
	uint8_t *data;
	size_t len;
};

static char *base;                /* temp dir for the template and runs */
static struct file files[16];     /* the template's files */
static size_t nfiles;
static struct cid ids[NLEAVES + 1];

static struct bstore_opts opts(void)
{
	struct bstore_opts o = BSTORE_OPTS_INIT;

	o.pack_size = 16 << 10;
	o.write_buffer = 16 << 10;
	o.read_conns = 2;
	o.gc_grace = 0;
	return o;
}

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_bstore: %s: %s\n", what, efs_error_msg());
	abort();
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_tree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void cleanup(void)
{
	if (base)
		rm_tree(base);
}

static void put_block(struct bstore *bs, struct cid *id, uint64_t codec,
		      const uint8_t *p, size_t len)
{
	if (cid_hash(id, 1, codec, MHASH_SHA2_256, p, len) < 0 ||
	    bstore_put(bs, id, p, len) < 0)
		fail("template put");
}

static void build_template(const char *dir)
{
	struct bstore_opts o = opts();
	struct dagpb_link links[NLEAVES];
	struct dagpb_node node;
	struct bstore_location loc;
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct bstore *bs;
	uint8_t leaf[5000];
	uint8_t digest[32] = { 7 };
	int64_t pin;

	if (mkdir(dir, 0755) < 0 || bstore_open(&bs, dir, &o) < 0)
		fail("template open");
	memset(links, 0, sizeof(links));
	for (int i = 0; i < NLEAVES; i++) {
		for (size_t k = 0; k < sizeof(leaf); k++)
			leaf[k] = (uint8_t)(k * 31 + (size_t)i * 7);
		put_block(bs, &ids[i], CID_CODEC_RAW, leaf,
			  1000 + (size_t)i * 700);
		links[i].cid = ids[i];
	}
	memset(&node, 0, sizeof(node));
	node.links = links;
	node.nlinks = NLEAVES;
	if (dagpb_encode(&b, &node) < 0)
		fail("template node");
	put_block(bs, &ids[NLEAVES], CID_CODEC_DAG_PB, b.ptr, b.len);
	buf_release(&b);
	loc.block = ids[0];
	loc.offset = 1;
	loc.length = 1000;
	if (cid_init(&loc.piece, 1, CID_CODEC_FIL_COMMITMENT_UNSEALED,
		     MHASH_SHA2_256_TRUNC254_PADDED, digest, 32) < 0 ||
	    bstore_pin(&pin, bs, &ids[NLEAVES], "t") < 0 ||
	    bstore_sync(bs) < 0 || bstore_location_add(bs, &loc) < 0 ||
	    bstore_evict(bs, &ids[0]) < 0 || bstore_close(bs) < 0)
		fail("template");
}

static void load_file(const char *dir, const char *name)
{
	char path[4200];
	struct file *f = &files[nfiles++];
	struct stat st;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path))
		fail("path");
	snprintf(f->name, sizeof(f->name), "%s", name);
	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0)
		fail(path);
	f->len = (size_t)st.st_size;
	f->data = malloc(f->len + 1);
	if (!f->data || read(fd, f->data, f->len) != (ssize_t)f->len)
		fail(path);
	close(fd);
}

static void init_once(void)
{
	char dir[4096];

	const char *tmp = getenv("TMPDIR");
	size_t n;

	if (base)
		return;
	efs_log_setup(EFS_LOG_ERR, 2); /* recovery notices are expected */
	tmp = tmp ? tmp : "/tmp";
	n = strlen(tmp) + sizeof("/fuzz-bstore-XXXXXX");
	base = malloc(n);
	if (!base)
		abort();
	snprintf(base, n, "%s/fuzz-bstore-XXXXXX", tmp);
	if (!mkdtemp(base))
		abort();
	atexit(cleanup);
	snprintf(dir, sizeof(dir), "%s/template", base);
	build_template(dir);
	load_file(dir, "index.db");
	load_file(dir, "packs/00000001.pack");
	load_file(dir, "packs/00000002.pack");
	if (access(dir, F_OK) == 0)
		rm_tree(dir);
}

static void write_copy(const char *dir)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/packs", dir);
	if (mkdir(dir, 0755) < 0 || mkdir(path, 0755) < 0)
		fail(dir);
	for (size_t i = 0; i < nfiles; i++) {
		int fd;

		if (snprintf(path, sizeof(path), "%s/%s", dir, files[i].name) >=
		    (int)sizeof(path))
			fail("path");
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 ||
		    write(fd, files[i].data, files[i].len) !=
			    (ssize_t)files[i].len)
			fail(path);
		close(fd);
	}
}

/* ---- the damage program ---- */

struct input {
	const uint8_t *p;
	size_t left;
};

static bool take(struct input *in, void *out, size_t n)
{
	if (in->left < n)
		return false;
	memcpy(out, in->p, n);
	in->p += n;
	in->left -= n;
	return true;
}

static const char *const block_cols[] = {
	"codec", "state", "pack", "off", "len", "refs", "atime",
};

/* The k-th row of a WITHOUT ROWID table, by key order. */
static const char *const row_of[] = {
	"mh = (SELECT mh FROM blocks ORDER BY mh LIMIT 1 OFFSET ?2)",
	"id = (SELECT id FROM packs ORDER BY id LIMIT 1 OFFSET ?2)",
	"id = (SELECT id FROM pins ORDER BY id LIMIT 1 OFFSET ?2)",
	"mh = (SELECT mh FROM locations ORDER BY mh LIMIT 1 OFFSET ?2)",
	"state = ?2",
};

static void run_sql(struct db *db, const char *sql, int64_t v, int row,
		    const uint8_t *blob, size_t n)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db_handle(db), sql, -1, &st, NULL) !=
	    SQLITE_OK)
		fail(sql);
	if (blob)
		sqlite3_bind_blob(st, 1, blob, (int)n, SQLITE_TRANSIENT);
	else
		sqlite3_bind_int64(st, 1, v);
	sqlite3_bind_int(st, 2, row);
	sqlite3_step(st); /* constraint failures are fine */
	sqlite3_finalize(st);
}

static bool op_set_int(struct db *db, struct input *in)
{
	static const char *const targets[] = {
		"UPDATE packs SET size = ?1 WHERE %s",
		"UPDATE locations SET off = ?1 WHERE %s",
		"UPDATE totals SET count = ?1 WHERE %s",
		"UPDATE pins SET created = ?1 WHERE %s",
	};
	uint8_t sel[2];
	int64_t v;
	char sql[256];

	if (!take(in, sel, 2) || !take(in, &v, sizeof(v)))
		return false;
	if (sel[0] < 7) {
		snprintf(sql, sizeof(sql), "UPDATE blocks SET %s = ?1 WHERE %s",
			 block_cols[sel[0]], row_of[0]);
	} else {
		int t = sel[0] % 4;
		int r = t == 0 ? 1 : t == 1 ? 3 : t == 2 ? 4 : 2;

		snprintf(sql, sizeof(sql), targets[t], row_of[r]);
	}
	run_sql(db, sql, v, sel[1] % 16, NULL, 0);
	return true;
}

static bool op_set_blob(struct db *db, struct input *in)
{
	static const char *const targets[] = {
		"UPDATE blocks SET mh = ?1 WHERE %s",
		"UPDATE pins SET root = ?1 WHERE %s",
		"UPDATE pins SET mh = ?1 WHERE %s",
		"UPDATE locations SET piece = ?1 WHERE %s",
	};
	static const int rows[] = { 0, 2, 2, 3 };
	uint8_t sel[3];
	uint8_t blob[80];
	char sql[256];
	size_t n;
	int t;

	if (!take(in, sel, 3))
		return false;
	n = sel[2] % sizeof(blob);
	if (!take(in, blob, n))
		return false;
	t = sel[0] % 4;
	snprintf(sql, sizeof(sql), targets[t], row_of[rows[t]]);
	run_sql(db, sql, 0, sel[1] % 16, blob, n);
	return true;
}

static bool op_rows(struct db *db, struct input *in)
{
	static const char *const sqls[] = {
		"DELETE FROM blocks WHERE mh = (SELECT mh FROM blocks"
		" ORDER BY mh LIMIT 1 OFFSET ?2 + 0 * ?1)",
		"DELETE FROM packs WHERE id = ?1 + 0 * ?2",
		"DELETE FROM pins WHERE ?2 = ?2 AND ?1 = ?1",
		"DELETE FROM locations WHERE ?2 = ?2 AND ?1 = ?1",
		"INSERT INTO blocks SELECT randomblob(34), codec, state, pack,"
		" off + ?1, len, refs, atime FROM blocks"
		" ORDER BY mh LIMIT 1 OFFSET ?2",
		"INSERT INTO pins(root, mh, name, created) SELECT root, mh,"
		" 'x', ?1 FROM pins LIMIT 1 OFFSET ?2",
	};
	uint8_t sel[2];
	int64_t v;

	if (!take(in, sel, 2) || !take(in, &v, sizeof(v)))
		return false;
	run_sql(db, sqls[sel[0] % 6], v, sel[1] % 16, NULL, 0);
	return true;
}

static bool op_pack(const char *dir, struct input *in)
{
	uint8_t sel[2];
	uint32_t off;
	char path[4200];
	int fd;

	if (!take(in, sel, 2) || !take(in, &off, sizeof(off)))
		return false;
	snprintf(path, sizeof(path), "%s/packs/%08u.pack", dir,
		 1u + sel[0] % 2);
	fd = open(path, O_RDWR);
	if (fd < 0)
		return true;
	if (sel[1] == 0) {
		(void)!ftruncate(fd, off % (20 << 10));
	} else {
		uint8_t b;
		off_t at = (off_t)(off % (20 << 10));

		if (pread(fd, &b, 1, at) == 1) {
			b ^= sel[1];
			(void)!pwrite(fd, &b, 1, at);
		}
	}
	close(fd);
	return true;
}

static void damage(const char *dir, const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	char path[4200];
	struct db *db;
	uint8_t op;

	snprintf(path, sizeof(path), "%s/index.db", dir);
	if (db_open(&db, path, 0) < 0)
		fail("open copy");
	while (take(&in, &op, 1)) {
		bool more;

		switch (op % 4) {
		case 0:
			more = op_set_int(db, &in);
			break;
		case 1:
			more = op_set_blob(db, &in);
			break;
		case 2:
			more = op_rows(db, &in);
			break;
		default:
			more = op_pack(dir, &in);
			break;
		}
		if (!more)
			break;
	}
	db_close(db);
}

/* ---- driving the store ---- */

static int on_stat(const struct bstore_stat *st, void *payload)
{
	(void)st;
	(void)payload;
	return 0;
}

static int on_pin(const struct bstore_pin *pin, void *payload)
{
	(void)pin;
	(void)payload;
	return 0;
}

static int on_loc(const struct bstore_location *loc, void *payload)
{
	(void)loc;
	(void)payload;
	return 0;
}

static void read_all(struct bstore *bs)
{
	struct buf out = BUF_INIT(BUF_NOCAP);

	for (int i = 0; i <= NLEAVES; i++) {
		struct bstore_stat st;

		buf_reset(&out);
		if (bstore_get(bs, &ids[i], &out) == 0 &&
		    cid_verify(&ids[i], out.ptr, out.len) < 0)
			abort(); /* bytes that do not match: never */
		bstore_has(bs, &ids[i]);
		bstore_stat(&st, bs, &ids[i]);
		bstore_locations(bs, &ids[i], on_loc, NULL);
	}
	buf_release(&out);
}

static void drive(struct bstore *bs)
{
	struct bstore_fsck_report r;
	struct bstore_gc_result gr;
	struct bstore_totals t;
	uint8_t fresh[300];
	struct cid id;

	read_all(bs);
	bstore_stat_totals(&t, bs);
	bstore_lru_foreach(bs, BSTORE_LOCAL, on_stat, NULL);
	bstore_lru_foreach(bs, BSTORE_EVICTED, on_stat, NULL);
	bstore_pins_foreach(bs, on_pin, NULL);
	bstore_fsck(&r, bs, 0);
	memset(fresh, 0xab, sizeof(fresh));
	if (cid_hash(&id, 1, CID_CODEC_RAW, MHASH_SHA2_256, fresh,
		     sizeof(fresh)) == 0 &&
	    bstore_put(bs, &id, fresh, sizeof(fresh)) == 0 &&
	    bstore_sync(bs) == 0) {
		struct buf out = BUF_INIT(BUF_NOCAP);

		/* a block put into a damaged store still reads back */
		if (bstore_get(bs, &id, &out) != 0 || out.len != sizeof(fresh))
			abort();
		buf_release(&out);
	}
	bstore_evict(bs, &ids[1]);
	bstore_gc(&gr, bs);
	read_all(bs);
	bstore_fsck(&r, bs, BSTORE_FSCK_REPAIR);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned run;
	struct bstore_opts o = opts();
	struct bstore *bs;
	char dir[4096];

	init_once();
	snprintf(dir, sizeof(dir), "%s/run%u", base, run++);
	write_copy(dir);
	damage(dir, data, size);
	if (bstore_open(&bs, dir, &o) == 0) {
		drive(bs);
		bstore_close(bs);
	}
	rm_tree(dir);
	return 0;
}
