/*
 * wallet.c - the repository's wallet directory (see wallet.h).
 *
 * Design notes:
 *  - The struct holds a read-only descriptor of the wallet directory,
 *    and every file operation is relative to it (openat, linkat,
 *    renameat), so the wallet keeps working whatever happens to the
 *    process's working directory, and no name is followed as a symlink.
 *  - Writes: the bytes go to ".tmp-<name>-<pid>-<n>" (O_EXCL, 0600,
 *    fchmod against the umask), which is fsynced, then linked (a key:
 *    linkat fails rather than replace an existing file) or renamed (the
 *    default) into place, and the directory is fsynced.  A crash leaves
 *    at worst a temporary file, which nothing lists or reads.
 *  - Reads of key files check the mode and owner on the open descriptor
 *    (fstat, no race with a chmod between check and read) and read into
 *    a fixed stack buffer that is wiped afterwards.  The key found must
 *    be the key of the address the file is named after.
 */
#include "core/wallet.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/fdio.h"

#include "core/banned.h"

#define WALLET_DIR "wallet"
#define WALLET_DEFAULT "default"
/* Longest default file read (an address and a newline). */
#define WALLET_DEFAULT_MAX 256

struct wallet {
	int dirfd; /* the wallet directory, O_RDONLY | O_DIRECTORY */
};

static atomic_uint tmp_counter;

/* ---- opening ---- */

static int ensure_dir(int atfd, const char *path, const char *what)
{
	if (mkdirat(atfd, path, 0700) == 0 || errno == EEXIST)
		return 0;
	return efs_error_set_errno(EFS_EIO, errno, "wallet: cannot create "
				   "%s %s", what, path);
}

static int check_dir(int fd, const char *path)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return efs_error_set_errno(EFS_EIO, errno, "wallet: stat %s/"
					   WALLET_DIR, path);
	if (st.st_mode & 022)
		return efs_error_set(EFS_EINVAL, "wallet: directory %s/"
				     WALLET_DIR " is writable by group or "
				     "others (mode %04o): run chmod 700 on it",
				     path,
				     (unsigned)(st.st_mode & 07777));
	return 0;
}

