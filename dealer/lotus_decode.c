/*
 * lotus_decode.c - Lotus JSON-RPC replies read strictly (see
 * lotus_decode.h): the go-jsonrpc envelope, batches, the error object
 * and the typed results the dealer uses.
 *
 * Design notes:
 *  - Every value from the node is checked for its JSON type and range
 *    before use; the first problem ends the decode with one line naming
 *    the method and the field ("lotus: StateMinerInfo: SectorSize:
 *    expected a power of two").  Values are read with the shared Lotus
 *    JSON forms of core/filjson.h, whose "filjson: " prefix is replaced
 *    by the method's name.
 *  - Lotus' error text is copied into our message with control
 *    characters replaced, so a hostile node cannot forge log lines.
 *  - A batch reply is matched to its calls by id before anything is
 *    kept, so a bad element leaves no half-filled entries behind.
 */
#include "dealer/lotus_decode.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/commp.h"
#include "core/error.h"
#include "core/filjson.h"
#include "core/mbase.h"

#include "core/banned.h"

/* Most characters of the node's error message kept in ours. */
#define ERROR_TEXT_MAX 176

/* ---- errors ---- */

static int bad(const char *method, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(const char *method, const char *field, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (!field)
		return efs_error_set(EFS_ECORRUPT, "lotus: %s: %s", method,
				     why);
	return efs_error_set(EFS_ECORRUPT, "lotus: %s: %s: %s", method, field,
			     why);
}

/* Give a filjson error the method's name instead of its prefix. */
static int rewrap(int rc, const char *method)
{
	const char *m = efs_error_msg();

	if (rc == EFS_ENOMEM)
		return rc;
	if (strncmp(m, "filjson: ", 9) == 0)
		m += 9;
	return efs_error_set(rc, "lotus: %s: %s", method, m);
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

/* ---- members ---- */

static int want_object(const json_t *v, const char *method,
		       const char *field)
{
	if (!json_is_object(v))
		return bad(method, field, "expected an object, got %s",
			   v ? type_name(v) : "null");
	return 0;
}

static int get_i64(int64_t *out, const json_t *o, const char *key,
		   const char *method, int64_t min)
{
	const json_t *v = json_object_get(o, key);

	if (!v)
		return bad(method, key, "missing");
	if (!json_is_integer(v))
		return bad(method, key, "expected an integer, got %s",
			   type_name(v));
	if (json_integer_value(v) < min)
		return bad(method, key, "%lld is below %lld",
			   (long long)json_integer_value(v), (long long)min);
	*out = json_integer_value(v);
	return 0;
}

static int get_u64(uint64_t *out, const json_t *o, const char *key,
		   const char *method)
{
	int64_t v;
	int rc;

	if ((rc = get_i64(&v, o, key, method, 0)) < 0)
		return rc;
	*out = (uint64_t)v;
	return 0;
}

static int get_bool(bool *out, const json_t *o, const char *key,
		    const char *method)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_boolean(v))
		return bad(method, key, "expected a boolean, got %s",
			   v ? type_name(v) : "nothing");
	*out = json_is_true(v);
	return 0;
}

/* A non-negative big integer (amounts, DataCap, power). */
static int get_amount(struct bigint *out, const json_t *v, const char *key,
		      const char *method)
{
	int rc;

	if ((rc = filjson_bigint_decode(out, v, key)) < 0)
		return rewrap(rc, method);
	if (out->neg)
		return bad(method, key, "expected a non-negative amount");
	return 0;
}

static int get_addr(struct filaddr *out, const json_t *o, const char *key,
		    const char *method)
{
	int rc;

	if ((rc = filjson_addr_decode(out, json_object_get(o, key), key)) < 0)
		return rewrap(rc, method);
	return 0;
}

