/*
 * api_upload.c - Estuary's upload routes (docs/api.md "Uploads"):
 *
 *	POST /content/add      WRITE  multipart/form-data, a "data" file
 *	                              part: imported as one UnixFS file
 *	POST /content/add-car  WRITE  the body is a CAR with one root
 *
 * Both store the blocks, pin the root as `estuaryfs pin` does
 * (evict_pin, label the root CID) and, when the daemon has a mounted
 * tree (api_server_opts.fs), graft it at /uploads/[DIR/]NAME and commit
 * /uploads, so the dealer replicates it.  The reply is Estuary's:
 * {"cid", "retrieval_url", "estuaryId", "providers", ...}.
 *
 *	POST /car/import       WRITE  a CAR stored, its roots pinned, nothing
 *	                              grafted (api_upload_import.c)
 *
 * Design notes:
 * - Bodies are streamed (net/http.h, api_body_stream): each route's
 *   handler runs on the headers, after the frame's checks (401, 403,
 *   413 on a declared size, 507), checks what it can (query, type,
 *   services) before a byte is read, and feeds each piece of body to a
 *   push parser as it comes: the form's "data" part goes straight into
 *   the importer (importer_file.h, the default profile unixfs-v1-2025,
 *   as `estuaryfs add`), a CAR's blocks into the blockstore, each
 *   hashed once (api_upload_car.c).  Memory stays bounded whatever the
 *   size: a section, the importer's open nodes, the pending links.
 * - A body refused midway (a bad form or CAR: 400; storage: 500 or
 *   507) or cut (the client left: no reply) leaves nothing pinned or
 *   grafted; the blocks stored so far are unreferenced and gc takes them
 *   after its grace period (bstore_opts.gc_grace, an hour), which also
 *   bounds how long an upload may take before its first blocks could
 *   go (an upload pins only once whole).
 * - Order at the end: blocks, then bstore_sync_since (durable, whatever
 *   other writers' syncs did), then the pin, then the graft: at no point
 *   is a pinned or grafted root missing blocks.
 * - A name taken under /uploads gets a suffix ("a-1.txt", "a-2.txt"):
 *   an upload never replaces another.
 */
#define LOG_TOPIC "api"

#include "api/api_upload.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "api/api_i.h"
#include "api/api_upload_i.h"
#include "core/alloc.h"
#include "core/bstore.h"
#include "core/car.h"
#include "core/error.h"
#include "core/importer.h"
#include "core/importer_file.h"
#include "core/log.h"
#include "dealer/evict.h"

#include "core/banned.h"

/* Where uploads land in the mounted tree, and what is committed. */
#define UPLOAD_ROOT "/uploads"
/* Longest DIR (query "dir") under it. */
#define UPLOAD_DIR_MAX 1024
/* Suffixes tried when a name is taken. */
#define UPLOAD_SUFFIX_MAX 1000

/* Which part of the form is being read (POST /content/add). */
enum upload_part {
	PART_OTHER,    /* dropped */
	PART_DATA,     /* the file: into the importer */
	PART_FILENAME, /* the "filename" field: into field */
};

/* One upload under way: the request's state from its headers to its
 * end (heap, freed by the stream's end). */
struct upload {
	struct http_req *req;
	struct api_server *s;
	struct bstore *bs;
	struct evict *e;
	char name[API_UPLOAD_NAME_MAX + 1]; /* "": the root CID */
	char dir[UPLOAD_DIR_MAX + 1];	    /* "" or "a/b" */
	struct cid root;
	char root_str[CID_STR_MAX];
	uint64_t size;	   /* file or block bytes */
	uint64_t mark;	   /* bstore_errseq at the start */
	bool chunk_failed; /* the body was refused midway */
	bool store_failed; /* ... by the server's storage */
	/* POST /content/add */
	struct api_upload_form form;
	struct importer_file *file;
	enum upload_part part;
	bool have_data, data_done, named;
	char field[API_UPLOAD_NAME_MAX + 1]; /* the "filename" field */
	size_t field_len;
	bool field_bad;
	/* POST /content/add-car */
	struct api_upload_car car;
};

static void reply_bad(struct upload *u, const char *what)
{
	api_reply_error(u->req, 400, "BAD_REQUEST", "%s: %s", what,
			efs_error_msg());
}

