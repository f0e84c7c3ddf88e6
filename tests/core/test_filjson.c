/*
 * test_filjson.c - Lotus JSON forms.  The messages are those of
 * tests/data/filecoin/messages.txt: their JSON as Lotus writes it (field
 * order and "CID" members from Lotus chain/types/message.go and
 * signedmessage.go MarshalJSON, Params null when empty as Go writes a nil
 * []byte) is spelled out here; the base64 of Params and signatures and
 * the signed JSON without Version come from @zondax/filecoin-signing-tools
 * 2.4.3 (transactionSign), which must decode to the same message as the
 * CBOR vector.  Then every decoding error names its field, round trips,
 * and the allocation-failure loop with jansson on the project allocator.
 */
#include "core/filjson.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "tests/core/filmsg_test.h"
#include "tests/harness.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

#define SEND_CID "bafy2bzacedrff2ut5ntedbtt4bc3d74qjmxpzpvh7upz4fzl36cqty32qurc6"
#define SEND_SIG "/DgAvSw0DMH8c5DZbvxvmDAitMdolqfUfCbR8CPEQuY4WD2zLNNYF3xzWQwRd" \
	"a5+GMueU6D3Dwt7X/5oR2CGqwA="
#define SEND_SIGNED_CID \
	"bafy2bzacedjddhr2mnpdqqxpc5i2w3m2vecdfh4hdrz62ueabseagqmiyt4wq"
#define ADDB_CID "bafy2bzaceamaearzkvai2nnnwkrapnznnbawrgme75s4vdwah5qvcmhjch4z6"

/* What Lotus' MarshalJSON writes for the vectors (JSON_COMPACT). */
static const char send_json[] =
	"{\"Version\":0,\"To\":\"f17uoq6tp427uzv7fztkbsnn64iwotfrristwpryy\","
	"\"From\":\"" KEY_ADDR "\",\"Nonce\":1,\"Value\":\"100000\","
	"\"GasLimit\":25000,\"GasFeeCap\":\"2500\",\"GasPremium\":\"2500\","
	"\"Method\":0,\"Params\":null,\"CID\":{\"/\":\"" SEND_CID "\"}}";
static const char addbalance_json[] =
	"{\"Version\":0,\"To\":\"f05\",\"From\":\"" KEY_ADDR "\",\"Nonce\":7,"
	"\"Value\":\"1000000000000000000\",\"GasLimit\":5000000,"
	"\"GasFeeCap\":\"100000\",\"GasPremium\":\"99000\",\"Method\":2,"
	"\"Params\":\"VQFUqbVO3LnwBy52j3ng7I8su2veBQ==\","
	"\"CID\":{\"/\":\"" ADDB_CID "\"}}";
/* zondax transactionSign output: no Version, its own order, Params "". */
static const char send_zondax[] =
	"{\"Message\":{\"From\":\"" KEY_ADDR "\","
	"\"To\":\"f17uoq6tp427uzv7fztkbsnn64iwotfrristwpryy\",\"Nonce\":1,"
	"\"Value\":\"100000\",\"Method\":0,\"Params\":\"\",\"GasLimit\":25000,"
	"\"GasFeeCap\":\"2500\",\"GasPremium\":\"2500\"},"
	"\"Signature\":{\"Type\":1,\"Data\":\"" SEND_SIG "\"}}";

static void load_msg(struct filmsg *m, const char *name)
{
	uint8_t v[MSG_VECTOR_MAX];
	size_t n = msg_vector(v, "msg", name);

	CU_ASSERT_EQUAL_FATAL(filmsg_decode(m, v, n), 0);
}

static void load_signed(struct filmsg_signed *sm, const char *name)
{
	uint8_t v[MSG_VECTOR_MAX];
	size_t n = msg_vector(v, "signed", name);

	CU_ASSERT_EQUAL_FATAL(filmsg_signed_decode(sm, v, n), 0);
}

/* Dump v compactly and compare with want; v is released. */
static void assert_dump(json_t *v, const char *want)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(s, want);
	if (strcmp(s, want))
		fprintf(stderr, "\n got: %s\nwant: %s\n", s, want);
	free(s);
	json_decref(v);
}

static json_t *load(const char *text)
{
	json_error_t err;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &err);

	if (!v)
		fprintf(stderr, "json: %s\n", err.text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	return v;
}

static void test_filjson__message(void)
{
	static const struct {
		const char *name;
		const char *json;
	} cases[] = {
		{ "send", send_json },
		{ "addbalance", addbalance_json },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct filmsg m, back;
		json_t *v;

		load_msg(&m, cases[i].name);
		CU_ASSERT_EQUAL_FATAL(filjson_msg_encode(&v, &m, 'f'), 0);
		assert_dump(v, cases[i].json);
		v = load(cases[i].json);
		CU_ASSERT_EQUAL_FATAL(filjson_msg_decode(&back, v), 0);
		CU_ASSERT(filmsg_equal(&m, &back));
		json_decref(v);
		filmsg_release(&back);
		filmsg_release(&m);
	}
}

