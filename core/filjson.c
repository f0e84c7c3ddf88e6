/*
 * filjson.c - Lotus JSON forms of Filecoin values (see filjson.h).
 *
 * Encoders build jansson values member by member in Go's field order
 * (jansson keeps insertion order), so a dumped Message reads like Lotus'
 * own.  Decoders read the members they know by exact name, check each
 * one's JSON type before its text, and name the offending field in the
 * one-line error: "Message.GasLimit", "SignedMessage.Signature.Data".
 */
#include "core/filjson.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/mbase.h"

#include "core/banned.h"

/* Room for a field path such as "SignedMessage.Message.GasPremium". */
#define PATH_MAX_LEN 64

static int oom(void)
{
	return efs_error_set(EFS_ENOMEM, "filjson: out of memory");
}

static int bad(const char *what, const char *why)
{
	return efs_error_set(EFS_ECORRUPT, "filjson: %s: %s", what, why);
}

/* The error for a member v that is missing or not of type expected. */
static int bad_type(const json_t *v, const char *what, const char *expected)
{
	return v ? bad(what, expected) : bad(what, "missing");
}

/* Store v (a new reference, NULL after a failed allocation) as key. */
static int set_new(json_t *obj, const char *key, json_t *v)
{
	if (!v || json_object_set_new(obj, key, v) < 0)
		return oom();
	return 0;
}

static int new_string(json_t **out, const char *s)
{
	if (!(*out = json_string(s)))
		return oom();
	return 0;
}

static int new_u63(json_t **out, uint64_t v, const char *what)
{
	if (v > INT64_MAX)
		return efs_error_set(EFS_ERANGE,
				     "filjson: %s: %llu does not fit a json "
				     "integer", what, (unsigned long long)v);
	if (!(*out = json_integer((json_int_t)v)))
		return oom();
	return 0;
}

int filjson_cid_encode(json_t **out, const struct cid *id)
{
	char s[CID_STR_MAX];

	if (!(*out = json_pack("{s:s}", "/", cid_tostr(s, id))))
		return oom();
	return 0;
}

int filjson_cid_decode(struct cid *out, const json_t *v, const char *what)
{
	const json_t *s = json_is_object(v) ? json_object_get(v, "/") : NULL;

	if (!json_is_string(s))
		return bad_type(v, what,
				"expected a cid object {\"/\": \"...\"}");
	if (cid_parse_n(out, json_string_value(s), json_string_length(s)) < 0)
		return bad(what, efs_error_msg());
	return 0;
}

int filjson_bigint_encode(json_t **out, const struct bigint *a)
{
	char s[BIGINT_STR_MAX];

	bigint_format(s, a);
	return new_string(out, s);
}

int filjson_bigint_decode(struct bigint *out, const json_t *v,
			  const char *what)
{
	if (!json_is_string(v))
		return bad_type(v, what, "expected a decimal string");
	if (bigint_parse(out, json_string_value(v), json_string_length(v)) < 0)
		return bad(what, efs_error_msg());
	return 0;
}

int filjson_addr_encode(json_t **out, const struct filaddr *a, char net)
{
	char s[FILADDR_STR_MAX];

	filaddr_format(s, a, net);
	return new_string(out, s);
}

int filjson_addr_decode(struct filaddr *out, const json_t *v,
			const char *what)
{
	if (!json_is_string(v))
		return bad_type(v, what, "expected an address string");
	if (filaddr_parse(out, NULL, json_string_value(v),
			  json_string_length(v)) < 0)
		return bad(what, efs_error_msg());
	return 0;
}

int filjson_bytes_encode(json_t **out, const uint8_t *p, size_t len)
{
	size_t n = mbase_base64_len(len, true) + 1;
	char *s;

	if (len == 0) {
		*out = json_null();
		return 0;
	}
	if (!(s = efs_malloc(n)))
		return oom();
	mbase_base64_encode(s, n, p, len);
	*out = json_stringn(s, n - 1);
	efs_free(s);
	return *out ? 0 : oom();
}

