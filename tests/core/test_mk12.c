/*
 * test_mk12.c - the mk12 deal messages: every message built in C must
 * encode to the bytes @ipld/dag-cbor gives for the same value laid out
 * as the Go structs (tests/data/mk12/golden.txt, made by gen-golden.mjs
 * there), and decode back to the same fields; the proposal CIDs; the
 * signatures in the vectors (made with @noble/curves) checked with
 * filsig and remade with filkey; every truncation; a table of corrupt
 * and lax inputs; UUIDs; an allocation-failure loop.
 */
#include "core/mk12.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/cbor.h"
#include "core/error.h"
#include "core/filkey.h"
#include "tests/core/mk12_test.h"
#include "tests/harness.h"

#define PIECE "baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq"
#define PIECE_256 \
	"baga6ea4seaqgiktap34inmaex4wbs6cghlq5i2j2yd2bb2zndn5ep7ralzphkdy"
#define ROOT "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"
#define PUBLISH "bafy2bzacea3wsdh6y3a36tb3skempjoxqpuyompjbmfeyf34fi3uy6uue42v4"
#define UUID "6ba7b810-9dad-41d1-80b4-00c04fd430c8"
#define PARAMS_JSON                                                  \
	"{\"URL\":\"http://127.0.0.1:8080/deal/x.car\",\"Headers\":" \
	"{\"Authorization\":\"Bearer abc\"}}"
#define REJECTED                                                    \
	"failed validation: deal start epoch 10 has already elapsed " \
	"(current epoch: 20)"
#define TWO_TO_200                                              \
	"1606938044258990275541962092341162602522202993782792835301376"

static struct buf golden_file;

static int setup(void)
{
	char *path = harness_data_path("mk12/golden.txt");
	int rc;

	buf_init(&golden_file, 1 << 20);
	rc = harness_read_file(&golden_file, path);
	if (rc < 0)
		fprintf(stderr, "cannot read %s: %s\n", path, efs_error_msg());
	free(path);
	return rc < 0;
}

static int teardown(void)
{
	buf_release(&golden_file);
	return 0;
}

/* The vector called name into out (cap 4096); its length. */
static size_t vec(uint8_t *out, const char *name)
{
	long n = harness_vector_hex(out, 4096, &golden_file, name);

	if (n < 0)
		fprintf(stderr, "no vector %s\n", name);
	CU_ASSERT_FATAL(n >= 0);
	return (size_t)n;
}

static struct cid parse_cid(const char *s)
{
	struct cid id;

	CU_ASSERT_FATAL(cid_parse(&id, s) == 0);
	return id;
}

static struct filsig vec_sig(const char *name)
{
	uint8_t raw[4096];
	size_t n = vec(raw, name);
	struct filsig s;

	CU_ASSERT_FATAL(filsig_from_bytes(&s, raw, n) == 0);
	return s;
}

static struct bigint big(const char *dec)
{
	struct bigint b;

	CU_ASSERT_FATAL(bigint_parse(&b, dec, strlen(dec)) == 0);
	return b;
}

/* ---- the values of gen-golden.mjs, built by hand ---- */

static void make_proposal(struct mk12_proposal *p)
{
	uint8_t raw[4096];
	size_t n = vec(raw, "client_addr");

	memset(p, 0, sizeof(*p));
	p->piece_cid = parse_cid(PIECE);
	p->piece_size = 34359738368ull;
	CU_ASSERT_FATAL(filaddr_from_bytes(&p->client, raw, n) == 0);
	filaddr_init_id(&p->provider, 1000);
	p->label.data.ptr = (uint8_t *)ROOT;
	p->label.data.len = strlen(ROOT);
	p->start_epoch = 4210000;
	p->end_epoch = 4728400;
	bigint_from_u64(&p->price_per_epoch, 3200000000u);
	bigint_from_u64(&p->provider_collateral, 1000000000000000ull);
}

static void make_proposal_edge(struct mk12_proposal *p)
{
	static uint8_t deadbeef[] = { 0xde, 0xad, 0xbe, 0xef };

	memset(p, 0, sizeof(*p));
	p->piece_cid = parse_cid(PIECE_256);
	p->piece_size = 256;
	p->verified = true;
	filaddr_init_id(&p->client, 1000);
	filaddr_init_id(&p->provider, 1024);
	p->label.is_bytes = true;
	p->label.data.ptr = deadbeef;
	p->label.data.len = sizeof(deadbeef);
	p->start_epoch = -1;
	p->end_epoch = INT64_MIN;
	p->price_per_epoch = big(TWO_TO_200);
	p->provider_collateral = big("-5");
	bigint_from_u64(&p->client_collateral, 255);
}

