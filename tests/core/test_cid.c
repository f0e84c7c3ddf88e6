/*
 * test_cid.c - CIDs: golden strings and bytes from ipfs-formats.md §1, §3,
 * §5 and §10, each re-derived with the oracle (multiformats 14.0.5,
 * @multiformats/blake2 2.0.3, @ipld/dag-pb 4.2.0, @ipld/dag-cbor 10.0.2)
 * together with its base32-upper, base58btc and base16 forms; hashing
 * known blocks; verification; every truncation and corruption of the
 * golden forms; ordering; and a random round trip.
 */
#include "core/cid.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "tests/harness.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

struct golden {
	const char *str;   /* canonical string */
	const char *hex;   /* binary form */
	int version;
	uint64_t codec;
	uint64_t hash;
	size_t dlen;
	const char *v1;    /* base32 of cid_to_v1 */
	const char *upper; /* 'B' form (v1 only) */
	const char *z;     /* 'z' form */
	const char *f;     /* 'f' form */
};

#define HELLO_SHA256 \
	"bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
#define HELLO_BLAKE2B \
	"bafk2bzaceaswza5ss4iu2ia3galz6pyo6dfm5f4dmiw2lf2de22dmf4k533ba"
#define PIECE_V1 \
	"baga6ea4seaqes3nobte6ezpp4wqan2age2s5yxcatzotcvobhgcmv5wi2xh5mbi"

