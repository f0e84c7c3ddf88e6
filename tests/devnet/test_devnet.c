/*
 * test_devnet.c - the estuaryfs-devnet program over HTTP: it is started
 * on 127.0.0.1 with an ephemeral port in a temporary directory ($DEVNET_BIN,
 * --epoch 100ms), and every Lotus method, the JSON-RPC envelope, tokens
 * and permissions, the admin methods, the faucet command, a signed
 * AddBalance through MpoolPush and StateWaitMsg, bulk deal injection
 * and a restart are checked through its API.  The process is always
 * ended by its PID.
 *
 * Expected messages and codes are Lotus' and go-jsonrpc's (see
 * contrib/devnet/rpc_i.h); HTTP statuses as go-jsonrpc's ServeHTTP sends
 * them (500 for envelope errors, 400 for an empty body, 200 otherwise,
 * 401 with an empty body for a bad token).  The tests run in order and
 * build on each other (the faucet before the messages, ...).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/commp.h"
#include "core/error.h"
#include "core/filjson.h"
#include "core/mbase.h"
#include "tests/devnet/devnet_util.h"
#include "tests/harness.h"

static char *dir;
static struct devnet_util_proc dn;
static unsigned port;
static char admin[2048];
static char readtok[1024];
static char writetok[1024];
static struct filkey client;
static char client_addr[FILADDR_STR_MAX];

/* ---- the process ---- */

static int start_devnet(void)
{
	if (devnet_util_start(&dn, dir, "100ms", 2, NULL) < 0)
		return -1;
	port = dn.port;
	snprintf(admin, sizeof(admin), "%s", dn.token);
	return 0;
}

static int stop_devnet(void)
{
	return devnet_util_stop(&dn, false);
}

/* Run a command form (faucet, token...) to completion: $DEVNET_BIN
 * --dir dir args... (at most 12).  Its stdout in out; its exit status. */
static int run_cmd(char *out, size_t cap, const char *const *args)
{
	const char *argv[16] = { getenv("DEVNET_BIN"), "--dir", dir };
	size_t n = 3;

	for (size_t i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return devnet_util_run(out, cap, argv);
}

/* ---- HTTP ---- */

struct reply {
	long status;
	struct buf head;
	struct buf body;
};

static void reply_release(struct reply *r)
{
	buf_release(&r->head);
	buf_release(&r->body);
}

static int http(struct reply *r, const char *method, const char *path,
		const char *extra_headers, const void *body, size_t len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct buf req = BUF_INIT(BUF_NOCAP), all = BUF_INIT(64 << 20);
	char chunk[65536];
	const char *sep;
	ssize_t n;
	int fd, rc = -1;

	memset(r, 0, sizeof(*r));
	buf_init(&r->head, BUF_NOCAP);
	buf_init(&r->body, BUF_NOCAP);
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		goto out;
	buf_printf(&req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		   "Connection: close\r\nContent-Type: application/json\r\n"
		   "Content-Length: %zu\r\n%s\r\n", method, path, len,
		   extra_headers ? extra_headers : "");
	if (len)
		buf_add(&req, body, len);
	for (size_t off = 0; off < req.len; off += (size_t)n) {
		n = write(fd, req.ptr + off, req.len - off);
		if (n <= 0)
			break;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_add(&all, chunk, (size_t)n) < 0)
			goto out;
	if (!all.ptr || !(sep = strstr((char *)all.ptr, "\r\n\r\n")))
		goto out;
	r->status = strtol((char *)all.ptr + 9, NULL, 10);
	buf_add(&r->head, all.ptr, (size_t)(sep - (char *)all.ptr));
	buf_add(&r->body, sep + 4,
		all.len - (size_t)(sep + 4 - (char *)all.ptr));
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	buf_release(&req);
	buf_release(&all);
	return rc;
}

/* POST body to /rpc/v<version> with token (NULL: none); returns the
 * parsed reply (NULL for an empty body) and the status. */
static json_t *post(long *status, int version, const char *token,
		    const char *body)
{
	char path[16], hdr[1200] = "";
	struct reply r;
	json_t *v = NULL;

	snprintf(path, sizeof(path), "/rpc/v%d", version);
	if (token)
		snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n",
			 token);
	CU_ASSERT_EQUAL_FATAL(http(&r, "POST", path, hdr, body, strlen(body)),
			      0);
	*status = r.status;
	if (r.body.len)
		v = json_loadb((char *)r.body.ptr, r.body.len, 0, NULL);
	reply_release(&r);
	return v;
}

/* Call method with params (JSON text) on v1 with the admin token. */
static json_t *call_as(int version, const char *token, const char *method,
		       const char *params, long *status)
{
	char *body;
	size_t n = strlen(method) + strlen(params) + 64;
	json_t *v;

	body = malloc(n);
	snprintf(body, n, "{\"jsonrpc\":\"2.0\",\"method\":\"%s\","
		 "\"params\":%s,\"id\":1}", method, params);
	v = post(status, version, token, body);
	free(body);
	return v;
}

