/*
 * test_filaddr.c - Filecoin addresses.  Golden vectors from go-address's
 * address_test.go (filecoin-project/go-address: TestVectorsIDAddress,
 * TestVectorSecp256k1Address, TestVectorActorAddress, TestVectorBLSAddress,
 * TestDelegatedAddress, TestInvalidStringAddresses,
 * TestInvalidByteAddresses, TestTrailingBits, TestIDMax) and f410f
 * addresses of Ethereum addresses from iso-filecoin 7.4.7
 * (address.fromEthAddress, checked with its toBytes), and 40 seeded random
 * addresses of every protocol from iso-filecoin in
 * tests/data/filecoin/addresses.txt (tests/interop/gen-filecoin-vectors.mjs).
 * Then round trips, every truncation of every byte form, and strictness.
 */
#include "core/filaddr.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/mbase.h"
#include "tests/harness.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Parse s, check it formats back to itself and survives the byte form. */
static void check_roundtrip(const char *s, const struct filaddr *want)
{
	struct filaddr a, b;
	uint8_t bytes[FILADDR_BYTES_MAX];
	char str[FILADDR_STR_MAX];
	char net = 0;
	size_t n;

	CU_ASSERT_EQUAL_FATAL(filaddr_parse(&a, &net, s, strlen(s)), 0);
	CU_ASSERT_EQUAL(net, s[0]);
	if (want)
		CU_ASSERT(filaddr_equal(&a, want));
	n = filaddr_format(str, &a, net);
	CU_ASSERT_EQUAL(n, strlen(s));
	CU_ASSERT_STRING_EQUAL(str, s);
	n = filaddr_to_bytes(bytes, &a);
	CU_ASSERT_EQUAL_FATAL(filaddr_from_bytes(&b, bytes, n), 0);
	CU_ASSERT(filaddr_equal(&a, &b));
	CU_ASSERT_EQUAL(a.id, b.id);
	CU_ASSERT_EQUAL(a.ns, b.ns);
}

static void test_filaddr__id(void)
{
	static const struct {
		uint64_t id;
		const char *s;
		const char *bytes;
	} cases[] = {
		{ 0, "t00", "0000" },
		{ 1, "t01", "0001" },
		{ 10, "t010", "000a" },
		{ 150, "t0150", "009601" },
		{ 499, "t0499", "00f303" },
		{ 1024, "t01024", "008008" },
		{ 1729, "t01729", "00c10d" },
		{ 999999, "t0999999", "00bf843d" },
		{ INT64_MAX, "t09223372036854775807",
		  "00ffffffffffffffff7f" },
		/* iso-filecoin fromString(...).toBytes() */
		{ 123456789, "f0123456789", "00959aef3a" },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct filaddr a;
		uint8_t want[16], got[FILADDR_BYTES_MAX];
		long wn = harness_unhex(want, sizeof(want), cases[i].bytes);

		filaddr_init_id(&a, cases[i].id);
		CU_ASSERT_EQUAL(a.id, cases[i].id);
		CU_ASSERT_EQUAL(filaddr_to_bytes(got, &a), (size_t)wn);
		CU_ASSERT(!memcmp(got, want, (size_t)wn));
		check_roundtrip(cases[i].s, &a);
	}
}

static const struct {
	const char *pubkey;
	const char *s;
} secp_cases[] = {
	{ "0494" "02fac37e6432a416a3a0ca5426b5185ab3b24f6134efa25ce487c82d2e4e"
	  "13bf452511e0d2245421f8613bc10d72fa216666a96c3bc13920d3ff233fd0bc05",
	  "t15ihq5ibzwki2b4ep2f46avlkrqzhpqgtga7pdrq" },
	{ "047687b910379bf28cbe3aea674b12000c6b7dba46ffc05f6c94fe2a22bbcc2602"
	  "ff7f5c76f21ca55d36959152b0e1e887917c393576eef093f61ebd3ad06f7fda",
	  "t12fiakbhe2gwd5cnmrenekasyn6v5tnaxaqizq6a" },
	{ "04defdd01001efb86e01ded5ce34f847a73a14819ee641bcb60bb92993596f05dc"
	  "2d605f2985f8d125812dac4163a396349b23c11cc2ff359de54be287ea62319b",
	  "t1wbxhu3ypkuo6eyp6hjx6davuelxaxrvwb2kuwva" },
	{ "0403ed12c814b6b10d2ee09d95b4688db2d180d0a9a37a6b6a7db63d29811ee973"
	  "0479d8ef9139e91249cabd393291cfe5d277ba76de45e3e085a37681bf3645d2",
	  "t1xtwapqc6nh4si2hcwpr3656iotzmlwumogqbuaa" },
	{ "04f796819a8e271631af7c189797b545d60225936147e6010e6562b3ce9efe8b10"
	  "144161a91ed0b4ec890800253fa6fc20ac90fbf1fbf27130a4ecc3e403b70576",
	  "t1xcbgdhkgkwht3hrrnui3jdopeejsoatkzmoltqy" },
	{ "0442832bf87cce9ea345b90350de7d3495859ca449059c5e88dde74285dffb9ec0"
	  "1ebabc5fc86268cfeaeba7ae05bfb8d68eb75a5268782cf86fc8702bef8a1fe0",
	  "t17uoq6tp427uzv7fztkbsnn64iwotfrristwpryy" },
};

