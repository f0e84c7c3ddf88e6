/*
 * devnet_util.c - signed messages, proposals and the program's state
 * files for the devnet tests (see devnet_util.h).
 */
#include "tests/devnet/devnet_util.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/cbor.h"
#include "core/error.h"
#include "net/httpc.h"

int devnet_util_signed_msg(struct filmsg_signed *out, const struct filkey *k,
			   const struct filaddr *to, uint64_t nonce,
			   uint64_t method, const char *value_atto,
			   const uint8_t *params, size_t params_len)
{
	uint8_t cb[CID_BYTES_MAX];
	struct filsig sig;
	struct cid id;
	int rc;

	memset(out, 0, sizeof(*out));
	filmsg_init(&out->msg);
	out->msg.to = *to;
	out->msg.from = k->addr;
	out->msg.nonce = nonce;
	if (bigint_parse(&out->msg.value, value_atto, strlen(value_atto)) < 0)
		return EFS_EINVAL;
	out->msg.gas_limit = 6000000;
	bigint_from_u64(&out->msg.gas_fee_cap, 200000);
	bigint_from_u64(&out->msg.gas_premium, 100000);
	out->msg.method = method;
	if (params_len &&
	    (rc = filmsg_set_params(&out->msg, params, params_len)) < 0)
		return rc;
	if ((rc = filmsg_cid(&id, &out->msg)) < 0 ||
	    (rc = filkey_sign(&sig, k, cb, cid_to_bytes(cb, &id))) < 0)
		return rc;
	filmsg_sig_from_filsig(&out->sig, &sig);
	return 0;
}

int devnet_util_add_balance(struct filmsg_signed *out, const struct filkey *k,
			    const struct filaddr *who, uint64_t nonce,
			    const char *value_atto)
{
	uint8_t ab[FILADDR_BYTES_MAX];
	struct buf p = BUF_INIT(BUF_NOCAP);
	struct filaddr market;
	int rc;

	filaddr_init_id(&market, 5);
	if ((rc = cbor_put_bytes(&p, ab, filaddr_to_bytes(ab, who))) == 0)
		rc = devnet_util_signed_msg(out, k, &market, nonce, 2,
					    value_atto, p.ptr, p.len);
	buf_release(&p);
	return rc;
}

int devnet_util_withdraw(struct filmsg_signed *out, const struct filkey *k,
			 const struct filaddr *who, uint64_t nonce,
			 const char *amount_atto)
{
	uint8_t ab[FILADDR_BYTES_MAX], bb[BIGINT_BYTES_MAX];
	struct buf p = BUF_INIT(BUF_NOCAP);
	struct filaddr market;
	struct bigint amount;
	int rc;

	filaddr_init_id(&market, 5);
	if (bigint_parse(&amount, amount_atto, strlen(amount_atto)) < 0)
		return EFS_EINVAL;
	if ((rc = cbor_put_array(&p, 2)) == 0 &&
	    (rc = cbor_put_bytes(&p, ab, filaddr_to_bytes(ab, who))) == 0 &&
	    (rc = cbor_put_bytes(&p, bb, bigint_to_bytes(bb, &amount))) == 0)
		rc = devnet_util_signed_msg(out, k, &market, nonce, 3, "0",
					    p.ptr, p.len);
	buf_release(&p);
	return rc;
}

void devnet_util_proposal(struct mk12_proposal *out,
			  const struct filaddr *client, uint64_t provider,
			  uint64_t piece_size, int64_t start, int64_t end,
			  const char *price, const char *pcoll,
			  const char *ccoll, bool verified)
{
	static const char label[] = "devnet-test";

	memset(out, 0, sizeof(*out));
	/* The v1 piece CID of 128 zero bytes (FRC-0069). */
	cid_parse(&out->piece_cid, "baga6ea4seaqgiktap34inmaex4wbs6cghlq5i2j"
				   "2yd2bb2zndn5ep7ralzphkdy");
	out->piece_size = piece_size;
	out->verified = verified;
	out->client = *client;
	filaddr_init_id(&out->provider, provider);
	out->label.data.ptr = (uint8_t *)label;
	out->label.data.len = sizeof(label) - 1;
	out->start_epoch = start;
	out->end_epoch = end;
	bigint_parse(&out->price_per_epoch, price, strlen(price));
	bigint_parse(&out->provider_collateral, pcoll, strlen(pcoll));
	bigint_parse(&out->client_collateral, ccoll, strlen(ccoll));
}

int devnet_util_read_text(char *out, size_t cap, const char *dir,
			  const char *name)
{
	char path[512];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "r")))
		return -1;
	n = fread(out, 1, cap - 1, f);
	fclose(f);
	out[n] = '\0';
	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	return 0;
}

/* ---- the program ---- */

static void sleep_ms(unsigned ms)
{
	usleep(ms * 1000);
}

/* The exit status of a child that ended: 0..255, or 128 + signal. */
static int exit_status(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status)
				 : 128 + WTERMSIG(status);
}