/* The result of a call that must succeed (a new reference). */
static json_t *ok(const char *method, const char *params)
{
	long status;
	json_t *v = call_as(1, admin, method, params, &status), *res;

	CU_ASSERT_EQUAL(status, 200);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	if (json_object_get(v, "error"))
		fprintf(stderr, "%s: %s\n", method,
			json_string_value(json_object_get(
				json_object_get(v, "error"), "message")));
	res = json_object_get(v, "result");
	CU_ASSERT_PTR_NOT_NULL_FATAL(res);
	json_incref(res);
	json_decref(v);
	return res;
}

/* A call that must fail with code and a message containing want. */
static void fails(int version, const char *token, const char *method,
		  const char *params, long want_status, int code,
		  const char *want)
{
	long status;
	json_t *v = call_as(version, token, method, params, &status);
	json_t *err = json_object_get(v, "error");
	const char *msg = json_string_value(json_object_get(err, "message"));

	CU_ASSERT_EQUAL(status, want_status);
	CU_ASSERT_PTR_NOT_NULL_FATAL(err);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(err, "code")),
			code);
	CU_ASSERT_PTR_NULL(json_object_get(v, "result"));
	if (!msg || !strstr(msg, want))
		fprintf(stderr, "%s: want '%s', got '%s'\n", method, want,
			msg ? msg : "(none)");
	CU_ASSERT_PTR_NOT_NULL(msg && strstr(msg, want));
	json_decref(v);
}

static const char *str(const json_t *v, const char *key)
{
	const char *s = json_string_value(json_object_get(v, key));

	return s ? s : "";
}

/* ---- suite ---- */

static int teardown(void);

static int setup(void)
{
	static const char *const rd[] = { "token", "read", NULL };
	static const char *const wr[] = { "token", "write", NULL };

	dir = harness_tmpdir();
	if (!dir || filkey_generate(&client) < 0)
		return -1;
	filaddr_format(client_addr, &client.addr, 'f');
	if (start_devnet() < 0 ||
	    run_cmd(readtok, sizeof(readtok), rd) != 0 ||
	    run_cmd(writetok, sizeof(writetok), wr) != 0) {
		/* CUnit skips the cleanup of a suite whose setup failed */
		teardown();
		return -1;
	}
	readtok[strcspn(readtok, "\n")] = '\0';
	writetok[strcspn(writetok, "\n")] = '\0';
	return 0;
}

static int teardown(void)
{
	stop_devnet();
	harness_tmpdir_free(dir);
	dir = NULL;
	filkey_release(&client);
	return 0;
}

static void test_devnet__envelope(void)
{
	static const char big_head[] = "{\"jsonrpc\":\"2.0\",\"method\":\"x\","
				       "\"params\":[\"";
	long status;
	json_t *v;
	char *big;
	size_t n = (2u << 20) + 100;

	v = post(&status, 1, NULL, "{nope");
	CU_ASSERT_EQUAL(status, 500);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(
				json_object_get(v, "error"), "code")),
			-32700);
	CU_ASSERT_TRUE(json_is_null(json_object_get(v, "id")));
	json_decref(v);
	v = post(&status, 1, NULL, "   ");
	CU_ASSERT_EQUAL(status, 400);
	CU_ASSERT_STRING_EQUAL(str(json_object_get(v, "error"), "message"),
			       "Invalid request");
	json_decref(v);
	fails(1, NULL, "Filecoin.NoSuchMethod", "[]", 500, -32601,
	      "method 'Filecoin.NoSuchMethod' not found");
	fails(1, NULL, "Filecoin.ChainHead", "[1]", 500, -32602,
	      "wrong param count (method 'Filecoin.ChainHead'): 1 != 0");
	fails(1, NULL, "Filecoin.WalletBalance", "[5]", 500, -32700,
	      "unmarshaling params for 'Filecoin.WalletBalance' (param: "
	      "*address.Address): json: cannot unmarshal number into Go "
	      "value of type string");
	fails(1, NULL, "Filecoin.WalletBalance", "[\"f0x\"]", 500, -32700,
	      "(param: *address.Address)");
	fails(1, NULL, "Filecoin.StateMarketStorageDeal", "[-1, null]", 500,
	      -32700, "Go value of type abi.DealID");
	fails(1, NULL, "Filecoin.ChainHead", "{}", 500, -32700,
	      "unmarshaling param array");
	/* over the 1 MiB cap */
	big = malloc(n);
	memcpy(big, big_head, sizeof(big_head) - 1);
	memset(big + sizeof(big_head) - 1, 'a', n - sizeof(big_head) - 4);
	memcpy(big + n - 5, "\"]}", 4);
	v = post(&status, 1, NULL, big);
	free(big);
	CU_ASSERT_EQUAL(status, 500);
	CU_ASSERT_STRING_EQUAL(str(json_object_get(v, "error"), "message"),
			       "request bigger than maximum 1048576 allowed");
	json_decref(v);
	/* a batch: answered in order; a notification gets nothing */
	v = post(&status, 1, NULL,
		 "[{\"jsonrpc\":\"2.0\",\"method\":\"Filecoin.ChainHead\","
		 "\"params\":[],\"id\":1},{\"method\":\"Filecoin.X\",\"id\":"
		 "\"b\"},{\"method\":\"Filecoin.ChainHead\"}]");
	CU_ASSERT_EQUAL(status, 200);
	CU_ASSERT_EQUAL(json_array_size(v), 2);
	CU_ASSERT_PTR_NOT_NULL(json_object_get(json_array_get(v, 0),
					       "result"));
	CU_ASSERT_STRING_EQUAL(str(json_array_get(v, 1), "id"), "b");
	json_decref(v);
	v = post(&status, 1, NULL, "{\"method\":\"Filecoin.ChainHead\"}");
	CU_ASSERT_EQUAL(status, 200);
	CU_ASSERT_PTR_NULL(v);
	/* v0 has the same envelope */
	v = ok("Filecoin.ChainHead", "[]");
	json_decref(v);
}

