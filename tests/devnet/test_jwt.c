/*
 * test_jwt.c - the devnet's Lotus API tokens: golden tokens, verification
 * of good and forged tokens, permission sets.
 *
 * Golden tokens were made with Node's crypto (createHmac("sha256")) and
 * base64url over the same header and payload JSON Lotus writes, with the
 * secret 00 01 02 ... 1f:
 *
 *	h = b64url('{"alg":"HS256","typ":"JWT"}')
 *	p = b64url('{"Allow":["read",...]}')
 *	token = h + "." + p + "." + b64url(HMAC-SHA256(secret, h + "." + p))
 *
 * The admin payload is the one every Lotus admin token carries
 * (eyJBbGxvdyI6WyJyZWFkIiwid3JpdGUiLCJzaWduIiwiYWRtaW4iXX0).
 */
#include "contrib/devnet/jwt.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/error.h"
#include "core/mbase.h"
#include "tests/harness.h"

static uint8_t secret[JWT_SECRET_LEN];

static const char *const golden[] = {
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJBbGxvdyI6WyJyZWFkIl19."
	"jmK2iZ-Rw1dDlqiNvwTJHcshsajeTJIGR5fCh1k9q6I",
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
	"eyJBbGxvdyI6WyJyZWFkIiwid3JpdGUiXX0."
	"a2dV0UrA0kX6qMxjUfdyJZUwmw8W-rDDjES_OWZDB94",
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
	"eyJBbGxvdyI6WyJyZWFkIiwid3JpdGUiLCJzaWduIl19."
	"TB0KEBFqO5aEqdvMy6ZOPq7_t8sS4m8UcK3nXHNERZk",
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
	"eyJBbGxvdyI6WyJyZWFkIiwid3JpdGUiLCJzaWduIiwiYWRtaW4iXX0."
	"5lRaUKL6YDoISGlo14xwpeeacUF8a9HmOlEQ3ukDj_o",
};

/* alg "none", correctly MACed: must still be refused. */
static const char alg_none[] =
	"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJBbGxvdyI6WyJhZG1pbiJdfQ."
	"1UijLn2UdAMkVFLFCSXM_IVUR2Lx33W2_ow6PLvg_rk";