static const struct golden golden[] = {
	/* §5 empty directory (block 0a 02 08 01), v0 and v1 */
	{ "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn",
	  "122059948439065f29619ef41280cbb932be52c56d99c5966b65e0111239f098bbef",
	  0, 0x70, 0x12, 32,
	  "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354",
	  NULL, NULL, NULL },
	{ "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354",
	  "0170122059948439065f29619ef41280cbb932be52c56d99c5966b65e0111239f098bbef",
	  1, 0x70, 0x12, 32,
	  "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354",
	  "BAFYBEICZSSCDSBS7FFQZ55ASQDF3SMV6KLCW3GOFSZVWLYARCI47BGF354",
	  "zdj7WbTaiJT1fgatdet9Ei9iDB5hdCxkbVyhyh8YTUnXMiwYi",
	  "f0170122059948439065f29619ef41280cbb932be52c56d99c5966b65e0111239f098bbef" },
	/* §3 empty file (block 0a 04 08 02 18 00) */
	{ "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH",
	  "1220bfccda787baba32b59c78450ac3d20b633360b43992c77289f9ed46d843561e6",
	  0, 0x70, 0x12, 32,
	  "bafybeif7ztnhq65lumvvtr4ekcwd2ifwgm3awq4zfr3srh462rwyinlb4y",
	  NULL, NULL, NULL },
	/* oracle README: "hello world" as a dag-pb leaf, kubo's v0 profile */
	{ "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD",
	  "1220f852c7fa62f971817f54d8a80dcd63fcf7098b3cbde9ae8ec1ee449013ec5db0",
	  0, 0x70, 0x12, 32,
	  "bafybeihykld7uyxzogax6vgyvag42y7464eywpf55gxi5qpoisibh3c5wa",
	  NULL, NULL, NULL },
	/* a v0 whose digest is all zeros: base58 must keep every digit */
	{ "QmNLei78zWmzUdbeRB3CiUfAizWUrbeeZh5K1rhAQKCh51",
	  "12200000000000000000000000000000000000000000000000000000000000000000",
	  0, 0x70, 0x12, 32,
	  "bafybeiaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  NULL, NULL, NULL },
	/* raw sha2-256 "hello world" */
	{ "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e",
	  "01551220b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
	  1, 0x55, 0x12, 32,
	  "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e",
	  "BAFKREIFZJUT3TE2NHYEKKLSS27NH3K72YSCO7Y32KOAO5EEI66WOF36N5E",
	  "zb2rhj7crUKTQYRGCRATFaQ6YFLTde2YzdqbbhAASkL9uRDXn",
	  "f01551220b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9" },
	/* raw blake2b-256 "hello world" */
	{ "bafk2bzaceaswza5ss4iu2ia3galz6pyo6dfm5f4dmiw2lf2de22dmf4k533ba",
	  "0155a0e40220256c83b297114d201b30179f3f0ef0cace9783622da5974326b436178aeef610",
	  1, 0x55, 0xb220, 32,
	  "bafk2bzaceaswza5ss4iu2ia3galz6pyo6dfm5f4dmiw2lf2de22dmf4k533ba",
	  "BAFK2BZACEASWZA5SS4IU2IA3GALZ6PYO6DFM5F4DMIW2LF2DE22DMF4K533BA",
	  "zCT5htkdzN4Q7EX2HUVByjuB7bgYszUosExP2iTMSLoSCsZDNHfm",
	  "f0155a0e40220256c83b297114d201b30179f3f0ef0cace9783622da5974326b436178aeef610" },
	/* dag-pb blake2b-256 (same digest, codec 0x70) */
	{ "bafykbzaceaswza5ss4iu2ia3galz6pyo6dfm5f4dmiw2lf2de22dmf4k533ba",
	  "0170a0e40220256c83b297114d201b30179f3f0ef0cace9783622da5974326b436178aeef610",
	  1, 0x70, 0xb220, 32,
	  "bafykbzaceaswza5ss4iu2ia3galz6pyo6dfm5f4dmiw2lf2de22dmf4k533ba",
	  "BAFYKBZACEASWZA5SS4IU2IA3GALZ6PYO6DFM5F4DMIW2LF2DE22DMF4K533BA",
	  "zDMZof1krNYfDsfiKx8wxVZN2KmBGYVZWVDHwJVveBVcgCM4eTaw",
	  "f0170a0e40220256c83b297114d201b30179f3f0ef0cace9783622da5974326b436178aeef610" },
	/* identity: the empty raw block, and "hello world" inline */
	{ "bafkqaaa", "01550000", 1, 0x55, 0x00, 0, "bafkqaaa", "BAFKQAAA",
	  "z2yYDV", "f01550000" },
	{ "bafkqac3imvwgy3zao5xxe3de", "0155000b68656c6c6f20776f726c64",
	  1, 0x55, 0x00, 11, "bafkqac3imvwgy3zao5xxe3de",
	  "BAFKQAC3IMVWGY3ZAO5XXE3DE", "z3AN4zjWPMkSLmtV5G5cF",
	  "f0155000b68656c6c6f20776f726c64" },
	/* dag-cbor {"hello": "world"} (block a1 65 68656c6c6f 65 776f726c64) */
	{ "bafyreidykglsfhoixmivffc5uwhcgshx4j465xwqntbmu43nb2dzqwfvae",
	  "01711220785197229dc8bb1152945da58e2348f7e279eeded06cc2ca736d0e879858b501",
	  1, 0x71, 0x12, 32,
	  "bafyreidykglsfhoixmivffc5uwhcgshx4j465xwqntbmu43nb2dzqwfvae",
	  "BAFYREIDYKGLSFHOIXMIVFFC5UWHCGSHX4J465XWQNTBMU43NB2DZQWFVAE",
	  "zdpuAtX7ZibcWdSKQwiDCkPjWwRvtcKCPku9H7LhgA4qJW4Wk",
	  "f01711220785197229dc8bb1152945da58e2348f7e279eeded06cc2ca736d0e879858b501" },
	/* §10 piece CID v1 and v2 of 127 x {00,01,02,03} */
	{ "baga6ea4seaqes3nobte6ezpp4wqan2age2s5yxcatzotcvobhgcmv5wi2xh5mbi",
	  "0181e203922020496dae0cc9e265efe5a006e80626a5dc5c409e5d3155c13984caf6c8d5cfd605",
	  1, 0xf101, 0x1012, 32,
	  "baga6ea4seaqes3nobte6ezpp4wqan2age2s5yxcatzotcvobhgcmv5wi2xh5mbi",
	  "BAGA6EA4SEAQES3NOBTE6EZPP4WQAN2AGE2S5YXCATZOTCVOBHGCMV5WI2XH5MBI",
	  "zz5p6wDPnziD5wuoYZ6GtbUdBv2KWXva7s9YiaBa4hCi5AFcQergt",
	  "f0181e203922020496dae0cc9e265efe5a006e80626a5dc5c409e5d3155c13984caf6c8d5cfd605" },
	{ "bafkzcibcaaces3nobte6ezpp4wqan2age2s5yxcatzotcvobhgcmv5wi2xh5mbi",
	  "01559120220004496dae0cc9e265efe5a006e80626a5dc5c409e5d3155c13984caf6c8d5cfd605",
	  1, 0x55, 0x1011, 34,
	  "bafkzcibcaaces3nobte6ezpp4wqan2age2s5yxcatzotcvobhgcmv5wi2xh5mbi",
	  "BAFKZCIBCAACES3NOBTE6EZPP4WQAN2AGE2S5YXCATZOTCVOBHGCMV5WI2XH5MBI",
	  "zsXb84QHxtoqjrTh87ahbkfDJ1SbL7SzpxZsUsJf4Zm4jvA9aXZcQ",
	  "f01559120220004496dae0cc9e265efe5a006e80626a5dc5c409e5d3155c13984caf6c8d5cfd605" },
	/* §10 piece CID v2 of the empty payload and of 128 zero bytes */
	{ "bafkzcibcp4bdomn3tgwgrh3g532zopskstnbrd2n3sxfqbze7rxt7vqn7veigmy",
	  "01559120227f023731bb99ac689f66eef5973e4a94da188f4ddcae580724fc6f3fd60dfd488333",
	  1, 0x55, 0x1011, 34,
	  "bafkzcibcp4bdomn3tgwgrh3g532zopskstnbrd2n3sxfqbze7rxt7vqn7veigmy",
	  "BAFKZCIBCP4BDOMN3TGWGRH3G532ZOPSKSTNBRD2N3SXFQBZE7RXT7VQN7VEIGMY",
	  "zsXb84TAUMqiTqLH4WE2yb8LcVd81ncvdQnrChr6HKGzLSrSTx2R8",
	  "f01559120227f023731bb99ac689f66eef5973e4a94da188f4ddcae580724fc6f3fd60dfd488333" },
	{ "bafkzcibcpybwiktap34inmaex4wbs6cghlq5i2j2yd2bb2zndn5ep7ralzphkdy",
	  "01559120227e03642a607ef886b004bf2c1978463ae1d4693ac0f410eb2d1b7a47fe205e5e750f",
	  1, 0x55, 0x1011, 34,
	  "bafkzcibcpybwiktap34inmaex4wbs6cghlq5i2j2yd2bb2zndn5ep7ralzphkdy",
	  "BAFKZCIBCPYBWIKTAP34INMAEX4WBS6CGHLQ5I2J2YD2BB2ZNDN5EP7RALZPHKDY",
	  "zsXb84T9AfKVo2ieTWX3BdKR7v3PNFDBNUjoTF3Fm3ZnLrscQmmCr",
	  "f01559120227e03642a607ef886b004bf2c1978463ae1d4693ac0f410eb2d1b7a47fe205e5e750f" },
};

/* Parse s, which must succeed; fails the test otherwise. */
static struct cid parse_ok(const char *s)
{
	struct cid id;
	int error = cid_parse(&id, s);

	if (error)
		fprintf(stderr, "cid_parse('%s'): %s\n", s, efs_error_msg());
	CU_ASSERT_EQUAL_FATAL(error, 0);
	return id;
}

static void check_golden(const struct golden *g)
{
	uint8_t want[CID_BYTES_MAX];
	uint8_t bytes[CID_BYTES_MAX + 4];
	char s[CID_STR_MAX];
	long n = harness_unhex(want, sizeof(want), g->hex);
	struct cid id = parse_ok(g->str);
	struct cid other;
	struct cid v1;
	size_t used;

	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL(id.version, g->version);
	CU_ASSERT_EQUAL(id.codec, g->codec);
	CU_ASSERT_EQUAL(id.hash, g->hash);
	CU_ASSERT_EQUAL(id.digest_len, g->dlen);
	/* string -> binary -> string */
	CU_ASSERT_EQUAL(cid_size(&id), (size_t)n);
	CU_ASSERT_EQUAL(cid_to_bytes(bytes, &id), (size_t)n);
	CU_ASSERT(!memcmp(bytes, want, (size_t)n));
	CU_ASSERT_STRING_EQUAL(cid_tostr(s, &id), g->str);
	CU_ASSERT_EQUAL(cid_from_bytes_exact(&other, want, (size_t)n), 0);
	CU_ASSERT(cid_equal(&id, &other));
	/* trailing bytes are left for the caller */
	memcpy(bytes, want, (size_t)n);
	memset(bytes + n, 0x01, 4);
	CU_ASSERT_EQUAL(cid_from_bytes(&other, &used, bytes, (size_t)n + 4),
			0);
	CU_ASSERT_EQUAL(used, (size_t)n);
	CU_ASSERT(cid_equal(&id, &other));
	CU_ASSERT_EQUAL(cid_from_bytes_exact(&other, bytes, (size_t)n + 1),
			EFS_ECORRUPT);
	/* the CIDv1 */
	v1 = cid_to_v1(&id);
	CU_ASSERT_EQUAL(v1.version, 1);
	CU_ASSERT_STRING_EQUAL(cid_tostr(s, &v1), g->v1);
	CU_ASSERT(cid_mh_equal(&id, &v1));
	CU_ASSERT_EQUAL(cid_equal(&id, &v1), g->version == 1);
	other = parse_ok(g->v1);
	CU_ASSERT(cid_equal(&other, &v1));
	if (g->version == 0) {
		/* v0 is base58 whatever base is asked for */
		CU_ASSERT_EQUAL(cid_format(s, sizeof(s), &id, 'f'), 46);
		CU_ASSERT_STRING_EQUAL(s, g->str);
		return;
	}
	/* other bases parse to the same CID and format back */
	{
		const char *forms[] = { g->upper, g->z, g->f };

		for (size_t i = 0; i < N_ELEMS(forms); i++) {
			other = parse_ok(forms[i]);
			CU_ASSERT(cid_equal(&id, &other));
			CU_ASSERT_EQUAL(cid_format(s, sizeof(s), &id,
						   forms[i][0]),
					(long)strlen(forms[i]));
			CU_ASSERT_STRING_EQUAL(s, forms[i]);
		}
	}
}

static void test_cid__golden(void)
{
	for (size_t i = 0; i < N_ELEMS(golden); i++)
		check_golden(&golden[i]);
}

/* Upper-case base16 ('F') is the 'f' form upper-cased. */
static void test_cid__base16_upper(void)
{
	for (size_t i = 0; i < N_ELEMS(golden); i++) {
		char s[CID_STR_MAX];
		struct cid a;
		struct cid b;

		if (!golden[i].f)
			continue;
		for (size_t j = 0; golden[i].f[j]; j++)
			s[j] = (char)(golden[i].f[j] >= 'a' ?
					      golden[i].f[j] - 32 :
					      golden[i].f[j]);
		s[strlen(golden[i].f)] = '\0';
		s[0] = 'F';
		a = parse_ok(golden[i].str);
		b = parse_ok(s);
		CU_ASSERT(cid_equal(&a, &b));
	}
}

/* Blocks whose CIDs are in the golden table, hashed here. */
static void test_cid__hash(void)
{
	static const struct {
		int version;
		uint64_t codec;
		uint64_t hash;
		const char *block_hex; /* NULL: "hello world" */
		const char *want;
	} cases[] = {
		{ 1, 0x55, 0x12, NULL,
		  "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e" },
		{ 1, 0x55, 0xb220, NULL,
		  "bafk2bzaceaswza5ss4iu2ia3galz6pyo6dfm5f4dmiw2lf2de22dmf4k533ba" },
		{ 1, 0x70, 0xb220, NULL,
		  "bafykbzaceaswza5ss4iu2ia3galz6pyo6dfm5f4dmiw2lf2de22dmf4k533ba" },
		{ 1, 0x55, 0x00, NULL, "bafkqac3imvwgy3zao5xxe3de" },
		{ 1, 0x55, 0x00, "", "bafkqaaa" },
		{ 1, 0x55, 0x12, "",
		  "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku" },
		{ 1, 0x55, 0xb220, "",
		  "bafk2bzaceahfouoae3suhmxivmxlayez3kq5dzo7i53y654h7kvultprf7r2q" },
		{ 0, 0x70, 0x12, "0a020801",
		  "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn" },
		{ 1, 0x70, 0x12, "0a020801",
		  "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354" },
		{ 0, 0x70, 0x12, "0a0408021800",
		  "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH" },
		{ 0, 0x70, 0x12, "0a110802120b68656c6c6f20776f726c64180b",
		  "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD" },
		{ 1, 0x71, 0x12, "a16568656c6c6f65776f726c64",
		  "bafyreidykglsfhoixmivffc5uwhcgshx4j465xwqntbmu43nb2dzqwfvae" },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		uint8_t block[64];
		const void *data = "hello world";
		size_t len = 11;
		char s[CID_STR_MAX];
		struct cid id;
		struct cid want;

		if (cases[i].block_hex) {
			long n = harness_unhex(block, sizeof(block),
					       cases[i].block_hex);

			CU_ASSERT_FATAL(n >= 0);
			data = block;
			len = (size_t)n;
		}
		CU_ASSERT_EQUAL_FATAL(cid_hash(&id, cases[i].version,
					       cases[i].codec, cases[i].hash,
					       data, len), 0);
		CU_ASSERT_STRING_EQUAL(cid_tostr(s, &id), cases[i].want);
		want = parse_ok(cases[i].want);
		CU_ASSERT(cid_equal(&id, &want));
		CU_ASSERT_EQUAL(cid_verify(&id, data, len), 0);
		CU_ASSERT_EQUAL(cid_is_identity(&id), cases[i].hash == 0);
	}
}

static void test_cid__hash_errors(void)
{
	uint8_t big[MHASH_DIGEST_MAX + 1] = { 0 };
	struct cid id;

	CU_ASSERT_EQUAL(cid_hash(&id, 0, 0x55, 0x12, "x", 1), EFS_EINVAL);
	CU_ASSERT_EQUAL(cid_hash(&id, 0, 0x70, 0xb220, "x", 1), EFS_EINVAL);
	CU_ASSERT_EQUAL(cid_hash(&id, 2, 0x55, 0x12, "x", 1), EFS_EINVAL);
	CU_ASSERT_EQUAL(cid_hash(&id, 1, 0x55, 0x1012, "x", 1),
			EFS_EUNSUPPORTED);
	CU_ASSERT_EQUAL(cid_hash(&id, 1, 0x55, 0x13, "x", 1),
			EFS_EUNSUPPORTED);
	CU_ASSERT_EQUAL(cid_hash(&id, 1, 0x55, 0x00, big, sizeof(big)),
			EFS_ETOOBIG);
	CU_ASSERT_EQUAL(cid_hash(&id, 1, 0x55, 0x00, big, sizeof(big) - 1),
			0);
}

static void test_cid__init(void)
{
	uint8_t d[MHASH_DIGEST_MAX + 1] = { 1, 2, 3 };
	struct cid id;

	CU_ASSERT_EQUAL(cid_init(&id, 0, 0x70, 0x12, d, 32), 0);
	CU_ASSERT_EQUAL(id.version, 0);
	CU_ASSERT_EQUAL(cid_init(&id, 1, 0x55, 0x12, d, 32), 0);
	CU_ASSERT_EQUAL(id.digest[2], 3);
	CU_ASSERT_EQUAL(cid_init(&id, 1, 0x55, 0x00, NULL, 0), 0);
	CU_ASSERT_EQUAL(cid_init(&id, 1, 0x55, 0x00, d, 128), 0);
	/* a hash this build does not know: any length up to the cap */
	CU_ASSERT_EQUAL(cid_init(&id, 1, 0x55, 0x13, d, 64), 0);
	CU_ASSERT_EQUAL(cid_init(&id, 1, 0x55, 0x1011, d, 35), 0);
	CU_ASSERT_EQUAL(cid_init(&id, 1, INT64_MAX, INT64_MAX, d, 1), 0);

	CU_ASSERT_EQUAL(cid_init(&id, -1, 0x55, 0x12, d, 32), EFS_EINVAL);
	CU_ASSERT_EQUAL(cid_init(&id, 2, 0x55, 0x12, d, 32), EFS_EINVAL);
	CU_ASSERT_EQUAL(cid_init(&id, 0, 0x55, 0x12, d, 32), EFS_EINVAL);
	CU_ASSERT_EQUAL(cid_init(&id, 0, 0x70, 0xb220, d, 32), EFS_EINVAL);
	CU_ASSERT_EQUAL(cid_init(&id, 0, 0x70, 0x12, d, 31), EFS_EINVAL);
	CU_ASSERT_EQUAL(cid_init(&id, 1, 0x55, 0x12, d, 31), EFS_EINVAL);
	CU_ASSERT_EQUAL(cid_init(&id, 1, 0x55, 0x12, d, 33), EFS_EINVAL);
	CU_ASSERT_EQUAL(cid_init(&id, 1, 0x55, 0xb220, d, 20), EFS_EINVAL);
	CU_ASSERT_EQUAL(cid_init(&id, 1, 0x55, 0x00, d, 129), EFS_EINVAL);
	CU_ASSERT_EQUAL(cid_init(&id, 1, 0x55, 0x13, d, 129), EFS_EINVAL);
	/* codes a multiformats varint cannot carry */
	CU_ASSERT_EQUAL(cid_init(&id, 1, (uint64_t)INT64_MAX + 1, 0x12, d, 32),
			EFS_EINVAL);
	CU_ASSERT_EQUAL(cid_init(&id, 1, 0x55, UINT64_MAX, d, 32),
			EFS_EINVAL);
}

static void test_cid__verify(void)
{
	static const char hello[] = "hello world";
	char block[sizeof(hello)];
	uint8_t big[200] = { 0 };
	struct cid id = parse_ok(HELLO_SHA256);
	struct cid b2 = parse_ok(HELLO_BLAKE2B);
	struct cid ident = parse_ok("bafkqac3imvwgy3zao5xxe3de");
	struct cid empty = parse_ok("bafkqaaa");
	struct cid piece = parse_ok(PIECE_V1);

	memcpy(block, hello, sizeof(hello));
	CU_ASSERT_EQUAL(cid_verify(&id, block, 11), 0);
	CU_ASSERT_EQUAL(cid_verify(&b2, block, 11), 0);
	CU_ASSERT_EQUAL(cid_verify(&ident, block, 11), 0);
	CU_ASSERT_EQUAL(cid_verify(&empty, NULL, 0), 0);
	CU_ASSERT_EQUAL(cid_verify(&id, block, 10), EFS_EMISMATCH);
	CU_ASSERT_PTR_NOT_NULL(strstr(efs_error_msg(), HELLO_SHA256));
	block[3] ^= 1;
	CU_ASSERT_EQUAL(cid_verify(&id, block, 11), EFS_EMISMATCH);
	CU_ASSERT_EQUAL(cid_verify(&b2, block, 11), EFS_EMISMATCH);
	CU_ASSERT_EQUAL(cid_verify(&ident, block, 11), EFS_EMISMATCH);
	CU_ASSERT_EQUAL(cid_verify(&ident, hello, 10), EFS_EMISMATCH);
	CU_ASSERT_EQUAL(cid_verify(&ident, hello, 12), EFS_EMISMATCH);
	CU_ASSERT_EQUAL(cid_verify(&empty, hello, 1), EFS_EMISMATCH);
	/* too long for any identity digest: still a mismatch */
	CU_ASSERT_EQUAL(cid_verify(&empty, big, sizeof(big)), EFS_EMISMATCH);
	CU_ASSERT_EQUAL(cid_verify(&piece, hello, 11), EFS_EUNSUPPORTED);
}

/*
 * Every proper prefix of every golden string and binary form fails.  Not
 * base58btc ones: a shorter base58 string is another number, which can be
 * another well-formed CID; those must fail or name a different CID.
 */
static void test_cid__truncated(void)
{
	for (size_t i = 0; i < N_ELEMS(golden); i++) {
		const char *forms[] = { golden[i].str, golden[i].upper,
					golden[i].f, golden[i].z };
		uint8_t bytes[CID_BYTES_MAX];
		long n = harness_unhex(bytes, sizeof(bytes), golden[i].hex);
		struct cid want = parse_ok(golden[i].str);
		struct cid id;
		size_t used;

		for (size_t f = 0; f < N_ELEMS(forms); f++) {
			size_t len = forms[f] ? strlen(forms[f]) : 0;

			for (size_t k = 0; k < len; k++) {
				int error = cid_parse_n(&id, forms[f], k);

				if (forms[f][0] == 'z') {
					CU_ASSERT(error < 0 ||
						  !cid_equal(&id, &want));
				} else {
					CU_ASSERT_EQUAL(error, EFS_ECORRUPT);
				}
			}
		}
		for (long k = 0; k < n; k++) {
			CU_ASSERT(cid_from_bytes(&id, &used, bytes,
						 (size_t)k) < 0);
			CU_ASSERT(cid_from_bytes_exact(&id, bytes,
						       (size_t)k) < 0);
		}
	}
}

/*
 * Each character of a golden string replaced by characters outside its
 * alphabet, and by a valid one, which for base32 and base16 gives another
 * well-formed string; that must fail or parse to a different CID.
 */
static void test_cid__bad_chars(void)
{
	static const char bad[] = "!0O=/ \x80\xff";

	for (size_t i = 0; i < N_ELEMS(golden); i++) {
		const char *s = golden[i].str;
		size_t len = strlen(s);
		struct cid want = parse_ok(s);

		for (size_t k = 0; k < len; k++) {
			char t[CID_STR_MAX];
			struct cid id;

			memcpy(t, s, len + 1);
			for (const char *b = bad; *b; b++) {
				t[k] = *b;
				CU_ASSERT(cid_parse(&id, t) < 0);
			}
			t[k] = s[k] == 'a' ? 'b' : 'a';
			if (cid_parse(&id, t) == 0)
				CU_ASSERT_FALSE(cid_equal(&id, &want));
		}
	}
}

/* Strings that are not CIDs, though most are valid multibase. */
static void test_cid__bad_strings(void)
{
	static const struct {
		const char *s;
		size_t len; /* 0: strlen */
		int want;
	} cases[] = {
		{ "", 0, EFS_ECORRUPT },
		{ "b", 0, EFS_ECORRUPT },
		{ "z", 0, EFS_ECORRUPT },
		{ "f", 0, EFS_ECORRUPT },
		{ "Q", 0, EFS_ECORRUPT },  /* 'Q' is not multibase: a v0 */
		{ "Qm", 0, EFS_ECORRUPT },
		{ "x0155", 0, EFS_EUNSUPPORTED },
		{ "kAVUSIA", 0, EFS_EUNSUPPORTED }, /* base36 */
		{ "mAVUSIA", 0, EFS_ECORRUPT }, /* base64, truncated */
		/* a v0 under a multibase prefix */
		{ "zQmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn", 0,
		  EFS_ECORRUPT },
		{ "bciqftfeehedf6klbt32bfaglxezl4uwfnwm4lftlmxqbcerz6cmlx3y",
		  0, EFS_ECORRUPT },
		{ "f122059948439065f29619ef41280cbb932be52c56d99c5966b65e0111239f098bbef",
		  0, EFS_ECORRUPT },
		/* 46 chars with Qm that are not sha2-256 multihashes */
		{ "Qm11111111111111111111111111111111111111111111", 0,
		  EFS_ECORRUPT },
		{ "Qmzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", 0,
		  EFS_ECORRUPT },
		{ "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3N0", 0,
		  EFS_ECORRUPT },
		/* v0 one char too long or short */
		{ "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nnn", 0,
		  EFS_ECORRUPT },
		{ "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3N", 0,
		  EFS_ECORRUPT },
		/* a 'Q' string that is base58 of a CIDv1 is still no v0 */
		{ "Q31wsBprV7Jdkk", 0, EFS_ECORRUPT }, /* 01 9a01 00 06 41.. */
		{ "zQ31wsBprV7Jdkk", 0, 0 },
		/* bare identity multihash "00 00" and blake2b multihash */
		{ "baaaa", 0, EFS_ECORRUPT },
		{ "fa0e402200000000000000000000000000000000000000000000000000000000000000000",
		  0, EFS_ECORRUPT },
		/* a base32 v1 with a character too many, or upper-cased body */
		{ "bafkqaaaa", 0, EFS_ECORRUPT },
		{ "bAFKQAAA", 0, EFS_ECORRUPT },
		{ "Bafkqaaa", 0, EFS_ECORRUPT },
		{ " bafkqaaa", 0, EFS_EUNSUPPORTED },
		{ "bafkqaaa ", 0, EFS_ECORRUPT },
		{ "bafkqaaa\n", 0, EFS_ECORRUPT },
		/* NULs inside the given length */
		{ "bafkqaaa\0", 9, EFS_ECORRUPT },
		{ "bafk\0aaa", 8, EFS_ECORRUPT },
		{ "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3N\0", 46,
		  EFS_ECORRUPT },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct cid id;
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].s);
		int error = cid_parse_n(&id, cases[i].s, len);

		if (error != cases[i].want)
			fprintf(stderr, "case %zu '%s': %s\n", i, cases[i].s,
				efs_error_name(error));
		CU_ASSERT_EQUAL(error, cases[i].want);
		if (error)
			CU_ASSERT_PTR_NOT_NULL(strstr(efs_error_msg(),
						      "invalid cid"));
	}
}