static void make_client_proposal(struct mk12_client_proposal *cp)
{
	make_proposal(&cp->proposal);
	cp->signature = vec_sig("proposal_sig");
}

static void make_uuid(uint8_t *u)
{
	CU_ASSERT_FATAL(mk12_uuid_parse(u, UUID, strlen(UUID)) == 0);
}

static void make_deal_params(struct mk12_deal_params *dp, bool v120)
{
	memset(dp, 0, sizeof(*dp));
	make_uuid(dp->uuid);
	make_client_proposal(&dp->proposal);
	dp->data_root = parse_cid(ROOT);
	if (v120) {
		dp->is_offline = true;
		dp->v120 = true;
		return;
	}
	dp->transfer.type = "http";
	dp->transfer.params.ptr = (uint8_t *)PARAMS_JSON;
	dp->transfer.params.len = strlen(PARAMS_JSON);
	dp->transfer.size = 1040000;
	dp->skip_ipni_announce = true;
}

static void make_deal_status(struct mk12_deal_status *s, bool sealed)
{
	uint8_t raw[4096];
	size_t n = vec(raw, "signed_proposal_cid");

	memset(s, 0, sizeof(*s));
	s->status = sealed ? MK12_CURIO_SEALED : MK12_CURIO_PROCESSING;
	s->sealing_status = sealed ? MK12_CURIO_SEALED_INDEXED
				   : MK12_CURIO_NOT_ASSIGNED;
	make_proposal(&s->proposal);
	CU_ASSERT_FATAL(cid_from_bytes_exact(&s->signed_proposal_cid, raw,
					     n) == 0);
	if (sealed) {
		s->has_publish_cid = true;
		s->publish_cid = parse_cid(PUBLISH);
		s->chain_deal_id = 74251133;
	}
}

static void make_ask(struct mk12_ask *a)
{
	memset(a, 0, sizeof(*a));
	bigint_from_u64(&a->price, 50000000);
	bigint_from_u64(&a->verified_price, 5000000);
	a->min_piece_size = 256;
	a->max_piece_size = 34359738368ull;
	filaddr_init_id(&a->miner, 1000);
	a->timestamp = 4200000;
	a->expiry = 14712000;
	a->seq_no = 3;
}

static void make_signed_ask(struct mk12_signed_ask *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->has_ask = true;
	make_ask(&sa->ask);
	sa->has_signature = true;
	sa->signature = vec_sig("ask_sig");
}

/* Build the value of golden vector name into m; its type. */
static const struct msg_type *build(union any_msg *m, const char *name)
{
	memset(m, 0, sizeof(*m));
	if (!strcmp(name, "proposal"))
		return make_proposal(&m->proposal), &T_PROPOSAL;
	if (!strcmp(name, "proposal_edge"))
		return make_proposal_edge(&m->proposal), &T_PROPOSAL;
	if (!strcmp(name, "client_proposal"))
		return make_client_proposal(&m->client_proposal),
		       &T_CLIENT_PROPOSAL;
	if (!strcmp(name, "deal_params"))
		return make_deal_params(&m->deal_params, false),
		       &T_DEAL_PARAMS;
	if (!strcmp(name, "deal_params_v120"))
		return make_deal_params(&m->deal_params, true),
		       &T_DEAL_PARAMS;
	if (!strcmp(name, "deal_response_ok"))
		return m->deal_response.accepted = true, &T_DEAL_RESPONSE;
	if (!strcmp(name, "deal_response_rejected"))
		return m->deal_response.message = REJECTED, &T_DEAL_RESPONSE;
	if (!strcmp(name, "status_request")) {
		make_uuid(m->status_request.uuid);
		m->status_request.signature = vec_sig("uuid_sig");
		return &T_STATUS_REQUEST;
	}
	if (!strcmp(name, "status_response_error")) {
		make_uuid(m->status_response.uuid);
		m->status_response.error = MK12_CURIO_STATUS_FAILED;
		return &T_STATUS_RESPONSE;
	}
	if (!strncmp(name, "status_response", 15)) {
		make_uuid(m->status_response.uuid);
		m->status_response.has_status = true;
		make_deal_status(&m->status_response.status,
				 !strcmp(name, "status_response"));
		m->status_response.is_offline =
			strcmp(name, "status_response") != 0;
		m->status_response.transfer_size = 1;
		m->status_response.nbytes_received = 1;
		return &T_STATUS_RESPONSE;
	}
	if (!strcmp(name, "ask"))
		return make_ask(&m->ask), &T_ASK;
	if (!strcmp(name, "signed_ask"))
		return make_signed_ask(&m->signed_ask), &T_SIGNED_ASK;
	if (!strcmp(name, "signed_ask_null"))
		return &T_SIGNED_ASK;
	if (!strcmp(name, "ask_request"))
		return filaddr_init_id(&m->ask_request.miner, 1000),
		       &T_ASK_REQUEST;
	if (!strcmp(name, "ask_response")) {
		m->ask_response.has_ask = true;
		make_signed_ask(&m->ask_response.ask);
		return &T_ASK_RESPONSE;
	}
	if (!strcmp(name, "ask_response_null"))
		return &T_ASK_RESPONSE;
	CU_FAIL_FATAL("unknown vector");
	return NULL;
}

