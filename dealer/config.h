/*
 * config.h - the daemon's settings for the network, the dealer and its
 * HTTP server: <repo>/config.json, every key optional.
 *
 *	{
 *	  "network": {
 *	    "lotus": "http://127.0.0.1:1234/rpc/v1",   // or "api_info":
 *	    "token": "eyJ...",                         //  "TOKEN:/ip4/..."
 *	    "miners": ["f01000", "f01001"]             // only these SPs
 *	  },
 *	  "dealer": {
 *	    "enabled": true,
 *	    "replication": 6,
 *	    "duration_epochs": 1051200,
 *	    "start_delay_epochs": 2880,
 *	    "renew_window_epochs": 60480,
 *	    "verified": true,
 *	    "max_price_fil": "0.0000000005",          // per GiB per epoch
 *	    "max_verified_price_fil": "0",
 *	    "exclude": ["f01234"],
 *	    "aggregate_below": "1GiB",                // padded
 *	    "aggregate_target": "16GiB",
 *	    "aggregate_max_age_s": 3600,
 *	    "max_piece_payload": "30GiB",
 *	    "escrow_margin_fil": "0.1",
 *	    "check_interval_s": 600
 *	  },
 *	  "http": { "listen": "127.0.0.1:3004",
 *	            "public_url": "http://203.0.113.7:3004",
 *	            "upload_max": "64GiB" },      // "0": no cap
 *	  "price": { "url": "https://...", "fil_usd": "4.2" },
 *	  "cache": { "size": "20GiB",       // local blocks kept (evictor)
 *	             "min_active": 6,       // before a block may go
 *	             "interval_s": 60 },
 *	  "retrieval": { "timeout_s": 30,   // a read's wait for a block
 *	                 "readahead": "8MiB",
 *	                 "ipni": "https://cid.contact" },
 *	  "pins": { "workers": 4 }          // pin requests worked at once
 *	}
 *
 * With no "network" section the daemon runs the local devnet
 * (contrib/devnet) in <repo>/devnet and says so in its log and status.
 * The cache section drives the evictor (dealer/evict.h): without
 * "size", a quarter of the filesystem holding the repository
 * (config_cache_size); without "min_active", dealer.replication.
 *
 * Sizes take K/M/G/T suffixes (powers of 1024) or plain bytes; FIL
 * amounts are Lotus's ParseFIL text.  An unknown key is an error (a
 * typo must not silently fall back to a default that spends money).
 *
 * A struct dealer_config is a plain value after config_load; release it
 * with config_release.
 */
#ifndef EFS_DEALER_CONFIG_H
#define EFS_DEALER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bigint.h"
#include "core/filaddr.h"

/* About one year: 365.25 days of 30 s epochs (the default). */
#define CONFIG_DURATION_DEFAULT 1051200
/* Aggregation on the devnet, unless config.json says otherwise: 1 MiB
 * (its SPs' largest minimum piece), 16 MiB, 30 s. */
#define CONFIG_DEVNET_AGGREGATE_BELOW ((uint64_t)1 << 20)
#define CONFIG_DEVNET_AGGREGATE_TARGET ((uint64_t)16 << 20)
#define CONFIG_DEVNET_AGGREGATE_AGE 30
/* Retrieval: a read waits 30 s for an evicted block, and 8 MiB of its
 * piece come with it. */
#define CONFIG_RETRIEVAL_TIMEOUT 30
#define CONFIG_RETRIEVAL_READAHEAD ((uint64_t)8 << 20)
/* The pinning API: requests worked on at once, and most allowed. */
#define CONFIG_PINS_WORKERS 4
#define CONFIG_PINS_WORKERS_MAX 64

/* The cache: the share of the repository's filesystem kept when
 * config.json names no size (1/4), what is kept when that filesystem
 * cannot be measured, and the evictor's default interval. */
#define CONFIG_CACHE_SHARE 4
#define CONFIG_CACHE_FALLBACK ((uint64_t)20 << 30)
#define CONFIG_CACHE_INTERVAL 60
/* Filecoin's shortest deal: 180 days. */
#define CONFIG_DURATION_MIN 518400
#define CONFIG_REPLICATION_MAX 64

struct dealer_config {
	/* network */
	bool devnet;                /* no network configured */
	char *lotus_url;            /* .../rpc/v1 (NULL with devnet) */
	char *lotus_token;          /* may be NULL */
	struct filaddr *miners;     /* configured SP list, or NULL: chain */
	size_t nminers;

	/* dealer */
	bool enabled;
	unsigned replication;
	int64_t duration;           /* epochs */
	int64_t start_delay;        /* epochs from head to StartEpoch */
	int64_t renew_window;       /* epochs before EndEpoch to re-deal */
	bool verified;
	struct bigint max_price;    /* attoFIL per GiB per epoch */
	struct bigint max_verified_price;
	struct filaddr *exclude;
	size_t nexclude;
	uint64_t aggregate_below;   /* padded bytes */
	uint64_t aggregate_target;  /* padded bytes */
	int64_t aggregate_max_age;  /* seconds */
	uint64_t max_payload;       /* bytes of one piece's payload */
	struct bigint escrow_margin; /* attoFIL added above what is needed */
	int64_t check_interval;     /* seconds between checks of a piece */

	/* http */
	char *listen;               /* "127.0.0.1:3004" */
	char *public_url;           /* base URL SPs pull transfers from */
	uint64_t upload_max;        /* http.upload_max: the largest upload
				       (0 when unset: the API's default,
				       64 GiB; UINT64_MAX: "0", no cap) */

	/* price */
	char *price_url;            /* FIL/USD source; NULL: none */
	char *fil_usd;              /* fixed rate; NULL: none */

	/* cache (the evictor) */
	uint64_t cache_size;        /* bytes of local blocks; 0: not set,
				       see config_cache_size */
	unsigned cache_min_active;  /* 0: not set, see config_min_active */
	int64_t cache_interval;     /* seconds between evictor passes */

	/* retrieval (reading evicted blocks back) */
	int64_t retrieval_timeout;  /* seconds a read waits for a block */
	uint64_t retrieval_readahead; /* bytes of a piece fetched with a
					 block */
	char *ipni_url;             /* an IPNI indexer, or NULL */

	/* pins (the pinning API's worker pool, api/api_pins.h) */
	unsigned pins_workers;      /* requests worked on at once */
};

/* The defaults (devnet, 6 verified one-year deals, ...). */
void config_defaults(struct dealer_config *out);

/*
 * Load <repo>/config.json over the defaults (a missing file leaves them).
 * Returns 0, EFS_EINVAL ("config.json: dealer.replication: must be 1 to
 * 64", unknown keys, bad sizes or amounts), EFS_ECORRUPT (not JSON:
 * with the line), EFS_EIO, EFS_ENOMEM.  out is released first-use safe:
 * call config_release also after an error.
 */
int config_load(struct dealer_config *out, const char *repo);

/* Parse text[0..len) (the file's contents) over out's current values. */
int config_parse(struct dealer_config *out, const char *text, size_t len);

void config_release(struct dealer_config *c);

/*
 * The cache size: cache.size, or a quarter of the filesystem holding
 * repo (statvfs), or CONFIG_CACHE_FALLBACK when that cannot be read.
 */
uint64_t config_cache_size(const struct dealer_config *c, const char *repo);

/* ACTIVE deals every piece of a commit needs before the evictor frees
 * its blocks: cache.min_active, or dealer.replication. */
unsigned config_min_active(const struct dealer_config *c);

/* True when addr is in the exclude list. */
bool config_excluded(const struct dealer_config *c, const struct filaddr *a);

#endif