static void test_devnet__http(void)
{
	struct reply r;
	json_t *v;

	/* as go-jsonrpc: a GET is an empty JSON-RPC request */
	CU_ASSERT_EQUAL_FATAL(http(&r, "GET", "/rpc/v1", NULL, NULL, 0), 0);
	CU_ASSERT_EQUAL(r.status, 400);
	CU_ASSERT_PTR_NOT_NULL(strstr((char *)r.body.ptr, "-32600"));
	reply_release(&r);
	CU_ASSERT_EQUAL_FATAL(http(&r, "GET", "/nowhere", NULL, NULL, 0), 0);
	CU_ASSERT_EQUAL(r.status, 404);
	reply_release(&r);
	CU_ASSERT_EQUAL_FATAL(http(&r, "GET", "/health", NULL, NULL, 0), 0);
	CU_ASSERT_EQUAL(r.status, 200);
	reply_release(&r);
	v = ok("Devnet.SetPrice", "[3.25]");
	CU_ASSERT_TRUE(json_is_null(v));
	json_decref(v);
	CU_ASSERT_EQUAL_FATAL(http(&r, "GET", "/price", NULL, NULL, 0), 0);
	CU_ASSERT_EQUAL(r.status, 200);
	v = json_loadb((char *)r.body.ptr, r.body.len, 0, NULL);
	CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(
				       json_object_get(v, "filecoin"), "usd")),
			       3.25, 1e-9);
	json_decref(v);
	reply_release(&r);
	fails(1, admin, "Devnet.SetPrice", "[\"x\"]", 500, -32700,
	      "float64");
}

static void test_devnet__auth(void)
{
	static const char push[] = "{\"method\":\"Filecoin.MpoolPush\","
				   "\"params\":[{}],\"id\":1}";
	char path[1200];
	struct reply r;
	long status;
	json_t *v;

	fails(1, NULL, "Filecoin.MpoolPush", "[{}]", 200, 1,
	      "missing permission to invoke 'MpoolPush' (need 'write')");
	fails(1, readtok, "Filecoin.MpoolPush", "[{}]", 200, 1,
	      "missing permission to invoke 'MpoolPush' (need 'write')");
	fails(1, writetok, "Devnet.Faucet", "[\"f01000\", \"1\"]", 200, 1,
	      "missing permission to invoke 'Faucet' (need 'admin')");
	/* a write token gets past the permission check */
	fails(1, writetok, "Filecoin.MpoolPush", "[{}]", 500, -32700,
	      "types.SignedMessage");
	/* bad tokens: 401, empty body */
	v = post(&status, 1, "e30.e30.AAAA", "{\"method\":\"x\"}");
	CU_ASSERT_EQUAL(status, 401);
	CU_ASSERT_PTR_NULL(v);
	CU_ASSERT_EQUAL_FATAL(http(&r, "POST", "/rpc/v1",
				   "Authorization: Basic abc\r\n", "{}", 2),
			      0);
	CU_ASSERT_EQUAL(r.status, 401);
	CU_ASSERT_EQUAL(r.body.len, 0);
	reply_release(&r);
	/* the token as a query argument: good, then bad */
	snprintf(path, sizeof(path), "/rpc/v1?token=%s", writetok);
	CU_ASSERT_EQUAL_FATAL(http(&r, "POST", path, NULL, push, strlen(push)),
			      0);
	CU_ASSERT_EQUAL(r.status, 500);
	CU_ASSERT_PTR_NOT_NULL(strstr((char *)r.body.ptr, "SignedMessage"));
	reply_release(&r);
	CU_ASSERT_EQUAL_FATAL(http(&r, "POST", "/rpc/v1?token=abc", NULL,
				   push, strlen(push)), 0);
	CU_ASSERT_EQUAL(r.status, 401);
	reply_release(&r);
}

