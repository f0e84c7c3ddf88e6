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
 * Design notes:
 * - The body is whole in memory before the handler runs (net/http.h,
 *   capped by api_server_opts.max_body: 413 past it); the file part is
 *   fed to the importer from there (importer_file.h, the default
 *   profile unixfs-v1-2025, as `estuaryfs add`), without a copy.
 * - A CAR is checked whole before one block is stored
 *   (api_upload_car_check: hashes, framing, one root carried by the
 *   CAR, no link to a block neither in it nor stored), so a bad CAR is
 *   a 400 that leaves nothing behind.
 * - Order: blocks, then bstore_sync_since (durable, whatever other
 *   writers' syncs did), then the pin, then the graft: at no point is
 *   a pinned or grafted root missing blocks, and gc never sees the
 *   blocks unpinned for longer than its grace period.
 * - A name taken under /uploads gets a suffix ("a-1.txt", "a-2.txt"):
 *   an upload never replaces another.
 */
#define LOG_TOPIC "api"

#include "api/api_upload.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "api/api_i.h"
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

/* One upload under way. */
struct upload {
	struct http_req *req;
	struct api_server *s;
	struct bstore *bs;
	struct evict *e;
	char name[API_UPLOAD_NAME_MAX + 1]; /* "": the root CID */
	char dir[UPLOAD_DIR_MAX + 1];	    /* "" or "a/b" */
	struct cid root;
	char root_str[CID_STR_MAX];
	uint64_t size; /* file or block bytes */
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

	memset(u, 0, sizeof(*u));
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
		   EFS_EINVAL || rc == EFS_EUNSUPPORTED) {
		/* not UnixFS, a block of another codec (dag-cbor...), no
		 * name that fits: the message says which */
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

/* ---- POST /content/add ----------------------------------------------- */

/* The form's "data" part into *data, and "filename" into u->name;
 * false when the reply (400) is sent. */
static bool form_read(struct upload *u, struct api_upload_part *data)
{
	char b[API_UPLOAD_BOUNDARY_MAX + 1];
	struct api_upload_form f;
	struct api_upload_part p;
	const uint8_t *body;
	bool have = false, named = u->name[0] != '\0';
	size_t len;
	int rc;

	if (api_upload_form_boundary(
		b, http_req_header(u->req, "Content-Type")) < 0) {
		api_reply_error(u->req, 400, "BAD_REQUEST",
				"%s: want a "
				"multipart/form-data body with a \"data\" file "
				"part (curl -F data=@FILE)",
				efs_error_msg());
		return false;
	}
	body = http_req_body(u->req, &len);
	api_upload_form_init(&f, body, len, b);
	while ((rc = api_upload_form_next(&f, &p)) == 0) {
		if (strcmp(p.name, "data") == 0) {
			if (have) {
				api_reply_error(u->req, 400, "BAD_REQUEST",
						"form: more than one \"data\" "
						"part: upload one file at a "
						"time");
				return false;
			}
			*data = p;
			have = true;
		} else if (strcmp(p.name, "filename") == 0 && !named && p.len) {
			if (p.len > API_UPLOAD_NAME_MAX ||
			    memchr(p.data, '\0', p.len)) {
				api_reply_error(u->req, 400, "BAD_REQUEST",
						"filename: over %d bytes or "
						"with a NUL",
						API_UPLOAD_NAME_MAX);
				return false;
			}
			memcpy(u->name, p.data, p.len);
			u->name[p.len] = '\0';
			named = true;
		}
	}
	if (rc != EFS_ITEROVER) {
		reply_bad(u, "form");
		return false;
	}
	if (!have) {
		api_reply_error(u->req, 400, "BAD_REQUEST",
				"form: no \"data\" "
				"part (curl -F data=@FILE)");
		return false;
	}
	if (!named && data->has_filename)
		snprintf(u->name, sizeof(u->name), "%s", data->filename);
	return !u->name[0] || name_ok(u, u->name, "filename");
}

/* data[0..len) as one UnixFS file into the blockstore; root and size
 * into u. */
static int import_bytes(struct upload *u, const uint8_t *data, size_t len)
{
	struct blockio_sink sink = bstore_sink(u->bs);
	struct importer_file *f = NULL;
	struct importer_opts o;
	int rc;

	importer_opts_profile(&o, NULL);
	if ((rc = importer_file_new(&f, &o, NULL, &sink)) == 0 &&
	    (rc = importer_file_write(f, data, len)) == 0)
		rc = importer_file_finish(f, &u->root, &u->size, NULL);
	importer_file_free(f);
	return rc;
}

static void route_add(struct http_req *req, struct api_server *s)
{
	struct api_upload_part data;
	struct upload u;
	uint64_t mark;
	int rc;

	if (!upload_open(&u, req, s) || !form_read(&u, &data))
		return;
	mark = bstore_errseq(u.bs);
	if ((rc = import_bytes(&u, data.data, data.len)) < 0) {
		api_reply_error(req, 500, "INTERNAL", "importing: %s",
				efs_error_msg());
		return;
	}
	if (!upload_sync(&u, &mark))
		return;
	cid_tostr(u.root_str, &u.root);
	upload_finish(&u);
}

/* ---- POST /content/add-car ------------------------------------------- */

static bool stored(void *cls, const struct cid *id)
{
	return bstore_has(cls, id);
}

static void route_add_car(struct http_req *req, struct api_server *s)
{
	struct api_upload_car_info info;
	struct blockio_sink sink;
	struct cid *roots = NULL;
	const uint8_t *body;
	struct upload u;
	size_t len, n;
	uint64_t mark;
	int rc;

	if (!upload_open(&u, req, s))
		return;
	body = http_req_body(req, &len);
	if (len == 0) {
		api_reply_error(req, 400, "BAD_REQUEST",
				"empty body: want a "
				"CAR (curl --data-binary @FILE.car)");
		return;
	}
	rc = api_upload_car_check(&info, body, len, 0, stored, u.bs);
	if (rc == EFS_ENOMEM) {
		api_reply_error(req, 500, "INTERNAL", "%s", efs_error_msg());
		return;
	} else if (rc < 0) {
		reply_bad(&u, "CAR refused, nothing stored");
		return;
	}
	sink = bstore_sink(u.bs);
	mark = bstore_errseq(u.bs);
	rc = car_import_mem(&roots, &n, &sink, body, len);
	efs_free(roots);
	if (rc < 0) {
		api_reply_error(req, 500, "INTERNAL", "storing the CAR: %s",
				efs_error_msg());
		return;
	}
	if (!upload_sync(&u, &mark))
		return;
	u.root = info.root;
	u.size = info.bytes;
	cid_tostr(u.root_str, &u.root);
	upload_finish(&u);
}

/* ---- the table (api_i.h) --------------------------------------------- */

const struct api_route api_upload_routes[] = {
    {"POST", "/content/add", route_add, API_WRITE},
    {"POST", "/content/add-car", route_add_car, API_WRITE},
};
const size_t api_upload_nroutes =
    sizeof(api_upload_routes) / sizeof(api_upload_routes[0]);
