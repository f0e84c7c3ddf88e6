/*
 * http_static.c - the yardstick of bench/api_load.sh: a static file
 * server on the daemon's own HTTP stack (net/http.c over libmicrohttpd,
 * a thread per connection, the same server code the API runs on), doing
 * nothing per request but open, fstat and sendfile.
 *
 *   http_static DIR
 *
 * Serves DIR's regular files on 127.0.0.1 at an ephemeral port: GET
 * /a/b answers DIR/a/b (200, application/octet-stream), anything else
 * 404.  Prints "port N" on stdout once listening, then serves until
 * SIGINT or SIGTERM.
 *
 * What the ratio against it means: the bytes an estuaryfs route sends
 * are the same, so the difference is what the route does beyond the
 * server (route and scope checks, CID and path parsing, blockstore
 * reads, re-hashing every block, JSON) and not libmicrohttpd.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "net/http.h"

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/* A path of names, none of them empty, "." or "..". */
static bool path_ok(const char *p)
{
	size_t n;

	if (*p != '/')
		return false;
	while (*p == '/') {
		p++;
		n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n;
	}
	return true;
}

static void handle(struct http_req *req, void *payload)
{
	int dirfd = *(const int *)payload, fd;
	const char *path = http_req_path(req);
	struct stat st;

	if (!path_ok(path) ||
	    (fd = openat(dirfd, path + 1, O_RDONLY | O_CLOEXEC)) < 0) {
		http_reply_text(req, 404, "not found\n");
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		http_reply_text(req, 404, "not found\n");
		return;
	}
	http_reply_fd(req, 200, "application/octet-stream", fd, 0,
		      (uint64_t)st.st_size);
}

int main(int argc, char **argv)
{
	struct http_server *s;
	struct sigaction sa;
	int dirfd;

	if (argc != 2) {
		fprintf(stderr, "usage: http_static DIR\n");
		return 2;
	}
	if ((dirfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		perror(argv[1]);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (http_server_start(&s, "127.0.0.1", 0, 0, handle, &dirfd) < 0) {
		fprintf(stderr, "http_static: %s\n", efs_error_msg());
		return 1;
	}
	printf("port %u\n", (unsigned)http_server_port(s));
	fflush(stdout);
	while (!stopping)
		pause();
	http_server_stop(s);
	close(dirfd);
	return 0;
}