static const char *const vectors[] = {
	"proposal", "proposal_edge", "client_proposal", "deal_params",
	"deal_params_v120", "deal_response_ok", "deal_response_rejected",
	"status_request", "status_response_error", "status_response",
	"status_response_processing", "ask", "signed_ask",
	"signed_ask_null", "ask_request", "ask_response",
	"ask_response_null",
};
#define NVECTORS (sizeof(vectors) / sizeof(vectors[0]))

/* The C value encodes to the golden bytes; they decode and re-encode. */
static void test_mk12__golden(void)
{
	for (size_t i = 0; i < NVECTORS; i++) {
		uint8_t want[4096];
		size_t n = vec(want, vectors[i]);
		union any_msg m, back;
		const struct msg_type *t = build(&m, vectors[i]);
		struct buf b = BUF_INIT(BUF_NOCAP);
		int rc = t->encode(&b, &m);

		if (rc != 0 || b.len != n || memcmp(b.ptr, want, n))
			fprintf(stderr, "golden %s: rc %d (%s)\n", vectors[i],
				rc, efs_error_msg());
		CU_ASSERT_EQUAL(rc, 0);
		CU_ASSERT_EQUAL(b.len, n);
		CU_ASSERT(b.len == n && !memcmp(b.ptr, want, n));
		buf_reset(&b);
		rc = t->decode(&back, want, n);
		if (rc != 0)
			fprintf(stderr, "decode %s: %s\n", vectors[i],
				efs_error_msg());
		CU_ASSERT_EQUAL_FATAL(rc, 0);
		CU_ASSERT_EQUAL(t->encode(&b, &back), 0);
		CU_ASSERT(b.len == n && !memcmp(b.ptr, want, n));
		msg_release(t, &back);
		buf_release(&b);
	}
}

