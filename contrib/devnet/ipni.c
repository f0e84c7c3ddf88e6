/*
 * ipni.c - the devnet's IPNI indexer (cid.contact's read API) on the
 * Lotus API listener: which simulated SPs hold a block, from the block
 * index the SPs keep of their sealed pieces (sp_block, sp_piece.announce).
 *
 *	GET /cid/{cid}                   by the CID's multihash
 *	GET /multihash/{base58 mh}
 *	GET /routing/v1/providers/{cid}  delegated routing (IPIP-337)
 *
 * Replies are JSON as go-libipni's find model and the routing spec
 * write them (or NDJSON, one record a line, when Accept asks for
 * application/x-ndjson); 404 when nobody has it, 400 for a key that does
 * not parse.  A provider record is what Curio announces for a deal:
 *
 *	ContextID  the CBOR of abi.PieceInfo [PaddedSize, PieceCID v1]
 *	Metadata   varint 0x0920 (transport-ipfs-gateway-http) and
 *	           varint 0x0930 (transport-filecoin-piece-http): the SP
 *	           serves /ipfs and /piece
 *	Provider   the miner's peer ID and /ip4/<host>/tcp/<port>/http
 *
 * Threads: runs on the API server's connection threads, with its own
 * database connection per request.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "contrib/devnet/devnet.h"
#include "contrib/devnet/sp_i.h"
#include "core/cbor.h"
#include "core/error.h"
#include "core/filjson.h"
#include "core/mbase.h"
#include "core/varint.h"
#include "net/http.h"

#include "core/banned.h"

/* varint(0x0920) varint(0x0930), base64. */
#define IPNI_METADATA "oBKwEg=="
/* Records returned for one multihash. */
#define IPNI_RESULTS_MAX 256

struct ipni_hit {
	uint64_t miner;
	uint8_t root[COMMP_NODE_SIZE];
	uint64_t padded;
	uint64_t payload;
};

