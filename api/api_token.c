/*
 * api_token.c - the API's bearer token (api_token.h).
 *
 * Design notes:
 * - The file is created 0600 with O_EXCL under a temporary name and
 *   renamed over api.token, so the token is never readable by others
 *   even for a moment, whatever the umask.
 * - The comparison runs over every byte whatever differs first, so its
 *   time tells nothing of the token.
 */
#include "api/api_token.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/fdio.h"

#include "core/banned.h"

#define BEARER "Bearer "

static int token_path(struct buf *out, const char *repo, const char *name)
{
	return buf_printf(out, "%s/%s%c", repo, name, '\0');
}

int api_token_create(char out[API_TOKEN_SIZE], const char *repo)
{
	static const char hex[] = "0123456789abcdef";
	struct buf path = BUF_INIT(BUF_NOCAP), tmp = BUF_INIT(BUF_NOCAP);
	uint8_t raw[API_TOKEN_LEN / 2];
	int fd = -1, rc;

	out[0] = '\0';
	if (fdio_random(raw, sizeof(raw)) < 0)
		return efs_error_set_errno(EFS_EIO, errno, "api: no random "
					   "bytes for the token");
	for (size_t i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[API_TOKEN_LEN] = '\0';
	if ((rc = token_path(&path, repo, API_TOKEN_FILE)) < 0 ||
	    (rc = token_path(&tmp, repo, "." API_TOKEN_FILE ".tmp")) < 0)
		goto out;
	unlink((const char *)tmp.ptr);
	fd = open((const char *)tmp.ptr,
		  O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || fdio_write(fd, out, API_TOKEN_LEN) < 0 ||
	    fdio_write(fd, "\n", 1) < 0 || fsync(fd) < 0 ||
	    rename((const char *)tmp.ptr, (const char *)path.ptr) < 0) {
		rc = efs_error_set_errno(EFS_EIO, errno, "api: writing %s",
					 (const char *)path.ptr);
		unlink((const char *)tmp.ptr);
	}
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		memset(out, 0, API_TOKEN_SIZE);
	buf_release(&path);
	buf_release(&tmp);
	return rc;
}

int api_token_read(char out[API_TOKEN_SIZE], const char *repo)
{
	struct buf path = BUF_INIT(BUF_NOCAP), text = BUF_INIT(256);
	size_t n;
	int rc;

	out[0] = '\0';
	if ((rc = token_path(&path, repo, API_TOKEN_FILE)) < 0)
		goto out;
	rc = fdio_read_file(&text, (const char *)path.ptr);
	if (rc == EFS_ENOTFOUND)
		rc = efs_error_set(EFS_ENOTFOUND, "api: no %s: no daemon has "
				   "started in %s", API_TOKEN_FILE, repo);
	if (rc < 0)
		goto out;
	n = text.len;
	while (n > 0 && (text.ptr[n - 1] == '\n' || text.ptr[n - 1] == '\r'))
		n--;
	if (n != API_TOKEN_LEN ||
	    strspn((const char *)text.ptr, "0123456789abcdef") != n) {
		rc = efs_error_set(EFS_ECORRUPT, "api: %s is not a token",
				   (const char *)path.ptr);
		goto out;
	}
	memcpy(out, text.ptr, API_TOKEN_LEN);
	out[API_TOKEN_LEN] = '\0';
out:
	buf_release(&path);
	buf_release(&text);
	return rc;
}

void api_token_remove(const char *repo)
{
	struct buf path = BUF_INIT(BUF_NOCAP);

	if (token_path(&path, repo, API_TOKEN_FILE) == 0)
		unlink((const char *)path.ptr);
	buf_release(&path);
}

bool api_token_check(const char *token, const char *auth)
{
	size_t n = token ? strlen(token) : 0;
	unsigned diff = 0;

	if (!n || !auth || strncmp(auth, BEARER, strlen(BEARER)) != 0)
		return false;
	auth += strlen(BEARER);
	if (strlen(auth) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned)(token[i] ^ auth[i]);
	return diff == 0;
}
