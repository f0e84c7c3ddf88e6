/*
 * evict_json.c - the evictor's results as JSON (evict.h): what the
 * daemon's API answers, and what `estuaryfs evict` prints from, with or
 * without a daemon, so both paths say the same.
 */
#include "dealer/evict.h"

#include "core/banned.h"

/* A count, saturated where JSON integers end. */
static json_t *jcount(uint64_t n)
{
	return json_integer(n > INT64_MAX ? INT64_MAX : (json_int_t)n);
}

static json_t *jpair(uint64_t blocks, uint64_t bytes)
{
	return json_pack("{s:o,s:o}", "blocks", jcount(blocks), "bytes",
			 jcount(bytes));
}

static json_t *jshorts(const struct evict_result *r)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < r->nshorts; i++) {
		const struct evict_short *s = &r->shorts[i];

		if (json_array_append_new(a, json_pack("{s:I,s:b,s:i,s:i}",
				"commit", (json_int_t)s->commit_id,
				"pieced", s->pieced, "active", (int)s->active,
				"want", (int)s->want)) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

json_t *evict_result_json(const struct evict_result *r)
{
	json_t *kept = json_object();

	for (size_t i = 0; kept && i < EVICT_NREASONS; i++)
		if (json_object_set_new(kept, evict_reason_name(i),
					jpair(r->kept[i], r->kept_bytes[i]))) {
			json_decref(kept);
			kept = NULL;
		}
	/* json_pack with "o" steals, and fails on NULL values */
	return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
			 "evicted", jpair(r->blocks, r->bytes),
			 "seen", jcount(r->seen),
			 "already", jcount(r->already),
			 "kept", kept,
			 "cache_size", jcount(r->cache_size),
			 "local_before", jcount(r->local_before),
			 "local_after", jcount(r->local_after),
			 "short", jshorts(r),
			 "more_short", jcount(r->more_shorts));
}

json_t *evict_pin_json(const struct evict_pin_info *p)
{
	return json_pack("{s:I,s:o,s:o,s:o,s:o}", "pin",
			 (json_int_t)p->pin_id, "blocks", jcount(p->blocks),
			 "bytes", jcount(p->bytes), "evicted_blocks",
			 jcount(p->evicted_blocks), "evicted_bytes",
			 jcount(p->evicted_bytes));
}
