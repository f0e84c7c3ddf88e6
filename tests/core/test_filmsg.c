/*
 * test_filmsg.c - Filecoin chain messages.  Golden vectors in
 * tests/data/filecoin/messages.txt: the CBOR of four messages, on which
 * @zondax/filecoin-signing-tools 2.4.3 (transactionSerialize) and
 * iso-filecoin 7.4.7 (Message.serialize) agree, their CIDs
 * (iso-filecoin cidBytes), and two secp256k1-signed messages with their
 * CIDs (zondax transactionSign / getCid, re-hashed with @ipld/dag-cbor).
 * BLS follows Lotus' SignedMessage.Cid (the unsigned message's CID),
 * which zondax does not.  And 40 seeded random messages (rmsg-N, rcid-N)
 * from tests/interop/gen-filecoin-vectors.mjs.  Then strict decoding
 * field by field, every truncation, byte flips and the allocation-failure
 * loop.
 */
#include "core/filmsg.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "tests/core/filmsg_test.h"
#include "tests/harness.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *name;
	const char *to;
	const char *from;
	uint64_t nonce;
	const char *value;
	int64_t gas_limit;
	const char *fee_cap;
	const char *premium;
	uint64_t method;
	const char *params;   /* hex */
	const char *cid;
} golden[] = {
	{ "send", "f17uoq6tp427uzv7fztkbsnn64iwotfrristwpryy", KEY_ADDR, 1,
	  "100000", 25000, "2500", "2500", FILMSG_METHOD_SEND, "",
	  "bafy2bzacedrff2ut5ntedbtt4bc3d74qjmxpzpvh7upz4fzl36cqty32qurc6" },
	{ "addbalance", "f05", KEY_ADDR, 7, "1000000000000000000", 5000000,
	  "100000", "99000", FILMSG_METHOD_MARKET_ADD_BALANCE,
	  "550154a9b54edcb9f0072e768f79e0ec8f2cbb6bde05",
	  "bafy2bzaceamaearzkvai2nnnwkrapnznnbawrgme75s4vdwah5qvcmhjch4z6" },
	{ "evm", "f410f2oekwcmo2pueydmaq53eic2i62crtbeyuzx2gmy", KEY_ADDR,
	  9007199254740991, "340282366920938463463374607431768211455",
	  9007199254740991, "0", "0", FILMSG_METHOD_EVM_INVOKE_CONTRACT,
	  "deadbeef",
	  "bafy2bzacedpftobdzgymw2hmazpngkw4c424rmp4u7rnr54iwtd52fgjlbyca" },
	{ "idfrom", "t01000", "t0100", 0, "0", 0, "1", "1",
	  FILMSG_METHOD_MARKET_PUBLISH_STORAGE_DEALS, "",
	  "bafy2bzacec24vps7njatvfjssgdv7fnpbyhinh5p2w36ez47gfyzlulbkdacq" },
};

static void build(struct filmsg *m, size_t i)
{
	uint8_t params[64];
	long plen = harness_unhex(params, sizeof(params), golden[i].params);

	filmsg_init(m);
	CU_ASSERT_EQUAL_FATAL(filaddr_parse(&m->to, NULL, golden[i].to,
					    strlen(golden[i].to)), 0);
	CU_ASSERT_EQUAL_FATAL(filaddr_parse(&m->from, NULL, golden[i].from,
					    strlen(golden[i].from)), 0);
	m->nonce = golden[i].nonce;
	CU_ASSERT_EQUAL_FATAL(bigint_parse(&m->value, golden[i].value,
					   strlen(golden[i].value)), 0);
	m->gas_limit = golden[i].gas_limit;
	CU_ASSERT_EQUAL_FATAL(bigint_parse(&m->gas_fee_cap, golden[i].fee_cap,
					   strlen(golden[i].fee_cap)), 0);
	CU_ASSERT_EQUAL_FATAL(bigint_parse(&m->gas_premium, golden[i].premium,
					   strlen(golden[i].premium)), 0);
	m->method = golden[i].method;
	CU_ASSERT_FATAL(plen >= 0);
	CU_ASSERT_EQUAL_FATAL(filmsg_set_params(m, params, (size_t)plen), 0);
}