/* Binary forms that are not CIDs. */
static void test_cid__bad_bytes(void)
{
	static const struct {
		const char *hex;
		int want;
	} cases[] = {
		{ "", EFS_ECORRUPT },
		{ "12", EFS_ECORRUPT },     /* version 18 */
		{ "1220", EFS_ECORRUPT },   /* truncated v0 */
		/* explicit version 0, versions 2 and 3 */
		{ "0070122059948439065f29619ef41280cbb932be52c56d99c5966b65e0111239f098bbef",
		  EFS_ECORRUPT },
		{ "0270122059948439065f29619ef41280cbb932be52c56d99c5966b65e0111239f098bbef",
		  EFS_EUNSUPPORTED },
		{ "0370122059948439065f29619ef41280cbb932be52c56d99c5966b65e0111239f098bbef",
		  EFS_EUNSUPPORTED },
		/* sha2-256 with a 31- or 33-byte digest */
		{ "0155121f00000000000000000000000000000000000000000000000000000000000000",
		  EFS_ECORRUPT },
		{ "0155122100000000000000000000000000000000000000000000000000000000000000000000",
		  EFS_ECORRUPT },
		/* blake2b-256 with 31 bytes */
		{ "0155a0e4021f00000000000000000000000000000000000000000000000000000000000000",
		  EFS_ECORRUPT },
		/* identity digest over 128 bytes: 0x81 = 129 */
		{ "0155008101", EFS_ECORRUPT },
		/* digest longer than what is there */
		{ "0155000501020304", EFS_ECORRUPT },
		/* non-minimal varints: version, codec, hash, length */
		{ "810055000101", EFS_ECORRUPT },
		{ "01d50000", EFS_ECORRUPT },
		{ "01d500", EFS_ECORRUPT },
		{ "0155800000", EFS_ECORRUPT },
		{ "01558000000000", EFS_ECORRUPT },
		{ "015500800000", EFS_ECORRUPT },
		/* huge varints */
		{ "ffffffffffffffff7f", EFS_ECORRUPT },
		{ "ffffffffffffffffff01", EFS_ECORRUPT },
		{ "ffffffffffffffffffffffff", EFS_ECORRUPT },
		{ "01ffffffffffffffffff0100", EFS_ECORRUPT },
		{ "0155ffffffffffffffffff0100", EFS_ECORRUPT },
		{ "015500ffffffffffffffffff01", EFS_ECORRUPT },
		{ "015500ffffffffffffffff7f", EFS_ECORRUPT },
		{ "0155", EFS_ECORRUPT },
		{ "015500", EFS_ECORRUPT },
		{ "01", EFS_ECORRUPT },
		{ "80", EFS_ECORRUPT },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		uint8_t bytes[64];
		long n = harness_unhex(bytes, sizeof(bytes), cases[i].hex);
		struct cid id;
		size_t used;
		int error;

		CU_ASSERT_FATAL(n >= 0);
		error = cid_from_bytes(&id, &used, bytes, (size_t)n);
		if (error != cases[i].want)
			fprintf(stderr, "case %zu %s: %s\n", i, cases[i].hex,
				efs_error_name(error));
		CU_ASSERT_EQUAL(error, cases[i].want);
	}
}

