/*
 * test_filkey.c - secp256k1 keys, Filecoin signatures and Lotus
 * key-info: golden vectors from iso-filecoin and
 * @zondax/filecoin-signing-tools (tests/data/filecoin/key_vectors.txt,
 * made by key_vectors.mjs beside it), verification by go-crypto's rules
 * (malformed, tampered and wrong-signer signatures), the byte form, the
 * key-info forms Lotus reads, and allocation failure.
 */
#include "core/filkey.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/filsig.h"
#include "tests/harness.h"

/* The secp256k1 group order n, big-endian. */
static const uint8_t order_n[32] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
	0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
};

static const char *const key_names[] = { "one", "max", "zondax", "rand" };

#define VECTORS "filecoin/key_vectors.txt"

static struct buf vectors = BUF_INIT(BUF_NOCAP);

static const struct buf *vec(void)
{
	if (!vectors.ptr)
		CU_ASSERT_FATAL(harness_read_data(&vectors, VECTORS) == 0);
	return &vectors;
}

/* Hex vector "<key>.<what>" into out; fails the test when missing. */
static size_t vec_hex(uint8_t *out, size_t cap, const char *key,
		      const char *what)
{
	char name[64];
	long n;

	snprintf(name, sizeof(name), "%s.%s", key, what);
	n = harness_vector_hex(out, cap, vec(), name);
	CU_ASSERT_FATAL(n >= 0);
	return (size_t)n;
}

/* Text vector "<key>.<what>" (an address or key-info) into out; fails
 * the test when missing or longer than cap. */
static void vec_str(char *out, size_t cap, const char *key, const char *what)
{
	char name[64];

	snprintf(name, sizeof(name), "%s.%s", key, what);
	CU_ASSERT_FATAL(harness_vector_str(out, cap, vec(), name) >= 0);
}

static void import_vec(struct filkey *k, const char *key)
{
	uint8_t priv[32];

	CU_ASSERT_FATAL(vec_hex(priv, sizeof(priv), key, "priv") == 32);
	CU_ASSERT_FATAL(filkey_import(k, priv, sizeof(priv)) == 0);
}

static void pattern(uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(i * 7 + 3);
}

/* Sign msg with k and compare with the vector "<key>.<what>". */
static void check_sig(const struct filkey *k, const char *key,
		      const char *what, const void *msg, size_t len)
{
	uint8_t want[65];
	struct filsig sig;

	CU_ASSERT_FATAL(vec_hex(want, sizeof(want), key, what) == 65);
	CU_ASSERT_FATAL(filkey_sign(&sig, k, msg, len) == 0);
	CU_ASSERT_EQUAL(sig.type, FILSIG_SECP256K1);
	CU_ASSERT_EQUAL(sig.len, 65);
	CU_ASSERT(memcmp(sig.data, want, 65) == 0);
	CU_ASSERT_EQUAL(filsig_verify(&sig, &k->addr, msg, len), 0);
}

static void test_filkey__golden_keys(void)
{
	for (size_t i = 0; i < sizeof(key_names) / sizeof(key_names[0]); i++) {
		const char *key = key_names[i];
		char addr[FILADDR_STR_MAX], want_addr[FILADDR_STR_MAX];
		char ki[FILKEY_KEYINFO_MAX], want_ki[FILKEY_KEYINFO_MAX];
		uint8_t pub[65];
		struct filkey k, k2;

		import_vec(&k, key);
		CU_ASSERT(vec_hex(pub, sizeof(pub), key, "pub") == 65);
		CU_ASSERT(memcmp(k.pub, pub, 65) == 0);
		vec_str(want_addr, sizeof(want_addr), key, "addr");
		filaddr_format(addr, &k.addr, 'f');
		CU_ASSERT_STRING_EQUAL(addr, want_addr);
		vec_str(want_ki, sizeof(want_ki), key, "keyinfo");
		CU_ASSERT_EQUAL(filkey_keyinfo_format(ki, &k), strlen(want_ki));
		CU_ASSERT_STRING_EQUAL(ki, want_ki);
		CU_ASSERT_FATAL(filkey_keyinfo_parse(&k2, want_ki,
						     strlen(want_ki)) == 0);
		CU_ASSERT(memcmp(k.priv, k2.priv, 32) == 0);
		CU_ASSERT(memcmp(k.pub, k2.pub, 65) == 0);
		CU_ASSERT(filaddr_equal(&k.addr, &k2.addr));
		filkey_release(&k);
		filkey_release(&k2);
	}
}

