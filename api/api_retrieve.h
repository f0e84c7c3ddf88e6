/*
 * api_retrieve.h - `estuaryfs retrieve CID`'s work, shared by the
 * daemon's POST /retrieve and the command run without a daemon: fetch
 * the whole DAG under a CID into the blockstore (Estuary's "Case B",
 * retriever_retrieve_dag) and keep it there with a user pin
 * (evict_pin: gc and the evictor both leave it) until `estuaryfs unpin
 * CID`.
 *
 * POST /retrieve {"target":"CID","name":"..."} answers 200 at once with
 * a stream of newline-delimited JSON objects (application/x-ndjson),
 * one per line, while the daemon's retriever walks the DAG:
 *
 *	{"progress":{"blocks":N,"bytes":N,"fetched_blocks":N,
 *	             "fetched_bytes":N,"seconds":S}}     at most 5 a second,
 *	                                                  and at least one a
 *	                                                  second (heartbeat)
 *	{"result":{"root":"CID","blocks":N,...,"pin":ID}} the last line on
 *	                                                  success
 *	{"error":{"reason":"NOT_FOUND","details":"..."}}  the last line on
 *	                                                  failure
 *
 * A stream that ends without a "result" or "error" line was cut (the
 * daemon stopped).  A client that goes away cancels the walk.
 *
 * Threads: api_retrieve_run runs on the caller's thread;
 * api_retrieve_reply runs the walk on a thread of its own for the
 * length of the reply.  The retriever and the evictor are internally
 * locked.
 */
#ifndef EFS_API_API_RETRIEVE_H
#define EFS_API_API_RETRIEVE_H

#include <stdatomic.h>
#include <stdint.h>

#include <jansson.h>

#include "core/cid.h"
#include "retrieval/retriever.h"

struct evict;
struct http_req;

/* What a retrieval did. */
struct api_retrieve_result {
	struct cid root;
	struct retriever_progress p;   /* the DAG's blocks and bytes, and
					  those that had to be fetched */
	double seconds;                /* the walk's time */
	int64_t pin_id;                /* the user pin that keeps it */
};

/*
 * Fetch the DAG under root with r, then pin it with e under the label
 * label (the pin "user:<label>"; callers use the CID as text, or a
 * directory's path in the mount), so that it stays local.  Should the
 * evictor have taken back blocks of the DAG before the pin held (a
 * cache smaller than the DAG), they are fetched again under the pin.
 * progress (may be NULL) is called as retriever_retrieve_dag calls it,
 * with the totals of both walks; a non-zero return cancels.  Returns 0
 * with *out filled, EFS_EINVAL (an identity CID: its bytes are in the
 * CID), retriever_retrieve_dag's errors (EFS_ENOTFOUND: no provider has
 * it, EFS_ETIMEDOUT, EFS_EIO, EFS_ECANCELED...) or evict_pin's.  Nothing
 * is pinned when the walk fails.
 */
int api_retrieve_run(struct api_retrieve_result *out, struct retriever *r,
		     struct evict *e, const struct cid *root, const char *label,
		     retriever_progress_fn progress, void *cls);

/* A progress snapshot as {"blocks":N,"bytes":N,"fetched_blocks":N,
 * "fetched_bytes":N,"seconds":S}.  New reference, or NULL. */
json_t *api_retrieve_progress_json(const struct retriever_progress *p,
				   double seconds);

/* res as the progress object plus "root" (CID text) and "pin".  New
 * reference, or NULL (out of memory). */
json_t *api_retrieve_json(const struct api_retrieve_result *res);

/*
 * The reason of a stream's "error" line for an efs error code, and
 * back: NOT_FOUND (EFS_ENOTFOUND), BAD_REQUEST (EFS_EINVAL), TIMEOUT
 * (EFS_ETIMEDOUT), UNAVAILABLE (EFS_ECANCELED: the daemon is stopping),
 * CORRUPT (EFS_ECORRUPT, EFS_EMISMATCH), BAD_GATEWAY (EFS_EIO: every
 * source failed), INTERNAL (anything else; back: EFS_ERROR).
 */
const char *api_retrieve_reason(int code);
int api_retrieve_code(const char *reason);

/*
 * Answer req (POST /retrieve, its arguments checked) with the stream
 * above, running api_retrieve_run on a new thread; stopping (the
 * server's flag, borrowed: it must outlive the reply) set cuts the
 * stream and cancels the walk.  r and e are borrowed until the reply
 * ends: stopping the HTTP server waits for it.  Sends a 500 error reply
 * itself when the thread cannot start.
 */
void api_retrieve_reply(struct http_req *req, struct retriever *r,
			struct evict *e, const struct cid *root,
			const char *label, const atomic_bool *stopping);

#endif
