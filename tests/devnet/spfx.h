/*
 * spfx.h - what the storage-provider tests of estuaryfs-devnet
 * share: a devnet in a temp directory (state, chain clock, simulated
 * SPs) run inside the test process, a small HTTP server the SPs pull
 * CARs from, an HTTP client, a UnixFS CAR to deal, and helpers that
 * speak mk12 as a client does.
 *
 * Everything listens on 127.0.0.1 with ephemeral ports.  One fixture per
 * process (spfx_open .. spfx_close); the functions are called from the
 * test's thread.
 */
#ifndef EFS_TESTS_SPFX_H
#define EFS_TESTS_SPFX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contrib/devnet/devnet.h"
#include "core/buf.h"
#include "core/cid.h"
#include "core/commp.h"
#include "core/filkey.h"
#include "core/memstore.h"
#include "core/mk12.h"

/* Chain clock period of the fixture's devnet. */
#define SPFX_EPOCH_MS 50

/* ---- the devnet ---- */

/* Start a devnet of nminers SPs with the clock running; 0 or an error. */
int spfx_open(size_t nminers);

/* Stop everything (SPs, clock) and remove the directory. */
void spfx_close(void);

/* Stop the SPs and the devnet, keeping the state; spfx_reopen starts
 * them again from it (a restart of the program). */
void spfx_shutdown(void);
int spfx_reopen(void);

struct devnet *spfx_devnet(void);
struct devnet_miner *spfx_miner(size_t i);

/* "http://127.0.0.1:<port>" of miner i's SP, into a static buffer. */
const char *spfx_sp_url(size_t i);

/* A URL on the fixture's own server that serves IPNI (ipni_handle). */
const char *spfx_ipni_url(void);

/* Set miner i's faults (NULL or a zeroed struct: none). */
void spfx_fault(size_t i, const struct devnet_fault *f);

/* Wait until the chain head passes `epochs` more epochs. */
void spfx_wait_epochs(int64_t epochs);

/* ---- the file server the SPs pull from ---- */

/*
 * Serve len bytes (copied) at path ("/x.car").  When auth is not NULL
 * the request must carry "Authorization: <auth>" or gets 401.  Returns
 * the full URL in a static buffer.
 */
const char *spfx_file_serve(const char *path, const void *data, size_t len,
			    const char *auth);

/* Requests the file server has seen for path. */
unsigned spfx_file_hits(const char *path);

/* ---- HTTP client ---- */

struct spfx_resp {
	long status;              /* 0 when the request failed */
	int curl_code;            /* CURLcode */
	struct buf body;
	struct buf headers;       /* raw header lines */
	double seconds;           /* total time */
};

/*
 * method url with headers (NULL-terminated "Name: value" list, may be
 * NULL) and body (may be NULL; sent also with GET, as mk12 status and
 * ask need).  Returns 0 even for HTTP errors (see out->status); a
 * transport failure leaves status 0 and curl_code set.  Release with
 * spfx_resp_release.
 */
int spfx_request(struct spfx_resp *out, const char *method, const char *url,
		 const char *const *headers, const void *body, size_t len);
void spfx_resp_release(struct spfx_resp *r);

/* The value of header name in r (case-insensitive), into out; NULL when
 * absent. */
const char *spfx_header(const struct spfx_resp *r, const char *name,
			char *out, size_t cap);

/* ---- a CAR to deal ---- */

struct spfx_car {
	struct buf bytes;         /* the CARv1 */
	struct cid root;          /* a directory */
	struct cid big;           /* root/big.bin: a multi-level file */
	struct cid small;         /* root/small.txt: one raw block */
	uint64_t big_size;
	struct memstore *ms;      /* every block */
	struct commp_piece piece;
	struct cid piece_v1;
	struct cid piece_v2;
};

/* A directory {big.bin: big_size random bytes in 4 KiB chunks, 4 links a
 * node; small.txt} as a CAR.  0 or an error. */
int spfx_car_make(struct spfx_car *out, uint64_t seed, size_t big_size);

/* The same, with hamt_files more files f00.. holding the same bytes (so
 * the DAG has duplicate blocks) and, when hamt_files > 0, the directory
 * sharded as a HAMT of fanout 8 (so it has sub-shards). */
int spfx_car_make_opts(struct spfx_car *out, uint64_t seed, size_t big_size,
		       unsigned hamt_files);
void spfx_car_release(struct spfx_car *c);

/* ---- mk12 as a client ---- */

/* The default client: funded, with escrow and DataCap. */
const struct filkey *spfx_client(void);

/* A new client key; fund: give it FIL; escrow: FIL in market escrow;
 * datacap: bytes of DataCap (0: not a verified client). */
int spfx_client_new(struct filkey *out, const char *fund, const char *escrow,
		    const char *datacap);

/*
 * A valid, signed DealParams for a deal of car with miner i, pulled from
 * url (NULL: the car is served at /<uuid>.car).  Release with
 * mk12_deal_params_release.
 */
int spfx_params(struct mk12_deal_params *out, size_t miner,
		const struct spfx_car *car, const char *url);

/* Sign dp's proposal again with key (after a test changed it). */
int spfx_sign(struct mk12_deal_params *dp, const struct filkey *key);

/* POST dp to miner's /market/mk12/store: accepted and the message. */
int spfx_propose(bool *accepted, char *msg, size_t cap, size_t miner,
		 const struct mk12_deal_params *dp);

/* GET /market/mk12/status for uuid, signed by key (NULL: the default
 * client).  Release out with mk12_status_response_release. */
int spfx_status(struct mk12_status_response *out, size_t miner,
		const uint8_t uuid[MK12_UUID_LEN], const struct filkey *key);

/*
 * Poll status every epoch until DealStatus.status is want or an error
 * shows (top level or DealStatus.Error), at most timeout_ms.  Returns 0
 * (out holds the last reply) or EFS_ETIMEDOUT.
 */
int spfx_wait_status(struct mk12_status_response *out, size_t miner,
		     const uint8_t uuid[MK12_UUID_LEN], const char *want,
		     unsigned timeout_ms);

/* Propose and wait until Sealed; the chain deal ID to *deal_id. */
int spfx_deal(uint64_t *deal_id, size_t miner, const struct spfx_car *car);

#endif
