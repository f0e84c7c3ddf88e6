/*
 * retriever_range.c - one GET <sp>/piece/<pieceCid> with Range (FRC-0066)
 * covering a run of blocks of a piece, streamed: the body is cut into
 * blocks by their recorded offsets and lengths as it arrives, each block
 * hashed against its CID, then stored and its waiters woken, so memory
 * holds one block and a reader of the first block need not wait for the
 * last.  Bytes between the blocks asked (CAR framing, blocks already
 * local) are skipped.
 *
 * The first block that does not hash to its CID stops the transfer: the
 * SP is recorded as sending garbage and the job tries the next one,
 * asking again only for the blocks still missing.  Blocks stored before
 * the bad one were verified and stay.  A reply that ends early (the
 * connection cut, or a clean end short of the range) is garbage too.
 *
 * The reply's status is only known once the transfer ends (the client
 * streams the body before httpc_do returns it), so a 404 or 416 body
 * also goes through the slicer: it fails to hash, and the status then
 * decides how the SP is recorded.  Nothing unverified can be stored
 * either way.
 */
#include "retrieval/retriever_i.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/bstore.h"
#include "net/httpc.h"

#include "core/banned.h"

struct slicer {
	struct retriever *r;
	const struct rpart *p;
	size_t n, i;              /* parts, and the one being filled */
	uint64_t pos;             /* piece offset of the next byte */
	uint8_t *block;           /* the bytes of part i so far: got of */
	size_t got, cap;          /* cap (a buffer of the pool) */
	int local;                /* a failure of ours, not the SP's */
};

static int slicer_nomem(struct slicer *s)
{
	s->local = EFS_ENOMEM;
	return efs_error_set(EFS_ENOMEM, "retrieval: out of memory");
}

/* Room for part i's bytes (a pool buffer the cache can keep as is). */
static int slicer_room(struct slicer *s, size_t len)
{
	if (s->block && s->cap >= len)
		return 0;
	retriever_buf_put(s->r, s->block, s->cap);
	s->cap = 0;
	if (!(s->block = retriever_buf_get(s->r, len, &s->cap)))
		return slicer_nomem(s);
	return 0;
}

/* Part i is whole: verify it, store it, wake its waiters. */
static int slicer_block(struct slicer *s)
{
	const struct rpart *p = &s->p[s->i];
	char cs[CID_STR_MAX];
	int rc;

	if (cid_verify(&p->e->id, s->block, s->got) < 0)
		return efs_error_set(EFS_EMISMATCH,
				     "block %s at offset %" PRIu64
				     " does not hash to its cid",
				     cid_tostr(cs, &p->e->id), p->off);
	if ((rc = bstore_put(s->r->bs, &p->e->id, s->block, s->got)) < 0) {
		s->local = rc;
		return rc;
	}
	if (s->got <= s->r->o.cache) {
		retriever_cache_adopt(s->r, &p->e->id, s->block, s->got,
				      s->cap);
		s->block = NULL;
		s->cap = 0;
	}
	retriever_entry_done(s->r, p->e, 0);
	s->got = 0;
	s->i++;
	return 0;
}

/* Finish the empty parts that start at or before pos. */
static int slicer_empty(struct slicer *s)
{
	int rc = 0;

	while (!rc && s->i < s->n && !s->p[s->i].len &&
	       s->p[s->i].off <= s->pos)
		if (!(rc = slicer_room(s, 0)))
			rc = slicer_block(s);
	return rc;
}

static int slicer_sink(void *cls, const uint8_t *data, size_t len)
{
	struct slicer *s = cls;
	const struct rpart *p;
	uint64_t take;
	int rc;

	if (s->r->stopping)
		return efs_error_set(EFS_ECANCELED, "retrieval: closing");
	while (len > 0) {
		if ((rc = slicer_empty(s)) < 0)
			return rc;
		/* Everything asked for came: a longer reply is not used. */
		if (s->i == s->n)
			return EFS_ITEROVER;
		p = &s->p[s->i];
		if (s->pos < p->off) {
			take = p->off - s->pos;
		} else {
			take = p->off + p->len - s->pos;
			if (take > len)
				take = len;
			if (!s->got && (rc = slicer_room(s, p->len)) < 0)
				return rc;
			memcpy(s->block + s->got, data, (size_t)take);
			s->got += (size_t)take;
		}
		if (take > len)
			take = len;
		s->pos += take;
		data += take;
		len -= (size_t)take;
		if (s->pos == p->off + p->len && s->got == p->len &&
		    (rc = slicer_block(s)) < 0)
			return rc;
	}
	return slicer_empty(s);
}