static void test_filjson__signed(void)
{
	static const char want[] =
		"{\"Message\":{\"Version\":0,"
		"\"To\":\"f17uoq6tp427uzv7fztkbsnn64iwotfrristwpryy\","
		"\"From\":\"" KEY_ADDR "\",\"Nonce\":1,\"Value\":\"100000\","
		"\"GasLimit\":25000,\"GasFeeCap\":\"2500\","
		"\"GasPremium\":\"2500\",\"Method\":0,\"Params\":null,"
		"\"CID\":{\"/\":\"" SEND_CID "\"}},"
		"\"Signature\":{\"Type\":1,\"Data\":\"" SEND_SIG "\"},"
		"\"CID\":{\"/\":\"" SEND_SIGNED_CID "\"}}";
	struct filmsg_signed sm, back;
	struct cid id;
	char s[CID_STR_MAX];
	json_t *v;

	load_signed(&sm, "send");
	CU_ASSERT_EQUAL_FATAL(filjson_signed_encode(&v, &sm, 'f'), 0);
	assert_dump(v, want);
	/* zondax's JSON of the same signed message */
	v = load(send_zondax);
	CU_ASSERT_EQUAL_FATAL(filjson_signed_decode(&back, v), 0);
	json_decref(v);
	CU_ASSERT(filmsg_equal(&sm.msg, &back.msg));
	CU_ASSERT_EQUAL(back.sig.type, sm.sig.type);
	CU_ASSERT_EQUAL(back.sig.len, 65);
	CU_ASSERT(!memcmp(back.sig.data, sm.sig.data, 65));
	CU_ASSERT_EQUAL(filmsg_signed_cid(&id, &back), 0);
	CU_ASSERT_STRING_EQUAL(cid_tostr(s, &id), SEND_SIGNED_CID);
	filmsg_signed_release(&back);
	filmsg_signed_release(&sm);
}

static void test_filjson__testnet(void)
{
	struct filmsg m;
	json_t *v;

	load_msg(&m, "idfrom");
	CU_ASSERT_EQUAL_FATAL(filjson_msg_encode(&v, &m, 't'), 0);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(v, "To")),
			       "t01000");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(v, "From")),
			       "t0100");
	json_decref(v);
	/* uint64s past 2^63-1 cannot be JSON integers in jansson */
	m.nonce = (uint64_t)INT64_MAX + 1;
	CU_ASSERT_EQUAL(filjson_msg_encode(&v, &m, 't'), EFS_ERANGE);
	filmsg_release(&m);
}

/* A valid Message with one member replaced: "<key>": <value>. */
static json_t *with(const char *key, const char *value)
{
	json_t *v = load(addbalance_json);

	if (value)
		json_object_set_new(v, key, load(value));
	else
		json_object_del(v, key);
	return v;
}

static void test_filjson__bad_message(void)
{
	static const struct {
		const char *key;
		const char *value;   /* JSON text; NULL: delete the key */
		const char *msg;     /* expected in the error message */
	} cases[] = {
		{ "Version", "1", "Message.Version: unsupported" },
		{ "Version", "-1", "Message.Version: expected an unsigned" },
		{ "Version", "\"0\"", "Message.Version: expected" },
		{ "To", NULL, "Message.To: missing" },
		{ "To", "5", "Message.To: expected an address string" },
		{ "To", "\"f5abc\"", "Message.To: filaddr: unknown" },
		{ "To", "\"F05\"", "Message.To: filaddr: unknown address network" },
		{ "From", "\"f1lsu3ktw4xhyaoltwr546b3epfs5wxxqfyyxipwi\"",
		  "Message.From: filaddr: invalid address checksum" },
		{ "From", "null", "Message.From: expected an address" },
		{ "Nonce", NULL, "Message.Nonce: missing" },
		{ "Nonce", "-1", "Message.Nonce: expected an unsigned integer" },
		{ "Nonce", "1.0", "Message.Nonce: expected an unsigned integer" },
		{ "Nonce", "\"1\"", "Message.Nonce: expected" },
		{ "Value", "1", "Message.Value: expected a decimal string" },
		{ "Value", "\"1.5\"", "Message.Value: bigint: failed to parse" },
		{ "Value", "\"\"", "Message.Value: bigint" },
		{ "Value", "\"1157920892373161954235709850086879078532699846656"
			   "40564039457584007913129639936\"",
		  "Message.Value: bigint: integer out of range" },
		{ "GasLimit", "\"5\"", "Message.GasLimit: expected an integer" },
		{ "GasLimit", "5e6", "Message.GasLimit: expected an integer" },
		{ "GasLimit", NULL, "Message.GasLimit: missing" },
		{ "GasFeeCap", "null", "Message.GasFeeCap: expected" },
		{ "GasPremium", NULL, "Message.GasPremium: missing" },
		{ "Method", "true", "Message.Method: expected an unsigned" },
		{ "Params", "\"VQFUqbVO3LnwBy52j3ng7I8su2veBQ\"",
		  "Message.Params: invalid base64 padding" },
		{ "Params", "\"VQFU-bVO\"", "Message.Params: invalid base64 char" },
		{ "Params", "[]", "Message.Params: expected a base64 string" },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		json_t *v = with(cases[i].key, cases[i].value);
		struct filmsg m;

		CU_ASSERT_EQUAL(filjson_msg_decode(&m, v), EFS_ECORRUPT);
		if (!strstr(efs_error_msg(), cases[i].msg))
			fprintf(stderr, "case %zu: %s\n", i, efs_error_msg());
		CU_ASSERT_PTR_NOT_NULL(strstr(efs_error_msg(), cases[i].msg));
		json_decref(v);
	}
	{
		json_t *v = load("[1]");
		struct filmsg m;

		CU_ASSERT_EQUAL(filjson_msg_decode(&m, v), EFS_ECORRUPT);
		CU_ASSERT_STRING_EQUAL(efs_error_msg(),
				       "filjson: Message: expected an object");
		json_decref(v);
	}
}

