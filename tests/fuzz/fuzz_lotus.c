/*
 * fuzz_lotus.c - the Lotus client's reply decoders (dealer/lotus_decode.h)
 * over arbitrary bytes, no network: the body is parsed as a reply, then
 * read as a single reply, as a batch reply, as an error object, and its
 * "result" (or the whole value) by every typed decoder.  Whatever
 * decodes must respect the decoders' own bounds; anything else must fail
 * cleanly.  A broken bound aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "dealer/lotus_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BATCH_MAX 8

static void check_batch(const json_t *v, size_t n)
{
	struct lotus_decode_entry e[BATCH_MAX];

	memset(e, 0, sizeof(e));
	for (size_t i = 0; i < n; i++)
		memcpy(e[i].method, "ChainHead", 10);
	if (lotus_decode_batch(e, n, v, 1) < 0) {
		for (size_t i = 0; i < n; i++)
			if (e[i].result || e[i].msg || e[i].rc)
				abort();
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (e[i].rc > 0 || (e[i].rc < 0 && !e[i].msg) ||
		    (e[i].rc < 0 && e[i].result))
			abort();
		lotus_decode_entry_release(&e[i]);
	}
}

static void check_miner_info(const json_t *v)
{
	struct lotus_miner_info mi;
	size_t total = 0;

	if (lotus_decode_miner_info(&mi, v) < 0) {
		if (mi.multiaddrs)
			abort();
		return;
	}
	if (mi.nmultiaddrs > LOTUS_MULTIADDRS_MAX ||
	    strlen(mi.peer_id) >= LOTUS_PEER_ID_MAX || !mi.sector_size ||
	    (mi.sector_size & (mi.sector_size - 1)))
		abort();
	for (size_t i = 0; i < mi.nmultiaddrs; i++) {
		if (!mi.multiaddrs[i].len || !mi.multiaddrs[i].bytes)
			abort();
		total += mi.multiaddrs[i].len;
	}
	if (total > LOTUS_MULTIADDR_BYTES_MAX)
		abort();
	lotus_miner_info_release(&mi);
}

static void check_deal(const json_t *v)
{
	struct lotus_market_deal d;

	if (lotus_decode_market_deal(&d, v) < 0)
		return;
	if (d.label_len > LOTUS_LABEL_MAX || d.label[d.label_len] ||
	    d.end_epoch <= d.start_epoch || d.piece_size < 128 ||
	    d.slash_epoch < -1 || d.price_per_epoch.neg)
		abort();
}

static void check_scalars(const json_t *v)
{
	struct bigint a, b;
	struct filaddr id, *miners;
	struct lotus_receipt r;
	struct cid c;
	struct filmsg m;
	uint64_t u;
	int64_t h;
	size_t n;
	bool yes;

	if (lotus_decode_head(&h, v) == 0 && h < 0)
		abort();
	if (lotus_decode_miners(&miners, &n, v) == 0) {
		if (n != json_array_size(v))
			abort();
		efs_free(miners);
	}
	if (lotus_decode_bigint(&a, v, "WalletBalance") == 0 && a.neg)
		abort();
	if (lotus_decode_market_balance(&a, &b, v) == 0 &&
	    bigint_cmp(&b, &a) > 0)
		abort();
	if (lotus_decode_datacap(&a, &yes, v) == 0 && !yes && v)
		abort();
	if (lotus_decode_bounds(&a, &b, v) == 0 && bigint_cmp(&a, &b) > 0)
		abort();
	if (lotus_decode_id(&id, v) == 0 && id.protocol != FILADDR_ID)
		abort();
	(void)lotus_decode_nonce(&u, v);
	(void)lotus_decode_cid(&c, v, "MpoolPush");
	filmsg_init(&m);
	if (lotus_decode_gas(&m, v) == 0 && m.gas_limit <= 0)
		abort();
	filmsg_release(&m);
	if (lotus_decode_lookup(&r, &yes, v) == 0 && yes && r.height < 0)
		abort();
}

static void check_value(const json_t *v)
{
	check_scalars(v);
	check_miner_info(v);
	check_deal(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *v, *r = NULL;

	if (lotus_decode_parse(&v, data, size) < 0)
		return 0;
	if (lotus_decode_reply(&r, v, 1, "ChainHead") == 0)
		check_value(r);
	json_decref(r);
	(void)lotus_decode_error(v, "ChainHead");
	check_batch(v, json_is_array(v) ? json_array_size(v) % BATCH_MAX : 2);
	check_value(v);
	check_value(NULL);
	json_decref(v);
	return 0;
}