static void test_cid__compare(void)
{
	struct cid v0 = parse_ok("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn");
	struct cid v1 = parse_ok(
		"bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354");
	struct cid raw = cid_to_v1(&v0);
	struct cid d1;
	struct cid d2;
	struct cid s31;
	uint8_t dig[32] = { 0 };

	raw.codec = CID_CODEC_RAW;
	/* v0 and v1 of one block: different CIDs, same multihash */
	CU_ASSERT_FALSE(cid_equal(&v0, &v1));
	CU_ASSERT(cid_mh_equal(&v0, &v1));
	CU_ASSERT(cid_compare(&v0, &v1) < 0);
	CU_ASSERT(cid_compare(&v1, &v0) > 0);
	CU_ASSERT(cid_equal(&v1, &v1));
	CU_ASSERT_EQUAL(cid_compare(&v1, &v1), 0);
	/* codec orders before hash and digest */
	CU_ASSERT(cid_mh_equal(&raw, &v1));
	CU_ASSERT(cid_compare(&raw, &v1) < 0);
	/* digest bytes, then digest length */
	CU_ASSERT_EQUAL(cid_init(&d1, 1, 0x55, 0x13, dig, 32), 0);
	dig[31] = 1;
	CU_ASSERT_EQUAL(cid_init(&d2, 1, 0x55, 0x13, dig, 32), 0);
	CU_ASSERT_EQUAL(cid_init(&s31, 1, 0x55, 0x13, dig, 31), 0);
	CU_ASSERT(cid_compare(&d1, &d2) < 0);
	CU_ASSERT(cid_compare(&d2, &d1) > 0);
	CU_ASSERT(cid_compare(&s31, &d2) < 0);
	CU_ASSERT(cid_compare(&d2, &s31) > 0);
	CU_ASSERT_FALSE(cid_mh_equal(&s31, &d2));
	CU_ASSERT_FALSE(cid_mh_equal(&d1, &d2));
	/* hash function orders before the digest */
	CU_ASSERT_EQUAL(cid_init(&d1, 1, 0x55, 0x12, dig, 32), 0);
	CU_ASSERT(cid_compare(&d1, &d2) < 0);
	CU_ASSERT_FALSE(cid_mh_equal(&d1, &d2));
	/* v1 is returned unchanged */
	d2 = cid_to_v1(&v1);
	CU_ASSERT(cid_equal(&d2, &v1));
}