/* Decoded fields, spelled out for the two big messages. */
static void test_mk12__fields(void)
{
	uint8_t raw[4096];
	size_t n = vec(raw, "deal_params");
	struct mk12_deal_params dp;
	struct mk12_status_response sr;
	const struct mk12_proposal *p = &dp.proposal.proposal;
	struct cid root = parse_cid(ROOT);
	char s[CID_STR_MAX];
	int64_t v;

	CU_ASSERT_EQUAL_FATAL(mk12_deal_params_decode(&dp, raw, n), 0);
	mk12_uuid_format(s, dp.uuid);
	CU_ASSERT_STRING_EQUAL(s, UUID);
	CU_ASSERT(!dp.is_offline && !dp.v120 && dp.skip_ipni_announce &&
		  !dp.remove_unsealed_copy);
	CU_ASSERT(cid_equal(&dp.data_root, &root));
	CU_ASSERT_STRING_EQUAL(dp.transfer.type, "http");
	CU_ASSERT_STRING_EQUAL(dp.transfer.client_id, "");
	CU_ASSERT_EQUAL(dp.transfer.size, 1040000);
	CU_ASSERT(dp.transfer.params.len == strlen(PARAMS_JSON) &&
		  !memcmp(dp.transfer.params.ptr, PARAMS_JSON,
			  strlen(PARAMS_JSON)));
	CU_ASSERT_STRING_EQUAL(cid_tostr(s, &p->piece_cid), PIECE);
	CU_ASSERT_EQUAL(p->piece_size, 34359738368ull);
	CU_ASSERT(!p->label.is_bytes && p->label.data.len == strlen(ROOT) &&
		  !memcmp(p->label.data.ptr, ROOT, strlen(ROOT)));
	CU_ASSERT(p->provider.protocol == FILADDR_ID &&
		  p->provider.id == 1000);
	CU_ASSERT_EQUAL(p->client.protocol, FILADDR_SECP256K1);
	CU_ASSERT(p->start_epoch == 4210000 && p->end_epoch == 4728400);
	CU_ASSERT(bigint_to_i64(&v, &p->price_per_epoch) == 0 &&
		  v == 3200000000);
	CU_ASSERT(bigint_is_zero(&p->client_collateral));
	CU_ASSERT_EQUAL(dp.proposal.signature.type, FILSIG_SECP256K1);
	mk12_deal_params_release(&dp);
	CU_ASSERT_PTR_NULL(dp.transfer.type);

	n = vec(raw, "status_response");
	CU_ASSERT_EQUAL_FATAL(mk12_status_response_decode(&sr, raw, n), 0);
	CU_ASSERT(sr.has_status && sr.status.has_publish_cid);
	CU_ASSERT_STRING_EQUAL(sr.status.status, "Sealed");
	CU_ASSERT_STRING_EQUAL(sr.status.sealing_status, "Sealed and Indexed");
	CU_ASSERT_EQUAL(sr.status.chain_deal_id, 74251133);
	CU_ASSERT_STRING_EQUAL(cid_tostr(s, &sr.status.publish_cid), PUBLISH);
	mk12_status_response_release(&sr);

	n = vec(raw, "status_response_error");
	CU_ASSERT_EQUAL_FATAL(mk12_status_response_decode(&sr, raw, n), 0);
	CU_ASSERT(!sr.has_status);
	CU_ASSERT_STRING_EQUAL(sr.error, MK12_CURIO_STATUS_FAILED);
	mk12_status_response_release(&sr);

	n = vec(raw, "proposal_edge");
	CU_ASSERT_EQUAL_FATAL(mk12_proposal_decode(&dp.proposal.proposal, raw,
						   n), 0);
	CU_ASSERT(p->label.is_bytes && p->label.data.len == 4);
	CU_ASSERT(p->start_epoch == -1 && p->end_epoch == INT64_MIN);
	CU_ASSERT(p->verified && p->provider_collateral.neg);
	mk12_proposal_release(&dp.proposal.proposal);
}

/* 1.2.0 in, 1.2.0 out; one 1.2.1 key makes it 1.2.1. */
static void test_mk12__v120(void)
{
	uint8_t raw[4096];
	size_t n = vec(raw, "deal_params_v120");
	struct mk12_deal_params dp;
	struct buf b = BUF_INIT(BUF_NOCAP);

	CU_ASSERT_EQUAL_FATAL(mk12_deal_params_decode(&dp, raw, n), 0);
	CU_ASSERT(dp.v120 && dp.is_offline);
	CU_ASSERT_PTR_NULL(dp.transfer.params.ptr);
	dp.v120 = false;
	CU_ASSERT_EQUAL(mk12_deal_params_encode(&b, &dp), 0);
	CU_ASSERT_EQUAL(b.ptr[0], 0xa7);
	mk12_deal_params_release(&dp);
	CU_ASSERT_EQUAL_FATAL(mk12_deal_params_decode(&dp, b.ptr, b.len), 0);
	CU_ASSERT(!dp.v120);
	mk12_deal_params_release(&dp);
	buf_release(&b);
}