static void test_filkey__golden_signatures(void)
{
	static const char envelope[] =
		"\x19" "Filecoin Signed Message:\n5hello";
	uint8_t pat[300], cid[38];
	struct filkey k;

	pattern(pat, sizeof(pat));
	for (size_t i = 0; i < sizeof(key_names) / sizeof(key_names[0]); i++) {
		const char *key = key_names[i];

		import_vec(&k, key);
		check_sig(&k, key, "sig.empty", "", 0);
		check_sig(&k, key, "sig.hello", "hello", 5);
		check_sig(&k, key, "sig.pattern", pat, sizeof(pat));
		check_sig(&k, key, "frc102.hello", envelope,
			  sizeof(envelope) - 1);
		/* zondax's signatures of the same messages as chain
		 * messages: over their CID bytes. */
		CU_ASSERT(vec_hex(cid, sizeof(cid), key, "cid.empty") == 38);
		check_sig(&k, key, "sigcid.empty", cid, sizeof(cid));
		CU_ASSERT(vec_hex(cid, sizeof(cid), key, "cid.hello") == 38);
		check_sig(&k, key, "sigcid.hello", cid, sizeof(cid));
		CU_ASSERT(vec_hex(cid, sizeof(cid), key, "cid.pattern") == 38);
		check_sig(&k, key, "sigcid.pattern", cid, sizeof(cid));
		filkey_release(&k);
	}
}

/* Zondax's test_vectors/signed_message.json: a chain message signed
 * through its CID, and the signature recovers the sender. */
static void test_filkey__golden_zondax_message(void)
{
	uint8_t cid[38], want[65];
	struct filaddr from;
	struct filsig sig;
	struct filkey k;
	char addr[FILADDR_STR_MAX];

	import_vec(&k, "zondax");
	CU_ASSERT_FATAL(vec_hex(cid, sizeof(cid), "zondax", "cid.tx") == 38);
	check_sig(&k, "zondax", "sig.tx", cid, sizeof(cid));
	CU_ASSERT_FATAL(vec_hex(want, sizeof(want), "zondax", "sig.tx") == 65);
	sig.type = FILSIG_SECP256K1;
	sig.len = 65;
	memcpy(sig.data, want, 65);
	CU_ASSERT_FATAL(filsig_recover(&from, &sig, cid, sizeof(cid)) == 0);
	filaddr_format(addr, &from, 't');
	CU_ASSERT_STRING_EQUAL(addr,
			       "t1d2xrzcslx7xlbbylc5c3d5lvandqw4iwl6epxba");
	filkey_release(&k);
}

static void test_filkey__roundtrip(void)
{
	uint8_t msg[200];
	struct filkey a, b;
	struct filsig sig;

	for (int i = 0; i < 20; i++) {
		size_t len = (size_t)i * 10;

		harness_fill_random(msg, sizeof(msg), (uint64_t)i + 1);
		CU_ASSERT_FATAL(filkey_generate(&a) == 0);
		CU_ASSERT_FATAL(filkey_generate(&b) == 0);
		CU_ASSERT(memcmp(a.priv, b.priv, 32) != 0);
		CU_ASSERT_EQUAL(a.addr.protocol, FILADDR_SECP256K1);
		CU_ASSERT_FATAL(filkey_sign(&sig, &a, msg, len) == 0);
		CU_ASSERT_EQUAL(filsig_verify(&sig, &a.addr, msg, len), 0);
		/* wrong signer */
		CU_ASSERT_EQUAL(filsig_verify(&sig, &b.addr, msg, len),
				EFS_EMISMATCH);
		/* wrong message */
		msg[0] ^= 1;
		CU_ASSERT_EQUAL(filsig_verify(&sig, &a.addr, msg, len + 1),
				EFS_EMISMATCH);
		/* low s, always */
		CU_ASSERT(sig.data[32] < 0x80);
		filkey_release(&a);
		CU_ASSERT(a.priv[0] == 0 && a.priv[31] == 0);
		filkey_release(&b);
	}
}