/* Allow ["read","frobnicate","admin"] and an extra member. */
static const char odd_perms[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
	"eyJBbGxvdyI6WyJyZWFkIiwiZnJvYm5pY2F0ZSIsImFkbWluIl0sIkV4cCI6NX0."
	"dWFP-gcOGVTPU8a3qE3ahgFDakoKwaRpDKVgbpoIj0Y";

static int setup(void)
{
	for (size_t i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)i;
	return 0;
}

static void test_jwt__golden(void)
{
	static const unsigned perms[] = { JWT_READ, JWT_WRITE, JWT_SIGN,
					  JWT_ADMIN };
	char token[JWT_TOKEN_MAX];

	for (size_t i = 0; i < 4; i++) {
		unsigned got = 0;

		CU_ASSERT_EQUAL_FATAL(jwt_make(token, sizeof(token), secret,
					       perms[i]), 0);
		CU_ASSERT_STRING_EQUAL(token, golden[i]);
		CU_ASSERT_EQUAL(jwt_verify(&got, secret, golden[i],
					   strlen(golden[i])), 0);
		/* every permission up to the one asked for */
		CU_ASSERT_EQUAL(got, perms[i] * 2 - 1);
	}
}

static void test_jwt__names(void)
{
	CU_ASSERT_EQUAL(jwt_perm_from_name("read"), JWT_READ);
	CU_ASSERT_EQUAL(jwt_perm_from_name("admin"), JWT_ADMIN);
	CU_ASSERT_EQUAL(jwt_perm_from_name("Admin"), -1);
	CU_ASSERT_EQUAL(jwt_perm_from_name(""), -1);
	CU_ASSERT_STRING_EQUAL(jwt_perm_name(JWT_SIGN), "sign");
	CU_ASSERT_PTR_NULL(jwt_perm_name(JWT_READ | JWT_WRITE));
	CU_ASSERT_EQUAL(jwt_make((char[JWT_TOKEN_MAX]){ 0 }, JWT_TOKEN_MAX,
				 secret, JWT_READ | JWT_ADMIN), EFS_EINVAL);
	CU_ASSERT_EQUAL(jwt_make((char[16]){ 0 }, 16, secret, JWT_ADMIN),
			EFS_ETOOBIG);
}

static void test_jwt__unknown_perms_ignored(void)
{
	unsigned got = 0;

	CU_ASSERT_EQUAL(jwt_verify(&got, secret, odd_perms,
				   strlen(odd_perms)), 0);
	CU_ASSERT_EQUAL(got, JWT_READ | JWT_ADMIN);
}

static void expect_refused(const char *token, size_t len)
{
	unsigned got = 99;

	CU_ASSERT_EQUAL(jwt_verify(&got, secret, token, len), EFS_EINVAL);
	CU_ASSERT_EQUAL(got, 0);
}

static void test_jwt__forged(void)
{
	char t[JWT_TOKEN_MAX + 8];
	const char *admin = golden[3];
	size_t n = strlen(admin);
	uint8_t other[JWT_SECRET_LEN] = { 1 };
	unsigned got;

	expect_refused(alg_none, strlen(alg_none));
	/* another secret */
	CU_ASSERT_EQUAL(jwt_verify(&got, other, admin, n), EFS_EINVAL);
	/* a flipped signature character */
	memcpy(t, admin, n + 1);
	t[n - 3] = t[n - 3] == 'A' ? 'B' : 'A';
	expect_refused(t, n);
	/* the read token's payload with the admin token's signature */
	memcpy(t, golden[0], strlen(golden[0]) + 1);
	memcpy(strrchr(t, '.'), strrchr(admin, '.'),
	       strlen(strrchr(admin, '.')) + 1);
	expect_refused(t, strlen(t));
	/* truncations, including at every dot */
	for (size_t k = 0; k < n; k++)
		expect_refused(admin, k);
	/* two parts, four parts */
	expect_refused("a.b", 3);
	memcpy(t, admin, n);
	memcpy(t + n, ".x", 3);
	expect_refused(t, n + 2);
	/* bad base64url, padding */
	memcpy(t, admin, n + 1);
	t[3] = '+';
	expect_refused(t, n);
	memcpy(t, admin, n);
	memcpy(t + n, "=", 2);
	expect_refused(t, n + 1);
	/* too long */
	memset(t, 'a', sizeof(t));
	expect_refused(t, JWT_TOKEN_MAX + 1);
	expect_refused("", 0);
	expect_refused("..", 2);
}

/* A token over any header and payload text, correctly MACed. */
static void make_token(char *out, size_t cap, const char *header,
		       const char *payload)
{
	uint8_t mac[32];
	unsigned int mlen = 0;
	long n, k;

	n = mbase_base64url_encode(out, cap, (const uint8_t *)header,
				   strlen(header));
	CU_ASSERT_FATAL(n >= 0);
	out[n++] = '.';
	k = mbase_base64url_encode(out + n, cap - (size_t)n,
				   (const uint8_t *)payload, strlen(payload));
	CU_ASSERT_FATAL(k >= 0);
	n += k;
	HMAC(EVP_sha256(), secret, sizeof(secret), (const uint8_t *)out,
	     (size_t)n, mac, &mlen);
	out[n++] = '.';
	CU_ASSERT_FATAL(mbase_base64url_encode(out + n, cap - (size_t)n, mac,
					       mlen) > 0);
}

static void test_jwt__bad_json(void)
{
	static const char hs[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	static const struct {
		const char *header;
		const char *payload;
	} cases[] = {
		{ hs, "[\"read\"]" },
		{ hs, "{\"Allow\":\"admin\"}" },
		{ hs, "{\"Allow\":[1]}" },
		{ hs, "{\"Allow\":[\"admin\"" },
		{ hs, "" },
		{ "{\"alg\":\"HS512\"}", "{\"Allow\":[\"admin\"]}" },
		{ "{\"alg\":5}", "{\"Allow\":[\"admin\"]}" },
		{ "not json", "{\"Allow\":[\"admin\"]}" },
		{ "", "{\"Allow\":[\"admin\"]}" },
	};
	char t[JWT_TOKEN_MAX];
	unsigned got;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		make_token(t, sizeof(t), cases[i].header, cases[i].payload);
		expect_refused(t, strlen(t));
	}
	/* No Allow, or null: a valid token that allows nothing. */
	make_token(t, sizeof(t), hs, "{}");
	CU_ASSERT_EQUAL(jwt_verify(&got, secret, t, strlen(t)), 0);
	CU_ASSERT_EQUAL(got, 0);
	make_token(t, sizeof(t), hs, "{\"Allow\":null}");
	CU_ASSERT_EQUAL(jwt_verify(&got, secret, t, strlen(t)), 0);
	CU_ASSERT_EQUAL(got, 0);
}

static CU_TestInfo jwt_tests[] = {
	{ "bad_json", test_jwt__bad_json },
	{ "golden", test_jwt__golden },
	{ "names", test_jwt__names },
	{ "unknown_perms_ignored", test_jwt__unknown_perms_ignored },
	{ "forged", test_jwt__forged },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "jwt", .pInitFunc = setup, .pTests = jwt_tests })
