/*
 * main.c - estuaryfs-devnet: a local simulated Filecoin network.
 *
 *   estuaryfs-devnet --dir D [--listen 127.0.0.1:PORT] [--sps N]
 *                    [--epoch 1s] [--network f|t] [--fil-usd RATE]
 *                    [--fault MINER=JSON]... [--min-piece SIZE]
 *   estuaryfs-devnet --dir D faucet ADDRESS AMOUNT
 *   estuaryfs-devnet --dir D datacap ADDRESS BYTES
 *   estuaryfs-devnet --dir D token [read|write|sign|admin]
 *
 * The first form runs the network until SIGINT/SIGTERM: the Lotus API on
 * --listen (its endpoint, token and FULLNODE_API_INFO go to stdout and to
 * D/api and D/token, as Lotus writes ~/.lotus/api and token), one HTTP
 * server per simulated storage provider, and the chain clock.  The other
 * forms act on the state in D directly (sqlite serialises them with a
 * running devnet) and exit.
 *
 * Startup order: state (devnet_open), storage providers (they pick their
 * ports), the API server, the clock.  Shutdown runs it backwards; every
 * write was committed as it happened, so a restart resumes where the
 * last run stopped.  Signals are blocked in every thread and taken with
 * sigwait here, so no handler code runs inside a thread.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "contrib/devnet/chain.h"
#include "contrib/devnet/devnet.h"
#include "contrib/devnet/jwt.h"
#include "contrib/devnet/rpc.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/units.h"
#include "net/http.h"
#include "efs_config.h"

#include "core/banned.h"

#define DEFAULT_API_PORT 1234
#define DEFAULT_SPS 8
#define DEFAULT_EPOCH_MS 1000
#define DEFAULT_FIL_USD 4.0

/* A --fault option, applied once the miners are loaded. */
struct fault_opt {
	const char *miner;
	const char *json;
};

struct options {
	const char *dir;
	const char *listen;
	unsigned sps;
	unsigned epoch_ms;
	char net;
	double fil_usd;
	bool fil_usd_set;
	bool any_port;              /* --listen HOST:0 */
	struct fault_opt faults[DEVNET_MINERS_MAX];
	size_t nfaults;
	uint64_t min_piece;         /* --min-piece */
	bool min_piece_set;
};

static void usage(FILE *f)
{
	fputs("usage: estuaryfs-devnet --dir DIR [OPTIONS]\n"
	      "       estuaryfs-devnet --dir DIR faucet ADDRESS AMOUNT\n"
	      "       estuaryfs-devnet --dir DIR datacap ADDRESS BYTES\n"
	      "       estuaryfs-devnet --dir DIR token [PERMISSION]\n"
	      "\n"
	      "A local simulated Filecoin network: a Lotus JSON-RPC endpoint\n"
	      "(/rpc/v0, /rpc/v1) with a chain clock, wallets and market\n"
	      "escrow, and simulated storage providers serving Curio's HTTP\n"
	      "deal and retrieval endpoints.  State lives in DIR and a\n"
	      "restart resumes it.\n"
	      "\n"
	      "options:\n"
	      "  --dir DIR           state directory (created on first use)\n"
	      "  --listen HOST:PORT  Lotus API address (default\n"
	      "                      127.0.0.1:1234, then the last one;\n"
	      "                      port 0: the last one, or any free one)\n"
	      "  --sps N             storage providers, on first use\n"
	      "                      (default 8)\n"
	      "  --epoch DURATION    chain clock period: 1s, 250ms, 30s\n"
	      "                      (default 1s)\n"
	      "  --network f|t       address prefix printed (default f)\n"
	      "  --fil-usd RATE      FIL/USD rate served at GET /price\n"
	      "  --fault MINER=JSON  set a miner's faults, e.g.\n"
	      "                      --fault 'f01001={\"reject_pct\":100}'\n"
	      "  --min-piece SIZE    every SP's minimum piece size (padded,\n"
	      "                      a power of two: 8MiB, 1GiB, 0 for each\n"
	      "                      SP's own); saved like --fault\n"
	      "\n"
	      "commands:\n"
	      "  faucet ADDRESS AMOUNT  give FIL (\"100\", \"0.5 FIL\",\n"
	      "                         \"5 attoFIL\") to an address\n"
	      "  datacap ADDRESS BYTES  make it a verified client with\n"
	      "                         BYTES more DataCap\n"
	      "  token [PERMISSION]     print an API token (default admin)\n",
	      f);
}

