/*
 * cmd_wallet_show.c - `estuaryfs wallet [show] [--json] [--watch]`: the
 * deal client's money as the chain shows it: address, balance, market
 * escrow (total, locked by deals, available), DataCap and whether the
 * address is a verified client.
 *
 * Read live from the node the dealer uses: config.json's Lotus endpoint,
 * or the devnet running in <repo>/devnet (its api and token files, as
 * dealer/localnet.c reads them; the CLI never starts one).  When the
 * node cannot be reached, the dealer's last reading (report "funds") is
 * shown with its height and time, and says so.
 *
 * --watch redraws every 2 seconds with a line of deal progress (live
 * deals by state, commits at their replication), until every commit has
 * its N active deals or Ctrl-C: the foreground wait for deals.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_i.h"
#include "cli/cli_view.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/fdio.h"
#include "core/wallet.h"
#include "dealer/funds.h"
#include "dealer/lotus.h"
#include "net/httpc.h"

#include "core/banned.h"

/* One reading of the node, short: the display must not hang. */
#define NODE_TIMEOUT_MS 5000
#define WATCH_MS 2000

struct reading {
	bool has;                   /* figures are set */
	bool live;                  /* from the node now, not the report */
	struct funds_status f;
	char node[256];             /* the node's URL, or "" */
	char why[512];              /* why it is not live, or "" */
	int64_t time;               /* unix seconds of the figures; 0 ? */
};

/* ---- where the figures come from ---------------------------------------- */

/* The devnet's endpoint, from the files it writes (localnet.c). */
static int devnet_open(struct lotus **out, const char *repo)
{
	struct buf info = BUF_INIT(LOTUS_TOKEN_MAX + 1024);
	char path[4096];
	int rc;

	snprintf(path, sizeof(path), "%s/devnet/token", repo);
	if ((rc = fdio_read_file(&info, path)) == EFS_ENOTFOUND)
		rc = efs_error_set(EFS_ENOTFOUND, "no devnet runs in %s/devnet"
				   " (the daemon starts it)", repo);
	while (rc == 0 && info.len && (info.ptr[info.len - 1] == '\n' ||
				       info.ptr[info.len - 1] == '\r'))
		info.len--;
	snprintf(path, sizeof(path), "%s/devnet/api", repo);
	if (rc == 0 && (rc = buf_addch(&info, ':')) == 0 &&
	    (rc = fdio_read_file(&info, path)) == 0 &&
	    (rc = buf_addch(&info, '\0')) == 0)
		rc = lotus_open_info(out, (const char *)info.ptr);
	/* the token is a password: wipe it */
	if (info.ptr)
		explicit_bzero(info.ptr, info.len);
	buf_release(&info);
	return rc;
}

static int node_open(struct lotus **out, const struct dealview *v)
{
	struct lotus_limits lim = { .timeout_ms = NODE_TIMEOUT_MS };
	int rc;

	*out = NULL;
	if ((rc = httpc_global_init()) < 0)
		return rc;
	if (v->cfg.devnet)
		rc = devnet_open(out, v->repo);
	else
		rc = lotus_open(out, v->cfg.lotus_url, v->cfg.lotus_token);
	if (rc == 0)
		lotus_set_limits(*out, &lim);
	return rc;
}

/* The deal client's address: the wallet's default, else the dealer's. */
static int client_addr(struct filaddr *out, const struct dealview *v)
{
	json_t *w = json_object_get(dealview_report(v, "network"), "wallet");
	struct wallet *wl;
	int rc;

	if ((rc = wallet_open(&wl, v->repo)) == 0) {
		rc = wallet_default(out, wl);
		wallet_close(wl);
	}
	if (rc == 0)
		return 0;
	if (json_is_string(w))
		return filaddr_parse(out, NULL, json_string_value(w),
				     strlen(json_string_value(w)));
	if (rc == EFS_ENOTFOUND)
		return efs_error_set(EFS_ENOTFOUND, "wallet: no key yet "
				     "(estuaryfs wallet new)");
	return rc;
}

static int amount(struct bigint *out, json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (!s || bigint_parse_fil(out, s, strlen(s)) < 0)
		return efs_error_set(EFS_ECORRUPT, "wallet: the dealer's "
				     "report has no %s", key);
	return 0;
}

