/*
 * test_deals.c - the deal records: insert and read back every field,
 * state changes with their history, lookups by ID, UUID and both
 * proposal CIDs, replication counts with the renewal window, the
 * per-miner exclusion, deals by piece CID, due checks, a duplicate UUID, reopening, and the
 * read-only open the CLI uses.
 */
#include "dealer/deals.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/mhash.h"
#include "tests/harness.h"

static char *dir, path[4096];

static int setup(void)
{
	if (!(dir = harness_tmpdir()))
		return 1;
	snprintf(path, sizeof(path), "%s/index.db", dir);
	return 0;
}

static int teardown(void)
{
	harness_tmpdir_free(dir);
	return 0;
}

static void make(struct deal *d, int64_t piece, uint8_t tag, const char *miner,
		 enum deal_state s, int64_t end)
{
	uint8_t data[4] = { tag, 1, 2, 3 };

	memset(d, 0, sizeof(*d));
	memset(d->uuid, tag, DEAL_UUID_LEN);
	d->piece_id = piece;
	CU_ASSERT_EQUAL(cid_parse(&d->piece_cid,
		"baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq"), 0);
	d->padded = 1 << 20;
	CU_ASSERT_EQUAL(filaddr_parse(&d->miner, NULL, miner, strlen(miner)), 0);
	snprintf(d->proto, sizeof(d->proto), "mk12");
	d->state = s;
	d->verified = true;
	bigint_from_u64(&d->price, 1234);
	bigint_from_u64(&d->collateral, 99);
	d->start_epoch = 100;
	d->end_epoch = end;
	CU_ASSERT_EQUAL(cid_hash(&d->proposal_cid, 1, 0x71, MHASH_SHA2_256, data,
				 sizeof(data)), 0);
	data[1] = 9;
	CU_ASSERT_EQUAL(cid_hash(&d->signed_cid, 1, 0x71, MHASH_SHA2_256, data,
				 sizeof(data)), 0);
	buf_init(&d->proposal, BUF_NOCAP);
	CU_ASSERT_EQUAL(buf_add(&d->proposal, "\xa2\x01\x02", 3), 0);
	d->deal_id = -1;
	d->sector_start = -1;
	d->slash_epoch = -1;
	d->created = 1000;
	d->next_check = 1010;
}

struct seen {
	int n;
	enum deal_state last;
};

static int count_cb(const struct deal *d, void *cls)
{
	struct seen *s = cls;

	s->n++;
	s->last = d->state;
	return 0;
}

static int event_cb(int64_t time, enum deal_state st, const char *detail,
		    void *cls)
{
	struct seen *s = cls;

	s->n++;
	s->last = st;
	return 0;
}