static int get_cid(struct cid *out, const json_t *o, const char *key,
		   const char *method)
{
	int rc;

	if ((rc = filjson_cid_decode(out, json_object_get(o, key), key)) < 0)
		return rewrap(rc, method);
	return 0;
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* ---- the envelope ---- */

int lotus_decode_parse(json_t **out, const void *body, size_t len)
{
	json_error_t err;

	if (!len) {
		*out = NULL;
		return efs_error_set(EFS_ECORRUPT, "lotus: empty reply");
	}
	*out = json_loadb(body, len,
			  JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL |
				  JSON_DECODE_ANY,
			  &err);
	if (*out)
		return 0;
	if (json_error_code(&err) == json_error_out_of_memory)
		return efs_error_set(EFS_ENOMEM, "lotus: out of memory");
	return efs_error_set(EFS_ECORRUPT, "lotus: reply is not json: %s "
			     "(at byte %d)", err.text, err.position);
}

/* Lotus' text, printable and cut, into out (ERROR_TEXT_MAX + 4). */
static void clean_text(char *out, const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n < ERROR_TEXT_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		out[n++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	if (n == ERROR_TEXT_MAX && len > ERROR_TEXT_MAX)
		memcpy(out + n - 3, "...", 3);
	out[n] = '\0';
}

/*
 * Lotus' errors for things that are not there: an address without an
 * actor (types.ErrActorNotFound), a deal gone from the market (stmgr
 * GetStorageDeal, maybe wrapped), a message the node never saw
 * (ipld.ErrNotFound, or the blockstore's ErrNotFound).
 */
static bool says_not_found(const char *m)
{
	return strstr(m, "actor not found") ||
	       (strstr(m, "deal ") && strstr(m, " not found")) ||
	       strstr(m, "ipld: could not find") ||
	       strstr(m, "block not found");
}

/* The permission a "missing permission ... (need 'write')" asks for. */
static void needed_perm(char *out, size_t cap, const char *m)
{
	const char *p = strstr(m, "(need '");
	size_t n = 0;

	if (p)
		for (p += 7; p[n] && p[n] != '\'' && n + 1 < cap; n++)
			out[n] = p[n];
	if (!n)
		n = (size_t)snprintf(out, cap, "write");
	out[n] = '\0';
}

static int error_from(const json_t *e, const char *what)
{
	const json_t *code = json_object_get(e, "code");
	const json_t *msg = json_object_get(e, "message");
	char text[ERROR_TEXT_MAX + 4], perm[16];
	long long c;

	if (!json_is_object(e) || !json_is_integer(code) ||
	    !json_is_string(msg))
		return efs_error_set(EFS_ECORRUPT, "lotus: %s: malformed "
				     "error object in the reply", what);
	c = (long long)json_integer_value(code);
	clean_text(text, json_string_value(msg), json_string_length(msg));
	if (strstr(text, "missing permission")) {
		needed_perm(perm, sizeof(perm), text);
		return efs_error_set(EFS_EINVAL, "lotus: %s: %s: use an API "
				     "token with '%s' permission (lotus auth "
				     "create-token --perm %s)", what, text,
				     perm, perm);
	}
	if (c == -32601)
		return efs_error_set(EFS_EUNSUPPORTED, "lotus: %s: %s (code "
				     "%lld): the node lacks this method", what,
				     text, c);
	return efs_error_set(says_not_found(text) ? EFS_ENOTFOUND : EFS_ERROR,
			     "lotus: %s: %s (code %lld)", what, text, c);
}

int lotus_decode_error(const json_t *e, const char *method)
{
	char what[LOTUS_METHOD_MAX + 16];

	snprintf(what, sizeof(what), "Filecoin.%s", method);
	return error_from(e, what);
}

/* The reply's id, after checking the rest of the envelope; -1 for a
 * null id (an error the server could not tie to a call). */
static int envelope(int64_t *id, const json_t *v, const char *what)
{
	const json_t *ver = json_object_get(v, "jsonrpc");
	const json_t *i = json_object_get(v, "id");

	if (!json_is_object(v))
		return efs_error_set(EFS_ECORRUPT, "lotus: %s: reply is %s, "
				     "not a json-rpc object", what,
				     type_name(v));
	if (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0"))
		return efs_error_set(EFS_ECORRUPT, "lotus: %s: reply without "
				     "\"jsonrpc\": \"2.0\"", what);
	if (json_is_null(i)) {
		*id = -1;
		return 0;
	}
	if (!json_is_integer(i) || json_integer_value(i) < 0)
		return efs_error_set(EFS_ECORRUPT, "lotus: %s: reply id is %s, "
				     "not a call's", what,
				     i ? type_name(i) : "missing");
	*id = json_integer_value(i);
	return 0;
}

/* A reply known to be for this call: its error or its result. */
static int outcome(json_t **out, const json_t *v, const char *what)
{
	const json_t *e = json_object_get(v, "error");
	json_t *r = json_object_get(v, "result");

	*out = NULL;
	if (e && !json_is_null(e))
		return error_from(e, what);
	if (r && !json_is_null(r))
		*out = json_incref(r);
	return 0;
}

int lotus_decode_reply(json_t **out, const json_t *v, int64_t id,
		       const char *method)
{
	char what[LOTUS_METHOD_MAX + 16];
	const json_t *e;
	int64_t got;
	int rc;

	snprintf(what, sizeof(what), "Filecoin.%s", method);
	if ((rc = envelope(&got, v, what)) < 0)
		return rc;
	e = json_object_get(v, "error");
	if (got == -1 && e && !json_is_null(e))
		return error_from(e, what);
	if (got != id)
		return efs_error_set(EFS_ECORRUPT, "lotus: %s: reply id %lld "
				     "answers another call (sent %lld)", what,
				     (long long)got, (long long)id);
	return outcome(out, v, what);
}

/* ---- batches ---- */

void lotus_decode_entry_release(struct lotus_decode_entry *e)
{
	json_decref(e->result);
	efs_free(e->msg);
	e->result = NULL;
	e->msg = NULL;
	e->rc = 0;
}

/* Index each element of v by its id into slot[0..n). */
static int batch_match(const json_t **slot, size_t n, const json_t *v,
		       int64_t first_id)
{
	const json_t *r;
	int64_t id;
	size_t i;
	int rc;

	if (json_array_size(v) != n)
		return efs_error_set(EFS_ECORRUPT, "lotus: batch of %zu calls "
				     "got %zu replies", n,
				     json_array_size(v));
	json_array_foreach(v, i, r)
	{
		if ((rc = envelope(&id, r, "batch")) < 0)
			return rc;
		if (id < first_id || (uint64_t)(id - first_id) >= n)
			return efs_error_set(EFS_ECORRUPT, "lotus: batch reply "
					     "id %lld answers no call",
					     (long long)id);
		if (slot[id - first_id])
			return efs_error_set(EFS_ECORRUPT, "lotus: batch reply "
					     "id %lld repeated",
					     (long long)id);
		slot[id - first_id] = r;
	}
	return 0;
}

static int entry_fill(struct lotus_decode_entry *e, const json_t *r)
{
	char what[LOTUS_METHOD_MAX + 16];

	snprintf(what, sizeof(what), "Filecoin.%s", e->method);
	e->rc = outcome(&e->result, r, what);
	if (e->rc < 0 && !(e->msg = efs_strdup(efs_error_msg())))
		return efs_error_set(EFS_ENOMEM, "lotus: out of memory");
	return 0;
}

int lotus_decode_batch(struct lotus_decode_entry *e, size_t n,
		       const json_t *v, int64_t first_id)
{
	const json_t **slot;
	const json_t *err = json_object_get(v, "error");
	size_t i;
	int rc;

	if (json_is_object(v) && err && !json_is_null(err))
		return error_from(err, "batch");
	if (!json_is_array(v))
		return efs_error_set(EFS_ECORRUPT, "lotus: batch reply is %s, "
				     "not an array", type_name(v));
	if (!n)
		return json_array_size(v) ? batch_match(NULL, 0, v, 0) : 0;
	if (!(slot = efs_calloc(n, sizeof(*slot))))
		return efs_error_set(EFS_ENOMEM, "lotus: out of memory");
	rc = batch_match(slot, n, v, first_id);
	for (i = 0; rc == 0 && i < n; i++)
		rc = entry_fill(&e[i], slot[i]);
	if (rc < 0)
		while (i-- > 0)
			lotus_decode_entry_release(&e[i]);
	efs_free(slot);
	return rc;
}

/* ---- typed results ---- */

int lotus_decode_head(int64_t *out, const json_t *v)
{
	int rc;

	if ((rc = want_object(v, "ChainHead", NULL)) < 0)
		return rc;
	return get_i64(out, v, "Height", "ChainHead", 0);
}

int lotus_decode_miners(struct filaddr **out, size_t *n, const json_t *v)
{
	struct filaddr *a = NULL;
	size_t count = json_array_size(v);
	char field[32];
	int rc;

	*out = NULL;
	*n = 0;
	if (!v)
		return 0;  /* Go writes a nil slice as null */
	if (!json_is_array(v))
		return bad("StateListMiners", NULL,
			   "expected an array, got %s", type_name(v));
	if (count && !(a = efs_calloc(count, sizeof(*a))))
		return efs_error_set(EFS_ENOMEM, "lotus: out of memory");
	for (size_t i = 0; i < count; i++) {
		snprintf(field, sizeof(field), "[%zu]", i);
		if ((rc = filjson_addr_decode(&a[i], json_array_get(v, i),
					      field)) < 0) {
			efs_free(a);
			return rewrap(rc, "StateListMiners");
		}
	}
	*out = a;
	*n = count;
	return 0;
}

void lotus_miner_info_release(struct lotus_miner_info *mi)
{
	for (size_t i = 0; i < mi->nmultiaddrs; i++)
		efs_free(mi->multiaddrs[i].bytes);
	efs_free(mi->multiaddrs);
	mi->multiaddrs = NULL;
	mi->nmultiaddrs = 0;
}

static int peer_id(char *out, const json_t *v)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	uint8_t mh[LOTUS_PEER_ID_MAX];

	out[0] = '\0';
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return bad("StateMinerInfo", "PeerId",
			   "expected a string, got %s", type_name(v));
	if (!len || len >= LOTUS_PEER_ID_MAX ||
	    mbase_base58_decode(mh, sizeof(mh), s, len) < 0)
		return bad("StateMinerInfo", "PeerId", "not a base58 peer id");
	memcpy(out, s, len + 1);
	return 0;
}

static int multiaddrs(struct lotus_miner_info *mi, const json_t *v)
{
	size_t n = json_array_size(v), total = 0;
	char field[32];
	int rc;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return bad("StateMinerInfo", "Multiaddrs",
			   "expected an array, got %s", type_name(v));
	if (n > LOTUS_MULTIADDRS_MAX)
		return bad("StateMinerInfo", "Multiaddrs", "%zu entries, over "
			   "%d", n, LOTUS_MULTIADDRS_MAX);
	if (n && !(mi->multiaddrs = efs_calloc(n, sizeof(*mi->multiaddrs))))
		return efs_error_set(EFS_ENOMEM, "lotus: out of memory");
	for (size_t i = 0; i < n; i++) {
		struct lotus_multiaddr *m = &mi->multiaddrs[i];
		const json_t *e = json_array_get(v, i);

		snprintf(field, sizeof(field), "Multiaddrs[%zu]", i);
		if (!json_is_string(e))
			return bad("StateMinerInfo", field, "expected a base64 "
				   "string, got %s", type_name(e));
		if ((rc = filjson_bytes_decode(&m->bytes, &m->len, e,
					       LOTUS_MULTIADDR_BYTES_MAX,
					       field)) < 0)
			return rewrap(rc, "StateMinerInfo");
		mi->nmultiaddrs = i + 1;
		if (!m->len)
			return bad("StateMinerInfo", field, "empty");
		if ((total += m->len) > LOTUS_MULTIADDR_BYTES_MAX)
			return bad("StateMinerInfo", "Multiaddrs", "over %d "
				   "bytes", LOTUS_MULTIADDR_BYTES_MAX);
	}
	return 0;
}

int lotus_decode_miner_info(struct lotus_miner_info *out, const json_t *v)
{
	static const char m[] = "StateMinerInfo";
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = want_object(v, m, NULL)) < 0 ||
	    (rc = get_addr(&out->owner, v, "Owner", m)) < 0 ||
	    (rc = get_addr(&out->worker, v, "Worker", m)) < 0 ||
	    (rc = peer_id(out->peer_id, json_object_get(v, "PeerId"))) < 0 ||
	    (rc = get_u64(&out->sector_size, v, "SectorSize", m)) < 0)
		return rc;
	if (!is_pow2(out->sector_size))
		return bad(m, "SectorSize", "%llu is not a power of two",
			   (unsigned long long)out->sector_size);
	if ((rc = multiaddrs(out, json_object_get(v, "Multiaddrs"))) < 0)
		lotus_miner_info_release(out);
	return rc;
}

