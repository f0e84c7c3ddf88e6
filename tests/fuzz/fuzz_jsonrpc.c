/*
 * fuzz_jsonrpc.c - the devnet's JSON-RPC envelope parser (and its JWT
 * check, which reads the same untrusted request): any bytes must parse
 * or fail cleanly, and every request that parses must give a response
 * object that encodes.
 */
#include <stdint.h>
#include <stdlib.h>

#include "contrib/devnet/jwt.h"
#include "contrib/devnet/rpc_parse.h"

static void encode(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	if (!s && v)
		abort();
	free(s);
	json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t secret[JWT_SECRET_LEN] = { 1, 2, 3 };
	struct rpc_body b;
	struct rpc_error e;
	unsigned perms;

	if (rpc_parse_body(&b, &e, (const char *)data, size) < 0) {
		encode(rpc_parse_error(NULL, &e));
	} else {
		for (size_t i = 0; i < b.n; i++) {
			const struct rpc_request *r = &b.reqs[i];

			if (r->bad)
				encode(rpc_parse_error(r->id, &r->err));
			else
				encode(rpc_parse_result(
				    r->id, json_deep_copy(r->params)));
		}
	}
	rpc_parse_release(&b);
	jwt_verify(&perms, secret, (const char *)data, size);
	return 0;
}