static void test_mk12__cids(void)
{
	uint8_t raw[4096];
	size_t n;
	struct mk12_client_proposal cp;
	struct cid got, want;
	char s[CID_STR_MAX];

	make_client_proposal(&cp);
	n = vec(raw, "proposal_cid");
	CU_ASSERT_FATAL(cid_from_bytes_exact(&want, raw, n) == 0);
	CU_ASSERT_EQUAL(mk12_proposal_cid(&got, &cp.proposal), 0);
	CU_ASSERT(cid_equal(&got, &want));
	CU_ASSERT_STRING_EQUAL(cid_tostr(s, &got), "bafy2bzaceaoag4kjzs7mhq2if"
			       "bysxlnbo26rzvdr4f4a2mr3ibm42lzfcy5vg");
	n = vec(raw, "signed_proposal_cid");
	CU_ASSERT_FATAL(cid_from_bytes_exact(&want, raw, n) == 0);
	CU_ASSERT_EQUAL(mk12_signed_proposal_cid(&got, &cp), 0);
	CU_ASSERT(cid_equal(&got, &want));
	CU_ASSERT_STRING_EQUAL(cid_tostr(s, &got),
		"bafyreig43dqn3aawemkmajnom46urhzpckuevk4nrhdifksc5gzhojtcqm");
}

/*
 * The vectors' signatures are what Lotus would check: filsig verifies
 * them against the client over the bytes mk12 encodes, and filkey,
 * from the same private key, makes the very same bytes.
 */
static void test_mk12__signatures(void)
{
	uint8_t priv[32];
	struct filkey k;
	struct filsig sig, want;
	struct mk12_proposal p;
	struct mk12_ask a;
	uint8_t uuid[MK12_UUID_LEN];
	struct buf b = BUF_INIT(BUF_NOCAP);

	for (size_t i = 0; i < 32; i++)
		priv[i] = (uint8_t)(i + 1);
	CU_ASSERT_FATAL(filkey_import(&k, priv, sizeof(priv)) == 0);
	make_proposal(&p);
	CU_ASSERT(filaddr_equal(&k.addr, &p.client));
	CU_ASSERT_EQUAL(mk12_proposal_encode(&b, &p), 0);
	want = vec_sig("proposal_sig");
	CU_ASSERT_EQUAL(filsig_verify(&want, &p.client, b.ptr, b.len), 0);
	CU_ASSERT_EQUAL(filkey_sign(&sig, &k, b.ptr, b.len), 0);
	CU_ASSERT(sig.len == want.len && !memcmp(sig.data, want.data, sig.len));
	b.ptr[b.len - 1] ^= 1;
	CU_ASSERT_EQUAL(filsig_verify(&want, &p.client, b.ptr, b.len),
			EFS_EMISMATCH);

	make_uuid(uuid);
	want = vec_sig("uuid_sig");
	CU_ASSERT_EQUAL(filsig_verify(&want, &p.client, uuid, sizeof(uuid)),
			0);
	filkey_release(&k);

	for (size_t i = 0; i < 32; i++)
		priv[i] = (uint8_t)(i + 33);
	CU_ASSERT_FATAL(filkey_import(&k, priv, sizeof(priv)) == 0);
	buf_reset(&b);
	make_ask(&a);
	CU_ASSERT_EQUAL(mk12_ask_encode(&b, &a), 0);
	want = vec_sig("ask_sig");
	CU_ASSERT_EQUAL(filsig_verify(&want, &k.addr, b.ptr, b.len), 0);
	filkey_release(&k);
	buf_release(&b);
}

/* Every proper prefix of every vector is refused. */
static void test_mk12__truncated(void)
{
	for (size_t i = 0; i < NVECTORS; i++) {
		uint8_t raw[4096];
		size_t n = vec(raw, vectors[i]);
		union any_msg m;
		const struct msg_type *t = build(&m, vectors[i]);

		for (size_t k = 0; k < n; k++) {
			union any_msg out;
			uint8_t *copy = malloc(k ? k : 1);

			memcpy(copy, raw, k);
			CU_ASSERT_EQUAL(t->decode(&out, copy, k), EFS_ECORRUPT);
			free(copy);
		}
	}
}

/* ---- inputs cbor-gen would refuse, or we refuse on purpose ---- */

struct bad_case {
	const char *what;
	const struct msg_type *type;
	const char *hex;
	int want;      /* 0 when the decoder must accept it */
};

#define UUID_HEX "506ba7b8109dad41d180b400c04fd430c8"
#define SIG_HEX "4201ff"     /* too short for secp256k1 */