int lotus_decode_bigint(struct bigint *out, const json_t *v,
			const char *method)
{
	if (!v)
		return bad(method, NULL, "expected a decimal string, got null");
	return get_amount(out, v, "result", method);
}

int lotus_decode_market_balance(struct bigint *escrow, struct bigint *locked,
				const json_t *v)
{
	static const char m[] = "StateMarketBalance";
	int rc;

	if ((rc = want_object(v, m, NULL)) < 0 ||
	    (rc = get_amount(escrow, json_object_get(v, "Escrow"), "Escrow",
			     m)) < 0 ||
	    (rc = get_amount(locked, json_object_get(v, "Locked"), "Locked",
			     m)) < 0)
		return rc;
	if (bigint_cmp(locked, escrow) > 0)
		return bad(m, "Locked", "more than Escrow");
	return 0;
}

int lotus_decode_datacap(struct bigint *out, bool *is_verified_client,
			 const json_t *v)
{
	bigint_from_u64(out, 0);
	*is_verified_client = v != NULL;
	if (!v)
		return 0;
	return get_amount(out, v, "result", "StateVerifiedClientStatus");
}

int lotus_decode_bounds(struct bigint *min, struct bigint *max,
			const json_t *v)
{
	static const char m[] = "StateDealProviderCollateralBounds";
	int rc;

	if ((rc = want_object(v, m, NULL)) < 0 ||
	    (rc = get_amount(min, json_object_get(v, "Min"), "Min", m)) < 0 ||
	    (rc = get_amount(max, json_object_get(v, "Max"), "Max", m)) < 0)
		return rc;
	if (bigint_cmp(min, max) > 0)
		return bad(m, "Min", "more than Max");
	return 0;
}

