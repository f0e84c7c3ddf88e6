/*
 * test_sp_aggregate.c - an FRC-0058 aggregate deal on the simulated SPs,
 * as on Curio: three small CARs laid out by core/datasegment in one
 * piece (an 8 MiB deal for an SP asking 8 MiB pieces), the payload built
 * span by span as a dealer streams it; the deal is accepted (the SP's
 * CommP of the payload is the aggregate's), sealed, and each sub-CAR's
 * root is served over /ipfs (a CAR that reads back) and found in IPNI.
 * Also: an SP with a minimum piece size refuses the lone CAR; a
 * sub-piece whose bytes do not match its index entry is not indexed,
 * the others are; the program's --min-piece and Devnet.SetFault's
 * min_piece set the SPs' asks.
 */
#include "tests/devnet/spfx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/car.h"
#include "core/datasegment.h"
#include "core/error.h"
#include "tests/devnet/devnet_util.h"
#include "tests/harness.h"

#define NSUB	  3
#define DEAL_8MIB ((uint64_t)8 << 20)

static struct spfx_car cars[NSUB];
static const size_t sizes[NSUB] = {3000, 40000, 200};

static int setup(void)
{
	if (spfx_open(2) < 0) {
		fprintf(stderr, "setup: %s\n", efs_error_msg());
		return 1;
	}
	for (size_t i = 0; i < NSUB; i++)
		if (spfx_car_make(&cars[i], 10 + i, sizes[i]) < 0)
			return 1;
	return 0;
}

static int teardown(void)
{
	for (size_t i = 0; i < NSUB; i++)
		spfx_car_release(&cars[i]);
	spfx_close();
	return 0;
}

/*
 * The aggregate of the cars in order order[] in a deal of deal bytes (0:
 * the smallest), as an spfx_car the fixture can deal: its payload, the
 * aggregate's piece, the first CAR's root as the label.
 */
static void aggregate_make(struct spfx_car *out, struct datasegment_layout *l,
			   const size_t order[NSUB], uint64_t deal)
{
	struct commp_piece subs[NSUB];
	struct buf index = BUF_INIT(BUF_NOCAP);
	uint64_t pos = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < NSUB; i++)
		subs[i] = cars[order[i]].piece;
	CU_ASSERT_FATAL(datasegment_layout_init(l, subs, NSUB, deal) == 0);
	CU_ASSERT_FATAL(datasegment_index_bytes(&index, l) == 0);
	buf_init(&out->bytes, BUF_NOCAP);
	CU_ASSERT_FATAL(buf_grow(&out->bytes, l->piece.unpadded_size) == 0);
	while (pos < l->piece.unpadded_size) {
		struct datasegment_span sp;
		uint8_t *dst = out->bytes.ptr + pos;

		CU_ASSERT_FATAL(datasegment_payload_span(&sp, l, pos) == 0);
		if (sp.kind == DATASEGMENT_SPAN_PIECE)
			memcpy(dst, cars[order[sp.piece]].bytes.ptr + sp.offset,
			       sp.len);
		else if (sp.kind == DATASEGMENT_SPAN_INDEX)
			memcpy(dst, index.ptr + sp.offset, sp.len);
		else
			memset(dst, 0, sp.len);
		pos += sp.len;
	}
	out->bytes.len = pos;
	out->root = cars[order[0]].root;
	out->piece = l->piece;
	commp_cid_v1(&out->piece_v1, &l->piece);
	commp_cid_v2(&out->piece_v2, &l->piece);
	buf_release(&index);
}

/* GET path on miner i: status, body into r. */
static void sp_get(struct spfx_resp *r, size_t miner, const char *path)
{
	char url[1024];

	snprintf(url, sizeof(url), "%s%s", spfx_sp_url(miner), path);
	CU_ASSERT_FATAL(spfx_request(r, "GET", url, NULL, NULL, 0) == 0);
}