/* s := n - s, and the recovery id's parity flips with it. */
static void negate_s(struct filsig *sig)
{
	int borrow = 0;

	for (int i = 31; i >= 0; i--) {
		int d = order_n[i] - sig->data[32 + i] - borrow;

		borrow = d < 0;
		sig->data[32 + i] = (uint8_t)(d + (borrow ? 256 : 0));
	}
	sig->data[64] ^= 1;
}

static void test_filkey__verify_corrupt(void)
{
	struct filkey k;
	struct filsig good, sig;
	struct filaddr id, bls;
	uint8_t blsbytes[49] = { FILADDR_BLS, 0xa1 };

	import_vec(&k, "rand");
	CU_ASSERT_FATAL(filkey_sign(&good, &k, "hello", 5) == 0);

	/* recovery ids 4 and up are malformed; the other parity recovers
	 * another key */
	sig = good;
	sig.data[64] = 4;
	CU_ASSERT_EQUAL(filsig_verify(&sig, &k.addr, "hello", 5), EFS_ECORRUPT);
	sig.data[64] = 0xff;
	CU_ASSERT_EQUAL(filsig_verify(&sig, &k.addr, "hello", 5), EFS_ECORRUPT);
	sig = good;
	sig.data[64] ^= 1;
	CU_ASSERT_EQUAL(filsig_verify(&sig, &k.addr, "hello", 5),
			EFS_EMISMATCH);
	/* r = 0, s = 0, s = n, r = n */
	sig = good;
	memset(sig.data, 0, 32);
	CU_ASSERT_EQUAL(filsig_verify(&sig, &k.addr, "hello", 5), EFS_ECORRUPT);
	sig = good;
	memset(sig.data + 32, 0, 32);
	CU_ASSERT_EQUAL(filsig_verify(&sig, &k.addr, "hello", 5), EFS_ECORRUPT);
	sig = good;
	memcpy(sig.data + 32, order_n, 32);
	CU_ASSERT_EQUAL(filsig_verify(&sig, &k.addr, "hello", 5), EFS_ECORRUPT);
	sig = good;
	memcpy(sig.data, order_n, 32);
	CU_ASSERT_EQUAL(filsig_verify(&sig, &k.addr, "hello", 5), EFS_ECORRUPT);
	/* r = 1 is in range; x = 1 is on the curve only for... nobody
	 * cares: either error is fine, but it must be an error */
	sig = good;
	memset(sig.data, 0, 32);
	sig.data[31] = 1;
	CU_ASSERT(filsig_verify(&sig, &k.addr, "hello", 5) < 0);
	/* every single-bit flip of r || s fails */
	for (int bit = 0; bit < 512; bit += 7) {
		int rc;

		sig = good;
		sig.data[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		rc = filsig_verify(&sig, &k.addr, "hello", 5);
		CU_ASSERT(rc == EFS_EMISMATCH || rc == EFS_ECORRUPT);
	}
	/* the high-s twin: go-crypto's EcRecover accepts it, so do we */
	sig = good;
	negate_s(&sig);
	CU_ASSERT(sig.data[32] >= 0x80);
	CU_ASSERT_EQUAL(filsig_verify(&sig, &k.addr, "hello", 5), 0);
	/* wrong length inside the struct */
	sig = good;
	sig.len = 64;
	CU_ASSERT_EQUAL(filsig_verify(&sig, &k.addr, "hello", 5), EFS_ECORRUPT);
	/* types without a verifier */
	sig = good;
	sig.type = FILSIG_BLS;
	sig.len = FILSIG_BLS_LEN;
	CU_ASSERT_EQUAL(filsig_verify(&sig, &k.addr, "hello", 5),
			EFS_EUNSUPPORTED);
	CU_ASSERT(strstr(efs_error_msg(), "bls") != NULL);
	sig = good;
	sig.type = FILSIG_DELEGATED;
	CU_ASSERT_EQUAL(filsig_verify(&sig, &k.addr, "hello", 5),
			EFS_EUNSUPPORTED);
	/* an ID signer must be resolved first; a BLS address never signs
	 * secp256k1 */
	filaddr_init_id(&id, 1234);
	CU_ASSERT_EQUAL(filsig_verify(&good, &id, "hello", 5), EFS_EINVAL);
	CU_ASSERT_FATAL(filaddr_from_bytes(&bls, blsbytes,
					   sizeof(blsbytes)) == 0);
	CU_ASSERT_EQUAL(filsig_verify(&good, &bls, "hello", 5), EFS_EMISMATCH);
	filkey_release(&k);
}

static void test_filkey__sig_bytes(void)
{
	uint8_t bytes[FILSIG_BYTES_MAX + 2];
	struct filkey k;
	struct filsig sig, back;
	size_t n;

	import_vec(&k, "one");
	CU_ASSERT_FATAL(filkey_sign(&sig, &k, "x", 1) == 0);
	n = filsig_to_bytes(bytes, &sig);
	CU_ASSERT_EQUAL(n, 66);
	CU_ASSERT_EQUAL(bytes[0], 1);
	CU_ASSERT_EQUAL(filsig_from_bytes(&back, bytes, n), 0);
	CU_ASSERT_EQUAL(back.type, sig.type);
	CU_ASSERT_EQUAL(back.len, sig.len);
	CU_ASSERT(memcmp(back.data, sig.data, sig.len) == 0);
	/* truncated, too long, empty, unknown types */
	for (size_t len = 0; len < n; len++)
		CU_ASSERT_EQUAL(filsig_from_bytes(&back, bytes, len),
				EFS_ECORRUPT);
	CU_ASSERT_EQUAL(filsig_from_bytes(&back, bytes, n + 1), EFS_ECORRUPT);
	for (int t = 0; t < 256; t++) {
		bytes[0] = (uint8_t)t;
		CU_ASSERT_EQUAL(filsig_from_bytes(&back, bytes, 66) == 0,
				t == 1 || t == 3);
		CU_ASSERT_EQUAL(filsig_from_bytes(&back, bytes, 97) == 0,
				t == 2);
	}
	CU_ASSERT_STRING_EQUAL(filsig_type_name(1), "secp256k1");
	CU_ASSERT_STRING_EQUAL(filsig_type_name(2), "bls");
	CU_ASSERT_STRING_EQUAL(filsig_type_name(3), "delegated");
	CU_ASSERT_STRING_EQUAL(filsig_type_name(0), "unknown");
	filkey_release(&k);
}

static void test_filkey__import_range(void)
{
	uint8_t priv[33];
	struct filkey k;

	memset(priv, 0, sizeof(priv));
	CU_ASSERT_EQUAL(filkey_import(&k, priv, 32), EFS_ECORRUPT);
	CU_ASSERT_EQUAL(filkey_import(&k, priv, 31), EFS_ECORRUPT);
	CU_ASSERT_EQUAL(filkey_import(&k, priv, 33), EFS_ECORRUPT);
	memcpy(priv, order_n, 32);
	CU_ASSERT_EQUAL(filkey_import(&k, priv, 32), EFS_ECORRUPT);
	memset(priv, 0xff, 32);
	CU_ASSERT_EQUAL(filkey_import(&k, priv, 32), EFS_ECORRUPT);
	memcpy(priv, order_n, 32);
	priv[31]--;
	CU_ASSERT_EQUAL(filkey_import(&k, priv, 32), 0);
	filkey_release(&k);
}

/* Hex-encode s into out (room for 2 * strlen(s) + 1). */
static void to_hex(char *out, const char *s, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	for (; *s; s++) {
		*out++ = digits[(uint8_t)*s >> 4];
		*out++ = digits[(uint8_t)*s & 15];
	}
	*out = '\0';
}

/* The key "one" in base64, and a JSON key-info around it. */
#define ONE_B64_NOPAD "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE"
#define ONE_B64 ONE_B64_NOPAD "="

static int parse_str(struct filkey *k, const char *s)
{
	return filkey_keyinfo_parse(k, s, strlen(s));
}

static void test_filkey__keyinfo_forms(void)
{
	static const char *const good[] = {
		"{\"Type\":\"secp256k1\",\"PrivateKey\":\"" ONE_B64 "\"}",
		"  {\"PrivateKey\" : \"" ONE_B64 "\", "
		"\"Type\": \"secp256k1\"}\n",
		"{\"type\":\"secp256k1\",\"privatekey\":\"" ONE_B64 "\"}",
		"{\"Type\":1,\"PrivateKey\":\"" ONE_B64 "\"}",
		"{\"Type\":\"secp256k1\",\"PrivateKey\":\"" ONE_B64 "\","
		"\"Comment\":{\"a\":[1,2,null]}}",
		/* escapes, as Go writes some characters */
		"{\"Type\":\"secp\\u0032\\u00356k1\",\"PrivateKey\":\""
		ONE_B64_NOPAD "\\u003d\"}",
	};
	char hex[600];
	struct filkey k;
	size_t n;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(parse_str(&k, good[i]), 0);
		CU_ASSERT_EQUAL(k.priv[31], 1);
		CU_ASSERT_EQUAL(k.priv[0], 0);
		/* and as hex of either case, with a trailing newline */
		to_hex(hex, good[i], i % 2);
		n = strlen(hex);
		hex[n] = '\n';
		hex[n + 1] = '\0';
		CU_ASSERT_EQUAL(parse_str(&k, hex), 0);
		CU_ASSERT_EQUAL(k.priv[31], 1);
		filkey_release(&k);
	}
}