int lotus_decode_id(struct filaddr *out, const json_t *v)
{
	int rc;

	if ((rc = filjson_addr_decode(out, v, "result")) < 0)
		return rewrap(rc, "StateLookupID");
	if (out->protocol != FILADDR_ID)
		return bad("StateLookupID", "result", "not an ID address");
	return 0;
}

int lotus_decode_nonce(uint64_t *out, const json_t *v)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return bad("MpoolGetNonce", "result", "expected an unsigned "
			   "integer, got %s", v ? type_name(v) : "null");
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

int lotus_decode_cid(struct cid *out, const json_t *v, const char *method)
{
	int rc;

	if ((rc = filjson_cid_decode(out, v, "result")) < 0)
		return rewrap(rc, method);
	return 0;
}

int lotus_decode_gas(struct filmsg *msg, const json_t *v)
{
	static const char m[] = "GasEstimateMessageGas";
	struct filmsg est;
	int rc;

	if ((rc = want_object(v, m, NULL)) < 0)
		return rc;
	if ((rc = filjson_msg_decode(&est, v)) < 0)
		return rewrap(rc, m);
	if (est.gas_limit <= 0)
		rc = bad(m, "GasLimit", "%lld is not positive",
			 (long long)est.gas_limit);
	else if (est.gas_fee_cap.neg || est.gas_premium.neg)
		rc = bad(m, "GasFeeCap", "negative gas price");
	else {
		msg->gas_limit = est.gas_limit;
		msg->gas_fee_cap = est.gas_fee_cap;
		msg->gas_premium = est.gas_premium;
	}
	filmsg_release(&est);
	return rc;
}