/* Sections in a CAR (each block hashed); -1 when it does not read. */
static long car_count(const uint8_t *p, size_t len, const struct cid *root)
{
	struct car_reader *r;
	struct car_block b;
	const struct cid *roots;
	size_t nroots;
	long n = 0;
	int rc;

	if (car_reader_open_mem(&r, p, len) < 0)
		return -1;
	roots = car_reader_roots(r, &nroots);
	if (nroots != 1 || !cid_equal(&roots[0], root))
		n = -1;
	while (n >= 0 && (rc = car_reader_next(r, &b)) == 0)
		n++;
	car_reader_free(r);
	return n >= 0 && rc == EFS_ITEROVER ? n : -1;
}

/* Whether miner serves car's DAG in full over /ipfs and IPNI lists it
 * among the providers of its root. */
static bool served(const struct spfx_car *car, size_t miner)
{
	char cs[CID_STR_MAX], path[CID_STR_MAX + 64], url[1024];
	struct spfx_resp r;
	const char *id;
	long got, want;
	json_t *j, *prs;
	bool ok;

	cid_tostr(cs, &car->root);
	snprintf(path, sizeof(path), "/ipfs/%s?format=car&dups=n", cs);
	sp_get(&r, miner, path);
	want = car_count(car->bytes.ptr, car->bytes.len, &car->root);
	got = r.status == 200 ? car_count(r.body.ptr, r.body.len, &car->root)
			      : -1;
	ok = got > 0 && got == want;
	spfx_resp_release(&r);
	if (!ok)
		return false;

	snprintf(url, sizeof(url), "%s/cid/%s", spfx_ipni_url(), cs);
	CU_ASSERT_FATAL(spfx_request(&r, "GET", url, NULL, NULL, 0) == 0);
	j = r.status == 200
		? json_loadb((const char *)r.body.ptr, r.body.len, 0, NULL)
		: NULL;
	prs = json_object_get(
	    json_array_get(json_object_get(j, "MultihashResults"), 0),
	    "ProviderResults");
	ok = false;
	for (size_t i = 0; i < json_array_size(prs); i++) {
		id = json_string_value(json_object_get(
		    json_object_get(json_array_get(prs, i), "Provider"), "ID"));
		ok = ok || (id && !strcmp(id, spfx_miner(miner)->peer_id));
	}
	json_decref(j);
	spfx_resp_release(&r);
	return ok;
}

/*
 * spfx_deal at price attoFIL per epoch (spfx_params offers about 1e5,
 * under miner 0's ask for 8 MiB: 2e7 per GiB, 156250).
 */
static int deal_priced(uint64_t *deal_id, size_t miner,
		       const struct spfx_car *car, uint64_t price)
{
	struct mk12_status_response st;
	struct mk12_deal_params dp;
	char msg[512];
	bool ok = false;
	int rc;

	*deal_id = 0;
	if ((rc = spfx_params(&dp, miner, car, NULL)) == 0) {
		bigint_from_u64(&dp.proposal.proposal.price_per_epoch, price);
		rc = spfx_sign(&dp, spfx_client());
	}
	if (rc == 0)
		rc = spfx_propose(&ok, msg, sizeof(msg), miner, &dp);
	if (rc == 0 && !ok) {
		fprintf(stderr, "deal rejected: %s\n", msg);
		rc = EFS_EINVAL;
	}
	if (rc == 0) {
		rc = spfx_wait_status(&st, miner, dp.uuid, MK12_CURIO_SEALED,
				      20000);
		if (rc == 0 && st.has_status &&
		    !(st.status.error && st.status.error[0]))
			*deal_id = st.status.chain_deal_id;
		else if (rc == 0)
			rc = EFS_EIO;
		mk12_status_response_release(&st);
	}
	mk12_deal_params_release(&dp);
	return rc;
}

/*
 * Miner 0 asks for 8 MiB pieces: the lone CAR is refused, the aggregate
 * of the three in an 8 MiB deal (largest first) is accepted and sealed,
 * and every sub-CAR is retrievable.
 */