static void test_devnet__chain(void)
{
	char params[256];
	json_t *v, *head;
	long status;
	int64_t h;

	head = ok("Filecoin.ChainHead", "[]");
	h = json_integer_value(json_object_get(head, "Height"));
	CU_ASSERT(h >= 0);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(head, "Cids")), 1);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(head, "Blocks")), 1);
	/* by height, with the head's key */
	{
		char *key = json_dumps(json_object_get(head, "Cids"),
				       JSON_COMPACT);

		snprintf(params, sizeof(params), "[0, %s]", key);
		free(key);
	}
	v = ok("Filecoin.ChainGetTipSetByHeight", params);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(v, "Height")), 0);
	json_decref(v);
	v = ok("Filecoin.ChainGetGenesis", "[]");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(v, "Height")), 0);
	json_decref(v);
	fails(1, NULL, "Filecoin.ChainGetTipSetByHeight", "[100000000, null]",
	      200, 1, "height greater than start point");
	fails(1, NULL, "Filecoin.ChainGetTipSetByHeight", "[-1, null]", 200,
	      1, "negative height");
	fails(1, NULL, "Filecoin.StateListMiners",
	      "[[{\"/\":\"bafy2bzacea3wsdh6y3a36tb3skempjoxqpuyompjbmfeyf34fi3"
	      "uy6uue42v4\"}]]", 200, 1, "loading tipset");
	fails(1, NULL, "Filecoin.StateListMiners", "[\"x\"]", 500, -32700,
	      "types.TipSetKey");
	json_decref(head);
	v = ok("Filecoin.Version", "[]");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(v, "APIVersion")),
			0x020300);
	json_decref(v);
	v = call_as(0, NULL, "Filecoin.Version", "[]", &status);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(
				json_object_get(v, "result"), "APIVersion")),
			0x010500);
	json_decref(v);
	v = ok("Filecoin.StateNetworkVersion", "[null]");
	CU_ASSERT(json_integer_value(v) > 20);
	json_decref(v);
}

/*
 * Multiaddrs: null without the storage-provider half, else one binary
 * /ip4/127.0.0.1/tcp/<port>/http whose port answers HTTP.
 */
static void check_multiaddrs(const json_t *v)
{
	static const uint8_t head[] = { 0x04, 127, 0, 0, 1, 0x06 };
	const char *b64 = json_string_value(json_array_get(v, 0));
	unsigned saved = port;
	uint8_t ma[32];
	struct reply r;
	long n;

	if (json_is_null(v))
		return;
	CU_ASSERT_EQUAL_FATAL(json_array_size(v), 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b64);
	n = mbase_base64_decode(ma, sizeof(ma), b64, strlen(b64));
	CU_ASSERT_EQUAL_FATAL(n, 10);
	CU_ASSERT_EQUAL(memcmp(ma, head, sizeof(head)), 0);
	CU_ASSERT_EQUAL(ma[8], 0xe0); /* http, varint 0x01e0 */
	CU_ASSERT_EQUAL(ma[9], 0x03);
	port = (unsigned)ma[6] << 8 | ma[7];
	CU_ASSERT_EQUAL(http(&r, "GET", "/health", NULL, NULL, 0), 0);
	CU_ASSERT(r.status > 0);
	reply_release(&r);
	port = saved;
}

static void test_devnet__miners(void)
{
	json_t *v, *w;
	const char *worker;

	v = ok("Filecoin.StateListMiners", "[null]");
	CU_ASSERT_EQUAL(json_array_size(v), 2);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(v, 0)),
			       "f01000");
	json_decref(v);
	v = ok("Filecoin.StateMinerInfo", "[\"f01001\", null]");
	CU_ASSERT_STRING_EQUAL(str(v, "Owner"), "f0101");
	CU_ASSERT_STRING_EQUAL(str(v, "NewWorker"), "<empty>");
	CU_ASSERT_EQUAL(strncmp(str(v, "PeerId"), "12D3KooW", 8), 0);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(v, "SectorSize")),
			34359738368);
	check_multiaddrs(json_object_get(v, "Multiaddrs"));
	json_decref(v);
	fails(1, NULL, "Filecoin.StateMinerInfo", "[\"f0100\", null]", 200, 1,
	      "failed to load miner actor state");
	fails(1, NULL, "Filecoin.StateMinerInfo", "[\"f09999\", null]", 200,
	      1, "failed to load miner actor: resolution lookup failed");
	v = ok("Filecoin.StateMinerPower", "[\"f01000\", null]");
	CU_ASSERT_STRING_EQUAL(str(json_object_get(v, "MinerPower"),
				   "RawBytePower"), "1125899906842624");
	CU_ASSERT_STRING_EQUAL(str(json_object_get(v, "TotalPower"),
				   "RawBytePower"), "2251799813685248");
	CU_ASSERT_TRUE(json_is_true(json_object_get(v, "HasMinPower")));
	json_decref(v);
	/* worker: f1 <-> f0 */
	v = ok("Devnet.Miners", "[]");
	CU_ASSERT_EQUAL(json_array_size(v), 2);
	worker = str(json_array_get(v, 0), "Worker");
	CU_ASSERT_EQUAL(strncmp(worker, "f1", 2), 0);
	{
		char params[200];

		snprintf(params, sizeof(params), "[\"%s\", null]", worker);
		w = ok("Filecoin.StateLookupID", params);
		CU_ASSERT_STRING_EQUAL(json_string_value(w), "f0100");
		json_decref(w);
	}
	w = ok("Filecoin.StateAccountKey", "[\"f0100\", null]");
	CU_ASSERT_STRING_EQUAL(json_string_value(w), worker);
	json_decref(w);
	json_decref(v);
	fails(1, NULL, "Filecoin.StateAccountKey", "[\"f01000\", null]", 200,
	      1, "not account");
}