/* Optional members: Version, Params (missing, null, ""), CID, unknown. */
static void test_filjson__lenient(void)
{
	static const struct {
		const char *key;
		const char *value;
		size_t params_len;
	} cases[] = {
		{ "Version", NULL, 22 },
		{ "Params", NULL, 0 },
		{ "Params", "null", 0 },
		{ "Params", "\"\"", 0 },
		{ "CID", NULL, 22 },
		{ "CID", "\"not a cid\"", 22 },
		{ "Extra", "{\"x\":[1,2]}", 22 },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		json_t *v = with(cases[i].key, cases[i].value);
		struct filmsg m;

		CU_ASSERT_EQUAL_FATAL(filjson_msg_decode(&m, v), 0);
		CU_ASSERT_EQUAL(m.version, 0);
		CU_ASSERT_EQUAL(m.params_len, cases[i].params_len);
		CU_ASSERT((m.params == NULL) == (cases[i].params_len == 0));
		filmsg_release(&m);
		json_decref(v);
	}
}

static void test_filjson__bad_signed(void)
{
	static const struct {
		const char *json;
		const char *msg;
	} cases[] = {
		{ "[]", "SignedMessage: expected an object" },
		{ "{}", "SignedMessage.Signature: missing" },
		{ "{\"Signature\":{\"Type\":1,\"Data\":\"\"}}",
		  "SignedMessage.Message: missing" },
		{ "{\"Signature\":{\"Type\":4,\"Data\":\"\"}}",
		  "SignedMessage.Signature.Type: unknown signature type" },
		{ "{\"Signature\":{\"Type\":0,\"Data\":\"\"}}",
		  "SignedMessage.Signature.Type: unknown" },
		{ "{\"Signature\":{\"Data\":\"\"}}",
		  "SignedMessage.Signature.Type: missing" },
		{ "{\"Signature\":{\"Type\":\"1\"}}",
		  "SignedMessage.Signature.Type: expected an unsigned integer" },
		{ "{\"Signature\":{\"Type\":1,\"Data\":\"AA=\"}}",
		  "SignedMessage.Signature.Data: invalid base64" },
		{ "{\"Signature\":{\"Type\":1,\"Data\":7}}",
		  "SignedMessage.Signature.Data: expected a base64 string" },
		{ "{\"Signature\":{\"Type\":1,\"Data\":\"\"},\"Message\":[]}",
		  "SignedMessage.Message: expected an object" },
		{ "{\"Signature\":{\"Type\":1,\"Data\":\"\"},\"Message\":{}}",
		  "SignedMessage.Message.To: missing" },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		json_t *v = load(cases[i].json);
		struct filmsg_signed sm;

		CU_ASSERT_EQUAL(filjson_signed_decode(&sm, v), EFS_ECORRUPT);
		if (!strstr(efs_error_msg(), cases[i].msg))
			fprintf(stderr, "case %zu: %s\n", i, efs_error_msg());
		CU_ASSERT_PTR_NOT_NULL(strstr(efs_error_msg(), cases[i].msg));
		json_decref(v);
	}
	/* signature data: 199 bytes fit, 200 do not */
	for (size_t n = 199; n <= 200; n++) {
		uint8_t data[200] = { 0 };
		struct filmsg_sig s;
		json_t *d, *v;

		CU_ASSERT_EQUAL_FATAL(filjson_bytes_encode(&d, data, n), 0);
		v = json_pack("{s:i,s:o}", "Type", 2, "Data", d);
		CU_ASSERT_EQUAL(filjson_sig_decode(&s, v),
				n == 199 ? 0 : EFS_ECORRUPT);
		json_decref(v);
	}
}