static const struct bad_case bad[] = {
	{ "empty", &T_DEAL_RESPONSE, "", EFS_ECORRUPT },
	{ "not a map", &T_DEAL_RESPONSE, "80", EFS_ECORRUPT },
	{ "null", &T_DEAL_RESPONSE, "f6", EFS_ECORRUPT },
	{ "trailing byte", &T_DEAL_RESPONSE,
	  "a2674d65737361676560684163636570746564f500", EFS_ECORRUPT },
	{ "empty map: all zero", &T_DEAL_RESPONSE, "a0", 0 },
	{ "unknown key skipped", &T_DEAL_RESPONSE,
	  "a2614da163666f6f83010203684163636570746564f5", 0 },
	{ "bool as int", &T_DEAL_RESPONSE, "a1684163636570746564 01",
	  EFS_ECORRUPT },
	{ "message as bytes", &T_DEAL_RESPONSE, "a1674d65737361676541 61",
	  EFS_ECORRUPT },
	{ "nul in text", &T_DEAL_RESPONSE, "a1674d6573736167656261 00",
	  EFS_ECORRUPT },
	{ "keys out of order", &T_DEAL_RESPONSE,
	  "a2684163636570746564f5674d65737361676560", EFS_ECORRUPT },
	{ "key repeated", &T_DEAL_RESPONSE,
	  "a2684163636570746564f5684163636570746564f4", EFS_ECORRUPT },
	{ "non-minimal head", &T_DEAL_RESPONSE,
	  "b802684163636570746564f5674d65737361676560", EFS_ECORRUPT },
	{ "indefinite map", &T_DEAL_RESPONSE, "bf684163636570746564f5ff",
	  EFS_ECORRUPT },
	{ "uuid of 15", &T_STATUS_REQUEST,
	  "a2684465616c55554944 4f0102030405060708090a0b0c0d0e0f"
	  "695369676e6174757265" SIG_HEX, EFS_ECORRUPT },
	{ "signature missing", &T_STATUS_REQUEST,
	  "a1684465616c55554944" UUID_HEX, EFS_ECORRUPT },
	{ "signature malformed", &T_STATUS_REQUEST,
	  "a2684465616c55554944" UUID_HEX "695369676e6174757265" SIG_HEX,
	  EFS_ECORRUPT },
	{ "signature type 0", &T_STATUS_REQUEST,
	  "a2684465616c55554944" UUID_HEX "695369676e6174757265 4100",
	  EFS_ECORRUPT },
	{ "address missing", &T_ASK_REQUEST, "a0", EFS_ECORRUPT },
	{ "address empty", &T_ASK_REQUEST, "a1654d696e657240",
	  EFS_ECORRUPT },
	{ "address protocol 9", &T_ASK_REQUEST, "a1654d696e6572420901",
	  EFS_ECORRUPT },
	{ "address too long", &T_ASK_REQUEST,
	  "a1654d696e65725841 040a"
	  "00000000000000000000000000000000000000000000000000000000000000"
	  "0000000000000000000000000000000000000000000000000000000000000000",
	  EFS_ECORRUPT },
	{ "ask null", &T_ASK_RESPONSE, "a16341736bf6", 0 },
	{ "ask response empty", &T_ASK_RESPONSE, "a0", 0 },
	{ "ask not a map", &T_ASK_RESPONSE, "a16341736b80", EFS_ECORRUPT },
	{ "ask price sign byte 2", &T_ASK,
	  "a2654d696e65724300e8076550726963654202ff", EFS_ECORRUPT },
	{ "ask price 129 bytes", &T_ASK,
	  "a2654d696e65724300e807655072696365588100"
	  "0000000000000000000000000000000000000000000000000000000000000000"
	  "0000000000000000000000000000000000000000000000000000000000000000"
	  "0000000000000000000000000000000000000000000000000000000000000000"
	  "0000000000000000000000000000000000000000000000000000000000000001",
	  EFS_ECORRUPT },
	{ "ask expiry past int64", &T_ASK,
	  "a2654d696e65724300e80766457870697279 1b8000000000000000",
	  EFS_ECORRUPT },
	{ "ask negative expiry", &T_ASK,
	  "a2654d696e65724300e80766457870697279 3b7fffffffffffffff", 0 },
	{ "seqno negative", &T_ASK,
	  "a2654d696e65724300e80765536571 4e6f 20", EFS_ECORRUPT },
	{ "proposal of 10", &T_PROPOSAL, "8a 00000000000000000000",
	  EFS_ECORRUPT },
	{ "proposal of 12", &T_PROPOSAL,
	  "8c000000000000000000000000", EFS_ECORRUPT },
	{ "cid tag on text", &T_DEAL_PARAMS,
	  "a16c4465616c44617461526f6f74d82a6161", EFS_ECORRUPT },
	{ "data root missing", &T_DEAL_PARAMS,
	  "a1684465616c55554944" UUID_HEX, EFS_ECORRUPT },
	{ "transfer size as text", &T_DEAL_PARAMS,
	  "a1685472616e73666572a16453697a656131", EFS_ECORRUPT },
	{ "deal status not a map", &T_STATUS_RESPONSE,
	  "a16a4465616c5374617475730a", EFS_ECORRUPT },
	{ "status response empty", &T_STATUS_RESPONSE, "a0", 0 },
	{ "string over 8192", &T_DEAL_RESPONSE, NULL, EFS_ECORRUPT },
	{ "string of 8192", &T_DEAL_RESPONSE, NULL, 0 },
};

