/*
 * rpc.c - the Lotus JSON-RPC endpoint: authentication, the method table,
 * parameter decoding and dispatch (rpc_i.h says in which order, and
 * why), and GET /price.
 *
 * Authentication is go-jsonrpc's auth.Handler: the token comes from
 * "Authorization: Bearer <jwt>" or, without that header, the "token"
 * query argument; a header without the "Bearer " prefix or a token that
 * does not verify gets HTTP 401 with an empty body; no token at all
 * means permission "read" only.
 *
 * Methods exist per API version: v0 keeps the older StateSearchMsg and
 * StateWaitMsg parameter lists.  The Devnet.* methods (admin) are the
 * simulator's own.
 */
#include "contrib/devnet/rpc_i.h"

#include <stdio.h>
#include <string.h>

#include "contrib/devnet/jwt.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"

#include "core/banned.h"

#define V0 1
#define V1 2
#define VALL (V0 | V1)

struct rpc_method {
	const char *name;         /* with its namespace */
	unsigned versions;
	unsigned perm;            /* one jwt.h bit */
	const char *params;       /* kinds, rpc_i.h */
	rpc_fn fn;
};

static const struct rpc_method methods[] = {
	{ "Filecoin.ChainHead", VALL, JWT_READ, "", rpc_chain_head },
	{ "Filecoin.ChainGetTipSetByHeight", VALL, JWT_READ, "ek",
	  rpc_chain_get_tipset_by_height },
	{ "Filecoin.ChainGetGenesis", VALL, JWT_READ, "",
	  rpc_chain_get_genesis },
	{ "Filecoin.Version", VALL, JWT_READ, "", rpc_version },
	{ "Filecoin.StateNetworkName", VALL, JWT_READ, "",
	  rpc_state_network_name },
	{ "Filecoin.StateNetworkVersion", VALL, JWT_READ, "k",
	  rpc_state_network_version },
	{ "Filecoin.StateListMiners", VALL, JWT_READ, "k",
	  rpc_state_list_miners },
	{ "Filecoin.StateMinerInfo", VALL, JWT_READ, "ak",
	  rpc_state_miner_info },
	{ "Filecoin.StateMinerPower", VALL, JWT_READ, "ak",
	  rpc_state_miner_power },
	{ "Filecoin.StateLookupID", VALL, JWT_READ, "ak",
	  rpc_state_lookup_id },
	{ "Filecoin.StateAccountKey", VALL, JWT_READ, "ak",
	  rpc_state_account_key },
	{ "Filecoin.StateGetActor", VALL, JWT_READ, "ak",
	  rpc_state_get_actor },
	{ "Filecoin.WalletBalance", VALL, JWT_READ, "a", rpc_wallet_balance },
	{ "Filecoin.StateMarketBalance", VALL, JWT_READ, "ak",
	  rpc_state_market_balance },
	{ "Filecoin.StateVerifiedClientStatus", VALL, JWT_READ, "ak",
	  rpc_state_verified_client_status },
	{ "Filecoin.StateDealProviderCollateralBounds", VALL, JWT_READ, "sbk",
	  rpc_state_deal_provider_collateral_bounds },
	{ "Filecoin.StateMarketStorageDeal", VALL, JWT_READ, "dk",
	  rpc_state_market_storage_deal },
	{ "Filecoin.StateGetClaim", VALL, JWT_READ, "alk",
	  rpc_state_get_claim },
	{ "Filecoin.GasEstimateMessageGas", VALL, JWT_READ, "jjk",
	  rpc_gas_estimate_message_gas },
	{ "Filecoin.MpoolGetNonce", VALL, JWT_READ, "a", rpc_mpool_get_nonce },
	{ "Filecoin.MpoolPush", VALL, JWT_WRITE, "j", rpc_mpool_push },
	{ "Filecoin.StateSearchMsg", V1, JWT_READ, "kceb",
	  rpc_state_search_msg },
	{ "Filecoin.StateSearchMsg", V0, JWT_READ, "c", rpc_state_search_msg },
	{ "Filecoin.StateWaitMsg", V1, JWT_READ, "cueb", rpc_state_wait_msg },
	{ "Filecoin.StateWaitMsg", V0, JWT_READ, "cu", rpc_state_wait_msg },
	{ "Devnet.Faucet", VALL, JWT_ADMIN, "an", rpc_devnet_faucet },
	{ "Devnet.GrantDataCap", VALL, JWT_ADMIN, "an",
	  rpc_devnet_grant_datacap },
	{ "Devnet.SetFault", VALL, JWT_ADMIN, "aj", rpc_devnet_set_fault },
	{ "Devnet.GetFault", VALL, JWT_ADMIN, "a", rpc_devnet_get_fault },
	{ "Devnet.SetPrice", VALL, JWT_ADMIN, "j", rpc_devnet_set_price },
	{ "Devnet.Miners", VALL, JWT_READ, "", rpc_devnet_miners },
	{ "Devnet.Mine", VALL, JWT_ADMIN, "u", rpc_devnet_mine },
	{ "Devnet.InjectDeals", VALL, JWT_ADMIN, "j",
	  rpc_devnet_inject_deals },
};

