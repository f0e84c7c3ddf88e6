/*
 * ipni_find.h - reading an IPNI indexer's answer to GET /cid/{cid}
 * (ipni/specs IPNI.md, go-libipni's find model): which providers serve a
 * block over HTTP, as base URLs the retriever can ask
 * /ipfs/{cid}?format=car of.
 *
 *	{"MultihashResults":[{"Multihash":"EiB...","ProviderResults":[
 *	  {"ContextID":"...","Metadata":"oBI=",
 *	   "Provider":{"ID":"12D3KooW...",
 *	               "Addrs":["/dns/sp.example/tcp/443/https"]}}]}]}
 *
 * A provider counts when its Metadata (base64 of varint protocol codes,
 * each followed by its payload) names transport-ipfs-gateway-http
 * (0x0920) before any protocol whose payload we cannot skip; bitswap
 * (0x0900) and the piece gateway (0x0930) have none, graphsync-filecoinv1
 * (0x0910) a CBOR item.  Its first address that core/multiaddr.h turns
 * into an HTTP URL is taken (the others are the same host in another
 * form).  Duplicate URLs are given once.
 *
 * Pure functions: reentrant.
 */
#ifndef EFS_IPNI_FIND_H
#define EFS_IPNI_FIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/multiaddr.h"

/* Multicodec codes of IPNI transport metadata. */
enum ipni_find_transport {
	IPNI_FIND_BITSWAP = 0x0900,
	IPNI_FIND_GRAPHSYNC = 0x0910,
	IPNI_FIND_GATEWAY_HTTP = 0x0920,
	IPNI_FIND_PIECE_HTTP = 0x0930,
};

/* Longest URL given (multiaddr_http_url's longest). */
#define IPNI_FIND_URL_MAX MULTIADDR_URL_MAX
/* Largest answer parsed. */
#define IPNI_FIND_BODY_MAX ((size_t)1 << 20)

/*
 * Whether the base64 metadata text meta names the trustless gateway
 * transport (see above).  Malformed metadata is false.
 */
bool ipni_find_has_gateway(const char *meta);

/*
 * The HTTP base URLs of the gateway providers in the JSON answer
 * json[0..len) into urls (room for max), *n how many, in answer order.
 * Returns 0 (also with none) or EFS_ECORRUPT (not JSON, or not the find
 * model's shape: MultihashResults an array of objects whose
 * ProviderResults are arrays), EFS_ETOOBIG (over IPNI_FIND_BODY_MAX).
 * Entries of the right shape that name no usable provider are skipped.
 */
int ipni_find_parse(char (*urls)[IPNI_FIND_URL_MAX], size_t *n, size_t max,
		    const char *json, size_t len);

#endif
