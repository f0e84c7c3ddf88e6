/*
 * netfx.h - the loopback fixture of the HTTP tests: one net/http.h
 * server per process on 127.0.0.1 at an ephemeral port, requests to it
 * through net/httpc.h, and a port nobody listens on.
 *
 *	static int setup(void) { return netfx_start(0, handle, NULL); }
 *	static int teardown(void) { netfx_stop(); return 0; }
 *	...
 *	CU_ASSERT_EQUAL_FATAL(netfx_call(&resp, "GET", "/x", NULL, 0), 0);
 *
 * Called from the test's thread (netfx_call from any thread once the
 * server runs); the handler runs on the server's threads.
 */
#ifndef EFS_TESTS_NETFX_H
#define EFS_TESTS_NETFX_H

#include <stddef.h>
#include <stdint.h>

#include "net/http.h"
#include "net/httpc.h"

/*
 * httpc_global_init, then serve every request with fn(req, payload),
 * request bodies capped at max_body (0: HTTP_BODY_MAX).  0 or an efs
 * code.
 */
int netfx_start(size_t max_body, http_handler_fn fn, void *payload);

/* Stop the server (also when netfx_start failed or never ran). */
void netfx_stop(void);

/* "http://127.0.0.1:<port>" of the server, without a trailing '/'. */
const char *netfx_base(void);
uint16_t netfx_port(void);

/*
 * method <base><path>, with len bytes of body (NULL: none), into out as
 * httpc_do does (release out with httpc_resp_release, also after an
 * error).  EFS_EINVAL when the URL does not fit 512 bytes.
 */
int netfx_call(struct httpc_resp *out, const char *method, const char *path,
	       const void *body, size_t len);

/* A loopback port nothing listens on (a server's, once stopped), or 0. */
uint16_t netfx_dead_port(void);

#endif