static int parse_epoch(unsigned *out, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v <= 0)
		return -1;
	if (strcmp(end, "ms") == 0)
		;
	else if (strcmp(end, "s") == 0 || *end == '\0')
		v *= 1000;
	else if (strcmp(end, "m") == 0)
		v *= 60000;
	else
		return -1;
	if (v < 10 || v > 3600000)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* A padded piece size: "8MiB", "512KiB", "1GiB", "256"; 0 too. */
static int parse_size(uint64_t *out, const char *s)
{
	uint64_t v;

	if (units_parse_size(&v, s) < 0 || !devnet_min_piece_valid(v))
		return -1;
	*out = v;
	return 0;
}

static int parse_listen(struct devnet *d, const char *s)
{
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long port;

	if (!colon || (size_t)(colon - s) >= sizeof(d->host) || colon == s)
		return -1;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port > 65535)
		return -1;
	memcpy(d->host, s, (size_t)(colon - s));
	d->host[colon - s] = '\0';
	d->port = (uint16_t)port;
	return 0;
}

static int parse_options(struct options *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "sps", required_argument, NULL, 's' },
		{ "epoch", required_argument, NULL, 'e' },
		{ "network", required_argument, NULL, 'n' },
		{ "fil-usd", required_argument, NULL, 'u' },
		{ "fault", required_argument, NULL, 'f' },
		{ "min-piece", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->dir = optarg;
			break;
		case 'l':
			o->listen = optarg;
			break;
		case 's':
			errno = 0;
			o->sps = (unsigned)strtoul(optarg, &end, 10);
			if (errno || *end || o->sps < 1 ||
			    o->sps > DEVNET_MINERS_MAX) {
				fprintf(stderr, "estuaryfs-devnet: --sps must "
					"be 1..%d\n", DEVNET_MINERS_MAX);
				return 2;
			}
			break;
		case 'e':
			if (parse_epoch(&o->epoch_ms, optarg) < 0) {
				fprintf(stderr, "estuaryfs-devnet: bad --epoch "
					"'%s' (10ms .. 60m)\n", optarg);
				return 2;
			}
			break;
		case 'n':
			if (strcmp(optarg, "f") && strcmp(optarg, "t")) {
				fputs("estuaryfs-devnet: --network is f or t\n",
				      stderr);
				return 2;
			}
			o->net = optarg[0];
			break;
		case 'u':
			errno = 0;
			o->fil_usd = strtod(optarg, &end);
			if (errno || *end || !(o->fil_usd >= 0)) {
				fputs("estuaryfs-devnet: bad --fil-usd\n",
				      stderr);
				return 2;
			}
			o->fil_usd_set = true;
			break;
		case 'f':
			if (o->nfaults == DEVNET_MINERS_MAX ||
			    !strchr(optarg, '=')) {
				fputs("estuaryfs-devnet: --fault MINER=JSON\n",
				      stderr);
				return 2;
			}
			o->faults[o->nfaults].miner = optarg;
			o->faults[o->nfaults++].json = strchr(optarg, '=') + 1;
			break;
		case 'm':
			if (parse_size(&o->min_piece, optarg) < 0) {
				fprintf(stderr, "estuaryfs-devnet: bad "
					"--min-piece '%s' (a power of two, "
					"128 .. 64GiB, or 0)\n", optarg);
				return 2;
			}
			o->min_piece_set = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("estuaryfs-devnet %s\n", EFS_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!o->dir) {
		fputs("estuaryfs-devnet: --dir is required\n", stderr);
		return 2;
	}
	return -1;
}

static int fail(const char *what)
{
	fprintf(stderr, "estuaryfs-devnet: %s: %s\n", what,
		*efs_error_msg() ? efs_error_msg()
				 : efs_error_name(efs_error_code()));
	return 1;
}

static int apply_faults(struct devnet *d, const struct options *o)
{
	for (size_t i = 0; i < o->nfaults; i++) {
		const char *m = o->faults[i].miner;
		size_t mlen = (size_t)(strchr(m, '=') - m);
		int rc = devnet_fault_parse_apply(d, m, mlen,
						  o->faults[i].json);

		if (rc < 0)
			return rc;
	}
	return 0;
}

