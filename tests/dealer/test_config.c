/*
 * test_config.c - <repo>/config.json: defaults, every section, the
 * devnet switch, and one-line errors for unknown keys, bad values and
 * broken JSON.
 */
#include "dealer/config.h"

#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#include "core/error.h"
#include "tests/harness.h"

static int parse(struct dealer_config *c, const char *text)
{
	config_release(c);
	config_defaults(c);
	return config_parse(c, text, strlen(text));
}

static void test_config__defaults(void)
{
	struct dealer_config c;
	char *dir = harness_tmpdir();

	CU_ASSERT_FATAL(dir != NULL);
	CU_ASSERT_EQUAL(config_load(&c, dir), 0);
	CU_ASSERT(c.devnet);
	CU_ASSERT(c.enabled);
	CU_ASSERT(c.verified);
	CU_ASSERT_EQUAL(c.replication, 6);
	CU_ASSERT_EQUAL(c.duration, 1051200);
	CU_ASSERT_EQUAL(c.renew_window, 60480);
	CU_ASSERT(c.duration >= CONFIG_DURATION_MIN);
	CU_ASSERT_PTR_NULL(c.lotus_url);
	config_release(&c);
	harness_tmpdir_free(dir);
}

static void test_config__full(void)
{
	struct dealer_config c;
	struct filaddr a;
	char s[BIGINT_STR_MAX];

	config_defaults(&c);
	CU_ASSERT_EQUAL(parse(&c,
		"{\"network\": {\"api_info\": \"tok.en:/ip4/10.0.0.2/tcp/1234/http\","
		" \"miners\": [\"f01000\", \"t01001\"]},"
		" \"dealer\": {\"replication\": 3, \"verified\": false,"
		" \"duration_epochs\": 600000, \"max_price_fil\": \"0.5 FIL\","
		" \"aggregate_below\": \"8MiB\", \"aggregate_target\": \"64M\","
		" \"exclude\": [\"f01002\"], \"aggregate_max_age_s\": 30},"
		" \"http\": {\"listen\": \"127.0.0.1:0\","
		" \"public_url\": \"http://127.0.0.1:9\","
		" \"upload_max\": \"10GiB\"},"
		" \"price\": {\"fil_usd\": \"4.25\"}}"), 0);
	CU_ASSERT_FALSE(c.devnet);
	CU_ASSERT_STRING_EQUAL(c.lotus_url, "http://10.0.0.2:1234/rpc/v1");
	CU_ASSERT_STRING_EQUAL(c.lotus_token, "tok.en");
	CU_ASSERT_EQUAL(c.nminers, 2);
	CU_ASSERT_EQUAL(c.replication, 3);
	CU_ASSERT_FALSE(c.verified);
	CU_ASSERT_EQUAL(c.duration, 600000);
	bigint_format(s, &c.max_price);
	CU_ASSERT_STRING_EQUAL(s, "500000000000000000");
	CU_ASSERT_EQUAL(c.aggregate_below, 8u << 20);
	CU_ASSERT_EQUAL(c.aggregate_target, 64u << 20);
	CU_ASSERT_EQUAL(c.aggregate_max_age, 30);
	filaddr_parse(&a, NULL, "f01002", 6);
	CU_ASSERT(config_excluded(&c, &a));
	filaddr_parse(&a, NULL, "f01000", 6);
	CU_ASSERT_FALSE(config_excluded(&c, &a));
	CU_ASSERT_STRING_EQUAL(c.public_url, "http://127.0.0.1:9");
	CU_ASSERT_EQUAL(c.upload_max, (uint64_t)10 << 30);
	CU_ASSERT_STRING_EQUAL(c.fil_usd, "4.25");
	config_release(&c);
	/* http.upload_max "0": no cap; unset: 0, the API's default */
	config_defaults(&c);
	CU_ASSERT_EQUAL(c.upload_max, 0);
	CU_ASSERT_EQUAL(parse(&c, "{\"http\": {\"upload_max\": \"0\"}}"),
			0);
	CU_ASSERT_EQUAL(c.upload_max, UINT64_MAX);
	config_release(&c);
	config_defaults(&c);
	CU_ASSERT_EQUAL(parse(&c, "{\"http\": {\"upload_max\": \"lots\"}}"),
			EFS_EINVAL);
	config_release(&c);
}