static void test_devnet__faucet_and_balances(void)
{
	const char *args[] = { "faucet", client_addr, "100", NULL };
	char out[512], params[256];
	json_t *v;

	snprintf(params, sizeof(params), "[\"%s\"]", client_addr);
	v = ok("Filecoin.WalletBalance", params);
	CU_ASSERT_STRING_EQUAL(json_string_value(v), "0");
	json_decref(v);
	snprintf(params, sizeof(params), "[\"%s\", null]", client_addr);
	fails(1, NULL, "Filecoin.StateLookupID", params, 200, 1,
	      "actor not found");
	fails(1, NULL, "Filecoin.StateMarketBalance", params, 200, 1,
	      "actor not found");
	snprintf(params, sizeof(params), "[\"%s\"]", client_addr);
	fails(1, NULL, "Filecoin.MpoolGetNonce", params, 200, 1,
	      "actor not found");
	/* the command form, while the devnet runs */
	CU_ASSERT_EQUAL(run_cmd(out, sizeof(out), args), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "balance 100 FIL"));
	snprintf(params, sizeof(params), "[\"%s\"]", client_addr);
	v = ok("Filecoin.WalletBalance", params);
	CU_ASSERT_STRING_EQUAL(json_string_value(v), "100000000000000000000");
	json_decref(v);
	/* the admin method */
	snprintf(params, sizeof(params), "[\"%s\", \"5\"]", client_addr);
	v = ok("Devnet.Faucet", params);
	CU_ASSERT_STRING_EQUAL(str(v, "Balance"), "100000000000000000005");
	CU_ASSERT_STRING_EQUAL(str(v, "ID"), "f01100");
	json_decref(v);
	fails(1, admin, "Devnet.Faucet", "[\"f01100\", \"x\"]", 500, -32700,
	      "big.Int");
	fails(1, admin, "Devnet.Faucet", "[\"f09999\", \"1\"]", 200, 1,
	      "actor not found");
	v = ok("Filecoin.StateMarketBalance", "[\"f01100\", null]");
	CU_ASSERT_STRING_EQUAL(str(v, "Escrow"), "0");
	CU_ASSERT_STRING_EQUAL(str(v, "Locked"), "0");
	json_decref(v);
	/* DataCap */
	v = ok("Filecoin.StateVerifiedClientStatus", "[\"f01100\", null]");
	CU_ASSERT_TRUE(json_is_null(v));
	json_decref(v);
	v = ok("Devnet.GrantDataCap", "[\"f01100\", \"34359738368\"]");
	CU_ASSERT_STRING_EQUAL(str(v, "DataCap"), "34359738368");
	json_decref(v);
	v = ok("Filecoin.StateVerifiedClientStatus", "[\"f01100\", null]");
	CU_ASSERT_STRING_EQUAL(json_string_value(v), "34359738368");
	json_decref(v);
	v = ok("Filecoin.StateDealProviderCollateralBounds",
	       "[34359738368, false, null]");
	CU_ASSERT_STRING_EQUAL(str(v, "Min"), "352000000000000000");
	CU_ASSERT(strlen(str(v, "Max")) > 20);
	json_decref(v);
	fails(1, NULL, "Filecoin.StateMarketStorageDeal", "[12345, null]",
	      200, 1, "deal 12345 not found");
	v = ok("Filecoin.StateGetClaim", "[\"f01000\", 1, null]");
	CU_ASSERT_TRUE(json_is_null(v));
	json_decref(v);
}

static json_t *signed_json(const struct filmsg_signed *sm)
{
	json_t *v = NULL;

	CU_ASSERT_EQUAL(filjson_signed_encode(&v, sm, 'f'), 0);
	return v;
}

static char *params_of(json_t *v)
{
	json_t *arr = json_pack("[O]", v);
	char *s = json_dumps(arr, JSON_COMPACT);

	json_decref(arr);
	return s;
}