/* A DealResponse whose Message has n bytes of 'a'. */
static void long_message(struct buf *b, size_t n)
{
	char *s = malloc(n + 1);

	memset(s, 'a', n);
	s[n] = '\0';
	CU_ASSERT_EQUAL(cbor_put_map(b, 1), 0);
	CU_ASSERT_EQUAL(cbor_put_str(b, "Message"), 0);
	CU_ASSERT_EQUAL(cbor_put_str(b, s), 0);
	free(s);
}

static void test_mk12__corrupt(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf b = BUF_INIT(BUF_NOCAP);
		union any_msg m;
		int rc;

		if (bad[i].hex) {
			uint8_t raw[4096];
			long n = harness_unhex(raw, sizeof(raw), bad[i].hex);

			CU_ASSERT_FATAL(n >= 0);
			buf_add(&b, raw, (size_t)n);
		} else {
			long_message(&b, bad[i].want ? MK12_STRING_MAX + 1
						     : MK12_STRING_MAX);
		}
		rc = bad[i].type->decode(&m, b.ptr ? b.ptr : (uint8_t *)"",
					 b.len);
		if (rc != bad[i].want)
			fprintf(stderr, "case \"%s\": %d (%s)\n", bad[i].what,
				rc, efs_error_msg());
		CU_ASSERT_EQUAL(rc, bad[i].want);
		if (rc == 0)
			msg_release(bad[i].type, &m);
		buf_release(&b);
	}
}

/* Labels: text must be UTF-8 both ways. */
static void test_mk12__label(void)
{
	struct mk12_proposal p;
	struct buf b = BUF_INIT(BUF_NOCAP);
	uint8_t raw[4096];
	size_t n = vec(raw, "proposal");
	size_t at;

	make_proposal(&p);
	p.label.data.ptr = (uint8_t *)"\xed\xa0\x80";  /* a surrogate */
	p.label.data.len = 3;
	CU_ASSERT_EQUAL(mk12_proposal_encode(&b, &p), EFS_EINVAL);
	CU_ASSERT_EQUAL(b.len, 0);
	p.label.is_bytes = true;
	CU_ASSERT_EQUAL(mk12_proposal_encode(&b, &p), 0);
	buf_release(&b);

	/* the root CID label starts with 'b': make it an invalid byte */
	at = (size_t)((uint8_t *)memmem(raw, n, ROOT, strlen(ROOT)) - raw);
	raw[at] = 0xff;
	CU_ASSERT_EQUAL(mk12_proposal_decode(&p, raw, n), EFS_ECORRUPT);

	memset(&p, 0, sizeof(p));
	CU_ASSERT_EQUAL(mk12_label_set(&p.label, false, "\xc0\xaf", 2),
			EFS_EINVAL);
	CU_ASSERT_EQUAL(mk12_label_set(&p.label, false, ROOT, strlen(ROOT)),
			0);
	CU_ASSERT_EQUAL(mk12_label_set(&p.label, true, "\xff", 1), 0);
	CU_ASSERT(p.label.is_bytes && p.label.data.len == 1);
	mk12_proposal_release(&p);
}