static void test_config__errors(void)
{
	static const struct {
		const char *text;
		int code;
		const char *msg;
	} cases[] = {
		{ "{\"dealer\": {\"replicaton\": 3}}", EFS_EINVAL,
		  "unknown key dealer.replicaton" },
		{ "{\"dealers\": {}}", EFS_EINVAL, "unknown section" },
		{ "{\"dealer\": {\"replication\": 0}}", EFS_EINVAL,
		  "dealer.replication: must be 1 to 64" },
		{ "{\"dealer\": {\"replication\": \"6\"}}", EFS_EINVAL,
		  "whole number" },
		{ "{\"dealer\": {\"max_price_fil\": \"1 milliFIL\"}}",
		  EFS_EINVAL, "dealer.max_price_fil" },
		{ "{\"dealer\": {\"aggregate_below\": \"-1G\"}}", EFS_EINVAL,
		  "size" },
		{ "{\"dealer\": {\"aggregate_below\": \"2G\","
		  " \"aggregate_target\": \"1G\"}}", EFS_EINVAL,
		  "aggregate_target" },
		{ "{\"dealer\": {\"exclude\": [\"nope\"]}}", EFS_EINVAL,
		  "address" },
		{ "{\"network\": {\"lotus\": \"ftp://x\"}}", EFS_EINVAL,
		  "network.lotus" },
		{ "{\"network\": {\"api_info\": \"tok\"}}", EFS_EINVAL,
		  "api_info" },
		{ "{\"dealer\": {\"duration_epochs\": 100,"
		  " \"renew_window_epochs\": 100}}", EFS_EINVAL,
		  "renew_window" },
		{ "{\"dealer\": 5}", EFS_EINVAL, "must be an object" },
		{ "[1]", EFS_ECORRUPT, "must be a JSON object" },
		{ "{\"dealer\": {\n\"enabled\": tru}}", EFS_ECORRUPT,
		  "line 2" },
		{ "{\"a\": 1, \"a\": 2}", EFS_ECORRUPT, "config.json" },
	};
	struct dealer_config c;

	config_defaults(&c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = parse(&c, cases[i].text);

		CU_ASSERT_EQUAL(rc, cases[i].code);
		if (!strstr(efs_error_msg(), cases[i].msg))
			fprintf(stderr, "case %zu: message '%s'\n", i,
				efs_error_msg());
		CU_ASSERT_PTR_NOT_NULL(strstr(efs_error_msg(), cases[i].msg));
	}
	config_release(&c);
}

static void test_config__file(void)
{
	struct dealer_config c;
	char *dir = harness_tmpdir(), path[4096];
	const char *text = "{\"dealer\": {\"enabled\": false}}";

	CU_ASSERT_FATAL(dir != NULL);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	CU_ASSERT_EQUAL(harness_write_file(path, text, strlen(text)), 0);
	CU_ASSERT_EQUAL(config_load(&c, dir), 0);
	CU_ASSERT_FALSE(c.enabled);
	config_release(&c);
	CU_ASSERT_EQUAL(harness_write_file(path, "{", 1), 0);
	CU_ASSERT_EQUAL(config_load(&c, dir), EFS_ECORRUPT);
	config_release(&c);
	harness_tmpdir_free(dir);
}

static int parse_once(void *payload)
{
	struct dealer_config c;
	int rc;

	config_defaults(&c);
	rc = config_parse(&c, payload, strlen(payload));
	config_release(&c);
	return rc;
}

