/*
 * api_test.h - what the tests of tests/api share: the suite's setup (the
 * HTTP client's global state and a temporary directory, tmp), the count
 * of a root's user pins, and a read and a write API key.
 *
 * Static functions in a header: each test is one .c file that includes
 * it once, and meson builds one executable a test.
 */
#ifndef EFS_TESTS_API_API_TEST_H
#define EFS_TESTS_API_API_TEST_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "api/api_keys.h"
#include "core/bstore.h"
#include "core/cid.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/dagpb.h"
#include "core/mhash.h"
#include "dealer/evict.h"
#include "net/httpc.h"
#include "tests/harness.h"

/* The suite's temporary directory (api_test_suite_setup). */
static char *tmp;

/* CUnit suite setup: libcurl's global state, then tmp; 0 or 1. */
static inline int api_test_suite_setup(void)
{
	if (httpc_global_init() < 0 || !(tmp = harness_tmpdir()))
		return 1;
	return 0;
}

/* CUnit suite teardown: tmp removed. */
static inline int api_test_suite_teardown(void)
{
	harness_tmpdir_free(tmp);
	return 0;
}

struct api_test_pin_count {
	const struct cid *root;
	int n;
};

static inline int api_test_pin_cb(const struct bstore_pin *pin,
				  void *payload)
{
	struct api_test_pin_count *c = payload;

	if (strncmp(pin->name, EVICT_PIN_PREFIX, strlen(EVICT_PIN_PREFIX)) ==
		    0 &&
	    (!c->root || cid_mh_equal(&pin->root, c->root)))
		c->n++;
	return 0;
}

/* The user pins ("user:...", evict_pin's) of root (NULL: of any root)
 * in bs. */
static inline int api_test_user_pins(struct bstore *bs,
				     const struct cid *root)
{
	struct api_test_pin_count c = { root, 0 };

	CU_ASSERT_EQUAL(bstore_pins_foreach(bs, api_test_pin_cb, &c), 0);
	return c.n;
}

/* Leaves of api_test_put_dag's DAG. */
#define API_TEST_NLEAVES 3

/*
 * A dag-pb node over API_TEST_NLEAVES raw leaves ("<prefix> 0", ...),
 * all stored in bs and synced; its CID to root and, as text, root_str.
 */
static inline void api_test_put_dag(struct cid *root,
				    char root_str[CID_STR_MAX],
				    struct bstore *bs, const char *prefix)
{
	struct dagpb_link links[API_TEST_NLEAVES];
	struct dagpb_node node = { .links = links,
				   .nlinks = API_TEST_NLEAVES };
	struct buf block = BUF_INIT(BUF_NOCAP);
	char text[64];

	memset(links, 0, sizeof(links));
	for (int i = 0; i < API_TEST_NLEAVES; i++) {
		snprintf(text, sizeof(text), "%s %d", prefix, i);
		CU_ASSERT_EQUAL(cid_hash(&links[i].cid, 1, CID_CODEC_RAW,
					 MHASH_SHA2_256, text, strlen(text)),
				0);
		CU_ASSERT_EQUAL(bstore_put(bs, &links[i].cid,
					   (const uint8_t *)text, strlen(text)),
				0);
	}
	CU_ASSERT_EQUAL_FATAL(dagpb_encode(&block, &node), 0);
	CU_ASSERT_EQUAL(cid_hash(root, 1, CID_CODEC_DAG_PB, MHASH_SHA2_256,
				 block.ptr, block.len),
			0);
	CU_ASSERT_EQUAL(bstore_put(bs, root, block.ptr, block.len), 0);
	CU_ASSERT_EQUAL(bstore_sync(bs), 0);
	cid_tostr(root_str, root);
	buf_release(&block);
}

/* A read key into rkey and a write key into wkey, in the API keys of
 * the index db (a path). */
static inline void api_test_keys_rw(char rkey[API_KEY_SIZE],
				    char wkey[API_KEY_SIZE], const char *db)
{
	struct api_keys *k;

	CU_ASSERT_EQUAL_FATAL(api_keys_open(&k, db), 0);
	CU_ASSERT_EQUAL(api_keys_create(rkey, NULL, k, API_READ, "r", 0,
					efs_clock_real_ns() / 1000000000),
			0);
	CU_ASSERT_EQUAL(api_keys_create(wkey, NULL, k, API_WRITE, "w", 0,
					efs_clock_real_ns() / 1000000000),
			0);
	api_keys_close(k);
}

#endif