static void test_filkey__keyinfo_bad(void)
{
	static const struct {
		const char *text;
		int rc;
	} cases[] = {
		{ "", EFS_ECORRUPT },
		{ " \n", EFS_ECORRUPT },
		{ "7b2", EFS_ECORRUPT },        /* odd hex */
		{ "7g", EFS_ECORRUPT },         /* not hex */
		{ "68656c6c6f", EFS_ECORRUPT }, /* hex of "hello" */
		{ "[]", EFS_ECORRUPT },
		{ "{", EFS_ECORRUPT },
		{ "{}", EFS_ECORRUPT },
		{ "{\"Type\":\"secp256k1\"}", EFS_ECORRUPT },
		{ "{\"PrivateKey\":\"" ONE_B64 "\"}", EFS_ECORRUPT },
		{ "{\"Type\":\"bls\",\"PrivateKey\":\"" ONE_B64 "\"}",
		  EFS_EUNSUPPORTED },
		{ "{\"Type\":\"delegated\",\"PrivateKey\":\"" ONE_B64 "\"}",
		  EFS_EUNSUPPORTED },
		{ "{\"Type\":\"secp256k1-ledger\",\"PrivateKey\":\"" ONE_B64
		  "\"}", EFS_EUNSUPPORTED },
		{ "{\"Type\":2,\"PrivateKey\":\"" ONE_B64 "\"}",
		  EFS_EUNSUPPORTED },
		{ "{\"Type\":3,\"PrivateKey\":\"" ONE_B64 "\"}",
		  EFS_EUNSUPPORTED },
		{ "{\"Type\":7,\"PrivateKey\":\"" ONE_B64 "\"}", EFS_ECORRUPT },
		{ "{\"Type\":\"Secp256k1\",\"PrivateKey\":\"" ONE_B64 "\"}",
		  EFS_ECORRUPT },
		{ "{\"Type\":true,\"PrivateKey\":\"" ONE_B64 "\"}",
		  EFS_ECORRUPT },
		{ "{\"Type\":\"secp256k1\",\"PrivateKey\":null}",
		  EFS_ECORRUPT },
		{ "{\"Type\":\"secp256k1\",\"PrivateKey\":12}", EFS_ECORRUPT },
		/* repeated, exactly or in another case */
		{ "{\"Type\":\"secp256k1\",\"Type\":\"secp256k1\","
		  "\"PrivateKey\":\"" ONE_B64 "\"}", EFS_ECORRUPT },
		{ "{\"Type\":\"secp256k1\",\"TYPE\":\"secp256k1\","
		  "\"PrivateKey\":\"" ONE_B64 "\"}", EFS_ECORRUPT },
		/* base64: unpadded, bad character, non-zero tail bits,
		 * 31 and 33 bytes, the zero key, padding in the middle */
		{ "{\"Type\":\"secp256k1\",\"PrivateKey\":\"" ONE_B64_NOPAD
		  "\"}", EFS_ECORRUPT },
		{ "{\"Type\":\"secp256k1\",\"PrivateKey\":"
		  "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-=\"}",
		  EFS_ECORRUPT },
		{ "{\"Type\":\"secp256k1\",\"PrivateKey\":"
		  "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAF=\"}",
		  EFS_ECORRUPT },
		{ "{\"Type\":\"secp256k1\",\"PrivateKey\":"
		  "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\"}",
		  EFS_ECORRUPT },
		{ "{\"Type\":\"secp256k1\",\"PrivateKey\":"
		  "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB\"}",
		  EFS_ECORRUPT },
		{ "{\"Type\":\"secp256k1\",\"PrivateKey\":"
		  "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}",
		  EFS_ECORRUPT },
		{ "{\"Type\":\"secp256k1\",\"PrivateKey\":"
		  "\"AAAA=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}",
		  EFS_ECORRUPT },
		{ "{\"Type\":\"secp256k1\",\"PrivateKey\":\"" ONE_B64 "\"} x",
		  EFS_ECORRUPT },
	};
	struct filkey k;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = parse_str(&k, cases[i].text);

		if (rc != cases[i].rc)
			fprintf(stderr, "case %zu: %s (%s)\n", i,
				efs_error_name(rc), efs_error_msg());
		CU_ASSERT_EQUAL(rc, cases[i].rc);
		/* no message ever quotes the secret */
		CU_ASSERT(strstr(efs_error_msg(), "AAAAAAAA") == NULL);
	}
}