/* A name for /uploads: a valid UnixFS entry name. */
static bool name_ok(struct upload *u, const char *name, const char *what)
{
	if (importer_name_check(name, strlen(name)) == 0)
		return true;
	reply_bad(u, what);
	return false;
}

/* "a/b" of query "dir" (slashes around it dropped), each part a name. */
static bool dir_parse(struct upload *u, const char *dir)
{
	char part[API_UPLOAD_NAME_MAX + 1];
	const char *s, *slash;
	size_t n;

	while (*dir == '/')
		dir++;
	n = strlen(dir);
	while (n && dir[n - 1] == '/')
		n--;
	if (n > UPLOAD_DIR_MAX) {
		api_reply_error(u->req, 400, "BAD_REQUEST",
				"dir: longer than "
				"%d bytes",
				UPLOAD_DIR_MAX);
		return false;
	}
	memcpy(u->dir, dir, n);
	u->dir[n] = '\0';
	for (s = u->dir; *s; s = *slash ? slash + 1 : slash) {
		slash = strchrnul(s, '/');
		if ((size_t)(slash - s) > API_UPLOAD_NAME_MAX) {
			api_reply_error(u->req, 400, "BAD_REQUEST",
					"dir: a part is too long");
			return false;
		}
		memcpy(part, s, (size_t)(slash - s));
		part[slash - s] = '\0';
		if (!name_ok(u, part, "dir"))
			return false;
	}
	return true;
}

/* The services and the query's "dir" and "filename": false when the
 * reply (503, 400) is sent. */
static bool upload_open(struct upload *u, struct http_req *req,
			struct api_server *s)
{
	const char *dir = http_req_query(req, "dir");
	const char *name = http_req_query(req, "filename");

	u->req = req;
	u->s = s;
	if (!(u->bs = api_need_bstore(req, s)) ||
	    !(u->e = api_need_evictor(req, s)))
		return false;
	if (dir && !dir_parse(u, dir))
		return false;
	if (name && *name) {
		if (strlen(name) > API_UPLOAD_NAME_MAX) {
			api_reply_error(req, 400, "BAD_REQUEST",
					"filename: longer than %d bytes",
					API_UPLOAD_NAME_MAX);
			return false;
		}
		if (!name_ok(u, name, "filename"))
			return false;
		snprintf(u->name, sizeof(u->name), "%s", name);
	}
	return true;
}

/* ---- into the mounted tree ------------------------------------------ */

/* /uploads/[DIR/]NAME, with "-n" before NAME's extension for n > 0. */
static int upload_path(char *out, size_t cap, const struct upload *u,
		       unsigned n)
{
	const char *name = u->name[0] ? u->name : u->root_str;
	const char *dot = strrchr(name, '.');
	char comp[API_UPLOAD_NAME_MAX + 16];
	int stem = dot && dot != name ? (int)(dot - name) : (int)strlen(name);

	if (n == 0)
		snprintf(comp, sizeof(comp), "%s", name);
	else
		snprintf(comp, sizeof(comp), "%.*s-%u%s", stem, name, n,
			 name + stem);
	if (strlen(comp) > API_UPLOAD_NAME_MAX)
		return efs_error_set(EFS_EINVAL,
				     "upload: name \"%s\" too long "
				     "with a suffix",
				     comp);
	if ((size_t)snprintf(out, cap, "%s/%s%s%s", UPLOAD_ROOT, u->dir,
			     u->dir[0] ? "/" : "", comp) >= cap)
		return efs_error_set(EFS_EINVAL, "upload: path too long");
	return 0;
}

/* Graft the root at a free path (into path) and commit /uploads (its
 * root into commit).  Returns 0 or the hooks' errors. */
static int upload_graft(char *path, size_t cap, struct cid *commit,
			const struct upload *u)
{
	const struct api_fs_hooks *fs = &u->s->fs;
	int rc = EFS_EEXISTS;

	for (unsigned n = 0; rc == EFS_EEXISTS && n <= UPLOAD_SUFFIX_MAX; n++) {
		if ((rc = upload_path(path, cap, u, n)) < 0)
			return rc;
		rc = fs->graft(fs->cls, path, &u->root);
	}
	if (rc == EFS_EEXISTS)
		return efs_error_set(EFS_EEXISTS,
				     "upload: %s and %d others "
				     "like it are taken",
				     path, UPLOAD_SUFFIX_MAX);
	if (rc < 0)
		return rc;
	return fs->commit(fs->cls, UPLOAD_ROOT, commit);
}

