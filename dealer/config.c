/*
 * config.c - <repo>/config.json (see config.h).
 *
 * The file is read whole (capped: a config is a few hundred bytes) and
 * walked section by section with a table per section, so every key has
 * one parser and an unknown key is reported by its full name.
 */
#include "dealer/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include <jansson.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/fdio.h"
#include "core/units.h"
#include "dealer/lotus.h"
#include "net/httpc.h"

#include "core/banned.h"

#define CONFIG_FILE_MAX (1u << 20)
#define GIB (1024ULL * 1024 * 1024)

void config_defaults(struct dealer_config *out)
{
	memset(out, 0, sizeof(*out));
	out->devnet = true;
	out->enabled = true;
	out->replication = 6;
	out->duration = CONFIG_DURATION_DEFAULT;
	out->start_delay = 2880;
	out->renew_window = 60480;
	out->verified = true;
	/* Estuary's unverified cap: 3e-8 FIL per GiB per epoch. */
	bigint_from_u64(&out->max_price, 30000000000ULL);
	bigint_from_u64(&out->max_verified_price, 0);
	/* Estuary's lesson (estuary.md §12): pieces of at least ~1 GB. */
	out->aggregate_below = GIB;
	out->aggregate_target = 16 * GIB;
	out->aggregate_max_age = 8 * 3600;
	/* 90% of a 32 GiB sector's unpadded capacity. */
	out->max_payload = 32 * GIB / 128 * 127 / 10 * 9;
	bigint_from_u64(&out->escrow_margin, 100000000000000000ULL);
	out->check_interval = 600;
	out->cache_interval = CONFIG_CACHE_INTERVAL;
	out->retrieval_timeout = CONFIG_RETRIEVAL_TIMEOUT;
	out->retrieval_readahead = CONFIG_RETRIEVAL_READAHEAD;
	out->pins_workers = CONFIG_PINS_WORKERS;
}

void config_release(struct dealer_config *c)
{
	if (!c)
		return;
	efs_free(c->lotus_url);
	efs_free(c->lotus_token);
	efs_free(c->miners);
	efs_free(c->exclude);
	efs_free(c->listen);
	efs_free(c->public_url);
	efs_free(c->price_url);
	efs_free(c->fil_usd);
	efs_free(c->ipni_url);
	memset(c, 0, sizeof(*c));
}

uint64_t config_cache_size(const struct dealer_config *c, const char *repo)
{
	struct statvfs sv;
	uint64_t total;

	if (c->cache_size)
		return c->cache_size;
	if (statvfs(repo, &sv) < 0)
		return CONFIG_CACHE_FALLBACK;
	total = (uint64_t)sv.f_blocks * sv.f_frsize;
	return total >= CONFIG_CACHE_SHARE ? total / CONFIG_CACHE_SHARE
					   : CONFIG_CACHE_FALLBACK;
}

unsigned config_min_active(const struct dealer_config *c)
{
	return c->cache_min_active ? c->cache_min_active : c->replication;
}

bool config_excluded(const struct dealer_config *c, const struct filaddr *a)
{
	for (size_t i = 0; i < c->nexclude; i++)
		if (filaddr_equal(&c->exclude[i], a))
			return true;
	return false;
}

/* ---- value parsers: each gets the full key name for its message ---- */

static int bad(const char *key, const char *what)
{
	return efs_error_set(EFS_EINVAL, "config.json: %s: %s", key, what);
}

static int get_string(char **out, json_t *v, const char *key)
{
	const char *s = json_string_value(v);
	char *copy;

	if (!s)
		return bad(key, "must be a string");
	if (!(copy = efs_strdup(s)))
		return EFS_ENOMEM;
	efs_free(*out);
	*out = copy;
	return 0;
}

static int get_bool(bool *out, json_t *v, const char *key)
{
	if (!json_is_boolean(v))
		return bad(key, "must be true or false");
	*out = json_is_true(v);
	return 0;
}

static int get_int(int64_t *out, json_t *v, const char *key, int64_t min,
		   int64_t max)
{
	char msg[96];

	if (!json_is_integer(v))
		return bad(key, "must be a whole number");
	if (json_integer_value(v) < min || json_integer_value(v) > max) {
		snprintf(msg, sizeof(msg), "must be %lld to %lld",
			 (long long)min, (long long)max);
		return bad(key, msg);
	}
	*out = json_integer_value(v);
	return 0;
}