static void test_filjson__scalars(void)
{
	struct cid id;
	struct bigint a;
	uint8_t *p;
	size_t len;
	json_t *v;

	v = load("{\"/\":\"" SEND_CID "\",\"x\":1}");
	CU_ASSERT_EQUAL(filjson_cid_decode(&id, v, "cid"), 0);
	json_decref(v);
	CU_ASSERT_EQUAL_FATAL(filjson_cid_encode(&v, &id), 0);
	assert_dump(v, "{\"/\":\"" SEND_CID "\"}");
	v = load("{\"/\":\"bafy\"}");
	CU_ASSERT_EQUAL(filjson_cid_decode(&id, v, "cid"), EFS_ECORRUPT);
	json_decref(v);
	v = load("\"" SEND_CID "\"");
	CU_ASSERT_EQUAL(filjson_cid_decode(&id, v, "cid"), EFS_ECORRUPT);
	json_decref(v);
	v = load("\"-12345678901234567890123\"");
	CU_ASSERT_EQUAL(filjson_bigint_decode(&a, v, "n"), 0);
	json_decref(v);
	CU_ASSERT_EQUAL_FATAL(filjson_bigint_encode(&v, &a), 0);
	assert_dump(v, "\"-12345678901234567890123\"");
	v = load("\"Zm9vYg==\"");
	CU_ASSERT_EQUAL(filjson_bytes_decode(&p, &len, v, 4, "b"), 0);
	CU_ASSERT(len == 4 && !memcmp(p, "foob", 4));
	efs_free(p);
	CU_ASSERT_EQUAL(filjson_bytes_decode(&p, &len, v, 3, "b"),
			EFS_ECORRUPT);
	json_decref(v);
	CU_ASSERT_EQUAL(filjson_bytes_decode(&p, &len, NULL, 3, "b"), 0);
	CU_ASSERT(p == NULL && len == 0);
}

/* JSON round trip of random messages through text. */
static void test_filjson__roundtrip(void)
{
	uint64_t x = 0x15;

	for (int i = 0; i < 300; i++) {
		struct filmsg m, back;
		uint8_t params[40];
		json_t *v;
		char *text;

		load_msg(&m, "evm");
		m.nonce = harness_rand64(&x) >> 1;
		m.gas_limit = (int64_t)harness_rand64(&x);
		m.method = harness_rand64(&x) >> 2;
		bigint_from_i64(&m.gas_premium, (int64_t)harness_rand64(&x));
		harness_fill_random(params, sizeof(params), (uint64_t)i + 1);
		CU_ASSERT_EQUAL_FATAL(filmsg_set_params(&m, params,
					(size_t)i % sizeof(params)), 0);
		CU_ASSERT_EQUAL_FATAL(filjson_msg_encode(&v, &m, 'f'), 0);
		text = json_dumps(v, JSON_COMPACT);
		json_decref(v);
		CU_ASSERT_PTR_NOT_NULL_FATAL(text);
		v = load(text);
		free(text);
		CU_ASSERT_EQUAL_FATAL(filjson_msg_decode(&back, v), 0);
		CU_ASSERT(filmsg_equal(&m, &back));
		json_decref(v);
		filmsg_release(&back);
		filmsg_release(&m);
	}
}

static int alloc_run(void *payload)
{
	const struct filmsg_signed *sm = payload;
	struct filmsg_signed back;
	json_t *v;
	int rc;

	if ((rc = filjson_signed_encode(&v, sm, 'f')) < 0)
		return rc;
	rc = filjson_signed_decode(&back, v);
	json_decref(v);
	if (rc == 0)
		filmsg_signed_release(&back);
	return rc;
}

static void test_filjson__alloc(void)
{
	struct filmsg_signed sm;

	load_signed(&sm, "addbalance");
	json_set_alloc_funcs(efs_malloc, efs_free);
	CU_ASSERT(harness_alloc_loop(alloc_run, &sm) > 10);
	json_set_alloc_funcs(malloc, free);
	filmsg_signed_release(&sm);
}

static CU_TestInfo filjson_tests[] = {
	{ "message", test_filjson__message },
	{ "signed", test_filjson__signed },
	{ "testnet", test_filjson__testnet },
	{ "bad_message", test_filjson__bad_message },
	{ "lenient", test_filjson__lenient },
	{ "bad_signed", test_filjson__bad_signed },
	{ "scalars", test_filjson__scalars },
	{ "roundtrip", test_filjson__roundtrip },
	{ "alloc", test_filjson__alloc },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "filjson", .pCleanupFunc = msg_vectors_release,
	       .pTests = filjson_tests })