static void test_devnet__mpool(void)
{
	struct filmsg_signed sm;
	char params[512], *p;
	json_t *v, *sj, *cid, *look;

	long status;

	v = ok("Filecoin.MpoolGetNonce", "[\"f01100\"]");
	CU_ASSERT_EQUAL(json_integer_value(v), 0);
	json_decref(v);
	/* gas estimation fills what is zero */
	CU_ASSERT_EQUAL_FATAL(devnet_util_add_balance(&sm, &client,
						      &client.addr, 0,
						      "10000000000000000000"),
			      0);
	sm.msg.gas_limit = 0;
	bigint_from_u64(&sm.msg.gas_fee_cap, 0);
	CU_ASSERT_EQUAL_FATAL(filjson_msg_encode(&sj, &sm.msg, 'f'), 0);
	{
		json_t *arr = json_pack("[o, n, n]", sj);

		p = json_dumps(arr, JSON_COMPACT);
		json_decref(arr);
		v = ok("Filecoin.GasEstimateMessageGas", p);
		free(p);
	}
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(v, "GasLimit")),
			6250000);
	CU_ASSERT_STRING_EQUAL(str(v, "GasFeeCap"), "200000");
	CU_ASSERT_PTR_NOT_NULL(json_object_get(v, "CID"));
	json_decref(v);
	filmsg_signed_release(&sm);

	/* a signed AddBalance of 10 FIL */
	CU_ASSERT_EQUAL_FATAL(devnet_util_add_balance(&sm, &client,
						      &client.addr, 0,
						      "10000000000000000000"),
			      0);
	sj = signed_json(&sm);
	p = params_of(sj);
	cid = ok("Filecoin.MpoolPush", p);
	CU_ASSERT_TRUE(json_equal(cid, json_object_get(sj, "CID")));
	/* search before it landed: null */
	{
		char *c = json_dumps(cid, JSON_COMPACT);

		snprintf(params, sizeof(params), "[%s, 1, 100, true]", c);
		look = ok("Filecoin.StateWaitMsg", params);
		CU_ASSERT_EQUAL(json_integer_value(json_object_get(
					json_object_get(look, "Receipt"),
					"ExitCode")), 0);
		CU_ASSERT(json_integer_value(json_object_get(look, "Height")) >
			  0);
		CU_ASSERT_TRUE(json_equal(json_object_get(look, "Message"),
					  cid));
		json_decref(look);
		snprintf(params, sizeof(params), "[null, %s, 100, true]", c);
		look = ok("Filecoin.StateSearchMsg", params);
		CU_ASSERT_PTR_NOT_NULL(json_object_get(look, "Receipt"));
		json_decref(look);
		/* v0: just the CID */
		snprintf(params, sizeof(params), "[%s]", c);
		v = call_as(0, NULL, "Filecoin.StateSearchMsg", params,
			    &status);
		CU_ASSERT_EQUAL(status, 200);
		CU_ASSERT_PTR_NOT_NULL(json_object_get(
			json_object_get(v, "result"), "Receipt"));
		json_decref(v);
		free(c);
	}
	v = ok("Filecoin.StateMarketBalance", "[\"f01100\", null]");
	CU_ASSERT_STRING_EQUAL(str(v, "Escrow"), "10000000000000000000");
	json_decref(v);
	v = ok("Filecoin.MpoolGetNonce", "[\"f01100\"]");
	CU_ASSERT_EQUAL(json_integer_value(v), 1);
	json_decref(v);
	/* pushing it again: the same CID, nothing happens */
	v = ok("Filecoin.MpoolPush", p);
	CU_ASSERT_TRUE(json_equal(v, cid));
	json_decref(v);
	free(p);
	json_decref(cid);
	json_decref(sj);
	filmsg_signed_release(&sm);
	/* a stale nonce, a forged signature, a broken message */
	CU_ASSERT_EQUAL_FATAL(
	    devnet_util_add_balance(&sm, &client, &client.addr, 0, "1"), 0);
	p = params_of(sj = signed_json(&sm));
	fails(1, admin, "Filecoin.MpoolPush", p, 200, 1, "nonce too low");
	free(p);
	json_decref(sj);
	filmsg_signed_release(&sm);
	CU_ASSERT_EQUAL_FATAL(
	    devnet_util_add_balance(&sm, &client, &client.addr, 1, "1"), 0);
	sm.sig.data[10] ^= 1;
	p = params_of(sj = signed_json(&sm));
	fails(1, admin, "Filecoin.MpoolPush", p, 200, 1, "signature");
	free(p);
	json_decref(sj);
	filmsg_signed_release(&sm);
	fails(1, admin, "Filecoin.MpoolPush",
	      "[{\"Message\":{\"To\":5},\"Signature\":{}}]", 500, -32700,
	      "unmarshaling params for 'Filecoin.MpoolPush' (param: "
	      "*types.SignedMessage)");
	fails(0, NULL, "Filecoin.StateWaitMsg",
	      "[{\"/\":\"bafy2bzacea3wsdh6y3a36tb3skempjoxqpuyompjbmfeyf34fi3"
	      "uy6uue42v4\"}, 1]", 200, 1, "failed to load message");
	fails(1, NULL, "Filecoin.StateWaitMsg",
	      "[{\"/\":\"bafy2bzacea3wsdh6y3a36tb3skempjoxqpuyompjbmfeyf34fi3"
	      "uy6uue42v4\"}, 1]", 500, -32602, "2 != 4");
	fails(1, NULL, "Filecoin.StateWaitMsg", "[{\"/\":5}, 1, 10, true]",
	      500, -32700, "cid.Cid");
}

static void test_devnet__admin(void)
{
	json_t *v;

	v = ok("Devnet.SetFault", "[\"f01001\", {\"reject_pct\": 100}]");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(v, "reject_pct")),
			100);
	json_decref(v);
	v = ok("Devnet.GetFault", "[\"f01001\"]");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(v, "reject_pct")),
			100);
	CU_ASSERT_TRUE(json_is_false(json_object_get(v, "offline")));
	json_decref(v);
	fails(1, admin, "Devnet.SetFault", "[\"f01001\", {\"nope\": 1}]", 200,
	      1, "unknown field 'nope'");
	fails(1, admin, "Devnet.SetFault", "[\"f01009\", {}]", 200, 1,
	      "no devnet miner f01009");
	v = ok("Devnet.Mine", "[3]");
	CU_ASSERT(json_integer_value(v) >= 3);
	json_decref(v);
	fails(1, admin, "Devnet.Mine", "[1000000]", 200, 1, "at most");
}