/* "16GiB", "512M", 1048576 (core/units.h); not zero. */
static int get_size(uint64_t *out, json_t *v, const char *key)
{
	const char *s = json_string_value(v);

	if (json_is_integer(v) && json_integer_value(v) > 0) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (!s || units_parse_size(out, s) < 0 || *out == 0)
		return bad(key, "must be a size such as \"1GiB\"");
	return 0;
}

static int get_fil(struct bigint *out, json_t *v, const char *key)
{
	const char *s = json_string_value(v);
	int rc;

	if (!s)
		return bad(key, "must be an amount of FIL as a string");
	if ((rc = bigint_parse_fil(out, s, strlen(s))) < 0)
		return bad(key, efs_error_msg());
	return 0;
}

static int get_addrs(struct filaddr **out, size_t *n, json_t *v,
		     const char *key)
{
	struct filaddr *a;
	size_t i;
	json_t *e;

	if (!json_is_array(v))
		return bad(key, "must be a list of miner addresses");
	if (!(a = efs_calloc(json_array_size(v) + 1, sizeof(*a))))
		return EFS_ENOMEM;
	json_array_foreach(v, i, e) {
		const char *s = json_string_value(e);

		if (!s || filaddr_parse(&a[i], NULL, s, strlen(s)) < 0) {
			efs_free(a);
			return bad(key, "holds something that is not a "
					"Filecoin address");
		}
	}
	efs_free(*out);
	*out = a;
	*n = json_array_size(v);
	return 0;
}

/* FULLNODE_API_INFO, "TOKEN:/ip4/HOST/tcp/PORT/http": read as Lotus
 * clients read it (dealer/lotus.h), kept as the URL and token. */
static int get_api_info(struct dealer_config *c, json_t *v)
{
	struct lotus *l;
	int rc;

	if (!json_string_value(v))
		return bad("network.api_info", "must be a string");
	if ((rc = lotus_open_info(&l, json_string_value(v))) < 0)
		return rc == EFS_ENOMEM ? rc :
					  bad("network.api_info",
					      efs_error_msg());
	efs_free(c->lotus_url);
	efs_free(c->lotus_token);
	c->lotus_token = NULL;
	if (!(c->lotus_url = efs_strdup(lotus_url(l))) ||
	    (lotus_token(l) && !(c->lotus_token = efs_strdup(lotus_token(l)))))
		rc = EFS_ENOMEM;
	lotus_close(l);
	return rc;
}

/* ---- sections ---- */

static int network_key(struct dealer_config *c, const char *k, json_t *v)
{
	if (strcmp(k, "lotus") == 0)
		return get_string(&c->lotus_url, v, "network.lotus");
	if (strcmp(k, "token") == 0)
		return get_string(&c->lotus_token, v, "network.token");
	if (strcmp(k, "api_info") == 0)
		return get_api_info(c, v);
	if (strcmp(k, "miners") == 0)
		return get_addrs(&c->miners, &c->nminers, v, "network.miners");
	return EFS_ENOTFOUND;
}

