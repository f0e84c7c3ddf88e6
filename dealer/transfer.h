/*
 * transfer.h - the daemon's side of "the SP pulls the CAR": per-deal
 * secret URLs and the HTTP handler that streams a piece's payload (the
 * deal CAR) from the piece source, with Range and resume, never keeping
 * a second copy.
 *
 *	transfer_open(&t, "<repo>/index.db", &piece_source_ops, pieces);
 *	transfer_token_new(tok, t, piece_id, deal_uuid, "f01234", expires);
 *	transfer_url(&url, "http://203.0.113.7:3004", tok);
 *	   -> Transfer.Params {"URL":"<url>","Headers":null} of the mk12 deal
 *	...
 *	(in the daemon's HTTP handler, for paths under TRANSFER_PATH_PREFIX)
 *	transfer_handle(req, t);
 *
 * Two equivalent forms reach a transfer; both are served:
 *   - the secret URL  GET <base>/transfer/<token>          (transfer_url)
 *   - a deal URL and a bearer header
 *	GET <base>/transfer/<deal uuid>  Authorization: Bearer <token>
 *     (transfer_url_bearer; mk12 Transfer.Params Headers).
 * Curio (lib/dealdata/urlpiecereader.go, lib/robusthttp) sends the deal's
 * Headers as given (only Host, Range, hop-by-hop and proxy headers are
 * refused) and always asks for "Range: bytes=<from>-<size-1>", resuming
 * a cut or stalled pull from where it stopped; a 206 is what it wants
 * (a 200 only at offset 0).  Boost resumes with "Range: bytes=<from>-".
 * Either form works with both; the secret URL needs nothing of the SP.
 * Note Curio's default SSRF policy refuses loopback and private
 * addresses: a real SP needs a public base URL.
 *
 * Tokens: 32 bytes from getrandom(2), base64url (43 characters).  Only
 * their SHA-256 is stored (table dealer_transfers in index.db, module
 * "dealer_transfer"), so a stolen database does not give the URLs away;
 * the token itself exists only in the deal proposal sent to the SP.  A
 * token stays valid after a daemon restart, until it expires or its deal
 * is revoked.
 *
 * Replies: 200 with the whole payload and Content-Length; a single
 * satisfiable Range gives 206 with Content-Range; several ranges give
 * the whole body with 200 (no multipart/byteranges); an unsatisfiable
 * Range 416 (with "Content-Range: bytes * /size" when nothing overlaps).
 * Always "Accept-Ranges: bytes" and Content-Type application/vnd.ipld.car.
 * Unknown, malformed, expired and revoked tokens are 404 alike; methods
 * other than GET and HEAD 405.  HEAD opens the source for its size and
 * reads nothing.
 *
 * Memory per pull is bounded: the source is read in the server's chunks
 * (64 KiB) straight into libmicrohttpd's send buffer.
 *
 * Accounting: every matched request counts in `requests` and `last_at`;
 * the bytes handed to the connection count in `bytes_sent` (and go to
 * ops->sent) every TRANSFER_FLUSH_BYTES and when the reply ends; `done`
 * is set once a reply that reaches the payload's last byte was sent in
 * full.  Bytes are counted as handed to the server, so a connection cut
 * mid-reply also counts what was in flight (socket buffers: up to a few
 * MiB) beyond what the peer received.
 *
 * Threads: every function may be called from any thread, concurrently
 * (the HTTP server runs a thread per connection); the database is
 * behind one mutex, held only for short statements, never while
 * streaming.  The ops are called from the server's threads.
 */
#ifndef EFS_DEALER_TRANSFER_H
#define EFS_DEALER_TRANSFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "net/http.h"

/* Room for a token and its NUL. */
#define TRANSFER_TOKEN_MAX 48
/* The path prefix the daemon routes to transfer_handle. */
#define TRANSFER_PATH_PREFIX "/transfer/"
/* The Content-Type of every payload. */
#define TRANSFER_CTYPE "application/vnd.ipld.car"
/* Accounting is written at least every so many bytes of one reply. */
#define TRANSFER_FLUSH_BYTES ((uint64_t)32 << 20)