/* A deal injected by test_devnet__inject_deals, checked after restart. */
static int64_t injected_id;

/* The text form of a piece CID v1 whose CommP is 32 bytes of b. */
static void piece_cid_str(char *out, uint8_t b, uint64_t size)
{
	uint8_t root[COMMP_NODE_SIZE];
	struct commp_piece cp;
	struct cid c;

	memset(root, b, sizeof(root));
	root[COMMP_NODE_SIZE - 1] &= 0x3f;
	CU_ASSERT_FATAL(commp_piece_init(&cp, root, size, 0) == 0);
	commp_cid_v1(&c, &cp);
	cid_tostr(out, &c);
}

/* The market deal id, which must exist. */
static json_t *market_deal(int64_t id)
{
	char params[64];

	snprintf(params, sizeof(params), "[%lld, null]", (long long)id);
	return ok("Filecoin.StateMarketStorageDeal", params);
}

static int64_t id_at(const json_t *res, size_t i)
{
	return json_integer_value(
		json_array_get(json_object_get(res, "DealIDs"), i));
}

/*
 * Devnet.InjectDeals: deals active at once, piece-major, free of
 * charge; all or nothing; admin only; the request checked.
 */
static void test_devnet__inject_deals(void)
{
	char p0[CID_STR_MAX], p1[CID_STR_MAX], req[2048], params[64];
	json_t *res, *v, *prop, *st;
	int64_t head, last;

	piece_cid_str(p0, 1, 2048);
	piece_cid_str(p1, 2, 4096);
	snprintf(req, sizeof(req),
		 "[{\"client\":\"%s\",\"providers\":[\"f01000\",\"f01001\"],"
		 "\"pieces\":[{\"cid\":\"%s\",\"size\":2048,\"label\":\"one\"},"
		 "{\"cid\":{\"/\":\"%s\"},\"size\":4096}]}]",
		 client_addr, p0, p1);
	res = ok("Devnet.InjectDeals", req);
	CU_ASSERT_EQUAL_FATAL(json_array_size(json_object_get(res, "DealIDs")),
			      4);
	head = json_integer_value(json_object_get(res, "SectorStartEpoch"));
	CU_ASSERT(head >= 0);
	/* piece 0 with f01001 */
	v = market_deal(id_at(res, 1));
	prop = json_object_get(v, "Proposal");
	st = json_object_get(v, "State");
	CU_ASSERT_STRING_EQUAL(str(prop, "Provider"), "f01001");
	CU_ASSERT_STRING_EQUAL(str(json_object_get(prop, "PieceCID"), "/"),
			       p0);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(prop,
							   "PieceSize")),
			2048);
	CU_ASSERT_STRING_EQUAL(str(prop, "Label"), "one");
	CU_ASSERT_STRING_EQUAL(str(prop, "StoragePricePerEpoch"), "0");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(prop,
							   "StartEpoch")),
			head);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(prop, "EndEpoch")),
			head + 1051200);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(
				st, "SectorStartEpoch")),
			head);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(st, "SlashEpoch")),
			-1);
	json_decref(v);
	/* piece 1 with f01000 */
	v = market_deal(id_at(res, 2));
	prop = json_object_get(v, "Proposal");
	CU_ASSERT_STRING_EQUAL(str(prop, "Provider"), "f01000");
	CU_ASSERT_STRING_EQUAL(str(json_object_get(prop, "PieceCID"), "/"),
			       p1);
	json_decref(v);
	injected_id = id_at(res, 3);
	json_decref(res);

	/* generated pieces, given epochs */
	snprintf(req, sizeof(req),
		 "[{\"client\":\"%s\",\"providers\":[\"f01001\"],\"count\":3,"
		 "\"size\":2048,\"start\":%lld,\"end\":%lld,"
		 "\"verified\":true}]",
		 client_addr, (long long)head + 100, (long long)head + 600000);
	res = ok("Devnet.InjectDeals", req);
	CU_ASSERT_EQUAL_FATAL(json_array_size(json_object_get(res, "DealIDs")),
			      3);
	last = id_at(res, 2);
	v = market_deal(last);
	prop = json_object_get(v, "Proposal");
	CU_ASSERT_TRUE(json_is_true(json_object_get(prop, "VerifiedDeal")));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(prop,
							   "StartEpoch")),
			head + 100);
	CU_ASSERT_NOT_EQUAL(strcmp(str(json_object_get(prop, "PieceCID"),
				       "/"), p0), 0);
	json_decref(v);
	json_decref(res);

	/* a new piece then a duplicate: nothing of the call is kept */
	piece_cid_str(p1, 3, 2048);
	snprintf(req, sizeof(req),
		 "[{\"client\":\"%s\",\"providers\":[\"f01000\"],"
		 "\"pieces\":[{\"cid\":\"%s\",\"size\":2048},"
		 "{\"cid\":\"%s\",\"size\":2048,\"label\":\"one\"}]}]",
		 client_addr, p1, p0);
	fails(1, admin, "Devnet.InjectDeals", req, 200, 1,
	      "duplicate deal proposal (piece 1, provider f01000)");
	snprintf(params, sizeof(params), "[%lld, null]", (long long)last + 1);
	fails(1, NULL, "Filecoin.StateMarketStorageDeal", params, 200, 1,
	      "not found");

	/* the request checked; admin only */
	snprintf(req, sizeof(req),
		 "[{\"client\":\"%s\",\"providers\":[\"f01000\"],\"count\":1,"
		 "\"size\":2048,\"nope\":1}]", client_addr);
	fails(1, admin, "Devnet.InjectDeals", req, 200, 1,
	      "unknown field 'nope'");
	fails(1, admin, "Devnet.InjectDeals",
	      "[{\"client\":\"f01100\",\"providers\":[\"f01009\"],"
	      "\"count\":1,\"size\":2048}]", 200, 1,
	      "provider f01009 is not a miner");
	fails(1, admin, "Devnet.InjectDeals",
	      "[{\"client\":\"f01100\",\"providers\":[\"f01000\",\"f01000\"],"
	      "\"count\":1,\"size\":2048}]", 200, 1, "given twice");
	fails(1, admin, "Devnet.InjectDeals",
	      "[{\"client\":\"f01100\",\"providers\":[\"f01000\"],"
	      "\"count\":1,\"size\":1000}]", 200, 1, "not a piece size");
	fails(1, admin, "Devnet.InjectDeals",
	      "[{\"client\":\"f01100\",\"providers\":[\"f01000\"],"
	      "\"count\":1,\"size\":2048,\"pieces\":[]}]", 200, 1,
	      "not both");
	fails(1, admin, "Devnet.InjectDeals",
	      "[{\"client\":\"f01100\",\"providers\":[\"f01000\"],"
	      "\"pieces\":[{\"cid\":\"bafkqaaa\",\"size\":2048}]}]", 200, 1,
	      "not a piece CID v1");
	fails(1, admin, "Devnet.InjectDeals",
	      "[{\"client\":\"f01100\",\"providers\":[\"f01000\"],"
	      "\"count\":1,\"size\":2048,\"end\":1}]", 200, 1,
	      "is not after");
	fails(1, admin, "Devnet.InjectDeals",
	      "[{\"client\":\"f01100\",\"providers\":[\"f01000\"],"
	      "\"count\":100001,\"size\":2048}]", 200, 1, "count");
	fails(1, readtok, "Devnet.InjectDeals",
	      "[{\"client\":\"f01100\",\"providers\":[\"f01000\"],"
	      "\"count\":1,\"size\":2048}]", 200, 1,
	      "missing permission to invoke 'InjectDeals' (need 'admin')");
}

