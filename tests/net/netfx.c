/*
 * netfx.c - the loopback server fixture of the HTTP tests (see
 * netfx.h): the setup every test of a net/http.h handler repeated.
 */
#include "tests/net/netfx.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"

static struct http_server *srv;
static char base[64];

int netfx_start(size_t max_body, http_handler_fn fn, void *payload)
{
	int rc;

	if ((rc = httpc_global_init()) < 0 ||
	    (rc = http_server_start(&srv, "127.0.0.1", 0, max_body, fn,
				    payload)) < 0)
		return rc;
	snprintf(base, sizeof(base), "http://127.0.0.1:%u",
		 (unsigned)http_server_port(srv));
	return 0;
}

void netfx_stop(void)
{
	http_server_stop(srv);
	srv = NULL;
	base[0] = '\0';
}

const char *netfx_base(void)
{
	return base;
}

uint16_t netfx_port(void)
{
	return http_server_port(srv);
}

int netfx_call(struct httpc_resp *out, const char *method, const char *path,
	       const void *body, size_t len)
{
	char url[512];
	struct httpc_req req = HTTPC_REQ_INIT(method, url);
	int n = snprintf(url, sizeof(url), "%s%s", base, path);

	if (n < 0 || (size_t)n >= sizeof(url)) {
		memset(out, 0, sizeof(*out));
		return efs_error_set(EFS_EINVAL, "netfx: url too long");
	}
	req.body = body;
	req.body_len = len;
	return httpc_do(out, &req);
}

static void refuse(struct http_req *req, void *payload)
{
	http_drop(req);
}

uint16_t netfx_dead_port(void)
{
	struct http_server *s;
	uint16_t port;

	if (http_server_start(&s, "127.0.0.1", 0, 0, refuse, NULL) < 0)
		return 0;
	port = http_server_port(s);
	http_server_stop(s);
	return port;
}