static void test_deals__lifecycle(void)
{
	struct deals *ds;
	struct deal d, got;
	char uuid[MK12_UUID_STR_MAX], key[CID_STR_MAX];
	struct seen s = { 0 };
	unsigned counting, active;
	bool has;

	CU_ASSERT_EQUAL_FATAL(deals_open(&ds, path), 0);
	make(&d, 7, 0xa1, "f01000", DEAL_PROPOSING, 5000);
	CU_ASSERT_EQUAL(deals_insert(ds, &d), 0);
	CU_ASSERT(d.id > 0);
	CU_ASSERT_EQUAL(deals_insert(ds, &d), EFS_EEXISTS);

	CU_ASSERT_EQUAL(deals_get(&got, ds, d.id), 0);
	CU_ASSERT(memcmp(got.uuid, d.uuid, DEAL_UUID_LEN) == 0);
	CU_ASSERT(cid_equal(&got.piece_cid, &d.piece_cid));
	CU_ASSERT(cid_equal(&got.proposal_cid, &d.proposal_cid));
	CU_ASSERT(cid_equal(&got.signed_cid, &d.signed_cid));
	CU_ASSERT(filaddr_equal(&got.miner, &d.miner));
	CU_ASSERT_EQUAL(bigint_cmp(&got.price, &d.price), 0);
	CU_ASSERT_EQUAL(got.proposal.len, 3);
	CU_ASSERT_EQUAL(got.state, DEAL_PROPOSING);
	CU_ASSERT_EQUAL(got.deal_id, -1);
	deals_release(&got);

	CU_ASSERT_EQUAL(deals_set_state(ds, d.id, DEAL_ACCEPTED, NULL, 1020,
					1011), 0);
	CU_ASSERT_EQUAL(deals_set_state(ds, d.id, DEAL_ACCEPTED, NULL, 1030,
					1021), 0);
	CU_ASSERT_EQUAL(deals_set_chain(ds, d.id, 42, -1, -1,
					"{\"State\":{}}", 1022), 0);
	CU_ASSERT_EQUAL(deals_set_state(ds, d.id, DEAL_PUBLISHED, "on chain",
					1040, 1022), 0);
	CU_ASSERT_EQUAL(deals_set_chain(ds, d.id, 42, 150, -1, NULL, 1023), 0);
	CU_ASSERT_EQUAL(deals_set_state(ds, d.id, DEAL_ACTIVE, NULL, 2000,
					1023), 0);
	CU_ASSERT_EQUAL(deals_set_state(ds, 9999, DEAL_ACTIVE, NULL, 0, 0),
			EFS_ENOTFOUND);

	/* history: proposing, accepted, published, active (no repeat) */
	CU_ASSERT_EQUAL(deals_events(ds, d.id, event_cb, &s), 0);
	CU_ASSERT_EQUAL(s.n, 4);
	CU_ASSERT_EQUAL(s.last, DEAL_ACTIVE);

	/* lookups */
	CU_ASSERT_EQUAL(deals_find(&got, ds, "42"), 0);
	CU_ASSERT_EQUAL(got.id, d.id);
	CU_ASSERT_EQUAL(got.sector_start, 150);
	CU_ASSERT_STRING_EQUAL(got.chain_json, "{\"State\":{}}");
	deals_release(&got);
	mk12_uuid_format(uuid, d.uuid);
	CU_ASSERT_STRING_EQUAL(uuid, "a1a1a1a1-a1a1-a1a1-a1a1-a1a1a1a1a1a1");
	CU_ASSERT_EQUAL(deals_find(&got, ds, uuid), 0);
	deals_release(&got);
	CU_ASSERT_EQUAL(deals_find(&got, ds, cid_tostr(key, &d.proposal_cid)),
			0);
	deals_release(&got);
	CU_ASSERT_EQUAL(deals_find(&got, ds, cid_tostr(key, &d.signed_cid)),
			0);
	deals_release(&got);
	CU_ASSERT_EQUAL(deals_find(&got, ds, "43"), EFS_ENOTFOUND);
	CU_ASSERT_EQUAL(deals_find(&got, ds, "what"), EFS_EINVAL);

	/* counts: active until the renewal window reaches its end */
	CU_ASSERT_EQUAL(deals_count(&counting, &active, ds, 7, 1000, 100), 0);
	CU_ASSERT_EQUAL(counting, 1);
	CU_ASSERT_EQUAL(active, 1);
	CU_ASSERT_EQUAL(deals_count(&counting, &active, ds, 7, 4950, 100), 0);
	CU_ASSERT_EQUAL(counting, 0);

	CU_ASSERT_EQUAL(deals_miner_has(&has, ds, 7, &d.miner, 0), 0);
	CU_ASSERT(has);
	CU_ASSERT_EQUAL(deals_miner_has(&has, ds, 8, &d.miner, 0), 0);
	CU_ASSERT_FALSE(has);
	deals_release(&d);

	/* a rejected deal keeps its miner out only for a while */
	make(&d, 7, 0xb2, "f01001", DEAL_PROPOSING, 5000);
	CU_ASSERT_EQUAL(deals_insert(ds, &d), 0);
	CU_ASSERT_EQUAL(deals_set_state(ds, d.id, DEAL_REJECTED, "no", 0,
					1500), 0);
	CU_ASSERT_EQUAL(deals_miner_has(&has, ds, 7, &d.miner, 1400), 0);
	CU_ASSERT(has);
	CU_ASSERT_EQUAL(deals_miner_has(&has, ds, 7, &d.miner, 1600), 0);
	CU_ASSERT_FALSE(has);
	deals_release(&d);

	s.n = 0;
	CU_ASSERT_EQUAL(deals_foreach(ds, 7, false, count_cb, &s), 0);
	CU_ASSERT_EQUAL(s.n, 2);
	s.n = 0;
	CU_ASSERT_EQUAL(deals_foreach(ds, 7, true, count_cb, &s), 0);
	CU_ASSERT_EQUAL(s.n, 1);
	/* by piece CID and state: what retrieval asks (d was released) */
	make(&d, 7, 0xc3, "f01002", DEAL_PROPOSING, 5000);
	s.n = 0;
	CU_ASSERT_EQUAL(deals_foreach_piece_cid(ds, &d.piece_cid, DEAL_ACTIVE,
						count_cb, &s), 0);
	CU_ASSERT_EQUAL(s.n, 1);
	CU_ASSERT_EQUAL(s.last, DEAL_ACTIVE);
	s.n = 0;
	CU_ASSERT_EQUAL(deals_foreach_piece_cid(ds, &d.piece_cid,
						DEAL_REJECTED, count_cb, &s),
			0);
	CU_ASSERT_EQUAL(s.n, 1);
	s.n = 0;
	CU_ASSERT_EQUAL(deals_foreach_piece_cid(ds, &d.proposal_cid,
						DEAL_ACTIVE, count_cb, &s), 0);
	CU_ASSERT_EQUAL(s.n, 0);
	/* every state in one read: by state, so the rejected one last */
	s.n = 0;
	CU_ASSERT_EQUAL(deals_foreach_piece_cid_any(ds, &d.piece_cid,
						    count_cb, &s), 0);
	CU_ASSERT_EQUAL(s.n, 2);
	CU_ASSERT_EQUAL(s.last, DEAL_REJECTED);
	s.n = 0;
	CU_ASSERT_EQUAL(deals_foreach_piece_cid_any(ds, &d.proposal_cid,
						    count_cb, &s), 0);
	CU_ASSERT_EQUAL(s.n, 0);
	deals_release(&d);
	s.n = 0;
	CU_ASSERT_EQUAL(deals_foreach_due(ds, 1999, 10, count_cb, &s), 0);
	CU_ASSERT_EQUAL(s.n, 0);
	CU_ASSERT_EQUAL(deals_foreach_due(ds, 2000, 10, count_cb, &s), 0);
	CU_ASSERT_EQUAL(s.n, 1);
	CU_ASSERT_EQUAL(deals_check_failed(ds, 1, "sp down", 3000, 2000), 0);
	s.n = 0;
	CU_ASSERT_EQUAL(deals_foreach_due(ds, 2000, 10, count_cb, &s), 0);
	CU_ASSERT_EQUAL(s.n, 0);
	deals_close(ds);

	/* reopened, and read-only */
	CU_ASSERT_EQUAL_FATAL(deals_open_ro(&ds, path), 0);
	CU_ASSERT_EQUAL(deals_get(&got, ds, 1), 0);
	CU_ASSERT_EQUAL(got.attempts, 1);
	CU_ASSERT_STRING_EQUAL(got.reason, "sp down");
	deals_release(&got);
	deals_close(ds);
}