#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

static const struct rpc_method *method_find(const char *name, int version)
{
	for (size_t i = 0; i < NMETHODS; i++)
		if (strcmp(methods[i].name, name) == 0 &&
		    (methods[i].versions & (version ? V1 : V0)))
			return &methods[i];
	return NULL;
}

/* ---- parameters ---- */

static const char *kind_gotype(char k)
{
	switch (k) {
	case 'a':
		return "address.Address";
	case 'k':
		return "types.TipSetKey";
	case 'c':
		return "cid.Cid";
	case 'd':
		return "abi.DealID";
	case 's':
		return "abi.PaddedPieceSize";
	case 'l':
		return "verifreg.ClaimId";
	case 'u':
		return "uint64";
	case 'e':
		return "abi.ChainEpoch";
	case 'b':
		return "bool";
	case 'n':
		return "big.Int";
	case 'B':
		return "[]uint8";
	default:
		return "json.RawMessage";
	}
}

static int decode_number(struct rpc_call *c, union rpc_param *p,
			 const json_t *v, char k)
{
	const char *t = kind_gotype(k);

	if (json_is_null(v)) {
		p->i = 0;
		return 0;
	}
	if (json_is_real(v))
		return rpc_param_error(c, t, "json: cannot unmarshal number "
				       "%g into Go value of type %s",
				       json_real_value(v), t);
	if (!json_is_integer(v))
		return rpc_param_error(c, t,
				       "json: cannot unmarshal %s into "
				       "Go value of type %s",
				       rpc_parse_type_name(v), t);
	if (k != 'e' && json_integer_value(v) < 0)
		return rpc_param_error(c, t,
				       "json: cannot unmarshal number "
				       "%lld into Go value of type %s",
				       (long long)json_integer_value(v), t);
	p->i = json_integer_value(v);
	return 0;
}