/* filmsg_equal looks at every field, and at params by content. */
static void test_filmsg__equal(void)
{
	struct filmsg a, b;

	build(&a, 1); /* addbalance: all fields differ from each other */
	CU_ASSERT_FATAL(a.params_len > 0);
	for (int field = 0; field <= 10; field++) {
		CU_ASSERT_EQUAL_FATAL(filmsg_copy(&b, &a), 0);
		CU_ASSERT(b.params != a.params && filmsg_equal(&a, &b));
		switch (field) {
		case 0: b.version++; break;
		case 1: b.to = a.from; break;
		case 2: b.from = a.to; break;
		case 3: b.nonce++; break;
		case 4: b.value = a.gas_fee_cap; break;
		case 5: b.gas_limit++; break;
		case 6: b.gas_fee_cap = a.value; break;
		case 7: b.gas_premium = a.value; break;
		case 8: b.method++; break;
		case 9: b.params[0] ^= 1; break;
		default: b.params_len--; break;
		}
		CU_ASSERT(!filmsg_equal(&a, &b));
		CU_ASSERT(!filmsg_equal(&b, &a));
		filmsg_release(&b);
	}
	filmsg_release(&a);
	build(&a, 0); /* send: no params */
	CU_ASSERT_EQUAL_FATAL(filmsg_copy(&b, &a), 0);
	CU_ASSERT(filmsg_equal(&a, &b));
	filmsg_release(&b);
	filmsg_release(&a);
}

/* filmsg_signed_equal: the message, the signature type and its bytes. */
static void test_filmsg__signed_equal(void)
{
	struct filmsg_signed a, b;

	build(&a.msg, 0);
	a.sig.type = FILSIG_SECP256K1;
	a.sig.len = 65;
	memset(a.sig.data, 0x5a, 65);
	for (int change = 0; change <= 4; change++) {
		b = a;
		CU_ASSERT_EQUAL_FATAL(filmsg_copy(&b.msg, &a.msg), 0);
		CU_ASSERT(filmsg_signed_equal(&a, &b));
		switch (change) {
		case 0: b.sig.type = FILSIG_DELEGATED; break;
		case 1: b.sig.len--; break;
		case 2: b.sig.data[0] ^= 1; break;
		case 3: b.sig.data[64] ^= 0x80; break;
		default: b.msg.nonce++; break;
		}
		CU_ASSERT(!filmsg_signed_equal(&a, &b));
		CU_ASSERT(!filmsg_signed_equal(&b, &a));
		filmsg_signed_release(&b);
	}
	filmsg_signed_release(&a);
}

static void test_filmsg__golden(void)
{
	for (size_t i = 0; i < N_ELEMS(golden); i++) {
		uint8_t want[MSG_VECTOR_MAX];
		size_t n = msg_vector(want, "msg", golden[i].name);
		struct buf b = BUF_INIT(BUF_NOCAP);
		struct filmsg m, back;
		struct cid id;
		char s[CID_STR_MAX];

		build(&m, i);
		CU_ASSERT_EQUAL_FATAL(filmsg_encode(&b, &m), 0);
		CU_ASSERT_EQUAL(b.len, n);
		CU_ASSERT(b.len == n && !memcmp(b.ptr, want, n));
		CU_ASSERT_EQUAL_FATAL(filmsg_cid(&id, &m), 0);
		CU_ASSERT_STRING_EQUAL(cid_tostr(s, &id), golden[i].cid);
		CU_ASSERT_EQUAL_FATAL(filmsg_decode(&back, want, n), 0);
		CU_ASSERT(filmsg_equal(&m, &back));
		filmsg_release(&back);
		filmsg_release(&m);
		buf_release(&b);
	}
}

static void test_filmsg__signed(void)
{
	static const struct {
		const char *name;
		const char *cid;
	} cases[] = {
		{ "send",
		  "bafy2bzacedjddhr2mnpdqqxpc5i2w3m2vecdfh4hdrz62ueabseagqmiyt4wq" },
		{ "addbalance",
		  "bafy2bzaceb3wcg3ygceoxmc34dciedpeptbrqi3yisstb5p7htyqdfbrbczh6" },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		uint8_t want[MSG_VECTOR_MAX], msg[MSG_VECTOR_MAX];
		size_t n = msg_vector(want, "signed", cases[i].name);
		size_t mn = msg_vector(msg, "msg", cases[i].name);
		struct buf b = BUF_INIT(BUF_NOCAP);
		struct filmsg_signed sm;
		struct filmsg m;
		struct cid id;
		char s[CID_STR_MAX];

		CU_ASSERT_EQUAL_FATAL(filmsg_signed_decode(&sm, want, n), 0);
		CU_ASSERT_EQUAL(sm.sig.type, FILSIG_SECP256K1);
		CU_ASSERT_EQUAL(sm.sig.len, 65);
		CU_ASSERT_EQUAL_FATAL(filmsg_decode(&m, msg, mn), 0);
		CU_ASSERT(filmsg_equal(&m, &sm.msg));
		CU_ASSERT_EQUAL_FATAL(filmsg_signed_encode(&b, &sm), 0);
		CU_ASSERT(b.len == n && !memcmp(b.ptr, want, n));
		CU_ASSERT_EQUAL_FATAL(filmsg_signed_cid(&id, &sm), 0);
		CU_ASSERT_STRING_EQUAL(cid_tostr(s, &id), cases[i].cid);
		filmsg_release(&m);
		filmsg_signed_release(&sm);
		buf_release(&b);
	}
}