static void test_config__alloc(void)
{
	harness_alloc_loop(parse_once,
		"{\"network\": {\"lotus\": \"http://h/rpc/v1\", \"token\": \"t\","
		" \"miners\": [\"f01000\"]}, \"http\": {\"listen\": \"a\"}}");
}

/* The devnet aggregates small; a configured network and explicit keys
 * keep theirs. */
static void test_config__devnet_aggregation(void)
{
	static const char lotus[] =
		"{\"network\": {\"lotus\": \"http://h/rpc/v1\"}}";
	static const char own[] =
		"{\"dealer\": {\"aggregate_below\": \"2MiB\"}}";
	struct dealer_config c;

	config_defaults(&c);
	CU_ASSERT_EQUAL_FATAL(config_parse(&c, "{}", 2), 0);
	CU_ASSERT_TRUE(c.devnet);
	CU_ASSERT_EQUAL(c.aggregate_below, CONFIG_DEVNET_AGGREGATE_BELOW);
	CU_ASSERT_EQUAL(c.aggregate_target, CONFIG_DEVNET_AGGREGATE_TARGET);
	CU_ASSERT_EQUAL(c.aggregate_max_age, CONFIG_DEVNET_AGGREGATE_AGE);
	config_release(&c);

	config_defaults(&c);
	CU_ASSERT_EQUAL_FATAL(config_parse(&c, lotus, strlen(lotus)), 0);
	CU_ASSERT_FALSE(c.devnet);
	CU_ASSERT_EQUAL(c.aggregate_below, 1ull << 30);
	CU_ASSERT_EQUAL(c.aggregate_max_age, 8 * 3600);
	config_release(&c);

	config_defaults(&c);
	CU_ASSERT_EQUAL_FATAL(config_parse(&c, own, strlen(own)), 0);
	CU_ASSERT_EQUAL(c.aggregate_below, 2u << 20);
	CU_ASSERT_EQUAL(c.aggregate_max_age, CONFIG_DEVNET_AGGREGATE_AGE);
	config_release(&c);
}

/* The cache section: its keys, its defaults (a quarter of the
 * repository's filesystem; the replication) and its errors. */
static void test_config__cache(void)
{
	static const struct {
		const char *text;
		const char *msg;
	} errors[] = {
		{ "{\"cache\": {\"size\": \"lots\"}}", "cache.size" },
		{ "{\"cache\": {\"size\": 0}}", "cache.size" },
		{ "{\"cache\": {\"min_active\": 0}}",
		  "cache.min_active: must be 1 to 64" },
		{ "{\"cache\": {\"min_active\": 7}}",
		  "cache.min_active: must not be above dealer.replication" },
		{ "{\"cache\": {\"interval_s\": -1}}", "cache.interval_s" },
		{ "{\"cache\": {\"sise\": \"1G\"}}", "unknown key cache.sise" },
	};
	static const char full[] =
		"{\"dealer\": {\"replication\": 3},"
		" \"cache\": {\"size\": \"20GiB\", \"min_active\": 2,"
		" \"interval_s\": 5}}";
	struct dealer_config c;
	struct statvfs sv;
	char *dir = harness_tmpdir();

	CU_ASSERT_FATAL(dir != NULL);
	CU_ASSERT_FATAL(statvfs(dir, &sv) == 0);
	CU_ASSERT_EQUAL(config_load(&c, dir), 0);
	CU_ASSERT_EQUAL(c.cache_size, 0);
	CU_ASSERT_EQUAL(config_cache_size(&c, dir),
			(uint64_t)sv.f_blocks * sv.f_frsize / 4);
	CU_ASSERT_EQUAL(config_cache_size(&c, "/nonexistent/repo"),
			CONFIG_CACHE_FALLBACK);
	CU_ASSERT_EQUAL(config_min_active(&c), 6);
	CU_ASSERT_EQUAL(c.cache_interval, 60);
	config_release(&c);

	config_defaults(&c);
	CU_ASSERT_EQUAL_FATAL(config_parse(&c, full, strlen(full)), 0);
	CU_ASSERT_EQUAL(config_cache_size(&c, dir), 20ull << 30);
	CU_ASSERT_EQUAL(config_min_active(&c), 2);
	CU_ASSERT_EQUAL(c.cache_interval, 5);
	CU_ASSERT_EQUAL(parse(&c, "{\"cache\": {\"size\": 4096}}"), 0);
	CU_ASSERT_EQUAL(c.cache_size, 4096);
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		CU_ASSERT_EQUAL(parse(&c, errors[i].text), EFS_EINVAL);
		if (!strstr(efs_error_msg(), errors[i].msg))
			fprintf(stderr, "cache case %zu: message '%s'\n", i,
				efs_error_msg());
		CU_ASSERT_PTR_NOT_NULL(strstr(efs_error_msg(), errors[i].msg));
	}
	config_release(&c);
	harness_tmpdir_free(dir);
}