/*
 * Where the bytes of a piece come from (dealer/piece.c): the piece's
 * payload, i.e. the deal CAR, produced from the blockstore on demand.
 */
struct transfer_source_ops {
	/* Open piece_id for reading; its payload size in *size.  0,
	 * EFS_ENOTFOUND (the piece is gone: the pull gets 404) or an
	 * error (500). */
	int (*open)(void **src, uint64_t *size, void *ops_cls,
		    int64_t piece_id);
	/* Fill buf with exactly len bytes from offset off (off + len <=
	 * size), or return an error (the connection is then cut).  Calls
	 * of one src come from one thread at a time, mostly at increasing
	 * offsets. */
	int (*read)(void *src, uint64_t off, uint8_t *buf, size_t len);
	void (*close)(void *src);
	/* Bandwidth accounting: bytes more of piece_id went to miner.  May
	 * be NULL.  Called without the transfer's lock held. */
	void (*sent)(void *ops_cls, int64_t piece_id, const char *miner,
		     uint64_t bytes);
};

struct transfer;

/*
 * Open (creating or migrating its table in) the sqlite database at
 * db_path, normally the repository's index.db.  ops and ops_cls must
 * outlive t.  0, EFS_ENOMEM, EFS_EIO, EFS_ECORRUPT, EFS_EUNSUPPORTED
 * (the table was written by a newer version).  *out is the caller's.
 */
int transfer_open(struct transfer **out, const char *db_path,
		  const struct transfer_source_ops *ops, void *ops_cls);

/*
 * Close.  Stop the HTTP server first: no transfer_handle call may be
 * running and no reply of one streaming.  NULL is fine.
 */
void transfer_close(struct transfer *t);

/*
 * A new token for deal uuid, serving piece_id to miner (an address like
 * "f01234", for the bandwidth tables), valid until expires (unix
 * seconds, later than now).  The token (NUL-terminated) goes to out; it
 * is not kept anywhere else.  A deal may have several tokens (all
 * served; revoked together).  0, EFS_EINVAL (expires not in the future,
 * miner empty or over 64 bytes), EFS_EIO (getrandom) or a database error.
 */
int transfer_token_new(char out[TRANSFER_TOKEN_MAX], struct transfer *t,
		       int64_t piece_id, const uint8_t uuid[16],
		       const char *miner, int64_t expires);

/*
 * The secret URL "<base_url>/transfer/<token>" appended to out (a '/'
 * ending base_url is not doubled).  0, EFS_EINVAL (base_url not http(s))
 * or out's error.
 */
int transfer_url(struct buf *out, const char *base_url, const char *token);

/*
 * The bearer form: "<base_url>/transfer/<uuid as 8-4-4-4-12 hex>"
 * appended to url_out, and "Bearer <token>" (the Authorization header's
 * value) to auth_out.  0, EFS_EINVAL or a buf error.
 */
int transfer_url_bearer(struct buf *url_out, struct buf *auth_out,
			const char *base_url, const uint8_t uuid[16],
			const char *token);

/*
 * Revoke every token of deal uuid: later requests get 404 (one already
 * streaming finishes).  Its accounting is kept.  0 (also when the deal
 * has no token) or a database error.
 */
int transfer_revoke(struct transfer *t, const uint8_t uuid[16]);

/*
 * The accounting of deal uuid, summed over its tokens: payload bytes
 * sent, requests served, the unix time of the last one (0: none).  Any
 * output may be NULL.  0, EFS_ENOTFOUND (no token for uuid) or a
 * database error.
 */
int transfer_stats(struct transfer *t, const uint8_t uuid[16],
		   uint64_t *bytes, uint64_t *requests, int64_t *last_at);

/*
 * True once a reply that reached the last byte of deal uuid's payload
 * was sent in full (the SP has, or had, the end of the CAR).  False
 * also on error.
 */
bool transfer_done(struct transfer *t, const uint8_t uuid[16]);

/*
 * Serve req, a request for a path under TRANSFER_PATH_PREFIX: always
 * answers it (see the top of this file for the replies).
 */
void transfer_handle(struct http_req *req, struct transfer *t);

#endif