/* Lotus: a BLS-signed message is known by its unsigned message's CID. */
static void test_filmsg__bls_cid(void)
{
	struct filmsg_signed sm;
	struct cid id, want;
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct filmsg_signed back;

	build(&sm.msg, 3);
	sm.sig.type = FILSIG_BLS;
	sm.sig.len = 96;
	memset(sm.sig.data, 0xab, 96);
	CU_ASSERT_EQUAL_FATAL(filmsg_signed_cid(&id, &sm), 0);
	CU_ASSERT_EQUAL_FATAL(filmsg_cid(&want, &sm.msg), 0);
	CU_ASSERT(cid_equal(&id, &want));
	/* any other type hashes the signed encoding */
	sm.sig.type = FILSIG_DELEGATED;
	CU_ASSERT_EQUAL_FATAL(filmsg_signed_cid(&id, &sm), 0);
	CU_ASSERT(!cid_equal(&id, &want));
	CU_ASSERT_EQUAL_FATAL(filmsg_signed_encode(&b, &sm), 0);
	CU_ASSERT_EQUAL_FATAL(filmsg_signed_decode(&back, b.ptr, b.len), 0);
	CU_ASSERT_EQUAL(back.sig.type, FILSIG_DELEGATED);
	CU_ASSERT_EQUAL(back.sig.len, 96);
	CU_ASSERT(!memcmp(back.sig.data, sm.sig.data, 96));
	CU_ASSERT(filmsg_signed_equal(&sm, &back));
	filmsg_signed_release(&back);
	filmsg_signed_release(&sm);
	buf_release(&b);
}

/* Hand-made messages that each break one rule. */
static void test_filmsg__corrupt(void)
{
	/* 8a 00 42 0005 42 0064 00 40 00 40 40 00 40: the smallest message */
#define HEAD "8a00"
#define TO "420005"
#define FROM "420064"
	static const char *const bad[] = {
		"", "80", "8900" TO FROM "0040004040" "00",
		"8b00" TO FROM "0040004040" "0040" "00",
		"8a01" TO FROM "0040004040" "0040",            /* version 1 */
		"8a20" TO FROM "0040004040" "0040",            /* negint */
		"8a1800" TO FROM "0040004040" "0040",          /* non-minimal */
		HEAD "40" FROM "0040004040" "0040",            /* empty To */
		HEAD "4105" FROM "0040004040" "0040",          /* To too short */
		HEAD "420505" FROM "0040004040" "0040",        /* protocol 5 */
		HEAD "6200" "05" FROM "0040004040" "0040",     /* text To */
		HEAD TO "43008000" "0040004040" "0040",        /* From varint */
		HEAD TO FROM "20" "40004040" "0040",           /* Nonce < 0 */
		HEAD TO FROM "00" "4102" "004040" "0040",      /* sign byte 2 */
		HEAD TO FROM "00" "00" "004040" "0040",        /* Value uint */
		HEAD TO FROM "0040" "1b8000000000000000" "4040" "0040",
		HEAD TO FROM "0040" "3b8000000000000000" "4040" "0040",
		HEAD TO FROM "0040" "40" "4040" "0040",        /* GasLimit */
		HEAD TO FROM "0040004040" "20" "40",           /* Method < 0 */
		HEAD TO FROM "0040004040" "00" "60",           /* text Params */
		HEAD TO FROM "0040004040" "00" "f6",           /* null Params */
		HEAD TO FROM "0040004040" "0040" "00",         /* trailing */
		HEAD TO FROM "0040004040" "00" "41",           /* truncated */
		HEAD TO FROM "0040004040" "00" "5f40ff",       /* indefinite */
	};

	for (size_t i = 0; i < N_ELEMS(bad); i++) {
		uint8_t b[128];
		long n = harness_unhex(b, sizeof(b), bad[i]);
		struct filmsg m;

		CU_ASSERT_FATAL(n >= 0);
		CU_ASSERT_EQUAL(filmsg_decode(&m, b, (size_t)n), EFS_ECORRUPT);
		CU_ASSERT(efs_error_msg()[0] != '\0');
	}
	{
		uint8_t b[64];
		long n = harness_unhex(b, sizeof(b),
				       HEAD TO FROM "0040004040" "0040");
		struct filmsg m;

		CU_ASSERT_EQUAL_FATAL(filmsg_decode(&m, b, (size_t)n), 0);
		CU_ASSERT_EQUAL(m.to.id, 5);
		CU_ASSERT_EQUAL(m.from.id, 100);
		CU_ASSERT_PTR_NULL(m.params);
		filmsg_release(&m);
	}
}