static void test_cid__names(void)
{
	CU_ASSERT_STRING_EQUAL(cid_codec_name(0x55), "raw");
	CU_ASSERT_STRING_EQUAL(cid_codec_name(0x70), "dag-pb");
	CU_ASSERT_STRING_EQUAL(cid_codec_name(0x71), "dag-cbor");
	CU_ASSERT_STRING_EQUAL(cid_codec_name(0xf101),
			       "fil-commitment-unsealed");
	CU_ASSERT_PTR_NULL(cid_codec_name(0x0129)); /* dag-json */
	CU_ASSERT_PTR_NULL(cid_codec_name(0));
}

static void test_cid__format(void)
{
	struct cid id = parse_ok(HELLO_SHA256);
	size_t len = strlen(HELLO_SHA256);
	uint8_t d[MHASH_DIGEST_MAX];
	struct cid big;
	struct cid back;
	char s[CID_STR_MAX];
	char tiny[8];
	uint8_t mh[CID_MH_BYTES_MAX];

	CU_ASSERT_EQUAL(cid_format(s, sizeof(s), &id, 'x'), EFS_EINVAL);
	CU_ASSERT_EQUAL(cid_format(s, len + 1, &id, 'b'), (long)len);
	CU_ASSERT_EQUAL(cid_format(s, len, &id, 'b'), EFS_ETOOBIG);
	CU_ASSERT_EQUAL(cid_format(tiny, sizeof(tiny), &id, 'z'),
			EFS_ETOOBIG);
	/* the multihash alone */
	CU_ASSERT_EQUAL(cid_mh_to_bytes(mh, &id), 34);
	CU_ASSERT_EQUAL(mh[0], 0x12);
	CU_ASSERT_EQUAL(mh[1], 0x20);
	CU_ASSERT(!memcmp(mh + 2, id.digest, 32));

	/* the longest CID this build holds still fits CID_STR_MAX */
	harness_fill_random(d, sizeof(d), 3);
	CU_ASSERT_EQUAL_FATAL(cid_init(&big, 1, INT64_MAX, MHASH_IDENTITY, d,
				       MHASH_DIGEST_MAX), 0);
	CU_ASSERT(cid_size(&big) <= CID_BYTES_MAX);
	for (const char *b = "bBz"; *b; b++) {
		long n = cid_format(s, sizeof(s), &big, *b);

		CU_ASSERT_FATAL(n > 0);
		CU_ASSERT_EQUAL(cid_parse(&back, s), 0);
		CU_ASSERT(cid_equal(&back, &big));
	}
	CU_ASSERT(strlen(cid_tostr(s, &big)) > 200);
	CU_ASSERT_EQUAL(cid_parse(&back, s), 0);
	CU_ASSERT(cid_equal(&back, &big));
}

