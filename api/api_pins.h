/*
 * api_pins.h - the IPFS Pinning Service API (ipfs/pinning-services-api-
 * spec, ipfs-pinning-service.yaml 1.0.0) served by the daemon:
 *
 *	GET    /pins               PinResults, filtered (200)
 *	POST   /pins               a Pin in, its PinStatus out (202)
 *	GET    /pins/{requestid}   its PinStatus (200)
 *	POST   /pins/{requestid}   replace: a new request, new requestid (202)
 *	DELETE /pins/{requestid}   remove (202, no body)
 *
 * GET needs the READ scope, POST and DELETE WRITE (the spec wants a token
 * on every endpoint).  Errors are the spec's Failure object, as every
 * route's (api_i.h).  docs/api.md has the fields and curl examples.
 *
 * Requests live in the table pin_requests of <repo>/index.db (module
 * "api_pins" of db_migrate), so they outlive the daemon.  A pool of
 * worker threads ("efs-pins-<i>", config.json pins.workers, default 4)
 * takes queued requests oldest first, each its own, so one slow or
 * unreachable CID holds one worker and not the queue.  A worker fetches
 * the DAG with the daemon's retriever and pins it with the evictor
 * (api_retrieve_run: a user pin "user:pins:<requestid>" that gc and the
 * evictor leave); in a mount it grafts it at /pins/<name> and commits
 * /pins, so the dealer replicates it; the request ends pinned, or failed
 * with info.reason.  Removing a request (DELETE, or its replacement
 * done) drops its pin, removes its graft and commits /pins again.
 *
 *	api_pins_start(&s->pins, s, 4); // api_server_start, s->repo set
 *	...
 *	api_pins_stop(s->pins);         // api_server_stop, no request left
 *
 * Threads: the workers read the server's retriever and evictor as they
 * are set (they wait until both are); handlers run on connection
 * threads, each with its own db connection, as each worker has.
 */
#ifndef EFS_API_API_PINS_H
#define EFS_API_API_PINS_H

struct api_pins;
struct api_server;

/*
 * Create or migrate the pin_requests table of s->repo's index.db, put
 * back to queued the requests a stopped daemon left pinning, and start
 * workers threads (0: API_PINS_WORKERS_DEFAULT; more than
 * API_PINS_WORKERS_MAX: that many).  s must outlive api_pins_stop.
 * Returns 0, EFS_EINVAL (s has no repository), EFS_ENOMEM, db errors or
 * EFS_ERROR (no thread); *out is NULL then and the /pins routes answer
 * 503.
 */
int api_pins_start(struct api_pins **out, struct api_server *s,
		   unsigned workers);

/*
 * Stop the workers (a retrieval under way is cancelled at its next block
 * and its request is queued again for the next start) and free.  Call
 * once the server's stopping flag is set and no request runs.  NULL is
 * fine.
 */
void api_pins_stop(struct api_pins *p);

#endif