static int dealer_key(struct dealer_config *c, const char *k, json_t *v)
{
	int64_t n;
	int rc;

	if (strcmp(k, "enabled") == 0)
		return get_bool(&c->enabled, v, "dealer.enabled");
	if (strcmp(k, "verified") == 0)
		return get_bool(&c->verified, v, "dealer.verified");
	if (strcmp(k, "replication") == 0) {
		if ((rc = get_int(&n, v, "dealer.replication", 1,
				  CONFIG_REPLICATION_MAX)) == 0)
			c->replication = (unsigned)n;
		return rc;
	}
	if (strcmp(k, "duration_epochs") == 0)
		return get_int(&c->duration, v, "dealer.duration_epochs", 1,
			       INT32_MAX);
	if (strcmp(k, "start_delay_epochs") == 0)
		return get_int(&c->start_delay, v,
			       "dealer.start_delay_epochs", 1, INT32_MAX);
	if (strcmp(k, "renew_window_epochs") == 0)
		return get_int(&c->renew_window, v,
			       "dealer.renew_window_epochs", 0, INT32_MAX);
	if (strcmp(k, "aggregate_max_age_s") == 0)
		return get_int(&c->aggregate_max_age, v,
			       "dealer.aggregate_max_age_s", 1, INT32_MAX);
	if (strcmp(k, "check_interval_s") == 0)
		return get_int(&c->check_interval, v,
			       "dealer.check_interval_s", 1, INT32_MAX);
	if (strcmp(k, "max_price_fil") == 0)
		return get_fil(&c->max_price, v, "dealer.max_price_fil");
	if (strcmp(k, "max_verified_price_fil") == 0)
		return get_fil(&c->max_verified_price, v,
			       "dealer.max_verified_price_fil");
	if (strcmp(k, "escrow_margin_fil") == 0)
		return get_fil(&c->escrow_margin, v,
			       "dealer.escrow_margin_fil");
	if (strcmp(k, "exclude") == 0)
		return get_addrs(&c->exclude, &c->nexclude, v,
				 "dealer.exclude");
	if (strcmp(k, "aggregate_below") == 0)
		return get_size(&c->aggregate_below, v,
				"dealer.aggregate_below");
	if (strcmp(k, "aggregate_target") == 0)
		return get_size(&c->aggregate_target, v,
				"dealer.aggregate_target");
	if (strcmp(k, "max_piece_payload") == 0)
		return get_size(&c->max_payload, v,
				"dealer.max_piece_payload");
	return EFS_ENOTFOUND;
}

static int http_key(struct dealer_config *c, const char *k, json_t *v)
{
	if (strcmp(k, "listen") == 0)
		return get_string(&c->listen, v, "http.listen");
	if (strcmp(k, "public_url") == 0)
		return get_string(&c->public_url, v, "http.public_url");
	if (strcmp(k, "upload_max") == 0) {
		/* "0" (or 0): no cap */
		if ((json_is_integer(v) && json_integer_value(v) == 0) ||
		    (json_is_string(v) &&
		     strcmp(json_string_value(v), "0") == 0)) {
			c->upload_max = UINT64_MAX;
			return 0;
		}
		return get_size(&c->upload_max, v, "http.upload_max");
	}
	return EFS_ENOTFOUND;
}

static int price_key(struct dealer_config *c, const char *k, json_t *v)
{
	if (strcmp(k, "url") == 0)
		return get_string(&c->price_url, v, "price.url");
	if (strcmp(k, "fil_usd") == 0) {
		const char *s = json_string_value(v);

		if (!s || strtod(s, NULL) <= 0)
			return bad("price.fil_usd",
				   "must be a positive number as a string");
		return get_string(&c->fil_usd, v, "price.fil_usd");
	}
	return EFS_ENOTFOUND;
}

static int cache_key(struct dealer_config *c, const char *k, json_t *v)
{
	int64_t n;
	int rc;

	if (strcmp(k, "size") == 0)
		return get_size(&c->cache_size, v, "cache.size");
	if (strcmp(k, "min_active") == 0) {
		if ((rc = get_int(&n, v, "cache.min_active", 1,
				  CONFIG_REPLICATION_MAX)) == 0)
			c->cache_min_active = (unsigned)n;
		return rc;
	}
	if (strcmp(k, "interval_s") == 0)
		return get_int(&c->cache_interval, v, "cache.interval_s", 1,
			       INT32_MAX);
	return EFS_ENOTFOUND;
}

static int retrieval_key(struct dealer_config *c, const char *k, json_t *v)
{
	if (strcmp(k, "timeout_s") == 0)
		return get_int(&c->retrieval_timeout, v, "retrieval.timeout_s",
			       1, 3600);
	if (strcmp(k, "readahead") == 0)
		return get_size(&c->retrieval_readahead, v,
				"retrieval.readahead");
	if (strcmp(k, "ipni") == 0) {
		if (!json_is_string(v) || !httpc_url_ok(json_string_value(v)))
			return bad("retrieval.ipni", "must be an http(s) URL");
		return get_string(&c->ipni_url, v, "retrieval.ipni");
	}
	return EFS_ENOTFOUND;
}

static int pins_key(struct dealer_config *c, const char *k, json_t *v)
{
	int64_t n;
	int rc;

	if (strcmp(k, "workers") == 0) {
		if ((rc = get_int(&n, v, "pins.workers", 1,
				  CONFIG_PINS_WORKERS_MAX)) == 0)
			c->pins_workers = (unsigned)n;
		return rc;
	}
	return EFS_ENOTFOUND;
}