static int receipt(struct lotus_receipt *out, const json_t *r)
{
	static const char m[] = "StateSearchMsg";
	const json_t *ret = json_object_get(r, "Return");
	int rc;

	if ((rc = want_object(r, m, "Receipt")) < 0 ||
	    (rc = get_i64(&out->exit_code, r, "ExitCode", m, INT64_MIN)) < 0 ||
	    (rc = get_i64(&out->gas_used, r, "GasUsed", m, 0)) < 0)
		return rc;
	if (ret && !json_is_null(ret) && !json_is_string(ret))
		return bad(m, "Return", "expected base64 or null, got %s",
			   type_name(ret));
	return 0;
}

int lotus_decode_lookup(struct lotus_receipt *out, bool *found,
			const json_t *v)
{
	static const char m[] = "StateSearchMsg";
	const json_t *ts = json_object_get(v, "TipSet");
	int rc;

	memset(out, 0, sizeof(*out));
	*found = false;
	if (!v)
		return 0;
	if ((rc = want_object(v, m, NULL)) < 0 ||
	    (rc = get_cid(&out->msg, v, "Message", m)) < 0 ||
	    (rc = receipt(out, json_object_get(v, "Receipt"))) < 0 ||
	    (rc = get_i64(&out->height, v, "Height", m, 0)) < 0)
		return rc;
	if (ts && !json_is_array(ts) && !json_is_null(ts))
		return bad(m, "TipSet", "expected an array, got %s",
			   type_name(ts));
	*found = true;
	return 0;
}