/* SIGTERM, start again: same port, miners, balances; the head moves on. */
static void test_devnet__restart(void)
{
	char peer[128];
	unsigned old_port = port;
	json_t *v;
	int64_t h;

	v = ok("Filecoin.StateMinerInfo", "[\"f01000\", null]");
	snprintf(peer, sizeof(peer), "%s", str(v, "PeerId"));
	json_decref(v);
	v = ok("Filecoin.ChainHead", "[]");
	h = json_integer_value(json_object_get(v, "Height"));
	json_decref(v);
	CU_ASSERT_EQUAL(stop_devnet(), 0);
	CU_ASSERT_EQUAL_FATAL(start_devnet(), 0);
	CU_ASSERT_EQUAL(port, old_port);
	v = ok("Filecoin.StateMinerInfo", "[\"f01000\", null]");
	CU_ASSERT_STRING_EQUAL(str(v, "PeerId"), peer);
	json_decref(v);
	v = ok("Filecoin.ChainHead", "[]");
	CU_ASSERT(json_integer_value(json_object_get(v, "Height")) >= h);
	json_decref(v);
	v = ok("Filecoin.StateMarketBalance", "[\"f01100\", null]");
	CU_ASSERT_STRING_EQUAL(str(v, "Escrow"), "10000000000000000000");
	json_decref(v);
	v = ok("Devnet.GetFault", "[\"f01001\"]");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(v, "reject_pct")),
			100);
	json_decref(v);
	/* injected deals are kept, still active */
	v = market_deal(injected_id);
	CU_ASSERT(json_integer_value(json_object_get(
			  json_object_get(v, "State"), "SectorStartEpoch")) >= 0);
	json_decref(v);
}

static CU_TestInfo devnet_tests[] = {
	{ "envelope", test_devnet__envelope },
	{ "http", test_devnet__http },
	{ "auth", test_devnet__auth },
	{ "chain", test_devnet__chain },
	{ "miners", test_devnet__miners },
	{ "faucet_and_balances", test_devnet__faucet_and_balances },
	{ "mpool", test_devnet__mpool },
	{ "admin", test_devnet__admin },
	{ "inject_deals", test_devnet__inject_deals },
	{ "restart", test_devnet__restart },
	CU_TEST_INFO_NULL,
};

HARNESS_MAIN({ .pName = "devnet", .pInitFunc = setup,
	       .pCleanupFunc = teardown, .pTests = devnet_tests })