static void test_filmsg__bad_signed(void)
{
	static const char *const bad[] = {
		"81" HEAD TO FROM "0040004040" "0040",
		"83" HEAD TO FROM "0040004040" "0040" "420100" "40",
		"82" HEAD TO FROM "0040004040" "0040" "40",     /* empty */
		"82" HEAD TO FROM "0040004040" "0040" "420000", /* type 0 */
		"82" HEAD TO FROM "0040004040" "0040" "420400", /* type 4 */
		"82" HEAD TO FROM "0040004040" "0040" "6101",   /* text */
		"82" HEAD TO FROM "0040004040" "0040" "420100" "00",
		"82" "8a01" TO FROM "0040004040" "0040" "420100",
	};
	uint8_t big[300];
	size_t n;
	struct filmsg_signed sm;

	for (size_t i = 0; i < N_ELEMS(bad); i++) {
		uint8_t b[128];
		long len = harness_unhex(b, sizeof(b), bad[i]);

		CU_ASSERT_FATAL(len >= 0);
		CU_ASSERT_EQUAL(filmsg_signed_decode(&sm, b, (size_t)len),
				EFS_ECORRUPT);
	}
	/* 200 signature bytes are fine, 201 are not */
	n = (size_t)harness_unhex(big, sizeof(big),
				  "82" HEAD TO FROM "0040004040" "0040");
	for (size_t len = 200; len <= 201; len++) {
		size_t k = n;

		big[k++] = 0x58;
		big[k++] = (uint8_t)len;
		memset(big + k, 0x01, len);
		CU_ASSERT_EQUAL(filmsg_signed_decode(&sm, big, k + len),
				len == 200 ? 0 : EFS_ECORRUPT);
		if (len == 200) {
			CU_ASSERT_EQUAL(sm.sig.len, 199);
			filmsg_signed_release(&sm);
		}
	}
#undef HEAD
#undef TO
#undef FROM
}

static void test_filmsg__params_cap(void)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct filmsg m, back;
	uint8_t *big = efs_calloc(1, FILMSG_PARAMS_MAX + 1);

	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	build(&m, 0);
	CU_ASSERT_EQUAL(filmsg_set_params(&m, big, FILMSG_PARAMS_MAX + 1),
			EFS_ETOOBIG);
	CU_ASSERT_EQUAL(m.params_len, 0);
	CU_ASSERT_EQUAL_FATAL(filmsg_set_params(&m, big, FILMSG_PARAMS_MAX),
			      0);
	CU_ASSERT_EQUAL_FATAL(filmsg_encode(&b, &m), 0);
	CU_ASSERT_EQUAL_FATAL(filmsg_decode(&back, b.ptr, b.len), 0);
	CU_ASSERT(filmsg_equal(&m, &back));
	filmsg_release(&back);
	/* one byte more, written by hand: 5a 00200001 */
	b.len -= FILMSG_PARAMS_MAX + 5;
	CU_ASSERT_EQUAL_FATAL(buf_add(&b, "\x5a\x00\x20\x00\x01", 5), 0);
	CU_ASSERT_EQUAL_FATAL(buf_add(&b, big, FILMSG_PARAMS_MAX + 1), 0);
	CU_ASSERT_EQUAL(filmsg_decode(&back, b.ptr, b.len), EFS_ECORRUPT);
	/* a capped output buffer */
	{
		struct buf small = BUF_INIT(16);

		CU_ASSERT_EQUAL(filmsg_encode(&small, &m), EFS_ETOOBIG);
		buf_release(&small);
	}
	filmsg_release(&m);
	buf_release(&b);
	efs_free(big);
}

