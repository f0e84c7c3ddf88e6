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
 * Requests live in the table pin_requests of <repo>/index.db (module "api_pins"
 * of db_migrate), so they outlive the daemon.  One worker thread
 * ("efs-pins") takes queued requests oldest first, fetches each DAG with
 * the daemon's retriever and pins it with the evictor (api_retrieve_run:
 * a user pin "user:pins:<requestid>" that gc and the evictor leave), and
 * moves the request to pinned, or failed with info.reason.  What is
 * missing today: the DAG is not linked under /pins/ in the mounted
 * filesystem nor committed (see api_pins.c).
 *
 *	api_pins_start(&s->pins, s);   // api_server_start, s->repo set
 *	...
 *	api_pins_stop(s->pins);        // api_server_stop, no request left
 *
 * Threads: the worker reads the server's retriever and evictor as they
 * are set (it waits until both are); handlers run on connection threads,
 * each with its own db connection.
 */
#ifndef EFS_API_API_PINS_H
#define EFS_API_API_PINS_H

struct api_pins;
struct api_server;

/*
 * Create or migrate the pin_requests table of s->repo's index.db, put back to
 * queued the requests a stopped daemon left pinning, and start the
 * worker.  s must outlive api_pins_stop.  Returns 0, EFS_EINVAL (s has
 * no repository), db errors or EFS_ERROR (no thread); *out is NULL then
 * and the /pins routes answer 503.
 */
int api_pins_start(struct api_pins **out, struct api_server *s);

/*
 * Stop the worker (a retrieval under way is cancelled at its next block
 * and its request is queued again for the next start) and free.  Call
 * once the server's stopping flag is set and no request runs.  NULL is
 * fine.
 */
void api_pins_stop(struct api_pins *p);

#endif