/* ---- the reply ------------------------------------------------------- */

static json_t *reply_json(const struct upload *u,
			  const struct evict_pin_info *pin, const char *path,
			  const struct cid *commit, const char *note)
{
	char url[CID_STR_MAX + 64], prov[96], cstr[CID_STR_MAX];
	json_t *v;

	snprintf(url, sizeof(url), "%s/ipfs/%s", u->s->url, u->root_str);
	api_server_multiaddr(prov, sizeof(prov), u->s);
	if (commit)
		cid_tostr(cstr, commit);
	v = json_pack(
	    "{s:s,s:s,s:s,s:s?,s:[s],s:s,s:I,s:s?,s:s?,s:s,s:s?,"
	    "s:o?}",
	    "cid", u->root_str, "retrieval_url", url, "estuary_retrieval_url",
	    url, "estuaryId", commit ? cstr : NULL, "providers", prov, "name",
	    u->name[0] ? u->name : u->root_str, "size", (json_int_t)u->size,
	    "path", path, "commit", commit ? cstr : NULL, "storage",
	    path ? "filesystem" : "pinned", "note", note, "pin",
	    evict_pin_json(pin));
	return v;
}

/* Pin the stored root, graft and commit it when there is a tree, and
 * reply. */
static void upload_finish(struct upload *u)
{
	char path[UPLOAD_DIR_MAX + 2 * API_UPLOAD_NAME_MAX + 64];
	struct evict_pin_info pin = {0};
	const char *note = NULL;
	char why[320];
	struct cid commit;
	bool grafted = false;
	int rc;

	if ((rc = evict_pin(&pin, u->e, &u->root, u->root_str)) < 0) {
		api_reply_error(u->req, 500, "INTERNAL",
				"stored %s, but "
				"could not pin it: %s",
				u->root_str, efs_error_msg());
		return;
	}
	if (!u->s->has_fs) {
		note =
		    "pinned, but not in the filesystem: the daemon has no "
		    "mounted tree (mount it to have uploads under " UPLOAD_ROOT
		    " and committed)";
	} else if ((rc = upload_graft(path, sizeof(path), &commit, u)) ==
		       EFS_EINVAL ||
		   rc == EFS_EUNSUPPORTED || rc == EFS_ETOOBIG) {
		/* not UnixFS, a block of another codec (dag-cbor...), no
		 * name that fits, more inodes than a graft makes: the
		 * message says which */
		snprintf(why, sizeof(why),
			 "pinned, but not in the filesystem: %s",
			 efs_error_msg());
		note = why;
		efs_log_info("upload %s not grafted: %s", u->root_str,
			     efs_error_msg());
	} else if (rc < 0) {
		api_reply_error(u->req, 500, "INTERNAL",
				"pinned %s, but "
				"could not place it under %s: %s",
				u->root_str, UPLOAD_ROOT, efs_error_msg());
		return;
	} else {
		grafted = true;
	}
	efs_log_notice("upload %s (%llu bytes)%s%s", u->root_str,
		       (unsigned long long)u->size, grafted ? " at " : "",
		       grafted ? path : "");
	api_reply_result(u->req, 0,
			 reply_json(u, &pin, grafted ? path : NULL,
				    grafted ? &commit : NULL, note));
}

/* Make what was put since *mark durable: 500 sent on failure. */
static bool upload_sync(struct upload *u, uint64_t *mark)
{
	if (bstore_sync_since(u->bs, mark) == 0)
		return true;
	api_reply_error(u->req, 500, "INTERNAL", "storing the blocks: %s",
			efs_error_msg());
	return false;
}

/* The upload's state, or NULL with 500 sent (the stream's end frees
 * it). */
static struct upload *upload_new(struct http_req *req, struct api_server *s)
{
	struct upload *u = efs_calloc(1, sizeof(*u));

	if (!u)
		api_reply_error(req, 500, "INTERNAL", "out of memory");
	else if (!upload_open(u, req, s)) {
		efs_free(u);
		return NULL;
	}
	return u;
}