int filjson_bytes_decode(uint8_t **out, size_t *len, const json_t *v,
			 size_t max, const char *what)
{
	const char *s;
	size_t slen;
	uint8_t *p;
	long n;

	if (!v || json_is_null(v)) {
		*out = NULL;
		*len = 0;
		return 0;
	}
	if (!json_is_string(v))
		return bad(what, "expected a base64 string");
	s = json_string_value(v);
	slen = json_string_length(v);
	if (slen > mbase_base64_len(max, true))
		return bad(what, "too many bytes");
	if (!(p = efs_malloc(slen / 4 * 3 + 1)))
		return oom();
	n = mbase_base64_decode(p, slen / 4 * 3 + 1, s, slen);
	if (n < 0 || (size_t)n > max) {
		efs_free(p);
		return bad(what, n < 0 ? efs_error_msg() : "too many bytes");
	}
	if (n == 0) {
		efs_free(p);
		p = NULL;
	}
	*out = p;
	*len = (size_t)n;
	return 0;
}

int filjson_sig_encode(json_t **out, const struct filmsg_sig *s)
{
	json_t *o = json_object(), *data;
	int rc;

	if (!o)
		return oom();
	if ((rc = set_new(o, "Type", json_integer(s->type))) < 0 ||
	    (rc = filjson_bytes_encode(&data, s->data, s->len)) < 0 ||
	    (rc = set_new(o, "Data", data)) < 0) {
		json_decref(o);
		return rc;
	}
	*out = o;
	return 0;
}

/* The member key of obj (NULL when missing), its path written to path. */
static const json_t *member(char path[PATH_MAX_LEN], const json_t *obj,
			    const char *ctx, const char *key)
{
	snprintf(path, PATH_MAX_LEN, "%s.%s", ctx, key);
	return json_object_get(obj, key);
}

static int get_u63(uint64_t *out, const json_t *v, const char *what)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return bad_type(v, what, "expected an unsigned integer");
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int sig_decode(struct filmsg_sig *out, const json_t *v,
		      const char *ctx)
{
	char path[PATH_MAX_LEN];
	struct filmsg_sig s;
	const json_t *type;
	uint8_t *data;
	uint64_t t;
	int rc;

	if (!json_is_object(v))
		return bad_type(v, ctx, "expected an object");
	type = member(path, v, ctx, "Type");
	if ((rc = get_u63(&t, type, path)) < 0)
		return rc;
	if (t < FILSIG_SECP256K1 || t > FILSIG_DELEGATED)
		return bad(path, "unknown signature type");
	s.type = (enum filsig_type)t;
	rc = filjson_bytes_decode(&data, &s.len, member(path, v, ctx, "Data"),
				  FILMSG_SIG_DATA_MAX, path);
	if (rc < 0)
		return rc;
	if (s.len)
		memcpy(s.data, data, s.len);
	efs_free(data);
	*out = s;
	return 0;
}

int filjson_sig_decode(struct filmsg_sig *out, const json_t *v)
{
	return sig_decode(out, v, "Signature");
}

/* Members of a Message in Go's field order, without CID. */
static int msg_members(json_t *o, const struct filmsg *m, char net)
{
	json_t *v;
	int rc;

	if ((rc = new_u63(&v, m->version, "Message.Version")) < 0 ||
	    (rc = set_new(o, "Version", v)) < 0 ||
	    (rc = filjson_addr_encode(&v, &m->to, net)) < 0 ||
	    (rc = set_new(o, "To", v)) < 0 ||
	    (rc = filjson_addr_encode(&v, &m->from, net)) < 0 ||
	    (rc = set_new(o, "From", v)) < 0 ||
	    (rc = new_u63(&v, m->nonce, "Message.Nonce")) < 0 ||
	    (rc = set_new(o, "Nonce", v)) < 0 ||
	    (rc = filjson_bigint_encode(&v, &m->value)) < 0 ||
	    (rc = set_new(o, "Value", v)) < 0 ||
	    (rc = set_new(o, "GasLimit", json_integer(m->gas_limit))) < 0 ||
	    (rc = filjson_bigint_encode(&v, &m->gas_fee_cap)) < 0 ||
	    (rc = set_new(o, "GasFeeCap", v)) < 0 ||
	    (rc = filjson_bigint_encode(&v, &m->gas_premium)) < 0 ||
	    (rc = set_new(o, "GasPremium", v)) < 0 ||
	    (rc = new_u63(&v, m->method, "Message.Method")) < 0 ||
	    (rc = set_new(o, "Method", v)) < 0 ||
	    (rc = filjson_bytes_encode(&v, m->params, m->params_len)) < 0)
		return rc;
	return set_new(o, "Params", v);
}

