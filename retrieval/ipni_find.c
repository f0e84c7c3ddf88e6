/*
 * ipni_find.c - an IPNI find answer to gateway URLs (see ipni_find.h).
 *
 * Design notes: the answer comes from the network, so every field is
 * checked for its type and anything unexpected inside a provider record
 * skips that record; only a document that is not the find model at all
 * is an error.  Metadata is decoded into a small stack buffer: real
 * records are a few bytes (graphsync's is ~60), longer ones are refused.
 */
#include "retrieval/ipni_find.h"

#include <string.h>

#include <jansson.h>

#include "core/cbor.h"
#include "core/error.h"
#include "core/mbase.h"
#include "core/varint.h"

#include "core/banned.h"

/* Largest decoded metadata looked at. */
#define IPNI_META_MAX 4096

bool ipni_find_has_gateway(const char *meta)
{
	uint8_t buf[IPNI_META_MAX];
	size_t pos = 0, used, n;
	uint64_t code;
	long len;

	if (!meta || strlen(meta) > IPNI_META_MAX)
		return false;
	len = mbase_base64_decode(buf, sizeof(buf), meta, strlen(meta));
	if (len <= 0)
		return false;
	while (pos < (size_t)len) {
		if (varint_decode(&code, &used, buf + pos,
				  (size_t)len - pos) < 0)
			return false;
		pos += used;
		switch (code) {
		case IPNI_FIND_GATEWAY_HTTP:
			return true;
		case IPNI_FIND_BITSWAP:
		case IPNI_FIND_PIECE_HTTP:
			break;
		case IPNI_FIND_GRAPHSYNC:
			if (cbor_item_size(&n, buf + pos,
					   (size_t)len - pos) < 0)
				return false;
			pos += n;
			break;
		default:
			return false; /* its payload's size is unknown */
		}
	}
	return false;
}

/* The first address of addrs that makes an HTTP URL, into url. */
static bool provider_url(char *url, const json_t *addrs)
{
	uint8_t bin[MULTIADDR_STR_MAX];
	const char *s;
	size_t i;
	json_t *a;
	long n;

	if (!json_is_array(addrs))
		return false;
	json_array_foreach(addrs, i, a) {
		if (!(s = json_string_value(a)) ||
		    (n = multiaddr_parse(bin, sizeof(bin), s, strlen(s))) <= 0)
			continue;
		if (multiaddr_http_url(url, IPNI_FIND_URL_MAX, bin,
				       (size_t)n) > 0)
			return true;
	}
	return false;
}

static void add_url(char (*urls)[IPNI_FIND_URL_MAX], size_t *n, size_t max,
		    const char *url)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(urls[i], url))
			return;
	if (*n < max) {
		memcpy(urls[*n], url, strlen(url) + 1);
		(*n)++;
	}
}

/* The providers of one ProviderResults array. */
static void take_results(char (*urls)[IPNI_FIND_URL_MAX], size_t *n,
			 size_t max, const json_t *results)
{
	char url[IPNI_FIND_URL_MAX];
	const json_t *p, *prov;
	size_t i;

	json_array_foreach(results, i, p) {
		prov = json_object_get(p, "Provider");
		if (!json_is_object(p) || !json_is_object(prov) ||
		    !ipni_find_has_gateway(json_string_value(
			    json_object_get(p, "Metadata"))))
			continue;
		if (provider_url(url, json_object_get(prov, "Addrs")))
			add_url(urls, n, max, url);
	}
}

int ipni_find_parse(char (*urls)[IPNI_FIND_URL_MAX], size_t *n, size_t max,
		    const char *json, size_t len)
{
	const json_t *mhs, *m, *results;
	json_error_t jerr;
	json_t *doc;
	size_t i;
	int rc = 0;

	*n = 0;
	if (len > IPNI_FIND_BODY_MAX)
		return efs_error_set(EFS_ETOOBIG, "ipni: answer over %zu bytes",
				     IPNI_FIND_BODY_MAX);
	if (!(doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr)))
		return efs_error_set(EFS_ECORRUPT, "ipni: answer is not json");
	mhs = json_object_get(doc, "MultihashResults");
	if (!json_is_array(mhs)) {
		rc = efs_error_set(EFS_ECORRUPT,
				   "ipni: answer without MultihashResults");
		goto out;
	}
	json_array_foreach(mhs, i, m) {
		results = json_object_get(m, "ProviderResults");
		if (!json_is_object(m) || !json_is_array(results)) {
			rc = efs_error_set(EFS_ECORRUPT,
					   "ipni: malformed MultihashResults");
			*n = 0;
			goto out;
		}
		take_results(urls, n, max, results);
	}
out:
	json_decref(doc);
	return rc;
}