static void test_filaddr__secp256k1(void)
{
	for (size_t i = 0; i < N_ELEMS(secp_cases); i++) {
		uint8_t key[65];
		char str[FILADDR_STR_MAX], main[FILADDR_STR_MAX];
		struct filaddr a;

		CU_ASSERT_EQUAL_FATAL(harness_unhex(key, sizeof(key),
						    secp_cases[i].pubkey), 65);
		CU_ASSERT_EQUAL_FATAL(filaddr_init_secp256k1(&a, key, 65), 0);
		CU_ASSERT_EQUAL(a.protocol, FILADDR_SECP256K1);
		filaddr_format(str, &a, 't');
		CU_ASSERT_STRING_EQUAL(str, secp_cases[i].s);
		check_roundtrip(secp_cases[i].s, &a);
		/* the mainnet string differs only in its first letter */
		filaddr_format(main, &a, 'f');
		CU_ASSERT_EQUAL(main[0], 'f');
		CU_ASSERT_STRING_EQUAL(main + 1, str + 1);
		check_roundtrip(main, &a);
	}
	{
		uint8_t key[65] = { 0x02 };
		struct filaddr a;

		CU_ASSERT_EQUAL(filaddr_init_secp256k1(&a, key, 65),
				EFS_EINVAL);
		key[0] = 0x04;
		CU_ASSERT_EQUAL(filaddr_init_secp256k1(&a, key, 33),
				EFS_EINVAL);
	}
}

static void test_filaddr__actor(void)
{
	static const struct {
		const char *data;
		const char *s;
	} cases[] = {
		{ "76128190cdf068d1418044acc03e0b6781970d60",
		  "t24vg6ut43yw2h2jqydgbg2xq7x6f4kub3bg6as6i" },
		{ "2cafb8e2e06bba98ea657c5cf5f42023aa23e88e",
		  "t25nml2cfbljvn4goqtclhifepvfnicv6g7mfmmvq" },
		{ "022c9e0ea29d8f40c56abec35c8d587da0a64c18",
		  "t2nuqrg7vuysaue2pistjjnt3fadsdzvyuatqtfei" },
		{ "dfec030e204f0f59d80f1d5ee91dfd066d7f63bd",
		  "t24dd4ox4c2vpf5vk5wkadgyyn6qtuvgcpxxon64a" },
		{ "3d3a89e8ddab547832716c6d468c3560c9f47fd8",
		  "t2gfvuyh7v2sx3patm5k23wdzmhyhtmqctasbr23y" },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		uint8_t data[20];
		char str[FILADDR_STR_MAX];
		struct filaddr a;

		CU_ASSERT_EQUAL_FATAL(harness_unhex(data, sizeof(data),
						    cases[i].data), 20);
		filaddr_init_actor(&a, data, sizeof(data));
		filaddr_format(str, &a, 't');
		CU_ASSERT_STRING_EQUAL(str, cases[i].s);
		check_roundtrip(cases[i].s, &a);
	}
}