static int decode_tsk(struct rpc_call *c, union rpc_param *p, const json_t *v)
{
	const char *t = kind_gotype('k');
	struct cid cid;
	size_t i;
	json_t *e;
	int rc;

	p->i = chain_head(c->d);
	if (json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return rpc_param_error(c, t,
				       "json: cannot unmarshal %s into "
				       "Go value of type []cid.Cid",
				       rpc_parse_type_name(v));
	json_array_foreach(v, i, e)
	{
		if (rpc_cid_from_json(&cid, e) < 0)
			return rpc_param_error(c, t, "%s", efs_error_msg());
		/* The state is the head's whatever the tipset: the devnet
		 * keeps no history; an unknown tipset still fails. */
		if ((rc = chain_tipset_height(c->d, &p->i, &cid)) < 0)
			return rc;
	}
	return 0;
}

static int decode_string_kind(struct rpc_call *c, union rpc_param *p,
			      const json_t *v, char k)
{
	const char *t = kind_gotype(k), *s;
	size_t len;

	if (!json_is_string(v) && !json_is_null(v))
		return rpc_param_error(c, t,
				       "json: cannot unmarshal %s into "
				       "Go value of type string",
				       rpc_parse_type_name(v));
	s = json_is_string(v) ? json_string_value(v) : "";
	len = json_is_string(v) ? json_string_length(v) : 0;
	if (k == 'a') {
		if (filaddr_parse(&p->addr, NULL, s, len) < 0)
			return rpc_param_error(c, t, "%s", efs_error_msg());
		return 0;
	}
	if (k == 'n') {
		if (bigint_parse(&p->big, s, len) < 0)
			return rpc_param_error(c, t, "failed to parse string "
					       "as a big int");
		return 0;
	}
	p->json = v;
	return 0;
}

static int decode_param(struct rpc_call *c, size_t i, char k)
{
	const json_t *v = c->raw[i];
	union rpc_param *p = &c->p[i];

	switch (k) {
	case 'a':
	case 'n':
	case 'B':
		return decode_string_kind(c, p, v, k);
	case 'k':
		return decode_tsk(c, p, v);
	case 'c':
		if (json_is_null(v)) {
			memset(&p->cid, 0, sizeof(p->cid));
			return 0;
		}
		if (rpc_cid_from_json(&p->cid, v) < 0)
			return rpc_param_error(c, kind_gotype(k), "%s",
					       efs_error_msg());
		return 0;
	case 'b':
		if (!json_is_boolean(v) && !json_is_null(v))
			return rpc_param_error(c, "bool",
					       "json: cannot "
					       "unmarshal %s into Go value of "
					       "type bool",
					       rpc_parse_type_name(v));
		p->b = json_is_true(v);
		return 0;
	case 'j':
		p->json = v;
		return 0;
	default:
		return decode_number(c, p, v, k);
	}
}

/* ---- dispatch ---- */

/* The Lotus method name the permission message uses: "ChainHead". */
static const char *short_name(const char *name)
{
	const char *dot = strchr(name, '.');

	return dot ? dot + 1 : name;
}

/*
 * Run request r.  Returns the response (a new reference), or NULL for a
 * notification that got none.  *status is the HTTP status a single
 * request would be answered with.
 */
static json_t *dispatch(struct devnet *d, int version, unsigned perms,
			const struct rpc_request *r, unsigned *status)
{
	const struct rpc_method *m;
	struct rpc_call c = { .d = d, .version = version, .perms = perms };
	size_t n = json_array_size(r->params);
	json_t *result = NULL;
	int rc = 0;

	*status = 200;
	if (r->bad) {
		c.err = r->err;
		goto error;
	}
	c.method = r->method;
	m = method_find(r->method, version);
	if (!m) {
		rpc_parse_error_set(&c.err, RPC_METHOD_NOT_FOUND,
				    "method '%s' not found", r->method);
		goto error;
	}
	if (n != strlen(m->params)) {
		rpc_parse_error_set(
		    &c.err, RPC_INVALID_PARAMS,
		    "wrong param count (method '%s'): %zu != %zu", r->method, n,
		    strlen(m->params));
		goto error;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		c.raw[i] = json_array_get(r->params, i);
		rc = decode_param(&c, i, m->params[i]);
	}
	if (rc == 0 && !(perms & m->perm))
		rc = efs_error_set(EFS_EINVAL, "missing permission to invoke "
				   "'%s' (need '%s')", short_name(m->name),
				   jwt_perm_name(m->perm));
	if (rc == 0)
		rc = m->fn(&c, &result);
	if (rc < 0) {
		if (!c.err.code)
			rpc_parse_error_set(&c.err, RPC_METHOD_ERROR, "%s",
					    efs_error_msg());
		goto error;
	}
	if (!r->id) {
		json_decref(result);
		return NULL;
	}
	return rpc_parse_result(r->id, result);
error:
	*status = rpc_parse_http_status(c.err.code);
	/* go-jsonrpc answers a notification only when it fails before
	 * the call, and with code 1 never. */
	if (!r->id && c.err.code == RPC_METHOD_ERROR)
		return NULL;
	return rpc_parse_error(r->id, &c.err);
}

/* ---- HTTP ---- */

static int dump_cb(const char *p, size_t n, void *data)
{
	return buf_add(data, p, n) < 0 ? -1 : 0;
}

/* Answer with v (stolen) and a newline, as Go's json.Encoder writes. */
static int reply(struct http_req *req, unsigned status, json_t *v)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	int rc;

	if (!v)
		return http_reply_text(req, 500, "out of memory\n");
	if (json_dump_callback(v, dump_cb, &b,
			       JSON_COMPACT | JSON_ENCODE_ANY) < 0 ||
	    buf_addch(&b, '\n') < 0)
		rc = http_reply_text(req, 500, "out of memory\n");
	else
		rc = http_reply(req, status, "application/json", b.ptr, b.len);
	json_decref(v);
	buf_release(&b);
	return rc;
}