/* The retrieval section: defaults, values, bad values. */
static void test_config__retrieval(void)
{
	static const char ok[] =
		"{\"retrieval\": {\"timeout_s\": 5, \"readahead\": \"1MiB\","
		" \"ipni\": \"https://cid.contact\"}}";
	static const char *const bad[] = {
		"{\"retrieval\": {\"timeout_s\": 0}}",
		"{\"retrieval\": {\"ipni\": \"ftp://x\"}}",
		"{\"retrieval\": {\"readahead\": \"lots\"}}",
		"{\"retrieval\": {\"speed\": 1}}",
	};
	struct dealer_config c;

	config_defaults(&c);
	CU_ASSERT_EQUAL(c.retrieval_timeout, CONFIG_RETRIEVAL_TIMEOUT);
	CU_ASSERT_EQUAL(c.retrieval_readahead, CONFIG_RETRIEVAL_READAHEAD);
	CU_ASSERT_PTR_NULL(c.ipni_url);
	CU_ASSERT_EQUAL_FATAL(config_parse(&c, ok, strlen(ok)), 0);
	CU_ASSERT_EQUAL(c.retrieval_timeout, 5);
	CU_ASSERT_EQUAL(c.retrieval_readahead, 1u << 20);
	CU_ASSERT_STRING_EQUAL(c.ipni_url, "https://cid.contact");
	config_release(&c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		config_defaults(&c);
		CU_ASSERT_EQUAL(config_parse(&c, bad[i], strlen(bad[i])),
				EFS_EINVAL);
		config_release(&c);
	}
}

/* The pins section: the default, a value, bad values. */
static void test_config__pins(void)
{
	static const char ok[] = "{\"pins\": {\"workers\": 2}}";
	static const char *const bad[] = {
		"{\"pins\": {\"workers\": 0}}",
		"{\"pins\": {\"workers\": 65}}",
		"{\"pins\": {\"workers\": \"4\"}}",
		"{\"pins\": {\"threads\": 4}}",
		"{\"pins\": 4}",
	};
	struct dealer_config c;

	config_defaults(&c);
	CU_ASSERT_EQUAL(c.pins_workers, 4);
	CU_ASSERT_EQUAL_FATAL(config_parse(&c, ok, strlen(ok)), 0);
	CU_ASSERT_EQUAL(c.pins_workers, 2);
	config_release(&c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		config_defaults(&c);
		CU_ASSERT_EQUAL(config_parse(&c, bad[i], strlen(bad[i])),
				EFS_EINVAL);
		config_release(&c);
	}
}

static CU_TestInfo tests[] = {
	{ "retrieval", test_config__retrieval },
	{ "pins", test_config__pins },
	{ "devnet_aggregation", test_config__devnet_aggregation },
	{ "cache", test_config__cache },
	{ "defaults", test_config__defaults },
	{ "full", test_config__full },
	{ "errors", test_config__errors },
	{ "file", test_config__file },
	{ "alloc", test_config__alloc },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "config", .pTests = tests })