static void test_filaddr__bls(void)
{
	static const struct {
		const char *key;
		const char *s;
	} cases[] = {
		{ "ad58df696e2d4e91ea86c881e938ba4ea81b395e12797b84b9cf314b9546705e"
		  "839c7a99d606b247ddb4f9ac7a3414dd",
		  "t3vvmn62lofvhjd2ugzca6sof2j2ubwok6cj4xxbfzz4yuxfkgobpihhd2thlan"
		  "msh3w2ptld2gqkn2jvlss4a" },
		{ "b3294f0a2e29e0c66ebc235d2fedca5697bf784af605c75af608e6a63d5cd38e"
		  "a85ca8989e0efde9188b382f9372460d",
		  "t3wmuu6crofhqmm3v4enos73okk2l366ck6yc4owxwbdtkmpk42ohkqxfitcpa5"
		  "7pjdcftql4tojda2poeruwa" },
		{ "96a1a3e4ea7a14d49985e661b22401d44fed402d1d0925b243c923589c0fbc7e"
		  "32cd04e29ed78d15d37d3aaa3fe6da33",
		  "t3s2q2hzhkpiknjgmf4zq3ejab2rh62qbndueslmsdzervrhapxr7dftie4kpnp"
		  "div2n6tvkr743ndhrsw6d3a" },
		{ "86b454258c589475f7d16f5aac018a79f6c1169d20fc33921dd8b5ce1cac6c34"
		  "8f90a3603624f6aeb91b64518c2e8095",
		  "t3q22fijmmlckhl56rn5nkyamkph3mcfu5ed6dheq53c244hfmnq2i7efdma3cj"
		  "5voxenwiummf2ajlsbxc65a" },
		{ "a7726b038022f75a384617585360cee629070a2d9d28712965e5f26ecc408583"
		  "82803724ed34f2720336f09db631f074",
		  "t3u5zgwa4ael3vuocgc5mfgygo4yuqocrntuuhcklf4xzg5tcaqwbyfabxetwtj"
		  "4tsam3pbhnwghyhijr5mixa" },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		uint8_t key[48];
		char str[FILADDR_STR_MAX];
		struct filaddr a;

		CU_ASSERT_EQUAL_FATAL(harness_unhex(key, sizeof(key),
						    cases[i].key), 48);
		CU_ASSERT_EQUAL_FATAL(filaddr_init_bls(&a, key, 48), 0);
		CU_ASSERT(!memcmp(a.payload, key, 48));
		filaddr_format(str, &a, 't');
		CU_ASSERT_STRING_EQUAL(str, cases[i].s);
		check_roundtrip(cases[i].s, &a);
	}
	{
		uint8_t key[49] = { 0 };
		struct filaddr a;

		CU_ASSERT_EQUAL(filaddr_init_bls(&a, key, 47), EFS_EINVAL);
		CU_ASSERT_EQUAL(filaddr_init_bls(&a, key, 49), EFS_EINVAL);
	}
}