/* Random CIDs of every shape: bytes and every base round-trip. */
static void test_cid__roundtrip(void)
{
	static const uint64_t hashes[] = { 0x00, 0x12, 0xb220, 0x1011,
					   0x1012, 0x13, 0x7f, 0x80 };
	static const uint64_t codecs[] = { 0x55, 0x70, 0x71, 0xf101, 0x80,
					   0x3fff, 0x4000, INT64_MAX };
	uint64_t seed = 1;

	for (size_t h = 0; h < N_ELEMS(hashes); h++) {
		for (size_t c = 0; c < N_ELEMS(codecs); c++, seed++) {
			uint8_t d[MHASH_DIGEST_MAX];
			uint8_t bytes[CID_BYTES_MAX];
			size_t fixed = mhash_digest_size(hashes[h]);
			size_t dlen = fixed ? fixed : seed % 129;
			struct cid id;
			struct cid back;
			size_t n;

			harness_fill_random(d, sizeof(d), seed);
			CU_ASSERT_EQUAL_FATAL(cid_init(&id, 1, codecs[c],
						       hashes[h], d, dlen), 0);
			n = cid_to_bytes(bytes, &id);
			CU_ASSERT_EQUAL(n, cid_size(&id));
			CU_ASSERT_EQUAL(cid_from_bytes_exact(&back, bytes, n),
					0);
			CU_ASSERT(cid_equal(&id, &back));
			for (const char *b = "bBzfF"; *b; b++) {
				char s[2 * CID_BYTES_MAX + 2];

				CU_ASSERT_FATAL(cid_format(s, sizeof(s), &id,
							   *b) > 0);
				CU_ASSERT_EQUAL(cid_parse(&back, s), 0);
				CU_ASSERT(cid_equal(&id, &back));
			}
		}
	}
}

static CU_TestInfo cid_tests[] = {
	{ "golden", test_cid__golden },
	{ "base16_upper", test_cid__base16_upper },
	{ "hash", test_cid__hash },
	{ "hash_errors", test_cid__hash_errors },
	{ "init", test_cid__init },
	{ "verify", test_cid__verify },
	{ "truncated", test_cid__truncated },
	{ "bad_chars", test_cid__bad_chars },
	{ "bad_strings", test_cid__bad_strings },
	{ "bad_bytes", test_cid__bad_bytes },
	{ "compare", test_cid__compare },
	{ "names", test_cid__names },
	{ "format", test_cid__format },
	{ "roundtrip", test_cid__roundtrip },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "cid", .pTests = cid_tests })