static void test_deals__ro_fresh(void)
{
	struct deals *ds;
	char p[4200];

	snprintf(p, sizeof(p), "%s/other.db", dir);
	CU_ASSERT_EQUAL(deals_open(&ds, p), 0);
	deals_close(ds);
	snprintf(p, sizeof(p), "%s/none.db", dir);
	CU_ASSERT_NOT_EQUAL(deals_open_ro(&ds, p), 0);
}

static void test_deals__uuid(void)
{
	uint8_t u[DEAL_UUID_LEN];
	char s[MK12_UUID_STR_MAX];

	CU_ASSERT_EQUAL(deals_uuid_parse(u,
		"0123ABCD-4567-89ab-cdef-0123456789ab"), 0);
	mk12_uuid_format(s, u);
	CU_ASSERT_STRING_EQUAL(s, "0123abcd-4567-89ab-cdef-0123456789ab");
	CU_ASSERT_EQUAL(deals_uuid_parse(u, "0123abcd456789abcdef0123456789ab"),
			0);
	CU_ASSERT_EQUAL(deals_uuid_parse(u, "0123abcd-4567"), EFS_EINVAL);
	CU_ASSERT_EQUAL(deals_uuid_parse(u,
		"0123abcd-4567-89ab-cdef-0123456789abcd"), EFS_EINVAL);
	CU_ASSERT_EQUAL(deals_uuid_parse(u,
		"0123abcg-4567-89ab-cdef-0123456789ab"), EFS_EINVAL);
	CU_ASSERT_EQUAL(deals_uuid_parse(u,
		"0123abc-d4567-89ab-cdef-0123456789ab"), EFS_EINVAL);
}

static CU_TestInfo tests[] = {
	{ "lifecycle", test_deals__lifecycle },
	{ "ro_fresh", test_deals__ro_fresh },
	{ "uuid", test_deals__uuid },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "deals", .pInitFunc = setup,
	       .pCleanupFunc = teardown, .pTests = tests })