/* The dealer's last reading (report "funds"). */
static int from_report(struct reading *r, const struct dealview *v)
{
	json_t *f = dealview_report(v, "funds");
	const char *cap;

	if (!f)
		return EFS_ENOTFOUND;
	cap = json_string_value(json_object_get(f, "datacap"));
	if (amount(&r->f.balance, f, "balance") < 0 ||
	    amount(&r->f.escrow, f, "escrow") < 0 ||
	    amount(&r->f.locked, f, "locked") < 0 ||
	    amount(&r->f.available, f, "available") < 0 || !cap ||
	    bigint_parse(&r->f.datacap, cap, strlen(cap)) < 0)
		return EFS_ECORRUPT;
	r->f.verified_client =
		json_is_true(json_object_get(f, "verified_client"));
	r->f.height = json_integer_value(json_object_get(f, "height"));
	r->time = dealview_funds_time(v);
	r->has = true;
	return 0;
}

static int reading_get(struct reading *r, const struct dealview *v)
{
	struct lotus *l = NULL;
	struct filaddr a;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = client_addr(&a, v)) < 0)
		return rc;
	if ((rc = node_open(&l, v)) == 0) {
		snprintf(r->node, sizeof(r->node), "%s", lotus_url(l));
		rc = funds_status(&r->f, l, &a);
	}
	lotus_close(l);
	if (rc == 0) {
		r->has = r->live = true;
		r->time = v->now;
		return 0;
	}
	if (rc == EFS_ENOMEM)
		return rc;
	snprintf(r->why, sizeof(r->why), "%s", efs_error_msg());
	if ((rc = from_report(r, v)) == EFS_ECORRUPT)
		return rc;
	r->f.addr = a;
	return 0;
}

/* ---- one reading -------------------------------------------------------- */

static void print_reading(const struct reading *r, const struct dealview *v)
{
	char addr[FILADDR_STR_MAX], cap[BIGINT_STR_MAX], h[32];
	char a[BIGINT_STR_MAX + 8], b[BIGINT_STR_MAX + 8];
	char c[BIGINT_STR_MAX + 8];
	uint64_t bytes;

	filaddr_format(addr, &r->f.addr, 'f');
	printf("address:     %s\n", addr);
	if (!r->has) {
		printf("funds:       unknown: the node did not answer (%s) and "
		       "the dealer has not read them yet\n", r->why);
		return;
	}
	bigint_format_fil(a, &r->f.balance);
	printf("balance:     %s\n", a);
	bigint_format_fil(a, &r->f.escrow);
	bigint_format_fil(b, &r->f.locked);
	bigint_format_fil(c, &r->f.available);
	printf("escrow:      %s (locked %s, available %s)\n", a, b, c);
	bigint_format(cap, &r->f.datacap);
	if (bigint_to_u64(&bytes, &r->f.datacap) == 0) {
		cli_human_bytes(h, sizeof(h), bytes);
		printf("DataCap:     %s (%s bytes)\n", h, cap);
	} else {
		printf("DataCap:     %s bytes\n", cap);
	}
	printf("verified:    %s\n", r->f.verified_client
	       ? "yes, a verified client" : "no, not a verified client");
	dealview_fmt_time(a, sizeof(a), r->time);
	if (r->live)
		printf("read:        now from %s%s, height %" PRId64 "\n",
		       v->cfg.devnet ? "the devnet at " : "", r->node,
		       r->f.height);
	else
		printf("read:        as the dealer last read it, height %"
		       PRId64 " (%s UTC); the node did not answer: %s\n",
		       r->f.height, a, r->why);
}

static int json_reading(const struct reading *r)
{
	char addr[FILADDR_STR_MAX], cap[BIGINT_STR_MAX];
	json_t *o = json_object();
	bool bad = !o;

	if (!o)
		return efs_error_set(EFS_ENOMEM, "out of memory");
	filaddr_format(addr, &r->f.addr, 'f');
	dealview_jset(o, "address", json_string(addr), &bad);
	dealview_jset(o, "source", json_string(r->live ? "node" : r->has
					       ? "report" : "none"), &bad);
	dealview_jset(o, "node",
		      r->node[0] ? json_string(r->node) : json_null(), &bad);
	dealview_jset(o, "node_error",
		      r->why[0] ? json_string(r->why) : json_null(), &bad);
	if (r->has) {
		bigint_format(cap, &r->f.datacap);
		dealview_jset(o, "balance",
			      dealview_jamount(&r->f.balance, &bad), &bad);
		dealview_jset(o, "escrow", dealview_jamount(&r->f.escrow, &bad),
			      &bad);
		dealview_jset(o, "locked", dealview_jamount(&r->f.locked, &bad),
			      &bad);
		dealview_jset(o, "available",
			      dealview_jamount(&r->f.available, &bad), &bad);
		dealview_jset(o, "datacap_bytes", json_string(cap), &bad);
		dealview_jset(o, "verified_client",
			 json_boolean(r->f.verified_client), &bad);
		dealview_jset(o, "height", json_integer(r->f.height), &bad);
		dealview_jset(o, "time", dealview_jtime(r->time), &bad);
	}
	return cli_json_print(o, bad);
}