/* --min-piece: the same minimum for every SP. */
static int apply_min_piece(struct devnet *d, const struct options *o)
{
	for (size_t i = 0; o->min_piece_set && i < d->nminers; i++) {
		struct devnet_fault f;
		int rc;

		devnet_fault_get(d, &d->miners[i], &f);
		f.min_piece = o->min_piece;
		if ((rc = devnet_fault_set(d, &d->miners[i], &f)) < 0)
			return rc;
	}
	return 0;
}

static void serve(struct http_req *req, void *payload)
{
	struct devnet *d = payload;
	const char *path = http_req_path(req);

	/* go-jsonrpc reads any request that is not a WebSocket upgrade as
	 * a JSON-RPC body, whatever its method (a GET is -32600). */
	if (strcmp(path, "/rpc/v1") == 0 || strcmp(path, "/rpc/v0") == 0) {
		rpc_serve(d, req, path[6] - '0');
	} else if (strcmp(path, "/price") == 0 ||
		   strcmp(path, "/api/v3/simple/price") == 0) {
		rpc_serve_price(d, req);
	} else if (strcmp(path, "/health") == 0) {
		http_reply_text(req, 200, "ok\n");
#ifdef DEVNET_WITH_SP
	} else if (ipni_handle(d, req)) {
		;
#endif
	} else {
		http_reply_text(req, 404, "404 page not found\n");
	}
}

/* Write dir/name with mode 0600 (replacing it). */
static int write_private(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	FILE *f;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		return efs_error_set(EFS_EINVAL, "path too long");
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return efs_error_set_errno(EFS_EIO, errno, "cannot write %s",
					   tmp);
	if (fchmod(fileno(f), 0600) != 0 || fputs(text, f) < 0 ||
	    fclose(f) != 0) {
		remove(tmp);
		return efs_error_set_errno(EFS_EIO, errno, "cannot write %s",
					   tmp);
	}
	if (rename(tmp, path) != 0)
		return efs_error_set_errno(EFS_EIO, errno, "cannot rename %s",
					   tmp);
	return 0;
}

static int announce(struct devnet *d)
{
	char token[JWT_TOKEN_MAX], api[128], line[JWT_TOKEN_MAX + 160];
	int rc;

	if ((rc = jwt_make(token, sizeof(token), d->jwt_secret, JWT_ADMIN)) < 0)
		return rc;
	snprintf(api, sizeof(api), "/ip4/%s/tcp/%u/http", d->host,
		 (unsigned)d->port);
	/* The token first: api appearing says the devnet is ready. */
	snprintf(line, sizeof(line), "%s\n", token);
	if ((rc = write_private(d->dir, "token", line)) < 0)
		return rc;
	snprintf(line, sizeof(line), "%s\n", api);
	if ((rc = write_private(d->dir, "api", line)) < 0)
		return rc;
	printf("endpoint http://%s:%u/rpc/v1\n", d->host, (unsigned)d->port);
	printf("token %s\n", token);
	printf("FULLNODE_API_INFO=%s:%s\n", token, api);
	for (size_t i = 0; i < d->nminers; i++) {
		char a[FILADDR_STR_MAX];

		filaddr_format(a, &d->miners[i].addr, d->net);
		printf("miner %s http://%s:%u\n", a, d->host,
		       (unsigned)d->miners[i].port);
	}
	printf("ready\n");
	fflush(stdout);
	return 0;
}

static int start_sps(struct devnet *d)
{
#ifdef DEVNET_WITH_SP
	int rc;

	for (size_t i = 0; i < d->nminers; i++) {
		uint16_t was = d->miners[i].port;

		if ((rc = sp_start(d, &d->miners[i])) < 0)
			return rc;
		if (d->miners[i].port != was &&
		    (rc = devnet_miner_save_port(d, &d->miners[i])) < 0)
			return rc;
	}
#endif
	return 0;
}

static void stop_sps(struct devnet *d)
{
#ifdef DEVNET_WITH_SP
	for (size_t i = 0; i < d->nminers; i++)
		sp_stop(d, &d->miners[i]);
#endif
}

static int start_api(struct devnet *d, bool any_port)
{
	uint16_t want = d->port;
	int rc;

	rc = http_server_start(&d->api, d->host, want, HTTP_BODY_MAX, serve,
			       d);
	/* The last run's port is taken: with --listen HOST:0, any will do. */
	if (rc == EFS_EIO && any_port && want != 0) {
		fprintf(stderr, "estuaryfs-devnet: port %u is taken, picking "
			"another\n", (unsigned)want);
		want = 0;
		rc = http_server_start(&d->api, d->host, 0, HTTP_BODY_MAX,
				       serve, d);
	}
	if (rc < 0)
		return rc;
	d->port = http_server_port(d->api);
	if (d->port != want || d->listen_given)
		return devnet_save_api(d);
	return 0;
}