/* The caller's permissions, or -1 after answering 401. */
static int authenticate(struct devnet *d, struct http_req *req,
			unsigned *perms)
{
	const char *auth = http_req_header(req, "Authorization");
	const char *token;

	*perms = JWT_READ;
	if (!auth || !*auth) {
		token = http_req_query(req, "token");
		if (!token || !*token)
			return 0;
	} else if (strncmp(auth, "Bearer ", 7) == 0) {
		token = auth + 7;
	} else {
		http_reply(req, 401, NULL, "", 0);
		return -1;
	}
	if (jwt_verify(perms, d->jwt_secret, token, strlen(token)) < 0) {
		http_reply(req, 401, NULL, "", 0);
		return -1;
	}
	return 0;
}

static void serve_batch(struct devnet *d, struct http_req *req, int version,
			unsigned perms, const struct rpc_body *body)
{
	json_t *out = json_array();
	unsigned status;

	for (size_t i = 0; out && i < body->n; i++) {
		json_t *resp = dispatch(d, version, perms, &body->reqs[i],
					&status);

		if (resp && json_array_append_new(out, resp) < 0) {
			json_decref(out);
			out = NULL;
		}
	}
	reply(req, 200, out);
}

void rpc_serve(struct devnet *d, struct http_req *req, int version)
{
	struct rpc_body body;
	struct rpc_error err;
	const uint8_t *p;
	unsigned perms, status;
	json_t *resp;
	size_t len;

	if (authenticate(d, req, &perms) < 0)
		return;
	if (http_req_body_too_big(req)) {
		rpc_parse_error_set(&err, RPC_PARSE_ERROR,
				    "request bigger "
				    "than maximum %zu allowed",
				    (size_t)HTTP_BODY_MAX);
		reply(req, 500, rpc_parse_error(NULL, &err));
		return;
	}
	p = http_req_body(req, &len);
	if (rpc_parse_body(&body, &err, (const char *)p, len) < 0) {
		if (efs_error_code() == EFS_ENOMEM)
			rpc_parse_error_set(&err, RPC_PARSE_ERROR,
					    "out of memory");
		reply(req, rpc_parse_http_status(err.code),
		      rpc_parse_error(NULL, &err));
	} else if (body.batch) {
		serve_batch(d, req, version, perms, &body);
	} else {
		resp = dispatch(d, version, perms, &body.reqs[0], &status);
		if (resp)
			reply(req, status, resp);
		else
			http_reply(req, 200, "application/json", "", 0);
	}
	rpc_parse_release(&body);
}

void rpc_serve_price(struct devnet *d, struct http_req *req)
{
	double rate;
	json_t *v;

	pthread_mutex_lock(&d->lock);
	rate = d->fil_usd;
	pthread_mutex_unlock(&d->lock);
	/* CoinGecko's simple/price shape, so a client configured for it
	 * only needs the base URL changed. */
	v = json_pack("{s:{s:f}}", "filecoin", "usd", rate);
	if (!v) {
		http_reply_text(req, 500, "out of memory\n");
		return;
	}
	http_reply_json(req, 200, v);
	json_decref(v);
}