static void test_sp_aggregate__deal(void)
{
	static const size_t order[NSUB] = {1, 0, 2};
	struct devnet_fault f = {.min_piece = DEAL_8MIB};
	struct datasegment_layout l;
	struct mk12_deal_params dp;
	struct spfx_car agg;
	char msg[512];
	uint64_t id;
	bool ok;

	spfx_fault(0, &f);
	CU_ASSERT_EQUAL(devnet_min_piece(spfx_devnet(), spfx_miner(0)),
			DEAL_8MIB);
	CU_ASSERT_FATAL(spfx_params(&dp, 0, &cars[0], NULL) == 0);
	CU_ASSERT_FATAL(spfx_propose(&ok, msg, sizeof(msg), 0, &dp) == 0);
	CU_ASSERT(!ok);
	CU_ASSERT_STRING_EQUAL(msg, "internal server error: failed to apply "
				    "filters");
	mk12_deal_params_release(&dp);

	aggregate_make(&agg, &l, order, DEAL_8MIB);
	CU_ASSERT_EQUAL(agg.piece.padded_size, DEAL_8MIB);
	CU_ASSERT_EQUAL(agg.bytes.len, DEAL_8MIB / 128 * 127);
	CU_ASSERT_EQUAL_FATAL(deal_priced(&id, 0, &agg, 200000), 0);
	CU_ASSERT(id > 0);
	for (size_t i = 0; i < NSUB; i++)
		CU_ASSERT(served(&cars[i], 0));
	/* The sub-pieces' proofs hold against the piece on chain. */
	for (size_t i = 0; i < NSUB; i++) {
		struct datasegment_proof p;

		CU_ASSERT_FATAL(datasegment_proof_make(&p, &l, i) == 0);
		CU_ASSERT_EQUAL(datasegment_proof_verify(&p, &agg.piece,
							 &cars[order[i]].piece),
				0);
	}
	datasegment_layout_release(&l);
	buf_release(&agg.bytes);
	spfx_fault(0, NULL);
}

/*
 * The smallest aggregate, with byte `at` of the last sub-piece (cars[1])
 * changed after the index was written (the deal's CommP is of the bytes
 * sent, so the deal goes through), dealt with miner 1.
 */
static void bad_sub_deal(struct datasegment_layout *l, struct spfx_car *agg,
			 uint64_t at)
{
	static const size_t order[NSUB] = {2, 0, 1};
	uint64_t id;

	aggregate_make(agg, l, order, 0);
	agg->bytes.ptr[l->entries[2].offset / 128 * 127 + at] ^= 0x01;
	CU_ASSERT_FATAL(
	    commp_compute(&agg->piece, agg->bytes.ptr, agg->bytes.len) == 0);
	commp_cid_v1(&agg->piece_v1, &agg->piece);
	CU_ASSERT_EQUAL_FATAL(spfx_deal(&id, 1, agg), 0);
}

/* A changed byte in the last sub-piece: the SP indexes the first two
 * only. */
static void test_sp_aggregate__bad_sub(void)
{
	struct datasegment_layout l;
	struct spfx_car agg;

	bad_sub_deal(&l, &agg, 100);
	CU_ASSERT(served(&cars[2], 1));
	CU_ASSERT(served(&cars[0], 1));
	CU_ASSERT(!served(&cars[1], 1));
	datasegment_layout_release(&l);
	buf_release(&agg.bytes);
}

/*
 * The change in the sub-piece's last block: its CAR reads well up to
 * there (the SP hashes the sub-piece as it reads it), yet none of its
 * blocks stay indexed, not even its root, the first.
 */