static int set_cid(json_t *o, const struct cid *id)
{
	json_t *v;
	int rc;

	if ((rc = filjson_cid_encode(&v, id)) < 0)
		return rc;
	return set_new(o, "CID", v);
}

int filjson_msg_encode(json_t **out, const struct filmsg *m, char net)
{
	json_t *o = json_object();
	struct cid id;
	int rc;

	if (!o)
		return oom();
	if ((rc = msg_members(o, m, net)) < 0 ||
	    (rc = filmsg_cid(&id, m)) < 0 || (rc = set_cid(o, &id)) < 0) {
		json_decref(o);
		return rc;
	}
	*out = o;
	return 0;
}

/* The fields of m other than Params, from the Message object v. */
static int msg_fields(struct filmsg *m, const json_t *v, const char *ctx)
{
	char path[PATH_MAX_LEN];
	const json_t *f;
	int rc;

	f = member(path, v, ctx, "Version");
	if (f && (rc = get_u63(&m->version, f, path)) < 0)
		return rc;
	if (m->version != FILMSG_VERSION)
		return bad(path, "unsupported message version");
	if ((rc = filjson_addr_decode(&m->to, member(path, v, ctx, "To"),
				      path)) < 0 ||
	    (rc = filjson_addr_decode(&m->from, member(path, v, ctx, "From"),
				      path)) < 0 ||
	    (rc = get_u63(&m->nonce, member(path, v, ctx, "Nonce"),
			  path)) < 0 ||
	    (rc = filjson_bigint_decode(&m->value,
					member(path, v, ctx, "Value"),
					path)) < 0)
		return rc;
	f = member(path, v, ctx, "GasLimit");
	if (!json_is_integer(f))
		return bad_type(f, path, "expected an integer");
	m->gas_limit = json_integer_value(f);
	if ((rc = filjson_bigint_decode(&m->gas_fee_cap,
					member(path, v, ctx, "GasFeeCap"),
					path)) < 0 ||
	    (rc = filjson_bigint_decode(&m->gas_premium,
					member(path, v, ctx, "GasPremium"),
					path)) < 0)
		return rc;
	return get_u63(&m->method, member(path, v, ctx, "Method"), path);
}

static int msg_decode(struct filmsg *out, const json_t *v, const char *ctx)
{
	char path[PATH_MAX_LEN];
	struct filmsg m;
	int rc;

	if (!json_is_object(v))
		return bad_type(v, ctx, "expected an object");
	filmsg_init(&m);
	if ((rc = msg_fields(&m, v, ctx)) < 0)
		return rc;
	rc = filjson_bytes_decode(&m.params, &m.params_len,
				  member(path, v, ctx, "Params"),
				  FILMSG_PARAMS_MAX, path);
	if (rc < 0)
		return rc;
	*out = m;
	return 0;
}

int filjson_msg_decode(struct filmsg *out, const json_t *v)
{
	return msg_decode(out, v, "Message");
}

int filjson_signed_encode(json_t **out, const struct filmsg_signed *sm,
			  char net)
{
	json_t *o = json_object(), *v;
	struct cid id;
	int rc;

	if (!o)
		return oom();
	if ((rc = filjson_msg_encode(&v, &sm->msg, net)) < 0 ||
	    (rc = set_new(o, "Message", v)) < 0 ||
	    (rc = filjson_sig_encode(&v, &sm->sig)) < 0 ||
	    (rc = set_new(o, "Signature", v)) < 0 ||
	    (rc = filmsg_signed_cid(&id, sm)) < 0 ||
	    (rc = set_cid(o, &id)) < 0) {
		json_decref(o);
		return rc;
	}
	*out = o;
	return 0;
}

int filjson_signed_decode(struct filmsg_signed *out, const json_t *v)
{
	struct filmsg_signed sm;
	int rc;

	if (!json_is_object(v))
		return bad("SignedMessage", "expected an object");
	rc = sig_decode(&sm.sig, json_object_get(v, "Signature"),
			"SignedMessage.Signature");
	if (rc < 0)
		return rc;
	rc = msg_decode(&sm.msg, json_object_get(v, "Message"),
			"SignedMessage.Message");
	if (rc < 0)
		return rc;
	*out = sm;
	return 0;
}