static void upload_free(struct upload *u)
{
	importer_file_free(u->file);
	api_upload_car_release(&u->car);
	efs_free(u);
}

/* A body stopped early, or refused at its end (rc < 0): the reply,
 * unless the client is gone or the frame answers (413 over upload_max,
 * 507 short of disk: api_body_stream). */
static void upload_refused(struct upload *u, int rc, const char *what)
{
	if (http_req_status(u->req) || (rc == EFS_EIO && !u->chunk_failed))
		efs_log_info("upload stopped: %s", efs_error_msg());
	else if (rc == EFS_ENOSPC || (rc == EFS_ETOOBIG && !u->chunk_failed))
		return;
	else if (u->store_failed || rc == EFS_ENOMEM)
		api_reply_error(u->req, 500, "INTERNAL", "%s: %s", what,
				efs_error_msg());
	else
		api_reply_error(u->req, 400, "BAD_REQUEST", "%s: %s", what,
				efs_error_msg());
}

/* ---- POST /content/add ----------------------------------------------- */

static int form_part(void *cls, const struct api_upload_part *p)
{
	struct upload *u = cls;
	struct blockio_sink sink = bstore_sink(u->bs);
	struct importer_opts o;
	int rc;

	u->part = PART_OTHER;
	if (strcmp(p->name, "data") == 0) {
		if (u->have_data)
			return efs_error_set(EFS_EINVAL,
					     "more than one "
					     "\"data\" part: upload one file "
					     "at a time");
		importer_opts_profile(&o, NULL);
		if ((rc = importer_file_new(&u->file, &o, NULL, &sink)) < 0) {
			u->store_failed = true;
			return rc;
		}
		u->have_data = true;
		u->part = PART_DATA;
		if (!u->named && p->has_filename && p->filename[0])
			snprintf(u->name, sizeof(u->name), "%s", p->filename);
	} else if (strcmp(p->name, "filename") == 0) {
		u->part = PART_FILENAME;
		u->field_len = 0;
	}
	return 0;
}

static int form_data(void *cls, const uint8_t *data, size_t len)
{
	struct upload *u = cls;
	int rc;

	if (u->part == PART_DATA) {
		if ((rc = importer_file_write(u->file, data, len)) < 0)
			u->store_failed = true;
		return rc;
	}
	if (u->part == PART_FILENAME) {
		if (len > API_UPLOAD_NAME_MAX - u->field_len ||
		    memchr(data, '\0', len))
			u->field_bad = true;
		else
			memcpy(u->field + u->field_len, data, len);
		if (!u->field_bad)
			u->field_len += len;
	}
	return 0;
}

static int form_part_end(void *cls)
{
	struct upload *u = cls;
	int rc;

	if (u->part == PART_DATA) {
		rc = importer_file_finish(u->file, &u->root, &u->size, NULL);
		if (rc < 0) {
			u->store_failed = true;
			return rc;
		}
		u->data_done = true;
	} else if (u->part == PART_FILENAME && u->field_len && !u->named) {
		/* the query's filename wins; then this field, then the
		 * data part's filename parameter */
		if (u->field_bad)
			return efs_error_set(EFS_EINVAL,
					     "filename: over %d "
					     "bytes or with a NUL",
					     API_UPLOAD_NAME_MAX);
		memcpy(u->name, u->field, u->field_len);
		u->name[u->field_len] = '\0';
		u->named = true;
	}
	u->part = PART_OTHER;
	return 0;
}

static const struct api_upload_form_ops form_ops = {
    form_part,
    form_data,
    form_part_end,
};

static int add_chunk(void *cls, struct http_req *req, const uint8_t *data,
		     size_t len)
{
	struct upload *u = cls;
	int rc = api_upload_form_feed(&u->form, data, len);

	if (rc < 0)
		u->chunk_failed = true;
	if (rc < 0 && !u->store_failed &&
	    strncmp(efs_error_msg(), "form:", 5) != 0)
		return efs_error_set(rc, "form: %s", efs_error_msg());
	return rc;
}

/* The whole form is in: the file imported, its name, the rest. */
static void add_done(struct upload *u)
{
	int rc = api_upload_form_finish(&u->form);

	if (rc < 0) {
		upload_refused(u, rc, "form");
	} else if (!u->data_done) {
		api_reply_error(u->req, 400, "BAD_REQUEST",
				"form: no "
				"\"data\" part (curl -F data=@FILE)");
	} else if ((!u->name[0] || name_ok(u, u->name, "filename")) &&
		   upload_sync(u, &u->mark)) {
		cid_tostr(u->root_str, &u->root);
		upload_finish(u);
	}
}