static void test_filkey__keyinfo_too_big(void)
{
	static char big[FILKEY_KEYINFO_IN_MAX + 2];
	struct filkey k;

	memset(big, '0', sizeof(big) - 1);
	CU_ASSERT_EQUAL(filkey_keyinfo_parse(&k, big, sizeof(big) - 1),
			EFS_ETOOBIG);
	/* just under the cap: hex of a long but valid object */
	{
		char json[FILKEY_KEYINFO_IN_MAX / 2 + 1];
		static const char head[] =
			"{\"Type\":\"secp256k1\",\"PrivateKey\":\"" ONE_B64
			"\",\"Pad\":\"";
		size_t n = sizeof(json) - 1;

		memset(json, 'x', n);
		memcpy(json, head, sizeof(head) - 1);
		json[n - 2] = '"';
		json[n - 1] = '}';
		json[n] = '\0';
		to_hex(big, json, false);
		CU_ASSERT_EQUAL(strlen(big), FILKEY_KEYINFO_IN_MAX);
		CU_ASSERT_EQUAL(parse_str(&k, big), 0);
		CU_ASSERT_EQUAL(k.priv[31], 1);
	}
}

static int alloc_run(void *payload)
{
	const char *ki = payload;
	struct filkey k;
	int rc = filkey_keyinfo_parse(&k, ki, strlen(ki));

	filkey_release(&k);
	return rc;
}

/* Key-info parsing never allocates (no copy of the secret on the heap):
 * the loop's first run sees no allocation at all. */
static void test_filkey__alloc(void)
{
	char ki[FILKEY_KEYINFO_MAX];

	vec_str(ki, sizeof(ki), "rand", "keyinfo");
	CU_ASSERT_EQUAL(harness_alloc_loop(alloc_run, ki), 1);
}

static CU_TestInfo filkey_tests[] = {
	{ "golden_keys", test_filkey__golden_keys },
	{ "golden_signatures", test_filkey__golden_signatures },
	{ "golden_zondax_message", test_filkey__golden_zondax_message },
	{ "roundtrip", test_filkey__roundtrip },
	{ "verify_corrupt", test_filkey__verify_corrupt },
	{ "sig_bytes", test_filkey__sig_bytes },
	{ "import_range", test_filkey__import_range },
	{ "keyinfo_forms", test_filkey__keyinfo_forms },
	{ "keyinfo_bad", test_filkey__keyinfo_bad },
	{ "keyinfo_too_big", test_filkey__keyinfo_too_big },
	{ "alloc", test_filkey__alloc },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "filkey", .pTests = filkey_tests })