/* Encoders refuse what Go could not write. */
static void test_mk12__encode_limits(void)
{
	struct mk12_deal_response r = { false, NULL };
	struct buf b = BUF_INIT(BUF_NOCAP);
	struct buf small = BUF_INIT(8);
	char *s = malloc(MK12_STRING_MAX + 2);

	memset(s, 'x', MK12_STRING_MAX + 1);
	s[MK12_STRING_MAX + 1] = '\0';
	r.message = s;
	CU_ASSERT_EQUAL(mk12_deal_response_encode(&b, &r), EFS_EINVAL);
	CU_ASSERT_EQUAL(b.len, 0);
	s[MK12_STRING_MAX] = '\0';
	CU_ASSERT_EQUAL(mk12_deal_response_encode(&b, &r), 0);
	CU_ASSERT_EQUAL(mk12_deal_response_encode(&small, &r), EFS_ETOOBIG);
	CU_ASSERT_EQUAL(small.len, 0);
	free(s);
	buf_release(&b);
	buf_release(&small);
}

static void test_mk12__uuid(void)
{
	uint8_t a[MK12_UUID_LEN], b[MK12_UUID_LEN];
	char s[MK12_UUID_STR_MAX];

	CU_ASSERT_EQUAL(mk12_uuid_parse(a, UUID, strlen(UUID)), 0);
	CU_ASSERT_EQUAL(a[0], 0x6b);
	CU_ASSERT_EQUAL(a[15], 0xc8);
	mk12_uuid_format(s, a);
	CU_ASSERT_STRING_EQUAL(s, UUID);
	CU_ASSERT_EQUAL(mk12_uuid_parse(b, "6BA7B810-9DAD-41D1-80B4-"
					"00C04FD430C8", 36), 0);
	CU_ASSERT(!memcmp(a, b, sizeof(a)));
	CU_ASSERT_EQUAL(mk12_uuid_parse(b, UUID, 35), EFS_EINVAL);
	CU_ASSERT_EQUAL(mk12_uuid_parse(b, "6ba7b8109dad-41d1-80b4-"
					"00c04fd430c8a", 36), EFS_EINVAL);
	CU_ASSERT_EQUAL(mk12_uuid_parse(b, "6ba7b810-9dad-41d1-80b4-"
					"00c04fd430cg", 36), EFS_EINVAL);
	CU_ASSERT_EQUAL(mk12_uuid_generate(a), 0);
	CU_ASSERT_EQUAL(mk12_uuid_generate(b), 0);
	CU_ASSERT(memcmp(a, b, sizeof(a)) != 0);
	CU_ASSERT_EQUAL(a[6] >> 4, 4);
	CU_ASSERT_EQUAL(a[8] >> 6, 2);
}

/* Decode and re-encode the messages that own memory. */
static int alloc_run(void *payload)
{
	static const char *const names[] = {
		"deal_params", "status_response", "deal_response_rejected",
		"client_proposal",
	};
	int rc = 0;

	(void)payload;
	for (size_t i = 0; rc == 0 && i < 4; i++) {
		uint8_t raw[4096];
		size_t n = vec(raw, names[i]);
		union any_msg m, dummy;
		const struct msg_type *t = build(&dummy, names[i]);
		struct buf b = BUF_INIT(BUF_NOCAP);

		rc = t->decode(&m, raw, n);
		if (rc == 0) {
			rc = t->encode(&b, &m);
			msg_release(t, &m);
		}
		if (rc == 0 && (b.len != n || memcmp(b.ptr, raw, n)))
			rc = EFS_ERROR;
		buf_release(&b);
	}
	if (rc == 0) {
		struct mk12_proposal p;
		struct cid id;

		make_proposal(&p);
		rc = mk12_proposal_cid(&id, &p);
		memset(&p.label, 0, sizeof(p.label));  /* it held a literal */
		if (rc == 0)
			rc = mk12_label_set(&p.label, true, "ab", 2);
		if (rc == 0)
			efs_free(p.label.data.ptr);
	}
	return rc;
}

static void test_mk12__alloc(void)
{
	CU_ASSERT(harness_alloc_loop(alloc_run, NULL) > 10);
}

static CU_TestInfo tests[] = {
	{ "golden", test_mk12__golden },
	{ "fields", test_mk12__fields },
	{ "v120", test_mk12__v120 },
	{ "cids", test_mk12__cids },
	{ "signatures", test_mk12__signatures },
	{ "truncated", test_mk12__truncated },
	{ "corrupt", test_mk12__corrupt },
	{ "label", test_mk12__label },
	{ "encode_limits", test_mk12__encode_limits },
	{ "uuid", test_mk12__uuid },
	{ "alloc", test_mk12__alloc },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ "mk12", setup, teardown, NULL, NULL, tests })