/*
 * Judge a finished request: its outcome into *o and a line into why.
 * Returns 0 when every part came.
 */
static int judge(enum miners_outcome *o, char *why, size_t cap, int rc,
		 const struct httpc_resp *resp, const struct slicer *s,
		 uint64_t start, uint64_t want)
{
	bool partial = resp->status == 206 ||
		       (resp->status == 200 && start == 0);

	*o = MINERS_OUT_OK;
	if ((rc == 0 || rc == EFS_ITEROVER) && partial && s->i == s->n)
		return 0;
	if (rc == 0 && resp->status == 404) {
		*o = MINERS_OUT_ERROR;
		snprintf(why, cap, "piece not found (404)");
	} else if ((rc == 0 || rc == EFS_ITEROVER || rc == EFS_EMISMATCH) &&
		   !partial && resp->status) {
		*o = MINERS_OUT_ERROR;
		snprintf(why, cap, "HTTP %ld to a range request",
			 resp->status);
	} else if (rc == 0) {
		*o = MINERS_OUT_GARBAGE;
		snprintf(why, cap,
			 "reply ended after %" PRIu64 " of %" PRIu64 " bytes",
			 s->pos - start, want);
	} else {
		*o = retriever_outcome(rc, resp);
		if (*o == MINERS_OUT_GARBAGE && rc == EFS_EIO)
			snprintf(why, cap,
				 "reply cut after %" PRIu64 " of %" PRIu64
				 " bytes: %s", s->pos - start, want,
				 efs_error_msg());
		else
			snprintf(why, cap, "%s", efs_error_msg());
	}
	return *o == MINERS_OUT_TIMEOUT ? EFS_ETIMEDOUT : EFS_EIO;
}

int retriever_range_fetch(struct retriever *r, struct rjob *j,
			  const struct rsrc *s, const struct cid *piece,
			  const struct rpart *p, size_t n)
{
	struct slicer sl = { .r = r, .p = p, .n = n, .pos = p[0].off };
	uint64_t start = p[0].off, end = p[n - 1].off + p[n - 1].len;
	char url[RET_URL_MAX + CID_STR_MAX + 16], range[64], pc[CID_STR_MAX];
	char why[300], who[RET_URL_MAX + 16];
	const char *hdrs[] = { range, NULL };
	struct httpc_req req = HTTPC_REQ_INIT("GET", url);
	struct httpc_resp resp;
	enum miners_outcome o;
	int64_t left = retriever_left_ms(r, j);
	long resp_status;
	int rc;

	if (left <= 0)
		return efs_error_set(EFS_ETIMEDOUT,
				     "retrieval: deadline passed");
	if (end == start) /* only empty blocks */
		return slicer_empty(&sl);
	snprintf(url, sizeof(url), "%s/piece/%s", s->url, cid_tostr(pc, piece));
	snprintf(range, sizeof(range), "Range: bytes=%" PRIu64 "-%" PRIu64,
		 start, end - 1);
	req.headers = hdrs;
	req.timeout_ms = (unsigned)left;
	req.connect_timeout_ms = left < HTTPC_CONNECT_TIMEOUT_MS
					 ? (unsigned)left
					 : HTTPC_CONNECT_TIMEOUT_MS;
	req.sink = slicer_sink;
	req.sink_cls = &sl;
	pthread_mutex_lock(&r->mu);
	r->st.requests++;
	r->st.piece_requests++;
	pthread_mutex_unlock(&r->mu);
	rc = httpc_do(&resp, &req);
	RET_STAT(r, bytes_down, resp.bytes_down);
	retriever_buf_put(r, sl.block, sl.cap);
	if (rc == EFS_ECANCELED || sl.local) {
		httpc_resp_release(&resp);
		return rc;
	}
	rc = judge(&o, why, sizeof(why), rc, &resp, &sl, start, end - start);
	resp_status = resp.status;
	retriever_record(r, s, o, &resp, piece,
			 retriever_where_commit(r, s->piece_id, start),
			 o == MINERS_OUT_OK ? NULL : why);
	httpc_resp_release(&resp);
	if (o == MINERS_OUT_OK)
		return 0;
	if (o == MINERS_OUT_GARBAGE)
		RET_STAT(r, rejected, 1);
	retriever_job_tried(j, RET_WAY_PIECE, s, o, resp_status);
	retriever_src_name(who, sizeof(who), s);
	return efs_error_set(rc, "retrieval: %s /piece: %s", who, why);
}