static int run(struct devnet *d, const struct options *o)
{
	sigset_t set;
	int sig, rc;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if ((rc = apply_faults(d, o)) < 0)
		return fail("--fault");
	if ((rc = apply_min_piece(d, o)) < 0)
		return fail("--min-piece");
	if (d->fil_usd_given && (rc = chain_set_fil_usd(d, d->fil_usd)) < 0)
		return fail("--fil-usd");
	if ((rc = start_sps(d)) < 0) {
		fail("storage providers");
		goto out;
	}
	if ((rc = start_api(d, o->any_port)) < 0) {
		fail("api");
		goto out;
	}
	if ((rc = devnet_clock_start(d)) < 0) {
		fail("clock");
		goto out;
	}
	if ((rc = announce(d)) < 0) {
		fail("announce");
		goto out;
	}
	while (sigwait(&set, &sig) != 0)
		;
	fprintf(stderr, "estuaryfs-devnet: %s, stopping\n",
		sig == SIGINT ? "SIGINT" : "SIGTERM");
	rc = 0;
out:
	devnet_stop(d);
	http_server_stop(d->api);
	d->api = NULL;
	stop_sps(d);
	return rc < 0 ? 1 : 0;
}

static int cmd_faucet(struct devnet *d, int argc, char **argv, bool datacap)
{
	char line[BIGINT_STR_MAX + FILADDR_STR_MAX + 32];
	int rc;

	if (argc != 3) {
		usage(stderr);
		return 2;
	}
	if (datacap)
		rc = devnet_grant_datacap(d, line, sizeof(line), argv[1],
					  argv[2]);
	else
		rc = devnet_faucet(d, line, sizeof(line), argv[1], argv[2]);
	if (rc < 0)
		return fail(argv[0]);
	printf("%s\n", line);
	return 0;
}

static int cmd_token(struct devnet *d, int argc, char **argv)
{
	char token[JWT_TOKEN_MAX];
	int perms;

	if (argc > 2 || (perms = jwt_perm_from_name(argc == 2 ? argv[1]
							      : "admin")) < 0) {
		usage(stderr);
		return 2;
	}
	if (jwt_make(token, sizeof(token), d->jwt_secret, perms) < 0)
		return fail("token");
	printf("%s\n", token);
	return 0;
}

static int command(struct devnet *d, int argc, char **argv)
{
	if (strcmp(argv[0], "faucet") == 0)
		return cmd_faucet(d, argc, argv, false);
	if (strcmp(argv[0], "datacap") == 0)
		return cmd_faucet(d, argc, argv, true);
	if (strcmp(argv[0], "token") == 0)
		return cmd_token(d, argc, argv);
	fprintf(stderr, "estuaryfs-devnet: unknown command '%s'\n", argv[0]);
	return 2;
}

int main(int argc, char **argv)
{
	struct options o = { .sps = DEFAULT_SPS, .epoch_ms = DEFAULT_EPOCH_MS,
			     .net = 'f', .fil_usd = DEFAULT_FIL_USD };
	struct devnet d = { 0 };
	sigset_t set;
	int rc;

	json_set_alloc_funcs(efs_malloc, efs_free);
	if ((rc = parse_options(&o, argc, argv)) >= 0)
		return rc;
	/* Before any thread exists, so every thread inherits the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	snprintf(d.host, sizeof(d.host), "127.0.0.1");
	d.port = DEFAULT_API_PORT;
	if (o.listen && parse_listen(&d, o.listen) < 0) {
		fprintf(stderr, "estuaryfs-devnet: bad --listen '%s' "
			"(want 127.0.0.1:PORT)\n", o.listen);
		return 2;
	}
	d.dir = efs_strdup(o.dir);
	if (!d.dir)
		return 1;
	d.nminers = o.sps;
	d.epoch_ms = o.epoch_ms;
	d.net = o.net;
	d.fil_usd = o.fil_usd;
	d.listen_given = o.listen != NULL;
	o.any_port = o.listen && d.port == 0;
	d.fil_usd_given = o.fil_usd_set;
	if (devnet_open(&d) < 0)
		return fail(o.dir);
	if (optind < argc)
		rc = command(&d, argc - optind, argv + optind);
	else
		rc = run(&d, &o);
	devnet_close(&d);
	return rc;
}