static void add_end(void *cls, struct http_req *req, int rc)
{
	struct upload *u = cls;

	if (rc == 0)
		add_done(u);
	else
		upload_refused(u, rc, "form");
	upload_free(u);
}

static const struct http_body_ops add_ops = {add_chunk, add_end};

static void route_add(struct http_req *req, struct api_server *s)
{
	char b[API_UPLOAD_BOUNDARY_MAX + 1];
	struct upload *u;

	if (api_upload_form_boundary(b, http_req_header(req, "Content-Type")) <
	    0) {
		api_reply_error(req, 400, "BAD_REQUEST",
				"%s: want a "
				"multipart/form-data body with a \"data\" file "
				"part (curl -F data=@FILE)",
				efs_error_msg());
		return;
	}
	if (!(u = upload_new(req, s)))
		return;
	u->named = u->name[0] != '\0';
	u->mark = bstore_errseq(u->bs);
	api_upload_form_init(&u->form, b, &form_ops, u);
	api_body_stream(req, s, &add_ops, u);
}

/* ---- POST /content/add-car ------------------------------------------- */

static bool stored(void *cls, const struct cid *id)
{
	const struct upload *u = cls;

	return bstore_has(u->bs, id);
}

/* A block of the CAR, verified: into the blockstore (not hashed again). */
static int car_block(void *cls, const struct cid *id, const uint8_t *data,
		     size_t len)
{
	struct upload *u = cls;
	int rc = bstore_put(u->bs, id, data, len);
	char str[CID_STR_MAX];

	if (rc == EFS_ECORRUPT || rc == EFS_EUNSUPPORTED || rc == EFS_ETOOBIG)
		return efs_error_set(rc, "car: block %s: %s",
				     cid_tostr(str, id), efs_error_msg());
	if (rc < 0)
		u->store_failed = true;
	return rc;
}

static int car_chunk(void *cls, struct http_req *req, const uint8_t *data,
		     size_t len)
{
	struct upload *u = cls;
	int rc = api_upload_car_feed(&u->car, data, len);

	if (rc < 0)
		u->chunk_failed = true;
	return rc;
}

static void car_end(void *cls, struct http_req *req, int rc)
{
	struct upload *u = cls;
	size_t n;

	if (rc == 0 && (rc = api_upload_car_finish(&u->car)) == 0) {
		if (upload_sync(u, &u->mark)) {
			u->root = api_upload_car_roots(&u->car, &n)[0];
			u->size = u->car.bytes;
			cid_tostr(u->root_str, &u->root);
			upload_finish(u);
		}
	} else {
		upload_refused(u, rc, "CAR refused, nothing pinned");
	}
	upload_free(u);
}

static const struct http_body_ops car_ops = {car_chunk, car_end};

static void route_add_car(struct http_req *req, struct api_server *s)
{
	struct api_upload_car_opts o = {.one_root = true,
					.links = true,
					.has = stored,
					.on_block = car_block};
	struct upload *u;

	if (!(u = upload_new(req, s)))
		return;
	if (http_req_content_length(req) == 0) {
		api_reply_error(req, 400, "BAD_REQUEST",
				"empty body: want a "
				"CAR (curl --data-binary @FILE.car)");
		efs_free(u);
		return;
	}
	o.cls = u;
	api_upload_car_init(&u->car, &o);
	u->mark = bstore_errseq(u->bs);
	api_body_stream(req, s, &car_ops, u);
}

/* ---- the table (api_i.h) --------------------------------------------- */

/* Streamed routes: api_server.c lists this table as streamed. */
const struct api_route api_upload_routes[] = {
    {"POST", "/content/add", route_add, API_WRITE},
    {"POST", "/content/add-car", route_add_car, API_WRITE},
    /* POST, or PUT as `curl -T dag.car` sends it */
    {NULL, "/car/import", api_upload_import, API_WRITE},
};
const size_t api_upload_nroutes =
    sizeof(api_upload_routes) / sizeof(api_upload_routes[0]);