static void test_sp_aggregate__bad_sub_tail(void)
{
	char cs[CID_STR_MAX], path[CID_STR_MAX + 32];
	struct datasegment_layout l;
	struct spfx_car agg;
	struct spfx_resp r;

	bad_sub_deal(&l, &agg, cars[1].bytes.len - 10);
	CU_ASSERT(served(&cars[0], 1));
	cid_tostr(cs, &cars[1].root);
	snprintf(path, sizeof(path), "/ipfs/%s?format=raw", cs);
	sp_get(&r, 1, path);
	CU_ASSERT_NOT_EQUAL(r.status, 200);
	spfx_resp_release(&r);
	datasegment_layout_release(&l);
	buf_release(&agg.bytes);
}

/* Each miner's MinPieceSize in Devnet.Miners, in order. */
static void miners_min(uint64_t *out, size_t n,
		       const struct devnet_util_proc *p)
{
	char res[16384];
	json_t *j;

	CU_ASSERT_FATAL(
	    devnet_util_rpc(res, sizeof(res), p, "Devnet.Miners", "[]") == 0);
	j = json_loads(res, 0, NULL);
	CU_ASSERT_FATAL(json_array_size(j) == n);
	for (size_t i = 0; i < n; i++)
		out[i] = (uint64_t)json_integer_value(
		    json_object_get(json_array_get(j, i), "MinPieceSize"));
	json_decref(j);
}

/* The program: --min-piece for every SP, then one SP changed alone. */
static void test_sp_aggregate__min_piece_option(void)
{
	static const char *const extra[] = {"--min-piece", "8MiB", NULL};
	struct devnet_util_proc p;
	char state[1024], res[4096];
	char *dir = harness_tmpdir();
	uint64_t min[2];

	if (!getenv("DEVNET_BIN")) {
		fprintf(stderr, "DEVNET_BIN unset: skipped\n");
		harness_tmpdir_free(dir);
		return;
	}
	CU_ASSERT_FATAL(dir != NULL);
	snprintf(state, sizeof(state), "%s/dn", dir);
	CU_ASSERT_FATAL(devnet_util_start(&p, state, "100ms", 2, extra) == 0);
	miners_min(min, 2, &p);
	CU_ASSERT_EQUAL(min[0], DEAL_8MIB);
	CU_ASSERT_EQUAL(min[1], DEAL_8MIB);
	CU_ASSERT_EQUAL(
	    devnet_util_rpc(res, sizeof(res), &p, "Devnet.SetFault",
			    "[\"f01001\", {\"min_piece\": 1048576}]"),
	    0);
	miners_min(min, 2, &p);
	CU_ASSERT_EQUAL(min[0], DEAL_8MIB);
	CU_ASSERT_EQUAL(min[1], 1 << 20);
	/* Not a padded size. */
	CU_ASSERT_EQUAL(devnet_util_rpc(res, sizeof(res), &p, "Devnet.SetFault",
					"[\"f01001\", {\"min_piece\": 3000}]"),
			-1);
	devnet_util_stop(&p, false);
	harness_tmpdir_free(dir);
}

/* What --min-piece and Devnet.SetFault's min_piece accept. */
static void test_sp_aggregate__min_piece_valid(void)
{
	CU_ASSERT(devnet_min_piece_valid(0));
	CU_ASSERT(devnet_min_piece_valid(128));
	CU_ASSERT(devnet_min_piece_valid(DEAL_8MIB));
	CU_ASSERT(devnet_min_piece_valid(DEVNET_MIN_PIECE_MAX));
	CU_ASSERT(!devnet_min_piece_valid(64));
	CU_ASSERT(!devnet_min_piece_valid(3000));
	CU_ASSERT(!devnet_min_piece_valid(DEVNET_MIN_PIECE_MAX * 2));
}

static CU_TestInfo tests[] = {
    {"deal", test_sp_aggregate__deal},
    {"bad_sub", test_sp_aggregate__bad_sub},
    {"bad_sub_tail", test_sp_aggregate__bad_sub_tail},
    {"min_piece_option", test_sp_aggregate__min_piece_option},
    {"min_piece_valid", test_sp_aggregate__min_piece_valid},
    CU_TEST_INFO_NULL,
};

HARNESS_MAIN({"sp_aggregate", setup, teardown, NULL, NULL, tests})