/* Every prefix fails; every flipped byte fails or decodes cleanly. */
static void test_filmsg__truncated_and_flipped(void)
{
	for (size_t i = 0; i < N_ELEMS(golden); i++) {
		uint8_t v[MSG_VECTOR_MAX];
		size_t n = msg_vector(v, "msg", golden[i].name);
		struct filmsg m;

		for (size_t k = 0; k < n; k++)
			CU_ASSERT_EQUAL(filmsg_decode(&m, v, k), EFS_ECORRUPT);
		for (size_t k = 0; k < n; k++)
			for (int bit = 0; bit < 8; bit++) {
				v[k] ^= (uint8_t)(1 << bit);
				if (filmsg_decode(&m, v, n) == 0)
					filmsg_release(&m);
				v[k] ^= (uint8_t)(1 << bit);
			}
	}
	{
		uint8_t v[MSG_VECTOR_MAX];
		size_t n = msg_vector(v, "signed", "send");
		struct filmsg_signed sm;

		for (size_t k = 0; k < n; k++)
			CU_ASSERT_EQUAL(filmsg_signed_decode(&sm, v, k),
					EFS_ECORRUPT);
	}
}

/* The seeded random messages of gen-filecoin-vectors.mjs (iso-filecoin). */
static void test_filmsg__random_js(void)
{
	const struct buf *vectors = msg_vectors_text();
	size_t count = 0;

	for (int i = 0;; i++) {
		uint8_t v[MSG_VECTOR_MAX];
		uint8_t want[CID_BYTES_MAX], got[CID_BYTES_MAX];
		char name[32];
		struct buf b = BUF_INIT(BUF_NOCAP);
		struct filmsg m;
		struct cid id;
		long n, cn;

		snprintf(name, sizeof(name), "rmsg-%d", i);
		if ((n = harness_vector_hex(v, sizeof(v), vectors, name)) < 0)
			break;
		snprintf(name, sizeof(name), "rcid-%d", i);
		cn = harness_vector_hex(want, sizeof(want), vectors, name);
		CU_ASSERT_FATAL(cn > 0);
		CU_ASSERT_EQUAL_FATAL(filmsg_decode(&m, v, (size_t)n), 0);
		CU_ASSERT_EQUAL_FATAL(filmsg_encode(&b, &m), 0);
		CU_ASSERT(b.len == (size_t)n && !memcmp(b.ptr, v, b.len));
		CU_ASSERT_EQUAL_FATAL(filmsg_cid(&id, &m), 0);
		CU_ASSERT_EQUAL(cid_to_bytes(got, &id), (size_t)cn);
		CU_ASSERT(!memcmp(got, want, (size_t)cn));
		filmsg_release(&m);
		buf_release(&b);
		count++;
	}
	CU_ASSERT(count >= 40);
}

static int alloc_run(void *payload)
{
	const struct buf *signed_bytes = payload;
	struct filmsg_signed sm;
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct filmsg copy;
	struct cid id;
	int rc;

	rc = filmsg_signed_decode(&sm, signed_bytes->ptr, signed_bytes->len);
	if (rc < 0)
		return rc;
	if ((rc = filmsg_signed_cid(&id, &sm)) < 0 ||
	    (rc = filmsg_cid(&id, &sm.msg)) < 0 ||
	    (rc = filmsg_signed_encode(&b, &sm)) < 0)
		goto out;
	if ((rc = filmsg_copy(&copy, &sm.msg)) < 0)
		goto out;
	filmsg_release(&copy);
out:
	filmsg_signed_release(&sm);
	buf_release(&b);
	return rc;
}

static void test_filmsg__alloc(void)
{
	uint8_t v[MSG_VECTOR_MAX];
	struct buf bytes = BUF_INIT(BUF_NOCAP);
	size_t n = msg_vector(v, "signed", "addbalance");

	CU_ASSERT_EQUAL_FATAL(buf_add(&bytes, v, n), 0);
	CU_ASSERT(harness_alloc_loop(alloc_run, &bytes) > 2);
	buf_release(&bytes);
}

static CU_TestInfo filmsg_tests[] = {
	{ "equal", test_filmsg__equal },
	{ "signed_equal", test_filmsg__signed_equal },
	{ "golden", test_filmsg__golden },
	{ "signed", test_filmsg__signed },
	{ "bls_cid", test_filmsg__bls_cid },
	{ "corrupt", test_filmsg__corrupt },
	{ "bad_signed", test_filmsg__bad_signed },
	{ "params_cap", test_filmsg__params_cap },
	{ "truncated_and_flipped", test_filmsg__truncated_and_flipped },
	{ "random_js", test_filmsg__random_js },
	{ "alloc", test_filmsg__alloc },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "filmsg", .pCleanupFunc = msg_vectors_release,
	       .pTests = filmsg_tests })