int wallet_open(struct wallet **out, const char *repo)
{
	struct wallet *w;
	int repofd, fd, rc;

	if ((rc = ensure_dir(AT_FDCWD, repo, "repository")) < 0)
		return rc;
	repofd = open(repo, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (repofd < 0)
		return efs_error_set_errno(errno == ENOTDIR ? EFS_EINVAL :
					   EFS_EIO, errno, "wallet: open %s",
					   repo);
	if ((rc = ensure_dir(repofd, WALLET_DIR, "directory")) < 0) {
		close(repofd);
		return rc;
	}
	fd = openat(repofd, WALLET_DIR,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(repofd);
	if (fd < 0)
		return efs_error_set_errno(errno == ENOTDIR ? EFS_EINVAL :
					   EFS_EIO, errno, "wallet: open %s/"
					   WALLET_DIR, repo);
	if ((rc = check_dir(fd, repo)) < 0)
		goto out_close;
	if (!(w = efs_malloc(sizeof(*w)))) {
		rc = efs_error_set(EFS_ENOMEM, "out of memory");
		goto out_close;
	}
	w->dirfd = fd;
	*out = w;
	return 0;
out_close:
	close(fd);
	return rc;
}

void wallet_close(struct wallet *w)
{
	if (!w)
		return;
	close(w->dirfd);
	efs_free(w);
}

/* ---- files ---- */

/* The file name of a's key; EFS_EINVAL when a has no key of ours. */
static int key_name(char name[FILADDR_STR_MAX], const struct filaddr *a)
{
	if (a->protocol != FILADDR_SECP256K1)
		return efs_error_set(EFS_EINVAL, "wallet: only f1 "
				     "(secp256k1) addresses have keys");
	filaddr_format(name, a, 'f');
	return 0;
}

static int write_all(int fd, const char *p, size_t len, const char *name)
{
	if (fdio_write(fd, p, len) < 0)
		return efs_error_set_errno(EFS_EIO, errno, "wallet: "
					   "write %s", name);
	return 0;
}

/* Write the temporary file tmp with data, fsynced, mode 0600. */
static int write_tmp(int dirfd, const char *tmp, const char *data,
		     size_t len)
{
	int fd, rc;

	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
	if (fd < 0)
		return efs_error_set_errno(EFS_EIO, errno, "wallet: create "
					   "%s", tmp);
	if (fchmod(fd, 0600) < 0)
		rc = efs_error_set_errno(EFS_EIO, errno, "wallet: chmod %s",
					 tmp);
	else if ((rc = write_all(fd, data, len, tmp)) == 0 && fsync(fd) < 0)
		rc = efs_error_set_errno(EFS_EIO, errno, "wallet: fsync %s",
					 tmp);
	if (close(fd) < 0 && rc == 0)
		rc = efs_error_set_errno(EFS_EIO, errno, "wallet: close %s",
					 tmp);
	return rc;
}

/*
 * Put data into the file name atomically.  replace: rename over an
 * existing file; otherwise EFS_EEXISTS when name exists.
 */
static int put_file(struct wallet *w, const char *name, const char *data,
		    size_t len, bool replace)
{
	char tmp[FILADDR_STR_MAX + 64];
	int rc;

	snprintf(tmp, sizeof(tmp), ".tmp-%s-%ld-%u", name, (long)getpid(),
		 atomic_fetch_add(&tmp_counter, 1));
	if ((rc = write_tmp(w->dirfd, tmp, data, len)) < 0)
		goto out_unlink;
	if (replace) {
		if (renameat(w->dirfd, tmp, w->dirfd, name) < 0) {
			rc = efs_error_set_errno(EFS_EIO, errno, "wallet: "
						 "rename to %s", name);
			goto out_unlink;
		}
	} else {
		if (linkat(w->dirfd, tmp, w->dirfd, name, 0) < 0) {
			rc = errno == EEXIST ?
				efs_error_set(EFS_EEXISTS, "wallet: %s is "
					      "already in the wallet", name) :
				efs_error_set_errno(EFS_EIO, errno, "wallet: "
						    "link %s", name);
			goto out_unlink;
		}
		unlinkat(w->dirfd, tmp, 0);
	}
	if (fsync(w->dirfd) < 0)
		return efs_error_set_errno(EFS_EIO, errno, "wallet: fsync "
					   "the wallet directory");
	return 0;
out_unlink:
	unlinkat(w->dirfd, tmp, 0);
	return rc;
}

/*
 * Read the whole small file name into buf (cap bytes, NUL added); its
 * length goes to *len.  With secret, the file must be private to us.
 */
static int get_file(char *buf, size_t cap, size_t *len, struct wallet *w,
		    const char *name, bool secret)
{
	struct stat st;
	size_t n = 0;
	ssize_t r;
	int fd, rc = 0;

	fd = openat(w->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return efs_error_set(EFS_ENOTFOUND, "wallet: no %s in the "
				     "wallet", name);
	if (fd < 0)
		return efs_error_set_errno(EFS_EIO, errno, "wallet: open %s",
					   name);
	if (fstat(fd, &st) < 0) {
		rc = efs_error_set_errno(EFS_EIO, errno, "wallet: stat %s",
					 name);
	} else if (!S_ISREG(st.st_mode)) {
		rc = efs_error_set(EFS_ECORRUPT, "wallet: %s is not a regular "
				   "file", name);
	} else if (secret && (st.st_mode & 077)) {
		rc = efs_error_set(EFS_EINVAL, "wallet: key file %s may be "
				   "read by group or others (mode %04o): run "
				   "chmod 600 on it", name,
				   (unsigned)(st.st_mode & 07777));
	} else if (secret && st.st_uid != geteuid()) {
		rc = efs_error_set(EFS_EINVAL, "wallet: key file %s belongs "
				   "to uid %u, not to us", name,
				   (unsigned)st.st_uid);
	}
	while (rc == 0 && (r = read(fd, buf + n, cap - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			rc = efs_error_set_errno(EFS_EIO, errno, "wallet: "
						 "read %s", name);
		else if ((n += (size_t)r) == cap)
			rc = efs_error_set(EFS_ECORRUPT, "wallet: %s is over "
					   "%zu bytes", name, cap - 1);
	}
	close(fd);
	buf[rc == 0 ? n : 0] = '\0';
	*len = rc == 0 ? n : 0;
	return rc;
}

/* Read a's key from its file. */
static int load_key(struct filkey *out, struct wallet *w,
		    const struct filaddr *a)
{
	char name[FILADDR_STR_MAX], got[FILADDR_STR_MAX];
	char text[FILKEY_KEYINFO_IN_MAX + 2];
	size_t len;
	int rc;

	if ((rc = key_name(name, a)) < 0)
		return rc;
	rc = get_file(text, sizeof(text), &len, w, name, true);
	if (rc == EFS_ENOTFOUND)
		rc = efs_error_set(EFS_ENOTFOUND, "wallet: no key for %s",
				   name);
	if (rc == 0 && (rc = filkey_keyinfo_parse(out, text, len)) < 0)
		rc = efs_error_set(rc, "wallet: key file %s: %s", name,
				   efs_error_msg());
	explicit_bzero(text, sizeof(text));
	if (rc == 0 && !filaddr_equal(&out->addr, a)) {
		filaddr_format(got, &out->addr, 'f');
		filkey_release(out);
		rc = efs_error_set(EFS_ECORRUPT, "wallet: key file %s holds "
				   "the key of %s", name, got);
	}
	return rc;
}

/* Store k under its address; EFS_EEXISTS if there already. */
static int store_key(struct wallet *w, const struct filkey *k)
{
	char name[FILADDR_STR_MAX];
	char text[FILKEY_KEYINFO_MAX + 1];
	size_t n;
	int rc;

	filaddr_format(name, &k->addr, 'f');
	n = filkey_keyinfo_format(text, k);
	text[n++] = '\n';
	rc = put_file(w, name, text, n, false);
	explicit_bzero(text, sizeof(text));
	return rc;
}

/* ---- the API ---- */

bool wallet_has(struct wallet *w, const struct filaddr *a)
{
	char name[FILADDR_STR_MAX];
	struct stat st;

	if (a->protocol != FILADDR_SECP256K1)
		return false;
	filaddr_format(name, a, 'f');
	return fstatat(w->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISREG(st.st_mode);
}

int wallet_default(struct filaddr *out, struct wallet *w)
{
	char text[WALLET_DEFAULT_MAX], net;
	size_t len;
	int rc;

	rc = get_file(text, sizeof(text), &len, w, WALLET_DEFAULT, false);
	if (rc == EFS_ENOTFOUND)
		return efs_error_set(EFS_ENOTFOUND, "wallet: no default "
				     "address");
	if (rc < 0)
		return rc;
	while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
		len--;
	if (filaddr_parse(out, &net, text, len) < 0 ||
	    out->protocol != FILADDR_SECP256K1)
		return efs_error_set(EFS_ECORRUPT, "wallet: the default file "
				     "does not hold an f1 address");
	if (!wallet_has(w, out))
		return efs_error_set(EFS_ENOTFOUND, "wallet: the default "
				     "address %.*s has no key", (int)len,
				     text);
	return 0;
}

int wallet_set_default(struct wallet *w, const struct filaddr *a)
{
	char name[FILADDR_STR_MAX + 1];
	size_t n;
	int rc;

	if ((rc = key_name(name, a)) < 0)
		return rc;
	if (!wallet_has(w, a))
		return efs_error_set(EFS_ENOTFOUND, "wallet: no key for %s",
				     name);
	n = strlen(name);
	name[n++] = '\n';
	return put_file(w, WALLET_DEFAULT, name, n, true);
}

/*
 * Store k and make it the default when there is none.  A default file
 * that cannot be read is left for wallet_default to report: the key is
 * stored, which is what the caller asked for.
 */
static int add_key(struct filaddr *out, struct wallet *w,
		   const struct filkey *k)
{
	struct filaddr def;
	int rc;

	if ((rc = store_key(w, k)) < 0)
		return rc;
	*out = k->addr;
	rc = wallet_default(&def, w);
	if (rc == EFS_ENOTFOUND)
		return wallet_set_default(w, &k->addr);
	efs_error_clear();
	return 0;
}

int wallet_new(struct filaddr *out, struct wallet *w)
{
	struct filkey k;
	int rc;

	if ((rc = filkey_generate(&k)) == 0)
		rc = add_key(out, w, &k);
	filkey_release(&k);
	return rc;
}

int wallet_import(struct filaddr *out, struct wallet *w, const char *text,
		  size_t len)
{
	struct filkey k;
	int rc;

	if ((rc = filkey_keyinfo_parse(&k, text, len)) == 0)
		rc = add_key(out, w, &k);
	filkey_release(&k);
	return rc;
}

int wallet_export(char *out, struct wallet *w, const struct filaddr *a)
{
	struct filkey k;
	int rc;

	if ((rc = load_key(&k, w, a)) == 0)
		filkey_keyinfo_format(out, &k);
	filkey_release(&k);
	return rc;
}

int wallet_sign(struct filsig *out, struct wallet *w, const struct filaddr *a,
		const void *msg, size_t len)
{
	struct filkey k;
	int rc;

	if ((rc = load_key(&k, w, a)) == 0)
		rc = filkey_sign(out, &k, msg, len);
	filkey_release(&k);
	return rc;
}

static int cmp_addr(const void *x, const void *y)
{
	char a[FILADDR_STR_MAX], b[FILADDR_STR_MAX];

	filaddr_format(a, x, 'f');
	filaddr_format(b, y, 'f');
	return strcmp(a, b);
}

/* Append a to the growing array *v of *n entries. */
static int push_addr(struct filaddr **v, size_t *n, size_t *cap,
		     const struct filaddr *a)
{
	struct filaddr *nv;

	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;

		if (!(nv = efs_reallocarray(*v, ncap, sizeof(**v))))
			return efs_error_set(EFS_ENOMEM, "out of memory");
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*n)++] = *a;
	return 0;
}

int wallet_list(struct filaddr **out, size_t *n_out, struct wallet *w)
{
	struct filaddr *v = NULL, a;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int fd, rc = 0;
	char net;

	if ((fd = dup(w->dirfd)) < 0 || !(d = fdopendir(fd))) {
		rc = efs_error_set_errno(EFS_EIO, errno, "wallet: read the "
					 "wallet directory");
		if (fd >= 0)
			close(fd);
		return rc;
	}
	rewinddir(d);
	while (rc == 0 && (errno = 0, de = readdir(d))) {
		if (de->d_name[0] == '.' ||
		    (de->d_type != DT_REG && de->d_type != DT_UNKNOWN) ||
		    filaddr_parse(&a, &net, de->d_name,
				  strlen(de->d_name)) < 0 ||
		    a.protocol != FILADDR_SECP256K1 || net != 'f')
			continue;
		rc = push_addr(&v, &n, &cap, &a);
	}
	if (rc == 0 && errno)
		rc = efs_error_set_errno(EFS_EIO, errno, "wallet: read the "
					 "wallet directory");
	closedir(d);
	if (rc < 0) {
		efs_free(v);
		return rc;
	}
	efs_error_clear();
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_addr);
	*out = v;
	*n_out = n;
	return 0;
}