static void test_filaddr__delegated(void)
{
	static const uint8_t ff5[5] = { 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t zero54[FILADDR_SUBADDR_MAX] = { 0 };
	static const struct {
		uint64_t ns;
		const uint8_t *sub;
		size_t len;
		const char *s;
	} cases[] = {
		/* go-address TestDelegatedAddress */
		{ 32, ff5, 5, "f432f77777777x32lpna" },
		{ INT64_MAX, NULL, 0, "f49223372036854775807fiic6zsy" },
		{ INT64_MAX, zero54, 54,
		  "f49223372036854775807f" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaahwgiuam" },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		char str[FILADDR_STR_MAX];
		struct filaddr a;

		CU_ASSERT_EQUAL_FATAL(filaddr_init_delegated(&a, cases[i].ns,
							     cases[i].sub,
							     cases[i].len), 0);
		CU_ASSERT_EQUAL(a.ns, cases[i].ns);
		CU_ASSERT_EQUAL(filaddr_format(str, &a, 'f'),
				strlen(cases[i].s));
		CU_ASSERT_STRING_EQUAL(str, cases[i].s);
		check_roundtrip(cases[i].s, &a);
	}
	{
		struct filaddr a;

		CU_ASSERT_EQUAL(filaddr_init_delegated(&a, (uint64_t)INT64_MAX
						       + 1, NULL, 0),
				EFS_EINVAL);
		CU_ASSERT_EQUAL(filaddr_init_delegated(&a, 10, zero54, 55),
				EFS_EINVAL);
	}
}

/* iso-filecoin 7.4.7: fromEthAddress(eth, 'mainnet'|'testnet'). */
static void test_filaddr__eth(void)
{
	static const struct {
		const char *eth;
		const char *s;
		const char *bytes;
	} cases[] = {
		{ "d388ab098ed3e84c0d808776440b48f685198498",
		  "f410f2oekwcmo2pueydmaq53eic2i62crtbeyuzx2gmy",
		  "040ad388ab098ed3e84c0d808776440b48f685198498" },
		{ "0000000000000000000000000000000000000000",
		  "f410faaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaonc6iji",
		  "040a0000000000000000000000000000000000000000" },
		{ "ffffffffffffffffffffffffffffffffffffffff",
		  "t410f77777777777777777777777777777777dligzoq",
		  "040affffffffffffffffffffffffffffffffffffffff" },
		{ "52963ef50e27e06d72d59fcb4f3c2a687be3cfef",
		  "t410fkkld55ioe7qg24wvt7fu6pbknb56ht7pt4zamxa",
		  "040a52963ef50e27e06d72d59fcb4f3c2a687be3cfef" },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		uint8_t eth[20], want[32], got[FILADDR_BYTES_MAX];
		char str[FILADDR_STR_MAX];
		struct filaddr a;
		long wn = harness_unhex(want, sizeof(want), cases[i].bytes);

		CU_ASSERT_EQUAL_FATAL(harness_unhex(eth, sizeof(eth),
						    cases[i].eth), 20);
		CU_ASSERT_EQUAL_FATAL(filaddr_init_delegated(&a,
				FILADDR_NS_EAM, eth, 20), 0);
		filaddr_format(str, &a, cases[i].s[0]);
		CU_ASSERT_STRING_EQUAL(str, cases[i].s);
		CU_ASSERT_EQUAL(filaddr_to_bytes(got, &a), (size_t)wn);
		CU_ASSERT(!memcmp(got, want, (size_t)wn));
		check_roundtrip(cases[i].s, &a);
	}
}

static void expect_bad_string(const char *s, size_t len)
{
	struct filaddr a;

	CU_ASSERT_EQUAL(filaddr_parse(&a, NULL, s, len), EFS_EINVAL);
	CU_ASSERT(efs_error_msg()[0] != '\0');
}

/* go-address TestInvalidStringAddresses, TestTrailingBits, TestIDMax. */
static void test_filaddr__bad_strings(void)
{
	static const char *const bad[] = {
		"Q2gfvuyh7v2sx3patm5k23wdzmhyhtmqctasbr23y", /* network */
		"t5gfvuyh7v2sx3patm5k23wdzmhyhtmqctasbr23y", /* protocol */
		"t2gfvuyh7v2sx3patm5k23wdzmhyhtmqctasbr24y", /* checksum */
		"t0banananananannnnnnnnn",                   /* id length */
		"t0banananananannnnnnn",                     /* id payload */
		"t2gfvuyh7v2sx3patm1k23wdzmhyhtmqctasbr24y", /* '1' */
		"t2gfvuyh7v2sx3paTm1k23wdzmhyhtmqctasbr24y", /* 'T' */
		"t2", "t1234q", "t", "t0", "",
		"t0aaaaaaaaaaaaaaaaaaa", "t0aaaaaaaaaaaaaaaaaaaa",
		/* TestTrailingBits: non-zero bits after the last byte */
		"f1xpbyy4tkdx5si2bgo37dubc2xwv6fum5tk57mid",
		/* TestIDMax: 2^63 */
		"t09223372036854775808",
		/* upper case, signs, spaces, padding */
		"T01", "F01", "f0-1", "f0+1", "f0 1", "f01 ",
		"F15IHQ5IBZWKI2B4EP2F46AVLKRQZHPQGTGA7PDRQ",
		"f15IHQ5IBZWKI2B4EP2F46AVLKRQZHPQGTGA7PDRQ",
		"f15ihq5ibzwki2b4ep2f46avlkrqzhpqgtga7pdrq=",
		"f15ihq5ibzwki2b4ep2f46avlkrqzhpqgtga7pdr",
		"f15ihq5ibzwki2b4ep2f46avlkrqzhpqgtga7pdrqa",
		/* f4: no 'f', bad namespace, bad checksum, 55-byte sub */
		"f432", "f4f77777777x32lpna", "f4-1f77777777x32lpna",
		"f432f77777777x32lpnb", "f433f77777777x32lpna",
		"f410F2oekwcmo2pueydmaq53eic2i62crtbeyuzx2gmy",
		"f49223372036854775808fiic6zsy",
	};

	for (size_t i = 0; i < N_ELEMS(bad); i++)
		expect_bad_string(bad[i], strlen(bad[i]));
	{
		/* over MaxAddressStringLength */
		char s[FILADDR_STR_LEN_MAX + 2];

		memset(s, 'a', sizeof(s));
		expect_bad_string(s, sizeof(s) - 1);
		/* a NUL inside */
		expect_bad_string("f0\0001", 4);
	}
}

/* go-address TestInvalidStringAddresses: "t1" + base32("aaa...") etc. */
static void test_filaddr__bad_lengths(void)
{
	static const struct {
		char proto;
		size_t n;
	} cases[] = {
		{ '1', 24 }, { '1', 25 }, { '1', 23 },
		{ '2', 24 }, { '2', 25 }, { '2', 23 },
		{ '3', 52 }, { '3', 53 }, { '3', 51 },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		uint8_t raw[64];
		char s[FILADDR_STR_MAX];
		long n;

		memset(raw, 'a', sizeof(raw));
		s[0] = 't';
		s[1] = cases[i].proto;
		n = mbase_base32_encode(s + 2, sizeof(s) - 2, raw, cases[i].n);
		CU_ASSERT_FATAL(n > 0);
		expect_bad_string(s, (size_t)n + 2);
	}
}

/* go-address TestInvalidByteAddresses, TestIDEdgeCase, TestIDMax. */
static void test_filaddr__bad_bytes(void)
{
	static const struct {
		const char *hex;
	} cases[] = {
		{ "" },
		{ "050404" },
		{ "00" },
		{ "0080" },
		{ "00ffffffffffffffffff01" },     /* 2^64 */
		{ "0080808080808080808001" },     /* 2^63, 10 bytes */
		{ "000100" },                     /* trailing byte */
		{ "008000" },                     /* non-minimal */
		/* f1, f2: 19 and 21 bytes; f3: 47 and 33 bytes */
		{ "01" "00000000000000000000000000000000000000" },
		{ "01" "000000000000000000000000000000000000000000" },
		{ "02" "00000000000000000000000000000000000000" },
		{ "02" "000000000000000000000000000000000000000000" },
		{ "03" "00000000000000000000000000000000000000000000000000"
		  "00000000000000000000000000000000000000000000" },
		{ "03" "00000000000000000000000000000000000000000000000000"
		  "0000000000000000" },
		{ "0400" "00000000000000000000000000000000000000000000000000"
		  "000000000000000000000000000000000000000000000000000000000000" },
		{ "04ff" },
		{ "0480" },
		{ "06" "00" },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		uint8_t b[128];
		long n = harness_unhex(b, sizeof(b), cases[i].hex);
		struct filaddr a;

		CU_ASSERT_FATAL(n >= 0);
		CU_ASSERT_EQUAL(filaddr_from_bytes(&a, b, (size_t)n),
				EFS_ECORRUPT);
	}
}

/* Every proper prefix of a valid byte form or string fails cleanly. */
static void test_filaddr__truncated(void)
{
	static const char *const addrs[] = {
		"t01729", "t15ihq5ibzwki2b4ep2f46avlkrqzhpqgtga7pdrq",
		"t24vg6ut43yw2h2jqydgbg2xq7x6f4kub3bg6as6i",
		"t3vvmn62lofvhjd2ugzca6sof2j2ubwok6cj4xxbfzz4yuxfkgobpihhd2thla"
		"nmsh3w2ptld2gqkn2jvlss4a",
		"f410f2oekwcmo2pueydmaq53eic2i62crtbeyuzx2gmy",
		"f09223372036854775807",
	};

	for (size_t i = 0; i < N_ELEMS(addrs); i++) {
		struct filaddr a, b;
		uint8_t bytes[FILADDR_BYTES_MAX];
		size_t len = strlen(addrs[i]);
		size_t n;

		CU_ASSERT_EQUAL_FATAL(filaddr_parse(&a, NULL, addrs[i], len),
				      0);
		n = filaddr_to_bytes(bytes, &a);
		for (size_t k = 0; k < n; k++) {
			int rc = filaddr_from_bytes(&b, bytes, k);

			/* f4's namespace varint alone is a valid address */
			bool ok = a.protocol == FILADDR_DELEGATED && k >= 2;

			CU_ASSERT_EQUAL(rc, ok ? 0 : EFS_ECORRUPT);
		}
		/* f0 prefixes are shorter IDs; the others must fail */
		if (a.protocol == FILADDR_ID)
			continue;
		for (size_t k = 0; k < len; k++)
			CU_ASSERT_EQUAL(filaddr_parse(&b, NULL, addrs[i], k),
					EFS_EINVAL);
	}
}

/* Leading zeros are accepted, as strconv.ParseUint does. */
static void test_filaddr__leading_zeros(void)
{
	struct filaddr a, b;
	char str[FILADDR_STR_MAX];

	CU_ASSERT_EQUAL_FATAL(filaddr_parse(&a, NULL, "f00042", 6), 0);
	filaddr_init_id(&b, 42);
	CU_ASSERT(filaddr_equal(&a, &b));
	filaddr_format(str, &a, 'f');
	CU_ASSERT_STRING_EQUAL(str, "f042");
}

static void test_filaddr__random(void)
{
	uint64_t x = 0x5eed;

	for (int i = 0; i < 2000; i++) {
		uint8_t data[FILADDR_SUBADDR_MAX];
		uint64_t r = harness_rand64(&x);
		size_t len = (size_t)(r % (FILADDR_SUBADDR_MAX + 1));
		char str[FILADDR_STR_MAX];
		struct filaddr a;

		harness_fill_random(data, sizeof(data), r);
		switch (r % 4) {
		case 0:
			filaddr_init_id(&a, harness_rand64(&x) >> (r % 63 + 1));
			break;
		case 1:
			filaddr_init_actor(&a, data, len);
			break;
		case 2:
			CU_ASSERT_EQUAL_FATAL(filaddr_init_bls(&a, data, 48),
					      0);
			break;
		default:
			CU_ASSERT_EQUAL_FATAL(filaddr_init_delegated(&a,
				harness_rand64(&x) >> (r % 63 + 1), data, len),
				0);
			break;
		}
		CU_ASSERT(filaddr_format(str, &a, (r & 16) ? 'f' : 't') <
			  FILADDR_STR_MAX);
		check_roundtrip(str, &a);
	}
}

static void test_filaddr__random_js(void)
{
	struct buf file = BUF_INIT(BUF_NOCAP);
	int count = 0;

	CU_ASSERT_EQUAL_FATAL(harness_read_data(&file,
				"filecoin/addresses.txt"), 0);
	for (int i = 0;; i++) {
		uint8_t bytes[FILADDR_BYTES_MAX], got[FILADDR_BYTES_MAX];
		char str[FILADDR_STR_MAX + 1], out[FILADDR_STR_MAX];
		char name[32];
		struct filaddr a, b;
		long n, sn;
		char net;

		snprintf(name, sizeof(name), "raddr-%d", i);
		n = harness_vector_hex(bytes, sizeof(bytes), &file, name);
		if (n < 0)
			break;
		snprintf(name, sizeof(name), "raddrstr-%d", i);
		sn = harness_vector_hex((uint8_t *)str, FILADDR_STR_MAX, &file,
					name);
		CU_ASSERT_FATAL(sn > 0);
		str[sn] = '\0';
		CU_ASSERT_EQUAL_FATAL(filaddr_from_bytes(&a, bytes, (size_t)n),
				      0);
		CU_ASSERT_EQUAL_FATAL(filaddr_parse(&b, &net, str, (size_t)sn),
				      0);
		CU_ASSERT(filaddr_equal(&a, &b));
		CU_ASSERT_EQUAL(filaddr_to_bytes(got, &b), (size_t)n);
		CU_ASSERT(!memcmp(got, bytes, (size_t)n));
		filaddr_format(out, &a, net);
		CU_ASSERT_STRING_EQUAL(out, str);
		count++;
	}
	CU_ASSERT(count >= 40);
	buf_release(&file);
}

static CU_TestInfo filaddr_tests[] = {
	{ "id", test_filaddr__id },
	{ "secp256k1", test_filaddr__secp256k1 },
	{ "actor", test_filaddr__actor },
	{ "bls", test_filaddr__bls },
	{ "delegated", test_filaddr__delegated },
	{ "eth", test_filaddr__eth },
	{ "bad_strings", test_filaddr__bad_strings },
	{ "bad_lengths", test_filaddr__bad_lengths },
	{ "bad_bytes", test_filaddr__bad_bytes },
	{ "truncated", test_filaddr__truncated },
	{ "leading_zeros", test_filaddr__leading_zeros },
	{ "random", test_filaddr__random },
	{ "random_js", test_filaddr__random_js },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "filaddr", .pTests = filaddr_tests })