int devnet_util_start(struct devnet_util_proc *out, const char *dir,
		      const char *epoch, unsigned nsps,
		      const char *const *extra)
{
	const char *bin = getenv("DEVNET_BIN");
	char sps[16], log[600], a[256];
	const char *argv[64] = { bin, "--dir", dir, "--listen", "127.0.0.1:0",
				 "--epoch", epoch, "--sps", sps };
	size_t n = 9;
	const char *tcp;

	memset(out, 0, sizeof(*out));
	out->pid = -1;
	if (!bin || strlen(dir) >= sizeof(out->dir)) {
		fprintf(stderr, "cannot start the devnet: %s\n",
			bin ? "directory name too long" : "DEVNET_BIN not set");
		return -1;
	}
	snprintf(out->dir, sizeof(out->dir), "%s", dir);
	snprintf(sps, sizeof(sps), "%u", nsps);
	for (; extra && *extra && n < 63; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	mkdir(dir, 0700);
	/* A previous run's files must not be taken for this one's. */
	snprintf(log, sizeof(log), "%s/api", dir);
	unlink(log);
	snprintf(log, sizeof(log), "%s/devnet.log", dir);
	out->pid = fork();
	if (out->pid < 0) {
		perror("cannot start the devnet: fork");
		return -1;
	}
	if (out->pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		if (devnet_util_read_text(a, sizeof(a), dir, "api") == 0 &&
		    (tcp = strstr(a, "/tcp/")) != NULL &&
		    devnet_util_read_text(out->token, sizeof(out->token), dir,
					  "token") == 0) {
			out->port = (unsigned)strtoul(tcp + 5, NULL, 10);
			snprintf(out->api, sizeof(out->api),
				 "http://127.0.0.1:%u", out->port);
			snprintf(out->rpc, sizeof(out->rpc), "%s/rpc/v1",
				 out->api);
			return 0;
		}
		if (waitpid(out->pid, NULL, WNOHANG) == out->pid) {
			out->pid = -1;
			fprintf(stderr, "cannot start the devnet (%s): it "
				"exited (see %s)\n", bin, log);
			return -1;
		}
		sleep_ms(20);
	}
	devnet_util_stop(out, true);
	fprintf(stderr, "cannot start the devnet (%s): no api file after 10 s"
		" (see %s)\n", bin, log);
	return -1;
}

int devnet_util_stop(struct devnet_util_proc *p, bool kill9)
{
	int status;

	if (p->pid <= 0)
		return 0;
	kill(p->pid, kill9 ? SIGKILL : SIGTERM);
	for (int i = 0; i < 500; i++) {
		if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
			p->pid = -1;
			return exit_status(status);
		}
		sleep_ms(20);
	}
	kill(p->pid, SIGKILL);
	waitpid(p->pid, NULL, 0);
	p->pid = -1;
	return -1;
}

int devnet_util_run(char *out, size_t cap, const char *const *argv)
{
	int fds[2], status;
	size_t got = 0;
	ssize_t r;
	pid_t p;

	if (!argv[0] || pipe(fds) != 0)
		return -1;
	if ((p = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (p == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	while (got + 1 < cap &&
	       (r = read(fds[0], out + got, cap - 1 - got)) > 0)
		got += (size_t)r;
	out[got] = '\0';
	close(fds[0]);
	waitpid(p, &status, 0);
	return exit_status(status);
}

int devnet_util_rpc(char *out, size_t cap, const struct devnet_util_proc *p,
		    const char *method, const char *params)
{
	struct buf req = BUF_INIT(1 << 20);
	char auth[2200];
	const char *hdrs[] = { "Content-Type: application/json", auth, NULL };
	struct httpc_req hr = HTTPC_REQ_INIT("POST", p->rpc);
	struct httpc_resp resp = { 0 };
	json_t *root = NULL, *v;
	char *txt;
	int rc = -1;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", p->token);
	if (buf_printf(&req, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\","
			     "\"params\":%s}", method, params) < 0)
		goto out;
	hr.headers = hdrs;
	hr.body = req.ptr;
	hr.body_len = req.len;
	hr.timeout_ms = 60000;
	if (httpc_do(&resp, &hr) < 0 ||
	    !(root = json_loadb((const char *)resp.body.ptr, resp.body.len, 0,
				NULL)))
		goto out;
	if ((v = json_object_get(root, "error")) != NULL) {
		const char *m = json_string_value(json_object_get(v, "message"));

		snprintf(out, cap, "%s", m ? m : "error");
		goto out;
	}
	txt = json_dumps(json_object_get(root, "result"),
			 JSON_COMPACT | JSON_ENCODE_ANY);
	if (txt) {
		snprintf(out, cap, "%s", txt);
		free(txt);
		rc = 0;
	}
out:
	json_decref(root);
	httpc_resp_release(&resp);
	buf_release(&req);
	return rc;
}

/* An admin call [address, amount] that must succeed. */
static int grant(const struct devnet_util_proc *p, const char *method,
		 const struct filaddr *a, const char *amount)
{
	char s[FILADDR_STR_MAX], params[256], out[512] = "";

	filaddr_format(s, a, 'f');
	snprintf(params, sizeof(params), "[\"%s\", \"%s\"]", s, amount);
	if (devnet_util_rpc(out, sizeof(out), p, method, params) == 0)
		return 0;
	fprintf(stderr, "%s %s: %s\n", method, params, out);
	return -1;
}

int devnet_util_faucet(const struct devnet_util_proc *p,
		       const struct filaddr *a, const char *atto)
{
	return grant(p, "Devnet.Faucet", a, atto);
}

int devnet_util_datacap(const struct devnet_util_proc *p,
			const struct filaddr *a, const char *bytes)
{
	return grant(p, "Devnet.GrantDataCap", a, bytes);
}

int devnet_util_token(char *out, size_t cap, const struct devnet_util_proc *p,
		      const char *perm)
{
	const char *argv[] = { getenv("DEVNET_BIN"), "--dir", p->dir, "token",
			       perm, NULL };

	if (devnet_util_run(out, cap, argv) != 0)
		return -1;
	out[strcspn(out, "\n")] = '\0';
	return out[0] ? 0 : -1;
}