/* The announced pieces holding multihash mh, at most max. */
static int find_hits(struct ipni_hit *out, size_t *n, struct devnet *d,
		     const uint8_t *mh, size_t mhlen, size_t max)
{
	sqlite3_stmt *st;
	struct db *db;
	int rc;

	*n = 0;
	if ((rc = sp_db_open(d, &db)) < 0)
		return rc;
	rc = db_stmt(&st, db,
		     "SELECT p.miner, p.root, p.padded, p.payload"
		     " FROM sp_block b"
		     " JOIN sp_piece p ON p.id = b.piece WHERE b.mh = ? AND"
		     " p.ready = 1 AND p.announce = 1 ORDER BY p.miner, p.id"
		     " LIMIT ?");
	if (rc == 0) {
		sqlite3_bind_blob(st, 1, mh, (int)mhlen, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
		while ((rc = db_step(db, st)) == 1) {
			const void *root = sqlite3_column_blob(st, 1);
			struct ipni_hit *h = &out[*n];

			if (!root ||
			    sqlite3_column_bytes(st, 1) != COMMP_NODE_SIZE)
				continue;
			h->miner = (uint64_t)sqlite3_column_int64(st, 0);
			memcpy(h->root, root, COMMP_NODE_SIZE);
			h->padded = (uint64_t)sqlite3_column_int64(st, 2);
			h->payload = (uint64_t)sqlite3_column_int64(st, 3);
			(*n)++;
		}
		db_reset(st);
	}
	db_close(db);
	return rc < 0 ? rc : 0;
}

/* Base64 with padding, as Go writes a []byte; NULL out of memory. */
static json_t *b64(const uint8_t *p, size_t len)
{
	json_t *v;

	return filjson_bytes_encode(&v, p, len) < 0 ? NULL : v;
}

static json_t *addrs(struct devnet *d, const struct devnet_miner *m)
{
	char a[128];

	snprintf(a, sizeof(a), "/ip4/%s/tcp/%u/http", d->host,
		 (unsigned)m->port);
	return json_pack("[s]", a);
}

/* ContextID: CBOR [PaddedSize, PieceCID] (abi.PieceInfo, tuple). */
static json_t *context_id(const struct ipni_hit *h)
{
	struct buf b = BUF_INIT(256);
	struct commp_piece p;
	struct cid v1;
	json_t *j = NULL;

	if (commp_piece_init(&p, h->root, h->padded, h->payload) == 0) {
		commp_cid_v1(&v1, &p);
		if (cbor_put_array(&b, 2) == 0 &&
		    cbor_put_uint(&b, h->padded) == 0 &&
		    cbor_put_cid(&b, &v1) == 0)
			j = b64(b.ptr, b.len);
	}
	buf_release(&b);
	return j ? j : json_string("");
}

static json_t *provider_result(struct devnet *d, const struct ipni_hit *h)
{
	struct devnet_miner *m = devnet_miner_find(d, h->miner);

	if (!m)
		return NULL;
	return json_pack("{s:o, s:s, s:{s:s, s:o}}", "ContextID",
			 context_id(h), "Metadata", IPNI_METADATA, "Provider",
			 "ID", m->peer_id, "Addrs", addrs(d, m));
}

static json_t *routing_record(struct devnet *d, uint64_t miner)
{
	struct devnet_miner *m = devnet_miner_find(d, miner);

	if (!m)
		return NULL;
	return json_pack("{s:s, s:s, s:o, s:[s, s]}", "Schema", "peer", "ID",
			 m->peer_id, "Addrs", addrs(d, m), "Protocols",
			 "transport-ipfs-gateway-http",
			 "transport-filecoin-piece-http");
}

static bool wants_ndjson(struct http_req *req)
{
	const char *a = http_req_header(req, "Accept");

	return a && strstr(a, "application/x-ndjson");
}

/* Reply with the records, as one JSON document (key wrapping them) or
 * as NDJSON; steals recs. */
static void reply_records(struct http_req *req, json_t *doc, json_t *recs)
{
	struct buf b = BUF_INIT(BUF_NOCAP);
	size_t i;
	json_t *v;

	if (!wants_ndjson(req)) {
		http_reply_json(req, 200, doc);
		json_decref(doc);
		json_decref(recs);
		return;
	}
	json_array_foreach(recs, i, v) {
		char *s = json_dumps(v, JSON_COMPACT);

		if (s && buf_adds(&b, s) == 0)
			buf_addch(&b, '\n');
		free(s); /* jansson's allocator */
	}
	http_reply(req, 200, "application/x-ndjson", b.ptr, b.len);
	buf_release(&b);
	json_decref(doc);
	json_decref(recs);
}

static void find(struct devnet *d, struct http_req *req, const uint8_t *mh,
		 size_t mhlen, bool routing)
{
	struct ipni_hit hits[IPNI_RESULTS_MAX];
	json_t *recs, *doc;
	uint64_t last = 0;
	size_t n;

	if (find_hits(hits, &n, d, mh, mhlen, IPNI_RESULTS_MAX) < 0) {
		http_reply_text(req, 500, "%s\n", efs_error_msg());
		return;
	}
	if (!n) {
		http_reply_text(req, 404, "no results for query\n");
		return;
	}
	recs = json_array();
	for (size_t i = 0; i < n; i++) {
		if (routing && i && hits[i].miner == last)
			continue;
		last = hits[i].miner;
		json_array_append_new(recs,
				      routing ? routing_record(d, last)
					      : provider_result(d, &hits[i]));
	}
	if (routing)
		doc = json_pack("{s:O}", "Providers", recs);
	else
		doc = json_pack("{s:[{s:o, s:O}]}", "MultihashResults",
				"Multihash", b64(mh, mhlen),
				"ProviderResults", recs);
	reply_records(req, doc, recs);
}

/* A multihash: varint code, varint length, that many bytes. */
static bool mh_valid(const uint8_t *p, size_t len)
{
	uint64_t code, dlen;
	size_t a, b;

	return varint_decode(&code, &a, p, len) == 0 &&
	       varint_decode(&dlen, &b, p + a, len - a) == 0 &&
	       dlen == len - a - b;
}

bool ipni_handle(struct devnet *d, struct http_req *req)
{
	const char *path = http_req_path(req), *key;
	uint8_t mh[CID_MH_BYTES_MAX];
	bool routing = false;
	struct cid id;
	long n;

	if (!strncmp(path, "/cid/", 5)) {
		key = path + 5;
	} else if (!strncmp(path, "/routing/v1/providers/", 22)) {
		key = path + 22;
		routing = true;
	} else if (!strncmp(path, "/multihash/", 11)) {
		key = path + 11;
		n = mbase_base58_decode(mh, sizeof(mh), key, strlen(key));
		if (strcmp(http_req_method(req), "GET") != 0)
			http_reply_text(req, 405, "method not allowed\n");
		else if (n <= 0 || !mh_valid(mh, (size_t)n))
			http_reply_text(req, 400, "bad multihash\n");
		else
			find(d, req, mh, (size_t)n, false);
		return true;
	} else {
		return false;
	}
	if (strcmp(http_req_method(req), "GET") != 0)
		http_reply_text(req, 405, "method not allowed\n");
	else if (cid_parse(&id, key) < 0)
		http_reply_text(req, 400, "bad cid: %s\n", efs_error_msg());
	else
		find(d, req, mh, cid_mh_to_bytes(mh, &id), routing);
	return true;
}