static const struct {
	const char *name;
	int (*key)(struct dealer_config *c, const char *k, json_t *v);
} sections[] = {
	{ "network", network_key },
	{ "dealer", dealer_key },
	{ "http", http_key },
	{ "price", price_key },
	{ "cache", cache_key },
	{ "retrieval", retrieval_key },
	{ "pins", pins_key },
};

static int section(struct dealer_config *c, const char *name, json_t *obj)
{
	const char *k;
	json_t *v;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (strcmp(sections[i].name, name) == 0)
			break;
	if (i == sizeof(sections) / sizeof(sections[0]))
		return efs_error_set(EFS_EINVAL,
				     "config.json: unknown section \"%s\"",
				     name);
	if (!json_is_object(obj))
		return bad(name, "must be an object");
	json_object_foreach(obj, k, v) {
		rc = sections[i].key(c, k, v);
		if (rc == EFS_ENOTFOUND)
			return efs_error_set(EFS_EINVAL,
					     "config.json: unknown key %s.%s",
					     name, k);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int check(const struct dealer_config *c)
{
	struct lotus *l;
	int rc;

	/* The endpoint and token as the client will take them. */
	if (c->lotus_url) {
		if ((rc = lotus_open(&l, c->lotus_url, c->lotus_token)) < 0)
			return rc == EFS_ENOMEM ? rc :
						  bad("network.lotus",
						      efs_error_msg());
		lotus_close(l);
	}
	if (c->aggregate_target < c->aggregate_below)
		return bad("dealer.aggregate_target",
			   "must not be below dealer.aggregate_below");
	if (c->renew_window >= c->duration)
		return bad("dealer.renew_window_epochs",
			   "must be shorter than dealer.duration_epochs");
	/* the dealer never makes more: nothing would ever be evicted */
	if (c->cache_min_active > c->replication)
		return bad("cache.min_active",
			   "must not be above dealer.replication");
	return 0;
}

/*
 * On the devnet, aggregation sized for mainnet (1 GiB pieces, 8 hours)
 * would hold every commit back for hours: its SPs take pieces from 256
 * bytes, or 1 MiB.  Keys the user set (in dealer, of root) stay.
 */
static void devnet_defaults(struct dealer_config *c, const json_t *root)
{
	const json_t *dl = json_object_get(root, "dealer");

	if (!c->devnet)
		return;
	if (!json_object_get(dl, "aggregate_below"))
		c->aggregate_below = CONFIG_DEVNET_AGGREGATE_BELOW;
	if (!json_object_get(dl, "aggregate_target"))
		c->aggregate_target = CONFIG_DEVNET_AGGREGATE_TARGET;
	if (!json_object_get(dl, "aggregate_max_age_s"))
		c->aggregate_max_age = CONFIG_DEVNET_AGGREGATE_AGE;
}

int config_parse(struct dealer_config *out, const char *text, size_t len)
{
	json_error_t jerr;
	json_t *root, *v;
	const char *k;
	int rc = 0;

	if (!(root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)))
		return efs_error_set(EFS_ECORRUPT,
				     "config.json: line %d: %s", jerr.line,
				     jerr.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return efs_error_set(EFS_ECORRUPT,
				     "config.json: must be a JSON object");
	}
	json_object_foreach(root, k, v) {
		if ((rc = section(out, k, v)) < 0)
			break;
	}
	if (rc == 0 && out->lotus_url)
		out->devnet = false;
	if (rc == 0)
		devnet_defaults(out, root);
	json_decref(root);
	return rc < 0 ? rc : check(out);
}

int config_load(struct dealer_config *out, const char *repo)
{
	struct buf path = BUF_INIT(4096), text = BUF_INIT(CONFIG_FILE_MAX);
	int rc;

	config_defaults(out);
	if ((rc = buf_printf(&path, "%s/config.json%c", repo, '\0')) < 0)
		goto out;
	rc = fdio_read_file(&text, (const char *)path.ptr);
	if (rc == EFS_ENOTFOUND) {
		devnet_defaults(out, NULL);
		rc = 0;
		goto out;
	}
	if (rc < 0)
		goto out;
	rc = config_parse(out, (const char *)text.ptr, text.len);
out:
	buf_release(&path);
	buf_release(&text);
	return rc;
}