/* ---- --watch ------------------------------------------------------------ */

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

struct tally {
	unsigned by_state[DEAL_ACTIVE + 1];   /* live deals by state */
};

static int tally_cb(const struct deal *d, void *cls)
{
	struct tally *t = cls;

	if (deal_state_live(d->state))
		t->by_state[d->state]++;
	return 0;
}

/* "deals: 2 proposing, 5 active; commits 1/3 replicated"; *done when
 * every commit (at least one) has its active deals. */
static int progress(char *out, size_t cap, bool *done, struct dealview *v)
{
	struct dealview_commits cs;
	struct dealview_state s;
	struct cli_filter all = { 0 };
	struct tally t = { { 0 } };
	size_t ok = 0, n = 0;
	int rc;

	*done = false;
	if (v->deals && (rc = deals_foreach(v->deals, -1, true, tally_cb,
					    &t)) < 0)
		return rc;
	if ((rc = cli_view_commits(&cs, v, &all)) < 0)
		return rc;
	for (size_t i = 0; i < cs.n && rc == 0; i++) {
		if ((rc = dealview_commit_state(&s, v, &cs.v[i])) == 0 &&
		    s.npieces && s.active >= s.want)
			ok++;
		dealview_state_release(&s);
	}
	n = (size_t)snprintf(out, cap, "deals:");
	for (int st = DEAL_PROPOSING; st <= DEAL_ACTIVE && n < cap; st++)
		if (t.by_state[st])
			n += (size_t)snprintf(out + n, cap - n, " %u %s,",
					      t.by_state[st],
					      deals_state_name(st));
	if (n < cap)
		snprintf(out + n, cap - n, " commits %zu/%zu with %u active",
			 ok, cs.n, v->cfg.replication);
	*done = cs.n > 0 && ok == cs.n;
	dealview_commits_release(&cs);
	return rc;
}

static int watch_once(char *line, size_t cap, bool *done)
{
	struct reading r;
	struct dealview v;
	char bal[BIGINT_STR_MAX + 8], avail[BIGINT_STR_MAX + 8];
	size_t n;
	int rc;

	rc = cli_view_open(&v);
	v.no_notes = true;
	if (rc == 0 && (rc = reading_get(&r, &v)) == 0 &&
	    (rc = progress(line, cap, done, &v)) == 0 && r.has) {
		bigint_format_fil(bal, &r.f.balance);
		bigint_format_fil(avail, &r.f.available);
		n = strlen(line);
		snprintf(line + n, cap - n, "; balance %s, escrow available "
			 "%s%s", bal, avail, r.live ? "" : " (last read)");
	}
	dealview_release(&v);
	return rc;
}

static int watch(void)
{
	struct sigaction sa = { .sa_handler = on_sigint };
	char line[512], last[512] = "";
	bool tty = isatty(STDOUT_FILENO), done = false;
	int rc = 0;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	while (!interrupted && !done) {
		if ((rc = watch_once(line, sizeof(line), &done)) < 0)
			break;
		if (tty)
			printf("\r%s\033[K", line);
		else if (strcmp(line, last))
			printf("%s\n", line);
		fflush(stdout);
		snprintf(last, sizeof(last), "%s", line);
		for (int i = 0; i < WATCH_MS / 100 && !interrupted && !done;
		     i++)
			usleep(100 * 1000);
	}
	if (tty && last[0])
		putchar('\n');
	if (rc == 0 && interrupted && !done)
		rc = efs_error_set(EFS_ECANCELED, "wallet: interrupted before "
				   "every commit had its deals");
	return rc;
}

int cli_wallet_show(bool json, bool watching)
{
	struct reading r;
	struct dealview v;
	int rc;

	if (watching)
		return watch();
	if ((rc = cli_view_open(&v)) == 0 && (rc = reading_get(&r, &v)) == 0)
		rc = json ? json_reading(&r) : (print_reading(&r, &v), 0);
	dealview_release(&v);
	return rc;
}