static int deal_label(struct lotus_market_deal *out, const json_t *p)
{
	const json_t *l = json_object_get(p, "Label");
	size_t len = json_string_length(l);

	if (!json_is_string(l))
		return bad("StateMarketStorageDeal", "Label",
			   "expected a string, got %s",
			   l ? type_name(l) : "nothing");
	if (len > LOTUS_LABEL_MAX)
		return bad("StateMarketStorageDeal", "Label", "%zu bytes, over "
			   "%d", len, LOTUS_LABEL_MAX);
	memcpy(out->label, json_string_value(l), len);
	out->label[len] = '\0';
	out->label_len = len;
	return 0;
}

static int deal_proposal(struct lotus_market_deal *out, const json_t *p)
{
	static const char m[] = "StateMarketStorageDeal";
	int rc;

	if ((rc = want_object(p, m, "Proposal")) < 0 ||
	    (rc = get_cid(&out->piece_cid, p, "PieceCID", m)) < 0 ||
	    (rc = get_u64(&out->piece_size, p, "PieceSize", m)) < 0 ||
	    (rc = get_bool(&out->verified, p, "VerifiedDeal", m)) < 0 ||
	    (rc = get_addr(&out->client, p, "Client", m)) < 0 ||
	    (rc = get_addr(&out->provider, p, "Provider", m)) < 0 ||
	    (rc = deal_label(out, p)) < 0 ||
	    (rc = get_i64(&out->start_epoch, p, "StartEpoch", m, 0)) < 0 ||
	    (rc = get_i64(&out->end_epoch, p, "EndEpoch", m, 0)) < 0 ||
	    (rc = get_amount(&out->price_per_epoch,
			     json_object_get(p, "StoragePricePerEpoch"),
			     "StoragePricePerEpoch", m)) < 0 ||
	    (rc = get_amount(&out->provider_collateral,
			     json_object_get(p, "ProviderCollateral"),
			     "ProviderCollateral", m)) < 0 ||
	    (rc = get_amount(&out->client_collateral,
			     json_object_get(p, "ClientCollateral"),
			     "ClientCollateral", m)) < 0)
		return rc;
	if (!commp_padded_valid(out->piece_size))
		return bad(m, "PieceSize", "%llu is not a padded piece size",
			   (unsigned long long)out->piece_size);
	if (out->end_epoch <= out->start_epoch)
		return bad(m, "EndEpoch", "not after StartEpoch");
	return 0;
}

static int deal_state(struct lotus_market_deal *out, const json_t *s)
{
	static const char m[] = "StateMarketStorageDeal";
	int rc;

	out->sector = 0;
	if ((rc = want_object(s, m, "State")) < 0 ||
	    (json_object_get(s, "SectorNumber") &&
	     (rc = get_u64(&out->sector, s, "SectorNumber", m)) < 0) ||
	    (rc = get_i64(&out->sector_start_epoch, s, "SectorStartEpoch", m,
			  -1)) < 0 ||
	    (rc = get_i64(&out->last_updated_epoch, s, "LastUpdatedEpoch", m,
			  -1)) < 0 ||
	    (rc = get_i64(&out->slash_epoch, s, "SlashEpoch", m, -1)) < 0)
		return rc;
	return 0;
}

int lotus_decode_market_deal(struct lotus_market_deal *out, const json_t *v)
{
	int rc;

	if ((rc = want_object(v, "StateMarketStorageDeal", NULL)) < 0 ||
	    (rc = deal_proposal(out, json_object_get(v, "Proposal"))) < 0)
		return rc;
	return deal_state(out, json_object_get(v, "State"));
}
